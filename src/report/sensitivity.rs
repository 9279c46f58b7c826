//! The sensitivity tables: a summary's [`SensitivityTables`] in, `sensitivity.csv` (one row per
//! outcome or rung, param and fifth) and `swings.csv` (one row per outcome or rung and param,
//! by decreasing swing) out. Ids only: the labels are in `outcome_by.csv` and
//! `rung_reached.csv`.

use anyhow::Result;

use crate::aggregate::sensitivity::SensitivityTables;

/// Tidy: `kind` (`outcome` or `rung`), `outcome` (its id, or the rung's level), `param`, `bin`
/// (1 to 5, the fifth of the param's distribution), `count` of `runs` (the runs of that fifth),
/// `p` with its interval.
pub(super) fn sensitivity_csv(tables: &SensitivityTables) -> Result<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["kind", "outcome", "param", "bin", "count", "runs", "p", "lo95", "hi95"])?;
    for cell in &tables.cells {
        for param in &cell.params {
            for (b, e) in param.bins.iter().enumerate() {
                out.write_record([
                    cell.kind.clone(),
                    cell.id.clone(),
                    param.param.clone(),
                    (b + 1).to_string(),
                    e.count.to_string(),
                    e.runs.to_string(),
                    e.p.to_string(),
                    e.lo.to_string(),
                    e.hi.to_string(),
                ])?;
            }
        }
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}

/// Per outcome or rung, the params by decreasing |swing| (`rank` 1 first): the swing
/// `p(fifth 5) - p(fifth 1)` with its interval, both ends with their counts and runs, and the
/// rank correlation.
pub(super) fn swings_csv(tables: &SensitivityTables) -> Result<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "kind",
        "outcome",
        "rank",
        "param",
        "swing",
        "lo95",
        "hi95",
        "p_bottom_fifth",
        "p_top_fifth",
        "count_bottom_fifth",
        "runs_bottom_fifth",
        "count_top_fifth",
        "runs_top_fifth",
        "correlation",
    ])?;
    for cell in &tables.cells {
        for (rank, param) in cell.by_swing().into_iter().enumerate() {
            let (bottom, top) = (param.bins.first(), param.bins.last());
            let field = |e: Option<&crate::aggregate::ShareEstimate>,
                         f: fn(&crate::aggregate::ShareEstimate) -> String| {
                e.map(f).unwrap_or_default()
            };
            out.write_record([
                cell.kind.clone(),
                cell.id.clone(),
                (rank + 1).to_string(),
                param.param.clone(),
                param.swing.diff.to_string(),
                param.swing.lo.to_string(),
                param.swing.hi.to_string(),
                field(bottom, |e| e.p.to_string()),
                field(top, |e| e.p.to_string()),
                field(bottom, |e| e.count.to_string()),
                field(bottom, |e| e.runs.to_string()),
                field(top, |e| e.count.to_string()),
                field(top, |e| e.runs.to_string()),
                param.correlation.to_string(),
            ])?;
        }
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}
