//! The report's "how each outcome came about": each outcome's most frequent escalation paths,
//! in words with their shares (`aggregate::paths`), next to the outcome table; the lift chart
//! is among the scenario's charts.

use std::fmt::Write;

use super::escape;
use crate::aggregate::{Estimate, Summary};
use crate::format::{estimate_text, thousands};

/// Paths shown per outcome in the report (`paths.csv` has the top ten).
const SHOWN: usize = 3;

/// A table with a row per outcome that happened in some run: its top paths as sentences, each
/// with its share of the runs where the outcome happened.
pub(super) fn write_paths(page: &mut String, summary: &Summary) -> std::fmt::Result {
    let Some(paths) = &summary.paths else {
        return Ok(());
    };
    if paths.outcomes.iter().all(|o| o.top.is_empty()) {
        return Ok(());
    }
    writeln!(page, "<h3>How each outcome came about</h3>")?;
    // Past the sample, say which runs the paths come from (the lift counts every run).
    let sample = if paths.sample_runs < summary.runs {
        format!(
            " (paths are counted in runs 0 to {}, the first {})",
            thousands(paths.sample_runs - 1),
            thousands(paths.sample_runs)
        )
    } else {
        String::new()
    };
    writeln!(
        page,
        "<p class=\"meta\">The most frequent paths to each outcome: the triggers that move the ladder or what the \
         outcome reads, in the order they first fired, with their typical (median) dates; the share is of the runs \
         in which the outcome happened, with its 95% interval{sample}. <code>paths.csv</code> has the top ten; the trigger lift chart \
         and <code>lift.csv</code> show how much more often each outcome happened where a trigger fired on the way \
         (an association, not a cause).</p>"
    )?;
    writeln!(
        page,
        "<table>\n<thead><tr><th>Outcome</th><th>most frequent paths</th></tr></thead>\n<tbody>"
    )?;
    for (outcome, info) in paths.outcomes.iter().zip(&summary.scenario.outcomes) {
        if outcome.top.is_empty() {
            continue;
        }
        write!(
            page,
            "<tr><td>{}<br><span class=\"meta\">in {} of {} runs",
            escape(&info.label),
            thousands(outcome.runs),
            thousands(paths.sample_runs)
        )?;
        write!(page, "</span></td><td><ol>")?;
        for path in outcome.top.iter().take(SHOWN) {
            let share = &path.share;
            let estimate = Estimate {
                count: share.count,
                p: share.p,
                lo: share.lo,
                hi: share.hi,
            };
            write!(
                page,
                "<li>{} \u{2014} {}</li>",
                escape(&path.sentence),
                estimate_text(&estimate, share.decimals.saturating_sub(2))
            )?;
        }
        writeln!(page, "</ol></td></tr>")?;
    }
    writeln!(page, "</tbody>\n</table>")
}
