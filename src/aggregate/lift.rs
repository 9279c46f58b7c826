//! Trigger lift published: [`Lift`] counts in, for every outcome and trigger the probability of
//! the outcome in the runs where the trigger fired on the way (before the outcome first held,
//! or at all when it did not happen) and in the runs where it never fired, and the difference
//! with Newcombe's interval for independent groups. An association in the simulated runs, not
//! a cause.
//!
//! The strongest associations of an outcome are the triggers whose interval lies furthest from
//! 0 (ties: declaration order): those the chart and the report show.

use serde::{Deserialize, Serialize};

use super::difference::independent_difference;
use super::{round_down, round_to, round_up};
use crate::model::ScenarioInfo;
use crate::tally::lift::Lift;

/// Triggers shown per outcome as its strongest associations.
pub const STRONGEST: usize = 5;

/// Numbers only, in arrays indexed by trigger: the table has outcomes x triggers cells, so ids
/// are written once (`lift.csv` has the same numbers a row each).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiftTables {
    /// The triggers, in declaration order: the order of every outcome's arrays.
    pub triggers: Vec<String>,
    /// Decimal places of the differences.
    pub decimals: u32,
    /// One entry per outcome, in declaration order.
    pub outcomes: Vec<OutcomeLift>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutcomeLift {
    pub outcome: String,
    /// Per trigger: the runs where it fired (before the outcome, or at all without it), and of
    /// them the runs where the outcome happened.
    pub fired_runs: Vec<u64>,
    pub fired_with: Vec<u64>,
    /// Per trigger: the runs where it never fired, and of them the runs with the outcome.
    pub never_runs: Vec<u64>,
    pub never_with: Vec<u64>,
    /// Per trigger: P(outcome | fired) - P(outcome | never fired) and its 95% interval, rounded
    /// outward; `None` when a group has no run.
    pub difference: Vec<Option<[f64; 3]>>,
    /// Up to [`STRONGEST`] triggers (indices), strongest first.
    pub strongest: Vec<usize>,
}

/// The published lift of `lift`, counted over runs of the scenario `info`, with differences
/// rounded to `decimals`.
pub fn lift_tables(info: &ScenarioInfo, lift: &Lift, decimals: u32) -> LiftTables {
    let outcomes = info
        .outcomes
        .iter()
        .enumerate()
        .map(|(o, outcome)| {
            let groups: Vec<_> = (0..lift.triggers).map(|i| lift.groups(o, i)).collect();
            let exact: Vec<_> = groups
                .iter()
                .map(|&((n1, x1), (n2, x2))| (n1 > 0 && n2 > 0).then(|| independent_difference(x1, n1, x2, n2)))
                .collect();
            let mut strongest: Vec<(f64, usize)> = exact
                .iter()
                .enumerate()
                .filter_map(|(i, d)| d.map(|d| (d.lo.max(-d.hi), i)))
                .collect();
            strongest.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            OutcomeLift {
                outcome: outcome.id.clone(),
                fired_runs: groups.iter().map(|g| g.0.0).collect(),
                fired_with: groups.iter().map(|g| g.0.1).collect(),
                never_runs: groups.iter().map(|g| g.1.0).collect(),
                never_with: groups.iter().map(|g| g.1.1).collect(),
                difference: exact
                    .iter()
                    .map(|d| {
                        d.map(|d| {
                            [
                                round_to(d.diff, decimals),
                                round_down(d.lo, decimals),
                                round_up(d.hi, decimals),
                            ]
                        })
                    })
                    .collect(),
                strongest: strongest.iter().take(STRONGEST).map(|&(_, i)| i).collect(),
            }
        })
        .collect();
    LiftTables {
        triggers: info.triggers.iter().map(|t| t.id.clone()).collect(),
        decimals,
        outcomes,
    }
}

/// What is wrong with a summary's lift tables read back: the outcomes and triggers must be the
/// scenario's, every group at most all runs with at most as many runs with the outcome, every
/// difference in [-1, 1] around its interval, and the strongest triggers distinct indices.
pub(super) fn lift_problems(tables: &LiftTables, info: &ScenarioInfo, runs: u64) -> Vec<String> {
    let mut problems = Vec::new();
    let trigger_ids: Vec<&str> = info.triggers.iter().map(|t| t.id.as_str()).collect();
    let found: Vec<&str> = tables.outcomes.iter().map(|o| o.outcome.as_str()).collect();
    let ids: Vec<&str> = info.outcomes.iter().map(|o| o.id.as_str()).collect();
    if tables.triggers != trigger_ids || found != ids {
        problems.push(format!(
            "`lift` has outcomes [{}] and triggers [{}] where the scenario has [{}] and [{}]",
            found.join(", "),
            tables.triggers.join(", "),
            ids.join(", "),
            trigger_ids.join(", ")
        ));
        return problems;
    }
    let n = trigger_ids.len();
    for o in &tables.outcomes {
        let lengths = [&o.fired_runs, &o.fired_with, &o.never_runs, &o.never_with]
            .iter()
            .all(|v| v.len() == n)
            && o.difference.len() == n;
        let counts = lengths
            && (0..n).all(|i| {
                o.fired_with[i] <= o.fired_runs[i]
                    && o.never_with[i] <= o.never_runs[i]
                    && o.fired_runs[i].checked_add(o.never_runs[i]).is_some_and(|t| t <= runs)
            });
        let differences = lengths
            && o.difference.iter().all(|d| {
                d.is_none_or(|[d, lo, hi]| {
                    (-1.0..=1.0).contains(&lo) && (-1.0..=1.0).contains(&hi) && lo <= d && d <= hi
                })
            });
        let strongest = o.strongest.len() <= STRONGEST
            && o.strongest
                .iter()
                .enumerate()
                .all(|(k, &i)| i < n && !o.strongest[..k].contains(&i));
        if !(counts && differences && strongest) {
            problems.push(format!(
                "`lift` of `{}`: each of the {n} triggers needs two groups of at most {runs} runs in all, each counting at most its runs with the outcome, a difference in [-1, 1] inside its interval, and `strongest` at most {STRONGEST} distinct triggers",
                o.outcome
            ));
        }
    }
    problems
}
