//! The report's sensitivity table: per outcome, the three params with the largest swings, with
//! their intervals, and the outcome's tornado chart folded under them.

use std::fmt::Write;

use anyhow::Result;

use super::{escape, write_figure};
use crate::aggregate::Summary;
use crate::aggregate::sensitivity::OUTCOME;
use crate::plot::render_tornado_svgs;
use crate::plot::tornado::swing_text;

/// Params named per outcome in the table; the tornado shows more.
const NAMED: usize = 3;

/// Writes the table, if the summary has sensitivity tables with params.
pub(super) fn write_sensitivity(page: &mut String, summary: &Summary) -> Result<()> {
    let Some(tables) = &summary.sensitivity else {
        return Ok(());
    };
    if tables.params.is_empty() || summary.scenario.outcomes.is_empty() {
        return Ok(());
    }
    let mut charts = render_tornado_svgs(summary)?.into_iter();
    writeln!(page, "<h3>What moves each outcome</h3>")?;
    writeln!(
        page,
        "<p class=\"meta\">Swing: P(outcome by the horizon) among the runs whose draw of a param fell in \
         the top fifth of its distribution, minus that in the bottom fifth, in percentage points with \
         its 95% interval; the largest {NAMED} per outcome. Association in the model, not cause. Open a \
         row for its tornado chart; every param, fifth and rung is in <code>sensitivity.csv</code> and \
         <code>swings.csv</code>.</p>"
    )?;
    writeln!(
        page,
        "<table class=\"sensitivity\">\n<thead><tr><th>Outcome</th><th>Largest swings</th></tr></thead>\n<tbody>"
    )?;
    for cell in tables.cells.iter().filter(|c| c.kind == OUTCOME) {
        let label = summary
            .scenario
            .outcomes
            .iter()
            .find(|o| o.id == cell.id)
            .map_or(cell.id.as_str(), |o| o.label.as_str());
        let named: Vec<String> = cell
            .by_swing()
            .into_iter()
            .take(NAMED)
            .map(|p| format!("<code>{}</code> {}", escape(&p.param), escape(&swing_text(p))))
            .collect();
        write!(
            page,
            "<tr><td>{}</td><td><details><summary>{}</summary>",
            escape(label),
            named.join("; ")
        )?;
        // Tornadoes come in the outcomes' order, one per outcome with params.
        if let Some((_, svg)) = charts.next() {
            write_figure(page, &format!("{}-tornado-{}", summary.scenario.id, cell.id), &svg)?;
        }
        writeln!(page, "</details></td></tr>")?;
    }
    writeln!(page, "</tbody>\n</table>")?;
    Ok(())
}
