//! The command line: arguments in, files and a terminal report out.
//!
//! Glue only: it expands globs, calls load -> compile -> simulate -> aggregate -> report/plot,
//! prints errors once, and maps failures to exit codes. All user-facing printing happens here.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use crate::aggregate::{Summary, summarize};
use crate::compile::compile;
use crate::job::{Job, Study, StudyResults};
use crate::lanes::Simd;
use crate::load::{load_text, read_scenario_file};
use crate::model::Model;
use crate::output::{Staging, scenario_dir};
use crate::simulate::Observer;
use crate::tally::{Shape, Tallies};

/// `eprintln!` that never panics: when standard error is a closed pipe (`sim run 2>&1 | head -1`)
/// the message is dropped, as a message on a closed stdout is (`print_stdout`).
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod expect;
mod junit;
mod precision;
mod sharding;
mod sweep;
mod test;
mod trace_diff;

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
    /// Anything else: I/O (an unwritable `--out`, a full disk), unreadable or invalid files.
    pub const OTHER: u8 = 5;
    /// `sim merge`: the parts are not one complete run (missing, duplicated or foreign shards).
    pub const PARTS_REFUSED: u8 = 6;
    /// `sim compare` was given results whose horizons or ladders do not line up; `sim trace
    /// --diff` two scenarios `sim run` would not pair.
    pub const INCOMPARABLE: u8 = 7;
    /// `sim test`: a claim failed (its whole 95% interval violates it).
    pub const CLAIMS_FAILED: u8 = 8;
    /// `sim test`: no claim failed, but some are still undecided at `--max-runs`.
    pub const CLAIMS_UNDECIDED: u8 = 9;
    /// Interrupted by Ctrl-C (SIGINT), as a shell reports it: 128 + 2.
    pub const INTERRUPTED: i32 = 130;
    /// Terminated by SIGTERM, as a shell reports it: 128 + 15.
    pub const TERMINATED: i32 = 143;
}

const EXAMPLES: &str = "\
Examples:
  sim run scenarios/*.toml                      run every shipped scenario into output/
  sim run scenarios/baseline.toml --runs 100000 --seed 7 --threads 2
  sim check scenarios/*.toml                    validate only
  sim trace scenarios/baseline.toml --run 42    narrate run 42 of `sim run`
  sim trace scenarios/seoul_arms_kyiv.toml --diff scenarios/baseline.toml --run 42
                                                run 42 of both, side by side where they differ
  sim compare output/baseline output/seoul_arms_kyiv   redraw the comparison from earlier results
  sim run 'scenarios/*.toml' --expect tests/golden   exit 4 if results changed (docs/cli.md)
  sim run scenarios/baseline.toml --shard 0/4 --out parts   first of 4 shards (docs/cluster.md)
  sim merge parts --out output                  merge the shards into output/
  sim sweep scenarios/baseline.toml --param p_clash=0.05..0.5:10 --threshold 0.25
  sim test scenarios/*.toml --junit report.xml  judge the scenarios' [[expect]] claims (docs/ci.md)";

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
    /// Redraw the comparison charts and the report from earlier results, without re-running:
    /// writes `<out>/compare/` and `<out>/index.html` (and no scenario directory).
    Compare {
        /// Result directories (holding summary.json) or summary.json files.
        #[arg(required = true, num_args = 2..)]
        results: Vec<PathBuf>,
        /// Where to write `compare/` and `index.html`.
        #[arg(long, default_value = "output")]
        out: PathBuf,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Print one run as a dated narrative: exactly run I of `sim run` with the same seed; with
    /// --diff, run I of two scenarios side by side from the first step where they differ.
    Trace {
        file: PathBuf,
        /// Run index (0-based), as in `sim run`.
        #[arg(long)]
        run: u64,
        /// Seed (default: the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// A scenario to compare run I with, side by side from the first step where they
        /// differ (the baseline `sim run` pairs FILE with).
        #[arg(long, value_name = "BASE")]
        diff: Option<PathBuf>,
        /// With --diff: the study's run count, which --run must be below (default: the
        /// scenarios').
        #[arg(long, requires = "diff")]
        runs: Option<u64>,
    },
    /// Merge the partial results of `sim run --shard` (or `sim sweep --shard`) into the outputs of
    /// a single process.
    Merge(sharding::MergeArgs),
    /// Sweep a param or a trigger's probability (or a grid of two): the response of every
    /// outcome, on common random numbers, and where it crosses --threshold.
    Sweep(sweep::SweepArgs),
    /// Print the JSON Schema of scenario files (for editors; docs/scenario-format.md).
    Schema,
    /// Judge the scenarios' `[[expect]]` claims on fresh runs (exit 8 if one fails, 9 if some
    /// stay undecided; docs/ci.md).
    Test(test::TestArgs),
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Scenario files or globs (quoted globs are expanded by sim).
    #[arg(required = true)]
    files: Vec<String>,
    /// Number of runs (default: the scenario's `runs`, else 10000).
    #[arg(long, conflicts_with = "precision")]
    runs: Option<u64>,
    /// Simulate until every headline 95% interval (each outcome and rung at the horizon) has at
    /// most this half-width, a probability (0.005: ±0.5 pp), checking at --min-runs and then
    /// at each doubling, up to --max-runs (docs/cli.md).
    #[arg(long, value_name = "HALF_WIDTH", conflicts_with = "shard")]
    precision: Option<f64>,
    /// With --precision: only these outcome or rung ids must be that precise (comma-separated).
    #[arg(long, value_name = "IDS", value_delimiter = ',', requires = "precision")]
    precision_on: Vec<String>,
    /// With --precision: the first checkpoint.
    #[arg(long, value_name = "N", requires = "precision", default_value_t = crate::precision::DEFAULT_MIN_RUNS)]
    min_runs: u64,
    /// With --precision: the most runs simulated, whether or not the target is met.
    #[arg(long, value_name = "N", requires = "precision", default_value_t = crate::precision::DEFAULT_MAX_RUNS)]
    max_runs: u64,
    /// Seed (default: the scenario's `seed`, else 1).
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads, 1 to 256 (default: all cores). Results do not depend on it.
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
    /// Count the tables only, at the plain engine's speed: no sensitivity analysis
    /// (`sensitivity.csv`, tornado charts). The tables are the same either way.
    #[arg(long)]
    no_analysis: bool,
    #[command(flatten)]
    report: ReportArgs,
}

impl RunArgs {
    fn analysis(&self) -> crate::job::Analysis {
        if self.no_analysis {
            crate::job::Analysis::Off
        } else {
            crate::job::Analysis::Full
        }
    }
}

/// How the results are compared and printed (`run`, `compare`, `merge`).
#[derive(clap::Args, Debug, Default)]
pub(crate) struct ReportArgs {
    /// The scenario id the others are compared with (default: the scenario the others
    /// `extends`, when there is exactly one, else the first file).
    #[arg(long, value_name = "ID")]
    baseline: Option<String>,
    /// Print nothing but errors (and the JSON of --format json).
    #[arg(long, short)]
    quiet: bool,
    /// The headline numbers on stdout as a table fitted to the terminal, or as JSON
    /// (docs/cli.md describes its shape).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Format {
    #[default]
    Text,
    Json,
}

/// The most worker threads `--threads` accepts: far more than any machine `sim` runs on has
/// cores, far fewer than would exhaust the process (each thread reserves a stack).
pub const MAX_THREADS: usize = 256;

pub fn main() -> ExitCode {
    // Before any thread exists, so that every thread inherits the blocked SIGTERM.
    #[cfg(unix)]
    let sigterm = block_sigterm();
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
        std::process::exit(exit::INTERRUPTED);
    });
    // SIGTERM (`timeout`, `kill`, Slurm's scancel, Kubernetes) likewise.
    #[cfg(unix)]
    std::thread::spawn(move || {
        let mut signal = 0;
        // SAFETY: `sigterm` is an initialised signal set and `signal` a valid place to write.
        while unsafe { libc::sigwait(&sigterm, &mut signal) } != 0 || signal != libc::SIGTERM {}
        crate::output::remove_unfinished();
        std::process::exit(exit::TERMINATED);
    });
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

/// Blocks SIGTERM in the calling thread (and so in every thread it starts), so that it is
/// delivered only to the thread that waits for it with `sigwait`.
#[cfg(unix)]
fn block_sigterm() -> libc::sigset_t {
    // SAFETY: the set is initialised by sigemptyset before use; the calls only read and write it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

/// Writes to standard output. When the reader has gone (`sim run ... | head -1`), the rest of
/// the output is dropped quietly and the command goes on to its own exit code, as other
/// command-line tools do; any other failure (`> /dev/full`) is an I/O error.
fn print_stdout(text: &str) -> Result<()> {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    static READER_GONE: AtomicBool = AtomicBool::new(false);
    if READER_GONE.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            READER_GONE.store(true, Ordering::Relaxed);
            Ok(())
        }
        written => written.context("cannot write to standard output"),
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
            let mut lines = String::new();
            for (path, model) in &models {
                lines.push_str(&format!(
                    "ok: {} ({}: {} actors, {} triggers, {} outcomes, {} steps)\n",
                    path.display(),
                    model.info.id,
                    model.info.actors.len(),
                    model.triggers.len(),
                    model.outcomes.len(),
                    model.steps
                ));
            }
            Ok(print_stdout(&lines)?)
        }
        Command::Compare { results, out, report } => {
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
            // Checked in the order given, so that a refusal names the pair as given.
            let verdict = crate::comparable::check_comparable(&summaries);
            verdict.clone().map_err(|why| Failure {
                message: format!("error: cannot compare these results: {why}"),
                code: exit::INCOMPARABLE,
            })?;
            let summaries = with_baseline_first(summaries, &report)?;
            let comparison = crate::comparable::Comparison::with_verdict(&summaries, verdict);
            publish(Vec::new(), &comparison, &out, &report)?;
            Ok(print_headline(&comparison, &report)?)
        }
        Command::Merge(args) => sharding::merge(args),
        Command::Sweep(args) => sweep::sweep(args),
        Command::Test(args) => test::test(args),
        Command::Schema => {
            print!("{}", crate::schema::scenario_schema());
            Ok(())
        }
        Command::Trace {
            file,
            run,
            seed,
            diff: Some(base),
            runs,
        } => {
            let models = compile_all(&[file, base])?;
            let text = trace_diff::trace_diff((&models[0].1, &models[1].1), seed, runs, run)?;
            Ok(print_stdout(&text)?)
        }
        Command::Trace { file, run, seed, .. } => {
            let (_, model) = compile_all(std::slice::from_ref(&file))?.remove(0);
            Ok(print_stdout(&trace(&model, seed.unwrap_or(model.default_seed), run)?)?)
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
    let mut unreadable = false;
    for path in files {
        let text = match read_scenario_file(path) {
            Ok(text) => text,
            Err(e) => {
                unreadable = true;
                let help = match e.problem {
                    crate::input::ReadProblem::Missing => {
                        "\n  = help: check the path; globs such as 'scenarios/*.toml' are expanded by `sim`".to_string()
                    }
                    crate::input::ReadProblem::NotUtf8 { line, column, .. } => format!(
                        "\n  --> {}:{line}:{column}\n  = help: save the file as UTF-8 text",
                        path.display()
                    ),
                    _ => String::new(),
                };
                messages.push(format!("error: {e}{help}"));
                continue;
            }
        };
        match load_text(path, text).and_then(|loaded| compile(&loaded).map(|model| (loaded, model))) {
            Ok((loaded, model)) => {
                print_warnings(&loaded, &model);
                models.push((path.clone(), model));
            }
            Err(e) => messages.push(format!("{e} {}", path.display())),
        }
    }
    if !messages.is_empty() {
        return Err(Failure {
            message: messages.join("\n\n"),
            // A file that cannot be read is an I/O failure, not an invalid scenario.
            code: if unreadable {
                exit::OTHER
            } else {
                exit::INVALID_SCENARIO
            },
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

/// Prints the warnings of a valid scenario (likely mistakes, `compile::lint`) on stderr; they
/// change neither the results nor the exit code.
fn print_warnings(loaded: &crate::load::LoadedScenario, model: &Model) {
    let warnings = crate::compile::lint::lint(model, loaded);
    if warnings.is_empty() {
        return;
    }
    for warning in &warnings {
        eprintln!("{}", warning.render(&loaded.sources));
    }
    let n = warnings.len();
    eprintln!(
        "{n} warning{} in scenario {}\n",
        if n == 1 { "" } else { "s" },
        loaded.path.display()
    );
}

fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, Failure> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        if !(1..=MAX_THREADS).contains(&n) {
            return Err(Failure {
                message: format!(
                    "error: --threads must be between 1 and {MAX_THREADS}, found {n}\n  = help: leave it out to use every core"
                ),
                code: exit::USAGE,
            });
        }
        builder = builder.num_threads(n);
    }
    Ok(builder.build().map_err(anyhow::Error::from)?)
}

/// Simulates a study into the published collectors (paired with the baseline when the
/// scenarios allow it), with a progress bar on a terminal, using the vector instructions
/// `SIM_SIMD` names (default: the best this processor has).
fn simulate_study(study: &Study, pool: &rayon::ThreadPool) -> Result<Vec<StudyResults>, Failure> {
    let simd = simd_of_environment()?;
    let study = Study {
        jobs: study.jobs.iter().map(|job| Job { simd, ..job.clone() }).collect(),
        baseline: study.baseline,
    };
    let block = |job: &Job| job.block.end - job.block.start;
    let runs = if study.paired() {
        block(&study.jobs[study.baseline])
    } else {
        study.jobs.iter().map(block).sum()
    };
    let bar = progress_bar(&study, runs);
    let results = pool.install(|| study.simulate(&|n| bar.inc(n))).map_err(|e| Failure {
        message: format!("error: {e}"),
        code: exit::SIMULATION,
    })?;
    bar.finish_and_clear();
    Ok(results)
}

/// The vector instructions `SIM_SIMD` names (default: the best this processor has).
fn simd_of_environment() -> Result<Simd, Failure> {
    match std::env::var("SIM_SIMD") {
        Ok(name) => Simd::parse(&name).map_err(|why| Failure {
            message: format!("error: {why}"),
            code: exit::USAGE,
        }),
        Err(_) => Ok(Simd::detect()),
    }
}

/// A progress bar of `runs` runs on a terminal (hidden elsewhere and with --quiet).
fn progress_bar(study: &Study, runs: u64) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() || QUIET.load(std::sync::atomic::Ordering::Relaxed) {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(runs);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>24} [{bar:40}] {pos}/{len} runs ({rate}, eta {eta})")
            .expect("valid template")
            // indicatif's `{per_sec}` prints four decimals of a rate of thousands.
            .with_key(
                "rate",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{} runs/s", crate::format::thousands(state.per_sec().round() as u64));
                },
            )
            .progress_chars("=> "),
    );
    bar.set_message(match study.jobs.as_slice() {
        [one] => one.model.info.id.clone(),
        all if study.paired() => format!("{} scenarios, paired", all.len()),
        all => format!("{} scenarios", all.len()),
    });
    bar
}

/// The study of `models` with their seeds and runs, the baseline chosen as the report chooses
/// it (before simulating, so that variants can be paired with it).
fn study_of<'m>(
    models: &'m [(PathBuf, Model)],
    job_of: impl Fn(&'m Model) -> Job<'m>,
    report: &ReportArgs,
) -> Result<Study<'m>, Failure> {
    let infos: Vec<&crate::model::ScenarioInfo> = models.iter().map(|(_, m)| &m.info).collect();
    let (baseline, _) = choose_baseline(&infos, report.baseline.as_deref())?;
    Ok(Study {
        jobs: models.iter().map(|(_, m)| job_of(m)).collect(),
        baseline,
    })
}

/// Each scenario's summary, a variant's with its paired counts against the baseline.
fn summaries_of(study: &Study, results: &[StudyResults]) -> Vec<Summary> {
    let baseline = &study.jobs[study.baseline].model.info.id;
    study
        .jobs
        .iter()
        .zip(results)
        .map(|(job, result)| {
            let mut summary = summarize(&job.model.info, &job.identity(), &result.results);
            summary.paired = result
                .paired
                .as_ref()
                .map(|paired| crate::aggregate::paired_tables(&job.model.info, paired, baseline));
            summary
        })
        .collect()
}

fn run(args: RunArgs) -> Result<(), Failure> {
    let models = compile_all(&expand(&args.files)?)?;
    if args.runs == Some(0) {
        return Err(Failure {
            message: "error: --runs must be at least 1".into(),
            code: exit::USAGE,
        });
    }
    if let Some(wanted) = &args.report.baseline
        && !models.iter().any(|(_, m)| &m.info.id == wanted)
    {
        // Before simulating: a typo should not cost the whole run.
        let ids: Vec<String> = models.iter().map(|(_, m)| format!("`{}`", m.info.id)).collect();
        return Err(Failure {
            message: format!(
                "error: --baseline `{wanted}` is none of the scenarios given: {}",
                ids.join(", ")
            ),
            code: exit::USAGE,
        });
    }
    let pool = thread_pool(args.threads)?;
    // Before simulating: an unwritable --out must not cost the whole simulation.
    crate::output::check_writable(&args.out)?;
    if let Some(shard) = args.shard {
        return sharding::run_shard(&models, &args, shard, &pool);
    }
    QUIET.store(args.report.quiet, std::sync::atomic::Ordering::Relaxed);
    let expected = expect::Expectations::open(args.expect.as_deref(), &models, args.bless)?;
    // Everything is simulated before anything is written: a failure leaves no partial output.
    let study = study_of(
        &models,
        |model| {
            let (stored_seed, stored_runs) = expected.seed_and_runs(&model.info.id);
            Job::new(model, args.seed.or(stored_seed), args.runs.or(stored_runs)).with_analysis(args.analysis())
        },
        &args.report,
    )?;
    if let Some(why) = study.unpairable().filter(|_| study.jobs.len() > 1) {
        note(&args.report, &format!("note: not paired with the baseline: {why}"));
    }
    let summaries = match precision::target(&args, &models)? {
        None => {
            let results = simulate_study(&study, &pool)?;
            summaries_of(&study, &results)
        }
        Some(target) => {
            let (stopped, results, stopping) = precision::simulate(&study, &target, &pool)?;
            precision::report(&stopping, &args.report);
            let mut summaries = summaries_of(&stopped, &results);
            for summary in &mut summaries {
                summary.stopping = Some(stopping.clone());
            }
            summaries
        }
    };
    write_results(&summaries, &args.out, &args.report)?;
    expected.check(&summaries, args.bless)
}

/// Set by `--quiet`: no progress bar (the bar is drawn far from where arguments are known).
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Writes every output of a finished job: each scenario's directory, the comparison when there
/// are several comparable scenarios, the report, and the headline numbers on stdout. `sim run`
/// and `sim merge` both end here, so merged results look exactly like single-machine ones.
fn write_results(summaries: &[Summary], out: &Path, report: &ReportArgs) -> Result<(), Failure> {
    let summaries = with_baseline_first(summaries.to_vec(), report)?;
    note(report, &format!("writing the outputs into {}", out.display()));
    let mut staged = Vec::new();
    for summary in &summaries {
        let staging = Staging::new(scenario_dir(out, &summary.scenario.id))?;
        crate::report::write_tables(summary, staging.path())?;
        crate::plot::write_scenario_charts(summary, staging.path())?;
        staged.push(staging);
    }
    let comparison = crate::comparable::Comparison::new(&summaries);
    publish(staged, &comparison, out, report)?;
    Ok(print_headline(&comparison, report)?)
}

/// Publishes one job's whole output set, so that `index.html` and `compare/` always describe
/// the scenario directories of the same job (docs/cli.md, "Output is never half-written").
///
/// Everything is rendered first; then, holding an exclusive lock on `out` (two jobs writing into
/// one `--out` publish one after the other, and the last one's set is what remains), the old
/// `index.html` and `compare/` are removed, the scenario directories are swapped in, then the
/// new `compare/`, and `index.html` last. A job killed half-way leaves no report, rather than a
/// report of another job.
fn publish(
    staged: Vec<Staging>,
    comparison: &crate::comparable::Comparison,
    out: &Path,
    report: &ReportArgs,
) -> Result<()> {
    let charts = if comparison.summaries().len() > 1 {
        match comparison.verdict() {
            Ok(()) => {
                let staging = Staging::new(out.join("compare"))?;
                crate::plot::write_comparison(comparison, staging.path())?;
                crate::report::write_differences(comparison.summaries(), staging.path())?;
                Some(staging)
            }
            Err(why) => {
                note(report, &format!("note: no comparison charts: {why}"));
                None
            }
        }
    } else {
        None
    };
    let page = crate::html::render_report(comparison)?;
    let _lock = lock_output(out)?;
    let index = out.join("index.html");
    match std::fs::remove_file(&index) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(anyhow::Error::new(e).context(format!("cannot replace {}", index.display())));
        }
        _ => {}
    }
    remove_comparison(out)?;
    for staging in staged {
        let dir = staging.publish()?;
        note(report, &format!("wrote {}", dir.display()));
    }
    if let Some(staging) = charts {
        let dir = staging.publish()?;
        note(report, &format!("wrote {}", dir.display()));
    }
    crate::output::write_atomic(&index, page.as_bytes())?;
    note(report, &format!("wrote {}", index.display()));
    Ok(())
}

/// Removes `out/compare/` (renamed away first, so it is never seen half-deleted).
fn remove_comparison(out: &Path) -> Result<()> {
    let compare = out.join("compare");
    if std::fs::symlink_metadata(&compare).is_err() {
        return Ok(());
    }
    let retired = out.join(format!(".sim-old-{}-compare", std::process::id()));
    std::fs::rename(&compare, &retired).with_context(|| format!("cannot replace {}", compare.display()))?;
    std::fs::remove_dir_all(&retired).with_context(|| format!("cannot remove {}", retired.display()))
}

/// An exclusive lock on the output directory, held until the returned file is dropped (or the
/// process dies, killed or not: the system releases it).
fn lock_output(out: &Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create directory {}", out.display()))?;
    // On Unix a directory can be locked itself, leaving no lock file among the outputs.
    #[cfg(unix)]
    let file = std::fs::File::open(out);
    #[cfg(not(unix))]
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(out.join(".sim.lock"));
    let file = file.with_context(|| format!("cannot open {} to lock it", out.display()))?;
    file.lock()
        .with_context(|| format!("cannot lock {} against other sim processes", out.display()))?;
    Ok(file)
}

/// A line on stderr, unless `--quiet`.
fn note(report: &ReportArgs, line: &str) {
    if !report.quiet {
        eprintln!("{line}");
    }
}

/// The summaries with the baseline first (the plots, the report and the table compare every
/// other scenario with the first), saying on stderr which one it is and why.
fn with_baseline_first(mut summaries: Vec<Summary>, report: &ReportArgs) -> Result<Vec<Summary>, Failure> {
    let infos: Vec<&crate::model::ScenarioInfo> = summaries.iter().map(|s| &s.scenario).collect();
    let (index, why) = choose_baseline(&infos, report.baseline.as_deref())?;
    let baseline = summaries.remove(index);
    if !summaries.is_empty() {
        note(
            report,
            &format!(
                "baseline: `{}` ({why}; choose another with --baseline ID)",
                baseline.scenario.id
            ),
        );
    }
    summaries.insert(0, baseline);
    Ok(summaries)
}

/// The baseline's index and why it was chosen: the one asked for; else the scenario every
/// variant among them extends, when there is exactly one; else the first.
fn choose_baseline(
    infos: &[&crate::model::ScenarioInfo],
    requested: Option<&str>,
) -> Result<(usize, &'static str), Failure> {
    let ids: Vec<&str> = infos.iter().map(|info| info.id.as_str()).collect();
    if let Some(wanted) = requested {
        return match ids.iter().position(|id| *id == wanted) {
            Some(index) => Ok((index, "--baseline")),
            None => Err(Failure {
                message: format!(
                    "error: --baseline `{wanted}` is none of the scenarios given: {}",
                    ids.iter().map(|id| format!("`{id}`")).collect::<Vec<_>>().join(", ")
                ),
                code: exit::USAGE,
            }),
        };
    }
    let mut bases: Vec<usize> = infos
        .iter()
        .filter_map(|info| info.variant.as_ref())
        .filter_map(|v| ids.iter().position(|id| *id == v.base))
        .collect();
    bases.sort_unstable();
    bases.dedup();
    Ok(match bases.as_slice() {
        [only] => (*only, "the scenario the others extend"),
        _ => (0, "the first scenario given"),
    })
}

/// The terminal's width for the headline table: `COLUMNS`, else the terminal's, else 100.
fn terminal_width() -> usize {
    if let Some(columns) = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse().ok()) {
        return columns;
    }
    if std::io::stdout().is_terminal()
        && let Some((_, width)) = console::Term::stdout().size_checked()
    {
        return usize::from(width);
    }
    100
}

fn print_headline(comparison: &crate::comparable::Comparison, report: &ReportArgs) -> Result<()> {
    match report.format {
        Format::Json => print_stdout(&crate::html::headline_json(comparison)),
        Format::Text if !report.quiet => print_stdout(&format!(
            "{}\n",
            crate::html::headline_table(comparison, terminal_width())
        )),
        Format::Text => Ok(()),
    }
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
    let mut tallies = Tallies::zero(Shape::of(model));
    crate::simulate::replay(model, seed, run, &mut narrator, &mut tallies).map_err(|e| Failure {
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
