//! Helpers shared by the integration tests: the `sim` binary, repository paths, scenario
//! files in a fresh temp directory each, summaries read back, and checks that an output
//! directory is complete and holds nothing half-written.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use sim::aggregate::Summary;

/// The `sim` binary built for these tests. `assert()` on it prints the command, its stdout and
/// its stderr when an expectation fails.
pub fn sim() -> Command {
    Command::new(sim_path())
}

pub fn sim_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sim"))
}

/// A path inside the repository.
pub fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The test scenario: small and fast in a debug build.
pub fn small_scenario() -> PathBuf {
    repo("tests/fixtures/small.toml")
}

/// `scenarios/*.toml`, sorted.
pub fn shipped_scenarios() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo("scenarios"))
        .expect("scenarios/ exists")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Writes `count` copies of the test scenario into `dir` as `small_<i>.toml`, with ids
/// `small_<i>` and `steps` steps.
pub fn small_copies(dir: &Path, count: usize, steps: usize) -> Vec<PathBuf> {
    let text = read(&small_scenario());
    assert!(text.contains("id = \"small\"") && text.contains("steps = 12"));
    (0..count)
        .map(|i| {
            let path = dir.join(format!("small_{i}.toml"));
            let copy = text
                .replace("id = \"small\"", &format!("id = \"small_{i}\""))
                .replace("steps = 12", &format!("steps = {steps}"));
            std::fs::write(&path, copy).unwrap();
            path
        })
        .collect()
}

/// Everything under `dir` whose name starts with `.sim-`: temporary files, staging or retired
/// directories that a finished or interrupted run must not leave behind.
pub fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with(".sim-") {
            found.push(path.clone());
        }
        if path.is_dir() {
            found.extend(leftovers(&path));
        }
    }
    found
}

/// The tables every scenario directory holds (charts may be added beside them).
pub const TABLE_FILES: [&str; 9] = [
    "summary.json",
    "level_distribution.csv",
    "rung_reached.csv",
    "outcome_by.csv",
    "outcome_holds.csv",
    "trigger_fired_by.csv",
    "final_level.csv",
    "mean_level.csv",
    "mean_firings.csv",
];

/// Asserts that `dir` holds one run's complete set of tables: every file is there, the summary
/// parses, and the counts of `outcome_by.csv` and `level_distribution.csv` are the summary's
/// (so no file comes from another run). Returns the summary.
pub fn assert_complete_scenario_dir(dir: &Path) -> sim::aggregate::Summary {
    for name in TABLE_FILES {
        assert!(dir.join(name).is_file(), "{} is missing from {}", name, dir.display());
    }
    let summary = sim::report::read_summary(&dir.join("summary.json")).unwrap();
    for (file, table) in [
        ("outcome_by.csv", &summary.tables.outcome_by),
        ("level_distribution.csv", &summary.tables.level_distribution),
    ] {
        let path = dir.join(file);
        let mut reader = csv::Reader::from_path(&path).unwrap();
        let mut rows = 0;
        for record in reader.records() {
            let record = record.unwrap();
            let series = table.iter().find(|s| s.id == record[0]).expect("series in summary");
            let step: usize = record[2].parse().unwrap();
            let count: u64 = record[4].parse().unwrap();
            let runs: u64 = record[5].parse().unwrap();
            assert_eq!(
                (count, runs),
                (series.points[step].count, summary.runs),
                "{} row {rows} does not match summary.json (seed {})",
                path.display(),
                summary.seed
            );
            rows += 1;
        }
        let expected_rows: usize = table.iter().map(|s| s.points.len()).sum();
        assert_eq!(rows, expected_rows, "{} has the wrong number of rows", path.display());
    }
    summary
}

/// The names of the files in `dir`, sorted.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
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
