//! Checking a summary read back: a [`Summary`] in, what is wrong with it out.
//!
//! A summary read from a file (by `sim compare` and `--expect`) is checked by
//! [`summary_problems`] before anything uses it: a changed or damaged file is refused with what
//! is wrong in it, never trusted into a panic or a nonsense chart.

use super::{Estimate, PairedTables, PrecursorTables, Summary};
use crate::compile::MAX_STEPS;

/// Most decimal places a summary read back may ask for.
const MAX_DECIMALS: u32 = 15;

/// Everything inconsistent in a summary read back from a file: what `summarize` would never
/// write. Empty for every summary `sim` writes; each entry names the field.
pub fn summary_problems(summary: &Summary) -> Vec<String> {
    let mut problems = Vec::new();
    let info = &summary.scenario;
    let runs = summary.runs;
    if runs == 0 {
        problems.push("`runs` is 0".to_string());
    }
    // A range, not `decimals_for(runs)`: a stored summary stays readable if the precision rule
    // changes, and past 15 places an f64 has no digits left to print.
    if !(1..=MAX_DECIMALS).contains(&summary.decimals) {
        problems.push(format!(
            "`decimals` is {}, not between 1 and {MAX_DECIMALS}",
            summary.decimals
        ));
    }
    if !is_scenario_id(&info.id) {
        problems.push(format!("`scenario.id` {:?} is not a scenario id", info.id));
    }
    if !(1..=MAX_STEPS).contains(&info.steps) {
        problems.push(format!(
            "`scenario.steps` is {}, not between 1 and {MAX_STEPS}",
            info.steps
        ));
        return problems;
    }
    let rows = info.steps + 1;
    if info.step_labels.len() != rows {
        problems.push(format!(
            "`scenario.step_labels` has {} entries for {} steps (expected {rows})",
            info.step_labels.len(),
            info.steps
        ));
    }
    let levels = info.levels.len();
    if levels < 2 {
        problems.push(format!("`scenario.levels` has {levels} levels (at least 2)"));
        return problems;
    }
    if info.initial_level >= levels {
        problems.push(format!(
            "`scenario.initial_level` is {} but there are {levels} levels",
            info.initial_level
        ));
    }
    let tables = &summary.tables;
    let level_ids: Vec<&str> = info.levels.iter().map(String::as_str).collect();
    let outcome_ids: Vec<&str> = info.outcomes.iter().map(|o| o.id.as_str()).collect();
    let trigger_ids: Vec<&str> = info.triggers.iter().map(|t| t.id.as_str()).collect();
    // Rungs are reported from some rung above the first up to the top.
    let reported_rungs = tables.rung_reached.len().min(levels - 1);
    for (name, series, ids, points) in [
        ("level_distribution", &tables.level_distribution, &level_ids[..], rows),
        (
            "rung_reached",
            &tables.rung_reached,
            &level_ids[levels - reported_rungs..],
            rows,
        ),
        ("outcome_by", &tables.outcome_by, &outcome_ids[..], rows),
        ("outcome_holds", &tables.outcome_holds, &outcome_ids[..], rows),
        ("trigger_fired_by", &tables.trigger_fired_by, &trigger_ids[..], rows),
        ("final_level", &tables.final_level, &level_ids[..], 1),
    ] {
        let found: Vec<&str> = series.iter().map(|s| s.id.as_str()).collect();
        if found != ids {
            problems.push(format!(
                "`tables.{name}` has the series [{}] where the scenario implies [{}]",
                found.join(", "),
                ids.join(", ")
            ));
        }
        for s in series {
            if s.points.len() != points {
                problems.push(format!(
                    "`tables.{name}` series `{}` has {} points instead of {points}",
                    s.id,
                    s.points.len()
                ));
            }
            if let Some((t, e)) = s.points.iter().enumerate().find(|(_, e)| !estimate_is_valid(e, runs)) {
                problems.push(format!(
                    "`tables.{name}` series `{}` at step {t} has count {} of {runs} runs with p = {}, interval [{}, {}]",
                    s.id, e.count, e.p, e.lo, e.hi
                ));
            }
        }
    }
    if tables.mean_level.len() != rows
        || tables
            .mean_level
            .iter()
            .any(|m| !(0.0..=(levels - 1) as f64).contains(m))
    {
        problems.push(format!(
            "`tables.mean_level` must hold {rows} mean rungs between 0 and {}",
            levels - 1
        ));
    }
    if tables.mean_firings.len() != trigger_ids.len()
        || tables
            .mean_firings
            .iter()
            .any(|m| !(0.0..=info.steps as f64).contains(m))
    {
        problems.push(format!(
            "`tables.mean_firings` must hold {} means between 0 and {}",
            trigger_ids.len(),
            info.steps
        ));
    }
    if let Some(precursors) = &summary.precursors
        && problems.is_empty()
    {
        problems.extend(precursor_problems(precursors, summary));
    }
    if let Some(paired) = &summary.paired
        && problems.is_empty()
    {
        problems.extend(paired_problems(paired, summary));
    }
    if let Some(sensitivity) = &summary.sensitivity
        && problems.is_empty()
    {
        problems.extend(super::sensitivity::problems(sensitivity, summary));
    }
    problems
}

/// What is wrong with a summary's precursor tables: the steps must be ascending up to the
/// horizon, the outcomes and triggers those of the scenario, the runs that reached each outcome
/// never decreasing and at most all runs, and every count at most those. Checked once the rest
/// of the summary is sound.
fn precursor_problems(precursors: &PrecursorTables, summary: &Summary) -> Vec<String> {
    let (info, runs) = (&summary.scenario, summary.runs);
    let mut problems = Vec::new();
    let steps = &precursors.steps;
    let ascending = steps.first() == Some(&0) && steps.windows(2).all(|w| w[0] < w[1]);
    if !ascending || steps.last() != Some(&info.steps) {
        problems.push(format!(
            "`precursors.steps` must rise from 0 to the horizon, {}",
            info.steps
        ));
        return problems;
    }
    let found: Vec<&str> = precursors.outcomes.iter().map(|o| o.outcome.as_str()).collect();
    let expected: Vec<&str> = info.outcomes.iter().map(|o| o.id.as_str()).collect();
    if found != expected {
        problems.push(format!(
            "`precursors.outcomes` has [{}] where the scenario has [{}]",
            found.join(", "),
            expected.join(", ")
        ));
        return problems;
    }
    let trigger_ids: Vec<&str> = info.triggers.iter().map(|t| t.id.as_str()).collect();
    if precursors.triggers != trigger_ids {
        problems.push(format!(
            "`precursors.triggers` is [{}] where the scenario has [{}]",
            precursors.triggers.join(", "),
            trigger_ids.join(", ")
        ));
        return problems;
    }
    let rising = |counts: &[u64]| counts.len() == steps.len() && counts.windows(2).all(|w| w[0] <= w[1]);
    for outcome in &precursors.outcomes {
        let name = &outcome.outcome;
        if !rising(&outcome.runs) || outcome.runs.last().is_some_and(|&n| n > runs) {
            problems.push(format!(
                "`precursors` of `{name}`: `runs` must hold {} counts that never decrease, up to {runs}",
                steps.len()
            ));
            continue;
        }
        let reached = outcome.runs.last().copied().unwrap_or(0);
        let counts_fit = outcome.fired_before.len() == trigger_ids.len()
            && outcome
                .fired_before
                .iter()
                .all(|counts| rising(counts) && counts.iter().zip(&outcome.runs).all(|(n, of)| n <= of));
        if !counts_fit {
            problems.push(format!(
                "`precursors` of `{name}`: `fired_before` must hold, per trigger, {} counts that never decrease and never exceed `runs`",
                steps.len()
            ));
            continue;
        }
        let horizon_fits = match &outcome.horizon {
            None => reached == 0,
            Some(shares) => {
                let per_trigger = [&shares.p, &shares.lo, &shares.hi]
                    .iter()
                    .all(|v| v.len() == trigger_ids.len());
                shares.runs == reached
                    && (1..=MAX_DECIMALS).contains(&shares.decimals)
                    && per_trigger
                    && outcome.fired_before.iter().enumerate().all(|(i, counts)| {
                        let count = counts.last().copied().unwrap_or(0);
                        let (p, lo, hi) = (shares.p[i], shares.lo[i], shares.hi[i]);
                        estimate_is_valid(&Estimate { count, p, lo, hi }, reached)
                    })
            }
        };
        if !horizon_fits {
            problems.push(format!(
                "`precursors` of `{name}`: `horizon` must give, for each trigger, a share of the {reached} runs that reached the outcome, with an interval"
            ));
        }
    }
    problems
}

/// What is wrong with a variant's paired counts: each series must be one of the variant's
/// (by id, in the table of the same name), with a count per step of at most the variant's own.
fn paired_problems(paired: &PairedTables, summary: &Summary) -> Vec<String> {
    let tables = &summary.tables;
    let mut problems = Vec::new();
    for (name, pairs, own) in [
        ("outcome_by", &paired.outcome_by, &tables.outcome_by),
        ("outcome_holds", &paired.outcome_holds, &tables.outcome_holds),
        ("rung_reached", &paired.rung_reached, &tables.rung_reached),
        ("trigger_fired_by", &paired.trigger_fired_by, &tables.trigger_fired_by),
    ] {
        for pair in pairs {
            let fits = own.iter().find(|s| s.id == pair.id).is_some_and(|series| {
                series.points.len() == pair.both.len()
                    && series.points.iter().zip(&pair.both).all(|(e, &both)| both <= e.count)
            });
            if !fits {
                problems.push(format!(
                    "`paired.{name}` series `{}` is not a series of `tables.{name}` with at most its counts at every step",
                    pair.id
                ));
            }
        }
    }
    problems
}

/// A count of at most `runs`, and finite probabilities in [0, 1] with `lo <= hi`. (Not
/// `lo <= p`: a rounded `p` of a rare event may fall below an interval written unrounded.)
pub(super) fn estimate_is_valid(e: &Estimate, runs: u64) -> bool {
    let unit = 0.0..=1.0;
    e.count <= runs && unit.contains(&e.p) && unit.contains(&e.lo) && unit.contains(&e.hi) && e.lo <= e.hi
}

/// Whether `id` is a scenario id by the rule `compile` applies ([`crate::model::ScenarioId`]):
/// an id names an output directory.
pub fn is_scenario_id(id: &str) -> bool {
    crate::model::ScenarioId::parse(id).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> Summary {
        use crate::aggregate::summarize;
        use crate::job::{Results, RunIdentity};
        use crate::model::{OutcomeInfo, ScenarioInfo, TriggerInfo};
        use crate::tally::{Shape, Tallies};
        let info = ScenarioInfo {
            id: "tiny".into(),
            name: "Tiny".into(),
            description: String::new(),
            steps: 2,
            step_unit: "month".into(),
            start: None,
            step_labels: vec!["month 0".into(), "month 1".into(), "month 2".into()],
            levels: vec!["calm".into(), "tense".into(), "crisis".into()],
            initial_level: 0,
            params: vec![],
            actors: vec![],
            triggers: vec![TriggerInfo {
                id: "shot".into(),
                label: "A shot".into(),
                actor: String::new(),
            }],
            outcomes: vec![OutcomeInfo {
                id: "war".into(),
                label: "War".into(),
            }],
            variant: None,
        };
        let shape = Shape {
            steps: 2,
            levels: 3,
            outcomes: 1,
            triggers: 1,
        };
        let mut tallies = Tallies::zero(shape);
        tallies.runs = 10;
        tallies.level_at = vec![10, 0, 0, 6, 4, 0, 5, 3, 2];
        tallies.max_level_at = vec![10, 0, 0, 6, 4, 0, 4, 4, 2];
        tallies.outcome_holds = vec![0, 1, 2];
        tallies.outcome_by = vec![0, 1, 3];
        tallies.trigger_fired_by = vec![0, 4, 6];
        tallies.trigger_firings = vec![7];
        let identity = RunIdentity {
            seed: 1,
            scenario_digest: "d".into(),
        };
        let mut results = Results::of_tallies(tallies);
        // `war` first holds in one run at step 1 and in two at step 2; `shot` fired before it
        // in one of each.
        results.precursors.first_held = vec![0, 1, 2];
        results.precursors.fired_before = vec![0, 1, 1];
        summarize(&info, &identity, &results)
    }

    #[test]
    fn summaries_sim_writes_have_no_problems() {
        assert_eq!(summary_problems(&summary()), Vec::<String>::new());
    }

    #[test]
    fn tampered_summary_fields_are_each_named() {
        type Tamper = Box<dyn Fn(&mut Summary)>;
        let cases: Vec<(&str, Tamper)> = vec![
            ("`decimals` is 1000000", Box::new(|s| s.decimals = 1_000_000)),
            ("`runs` is 0", Box::new(|s| s.runs = 0)),
            ("`scenario.id`", Box::new(|s| s.scenario.id = "../x".into())),
            ("`scenario.steps` is 0", Box::new(|s| s.scenario.steps = 0)),
            (
                "`scenario.steps` is 18446744073709551615",
                Box::new(|s| s.scenario.steps = usize::MAX),
            ),
            (
                "`scenario.step_labels` has 2 entries",
                Box::new(|s| {
                    s.scenario.step_labels.pop();
                }),
            ),
            (
                "`scenario.levels` has 1 levels",
                Box::new(|s| s.scenario.levels.truncate(1)),
            ),
            (
                "`scenario.initial_level` is 7",
                Box::new(|s| s.scenario.initial_level = 7),
            ),
            (
                "`tables.level_distribution` has the series",
                Box::new(|s| {
                    s.tables.level_distribution.pop();
                }),
            ),
            (
                "`tables.outcome_by` series `war` has 2 points",
                Box::new(|s| {
                    s.tables.outcome_by[0].points.pop();
                }),
            ),
            (
                "`tables.outcome_holds` has the series [peace]",
                Box::new(|s| {
                    s.tables.outcome_holds[0].id = "peace".into();
                }),
            ),
            (
                "`tables.trigger_fired_by` series `shot` at step 1 has count 11 of 10 runs",
                Box::new(|s| {
                    s.tables.trigger_fired_by[0].points[1].count = 11;
                }),
            ),
            (
                "`tables.rung_reached` series `crisis` at step 2",
                Box::new(|s| {
                    s.tables.rung_reached[1].points[2].p = 1.5;
                }),
            ),
            (
                "`tables.final_level` series `calm` at step 0",
                Box::new(|s| {
                    s.tables.final_level[0].points[0].lo = 0.9;
                    s.tables.final_level[0].points[0].hi = 0.8;
                }),
            ),
            ("`tables.mean_level`", Box::new(|s| s.tables.mean_level[1] = 3.5)),
            ("`tables.mean_firings`", Box::new(|s| s.tables.mean_firings.clear())),
            (
                "`precursors.steps` must rise from 0 to the horizon, 2",
                Box::new(|s| s.precursors.as_mut().unwrap().steps = vec![0, 2, 1]),
            ),
            (
                "`precursors.outcomes` has [] where the scenario has [war]",
                Box::new(|s| s.precursors.as_mut().unwrap().outcomes.clear()),
            ),
            (
                "`precursors` of `war`: `runs` must hold 3 counts that never decrease, up to 10",
                Box::new(|s| s.precursors.as_mut().unwrap().outcomes[0].runs[1] = 5),
            ),
            (
                "`precursors` of `war`: `fired_before` must hold, per trigger, 3 counts",
                Box::new(|s| s.precursors.as_mut().unwrap().outcomes[0].fired_before[0][1] = 2),
            ),
            (
                "`precursors.triggers` is [] where the scenario has [shot]",
                Box::new(|s| s.precursors.as_mut().unwrap().triggers.clear()),
            ),
            (
                "`precursors` of `war`: `horizon` must give, for each trigger, a share of the 3 runs",
                Box::new(|s| {
                    s.precursors.as_mut().unwrap().outcomes[0]
                        .horizon
                        .as_mut()
                        .unwrap()
                        .runs = 9
                }),
            ),
            (
                "`precursors` of `war`: `horizon` must give",
                Box::new(|s| s.precursors.as_mut().unwrap().outcomes[0].horizon.as_mut().unwrap().hi[0] = 1.5),
            ),
        ];
        for (expected, tamper) in cases {
            let mut tampered = summary();
            tamper(&mut tampered);
            let problems = summary_problems(&tampered).join("; ");
            assert!(problems.contains(expected), "{expected}: {problems}");
        }
    }
}
