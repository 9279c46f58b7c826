//! `paths.csv` and `lift.csv`: the chains of triggers that led to each outcome, and each
//! outcome's probability with and without each trigger, one row per outcome and path rank, and
//! per outcome and trigger.

use anyhow::Result;

use super::spreadsheet_safe;
use crate::aggregate::lift::LiftTables;
use crate::aggregate::paths::PathTables;
use crate::aggregate::{ShareEstimate, Summary};

/// One row per outcome and rank: the path as trigger ids (` > ` between them), the typical date
/// of each, the runs on it (`count`) of the runs in which the outcome happened (`runs`), with the
/// share's interval, and the path in words.
pub(super) fn paths_csv(summary: &Summary, paths: &PathTables) -> Result<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "outcome",
        "rank",
        "path",
        "more",
        "typical_dates",
        "count",
        "runs",
        "p",
        "lo95",
        "hi95",
        "sentence",
        "sample_runs",
    ])?;
    let labels = &summary.scenario.step_labels;
    for outcome in &paths.outcomes {
        for (rank, path) in outcome.top.iter().enumerate() {
            let dates: Vec<&str> = path
                .typical_steps
                .iter()
                .map(|&s| labels.get(s).map_or("", String::as_str))
                .collect();
            out.write_record([
                outcome.outcome.clone(),
                (rank + 1).to_string(),
                path.triggers.join(" > "),
                path.more.to_string(),
                dates.join(" > "),
                path.share.count.to_string(),
                outcome.runs.to_string(),
                path.share.p.to_string(),
                path.share.lo.to_string(),
                path.share.hi.to_string(),
                spreadsheet_safe(&path.sentence),
                paths.sample_runs.to_string(),
            ])?;
        }
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}

/// One row per outcome and trigger: P(outcome) in the runs where the trigger fired on the way
/// (before the outcome, or at all without it) and where it never fired, with Wilson intervals
/// (each rounded to the precision of its own group), and the difference with its interval.
/// `strongest` ranks the outcome's strongest associations (empty for the others).
pub(super) fn lift_csv(lift: &LiftTables) -> Result<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "outcome",
        "trigger",
        "fired_runs",
        "fired_with_outcome",
        "p_fired",
        "lo95_fired",
        "hi95_fired",
        "never_runs",
        "never_with_outcome",
        "p_never",
        "lo95_never",
        "hi95_never",
        "difference",
        "lo95",
        "hi95",
        "strongest",
    ])?;
    let number = |x: Option<f64>| x.map(|x| x.to_string()).unwrap_or_default();
    let share = |count: u64, runs: u64| {
        let s = (runs > 0).then(|| ShareEstimate::new(count, runs));
        [number(s.map(|s| s.p)), number(s.map(|s| s.lo)), number(s.map(|s| s.hi))]
    };
    for outcome in &lift.outcomes {
        for (i, trigger) in lift.triggers.iter().enumerate() {
            let [pf, lf, hf] = share(outcome.fired_with[i], outcome.fired_runs[i]);
            let [pn, ln, hn] = share(outcome.never_with[i], outcome.never_runs[i]);
            let d = outcome.difference[i];
            let rank = outcome.strongest.iter().position(|&s| s == i);
            out.write_record([
                outcome.outcome.clone(),
                trigger.clone(),
                outcome.fired_runs[i].to_string(),
                outcome.fired_with[i].to_string(),
                pf,
                lf,
                hf,
                outcome.never_runs[i].to_string(),
                outcome.never_with[i].to_string(),
                pn,
                ln,
                hn,
                number(d.map(|d| d[0])),
                number(d.map(|d| d[1])),
                number(d.map(|d| d[2])),
                rank.map(|r| (r + 1).to_string()).unwrap_or_default(),
            ])?;
        }
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}
