//! Drawing the difference charts: the forest plot (a row per outcome or rung, a marker and a
//! horizontal 95% interval per paired variant, a vertical zero line) and the differences over
//! time (a line and a translucent paired band per variant, a horizontal zero line).

use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::format::{difference_interval_pp, difference_pp};

use super::super::CHART_SIZE;
use super::super::chart::{Chart, DiffScale, StepAxis};
use super::super::difference::{DiffGroup, DiffSeries};
use super::super::style::*;
use super::*;

/// Pixels per row unit of a forest plot: a chart with many outcomes and variants grows taller
/// rather than squeezing its markers together.
const FOREST_UNIT_PIXELS: u32 = 18;

/// Room a forest plot takes besides its rows: header, axis labels and margins.
const FOREST_CHROME: u32 = 270;

/// Width and height of `chart` in pixels: [`CHART_SIZE`], except that a forest plot is as tall
/// as its rows need.
pub(in crate::plot) fn chart_size(chart: &Chart) -> (u32, u32) {
    match &chart.body {
        Body::Forest { groups, variants, .. } => {
            let layout = forest_layout(groups, variants.len());
            let rows = (layout.units() * FOREST_UNIT_PIXELS as f64).ceil() as u32;
            (CHART_SIZE.0, (rows + FOREST_CHROME).max(CHART_SIZE.1))
        }
        _ => CHART_SIZE,
    }
}

fn forest_layout(groups: &[DiffGroup], variants: usize) -> BarLayout {
    BarLayout {
        groups: groups.len(),
        per_group: variants.max(1),
    }
}

/// Width of the column of numbers right of a forest plot.
const FOREST_COLUMN: u32 = 200;

/// The zero line: where the variant changes nothing.
const ZERO_LINE: RGBColor = RGBColor(0x22, 0x22, 0x22);

pub(super) fn draw_forest<DB: DrawingBackend>(
    area: &Area<DB>,
    chart: &Chart,
    groups: &[DiffGroup],
    variants: &[(String, SeriesStyle)],
    scale: &DiffScale,
    decimals: u32,
) -> Drawn<DB> {
    let layout = forest_layout(groups, variants.len());
    let labels = group_labels(area, groups, layout);
    let centres: Vec<f64> = (0..groups.len()).map(|g| layout.group_centre(g)).collect();
    let plot_height = area.dim_in_pixel().1.saturating_sub(X_LABEL_AREA + 12).max(1) as f64;
    let unit_per_pixel = layout.units() / plot_height;
    let mut frame = ChartBuilder::on(area)
        .margin_left(SIDE_MARGIN - 8)
        .margin_right(FOREST_COLUMN)
        .margin_top(12)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size((labels.width.max(40) as f64 / TEXT_SLACK) as u32 + 24)
        .build_cartesian_2d(
            TickedAxis::new(scale.min..scale.max, scale.ticks()),
            TickedAxis::new(0.0..layout.units(), centres.clone()),
        )?;
    let x_label = |x: &f64| scale.label(*x);
    let no_label = |_: &f64| String::new();
    frame
        .configure_mesh()
        .disable_y_mesh()
        .bold_line_style(GRID)
        .axis_style(AXIS)
        .label_style(text_style(TICK_SIZE, &TEXT))
        .axis_desc_style(text_style(AXIS_DESC_SIZE, &TEXT))
        .x_label_formatter(&x_label)
        .y_label_formatter(&no_label)
        .x_desc(chart.x_desc.as_str())
        .draw()?;
    // Thin rules between the rows of outcomes, so that each variant's marker is read against
    // its own outcome.
    for g in 1..groups.len() {
        let y = layout.group_top(g) + layout.gap() / 2.0;
        frame.draw_series(std::iter::once(PathElement::new(
            vec![(scale.min, y), (scale.max, y)],
            GRID.stroke_width(1),
        )))?;
    }
    frame.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, 0.0), (0.0, layout.units())],
        ZERO_LINE.stroke_width(2),
    )))?;
    // Each difference with its interval in a column right of the plot, as a forest plot's
    // table: at a scale that holds +85 pp, an interval of 0.6 pp is narrower than its marker.
    let value_style = text_style(labels.value_size, &TEXT).pos(Pos::new(HPos::Left, VPos::Center));
    let (base_x, base_y) = area.get_base_pixel();
    let column = frame.backend_coord(&(scale.max, layout.units())).0 - base_x + 14;
    let heading = text_style(labels.value_size, &MUTED_TEXT).pos(Pos::new(HPos::Left, VPos::Bottom));
    let top = frame.backend_coord(&(scale.max, layout.units())).1 - base_y;
    area.draw_text("pp, paired 95%", &heading, (column, top - 2))?;
    for (g, group) in groups.iter().enumerate() {
        for mark in &group.marks {
            let Some(j) = variants.iter().position(|(id, _)| *id == mark.id) else {
                continue;
            };
            let Some(point) = mark.points.last() else {
                continue;
            };
            let style = variants[j].1;
            let (bottom, top) = layout.bar_span(g, j);
            let middle = (bottom + top) / 2.0;
            // Caps of at most 5 pixels either side, however tall the row.
            let cap = ((top - bottom) * 0.25).min(5.0 * unit_per_pixel);
            let stroke = style.colour.stroke_width(3);
            frame.draw_series([
                PathElement::new(vec![(point.lo, middle), (point.hi, middle)], stroke),
                PathElement::new(vec![(point.lo, middle - cap), (point.lo, middle + cap)], stroke),
                PathElement::new(vec![(point.hi, middle - cap), (point.hi, middle + cap)], stroke),
            ])?;
            let (x, y) = frame.backend_coord(&(point.diff, middle));
            draw_marker(
                area,
                (x - base_x, y - base_y),
                style.marker.unwrap_or(Marker::Circle),
                style.colour,
            )?;
            let value = format!(
                "{} {}",
                difference_pp(point.diff / 100.0, 0.0, decimals).trim_end_matches(" pp"),
                difference_interval_pp(point.lo / 100.0, point.hi / 100.0, decimals)
            );
            area.draw_text(&value, &value_style, (column, y - base_y))?;
        }
    }
    draw_row_labels(area, &frame, &labels, &centres, scale.min)
}

/// The labels of the rows, right-aligned against the left edge of the plot (`left` on the
/// difference axis, which is below 0 when some difference is).
fn draw_row_labels<DB: DrawingBackend>(
    area: &Area<DB>,
    frame: &Frame<'_, DB>,
    labels: &BarLabels,
    centres: &[f64],
    left: f64,
) -> Drawn<DB> {
    let style = text_style(labels.size, &TEXT).pos(Pos::new(HPos::Right, VPos::Center));
    let line_height = (labels.size * 1.25).round() as i32;
    let (base_x, base_y) = area.get_base_pixel();
    for (lines, centre) in labels.lines.iter().zip(centres) {
        let (x, y) = frame.backend_coord(&(left, *centre));
        let first = y - base_y - line_height * (lines.len() as i32 - 1) / 2;
        for (i, line) in lines.iter().enumerate() {
            area.draw_text(line, &style, (x - base_x - 12, first + line_height * i as i32))?;
        }
    }
    Ok(())
}

/// Group labels of a forest plot, laid out as a bar chart's are.
fn group_labels<DB: DrawingBackend>(area: &Area<DB>, groups: &[DiffGroup], layout: BarLayout) -> BarLabels {
    let plot_height = area.dim_in_pixel().1.saturating_sub(X_LABEL_AREA + 12) as f64;
    let unit_pixels = plot_height / layout.units();
    let group_pixels = unit_pixels * layout.group_height();
    let size = (group_pixels * 0.8).clamp(11.0, TICK_SIZE);
    let max_lines = if group_pixels >= 2.5 * size { 3 } else { 1 };
    let style = text_style(size, &TEXT);
    let width = measure(area, &style);
    let lines: Vec<Vec<String>> = groups
        .iter()
        .map(|g| wrap_evenly(&g.label, MAX_BAR_LABEL_PIXELS - 60, max_lines, &width))
        .collect();
    let widest = lines.iter().flatten().map(|l| width(l)).max().unwrap_or(0);
    BarLabels {
        lines,
        size,
        width: widest,
        value_size: (unit_pixels * 0.9).clamp(10.0, 15.0),
    }
}

pub(super) fn draw_diff_lines<DB: DrawingBackend>(
    area: &Area<DB>,
    chart: &Chart,
    axis: &StepAxis,
    series: &[DiffSeries],
    styles: &[SeriesStyle],
    scale: &DiffScale,
) -> Drawn<DB> {
    let ticks: Vec<f64> = axis.ticks.iter().map(|&t| t as f64).collect();
    let x_max = axis.last_step().max(1) as f64;
    let mut frame = ChartBuilder::on(area)
        .margin_left(SIDE_MARGIN - 8)
        .margin_right(30)
        .margin_top(12)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(80)
        .build_cartesian_2d(
            TickedAxis::new(0.0..x_max, ticks),
            TickedAxis::new(scale.min..scale.max, scale.ticks()),
        )?;
    let x_label = |x: &f64| axis.label(*x);
    let y_label = |y: &f64| scale.label(*y);
    frame
        .configure_mesh()
        .bold_line_style(GRID)
        .axis_style(AXIS)
        .label_style(text_style(TICK_SIZE, &TEXT))
        .axis_desc_style(text_style(AXIS_DESC_SIZE, &TEXT))
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .x_desc(chart.x_desc.as_str())
        .y_desc(chart.y_desc.as_str())
        .draw()?;
    let drawn: Vec<(&DiffSeries, &SeriesStyle)> = series.iter().zip(styles).collect();
    for (s, style) in &drawn {
        let forward = s.points.iter().map(|p| (p.step as f64, p.lo));
        let back = s.points.iter().rev().map(|p| (p.step as f64, p.hi));
        let band = Polygon::new(
            forward.chain(back).collect::<Vec<_>>(),
            style.colour.mix(BAND_OPACITY).filled(),
        );
        frame.draw_series(std::iter::once(band))?;
    }
    frame.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, 0.0), (x_max, 0.0)],
        ZERO_LINE.stroke_width(2),
    )))?;
    for (s, style) in &drawn {
        let points: Vec<(f64, f64)> = s.points.iter().map(|p| (p.step as f64, p.diff)).collect();
        let stroke = style.colour.stroke_width(style.width);
        match style.dash {
            Some((dash, gap)) => {
                frame.draw_series(std::iter::once(DashedPathElement::new(points, dash, gap, stroke)))?;
            }
            None => {
                frame.draw_series(LineSeries::new(points, stroke))?;
            }
        }
    }
    let marked = drawn.iter().filter(|(_, style)| style.marker.is_some()).count();
    let (base_x, base_y) = area.get_base_pixel();
    for (index, (s, style)) in drawn.iter().filter(|(_, style)| style.marker.is_some()).enumerate() {
        let Some(marker) = style.marker else { continue };
        for point in s
            .points
            .iter()
            .filter(|p| marker_at(p.step, index, marked, axis.last_step()))
        {
            let (x, y) = frame.backend_coord(&(point.step as f64, point.diff));
            draw_marker(area, (x - base_x, y - base_y), marker, style.colour)?;
        }
    }
    Ok(())
}
