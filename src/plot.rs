//! Charts: [`Summary`] values in, PNG, SVG and CSV files out.
//!
//! In: one [`Summary`] per scenario, or a [`Comparison`] of several summaries whose horizons and
//! ladders line up (checked once, by [`crate::comparable`]) with the index of the comparison's
//! baseline. Out: each chart as `NAME.svg` and `NAME.png` (1200x700; a forest plot is as tall as
//! its rows need) and its plotted numbers as `NAME.csv`, written with [`write_atomic`], or as SVG
//! strings for the HTML report.
//!
//! When variants ran on the baseline's runs (`Summary::paired`), the comparison also gets the
//! difference charts: [`difference`] pulls each paired variant's difference and its paired 95%
//! interval out of the counts, and the forest plots (`forest_outcomes`, `forest_rungs`) and each
//! outcome's difference over time (`difference_outcome_<id>`) are drawn from them.
//!
//! A chart is made in two steps. Small pure functions in [`data`] ([`data::escalation_series`],
//! [`data::trigger_bars`], ...) pull the plotted numbers out of the summary (`count / runs` and
//! the unrounded Wilson interval, never the rounded values), and `chart` lays them out as a
//! backend-neutral `Chart` (titles, axes, legends, styles from `style`, and its CSV); then
//! `render` draws the `Chart` as SVG with plotters and rasterizes that SVG into the PNG with
//! resvg. Numbers are written as the report writes them ([`crate::format`]). Tornado charts (an
//! outcome's sensitivity to each param) have their own description, [`tornado`], and drawing,
//! `tornado_render`; so do a sweep's response curves and heat maps, [`sweep`] and
//! `sweep_render`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rayon::prelude::*;

use crate::aggregate::Summary;
use crate::comparable::Comparison;
use crate::output::write_atomic;

mod chart;
pub mod data;
pub mod difference;
#[cfg(test)]
pub(crate) mod difference_tests;
mod lift;
mod render;
mod style;
pub mod sweep;
mod sweep_render;
#[cfg(test)]
pub(crate) mod tests;
pub mod tornado;
mod tornado_render;

use chart::{Chart, chart_csv, comparison_charts, scenario_charts};
use render::{rasterize, render_svg};

/// Pixel size of every chart, PNG and SVG alike.
pub const CHART_SIZE: (u32, u32) = (1200, 700);

/// Writes `escalation`, `ladder`, `outcomes` and `triggers` as PNG, SVG and CSV (the plotted
/// numbers) into `dir`, then a tornado per outcome when the summary has sensitivity tables
/// (`tornado_<outcome id>`); returns the paths written, in that order (PNG, SVG, CSV).
pub fn write_scenario_charts(summary: &Summary, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut written = write_charts(&scenario_charts(summary), dir)?;
    written.extend(write_tornadoes(summary, dir)?);
    Ok(written)
}

/// Each outcome's tornado as `(outcome id, SVG text)`, the same SVGs [`write_scenario_charts`]
/// writes; none without sensitivity tables.
pub fn render_tornado_svgs(summary: &Summary) -> Result<Vec<(String, String)>> {
    tornado::tornadoes(summary)
        .iter()
        .map(|t| Ok((t.outcome.clone(), tornado_render::render_tornado(t)?)))
        .collect()
}

fn write_tornadoes(summary: &Summary, dir: &Path) -> Result<Vec<PathBuf>> {
    let files: Vec<[(PathBuf, Vec<u8>); 3]> = tornado::tornadoes(summary)
        .par_iter()
        .map(|t| {
            let svg = tornado_render::render_tornado(t)?;
            let png = rasterize(&svg).with_context(|| format!("cannot draw chart `{}`", t.name))?;
            let file = |ext: &str| dir.join(format!("{}.{ext}", t.name));
            Ok([
                (file("png"), png),
                (file("svg"), svg.into_bytes()),
                (file("csv"), tornado::tornado_csv(t)?.into_bytes()),
            ])
        })
        .collect::<Result<_>>()?;
    let mut written = Vec::new();
    for (path, bytes) in files.into_iter().flatten() {
        write_atomic(&path, &bytes)?;
        written.push(path);
    }
    Ok(written)
}

/// Writes a sweep's charts into `dir` (the sweep's staging directory): `curve_<outcome id>` per
/// outcome of `info`, then for a grid `heatmap_<outcome id>` per outcome, each as PNG, SVG and
/// CSV; `params` names the swept settings, `levels` the thresholds (fractions). Returns each
/// chart as `(name, SVG text)`, in that order, for the sweep's report.
pub fn write_sweep_charts(
    info: &crate::model::ScenarioInfo,
    params: &[&str],
    cells: &[crate::sweep::Cell],
    levels: &[f64],
    (runs, seed): (u64, u64),
    dir: &Path,
) -> Result<Vec<(String, String)>> {
    let curves = sweep::curves(info, params, cells, levels, runs, seed);
    let maps = sweep::heatmaps(info, params, cells, runs, seed);
    let drawn = |name: &str, svg: Result<String>, csv: Result<String>| -> Result<(String, String, Vec<u8>, String)> {
        let svg = svg?;
        let png = rasterize(&svg).with_context(|| format!("cannot draw chart `{name}`"))?;
        Ok((name.to_string(), svg, png, csv?))
    };
    let mut charts: Vec<(String, String, Vec<u8>, String)> = curves
        .par_iter()
        .map(|c| drawn(&c.name, sweep_render::render_curve(c), sweep::curve_csv(c)))
        .collect::<Result<_>>()?;
    charts.extend(
        maps.par_iter()
            .map(|m| drawn(&m.name, sweep_render::render_heatmap(m), sweep::heatmap_csv(m)))
            .collect::<Result<Vec<_>>>()?,
    );
    let mut svgs = Vec::with_capacity(charts.len());
    for (name, svg, png, csv) in charts {
        let file = |ext: &str| dir.join(format!("{name}.{ext}"));
        write_atomic(&file("png"), &png)?;
        write_atomic(&file("svg"), svg.as_bytes())?;
        write_atomic(&file("csv"), csv.as_bytes())?;
        svgs.push((name, svg));
    }
    Ok(svgs)
}

/// The scenario's charts as `(name, SVG text)`, the same SVGs [`write_scenario_charts`] writes.
pub fn render_svg_charts(summary: &Summary) -> Result<Vec<(String, String)>> {
    render_svgs(&scenario_charts(summary))
}

/// [`write_comparison_against`] with the first summary as the baseline.
pub fn write_comparison(comparison: &Comparison, dir: &Path) -> Result<Vec<PathBuf>> {
    write_comparison_against(comparison, 0, dir)
}

/// Writes the comparison charts as PNG, SVG and CSV into `dir` (the caller's `output/compare`):
/// `compare_outcome_<id>` per shared outcome, `compare_rung_<level>` per shared rung, then
/// `compare_horizon`, then, when some variant ran on the baseline's runs, `forest_outcomes`,
/// `forest_rungs` and `difference_outcome_<id>` per outcome of the baseline.
/// `summaries[baseline]` is drawn as the baseline (black, thick, under the others); every
/// other scenario has the same style in every chart. Fails, writing nothing,
/// when the comparison's verdict refused the summaries.
pub fn write_comparison_against(comparison: &Comparison, baseline: usize, dir: &Path) -> Result<Vec<PathBuf>> {
    comparison
        .verdict()
        .map_err(|why| anyhow::Error::msg(why.to_string()))?;
    write_charts(&comparison_charts(comparison.summaries(), baseline), dir)
}

/// [`render_comparison_svgs_against`] with the first summary as the baseline.
pub fn render_comparison_svgs(comparison: &Comparison) -> Result<Vec<(String, String)>> {
    render_comparison_svgs_against(comparison, 0)
}

/// The comparison charts as `(name, SVG text)`, the same SVGs [`write_comparison_against`]
/// writes.
pub fn render_comparison_svgs_against(comparison: &Comparison, baseline: usize) -> Result<Vec<(String, String)>> {
    comparison
        .verdict()
        .map_err(|why| anyhow::Error::msg(why.to_string()))?;
    render_svgs(&comparison_charts(comparison.summaries(), baseline))
}

fn write_charts(charts: &[Chart], dir: &Path) -> Result<Vec<PathBuf>> {
    // Rasterizing is most of the time a chart takes, and charts are independent: they are drawn
    // in parallel, then written in order.
    let files: Vec<[(PathBuf, Vec<u8>); 3]> = charts
        .par_iter()
        .map(|chart| {
            let svg = render_svg(chart)?;
            let png = rasterize(&svg).with_context(|| format!("cannot draw chart `{}`", chart.name))?;
            let file = |ext: &str| dir.join(format!("{}.{ext}", chart.name));
            Ok([
                (file("png"), png),
                (file("svg"), svg.into_bytes()),
                (file("csv"), chart_csv(chart)?.into_bytes()),
            ])
        })
        .collect::<Result<_>>()?;
    let mut written = Vec::with_capacity(3 * charts.len());
    for (path, bytes) in files.into_iter().flatten() {
        write_atomic(&path, &bytes)?;
        written.push(path);
    }
    Ok(written)
}

fn render_svgs(charts: &[Chart]) -> Result<Vec<(String, String)>> {
    charts
        .iter()
        .map(|chart| Ok((chart.name.clone(), render_svg(chart)?)))
        .collect()
}
