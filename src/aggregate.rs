//! Aggregation: integer tallies in, the published [`Summary`] out.
//!
//! In: [`Results`] (the tallies, precursors and sensitivity counted over all runs) and the
//! scenario's [`ScenarioInfo`].
//! Out: a [`Summary`] of probability tables, each probability with its count, the run count and
//! a Wilson 95% interval, rounded to the precision the run count supports (the probability to
//! nearest, the interval's bounds outward, so that the interval contains the data). `Summary` is the only
//! result type that is serialized; reports, plots and comparisons read it and nothing else.

use serde::{Deserialize, Serialize};

pub mod check;
pub mod difference;
pub mod lift;
pub mod paths;
pub mod sensitivity;

use crate::job::{Results, RunIdentity};
use crate::model::ScenarioInfo;
use crate::tally::paired::Paired;
use crate::tally::precursors::Precursors;

/// Bump when the meaning or layout of results changes: it is part of every input digest, so
/// pinned results from an older format are never silently compared with newer ones (nor shards
/// merged with them). 2: firing tests take their top 16 bits from half-words, so a block of a
/// trigger's draws serves 32 steps (docs/determinism.md).
pub const RESULT_FORMAT_VERSION: u32 = 2;

/// The two-sided 95% normal quantile.
const Z95: f64 = 1.959_963_984_540_054;

/// A probability estimated from `count` of the summary's `runs`, with its Wilson 95% interval.
/// `p`, `lo` and `hi` are rounded to [`Summary::decimals`] (`p` to nearest, `lo` down, `hi` up);
/// `count` is exact. Charts plot `count / runs` and the unrounded interval, not these.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub count: u64,
    pub p: f64,
    pub lo: f64,
    pub hi: f64,
}

/// One quantity over time: `points[t]` for `t` in `0..=steps`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub id: String,
    pub label: String,
    pub points: Vec<Estimate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tables {
    /// One series per level: P(run is at that level at step t).
    pub level_distribution: Vec<Series>,
    /// One series per rung above the initial one: P(rung >= k reached at some step <= t). The
    /// rungs from 1 to the initial one are reached at step 0 in every run (P = 1 at every t), so
    /// they are left out.
    pub rung_reached: Vec<Series>,
    /// One series per outcome: P(outcome held at some step 0..=t), the initial state included.
    pub outcome_by: Vec<Series>,
    /// One series per outcome: P(outcome holds at step t).
    pub outcome_holds: Vec<Series>,
    /// One series per trigger: P(trigger fired at some step <= t).
    pub trigger_fired_by: Vec<Series>,
    /// The distribution of the level at the horizon, one entry per level.
    pub final_level: Vec<Series>,
    /// Mean rung index (0 = first level) at each step, rounded to `decimals`.
    pub mean_level: Vec<f64>,
    /// Mean number of firings per run of each trigger, in declaration order.
    pub mean_firings: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub format_version: u32,
    /// `sim` name and version that produced the tallies.
    pub engine: String,
    pub scenario: ScenarioInfo,
    pub seed: u64,
    pub runs: u64,
    /// Digest of the canonical scenario after `extends`.
    pub scenario_digest: String,
    /// Digest of everything that determines the numbers: scenario, seed, runs, format version.
    pub input_digest: String,
    /// Digest of the integer tallies (see `Tallies::digest`).
    pub tallies_digest: String,
    /// Decimal places kept in probabilities (of a fraction, not a percentage).
    pub decimals: u32,
    pub tables: Tables,
    /// Which triggers fired before each outcome first held. Absent only in summaries written
    /// before it was counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precursors: Option<PrecursorTables>,
    /// For a variant simulated paired with the baseline (same seed and runs): the runs where
    /// each of its outcomes, rungs and triggers happened in the baseline too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paired: Option<PairedTables>,
    /// Set when the run count was chosen by `--precision` (`precision`): the rule and where it
    /// stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopping: Option<Stopping>,
    /// Each outcome's and rung's sensitivity to each uncertain param (`aggregate::sensitivity`);
    /// absent when the runs were simulated with `--no-analysis`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<sensitivity::SensitivityTables>,
    /// Each outcome's most frequent escalation paths; absent with `--no-analysis`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<paths::PathTables>,
    /// Each outcome's probability with and without each trigger; absent with `--no-analysis`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lift: Option<lift::LiftTables>,
}

/// How a study's run count was chosen, pinned in each summary.json.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stopping {
    /// The target half-width of the 95% interval.
    pub half_width: f64,
    /// The ids the target applies to (empty: every outcome and rung at the horizon).
    pub on: Vec<String>,
    pub min_runs: u64,
    pub max_runs: u64,
    /// The run counts checked, in order; the study stopped at the last.
    pub checkpoints: Vec<u64>,
    /// Whether the target was met (else the study stopped at `max_runs`).
    pub reached: bool,
    /// The widest interval checked at the last checkpoint: scenario id, outcome or rung id,
    /// and its half-width.
    pub widest: Widest,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Widest {
    pub scenario: String,
    pub id: String,
    pub half_width: f64,
}

/// The runs where something happened in a variant and in its baseline alike, run `i` against
/// run `i` (`tally::paired`). With each summary's own counts they are the four paired counts of
/// every cell, from which `aggregate::difference` gives the difference and its interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairedTables {
    /// The baseline's scenario id.
    pub baseline: String,
    /// One entry per series of the table of the same name that the baseline also has (by id),
    /// in the variant's order.
    pub outcome_by: Vec<PairedSeries>,
    pub outcome_holds: Vec<PairedSeries>,
    pub rung_reached: Vec<PairedSeries>,
    pub trigger_fired_by: Vec<PairedSeries>,
    /// Per outcome of `outcome_by`, the lowest runs where it held by the horizon in one of the
    /// two only. Absent only in summaries written before they were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discordant: Option<DiscordantRuns>,
}

/// The lowest runs (at most `kept` per list) where an outcome held by the horizon in the
/// variant and not in the baseline, and the reverse: runs to follow with `sim trace --diff`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiscordantRuns {
    pub kept: usize,
    /// One entry per series of `outcome_by`, in its order.
    pub outcomes: Vec<DiscordantOutcome>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiscordantOutcome {
    pub id: String,
    /// Ascending run indices.
    pub variant_only: Vec<u64>,
    pub baseline_only: Vec<u64>,
}

/// `both[t]`: the runs where the series' event happened by (or at) step `t` in both.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairedSeries {
    pub id: String,
    pub both: Vec<u64>,
}

/// The paired counts of a variant (`info`) against the baseline `baseline`.
pub fn paired_tables(info: &ScenarioInfo, paired: &Paired, baseline: &str) -> PairedTables {
    let rows = paired.steps + 1;
    let columns = |table: &[u64], ids: Vec<String>| -> Vec<PairedSeries> {
        let width = ids.len();
        ids.into_iter()
            .enumerate()
            .map(|(k, id)| PairedSeries {
                id,
                both: (0..rows).map(|t| table[t * width + k]).collect(),
            })
            .collect()
    };
    let outcome_ids = || {
        paired
            .outcomes
            .iter()
            .map(|&(v, _)| info.outcomes[v].id.clone())
            .collect()
    };
    let levels = paired.levels;
    PairedTables {
        baseline: baseline.to_string(),
        outcome_by: columns(&paired.outcome_by, outcome_ids()),
        outcome_holds: columns(&paired.outcome_holds, outcome_ids()),
        rung_reached: ((info.initial_level + 1)..levels)
            .map(|k| PairedSeries {
                id: info.levels[k].clone(),
                both: (0..rows)
                    .map(|t| paired.lower_max_level_at[t * levels + k..(t + 1) * levels].iter().sum())
                    .collect(),
            })
            .collect(),
        trigger_fired_by: columns(
            &paired.trigger_fired_by,
            paired
                .triggers
                .iter()
                .map(|&(v, _)| info.triggers[v].id.clone())
                .collect(),
        ),
        discordant: Some(DiscordantRuns {
            kept: paired.discordant.kept,
            outcomes: paired
                .outcomes
                .iter()
                .zip(&paired.discordant.runs)
                .map(|(&(v, _), [variant_only, baseline_only])| DiscordantOutcome {
                    id: info.outcomes[v].id.clone(),
                    variant_only: variant_only.clone(),
                    baseline_only: baseline_only.clone(),
                })
                .collect(),
        }),
    }
}

/// Which triggers fired before each outcome first held, by step (see `tally::precursors`).
/// Numbers only, in arrays: the table has outcomes x triggers x steps counts, so ids are
/// written once (`precursors.csv` has the same numbers a row each).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrecursorTables {
    /// The steps counted: every step, or for the largest models every `k`-th and the horizon.
    pub steps: Vec<usize>,
    /// The triggers, in declaration order: the order of every outcome's `fired_before`.
    pub triggers: Vec<String>,
    /// One entry per outcome, in declaration order.
    pub outcomes: Vec<OutcomePrecursors>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutcomePrecursors {
    pub outcome: String,
    /// Per step of `steps`: the runs in which the outcome held at some step up to it.
    pub runs: Vec<u64>,
    /// `fired_before[i][k]`: of `runs[k]`, the runs in which trigger `i` fired at or before the
    /// step at which the outcome first held.
    pub fired_before: Vec<Vec<u64>>,
    /// The share of each trigger at the horizon, with its interval; absent when no run reached
    /// the outcome.
    pub horizon: Option<HorizonShares>,
}

/// Each trigger's share of the runs that reached an outcome by the horizon: `fired_before[i]`'s
/// last count of `runs`, `p`, `lo` and `hi` rounded to the precision `runs` supports
/// ([`decimals_for`]), as an [`Estimate`] is to that of all runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HorizonShares {
    pub runs: u64,
    pub decimals: u32,
    pub p: Vec<f64>,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

/// A share of a subset of the runs: `count` of `runs`, `p`, `lo` and `hi` rounded to the
/// precision `runs` supports ([`decimals_for`]), as an [`Estimate`] is to that of all runs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShareEstimate {
    pub count: u64,
    pub runs: u64,
    pub decimals: u32,
    pub p: f64,
    pub lo: f64,
    pub hi: f64,
}

impl ShareEstimate {
    /// `count` of `runs` (`runs > 0`).
    pub fn new(count: u64, runs: u64) -> Self {
        let decimals = decimals_for(runs);
        let Estimate { count, p, lo, hi } = estimate(count, runs, decimals);
        ShareEstimate {
            count,
            runs,
            decimals,
            p,
            lo,
            hi,
        }
    }
}

impl Summary {
    /// P(outcome by step t), one series per outcome: what the report and the charts compare.
    pub fn outcome_table(&self) -> &[Series] {
        &self.tables.outcome_by
    }

    /// P(rung >= k reached by step t), one series per rung above the initial one.
    pub fn rung_table(&self) -> &[Series] {
        &self.tables.rung_reached
    }

    /// This summary's paired counts against `baseline`, when they were counted on its runs:
    /// named after it, with the same seed and run count. (Summaries read back by `sim compare`
    /// may come from different studies: a variant paired with a baseline run at another seed
    /// carries counts that say nothing about this one.)
    pub fn paired_with(&self, baseline: &Summary) -> Option<&PairedTables> {
        self.paired
            .as_ref()
            .filter(|p| p.baseline == baseline.scenario.id && self.seed == baseline.seed && self.runs == baseline.runs)
    }
}

/// Digest of everything that determines the numbers.
pub fn input_digest(scenario_digest: &str, seed: u64, runs: u64) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&RESULT_FORMAT_VERSION.to_le_bytes());
    hasher.update(scenario_digest.as_bytes());
    hasher.update(&seed.to_le_bytes());
    hasher.update(&runs.to_le_bytes());
    hasher.finalize().to_hex().to_string()
}

/// Wilson score interval at 95% for `count` successes in `runs` trials.
pub fn wilson(count: u64, runs: u64) -> (f64, f64) {
    if runs == 0 {
        return (0.0, 1.0);
    }
    let n = runs as f64;
    let p = count as f64 / n;
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    // At the boundaries the bounds are exactly 0 or 1; the formula leaves rounding dust there.
    let lo = if count == 0 { 0.0 } else { (centre - half).max(0.0) };
    let hi = if count == runs { 1.0 } else { (centre + half).min(1.0) };
    (lo, hi)
}

/// Decimal places of a probability that `runs` support: the place of the leading digit of the
/// widest possible 95% half-width (at p = 1/2). 10,000 runs give 3 places (12.3%), a million 4.
pub fn decimals_for(runs: u64) -> u32 {
    let widest_half_width = Z95 * 0.5 / (runs.max(1) as f64).sqrt();
    (-widest_half_width.log10()).ceil().clamp(2.0, 8.0) as u32
}

pub fn round_to(x: f64, decimals: u32) -> f64 {
    let scale = 10f64.powi(decimals as i32);
    (x * scale).round() / scale
}

/// The largest multiple of `10^-decimals` that is at most `x`: a lower bound rounded so that it
/// still bounds. The product `x * scale` can round up onto an integer, so the result is checked.
pub fn round_down(x: f64, decimals: u32) -> f64 {
    let scale = 10f64.powi(decimals as i32);
    let mut units = (x * scale).floor();
    if units / scale > x {
        units -= 1.0;
    }
    units / scale
}

/// The smallest multiple of `10^-decimals` that is at least `x` (see [`round_down`]).
pub fn round_up(x: f64, decimals: u32) -> f64 {
    let scale = 10f64.powi(decimals as i32);
    let mut units = (x * scale).ceil();
    if units / scale < x {
        units += 1.0;
    }
    units / scale
}

/// `count / runs` rounded to nearest, with its Wilson bounds rounded outward (lower down, upper
/// up), so that `lo <= count / runs <= hi` holds in print and `lo <= p <= hi` too: rounding is
/// monotone, and `round(x)` lies between `floor(x)` and `ceil(x)`.
pub fn estimate(count: u64, runs: u64, decimals: u32) -> Estimate {
    let (lo, hi) = wilson(count, runs);
    let p = if runs == 0 { 0.0 } else { count as f64 / runs as f64 };
    Estimate {
        count,
        p: round_to(p, decimals),
        lo: round_down(lo, decimals),
        hi: round_up(hi, decimals),
    }
}

/// The mean rung at one step with its 95% interval, all rounded to `decimals` (the interval
/// outward).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanEstimate {
    pub runs: u64,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

/// The mean rung index over the runs, from `counts[k]` = runs at rung `k`, with a normal
/// approximation 95% interval: mean ± z·s/√n, s the sample standard deviation of the rung
/// index, clamped to the ladder. Sums are exact integers, so the result does not depend on how
/// runs were split. With 0 or 1 runs the interval is the whole ladder.
pub fn mean_level_estimate(counts: &[u64], decimals: u32) -> MeanEstimate {
    let runs: u64 = counts.iter().sum();
    let top = counts.len().saturating_sub(1) as f64;
    if runs == 0 {
        return MeanEstimate {
            runs,
            mean: 0.0,
            lo: 0.0,
            hi: top,
        };
    }
    let sum: u128 = counts.iter().enumerate().map(|(k, &n)| k as u128 * n as u128).sum();
    let squares: u128 = counts
        .iter()
        .enumerate()
        .map(|(k, &n)| (k * k) as u128 * n as u128)
        .sum();
    let n = runs as f64;
    let mean = sum as f64 / n;
    let (lo, hi) = if runs < 2 {
        (0.0, top)
    } else {
        // n·Σk²n_k - (Σk·n_k)² is exact in integers; it is n(n-1) times the sample variance.
        let spread = (runs as u128 * squares - sum * sum) as f64;
        let sd = (spread / (n * (n - 1.0))).sqrt();
        let half = Z95 * sd / n.sqrt();
        ((mean - half).max(0.0), (mean + half).min(top))
    };
    MeanEstimate {
        runs,
        mean: round_to(mean, decimals),
        lo: round_down(lo, decimals),
        hi: round_up(hi, decimals),
    }
}

/// Turns the counts of a study into the published summary.
pub fn summarize(info: &ScenarioInfo, identity: &RunIdentity, results: &Results) -> Summary {
    let tallies = &results.tallies;
    let shape = tallies.shape;
    let runs = tallies.runs;
    let decimals = decimals_for(runs);
    let rows = shape.steps + 1;
    let column = |table: &[u64], width: usize, j: usize| -> Vec<Estimate> {
        (0..rows)
            .map(|t| estimate(table[t * width + j], runs, decimals))
            .collect()
    };

    let level_distribution: Vec<Series> = info
        .levels
        .iter()
        .enumerate()
        .map(|(k, level)| Series {
            id: level.clone(),
            label: level.clone(),
            points: column(&tallies.level_at, shape.levels, k),
        })
        .collect();

    let rung_reached = ((info.initial_level + 1)..shape.levels)
        .map(|k| Series {
            id: info.levels[k].clone(),
            label: format!("rung {k} ({}) or higher", info.levels[k]),
            points: (0..rows)
                .map(|t| {
                    let row = &tallies.max_level_at[t * shape.levels..(t + 1) * shape.levels];
                    estimate(row[k..].iter().sum(), runs, decimals)
                })
                .collect(),
        })
        .collect();

    let outcome_series = |table: &[u64]| -> Vec<Series> {
        info.outcomes
            .iter()
            .enumerate()
            .map(|(o, outcome)| Series {
                id: outcome.id.clone(),
                label: outcome.label.clone(),
                points: column(table, shape.outcomes, o),
            })
            .collect()
    };

    let trigger_fired_by = info
        .triggers
        .iter()
        .enumerate()
        .map(|(i, trigger)| Series {
            id: trigger.id.clone(),
            label: trigger.label.clone(),
            points: column(&tallies.trigger_fired_by, shape.triggers, i),
        })
        .collect();

    let final_level = level_distribution
        .iter()
        .map(|series| Series {
            points: vec![series.points[shape.steps]],
            ..series.clone()
        })
        .collect();

    let per_run = |total: u64| {
        if runs == 0 {
            0.0
        } else {
            round_to(total as f64 / runs as f64, decimals)
        }
    };
    let mean_level = (0..rows)
        .map(|t| {
            let row = &tallies.level_at[t * shape.levels..(t + 1) * shape.levels];
            per_run(row.iter().enumerate().map(|(k, n)| k as u64 * n).sum())
        })
        .collect();
    let mean_firings = tallies.trigger_firings.iter().map(|&n| per_run(n)).collect();

    Summary {
        format_version: RESULT_FORMAT_VERSION,
        engine: format!("sim {}", env!("CARGO_PKG_VERSION")),
        scenario: info.clone(),
        seed: identity.seed,
        runs,
        scenario_digest: identity.scenario_digest.clone(),
        input_digest: input_digest(&identity.scenario_digest, identity.seed, runs),
        tallies_digest: tallies.digest(),
        decimals,
        tables: Tables {
            level_distribution,
            rung_reached,
            outcome_by: outcome_series(&tallies.outcome_by),
            outcome_holds: outcome_series(&tallies.outcome_holds),
            trigger_fired_by,
            final_level,
            mean_level,
            mean_firings,
        },
        precursors: Some(precursor_tables(info, &results.precursors)),
        paired: None,
        stopping: None,
        // A scenario with no uncertain param has no sensitivity to report (and its counts,
        // kept per param, would say that nothing happened).
        sensitivity: results
            .sensitivity
            .as_ref()
            .filter(|s| !s.params.is_empty())
            .map(|s| sensitivity::sensitivity_tables(info, s)),
        paths: results.paths.as_ref().map(|p| paths::path_tables(info, p)),
        lift: results.lift.as_ref().map(|l| lift::lift_tables(info, l, decimals)),
    }
}

/// The precursor counts added up step by step, with the share at the horizon.
fn precursor_tables(info: &ScenarioInfo, precursors: &Precursors) -> PrecursorTables {
    let (rows, outcomes, triggers) = (precursors.rows(), precursors.outcomes, precursors.triggers);
    let running_sum = |counts: &mut dyn Iterator<Item = u64>| {
        counts
            .scan(0, |sum, n| {
                *sum += n;
                Some(*sum)
            })
            .collect::<Vec<u64>>()
    };
    PrecursorTables {
        steps: (0..rows).map(|r| precursors.step_of_row(r)).collect(),
        triggers: info.triggers.iter().map(|t| t.id.clone()).collect(),
        outcomes: (0..info.outcomes.len())
            .map(|o| {
                let runs = running_sum(&mut (0..rows).map(|r| precursors.first_held[r * outcomes + o]));
                let fired_before: Vec<Vec<u64>> = (0..triggers)
                    .map(|i| {
                        running_sum(&mut (0..rows).map(|r| precursors.fired_before[(r * outcomes + o) * triggers + i]))
                    })
                    .collect();
                let reached = runs.last().copied().unwrap_or(0);
                let horizon = (reached > 0).then(|| {
                    let shares: Vec<ShareEstimate> = fired_before
                        .iter()
                        .map(|counts| ShareEstimate::new(counts.last().copied().unwrap_or(0), reached))
                        .collect();
                    HorizonShares {
                        runs: reached,
                        decimals: decimals_for(reached),
                        p: shares.iter().map(|s| s.p).collect(),
                        lo: shares.iter().map(|s| s.lo).collect(),
                        hi: shares.iter().map(|s| s.hi).collect(),
                    }
                });
                OutcomePrecursors {
                    outcome: info.outcomes[o].id.clone(),
                    runs,
                    fired_before,
                    horizon,
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_published_values() {
        // Wilson (1927) / Newcombe (1998) example: 81 of 263 -> 0.2553 to 0.3662.
        let (lo, hi) = wilson(81, 263);
        assert!((lo - 0.2553).abs() < 1e-4, "{lo}");
        assert!((hi - 0.3662).abs() < 1e-4, "{hi}");
        // Zero successes still give a non-degenerate upper bound.
        let (lo, hi) = wilson(0, 100);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.0370).abs() < 1e-4, "{hi}");
    }

    #[test]
    fn bounds_round_outward_and_contain_the_data() {
        assert_eq!(round_down(0.12349, 3), 0.123);
        assert_eq!(round_up(0.12301, 3), 0.124);
        assert_eq!(round_up(0.125, 3), 0.125);
        assert_eq!(round_down(0.125, 3), 0.125);
        // 2 events in 20,000 runs: rounded to nearest, the upper bound was 0 and excluded them.
        let e = estimate(2, 20_000, 3);
        assert_eq!((e.lo, e.p, e.hi), (0.0, 0.0, 0.001));
        let e = estimate(19_998, 20_000, 3);
        assert_eq!((e.lo, e.p, e.hi), (0.999, 1.0, 1.0));
        for runs in [1, 2, 7, 100, 999, 20_000] {
            let decimals = decimals_for(runs);
            for count in 0..=runs.min(1000) {
                let e = estimate(count, runs, decimals);
                let x = count as f64 / runs as f64;
                assert!(e.lo <= x && x <= e.hi, "{count}/{runs}: {e:?}");
                assert!(e.lo <= e.p && e.p <= e.hi, "{count}/{runs}: {e:?}");
            }
        }
    }

    #[test]
    fn mean_level_has_a_normal_interval() {
        // Half the runs at rung 0, half at rung 2: mean 1, sd sqrt(400/399) over 400 runs.
        let m = mean_level_estimate(&[200, 0, 200], 3);
        assert_eq!((m.runs, m.mean), (400, 1.0));
        let half = Z95 * (400.0f64 / 399.0).sqrt() / 20.0;
        assert_eq!((m.lo, m.hi), (round_down(1.0 - half, 3), round_up(1.0 + half, 3)));
        assert_eq!((m.lo, m.hi), (0.901, 1.099));
        // Every run on one rung: no spread, the interval is the point.
        assert_eq!(
            mean_level_estimate(&[0, 50, 0], 2),
            MeanEstimate {
                runs: 50,
                mean: 1.0,
                lo: 1.0,
                hi: 1.0
            }
        );
        assert_eq!(
            mean_level_estimate(&[0, 1, 0], 2),
            MeanEstimate {
                runs: 1,
                mean: 1.0,
                lo: 0.0,
                hi: 2.0
            }
        );
        assert_eq!(mean_level_estimate(&[0, 0], 2).hi, 1.0);
    }

    #[test]
    fn decimals_follow_run_count() {
        assert_eq!(decimals_for(100), 2);
        assert_eq!(decimals_for(10_000), 3);
        assert_eq!(decimals_for(1_000_000), 4);
    }
}
