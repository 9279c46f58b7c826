//! The `trigger_lift` chart: for each outcome, its strongest associations with triggers (`aggregate::lift`):
//! P(outcome) in the runs where the trigger fired on the way, and in the runs where it never
//! fired, side by side with their 95% intervals. An association in the simulated runs, not a
//! cause; the chart says so.

use crate::aggregate::Summary;

use super::chart::{Body, Chart, CsvKeys, LegendEntry, Mark, PercentScale, runs_and_seed, scenario_chart};
use super::data::{Bar, BarGroup, PlotPoint};
use super::style::categorical;

/// Triggers shown per outcome.
const PER_OUTCOME: usize = 3;

/// Per outcome (declaration order), its [`PER_OUTCOME`] strongest associations: a group
/// `outcome/trigger` of two bars, `fired` and `never_fired`.
pub fn lift_groups(summary: &Summary) -> Vec<BarGroup> {
    let Some(lift) = &summary.lift else {
        return Vec::new();
    };
    let info = &summary.scenario;
    lift.outcomes
        .iter()
        .zip(&info.outcomes)
        .flat_map(|(o, outcome)| {
            o.strongest.iter().take(PER_OUTCOME).map(move |&i| {
                let trigger = &info.triggers[i];
                let bar = |id: &str, label: &str, count: u64, runs: u64| Bar {
                    id: id.into(),
                    label: label.into(),
                    point: PlotPoint::new(info.steps, count, runs),
                };
                BarGroup {
                    id: format!("{}/{}", outcome.id, trigger.id),
                    label: format!("{}: {}", outcome.id, trigger.label),
                    bars: vec![
                        bar("fired", "fired on the way", o.fired_with[i], o.fired_runs[i]),
                        bar("never_fired", "never fired", o.never_with[i], o.never_runs[i]),
                    ],
                }
            })
        })
        .collect()
}

/// The chart, when the summary has lift tables.
pub(super) fn lift_chart(summary: &Summary) -> Option<Chart> {
    summary.lift.as_ref()?;
    let info = &summary.scenario;
    let groups = lift_groups(summary);
    let highest = groups
        .iter()
        .flat_map(|g| &g.bars)
        .map(|b| b.point.hi.max(b.point.p))
        .fold(0.0, f64::max);
    let styles = vec![categorical(0), categorical(1)];
    let legend = [
        "the trigger fired before the outcome (or at all, without it)",
        "the trigger never fired",
    ]
    .iter()
    .zip(&styles)
    .map(|(label, &style)| LegendEntry {
        label: label.to_string(),
        style,
        mark: Mark::Area,
    })
    .collect();
    let title = format!("Trigger lift: P(outcome) with and without a trigger — {}", info.name);
    let body = Body::Bars {
        groups,
        styles,
        decimals: crate::format::percent_decimals(summary),
    };
    let mut chart = scenario_chart(summary, "trigger_lift", title, body);
    chart.csv_keys = CsvKeys::OutcomeTrigger;
    chart.subtitle = format!(
        "association in the simulated runs, not cause; the {PER_OUTCOME} strongest triggers per outcome; {}, whiskers: 95% Wilson intervals",
        runs_and_seed(summary)
    );
    chart.x_desc = "P(outcome by the horizon) (%)".into();
    chart.y_desc = String::new();
    chart.legend_title = "Runs in which".into();
    chart.legend = legend;
    chart.empty_note = "No trigger fired in some runs and not in others.".into();
    chart.scale = PercentScale::fitted(highest);
    Some(chart)
}
