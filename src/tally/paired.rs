//! Paired counts: a variant's runs against its base's runs of the same index. A pair collector.
//!
//! In: the steps of a variant's runs with the base's same steps ([`BaseStep`]). Out: integer
//! counts of the runs in which something happened in both: an outcome by step t and at step t,
//! a rung reached by t, a trigger fired by t. With each model's own tallies (the margins) they
//! give the four paired counts (both, variant only, base only, neither) of every cell, from
//! which `aggregate` computes the difference with its paired interval. Outcomes and triggers
//! are paired by id (a variant may add or drop some); the ladder is the same in both, since a
//! variant keeps its base's. At the horizon it also keeps, per outcome, the lowest runs where
//! the two disagree ([`Discordant`]), for a reader to follow with `sim trace --diff`.

use serde::{Deserialize, Serialize};

use super::discordant::Discordant;
use crate::model::Model;
use crate::simulate::{BaseStep, PairCollector, Step, lanes_of};

/// Counts over pairs of runs. Tables are row-major, `(steps + 1)` rows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paired {
    pub steps: usize,
    pub levels: usize,
    /// (variant index, base index) of every outcome and trigger the two share, in the
    /// variant's order.
    pub outcomes: Vec<(usize, usize)>,
    pub triggers: Vec<(usize, usize)>,
    /// Pairs of runs counted.
    pub runs: u64,
    /// Runs in which the outcome of pair `k` held at some step `0..=t` in both models.
    pub outcome_by: Vec<u64>,
    /// Runs in which it holds at step `t` in both.
    pub outcome_holds: Vec<u64>,
    /// Runs whose highest rung so far is exactly `k` in the one of the two where it is lower:
    /// rung `k` or higher is reached in both in the runs counted at `k` and above.
    pub lower_max_level_at: Vec<u64>,
    /// Runs in which the trigger of pair `k` fired at some step `0..=t` in both.
    pub trigger_fired_by: Vec<u64>,
    /// Per outcome pair, the lowest runs where it held by the horizon in one model only.
    pub discordant: Discordant,
}

impl Paired {
    /// No pairs yet, for `variant` against `base`.
    pub fn new(variant: &Model, base: &Model) -> Self {
        let by_id = |ids: &mut dyn Iterator<Item = &str>, base_ids: &[&str]| -> Vec<(usize, usize)> {
            ids.enumerate()
                .filter_map(|(v, id)| base_ids.iter().position(|b| *b == id).map(|b| (v, b)))
                .collect()
        };
        let base_outcomes: Vec<&str> = base.outcomes.iter().map(|o| o.id.as_str()).collect();
        let base_triggers: Vec<&str> = base.triggers.iter().map(|t| t.id.as_str()).collect();
        let outcomes = by_id(&mut variant.outcomes.iter().map(|o| o.id.as_str()), &base_outcomes);
        let triggers = by_id(&mut variant.triggers.iter().map(|t| t.id.as_str()), &base_triggers);
        let rows = variant.steps + 1;
        Paired {
            steps: variant.steps,
            levels: variant.levels,
            runs: 0,
            outcome_by: vec![0; rows * outcomes.len()],
            outcome_holds: vec![0; rows * outcomes.len()],
            lower_max_level_at: vec![0; rows * variant.levels],
            trigger_fired_by: vec![0; rows * triggers.len()],
            discordant: Discordant::new(outcomes.len()),
            outcomes,
            triggers,
        }
    }

    /// BLAKE3 of the shape, the pairs, the run count and every table as little-endian u64.
    pub fn digest(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        for n in [self.steps, self.levels, self.outcomes.len(), self.triggers.len()] {
            hasher.update(&(n as u64).to_le_bytes());
        }
        for &(v, b) in self.outcomes.iter().chain(&self.triggers) {
            hasher.update(&(v as u64).to_le_bytes());
            hasher.update(&(b as u64).to_le_bytes());
        }
        hasher.update(&self.runs.to_le_bytes());
        for table in [
            &self.outcome_by,
            &self.outcome_holds,
            &self.lower_max_level_at,
            &self.trigger_fired_by,
        ] {
            for n in table {
                hasher.update(&n.to_le_bytes());
            }
        }
        self.discordant.hash_into(&mut hasher);
        hasher.finalize().to_hex().to_string()
    }

    /// True when the counts fit a variant with `outcomes` outcomes, `triggers` triggers, `steps`
    /// steps and `levels` levels, over `runs` runs (guards merged shard files).
    pub fn fits(&self, steps: usize, levels: usize, outcomes: usize, triggers: usize, runs: u64) -> bool {
        let rows = steps + 1;
        let pairs_fit = |pairs: &[(usize, usize)], variant: usize| pairs.iter().all(|&(v, _)| v < variant);
        (self.steps, self.levels, self.runs) == (steps, levels, runs)
            && pairs_fit(&self.outcomes, outcomes)
            && pairs_fit(&self.triggers, triggers)
            && self.outcome_by.len() == rows * self.outcomes.len()
            && self.outcome_holds.len() == rows * self.outcomes.len()
            && self.lower_max_level_at.len() == rows * levels
            && self.trigger_fired_by.len() == rows * self.triggers.len()
            && [&self.outcome_by, &self.outcome_holds, &self.trigger_fired_by]
                .iter()
                .all(|table| table.iter().all(|&n| n <= runs))
            && self
                .lower_max_level_at
                .chunks(levels.max(1))
                .all(|row| row.iter().sum::<u64>() == runs)
    }

    fn tables_mut(&mut self) -> [&mut Vec<u64>; 4] {
        [
            &mut self.outcome_by,
            &mut self.outcome_holds,
            &mut self.lower_max_level_at,
            &mut self.trigger_fired_by,
        ]
    }
}

impl PairCollector for Paired {
    fn empty(&self) -> Self {
        let mut empty = self.clone();
        empty.runs = 0;
        for table in empty.tables_mut() {
            table.fill(0);
        }
        empty.discordant = self.discordant.empty();
        empty
    }

    #[inline]
    fn step(&mut self, variant: &Step<'_>, base: &BaseStep<'_>) {
        let (t, lanes) = (variant.t, variant.lanes);
        let count = |mask: u64| u64::from((mask & lanes).count_ones());
        let row = t * self.outcomes.len();
        for (k, &(v, b)) in self.outcomes.iter().enumerate() {
            self.outcome_by[row + k] += count(variant.outcome_seen[v] & base.outcome_seen[b]);
            self.outcome_holds[row + k] += count(variant.outcome_holds[v] & base.outcome_holds[b]);
        }
        if t == self.steps {
            for (k, &(v, b)) in self.outcomes.iter().enumerate() {
                let (mine, theirs) = (variant.outcome_seen[v] & lanes, base.outcome_seen[b] & lanes);
                if mine != theirs {
                    self.discordant
                        .add_masks(k, variant.first_run, mine & !theirs, theirs & !mine);
                }
            }
        }
        for lane in lanes_of(lanes) {
            let lower = variant.max_level[lane].min(base.max_level[lane]);
            self.lower_max_level_at[t * self.levels + lower] += 1;
        }
        let row = t * self.triggers.len();
        for (k, &(v, b)) in self.triggers.iter().enumerate() {
            self.trigger_fired_by[row + k] += count(variant.fired[v] & base.fired[b]);
        }
    }

    fn finish(&mut self, _first_run: u64, lanes: u64) {
        self.runs += u64::from(lanes.count_ones());
    }

    fn merge(&mut self, other: Self) {
        self.add(&other);
    }
}

impl Paired {
    /// Adds the counts of other runs of the same pair.
    pub fn add(&mut self, other: &Paired) {
        assert!(
            (self.steps, self.levels, &self.outcomes, &self.triggers)
                == (other.steps, other.levels, &other.outcomes, &other.triggers),
            "merging paired counts of different pairs"
        );
        self.runs += other.runs;
        let theirs = [
            &other.outcome_by,
            &other.outcome_holds,
            &other.lower_max_level_at,
            &other.trigger_fired_by,
        ];
        for (mine, theirs) in self.tables_mut().into_iter().zip(theirs) {
            for (a, b) in mine.iter_mut().zip(theirs.iter()) {
                *a += b;
            }
        }
        self.discordant.add(&other.discordant);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::difference::{PairedCounts, paired_difference, unpaired_difference};
    use crate::lanes::Simd;
    use crate::simulate::{Unobserved, collect_paired, replay};
    use crate::tally::{Shape, Tallies};

    fn model_of(text: &str) -> Model {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scenario.toml");
        std::fs::write(&path, text).unwrap();
        crate::compile::compile(&crate::load::load(&path).unwrap()).unwrap()
    }

    /// Trigger `x` with probability `p` per step over `steps` steps, then `extra` triggers, then
    /// `y`, which may repeat once `x` fired; outcome `o`: x fired.
    fn one_trigger(name: &str, p: f64, steps: usize, extra: &str) -> Model {
        model_of(&format!(
            "[scenario]\nname = \"{name}\"\nsteps = {steps}\nstep_unit = \"month\"\n\
             [escalation]\nlevels = [\"calm\", \"tense\", \"crisis\"]\ninitial = \"calm\"\n\
             [actors.a]\nname = \"A\"\n\
             [[triggers]]\nid = \"x\"\nlabel = \"x\"\nactor = \"a\"\nprobability = {p}\neffects = [\"escalation += 1\"]\n\
             {extra}\
             [[triggers]]\nid = \"y\"\nlabel = \"y\"\nactor = \"a\"\nwhen = \"fired.x\"\nprobability = 0.3\nrepeat = true\n\
             effects = [\"escalation += 1\"]\n\
             [[outcomes]]\nid = \"o\"\nlabel = \"x fired\"\nwhen = \"fired.x\"\n\
             [[outcomes]]\nid = \"top\"\nlabel = \"top\"\nwhen = \"escalation == 'crisis'\"\n"
        ))
    }

    /// The paired counts of runs `0..runs`, run by run with the plain engine: a cell counts in
    /// both when the one-run tallies of the variant and of the base both have it.
    fn reference(variant: &Model, base: &Model, seed: u64, runs: u64) -> Paired {
        let mut expected = Paired::new(variant, base);
        for run in 0..runs {
            let one = |model: &Model| {
                let mut tallies = Tallies::zero(Shape::of(model));
                replay(model, seed, run, &mut Unobserved, &mut tallies).unwrap();
                tallies
            };
            let (v, b) = (one(variant), one(base));
            let (vo, bo, vt, bt) = (
                variant.outcomes.len(),
                base.outcomes.len(),
                variant.triggers.len(),
                base.triggers.len(),
            );
            for t in 0..=variant.steps {
                for (k, &(i, j)) in expected.outcomes.iter().enumerate() {
                    let row = t * expected.outcomes.len() + k;
                    expected.outcome_by[row] += v.outcome_by[t * vo + i] * b.outcome_by[t * bo + j];
                    expected.outcome_holds[row] += v.outcome_holds[t * vo + i] * b.outcome_holds[t * bo + j];
                }
                for (k, &(i, j)) in expected.triggers.iter().enumerate() {
                    expected.trigger_fired_by[t * expected.triggers.len() + k] +=
                        v.trigger_fired_by[t * vt + i] * b.trigger_fired_by[t * bt + j];
                }
                let levels = variant.levels;
                let top = |tallies: &Tallies| {
                    (0..levels)
                        .find(|&k| tallies.max_level_at[t * levels + k] == 1)
                        .unwrap()
                };
                expected.lower_max_level_at[t * levels + top(&v).min(top(&b))] += 1;
            }
            let h = variant.steps;
            for (k, &(i, j)) in expected.outcomes.iter().enumerate() {
                let (mine, theirs) = (v.outcome_by[h * vo + i], b.outcome_by[h * bo + j]);
                let lists = &mut expected.discordant.runs[k];
                for (list, discordant) in lists.iter_mut().zip([mine > theirs, theirs > mine]) {
                    if discordant && list.len() < crate::tally::discordant::KEPT {
                        list.push(run);
                    }
                }
            }
            expected.runs += 1;
        }
        expected
    }

    #[test]
    fn lockstep_pairs_are_the_runs_paired_one_by_one() {
        let base = one_trigger("base", 0.10, 12, "");
        // A higher probability, and a trigger the base does not have, declared before `y`.
        let z = "[[triggers]]\nid = \"z\"\nlabel = \"z\"\nactor = \"a\"\nprobability = 0.2\neffects = [\"escalation -= 1\"]\n";
        let variant = one_trigger("variant", 0.12, 12, z);
        assert_eq!(
            Paired::new(&variant, &base).triggers,
            [(0, 0), (2, 1)],
            "x and y, by id"
        );
        let (shape, runs) = (Shape::of(&base), 300);
        for simd in Simd::available() {
            let (base_tallies, mut variants) = collect_paired(
                &base,
                &[&variant],
                (7, 0, runs),
                &(
                    Tallies::zero(shape),
                    vec![(Tallies::zero(Shape::of(&variant)), Paired::new(&variant, &base))],
                ),
                simd,
                &|_| {},
            )
            .unwrap();
            let (variant_tallies, paired) = variants.remove(0);
            assert_eq!(paired, reference(&variant, &base, 7, runs), "{simd}");
            assert!(
                paired.discordant.runs[0][0].len() == crate::tally::discordant::KEPT
                    && paired.discordant.runs[0][1].is_empty(),
                "x fired in the variant only in many runs, never in the base only: {:?}",
                paired.discordant
            );
            let alone = |model: &Model| {
                crate::simulate::collect(model, (7, 0, runs), &Tallies::zero(shape), simd, &|_| {}).unwrap()
            };
            assert_eq!(
                base_tallies,
                alone(&base),
                "the base's own tallies are those of a plain job"
            );
            let alone_variant = crate::simulate::collect(
                &variant,
                (7, 0, runs),
                &Tallies::zero(Shape::of(&variant)),
                simd,
                &|_| {},
            );
            assert_eq!(variant_tallies, alone_variant.unwrap());
        }
    }

    /// Blocks of runs simulated apart (as shards are) and added give the counts and the lowest
    /// discordant runs of the whole.
    #[test]
    fn blocks_add_up_to_the_whole_with_the_same_discordant_runs() {
        let base = one_trigger("base", 0.05, 12, "");
        let variant = one_trigger("variant", 0.06, 12, "");
        let empty = (
            Tallies::zero(Shape::of(&base)),
            vec![(Tallies::zero(Shape::of(&variant)), Paired::new(&variant, &base))],
        );
        let pairs = |first, count| {
            let (_, mut variants) =
                collect_paired(&base, &[&variant], (5, first, count), &empty, Simd::detect(), &|_| {}).unwrap();
            variants.remove(0).1
        };
        let whole = pairs(0, 2000);
        let lists = &whole.discordant.runs[0];
        assert!(lists[0].len() == 10 && lists[0][9] > 200, "{lists:?}");
        for split in [1, 64, 200, 1999] {
            let mut sum = pairs(split, 2000 - split);
            sum.add(&pairs(0, split));
            assert_eq!(sum, whole, "split at {split}");
        }
    }

    /// A variant that changes nothing but its name: every run is the same in both.
    #[test]
    fn an_identical_variant_has_no_discordant_run() {
        let base = one_trigger("base", 0.10, 12, "");
        let same = one_trigger("same", 0.10, 12, "");
        let runs = 200_000;
        let (base_tallies, mut variants) = collect_paired(
            &base,
            &[&same],
            (3, 0, runs),
            &(
                Tallies::zero(Shape::of(&base)),
                vec![(Tallies::zero(Shape::of(&same)), Paired::new(&same, &base))],
            ),
            Simd::detect(),
            &|_| {},
        )
        .unwrap();
        let (same_tallies, paired) = variants.remove(0);
        assert_eq!(same_tallies, base_tallies);
        assert_eq!(paired.discordant, crate::tally::discordant::Discordant::new(2));
        for (k, &(v, b)) in paired.outcomes.iter().enumerate() {
            for t in 0..=base.steps {
                let both = paired.outcome_by[t * paired.outcomes.len() + k];
                let margin = |tallies: &Tallies, o| tallies.outcome_by[t * 2 + o];
                let counts = PairedCounts::from_margins(both, margin(&same_tallies, v), margin(&base_tallies, b), runs);
                let counts = counts.unwrap();
                assert_eq!((counts.variant_only, counts.baseline_only), (0, 0), "step {t}");
                let d = paired_difference(counts);
                assert!(
                    d.diff == 0.0 && d.lo <= 0.0 && 0.0 <= d.hi && d.width() < 0.001,
                    "{d:?}"
                );
            }
        }
    }

    /// The closed-form pair of the paired-comparison issue: `x` with p = 0.10 per step in the base
    /// and 0.12 in the variant, over 12 steps. The exact difference of P(x fired by 12) lies in
    /// the paired 95% interval in at least 93% of 200 seeds, and the paired interval is at least
    /// twice as narrow as the unpaired one (about 2.4 times, by the exact variances).
    #[test]
    fn paired_intervals_cover_the_exact_difference_and_are_narrower() {
        let base = one_trigger("base", 0.10, 12, "");
        let variant = one_trigger("variant", 0.12, 12, "");
        let exact = (1.0 - 0.88f64.powi(12)) - (1.0 - 0.90f64.powi(12));
        let (runs, seeds) = (10_000, 200);
        let (mut covered, mut ratios) = (0, Vec::new());
        for seed in 0..seeds {
            let (base_tallies, mut variants) = collect_paired(
                &base,
                &[&variant],
                (seed, 0, runs),
                &(
                    Tallies::zero(Shape::of(&base)),
                    vec![(Tallies::zero(Shape::of(&variant)), Paired::new(&variant, &base))],
                ),
                Simd::detect(),
                &|_| {},
            )
            .unwrap();
            let (variant_tallies, paired) = variants.remove(0);
            let (t, o) = (12, 0);
            let (v, b) = (
                variant_tallies.outcome_by[t * 2 + o],
                base_tallies.outcome_by[t * 2 + o],
            );
            let counts = PairedCounts::from_margins(paired.outcome_by[t * 2 + o], v, b, runs).unwrap();
            assert_eq!(
                counts.baseline_only, 0,
                "x fires in the variant wherever it fires in the base"
            );
            let d = paired_difference(counts);
            covered += usize::from(d.lo <= exact && exact <= d.hi);
            ratios.push(unpaired_difference(v, b, runs).width() / d.width());
        }
        assert!(
            covered * 100 >= 93 * seeds as usize,
            "covered in {covered} of {seeds} seeds"
        );
        ratios.sort_by(f64::total_cmp);
        let median = ratios[ratios.len() / 2];
        assert!(
            ratios[0] >= 2.0 && (2.2..2.6).contains(&median),
            "unpaired/paired widths: min {}, median {median}",
            ratios[0]
        );
    }
}
