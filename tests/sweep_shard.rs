//! `sim sweep --shard` and `sim merge`: a sweep spread over processes and merged is the
//! single-process sweep, byte for byte (sweep.csv, thresholds.csv, charts, index.html), for any
//! shard count; every kind of part that does not belong is refused with its reason and nothing
//! is written; `--shard auto` reads the scheduler's environment as `sim run --shard` does.

use std::path::{Path, PathBuf};

use crate::util::{file_names, leftovers, read, sim, small_scenario, tree};

/// A grid over two params of the test scenario with two thresholds: curves, heat maps and
/// crossings.
const GRID: [&str; 8] = [
    "--param",
    "p_rise=0.05..0.3:4",
    "--param",
    "p_fall=0.05..0.2:2",
    "--threshold",
    "0.25",
    "--threshold",
    "0.5",
];

fn sweep(scenario: &Path, args: &[&str], runs: u64, seed: u64, out: &Path) -> assert_cmd::assert::Assert {
    sim()
        .arg("sweep")
        .arg(scenario)
        .args(args)
        .args([
            "--runs",
            &runs.to_string(),
            "--seed",
            &seed.to_string(),
            "--quiet",
            "--out",
        ])
        .arg(out)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .assert()
}

fn shard(scenario: &Path, args: &[&str], runs: u64, seed: u64, k: u64, n: u64, parts: &Path) {
    let shard = format!("{k}/{n}");
    let args: Vec<&str> = args.iter().copied().chain(["--shard", &shard]).collect();
    sweep(scenario, &args, runs, seed, parts).success();
}

fn merge(parts: &[&Path], out: &Path) -> assert_cmd::assert::Assert {
    sim()
        .arg("merge")
        .args(parts)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .assert()
}

fn part(parts: &Path, k: u64, n: u64) -> PathBuf {
    parts.join(format!("small.sweep.shard-{k}-of-{n}.json"))
}

/// Asserts that two sweep directories hold the same files with the same bytes.
fn assert_same_sweep(single: &Path, merged: &Path, what: &str) {
    let (a, b) = (tree(single), tree(merged));
    let names = |t: &[(PathBuf, Vec<u8>)]| t.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "{what}: other files");
    for ((name, mine), (_, theirs)) in a.iter().zip(&b) {
        assert!(
            mine == theirs,
            "{what}: {} differs from the single-process sweep",
            name.display()
        );
    }
}

#[test]
fn merged_shards_are_the_single_process_sweep_for_any_shard_count() {
    let dir = tempfile::tempdir().unwrap();
    // 150 runs: three batches of the engine's 64 lanes, not a multiple of any split.
    let (runs, seed) = (150, 4);
    let single = dir.path().join("single");
    sweep(&small_scenario(), &GRID, runs, seed, &single).success();
    let single = single.join("small-sweep");
    for name in [
        "sweep.csv",
        "thresholds.csv",
        "index.html",
        "heatmap_crisis.svg",
        "curve_crisis.png",
    ] {
        assert!(single.join(name).is_file(), "{name} missing: {:?}", file_names(&single));
    }
    // 5 shards: more than the three batches of runs; 160: more shards than runs, so ten of
    // them simulate no run and still write a valid part.
    for n in [1, 2, 3, 5, 160] {
        // The merge reads only the parts: the scenario file is gone by then.
        let scenario = dir.path().join(format!("small-{n}.toml"));
        std::fs::copy(small_scenario(), &scenario).unwrap();
        let parts = dir.path().join(format!("parts-{n}"));
        for k in 0..n {
            shard(&scenario, &GRID, runs, seed, k, n, &parts);
        }
        std::fs::remove_file(&scenario).unwrap();
        assert_eq!(file_names(&parts).len() as u64, n);
        let out = dir.path().join(format!("merged-{n}"));
        merge(&[&parts], &out).success();
        assert_eq!(file_names(&out), ["small-sweep"]);
        assert_same_sweep(&single, &out.join("small-sweep"), &format!("{n} shards"));
    }
}

#[test]
fn a_sweep_without_thresholds_merges_without_thresholds_csv() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--param", "p_rise=0.05..0.3:3"];
    sweep(&small_scenario(), &args, 200, 9, &dir.path().join("single")).success();
    let parts = dir.path().join("parts");
    for k in 0..2 {
        shard(&small_scenario(), &args, 200, 9, k, 2, &parts);
    }
    let out = dir.path().join("merged");
    merge(&[&parts], &out).success();
    assert!(!out.join("small-sweep/thresholds.csv").exists());
    assert_same_sweep(
        &dir.path().join("single/small-sweep"),
        &out.join("small-sweep"),
        "no thresholds",
    );
}

/// Merges `parts`, expects exit 6 with every message of `expected`, and no output.
fn refused(parts: &[&Path], dir: &Path, expected: &[&str]) {
    let out = dir.join("refused");
    let output = sim().arg("merge").args(parts).arg("--out").arg(&out).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(6), "{stderr}");
    for text in expected {
        assert!(stderr.contains(text), "no `{text}` in:\n{stderr}");
    }
    assert!(!out.join("small-sweep").exists(), "a refused merge wrote output");
    assert!(leftovers(&out).is_empty());
}

#[test]
fn missing_duplicated_foreign_mixed_and_edited_parts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (runs, seed) = (120, 2);
    let args = ["--param", "p_rise=0.05..0.3:3", "--threshold", "0.25"];
    let parts = d.join("parts");
    for k in 0..3 {
        shard(&small_scenario(), &args, runs, seed, k, 3, &parts);
    }
    merge(&[&parts], &d.join("whole")).success();

    // Missing: named with the command that makes it.
    let two = d.join("two");
    std::fs::create_dir_all(&two).unwrap();
    for k in [0, 2] {
        std::fs::copy(part(&parts, k, 3), part(&two, k, 3)).unwrap();
    }
    refused(
        &[&two],
        d,
        &[
            "shard 1/3 of the sweep of `small` is missing (runs 40..80 of 120, seed 2); run it with \
           `sim sweep <scenario> --param p_rise=0.05..0.3:3 --threshold 0.25 --runs 120 --seed 2 --shard 1/3`",
        ],
    );

    // Duplicated: the same shard from two directories.
    refused(
        &[&parts, &part(&two, 2, 3)],
        d,
        &["shard 2/3 of the sweep of `small` is given 2 times"],
    );

    // Foreign: another seed, other thresholds, other values, an edited scenario.
    let foreign = |name: &str, scenario: &Path, args: &[&str], seed: u64| -> PathBuf {
        let other = d.join(name);
        shard(scenario, args, runs, seed, 1, 3, &other);
        let mixed = d.join(format!("{name}-mixed"));
        std::fs::create_dir_all(&mixed).unwrap();
        for k in [0, 2] {
            std::fs::copy(part(&parts, k, 3), part(&mixed, k, 3)).unwrap();
        }
        std::fs::copy(part(&other, 1, 3), part(&mixed, 1, 3)).unwrap();
        mixed
    };
    let mixed = foreign("seed", &small_scenario(), &args, 3);
    refused(&[&mixed], d, &["does not belong with", "seed is 3 here but 2 in"]);
    let other_threshold = ["--param", "p_rise=0.05..0.3:3", "--threshold", "0.5"];
    let mixed = foreign("threshold", &small_scenario(), &other_threshold, seed);
    refused(&[&mixed], d, &["thresholds is [0.5] here but [0.25]"]);
    let other_values = ["--param", "p_rise=0.05..0.4:3", "--threshold", "0.25"];
    let mixed = foreign("values", &small_scenario(), &other_values, seed);
    refused(
        &[&mixed],
        d,
        &["params is \"p_rise=0.05..0.4:3\" here but \"p_rise=0.05..0.3:3\""],
    );
    let edited = d.join("edited.toml");
    let text = read(&small_scenario());
    assert!(text.contains("p_fall = { uniform = [0.05, 0.20] }"));
    std::fs::write(
        &edited,
        text.replace("p_fall = { uniform = [0.05, 0.20] }", "p_fall = 0.1"),
    )
    .unwrap();
    let mixed = foreign("edited", &edited, &args, seed);
    refused(&[&mixed], d, &["the scenario was changed between the shards"]);

    // A part of `sim run --shard` among them.
    let run_parts = d.join("run-parts");
    sim()
        .arg("run")
        .arg(small_scenario())
        .args(["--runs", "120", "--seed", "2", "--shard", "0/2", "--out"])
        .arg(&run_parts)
        .assert()
        .success();
    refused(
        &[&parts, &run_parts.join("small.shard-0-of-2.json")],
        d,
        &[
            "is a part of a sweep (`sim sweep --shard`) but",
            "is a part of `sim run --shard`",
        ],
    );

    // Edited by hand: a count changed, so its digest no longer matches.
    let tampered = d.join("tampered");
    std::fs::create_dir_all(&tampered).unwrap();
    for k in 0..3 {
        std::fs::copy(part(&parts, k, 3), part(&tampered, k, 3)).unwrap();
    }
    let path = part(&tampered, 1, 3);
    let mut json: serde_json::Value = serde_json::from_str(&read(&path)).unwrap();
    let count = json["cells"][0]["count"].as_u64().unwrap();
    json["cells"][0]["count"] = (count + 1).into();
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    refused(
        &[&tampered],
        d,
        &["small.sweep.shard-1-of-3.json: its counts do not match their digest (the file was changed or damaged)"],
    );
}

#[test]
fn shard_auto_reads_slurm_arrays_and_kubernetes_indexed_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let (runs, seed) = (300, 6);
    let args = ["--param", "p_rise=0.05..0.3:3", "--threshold", "0.25"];
    sweep(&small_scenario(), &args, runs, seed, &dir.path().join("single")).success();
    let single = dir.path().join("single/small-sweep");

    // Slurm `--array=1-3`: tasks 1, 2, 3 are shards 0, 1, 2.
    let slurm = dir.path().join("slurm");
    for task in 1..=3 {
        sim()
            .arg("sweep")
            .arg(small_scenario())
            .args(args)
            .args(["--runs", "300", "--seed", "6", "--shard", "auto", "--quiet", "--out"])
            .arg(&slurm)
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .env("SLURM_ARRAY_TASK_MIN", "1")
            .env("SLURM_ARRAY_TASK_COUNT", "3")
            .assert()
            .success();
    }
    assert!(part(&slurm, 0, 3).is_file() && part(&slurm, 2, 3).is_file());
    merge(&[&slurm], &dir.path().join("from-slurm")).success();
    assert_same_sweep(&single, &dir.path().join("from-slurm/small-sweep"), "Slurm array");

    // Kubernetes: the index, and the count from --shard-count.
    let k8s = dir.path().join("k8s");
    for index in 0..2 {
        sim()
            .arg("sweep")
            .arg(small_scenario())
            .args(args)
            .args([
                "--runs",
                "300",
                "--seed",
                "6",
                "--shard",
                "auto",
                "--shard-count",
                "2",
                "--quiet",
                "--out",
            ])
            .arg(&k8s)
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .assert()
            .success();
    }
    merge(&[&k8s], &dir.path().join("from-k8s")).success();
    assert_same_sweep(&single, &dir.path().join("from-k8s/small-sweep"), "indexed Job");

    // A step in the array is refused as for `sim run`, and nothing is written.
    let stepped = dir.path().join("stepped");
    sim()
        .arg("sweep")
        .arg(small_scenario())
        .args(args)
        .args(["--shard", "auto", "--out"])
        .arg(&stepped)
        .env("SLURM_ARRAY_TASK_ID", "2")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .env("SLURM_ARRAY_TASK_STEP", "2")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("needs a contiguous array"));
    assert!(!stepped.exists() || file_names(&stepped).is_empty());
}

#[test]
fn sigterm_while_a_shard_simulates_leaves_no_part() {
    let dir = tempfile::tempdir().unwrap();
    let parts = dir.path().join("parts");
    let mut child = std::process::Command::new(crate::util::sim_path())
        .arg("sweep")
        .arg(small_scenario())
        .args([
            "--param",
            "p_rise=0.05..0.3:3",
            "--runs",
            "100000000",
            "--shard",
            "1/2",
            "--out",
        ])
        .arg(&parts)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Long enough to be simulating (a debug build compiles the points in milliseconds), far
    // too short to finish 50,000,000 runs at three points.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143), "not stopped by SIGTERM: {status:?}");
    assert!(!part(&parts, 1, 2).exists(), "a part of a killed shard");
    assert!(leftovers(&parts).is_empty(), "{:?}", leftovers(&parts));
}
