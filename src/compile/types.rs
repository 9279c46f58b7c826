//! The type checker: parsed expressions in, typed postfix [`Op`] code (then a [`Program`]) out.

use std::ops::Range;

use toml::Spanned;

use super::lower::{Op, constant_value, lower};
use super::{Compiler, Ty, Typed, VarSlot};
use crate::diagnostic::{Diagnostic, StringMap};
use crate::eval::{Program, truth};
use crate::expr::{self, BinaryOp, Expr, ExprKind, UnaryOp};
use crate::load::{ExprSource, Literal};
use crate::model::{SLOT_ESCALATION, SLOT_T};

impl Compiler<'_> {
    pub(super) fn constant(&mut self, value: f64) -> Program {
        self.emit(vec![Op::Const(value)])
    }

    pub(super) fn emit(&mut self, ops: Vec<Op>) -> Program {
        Program {
            root: lower(&ops, &mut self.code),
        }
    }

    /// How offsets into the decoded text of the string at `span` map to the file.
    pub(super) fn string_map(&self, span: &Range<usize>, decoded: &str) -> StringMap {
        StringMap::new(self.sources.text(span), decoded, span.start)
    }

    pub(super) fn program(&mut self, source: &Spanned<ExprSource>, want: Ty, what: &str) -> Program {
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

    pub(super) fn finish(&mut self, typed: Typed) -> Program {
        self.emit(typed.code)
    }

    pub(super) fn probability(&mut self, source: &Spanned<ExprSource>) -> Program {
        if let ExprSource::Literal(Literal::Number(p)) = source.get_ref()
            && !(0.0..=1.0).contains(p)
        {
            self.error(Diagnostic::new(format!("probability {p} is outside [0, 1]"), source.span())
                .label("not a probability")
                .help("a per-step probability lies between 0 and 1; for a yearly figure use a param `{ annual = ... }`"));
        }
        self.program(source, Ty::Num, "`probability`")
    }

    pub(super) fn describe(&self, ty: Ty) -> String {
        match ty {
            Ty::Num => "a number".into(),
            Ty::Bool => "a boolean".into(),
            Ty::Enum(e) => format!("an enumeration ({})", self.enums[e].levels.join(", ")),
            Ty::Level => "a level literal".into(),
        }
    }

    /// Type-checks `e`, whose spans are global (see [`Expr::map_spans`]), into postfix code.
    pub(super) fn typed(&mut self, e: &Expr) -> Option<Typed> {
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

    pub(super) fn expect_type(&mut self, typed: &Typed, want: Ty, span: Range<usize>, context: &str) -> Option<()> {
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

    pub(super) fn binary(&mut self, op: BinaryOp, left: &Expr, right: &Expr, span: Range<usize>) -> Option<Typed> {
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

    pub(super) fn resolve_level(
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

    pub(super) fn call(&mut self, name: &str, args: &[Expr], span: Range<usize>) -> Option<Typed> {
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
    pub(super) fn conditional(&mut self, args: &[Expr], span: Range<usize>, assigned: Option<Ty>) -> Option<Typed> {
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
    pub(super) fn resolve(&mut self, path: &[String], span: Range<usize>) -> Option<(Ty, u32)> {
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
    pub(super) fn actor_variable(&mut self, actor: &str, var: &str, span: Range<usize>) -> Option<VarSlot> {
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

    pub(super) fn first_var(&self, actor: &str) -> String {
        self.actors
            .iter()
            .find(|(a, _, _)| a == actor)
            .and_then(|(_, _, names)| names.first().cloned())
            .unwrap_or_else(|| "var".into())
    }

    pub(super) fn target(&mut self, path: &[String], span: Range<usize>) -> Option<VarSlot> {
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
}
