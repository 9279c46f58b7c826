//! What each chart plots, pulled out of summaries: pure, no drawing.
//!
//! In: one [`Summary`], or the summaries of a comparison. Out: [`PlotSeries`] (curves over
//! steps), [`Bar`]s and [`BarGroup`]s holding `count / runs` and the unrounded Wilson interval in
//! percent, never the summary's rounded values, so tests can compare them with the summary
//! without reading images.

use crate::aggregate::{Series, Summary, wilson};

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
    pub(super) fn new(step: usize, count: u64, runs: u64) -> Self {
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

pub(super) fn find<'a>(table: &'a [Series], id: &str) -> Option<&'a Series> {
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
    shared_ids(summaries, Summary::outcome_table)
}

/// Levels whose "rung reached" curve every scenario has (rungs above each initial level).
pub fn shared_rungs(summaries: &[Summary]) -> Vec<String> {
    shared_ids(summaries, Summary::rung_table)
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
    per_scenario_series(summaries, Summary::outcome_table, outcome_id)
}

/// The `compare_rung_<level>` chart: each scenario's P(rung >= `level` reached by t).
pub fn compare_rung_series(summaries: &[Summary], level: &str) -> Vec<PlotSeries> {
    per_scenario_series(summaries, Summary::rung_table, level)
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
            let label = find(first.outcome_table(), id)?.label.clone();
            let bars = summaries
                .iter()
                .filter_map(|s| bar(&s.scenario.id, &s.scenario.name, find(s.outcome_table(), id)?, s.runs))
                .collect();
            Some(BarGroup {
                id: id.clone(),
                label,
                bars,
            })
        })
        .collect()
}
