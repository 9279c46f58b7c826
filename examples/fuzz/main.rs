//! Fuzz harness for `sim` on stable Rust (no libFuzzer): `cargo run --release --example fuzz`.
//!
//! Each case is a scenario (with the bases it `extends`) made from the seed and the case number
//! alone, so a seed always gives the same sequence of cases: half are generated from the
//! scenario grammar (`generate`), half are the shipped scenarios with bytes and tokens mutated
//! (`mutate`). A case goes through `sim check`, then a short simulation on a rayon pool (tables,
//! summary and headline table; charts, the report page and the whole `sim run` for 1 case in
//! 50), then `sim trace`, all in process through `sim::cli::run_args`. It fails on a panic, an
//! exit code outside README's table (or not the one the stage can give), an invalid-scenario
//! message with an error that names no `file:line:column`, or a location outside the file.
//!
//! A stack overflow or an abort kills the process, so the harness is a supervisor: it re-runs
//! itself as a worker process (`--worker`) that runs the cases on a thread with the stack of a
//! main thread and announces each case and stage on stderr. When the worker dies or stops
//! making progress, the supervisor records the case it was on and starts a new worker at the
//! next case. Every failure is listed in `target/fuzz-failures/failures.tsv` with the command
//! that replays it, and the first few of each class are saved there as files. docs/fuzzing.md
//! describes the modes and the output.

mod generate;
mod mutate;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One case in `CHART_EVERY` also renders charts, the report page and the whole `sim run`;
/// the others skip them, which keeps the rate in the thousands of cases per second.
const CHART_EVERY: u64 = 50;
/// A case that makes no progress for this long is recorded as a hang and its worker killed.
const HANG_SECONDS: u64 = 20;
/// Examples saved per failure class; every failure is counted.
const SAVED_PER_CLASS: usize = 3;
/// The stack of a case thread: what Linux gives a main thread (`ulimit -s`), where `sim`
/// checks scenarios.
const CASE_STACK: usize = 8 << 20;

fn main() {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let code = if options.worker {
        worker(&options)
    } else if let Some(case) = options.case {
        replay(&options, case)
    } else {
        supervise(&options)
    };
    std::process::exit(code);
}

const USAGE: &str = "\
usage: cargo run --release --example fuzz -- [--seed S] [--seconds N] [--iterations N] [--first I]
       cargo run --release --example fuzz -- --seed S --case I     replay one case in this process

  --seed S          seed of the sequence of cases (default 1)
  --seconds N       stop after N seconds (default: 60, unless --iterations is given)
  --iterations N    stop after N cases
  --first I         start at case I (default 0)
  --failures DIR    where failing inputs are saved (default target/fuzz-failures)
  --work DIR        scratch directory (default target/fuzz-work/seedS)
Exit status: 0 if no case failed, 1 if some did, 2 on bad usage.";

#[derive(Debug, Clone)]
struct Options {
    seed: u64,
    seconds: Option<u64>,
    iterations: Option<u64>,
    first: u64,
    case: Option<u64>,
    failures: PathBuf,
    work: PathBuf,
    worker: bool,
    /// Worker only: the last case (exclusive) and the milliseconds left.
    end: u64,
    millis: u64,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
        let mut options = Options {
            seed: 1,
            seconds: None,
            iterations: None,
            first: 0,
            case: None,
            failures: target.join("fuzz-failures"),
            work: PathBuf::new(),
            worker: false,
            end: u64::MAX,
            millis: u64::MAX,
        };
        while let Some(arg) = args.next() {
            let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
            let number = |name: &str, text: String| {
                text.parse::<u64>()
                    .map_err(|_| format!("{name} takes a whole number, not `{text}`"))
            };
            match arg.as_str() {
                "--seed" => options.seed = number("--seed", value("--seed")?)?,
                "--seconds" => options.seconds = Some(number("--seconds", value("--seconds")?)?),
                "--iterations" => options.iterations = Some(number("--iterations", value("--iterations")?)?),
                "--first" => options.first = number("--first", value("--first")?)?,
                "--case" => options.case = Some(number("--case", value("--case")?)?),
                "--failures" => options.failures = PathBuf::from(value("--failures")?),
                "--work" => options.work = PathBuf::from(value("--work")?),
                "--worker" => options.worker = true,
                "--end" => options.end = number("--end", value("--end")?)?,
                "--millis" => options.millis = number("--millis", value("--millis")?)?,
                "-h" | "--help" => {
                    println!("{USAGE}");
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        if options.work.as_os_str().is_empty() {
            // Runs on different seeds can share a machine.
            options.work = target.join("fuzz-work").join(format!("seed{}", options.seed));
        }
        if options.seconds.is_none() && options.iterations.is_none() {
            options.seconds = Some(60);
        }
        Ok(options)
    }
}

// ---------------------------------------------------------------------------------------------
// Random numbers: the harness's own, so that a seed gives the same cases whatever `rand` does.
// ---------------------------------------------------------------------------------------------

/// SplitMix64, keyed by seed and case number.
pub struct Rng(u64);

impl Rng {
    fn for_case(seed: u64, case: u64) -> Rng {
        let mut rng = Rng(seed ^ 0x005E_ED0F_F022_u64.rotate_left(17));
        let mixed = rng.word() ^ case.wrapping_mul(0xD1B5_4A32_D192_ED03);
        Rng(mixed)
    }

    pub fn word(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform on `0..n` (0 when n is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.word() % n }
    }

    /// Uniform on `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// Uniform on [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.word() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly log-uniform on `lo..=hi`: small sizes often, large ones sometimes.
    pub fn log_range(&mut self, lo: u64, hi: u64) -> u64 {
        let (a, b) = ((lo.max(1) as f64).ln(), (hi as f64).ln());
        ((a + (b - a) * self.unit()).exp() as u64).clamp(lo, hi)
    }
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

/// The files of one case, the main file first, and how to run it.
pub struct Case {
    /// What the case was made from, for the failure record.
    pub origin: String,
    pub files: Vec<(String, Vec<u8>)>,
    pub runs: u64,
    pub seed: u64,
    pub trace_run: u64,
    pub charts: bool,
}

/// The shipped scenarios and test fixtures, the seeds of the mutator.
pub struct Corpus {
    pub files: Vec<(String, Vec<u8>)>,
}

impl Corpus {
    fn load() -> Corpus {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["scenarios", "tests/fixtures"] {
            let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
                .map(|entries| entries.filter_map(|e| Some(e.ok()?.path())).collect())
                .unwrap_or_default();
            paths.retain(|p| p.extension().is_some_and(|e| e == "toml"));
            paths.sort();
            for path in paths {
                if let Ok(bytes) = std::fs::read(&path) {
                    let name = path.file_name().unwrap().to_string_lossy().into_owned();
                    files.push((name, bytes));
                }
            }
        }
        assert!(!files.is_empty(), "no scenario found under {}", root.display());
        Corpus { files }
    }
}

fn make_case(seed: u64, index: u64, corpus: &Corpus) -> Case {
    let mut rng = Rng::for_case(seed, index);
    let (origin, files) = if rng.chance(1, 2) {
        let files = generate::scenario(&mut rng);
        (format!("generated scenario ({:?})", generate::mode()), files)
    } else {
        mutate::shipped(&mut rng, corpus)
    };
    let runs = if rng.chance(1, 5) {
        rng.range(1, 300)
    } else {
        rng.range(1, 40)
    };
    let seed = if rng.chance(1, 10) {
        rng.word() >> 1
    } else {
        rng.below(1000)
    };
    let trace_run = rng.below(runs);
    Case {
        origin,
        files,
        runs,
        seed,
        trace_run,
        charts: index.is_multiple_of(CHART_EVERY),
    }
}

/// Writes the case's files into an emptied `dir` and returns the main file's path.
fn write_case(case: &Case, dir: &Path) -> std::io::Result<PathBuf> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    for (name, bytes) in &case.files {
        std::fs::write(dir.join(name), bytes)?;
    }
    Ok(dir.join(&case.files[0].0))
}

/// The `sim` command that reproduces a stage of a case whose files are in `dir`.
fn reproduction(case: &Case, stage: &str, dir: &Path) -> String {
    let main = dir.join(&case.files[0].0);
    let main = main.display();
    match stage {
        "run" => format!(
            "target/release/sim run {main} --runs {} --seed {} --threads 2 --out target/fuzz-out",
            case.runs, case.seed
        ),
        "trace" => format!(
            "target/release/sim trace {main} --run {} --seed {}",
            case.trace_run, case.seed
        ),
        _ => format!("target/release/sim check {main}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Executing a case (in the worker)
// ---------------------------------------------------------------------------------------------

/// A failed expectation: the stage, a class that groups failures with one cause, and details.
struct Finding {
    stage: &'static str,
    class: String,
    detail: String,
}

static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", short_path(l.file()), l.line()))
            .unwrap_or_default();
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!("{location}: {message}"));
    }));
}

/// A source path from its crate's directory on (crates.io paths are long).
fn short_path(file: &str) -> String {
    let parts: Vec<&str> = file.split(['/', '\\']).collect();
    match parts.iter().position(|p| *p == "registry") {
        // .../registry/src/<index>/<crate>-<version>/src/...
        Some(i) if parts.len() > i + 3 => parts[i + 3..].join("/"),
        _ => file.to_string(),
    }
}

/// Numbers become `#`, file names `FILE`, and the text is cut, so that one cause gives one
/// class.
fn normalize(text: &str, dir: &Path) -> String {
    let text = text.replace(&dir.display().to_string(), "");
    // File names vary from case to case, not the cause.
    let text = text
        .split(' ')
        .map(|word| if word.contains(".toml") { "FILE" } else { word })
        .collect::<Vec<_>>()
        .join(" ");
    let mut out = String::new();
    for c in text.chars().take(90) {
        let c = if c.is_ascii_digit() { '#' } else { c };
        // A number of any length is one `#`: thread ids and byte offsets vary in length.
        if !(c == '#' && out.ends_with('#')) {
            out.push(c);
        }
    }
    if text.chars().count() > 90 {
        out.push('…');
    }
    out
}

/// Runs `f`, turning a panic into a finding.
fn guarded<T>(stage: &'static str, dir: &Path, f: impl FnOnce() -> T) -> Result<T, Finding> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|_| {
        let panic = LAST_PANIC
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_default();
        let (location, message) = panic.split_once(": ").unwrap_or((&panic, ""));
        // What a message quotes is the input's, not the cause's.
        let cause = message.split(['`', '\'', '"']).next().unwrap_or_default();
        Finding {
            stage,
            class: format!("{stage}: panic at {location}: {}", normalize(cause, dir)),
            detail: panic.clone(),
        }
    })
}

fn announce(line: &str) {
    let mut err = std::io::stderr().lock();
    if writeln!(err, "@{line}").is_err() {
        // The supervisor is gone: nobody would hear of a failure.
        std::process::exit(4);
    }
}

/// Runs every stage of a case whose files are in `dir`.
fn execute(case: &Case, dir: &Path, pool: &rayon::ThreadPool) -> Result<(), Finding> {
    let main = write_case(case, dir).map_err(|e| Finding {
        stage: "setup",
        class: "setup: cannot write the case".into(),
        detail: e.to_string(),
    })?;
    let main_arg = main.display().to_string();

    announce("stage check");
    let (code, message) = guarded("check", dir, || sim::cli::run_args(["sim", "check", &main_arg]))?;
    match code {
        0 => {}
        1 => return check_locations("check", &message, case, dir),
        // A file that is not UTF-8 text cannot be read (README: exit 5), but the error still
        // says where the first invalid byte is.
        5 if message.contains("it is not UTF-8 text") => return check_locations("check", &message, case, dir),
        // A file over the size cap is refused before it is read (docs/scenario-format.md, Limits).
        5 if message.contains("it is larger than the limit of") => return Ok(()),
        _ => return Err(bad_exit("check", code, &message, dir)),
    }

    announce("stage run");
    if case.charts {
        let out = dir.join("out").display().to_string();
        let (runs, seed) = (case.runs.to_string(), case.seed.to_string());
        let args = [
            "sim",
            "run",
            &main_arg,
            "--runs",
            &runs,
            "--seed",
            &seed,
            "--threads",
            "2",
            "--out",
            &out,
        ];
        let (code, message) = guarded("run", dir, || sim::cli::run_args(args))?;
        if code != 0 && code != 3 {
            return Err(bad_exit("run", code, &message, dir));
        }
    } else {
        guarded("run", dir, || light_run(case, &main, dir, pool))??;
    }

    announce("stage trace");
    let (run, seed) = (case.trace_run.to_string(), case.seed.to_string());
    let (code, message) = guarded("trace", dir, || {
        sim::cli::run_args(["sim", "trace", &main_arg, "--run", &run, "--seed", &seed])
    })?;
    if code != 0 && code != 3 {
        return Err(bad_exit("trace", code, &message, dir));
    }
    Ok(())
}

fn bad_exit(stage: &'static str, code: u8, message: &str, dir: &Path) -> Finding {
    let first = message.lines().next().unwrap_or_default();
    Finding {
        stage,
        class: format!("{stage}: unexpected exit {code}: {}", normalize(first, dir)),
        detail: message.to_string(),
    }
}

/// What `sim run` does short of charts and the report page: simulate on a pool, summarize,
/// write the tables, read the summary back, and build the headline table and chart series.
fn light_run(case: &Case, main: &Path, dir: &Path, pool: &rayon::ThreadPool) -> Result<(), Finding> {
    let model = sim::load::load(main)
        .and_then(|loaded| sim::compile::compile(&loaded))
        .map_err(|e| Finding {
            stage: "run",
            class: "run: `sim check` accepted a scenario that does not compile".into(),
            detail: e.to_string(),
        })?;
    let tallies = match pool.install(|| sim::simulate::simulate(&model, case.seed, 0, case.runs, &|_| {})) {
        Ok(tallies) => tallies,
        // Exit 3: the job stopped on an invalid value, as documented.
        Err(_) => return Ok(()),
    };
    let identity = sim::aggregate::RunIdentity {
        seed: case.seed,
        scenario_digest: model.scenario_digest.clone(),
    };
    let summary = sim::aggregate::summarize(&model.info, &identity, &tallies);
    let tables = dir.join("tables");
    let io = |e: anyhow::Error| Finding {
        stage: "run",
        class: format!(
            "run: writing or reading the tables failed: {}",
            normalize(&format!("{e:#}"), dir)
        ),
        detail: format!("{e:#}"),
    };
    std::fs::create_dir_all(&tables).map_err(|e| io(e.into()))?;
    sim::report::write_tables(&summary, &tables).map_err(io)?;
    sim::report::read_summary(&tables.join("summary.json")).map_err(io)?;
    let comparison = sim::comparable::Comparison::new(std::slice::from_ref(&summary));
    let _ = sim::html::headline_table(&comparison, 100);
    let _ = sim::plot::data::escalation_series(&summary);
    let _ = sim::plot::data::ladder_series(&summary);
    let _ = sim::plot::data::outcome_series(&summary);
    let _ = sim::plot::data::trigger_bars(&summary);
    Ok(())
}

/// An invalid-scenario message: every error names `file:line:column`, inside that file.
fn check_locations(stage: &'static str, message: &str, case: &Case, dir: &Path) -> Result<(), Finding> {
    // An error's block runs from its `error` line to the next one.
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    for line in message.lines() {
        if line.starts_with("error") {
            blocks.push(Vec::new());
        }
        if let Some(block) = blocks.last_mut() {
            block.push(line);
        }
    }
    for block in &blocks {
        let Some(location) = block.iter().find_map(|l| l.trim_start().strip_prefix("--> ")) else {
            return Err(Finding {
                stage,
                class: format!(
                    "{stage}: an error names no file:line:column: {}",
                    normalize(block[0], dir)
                ),
                detail: message.to_string(),
            });
        };
        if let Some(problem) = outside(location, case, dir) {
            return Err(Finding {
                stage,
                class: format!("{stage}: a location is not inside its file ({problem})"),
                detail: format!("{location}\n\n{message}"),
            });
        }
    }
    Ok(())
}

/// Why `path:line:column` is not a position in that file, if it is not.
fn outside(location: &str, case: &Case, dir: &Path) -> Option<String> {
    let mut parts = location.rsplitn(3, ':');
    let column: Option<usize> = parts.next().and_then(|c| c.trim().parse().ok());
    let line: Option<usize> = parts.next().and_then(|l| l.parse().ok());
    let path = Path::new(parts.next().unwrap_or_default());
    let (Some(line), Some(column)) = (line, column) else {
        return Some("no line and column".into());
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let in_case = path.starts_with(dir) || path.is_relative();
    let bytes = match case.files.iter().find(|(n, _)| Some(n) == name.as_ref()) {
        Some((_, bytes)) if in_case => bytes.clone(),
        _ => match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(_) => return Some("names a file that does not exist".into()),
        },
    };
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.split('\n').collect();
    if line == 0 || line > lines.len() {
        return Some("line past the end".into());
    }
    let width = lines[line - 1].trim_end_matches('\r').chars().count();
    if column == 0 || column > width + 1 {
        return Some("column past the end of the line".into());
    }
    None
}

/// The worker: runs cases `first..end` until the time is up, announcing each on stderr.
fn worker(options: &Options) -> i32 {
    install_panic_hook();
    let options = options.clone();
    let thread = std::thread::Builder::new()
        .name("fuzz-case".into())
        .stack_size(CASE_STACK)
        .spawn(move || {
            let corpus = Corpus::load();
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .expect("a rayon pool of 2 threads");
            let dir = options.work.join("case");
            let deadline = Instant::now() + Duration::from_millis(options.millis);
            let mut index = options.first;
            while index < options.end && Instant::now() < deadline {
                announce(&format!("case {index}"));
                let case = make_case(options.seed, index, &corpus);
                if let Err(finding) = execute(&case, &dir, &pool) {
                    announce(&format!(
                        "fail {index}\t{}\t{}\t{}",
                        finding.stage,
                        escape(&finding.class),
                        escape(&finding.detail)
                    ));
                }
                index += 1;
            }
            announce(&format!("done {index}"));
        })
        .expect("spawn the case thread");
    match thread.join() {
        Ok(()) => 0,
        Err(_) => 3,
    }
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n").replace('\t', "\\t")
}

fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Replaying one case
// ---------------------------------------------------------------------------------------------

fn replay(options: &Options, index: u64) -> i32 {
    install_panic_hook();
    let options = options.clone();
    let thread = std::thread::Builder::new()
        .name("fuzz-case".into())
        .stack_size(CASE_STACK)
        .spawn(move || {
            let corpus = Corpus::load();
            let case = make_case(options.seed, index, &corpus);
            let dir = options.work.join(format!("replay-{}-{index}", options.seed));
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .expect("a rayon pool");
            eprintln!(
                "case {index} of seed {}: {} in {}",
                options.seed,
                case.origin,
                dir.display()
            );
            let result = execute(&case, &dir, &pool);
            match result {
                Ok(()) => {
                    eprintln!("case {index}: no failure");
                    0
                }
                Err(finding) => {
                    eprintln!(
                        "case {index}: FAILED in {}: {}\n{}",
                        finding.stage, finding.class, finding.detail
                    );
                    eprintln!("reproduce: {}", reproduction(&case, finding.stage, &dir));
                    1
                }
            }
        })
        .expect("spawn the case thread");
    thread.join().unwrap_or(3)
}

// ---------------------------------------------------------------------------------------------
// The supervisor
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Tally {
    cases: u64,
    /// Cases `sim check` accepted, and of those the ones whose simulation ran to the end.
    accepted: u64,
    traced: u64,
    failures: BTreeMap<String, (u64, Vec<PathBuf>)>,
}

impl Tally {
    fn failed(&self) -> u64 {
        self.failures.values().map(|(n, _)| n).sum()
    }
}

enum Event {
    Line(String),
    Closed,
}

fn supervise(options: &Options) -> i32 {
    let started = Instant::now();
    let budget = options.seconds.map(Duration::from_secs);
    let end = options.iterations.map_or(u64::MAX, |n| options.first.saturating_add(n));
    let corpus = Corpus::load();
    let exe = std::env::current_exe().expect("the harness's own path");
    let mut tally = Tally::default();
    let mut next = options.first;
    let mut last_progress = Instant::now();
    eprintln!(
        "fuzz: seed {}, cases from {}{}{}; failures go to {}",
        options.seed,
        options.first,
        options
            .iterations
            .map_or(String::new(), |n| format!(", at most {n} cases")),
        budget.map_or(String::new(), |b| format!(", at most {} s", b.as_secs())),
        options.failures.display()
    );
    while next < end {
        let left = match budget {
            Some(b) if started.elapsed() >= b => break,
            Some(b) => b - started.elapsed(),
            None => Duration::from_millis(u64::MAX / 4),
        };
        let mut child = Command::new(&exe)
            .args([
                "--worker",
                "--seed",
                &options.seed.to_string(),
                "--first",
                &next.to_string(),
            ])
            .args(["--end", &end.to_string(), "--millis", &left.as_millis().to_string()])
            .arg("--work")
            .arg(&options.work)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start a worker");
        let (send, receive) = mpsc::channel();
        let stderr = child.stderr.take().expect("piped stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if send.send(Event::Line(line)).is_err() {
                    return;
                }
            }
            let _ = send.send(Event::Closed);
        });

        let mut current: Option<u64> = None;
        let mut stage = String::from("check");
        let mut other_lines: Vec<String> = Vec::new();
        let mut finished = false;
        let mut hung = false;
        let mut case_started = Instant::now();
        loop {
            match receive.recv_timeout(Duration::from_secs(1)) {
                Ok(Event::Line(line)) => {
                    if let Some(rest) = line.strip_prefix("@case ") {
                        current = rest.parse().ok();
                        stage = "check".into();
                        other_lines.clear();
                        case_started = Instant::now();
                        tally.cases += 1;
                    } else if let Some(rest) = line.strip_prefix("@stage ") {
                        stage = rest.to_string();
                        match rest {
                            "run" => tally.accepted += 1,
                            "trace" => tally.traced += 1,
                            _ => {}
                        }
                        case_started = Instant::now();
                    } else if let Some(rest) = line.strip_prefix("@fail ") {
                        let fields: Vec<&str> = rest.splitn(4, '\t').collect();
                        if let [index, stage, class, detail] = fields[..] {
                            let index = index.parse().unwrap_or(0);
                            record(
                                options,
                                &corpus,
                                &mut tally,
                                index,
                                stage,
                                &unescape(class),
                                &unescape(detail),
                            );
                        }
                    } else if line.starts_with("@done ") {
                        finished = true;
                    } else {
                        other_lines.push(line);
                        if other_lines.len() > 40 {
                            other_lines.remove(0);
                        }
                    }
                }
                Ok(Event::Closed) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if case_started.elapsed() > Duration::from_secs(HANG_SECONDS) {
                        hung = true;
                        // Our own worker, by its handle.
                        let _ = child.kill();
                    }
                }
            }
            if last_progress.elapsed() >= Duration::from_secs(10) {
                last_progress = Instant::now();
                progress(&tally, started);
            }
        }
        let status = child.wait().expect("wait for the worker");
        if finished && status.success() {
            break;
        }
        let Some(index) = current else {
            eprintln!("fuzz: the worker failed before its first case ({status}):");
            for line in &other_lines {
                eprintln!("  {line}");
            }
            return 2;
        };
        let (class, detail) = if hung {
            (
                format!("{stage}: no progress for {HANG_SECONDS} s"),
                format!("killed after {HANG_SECONDS} s without progress"),
            )
        } else {
            let why = other_lines
                .iter()
                .find(|l| l.contains("overflowed its stack"))
                .or(other_lines.last())
                .map(|l| normalize(l, &options.work))
                .unwrap_or_default();
            (
                format!("{stage}: the process died ({status}): {why}"),
                other_lines.join("\n"),
            )
        };
        record(options, &corpus, &mut tally, index, &stage, &class, &detail);
        next = index + 1;
    }
    progress(&tally, started);
    summary(&tally)
}

fn progress(tally: &Tally, started: Instant) {
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "fuzz: {} cases in {seconds:.1} s ({:.0} cases/s; {} passed check, {} got to trace), {} failed in {} classes",
        tally.cases,
        tally.cases as f64 / seconds.max(1e-9),
        tally.accepted,
        tally.traced,
        tally.failed(),
        tally.failures.len()
    );
}

fn summary(tally: &Tally) -> i32 {
    // A case fails at most once, so this is the number of failed cases.
    let failed = tally.failed();
    if failed == 0 {
        eprintln!("fuzz: {} passed, 0 failed", tally.cases);
        return 0;
    }
    eprintln!("fuzz: failure classes (count, class, saved examples):");
    for (class, (count, saved)) in &tally.failures {
        eprintln!("  {count:>7}  {class}");
        for dir in saved {
            eprintln!("           {}", dir.display());
        }
    }
    eprintln!("fuzz: {} passed, {failed} failed", tally.cases - failed);
    1
}

/// Counts a failure, lists it in `failures.tsv` with the command that replays it and, for the
/// first few of its class, saves the case's files with a `FAILURE.txt` holding the class, the
/// details and the commands that reproduce it.
fn record(options: &Options, corpus: &Corpus, tally: &mut Tally, index: u64, stage: &str, class: &str, detail: &str) {
    let entry = tally.failures.entry(class.to_string()).or_default();
    entry.0 += 1;
    if entry.0 == 1 {
        eprintln!("fuzz: case {index}: new failure class: {class}");
    }
    // Every failure gets a line: a case is made again from its seed and number.
    let _ = std::fs::create_dir_all(&options.failures);
    let list = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(options.failures.join("failures.tsv"));
    if let Ok(mut list) = list {
        let _ = writeln!(
            list,
            "cargo run --release --example fuzz -- --seed {} --case {index}\t{stage}\t{class}",
            options.seed
        );
    }
    if entry.1.len() >= SAVED_PER_CLASS {
        return;
    }
    let case = make_case(options.seed, index, corpus);
    let dir = options.failures.join(format!("seed{}-case{index}", options.seed));
    if write_case(&case, &dir).is_err() {
        eprintln!("fuzz: cannot save case {index} to {}", dir.display());
        return;
    }
    let readme = format!(
        "class: {class}\nmade from: {}\nstage: {stage}\n\nreproduce:\n  {}\n  cargo run --release --example fuzz -- --seed {} --case {index}\n\ndetails:\n{detail}\n",
        case.origin,
        reproduction(&case, stage, &dir),
        options.seed,
    );
    let _ = std::fs::write(dir.join("FAILURE.txt"), readme);
    entry.1.push(dir);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case_of(files: &[(&str, &str)]) -> Case {
        Case {
            origin: "test".into(),
            files: files
                .iter()
                .map(|(n, t)| (n.to_string(), t.as_bytes().to_vec()))
                .collect(),
            runs: 10,
            seed: 1,
            trace_run: 3,
            charts: false,
        }
    }

    #[test]
    fn a_seed_gives_the_same_cases() {
        let corpus = Corpus::load();
        for index in 0..200 {
            let (a, b) = (make_case(7, index, &corpus), make_case(7, index, &corpus));
            assert_eq!(a.files, b.files, "case {index}");
            assert_eq!(
                (a.runs, a.seed, a.trace_run, a.charts),
                (b.runs, b.seed, b.trace_run, b.charts)
            );
        }
        let differ = (0..50).filter(|&i| make_case(7, i, &corpus).files != make_case(8, i, &corpus).files);
        assert!(differ.count() > 40, "another seed gives other cases");
    }

    #[test]
    fn both_generators_are_used_and_plain_scenarios_pass_check() {
        let corpus = Corpus::load();
        let cases: Vec<Case> = (0..400).map(|i| make_case(3, i, &corpus)).collect();
        let origin = |prefix: &str| cases.iter().filter(|c| c.origin.starts_with(prefix)).count();
        let generated = origin("generated scenario");
        assert!((100..300).contains(&generated), "{generated} of 400 generated");
        for mode in ["(Plain)", "(Tinted)", "(Hostile)"] {
            assert!(origin(&format!("generated scenario {mode}")) > 20, "{mode}");
        }
        let chained = cases
            .iter()
            .filter(|c| c.files.len() > 1 && c.origin.starts_with("generated scenario"));
        assert!(chained.count() > 10, "some generated cases extend a base");
        // A mutation may undo another (a line swapped twice), but seldom.
        let mutated: Vec<&Case> = cases.iter().filter(|c| c.origin.contains("mutated")).collect();
        let changed = mutated.iter().filter(|case| {
            case.files
                .iter()
                .any(|(name, bytes)| corpus.files.iter().any(|(n, b)| n == name && b != bytes))
        });
        assert!(
            changed.count() * 10 > mutated.len() * 9,
            "mutated files differ from the shipped ones"
        );
        // Plain scenarios have no deep expression, so `sim check` runs on this thread's stack.
        let dir = std::env::temp_dir().join(format!("sim-fuzz-test-{}", std::process::id()));
        let plain: Vec<&Case> = cases
            .iter()
            .filter(|c| c.origin.ends_with("(Plain)"))
            .take(40)
            .collect();
        let mut accepted = 0;
        for case in &plain {
            let main = write_case(case, &dir).unwrap();
            let (code, _) = sim::cli::run_args(["sim".into(), "check".into(), main.into_os_string()]);
            accepted += usize::from(code == 0);
        }
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            accepted * 2 > plain.len(),
            "only {accepted} of {} plain scenarios pass `sim check`",
            plain.len()
        );
    }

    #[test]
    fn locations_are_checked_against_the_file() {
        let dir = Path::new("/w");
        let case = case_of(&[("case.toml", "ab\ncd\n"), ("base.toml", "x")]);
        let error = |location: &str| format!("error: bad\n  --> {location}\n   |\n");
        let check = |message: &str| check_locations("check", message, &case, dir).map_err(|f| f.class);
        assert!(check(&error("/w/case.toml:2:3")).is_ok());
        assert!(
            check(&error("/w/case.toml:3:1")).is_ok(),
            "the end of a file ending with a newline"
        );
        assert!(check(&error("/w/base.toml:1:2")).is_ok());
        assert!(
            check(&error("/w/case.toml:2:4"))
                .unwrap_err()
                .contains("column past the end")
        );
        assert!(
            check(&error("/w/case.toml:4:1"))
                .unwrap_err()
                .contains("line past the end")
        );
        assert!(check(&error("/w/case.toml:0:1")).is_err());
        let unlocated = format!(
            "{}error: cannot read scenario file\n  = help: check\n",
            error("/w/case.toml:1:1")
        );
        assert!(check(&unlocated).unwrap_err().contains("names no file:line:column"));
    }

    #[test]
    fn run_args_returns_the_documented_exit_codes() {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
        let shipped = shipped.display().to_string();
        assert_eq!(sim::cli::run_args(["sim", "check", &shipped]).0, 0);
        let (code, message) = sim::cli::run_args(["sim", "check", "/nonexistent/x.toml"]);
        assert_eq!(code, 5, "README: a missing file is exit 5");
        assert!(
            message.contains("cannot read /nonexistent/x.toml: no such file"),
            "{message}"
        );
        assert_eq!(sim::cli::run_args(["sim", "check"]).0, 2);
        assert_eq!(sim::cli::run_args(["sim", "trace", &shipped, "--run", "x"]).0, 2);
    }

    #[test]
    fn a_panic_is_caught_and_classed_by_its_location() {
        install_panic_hook();
        let finding = guarded("check", Path::new("/w"), || panic!("index 12 out of range")).unwrap_err();
        let _ = std::panic::take_hook();
        assert!(finding.class.starts_with("check: panic at "), "{}", finding.class);
        assert!(finding.class.contains("main.rs:"), "{}", finding.class);
        assert!(finding.class.ends_with("index # out of range"), "{}", finding.class);
    }

    #[test]
    fn escaped_lines_come_back_whole() {
        let text = "a\tb\\n\nc\\";
        assert_eq!(unescape(&escape(text)), text);
        assert!(!escape(text).contains(['\n', '\t']));
    }

    #[test]
    fn mutation_keeps_files_bounded() {
        let corpus = Corpus::load();
        for index in 0..300 {
            let case = make_case(11, index, &corpus);
            assert!(
                case.files.iter().all(|(_, bytes)| bytes.len() < 2 << 20),
                "case {index}"
            );
        }
    }
}
