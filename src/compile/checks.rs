//! Checks of names, texts and the model limits: raw keys, strings and counts in, diagnostics
//! out.

use std::collections::HashMap;
use std::ops::Range;

use toml::Spanned;

use super::{
    Compiler, MAX_ACTORS, MAX_LEVELS, MAX_NAME_CHARS, MAX_OUTCOMES, MAX_PARAMS, MAX_STEPS, MAX_TABLE_CELLS,
    MAX_TRIGGERS, MAX_VARIABLES,
};
use crate::diagnostic::Diagnostic;
use crate::model::{ParamModel, ScenarioId, TriggerModel};

impl Compiler<'_> {
    /// Refuses a model larger than the limits, at the first entry past each limit.
    pub(super) fn check_counts(&mut self, raw: &crate::load::RawScenario) {
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

    pub(super) fn required(
        &mut self,
        value: &Option<Spanned<String>>,
        key: &str,
        owner: &str,
        span: &Range<usize>,
    ) -> String {
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

    pub(super) fn checked_scenario_id(&mut self, id: &str, span: Range<usize>, fix: &str) -> String {
        if let Err(why) = ScenarioId::parse(id) {
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
    pub(super) fn check_text(&mut self, text: &str, span: Range<usize>, what: &str, max_chars: usize, paragraph: bool) {
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

    pub(super) fn check_identifier(&mut self, name: &Spanned<String>, kind: &str) {
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

    pub(super) fn level_list(&mut self, levels: &[Spanned<String>], span: Range<usize>, what: &str) -> Vec<String> {
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

    pub(super) fn level_index(&mut self, levels: &[String], level: &Spanned<String>, what: &str) -> Option<usize> {
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

    /// Two random-number keys that hash to one region would share draws: refuse them.
    pub(super) fn check_regions(&mut self, params: &[ParamModel], triggers: &[TriggerModel]) {
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

/// Characters that reorder the text displayed around them ("Trojan Source"): refused in
/// texts like control characters.
pub(super) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

pub(super) const RESERVED: [&str; 12] = [
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
