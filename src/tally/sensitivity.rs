//! Sensitivity: how each outcome and rung depends on each uncertain param. A collector.
//!
//! In: the steps of runs ([`Step`]): every param's value at step 0 (it [`Needs`] the params),
//! and at the horizon where each outcome held and the highest rung reached. Out: integer
//! counts, per param drawn from a distribution (not a fixed number):
//! - the runs whose draw falls in each fifth of the param's own distribution: fifth
//!   `floor(5 F(x))` (clamped to 0..4), `F` the param's CDF, so the bins are fixed before any
//!   run and each holds a fifth of the runs in expectation;
//! - per outcome (held at some step up to the horizon) and per rung above the initial one
//!   (reached by the horizon), the runs of each fifth in which it happened;
//! - for a rank correlation between the param and each of them, the sums of `F`, `F²` and of `F`
//!   over the runs in which it happened, `F` quantized to multiples of 2^-32 ([`F_ONE`]), the
//!   sums in `u128`: integers, so they merge exactly.
//!
//! The fifths are exact: the four quintiles are found once per job by bisection on the exact
//! CDF (closed forms for uniform and triangular, the regularized incomplete beta function of
//! `statrs` for Beta and PERT), and a draw's fifth is the number of quintiles at or below it.
//! For the sums, `F` is read from a table of its exact values at [`TABLE_INTERVALS`] + 1 evenly
//! spaced points of the param's range, linearly interpolated: computing the incomplete beta
//! function for every param of every run would cost more than the rest of the run. An annual
//! param's slot holds its per-step probability; the quintiles and the table are computed on
//! that scale from the annual draw's CDF, so neither needs a power per run.
//!
//! The collector acts at step 0 (a batch's fifths and `F`s, kept per lane) and at the horizon
//! (where the outcomes and rungs hold); the steps between cost one comparison.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::lanes::LANES;
use crate::model::{Distribution, Model, ParamModel};
use crate::simulate::{Collector, Needs, Step, lanes_of};

/// The bins of a param's distribution: fifths.
pub const BINS: usize = 5;

/// `F = 1` quantized: `F` is counted in multiples of 2^-32.
pub const F_ONE: u64 = 1 << 32;

/// Intervals of the table `F` is interpolated in.
pub const TABLE_INTERVALS: usize = 1024;

/// How to bin and rank one param's draws, on the scale of its slot.
#[derive(Clone, Debug)]
struct Cdf {
    slot: usize,
    /// The slot's range, and table intervals per unit of it.
    lo: f64,
    scale: f64,
    /// The smallest slot value whose fifth is `j + 1`, for `j` in 0..4.
    quintiles: [f64; BINS - 1],
    /// `F` at `lo + i / scale`, `i` in `0..=TABLE_INTERVALS`.
    table: Vec<f64>,
}

impl Cdf {
    /// `None` for a fixed param, or a distribution over a single value.
    fn of(param: &ParamModel) -> Option<Cdf> {
        let (min, max) = param.distribution.support();
        if matches!(param.distribution, Distribution::Fixed(_)) || min >= max {
            return None;
        }
        let on_step = |x: f64| match param.annual {
            Some(per_year) => crate::model::per_step(x, per_year),
            None => x,
        };
        // The draw a slot value came from: the inverse of `per_step` for an annual param.
        let draw = |v: f64| match param.annual {
            Some(per_year) => 1.0 - (1.0 - v).powf(per_year),
            None => v,
        };
        let (lo, hi) = (on_step(min), on_step(max));
        let exact = |v: f64| cdf(&param.distribution, draw(v).clamp(min, max));
        let mut quintiles = [0.0; BINS - 1];
        for (j, q) in quintiles.iter_mut().enumerate() {
            *q = first_at_least(exact, lo, hi, (j + 1) as f64 / BINS as f64);
        }
        let step = (hi - lo) / TABLE_INTERVALS as f64;
        let mut table: Vec<f64> = (0..=TABLE_INTERVALS).map(|i| exact(lo + i as f64 * step)).collect();
        // The table's ends are the distribution's: F(min) = 0 and F(max) = 1 exactly.
        (table[0], table[TABLE_INTERVALS]) = (0.0, 1.0);
        Some(Cdf {
            slot: param.slot as usize,
            lo,
            scale: TABLE_INTERVALS as f64 / (hi - lo),
            quintiles,
            table,
        })
    }

    /// The fifth of slot value `v`: how many quintiles are at or below it.
    #[inline]
    fn bin(&self, v: f64) -> usize {
        self.quintiles.iter().filter(|&&q| v >= q).count()
    }

    /// `F(v)` in multiples of 2^-32, interpolated in the table.
    #[inline]
    fn quantized(&self, v: f64) -> u64 {
        let u = ((v - self.lo) * self.scale).clamp(0.0, TABLE_INTERVALS as f64);
        let i = (u as usize).min(TABLE_INTERVALS - 1);
        let (a, b) = (self.table[i], self.table[i + 1]);
        let f = a + (b - a) * (u - i as f64);
        // Truncating `f * 2^32 + 1/2` rounds to nearest: `f` is in [0, 1].
        ((f * F_ONE as f64 + 0.5) as u64).min(F_ONE)
    }
}

/// The CDF of `distribution` at `x` in its support (not for `Fixed`).
pub fn cdf(distribution: &Distribution, x: f64) -> f64 {
    match *distribution {
        Distribution::Fixed(v) => f64::from(u8::from(x >= v)),
        Distribution::Uniform { min, max } => ((x - min) / (max - min)).clamp(0.0, 1.0),
        Distribution::Triangular { min, mode, max } => {
            if x <= min {
                0.0
            } else if x >= max {
                1.0
            } else if x < mode {
                (x - min) * (x - min) / ((max - min) * (mode - min))
            } else {
                1.0 - (max - x) * (max - x) / ((max - min) * (max - mode))
            }
        }
        Distribution::Beta { alpha, beta, min, max } => {
            let u = ((x - min) / (max - min)).clamp(0.0, 1.0);
            statrs::function::beta::beta_reg(alpha, beta, u)
        }
    }
}

/// The smallest double in `[lo, hi]` at which the nondecreasing `f` is at least `target`, by
/// bisection down to adjacent doubles.
fn first_at_least(f: impl Fn(f64) -> f64, lo: f64, hi: f64, target: f64) -> f64 {
    let (mut below, mut above) = (lo, hi);
    if f(below) >= target {
        return below;
    }
    loop {
        let mid = below + (above - below) / 2.0;
        if mid <= below || mid >= above {
            return above;
        }
        if f(mid) >= target {
            above = mid;
        } else {
            below = mid;
        }
    }
}

/// What a batch's step 0 leaves for its horizon and its end: per lane, every param's `F`; per
/// param and fifth, the lanes whose draw fell in it.
#[derive(Clone, Debug, Default)]
struct Scratch {
    f: Vec<u64>,
    bins: Vec<u64>,
    row: Vec<u64>,
}

/// The counts. Cells are the outcomes (declaration order), then the rungs of `rungs`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Sensitivity {
    /// The params drawn from a distribution, in declaration order.
    pub params: Vec<String>,
    pub outcomes: usize,
    /// The rungs counted (reached rung `>= k` by the horizon), those above the initial one.
    pub rungs: Vec<usize>,
    /// The horizon.
    pub steps: usize,
    /// Runs finished.
    pub runs: u64,
    /// `bin_runs[p * BINS + b]`: runs whose draw of param `p` fell in fifth `b`.
    pub bin_runs: Vec<u64>,
    /// `counts[(c * params + p) * BINS + b]`: of those, the runs in which cell `c` happened.
    pub counts: Vec<u64>,
    /// Per param: the sums of `F` and of `F²` over the runs (`F` in multiples of 2^-32).
    /// Written as decimal strings: JSON readers (serde_json's `Value` among them) keep no more
    /// than 64 bits of an integer.
    #[serde(with = "decimal")]
    pub sum_f: Vec<u128>,
    #[serde(with = "decimal")]
    pub sum_f2: Vec<u128>,
    /// `sum_fy[c * params + p]`: the sum of param `p`'s `F` over the runs in which cell `c`
    /// happened.
    #[serde(with = "decimal")]
    pub sum_fy: Vec<u128>,
    #[serde(skip)]
    cdfs: Arc<Vec<Cdf>>,
    #[serde(skip)]
    scratch: Scratch,
}

impl PartialEq for Sensitivity {
    /// The counts; how they were collected is not part of them.
    fn eq(&self, other: &Self) -> bool {
        (&self.params, self.outcomes, &self.rungs, self.steps, self.runs)
            == (&other.params, other.outcomes, &other.rungs, other.steps, other.runs)
            && (&self.bin_runs, &self.counts) == (&other.bin_runs, &other.counts)
            && (&self.sum_f, &self.sum_f2, &self.sum_fy) == (&other.sum_f, &other.sum_f2, &other.sum_fy)
    }
}

impl Eq for Sensitivity {}

impl Sensitivity {
    /// No runs yet, for `model`'s params, outcomes and rungs.
    pub fn new(model: &Model) -> Self {
        let (names, cdfs): (Vec<String>, Vec<Cdf>) = model
            .params
            .iter()
            .filter_map(|p| Cdf::of(p).map(|cdf| (p.name.clone(), cdf)))
            .unzip();
        let rungs = (model.info.initial_level + 1..model.levels).collect();
        Self::zero(names, model.outcomes.len(), rungs, model.steps, Arc::new(cdfs))
    }

    fn zero(params: Vec<String>, outcomes: usize, rungs: Vec<usize>, steps: usize, cdfs: Arc<Vec<Cdf>>) -> Self {
        let (n, cells) = (params.len(), outcomes + rungs.len());
        Sensitivity {
            runs: 0,
            bin_runs: vec![0; n * BINS],
            counts: vec![0; cells * n * BINS],
            sum_f: vec![0; n],
            sum_f2: vec![0; n],
            sum_fy: vec![0; cells * n],
            scratch: Scratch {
                f: vec![0; LANES * n],
                bins: vec![0; n * BINS],
                row: vec![0; n],
            },
            params,
            outcomes,
            rungs,
            steps,
            cdfs,
        }
    }

    /// Outcomes and rungs.
    pub fn cells(&self) -> usize {
        self.outcomes + self.rungs.len()
    }

    /// The runs of each fifth of param `p` in which cell `c` happened.
    pub fn counts_of(&self, c: usize, p: usize) -> &[u64] {
        &self.counts[(c * self.params.len() + p) * BINS..][..BINS]
    }

    /// The runs of each fifth of param `p`.
    pub fn runs_of(&self, p: usize) -> &[u64] {
        &self.bin_runs[p * BINS..][..BINS]
    }

    /// The runs in which cell `c` happened (the same for every param; 0 without params).
    pub fn happened(&self, c: usize) -> u64 {
        if self.params.is_empty() {
            return 0;
        }
        self.counts_of(c, 0).iter().sum()
    }

    /// True when the tables have the lengths the shape implies and the counts add up: every
    /// param's fifths hold all runs, no fifth has more runs of a cell than runs, every param
    /// counts a cell in as many runs, and no sum exceeds what its runs allow (guards merged
    /// shard files).
    pub fn is_well_formed(&self) -> bool {
        let n = self.params.len();
        let cells = self.outcomes.checked_add(self.rungs.len());
        let lengths = [
            (self.bin_runs.len(), n.checked_mul(BINS)),
            (
                self.counts.len(),
                cells.and_then(|c| c.checked_mul(n)).and_then(|c| c.checked_mul(BINS)),
            ),
            (self.sum_f.len(), Some(n)),
            (self.sum_f2.len(), Some(n)),
            (self.sum_fy.len(), cells.and_then(|c| c.checked_mul(n))),
        ];
        if lengths.iter().any(|&(len, expected)| Some(len) != expected) {
            return false;
        }
        let one = u128::from(F_ONE);
        let params_fit = (0..n).all(|p| {
            let runs = self.runs_of(p);
            runs.iter().try_fold(0u64, |sum, &r| sum.checked_add(r)) == Some(self.runs)
                && u128::from(self.runs)
                    .checked_mul(one)
                    .is_some_and(|most| self.sum_f[p] <= most)
                && self.sum_f[p]
                    .checked_mul(one)
                    .is_some_and(|most| self.sum_f2[p] <= most)
        });
        params_fit
            && (0..self.cells()).all(|c| {
                let total = self.happened(c);
                (0..n).all(|p| {
                    let counts = self.counts_of(c, p);
                    counts.iter().zip(self.runs_of(p)).all(|(count, runs)| count <= runs)
                        && counts.iter().try_fold(0u64, |sum, &k| sum.checked_add(k)) == Some(total)
                        && self.sum_fy[c * n + p] <= self.sum_f[p]
                })
            })
    }

    /// Adds another set of counts of the same shape.
    pub fn add(&mut self, other: &Sensitivity) {
        assert!(
            (&self.params, self.outcomes, &self.rungs, self.steps)
                == (&other.params, other.outcomes, &other.rungs, other.steps),
            "merging sensitivity counts of different shapes"
        );
        self.runs += other.runs;
        for (a, b) in self
            .bin_runs
            .iter_mut()
            .chain(&mut self.counts)
            .zip(other.bin_runs.iter().chain(&other.counts))
        {
            *a += b;
        }
        for (a, b) in self
            .sum_f
            .iter_mut()
            .chain(&mut self.sum_f2)
            .chain(&mut self.sum_fy)
            .zip(other.sum_f.iter().chain(&other.sum_f2).chain(&other.sum_fy))
        {
            *a += b;
        }
    }

    /// BLAKE3 of the shape, the param names, the run count and every table, little-endian.
    pub fn digest(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        for n in [self.params.len(), self.outcomes, self.rungs.len(), self.steps] {
            hasher.update(&(n as u64).to_le_bytes());
        }
        for name in &self.params {
            hasher.update(&(name.len() as u64).to_le_bytes());
            hasher.update(name.as_bytes());
        }
        for &k in &self.rungs {
            hasher.update(&(k as u64).to_le_bytes());
        }
        hasher.update(&self.runs.to_le_bytes());
        for n in self.bin_runs.iter().chain(&self.counts) {
            hasher.update(&n.to_le_bytes());
        }
        for n in self.sum_f.iter().chain(&self.sum_f2).chain(&self.sum_fy) {
            hasher.update(&n.to_le_bytes());
        }
        hasher.finalize().to_hex().to_string()
    }

    /// Step 0: each lane's fifth and `F` of every param.
    fn draws(&mut self, step: &Step<'_>) {
        let n = self.params.len();
        let Scratch { f, bins, .. } = &mut self.scratch;
        bins.fill(0);
        for (p, cdf) in self.cdfs.iter().enumerate() {
            let values = &step.slots[cdf.slot];
            for lane in lanes_of(step.lanes) {
                let v = values[lane];
                f[lane * n + p] = cdf.quantized(v);
                bins[p * BINS + cdf.bin(v)] |= 1 << lane;
            }
        }
    }

    /// The horizon: where each outcome held and each rung was reached.
    fn horizon(&mut self, step: &Step<'_>) {
        for o in 0..self.outcomes {
            self.count(o, step.outcome_seen[o] & step.lanes);
        }
        for r in 0..self.rungs.len() {
            let k = self.rungs[r];
            let reached = lanes_of(step.lanes)
                .filter(|&lane| step.max_level[lane] >= k)
                .fold(0u64, |mask, lane| mask | 1 << lane);
            self.count(self.outcomes + r, reached);
        }
    }

    /// Cell `c` happened in the lanes of `mask`.
    fn count(&mut self, c: usize, mask: u64) {
        if mask == 0 {
            return;
        }
        let n = self.params.len();
        let Scratch { f, bins, row } = &mut self.scratch;
        let counts = &mut self.counts[c * n * BINS..][..n * BINS];
        for (count, &bin) in counts.iter_mut().zip(bins.iter()) {
            *count += u64::from((mask & bin).count_ones());
        }
        // 64 lanes of at most 2^32 each fit in a u64: one u128 addition per param and batch.
        row.fill(0);
        for lane in lanes_of(mask) {
            for (sum, &x) in row.iter_mut().zip(&f[lane * n..][..n]) {
                *sum += x;
            }
        }
        for (sum, &x) in self.sum_fy[c * n..][..n].iter_mut().zip(row.iter()) {
            *sum += u128::from(x);
        }
    }
}

impl Collector for Sensitivity {
    fn empty(&self) -> Self {
        Self::zero(
            self.params.clone(),
            self.outcomes,
            self.rungs.clone(),
            self.steps,
            Arc::clone(&self.cdfs),
        )
    }

    fn needs(&self) -> Needs {
        Needs {
            params: true,
            ..Needs::default()
        }
    }

    #[inline]
    fn step(&mut self, step: &Step<'_>) {
        if step.t == 0 {
            self.draws(step);
        }
        if step.t == self.steps {
            self.horizon(step);
        }
    }

    fn finish(&mut self, _first_run: u64, lanes: u64) {
        self.runs += u64::from(lanes.count_ones());
        let n = self.params.len();
        let Scratch { f, bins, .. } = &self.scratch;
        for (runs, &bin) in self.bin_runs.iter_mut().zip(bins.iter()) {
            *runs += u64::from((lanes & bin).count_ones());
        }
        for lane in lanes_of(lanes) {
            for (p, &x) in f[lane * n..][..n].iter().enumerate() {
                self.sum_f[p] += u128::from(x);
                self.sum_f2[p] += u128::from(x) * u128::from(x);
            }
        }
    }

    fn merge(&mut self, other: Self) {
        self.add(&other);
    }
}

/// `u128`s as decimal strings.
mod decimal {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(sums: &[u128], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(sums.iter().map(u128::to_string))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u128>, D::Error> {
        Vec::<String>::deserialize(deserializer)?
            .iter()
            .map(|s| s.parse().map_err(serde::de::Error::custom))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(distribution: Distribution, annual: Option<f64>) -> ParamModel {
        ParamModel {
            name: "x".into(),
            slot: 0,
            distribution,
            annual,
            region: 0,
        }
    }

    #[test]
    fn cdfs_match_known_values() {
        let uniform = Distribution::Uniform { min: 2.0, max: 6.0 };
        assert_eq!(cdf(&uniform, 3.0), 0.25);
        assert_eq!((cdf(&uniform, 1.0), cdf(&uniform, 7.0)), (0.0, 1.0));
        let triangular = Distribution::Triangular {
            min: 0.0,
            mode: 1.0,
            max: 4.0,
        };
        // Left of the mode (x - min)² / ((max - min)(mode - min)); right 1 - (max - x)² / ...
        assert_eq!(cdf(&triangular, 0.5), 0.0625);
        assert_eq!(cdf(&triangular, 1.0), 0.25);
        assert_eq!(cdf(&triangular, 2.0), 1.0 - 4.0 / 12.0);
        // Beta(2, 3): I_x = 6x² - 8x³ + 3x⁴; at 0.5, 11/16.
        let beta = |alpha, beta, min, max| Distribution::Beta { alpha, beta, min, max };
        assert!((cdf(&beta(2.0, 3.0, 0.0, 1.0), 0.5) - 11.0 / 16.0).abs() < 1e-14);
        assert!((cdf(&beta(2.0, 3.0, 10.0, 20.0), 12.0) - (6.0 * 0.04 - 8.0 * 0.008 + 3.0 * 0.0016)).abs() < 1e-14);
        // Beta(1/2, 1/2) is the arcsine law: F(x) = 2/π asin(√x); F(1/4) = 1/3.
        assert!((cdf(&beta(0.5, 0.5, 0.0, 1.0), 0.25) - 1.0 / 3.0).abs() < 1e-12);
        // Symmetric shapes put the median at the middle.
        assert!((cdf(&beta(6.0, 6.0, 0.0, 1.0), 0.5) - 0.5).abs() < 1e-14);
    }

    #[test]
    fn fifths_are_the_quintiles_of_the_distribution() {
        let cdf = Cdf::of(&param(Distribution::Uniform { min: 0.0, max: 1.0 }, None)).unwrap();
        assert_eq!(cdf.quintiles, [0.2, 0.4, 0.6, 0.8]);
        assert_eq!(
            (cdf.bin(0.0), cdf.bin(0.1999), cdf.bin(0.2), cdf.bin(0.99), cdf.bin(1.0)),
            (0, 0, 1, 4, 4)
        );
        // PERT(0.1, 0.2, 0.4) is Beta(7/3, 11/3) on [0.1, 0.4].
        let pert = Distribution::Beta {
            alpha: 7.0 / 3.0,
            beta: 11.0 / 3.0,
            min: 0.1,
            max: 0.4,
        };
        for annual in [None, Some(12.0)] {
            let c = Cdf::of(&param(pert.clone(), annual)).unwrap();
            let draw = |v: f64| annual.map_or(v, |n| 1.0 - (1.0 - v).powf(n));
            for (j, &q) in c.quintiles.iter().enumerate() {
                let target = (j + 1) as f64 / 5.0;
                assert!(super::cdf(&pert, draw(q)) >= target, "{annual:?} {j}");
                assert!(super::cdf(&pert, draw(q.next_down())) < target, "{annual:?} {j}");
            }
            // The interpolated F is within 1e-5 of the exact one across the range.
            for i in 0..=1000 {
                let x = 0.1 + 0.3 * i as f64 / 1000.0;
                let v = annual.map_or(x, |n| crate::model::per_step(x, n));
                let exact = super::cdf(&pert, x);
                let table = c.quantized(v) as f64 / F_ONE as f64;
                assert!((table - exact).abs() < 1e-5, "{annual:?} {x}: {table} vs {exact}");
            }
        }
        assert!(Cdf::of(&param(Distribution::Fixed(0.3), None)).is_none());
    }

    #[test]
    fn damaged_counts_are_not_well_formed() {
        let mut s = Sensitivity::zero(vec!["a".into(), "b".into()], 1, vec![1], 3, Arc::default());
        s.runs = 2;
        s.bin_runs = vec![1, 0, 0, 1, 0, 0, 2, 0, 0, 0];
        s.counts[0] = 1; // outcome, param a, fifth 1
        s.counts[BINS + 1] = 1; // outcome, param b, fifth 2
        s.sum_f = vec![F_ONE as u128, F_ONE as u128];
        s.sum_f2 = vec![F_ONE as u128 * F_ONE as u128 / 2; 2];
        s.sum_fy[0] = 5;
        assert!(s.is_well_formed());
        let mut damaged = s.clone();
        damaged.counts[BINS + 1] = 0;
        assert!(!damaged.is_well_formed(), "params disagree on the runs of a cell");
        let mut damaged = s.clone();
        damaged.bin_runs[0] = 2;
        assert!(!damaged.is_well_formed(), "a param's fifths hold more runs than ran");
        let mut damaged = s.clone();
        damaged.sum_fy[1] = F_ONE as u128 + 1;
        assert!(!damaged.is_well_formed(), "a cell's sum exceeds the param's");
        let mut damaged = s.clone();
        damaged.counts.pop();
        assert!(!damaged.is_well_formed());
        // Sums past 64 bits survive a trip through JSON, also through serde_json's `Value`.
        s.sum_f2[1] = u128::MAX;
        let value: serde_json::Value = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        let back: Sensitivity = serde_json::from_value(value).unwrap();
        assert_eq!(back, s);
    }
}
