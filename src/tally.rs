//! Integer tallies: the collectors every `sim run` feeds, and what shards exchange.
//!
//! In: the steps of runs, from either engine of `simulate` (the [`Collector`] seam), or the
//! parts of a sharded job. Out: plain counts, merged by addition. Integers make merging exact
//! and order-free, so the result is the same for any thread count or shard split; `aggregate`
//! turns counts into probabilities.
//!
//! [`Tallies`] counts levels, outcomes and firings step by step; [`precursors::Precursors`]
//! counts which triggers fired before each outcome first held; [`paths::Paths`], the chains of
//! triggers that led to each outcome; [`lift::Lift`], how often each outcome happened with and
//! without each trigger; [`sensitivity::Sensitivity`], each outcome and rung per fifth of each
//! uncertain param's distribution.

use serde::{Deserialize, Serialize};

use crate::model::Model;
use crate::simulate::{Collector, Step, lanes_of};

pub mod discordant;
pub mod lift;
pub mod paired;
pub mod paths;
pub mod precursors;
pub mod sensitivity;

/// The shape of a scenario's tallies: every table is `(steps + 1) x width`, row `t` for step `t`
/// (row 0 is the initial state).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    pub steps: usize,
    pub levels: usize,
    pub outcomes: usize,
    pub triggers: usize,
}

/// Counts over a set of runs. All tables but `trigger_firings` are row-major, `(steps + 1)`
/// rows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tallies {
    pub shape: Shape,
    /// Number of runs counted.
    pub runs: u64,
    /// Runs at level `k` at step `t`.
    pub level_at: Vec<u64>,
    /// Runs whose highest level so far (steps `0..=t`) is exactly `k`.
    pub max_level_at: Vec<u64>,
    /// Runs in which outcome `o` holds at step `t`.
    pub outcome_holds: Vec<u64>,
    /// Runs in which outcome `o` held at some step `0..=t` (step 0, the initial state, included:
    /// "by t" means at or before step t).
    pub outcome_by: Vec<u64>,
    /// Runs in which trigger `i` fired at some step `0..=t` (triggers first fire at step 1, so
    /// row 0 is 0).
    pub trigger_fired_by: Vec<u64>,
    /// Total number of firings of trigger `i`, over all runs and steps.
    pub trigger_firings: Vec<u64>,
}

impl Shape {
    /// The shape of `model`'s tallies.
    pub fn of(model: &Model) -> Shape {
        Shape {
            steps: model.steps,
            levels: model.levels,
            outcomes: model.outcomes.len(),
            triggers: model.triggers.len(),
        }
    }
}

impl Tallies {
    pub fn zero(shape: Shape) -> Self {
        let rows = shape.steps + 1;
        let table = |width: usize| vec![0; width];
        Tallies {
            shape,
            runs: 0,
            level_at: table(rows * shape.levels),
            max_level_at: table(rows * shape.levels),
            outcome_holds: table(rows * shape.outcomes),
            outcome_by: table(rows * shape.outcomes),
            trigger_fired_by: table(rows * shape.triggers),
            trigger_firings: table(shape.triggers),
        }
    }

    /// The tables in declaration order.
    pub fn tables(&self) -> [&Vec<u64>; 6] {
        [
            &self.level_at,
            &self.max_level_at,
            &self.outcome_holds,
            &self.outcome_by,
            &self.trigger_fired_by,
            &self.trigger_firings,
        ]
    }

    pub fn tables_mut(&mut self) -> [&mut Vec<u64>; 6] {
        [
            &mut self.level_at,
            &mut self.max_level_at,
            &mut self.outcome_holds,
            &mut self.outcome_by,
            &mut self.trigger_fired_by,
            &mut self.trigger_firings,
        ]
    }

    /// True when every table has the length the shape implies (guards merged shard files).
    pub fn is_well_formed(&self) -> bool {
        // Computed, not allocated: the shape may come from a damaged file.
        let shape = self.shape;
        let cells = |width: usize| shape.steps.checked_add(1).and_then(|rows| rows.checked_mul(width));
        let widths = [
            cells(shape.levels),
            cells(shape.levels),
            cells(shape.outcomes),
            cells(shape.outcomes),
            cells(shape.triggers),
            Some(shape.triggers),
        ];
        self.tables()
            .iter()
            .zip(widths)
            .all(|(table, expected)| Some(table.len()) == expected)
    }

    /// Adds another set of counts of the same shape.
    pub fn merge(mut self, other: &Tallies) -> Self {
        self.add(other);
        self
    }

    fn add(&mut self, other: &Tallies) {
        assert_eq!(self.shape, other.shape, "merging tallies of different shapes");
        self.runs += other.runs;
        for (mine, theirs) in self.tables_mut().into_iter().zip(other.tables()) {
            for (a, b) in mine.iter_mut().zip(theirs) {
                *a += b;
            }
        }
    }

    /// BLAKE3 of the shape, run count and every table as little-endian u64, in declaration
    /// order: two tallies have the same digest exactly when they hold the same counts.
    pub fn digest(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        let s = self.shape;
        for n in [s.steps, s.levels, s.outcomes, s.triggers] {
            hasher.update(&(n as u64).to_le_bytes());
        }
        hasher.update(&self.runs.to_le_bytes());
        for table in self.tables() {
            for n in table {
                hasher.update(&n.to_le_bytes());
            }
        }
        hasher.finalize().to_hex().to_string()
    }
}

impl Collector for Tallies {
    fn empty(&self) -> Self {
        Tallies::zero(self.shape)
    }

    #[inline]
    fn step(&mut self, step: &Step<'_>) {
        let (t, shape, lanes) = (step.t, self.shape, step.lanes);
        let count = |mask: u64| u64::from((mask & lanes).count_ones());
        for lane in lanes_of(lanes) {
            self.level_at[t * shape.levels + step.level(lane)] += 1;
            self.max_level_at[t * shape.levels + step.max_level[lane]] += 1;
        }
        let row = t * shape.outcomes;
        for (o, (&holds, &seen)) in step.outcome_holds.iter().zip(step.outcome_seen).enumerate() {
            self.outcome_holds[row + o] += count(holds);
            self.outcome_by[row + o] += count(seen);
        }
        let row = t * shape.triggers;
        for (i, (&firing, &fired)) in step.firing.iter().zip(step.fired).enumerate() {
            self.trigger_fired_by[row + i] += count(fired);
            self.trigger_firings[i] += count(firing);
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

    fn shape() -> Shape {
        Shape {
            steps: 2,
            levels: 3,
            outcomes: 1,
            triggers: 2,
        }
    }

    #[test]
    fn merge_adds_counts_and_runs() {
        let mut a = Tallies::zero(shape());
        a.runs = 2;
        a.level_at[0] = 2;
        let mut b = Tallies::zero(shape());
        b.runs = 3;
        b.level_at[0] = 3;
        b.trigger_firings[1] = 7;
        let m = a.merge(&b);
        assert_eq!(m.runs, 5);
        assert_eq!(m.level_at[0], 5);
        assert_eq!(m.trigger_firings, vec![0, 7]);
    }

    #[test]
    fn digest_changes_with_any_count() {
        let a = Tallies::zero(shape());
        let mut b = a.clone();
        b.outcome_by[2] = 1;
        assert_ne!(a.digest(), b.digest());
        assert_eq!(a.digest(), Tallies::zero(shape()).digest());
    }
}
