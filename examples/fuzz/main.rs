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
mod supervise;
mod worker;

use std::path::{Path, PathBuf};

use supervise::supervise;
use worker::{execute, install_panic_hook, worker};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::{check_locations, escape, guarded, unescape};

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
