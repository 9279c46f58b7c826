//! Every exit code documented in README.md and docs/cli.md, each produced by the real binary:
//! 0 success, 1 invalid scenario, 2 usage, 3 invalid value in a run, 4 `--expect` differs,
//! 5 I/O and unreadable files, 6 merge refused, 7 incomparable results, 8 a claim failed and
//! 9 claims undecided (`sim test`), 130 SIGINT, 143 SIGTERM.
//! Standard output that goes away (`| head -1`) is not an error; a full disk is.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::{Workspace, read, sim, sim_path, small_scenario};

/// `sim run FILE --runs N --out OUT` with extra arguments.
fn run(file: &Path, runs: u64, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    sim()
        .arg("run")
        .arg(file)
        .args(["--runs", &runs.to_string()])
        .arg("--out")
        .arg(out)
        .args(extra)
        .timeout(Duration::from_secs(120))
        .assert()
}

/// The small scenario with `from` replaced by `to` (which must occur), as `name` in `ws`.
fn edited(ws: &Workspace, name: &str, from: &str, to: &str) -> std::path::PathBuf {
    let text = read(&small_scenario());
    assert!(text.contains(from), "{from}");
    ws.file(name, &text.replacen(from, to, 1))
}

#[test]
fn exit_0_success() {
    sim().arg("check").arg(small_scenario()).assert().code(0);
    let ws = Workspace::new();
    run(&small_scenario(), 50, &ws.out(), &[]).code(0);
}

#[test]
fn exit_1_invalid_scenario() {
    let ws = Workspace::new();
    let file = edited(&ws, "small.toml", "steps = 12", "steps = \"twelve\"");
    sim()
        .arg("check")
        .arg(&file)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("small.toml:7:9"));
}

#[test]
fn exit_2_usage() {
    sim().arg("run").assert().code(2);
    sim().args(["run", "x.toml", "--no-such-option"]).assert().code(2);
    let ws = Workspace::new();
    for threads in ["0", "100000"] {
        run(&small_scenario(), 50, &ws.out(), &["--threads", threads])
            .code(2)
            .stderr(predicates::str::contains("--threads must be between 1 and 256"));
    }
    run(&small_scenario(), 50, &ws.out(), &["--threads", "256"]).code(0);
}

#[test]
fn exit_3_invalid_value_in_a_run() {
    let ws = Workspace::new();
    let file = edited(
        &ws,
        "small.toml",
        "probability = \"p_rise\"",
        "probability = \"p_rise * 20\"",
    );
    run(&file, 50, &ws.out(), &[])
        .code(3)
        .stderr(predicates::str::contains("outside [0, 1]"));
    assert!(!ws.out().exists(), "output written despite the error");
}

#[test]
fn exit_4_expected_results_differ() {
    let ws = Workspace::new();
    run(&small_scenario(), 50, &ws.out(), &["--expect", &"0".repeat(64)])
        .code(4)
        .stderr(predicates::str::contains("differ from the digest"));
}

#[test]
fn exit_5_unreadable_scenario_files() {
    let ws = Workspace::new();
    let not_utf8 = ws.path().join("latin1.toml");
    std::fs::write(&not_utf8, b"[scenario]\nname = \"Caf\xe9\"\n").unwrap();
    for (file, why) in [
        (ws.path().join("missing.toml"), "no such file"),
        (not_utf8, "not UTF-8 text"),
        (ws.path().to_path_buf(), "is a directory"),
    ] {
        for command in ["check", "run", "trace"] {
            let mut cmd = sim();
            cmd.arg(command).arg(&file).current_dir(ws.path());
            if command == "trace" {
                cmd.args(["--run", "0"]);
            }
            cmd.assert()
                .code(5)
                .stderr(predicates::str::contains(format!("cannot read {}", file.display())))
                .stderr(predicates::str::contains(why));
        }
    }
}

#[test]
fn exit_5_unwritable_out_is_found_before_simulating() {
    let ws = Workspace::new();
    let file = ws.file("not-a-directory", "x");
    // 100 million runs would take many minutes: failing at once shows nothing was simulated.
    let started = std::time::Instant::now();
    run(&small_scenario(), 100_000_000, &file.join("out"), &[])
        .code(5)
        .stderr(predicates::str::contains("cannot write into the output directory"));
    assert!(started.elapsed() < Duration::from_secs(30), "sim simulated first");
    assert_eq!(read(&file), "x");
}

#[test]
fn exit_5_full_disk_on_standard_output() {
    if !Path::new("/dev/full").exists() {
        return; // not Linux
    }
    let ws = Workspace::new();
    let out = ws.out();
    let check = [std::ffi::OsString::from("check"), small_scenario().into_os_string()];
    let run = [
        "run".into(),
        small_scenario().into_os_string(),
        "--runs".into(),
        "50".into(),
        "--out".into(),
        out.into_os_string(),
    ];
    for args in [&check[..], &run[..]] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let output = Command::new(sim_path())
            .args(args)
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(5), "{args:?}: {stderr}");
        assert!(stderr.contains("cannot write to standard output"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn exit_0_when_the_reader_of_standard_output_goes_away() {
    let ws = Workspace::new();
    // The headline table is printed last, after the files are written: the pipe is closed by
    // then, as with `sim run ... | head -0`.
    let mut child = Command::new(sim_path())
        .arg("run")
        .arg(small_scenario())
        .args(["--runs", "50", "--out"])
        .arg(ws.out())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(ws.out().join("small/summary.json").is_file());

    // A closed pipe does not hide a failed --expect.
    let mut child = Command::new(sim_path())
        .arg("run")
        .arg(small_scenario())
        .args(["--runs", "50", "--expect", &"0".repeat(64), "--out"])
        .arg(ws.out())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    assert_eq!(child.wait().unwrap().code(), Some(4));
}

#[test]
fn exit_0_when_the_reader_of_standard_error_goes_away() {
    // `sim run ... 2>&1 | head -1`: every message after the first lands on a closed pipe.
    let ws = Workspace::new();
    let mut child = Command::new(sim_path())
        .arg("run")
        .arg(small_scenario())
        .args(["--runs", "50", "--out"])
        .arg(ws.out())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(ws.out().join("small/summary.json").is_file());
}

#[test]
fn exit_6_merge_refused() {
    let ws = Workspace::new();
    let parts = ws.path().join("parts");
    run(&small_scenario(), 100, &parts, &["--shard", "0/2"]).code(0);
    sim()
        .arg("merge")
        .arg(&parts)
        .arg("--out")
        .arg(ws.out())
        .assert()
        .code(6)
        .stderr(predicates::str::contains("shard 1/2 of `small` is missing"));
}

#[test]
fn exit_7_incomparable_results() {
    let ws = Workspace::new();
    let longer = edited(&ws, "longer.toml", "steps = 12", "steps = 13");
    let longer = {
        let text = read(&longer).replace("id = \"small\"", "id = \"longer\"");
        ws.file("longer.toml", &text)
    };
    run(&small_scenario(), 50, &ws.out(), &[]).code(0);
    run(&longer, 50, &ws.out(), &[]).code(0);
    sim()
        .arg("compare")
        .arg(ws.out().join("small"))
        .arg(ws.out().join("longer"))
        .arg("--out")
        .arg(ws.path().join("compared"))
        .assert()
        .code(7)
        .stderr(predicates::str::contains("horizons differ"));
}

/// The small scenario with one claim: `sim test` of it, 250 runs to start, at most 1,000.
fn sim_test(ws: &Workspace, claim: &str) -> assert_cmd::assert::Assert {
    let text = format!("{}\n[[expect]]\n{claim}\n", read(&small_scenario()));
    let file = ws.file("small.toml", &text);
    sim()
        .arg("test")
        .arg(&file)
        .args(["--runs", "250", "--max-runs", "1000"])
        .timeout(Duration::from_secs(120))
        .assert()
}

#[test]
fn exit_8_a_claim_failed_and_9_claims_undecided() {
    let ws = Workspace::new();
    sim_test(&ws, "rung = \"tension\"\nbetween = [0, 1]").code(0);
    sim_test(&ws, "rung = \"tension\"\nbelow = 0.001")
        .code(8)
        .stderr(predicates::str::contains("1 claim failed"));
    // A tension probability cannot be decided against itself: the bound is the estimate.
    let out = sim()
        .arg("run")
        .arg(small_scenario())
        .args(["--runs", "1000", "--quiet", "--out"])
        .arg(ws.out())
        .output()
        .unwrap();
    assert!(out.status.success());
    let summary = crate::util::read_summary(&ws.out().join("small/summary.json"));
    let tension = summary.tables.rung_reached[0].points[12].count as f64 / 1000.0;
    sim_test(&ws, &format!("rung = \"tension\"\nbelow = {tension}"))
        .code(9)
        .stderr(predicates::str::contains("undecided at --max-runs 1000"));
}

#[cfg(unix)]
#[test]
fn exit_130_on_sigint_and_143_on_sigterm() {
    for (signal, code) in [("INT", 130), ("TERM", 143)] {
        let ws = Workspace::new();
        let status = crate::output_safety::signal_while_simulating(&ws.out(), signal);
        assert_eq!(status.code(), Some(code), "SIG{signal}: {status:?}");
    }
}
