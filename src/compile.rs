//! Compilation: a [`LoadedScenario`] in, a validated, flat [`Model`] out.
//!
//! In: the merged raw scenario with its spans. Out: a [`Model`] (the types are in `model`)
//! whose expressions are type-checked and lowered to expression trees over its flat slots.
//! Every problem found becomes a [`Diagnostic`] with the file, line and column of the offending
//! text; all of them are reported together.
//!
//! [`compile`] reads `[scenario]` and the ladder here and builds the model section by section,
//! in the order that numbers the slots; the compiler's work is cut into submodules: `actors`
//! (actors and their state variables), `params`, `triggers` (triggers and their effects),
//! `outcomes`, `claims` (`[[expect]]`), `types` (the type checker, emitting postfix code), `lower` (postfix code to
//! expression trees), `checks` (names, texts and the model limits) and `time` (step units,
//! start dates, step labels). `lint` warns about likely mistakes in a model that compiles.

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, ScenarioError, Sources};
use crate::eval::Node;
use crate::load::LoadedScenario;
use crate::model::{Model, OutcomeInfo, ScenarioInfo, VariantInfo};
pub use claims::{than_span, unknown_than};
use lower::Op;
use time::{parse_start, step_labels, steps_per_year};

mod actors;
mod checks;
mod claims;
pub mod lint;
mod lower;
mod outcomes;
mod params;
mod time;
mod triggers;
mod types;

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
        let actor_infos = self.compile_actors(raw, &mut initial_slots, &mut slot_names, &mut slot_levels);
        let (params, param_infos) = self.compile_params(
            raw,
            steps_per_year,
            &step_unit,
            &mut initial_slots,
            &mut slot_names,
            &mut slot_levels,
        );
        self.declare_triggers(raw, &mut initial_slots, &mut slot_names, &mut slot_levels);
        let (triggers, trigger_infos, effects) = self.compile_triggers(raw);
        let outcomes = self.compile_outcomes(raw);

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
            variant: raw.variant_of.as_ref().map(|v| VariantInfo {
                base: v.base_id.clone(),
                changes: v.changes.clone(),
            }),
        };
        let claims = self.compile_claims(&raw.expect, &info);
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
            claims,
        })
    }
}
