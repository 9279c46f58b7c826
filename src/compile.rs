//! Compilation: a [`LoadedScenario`] in, a validated, flat [`Model`] out.
//!
//! In: the merged raw scenario with its spans. Out: a [`Model`] whose state is one flat array
//! of `f64` slots and whose expressions are stack-machine [`Program`]s over those slots, so the
//! simulation does no parsing, hashing, string lookup or allocation. Every problem found becomes
//! a [`Diagnostic`] with the file, line and column of the offending text; all of them are
//! reported together.

use std::collections::HashMap;
use std::ops::Range;

use toml::Spanned;

use crate::aggregate::{ActorInfo, OutcomeInfo, ParamInfo, ScenarioInfo, TriggerInfo};
use crate::diagnostic::{Diagnostic, ScenarioError, Sources, StringMap};
use crate::expr::{self, AssignOp, BinaryOp, Expr, ExprKind, UnaryOp};
use crate::load::{ExprSource, Literal, LoadedScenario, RawDelay, RawParam, RawRepeat, RawVar};
use crate::rng;

pub mod lint;

/// `since.X` before X has ever fired: larger than any horizon, so `since.X > n` holds.
pub const NEVER_FIRED_SINCE: f64 = 1_000_000.0;
pub const MAX_STEPS: usize = 10_000;
const DEFAULT_RUNS: u64 = 10_000;

// Model limits (docs/scenario-format.md, "Limits"). They keep what `check` accepts within a
// bounded memory and output size, and text handling fast; docs/performance.md measures the
// worst case they allow.
pub const MAX_TRIGGERS: usize = 1_000;
pub const MAX_OUTCOMES: usize = 200;
/// Levels of the ladder or of one enumeration.
pub const MAX_LEVELS: usize = 100;
pub const MAX_PARAMS: usize = 1_000;
pub const MAX_ACTORS: usize = 200;
/// State variables over all actors.
pub const MAX_VARIABLES: usize = 1_000;
/// Cells of the per-step tables: `(steps + 1) x (2 x levels + 2 x outcomes + triggers)`, one
/// reported probability each in `summary.json` and the CSVs.
pub const MAX_TABLE_CELLS: usize = 200_000;
/// Characters of an id or a name (actor, variable, param, trigger, outcome, level, scenario id,
/// `step_unit`).
pub const MAX_NAME_CHARS: usize = 64;
/// Characters of a one-line text: the scenario's `name`, an actor's `name`, a label.
pub const MAX_LABEL_CHARS: usize = 200;
/// Characters of a free text: `description`, `note`, `source`.
pub const MAX_PARAGRAPH_CHARS: usize = 5_000;
const DEFAULT_SEED: u64 = 1;

pub const SLOT_T: u32 = 0;
pub const SLOT_ESCALATION: u32 = 1;

/// One instruction of the postfix code the type checker emits. Booleans are 0.0 / 1.0,
/// enumeration values their level index. `lower` turns it into [`Node`]s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Const(f64),
    Load(u32),
    Neg,
    Not,
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Min,
    Max,
    Abs,
    Clamp,
    /// `if(cond, a, b)`: pops `b`, `a`, `cond`.
    If,
}

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
    fn flipped(self) -> Cmp {
        match self {
            Cmp::Lt => Cmp::Gt,
            Cmp::Le => Cmp::Ge,
            Cmp::Gt => Cmp::Lt,
            Cmp::Ge => Cmp::Le,
            same => same,
        }
    }
}

/// A node of a compiled expression; children are indices into [`Model::code`].
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

/// A compiled expression: the index of its root in [`Model::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Program {
    root: u32,
}

impl Program {
    /// Calls `f(slot, compared_with)` for every read of a slot: `compared_with` is
    /// `Some((cmp, k))` where the read is the comparison `slot <cmp> k` with a constant
    /// (`since.x > 6`), and `None` where the value itself is used.
    pub fn for_each_read(self, code: &[Node], f: &mut impl FnMut(u32, Option<(Cmp, f64)>)) {
        let mut child = |n: u32| Program { root: n }.for_each_read(code, f);
        match code[self.root as usize] {
            Node::Const(_) => {}
            Node::Load(slot) => f(slot, None),
            Node::CompareSlot(cmp, slot, k) => f(slot, Some((cmp, k))),
            Node::Affine(slot, ..) => f(slot, None),
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
    /// [`Program::eval_lanes`].
    pub fn eval_mask(self, code: &[Node], slots: &[Lanes]) -> u64 {
        eval_mask(code, self.root, slots)
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

/// Runs the simulation steps together in lockstep, one lane each: bit `l` of a 64-bit mask
/// is lane `l`.
pub const LANES: usize = 64;
/// A value in every lane of a batch.
pub type Lanes = [f64; LANES];

/// The lanes where `holds` is true of a value: bit `l` for lane `l`.
#[inline]
fn lanes_where(values: &Lanes, holds: impl Fn(f64) -> bool) -> u64 {
    let mut mask = 0;
    for (k, chunk) in values.chunks_exact(8).enumerate() {
        let mut byte = 0u8;
        for (j, &v) in chunk.iter().enumerate() {
            byte |= u8::from(holds(v)) << j;
        }
        mask |= u64::from(byte) << (8 * k);
    }
    mask
}

/// The lanes whose value lies in `interval` (NaN in none): bit `l` for lane `l`.
#[inline]
pub fn lanes_in(values: &Lanes, interval: Interval) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2.
        return unsafe { lanes_in_avx2(values, interval) };
    }
    lanes_where(values, |v| interval.contains(v))
}

/// [`lanes_in`] four lanes per instruction: ordered comparisons are false for NaN, as
/// [`Interval::contains`] is.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn lanes_in_avx2(values: &Lanes, interval: Interval) -> u64 {
    use std::arch::x86_64::{
        _CMP_LE_OQ, _mm256_and_pd, _mm256_cmp_pd, _mm256_loadu_pd, _mm256_movemask_pd, _mm256_set1_pd,
    };
    let lo = _mm256_set1_pd(interval.lo);
    let hi = _mm256_set1_pd(interval.hi);
    let mut mask = 0;
    for (k, four) in values.chunks_exact(4).enumerate() {
        // SAFETY: `four` holds 4 doubles; the load is unaligned.
        let v = unsafe { _mm256_loadu_pd(four.as_ptr()) };
        let inside = _mm256_and_pd(_mm256_cmp_pd::<_CMP_LE_OQ>(lo, v), _mm256_cmp_pd::<_CMP_LE_OQ>(v, hi));
        mask |= u64::from(_mm256_movemask_pd(inside) as u32) << (4 * k);
    }
    mask
}

fn eval_mask(code: &[Node], node: u32, slots: &[Lanes]) -> u64 {
    match code[node as usize] {
        Node::Const(value) => {
            if value != 0.0 {
                u64::MAX
            } else {
                0
            }
        }
        Node::Load(slot) => !lanes_in(&slots[slot as usize], Interval { lo: 0.0, hi: 0.0 }),
        Node::CompareSlot(cmp, slot, value) => {
            let (interval, negated) = cmp.as_interval(value);
            let inside = lanes_in(&slots[slot as usize], interval);
            if negated { !inside } else { inside }
        }
        Node::Not(a) => !eval_mask(code, a, slots),
        Node::And(a, b) => eval_mask(code, a, slots) & eval_mask(code, b, slots),
        Node::Or(a, b) => eval_mask(code, a, slots) | eval_mask(code, b, slots),
        Node::If(c, a, b) => {
            let holds = eval_mask(code, c, slots);
            (holds & eval_mask(code, a, slots)) | (!holds & eval_mask(code, b, slots))
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

/// `lo <= x <= hi`, the one form every comparison of a slot with a constant takes in the
/// simulation ([`Cmp::as_interval`]). NaN lies in no interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub lo: f64,
    pub hi: f64,
}

impl Interval {
    pub const EMPTY: Interval = Interval {
        lo: f64::INFINITY,
        hi: f64::NEG_INFINITY,
    };

    /// Without a branch: `&` rather than `&&`.
    #[inline]
    pub fn contains(self, x: f64) -> bool {
        (x >= self.lo) & (x <= self.hi)
    }
}

/// Turns type-checked postfix code into nodes appended to `code`; returns the root.
fn lower(ops: &[Op], code: &mut Vec<Node>) -> u32 {
    let mut stack: Vec<u32> = Vec::new();
    let push = |code: &mut Vec<Node>, node: Node| {
        code.push(node);
        (code.len() - 1) as u32
    };
    for op in ops {
        let node = match *op {
            Op::Const(v) => Node::Const(v),
            Op::Load(s) => Node::Load(s),
            Op::Neg | Op::Not | Op::Abs => {
                let a = stack.pop().expect("type-checked code is balanced");
                match op {
                    Op::Neg => Node::Neg(a),
                    Op::Not => Node::Not(a),
                    _ => Node::Abs(a),
                }
            }
            Op::Clamp | Op::If => {
                let third = stack.pop().expect("balanced");
                let second = stack.pop().expect("balanced");
                let first = stack.pop().expect("balanced");
                if *op == Op::If {
                    Node::If(first, second, third)
                } else {
                    Node::Clamp(first, second, third)
                }
            }
            binary => {
                let b = stack.pop().expect("balanced");
                let a = stack.pop().expect("balanced");
                let cmp = match binary {
                    Op::Eq => Some(Cmp::Eq),
                    Op::Ne => Some(Cmp::Ne),
                    Op::Lt => Some(Cmp::Lt),
                    Op::Le => Some(Cmp::Le),
                    Op::Gt => Some(Cmp::Gt),
                    Op::Ge => Some(Cmp::Ge),
                    _ => None,
                };
                match (cmp, code[a as usize], code[b as usize]) {
                    (Some(c), Node::Load(slot), Node::Const(v)) => {
                        code.truncate(a as usize);
                        Node::CompareSlot(c, slot, v)
                    }
                    (Some(c), Node::Const(v), Node::Load(slot)) => {
                        code.truncate(a as usize);
                        Node::CompareSlot(c.flipped(), slot, v)
                    }
                    (Some(c), _, _) => Node::Compare(c, a, b),
                    _ if let Some(affine) = affine(binary, code[a as usize], code[b as usize], code) => affine,
                    _ => match binary {
                        Op::Add => Node::Add(a, b),
                        Op::Sub => Node::Sub(a, b),
                        Op::Mul => Node::Mul(a, b),
                        Op::Div => Node::Div(a, b),
                        Op::And => Node::And(a, b),
                        Op::Or => Node::Or(a, b),
                        Op::Min => Node::Min(a, b),
                        _ => Node::Max(a, b),
                    },
                }
            }
        };
        let index = push(code, node);
        stack.push(index);
    }
    stack.pop().expect("an expression has a value")
}

/// `left <op> right` as one [`Node::Affine`], where it is `a + b * slot` for constants `a`, `b`.
fn affine(op: Op, left: Node, right: Node, code: &[Node]) -> Option<Node> {
    // `b * slot` (or `slot * b`) as (slot, b).
    let scaled = |node: Node| match node {
        Node::Load(slot) => Some((slot, 1.0)),
        Node::Mul(x, y) => match (code[x as usize], code[y as usize]) {
            (Node::Const(b), Node::Load(slot)) | (Node::Load(slot), Node::Const(b)) => Some((slot, b)),
            _ => None,
        },
        _ => None,
    };
    let (slot, a, b) = match (op, left, right) {
        (Op::Add, Node::Const(a), x) | (Op::Add, x, Node::Const(a)) => {
            let (slot, b) = scaled(x)?;
            (slot, a, b)
        }
        (Op::Sub, Node::Const(a), x) => {
            let (slot, b) = scaled(x)?;
            (slot, a, -b)
        }
        (Op::Sub, x, Node::Const(a)) => {
            let (slot, b) = scaled(x)?;
            (slot, -a, b)
        }
        _ => return None,
    };
    Some(Node::Affine(slot, a, b))
}

/// The value of postfix code that reads no slot, which is then the same in every run.
fn constant_value(ops: &[Op]) -> Option<f64> {
    if ops.is_empty() || ops.iter().any(|op| matches!(op, Op::Load(_))) {
        return None;
    }
    let mut code = Vec::new();
    let root = lower(ops, &mut code);
    Some(Program { root }.eval(&code, &[]))
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
fn truth(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// How a param is drawn once per run.
#[derive(Debug, Clone, PartialEq)]
pub enum Distribution {
    Fixed(f64),
    Uniform {
        min: f64,
        max: f64,
    },
    Triangular {
        min: f64,
        mode: f64,
        max: f64,
    },
    /// Beta(alpha, beta) scaled to [min, max]; PERT is a Beta in this form.
    Beta {
        alpha: f64,
        beta: f64,
        min: f64,
        max: f64,
    },
}

#[derive(Debug, Clone)]
pub struct ParamModel {
    pub name: String,
    pub slot: u32,
    pub distribution: Distribution,
    /// `Some(steps_per_year)`: each draw is an annual probability, converted to per-step.
    pub annual: Option<f64>,
    /// Random-number region (see `rng`).
    pub region: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct Effect {
    pub slot: u32,
    pub op: AssignOp,
    pub value: Program,
    /// Every assignment is clamped to `[lo, hi]` as it is applied.
    pub lo: f64,
    pub hi: f64,
    /// Enumeration targets move by whole levels.
    pub round: bool,
}

#[derive(Debug, Clone)]
pub struct TriggerModel {
    pub id: String,
    pub label: String,
    pub actor: String,
    pub when: Program,
    pub probability: Program,
    pub delay_min: u32,
    pub delay_max: u32,
    pub max_firings: u32,
    pub cooldown: u32,
    pub effects: Range<usize>,
    pub fired_slot: u32,
    pub count_slot: u32,
    pub since_slot: u32,
    pub fire_region: u64,
    pub delay_region: u64,
}

#[derive(Debug, Clone)]
pub struct OutcomeModel {
    pub id: String,
    pub label: String,
    pub when: Program,
}

/// A scenario ready to simulate.
#[derive(Debug, Clone)]
pub struct Model {
    pub info: ScenarioInfo,
    pub scenario_digest: String,
    pub default_runs: u64,
    pub default_seed: u64,
    pub steps: usize,
    pub levels: usize,
    /// Every slot's value at the start of a run (params are overwritten by their draws).
    pub initial_slots: Vec<f64>,
    /// Names of the state slots (`escalation`, `actor.var`), for traces.
    pub slot_names: Vec<String>,
    /// How to print the values of a slot, indexed by slot: the level names of an enumeration,
    /// `false`/`true` for a boolean, empty for a number.
    pub slot_levels: Vec<Vec<String>>,
    pub params: Vec<ParamModel>,
    pub triggers: Vec<TriggerModel>,
    pub effects: Vec<Effect>,
    pub outcomes: Vec<OutcomeModel>,
    pub code: Vec<Node>,
}

/// Validates and compiles a loaded scenario.
pub fn compile(loaded: &LoadedScenario) -> Result<Model, ScenarioError> {
    let mut compiler = Compiler::new(&loaded.sources);
    let model = compiler.model(loaded);
    match model {
        Some(model) if compiler.errors.is_empty() => Ok(model),
        _ => Err(ScenarioError {
            diagnostics: compiler.errors,
            sources: loaded.sources.clone(),
        }),
    }
}

// ---- Types of expressions -------------------------------------------------------------------

/// An enumeration: the ladder (id 0) or an enumeration variable.
#[derive(Debug, Clone)]
struct EnumType {
    levels: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Num,
    Bool,
    Enum(usize),
    /// A quoted level whose enumeration is known only from what it is compared with.
    Level,
}

struct Typed {
    ty: Ty,
    code: Vec<Op>,
    /// For `Ty::Level`: the level name, resolved by the comparison that uses it.
    level: Option<String>,
}

#[derive(Debug, Clone)]
struct VarSlot {
    slot: u32,
    ty: Ty,
    lo: f64,
    hi: f64,
}

struct Compiler<'a> {
    sources: &'a Sources,
    errors: Vec<Diagnostic>,
    enums: Vec<EnumType>,
    params: HashMap<String, u32>,
    actors: Vec<(String, HashMap<String, VarSlot>, Vec<String>)>,
    triggers: Vec<String>,
    trigger_slots: HashMap<String, (u32, u32, u32)>,
    code: Vec<Node>,
    /// The enumeration an effect assigns to, for the next [`Compiler::typed`] call only: what
    /// `if(c, 'a', 'b')`, two quoted levels, means as an effect's value.
    assigned_enum: Option<Ty>,
}

impl<'a> Compiler<'a> {
    fn new(sources: &'a Sources) -> Self {
        Compiler {
            sources,
            errors: Vec::new(),
            enums: Vec::new(),
            params: HashMap::new(),
            actors: Vec::new(),
            triggers: Vec::new(),
            trigger_slots: HashMap::new(),
            code: Vec::new(),
            assigned_enum: None,
        }
    }

    fn error(&mut self, diagnostic: Diagnostic) {
        self.errors.push(diagnostic);
    }

    fn model(&mut self, loaded: &LoadedScenario) -> Option<Model> {
        let raw = &loaded.raw;
        let header = &raw.scenario;
        // Missing header keys are reported at `[scenario]`, else at the top of the file.
        let whole = raw
            .header_span
            .clone()
            .unwrap_or(loaded.file_span.start..loaded.file_span.start);

        let id = match &header.id {
            Some(id) => self.checked_scenario_id(id.get_ref(), id.span(), "change `id`"),
            None => {
                let stem = loaded.path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
                self.checked_scenario_id(stem, whole.clone(), "set `id` in `[scenario]`")
            }
        };
        let name = self.required(&header.name, "name", "[scenario]", &whole);
        if let Some(n) = &header.name {
            self.check_text(n.get_ref(), n.span(), "the scenario's `name`", MAX_LABEL_CHARS, false);
        }
        if let Some(d) = &header.description {
            self.check_text(d.get_ref(), d.span(), "`description`", MAX_PARAGRAPH_CHARS, true);
        }
        self.check_counts(raw);
        let steps = match &header.steps {
            Some(steps) if (1..=MAX_STEPS as i64).contains(steps.get_ref()) => *steps.get_ref() as usize,
            Some(steps) => {
                self.error(
                    Diagnostic::new(
                        format!("`steps` must be between 1 and {MAX_STEPS}, found {}", steps.get_ref()),
                        steps.span(),
                    )
                    .label("out of range"),
                );
                1
            }
            None => {
                self.error(
                    Diagnostic::new("`[scenario]` has no `steps`", whole.clone())
                        .help("add `steps = 36` (the horizon, in steps) to `[scenario]`"),
                );
                1
            }
        };
        let step_unit = self.required(&header.step_unit, "step_unit", "[scenario]", &whole);
        if let Some(u) = &header.step_unit {
            self.check_text(u.get_ref(), u.span(), "`step_unit`", MAX_NAME_CHARS, false);
        }
        let steps_per_year = steps_per_year(&step_unit);
        let start = header.start.as_ref().map(|s| {
            if parse_start(s.get_ref()).is_none() {
                self.error(
                    Diagnostic::new(
                        format!(
                            "`start` must be a calendar date YYYY, YYYY-MM or YYYY-MM-DD, found `{}`",
                            s.get_ref()
                        ),
                        s.span(),
                    )
                    .label("not a date")
                    .help("for example `start = \"2025-05\"` or `\"2025-05-31\"`: a year from 1000 to 9999, a month 01 to 12, a day that exists in that month"),
                );
            }
            s.get_ref().clone()
        });
        let default_runs = match &header.runs {
            Some(runs) if *runs.get_ref() >= 1 => *runs.get_ref() as u64,
            Some(runs) => {
                self.error(Diagnostic::new("`runs` must be at least 1", runs.span()));
                DEFAULT_RUNS
            }
            None => DEFAULT_RUNS,
        };
        let default_seed = match &header.seed {
            Some(seed) if *seed.get_ref() >= 0 => *seed.get_ref() as u64,
            Some(seed) => {
                self.error(Diagnostic::new("`seed` must not be negative", seed.span()));
                DEFAULT_SEED
            }
            None => DEFAULT_SEED,
        };

        // The ladder.
        let Some(escalation) = &raw.escalation else {
            self.error(
                Diagnostic::new("the scenario has no `[escalation]` ladder", whole.clone())
                    .help("add `[escalation]` with `levels = [\"calm\", ...]` and `initial = \"calm\"`"),
            );
            return None;
        };
        let ladder = self.level_list(&escalation.get_ref().levels, escalation.span(), "the ladder");
        let initial_level = self
            .level_index(&ladder, &escalation.get_ref().initial, "the ladder")
            .unwrap_or(0);
        self.enums.push(EnumType { levels: ladder.clone() });

        // Slots: t, escalation, actor variables, params, trigger counters.
        let mut initial_slots = vec![0.0, initial_level as f64];
        let mut slot_names = vec!["t".to_string(), "escalation".to_string()];
        let mut slot_levels = vec![Vec::new(), ladder.clone()];
        let mut actor_infos = Vec::new();
        for (actor_id, keys) in &raw.actors {
            self.check_identifier(actor_id, "actor");
            let mut display_name = None;
            let mut vars = HashMap::new();
            let mut var_names = Vec::new();
            for (key, var) in keys {
                if key.get_ref() == "name" || key.get_ref() == "note" {
                    match var.get_ref().initial.as_ref().map(|v| v.get_ref()) {
                        Some(Literal::Text(text)) if var.get_ref().levels.is_none() => {
                            let what = format!("the `{}` of actor `{}`", key.get_ref(), actor_id.get_ref());
                            let paragraph = key.get_ref() == "note";
                            let limit = if paragraph {
                                MAX_PARAGRAPH_CHARS
                            } else {
                                MAX_LABEL_CHARS
                            };
                            self.check_text(text, var.span(), &what, limit, paragraph);
                            if key.get_ref() == "name" {
                                display_name = Some(text.clone());
                            }
                        }
                        _ => self.error(
                            Diagnostic::new(format!("`{}` of an actor must be a string", key.get_ref()), var.span())
                                .help(format!(
                                    "`{}` is reserved for the actor's display text; name the variable differently",
                                    key.get_ref()
                                )),
                        ),
                    }
                    continue;
                }
                self.check_identifier(key, "variable");
                let slot = initial_slots.len() as u32;
                let (value, var_slot, levels) = self.variable(var, slot);
                initial_slots.push(value);
                slot_names.push(format!("{}.{}", actor_id.get_ref(), key.get_ref()));
                slot_levels.push(levels);
                var_names.push(key.get_ref().clone());
                vars.insert(key.get_ref().clone(), var_slot);
            }
            let name = display_name.unwrap_or_else(|| {
                self.error(
                    Diagnostic::new(format!("actor `{}` has no `name`", actor_id.get_ref()), actor_id.span())
                        .help(format!("add `name = \"...\"` under `[actors.{}]`", actor_id.get_ref())),
                );
                String::new()
            });
            actor_infos.push(ActorInfo {
                id: actor_id.get_ref().clone(),
                name,
            });
            self.actors.push((actor_id.get_ref().clone(), vars, var_names));
        }

        let mut params = Vec::new();
        let mut param_infos = Vec::new();
        for (name, param) in &raw.params {
            self.check_identifier(name, "param");
            if RESERVED.contains(&name.get_ref().as_str()) || self.actors.iter().any(|(a, _, _)| a == name.get_ref()) {
                self.error(
                    Diagnostic::new(
                        format!(
                            "the param name `{}` is already taken by an actor or a reserved word",
                            name.get_ref()
                        ),
                        name.span(),
                    )
                    .help("rename the param, e.g. with a `p_` prefix"),
                );
            }
            let slot = initial_slots.len() as u32;
            let Some((distribution, annual, definition)) = self.param(param, steps_per_year, &step_unit) else {
                continue;
            };
            if let Distribution::Fixed(value) = distribution {
                initial_slots.push(value);
            } else {
                initial_slots.push(f64::NAN);
            }
            slot_names.push(name.get_ref().clone());
            slot_levels.push(Vec::new());
            self.params.insert(name.get_ref().clone(), slot);
            param_infos.push(ParamInfo {
                name: name.get_ref().clone(),
                definition,
            });
            params.push(ParamModel {
                name: name.get_ref().clone(),
                slot,
                distribution,
                annual,
                region: rng::region(&format!("param:{}", name.get_ref())),
            });
        }

        // Trigger ids first: any expression may refer to any trigger.
        for trigger in &raw.triggers {
            let id = &trigger.get_ref().id;
            self.check_identifier(id, "trigger");
            if self.triggers.contains(id.get_ref()) {
                self.error(
                    Diagnostic::new(format!("trigger id `{}` is used twice", id.get_ref()), id.span()).help(
                        "trigger ids must be unique; in a variant, an entry with an existing id patches that trigger",
                    ),
                );
                continue;
            }
            let base = initial_slots.len() as u32;
            initial_slots.extend([0.0, 0.0, NEVER_FIRED_SINCE]);
            for counter in ["fired", "count", "since"] {
                slot_names.push(format!("{counter}.{}", id.get_ref()));
                slot_levels.push(Vec::new());
            }
            self.triggers.push(id.get_ref().clone());
            self.trigger_slots
                .insert(id.get_ref().clone(), (base, base + 1, base + 2));
        }

        let mut triggers = Vec::new();
        let mut trigger_infos = Vec::new();
        let mut effects = Vec::new();
        for trigger in &raw.triggers {
            let t = trigger.get_ref();
            let id = t.id.get_ref().clone();
            if triggers.iter().any(|m: &TriggerModel| m.id == id) {
                continue; // a duplicate id, already reported
            }
            let what = format!("trigger `{id}`");
            let label = self.required(&t.label, "label", &what, &trigger.span());
            if let Some(l) = &t.label {
                self.check_text(
                    l.get_ref(),
                    l.span(),
                    &format!("the `label` of {what}"),
                    MAX_LABEL_CHARS,
                    false,
                );
            }
            for (key, text) in [("source", &t.source), ("note", &t.note)] {
                if let Some(text) = text {
                    let field = format!("the `{key}` of {what}");
                    self.check_text(text.get_ref(), text.span(), &field, MAX_PARAGRAPH_CHARS, true);
                }
            }
            let actor = match &t.actor {
                Some(actor) => {
                    if !self.actors.iter().any(|(a, _, _)| a == actor.get_ref()) {
                        let known: Vec<String> = self.actors.iter().map(|(a, _, _)| a.clone()).collect();
                        self.error(
                            Diagnostic::new(format!("unknown actor `{}`", actor.get_ref()), actor.span())
                                .label("not declared under [actors]")
                                .suggest(actor.get_ref(), known.iter().map(String::as_str)),
                        );
                    }
                    actor.get_ref().clone()
                }
                None => {
                    self.error(
                        Diagnostic::new(format!("{what} has no `actor`"), trigger.span())
                            .help("add `actor = \"...\"`: the id of the actor who acts"),
                    );
                    String::new()
                }
            };
            let when = match &t.when {
                Some(when) => self.program(when, Ty::Bool, "`when`"),
                None => self.constant(1.0),
            };
            let probability = match &t.probability {
                Some(p) => self.probability(p),
                None => {
                    self.error(
                        Diagnostic::new(format!("{what} has no `probability`"), trigger.span())
                            .help("add `probability = 0.05` (per step), or the name of a param"),
                    );
                    self.constant(0.0)
                }
            };
            let (delay_min, delay_max) = match t.delay.as_ref().map(|d| (*d.get_ref(), d.span())) {
                None => (0, 0),
                // No delay needs to exceed the longest horizon; larger ones would wrap in `u32`.
                Some((RawDelay::Fixed(d), _)) if (0..=MAX_STEPS as i64).contains(&d) => (d as u32, d as u32),
                Some((RawDelay::Range(a, b), _)) if 0 <= a && a <= b && b <= MAX_STEPS as i64 => (a as u32, b as u32),
                Some((_, span)) => {
                    self.error(Diagnostic::new(
                        format!("`delay` must be a number of steps from 0 to {MAX_STEPS}, or [min, max] with 0 <= min <= max <= {MAX_STEPS}"),
                        span,
                    ));
                    (0, 0)
                }
            };
            let max_firings = match t.repeat.as_ref().map(|r| (*r.get_ref(), r.span())) {
                None | Some((RawRepeat::Flag(false), _)) => 1,
                Some((RawRepeat::Flag(true), _)) => u32::MAX,
                Some((RawRepeat::Max(n), _)) if n >= 1 => n.min(u32::MAX as i64) as u32,
                Some((_, span)) => {
                    self.error(Diagnostic::new(
                        "`repeat` must be true, false, or a maximum number of firings >= 1",
                        span,
                    ));
                    1
                }
            };
            let cooldown = match &t.cooldown {
                None => 0,
                Some(c) if (0..=MAX_STEPS as i64).contains(c.get_ref()) => *c.get_ref() as u32,
                Some(c) => {
                    self.error(Diagnostic::new(
                        format!("`cooldown` must be a number of steps from 0 to {MAX_STEPS}"),
                        c.span(),
                    ));
                    0
                }
            };
            let first_effect = effects.len();
            for statement in t.effects.iter().flatten() {
                if let Some(effect) = self.effect(statement) {
                    effects.push(effect);
                }
            }
            let (fired_slot, count_slot, since_slot) = self.trigger_slots.get(&id).copied().unwrap_or((0, 0, 0));
            trigger_infos.push(TriggerInfo {
                id: id.clone(),
                label: label.clone(),
                actor: actor.clone(),
            });
            triggers.push(TriggerModel {
                fire_region: rng::region(&format!("trigger:{id}")),
                delay_region: rng::region(&format!("delay:{id}")),
                id,
                label,
                actor,
                when,
                probability,
                delay_min,
                delay_max,
                max_firings,
                cooldown,
                effects: first_effect..effects.len(),
                fired_slot,
                count_slot,
                since_slot,
            });
        }

        let mut outcomes = Vec::new();
        let mut outcome_ids: Vec<String> = Vec::new();
        for outcome in &raw.outcomes {
            let o = outcome.get_ref();
            self.check_identifier(&o.id, "outcome");
            if outcome_ids.contains(o.id.get_ref()) {
                self.error(Diagnostic::new(
                    format!("outcome id `{}` is used twice", o.id.get_ref()),
                    o.id.span(),
                ));
            }
            outcome_ids.push(o.id.get_ref().clone());
            let what = format!("outcome `{}`", o.id.get_ref());
            let label = self.required(&o.label, "label", &what, &outcome.span());
            if let Some(l) = &o.label {
                self.check_text(
                    l.get_ref(),
                    l.span(),
                    &format!("the `label` of {what}"),
                    MAX_LABEL_CHARS,
                    false,
                );
            }
            let when = match &o.when {
                Some(when) => self.program(when, Ty::Bool, "`when`"),
                None => {
                    self.error(
                        Diagnostic::new(format!("{what} has no `when`"), outcome.span())
                            .help("add `when = \"...\"`, a condition on the state, e.g. \"escalation >= 'clash'\""),
                    );
                    self.constant(0.0)
                }
            };
            outcomes.push(OutcomeModel {
                id: o.id.get_ref().clone(),
                label,
                when,
            });
        }

        self.check_regions(&params, &triggers);

        let info = ScenarioInfo {
            id,
            name,
            description: header
                .description
                .as_ref()
                .map(|d| d.get_ref().trim().to_string())
                .unwrap_or_default(),
            steps,
            step_labels: step_labels(start.as_deref(), &step_unit, steps),
            step_unit,
            start,
            levels: ladder.clone(),
            initial_level,
            params: param_infos,
            actors: actor_infos,
            triggers: trigger_infos,
            outcomes: outcomes
                .iter()
                .map(|o| OutcomeInfo {
                    id: o.id.clone(),
                    label: o.label.clone(),
                })
                .collect(),
            variant: raw.variant_of.as_ref().map(|v| crate::aggregate::VariantInfo {
                base: v.base_id.clone(),
                changes: v.changes.clone(),
            }),
        };
        Some(Model {
            info,
            scenario_digest: raw.digest(),
            default_runs,
            default_seed,
            steps,
            levels: ladder.len(),
            initial_slots,
            slot_names,
            slot_levels,
            params,
            triggers,
            effects,
            outcomes,
            code: std::mem::take(&mut self.code),
        })
    }

    /// Refuses a model larger than the limits, at the first entry past each limit.
    fn check_counts(&mut self, raw: &crate::load::RawScenario) {
        let mut too_many = |what: &str, count: usize, max: usize, excess: Option<Range<usize>>| {
            if let Some(span) = excess.filter(|_| count > max) {
                self.errors.push(
                    Diagnostic::new(
                        format!("the scenario has {count} {what}; at most {max} are allowed"),
                        span,
                    )
                    .label(format!("{what} past the first {max}"))
                    .help("split the model into several scenarios, or merge entries"),
                );
            }
        };
        let nth_span = |spans: Vec<Range<usize>>, n: usize| spans.get(n).cloned();
        let variables: Vec<Range<usize>> = raw
            .actors
            .values()
            .flat_map(|keys| keys.iter())
            .filter(|(key, _)| key.get_ref() != "name" && key.get_ref() != "note")
            .map(|(key, _)| key.span())
            .collect();
        let triggers: Vec<_> = raw.triggers.iter().map(|t| t.span()).collect();
        let outcomes: Vec<_> = raw.outcomes.iter().map(|o| o.span()).collect();
        let params: Vec<_> = raw.params.keys().map(|k| k.span()).collect();
        let actors: Vec<_> = raw.actors.keys().map(|k| k.span()).collect();
        too_many(
            "triggers",
            triggers.len(),
            MAX_TRIGGERS,
            nth_span(triggers.clone(), MAX_TRIGGERS),
        );
        too_many(
            "outcomes",
            outcomes.len(),
            MAX_OUTCOMES,
            nth_span(outcomes.clone(), MAX_OUTCOMES),
        );
        too_many("params", params.len(), MAX_PARAMS, nth_span(params.clone(), MAX_PARAMS));
        too_many("actors", actors.len(), MAX_ACTORS, nth_span(actors.clone(), MAX_ACTORS));
        too_many(
            "state variables",
            variables.len(),
            MAX_VARIABLES,
            nth_span(variables.clone(), MAX_VARIABLES),
        );
        let ladder = raw.escalation.as_ref().map_or(0, |e| e.get_ref().levels.len());
        let steps = raw
            .scenario
            .steps
            .as_ref()
            .map_or(0, |s| (*s.get_ref()).clamp(0, MAX_STEPS as i64) as usize);
        let cells = (steps + 1) * (2 * ladder + 2 * raw.outcomes.len() + raw.triggers.len());
        if let Some(s) = raw.scenario.steps.as_ref().filter(|_| cells > MAX_TABLE_CELLS) {
            self.error(
                Diagnostic::new(
                    format!(
                        "the per-step tables of this scenario would hold {cells} probabilities; at most {MAX_TABLE_CELLS} are allowed"
                    ),
                    s.span(),
                )
                .label("(steps + 1) x (2 x levels + 2 x outcomes + triggers)")
                .help("use fewer steps (a longer `step_unit`) or fewer triggers and outcomes; see \"Limits\" in docs/scenario-format.md"),
            );
        }
    }

    fn required(&mut self, value: &Option<Spanned<String>>, key: &str, owner: &str, span: &Range<usize>) -> String {
        match value {
            Some(v) if !v.get_ref().trim().is_empty() => v.get_ref().clone(),
            Some(v) => {
                self.error(Diagnostic::new(format!("`{key}` of {owner} is empty"), v.span()));
                String::new()
            }
            None => {
                self.error(
                    Diagnostic::new(format!("{owner} has no `{key}`"), span.clone())
                        .help(format!("add `{key} = \"...\"`")),
                );
                String::new()
            }
        }
    }

    fn checked_scenario_id(&mut self, id: &str, span: Range<usize>, fix: &str) -> String {
        if let Err(why) = crate::output::check_scenario_id(id) {
            self.error(
                Diagnostic::new(
                    format!("`{id}` cannot be a scenario id: it names the output directory"),
                    span,
                )
                .help(format!("{why}: {fix}")),
            );
            return "invalid".into();
        }
        id.to_string()
    }

    /// A text field (`what`, e.g. "`label`"): at most `max_chars` characters, no control or
    /// bidirectional-override characters (they would rewrite the terminal, break SVG and reorder
    /// text); `paragraph` texts may hold line breaks and tabs.
    fn check_text(&mut self, text: &str, span: Range<usize>, what: &str, max_chars: usize, paragraph: bool) {
        let chars = text.chars().count();
        if chars > max_chars {
            self.error(
                Diagnostic::new(
                    format!("{what} has {chars} characters; at most {max_chars} are allowed"),
                    span.clone(),
                )
                .label("too long")
                .help("shorten it; a longer explanation belongs in `description` or `note`"),
            );
        }
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            let line_break = c == '\n' || (c == '\r' && chars.peek() == Some(&'\n'));
            let allowed = paragraph && (line_break || c == '\t');
            if (c.is_control() && !allowed) || is_bidi_control(c) {
                let help = if paragraph {
                    "remove it; only line breaks and tabs are allowed here"
                } else if c == '\n' || c == '\r' || c == '\t' {
                    "remove it: this text is one line (line breaks are allowed in `description` and `note`)"
                } else {
                    "remove it"
                };
                self.error(
                    Diagnostic::new(
                        format!("{what} contains the control character U+{:04X}", c as u32),
                        span.clone(),
                    )
                    .label(format!("U+{:04X} in here", c as u32))
                    .help(help),
                );
                return;
            }
        }
    }

    fn check_identifier(&mut self, name: &Spanned<String>, kind: &str) {
        let text = name.get_ref();
        let valid = text.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if valid && text.len() > MAX_NAME_CHARS {
            self.error(
                Diagnostic::new(
                    format!(
                        "this {kind} name has {} characters; at most {MAX_NAME_CHARS} are allowed",
                        text.len()
                    ),
                    name.span(),
                )
                .label("too long")
                .help("use a shorter name; the label or `name` can say more"),
            );
        } else if !valid {
            self.error(
                Diagnostic::new(format!("`{text}` is not a valid {kind} name"), name.span())
                    .help("names start with a lowercase letter and contain only lowercase letters, digits and `_`"),
            );
        }
    }

    fn level_list(&mut self, levels: &[Spanned<String>], span: Range<usize>, what: &str) -> Vec<String> {
        if levels.len() < 2 {
            self.error(Diagnostic::new(format!("{what} needs at least two levels"), span));
        } else if levels.len() > MAX_LEVELS {
            self.error(
                Diagnostic::new(
                    format!("{what} has {} levels; at most {MAX_LEVELS} are allowed", levels.len()),
                    levels[MAX_LEVELS].span(),
                )
                .label("levels past the limit")
                .help("merge neighbouring levels"),
            );
        }
        let mut seen: Vec<String> = Vec::new();
        for level in levels {
            self.check_identifier(level, "level");
            if seen.contains(level.get_ref()) {
                self.error(Diagnostic::new(
                    format!("level `{}` appears twice in {what}", level.get_ref()),
                    level.span(),
                ));
            }
            seen.push(level.get_ref().clone());
        }
        seen
    }

    fn level_index(&mut self, levels: &[String], level: &Spanned<String>, what: &str) -> Option<usize> {
        let found = levels.iter().position(|l| l == level.get_ref());
        if found.is_none() {
            self.error(
                Diagnostic::new(format!("`{}` is not a level of {what}", level.get_ref()), level.span())
                    .label("unknown level")
                    .suggest(level.get_ref(), levels.iter().map(String::as_str)),
            );
        }
        found
    }

    /// A state variable: its initial value, slot description and level names.
    fn variable(&mut self, var: &Spanned<RawVar>, slot: u32) -> (f64, VarSlot, Vec<String>) {
        let v = var.get_ref();
        let span_of = |s: &Spanned<Literal>| if s.span().is_empty() { var.span() } else { s.span() };
        if let Some(levels) = &v.levels {
            let names = self.level_list(levels, var.span(), "this enumeration");
            if let Some(bound) = v.min.as_ref().or(v.max.as_ref()) {
                self.error(Diagnostic::new(
                    "an enumeration has no `min`/`max`; its levels bound it",
                    bound.span(),
                ));
            }
            let index = match &v.initial {
                Some(initial) => match initial.get_ref() {
                    Literal::Text(text) => self.level_index(
                        &names,
                        &Spanned::new(span_of(initial), text.clone()),
                        "this enumeration",
                    ),
                    _ => {
                        self.error(Diagnostic::new(
                            "the `initial` value of an enumeration must be one of its levels, as a string",
                            span_of(initial),
                        ));
                        None
                    }
                },
                None => {
                    self.error(Diagnostic::new("this enumeration has no `initial` level", var.span()));
                    None
                }
            };
            let enum_id = self.enums.len();
            self.enums.push(EnumType { levels: names.clone() });
            let hi = names.len().saturating_sub(1) as f64;
            return (
                index.unwrap_or(0) as f64,
                VarSlot {
                    slot,
                    ty: Ty::Enum(enum_id),
                    lo: 0.0,
                    hi,
                },
                names,
            );
        }
        let Some(initial) = &v.initial else {
            self.error(
                Diagnostic::new("this variable has no `initial` value", var.span())
                    .help("write `v = 3`, `v = false`, or `v = { initial = 1, min = 0, max = 3 }`"),
            );
            return invalid_variable(slot);
        };
        match initial.get_ref() {
            Literal::Bool(b) => {
                if let Some(bound) = v.min.as_ref().or(v.max.as_ref()) {
                    self.error(Diagnostic::new("a boolean has no `min`/`max`", bound.span()));
                }
                (
                    truth(*b),
                    VarSlot {
                        slot,
                        ty: Ty::Bool,
                        lo: 0.0,
                        hi: 1.0,
                    },
                    vec!["false".into(), "true".into()],
                )
            }
            Literal::Number(n) => {
                // An absent bound is infinite; a given one must be finite, like the initial value
                // (NaN would pass every comparison below and make every clamp fail).
                let mut finite = true;
                for (key, value, at) in [
                    ("initial", Some(*n), span_of(initial)),
                    (
                        "min",
                        v.min.as_ref().map(|m| *m.get_ref()),
                        v.min.as_ref().map_or(0..0, |m| m.span()),
                    ),
                    (
                        "max",
                        v.max.as_ref().map(|m| *m.get_ref()),
                        v.max.as_ref().map_or(0..0, |m| m.span()),
                    ),
                ] {
                    if let Some(value) = value.filter(|x| !x.is_finite()) {
                        let at = if at.is_empty() { var.span() } else { at };
                        self.error(
                            Diagnostic::new(format!("`{key}` is `{value}`, which is not a finite number"), at)
                                .label("not finite")
                                .help(format!(
                                    "write an ordinary number{}",
                                    if key == "initial" {
                                        ""
                                    } else {
                                        ", or leave the bound out for none"
                                    }
                                )),
                        );
                        finite = false;
                    }
                }
                let lo = v.min.as_ref().map_or(f64::NEG_INFINITY, |m| *m.get_ref());
                let hi = v.max.as_ref().map_or(f64::INFINITY, |m| *m.get_ref());
                if !finite {
                    return invalid_variable(slot);
                }
                if lo > hi {
                    self.error(Diagnostic::new(
                        format!("`min` ({lo}) is greater than `max` ({hi})"),
                        var.span(),
                    ));
                } else if *n < lo || *n > hi {
                    self.error(
                        Diagnostic::new(format!("initial value {n} is outside [{lo}, {hi}]"), span_of(initial))
                            .help("values are never clamped silently at load: fix the initial value or the bounds"),
                    );
                }
                (
                    *n,
                    VarSlot {
                        slot,
                        ty: Ty::Num,
                        lo,
                        hi,
                    },
                    Vec::new(),
                )
            }
            Literal::Text(text) => {
                self.error(
                    Diagnostic::new(
                        format!("`\"{text}\"` is text, but this variable declares no `levels`"),
                        span_of(initial),
                    )
                    .help(format!(
                        "declare an enumeration: `{{ levels = [\"{text}\", ...], initial = \"{text}\" }}`"
                    )),
                );
                invalid_variable(slot)
            }
        }
    }

    fn param(
        &mut self,
        param: &Spanned<RawParam>,
        steps_per_year: Option<f64>,
        step_unit: &str,
    ) -> Option<(Distribution, Option<f64>, String)> {
        let p = param.get_ref();
        let span = param.span();
        let forms: Vec<(&str, Range<usize>)> = [
            ("value", p.value.as_ref().map(|v| v.span())),
            ("annual", p.annual.as_ref().map(|v| v.span())),
            ("uniform", p.uniform.as_ref().map(|v| v.span())),
            ("triangular", p.triangular.as_ref().map(|v| v.span())),
            ("pert", p.pert.as_ref().map(|v| v.span())),
            ("beta", p.beta.as_ref().map(|v| v.span())),
        ]
        .into_iter()
        .filter_map(|(name, s)| Some((name, s?)))
        .collect();
        if forms.len() != 1 {
            let message = if forms.is_empty() {
                "this param gives no value or distribution".to_string()
            } else {
                format!(
                    "this param gives {} forms ({}); give exactly one",
                    forms.len(),
                    forms
                        .iter()
                        .map(|(n, _)| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            self.error(
                Diagnostic::new(message, span)
                    .help("use one of `value`, `annual`, `uniform`, `triangular`, `pert`, `beta`"),
            );
            return None;
        }
        let mut annual = match p.basis.as_ref().map(|b| (b.get_ref().as_str(), b.span())) {
            None | Some(("step", _)) => false,
            Some(("annual", _)) => true,
            Some((other, s)) => {
                self.error(Diagnostic::new(format!("unknown basis `{other}`"), s).suggest(other, ["step", "annual"]));
                return None;
            }
        };
        let (form, form_span) = forms[0].clone();
        // A bare `x = 0.3` has no span of its own.
        let form_span = if form_span.is_empty() { span.clone() } else { form_span };
        let numbers = |v: &Option<Spanned<Vec<f64>>>| v.as_ref().map(|v| v.get_ref().clone()).unwrap_or_default();
        // NaN fails every ordering test below and an infinite bound or width makes every draw
        // infinite or NaN, so every number is checked first, and then the widths the draws use.
        let given: Vec<f64> = match form {
            "value" => p.value.iter().map(|v| *v.get_ref()).collect(),
            "annual" => p.annual.iter().map(|v| *v.get_ref()).collect(),
            "uniform" => numbers(&p.uniform),
            "triangular" => numbers(&p.triangular),
            "pert" => numbers(&p.pert),
            _ => numbers(&p.beta),
        };
        if let Some(bad) = given.iter().find(|x| !x.is_finite()) {
            self.error(
                Diagnostic::new(
                    format!("`{form}` is given `{bad}`, which is not a finite number"),
                    form_span,
                )
                .label("not finite")
                .help("write an ordinary number such as 0.05 (`nan` and `inf` are not allowed)"),
            );
            return None;
        }
        let width_overflows = match given[..] {
            [min, max] if form == "uniform" => !(max - min).is_finite(),
            [min, mode, max] => ![max - min, mode - min, max - mode].iter().all(|w| w.is_finite()),
            _ => false,
        };
        if width_overflows {
            return self.bad_param(
                form_span,
                "the distance between these bounds is too large to represent (it overflows to infinity)",
            );
        }
        let distribution = match form {
            "value" => Distribution::Fixed(*p.value.as_ref()?.get_ref()),
            "annual" => {
                if p.basis.is_some() {
                    self.error(Diagnostic::new(
                        "`annual` already states the basis; drop `basis`",
                        span.clone(),
                    ));
                }
                annual = true;
                Distribution::Fixed(*p.annual.as_ref()?.get_ref())
            }
            "uniform" => match numbers(&p.uniform)[..] {
                [min, max] if min <= max => Distribution::Uniform { min, max },
                _ => return self.bad_param(form_span, "`uniform` takes [min, max] with min <= max"),
            },
            "triangular" => match numbers(&p.triangular)[..] {
                [min, mode, max] if min <= mode && mode <= max && min < max => {
                    Distribution::Triangular { min, mode, max }
                }
                _ => {
                    return self.bad_param(
                        form_span,
                        "`triangular` takes [min, mode, max] with min <= mode <= max and min < max",
                    );
                }
            },
            "pert" => match numbers(&p.pert)[..] {
                [min, mode, max] if min <= mode && mode <= max && min < max => Distribution::Beta {
                    alpha: 1.0 + 4.0 * (mode - min) / (max - min),
                    beta: 1.0 + 4.0 * (max - mode) / (max - min),
                    min,
                    max,
                },
                _ => {
                    return self.bad_param(
                        form_span,
                        "`pert` takes [min, mode, max] with min <= mode <= max and min < max",
                    );
                }
            },
            _ => match numbers(&p.beta)[..] {
                [alpha, beta] if alpha > 0.0 && beta > 0.0 => Distribution::Beta {
                    alpha,
                    beta,
                    min: 0.0,
                    max: 1.0,
                },
                _ => return self.bad_param(form_span, "`beta` takes [alpha, beta], both > 0"),
            },
        };
        let (lo, hi) = distribution.support();
        if !(lo.is_finite() && hi.is_finite()) {
            return self.bad_param(form_span, "param values must be finite numbers");
        }
        let per_year = if annual {
            if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) {
                return self.bad_param(
                    form_span,
                    &format!("an annual probability must lie in [0, 1]; this one reaches [{lo}, {hi}]"),
                );
            }
            match steps_per_year {
                Some(n) => Some(n),
                None => {
                    self.error(
                        Diagnostic::new(
                            format!(
                                "cannot convert an annual probability: step_unit `{step_unit}` has no fixed length"
                            ),
                            span,
                        )
                        .help("use step_unit day, week, month, quarter or year, or give the probability per step"),
                    );
                    return None;
                }
            }
        } else {
            None
        };
        let mut definition = distribution.describe();
        if annual {
            definition.push_str(" per year");
        }
        // A fixed annual probability is converted once, here.
        let distribution = match (distribution, per_year) {
            (Distribution::Fixed(p), Some(n)) => {
                definition.push_str(&format!(" (= {:.6} per {step_unit})", per_step(p, n)));
                return Some((Distribution::Fixed(per_step(p, n)), None, definition));
            }
            (d, _) => d,
        };
        Some((distribution, per_year, definition))
    }

    fn bad_param<T>(&mut self, span: Range<usize>, message: &str) -> Option<T> {
        self.error(Diagnostic::new(message, span).label("invalid parameters"));
        None
    }

    fn constant(&mut self, value: f64) -> Program {
        self.emit(vec![Op::Const(value)])
    }

    fn emit(&mut self, ops: Vec<Op>) -> Program {
        Program {
            root: lower(&ops, &mut self.code),
        }
    }

    /// How offsets into the decoded text of the string at `span` map to the file.
    fn string_map(&self, span: &Range<usize>, decoded: &str) -> StringMap {
        StringMap::new(self.sources.text(span), decoded, span.start)
    }

    fn program(&mut self, source: &Spanned<ExprSource>, want: Ty, what: &str) -> Program {
        let errors_before = self.errors.len();
        let typed = match source.get_ref() {
            ExprSource::Literal(Literal::Bool(b)) => Some(Typed {
                ty: Ty::Bool,
                code: vec![Op::Const(truth(*b))],
                level: None,
            }),
            ExprSource::Literal(Literal::Number(n)) => Some(Typed {
                ty: Ty::Num,
                code: vec![Op::Const(*n)],
                level: None,
            }),
            ExprSource::Literal(Literal::Text(_)) => None,
            ExprSource::Text(text) => {
                let map = self.string_map(&source.span(), text);
                match expr::parse_expr(text) {
                    Ok(mut e) => {
                        e.map_spans(&|span| map.span(span));
                        self.typed(&e)
                    }
                    Err(e) => {
                        let shifted = map.span(&e.span);
                        let mut d =
                            Diagnostic::new(format!("syntax error in {what}: {}", e.message), shifted).label("here");
                        if let Some(help) = e.help {
                            d = d.help(help);
                        }
                        self.error(d);
                        None
                    }
                }
            }
        };
        let Some(typed) = typed else { return self.constant(0.0) };
        // Code typed around an error (a level literal as a function's argument, say) may not
        // lower; the model is refused anyway.
        if self.errors.len() > errors_before {
            return self.constant(0.0);
        }
        if typed.ty != want {
            let help = match want {
                Ty::Bool => "a condition is a comparison or logic, e.g. \"rok.vigilance >= 2 && !fired.talks\"",
                _ => "a probability is a number, a param or arithmetic on them",
            };
            self.error(
                Diagnostic::new(
                    format!(
                        "{what} must be {}, but this is {}",
                        self.describe(want),
                        self.describe(typed.ty)
                    ),
                    source.span(),
                )
                .label(format!("{} expression", self.describe(typed.ty)))
                .help(help),
            );
            // A level literal has no code of its own to lower; the model is refused anyway.
            return self.constant(0.0);
        }
        self.finish(typed)
    }

    fn finish(&mut self, typed: Typed) -> Program {
        self.emit(typed.code)
    }

    fn probability(&mut self, source: &Spanned<ExprSource>) -> Program {
        if let ExprSource::Literal(Literal::Number(p)) = source.get_ref()
            && !(0.0..=1.0).contains(p)
        {
            self.error(Diagnostic::new(format!("probability {p} is outside [0, 1]"), source.span())
                .label("not a probability")
                .help("a per-step probability lies between 0 and 1; for a yearly figure use a param `{ annual = ... }`"));
        }
        self.program(source, Ty::Num, "`probability`")
    }

    fn describe(&self, ty: Ty) -> String {
        match ty {
            Ty::Num => "a number".into(),
            Ty::Bool => "a boolean".into(),
            Ty::Enum(e) => format!("an enumeration ({})", self.enums[e].levels.join(", ")),
            Ty::Level => "a level literal".into(),
        }
    }

    /// Type-checks `e`, whose spans are global (see [`Expr::map_spans`]), into postfix code.
    fn typed(&mut self, e: &Expr) -> Option<Typed> {
        // The assigned enumeration is for the value itself and its `if` branches only.
        let assigned = self.assigned_enum.take();
        if let ExprKind::Call(name, args) = &e.kind
            && name == "if"
        {
            return self.conditional(args, e.span.clone(), assigned);
        }
        let span = e.span.clone();
        let leaf = |ty, op| {
            Some(Typed {
                ty,
                code: vec![op],
                level: None,
            })
        };
        match &e.kind {
            ExprKind::Number(n) => leaf(Ty::Num, Op::Const(*n)),
            ExprKind::Bool(b) => leaf(Ty::Bool, Op::Const(truth(*b))),
            ExprKind::Level(level) => Some(Typed {
                ty: Ty::Level,
                code: Vec::new(),
                level: Some(level.clone()),
            }),
            ExprKind::Name(path) => {
                let (ty, slot) = self.resolve(path, span)?;
                leaf(ty, Op::Load(slot))
            }
            ExprKind::Unary(op, inner) => {
                let inner_span = inner.span.clone();
                let mut typed = self.typed(inner)?;
                let (want, code) = match op {
                    UnaryOp::Neg => (Ty::Num, Op::Neg),
                    UnaryOp::Not => (Ty::Bool, Op::Not),
                };
                self.expect_type(
                    &typed,
                    want,
                    inner_span,
                    if *op == UnaryOp::Neg { "`-`" } else { "`!`" },
                )?;
                typed.code.push(code);
                Some(typed)
            }
            ExprKind::Binary(op, left, right) => self.binary(*op, left, right, span),
            ExprKind::Call(name, args) => self.call(name, args, span),
        }
    }

    fn expect_type(&mut self, typed: &Typed, want: Ty, span: Range<usize>, context: &str) -> Option<()> {
        if typed.ty == want {
            return Some(());
        }
        let mut d = Diagnostic::new(
            format!(
                "{context} needs {}, but this is {}",
                self.describe(want),
                self.describe(typed.ty)
            ),
            span,
        )
        .label(self.describe(typed.ty));
        if typed.ty == Ty::Level {
            d = d.help("a quoted level can only be compared with an enumeration, e.g. `rok.arms == 'lethal'`");
        }
        self.error(d);
        None
    }

    fn binary(&mut self, op: BinaryOp, left: &Expr, right: &Expr, span: Range<usize>) -> Option<Typed> {
        let left_span = left.span.clone();
        let right_span = right.span.clone();
        let a = self.typed(left);
        let b = self.typed(right);
        let (mut a, mut b) = (a?, b?);
        let code = match op {
            BinaryOp::Add => Op::Add,
            BinaryOp::Sub => Op::Sub,
            BinaryOp::Mul => Op::Mul,
            BinaryOp::Div => Op::Div,
            BinaryOp::Eq => Op::Eq,
            BinaryOp::Ne => Op::Ne,
            BinaryOp::Lt => Op::Lt,
            BinaryOp::Le => Op::Le,
            BinaryOp::Gt => Op::Gt,
            BinaryOp::Ge => Op::Ge,
            BinaryOp::And => Op::And,
            BinaryOp::Or => Op::Or,
        };
        let context = format!("`{}`", op.symbol());
        let result = if op.is_comparison() {
            // A quoted level takes its enumeration from the other side.
            if a.ty == Ty::Level {
                self.resolve_level(&mut a, b.ty, left_span.clone(), right_span.clone())?;
            }
            if b.ty == Ty::Level {
                self.resolve_level(&mut b, a.ty, right_span.clone(), left_span.clone())?;
            }
            let ordered = !matches!(op, BinaryOp::Eq | BinaryOp::Ne);
            let compatible = match (a.ty, b.ty) {
                (Ty::Num, Ty::Num) => true,
                (Ty::Bool, Ty::Bool) => !ordered,
                (Ty::Enum(x), Ty::Enum(y)) => x == y,
                _ => false,
            };
            if !compatible {
                let message = if a.ty == Ty::Bool && b.ty == Ty::Bool {
                    format!("booleans cannot be ordered with {context}")
                } else {
                    format!("cannot compare {} with {}", self.describe(a.ty), self.describe(b.ty))
                };
                self.error(Diagnostic::new(message, span).label("mismatched types").help("compare numbers with numbers, booleans with booleans (== or !=), and an enumeration with its own levels"));
                return None;
            }
            Ty::Bool
        } else {
            let want = if matches!(op, BinaryOp::And | BinaryOp::Or) {
                Ty::Bool
            } else {
                Ty::Num
            };
            let ok_a = self.expect_type(&a, want, left_span, &context);
            let ok_b = self.expect_type(&b, want, right_span, &context);
            ok_a.and(ok_b)?;
            want
        };
        a.code.extend(b.code);
        a.code.push(code);
        Some(Typed {
            ty: result,
            code: a.code,
            level: None,
        })
    }

    fn resolve_level(
        &mut self,
        level: &mut Typed,
        other: Ty,
        span: Range<usize>,
        other_span: Range<usize>,
    ) -> Option<()> {
        let name = level.level.clone().unwrap_or_default();
        let Ty::Enum(e) = other else {
            self.error(
                Diagnostic::new(
                    format!("the level `'{name}'` is compared with {}", self.describe(other)),
                    other_span,
                )
                .label(self.describe(other))
                .help("a quoted level can only be compared with an enumeration such as `escalation` or `rok.arms`"),
            );
            return None;
        };
        let levels = self.enums[e].levels.clone();
        let Some(index) = levels.iter().position(|l| *l == name) else {
            let owner = if e == 0 {
                "the escalation ladder".to_string()
            } else {
                "this enumeration".to_string()
            };
            self.error(
                Diagnostic::new(format!("`'{name}'` is not a level of {owner}"), span)
                    .label("unknown level")
                    .suggest(&name, levels.iter().map(String::as_str)),
            );
            return None;
        };
        *level = Typed {
            ty: Ty::Enum(e),
            code: vec![Op::Const(index as f64)],
            level: None,
        };
        Some(())
    }

    fn call(&mut self, name: &str, args: &[Expr], span: Range<usize>) -> Option<Typed> {
        let (arity, op) = match name {
            "min" => (2, Op::Min),
            "max" => (2, Op::Max),
            "abs" => (1, Op::Abs),
            "clamp" => (3, Op::Clamp),
            _ => {
                self.error(
                    Diagnostic::new(format!("unknown function `{name}`"), span)
                        .suggest(name, ["min", "max", "abs", "clamp", "if"]),
                );
                return None;
            }
        };
        if args.len() != arity {
            self.error(Diagnostic::new(
                format!(
                    "`{name}` takes {arity} argument{}, found {}",
                    if arity == 1 { "" } else { "s" },
                    args.len()
                ),
                span,
            ));
            return None;
        }
        let mut code = Vec::new();
        let mut ok = true;
        let mut constants = Vec::new();
        for arg in args {
            let arg_span = arg.span.clone();
            match self.typed(arg) {
                Some(typed) => {
                    if self
                        .expect_type(&typed, Ty::Num, arg_span, &format!("`{name}`"))
                        .is_none()
                    {
                        // A level literal has no code: nothing to fold or lower.
                        ok = false;
                        continue;
                    }
                    constants.push(constant_value(&typed.code));
                    code.extend(typed.code);
                }
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        if let (Op::Clamp, [_, Some(lo), Some(hi)]) = (op, constants.as_slice())
            && (lo.is_nan() || hi.is_nan() || lo > hi)
        {
            let (message, label) = if lo.is_nan() || hi.is_nan() {
                ("`clamp` has a bound that is not a number (NaN)".to_string(), "NaN")
            } else {
                (
                    format!("`clamp` has its lower bound {lo} above its upper bound {hi}"),
                    "lo > hi",
                )
            };
            self.error(
                Diagnostic::new(message, args[1].span.start..args[2].span.end)
                    .label(label)
                    .help("write `clamp(x, lo, hi)` with lo <= hi"),
            );
            return None;
        }
        code.push(op);
        Some(Typed {
            ty: Ty::Num,
            code,
            level: None,
        })
    }

    /// `if(cond, a, b)`: `cond` a boolean, `a` and `b` of one type, which is the result's. A
    /// quoted level takes its enumeration from the other branch, or, when both are quoted
    /// levels, from `assigned`, the enumeration an effect assigns the result to.
    fn conditional(&mut self, args: &[Expr], span: Range<usize>, assigned: Option<Ty>) -> Option<Typed> {
        let [cond, yes, no] = args else {
            self.error(
                Diagnostic::new(format!("`if` takes 3 arguments, found {}", args.len()), span)
                    .help("write `if(condition, value if true, value if false)`"),
            );
            return None;
        };
        let c = self.typed(cond);
        self.assigned_enum = assigned;
        let a = self.typed(yes);
        self.assigned_enum = assigned;
        let b = self.typed(no);
        let typed = [c, a, b];
        let [Some(c), Some(mut a), Some(mut b)] = typed else {
            return None;
        };
        self.expect_type(&c, Ty::Bool, cond.span.clone(), "the condition of `if`")?;
        if a.ty == Ty::Level
            && b.ty == Ty::Level
            && let Some(assigned) = assigned
        {
            self.resolve_level(&mut a, assigned, yes.span.clone(), span.clone())?;
            self.resolve_level(&mut b, assigned, no.span.clone(), span)?;
        } else if a.ty == Ty::Level && b.ty == Ty::Level {
            self.error(
                Diagnostic::new(
                    "both branches of `if` are quoted levels, so their enumeration is unknown",
                    yes.span.start..no.span.end,
                )
                .label("two level literals")
                .help("only an effect on an enumeration gives two quoted levels their enumeration; elsewhere compare inside the branches, e.g. `if(c, rok.arms == 'lethal', rok.arms == 'none')`"),
            );
            return None;
        }
        // A level with a non-enumeration beside it is a type mismatch, reported below.
        if a.ty == Ty::Level && matches!(b.ty, Ty::Enum(_)) {
            self.resolve_level(&mut a, b.ty, yes.span.clone(), no.span.clone())?;
        }
        if b.ty == Ty::Level && matches!(a.ty, Ty::Enum(_)) {
            self.resolve_level(&mut b, a.ty, no.span.clone(), yes.span.clone())?;
        }
        if a.ty != b.ty {
            self.error(
                Diagnostic::new(
                    format!(
                        "the branches of `if` differ in type: {} and {}",
                        self.describe(a.ty),
                        self.describe(b.ty)
                    ),
                    yes.span.start..no.span.end,
                )
                .label("mismatched types")
                .help("both branches must be numbers, both booleans, or both of one enumeration"),
            );
            return None;
        }
        let mut code = c.code;
        code.extend(a.code);
        code.extend(b.code);
        code.push(Op::If);
        Some(Typed {
            ty: a.ty,
            code,
            level: None,
        })
    }

    /// Resolves a name to its type and slot.
    fn resolve(&mut self, path: &[String], span: Range<usize>) -> Option<(Ty, u32)> {
        match path {
            [name] if name == "t" => Some((Ty::Num, SLOT_T)),
            [name] if name == "escalation" => Some((Ty::Enum(0), SLOT_ESCALATION)),
            [name] => {
                if let Some(slot) = self.params.get(name) {
                    return Some((Ty::Num, *slot));
                }
                let mut d =
                    Diagnostic::new(format!("unknown name `{name}`"), span).label("not a param, `t` or `escalation`");
                if self.actors.iter().any(|(a, _, _)| a == name) {
                    d = d.help(format!(
                        "`{name}` is an actor: name one of its variables, e.g. `{name}.{}`",
                        self.first_var(name)
                    ));
                } else if ["fired", "count", "since"].contains(&name.as_str()) {
                    d = d.help(format!("name the trigger: `{name}.<trigger id>`"));
                } else {
                    let mut candidates: Vec<String> = self.params.keys().cloned().collect();
                    candidates.sort();
                    candidates.extend(["t".into(), "escalation".into()]);
                    d = d.suggest(name, candidates.iter().map(String::as_str));
                }
                self.error(d);
                None
            }
            [kind, trigger] if ["fired", "count", "since"].contains(&kind.as_str()) => {
                let Some(&(fired, count, since)) = self.trigger_slots.get(trigger) else {
                    let known = self.triggers.clone();
                    self.error(
                        Diagnostic::new(format!("unknown trigger `{trigger}`"), span)
                            .label("no trigger has this id")
                            .suggest(trigger, known.iter().map(String::as_str)),
                    );
                    return None;
                };
                Some(match kind.as_str() {
                    "fired" => (Ty::Bool, fired),
                    "count" => (Ty::Num, count),
                    _ => (Ty::Num, since),
                })
            }
            [actor, var] => {
                if !self.actors.iter().any(|(a, _, _)| a == actor) {
                    let mut candidates: Vec<String> = self.actors.iter().map(|(a, _, _)| a.clone()).collect();
                    candidates.extend(["fired".into(), "count".into(), "since".into()]);
                    self.error(
                        Diagnostic::new(format!("unknown actor `{actor}`"), span)
                            .label("not declared under [actors]")
                            .suggest(actor, candidates.iter().map(String::as_str)),
                    );
                    return None;
                }
                self.actor_variable(actor, var, span).map(|v| (v.ty, v.slot))
            }
            _ => {
                self.error(
                    Diagnostic::new(format!("`{}` has too many parts", path.join(".")), span)
                        .help("names are `param`, `actor.var`, or `fired.`/`count.`/`since.` followed by a trigger id"),
                );
                None
            }
        }
    }

    /// The variable `var` of a declared actor, or an error suggesting the closest one.
    fn actor_variable(&mut self, actor: &str, var: &str, span: Range<usize>) -> Option<VarSlot> {
        let (_, vars, names) = self.actors.iter().find(|(a, _, _)| a == actor)?;
        if let Some(v) = vars.get(var) {
            return Some(v.clone());
        }
        let names = names.clone();
        self.error(
            Diagnostic::new(format!("actor `{actor}` has no variable `{var}`"), span)
                .label("unknown variable")
                .suggest(var, names.iter().map(String::as_str)),
        );
        None
    }

    fn first_var(&self, actor: &str) -> String {
        self.actors
            .iter()
            .find(|(a, _, _)| a == actor)
            .and_then(|(_, _, names)| names.first().cloned())
            .unwrap_or_else(|| "var".into())
    }

    fn target(&mut self, path: &[String], span: Range<usize>) -> Option<VarSlot> {
        match path {
            [name] if name == "escalation" => {
                let hi = self.enums[0].levels.len() as f64 - 1.0;
                Some(VarSlot {
                    slot: SLOT_ESCALATION,
                    ty: Ty::Enum(0),
                    lo: 0.0,
                    hi,
                })
            }
            [actor, var] if self.actors.iter().any(|(a, _, _)| a == actor) => self.actor_variable(actor, var, span),
            _ => {
                let d = Diagnostic::new(format!("`{}` cannot be assigned", path.join(".")), span)
                    .label("not a state variable")
                    .help("an effect assigns `escalation` or an actor's variable (`actor.var`); params and trigger counters are read-only");
                let mut candidates: Vec<String> = vec!["escalation".into()];
                candidates.extend(self.actors.iter().map(|(a, _, _)| a.clone()));
                let d = match path.first() {
                    Some(first) if path.len() <= 2 && !self.params.contains_key(first) => {
                        d.suggest(first, candidates.iter().map(String::as_str))
                    }
                    _ => d,
                };
                self.error(d);
                None
            }
        }
    }

    fn effect(&mut self, statement: &Spanned<String>) -> Option<Effect> {
        let map = self.string_map(&statement.span(), statement.get_ref());
        let mut parsed = match expr::parse_statement(statement.get_ref()) {
            Ok(parsed) => parsed,
            Err(e) => {
                let mut d =
                    Diagnostic::new(format!("syntax error in effect: {}", e.message), map.span(&e.span)).label("here");
                if let Some(help) = e.help {
                    d = d.help(help);
                }
                self.error(d);
                return None;
            }
        };
        parsed.value.map_spans(&|span| map.span(span));
        let target_span = map.span(&parsed.target_span);
        let value_span = parsed.value.span.clone();
        let target = self.target(&parsed.target, target_span.clone());
        self.assigned_enum = target.as_ref().map(|t| t.ty).filter(|ty| matches!(ty, Ty::Enum(_)));
        let value = self.typed(&parsed.value);
        let (target, mut value) = (target?, value?);
        let round = matches!(target.ty, Ty::Enum(_));
        let wanted = match (target.ty, parsed.op) {
            (Ty::Enum(_), AssignOp::Add | AssignOp::Sub) => Ty::Num,
            (Ty::Bool, AssignOp::Add | AssignOp::Sub) => {
                self.error(
                    Diagnostic::new("a boolean can only be set with `=`", target_span)
                        .help("write `flag = true` or `flag = !flag`"),
                );
                return None;
            }
            (ty, _) => ty,
        };
        if value.ty == Ty::Level && matches!(wanted, Ty::Enum(_)) {
            self.resolve_level(&mut value, wanted, value_span.clone(), target_span)?;
        }
        if value.ty != wanted {
            let help = match (target.ty, parsed.op) {
                (Ty::Enum(_), AssignOp::Set) => {
                    "set an enumeration to one of its levels (`= 'lethal'`), or move it with `+= 1`"
                }
                (Ty::Enum(_), _) => "`+=`/`-=` on an enumeration moves it by a number of levels",
                _ => "the value must have the variable's type",
            };
            self.error(
                Diagnostic::new(
                    format!(
                        "cannot assign {} to {}",
                        self.describe(value.ty),
                        self.describe(target.ty)
                    ),
                    value_span.clone(),
                )
                .label("wrong type")
                .help(help),
            );
            return None;
        }
        let program = self.finish(value);
        Some(Effect {
            slot: target.slot,
            op: parsed.op,
            value: program,
            lo: target.lo,
            hi: target.hi,
            round,
        })
    }

    /// Two random-number keys that hash to one region would share draws: refuse them.
    fn check_regions(&mut self, params: &[ParamModel], triggers: &[TriggerModel]) {
        let mut seen: HashMap<u64, String> = HashMap::new();
        let keys = params
            .iter()
            .map(|p| (p.region, format!("param `{}`", p.name)))
            .chain(triggers.iter().flat_map(|t| {
                [
                    (t.fire_region, format!("trigger `{}`", t.id)),
                    (t.delay_region, format!("delay of `{}`", t.id)),
                ]
            }));
        for (region, name) in keys {
            if let Some(other) = seen.insert(region, name.clone()) {
                self.error(
                    Diagnostic::without_span(format!("{name} and {other} hash to the same random-number region"))
                        .help("rename one of them (this is a 1-in-4-billion coincidence; see docs/determinism.md)"),
                );
            }
        }
    }
}

/// What an invalid variable compiles to once its error is reported: an unbounded number, so
/// that checking can go on and report the file's other problems too.
fn invalid_variable(slot: u32) -> (f64, VarSlot, Vec<String>) {
    let var = VarSlot {
        slot,
        ty: Ty::Num,
        lo: f64::NEG_INFINITY,
        hi: f64::INFINITY,
    };
    (0.0, var, Vec::new())
}

/// Characters that reorder the text displayed around them ("Trojan Source"): refused in
/// texts like control characters.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

const RESERVED: [&str; 12] = [
    "t",
    "escalation",
    "fired",
    "count",
    "since",
    "true",
    "false",
    "min",
    "max",
    "abs",
    "clamp",
    "if",
];

impl Distribution {
    pub fn support(&self) -> (f64, f64) {
        match *self {
            Distribution::Fixed(v) => (v, v),
            Distribution::Uniform { min, max }
            | Distribution::Triangular { min, max, .. }
            | Distribution::Beta { min, max, .. } => (min, max),
        }
    }

    fn describe(&self) -> String {
        match *self {
            Distribution::Fixed(v) => format!("{v}"),
            Distribution::Uniform { min, max } => format!("uniform({min}, {max})"),
            Distribution::Triangular { min, mode, max } => format!("triangular({min}, {mode}, {max})"),
            Distribution::Beta { alpha, beta, min, max } if min == 0.0 && max == 1.0 => {
                format!("beta({alpha}, {beta})")
            }
            Distribution::Beta { alpha, min, max, .. } => {
                // PERT is stored as its Beta; its mode is recovered from alpha.
                let mode = min + (alpha - 1.0) / 4.0 * (max - min);
                format!("pert({min}, {}, {max})", (mode * 1e9).round() / 1e9)
            }
        }
    }
}

/// The exact per-step probability of an event with probability `annual` per year.
pub fn per_step(annual: f64, steps_per_year: f64) -> f64 {
    1.0 - (1.0 - annual).powf(1.0 / steps_per_year)
}

pub fn steps_per_year(unit: &str) -> Option<f64> {
    Some(match unit {
        "day" => 365.0,
        "week" => 52.0,
        "month" => 12.0,
        "quarter" => 4.0,
        "year" => 1.0,
        _ => return None,
    })
}

/// A start date `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (years 1000 to 9999, a day that exists in
/// that month): its year and month, or `None` if it is not such a date.
fn parse_start(start: &str) -> Option<(i32, u32)> {
    let mut parts = start.split('-');
    let mut number = |digits: usize| -> Option<u32> {
        let part = parts.next()?;
        (part.len() == digits && part.bytes().all(|b| b.is_ascii_digit())).then(|| part.parse().ok())?
    };
    let year = number(4)?;
    let month = if start.len() > 4 { number(2)? } else { 1 };
    let day = if start.len() > 7 { number(2)? } else { 1 };
    if parts.next().is_some() || !(1000..=9999).contains(&year) || !(1..=12).contains(&month) {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    (1..=days_in_month).contains(&day).then_some((year as i32, month))
}

/// Axis labels for steps `0..=steps`: calendar months for monthly, quarterly and yearly steps
/// with a start date; otherwise "month 3".
fn step_labels(start: Option<&str>, unit: &str, steps: usize) -> Vec<String> {
    let months_per_step = match unit {
        "month" => Some(1),
        "quarter" => Some(3),
        "year" => Some(12),
        _ => None,
    };
    (0..=steps)
        .map(|t| match (start.and_then(parse_start), months_per_step) {
            (Some((year, month)), Some(m)) => {
                let months = (year as i64) * 12 + (month as i64 - 1) + (t as i64) * m;
                if unit == "year" {
                    format!("{}", months / 12)
                } else {
                    format!("{}-{:02}", months / 12, months % 12 + 1)
                }
            }
            _ => format!("{unit} {t}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annual_conversion_is_exact_hazard() {
        let p = per_step(0.2, 12.0);
        assert!(((1.0 - p).powi(12) - 0.8).abs() < 1e-12);
        assert!(p > 0.2 / 12.0, "never divide by 12");
    }

    #[test]
    fn start_dates_are_real_calendar_dates() {
        for good in [
            "2025",
            "2025-05",
            "2025-05-31",
            "2024-02-29",
            "2000-02-29",
            "1999-12-01",
        ] {
            assert!(parse_start(good).is_some(), "{good}");
        }
        for bad in [
            "2025-02-31",
            "2025-02-29",
            "1900-02-29",
            "2025-04-31",
            "2025-00",
            "2025-13",
            "2025-05-00",
            "2025-5",
            "2025-05-1",
            "+2025",
            "+2025-05",
            "0999",
            "2025-05-01-01",
            "2025-",
            "",
            "２０２５",
        ] {
            assert!(parse_start(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn step_labels_follow_calendar() {
        let labels = step_labels(Some("2025-05"), "month", 9);
        assert_eq!(labels[0], "2025-05");
        assert_eq!(labels[8], "2026-01");
        assert_eq!(step_labels(Some("2025-05"), "quarter", 2)[2], "2025-11");
        assert_eq!(step_labels(None, "week", 1), vec!["week 0", "week 1"]);
    }

    /// The postfix code run on a stack, operation by operation: the reference the lowered nodes
    /// (fused ones included) must match bit for bit.
    fn run_postfix(ops: &[Op], slots: &[f64]) -> f64 {
        let mut stack: Vec<f64> = Vec::new();
        for op in ops {
            let value = match *op {
                Op::Const(v) => v,
                Op::Load(s) => slots[s as usize],
                Op::Neg => -stack.pop().unwrap(),
                Op::Add | Op::Sub | Op::Mul => {
                    let b = stack.pop().unwrap();
                    let a = stack.pop().unwrap();
                    match op {
                        Op::Add => a + b,
                        Op::Sub => a - b,
                        _ => a * b,
                    }
                }
                _ => unreachable!("arithmetic only"),
            };
            stack.push(value);
        }
        stack.pop().unwrap()
    }

    #[test]
    fn affine_nodes_compute_what_they_replace() {
        use Op::{Add, Const, Load, Mul, Sub};
        let programs: Vec<Vec<Op>> = vec![
            vec![Const(0.5), Const(0.5), Load(0), Mul, Add],
            vec![Load(0), Const(0.25), Mul, Const(1.0), Add],
            vec![Const(1.0), Load(0), Add],
            vec![Load(0), Const(-0.0), Add],
            vec![Const(0.0), Load(0), Add],
            vec![Const(1.0), Load(0), Sub],
            vec![Load(0), Const(3.0), Sub],
            vec![Load(0), Const(0.0), Sub],
            vec![Const(2.0), Const(0.1), Load(0), Mul, Sub],
            vec![Load(0), Const(0.1), Mul, Const(2.0), Sub],
            // Not affine: two slots.
            vec![Load(0), Load(1), Add],
        ];
        let values = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            3.0,
            1e308,
            -1e308,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        let mut code = Vec::new();
        for ops in &programs {
            let program = Program {
                root: lower(ops, &mut code),
            };
            for x in values {
                let slots = [x, 0.5];
                let (expected, got) = (run_postfix(ops, &slots), program.eval(&code, &slots));
                assert!(
                    expected.to_bits() == got.to_bits() || (expected.is_nan() && got.is_nan()),
                    "{ops:?} at {x}: {expected} from the postfix code, {got} from {:?}",
                    code[program.root as usize]
                );
            }
        }
        let first = Program {
            root: lower(&programs[0], &mut code),
        };
        assert_eq!(code[first.root as usize], Node::Affine(0, 0.5, 0.5));
    }

    #[test]
    fn lowered_programs_evaluate_like_the_postfix_code() {
        let mut code = Vec::new();
        let ops = [
            Op::Load(0),
            Op::Const(2.0),
            Op::Mul,
            Op::Const(0.0),
            Op::Const(1.0),
            Op::Clamp,
        ];
        let program = Program {
            root: lower(&ops, &mut code),
        };
        assert_eq!(program.eval(&code, &[0.3]), 0.6);
        assert_eq!(program.eval(&code, &[0.7]), 1.0);
        // `3 < x` becomes one fused node testing `x > 3`.
        let fused = Program {
            root: lower(&[Op::Const(3.0), Op::Load(0), Op::Lt], &mut code),
        };
        assert_eq!(code[fused.root as usize], Node::CompareSlot(Cmp::Gt, 0, 3.0));
        assert_eq!(fused.eval(&code, &[4.0]), 1.0);
        assert_eq!(fused.eval(&code, &[3.0]), 0.0);
        // `!(x == 1) || x / 0 > 1` short-circuits; both branches give the logical answer.
        let ops = [
            Op::Load(0),
            Op::Const(1.0),
            Op::Eq,
            Op::Not,
            Op::Load(0),
            Op::Const(0.0),
            Op::Div,
            Op::Const(1.0),
            Op::Gt,
            Op::Or,
        ];
        let logic = Program {
            root: lower(&ops, &mut code),
        };
        assert_eq!(logic.eval(&code, &[2.0]), 1.0);
        assert_eq!(logic.eval(&code, &[1.0]), 1.0);
    }

    #[test]
    fn functions_propagate_nan_and_clamp_refuses_crossed_bounds() {
        let mut code = Vec::new();
        let mut eval = |ops: &[Op], x: f64| {
            let program = Program {
                root: lower(ops, &mut code),
            };
            program.eval(&code, &[x])
        };
        let nan = f64::NAN;
        assert!(eval(&[Op::Const(1.0), Op::Load(0), Op::Min], nan).is_nan());
        assert!(eval(&[Op::Load(0), Op::Const(1.0), Op::Max], nan).is_nan());
        assert!(eval(&[Op::Load(0), Op::Const(0.0), Op::Const(1.0), Op::Clamp], nan).is_nan());
        assert!(eval(&[Op::Const(0.5), Op::Load(0), Op::Const(1.0), Op::Clamp], nan).is_nan());
        // lo > hi: no value lies between them.
        assert!(eval(&[Op::Const(0.5), Op::Load(0), Op::Const(0.0), Op::Clamp], 1.0).is_nan());
        assert_eq!(
            eval(&[Op::Load(0), Op::Const(0.0), Op::Const(1.0), Op::Clamp], 2.0),
            1.0
        );
        assert_eq!(
            eval(&[Op::Load(0), Op::Const(1.0), Op::Const(1.0), Op::Clamp], -2.0),
            1.0
        );
        assert_eq!(eval(&[Op::Load(0), Op::Const(1.0), Op::Min], -2.0), -2.0);
        assert_eq!(constant_value(&[Op::Const(1.0), Op::Neg]), Some(-1.0));
        assert_eq!(constant_value(&[Op::Load(0), Op::Neg]), None);
    }

    /// `lanes_in` (AVX2 on this processor, if it has it) agrees with its portable form, which a
    /// processor without AVX2 runs, NaN and infinities included.
    #[test]
    fn lanes_in_agrees_with_its_portable_form() {
        let specials = [
            f64::NEG_INFINITY,
            -1.0,
            -0.0,
            0.0,
            0.5,
            1.0,
            2.0,
            f64::INFINITY,
            f64::NAN,
        ];
        let values: Lanes = std::array::from_fn(|l| specials[l % specials.len()]);
        for &lo in &specials {
            for &hi in &specials {
                let interval = Interval { lo, hi };
                let expected = lanes_where(&values, |v| interval.contains(v));
                assert_eq!(lanes_in(&values, interval), expected, "[{lo}, {hi}]");
            }
        }
    }

    /// Every kind of node, evaluated over lanes (values, masks, one lane at a time), gives
    /// bit for bit what the run-by-run evaluation gives on each lane's state, NaN included.
    #[test]
    fn lanes_evaluate_as_runs_do() {
        use Op::*;
        let values = [
            f64::NEG_INFINITY,
            -1.0,
            -0.0,
            0.0,
            0.5,
            1.0,
            2.0,
            f64::INFINITY,
            f64::NAN,
        ];
        let mut programs: Vec<Vec<Op>> = Vec::new();
        for cmp in [Eq, Ne, Lt, Le, Gt, Ge] {
            for k in [f64::NEG_INFINITY, -1.0, 0.0, 1.0, f64::NAN] {
                programs.push(vec![Load(0), Const(k), cmp]);
                programs.push(vec![Load(0), Load(1), cmp]);
                // `x <cmp> k && !(y < 1) || y`
                programs.push(vec![
                    Load(0),
                    Const(k),
                    cmp,
                    Load(1),
                    Const(1.0),
                    Lt,
                    Not,
                    And,
                    Load(1),
                    Or,
                ]);
            }
        }
        programs.extend([
            vec![Load(0)],
            vec![Const(0.0)],
            vec![Const(f64::NAN)],
            vec![Load(0), Not],
            vec![Load(0), Neg, Abs],
            vec![Load(0), Load(1), Add],
            vec![Load(0), Load(1), Sub],
            vec![Load(0), Load(1), Mul],
            vec![Load(0), Load(1), Div],
            vec![Load(0), Load(1), Min],
            vec![Load(0), Load(1), Max],
            vec![Load(0), Load(1), Const(1.0), Clamp],
            vec![Load(0), Const(-1.0), Load(1), Clamp],
            vec![Const(0.5), Load(0), Load(1), Clamp],
            vec![Const(1.0), Load(0), Min],
            // `if(x > 0.5, x, y)`, `if(x >= 0, 1 / y, x)` (NaN or infinity in the untaken
            // branch) and `if(x > 0, y < 1, y == 0)` (a condition, through masks).
            vec![Load(0), Const(0.5), Gt, Load(0), Load(1), If],
            vec![Load(0), Const(0.0), Ge, Const(1.0), Load(1), Div, Load(0), If],
            vec![
                Load(0),
                Const(0.0),
                Gt,
                Load(1),
                Const(1.0),
                Lt,
                Load(1),
                Const(0.0),
                Eq,
                If,
            ],
            vec![Load(0), Load(1), Load(0), If, Not],
            vec![Const(0.5), Const(0.25), Load(0), Mul, Add],
            vec![Load(0), Load(1), And],
            vec![Load(0), Load(1), Or, Not],
            vec![
                Load(0),
                Load(1),
                Add,
                Const(1.0),
                Gt,
                Load(1),
                Const(2.0),
                Div,
                Const(0.0),
                Ge,
                And,
            ],
        ]);
        // Every pair of values, 64 lanes at a time; the last batch is padded with zeros.
        let pairs: Vec<(f64, f64)> = values
            .iter()
            .flat_map(|&x| values.iter().map(move |&y| (x, y)))
            .collect();
        let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
        let mut code = Vec::new();
        for ops in &programs {
            let program = Program {
                root: lower(ops, &mut code),
            };
            for batch in pairs.chunks(LANES) {
                let mut slots = vec![[0.0; LANES]; 2];
                for (lane, &(x, y)) in batch.iter().enumerate() {
                    slots[0][lane] = x;
                    slots[1][lane] = y;
                }
                let mut lanes = [0.0; LANES];
                program.eval_lanes(&code, &slots, &mut lanes);
                let mask = program.eval_mask(&code, &slots);
                for lane in 0..LANES {
                    let state = [slots[0][lane], slots[1][lane]];
                    let expected = program.eval(&code, &state);
                    let node = &code[program.root as usize];
                    assert!(
                        same(lanes[lane], expected),
                        "{ops:?} ({node:?}) at {state:?}: {} over lanes",
                        lanes[lane]
                    );
                    assert!(
                        same(program.eval_lane(&code, &slots, lane), expected),
                        "{ops:?} at {state:?}, one lane"
                    );
                    assert_eq!(
                        mask >> lane & 1 == 1,
                        expected != 0.0,
                        "{ops:?} ({node:?}) at {state:?} as a mask"
                    );
                }
            }
        }
    }
}
