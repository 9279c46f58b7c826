//! Outcomes: the raw `[[outcomes]]` in, each outcome's checked condition out.

use super::{Compiler, MAX_LABEL_CHARS, Ty};
use crate::diagnostic::Diagnostic;
use crate::load::RawScenario;
use crate::model::OutcomeModel;

impl Compiler<'_> {
    /// `[[outcomes]]`: each outcome's condition.
    pub(super) fn compile_outcomes(&mut self, raw: &RawScenario) -> Vec<OutcomeModel> {
        let mut outcomes = Vec::new();
        let mut outcome_ids: Vec<String> = Vec::new();
        for outcome in &raw.outcomes {
            let o = outcome.get_ref();
            self.check_identifier(&o.id, "outcome");
            if outcome_ids.contains(o.id.get_ref()) {
                self.error(Diagnostic::new(
                    format!("outcome id `{}` is used twice", o.id.get_ref()),
                    o.id.span(),
                ));
            }
            outcome_ids.push(o.id.get_ref().clone());
            let what = format!("outcome `{}`", o.id.get_ref());
            let label = self.required(&o.label, "label", &what, &outcome.span());
            if let Some(l) = &o.label {
                self.check_text(
                    l.get_ref(),
                    l.span(),
                    &format!("the `label` of {what}"),
                    MAX_LABEL_CHARS,
                    false,
                );
            }
            let when = match &o.when {
                Some(when) => self.program(when, Ty::Bool, "`when`"),
                None => {
                    self.error(
                        Diagnostic::new(format!("{what} has no `when`"), outcome.span())
                            .help("add `when = \"...\"`, a condition on the state, e.g. \"escalation >= 'clash'\""),
                    );
                    self.constant(0.0)
                }
            };
            outcomes.push(OutcomeModel {
                id: o.id.get_ref().clone(),
                label,
                when,
            });
        }
        outcomes
    }
}
