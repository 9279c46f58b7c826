//! What the difference charts plot, pulled out of the paired counts of variants' summaries:
//! pure, no drawing.
//!
//! In: the summaries of a comparison and the index of its baseline. A variant simulated on the
//! baseline's runs carries, in `Summary::paired`, the runs where each outcome and rung happened
//! in both; with the two summaries' own counts these are the four paired counts of every cell.
//! Out: [`DiffPoint`]s (the difference `P(variant) - P(baseline)` and its paired 95% interval in
//! percentage points, unrounded, with the counts), one per variant and step ([`DiffSeries`]) or
//! one per variant at the horizon, grouped by outcome or rung ([`DiffGroup`]). A variant that was
//! not paired with the baseline has no paired counts and appears in none of them: its difference
//! from two independent estimates would need other intervals, and is in the comparison table.

use crate::aggregate::difference::{PairedCounts, paired_difference};
use crate::aggregate::{PairedSeries, PairedTables, Series, Summary};

use super::data::find;

/// One difference: at `step`, the variant's probability minus the baseline's, with its paired
/// 95% interval (Newcombe's method 10), all in percentage points and unrounded, and the paired
/// counts they come from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DiffPoint {
    pub step: usize,
    pub counts: PairedCounts,
    pub diff: f64,
    pub lo: f64,
    pub hi: f64,
}

impl DiffPoint {
    fn new(step: usize, counts: PairedCounts) -> Self {
        let d = paired_difference(counts);
        DiffPoint {
            step,
            counts,
            diff: 100.0 * d.diff,
            lo: 100.0 * d.lo,
            hi: 100.0 * d.hi,
        }
    }
}

/// One variant's differences over steps: `id` and `label` are the variant's scenario id and name.
#[derive(Clone, Debug, PartialEq)]
pub struct DiffSeries {
    pub id: String,
    pub label: String,
    pub points: Vec<DiffPoint>,
}

/// One row of a forest plot: an outcome (or rung) and each paired variant's difference at the
/// horizon (`marks[i].points` holds one point, the horizon's).
#[derive(Clone, Debug, PartialEq)]
pub struct DiffGroup {
    pub id: String,
    pub label: String,
    pub marks: Vec<DiffSeries>,
}

/// What a difference chart is about: outcomes (held by t) or rungs (reached by t).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffKind {
    Outcome,
    Rung,
}

impl DiffKind {
    fn table(self, summary: &Summary) -> &[Series] {
        match self {
            DiffKind::Outcome => summary.outcome_table(),
            DiffKind::Rung => summary.rung_table(),
        }
    }

    fn paired(self, tables: &PairedTables) -> &[PairedSeries] {
        match self {
            DiffKind::Outcome => &tables.outcome_by,
            DiffKind::Rung => &tables.rung_reached,
        }
    }
}

/// Whether `summaries[i]` is a variant with paired counts against `summaries[baseline]`
/// ([`Summary::paired_with`]).
pub fn is_paired(summaries: &[Summary], baseline: usize, i: usize) -> bool {
    let (Some(base), Some(s)) = (summaries.get(baseline), summaries.get(i)) else {
        return false;
    };
    i != baseline && s.paired_with(base).is_some()
}

/// The indices of the variants paired with the baseline, in scenario order.
pub fn paired_variants(summaries: &[Summary], baseline: usize) -> Vec<usize> {
    (0..summaries.len())
        .filter(|&i| is_paired(summaries, baseline, i))
        .collect()
}

/// The indices of the scenarios other than the baseline that have no paired counts with it.
pub fn unpaired_variants(summaries: &[Summary], baseline: usize) -> Vec<usize> {
    (0..summaries.len())
        .filter(|&i| i != baseline && !is_paired(summaries, baseline, i))
        .collect()
}

/// The differences of `variant` from `base` for series `id` of `kind`, at every step where the
/// counts are consistent (a summary read back is checked, so that is every step).
fn differences(variant: &Summary, base: &Summary, kind: DiffKind, id: &str) -> Option<DiffSeries> {
    let pair = kind.paired(variant.paired_with(base)?).iter().find(|p| p.id == id)?;
    let mine = find(kind.table(variant), id)?;
    let theirs = find(kind.table(base), id)?;
    let points = mine
        .points
        .iter()
        .zip(&theirs.points)
        .zip(&pair.both)
        .enumerate()
        .filter_map(|(t, ((e, b), &both))| {
            PairedCounts::from_margins(both, e.count, b.count, variant.runs).map(|c| DiffPoint::new(t, c))
        })
        .collect();
    Some(DiffSeries {
        id: variant.scenario.id.clone(),
        label: variant.scenario.name.clone(),
        points,
    })
}

/// The `difference_outcome_<id>` chart (and a rung's): one series per paired variant, over
/// every step.
pub fn difference_series(summaries: &[Summary], baseline: usize, kind: DiffKind, id: &str) -> Vec<DiffSeries> {
    let Some(base) = summaries.get(baseline) else {
        return Vec::new();
    };
    paired_variants(summaries, baseline)
        .into_iter()
        .filter_map(|i| differences(&summaries[i], base, kind, id))
        .filter(|s| !s.points.is_empty())
        .collect()
}

/// The forest plot: one group per series of the baseline's table (its order and labels) that
/// some paired variant has, with each such variant's difference at the horizon.
pub fn forest_groups(summaries: &[Summary], baseline: usize, kind: DiffKind) -> Vec<DiffGroup> {
    let Some(base) = summaries.get(baseline) else {
        return Vec::new();
    };
    kind.table(base)
        .iter()
        .filter_map(|series| {
            let marks: Vec<DiffSeries> = difference_series(summaries, baseline, kind, &series.id)
                .into_iter()
                .filter_map(|mut s| {
                    let last = *s.points.last()?;
                    s.points = vec![last];
                    Some(s)
                })
                .collect();
            (!marks.is_empty()).then(|| DiffGroup {
                id: series.id.clone(),
                label: series.label.clone(),
                marks,
            })
        })
        .collect()
}
