//! Triggers: the raw `[[triggers]]` in; their counter slots, and each trigger's checked
//! conditions, timing and [`Effect`]s (`x += 1`) out.

use toml::Spanned;

use super::{Compiler, MAX_LABEL_CHARS, MAX_PARAGRAPH_CHARS, MAX_STEPS, Ty};
use crate::diagnostic::Diagnostic;
use crate::expr::{self, AssignOp};
use crate::load::{RawDelay, RawRepeat, RawScenario};
use crate::model::{Effect, EffectOp, NEVER_FIRED_SINCE, TriggerInfo, TriggerModel};
use crate::rng;

impl Compiler<'_> {
    /// The slots of every trigger's counters (`fired.X`, `count.X`, `since.X`), appended to the
    /// slot tables before any expression is compiled.
    pub(super) fn declare_triggers(
        &mut self,
        raw: &RawScenario,
        initial_slots: &mut Vec<f64>,
        slot_names: &mut Vec<String>,
        slot_levels: &mut Vec<Vec<String>>,
    ) {
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
    }

    /// `[[triggers]]`: each trigger with its conditions, timing and effects.
    pub(super) fn compile_triggers(&mut self, raw: &RawScenario) -> (Vec<TriggerModel>, Vec<TriggerInfo>, Vec<Effect>) {
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
        (triggers, trigger_infos, effects)
    }

    pub(super) fn effect(&mut self, statement: &Spanned<String>) -> Option<Effect> {
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
            op: effect_op(parsed.op),
            value: program,
            lo: target.lo,
            hi: target.hi,
            round,
        })
    }
}

/// The model's own form of an assignment operator, so that the engine need not know the parser.
fn effect_op(op: AssignOp) -> EffectOp {
    match op {
        AssignOp::Set => EffectOp::Set,
        AssignOp::Add => EffectOp::Add,
        AssignOp::Sub => EffectOp::Sub,
    }
}
