//! Escalation paths: the chain of triggers that led to each outcome. A collector.
//!
//! In: the steps of runs ([`Step`]). Out: for every outcome, among the runs where it happened,
//! how many took each path, and when each element of a path happened. A run's path to outcome
//! `o` is the sequence of distinct triggers that fired at or before the step `o` first held,
//! in the order of their first firing (triggers that first fired at the same step: in
//! declaration order), restricted to the triggers that can move what `o` reads:
//!
//! - a trigger counts for `o` when one of its effects writes the escalation ladder, or a slot
//!   `o`'s condition reads (an actor's variable, or the trigger's own `fired.`/`count.`/
//!   `since.`; [`relevant_triggers`]);
//! - when no trigger does, every trigger counts (`fallback`), and the summary says so.
//!
//! A path keeps its first [`MAX_LEN`] elements; a longer one is counted as those and "more".
//!
//! Paths are counted in the runs of index below [`SAMPLE_RUNS`] (all runs of a smaller study):
//! every distinct path of those runs, exactly, with its timing. A fixed set of run indices, not
//! "the first runs seen", so the counts are the same for any thread count, chunking or shard
//! split, and merging is adding. That bounds memory whatever the run count: at most
//! `SAMPLE_RUNS` distinct paths per outcome, each with at most one timing count per element and
//! step, over at most [`TIMING_STEPS`] steps (a longer horizon counts every
//! [`timing_stride`]-th step). Past the sample the collector costs one comparison per step.
//!
//! Per lane the collector keeps, in scratch allocated once, the step at which each trigger
//! first fired: a path is put together only when an outcome first holds, once per run and
//! outcome, and counting it allocates only for a path or a step not seen before.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::lanes::LANES;
use crate::model::{Model, SLOT_ESCALATION};
use crate::simulate::{Collector, Step, lanes_of};

/// Elements kept of a path; a longer one ends in "more".
pub const MAX_LEN: usize = 12;

/// Paths are counted in the runs of index `0..SAMPLE_RUNS`.
pub const SAMPLE_RUNS: u64 = 100_000;

/// Distinct steps at which an element's timing is counted: for a horizon of more steps, a step
/// is counted as the multiple of [`timing_stride`] at or below it.
pub const TIMING_STEPS: usize = 64;

/// The steps between counted timings: 1 up to [`TIMING_STEPS`] - 1 steps.
pub fn timing_stride(steps: usize) -> usize {
    (steps + 1).div_ceil(TIMING_STEPS).max(1)
}

/// How many runs of `block` fall in the sample of runs `0..sample` paths are counted in.
pub fn sampled_in(block: std::ops::Range<u64>, sample: u64) -> u64 {
    block.end.min(sample).saturating_sub(block.start)
}

/// Per outcome, the triggers its paths are made of (ascending), and whether that is every
/// trigger because none writes what the outcome reads (see the module header).
pub fn relevant_triggers(model: &Model) -> Vec<(Vec<u16>, bool)> {
    model
        .outcomes
        .iter()
        .map(|outcome| {
            let mut reads = vec![false; model.slot_names.len().max(model.initial_slots.len())];
            outcome.when.for_each_read(&model.code, &mut |slot, _| {
                if let Some(read) = reads.get_mut(slot as usize) {
                    *read = true;
                }
            });
            let read = |slot: u32| reads.get(slot as usize).copied().unwrap_or(false);
            let relevant: Vec<u16> = model
                .triggers
                .iter()
                .enumerate()
                .filter(|(_, trigger)| {
                    model.effects[trigger.effects.clone()]
                        .iter()
                        .any(|effect| effect.slot == SLOT_ESCALATION || read(effect.slot))
                        || [trigger.fired_slot, trigger.count_slot, trigger.since_slot]
                            .into_iter()
                            .any(read)
                })
                .map(|(i, _)| i as u16)
                .collect();
            if relevant.is_empty() {
                ((0..model.triggers.len() as u16).collect(), true)
            } else {
                (relevant, false)
            }
        })
        .collect()
}

/// A path as stored: its length (or `MAX_LEN + 1` when cut), then its triggers, then zeros.
/// Keys compare by length first, then trigger by trigger: the order that decides which paths
/// are kept. A fixed array, so that counting a path seen before allocates nothing.
pub type PathKey = [u16; MAX_LEN + 1];

/// The key of `triggers` (at most [`MAX_LEN`] of them), cut when `more`.
pub fn key_of(triggers: &[u16], more: bool) -> PathKey {
    let mut key = [0; MAX_LEN + 1];
    key[0] = if more {
        MAX_LEN as u16 + 1
    } else {
        triggers.len() as u16
    };
    key[1..=triggers.len()].copy_from_slice(triggers);
    key
}

/// The runs that took one path, and when its elements first fired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathCount {
    pub runs: u64,
    /// `(element, step, runs)`, sorted: of those runs, how many fired the path's element-th
    /// trigger first at `step`.
    pub timing: Vec<(u16, u32, u64)>,
}

impl PathCount {
    fn add_timing(&mut self, element: u16, step: u32, runs: u64) {
        match self.timing.binary_search_by_key(&(element, step), |&(e, s, _)| (e, s)) {
            Ok(at) => self.timing[at].2 += runs,
            Err(at) => self.timing.insert(at, (element, step, runs)),
        }
    }

    /// The median step at which each element first fired (the lower median).
    pub fn median_steps(&self, elements: usize) -> Vec<u32> {
        (0..elements as u16)
            .map(|element| {
                let half = self.runs.div_ceil(2).max(1);
                let mut seen = 0;
                self.timing
                    .iter()
                    .filter(|&&(e, _, _)| e == element)
                    .find(|&&(_, _, n)| {
                        seen += n;
                        seen >= half
                    })
                    .map_or(0, |&(_, step, _)| step)
            })
            .collect()
    }
}

/// One outcome's paths.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutcomePaths {
    /// The triggers paths are made of, ascending.
    pub relevant: Vec<u16>,
    /// True when no trigger writes what the outcome reads, so every trigger counts.
    pub fallback: bool,
    /// Runs in which the outcome happened.
    pub reached: u64,
    /// The kept paths (at most `capacity`), smallest first.
    pub paths: BTreeMap<PathKey, PathCount>,
}

impl OutcomePaths {
    /// Counts `runs` runs on `key`.
    fn count(&mut self, key: &PathKey, runs: u64, timing: impl Iterator<Item = (u16, u32, u64)>) {
        self.reached += runs;
        let count = self.paths.entry(*key).or_default();
        count.runs += runs;
        timing.for_each(|(e, s, n)| count.add_timing(e, s, n));
    }
}

/// Per-worker scratch: per trigger, the lanes where it has fired in this batch, and per
/// trigger and lane the step it first fired at.
#[derive(Clone, Debug, Default)]
struct Scratch {
    seen: Vec<u64>,
    first_step: Vec<u32>,
    /// The triggers some outcome's paths are made of.
    watched: Vec<u16>,
    path: Vec<(u32, u16)>,
    key: PathKey,
}

/// The counts. Compared, merged and written without the scratch.
#[derive(Clone, Debug)]
pub struct Paths {
    pub steps: usize,
    pub triggers: usize,
    /// Paths are counted in the runs `0..sample_runs` ([`SAMPLE_RUNS`]; smaller in tests).
    pub sample_runs: u64,
    /// Runs of the sample finished.
    pub runs: u64,
    pub outcomes: Vec<OutcomePaths>,
    scratch: Scratch,
}

impl PartialEq for Paths {
    fn eq(&self, other: &Self) -> bool {
        (self.steps, self.triggers, self.sample_runs, self.runs, &self.outcomes)
            == (
                other.steps,
                other.triggers,
                other.sample_runs,
                other.runs,
                &other.outcomes,
            )
    }
}

impl Eq for Paths {}

impl Paths {
    /// No runs yet, for `model`'s outcomes and triggers.
    pub fn new(model: &Model) -> Self {
        let outcomes = relevant_triggers(model)
            .into_iter()
            .map(|(relevant, fallback)| OutcomePaths {
                relevant,
                fallback,
                ..Default::default()
            })
            .collect();
        Self::with_outcomes(model.steps, model.triggers.len(), SAMPLE_RUNS, outcomes)
    }

    fn with_outcomes(steps: usize, triggers: usize, sample_runs: u64, outcomes: Vec<OutcomePaths>) -> Self {
        let mut watched: Vec<u16> = outcomes.iter().flat_map(|o| o.relevant.iter().copied()).collect();
        watched.sort_unstable();
        watched.dedup();
        Paths {
            steps,
            triggers,
            sample_runs,
            runs: 0,
            scratch: Scratch {
                seen: vec![0; triggers],
                first_step: vec![0; triggers * LANES],
                watched,
                path: Vec::with_capacity(triggers),
                key: [0; MAX_LEN + 1],
            },
            outcomes,
        }
    }

    /// True when the counts could come from runs of this shape: relevant triggers exist and
    /// are ascending, every path is made of distinct relevant triggers, is stored as its key
    /// says, its timing adds up to its runs at steps of the horizon, and no outcome counts more
    /// runs than there are (guards merged shard files).
    pub fn is_well_formed(&self) -> bool {
        self.runs <= self.sample_runs
            && self.outcomes.iter().all(|o| {
                let relevant_ok = o.relevant.windows(2).all(|w| w[0] < w[1])
                    && o.relevant.iter().all(|&i| usize::from(i) < self.triggers);
                let kept: Option<u64> = o.paths.values().try_fold(0u64, |sum, p| sum.checked_add(p.runs));
                relevant_ok
                    && o.reached <= self.runs
                    && kept == Some(o.reached)
                    && o.paths
                        .iter()
                        .all(|(key, count)| self.path_is_well_formed(o, key, count))
            })
    }

    fn path_is_well_formed(&self, outcome: &OutcomePaths, key: &PathKey, count: &PathCount) -> bool {
        if usize::from(key[0]) > MAX_LEN + 1 {
            return false;
        }
        let (triggers, more) = Self::triggers_of(key);
        let len_ok = key_of(triggers, more) == *key;
        let distinct = triggers
            .iter()
            .enumerate()
            .all(|(k, t)| !triggers[..k].contains(t) && outcome.relevant.binary_search(t).is_ok());
        let timing_ok = count.runs > 0
            && count.timing.windows(2).all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1))
            && count
                .timing
                .iter()
                .all(|&(e, s, _)| usize::from(e) < triggers.len() && s as usize <= self.steps)
            && (0..triggers.len() as u16).all(|e| {
                count
                    .timing
                    .iter()
                    .filter(|t| t.0 == e)
                    .try_fold(0u64, |sum, t| sum.checked_add(t.2))
                    == Some(count.runs)
            });
        len_ok && distinct && timing_ok
    }

    /// Whether these are the counts of a block of runs: the runs of the block in the sample.
    pub fn counts_block(&self, block: std::ops::Range<u64>) -> bool {
        self.runs == sampled_in(block, self.sample_runs)
    }

    /// Whether `other` counts paths of the same length through the same triggers in the same
    /// sample of runs, so the two can be added.
    pub fn counts_like(&self, other: &Paths) -> bool {
        (self.steps, self.triggers, self.sample_runs, self.outcomes.len())
            == (other.steps, other.triggers, other.sample_runs, other.outcomes.len())
            && self
                .outcomes
                .iter()
                .zip(&other.outcomes)
                .all(|(a, b)| (&a.relevant, a.fallback) == (&b.relevant, b.fallback))
    }

    /// Adds another set of counts of the same shape.
    pub fn add(&mut self, other: &Paths) {
        self.absorb(other.clone());
    }

    /// Adds another set of counts of the same shape, taking it: the paths of both are merged in
    /// order, in one pass.
    fn absorb(&mut self, other: Paths) {
        assert!(self.counts_like(&other), "merging paths of different shapes");
        self.runs += other.runs;
        for (mine, theirs) in self.outcomes.iter_mut().zip(other.outcomes) {
            assert_eq!(mine.relevant, theirs.relevant, "merging paths of different triggers");
            mine.reached += theirs.reached;
            if theirs.paths.is_empty() {
                continue;
            }
            if mine.paths.is_empty() {
                mine.paths = theirs.paths;
                continue;
            }
            let mut a = std::mem::take(&mut mine.paths).into_iter().peekable();
            let mut b = theirs.paths.into_iter().peekable();
            let merged = std::iter::from_fn(|| match (a.peek(), b.peek()) {
                (Some((x, _)), Some((y, _))) if x == y => {
                    let ((key, mut count), (_, other)) = (a.next()?, b.next()?);
                    count.runs += other.runs;
                    add_timing(&mut count.timing, &other.timing);
                    Some((key, count))
                }
                (Some((x, _)), Some((y, _))) if x > y => b.next(),
                (Some(_), _) => a.next(),
                (None, _) => b.next(),
            });
            // Both maps are in path order, so the merged sequence is too.
            mine.paths = merged.collect();
        }
    }

    /// BLAKE3 of the shape, the run count and every outcome's counts, as little-endian u64.
    pub fn digest(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        let mut put = |n: u64| {
            hasher.update(&n.to_le_bytes());
        };
        for n in [self.steps, self.triggers, self.outcomes.len()] {
            put(n as u64);
        }
        put(self.sample_runs);
        put(self.runs);
        for o in &self.outcomes {
            put(o.relevant.len() as u64);
            o.relevant.iter().for_each(|&i| put(u64::from(i)));
            put(u64::from(o.fallback));
            put(o.reached);
            put(o.paths.len() as u64);
            for (key, count) in &o.paths {
                key.iter().for_each(|&i| put(u64::from(i)));
                put(count.runs);
                put(count.timing.len() as u64);
                for &(e, s, n) in &count.timing {
                    put(u64::from(e));
                    put(u64::from(s));
                    put(n);
                }
            }
        }
        hasher.finalize().to_hex().to_string()
    }

    /// Paths made of every trigger of a model of shape `shape` that count `runs` runs in which
    /// no outcome happened, for tests that write tallies by hand.
    #[cfg(test)]
    pub(crate) fn of_shape(shape: super::Shape, runs: u64) -> Self {
        let all = OutcomePaths {
            relevant: (0..shape.triggers as u16).collect(),
            fallback: true,
            ..Default::default()
        };
        let mut paths = Self::with_outcomes(shape.steps, shape.triggers, SAMPLE_RUNS, vec![all; shape.outcomes]);
        paths.runs = runs;
        paths
    }

    /// The triggers of a kept path, and whether it was cut at [`MAX_LEN`].
    pub fn triggers_of(key: &PathKey) -> (&[u16], bool) {
        let len = usize::from(key[0]).min(MAX_LEN);
        (&key[1..=len], usize::from(key[0]) > MAX_LEN)
    }
}

impl Collector for Paths {
    fn empty(&self) -> Self {
        let outcomes = self
            .outcomes
            .iter()
            .map(|o| OutcomePaths {
                relevant: o.relevant.clone(),
                fallback: o.fallback,
                ..Default::default()
            })
            .collect();
        Self::with_outcomes(self.steps, self.triggers, self.sample_runs, outcomes)
    }

    #[inline]
    fn step(&mut self, step: &Step<'_>) {
        let lanes = step.lanes & sample_lanes(step.first_run, self.sample_runs);
        if lanes == 0 {
            return;
        }
        let scratch = &mut self.scratch;
        if step.t == 0 {
            // A new batch: no trigger fires at step 0.
            scratch.seen.fill(0);
            return;
        }
        for &i in &scratch.watched {
            let i = usize::from(i);
            let new = step.fired[i] & lanes & !scratch.seen[i];
            if new != 0 {
                scratch.seen[i] |= new;
                for lane in lanes_of(new) {
                    scratch.first_step[i * LANES + lane] = step.t as u32;
                }
            }
        }
        for (o, &first) in step.outcome_first.iter().enumerate() {
            // An outcome first holds once per run: most steps have nothing to count.
            let first = first & lanes;
            if first == 0 {
                continue;
            }
            let outcome = &mut self.outcomes[o];
            let stride = timing_stride(self.steps) as u32;
            for lane in lanes_of(first) {
                scratch.path.clear();
                scratch.path.extend(
                    outcome
                        .relevant
                        .iter()
                        .filter(|&&i| scratch.seen[usize::from(i)] >> lane & 1 == 1)
                        .map(|&i| (scratch.first_step[usize::from(i) * LANES + lane], i)),
                );
                scratch.path.sort_unstable();
                let len = scratch.path.len();
                let kept = len.min(MAX_LEN);
                let triggers = scratch.path[..kept].iter().map(|&(_, i)| i);
                scratch.key = [0; MAX_LEN + 1];
                scratch.key[0] = if len > MAX_LEN { MAX_LEN as u16 + 1 } else { len as u16 };
                for (slot, i) in scratch.key[1..].iter_mut().zip(triggers) {
                    *slot = i;
                }
                let timing = scratch.path[..kept]
                    .iter()
                    .enumerate()
                    .map(|(e, &(s, _))| (e as u16, s / stride * stride, 1));
                outcome.count(&scratch.key, 1, timing);
            }
        }
    }

    fn finish(&mut self, first_run: u64, lanes: u64) {
        let lanes = lanes & sample_lanes(first_run, self.sample_runs);
        self.runs += u64::from(lanes.count_ones());
    }

    fn merge(&mut self, other: Self) {
        self.absorb(other);
    }
}

/// The lanes of a batch from `first_run` whose runs are in the sample `0..sample`.
fn sample_lanes(first_run: u64, sample: u64) -> u64 {
    match sample.saturating_sub(first_run) {
        0 => 0,
        n if n >= LANES as u64 => u64::MAX,
        n => (1 << n) - 1,
    }
}

/// Adds sorted timing counts `b` to the sorted `a`: in place when `a` has every step `b` has
/// (most often, as tables grow), else by merging the two.
fn add_timing(a: &mut Vec<(u16, u32, u64)>, b: &[(u16, u32, u64)]) {
    let mut from = 0;
    for (k, &(e, s, n)) in b.iter().enumerate() {
        match a[from..].binary_search_by_key(&(e, s), |&(e, s, _)| (e, s)) {
            Ok(at) => {
                a[from + at].2 += n;
                from += at + 1;
            }
            Err(_) => {
                // Undo nothing: the counts added so far are kept, and the rest merged.
                *a = merge_timing(a, &b[k..]);
                return;
            }
        }
    }
}

/// Two sorted timing lists added up, sorted.
fn merge_timing(a: &[(u16, u32, u64)], b: &[(u16, u32, u64)]) -> Vec<(u16, u32, u64)> {
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = ((a[i].0, a[i].1), (b[j].0, b[j].1));
        if x == y {
            out.push((x.0, x.1, a[i].2 + b[j].2));
            i += 1;
            j += 1;
        } else if x < y {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// How paths are written in partial results: a list per outcome, smallest path first.
#[derive(Serialize, Deserialize)]
struct PathsFile {
    steps: usize,
    triggers: usize,
    sample_runs: u64,
    runs: u64,
    outcomes: Vec<OutcomeFile>,
}

/// A key as written (its length, then its triggers) read back; one that cannot be a key gets a
/// length [`Paths::is_well_formed`] refuses.
fn key_from_file(written: &[u16]) -> PathKey {
    let mut key = [0; MAX_LEN + 1];
    if written.is_empty() || written.len() > MAX_LEN + 1 {
        key[0] = u16::MAX;
    } else {
        key[..written.len()].copy_from_slice(written);
        if usize::from(key[0]).min(MAX_LEN) + 1 != written.len() {
            key[0] = u16::MAX;
        }
    }
    key
}

/// `(key, runs, timing)`.
type PathFile = (Vec<u16>, u64, Vec<(u16, u32, u64)>);

#[derive(Serialize, Deserialize)]
struct OutcomeFile {
    relevant: Vec<u16>,
    fallback: bool,
    reached: u64,
    paths: Vec<PathFile>,
}

impl Serialize for Paths {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        PathsFile {
            steps: self.steps,
            triggers: self.triggers,
            sample_runs: self.sample_runs,
            runs: self.runs,
            outcomes: self
                .outcomes
                .iter()
                .map(|o| OutcomeFile {
                    relevant: o.relevant.clone(),
                    fallback: o.fallback,
                    reached: o.reached,
                    paths: o
                        .paths
                        .iter()
                        .map(|(k, c)| {
                            let (triggers, _) = Paths::triggers_of(k);
                            (k[..=triggers.len()].to_vec(), c.runs, c.timing.clone())
                        })
                        .collect(),
                })
                .collect(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Paths {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let file = PathsFile::deserialize(deserializer)?;
        if file.triggers > usize::from(u16::MAX) || file.steps > u32::MAX as usize {
            return Err(serde::de::Error::custom("paths of a model larger than any scenario"));
        }
        let outcomes = file
            .outcomes
            .into_iter()
            .map(|o| OutcomePaths {
                relevant: o.relevant,
                fallback: o.fallback,
                reached: o.reached,
                paths: o
                    .paths
                    .into_iter()
                    .map(|(key, runs, timing)| (key_from_file(&key), PathCount { runs, timing }))
                    .collect(),
            })
            .collect();
        let mut paths = Paths::with_outcomes(file.steps, file.triggers, file.sample_runs, outcomes);
        paths.runs = file.runs;
        Ok(paths)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(relevant: &[u16]) -> OutcomePaths {
        OutcomePaths {
            relevant: relevant.to_vec(),
            ..Default::default()
        }
    }

    fn key(triggers: &[u16]) -> PathKey {
        key_of(triggers, false)
    }

    /// Counts each path of `runs` (one run each).
    fn table(runs: &[&[u16]]) -> OutcomePaths {
        let mut o = outcome(&[0, 1, 2, 3]);
        for path in runs {
            let timing = (0..path.len() as u16).map(|e| (e, u32::from(e) + 1, 1));
            o.count(&key(path), 1, timing);
        }
        o
    }

    #[test]
    fn paths_are_ordered_by_length_then_triggers() {
        let mut keys = [key(&[3]), key(&[0, 1]), key(&[1]), key(&[]), key(&[0, 0, 0])];
        keys.sort();
        assert_eq!(keys, [key(&[]), key(&[1]), key(&[3]), key(&[0, 1]), key(&[0, 0, 0])]);
        // A cut path sorts after every complete one.
        assert!(key_of(&[0; MAX_LEN], true) > key(&[3; MAX_LEN]));
    }

    /// Every path is counted exactly, whatever order the runs come in and however they are
    /// split and merged.
    #[test]
    fn counts_do_not_depend_on_order_or_split() {
        let runs: Vec<&[u16]> = vec![
            &[2, 1],
            &[0],
            &[3, 2, 1],
            &[2, 1],
            &[1],
            &[0],
            &[3],
            &[2, 1],
            &[1, 0, 3],
            &[0],
        ];
        let whole = table(&runs);
        assert_eq!(whole.reached, 10);
        let counted: Vec<(PathKey, u64)> = whole.paths.iter().map(|(k, c)| (*k, c.runs)).collect();
        assert_eq!(
            counted,
            [
                (key(&[0]), 3),
                (key(&[1]), 1),
                (key(&[3]), 1),
                (key(&[2, 1]), 3),
                (key(&[1, 0, 3]), 1),
                (key(&[3, 2, 1]), 1)
            ]
        );
        let mut reversed = runs.clone();
        reversed.reverse();
        assert_eq!(table(&reversed), whole);
        for split in 0..=runs.len() {
            let (a, b) = runs.split_at(split);
            let mut paths = Paths::with_outcomes(5, 4, SAMPLE_RUNS, vec![table(a)]);
            paths.add(&Paths::with_outcomes(5, 4, SAMPLE_RUNS, vec![table(b)]));
            assert_eq!(paths.outcomes[0], whole, "split at {split}");
        }
    }

    #[test]
    fn the_lanes_of_a_batch_in_the_sample() {
        assert_eq!(sample_lanes(0, 1000), u64::MAX);
        assert_eq!(sample_lanes(960, 1000), (1 << 40) - 1);
        assert_eq!(sample_lanes(1000, 1000), 0);
        assert_eq!(sample_lanes(5000, 1000), 0);
        assert_eq!(sampled_in(900..1100, 1000), 100);
        assert_eq!(sampled_in(1100..1200, 1000), 0);
        assert_eq!(sampled_in(0..10, 1000), 10);
    }

    /// A shipped scenario with paths counted in a sample of 1,000 runs: the runs past it add
    /// nothing, and the counts are the same for one piece of work or blocks (that cross the
    /// sample's end mid-batch) merged in any order, on one thread or two.
    #[test]
    fn the_sample_is_the_same_for_any_split_and_thread_count() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/baseline.toml");
        let model = crate::compile::compile(&crate::load::load(std::path::Path::new(path)).unwrap()).unwrap();
        let mut empty = Paths::new(&model);
        empty.sample_runs = 1000;
        let simd = crate::lanes::Simd::detect();
        let collect = |first: u64, count: u64, threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| crate::simulate::collect(&model, (3, first, count), &empty, simd, &|_| {}))
                .unwrap()
        };
        let whole = collect(0, 3000, 1);
        assert_eq!(whole.runs, 1000);
        assert_eq!(collect(0, 1000, 1), whole, "runs past the sample count nothing");
        assert!(
            whole.outcomes.iter().any(|o| o.paths.len() > 5),
            "{:?}",
            whole.outcomes.iter().map(|o| o.paths.len()).collect::<Vec<_>>()
        );
        assert_eq!(collect(0, 3000, 2), whole);
        let blocks = [collect(0, 990, 2), collect(990, 1110, 1), collect(2100, 900, 2)];
        assert!(
            blocks[0].counts_block(0..990) && blocks[1].counts_block(990..2100) && blocks[2].counts_block(2100..3000)
        );
        for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0]] {
            let mut merged = empty.empty();
            for k in order {
                merged.merge(blocks[k].clone());
            }
            assert_eq!(merged, whole, "blocks merged in the order {order:?}");
            assert_eq!(merged.digest(), whole.digest());
        }
    }

    #[test]
    fn the_median_step_of_each_element() {
        let mut count = PathCount::default();
        for (step_a, step_b) in [(1, 5), (2, 6), (2, 9)] {
            count.runs += 1;
            count.add_timing(0, step_a, 1);
            count.add_timing(1, step_b, 1);
        }
        assert_eq!(count.median_steps(2), [2, 6]);
    }

    #[test]
    fn damaged_counts_are_not_well_formed() {
        let mut o = table(&[&[0, 1], &[2]]);
        o.relevant = vec![0, 1, 2];
        let mut paths = Paths::with_outcomes(5, 4, SAMPLE_RUNS, vec![o]);
        paths.runs = 2;
        assert!(paths.is_well_formed());
        let mut more = paths.clone();
        more.runs = 1;
        assert!(!more.is_well_formed(), "more runs reached the outcome than were run");
        let mut foreign = paths.clone();
        foreign.outcomes[0].relevant = vec![0, 1];
        assert!(
            !foreign.is_well_formed(),
            "a path through a trigger that does not count"
        );
        let mut timing = paths.clone();
        timing.outcomes[0].paths.values_mut().next().unwrap().timing[0].2 = 2;
        assert!(
            !timing.is_well_formed(),
            "timing adds up to more runs than took the path"
        );
        let mut repeated = paths.clone();
        let count = repeated.outcomes[0].paths.pop_first().unwrap().1;
        repeated.outcomes[0].paths.insert(key(&[1, 1]), count);
        assert!(!repeated.is_well_formed(), "a trigger twice in a path");
        let mut dropped = paths.clone();
        dropped.outcomes[0].paths.pop_first();
        assert!(!dropped.is_well_formed(), "a run that reached the outcome on no path");
    }
}
