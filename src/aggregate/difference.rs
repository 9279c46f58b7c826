//! The difference a variant makes: paired counts in, `P(variant) - P(base)` with its 95%
//! interval out.
//!
//! A variant and its base run with the same seed share their random numbers run by run, so
//! each run is a pair of booleans and the difference is estimated from the four paired counts
//! with Newcombe's method 10 (Newcombe 1998, Statistics in Medicine 17:2635-2650), a score-type
//! interval built from the two Wilson intervals and the correlation of the pairs; the unpaired
//! interval (Newcombe's hybrid score for independent samples) shows what the pairing gains.
//! Both need only the four integers, so they are exact across threads and shards.

use super::wilson;

/// The runs of a cell, paired: the thing happened in both models, in the variant only, in the
/// base only, in neither.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PairedCounts {
    pub both: u64,
    pub variant_only: u64,
    pub baseline_only: u64,
    pub neither: u64,
}

impl PairedCounts {
    /// From the runs where it happened in both, in the variant, in the base, out of `runs`.
    /// `None` when they cannot come from the same runs.
    pub fn from_margins(both: u64, variant: u64, baseline: u64, runs: u64) -> Option<Self> {
        let variant_only = variant.checked_sub(both)?;
        let baseline_only = baseline.checked_sub(both)?;
        let neither = runs.checked_sub(both + variant_only + baseline_only)?;
        Some(PairedCounts {
            both,
            variant_only,
            baseline_only,
            neither,
        })
    }

    pub fn runs(&self) -> u64 {
        self.both + self.variant_only + self.baseline_only + self.neither
    }
}

/// A difference of two probabilities with its 95% interval (unrounded).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Difference {
    pub diff: f64,
    pub lo: f64,
    pub hi: f64,
}

impl Difference {
    pub fn width(&self) -> f64 {
        self.hi - self.lo
    }
}

/// `P(variant) - P(base)` with Newcombe's method-10 interval for paired proportions.
pub fn paired_difference(c: PairedCounts) -> Difference {
    let n = c.runs();
    if n == 0 {
        return Difference {
            diff: 0.0,
            lo: -1.0,
            hi: 1.0,
        };
    }
    let (a, b, cc, d) = (
        c.both as f64,
        c.variant_only as f64,
        c.baseline_only as f64,
        c.neither as f64,
    );
    let nf = n as f64;
    let (p1, p2) = ((a + b) / nf, (a + cc) / nf);
    let (l1, u1) = wilson(c.both + c.variant_only, n);
    let (l2, u2) = wilson(c.both + c.baseline_only, n);
    let product = (a + b) * (cc + d) * (a + cc) * (b + d);
    let cross = a * d - b * cc;
    let corrected = if cross > nf / 2.0 {
        cross - nf / 2.0
    } else if cross < 0.0 {
        cross
    } else {
        0.0
    };
    let phi = if product > 0.0 { corrected / product.sqrt() } else { 0.0 };
    let diff = p1 - p2;
    let below = ((p1 - l1).powi(2) - 2.0 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2).powi(2)).max(0.0);
    let above = ((p2 - l2).powi(2) - 2.0 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1).powi(2)).max(0.0);
    Difference {
        diff,
        lo: (diff - below.sqrt()).max(-1.0),
        hi: (diff + above.sqrt()).min(1.0),
    }
}

/// `P(variant) - P(base)` as if the two came from independent runs: Newcombe's hybrid score
/// interval from the two Wilson intervals, to show what the pairing gains.
pub fn unpaired_difference(variant: u64, baseline: u64, runs: u64) -> Difference {
    if runs == 0 {
        return Difference {
            diff: 0.0,
            lo: -1.0,
            hi: 1.0,
        };
    }
    let nf = runs as f64;
    let (p1, p2) = (variant as f64 / nf, baseline as f64 / nf);
    let (l1, u1) = wilson(variant, runs);
    let (l2, u2) = wilson(baseline, runs);
    let diff = p1 - p2;
    Difference {
        diff,
        lo: diff - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt(),
        hi: diff + ((p2 - l2).powi(2) + (u1 - p1).powi(2)).sqrt(),
    }
}

/// `P1 - P2` for `x1` events of `n1` runs and `x2` of `n2` other, independent runs (the runs of
/// two fifths of a param, say): Newcombe's hybrid score interval from the two Wilson intervals.
pub fn independent_difference(x1: u64, n1: u64, x2: u64, n2: u64) -> Difference {
    if n1 == 0 || n2 == 0 {
        return Difference {
            diff: 0.0,
            lo: -1.0,
            hi: 1.0,
        };
    }
    let (p1, p2) = (x1 as f64 / n1 as f64, x2 as f64 / n2 as f64);
    let (l1, u1) = wilson(x1, n1);
    let (l2, u2) = wilson(x2, n2);
    let diff = p1 - p2;
    Difference {
        diff,
        lo: (diff - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt()).max(-1.0),
        hi: (diff + ((p2 - l2).powi(2) + (u1 - p1).powi(2)).sqrt()).min(1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_smaller_group_widens_the_interval() {
        let same = independent_difference(300, 1000, 200, 1000);
        let small = independent_difference(30, 100, 200, 1000);
        assert!((small.diff - 0.1).abs() < 1e-12 && small.width() > same.width());
    }

    /// The worked check of the team's statistics notes (n = 200,000).
    #[test]
    fn method_10_matches_the_worked_example() {
        let counts = PairedCounts {
            both: 143_514,
            variant_only: 13_352,
            baseline_only: 0,
            neither: 43_134,
        };
        let paired = paired_difference(counts);
        assert!((paired.diff - 0.066760).abs() < 1e-6, "{paired:?}");
        assert!((paired.lo - 0.065667).abs() < 1e-6, "{paired:?}");
        assert!((paired.hi - 0.067855).abs() < 1e-6, "{paired:?}");
        let unpaired = unpaired_difference(143_514 + 13_352, 143_514, 200_000);
        assert_eq!(unpaired.diff, paired.diff);
        let gain = unpaired.width() / paired.width();
        assert!((2.2..2.6).contains(&gain), "the pairing gains {gain}");
    }

    #[test]
    fn independent_samples_of_one_size_are_the_unpaired_difference() {
        let unpaired = unpaired_difference(300, 200, 1000);
        assert_eq!(independent_difference(300, 1000, 200, 1000), unpaired);
        // Newcombe (1998), table II, example (b): 56/70 against 48/80, [0.0524, 0.3339].
        let d = independent_difference(56, 70, 48, 80);
        assert!((d.lo - 0.0524).abs() < 1e-4 && (d.hi - 0.3339).abs() < 1e-4, "{d:?}");
    }

    /// No discordant run: a small interval around 0, not [0, 0].
    #[test]
    fn no_discordant_run_gives_a_small_interval_around_zero() {
        let paired = paired_difference(PairedCounts {
            both: 143_514,
            variant_only: 0,
            baseline_only: 0,
            neither: 56_486,
        });
        assert_eq!(paired.diff, 0.0);
        assert!(paired.lo < 0.0 && paired.hi > 0.0, "{paired:?}");
        assert!(paired.hi < 2e-5 && paired.lo > -2e-5, "{paired:?}");
    }

    #[test]
    fn intervals_stay_within_the_possible_differences() {
        for (a, b, c, d) in [
            (0, 0, 0, 10),
            (10, 0, 0, 0),
            (0, 10, 0, 0),
            (0, 0, 10, 0),
            (1, 2, 3, 4),
            (0, 1, 0, 0),
        ] {
            let counts = PairedCounts {
                both: a,
                variant_only: b,
                baseline_only: c,
                neither: d,
            };
            let e = paired_difference(counts);
            assert!(
                -1.0 <= e.lo && e.lo <= e.diff && e.diff <= e.hi && e.hi <= 1.0,
                "{counts:?}: {e:?}"
            );
        }
        assert_eq!(
            PairedCounts::from_margins(3, 2, 5, 10),
            None,
            "both exceeds the variant's count"
        );
        assert_eq!(PairedCounts::from_margins(2, 5, 4, 6), None, "more than the runs");
        let c = PairedCounts::from_margins(2, 5, 4, 10).unwrap();
        assert_eq!((c.variant_only, c.baseline_only, c.neither), (3, 2, 3));
    }
}
