//! Reading input files: a path in, its text out, or an error that says what the path is.
//!
//! Every file `sim` reads (scenarios, the bases they extend, summaries and partial results)
//! goes through [`read_text`]: only regular files are read (after following symlinks), and never
//! more than a size cap, so that `/dev/zero`, a FIFO or a huge file fail at once with a clear
//! message instead of filling memory or blocking forever.
//!
//! A summary read back (by `sim compare` and `--expect`) is then checked by [`summary_problems`]
//! before anything uses it: a changed or damaged file is refused with what is wrong in it,
//! never trusted into a panic or a nonsense chart.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::aggregate::{Estimate, Summary};
use crate::compile::MAX_STEPS;

/// Largest scenario file (and base it extends), in bytes; docs/scenario-format.md, "Limits".
pub const SCENARIO_FILE_LIMIT: u64 = 1 << 20;

/// Largest `summary.json` or partial result read back, in bytes (docs/cli.md).
pub const RESULT_FILE_LIMIT: u64 = 256 << 20;

/// Why a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadProblem {
    Missing,
    Directory,
    /// A FIFO, socket or device: reading it could block forever or never end.
    NotRegular,
    /// A chain of symlinks that never ends.
    SymlinkLoop,
    TooLarge {
        limit: u64,
    },
    /// The first invalid byte, at 1-based `line` and `column` (in characters).
    NotUtf8 {
        offset: usize,
        line: usize,
        column: usize,
    },
    /// Any other I/O error, as the system words it.
    Io(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub path: PathBuf,
    pub problem: ReadProblem,
}

impl fmt::Display for ReadProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadProblem::Missing => write!(f, "no such file"),
            ReadProblem::Directory => write!(f, "it is a directory, not a file"),
            ReadProblem::NotRegular => write!(
                f,
                "it is not a regular file (a FIFO, socket or device); only regular files are read"
            ),
            ReadProblem::SymlinkLoop => write!(f, "its symbolic links form a loop"),
            ReadProblem::TooLarge { limit } => write!(f, "it is larger than the limit of {}", bytes(*limit)),
            ReadProblem::NotUtf8 { offset, line, column } => write!(
                f,
                "it is not UTF-8 text (invalid byte at line {line}, column {column}, byte offset {offset})"
            ),
            ReadProblem::Io(message) => f.write_str(message),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read {}: {}", self.path.display(), self.problem)
    }
}

impl std::error::Error for ReadError {}

/// `1 MiB`, `256 MiB`, or a byte count.
fn bytes(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// Reads `path` as UTF-8 text if it is a regular file (symlinks followed) of at most `limit`
/// bytes.
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    let fail = |problem| ReadError {
        path: path.to_path_buf(),
        problem,
    };
    // Checked before opening: opening a FIFO blocks until a writer appears.
    let metadata = std::fs::metadata(path).map_err(|e| fail(io_problem(&e)))?;
    check_kind(&metadata, limit).map_err(fail)?;
    let file = std::fs::File::open(path).map_err(|e| fail(io_problem(&e)))?;
    // Again on the open file, in case the path was replaced in between.
    check_kind(&file.metadata().map_err(|e| fail(io_problem(&e)))?, limit).map_err(fail)?;
    let mut raw = Vec::new();
    // One byte past the limit tells a file that grew beyond it from one that fits exactly.
    file.take(limit + 1)
        .read_to_end(&mut raw)
        .map_err(|e| fail(io_problem(&e)))?;
    if raw.len() as u64 > limit {
        return Err(fail(ReadProblem::TooLarge { limit }));
    }
    String::from_utf8(raw).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let valid = std::str::from_utf8(&e.as_bytes()[..offset]).unwrap_or_default();
        let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
        fail(ReadProblem::NotUtf8 {
            offset,
            line: valid.matches('\n').count() + 1,
            column: valid[line_start..].chars().count() + 1,
        })
    })
}

fn check_kind(metadata: &std::fs::Metadata, limit: u64) -> Result<(), ReadProblem> {
    if metadata.is_dir() {
        Err(ReadProblem::Directory)
    } else if !metadata.is_file() {
        Err(ReadProblem::NotRegular)
    } else if metadata.len() > limit {
        Err(ReadProblem::TooLarge { limit })
    } else {
        Ok(())
    }
}

fn io_problem(e: &std::io::Error) -> ReadProblem {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::ELOOP) {
        return ReadProblem::SymlinkLoop;
    }
    match e.kind() {
        std::io::ErrorKind::NotFound => ReadProblem::Missing,
        std::io::ErrorKind::IsADirectory => ReadProblem::Directory,
        _ => ReadProblem::Io(e.to_string()),
    }
}

/// Most decimal places a summary read back may ask for.
const MAX_DECIMALS: u32 = 15;

/// Everything inconsistent in a summary read back from a file: what `summarize` would never
/// write. Empty for every summary `sim` writes; each entry names the field.
pub fn summary_problems(summary: &Summary) -> Vec<String> {
    let mut problems = Vec::new();
    let info = &summary.scenario;
    let runs = summary.runs;
    if runs == 0 {
        problems.push("`runs` is 0".to_string());
    }
    // A range, not `decimals_for(runs)`: a stored summary stays readable if the precision rule
    // changes, and past 15 places an f64 has no digits left to print.
    if !(1..=MAX_DECIMALS).contains(&summary.decimals) {
        problems.push(format!(
            "`decimals` is {}, not between 1 and {MAX_DECIMALS}",
            summary.decimals
        ));
    }
    if !is_scenario_id(&info.id) {
        problems.push(format!("`scenario.id` {:?} is not a scenario id", info.id));
    }
    if !(1..=MAX_STEPS).contains(&info.steps) {
        problems.push(format!(
            "`scenario.steps` is {}, not between 1 and {MAX_STEPS}",
            info.steps
        ));
        return problems;
    }
    let rows = info.steps + 1;
    if info.step_labels.len() != rows {
        problems.push(format!(
            "`scenario.step_labels` has {} entries for {} steps (expected {rows})",
            info.step_labels.len(),
            info.steps
        ));
    }
    let levels = info.levels.len();
    if levels < 2 {
        problems.push(format!("`scenario.levels` has {levels} levels (at least 2)"));
        return problems;
    }
    if info.initial_level >= levels {
        problems.push(format!(
            "`scenario.initial_level` is {} but there are {levels} levels",
            info.initial_level
        ));
    }
    let tables = &summary.tables;
    let level_ids: Vec<&str> = info.levels.iter().map(String::as_str).collect();
    let outcome_ids: Vec<&str> = info.outcomes.iter().map(|o| o.id.as_str()).collect();
    let trigger_ids: Vec<&str> = info.triggers.iter().map(|t| t.id.as_str()).collect();
    // Rungs are reported from some rung above the first up to the top.
    let reported_rungs = tables.rung_reached.len().min(levels - 1);
    for (name, series, ids, points) in [
        ("level_distribution", &tables.level_distribution, &level_ids[..], rows),
        (
            "rung_reached",
            &tables.rung_reached,
            &level_ids[levels - reported_rungs..],
            rows,
        ),
        ("outcome_by", &tables.outcome_by, &outcome_ids[..], rows),
        ("outcome_holds", &tables.outcome_holds, &outcome_ids[..], rows),
        ("trigger_fired_by", &tables.trigger_fired_by, &trigger_ids[..], rows),
        ("final_level", &tables.final_level, &level_ids[..], 1),
    ] {
        let found: Vec<&str> = series.iter().map(|s| s.id.as_str()).collect();
        if found != ids {
            problems.push(format!(
                "`tables.{name}` has the series [{}] where the scenario implies [{}]",
                found.join(", "),
                ids.join(", ")
            ));
        }
        for s in series {
            if s.points.len() != points {
                problems.push(format!(
                    "`tables.{name}` series `{}` has {} points instead of {points}",
                    s.id,
                    s.points.len()
                ));
            }
            if let Some((t, e)) = s.points.iter().enumerate().find(|(_, e)| !estimate_is_valid(e, runs)) {
                problems.push(format!(
                    "`tables.{name}` series `{}` at step {t} has count {} of {runs} runs with p = {}, interval [{}, {}]",
                    s.id, e.count, e.p, e.lo, e.hi
                ));
            }
        }
    }
    if tables.mean_level.len() != rows
        || tables
            .mean_level
            .iter()
            .any(|m| !(0.0..=(levels - 1) as f64).contains(m))
    {
        problems.push(format!(
            "`tables.mean_level` must hold {rows} mean rungs between 0 and {}",
            levels - 1
        ));
    }
    if tables.mean_firings.len() != trigger_ids.len()
        || tables
            .mean_firings
            .iter()
            .any(|m| !(0.0..=info.steps as f64).contains(m))
    {
        problems.push(format!(
            "`tables.mean_firings` must hold {} means between 0 and {}",
            trigger_ids.len(),
            info.steps
        ));
    }
    problems
}

/// A count of at most `runs`, and finite probabilities in [0, 1] with `lo <= hi`. (Not
/// `lo <= p`: a rounded `p` of a rare event may fall below an interval written unrounded.)
fn estimate_is_valid(e: &Estimate, runs: u64) -> bool {
    let unit = 0.0..=1.0;
    e.count <= runs && unit.contains(&e.p) && unit.contains(&e.lo) && unit.contains(&e.hi) && e.lo <= e.hi
}

/// Whether `id` is a scenario id by the rule `compile` applies ([`crate::model::ScenarioId`]):
/// an id names an output directory.
pub fn is_scenario_id(id: &str) -> bool {
    crate::model::ScenarioId::parse(id).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(path: &Path, limit: u64) -> ReadProblem {
        read_text(path, limit).unwrap_err().problem
    }

    #[test]
    fn reads_regular_files_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.toml");
        std::fs::write(&path, "abcd").unwrap();
        assert_eq!(read_text(&path, 4).unwrap(), "abcd");
        assert_eq!(problem(&path, 3), ReadProblem::TooLarge { limit: 3 });
        assert_eq!(problem(&dir.path().join("none"), 10), ReadProblem::Missing);
        assert_eq!(problem(dir.path(), 10), ReadProblem::Directory);
        std::fs::write(&path, b"ab\xffcd").unwrap();
        assert_eq!(
            problem(&path, 10),
            ReadProblem::NotUtf8 {
                offset: 2,
                line: 1,
                column: 3
            }
        );
        std::fs::write(&path, "a\n\u{e9}\u{e9}".bytes().chain([0xff]).collect::<Vec<u8>>()).unwrap();
        assert_eq!(
            problem(&path, 10),
            ReadProblem::NotUtf8 {
                offset: 6,
                line: 2,
                column: 3
            }
        );
        assert!(
            read_text(&path, 10)
                .unwrap_err()
                .to_string()
                .starts_with(&format!("cannot read {}: it is not UTF-8", path.display()))
        );
    }

    #[cfg(unix)]
    #[test]
    fn refuses_devices_fifos_and_symlink_loops_without_blocking() {
        assert_eq!(problem(Path::new("/dev/zero"), 1 << 20), ReadProblem::NotRegular);
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        assert_eq!(problem(&fifo, 1 << 20), ReadProblem::NotRegular);
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        assert_eq!(problem(&a, 10), ReadProblem::SymlinkLoop);
    }

    fn summary() -> Summary {
        use crate::aggregate::{RunIdentity, summarize};
        use crate::model::{OutcomeInfo, ScenarioInfo, TriggerInfo};
        use crate::tally::{Shape, Tallies};
        let info = ScenarioInfo {
            id: "tiny".into(),
            name: "Tiny".into(),
            description: String::new(),
            steps: 2,
            step_unit: "month".into(),
            start: None,
            step_labels: vec!["month 0".into(), "month 1".into(), "month 2".into()],
            levels: vec!["calm".into(), "tense".into(), "crisis".into()],
            initial_level: 0,
            params: vec![],
            actors: vec![],
            triggers: vec![TriggerInfo {
                id: "shot".into(),
                label: "A shot".into(),
                actor: String::new(),
            }],
            outcomes: vec![OutcomeInfo {
                id: "war".into(),
                label: "War".into(),
            }],
            variant: None,
        };
        let shape = Shape {
            steps: 2,
            levels: 3,
            outcomes: 1,
            triggers: 1,
        };
        let mut tallies = Tallies::zero(shape);
        tallies.runs = 10;
        tallies.level_at = vec![10, 0, 0, 6, 4, 0, 5, 3, 2];
        tallies.max_level_at = vec![10, 0, 0, 6, 4, 0, 4, 4, 2];
        tallies.outcome_holds = vec![0, 1, 2];
        tallies.outcome_by = vec![0, 1, 3];
        tallies.trigger_fired_by = vec![0, 4, 6];
        tallies.trigger_firings = vec![7];
        let identity = RunIdentity {
            seed: 1,
            scenario_digest: "d".into(),
        };
        summarize(&info, &identity, &tallies)
    }

    #[test]
    fn summaries_sim_writes_have_no_problems() {
        assert_eq!(summary_problems(&summary()), Vec::<String>::new());
    }

    #[test]
    fn tampered_summary_fields_are_each_named() {
        type Tamper = Box<dyn Fn(&mut Summary)>;
        let cases: Vec<(&str, Tamper)> = vec![
            ("`decimals` is 1000000", Box::new(|s| s.decimals = 1_000_000)),
            ("`runs` is 0", Box::new(|s| s.runs = 0)),
            ("`scenario.id`", Box::new(|s| s.scenario.id = "../x".into())),
            ("`scenario.steps` is 0", Box::new(|s| s.scenario.steps = 0)),
            (
                "`scenario.steps` is 18446744073709551615",
                Box::new(|s| s.scenario.steps = usize::MAX),
            ),
            (
                "`scenario.step_labels` has 2 entries",
                Box::new(|s| {
                    s.scenario.step_labels.pop();
                }),
            ),
            (
                "`scenario.levels` has 1 levels",
                Box::new(|s| s.scenario.levels.truncate(1)),
            ),
            (
                "`scenario.initial_level` is 7",
                Box::new(|s| s.scenario.initial_level = 7),
            ),
            (
                "`tables.level_distribution` has the series",
                Box::new(|s| {
                    s.tables.level_distribution.pop();
                }),
            ),
            (
                "`tables.outcome_by` series `war` has 2 points",
                Box::new(|s| {
                    s.tables.outcome_by[0].points.pop();
                }),
            ),
            (
                "`tables.outcome_holds` has the series [peace]",
                Box::new(|s| {
                    s.tables.outcome_holds[0].id = "peace".into();
                }),
            ),
            (
                "`tables.trigger_fired_by` series `shot` at step 1 has count 11 of 10 runs",
                Box::new(|s| {
                    s.tables.trigger_fired_by[0].points[1].count = 11;
                }),
            ),
            (
                "`tables.rung_reached` series `crisis` at step 2",
                Box::new(|s| {
                    s.tables.rung_reached[1].points[2].p = 1.5;
                }),
            ),
            (
                "`tables.final_level` series `calm` at step 0",
                Box::new(|s| {
                    s.tables.final_level[0].points[0].lo = 0.9;
                    s.tables.final_level[0].points[0].hi = 0.8;
                }),
            ),
            ("`tables.mean_level`", Box::new(|s| s.tables.mean_level[1] = 3.5)),
            ("`tables.mean_firings`", Box::new(|s| s.tables.mean_firings.clear())),
        ];
        for (expected, tamper) in cases {
            let mut tampered = summary();
            tamper(&mut tampered);
            let problems = summary_problems(&tampered).join("; ");
            assert!(problems.contains(expected), "{expected}: {problems}");
        }
    }

    #[test]
    fn limits_are_worded_in_mebibytes() {
        assert_eq!(bytes(SCENARIO_FILE_LIMIT), "1 MiB");
        assert_eq!(bytes(RESULT_FILE_LIMIT), "256 MiB");
        assert_eq!(bytes(3), "3 bytes");
    }
}
