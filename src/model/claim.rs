//! A scenario's claims, `[[expect]]` as compiled: what `sim test` judges in its results.
//!
//! In: nothing; `compile::claims` builds them, every name resolved and every number checked.
//! Out: [`Claim`]s that name a series of the summary by kind and id, a step, and a [`Test`];
//! `claims` judges them against summaries.

use std::fmt;

/// Which table of the summary a claim reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimKind {
    /// P(the outcome held at some step up to t): `outcome_by`.
    Outcome,
    /// P(that rung or higher reached by t): `rung_reached`.
    Rung,
    /// P(the trigger fired at some step up to t): `trigger_fired_by`.
    Trigger,
}

/// What the probability (or the difference) must satisfy, judged by its 95% interval.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Below(f64),
    Above(f64),
    /// Strictly inside [low, high].
    Between(f64, f64),
    /// P(this scenario) - P(`than`) above `by`.
    DifferenceAbove {
        than: String,
        by: f64,
    },
    /// P(this scenario) - P(`than`) below `by`.
    DifferenceBelow {
        than: String,
        by: f64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub kind: ClaimKind,
    /// The outcome's or trigger's id, or the rung's level name.
    pub id: String,
    pub step: usize,
    pub test: Test,
    /// Why the claim should hold, as written.
    pub note: Option<String>,
}

impl Test {
    /// The scenario a difference claim compares with.
    pub fn than(&self) -> Option<&str> {
        match self {
            Test::DifferenceAbove { than, .. } | Test::DifferenceBelow { than, .. } => Some(than),
            _ => None,
        }
    }
}

impl fmt::Display for ClaimKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ClaimKind::Outcome => "outcome",
            ClaimKind::Rung => "rung",
            ClaimKind::Trigger => "trigger",
        })
    }
}

/// As written in the scenario: `below 0.05`, `difference_above 0.2 than baseline`.
impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Test::Below(x) => write!(f, "below {x}"),
            Test::Above(x) => write!(f, "above {x}"),
            Test::Between(a, b) => write!(f, "between {a} and {b}"),
            Test::DifferenceAbove { than, by } => write!(f, "difference_above {by} than {than}"),
            Test::DifferenceBelow { than, by } => write!(f, "difference_below {by} than {than}"),
        }
    }
}
