//! Pinned results: `tests/golden/<id>.json` holds the summary of every shipped scenario at a
//! fixed seed and run count, and `sim run --expect` reports any change by table, series and
//! step. After a deliberate change of results, update them with (docs/cli.md):
//!
//!     cargo run --release -- run 'scenarios/*.toml' --runs 1000 --seed 1 --no-analysis --expect tests/golden --bless --out target/golden

use std::path::Path;

use crate::util::{read, repo, shipped_scenarios, sim, small_scenario};

const BLESS: &str = "cargo run --release -- run 'scenarios/*.toml' --runs 1000 --seed 1 --no-analysis --expect tests/golden --bless --out target/golden";

fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

#[test]
fn shipped_scenarios_match_their_golden_files() {
    let golden = repo("tests/golden");
    let mut ids: Vec<String> = shipped_scenarios()
        .iter()
        .map(|path| {
            sim::load::load(path)
                .and_then(|l| sim::compile::compile(&l))
                .unwrap()
                .info
                .id
        })
        .collect();
    ids.sort();
    let mut stored: Vec<String> = std::fs::read_dir(&golden)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().to_str()?.strip_suffix(".json").map(String::from))
        .collect();
    stored.sort();
    assert_eq!(
        stored, ids,
        "tests/golden/ must hold one <id>.json per shipped scenario; remove stale ones and create missing ones with:\n{BLESS}"
    );

    let out = tempfile::tempdir().unwrap();
    let output = sim()
        .arg("run")
        .args(shipped_scenarios())
        .arg("--expect")
        .arg(&golden)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "shipped scenarios no longer give their golden results:\n{}\nIf the change is intended, update tests/golden with:\n{BLESS}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Stores the test scenario's results (seed 7, 500 runs) as `<dir>/small.json`.
fn bless_small(dir: &Path) -> assert_cmd::assert::Assert {
    sim()
        .arg("run")
        .arg(small_scenario())
        .args(["--runs", "500", "--seed", "7", "--expect"])
        .arg(dir)
        .arg("--bless")
        .arg("--out")
        .arg(dir.join("out"))
        .assert()
        .success()
}

fn expect_small(expect: &str, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    sim()
        .arg("run")
        .arg(small_scenario())
        .args(["--expect", expect])
        .args(extra)
        .arg("--out")
        .arg(out)
        .assert()
}

#[test]
fn a_changed_result_is_named_by_table_series_and_step() {
    let dir = tempfile::tempdir().unwrap();
    let golden = dir.path().join("golden");
    bless_small(&golden);
    // Pretend the engine used to count one more run with a crisis by step 6.
    let path = golden.join("small.json");
    let mut stored: serde_json::Value = serde_json::from_str(&read(&path)).unwrap();
    let crisis = stored["tables"]["outcome_by"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["id"] == "crisis")
        .unwrap();
    let count = crisis["points"][6]["count"].as_u64().unwrap();
    crisis["points"][6]["count"] = (count + 1).into();
    stored["tallies_digest"] = "0".repeat(64).into();
    std::fs::write(&path, serde_json::to_string_pretty(&stored).unwrap()).unwrap();

    let failed = expect_small(golden.to_str().unwrap(), &dir.path().join("out"), &[]).code(4);
    let text = stderr(&failed);
    assert!(text.contains("results of `small` differ from"), "{text}");
    assert!(text.contains("outcome_by: 1 of 26 cells differ"), "{text}");
    assert!(
        text.contains(&format!(
            "`crisis` (A crisis or worse) at step 6 (2025-07): expected {}, got {count} of 500 runs",
            count + 1
        )),
        "{text}"
    );
    assert!(text.contains("--bless"), "{text}");

    // Blessing stores the fresh results again, and then they match.
    let blessed = bless_small(&golden);
    assert!(stderr(&blessed).contains("results changed"), "{}", stderr(&blessed));
    expect_small(golden.to_str().unwrap(), &dir.path().join("out"), &[]).success();
}

#[test]
fn expect_reruns_with_the_stored_seed_and_runs_and_accepts_summaries_and_digests() {
    let dir = tempfile::tempdir().unwrap();
    let golden = dir.path().join("golden");
    assert!(stderr(&bless_small(&golden)).contains("small.json: new"));
    assert!(stderr(&bless_small(&golden)).contains("small.json: unchanged"));
    let out = dir.path().join("out");

    // No --seed or --runs: the stored ones are used.
    let ok = expect_small(golden.to_str().unwrap(), &out, &[]).success();
    assert!(stderr(&ok).contains("ok: `small` matches"), "{}", stderr(&ok));
    assert!(stderr(&ok).contains("(seed 7, 500 runs)"), "{}", stderr(&ok));
    // An earlier output directory, or its summary.json, works as well.
    expect_small(golden.join("out").to_str().unwrap(), &out, &[]).success();
    expect_small(golden.join("out/small/summary.json").to_str().unwrap(), &out, &[]).success();

    // A bare digest: equal passes, different fails without a cell-by-cell diff.
    let stored: serde_json::Value = serde_json::from_str(&read(&golden.join("small.json"))).unwrap();
    let digest = stored["tallies_digest"].as_str().unwrap();
    expect_small(digest, &out, &["--runs", "500", "--seed", "7"]).success();
    let other = "f".repeat(64);
    let failed = expect_small(&other, &out, &["--runs", "500", "--seed", "7"]).code(4);
    assert!(
        stderr(&failed).contains("only a digest was expected"),
        "{}",
        stderr(&failed)
    );

    // Another seed cannot be compared; a scenario without a stored result fails too.
    let failed = expect_small(golden.to_str().unwrap(), &out, &["--seed", "8"]).code(4);
    assert!(stderr(&failed).contains("cannot be compared"), "{}", stderr(&failed));
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let failed = expect_small(empty.to_str().unwrap(), &out, &[]).code(4);
    assert!(
        stderr(&failed).contains("no expected result for `small`"),
        "{}",
        stderr(&failed)
    );

    // Merged shards are checked the same way.
    let parts = dir.path().join("parts");
    for k in 0..2 {
        sim()
            .arg("run")
            .arg(small_scenario())
            .args(["--runs", "500", "--seed", "7", "--shard", &format!("{k}/2"), "--out"])
            .arg(&parts)
            .assert()
            .success();
    }
    sim()
        .arg("merge")
        .arg(&parts)
        .arg("--expect")
        .arg(&golden)
        .arg("--out")
        .arg(dir.path().join("merged"))
        .assert()
        .success();
}
