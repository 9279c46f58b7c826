//! Sharding: one scenario's runs split across processes, and the pieces merged back.
//!
//! In (splitting): a total run count and a shard `K/N` (K = 0..N-1, 0-based), given directly or
//! read from a scheduler's environment ([`from_scheduler`]). Out: the block of run indices that
//! shard K simulates ([`Shard::runs`]) and, once simulated, a [`Partial`]: the shard's integer
//! tallies plus everything needed to check and summarize them without the scenario file.
//!
//! In (merging): the partials of every shard, in any order. Out: one [`Merged`] per scenario,
//! whose tallies are exactly those of a single process running all the runs (tallies are
//! integer counts and runs are independent, so addition in any order is exact). Merging refuses
//! parts that do not make up one complete run: a missing or duplicated shard, or a part of
//! another scenario version, seed, run count, shard count or engine. The `scenario` block a part
//! carries (the labels and order the merged tables are published under) is covered by a digest
//! and must be identical in every part.
//!
//! A sweep's runs are split the same way; its parts and their merge are in [`sweep`]. Which parts
//! make up complete wholes (grouping, the most common identity, missing and repeated shards) is
//! decided for both kinds in `sets`.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::aggregate::{RESULT_FORMAT_VERSION, input_digest};
use crate::job::{Results, RunIdentity};
use crate::model::{ScenarioId, ScenarioInfo};
use crate::tally::lift::Lift;
use crate::tally::paired::Paired;
use crate::tally::paths::Paths;
use crate::tally::precursors::Precursors;
use crate::tally::sensitivity::Sensitivity;
use crate::tally::{Shape, Tallies};

/// The `kind` of a partial-result file, so that other JSON files are refused by name.
pub const PARTIAL_KIND: &str = "sim-shard";

/// Environment variable giving the shard count under a Kubernetes indexed Job (which exports
/// only the index); `--shard-count` overrides it.
pub const SHARD_COUNT_VAR: &str = "SIM_SHARD_COUNT";

/// Shard `index` of `count`, 0-based: `0/4` is the first of four.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shard {
    index: u64,
    count: u64,
}

/// A bad `--shard` value or scheduler environment, worded for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ShardError(String);

impl Shard {
    pub fn new(index: u64, count: u64) -> Result<Shard, ShardError> {
        if count == 0 {
            return Err(ShardError("the shard count must be at least 1".into()));
        }
        if index >= count {
            return Err(ShardError(format!(
                "shard index {index} is out of range for {count} shards: indices are 0-based, 0 to {}",
                count - 1
            )));
        }
        Ok(Shard { index, count })
    }

    pub fn index(self) -> u64 {
        self.index
    }

    pub fn count(self) -> u64 {
        self.count
    }

    /// The run indices of this shard out of `total`: `[K * total / N, (K + 1) * total / N)`.
    /// Blocks differ in size by at most one run and cover `0..total` exactly once.
    pub fn runs(self, total: u64) -> Range<u64> {
        // u128: `K * total` overflows u64 for large studies.
        let bound = |k: u64| (u128::from(k) * u128::from(total) / u128::from(self.count)) as u64;
        bound(self.index)..bound(self.index + 1)
    }

    /// The file a shard's partial result is written to: `<id>.shard-K-of-N.json`.
    pub fn file_name(self, scenario_id: &str) -> String {
        format!("{scenario_id}.shard-{}-of-{}.json", self.index, self.count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<Shard, ShardError> {
        let malformed = || {
            ShardError(format!(
                "`{text}` is not a shard: write K/N, e.g. 0/4 for the first of four shards (K is 0-based)"
            ))
        };
        let (index, count) = text.split_once('/').ok_or_else(malformed)?;
        let index = index.trim().parse().map_err(|_| malformed())?;
        let count = count.trim().parse().map_err(|_| malformed())?;
        Shard::new(index, count)
    }
}

/// The value of `--shard`: a fixed shard, or `auto` (ask the scheduler).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardRequest {
    Fixed(Shard),
    Auto,
}

impl FromStr for ShardRequest {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<ShardRequest, ShardError> {
        if text == "auto" {
            Ok(ShardRequest::Auto)
        } else {
            text.parse().map(ShardRequest::Fixed)
        }
    }
}

/// The shard this process is, from a scheduler's environment (`env` looks a variable up):
///
/// - Slurm job arrays: `SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN` of
///   `SLURM_ARRAY_TASK_COUNT`, so `--array=0-9` and `--array=1-10` both give shards 0..9.
///   The array must be contiguous (no step, no list with gaps).
/// - Kubernetes indexed Jobs: `JOB_COMPLETION_INDEX` of `count` (from `--shard-count`), else of
///   [`SHARD_COUNT_VAR`].
///
/// `count`, when given under Slurm, must agree with the array's size.
pub fn from_scheduler(env: impl Fn(&str) -> Option<String>, count: Option<u64>) -> Result<Shard, ShardError> {
    let number = |name: &str| -> Result<Option<u64>, ShardError> {
        match env(name) {
            None => Ok(None),
            Some(value) => value
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| ShardError(format!("{name}={value:?} is not a non-negative integer"))),
        }
    };
    if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
        let size = number("SLURM_ARRAY_TASK_COUNT")?.ok_or_else(|| {
            ShardError("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; is this a job array?".into())
        })?;
        let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        if let Some(step) = number("SLURM_ARRAY_TASK_STEP")?
            && step != 1
        {
            return Err(ShardError(format!(
                "the Slurm array has step {step}; --shard auto needs a contiguous array such as --array=0-{}",
                size.saturating_sub(1)
            )));
        }
        if let Some(count) = count
            && count != size
        {
            return Err(ShardError(format!(
                "--shard-count {count} disagrees with the Slurm array's {size} tasks; drop --shard-count"
            )));
        }
        // `sbatch --array=3` to re-run shard 3 is a one-task array: read as shard 0 of 1, it
        // would quietly simulate the whole study into a part no merge accepts.
        if size == 1 && min != 0 {
            return Err(ShardError(format!(
                "Slurm task {id} is a job array of one task, which does not say how many shards the study has; \
                 to re-run one shard, name it: --shard {id}/N (docs/cluster.md: export SHARD={id}/N)"
            )));
        }
        let index = id.checked_sub(min).filter(|&k| k < size).ok_or_else(|| {
            ShardError(format!(
                "Slurm task {id} is not in a contiguous array of {size} tasks starting at {min}; submit with --array={min}-{}",
                min + size.saturating_sub(1)
            ))
        })?;
        return Shard::new(index, size);
    }
    if let Some(index) = number("JOB_COMPLETION_INDEX")? {
        let count = match count {
            Some(count) => count,
            None => number(SHARD_COUNT_VAR)?.ok_or_else(|| {
                ShardError(format!(
                    "JOB_COMPLETION_INDEX is set but not the shard count: pass --shard-count N or set {SHARD_COUNT_VAR} to the Job's `completions`"
                ))
            })?,
        };
        return Shard::new(index, count);
    }
    Err(ShardError(
        "--shard auto found no scheduler: it reads Slurm job arrays (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT) \
         and Kubernetes indexed Jobs (JOB_COMPLETION_INDEX, with --shard-count N or SIM_SHARD_COUNT); \
         elsewhere give the shard as --shard K/N"
            .into(),
    ))
}

/// One shard's result: its tallies and what identifies the run they belong to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Partial {
    /// Always [`PARTIAL_KIND`].
    pub kind: String,
    /// [`RESULT_FORMAT_VERSION`] of the engine that wrote it.
    pub format_version: u32,
    pub engine: String,
    /// Checked when read: a damaged id cannot name a file outside the output directory.
    pub scenario_id: ScenarioId,
    pub scenario_digest: String,
    /// Digest of the whole run (scenario, seed, total runs, format), as in the merged summary.
    pub input_digest: String,
    pub seed: u64,
    /// Runs of the whole study, over all shards.
    pub runs: u64,
    /// This shard's index, 0-based.
    pub shard: u64,
    /// Number of shards.
    pub shards: u64,
    /// First run index simulated.
    pub first_run: u64,
    /// One past the last run index simulated.
    pub end_run: u64,
    /// Digest of `tallies`, to detect a damaged file.
    pub tallies_digest: String,
    /// Digest of `scenario` ([`scenario_block_digest`]): the block is what the merged summary
    /// labels its tables with, so an edit of it must be refused like an edit of the tallies.
    pub scenario_block_digest: String,
    /// The scenario as the summary describes it, so merging needs no scenario file.
    pub scenario: ScenarioInfo,
    pub tallies: Tallies,
    /// Digest of `precursors`, to detect a damaged file.
    pub precursors_digest: String,
    pub precursors: Precursors,
    /// For a variant simulated paired with the baseline: the baseline's id, the paired counts
    /// and their digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paired: Option<PartialPairs>,
    /// The sensitivity counts and their digest; absent from a shard run with `--no-analysis`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<PartialSensitivity>,
    /// The escalation paths and their digest; absent from a shard run with `--no-analysis`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<Digested<Paths>>,
    /// The trigger lift counts and their digest; absent from a shard run with `--no-analysis`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lift: Option<Digested<Lift>>,
}

/// A shard's sensitivity counts in a partial result.
pub type PartialSensitivity = Digested<Sensitivity>;

/// Counts in a partial result, with their digest to detect a damaged file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Digested<T> {
    pub digest: String,
    pub counts: T,
}

impl<T> Digested<T> {
    /// `counts` with the digest `digest` gives of them.
    fn new(counts: T, digest: impl Fn(&T) -> String) -> Self {
        Digested {
            digest: digest(&counts),
            counts,
        }
    }
}

/// A variant's paired counts in a partial result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartialPairs {
    pub baseline: String,
    pub digest: String,
    pub counts: Paired,
}

/// BLAKE3 of the canonical JSON of a partial's `scenario` block.
pub fn scenario_block_digest(info: &ScenarioInfo) -> String {
    let json = serde_json::to_vec(info).expect("scenario information always serializes");
    blake3::hash(&json).to_hex().to_string()
}

impl Partial {
    /// The partial result of `shard` of a run of `total_runs` runs, whose counts are `results`.
    pub fn new(
        info: &ScenarioInfo,
        identity: &RunIdentity,
        total_runs: u64,
        shard: Shard,
        results: Results,
        paired: Option<(String, Paired)>,
    ) -> Partial {
        let Results {
            tallies,
            precursors,
            sensitivity,
            paths,
            lift,
        } = results;
        let runs = shard.runs(total_runs);
        Partial {
            kind: PARTIAL_KIND.into(),
            format_version: RESULT_FORMAT_VERSION,
            // As `Summary::engine`.
            engine: format!("sim {}", env!("CARGO_PKG_VERSION")),
            scenario_id: ScenarioId::parse(&info.id).expect("a compiled scenario's id is a valid id"),
            scenario_digest: identity.scenario_digest.clone(),
            input_digest: input_digest(&identity.scenario_digest, identity.seed, total_runs),
            seed: identity.seed,
            runs: total_runs,
            shard: shard.index,
            shards: shard.count,
            first_run: runs.start,
            end_run: runs.end,
            tallies_digest: tallies.digest(),
            scenario_block_digest: scenario_block_digest(info),
            scenario: info.clone(),
            tallies,
            precursors_digest: precursors.digest(),
            precursors,
            paired: paired.map(|(baseline, counts)| PartialPairs {
                baseline,
                digest: counts.digest(),
                counts,
            }),
            sensitivity: sensitivity.map(|counts| Digested::new(counts, Sensitivity::digest)),
            paths: paths.map(|counts| Digested::new(counts, Paths::digest)),
            lift: lift.map(|counts| Digested::new(counts, Lift::digest)),
        }
    }

    /// `shard K/N of <id> (runs a..b)`, for messages.
    fn describe(&self) -> String {
        format!(
            "shard {}/{} of `{}` (runs {}..{})",
            self.shard, self.shards, self.scenario_id, self.first_run, self.end_run
        )
    }

    /// Problems that make this file unusable on its own (format, damage, inconsistency).
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.format_version != RESULT_FORMAT_VERSION {
            problems.push(format!(
                "it has result format {} but this sim reads format {RESULT_FORMAT_VERSION}; re-run the shards with this version of sim",
                self.format_version
            ));
            return problems;
        }
        let shard = match Shard::new(self.shard, self.shards) {
            Ok(shard) => shard,
            Err(e) => {
                problems.push(e.to_string());
                return problems;
            }
        };
        let expected_runs = shard.runs(self.runs);
        if (self.first_run..self.end_run) != expected_runs {
            problems.push(format!(
                "it covers runs {}..{}, but shard {shard} of {} runs is runs {}..{}",
                self.first_run, self.end_run, self.runs, expected_runs.start, expected_runs.end
            ));
        }
        if self.input_digest != input_digest(&self.scenario_digest, self.seed, self.runs) {
            problems.push("its input digest does not match its scenario digest, seed and run count".into());
        }
        let info = &self.scenario;
        // The id names the output directory; the rest is indexed by the summary and reports.
        if info.id != self.scenario_id.as_str() {
            problems.push(format!(
                "its scenario id `{}` is not a valid scenario id",
                self.scenario_id
            ));
            return problems;
        }
        if scenario_block_digest(info) != self.scenario_block_digest {
            problems.push(
                "its scenario block does not match its digest (the file was changed or damaged); re-run this shard"
                    .into(),
            );
            return problems;
        }
        if info.steps.checked_add(1) != Some(info.step_labels.len()) || info.initial_level >= info.levels.len() {
            problems.push("its scenario information is inconsistent (the file was changed or damaged)".into());
            return problems;
        }
        let shape = Shape {
            steps: info.steps,
            levels: info.levels.len(),
            outcomes: info.outcomes.len(),
            triggers: info.triggers.len(),
        };
        if self.tallies.shape != shape || !self.tallies.is_well_formed() {
            problems.push("its tallies do not have the shape of its scenario".into());
        } else if self.tallies.runs != expected_runs.end - expected_runs.start {
            problems.push(format!(
                "its tallies count {} runs instead of {}",
                self.tallies.runs,
                expected_runs.end - expected_runs.start
            ));
        } else if self.tallies.digest() != self.tallies_digest {
            problems.push("its tallies do not match their digest (the file was changed or damaged)".into());
        } else if let Some(problem) = count_problem(&self.tallies) {
            problems.push(problem);
        } else if self.precursors.digest() != self.precursors_digest {
            problems.push("its precursors do not match their digest (the file was changed or damaged)".into());
        } else if self.sensitivity.is_some() != self.paths.is_some() || self.paths.is_some() != self.lift.is_some() {
            problems.push("it has some of the analyses (sensitivity, paths, lift) and not the others".into());
        } else if self.paths.as_ref().is_some_and(|p| p.counts.digest() != p.digest) {
            problems.push("its paths do not match their digest (the file was changed or damaged)".into());
        } else if self.lift.as_ref().is_some_and(|l| l.counts.digest() != l.digest) {
            problems.push("its lift counts do not match their digest (the file was changed or damaged)".into());
        } else if !self.results_are_consistent()
            || self
                .paths
                .as_ref()
                .is_some_and(|p| !p.counts.counts_block(self.first_run..self.end_run))
        {
            problems.push(
                "its precursors, paths or lift counts do not have the shape of its scenario or count runs its tallies do not have".into(),
            );
        } else if let Some(pairs) = &self.paired {
            let fits = pairs.counts.fits(
                shape.steps,
                shape.levels,
                shape.outcomes,
                shape.triggers,
                self.tallies.runs,
            );
            if pairs.counts.digest() != pairs.digest {
                problems.push("its paired counts do not match their digest (the file was changed or damaged)".into());
            } else if !fits {
                problems.push("its paired counts do not fit its scenario and runs".into());
            } else if let Some(problem) = self.discordant_problem(pairs) {
                problems.push(problem);
            }
        }
        if problems.is_empty()
            && let Some(sensitivity) = &self.sensitivity
        {
            if sensitivity.counts.digest() != sensitivity.digest {
                problems
                    .push("its sensitivity counts do not match their digest (the file was changed or damaged)".into());
            } else if !self.results_are_consistent() || !sensitivity_fits(&sensitivity.counts, info) {
                problems.push(
                    "its sensitivity counts do not add up, or count other runs, params, outcomes or rungs than its scenario"
                        .into(),
                );
            }
        }
        problems
    }

    /// What is wrong with the discordant runs of its paired counts: they must lie in its block
    /// and agree with its variant-only counts at the horizon (paired counts that fit).
    fn discordant_problem(&self, pairs: &PartialPairs) -> Option<String> {
        let (counts, tallies) = (&pairs.counts, &self.tallies);
        let (horizon, outcomes) = (tallies.shape.steps, tallies.shape.outcomes);
        let variant_only = |k: usize| {
            let own = tallies.outcome_by[horizon * outcomes + counts.outcomes[k].0];
            own.saturating_sub(counts.outcome_by[horizon * counts.outcomes.len() + k])
        };
        counts
            .discordant
            .problem(counts.outcomes.len(), self.first_run..self.end_run, variant_only)
    }

    /// Whether the precursors and the sensitivity counts have the tallies' shape and runs, and
    /// add up (a clone: this runs once per part file, after the tallies were checked).
    fn results_are_consistent(&self) -> bool {
        Results {
            tallies: self.tallies.clone(),
            precursors: self.precursors.clone(),
            sensitivity: self.sensitivity.as_ref().map(|s| s.counts.clone()),
            paths: self.paths.as_ref().map(|p| p.counts.clone()),
            lift: self.lift.as_ref().map(|l| l.counts.clone()),
        }
        .is_well_formed()
    }

    /// What must be equal for two parts to be pieces of the same run, as (field, value).
    fn identity(&self) -> [(&'static str, String); 8] {
        [
            ("scenario_digest", self.scenario_digest.clone()),
            ("scenario_block_digest", self.scenario_block_digest.clone()),
            ("seed", self.seed.to_string()),
            ("runs", self.runs.to_string()),
            ("shards", self.shards.to_string()),
            ("engine", self.engine.clone()),
            // Paired with which baseline, if at all: a paired and an unpaired part do not add up.
            (
                "paired_with",
                self.paired.as_ref().map_or(String::new(), |p| p.baseline.clone()),
            ),
            // Sensitivity counted or not (`--no-analysis`): parts with and without do not add up.
            ("analysis", if self.sensitivity.is_some() { "on" } else { "off" }.into()),
        ]
    }
}

/// Whether sensitivity counts are of `info`'s uncertain params (a subsequence of its params)
/// and of the rungs above its initial one.
fn sensitivity_fits(counts: &Sensitivity, info: &ScenarioInfo) -> bool {
    let mut names = info.params.iter().map(|p| p.name.as_str());
    counts.params.iter().all(|name| names.any(|n| n == name))
        && counts
            .rungs
            .iter()
            .copied()
            .eq(info.initial_level + 1..info.levels.len())
}

/// The first count that no run could produce: every step puts each run at exactly one level
/// and one highest level, a table cell counts at most every run, and a trigger fires at most
/// once per step of a run.
fn count_problem(tallies: &Tallies) -> Option<String> {
    let runs = tallies.runs;
    let levels = tallies.shape.levels.max(1);
    for (name, table) in [("level_at", &tallies.level_at), ("max_level_at", &tallies.max_level_at)] {
        if let Some(t) = table
            .chunks(levels)
            .position(|row| row.iter().try_fold(0u64, |sum, &n| sum.checked_add(n)) != Some(runs))
        {
            return Some(format!(
                "its tallies `{name}` at step {t} do not add up to its {runs} runs"
            ));
        }
    }
    for (name, table) in [
        ("outcome_holds", &tallies.outcome_holds),
        ("outcome_by", &tallies.outcome_by),
        ("trigger_fired_by", &tallies.trigger_fired_by),
    ] {
        if table.iter().any(|&n| n > runs) {
            return Some(format!("its tallies `{name}` count more than its {runs} runs"));
        }
    }
    let most_firings = runs.saturating_mul(tallies.shape.steps as u64);
    if tallies.trigger_firings.iter().any(|&n| n > most_firings) {
        return Some(format!(
            "its tallies `trigger_firings` count more than one firing per step in its {runs} runs"
        ));
    }
    None
}

/// Serializes a partial result: pretty JSON, trailing newline.
pub fn partial_json(partial: &Partial) -> String {
    let mut json = serde_json::to_string_pretty(partial).expect("partial results always serialize");
    json.push('\n');
    json
}

/// Reads a partial result, refusing other files with a message that says what they are.
pub fn read_partial(path: &Path) -> Result<Partial> {
    let text = crate::input::read_text(path, crate::input::RESULT_FILE_LIMIT)?;
    let value: serde_json::Value = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a partial result of `sim run --shard` (not JSON)",
            path.display()
        )
    })?;
    match value.get("kind").and_then(|k| k.as_str()) {
        Some(PARTIAL_KIND) => {}
        _ if value.get("tables").is_some() => anyhow::bail!(
            "{} is a summary, not a partial result of `sim run --shard`; merge the shard files instead",
            path.display()
        ),
        _ => anyhow::bail!("{} is not a partial result of `sim run --shard`", path.display()),
    }
    serde_json::from_value(value).with_context(|| format!("{} is a damaged partial result", path.display()))
}

/// Writes a partial result into `dir` under [`Shard::file_name`], atomically.
pub fn write_partial(partial: &Partial, dir: &Path) -> Result<PathBuf> {
    let shard = Shard::new(partial.shard, partial.shards)?;
    // Through `scenario_dir` for its check that the id is a safe file name.
    let path = crate::output::scenario_dir(dir, partial.scenario_id.as_str())
        .with_file_name(shard.file_name(partial.scenario_id.as_str()));
    crate::output::write_atomic(&path, partial_json(partial).as_bytes())?;
    Ok(path)
}

/// The merged tallies of one scenario, with what [`crate::aggregate::summarize`] needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Merged {
    pub info: ScenarioInfo,
    pub seed: u64,
    pub scenario_digest: String,
    /// The engine that simulated the shards.
    pub engine: String,
    pub results: Results,
    /// For a variant simulated paired with the baseline: the baseline's id and the counts.
    pub paired: Option<(String, Paired)>,
}

impl Merged {
    pub fn identity(&self) -> RunIdentity {
        RunIdentity {
            seed: self.seed,
            scenario_digest: self.scenario_digest.clone(),
        }
    }
}

/// Parts that do not make up complete runs: every problem found, one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", problems.join("\n"))]
pub struct MergeError {
    pub problems: Vec<String>,
}

/// Merges partial results, each named by where it came from (a file name, for messages).
/// Parts are grouped by scenario id, in order of first appearance; each group must be one run
/// (same scenario digest, seed, runs, shard count and engine: the most common combination is
/// taken as the run, the others are reported as foreign) with every shard present once
/// ([`sets::merge_parts`]).
pub fn merge(parts: Vec<(String, Partial)>) -> Result<Vec<Merged>, MergeError> {
    sets::merge_parts(parts, merge_scenario)
}

impl sets::Part for Partial {
    fn scenario_id(&self) -> &ScenarioId {
        &self.scenario_id
    }

    fn shard(&self) -> (u64, u64) {
        (self.shard, self.shards)
    }

    fn runs_and_seed(&self) -> (u64, u64) {
        (self.runs, self.seed)
    }

    fn describe(&self) -> String {
        Partial::describe(self)
    }

    fn problems(&self) -> Vec<String> {
        Partial::problems(self)
    }

    fn identity(&self) -> Vec<(&'static str, String)> {
        Partial::identity(self).to_vec()
    }

    fn explain(field: &str) -> Option<&'static str> {
        match field {
            "scenario_digest" => Some("scenario_digest differs (the scenario was changed between the shards)"),
            "scenario_block_digest" => {
                Some("its scenario block differs (labels, ids or order of outcomes, triggers or steps)")
            }
            _ => None,
        }
    }

    fn whole(&self) -> String {
        format!("`{}`", self.scenario_id)
    }

    fn command_for(&self, index: u64) -> String {
        format!(
            "sim run <scenario> --runs {} --seed {} --shard {index}/{}",
            self.runs, self.seed, self.shards
        )
    }
}

/// Adds a part's counts of an analysis to their sum; the first part's counts start it.
fn add_digested<T: Clone>(sum: &mut Option<T>, part: &Option<Digested<T>>, add: impl Fn(&mut T, &T)) {
    if let Some(part) = part {
        match sum {
            None => *sum = Some(part.counts.clone()),
            Some(sum) => add(sum, &part.counts),
        }
    }
}

/// Merges the parts of one run, one per shard, or lists why their counts do not add up.
fn merge_scenario(parts: Vec<(String, Partial)>) -> Result<Merged, Vec<String>> {
    let mut problems = Vec::new();
    let first = &parts[0].1;
    let pairs_of = |part: &Partial| {
        part.paired
            .as_ref()
            .map(|p| (p.counts.outcomes.clone(), p.counts.triggers.clone()))
    };
    let sensitivity_of = |part: &Partial| part.sensitivity.as_ref().map(|s| s.counts.params.clone());
    for (name, part) in &parts {
        if sensitivity_of(part) != sensitivity_of(first) {
            problems.push(format!(
                "{name}: {} counts the sensitivity to other params than the other parts",
                part.describe()
            ));
        }
        if pairs_of(part) != pairs_of(first) {
            problems.push(format!(
                "{name}: {} pairs other outcomes or triggers with the baseline than the other parts",
                part.describe()
            ));
        }
        let paths_like = match (&part.paths, &first.paths) {
            (Some(a), Some(b)) => a.counts.counts_like(&b.counts),
            (a, b) => a.is_none() && b.is_none(),
        };
        if !paths_like {
            problems.push(format!(
                "{name}: {} counts paths through other triggers than the other parts",
                part.describe()
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut results = Results::empty(first.tallies.shape);
    let mut paired: Option<(String, Paired)> = None;
    for (_, part) in &parts {
        results.tallies = results.tallies.merge(&part.tallies);
        results.precursors.add(&part.precursors);
        add_digested(&mut results.sensitivity, &part.sensitivity, Sensitivity::add);
        add_digested(&mut results.paths, &part.paths, Paths::add);
        add_digested(&mut results.lift, &part.lift, Lift::add);
        if let Some(pairs) = &part.paired {
            match &mut paired {
                None => paired = Some((pairs.baseline.clone(), pairs.counts.clone())),
                Some((_, sum)) => sum.add(&pairs.counts),
            }
        }
    }
    Ok(Merged {
        info: first.scenario.clone(),
        seed: first.seed,
        scenario_digest: first.scenario_digest.clone(),
        engine: first.engine.clone(),
        results,
        paired,
    })
}

mod sets;
pub mod sweep;

#[cfg(test)]
mod tests;
