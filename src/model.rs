//! The compiled model: what `compile` hands the engine, and what a summary says about its scenario.
//!
//! In: nothing; `compile` builds these types from a scenario. Out: a [`Model`], whose state is
//! one flat array of `f64` slots and whose expressions are [`Program`]s over those slots, so the
//! simulation does no parsing, hashing, string lookup or allocation; and the [`ScenarioInfo`]
//! that a summary, a partial result and every report carry to describe the scenario. The
//! scenario's `[[expect]]` claims ride along as [`Claim`]s (`model/claim`) for `sim test`; the
//! engine never reads them.
//!
//! [`ScenarioId`] is the one rule for scenario ids: they name directories in an output
//! directory, so they never leave it nor take a name `sim` writes itself (`compare`).

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::eval::{Node, Program};

mod claim;
pub use claim::{Claim, ClaimKind, Test};

/// `since.X` before X has ever fired: larger than any horizon, so `since.X > n` holds.
pub const NEVER_FIRED_SINCE: f64 = 1_000_000.0;

pub const SLOT_T: u32 = 0;
pub const SLOT_ESCALATION: u32 = 1;

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

/// How an effect writes its slot: `=`, `+=` or `-=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EffectOp {
    Set,
    Add,
    Sub,
}

#[derive(Debug, Clone, Copy)]
pub struct Effect {
    pub slot: u32,
    pub op: EffectOp,
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
    /// The scenario's `[[expect]]` claims, for `sim test`; the engine never reads them.
    pub claims: Vec<Claim>,
}

impl Distribution {
    pub fn support(&self) -> (f64, f64) {
        match *self {
            Distribution::Fixed(v) => (v, v),
            Distribution::Uniform { min, max }
            | Distribution::Triangular { min, max, .. }
            | Distribution::Beta { min, max, .. } => (min, max),
        }
    }

    pub(crate) fn describe(&self) -> String {
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

/// Names `sim` itself writes beside the scenario directories in an output directory.
/// `index.html` and the staging entries `.sim-*` cannot be ids (no dots, no leading dot);
/// `compare` could, and would be replaced by the comparison charts.
pub const RESERVED_SCENARIO_IDS: [&str; 1] = ["compare"];

/// Longest scenario id: ids name directories and files (`<id>.shard-K-of-N.json`).
pub const MAX_SCENARIO_ID_LEN: usize = 64;

/// A scenario id that follows the one rule for scenario ids, used by `compile` (ids from
/// files), `shard` (ids read back from partial results), `input` (summaries read back) and
/// `output::scenario_dir`: `[a-z0-9][a-z0-9_-]*`, at most [`MAX_SCENARIO_ID_LEN`] characters
/// and not a name `sim` writes itself, so `out/<id>` is always a fresh directory inside `out`.
/// It is read and written as a plain string; reading checks the rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ScenarioId(String);

/// Why a text is not a scenario id: what is wrong, and how to write one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdError(String);

impl ScenarioId {
    pub fn parse(id: &str) -> Result<ScenarioId, IdError> {
        let well_formed = id
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !well_formed {
            return Err(IdError(
                "use lowercase letters, digits, `_` and `-` only, starting with a letter or digit".into(),
            ));
        }
        if id.len() > MAX_SCENARIO_ID_LEN {
            return Err(IdError(format!(
                "it has {} characters; at most {MAX_SCENARIO_ID_LEN} are allowed",
                id.len()
            )));
        }
        if RESERVED_SCENARIO_IDS.contains(&id) {
            return Err(IdError(format!(
                "`{id}/` is where `sim` writes the comparison of all scenarios"
            )));
        }
        Ok(ScenarioId(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ScenarioId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// For reading: the message names the id, as a file's reader has no span to point at.
impl TryFrom<String> for ScenarioId {
    type Error = String;

    fn try_from(id: String) -> Result<ScenarioId, String> {
        ScenarioId::parse(&id).map_err(|why| format!("`{id}` is not a valid scenario id: {why}"))
    }
}

impl From<ScenarioId> for String {
    fn from(id: ScenarioId) -> String {
        id.0
    }
}

impl std::fmt::Display for IdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for IdError {}

/// Everything a reader needs about the scenario a summary came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioInfo {
    pub id: String,
    pub name: String,
    pub description: String,
    pub steps: usize,
    pub step_unit: String,
    pub start: Option<String>,
    /// Axis label of every step `0..=steps` ("2025-05", or "month 3" without a start date).
    pub step_labels: Vec<String>,
    /// The ladder, calm to severe.
    pub levels: Vec<String>,
    pub initial_level: usize,
    pub params: Vec<ParamInfo>,
    pub actors: Vec<ActorInfo>,
    pub triggers: Vec<TriggerInfo>,
    pub outcomes: Vec<OutcomeInfo>,
    /// Set for a variant (a scenario that `extends` another): what it changes in its base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<VariantInfo>,
}

/// A variant's base and its changes to it, one readable line each (params, actors, triggers
/// and outcomes patched, added or removed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VariantInfo {
    /// The base's scenario id.
    pub base: String,
    pub changes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamInfo {
    pub name: String,
    /// Human-readable definition, e.g. `pert(0.01, 0.03, 0.08) per step`.
    pub definition: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActorInfo {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TriggerInfo {
    pub id: String,
    pub label: String,
    pub actor: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutcomeInfo {
    pub id: String,
    pub label: String,
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
    fn scenario_ids_never_name_what_sim_writes() {
        for good in ["baseline", "2025_q1", "a-b", &"x".repeat(MAX_SCENARIO_ID_LEN)] {
            assert_eq!(ScenarioId::parse(good).map(|id| id.to_string()), Ok(good.to_string()));
        }
        for bad in [
            "",
            "compare",
            "index.html",
            ".sim-tmp-1",
            "-x",
            "_x",
            "A",
            "a/b",
            "..",
            &"x".repeat(MAX_SCENARIO_ID_LEN + 1),
        ] {
            assert!(ScenarioId::parse(bad).is_err(), "{bad}");
        }
    }

    /// Read back, an id is checked by the same rule: a damaged file cannot name a directory
    /// outside the output directory.
    #[test]
    fn scenario_ids_are_checked_when_read() {
        let id: ScenarioId = serde_json::from_str("\"baseline\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"baseline\"");
        for bad in ["\"../elsewhere\"", "\"compare\"", "\"\""] {
            let error = serde_json::from_str::<ScenarioId>(bad).unwrap_err().to_string();
            let why = ScenarioId::parse(&serde_json::from_str::<String>(bad).unwrap()).unwrap_err();
            assert!(
                error.contains(&format!("is not a valid scenario id: {why}")),
                "{bad}: {error}"
            );
        }
    }
}
