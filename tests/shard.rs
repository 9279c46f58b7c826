//! `sim run --shard` and `sim merge`: shards run as separate processes merge into exactly the
//! single-process result, and parts that do not make up one run are refused.

use std::path::{Path, PathBuf};

use crate::util::{file_names, read, repo, sim, small_scenario};

/// Runs `scenario` in one process into `out`.
fn run_whole(scenario: &Path, runs: u64, seed: u64, out: &Path) {
    sim()
        .arg("run")
        .arg(scenario)
        .args(["--runs", &runs.to_string(), "--seed", &seed.to_string(), "--out"])
        .arg(out)
        .assert()
        .success();
}

/// Runs shard `k` of `n` of `scenario` as its own process, writing into `parts`.
fn run_shard(scenario: &Path, runs: u64, seed: u64, k: u64, n: u64, parts: &Path) {
    sim()
        .arg("run")
        .arg(scenario)
        .args(["--runs", &runs.to_string(), "--seed", &seed.to_string()])
        .args(["--shard", &format!("{k}/{n}"), "--out"])
        .arg(parts)
        .assert()
        .success();
}

fn merge(parts: &[PathBuf], out: &Path) -> assert_cmd::assert::Assert {
    sim().arg("merge").args(parts).arg("--out").arg(out).assert()
}

fn shard_file(parts: &Path, id: &str, k: u64, n: u64) -> PathBuf {
    parts.join(format!("{id}.shard-{k}-of-{n}.json"))
}

#[test]
fn four_shard_processes_merge_into_the_single_process_outputs() {
    let dir = tempfile::tempdir().unwrap();
    // A shipped variant: it goes through `extends`, like real studies.
    let scenario = repo("scenarios/china_restrains.toml");
    let (runs, seed) = (600, 5);
    run_whole(&scenario, runs, seed, &dir.path().join("single"));
    let parts = dir.path().join("parts");
    for k in 0..4 {
        run_shard(&scenario, runs, seed, k, 4, &parts);
    }
    assert_eq!(
        file_names(&parts),
        (0..4)
            .map(|k| format!("china_restrains.shard-{k}-of-4.json"))
            .collect::<Vec<_>>()
    );
    merge(&[parts], &dir.path().join("merged")).success();

    let single = dir.path().join("single/china_restrains");
    let merged = dir.path().join("merged/china_restrains");
    assert_eq!(file_names(&single), file_names(&merged));
    for name in file_names(&single)
        .iter()
        .filter(|n| n.ends_with(".json") || n.ends_with(".csv"))
    {
        assert!(
            read(&single.join(name)) == read(&merged.join(name)),
            "{name} of the merged shards differs from the single-process run"
        );
    }
}

#[test]
fn uneven_splits_give_the_same_summary_and_need_no_scenario_file() {
    let dir = tempfile::tempdir().unwrap();
    // 1234 runs: not a multiple of any split nor of the engine's chunk size.
    let (runs, seed) = (1234, 3);
    run_whole(&small_scenario(), runs, seed, &dir.path().join("single"));
    let expected = read(&dir.path().join("single/small/summary.json"));
    for n in [1, 2, 3, 7] {
        // The merge reads only the parts: the scenario file is gone by then.
        let scenario = dir.path().join(format!("small-{n}.toml"));
        std::fs::copy(small_scenario(), &scenario).unwrap();
        let parts = dir.path().join(format!("parts-{n}"));
        for k in 0..n {
            run_shard(&scenario, runs, seed, k, n, &parts);
        }
        std::fs::remove_file(&scenario).unwrap();
        let out = dir.path().join(format!("merged-{n}"));
        merge(&[parts], &out).success();
        assert!(
            read(&out.join("small/summary.json")) == expected,
            "merging {n} shards changed summary.json"
        );
    }
}

#[test]
fn shard_auto_reads_slurm_and_kubernetes_environments() {
    let dir = tempfile::tempdir().unwrap();
    let (runs, seed) = (900, 8);
    run_whole(&small_scenario(), runs, seed, &dir.path().join("single"));
    let expected = read(&dir.path().join("single/small/summary.json"));

    // Slurm `--array=1-3`: task ids 1, 2, 3 are shards 0, 1, 2.
    let slurm = dir.path().join("slurm");
    for task in 1..=3 {
        sim()
            .arg("run")
            .arg(small_scenario())
            .args(["--runs", "900", "--seed", "8", "--shard", "auto", "--out"])
            .arg(&slurm)
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .env("SLURM_ARRAY_TASK_MIN", "1")
            .env("SLURM_ARRAY_TASK_COUNT", "3")
            .assert()
            .success();
    }
    assert!(shard_file(&slurm, "small", 0, 3).is_file());
    merge(&[slurm], &dir.path().join("from-slurm")).success();
    assert!(read(&dir.path().join("from-slurm/small/summary.json")) == expected);

    // Kubernetes indexed Job: the index, and the count from SIM_SHARD_COUNT or --shard-count.
    let k8s = dir.path().join("k8s");
    for index in 0..2 {
        let mut command = sim();
        command
            .arg("run")
            .arg(small_scenario())
            .args(["--runs", "900", "--seed", "8", "--shard", "auto", "--out"])
            .arg(&k8s)
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env("JOB_COMPLETION_INDEX", index.to_string());
        if index == 0 {
            command.env("SIM_SHARD_COUNT", "2");
        } else {
            command.args(["--shard-count", "2"]);
        }
        command.assert().success();
    }
    merge(&[k8s], &dir.path().join("from-k8s")).success();
    assert!(read(&dir.path().join("from-k8s/small/summary.json")) == expected);

    // No scheduler: a usage error that says what to do.
    sim()
        .arg("run")
        .arg(small_scenario())
        .args(["--shard", "auto", "--out"])
        .arg(dir.path().join("none"))
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--shard K/N"));
}

#[test]
fn missing_duplicated_and_foreign_shards_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let parts = dir.path().join("parts");
    for k in 0..4 {
        run_shard(&small_scenario(), 1000, 1, k, 4, &parts);
    }
    let part = |k| shard_file(&parts, "small", k, 4);
    let out = dir.path().join("out");

    let missing = merge(&[part(0), part(1), part(3)], &out).code(6);
    let stderr = String::from_utf8_lossy(&missing.get_output().stderr).into_owned();
    assert!(
        stderr.contains("shard 2/4 of `small` is missing (runs 500..750 of 1000, seed 1)"),
        "{stderr}"
    );

    let copy = dir.path().join("copy-of-shard-1.json");
    std::fs::copy(part(1), &copy).unwrap();
    let duplicated = merge(&[part(0), part(1), copy.clone(), part(2), part(3)], &out).code(6);
    let stderr = String::from_utf8_lossy(&duplicated.get_output().stderr).into_owned();
    assert!(stderr.contains("shard 1/4 of `small` is given 2 times"), "{stderr}");
    assert!(stderr.contains("copy-of-shard-1.json"), "{stderr}");

    // Another seed, another run count, another version of the scenario: each named.
    let other_seed = dir.path().join("other-seed");
    run_shard(&small_scenario(), 1000, 2, 2, 4, &other_seed);
    let other_runs = dir.path().join("other-runs");
    run_shard(&small_scenario(), 999, 1, 2, 4, &other_runs);
    let edited = dir.path().join("small.toml");
    std::fs::write(&edited, read(&small_scenario()).replace("cooldown = 1", "cooldown = 2")).unwrap();
    let other_version = dir.path().join("other-version");
    run_shard(&edited, 1000, 1, 2, 4, &other_version);
    for (foreign_dir, why) in [
        (&other_seed, "seed is 2 here but 1 in"),
        (&other_runs, "runs is 999 here but 1000 in"),
        (&other_version, "scenario_digest differs"),
    ] {
        let foreign = shard_file(foreign_dir, "small", 2, 4);
        let refused = merge(&[part(0), part(1), foreign.clone(), part(3)], &out).code(6);
        let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
        assert!(stderr.contains(&foreign.display().to_string()), "{stderr}");
        assert!(stderr.contains("does not belong with"), "{stderr}");
        assert!(stderr.contains(why), "{stderr}");
    }
    assert!(!out.exists(), "a refused merge wrote output");

    // A summary is not a part.
    run_whole(&small_scenario(), 100, 1, &dir.path().join("single"));
    merge(&[part(0), dir.path().join("single/small/summary.json")], &out)
        .code(5)
        .stderr(predicates::str::contains("is a summary, not a partial result"));
}

#[test]
fn a_part_whose_scenario_block_was_edited_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let parts = dir.path().join("parts");
    for k in 0..2 {
        run_shard(&small_scenario(), 200, 1, k, 2, &parts);
    }
    for edited in 0..2 {
        let tampered = dir.path().join(format!("tampered-{edited}"));
        std::fs::create_dir_all(&tampered).unwrap();
        for k in 0..2 {
            let mut part: serde_json::Value = serde_json::from_str(&read(&shard_file(&parts, "small", k, 2))).unwrap();
            if k == edited {
                let outcomes = part["scenario"]["outcomes"].as_array_mut().unwrap();
                assert!(outcomes.len() >= 2);
                // The tables would be published under each other's labels.
                outcomes.reverse();
            }
            std::fs::write(shard_file(&tampered, "small", k, 2), part.to_string()).unwrap();
        }
        let out = dir.path().join(format!("out-{edited}"));
        let refused = merge(std::slice::from_ref(&tampered), &out).code(6);
        let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
        let named = shard_file(&tampered, "small", edited, 2).display().to_string();
        assert!(
            stderr.contains(&format!("{named}: its scenario block does not match its digest")),
            "{stderr}"
        );
        assert!(!out.exists(), "a refused merge wrote output");
    }
}

/// A shard simulated with `--no-analysis` has no sensitivity counts: it does not add up with
/// shards that have them, and shards that all lack them merge into a run without them.
#[test]
fn shards_with_and_without_the_analysis_are_not_merged() {
    let dir = tempfile::tempdir().unwrap();
    let (with, without) = (dir.path().join("with"), dir.path().join("without"));
    let shard = |k: u64, parts: &Path, extra: &[&str]| {
        sim()
            .arg("run")
            .arg(small_scenario())
            .args(["--runs", "400", "--seed", "3", "--shard", &format!("{k}/2"), "--out"])
            .arg(parts)
            .args(extra)
            .assert()
            .success();
    };
    shard(0, &with, &[]);
    shard(0, &without, &["--no-analysis"]);
    shard(1, &without, &["--no-analysis"]);
    let mixed = merge(
        &[shard_file(&with, "small", 0, 2), shard_file(&without, "small", 1, 2)],
        &dir.path().join("mixed"),
    )
    .code(6);
    let stderr = String::from_utf8_lossy(&mixed.get_output().stderr).into_owned();
    assert!(stderr.contains("analysis is off here but on in"), "{stderr}");
    let out = dir.path().join("plain");
    merge(
        &[shard_file(&without, "small", 0, 2), shard_file(&without, "small", 1, 2)],
        &out,
    )
    .success();
    assert!(out.join("small/summary.json").exists() && !out.join("small/sensitivity.csv").exists());
}

/// `--quiet` silences a shard as it does `sim run`: the part is written, stderr stays empty.
#[test]
fn a_quiet_shard_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let parts = dir.path().join("parts");
    let output = sim()
        .arg("run")
        .arg(small_scenario())
        .args(["--runs", "200", "--seed", "1", "--shard", "0/2", "--quiet", "--out"])
        .arg(&parts)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "",
        "a quiet shard says nothing"
    );
    assert!(shard_file(&parts, "small", 0, 2).is_file(), "and writes its part");
    // Without `--quiet` it says what it wrote.
    let loud = sim()
        .arg("run")
        .arg(small_scenario())
        .args(["--runs", "200", "--seed", "1", "--shard", "1/2", "--out"])
        .arg(&parts)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&loud.stderr).contains("wrote "));
}
