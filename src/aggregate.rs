//! Aggregation: integer tallies in, the published [`Summary`] out.
//!
//! In: [`Tallies`] (counts over all runs) and the scenario's [`ScenarioInfo`].
//! Out: a [`Summary`] of probability tables, each probability with its count, the run count and
//! a Wilson 95% interval, rounded to the precision the run count supports. `Summary` is the only
//! result type that is serialized; reports, plots and comparisons read it and nothing else.

use serde::{Deserialize, Serialize};

use crate::tally::Tallies;

/// Bump when the meaning or layout of results changes: it is part of every input digest, so
/// pinned results from an older format are never silently compared with newer ones.
pub const RESULT_FORMAT_VERSION: u32 = 1;

/// The two-sided 95% normal quantile.
const Z95: f64 = 1.959_963_984_540_054;

/// Everything a reader needs about the scenario a summary came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioInfo {
    pub id: String,
    pub name: String,
    pub description: String,
    pub steps: usize,
    pub step_unit: String,
    pub start: Option<String>,
    /// Axis label of every step `0..=steps` ("2025-05", or "month 3" without a start date).
    pub step_labels: Vec<String>,
    /// The ladder, calm to severe.
    pub levels: Vec<String>,
    pub initial_level: usize,
    pub params: Vec<ParamInfo>,
    pub actors: Vec<ActorInfo>,
    pub triggers: Vec<TriggerInfo>,
    pub outcomes: Vec<OutcomeInfo>,
    /// Set for a variant (a scenario that `extends` another): what it changes in its base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<VariantInfo>,
}

/// A variant's base and its changes to it, one readable line each (params, actors, triggers
/// and outcomes patched, added or removed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VariantInfo {
    /// The base's scenario id.
    pub base: String,
    pub changes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamInfo {
    pub name: String,
    /// Human-readable definition, e.g. `pert(0.01, 0.03, 0.08) per step`.
    pub definition: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActorInfo {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TriggerInfo {
    pub id: String,
    pub label: String,
    pub actor: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutcomeInfo {
    pub id: String,
    pub label: String,
}

/// A probability estimated from `count` of the summary's `runs`, with its Wilson 95% interval.
/// `p`, `lo` and `hi` are rounded to [`Summary::decimals`]; `count` is exact.
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

fn estimate(count: u64, runs: u64, decimals: u32) -> Estimate {
    let (lo, hi) = wilson(count, runs);
    let p = if runs == 0 { 0.0 } else { count as f64 / runs as f64 };
    Estimate {
        count,
        p: round_to(p, decimals),
        lo: round_to(lo, decimals),
        hi: round_to(hi, decimals),
    }
}

/// Inputs of [`summarize`] besides the tallies.
pub struct RunIdentity {
    pub seed: u64,
    pub scenario_digest: String,
}

/// Turns tallies into the published summary.
pub fn summarize(info: &ScenarioInfo, identity: &RunIdentity, tallies: &Tallies) -> Summary {
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
    fn decimals_follow_run_count() {
        assert_eq!(decimals_for(100), 2);
        assert_eq!(decimals_for(10_000), 3);
        assert_eq!(decimals_for(1_000_000), 4);
    }
}
