//! The cluster recipes of docs/cluster.md, run as written: the Slurm scripts with a stand-in
//! `sbatch`, and the Kubernetes manifests' commands with the variables an indexed Job sets.
//! Both must merge into the single-process result.

use std::path::Path;
use std::process::Command;

use crate::util::{read, repo, sim, sim_path, small_scenario};

/// Stand-in for `sbatch` (tests only): runs the batch script at once, array tasks one after the
/// other with the variables Slurm sets, and prints a job id as `--parsable` does.
const FAKE_SBATCH: &str = r#"#!/bin/bash
set -euo pipefail
array=""
while [ $# -gt 1 ]; do
    case "$1" in
        --array=*) array="${1#--array=}" ;;
        --export=*)
            IFS=, read -ra pairs <<< "${1#--export=}"
            for pair in "${pairs[@]}"; do [ "$pair" = ALL ] || export "$pair"; done ;;
        --parsable|--dependency=afterok:*) ;;
        *) echo "fake sbatch: unsupported option $1" >&2; exit 2 ;;
    esac
    shift
done
script="$1"
job=$((1000 + RANDOM))
mkdir -p logs
if [ -n "$array" ]; then
    min="${array%-*}"; max="${array#*-}"
    for ((task = min; task <= max; task++)); do
        SLURM_ARRAY_JOB_ID=$job SLURM_ARRAY_TASK_ID=$task SLURM_ARRAY_TASK_MIN=$min \
        SLURM_ARRAY_TASK_MAX=$max SLURM_ARRAY_TASK_COUNT=$((max - min + 1)) SLURM_CPUS_PER_TASK=2 \
            bash "$script" > "logs/fake-$job-$task.out" 2>&1 \
            || { echo "fake sbatch: task $task failed:" >&2; cat "logs/fake-$job-$task.out" >&2; exit 1; }
    done
else
    bash "$script" > "logs/fake-$job.out" 2>&1 \
        || { echo "fake sbatch: job failed:" >&2; cat "logs/fake-$job.out" >&2; exit 1; }
fi
echo "$job"
"#;

/// The code block of docs/cluster.md introduced by "```bash <name>".
pub fn doc_file(doc: &str, name: &str) -> String {
    let fence = format!("```bash {name}\n");
    let start = doc
        .find(&fence)
        .unwrap_or_else(|| panic!("docs/cluster.md has no `{fence}` block"))
        + fence.len();
    let end = start + doc[start..].find("```").expect("closed block");
    doc[start..end].to_string()
}

/// The summary.json of a single-process run of the test scenario.
fn single_run(dir: &Path, runs: u64, seed: u64) -> String {
    let out = dir.join("single");
    sim()
        .arg("run")
        .arg(small_scenario())
        .args(["--runs", &runs.to_string(), "--seed", &seed.to_string(), "--out"])
        .arg(&out)
        .assert()
        .success();
    read(&out.join("small/summary.json"))
}

/// A directory with `files` of docs/cluster.md's Slurm sections and `scenarios/small.toml` in
/// `work/`, and a `PATH` on which `sbatch` is the stand-in and `sim` the binary under test.
fn fake_slurm(files: &[&str]) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let doc = read(&repo("docs/cluster.md"));
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(work.join("scenarios")).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    for name in files {
        std::fs::write(work.join(name), doc_file(&doc, name)).unwrap();
    }
    std::fs::copy(small_scenario(), work.join("scenarios/small.toml")).unwrap();
    std::fs::write(bin.join("sbatch"), FAKE_SBATCH).unwrap();
    std::os::unix::fs::symlink(sim_path(), bin.join("sim")).unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(bin.join("sbatch"))
        .status()
        .unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    (dir, work, path)
}

#[test]
fn slurm_scripts_of_the_docs_run_and_merge() {
    let (dir, work, path) = fake_slurm(&["sim-shard.sbatch", "sim-merge.sbatch", "submit-study.sh"]);

    let output = Command::new("bash")
        .args(["submit-study.sh", "scenarios/small.toml", "900", "3", "5"])
        .current_dir(&work)
        .env("PATH", path)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "submit-study.sh failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let parts = work.join("parts/small-seed5-runs900");
    assert_eq!(crate::util::file_names(&parts).len(), 3, "one part per array task");
    assert!(
        read(&work.join("output/small/summary.json")) == single_run(dir.path(), 900, 5),
        "the Slurm recipe does not reproduce the single-process summary"
    );
}

#[test]
fn slurm_sweep_scripts_of_the_docs_run_and_merge() {
    let (dir, work, path) = fake_slurm(&["sim-sweep.sbatch", "sim-merge.sbatch", "submit-sweep.sh"]);
    let sweep = ["--param", "p_rise=0.05..0.3:3", "--threshold", "0.25"];
    let output = Command::new("bash")
        .args(["submit-sweep.sh", "scenarios/small.toml", "600", "3", "5"])
        .args(sweep)
        .current_dir(&work)
        .env("PATH", path)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "submit-sweep.sh failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        crate::util::file_names(&work.join("parts/small-sweep-seed5-runs600")).len(),
        3,
        "one part per array task"
    );
    let single = dir.path().join("single");
    sim()
        .arg("sweep")
        .arg(small_scenario())
        .args(sweep)
        .args(["--runs", "600", "--seed", "5", "--quiet", "--out"])
        .arg(&single)
        .assert()
        .success();
    assert!(
        crate::util::tree(&work.join("output/small-sweep")) == crate::util::tree(&single.join("small-sweep")),
        "the Slurm sweep recipe does not reproduce the single-process sweep"
    );
}

#[test]
fn kubernetes_commands_of_the_docs_run_and_merge() {
    let doc = read(&repo("docs/cluster.md"));
    let commands: Vec<Vec<String>> = doc
        .lines()
        .filter_map(|line| line.trim().strip_prefix("command: "))
        .map(|json| serde_json::from_str(json).expect("command: is a JSON-style list"))
        .collect();
    assert_eq!(commands.len(), 2, "docs/cluster.md has a shard Job and a merge Job");
    let number_after = |prefix: &str| -> u64 {
        let at = doc
            .find(prefix)
            .unwrap_or_else(|| panic!("no `{prefix}` in docs/cluster.md"))
            + prefix.len();
        doc[at..]
            .trim_start_matches([' ', '"'])
            .split(['"', '\n', ' '])
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let completions = number_after("completions:");
    let shard_count = number_after("name: SIM_SHARD_COUNT\n              value:");
    assert_eq!(completions, shard_count, "SIM_SHARD_COUNT must equal completions");

    let dir = tempfile::tempdir().unwrap();
    let data = format!("{}/", dir.path().join("data").display());
    // Test values for the study's size and the cluster's paths.
    let adapt = |command: &[String]| -> Vec<String> {
        let mut adapted: Vec<String> = command
            .iter()
            .map(|arg| {
                arg.replace("/scenarios/baseline.toml", small_scenario().to_str().unwrap())
                    .replace("/data/", &data)
            })
            .collect();
        if let Some(at) = adapted.iter().position(|a| a == "--runs") {
            adapted[at + 1] = "900".into();
        }
        assert_eq!(adapted[0], "sim");
        adapted.remove(0);
        adapted
    };
    let (shard, merge) = (adapt(&commands[0]), adapt(&commands[1]));
    let seed: u64 = shard[shard.iter().position(|a| a == "--seed").unwrap() + 1]
        .parse()
        .unwrap();
    for index in 0..completions {
        sim()
            .args(&shard)
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .env("SIM_SHARD_COUNT", shard_count.to_string())
            .assert()
            .success();
    }
    sim().args(&merge).assert().success();
    assert!(
        read(&dir.path().join("data/output/small/summary.json")) == single_run(dir.path(), 900, seed),
        "the Kubernetes recipe does not reproduce the single-process summary"
    );
}
