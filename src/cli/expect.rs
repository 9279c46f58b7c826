//! `--expect` and `--bless`: fresh summaries compared with stored ones, or stored as the new
//! expected ones.
//!
//! In: the `--expect` value (a directory of `<id>.json` or `<id>/summary.json` files, one
//! summary file, or a tallies digest) and the scenarios being run. Out: the stored seed and run
//! count to re-run with, then either `ok` lines or a failure (exit 4) naming every table cell
//! that differs; with `--bless`, the stored files rewritten instead.

use std::path::{Path, PathBuf};

use super::{Failure, exit};
use crate::aggregate::Summary;
use crate::model::Model;
use crate::report::{read_summary, summary_json};
use crate::verify::{Expected, Verdict, compare};

/// What `--expect` points at.
enum Source {
    Directory(PathBuf),
    File(PathBuf),
    Digest(String),
}

/// The expected result of one scenario, and where it is (or would be) stored.
struct Stored {
    id: String,
    expected: Option<Expected>,
    /// Where it was looked for; `None` for a digest given on the command line.
    path: Option<PathBuf>,
    /// Where `--bless` writes it.
    bless_to: Option<PathBuf>,
}

/// Expected results of the scenarios of one `sim run`; empty without `--expect`.
pub(super) struct Expectations {
    stored: Vec<Stored>,
    /// What `--expect` was, for messages.
    source: String,
}

impl Expectations {
    /// Reads the expected result of every model, if `--expect` was given. A missing one is not an
    /// error here (it is with `check`, unless blessing).
    pub(super) fn open(spec: Option<&str>, models: &[(PathBuf, Model)], bless: bool) -> Result<Self, Failure> {
        let ids: Vec<String> = models.iter().map(|(_, model)| model.info.id.clone()).collect();
        Self::open_for_ids(spec, &ids, bless)
    }

    /// As [`Expectations::open`], for scenarios known by their ids.
    pub(super) fn open_for_ids(spec: Option<&str>, ids: &[String], bless: bool) -> Result<Self, Failure> {
        let mut expectations = Expectations {
            stored: Vec::new(),
            source: spec.unwrap_or_default().to_string(),
        };
        let Some(spec) = spec else {
            return Ok(expectations);
        };
        let source = source(spec, bless)?;
        if !matches!(source, Source::Directory(_)) && ids.len() != 1 {
            return Err(usage(
                "--expect with a file or a digest compares one scenario; for several, give a directory of <id>.json files",
            ));
        }
        for id in ids {
            let id = id.clone();
            let stored = match &source {
                Source::Digest(digest) => Stored {
                    id,
                    expected: Some(Expected::Digest(digest.clone())),
                    path: None,
                    bless_to: None,
                },
                Source::File(path) => Stored {
                    id,
                    expected: read_if_exists(path)?,
                    path: Some(path.clone()),
                    bless_to: Some(path.clone()),
                },
                Source::Directory(dir) => {
                    // A golden directory holds `<id>.json`; an earlier `--out` holds `<id>/summary.json`.
                    let flat = dir.join(format!("{id}.json"));
                    let nested = dir.join(&id).join("summary.json");
                    let path = if !flat.exists() && nested.exists() {
                        nested
                    } else {
                        flat.clone()
                    };
                    Stored {
                        id,
                        expected: read_if_exists(&path)?,
                        path: Some(path),
                        // Always a golden file, even when comparing with an earlier --out.
                        bless_to: Some(flat),
                    }
                }
            };
            if let Some(Expected::Summary(summary)) = &stored.expected
                && summary.scenario.id != stored.id
                && !bless
            {
                return Err(Failure {
                    message: format!(
                        "error: --expect {spec} holds the results of `{}`, not of `{}`",
                        summary.scenario.id, stored.id
                    ),
                    code: exit::OTHER,
                });
            }
            expectations.stored.push(stored);
        }
        Ok(expectations)
    }

    /// The seed and run count of the stored result of scenario `id`, to re-run with.
    pub(super) fn seed_and_runs(&self, id: &str) -> (Option<u64>, Option<u64>) {
        match self.find(id).and_then(|s| s.expected.as_ref()) {
            Some(Expected::Summary(summary)) => (Some(summary.seed), Some(summary.runs)),
            _ => (None, None),
        }
    }

    fn find(&self, id: &str) -> Option<&Stored> {
        self.stored.iter().find(|s| s.id == id)
    }

    /// Compares every summary with its expected result (or, blessing, stores it as expected).
    pub(super) fn check(&self, summaries: &[Summary], bless: bool) -> Result<(), Failure> {
        if self.stored.is_empty() {
            return Ok(());
        }
        if bless {
            return self.bless(summaries);
        }
        let mut problems = Vec::new();
        let mut differ = false;
        for summary in summaries {
            let id = &summary.scenario.id;
            let stored = self.find(id).expect("every model has an entry");
            let place = stored
                .path
                .as_ref()
                .map_or_else(|| format!("the digest {}", self.source), |p| p.display().to_string());
            let Some(expected) = &stored.expected else {
                problems.push(format!(
                    "error: no expected result for `{id}`: {place} does not exist\n  = help: store the current results with --bless"
                ));
                continue;
            };
            match compare(expected, summary) {
                Verdict::Same { scenario_changed } => {
                    eprintln!(
                        "ok: `{id}` matches {place} (seed {}, {} runs)",
                        summary.seed, summary.runs
                    );
                    if scenario_changed {
                        eprintln!(
                            "note: the scenario `{id}` changed but its results did not; --bless updates the stored scenario digest"
                        );
                    }
                }
                Verdict::Incomparable(reasons) => problems.push(format!(
                    "error: results of `{id}` cannot be compared with {place}: {}\n  = help: drop --seed and --runs to re-run with the stored ones",
                    reasons.join("; ")
                )),
                Verdict::Different(difference) => {
                    differ = true;
                    problems.push(format!(
                        "error: results of `{id}` differ from {place} (seed {}, {} runs)\n{difference}",
                        summary.seed, summary.runs
                    ));
                }
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        if differ {
            problems.push(
                "  = help: if the change is intended, run the same command with --bless to store the new results (docs/cli.md)"
                    .into(),
            );
        }
        Err(Failure {
            message: problems.join("\n"),
            code: exit::RESULTS_DIFFER,
        })
    }

    fn bless(&self, summaries: &[Summary]) -> Result<(), Failure> {
        for summary in summaries {
            let stored = self.find(&summary.scenario.id).expect("every model has an entry");
            let path = stored
                .bless_to
                .as_ref()
                .expect("blessing needs a path, checked in open");
            let text = summary_json(summary);
            let state = match &stored.expected {
                None => "new".to_string(),
                Some(_) if std::fs::read_to_string(path).is_ok_and(|old| old == text) => "unchanged".into(),
                Some(expected) => match compare(expected, summary) {
                    Verdict::Different(difference) => format!("results changed\n{difference}"),
                    Verdict::Incomparable(reasons) => format!("replaced: {}", reasons.join("; ")),
                    Verdict::Same { .. } => "same results, other text or digest".into(),
                },
            };
            crate::output::write_atomic(path, text.as_bytes())?;
            eprintln!("blessed {}: {state}", path.display());
        }
        Ok(())
    }
}

fn source(spec: &str, bless: bool) -> Result<Source, Failure> {
    let path = Path::new(spec);
    let is_digest = spec.len() == 64 && spec.bytes().all(|b| b.is_ascii_hexdigit());
    if path.is_dir() {
        Ok(Source::Directory(path.to_path_buf()))
    } else if path.is_file() {
        Ok(Source::File(path.to_path_buf()))
    } else if is_digest {
        if bless {
            return Err(usage("--bless needs --expect to name a directory or a file to write"));
        }
        Ok(Source::Digest(spec.to_string()))
    } else if bless {
        // Blessing into a new place: `x.json` is one summary file, anything else a directory.
        if path.extension().is_some_and(|e| e == "json") {
            Ok(Source::File(path.to_path_buf()))
        } else {
            Ok(Source::Directory(path.to_path_buf()))
        }
    } else {
        Err(Failure {
            message: format!(
                "error: --expect {spec}: no such file or directory, and not a 64-digit tallies digest\n  = help: give a directory of <id>.json files (create one with --bless), a summary.json, or a digest"
            ),
            code: exit::OTHER,
        })
    }
}

fn read_if_exists(path: &Path) -> Result<Option<Expected>, Failure> {
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(Expected::Summary(Box::new(read_summary(path)?))))
}

fn usage(message: &str) -> Failure {
    Failure {
        message: format!("error: {message}"),
        code: exit::USAGE,
    }
}
