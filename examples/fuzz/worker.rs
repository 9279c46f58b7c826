//! Executing a case, in the worker process (or in process, for a replay).
//!
//! In: a case's files written to a directory, and a rayon pool; for [`worker`], the range of
//! cases and the time left from the options. Out: nothing for a case that meets every
//! expectation, else a [`Finding`] (stage, class, details); the worker announces each case and
//! stage on stderr, one escaped line each, for the supervisor to follow.

use std::io::Write as _;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::{CASE_STACK, Case, Corpus, Options, make_case, write_case};

/// A failed expectation: the stage, a class that groups failures with one cause, and details.
pub(crate) struct Finding {
    pub(crate) stage: &'static str,
    pub(crate) class: String,
    pub(crate) detail: String,
}

static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

pub(crate) fn install_panic_hook() {
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
pub(crate) fn normalize(text: &str, dir: &Path) -> String {
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
pub(crate) fn guarded<T>(stage: &'static str, dir: &Path, f: impl FnOnce() -> T) -> Result<T, Finding> {
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
pub(crate) fn execute(case: &Case, dir: &Path, pool: &rayon::ThreadPool) -> Result<(), Finding> {
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
    let _ = sim::html::headline_table(std::slice::from_ref(&summary), 100);
    let _ = sim::plot::escalation_series(&summary);
    let _ = sim::plot::ladder_series(&summary);
    let _ = sim::plot::outcome_series(&summary);
    let _ = sim::plot::trigger_bars(&summary);
    Ok(())
}

/// An invalid-scenario message: every error names `file:line:column`, inside that file.
pub(crate) fn check_locations(stage: &'static str, message: &str, case: &Case, dir: &Path) -> Result<(), Finding> {
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
pub(crate) fn worker(options: &Options) -> i32 {
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

pub(crate) fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n").replace('\t', "\\t")
}

pub(crate) fn unescape(text: &str) -> String {
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
