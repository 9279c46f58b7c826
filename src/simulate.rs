//! Simulation: a compiled [`Model`], a seed, a range of run indices and a [`Collector`] in;
//! the collector, fed every step of every run, out.
//!
//! Runs are independent: run `i` depends only on the model, the seed and `i` (see `rng`), so a
//! range can be split across threads or machines in any way, and collectors that keep integer
//! counts add back up to the same result. Scratch space is allocated once per piece of parallel
//! work (rayon's `map_init`) and reused for all its runs; the lockstep engine's step loop
//! allocates nothing.
//!
//! Two engines give the same runs, draw for draw, and feed collectors through the same seam
//! (`collector`: lane masks and slot values of a step):
//! - [`collect`] steps 64 consecutive runs in lockstep (`batch`): conditions, probabilities
//!   and outcomes are evaluated for all 64 at once, and sets of runs are bit masks. It is what
//!   `sim run` uses, and all the speed is there (its module header says how).
//! - [`replay`] steps one run (`one_run`), telling an [`Observer`] what happens: `sim trace`
//!   uses it, and it is the plain, slow reference the tests hold the lockstep engine to, run
//!   by run and collector by collector, on the shipped scenarios and on generated ones
//!   (`differential`).
//!
//! What both share lives here: how a param's value is drawn (`param_value`), a delay
//! (`delay_of`) and an effect's result (`effect_result`), and the conversions between slot
//! values and counts. `plan` holds what the lockstep engine derives from a model once per job.

use rand_distr::Distribution as _;

mod batch;
mod collector;
#[cfg(test)]
mod differential;
mod one_run;
mod paired;
mod plan;

pub use collector::{Collector, Needs, Step, lanes_of};
pub use paired::{BaseStep, PairCollector, PairedResults, collect_paired};

use crate::lanes::Simd;
use crate::model::{Distribution, Effect, EffectOp, Model, ParamModel, TriggerModel, per_step};
use crate::rng;

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
        // Clamping bounds a value that strays, but a NaN stays NaN through every function.
        let fix = if self.what.contains("NaN") {
            "find where it divides 0 by 0 or subtracts infinities (clamp cannot repair a NaN)"
        } else {
            "bound the expression (e.g. with clamp(x, 0, 1))"
        };
        write!(
            f,
            "scenario `{}`, run {}, step {}: {} of trigger `{}`\n  = help: reproduce it with `sim trace <file> --run {}` and {fix}",
            self.scenario, self.run, self.step, self.what, self.trigger, self.run
        )
    }
}

impl std::error::Error for SimError {}

/// What happens inside a run replayed by [`replay`], for traces; the default methods do
/// nothing. (Counting over many runs is a [`Collector`]'s job.)
pub trait Observer {
    fn param_drawn(&mut self, _param: usize, _value: f64) {}
    /// Trigger `trigger` fired at `step`; its effects land at `landing_step` (`step` itself when
    /// it has no delay), or never when that is past the horizon.
    fn fired(&mut self, _step: usize, _trigger: usize, _landing_step: Option<usize>) {}
    fn changed(&mut self, _step: usize, _trigger: usize, _slot: u32, _old: f64, _new: f64, _delayed: bool) {}
    fn step_done(&mut self, _step: usize, _slots: &[f64]) {}
}

/// An observer that ignores everything.
pub struct Unobserved;

impl Observer for Unobserved {}

/// Simulates runs `first..first + count` with the lockstep engine on the current rayon pool,
/// into collectors like `empty` (one per piece of work, merged), with the vector instructions
/// `simd`. `progress` is called with the number of runs finished, as they finish.
pub fn collect<C: Collector>(
    model: &Model,
    runs: (u64, u64, u64),
    empty: &C,
    simd: Simd,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<C, SimError> {
    let alone = (empty.empty(), Vec::<(C, ())>::new());
    paired::collect_paired(model, &[], runs, &alone, simd, progress).map(|(collected, _)| collected)
}

/// Replays run `run` with the run-by-run engine, into `collector` and telling `observer` what
/// happens (for `sim trace`): the same run as inside [`collect`].
pub fn replay(
    model: &Model,
    seed: u64,
    run: u64,
    observer: &mut impl Observer,
    collector: &mut impl Collector,
) -> Result<(), SimError> {
    one_run::one_run(model, seed, run, observer, collector)
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
/// (finite): assigned, added or subtracted, and clamped to its bounds. On a slot holding a
/// whole number (a level) the amount is rounded before it is applied, so `-= 1.5` moves as
/// many rungs down as `+= 1.5` moves up; rounding `old - v` instead would move 1 rung down
/// and 2 up, since halves round away from zero.
fn effect_result(effect: &Effect, old: f64, v: f64) -> f64 {
    let v = if effect.round { round(v) } else { v };
    let new = match effect.op {
        EffectOp::Set => v,
        EffectOp::Add => old + v,
        EffectOp::Sub => old - v,
    };
    new.clamp(effect.lo, effect.hi)
}

/// The error of trigger `trigger` in run `run` at step `t`.
fn run_error(model: &Model, run: u64, t: usize, trigger: usize, what: String) -> SimError {
    SimError {
        scenario: model.info.id.clone(),
        run,
        step: t,
        trigger: model.triggers[trigger].id.clone(),
        what,
    }
}

/// The error of a probability `p` outside [0, 1] (or NaN).
fn probability_error(model: &Model, run: u64, t: usize, trigger: usize, p: f64) -> SimError {
    run_error(model, run, t, trigger, format!("probability {p} outside [0, 1]"))
}

/// The error of an effect whose value `v` is not finite.
fn effect_error(model: &Model, run: u64, t: usize, trigger: usize, effect: &Effect, v: f64) -> SimError {
    let what = format!("an effect on `{}` computed {v}", model.slot_names[effect.slot as usize]);
    run_error(model, run, t, trigger, what)
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

#[cfg(test)]
mod tests {
    use super::plan::Plan;
    use super::*;
    use crate::tally::lift::Lift;
    use crate::tally::paths::Paths;
    use crate::tally::precursors::Precursors;
    use crate::tally::sensitivity::Sensitivity;
    use crate::tally::{Shape, Tallies};

    #[test]
    fn a_run_error_suggests_clamp_only_where_it_helps() {
        let error = |what: &str| {
            SimError {
                scenario: "s".into(),
                run: 7,
                step: 3,
                trigger: "t".into(),
                what: what.into(),
            }
            .to_string()
        };
        assert!(error("probability 1.5 outside [0, 1]").contains("clamp(x, 0, 1)"));
        let nan = error("probability NaN outside [0, 1]");
        assert!(
            !nan.contains("clamp(x, 0, 1)") && nan.contains("divides 0 by 0"),
            "{nan}"
        );
        assert!(nan.contains("sim trace <file> --run 7"), "{nan}");
    }

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
        let tallies = collect(
            &model,
            (1, 0, 10),
            &Tallies::zero(Shape::of(&model)),
            Simd::detect(),
            &|_| {},
        )
        .unwrap();
        assert_eq!(tallies.runs, 10);
        assert_eq!(tallies.trigger_fired_by[1], 10, "p = 1 fires at step 1 in every run");
        assert_eq!(tallies.level_at[3 * 2 + 1], 10, "every run ends at `tense`");
    }

    /// A model from scenario text, through the real loader and compiler.
    fn model_of(text: &str) -> Model {
        try_model_of(text).unwrap()
    }

    /// [`model_of`], or the diagnostics that refuse the text.
    pub(super) fn try_model_of(text: &str) -> Result<Model, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scenario.toml");
        std::fs::write(&path, text).unwrap();
        let loaded = crate::load::load(&path).map_err(|e| e.to_string())?;
        crate::compile::compile(&loaded).map_err(|e| e.to_string())
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
        let plan = Plan::new(&model, Needs::default());
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

    /// Everything a step shows of each run, by run: for every step, a hash of the run's lane of
    /// every slot and mask. It needs every param, `since.`, `count.` and `fired.`, so every slot
    /// holds its value.
    #[derive(Debug, PartialEq)]
    pub(super) struct RunLog(std::collections::BTreeMap<u64, Vec<u64>>);

    impl Collector for RunLog {
        fn empty(&self) -> Self {
            RunLog(Default::default())
        }

        fn needs(&self) -> Needs {
            Needs {
                params: true,
                since: true,
                counts: true,
            }
        }

        fn step(&mut self, step: &Step<'_>) {
            use std::hash::{Hash, Hasher};
            for lane in lanes_of(step.lanes) {
                // SipHash with fixed keys: the same on every run of the tests.
                let mut hash = std::hash::DefaultHasher::new();
                step.t.hash(&mut hash);
                step.max_level[lane].hash(&mut hash);
                for slot in step.slots {
                    slot[lane].to_bits().hash(&mut hash);
                }
                let masks = [
                    step.outcome_holds,
                    step.outcome_seen,
                    step.outcome_first,
                    step.firing,
                    step.fired,
                ];
                for mask in masks.into_iter().flatten() {
                    (mask >> lane & 1).hash(&mut hash);
                }
                let run = step.first_run + lane as u64;
                self.0.entry(run).or_default().push(hash.finish());
            }
        }

        fn merge(&mut self, other: Self) {
            for (run, steps) in other.0 {
                assert!(self.0.insert(run, steps).is_none(), "run {run} collected twice");
            }
        }
    }

    /// Every collector there is, and the test's own.
    pub(super) type Everything = (Tallies, (Precursors, (Sensitivity, (RunLog, (Paths, Lift)))));

    pub(super) fn everything(model: &Model) -> Everything {
        let shape = Shape::of(model);
        (
            Tallies::zero(shape),
            (
                Precursors::new(shape),
                (
                    Sensitivity::new(model),
                    (RunLog(Default::default()), (Paths::new(model), Lift::new(shape))),
                ),
            ),
        )
    }

    /// The lockstep engine (`collect`) against the run-by-run one (`replay`): the same result of
    /// every collector over runs `first..first + count`, or the same error, that of the lowest
    /// failing run.
    fn assert_engines_agree(model: &Model, seed: u64, first: u64, count: u64) {
        let _ = agreed(model, seed, first, count);
    }

    /// [`assert_engines_agree`], giving the tallies both engines agree on.
    pub(super) fn agreed(model: &Model, seed: u64, first: u64, count: u64) -> Result<Tallies, SimError> {
        agreed_on(model, seed, first, count, &everything(model)).map(|(tallies, _)| tallies)
    }

    /// The result of collector `empty` both engines agree on. The lockstep engine's tallies
    /// with the collector are also those it gives alone: what a collector needs changes no
    /// result.
    pub(super) fn agreed_on<C: Collector + PartialEq + std::fmt::Debug>(
        model: &Model,
        seed: u64,
        first: u64,
        count: u64,
        empty: &C,
    ) -> Result<C, SimError> {
        let mut expected = Ok(empty.empty());
        for run in first..first + count {
            let mut one = empty.empty();
            match replay(model, seed, run, &mut Unobserved, &mut one) {
                Ok(()) => {
                    if let Ok(sum) = &mut expected {
                        sum.merge(one);
                    }
                }
                Err(error) => {
                    expected = Err(error);
                    break;
                }
            }
        }
        // The lockstep engine in every form of vector instructions this processor has: the
        // portable code of processors without AVX2 is run here too.
        let mut got = None;
        for simd in Simd::available() {
            let with = collect(
                model,
                (seed, first, count),
                &(Tallies::zero(Shape::of(model)), empty.empty()),
                simd,
                &|_| {},
            );
            let alone = collect(
                model,
                (seed, first, count),
                &Tallies::zero(Shape::of(model)),
                simd,
                &|_| {},
            );
            assert!(
                with.as_ref().map(|(tallies, _)| tallies) == alone.as_ref(),
                "{}: the tallies change with what a collector needs ({simd})",
                model.info.id
            );
            let with = with.map(|(_, collected)| collected);
            assert!(
                with == expected,
                "{}: runs {first}..{}, seed {seed}, {simd}",
                model.info.id,
                first + count
            );
            got = Some(with);
        }
        got.expect("every processor has a form")
    }

    /// The scenario text of `body` (actors, triggers, outcomes) on a ladder of five rungs
    /// starting at the middle one, over `steps` steps.
    fn on_five_rungs(steps: usize, body: &str) -> String {
        format!(
            "[scenario]\nname = \"s\"\nsteps = {steps}\nstep_unit = \"month\"\n\
             [escalation]\nlevels = [\"a\", \"b\", \"c\", \"d\", \"e\"]\ninitial = \"c\"\n{body}"
        )
    }

    /// `+= n` and `-= n` on a level move `n` rounded (half away from zero) rungs, in both
    /// directions alike: the amount is rounded, then applied.
    #[test]
    fn fractional_moves_round_the_amount_then_apply_it() {
        let levels = r#"{ levels = ["a", "b", "c", "d", "e"], initial = "c" }"#;
        let model = model_of(&on_five_rungs(
            1,
            &format!(
                "[actors.x]\nname = \"X\"\nup = {levels}\nhalf_down = {levels}\nback_up = {levels}\n\
                 [[triggers]]\nid = \"move\"\nlabel = \"move\"\nactor = \"x\"\nprobability = 1\n\
                 effects = [\"escalation -= 1.5\", \"x.up += 1.5\", \"x.half_down -= 0.5\", \"x.back_up -= -1.5\"]\n\
                 [[outcomes]]\nid = \"up_two\"\nlabel = \"up two\"\nwhen = \"x.up == 'e'\"\n\
                 [[outcomes]]\nid = \"down_one\"\nlabel = \"down one\"\nwhen = \"x.half_down == 'b'\"\n\
                 [[outcomes]]\nid = \"back_up_two\"\nlabel = \"back up two\"\nwhen = \"x.back_up == 'e'\"\n"
            ),
        ));
        let runs = 3;
        let tallies = agreed(&model, 1, 0, runs).unwrap();
        assert_eq!(
            tallies.level_at[5], runs,
            "escalation -= 1.5 moves 2 rungs down, from c to a"
        );
        assert_eq!(&tallies.outcome_holds[3..], [runs; 3], "+= 1.5, -= 0.5, -= -1.5");
    }

    /// A slot set to -0 where it held 0 holds -0 in both engines: `1 / x` tells them apart
    /// (-inf against +inf), so a skipped write would change which runs fire.
    #[test]
    fn negative_zero_is_written_like_any_other_value() {
        let model = model_of(&on_five_rungs(
            4,
            r#"
[actors.x]
name = "X"
v = 0.0
[[triggers]]
id = "negate"
label = "negate"
actor = "x"
when = "t == 1"
probability = 1
effects = ["x.v = 0 * -1"]
[[triggers]]
id = "sign"
label = "sign"
actor = "x"
when = "fired.negate"
probability = "clamp(1 / x.v, 0, 1)"
[[outcomes]]
id = "signed"
label = "sign fired"
when = "fired.sign"
"#,
        ));
        let tallies = agreed(&model, 1, 0, 10).unwrap();
        assert_eq!(tallies.outcome_by[4], 0, "1 / -0 is -inf: `sign` never fires at step 4");
    }

    /// `since.X`, `fired.X` and `count.X` change together, when X fires: X's immediate effects,
    /// those of triggers firing after it in the same step and that step's outcomes read
    /// `since.X == 0`, never a stale gap beside `fired.X`; a delayed effect landing at the next
    /// step reads it as of the step before, 0 too.
    #[test]
    fn since_count_and_fired_change_together() {
        let model = model_of(&on_five_rungs(
            3,
            r#"
[actors.x]
name = "X"
v = 5
u = 5
w = 7
[[triggers]]
id = "a"
label = "a"
actor = "x"
probability = 1
effects = ["x.v = since.a"]
[[triggers]]
id = "b"
label = "b"
actor = "x"
when = "t == 1"
probability = 1
effects = ["x.u = since.a + count.a"]
[[triggers]]
id = "c"
label = "c"
actor = "x"
when = "t == 1"
probability = 1
delay = 1
effects = ["x.w = since.a"]
[[outcomes]]
id = "stale"
label = "stale"
when = "fired.a && since.a == 1000000"
[[outcomes]]
id = "now"
label = "now"
when = "fired.a && since.a == 0 && count.a == 1"
[[outcomes]]
id = "values"
label = "values"
when = "x.v == 0 && x.u == 1 && x.w == 0"
"#,
        ));
        let runs = 5;
        let tallies = agreed(&model, 1, 0, runs).unwrap();
        let by_step = |table: &[u64]| table.chunks(3).map(<[u64]>::to_vec).collect::<Vec<_>>();
        assert_eq!(
            by_step(&tallies.outcome_holds),
            [[0, 0, 0], [0, runs, 0], [0, 0, runs], [0, 0, runs]],
            "per step: stale, now, values"
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

    /// A scenario of `n` params, triggers and outcomes, each trigger reading its own param.
    fn many_of_everything(n: usize) -> String {
        let mut text = String::from(
            "[scenario]\nname = \"many\"\nsteps = 24\nstep_unit = \"month\"\n\
             [escalation]\nlevels = [\"a\", \"b\", \"c\", \"d\"]\ninitial = \"b\"\n\
             [actors.x]\nname = \"X\"\nv = { initial = 0, min = 0, max = 50 }\n[params]\n",
        );
        for i in 0..n {
            text += &format!("p{i} = {{ uniform = [0.0, {:.3}] }}\n", 0.02 + 0.002 * i as f64);
        }
        for i in 0..n {
            let (when, effect) = if i % 2 == 0 {
                ("escalation < 'd'", "escalation += 1")
            } else {
                ("escalation > 'a'", "escalation -= 1")
            };
            text += &format!(
                "[[triggers]]\nid = \"t{i}\"\nlabel = \"t{i}\"\nactor = \"x\"\nwhen = \"{when}\"\n\
                 probability = \"p{i}\"\nrepeat = {}\neffects = [\"{effect}\", \"x.v += 1\"]\n",
                1 + i % 4
            );
        }
        for i in 0..n {
            text += &format!(
                "[[outcomes]]\nid = \"o{i}\"\nlabel = \"o{i}\"\nwhen = \"x.v >= {}\"\n",
                i % 20
            );
        }
        text
    }

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
            let plan = Plan::new(&model, Needs::default());
            if path.ends_with("baseline.toml") {
                assert!(plan.lazy_params.len() >= 20, "the baseline has lazy params");
                // Most leaves of its conditions are kept masks (`Plan::kept`), which the
                // evaluator checks against the slots in debug builds.
                assert!(plan.kept_leaves.len() >= 40, "{} kept leaves", plan.kept_leaves.len());
            }
            // None on a slot that changes other than by a watched write.
            let since: Vec<u32> = model.triggers.iter().map(|t| t.since_slot).collect();
            for &(_, slot, _) in &plan.kept_leaves {
                assert!(slot != crate::model::SLOT_T && !since.contains(&slot) && !plan.wide[slot as usize]);
                assert!(model.params.iter().all(|p| p.slot != slot));
            }
            // Starts and ends mid-batch and crosses a chunk boundary.
            assert_engines_agree(&model, 5, 37, 600);
        }
        let stress = model_of(STRESS);
        assert!(
            !Plan::new(&stress, Needs::default()).lazy_params.is_empty(),
            "the stress scenario has lazy params"
        );
        // More than 64 triggers, params and outcomes: sets of programs span several words, and
        // only 64 params can be lazy.
        // The ladder, which every trigger reads, is a wide slot (`Plan::wide`).
        let many = model_of(&many_of_everything(70));
        let plan = Plan::new(&many, Needs::default());
        assert_eq!(plan.lazy_params.len(), 64);
        assert!(plan.wide[crate::model::SLOT_ESCALATION as usize]);
        assert!(
            plan.kept_leaves
                .iter()
                .all(|&(_, slot, _)| slot != crate::model::SLOT_ESCALATION)
        );
        assert_engines_agree(&many, 2, 100, 300);
        // Between 32 and 64 watchers: wide, and read by probabilities too, which are evaluated
        // lane by lane where the slot changed in few lanes (`Batch::touch_wide`).
        let forty = model_of(
            &many_of_everything(40).replace(r#"probability = "p"#, r#"probability = "0.5 * min(1, 0.02 * x.v) + p"#),
        );
        let plan = Plan::new(&forty, Needs::default());
        let v = forty.slot_names.iter().position(|name| name == "x.v").expect("x.v") as u32;
        assert!(plan.wide[crate::model::SLOT_ESCALATION as usize] && plan.wide[v as usize]);
        assert!(forty.triggers.iter().all(|t| {
            let mut reads = false;
            t.probability
                .for_each_read(&forty.code, &mut |slot, _| reads |= slot == v);
            reads
        }));
        assert_engines_agree(&forty, 3, 7, 300);
        for seed in 0..4 {
            assert_engines_agree(&stress, seed, seed * 1000 + 13, 700);
        }
        assert_engines_agree(&stress, 9, 0, 1);
        // `if` in a probability, a condition, an outcome and an effect on an enumeration.
        let conditional = model_of(
            &STRESS
                .replace(
                    r#"probability = "p_often""#,
                    r#"probability = "if(a.mode == 'on', p_rare, if(gate > 0.7, p_often, 0.1))""#,
                )
                .replace(r#"when = "a.x >= 2""#, r#"when = "if(fired.late, a.x >= 3, a.x >= 2)""#)
                .replace(r#""a.mode = 'max'""#, r#""a.mode = if(a.x > 1, 'max', 'on')""#)
                .replace(
                    r#"when = "a.flag""#,
                    r#"when = "if(escalation >= 'crisis', a.flag, !a.flag && t > 10)""#,
                ),
        );
        assert_eq!(
            conditional
                .code
                .iter()
                .filter(|n| matches!(n, crate::eval::Node::If(..)))
                .count(),
            5
        );
        for seed in 0..3 {
            assert_engines_agree(&conditional, seed, seed * 1000 + 7, 700);
        }
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
        // Every run fails at the first trigger in step 1, before the second one's probability
        // is ever computed: nothing is drawn for the dead lanes (in debug builds, a threshold
        // of a probability outside [0, 1) is an assertion failure).
        let all_fail = model_of(
            "[scenario]\nname = \"all fail\"\nsteps = 3\nstep_unit = \"month\"\n\
             [escalation]\nlevels = [\"calm\", \"war\"]\ninitial = \"calm\"\n\
             [actors.a]\nname = \"A\"\n\
             [[triggers]]\nid = \"first\"\nlabel = \"first\"\nactor = \"a\"\nprobability = \"2 * t\"\n\
             [[triggers]]\nid = \"second\"\nlabel = \"second\"\nactor = \"a\"\nprobability = \"0.5\"\n",
        );
        let error = collect(
            &all_fail,
            (1, 0, 70),
            &Tallies::zero(Shape::of(&all_fail)),
            Simd::detect(),
            &|_| {},
        )
        .expect_err("every run fails");
        assert_eq!(
            (error.run, error.step, error.trigger.as_str()),
            (0, 1, "first"),
            "{error}"
        );
        assert_engines_agree(&all_fail, 1, 0, 70);
        for model in [&invalid, &infinite] {
            let error = collect(
                model,
                (3, 100, 2000),
                &Tallies::zero(Shape::of(model)),
                Simd::detect(),
                &|_| {},
            )
            .expect_err("some run fails");
            assert!(error.run > 100, "{error}: not every run fails");
            assert_engines_agree(model, 3, 100, 2000);
            // The failing run alone, and a batch with it last.
            assert_engines_agree(model, 3, error.run, 1);
            assert_engines_agree(model, 3, error.run - 63, 64);
        }
    }
}
