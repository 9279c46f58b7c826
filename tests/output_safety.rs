//! Output is never half-written: Ctrl-C and SIGTERM leave no temporary file and only complete
//! scenario directories, a later run removes what a killed one left, and two runs writing into
//! one directory at once do not mix their files.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{assert_complete_scenario_dir, file_names, leftovers, sim, sim_path, small_copies, small_scenario};

/// Sends a signal by name: `INT` as Ctrl-C in a terminal does, `TERM`, `KILL`.
fn send(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} failed");
}

/// Starts a long simulation into `out`, sends `signal` (`INT` or `TERM`) while it simulates,
/// checks that nothing is left in `out`, and returns how sim exited.
pub fn signal_while_simulating(out: &Path, signal: &str) -> std::process::ExitStatus {
    let mut child = Command::new(sim_path())
        .arg("run")
        .arg(small_scenario())
        .args(["--runs", "100000000", "--out"])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_ctrl_c_handler(&child);
    std::thread::sleep(Duration::from_millis(200));
    send(&child, signal);
    let status = wait_with_timeout(&mut child);
    assert_nothing_half_written(out);
    assert!(
        !out.exists() || file_names(out).is_empty(),
        "an interrupted simulation wrote output"
    );
    status
}

/// Waits until the child has installed its Ctrl-C handler: the handler runs on a thread of its
/// own, so the process has more than one thread from then on (Linux /proc). Elsewhere, waits.
fn wait_for_ctrl_c_handler(child: &Child) {
    let status = format!("/proc/{}/status", child.id());
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let Ok(text) = std::fs::read_to_string(&status) else {
            std::thread::sleep(Duration::from_millis(500));
            return;
        };
        let threads = text
            .lines()
            .find_map(|l| l.strip_prefix("Threads:"))
            .and_then(|n| n.trim().parse::<u32>().ok())
            .unwrap_or(0);
        if threads > 1 {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("sim did not start its Ctrl-C handler within 20 s");
}

fn wait_with_timeout(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("sim did not exit within 60 s of Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Asserts that `out` holds nothing half-written: no `.sim-*` entry, and every scenario
/// directory complete and consistent.
fn assert_nothing_half_written(out: &Path) {
    assert_eq!(
        leftovers(out),
        Vec::<std::path::PathBuf>::new(),
        "temporary files left behind"
    );
    if out.exists() {
        for name in file_names(out) {
            let path = out.join(&name);
            match name.as_str() {
                "index.html" => {
                    let html = std::fs::read_to_string(&path).unwrap();
                    assert!(html.trim_end().ends_with("</html>"), "index.html is cut short");
                }
                "compare" => {
                    // Every chart is whole: an SVG that closes, with its PNG beside it.
                    for chart in file_names(&path).iter().filter(|n| n.ends_with(".svg")) {
                        let svg = std::fs::read_to_string(path.join(chart)).unwrap();
                        assert!(svg.trim_end().ends_with("</svg>"), "{chart} is cut short");
                        assert!(path.join(chart.replace(".svg", ".png")).is_file(), "{chart} has no PNG");
                    }
                }
                _ => {
                    assert_complete_scenario_dir(&path);
                }
            }
        }
    }
}

#[test]
fn ctrl_c_while_simulating_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let status = signal_while_simulating(&dir.path().join("out"), "INT");
    assert_eq!(
        status.code(),
        Some(130),
        "sim was not interrupted by Ctrl-C: {status:?}"
    );
}

#[test]
fn sigterm_while_simulating_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let status = signal_while_simulating(&dir.path().join("out"), "TERM");
    assert_eq!(status.code(), Some(143), "sim was not stopped by SIGTERM: {status:?}");
}

#[test]
fn ctrl_c_while_writing_leaves_only_complete_directories() {
    let dir = tempfile::tempdir().unwrap();
    // Many scenarios with long tables: writing takes long enough to be interrupted midway.
    let out = dir.path().join("out");
    let (status, scenarios) = signal_while_writing(dir.path(), &out, "INT", Duration::ZERO);
    assert_eq!(
        status.code(),
        Some(130),
        "sim finished before Ctrl-C arrived: {status:?}"
    );
    assert_nothing_half_written(&out);
    // The outputs are staged, then published together: an interrupted job leaves some or
    // none of its scenario directories, and no report.
    // A signal that lands before the first directory is staged leaves no `out` at all.
    let written = if out.exists() { file_names(&out).len() } else { 0 };
    assert!(
        written < scenarios && !out.join("index.html").exists(),
        "expected an interrupted write, found {written} of {scenarios} scenario directories"
    );
}

/// Starts writing 40 long scenarios into `out` and sends `signal` once the first is written
/// and `delay` has passed (everything is simulated before anything is written, so the first
/// "wrote" line means the writing has begun).
fn signal_while_writing(dir: &Path, out: &Path, signal: &str, delay: Duration) -> (std::process::ExitStatus, usize) {
    let scenarios = small_copies(dir, 40, 400);
    let mut child = Command::new(sim_path())
        .arg("run")
        .args(&scenarios)
        .args(["--runs", "20", "--out"])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    // Everything is simulated and rendered before anything is published: the "writing" line
    // means the writing has begun.
    while line.is_empty() || !line.starts_with("writing") {
        line.clear();
        assert_ne!(stderr.read_line(&mut line).unwrap(), 0, "sim exited before writing");
    }
    std::thread::sleep(delay);
    send(&child, signal);
    (wait_with_timeout(&mut child), scenarios.len())
}

#[test]
fn sigterm_while_writing_leaves_only_complete_directories() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (status, scenarios) = signal_while_writing(dir.path(), &out, "TERM", Duration::ZERO);
    assert_eq!(
        status.code(),
        Some(143),
        "sim finished before SIGTERM arrived: {status:?}"
    );
    assert_nothing_half_written(&out);
    // A signal that lands before the first directory is staged leaves no `out` at all.
    let written = if out.exists() { file_names(&out).len() } else { 0 };
    assert!(
        written < scenarios && !out.join("index.html").exists(),
        "expected an interrupted write, found {written} of {scenarios} scenario directories"
    );
}

#[test]
fn a_later_run_removes_what_a_killed_run_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // SIGKILL cannot be handled: the staging directory being filled stays behind (unless the
    // signal fell between two scenarios; then try again).
    let mut left = Vec::new();
    for attempt in 1..=5 {
        let (status, _) = signal_while_writing(dir.path(), &out, "KILL", Duration::from_millis(100 * attempt));
        assert_eq!(status.code(), None, "{status:?}");
        left = leftovers(&out);
        if !left.is_empty() {
            break;
        }
    }
    assert!(!left.is_empty(), "SIGKILL never left a staging directory to clean");
    sim()
        .arg("run")
        .arg(small_scenario())
        .args(["--runs", "20", "--out"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        leftovers(&out),
        Vec::<std::path::PathBuf>::new(),
        "the entries of the killed run ({left:?}) were not removed"
    );
}

#[test]
fn a_regular_file_in_place_of_a_scenario_directory_is_replaced_without_leftovers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("small"), "a file where the directory goes").unwrap();
    sim()
        .arg("run")
        .arg(small_scenario())
        .args(["--runs", "20", "--out"])
        .arg(&out)
        .assert()
        .success();
    assert_nothing_half_written(&out);
    assert!(out.join("small").is_dir());
}

#[test]
fn concurrent_runs_into_one_directory_do_not_mix_files() {
    let dir = tempfile::tempdir().unwrap();
    let scenarios = small_copies(dir.path(), 8, 100);
    let out = dir.path().join("out");
    for round in 0..2 {
        let children: Vec<Child> = [1, 2]
            .into_iter()
            .map(|seed| {
                Command::new(sim_path())
                    .arg("run")
                    .args(&scenarios)
                    .args([
                        "--runs",
                        "50",
                        "--threads",
                        "1",
                        "--seed",
                        &(seed + 10 * round).to_string(),
                    ])
                    .arg("--out")
                    .arg(&out)
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "a concurrent run failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        assert_nothing_half_written(&out);
        let scenario_dirs: Vec<String> = file_names(&out)
            .into_iter()
            .filter(|n| n != "compare" && n != "index.html")
            .collect();
        assert_eq!(scenario_dirs.len(), scenarios.len());
        assert!(out.join("index.html").is_file() && out.join("compare").is_dir());
        for name in scenario_dirs {
            let summary = assert_complete_scenario_dir(&out.join(name));
            assert!([1 + 10 * round, 2 + 10 * round].contains(&summary.seed));
        }
    }
    // Sanity: the helper would notice a directory mixing two runs.
    let mixed = dir.path().join("mixed");
    sim()
        .arg("run")
        .arg(small_scenario())
        .args(["--runs", "50", "--seed", "1", "--out"])
        .arg(&mixed)
        .assert()
        .success();
    sim()
        .arg("run")
        .arg(small_scenario())
        .args(["--runs", "50", "--seed", "2", "--out"])
        .arg(dir.path().join("other"))
        .assert()
        .success();
    std::fs::copy(
        dir.path().join("other/small/outcome_by.csv"),
        mixed.join("small/outcome_by.csv"),
    )
    .unwrap();
    let caught = std::panic::catch_unwind(|| assert_complete_scenario_dir(&mixed.join("small")));
    assert!(caught.is_err(), "a mixed directory went unnoticed");
}
