//! The supervisor: runs the cases in worker processes and records what fails.
//!
//! In: the options (seed, first case, budget of time or cases). Out: the exit status, a progress
//! line and a summary on stderr, and each failure listed in `failures.tsv` (the first few of a
//! class saved with their files). A worker that dies or hangs is recorded against the case it
//! announced last and replaced by a new one at the next case.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::worker::{normalize, unescape};
use crate::{Corpus, HANG_SECONDS, Options, SAVED_PER_CLASS, make_case, reproduction, write_case};

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

pub(crate) fn supervise(options: &Options) -> i32 {
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
