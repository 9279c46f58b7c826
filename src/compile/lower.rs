//! Lowering: the type checker's postfix [`Op`] code in, expression trees of [`Node`]s out.
//!
//! The most common shapes (`slot <cmp> constant`, `a + b * slot`) become one fused node each,
//! computing exactly what the nodes they replace would.

use crate::eval::{Cmp, Node, Program};

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

/// Turns type-checked postfix code into nodes appended to `code`; returns the root.
pub(super) fn lower(ops: &[Op], code: &mut Vec<Node>) -> u32 {
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
pub(super) fn constant_value(ops: &[Op]) -> Option<f64> {
    if ops.is_empty() || ops.iter().any(|op| matches!(op, Op::Load(_))) {
        return None;
    }
    let mut code = Vec::new();
    let root = lower(ops, &mut code);
    Some(Program { root }.eval(&code, &[]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lanes::{LANES, Simd};

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
                let masks: Vec<(Simd, u64)> = Simd::available()
                    .into_iter()
                    .map(|simd| {
                        (
                            simd,
                            program.eval_mask(&code, &slots, simd, crate::eval::KeptMasks::NONE),
                        )
                    })
                    .collect();
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
                    for &(simd, mask) in &masks {
                        assert_eq!(
                            mask >> lane & 1 == 1,
                            expected != 0.0,
                            "{ops:?} ({node:?}) at {state:?} as a mask ({simd})"
                        );
                    }
                }
            }
        }
    }
}
