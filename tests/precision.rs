//! `sim run --precision`: stopping at the first checkpoint where every headline interval is
//! narrow enough, with the same bytes as a plain run of that many runs, on any thread count.

use std::path::Path;

use crate::util::{read, read_summary, sim, small_scenario, tree};
use sim::aggregate::{Summary, wilson};

/// `sim run small.toml --precision H [extra...] --out OUT`; returns stderr.
fn run_to_precision(half_width: &str, extra: &[&str], out: &Path) -> String {
    let output = sim()
        .arg("run")
        .arg(small_scenario())
        .args(["--precision", half_width, "--seed", "3"])
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stderr).unwrap()
}

/// The widest half-width of the Wilson intervals of every outcome and rung at the horizon.
fn widest(summary: &Summary) -> f64 {
    let tables = &summary.tables;
    tables
        .outcome_by
        .iter()
        .chain(&tables.rung_reached)
        .map(|series| {
            let (lo, hi) = wilson(series.points.last().unwrap().count, summary.runs);
            (hi - lo) / 2.0
        })
        .fold(0.0, f64::max)
}

#[test]
fn it_stops_at_the_first_checkpoint_that_meets_the_target_with_the_bytes_of_a_plain_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("precise");
    let stderr = run_to_precision("0.01", &["--min-runs", "1000"], &out);
    let summary = read_summary(&out.join("small/summary.json"));
    let stopping = summary.stopping.clone().expect("the rule is pinned in summary.json");
    assert!(stopping.reached);
    assert_eq!(stopping.checkpoints.first(), Some(&1000));
    assert_eq!(stopping.checkpoints.last(), Some(&summary.runs));
    assert!(
        stopping.checkpoints.len() >= 3,
        "{:?}: pick a tighter target",
        stopping.checkpoints
    );
    assert!(
        widest(&summary) <= 0.01,
        "stopped with an interval wider than the target"
    );
    assert!(stderr.contains(&format!("stopped at {} runs", sim::format::thousands(summary.runs))));

    // The checkpoint before it was not precise enough: the rule stops at the first that is.
    let previous = stopping.checkpoints[stopping.checkpoints.len() - 2];
    let plain_previous = dir.path().join("previous");
    sim()
        .arg("run")
        .arg(small_scenario())
        .args(["--runs", &previous.to_string(), "--seed", "3", "--quiet", "--out"])
        .arg(&plain_previous)
        .assert()
        .success();
    assert!(widest(&read_summary(&plain_previous.join("small/summary.json"))) > 0.01);

    // Runs 0..n of a longer study are the n runs of `--runs n`: every file is the same but for
    // the stopping record.
    let plain = dir.path().join("plain");
    sim()
        .arg("run")
        .arg(small_scenario())
        .args(["--runs", &summary.runs.to_string(), "--seed", "3", "--quiet", "--out"])
        .arg(&plain)
        .assert()
        .success();
    let (precise_files, plain_files) = (tree(&out), tree(&plain));
    assert_eq!(precise_files.len(), plain_files.len());
    for ((name, precise_bytes), (plain_name, plain_bytes)) in precise_files.into_iter().zip(plain_files) {
        assert_eq!(name, plain_name);
        if name.ends_with("summary.json") {
            let mut without = summary.clone();
            without.stopping = None;
            assert_eq!(without, read_summary(&plain.join(&name)));
        } else {
            assert!(
                precise_bytes == plain_bytes,
                "{} differs from the plain run's",
                name.display()
            );
        }
    }
}

#[test]
fn the_run_count_and_bytes_do_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one");
    let two = dir.path().join("two");
    run_to_precision("0.008", &["--min-runs", "700", "--threads", "1", "--quiet"], &one);
    run_to_precision("0.008", &["--min-runs", "700", "--threads", "2", "--quiet"], &two);
    assert!(
        tree(&one) == tree(&two),
        "--precision results differ between 1 and 2 threads"
    );
}

#[test]
fn a_target_not_met_by_max_runs_is_said_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let stderr = run_to_precision("0.001", &["--min-runs", "500", "--max-runs", "1500"], &out);
    assert!(
        stderr.contains("warning: --precision 0.001 not reached by --max-runs 1,500"),
        "{stderr}"
    );
    let summary = read_summary(&out.join("small/summary.json"));
    let stopping = summary.stopping.unwrap();
    assert!(!stopping.reached);
    assert_eq!(stopping.checkpoints, [500, 1000, 1500]);
    assert_eq!(summary.runs, 1500);
}

#[test]
fn precision_on_names_what_must_be_precise_and_expect_pins_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let expected = dir.path().join("expected");
    // One rare outcome needs fewer runs than all of them.
    let all = {
        run_to_precision("0.01", &["--min-runs", "500", "--quiet"], &out);
        read_summary(&out.join("small/summary.json")).runs
    };
    let args = ["--min-runs", "500", "--precision-on", "clash", "--quiet", "--expect"];
    let mut with_expect: Vec<&str> = args.to_vec();
    let expected_arg = expected.to_str().unwrap();
    with_expect.extend([expected_arg, "--bless"]);
    run_to_precision("0.01", &with_expect, &out);
    let summary = read_summary(&out.join("small/summary.json"));
    assert_eq!(summary.stopping.as_ref().unwrap().on, ["clash"]);
    assert!(summary.runs <= all);
    // The same target reproduces the same run count and numbers, so --expect passes.
    with_expect.pop();
    run_to_precision("0.01", &with_expect, &out);
    assert!(read(&expected.join("small.json")).contains("\"stopping\""));
}

#[test]
fn nonsense_targets_and_clashing_flags_are_refused_before_simulating() {
    let dir = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (vec!["--precision", "1.3"], "between 0 and 0.5"),
        (vec!["--precision", "0"], "between 0 and 0.5"),
        (
            vec!["--precision", "0.01", "--precision-on", "clsh"],
            "did you mean `clash`?",
        ),
        (vec!["--precision", "0.01", "--runs", "100"], "cannot be used with"),
        (vec!["--precision", "0.01", "--shard", "0/2"], "cannot be used with"),
        (
            vec!["--precision", "0.01", "--min-runs", "100", "--max-runs", "10"],
            "below --min-runs",
        ),
    ] {
        let output = sim()
            .arg("run")
            .arg(small_scenario())
            .args(&args)
            .arg("--out")
            .arg(dir.path().join("out"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!dir.path().join("out").exists(), "{args:?} wrote output");
    }
}
