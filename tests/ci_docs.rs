//! The CI recipes of docs/ci.md, run as written: the GitHub Actions workflow's `run:` steps and
//! the GitLab job's `script:`, in a copy of the repository's scenarios, with the `sim` built for
//! these tests standing in for the `cargo install` step. docs/ci.md quotes both files whole.

use std::path::Path;
use std::process::Command;

use crate::util::{read, repo, sim_path};

/// Runs `script` with `sh -e` in `dir`, the test binary's directory first on PATH.
fn run_shell(dir: &Path, script: &str) {
    let bin = sim_path().parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let output = Command::new("sh")
        .args(["-e", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{script}\nfailed: {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A fresh directory holding a copy of `scenarios/`, as a checkout would.
fn checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scenarios")).unwrap();
    for entry in std::fs::read_dir(repo("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join("scenarios").join(path.file_name().unwrap())).unwrap();
    }
    dir
}

/// The JUnit report and the outputs a job leaves: every claim passed, the report is there.
fn assert_job_results(dir: &Path) {
    let xml = read(&dir.join("sim-test.xml"));
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("not XML: {e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(
        (root.attribute("failures"), root.attribute("skipped")),
        (Some("0"), Some("0"))
    );
    let cases = doc.descendants().filter(|n| n.has_tag_name("testcase")).count();
    assert!(cases >= 10, "{cases} claims in {xml}");
    assert!(dir.join("output/index.html").is_file());
    assert!(dir.join("output/baseline/summary.json").is_file());
}

/// `(if condition, run command)` of each step of the workflow's one job that has a `run:`.
fn workflow_runs(yaml: &str) -> Vec<(Option<String>, String)> {
    let mut steps: Vec<(Option<String>, Option<String>)> = Vec::new();
    for line in yaml.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if indent == 6 && trimmed.starts_with("- ") {
            steps.push((None, None));
        }
        let key_value = trimmed.trim_start_matches("- ");
        let Some(step) = steps.last_mut() else { continue };
        if let Some(condition) = key_value.strip_prefix("if: ") {
            step.0 = Some(condition.trim().to_string());
        } else if let Some(command) = key_value.strip_prefix("run: ") {
            assert!(!command.trim().starts_with('|'), "one-line `run:` steps only: {line}");
            step.1 = Some(command.trim().to_string());
        }
    }
    steps
        .into_iter()
        .filter_map(|(condition, run)| run.map(|r| (condition, r)))
        .collect()
}

/// The items of the GitLab job's `script:` list.
fn gitlab_script(yaml: &str) -> Vec<String> {
    let mut script = Vec::new();
    let mut inside = false;
    for line in yaml.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if indent == 2 {
            inside = trimmed == "script:";
        } else if inside && let Some(item) = trimmed.strip_prefix("- ") {
            script.push(item.to_string());
        }
    }
    script
}

#[test]
fn the_github_actions_workflow_runs_as_written() {
    let yaml = read(&repo("docs/ci/github-actions.yml"));
    let runs = workflow_runs(&yaml);
    assert!(
        runs.iter().any(|(_, r)| r.starts_with("sim test ")),
        "the workflow runs sim test: {runs:?}"
    );
    let dir = checkout();
    for (condition, command) in &runs {
        if command.contains("cargo install") {
            continue;
        }
        // Steps for a failure are not run when everything passes.
        if condition.as_deref().is_some_and(|c| c != "always()") {
            continue;
        }
        run_shell(dir.path(), command);
    }
    assert_job_results(dir.path());
}

#[test]
fn the_gitlab_job_runs_as_written() {
    let yaml = read(&repo("docs/ci/gitlab-ci.yml"));
    let script: Vec<String> = gitlab_script(&yaml)
        .into_iter()
        .filter(|line| !line.contains("cargo install"))
        .collect();
    assert!(script.iter().any(|l| l.starts_with("sim test ")), "{script:?}");
    let dir = checkout();
    run_shell(dir.path(), &script.join("\n"));
    assert_job_results(dir.path());
}

#[test]
fn docs_ci_quotes_both_files_whole() {
    let doc = read(&repo("docs/ci.md"));
    for file in ["docs/ci/github-actions.yml", "docs/ci/gitlab-ci.yml"] {
        let block = format!("```yaml\n{}```", read(&repo(file)));
        assert!(doc.contains(&block), "docs/ci.md does not quote {file} as it is");
    }
}
