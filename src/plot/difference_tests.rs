//! Tests of the difference charts: what the forest plot and the differences over time plot,
//! their CSV, and that a variant not run on the baseline's runs is left out and named.

use super::chart::*;
use super::difference::*;
use super::render::{chart_size, render_png};
use super::tests::synthetic_summary;
use super::*;
use crate::aggregate::{PairedSeries, PairedTables, Series, Summary};
use crate::comparable::Comparison;

fn baseline() -> Summary {
    synthetic_summary("baseline", "Baseline (May 2025)", 12, 0.0)
}

/// `variant`, paired with `base`: in every cell the runs counted in both are as many as the
/// smaller of the two counts allows (the runs of one are among the other's), so the counts are
/// consistent and the discordant runs all go one way.
pub(crate) fn paired(mut variant: Summary, base: &Summary) -> Summary {
    let both = |mine: &[Series], theirs: &[Series]| -> Vec<PairedSeries> {
        mine.iter()
            .filter_map(|s| {
                let other = theirs.iter().find(|o| o.id == s.id)?;
                Some(PairedSeries {
                    id: s.id.clone(),
                    both: s
                        .points
                        .iter()
                        .zip(&other.points)
                        .map(|(a, b)| a.count.min(b.count))
                        .collect(),
                })
            })
            .collect()
    };
    let t = &variant.tables;
    let b = &base.tables;
    variant.paired = Some(PairedTables {
        baseline: base.scenario.id.clone(),
        outcome_by: both(&t.outcome_by, &b.outcome_by),
        outcome_holds: both(&t.outcome_holds, &b.outcome_holds),
        rung_reached: both(&t.rung_reached, &b.rung_reached),
        trigger_fired_by: both(&t.trigger_fired_by, &b.trigger_fired_by),
        discordant: None,
    });
    variant
}

fn up() -> Summary {
    paired(
        synthetic_summary("lethal_aid", "Seoul sends lethal aid", 12, 0.3),
        &baseline(),
    )
}

fn down() -> Summary {
    paired(
        synthetic_summary("restraint", "Beijing restrains Pyongyang", 12, -0.4),
        &baseline(),
    )
}

#[test]
fn the_forest_has_a_row_per_outcome_and_a_mark_per_paired_variant() {
    let summaries = [baseline(), up(), down()];
    let groups = forest_groups(&summaries, 0, DiffKind::Outcome);
    let ids: Vec<&str> = groups.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids, ["clash", "talks"]);
    assert_eq!(groups[0].label, "Armed clash on the peninsula");
    for (g, group) in groups.iter().enumerate() {
        let marks: Vec<&str> = group.marks.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(marks, ["lethal_aid", "restraint"]);
        for (mark, variant) in group.marks.iter().zip(&summaries[1..]) {
            assert_eq!(mark.points.len(), 1, "the horizon only");
            let point = mark.points[0];
            assert_eq!(point.step, 12);
            let mine = variant.tables.outcome_by[g].points[12].count as f64;
            let theirs = summaries[0].tables.outcome_by[g].points[12].count as f64;
            let expected = 100.0 * (mine - theirs) / variant.runs as f64;
            assert!((point.diff - expected).abs() < 1e-9, "{point:?} against {expected}");
            assert!(point.lo < point.diff && point.diff < point.hi, "{point:?}");
            assert_eq!(point.counts.runs(), variant.runs);
        }
        assert!(group.marks[0].points[0].diff > 0.0 && group.marks[1].points[0].diff < 0.0);
    }
    let rungs = forest_groups(&summaries, 0, DiffKind::Rung);
    assert_eq!(rungs.len(), summaries[0].tables.rung_reached.len());
}

#[test]
fn differences_over_time_have_every_step_and_intervals_that_contain_them() {
    let summaries = [baseline(), up(), down()];
    let series = difference_series(&summaries, 0, DiffKind::Outcome, "talks");
    assert_eq!(series.len(), 2);
    for s in &series {
        assert_eq!(s.points.len(), 13);
        for p in &s.points {
            assert!(p.lo <= p.diff && p.diff <= p.hi, "{}: {p:?}", s.id);
        }
    }
    assert_eq!(series[0].points[0].diff, 0.0, "nothing has happened at step 0");
    assert!(difference_series(&summaries, 0, DiffKind::Outcome, "no_such_outcome").is_empty());
}

#[test]
fn a_variant_not_run_on_the_baselines_runs_gets_no_mark_and_is_named() {
    let mut other_seed = synthetic_summary("other", "Other seed", 12, 0.1);
    other_seed.seed = 7;
    let mut foreign = up();
    foreign.scenario.id = "foreign".into();
    if let Some(p) = foreign.paired.as_mut() {
        p.baseline = "somebody_else".into();
    }
    // Paired with a baseline of the same id, but at another seed: read back by `sim compare`
    // beside this baseline, its counts say nothing about these runs.
    let mut reseeded = up();
    reseeded.scenario.id = "reseeded".into();
    reseeded.seed = 7;
    let summaries = [baseline(), up(), other_seed, foreign, reseeded];
    assert_eq!(paired_variants(&summaries, 0), [1]);
    assert_eq!(unpaired_variants(&summaries, 0), [2, 3, 4]);
    let groups = forest_groups(&summaries, 0, DiffKind::Outcome);
    assert!(
        groups
            .iter()
            .all(|g| g.marks.len() == 1 && g.marks[0].id == "lethal_aid")
    );
    let charts = comparison_charts(&summaries, 0);
    let forest = charts.iter().find(|c| c.name == "forest_outcomes").unwrap();
    assert!(
        forest
            .subtitle
            .contains("not shown: Other seed (seed 7, 20,000 runs); Seoul sends lethal aid"),
        "{}",
        forest.subtitle
    );
    assert_eq!(forest.legend.len(), 1);
    // With no paired variant there is no difference chart at all.
    let unpaired = comparison_charts(&[baseline(), synthetic_summary("v", "V", 12, 0.3)], 0);
    assert!(
        unpaired
            .iter()
            .all(|c| !c.name.starts_with("forest") && !c.name.starts_with("difference"))
    );
}

#[test]
fn difference_scales_hold_zero_and_every_value() {
    for values in [
        vec![0.0],
        vec![-0.004, 0.003],
        vec![3.5, 4.1],
        vec![-15.7, 87.6],
        vec![-3.9, -3.2],
        vec![0.0, 100.0],
    ] {
        let scale = DiffScale::fitted(values.clone());
        let ticks = scale.ticks();
        assert!(ticks.contains(&0.0), "{values:?}: {scale:?}");
        assert!(ticks.len() <= 9 && ticks.len() >= 3, "{values:?}: {ticks:?}");
        assert!(
            values.iter().all(|v| scale.min <= *v && *v <= scale.max),
            "{values:?}: {scale:?}"
        );
    }
    let whole = DiffScale::fitted([-15.9, 100.0]);
    assert_eq!((whole.min, whole.max), (-20.0, 100.0), "no tick beyond 100 pp");
    let scale = DiffScale::fitted([-3.9, 6.2]);
    assert_eq!(scale.label(2.0), "+2");
    assert_eq!(scale.label(0.0), "0");
    assert_eq!(scale.label(-2.0), "-2");
}

#[test]
fn difference_charts_are_written_with_their_numbers() {
    let summaries = [baseline(), up(), down()];
    let charts = comparison_charts(&summaries, 0);
    let names: Vec<&str> = charts
        .iter()
        .map(|c| c.name.as_str())
        .filter(|n| n.starts_with("forest") || n.starts_with("difference"))
        .collect();
    assert_eq!(
        names,
        [
            "forest_outcomes",
            "forest_rungs",
            "difference_outcome_clash",
            "difference_outcome_talks"
        ]
    );
    let forest = charts.iter().find(|c| c.name == "forest_outcomes").unwrap();
    let csv = chart_csv(forest).unwrap();
    assert!(
        csv.starts_with(
            "id,label,scenario,scenario_name,baseline,step,date,diff,lo95,hi95,both,variant_only,baseline_only,neither,runs\n"
        ),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 1 + 2 * 2);
    let over_time = charts.iter().find(|c| c.name == "difference_outcome_clash").unwrap();
    let csv_over_time = chart_csv(over_time).unwrap();
    assert_eq!(csv_over_time.lines().count(), 1 + 2 * 13);
    for text in [csv, csv_over_time] {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader.headers().unwrap().clone();
        let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
        for record in reader.records() {
            let record = record.unwrap();
            let number = |name: &str| record[column(name)].parse::<f64>().unwrap();
            let exact = (number("variant_only") - number("baseline_only")) / number("runs");
            assert!(number("lo95") <= exact && exact <= number("hi95"), "{record:?}");
            assert!(!record[column("diff")].starts_with("-0") || number("diff") != 0.0);
            assert_eq!(&record[column("baseline")], "baseline");
        }
    }
    // A forest plot is as tall as its rows need, and its PNG is that size.
    assert_eq!(chart_size(over_time), CHART_SIZE);
    let png = render_png(forest).unwrap();
    let image = image_size(&png);
    assert_eq!(image, chart_size(forest));

    let dir = tempfile::tempdir().unwrap();
    let written = write_comparison(&Comparison::new(&summaries), dir.path()).unwrap();
    for stem in names {
        for ext in ["png", "svg", "csv"] {
            let path = dir.path().join(format!("{stem}.{ext}"));
            assert!(written.contains(&path), "{path:?} not written");
        }
    }
}

/// Width and height from a PNG's header.
fn image_size(png: &[u8]) -> (u32, u32) {
    let word = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    (word(16), word(20))
}

/// Writes the difference charts of three synthetic scenarios to /tmp/sim-plot-check/difference
/// for looking at: `cargo test --lib plot::difference_tests::render_for_inspection -- --ignored`.
#[test]
#[ignore]
fn render_for_inspection() {
    let out = std::path::Path::new("/tmp/sim-plot-check/difference");
    std::fs::create_dir_all(out).unwrap();
    write_comparison(&Comparison::new(&[baseline(), up(), down()]), out).unwrap();
}
