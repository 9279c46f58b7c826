//! The run-by-run engine: a [`Model`], a seed and one run index in; each step of the run shown
//! to a [`Collector`] (as lane 0 of a batch of one), and what happened in it told to an
//! [`Observer`], out.
//!
//! It is the engine of `sim trace` and the reference the lockstep engine (`batch`) is tested
//! against, so it is written to be read rather than to be fast: it follows the step semantics
//! of docs/scenario-format.md line by line, evaluates every `when` at every step, draws every
//! param when the run starts, and decides a firing test as the protocol states it, `u < p` on
//! the uniform (docs/determinism.md). What `batch` does differently to be fast (lazy params,
//! re-evaluating only what changed, thresholds on raw draws) it must do without changing a
//! single tally; `simulate`'s tests hold it to that.

use super::collector::{Collector, Step};
use super::{
    Observer, SimError, betas, delay_of, effect_error, effect_result, index_of, param_value, probability_error,
    value_of,
};
use crate::lanes::{LANES, Lanes};
use crate::model::{Model, SLOT_ESCALATION, SLOT_T};
use crate::rng::Addressed;

/// Simulates run `run` into `collector`, telling `observer` what happens.
pub(super) fn one_run(
    model: &Model,
    seed: u64,
    run: u64,
    observer: &mut impl Observer,
    collector: &mut impl Collector,
) -> Result<(), SimError> {
    let mut state = Run {
        model,
        run,
        rng: Addressed::new(seed),
        slots: model.initial_slots.clone(),
        firings: vec![0; model.triggers.len()],
        last_fired: vec![None; model.triggers.len()],
        fired_now: vec![false; model.triggers.len()],
        pending: Vec::new(),
        max_level: 0,
        seen: vec![false; model.outcomes.len()],
    };
    let betas = betas(model);
    for (p, param) in model.params.iter().enumerate() {
        let value = param_value(param, betas[p].as_ref(), &mut state.rng.sequence(run, param.region));
        state.slots[param.slot as usize] = value;
        observer.param_drawn(p, value);
    }
    state.record(0, collector);
    observer.step_done(0, &state.slots);
    for t in 1..=model.steps {
        state.step(t, observer)?;
        state.record(t, collector);
        observer.step_done(t, &state.slots);
    }
    collector.finish(run, 1);
    Ok(())
}

struct Run<'a> {
    model: &'a Model,
    run: u64,
    rng: Addressed,
    slots: Vec<f64>,
    /// Per trigger: how many times it has fired, the step it last fired, and whether it fired
    /// at the current step.
    firings: Vec<u32>,
    last_fired: Vec<Option<usize>>,
    fired_now: Vec<bool>,
    /// Delayed firings not yet applied: (landing step, trigger), in firing order.
    pending: Vec<(usize, usize)>,
    /// The highest level so far; per outcome, whether it has held at some step so far (step 0,
    /// the initial state, included).
    max_level: usize,
    seen: Vec<bool>,
}

impl Run<'_> {
    /// Step `t`, (a) to (e).
    fn step(&mut self, t: usize, observer: &mut impl Observer) -> Result<(), SimError> {
        let model = self.model;
        self.slots[SLOT_T as usize] = value_of(t);
        // (a) Effects scheduled for this step, in firing order (firing step, then declaration
        // order, since firings are pushed in that order).
        let landing: Vec<usize> = self
            .pending
            .iter()
            .filter(|&&(step, _)| step == t)
            .map(|&(_, trigger)| trigger)
            .collect();
        self.pending.retain(|&(step, _)| step != t);
        for trigger in landing {
            self.apply(t, trigger, true, observer)?;
        }
        // `since.X` counts the steps since X last fired; delayed effects above read it as it
        // was at step t - 1.
        for (trigger, last) in model.triggers.iter().zip(&self.last_fired) {
            if let Some(last) = last {
                self.slots[trigger.since_slot as usize] = value_of(t - last);
            }
        }
        // (b) Every trigger looks at the same state; (c) an eligible one fires if u < p.
        let mut firing = Vec::new();
        for (i, trigger) in model.triggers.iter().enumerate() {
            let out_of_repeats = self.firings[i] >= trigger.max_firings;
            let cooling_down = self.last_fired[i].is_some_and(|last| t <= last + trigger.cooldown as usize);
            if out_of_repeats || cooling_down || trigger.when.eval(&model.code, &self.slots) == 0.0 {
                continue;
            }
            let p = trigger.probability.eval(&model.code, &self.slots);
            if !(0.0..=1.0).contains(&p) {
                return Err(probability_error(model, self.run, t, i, p));
            }
            if self.rng.fires(self.run, trigger.fire_region, t as u64, p) {
                firing.push(i);
            }
        }
        // (d) Counters of every firing first (`count.`, `fired.` and `since.` together, so the
        // effects and outcomes of this step see X fired 0 steps ago), then effects in
        // declaration order, delayed ones scheduled.
        self.fired_now.fill(false);
        for &i in &firing {
            let trigger = &model.triggers[i];
            self.fired_now[i] = true;
            self.firings[i] += 1;
            self.last_fired[i] = Some(t);
            self.slots[trigger.count_slot as usize] = f64::from(self.firings[i]);
            self.slots[trigger.fired_slot as usize] = 1.0;
            self.slots[trigger.since_slot as usize] = 0.0;
        }
        for &i in &firing {
            let trigger = &model.triggers[i];
            let delay = delay_of(trigger, &mut self.rng, self.run, t);
            if delay == 0 {
                observer.fired(t, i, Some(t));
                self.apply(t, i, false, observer)?;
            } else {
                let landing = t + delay;
                observer.fired(t, i, (landing <= model.steps).then_some(landing));
                if landing <= model.steps {
                    self.pending.push((landing, i));
                }
            }
        }
        Ok(())
    }

    /// Applies the effects of trigger `trigger` in declaration order, each on the state the one
    /// before it left.
    fn apply(&mut self, t: usize, trigger: usize, delayed: bool, observer: &mut impl Observer) -> Result<(), SimError> {
        let model = self.model;
        for effect in &model.effects[model.triggers[trigger].effects.clone()] {
            let v = effect.value.eval(&model.code, &self.slots);
            if !v.is_finite() {
                return Err(effect_error(model, self.run, t, trigger, effect, v));
            }
            let old = self.slots[effect.slot as usize];
            let new = effect_result(effect, old, v);
            self.slots[effect.slot as usize] = new;
            observer.changed(t, trigger, effect.slot, old, new, delayed);
        }
        Ok(())
    }

    /// (f) Shows step `t` to the collector, as lane 0 of a batch of one run.
    fn record(&mut self, t: usize, collector: &mut impl Collector) {
        let model = self.model;
        let level = index_of(self.slots[SLOT_ESCALATION as usize]);
        self.max_level = if t == 0 { level } else { self.max_level.max(level) };
        let mask = |b: bool| u64::from(b);
        let mut outcome_holds = Vec::new();
        let mut outcome_first = Vec::new();
        for (o, outcome) in model.outcomes.iter().enumerate() {
            let holds = outcome.when.eval(&model.code, &self.slots) != 0.0;
            outcome_holds.push(mask(holds));
            outcome_first.push(mask(holds && !self.seen[o]));
            self.seen[o] |= holds;
        }
        let lanes: Vec<Lanes> = self.slots.iter().map(|&v| [v; LANES]).collect();
        let mut max_level = [0; LANES];
        max_level[0] = self.max_level;
        collector.step(&Step {
            t,
            first_run: self.run,
            lanes: 1,
            slots: &lanes,
            max_level: &max_level,
            outcome_holds: &outcome_holds,
            outcome_seen: &self.seen.iter().map(|&seen| mask(seen)).collect::<Vec<_>>(),
            outcome_first: &outcome_first,
            firing: &self.fired_now.iter().map(|&now| mask(now && t > 0)).collect::<Vec<_>>(),
            fired: &self
                .last_fired
                .iter()
                .map(|last| mask(last.is_some()))
                .collect::<Vec<_>>(),
        });
    }
}
