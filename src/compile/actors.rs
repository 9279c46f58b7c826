//! Actors: the raw `[actors.X]` tables in; each actor's display text, and its state variables'
//! slots, initial values, bounds and level names out.

use std::collections::HashMap;

use toml::Spanned;

use super::{Compiler, EnumType, MAX_LABEL_CHARS, MAX_PARAGRAPH_CHARS, Ty, VarSlot};
use crate::diagnostic::Diagnostic;
use crate::eval::truth;
use crate::load::{Literal, RawScenario, RawVar};
use crate::model::ActorInfo;

impl Compiler<'_> {
    /// `[actors.X]`: each actor's `name` and `note`, and its state variables, whose slots are
    /// appended to the slot tables.
    pub(super) fn compile_actors(
        &mut self,
        raw: &RawScenario,
        initial_slots: &mut Vec<f64>,
        slot_names: &mut Vec<String>,
        slot_levels: &mut Vec<Vec<String>>,
    ) -> Vec<ActorInfo> {
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
        actor_infos
    }

    /// A state variable: its initial value, slot description and level names.
    pub(super) fn variable(&mut self, var: &Spanned<RawVar>, slot: u32) -> (f64, VarSlot, Vec<String>) {
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
}

/// What an invalid variable compiles to once its error is reported: an unbounded number, so
/// that checking can go on and report the file's other problems too.
pub(super) fn invalid_variable(slot: u32) -> (f64, VarSlot, Vec<String>) {
    let var = VarSlot {
        slot,
        ty: Ty::Num,
        lo: f64::NEG_INFINITY,
        hi: f64::INFINITY,
    };
    (0.0, var, Vec::new())
}
