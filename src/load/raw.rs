//! The raw scenario types: what one scenario file says, as written.
//!
//! In: TOML values, through serde (`load::parse` deserializes them). Out: [`RawScenario`] and
//! its parts, with every span kept and nothing checked beyond shapes and key names; `compile`
//! gives them meaning, and `schema` derives the JSON Schema of scenario files from them. The
//! keys that accept several shapes have hand-written deserializers and schemas here.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use indexmap::IndexMap;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
// The raw types describe the scenario format for `schema` too (a JSON Schema for editors);
// the types with hand-written deserializers have hand-written schemas beside them.
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use toml::Spanned;

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
    /// Claims `sim test` checks, `[[expect]]` (docs/ci.md). Not inherited by a variant, and not part of the digest: they state what the results should show and change none of them.
    #[serde(default, skip_serializing)]
    #[schemars(with = "Vec<RawExpect>")]
    pub expect: Vec<Spanned<RawExpect>>,
    /// Set by [`load`](super::load) on a variant: its base and what it changes. Not part of the digest:
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

/// A claim, `[[expect]]`: what `sim test` checks in the results, judged by its 95% interval. It names one of `outcome`, `rung` or `trigger`, optionally a `step` or `date` (default: the horizon), and one of `below`, `above`, `between`, `difference_above`, `difference_below`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[schemars(
    rename = "Expect",
    extend("allOf" = [
        { "oneOf": [{ "required": ["outcome"] }, { "required": ["rung"] }, { "required": ["trigger"] }] },
        { "oneOf": [
            { "required": ["below"] },
            { "required": ["above"] },
            { "required": ["between"] },
            { "required": ["difference_above", "than"] },
            { "required": ["difference_below", "than"] }
        ] },
        { "not": { "required": ["step", "date"] } }
    ])
)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    /// An outcome's id: the claim is on P(the outcome held at some step up to `step`).
    #[schemars(with = "Option<String>")]
    pub outcome: Option<Spanned<String>>,
    /// A level of the ladder above the initial one: P(that rung or higher reached by `step`).
    #[schemars(with = "Option<String>")]
    pub rung: Option<Spanned<String>>,
    /// A trigger's id: P(the trigger fired at some step up to `step`).
    #[schemars(with = "Option<String>")]
    pub trigger: Option<Spanned<String>>,
    /// The step the claim is about, 0 to the horizon (default: the horizon).
    #[schemars(with = "Option<i64>", range(min = 0))]
    pub step: Option<Spanned<i64>>,
    /// The step the claim is about, as its date in the tables (e.g. "2027-05").
    #[schemars(with = "Option<String>")]
    pub date: Option<Spanned<String>>,
    /// Passes when the whole 95% interval of the probability is below this.
    #[schemars(with = "Option<f64>", range(min = 0.0, max = 1.0))]
    pub below: Option<Spanned<f64>>,
    /// Passes when the whole 95% interval of the probability is above this.
    #[schemars(with = "Option<f64>", range(min = 0.0, max = 1.0))]
    pub above: Option<Spanned<f64>>,
    /// [low, high]: passes when the whole 95% interval of the probability is inside.
    #[schemars(with = "Option<[f64; 2]>", inner(range(min = 0.0, max = 1.0)))]
    pub between: Option<Spanned<Vec<f64>>>,
    /// Passes when the whole 95% interval of P(this scenario) - P(`than`) is above this.
    #[schemars(with = "Option<f64>", range(min = -1.0, max = 1.0))]
    pub difference_above: Option<Spanned<f64>>,
    /// Passes when the whole 95% interval of P(this scenario) - P(`than`) is below this.
    #[schemars(with = "Option<f64>", range(min = -1.0, max = 1.0))]
    pub difference_below: Option<Spanned<f64>>,
    /// With a difference claim: the id of the scenario compared with, among the files of the same `sim test`.
    #[schemars(with = "Option<String>")]
    pub than: Option<Spanned<String>>,
    /// Why the claim should hold, printed when it does not.
    #[schemars(with = "Option<String>")]
    pub note: Option<Spanned<String>>,
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
