//! Claims: the raw `[[expect]]` tables in, checked [`Claim`]s out.
//!
//! Each claim must name exactly one outcome, rung or trigger the scenario has, at most one of
//! `step` and `date` (a step of the horizon), and exactly one test whose numbers can be met
//! (`below = 1.3` or `between = [0.3, 0.2]` are errors, not claims that always fail). The
//! scenario a difference claim names with `than` is checked by `sim test`, which alone knows
//! the other files ([`unknown_than`]).

use std::ops::Range;

use toml::Spanned;

use super::Compiler;
use crate::diagnostic::Diagnostic;
use crate::load::{LoadedScenario, RawExpect};
use crate::model::{Claim, ClaimKind, ScenarioInfo, Test};

impl Compiler<'_> {
    /// `[[expect]]`: every claim, its names resolved against `info`.
    pub(super) fn compile_claims(&mut self, expect: &[Spanned<RawExpect>], info: &ScenarioInfo) -> Vec<Claim> {
        let mut claims = Vec::new();
        for entry in expect {
            let (claim, errors) = claim(entry.get_ref(), entry.span(), info);
            self.errors.extend(errors);
            claims.extend(claim);
        }
        claims
    }
}

/// One claim, or why it is not one.
fn claim(e: &RawExpect, whole: Range<usize>, info: &ScenarioInfo) -> (Option<Claim>, Vec<Diagnostic>) {
    let mut errors = Vec::new();
    let subjects: Vec<(ClaimKind, &Spanned<String>)> = [
        (ClaimKind::Outcome, &e.outcome),
        (ClaimKind::Rung, &e.rung),
        (ClaimKind::Trigger, &e.trigger),
    ]
    .into_iter()
    .filter_map(|(kind, name)| name.as_ref().map(|n| (kind, n)))
    .collect();
    let subject = match subjects.as_slice() {
        [(kind, name)] => subject(*kind, name, info, &mut errors).map(|id| (*kind, id)),
        [] => {
            errors.push(
                Diagnostic::new("a claim names no `outcome`, `rung` or `trigger`", whole.clone())
                    .label("claim")
                    .help("add what the claim is about, e.g. `outcome = \"regional_war\"`"),
            );
            None
        }
        [_, (kind, name), ..] => {
            errors.push(
                Diagnostic::new(
                    "a claim names more than one of `outcome`, `rung` and `trigger`",
                    name.span(),
                )
                .label(format!("second subject: {kind}"))
                .help("write one `[[expect]]` table per claim"),
            );
            None
        }
    };
    let step = step(e, info, &mut errors);
    let test = test(e, whole, info, &mut errors);
    if let Some(note) = &e.note
        && note.get_ref().chars().count() > super::MAX_PARAGRAPH_CHARS
    {
        errors.push(Diagnostic::new(
            format!(
                "a claim's `note` is longer than {} characters",
                super::MAX_PARAGRAPH_CHARS
            ),
            note.span(),
        ));
    }
    let claim = match (subject, step, test) {
        (Some((kind, id)), Some(step), Some(test)) if errors.is_empty() => Some(Claim {
            kind,
            id,
            step,
            test,
            note: e.note.as_ref().map(|n| n.get_ref().trim().to_string()),
        }),
        _ => None,
    };
    (claim, errors)
}

/// The id of the outcome, rung or trigger a claim names, if the scenario has it.
fn subject(
    kind: ClaimKind,
    name: &Spanned<String>,
    info: &ScenarioInfo,
    errors: &mut Vec<Diagnostic>,
) -> Option<String> {
    let wanted = name.get_ref();
    let known: Vec<&str> = match kind {
        ClaimKind::Outcome => info.outcomes.iter().map(|o| o.id.as_str()).collect(),
        ClaimKind::Trigger => info.triggers.iter().map(|t| t.id.as_str()).collect(),
        ClaimKind::Rung => info.levels.iter().map(String::as_str).collect(),
    };
    match known.iter().position(|k| k == wanted) {
        Some(k) if kind == ClaimKind::Rung && k <= info.initial_level => {
            errors.push(
                Diagnostic::new(
                    format!(
                        "every run reaches rung `{wanted}`: it is at or below the initial level `{}`",
                        info.levels[info.initial_level]
                    ),
                    name.span(),
                )
                .label("reached at step 0")
                .help(match info.levels.get(info.initial_level + 1) {
                    Some(next) => format!("a rung claim is about a level above the initial one, such as `{next}`"),
                    None => "the initial level is the top of the ladder: no rung claim can say anything".to_string(),
                }),
            );
            None
        }
        Some(_) => Some(wanted.clone()),
        None => {
            let what = match kind {
                ClaimKind::Outcome => "outcome",
                ClaimKind::Trigger => "trigger",
                ClaimKind::Rung => "level of the ladder",
            };
            errors.push(
                Diagnostic::new(format!("the scenario has no {what} `{wanted}`"), name.span())
                    .label(format!("unknown {kind}"))
                    .suggest(wanted, known.iter().copied()),
            );
            None
        }
    }
}

/// The step a claim is about: `step`, the step labelled `date`, else the horizon.
fn step(e: &RawExpect, info: &ScenarioInfo, errors: &mut Vec<Diagnostic>) -> Option<usize> {
    match (&e.step, &e.date) {
        (Some(_), Some(date)) => {
            errors.push(
                Diagnostic::new("a claim gives both `step` and `date`", date.span())
                    .label("second step")
                    .help("keep one of them"),
            );
            None
        }
        (Some(step), None) => match usize::try_from(*step.get_ref()) {
            Ok(s) if s <= info.steps => Some(s),
            _ => {
                errors.push(
                    Diagnostic::new(
                        format!(
                            "`step` must be between 0 and the horizon, {}, found {}",
                            info.steps,
                            step.get_ref()
                        ),
                        step.span(),
                    )
                    .label("out of range"),
                );
                None
            }
        },
        (None, Some(date)) => match info.step_labels.iter().position(|l| l == date.get_ref()) {
            Some(s) => Some(s),
            None => {
                let labels: Vec<&str> = info.step_labels.iter().map(String::as_str).collect();
                let range = format!(
                    "`{}` to `{}`",
                    labels.first().copied().unwrap_or_default(),
                    labels.last().copied().unwrap_or_default()
                );
                let d = Diagnostic::new(
                    format!(
                        "`{}` is not the date of a step of this scenario ({range})",
                        date.get_ref()
                    ),
                    date.span(),
                )
                .label("no such step");
                errors.push(match crate::diagnostic::closest(date.get_ref(), &labels) {
                    Some(best) => d.help(format!(
                        "did you mean `{best}`? `date` is a step's date as the tables print it"
                    )),
                    None => d.help(format!("`date` is a step's date as the tables print it, from {range}")),
                });
                None
            }
        },
        (None, None) => Some(info.steps),
    }
}

/// The claim's test, its numbers checked.
fn test(e: &RawExpect, whole: Range<usize>, info: &ScenarioInfo, errors: &mut Vec<Diagnostic>) -> Option<Test> {
    let mut tests: Vec<(&str, Range<usize>)> = Vec::new();
    let probability = |name: &str, x: &Spanned<f64>, never: f64, errors: &mut Vec<Diagnostic>| -> Option<f64> {
        let v = *x.get_ref();
        if !(0.0..=1.0).contains(&v) {
            errors.push(
                Diagnostic::new(
                    format!("`{name}` is a probability between 0 and 1, found {v}"),
                    x.span(),
                )
                .label("not a probability")
                .help("write a fraction, e.g. `0.05` for 5%"),
            );
            None
        } else if v == never {
            errors.push(
                Diagnostic::new(
                    format!("`{name} = {v}` can never pass: no probability is {name} {v}"),
                    x.span(),
                )
                .label("never passes"),
            );
            None
        } else {
            Some(v)
        }
    };
    let difference = |name: &str, x: &Spanned<f64>, never: f64, errors: &mut Vec<Diagnostic>| -> Option<f64> {
        let v = *x.get_ref();
        if !(-1.0..=1.0).contains(&v) || v == never {
            errors.push(
                Diagnostic::new(
                    format!("`{name}` is a difference of probabilities, strictly between -1 and 1, found {v}"),
                    x.span(),
                )
                .label("out of range")
                .help("write a fraction, e.g. `0.2` for 20 points"),
            );
            None
        } else {
            Some(v)
        }
    };
    let mut test = None;
    if let Some(x) = &e.below {
        tests.push(("below", x.span()));
        test = probability("below", x, 0.0, errors).map(Test::Below);
    }
    if let Some(x) = &e.above {
        tests.push(("above", x.span()));
        test = probability("above", x, 1.0, errors).map(Test::Above);
    }
    if let Some(x) = &e.between {
        tests.push(("between", x.span()));
        test = match x.get_ref().as_slice() {
            &[a, b] if (0.0..=1.0).contains(&a) && (0.0..=1.0).contains(&b) && a < b => Some(Test::Between(a, b)),
            found => {
                errors.push(
                    Diagnostic::new(
                        format!(
                            "`between` is [low, high] with 0 <= low < high <= 1, found [{}]",
                            found.iter().map(f64::to_string).collect::<Vec<_>>().join(", ")
                        ),
                        x.span(),
                    )
                    .label("not an interval of probabilities")
                    .help("for example `between = [0.1, 0.3]`"),
                );
                None
            }
        };
    }
    let mut than_needed = false;
    for (name, value, make) in [
        ("difference_above", &e.difference_above, true),
        ("difference_below", &e.difference_below, false),
    ] {
        let Some(x) = value else { continue };
        tests.push((name, x.span()));
        than_needed = true;
        let by = difference(name, x, if make { 1.0 } else { -1.0 }, errors);
        test = match (&e.than, by) {
            (Some(than), Some(by)) if than.get_ref() != &info.id => {
                let than = than.get_ref().clone();
                Some(if make {
                    Test::DifferenceAbove { than, by }
                } else {
                    Test::DifferenceBelow { than, by }
                })
            }
            (Some(than), _) if than.get_ref() == &info.id => {
                errors.push(
                    Diagnostic::new(format!("`than` names this scenario, `{}`", info.id), than.span())
                        .label("compared with itself")
                        .help("a difference claim compares this scenario with another one, such as its base"),
                );
                None
            }
            (None, _) => {
                errors.push(
                    Diagnostic::new(format!("`{name}` needs `than`, the scenario to compare with"), x.span())
                        .label("compared with what?")
                        .help(match &info.variant {
                            Some(v) => format!("add `than = \"{}\"` (this variant's base)", v.base),
                            None => "add `than = \"<scenario id>\"`, a scenario of the same `sim test`".to_string(),
                        }),
                );
                None
            }
            _ => None,
        };
    }
    if let Some(than) = &e.than
        && !than_needed
    {
        errors.push(
            Diagnostic::new(
                "`than` is only for `difference_above` and `difference_below`",
                than.span(),
            )
            .label("nothing to compare")
            .help("remove `than`, or make the claim a difference"),
        );
    }
    match tests.as_slice() {
        [] => {
            errors.push(
                Diagnostic::new("a claim has no test", whole)
                    .label("claim")
                    .help("add one of `below`, `above`, `between`, `difference_above` or `difference_below`"),
            );
            None
        }
        [_] => test,
        [_, (name, span), ..] => {
            errors.push(
                Diagnostic::new("a claim has more than one test", span.clone())
                    .label(format!("second test: `{name}`"))
                    .help("write one `[[expect]]` table per test"),
            );
            None
        }
    }
}

/// The claims of `loaded` whose `than` names none of `known` (the scenario ids of one
/// `sim test`), as diagnostics that point at `than`.
pub fn unknown_than(loaded: &LoadedScenario, known: &[&str]) -> Vec<Diagnostic> {
    loaded
        .raw
        .expect
        .iter()
        .filter_map(|e| e.get_ref().than.as_ref())
        .filter(|than| !known.contains(&than.get_ref().as_str()))
        .map(|than| {
            Diagnostic::new(
                format!(
                    "`than` names `{}`, which is not among the scenarios of this `sim test`",
                    than.get_ref()
                ),
                than.span(),
            )
            .label("unknown scenario")
            .suggest(than.get_ref(), known.iter().copied())
        })
        .map(|d| match d.help {
            Some(_) => d,
            None => d.help("give its file to the same `sim test`, e.g. `sim test scenarios/*.toml`"),
        })
        .collect()
}

/// Where the `than` of the `k`-th claim of `loaded` is written (claims compile one for one, so
/// `k` is also the index in `Model::claims`), for problems only `sim test` can see.
pub fn than_span(loaded: &LoadedScenario, k: usize) -> Option<Range<usize>> {
    Some(loaded.raw.expect.get(k)?.get_ref().than.as_ref()?.span())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::model::{ClaimKind, Test};

    #[test]
    fn the_baselines_claims_compile_with_their_steps() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
        let model = crate::compile::compile(&crate::load::load(&path).unwrap()).unwrap();
        let war: Vec<(usize, &Test)> = model
            .claims
            .iter()
            .filter(|c| c.kind == ClaimKind::Outcome && c.id == "regional_war")
            .map(|c| (c.step, &c.test))
            .collect();
        // `date = "2026-05"` is step 12 of a monthly scenario from 2025-05; no step: the horizon.
        assert_eq!(
            war,
            [
                (36, &Test::Below(0.05)),
                (12, &Test::Below(0.01)),
                (36, &Test::Above(0.0))
            ]
        );
        let note = model.claims[0].note.as_deref().unwrap_or_default();
        assert!(note.starts_with("a regional war within 36 months stays rare"), "{note}");
    }
}
