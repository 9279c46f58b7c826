//! Diagnostics: what is wrong with a scenario, where, and how to fix it.
//!
//! In: [`Diagnostic`]s from `load` and `compile`, each a message with a span into [`Sources`].
//! Out: rustc-style text naming `file:line:column`, with a caret under the offending text and a
//! `help:` line (often "did you mean ..."). Most are errors; `compile::lint`'s are warnings
//! ([`Severity`]), rendered the same way under `warning:`.
//!
//! All files of one scenario (the file and the bases it `extends`) share one offset space: a
//! file starts at the offset [`Sources::add`] returns for it, just past the previous file, so a
//! plain byte range identifies file and position and the raw TOML types need no file field. `load` achieves this by parsing each file behind that many
//! spaces, which TOML ignores.
//!
//! Expressions are parsed from the decoded text of a TOML string, so their spans count decoded
//! bytes; [`StringMap`] turns them back into source offsets, across escapes, line-ending
//! backslashes and multi-line delimiters.

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

/// Where each byte of a TOML string's decoded value came from in the source.
#[derive(Debug, Clone)]
pub struct StringMap {
    /// For decoded byte `i`: the global source range of the character or escape it came from.
    sources: Vec<Range<usize>>,
    /// Where the decoded text ends in the source: the closing delimiter.
    end: usize,
}

impl StringMap {
    /// The map of the string literal `raw` (its source text, delimiters included, starting at
    /// global offset `base`), whose value is `decoded`. Walks both together: a plain character
    /// stands for itself, an escape (`\n`, `\"`, `\u0070`, ...) for one character, a
    /// line-ending backslash for nothing. Whatever it cannot follow maps to the string's
    /// start, so a caret is never misplaced by more than one string.
    pub fn new(raw: &str, decoded: &str, base: usize) -> StringMap {
        let (delimiter, basic) = if raw.starts_with("\"\"\"") {
            (3, true)
        } else if raw.starts_with("'''") {
            (3, false)
        } else if raw.starts_with('"') {
            (1, true)
        } else if raw.starts_with('\'') {
            (1, false)
        } else {
            // Not a string literal (no source text): every span maps to where it was written.
            return StringMap {
                sources: (0..decoded.len()).map(|_| base..base + raw.len()).collect(),
                end: base + raw.len(),
            };
        };
        let bytes = raw.as_bytes();
        let mut at = delimiter;
        // A newline right after the opening delimiter of a multi-line string is not part of it.
        if delimiter == 3 {
            if raw[at..].starts_with("\r\n") {
                at += 2;
            } else if raw[at..].starts_with('\n') {
                at += 1;
            }
        }
        let whitespace = |at: usize| bytes.get(at).is_some_and(|b| b" \t\r\n".contains(b));
        let mut sources = Vec::with_capacity(decoded.len());
        for c in decoded.chars() {
            // Line-ending backslashes: `\`, spaces, a newline, and all whitespace after it.
            while basic && delimiter == 3 && bytes.get(at) == Some(&b'\\') {
                let mut next = at + 1;
                while bytes.get(next).is_some_and(|b| *b == b' ' || *b == b'\t') {
                    next += 1;
                }
                if !matches!(bytes.get(next), Some(b'\n' | b'\r')) {
                    break;
                }
                while whitespace(next) {
                    next += 1;
                }
                at = next;
            }
            let start = at.min(raw.len());
            at = if basic && bytes.get(at) == Some(&b'\\') {
                at + match bytes.get(at + 1) {
                    Some(b'u') => 6,
                    Some(b'U') => 10,
                    Some(b'x') => 4,
                    _ => 2,
                }
            } else if c == '\n' && raw[start..].starts_with("\r\n") {
                at + 2
            } else {
                at + raw[start..].chars().next().map_or(1, char::len_utf8)
            };
            at = at.min(raw.len());
            while !raw.is_char_boundary(at) {
                at += 1;
            }
            for _ in 0..c.len_utf8() {
                sources.push(base + start..base + at);
            }
        }
        StringMap {
            sources,
            end: base + at,
        }
    }

    /// The source range of the decoded range `span`: from the start of its first character to
    /// the end of its last, never inside a multibyte character or an escape.
    pub fn span(&self, span: &Range<usize>) -> Range<usize> {
        let start = self.sources.get(span.start).map_or(self.end, |r| r.start);
        if span.end <= span.start {
            return start..start;
        }
        let end = self.sources.get(span.end - 1).map_or(self.end, |r| r.end);
        start..end.max(start)
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
            message: printable(message.into()),
            span: Some(span),
            label: String::new(),
            help: None,
            severity: Severity::Error,
        }
    }

    pub fn without_span(message: impl Into<String>) -> Self {
        Diagnostic {
            message: printable(message.into()),
            span: None,
            label: String::new(),
            help: None,
            severity: Severity::Error,
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = printable(label.into());
        self
    }

    /// The same problem, reported as a warning.
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
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
                // A caret inside a multibyte character would be no place at all: widen to whole
                // characters.
                let mut start = (span.start - file.base).min(file.text.len());
                // A problem at the very end (an unclosed string, say) is shown just past the
                // last line's text, not on a line that does not exist.
                if start == file.text.len() && start > 0 {
                    start -= 1;
                }
                while !file.text.is_char_boundary(start) {
                    start -= 1;
                }
                // At a CRLF line end, the place just past the line's text is the `\r`.
                if file.text[start..].starts_with('\n') && file.text[..start].ends_with('\r') {
                    start -= 1;
                }
                let mut end = (span.end.saturating_sub(file.base)).clamp(start, file.text.len());
                while !file.text.is_char_boundary(end) {
                    end += 1;
                }
                let local = start..end;
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

/// The most errors a scenario's report shows (it still counts them all).
pub const MAX_SHOWN_ERRORS: usize = 100;

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Rendering costs the length of the file's text per error; a file with thousands of
        // errors has one mistake repeated, and the first ones show it.
        for d in self.diagnostics.iter().take(MAX_SHOWN_ERRORS) {
            writeln!(f, "{}", d.render(&self.sources))?;
        }
        let n = self.diagnostics.len();
        if n > MAX_SHOWN_ERRORS {
            writeln!(f, "... and {} more errors, not shown\n", n - MAX_SHOWN_ERRORS)?;
        }
        write!(f, "{n} error{} in scenario", if n == 1 { "" } else { "s" })
    }
}

impl std::error::Error for ScenarioError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_shows_at_most_a_hundred_errors_and_counts_them_all() {
        let mut sources = Sources::default();
        sources.add(Path::new("s.toml"), "x = 1\n".repeat(150));
        let error = ScenarioError {
            diagnostics: (0..150).map(|i| Diagnostic::new("bad", i * 6..i * 6 + 1)).collect(),
            sources,
        };
        let text = error.to_string();
        assert_eq!(text.matches("error: bad").count(), MAX_SHOWN_ERRORS);
        assert!(text.contains("... and 50 more errors, not shown"), "{text}");
        assert!(text.ends_with("150 errors in scenario"), "{text}");
    }

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
    fn a_problem_at_the_end_of_the_file_is_shown_on_its_last_line() {
        let mut sources = Sources::default();
        sources.add(Path::new("s.toml"), "[scenario]\nname = \"x\n".into());
        let text = Diagnostic::new("unclosed string", 21..21).render(&sources);
        // Line 2 has 9 characters: column 10 is just past them.
        assert!(text.contains("s.toml:2:10"), "{text}");
        // The same with Windows line ends: the `\r` is not a column of the line.
        let mut sources = Sources::default();
        sources.add(Path::new("s.toml"), "[scenario]\r\nname = \"x\r\n".into());
        let text = Diagnostic::new("unclosed string", 23..23).render(&sources);
        assert!(text.contains("s.toml:2:10"), "{text}");
    }

    /// The source text each decoded character of `raw` maps to.
    fn mapped(raw: &str, decoded: &str) -> Vec<String> {
        let map = StringMap::new(raw, decoded, 100);
        decoded
            .char_indices()
            .map(|(i, c)| {
                raw[map.span(&(i..i + c.len_utf8())).start - 100..map.span(&(i..i + c.len_utf8())).end - 100]
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn string_maps_follow_escapes_and_delimiters() {
        assert_eq!(mapped(r#""a\néé""#, "a\néé"), ["a", "\\n", "é", "é"]);
        assert_eq!(mapped(r#""\u0070+\"x""#, "p+\"x"), ["\\u0070", "+", "\\\"", "x"]);
        assert_eq!(mapped(r#""\U0001F600!""#, "\u{1F600}!"), ["\\U0001F600", "!"]);
        assert_eq!(mapped("'a\\n'", "a\\n"), ["a", "\\", "n"]);
        assert_eq!(mapped("\"\"\"\na \\\n   b\"\"\"", "a b"), ["a", " ", "b"]);
        assert_eq!(mapped("\"\"\"\r\na\r\nb\"\"\"", "a\nb"), ["a", "\r\n", "b"]);
        assert_eq!(mapped("'''\nx\n'''", "x\n"), ["x", "\n"]);
        // A span over several characters; an empty span at the end sits on the closing quote.
        let map = StringMap::new(r#""\u0070 + zzz""#, "p + zzz", 0);
        assert_eq!(map.span(&(4..7)), 10..13);
        assert_eq!(map.span(&(7..7)), 13..13);
        assert_eq!(map.span(&(0..7)), 1..13);
    }

    #[test]
    fn a_span_inside_a_character_is_widened_to_whole_characters() {
        let mut sources = Sources::default();
        sources.add(Path::new("s.toml"), "x = \"éé\"\n".into());
        let text = Diagnostic::new("bad", 6..7).label("here").render(&sources);
        assert!(text.contains("s.toml:1:6"), "{text}");
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
