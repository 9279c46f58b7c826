//! Trigger lift: how much more often an outcome happens in the runs where a trigger fired on
//! the way to it than in the runs where the trigger never fired. A collector.
//!
//! In: the steps of runs ([`Step`]). Out: for every outcome `o` and trigger `i`, integer counts
//! of runs:
//! - `before`: `o` happened, and `i` fired at or before the step `o` first held;
//! - `fired_without`: `o` never happened, and `i` fired at some step;
//! - `never_with`: `i` never fired, and `o` happened;
//! - and per trigger, `never`: the runs where it never fired.
//!
//! So P(o | i fired before `o`, or at all when `o` did not happen) is
//! `before / (before + fired_without)` and P(o | i never fired) is `never_with / never`; the
//! runs where `i` fired only after `o` first held are in neither group. The two are an
//! association in the simulated runs, not a cause: a trigger can go with an outcome because
//! both follow from the same draws. Every count is an integer, merged by addition.

use serde::{Deserialize, Serialize};

use super::Shape;
use crate::simulate::{Collector, Step};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lift {
    pub steps: usize,
    pub outcomes: usize,
    pub triggers: usize,
    /// Runs finished.
    pub runs: u64,
    /// `before[o * triggers + i]`.
    pub before: Vec<u64>,
    /// `fired_without[o * triggers + i]`.
    pub fired_without: Vec<u64>,
    /// `never_with[o * triggers + i]`.
    pub never_with: Vec<u64>,
    /// `never[i]`.
    pub never: Vec<u64>,
}

impl Lift {
    /// No runs yet, for tallies of shape `shape`.
    pub fn new(shape: Shape) -> Self {
        let cells = shape.outcomes * shape.triggers;
        Lift {
            steps: shape.steps,
            outcomes: shape.outcomes,
            triggers: shape.triggers,
            runs: 0,
            before: vec![0; cells],
            fired_without: vec![0; cells],
            never_with: vec![0; cells],
            never: vec![0; shape.triggers],
        }
    }

    /// The runs where trigger `i` fired (before `o`, or at all when `o` did not happen), and
    /// of them the runs where `o` happened; the runs where `i` never fired, and of them the
    /// runs where `o` happened.
    pub fn groups(&self, o: usize, i: usize) -> ((u64, u64), (u64, u64)) {
        let cell = o * self.triggers + i;
        (
            (self.before[cell] + self.fired_without[cell], self.before[cell]),
            (self.never[i], self.never_with[cell]),
        )
    }

    /// True when the tables have the lengths the shape implies and no count exceeds the runs
    /// (guards merged shard files).
    pub fn is_well_formed(&self) -> bool {
        let cells = self.outcomes.checked_mul(self.triggers);
        if [&self.before, &self.fired_without, &self.never_with]
            .iter()
            .any(|t| Some(t.len()) != cells)
            || self.never.len() != self.triggers
        {
            return false;
        }
        (0..self.outcomes).all(|o| {
            (0..self.triggers).all(|i| {
                let cell = o * self.triggers + i;
                let fired = self.before[cell].checked_add(self.fired_without[cell]);
                self.never_with[cell] <= self.never[i]
                    && fired
                        .and_then(|f| f.checked_add(self.never[i]))
                        .is_some_and(|n| n <= self.runs)
            })
        })
    }

    /// Adds another set of counts of the same shape.
    pub fn add(&mut self, other: &Lift) {
        assert!(
            (self.steps, self.outcomes, self.triggers) == (other.steps, other.outcomes, other.triggers),
            "merging lift counts of different shapes"
        );
        self.runs += other.runs;
        for (mine, theirs) in [
            (&mut self.before, &other.before),
            (&mut self.fired_without, &other.fired_without),
            (&mut self.never_with, &other.never_with),
            (&mut self.never, &other.never),
        ] {
            for (a, b) in mine.iter_mut().zip(theirs) {
                *a += b;
            }
        }
    }

    /// BLAKE3 of the shape, the run count and the tables as little-endian u64.
    pub fn digest(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        for n in [self.steps, self.outcomes, self.triggers] {
            hasher.update(&(n as u64).to_le_bytes());
        }
        hasher.update(&self.runs.to_le_bytes());
        for n in self
            .before
            .iter()
            .chain(&self.fired_without)
            .chain(&self.never_with)
            .chain(&self.never)
        {
            hasher.update(&n.to_le_bytes());
        }
        hasher.finalize().to_hex().to_string()
    }
}

impl Collector for Lift {
    fn empty(&self) -> Self {
        Lift {
            runs: 0,
            before: vec![0; self.before.len()],
            fired_without: vec![0; self.fired_without.len()],
            never_with: vec![0; self.never_with.len()],
            never: vec![0; self.never.len()],
            ..*self
        }
    }

    #[inline]
    fn step(&mut self, step: &Step<'_>) {
        for (o, &first) in step.outcome_first.iter().enumerate() {
            let first = first & step.lanes;
            if first == 0 {
                continue;
            }
            let counts = &mut self.before[o * self.triggers..][..self.triggers];
            for (count, &fired) in counts.iter_mut().zip(step.fired) {
                *count += u64::from((fired & first).count_ones());
            }
        }
        if step.t == self.steps {
            for (i, &fired) in step.fired.iter().enumerate() {
                let fired = fired & step.lanes;
                self.never[i] += u64::from((step.lanes & !fired).count_ones());
                for (o, &seen) in step.outcome_seen.iter().enumerate() {
                    let seen = seen & step.lanes;
                    let cell = o * self.triggers + i;
                    self.fired_without[cell] += u64::from((fired & !seen).count_ones());
                    self.never_with[cell] += u64::from((seen & !fired).count_ones());
                }
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

    #[test]
    fn damaged_counts_are_not_well_formed() {
        let shape = Shape {
            steps: 3,
            levels: 2,
            outcomes: 1,
            triggers: 2,
        };
        let mut lift = Lift::new(shape);
        lift.runs = 4;
        lift.before = vec![1, 0];
        lift.fired_without = vec![1, 0];
        lift.never = vec![2, 4];
        lift.never_with = vec![0, 1];
        assert!(lift.is_well_formed());
        assert_eq!(lift.groups(0, 0), ((2, 1), (2, 0)));
        lift.never_with[1] = 5;
        assert!(
            !lift.is_well_formed(),
            "more runs with the outcome than without the trigger"
        );
        lift.never_with[1] = 1;
        lift.never[0] = 3;
        assert!(!lift.is_well_formed(), "more runs fired or not than were run");
        lift.never[0] = 2;
        lift.never.pop();
        assert!(!lift.is_well_formed());
    }
}
