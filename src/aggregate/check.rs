//! Checking a summary read back: a [`Summary`] in, what is wrong with it out.
//!
//! A summary read from a file (by `sim compare` and `--expect`) is checked by
//! [`summary_problems`] before anything uses it: a changed or damaged file is refused with what
//! is wrong in it, never trusted into a panic or a nonsense chart.

use super::{DiscordantRuns, Estimate, PairedTables, PrecursorTables, Stopping, Summary};
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
    if let Some(paths) = &summary.paths
        && problems.is_empty()
    {
        problems.extend(super::paths::path_problems(paths, &summary.scenario, summary.runs));
    }
    if let Some(lift) = &summary.lift
        && problems.is_empty()
    {
        problems.extend(super::lift::lift_problems(lift, &summary.scenario, summary.runs));
    }
    if let Some(sensitivity) = &summary.sensitivity
        && problems.is_empty()
    {
        problems.extend(super::sensitivity::problems(sensitivity, summary));
    }
    if let Some(stopping) = &summary.stopping {
        problems.extend(stopping_problems(stopping, summary.runs));
    }
    problems
}

/// A `--precision` record must describe a stop at this summary's run count, by the rule of
/// `precision` (checkpoints from `min_runs`, doubling, capped at `max_runs`).
fn stopping_problems(stopping: &Stopping, runs: u64) -> Vec<String> {
    let mut problems = Vec::new();
    if !(stopping.half_width > 0.0 && stopping.half_width < 0.5) {
        problems.push(format!(
            "`stopping.half_width` is {}, not between 0 and 0.5",
            stopping.half_width
        ));
    }
    let rule_ok = stopping.min_runs >= 1
        && stopping.min_runs <= stopping.max_runs
        && stopping.checkpoints.first() == Some(&stopping.min_runs)
        && stopping
            .checkpoints
            .windows(2)
            .all(|w| w[1] == w[0].saturating_mul(2).min(stopping.max_runs) && w[0] < w[1]);
    if !rule_ok {
        problems.push(format!(
            "`stopping.checkpoints` {:?} do not double from `min_runs` {} up to `max_runs` {}",
            stopping.checkpoints, stopping.min_runs, stopping.max_runs
        ));
    }
    if stopping.checkpoints.last() != Some(&runs) {
        problems.push(format!(
            "`stopping` stopped at {:?} runs, but the summary has {runs}",
            stopping.checkpoints.last()
        ));
    }
    if !stopping.reached && runs != stopping.max_runs {
        problems.push("`stopping.reached` is false before `max_runs`".to_string());
    }
    let widest = stopping.widest.half_width;
    if !(0.0..0.5).contains(&widest) || stopping.reached != (widest <= stopping.half_width) {
        problems.push(format!(
            "`stopping.widest.half_width` {widest} disagrees with the target {} and `reached`",
            stopping.half_width
        ));
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
    if let Some(discordant) = &paired.discordant
        && problems.is_empty()
    {
        problems.extend(discordant_problems(discordant, paired, summary));
    }
    problems
}

/// What is wrong with a variant's discordant runs: one entry per paired outcome, in order; each
/// list ascending run indices below `runs`, at most `kept`; the variant-only list holding the
/// lowest `kept` of the runs the counts say (own count by the horizon minus the paired one:
/// empty exactly when there are none); the baseline-only list at most the runs where the
/// variant's outcome did not hold, and sharing no run with the variant-only list.
fn discordant_problems(discordant: &DiscordantRuns, paired: &PairedTables, summary: &Summary) -> Vec<String> {
    let runs = summary.runs;
    let kept = discordant.kept;
    let found: Vec<&str> = discordant.outcomes.iter().map(|o| o.id.as_str()).collect();
    let expected: Vec<&str> = paired.outcome_by.iter().map(|s| s.id.as_str()).collect();
    if !(1..=1000).contains(&kept) || found != expected {
        return vec![format!(
            "`paired.discordant` must keep 1 to 1000 runs for each outcome of `paired.outcome_by` ([{}]), in its order; it has {kept} for [{}]",
            expected.join(", "),
            found.join(", ")
        )];
    }
    let mut problems = Vec::new();
    let tables = &summary.tables.outcome_by;
    for (outcome, pair) in discordant.outcomes.iter().zip(&paired.outcome_by) {
        let ascending =
            |list: &[u64]| list.len() <= kept && list.windows(2).all(|w| w[0] < w[1]) && list.iter().all(|&r| r < runs);
        let own = tables
            .iter()
            .find(|s| s.id == pair.id)
            .and_then(|s| s.points.last())
            .map_or(0, |e| e.count);
        let both = pair.both.last().copied().unwrap_or(0);
        let variant_only = own.saturating_sub(both).min(kept as u64);
        let fits = ascending(&outcome.variant_only)
            && ascending(&outcome.baseline_only)
            && outcome.variant_only.len() as u64 == variant_only
            && outcome.baseline_only.len() as u64 <= runs - own.min(runs)
            && !outcome
                .variant_only
                .iter()
                .any(|r| outcome.baseline_only.binary_search(r).is_ok());
        if !fits {
            problems.push(format!(
                "`paired.discordant` of `{}`: `variant_only` must hold the lowest {variant_only} of its runs and `baseline_only` at most {kept}, each ascending, below {runs}, and no run in both",
                outcome.id
            ));
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
        // Paths and lift that count the runs but no outcome: their own checks are in their
        // modules; here they must be present to be tampered with.
        results.paths = Some(crate::tally::paths::Paths::of_shape(shape, 10));
        let mut lift = crate::tally::lift::Lift::new(shape);
        lift.runs = 10;
        lift.never = vec![10];
        results.lift = Some(lift);
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
            (
                "`paths.outcomes` has [] where the scenario has [war]",
                Box::new(|s| s.paths.as_mut().unwrap().outcomes.clear()),
            ),
            (
                "`paths` of `war`: `triggers` must be the scenario's, and `runs` at most `sample_runs`, 10",
                Box::new(|s| s.paths.as_mut().unwrap().outcomes[0].runs = 11),
            ),
            (
                "`paths` of `war`: `triggers` must be the scenario's",
                Box::new(|s| s.paths.as_mut().unwrap().outcomes[0].triggers = vec!["elsewhere".into()]),
            ),
            (
                "`lift` has outcomes [war] and triggers [] where the scenario has [war] and [shot]",
                Box::new(|s| s.lift.as_mut().unwrap().triggers.clear()),
            ),
            (
                "`lift` of `war`: each of the 1 triggers needs two groups of at most 10 runs",
                Box::new(|s| s.lift.as_mut().unwrap().outcomes[0].never_with[0] = 11),
            ),
            (
                "`lift` of `war`: each of the 1 triggers",
                Box::new(|s| s.lift.as_mut().unwrap().outcomes[0].difference[0] = Some([0.5, 0.6, 0.7])),
            ),
        ];
        for (expected, tamper) in cases {
            let mut tampered = summary();
            tamper(&mut tampered);
            let problems = summary_problems(&tampered).join("; ");
            assert!(problems.contains(expected), "{expected}: {problems}");
        }
    }

    /// A `--precision` stop at the summary's 10 runs: checkpoints 5 and 10.
    fn stopped() -> Summary {
        let mut summary = summary();
        summary.stopping = Some(crate::aggregate::Stopping {
            half_width: 0.3,
            on: vec![],
            min_runs: 5,
            max_runs: 100,
            checkpoints: vec![5, 10],
            reached: true,
            widest: crate::aggregate::Widest {
                scenario: "tiny".into(),
                id: "war".into(),
                half_width: 0.29,
            },
        });
        summary
    }

    /// `summary()` as a variant: `war` held by the horizon in 2 of its 3 runs in the baseline
    /// too, so in 1 run in the variant only (run 4); in run 7 in the baseline only.
    fn paired_summary() -> Summary {
        use crate::aggregate::{DiscordantOutcome, PairedSeries};
        let mut summary = summary();
        let series = |id: &str, both: Vec<u64>| PairedSeries { id: id.into(), both };
        summary.paired = Some(PairedTables {
            baseline: "base".into(),
            outcome_by: vec![series("war", vec![0, 1, 2])],
            outcome_holds: vec![series("war", vec![0, 1, 1])],
            rung_reached: vec![],
            trigger_fired_by: vec![series("shot", vec![0, 3, 5])],
            discordant: Some(DiscordantRuns {
                kept: 10,
                outcomes: vec![DiscordantOutcome {
                    id: "war".into(),
                    variant_only: vec![4],
                    baseline_only: vec![7],
                }],
            }),
        });
        summary
    }

    #[test]
    fn stopping_records_are_held_to_the_rule() {
        assert_eq!(summary_problems(&stopped()), Vec::<String>::new());
        type Tamper = Box<dyn Fn(&mut crate::aggregate::Stopping)>;
        let cases: Vec<(&str, Tamper)> = vec![
            ("`stopping.half_width` is 1.3", Box::new(|s| s.half_width = 1.3)),
            (
                "do not double from `min_runs`",
                Box::new(|s| s.checkpoints = vec![5, 7, 10]),
            ),
            ("do not double from `min_runs`", Box::new(|s| s.min_runs = 4)),
            (
                "stopped at Some(5) runs, but the summary has 10",
                Box::new(|s| s.checkpoints = vec![5]),
            ),
            (
                "`stopping.reached` is false before `max_runs`",
                Box::new(|s| s.reached = false),
            ),
            ("disagrees with the target", Box::new(|s| s.widest.half_width = 0.31)),
        ];
        for (expected, tamper) in cases {
            let mut tampered = stopped();
            tamper(tampered.stopping.as_mut().unwrap());
            let problems = summary_problems(&tampered).join("; ");
            assert!(problems.contains(expected), "{expected}: {problems}");
        }
    }

    fn discordant(s: &mut Summary) -> &mut DiscordantRuns {
        s.paired.as_mut().unwrap().discordant.as_mut().unwrap()
    }

    #[test]
    fn discordant_runs_must_fit_the_paired_counts() {
        assert_eq!(summary_problems(&paired_summary()), Vec::<String>::new());
        type Tamper = Box<dyn Fn(&mut Summary)>;
        let cases: Vec<(&str, Tamper)> = vec![
            (
                "the lowest 1 of its runs",
                Box::new(|s| discordant(s).outcomes[0].variant_only.clear()),
            ),
            (
                "the lowest 1 of its runs",
                Box::new(|s| discordant(s).outcomes[0].variant_only = vec![4, 5]),
            ),
            (
                "below 10",
                Box::new(|s| discordant(s).outcomes[0].baseline_only = vec![10]),
            ),
            (
                "ascending",
                Box::new(|s| discordant(s).outcomes[0].baseline_only = vec![8, 7]),
            ),
            (
                "no run in both",
                Box::new(|s| discordant(s).outcomes[0].baseline_only = vec![4]),
            ),
            (
                "for each outcome of `paired.outcome_by` ([war])",
                Box::new(|s| discordant(s).outcomes.clear()),
            ),
            ("keep 1 to 1000 runs", Box::new(|s| discordant(s).kept = 0)),
        ];
        for (expected, tamper) in cases {
            let mut tampered = paired_summary();
            tamper(&mut tampered);
            let problems = summary_problems(&tampered).join("; ");
            assert!(problems.contains(expected), "{expected}: {problems}");
        }
    }
}
