//! Tests of the charts: what they plot, how they look, and that drawing them is deterministic.

use plotters::prelude::*;

use super::chart::*;
use super::data::*;
use super::render::*;
use super::style::*;
use super::*;
use crate::aggregate::{Estimate, Series, Tables};
use crate::aggregate::{decimals_for, estimate, wilson};
use crate::comparable::Comparison;
use crate::model::{ActorInfo, OutcomeInfo, ParamInfo, ScenarioInfo, TriggerInfo};

const RUNS: u64 = 20_000;

fn estimate_of(p: f64, decimals: u32) -> Estimate {
    let count = (p.clamp(0.0, 1.0) * RUNS as f64).round() as u64;
    estimate(count, RUNS, decimals)
}

fn series(id: &str, label: &str, steps: usize, decimals: u32, f: impl Fn(f64) -> f64) -> Series {
    Series {
        id: id.into(),
        label: label.into(),
        points: (0..=steps)
            .map(|t| estimate_of(f(t as f64 / steps.max(1) as f64), decimals))
            .collect(),
    }
}

fn month_labels(steps: usize) -> Vec<String> {
    (0..=steps)
        .map(|t| format!("{}-{:02}", 2025 + (4 + t) / 12, (4 + t) % 12 + 1))
        .collect()
}

/// A hand-made summary: 4 levels, 2 outcomes, 3 triggers, `steps` monthly steps from
/// 2025-05, 20,000 runs. `boost` raises every escalation probability (0 for the baseline).
pub(crate) fn synthetic_summary(id: &str, name: &str, steps: usize, boost: f64) -> Summary {
    let decimals = decimals_for(RUNS);
    let levels = ["calm", "warnings", "arms_transfers", "clash"];
    let level_shares = [0.0, 0.30, 0.22, 0.12];
    let share = |k: usize, a: f64| level_shares[k] * a * (1.0 + boost);
    let level_distribution: Vec<Series> = levels
        .iter()
        .enumerate()
        .map(|(k, level)| {
            series(level, level, steps, decimals, |a| {
                if k == 0 {
                    1.0 - (1..4).map(|j| share(j, a)).sum::<f64>()
                } else {
                    share(k, a)
                }
            })
        })
        .collect();
    let rung_reached = (1..4)
        .map(|k| {
            let label = format!("rung {k} ({}) or higher", levels[k]);
            series(levels[k], &label, steps, decimals, |a| {
                (k..4).map(|j| share(j, a)).sum::<f64>() * (1.0 + 0.15 * a)
            })
        })
        .collect();
    let outcomes = [
        ("clash", "Armed clash on the peninsula", 0.15),
        ("talks", "Talks <open> & \"hold\"", 0.40),
    ];
    let outcome_by: Vec<Series> = outcomes
        .iter()
        .map(|&(id, label, top)| series(id, label, steps, decimals, |a| top * a.sqrt() * (1.0 + boost)))
        .collect();
    let triggers = [
        ("rok_lethal_aid", "Seoul sends lethal arms to Kyiv", 0.20),
        (
            "ru_tech",
            "Moscow transfers missile and submarine technology to Pyongyang",
            0.65,
        ),
        ("dprk_second_wave", "Second DPRK deployment", 0.40),
    ];
    let trigger_fired_by = triggers
        .iter()
        .map(|&(id, label, top)| series(id, label, steps, decimals, |a| top * a * (1.0 + boost)))
        .collect();
    Summary {
        precursors: None,
        paired: None,
        stopping: None,
        sensitivity: None,
        paths: None,
        lift: None,
        format_version: crate::aggregate::RESULT_FORMAT_VERSION,
        engine: "sim test".into(),
        scenario: ScenarioInfo {
            id: id.into(),
            name: name.into(),
            description: "Treaty in force; Seoul's aid <non-lethal> & watched.".into(),
            steps,
            step_unit: "month".into(),
            start: Some("2025-05".into()),
            step_labels: month_labels(steps),
            levels: levels.iter().map(|l| l.to_string()).collect(),
            initial_level: 0,
            params: vec![
                ParamInfo {
                    name: "p_lethal".into(),
                    definition: "pert(0.01, 0.03, 0.08) per step".into(),
                },
                ParamInfo {
                    name: "p_talks".into(),
                    definition: "0.2 per year".into(),
                },
            ],
            actors: vec![ActorInfo {
                id: "rok".into(),
                name: "Seoul".into(),
            }],
            triggers: triggers
                .iter()
                .map(|&(id, label, _)| TriggerInfo {
                    id: id.into(),
                    label: label.into(),
                    actor: "rok".into(),
                })
                .collect(),
            outcomes: outcomes
                .iter()
                .map(|&(id, label, _)| OutcomeInfo {
                    id: id.into(),
                    label: label.into(),
                })
                .collect(),
            variant: None,
        },
        seed: 2025,
        runs: RUNS,
        scenario_digest: "s".into(),
        input_digest: "i".into(),
        tallies_digest: "t".into(),
        decimals,
        tables: Tables {
            final_level: level_distribution
                .iter()
                .map(|s| Series {
                    points: s.points.last().copied().into_iter().collect(),
                    ..s.clone()
                })
                .collect(),
            level_distribution,
            rung_reached,
            outcome_holds: outcome_by.clone(),
            outcome_by,
            trigger_fired_by,
            mean_level: vec![0.0; steps + 1],
            mean_firings: vec![0.1; 3],
        },
    }
}

fn baseline() -> Summary {
    synthetic_summary("baseline", "Baseline (May 2025)", 12, 0.0)
}

fn variant() -> Summary {
    synthetic_summary("lethal_aid", "Seoul sends lethal aid", 12, 0.3)
}

/// Every plotted point is the summary's count over its runs, with the unrounded interval, in
/// percent.
fn assert_plots(plotted: &[PlotSeries], table: &[Series]) {
    assert_eq!(plotted.len(), table.len());
    for (line, series) in plotted.iter().zip(table) {
        assert_eq!(line.label, series.label);
        assert_eq!(line.points.len(), series.points.len());
        for (t, (point, e)) in line.points.iter().zip(&series.points).enumerate() {
            assert_eq!((point.step, point.count, point.runs), (t, e.count, RUNS));
            let (lo, hi) = wilson(e.count, RUNS);
            assert_eq!(point.p, 100.0 * e.count as f64 / RUNS as f64, "{}", series.id);
            assert_eq!((point.lo, point.hi), (100.0 * lo, 100.0 * hi), "{}", series.id);
        }
    }
}

#[test]
fn charts_plot_counts_not_rounded_probabilities() {
    // 3 of 20,000 runs is 0.0% in the summary (3 decimals of a fraction), 0.015% on the chart.
    let mut s = baseline();
    let decimals = s.decimals;
    s.tables.outcome_by[0].points = (0..=12).map(|t| estimate(t / 4, RUNS, decimals)).collect();
    assert_eq!(s.tables.outcome_by[0].points[12].p, 0.0);
    let plotted = &outcome_series(&s)[0];
    let ps: Vec<f64> = plotted.points.iter().map(|p| p.p).collect();
    assert_eq!(ps[12], 0.015);
    assert!(ps.windows(2).all(|w| w[0] <= w[1]));
    assert_ne!(ps[4], ps[0], "no staircase of rounding steps");
    // The band is the exact Wilson interval, not [0, 0].
    assert!(plotted.points[12].hi > 0.015 && plotted.points[12].lo > 0.0);
    assert_plots(&outcome_series(&s), &s.tables.outcome_by);
}

#[test]
fn line_charts_plot_the_summary_tables() {
    let s = baseline();
    assert_plots(&escalation_series(&s), &s.tables.rung_reached);
    assert_plots(&ladder_series(&s), &s.tables.level_distribution);
    assert_plots(&outcome_series(&s), &s.tables.outcome_by);
    // A concrete value, so a scaling slip cannot hide behind the comparison above:
    // the clash outcome ends at 15% of 20,000 runs = 3,000 runs.
    let clash = &outcome_series(&s)[0];
    assert_eq!(clash.label, "Armed clash on the peninsula");
    assert_eq!(clash.points[12].p, 15.0);
    assert_eq!(s.tables.outcome_by[0].points[12].count, 3000);
    assert_eq!(escalation_series(&s)[2].label, "rung 3 (clash) or higher");
}

#[test]
fn trigger_bars_are_sorted_and_labelled_by_label() {
    let s = baseline();
    let bars = trigger_bars(&s);
    let labels: Vec<&str> = bars.iter().map(|b| b.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "Moscow transfers missile and submarine technology to Pyongyang",
            "Second DPRK deployment",
            "Seoul sends lethal arms to Kyiv",
        ]
    );
    let ps: Vec<f64> = bars.iter().map(|b| b.point.p).collect();
    assert_eq!(ps, [65.0, 40.0, 20.0]);
    // The whisker is the horizon point's exact interval.
    let last = s.tables.trigger_fired_by[1].points[12];
    let (lo, hi) = wilson(last.count, RUNS);
    assert_eq!((bars[0].point.lo, bars[0].point.hi), (100.0 * lo, 100.0 * hi));
    assert!(bars[0].point.lo < 65.0 && 65.0 < bars[0].point.hi);
    assert_eq!(bars[0].id, "ru_tech");
}

#[test]
fn ladder_stacks_severe_rungs_at_the_bottom() {
    let s = baseline();
    let edges = stack_edges(&ladder_series(&s));
    // At the horizon: clash 12%, arms 22%, warnings 30%, calm the remaining 36%.
    let at_horizon: Vec<(f64, f64)> = edges.iter().map(|e| e[12]).collect();
    let expected = [(64.0, 100.0), (34.0, 64.0), (12.0, 34.0), (0.0, 12.0)];
    for (got, want) in at_horizon.iter().zip(expected) {
        assert!(
            (got.0 - want.0).abs() < 1e-9 && (got.1 - want.1).abs() < 1e-9,
            "{got:?}"
        );
    }
}

#[test]
fn charts_use_the_scenario_name_runs_and_seed() {
    let charts = scenario_charts(&baseline());
    let names: Vec<&str> = charts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["escalation", "ladder", "outcomes", "triggers"]);
    assert_eq!(charts[0].title, "Escalation: P(rung reached) — Baseline (May 2025)");
    assert_eq!(charts[0].subtitle, "20,000 runs, seed 2025, 95% Wilson bands");
    assert_eq!(charts[3].title, "Triggers: P(fired by 2026-05) — Baseline (May 2025)");
    assert_eq!(charts[2].legend[1].label, "Talks <open> & \"hold\"");
}

#[test]
fn probability_axes_fit_the_data_except_escalation() {
    assert_eq!(PercentScale::fitted(15.5), PercentScale { max: 20.0, step: 2.0 });
    assert_eq!(PercentScale::fitted(15.5).ticks().len(), 11);
    assert_eq!(PercentScale::fitted(0.0).max, 1.0);
    assert_eq!(PercentScale::fitted(0.3).label(0.2), "0.2");
    assert_eq!(PercentScale::fitted(97.0), PercentScale::FULL);
    assert_eq!(PercentScale::fitted(f64::NAN), PercentScale::FULL);
    let charts = scenario_charts(&baseline());
    let maxima: Vec<f64> = charts.iter().map(|c| c.scale.max).collect();
    // Outcomes peak at the talks interval's 40.7%, triggers at 65.7%.
    assert_eq!(maxima, [100.0, 100.0, 50.0, 80.0]);
}

#[test]
fn step_axis_ticks_are_calendar_strides() {
    assert_eq!(tick_steps(12, "month", 8), [0, 2, 4, 6, 8, 10, 12]);
    assert_eq!(tick_steps(36, "month", 8), [0, 6, 12, 18, 24, 30, 36]);
    assert_eq!(tick_steps(1, "month", 8), [0, 1]);
    assert_eq!(tick_steps(0, "month", 8), [0]);
    assert_eq!(tick_steps(100, "turn", 8), [0, 20, 40, 60, 80, 100]);
    let axis = StepAxis::new(&baseline().scenario);
    assert_eq!(axis.label(12.0), "2026-05");
    assert_eq!(axis.label(0.0), "2025-05");
}

#[test]
fn wrap_breaks_at_spaces_and_marks_cuts() {
    let chars = |s: &str| s.chars().count() as u32;
    assert_eq!(
        wrap("Armed clash on the peninsula", 20, 3, chars),
        ["Armed clash on the", "peninsula"]
    );
    assert_eq!(wrap("a b c d e f", 3, 2, chars), ["a b", "c…"]);
    assert_eq!(wrap("abcdefgh", 4, 3, chars), ["abcd", "efgh"]);
    assert_eq!(wrap("abc", 0, 3, chars), ["a", "b", "c"]);
    assert!(wrap("", 10, 2, chars).is_empty());
    assert_eq!(
        wrap_evenly("Moscow transfers missile technology to Pyongyang", 40, 2, chars),
        ["Moscow transfers missile", "technology to Pyongyang"]
    );
    assert_eq!(wrap_evenly("a b c d e f", 3, 2, chars), ["a b", "c…"]);
    assert_eq!(fit("Baseline scenario", 10, chars), "Baseline…");
    assert_eq!(fit("short", 10, chars), "short");
}

#[test]
fn bars_are_stacked_top_down_without_overlap() {
    let layout = BarLayout {
        groups: 3,
        per_group: 1,
    };
    assert_eq!(layout.units(), MIN_BAR_UNITS);
    let spans: Vec<(f64, f64)> = (0..3).map(|g| layout.bar_span(g, 0)).collect();
    assert!(spans.windows(2).all(|w| w[1].1 < w[0].0), "{spans:?}");
    // Centred: as much room above the first bar as below the last.
    let above = layout.units() - spans[0].1;
    assert!((above - spans[2].0).abs() < 1e-9, "{spans:?}");

    let grouped = BarLayout {
        groups: 5,
        per_group: 3,
    };
    assert_eq!(grouped.units(), 20.0);
    let (bottom, top) = grouped.bar_span(0, 0);
    assert!(top <= grouped.units() && bottom > grouped.bar_span(0, 1).1);
    assert!(grouped.bar_span(4, 2).0 >= 0.0);
    assert!((grouped.group_centre(0) - (grouped.bar_span(0, 1).0 + 0.5 - 0.06)).abs() < 1e-9);
}

#[test]
fn svg_and_png_are_byte_identical_across_renders() {
    for chart in scenario_charts(&baseline()) {
        let svg = render_svg(&chart).unwrap();
        assert_eq!(svg, render_svg(&chart).unwrap(), "{}", chart.name);
        assert!(svg.contains("<text"), "{}: no text drawn", chart.name);
        let png = render_png(&chart).unwrap();
        assert_eq!(png, render_png(&chart).unwrap(), "{}", chart.name);
        assert!(png.starts_with(b"\x89PNG"));
    }
}

#[test]
fn svg_escapes_scenario_text() {
    let charts = render_svg_charts(&baseline()).unwrap();
    let (_, outcomes) = charts.iter().find(|(name, _)| name == "outcomes").unwrap();
    assert!(outcomes.contains("Talks &lt;open&gt; &amp; &quot;hold&quot;"));
}

#[test]
fn odd_summaries_still_render() {
    let mut s = synthetic_summary("one", "One step", 1, 0.0);
    s.tables.trigger_fired_by.clear();
    s.tables.outcome_by.clear();
    s.tables.rung_reached.clear();
    s.scenario.step_labels.clear();
    for chart in scenario_charts(&s) {
        render_svg(&chart).unwrap();
        render_png(&chart).unwrap();
    }
    let svgs = render_svg_charts(&s).unwrap();
    assert!(svgs[3].1.contains("The scenario defines no triggers."));
    assert!(render_comparison_svgs(&Comparison::new(&[s.clone(), s])).is_ok());
    assert!(comparison_charts(&[], 0).is_empty());

    // No steps beyond the start, no ladder, no points at all.
    let mut bare = synthetic_summary("bare", "", 0, 0.0);
    bare.tables.level_distribution.clear();
    for series in &mut bare.tables.outcome_by {
        series.points.clear();
    }
    bare.scenario.name = "x".repeat(500);
    for chart in scenario_charts(&bare) {
        render_svg(&chart).unwrap();
        render_png(&chart).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    assert!(write_comparison(&Comparison::new(&[]), dir.path()).unwrap().is_empty());
}

#[test]
fn an_incomparable_comparison_writes_nothing() {
    let mut weekly = variant();
    weekly.scenario.step_unit = "week".into();
    let summaries = [baseline(), weekly];
    let comparison = Comparison::new(&summaries);
    let dir = tempfile::tempdir().unwrap();
    let refusal = write_comparison(&comparison, dir.path()).unwrap_err();
    assert!(refusal.to_string().contains("horizons differ"), "{refusal}");
    assert!(render_comparison_svgs(&comparison).is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn comparison_series_follow_each_summary() {
    let (a, b) = (baseline(), variant());
    let both = [a.clone(), b.clone()];
    let curves = compare_outcome_series(&both, "talks");
    assert_eq!(curves.len(), 2);
    assert_eq!(curves[0].label, "Baseline (May 2025)");
    assert_eq!(curves[1].label, "Seoul sends lethal aid");
    assert_plots(
        &curves[..1],
        &[Series {
            label: curves[0].label.clone(),
            ..a.tables.outcome_by[1].clone()
        }],
    );
    assert_plots(
        &curves[1..],
        &[Series {
            label: curves[1].label.clone(),
            ..b.tables.outcome_by[1].clone()
        }],
    );
    assert_eq!(
        compare_rung_series(&both, "clash")[1].points[12].count,
        b.tables.rung_reached[2].points[12].count
    );

    let groups = horizon_groups(&both);
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].label, "Armed clash on the peninsula");
    assert_eq!(groups[0].bars[0].point.p, 15.0);
    assert_eq!(groups[0].bars[1].point.p, 19.5);
    assert_eq!(groups[0].bars[1].label, "Seoul sends lethal aid");
}

#[test]
fn comparison_keeps_only_shared_series() {
    let a = baseline();
    let mut b = variant();
    b.tables.outcome_by.remove(0);
    b.scenario.initial_level = 1;
    b.tables.rung_reached.remove(0);
    let both = [a, b];
    assert_eq!(shared_outcome_ids(&both), ["talks"]);
    assert_eq!(shared_rungs(&both), ["arms_transfers", "clash"]);
    assert_eq!(horizon_groups(&both).len(), 1);
}

#[test]
fn comparison_writes_the_expected_files() {
    let dir = tempfile::tempdir().unwrap();
    let written = write_comparison(&Comparison::new(&[baseline(), variant()]), dir.path()).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let stems = [
        "compare_outcome_clash",
        "compare_outcome_talks",
        "compare_rung_warnings",
        "compare_rung_arms_transfers",
        "compare_rung_clash",
        "compare_horizon",
    ];
    let expected: Vec<String> = stems
        .iter()
        .flat_map(|s| [format!("{s}.png"), format!("{s}.svg"), format!("{s}.csv")])
        .collect();
    assert_eq!(names, expected);
    let mut on_disk: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(on_disk, expected_sorted);
}

#[test]
fn scenario_charts_write_png_and_svg_files() {
    let dir = tempfile::tempdir().unwrap();
    let written = write_scenario_charts(&baseline(), dir.path()).unwrap();
    assert_eq!(written.len(), 12);
    assert_eq!(written[0], dir.path().join("escalation.png"));
    assert_eq!(written[10], dir.path().join("triggers.svg"));
    assert_eq!(written[11], dir.path().join("triggers.csv"));
    let svg = std::fs::read_to_string(&written[10]).unwrap();
    let (_, rendered) = &render_svg_charts(&baseline()).unwrap()[3];
    assert_eq!(&svg, rendered);
}

#[test]
fn scenario_keeps_its_style_in_every_comparison_chart() {
    let third = synthetic_summary("third", "Third", 12, 0.1);
    let charts = comparison_charts(&[baseline(), variant(), third], 0);
    for chart in &charts {
        let styles: Vec<SeriesStyle> = chart.legend.iter().map(|e| e.style).collect();
        assert_eq!(
            styles,
            [SeriesStyle::BASELINE, categorical(0), categorical(1)],
            "{}",
            chart.name
        );
        assert_eq!(chart.legend[0].label, "Baseline (May 2025) (baseline)");
        if let Body::Lines { styles: drawn, .. } = &chart.body {
            assert_eq!(drawn, &styles, "{}", chart.name);
        }
    }
}

#[test]
fn the_baseline_is_neutral_and_variants_are_told_apart() {
    // The baseline is a parameter: here the second scenario.
    let styles = comparison_styles(4, 1);
    assert_eq!(styles[1], SeriesStyle::BASELINE);
    assert_eq!(styles[1].colour, RGBColor(0, 0, 0));
    let variants = [styles[0], styles[2], styles[3]];
    assert!(
        variants
            .iter()
            .all(|s| s.width < BASELINE_WIDTH && s.colour != BASELINE_LINE)
    );
    assert!(variants.iter().all(|s| s.marker.is_some()));
    // "Seoul sends lethal arms to Kyiv" is not blue like the baseline any more.
    assert_ne!(styles[0].colour, styles[1].colour);
    let charts = comparison_charts(&[variant(), baseline()], 1);
    assert_eq!(charts[0].legend[1].style, SeriesStyle::BASELINE);
    assert_eq!(charts[0].baseline_id, "baseline");

    // Past the palette, colours come round again with a dash pattern, so no two series
    // drawn alike among many.
    let many = categorical_styles(3 * PALETTE.len());
    for (i, a) in many.iter().enumerate() {
        for b in &many[i + 1..] {
            assert!((a.colour, a.dash, a.marker) != (b.colour, b.dash, b.marker), "{a:?}");
        }
    }
    assert_eq!(many[PALETTE.len() - 1].dash, None);
    assert!(many[PALETTE.len()].dash.is_some());
}

#[test]
fn markers_of_curves_never_share_a_step() {
    for (count, last_step) in [(2, 12), (5, 36), (6, 36), (3, 120)] {
        let mut seen = std::collections::BTreeSet::new();
        for index in 0..count {
            let steps: Vec<usize> = (0..=last_step)
                .filter(|&t| marker_at(t, index, count, last_step))
                .collect();
            assert!(steps.len() >= 3, "{count} curves, {last_step} steps: {steps:?}");
            assert!(!steps.contains(&0), "step 0 is where every curve starts");
            for t in steps {
                assert!(seen.insert(t), "{count} curves over {last_step} steps share step {t}");
            }
        }
    }
}

#[test]
fn long_titles_and_legends_wrap_instead_of_being_cut() {
    let long = "Russia escalates aid to the DPRK (open military aid or technology transfers)";
    let mut a = synthetic_summary("baseline", "Baseline: the peninsula as of May 2025", 36, 0.0);
    a.tables.outcome_by[0].label = long.into();
    let b = synthetic_summary("aid", long, 36, 0.2);
    let charts = comparison_charts(&[a, b], 0);
    let mut svg = String::new();
    let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
    register_font().unwrap();
    for chart in &charts {
        let header = Header::new(&root, chart);
        let title = header.title.join(" ");
        assert_eq!(title, chart.title, "the whole title is shown");
        assert!(!title.contains('…'));
    }
    assert!(Header::new(&root, &charts[0]).title.len() >= 2, "{:?}", charts[0].title);
    assert!(Header::new(&root, &charts[0]).height() > 96);
    drop(root);
    let svg = render_svg(&charts[0]).unwrap();
    assert!(!svg.contains('…'), "nothing is cut");
    assert!(svg.contains("technology"));
}

#[test]
fn png_is_the_svg_rasterized_with_its_text() {
    let chart = &comparison_charts(&[baseline(), variant()], 0)[0];
    let png = render_png(chart).unwrap();
    assert_eq!(png, rasterize(&render_svg(chart).unwrap()).unwrap());
    let image = resvg::tiny_skia::Pixmap::decode_png(&png).unwrap();
    assert_eq!((image.width(), image.height()), CHART_SIZE);
    // Text renders: the title's band holds dark pixels (the font is the embedded one; the
    // machine's fonts are never consulted).
    let dark = |x0: u32, y0: u32, x1: u32, y1: u32| {
        (y0..y1)
            .flat_map(|y| (x0..x1).map(move |x| (x, y)))
            .filter(|&(x, y)| image.pixel(x, y).is_some_and(|p| p.red() < 100 && p.alpha() > 0))
            .count()
    };
    assert!(dark(28, 18, 600, 50) > 500, "title text missing");
    assert!(dark(0, 0, 1200, 12) == 0, "nothing above the title");
}

#[test]
fn chart_csvs_hold_the_plotted_counts_with_intervals_that_contain_them() {
    let charts = comparison_charts(&[baseline(), variant()], 1);
    let outcome = chart_csv(&charts[0]).unwrap();
    let mut lines = outcome.lines();
    assert_eq!(
        lines.next(),
        Some("scenario,scenario_name,baseline,step,date,count,runs,p,lo95,hi95")
    );
    assert_eq!(
        lines.next(),
        Some("baseline,Baseline (May 2025),false,0,2025-05,0,20000,0,0,0.001")
    );
    assert_eq!(outcome.lines().count(), 1 + 2 * 13);
    assert!(outcome.contains("lethal_aid,Seoul sends lethal aid,true,12,2026-05,3900,20000,0.195,0.189,0.201"));
    let horizon = chart_csv(charts.last().unwrap()).unwrap();
    assert!(horizon.starts_with("outcome,outcome_label,scenario,scenario_name,baseline,step,date,"));
    assert!(
        horizon.contains(
            "clash,Armed clash on the peninsula,baseline,Baseline (May 2025),false,12,2026-05,3000,20000,0.15,"
        )
    );
    let triggers = chart_csv(&scenario_charts(&baseline())[3]).unwrap();
    assert!(
        triggers.starts_with("id,label,step,date,count,runs,p,lo95,hi95\nru_tech,"),
        "{triggers}"
    );
    for text in [outcome, horizon, triggers] {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader.headers().unwrap().clone();
        let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
        for record in reader.records() {
            let record = record.unwrap();
            let number = |name: &str| record[column(name)].parse::<f64>().unwrap();
            let data = number("count") / number("runs");
            assert!(number("lo95") <= data && data <= number("hi95"), "{record:?}");
            assert!(
                number("lo95") <= number("p") && number("p") <= number("hi95"),
                "{record:?}"
            );
        }
    }
}

/// Renders every chart to /tmp/sim-plot-check for looking at:
/// `cargo test --lib plot::tests::render_for_inspection -- --ignored`.
#[test]
#[ignore]
fn render_for_inspection() {
    let out = Path::new("/tmp/sim-plot-check");
    let a = synthetic_summary("baseline", "Baseline: the situation as of May 2025", 36, 0.0);
    let b = synthetic_summary("lethal_aid", "Seoul sends lethal arms to Kyiv", 36, 0.3);
    let c = synthetic_summary("restraint", "Beijing restrains Pyongyang", 36, -0.4);
    write_scenario_charts(&a, &out.join("baseline")).unwrap();
    write_scenario_charts(&baseline(), &out.join("short")).unwrap();
    write_comparison(&Comparison::new(&[a, b, c]), &out.join("compare")).unwrap();
    write_scenario_charts(&crowded_summary(), &out.join("crowded")).unwrap();
}

/// Many triggers, levels and outcomes, long labels and a long horizon.
fn crowded_summary() -> Summary {
    let name = "A scenario whose name is far too long for any chart title, to see how it gets shortened";
    let mut s = synthetic_summary("crowded", name, 120, 0.0);
    let scaled = |series: &Series, factor: f64, id: String, label: String| Series {
        id,
        label,
        points: series
            .points
            .iter()
            .map(|e| estimate(((e.count as f64 * factor).round() as u64).min(RUNS), RUNS, 3))
            .collect(),
    };
    let template = s.tables.trigger_fired_by[1].clone();
    s.tables.trigger_fired_by = (0..30)
        .map(|i| {
            let label = format!("Trigger {i}: a long label of about sixty characters, cut");
            scaled(&template, (i + 1) as f64 / 30.0, format!("t{i}"), label)
        })
        .collect();
    s.tables.level_distribution = s
        .tables
        .level_distribution
        .iter()
        .flat_map(|l| (0..2).map(|h| scaled(l, 0.5, format!("{}_{h}", l.id), format!("{}_{h}", l.label))))
        .collect();
    s.scenario.levels = s.tables.level_distribution.iter().map(|l| l.id.clone()).collect();
    let outcome = s.tables.outcome_by[0].clone();
    s.tables.outcome_by = (0..9)
        .map(|i| {
            let label = format!("Outcome {i} with a label long enough to need wrapping");
            scaled(&outcome, 1.0 + i as f64 * 0.3, format!("o{i}"), label)
        })
        .collect();
    s
}
