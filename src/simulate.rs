//! Simulation: a compiled [`Model`], a seed and a range of run indices in, [`Tallies`] out.
//!
//! Runs are independent: run `i` depends only on the model, the seed and `i` (see `rng`), so a
//! range can be split across threads or machines in any way and the integer tallies added back
//! together give the same result. The per-step loop reads and writes one flat slot array and
//! allocates nothing; scratch space is allocated once per chunk of runs.

use std::sync::atomic::{AtomicU64, Ordering};

use rand_distr::Distribution as _;
use rayon::prelude::*;

use crate::compile::{Distribution, Effect, Model, NEVER_FIRED_SINCE, SLOT_ESCALATION, SLOT_T, per_step};
use crate::expr::AssignOp;
use crate::rng::Addressed;
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

/// What happens inside a run, for traces and analyses; the default methods do nothing, so the
/// plain simulation compiles them away.
pub trait Observer {
    fn param_drawn(&mut self, _param: usize, _value: f64) {}
    fn fired(&mut self, _step: usize, _trigger: usize, _landing_step: Option<usize>) {}
    fn changed(&mut self, _step: usize, _trigger: usize, _slot: u32, _old: f64, _new: f64, _delayed: bool) {}
    fn step_done(&mut self, _step: usize, _slots: &[f64]) {}
}

struct Quiet;
impl Observer for Quiet {}

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
    (0..chunks)
        .into_par_iter()
        .map_init(
            || Scratch::new(model, seed),
            |scratch, chunk| {
                let start = first + chunk * CHUNK_RUNS;
                let end = (start + CHUNK_RUNS).min(first + count);
                let mut tallies = Tallies::zero(shape);
                // A failure in an earlier run makes later chunks pointless; earlier ones still
                // run so that the reported failure is always the lowest run index.
                if start > lowest_failure.load(Ordering::Relaxed) {
                    return Ok(tallies);
                }
                for run in start..end {
                    if let Err(error) = scratch.run(model, run, &mut tallies, &mut Quiet) {
                        lowest_failure.fetch_min(run, Ordering::Relaxed);
                        return Err(error);
                    }
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
    let mut tallies = Tallies::zero(shape(model));
    Scratch::new(model, seed).run(model, run, &mut tallies, observer)?;
    Ok(tallies)
}

/// The cached value if it was computed at the current state `version`, else a fresh one.
#[inline]
fn cached(slot: &mut (u64, f64), version: u64, volatile: bool, eval: impl FnOnce() -> f64) -> f64 {
    if volatile || slot.0 != version {
        *slot = (version, eval());
    }
    slot.1
}

/// Per-worker state, allocated once and reused for every run.
struct Scratch {
    /// Parameters and delays.
    rng: Addressed,
    /// One cursor per trigger, so that each trigger reads its draws in order.
    fire_rngs: Vec<Addressed>,
    slots: Vec<f64>,
    /// Delayed firings not yet applied: (landing step, trigger), in firing order.
    pending: Vec<(usize, usize)>,
    firing: Vec<usize>,
    last_fired: Vec<usize>,
    outcome_seen: Vec<bool>,
    /// Bumped by every change of state; a cached value is valid while its version matches.
    /// Most steps change nothing, so most expressions are not re-evaluated.
    version: u64,
    when_cache: Vec<(u64, f64)>,
    probability_cache: Vec<(u64, f64)>,
    outcome_cache: Vec<(u64, f64)>,
    betas: Vec<Option<rand_distr::Beta<f64>>>,
}

impl Scratch {
    fn new(model: &Model, seed: u64) -> Self {
        let pending_capacity = model
            .triggers
            .iter()
            .filter(|t| t.delay_max > 0)
            .map(|t| (t.max_firings as usize).min(model.steps))
            .sum();
        Scratch {
            rng: Addressed::new(seed),
            fire_rngs: vec![Addressed::new(seed); model.triggers.len()],
            slots: model.initial_slots.clone(),
            pending: Vec::with_capacity(pending_capacity),
            firing: Vec::with_capacity(model.triggers.len()),
            last_fired: vec![0; model.triggers.len()],
            outcome_seen: vec![false; model.outcomes.len()],
            version: 0,
            when_cache: vec![(u64::MAX, 0.0); model.triggers.len()],
            probability_cache: vec![(u64::MAX, 0.0); model.triggers.len()],
            outcome_cache: vec![(u64::MAX, 0.0); model.outcomes.len()],
            betas: model
                .params
                .iter()
                .map(|p| match p.distribution {
                    Distribution::Beta { alpha, beta, .. } => rand_distr::Beta::new(alpha, beta).ok(),
                    _ => None,
                })
                .collect(),
        }
    }

    fn run(
        &mut self,
        model: &Model,
        run: u64,
        tallies: &mut Tallies,
        observer: &mut impl Observer,
    ) -> Result<(), SimError> {
        let code = &model.code;
        self.slots.copy_from_slice(&model.initial_slots);
        self.draw_params(model, run, observer);
        self.pending.clear();
        self.outcome_seen.fill(false);
        // A new run invalidates every cached value.
        self.version += 1;

        let levels = model.levels;
        let mut max_level = self.slots[SLOT_ESCALATION as usize] as usize;
        self.record(model, 0, &mut max_level, tallies);
        observer.step_done(0, &self.slots);

        for t in 1..=model.steps {
            self.slots[SLOT_T as usize] = t as f64;

            // (a) Delayed effects landing now, in firing order.
            let mut i = 0;
            while i < self.pending.len() {
                let (landing, trigger) = self.pending[i];
                if landing == t {
                    self.apply(model, run, t, trigger, true, observer)?;
                }
                i += 1;
            }
            self.pending.retain(|&(landing, _)| landing != t);

            for (i, trigger) in model.triggers.iter().enumerate() {
                let count = self.slots[trigger.count_slot as usize];
                self.slots[trigger.since_slot as usize] = if count > 0.0 {
                    (t - self.last_fired[i]) as f64
                } else {
                    NEVER_FIRED_SINCE
                };
            }

            // (b), (c) Every trigger sees the same snapshot.
            self.firing.clear();
            for (i, trigger) in model.triggers.iter().enumerate() {
                let count = self.slots[trigger.count_slot as usize];
                if count >= trigger.max_firings as f64
                    || (count > 0.0 && t <= self.last_fired[i] + trigger.cooldown as usize)
                    || cached(&mut self.when_cache[i], self.version, trigger.when_volatile, || {
                        trigger.when.eval(code, &self.slots)
                    }) == 0.0
                {
                    continue;
                }
                let p = cached(
                    &mut self.probability_cache[i],
                    self.version,
                    trigger.probability_volatile,
                    || trigger.probability.eval(code, &self.slots),
                );
                if !(0.0..=1.0).contains(&p) {
                    return Err(SimError {
                        scenario: model.info.id.clone(),
                        run,
                        step: t,
                        trigger: trigger.id.clone(),
                        what: format!("probability {p} outside [0, 1]"),
                    });
                }
                if self.fire_rngs[i].uniform(run, trigger.fire_region, t as u64) < p {
                    self.firing.push(i);
                }
            }

            // (d) Counters first, then effects in declaration order.
            if !self.firing.is_empty() {
                self.version += 1;
            }
            for &i in &self.firing {
                let trigger = &model.triggers[i];
                self.slots[trigger.count_slot as usize] += 1.0;
                self.slots[trigger.fired_slot as usize] = 1.0;
                self.last_fired[i] = t;
                tallies.trigger_firings[i] += 1;
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
                    self.apply(model, run, t, i, false, observer)?;
                } else {
                    let landing = t + delay;
                    observer.fired(t, i, (landing <= model.steps).then_some(landing));
                    if landing <= model.steps {
                        self.pending.push((landing, i));
                    }
                }
            }

            // (e) is done by `apply`; (f) record.
            self.record(model, t, &mut max_level, tallies);
            observer.step_done(t, &self.slots);
        }
        debug_assert!(max_level < levels);
        tallies.runs += 1;
        Ok(())
    }

    fn draw_params(&mut self, model: &Model, run: u64, observer: &mut impl Observer) {
        for (i, param) in model.params.iter().enumerate() {
            let value = match param.distribution {
                Distribution::Fixed(v) => v,
                Distribution::Uniform { min, max } => min + (max - min) * self.rng.uniform(run, param.region, 0),
                Distribution::Triangular { min, mode, max } => {
                    let u = self.rng.uniform(run, param.region, 0);
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
                    let mut sequence = self.rng.sequence(run, param.region);
                    min + (max - min) * beta.sample(&mut sequence)
                }
            };
            let value = match param.annual {
                Some(steps_per_year) => per_step(value, steps_per_year),
                None => value,
            };
            self.slots[param.slot as usize] = value;
            self.version += 1;
            observer.param_drawn(i, value);
        }
    }

    fn apply(
        &mut self,
        model: &Model,
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
                new = new.round();
            }
            new = new.clamp(lo, hi);
            if new != old {
                self.version += 1;
            }
            self.slots[slot as usize] = new;
            observer.changed(t, trigger, slot, old, new, delayed);
        }
        Ok(())
    }

    fn record(&mut self, model: &Model, t: usize, max_level: &mut usize, tallies: &mut Tallies) {
        let shape = tallies.shape;
        let level = self.slots[SLOT_ESCALATION as usize] as usize;
        *max_level = (*max_level).max(level);
        tallies.level_at[t * shape.levels + level] += 1;
        tallies.max_level_at[t * shape.levels + *max_level] += 1;
        for (o, outcome) in model.outcomes.iter().enumerate() {
            let holds = cached(&mut self.outcome_cache[o], self.version, outcome.volatile, || {
                outcome.when.eval(&model.code, &self.slots)
            }) != 0.0;
            if holds {
                tallies.outcome_holds[t * shape.outcomes + o] += 1;
                self.outcome_seen[o] |= t > 0;
            }
            if self.outcome_seen[o] {
                tallies.outcome_by[t * shape.outcomes + o] += 1;
            }
        }
        for (i, trigger) in model.triggers.iter().enumerate() {
            if self.slots[trigger.count_slot as usize] > 0.0 {
                tallies.trigger_fired_by[t * shape.triggers + i] += 1;
            }
        }
    }
}
