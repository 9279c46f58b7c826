//! Charts: [`Summary`] values in, PNG, SVG and CSV files out.
//!
//! In: one [`Summary`] per scenario, or several summaries whose horizons and ladders line up
//! (see [`check_comparable`]) with the index of the comparison's baseline. Out: each chart as
//! `NAME.svg` and `NAME.png` (1200x700) and its plotted numbers as `NAME.csv`, written with
//! [`write_atomic`], or as SVG strings for the HTML report.
//!
//! A chart is made in two steps. Small pure functions ([`escalation_series`], [`trigger_bars`],
//! ...) pull the plotted numbers out of the summary (`count / runs` and the unrounded Wilson
//! interval, never the rounded values), so tests can compare them with the summary without
//! reading images; then one renderer draws the resulting backend-neutral `Chart` as SVG with
//! plotters, and resvg rasterizes that SVG into the PNG, so a chart's PNG shows exactly what its
//! SVG shows. Both use only the embedded Noto Sans. This is the only module that imports
//! plotters or resvg; the percentage formatting the report shares lives here too.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result, anyhow};
use std::ops::Range;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rayon::prelude::*;

use crate::aggregate::{Estimate, Series, Summary, decimals_for, estimate, wilson};
use crate::model::ScenarioInfo;
use crate::output::write_atomic;

/// Pixel size of every chart, PNG and SVG alike.
pub const CHART_SIZE: (u32, u32) = (1200, 700);

// ---------------------------------------------------------------------------------------------
// What the charts plot: pure extraction from summaries.
// ---------------------------------------------------------------------------------------------

/// One plotted point of a curve: `count` of `runs`, and in percent `count / runs` and its
/// unrounded Wilson 95% interval. The summary's rounded values are for people to read; a chart
/// drawn from them would turn a rare outcome into a staircase of rounding steps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlotPoint {
    pub step: usize,
    pub count: u64,
    pub runs: u64,
    pub p: f64,
    pub lo: f64,
    pub hi: f64,
}

impl PlotPoint {
    fn new(step: usize, count: u64, runs: u64) -> Self {
        let (lo, hi) = wilson(count, runs);
        // 100 * count is exact, so 3,000 of 20,000 plots at exactly 15%.
        let p = if runs == 0 {
            0.0
        } else {
            100.0 * count as f64 / runs as f64
        };
        PlotPoint {
            step,
            count,
            runs,
            p,
            lo: 100.0 * lo,
            hi: 100.0 * hi,
        }
    }
}

/// One curve of a chart: `id` names it in the chart's CSV, `label` in the legend.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotSeries {
    pub id: String,
    pub label: String,
    pub points: Vec<PlotPoint>,
}

/// One bar with its 95% interval whisker: the value at `point.step` (the horizon).
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub id: String,
    pub label: String,
    pub point: PlotPoint,
}

/// Bars drawn next to each other under one axis label.
#[derive(Clone, Debug, PartialEq)]
pub struct BarGroup {
    pub id: String,
    pub label: String,
    pub bars: Vec<Bar>,
}

fn bar(id: &str, label: &str, series: &Series, runs: u64) -> Option<Bar> {
    let step = series.points.len().checked_sub(1)?;
    Some(Bar {
        id: id.to_string(),
        label: label.to_string(),
        point: PlotPoint::new(step, series.points[step].count, runs),
    })
}

fn plot_series(id: &str, label: &str, series: &Series, runs: u64) -> PlotSeries {
    let points = series
        .points
        .iter()
        .enumerate()
        .map(|(step, e)| PlotPoint::new(step, e.count, runs))
        .collect();
    PlotSeries {
        id: id.to_string(),
        label: label.to_string(),
        points,
    }
}

fn labelled_series(table: &[Series], runs: u64) -> Vec<PlotSeries> {
    table.iter().map(|s| plot_series(&s.id, &s.label, s, runs)).collect()
}

/// The `escalation` chart: P(rung >= k reached by step t), one curve per rung above the initial.
pub fn escalation_series(summary: &Summary) -> Vec<PlotSeries> {
    labelled_series(&summary.tables.rung_reached, summary.runs)
}

/// The `ladder` chart: share of runs at each level per step, calm to severe.
pub fn ladder_series(summary: &Summary) -> Vec<PlotSeries> {
    labelled_series(&summary.tables.level_distribution, summary.runs)
}

/// The `outcomes` chart: cumulative P(outcome by step t), one curve per outcome.
pub fn outcome_series(summary: &Summary) -> Vec<PlotSeries> {
    labelled_series(&summary.tables.outcome_by, summary.runs)
}

/// The `triggers` chart: P(trigger fired within the horizon), largest first. Ties keep the
/// declaration order, so the chart does not change between identical summaries.
pub fn trigger_bars(summary: &Summary) -> Vec<Bar> {
    let mut bars: Vec<Bar> = summary
        .tables
        .trigger_fired_by
        .iter()
        .filter_map(|s| bar(&s.id, &s.label, s, summary.runs))
        .collect();
    bars.sort_by(|a, b| b.point.p.total_cmp(&a.point.p));
    bars
}

fn outcome_table(summary: &Summary) -> &[Series] {
    &summary.tables.outcome_by
}

fn rung_table(summary: &Summary) -> &[Series] {
    &summary.tables.rung_reached
}

fn find<'a>(table: &'a [Series], id: &str) -> Option<&'a Series> {
    table.iter().find(|s| s.id == id)
}

/// Ids present in the table of every summary, in the first summary's order.
fn shared_ids(summaries: &[Summary], table: fn(&Summary) -> &[Series]) -> Vec<String> {
    let Some((first, rest)) = summaries.split_first() else {
        return Vec::new();
    };
    table(first)
        .iter()
        .filter(|s| rest.iter().all(|other| find(table(other), &s.id).is_some()))
        .map(|s| s.id.clone())
        .collect()
}

/// Outcome ids that every scenario defines, in the first scenario's order.
pub fn shared_outcome_ids(summaries: &[Summary]) -> Vec<String> {
    shared_ids(summaries, outcome_table)
}

/// Levels whose "rung reached" curve every scenario has (rungs above each initial level).
pub fn shared_rungs(summaries: &[Summary]) -> Vec<String> {
    shared_ids(summaries, rung_table)
}

/// One curve per scenario (labelled with the scenario name) of the series `id` of `table`;
/// scenarios without that series are skipped.
fn per_scenario_series(summaries: &[Summary], table: fn(&Summary) -> &[Series], id: &str) -> Vec<PlotSeries> {
    summaries
        .iter()
        .filter_map(|s| find(table(s), id).map(|series| plot_series(&s.scenario.id, &s.scenario.name, series, s.runs)))
        .collect()
}

/// The `compare_outcome_<id>` chart: each scenario's P(outcome `id` by t).
pub fn compare_outcome_series(summaries: &[Summary], outcome_id: &str) -> Vec<PlotSeries> {
    per_scenario_series(summaries, outcome_table, outcome_id)
}

/// The `compare_rung_<level>` chart: each scenario's P(rung >= `level` reached by t).
pub fn compare_rung_series(summaries: &[Summary], level: &str) -> Vec<PlotSeries> {
    per_scenario_series(summaries, rung_table, level)
}

/// The `compare_horizon` chart: one group per shared outcome (labelled as in the first
/// scenario), one bar per scenario (labelled with its name) of P(outcome by the horizon).
pub fn horizon_groups(summaries: &[Summary]) -> Vec<BarGroup> {
    let Some(first) = summaries.first() else {
        return Vec::new();
    };
    shared_outcome_ids(summaries)
        .iter()
        .filter_map(|id| {
            let label = find(outcome_table(first), id)?.label.clone();
            let bars = summaries
                .iter()
                .filter_map(|s| bar(&s.scenario.id, &s.scenario.name, find(outcome_table(s), id)?, s.runs))
                .collect();
            Some(BarGroup {
                id: id.clone(),
                label,
                bars,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Comparability.
// ---------------------------------------------------------------------------------------------

/// "36 months from 2025-05".
pub fn describe_horizon(info: &ScenarioInfo) -> String {
    let length = format!("{} {}", info.steps, plural(&info.step_unit, info.steps));
    match &info.start {
        Some(start) => format!("{length} from {start}"),
        None => format!("{length} with no start date"),
    }
}

fn describe_scenario(info: &ScenarioInfo) -> String {
    format!("`{}` ({})", info.id, info.name)
}

/// Refuses summaries whose horizons (steps, step unit, start) or ladders differ: their curves
/// would share an axis while meaning different things. The message names both scenarios.
pub fn check_comparable(summaries: &[Summary]) -> Result<(), String> {
    let Some((first, rest)) = summaries.split_first() else {
        return Ok(());
    };
    let a = &first.scenario;
    for other in rest {
        let b = &other.scenario;
        let mut differences = Vec::new();
        if (a.steps, &a.step_unit, &a.start) != (b.steps, &b.step_unit, &b.start) {
            differences.push(format!(
                "horizons differ ({} vs {})",
                describe_horizon(a),
                describe_horizon(b)
            ));
        }
        if a.levels != b.levels {
            differences.push(format!(
                "ladders differ ([{}] vs [{}])",
                a.levels.join(", "),
                b.levels.join(", ")
            ));
        }
        if !differences.is_empty() {
            return Err(format!(
                "cannot compare scenario {} with scenario {}: {}",
                describe_scenario(a),
                describe_scenario(b),
                differences.join("; ")
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Number formatting shared with the report.
// ---------------------------------------------------------------------------------------------

/// Decimal places of a percentage that a summary supports (its `decimals` are of a fraction).
pub fn percent_decimals(summary: &Summary) -> u32 {
    summary.decimals.saturating_sub(2)
}

/// `p` (a fraction) as a percentage with `decimals` places: `percent(0.345, 1)` is `"34.5%"`.
pub fn percent(p: f64, decimals: u32) -> String {
    format!("{}%", percent_number(p, decimals))
}

fn percent_number(p: f64, decimals: u32) -> String {
    format!("{:.*}", decimals as usize, 100.0 * p)
}

/// An estimate's 95% interval in percent: `"[33.8, 35.2]"`.
pub fn interval_text(estimate: &Estimate, decimals: u32) -> String {
    format!(
        "[{}, {}]",
        percent_number(estimate.lo, decimals),
        percent_number(estimate.hi, decimals)
    )
}

/// An estimate with its 95% interval: `"34.5% [33.8, 35.2]"`.
pub fn estimate_text(estimate: &Estimate, decimals: u32) -> String {
    format!(
        "{} {}",
        percent(estimate.p, decimals),
        interval_text(estimate, decimals)
    )
}

/// The difference `p - base` in percentage points: `"+4.1 pp"`, `"-0.3 pp"`, `"0.0 pp"`.
pub fn difference_pp(p: f64, base: f64, decimals: u32) -> String {
    let shown = format!("{:+.*}", decimals as usize, 100.0 * (p - base));
    // A difference that rounds to zero has no sign worth showing (and "-0.0" reads as a loss).
    if shown[1..].bytes().all(|b| b == b'0' || b == b'.') {
        format!("{} pp", &shown[1..])
    } else {
        format!("{shown} pp")
    }
}

/// `20000` as `"20,000"`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `"month"` -> `"months"` for counts other than one.
pub fn plural(unit: &str, count: usize) -> String {
    if count == 1 || unit.ends_with('s') {
        unit.to_string()
    } else {
        format!("{unit}s")
    }
}

// ---------------------------------------------------------------------------------------------
// Colours.
// ---------------------------------------------------------------------------------------------

/// Okabe-Ito, ordered so that the first colours are the most distinct on white; yellow, weak on
/// white, comes last. Its black is left out: black is the baseline's in comparisons.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0xF0, 0xE4, 0x42),
];

/// Dash and gap lengths in pixels for series past the palette: the palette's colours come round
/// again, each time with another pattern.
const DASHES: [(u32, u32); 3] = [(14, 7), (4, 5), (18, 5)];

/// The comparison baseline: black and thicker than the variants, which are drawn over it, so a
/// variant that equals the baseline shows as a coloured line inside a black one.
const BASELINE_LINE: RGBColor = RGBColor(0x00, 0x00, 0x00);
/// The baseline's bars: neutral grey, dark enough to read, light enough for its black whisker.
const BASELINE_FILL: RGBColor = RGBColor(0x8c, 0x8c, 0x8c);
const BASELINE_WIDTH: u32 = 7;
const LINE_WIDTH: u32 = 3;

/// ColorBrewer RdYlBu (9 classes) reversed: blue for calm through yellow to red for severe.
/// Diverging-looking but ordered in lightness on each side, and colour-blind safe.
const SEVERITY_RAMP: [RGBColor; 9] = [
    RGBColor(0x45, 0x75, 0xb4),
    RGBColor(0x74, 0xad, 0xd1),
    RGBColor(0xab, 0xd9, 0xe9),
    RGBColor(0xe0, 0xf3, 0xf8),
    RGBColor(0xff, 0xff, 0xbf),
    RGBColor(0xfe, 0xe0, 0x90),
    RGBColor(0xfd, 0xae, 0x61),
    RGBColor(0xf4, 0x6d, 0x43),
    RGBColor(0xd7, 0x30, 0x27),
];

const TEXT: RGBColor = RGBColor(0x22, 0x22, 0x22);
const MUTED_TEXT: RGBColor = RGBColor(0x55, 0x55, 0x55);
const GRID: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);
const AXIS: RGBColor = RGBColor(0x88, 0x88, 0x88);
const WHISKER: RGBColor = RGBColor(0x22, 0x22, 0x22);

/// A marker drawn on a curve at a few steps, so that a curve hidden under another (equal
/// numbers) still shows, and curves can be told apart without colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    TriangleDown,
}

const MARKERS: [Marker; 5] = [
    Marker::Circle,
    Marker::Square,
    Marker::Triangle,
    Marker::Diamond,
    Marker::TriangleDown,
];

/// How one series is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
struct SeriesStyle {
    /// The line's colour (and the marker's).
    colour: RGBColor,
    /// The colour of its area or bar.
    fill: RGBColor,
    width: u32,
    /// Dash and gap in pixels; `None` for a solid line.
    dash: Option<(u32, u32)>,
    marker: Option<Marker>,
}

impl SeriesStyle {
    fn solid(colour: RGBColor) -> Self {
        SeriesStyle {
            colour,
            fill: colour,
            width: LINE_WIDTH,
            dash: None,
            marker: None,
        }
    }

    const BASELINE: SeriesStyle = SeriesStyle {
        colour: BASELINE_LINE,
        fill: BASELINE_FILL,
        width: BASELINE_WIDTH,
        dash: None,
        marker: None,
    };
}

/// The style of the `index`-th categorical series: palette colour, a marker, and past the
/// palette a dash pattern.
fn categorical(index: usize) -> SeriesStyle {
    let round = index / PALETTE.len();
    SeriesStyle {
        dash: round.checked_sub(1).map(|r| DASHES[r % DASHES.len()]),
        marker: Some(MARKERS[index % MARKERS.len()]),
        ..SeriesStyle::solid(PALETTE[index % PALETTE.len()])
    }
}

fn categorical_styles(count: usize) -> Vec<SeriesStyle> {
    (0..count).map(categorical).collect()
}

/// Scenario `i` of a comparison: the baseline's style for `baseline`, the categorical styles,
/// in order, for the others. Each scenario keeps its style in every comparison chart.
fn comparison_styles(count: usize, baseline: usize) -> Vec<SeriesStyle> {
    (0..count)
        .map(|i| match i.cmp(&baseline) {
            std::cmp::Ordering::Equal => SeriesStyle::BASELINE,
            std::cmp::Ordering::Less => categorical(i),
            std::cmp::Ordering::Greater => categorical(i - 1),
        })
        .collect()
}

/// `count` colours sampled evenly along the severity ramp, calm first.
fn severity_styles(count: usize) -> Vec<SeriesStyle> {
    severity_colours(count).into_iter().map(SeriesStyle::solid).collect()
}

fn severity_colours(count: usize) -> Vec<RGBColor> {
    let last = (SEVERITY_RAMP.len() - 1) as f64;
    (0..count)
        .map(|i| {
            let position = if count < 2 {
                0.0
            } else {
                last * i as f64 / (count - 1) as f64
            };
            let below = position.floor() as usize;
            let above = (below + 1).min(SEVERITY_RAMP.len() - 1);
            mix(SEVERITY_RAMP[below], SEVERITY_RAMP[above], position - below as f64)
        })
        .collect()
}

fn mix(a: RGBColor, b: RGBColor, t: f64) -> RGBColor {
    let channel = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * t).round() as u8;
    RGBColor(channel(a.0, b.0), channel(a.1, b.1), channel(a.2, b.2))
}

// ---------------------------------------------------------------------------------------------
// Chart descriptions: everything drawn, independent of the backend.
// ---------------------------------------------------------------------------------------------

/// The step axis: one label per step and the steps that get a tick.
#[derive(Clone, Debug, PartialEq)]
struct StepAxis {
    labels: Vec<String>,
    ticks: Vec<usize>,
}

/// Widest run of labels that stays legible on a plot ~850 px wide.
const STEP_AXIS_PIXELS: usize = 850;

impl StepAxis {
    fn new(info: &ScenarioInfo) -> Self {
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

    fn last_step(&self) -> usize {
        self.labels.len().saturating_sub(1)
    }

    fn label(&self, step: f64) -> String {
        let index = step.round().max(0.0) as usize;
        self.labels.get(index).cloned().unwrap_or_default()
    }
}

/// Steps that get an axis label: multiples of the smallest calendar-friendly stride (every
/// quarter, half-year or year for months, ...) that keeps at most `max_ticks` labels.
fn tick_steps(steps: usize, unit: &str, max_ticks: usize) -> Vec<usize> {
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
enum Mark {
    Line,
    Area,
}

#[derive(Clone, Debug, PartialEq)]
struct LegendEntry {
    label: String,
    style: SeriesStyle,
    mark: Mark,
}

#[derive(Clone, Debug, PartialEq)]
enum Body {
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
}

/// Names of a chart CSV's leading columns, which identify a row's series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CsvKeys {
    /// `id,label`: the series of one scenario (or, for bars, the group).
    Series,
    /// `scenario,scenario_name,baseline`: one curve per scenario.
    Scenario,
    /// `outcome,outcome_label,scenario,scenario_name,baseline`: bars grouped by outcome.
    OutcomeScenario,
}

#[derive(Clone, Debug, PartialEq)]
struct Chart {
    name: String,
    title: String,
    subtitle: String,
    x_desc: String,
    y_desc: String,
    legend_title: String,
    legend: Vec<LegendEntry>,
    /// Shown instead of the data when there is nothing to plot.
    empty_note: String,
    /// The probability axis: y for curves and areas, x for bars.
    scale: PercentScale,
    body: Body,
    /// The leading columns of the chart's CSV.
    csv_keys: CsvKeys,
    /// The scenario id of the comparison baseline (empty for a single scenario's chart).
    baseline_id: String,
    /// Step labels (dates) for the CSV.
    step_labels: Vec<String>,
}

/// A probability axis from 0 to `max` percent, ticked every `step`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct PercentScale {
    max: f64,
    step: f64,
}

impl PercentScale {
    const FULL: PercentScale = PercentScale { max: 100.0, step: 10.0 };

    /// The smallest round scale holding `highest` percent with a little headroom, so that rare
    /// outcomes are not flattened against the axis.
    fn fitted(highest: f64) -> Self {
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

    fn ticks(&self) -> Vec<f64> {
        let count = (self.max / self.step).round() as usize;
        (0..=count).map(|i| i as f64 * self.step).collect()
    }

    fn label(&self, value: f64) -> String {
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
    fn is_empty(&self) -> bool {
        match &self.body {
            Body::Lines { series, .. } | Body::Stacked { series, .. } => series.is_empty(),
            Body::Bars { groups, .. } => groups.is_empty(),
        }
    }
}

const PROBABILITY: &str = "probability (%)";

fn time_desc(info: &ScenarioInfo) -> String {
    format!("time ({})", plural(&info.step_unit, 2))
}

fn runs_and_seed(summary: &Summary) -> String {
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

/// The label of the last step: "2028-05", or "month 36" without step labels.
pub fn horizon_label(info: &ScenarioInfo) -> String {
    match info.step_labels.last() {
        Some(label) if info.step_labels.len() == info.steps + 1 => label.clone(),
        _ => format!("{} {}", info.step_unit, info.steps),
    }
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
fn scenario_chart(summary: &Summary, name: &str, title: String, body: Body) -> Chart {
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

fn scenario_charts(summary: &Summary) -> Vec<Chart> {
    vec![
        escalation_chart(summary),
        ladder_chart(summary),
        outcomes_chart(summary),
        triggers_chart(summary),
    ]
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
struct Comparison<'a> {
    summaries: &'a [Summary],
    baseline: usize,
    styles: Vec<SeriesStyle>,
}

impl Comparison<'_> {
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

fn comparison_charts(summaries: &[Summary], baseline: usize) -> Vec<Chart> {
    if summaries.is_empty() {
        return Vec::new();
    }
    let baseline = baseline.min(summaries.len() - 1);
    let comparison = Comparison {
        summaries,
        baseline,
        styles: comparison_styles(summaries.len(), baseline),
    };
    let first = comparison.first();
    let mut charts = Vec::new();
    for id in shared_outcome_ids(summaries) {
        let label = find(outcome_table(first), &id).map_or(id.as_str(), |s| s.label.as_str());
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
    charts
}

// ---------------------------------------------------------------------------------------------
// Chart data as CSV.
// ---------------------------------------------------------------------------------------------

/// The chart's numbers as a tidy CSV, one row per plotted point: the keys naming the series,
/// `step`, `date`, `count`, `runs`, and `p`, `lo95`, `hi95` as fractions rounded as in every
/// table (the interval outward, so that it holds `count / runs`).
fn chart_csv(chart: &Chart) -> Result<String> {
    use crate::report::spreadsheet_safe;
    let mut out = csv::Writer::from_writer(Vec::new());
    let keys: &[&str] = match chart.csv_keys {
        CsvKeys::Series => &["id", "label"],
        CsvKeys::Scenario => &["scenario", "scenario_name", "baseline"],
        CsvKeys::OutcomeScenario => &["outcome", "outcome_label", "scenario", "scenario_name", "baseline"],
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
                        _ => vec![bar.id.clone(), spreadsheet_safe(&bar.label)],
                    };
                    row(keys, &bar.point)?;
                }
            }
        }
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}

// ---------------------------------------------------------------------------------------------
// Public entry points.
// ---------------------------------------------------------------------------------------------

/// Writes `escalation`, `ladder`, `outcomes` and `triggers` as PNG, SVG and CSV (the plotted
/// numbers) into `dir`; returns the paths written, in that order (PNG, SVG, CSV).
pub fn write_scenario_charts(summary: &Summary, dir: &Path) -> Result<Vec<PathBuf>> {
    write_charts(&scenario_charts(summary), dir)
}

/// The scenario's charts as `(name, SVG text)`, the same SVGs [`write_scenario_charts`] writes.
pub fn render_svg_charts(summary: &Summary) -> Result<Vec<(String, String)>> {
    render_svgs(&scenario_charts(summary))
}

/// [`write_comparison_against`] with the first summary as the baseline.
pub fn write_comparison(summaries: &[Summary], dir: &Path) -> Result<Vec<PathBuf>> {
    write_comparison_against(summaries, 0, dir)
}

/// Writes the comparison charts as PNG, SVG and CSV into `dir` (the caller's `output/compare`):
/// `compare_outcome_<id>` per shared outcome, `compare_rung_<level>` per shared rung, then
/// `compare_horizon`. `summaries[baseline]` is drawn as the baseline (black, thick, under the
/// others); every other scenario has the same style in every chart. Fails, writing nothing,
/// when [`check_comparable`] refuses the summaries.
pub fn write_comparison_against(summaries: &[Summary], baseline: usize, dir: &Path) -> Result<Vec<PathBuf>> {
    check_comparable(summaries).map_err(anyhow::Error::msg)?;
    write_charts(&comparison_charts(summaries, baseline), dir)
}

/// [`render_comparison_svgs_against`] with the first summary as the baseline.
pub fn render_comparison_svgs(summaries: &[Summary]) -> Result<Vec<(String, String)>> {
    render_comparison_svgs_against(summaries, 0)
}

/// The comparison charts as `(name, SVG text)`, the same SVGs [`write_comparison_against`]
/// writes.
pub fn render_comparison_svgs_against(summaries: &[Summary], baseline: usize) -> Result<Vec<(String, String)>> {
    check_comparable(summaries).map_err(anyhow::Error::msg)?;
    render_svgs(&comparison_charts(summaries, baseline))
}

fn write_charts(charts: &[Chart], dir: &Path) -> Result<Vec<PathBuf>> {
    // Rasterizing is most of the time a chart takes, and charts are independent: they are drawn
    // in parallel, then written in order.
    let files: Vec<[(PathBuf, Vec<u8>); 3]> = charts
        .par_iter()
        .map(|chart| {
            let svg = render_svg(chart)?;
            let png = rasterize(&svg).with_context(|| format!("cannot draw chart `{}`", chart.name))?;
            let file = |ext: &str| dir.join(format!("{}.{ext}", chart.name));
            Ok([
                (file("png"), png),
                (file("svg"), svg.into_bytes()),
                (file("csv"), chart_csv(chart)?.into_bytes()),
            ])
        })
        .collect::<Result<_>>()?;
    let mut written = Vec::with_capacity(3 * charts.len());
    for (path, bytes) in files.into_iter().flatten() {
        write_atomic(&path, &bytes)?;
        written.push(path);
    }
    Ok(written)
}

fn render_svgs(charts: &[Chart]) -> Result<Vec<(String, String)>> {
    charts
        .iter()
        .map(|chart| Ok((chart.name.clone(), render_svg(chart)?)))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Rendering.
// ---------------------------------------------------------------------------------------------

/// The family every chart text asks for. The embedded Noto Sans is registered under this whole
/// name, and SVG writes it as the `font-family` list, so that viewers pick Noto Sans or a face
/// of similar width before falling back to whatever their `sans-serif` is.
const FONT: &str = "Noto Sans, Arial, Helvetica, sans-serif";

/// Registers the embedded Noto Sans once as plotters' [`FONT`]: plotters' `ab_glyph` feature
/// knows only registered fonts, and the machine may have none.
fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FONT, FontStyle::Normal, ttf_noto_sans::REGULAR).is_ok());
    if ok {
        Ok(())
    } else {
        Err(anyhow!("the embedded Noto Sans font could not be loaded"))
    }
}

/// resvg's font database: the embedded Noto Sans alone, standing in for every generic family,
/// so a PNG never depends on the fonts of the machine that drew it.
fn font_database() -> Arc<resvg::usvg::fontdb::Database> {
    static DATABASE: OnceLock<Arc<resvg::usvg::fontdb::Database>> = OnceLock::new();
    DATABASE
        .get_or_init(|| {
            let mut db = resvg::usvg::fontdb::Database::new();
            db.load_font_data(ttf_noto_sans::REGULAR.to_vec());
            let family = db
                .faces()
                .next()
                .and_then(|face| face.families.first())
                .map_or_else(|| "Noto Sans".to_string(), |(name, _)| name.clone());
            db.set_sans_serif_family(family.clone());
            db.set_serif_family(family.clone());
            db.set_monospace_family(family.clone());
            db.set_cursive_family(family.clone());
            db.set_fantasy_family(family);
            Arc::new(db)
        })
        .clone()
}

fn render_svg(chart: &Chart) -> Result<String> {
    register_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        draw(&root, chart).map_err(|e| anyhow!("cannot draw chart `{}`: {e}", chart.name))?;
    }
    Ok(svg)
}

/// The SVG drawn as a PNG by resvg: the PNG shows exactly what the SVG does.
fn rasterize(svg: &str) -> Result<Vec<u8>> {
    let options = resvg::usvg::Options {
        fontdb: font_database(),
        font_family: "Noto Sans".into(),
        ..Default::default()
    };
    let tree = resvg::usvg::Tree::from_str(svg, &options)?;
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| anyhow!("a chart of {}x{} pixels cannot be drawn", size.width(), size.height()))?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(&tree, resvg::tiny_skia::Transform::identity(), &mut pixmap.as_mut());
    Ok(pixmap.encode_png()?)
}

#[cfg(test)]
fn render_png(chart: &Chart) -> Result<Vec<u8>> {
    rasterize(&render_svg(chart)?)
}

type Area<DB> = DrawingArea<DB, Shift>;
type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;
type Frame<'a, DB> = ChartContext<'a, DB, Cartesian2d<TickedAxis, TickedAxis>>;

/// A linear axis ticked exactly at `ticks`. (plotters' `WithKeyPoints` would do, but it offers
/// no label formatter for `f64` axes.)
struct TickedAxis {
    range: Range<f64>,
    ticks: Vec<f64>,
}

impl TickedAxis {
    fn new(range: Range<f64>, ticks: Vec<f64>) -> Self {
        TickedAxis { range, ticks }
    }
}

impl Ranged for TickedAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, (from, to): (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        let fraction = if span > 0.0 {
            (value - self.range.start) / span
        } else {
            0.5
        };
        from + ((to - from) as f64 * fraction).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Grid lines only at the ticks: no finer "light" lines in between.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

const LEGEND_WIDTH: u32 = 300;
const SIDE_MARGIN: i32 = 28;
const TITLE_SIZE: f64 = 29.0;
const SUBTITLE_SIZE: f64 = 19.0;
const TICK_SIZE: f64 = 18.0;
const AXIS_DESC_SIZE: f64 = 19.0;
const LEGEND_SIZE: f64 = 18.0;
const X_LABEL_AREA: u32 = 66;

/// Share of a text box that fitting and wrapping fill. Text is measured with the embedded font,
/// but an SVG viewer draws it with its own sans-serif, which may run wider.
const TEXT_SLACK: f64 = 0.85;

fn with_slack(pixels: u32) -> u32 {
    (pixels as f64 * TEXT_SLACK) as u32
}

fn text_style(size: f64, colour: &RGBColor) -> TextStyle<'_> {
    TextStyle::from((FONT, size).into_font()).color(colour)
}

/// Text width in pixels as laid out by plotters (0 if the font cannot measure it, which
/// [`register_font`] rules out before any drawing).
fn measure<DB: DrawingBackend>(area: &Area<DB>, style: &TextStyle) -> impl Fn(&str) -> u32 {
    move |text: &str| area.estimate_text_size(text, style).map_or(0, |(width, _)| width)
}

fn draw<DB: DrawingBackend>(root: &Area<DB>, chart: &Chart) -> Drawn<DB> {
    root.fill(&WHITE)?;
    let header = Header::new(root, chart);
    let (header_area, body) = root.split_vertically(header.height());
    header.draw(&header_area)?;
    let plot = if chart.legend.is_empty() {
        body
    } else {
        let (plot, legend) = body.split_horizontally(CHART_SIZE.0 - LEGEND_WIDTH);
        draw_legend(&legend, &chart.legend_title, &chart.legend)?;
        plot
    };
    let plot = plot.margin(0, 16, 16, 0);
    match &chart.body {
        Body::Lines { axis, series, styles } => draw_lines(&plot, chart, axis, series, styles)?,
        Body::Stacked { axis, series, styles } => draw_stacked(&plot, chart, axis, series, styles)?,
        Body::Bars {
            groups,
            styles,
            decimals,
        } => draw_bars(&plot, chart, groups, styles, *decimals)?,
    }
    if chart.is_empty() {
        draw_empty_note(&plot, &chart.empty_note)?;
    }
    root.present()
}

const TITLE_LINE_HEIGHT: i32 = 36;
const SUBTITLE_LINE_HEIGHT: i32 = 24;
const TITLE_MAX_LINES: usize = 3;
const SUBTITLE_MAX_LINES: usize = 2;

/// Title and subtitle wrapped to the chart's width; the header is as tall as they need (96 px
/// for one line each).
struct Header {
    title: Vec<String>,
    subtitle: Vec<String>,
}

impl Header {
    fn new<DB: DrawingBackend>(area: &Area<DB>, chart: &Chart) -> Self {
        let max_width = with_slack(CHART_SIZE.0 - 2 * SIDE_MARGIN as u32);
        let title_style = text_style(TITLE_SIZE, &TEXT);
        let subtitle_style = text_style(SUBTITLE_SIZE, &MUTED_TEXT);
        Header {
            title: wrap_evenly(&chart.title, max_width, TITLE_MAX_LINES, measure(area, &title_style)),
            subtitle: wrap_evenly(
                &chart.subtitle,
                max_width,
                SUBTITLE_MAX_LINES,
                measure(area, &subtitle_style),
            ),
        }
    }

    fn subtitle_top(&self) -> i32 {
        18 + TITLE_LINE_HEIGHT * self.title.len().max(1) as i32 + 4
    }

    fn height(&self) -> u32 {
        (self.subtitle_top() + SUBTITLE_LINE_HEIGHT * self.subtitle.len().max(1) as i32 + 14) as u32
    }

    fn draw<DB: DrawingBackend>(&self, area: &Area<DB>) -> Drawn<DB> {
        let title_style = text_style(TITLE_SIZE, &TEXT);
        for (i, line) in self.title.iter().enumerate() {
            area.draw_text(line, &title_style, (SIDE_MARGIN, 18 + TITLE_LINE_HEIGHT * i as i32))?;
        }
        let subtitle_style = text_style(SUBTITLE_SIZE, &MUTED_TEXT);
        for (i, line) in self.subtitle.iter().enumerate() {
            let y = self.subtitle_top() + SUBTITLE_LINE_HEIGHT * i as i32;
            area.draw_text(line, &subtitle_style, (SIDE_MARGIN, y))?;
        }
        Ok(())
    }
}

fn draw_empty_note<DB: DrawingBackend>(area: &Area<DB>, note: &str) -> Drawn<DB> {
    let (width, height) = area.dim_in_pixel();
    let style = text_style(22.0, &MUTED_TEXT).pos(Pos::new(HPos::Center, VPos::Center));
    area.draw_text(note, &style, (width as i32 / 2, height as i32 / 2 - 30))
}

const LEGEND_TEXT_LEFT: i32 = 54;
const LEGEND_MAX_LINES: usize = 4;

/// Font sizes a legend tries, largest first, until every entry fits.
const LEGEND_SIZES: [f64; 4] = [LEGEND_SIZE, 16.0, 14.0, 12.0];

fn draw_legend<DB: DrawingBackend>(area: &Area<DB>, title: &str, entries: &[LegendEntry]) -> Drawn<DB> {
    let (width, height) = area.dim_in_pixel();
    let text_width = with_slack(width.saturating_sub(LEGEND_TEXT_LEFT as u32 + 8));
    let bottom = height as i32 - 40;
    let top = if title.is_empty() { 14 } else { 50 };
    // Each entry wrapped at each size; the first size at which all of them fit is used.
    let layouts: Vec<(f64, Vec<Vec<String>>)> = LEGEND_SIZES
        .iter()
        .map(|&size| {
            let style = text_style(size, &TEXT);
            let lines = entries
                .iter()
                .map(|e| wrap_evenly(&e.label, text_width, LEGEND_MAX_LINES, measure(area, &style)))
                .collect();
            (size, lines)
        })
        .collect();
    let line_height = |size: f64| (size * 1.28).round() as i32;
    let total = |(size, lines): &(f64, Vec<Vec<String>>)| -> i32 {
        lines.iter().map(|l| line_height(*size) * l.len() as i32 + 12).sum()
    };
    let (size, lines) = layouts
        .iter()
        .find(|layout| top + total(layout) <= bottom)
        .or(layouts.last())
        .cloned()
        .unwrap_or((LEGEND_SIZE, Vec::new()));
    if !title.is_empty() {
        area.draw_text(title, &text_style(LEGEND_SIZE, &MUTED_TEXT), (12, 14))?;
    }
    let label_style = text_style(size, &TEXT);
    let mut y = top;
    for (shown, (entry, lines)) in entries.iter().zip(&lines).enumerate() {
        let entry_height = line_height(size) * lines.len() as i32 + 12;
        if y + entry_height > bottom {
            let more = format!("… and {} more", entries.len() - shown);
            return area.draw_text(&more, &text_style(size, &MUTED_TEXT), (12, y));
        }
        draw_legend_mark(area, entry, y + (size * 0.6) as i32)?;
        for (i, line) in lines.iter().enumerate() {
            let line_y = y + line_height(size) * i as i32;
            area.draw_text(line, &label_style, (LEGEND_TEXT_LEFT, line_y))?;
        }
        y += entry_height;
    }
    Ok(())
}

fn draw_legend_mark<DB: DrawingBackend>(area: &Area<DB>, entry: &LegendEntry, y: i32) -> Drawn<DB> {
    let style = entry.style;
    let swatch = [(8, y - 10), (46, y + 10)];
    match entry.mark {
        Mark::Line => {
            area.draw(&Rectangle::new(swatch, style.colour.mix(BAND_OPACITY).filled()))?;
            let line = vec![(8, y), (46, y)];
            let stroke = style.colour.stroke_width(style.width);
            match style.dash {
                Some((dash, gap)) => area.draw(&DashedPathElement::new(line, dash, gap, stroke))?,
                None => area.draw(&PathElement::new(line, stroke))?,
            }
            match style.marker {
                Some(marker) => draw_marker(area, (27, y), marker, style.colour),
                None => Ok(()),
            }
        }
        Mark::Area => {
            area.draw(&Rectangle::new([(12, y - 9), (42, y + 9)], style.fill.filled()))?;
            area.draw(&Rectangle::new([(12, y - 9), (42, y + 9)], AXIS.stroke_width(1)))
        }
    }
}

/// Radius of a curve's markers, in pixels.
const MARKER_RADIUS: i32 = 5;

/// A marker centred on pixel `at` of `area`, filled with `colour` inside a white rim so that it
/// stands out on any line.
fn draw_marker<DB: DrawingBackend>(area: &Area<DB>, at: (i32, i32), marker: Marker, colour: RGBColor) -> Drawn<DB> {
    let (x, y) = at;
    let shape = |r: i32| -> Vec<(i32, i32)> {
        match marker {
            Marker::Circle => (0..16)
                .map(|i| {
                    let a = i as f64 * std::f64::consts::TAU / 16.0;
                    (
                        x + (r as f64 * a.cos()).round() as i32,
                        y + (r as f64 * a.sin()).round() as i32,
                    )
                })
                .collect(),
            Marker::Square => vec![(x - r, y - r), (x + r, y - r), (x + r, y + r), (x - r, y + r)],
            Marker::Triangle => vec![(x, y - r - 2), (x + r + 1, y + r), (x - r - 1, y + r)],
            Marker::Diamond => vec![(x, y - r - 2), (x + r + 2, y), (x, y + r + 2), (x - r - 2, y)],
            Marker::TriangleDown => vec![(x, y + r + 2), (x + r + 1, y - r), (x - r - 1, y - r)],
        }
    };
    area.draw(&Polygon::new(shape(MARKER_RADIUS + 2), WHITE.filled()))?;
    area.draw(&Polygon::new(shape(MARKER_RADIUS), colour.filled()))
}

/// `text`, shortened with an ellipsis until `width` measures it at most `max_width` pixels.
fn fit(text: &str, max_width: u32, width: impl Fn(&str) -> u32) -> String {
    if width(text) <= max_width {
        return text.to_string();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while chars.pop().is_some() {
        let shortened = format!("{}…", chars.iter().collect::<String>().trim_end());
        if width(&shortened) <= max_width {
            return shortened;
        }
    }
    "…".to_string()
}

/// Splits `text` at spaces into lines that `width` measures at most `max_width` pixels (a word
/// too long for a line is cut), keeping at most `max_lines` and ending a cut text with an
/// ellipsis.
fn wrap(text: &str, max_width: u32, max_lines: usize, width: impl Fn(&str) -> u32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        if width(&candidate) <= max_width {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        current = word.to_string();
        while width(&current) > max_width && current.chars().count() > 1 {
            let head = longest_fitting_prefix(&current, max_width, &width);
            current = current[head.len()..].to_string();
            lines.push(head);
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    let max_lines = max_lines.max(1);
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            *last = fit(&format!("{last}…"), max_width, &width);
            if !last.ends_with('…') {
                last.push('…');
            }
        }
    }
    lines
}

/// Like [`wrap`], but with lines of even length: "Moscow transfers missile and / submarine
/// technology to Pyongyang" rather than a long first line and a short orphan.
fn wrap_evenly(text: &str, max_width: u32, max_lines: usize, width: impl Fn(&str) -> u32) -> Vec<String> {
    let lines = wrap(text, max_width, max_lines, &width);
    if lines.len() < 2 || lines.last().is_some_and(|l| l.ends_with('…')) {
        return lines;
    }
    let even = width(text) / lines.len() as u32;
    (even..max_width)
        .step_by(8)
        .map(|narrower| wrap(text, narrower, max_lines, &width))
        .find(|candidate| candidate.len() == lines.len() && !candidate.concat().contains('…'))
        .unwrap_or(lines)
}

/// The longest prefix (at least one character) of `word` that fits in `max_width`.
fn longest_fitting_prefix(word: &str, max_width: u32, width: impl Fn(&str) -> u32) -> String {
    let mut end = word.chars().next().map_or(0, char::len_utf8);
    for (index, c) in word.char_indices().skip(1) {
        if width(&word[..index + c.len_utf8()]) > max_width {
            break;
        }
        end = index + c.len_utf8();
    }
    word[..end].to_string()
}

/// Builds the step-by-probability frame shared by line and stacked charts and draws its mesh.
fn step_frame<'a, DB: DrawingBackend>(
    area: &'a Area<DB>,
    chart: &Chart,
    axis: &StepAxis,
) -> Result<Frame<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let ticks: Vec<f64> = axis.ticks.iter().map(|&t| t as f64).collect();
    let x_max = axis.last_step().max(1) as f64;
    let mut frame = ChartBuilder::on(area)
        .margin_left(SIDE_MARGIN - 8)
        .margin_right(30)
        .margin_top(12)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(80)
        .build_cartesian_2d(
            TickedAxis::new(0.0..x_max, ticks),
            TickedAxis::new(0.0..chart.scale.max, chart.scale.ticks()),
        )?;
    let x_label = |x: &f64| axis.label(*x);
    let y_label = |y: &f64| chart.scale.label(*y);
    frame
        .configure_mesh()
        .bold_line_style(GRID)
        .axis_style(AXIS)
        .label_style(text_style(TICK_SIZE, &TEXT))
        .axis_desc_style(text_style(AXIS_DESC_SIZE, &TEXT))
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .x_desc(chart.x_desc.as_str())
        .y_desc(chart.y_desc.as_str())
        .draw()?;
    Ok(frame)
}

/// The outline of a 95% band: along `lo` forwards, back along `hi`.
fn band_outline(series: &PlotSeries) -> Vec<(f64, f64)> {
    let forward = series.points.iter().map(|p| (p.step as f64, p.lo));
    let back = series.points.iter().rev().map(|p| (p.step as f64, p.hi));
    forward.chain(back).collect()
}

fn draw_lines<DB: DrawingBackend>(
    area: &Area<DB>,
    chart: &Chart,
    axis: &StepAxis,
    series: &[PlotSeries],
    styles: &[SeriesStyle],
) -> Drawn<DB> {
    let mut frame = step_frame(area, chart, axis)?;
    let drawn: Vec<(&PlotSeries, &SeriesStyle)> = series.iter().zip(styles).collect();
    // All bands before any line, so that no band veils another series' line.
    for (s, style) in &drawn {
        let band = Polygon::new(band_outline(s), style.colour.mix(BAND_OPACITY).filled());
        frame.draw_series(std::iter::once(band))?;
    }
    // Thick lines (the baseline) under thin ones: a curve equal to the baseline shows as a
    // coloured line inside the black one instead of disappearing.
    let mut by_width = drawn.clone();
    by_width.sort_by_key(|(_, style)| std::cmp::Reverse(style.width));
    for (s, style) in &by_width {
        let points: Vec<(f64, f64)> = s.points.iter().map(|p| (p.step as f64, p.p)).collect();
        let stroke = style.colour.stroke_width(style.width);
        match style.dash {
            Some((dash, gap)) => {
                frame.draw_series(DashedLineSeries::new(points, dash, gap, stroke))?;
            }
            None => {
                frame.draw_series(LineSeries::new(points, stroke))?;
            }
        }
    }
    // Markers last, each curve's at other steps than its neighbours', so that curves lying on
    // top of each other all stay visible.
    let marked = drawn.iter().filter(|(_, style)| style.marker.is_some()).count();
    let (base_x, base_y) = area.get_base_pixel();
    for (index, (s, style)) in drawn.iter().filter(|(_, style)| style.marker.is_some()).enumerate() {
        let Some(marker) = style.marker else { continue };
        for point in s
            .points
            .iter()
            .filter(|p| marker_at(p.step, index, marked, axis.last_step()))
        {
            let (x, y) = frame.backend_coord(&(point.step as f64, point.p));
            draw_marker(area, (x - base_x, y - base_y), marker, style.colour)?;
        }
    }
    Ok(())
}

/// Opacity of a curve's 95% band.
const BAND_OPACITY: f64 = 0.16;

/// About this many markers per curve.
const MARKERS_PER_CURVE: usize = 6;

/// Whether the `index`-th of `count` marked curves gets a marker at `step`: every `stride`
/// steps, the curves' markers shifted evenly within a stride so that they never coincide
/// (unless there are more curves than steps in a stride).
fn marker_at(step: usize, index: usize, count: usize, last_step: usize) -> bool {
    let stride = (last_step / MARKERS_PER_CURVE).max(1);
    let offset = (stride / 2 + index * stride / count.max(1)) % stride;
    step > 0 && step % stride == offset
}

/// Lower and upper edge, per step, of each series' stacked area; the last series sits on the
/// axis. Edges are capped at 100% because rounded shares may add up to slightly more.
fn stack_edges(series: &[PlotSeries]) -> Vec<Vec<(f64, f64)>> {
    let steps = series.iter().map(|s| s.points.len()).max().unwrap_or(0);
    let mut base = vec![0.0; steps];
    let mut edges = vec![Vec::new(); series.len()];
    for (index, s) in series.iter().enumerate().rev() {
        edges[index] = base
            .iter_mut()
            .enumerate()
            .map(|(t, lower)| {
                let share = s.points.get(t).map_or(0.0, |p| p.p);
                let upper = (*lower + share).min(100.0);
                let edge = (*lower, upper);
                *lower = upper;
                edge
            })
            .collect();
    }
    edges
}

fn draw_stacked<DB: DrawingBackend>(
    area: &Area<DB>,
    chart: &Chart,
    axis: &StepAxis,
    series: &[PlotSeries],
    styles: &[SeriesStyle],
) -> Drawn<DB> {
    let mut frame = step_frame(area, chart, axis)?;
    let edges = stack_edges(series);
    for (edges, colour) in edges.iter().zip(styles.iter().map(|s| s.fill)) {
        let lower = edges.iter().enumerate().map(|(t, e)| (t as f64, e.0));
        let upper = edges.iter().enumerate().rev().map(|(t, e)| (t as f64, e.1));
        let outline: Vec<(f64, f64)> = lower.chain(upper).collect();
        frame.draw_series(std::iter::once(Polygon::new(outline, colour.filled())))?;
    }
    // Thin white seams keep neighbouring light colours apart.
    for edges in edges.iter().skip(1) {
        let seam = edges.iter().enumerate().map(|(t, e)| (t as f64, e.1));
        frame.draw_series(LineSeries::new(seam, WHITE.stroke_width(1)))?;
    }
    Ok(())
}

/// Vertical placement of grouped horizontal bars on a y axis counted in bar thicknesses, 0 at
/// the bottom. Each group is its bars plus a gap; the first group is at the top; a few groups
/// are centred at a readable thickness rather than stretched into slabs.
#[derive(Clone, Copy, Debug, PartialEq)]
struct BarLayout {
    groups: usize,
    per_group: usize,
}

/// The y axis always spans at least this many bar thicknesses.
const MIN_BAR_UNITS: f64 = 10.0;

impl BarLayout {
    fn new(groups: &[BarGroup]) -> Self {
        BarLayout {
            groups: groups.len(),
            per_group: groups.iter().map(|g| g.bars.len()).max().unwrap_or(1).max(1),
        }
    }

    fn gap(&self) -> f64 {
        if self.per_group > 1 { 1.0 } else { 0.5 }
    }

    fn group_height(&self) -> f64 {
        self.per_group as f64 + self.gap()
    }

    fn units(&self) -> f64 {
        (self.groups as f64 * self.group_height()).max(MIN_BAR_UNITS)
    }

    /// Top of the first bar of `group`.
    fn group_top(&self, group: usize) -> f64 {
        let spare = self.units() - self.groups as f64 * self.group_height();
        self.units() - spare / 2.0 - self.gap() / 2.0 - group as f64 * self.group_height()
    }

    fn group_centre(&self, group: usize) -> f64 {
        self.group_top(group) - self.per_group as f64 / 2.0
    }

    /// Bottom and top of bar `index` of `group`; bars of one group are slightly apart.
    fn bar_span(&self, group: usize, index: usize) -> (f64, f64) {
        let top = self.group_top(group) - index as f64;
        let spacing = if self.per_group > 1 { 0.06 } else { 0.0 };
        (top - 1.0 + spacing, top - spacing)
    }
}

/// Widest line of a bar chart's group label; longer labels wrap onto a second line.
const MAX_BAR_LABEL_PIXELS: u32 = 380;

/// Group labels as drawn: wrapped lines, their font size, the widest line in pixels, and the
/// font size of the values printed beside the bars.
struct BarLabels {
    lines: Vec<Vec<String>>,
    size: f64,
    width: u32,
    value_size: f64,
}

/// Font size and line count follow the room each group gets, so labels never overlap.
fn bar_labels<DB: DrawingBackend>(area: &Area<DB>, groups: &[BarGroup], layout: BarLayout) -> BarLabels {
    let plot_height = area.dim_in_pixel().1.saturating_sub(X_LABEL_AREA + 12) as f64;
    let bar_pixels = plot_height / layout.units();
    let group_pixels = bar_pixels * layout.group_height();
    let size = (group_pixels * 0.8).clamp(11.0, TICK_SIZE);
    let max_lines = if group_pixels >= 2.5 * size { 2 } else { 1 };
    let style = text_style(size, &TEXT);
    let width = measure(area, &style);
    let lines: Vec<Vec<String>> = groups
        .iter()
        .map(|g| wrap_evenly(&g.label, MAX_BAR_LABEL_PIXELS, max_lines, &width))
        .collect();
    let widest = lines.iter().flatten().map(|l| width(l)).max().unwrap_or(0);
    BarLabels {
        lines,
        size,
        width: widest,
        value_size: (bar_pixels * 1.2).clamp(10.0, 17.0).min(size),
    }
}

fn draw_bars<DB: DrawingBackend>(
    area: &Area<DB>,
    chart: &Chart,
    groups: &[BarGroup],
    styles: &[SeriesStyle],
    decimals: u32,
) -> Drawn<DB> {
    let layout = BarLayout::new(groups);
    let labels = bar_labels(area, groups, layout);
    let value_style = text_style(labels.value_size, &TEXT).pos(Pos::new(HPos::Left, VPos::Center));
    let centres: Vec<f64> = (0..groups.len()).map(|g| layout.group_centre(g)).collect();
    let mut frame = ChartBuilder::on(area)
        .margin_left(SIDE_MARGIN - 8)
        .margin_right(90)
        .margin_top(12)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size((labels.width.max(40) as f64 / TEXT_SLACK) as u32 + 24)
        .build_cartesian_2d(
            TickedAxis::new(0.0..chart.scale.max, chart.scale.ticks()),
            TickedAxis::new(0.0..layout.units(), centres.clone()),
        )?;
    let x_label = |x: &f64| chart.scale.label(*x);
    // Group labels may take two lines, which axis labels cannot: they are drawn below.
    let no_label = |_: &f64| String::new();
    frame
        .configure_mesh()
        .disable_y_mesh()
        .bold_line_style(GRID)
        .axis_style(AXIS)
        .label_style(text_style(TICK_SIZE, &TEXT))
        .axis_desc_style(text_style(AXIS_DESC_SIZE, &TEXT))
        .x_label_formatter(&x_label)
        .y_label_formatter(&no_label)
        .x_desc(chart.x_desc.as_str())
        .draw()?;
    for (g, group) in groups.iter().enumerate() {
        for (j, bar) in group.bars.iter().enumerate() {
            let colour = styles.get(j).map_or_else(|| categorical(j).fill, |s| s.fill);
            let value = percent(bar.point.p / 100.0, decimals);
            draw_bar(&mut frame, bar, layout.bar_span(g, j), colour, (value, &value_style))?;
        }
    }
    draw_group_labels(area, &frame, &labels, &centres)
}

fn draw_group_labels<DB: DrawingBackend>(
    area: &Area<DB>,
    frame: &Frame<'_, DB>,
    labels: &BarLabels,
    centres: &[f64],
) -> Drawn<DB> {
    let style = text_style(labels.size, &TEXT).pos(Pos::new(HPos::Right, VPos::Center));
    let line_height = (labels.size * 1.25).round() as i32;
    let (base_x, base_y) = area.get_base_pixel();
    for (lines, centre) in labels.lines.iter().zip(centres) {
        let (x, y) = frame.backend_coord(&(0.0, *centre));
        let first = y - base_y - line_height * (lines.len() as i32 - 1) / 2;
        for (i, line) in lines.iter().enumerate() {
            let at = (x - base_x - 12, first + line_height * i as i32);
            area.draw_text(line, &style, at)?;
        }
    }
    Ok(())
}

fn draw_bar<DB: DrawingBackend>(
    frame: &mut Frame<'_, DB>,
    bar: &Bar,
    (bottom, top): (f64, f64),
    colour: RGBColor,
    (value, value_style): (String, &TextStyle),
) -> Drawn<DB> {
    let middle = (bottom + top) / 2.0;
    let cap = (top - bottom) * 0.12;
    let PlotPoint { p, lo, hi, .. } = bar.point;
    frame.draw_series(std::iter::once(Rectangle::new(
        [(0.0, bottom), (p, top)],
        colour.filled(),
    )))?;
    let whisker = WHISKER.stroke_width(2);
    frame.draw_series([
        PathElement::new(vec![(lo, middle), (hi, middle)], whisker),
        PathElement::new(vec![(lo, middle - cap), (lo, middle + cap)], whisker),
        PathElement::new(vec![(hi, middle - cap), (hi, middle + cap)], whisker),
    ])?;
    frame.draw_series(std::iter::once(
        EmptyElement::at((hi, middle)) + Text::new(value, (8, 0), value_style.clone()),
    ))?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::aggregate::Tables;
    use crate::model::{ActorInfo, OutcomeInfo, ParamInfo, TriggerInfo};

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
    fn number_formats() {
        assert_eq!(percent(0.345, 1), "34.5%");
        assert_eq!(percent(0.0, 0), "0%");
        assert_eq!(estimate_text(&estimate_of(0.345, 3), 1), "34.5% [33.8, 35.2]");
        assert_eq!(difference_pp(0.386, 0.345, 1), "+4.1 pp");
        assert_eq!(difference_pp(0.342, 0.345, 1), "-0.3 pp");
        assert_eq!(difference_pp(0.3451, 0.345, 1), "0.0 pp");
        assert_eq!(thousands(20_000), "20,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
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
        assert!(render_comparison_svgs(&[s.clone(), s]).is_ok());
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
        assert!(write_comparison(&[], dir.path()).unwrap().is_empty());
    }

    #[test]
    fn check_comparable_refuses_other_ladders_and_horizons() {
        let a = baseline();
        assert_eq!(check_comparable(&[a.clone(), variant()]), Ok(()));
        assert_eq!(check_comparable(&[]), Ok(()));

        let mut ladder = variant();
        ladder.scenario.levels.pop();
        let message = check_comparable(&[a.clone(), ladder]).unwrap_err();
        assert!(message.contains("`baseline` (Baseline (May 2025))"), "{message}");
        assert!(message.contains("`lethal_aid` (Seoul sends lethal aid)"), "{message}");
        assert!(message.contains("ladders differ"), "{message}");
        assert!(!message.contains("horizons"), "{message}");

        let longer = synthetic_summary("longer", "Three years", 36, 0.0);
        let message = check_comparable(&[a.clone(), longer]).unwrap_err();
        assert!(
            message.contains("`baseline`") && message.contains("`longer`"),
            "{message}"
        );
        assert!(
            message.contains("horizons differ (12 months from 2025-05 vs 36 months from 2025-05)"),
            "{message}"
        );

        let mut later = variant();
        later.scenario.start = Some("2026-01".into());
        let message = check_comparable(&[a.clone(), later]).unwrap_err();
        assert!(message.contains("from 2026-01"), "{message}");

        let mut weekly = variant();
        weekly.scenario.step_unit = "week".into();
        let dir = tempfile::tempdir().unwrap();
        assert!(write_comparison(&[a, weekly], dir.path()).is_err());
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
        let written = write_comparison(&[baseline(), variant()], dir.path()).unwrap();
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
        assert!(horizon.contains(
            "clash,Armed clash on the peninsula,baseline,Baseline (May 2025),false,12,2026-05,3000,20000,0.15,"
        ));
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
        write_comparison(&[a, b, c], &out.join("compare")).unwrap();
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
}
