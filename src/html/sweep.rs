//! The report of a sweep: the scenario, the swept settings, the cells of every point and the
//! charts' SVGs in; `<id>-sweep/index.html` out, self-contained like the run report (every chart
//! inlined, no script, no network reference, no timestamp): where each outcome crosses each
//! `--threshold`, then per outcome its response curve (and, for a grid, its heat map).

use std::fmt::Write;

use super::{STYLE, escape};
use crate::format::thousands;
use crate::model::ScenarioInfo;
use crate::sweep::{Cell, crossings, describe};

/// What a sweep's report shows besides its cells.
pub struct SweepPage<'a> {
    pub info: &'a ScenarioInfo,
    /// The swept settings, in `--param` order, with their first and last values and point counts.
    pub axes: Vec<(&'a str, f64, f64, usize)>,
    pub levels: &'a [f64],
    pub runs: u64,
    pub seed: u64,
    pub engine: &'a str,
    /// The charts as (file name without extension, SVG text).
    pub svgs: &'a [(String, String)],
}

/// The whole page.
pub fn sweep_report(page: &SweepPage<'_>, cells: &[Cell]) -> Result<String, std::fmt::Error> {
    let info = page.info;
    let mut out = String::new();
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>sim sweep: {}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>",
        escape(&info.name)
    )?;
    writeln!(out, "<h1>Sweep of {}</h1>", escape(&info.name))?;
    let settings: Vec<String> = page
        .axes
        .iter()
        .map(|(name, from, to, points)| format!("<code>{}</code> from {from} to {to} in {points} points", escape(name)))
        .collect();
    writeln!(
        out,
        "<p class=\"meta\">Produced by {}. {}; {} runs per point, seed {}. Every point runs on the \
         same random numbers, run by run (common random numbers), so the differences between \
         points are the settings' doing, not noise. Probabilities are P(held by the horizon, {}) \
         with 95% Wilson intervals; <code>sweep.csv</code> has every point, outcome and rung.</p>",
        escape(page.engine),
        settings.join(" × "),
        thousands(page.runs),
        page.seed,
        escape(info.step_labels.last().map(String::as_str).unwrap_or("the horizon"))
    )?;
    let (first_name, first_value) = (page.axes[0].0, page.axes[0].1);
    if !page.levels.is_empty() {
        writeln!(out, "<h2>Thresholds</h2>")?;
        writeln!(
            out,
            "<table>\n<tr><th>Outcome</th><th>Where the sweep of <code>{}</code> crosses</th></tr>",
            escape(first_name)
        )?;
        for &level in page.levels {
            for (kind, _, label, second, crossing) in crossings(cells, level) {
                if kind != "outcome" {
                    continue;
                }
                let at = match (second, page.axes.get(1)) {
                    (Some(v), Some((name, ..))) => format!(" (at {} = {v})", escape(name)),
                    _ => String::new(),
                };
                writeln!(
                    out,
                    "<tr><td>{}</td><td>{}{at}</td></tr>",
                    escape(&label),
                    escape(&describe(&crossing, level, first_name, first_value))
                )?;
            }
        }
        writeln!(out, "</table>")?;
    }
    writeln!(out, "<h2>Outcomes</h2>")?;
    for outcome in &info.outcomes {
        writeln!(out, "<h3>{}</h3>", escape(&outcome.label))?;
        for prefix in ["curve_", "heatmap_"] {
            let name = format!("{prefix}{}", outcome.id);
            if let Some((_, svg)) = page.svgs.iter().find(|(n, _)| *n == name) {
                // As in the run report: no namespace URL, which a reader might take for a fetch.
                let inline = svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
                writeln!(out, "<figure id=\"chart-{}\">\n{inline}</figure>", escape(&name))?;
            }
        }
    }
    writeln!(out, "</main>\n</body>\n</html>")?;
    Ok(out)
}
