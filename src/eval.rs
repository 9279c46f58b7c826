//! Evaluation of compiled expressions.
//!
//! In: a [`Program`] (the root of an expression tree of [`Node`]s in `Model::code`) and slot
//! values: one run's state, or a batch's state lane by lane ([`Lanes`]). Out: the expression's
//! value (run by run or in every lane), or, for a condition, the mask of the lanes where it
//! holds. Evaluation allocates nothing.

use crate::lanes::{Interval, LANES, Lanes, Simd, lanes_in, lanes_where};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    #[inline]
    pub fn test(self, a: f64, b: f64) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }

    /// `x <self> k` as an interval: it holds exactly when `x` lies in the interval, or, if
    /// `negated`, when it does not. A comparison is false for NaN on either side except `!=`,
    /// which is true; NaN lies in no interval, so `!=` is the negation of `==`, and `<`, `>`
    /// are intervals ending one float short of `k`.
    pub fn as_interval(self, k: f64) -> (Interval, bool) {
        let interval = |lo, hi| Interval { lo, hi };
        match self {
            Cmp::Eq => (interval(k, k), false),
            Cmp::Ne => (interval(k, k), true),
            Cmp::Le => (interval(f64::NEG_INFINITY, k), false),
            Cmp::Ge => (interval(k, f64::INFINITY), false),
            // Nothing is below -inf or above +inf.
            Cmp::Lt if k == f64::NEG_INFINITY => (Interval::EMPTY, false),
            Cmp::Gt if k == f64::INFINITY => (Interval::EMPTY, false),
            Cmp::Lt => (interval(f64::NEG_INFINITY, k.next_down()), false),
            Cmp::Gt => (interval(k.next_up(), f64::INFINITY), false),
        }
    }

    /// The comparison with its operands swapped: `c < x` is `x > c`.
    pub(crate) fn flipped(self) -> Cmp {
        match self {
            Cmp::Lt => Cmp::Gt,
            Cmp::Le => Cmp::Ge,
            Cmp::Gt => Cmp::Lt,
            Cmp::Ge => Cmp::Le,
            same => same,
        }
    }
}

/// A node of a compiled expression; children are indices into [`crate::model::Model::code`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Node {
    Const(f64),
    Load(u32),
    /// `slot <cmp> constant`, the most common condition, in one node.
    CompareSlot(Cmp, u32, f64),
    /// `a + b * slot` (slot, a, b), the most common arithmetic in probabilities
    /// (`0.5 + 0.5 * dprk.risk_appetite`, `1 + count.x`), in one node. It computes exactly what
    /// the nodes it replaces did: `x + a` is `a + 1 * x`, `a - x` is `a + (-1) * x`, `a - b * x`
    /// is `a + (-b) * x`, all exact rewrites in IEEE arithmetic.
    Affine(u32, f64, f64),
    Compare(Cmp, u32, u32),
    Neg(u32),
    Not(u32),
    Abs(u32),
    Add(u32, u32),
    Sub(u32, u32),
    Mul(u32, u32),
    Div(u32, u32),
    /// Short-circuit: the right side is evaluated only when needed.
    And(u32, u32),
    Or(u32, u32),
    Min(u32, u32),
    Max(u32, u32),
    Clamp(u32, u32, u32),
    /// `if(cond, a, b)`: only the branch the condition picks is evaluated, except over lanes.
    If(u32, u32, u32),
}

/// A compiled expression: the index of its root in [`crate::model::Model::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Program {
    pub(crate) root: u32,
}

impl Program {
    /// Calls `f(slot, compared_with)` for every read of a slot: `compared_with` is
    /// `Some((cmp, k))` where the read is the comparison `slot <cmp> k` with a constant
    /// (`since.x > 6`), and `None` where the value itself is used.
    pub fn for_each_read(self, code: &[Node], f: &mut impl FnMut(u32, Option<(Cmp, f64)>)) {
        self.for_each_read_at(code, &mut |_, slot, compared_with| f(slot, compared_with));
    }

    /// [`Program::for_each_read`], with the node that reads: `f(node, slot, compared_with)`.
    pub fn for_each_read_at(self, code: &[Node], f: &mut impl FnMut(u32, u32, Option<(Cmp, f64)>)) {
        let mut child = |n: u32| Program { root: n }.for_each_read_at(code, f);
        match code[self.root as usize] {
            Node::Const(_) => {}
            Node::Load(slot) => f(self.root, slot, None),
            Node::CompareSlot(cmp, slot, k) => f(self.root, slot, Some((cmp, k))),
            Node::Affine(slot, ..) => f(self.root, slot, None),
            Node::Neg(a) | Node::Not(a) | Node::Abs(a) => child(a),
            Node::Compare(_, a, b)
            | Node::Add(a, b)
            | Node::Sub(a, b)
            | Node::Mul(a, b)
            | Node::Div(a, b)
            | Node::And(a, b)
            | Node::Or(a, b)
            | Node::Min(a, b)
            | Node::Max(a, b) => {
                child(a);
                child(b);
            }
            Node::Clamp(a, b, c) | Node::If(a, b, c) => {
                child(a);
                child(b);
                child(c);
            }
        }
    }

    /// Evaluates on the state `slots`. Allocates nothing.
    #[inline]
    pub fn eval(self, code: &[Node], slots: &[f64]) -> f64 {
        eval(code, self.root, &slots)
    }

    /// Evaluates on lane `lane` of a batch's slots, where `slots[s][l]` is slot `s` in lane
    /// `l`: exactly what [`Program::eval`] gives on that lane's state.
    #[inline]
    pub fn eval_lane(self, code: &[Node], slots: &[Lanes], lane: usize) -> f64 {
        eval(code, self.root, &(slots, lane))
    }

    /// The program's value in every lane of a batch: exactly what [`Program::eval_lane`] gives
    /// lane by lane. `&&` and `||` evaluate both sides, which gives the same values, as
    /// expressions have no side effects; loops over the 64 lanes compile to SIMD.
    pub fn eval_lanes(self, code: &[Node], slots: &[Lanes], out: &mut Lanes) {
        eval_lanes(code, self.root, slots, out);
    }

    /// The lanes where the program (a condition) holds: bit `l` is lane `l`. Logic over
    /// comparisons of slots works on masks; anything else goes through
    /// [`Program::eval_lanes`]. `simd` is the job's choice of vector instructions; `kept`, the
    /// masks of comparisons the caller keeps up to date ([`KeptMasks::NONE`] if none).
    pub fn eval_mask(self, code: &[Node], slots: &[Lanes], simd: Simd, kept: KeptMasks) -> u64 {
        eval_mask(code, self.root, slots, simd, kept)
    }
}

/// The masks of some leaves of conditions (`slot <cmp> constant`, or a slot read as a truth
/// value), kept up to date as the slots change: `masks[n]` is the mask of node `n` where
/// `kept[n]`, exactly what evaluating the node over the lanes gives (checked in debug builds).
#[derive(Clone, Copy, Debug)]
pub struct KeptMasks<'a> {
    pub kept: &'a [bool],
    pub masks: &'a [u64],
}

impl KeptMasks<'_> {
    pub const NONE: KeptMasks<'static> = KeptMasks { kept: &[], masks: &[] };

    /// The mask of `node`, from `masks` if it is kept, else `computed()`.
    #[inline]
    fn get(self, node: u32, computed: impl Fn() -> u64) -> u64 {
        if self.kept.get(node as usize) == Some(&true) {
            let mask = self.masks[node as usize];
            debug_assert_eq!(mask, computed(), "the kept mask of node {node}");
            mask
        } else {
            computed()
        }
    }
}

/// Where an evaluation reads slots: one run's state, or one lane of a batch's.
trait Slots: Copy {
    fn get(self, slot: u32) -> f64;
}

impl Slots for &[f64] {
    #[inline(always)]
    fn get(self, slot: u32) -> f64 {
        self[slot as usize]
    }
}

impl Slots for (&[Lanes], usize) {
    #[inline(always)]
    fn get(self, slot: u32) -> f64 {
        self.0[slot as usize][self.1]
    }
}

/// Evaluates a node: leaves (constants, slots, `slot <cmp> constant`, the bulk of all nodes)
/// right here, inlined into the caller; the rest through a call to [`eval_inner`].
#[inline(always)]
fn eval(code: &[Node], node: u32, slots: &impl Slots) -> f64 {
    let slots = *slots;
    match code[node as usize] {
        Node::Const(value) => value,
        Node::Load(slot) => slots.get(slot),
        Node::CompareSlot(cmp, slot, value) => truth(cmp.test(slots.get(slot), value)),
        Node::Affine(slot, a, b) => a + b * slots.get(slot),
        _ => eval_inner(code, node, &slots),
    }
}

fn eval_mask(code: &[Node], node: u32, slots: &[Lanes], simd: Simd, kept: KeptMasks) -> u64 {
    match code[node as usize] {
        Node::Const(value) => {
            if value != 0.0 {
                u64::MAX
            } else {
                0
            }
        }
        Node::Load(slot) => kept.get(node, || !lanes_in(&slots[slot as usize], Interval::ZERO, simd)),
        Node::CompareSlot(cmp, slot, value) => kept.get(node, || {
            let (interval, negated) = cmp.as_interval(value);
            let inside = lanes_in(&slots[slot as usize], interval, simd);
            if negated { !inside } else { inside }
        }),
        Node::Not(a) => !eval_mask(code, a, slots, simd, kept),
        Node::And(a, b) => eval_mask(code, a, slots, simd, kept) & eval_mask(code, b, slots, simd, kept),
        Node::Or(a, b) => eval_mask(code, a, slots, simd, kept) | eval_mask(code, b, slots, simd, kept),
        Node::If(c, a, b) => {
            let holds = eval_mask(code, c, slots, simd, kept);
            (holds & eval_mask(code, a, slots, simd, kept)) | (!holds & eval_mask(code, b, slots, simd, kept))
        }
        _ => {
            let mut values = [0.0; LANES];
            eval_lanes(code, node, slots, &mut values);
            lanes_where(&values, |v| v != 0.0)
        }
    }
}

fn eval_lanes(code: &[Node], node: u32, slots: &[Lanes], out: &mut Lanes) {
    macro_rules! each {
        ($x:ident => $e:expr) => {
            for $x in out.iter_mut() {
                *$x = $e;
            }
        };
    }
    macro_rules! binary {
        ($a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
            eval_lanes(code, $a, slots, out);
            let mut right = [0.0; LANES];
            eval_lanes(code, $b, slots, &mut right);
            for ($x, &$y) in out.iter_mut().zip(&right) {
                *$x = {
                    let $x = *$x;
                    $e
                };
            }
        }};
    }
    match code[node as usize] {
        Node::Const(value) => out.fill(value),
        Node::Load(slot) => *out = slots[slot as usize],
        Node::CompareSlot(cmp, slot, value) => {
            for (x, &s) in out.iter_mut().zip(&slots[slot as usize]) {
                *x = truth(cmp.test(s, value));
            }
        }
        Node::Affine(slot, a, b) => {
            for (x, &s) in out.iter_mut().zip(&slots[slot as usize]) {
                *x = a + b * s;
            }
        }
        Node::Compare(cmp, a, b) => binary!(a, b, |x, y| truth(cmp.test(x, y))),
        Node::Neg(a) => {
            eval_lanes(code, a, slots, out);
            each!(x => -*x);
        }
        Node::Not(a) => {
            eval_lanes(code, a, slots, out);
            each!(x => truth(*x == 0.0));
        }
        Node::Abs(a) => {
            eval_lanes(code, a, slots, out);
            each!(x => x.abs());
        }
        Node::Add(a, b) => binary!(a, b, |x, y| x + y),
        Node::Sub(a, b) => binary!(a, b, |x, y| x - y),
        Node::Mul(a, b) => binary!(a, b, |x, y| x * y),
        Node::Div(a, b) => binary!(a, b, |x, y| x / y),
        Node::And(a, b) => binary!(a, b, |x, y| truth(x != 0.0 && y != 0.0)),
        Node::Or(a, b) => binary!(a, b, |x, y| truth(x != 0.0 || y != 0.0)),
        Node::Min(a, b) => binary!(a, b, |x, y| min_of(x, y)),
        Node::Max(a, b) => binary!(a, b, |x, y| max_of(x, y)),
        Node::Clamp(x, lo, hi) => {
            eval_lanes(code, x, slots, out);
            let mut low = [0.0; LANES];
            let mut high = [0.0; LANES];
            eval_lanes(code, lo, slots, &mut low);
            eval_lanes(code, hi, slots, &mut high);
            for ((x, &lo), &hi) in out.iter_mut().zip(&low).zip(&high) {
                *x = clamp_of(*x, lo, hi);
            }
        }
        Node::If(c, a, b) => {
            // Both branches in every lane, then a select: an untaken branch's value (NaN
            // included) is dropped, as the run-by-run evaluation never computes it.
            let mut holds = [0.0; LANES];
            let mut otherwise = [0.0; LANES];
            eval_lanes(code, c, slots, &mut holds);
            eval_lanes(code, a, slots, out);
            eval_lanes(code, b, slots, &mut otherwise);
            for ((x, &holds), &otherwise) in out.iter_mut().zip(&holds).zip(&otherwise) {
                if holds == 0.0 {
                    *x = otherwise;
                }
            }
        }
    }
}

#[inline(never)]
fn eval_inner(code: &[Node], node: u32, slots: &impl Slots) -> f64 {
    // A macro rather than a closure: the closure would be an extra call per node.
    macro_rules! eval {
        ($n:expr) => {
            eval(code, $n, slots)
        };
    }
    match code[node as usize] {
        Node::Const(_) | Node::Load(_) | Node::CompareSlot(..) | Node::Affine(..) => eval!(node),
        Node::Compare(cmp, a, b) => truth(cmp.test(eval!(a), eval!(b))),
        Node::Neg(a) => -eval!(a),
        Node::Not(a) => truth(eval!(a) == 0.0),
        Node::Abs(a) => eval!(a).abs(),
        Node::Add(a, b) => eval!(a) + eval!(b),
        Node::Sub(a, b) => eval!(a) - eval!(b),
        Node::Mul(a, b) => eval!(a) * eval!(b),
        Node::Div(a, b) => eval!(a) / eval!(b),
        Node::And(a, b) => truth(eval!(a) != 0.0 && eval!(b) != 0.0),
        Node::Or(a, b) => truth(eval!(a) != 0.0 || eval!(b) != 0.0),
        Node::Min(a, b) => min_of(eval!(a), eval!(b)),
        Node::Max(a, b) => max_of(eval!(a), eval!(b)),
        Node::Clamp(x, lo, hi) => clamp_of(eval!(x), eval!(lo), eval!(hi)),
        Node::If(c, a, b) => {
            if eval!(c) != 0.0 {
                eval!(a)
            } else {
                eval!(b)
            }
        }
    }
}

/// `min(a, b)`: NaN if either is, where `f64::min` would drop it, so that a NaN stops the run
/// wherever it arises.
#[inline]
fn min_of(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() { f64::NAN } else { a.min(b) }
}

/// `max(a, b)`, NaN if either is.
#[inline]
fn max_of(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() { f64::NAN } else { a.max(b) }
}

/// `clamp(x, lo, hi)`: NaN if any of them is, or if `lo > hi` (no value lies between them); the
/// run then stops as it does for any NaN.
#[inline]
fn clamp_of(x: f64, lo: f64, hi: f64) -> f64 {
    if x.is_nan() || lo.is_nan() || hi.is_nan() || lo > hi {
        f64::NAN
    } else {
        x.max(lo).min(hi)
    }
}

#[inline]
pub(crate) fn truth(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}
