//! Params: the raw `[params]` in; each param's slot, [`Distribution`] (per step) and readable
//! definition out.

use std::ops::Range;

use toml::Spanned;

use super::Compiler;
use super::checks::RESERVED;
use crate::diagnostic::Diagnostic;
use crate::load::{RawParam, RawScenario};
use crate::model::{Distribution, ParamInfo, ParamModel, per_step};
use crate::rng;

impl Compiler<'_> {
    /// `[params]`: each param's distribution, its slot appended to the slot tables.
    pub(super) fn compile_params(
        &mut self,
        raw: &RawScenario,
        steps_per_year: Option<f64>,
        step_unit: &str,
        initial_slots: &mut Vec<f64>,
        slot_names: &mut Vec<String>,
        slot_levels: &mut Vec<Vec<String>>,
    ) -> (Vec<ParamModel>, Vec<ParamInfo>) {
        let mut params = Vec::new();
        let mut param_infos = Vec::new();
        for (name, param) in &raw.params {
            self.check_identifier(name, "param");
            if RESERVED.contains(&name.get_ref().as_str()) || self.actors.iter().any(|(a, _, _)| a == name.get_ref()) {
                self.error(
                    Diagnostic::new(
                        format!(
                            "the param name `{}` is already taken by an actor or a reserved word",
                            name.get_ref()
                        ),
                        name.span(),
                    )
                    .help("rename the param, e.g. with a `p_` prefix"),
                );
            }
            let slot = initial_slots.len() as u32;
            let Some((distribution, annual, definition)) = self.param(param, steps_per_year, step_unit) else {
                continue;
            };
            if let Distribution::Fixed(value) = distribution {
                initial_slots.push(value);
            } else {
                initial_slots.push(f64::NAN);
            }
            slot_names.push(name.get_ref().clone());
            slot_levels.push(Vec::new());
            self.params.insert(name.get_ref().clone(), slot);
            param_infos.push(ParamInfo {
                name: name.get_ref().clone(),
                definition,
            });
            params.push(ParamModel {
                name: name.get_ref().clone(),
                slot,
                distribution,
                annual,
                region: rng::region(&format!("param:{}", name.get_ref())),
            });
        }
        (params, param_infos)
    }

    pub(super) fn param(
        &mut self,
        param: &Spanned<RawParam>,
        steps_per_year: Option<f64>,
        step_unit: &str,
    ) -> Option<(Distribution, Option<f64>, String)> {
        let p = param.get_ref();
        let span = param.span();
        let forms: Vec<(&str, Range<usize>)> = [
            ("value", p.value.as_ref().map(|v| v.span())),
            ("annual", p.annual.as_ref().map(|v| v.span())),
            ("uniform", p.uniform.as_ref().map(|v| v.span())),
            ("triangular", p.triangular.as_ref().map(|v| v.span())),
            ("pert", p.pert.as_ref().map(|v| v.span())),
            ("beta", p.beta.as_ref().map(|v| v.span())),
        ]
        .into_iter()
        .filter_map(|(name, s)| Some((name, s?)))
        .collect();
        if forms.len() != 1 {
            let message = if forms.is_empty() {
                "this param gives no value or distribution".to_string()
            } else {
                format!(
                    "this param gives {} forms ({}); give exactly one",
                    forms.len(),
                    forms
                        .iter()
                        .map(|(n, _)| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            self.error(
                Diagnostic::new(message, span)
                    .help("use one of `value`, `annual`, `uniform`, `triangular`, `pert`, `beta`"),
            );
            return None;
        }
        let mut annual = match p.basis.as_ref().map(|b| (b.get_ref().as_str(), b.span())) {
            None | Some(("step", _)) => false,
            Some(("annual", _)) => true,
            Some((other, s)) => {
                self.error(Diagnostic::new(format!("unknown basis `{other}`"), s).suggest(other, ["step", "annual"]));
                return None;
            }
        };
        let (form, form_span) = forms[0].clone();
        // A bare `x = 0.3` has no span of its own.
        let form_span = if form_span.is_empty() { span.clone() } else { form_span };
        let numbers = |v: &Option<Spanned<Vec<f64>>>| v.as_ref().map(|v| v.get_ref().clone()).unwrap_or_default();
        // NaN fails every ordering test below and an infinite bound or width makes every draw
        // infinite or NaN, so every number is checked first, and then the widths the draws use.
        let given: Vec<f64> = match form {
            "value" => p.value.iter().map(|v| *v.get_ref()).collect(),
            "annual" => p.annual.iter().map(|v| *v.get_ref()).collect(),
            "uniform" => numbers(&p.uniform),
            "triangular" => numbers(&p.triangular),
            "pert" => numbers(&p.pert),
            _ => numbers(&p.beta),
        };
        if let Some(bad) = given.iter().find(|x| !x.is_finite()) {
            self.error(
                Diagnostic::new(
                    format!("`{form}` is given `{bad}`, which is not a finite number"),
                    form_span,
                )
                .label("not finite")
                .help("write an ordinary number such as 0.05 (`nan` and `inf` are not allowed)"),
            );
            return None;
        }
        let width_overflows = match given[..] {
            [min, max] if form == "uniform" => !(max - min).is_finite(),
            [min, mode, max] => ![max - min, mode - min, max - mode].iter().all(|w| w.is_finite()),
            _ => false,
        };
        if width_overflows {
            return self.bad_param(
                form_span,
                "the distance between these bounds is too large to represent (it overflows to infinity)",
            );
        }
        let distribution = match form {
            "value" => Distribution::Fixed(*p.value.as_ref()?.get_ref()),
            "annual" => {
                if p.basis.is_some() {
                    self.error(Diagnostic::new(
                        "`annual` already states the basis; drop `basis`",
                        span.clone(),
                    ));
                }
                annual = true;
                Distribution::Fixed(*p.annual.as_ref()?.get_ref())
            }
            "uniform" => match numbers(&p.uniform)[..] {
                [min, max] if min <= max => Distribution::Uniform { min, max },
                _ => return self.bad_param(form_span, "`uniform` takes [min, max] with min <= max"),
            },
            "triangular" => match numbers(&p.triangular)[..] {
                [min, mode, max] if min <= mode && mode <= max && min < max => {
                    Distribution::Triangular { min, mode, max }
                }
                _ => {
                    return self.bad_param(
                        form_span,
                        "`triangular` takes [min, mode, max] with min <= mode <= max and min < max",
                    );
                }
            },
            "pert" => match numbers(&p.pert)[..] {
                [min, mode, max] if min <= mode && mode <= max && min < max => Distribution::Beta {
                    alpha: 1.0 + 4.0 * (mode - min) / (max - min),
                    beta: 1.0 + 4.0 * (max - mode) / (max - min),
                    min,
                    max,
                },
                _ => {
                    return self.bad_param(
                        form_span,
                        "`pert` takes [min, mode, max] with min <= mode <= max and min < max",
                    );
                }
            },
            _ => match numbers(&p.beta)[..] {
                [alpha, beta] if alpha > 0.0 && beta > 0.0 => Distribution::Beta {
                    alpha,
                    beta,
                    min: 0.0,
                    max: 1.0,
                },
                _ => return self.bad_param(form_span, "`beta` takes [alpha, beta], both > 0"),
            },
        };
        let (lo, hi) = distribution.support();
        if !(lo.is_finite() && hi.is_finite()) {
            return self.bad_param(form_span, "param values must be finite numbers");
        }
        let per_year = if annual {
            if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) {
                return self.bad_param(
                    form_span,
                    &format!("an annual probability must lie in [0, 1]; this one reaches [{lo}, {hi}]"),
                );
            }
            match steps_per_year {
                Some(n) => Some(n),
                None => {
                    self.error(
                        Diagnostic::new(
                            format!(
                                "cannot convert an annual probability: step_unit `{step_unit}` has no fixed length"
                            ),
                            span,
                        )
                        .help("use step_unit day, week, month, quarter or year, or give the probability per step"),
                    );
                    return None;
                }
            }
        } else {
            None
        };
        let mut definition = distribution.describe();
        if annual {
            definition.push_str(" per year");
        }
        // A fixed annual probability is converted once, here.
        let distribution = match (distribution, per_year) {
            (Distribution::Fixed(p), Some(n)) => {
                definition.push_str(&format!(" (= {:.6} per {step_unit})", per_step(p, n)));
                return Some((Distribution::Fixed(per_step(p, n)), None, definition));
            }
            (d, _) => d,
        };
        Some((distribution, per_year, definition))
    }

    pub(super) fn bad_param<T>(&mut self, span: Range<usize>, message: &str) -> Option<T> {
        self.error(Diagnostic::new(message, span).label("invalid parameters"));
        None
    }
}
