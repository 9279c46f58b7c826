//! Verification: a fresh [`Summary`] and the expected one (or just its tallies digest) in, a
//! [`Verdict`] out, which says which table, series and step differ.
//!
//! Results are equal when their tallies digests are equal: that covers every count, including
//! ones the summary only keeps rounded. When they differ, the tables are compared cell by cell
//! on their exact counts to show where. Only numbers are pinned: the engine version, labels and
//! descriptions are not compared, though a changed scenario digest is reported.

use std::fmt;

use crate::aggregate::{Series, Summary};

/// Differing cells shown per table; the rest are only counted.
const CELLS_SHOWN: usize = 5;

/// What the results are compared against.
#[derive(Clone, Debug, PartialEq)]
pub enum Expected {
    /// A stored summary (a golden file or an earlier `summary.json`).
    Summary(Box<Summary>),
    /// A stored tallies digest (64 hex digits): says whether results differ, not where.
    Digest(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// The tallies are identical.
    Same {
        /// The scenario digest differs, though the numbers do not (e.g. a reworded label).
        scenario_changed: bool,
    },
    /// The runs cannot be compared: different seed, run count or result format.
    Incomparable(Vec<String>),
    /// The tallies differ.
    Different(Difference),
}

impl Verdict {
    pub fn is_same(&self) -> bool {
        matches!(self, Verdict::Same { .. })
    }
}

/// How two results differ.
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    pub expected_digest: String,
    pub actual_digest: String,
    pub scenario_changed: bool,
    /// Runs of both results (they are equal, or the verdict would be `Incomparable`).
    pub runs: u64,
    /// Empty when only a digest was expected.
    pub tables: Vec<TableDifference>,
    /// Mean firings per run that differ: (trigger id, expected, actual).
    pub mean_firings: Vec<(String, f64, f64)>,
    /// Whether a full summary was available to compare cells with.
    pub detailed: bool,
}

/// The differing cells of one table of the summary.
#[derive(Clone, Debug, PartialEq)]
pub struct TableDifference {
    pub table: &'static str,
    pub cells: usize,
    pub differing: usize,
    /// The first `CELLS_SHOWN` (5) differing cells, in series then step order.
    pub first: Vec<Cell>,
    /// Series ids present on one side only.
    pub only_expected: Vec<String>,
    pub only_actual: Vec<String>,
}

/// One differing cell: a series at a step, with both counts.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub series: String,
    pub label: String,
    pub step: usize,
    pub step_label: String,
    pub expected: u64,
    pub actual: u64,
}

/// Compares fresh results with the expected ones.
pub fn compare(expected: &Expected, actual: &Summary) -> Verdict {
    match expected {
        Expected::Digest(digest) => {
            if digest.eq_ignore_ascii_case(&actual.tallies_digest) {
                Verdict::Same {
                    scenario_changed: false,
                }
            } else {
                Verdict::Different(Difference {
                    expected_digest: digest.to_ascii_lowercase(),
                    actual_digest: actual.tallies_digest.clone(),
                    scenario_changed: false,
                    runs: actual.runs,
                    tables: Vec::new(),
                    mean_firings: Vec::new(),
                    detailed: false,
                })
            }
        }
        Expected::Summary(expected) => compare_summaries(expected, actual),
    }
}

fn compare_summaries(expected: &Summary, actual: &Summary) -> Verdict {
    let mut reasons = Vec::new();
    if expected.format_version != actual.format_version {
        reasons.push(format!(
            "the expected result has result format {} and this sim writes format {}: the meaning of the numbers changed",
            expected.format_version, actual.format_version
        ));
    }
    if (expected.seed, expected.runs) != (actual.seed, actual.runs) {
        reasons.push(format!(
            "the expected result has seed {} and {} runs, this run has seed {} and {} runs",
            expected.seed, expected.runs, actual.seed, actual.runs
        ));
    }
    if !reasons.is_empty() {
        return Verdict::Incomparable(reasons);
    }
    let scenario_changed = expected.scenario_digest != actual.scenario_digest;
    if expected.tallies_digest == actual.tallies_digest {
        return Verdict::Same { scenario_changed };
    }
    let (e, a) = (&expected.tables, &actual.tables);
    // `final_level` repeats the last step of `level_distribution`, and `mean_level` is computed
    // from it; comparing them too would report every difference twice.
    let tables: Vec<TableDifference> = [
        ("level_distribution", &e.level_distribution, &a.level_distribution),
        ("rung_reached", &e.rung_reached, &a.rung_reached),
        ("outcome_by", &e.outcome_by, &a.outcome_by),
        ("outcome_holds", &e.outcome_holds, &a.outcome_holds),
        ("trigger_fired_by", &e.trigger_fired_by, &a.trigger_fired_by),
    ]
    .into_iter()
    .filter_map(|(name, expected_series, actual_series)| {
        compare_table(name, expected_series, actual_series, &actual.scenario.step_labels)
    })
    .collect();
    let mean_firings = actual
        .scenario
        .triggers
        .iter()
        .zip(&actual.tables.mean_firings)
        .filter_map(|(trigger, &now)| {
            let index = expected.scenario.triggers.iter().position(|t| t.id == trigger.id)?;
            let before = *expected.tables.mean_firings.get(index)?;
            (before != now).then(|| (trigger.id.clone(), before, now))
        })
        .collect();
    Verdict::Different(Difference {
        expected_digest: expected.tallies_digest.clone(),
        actual_digest: actual.tallies_digest.clone(),
        scenario_changed,
        runs: actual.runs,
        tables,
        mean_firings,
        detailed: true,
    })
}

fn compare_table(
    table: &'static str,
    expected: &[Series],
    actual: &[Series],
    step_labels: &[String],
) -> Option<TableDifference> {
    let mut difference = TableDifference {
        table,
        cells: 0,
        differing: 0,
        first: Vec::new(),
        only_expected: Vec::new(),
        only_actual: Vec::new(),
    };
    for series in actual {
        let Some(before) = expected.iter().find(|s| s.id == series.id) else {
            difference.only_actual.push(series.id.clone());
            continue;
        };
        let steps = series.points.len().max(before.points.len());
        for step in 0..steps {
            difference.cells += 1;
            let count = |points: &[crate::aggregate::Estimate]| points.get(step).map_or(0, |e| e.count);
            let (expected_count, actual_count) = (count(&before.points), count(&series.points));
            if expected_count != actual_count {
                difference.differing += 1;
                if difference.first.len() < CELLS_SHOWN {
                    difference.first.push(Cell {
                        series: series.id.clone(),
                        label: series.label.clone(),
                        step,
                        step_label: step_labels.get(step).cloned().unwrap_or_default(),
                        expected: expected_count,
                        actual: actual_count,
                    });
                }
            }
        }
    }
    difference.only_expected = expected
        .iter()
        .filter(|s| !actual.iter().any(|a| a.id == s.id))
        .map(|s| s.id.clone())
        .collect();
    let differs =
        difference.differing > 0 || !difference.only_expected.is_empty() || !difference.only_actual.is_empty();
    differs.then_some(difference)
}

impl fmt::Display for Difference {
    /// Indented lines, one table per paragraph, no trailing newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "  tallies digest: expected {}, got {}",
            self.expected_digest, self.actual_digest
        )?;
        if !self.detailed {
            return write!(
                f,
                "\n  (only a digest was expected, so there is no cell-by-cell comparison; expect a summary.json to see one)"
            );
        }
        if self.scenario_changed {
            write!(
                f,
                "\n  the scenario changed since the expected result was stored (scenario digest differs)"
            )?;
        }
        for table in &self.tables {
            if table.differing > 0 {
                write!(
                    f,
                    "\n  {}: {} of {} cells differ",
                    table.table, table.differing, table.cells
                )?;
            } else {
                write!(f, "\n  {}:", table.table)?;
            }
            for cell in &table.first {
                write!(
                    f,
                    "\n    `{}` ({}) at step {} ({}): expected {}, got {} of {} runs",
                    cell.series, cell.label, cell.step, cell.step_label, cell.expected, cell.actual, self.runs
                )?;
            }
            if table.differing > table.first.len() {
                write!(f, "\n    ... and {} more", table.differing - table.first.len())?;
            }
            if !table.only_expected.is_empty() {
                write!(
                    f,
                    "\n    series only in the expected result: {}",
                    table.only_expected.join(", ")
                )?;
            }
            if !table.only_actual.is_empty() {
                write!(f, "\n    series only in this run: {}", table.only_actual.join(", "))?;
            }
        }
        for (trigger, expected, actual) in &self.mean_firings {
            write!(
                f,
                "\n  mean_firings: `{trigger}`: expected {expected}, got {actual} per run"
            )?;
        }
        if self.tables.is_empty() && self.mean_firings.is_empty() {
            write!(
                f,
                "\n  no table cell differs: only total trigger firings do, which the summary keeps rounded"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::summarize;
    use crate::job::{Results, RunIdentity};
    use crate::model::ScenarioInfo;
    use crate::tally::{Shape, Tallies};

    fn summary(seed: u64, tweak: impl FnOnce(&mut Tallies)) -> Summary {
        let info = ScenarioInfo {
            id: "tiny".into(),
            name: "Tiny".into(),
            description: String::new(),
            steps: 2,
            step_unit: "month".into(),
            start: None,
            step_labels: vec!["month 0".into(), "month 1".into(), "month 2".into()],
            levels: vec!["calm".into(), "crisis".into()],
            initial_level: 0,
            params: vec![],
            actors: vec![],
            triggers: vec![],
            outcomes: vec![],
            variant: None,
        };
        let mut tallies = Tallies::zero(Shape {
            steps: 2,
            levels: 2,
            outcomes: 0,
            triggers: 0,
        });
        tallies.runs = 10;
        tallies.level_at = vec![10, 0, 10, 0, 10, 0];
        tallies.max_level_at = tallies.level_at.clone();
        tweak(&mut tallies);
        let identity = RunIdentity {
            seed,
            scenario_digest: "d".into(),
        };
        summarize(&info, &identity, &Results::of_tallies(tallies))
    }

    #[test]
    fn same_tallies_are_same() {
        let expected = Expected::Summary(Box::new(summary(1, |_| {})));
        assert!(compare(&expected, &summary(1, |_| {})).is_same());
        let digest = Expected::Digest(summary(1, |_| {}).tallies_digest.to_uppercase());
        assert!(compare(&digest, &summary(1, |_| {})).is_same());
    }

    #[test]
    fn names_table_series_and_step_of_a_difference() {
        let expected = Expected::Summary(Box::new(summary(1, |_| {})));
        let actual = summary(1, |t| {
            t.level_at[4] = 7;
            t.level_at[5] = 3;
            t.max_level_at[4] = 7;
            t.max_level_at[5] = 3;
        });
        let Verdict::Different(difference) = compare(&expected, &actual) else {
            panic!("expected a difference");
        };
        let text = difference.to_string();
        assert!(text.contains("level_distribution: 2 of 6 cells differ"), "{text}");
        assert!(
            text.contains("`crisis` (crisis) at step 2 (month 2): expected 0, got 3 of 10 runs"),
            "{text}"
        );
        assert!(text.contains("rung_reached: 1 of 3 cells differ"), "{text}");
    }

    #[test]
    fn other_seed_is_not_comparable() {
        let expected = Expected::Summary(Box::new(summary(1, |_| {})));
        let Verdict::Incomparable(reasons) = compare(&expected, &summary(2, |_| {})) else {
            panic!("expected incomparable");
        };
        assert!(
            reasons[0].contains("seed 1 and 10 runs, this run has seed 2"),
            "{reasons:?}"
        );
    }
}
