//! A job: a compiled model, a seed, the study's run count and the block of runs this process
//! simulates in; what the collectors counted out. `sim run`, `sim run --shard` and `sim merge`
//! all go through it, so a study's seed and run count are settled in one place.
//!
//! [`Results`] are the collectors every run publishes (the tallies, the precursors, the paths
//! and the lift); a new analysis adds a collector here, runs in the same pass, and merges like
//! the others.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::lanes::Simd;
use crate::model::Model;
use crate::simulate::{self, Collector, SimError, Step};
use crate::tally::lift::Lift;
use crate::tally::paired::Paired;
use crate::tally::paths::Paths;
use crate::tally::precursors::Precursors;
use crate::tally::{Shape, Tallies};

/// What identifies a study besides its runs: the seed and the scenario as compiled.
pub struct RunIdentity {
    pub seed: u64,
    pub scenario_digest: String,
}

/// Runs `block` of a study of `runs` runs of `model` with `seed`, using the vector
/// instructions `simd` (which change no result).
#[derive(Clone, Debug)]
pub struct Job<'m> {
    pub model: &'m Model,
    pub seed: u64,
    pub runs: u64,
    pub block: Range<u64>,
    pub simd: Simd,
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
        }
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
        self.collect(&Results::empty(self.model), progress)
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
    pub paths: Paths,
    pub lift: Lift,
}

impl Results {
    /// No runs yet.
    pub fn empty(model: &Model) -> Self {
        let shape = Shape::of(model);
        Results {
            tallies: Tallies::zero(shape),
            precursors: Precursors::new(shape),
            paths: Paths::new(model),
            lift: Lift::new(shape),
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
            && self.analysis_is_well_formed()
    }

    /// True when the paths and lift counts have the tallies' shape and runs and add up.
    fn analysis_is_well_formed(&self) -> bool {
        let (shape, runs) = (self.tallies.shape, self.tallies.runs);
        let (paths, lift) = (&self.paths, &self.lift);
        (
            paths.steps,
            paths.triggers,
            paths.outcomes.len(),
            paths.runs,
            paths.capacity,
        ) == (
            shape.steps,
            shape.triggers,
            shape.outcomes,
            runs,
            crate::tally::paths::capacity_for(shape.outcomes),
        ) && paths.is_well_formed()
            && (lift.steps, lift.outcomes, lift.triggers, lift.runs)
                == (shape.steps, shape.outcomes, shape.triggers, runs)
            && lift.is_well_formed()
    }
}

#[cfg(test)]
impl Results {
    /// `tallies` written by hand for a test, with precursors, paths and lift that count
    /// nothing (paths made of every trigger).
    pub(crate) fn of_tallies(tallies: Tallies) -> Self {
        let shape = tallies.shape;
        let mut precursors = Precursors::new(shape);
        precursors.runs = tallies.runs;
        let mut paths = Paths::of_shape(shape);
        paths.runs = tallies.runs;
        let mut lift = Lift::new(shape);
        lift.runs = tallies.runs;
        lift.never = vec![tallies.runs; shape.triggers];
        Results {
            tallies,
            precursors,
            paths,
            lift,
        }
    }
}

impl Collector for Results {
    fn empty(&self) -> Self {
        Results {
            tallies: self.tallies.empty(),
            precursors: self.precursors.empty(),
            paths: self.paths.empty(),
            lift: self.lift.empty(),
        }
    }

    #[inline]
    fn step(&mut self, step: &Step<'_>) {
        self.tallies.step(step);
        self.precursors.step(step);
        self.paths.step(step);
        self.lift.step(step);
    }

    fn finish(&mut self, first_run: u64, lanes: u64) {
        self.tallies.finish(first_run, lanes);
        self.precursors.finish(first_run, lanes);
        self.paths.finish(first_run, lanes);
        self.lift.finish(first_run, lanes);
    }

    fn merge(&mut self, other: Self) {
        Collector::merge(&mut self.tallies, other.tallies);
        Collector::merge(&mut self.precursors, other.precursors);
        Collector::merge(&mut self.paths, other.paths);
        Collector::merge(&mut self.lift, other.lift);
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
            Results::empty(base.model),
            variants
                .iter()
                .map(|v| (Results::empty(v), Paired::new(v, base.model)))
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
