//! The report: [`Summary`] values in, one self-contained `index.html` and a terminal table out.
//!
//! In: the summaries of one run, and the SVG charts [`crate::plot`] renders from them. The charts
//! are rendered again in memory rather than read back from disk, so the page never depends on
//! which files an earlier step left behind. Out: `out_dir/index.html`, every chart inlined, with
//! no script, no network reference and no timestamp (the same summaries give the same bytes),
//! and [`headline_table`], the plain-text table `sim run` prints at the end.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::aggregate::{Estimate, Series, Summary};
use crate::output::write_atomic;
use crate::plot::{
    check_comparable, describe_horizon, difference_pp, estimate_text, horizon_label, interval_text, percent,
    percent_decimals, render_comparison_svgs, render_svg_charts, thousands,
};

/// Writes `out_dir/index.html` and returns its path.
pub fn write_report(summaries: &[Summary], out_dir: &Path) -> Result<PathBuf> {
    let path = out_dir.join("index.html");
    write_atomic(&path, render_report(summaries)?.as_bytes())?;
    Ok(path)
}

// ---------------------------------------------------------------------------------------------
// Rows shared by the terminal table and the page.
// ---------------------------------------------------------------------------------------------

/// One quantity across scenarios: `cells[i]` is scenario `i`'s estimate at the horizon with its
/// percent decimals, `None` when that scenario does not define it.
struct Row {
    label: String,
    cells: Vec<Option<(Estimate, u32)>>,
}

fn outcome_table(summary: &Summary) -> &[Series] {
    &summary.tables.outcome_by
}

fn rung_table(summary: &Summary) -> &[Series] {
    &summary.tables.rung_reached
}

/// Rows for every series id of `table` in any scenario, in order of first appearance; a row's
/// label is taken from the first scenario that defines it.
fn rows(summaries: &[Summary], table: fn(&Summary) -> &[Series]) -> Vec<Row> {
    let mut ids: Vec<(&str, &str)> = Vec::new();
    for summary in summaries {
        for series in table(summary) {
            if !ids.iter().any(|(id, _)| *id == series.id) {
                ids.push((&series.id, &series.label));
            }
        }
    }
    ids.into_iter()
        .map(|(id, label)| Row {
            label: label.to_string(),
            cells: summaries
                .iter()
                .map(|s| {
                    let series = table(s).iter().find(|series| series.id == id)?;
                    Some((*series.points.last()?, percent_decimals(s)))
                })
                .collect(),
        })
        .collect()
}

/// Scenario `index`'s difference from the first scenario, when both have the quantity, at the
/// precision of the less precise of the two.
fn difference(row: &Row, index: usize) -> Option<String> {
    if index == 0 {
        return None;
    }
    let (base, base_decimals) = row.cells.first().copied().flatten()?;
    let (other, decimals) = row.cells.get(index).copied().flatten()?;
    Some(difference_pp(other.p, base.p, decimals.min(base_decimals)))
}

// ---------------------------------------------------------------------------------------------
// Terminal table.
// ---------------------------------------------------------------------------------------------

/// Plain-text table of each outcome's P(by the horizon) with its 95% interval: one row per
/// outcome, one column per scenario, and for later scenarios the difference from the first in
/// percentage points (left out when the scenarios are not comparable).
pub fn headline_table(summaries: &[Summary]) -> String {
    let Some(first) = summaries.first() else {
        return String::new();
    };
    let comparable = check_comparable(summaries);
    let mut text = format!("P(outcome by {}), 95% interval\n", horizon_label(&first.scenario));
    let rows = rows(summaries, outcome_table);
    let mut grid: Vec<Vec<String>> = vec![
        std::iter::once(String::new())
            .chain(summaries.iter().map(|s| s.scenario.name.clone()))
            .collect(),
        std::iter::once(String::new())
            .chain(
                summaries
                    .iter()
                    .map(|s| format!("{} runs, seed {}", thousands(s.runs), s.seed)),
            )
            .collect(),
    ];
    for row in &rows {
        let cells = row.cells.iter().enumerate().map(|(i, cell)| match cell {
            None => "-".to_string(),
            Some((estimate, decimals)) => {
                let mut shown = estimate_text(estimate, *decimals);
                if let Some(diff) = difference(row, i).filter(|_| comparable.is_ok()) {
                    shown.push_str(&format!("  {diff}"));
                }
                shown
            }
        });
        grid.push(std::iter::once(row.label.clone()).chain(cells).collect());
    }
    text.push_str(&align(&grid));
    if rows.is_empty() {
        text.push_str("(no outcomes defined)\n");
    }
    if let Err(reason) = comparable {
        text.push_str(&format!("differences not shown: {reason}\n"));
    }
    text
}

/// Left-aligned columns, three spaces apart, no trailing spaces.
fn align(grid: &[Vec<String>]) -> String {
    let columns = grid.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            grid.iter()
                .filter_map(|row| row.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in grid {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(&widths) {
            line.push_str(cell);
            line.push_str(&" ".repeat(width - cell.chars().count() + 3));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The page.
// ---------------------------------------------------------------------------------------------

const STYLE: &str = "\
body{font-family:system-ui,'Segoe UI',Roboto,'Noto Sans',sans-serif;color:#222;\
line-height:1.45;max-width:1240px;margin:0 auto;padding:0 20px 48px}
h1{margin:28px 0 4px}
h2{border-top:2px solid #ddd;padding-top:20px;margin-top:44px}
h3{margin:24px 0 6px}
nav ul{padding-left:20px}
.meta{color:#555}
table{border-collapse:collapse;margin:6px 0 16px}
th,td{padding:4px 12px 4px 0;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}
th{border-bottom:2px solid #ccc}
.num{text-align:right;padding-left:12px;font-variant-numeric:tabular-nums;white-space:nowrap}
th.num{white-space:normal}
.diff{display:block;color:#555}
code{font-size:92%}
figure{margin:18px 0 28px}
figure svg{width:100%;height:auto;border:1px solid #eee}
";

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// The whole page as a string (what [`write_report`] writes).
pub fn render_report(summaries: &[Summary]) -> Result<String> {
    let mut page = String::new();
    write_head(&mut page, summaries)?;
    for summary in summaries {
        write_scenario(&mut page, summary)?;
    }
    if summaries.len() >= 2 {
        write_comparison(&mut page, summaries)?;
    }
    page.push_str("</main>\n</body>\n</html>\n");
    Ok(page)
}

fn write_head(page: &mut String, summaries: &[Summary]) -> std::fmt::Result {
    let names: Vec<String> = summaries.iter().map(|s| escape(&s.scenario.name)).collect();
    writeln!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
    )?;
    writeln!(
        page,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(page, "<title>sim report: {}</title>", names.join(", "))?;
    writeln!(page, "<style>\n{STYLE}</style>\n</head>\n<body>\n<header>")?;
    writeln!(page, "<h1>Scenario report</h1>")?;
    if let Some(first) = summaries.first() {
        writeln!(page, "<p class=\"meta\">Produced by {}.</p>", escape(&first.engine))?;
    }
    writeln!(page, "<nav><ul>")?;
    for summary in summaries {
        writeln!(
            page,
            "<li><a href=\"#scenario-{}\">{}</a></li>",
            escape(&summary.scenario.id),
            escape(&summary.scenario.name)
        )?;
    }
    if summaries.len() >= 2 {
        writeln!(page, "<li><a href=\"#comparison\">Comparison</a></li>")?;
    }
    writeln!(page, "</ul></nav>\n</header>\n<main>")
}

fn write_scenario(page: &mut String, summary: &Summary) -> Result<()> {
    let info = &summary.scenario;
    writeln!(page, "<section id=\"scenario-{}\">", escape(&info.id))?;
    writeln!(page, "<h2>{}</h2>", escape(&info.name))?;
    if !info.description.is_empty() {
        writeln!(page, "<p>{}</p>", escape(&info.description))?;
    }
    writeln!(
        page,
        "<p class=\"meta\">{} runs, seed {}; horizon {}; ladder {}; input digest <code>{}</code></p>",
        thousands(summary.runs),
        summary.seed,
        escape(&describe_horizon(info)),
        escape(&info.levels.join(" \u{2192} ")),
        escape(&summary.input_digest)
    )?;
    let horizon = escape(&horizon_label(info));
    writeln!(page, "<h3>Headline: by {horizon}</h3>")?;
    write_estimates(page, summary, "Outcome", outcome_table(summary), &horizon)?;
    write_estimates(page, summary, "Rung reached", rung_table(summary), &horizon)?;
    write_params(page, summary)?;
    writeln!(page, "<h3>Charts</h3>")?;
    for (name, svg) in render_svg_charts(summary)? {
        write_figure(page, &format!("{}-{name}", info.id), &svg)?;
    }
    writeln!(page, "</section>")?;
    Ok(())
}

/// Each series' estimate at the horizon, with interval and run count.
fn write_estimates(
    page: &mut String,
    summary: &Summary,
    what: &str,
    table: &[Series],
    horizon: &str,
) -> std::fmt::Result {
    if table.is_empty() {
        return Ok(());
    }
    let decimals = percent_decimals(summary);
    writeln!(
        page,
        "<table>\n<thead><tr><th>{what}</th><th class=\"num\">P(by {horizon})</th>\
         <th class=\"num\">95% interval</th><th class=\"num\">runs</th></tr></thead>\n<tbody>"
    )?;
    for series in table {
        let Some(estimate) = series.points.last() else {
            continue;
        };
        writeln!(
            page,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{} of {}</td></tr>",
            escape(&series.label),
            percent(estimate.p, decimals),
            interval_text(estimate, decimals),
            thousands(estimate.count),
            thousands(summary.runs)
        )?;
    }
    writeln!(page, "</tbody>\n</table>")
}

fn write_params(page: &mut String, summary: &Summary) -> std::fmt::Result {
    let params = &summary.scenario.params;
    if params.is_empty() {
        return Ok(());
    }
    writeln!(page, "<h3>Parameters</h3>")?;
    writeln!(
        page,
        "<table>\n<thead><tr><th>name</th><th>definition</th></tr></thead>\n<tbody>"
    )?;
    for param in params {
        writeln!(
            page,
            "<tr><td><code>{}</code></td><td>{}</td></tr>",
            escape(&param.name),
            escape(&param.definition)
        )?;
    }
    writeln!(page, "</tbody>\n</table>")
}

/// Inlines a chart, with an id so that it can be linked to. HTML needs no SVG namespace
/// declaration, and dropping it keeps the page free of any URL.
fn write_figure(page: &mut String, id: &str, svg: &str) -> std::fmt::Result {
    let inline = svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
    writeln!(page, "<figure id=\"chart-{}\">\n{inline}</figure>", escape(id))
}

fn write_comparison(page: &mut String, summaries: &[Summary]) -> Result<()> {
    writeln!(page, "<section id=\"comparison\">\n<h2>Comparison</h2>")?;
    if let Err(reason) = check_comparable(summaries) {
        writeln!(
            page,
            "<p>These scenarios are not compared: {}.</p>\n</section>",
            escape(&reason)
        )?;
        return Ok(());
    }
    let horizon = summaries
        .first()
        .map(|s| escape(&horizon_label(&s.scenario)))
        .unwrap_or_default();
    writeln!(
        page,
        "<p>P(by {horizon}) with 95% intervals; below each later scenario's value, its difference \
         from the first scenario in percentage points.</p>"
    )?;
    write_comparison_table(page, summaries, "Outcome", &rows(summaries, outcome_table))?;
    write_comparison_table(page, summaries, "Rung reached", &rows(summaries, rung_table))?;
    for (name, svg) in render_comparison_svgs(summaries)? {
        write_figure(page, &name, &svg)?;
    }
    writeln!(page, "</section>")?;
    Ok(())
}

fn write_comparison_table(page: &mut String, summaries: &[Summary], what: &str, rows: &[Row]) -> std::fmt::Result {
    if rows.is_empty() {
        return Ok(());
    }
    write!(page, "<table>\n<thead><tr><th>{what}</th>")?;
    for summary in summaries {
        write!(
            page,
            "<th class=\"num\">{}<br>{} runs</th>",
            escape(&summary.scenario.name),
            thousands(summary.runs)
        )?;
    }
    writeln!(page, "</tr></thead>\n<tbody>")?;
    for row in rows {
        write!(page, "<tr><td>{}</td>", escape(&row.label))?;
        for (i, cell) in row.cells.iter().enumerate() {
            let Some((estimate, decimals)) = cell else {
                write!(page, "<td class=\"num\">&ndash;</td>")?;
                continue;
            };
            write!(page, "<td class=\"num\">{}", estimate_text(estimate, *decimals))?;
            if let Some(diff) = difference(row, i) {
                write!(page, "<span class=\"diff\">{diff}</span>")?;
            }
            write!(page, "</td>")?;
        }
        writeln!(page, "</tr>")?;
    }
    writeln!(page, "</tbody>\n</table>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::tests::synthetic_summary;

    fn baseline() -> Summary {
        synthetic_summary("baseline", "Baseline <May 2025>", 12, 0.0)
    }

    fn variant() -> Summary {
        synthetic_summary("lethal_aid", "Seoul sends lethal aid", 12, 0.3)
    }

    #[test]
    fn headline_table_lists_outcomes_per_scenario_with_differences() {
        let table = headline_table(&[baseline(), variant()]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], "P(outcome by 2026-05), 95% interval");
        assert!(lines[1].contains("Baseline <May 2025>") && lines[1].contains("Seoul sends lethal aid"));
        assert!(lines[2].contains("20,000 runs"), "{table}");
        assert!(lines[3].starts_with("Armed clash on the peninsula"), "{table}");
        assert!(lines[3].contains("15.0% [14.5, 15.6]"), "{table}");
        assert!(lines[3].contains("19.5% [18.9, 20.1]  +4.5 pp"), "{table}");
        assert!(lines[4].contains("40.0% [39.3, 40.7]"), "{table}");
        assert!(lines[4].contains("52.0% [51.3, 52.7]  +12.0 pp"), "{table}");
        assert_eq!(lines.len(), 5);
        // Columns line up: each scenario column starts at the same place on every line.
        let column = lines[1].find("Seoul").unwrap();
        assert_eq!(lines[3].chars().nth(column - 1), Some(' '));
        assert_eq!(lines[3].find("19.5%"), Some(column));
    }

    #[test]
    fn headline_table_copes_with_one_scenario_and_mismatches() {
        let single = headline_table(&[baseline()]);
        assert!(
            single.contains("15.0% [14.5, 15.6]") && !single.contains(" pp"),
            "{single}"
        );
        assert_eq!(headline_table(&[]), "");

        let mut no_outcomes = baseline();
        no_outcomes.tables.outcome_by.clear();
        assert!(headline_table(&[no_outcomes]).contains("(no outcomes defined)"));

        let longer = synthetic_summary("longer", "Three years", 36, 0.0);
        let table = headline_table(&[baseline(), longer]);
        assert!(!table.contains(" pp"), "{table}");
        assert!(table.contains("differences not shown: cannot compare"), "{table}");
    }

    #[test]
    fn headline_table_marks_missing_outcomes() {
        let mut b = variant();
        b.tables.outcome_by.remove(0);
        let table = headline_table(&[baseline(), b]);
        let clash = table.lines().find(|l| l.starts_with("Armed clash")).unwrap();
        assert!(clash.trim_end().ends_with('-'), "{table}");
    }

    #[test]
    fn report_is_deterministic_self_contained_and_escaped() {
        let summaries = [baseline(), variant()];
        let page = render_report(&summaries).unwrap();
        assert_eq!(page, render_report(&summaries).unwrap());
        assert!(!page.contains("<script"));
        assert!(!page.contains("http://") && !page.contains("https://"));
        assert!(page.contains("<h2>Baseline &lt;May 2025&gt;</h2>"));
        assert!(page.contains("Seoul&#39;s aid &lt;non-lethal&gt; &amp; watched."));
        assert!(page.contains("<td>Talks &lt;open&gt; &amp; &quot;hold&quot;</td>"));
        assert!(!page.contains("Baseline <May"));
        // Parameters, headline numbers with run counts, and every chart inlined.
        assert!(page.contains("<td>pert(0.01, 0.03, 0.08) per step</td>"));
        assert!(page.contains("<td class=\"num\">15.0%</td><td class=\"num\">[14.5, 15.6]</td>"));
        assert!(page.contains("3,000 of 20,000"));
        assert_eq!(page.matches("<svg").count(), 2 * 4 + 6);
        assert!(page.contains("<span class=\"diff\">+4.5 pp</span>"));
        assert!(page.contains("id=\"comparison\""));
        assert!(page.contains("<figure id=\"chart-baseline-escalation\">\n<svg width="));
        assert!(page.contains("<figure id=\"chart-compare_horizon\">"));
    }

    #[test]
    fn report_for_one_scenario_has_no_comparison() {
        let page = render_report(&[baseline()]).unwrap();
        assert!(!page.contains("id=\"comparison\""));
        assert_eq!(page.matches("<svg").count(), 4);
    }

    #[test]
    fn report_explains_refused_comparison() {
        let longer = synthetic_summary("longer", "Three years", 36, 0.0);
        let page = render_report(&[baseline(), longer]).unwrap();
        assert!(page.contains("These scenarios are not compared: cannot compare scenario"));
        assert_eq!(page.matches("<svg").count(), 8);
    }

    #[test]
    fn write_report_writes_index_html() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_report(&[baseline(), variant()], dir.path()).unwrap();
        assert_eq!(path, dir.path().join("index.html"));
        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(written, render_report(&[baseline(), variant()]).unwrap());
    }

    /// Writes the report to /tmp/sim-plot-check/index.html for looking at.
    #[test]
    #[ignore]
    fn render_report_for_inspection() {
        let a = synthetic_summary("baseline", "Baseline: the situation as of May 2025", 36, 0.0);
        let b = synthetic_summary("lethal_aid", "Seoul sends lethal arms to Kyiv", 36, 0.3);
        let out = Path::new("/tmp/sim-plot-check");
        std::fs::create_dir_all(out).unwrap();
        std::fs::write(out.join("headline.txt"), headline_table(&[a.clone(), b.clone()])).unwrap();
        write_report(&[a, b], out).unwrap();
    }
}
