//! Stopping at a target precision: a study and a [`Target`] in; the study's results at the first
//! checkpoint where every headline interval is narrow enough (or at the most runs allowed) out,
//! with a [`Stopping`] record of the rule and where it stopped.
//!
//! The rule is deterministic, so the same seed and target give the same run count and the same
//! bytes on any thread count: the study is simulated in blocks that end at fixed checkpoints
//! (`min_runs`, then doubling, up to `max_runs`), and is checked only there. Runs `0..n` are the
//! first `n` runs of any longer study, so stopping at `n` gives exactly what `sim run --runs n`
//! gives; the blocks are merged as shards are.
//!
//! Looking at the data to decide when to stop makes the final intervals slightly optimistic;
//! checking only at a few doubling checkpoints from a minimum keeps that small (docs/cli.md).

use crate::aggregate::{Stopping, Widest, summarize, wilson};
use crate::job::{Job, Study, StudyResults};
use crate::model::ScenarioInfo;
use crate::simulate::{Collector, SimError};

/// The fewest runs `--precision` simulates unless `--min-runs` says otherwise.
pub const DEFAULT_MIN_RUNS: u64 = 10_000;
/// The most runs `--precision` simulates unless `--max-runs` says otherwise.
pub const DEFAULT_MAX_RUNS: u64 = 10_000_000;

/// What `--precision` asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The widest half-width allowed, `(hi95 - lo95) / 2`, as a probability.
    pub half_width: f64,
    /// The outcome or rung ids that must be that precise; empty: every outcome and rung.
    pub on: Vec<String>,
    pub min_runs: u64,
    pub max_runs: u64,
}

impl Target {
    /// Why the target cannot be used, if it cannot: the half-width must be a probability above
    /// 0 and below 0.5, and the run counts in order.
    pub fn check(&self) -> Result<(), String> {
        if !(self.half_width > 0.0 && self.half_width < 0.5) {
            return Err(format!(
                "--precision must be a half-width between 0 and 0.5 (a probability: 0.005 is ±0.5 pp), found {}",
                self.half_width
            ));
        }
        if self.min_runs == 0 {
            return Err("--min-runs must be at least 1".into());
        }
        if self.max_runs < self.min_runs {
            return Err(format!(
                "--max-runs ({}) is below --min-runs ({})",
                self.max_runs, self.min_runs
            ));
        }
        Ok(())
    }

    /// The run counts at which the rule looks: `min_runs`, doubling, and `max_runs` last.
    pub fn checkpoints(&self) -> Vec<u64> {
        let mut points = vec![self.min_runs];
        while let Some(&last) = points.last()
            && last < self.max_runs
        {
            points.push(last.saturating_mul(2).min(self.max_runs));
        }
        points
    }

    /// Ids of `--precision-on` that no scenario has as an outcome or rung, each with the
    /// closest that exists (for "did you mean").
    pub fn unknown_ids(&self, infos: &[&ScenarioInfo]) -> Vec<(String, Option<String>)> {
        let known: Vec<&str> = infos
            .iter()
            .flat_map(|info| {
                info.outcomes
                    .iter()
                    .map(|o| o.id.as_str())
                    .chain(info.levels.iter().map(String::as_str))
            })
            .collect();
        self.on
            .iter()
            .filter(|id| !known.contains(&id.as_str()))
            .map(|id| (id.clone(), crate::diagnostic::closest(id, &known).map(str::to_string)))
            .collect()
    }
}

/// The widest headline interval of a study's results: every outcome's P(held by the horizon)
/// and every rung's P(reached by the horizon), or those named in `on`.
fn widest(study: &Study, results: &[StudyResults], runs: u64, on: &[String]) -> Widest {
    let mut widest = Widest {
        scenario: String::new(),
        id: String::new(),
        half_width: -1.0,
    };
    for (job, result) in study.jobs.iter().zip(results) {
        // The identity is seed and scenario: the same for every block of the study.
        let summary = summarize(&job.model.info, &job.identity(), &result.results);
        let horizon = summary.tables.outcome_by.iter().chain(&summary.tables.rung_reached);
        for series in horizon.filter(|s| on.is_empty() || on.contains(&s.id)) {
            let count = series.points.last().expect("steps 0..=horizon").count;
            let (lo, hi) = wilson(count, runs);
            // Six places are plenty for a half-width and keep the record readable.
            let half_width = crate::aggregate::round_up((hi - lo) / 2.0, 6);
            if half_width > widest.half_width {
                widest = Widest {
                    scenario: job.model.info.id.clone(),
                    id: series.id.clone(),
                    half_width,
                };
            }
        }
    }
    widest
}

/// `study` as a study of `runs` runs, simulating `block` of them.
fn at_block<'m>(study: &Study<'m>, runs: u64, block: std::ops::Range<u64>) -> Study<'m> {
    Study {
        jobs: study
            .jobs
            .iter()
            .map(|job| Job {
                runs,
                block: block.clone(),
                ..job.clone()
            })
            .collect(),
        baseline: study.baseline,
    }
}

/// Simulates `study` (whose jobs' seeds are settled; their run counts are ignored) block by
/// block up to the checkpoints of `target`, until every headline interval is at most
/// `target.half_width` wide or `max_runs` is reached. Returns the study as it stopped (its jobs'
/// runs set to the run count used), its results, and the record of the stop. `progress` is told
/// the runs finished, as [`Study::simulate`] tells it.
pub fn simulate<'m>(
    study: &Study<'m>,
    target: &Target,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Study<'m>, Vec<StudyResults>, Stopping), SimError> {
    let mut results: Option<Vec<StudyResults>> = None;
    let mut checked = Vec::new();
    let mut done = 0;
    for end in target.checkpoints() {
        let more = at_block(study, end, done..end).simulate(progress)?;
        results = Some(match results {
            None => more,
            Some(mut so_far) => {
                for (sum, add) in so_far.iter_mut().zip(more) {
                    sum.results.merge(add.results);
                    if let (Some(sum), Some(add)) = (&mut sum.paired, &add.paired) {
                        sum.add(add);
                    }
                }
                so_far
            }
        });
        done = end;
        checked.push(end);
        let widest = widest(study, results.as_ref().expect("simulated"), end, &target.on);
        let reached = widest.half_width <= target.half_width;
        if reached || end == target.max_runs {
            let stopped = at_block(study, end, 0..end);
            let stopping = Stopping {
                half_width: target.half_width,
                on: target.on.clone(),
                min_runs: target.min_runs,
                max_runs: target.max_runs,
                checkpoints: checked,
                reached,
                widest,
            };
            return Ok((stopped, results.expect("simulated"), stopping));
        }
    }
    unreachable!("the last checkpoint is max_runs")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(min_runs: u64, max_runs: u64) -> Target {
        Target {
            half_width: 0.01,
            on: vec![],
            min_runs,
            max_runs,
        }
    }

    #[test]
    fn checkpoints_double_from_the_minimum_and_end_at_the_maximum() {
        assert_eq!(
            target(10_000, 100_000).checkpoints(),
            [10_000, 20_000, 40_000, 80_000, 100_000]
        );
        assert_eq!(target(10_000, 10_000).checkpoints(), [10_000]);
        assert_eq!(target(3, 12).checkpoints(), [3, 6, 12]);
        assert_eq!(
            target(u64::MAX / 2 + 1, u64::MAX).checkpoints(),
            [u64::MAX / 2 + 1, u64::MAX]
        );
    }

    #[test]
    fn nonsense_targets_are_refused() {
        for half_width in [0.0, -0.1, 0.5, 1.3, f64::NAN] {
            let t = Target {
                half_width,
                ..target(10, 100)
            };
            assert!(t.check().unwrap_err().contains("between 0 and 0.5"), "{half_width}");
        }
        assert!(target(100, 10).check().unwrap_err().contains("below --min-runs"));
        assert!(target(0, 10).check().is_err());
        assert!(target(10, 100).check().is_ok());
    }
}
