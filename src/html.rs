//! The report: [`Summary`] values in, one self-contained `index.html` and a terminal table out.
//!
//! In: the summaries of one run as a [`Comparison`] (which also says, decided once, whether they
//! can be compared), and the SVG charts [`crate::plot`] renders from them. The charts are
//! rendered again in memory rather than read back from disk, so the page never depends on which
//! files an earlier step left behind. Numbers are written by [`crate::format`], as on the charts.
//! Out: `out_dir/index.html`, every chart inlined, with no script, no network reference and no
//! timestamp (the same summaries give the same bytes), and the headline numbers `sim run` prints
//! at the end: [`headline_table`], fitted to a terminal width, or [`headline_json`]. The first
//! summary is the baseline: the page opens with the comparison with it (the table; when variants
//! ran on the baseline's runs, the forest plots and what the pairing gains, from `pairing`; the
//! overlays; each outcome's difference over time), then has one section per scenario, a
//! variant's saying what it changes in its base and, when it was simulated paired with the
//! baseline, in which runs its outcomes differ (`html/discordant`).

use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::aggregate::difference::{PairedCounts, paired_difference};
use crate::aggregate::{Estimate, PairedSeries, PairedTables, Series, Summary};
use crate::comparable::Comparison;
use crate::format::{
    describe_horizon, difference_interval_pp, difference_pp, estimate_text, horizon_label, interval_text, percent,
    percent_decimals, thousands,
};
use crate::output::write_atomic;
use crate::plot::{render_comparison_svgs, render_svg_charts};

mod discordant;
mod pairing;
mod sensitivity;
pub mod sweep;
mod why;

/// Writes `out_dir/index.html` and returns its path.
pub fn write_report(comparison: &Comparison, out_dir: &Path) -> Result<PathBuf> {
    let path = out_dir.join("index.html");
    write_atomic(&path, render_report(comparison)?.as_bytes())?;
    Ok(path)
}

// ---------------------------------------------------------------------------------------------
// Rows shared by the terminal table and the page.
// ---------------------------------------------------------------------------------------------

/// One quantity across scenarios: `cells[i]` is scenario `i`'s estimate at the horizon with its
/// percent decimals, `None` when that scenario does not define it; `both[i]`, when scenario `i`
/// was simulated paired with the first, the runs where the quantity happened in both by the
/// horizon, and its run count.
struct Row {
    label: String,
    cells: Vec<Option<(Estimate, u32)>>,
    both: Vec<Option<(u64, u64)>>,
}

/// Rows for every series id of `table` in any scenario, in order of first appearance; a row's
/// label is taken from the first scenario that defines it. `paired` is the table of the same
/// quantity in a variant's paired counts.
fn rows(
    summaries: &[Summary],
    table: fn(&Summary) -> &[Series],
    paired: fn(&PairedTables) -> &[PairedSeries],
) -> Vec<Row> {
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
            both: summaries
                .iter()
                .map(|s| {
                    let pairs = s.paired_with(summaries.first()?)?;
                    let series = paired(pairs).iter().find(|series| series.id == id)?;
                    Some((*series.both.last()?, s.runs))
                })
                .collect(),
        })
        .collect()
}

/// Scenario `index`'s difference from the first scenario, when both have the quantity, at the
/// precision of the less precise of the two; with its paired 95% interval when the two were
/// simulated on the same runs (the exact difference of the counts then, which the interval
/// contains, rather than that of the rounded probabilities).
fn difference(row: &Row, index: usize) -> Option<String> {
    let (diff, interval) = difference_parts(row, index)?;
    Some(match interval {
        Some(interval) => format!("{diff} {interval}"),
        None => diff,
    })
}

/// [`difference`] as the difference and, when paired, its interval apart, so that the page can
/// put them on two lines.
fn difference_parts(row: &Row, index: usize) -> Option<(String, Option<String>)> {
    if index == 0 {
        return None;
    }
    let (base, base_decimals) = row.cells.first().copied().flatten()?;
    let (other, decimals) = row.cells.get(index).copied().flatten()?;
    let decimals = decimals.min(base_decimals);
    let paired = row.both.get(index).copied().flatten().and_then(|(both, runs)| {
        let counts = PairedCounts::from_margins(both, other.count, base.count, runs)?;
        let d = paired_difference(counts);
        let exact = |count: u64| count as f64 / runs as f64;
        Some((
            difference_pp(exact(other.count), exact(base.count), decimals),
            Some(difference_interval_pp(d.lo, d.hi, decimals)),
        ))
    });
    Some(paired.unwrap_or_else(|| (difference_pp(other.p, base.p, decimals), None)))
}

// ---------------------------------------------------------------------------------------------
// Terminal table.
// ---------------------------------------------------------------------------------------------

/// `20,000 runs`, `1 run`.
fn runs_text(runs: u64) -> String {
    format!("{} run{}", thousands(runs), if runs == 1 { "" } else { "s" })
}

/// `P(outcome by 2028-05)`, or `by the horizon` when the scenarios' horizons end at different
/// steps (each scenario then says where its own ends).
fn headline_title(summaries: &[Summary]) -> String {
    let labels: Vec<String> = summaries.iter().map(|s| horizon_label(&s.scenario)).collect();
    match labels.first() {
        Some(first) if labels.iter().all(|l| l == first) => format!("P(outcome by {first}), 95% interval"),
        _ => "P(outcome by the horizon), 95% interval".to_string(),
    }
}

/// Plain-text table of each outcome's P(by the horizon) with its 95% interval, fitted to
/// `width` columns. One row per outcome and one column per scenario when that fits; otherwise
/// one block per scenario, its outcomes one per line. Scenarios after the first (the baseline)
/// show their difference from it in percentage points (left out when the scenarios are not
/// comparable).
pub fn headline_table(comparison: &Comparison, width: usize) -> String {
    let summaries = comparison.summaries();
    let Some(first) = summaries.first() else {
        return String::new();
    };
    let comparable = comparison.verdict();
    let same_horizon = summaries
        .iter()
        .all(|s| horizon_label(&s.scenario) == horizon_label(&first.scenario));
    let mut text = format!("{}\n", headline_title(summaries));
    let rows = rows(summaries, Summary::outcome_table, |p| &p.outcome_by);
    let about = |s: &Summary| {
        let mut about = format!("{}, seed {}", runs_text(s.runs), s.seed);
        if !same_horizon {
            about.push_str(&format!(", by {}", horizon_label(&s.scenario)));
        }
        about
    };
    let cell = |row: &Row, i: usize| match &row.cells[i] {
        None => "-".to_string(),
        Some((estimate, decimals)) => {
            let mut shown = estimate_text(estimate, *decimals);
            if let Some(diff) = difference(row, i).filter(|_| comparable.is_ok()) {
                shown.push_str(&format!("  {diff}"));
            }
            shown
        }
    };
    let mut grid: Vec<Vec<String>> = vec![
        std::iter::once(String::new())
            .chain(summaries.iter().map(|s| s.scenario.name.clone()))
            .collect(),
        std::iter::once(String::new())
            .chain(summaries.iter().map(about))
            .collect(),
    ];
    for row in &rows {
        grid.push(
            std::iter::once(row.label.clone())
                .chain((0..summaries.len()).map(|i| cell(row, i)))
                .collect(),
        );
    }
    let wide = align(&grid);
    if wide.lines().all(|line| line.chars().count() <= width) {
        text.push_str(&wide);
    } else {
        for (i, summary) in summaries.iter().enumerate() {
            let heading = format!("{} ({})", summary.scenario.name, about(summary));
            text.push('\n');
            text.push_str(&fit(&heading, width));
            text.push('\n');
            let numbers: Vec<Vec<String>> = rows
                .iter()
                .map(|row| {
                    let Some((estimate, decimals)) = &row.cells[i] else {
                        return vec!["-".to_string()];
                    };
                    let diff = difference(row, i).filter(|_| comparable.is_ok());
                    std::iter::once(estimate_text(estimate, *decimals))
                        .chain(diff)
                        .collect()
                })
                .collect();
            let values = align(&numbers).lines().map(|l| l.chars().count()).max().unwrap_or(0);
            // Labels give way to the numbers: they are cut, the numbers never.
            let room = width.saturating_sub(values + 3).max(12);
            let block: Vec<Vec<String>> = rows
                .iter()
                .zip(numbers)
                .map(|(row, numbers)| {
                    std::iter::once(fit(&format!("  {}", row.label), room))
                        .chain(numbers)
                        .collect()
                })
                .collect();
            text.push_str(&align(&block));
        }
    }
    if rows.is_empty() {
        text.push_str("(no outcomes defined)\n");
    }
    if let Err(reason) = comparable {
        text.push_str(&format!("differences not shown: {reason}\n"));
    }
    text
}

/// `text` cut to `width` characters, ending in `…` when cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('\u{2026}');
    cut
}

/// The headline numbers as JSON (the shape is documented in docs/cli.md): per scenario, each
/// outcome's count, P and 95% interval at the horizon, and its difference from the baseline
/// (the first summary) as a fraction, computed from the counts.
pub fn headline_json(comparison: &Comparison) -> String {
    use serde_json::{Value, json};
    let summaries = comparison.summaries();
    let comparable = comparison.verdict().is_ok();
    let base = summaries.first();
    let scenarios: Vec<Value> = summaries
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let outcomes: Vec<Value> = s
                .outcome_table()
                .iter()
                .filter_map(|series| {
                    let e = series.points.last()?;
                    let exact = |e: &Estimate, runs: u64| e.count as f64 / runs.max(1) as f64;
                    let difference = base.filter(|_| i > 0 && comparable).and_then(|b| {
                        let theirs = b.outcome_table().iter().find(|o| o.id == series.id)?;
                        Some(exact(e, s.runs) - exact(theirs.points.last()?, b.runs))
                    });
                    Some(json!({
                        "id": series.id,
                        "label": series.label,
                        "count": e.count,
                        "p": e.p,
                        "lo95": e.lo,
                        "hi95": e.hi,
                        "difference": difference,
                    }))
                })
                .collect();
            json!({
                "id": s.scenario.id,
                "name": s.scenario.name,
                "runs": s.runs,
                "seed": s.seed,
                "horizon": horizon_label(&s.scenario),
                "input_digest": s.input_digest,
                "tallies_digest": s.tallies_digest,
                "outcomes": outcomes,
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&json!({
        "baseline": base.map(|b| b.scenario.id.clone()),
        "comparable": comparable,
        "scenarios": scenarios,
    }))
    .expect("JSON values always serialize");
    text.push('\n');
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
.ci{display:block;font-size:82%;color:#555}
.wide{overflow-x:auto;max-width:100%}
.compare td,.compare th{padding:4px 8px 4px 0}
.compare .num{padding-left:8px}
.compare th.num{min-width:6.5em}
.variant{background:#f6f6f6;border-left:4px solid #999;padding:6px 12px;margin:8px 0}
.variant p{margin:2px 0}
.variant ul{margin:4px 0;padding-left:20px}
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
pub fn render_report(comparison: &Comparison) -> Result<String> {
    let summaries = comparison.summaries();
    let mut page = String::new();
    write_head(&mut page, summaries)?;
    // The comparison answers the question a study is run for, so it comes before the detail.
    if summaries.len() >= 2 {
        write_comparison(&mut page, comparison)?;
    }
    for summary in summaries {
        write_scenario(&mut page, summary, summaries)?;
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
    if summaries.len() >= 2 {
        writeln!(page, "<li><a href=\"#comparison\">Comparison</a></li>")?;
    }
    for summary in summaries {
        writeln!(
            page,
            "<li><a href=\"#scenario-{}\">{}</a></li>",
            escape(&summary.scenario.id),
            escape(&summary.scenario.name)
        )?;
    }
    writeln!(page, "</ul></nav>\n</header>\n<main>")
}

fn write_scenario(page: &mut String, summary: &Summary, all: &[Summary]) -> Result<()> {
    let info = &summary.scenario;
    writeln!(page, "<section id=\"scenario-{}\">", escape(&info.id))?;
    writeln!(page, "<h2>{}</h2>", escape(&info.name))?;
    write_variant(page, summary, all)?;
    if !info.description.is_empty() {
        writeln!(page, "<p>{}</p>", escape(&info.description))?;
    }
    writeln!(
        page,
        "<p class=\"meta\">{}, seed {}; horizon {}; ladder {}; input digest <code>{}</code></p>",
        runs_text(summary.runs),
        summary.seed,
        escape(&describe_horizon(info)),
        escape(&info.levels.join(" \u{2192} ")),
        escape(&summary.input_digest)
    )?;
    let horizon = escape(&horizon_label(info));
    writeln!(page, "<h3>Headline: by {horizon}</h3>")?;
    write_estimates(page, summary, "Outcome", summary.outcome_table(), &horizon)?;
    sensitivity::write_sensitivity(page, summary)?;
    why::write_paths(page, summary)?;
    write_estimates(page, summary, "Rung reached", summary.rung_table(), &horizon)?;
    discordant::write_discordant(page, summary, all)?;
    write_params(page, summary)?;
    writeln!(page, "<h3>Charts</h3>")?;
    for (name, svg) in render_svg_charts(summary)? {
        write_figure(page, &format!("{}-{name}", info.id), &svg)?;
    }
    writeln!(page, "</section>")?;
    Ok(())
}

/// For a variant, right under its title: its base (linked when in the report) and what it
/// changes in it.
fn write_variant(page: &mut String, summary: &Summary, all: &[Summary]) -> std::fmt::Result {
    let Some(variant) = &summary.scenario.variant else {
        return Ok(());
    };
    let base = match all.iter().find(|s| s.scenario.id == variant.base) {
        Some(base) => format!(
            "<a href=\"#scenario-{}\">{}</a>",
            escape(&base.scenario.id),
            escape(&base.scenario.name)
        ),
        None => format!("<code>{}</code>", escape(&variant.base)),
    };
    if variant.changes.is_empty() {
        return writeln!(
            page,
            "<p class=\"variant\">Variant of {base}, with no change to it.</p>"
        );
    }
    writeln!(
        page,
        "<div class=\"variant\"><p>Variant of {base}. It changes:</p>\n<ul>"
    )?;
    for change in &variant.changes {
        writeln!(page, "<li>{}</li>", code_spans(change))?;
    }
    writeln!(page, "</ul></div>")
}

/// Escapes a change line and shows its `quoted` names as code.
fn code_spans(text: &str) -> String {
    escape(text)
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_string()
            }
        })
        .collect()
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

fn write_comparison(page: &mut String, comparison: &Comparison) -> Result<()> {
    let summaries = comparison.summaries();
    writeln!(page, "<section id=\"comparison\">\n<h2>Comparison</h2>")?;
    if let Err(reason) = comparison.verdict() {
        writeln!(
            page,
            "<p>These scenarios are not compared: {}.</p>\n</section>",
            escape(&reason.to_string())
        )?;
        return Ok(());
    }
    let horizon = summaries
        .first()
        .map(|s| escape(&horizon_label(&s.scenario)))
        .unwrap_or_default();
    let baseline = summaries.first().map(|s| escape(&s.scenario.name)).unwrap_or_default();
    writeln!(
        page,
        "<p>P(by {horizon}) with 95% intervals; below each other scenario's value, its difference \
         from the baseline, {baseline}, in percentage points{paired}.</p>",
        paired = if summaries
            .split_first()
            .is_some_and(|(base, rest)| rest.iter().any(|s| s.paired_with(base).is_some()))
        {
            ", with its paired 95% interval where the scenario ran on the baseline's random numbers \
             run by run (<code>compare/differences.csv</code> has every step)"
        } else {
            ""
        }
    )?;
    write_comparison_table(
        page,
        summaries,
        "Outcome",
        &rows(summaries, Summary::outcome_table, |p| &p.outcome_by),
    )?;
    write_comparison_table(
        page,
        summaries,
        "Rung reached",
        &rows(summaries, Summary::rung_table, |p| &p.rung_reached),
    )?;
    let (differences, overlays): (Vec<_>, Vec<_>) = render_comparison_svgs(comparison)?
        .into_iter()
        .partition(|(name, _)| pairing::is_difference_chart(name));
    pairing::write_pairing(page, summaries, &differences)?;
    if !differences.is_empty() {
        writeln!(page, "<h3>The scenarios side by side</h3>")?;
    }
    for (name, svg) in &overlays {
        write_figure(page, name, svg)?;
    }
    pairing::write_differences_over_time(page, &differences)?;
    writeln!(page, "</section>")?;
    Ok(())
}

fn write_comparison_table(page: &mut String, summaries: &[Summary], what: &str, rows: &[Row]) -> std::fmt::Result {
    if rows.is_empty() {
        return Ok(());
    }
    // Each number on a line of its own, the intervals smaller: six scenarios side by side fit
    // a 900-pixel window; a wider comparison scrolls inside its box, not the page.
    write!(
        page,
        "<div class=\"wide\">\n<table class=\"compare\">\n<thead><tr><th>{what}</th>"
    )?;
    for summary in summaries {
        write!(
            page,
            "<th class=\"num\">{}<br>{}</th>",
            escape(&summary.scenario.name),
            runs_text(summary.runs)
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
            write!(
                page,
                "<td class=\"num\">{}<span class=\"ci\">{}</span>",
                percent(estimate.p, *decimals),
                interval_text(estimate, *decimals)
            )?;
            if let Some((diff, interval)) = difference_parts(row, i) {
                write!(page, "<span class=\"diff\">{diff}")?;
                if let Some(interval) = interval {
                    write!(page, "<span class=\"ci\">{interval}</span>")?;
                }
                write!(page, "</span>")?;
            }
            write!(page, "</td>")?;
        }
        writeln!(page, "</tr>")?;
    }
    writeln!(page, "</tbody>\n</table>\n</div>")
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
        let table = headline_table(&Comparison::new(&[baseline(), variant()]), usize::MAX);
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
        let single = headline_table(&Comparison::new(&[baseline()]), usize::MAX);
        assert!(
            single.contains("15.0% [14.5, 15.6]") && !single.contains(" pp"),
            "{single}"
        );
        assert_eq!(headline_table(&Comparison::new(&[]), 100), "");

        let mut no_outcomes = baseline();
        no_outcomes.tables.outcome_by.clear();
        assert!(headline_table(&Comparison::new(&[no_outcomes]), 100).contains("(no outcomes defined)"));

        let longer = synthetic_summary("longer", "Three years", 36, 0.0);
        let table = headline_table(&Comparison::new(&[baseline(), longer]), usize::MAX);
        assert!(!table.contains(" pp"), "{table}");
        assert!(table.contains("differences not shown: cannot compare"), "{table}");
    }

    #[test]
    fn headline_table_marks_missing_outcomes() {
        let mut b = variant();
        b.tables.outcome_by.remove(0);
        let table = headline_table(&Comparison::new(&[baseline(), b]), usize::MAX);
        let clash = table.lines().find(|l| l.starts_with("Armed clash")).unwrap();
        assert!(clash.trim_end().ends_with('-'), "{table}");
    }

    #[test]
    fn report_is_deterministic_self_contained_and_escaped() {
        let summaries = [baseline(), variant()];
        let page = render_report(&Comparison::new(&summaries)).unwrap();
        assert_eq!(page, render_report(&Comparison::new(&summaries)).unwrap());
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
        let page = render_report(&Comparison::new(&[baseline()])).unwrap();
        assert!(!page.contains("id=\"comparison\""));
        assert_eq!(page.matches("<svg").count(), 4);
    }

    #[test]
    fn report_explains_refused_comparison() {
        let longer = synthetic_summary("longer", "Three years", 36, 0.0);
        let page = render_report(&Comparison::new(&[baseline(), longer])).unwrap();
        assert!(page.contains("These scenarios are not compared: cannot compare scenario"));
        assert_eq!(page.matches("<svg").count(), 8);
    }

    #[test]
    fn write_report_writes_index_html() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_report(&Comparison::new(&[baseline(), variant()]), dir.path()).unwrap();
        assert_eq!(path, dir.path().join("index.html"));
        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            written,
            render_report(&Comparison::new(&[baseline(), variant()])).unwrap()
        );
    }

    #[test]
    fn report_puts_the_comparison_first_and_says_what_a_variant_changes() {
        let mut changed = variant();
        changed.scenario.variant = Some(crate::model::VariantInfo {
            base: "baseline".into(),
            changes: vec!["param `p_arms` = 0.2 (base: 0.1)".into(), "trigger `t` removed".into()],
        });
        let page = render_report(&Comparison::new(&[baseline(), changed])).unwrap();
        let comparison = page.find("<section id=\"comparison\">").unwrap();
        assert!(comparison < page.find("<section id=\"scenario-baseline\">").unwrap());
        let section = page.find("<section id=\"scenario-lethal_aid\">").unwrap();
        let note = page
            .find("Variant of <a href=\"#scenario-baseline\">Baseline &lt;May 2025&gt;</a>")
            .unwrap();
        assert!(note > section && note < page[section..].find("Headline").unwrap() + section);
        assert!(page.contains("<li>param <code>p_arms</code> = 0.2 (base: 0.1)</li>"));
        assert!(page.contains("<li>trigger <code>t</code> removed</li>"));
    }

    #[test]
    fn a_narrow_headline_table_has_one_block_per_scenario() {
        let wide = headline_table(&Comparison::new(&[baseline(), variant()]), usize::MAX);
        let narrow = headline_table(&Comparison::new(&[baseline(), variant()]), 50);
        assert!(wide.lines().any(|l| l.chars().count() > 50));
        assert!(narrow.lines().all(|l| l.chars().count() <= 50), "{narrow}");
        assert!(
            narrow.contains("\nSeoul sends lethal aid (20,000 runs, seed 2025)\n"),
            "{narrow}"
        );
        assert!(narrow.contains("19.5% [18.9, 20.1]   +4.5 pp"), "{narrow}");
        assert_eq!(narrow.matches(" pp").count(), wide.matches(" pp").count());
        // Different horizons: the title does not claim one date for all.
        let longer = synthetic_summary("longer", "Three years", 36, 0.0);
        let mixed = headline_table(&Comparison::new(&[baseline(), longer]), 100);
        assert!(mixed.starts_with("P(outcome by the horizon)"), "{mixed}");
        assert!(mixed.contains("by 2026-05") && mixed.contains("by 2028-05"), "{mixed}");
    }

    /// Writes the report to /tmp/sim-plot-check/index.html for looking at.
    #[test]
    #[ignore]
    fn render_report_for_inspection() {
        let a = synthetic_summary("baseline", "Baseline: the situation as of May 2025", 36, 0.0);
        let b = synthetic_summary("lethal_aid", "Seoul sends lethal arms to Kyiv", 36, 0.3);
        let out = Path::new("/tmp/sim-plot-check");
        std::fs::create_dir_all(out).unwrap();
        std::fs::write(
            out.join("headline.txt"),
            headline_table(&Comparison::new(&[a.clone(), b.clone()]), 100),
        )
        .unwrap();
        write_report(&Comparison::new(&[a, b]), out).unwrap();
    }
}
