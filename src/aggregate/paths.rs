//! Escalation paths published: [`Paths`] counts in, each outcome's most frequent paths out,
//! with their share of the runs where the outcome happened, a Wilson interval, the typical
//! date of each element and a sentence that reads them.
//!
//! Paths are ranked by runs, ties by the path's own order (shorter first, then by the
//! triggers' declaration order), so the ranking is the same for any thread count and shard
//! split. Every distinct path of the runs counted (`sample_runs`: the first
//! [`crate::tally::paths::SAMPLE_RUNS`], or all of a smaller study) is counted exactly, so the
//! ranking is that of those runs; the share's interval is over them.

use serde::{Deserialize, Serialize};

use super::ShareEstimate;
use crate::model::ScenarioInfo;
use crate::tally::paths::{MAX_LEN, Paths};

/// Paths shown per outcome.
pub const TOP_PATHS: usize = 10;

/// Each outcome's most frequent paths.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PathTables {
    /// The runs paths are counted in: runs `0..sample_runs`, all of them when the study has no
    /// more.
    pub sample_runs: u64,
    /// Triggers kept of a path; a longer one ends in "more".
    pub max_len: usize,
    /// One entry per outcome, in declaration order.
    pub outcomes: Vec<OutcomePathTable>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutcomePathTable {
    pub outcome: String,
    /// The triggers paths are made of: those that write the ladder or what the outcome reads.
    pub triggers: Vec<String>,
    /// True when none does, so every trigger counts.
    pub all_triggers: bool,
    /// Runs in which the outcome happened, of the `sample_runs`.
    pub runs: u64,
    /// Distinct paths they took.
    pub distinct: usize,
    /// The most frequent paths, most frequent first.
    pub top: Vec<PathEstimate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PathEstimate {
    /// Trigger ids, in the order they first fired.
    pub triggers: Vec<String>,
    /// True when the path went on past `max_len` triggers.
    pub more: bool,
    /// The median step at which each trigger first fired, in the runs on this path.
    pub typical_steps: Vec<usize>,
    /// Its runs, of the runs in which the outcome happened.
    pub share: ShareEstimate,
    /// The path in words: "A (typically 2025-09), then B (2026-01)".
    pub sentence: String,
}

/// The published paths of `paths`, counted over runs of the scenario `info`.
pub fn path_tables(info: &ScenarioInfo, paths: &Paths) -> PathTables {
    let outcomes = info
        .outcomes
        .iter()
        .zip(&paths.outcomes)
        .map(|(outcome, counted)| {
            let mut ranked: Vec<_> = counted.paths.iter().collect();
            // Sorting is stable and the map is in path order: ties stay in path order.
            ranked.sort_by_key(|(_, count)| std::cmp::Reverse(count.runs));
            let top: Vec<PathEstimate> = ranked
                .iter()
                .take(TOP_PATHS)
                .map(|(key, count)| {
                    let (triggers, more) = Paths::triggers_of(key);
                    let typical_steps: Vec<usize> = count
                        .median_steps(triggers.len())
                        .into_iter()
                        .map(|s| s as usize)
                        .collect();
                    PathEstimate {
                        triggers: triggers
                            .iter()
                            .map(|&i| info.triggers[usize::from(i)].id.clone())
                            .collect(),
                        more,
                        sentence: sentence(info, triggers, &typical_steps, more),
                        typical_steps,
                        share: ShareEstimate::new(count.runs, counted.reached),
                    }
                })
                .collect();
            OutcomePathTable {
                outcome: outcome.id.clone(),
                triggers: counted
                    .relevant
                    .iter()
                    .map(|&i| info.triggers[usize::from(i)].id.clone())
                    .collect(),
                all_triggers: counted.fallback,
                runs: counted.reached,
                distinct: counted.paths.len(),
                top,
            }
        })
        .collect();
    PathTables {
        sample_runs: paths.runs,
        max_len: MAX_LEN,
        outcomes,
    }
}

/// A label as it reads after "then": an opening article in lower case ("then a clash"), any
/// other word as written, since labels open with names ("then Moscow answers").
fn mid_sentence(label: &str) -> String {
    match label.split_once(' ') {
        Some((first, rest)) if ["A", "An", "The"].contains(&first) => format!("{} {rest}", first.to_lowercase()),
        _ => label.to_string(),
    }
}

/// A path in words, from the trigger labels and the step labels.
fn sentence(info: &ScenarioInfo, triggers: &[u16], steps: &[usize], more: bool) -> String {
    if triggers.is_empty() {
        return "none of the triggers that move it fired first".to_string();
    }
    let mut text = String::new();
    for (k, (&i, &step)) in triggers.iter().zip(steps).enumerate() {
        let label = &info.triggers[usize::from(i)].label;
        let when = info.step_labels.get(step).map_or("?", String::as_str);
        if k == 0 {
            text.push_str(&format!("{label} (typically {when})"));
        } else {
            text.push_str(&format!(", then {} ({when})", mid_sentence(label)));
        }
    }
    if more {
        text.push_str(", then more");
    }
    text
}

/// What is wrong with a summary's path tables read back: the outcomes and triggers must be the
/// scenario's, each path made of distinct counted triggers with a step each, and every share a
/// count of the runs that reached the outcome, at most all runs.
pub(super) fn path_problems(tables: &PathTables, info: &ScenarioInfo, runs: u64) -> Vec<String> {
    let mut problems = Vec::new();
    let found: Vec<&str> = tables.outcomes.iter().map(|o| o.outcome.as_str()).collect();
    let ids: Vec<&str> = info.outcomes.iter().map(|o| o.id.as_str()).collect();
    if found != ids {
        problems.push(format!(
            "`paths.outcomes` has [{}] where the scenario has [{}]",
            found.join(", "),
            ids.join(", ")
        ));
        return problems;
    }
    if tables.sample_runs > runs {
        problems.push(format!(
            "`paths.sample_runs` is {}, more than the {runs} runs",
            tables.sample_runs
        ));
        return problems;
    }
    let is_trigger = |id: &String| info.triggers.iter().any(|t| &t.id == id);
    for o in &tables.outcomes {
        let name = &o.outcome;
        if !o.triggers.iter().all(is_trigger) || o.runs > tables.sample_runs {
            problems.push(format!(
                "`paths` of `{name}`: `triggers` must be the scenario's, and `runs` at most `sample_runs`, {}",
                tables.sample_runs
            ));
            continue;
        }
        let path_ok = |p: &PathEstimate| {
            let distinct = p.triggers.iter().enumerate().all(|(k, t)| !p.triggers[..k].contains(t));
            let share = &p.share;
            distinct
                && p.triggers.len() <= tables.max_len
                && p.triggers.iter().all(|t| o.triggers.contains(t))
                && p.typical_steps.len() == p.triggers.len()
                && p.typical_steps.iter().all(|&s| s <= info.steps)
                && share.runs == o.runs
                && share.count <= o.runs
                && [share.p, share.lo, share.hi].iter().all(|x| (0.0..=1.0).contains(x))
                && share.lo <= share.hi
        };
        if o.top.len() > TOP_PATHS || !o.top.iter().all(path_ok) {
            problems.push(format!(
                "`paths` of `{name}`: `top` must hold at most {TOP_PATHS} paths of distinct counted triggers, each with a step per trigger and a share of the {} runs that reached the outcome",
                o.runs
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::mid_sentence;

    #[test]
    fn a_label_after_then_keeps_its_names_and_lowers_its_article() {
        assert_eq!(mid_sentence("A show-of-force crisis"), "a show-of-force crisis");
        assert_eq!(mid_sentence("The clash spreads"), "the clash spreads");
        assert_eq!(mid_sentence("Moscow answers"), "Moscow answers");
        assert_eq!(mid_sentence("Annexation"), "Annexation");
    }
}
