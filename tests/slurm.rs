//! The Slurm recipe of docs/cluster.md on a real Slurm cluster: a single-node cluster started by
//! `.ci/slurm-start` (Debian's slurm-wlm and munge, installed when missing), the job-array
//! scripts of the docs submitted unchanged with the real `sbatch`, and the merged result held to
//! a single-process run; likewise a sweep spread over an array and merged, held to a
//! single-process sweep file by file. Also what `scancel` does to an array task: no partial part
//! is left, and the task submitted again completes the set.
//!
//! Ignored by a plain `cargo test`, because it needs root and installs system packages; CI runs
//! it with `cargo test --test integration slurm -- --ignored`. It never passes without a cluster: when
//! the cluster cannot be started, it fails and says why.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::cluster_docs::doc_file;
use crate::util::{leftovers, read, repo, sim, sim_path, tree};

/// The longest the test waits for one job (array) to end.
const JOB_TIMEOUT: Duration = Duration::from_secs(150);

fn start_cluster() {
    let script = repo(".ci/slurm-start");
    let output = Command::new("bash").arg(&script).output().expect("bash runs");
    assert!(
        output.status.success(),
        "cannot start the single-node Slurm cluster with {} (it needs root and Debian's \
         slurm-wlm and munge packages):\n{}{}",
        script.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A directory with the files of docs/cluster.md's Slurm section, a scenario, and a
/// `bin/` holding `sim`, which the job scripts find on the `PATH` that `--export=ALL` passes on.
struct Study {
    _dir: tempfile::TempDir,
    work: PathBuf,
    path: String,
}

impl Study {
    fn new(scenario: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(work.join("scenarios")).unwrap();
        std::fs::create_dir_all(&bin).unwrap();
        let doc = read(&repo("docs/cluster.md"));
        for name in [
            "sim-shard.sbatch",
            "sim-merge.sbatch",
            "submit-study.sh",
            "sim-sweep.sbatch",
            "submit-sweep.sh",
        ] {
            std::fs::write(work.join(name), doc_file(&doc, name)).unwrap();
        }
        std::fs::copy(scenario, work.join("scenarios").join(scenario.file_name().unwrap())).unwrap();
        std::os::unix::fs::symlink(sim_path(), bin.join("sim")).unwrap();
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
        Study { _dir: dir, work, path }
    }

    /// Runs a command in the study's directory, with `sim` on its `PATH`; returns its stdout.
    fn run(&self, program: &str, args: &[&str]) -> String {
        let output = Command::new(program)
            .args(args)
            .current_dir(&self.work)
            .env("PATH", &self.path)
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("JOB_COMPLETION_INDEX")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn logs(&self) -> String {
        let mut text = String::new();
        for entry in std::fs::read_dir(self.work.join("logs")).into_iter().flatten() {
            let path = entry.unwrap().path();
            text += &format!(
                "--- {}\n{}",
                path.display(),
                std::fs::read_to_string(&path).unwrap_or_default()
            );
        }
        text
    }
}

/// The states Slurm reports for a job, or for every task of an array.
fn job_states(job: &str) -> Vec<String> {
    let output = Command::new("scontrol").args(["show", "job", job]).output().unwrap();
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .filter_map(|field| field.strip_prefix("JobState="))
        .map(str::to_string)
        .collect()
}

/// Waits until no task of `job` is pending or running; returns their final states.
fn wait_for(job: &str, study: &Study) -> Vec<String> {
    let start = Instant::now();
    loop {
        let states = job_states(job);
        if !states.is_empty()
            && states
                .iter()
                .all(|s| !matches!(s.as_str(), "PENDING" | "RUNNING" | "CONFIGURING" | "COMPLETING"))
        {
            return states;
        }
        assert!(
            start.elapsed() < JOB_TIMEOUT,
            "job {job} did not end within {JOB_TIMEOUT:?} (states {states:?}); logs:\n{}",
            study.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn single_run(scenario: &Path, runs: u64, seed: u64, out: &Path) -> String {
    sim()
        .arg("run")
        .arg(scenario)
        .args([
            "--runs",
            &runs.to_string(),
            "--seed",
            &seed.to_string(),
            "--quiet",
            "--out",
        ])
        .arg(out)
        .assert()
        .success();
    read(&out.join("small/summary.json"))
}

#[test]
#[ignore = "needs root and a real Slurm cluster: CI runs it with `cargo test --test integration slurm -- --ignored`"]
fn the_slurm_recipe_of_the_docs_runs_on_a_real_cluster_and_merges_exactly() {
    start_cluster();
    let scenario = repo("tests/fixtures/small.toml");
    let study = Study::new(&scenario);

    // submit-study.sh prints the merge job's id, which depends on the array job.
    let printed = study.run("bash", &["submit-study.sh", "scenarios/small.toml", "90000", "3", "5"]);
    let merge_job = printed.trim().split(';').next().unwrap().to_string();
    let states = wait_for(&merge_job, &study);
    assert_eq!(
        states,
        ["COMPLETED"],
        "the merge job did not complete; logs:\n{}",
        study.logs()
    );

    let parts = study.work.join("parts/small-seed5-runs90000");
    assert_eq!(crate::util::file_names(&parts).len(), 3, "one part per array task");
    let single = single_run(&scenario, 90_000, 5, &study.work.join("single"));
    assert!(
        read(&study.work.join("output/small/summary.json")) == single,
        "the merged Slurm study differs from the single-process summary"
    );
}

#[test]
#[ignore = "needs root and a real Slurm cluster: CI runs it with `cargo test --test integration slurm -- --ignored`"]
fn a_task_cancelled_with_scancel_leaves_no_part_and_its_resubmission_completes_the_set() {
    start_cluster();
    let scenario = repo("scenarios/baseline.toml");
    let study = Study::new(&scenario);
    let (runs, shards, seed) = ("600000", 4, "3");
    let parts = "parts/baseline-seed3-runs600000";

    // The array alone (the merge would wait for it with afterok, and never run).
    std::fs::create_dir_all(study.work.join(parts)).unwrap();
    std::fs::create_dir_all(study.work.join("logs")).unwrap();
    let export = format!("--export=ALL,SCENARIO=scenarios/baseline.toml,RUNS={runs},SEED={seed},PARTS={parts}");
    let array = study.run("sbatch", &["--parsable", "--array=0-3", &export, "sim-shard.sbatch"]);
    let array = array.trim().split(';').next().unwrap().to_string();

    // Cancel the last task once it runs: `scancel` sends SIGTERM to the task's processes.
    let last = format!("{array}_{}", shards - 1);
    let start = Instant::now();
    while job_states(&last) != ["RUNNING"] {
        assert!(
            start.elapsed() < JOB_TIMEOUT,
            "task {last} never ran: {:?}",
            job_states(&last)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    study.run("scancel", &[&last]);
    let states = wait_for(&array, &study);
    assert!(
        states.iter().filter(|s| *s == "COMPLETED").count() == shards - 1 && states.iter().any(|s| s == "CANCELLED"),
        "expected {} completed tasks and one cancelled: {states:?}",
        shards - 1
    );
    let part_dir = study.work.join(parts);
    let names = crate::util::file_names(&part_dir);
    assert!(
        !names.iter().any(|n| n.contains("shard-3-of-4")),
        "the cancelled task left a part: {names:?}"
    );
    assert_eq!(names.len(), shards - 1, "parts: {names:?}");
    assert!(
        leftovers(&part_dir).is_empty(),
        "half-written files: {:?}",
        leftovers(&part_dir)
    );

    // A one-task array cannot say which shard it is: refused, and still no part.
    let guessed = study.run("sbatch", &["--parsable", "--array=3", &export, "sim-shard.sbatch"]);
    let guessed = guessed.trim().split(';').next().unwrap().to_string();
    assert_eq!(wait_for(&guessed, &study), ["FAILED"], "logs:\n{}", study.logs());
    assert_eq!(crate::util::file_names(&part_dir), names, "a refused task wrote a part");

    // The docs' remedy: the cancelled shard alone, named, then the merge.
    let named = format!("{export},SHARD=3/4");
    let again = study.run("sbatch", &["--parsable", &named, "sim-shard.sbatch"]);
    let again = again.trim().split(';').next().unwrap().to_string();
    assert_eq!(wait_for(&again, &study), ["COMPLETED"], "logs:\n{}", study.logs());
    let merge_export = format!("--export=ALL,PARTS={parts},OUT=output");
    let merge = study.run("sbatch", &["--parsable", &merge_export, "sim-merge.sbatch"]);
    let merge = merge.trim().split(';').next().unwrap().to_string();
    assert_eq!(wait_for(&merge, &study), ["COMPLETED"], "logs:\n{}", study.logs());

    let out = study.work.join("single");
    sim()
        .arg("run")
        .arg(&scenario)
        .args(["--runs", runs, "--seed", seed, "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    assert!(
        read(&study.work.join("output/baseline/summary.json")) == read(&out.join("baseline/summary.json")),
        "the study completed by the resubmitted task differs from the single-process summary"
    );
}

#[test]
#[ignore = "needs root and a real Slurm cluster: CI runs it with `cargo test --test integration slurm -- --ignored`"]
fn a_sweep_spread_over_a_slurm_array_merges_into_the_single_process_sweep() {
    start_cluster();
    let scenario = repo("tests/fixtures/small.toml");
    let study = Study::new(&scenario);
    let sweep = ["--param", "p_rise=0.05..0.3:3", "--threshold", "0.25"];

    let mut args = vec!["submit-sweep.sh", "scenarios/small.toml", "6000", "3", "7"];
    args.extend(sweep);
    let printed = study.run("bash", &args);
    let merge_job = printed.trim().split(';').next().unwrap().to_string();
    let states = wait_for(&merge_job, &study);
    assert_eq!(
        states,
        ["COMPLETED"],
        "the merge job did not complete; logs:\n{}",
        study.logs()
    );
    let parts = study.work.join("parts/small-sweep-seed7-runs6000");
    assert_eq!(
        crate::util::file_names(&parts),
        (0..3)
            .map(|k| format!("small.sweep.shard-{k}-of-3.json"))
            .collect::<Vec<_>>(),
        "one part per array task"
    );

    let single = study.work.join("single");
    sim()
        .arg("sweep")
        .arg(&scenario)
        .args(sweep)
        .args(["--runs", "6000", "--seed", "7", "--quiet", "--out"])
        .arg(&single)
        .assert()
        .success();
    let (merged, single) = (
        tree(&study.work.join("output/small-sweep")),
        tree(&single.join("small-sweep")),
    );
    let names = |t: &[(PathBuf, Vec<u8>)]| t.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(names(&merged), names(&single));
    assert!(names(&single).iter().any(|n| n.ends_with("thresholds.csv")));
    for ((name, mine), (_, theirs)) in merged.iter().zip(&single) {
        assert!(
            mine == theirs,
            "{} of the sweep merged on Slurm differs from the single-process sweep",
            name.display()
        );
    }
}
