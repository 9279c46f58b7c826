//! The report's discordant runs: for a variant simulated paired with the baseline, per outcome,
//! the lowest runs where it held by the horizon with the variant only, and in the baseline
//! only, with the `sim trace --diff` command that shows one of them side by side.

use std::fmt::Write;

use super::escape;
use crate::aggregate::{DiscordantOutcome, Summary};
use crate::format::{horizon_label, thousands};

/// The command that traces run `run` of `variant` against `baseline`. Scenario ids are the
/// files' names, so it is exact from the directory holding the scenario files.
pub fn trace_command(variant: &Summary, baseline: &str, run: u64) -> String {
    format!(
        "sim trace {}.toml --diff {baseline}.toml --run {run} --seed {} --runs {}",
        variant.scenario.id, variant.seed, variant.runs
    )
}

/// Writes the section for `summary` when it holds discordant runs; `all` gives the baseline's
/// counts, when it is in the report.
pub(super) fn write_discordant(page: &mut String, summary: &Summary, all: &[Summary]) -> std::fmt::Result {
    let Some(paired) = &summary.paired else {
        return Ok(());
    };
    let Some(discordant) = &paired.discordant else {
        return Ok(());
    };
    if discordant.outcomes.is_empty() {
        return Ok(());
    }
    let baseline = all.iter().find(|s| s.scenario.id == paired.baseline);
    let horizon_count = |s: &Summary, id: &str| {
        s.tables
            .outcome_by
            .iter()
            .find(|series| series.id == id)
            .and_then(|series| series.points.last())
            .map(|e| e.count)
    };
    let label = |id: &str| -> String {
        summary
            .scenario
            .outcomes
            .iter()
            .find(|o| o.id == id)
            .map_or(id, |o| o.label.as_str())
            .to_string()
    };
    // Runs of each outcome that differ, per direction, when the counts are known.
    let counts = |outcome: &DiscordantOutcome| {
        let both = paired
            .outcome_by
            .iter()
            .find(|s| s.id == outcome.id)
            .and_then(|s| s.both.last().copied())?;
        let mine = horizon_count(summary, &outcome.id)?.checked_sub(both);
        let theirs = baseline
            .and_then(|b| horizon_count(b, &outcome.id))
            .and_then(|n| n.checked_sub(both));
        Some((mine, theirs))
    };
    let list = |runs: &[u64], total: Option<u64>| -> String {
        if runs.is_empty() {
            return "none".to_string();
        }
        let shown: Vec<String> = runs.iter().map(u64::to_string).collect();
        match total {
            Some(total) if total > runs.len() as u64 => {
                format!("{} … ({} in all)", shown.join(", "), thousands(total))
            }
            _ => shown.join(", "),
        }
    };
    writeln!(page, "<h3>Runs that differ from the baseline</h3>")?;
    let first = discordant
        .outcomes
        .iter()
        .find_map(|o| o.variant_only.first().or(o.baseline_only.first()));
    let Some(&example) = first else {
        return writeln!(
            page,
            "<p>In no run did an outcome hold by {} with this variant and not in the baseline, or the reverse.</p>",
            escape(&horizon_label(&summary.scenario))
        );
    };
    writeln!(
        page,
        "<p>The first runs (at most {}) in which an outcome held by {} with this variant and not in \
         the baseline <code>{}</code>, and the reverse: run <em>i</em> of both used the same random \
         numbers. To follow one side by side, from the directory of the scenario files:</p>\n\
         <pre><code>{}</code></pre>",
        discordant.kept,
        escape(&horizon_label(&summary.scenario)),
        escape(&paired.baseline),
        escape(&trace_command(summary, &paired.baseline, example))
    )?;
    writeln!(
        page,
        "<table class=\"discordant\">\n<thead><tr><th>Outcome</th><th>Only with the variant, in runs</th>\
         <th>Only in the baseline, in runs</th></tr></thead>\n<tbody>"
    )?;
    for outcome in &discordant.outcomes {
        let (mine, theirs) = counts(outcome).unwrap_or((None, None));
        writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&label(&outcome.id)),
            list(&outcome.variant_only, mine),
            list(&outcome.baseline_only, theirs)
        )?;
    }
    writeln!(page, "</tbody>\n</table>")
}
