//! A sweep spread over processes: `sim sweep --shard K/N` simulates block K of N of the runs at
//! every point of the sweep and writes a [`SweepPart`]; `sim merge` checks the parts and adds
//! them into the [`MergedSweep`] a single process would have counted.
//!
//! In: a shard, the sweep's definition (base scenario, axes, thresholds, seed, runs) and the
//! cells its block of runs counted ([`crate::sweep::cells`] of the block's summaries). Out: a
//! part file `<out>/<id>.sweep.shard-K-of-N.json`; merged, the cells of the whole sweep and what
//! `sim sweep` writes beside them (the base scenario's information, the axes, the thresholds,
//! seed, runs, engine), so the merge needs neither the scenario file nor the sweep's arguments.
//!
//! The split is by runs ([`Shard::runs`], as `sim run --shard`), never by points: a sweep is one
//! paired study of P points x R runs, and a shard simulates every point of its runs together, as
//! the single process does. The work is even whatever P is (three shards of a two-point sweep
//! get a third each), any shard count works up to R (beyond it a shard simulates no run and
//! writes a part of zero counts), and a part holds P cells of integer counts, which add up
//! exactly: every published number of a sweep is a count by the horizon at a point.
//!
//! Merging refuses what is not one complete sweep: a missing or duplicated shard; parts of
//! another sweep (another scenario text, params, values, thresholds, seed, runs, shard count or
//! engine; the definition is covered by a digest, the counts by another); a damaged or edited
//! part; and (in `cli`) a part of `sim run --shard` among sweep parts.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::{MergeError, Partial, Shard, read_partial, scenario_block_digest};
use crate::aggregate::RESULT_FORMAT_VERSION;
use crate::model::{ScenarioId, ScenarioInfo};
use crate::sweep::{Axis, Cell, Target};

/// The `kind` of a sweep's part file.
pub const SWEEP_PART_KIND: &str = "sim-sweep-shard";

/// One swept setting as a part records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartAxis {
    pub name: String,
    /// `param` or `trigger` (the trigger's probability).
    pub target: String,
    pub values: Vec<f64>,
}

impl PartAxis {
    pub fn new(axis: &Axis, target: Target) -> Self {
        PartAxis {
            name: axis.name.clone(),
            target: match target {
                Target::Param => "param",
                Target::TriggerProbability => "trigger",
            }
            .into(),
            values: axis.values.clone(),
        }
    }

    /// `NAME=FROM..TO:STEPS`, as `--param` takes it.
    pub fn argument(&self) -> String {
        let (first, last) = (self.values.first(), self.values.last());
        let show = |x: Option<&f64>| x.map_or_else(String::new, |x| x.to_string());
        format!("{}={}..{}:{}", self.name, show(first), show(last), self.values.len())
    }

    fn axis(&self) -> Option<(Axis, Target)> {
        let target = match self.target.as_str() {
            "param" => Target::Param,
            "trigger" => Target::TriggerProbability,
            _ => return None,
        };
        let axis = Axis {
            name: self.name.clone(),
            values: self.values.clone(),
        };
        Some((axis, target))
    }
}

/// One outcome's or rung's count by the horizon at one point, in the shard's runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartCell {
    pub values: Vec<f64>,
    pub kind: String,
    pub id: String,
    pub label: String,
    pub count: u64,
}

/// One shard's counts of a sweep, and what identifies the sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepPart {
    /// Always [`SWEEP_PART_KIND`].
    pub kind: String,
    pub format_version: u32,
    pub engine: String,
    /// The swept scenario's id; the sweep is written to `<out>/<id>-sweep/`.
    pub scenario_id: ScenarioId,
    /// The swept scenario as compiled (its text and the bases it extends).
    pub scenario_digest: String,
    /// Digest of every point's compiled scenario digest, in order.
    pub points_digest: String,
    pub axes: Vec<PartAxis>,
    /// The `--threshold` levels of the sweep, which the merged thresholds.csv answers.
    pub thresholds: Vec<f64>,
    pub seed: u64,
    /// Runs per point, over all shards.
    pub runs: u64,
    pub shard: u64,
    pub shards: u64,
    pub first_run: u64,
    pub end_run: u64,
    /// Digest of everything above but the shard's own index and runs, and of `scenario`.
    pub definition_digest: String,
    pub scenario_block_digest: String,
    /// The swept scenario as the charts and report describe it.
    pub scenario: ScenarioInfo,
    /// Digest of `cells`, to detect a damaged file.
    pub counts_digest: String,
    pub cells: Vec<PartCell>,
}

/// What a sweep is, besides the shard: the fields a part's `definition_digest` covers.
pub struct SweepDefinition<'a> {
    pub info: &'a ScenarioInfo,
    pub scenario_digest: &'a str,
    /// Each point's compiled scenario digest, in order.
    pub point_digests: &'a [&'a str],
    pub axes: Vec<PartAxis>,
    pub thresholds: &'a [f64],
    pub seed: u64,
    pub runs: u64,
}

fn digest_of(value: &impl Serialize) -> String {
    let json = serde_json::to_vec(value).expect("part fields always serialize");
    blake3::hash(&json).to_hex().to_string()
}

impl SweepPart {
    /// The part of `shard` whose block of runs counted `cells` (each with the block's runs).
    pub fn new(definition: SweepDefinition<'_>, shard: Shard, cells: &[Cell]) -> SweepPart {
        let block = shard.runs(definition.runs);
        let cells: Vec<PartCell> = cells
            .iter()
            .map(|cell| {
                debug_assert_eq!(cell.runs, block.end - block.start);
                PartCell {
                    values: cell.values.clone(),
                    kind: cell.kind.into(),
                    id: cell.id.clone(),
                    label: cell.label.clone(),
                    count: cell.count,
                }
            })
            .collect();
        let mut part = SweepPart {
            kind: SWEEP_PART_KIND.into(),
            format_version: RESULT_FORMAT_VERSION,
            // As `Summary::engine`.
            engine: format!("sim {}", env!("CARGO_PKG_VERSION")),
            scenario_id: ScenarioId::parse(&definition.info.id).expect("a compiled scenario's id is a valid id"),
            scenario_digest: definition.scenario_digest.into(),
            points_digest: digest_of(&definition.point_digests),
            axes: definition.axes,
            thresholds: definition.thresholds.to_vec(),
            seed: definition.seed,
            runs: definition.runs,
            shard: shard.index(),
            shards: shard.count(),
            first_run: block.start,
            end_run: block.end,
            definition_digest: String::new(),
            scenario_block_digest: scenario_block_digest(definition.info),
            scenario: definition.info.clone(),
            counts_digest: digest_of(&cells),
            cells,
        };
        part.definition_digest = part.own_definition_digest();
        part
    }

    fn own_definition_digest(&self) -> String {
        digest_of(&(
            self.format_version,
            &self.engine,
            self.scenario_id.as_str(),
            &self.scenario_digest,
            &self.points_digest,
            &self.axes,
            &self.thresholds,
            (self.seed, self.runs, self.shards),
            &self.scenario_block_digest,
        ))
    }

    /// The file it is written to: `<id>.sweep.shard-K-of-N.json` (`sim run`'s parts are
    /// `<id>.shard-K-of-N.json`, and ids have no dot).
    pub fn file_name(&self) -> String {
        format!(
            "{}.sweep.shard-{}-of-{}.json",
            self.scenario_id, self.shard, self.shards
        )
    }

    fn describe(&self) -> String {
        format!(
            "shard {}/{} of the sweep of `{}` (runs {}..{})",
            self.shard, self.shards, self.scenario_id, self.first_run, self.end_run
        )
    }

    /// The `--param` and `--threshold` arguments of the sweep, for messages.
    fn arguments(&self) -> String {
        let mut text: Vec<String> = self.axes.iter().map(|a| format!("--param {}", a.argument())).collect();
        text.extend(self.thresholds.iter().map(|t| format!("--threshold {t}")));
        text.join(" ")
    }

    /// Problems that make this part unusable on its own (format, damage, inconsistency).
    fn problems(&self) -> Vec<String> {
        let damaged = |what: &str| format!("{what} (the file was changed or damaged); re-run this shard");
        if self.format_version != RESULT_FORMAT_VERSION {
            return vec![format!(
                "it has result format {} but this sim reads format {RESULT_FORMAT_VERSION}; re-run the shards with this version of sim",
                self.format_version
            )];
        }
        let shard = match Shard::new(self.shard, self.shards) {
            Ok(shard) => shard,
            Err(e) => return vec![e.to_string()],
        };
        let block = shard.runs(self.runs);
        if (self.first_run..self.end_run) != block {
            return vec![format!(
                "it covers runs {}..{}, but shard {shard} of {} runs is runs {}..{}",
                self.first_run, self.end_run, self.runs, block.start, block.end
            )];
        }
        if self.scenario.id != self.scenario_id.as_str()
            || scenario_block_digest(&self.scenario) != self.scenario_block_digest
        {
            return vec![damaged("its scenario block does not match its id or its digest")];
        }
        if self.own_definition_digest() != self.definition_digest {
            return vec![damaged(
                "its definition (scenario, params, values, thresholds, seed, runs) does not match its digest",
            )];
        }
        if digest_of(&self.cells) != self.counts_digest {
            return vec![damaged("its counts do not match their digest")];
        }
        if !self.thresholds.iter().all(|l| *l > 0.0 && *l < 1.0) {
            return vec![damaged("its thresholds are not probabilities strictly between 0 and 1")];
        }
        match self.expected_cells() {
            Some(expected)
                if expected.len() == self.cells.len()
                    && expected.iter().zip(&self.cells).all(|((values, kind, id), c)| {
                        (values, kind.as_str(), id) == (&c.values, c.kind.as_str(), &c.id)
                    }) => {}
            _ => {
                return vec![damaged(
                    "its cells are not one per point of its params and outcome or rung of its scenario",
                )];
            }
        }
        let runs = self.end_run - self.first_run;
        if let Some(cell) = self.cells.iter().find(|c| c.count > runs) {
            return vec![damaged(&format!(
                "its count of `{}` at {:?} is {}, more than its {runs} runs",
                cell.id, cell.values, cell.count
            ))];
        }
        Vec::new()
    }

    /// (values, kind, id) of every cell a sweep of its axes over its scenario counts, in order;
    /// None when its axes are not a sweep.
    fn expected_cells(&self) -> Option<Vec<(Vec<f64>, String, String)>> {
        let axes: Vec<(Axis, Target)> = self.axes.iter().map(PartAxis::axis).collect::<Option<_>>()?;
        let sizes: Vec<usize> = axes.iter().map(|(a, _)| a.values.len()).collect();
        if !(1..=2).contains(&axes.len())
            || sizes.iter().any(|&n| n < 2)
            || sizes.iter().product::<usize>() > crate::sweep::MAX_POINTS
        {
            return None;
        }
        let info = &self.scenario;
        let kinds: Vec<(String, String)> = info
            .outcomes
            .iter()
            .map(|o| ("outcome".to_string(), o.id.clone()))
            .chain((info.initial_level + 1..info.levels.len()).map(|k| ("rung".to_string(), info.levels[k].clone())))
            .collect();
        let points = crate::sweep::points("", self.scenario_id.as_str(), "", &axes);
        Some(
            points
                .iter()
                .flat_map(|p| {
                    kinds
                        .iter()
                        .map(|(kind, id)| (p.values.clone(), kind.clone(), id.clone()))
                })
                .collect(),
        )
    }

    /// What must be equal for two parts to be pieces of the same sweep, as (field, value).
    fn identity(&self) -> [(&'static str, String); 9] {
        let axes: Vec<String> = self.axes.iter().map(PartAxis::argument).collect();
        let thresholds: Vec<String> = self.thresholds.iter().map(f64::to_string).collect();
        [
            ("scenario_digest", self.scenario_digest.clone()),
            ("scenario_block_digest", self.scenario_block_digest.clone()),
            ("params", format!("{:?}", axes.join(" x "))),
            ("thresholds", format!("[{}]", thresholds.join(", "))),
            ("seed", self.seed.to_string()),
            ("runs", self.runs.to_string()),
            ("shards", self.shards.to_string()),
            ("engine", self.engine.clone()),
            ("points_digest", self.points_digest.clone()),
        ]
    }
}

/// Serializes a part: pretty JSON, trailing newline.
pub fn part_json(part: &SweepPart) -> String {
    let mut json = serde_json::to_string_pretty(part).expect("parts always serialize");
    json.push('\n');
    json
}

/// Writes a part into `dir` under [`SweepPart::file_name`], atomically: a process killed while
/// writing leaves no part behind.
pub fn write_part(part: &SweepPart, dir: &Path) -> Result<PathBuf> {
    // Through `scenario_dir` for its check that the id is a safe file name.
    let path = crate::output::scenario_dir(dir, part.scenario_id.as_str()).with_file_name(part.file_name());
    crate::output::write_atomic(&path, part_json(part).as_bytes())?;
    Ok(path)
}

/// A part file of either kind.
pub enum AnyPart {
    Run(Box<Partial>),
    Sweep(Box<SweepPart>),
}

/// Reads a part of `sim run --shard` or of `sim sweep --shard`, told apart by its `kind`.
pub fn read_any_part(path: &Path) -> Result<AnyPart> {
    let text = crate::input::read_text(path, crate::input::RESULT_FILE_LIMIT)?;
    let value: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    if value.as_ref().and_then(|v| v.get("kind")).and_then(|k| k.as_str()) == Some(SWEEP_PART_KIND) {
        let part = serde_json::from_value(value.expect("checked above"))
            .with_context(|| format!("{} is a damaged part of a sweep", path.display()))?;
        return Ok(AnyPart::Sweep(Box::new(part)));
    }
    // Its own messages for what is neither (not JSON, a summary, another kind).
    read_partial(path).map(|p| AnyPart::Run(Box::new(p)))
}

/// A whole sweep, merged from its parts.
#[derive(Clone, Debug, PartialEq)]
pub struct MergedSweep {
    pub info: ScenarioInfo,
    /// Each axis's name and values.
    pub axes: Vec<(String, Vec<f64>)>,
    pub thresholds: Vec<f64>,
    pub seed: u64,
    pub runs: u64,
    /// The engine that simulated the shards.
    pub engine: String,
    pub cells: Vec<Cell>,
}

/// Merges the parts of sweeps, each named by where it came from (for messages), per scenario
/// id in order of first appearance; each group must be one sweep with every shard once (the
/// most common definition is the sweep, parts of another are reported as foreign).
pub fn merge(parts: Vec<(String, SweepPart)>) -> Result<Vec<MergedSweep>, MergeError> {
    super::sets::merge_parts(parts, merge_sweep)
}

impl super::sets::Part for SweepPart {
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
        SweepPart::describe(self)
    }

    fn problems(&self) -> Vec<String> {
        SweepPart::problems(self)
    }

    fn identity(&self) -> Vec<(&'static str, String)> {
        SweepPart::identity(self).to_vec()
    }

    fn explain(field: &str) -> Option<&'static str> {
        match field {
            "scenario_digest" => Some("scenario_digest differs (the scenario was changed between the shards)"),
            "points_digest" => Some("its sweep points compile to other scenarios (a file they extend was changed)"),
            "scenario_block_digest" => Some("its scenario block differs (labels, ids or order of outcomes or rungs)"),
            _ => None,
        }
    }

    fn whole(&self) -> String {
        format!("the sweep of `{}`", self.scenario_id)
    }

    fn command_for(&self, index: u64) -> String {
        format!(
            "sim sweep <scenario> {} --runs {} --seed {} --shard {index}/{}",
            self.arguments(),
            self.runs,
            self.seed,
            self.shards
        )
    }
}

/// Merges the parts of one sweep, one per shard, or lists why their counts do not add up.
fn merge_sweep(parts: Vec<(String, SweepPart)>) -> Result<MergedSweep, Vec<String>> {
    let mut problems = Vec::new();
    let (reference_name, first) = &parts[0];
    // Parts of one definition have the same cells (each was checked against it) but for the
    // labels, which come from the points' scenarios.
    let labels = |part: &SweepPart| part.cells.iter().map(|c| c.label.clone()).collect::<Vec<_>>();
    for (name, part) in &parts {
        if labels(part) != labels(first) {
            problems.push(format!(
                "{name}: {} labels its outcomes or rungs otherwise than {reference_name}",
                part.describe()
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut cells: Vec<Cell> = first
        .cells
        .iter()
        .map(|c| Cell {
            values: c.values.clone(),
            kind: if c.kind == "outcome" { "outcome" } else { "rung" },
            id: c.id.clone(),
            label: c.label.clone(),
            count: 0,
            runs: first.runs,
        })
        .collect();
    for (_, part) in &parts {
        for (sum, cell) in cells.iter_mut().zip(&part.cells) {
            sum.count += cell.count;
        }
    }
    Ok(MergedSweep {
        info: first.scenario.clone(),
        axes: first.axes.iter().map(|a| (a.name.clone(), a.values.clone())).collect(),
        thresholds: first.thresholds.clone(),
        seed: first.seed,
        runs: first.runs,
        engine: first.engine.clone(),
        cells,
    })
}

#[cfg(test)]
mod tests;
