//! The plan of the lockstep engine: a [`Model`] in; what `batch` derives from it once per job
//! out: which programs a change of each slot can affect and how (`Watcher`s), which slots so many
//! programs read that a change marks them all, once per evaluation (`wide`), where `t` and the
//! `since.` counts cross a constant some program compares them with, the slots every run starts
//! from, and which params can be drawn late.

use super::collector::Needs;
use super::{on_step_basis, value_of};
use crate::eval::{Cmp, Node};
use crate::lanes::{Interval, Lanes, Simd, lanes_in};
use crate::model::{Distribution, Model, SLOT_T};

/// A set of small indices, one bit each.
#[derive(Clone, Debug)]
pub(super) struct Bits(pub(super) Vec<u64>);

/// What `simulate` derives once from a model: which cached values a change of each slot makes
/// stale.
///
/// Programs are numbered in three groups, each starting on a word of a [`Bits`] so that a
/// group can be scanned word by word: trigger `i`'s `when` is `i`, its probability `G + i`, and
/// outcome `o`'s `when` is `2G + o`, where `G` is the trigger count rounded up to 64.
pub(super) struct Plan {
    /// `G` above.
    group: usize,
    /// Words of a set of programs.
    pub(super) words: usize,
    /// `readers[slot * words..][..words]`: the programs that read `slot`.
    readers: Vec<u64>,
    /// Slots that advance by one every step, a row each: row 0 is `t`, row `1 + i` is trigger
    /// `i`'s `since.`. The programs that read them, with how they read them.
    watchers: Vec<Vec<Watcher>>,
    /// The programs that read each slot, with how they read it: a change of the slot makes
    /// stale only those for which it changes something (`Watcher::changes`).
    pub(super) slot_watchers: Vec<Vec<Watcher>>,
    /// `moves[row * (steps + 2) + n]`: going from `n - 1` to `n` may change a watcher of the row.
    pub(super) moves: Vec<bool>,
    pub(super) row_len: usize,
    /// Triggers whose `since.` some expression reads (effects included), or all of them if a
    /// collector needs them.
    pub(super) since_read: Vec<bool>,
    /// Triggers whose `count.` and `fired.` slots are kept: some expression reads them or a
    /// collector needs them, and (counts) the repeat budget is a number the engine counts to.
    /// A count not kept is that of a trigger that fires once or without bound, whose budget
    /// needs no count.
    pub(super) count_kept: Vec<bool>,
    pub(super) fired_kept: Vec<bool>,
    /// The slots every run starts from: the model's, with fixed params on the step basis.
    pub(super) start_slots: Vec<f64>,
    /// The params with draws (not fixed).
    pub(super) drawn_params: Vec<usize>,
    /// Params drawn only when a probability that reads them is first needed in a run, bit `b`
    /// standing for param `lazy_params[b]`: those only probabilities read, which a run often
    /// never needs. Their draws are addressed, so drawing late gives the same values.
    pub(super) lazy_params: Vec<usize>,
    /// `param_needs[i]`: the lazy params trigger `i`'s probability reads.
    pub(super) param_needs: Vec<u64>,
    /// Slots with more than [`WIDE_WATCHERS`] watchers: a change of one notes the lane, and
    /// before the next evaluation every reader is marked changed in the lanes noted, instead of
    /// each watcher at each change (and without the check whether its comparison turned). A
    /// step then costs at most one evaluation of each reader, however many firings change the
    /// slot: the cost per trigger and step does not grow with the number of triggers that read
    /// it (a ladder every trigger compares, variables that many triggers share).
    pub(super) wide: Vec<bool>,
    /// `kept[n]`: the mask of node `n`, a leaf of a `when` or an outcome (`slot <cmp> k`, or a
    /// slot read as a truth value), is kept up to date lane by lane as its slot changes
    /// (`Watcher::leaf`), so evaluating the condition reads it instead of comparing 64 lanes.
    /// Only slots that change through a watched write are kept: not `t`, the `since.` counts
    /// or params, which change otherwise, nor wide slots. `kept_leaves`: (node, slot, the
    /// watcher that keeps it), to compute them at the start of a batch.
    pub(super) kept: Vec<bool>,
    pub(super) kept_leaves: Vec<(u32, u32, Watcher)>,
    /// The index of the mask no condition reads: the node count.
    pub(super) no_leaf: u32,
    /// Per row of `watchers`, where each watcher turns: the `n` for which going from `n - 1` to
    /// `n` may change it (at most two: an interval is entered once and left once), or every `n`.
    turn_points: Vec<Vec<TurnPoints>>,
}

/// See [`Plan::wide`]. Marking watchers costs at each change, marking every reader once per
/// evaluation; above this many watchers, a slot that changes in several lanes a step (a
/// variable that many triggers move and read) is cheaper the second way. No shipped scenario
/// has a slot with more than 19.
const WIDE_WATCHERS: usize = 32;

/// Where a watcher of a slot that advances by one every step may change.
#[derive(Clone, Copy, Debug)]
enum TurnPoints {
    /// It uses the value: at every step.
    Always,
    /// Where the slot reaches one of these values (`usize::MAX` for none).
    At([usize; 2]),
}

/// A program reading a slot.
#[derive(Clone, Copy, Debug)]
pub(super) struct Watcher {
    pub(super) program: usize,
    /// Where the program only compares the slot with a constant there, the interval of that
    /// comparison ([`Cmp::as_interval`]): it turns where the slot enters or leaves it. Where
    /// the program uses the value, `by_value` is set, and the interval is that of a slot read
    /// as a truth value (zero, negated) or empty: it then plays no part in `changes`.
    pub(super) interval: Interval,
    pub(super) by_value: bool,
    /// The node of a condition's leaf whose mask the engine keeps (`Plan::kept`): bit `l` is
    /// `interval.contains(slot) != negated` in lane `l`. Else `Plan::no_leaf`, a mask no one
    /// reads, so that keeping masks takes no branch.
    pub(super) leaf: u32,
    pub(super) negated: bool,
}

impl Watcher {
    /// The watcher of `program`'s read of `slot` at `node`.
    fn new(program: usize, node: &Node, compare: Option<(Cmp, f64)>, no_leaf: u32) -> Self {
        let (interval, negated) = match (node, compare) {
            (_, Some((cmp, k))) => cmp.as_interval(k),
            (Node::Load(_), None) => (Interval::ZERO, true),
            _ => (Interval::EMPTY, false),
        };
        Watcher {
            program,
            interval,
            by_value: compare.is_none(),
            leaf: no_leaf,
            negated,
        }
    }

    /// Whether the program may change when the slot goes from `n - 1` to `n`.
    fn moves(self, n: usize) -> bool {
        self.changes(value_of(n - 1), value_of(n))
    }

    /// Whether the program may change when the slot goes from `old` to `new`: it uses the
    /// value, or its comparison of the slot with a constant turns. Without a branch: whether a
    /// comparison turns is data the processor cannot predict.
    #[inline]
    pub(super) fn changes(self, old: f64, new: f64) -> bool {
        self.by_value | (self.interval.contains(old) != self.interval.contains(new))
    }
}

impl TurnPoints {
    fn new(watcher: Watcher, row_len: usize) -> Self {
        if watcher.by_value {
            return TurnPoints::Always;
        }
        let mut points = [usize::MAX; 2];
        for (k, n) in (1..row_len).filter(|&n| watcher.moves(n)).enumerate() {
            // An interval is entered at most once and left at most once.
            assert!(k < 2, "a comparison with a constant turns at most twice");
            points[k] = n;
        }
        TurnPoints::At(points)
    }
}

impl Plan {
    /// The plan of `model` for collectors that need `needs`.
    pub(super) fn new(model: &Model, needs: Needs) -> Self {
        let triggers = model.triggers.len();
        let group = triggers.div_ceil(64) * 64;
        let programs = 2 * group + model.outcomes.len();
        let words = programs.div_ceil(64);
        let slots = model.initial_slots.len();
        let row_len = model.steps + 2;
        let mut row_of_slot = vec![None; slots];
        row_of_slot[SLOT_T as usize] = Some(0);
        for (i, trigger) in model.triggers.iter().enumerate() {
            row_of_slot[trigger.since_slot as usize] = Some(1 + i);
        }
        let mut plan = Plan {
            group,
            words,
            readers: vec![0; slots * words],
            watchers: vec![Vec::new(); 1 + triggers],
            slot_watchers: vec![Vec::new(); slots],
            moves: vec![false; (1 + triggers) * row_len],
            row_len,
            since_read: Vec::new(),
            count_kept: Vec::new(),
            fired_kept: Vec::new(),
            start_slots: model.initial_slots.clone(),
            drawn_params: Vec::new(),
            lazy_params: Vec::new(),
            param_needs: vec![0; triggers],
            turn_points: Vec::new(),
            wide: Vec::new(),
            kept: vec![false; model.code.len()],
            kept_leaves: Vec::new(),
            no_leaf: model.code.len() as u32,
        };
        let effects = model.effects.iter().map(|e| e.value);
        let programs = model.triggers.iter().flat_map(|t| [t.when, t.probability]);
        let outcomes = model.outcomes.iter().map(|o| o.when);
        let mut read = vec![false; slots];
        for program in programs.chain(outcomes).chain(effects) {
            program.for_each_read(&model.code, &mut |slot, _| read[slot as usize] = true);
        }
        plan.since_read = model
            .triggers
            .iter()
            .map(|t| needs.since || read[t.since_slot as usize])
            .collect();
        let budgeted = |max_firings: u32| max_firings != 1 && max_firings != u32::MAX;
        plan.count_kept = model
            .triggers
            .iter()
            .map(|t| needs.counts || read[t.count_slot as usize] || budgeted(t.max_firings))
            .collect();
        plan.fired_kept = model
            .triggers
            .iter()
            .map(|t| needs.counts || read[t.fired_slot as usize])
            .collect();
        let whens = model.triggers.iter().enumerate().map(|(i, t)| (i, t.when));
        let probabilities = model
            .triggers
            .iter()
            .enumerate()
            .map(|(i, t)| (group + i, t.probability));
        let outcomes = model.outcomes.iter().enumerate().map(|(o, x)| (2 * group + o, x.when));
        for (program, code) in whens.chain(probabilities).chain(outcomes) {
            // `when`s and outcomes are evaluated as masks, probabilities as values.
            let a_condition = !(group..2 * group).contains(&program);
            code.for_each_read_at(&model.code, &mut |node, slot, compared_with| {
                plan.readers[slot as usize * words + program / 64] |= 1 << (program % 64);
                let mut watcher = Watcher::new(program, &model.code[node as usize], compared_with, plan.no_leaf);
                if a_condition && matches!(model.code[node as usize], Node::Load(_) | Node::CompareSlot(..)) {
                    watcher.leaf = node;
                }
                plan.slot_watchers[slot as usize].push(watcher);
                if let Some(row) = row_of_slot[slot as usize] {
                    plan.watchers[row].push(watcher);
                    let moves = &mut plan.moves[row * row_len..(row + 1) * row_len];
                    for (n, moved) in moves.iter_mut().enumerate().skip(1) {
                        *moved |= watcher.moves(n);
                    }
                }
            });
        }
        plan.wide = plan.slot_watchers.iter().map(|w| w.len() > WIDE_WATCHERS).collect();
        let mut changed_otherwise: Vec<bool> = row_of_slot.iter().map(Option::is_some).collect();
        for param in &model.params {
            changed_otherwise[param.slot as usize] = true;
        }
        for (slot, watchers) in plan.slot_watchers.iter_mut().enumerate() {
            let keeps = !plan.wide[slot] && !changed_otherwise[slot];
            for watcher in watchers.iter_mut().filter(|w| w.leaf != plan.no_leaf) {
                if keeps {
                    plan.kept[watcher.leaf as usize] = true;
                    plan.kept_leaves.push((watcher.leaf, slot as u32, *watcher));
                } else {
                    watcher.leaf = plan.no_leaf;
                }
            }
        }
        plan.turn_points = plan
            .watchers
            .iter()
            .map(|row| row.iter().map(|&watcher| TurnPoints::new(watcher, row_len)).collect())
            .collect();
        plan.sort_params(model, needs);
        plan
    }

    /// Fixed params go into the start slots. Of the others, those only probabilities read are
    /// lazy, up to 64 of them, unless a collector needs every param; the rest are drawn when a
    /// batch starts.
    fn sort_params(&mut self, model: &Model, needs: Needs) {
        let mut param_of_slot = vec![None; model.initial_slots.len()];
        for (i, param) in model.params.iter().enumerate() {
            match param.distribution {
                Distribution::Fixed(value) => self.start_slots[param.slot as usize] = on_step_basis(param, value),
                _ => {
                    param_of_slot[param.slot as usize] = Some(i);
                    self.drawn_params.push(i);
                }
            }
        }
        let mut eager = vec![false; model.params.len()];
        let whens = model.triggers.iter().map(|t| t.when);
        let others = whens
            .chain(model.outcomes.iter().map(|o| o.when))
            .chain(model.effects.iter().map(|e| e.value));
        for program in others {
            program.for_each_read(&model.code, &mut |slot, _| {
                if let Some(i) = param_of_slot[slot as usize] {
                    eager[i] = true;
                }
            });
        }
        let mut bit_of_param = vec![None; model.params.len()];
        for &i in &self.drawn_params {
            if !eager[i] && !needs.params && self.lazy_params.len() < 64 {
                bit_of_param[i] = Some(self.lazy_params.len());
                self.lazy_params.push(i);
            }
        }
        for (i, trigger) in model.triggers.iter().enumerate() {
            let needs = &mut self.param_needs[i];
            trigger.probability.for_each_read(&model.code, &mut |slot, _| {
                if let Some(bit) = param_of_slot[slot as usize].and_then(|p| bit_of_param[p]) {
                    *needs |= 1 << bit;
                }
            });
        }
    }

    /// Number of trigger `i`'s probability.
    #[inline]
    pub(super) fn probability(&self, i: usize) -> usize {
        self.group + i
    }

    /// Number of outcome `o`'s `when`.
    #[inline]
    pub(super) fn outcome(&self, o: usize) -> usize {
        2 * self.group + o
    }

    #[inline]
    pub(super) fn readers(&self, slot: u32) -> &[u64] {
        &self.readers[slot as usize * self.words..][..self.words]
    }

    /// Marks stale the programs of `row` (`1 + i`: `since.` of trigger `i`) that may change
    /// where the row's slot, `values`, has just advanced by one in the lanes `advanced`: those
    /// that use the value, and those whose comparison turns in one of these lanes.
    #[inline]
    pub(super) fn advance_lanes(&self, row: usize, values: &Lanes, advanced: u64, stale: &mut Bits, simd: Simd) {
        let reached = |n: usize| {
            let n = value_of(n);
            lanes_in(values, Interval { lo: n, hi: n }, simd) & advanced != 0
        };
        for (watcher, points) in self.watchers[row].iter().zip(&self.turn_points[row]) {
            let turns = match *points {
                TurnPoints::Always => true,
                TurnPoints::At(points) => points.iter().any(|&n| n != usize::MAX && reached(n)),
            };
            stale.0[watcher.program / 64] |= u64::from(turns) << (watcher.program % 64);
        }
    }

    /// Marks stale the programs that may change when the slot of `row` goes from `n - 1` to
    /// `n`, and tells whether there were any; `row` 0 is `t`, `1 + i` is `since.` of trigger `i`.
    #[inline]
    pub(super) fn advance(&self, row: usize, n: usize, stale: &mut Bits) -> bool {
        let moves = self.moves[row * self.row_len + n];
        if moves {
            for watcher in &self.watchers[row] {
                stale.0[watcher.program / 64] |= u64::from(watcher.moves(n)) << (watcher.program % 64);
            }
        }
        moves
    }
}
