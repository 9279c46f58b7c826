//! The paired job: a base model, its variants, a seed and a range of run indices in; each
//! model's collector, and for each variant a [`PairCollector`] that saw the variant's runs next
//! to the base's same runs, out.
//!
//! Draws are addressed by trigger and param, so run `i` of a variant and run `i` of its base
//! share their random numbers wherever the models agree: the difference between them is
//! measured run by run (common random numbers). Each batch of 64 runs is simulated for the base
//! first, its masks kept for that batch only ([`BaseRecord`]), then for each variant, whose pair
//! collector reads them step by step: memory does not grow with the run count, and the base is
//! simulated once for all its variants.

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use super::batch::Batch;
use super::collector::{Both, Collector, Sink, Step};
use super::plan::Plan;
use super::{CHUNK_RUNS, SimError};
use crate::lanes::{LANES, Simd};
use crate::model::Model;

/// What a pair collector sees of the base's runs at a step: the same runs as the variant's
/// step, lane for lane.
pub struct BaseStep<'a> {
    /// Per outcome of the base: the lanes where it holds; where it held at some step so far.
    pub outcome_holds: &'a [u64],
    pub outcome_seen: &'a [u64],
    /// Per trigger of the base: the lanes where it fired at some step so far.
    pub fired: &'a [u64],
    /// Per lane, the highest rung reached so far.
    pub max_level: &'a [usize; LANES],
}

/// Something counted over pairs of runs (a variant's and its base's, with the same index),
/// merged exactly like a [`Collector`].
pub trait PairCollector: Send + Sync + Sized {
    fn empty(&self) -> Self;

    /// Step `variant.t` of a batch of the variant's runs, with the base's same step.
    fn step(&mut self, variant: &Step<'_>, base: &BaseStep<'_>);

    /// The runs of `lanes` finished without error, in the variant and in the base.
    fn finish(&mut self, _first_run: u64, _lanes: u64) {}

    fn merge(&mut self, other: Self);
}

/// Pairs nothing: the pair collector of a job without variants.
impl PairCollector for () {
    fn empty(&self) -> Self {}

    fn step(&mut self, _variant: &Step<'_>, _base: &BaseStep<'_>) {}

    fn merge(&mut self, _other: Self) {}
}

/// The base's masks at every step of the current batch.
struct BaseRecord {
    outcomes: usize,
    triggers: usize,
    /// Per step: `outcome_holds`, then `outcome_seen`, then `fired`.
    masks: Vec<u64>,
    max_level: Vec<[usize; LANES]>,
}

impl BaseRecord {
    fn new(base: &Model) -> Self {
        let (outcomes, triggers) = (base.outcomes.len(), base.triggers.len());
        BaseRecord {
            outcomes,
            triggers,
            masks: vec![0; (base.steps + 1) * (2 * outcomes + triggers)],
            max_level: vec![[0; LANES]; base.steps + 1],
        }
    }

    fn at(&self, t: usize) -> BaseStep<'_> {
        let width = 2 * self.outcomes + self.triggers;
        let row = &self.masks[t * width..(t + 1) * width];
        let (outcome_holds, rest) = row.split_at(self.outcomes);
        let (outcome_seen, fired) = rest.split_at(self.outcomes);
        BaseStep {
            outcome_holds,
            outcome_seen,
            fired,
            max_level: &self.max_level[t],
        }
    }
}

impl Sink for BaseRecord {
    fn step(&mut self, step: &Step<'_>) {
        let width = 2 * self.outcomes + self.triggers;
        let row = &mut self.masks[step.t * width..(step.t + 1) * width];
        let (holds, rest) = row.split_at_mut(self.outcomes);
        let (seen, fired) = rest.split_at_mut(self.outcomes);
        holds.copy_from_slice(step.outcome_holds);
        seen.copy_from_slice(step.outcome_seen);
        fired.copy_from_slice(step.fired);
        self.max_level[step.t] = *step.max_level;
    }

    fn finish(&mut self, _first_run: u64, _lanes: u64) {}
}

/// Feeds a pair collector the variant's steps with the base's recorded ones.
struct AgainstBase<'a, P> {
    pair: &'a mut P,
    base: &'a BaseRecord,
}

impl<P: PairCollector> Sink for AgainstBase<'_, P> {
    #[inline]
    fn step(&mut self, step: &Step<'_>) {
        self.pair.step(step, &self.base.at(step.t));
    }

    fn finish(&mut self, first_run: u64, lanes: u64) {
        self.pair.finish(first_run, lanes);
    }
}

/// What a paired job gives: the base's collector, and per variant its own collector and its
/// pair collector.
pub type PairedResults<C, P> = (C, Vec<(C, P)>);

/// Simulates runs `first..first + count` of `base` and of every variant with the lockstep
/// engine on the current rayon pool: the base into a collector like `empty.0`, and variant `v`
/// into a collector like `empty.1[v].0` and, against the base, a pair collector like
/// `empty.1[v].1`. The models must have the same horizon. A failing run of any model stops the
/// job with the error of the lowest failing run of its batch's first failing model. `progress` is
/// told the number of runs finished (of each model). With no variants it is the plain job,
/// [`super::collect`].
pub fn collect_paired<C: Collector, P: PairCollector>(
    base: &Model,
    variants: &[&Model],
    (seed, first, count): (u64, u64, u64),
    empty: &PairedResults<C, P>,
    simd: Simd,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<PairedResults<C, P>, SimError> {
    assert!(
        variants.iter().all(|v| v.steps == base.steps) && empty.1.len() == variants.len(),
        "paired models share their horizon, and each has its collectors"
    );
    let needs = empty
        .1
        .iter()
        .fold(empty.0.needs(), |needs, (c, _)| needs.and(c.needs()));
    let chunks = count.div_ceil(CHUNK_RUNS);
    let lowest_failure = AtomicU64::new(u64::MAX);
    let plans: Vec<Plan> = std::iter::once(base)
        .chain(variants.iter().copied())
        .map(|model| Plan::new(model, needs))
        .collect();
    let fresh = || -> PairedResults<C, P> {
        (
            empty.0.empty(),
            empty.1.iter().map(|(c, p)| (c.empty(), p.empty())).collect(),
        )
    };
    // One accumulator per piece of rayon's work, not per chunk: collectors that build tables
    // (paths) are filled in place across chunks and merged once per piece.
    (0..chunks)
        .into_par_iter()
        .fold(
            || {
                let batches: Vec<Batch> = std::iter::once(base)
                    .chain(variants.iter().copied())
                    .zip(&plans)
                    .map(|(model, plan)| Batch::new(model, plan, seed, simd))
                    .collect();
                (batches, BaseRecord::new(base), Ok(fresh()))
            },
            |(mut batches, mut record, collected), chunk| {
                let Ok(mut results) = collected else {
                    // A piece stops at its first failure: its later chunks are later runs.
                    return (batches, record, collected);
                };
                let start = first + chunk * CHUNK_RUNS;
                let end = (start + CHUNK_RUNS).min(first + count);
                if start > lowest_failure.load(Ordering::Relaxed) {
                    return (batches, record, Ok(results));
                }
                let mut run = start;
                while run < end {
                    let lanes = (end - run).min(LANES as u64) as usize;
                    let (base_batch, variant_batches) = batches.split_first_mut().expect("the base's batch");
                    // The base's masks are kept only for variants to read.
                    let mut outcome = if variants.is_empty() {
                        base_batch.run(base, &plans[0], run, lanes, &mut results.0)
                    } else {
                        base_batch.run(base, &plans[0], run, lanes, &mut Both(&mut results.0, &mut record))
                    };
                    for (v, batch) in variant_batches.iter_mut().enumerate() {
                        if outcome.is_err() {
                            break;
                        }
                        let (collector, pair) = &mut results.1[v];
                        let mut against = AgainstBase { pair, base: &record };
                        outcome = batch.run(
                            variants[v],
                            &plans[1 + v],
                            run,
                            lanes,
                            &mut Both(collector, &mut against),
                        );
                    }
                    if let Err(error) = outcome {
                        lowest_failure.fetch_min(error.run, Ordering::Relaxed);
                        return (batches, record, Err(error));
                    }
                    run += lanes as u64;
                }
                progress(end - start);
                (batches, record, Ok(results))
            },
        )
        .map(|(_, _, collected)| collected)
        .reduce(
            || Ok(fresh()),
            |a, b| match (a, b) {
                (Ok(mut a), Ok(b)) => {
                    a.0.merge(b.0);
                    for ((collector, pair), (other, other_pair)) in a.1.iter_mut().zip(b.1) {
                        collector.merge(other);
                        pair.merge(other_pair);
                    }
                    Ok(a)
                }
                (Err(a), Err(b)) => Err(if a.run <= b.run { a } else { b }),
                (Err(e), _) | (_, Err(e)) => Err(e),
            },
        )
}
