//! `sim sweep`: arguments in; the sweep's points compiled, simulated on common random numbers,
//! written to `<out>/<id>-sweep/` (sweep.csv, thresholds.csv, a response curve per outcome and
//! for a grid a heat map per outcome, index.html) and printed, out. With `--shard K/N` only
//! block K of the runs is simulated, at every point, into a part file (`shard::sweep`); `sim
//! merge` writes the merged parts through the same [`write_merged`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{Failure, QUIET, compile_all, exit, simulate_study, thread_pool};
use crate::aggregate::{Summary, estimate, summarize};
use crate::compile::compile;
use crate::format::thousands;
use crate::html::sweep::{SweepPage, sweep_report};
use crate::job::{Analysis, Job, Study};
use crate::load::load_text;
use crate::model::Model;
use crate::output::{Staging, check_writable, write_atomic};
use crate::shard::sweep::{MergedSweep, PartAxis, SweepDefinition, SweepPart, write_part};
use crate::sweep::{Axis, Cell, Crossing, Target, cells, crossings, points, table_csv};

#[derive(clap::Args, Debug)]
pub(crate) struct SweepArgs {
    /// The scenario file to sweep.
    file: PathBuf,
    /// A swept setting: a param, or a trigger's probability (by trigger id), from FROM to TO
    /// in STEPS evenly spaced points. Give two for a grid.
    #[arg(long = "param", required = true, value_name = "NAME=FROM..TO:STEPS")]
    axes: Vec<Axis>,
    /// Runs per point (default: the scenario's `runs`, else 10000).
    #[arg(long)]
    runs: Option<u64>,
    /// Seed of every point (default: the scenario's `seed`, else 1).
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Output directory; the sweep is written to `<out>/<id>-sweep/`.
    #[arg(long, default_value = "output")]
    out: PathBuf,
    /// A probability level (e.g. 0.25): for each outcome and rung, the smallest swept value at
    /// which it is reached. May be given more than once.
    #[arg(long, value_name = "P")]
    threshold: Vec<f64>,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
    /// Simulate only block K of N (K = 0..N-1) of the runs, at every point, and write a part
    /// `<out>/<id>.sweep.shard-K-of-N.json` for `sim merge`; `auto` reads K and N from a Slurm
    /// job array or a Kubernetes indexed Job.
    #[arg(long, value_name = "K/N|auto")]
    shard: Option<crate::shard::ShardRequest>,
    /// With `--shard auto` in a Kubernetes indexed Job: the number of shards (the Job's
    /// `completions`; default: $SIM_SHARD_COUNT).
    #[arg(long, value_name = "N", requires = "shard")]
    shard_count: Option<u64>,
}

fn usage(message: String) -> Failure {
    Failure {
        message,
        code: exit::USAGE,
    }
}

pub(crate) fn sweep(args: SweepArgs) -> Result<(), Failure> {
    if args.axes.len() > 2 {
        return Err(usage(
            "error: a sweep takes one or two --param (a curve or a grid)".into(),
        ));
    }
    if args.runs == Some(0) {
        return Err(usage("error: --runs must be at least 1".into()));
    }
    if let Some(level) = args.threshold.iter().find(|l| !(**l > 0.0 && **l < 1.0)) {
        return Err(usage(format!(
            "error: --threshold {level} is not a probability strictly between 0 and 1"
        )));
    }
    let points_total: usize = args.axes.iter().map(|a| a.values.len()).product();
    if points_total > crate::sweep::MAX_POINTS {
        return Err(usage(format!(
            "error: the grid has {points_total} points; at most {} are allowed",
            crate::sweep::MAX_POINTS
        )));
    }
    let (path, base) = compile_all(std::slice::from_ref(&args.file))?.remove(0);
    let axes = resolve(&args.axes, &base)?;
    let file_name = path.file_name().and_then(|n| n.to_str()).ok_or_else(|| Failure {
        message: format!(
            "error: {} has no file name sim can write into a scenario",
            path.display()
        ),
        code: exit::OTHER,
    })?;
    let info = &base.info;
    let points = points(file_name, &info.id, &info.name, &axes);
    let models = compile_points(&path, &points)?;

    let pool = thread_pool(args.threads)?;
    check_writable(&args.out)?;
    let shard = args
        .shard
        .map(|request| super::sharding::resolve_shard(request, args.shard_count))
        .transpose()?;
    QUIET.store(args.quiet, std::sync::atomic::Ordering::Relaxed);
    let (seed, runs) = (
        args.seed.unwrap_or(base.default_seed),
        args.runs.unwrap_or(base.default_runs),
    );
    let study = Study {
        jobs: models
            .iter()
            .map(|m| {
                let job = Job::new(m, Some(seed), Some(runs))
                    // A sweep publishes each point's probabilities only: no per-point sensitivity.
                    .with_analysis(Analysis::Off);
                // A shard: its block of runs at every point, so the points stay paired.
                let block = shard.map_or(0..runs, |shard| shard.runs(runs));
                job.with_block(block)
            })
            .collect(),
        baseline: 0,
    };
    let results = simulate_study(&study, &pool)?;
    let summaries: Vec<Summary> = study
        .jobs
        .iter()
        .zip(&results)
        .map(|(job, result)| summarize(&job.model.info, &job.identity(), &result.results))
        .collect();
    let cells = cells(&points, &summaries);
    if let Some(shard) = shard {
        let point_digests: Vec<&str> = models.iter().map(|m| m.scenario_digest.as_str()).collect();
        let definition = SweepDefinition {
            info,
            scenario_digest: &base.scenario_digest,
            point_digests: &point_digests,
            axes: axes.iter().map(|(axis, target)| PartAxis::new(axis, *target)).collect(),
            thresholds: &args.threshold,
            seed,
            runs,
        };
        let part = SweepPart::new(definition, shard, &cells);
        let path = write_part(&part, &args.out)?;
        if !args.quiet {
            eprintln!(
                "wrote {} (shard {shard}: runs {}..{} of {} at each of {} points, seed {seed})",
                path.display(),
                part.first_run,
                part.end_run,
                runs,
                points.len()
            );
        }
        return Ok(());
    }
    let sweep = MergedSweep {
        info: info.clone(),
        axes: args.axes.iter().map(|a| (a.name.clone(), a.values.clone())).collect(),
        thresholds: args.threshold.clone(),
        seed: summaries[0].seed,
        runs: summaries[0].runs,
        engine: summaries[0].engine.clone(),
        cells,
    };
    write_merged(&sweep, &args.out, args.quiet)
}

/// Writes a whole sweep, simulated here or merged from parts, to `<out>/<id>-sweep/` (staged,
/// published as a whole) and prints it unless `quiet`.
pub(super) fn write_merged(sweep: &MergedSweep, out: &Path, quiet: bool) -> Result<(), Failure> {
    let MergedSweep {
        info,
        cells,
        thresholds,
        runs,
        seed,
        ..
    } = sweep;
    let names: Vec<&str> = sweep.axes.iter().map(|(name, _)| name.as_str()).collect();
    let dir = out.join(format!("{}-sweep", info.id));
    let staging = Staging::new(dir.clone())?;
    write_atomic(&staging.path().join("sweep.csv"), table_csv(&names, cells).as_bytes())?;
    if !thresholds.is_empty() {
        write_atomic(
            &staging.path().join("thresholds.csv"),
            thresholds_csv(&names, cells, thresholds).as_bytes(),
        )?;
    }
    // The report embeds the SVGs just drawn, not copies read back from the files.
    let svgs = crate::plot::write_sweep_charts(info, &names, cells, thresholds, (*runs, *seed), staging.path())?;
    let page = SweepPage {
        info,
        axes: sweep
            .axes
            .iter()
            .map(|(name, values)| {
                (
                    name.as_str(),
                    values[0],
                    *values.last().expect("2 points at least"),
                    values.len(),
                )
            })
            .collect(),
        levels: thresholds,
        runs: *runs,
        seed: *seed,
        engine: &sweep.engine,
        svgs: &svgs,
    };
    let html = sweep_report(&page, cells).map_err(anyhow::Error::from)?;
    write_atomic(&staging.path().join("index.html"), html.as_bytes())?;
    staging.publish()?;
    if !quiet {
        print!("{}", printed(info, &names, cells, thresholds, *runs, *seed));
        eprintln!("wrote {}", dir.display());
    }
    Ok(())
}

/// Each axis with what it sets: a param of the scenario, else a trigger's probability.
fn resolve(axes: &[Axis], base: &Model) -> Result<Vec<(Axis, Target)>, Failure> {
    let params: Vec<&str> = base.info.params.iter().map(|p| p.name.as_str()).collect();
    let triggers: Vec<&str> = base.info.triggers.iter().map(|t| t.id.as_str()).collect();
    axes.iter()
        .map(|axis| {
            let name = axis.name.as_str();
            if params.contains(&name) {
                Ok((axis.clone(), Target::Param))
            } else if triggers.contains(&name) {
                if let Some(v) = axis.values.iter().find(|v| !(0.0..=1.0).contains(*v)) {
                    return Err(usage(format!(
                        "error: `{name}` is a trigger, and its probability {v} is not between 0 and 1"
                    )));
                }
                Ok((axis.clone(), Target::TriggerProbability))
            } else {
                let candidates: Vec<&str> = params.iter().chain(&triggers).copied().collect();
                let closest = crate::diagnostic::closest(name, &candidates)
                    .map(|k| format!("did you mean `{k}`?"))
                    .unwrap_or_else(|| format!("the params are {}", params.join(", ")));
                Err(usage(format!(
                    "error: --param `{name}` is neither a param nor a trigger of `{}`\n  = help: {closest}",
                    base.info.id
                )))
            }
        })
        .collect()
}

/// Every point compiled as the variant it is; a point the scenario rejects (a value out of a
/// param's range) is reported with its settings.
fn compile_points(path: &std::path::Path, points: &[crate::sweep::Point]) -> Result<Vec<Model>, Failure> {
    points
        .iter()
        .map(|point| {
            // Never written: a name beside the scenario, so that `extends` resolves.
            let virtual_path = path.with_file_name(format!(".{}.toml", point.id));
            load_text(&virtual_path, point.text.clone())
                .and_then(|loaded| compile(&loaded))
                .map_err(|e| Failure {
                    message: format!("error: the sweep point `{}` is not a valid scenario:\n{e}", point.id),
                    code: exit::INVALID_SCENARIO,
                })
        })
        .collect()
}

/// `thresholds.csv`: for each level, outcome or rung (and value of the second axis), where the
/// first axis's sweep crosses it.
fn thresholds_csv(names: &[&str], cells: &[Cell], levels: &[f64]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["level", "kind", "outcome", "param"];
    if names.len() > 1 {
        header.extend(["param2", "value2"]);
    }
    header.extend(["crossing", "value", "lo95", "hi95"]);
    writer.write_record(&header).expect("writing to memory");
    for &level in levels {
        for (kind, id, _, second, crossing) in crossings(cells, level) {
            let mut row = vec![level.to_string(), kind.to_string(), id, names[0].to_string()];
            if let Some(second) = second {
                row.extend([names[1].to_string(), second.to_string()]);
            }
            let text = |x: Option<f64>| x.map(|x| format!("{x}")).unwrap_or_default();
            row.extend(match crossing {
                Crossing::AtStart => ["at_start".into(), String::new(), String::new(), String::new()],
                Crossing::Never => ["never".into(), String::new(), String::new(), String::new()],
                Crossing::Between { estimate, lo, hi } => {
                    ["between".into(), format!("{:.6}", estimate), text(lo), text(hi)]
                }
            });
            writer.write_record(&row).expect("writing to memory");
        }
    }
    String::from_utf8(writer.into_inner().expect("flushing to memory")).expect("UTF-8 fields")
}

/// The terminal summary: per outcome (not rungs, to stay short), its probability by the horizon
/// at each point, and the crossings of the thresholds.
fn printed(
    info: &crate::model::ScenarioInfo,
    names: &[&str],
    cells: &[Cell],
    levels: &[f64],
    runs: u64,
    seed: u64,
) -> String {
    let decimals = crate::aggregate::decimals_for(runs);
    // As `format::percent_decimals` of a summary of these runs.
    let digits = decimals.saturating_sub(2) as usize;
    let mut text = format!(
        "Sweep of {} over {} ({} runs per point, seed {}; P by the horizon, 95% interval)\n",
        info.id,
        names.join(" x "),
        thousands(runs),
        seed
    );
    for outcome in &info.outcomes {
        let _ = writeln!(text, "\n{}", outcome.label);
        for cell in cells.iter().filter(|c| c.kind == "outcome" && c.id == outcome.id) {
            let e = estimate(cell.count, cell.runs, decimals);
            let at: Vec<String> = names
                .iter()
                .zip(&cell.values)
                .map(|(n, v)| format!("{n} = {v}"))
                .collect();
            let _ = writeln!(
                text,
                "  {:<36} {:.digits$}% [{:.digits$}, {:.digits$}]",
                at.join(", "),
                e.p * 100.0,
                e.lo * 100.0,
                e.hi * 100.0
            );
        }
        for &level in levels {
            for (kind, id, _, second, crossing) in crossings(cells, level) {
                if kind != "outcome" || id != outcome.id {
                    continue;
                }
                let held = match (second, names.get(1)) {
                    (Some(v), Some(n)) => format!(" (at {n} = {v})"),
                    _ => String::new(),
                };
                let line = crate::sweep::describe(&crossing, level, names[0], cells[0].values[0]);
                let _ = writeln!(text, "  -> {line}{held}");
            }
        }
    }
    text
}
