//! The command line: arguments in, files and a terminal report out.
//!
//! Glue only: it expands globs, calls load -> compile -> simulate -> aggregate -> report/plot,
//! prints errors once, and maps failures to exit codes. All user-facing printing happens here.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use crate::aggregate::{RunIdentity, Summary, summarize};
use crate::compile::{Model, compile};
use crate::load::load;
use crate::output::{Staging, scenario_dir};
use crate::simulate::{Observer, simulate};
use crate::tally::Tallies;

mod expect;
mod sharding;

/// Exit codes, documented in docs/cli.md.
pub mod exit {
    /// A scenario file is invalid (every problem is printed).
    pub const INVALID_SCENARIO: u8 = 1;
    /// Bad command-line usage (clap's convention).
    pub const USAGE: u8 = 2;
    /// A run produced an invalid value (a probability outside [0, 1], a NaN).
    pub const SIMULATION: u8 = 3;
    /// `--expect`: the results differ from the expected ones (the differences are printed).
    pub const RESULTS_DIFFER: u8 = 4;
    /// Anything else: I/O, unreadable files.
    pub const OTHER: u8 = 5;
    /// `sim merge`: the parts are not one complete run (missing, duplicated or foreign shards).
    pub const PARTS_REFUSED: u8 = 6;
    /// `sim compare` was given results whose horizons or ladders do not line up.
    pub const INCOMPARABLE: u8 = 7;
}

const EXAMPLES: &str = "\
Examples:
  sim run scenarios/*.toml                      run every shipped scenario into output/
  sim run scenarios/baseline.toml --runs 100000 --seed 7 --threads 2
  sim check scenarios/*.toml                    validate only
  sim trace scenarios/baseline.toml --run 42    narrate run 42 of `sim run`
  sim compare output/baseline output/seoul_arms_kyiv   redraw the comparison from earlier results
  sim run 'scenarios/*.toml' --expect tests/golden   exit 4 if results changed (docs/cli.md)
  sim run scenarios/baseline.toml --shard 0/4 --out parts   first of 4 shards (docs/cluster.md)
  sim merge parts --out output                  merge the shards into output/";

#[derive(Parser, Debug)]
#[command(name = "sim", version, about = "Seeded, parallel Monte Carlo simulation of escalation scenarios", after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Simulate scenarios and write tables and charts under --out.
    #[command(after_help = EXAMPLES)]
    Run(RunArgs),
    /// Validate scenarios without running them.
    Check {
        /// Scenario files or globs.
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Redraw the comparison charts and report from earlier results, without re-running.
    Compare {
        /// Result directories (holding summary.json) or summary.json files, first = reference.
        #[arg(required = true, num_args = 2..)]
        results: Vec<PathBuf>,
        /// Where to write `compare/` and `index.html`.
        #[arg(long, default_value = "output")]
        out: PathBuf,
    },
    /// Print one run as a dated narrative: exactly run I of `sim run` with the same seed.
    Trace {
        file: PathBuf,
        /// Run index (0-based), as in `sim run`.
        #[arg(long)]
        run: u64,
        /// Seed (default: the scenario's).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Merge the partial results of `sim run --shard` into the outputs of a single run.
    Merge(sharding::MergeArgs),
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Scenario files or globs (quoted globs are expanded by sim).
    #[arg(required = true)]
    files: Vec<String>,
    /// Number of runs (default: the scenario's `runs`, else 10000).
    #[arg(long)]
    runs: Option<u64>,
    /// Seed (default: the scenario's `seed`, else 1).
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Output directory.
    #[arg(long, default_value = "output")]
    out: PathBuf,
    /// Simulate only block K of N (K = 0..N-1) of the runs and write a partial result
    /// `<out>/<id>.shard-K-of-N.json` for `sim merge`; `auto` reads K and N from a Slurm job
    /// array or a Kubernetes indexed Job.
    #[arg(long, value_name = "K/N|auto")]
    shard: Option<crate::shard::ShardRequest>,
    /// With `--shard auto` in a Kubernetes indexed Job: the number of shards (the Job's
    /// `completions`; default: $SIM_SHARD_COUNT).
    #[arg(long, value_name = "N", requires = "shard")]
    shard_count: Option<u64>,
    /// Compare the results with stored ones: a directory of `<id>.json` (or `<id>/summary.json`),
    /// a summary.json, or a tallies digest. Exit 4 with the differing cells if they differ. Seed
    /// and runs default to the stored ones.
    #[arg(long, value_name = "DIR|FILE|DIGEST", conflicts_with = "shard")]
    expect: Option<String>,
    /// With --expect: store these results as the expected ones instead of comparing.
    #[arg(long, requires = "expect")]
    bless: bool,
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(exit::USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    // Ctrl-C: remove what is half-written, then exit like an interrupted shell command.
    let _ = ctrlc::set_handler(|| {
        crate::output::remove_unfinished();
        std::process::exit(130);
    });
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

/// Runs `sim` on `args` (the first is the program name) as [`main`] does, minus the Ctrl-C
/// handler, and returns the exit code with the error message `main` would print (empty on
/// success); what a command prints on success still goes to stdout and stderr. For drivers that
/// run many commands in one process, such as the fuzz harness (examples/fuzz).
pub fn run_args<I, T>(args: I) -> (u8, String)
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match Cli::try_parse_from(args) {
        Ok(cli) => match dispatch(cli.command) {
            Ok(()) => (0, String::new()),
            Err(failure) => (failure.code, failure.message),
        },
        Err(e) => (if e.use_stderr() { exit::USAGE } else { 0 }, e.to_string()),
    }
}

/// An error already worded for the user, with its exit code.
struct Failure {
    message: String,
    code: u8,
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure {
            message: format!("error: {e:#}"),
            code: exit::OTHER,
        }
    }
}

fn dispatch(command: Command) -> Result<(), Failure> {
    match command {
        Command::Run(args) => run(args),
        Command::Check { files } => {
            let models = compile_all(&expand(&files)?)?;
            for (path, model) in &models {
                println!(
                    "ok: {} ({}: {} actors, {} triggers, {} outcomes, {} steps)",
                    path.display(),
                    model.info.id,
                    model.info.actors.len(),
                    model.triggers.len(),
                    model.outcomes.len(),
                    model.steps
                );
            }
            Ok(())
        }
        Command::Compare { results, out } => {
            let summaries = results
                .iter()
                .map(|path| {
                    let file = if path.is_dir() {
                        path.join("summary.json")
                    } else {
                        path.clone()
                    };
                    crate::report::read_summary(&file)
                })
                .collect::<Result<Vec<_>>>()?;
            crate::plot::check_comparable(&summaries).map_err(|why| Failure {
                message: format!("error: cannot compare these results: {why}"),
                code: exit::INCOMPARABLE,
            })?;
            write_comparison(&summaries, &out)?;
            print!("{}", crate::html::headline_table(&summaries));
            Ok(())
        }
        Command::Merge(args) => sharding::merge(args),
        Command::Trace { file, run, seed } => {
            let (_, model) = compile_all(std::slice::from_ref(&file))?.remove(0);
            print!("{}", trace(&model, seed.unwrap_or(model.default_seed), run)?);
            Ok(())
        }
    }
}

/// Expands globs (for shells that pass them through, and for Windows) and keeps order.
fn expand(patterns: &[String]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for pattern in patterns {
        if pattern.contains(['*', '?', '[']) {
            let matches: Vec<PathBuf> = glob::glob(pattern)
                .with_context(|| format!("bad glob `{pattern}`"))?
                .filter_map(Result::ok)
                .collect();
            if matches.is_empty() {
                bail!("no file matches `{pattern}`");
            }
            files.extend(matches);
        } else {
            files.push(PathBuf::from(pattern));
        }
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(f.clone()));
    Ok(files)
}

/// Loads and compiles every file, reporting the problems of all of them before failing.
fn compile_all(files: &[PathBuf]) -> Result<Vec<(PathBuf, Model)>, Failure> {
    let mut models = Vec::new();
    let mut messages = Vec::new();
    for path in files {
        match load(path).and_then(|loaded| compile(&loaded)) {
            Ok(model) => models.push((path.clone(), model)),
            Err(e) => messages.push(format!("{e} {}", path.display())),
        }
    }
    if !messages.is_empty() {
        return Err(Failure {
            message: messages.join("\n\n"),
            code: exit::INVALID_SCENARIO,
        });
    }
    let mut ids = std::collections::HashMap::new();
    for (path, model) in &models {
        if let Some(other) = ids.insert(model.info.id.clone(), path.clone()) {
            return Err(Failure {
                message: format!(
                    "error: {} and {} both have the scenario id `{}`; their outputs would collide\n  = help: set a distinct `id` in `[scenario]`",
                    other.display(),
                    path.display(),
                    model.info.id
                ),
                code: exit::INVALID_SCENARIO,
            });
        }
    }
    Ok(models)
}

fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        if n == 0 {
            bail!("--threads must be at least 1");
        }
        builder = builder.num_threads(n);
    }
    Ok(builder.build()?)
}

/// Simulates one model over runs `0..runs` with a progress bar on a terminal.
fn simulate_model(model: &Model, seed: u64, runs: u64, pool: &rayon::ThreadPool) -> Result<Summary, Failure> {
    let tallies = simulate_runs(model, seed, 0, runs, pool)?;
    let identity = RunIdentity {
        seed,
        scenario_digest: model.scenario_digest.clone(),
    };
    Ok(summarize(&model.info, &identity, &tallies))
}

/// Simulates runs `first..first + runs` with a progress bar on a terminal.
fn simulate_runs(
    model: &Model,
    seed: u64,
    first: u64,
    runs: u64,
    pool: &rayon::ThreadPool,
) -> Result<Tallies, Failure> {
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(runs);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg:>24} [{bar:40}] {pos}/{len} runs ({per_sec}, eta {eta})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_message(model.info.id.clone());
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let tallies = pool
        .install(|| simulate(model, seed, first, runs, &|n| bar.inc(n)))
        .map_err(|e| Failure {
            message: format!("error: {e}"),
            code: exit::SIMULATION,
        })?;
    bar.finish_and_clear();
    Ok(tallies)
}

fn run(args: RunArgs) -> Result<(), Failure> {
    let models = compile_all(&expand(&args.files)?)?;
    if args.runs == Some(0) {
        return Err(Failure {
            message: "error: --runs must be at least 1".into(),
            code: exit::USAGE,
        });
    }
    let pool = thread_pool(args.threads)?;
    if let Some(shard) = args.shard {
        return sharding::run_shard(&models, &args, shard, &pool);
    }
    let expected = expect::Expectations::open(args.expect.as_deref(), &models, args.bless)?;
    // Everything is simulated before anything is written: a failure leaves no partial output.
    let mut summaries = Vec::new();
    for (_, model) in &models {
        let (stored_seed, stored_runs) = expected.seed_and_runs(&model.info.id);
        let seed = args.seed.or(stored_seed).unwrap_or(model.default_seed);
        let runs = args.runs.or(stored_runs).unwrap_or(model.default_runs);
        summaries.push(simulate_model(model, seed, runs, &pool)?);
    }
    write_results(&summaries, &args.out)?;
    expected.check(&summaries, args.bless)
}

/// Writes every output of a finished job: each scenario's directory, the comparison when there
/// are several scenarios, the report, and the headline table on stdout. `sim run` and
/// `sim merge` both end here, so merged results look exactly like single-machine ones.
fn write_results(summaries: &[Summary], out: &Path) -> Result<()> {
    for summary in summaries {
        let dir = write_scenario(summary, out)?;
        eprintln!("wrote {}", dir.display());
    }
    if summaries.len() > 1 {
        match crate::plot::check_comparable(summaries) {
            Ok(()) => write_comparison(summaries, out)?,
            Err(why) => eprintln!("note: no comparison charts: {why}"),
        }
    }
    let report = crate::html::write_report(summaries, out)?;
    eprintln!("wrote {}", report.display());
    println!("{}", crate::html::headline_table(summaries));
    Ok(())
}

/// Writes `out/compare/`, replaced as a whole.
fn write_comparison(summaries: &[Summary], out: &Path) -> Result<()> {
    let staging = Staging::new(out.join("compare"))?;
    crate::plot::write_comparison(summaries, staging.path())?;
    let dir = staging.publish()?;
    eprintln!("wrote {}", dir.display());
    Ok(())
}

/// Writes one scenario's tables (and charts) into `out/<id>`, replacing it as a whole.
fn write_scenario(summary: &Summary, out: &Path) -> Result<PathBuf> {
    let staging = Staging::new(scenario_dir(out, &summary.scenario.id))?;
    crate::report::write_tables(summary, staging.path())?;
    crate::plot::write_scenario_charts(summary, staging.path())?;
    staging.publish()
}

/// A run as a dated narrative.
fn trace(model: &Model, seed: u64, run: u64) -> Result<String, Failure> {
    struct Narrator<'m> {
        model: &'m Model,
        lines: Vec<String>,
    }
    impl Narrator<'_> {
        fn value(&self, slot: u32, v: f64) -> String {
            let levels = &self.model.slot_levels[slot as usize];
            if !levels.is_empty() {
                return levels.get(v as usize).cloned().unwrap_or_else(|| v.to_string());
            }
            v.to_string()
        }
        fn when(&self, t: usize) -> String {
            format!("{} (step {t})", self.model.info.step_labels[t])
        }
    }
    impl Observer for Narrator<'_> {
        fn param_drawn(&mut self, param: usize, value: f64) {
            let p = &self.model.params[param];
            self.lines.push(format!("  param {} = {value:.6}", p.name));
        }
        fn fired(&mut self, t: usize, trigger: usize, landing: Option<usize>) {
            let tr = &self.model.triggers[trigger];
            let delay = match landing {
                Some(l) if l != t => format!(" (effects land {})", self.when(l)),
                _ if tr.delay_max > 0 && landing.is_none() => " (effects would land after the horizon)".to_string(),
                _ => String::new(),
            };
            self.lines
                .push(format!("{}  {} [{}]{delay}", self.when(t), tr.label, tr.id));
        }
        fn changed(&mut self, t: usize, trigger: usize, slot: u32, old: f64, new: f64, delayed: bool) {
            if old == new {
                return;
            }
            let name = &self.model.slot_names[slot as usize];
            let from = if delayed {
                format!(", from [{}] earlier", self.model.triggers[trigger].id)
            } else {
                String::new()
            };
            let prefix = if delayed {
                format!("{}  ", self.when(t))
            } else {
                " ".repeat(self.when(t).len() + 2)
            };
            self.lines.push(format!(
                "{prefix}  {name}: {} -> {}{from}",
                self.value(slot, old),
                self.value(slot, new)
            ));
        }
    }
    let mut narrator = Narrator {
        model,
        lines: Vec::new(),
    };
    let tallies = crate::simulate::replay(model, seed, run, &mut narrator).map_err(|e| Failure {
        message: format!("error: {e}"),
        code: exit::SIMULATION,
    })?;
    let info = &model.info;
    let levels = tallies.shape.levels;
    let final_level = (0..levels)
        .find(|&k| tallies.level_at[info.steps * levels + k] > 0)
        .unwrap_or(0);
    let peak = (0..levels)
        .find(|&k| tallies.max_level_at[info.steps * levels + k] > 0)
        .unwrap_or(0);
    let mut out = format!(
        "{}: run {run}, seed {seed}\nstart {}: escalation at `{}`\n",
        info.name, info.step_labels[0], info.levels[info.initial_level]
    );
    if !model.params.is_empty() {
        out.push_str("params drawn for this run:\n");
    }
    for line in &narrator.lines {
        out.push_str(line);
        out.push('\n');
    }
    let held: Vec<&str> = info
        .outcomes
        .iter()
        .enumerate()
        .filter(|(o, _)| tallies.outcome_by[info.steps * tallies.shape.outcomes + o] > 0)
        .map(|(_, outcome)| outcome.label.as_str())
        .collect();
    out.push_str(&format!(
        "end {}: escalation at `{}` (rung {final_level}), highest `{}` (rung {peak})\noutcomes reached: {}\n",
        info.step_labels[info.steps],
        info.levels[final_level],
        info.levels[peak],
        if held.is_empty() {
            "none".to_string()
        } else {
            held.join("; ")
        }
    ));
    Ok(out)
}
