//! Diagnostics: what is wrong with a scenario, where, and how to fix it.
//!
//! In: [`Diagnostic`]s from `load` and `compile`, each a message with a span into [`Sources`].
//! Out: rustc-style text naming `file:line:column`, with a caret under the offending text and a
//! `help:` line (often "did you mean ..."). Most are errors; `compile::lint`'s are warnings
//! ([`Severity`]), rendered the same way under `warning:`.
//!
//! All files of one scenario (the file and the bases it `extends`) share one offset space: file
//! `i` starts at `Sources::base(i)`, so a plain byte range identifies file and position and the
//! raw TOML types need no file field. `load` achieves this by parsing each file behind that many
//! spaces, which TOML ignores.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

/// The text of every file one scenario was read from, in one offset space.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: Vec<SourceFile>,
}

#[derive(Debug, Clone)]
struct SourceFile {
    path: PathBuf,
    text: String,
    base: usize,
}

/// A position resolved to a file: 1-based line and column (in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl Sources {
    /// Adds a file and returns the offset its text starts at.
    pub fn add(&mut self, path: &Path, text: String) -> usize {
        let base = self.files.last().map_or(0, |f| f.base + f.text.len() + 1);
        self.files.push(SourceFile {
            path: path.to_path_buf(),
            text,
            base,
        });
        base
    }

    fn file_at(&self, offset: usize) -> Option<&SourceFile> {
        self.files
            .iter()
            .rev()
            .find(|f| f.base <= offset && offset <= f.base + f.text.len())
    }

    /// The source text a global span covers (empty if the span is not in one file).
    pub fn text(&self, span: &Range<usize>) -> &str {
        self.file_at(span.start)
            .and_then(|f| f.text.get(span.start - f.base..span.end - f.base))
            .unwrap_or("")
    }

    pub fn locate(&self, offset: usize) -> Option<Location> {
        let file = self.file_at(offset)?;
        let local = offset - file.base;
        let before = &file.text[..local.min(file.text.len())];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Some(Location {
            path: file.path.clone(),
            line,
            column,
        })
    }

    pub fn path_of(&self, offset: usize) -> Option<&Path> {
        self.file_at(offset).map(|f| f.path.as_path())
    }
}

/// One problem in a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub message: String,
    /// Global span (see [`Sources`]); `None` for problems with no place in a file.
    pub span: Option<Range<usize>>,
    /// Text under the caret.
    pub label: String,
    /// How to fix it.
    pub help: Option<String>,
    pub severity: Severity,
}

/// An error makes a scenario invalid; a warning points at a likely mistake and changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Severity {
    #[default]
    Error,
    Warning,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>, span: Range<usize>) -> Self {
        Diagnostic {
            message: message.into(),
            span: Some(span),
            label: String::new(),
            help: None,
            severity: Severity::Error,
        }
    }

    pub fn without_span(message: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            span: None,
            label: String::new(),
            help: None,
            severity: Severity::Error,
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// The same problem, reported as a warning.
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds "did you mean `x`?" when a candidate is close to `name`, else lists the candidates.
    pub fn suggest<'a>(self, name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Self {
        let candidates: Vec<&str> = candidates.into_iter().collect();
        match closest(name, &candidates) {
            Some(best) => self.help(format!("did you mean `{best}`?")),
            None if candidates.is_empty() => self,
            None => {
                let mut listed: Vec<String> = candidates.iter().take(12).map(|c| format!("`{c}`")).collect();
                if candidates.len() > 12 {
                    listed.push("...".into());
                }
                self.help(format!("expected one of {}", listed.join(", ")))
            }
        }
    }

    /// Renders as plain text (no colour: output goes to logs and CI as often as to terminals).
    pub fn render(&self, sources: &Sources) -> String {
        let located = self
            .span
            .clone()
            .and_then(|span| Some((sources.file_at(span.start)?, span)));
        let mut out = match located {
            Some((file, span)) => {
                let local = (span.start - file.base)..(span.end - file.base).min(file.text.len());
                let path = file.path.display().to_string();
                let level = match self.severity {
                    Severity::Error => Level::ERROR,
                    Severity::Warning => Level::WARNING,
                };
                let title = level.primary_title(&self.message);
                let snippet = Snippet::source(&file.text)
                    .line_start(1)
                    .path(&path)
                    .annotation(AnnotationKind::Primary.span(local).label(&self.label));
                let mut groups = vec![title.element(snippet)];
                if let Some(help) = &self.help {
                    groups.push(Group::with_title(Level::HELP.secondary_title(help)));
                }
                Renderer::plain().render(&groups)
            }
            None => {
                let kind = match self.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                };
                let mut text = format!("{kind}: {}", self.message);
                if let Some(help) = &self.help {
                    let _ = write!(text, "\n  = help: {help}");
                }
                text
            }
        };
        out.push('\n');
        out
    }
}

/// The candidate closest to `name`, if it is close enough to be a plausible misspelling.
pub fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(name, c), *c))
        .filter(|(distance, c)| *distance <= (c.len().max(name.len()) / 3).max(1))
        .min()
        .map(|(_, c)| c)
}

/// Every diagnostic of a failed load or compile, rendered together.
#[derive(Debug)]
pub struct ScenarioError {
    pub diagnostics: Vec<Diagnostic>,
    pub sources: Sources,
}

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for d in &self.diagnostics {
            writeln!(f, "{}", d.render(&self.sources))?;
        }
        let n = self.diagnostics.len();
        write!(f, "{n} error{} in scenario", if n == 1 { "" } else { "s" })
    }
}

impl std::error::Error for ScenarioError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_offsets_across_files() {
        let mut sources = Sources::default();
        sources.add(Path::new("base.toml"), "a = 1\nb = 2\n".into());
        let second = sources.add(Path::new("variant.toml"), "x = 1\n  yy = 3\n".into());
        let loc = sources.locate(second + 8).unwrap();
        assert_eq!(
            loc,
            Location {
                path: "variant.toml".into(),
                line: 2,
                column: 3
            }
        );
        assert_eq!(sources.locate(6).unwrap().line, 2);
    }

    #[test]
    fn render_names_file_line_column_and_help() {
        let mut sources = Sources::default();
        sources.add(Path::new("s.toml"), "[scenario]\nstpes = 3\n".into());
        let text = Diagnostic::new("unknown key `stpes`", 11..16)
            .suggest("stpes", ["steps", "name"])
            .render(&sources);
        assert!(text.contains("s.toml:2:1"), "{text}");
        assert!(text.contains("did you mean `steps`?"), "{text}");
        assert!(text.contains("^^^^^"), "{text}");
    }

    #[test]
    fn closest_rejects_distant_names() {
        assert_eq!(closest("escalaton", &["escalation", "t"]), Some("escalation"));
        assert_eq!(closest("zzz", &["escalation"]), None);
    }
}
