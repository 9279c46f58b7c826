//! Loading: scenario files in, one merged [`RawScenario`] out.
//!
//! In: the path of a scenario file. Out: the scenario as written (spans kept, nothing checked
//! beyond TOML syntax and key names), with its `extends` chain resolved into a single
//! [`RawScenario`], plus the [`Sources`] to report errors against. Meaning is checked by
//! `compile`. This is the only stage that reads scenario files, through `input::read_text`:
//! regular files of at most [`SCENARIO_FILE_LIMIT`] bytes, and for `extends` only `.toml` files.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
// The raw types describe the scenario format for `schema` too (a JSON Schema for editors);
// the types with hand-written deserializers have hand-written schemas beside them.
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use toml::Spanned;

use crate::diagnostic::{Diagnostic, ScenarioError, Sources};
use crate::input::{ReadError, ReadProblem, SCENARIO_FILE_LIMIT, read_text};

/// One scenario file as written, or several merged through `extends`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[schemars(
    title = "sim scenario",
    description = "A scenario of `sim`, the seeded Monte Carlo escalation simulator (docs/scenario-format.md). A variant (with `extends`) states only what changes, so no key is required here; `sim check` reports what a complete scenario lacks."
)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// Path of a base scenario, relative to this file: this file is then a variant and states only what changes.
    #[serde(default, skip_serializing)]
    #[schemars(with = "Option<String>")]
    pub extends: Option<Spanned<String>>,
    /// In a variant: ids of the base's triggers to drop.
    #[serde(default, skip_serializing)]
    #[schemars(with = "Vec<String>")]
    pub remove_triggers: Vec<Spanned<String>>,
    /// In a variant: ids of the base's outcomes to drop.
    #[serde(default, skip_serializing)]
    #[schemars(with = "Vec<String>")]
    pub remove_outcomes: Vec<Spanned<String>>,
    #[serde(default)]
    pub scenario: RawHeader,
    #[schemars(with = "Option<RawEscalation>")]
    pub escalation: Option<Spanned<RawEscalation>>,
    /// Named numbers usable in every expression: fixed, or drawn once per run from a distribution.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, RawParam>", extend("propertyNames" = { "pattern": "^[a-z][a-z0-9_]*$" }))]
    pub params: IndexMap<Spanned<String>, Spanned<RawParam>>,
    /// The actors, `[actors.<id>]`: a display `name`, an optional `note`, and state variables.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, RawActor>", extend("propertyNames" = { "pattern": "^[a-z][a-z0-9_]*$" }))]
    pub actors: IndexMap<Spanned<String>, IndexMap<Spanned<String>, Spanned<RawVar>>>,
    /// Events that may happen at each step, `[[triggers]]`.
    #[serde(default)]
    #[schemars(with = "Vec<RawTrigger>")]
    pub triggers: Vec<Spanned<RawTrigger>>,
    /// Conditions on the state that are reported, `[[outcomes]]`.
    #[serde(default)]
    #[schemars(with = "Vec<RawOutcome>")]
    pub outcomes: Vec<Spanned<RawOutcome>>,
    /// Set by [`load`] on a variant: its base and what it changes. Not part of the digest:
    /// the merged scenario alone determines the numbers.
    #[serde(skip)]
    pub variant_of: Option<VariantOf>,
    /// Where `[scenario]` is written (of the variant when it has one), for problems with a
    /// missing header key.
    #[serde(skip)]
    pub header_span: Option<Range<usize>>,
}

/// A variant's base scenario and what the variant changes in it, as readable lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VariantOf {
    /// The base's scenario id (its `id`, else its file name).
    pub base_id: String,
    pub changes: Vec<String>,
}

/// `[scenario]`: the scenario's name, horizon and defaults.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[schemars(rename = "Header")]
#[serde(deny_unknown_fields)]
pub struct RawHeader {
    /// Identifier used for the output directory `output/<id>/`; defaults to the file name without `.toml`.
    #[schemars(with = "Option<String>", regex(pattern = r"^[a-z0-9][a-z0-9_-]*$"))]
    pub id: Option<Spanned<String>>,
    /// Human title, used on charts (required).
    #[schemars(with = "Option<String>")]
    pub name: Option<Spanned<String>>,
    /// One paragraph, shown in the report.
    #[schemars(with = "Option<String>")]
    pub description: Option<Spanned<String>>,
    /// Horizon, in steps (required).
    #[schemars(with = "Option<i64>", range(min = 1, max = 10_000))]
    pub steps: Option<Spanned<i64>>,
    /// The length of a step (required): day, week, month, quarter, year, or another word (then `annual` conversions are refused).
    #[schemars(with = "Option<String>")]
    pub step_unit: Option<Spanned<String>>,
    /// The date of step 0: YYYY, YYYY-MM or YYYY-MM-DD.
    #[schemars(with = "Option<String>")]
    pub start: Option<Spanned<String>>,
    /// Default number of runs (default 10,000); `--runs` overrides.
    #[schemars(with = "Option<i64>", range(min = 1))]
    pub runs: Option<Spanned<i64>>,
    /// Default seed (default 1); `--seed` overrides.
    #[schemars(with = "Option<i64>", range(min = 0))]
    pub seed: Option<Spanned<i64>>,
}

/// `[escalation]`: the ladder, from calm (rung 0) to severe. A variant may not redefine it.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[schemars(rename = "Escalation")]
#[serde(deny_unknown_fields)]
pub struct RawEscalation {
    /// Two or more distinct level names, ordered from calm to severe.
    #[schemars(with = "Vec<String>", length(min = 2), inner(regex(pattern = r"^[a-z][a-z0-9_]*$")))]
    pub levels: Vec<Spanned<String>>,
    /// The level every run starts at.
    #[schemars(with = "String")]
    pub initial: Spanned<String>,
}

/// A param as written: a bare number or a table naming its distribution.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RawParam {
    pub value: Option<Spanned<f64>>,
    pub annual: Option<Spanned<f64>>,
    pub uniform: Option<Spanned<Vec<f64>>>,
    pub triangular: Option<Spanned<Vec<f64>>>,
    pub pert: Option<Spanned<Vec<f64>>>,
    pub beta: Option<Spanned<Vec<f64>>>,
    pub basis: Option<Spanned<String>>,
}

/// An actor key as written: a state variable (`initial` alone for the bare forms `v = 3`,
/// `v = true`, `v = "level"`) or the actor's `name`/`note` text.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RawVar {
    pub initial: Option<Spanned<Literal>>,
    pub min: Option<Spanned<f64>>,
    pub max: Option<Spanned<f64>>,
    pub levels: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Literal {
    Bool(bool),
    Number(f64),
    Text(String),
}

/// An expression as written: a string to parse, or a bare number or boolean.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ExprSource {
    Text(String),
    Literal(Literal),
}

/// A trigger, `[[triggers]]`: an event that may happen at each step. In a variant, an entry whose `id` is in the base patches only the keys it gives.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[schemars(rename = "Trigger")]
#[serde(deny_unknown_fields)]
pub struct RawTrigger {
    /// Unique id; also the trigger's random-number address.
    #[schemars(with = "String", regex(pattern = r"^[a-z][a-z0-9_]*$"))]
    pub id: Spanned<String>,
    /// Human sentence shown on charts and traces (required).
    #[schemars(with = "Option<String>")]
    pub label: Option<Spanned<String>>,
    /// The id of the actor who acts (required).
    #[schemars(with = "Option<String>")]
    pub actor: Option<Spanned<String>>,
    /// Boolean expression: the trigger is eligible while it holds (default true).
    #[schemars(with = "Option<ExprSource>")]
    pub when: Option<Spanned<ExprSource>>,
    /// Per-step probability (required): a number or an expression such as "p_lethal * 2".
    #[schemars(with = "Option<ExprSource>")]
    pub probability: Option<Spanned<ExprSource>>,
    /// Steps between firing and effects: n, or [min, max] drawn uniformly per firing (default 0).
    #[schemars(with = "Option<RawDelay>")]
    pub delay: Option<Spanned<RawDelay>>,
    /// false (default: fires at most once), true (unbounded) or a maximum number of firings.
    #[schemars(with = "Option<RawRepeat>")]
    pub repeat: Option<Spanned<RawRepeat>>,
    /// Steps to wait after a firing before the next (default 0).
    #[schemars(with = "Option<i64>", range(min = 0))]
    pub cooldown: Option<Spanned<i64>>,
    /// Statements `target = expr`, `target += expr`, `target -= expr` on `escalation` or `actor.var`.
    #[schemars(with = "Option<Vec<String>>")]
    pub effects: Option<Vec<Spanned<String>>>,
    /// Where the rule comes from.
    #[schemars(with = "Option<String>")]
    pub source: Option<Spanned<String>>,
    /// A remark on the rule.
    #[schemars(with = "Option<String>")]
    pub note: Option<Spanned<String>>,
}

/// An outcome, `[[outcomes]]`: a condition on the state, reported as P(held by t) and P(holds at t).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[schemars(rename = "Outcome")]
#[serde(deny_unknown_fields)]
pub struct RawOutcome {
    /// Unique id.
    #[schemars(with = "String", regex(pattern = r"^[a-z][a-z0-9_]*$"))]
    pub id: Spanned<String>,
    /// Human sentence (required).
    #[schemars(with = "Option<String>")]
    pub label: Option<Spanned<String>>,
    /// Boolean expression, evaluated on the state at the end of every step (required).
    #[schemars(with = "Option<ExprSource>")]
    pub when: Option<Spanned<ExprSource>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum RawDelay {
    Fixed(i64),
    Range(i64, i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum RawRepeat {
    Flag(bool),
    Max(i64),
}

/// A scenario read from disk, bases merged in.
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    pub path: PathBuf,
    pub raw: RawScenario,
    pub sources: Sources,
    /// Span of the whole main file, for problems that belong to no key (a missing table).
    pub file_span: Range<usize>,
}

/// Reads a scenario file and the chain of files it extends.
pub fn load(path: &Path) -> Result<LoadedScenario, ScenarioError> {
    match read_scenario_file(path) {
        Ok(text) => load_text(path, text),
        Err(e) => Err(ScenarioError {
            diagnostics: vec![
                Diagnostic::without_span(e.to_string())
                    .help("check the path; globs such as scenarios/*.toml are expanded by `sim`"),
            ],
            sources: Sources::default(),
        }),
    }
}

/// Reads a scenario file: a regular file (symlinks followed) of at most
/// [`SCENARIO_FILE_LIMIT`] bytes of UTF-8. Separate from [`load_text`] so that the CLI can tell
/// an unreadable file (an I/O failure) from an invalid scenario.
pub fn read_scenario_file(path: &Path) -> Result<String, ReadError> {
    read_text(path, SCENARIO_FILE_LIMIT)
}

/// Loads a scenario whose main file `path` holds `text`, reading the files it extends.
pub fn load_text(path: &Path, text: String) -> Result<LoadedScenario, ScenarioError> {
    let mut sources = Sources::default();
    let mut chain = Vec::new();
    let outcome = load_chain(path, text, &mut sources, &mut chain);
    match outcome {
        Ok((raw, file_span)) => Ok(LoadedScenario {
            path: path.to_path_buf(),
            raw,
            sources,
            file_span,
        }),
        Err(diagnostics) => Err(ScenarioError { diagnostics, sources }),
    }
}

fn load_chain(
    path: &Path,
    text: String,
    sources: &mut Sources,
    chain: &mut Vec<PathBuf>,
) -> Result<(RawScenario, Range<usize>), Vec<Diagnostic>> {
    let len = text.len();
    let base = sources.add(path, text.clone());
    let file_span = base..base + len;
    // Parsing behind `base` spaces puts every span of this file in the shared offset space.
    let padded = format!("{}{text}", " ".repeat(base));
    let mut raw = parse_scenario(&padded, base)?;

    let Some(extends) = raw.extends.take() else {
        return Ok((raw, file_span));
    };
    let base_path = path.parent().unwrap_or(Path::new(".")).join(extends.get_ref());
    let identity = std::fs::canonicalize(&base_path).unwrap_or_else(|_| base_path.clone());
    chain.push(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()));
    if chain.contains(&identity) {
        return Err(vec![
            Diagnostic::new(
                format!(
                    "`extends` makes a cycle: {} is already being loaded",
                    base_path.display()
                ),
                extends.span(),
            )
            .label("cycle")
            .help("a variant extends a base; the base must not extend the variant"),
        ]);
    }
    let base_text = read_base(&base_path, &identity).map_err(|(message, label)| {
        let help = if label == "no such file" {
            "the path is relative to the directory of this file"
        } else {
            "`extends` names another scenario: a regular .toml file"
        };
        vec![Diagnostic::new(message, extends.span()).label(label).help(help)]
    })?;
    let (mut merged, _) = load_chain(&base_path, base_text, sources, chain)?;
    let base_id = match &merged.scenario.id {
        Some(id) => id.get_ref().clone(),
        None => base_path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string(),
    };
    let changes = describe_variant(&merged, &raw);
    if raw.header_span.is_some() {
        merged.header_span = raw.header_span.clone();
    }
    apply_variant(&mut merged, raw)?;
    merged.variant_of = Some(VariantOf { base_id, changes });
    Ok((merged, file_span))
}

/// Reads the base scenario a variant `extends`: only a regular `.toml` file (also after
/// following symlinks, to `identity`), so that `extends` cannot make `sim` read and echo other
/// files. Fails with a message and a caret label.
fn read_base(base_path: &Path, identity: &Path) -> Result<String, (String, &'static str)> {
    let is_toml = |p: &Path| p.extension().is_some_and(|e| e == "toml");
    if !is_toml(base_path) || !is_toml(identity) {
        return Err((
            format!(
                "the base scenario {} is not a .toml file",
                if is_toml(base_path) { identity } else { base_path }.display()
            ),
            "not a .toml file",
        ));
    }
    read_scenario_file(base_path).map_err(|e| {
        let label = match e.problem {
            ReadProblem::Missing => "no such file",
            ReadProblem::Directory => "a directory",
            ReadProblem::SymlinkLoop => "a symlink loop",
            ReadProblem::TooLarge { .. } => "too large",
            _ => "unreadable",
        };
        let message = match e.problem {
            ReadProblem::Missing => format!("the base scenario {} does not exist", base_path.display()),
            problem => format!("cannot read the base scenario {}: {problem}", base_path.display()),
        };
        (message, label)
    })
}

/// Parses one file's text (behind `base` spaces) into a [`RawScenario`], or reports every
/// independent problem one pass finds: all the syntax errors the parser recovers from, else
/// the shape errors (unknown keys, wrong types, missing ids) of each top-level key, each
/// `[scenario]` key, each param, each actor and each trigger and outcome on its own, in file
/// order.
fn parse_scenario(padded: &str, base: usize) -> Result<RawScenario, Vec<Diagnostic>> {
    use toml::de::{DeTable, DeValue, Deserializer};
    let (document, syntax) = DeTable::parse_recoverable(padded);
    if !syntax.is_empty() {
        let mut errors: Vec<Diagnostic> = syntax.iter().map(|e| toml_diagnostic(e, base)).collect();
        errors.sort_by_key(|d| d.span.as_ref().map(|s| s.start));
        return Err(distinct(errors));
    }
    let header_span = document.get_ref().get_key_value("scenario").map(|(key, _)| key.span());
    let first = match RawScenario::deserialize(Deserializer::from(document.clone())) {
        Ok(mut raw) => {
            raw.header_span = header_span;
            return Ok(raw);
        }
        Err(first) => first,
    };
    let mut errors = Vec::new();
    for (key, value) in document.get_ref() {
        let pieces: Vec<Spanned<DeValue>> = match (key.get_ref().as_ref(), value.get_ref()) {
            ("triggers" | "outcomes", DeValue::Array(items)) => items
                .iter()
                .map(|item| Spanned::new(value.span(), DeValue::Array(std::iter::once(item.clone()).collect())))
                .collect(),
            ("scenario" | "params" | "actors", DeValue::Table(entries)) => entries
                .iter()
                .map(|(k, v)| {
                    let mut one = DeTable::new();
                    one.insert(k.clone(), v.clone());
                    Spanned::new(value.span(), DeValue::Table(one))
                })
                .collect(),
            _ => vec![value.clone()],
        };
        for piece in pieces {
            let mut one = DeTable::new();
            one.insert(key.clone(), piece);
            if let Err(e) = RawScenario::deserialize(Deserializer::from(Spanned::new(document.span(), one))) {
                errors.push(toml_diagnostic(&e, base));
            }
        }
    }
    if errors.is_empty() {
        errors.push(toml_diagnostic(&first, base));
    }
    // The parsed tables are in key order, not file order.
    errors.sort_by_key(|d| d.span.as_ref().map(|s| s.start));
    Err(distinct(errors))
}

/// Drops repeated diagnostics (same message at the same place).
fn distinct(diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut seen = Vec::new();
    diagnostics
        .into_iter()
        .filter(|d| {
            let key = format!("{d:?}");
            let new = !seen.contains(&key);
            seen.push(key);
            new
        })
        .collect()
}

/// Turns a TOML syntax or shape error into a diagnostic, suggesting the closest key for an
/// unknown one (serde lists the expected keys in its message).
fn toml_diagnostic(error: &toml::de::Error, base: usize) -> Diagnostic {
    // serde names Rust types; scenario authors think in TOML values.
    let message = error
        .message()
        .trim()
        .replace("expected i64", "expected a whole number")
        .replace("expected f64", "expected a number")
        .replace("expected a string", "expected a quoted string");
    let span = error.span().unwrap_or(base..base);
    let diagnostic = Diagnostic::new(message.clone(), span).label("here");
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return diagnostic;
    };
    let unknown = rest.split('`').next().unwrap_or_default();
    let expected: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
    diagnostic.suggest(unknown, expected)
}

/// Patches `base` with a variant's entries (see docs/scenario-format.md, "Variants").
fn apply_variant(base: &mut RawScenario, variant: RawScenario) -> Result<(), Vec<Diagnostic>> {
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
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// What `variant` changes in `base`, one readable line per param, actor key, trigger or outcome
/// patched, added or removed (shown in the report next to the variant's title).
fn describe_variant(base: &RawScenario, variant: &RawScenario) -> Vec<String> {
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

impl RawScenario {
    /// BLAKE3 of the canonical JSON of the merged scenario, without the default run count and
    /// seed (they are recorded separately, and overriding them must not change the identity).
    pub fn digest(&self) -> String {
        let mut canonical = self.clone();
        canonical.scenario.runs = None;
        canonical.scenario.seed = None;
        let json = serde_json::to_vec(&canonical).expect("raw scenarios always serialize");
        blake3::hash(&json).to_hex().to_string()
    }
}

// ---- Deserializers for the keys that accept several shapes ----------------------------------

/// Accepts a bare value (number, boolean or string, meaning `initial`) or a full table.
impl<'de> Deserialize<'de> for RawVar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct VarVisitor;
        impl<'de> Visitor<'de> for VarVisitor {
            type Value = RawVar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, a boolean, a string, or a table such as { initial = 1, min = 0, max = 3 }")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawVar, A::Error> {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Table {
                    initial: Option<Spanned<Literal>>,
                    min: Option<Spanned<f64>>,
                    max: Option<Spanned<f64>>,
                    levels: Option<Vec<Spanned<String>>>,
                }
                let t = Table::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawVar {
                    initial: t.initial,
                    min: t.min,
                    max: t.max,
                    levels: t.levels,
                })
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawVar, E> {
                Ok(RawVar::bare(Literal::Bool(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawVar, E> {
                Ok(RawVar::bare(Literal::Number(v as f64)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawVar, E> {
                Ok(RawVar::bare(Literal::Number(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawVar, E> {
                Ok(RawVar::bare(Literal::Text(v.to_string())))
            }
        }
        deserializer.deserialize_any(VarVisitor)
    }
}

/// The shapes [`RawVar`]'s deserializer accepts.
impl JsonSchema for RawVar {
    fn schema_name() -> Cow<'static, str> {
        "Variable".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A state variable: a number (`v = 3` or `{ initial = 3, min = 0, max = 10 }`), a boolean (`v = false`), or an enumeration (`{ levels = [\"a\", \"b\"], initial = \"a\" }`). In a variant, a table patches only the fields it names.",
            "anyOf": [
                { "type": ["number", "boolean", "string"] },
                {
                    "type": "object",
                    "properties": {
                        "initial": {
                            "description": "The value every run starts with: a number, a boolean, or one of `levels`.",
                            "type": ["number", "boolean", "string"]
                        },
                        "min": { "description": "Lower bound of a number; every assignment is clamped to it.", "type": "number" },
                        "max": { "description": "Upper bound of a number; every assignment is clamped to it.", "type": "number" },
                        "levels": {
                            "description": "The levels of an enumeration, in order.",
                            "type": "array",
                            "items": { "type": "string", "pattern": "^[a-z][a-z0-9_]*$" },
                            "minItems": 2
                        }
                    },
                    "additionalProperties": false
                }
            ]
        })
    }
}

/// An actor's table, `[actors.<id>]`: a schema only, for the map of keys [`RawScenario::actors`]
/// holds (`name` and `note` are read as [`RawVar`]s there, and checked by `compile`).
pub struct RawActor;

impl JsonSchema for RawActor {
    fn schema_name() -> Cow<'static, str> {
        "Actor".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An actor: its display `name` (required), an optional `note`, and its state variables.",
            "type": "object",
            "properties": {
                "name": { "description": "Display name, e.g. \"Seoul\".", "type": "string" },
                "note": { "description": "Optional text.", "type": "string" }
            },
            "propertyNames": { "pattern": "^[a-z][a-z0-9_]*$" },
            "additionalProperties": generator.subschema_for::<RawVar>()
        })
    }
}

impl RawVar {
    /// A bare value carries no span of its own; `compile` uses the key's span for it.
    fn bare(value: Literal) -> RawVar {
        RawVar {
            initial: Some(Spanned::new(0..0, value)),
            ..RawVar::default()
        }
    }
}

impl<'de> Deserialize<'de> for Literal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LiteralVisitor;
        impl Visitor<'_> for LiteralVisitor {
            type Value = Literal;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, a boolean or a string")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Literal, E> {
                Ok(Literal::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Literal, E> {
                Ok(Literal::Number(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Literal, E> {
                Ok(Literal::Number(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Literal, E> {
                Ok(Literal::Text(v.to_string()))
            }
        }
        deserializer.deserialize_any(LiteralVisitor)
    }
}

/// The values [`Literal`]'s deserializer accepts.
impl JsonSchema for Literal {
    fn schema_name() -> Cow<'static, str> {
        "Literal".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["number", "boolean", "string"] })
    }
}

impl<'de> Deserialize<'de> for ExprSource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Literal::deserialize(deserializer)? {
            Literal::Text(text) => ExprSource::Text(text),
            literal => ExprSource::Literal(literal),
        })
    }
}

/// The values [`ExprSource`]'s deserializer accepts.
impl JsonSchema for ExprSource {
    fn schema_name() -> Cow<'static, str> {
        "Expression".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An expression (docs/scenario-format.md, \"Expressions\"), e.g. \"rok.vigilance >= 2 && !fired.talks\", or a bare number or boolean.",
            "type": ["string", "number", "boolean"]
        })
    }
}

impl<'de> Deserialize<'de> for RawParam {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ParamVisitor;
        impl<'de> Visitor<'de> for ParamVisitor {
            type Value = RawParam;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a table such as { pert = [min, mode, max] }")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawParam, E> {
                self.visit_f64(v as f64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawParam, E> {
                Ok(RawParam {
                    value: Some(Spanned::new(0..0, v)),
                    ..RawParam::default()
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawParam, A::Error> {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Table {
                    value: Option<Spanned<f64>>,
                    annual: Option<Spanned<f64>>,
                    uniform: Option<Spanned<Vec<f64>>>,
                    triangular: Option<Spanned<Vec<f64>>>,
                    pert: Option<Spanned<Vec<f64>>>,
                    beta: Option<Spanned<Vec<f64>>>,
                    basis: Option<Spanned<String>>,
                }
                let t = Table::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawParam {
                    value: t.value,
                    annual: t.annual,
                    uniform: t.uniform,
                    triangular: t.triangular,
                    pert: t.pert,
                    beta: t.beta,
                    basis: t.basis,
                })
            }
        }
        deserializer.deserialize_any(ParamVisitor)
    }
}

/// The shapes [`RawParam`]'s deserializer accepts, and the one form a param gives.
impl JsonSchema for RawParam {
    fn schema_name() -> Cow<'static, str> {
        "Param".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let range = |n: u32, what: &str| {
            serde_json::json!({
                "description": what,
                "type": "array",
                "items": { "type": "number" },
                "minItems": n,
                "maxItems": n
            })
        };
        json_schema!({
            "description": "A param: a fixed number, or a table giving exactly one of `value`, `annual`, `uniform`, `triangular`, `pert`, `beta`.",
            "anyOf": [
                { "type": "number" },
                {
                    "type": "object",
                    "properties": {
                        "value": { "description": "A fixed number.", "type": "number" },
                        "annual": {
                            "description": "A fixed probability per year, converted to the exact per-step probability.",
                            "type": "number", "minimum": 0, "maximum": 1
                        },
                        "uniform": range(2, "Uniform on [min, max]."),
                        "triangular": range(3, "Triangular on [min, mode, max]."),
                        "pert": range(3, "PERT on [min, mode, max]."),
                        "beta": range(2, "Beta(alpha, beta) on [0, 1]."),
                        "basis": {
                            "description": "`annual`: each draw is a probability per year, converted to per step.",
                            "enum": ["step", "annual"]
                        }
                    },
                    "additionalProperties": false,
                    "oneOf": [
                        { "required": ["value"] },
                        { "required": ["annual"] },
                        { "required": ["uniform"] },
                        { "required": ["triangular"] },
                        { "required": ["pert"] },
                        { "required": ["beta"] }
                    ]
                }
            ]
        })
    }
}

impl<'de> Deserialize<'de> for RawDelay {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DelayVisitor;
        impl<'de> Visitor<'de> for DelayVisitor {
            type Value = RawDelay;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number of steps or a range [min, max]")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawDelay, E> {
                Ok(RawDelay::Fixed(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawDelay, A::Error> {
                let min = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let max = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
                if seq.next_element::<i64>()?.is_some() {
                    return Err(de::Error::invalid_length(3, &self));
                }
                Ok(RawDelay::Range(min, max))
            }
        }
        deserializer.deserialize_any(DelayVisitor)
    }
}

/// The shapes [`RawDelay`]'s deserializer accepts.
impl JsonSchema for RawDelay {
    fn schema_name() -> Cow<'static, str> {
        "Delay".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                { "type": "integer", "minimum": 0 },
                {
                    "description": "[min, max], drawn uniformly (inclusive) per firing.",
                    "type": "array",
                    "items": { "type": "integer", "minimum": 0 },
                    "minItems": 2,
                    "maxItems": 2
                }
            ]
        })
    }
}

impl<'de> Deserialize<'de> for RawRepeat {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RepeatVisitor;
        impl Visitor<'_> for RepeatVisitor {
            type Value = RawRepeat;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true, false or a maximum number of firings")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawRepeat, E> {
                Ok(RawRepeat::Flag(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawRepeat, E> {
                Ok(RawRepeat::Max(v))
            }
        }
        deserializer.deserialize_any(RepeatVisitor)
    }
}

/// The values [`RawRepeat`]'s deserializer accepts.
impl JsonSchema for RawRepeat {
    fn schema_name() -> Cow<'static, str> {
        "Repeat".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                { "type": "boolean" },
                { "type": "integer", "minimum": 1 }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variant_knows_its_base_and_what_it_changes() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let base = load(&dir.join("baseline.toml")).unwrap();
        assert_eq!(base.raw.variant_of, None);
        let variant = load(&dir.join("china_restrains.toml")).unwrap().raw.variant_of.unwrap();
        assert_eq!(variant.base_id, "baseline");
        assert!(
            variant
                .changes
                .contains(&"trigger `china_tilts_to_axis` removed".to_string()),
            "{variant:?}"
        );
        assert!(
            variant
                .changes
                .contains(&"`china.stance`: initial = \"restrains\" (base: \"uneasy\")".to_string()),
            "{variant:?}"
        );
        assert!(
            variant
                .changes
                .iter()
                .any(|c| c.starts_with("param `p_china_reverts` = pert(0.005, 0.015, 0.04) (base: pert(")),
            "{variant:?}"
        );
        // Unchanged keys a variant repeats are not listed; the digest ignores the description.
        assert_eq!(variant.changes.len(), 4, "{variant:?}");
    }

    fn problems(text: &str) -> Vec<(usize, String)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text).unwrap();
        let error = load(&path).unwrap_err();
        let line = |offset: usize| text[..offset].lines().count().max(1);
        error
            .diagnostics
            .iter()
            .map(|d| (line(d.span.clone().unwrap().start + 1), d.message.clone()))
            .collect()
    }

    #[test]
    fn every_independent_shape_error_is_reported_in_file_order() {
        let text = "# five mistakes\n[scenario]\nid = \"bad\"\nsteps = \"36\"\ncolour = \"red\"\n\n\
                    [params]\np = { pert = [0.1, 0.2, 0.3], mode = 2 }\n\n\
                    [[triggers]]\nid = \"a\"\nprobabilty = \"p\"\n\n[[triggers]]\nlabel = \"no id\"\n\n\
                    [[outcomes]]\nid = \"o\"\nwhen = 3\nextra = 1\n";
        let found = problems(text);
        let lines: Vec<usize> = found.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [4, 5, 8, 12, 14, 20], "{found:?}");
        assert!(found[0].1.contains("expected a whole number"), "{found:?}");
        assert!(found[4].1.contains("missing field `id`"), "{found:?}");
    }

    #[test]
    fn every_syntax_error_the_parser_recovers_from_is_reported() {
        let found = problems("[scenario]\nid = \"x\nsteps = 3\nname = = \"n\"\n");
        assert!(found.len() >= 2, "{found:?}");
        assert_eq!(found[0].0, 2, "{found:?}");
        assert!(found.iter().any(|(line, _)| *line == 4), "{found:?}");
    }

    #[test]
    fn the_header_is_located_for_problems_with_missing_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.toml");
        std::fs::write(&path, "# a comment\n\n[scenario]\nid = \"x\"\n").unwrap();
        let loaded = load(&path).unwrap();
        let span = loaded.raw.header_span.unwrap();
        assert_eq!(loaded.sources.text(&span), "scenario");
    }
}
