//! `sim trace VARIANT --diff BASE --run I`: run `I` of two scenarios that `sim run` pairs, side
//! by side from the first step where they differ.
//!
//! In: two compiled models, the seed, the study's run count and the run. Out: the text printed,
//! or a refusal when the two cannot be paired (the rule of `job::Study::unpairable`) or the run
//! is not one of the study's. Both runs are replayed with the run-by-run engine (exactly runs
//! `I` of `sim run`); draws are addressed, so where the models agree the runs agree, and the
//! first step where they differ is where the variant made its difference.

use super::{Failure, exit};
use crate::format::thousands;
use crate::job::{Job, Study};
use crate::model::Model;
use crate::simulate::{Observer, replay};
use crate::tally::{Shape, Tallies};

/// Widest a column of values is printed; longer values are cut with `…`.
const COLUMN: usize = 44;

/// One run as the trace compares it: per step, what fired and the state after it.
struct Recorded<'m> {
    model: &'m Model,
    /// Per step: (trigger, step its effects land if not this one, or `None` past the horizon).
    fired: Vec<Vec<(usize, Option<usize>)>>,
    /// Per step: every slot after the step.
    states: Vec<Vec<f64>>,
    tallies: Tallies,
}

impl Observer for Recorded<'_> {
    fn fired(&mut self, t: usize, trigger: usize, landing: Option<usize>) {
        self.fired[t].push((trigger, landing));
    }

    fn step_done(&mut self, _t: usize, slots: &[f64]) {
        self.states.push(slots.to_vec());
    }
}

impl<'m> Recorded<'m> {
    fn replay(model: &'m Model, seed: u64, run: u64) -> Result<Self, Failure> {
        let mut recorded = Recorded {
            model,
            fired: vec![Vec::new(); model.steps + 1],
            states: Vec::with_capacity(model.steps + 1),
            tallies: Tallies::zero(Shape::of(model)),
        };
        let mut tallies = Tallies::zero(Shape::of(model));
        replay(model, seed, run, &mut recorded, &mut tallies).map_err(|e| Failure {
            message: format!("error: {e}"),
            code: exit::SIMULATION,
        })?;
        recorded.tallies = tallies;
        Ok(recorded)
    }

    fn level(&self, t: usize) -> usize {
        let levels = self.model.levels;
        (0..levels)
            .find(|&k| self.tallies.level_at[t * levels + k] > 0)
            .unwrap_or(0)
    }

    fn slot(&self, name: &str) -> Option<usize> {
        self.model.slot_names.iter().position(|n| n == name)
    }

    fn value(&self, slot: usize, t: usize) -> String {
        let v = self.states[t][slot];
        match self.model.slot_levels[slot].get(v as usize) {
            Some(level) => level.clone(),
            None => v.to_string(),
        }
    }

    fn outcome(&self, id: &str) -> Option<usize> {
        self.model.outcomes.iter().position(|o| o.id == id)
    }

    fn holds(&self, outcome: usize, t: usize) -> bool {
        self.tallies.outcome_holds[t * self.model.outcomes.len() + outcome] > 0
    }

    /// The first step outcome `outcome` held, if it did.
    fn first_held(&self, outcome: usize) -> Option<usize> {
        (0..=self.model.steps).find(|&t| self.holds(outcome, t))
    }

    /// What fired at step `t`, by id, with where the effects land: what two runs are compared on.
    fn firings(&self, t: usize) -> Vec<(&str, Option<usize>)> {
        self.fired[t]
            .iter()
            .map(|&(i, landing)| (self.model.triggers[i].id.as_str(), landing))
            .collect()
    }
}

/// What differs between the two runs at one step: (name, variant's value, base's value) of
/// every state slot and outcome both have. `since.`, `count.` and `fired.` slots are left out:
/// they follow from the firings, which are compared on their own.
fn differences(v: &Recorded, b: &Recorded, t: usize) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (slot, name) in v.model.slot_names.iter().enumerate() {
        let derived = ["since.", "count.", "fired."].iter().any(|p| name.starts_with(p));
        if derived || name == "t" {
            continue;
        }
        if let Some(other) = b.slot(name)
            && v.states[t][slot] != b.states[t][other]
        {
            out.push((name.clone(), v.value(slot, t), b.value(other, t)));
        }
    }
    for (o, outcome) in v.model.outcomes.iter().enumerate() {
        if let Some(other) = b.outcome(&outcome.id)
            && v.holds(o, t) != b.holds(other, t)
        {
            out.push((
                format!("outcome {}", outcome.id),
                holds_text(v.holds(o, t)),
                holds_text(b.holds(other, t)),
            ));
        }
    }
    out
}

/// What run `r` has at step `t` under a name of [`differences`].
fn shown(r: &Recorded, name: &str, t: usize) -> String {
    match name.strip_prefix("outcome ") {
        Some(id) => r.outcome(id).map_or(String::new(), |o| holds_text(r.holds(o, t))),
        None => r.slot(name).map_or(String::new(), |slot| r.value(slot, t)),
    }
}

fn holds_text(holds: bool) -> String {
    if holds { "holds" } else { "does not hold" }.to_string()
}

/// A firing as `id`, with where its effects land when delayed.
fn firing_text(id: &str, landing: Option<usize>, t: usize, labels: &[String]) -> String {
    match landing {
        Some(l) if l != t => format!("{id} (lands {})", labels[l]),
        Some(_) => id.to_string(),
        None => format!("{id} (lands after the horizon)"),
    }
}

/// Cuts `text` to `width` characters, with `…` when cut.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// A row of (label, variant's text, base's text), or of a label and one text (`None`), which
/// is not cut.
type Row = (String, String, Option<String>);

/// Rows as aligned columns.
fn columns(rows: &[Row]) -> String {
    let label = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0).min(64);
    let left = rows
        .iter()
        .filter(|r| r.2.is_some())
        .map(|r| r.1.chars().count())
        .max()
        .unwrap_or(0)
        .min(COLUMN);
    let mut out = String::new();
    for (a, b, c) in rows {
        let line = match c {
            Some(c) => format!("{:label$}  {:left$} | {}", cut(a, label), cut(b, left), cut(c, COLUMN)),
            None => format!("{:label$}  {b}", cut(a, label)),
        };
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Steps `from..=to` as `steps 3-7 (2025-08 to 2025-12)`, or `step 3 (2025-08)`.
fn span(labels: &[String], from: usize, to: usize) -> String {
    if from == to {
        format!("step {from} ({})", labels[from])
    } else {
        format!("steps {from}-{to} ({} to {})", labels[from], labels[to])
    }
}

/// Run `run` of `variant` and of `base` with `seed`, side by side from the first step where
/// they differ; `runs` is the study's run count, which `run` must be below.
pub(super) fn trace_diff(
    (variant, base): (&Model, &Model),
    seed: Option<u64>,
    runs: Option<u64>,
    run: u64,
) -> Result<String, Failure> {
    let study = Study {
        jobs: vec![Job::new(base, seed, runs), Job::new(variant, seed, runs)],
        baseline: 0,
    };
    if let Some(why) = study.unpairable() {
        let help = if why.ends_with("seed") {
            "give both the same seed with --seed S"
        } else if why.ends_with("run count") {
            "give both the same run count with --runs N"
        } else {
            "--diff takes a scenario with the same horizon (steps) and ladder as FILE, as `sim run` pairs them"
        };
        return Err(Failure {
            message: format!(
                "error: `{}` cannot be traced against `{}`: {why}, so `sim run` does not pair them\n  = help: {help}",
                variant.info.id, base.info.id
            ),
            code: exit::INCOMPARABLE,
        });
    }
    let (seed, runs) = (study.jobs[0].seed, study.jobs[0].runs);
    if run >= runs {
        return Err(Failure {
            message: format!(
                "error: --run {run} is out of range: the study has {} runs (0 to {})\n  = help: give a run below {runs}, or the study's run count with --runs N",
                thousands(runs),
                runs.saturating_sub(1)
            ),
            code: exit::USAGE,
        });
    }
    let (v, b) = (
        Recorded::replay(variant, seed, run)?,
        Recorded::replay(base, seed, run)?,
    );
    let labels = &variant.info.step_labels;
    let steps = variant.steps;
    let same = |t: usize| v.firings(t) == b.firings(t) && differences(&v, &b, t).is_empty();
    let first = (0..=steps).find(|&t| !same(t));
    let (vid, bid) = (&variant.info.id, &base.info.id);
    let mut out = format!(
        "run {run}, seed {seed}: `{vid}` ({}) against `{bid}` ({})\n",
        variant.info.name, base.info.name
    );
    let mut rows: Vec<Row> = Vec::new();
    match first {
        None => out.push_str(&format!(
            "the runs are identical: the same firings and state at every step, {}\n",
            span(labels, 0, steps)
        )),
        Some(first) => {
            if first > 0 {
                out.push_str(&format!("{} identical\n", span(labels, 0, first - 1)));
            }
            out.push_str(&format!("from step {first} on, where they differ:\n\n"));
            rows.push((String::new(), vid.clone(), Some(bid.clone())));
            let mut t = first;
            while t <= steps {
                // A step where nothing fires and the same things differ as at the step before is
                // told with the others like it in one line.
                let quiet = |t: usize| v.fired[t].is_empty() && b.fired[t].is_empty();
                let unchanged =
                    |t: usize| t > first && quiet(t) && differences(&v, &b, t) == differences(&v, &b, t - 1);
                let diff = differences(&v, &b, t);
                if unchanged(t) {
                    let mut end = t;
                    while end < steps && unchanged(end + 1) {
                        end += 1;
                    }
                    let what = if diff.is_empty() {
                        "nothing fires in either; the same state in both"
                    } else {
                        "nothing fires in either; what differs stays as it is"
                    };
                    rows.push((span(labels, t, end), what.into(), None));
                    t = end + 1;
                    continue;
                }
                let (lv, lb) = (v.level(t), b.level(t));
                rows.push((
                    format!("{} (step {t})", labels[t]),
                    format!("rung {lv} `{}`", variant.info.levels[lv]),
                    Some(format!("rung {lb} `{}`", base.info.levels[lb])),
                ));
                // Firings both runs share on one row, first; then each run's own.
                let (fv, fb) = (v.firings(t), b.firings(t));
                let shared: Vec<&(&str, Option<usize>)> = fv.iter().filter(|f| fb.contains(f)).collect();
                let own = |list: &[(&str, Option<usize>)]| -> Vec<String> {
                    list.iter()
                        .filter(|f| !shared.contains(f))
                        .map(|&(id, landing)| firing_text(id, landing, t, labels))
                        .collect()
                };
                let (ov, ob) = (own(&fv), own(&fb));
                let mut fired: Vec<(String, String)> = shared
                    .iter()
                    .map(|&&(id, landing)| {
                        let text = firing_text(id, landing, t, labels);
                        (text.clone(), text)
                    })
                    .collect();
                for k in 0..ov.len().max(ob.len()) {
                    let side = |list: &[String]| list.get(k).cloned().unwrap_or_default();
                    fired.push((side(&ov), side(&ob)));
                }
                for (k, (a, c)) in fired.into_iter().enumerate() {
                    rows.push((if k == 0 { "  fired" } else { "" }.into(), a, Some(c)));
                }
                // What differs is shown where it starts, changes or ends.
                let before = if t > first {
                    differences(&v, &b, t - 1)
                } else {
                    Vec::new()
                };
                for entry in &diff {
                    if !before.contains(entry) {
                        rows.push((format!("  {}", entry.0), entry.1.clone(), Some(entry.2.clone())));
                    }
                }
                for (name, _, _) in &before {
                    if !diff.iter().any(|d| &d.0 == name) {
                        let again = format!("{} (the same again)", shown(&v, name, t));
                        rows.push((format!("  {name}"), again.clone(), Some(again)));
                    }
                }
                t += 1;
            }
            out.push_str(&columns(&rows));
        }
    }
    out.push_str(&outcomes(&v, &b));
    Ok(out)
}

/// For each outcome of either scenario: whether and from when it held in each run, and the
/// rungs each run ended at.
fn outcomes(v: &Recorded, b: &Recorded) -> String {
    let labels = &v.model.info.step_labels;
    let when = |r: &Recorded, id: &str| match r.outcome(id) {
        None => "(not in this scenario)".to_string(),
        Some(o) => match r.first_held(o) {
            Some(t) => format!("held from {} (step {t})", labels[t]),
            None => "never held".to_string(),
        },
    };
    let mut ids: Vec<(&str, &str)> = v
        .model
        .outcomes
        .iter()
        .map(|o| (o.id.as_str(), o.label.as_str()))
        .collect();
    for o in &b.model.outcomes {
        if v.outcome(&o.id).is_none() {
            ids.push((&o.id, &o.label));
        }
    }
    let mut rows = vec![(String::new(), v.model.info.id.clone(), Some(b.model.info.id.clone()))];
    for (id, label) in ids {
        rows.push((format!("{label} [{id}]"), when(v, id), Some(when(b, id))));
    }
    let steps = v.model.steps;
    let end = |r: &Recorded| {
        let level = r.level(steps);
        format!("rung {level} `{}`", r.model.info.levels[level])
    };
    rows.push((format!("escalation at {}", labels[steps]), end(v), Some(end(b))));
    format!("\noutcomes by {}:\n{}", labels[steps], columns(&rows))
}
