//! `sim run --shard` and `sim merge`: partial results out, and a single run's outputs from them.
//!
//! In: compiled models and a shard (`--shard K/N` or `auto`), or the partial-result files of
//! every shard. Out: `<out>/<id>.shard-K-of-N.json` per scenario, or, after `shard::merge` has
//! checked the parts, the same `out/<id>/` files a single-process `sim run` writes, through the
//! same `write_results`. Parts of `sim sweep --shard` (told apart by their `kind`) are merged by
//! `shard::sweep::merge` and written by `cli/sweep` as a single-process sweep is.

use std::path::PathBuf;

use anyhow::Context;

use super::{Failure, RunArgs, exit, expand, simulate_study, study_of, write_results};
use crate::aggregate::summarize;
use crate::job::Job;
use crate::model::Model;
use crate::shard::sweep::{AnyPart, read_any_part};
use crate::shard::{MergeError, Partial, Shard, ShardRequest, from_scheduler, write_partial};

#[derive(clap::Args, Debug)]
pub(super) struct MergeArgs {
    /// Partial results of `sim run --shard` (or of `sim sweep --shard`): files, quoted globs,
    /// or directories holding `*.shard-K-of-N.json` files. Parts of several scenarios are
    /// merged per scenario.
    #[arg(required = true)]
    parts: Vec<String>,
    /// Output directory.
    #[arg(long, default_value = "output")]
    out: PathBuf,
    /// Compare the merged results with stored ones, as `sim run --expect` does.
    #[arg(long, value_name = "DIR|FILE|DIGEST")]
    expect: Option<String>,
    #[command(flatten)]
    report: super::ReportArgs,
}

/// Simulates this shard's block of runs of every model and writes the partial results.
pub(super) fn run_shard(
    models: &[(PathBuf, Model)],
    args: &RunArgs,
    request: ShardRequest,
    pool: &rayon::ThreadPool,
) -> Result<(), Failure> {
    let shard = resolve_shard(request, args.shard_count)?;
    super::QUIET.store(args.report.quiet, std::sync::atomic::Ordering::Relaxed);
    // As in `run`: everything is simulated before anything is written.
    let study = study_of(
        models,
        |model| {
            let job = Job::new(model, args.seed, args.runs).with_analysis(args.analysis());
            let block = shard.runs(job.runs);
            job.with_block(block)
        },
        &args.report,
    )?;
    let baseline = study.jobs[study.baseline].model.info.id.clone();
    let partials: Vec<Partial> = study
        .jobs
        .iter()
        .zip(simulate_study(&study, pool)?)
        .map(|(job, result)| {
            let paired = result.paired.map(|paired| (baseline.clone(), paired));
            Partial::new(
                &job.model.info,
                &job.identity(),
                job.runs,
                shard,
                result.results,
                paired,
            )
        })
        .collect();
    for partial in &partials {
        let path = write_partial(partial, &args.out)?;
        let wrote = format!(
            "wrote {} (shard {shard}: runs {}..{} of {}, seed {})",
            path.display(),
            partial.first_run,
            partial.end_run,
            partial.runs,
            partial.seed
        );
        super::note(&args.report, &wrote);
    }
    Ok(())
}

/// The shard this process is: `--shard K/N` (which `--shard-count` must agree with), or with
/// `auto` the scheduler's (`shard::from_scheduler`). For `sim run` and `sim sweep` alike.
pub(super) fn resolve_shard(request: ShardRequest, shard_count: Option<u64>) -> Result<Shard, Failure> {
    match request {
        ShardRequest::Fixed(shard) if shard_count.is_some_and(|n| n != shard.count()) => Err(Failure {
            message: format!("error: --shard-count disagrees with --shard {shard}; drop --shard-count"),
            code: exit::USAGE,
        }),
        ShardRequest::Fixed(shard) => Ok(shard),
        ShardRequest::Auto => from_scheduler(|name| std::env::var(name).ok(), shard_count).map_err(|e| Failure {
            message: format!("error: {e}"),
            code: exit::USAGE,
        }),
    }
}

fn refused(refused: MergeError) -> Failure {
    Failure {
        message: refused
            .problems
            .iter()
            .map(|problem| format!("error: {problem}"))
            .collect::<Vec<_>>()
            .join("\n"),
        code: exit::PARTS_REFUSED,
    }
}

/// Checks and merges partial results, then writes them like a single-process run (or, parts of
/// `sim sweep --shard`, like a single-process sweep).
pub(super) fn merge(args: MergeArgs) -> Result<(), Failure> {
    let files = part_files(&args.parts)?;
    let (mut parts, mut sweeps) = (Vec::new(), Vec::new());
    for file in &files {
        match read_any_part(file)? {
            AnyPart::Run(part) => parts.push((file.display().to_string(), *part)),
            AnyPart::Sweep(part) => sweeps.push((file.display().to_string(), *part)),
        }
    }
    if let (Some((run, _)), Some((sweep, _))) = (parts.first(), sweeps.first()) {
        return Err(refused(MergeError {
            problems: vec![format!(
                "{sweep} is a part of a sweep (`sim sweep --shard`) but {run} is a part of `sim run --shard`; \
                 merge each study's parts on their own (give every study its own parts directory)"
            )],
        }));
    }
    if !sweeps.is_empty() {
        if args.expect.is_some() {
            return Err(Failure {
                message: "error: --expect compares the summaries of `sim run`; a sweep has none".into(),
                code: exit::USAGE,
            });
        }
        for sweep in crate::shard::sweep::merge(sweeps).map_err(refused)? {
            super::sweep::write_merged(&sweep, &args.out, args.report.quiet)?;
        }
        return Ok(());
    }
    let merged = crate::shard::merge(parts).map_err(refused)?;
    let summaries: Vec<_> = merged
        .iter()
        .map(|one| {
            let mut summary = summarize(&one.info, &one.identity(), &one.results);
            // The engine that simulated the runs, not the one that added them up.
            summary.engine = one.engine.clone();
            summary.paired = one
                .paired
                .as_ref()
                .map(|(baseline, paired)| crate::aggregate::paired_tables(&one.info, paired, baseline));
            summary
        })
        .collect();
    let expected = expected_for_merge(args.expect.as_deref(), &summaries)?;
    write_results(&summaries, &args.out, &args.report)?;
    expected.check(&summaries, false)
}

/// `--expect` of `sim merge`: like `sim run`'s, keyed by the merged scenarios.
fn expected_for_merge(
    spec: Option<&str>,
    summaries: &[crate::aggregate::Summary],
) -> Result<super::expect::Expectations, Failure> {
    super::expect::Expectations::open_for_ids(
        spec,
        &summaries.iter().map(|s| s.scenario.id.clone()).collect::<Vec<_>>(),
        false,
    )
}

/// The part files named by the arguments: files, globs, and the shard files in directories.
fn part_files(arguments: &[String]) -> Result<Vec<PathBuf>, Failure> {
    let mut files = Vec::new();
    for path in expand(arguments)? {
        if !path.is_dir() {
            files.push(path);
            continue;
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(&path)
            .with_context(|| format!("cannot read directory {}", path.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(is_shard_file_name))
            .collect();
        if found.is_empty() {
            return Err(Failure {
                message: format!(
                    "error: {} holds no partial results (<id>.shard-K-of-N.json files written by `sim run --shard`, or <id>.sweep.shard-K-of-N.json by `sim sweep --shard`)",
                    path.display()
                ),
                code: exit::OTHER,
            });
        }
        found.sort();
        files.extend(found);
    }
    // The same file named twice (`parts parts/x.json`) is one part, not a duplicated shard.
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(f.clone()));
    Ok(files)
}

/// `<id>.shard-K-of-N.json`, as `Shard::file_name` writes it.
fn is_shard_file_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".json") else {
        return false;
    };
    let Some((_, shard)) = stem.rsplit_once(".shard-") else {
        return false;
    };
    let Some((index, count)) = shard.split_once("-of-") else {
        return false;
    };
    index.parse::<u64>().is_ok() && count.parse::<u64>().is_ok_and(|n| n > 0) && !name.starts_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shard::Shard;

    #[test]
    fn recognizes_the_names_it_writes() {
        assert!(is_shard_file_name(&Shard::new(3, 8).unwrap().file_name("baseline")));
        // A sweep's parts, `<id>.sweep.shard-K-of-N.json`, are found in directories too.
        assert!(is_shard_file_name("baseline.sweep.shard-3-of-8.json"));
        assert!(!is_shard_file_name("summary.json"));
        assert!(!is_shard_file_name("baseline.shard-1-of-x.json"));
        assert!(!is_shard_file_name(".sim-tmp-abc"));
    }
}
