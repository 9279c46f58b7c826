//! Whether several summaries can be compared, decided once per output set.
//!
//! In: the summaries of one output set (a `sim run`, `sim merge` or `sim compare`). Out: a
//! [`Comparison`], the summaries with the verdict of [`check_comparable`], which the comparison
//! charts, the report and the headline numbers all read instead of checking again. A refusal is
//! an [`Incomparable`] naming both scenarios and what differs; its `Display` is the message
//! `sim` prints.

use std::fmt;

use crate::aggregate::Summary;
use crate::format::describe_horizon;
use crate::model::ScenarioInfo;

/// Why two summaries cannot share an axis: the first summary and the first other one that
/// differs from it, with every difference between the two.
#[derive(Clone, Debug, PartialEq)]
pub struct Incomparable {
    /// The first summary's scenario, as `` `id` (name) ``.
    pub first: String,
    /// The scenario that differs from it, written the same way.
    pub other: String,
    /// At least one.
    pub differences: Vec<Difference>,
}

/// One way two scenarios differ that makes their curves mean different things on one axis.
#[derive(Clone, Debug, PartialEq)]
pub enum Difference {
    /// Steps, step unit or start differ; each horizon as "36 months from 2025-05".
    Horizons { first: String, other: String },
    /// The escalation ladders differ; each ladder's levels, calm to severe.
    Ladders { first: Vec<String>, other: Vec<String> },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::Horizons { first, other } => write!(f, "horizons differ ({first} vs {other})"),
            Difference::Ladders { first, other } => {
                write!(f, "ladders differ ([{}] vs [{}])", first.join(", "), other.join(", "))
            }
        }
    }
}

impl fmt::Display for Incomparable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let differences: Vec<String> = self.differences.iter().map(ToString::to_string).collect();
        write!(
            f,
            "cannot compare scenario {} with scenario {}: {}",
            self.first,
            self.other,
            differences.join("; ")
        )
    }
}

impl std::error::Error for Incomparable {}

fn describe_scenario(info: &ScenarioInfo) -> String {
    format!("`{}` ({})", info.id, info.name)
}

/// Refuses summaries whose horizons (steps, step unit, start) or ladders differ: their curves
/// would share an axis while meaning different things. The refusal names the first summary and
/// the first one that differs from it. Whether it refuses does not depend on the order.
pub fn check_comparable(summaries: &[Summary]) -> Result<(), Incomparable> {
    let Some((first, rest)) = summaries.split_first() else {
        return Ok(());
    };
    let a = &first.scenario;
    for other in rest {
        let b = &other.scenario;
        let mut differences = Vec::new();
        if (a.steps, &a.step_unit, &a.start) != (b.steps, &b.step_unit, &b.start) {
            differences.push(Difference::Horizons {
                first: describe_horizon(a),
                other: describe_horizon(b),
            });
        }
        if a.levels != b.levels {
            differences.push(Difference::Ladders {
                first: a.levels.clone(),
                other: b.levels.clone(),
            });
        }
        if !differences.is_empty() {
            return Err(Incomparable {
                first: describe_scenario(a),
                other: describe_scenario(b),
                differences,
            });
        }
    }
    Ok(())
}

/// The summaries of one output set, baseline first, with whether they can be compared.
#[derive(Clone, Debug)]
pub struct Comparison<'a> {
    summaries: &'a [Summary],
    verdict: Result<(), Incomparable>,
}

impl<'a> Comparison<'a> {
    /// Checks `summaries` (once).
    pub fn new(summaries: &'a [Summary]) -> Self {
        Comparison {
            summaries,
            verdict: check_comparable(summaries),
        }
    }

    /// `summaries` with the verdict [`check_comparable`] gave on the same summaries in another
    /// order (`sim compare` checks them in the order given, to name that order's pair, before
    /// moving the baseline first). Order changes only which pair a refusal names.
    pub fn with_verdict(summaries: &'a [Summary], verdict: Result<(), Incomparable>) -> Self {
        Comparison { summaries, verdict }
    }

    pub fn summaries(&self) -> &'a [Summary] {
        self.summaries
    }

    /// `Ok` when every summary's horizon and ladder match the others'.
    pub fn verdict(&self) -> Result<(), &Incomparable> {
        self.verdict.as_ref().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::tests::synthetic_summary;

    fn baseline() -> Summary {
        synthetic_summary("baseline", "Baseline (May 2025)", 12, 0.0)
    }

    fn variant() -> Summary {
        synthetic_summary("lethal_aid", "Seoul sends lethal aid", 12, 0.3)
    }

    #[test]
    fn check_comparable_refuses_other_ladders_and_horizons() {
        let a = baseline();
        assert_eq!(check_comparable(&[a.clone(), variant()]), Ok(()));
        assert_eq!(check_comparable(&[]), Ok(()));

        let mut ladder = variant();
        ladder.scenario.levels.pop();
        let refusal = check_comparable(&[a.clone(), ladder]).unwrap_err();
        assert!(
            matches!(refusal.differences[..], [Difference::Ladders { .. }]),
            "{refusal:?}"
        );
        let message = refusal.to_string();
        assert!(message.contains("`baseline` (Baseline (May 2025))"), "{message}");
        assert!(message.contains("`lethal_aid` (Seoul sends lethal aid)"), "{message}");
        assert!(message.contains("ladders differ"), "{message}");
        assert!(!message.contains("horizons"), "{message}");

        let longer = synthetic_summary("longer", "Three years", 36, 0.0);
        let message = check_comparable(&[a.clone(), longer]).unwrap_err().to_string();
        assert!(
            message.contains("`baseline`") && message.contains("`longer`"),
            "{message}"
        );
        assert!(
            message.contains("horizons differ (12 months from 2025-05 vs 36 months from 2025-05)"),
            "{message}"
        );

        let mut later = variant();
        later.scenario.start = Some("2026-01".into());
        let message = check_comparable(&[a.clone(), later]).unwrap_err().to_string();
        assert!(message.contains("from 2026-01"), "{message}");
    }

    #[test]
    fn a_refusal_lists_every_difference_in_todays_words() {
        let mut other = synthetic_summary("other", "Other", 24, 0.0);
        other.scenario.levels.pop();
        let refusal = check_comparable(&[baseline(), other]).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "cannot compare scenario `baseline` (Baseline (May 2025)) with scenario `other` (Other): \
             horizons differ (12 months from 2025-05 vs 24 months from 2025-05); \
             ladders differ ([calm, warnings, arms_transfers, clash] vs [calm, warnings, arms_transfers])"
        );
        let comparison = Comparison::new(&[]);
        assert!(comparison.verdict().is_ok());
    }
}
