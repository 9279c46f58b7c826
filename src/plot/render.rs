//! Drawing: a [`Chart`] in, SVG text (plotters) and PNG bytes (resvg) out.
//!
//! plotters draws the SVG; resvg rasterizes that SVG into the PNG, so a chart's PNG shows
//! exactly what its SVG shows. Both use only the embedded Noto Sans. Layout that depends on text
//! size (wrapped titles, legends, bar labels) is decided here, where text can be measured. Apart
//! from the tests, only this module, [`super::tornado_render`] (which draws tornado charts the
//! same way) and [`super::style`] import plotters, and only this one imports resvg.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::format::percent;

use super::CHART_SIZE;
use super::chart::{Body, Chart, LegendEntry, Mark, StepAxis};
use super::data::{Bar, BarGroup, PlotPoint, PlotSeries};
use super::style::*;

mod forest;

pub(super) use forest::chart_size;

/// The family every chart text asks for. The embedded Noto Sans is registered under this whole
/// name, and SVG writes it as the `font-family` list, so that viewers pick Noto Sans or a face
/// of similar width before falling back to whatever their `sans-serif` is.
pub(super) const FONT: &str = "Noto Sans, Arial, Helvetica, sans-serif";

/// Registers the embedded Noto Sans once as plotters' [`FONT`]: plotters' `ab_glyph` feature
/// knows only registered fonts, and the machine may have none.
pub(super) fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FONT, FontStyle::Normal, ttf_noto_sans::REGULAR).is_ok());
    if ok {
        Ok(())
    } else {
        Err(anyhow!("the embedded Noto Sans font could not be loaded"))
    }
}

/// resvg's font database: the embedded Noto Sans alone, standing in for every generic family,
/// so a PNG never depends on the fonts of the machine that drew it.
fn font_database() -> Arc<resvg::usvg::fontdb::Database> {
    static DATABASE: OnceLock<Arc<resvg::usvg::fontdb::Database>> = OnceLock::new();
    DATABASE
        .get_or_init(|| {
            let mut db = resvg::usvg::fontdb::Database::new();
            db.load_font_data(ttf_noto_sans::REGULAR.to_vec());
            let family = db
                .faces()
                .next()
                .and_then(|face| face.families.first())
                .map_or_else(|| "Noto Sans".to_string(), |(name, _)| name.clone());
            db.set_sans_serif_family(family.clone());
            db.set_serif_family(family.clone());
            db.set_monospace_family(family.clone());
            db.set_cursive_family(family.clone());
            db.set_fantasy_family(family);
            Arc::new(db)
        })
        .clone()
}

pub(super) fn render_svg(chart: &Chart) -> Result<String> {
    register_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, chart_size(chart)).into_drawing_area();
        draw(&root, chart).map_err(|e| anyhow!("cannot draw chart `{}`: {e}", chart.name))?;
    }
    Ok(svg)
}

/// The SVG drawn as a PNG by resvg: the PNG shows exactly what the SVG does.
pub(super) fn rasterize(svg: &str) -> Result<Vec<u8>> {
    let options = resvg::usvg::Options {
        fontdb: font_database(),
        font_family: "Noto Sans".into(),
        ..Default::default()
    };
    let tree = resvg::usvg::Tree::from_str(svg, &options)?;
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| anyhow!("a chart of {}x{} pixels cannot be drawn", size.width(), size.height()))?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(&tree, resvg::tiny_skia::Transform::identity(), &mut pixmap.as_mut());
    encode_png(&pixmap)
}

/// The pixmap as an RGB PNG. Charts are drawn on opaque white, so every pixel's alpha is 255 and
/// its premultiplied colour is its colour: the alpha channel carries nothing. Deflate level 1:
/// at the default level (6) encoding took most of a chart's time, for files a third smaller
/// (measured on the shipped scenarios' charts: 0.6x the process's CPU time at 1,000 runs, and
/// 1.5x the bytes).
fn encode_png(pixmap: &resvg::tiny_skia::Pixmap) -> Result<Vec<u8>> {
    debug_assert!(pixmap.data().chunks_exact(4).all(|p| p[3] == 255), "charts are opaque");
    let rgb: Vec<u8> = pixmap
        .data()
        .chunks_exact(4)
        .flat_map(|pixel| [pixel[0], pixel[1], pixel[2]])
        .collect();
    let mut png_bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut png_bytes, pixmap.width(), pixmap.height());
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_deflate_compression(png::DeflateCompression::Level(1));
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&rgb)?;
    writer.finish()?;
    Ok(png_bytes)
}

#[cfg(test)]
pub(super) fn render_png(chart: &Chart) -> Result<Vec<u8>> {
    rasterize(&render_svg(chart)?)
}

type Area<DB> = DrawingArea<DB, Shift>;
type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;
type Frame<'a, DB> = ChartContext<'a, DB, Cartesian2d<TickedAxis, TickedAxis>>;

/// A linear axis ticked exactly at `ticks`. (plotters' `WithKeyPoints` would do, but it offers
/// no label formatter for `f64` axes.)
struct TickedAxis {
    range: Range<f64>,
    ticks: Vec<f64>,
}

impl TickedAxis {
    fn new(range: Range<f64>, ticks: Vec<f64>) -> Self {
        TickedAxis { range, ticks }
    }
}

impl Ranged for TickedAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, (from, to): (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        let fraction = if span > 0.0 {
            (value - self.range.start) / span
        } else {
            0.5
        };
        from + ((to - from) as f64 * fraction).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Grid lines only at the ticks: no finer "light" lines in between.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

const LEGEND_WIDTH: u32 = 300;
const SIDE_MARGIN: i32 = 28;
const TITLE_SIZE: f64 = 29.0;
const SUBTITLE_SIZE: f64 = 19.0;
const TICK_SIZE: f64 = 18.0;
const AXIS_DESC_SIZE: f64 = 19.0;
const LEGEND_SIZE: f64 = 18.0;
const X_LABEL_AREA: u32 = 66;

/// Share of a text box that fitting and wrapping fill. Text is measured with the embedded font,
/// but an SVG viewer draws it with its own sans-serif, which may run wider.
const TEXT_SLACK: f64 = 0.85;

fn with_slack(pixels: u32) -> u32 {
    (pixels as f64 * TEXT_SLACK) as u32
}

fn text_style(size: f64, colour: &RGBColor) -> TextStyle<'_> {
    TextStyle::from((FONT, size).into_font()).color(colour)
}

/// Text width in pixels as laid out by plotters (0 if the font cannot measure it, which
/// [`register_font`] rules out before any drawing).
fn measure<DB: DrawingBackend>(area: &Area<DB>, style: &TextStyle) -> impl Fn(&str) -> u32 {
    move |text: &str| area.estimate_text_size(text, style).map_or(0, |(width, _)| width)
}

fn draw<DB: DrawingBackend>(root: &Area<DB>, chart: &Chart) -> Drawn<DB> {
    root.fill(&WHITE)?;
    let header = Header::new(root, chart);
    let (header_area, body) = root.split_vertically(header.height());
    header.draw(&header_area)?;
    let plot = if chart.legend.is_empty() {
        body
    } else {
        let (plot, legend) = body.split_horizontally(CHART_SIZE.0 - LEGEND_WIDTH);
        draw_legend(&legend, &chart.legend_title, &chart.legend)?;
        plot
    };
    let plot = plot.margin(0, 16, 16, 0);
    match &chart.body {
        Body::Lines { axis, series, styles } => draw_lines(&plot, chart, axis, series, styles)?,
        Body::Stacked { axis, series, styles } => draw_stacked(&plot, chart, axis, series, styles)?,
        Body::Bars {
            groups,
            styles,
            decimals,
        } => draw_bars(&plot, chart, groups, styles, *decimals)?,
        Body::Forest {
            groups,
            variants,
            scale,
            decimals,
        } => forest::draw_forest(&plot, chart, groups, variants, scale, *decimals)?,
        Body::DiffLines {
            axis,
            series,
            styles,
            scale,
        } => forest::draw_diff_lines(&plot, chart, axis, series, styles, scale)?,
    }
    if chart.is_empty() {
        draw_empty_note(&plot, &chart.empty_note)?;
    }
    root.present()
}

const TITLE_LINE_HEIGHT: i32 = 36;
const SUBTITLE_LINE_HEIGHT: i32 = 24;
const TITLE_MAX_LINES: usize = 3;
const SUBTITLE_MAX_LINES: usize = 2;

/// Title and subtitle wrapped to the chart's width; the header is as tall as they need (96 px
/// for one line each).
pub(super) struct Header {
    pub(super) title: Vec<String>,
    subtitle: Vec<String>,
}

impl Header {
    pub(super) fn new<DB: DrawingBackend>(area: &Area<DB>, chart: &Chart) -> Self {
        let max_width = with_slack(CHART_SIZE.0 - 2 * SIDE_MARGIN as u32);
        let title_style = text_style(TITLE_SIZE, &TEXT);
        let subtitle_style = text_style(SUBTITLE_SIZE, &MUTED_TEXT);
        Header {
            title: wrap_evenly(&chart.title, max_width, TITLE_MAX_LINES, measure(area, &title_style)),
            subtitle: wrap_evenly(
                &chart.subtitle,
                max_width,
                SUBTITLE_MAX_LINES,
                measure(area, &subtitle_style),
            ),
        }
    }

    fn subtitle_top(&self) -> i32 {
        18 + TITLE_LINE_HEIGHT * self.title.len().max(1) as i32 + 4
    }

    pub(super) fn height(&self) -> u32 {
        (self.subtitle_top() + SUBTITLE_LINE_HEIGHT * self.subtitle.len().max(1) as i32 + 14) as u32
    }

    fn draw<DB: DrawingBackend>(&self, area: &Area<DB>) -> Drawn<DB> {
        let title_style = text_style(TITLE_SIZE, &TEXT);
        for (i, line) in self.title.iter().enumerate() {
            area.draw_text(line, &title_style, (SIDE_MARGIN, 18 + TITLE_LINE_HEIGHT * i as i32))?;
        }
        let subtitle_style = text_style(SUBTITLE_SIZE, &MUTED_TEXT);
        for (i, line) in self.subtitle.iter().enumerate() {
            let y = self.subtitle_top() + SUBTITLE_LINE_HEIGHT * i as i32;
            area.draw_text(line, &subtitle_style, (SIDE_MARGIN, y))?;
        }
        Ok(())
    }
}

fn draw_empty_note<DB: DrawingBackend>(area: &Area<DB>, note: &str) -> Drawn<DB> {
    let (width, height) = area.dim_in_pixel();
    let style = text_style(22.0, &MUTED_TEXT).pos(Pos::new(HPos::Center, VPos::Center));
    area.draw_text(note, &style, (width as i32 / 2, height as i32 / 2 - 30))
}

const LEGEND_TEXT_LEFT: i32 = 54;
const LEGEND_MAX_LINES: usize = 4;

/// Font sizes a legend tries, largest first, until every entry fits.
const LEGEND_SIZES: [f64; 4] = [LEGEND_SIZE, 16.0, 14.0, 12.0];

fn draw_legend<DB: DrawingBackend>(area: &Area<DB>, title: &str, entries: &[LegendEntry]) -> Drawn<DB> {
    let (width, height) = area.dim_in_pixel();
    let text_width = with_slack(width.saturating_sub(LEGEND_TEXT_LEFT as u32 + 8));
    let bottom = height as i32 - 40;
    let top = if title.is_empty() { 14 } else { 50 };
    // Each entry wrapped at each size; the first size at which all of them fit is used.
    let layouts: Vec<(f64, Vec<Vec<String>>)> = LEGEND_SIZES
        .iter()
        .map(|&size| {
            let style = text_style(size, &TEXT);
            let lines = entries
                .iter()
                .map(|e| wrap_evenly(&e.label, text_width, LEGEND_MAX_LINES, measure(area, &style)))
                .collect();
            (size, lines)
        })
        .collect();
    let line_height = |size: f64| (size * 1.28).round() as i32;
    let total = |(size, lines): &(f64, Vec<Vec<String>>)| -> i32 {
        lines.iter().map(|l| line_height(*size) * l.len() as i32 + 12).sum()
    };
    let (size, lines) = layouts
        .iter()
        .find(|layout| top + total(layout) <= bottom)
        .or(layouts.last())
        .cloned()
        .unwrap_or((LEGEND_SIZE, Vec::new()));
    if !title.is_empty() {
        area.draw_text(title, &text_style(LEGEND_SIZE, &MUTED_TEXT), (12, 14))?;
    }
    let label_style = text_style(size, &TEXT);
    let mut y = top;
    for (shown, (entry, lines)) in entries.iter().zip(&lines).enumerate() {
        let entry_height = line_height(size) * lines.len() as i32 + 12;
        if y + entry_height > bottom {
            let more = format!("… and {} more", entries.len() - shown);
            return area.draw_text(&more, &text_style(size, &MUTED_TEXT), (12, y));
        }
        draw_legend_mark(area, entry, y + (size * 0.6) as i32)?;
        for (i, line) in lines.iter().enumerate() {
            let line_y = y + line_height(size) * i as i32;
            area.draw_text(line, &label_style, (LEGEND_TEXT_LEFT, line_y))?;
        }
        y += entry_height;
    }
    Ok(())
}

fn draw_legend_mark<DB: DrawingBackend>(area: &Area<DB>, entry: &LegendEntry, y: i32) -> Drawn<DB> {
    let style = entry.style;
    let swatch = [(8, y - 10), (46, y + 10)];
    match entry.mark {
        Mark::Line => {
            area.draw(&Rectangle::new(swatch, style.colour.mix(BAND_OPACITY).filled()))?;
            let line = vec![(8, y), (46, y)];
            let stroke = style.colour.stroke_width(style.width);
            match style.dash {
                Some((dash, gap)) => area.draw(&DashedPathElement::new(line, dash, gap, stroke))?,
                None => area.draw(&PathElement::new(line, stroke))?,
            }
            match style.marker {
                Some(marker) => draw_marker(area, (27, y), marker, style.colour),
                None => Ok(()),
            }
        }
        Mark::Area => {
            area.draw(&Rectangle::new([(12, y - 9), (42, y + 9)], style.fill.filled()))?;
            area.draw(&Rectangle::new([(12, y - 9), (42, y + 9)], AXIS.stroke_width(1)))
        }
    }
}

/// Radius of a curve's markers, in pixels.
const MARKER_RADIUS: i32 = 5;

/// A marker centred on pixel `at` of `area`, filled with `colour` inside a white rim so that it
/// stands out on any line.
fn draw_marker<DB: DrawingBackend>(area: &Area<DB>, at: (i32, i32), marker: Marker, colour: RGBColor) -> Drawn<DB> {
    let (x, y) = at;
    let shape = |r: i32| -> Vec<(i32, i32)> {
        match marker {
            Marker::Circle => (0..16)
                .map(|i| {
                    let a = i as f64 * std::f64::consts::TAU / 16.0;
                    (
                        x + (r as f64 * a.cos()).round() as i32,
                        y + (r as f64 * a.sin()).round() as i32,
                    )
                })
                .collect(),
            Marker::Square => vec![(x - r, y - r), (x + r, y - r), (x + r, y + r), (x - r, y + r)],
            Marker::Triangle => vec![(x, y - r - 2), (x + r + 1, y + r), (x - r - 1, y + r)],
            Marker::Diamond => vec![(x, y - r - 2), (x + r + 2, y), (x, y + r + 2), (x - r - 2, y)],
            Marker::TriangleDown => vec![(x, y + r + 2), (x + r + 1, y - r), (x - r - 1, y - r)],
        }
    };
    area.draw(&Polygon::new(shape(MARKER_RADIUS + 2), WHITE.filled()))?;
    area.draw(&Polygon::new(shape(MARKER_RADIUS), colour.filled()))
}

/// `text`, shortened with an ellipsis until `width` measures it at most `max_width` pixels.
pub(super) fn fit(text: &str, max_width: u32, width: impl Fn(&str) -> u32) -> String {
    if width(text) <= max_width {
        return text.to_string();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while chars.pop().is_some() {
        let shortened = format!("{}…", chars.iter().collect::<String>().trim_end());
        if width(&shortened) <= max_width {
            return shortened;
        }
    }
    "…".to_string()
}

/// Splits `text` at spaces into lines that `width` measures at most `max_width` pixels (a word
/// too long for a line is cut), keeping at most `max_lines` and ending a cut text with an
/// ellipsis.
pub(super) fn wrap(text: &str, max_width: u32, max_lines: usize, width: impl Fn(&str) -> u32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        if width(&candidate) <= max_width {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        current = word.to_string();
        while width(&current) > max_width && current.chars().count() > 1 {
            let head = longest_fitting_prefix(&current, max_width, &width);
            current = current[head.len()..].to_string();
            lines.push(head);
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    let max_lines = max_lines.max(1);
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            *last = fit(&format!("{last}…"), max_width, &width);
            if !last.ends_with('…') {
                last.push('…');
            }
        }
    }
    lines
}

/// Like [`wrap`], but with lines of even length: "Moscow transfers missile and / submarine
/// technology to Pyongyang" rather than a long first line and a short orphan.
pub(super) fn wrap_evenly(text: &str, max_width: u32, max_lines: usize, width: impl Fn(&str) -> u32) -> Vec<String> {
    let lines = wrap(text, max_width, max_lines, &width);
    if lines.len() < 2 || lines.last().is_some_and(|l| l.ends_with('…')) {
        return lines;
    }
    let even = width(text) / lines.len() as u32;
    (even..max_width)
        .step_by(8)
        .map(|narrower| wrap(text, narrower, max_lines, &width))
        .find(|candidate| candidate.len() == lines.len() && !candidate.concat().contains('…'))
        .unwrap_or(lines)
}

/// The longest prefix (at least one character) of `word` that fits in `max_width`.
fn longest_fitting_prefix(word: &str, max_width: u32, width: impl Fn(&str) -> u32) -> String {
    let mut end = word.chars().next().map_or(0, char::len_utf8);
    for (index, c) in word.char_indices().skip(1) {
        if width(&word[..index + c.len_utf8()]) > max_width {
            break;
        }
        end = index + c.len_utf8();
    }
    word[..end].to_string()
}

/// Builds the step-by-probability frame shared by line and stacked charts and draws its mesh.
fn step_frame<'a, DB: DrawingBackend>(
    area: &'a Area<DB>,
    chart: &Chart,
    axis: &StepAxis,
) -> Result<Frame<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
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
            TickedAxis::new(0.0..chart.scale.max, chart.scale.ticks()),
        )?;
    let x_label = |x: &f64| axis.label(*x);
    let y_label = |y: &f64| chart.scale.label(*y);
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
    Ok(frame)
}

/// The outline of a 95% band: along `lo` forwards, back along `hi`.
fn band_outline(series: &PlotSeries) -> Vec<(f64, f64)> {
    let forward = series.points.iter().map(|p| (p.step as f64, p.lo));
    let back = series.points.iter().rev().map(|p| (p.step as f64, p.hi));
    forward.chain(back).collect()
}

fn draw_lines<DB: DrawingBackend>(
    area: &Area<DB>,
    chart: &Chart,
    axis: &StepAxis,
    series: &[PlotSeries],
    styles: &[SeriesStyle],
) -> Drawn<DB> {
    let mut frame = step_frame(area, chart, axis)?;
    let drawn: Vec<(&PlotSeries, &SeriesStyle)> = series.iter().zip(styles).collect();
    // All bands before any line, so that no band veils another series' line.
    for (s, style) in &drawn {
        let band = Polygon::new(band_outline(s), style.colour.mix(BAND_OPACITY).filled());
        frame.draw_series(std::iter::once(band))?;
    }
    // Thick lines (the baseline) under thin ones: a curve equal to the baseline shows as a
    // coloured line inside the black one instead of disappearing.
    let mut by_width = drawn.clone();
    by_width.sort_by_key(|(_, style)| std::cmp::Reverse(style.width));
    for (s, style) in &by_width {
        let points: Vec<(f64, f64)> = s.points.iter().map(|p| (p.step as f64, p.p)).collect();
        let stroke = style.colour.stroke_width(style.width);
        match style.dash {
            Some((dash, gap)) => {
                frame.draw_series(DashedLineSeries::new(points, dash, gap, stroke))?;
            }
            None => {
                frame.draw_series(LineSeries::new(points, stroke))?;
            }
        }
    }
    // Markers last, each curve's at other steps than its neighbours', so that curves lying on
    // top of each other all stay visible.
    let marked = drawn.iter().filter(|(_, style)| style.marker.is_some()).count();
    let (base_x, base_y) = area.get_base_pixel();
    for (index, (s, style)) in drawn.iter().filter(|(_, style)| style.marker.is_some()).enumerate() {
        let Some(marker) = style.marker else { continue };
        for point in s
            .points
            .iter()
            .filter(|p| marker_at(p.step, index, marked, axis.last_step()))
        {
            let (x, y) = frame.backend_coord(&(point.step as f64, point.p));
            draw_marker(area, (x - base_x, y - base_y), marker, style.colour)?;
        }
    }
    Ok(())
}

/// Opacity of a curve's 95% band.
const BAND_OPACITY: f64 = 0.16;

/// About this many markers per curve.
const MARKERS_PER_CURVE: usize = 6;

/// Whether the `index`-th of `count` marked curves gets a marker at `step`: every `stride`
/// steps, the curves' markers shifted evenly within a stride so that they never coincide
/// (unless there are more curves than steps in a stride).
pub(super) fn marker_at(step: usize, index: usize, count: usize, last_step: usize) -> bool {
    let stride = (last_step / MARKERS_PER_CURVE).max(1);
    let offset = (stride / 2 + index * stride / count.max(1)) % stride;
    step > 0 && step % stride == offset
}

/// Lower and upper edge, per step, of each series' stacked area; the last series sits on the
/// axis. Edges are capped at 100% because rounded shares may add up to slightly more.
pub(super) fn stack_edges(series: &[PlotSeries]) -> Vec<Vec<(f64, f64)>> {
    let steps = series.iter().map(|s| s.points.len()).max().unwrap_or(0);
    let mut base = vec![0.0; steps];
    let mut edges = vec![Vec::new(); series.len()];
    for (index, s) in series.iter().enumerate().rev() {
        edges[index] = base
            .iter_mut()
            .enumerate()
            .map(|(t, lower)| {
                let share = s.points.get(t).map_or(0.0, |p| p.p);
                let upper = (*lower + share).min(100.0);
                let edge = (*lower, upper);
                *lower = upper;
                edge
            })
            .collect();
    }
    edges
}

fn draw_stacked<DB: DrawingBackend>(
    area: &Area<DB>,
    chart: &Chart,
    axis: &StepAxis,
    series: &[PlotSeries],
    styles: &[SeriesStyle],
) -> Drawn<DB> {
    let mut frame = step_frame(area, chart, axis)?;
    let edges = stack_edges(series);
    for (edges, colour) in edges.iter().zip(styles.iter().map(|s| s.fill)) {
        let lower = edges.iter().enumerate().map(|(t, e)| (t as f64, e.0));
        let upper = edges.iter().enumerate().rev().map(|(t, e)| (t as f64, e.1));
        let outline: Vec<(f64, f64)> = lower.chain(upper).collect();
        frame.draw_series(std::iter::once(Polygon::new(outline, colour.filled())))?;
    }
    // Thin white seams keep neighbouring light colours apart.
    for edges in edges.iter().skip(1) {
        let seam = edges.iter().enumerate().map(|(t, e)| (t as f64, e.1));
        frame.draw_series(LineSeries::new(seam, WHITE.stroke_width(1)))?;
    }
    Ok(())
}

/// Vertical placement of grouped horizontal bars on a y axis counted in bar thicknesses, 0 at
/// the bottom. Each group is its bars plus a gap; the first group is at the top; a few groups
/// are centred at a readable thickness rather than stretched into slabs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct BarLayout {
    pub(super) groups: usize,
    pub(super) per_group: usize,
}

/// The y axis always spans at least this many bar thicknesses.
pub(super) const MIN_BAR_UNITS: f64 = 10.0;

impl BarLayout {
    fn new(groups: &[BarGroup]) -> Self {
        BarLayout {
            groups: groups.len(),
            per_group: groups.iter().map(|g| g.bars.len()).max().unwrap_or(1).max(1),
        }
    }

    fn gap(&self) -> f64 {
        if self.per_group > 1 { 1.0 } else { 0.5 }
    }

    fn group_height(&self) -> f64 {
        self.per_group as f64 + self.gap()
    }

    pub(super) fn units(&self) -> f64 {
        (self.groups as f64 * self.group_height()).max(MIN_BAR_UNITS)
    }

    /// Top of the first bar of `group`.
    fn group_top(&self, group: usize) -> f64 {
        let spare = self.units() - self.groups as f64 * self.group_height();
        self.units() - spare / 2.0 - self.gap() / 2.0 - group as f64 * self.group_height()
    }

    pub(super) fn group_centre(&self, group: usize) -> f64 {
        self.group_top(group) - self.per_group as f64 / 2.0
    }

    /// Bottom and top of bar `index` of `group`; bars of one group are slightly apart.
    pub(super) fn bar_span(&self, group: usize, index: usize) -> (f64, f64) {
        let top = self.group_top(group) - index as f64;
        let spacing = if self.per_group > 1 { 0.06 } else { 0.0 };
        (top - 1.0 + spacing, top - spacing)
    }
}

/// Widest line of a bar chart's group label; longer labels wrap onto a second line.
const MAX_BAR_LABEL_PIXELS: u32 = 380;

/// Group labels as drawn: wrapped lines, their font size, the widest line in pixels, and the
/// font size of the values printed beside the bars.
struct BarLabels {
    lines: Vec<Vec<String>>,
    size: f64,
    width: u32,
    value_size: f64,
}

/// Font size and line count follow the room each group gets, so labels never overlap.
fn bar_labels<DB: DrawingBackend>(area: &Area<DB>, groups: &[BarGroup], layout: BarLayout) -> BarLabels {
    let plot_height = area.dim_in_pixel().1.saturating_sub(X_LABEL_AREA + 12) as f64;
    let bar_pixels = plot_height / layout.units();
    let group_pixels = bar_pixels * layout.group_height();
    let size = (group_pixels * 0.8).clamp(11.0, TICK_SIZE);
    let max_lines = if group_pixels >= 2.5 * size { 2 } else { 1 };
    let style = text_style(size, &TEXT);
    let width = measure(area, &style);
    let lines: Vec<Vec<String>> = groups
        .iter()
        .map(|g| wrap_evenly(&g.label, MAX_BAR_LABEL_PIXELS, max_lines, &width))
        .collect();
    let widest = lines.iter().flatten().map(|l| width(l)).max().unwrap_or(0);
    BarLabels {
        lines,
        size,
        width: widest,
        value_size: (bar_pixels * 1.2).clamp(10.0, 17.0).min(size),
    }
}

fn draw_bars<DB: DrawingBackend>(
    area: &Area<DB>,
    chart: &Chart,
    groups: &[BarGroup],
    styles: &[SeriesStyle],
    decimals: u32,
) -> Drawn<DB> {
    let layout = BarLayout::new(groups);
    let labels = bar_labels(area, groups, layout);
    let value_style = text_style(labels.value_size, &TEXT).pos(Pos::new(HPos::Left, VPos::Center));
    let centres: Vec<f64> = (0..groups.len()).map(|g| layout.group_centre(g)).collect();
    let mut frame = ChartBuilder::on(area)
        .margin_left(SIDE_MARGIN - 8)
        .margin_right(90)
        .margin_top(12)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size((labels.width.max(40) as f64 / TEXT_SLACK) as u32 + 24)
        .build_cartesian_2d(
            TickedAxis::new(0.0..chart.scale.max, chart.scale.ticks()),
            TickedAxis::new(0.0..layout.units(), centres.clone()),
        )?;
    let x_label = |x: &f64| chart.scale.label(*x);
    // Group labels may take two lines, which axis labels cannot: they are drawn below.
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
    for (g, group) in groups.iter().enumerate() {
        for (j, bar) in group.bars.iter().enumerate() {
            let colour = styles.get(j).map_or_else(|| categorical(j).fill, |s| s.fill);
            let value = percent(bar.point.p / 100.0, decimals);
            draw_bar(&mut frame, bar, layout.bar_span(g, j), colour, (value, &value_style))?;
        }
    }
    draw_group_labels(area, &frame, &labels, &centres)
}

fn draw_group_labels<DB: DrawingBackend>(
    area: &Area<DB>,
    frame: &Frame<'_, DB>,
    labels: &BarLabels,
    centres: &[f64],
) -> Drawn<DB> {
    let style = text_style(labels.size, &TEXT).pos(Pos::new(HPos::Right, VPos::Center));
    let line_height = (labels.size * 1.25).round() as i32;
    let (base_x, base_y) = area.get_base_pixel();
    for (lines, centre) in labels.lines.iter().zip(centres) {
        let (x, y) = frame.backend_coord(&(0.0, *centre));
        let first = y - base_y - line_height * (lines.len() as i32 - 1) / 2;
        for (i, line) in lines.iter().enumerate() {
            let at = (x - base_x - 12, first + line_height * i as i32);
            area.draw_text(line, &style, at)?;
        }
    }
    Ok(())
}

fn draw_bar<DB: DrawingBackend>(
    frame: &mut Frame<'_, DB>,
    bar: &Bar,
    (bottom, top): (f64, f64),
    colour: RGBColor,
    (value, value_style): (String, &TextStyle),
) -> Drawn<DB> {
    let middle = (bottom + top) / 2.0;
    let cap = (top - bottom) * 0.12;
    let PlotPoint { p, lo, hi, .. } = bar.point;
    frame.draw_series(std::iter::once(Rectangle::new(
        [(0.0, bottom), (p, top)],
        colour.filled(),
    )))?;
    let whisker = WHISKER.stroke_width(2);
    frame.draw_series([
        PathElement::new(vec![(lo, middle), (hi, middle)], whisker),
        PathElement::new(vec![(lo, middle - cap), (lo, middle + cap)], whisker),
        PathElement::new(vec![(hi, middle - cap), (hi, middle + cap)], whisker),
    ])?;
    frame.draw_series(std::iter::once(
        EmptyElement::at((hi, middle)) + Text::new(value, (8, 0), value_style.clone()),
    ))?;
    Ok(())
}
