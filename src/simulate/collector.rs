//! The collector seam: what both engines tell a [`Collector`] about the runs they simulate.
//!
//! In: each step of a batch of up to 64 runs, as a [`Step`] (lane masks and slot values; bit
//! `l` of a mask is run `first_run + l`), and the end of each batch that finished without error.
//! Out: whatever the collector counts. The lockstep engine feeds a batch of 64 runs at a time
//! and the run-by-run engine one run at a time (lane 0 only); a collector that counts the same
//! thing in both cases collects the same result from both engines, which the tests check for
//! every collector.
//!
//! The job gives every piece of parallel work its own collector ([`Collector::empty`]) and adds
//! them up with [`Collector::merge`]. For results that do not depend on the thread count or the
//! shard split, a collector keeps integer counts (or another exact, order-free sum); `Tallies`
//! is one such collector, and `(A, B)` collects with both `A` and `B`.

use crate::lanes::{LANES, Lanes};
use crate::model::SLOT_ESCALATION;

/// What a collector needs from the engine beyond what every run computes anyway. Asking for
/// more never changes a drawn value: draws are addressed, so a param drawn early has the value
/// it would have had when drawn late.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// Every param's value in the slots from step 0 on. Without it, the lockstep engine draws a
    /// param that only probabilities read when one of them is first needed in a run, and a
    /// run that never needs it leaves its slot at 0.
    pub params: bool,
    /// Every trigger's `since.` slot kept current. Without it, the lockstep engine keeps only
    /// those some expression of the model reads.
    pub since: bool,
    /// Every trigger's `count.` and `fired.` slots kept current. Without it, the lockstep
    /// engine keeps only those some expression reads, and the counts of triggers that may fire
    /// more than once but not without bound (`repeat = 3`), which it needs itself.
    pub counts: bool,
}

impl Needs {
    /// What either `self` or `other` needs.
    pub fn and(self, other: Needs) -> Needs {
        Needs {
            params: self.params || other.params,
            since: self.since || other.since,
            counts: self.counts || other.counts,
        }
    }
}

/// Step `t` of a batch of runs, after its firings and effects (step 0: the initial state, after
/// the params are drawn). A mask may have bits outside `lanes` (lanes of the last batch of a job
/// that hold no run): a collector intersects it with `lanes`.
#[derive(Clone, Copy)]
pub struct Step<'a> {
    pub t: usize,
    /// The run of lane 0.
    pub first_run: u64,
    /// The lanes holding runs of this batch.
    pub lanes: u64,
    /// `slots[s][l]`: slot `s` in lane `l` (the model's `slot_names` name them). A param only
    /// probabilities read, and a `since.`, `count.` or `fired.` no expression reads, hold their
    /// values only for a collector that [`Needs`] them.
    pub slots: &'a [Lanes],
    /// Per lane, the highest rung reached at steps `0..=t`.
    pub max_level: &'a [usize; LANES],
    /// Per outcome: the lanes where it holds at step `t`; where it held at some step `0..=t`;
    /// where it holds at step `t` for the first time.
    pub outcome_holds: &'a [u64],
    pub outcome_seen: &'a [u64],
    pub outcome_first: &'a [u64],
    /// Per trigger: the lanes where it fired at step `t` (none at step 0); where it fired at
    /// some step `0..=t`.
    pub firing: &'a [u64],
    pub fired: &'a [u64],
}

impl Step<'_> {
    /// The rung of the escalation ladder in `lane`.
    #[inline]
    pub fn level(&self, lane: usize) -> usize {
        super::index_of(self.slots[SLOT_ESCALATION as usize][lane])
    }
}

/// What an engine feeds: the steps of a batch, then its end. Every [`Collector`] is one; the
/// paired job also feeds borrowed adapters that are not collectors of their own.
pub trait Sink {
    fn step(&mut self, step: &Step<'_>);
    fn finish(&mut self, first_run: u64, lanes: u64);
}

impl<C: Collector> Sink for C {
    #[inline]
    fn step(&mut self, step: &Step<'_>) {
        Collector::step(self, step);
    }

    fn finish(&mut self, first_run: u64, lanes: u64) {
        Collector::finish(self, first_run, lanes);
    }
}

/// Two sinks fed the same steps, for borrowed adapters (two collectors are a tuple collector).
pub(super) struct Both<'a, A, B>(pub(super) &'a mut A, pub(super) &'a mut B);

impl<A: Sink, B: Sink> Sink for Both<'_, A, B> {
    #[inline]
    fn step(&mut self, step: &Step<'_>) {
        self.0.step(step);
        self.1.step(step);
    }

    fn finish(&mut self, first_run: u64, lanes: u64) {
        self.0.finish(first_run, lanes);
        self.1.finish(first_run, lanes);
    }
}

/// Something counted over runs: fed step by step by an engine, merged exactly.
pub trait Collector: Send + Sync + Sized {
    /// An empty collector of the same shape, for another piece of work.
    fn empty(&self) -> Self;

    /// What it reads beyond what every run computes; nothing by default.
    fn needs(&self) -> Needs {
        Needs::default()
    }

    /// Step `step.t` of a batch; steps come in order, `0..=steps`, one batch after another.
    fn step(&mut self, step: &Step<'_>);

    /// The runs of `lanes` (bit `l`: run `first_run + l`) finished without error. A batch with
    /// a failed run is never finished: the job fails, and what was collected is dropped.
    fn finish(&mut self, _first_run: u64, _lanes: u64) {}

    /// Adds what `other` collected (over other runs).
    fn merge(&mut self, other: Self);
}

impl<A: Collector, B: Collector> Collector for (A, B) {
    fn empty(&self) -> Self {
        (self.0.empty(), self.1.empty())
    }

    fn needs(&self) -> Needs {
        self.0.needs().and(self.1.needs())
    }

    #[inline]
    fn step(&mut self, step: &Step<'_>) {
        self.0.step(step);
        self.1.step(step);
    }

    fn finish(&mut self, first_run: u64, lanes: u64) {
        self.0.finish(first_run, lanes);
        self.1.finish(first_run, lanes);
    }

    fn merge(&mut self, other: Self) {
        self.0.merge(other.0);
        self.1.merge(other.1);
    }
}

/// Collects nothing: for a replay that only an [`super::Observer`] watches.
impl Collector for () {
    fn empty(&self) -> Self {}

    fn step(&mut self, _step: &Step<'_>) {}

    fn merge(&mut self, _other: Self) {}
}

/// The bits of `mask`, lowest first, as lane indices.
pub fn lanes_of(mut mask: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (mask != 0).then(|| {
            let lane = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            lane
        })
    })
}
