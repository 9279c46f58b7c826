//! The lockstep engine: a [`Model`], a seed and a batch of up to 64 consecutive runs in; each
//! of their steps shown to a [`Collector`] out, 64 lanes at a time: exactly the runs the
//! run-by-run engine (`one_run`) gives.
//!
//! Every run of a batch applies the step semantics at the same step, so work that does not
//! depend on a run's history is done for all of them at once: `when`s, probabilities and
//! outcomes are evaluated over all 64 lanes ([`Program::eval_mask`], [`Program::eval_lanes`]:
//! plain loops the compiler turns into SIMD), and sets of runs are 64-bit masks (bit `l` is run
//! `first + l`). What is one run's own is done lane by lane: params, firing tests, firings and
//! their effects, delays.
//!
//! The work is in proportion to what changes, not to the size of the model:
//! - A `when`, probability or outcome keeps its last value until a slot it reads changes in
//!   some lane (`Plan::slot_watchers`). `t` and `since.X` advance every step, but a program
//!   that only compares them with constants (`since.x <= 1`) can change only when they cross
//!   one (`Plan::advance`). A probability whose inputs changed in a few lanes is evaluated in
//!   those lanes only. A slot that many programs read (`Plan::wide`: a ladder every trigger
//!   compares) instead notes the lanes where it changed, and marks all its readers changed
//!   there once per evaluation, however many firings change it: the cost per trigger and step
//!   does not grow with the model.
//! - A condition's leaf comparing a slot with a constant (or reading it as a truth value) keeps
//!   its 64-lane mask up to date as the slot is set, lane by lane, with the same watchers that
//!   mark the lane changed (`Plan::kept`): evaluating the condition then reads the mask instead
//!   of comparing 64 lanes. `t`, the `since.` counts, params and wide slots change otherwise,
//!   and their leaves are compared.
//! - Triggers out of `repeat` or cooling down are skipped without a look at their `when`.
//! - A firing test `u < p` is `x < rng::threshold(p)` on the raw firing draw. Its top 16 bits,
//!   a half-word of the trigger's block, decide it but for about one test in 65,536 (then its
//!   low bits are drawn, `settle_ties`): the 32 tests of a lane's block are a 32-bit word
//!   (`rng::tests_below`), and a step's answers for the 64 lanes are one bit of each word
//!   ([`bit_of_each`]). The blocks a step needs are computed together, 8 at a time
//!   ([`Key::pass`]), one per trigger and lane every 32 steps; a probability of 0 or 1 needs no
//!   draw.
//! - A param that only probabilities read is drawn in a lane when one of them is first needed
//!   there (`Plan::lazy_params`): most runs never need the probabilities of the rarer
//!   triggers. Draws are addressed, so the value is the one an early draw gives.
//!
//! On a processor with AVX2 the steps are compiled for it (`Batch::run_avx2`), not only the
//! intrinsics; elsewhere (another processor, or `SIM_SIMD=sse2`) the same code runs compiled
//! for the target's baseline, with the same results.
//!
//! Buffers are sized once per worker and reused for every batch; only a lane's list of pending
//! delayed firings can grow, when it holds more than it ever has (its capacity is kept).

mod simd;

use self::simd::{bit_of_each, find_passing, lanes_differing};
use super::collector::{Sink, Step, lanes_of};
use super::plan::{Bits, Plan};
use super::{
    SimError, betas, delay_of, effect_error, effect_result, index_of, param_value, probability_error, value_of,
};
use crate::eval::{KeptMasks, Node};
use crate::lanes::{Interval, LANES, Lanes, Simd, lanes_in};
use crate::model::{Model, SLOT_ESCALATION, SLOT_T};
use crate::rng::{self, Addressed, BLOCK_TESTS, Block, Key, LOW_DRAWS, MAX_LANES, Sequence};

/// At most this many lanes to evaluate a probability in, it is evaluated lane by lane rather
/// than in all 64 at once. Results do not depend on it.
const FEW_LANES: u32 = 8;

/// One pass of the block function on `at`, into `out`: the blocks, in `at`'s order.
fn pass_of<'a>(key: &Key, at: &[(u64, u64)], out: &'a mut [Block; MAX_LANES]) -> &'a [Block] {
    key.pass(at, out);
    &out[..at.len()]
}

/// Per-worker state of the lockstep engine, reused for every batch.
pub(super) struct Batch {
    /// The job's vector instructions.
    simd: Simd,
    key: Key,
    /// Delay draws.
    rng: Addressed,
    betas: Vec<Option<rand_distr::Beta<f64>>>,
    /// `slots[s][l]`: slot `s` in lane `l`.
    slots: Vec<Lanes>,
    /// Per trigger: the lanes where it may fire (not out of `repeat`, not cooling down), where
    /// it has fired, where it is eligible this step, and where it fires this step.
    active: Vec<u64>,
    fired: Vec<u64>,
    eligible: Vec<u64>,
    firing: Vec<u64>,
    /// `cooled[t * triggers + i]`: the lanes where trigger `i`'s cooldown ends at step `t`.
    cooled: Vec<u64>,
    /// Per trigger, its probability in each lane.
    probabilities: Vec<Lanes>,
    /// Per trigger, from its probability: the lanes where it is outside [0, 1], > 0, and 1.
    invalid: Vec<u64>,
    positive: Vec<u64>,
    certain: Vec<u64>,
    /// Per trigger, the lanes where its probability was computed with its lazy params drawn.
    valid: Vec<u64>,
    /// Per trigger: the lanes holding the block of the current step's firing tests;
    /// `passing[i][l]`, the tests of that block which pass in lane `l` (`rng::tests_below`);
    /// and the lanes where some test of the block is tied, left to the low bits.
    held: Vec<u64>,
    passing: Vec<[u32; LANES]>,
    tied: Vec<u64>,
    /// Per trigger, the held lanes whose `passing` and `tied` predate their probability: they
    /// are found again when the trigger is next tested there, not at every change.
    outdated_tests: Vec<u64>,
    /// Delayed firings not yet applied, per lane: (landing step, trigger), in firing order; and
    /// `landing[t]`, the lanes with some landing at step `t`.
    pending: Vec<Vec<(usize, usize)>>,
    landing: Vec<u64>,
    /// The block number where each trigger's firing draws start (`rng::locate`), and each
    /// param's; `fire_blocks[i * LANES + l]`, the current block of trigger `i`'s draws in lane
    /// `l`, if `held[i]` has the lane; `missing`, the `i * LANES + l` whose current block is
    /// to be computed before this step's tests, and `fetched[i]`, those lanes as a mask.
    fire_first: Vec<u64>,
    param_first: Vec<u64>,
    fire_blocks: Vec<Block>,
    missing: Vec<usize>,
    fetched: Vec<u64>,
    /// `drawn[b]`: the lanes where lazy param `b` (`Plan::lazy_params`) is drawn;
    /// `lazy_bit[p]`, param `p`'s `b` if it is lazy; `to_draw`, the (lane, param) to draw
    /// before this step's probabilities are evaluated.
    drawn: Vec<u64>,
    lazy_bit: Vec<Option<usize>>,
    to_draw: Vec<(usize, usize)>,
    /// The highest level of each lane so far; the lanes where each outcome held at some step
    /// so far (step 0 included), and where it holds for the first time at the current step.
    max_level: [usize; LANES],
    seen: Vec<u64>,
    first_holds: Vec<u64>,
    /// Programs (numbered as in `Plan`) to evaluate again in every lane: `t` or a `since.`
    /// crossed a constant they compare it with, a firing reset a `since.` they read, or the
    /// batch starts. `changed[p]`: the lanes
    /// where a slot program `p` reads changed since it was last evaluated there; a probability
    /// with few such lanes is evaluated in those lanes only. The last values of the `when`s of
    /// triggers and outcomes.
    stale: Bits,
    changed: Vec<u64>,
    /// The wide slots (`Plan::wide`) set since their readers were last marked changed, as a
    /// list, and per slot the lanes where they were set.
    touched_slots: Vec<u32>,
    touched: Vec<u64>,
    when_holds: Vec<u64>,
    outcome_holds: Vec<u64>,
    /// The masks of the conditions' leaves the plan keeps (`Plan::kept`), by node, and one
    /// more that no condition reads (`Plan::no_leaf`).
    leaf_masks: Vec<u64>,
    /// The run of lane 0; the lanes in use and not failed; the error of the lowest failed lane.
    first: u64,
    live: u64,
    error: Option<(usize, SimError)>,
}

impl Batch {
    pub(super) fn new(model: &Model, plan: &Plan, seed: u64, simd: Simd) -> Self {
        let triggers = model.triggers.len();
        let slots = model.initial_slots.len();
        Batch {
            simd,
            key: Key::with_simd(seed, simd),
            rng: Addressed::new(seed),
            betas: betas(model),
            slots: vec![[0.0; LANES]; slots],
            active: vec![0; triggers],
            fired: vec![0; triggers],
            eligible: vec![0; triggers],
            firing: vec![0; triggers],
            cooled: vec![0; (model.steps + 2) * triggers],
            probabilities: vec![[0.0; LANES]; triggers],
            invalid: vec![0; triggers],
            positive: vec![0; triggers],
            certain: vec![0; triggers],
            valid: vec![0; triggers],
            held: vec![0; triggers],
            passing: vec![[0; LANES]; triggers],
            tied: vec![0; triggers],
            outdated_tests: vec![0; triggers],
            pending: (0..LANES)
                .map(|_| Vec::with_capacity(model.triggers.iter().filter(|t| t.delay_max > 0).count() * 4))
                .collect(),
            landing: vec![0; model.steps + 2],
            fire_first: model
                .triggers
                .iter()
                .map(|t| rng::locate_test(t.fire_region, 0))
                .collect(),
            fire_blocks: vec![[0; 16]; triggers * LANES],
            missing: Vec::with_capacity(triggers * LANES),
            fetched: vec![0; triggers],
            param_first: model.params.iter().map(|p| rng::locate(p.region, 0).0).collect(),
            drawn: vec![0; 64],
            lazy_bit: {
                let mut bits = vec![None; model.params.len()];
                for (b, &p) in plan.lazy_params.iter().enumerate() {
                    bits[p] = Some(b);
                }
                bits
            },
            to_draw: Vec::with_capacity(model.params.len() * LANES),
            max_level: [0; LANES],
            seen: vec![0; model.outcomes.len()],
            first_holds: vec![0; model.outcomes.len()],
            stale: Bits(Vec::new()),
            changed: vec![0; plan.words * 64],
            touched_slots: Vec::with_capacity(slots),
            touched: vec![0; slots],
            when_holds: vec![0; triggers],
            outcome_holds: vec![0; model.outcomes.len()],
            leaf_masks: vec![0; model.code.len() + 1],
            first: 0,
            live: 0,
            error: None,
        }
    }

    /// Simulates runs `first..first + count` (`count <= LANES`) into `collector`, or gives the
    /// error of the lowest run that fails.
    pub(super) fn run(
        &mut self,
        model: &Model,
        plan: &Plan,
        first: u64,
        count: usize,
        collector: &mut impl Sink,
    ) -> Result<(), SimError> {
        #[cfg(target_arch = "x86_64")]
        if self.simd.avx2() {
            // SAFETY: a `Simd` allows AVX2 only on a processor that has it.
            return unsafe { self.run_avx2(model, plan, first, count, collector) };
        }
        self.run_steps(model, plan, first, count, collector)
    }

    /// [`Batch::run`] compiled for AVX2, so that the compiler may use it throughout the steps
    /// (the 64-lane loops, fills, copies) and not only in the intrinsics: 4% of the time of a
    /// run of the shipped baseline, 5% on the repeating bench model (docs/performance.md). A
    /// target feature reaches only code inlined into the function that has it, hence the
    /// steps' `inline(always)`. Results are the same bits: the same operations in the same
    /// order, as Rust never fuses or reorders floating-point operations.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn run_avx2(
        &mut self,
        model: &Model,
        plan: &Plan,
        first: u64,
        count: usize,
        collector: &mut impl Sink,
    ) -> Result<(), SimError> {
        self.run_steps(model, plan, first, count, collector)
    }

    /// The steps of [`Batch::run`].
    #[inline(always)]
    fn run_steps(
        &mut self,
        model: &Model,
        plan: &Plan,
        first: u64,
        count: usize,
        collector: &mut impl Sink,
    ) -> Result<(), SimError> {
        debug_assert!((1..=LANES).contains(&count));
        self.first = first;
        self.live = u64::MAX >> (LANES - count);
        self.error = None;
        for (lanes, &value) in self.slots.iter_mut().zip(&plan.start_slots) {
            lanes.fill(value);
        }
        self.draw_params(model, plan);
        for &(node, slot, watcher) in &plan.kept_leaves {
            let inside = lanes_in(&self.slots[slot as usize], watcher.interval, self.simd);
            self.leaf_masks[node as usize] = if watcher.negated { !inside } else { inside };
        }
        let triggers = model.triggers.len();
        self.active.fill(self.live);
        self.fired.fill(0);
        self.firing.fill(0);
        self.cooled.fill(0);
        self.held.fill(0);
        self.outdated_tests.fill(0);
        // NaN in every lane: the first evaluation of each probability changes every lane.
        for probabilities in &mut self.probabilities {
            probabilities.fill(f64::NAN);
        }
        self.invalid.fill(u64::MAX);
        self.positive.fill(0);
        self.certain.fill(0);
        self.landing.fill(0);
        for pending in &mut self.pending {
            pending.clear();
        }
        self.seen.fill(0);
        self.stale.0.clear();
        self.stale.0.resize(plan.words, u64::MAX);
        self.changed.fill(0);
        // Every step ends with `touch_wide`, so no batch leaves a wide slot noted.
        debug_assert!(self.touched_slots.is_empty());
        self.record(model, plan, 0, collector);

        for t in 1..=model.steps {
            self.slots[SLOT_T as usize].fill(value_of(t));
            plan.advance(0, t, &mut self.stale);
            self.land_delayed(model, plan, t);
            // `since.` of the triggers that have fired, and cooldowns that end now.
            for (i, trigger) in model.triggers.iter().enumerate() {
                let fired = self.fired[i];
                if fired != 0 && plan.since_read[i] {
                    // A firing set it to 0 (`fire`, which marked what that changes), so it only
                    // ever grows by one here, which matters only where it crosses a constant
                    // some program compares it with (`Plan::advance`). In many lanes, all 64
                    // at once: adding 0 leaves the others as they are, bit for bit (no
                    // `since.` is ever -0).
                    let since = &mut self.slots[trigger.since_slot as usize];
                    if fired.count_ones() <= FEW_LANES {
                        for lane in lanes_of(fired) {
                            since[lane] += 1.0;
                            let n = index_of(since[lane]);
                            if plan.moves[(1 + i) * plan.row_len + n] {
                                plan.advance(1 + i, n, &mut self.stale);
                            }
                        }
                    } else {
                        for (l, value) in since.iter_mut().enumerate() {
                            *value += f64::from(u8::from(fired >> l & 1 == 1));
                        }
                        plan.advance_lanes(1 + i, since, fired, &mut self.stale, self.simd);
                    }
                }
                self.active[i] |= self.cooled[t * triggers + i];
            }
            self.touch_wide(plan);
            self.evaluate(model, plan, t);
            self.draw(model, t);
            self.fire(model, plan, t);
            self.touch_wide(plan);
            self.record(model, plan, t, collector);
        }
        match self.error.take() {
            Some((_, error)) => Err(error),
            None => {
                collector.finish(first, self.live);
                Ok(())
            }
        }
    }

    /// Marks stale the programs that read `slot`.
    #[inline]
    fn touch(&mut self, plan: &Plan, slot: u32) {
        for (stale, readers) in self.stale.0.iter_mut().zip(plan.readers(slot)) {
            *stale |= readers;
        }
    }

    /// Sets `slot` in `lane`, and marks the lane changed for the programs for which the change
    /// may matter (`Watcher::changes`). Bit for bit: -0 replaces 0 (`1 / x` tells them apart),
    /// as in the run-by-run engine.
    #[inline(always)]
    fn set(&mut self, plan: &Plan, slot: u32, lane: usize, value: f64) {
        let old = std::mem::replace(&mut self.slots[slot as usize][lane], value);
        if old.to_bits() != value.to_bits() && !plan.slot_watchers[slot as usize].is_empty() {
            if plan.wide[slot as usize] {
                if self.touched[slot as usize] == 0 {
                    self.touched_slots.push(slot);
                }
                self.touched[slot as usize] |= 1 << lane;
            } else {
                self.mark_changed(plan, slot, lane, old, value);
            }
        }
    }

    /// Marks changed, in the lanes where they were set, the readers of the wide slots set since
    /// the last call (`Plan::wide`).
    #[inline(always)]
    fn touch_wide(&mut self, plan: &Plan) {
        while let Some(slot) = self.touched_slots.pop() {
            let lanes = std::mem::take(&mut self.touched[slot as usize]);
            // `readers` is a set of programs, a word of 64 at a time.
            for (word, &readers) in plan.readers(slot).iter().enumerate() {
                for bit in lanes_of(readers) {
                    self.changed[64 * word + bit] |= lanes;
                }
            }
        }
    }

    /// Marks `lane` changed for the programs reading `slot` for which a change from `old` to
    /// `new` may matter, and sets the lane's bit of the leaf masks the watchers keep.
    #[inline(always)]
    fn mark_changed(&mut self, plan: &Plan, slot: u32, lane: usize, old: f64, new: f64) {
        for watcher in &plan.slot_watchers[slot as usize] {
            let changes = watcher.changes(old, new);
            self.changed[watcher.program] |= u64::from(changes) << lane;
            let mask = &mut self.leaf_masks[watcher.leaf as usize];
            *mask = *mask & !(1 << lane) | u64::from(watcher.interval.contains(new) != watcher.negated) << lane;
        }
    }

    /// Takes program `program`'s marks: whether it is to be evaluated again in some lane.
    #[inline]
    fn take_stale(&mut self, program: usize) -> bool {
        let changed = std::mem::take(&mut self.changed[program]);
        self.take_stale_everywhere(program) || changed != 0
    }

    /// Takes program `program`'s mark for every lane: whether it had one.
    #[inline]
    fn take_stale_everywhere(&mut self, program: usize) -> bool {
        let word = &mut self.stale.0[program / 64];
        let bit = 1 << (program % 64);
        let was = *word & bit != 0;
        *word &= !bit;
        was
    }

    fn fail(&mut self, lane: usize, error: SimError) {
        self.live &= !(1 << lane);
        if self.error.as_ref().is_none_or(|(failed, _)| lane < *failed) {
            self.error = Some((lane, error));
        }
    }

    /// The params drawn when a batch starts, in every lane: those not drawn lazily.
    #[inline(always)]
    fn draw_params(&mut self, model: &Model, plan: &Plan) {
        self.drawn.fill(0);
        for lane in lanes_of(self.live) {
            let eager = plan.drawn_params.iter().filter(|&&p| self.lazy_bit[p].is_none());
            self.to_draw.extend(eager.map(|&p| (lane, p)));
        }
        self.draw_queued(model);
    }

    /// Draws param `p` in lane `lane` for each `(lane, p)` in `to_draw`, computing the first
    /// blocks of their draws together, a pass of the block function at a time; empties it.
    #[inline(always)]
    fn draw_queued(&mut self, model: &Model) {
        let to_draw = std::mem::take(&mut self.to_draw);
        let mut pass = [[0; 16]; MAX_LANES];
        // A pass is `lanes` wide, which is less than `MAX_LANES` without AVX2.
        for group in to_draw.chunks(self.key.lanes()) {
            let mut at = [(0, 0); MAX_LANES];
            for (at, &(lane, p)) in at.iter_mut().zip(group) {
                *at = (self.first + lane as u64, self.param_first[p]);
            }
            for (&queued, block) in group.iter().zip(pass_of(&self.key, &at[..group.len()], &mut pass)) {
                self.set_param(model, queued, block);
            }
        }
        // Kept, with its capacity: a batch allocates nothing.
        self.to_draw = to_draw;
        self.to_draw.clear();
    }

    /// Draws param `p` in lane `lane` from `block`, the first block of its draws there.
    fn set_param(&mut self, model: &Model, (lane, p): (usize, usize), block: &Block) {
        let param = &model.params[p];
        let mut draws = Sequence::new(&self.key, self.first + lane as u64, self.param_first[p], *block);
        self.slots[param.slot as usize][lane] = param_value(param, self.betas[p].as_ref(), &mut draws);
    }

    /// (a) Delayed effects landing at step `t`, in firing order.
    #[inline(always)]
    fn land_delayed(&mut self, model: &Model, plan: &Plan, t: usize) {
        for lane in lanes_of(self.landing[t] & self.live) {
            let mut k = 0;
            while k < self.pending[lane].len() {
                let (landing, trigger) = self.pending[lane][k];
                if landing == t && !self.apply(model, plan, t, lane, trigger) {
                    break;
                }
                k += 1;
            }
            self.pending[lane].retain(|&(landing, _)| landing != t);
        }
    }

    /// (b) The lanes where each trigger is eligible, with its probability there.
    #[inline(always)]
    fn evaluate(&mut self, model: &Model, plan: &Plan, t: usize) {
        // The `when`s first, and the lazy params the probabilities of the lanes where they hold
        // need.
        for (i, trigger) in model.triggers.iter().enumerate() {
            let candidates = self.active[i] & self.live;
            self.eligible[i] = 0;
            if candidates == 0 {
                continue;
            }
            if self.take_stale(i) {
                let kept = KeptMasks {
                    kept: &plan.kept,
                    masks: &self.leaf_masks,
                };
                self.when_holds[i] = trigger.when.eval_mask(&model.code, &self.slots, self.simd, kept);
            }
            let holds = self.when_holds[i] & candidates;
            self.eligible[i] = holds;
            let mut needs = plan.param_needs[i];
            while holds != 0 && needs != 0 {
                let b = needs.trailing_zeros() as usize;
                needs &= needs - 1;
                let missing = holds & !self.drawn[b];
                if missing != 0 {
                    self.drawn[b] |= missing;
                    let p = plan.lazy_params[b];
                    self.to_draw.extend(lanes_of(missing).map(|lane| (lane, p)));
                }
            }
        }
        self.draw_queued(model);
        for (i, trigger) in model.triggers.iter().enumerate() {
            let holds = self.eligible[i] & self.live;
            if holds == 0 {
                // Lanes a trigger before this one failed (so no probability is computed here):
                // what is eligible is always live, with a probability in (0, 1].
                self.eligible[i] = 0;
                continue;
            }
            let program = plan.probability(i);
            let changed = self.changed[program] & holds;
            if self.take_stale_everywhere(program) || changed.count_ones() > FEW_LANES {
                self.changed[program] = 0;
                self.new_probabilities(model, i);
                self.valid[i] = self.lazy_params_drawn(plan, i);
            } else if changed != 0 {
                // The other lanes' changes wait until the trigger is eligible there.
                self.changed[program] &= !changed;
                for lane in lanes_of(changed) {
                    let p = trigger.probability.eval_lane(&model.code, &self.slots, lane);
                    self.set_probability(i, lane, p);
                }
                self.valid[i] |= changed;
            }
            // Lanes whose probability was computed before their lazy params were drawn.
            let outdated = holds & !self.valid[i];
            if outdated != 0 {
                for lane in lanes_of(outdated) {
                    let p = trigger.probability.eval_lane(&model.code, &self.slots, lane);
                    self.set_probability(i, lane, p);
                }
                self.valid[i] |= outdated;
            }
            let invalid = holds & self.invalid[i];
            if invalid != 0 {
                for lane in lanes_of(invalid) {
                    let p = self.probabilities[i][lane];
                    self.fail(lane, probability_error(model, self.first + lane as u64, t, i, p));
                }
            }
            self.eligible[i] = holds & self.positive[i] & self.live;
        }
    }

    /// Trigger `i`'s probability in every lane, with what follows from it: the lanes where it
    /// is invalid, positive, certain; and the held tests it outdates.
    #[inline(always)]
    fn new_probabilities(&mut self, model: &Model, i: usize) {
        let mut probabilities = [0.0; LANES];
        model.triggers[i]
            .probability
            .eval_lanes(&model.code, &self.slots, &mut probabilities);
        let changed = lanes_differing(&probabilities, &self.probabilities[i], self.simd);
        if changed == 0 {
            return;
        }
        self.probabilities[i] = probabilities;
        let interval = |lo, hi| Interval { lo, hi };
        self.invalid[i] = !lanes_in(&probabilities, interval(0.0, 1.0), self.simd);
        self.positive[i] = lanes_in(&probabilities, interval(0.0f64.next_up(), 1.0), self.simd);
        self.certain[i] = lanes_in(&probabilities, interval(1.0, 1.0), self.simd);
        self.outdated_tests[i] |= self.held[i] & changed;
    }

    /// The lanes where every lazy param trigger `i`'s probability reads is drawn.
    fn lazy_params_drawn(&self, plan: &Plan, i: usize) -> u64 {
        let mut needs = plan.param_needs[i];
        let mut lanes = u64::MAX;
        while needs != 0 {
            lanes &= self.drawn[needs.trailing_zeros() as usize];
            needs &= needs - 1;
        }
        lanes
    }

    /// Trigger `i`'s probability in one lane, with what follows from it (`new_probabilities`).
    #[inline(always)]
    fn set_probability(&mut self, i: usize, lane: usize, p: f64) {
        let bit = 1 << lane;
        self.probabilities[i][lane] = p;
        let invalid = !(0.0..=1.0).contains(&p);
        self.invalid[i] = self.invalid[i] & !bit | u64::from(invalid) << lane;
        self.positive[i] = self.positive[i] & !bit | u64::from(!invalid && p > 0.0) << lane;
        self.certain[i] = self.certain[i] & !bit | u64::from(p == 1.0) << lane;
        self.outdated_tests[i] |= self.held[i] & bit;
    }

    /// Sets `passing[i]` and `tied[i]` for `lanes`, which hold their current block.
    #[inline(always)]
    fn find_passing(&mut self, i: usize, lanes: u64) {
        let blocks: &[Block; LANES] = (&self.fire_blocks[i * LANES..][..LANES]).try_into().expect("64 lanes");
        let tied = find_passing(blocks, &self.probabilities[i], &mut self.passing[i], lanes, self.simd);
        self.tied[i] = self.tied[i] & !lanes | tied;
    }

    /// Adds to `firing[i]` the lanes of `lanes` whose test at step `t`, left undecided by its
    /// half-word, passes on the low bits of the firing draw (`rng::tie_passes`).
    #[cold]
    fn settle_ties(&mut self, model: &Model, i: usize, lanes: u64, t: usize) {
        let j = t % BLOCK_TESTS as usize;
        for lane in lanes_of(lanes) {
            // The lane is eligible and not certain: its probability is in (0, 1).
            let threshold = rng::threshold(self.probabilities[i][lane]);
            if u64::from(rng::half_word(&self.fire_blocks[i * LANES + lane], j)) == threshold >> 48 {
                let run = self.first + lane as u64;
                let low = self.rng.draw(run, model.triggers[i].fire_region, LOW_DRAWS + t as u64);
                self.firing[i] |= u64::from(rng::tie_passes(low, threshold)) << lane;
            }
        }
    }

    /// (c) The lanes where each eligible trigger fires: u < p.
    #[inline(always)]
    fn draw(&mut self, model: &Model, t: usize) {
        let block = t as u64 / BLOCK_TESTS;
        let triggers = model.triggers.len();
        if (t as u64).is_multiple_of(BLOCK_TESTS) {
            // A new block of tests for every key (`run` empties `held` for step 1).
            self.held.fill(0);
            self.outdated_tests.fill(0);
        }
        self.missing.clear();
        for i in 0..triggers {
            let need = self.eligible[i] & !self.certain[i] & !self.held[i];
            self.fetched[i] = need;
            self.missing.extend(lanes_of(need).map(|lane| i * LANES + lane));
        }
        let lanes = self.key.lanes();
        let mut pass = [[0; 16]; MAX_LANES];
        for group in self.missing.chunks(lanes) {
            let mut at = [(0, 0); MAX_LANES];
            for (at, &slot) in at.iter_mut().zip(group) {
                let (i, lane) = (slot / LANES, slot % LANES);
                *at = (self.first + lane as u64, self.fire_first[i].wrapping_add(block));
            }
            for (&slot, words) in group.iter().zip(pass_of(&self.key, &at[..group.len()], &mut pass)) {
                self.fire_blocks[slot] = *words;
            }
        }
        for i in 0..triggers {
            // Every lane that is tested now holds its block, and its tests are found for its
            // current probability.
            let refresh = self.fetched[i] | self.eligible[i] & !self.certain[i] & self.outdated_tests[i];
            if refresh != 0 {
                self.held[i] |= self.fetched[i];
                self.outdated_tests[i] &= !refresh;
                self.find_passing(i, refresh);
            }
        }
        let j = (t as u64 % BLOCK_TESTS) as usize;
        for i in 0..triggers {
            let eligible = self.eligible[i];
            if eligible == 0 {
                self.firing[i] = 0;
                continue;
            }
            self.firing[i] = eligible & (self.certain[i] | bit_of_each(&self.passing[i], j, self.simd));
            let tied = eligible & !self.certain[i] & self.tied[i];
            if tied != 0 {
                self.settle_ties(model, i, tied, t);
            }
        }
    }

    /// (d) Counters first, then effects in declaration order, lane by lane.
    #[inline(always)]
    fn fire(&mut self, model: &Model, plan: &Plan, t: usize) {
        let triggers = model.triggers.len();
        for (i, trigger) in model.triggers.iter().enumerate() {
            let firing = self.firing[i] & self.live;
            if firing == 0 {
                continue;
            }
            // Where the count is not kept, the trigger fires once or without bound, and 1
            // decides its budget as the count would.
            let mut spent = if trigger.max_firings <= 1 { firing } else { 0 };
            if plan.count_kept[i] || plan.fired_kept[i] || plan.since_read[i] {
                for lane in lanes_of(firing) {
                    if plan.count_kept[i] {
                        let count = self.slots[trigger.count_slot as usize][lane] + 1.0;
                        self.set(plan, trigger.count_slot, lane, count);
                        spent = spent & !(1 << lane) | u64::from(count >= trigger.max_firings as f64) << lane;
                    }
                    if plan.fired_kept[i] {
                        self.set(plan, trigger.fired_slot, lane, 1.0);
                    }
                    if plan.since_read[i] {
                        self.slots[trigger.since_slot as usize][lane] = 0.0;
                    }
                }
            }
            self.active[i] &= !spent;
            let cooling = firing & !spent;
            if trigger.cooldown > 0 && cooling != 0 {
                self.active[i] &= !cooling;
                if let Some(mask) = self.cooled.get_mut((t + trigger.cooldown as usize + 1) * triggers + i) {
                    *mask |= cooling;
                }
            }
            if plan.since_read[i] {
                // A reset from wherever it was: what reads it is evaluated again everywhere.
                self.touch(plan, trigger.since_slot);
            }
            self.fired[i] |= firing;
        }
        for (i, trigger) in model.triggers.iter().enumerate() {
            for lane in lanes_of(self.firing[i] & self.live) {
                let delay = delay_of(trigger, &mut self.rng, self.first + lane as u64, t);
                if delay == 0 {
                    self.apply(model, plan, t, lane, i);
                } else if t + delay <= model.steps {
                    self.pending[lane].push((t + delay, i));
                    self.landing[t + delay] |= 1 << lane;
                }
            }
        }
    }

    /// Applies trigger `trigger`'s effects in lane `lane`; false if the lane failed.
    #[inline(always)]
    fn apply(&mut self, model: &Model, plan: &Plan, t: usize, lane: usize, trigger: usize) -> bool {
        if self.live & (1 << lane) == 0 {
            return false;
        }
        for effect in &model.effects[model.triggers[trigger].effects.clone()] {
            // Most effects move by a constant (`+= 1`): a test the processor predicts, where the
            // evaluator's dispatch on the kind of node is an indirect jump it often does not.
            let v = match model.code[effect.value.root as usize] {
                Node::Const(v) => v,
                _ => effect.value.eval_lane(&model.code, &self.slots, lane),
            };
            if !v.is_finite() {
                self.fail(
                    lane,
                    effect_error(model, self.first + lane as u64, t, trigger, effect, v),
                );
                return false;
            }
            let new = effect_result(effect, self.slots[effect.slot as usize][lane], v);
            self.set(plan, effect.slot, lane, new);
        }
        true
    }

    /// (f) Evaluates the outcomes at step `t` and shows the step to the collector.
    #[inline(always)]
    fn record(&mut self, model: &Model, plan: &Plan, t: usize, collector: &mut impl Sink) {
        let levels = &self.slots[SLOT_ESCALATION as usize];
        for lane in lanes_of(self.live) {
            let level = index_of(levels[lane]);
            self.max_level[lane] = if t == 0 { level } else { self.max_level[lane].max(level) };
        }
        for (o, outcome) in model.outcomes.iter().enumerate() {
            if self.take_stale(plan.outcome(o)) {
                let kept = KeptMasks {
                    kept: &plan.kept,
                    masks: &self.leaf_masks,
                };
                self.outcome_holds[o] = outcome.when.eval_mask(&model.code, &self.slots, self.simd, kept);
            }
            let holds = self.outcome_holds[o];
            self.first_holds[o] = holds & !self.seen[o];
            self.seen[o] |= holds;
        }
        collector.step(&Step {
            t,
            first_run: self.first,
            lanes: self.live,
            slots: &self.slots,
            max_level: &self.max_level,
            outcome_holds: &self.outcome_holds,
            outcome_seen: &self.seen,
            outcome_first: &self.first_holds,
            firing: &self.firing,
            fired: &self.fired,
        });
    }
}
