//! What `sim run`, `sim merge` and `sim compare` write is one consistent set: `index.html` and
//! `compare/` describe exactly the scenario directories written with them, even when two jobs
//! write into one `--out` at once; the baseline is chosen as documented; the headline numbers
//! fit the terminal, or come as JSON.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::util::{file_names, read, read_summary, repo, sim, sim_path, small_copies, tree};

fn run(files: &[PathBuf], out: &Path, extra: &[&str]) -> std::process::Output {
    let output = sim()
        .arg("run")
        .args(files)
        .args(["--runs", "200", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    output
}

/// `index.html` and `compare/` as `sim compare` draws them from the scenario directories now on
/// disk: equal bytes mean the published report describes exactly those directories.
fn assert_report_matches_directories(out: &Path, ids: &[&str], scratch: &Path) {
    let _ = std::fs::remove_dir_all(scratch);
    sim()
        .arg("compare")
        .args(ids.iter().map(|id| out.join(id)))
        .arg("--out")
        .arg(scratch)
        .args(["--baseline", ids[0], "--quiet"])
        .assert()
        .success();
    assert!(
        read(&out.join("index.html")) == read(&scratch.join("index.html")),
        "index.html describes another run than the scenario directories"
    );
    assert!(
        tree(&out.join("compare")) == tree(&scratch.join("compare")),
        "compare/ describes another run than the scenario directories"
    );
}

#[test]
fn concurrent_runs_leave_a_report_of_the_directories_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let scenarios = small_copies(dir.path(), 3, 24);
    let out = dir.path().join("out");
    let ids = ["small_0", "small_1", "small_2"];
    for round in 0..6 {
        let children: Vec<Child> = [1, 2]
            .into_iter()
            .map(|seed| {
                Command::new(sim_path())
                    .arg("run")
                    .args(&scenarios)
                    .args(["--runs", "100", "--threads", "1", "--seed"])
                    .arg((seed + 10 * round).to_string())
                    .arg("--out")
                    .arg(&out)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut child in children {
            assert!(child.wait().unwrap().success());
        }
        // One job's whole set: every directory from the same seed, and the report of them.
        let seeds: Vec<u64> = ids
            .iter()
            .map(|id| read_summary(&out.join(id).join("summary.json")).seed)
            .collect();
        assert!(
            seeds.iter().all(|&s| s == seeds[0]),
            "round {round}: directories of two runs: {seeds:?}"
        );
        assert_report_matches_directories(&out, &ids, &dir.path().join("check"));
    }
}

#[test]
fn compare_writes_its_report_and_a_smaller_run_removes_the_stale_comparison() {
    let dir = tempfile::tempdir().unwrap();
    let scenarios = small_copies(dir.path(), 3, 12);
    let out = dir.path().join("out");
    run(&scenarios, &out, &[]);
    assert!(out.join("compare").is_dir());

    // `sim compare` writes what its help says: compare/ and index.html, no scenario directory.
    let redrawn = dir.path().join("redrawn");
    sim()
        .arg("compare")
        .arg(out.join("small_0"))
        .arg(out.join("small_2"))
        .arg("--out")
        .arg(&redrawn)
        .assert()
        .success();
    assert_eq!(file_names(&redrawn), vec!["compare", "index.html"]);
    let page = read(&redrawn.join("index.html"));
    assert!(page.contains("id=\"scenario-small_2\"") && !page.contains("id=\"scenario-small_1\""));

    // One scenario into the same directory: no comparison of the earlier run survives, and the
    // report describes this run only.
    run(&scenarios[1..2], &out, &[]);
    assert!(!out.join("compare").exists(), "compare/ of an earlier run left behind");
    let page = read(&out.join("index.html"));
    assert!(page.contains("id=\"scenario-small_1\"") && !page.contains("id=\"scenario-small_0\""));
    assert!(!page.contains("id=\"comparison\""));
}

#[test]
fn the_baseline_is_the_scenario_the_others_extend_or_the_one_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // The variant first: the base is still the baseline.
    let files = [repo("scenarios/seoul_arms_kyiv.toml"), repo("scenarios/baseline.toml")];
    let output = run(&files, &out, &["--format", "json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("baseline: `baseline` (the scenario the others extend"),
        "{stderr}"
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["baseline"], "baseline");
    assert_eq!(json["scenarios"][0]["id"], "baseline");
    assert!(json["scenarios"][0]["outcomes"][0]["difference"].is_null());
    let variant = &json["scenarios"][1];
    assert_eq!(variant["id"], "seoul_arms_kyiv");
    let arms = variant["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == "seoul_lethal_arms")
        .expect("outcome seoul_lethal_arms");
    assert!(arms["difference"].as_f64().unwrap() > 0.3, "{arms}");
    for key in ["count", "p", "lo95", "hi95", "label"] {
        assert!(!arms[key].is_null(), "{key} missing: {arms}");
    }
    // The report compares with the baseline, and says what the variant changes.
    let page = read(&out.join("index.html"));
    let comparison = page.find("id=\"comparison\"").unwrap();
    assert!(
        comparison < page.find("id=\"scenario-baseline\"").unwrap(),
        "comparison not first"
    );
    assert!(page.contains("from the baseline, Baseline: the peninsula as of May 2025"));
    assert!(page.contains("Variant of <a href=\"#scenario-baseline\">"));
    assert!(page.contains("<li>param <code>p_early_decision</code> added: uniform(0.3, 0.6)</li>"));

    // Asked for: the variant.
    let output = run(&files, &out, &["--baseline", "seoul_arms_kyiv", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["scenarios"][0]["id"], "seoul_arms_kyiv");

    // Unknown: a usage error before anything is simulated.
    let refused = sim()
        .arg("run")
        .args(&files)
        .args(["--runs", "100000000", "--baseline", "baseline_typo", "--out"])
        .arg(dir.path().join("never"))
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("`baseline_typo` is none of the scenarios"));
    assert!(!dir.path().join("never").exists());
}

#[test]
fn the_headline_table_fits_the_terminal_and_quiet_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let files: Vec<PathBuf> = crate::util::shipped_scenarios();
    for columns in [60, 100, 160] {
        let output = sim()
            .arg("run")
            .args(&files)
            .args(["--runs", "1", "--out"])
            .arg(&out)
            .env("COLUMNS", columns.to_string())
            .output()
            .unwrap();
        assert!(output.status.success());
        let table = String::from_utf8(output.stdout).unwrap();
        assert!(
            table.contains("1 run, seed 2025") && !table.contains("1 runs"),
            "{table}"
        );
        for line in table.lines() {
            assert!(
                line.chars().count() <= columns,
                "wider than {columns}: {line:?}\n{table}"
            );
        }
        // Every scenario and every difference is still there.
        assert_eq!(table.matches(" pp").count(), 5 * 8, "{table}");
    }
    let quiet = sim()
        .arg("run")
        .args(&files[..2])
        .args(["--runs", "10", "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(quiet.status.success());
    assert!(quiet.stdout.is_empty() && quiet.stderr.is_empty(), "{quiet:?}");
}
