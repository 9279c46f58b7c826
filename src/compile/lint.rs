//! Lint: warnings for likely mistakes in a scenario that compiles.
//!
//! In: a compiled [`Model`] and the [`LoadedScenario`] it came from (for spans). Out: warning
//! [`Diagnostic`]s, which never stop a scenario: a trigger that can never fire (its `when` never
//! holds, or its probability is never above 0), an outcome whose `when` never holds, and a param
//! that no expression reads.
//!
//! A warning is given only for what can happen in no run: a false warning would teach authors
//! to ignore them. The analysis bounds the values every slot can take, over all runs and steps,
//! by an interval (and whether it may be NaN). It starts from the initial state with no trigger
//! firing, then adds the counters and the effects of each trigger that may fire, given the
//! bounds so far, until nothing changes (a slot that keeps growing is widened to its declared
//! bounds, so this ends). The result contains every state a run can reach. A condition can hold
//! only if assuming it leaves every slot it compares some value: `x > 3 && x < 2` never holds,
//! nor does `x > 3` when nothing that can fire moves `x` from its initial 0.
//!
//! Warnings are given for text in the file checked, not in the bases it extends: the base's own
//! warnings come when the base is checked, and an entry of the base that a variant makes
//! pointless (a param it no longer reads) is what the variant meant.

use std::ops::Range;

use crate::diagnostic::Diagnostic;
use crate::eval::{Cmp, Node, Program};
use crate::lanes::Interval;
use crate::load::LoadedScenario;
use crate::model::{EffectOp, Model, SLOT_T, TriggerModel, per_step};

/// Rounds of the fixpoint after which a slot that still grows is widened to its bounds.
const WIDEN_AFTER: usize = 64;

/// The warnings for a compiled scenario, in the order of their place in the file.
pub fn lint(model: &Model, loaded: &LoadedScenario) -> Vec<Diagnostic> {
    let in_checked_file = |span: &Range<usize>| {
        loaded.file_span.start <= span.start && span.end <= loaded.file_span.end && !span.is_empty()
    };
    let reach = Reach::of(model);
    let mut warnings = Vec::new();

    for (trigger, fires) in model.triggers.iter().zip(&reach.may_fire) {
        if *fires {
            continue;
        }
        let Some(raw) = loaded
            .raw
            .triggers
            .iter()
            .find(|t| *t.get_ref().id.get_ref() == trigger.id)
        else {
            continue;
        };
        let raw = raw.get_ref();
        match assume(&model.code, trigger.when, true, &reach.slots) {
            None => {
                if let Some(when) = raw.when.as_ref().filter(|w| in_checked_file(&w.span())) {
                    warnings.push(
                        Diagnostic::new(
                            format!("trigger `{}` can never fire: its `when` never holds", trigger.id),
                            when.span(),
                        )
                        .label("never holds")
                        .help(reach.explain(model, trigger.when)),
                    );
                }
            }
            Some(eligible) => {
                let p = eval(&model.code, trigger.probability.root, &eligible);
                if p.hi <= 0.0
                    && let Some(probability) = raw.probability.as_ref().filter(|p| in_checked_file(&p.span()))
                {
                    warnings.push(
                        Diagnostic::new(
                            format!("trigger `{}` can never fire: its probability is never above 0", trigger.id),
                            probability.span(),
                        )
                        .label("never above 0")
                        .help("give a probability above 0; to drop a trigger of the base in a variant, list it in `remove_triggers`"),
                    );
                }
            }
        }
    }

    // Outcomes are also recorded at step 0, before any trigger acts.
    let mut at_any_step = reach.slots.clone();
    at_any_step[SLOT_T as usize] = Value::range(0.0, model.steps as f64);
    for outcome in &model.outcomes {
        let Some(raw) = loaded
            .raw
            .outcomes
            .iter()
            .find(|o| *o.get_ref().id.get_ref() == outcome.id)
        else {
            continue;
        };
        let Some(when) = raw.get_ref().when.as_ref().filter(|w| in_checked_file(&w.span())) else {
            continue;
        };
        if assume(&model.code, outcome.when, true, &at_any_step).is_none() {
            warnings.push(
                Diagnostic::new(format!("outcome `{}` can never hold", outcome.id), when.span())
                    .label("never holds")
                    .help(reach.explain(model, outcome.when)),
            );
        }
    }

    let mut read = vec![false; model.initial_slots.len()];
    let programs = model.triggers.iter().flat_map(|t| [t.when, t.probability]);
    let programs = programs
        .chain(model.effects.iter().map(|e| e.value))
        .chain(model.outcomes.iter().map(|o| o.when));
    for program in programs {
        program.for_each_read(&model.code, &mut |slot, _| read[slot as usize] = true);
    }
    for param in &model.params {
        if read[param.slot as usize] {
            continue;
        }
        let Some((name, _)) = loaded.raw.params.iter().find(|(name, _)| *name.get_ref() == param.name) else {
            continue;
        };
        if in_checked_file(&name.span()) {
            warnings.push(
                Diagnostic::new(format!("param `{}` is never read", param.name), name.span())
                    .label("no `when`, `probability` or effect uses it")
                    .help("use it in an expression, or remove it"),
            );
        }
    }

    warnings.sort_by_key(|w| w.span.as_ref().map_or(0, |s| s.start));
    warnings.into_iter().map(Diagnostic::warning).collect()
}

/// The values of every slot over all runs and steps, and which triggers may fire.
struct Reach {
    slots: Vec<Value>,
    may_fire: Vec<bool>,
    /// Per slot: whether an effect of a trigger that may fire writes it.
    written: Vec<bool>,
}

impl Reach {
    fn of(model: &Model) -> Reach {
        let mut slots: Vec<Value> = model.initial_slots.iter().map(|&v| Value::exactly(v)).collect();
        slots[SLOT_T as usize] = Value::range(1.0, model.steps as f64);
        for param in &model.params {
            let (lo, hi) = param.distribution.support();
            let (lo, hi) = match param.annual {
                Some(steps_per_year) => (per_step(lo, steps_per_year), per_step(hi, steps_per_year)),
                None => (lo, hi),
            };
            // A drawn value is computed in floating point (`min + (max - min) * u`), which may
            // round a hair past the support.
            let margin = if lo == hi { 0.0 } else { 1e-9 * lo.abs().max(hi.abs()) };
            slots[param.slot as usize] = Value::range(lo - margin, hi + margin);
        }
        let mut reach = Reach {
            slots,
            may_fire: vec![false; model.triggers.len()],
            written: vec![false; model.initial_slots.len()],
        };
        for round in 0.. {
            let mut changed = false;
            for (i, trigger) in model.triggers.iter().enumerate() {
                if !reach.may_fire[i] && can_fire(model, trigger, &reach.slots) {
                    reach.may_fire[i] = true;
                    reach.fired(model, trigger);
                    changed = true;
                }
            }
            for (trigger, _) in model.triggers.iter().zip(&reach.may_fire).filter(|(_, fires)| **fires) {
                for effect in &model.effects[trigger.effects.clone()] {
                    let slot = effect.slot as usize;
                    reach.written[slot] = true;
                    let value = eval(&model.code, effect.value.root, &reach.slots);
                    let old = reach.slots[slot];
                    let mut new = old.join(assigned(effect, old, value));
                    if round >= WIDEN_AFTER && new != old {
                        new = new.join(Value::range(effect.lo, effect.hi));
                    }
                    if new != old {
                        reach.slots[slot] = new;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        reach
    }

    /// Adds what a firing of `trigger` does to its counters.
    fn fired(&mut self, model: &Model, trigger: &TriggerModel) {
        let steps = model.steps as f64;
        let most = f64::from(trigger.max_firings).min(steps);
        let join = |slots: &mut Vec<Value>, slot: u32, v: Value| slots[slot as usize] = slots[slot as usize].join(v);
        join(&mut self.slots, trigger.fired_slot, Value::range(0.0, 1.0));
        join(&mut self.slots, trigger.count_slot, Value::range(0.0, most));
        join(&mut self.slots, trigger.since_slot, Value::range(0.0, steps));
    }

    /// Why a condition never holds: the values of the slots it reads.
    fn explain(&self, model: &Model, condition: Program) -> String {
        let mut slots: Vec<u32> = Vec::new();
        condition.for_each_read(&model.code, &mut |slot, _| {
            if !slots.contains(&slot) {
                slots.push(slot);
            }
        });
        let parts: Vec<String> = slots
            .iter()
            .map(|&slot| {
                let name = &model.slot_names[slot as usize];
                let v = self.slots[slot as usize];
                let show = |x: f64| {
                    let levels = &model.slot_levels[slot as usize];
                    match levels.get(x as usize) {
                        Some(level) if x >= 0.0 && x.fract() == 0.0 => format!("`{level}`"),
                        _ => format!("{x}"),
                    }
                };
                if v.lo == v.hi {
                    let why = if self.written[slot as usize] || slot == SLOT_T {
                        ""
                    } else {
                        " (no trigger that can fire changes it)"
                    };
                    format!("`{name}` is always {}{why}", show(v.lo))
                } else {
                    format!("`{name}` stays between {} and {}", show(v.lo), show(v.hi))
                }
            })
            .collect();
        if parts.is_empty() {
            "the condition is false whatever the state".to_string()
        } else {
            format!("in every run, {}", parts.join("; "))
        }
    }
}

/// Whether `trigger` may fire in a state within `slots`: its `when` may hold, and then its
/// probability may lie in (0, 1].
fn can_fire(model: &Model, trigger: &TriggerModel, slots: &[Value]) -> bool {
    let Some(eligible) = assume(&model.code, trigger.when, true, slots) else {
        return false;
    };
    let p = eval(&model.code, trigger.probability.root, &eligible);
    p.hi > 0.0 && p.lo <= 1.0
}

/// What an effect may leave in its slot, from the slot's values and the effect's: a value that
/// is not finite stops the run instead, and the rest is rounded and clamped as the engine does.
fn assigned(effect: &crate::model::Effect, old: Value, value: Value) -> Value {
    let finite = Value {
        lo: value.lo.max(f64::MIN),
        hi: value.hi.min(f64::MAX),
        nan: false,
    };
    if !finite.has_numbers() {
        return Value::NOTHING;
    }
    let apply = |v: Value| match effect.op {
        EffectOp::Set => v,
        EffectOp::Add => old.add(v),
        EffectOp::Sub => old.add(v.neg()),
    };
    let round = |v: Value| {
        if v.has_numbers() {
            Value::range(v.lo.round(), v.hi.round())
        } else {
            v
        }
    };
    // A level moves by whole rungs: the amount rounded and then applied, or the result
    // rounded; both are covered.
    let mut new = apply(finite);
    if effect.round {
        new = round(new).join(apply(round(finite)));
    }
    if new.has_numbers() {
        new.lo = new.lo.clamp(effect.lo, effect.hi);
        new.hi = new.hi.clamp(effect.lo, effect.hi);
    }
    new
}

/// A set of values: the numbers in `[lo, hi]` (none if `lo > hi`), and NaN if `nan`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Value {
    lo: f64,
    hi: f64,
    nan: bool,
}

impl Value {
    const NOTHING: Value = Value {
        lo: f64::INFINITY,
        hi: f64::NEG_INFINITY,
        nan: false,
    };
    const ANY: Value = Value {
        lo: f64::NEG_INFINITY,
        hi: f64::INFINITY,
        nan: true,
    };

    fn exactly(x: f64) -> Value {
        if x.is_nan() {
            Value {
                nan: true,
                ..Value::NOTHING
            }
        } else {
            Value::range(x, x)
        }
    }

    fn range(lo: f64, hi: f64) -> Value {
        Value { lo, hi, nan: false }
    }

    /// The boolean values (0, 1) that may result.
    fn boolean(may_be_true: bool, may_be_false: bool) -> Value {
        Value {
            lo: if may_be_false { 0.0 } else { 1.0 },
            hi: if may_be_true { 1.0 } else { 0.0 },
            nan: false,
        }
    }

    fn has_numbers(self) -> bool {
        self.lo <= self.hi
    }

    fn is_nothing(self) -> bool {
        !self.has_numbers() && !self.nan
    }

    fn contains(self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }

    #[cfg(test)]
    fn holds(self, x: f64) -> bool {
        if x.is_nan() { self.nan } else { self.contains(x) }
    }

    fn has_infinity(self) -> bool {
        self.has_numbers() && (self.lo == f64::NEG_INFINITY || self.hi == f64::INFINITY)
    }

    fn join(self, other: Value) -> Value {
        Value {
            lo: self.lo.min(other.lo),
            hi: self.hi.max(other.hi),
            nan: self.nan || other.nan,
        }
    }

    /// Conditions treat every value but 0 as true, NaN included.
    fn may_be_true(self) -> bool {
        self.nan || (self.has_numbers() && !(self.lo == 0.0 && self.hi == 0.0))
    }

    fn may_be_false(self) -> bool {
        self.contains(0.0)
    }

    /// The numbers of `self` and of `other` combined by `op`, given the combinations of bounds
    /// where the result is extreme (`op` is monotone in each argument between them).
    fn combine(self, other: Value, corners: impl Fn(Value, Value) -> [f64; 4]) -> Value {
        let nan = self.nan || other.nan;
        if !self.has_numbers() || !other.has_numbers() {
            return Value { nan, ..Value::NOTHING };
        }
        let corners = corners(self, other);
        if corners.iter().any(|c| c.is_nan()) {
            return Value::ANY;
        }
        Value {
            lo: corners.iter().copied().fold(f64::INFINITY, f64::min),
            hi: corners.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            nan,
        }
    }

    fn neg(self) -> Value {
        Value {
            lo: -self.hi,
            hi: -self.lo,
            nan: self.nan,
        }
    }

    fn abs(self) -> Value {
        if !self.has_numbers() || self.lo >= 0.0 {
            self
        } else if self.hi <= 0.0 {
            self.neg()
        } else {
            Value {
                lo: 0.0,
                hi: self.hi.max(-self.lo),
                nan: self.nan,
            }
        }
    }

    fn add(self, other: Value) -> Value {
        // inf + -inf is NaN somewhere inside the ranges, not only at a corner.
        if self.has_infinity() && other.has_infinity() {
            return Value::ANY;
        }
        self.combine(other, |a, b| [a.lo + b.lo, a.hi + b.hi, a.lo + b.hi, a.hi + b.lo])
    }

    fn mul(self, other: Value) -> Value {
        // 0 * inf is NaN.
        if (self.contains(0.0) && other.has_infinity()) || (other.contains(0.0) && self.has_infinity()) {
            return Value::ANY;
        }
        self.combine(other, |a, b| [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi])
    }

    fn div(self, other: Value) -> Value {
        // x / 0 is infinite or NaN; inf / inf is NaN.
        if other.contains(0.0) || (self.has_infinity() && other.has_infinity()) {
            return Value::ANY;
        }
        self.combine(other, |a, b| [a.lo / b.lo, a.lo / b.hi, a.hi / b.lo, a.hi / b.hi])
    }

    /// The minimum, whether NaN on one side gives the other side (`f64::min`) or NaN: either
    /// way is covered, so the bounds hold if the engine's choice changes.
    fn min(self, other: Value) -> Value {
        let mut both = Value {
            lo: self.lo.min(other.lo),
            hi: self.hi.min(other.hi),
            nan: self.nan || other.nan,
        };
        if !self.has_numbers() || !other.has_numbers() {
            both = Value {
                nan: both.nan,
                ..Value::NOTHING
            };
        }
        let mut result = both;
        if self.nan {
            result = result.join(Value { nan: false, ..other });
        }
        if other.nan {
            result = result.join(Value { nan: false, ..self });
        }
        result
    }

    fn max(self, other: Value) -> Value {
        self.neg().min(other.neg()).neg()
    }

    fn compare(self, cmp: Cmp, other: Value) -> Value {
        let (a, b) = (self, other);
        let (mut t, mut f) = (false, false);
        if a.nan || b.nan {
            if cmp == Cmp::Ne {
                t = true;
            } else {
                f = true;
            }
        }
        if a.has_numbers() && b.has_numbers() {
            let overlap = a.lo <= b.hi && b.lo <= a.hi;
            let one_value = a.lo == a.hi && b.lo == b.hi && a.lo == b.lo;
            let (may_hold, may_fail) = match cmp {
                Cmp::Lt => (a.lo < b.hi, a.hi >= b.lo),
                Cmp::Le => (a.lo <= b.hi, a.hi > b.lo),
                Cmp::Gt => (a.hi > b.lo, a.lo <= b.hi),
                Cmp::Ge => (a.hi >= b.lo, a.lo < b.hi),
                Cmp::Eq => (overlap, !one_value),
                Cmp::Ne => (!one_value, overlap),
            };
            t |= may_hold;
            f |= may_fail;
        }
        Value::boolean(t, f)
    }
}

/// The values node `node` may take when every slot `s` lies in `slots[s]`.
fn eval(code: &[Node], node: u32, slots: &[Value]) -> Value {
    let eval = |n: u32| eval(code, n, slots);
    #[allow(unreachable_patterns)]
    match code[node as usize] {
        Node::Const(v) => Value::exactly(v),
        Node::Load(slot) => slots[slot as usize],
        Node::CompareSlot(cmp, slot, k) => slots[slot as usize].compare(cmp, Value::exactly(k)),
        Node::Affine(slot, a, b) => Value::exactly(a).add(Value::exactly(b).mul(slots[slot as usize])),
        Node::Compare(cmp, a, b) => eval(a).compare(cmp, eval(b)),
        Node::Neg(a) => eval(a).neg(),
        Node::Not(a) => {
            let a = eval(a);
            Value::boolean(a.may_be_false(), a.may_be_true())
        }
        Node::Abs(a) => eval(a).abs(),
        Node::Add(a, b) => eval(a).add(eval(b)),
        Node::Sub(a, b) => eval(a).add(eval(b).neg()),
        Node::Mul(a, b) => eval(a).mul(eval(b)),
        Node::Div(a, b) => eval(a).div(eval(b)),
        Node::And(a, b) => {
            let (a, b) = (eval(a), eval(b));
            Value::boolean(a.may_be_true() && b.may_be_true(), a.may_be_false() || b.may_be_false())
        }
        Node::Or(a, b) => {
            let (a, b) = (eval(a), eval(b));
            Value::boolean(a.may_be_true() || b.may_be_true(), a.may_be_false() && b.may_be_false())
        }
        Node::Min(a, b) => eval(a).min(eval(b)),
        Node::Max(a, b) => eval(a).max(eval(b)),
        Node::Clamp(x, lo, hi) => {
            let (lo, hi) = (eval(lo), eval(hi));
            let mut v = eval(x).max(lo).min(hi);
            // Bounds that may cross may give NaN.
            v.nan |= lo.has_numbers() && hi.has_numbers() && lo.hi > hi.lo;
            v
        }
        // A kind of node this analysis does not know may take any value: no false warning.
        _ => Value::ANY,
    }
}

/// The slots narrowed to the states where `condition` is `want` (true or false), or `None` if
/// no state within `slots` makes it so.
fn assume(code: &[Node], condition: Program, want: bool, slots: &[Value]) -> Option<Vec<Value>> {
    assume_node(code, condition.root, want, slots.to_vec())
}

fn assume_node(code: &[Node], node: u32, want: bool, mut slots: Vec<Value>) -> Option<Vec<Value>> {
    let join = |a: Option<Vec<Value>>, b: Option<Vec<Value>>| match (a, b) {
        (Some(a), Some(b)) => Some(a.iter().zip(&b).map(|(x, y)| x.join(*y)).collect()),
        (a, b) => a.or(b),
    };
    match code[node as usize] {
        Node::CompareSlot(cmp, slot, k) if !k.is_nan() => {
            let v = &mut slots[slot as usize];
            *v = narrow(*v, cmp, k, want);
            if v.is_nothing() { None } else { Some(slots) }
        }
        // A boolean slot read as a condition holds when it is not 0.
        Node::Load(slot) => {
            let v = &mut slots[slot as usize];
            *v = narrow(*v, Cmp::Ne, 0.0, want);
            if v.is_nothing() { None } else { Some(slots) }
        }
        Node::Not(a) => assume_node(code, a, !want, slots),
        Node::And(a, b) if want => assume_node(code, b, true, assume_node(code, a, true, slots)?),
        Node::Or(a, b) if !want => assume_node(code, b, false, assume_node(code, a, false, slots)?),
        Node::And(a, b) | Node::Or(a, b) => {
            let left = assume_node(code, a, want, slots.clone());
            join(left, assume_node(code, b, want, slots))
        }
        _ => {
            let v = eval(code, node, &slots);
            let possible = if want { v.may_be_true() } else { v.may_be_false() };
            possible.then_some(slots)
        }
    }
}

/// The values of `v` for which `v <cmp> k` is `want`.
fn narrow(v: Value, cmp: Cmp, k: f64, want: bool) -> Value {
    let (interval, negated) = cmp.as_interval(k);
    if want != negated {
        // Inside the interval (and so not NaN).
        return Value {
            lo: v.lo.max(interval.lo),
            hi: v.hi.min(interval.hi),
            nan: false,
        };
    }
    // Outside the interval, or NaN: only a half-line leaves an interval when removed.
    let Interval { lo, hi } = interval;
    let mut out = v;
    if lo > hi {
        // Nothing to remove.
    } else if lo == f64::NEG_INFINITY && hi == f64::INFINITY {
        out = Value {
            nan: v.nan,
            ..Value::NOTHING
        };
    } else if lo == f64::NEG_INFINITY {
        out.lo = out.lo.max(hi.next_up());
    } else if hi == f64::INFINITY {
        out.hi = out.hi.min(lo.next_down());
    } else if lo <= v.lo && v.hi <= hi {
        out = Value {
            nan: v.nan,
            ..Value::NOTHING
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(lo: f64, hi: f64) -> Value {
        Value::range(lo, hi)
    }

    #[test]
    fn arithmetic_bounds_every_result() {
        let samples = [
            -3.0,
            -1.0,
            -0.5,
            0.0,
            0.5,
            2.0,
            7.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        let ranges = [
            r(-3.0, -1.0),
            r(-1.0, 2.0),
            r(0.0, 0.0),
            r(0.5, 7.0),
            r(2.0, f64::INFINITY),
            Value::ANY,
        ];
        type Op = fn(Value, Value) -> Value;
        type Concrete = fn(f64, f64) -> f64;
        let ops: [(Op, Concrete); 8] = [
            (Value::add, |x, y| x + y),
            (Value::mul, |x, y| x * y),
            (Value::div, |x, y| x / y),
            (Value::min, f64::min),
            (Value::max, f64::max),
            // NaN-propagating forms.
            (
                Value::min,
                |x, y| if x.is_nan() || y.is_nan() { f64::NAN } else { x.min(y) },
            ),
            (
                Value::max,
                |x, y| if x.is_nan() || y.is_nan() { f64::NAN } else { x.max(y) },
            ),
            (|a, b| a.add(b.neg()), |x, y| x - y),
        ];
        for (abstract_op, concrete) in ops {
            for a in ranges {
                for b in ranges {
                    let result = abstract_op(a, b);
                    for &x in samples.iter().filter(|&&x| a.holds(x)) {
                        for &y in samples.iter().filter(|&&y| b.holds(y)) {
                            let z = concrete(x, y);
                            assert!(
                                if z.is_nan() { result.nan } else { result.contains(z) },
                                "{x} op {y} = {z} escapes {result:?} (from {a:?}, {b:?})"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn clamp_with_bounds_that_may_cross_may_be_nan() {
        let code = [Node::Const(0.5), Node::Load(0), Node::Const(1.0), Node::Clamp(0, 1, 2)];
        assert!(eval(&code, 3, &[r(0.0, 2.0)]).nan);
        assert!(!eval(&code, 3, &[r(0.0, 1.0)]).nan);
    }

    #[test]
    fn a_level_moved_by_a_fraction_covers_both_roundings() {
        let effect = crate::model::Effect {
            slot: 1,
            op: EffectOp::Add,
            value: Program { root: 0 },
            lo: 0.0,
            hi: 6.0,
            round: true,
        };
        // round(2 - 1.5) = 1, 2 + round(-1.5) = 0.
        let new = assigned(&effect, Value::exactly(2.0), Value::exactly(-1.5));
        assert!(new.contains(0.0) && new.contains(1.0), "{new:?}");
    }

    #[test]
    fn comparisons_say_what_may_hold() {
        let cases = [
            (r(0.0, 2.0), Cmp::Gt, 3.0, false, true),
            (r(0.0, 3.0), Cmp::Gt, 3.0, false, true),
            (r(0.0, 3.0), Cmp::Ge, 3.0, true, true),
            (r(4.0, 5.0), Cmp::Gt, 3.0, true, false),
            (r(1.0, 1.0), Cmp::Eq, 1.0, true, false),
            (r(1.0, 1.0), Cmp::Ne, 1.0, false, true),
            (r(0.0, 1.0), Cmp::Ne, 1.0, true, true),
        ];
        for (v, cmp, k, may_hold, may_fail) in cases {
            let result = v.compare(cmp, Value::exactly(k));
            assert_eq!(
                (result.may_be_true(), result.may_be_false()),
                (may_hold, may_fail),
                "{v:?} {cmp:?} {k}"
            );
            // Narrowing agrees: what is left when the comparison is assumed.
            assert_eq!(!narrow(v, cmp, k, true).is_nothing(), may_hold, "{v:?} {cmp:?} {k}");
            assert_eq!(!narrow(v, cmp, k, false).is_nothing(), may_fail, "{v:?} {cmp:?} {k}");
        }
        // NaN fails every comparison but `!=`.
        let nan = Value::exactly(f64::NAN);
        assert!(!nan.compare(Cmp::Eq, Value::exactly(1.0)).may_be_true());
        assert!(nan.compare(Cmp::Ne, Value::exactly(1.0)).may_be_true());
    }
}

#[cfg(test)]
mod scenario_tests {
    use std::path::Path;

    use super::lint;

    const BASE: &str = r#"[scenario]
name = "lint"
steps = 12
step_unit = "month"

[escalation]
levels = ["calm", "tense", "clash"]
initial = "calm"

[params]
p = 0.1

[actors.a]
name = "A"
x = { initial = 0, min = 0, max = 5 }
alert = false
stance = { levels = ["calm", "hostile"], initial = "calm" }

[[triggers]]
id = "rise"
label = "x rises"
actor = "a"
probability = "p"
repeat = true
effects = ["a.x += 1"]
"#;

    /// The messages of the warnings for `BASE` followed by `extra`, written as `dir/case.toml`.
    fn warnings_in(dir: &Path, extra: &str) -> Vec<String> {
        let path = dir.join("case.toml");
        std::fs::write(&path, format!("{BASE}{extra}")).unwrap();
        let loaded = crate::load::load(&path).unwrap();
        let model = crate::compile::compile(&loaded).unwrap_or_else(|e| panic!("{e}"));
        lint(&model, &loaded).iter().map(|w| w.message.clone()).collect()
    }

    fn warnings(extra: &str) -> Vec<String> {
        warnings_in(tempfile::tempdir().unwrap().path(), extra)
    }

    fn outcome(when: &str) -> String {
        format!("\n[[outcomes]]\nid = \"o\"\nlabel = \"o\"\nwhen = \"{when}\"\n")
    }

    fn trigger(id: &str, when: &str, probability: &str, effects: &str) -> String {
        format!(
            "\n[[triggers]]\nid = \"{id}\"\nlabel = \"{id}\"\nactor = \"a\"\nwhen = \"{when}\"\nprobability = {probability}\neffects = [{effects}]\n"
        )
    }

    #[test]
    fn the_base_has_no_warning() {
        assert_eq!(warnings(""), Vec::<String>::new());
    }

    #[test]
    fn an_outcome_that_never_holds() {
        let never = ["outcome `o` can never hold"];
        // Clamped at its `max`.
        assert_eq!(warnings(&outcome("a.x > 5")), never);
        assert_eq!(warnings(&outcome("a.x >= 5")), Vec::<String>::new());
        // A contradiction in itself.
        assert_eq!(warnings(&outcome("a.x > 3 && a.x < 2")), never);
        assert_eq!(warnings(&outcome("a.x > 3 || a.x < 2")), Vec::<String>::new());
        assert_eq!(warnings(&outcome("!(a.x >= 0)")), never);
        // Nothing changes the stance or the ladder.
        assert_eq!(warnings(&outcome("a.stance == 'hostile'")), never);
        assert_eq!(warnings(&outcome("escalation >= 'clash'")), never);
        let hostile = trigger("turn", "true", "0.1", "\"a.stance = 'hostile'\"");
        assert_eq!(
            warnings(&format!("{hostile}{}", outcome("a.stance == 'hostile'"))),
            Vec::<String>::new()
        );
        let up = trigger("up", "a.x >= 2", "0.1", "'escalation += 1'");
        assert_eq!(
            warnings(&format!("{up}{}", outcome("escalation >= 'clash'"))),
            Vec::<String>::new()
        );
        // Outcomes are recorded at step 0 too.
        assert_eq!(warnings(&outcome("t == 0")), Vec::<String>::new());
        assert_eq!(warnings(&outcome("t > 12")), never);
    }

    #[test]
    fn a_trigger_whose_when_never_holds() {
        let dead = trigger("react", "a.alert", "0.5", "'escalation += 1'");
        assert_eq!(
            warnings(&dead),
            ["trigger `react` can never fire: its `when` never holds"]
        );
        // Something that can fire sets the flag.
        let alarm = trigger("alarm", "a.x >= 3", "0.2", "'a.alert = true'");
        assert_eq!(warnings(&format!("{alarm}{dead}")), Vec::<String>::new());
        // ... but not when that something can never fire itself: both are reported.
        let blocked = trigger("alarm", "a.x >= 6", "0.2", "'a.alert = true'");
        assert_eq!(
            warnings(&format!("{blocked}{dead}")),
            [
                "trigger `alarm` can never fire: its `when` never holds",
                "trigger `react` can never fire: its `when` never holds"
            ]
        );
        // Triggers act from step 1 on.
        let at_zero = trigger("early", "t == 0", "0.5", "");
        assert_eq!(
            warnings(&at_zero),
            ["trigger `early` can never fire: its `when` never holds"]
        );
        // Before X ever fired, `since.X` is larger than any horizon.
        let late = trigger("late", "since.rise > 12", "0.5", "");
        assert_eq!(warnings(&late), Vec::<String>::new());
        let negative = trigger("odd", "since.rise < 0", "0.5", "");
        assert_eq!(
            warnings(&negative),
            ["trigger `odd` can never fire: its `when` never holds"]
        );
    }

    #[test]
    fn a_trigger_whose_probability_is_never_above_zero() {
        let zero = ["trigger `never` can never fire: its probability is never above 0"];
        assert_eq!(warnings(&trigger("never", "true", "0", "")), zero);
        assert_eq!(warnings(&trigger("never", "true", "\"p * 0\"", "")), zero);
        assert_eq!(warnings(&trigger("never", "true", "\"min(p, 0)\"", "")), zero);
        assert_eq!(warnings(&trigger("never", "true", "0.0001", "")), Vec::<String>::new());
        // Positive once x has risen.
        let grows = trigger("never", "true", "\"0.1 * a.x\"", "");
        assert_eq!(warnings(&grows), Vec::<String>::new());
        // A param drawn from [0, 0.1] may be above 0; one fixed at 0 is not.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("case.toml");
        for (p, expected) in [("{ uniform = [0, 0.1] }", 0), ("0", 1)] {
            std::fs::write(&file, BASE.replace("p = 0.1", &format!("p = {p}"))).unwrap();
            let loaded = crate::load::load(&file).unwrap();
            let model = crate::compile::compile(&loaded).unwrap();
            assert_eq!(lint(&model, &loaded).len(), expected, "p = {p}");
        }
    }

    #[test]
    fn a_param_never_read() {
        let with_param = BASE.replace("p = 0.1\n", "p = 0.1\nq = { uniform = [0, 0.1] }\n");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("case.toml");
        std::fs::write(&file, &with_param).unwrap();
        let loaded = crate::load::load(&file).unwrap();
        let model = crate::compile::compile(&loaded).unwrap();
        let found: Vec<String> = lint(&model, &loaded).iter().map(|w| w.message.clone()).collect();
        assert_eq!(found, ["param `q` is never read"]);
        // Read by an effect only, or by a probability: no warning.
        for reader in [
            trigger("use", "true", "0.1", "'a.x += q'"),
            trigger("use", "true", "\"q\"", ""),
        ] {
            std::fs::write(&file, format!("{with_param}{reader}")).unwrap();
            let loaded = crate::load::load(&file).unwrap();
            let model = crate::compile::compile(&loaded).unwrap();
            assert_eq!(lint(&model, &loaded), Vec::new(), "{reader}");
        }
    }

    #[test]
    fn a_variant_is_warned_about_its_own_text_only() {
        let dir = tempfile::tempdir().unwrap();
        let base = BASE.replace("p = 0.1\n", "p = 0.1\nunused = 3\n");
        std::fs::write(dir.path().join("base.toml"), &base).unwrap();
        let variant = dir.path().join("variant.toml");
        let check = |text: &str| -> Vec<String> {
            std::fs::write(&variant, text).unwrap();
            let loaded = crate::load::load(&variant).unwrap();
            let model = crate::compile::compile(&loaded).unwrap();
            lint(&model, &loaded).iter().map(|w| w.message.clone()).collect()
        };
        let header = "extends = \"base.toml\"\n[scenario]\nname = \"variant\"\n";
        assert_eq!(check(header), Vec::<String>::new());
        let own = format!("{header}[params]\nalso_unused = 2\n");
        assert_eq!(check(&own), ["param `also_unused` is never read"]);
        let disabled = format!("{header}[[triggers]]\nid = \"rise\"\nprobability = 0\n");
        assert_eq!(
            check(&disabled),
            ["trigger `rise` can never fire: its probability is never above 0"]
        );
    }
}

#[cfg(test)]
mod soundness_tests {
    use super::{Reach, Value};
    use crate::simulate::{Observer, replay};

    /// Every value a slot takes in simulated runs of the shipped scenarios lies within the
    /// bounds the analysis found, and every trigger that fires is one it says may fire.
    #[test]
    fn simulated_runs_stay_within_the_reachable_bounds() {
        struct Check<'r> {
            reach: &'r Reach,
            names: &'r [String],
        }
        impl Observer for Check<'_> {
            fn fired(&mut self, _: usize, trigger: usize, _: Option<usize>) {
                assert!(self.reach.may_fire[trigger], "trigger {trigger} fired");
            }
            fn step_done(&mut self, step: usize, slots: &[f64]) {
                for (slot, (&x, bound)) in slots.iter().zip(&self.reach.slots).enumerate() {
                    // `t` is bounded for the triggers' steps, 1 and on.
                    let bound = if slot == super::SLOT_T as usize {
                        Value::range(0.0, bound.hi)
                    } else {
                        *bound
                    };
                    assert!(
                        bound.contains(x) || (x.is_nan() && bound.nan),
                        "{} = {x} at step {step}, outside {bound:?}",
                        self.names[slot]
                    );
                }
            }
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        for id in ["baseline", "seoul_arms_kyiv", "china_restrains"] {
            let loaded = crate::load::load(&dir.join(format!("{id}.toml"))).unwrap();
            let model = crate::compile::compile(&loaded).unwrap();
            let reach = Reach::of(&model);
            let mut check = Check {
                reach: &reach,
                names: &model.slot_names,
            };
            for run in 0..200 {
                replay(&model, 7, run, &mut check, &mut ()).unwrap();
            }
        }
    }
}
