//! Drawing a sweep's [`Curve`] and [`Heatmap`]: SVG text with plotters (the PNG is that SVG
//! rasterized by `render::rasterize`, as for every chart).
//!
//! A curve: the swept value across, P by the horizon (%) up; each line its estimates joined with
//! markers over its shaded 95% band (one colour per value of a grid's second axis), each
//! threshold a dashed horizontal line, and where a line crosses it an open ring with, for a
//! single line, the interpolated value written beside it. A heat map: one cell per point, its
//! colour on a sequential ramp (light to dark as P rises) explained by a colour bar on the
//! right, its percentage printed inside when the grid has at most
//! [`MAX_LABELLED`](super::sweep::MAX_LABELLED) columns and rows.

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::CHART_SIZE;
use super::render::{FONT, fit, register_font};
use super::style::{AXIS, GRID, MUTED_TEXT, PALETTE, TEXT};
use super::sweep::{Curve, Heatmap, MAX_LABELLED, short};

const MARGIN: i32 = 28;
const PLOT_TOP: i32 = 140;
const PLOT_BOTTOM: i32 = 600;
/// ColorBrewer YlGnBu (9 classes): ordered in lightness, colour-blind safe, dark for likely.
const RAMP: [RGBColor; 9] = [
    RGBColor(0xff, 0xff, 0xd9),
    RGBColor(0xed, 0xf8, 0xb1),
    RGBColor(0xc7, 0xe9, 0xb4),
    RGBColor(0x7f, 0xcd, 0xbb),
    RGBColor(0x41, 0xb6, 0xc4),
    RGBColor(0x1d, 0x91, 0xc0),
    RGBColor(0x22, 0x5e, 0xa8),
    RGBColor(0x25, 0x34, 0x94),
    RGBColor(0x08, 0x1d, 0x58),
];

fn svg_of(name: &str, draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), String>) -> Result<String> {
    register_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        draw(&root).map_err(|e| anyhow!("cannot draw chart `{name}`: {e}"))?;
    }
    Ok(svg)
}

pub(super) fn render_curve(curve: &Curve) -> Result<String> {
    svg_of(&curve.name, |root| draw_curve(root, curve).map_err(|e| e.to_string()))
}

pub(super) fn render_heatmap(map: &Heatmap) -> Result<String> {
    svg_of(&map.name, |root| draw_heatmap(root, map).map_err(|e| e.to_string()))
}

fn style(size: f64, colour: &RGBColor) -> TextStyle<'_> {
    TextStyle::from((FONT, size).into_font()).color(colour)
}

/// A round step for about `ticks` ticks over `span`.
fn step_for(span: f64, ticks: f64) -> f64 {
    let raw = (span / ticks).max(f64::MIN_POSITIVE);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
}

/// Decimals that tell ticks `step` apart.
fn decimals(step: f64) -> usize {
    (-(step.log10().floor()) as i32).max(0) as usize
        + usize::from((step / 10f64.powf(step.log10().floor()) - 2.5).abs() < 1e-9)
}

/// Title and subtitle, each cut to the width.
fn header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let width = CHART_SIZE.0 as i32;
    let big = style(29.0, &TEXT);
    let small = style(17.0, &MUTED_TEXT);
    let fits = |s: &TextStyle, text: &str| {
        fit(text, (width - 2 * MARGIN) as u32, |t| {
            root.estimate_text_size(t, s).map_or(0, |(w, _)| w)
        })
    };
    root.draw_text(&fits(&big, title), &big, (MARGIN, 18))?;
    root.draw_text(&fits(&small, subtitle), &small, (MARGIN, 62))?;
    Ok(())
}

fn draw_curve<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    curve: &Curve,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    header(root, &curve.title, &curve.subtitle)?;
    let width = CHART_SIZE.0 as i32;
    let label = style(18.0, &TEXT);
    let measure = |text: &str| root.estimate_text_size(text, &label).map_or(0, |(w, _)| w as i32);
    let colour = |i: usize| PALETTE[i % PALETTE.len()];

    // Legend: one entry per line of a grid, or what the line and band are; then the thresholds.
    let y = 104;
    let mut x = MARGIN;
    let mut entries: Vec<(Option<RGBColor>, String)> = match curve.lines.as_slice() {
        [only] if only.legend.is_none() => vec![(Some(colour(0)), "estimate and 95% interval".into())],
        lines => lines
            .iter()
            .enumerate()
            .map(|(i, l)| (Some(colour(i)), l.legend.clone().unwrap_or_default()))
            .collect(),
    };
    if !curve.levels.is_empty() {
        entries.push((None, "threshold".into()));
    }
    for (swatch, text) in entries {
        let needed = 34 + measure(&text) + 26;
        if x + needed > width - MARGIN {
            break;
        }
        match swatch {
            Some(c) => {
                root.draw(&Rectangle::new([(x, y - 7), (x + 26, y + 7)], c.mix(0.25).filled()))?;
                root.draw(&PathElement::new(vec![(x, y), (x + 26, y)], c.stroke_width(3)))?;
                root.draw(&Circle::new((x + 13, y), 4, c.filled()))?;
            }
            None => {
                root.draw(&plotters::element::DashedPathElement::new(
                    vec![(x, y), (x + 26, y)],
                    7,
                    4,
                    TEXT.stroke_width(2),
                ))?;
            }
        }
        root.draw_text(&text, &label.pos(Pos::new(HPos::Left, VPos::Center)), (x + 34, y))?;
        x += needed;
    }

    let xs = curve.lines.iter().flat_map(|l| l.points.iter().map(|p| p.x));
    let x_lo = xs.clone().fold(f64::INFINITY, f64::min);
    let x_hi = xs.fold(f64::NEG_INFINITY, f64::max);
    let top = curve
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.end.hi))
        .chain(curve.levels.iter().copied())
        .fold(0.0, f64::max);
    let y_step = step_for(top.max(1.0), 6.0);
    let y_hi = ((top * 1.04 / y_step).ceil() * y_step).min(100.0).max(y_step);
    let x_step = step_for(x_hi - x_lo, 8.0);
    let x_decimals = decimals(x_step);
    let y_decimals = decimals(y_step);

    let (_, body) = root.split_vertically(PLOT_TOP - 10);
    let body = body.margin(0, 10, MARGIN as u32, MARGIN as u32 + 10);
    let mut chart = ChartBuilder::on(&body)
        .x_label_area_size(70)
        .y_label_area_size(80)
        .build_cartesian_2d(x_lo..x_hi, 0.0..y_hi)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .axis_style(AXIS)
        .x_labels(((x_hi - x_lo) / x_step).round() as usize + 1)
        .y_labels((y_hi / y_step).round() as usize + 1)
        .x_label_formatter(&|v| format!("{v:.x_decimals$}"))
        .y_label_formatter(&|v| format!("{v:.y_decimals$}"))
        .x_label_style(style(17.0, &TEXT))
        .y_label_style(style(17.0, &TEXT))
        .x_desc(curve.params[0].as_str())
        .y_desc("P of the outcome by the horizon (%)")
        .axis_desc_style(style(19.0, &TEXT))
        .draw()?;

    // Bands first, all of them, so that no band hides another line.
    for (i, line) in curve.lines.iter().enumerate() {
        let band: Vec<(f64, f64)> = line
            .points
            .iter()
            .map(|p| (p.x, p.end.hi))
            .chain(line.points.iter().rev().map(|p| (p.x, p.end.lo)))
            .collect();
        chart.draw_series(std::iter::once(Polygon::new(band, colour(i).mix(0.2).filled())))?;
    }
    for &level in &curve.levels {
        chart.draw_series(DashedLineSeries::new(
            vec![(x_lo, level), (x_hi, level)],
            10,
            6,
            TEXT.stroke_width(2),
        ))?;
    }
    for (i, line) in curve.lines.iter().enumerate() {
        let c = colour(i);
        chart.draw_series(LineSeries::new(
            line.points.iter().map(|p| (p.x, p.end.p)),
            c.stroke_width(3),
        ))?;
        chart.draw_series(line.points.iter().map(|p| Circle::new((p.x, p.end.p), 5, c.filled())))?;
    }
    // Crossings over the lines: a ring at the level, and for a single line its value.
    let single = curve.lines.len() == 1;
    for line in &curve.lines {
        for (&level, crossing) in curve.levels.iter().zip(&line.crossings) {
            let Some(at) = crossing else { continue };
            chart.draw_series(std::iter::once(Circle::new((*at, level), 9, TEXT.stroke_width(3))))?;
            if single {
                let text = format!("{} ≈ {at:.prec$}", curve.params[0], prec = x_decimals + 1);
                let (px, py) = chart.backend_coord(&(*at, level));
                let right = px < width * 2 / 3;
                let pos = if right {
                    Pos::new(HPos::Left, VPos::Bottom)
                } else {
                    Pos::new(HPos::Right, VPos::Bottom)
                };
                let dx = if right { 12 } else { -12 };
                root.draw_text(&text, &label.pos(pos), (px + dx, py - 10))?;
            }
        }
    }
    Ok(())
}

/// The ramp's colour at `t` in [0, 1], interpolated between its classes.
fn ramp(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0) * (RAMP.len() - 1) as f64;
    let i = (t.floor() as usize).min(RAMP.len() - 2);
    let f = t - i as f64;
    let (a, b) = (RAMP[i], RAMP[i + 1]);
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

fn dark(c: RGBColor) -> bool {
    0.299 * f64::from(c.0) + 0.587 * f64::from(c.1) + 0.114 * f64::from(c.2) < 140.0
}

/// Labels of an axis of `n` values: every k-th, so that at most about `most` are written.
fn every(n: usize, most: usize) -> usize {
    n.div_ceil(most.max(1)).max(1)
}

fn draw_heatmap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    map: &Heatmap,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    header(root, &map.title, &map.subtitle)?;
    let width = CHART_SIZE.0 as i32;
    let label = style(17.0, &TEXT);
    let axis_title = style(19.0, &TEXT);
    let (nx, ny) = (map.xs.len().max(1) as i32, map.ys.len().max(1) as i32);

    // The colour scale: from the lowest to the highest estimate, widened to round steps.
    let ps = map.rows.iter().flatten().map(|e| e.p);
    let lo = ps.clone().fold(f64::INFINITY, f64::min);
    let hi = ps.fold(f64::NEG_INFINITY, f64::max);
    let step = step_for((hi - lo).max(0.5), 5.0);
    let (lo, hi) = (
        ((lo / step).floor() * step).max(0.0),
        ((hi / step).ceil() * step).min(100.0),
    );
    let hi = hi.max(lo + step);
    let t = |p: f64| (p - lo) / (hi - lo);

    let y_labels_width = map
        .ys
        .iter()
        .map(|&v| root.estimate_text_size(&short(v), &label).map_or(0, |(w, _)| w as i32))
        .max()
        .unwrap_or(0);
    let x0 = MARGIN + 34 + y_labels_width + 12;
    let x1 = width - MARGIN - 150;
    let (y0, y1) = (PLOT_TOP - 30, PLOT_BOTTOM);
    let cell_w = f64::from(x1 - x0) / f64::from(nx);
    let cell_h = f64::from(y1 - y0) / f64::from(ny);
    let cx = |i: i32| x0 + (f64::from(i) * cell_w).round() as i32;
    // The second axis rises upwards, as on the curve's y axis.
    let cy = |j: i32| y1 - (f64::from(j) * cell_h).round() as i32;
    let labelled = map.xs.len() <= MAX_LABELLED && map.ys.len() <= MAX_LABELLED;
    let cell_text = style(if cell_w.min(cell_h) > 60.0 { 18.0 } else { 15.0 }, &TEXT);
    let decimals = if hi - lo < 5.0 { 2 } else { 1 };
    for (j, row) in map.rows.iter().enumerate() {
        let j = j as i32;
        for (i, end) in row.iter().enumerate() {
            let i = i as i32;
            let fill = ramp(t(end.p));
            root.draw(&Rectangle::new([(cx(i), cy(j + 1)), (cx(i + 1), cy(j))], fill.filled()))?;
            if labelled {
                let colour = if dark(fill) { WHITE } else { TEXT };
                root.draw_text(
                    &format!("{:.decimals$}%", end.p),
                    &cell_text.color(&colour).pos(Pos::new(HPos::Center, VPos::Center)),
                    ((cx(i) + cx(i + 1)) / 2, (cy(j) + cy(j + 1)) / 2),
                )?;
            }
        }
    }
    root.draw(&Rectangle::new([(x0, y0), (x1, y1)], AXIS.stroke_width(1)))?;
    let k = every(map.xs.len(), 12);
    for (i, &v) in map.xs.iter().enumerate().filter(|(i, _)| i % k == 0) {
        let i = i as i32;
        root.draw_text(
            &short(v),
            &label.pos(Pos::new(HPos::Center, VPos::Top)),
            ((cx(i) + cx(i + 1)) / 2, y1 + 8),
        )?;
    }
    let k = every(map.ys.len(), 16);
    for (j, &v) in map.ys.iter().enumerate().filter(|(j, _)| j % k == 0) {
        let j = j as i32;
        root.draw_text(
            &short(v),
            &label.pos(Pos::new(HPos::Right, VPos::Center)),
            (x0 - 10, (cy(j) + cy(j + 1)) / 2),
        )?;
    }
    root.draw_text(
        &map.params[0],
        &axis_title.pos(Pos::new(HPos::Center, VPos::Top)),
        ((x0 + x1) / 2, y1 + 40),
    )?;
    root.draw_text(
        &map.params[1],
        &axis_title
            .transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Center, VPos::Top)),
        (MARGIN, (y0 + y1) / 2),
    )?;

    // The colour bar: the ramp from bottom (lo) to top (hi), with ticks every step.
    let (bx0, bx1) = (width - MARGIN - 110, width - MARGIN - 86);
    let slices = 100;
    for s in 0..slices {
        let a = y1 - (y1 - y0) * s / slices;
        let b = y1 - (y1 - y0) * (s + 1) / slices;
        let fill = ramp((f64::from(s) + 0.5) / f64::from(slices));
        root.draw(&Rectangle::new([(bx0, b), (bx1, a)], fill.filled()))?;
    }
    root.draw(&Rectangle::new([(bx0, y0), (bx1, y1)], AXIS.stroke_width(1)))?;
    let ticks = ((hi - lo) / step).round() as i32;
    let tick_decimals = self::decimals(step);
    for n in 0..=ticks {
        let p = lo + f64::from(n) * step;
        let y = y1 - ((p - lo) / (hi - lo) * f64::from(y1 - y0)).round() as i32;
        root.draw(&PathElement::new(vec![(bx1, y), (bx1 + 6, y)], AXIS.stroke_width(1)))?;
        root.draw_text(
            &format!("{p:.tick_decimals$}%"),
            &label.pos(Pos::new(HPos::Left, VPos::Center)),
            (bx1 + 10, y),
        )?;
    }
    root.draw_text(
        "P by the horizon",
        &style(15.0, &MUTED_TEXT).pos(Pos::new(HPos::Center, VPos::Bottom)),
        ((bx0 + bx1) / 2 + 20, y0 - 8),
    )?;
    Ok(())
}
