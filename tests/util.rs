//! Helpers shared by the integration tests: a `sim` command, scenario files in a fresh temp
//! directory each, and summaries read back.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use sim::aggregate::Summary;

pub fn sim() -> Command {
    Command::cargo_bin("sim").expect("the `sim` binary is built for integration tests")
}

/// A fresh directory per test, removed when dropped.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        Workspace {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `text` to `name` in the workspace and returns its path.
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write scenario");
        path
    }

    pub fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// Runs `sim run FILE --runs N --seed S --out <workspace>/out` and reads the summary.
    pub fn run(&self, file: &Path, runs: u64, seed: u64) -> Summary {
        let output = sim()
            .args([
                "run",
                file.to_str().unwrap(),
                "--runs",
                &runs.to_string(),
                "--seed",
                &seed.to_string(),
            ])
            .arg("--out")
            .arg(self.out())
            .output()
            .expect("run sim");
        assert!(
            output.status.success(),
            "sim run failed\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let id = file.file_stem().unwrap().to_str().unwrap();
        read_summary(&self.out().join(id).join("summary.json"))
    }
}

pub fn read_summary(path: &Path) -> Summary {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not a summary: {e}", path.display()))
}

/// Every file under `dir`, relative path and bytes, sorted: two output trees compare equal
/// exactly when they hold the same files with the same bytes.
pub fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, files: &mut Vec<(PathBuf, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, files);
            } else {
                files.push((
                    path.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                ));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    files.sort();
    files
}
