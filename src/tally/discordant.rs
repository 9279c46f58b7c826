//! Discordant runs: per outcome a variant shares with its base, the lowest run indices where it
//! held by the horizon in the variant and not in the base, and the reverse. Part of the paired
//! counts ([`super::paired::Paired`]).
//!
//! In: the horizon step's masks of a batch of the variant's runs and of the base's same runs.
//! Out: at most [`KEPT`] ascending run indices per outcome and direction, the runs a reader can
//! follow with `sim trace VARIANT --diff BASE --run I`. The lowest `k` of a union are the lowest
//! `k` of the lowest `k` of each part, so merging (union, sort, keep `k`) gives the same lists
//! for any thread count and shard split. Only the horizon step is read, once per batch.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::simulate::lanes_of;

/// Run indices kept per outcome and direction.
pub const KEPT: usize = 10;

/// The lowest discordant runs of each outcome pair, in the pairs' order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discordant {
    /// Most run indices kept per list.
    pub kept: usize,
    /// Per outcome pair: `[variant only, baseline only]`, ascending, at most `kept` each.
    pub runs: Vec<[Vec<u64>; 2]>,
}

impl Discordant {
    /// No runs yet, for `pairs` outcome pairs.
    pub fn new(pairs: usize) -> Self {
        Discordant {
            kept: KEPT,
            runs: (0..pairs).map(|_| Self::lists(KEPT)).collect(),
        }
    }

    /// Two empty lists with room for `kept` runs each, so that collecting allocates nothing.
    fn lists(kept: usize) -> [Vec<u64>; 2] {
        [Vec::with_capacity(kept), Vec::with_capacity(kept)]
    }

    /// Empty, of the same shape.
    pub fn empty(&self) -> Self {
        Discordant {
            kept: self.kept,
            runs: self.runs.iter().map(|_| Self::lists(self.kept)).collect(),
        }
    }

    /// Pair `k`'s runs `first_run + lane` of `variant_only` and `baseline_only` (lane masks).
    #[inline]
    pub fn add_masks(&mut self, k: usize, first_run: u64, variant_only: u64, baseline_only: u64) {
        let kept = self.kept;
        for (list, mask) in self.runs[k].iter_mut().zip([variant_only, baseline_only]) {
            for lane in lanes_of(mask) {
                if !keep_lowest(list, first_run + lane as u64, kept) {
                    // Lanes come lowest first: the rest are higher still.
                    break;
                }
            }
        }
    }

    /// Adds the lists of other runs of the same pairs.
    pub fn add(&mut self, other: &Discordant) {
        assert!(
            self.kept == other.kept && self.runs.len() == other.runs.len(),
            "merging discordant runs of different pairs"
        );
        for (mine, theirs) in self.runs.iter_mut().zip(&other.runs) {
            for (list, more) in mine.iter_mut().zip(theirs) {
                for &run in more {
                    keep_lowest(list, run, self.kept);
                }
            }
        }
    }

    /// Hashes the lists into `hasher`, each with its length.
    pub fn hash_into(&self, hasher: &mut blake3::Hasher) {
        hasher.update(&(self.kept as u64).to_le_bytes());
        for list in self.runs.iter().flatten() {
            hasher.update(&(list.len() as u64).to_le_bytes());
            for run in list {
                hasher.update(&run.to_le_bytes());
            }
        }
    }

    /// What is wrong with lists read back for `pairs` outcome pairs over the runs `block`, whose
    /// variant-only counts at the horizon are `variant_only(k)`: every list ascending, within
    /// the block, at most `kept` long; a variant-only list as long as it can be (`kept`, or
    /// every such run); the two lists of a pair disjoint.
    pub fn problem(&self, pairs: usize, block: Range<u64>, variant_only: impl Fn(usize) -> u64) -> Option<String> {
        if !(1..=1000).contains(&self.kept) || self.runs.len() != pairs {
            return Some(format!(
                "its discordant runs must keep 1 to 1000 runs for each of its {pairs} outcome pairs"
            ));
        }
        for (k, [variant, baseline]) in self.runs.iter().enumerate() {
            let fits = |list: &Vec<u64>| {
                list.len() <= self.kept
                    && list.windows(2).all(|w| w[0] < w[1])
                    && list.iter().all(|run| block.contains(run))
            };
            let expected = variant_only(k).min(self.kept as u64);
            if !fits(variant) || !fits(baseline) || variant.len() as u64 != expected {
                return Some(format!(
                    "its discordant runs of outcome pair {k} are not {expected} and at most {} ascending runs of {}..{}",
                    self.kept, block.start, block.end
                ));
            }
            if variant.iter().any(|run| baseline.binary_search(run).is_ok()) {
                return Some(format!(
                    "its discordant runs of outcome pair {k} give a run as both variant-only and baseline-only"
                ));
            }
        }
        None
    }
}

/// Inserts `run` into the ascending `list` unless it is there or `kept` lower runs are; false
/// when it was not kept for being too high.
#[inline]
fn keep_lowest(list: &mut Vec<u64>, run: u64, kept: usize) -> bool {
    match list.binary_search(&run) {
        Ok(_) => true,
        Err(at) if at < kept => {
            if list.len() == kept {
                list.pop();
            }
            list.insert(at, run);
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_lowest_runs_in_any_order_and_split() {
        let runs: Vec<u64> = (0..50).map(|i| (i * 37) % 101).collect();
        let mut expected: Vec<u64> = runs.clone();
        expected.sort();
        expected.truncate(KEPT);
        let mut whole = Discordant::new(1);
        for &run in &runs {
            keep_lowest(&mut whole.runs[0][0], run, KEPT);
        }
        assert_eq!(whole.runs[0][0], expected);
        for split in [1, 7, 25, 49] {
            let (mut a, mut b) = (Discordant::new(1), Discordant::new(1));
            for &run in &runs[..split] {
                keep_lowest(&mut a.runs[0][0], run, KEPT);
            }
            for &run in &runs[split..] {
                keep_lowest(&mut b.runs[0][0], run, KEPT);
            }
            b.add(&a);
            assert_eq!(b, whole, "split at {split}");
        }
    }

    #[test]
    fn masks_give_run_indices_lowest_first() {
        let mut d = Discordant::new(2);
        d.add_masks(1, 640, 0b1010, 1 << 63);
        d.add_masks(1, 0, u64::MAX, 0);
        assert!(d.runs[0].iter().all(Vec::is_empty));
        assert_eq!(d.runs[1][0], (0..10).collect::<Vec<u64>>());
        assert_eq!(d.runs[1][1], [703]);
        assert_eq!(d.runs[1][0].capacity(), KEPT, "never grown past what it keeps");
    }

    #[test]
    fn lists_read_back_are_checked() {
        let mut d = Discordant::new(1);
        d.runs[0] = [vec![3, 5], vec![4]];
        assert_eq!(d.problem(1, 0..10, |_| 2), None);
        assert!(d.problem(1, 0..10, |_| 3).is_some(), "a variant-only run is missing");
        assert!(d.problem(1, 4..10, |_| 2).is_some(), "run 3 is outside the block");
        assert!(d.problem(2, 0..10, |_| 2).is_some(), "one pair only");
        d.runs[0] = [vec![5, 3], vec![4]];
        assert!(d.problem(1, 0..10, |_| 2).is_some(), "not ascending");
        d.runs[0] = [vec![3, 5], vec![5]];
        assert!(d.problem(1, 0..10, |_| 2).is_some(), "both ways at once");
    }
}
