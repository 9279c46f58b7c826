//! Precursors: which triggers fired before each outcome first held. A collector.
//!
//! In: the steps of runs ([`Step`]: where each outcome holds for the first time, where each
//! trigger has fired so far). Out: integer counts, by step: for outcome `o`, trigger `i` and
//! step `s`, the runs in which `o` held by step `s` and `i` fired at or before the step at which
//! `o` first held ("before" includes that step: its firings come before its outcomes are
//! evaluated). Divided by the runs in which `o` held by `s`, it is the share of the runs
//! reaching the outcome that went through the trigger on the way.
//!
//! Counts are kept per span of steps, row `r` holding the runs in which the outcome first held
//! in `((r - 1) * stride, r * stride]` (row 0: at step 0), and added up row by row when they
//! are published; so every row merges by addition, exactly. The stride is 1 unless the table
//! would exceed [`MAX_CELLS`]: then every `stride`-th step and the horizon are kept, exact at
//! those steps, and memory stays bounded for the largest models.

use serde::{Deserialize, Serialize};

use super::Shape;
use crate::simulate::{Collector, Step};

/// At most this many counts of triggers per outcome and kept step (1.6 MB per worker, and as
/// many rows in `precursors.csv`), as for the per-step tables (`compile::MAX_TABLE_CELLS`),
/// except that step 0 and the horizon are always kept: at most 2 x 200 outcomes x 1,000
/// triggers.
pub const MAX_CELLS: usize = 200_000;

/// The counts; `rows` is `steps.div_ceil(stride) + 1`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Precursors {
    /// The horizon, and the steps between kept rows.
    pub steps: usize,
    pub stride: usize,
    pub outcomes: usize,
    pub triggers: usize,
    /// Runs finished.
    pub runs: u64,
    /// `first_held[r * outcomes + o]`: runs in which outcome `o` first held at a step of row
    /// `r`'s span.
    pub first_held: Vec<u64>,
    /// `fired_before[(r * outcomes + o) * triggers + i]`: of those, the runs in which trigger
    /// `i` fired at or before that step.
    pub fired_before: Vec<u64>,
}

impl Precursors {
    /// No runs yet, for tallies of shape `shape`.
    pub fn new(shape: Shape) -> Self {
        let stride = Self::stride_for(shape);
        let rows = shape.steps.div_ceil(stride) + 1;
        Precursors {
            steps: shape.steps,
            stride,
            outcomes: shape.outcomes,
            triggers: shape.triggers,
            runs: 0,
            first_held: vec![0; rows * shape.outcomes],
            fired_before: vec![0; rows * shape.outcomes * shape.triggers],
        }
    }

    /// The smallest stride whose rows fit in [`MAX_CELLS`], or failing that the horizon's: two
    /// rows, step 0 and the horizon.
    pub fn stride_for(shape: Shape) -> usize {
        let per_row = shape.outcomes.saturating_mul(shape.triggers).max(1);
        (1..=shape.steps.max(1))
            .find(|&stride| (shape.steps.div_ceil(stride) + 1).saturating_mul(per_row) <= MAX_CELLS)
            .unwrap_or(shape.steps.max(1))
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.steps.div_ceil(self.stride.max(1)) + 1
    }

    /// The step row `r` ends at.
    pub fn step_of_row(&self, r: usize) -> usize {
        (r * self.stride).min(self.steps)
    }

    /// True when the tables have the lengths the shape implies and no row adds up to more
    /// runs than there are (guards merged shard files).
    pub fn is_well_formed(&self) -> bool {
        if self.stride == 0 || self.steps.div_ceil(self.stride).checked_add(1).is_none() {
            return false;
        }
        let rows = self.rows();
        let cells = rows.checked_mul(self.outcomes);
        if cells != Some(self.first_held.len())
            || cells.and_then(|c| c.checked_mul(self.triggers)) != Some(self.fired_before.len())
        {
            return false;
        }
        (0..self.outcomes).all(|o| {
            let mut held = 0u64;
            (0..rows).all(|r| {
                let first = self.first_held[r * self.outcomes + o];
                let row = &self.fired_before[(r * self.outcomes + o) * self.triggers..][..self.triggers];
                held = held.saturating_add(first);
                row.iter().all(|&n| n <= first) && held <= self.runs
            })
        })
    }

    /// Adds another set of counts of the same shape.
    pub fn add(&mut self, other: &Precursors) {
        assert!(
            (self.steps, self.stride, self.outcomes, self.triggers)
                == (other.steps, other.stride, other.outcomes, other.triggers),
            "merging precursors of different shapes"
        );
        self.runs += other.runs;
        for (a, b) in self.first_held.iter_mut().zip(&other.first_held) {
            *a += b;
        }
        for (a, b) in self.fired_before.iter_mut().zip(&other.fired_before) {
            *a += b;
        }
    }

    /// BLAKE3 of the shape, the run count and both tables as little-endian u64.
    pub fn digest(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        for n in [self.steps, self.stride, self.outcomes, self.triggers] {
            hasher.update(&(n as u64).to_le_bytes());
        }
        hasher.update(&self.runs.to_le_bytes());
        for n in self.first_held.iter().chain(&self.fired_before) {
            hasher.update(&n.to_le_bytes());
        }
        hasher.finalize().to_hex().to_string()
    }
}

impl Collector for Precursors {
    fn empty(&self) -> Self {
        Precursors {
            runs: 0,
            first_held: vec![0; self.first_held.len()],
            fired_before: vec![0; self.fired_before.len()],
            ..*self
        }
    }

    #[inline]
    fn step(&mut self, step: &Step<'_>) {
        let row = step.t.div_ceil(self.stride);
        for (o, &first) in step.outcome_first.iter().enumerate() {
            // An outcome first holds once per run: most steps have nothing to count.
            let first = first & step.lanes;
            if first == 0 {
                continue;
            }
            let cell = row * self.outcomes + o;
            self.first_held[cell] += u64::from(first.count_ones());
            let counts = &mut self.fired_before[cell * self.triggers..][..self.triggers];
            for (count, &fired) in counts.iter_mut().zip(step.fired) {
                *count += u64::from((fired & first).count_ones());
            }
        }
    }

    fn finish(&mut self, _first_run: u64, lanes: u64) {
        self.runs += u64::from(lanes.count_ones());
    }

    fn merge(&mut self, other: Self) {
        self.add(&other);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(steps: usize, outcomes: usize, triggers: usize) -> Shape {
        Shape {
            steps,
            levels: 2,
            outcomes,
            triggers,
        }
    }

    #[test]
    fn every_step_is_kept_when_the_table_fits() {
        let p = Precursors::new(shape(36, 5, 22));
        assert_eq!((p.stride, p.rows()), (1, 37));
        assert_eq!(p.step_of_row(36), 36);
        assert!(p.is_well_formed());
    }

    #[test]
    fn large_tables_keep_every_stride_th_step_and_the_horizon() {
        // 20 outcomes x 1,000 triggers: 20,000 counts per row, so at most 10 rows.
        let p = Precursors::new(shape(1000, 20, 1000));
        assert_eq!((p.stride, p.rows()), (112, 10));
        let kept: Vec<usize> = (0..p.rows()).map(|r| p.step_of_row(r)).collect();
        assert_eq!(
            kept,
            [0, 112, 224, 336, 448, 560, 672, 784, 896, 1000],
            "the horizon is kept"
        );
        assert_eq!(p.fired_before.len(), MAX_CELLS);
        // A step is counted in the first kept row at or after it.
        assert_eq!(1usize.div_ceil(p.stride), 1);
        assert_eq!(112usize.div_ceil(p.stride), 1);
        assert_eq!(113usize.div_ceil(p.stride), 2);
        // The largest model the limits allow: step 0 and the horizon.
        let largest = Precursors::new(shape(10_000, 200, 1000));
        assert_eq!((largest.stride, largest.rows()), (10_000, 2));
    }

    #[test]
    fn damaged_counts_are_not_well_formed() {
        let mut p = Precursors::new(shape(2, 1, 2));
        p.runs = 3;
        p.first_held[1] = 2;
        p.fired_before[2] = 2;
        assert!(p.is_well_formed());
        p.fired_before[3] = 3;
        assert!(!p.is_well_formed(), "more runs fired before than reached the outcome");
        p.fired_before[3] = 0;
        p.first_held[2] = 2;
        assert!(!p.is_well_formed(), "more runs reached the outcome than were run");
        p.first_held[2] = 0;
        p.fired_before.pop();
        assert!(!p.is_well_formed());
    }
}
