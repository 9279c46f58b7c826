//! A job: a compiled model, a seed, the study's run count and the block of runs this process
//! simulates in; what the collectors counted out. `sim run`, `sim run --shard` and `sim merge`
//! all go through it, so a study's seed and run count are settled in one place.
//!
//! [`Results`] are the collectors every run publishes (the tallies and the precursors, and
//! unless the job's [`Analysis`] is off, the sensitivity, the paths and the lift); a new
//! analysis adds a collector here, runs in the same pass, and merges like the others.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::lanes::Simd;
use crate::model::Model;
use crate::simulate::{self, Collector, Needs, SimError, Step};
use crate::tally::lift::Lift;
use crate::tally::paired::Paired;
use crate::tally::paths::Paths;
use crate::tally::precursors::Precursors;
use crate::tally::sensitivity::Sensitivity;
use crate::tally::{Shape, Tallies};

/// What identifies a study besides its runs: the seed and the scenario as compiled.
pub struct RunIdentity {
    pub seed: u64,
    pub scenario_digest: String,
}

/// Whether a job counts the analyses beside the tables (`sim run --no-analysis` turns them
/// off): the sensitivity of every outcome and rung to every uncertain param. Off, a job
/// publishes the tables alone, at the plain engine's speed; the tables are the same either way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Analysis {
    #[default]
    Full,
    Off,
}

/// Runs `block` of a study of `runs` runs of `model` with `seed`, using the vector
/// instructions `simd` (which change no result), counting the analyses `analysis` asks for.
#[derive(Clone, Debug)]
pub struct Job<'m> {
    pub model: &'m Model,
    pub seed: u64,
    pub runs: u64,
    pub block: Range<u64>,
    pub simd: Simd,
    pub analysis: Analysis,
}

impl<'m> Job<'m> {
    /// The whole study; the seed and run count default to the scenario's own.
    pub fn new(model: &'m Model, seed: Option<u64>, runs: Option<u64>) -> Self {
        let runs = runs.unwrap_or(model.default_runs);
        Job {
            model,
            seed: seed.unwrap_or(model.default_seed),
            runs,
            block: 0..runs,
            simd: Simd::detect(),
            analysis: Analysis::Full,
        }
    }

    /// The same job, counting the analyses `analysis` asks for.
    pub fn with_analysis(self, analysis: Analysis) -> Self {
        Job { analysis, ..self }
    }

    /// Only `block` of the study's runs (a shard's).
    pub fn with_block(self, block: Range<u64>) -> Self {
        debug_assert!(block.start <= block.end && block.end <= self.runs);
        Job { block, ..self }
    }

    pub fn identity(&self) -> RunIdentity {
        RunIdentity {
            seed: self.seed,
            scenario_digest: self.model.scenario_digest.clone(),
        }
    }

    /// Simulates the block into collectors like `empty`, on the current rayon pool. `progress`
    /// is told the number of runs finished, as they finish.
    pub fn collect<C: Collector>(&self, empty: &C, progress: &(dyn Fn(u64) + Sync)) -> Result<C, SimError> {
        let count = self.block.end - self.block.start;
        let runs = (self.seed, self.block.start, count);
        simulate::collect(self.model, runs, empty, self.simd, progress)
    }

    /// Simulates the block into the published collectors.
    pub fn results(&self, progress: &(dyn Fn(u64) + Sync)) -> Result<Results, SimError> {
        self.collect(&Results::new(self.model, self.analysis), progress)
    }

    /// Simulates the block into tallies only.
    pub fn tallies(&self, progress: &(dyn Fn(u64) + Sync)) -> Result<Tallies, SimError> {
        self.collect(&Tallies::zero(Shape::of(self.model)), progress)
    }
}

/// The collectors whose counts `sim run` publishes and shards exchange.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Results {
    pub tallies: Tallies,
    pub precursors: Precursors,
    /// Absent when the job's analysis is off.
    pub sensitivity: Option<Sensitivity>,
    /// Absent when the job's analysis is off.
    pub paths: Option<Paths>,
    /// Absent when the job's analysis is off.
    pub lift: Option<Lift>,
}

impl Results {
    /// No runs yet, without the analyses (for adding up counts collected elsewhere).
    pub fn empty(shape: Shape) -> Self {
        Results {
            tallies: Tallies::zero(shape),
            precursors: Precursors::new(shape),
            sensitivity: None,
            paths: None,
            lift: None,
        }
    }

    /// No runs yet of `model`, with the analyses `analysis` asks for.
    pub fn new(model: &Model, analysis: Analysis) -> Self {
        let full = analysis == Analysis::Full;
        Results {
            sensitivity: full.then(|| Sensitivity::new(model)),
            paths: full.then(|| Paths::new(model)),
            lift: full.then(|| Lift::new(Shape::of(model))),
            ..Results::empty(Shape::of(model))
        }
    }

    /// True when every table has the shape the tallies' shape implies and the precursors agree
    /// with the tallies on the shape and run count (guards merged shard files).
    pub fn is_well_formed(&self) -> bool {
        let (t, p) = (&self.tallies, &self.precursors);
        let shape = t.shape;
        t.is_well_formed()
            && (p.steps, p.stride, p.outcomes, p.triggers, p.runs)
                == (
                    shape.steps,
                    Precursors::stride_for(shape),
                    shape.outcomes,
                    shape.triggers,
                    t.runs,
                )
            && p.is_well_formed()
            && self.sensitivity.as_ref().is_none_or(|s| sensitivity_fits(s, t))
            && self.paths.as_ref().is_none_or(|p| paths_fit(p, t))
            && self.lift.as_ref().is_none_or(|l| lift_fits(l, t))
    }
}

/// Whether the paths have the tallies' shape and count no more runs (only those in the sample).
fn paths_fit(paths: &Paths, t: &Tallies) -> bool {
    let shape = t.shape;
    (paths.steps, paths.triggers, paths.outcomes.len()) == (shape.steps, shape.triggers, shape.outcomes)
        && paths.runs <= t.runs
        && paths.is_well_formed()
}

/// Whether the lift counts have the tallies' shape and runs and add up.
fn lift_fits(lift: &Lift, t: &Tallies) -> bool {
    let shape = t.shape;
    (lift.steps, lift.outcomes, lift.triggers, lift.runs) == (shape.steps, shape.outcomes, shape.triggers, t.runs)
        && lift.is_well_formed()
}

/// Whether the sensitivity counts add up and count the runs, outcomes and rungs the tallies
/// count at the horizon.
fn sensitivity_fits(s: &Sensitivity, t: &Tallies) -> bool {
    let shape = t.shape;
    let horizon = shape.steps;
    let rungs_fit = s.rungs.iter().all(|&k| k < shape.levels);
    s.is_well_formed()
        && (s.steps, s.outcomes, s.runs) == (horizon, shape.outcomes, t.runs)
        && rungs_fit
        && (s.params.is_empty()
            || (0..s.cells()).all(|c| {
                let expected = if c < s.outcomes {
                    t.outcome_by[horizon * shape.outcomes + c]
                } else {
                    let row = &t.max_level_at[horizon * shape.levels..(horizon + 1) * shape.levels];
                    row[s.rungs[c - s.outcomes]..].iter().sum()
                };
                s.happened(c) == expected
            }))
}

#[cfg(test)]
impl Results {
    /// `tallies` written by hand for a test, with precursors, paths and lift that count
    /// nothing (paths made of every trigger).
    pub(crate) fn of_tallies(tallies: Tallies) -> Self {
        let shape = tallies.shape;
        let mut precursors = Precursors::new(shape);
        precursors.runs = tallies.runs;
        Results {
            tallies,
            precursors,
            sensitivity: None,
            paths: None,
            lift: None,
        }
    }
}

impl Collector for Results {
    fn empty(&self) -> Self {
        Results {
            tallies: self.tallies.empty(),
            precursors: self.precursors.empty(),
            sensitivity: self.sensitivity.as_ref().map(Collector::empty),
            paths: self.paths.as_ref().map(Collector::empty),
            lift: self.lift.as_ref().map(Collector::empty),
        }
    }

    fn needs(&self) -> Needs {
        self.sensitivity.as_ref().map_or(Needs::default(), Collector::needs)
    }

    #[inline]
    fn step(&mut self, step: &Step<'_>) {
        self.tallies.step(step);
        self.precursors.step(step);
        if let Some(sensitivity) = &mut self.sensitivity {
            sensitivity.step(step);
        }
        if let Some(paths) = &mut self.paths {
            paths.step(step);
        }
        if let Some(lift) = &mut self.lift {
            lift.step(step);
        }
    }

    fn finish(&mut self, first_run: u64, lanes: u64) {
        self.tallies.finish(first_run, lanes);
        self.precursors.finish(first_run, lanes);
        if let Some(sensitivity) = &mut self.sensitivity {
            sensitivity.finish(first_run, lanes);
        }
        if let Some(paths) = &mut self.paths {
            paths.finish(first_run, lanes);
        }
        if let Some(lift) = &mut self.lift {
            lift.finish(first_run, lanes);
        }
    }

    fn merge(&mut self, other: Self) {
        Collector::merge(&mut self.tallies, other.tallies);
        Collector::merge(&mut self.precursors, other.precursors);
        merge_optional(&mut self.sensitivity, other.sensitivity);
        merge_optional(&mut self.paths, other.paths);
        merge_optional(&mut self.lift, other.lift);
    }
}

/// Adds an optional analysis's counts; the two sides have it or lack it together (the job's
/// [`Analysis`] decides, and shards of both kinds are refused together before merging).
fn merge_optional<C: Collector>(mine: &mut Option<C>, theirs: Option<C>) {
    match (mine, theirs) {
        (Some(mine), Some(theirs)) => mine.merge(theirs),
        (None, None) => {}
        _ => panic!("merging results with and without the analysis"),
    }
}

/// The scenarios of one `sim run`, and the one the others are compared with. When they share
/// seed, runs, block, horizon and ladder, each variant is simulated paired with the baseline
/// (`simulate::collect_paired`): run `i` of both on the same random numbers, counted pair by
/// pair, which measures the difference a variant makes far more precisely than two independent
/// estimates.
pub struct Study<'m> {
    pub jobs: Vec<Job<'m>>,
    pub baseline: usize,
}

/// A scenario's counts in a study: its results, and for a variant simulated paired with the
/// baseline, the paired counts.
#[derive(Clone, Debug, PartialEq)]
pub struct StudyResults {
    pub results: Results,
    pub paired: Option<Paired>,
}

impl Study<'_> {
    /// Why the variants cannot be paired with the baseline, if they cannot.
    pub fn unpairable(&self) -> Option<String> {
        let base = &self.jobs[self.baseline];
        let differs = |job: &Job, what: &str| {
            format!(
                "`{}` and the baseline `{}` differ in {what}",
                job.model.info.id, base.model.info.id
            )
        };
        self.jobs.iter().find_map(|job| {
            if job.seed != base.seed {
                Some(differs(job, "seed"))
            } else if (job.runs, &job.block) != (base.runs, &base.block) {
                Some(differs(job, "run count"))
            } else if job.model.steps != base.model.steps || job.model.info.levels != base.model.info.levels {
                Some(differs(job, "horizon or ladder"))
            } else {
                None
            }
        })
    }

    /// Whether the variants are simulated paired with the baseline: there are some, and nothing
    /// keeps them from it.
    pub fn paired(&self) -> bool {
        self.jobs.len() > 1 && self.unpairable().is_none()
    }

    /// Simulates every scenario, paired with the baseline when they can be, on the current
    /// rayon pool. `progress` is told the runs finished (of every scenario, when paired).
    pub fn simulate(&self, progress: &(dyn Fn(u64) + Sync)) -> Result<Vec<StudyResults>, SimError> {
        if !self.paired() {
            return self
                .jobs
                .iter()
                .map(|job| {
                    job.results(progress)
                        .map(|results| StudyResults { results, paired: None })
                })
                .collect();
        }
        let base = &self.jobs[self.baseline];
        let variants: Vec<&Model> = self
            .jobs
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != self.baseline)
            .map(|(_, job)| job.model)
            .collect();
        let empty = (
            Results::new(base.model, base.analysis),
            variants
                .iter()
                .map(|v| (Results::new(v, base.analysis), Paired::new(v, base.model)))
                .collect::<Vec<_>>(),
        );
        let runs = (base.seed, base.block.start, base.block.end - base.block.start);
        let (base_results, pairs) = simulate::collect_paired(base.model, &variants, runs, &empty, base.simd, progress)?;
        let (mut base_results, mut pairs) = (Some(base_results), pairs.into_iter());
        Ok((0..self.jobs.len())
            .map(|i| {
                if i == self.baseline {
                    let results = base_results.take().expect("one baseline");
                    StudyResults { results, paired: None }
                } else {
                    let (results, paired) = pairs.next().expect("one pair per variant");
                    StudyResults {
                        results,
                        paired: Some(paired),
                    }
                }
            })
            .collect())
    }
}
