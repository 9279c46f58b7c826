//! Simulation: a compiled [`Model`], a seed and a range of run indices in, [`Tallies`] out.
//!
//! Runs are independent: run `i` depends only on the model, the seed and `i` (see `rng`), so a
//! range can be split across threads or machines in any way and the integer tallies added back
//! together give the same result. Scratch space is allocated once per piece of parallel work
//! (rayon's `map_init`) and reused for all its runs; the per-step loops allocate nothing.
//!
//! Two engines give the same runs, draw for draw:
//! - [`simulate`] steps 64 consecutive runs in lockstep (`batch`): conditions, probabilities
//!   and outcomes are evaluated for all 64 at once, and sets of runs are bit masks. It is what
//!   `sim run` uses.
//! - [`replay`] steps one run (`Scratch`), telling an [`Observer`] what happens: `sim trace`
//!   uses it, and tests hold the lockstep engine to its tallies, run by run.
//!
//! Both do work in proportion to what changes, not to the size of the model:
//! - Every `when`, probability and outcome keeps its last value until a slot it reads changes
//!   (`Plan::readers`). `t` and `since.X` advance every step, but a program that only compares
//!   them with constants (`since.x <= 1`) can change only when they cross one, so it is
//!   re-evaluated only then (`Plan::watchers`).
//! - Triggers out of `repeat` or cooling down are skipped without a look at their `when`.
//! - A firing test is one integer comparison with a threshold (`rng::threshold`), eight at a
//!   time (`rng::draws_below`); the blocks of draws a step needs are computed together, and a
//!   probability of 0 or 1 needs no draw (`u < p` is known for `u` in [0, 1)).
//! - A param that only probabilities read is drawn when one of them is first needed in a run
//!   (`Plan::lazy_params`): most runs never need the probabilities of the rarer triggers, and
//!   a draw costs a Beta sample or a `powf`. Draws are addressed, so the value is the same.
//!
//! The run-by-run engine also reads a trigger's firing tests ahead, through the blocks already
//! fetched (`Scratch::due`), and keeps tallies as differences between consecutive steps
//! (`add_differences`).

use std::sync::atomic::{AtomicU64, Ordering};

use rand_distr::Distribution as _;
use rayon::prelude::*;

mod batch;

use crate::compile::{
    self, Cmp, Decision, Distribution, Effect, Interval, Model, ParamModel, Program, SLOT_ESCALATION, SLOT_T, Test,
    TruthTable, per_step,
};
use crate::expr::AssignOp;
use crate::rng::{self, Addressed, BLOCK_DRAWS, Cursors};
use crate::tally::{Shape, Tallies};

/// Runs simulated per unit of parallel work. Results do not depend on it.
const CHUNK_RUNS: u64 = 512;
/// Blocks of firing tests (8 steps each) kept per trigger: the one being read and those
/// fetched ahead in lanes a pass would leave unused. Results do not depend on it.
const FIRE_BLOCKS_KEPT: usize = 4;

/// A run that hit an invalid value; the job stops and reports the lowest such run.
#[derive(Debug, Clone, PartialEq)]
pub struct SimError {
    pub scenario: String,
    pub run: u64,
    pub step: usize,
    pub trigger: String,
    pub what: String,
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "scenario `{}`, run {}, step {}: {} of trigger `{}`\n  = help: reproduce it with `sim trace <file> --run {}` and bound the expression (e.g. with clamp(x, 0, 1))",
            self.scenario, self.run, self.step, self.what, self.trigger, self.run
        )
    }
}

impl std::error::Error for SimError {}

/// What happens inside a run, for traces and analyses; the default methods do nothing, so the
/// plain simulation compiles them away.
pub trait Observer {
    fn param_drawn(&mut self, _param: usize, _value: f64) {}
    fn fired(&mut self, _step: usize, _trigger: usize, _landing_step: Option<usize>) {}
    fn changed(&mut self, _step: usize, _trigger: usize, _slot: u32, _old: f64, _new: f64, _delayed: bool) {}
    fn step_done(&mut self, _step: usize, _slots: &[f64]) {}
    /// Whether the observer looks at the slots or the params. When it does not, the simulation
    /// skips keeping up to date what nothing in the model reads yet: the `since.` of triggers no
    /// expression names, which change every step, and the params only probabilities read, until
    /// one of those probabilities is needed (`Plan::lazy_params`); `param_drawn` is not called.
    const READS_SLOTS: bool = true;
}

pub fn shape(model: &Model) -> Shape {
    Shape {
        steps: model.steps,
        levels: model.levels,
        outcomes: model.outcomes.len(),
        triggers: model.triggers.len(),
    }
}

/// Simulates runs `first..first + count` on the current rayon pool. `progress` is called with the
/// number of runs finished, as they finish.
pub fn simulate(
    model: &Model,
    seed: u64,
    first: u64,
    count: u64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Tallies, SimError> {
    let chunks = count.div_ceil(CHUNK_RUNS);
    let lowest_failure = AtomicU64::new(u64::MAX);
    let shape = shape(model);
    let plan = Plan::new(model);
    (0..chunks)
        .into_par_iter()
        .map_init(
            || batch::Batch::new(model, &plan, seed),
            |batch, chunk| {
                let start = first + chunk * CHUNK_RUNS;
                let end = (start + CHUNK_RUNS).min(first + count);
                let mut tallies = Tallies::zero(shape);
                // A failure in an earlier run makes later chunks pointless; earlier ones still
                // run so that the reported failure is always the lowest run index.
                if start > lowest_failure.load(Ordering::Relaxed) {
                    return Ok(tallies);
                }
                let mut run = start;
                while run < end {
                    let lanes = (end - run).min(compile::LANES as u64) as usize;
                    if let Err(error) = batch.run(model, &plan, run, lanes, &mut tallies) {
                        lowest_failure.fetch_min(error.run, Ordering::Relaxed);
                        return Err(error);
                    }
                    run += lanes as u64;
                }
                progress(end - start);
                Ok(tallies)
            },
        )
        .reduce(
            || Ok(Tallies::zero(shape)),
            |a, b| match (a, b) {
                (Ok(a), Ok(b)) => Ok(a.merge(&b)),
                (Err(a), Err(b)) => Err(if a.run <= b.run { a } else { b }),
                (Err(e), _) | (_, Err(e)) => Err(e),
            },
        )
}

/// Replays one run with an observer (for `sim trace`); gives the same events as inside
/// `simulate`.
pub fn replay(model: &Model, seed: u64, run: u64, observer: &mut impl Observer) -> Result<Tallies, SimError> {
    let plan = Plan::new(model);
    let mut scratch = Scratch::new(model, &plan, seed);
    scratch.run(model, &plan, run, observer)?;
    let mut tallies = Tallies::zero(shape(model));
    add_differences(&scratch.counts, &mut tallies);
    Ok(tallies)
}

/// A param's value as drawn, converted to a per-step probability if it is given on another
/// basis.
fn on_step_basis(param: &ParamModel, value: f64) -> f64 {
    match param.annual {
        Some(steps_per_year) => per_step(value, steps_per_year),
        None => value,
    }
}

/// A step or a count as a slot value. Through i64: x86-64 converts a signed integer in one
/// instruction, an unsigned one in a branchy sequence; steps and counts are far below 2^53.
#[inline]
fn value_of(n: usize) -> f64 {
    n as i64 as f64
}

/// A slot holding a whole number in `0..2^53` (a level, a step) as an index; through i64 for
/// the same reason as [`value_of`].
#[inline]
fn index_of(value: f64) -> usize {
    value as i64 as usize
}

/// `x.round()` (half away from zero) without a library call: `f64::round` is one on x86-64
/// without SSE4.1.
#[inline]
fn round(x: f64) -> f64 {
    // From 2^52 on every double is whole; NaN and infinities pass through as they are.
    if x.is_nan() || x.abs() >= (1u64 << 52) as f64 {
        return x;
    }
    let whole = x as i64 as f64;
    // Exact: `x` and its whole part share an exponent range, so the difference is exact.
    let fraction = x - whole;
    let rounded = whole + f64::from(u8::from(fraction >= 0.5)) - f64::from(u8::from(fraction <= -0.5));
    // The result has the sign of `x`, zero included: round(-0.3) is -0.
    rounded.copysign(x)
}

/// The set bits of `word`, lowest first, each as a word of its own.
#[inline]
fn bits_of(mut word: u64) -> impl Iterator<Item = u64> {
    std::iter::from_fn(move || {
        let bit = word & word.wrapping_neg();
        word ^= bit;
        (bit != 0).then_some(bit)
    })
}

/// A set of small indices, one bit each.
#[derive(Clone, Debug)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(len: usize) -> Self {
        Bits(vec![0; len.div_ceil(64)])
    }

    #[inline]
    fn contains(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }

    #[inline]
    fn insert(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    #[inline]
    fn remove(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }

    fn clear(&mut self) {
        self.0.fill(0);
    }

    /// Makes the set `0..len`.
    fn fill(&mut self, len: usize) {
        for (w, word) in self.0.iter_mut().enumerate() {
            let n = len.saturating_sub(w * 64).min(64);
            *word = if n == 64 { u64::MAX } else { (1 << n) - 1 };
        }
    }

    #[inline]
    fn union_with(&mut self, other: &[u64]) {
        for (a, b) in self.0.iter_mut().zip(other) {
            *a |= b;
        }
    }
}

/// What `simulate` derives once from a model: which cached values a change of each slot makes
/// stale.
///
/// Programs are numbered in three groups, each starting on a word of a [`Bits`] so that a
/// group can be scanned word by word: trigger `i`'s `when` is `i`, its probability `G + i`, and
/// outcome `o`'s `when` is `2G + o`, where `G` is the trigger count rounded up to 64.
struct Plan {
    /// `G` above.
    group: usize,
    /// Words of a set of programs.
    words: usize,
    /// The programs stale when a run starts: those that read a param. The others have the
    /// same value at the start of every run, worked out once: `initial_whens` and
    /// `initial_outcomes` (the sets of triggers and outcomes whose `when` holds).
    initially_stale: Bits,
    initial_whens: Bits,
    initial_outcomes: Bits,
    /// `readers[slot * words..][..words]`: the programs that read `slot`.
    readers: Vec<u64>,
    /// Slots that advance by one every step, a row each: row 0 is `t`, row `1 + i` is trigger
    /// `i`'s `since.`. The programs that read them, with how they read them.
    watchers: Vec<Vec<Watcher>>,
    /// The programs that read each slot, with how they read it: a change of the slot makes
    /// stale only those for which it changes something (`Watcher::changes`).
    slot_watchers: Vec<Vec<Watcher>>,
    /// `moves[row * (steps + 2) + n]`: going from `n - 1` to `n` may change a watcher of the row.
    moves: Vec<bool>,
    row_len: usize,
    /// The `when` of each trigger and of each outcome, and the tests of those that are
    /// [`Decision`]s.
    whens: Vec<Condition>,
    outcome_whens: Vec<Condition>,
    tests: Vec<Test>,
    /// Triggers whose `since.` some expression reads (effects included).
    since_read: Vec<bool>,
    /// The slots every run starts from: the model's, with fixed params on the step basis.
    start_slots: Vec<f64>,
    /// The params with draws (not fixed), and those of them drawn when a run starts.
    drawn_params: Vec<usize>,
    params_at_start: Vec<usize>,
    /// Params drawn only when a probability that reads them is first needed in a run, bit `b`
    /// standing for param `lazy_params[b]`: those only probabilities read, which a run often
    /// never needs. Their draws are addressed, so drawing late gives the same values.
    lazy_params: Vec<usize>,
    /// `param_needs[i]`: the lazy params trigger `i`'s probability reads.
    param_needs: Vec<u64>,
}

/// A condition as the fastest form it compiles to.
#[derive(Clone, Copy, Debug)]
enum Condition {
    Table(TruthTable),
    Decision(Decision),
    Tree(Program),
}

impl Condition {
    fn new(program: Program, model: &Model, tests: &mut Vec<Test>) -> Self {
        match program.decision(&model.code, tests) {
            Some(decision) => match decision.truth_table(tests) {
                Some(table) => Condition::Table(table),
                None => Condition::Decision(decision),
            },
            None => Condition::Tree(program),
        }
    }

    #[inline]
    fn holds(&self, model: &Model, tests: &[Test], slots: &[f64]) -> bool {
        match self {
            Condition::Table(table) => table.holds(slots),
            Condition::Decision(decision) => decision.holds(tests, slots),
            Condition::Tree(program) => program.eval(&model.code, slots) != 0.0,
        }
    }
}

/// A program reading a slot.
#[derive(Clone, Copy, Debug)]
struct Watcher {
    program: usize,
    /// Where the program only compares the slot with a constant there, the interval of that
    /// comparison ([`Cmp::as_interval`]): it turns where the slot enters or leaves it. Where
    /// the program uses the value, the interval is empty and `by_value` is set.
    interval: Interval,
    by_value: bool,
}

impl Watcher {
    fn new(program: usize, compare: Option<(Cmp, f64)>) -> Self {
        let interval = compare.map_or(Interval::EMPTY, |(cmp, k)| cmp.as_interval(k).0);
        Watcher {
            program,
            interval,
            by_value: compare.is_none(),
        }
    }

    /// Whether the program may change when the slot goes from `n - 1` to `n`.
    fn moves(self, n: usize) -> bool {
        self.changes(value_of(n - 1), value_of(n))
    }

    /// Whether the program may change when the slot goes from `old` to `new`: it uses the
    /// value, or its comparison of the slot with a constant turns. Without a branch: whether a
    /// comparison turns is data the processor cannot predict.
    #[inline]
    fn changes(self, old: f64, new: f64) -> bool {
        self.by_value | (self.interval.contains(old) != self.interval.contains(new))
    }
}

impl Plan {
    fn new(model: &Model) -> Self {
        let triggers = model.triggers.len();
        let group = triggers.div_ceil(64) * 64;
        let programs = 2 * group + model.outcomes.len();
        let words = programs.div_ceil(64);
        let slots = model.initial_slots.len();
        let row_len = model.steps + 2;
        let mut row_of_slot = vec![None; slots];
        row_of_slot[SLOT_T as usize] = Some(0);
        for (i, trigger) in model.triggers.iter().enumerate() {
            row_of_slot[trigger.since_slot as usize] = Some(1 + i);
        }
        let mut all = Bits::new(words * 64);
        for program in (0..triggers).chain(group..group + triggers).chain(2 * group..programs) {
            all.insert(program);
        }
        let mut plan = Plan {
            group,
            words,
            initially_stale: all,
            initial_whens: Bits::new(triggers),
            initial_outcomes: Bits::new(model.outcomes.len()),
            readers: vec![0; slots * words],
            watchers: vec![Vec::new(); 1 + triggers],
            slot_watchers: vec![Vec::new(); slots],
            moves: vec![false; (1 + triggers) * row_len],
            row_len,
            whens: Vec::new(),
            outcome_whens: Vec::new(),
            tests: Vec::new(),
            since_read: Vec::new(),
            start_slots: model.initial_slots.clone(),
            drawn_params: Vec::new(),
            params_at_start: Vec::new(),
            lazy_params: Vec::new(),
            param_needs: vec![0; triggers],
        };
        let mut tests = Vec::new();
        plan.whens = model
            .triggers
            .iter()
            .map(|t| Condition::new(t.when, model, &mut tests))
            .collect();
        plan.outcome_whens = model
            .outcomes
            .iter()
            .map(|o| Condition::new(o.when, model, &mut tests))
            .collect();
        plan.tests = tests;
        let effects = model.effects.iter().map(|e| e.value);
        let programs = model.triggers.iter().flat_map(|t| [t.when, t.probability]);
        let outcomes = model.outcomes.iter().map(|o| o.when);
        let mut read = vec![false; slots];
        for program in programs.chain(outcomes).chain(effects) {
            program.for_each_read(&model.code, &mut |slot, _| read[slot as usize] = true);
        }
        plan.since_read = model.triggers.iter().map(|t| read[t.since_slot as usize]).collect();
        let whens = model.triggers.iter().enumerate().map(|(i, t)| (i, t.when));
        let probabilities = model
            .triggers
            .iter()
            .enumerate()
            .map(|(i, t)| (group + i, t.probability));
        let outcomes = model.outcomes.iter().enumerate().map(|(o, x)| (2 * group + o, x.when));
        for (program, code) in whens.chain(probabilities).chain(outcomes) {
            code.for_each_read(&model.code, &mut |slot, compared_with| {
                plan.readers[slot as usize * words + program / 64] |= 1 << (program % 64);
                let watcher = Watcher::new(program, compared_with);
                plan.slot_watchers[slot as usize].push(watcher);
                if let Some(row) = row_of_slot[slot as usize] {
                    plan.watchers[row].push(watcher);
                    let moves = &mut plan.moves[row * row_len..(row + 1) * row_len];
                    for (n, moved) in moves.iter_mut().enumerate().skip(1) {
                        *moved |= watcher.moves(n);
                    }
                }
            });
        }
        plan.work_out_initial_values(model);
        plan.sort_params(model);
        plan
    }

    /// Fixed params go into the start slots. Of the others, those only probabilities read are
    /// lazy, up to 64 of them; the rest are drawn when a run starts.
    fn sort_params(&mut self, model: &Model) {
        let mut param_of_slot = vec![None; model.initial_slots.len()];
        for (i, param) in model.params.iter().enumerate() {
            match param.distribution {
                Distribution::Fixed(value) => self.start_slots[param.slot as usize] = on_step_basis(param, value),
                _ => {
                    param_of_slot[param.slot as usize] = Some(i);
                    self.drawn_params.push(i);
                }
            }
        }
        let mut eager = vec![false; model.params.len()];
        let whens = model.triggers.iter().map(|t| t.when);
        let others = whens
            .chain(model.outcomes.iter().map(|o| o.when))
            .chain(model.effects.iter().map(|e| e.value));
        for program in others {
            program.for_each_read(&model.code, &mut |slot, _| {
                if let Some(i) = param_of_slot[slot as usize] {
                    eager[i] = true;
                }
            });
        }
        let mut bit_of_param = vec![None; model.params.len()];
        for &i in &self.drawn_params {
            if !eager[i] && self.lazy_params.len() < 64 {
                bit_of_param[i] = Some(self.lazy_params.len());
                self.lazy_params.push(i);
            } else {
                self.params_at_start.push(i);
            }
        }
        for (i, trigger) in model.triggers.iter().enumerate() {
            let needs = &mut self.param_needs[i];
            trigger.probability.for_each_read(&model.code, &mut |slot, _| {
                if let Some(bit) = param_of_slot[slot as usize].and_then(|p| bit_of_param[p]) {
                    *needs |= 1 << bit;
                }
            });
        }
    }

    /// All lazy params, as bits.
    fn lazy_mask(&self) -> u64 {
        u64::MAX.checked_shr(64 - self.lazy_params.len() as u32).unwrap_or(0)
    }

    /// Conditions that read no param have the same value at the start of every run: works
    /// them out once, and leaves stale only the programs that read a param.
    fn work_out_initial_values(&mut self, model: &Model) {
        let mut is_param = vec![false; model.initial_slots.len()];
        for param in &model.params {
            is_param[param.slot as usize] = true;
        }
        let reads_param = |program: Program| {
            let mut reads = false;
            program.for_each_read(&model.code, &mut |slot, _| reads |= is_param[slot as usize]);
            reads
        };
        let slots = &model.initial_slots;
        for (i, trigger) in model.triggers.iter().enumerate() {
            if !reads_param(trigger.when) {
                self.initially_stale.remove(i);
                if self.whens[i].holds(model, &self.tests, slots) {
                    self.initial_whens.insert(i);
                }
            }
        }
        for (o, outcome) in model.outcomes.iter().enumerate() {
            if !reads_param(outcome.when) {
                self.initially_stale.remove(self.outcome(o));
                if self.outcome_whens[o].holds(model, &self.tests, slots) {
                    self.initial_outcomes.insert(o);
                }
            }
        }
    }

    fn programs(&self) -> usize {
        self.words * 64
    }

    /// Number of trigger `i`'s probability.
    #[inline]
    fn probability(&self, i: usize) -> usize {
        self.group + i
    }

    /// Number of outcome `o`'s `when`.
    #[inline]
    fn outcome(&self, o: usize) -> usize {
        2 * self.group + o
    }

    #[inline]
    fn readers(&self, slot: u32) -> &[u64] {
        &self.readers[slot as usize * self.words..][..self.words]
    }

    /// Marks stale the programs that may change when the slot of `row` goes from `n - 1` to
    /// `n`, and tells whether there were any; `row` 0 is `t`, `1 + i` is `since.` of trigger `i`.
    #[inline]
    fn advance(&self, row: usize, n: usize, stale: &mut Bits) -> bool {
        let moves = self.moves[row * self.row_len + n];
        if moves {
            for watcher in &self.watchers[row] {
                stale.0[watcher.program / 64] |= u64::from(watcher.moves(n)) << (watcher.program % 64);
            }
        }
        moves
    }
}

/// Adds the tallies of a chunk of runs, kept as differences between a step's row and the
/// previous one, to `tallies` as plain counts. A run adds to the differences only at the steps
/// where its state changes (and a change is +1 on the new column, -1 on the old), so summing
/// them up once per chunk is the cheaper way round. `trigger_firings` has no rows: it is kept
/// as totals.
fn add_differences(differences: &Tallies<i64>, tallies: &mut Tallies) {
    tallies.runs += differences.runs;
    for ((differences, width), counts) in differences.tables().into_iter().zip(tallies.tables_mut()) {
        match width {
            // A scenario may have no outcomes (or no triggers): nothing to sum, and `chunks`
            // refuses a width of 0.
            Some(0) => {}
            Some(width) => {
                let mut running = vec![0i64; width];
                for (row, counts) in differences.chunks(width).zip(counts.chunks_mut(width)) {
                    for ((sum, d), count) in running.iter_mut().zip(row).zip(counts) {
                        *sum += d;
                        *count += u64::try_from(*sum).expect("a count is never negative");
                    }
                }
            }
            None => {
                for (count, total) in counts.iter_mut().zip(differences) {
                    *count += u64::try_from(*total).expect("a count is never negative");
                }
            }
        }
    }
}

/// Per-worker state, allocated once and reused for every run.
struct Scratch {
    /// Delay draws.
    rng: Addressed,
    /// One cursor per param, for the draws at the start of a run.
    param_draws: Cursors,
    /// One cursor per trigger, for its firing tests.
    fire_draws: Cursors,
    betas: Vec<Option<rand_distr::Beta<f64>>>,
    /// The lazy params (`Plan::lazy_params`) not drawn yet in this run.
    undrawn: u64,
    slots: Vec<f64>,
    /// Delayed firings not yet applied: (landing step, trigger), in firing order.
    pending: Vec<(usize, usize)>,
    /// The eligible triggers with a probability > 0: valid until `changed`.
    eligible: Bits,
    /// `due[t * words..][..words]`: the eligible triggers to look at step `t`; every eligible
    /// trigger's draws are known to be >= p from the step it became eligible (or last fired)
    /// up to the step it is due. `next[i]`: the step trigger `i` is due, if it is eligible.
    due: Vec<u64>,
    next: Vec<Option<usize>>,
    /// `thresholds[i]`: `rng::threshold` of trigger `i`'s probability, when it is below 1.
    thresholds: Vec<u64>,
    /// Triggers whose last computed probability is > 0.
    positive: Bits,
    /// Something changed since `eligible` was made: a slot (so some programs may be stale), or
    /// the set of active triggers.
    changed: bool,
    firing: Vec<usize>,
    last_fired: Vec<usize>,
    /// Triggers that have fired in this run: their `since.` slots advance every step. Those
    /// whose `since.` an expression reads are also in `counting`.
    fired: Vec<usize>,
    counting: Vec<usize>,
    /// Triggers that may fire: not out of `repeat`, not cooling down.
    active: Bits,
    /// `cooled[t * words..][..words]`: the triggers whose cooldown ends at step `t`, to be made
    /// active again then.
    cooled: Vec<u64>,
    /// `landings[t]`: how many delayed firings in `pending` land at step `t`.
    landings: Vec<u32>,
    /// The last value of each trigger's probability, valid unless stale.
    values: Vec<f64>,
    /// Programs that read a slot which changed since their value was computed.
    stale: Bits,
    /// Triggers whose `when` held when last evaluated.
    when_holds: Bits,
    /// Outcomes that hold at the last recorded step, and those that held at some step >= 1.
    holds: Bits,
    seen: Bits,
    level: usize,
    max_level: usize,
    /// The tallies of the current chunk of runs, as differences (`add_differences`).
    counts: Tallies<i64>,
}

impl Scratch {
    fn new(model: &Model, plan: &Plan, seed: u64) -> Self {
        let pending_capacity = model
            .triggers
            .iter()
            .filter(|t| t.delay_max > 0)
            .map(|t| (t.max_firings as usize).min(model.steps))
            .sum();
        let triggers = model.triggers.len();
        Scratch {
            rng: Addressed::new(seed),
            param_draws: Cursors::new(seed, &model.params.iter().map(|p| p.region).collect::<Vec<_>>(), 1),
            fire_draws: Cursors::new(
                seed,
                &model.triggers.iter().map(|t| t.fire_region).collect::<Vec<_>>(),
                FIRE_BLOCKS_KEPT,
            ),
            betas: model
                .params
                .iter()
                .map(|p| match p.distribution {
                    Distribution::Beta { alpha, beta, .. } => rand_distr::Beta::new(alpha, beta).ok(),
                    _ => None,
                })
                .collect(),
            undrawn: 0,
            slots: model.initial_slots.clone(),
            pending: Vec::with_capacity(pending_capacity),
            eligible: Bits::new(triggers),
            positive: Bits::new(triggers),
            due: vec![0; (model.steps + 2) * triggers.div_ceil(64)],
            next: vec![None; triggers],
            thresholds: vec![0; triggers],
            changed: true,
            firing: Vec::with_capacity(triggers),
            last_fired: vec![0; triggers],
            fired: Vec::with_capacity(triggers),
            counting: Vec::with_capacity(triggers),
            active: Bits::new(triggers),
            cooled: vec![0; (model.steps + 2) * triggers.div_ceil(64)],
            landings: vec![0; model.steps + 2],
            values: vec![0.0; triggers],
            stale: Bits::new(plan.programs()),
            when_holds: Bits::new(triggers),
            holds: Bits::new(model.outcomes.len()),
            seen: Bits::new(model.outcomes.len()),
            level: 0,
            max_level: 0,
            counts: Tallies::zero(shape(model)),
        }
    }

    /// Records a change of `slot` to `value`: the programs whose value it may change are stale.
    #[inline]
    fn set(&mut self, plan: &Plan, slot: u32, value: f64) {
        let old = self.slots[slot as usize];
        if old != value {
            self.slots[slot as usize] = value;
            // Without a branch per watcher: whether a comparison turns is data the processor
            // cannot predict.
            let mut any = false;
            for watcher in &plan.slot_watchers[slot as usize] {
                let changes = watcher.changes(old, value);
                self.stale.0[watcher.program / 64] |= u64::from(changes) << (watcher.program % 64);
                any |= changes;
            }
            self.changed |= any;
        }
    }

    fn run<O: Observer>(&mut self, model: &Model, plan: &Plan, run: u64, observer: &mut O) -> Result<(), SimError> {
        self.slots.copy_from_slice(&plan.start_slots);
        self.draw_params(model, plan, run, observer);
        self.fire_draws.start_run(run);
        // Clear what an earlier run left, which it may have if it failed.
        self.due.fill(0);
        self.next.fill(None);
        self.eligible.clear();
        self.pending.clear();
        self.landings.fill(0);
        self.fired.clear();
        self.counting.clear();
        self.cooled.fill(0);
        self.active.fill(model.triggers.len());
        // A new run: no value computed before is valid, except those every run starts with.
        self.stale.0.copy_from_slice(&plan.initially_stale.0);
        self.when_holds.0.copy_from_slice(&plan.initial_whens.0);
        self.changed = true;
        self.record_start(model, plan);
        observer.step_done(0, &self.slots);

        for t in 1..=model.steps {
            self.slots[SLOT_T as usize] = value_of(t);
            self.changed |= plan.advance(0, t, &mut self.stale);
            self.land_delayed(model, plan, run, t, observer)?;
            self.count_steps(model, plan, t, O::READS_SLOTS);
            self.evaluate(model, plan, run, t)?;
            self.draw(t, model.steps);
            self.fire(model, plan, run, t, observer)?;
            // (e) is done by `apply`; (f) record.
            self.record(model, plan, t);
            observer.step_done(t, &self.slots);
        }
        debug_assert!(self.max_level < model.levels);
        self.counts.runs += 1;
        Ok(())
    }

    /// (a) Delayed effects landing at step `t`, in firing order.
    #[inline]
    fn land_delayed(
        &mut self,
        model: &Model,
        plan: &Plan,
        run: u64,
        t: usize,
        observer: &mut impl Observer,
    ) -> Result<(), SimError> {
        if self.landings[t] == 0 {
            return Ok(());
        }
        let mut i = 0;
        while i < self.pending.len() {
            let (landing, trigger) = self.pending[i];
            if landing == t {
                self.apply(model, plan, run, t, trigger, true, observer)?;
            }
            i += 1;
        }
        self.pending.retain(|&(landing, _)| landing != t);
        Ok(())
    }

    /// `since.X` of the triggers that have fired (the others keep "never") and that some
    /// expression reads, or of all that have fired if `all`; and the cooldowns that end at step
    /// `t`.
    #[inline]
    fn count_steps(&mut self, model: &Model, plan: &Plan, t: usize, all: bool) {
        for &i in if all { &self.fired } else { &self.counting } {
            let slot = model.triggers[i].since_slot as usize;
            let since = t - self.last_fired[i];
            let old = self.slots[slot];
            let since_value = value_of(since);
            self.slots[slot] = since_value;
            // One more step matters only where a comparison's constant is crossed; a firing
            // resets the count, which always matters (unless it fired the step before too).
            if since_value == old + 1.0 {
                if plan.moves[(1 + i) * plan.row_len + since] {
                    self.changed |= plan.advance(1 + i, since, &mut self.stale);
                }
            } else if since_value != old {
                self.stale.union_with(plan.readers(slot as u32));
                self.changed = true;
            }
        }
        let words = self.active.0.len();
        for (active, cooled) in self.active.0.iter_mut().zip(&mut self.cooled[t * words..][..words]) {
            let cooled = std::mem::take(cooled);
            *active |= cooled;
            self.changed |= cooled != 0;
        }
    }

    /// Makes trigger `i` due at step `step`.
    #[inline]
    fn schedule(&mut self, i: usize, step: usize) {
        self.unschedule(i);
        let words = self.eligible.0.len();
        if let Some(word) = self.due.get_mut(step * words + i / 64) {
            *word |= 1 << (i % 64);
        }
        self.next[i] = Some(step);
    }

    #[inline]
    fn unschedule(&mut self, i: usize) {
        let words = self.eligible.0.len();
        if let Some(step) = self.next[i].take()
            && let Some(word) = self.due.get_mut(step * words + i / 64)
        {
            *word &= !(1 << (i % 64));
        }
    }

    /// (b) Updates the set of triggers eligible at step `t` with a probability > 0, if anything
    /// changed. Every trigger sees the same snapshot. Works a word of 64 triggers at a time, and
    /// evaluates only the `when`s of active triggers, and the probabilities of eligible ones,
    /// whose inputs changed. A trigger that becomes eligible, or gets a new probability, is due
    /// now.
    #[inline]
    fn evaluate(&mut self, model: &Model, plan: &Plan, run: u64, t: usize) -> Result<(), SimError> {
        if !self.changed {
            return Ok(());
        }
        self.changed = false;
        let probabilities = plan.probability(0) / 64;
        for word in 0..self.active.0.len() {
            let active = self.active.0[word];
            let stale = self.stale.0[word] & active;
            self.stale.0[word] &= !stale;
            let mut holds = self.when_holds.0[word];
            for bit in bits_of(stale) {
                let i = word * 64 + bit.trailing_zeros() as usize;
                if plan.whens[i].holds(model, &plan.tests, &self.slots) {
                    holds |= bit;
                } else {
                    holds &= !bit;
                }
            }
            self.when_holds.0[word] = holds;

            let eligible = active & holds;
            let stale = self.stale.0[probabilities + word] & eligible;
            self.stale.0[probabilities + word] &= !stale;
            let mut positive = self.positive.0[word];
            let needs = bits_of(stale).fold(0, |needs, bit| {
                needs | plan.param_needs[word * 64 + bit.trailing_zeros() as usize]
            }) & self.undrawn;
            if needs != 0 {
                self.draw_lazy_params(model, plan, needs);
            }
            // Probabilities that rose: a trigger's draws known to be >= its old probability may
            // not be >= the new one. Where it fell they still are, and the step it is due holds.
            let mut rose = 0;
            for bit in bits_of(stale) {
                let i = word * 64 + bit.trailing_zeros() as usize;
                let p = model.triggers[i].probability.eval(&model.code, &self.slots);
                // A value kept from an earlier step was checked then.
                if !(0.0..=1.0).contains(&p) {
                    return Err(SimError {
                        scenario: model.info.id.clone(),
                        run,
                        step: t,
                        trigger: model.triggers[i].id.clone(),
                        what: format!("probability {p} outside [0, 1]"),
                    });
                }
                rose |= u64::from(p > self.values[i]) << bit.trailing_zeros();
                self.values[i] = p;
                if p < 1.0 {
                    self.thresholds[i] = rng::threshold(p);
                }
                if p > 0.0 {
                    positive |= bit;
                } else {
                    positive &= !bit;
                }
            }
            self.positive.0[word] = positive;
            let before = self.eligible.0[word];
            let now = eligible & positive;
            self.eligible.0[word] = now;
            for bit in bits_of(before & !now) {
                self.unschedule(word * 64 + bit.trailing_zeros() as usize);
            }
            for bit in bits_of(now & (!before | rose)) {
                self.schedule(word * 64 + bit.trailing_zeros() as usize, t);
            }
        }
        Ok(())
    }

    /// (c) The eligible triggers that fire: when u < p, which for p = 1 holds for every u in
    /// [0, 1). Only the triggers due now are looked at: each is tested from now on, through its
    /// current block of draws and those after it already fetched, and is due again the step it
    /// fires (or the step after, if it fires now) or the step after the last one tested.
    #[inline]
    fn draw(&mut self, t: usize, steps: usize) {
        let words = self.eligible.0.len();
        let row = t * words..(t + 1) * words;
        let block = t as u64 / BLOCK_DRAWS;
        for word in row.clone() {
            for bit in bits_of(self.due[word]) {
                let i = (word - row.start) * 64 + bit.trailing_zeros() as usize;
                if self.values[i] < 1.0 {
                    self.fire_draws.want(i, block);
                }
            }
        }
        if self.fire_draws.pending() {
            self.want_ahead(block, steps);
            self.fire_draws.fetch();
        }
        self.firing.clear();
        for word in row.clone() {
            for bit in bits_of(std::mem::take(&mut self.due[word])) {
                let i = (word - row.start) * 64 + bit.trailing_zeros() as usize;
                self.next[i] = None;
                let fires_at = if self.values[i] == 1.0 {
                    t
                } else {
                    self.first_firing(i, t)
                };
                if fires_at == t {
                    self.firing.push(i);
                    self.schedule(i, t + 1);
                } else {
                    self.schedule(i, fires_at);
                }
            }
        }
    }

    /// The first step from `t` on whose firing test trigger `i` passes, looking through the
    /// blocks of draws held from `t`'s on; the step after the last one held if none does.
    #[inline]
    fn first_firing(&self, i: usize, t: usize) -> usize {
        let threshold = self.thresholds[i];
        let mut block = t as u64 / BLOCK_DRAWS;
        let position = t as u64 % BLOCK_DRAWS;
        // Draws before `t` in its block are not tests of this spell.
        let mut below = rng::draws_below(self.fire_draws.block(i, block), threshold) >> position << position;
        while below == 0 {
            block += 1;
            match self.fire_draws.held(i, block) {
                Some(words) => below = rng::draws_below(words, threshold),
                None => return (block * BLOCK_DRAWS) as usize,
            }
        }
        (block * BLOCK_DRAWS) as usize + below.trailing_zeros() as usize
    }

    /// Fills the lanes the step's fetch leaves over with the blocks that follow the ones it
    /// fetches, which their triggers will need next if they stay eligible: a pass costs the
    /// same with every lane used.
    #[inline]
    fn want_ahead(&mut self, block: u64, steps: usize) {
        let last = (steps as u64 / BLOCK_DRAWS).min(block + FIRE_BLOCKS_KEPT as u64 - 1);
        let mut spare = self.fire_draws.spare_lanes();
        let wanted = self.fire_draws.missing();
        let mut ahead = block + 1;
        while spare > 0 && ahead <= last {
            for k in 0..wanted {
                if spare == 0 {
                    break;
                }
                let key = self.fire_draws.missing_key(k);
                if self.fire_draws.want(key, ahead) {
                    spare -= 1;
                }
            }
            ahead += 1;
        }
    }

    /// (d) Counters first, then effects in declaration order.
    #[inline]
    fn fire(
        &mut self,
        model: &Model,
        plan: &Plan,
        run: u64,
        t: usize,
        observer: &mut impl Observer,
    ) -> Result<(), SimError> {
        let triggers = model.triggers.len();
        for f in 0..self.firing.len() {
            let i = self.firing[f];
            let trigger = &model.triggers[i];
            let count = self.slots[trigger.count_slot as usize] + 1.0;
            self.set(plan, trigger.count_slot, count);
            if self.slots[trigger.fired_slot as usize] == 0.0 {
                self.set(plan, trigger.fired_slot, 1.0);
                self.fired.push(i);
                if plan.since_read[i] {
                    self.counting.push(i);
                }
                self.counts.trigger_fired_by[t * triggers + i] += 1;
            }
            self.last_fired[i] = t;
            self.counts.trigger_firings[i] += 1;
            if count >= trigger.max_firings as f64 {
                self.active.remove(i);
            } else if trigger.cooldown > 0 {
                self.active.remove(i);
                // Active again when `t > last fired + cooldown`.
                let words = self.active.0.len();
                if let Some(word) = self
                    .cooled
                    .get_mut((t + trigger.cooldown as usize + 1) * words + i / 64)
                {
                    *word |= 1 << (i % 64);
                }
            }
            self.changed = true;
        }
        for f in 0..self.firing.len() {
            let i = self.firing[f];
            let trigger = &model.triggers[i];
            let delay = if trigger.delay_min == trigger.delay_max {
                trigger.delay_min as usize
            } else {
                let span = (trigger.delay_max - trigger.delay_min + 1) as f64;
                let u = self.rng.uniform(run, trigger.delay_region, t as u64);
                trigger.delay_min as usize + (u * span) as usize
            };
            if delay == 0 {
                observer.fired(t, i, None);
                self.apply(model, plan, run, t, i, false, observer)?;
            } else {
                let landing = t + delay;
                observer.fired(t, i, (landing <= model.steps).then_some(landing));
                if landing <= model.steps {
                    self.pending.push((landing, i));
                    self.landings[landing] += 1;
                }
            }
        }
        Ok(())
    }

    /// Draws the params a run starts with: all of them for an observer, which is told of each;
    /// otherwise all but the lazy ones. Fetches the first block of every drawn param at once:
    /// fetching the lazy ones' later would take more passes of the block function.
    #[inline]
    fn draw_params<O: Observer>(&mut self, model: &Model, plan: &Plan, run: u64, observer: &mut O) {
        self.param_draws.start_run(run);
        for &i in &plan.drawn_params {
            self.param_draws.want(i, 0);
        }
        self.param_draws.fetch();
        if O::READS_SLOTS {
            self.undrawn = 0;
            for i in 0..model.params.len() {
                let value = self.param_value(model, i);
                self.slots[model.params[i].slot as usize] = value;
                observer.param_drawn(i, value);
            }
        } else {
            self.undrawn = plan.lazy_mask();
            for &i in &plan.params_at_start {
                self.slots[model.params[i].slot as usize] = self.param_value(model, i);
            }
        }
    }

    /// Draws the lazy params `needs` (bits as in `Plan::param_needs`).
    #[cold]
    fn draw_lazy_params(&mut self, model: &Model, plan: &Plan, needs: u64) {
        self.undrawn &= !needs;
        for bit in bits_of(needs) {
            let i = plan.lazy_params[bit.trailing_zeros() as usize];
            self.slots[model.params[i].slot as usize] = self.param_value(model, i);
        }
    }

    /// Param `i`'s value in this run; the first block of its draws must be held.
    fn param_value(&self, model: &Model, i: usize) -> f64 {
        let param = &model.params[i];
        let draws = &self.param_draws;
        let value = match param.distribution {
            Distribution::Fixed(v) => v,
            Distribution::Uniform { min, max } => min + (max - min) * draws.uniform(i, 0),
            Distribution::Triangular { min, mode, max } => {
                let u = draws.uniform(i, 0);
                let split = (mode - min) / (max - min);
                if u < split {
                    min + (u * (max - min) * (mode - min)).sqrt()
                } else {
                    max - ((1.0 - u) * (max - min) * (max - mode)).sqrt()
                }
            }
            Distribution::Beta { min, max, .. } => {
                let beta = self.betas[i]
                    .as_ref()
                    .expect("Beta shapes are validated at compile time");
                min + (max - min) * beta.sample(&mut draws.sequence(i))
            }
        };
        on_step_basis(param, value)
    }

    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        model: &Model,
        plan: &Plan,
        run: u64,
        t: usize,
        trigger: usize,
        delayed: bool,
        observer: &mut impl Observer,
    ) -> Result<(), SimError> {
        let range = model.triggers[trigger].effects.clone();
        for effect in &model.effects[range] {
            let Effect {
                slot,
                op,
                value,
                lo,
                hi,
                round,
            } = *effect;
            let v = value.eval(&model.code, &self.slots);
            if !v.is_finite() {
                return Err(SimError {
                    scenario: model.info.id.clone(),
                    run,
                    step: t,
                    trigger: model.triggers[trigger].id.clone(),
                    what: format!("an effect on `{}` computed {v}", model.slot_names[slot as usize]),
                });
            }
            let old = self.slots[slot as usize];
            let mut new = match op {
                AssignOp::Set => v,
                AssignOp::Add => old + v,
                AssignOp::Sub => old - v,
            };
            if round {
                new = self::round(new);
            }
            new = new.clamp(lo, hi);
            self.set(plan, slot, new);
            observer.changed(t, trigger, slot, old, new, delayed);
        }
        Ok(())
    }

    /// Records step 0, the state the run starts from.
    fn record_start(&mut self, model: &Model, plan: &Plan) {
        let level = index_of(self.slots[SLOT_ESCALATION as usize]);
        self.level = level;
        self.max_level = level;
        self.counts.level_at[level] += 1;
        self.counts.max_level_at[level] += 1;
        self.holds.0.copy_from_slice(&plan.initial_outcomes.0);
        self.seen.clear();
        for o in 0..model.outcomes.len() {
            if self.stale.contains(plan.outcome(o)) {
                self.stale.remove(plan.outcome(o));
                if plan.outcome_whens[o].holds(model, &plan.tests, &self.slots) {
                    self.holds.insert(o);
                }
            }
            if self.holds.contains(o) {
                self.counts.outcome_holds[o] += 1;
            }
        }
    }

    /// Records step `t >= 1`: only what changed since step `t - 1`.
    #[inline]
    fn record(&mut self, model: &Model, plan: &Plan, t: usize) {
        let shape = self.counts.shape;
        let level = index_of(self.slots[SLOT_ESCALATION as usize]);
        let row = t * shape.levels;
        if level != self.level {
            self.counts.level_at[row + self.level] -= 1;
            self.counts.level_at[row + level] += 1;
            self.level = level;
        }
        if level > self.max_level {
            self.counts.max_level_at[row + self.max_level] -= 1;
            self.counts.max_level_at[row + level] += 1;
            self.max_level = level;
        }
        let row = t * shape.outcomes;
        let first = plan.outcome(0) / 64;
        // After step 1 (when outcomes holding since step 0 count as reached), only an outcome
        // whose inputs changed can change what is recorded.
        if t > 1 && self.stale.0[first..].iter().all(|&w| w == 0) {
            return;
        }
        for word in first..self.stale.0.len() {
            let mut stale = std::mem::take(&mut self.stale.0[word]);
            while stale != 0 {
                let o = word * 64 + stale.trailing_zeros() as usize - plan.outcome(0);
                stale &= stale - 1;
                let holds = plan.outcome_whens[o].holds(model, &plan.tests, &self.slots);
                if holds != self.holds.contains(o) {
                    if holds {
                        self.holds.insert(o);
                        self.counts.outcome_holds[row + o] += 1;
                    } else {
                        self.holds.remove(o);
                        self.counts.outcome_holds[row + o] -= 1;
                    }
                }
            }
        }
        // Outcomes holding for the first time at a step >= 1 (possibly since step 0).
        for (word, (seen, holds)) in self.seen.0.iter_mut().zip(&self.holds.0).enumerate() {
            let mut new = holds & !*seen;
            *seen |= new;
            while new != 0 {
                let o = word * 64 + new.trailing_zeros() as usize;
                new &= new - 1;
                self.counts.outcome_by[row + o] += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_is_f64_round() {
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            0.49999999999999994,
            -0.49999999999999994,
        ];
        values.extend([
            4503599627370495.5,
            4503599627370497.0,
            1e300,
            -1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ]);
        values.extend((-400..400).map(|i| f64::from(i) * 0.125 + 1e-9 * f64::from(i % 7)));
        for x in values {
            assert_eq!(round(x).to_bits(), x.round().to_bits(), "round({x:e})");
        }
        assert!(round(f64::NAN).is_nan());
        for n in [0, 1, 36, 10_000, (1 << 53) - 1] {
            assert_eq!(value_of(n), n as f64);
            assert_eq!(index_of(n as f64), n);
        }
    }

    /// A scenario with no outcomes and one trigger: tables of width 0 must not trip the
    /// difference-summing (a regression: `chunks(0)` panicked).
    #[test]
    fn scenarios_without_outcomes_simulate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bare.toml");
        std::fs::write(
            &path,
            "[scenario]\nname = \"bare\"\nsteps = 3\nstep_unit = \"month\"\n\n[escalation]\nlevels = [\"calm\", \"tense\"]\ninitial = \"calm\"\n\n\
             [actors.a]\nname = \"A\"\n\n[[triggers]]\nid = \"x\"\nlabel = \"x\"\nactor = \"a\"\nprobability = 1\neffects = [\"escalation += 1\"]\n",
        )
        .unwrap();
        let model = crate::compile::compile(&crate::load::load(&path).unwrap()).unwrap();
        let tallies = simulate(&model, 1, 0, 10, &|_| {}).unwrap();
        assert_eq!(tallies.runs, 10);
        assert_eq!(tallies.trigger_fired_by[1], 10, "p = 1 fires at step 1 in every run");
        assert_eq!(tallies.level_at[3 * 2 + 1], 10, "every run ends at `tense`");
    }

    /// A model from scenario text, through the real loader and compiler.
    fn model_of(text: &str) -> Model {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scenario.toml");
        std::fs::write(&path, text).unwrap();
        crate::compile::compile(&crate::load::load(&path).unwrap()).unwrap()
    }

    #[test]
    fn params_only_probabilities_read_are_drawn_lazily() {
        let model = model_of(
            r#"
[scenario]
name = "lazy"
steps = 12
step_unit = "month"
[escalation]
levels = ["calm", "tense"]
initial = "calm"
[params]
in_when = { uniform = [0, 1] }
in_effect = { uniform = [1, 2] }
in_outcome = { uniform = [0, 1] }
only_p = { pert = [0.1, 0.2, 0.4], basis = "annual" }
also_only_p = { uniform = [0.0, 0.1] }
fixed = { annual = 0.5 }
[actors.a]
name = "A"
x = { initial = 0.0 }
[[triggers]]
id = "one"
label = "one"
actor = "a"
when = "in_when > 0.5"
probability = "only_p"
effects = ["a.x += in_effect"]
[[triggers]]
id = "two"
label = "two"
actor = "a"
probability = "min(only_p + also_only_p, fixed)"
effects = ["escalation = 'tense'"]
[[outcomes]]
id = "o"
label = "o"
when = "a.x > in_outcome"
"#,
        );
        let plan = Plan::new(&model);
        let name = |i: usize| model.slot_names[model.params[i].slot as usize].clone();
        let names = |list: &[usize]| list.iter().map(|&i| name(i)).collect::<Vec<_>>();
        // Params are in name order.
        assert_eq!(names(&plan.lazy_params), ["also_only_p", "only_p"]);
        assert_eq!(names(&plan.params_at_start), ["in_effect", "in_outcome", "in_when"]);
        assert_eq!(plan.param_needs, [0b10, 0b11]);
        assert_eq!(plan.lazy_mask(), 0b11);
        // A fixed param is in the slots every run starts from, on the step basis.
        let fixed = model
            .params
            .iter()
            .find(|p| matches!(p.distribution, Distribution::Fixed(_)));
        let fixed = fixed.unwrap();
        assert_eq!(plan.start_slots[fixed.slot as usize], per_step(0.5, 12.0));
    }

    #[test]
    fn lazy_params_give_the_runs_that_drawing_every_param_gives() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/baseline.toml");
        let model = crate::compile::compile(&crate::load::load(std::path::Path::new(path)).unwrap()).unwrap();
        assert!(
            Plan::new(&model).lazy_params.len() >= 20,
            "the shipped baseline has lazy params"
        );
        // An observer makes the simulation draw every param when a run starts.
        struct Eager;
        impl Observer for Eager {}
        let mut eager = Tallies::zero(shape(&model));
        for run in 0..300 {
            eager = eager.merge(&replay(&model, 11, run, &mut Eager).unwrap());
        }
        assert_eq!(simulate(&model, 11, 0, 300, &|_| {}).unwrap(), eager);
    }

    /// The lockstep engine (`simulate`) against the run-by-run one (`replay`): the same tallies
    /// over runs `first..first + count`, or the same error, that of the lowest failing run.
    fn assert_engines_agree(model: &Model, seed: u64, first: u64, count: u64) {
        struct Lazy;
        impl Observer for Lazy {
            const READS_SLOTS: bool = false;
        }
        let mut expected = Ok(Tallies::zero(shape(model)));
        for run in first..first + count {
            match replay(model, seed, run, &mut Lazy) {
                Ok(tallies) => expected = expected.map(|sum| sum.merge(&tallies)),
                Err(error) => {
                    expected = Err(error);
                    break;
                }
            }
        }
        let got = simulate(model, seed, first, count, &|_| {});
        assert!(
            got == expected,
            "{}: runs {first}..{}, seed {seed}",
            model.info.id,
            first + count
        );
    }

    /// Exercises what the lockstep engine does lane by lane: repeats and cooldowns, fixed,
    /// ranged and zero delays (some landing past the horizon), `since.` and `count.` read by
    /// conditions and probabilities, probabilities of exactly 0 and 1, lazy params drawn in
    /// some lanes only, clamps and rounding.
    const STRESS: &str = r#"
[scenario]
name = "stress"
steps = 20
step_unit = "month"
[escalation]
levels = ["calm", "tense", "crisis", "war"]
initial = "calm"
[params]
p_rare = { pert = [0.01, 0.05, 0.2] }
p_often = { uniform = [0.2, 0.6] }
p_annual = { triangular = [0.1, 0.3, 0.9], basis = "annual" }
gate = { uniform = [0, 1] }
push = { beta = [2, 5] }
[actors.a]
name = "A"
x = { initial = 0, min = 0, max = 5 }
mode = { levels = ["off", "on", "max"], initial = "off" }
flag = false
[[triggers]]
id = "tick"
label = "tick"
actor = "a"
probability = "p_often"
repeat = 3
cooldown = 2
delay = [0, 2]
effects = ["a.x += 3 * push", "escalation += 1"]
[[triggers]]
id = "late"
label = "late"
actor = "a"
when = "gate > 0.5 && since.tick <= 2 && fired.tick"
probability = "min(1, p_rare * (1 + count.tick))"
delay = 4
repeat = true
effects = ["a.mode = 'on'", "a.x -= 1.5"]
[[triggers]]
id = "certain"
label = "certain"
actor = "a"
when = "a.x >= 2"
probability = "1"
effects = ["a.flag = true", "escalation -= 1"]
[[triggers]]
id = "never"
label = "never"
actor = "a"
when = "t > 3"
probability = "0 * p_annual"
effects = ["escalation = 'war'"]
[[triggers]]
id = "annual"
label = "annual"
actor = "a"
when = "a.mode == 'on' || t >= 15"
probability = "p_annual"
repeat = 2
delay = [1, 6]
effects = ["a.mode = 'max'", "escalation += 2"]
[[triggers]]
id = "calm_down"
label = "calm down"
actor = "a"
when = "escalation >= 'crisis' && since.annual > 1"
probability = "clamp(p_often - 0.1 * a.x, 0, 1)"
repeat = true
cooldown = 1
effects = ["escalation -= 1", "a.x = a.x / 2"]
[[outcomes]]
id = "flag"
label = "flag"
when = "a.flag"
[[outcomes]]
id = "max"
label = "max"
when = "a.mode == 'max' && a.x < 1"
"#;

    #[test]
    fn lockstep_runs_give_the_tallies_of_runs_one_by_one() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "toml"))
            .collect();
        paths.sort();
        assert!(paths.len() >= 6, "the shipped scenarios");
        paths.push(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/small.toml").into());
        for path in &paths {
            let model = crate::compile::compile(&crate::load::load(path).unwrap()).unwrap();
            // Starts and ends mid-batch and crosses a chunk boundary.
            assert_engines_agree(&model, 5, 37, 600);
        }
        let stress = model_of(STRESS);
        for seed in 0..4 {
            assert_engines_agree(&stress, seed, seed * 1000 + 13, 700);
        }
        assert_engines_agree(&stress, 9, 0, 1);
    }

    #[test]
    fn lockstep_runs_fail_with_the_lowest_failing_run() {
        // A probability drawn below 0 in some runs, read only from step 5 on.
        let invalid = model_of(
            &STRESS
                .replace(
                    "gate = { uniform = [0, 1] }",
                    "gate = { uniform = [0, 1] }\nshaky = { uniform = [-0.02, 1] }",
                )
                .replace(r#"probability = "0 * p_annual""#, r#"probability = "shaky""#),
        );
        // An effect dividing by zero when `certain` first fires.
        let infinite = model_of(&STRESS.replace(
            r#"["a.flag = true", "escalation -= 1"]"#,
            r#"["a.flag = true", "a.x = 1 / max(0, gate - 0.02)"]"#,
        ));
        for model in [&invalid, &infinite] {
            let error = simulate(model, 3, 100, 2000, &|_| {}).expect_err("some run fails");
            assert!(error.run > 100, "{error}: not every run fails");
            assert_engines_agree(model, 3, 100, 2000);
            // The failing run alone, and a batch with it last.
            assert_engines_agree(model, 3, error.run, 1);
            assert_engines_agree(model, 3, error.run - 63, 64);
        }
    }

    #[test]
    fn differences_sum_up_to_counts_row_by_row() {
        let shape = Shape {
            steps: 2,
            levels: 2,
            outcomes: 0,
            triggers: 1,
        };
        // Two runs start at level 0; one moves to level 1 at step 1, the other at step 2.
        let mut differences = Tallies::<i64>::zero(shape);
        differences.runs = 2;
        differences.level_at = vec![2, 0, -1, 1, -1, 1];
        differences.trigger_fired_by = vec![0, 1, 1];
        differences.trigger_firings = vec![3];
        let mut tallies = Tallies::zero(shape);
        tallies.runs = 5;
        tallies.trigger_firings = vec![1];
        add_differences(&differences, &mut tallies);
        assert_eq!(tallies.runs, 7);
        assert_eq!(tallies.level_at, [2, 0, 1, 1, 0, 2]);
        assert_eq!(tallies.trigger_fired_by, [0, 1, 2]);
        assert_eq!(tallies.trigger_firings, [4], "totals are added, not summed over rows");
        assert!(tallies.outcome_by.is_empty());
    }
}
