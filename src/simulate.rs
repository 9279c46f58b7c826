//! Simulation: a compiled [`Model`], a seed and a range of run indices in, [`Tallies`] out.
//!
//! Runs are independent: run `i` depends only on the model, the seed and `i` (see `rng`), so a
//! range can be split across threads or machines in any way and the integer tallies added back
//! together give the same result. Scratch space is allocated once per piece of parallel work
//! (rayon's `map_init`) and reused for all its runs; the lockstep engine's step loop allocates
//! nothing.
//!
//! Two engines give the same runs, draw for draw:
//! - [`simulate`] steps 64 consecutive runs in lockstep (`batch`): conditions, probabilities
//!   and outcomes are evaluated for all 64 at once, and sets of runs are bit masks. It is what
//!   `sim run` uses, and all the speed is there (its module header says how).
//! - [`replay`] steps one run (`one_run`), telling an [`Observer`] what happens: `sim trace`
//!   uses it, and it is the plain, slow reference the tests hold the lockstep engine to, run
//!   by run.
//!
//! What both share lives here: how a param's value is drawn (`param_value`), the conversions
//! between slot values and counts, and the `Plan` the lockstep engine derives from a model
//! once per job (which programs each slot change can affect, which params can be drawn late).

use std::sync::atomic::{AtomicU64, Ordering};

use rand_distr::Distribution as _;
use rayon::prelude::*;

mod batch;
mod one_run;

use crate::compile::{self, Cmp, Distribution, Effect, Interval, Model, ParamModel, SLOT_T, TriggerModel, per_step};
use crate::expr::AssignOp;
use crate::rng;
use crate::tally::{Shape, Tallies};

/// Runs simulated per unit of parallel work. Results do not depend on it.
const CHUNK_RUNS: u64 = 512;

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

/// What happens inside a run replayed by [`replay`], for traces and analyses; the default
/// methods do nothing.
pub trait Observer {
    fn param_drawn(&mut self, _param: usize, _value: f64) {}
    fn fired(&mut self, _step: usize, _trigger: usize, _landing_step: Option<usize>) {}
    fn changed(&mut self, _step: usize, _trigger: usize, _slot: u32, _old: f64, _new: f64, _delayed: bool) {}
    fn step_done(&mut self, _step: usize, _slots: &[f64]) {}
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
    one_run::one_run(model, seed, run, observer)
}

/// The Beta distribution of each param that has one.
fn betas(model: &Model) -> Vec<Option<rand_distr::Beta<f64>>> {
    model
        .params
        .iter()
        .map(|p| match p.distribution {
            Distribution::Beta { alpha, beta, .. } => {
                Some(rand_distr::Beta::new(alpha, beta).expect("Beta shapes are validated at compile time"))
            }
            _ => None,
        })
        .collect()
}

/// Param `param`'s value in a run, on the step basis, from `draws`: the draws of its region
/// from the first on. `beta` is its Beta distribution, if it has one.
fn param_value(param: &ParamModel, beta: Option<&rand_distr::Beta<f64>>, draws: &mut rng::Sequence) -> f64 {
    use rand::Rng as _;
    let value = match param.distribution {
        Distribution::Fixed(v) => v,
        Distribution::Uniform { min, max } => min + (max - min) * rng::unit_f64(draws.next_u64()),
        Distribution::Triangular { min, mode, max } => {
            let u = rng::unit_f64(draws.next_u64());
            let split = (mode - min) / (max - min);
            if u < split {
                min + (u * (max - min) * (mode - min)).sqrt()
            } else {
                max - ((1.0 - u) * (max - min) * (max - mode)).sqrt()
            }
        }
        Distribution::Beta { min, max, .. } => {
            min + (max - min) * beta.expect("a Beta param has its distribution").sample(draws)
        }
    };
    on_step_basis(param, value)
}

/// The delay of a firing of `trigger` at step `t` of run `run`: fixed, or drawn uniformly from
/// its range with draw `t` of its delay key.
fn delay_of(trigger: &TriggerModel, rng: &mut rng::Addressed, run: u64, t: usize) -> usize {
    if trigger.delay_min == trigger.delay_max {
        return trigger.delay_min as usize;
    }
    let span = f64::from(trigger.delay_max - trigger.delay_min + 1);
    let u = rng.uniform(run, trigger.delay_region, t as u64);
    trigger.delay_min as usize + (u * span) as usize
}

/// What `effect` leaves in its slot, from the slot's value `old` and the effect's value `v`
/// (finite): assigned, added or subtracted, rounded if the slot holds a whole number, and (e)
/// clamped to its bounds.
fn effect_result(effect: &Effect, old: f64, v: f64) -> f64 {
    let new = match effect.op {
        AssignOp::Set => v,
        AssignOp::Add => old + v,
        AssignOp::Sub => old - v,
    };
    let new = if effect.round { round(new) } else { new };
    new.clamp(effect.lo, effect.hi)
}

/// The error of an effect whose value `v` is not finite.
fn effect_error(model: &Model, run: u64, t: usize, trigger: usize, effect: &Effect, v: f64) -> SimError {
    SimError {
        scenario: model.info.id.clone(),
        run,
        step: t,
        trigger: model.triggers[trigger].id.clone(),
        what: format!("an effect on `{}` computed {v}", model.slot_names[effect.slot as usize]),
    }
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

/// A set of small indices, one bit each.
#[derive(Clone, Debug)]
struct Bits(Vec<u64>);

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
    /// Triggers whose `since.` some expression reads (effects included).
    since_read: Vec<bool>,
    /// The slots every run starts from: the model's, with fixed params on the step basis.
    start_slots: Vec<f64>,
    /// The params with draws (not fixed).
    drawn_params: Vec<usize>,
    /// Params drawn only when a probability that reads them is first needed in a run, bit `b`
    /// standing for param `lazy_params[b]`: those only probabilities read, which a run often
    /// never needs. Their draws are addressed, so drawing late gives the same values.
    lazy_params: Vec<usize>,
    /// `param_needs[i]`: the lazy params trigger `i`'s probability reads.
    param_needs: Vec<u64>,
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
        let mut plan = Plan {
            group,
            words,
            readers: vec![0; slots * words],
            watchers: vec![Vec::new(); 1 + triggers],
            slot_watchers: vec![Vec::new(); slots],
            moves: vec![false; (1 + triggers) * row_len],
            row_len,
            since_read: Vec::new(),
            start_slots: model.initial_slots.clone(),
            drawn_params: Vec::new(),
            lazy_params: Vec::new(),
            param_needs: vec![0; triggers],
        };
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
        plan.sort_params(model);
        plan
    }

    /// Fixed params go into the start slots. Of the others, those only probabilities read are
    /// lazy, up to 64 of them; the rest are drawn when a batch starts.
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
        let at_start: Vec<usize> = plan
            .drawn_params
            .iter()
            .copied()
            .filter(|p| !plan.lazy_params.contains(p))
            .collect();
        assert_eq!(names(&at_start), ["in_effect", "in_outcome", "in_when"]);
        assert_eq!(plan.param_needs, [0b10, 0b11]);
        // A fixed param is in the slots every run starts from, on the step basis.
        let fixed = model
            .params
            .iter()
            .find(|p| matches!(p.distribution, Distribution::Fixed(_)));
        let fixed = fixed.unwrap();
        assert_eq!(plan.start_slots[fixed.slot as usize], per_step(0.5, 12.0));
    }

    /// The lockstep engine (`simulate`) against the run-by-run one (`replay`): the same tallies
    /// over runs `first..first + count`, or the same error, that of the lowest failing run.
    fn assert_engines_agree(model: &Model, seed: u64, first: u64, count: u64) {
        struct Nothing;
        impl Observer for Nothing {}
        let mut expected = Ok(Tallies::zero(shape(model)));
        for run in first..first + count {
            match replay(model, seed, run, &mut Nothing) {
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
            if path.ends_with("baseline.toml") {
                assert!(
                    Plan::new(&model).lazy_params.len() >= 20,
                    "the baseline has lazy params"
                );
            }
            // Starts and ends mid-batch and crosses a chunk boundary.
            assert_engines_agree(&model, 5, 37, 600);
        }
        let stress = model_of(STRESS);
        assert!(
            !Plan::new(&stress).lazy_params.is_empty(),
            "the stress scenario has lazy params"
        );
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
}
