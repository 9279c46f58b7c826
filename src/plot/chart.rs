//! Chart descriptions: everything a chart shows, independent of the backend, and its CSV.
//!
//! In: one [`Summary`] (its four charts) or the summaries of a comparison with the baseline's
//! index. Out: [`Chart`] values (titles, axes, legend, styles and the plotted series from
//! [`super::data`]) that [`super::render`] draws, and each chart's plotted numbers as CSV text.

use anyhow::Result;

use crate::aggregate::{Summary, decimals_for, estimate};
use crate::format::{horizon_label, percent_decimals, plural, thousands};
use crate::model::ScenarioInfo;

use super::data::{
    BarGroup, PlotPoint, PlotSeries, compare_outcome_series, compare_rung_series, escalation_series, find,
    horizon_groups, ladder_series, outcome_series, shared_outcome_ids, shared_rungs, trigger_bars,
};
use super::difference::{DiffGroup, DiffSeries};
use super::style::{SeriesStyle, categorical, categorical_styles, comparison_styles, severity_styles};

mod forest;

pub(super) use forest::DiffScale;

/// The step axis: one label per step and the steps that get a tick.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct StepAxis {
    labels: Vec<String>,
    pub(super) ticks: Vec<usize>,
}

/// Widest run of labels that stays legible on a plot ~850 px wide.
const STEP_AXIS_PIXELS: usize = 850;

impl StepAxis {
    pub(super) fn new(info: &ScenarioInfo) -> Self {
        let labels = if info.step_labels.len() == info.steps + 1 {
            info.step_labels.clone()
        } else {
            (0..=info.steps).map(|t| t.to_string()).collect()
        };
        let widest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1);
        // ~9 px per character at the tick font size, plus a gap between labels.
        let max_ticks = (STEP_AXIS_PIXELS / (widest * 9 + 36)).max(2);
        let ticks = tick_steps(info.steps, &info.step_unit, max_ticks);
        StepAxis { labels, ticks }
    }

    pub(super) fn last_step(&self) -> usize {
        self.labels.len().saturating_sub(1)
    }

    pub(super) fn label(&self, step: f64) -> String {
        let index = step.round().max(0.0) as usize;
        self.labels.get(index).cloned().unwrap_or_default()
    }
}

/// Steps that get an axis label: multiples of the smallest calendar-friendly stride (every
/// quarter, half-year or year for months, ...) that keeps at most `max_ticks` labels.
pub(super) fn tick_steps(steps: usize, unit: &str, max_ticks: usize) -> Vec<usize> {
    let strides: &[usize] = match unit {
        "month" => &[1, 2, 3, 6, 12, 24, 60, 120, 240, 600, 1200],
        "quarter" => &[1, 2, 4, 8, 20, 40, 100, 200, 400, 1000],
        "week" => &[1, 2, 4, 13, 26, 52, 104, 260, 520, 1040, 2600],
        "day" => &[1, 2, 7, 14, 28, 91, 182, 364, 728, 1820, 3640],
        _ => &[1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
    };
    let stride = strides
        .iter()
        .copied()
        .find(|stride| steps / stride < max_ticks)
        .unwrap_or(steps.max(1));
    (0..=steps).step_by(stride).collect()
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Mark {
    Line,
    Area,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct LegendEntry {
    pub(super) label: String,
    pub(super) style: SeriesStyle,
    pub(super) mark: Mark,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Body {
    /// Curves with translucent 95% bands, over steps; `styles[i]` draws `series[i]`.
    Lines {
        axis: StepAxis,
        series: Vec<PlotSeries>,
        styles: Vec<SeriesStyle>,
    },
    /// Shares stacked to 100%, the last series at the bottom, over steps.
    Stacked {
        axis: StepAxis,
        series: Vec<PlotSeries>,
        styles: Vec<SeriesStyle>,
    },
    /// Horizontal bars with whiskers; `styles[j]` draws the j-th bar of each group.
    Bars {
        groups: Vec<BarGroup>,
        styles: Vec<SeriesStyle>,
        decimals: u32,
    },
    /// A forest plot: per group (outcome or rung), each paired variant's difference from the
    /// baseline at the horizon with its paired 95% interval; `variants` gives every paired
    /// variant's id and style, in the order of the rows within a group.
    Forest {
        groups: Vec<DiffGroup>,
        variants: Vec<(String, SeriesStyle)>,
        scale: DiffScale,
        decimals: u32,
    },
    /// Differences from the baseline over steps with their paired 95% bands, around a zero line.
    DiffLines {
        axis: StepAxis,
        series: Vec<DiffSeries>,
        styles: Vec<SeriesStyle>,
        scale: DiffScale,
    },
}

/// Names of a chart CSV's leading columns, which identify a row's series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CsvKeys {
    /// `id,label`: the series of one scenario (or, for bars, the group).
    Series,
    /// `scenario,scenario_name,baseline`: one curve per scenario.
    Scenario,
    /// `outcome,outcome_label,scenario,scenario_name,baseline`: bars grouped by outcome.
    OutcomeScenario,
    /// `outcome,trigger,label,group`: a trigger's two groups of runs, per outcome (`lift`).
    OutcomeTrigger,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Chart {
    pub(super) name: String,
    pub(super) title: String,
    pub(super) subtitle: String,
    pub(super) x_desc: String,
    pub(super) y_desc: String,
    pub(super) legend_title: String,
    pub(super) legend: Vec<LegendEntry>,
    /// Shown instead of the data when there is nothing to plot.
    pub(super) empty_note: String,
    /// The probability axis: y for curves and areas, x for bars.
    pub(super) scale: PercentScale,
    pub(super) body: Body,
    /// The leading columns of the chart's CSV.
    pub(super) csv_keys: CsvKeys,
    /// The scenario id of the comparison baseline (empty for a single scenario's chart).
    pub(super) baseline_id: String,
    /// Step labels (dates) for the CSV.
    step_labels: Vec<String>,
}

/// A probability axis from 0 to `max` percent, ticked every `step`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct PercentScale {
    pub(super) max: f64,
    pub(super) step: f64,
}

impl PercentScale {
    pub(super) const FULL: PercentScale = PercentScale { max: 100.0, step: 10.0 };

    /// The smallest round scale holding `highest` percent with a little headroom, so that rare
    /// outcomes are not flattened against the axis.
    pub(super) fn fitted(highest: f64) -> Self {
        const SCALES: [(f64, f64); 11] = [
            (1.0, 0.1),
            (2.0, 0.2),
            (5.0, 0.5),
            (10.0, 1.0),
            (20.0, 2.0),
            (30.0, 5.0),
            (40.0, 5.0),
            (50.0, 5.0),
            (60.0, 10.0),
            (80.0, 10.0),
            (100.0, 10.0),
        ];
        SCALES
            .iter()
            .find(|&&(max, _)| highest * 1.05 <= max)
            .map_or(Self::FULL, |&(max, step)| PercentScale { max, step })
    }

    pub(super) fn ticks(&self) -> Vec<f64> {
        let count = (self.max / self.step).round() as usize;
        (0..=count).map(|i| i as f64 * self.step).collect()
    }

    pub(super) fn label(&self, value: f64) -> String {
        if self.step < 1.0 {
            format!("{value:.1}")
        } else {
            format!("{value:.0}")
        }
    }
}

fn highest_point(series: &[PlotSeries]) -> f64 {
    series
        .iter()
        .flat_map(|s| &s.points)
        .map(|p| p.hi.max(p.p))
        .fold(0.0, f64::max)
}

fn highest_bar(groups: &[BarGroup]) -> f64 {
    groups
        .iter()
        .flat_map(|g| &g.bars)
        .map(|b| b.point.hi.max(b.point.p))
        .fold(0.0, f64::max)
}

impl Chart {
    pub(super) fn is_empty(&self) -> bool {
        match &self.body {
            Body::Lines { series, .. } | Body::Stacked { series, .. } => series.is_empty(),
            Body::Bars { groups, .. } => groups.is_empty(),
            Body::Forest { groups, .. } => groups.is_empty(),
            Body::DiffLines { series, .. } => series.is_empty(),
        }
    }
}

const PROBABILITY: &str = "probability (%)";

fn time_desc(info: &ScenarioInfo) -> String {
    format!("time ({})", plural(&info.step_unit, 2))
}

pub(super) fn runs_and_seed(summary: &Summary) -> String {
    format!("{} runs, seed {}", thousands(summary.runs), summary.seed)
}

/// "20,000 runs each, seed 2025" when all agree, else the values listed in scenario order.
fn runs_and_seeds(summaries: &[Summary]) -> String {
    let runs: Vec<u64> = summaries.iter().map(|s| s.runs).collect();
    let seeds: Vec<u64> = summaries.iter().map(|s| s.seed).collect();
    let all_same = |values: &[u64]| values.windows(2).all(|w| w[0] == w[1]);
    let runs = match runs.first() {
        Some(&n) if all_same(&runs) => format!("{} runs each", thousands(n)),
        _ => {
            let listed: Vec<String> = runs.iter().map(|&n| thousands(n)).collect();
            format!("{} runs", listed.join(" / "))
        }
    };
    let seeds = match seeds.first() {
        Some(&seed) if all_same(&seeds) => format!("seed {seed}"),
        _ => {
            let listed: Vec<String> = seeds.iter().map(|s| s.to_string()).collect();
            format!("seeds {}", listed.join(" / "))
        }
    };
    format!("{runs}, {seeds}")
}

fn line_legend(series: &[PlotSeries], styles: &[SeriesStyle], mark: Mark) -> Vec<LegendEntry> {
    series
        .iter()
        .zip(styles)
        .map(|(s, &style)| LegendEntry {
            label: s.label.clone(),
            style,
            mark,
        })
        .collect()
}

/// The parts every chart of one scenario shares.
pub(super) fn scenario_chart(summary: &Summary, name: &str, title: String, body: Body) -> Chart {
    let info = &summary.scenario;
    Chart {
        name: name.into(),
        title,
        subtitle: format!("{}, 95% Wilson bands", runs_and_seed(summary)),
        x_desc: time_desc(info),
        y_desc: PROBABILITY.into(),
        legend_title: String::new(),
        legend: Vec::new(),
        empty_note: String::new(),
        scale: PercentScale::FULL,
        body,
        csv_keys: CsvKeys::Series,
        baseline_id: String::new(),
        step_labels: info.step_labels.clone(),
    }
}

fn escalation_chart(summary: &Summary) -> Chart {
    let info = &summary.scenario;
    let series = escalation_series(summary);
    let styles = categorical_styles(series.len());
    let legend = line_legend(&series, &styles, Mark::Line);
    let title = format!("Escalation: P(rung reached) — {}", info.name);
    let body = Body::Lines {
        axis: StepAxis::new(info),
        series,
        styles,
    };
    Chart {
        legend_title: "Rung reached by then".into(),
        legend,
        empty_note: "The ladder has no rung above the initial one.".into(),
        ..scenario_chart(summary, "escalation", title, body)
    }
}

fn ladder_chart(summary: &Summary) -> Chart {
    let info = &summary.scenario;
    let series = ladder_series(summary);
    let styles = severity_styles(series.len());
    // Severe rungs are stacked at the bottom; listing them last keeps the legend in the same
    // top-to-bottom order as the areas.
    let legend = line_legend(&series, &styles, Mark::Area);
    let title = format!("Escalation ladder: share of runs at each rung — {}", info.name);
    let body = Body::Stacked {
        axis: StepAxis::new(info),
        series,
        styles,
    };
    Chart {
        subtitle: format!("{}; severe rungs at the bottom", runs_and_seed(summary)),
        y_desc: "share of runs (%)".into(),
        legend_title: "Rung (calm to severe)".into(),
        legend,
        empty_note: "The scenario has no ladder.".into(),
        ..scenario_chart(summary, "ladder", title, body)
    }
}

fn outcomes_chart(summary: &Summary) -> Chart {
    let info = &summary.scenario;
    let series = outcome_series(summary);
    let styles = categorical_styles(series.len());
    let legend = line_legend(&series, &styles, Mark::Line);
    let scale = PercentScale::fitted(highest_point(&series));
    let title = format!("Outcomes: P(outcome by date) — {}", info.name);
    let body = Body::Lines {
        axis: StepAxis::new(info),
        series,
        styles,
    };
    Chart {
        legend_title: "Outcome".into(),
        legend,
        empty_note: "The scenario defines no outcomes.".into(),
        scale,
        ..scenario_chart(summary, "outcomes", title, body)
    }
}

fn triggers_chart(summary: &Summary) -> Chart {
    let info = &summary.scenario;
    let groups: Vec<BarGroup> = trigger_bars(summary)
        .into_iter()
        .map(|bar| BarGroup {
            id: bar.id.clone(),
            label: bar.label.clone(),
            bars: vec![bar],
        })
        .collect();
    let scale = PercentScale::fitted(highest_bar(&groups));
    let title = format!("Triggers: P(fired by {}) — {}", horizon_label(info), info.name);
    let body = Body::Bars {
        groups,
        styles: vec![categorical(0)],
        decimals: percent_decimals(summary),
    };
    Chart {
        subtitle: format!("{}, whiskers: 95% Wilson intervals", runs_and_seed(summary)),
        x_desc: PROBABILITY.into(),
        y_desc: String::new(),
        empty_note: "The scenario defines no triggers.".into(),
        scale,
        ..scenario_chart(summary, "triggers", title, body)
    }
}

pub(super) fn scenario_charts(summary: &Summary) -> Vec<Chart> {
    vec![
        escalation_chart(summary),
        ladder_chart(summary),
        outcomes_chart(summary),
        triggers_chart(summary),
    ]
    .into_iter()
    .chain(super::lift::lift_chart(summary))
    .collect()
}

/// Scenario names with their comparison styles, the baseline marked as such.
fn scenario_legend(summaries: &[Summary], styles: &[SeriesStyle], baseline: usize, mark: Mark) -> Vec<LegendEntry> {
    summaries
        .iter()
        .zip(styles)
        .enumerate()
        .map(|(i, (s, &style))| LegendEntry {
            label: if i == baseline {
                format!("{} (baseline)", s.scenario.name)
            } else {
                s.scenario.name.clone()
            },
            style,
            mark,
        })
        .collect()
}

/// A file-name-safe form of an id: ids are validated at load, but a summary read back from
/// disk is not, and a chart name must never leave its directory.
fn file_stem(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// What every comparison chart shares: the summaries (with their horizon and step labels from
/// the first) and which one is the baseline.
struct ComparisonCharts<'a> {
    summaries: &'a [Summary],
    baseline: usize,
    styles: Vec<SeriesStyle>,
}

impl ComparisonCharts<'_> {
    fn first(&self) -> &Summary {
        &self.summaries[0]
    }

    fn chart(&self, name: String, title: String, mark: Mark, body: Body) -> Chart {
        let first = &self.first().scenario;
        Chart {
            name,
            title,
            subtitle: format!("{}, 95% Wilson bands", runs_and_seeds(self.summaries)),
            x_desc: time_desc(first),
            y_desc: PROBABILITY.into(),
            legend_title: "Scenario".into(),
            legend: scenario_legend(self.summaries, &self.styles, self.baseline, mark),
            empty_note: "Nothing to compare.".into(),
            scale: PercentScale::FULL,
            body,
            csv_keys: CsvKeys::Scenario,
            baseline_id: self.summaries[self.baseline].scenario.id.clone(),
            step_labels: first.step_labels.clone(),
        }
    }

    fn lines(&self, name: String, title: String, series: Vec<PlotSeries>) -> Chart {
        // A scenario lacking the series is skipped: styles follow the scenarios still there.
        let styles = self
            .summaries
            .iter()
            .zip(&self.styles)
            .filter(|(s, _)| series.iter().any(|c| c.id == s.scenario.id))
            .map(|(_, &style)| style)
            .collect();
        let scale = PercentScale::fitted(highest_point(&series));
        let body = Body::Lines {
            axis: StepAxis::new(&self.first().scenario),
            series,
            styles,
        };
        Chart {
            scale,
            ..self.chart(name, title, Mark::Line, body)
        }
    }
}

pub(super) fn comparison_charts(summaries: &[Summary], baseline: usize) -> Vec<Chart> {
    if summaries.is_empty() {
        return Vec::new();
    }
    let baseline = baseline.min(summaries.len() - 1);
    let comparison = ComparisonCharts {
        summaries,
        baseline,
        styles: comparison_styles(summaries.len(), baseline),
    };
    let first = comparison.first();
    let mut charts = Vec::new();
    for id in shared_outcome_ids(summaries) {
        let label = find(first.outcome_table(), &id).map_or(id.as_str(), |s| s.label.as_str());
        charts.push(comparison.lines(
            format!("compare_outcome_{}", file_stem(&id)),
            format!("Outcome: {label} — P(by date), scenarios compared"),
            compare_outcome_series(summaries, &id),
        ));
    }
    for level in shared_rungs(summaries) {
        charts.push(comparison.lines(
            format!("compare_rung_{}", file_stem(&level)),
            format!("Escalation: P(rung ≥ {level} reached) — scenarios compared"),
            compare_rung_series(summaries, &level),
        ));
    }
    let groups = horizon_groups(summaries);
    let scale = PercentScale::fitted(highest_bar(&groups));
    let body = Body::Bars {
        groups,
        styles: comparison.styles.clone(),
        decimals: summaries.iter().map(percent_decimals).min().unwrap_or(0),
    };
    let title = format!(
        "Outcomes: P(by {}) — scenarios compared",
        horizon_label(&first.scenario)
    );
    charts.push(Chart {
        subtitle: format!("{}, whiskers: 95% Wilson intervals", runs_and_seeds(summaries)),
        x_desc: PROBABILITY.into(),
        y_desc: String::new(),
        empty_note: "The scenarios share no outcome.".into(),
        scale,
        csv_keys: CsvKeys::OutcomeScenario,
        ..comparison.chart("compare_horizon".into(), title, Mark::Area, body)
    });
    charts.extend(comparison.difference_charts());
    charts
}

// ---------------------------------------------------------------------------------------------
// Chart data as CSV.
// ---------------------------------------------------------------------------------------------

/// The chart's numbers as a tidy CSV, one row per plotted point: the keys naming the series,
/// `step`, `date`, `count`, `runs`, and `p`, `lo95`, `hi95` as fractions rounded as in every
/// table (the interval outward, so that it holds `count / runs`).
pub(super) fn chart_csv(chart: &Chart) -> Result<String> {
    use crate::report::spreadsheet_safe;
    if matches!(chart.body, Body::Forest { .. } | Body::DiffLines { .. }) {
        return forest::difference_csv(chart);
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    let keys: &[&str] = match chart.csv_keys {
        CsvKeys::Series => &["id", "label"],
        CsvKeys::Scenario => &["scenario", "scenario_name", "baseline"],
        CsvKeys::OutcomeScenario => &["outcome", "outcome_label", "scenario", "scenario_name", "baseline"],
        CsvKeys::OutcomeTrigger => &["outcome", "trigger", "label", "group"],
    };
    let columns = ["step", "date", "count", "runs", "p", "lo95", "hi95"];
    out.write_record(keys.iter().chain(&columns))?;
    let is_baseline = |id: &str| (id == chart.baseline_id).to_string();
    let mut row = |mut keys: Vec<String>, point: &PlotPoint| -> Result<()> {
        let e = estimate(point.count, point.runs, decimals_for(point.runs));
        keys.extend([
            point.step.to_string(),
            chart.step_labels.get(point.step).cloned().unwrap_or_default(),
            point.count.to_string(),
            point.runs.to_string(),
            e.p.to_string(),
            e.lo.to_string(),
            e.hi.to_string(),
        ]);
        out.write_record(&keys)?;
        Ok(())
    };
    let series_keys = |s: &PlotSeries| match chart.csv_keys {
        CsvKeys::Series => vec![s.id.clone(), spreadsheet_safe(&s.label)],
        _ => vec![s.id.clone(), spreadsheet_safe(&s.label), is_baseline(&s.id)],
    };
    match &chart.body {
        Body::Lines { series, .. } | Body::Stacked { series, .. } => {
            for s in series {
                let keys = series_keys(s);
                for point in &s.points {
                    row(keys.clone(), point)?;
                }
            }
        }
        Body::Bars { groups, .. } => {
            for group in groups {
                for bar in &group.bars {
                    let keys = match chart.csv_keys {
                        CsvKeys::OutcomeScenario => vec![
                            group.id.clone(),
                            spreadsheet_safe(&group.label),
                            bar.id.clone(),
                            spreadsheet_safe(&bar.label),
                            is_baseline(&bar.id),
                        ],
                        // The group's id is `outcome/trigger`.
                        CsvKeys::OutcomeTrigger => {
                            let (outcome, trigger) = group.id.split_once('/').unwrap_or((&group.id, ""));
                            vec![
                                outcome.to_string(),
                                trigger.to_string(),
                                spreadsheet_safe(&group.label),
                                bar.id.clone(),
                            ]
                        }
                        _ => vec![bar.id.clone(), spreadsheet_safe(&bar.label)],
                    };
                    row(keys, &bar.point)?;
                }
            }
        }
        Body::Forest { .. } | Body::DiffLines { .. } => {}
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}
