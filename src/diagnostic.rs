//! Diagnostics: what is wrong with a scenario, where, and how to fix it.
//!
//! In: [`Diagnostic`]s from `load` and `compile`, each a message with a span into [`Sources`].
//! Out: rustc-style text naming `file:line:column`, with a caret under the offending text and a
//! `help:` line (often "did you mean ...").
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
}

impl Diagnostic {
    pub fn new(message: impl Into<String>, span: Range<usize>) -> Self {
        Diagnostic {
            message: printable(message.into()),
            span: Some(span),
            label: String::new(),
            help: None,
        }
    }

    pub fn without_span(message: impl Into<String>) -> Self {
        Diagnostic {
            message: printable(message.into()),
            span: None,
            label: String::new(),
            help: None,
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = printable(label.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(printable(help.into()));
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
                let title = Level::ERROR.primary_title(&self.message);
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
                let mut text = format!("error: {}", self.message);
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
    // The edit distance costs length x length; it is at least the difference of the lengths, so
    // a candidate whose length differs by more than the distance allowed is skipped unmeasured,
    // and so is any text longer than a name can be.
    const LONGEST: usize = 256;
    let allowed = |c: &str| (c.len().max(name.len()) / 3).max(1);
    let length = name.chars().count();
    if length > LONGEST {
        return None;
    }
    candidates
        .iter()
        .filter(|c| {
            let other = c.chars().count();
            other <= LONGEST && length.abs_diff(other) <= allowed(c)
        })
        .map(|c| (strsim::damerau_levenshtein(name, c), *c))
        .filter(|(distance, c)| *distance <= allowed(c))
        .min()
        .map(|(_, c)| c)
}

/// `text` with control characters other than line breaks written as escapes (`\u{1b}`): a
/// message quotes what the user wrote, and that must not drive the terminal it is printed on.
fn printable(text: String) -> String {
    if !text.chars().any(|c| c.is_control() && c != '\n') {
        return text;
    }
    text.chars()
        .map(|c| match c {
            '\n' => c.to_string(),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
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

    #[test]
    fn closest_is_fast_on_long_names() {
        let long = "a".repeat(100_000);
        let candidates: Vec<String> = (0..20).map(|i| format!("{long}{i}")).collect();
        let refs: Vec<&str> = candidates.iter().map(String::as_str).collect();
        let started = std::time::Instant::now();
        assert_eq!(closest(&long, &refs), None);
        assert_eq!(closest("escalaton", &refs), None);
        assert!(started.elapsed().as_secs_f64() < 1.0, "{:?}", started.elapsed());
    }

    #[test]
    fn messages_never_carry_control_characters() {
        let d = Diagnostic::new("unknown actor `\u{1b}[2J`", 0..1)
            .label("\u{7}")
            .help("a\nb");
        assert_eq!(d.message, "unknown actor `\\u{1b}[2J`");
        assert_eq!(d.label, "\\u{7}");
        assert_eq!(d.help.as_deref(), Some("a\nb"));
    }
}
