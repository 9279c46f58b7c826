//! Tables: a [`Summary`] in, `summary.json` and one CSV per table out.
//!
//! Files are written with `output::write_atomic`; the CLI writes them into a staging directory
//! that is published as a whole. Values are printed as the summary holds them (already rounded
//! to the precision the run count supports, intervals outward); the one thing computed here is
//! the mean rung's interval, from the level counts the summary carries
//! ([`aggregate::mean_level_estimate`]). The one change is in CSV labels: one that starts like a
//! spreadsheet formula gets a leading `'` ([`spreadsheet_safe`]).

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::aggregate::check::summary_problems;
use crate::aggregate::difference::{PairedCounts, paired_difference, unpaired_difference};
use crate::aggregate::{self, PairedTables, PrecursorTables, Series, ShareEstimate, Summary};
use crate::input::{RESULT_FILE_LIMIT, read_text};
use crate::output::write_atomic;

mod sensitivity;
mod why;

/// Serializes a summary: pretty JSON, stable key order, trailing newline.
pub fn summary_json(summary: &Summary) -> String {
    let mut json = serde_json::to_string_pretty(summary).expect("summaries always serialize");
    json.push('\n');
    json
}

/// Reads a `summary.json` back, refusing a file that is not one `sim` could have written
/// (see `aggregate::check`).
pub fn read_summary(path: &Path) -> Result<Summary> {
    let text = read_text(path, RESULT_FILE_LIMIT)?;
    let summary: Summary =
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{} is not a sim summary: {e}", path.display()))?;
    let problems = summary_problems(&summary);
    if !problems.is_empty() {
        anyhow::bail!(
            "{} is not a valid sim summary (changed or damaged): {}",
            path.display(),
            problems.join("; ")
        );
    }
    Ok(summary)
}

/// Writes `summary.json` and the CSV tables into `dir`.
pub fn write_tables(summary: &Summary, dir: &Path) -> Result<Vec<PathBuf>> {
    let tables = &summary.tables;
    let mut files = vec![(dir.join("summary.json"), summary_json(summary))];
    for (name, series) in [
        ("level_distribution", &tables.level_distribution),
        ("rung_reached", &tables.rung_reached),
        ("outcome_by", &tables.outcome_by),
        ("outcome_holds", &tables.outcome_holds),
        ("trigger_fired_by", &tables.trigger_fired_by),
    ] {
        files.push((dir.join(format!("{name}.csv")), series_csv(summary, series)?));
    }
    files.push((dir.join("final_level.csv"), final_level_csv(summary)?));
    files.push((dir.join("mean_level.csv"), mean_level_csv(summary)?));
    files.push((dir.join("mean_firings.csv"), mean_firings_csv(summary)?));
    if let Some(precursors) = &summary.precursors {
        files.push((dir.join("precursors.csv"), precursors_csv(summary, precursors)?));
    }
    if let Some(tables) = &summary.sensitivity {
        files.push((dir.join("sensitivity.csv"), sensitivity::sensitivity_csv(tables)?));
        files.push((dir.join("swings.csv"), sensitivity::swings_csv(tables)?));
    }
    if let Some(paths) = &summary.paths {
        files.push((dir.join("paths.csv"), why::paths_csv(summary, paths)?));
    }
    if let Some(lift) = &summary.lift {
        files.push((dir.join("lift.csv"), why::lift_csv(lift)?));
    }
    for (path, text) in &files {
        write_atomic(path, text.as_bytes())?;
    }
    Ok(files.into_iter().map(|(path, _)| path).collect())
}

/// Long format: one row per series and step, with the run count on every row.
fn series_csv(summary: &Summary, series: &[Series]) -> Result<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["id", "label", "step", "date", "count", "runs", "p", "lo95", "hi95"])?;
    for s in series {
        for (t, e) in s.points.iter().enumerate() {
            out.write_record([
                s.id.clone(),
                spreadsheet_safe(&s.label),
                t.to_string(),
                summary.scenario.step_labels[t].clone(),
                e.count.to_string(),
                summary.runs.to_string(),
                e.p.to_string(),
                e.lo.to_string(),
                e.hi.to_string(),
            ])?;
        }
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}

/// A text cell as a spreadsheet will not run it: a cell starting with `=`, `+`, `-`, `@`, a tab
/// or a carriage return is read as a formula, so it gets a leading `'` (OWASP's advice for CSV
/// injection). Labels are the only free text in the CSVs; ids, levels and dates cannot start so.
pub fn spreadsheet_safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// The horizon's step and its label (date), or empty fields for a summary without labels.
fn horizon(summary: &Summary) -> (String, String) {
    let step = summary.scenario.steps;
    let label = summary.scenario.step_labels.get(step).cloned().unwrap_or_default();
    (step.to_string(), label)
}

fn final_level_csv(summary: &Summary) -> Result<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["rung", "level", "step", "date", "count", "runs", "p", "lo95", "hi95"])?;
    let (step, date) = horizon(summary);
    for (k, s) in summary.tables.final_level.iter().enumerate() {
        let e = s.points[0];
        out.write_record([
            k.to_string(),
            s.id.clone(),
            step.clone(),
            date.clone(),
            e.count.to_string(),
            summary.runs.to_string(),
            e.p.to_string(),
            e.lo.to_string(),
            e.hi.to_string(),
        ])?;
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}

/// The mean rung (0 = first level) per step, with a 95% normal-approximation interval computed
/// from the step's level counts.
fn mean_level_csv(summary: &Summary) -> Result<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["step", "date", "runs", "mean_rung", "lo95", "hi95"])?;
    let levels = &summary.tables.level_distribution;
    for (t, mean) in summary.tables.mean_level.iter().enumerate() {
        let counts: Vec<u64> = levels.iter().map(|s| s.points.get(t).map_or(0, |e| e.count)).collect();
        let estimate = aggregate::mean_level_estimate(&counts, summary.decimals);
        out.write_record([
            t.to_string(),
            summary.scenario.step_labels.get(t).cloned().unwrap_or_default(),
            summary.runs.to_string(),
            mean.to_string(),
            estimate.lo.to_string(),
            estimate.hi.to_string(),
        ])?;
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}

/// Mean firings per run of each trigger over the whole horizon. Only the total is tallied, not
/// its spread, so no interval is given.
fn mean_firings_csv(summary: &Summary) -> Result<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["id", "label", "actor", "runs", "mean_firings"])?;
    for (trigger, mean) in summary.scenario.triggers.iter().zip(&summary.tables.mean_firings) {
        out.write_record([
            trigger.id.clone(),
            spreadsheet_safe(&trigger.label),
            trigger.actor.clone(),
            summary.runs.to_string(),
            mean.to_string(),
        ])?;
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}

/// Long format: one row per outcome, trigger and counted step: of the runs in which the outcome
/// held by that step, those in which the trigger fired at or before the step the outcome first
/// held, with the share's interval (empty while no run has reached the outcome). Each share is
/// rounded to the precision its own run count supports, not the study's. Ids only, no labels:
/// the table has outcomes x triggers rows per step, and the labels are in `outcome_by.csv` and
/// `trigger_fired_by.csv`.
fn precursors_csv(summary: &Summary, precursors: &PrecursorTables) -> Result<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "outcome",
        "trigger",
        "step",
        "date",
        "runs_with_outcome",
        "fired_before",
        "p",
        "lo95",
        "hi95",
    ])?;
    let labels = &summary.scenario.step_labels;
    for outcome in &precursors.outcomes {
        for (trigger, counts) in precursors.triggers.iter().zip(&outcome.fired_before) {
            for ((&t, &runs), &count) in precursors.steps.iter().zip(&outcome.runs).zip(counts) {
                let share = (runs > 0).then(|| ShareEstimate::new(count, runs));
                let number = |x: Option<f64>| x.map(|x| x.to_string()).unwrap_or_default();
                out.write_record([
                    outcome.outcome.clone(),
                    trigger.clone(),
                    t.to_string(),
                    labels.get(t).cloned().unwrap_or_default(),
                    runs.to_string(),
                    count.to_string(),
                    number(share.map(|s| s.p)),
                    number(share.map(|s| s.lo)),
                    number(share.map(|s| s.hi)),
                ])?;
            }
        }
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}

/// Writes `differences.csv` into `dir` when some variant was simulated paired with the
/// comparison's baseline (the first summary); gives the path written, if any.
pub fn write_differences(summaries: &[Summary], dir: &Path) -> Result<Option<PathBuf>> {
    let Some((baseline, variants)) = summaries.split_first() else {
        return Ok(None);
    };
    let paired: Vec<(&Summary, &PairedTables)> = variants
        .iter()
        .filter_map(|s| s.paired_with(baseline).map(|p| (s, p)))
        .collect();
    if paired.is_empty() {
        return Ok(None);
    }
    let path = dir.join("differences.csv");
    write_atomic(&path, differences_csv(baseline, &paired)?.as_bytes())?;
    Ok(Some(path))
}

/// Long format: one row per variant, kind (`outcome`: held by t, `outcome_at`: holds at t,
/// `rung`: reached by t, `trigger`: fired by t), series and step: both probabilities, the
/// difference with its paired 95% interval (Newcombe's method 10) and, to show what the
/// pairing gains, the unpaired one, and the four paired counts. Rounded to the variant's
/// decimals, the intervals outward.
fn differences_csv(baseline: &Summary, paired: &[(&Summary, &PairedTables)]) -> Result<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "scenario",
        "baseline",
        "kind",
        "id",
        "label",
        "step",
        "date",
        "p",
        "p_baseline",
        "diff",
        "lo95",
        "hi95",
        "unpaired_lo95",
        "unpaired_hi95",
        "both",
        "variant_only",
        "baseline_only",
        "neither",
        "runs",
    ])?;
    for (variant, pairs) in paired {
        let decimals = variant.decimals;
        let kinds = [
            (
                "outcome",
                &pairs.outcome_by,
                &variant.tables.outcome_by,
                &baseline.tables.outcome_by,
            ),
            (
                "outcome_at",
                &pairs.outcome_holds,
                &variant.tables.outcome_holds,
                &baseline.tables.outcome_holds,
            ),
            (
                "rung",
                &pairs.rung_reached,
                &variant.tables.rung_reached,
                &baseline.tables.rung_reached,
            ),
            (
                "trigger",
                &pairs.trigger_fired_by,
                &variant.tables.trigger_fired_by,
                &baseline.tables.trigger_fired_by,
            ),
        ];
        for (kind, series, own, base) in kinds {
            for pair in series.iter() {
                let (Some(mine), Some(theirs)) = (
                    own.iter().find(|s| s.id == pair.id),
                    base.iter().find(|s| s.id == pair.id),
                ) else {
                    continue;
                };
                for (t, ((e, b), &both)) in mine.points.iter().zip(&theirs.points).zip(&pair.both).enumerate() {
                    let Some(counts) = PairedCounts::from_margins(both, e.count, b.count, variant.runs) else {
                        continue;
                    };
                    let d = paired_difference(counts);
                    let u = unpaired_difference(e.count, b.count, variant.runs);
                    out.write_record([
                        variant.scenario.id.clone(),
                        baseline.scenario.id.clone(),
                        kind.to_string(),
                        pair.id.clone(),
                        spreadsheet_safe(&mine.label),
                        t.to_string(),
                        variant.scenario.step_labels.get(t).cloned().unwrap_or_default(),
                        e.p.to_string(),
                        b.p.to_string(),
                        aggregate::round_to(d.diff, decimals).to_string(),
                        aggregate::round_down(d.lo, decimals).to_string(),
                        aggregate::round_up(d.hi, decimals).to_string(),
                        aggregate::round_down(u.lo, decimals).to_string(),
                        aggregate::round_up(u.hi, decimals).to_string(),
                        counts.both.to_string(),
                        counts.variant_only.to_string(),
                        counts.baseline_only.to_string(),
                        counts.neither.to_string(),
                        variant.runs.to_string(),
                    ])?;
                }
            }
        }
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_leading_labels_are_quoted_for_spreadsheets() {
        for risky in ["=1+1", "+1", "-2 weeks", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(spreadsheet_safe(risky), format!("'{risky}"));
        }
        for plain in ["Seoul sends arms", "", "1 = 1", "'quoted"] {
            assert_eq!(spreadsheet_safe(plain), plain);
        }
    }
}
