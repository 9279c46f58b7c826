//! Judging claims: a scenario's `[[expect]]` claims and the summaries of one `sim test` in,
//! a verdict per claim out.
//!
//! A claim is judged by the 95% interval of what it is about, never by the estimate alone:
//! it passes when the whole interval satisfies it, fails when the whole interval violates it,
//! and is undecided otherwise (more runs narrow the interval; `sim test` doubles them up to a
//! cap). A probability's interval is Wilson's; a difference's is Newcombe's paired interval
//! (method 10) when the two scenarios were simulated paired (one is the baseline of the study,
//! the other a variant paired with it), else the unpaired one (hybrid score), and the judgement
//! says which. Pure: summaries in, judgements out.

use crate::aggregate::difference::{Difference, PairedCounts, paired_difference};
use crate::aggregate::{PairedSeries, PairedTables, Series, Summary, Tables, wilson};
use crate::model::{Claim, ClaimKind, ScenarioInfo, Test};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Pass,
    Undecided,
    Fail,
}

/// Which interval a judgement used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    /// Wilson's, of one probability.
    Wilson,
    /// Newcombe's method 10, of a difference between scenarios simulated paired.
    Paired,
    /// Newcombe's hybrid score, of a difference between scenarios not simulated paired.
    Unpaired,
}

/// A claim judged: the estimate (a probability, or a difference of two) with its unrounded
/// 95% interval, from `runs` runs (of each scenario, for a difference).
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    pub verdict: Verdict,
    pub estimate: f64,
    pub lo: f64,
    pub hi: f64,
    pub interval: Interval,
    /// The runs where what the claim names happened, in its own scenario.
    pub count: u64,
    pub runs: u64,
}

/// Judges `claim` of the scenario `own` against the summaries of the same study (`own`
/// among them, and the scenario a difference claim names). Errs when a summary lacks what the
/// claim names ([`comparable`] checks that before any run).
pub fn judge(claim: &Claim, own: &Summary, summaries: &[Summary]) -> Result<Judgement, String> {
    let (count, runs) = count_of(own, claim)?;
    let (estimate, interval) = match claim.test.than() {
        None => {
            let (lo, hi) = wilson(count, runs);
            (
                Difference {
                    diff: count as f64 / runs.max(1) as f64,
                    lo,
                    hi,
                },
                Interval::Wilson,
            )
        }
        Some(than) => {
            let other = summaries
                .iter()
                .find(|s| s.scenario.id == than)
                .ok_or_else(|| format!("no results of the scenario `{than}`"))?;
            let (other_count, other_runs) = count_of(other, claim)?;
            match paired_counts(claim, own, count, other, other_count) {
                Some(counts) => (paired_difference(counts), Interval::Paired),
                None => (unpaired(count, runs, other_count, other_runs), Interval::Unpaired),
            }
        }
    };
    Ok(Judgement {
        verdict: verdict(&claim.test, estimate.lo, estimate.hi),
        estimate: estimate.diff,
        lo: estimate.lo,
        hi: estimate.hi,
        interval,
        count,
        runs,
    })
}

/// Whether the scenario `than` has what `claim` (of the scenario `own`) compares, at its
/// step, on the same ladder: else why not, before anything is simulated.
pub fn comparable(claim: &Claim, own: &ScenarioInfo, than: &ScenarioInfo) -> Result<(), String> {
    let has = match claim.kind {
        ClaimKind::Outcome => than.outcomes.iter().any(|o| o.id == claim.id),
        ClaimKind::Trigger => than.triggers.iter().any(|t| t.id == claim.id),
        ClaimKind::Rung => than.levels == own.levels && than.initial_level == own.initial_level,
    };
    if !has {
        return Err(match claim.kind {
            ClaimKind::Rung => format!("`{}` has another ladder or initial level than `{}`", than.id, own.id),
            kind => format!("`{}` has no {kind} `{}`", than.id, claim.id),
        });
    }
    if claim.step > than.steps {
        return Err(format!(
            "the claim is about step {}, beyond the horizon of `{}` ({} steps)",
            claim.step, than.id, than.steps
        ));
    }
    Ok(())
}

/// Pass when the whole interval `[lo, hi]` satisfies the test, fail when the whole of it
/// violates it, undecided when it straddles the bound.
pub fn verdict(test: &Test, lo: f64, hi: f64) -> Verdict {
    let (pass, fail) = match *test {
        Test::Below(x) | Test::DifferenceBelow { by: x, .. } => (hi < x, lo > x),
        Test::Above(x) | Test::DifferenceAbove { by: x, .. } => (lo > x, hi < x),
        Test::Between(a, b) => (a < lo && hi < b, hi < a || lo > b),
    };
    match (pass, fail) {
        (true, _) => Verdict::Pass,
        (false, true) => Verdict::Fail,
        (false, false) => Verdict::Undecided,
    }
}

/// The table of a summary that a claim reads.
fn table(tables: &Tables, kind: ClaimKind) -> &[Series] {
    match kind {
        ClaimKind::Outcome => &tables.outcome_by,
        ClaimKind::Rung => &tables.rung_reached,
        ClaimKind::Trigger => &tables.trigger_fired_by,
    }
}

fn paired_table(tables: &PairedTables, kind: ClaimKind) -> &[PairedSeries] {
    match kind {
        ClaimKind::Outcome => &tables.outcome_by,
        ClaimKind::Rung => &tables.rung_reached,
        ClaimKind::Trigger => &tables.trigger_fired_by,
    }
}

/// The runs where what the claim names happened by its step, and the runs.
fn count_of(summary: &Summary, claim: &Claim) -> Result<(u64, u64), String> {
    table(&summary.tables, claim.kind)
        .iter()
        .find(|s| s.id == claim.id)
        .and_then(|s| s.points.get(claim.step))
        .map(|e| (e.count, summary.runs))
        .ok_or_else(|| {
            format!(
                "the results of `{}` have no {} `{}` at step {}",
                summary.scenario.id, claim.kind, claim.id, claim.step
            )
        })
}

/// The four paired counts of `own` against `other`, when one of them was simulated paired with
/// the other as its baseline.
fn paired_counts(claim: &Claim, own: &Summary, count: u64, other: &Summary, other_count: u64) -> Option<PairedCounts> {
    let both = |variant: &Summary, baseline: &Summary| -> Option<u64> {
        let paired = variant.paired.as_ref().filter(|p| p.baseline == baseline.scenario.id)?;
        (variant.runs == baseline.runs).then_some(())?;
        paired_table(paired, claim.kind)
            .iter()
            .find(|s| s.id == claim.id)?
            .both
            .get(claim.step)
            .copied()
    };
    if let Some(both) = both(own, other) {
        return PairedCounts::from_margins(both, count, other_count, own.runs);
    }
    // `other` is the variant: its counts against `own` are the same pairs, seen from the other side.
    let both = both(other, own)?;
    let c = PairedCounts::from_margins(both, other_count, count, own.runs)?;
    Some(PairedCounts {
        variant_only: c.baseline_only,
        baseline_only: c.variant_only,
        ..c
    })
}

/// `x1 / n1 - x2 / n2` with Newcombe's hybrid score interval for independent samples.
fn unpaired(x1: u64, n1: u64, x2: u64, n2: u64) -> Difference {
    let (p1, p2) = (x1 as f64 / n1.max(1) as f64, x2 as f64 / n2.max(1) as f64);
    let ((l1, u1), (l2, u2)) = (wilson(x1, n1), wilson(x2, n2));
    let diff = p1 - p2;
    Difference {
        diff,
        lo: (diff - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt()).max(-1.0),
        hi: (diff + ((p2 - l2).powi(2) + (u1 - p1).powi(2)).sqrt()).min(1.0),
    }
}

#[cfg(test)]
mod tests;
