//! `sim test --junit FILE`: the verdicts as JUnit XML, the report format CI dashboards read.
//!
//! One `<testsuite>` per scenario, one `<testcase>` per claim: a failed claim has a `<failure>`,
//! an undecided one a `<skipped>` (it is not a pass; the exit code says so too). Written
//! atomically through `output`, after the path was checked before any run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::test::Line;
use super::{Failure, exit};
use crate::claims::Verdict;

/// Where the report goes, checked before simulating.
pub(super) struct JunitFile(PathBuf);

impl JunitFile {
    /// Refuses a path whose directory does not exist, or that is a directory, before any run.
    pub(super) fn check(path: &Path) -> Result<JunitFile, Failure> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let problem = if path.is_dir() {
            Some("is a directory")
        } else if !dir.is_dir() {
            Some("is in a directory that does not exist")
        } else {
            None
        };
        match problem {
            Some(why) => Err(Failure {
                message: format!(
                    "error: --junit {} {why}\n  = help: name a file in an existing directory, e.g. --junit sim-test.xml",
                    path.display()
                ),
                code: exit::OTHER,
            }),
            None => Ok(JunitFile(path.to_path_buf())),
        }
    }

    pub(super) fn write(&self, lines: &[Line]) -> Result<(), Failure> {
        crate::output::write_atomic(&self.0, junit_xml(lines).as_bytes())?;
        Ok(())
    }
}

/// The verdicts as a JUnit XML document.
pub(super) fn junit_xml(lines: &[Line]) -> String {
    let count = |lines: &[&Line], v: Verdict| lines.iter().filter(|l| l.verdict == v).count();
    let all: Vec<&Line> = lines.iter().collect();
    let mut scenarios: Vec<&str> = Vec::new();
    for l in lines {
        if !scenarios.contains(&l.scenario.as_str()) {
            scenarios.push(&l.scenario);
        }
    }
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"sim test\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"0\">",
        all.len(),
        count(&all, Verdict::Fail),
        count(&all, Verdict::Undecided)
    );
    for scenario in scenarios {
        let own: Vec<&Line> = lines.iter().filter(|l| l.scenario == scenario).collect();
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"0\">",
            escape(scenario),
            own.len(),
            count(&own, Verdict::Fail),
            count(&own, Verdict::Undecided)
        );
        for l in own {
            let _ = write!(
                xml,
                "    <testcase classname=\"{}\" name=\"{}\"",
                escape(&l.scenario),
                escape(&l.claim)
            );
            let detail = match &l.note {
                Some(note) => format!("{}\nwhy it should hold: {note}", l.found),
                None => l.found.clone(),
            };
            match l.verdict {
                Verdict::Pass => {
                    let _ = writeln!(
                        xml,
                        ">\n      <system-out>{}</system-out>\n    </testcase>",
                        escape(&l.found)
                    );
                }
                Verdict::Fail => {
                    let _ = writeln!(
                        xml,
                        ">\n      <failure message=\"{}\" type=\"claim failed\">{}</failure>\n    </testcase>",
                        escape(&format!("the whole 95% interval violates the claim: {}", l.found)),
                        escape(&detail)
                    );
                }
                Verdict::Undecided => {
                    let _ = writeln!(
                        xml,
                        ">\n      <skipped message=\"{}\">{}</skipped>\n    </testcase>",
                        escape(&format!(
                            "undecided (not a pass): the 95% interval straddles the bound: {}",
                            l.found
                        )),
                        escape(&detail)
                    );
                }
            }
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

/// Text for an XML attribute or element: the five special characters escaped, and the
/// characters XML 1.0 cannot hold at all (most control characters) replaced by U+FFFD.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_are_escaped_and_control_characters_replaced() {
        assert_eq!(
            escape("a<b & \"c\" > 'd'"),
            "a&lt;b &amp; &quot;c&quot; &gt; &apos;d&apos;"
        );
        assert_eq!(escape("bell\u{7}\nline"), "bell\u{FFFD}\nline");
    }

    #[test]
    fn a_failure_and_an_undecided_claim_are_counted() {
        let line = |verdict, scenario: &str| Line {
            verdict,
            scenario: scenario.into(),
            claim: "P(outcome `o` by 2028-05) below 0.05".into(),
            found: "4.0% [3.5, 4.6] <ok>".into(),
            note: Some("rare & \"contained\"".into()),
        };
        let xml = junit_xml(&[
            line(Verdict::Pass, "a"),
            line(Verdict::Fail, "a"),
            line(Verdict::Undecided, "b"),
        ]);
        assert!(
            xml.contains("<testsuites name=\"sim test\" tests=\"3\" failures=\"1\" skipped=\"1\""),
            "{xml}"
        );
        assert!(
            xml.contains("<testsuite name=\"a\" tests=\"2\" failures=\"1\" skipped=\"0\""),
            "{xml}"
        );
        assert!(
            xml.contains("why it should hold: rare &amp; &quot;contained&quot;</failure>"),
            "{xml}"
        );
        assert!(xml.contains("<skipped message=\"undecided"), "{xml}");
        assert!(!xml.contains("<ok>"), "{xml}");
    }
}
