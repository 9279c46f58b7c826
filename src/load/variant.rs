//! Variants: a scenario that `extends` a base, merged into it.
//!
//! In: the base's merged [`RawScenario`] and the variant's own. Out: the base patched with the
//! variant's entries (or the entries it names that do not exist, as diagnostics), and the
//! variant's changes as readable lines for the report.

use std::fmt;

use toml::Spanned;

use super::{ExprSource, Literal, RawParam, RawScenario, RawTrigger, RawVar};
use crate::diagnostic::Diagnostic;

/// Patches `base` with a variant's entries (see docs/scenario-format.md, "Variants").
pub(super) fn apply_variant(base: &mut RawScenario, variant: RawScenario) -> Result<(), Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let h = variant.scenario;
    let b = &mut base.scenario;
    patch(&mut b.id, h.id);
    patch(&mut b.name, h.name);
    patch(&mut b.description, h.description);
    patch(&mut b.steps, h.steps);
    patch(&mut b.step_unit, h.step_unit);
    patch(&mut b.start, h.start);
    patch(&mut b.runs, h.runs);
    patch(&mut b.seed, h.seed);

    if let Some(escalation) = variant.escalation {
        errors.push(
            Diagnostic::new("a variant cannot redefine the escalation ladder", escalation.span())
                .label("ladder redefined")
                .help("variants must keep the base's ladder so their results stay comparable; write a new base scenario instead"),
        );
    }
    for (name, param) in variant.params {
        base.params.insert(name, param);
    }
    for (actor, keys) in variant.actors {
        let target = base.actors.entry(actor).or_default();
        for (key, var) in keys {
            match target.get_mut(&key) {
                Some(existing) => patch_var(existing, var),
                None => {
                    target.insert(key, var);
                }
            }
        }
    }
    remove_by_id(
        &mut base.triggers,
        &variant.remove_triggers,
        |t| &t.id,
        "trigger",
        &mut errors,
    );
    remove_by_id(
        &mut base.outcomes,
        &variant.remove_outcomes,
        |o| &o.id,
        "outcome",
        &mut errors,
    );
    for trigger in variant.triggers {
        match base
            .triggers
            .iter_mut()
            .find(|t| t.get_ref().id == trigger.get_ref().id)
        {
            Some(existing) => patch_trigger(existing.get_mut(), trigger.into_inner()),
            None => base.triggers.push(trigger),
        }
    }
    for outcome in variant.outcomes {
        match base
            .outcomes
            .iter_mut()
            .find(|o| o.get_ref().id == outcome.get_ref().id)
        {
            Some(existing) => {
                let (e, o) = (existing.get_mut(), outcome.into_inner());
                patch(&mut e.label, o.label);
                patch(&mut e.when, o.when);
            }
            None => base.outcomes.push(outcome),
        }
    }
    // Claims are not inherited: what a variant should show differs from what its base should.
    base.expect = variant.expect;
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// What `variant` changes in `base`, one readable line per param, actor key, trigger or outcome
/// patched, added or removed (shown in the report next to the variant's title).
pub(super) fn describe_variant(base: &RawScenario, variant: &RawScenario) -> Vec<String> {
    let mut changes = Vec::new();
    let (b, v) = (&base.scenario, &variant.scenario);
    for (key, old, new) in [
        (
            "steps",
            b.steps.as_ref().map(|x| x.get_ref().to_string()),
            v.steps.as_ref().map(|x| x.get_ref().to_string()),
        ),
        ("step_unit", text_of(&b.step_unit), text_of(&v.step_unit)),
        ("start", text_of(&b.start), text_of(&v.start)),
    ] {
        if let Some(new) = new.filter(|new| Some(new) != old.as_ref()) {
            changes.push(format!("{key} = {new}{}", was(old.as_deref())));
        }
    }
    for (name, param) in &variant.params {
        let new = param_text(param.get_ref());
        match base.params.get(name) {
            Some(old) if param_text(old.get_ref()) == new => {}
            Some(old) => changes.push(format!(
                "param `{}` = {new}{}",
                name.get_ref(),
                was(Some(&param_text(old.get_ref())))
            )),
            None => changes.push(format!("param `{}` added: {new}", name.get_ref())),
        }
    }
    for (actor, keys) in &variant.actors {
        let Some(existing) = base.actors.get(actor) else {
            changes.push(format!("actor `{}` added", actor.get_ref()));
            continue;
        };
        for (key, var) in keys {
            let path = format!("{}.{}", actor.get_ref(), key.get_ref());
            let fields = var_fields(var.get_ref());
            let Some(old) = existing.get(key).map(|old| var_fields(old.get_ref())) else {
                let text: Vec<String> = fields
                    .into_iter()
                    .filter_map(|(k, v)| Some(format!("{k} = {}", v?)))
                    .collect();
                changes.push(format!("`{path}` added: {}", text.join(", ")));
                continue;
            };
            let mut diff = Vec::new();
            for ((key, old), (_, new)) in old.into_iter().zip(fields) {
                field_change(&mut diff, key, old, new);
            }
            if !diff.is_empty() {
                changes.push(format!("`{path}`: {}", diff.join("; ")));
            }
        }
    }
    for id in &variant.remove_triggers {
        changes.push(format!("trigger `{}` removed", id.get_ref()));
    }
    for id in &variant.remove_outcomes {
        changes.push(format!("outcome `{}` removed", id.get_ref()));
    }
    for trigger in &variant.triggers {
        let t = trigger.get_ref();
        let Some(old) = base
            .triggers
            .iter()
            .map(Spanned::get_ref)
            .find(|o| o.id.get_ref() == t.id.get_ref())
        else {
            changes.push(format!("trigger `{}` added{}", t.id.get_ref(), label_suffix(&t.label)));
            continue;
        };
        let mut fields = Vec::new();
        field_change(&mut fields, "when", expr_text(&old.when), expr_text(&t.when));
        field_change(
            &mut fields,
            "probability",
            expr_text(&old.probability),
            expr_text(&t.probability),
        );
        field_change(&mut fields, "delay", debug_text(&old.delay), debug_text(&t.delay));
        field_change(&mut fields, "repeat", debug_text(&old.repeat), debug_text(&t.repeat));
        field_change(
            &mut fields,
            "cooldown",
            debug_text(&old.cooldown),
            debug_text(&t.cooldown),
        );
        field_change(&mut fields, "effects", list_text(&old.effects), list_text(&t.effects));
        field_change(&mut fields, "actor", text_of(&old.actor), text_of(&t.actor));
        field_change(&mut fields, "label", text_of(&old.label), text_of(&t.label));
        for (key, old, new) in [("source", &old.source, &t.source), ("note", &old.note, &t.note)] {
            if new.is_some() && text_of(new) != text_of(old) {
                fields.push(format!("{key} reworded"));
            }
        }
        if !fields.is_empty() {
            changes.push(format!("trigger `{}`: {}", t.id.get_ref(), fields.join("; ")));
        }
    }
    for outcome in &variant.outcomes {
        let o = outcome.get_ref();
        let Some(old) = base
            .outcomes
            .iter()
            .map(Spanned::get_ref)
            .find(|b| b.id.get_ref() == o.id.get_ref())
        else {
            changes.push(format!("outcome `{}` added{}", o.id.get_ref(), label_suffix(&o.label)));
            continue;
        };
        let mut fields = Vec::new();
        field_change(&mut fields, "when", expr_text(&old.when), expr_text(&o.when));
        field_change(&mut fields, "label", text_of(&old.label), text_of(&o.label));
        if !fields.is_empty() {
            changes.push(format!("outcome `{}`: {}", o.id.get_ref(), fields.join("; ")));
        }
    }
    changes
}

fn was(old: Option<&str>) -> String {
    old.map(|old| format!(" (base: {old})")).unwrap_or_default()
}

/// `key = new (base: old)` when the variant sets `key` to something else than the base has.
fn field_change(fields: &mut Vec<String>, key: &str, old: Option<String>, new: Option<String>) {
    if let Some(new) = new.filter(|new| Some(new) != old.as_ref()) {
        fields.push(format!("{key} = {new}{}", was(old.as_deref())));
    }
}

fn text_of(value: &Option<Spanned<String>>) -> Option<String> {
    value.as_ref().map(|v| format!("{:?}", v.get_ref()))
}

fn label_suffix(label: &Option<Spanned<String>>) -> String {
    label.as_ref().map(|l| format!(": {}", l.get_ref())).unwrap_or_default()
}

fn debug_text<T: fmt::Debug>(value: &Option<Spanned<T>>) -> Option<String> {
    value.as_ref().map(|v| match format!("{:?}", v.get_ref()) {
        // `Fixed(2)`, `Range(1, 3)`, `Flag(true)`, `Max(3)` as a scenario writes them.
        text if text.starts_with("Range(") => format!("[{}]", &text[6..text.len() - 1]),
        text if text.contains('(') => text[text.find('(').unwrap() + 1..text.len() - 1].to_string(),
        text => text,
    })
}

fn list_text(value: &Option<Vec<Spanned<String>>>) -> Option<String> {
    value.as_ref().map(|items| {
        let items: Vec<String> = items.iter().map(|i| format!("{:?}", i.get_ref())).collect();
        format!("[{}]", items.join(", "))
    })
}

fn literal_text(literal: &Literal) -> String {
    match literal {
        Literal::Bool(b) => b.to_string(),
        Literal::Number(n) => n.to_string(),
        Literal::Text(t) => format!("{t:?}"),
    }
}

fn expr_text(value: &Option<Spanned<ExprSource>>) -> Option<String> {
    value.as_ref().map(|v| match v.get_ref() {
        ExprSource::Text(text) => format!("{text:?}"),
        ExprSource::Literal(literal) => literal_text(literal),
    })
}

fn param_text(param: &RawParam) -> String {
    let numbers = |v: &[f64]| v.iter().map(f64::to_string).collect::<Vec<_>>().join(", ");
    let mut parts = Vec::new();
    if let Some(v) = &param.value {
        parts.push(v.get_ref().to_string());
    }
    if let Some(v) = &param.annual {
        parts.push(format!("annual {}", v.get_ref()));
    }
    for (name, v) in [
        ("uniform", &param.uniform),
        ("triangular", &param.triangular),
        ("pert", &param.pert),
        ("beta", &param.beta),
    ] {
        if let Some(v) = v {
            parts.push(format!("{name}({})", numbers(v.get_ref())));
        }
    }
    if let Some(basis) = &param.basis {
        parts.push(format!("({} basis)", basis.get_ref()));
    }
    parts.join(" ")
}

fn var_fields(var: &RawVar) -> [(&'static str, Option<String>); 4] {
    [
        ("initial", var.initial.as_ref().map(|v| literal_text(v.get_ref()))),
        ("min", var.min.as_ref().map(|v| v.get_ref().to_string())),
        ("max", var.max.as_ref().map(|v| v.get_ref().to_string())),
        (
            "levels",
            var.levels.as_ref().map(|levels| {
                let levels: Vec<String> = levels.iter().map(|l| format!("{:?}", l.get_ref())).collect();
                format!("[{}]", levels.join(", "))
            }),
        ),
    ]
}

fn patch<T>(base: &mut Option<T>, variant: Option<T>) {
    if variant.is_some() {
        *base = variant;
    }
}

fn patch_var(base: &mut Spanned<RawVar>, variant: Spanned<RawVar>) {
    let (b, v) = (base.get_mut(), variant.into_inner());
    patch(&mut b.initial, v.initial);
    patch(&mut b.min, v.min);
    patch(&mut b.max, v.max);
    patch(&mut b.levels, v.levels);
}

fn patch_trigger(b: &mut RawTrigger, v: RawTrigger) {
    patch(&mut b.label, v.label);
    patch(&mut b.actor, v.actor);
    patch(&mut b.when, v.when);
    patch(&mut b.probability, v.probability);
    patch(&mut b.delay, v.delay);
    patch(&mut b.repeat, v.repeat);
    patch(&mut b.cooldown, v.cooldown);
    patch(&mut b.effects, v.effects);
    patch(&mut b.source, v.source);
    patch(&mut b.note, v.note);
}

fn remove_by_id<T>(
    items: &mut Vec<Spanned<T>>,
    ids: &[Spanned<String>],
    id_of: impl Fn(&T) -> &Spanned<String>,
    kind: &str,
    errors: &mut Vec<Diagnostic>,
) {
    for id in ids {
        let before = items.len();
        items.retain(|item| id_of(item.get_ref()).get_ref() != id.get_ref());
        if items.len() == before {
            let known: Vec<&str> = items.iter().map(|i| id_of(i.get_ref()).get_ref().as_str()).collect();
            errors.push(
                Diagnostic::new(
                    format!("the base has no {kind} `{}` to remove", id.get_ref()),
                    id.span(),
                )
                .label(format!("unknown {kind}"))
                .suggest(id.get_ref(), known),
            );
        }
    }
}
