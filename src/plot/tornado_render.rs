//! Drawing a [`Tornado`]: SVG text with plotters (the PNG is that SVG rasterized by
//! `render::rasterize`, as for every chart).
//!
//! One row per param, largest swing on top: the param's name on the left, a bar from
//! `P(outcome)` in its bottom fifth (blue, the bar's part on that side of the overall line) to
//! that in its top fifth (orange), a whisker for each end's interval, and the swing with its
//! interval on the right; a vertical line at the overall probability.

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::CHART_SIZE;
use super::render::{FONT, fit, register_font};
use super::style::{AXIS, GRID, MUTED_TEXT, PALETTE, TEXT, WHISKER};
use super::tornado::{End, Tornado};
use crate::format::{percent, plural};

const BOTTOM_FIFTH: RGBColor = PALETTE[0];
const TOP_FIFTH: RGBColor = PALETTE[1];
const MARGIN: i32 = 28;
const PLOT_TOP: i32 = 140;
const PLOT_BOTTOM: i32 = 620;

pub(super) fn render_tornado(tornado: &Tornado) -> Result<String> {
    register_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        draw(&root, tornado).map_err(|e| anyhow!("cannot draw chart `{}`: {e}", tornado.name))?;
    }
    Ok(svg)
}

fn style(size: f64, colour: &RGBColor) -> TextStyle<'_> {
    TextStyle::from((FONT, size).into_font()).color(colour)
}

/// Ticks every `step` percent over `[lo, hi]`, at most 8, the range widened to whole steps.
fn scale(lo: f64, hi: f64) -> (f64, f64, f64) {
    let span = (hi - lo).max(0.5);
    let step = [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 25.0]
        .into_iter()
        .find(|step| span / step <= 7.0)
        .unwrap_or(25.0);
    let lo = ((lo / step).floor() * step).max(0.0);
    let hi = ((hi / step).ceil() * step).min(100.0);
    (lo, hi.max(lo + step), step)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    tornado: &Tornado,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (width, _) = CHART_SIZE;
    let width = width as i32;
    let title = style(29.0, &TEXT);
    let small = style(17.0, &MUTED_TEXT);
    let label = style(18.0, &TEXT);
    let measure = |s: &TextStyle, text: &str| root.estimate_text_size(text, s).map_or(0, |(w, _)| w as i32);
    let fits = |s: &TextStyle, text: &str| fit(text, (width - 2 * MARGIN) as u32 * 85 / 100, |t| measure(s, t) as u32);
    root.draw_text(&fits(&title, &tornado.title), &title, (MARGIN, 18))?;
    root.draw_text(&fits(&small, &tornado.subtitle), &small, (MARGIN, 62))?;

    // Legend: the two fifths and the overall line.
    let y = 104;
    let mut x = MARGIN;
    for (colour, text) in [
        (BOTTOM_FIFTH, "bottom fifth of the param".to_string()),
        (TOP_FIFTH, "top fifth".to_string()),
    ] {
        root.draw(&Rectangle::new([(x, y - 8), (x + 26, y + 8)], colour.filled()))?;
        root.draw_text(&text, &label.pos(Pos::new(HPos::Left, VPos::Center)), (x + 34, y))?;
        x += 34 + measure(&label, &text) + 30;
    }
    root.draw(&PathElement::new(
        vec![(x + 13, y - 12), (x + 13, y + 12)],
        BLACK.stroke_width(3),
    ))?;
    let overall = format!("overall, {}", percent(tornado.overall.p / 100.0, 1));
    root.draw_text(&overall, &label.pos(Pos::new(HPos::Left, VPos::Center)), (x + 26, y))?;

    let names_width = tornado
        .bars
        .iter()
        .map(|b| measure(&label, &b.param))
        .max()
        .unwrap_or(0);
    let swings_width = tornado
        .bars
        .iter()
        .map(|b| measure(&label, &b.swing_text))
        .max()
        .unwrap_or(0);
    let (x0, x1) = (MARGIN + names_width + 18, width - MARGIN - swings_width - 18);
    let ends = tornado.bars.iter().flat_map(|b| [b.bottom, b.top]);
    let lo = ends.clone().map(|e| e.lo).fold(tornado.overall.p, f64::min);
    let hi = ends.map(|e| e.hi).fold(tornado.overall.p, f64::max);
    let (lo, hi, step) = scale(lo, hi);
    let px = |p: f64| x0 + ((p - lo) / (hi - lo) * f64::from(x1 - x0)).round() as i32;

    // Grid and axis.
    let ticks = ((hi - lo) / step).round() as usize;
    for i in 0..=ticks {
        let p = lo + i as f64 * step;
        root.draw(&PathElement::new(
            vec![(px(p), PLOT_TOP), (px(p), PLOT_BOTTOM)],
            GRID.stroke_width(1),
        ))?;
        let text = if step < 1.0 {
            format!("{p:.1}")
        } else {
            format!("{p:.0}")
        };
        root.draw_text(
            &text,
            &label.pos(Pos::new(HPos::Center, VPos::Top)),
            (px(p), PLOT_BOTTOM + 8),
        )?;
    }
    root.draw(&PathElement::new(
        vec![(x0, PLOT_BOTTOM), (x1, PLOT_BOTTOM)],
        AXIS.stroke_width(1),
    ))?;
    let desc = "probability of the outcome by the horizon (%)";
    root.draw_text(
        desc,
        &style(19.0, &TEXT).pos(Pos::new(HPos::Center, VPos::Top)),
        ((x0 + x1) / 2, PLOT_BOTTOM + 36),
    )?;
    if tornado.more > 0 {
        let note = format!(
            "{} more {} with smaller swings in swings.csv",
            tornado.more,
            plural("param", tornado.more)
        );
        root.draw_text(
            &note,
            &small.pos(Pos::new(HPos::Right, VPos::Top)),
            (width - MARGIN, PLOT_BOTTOM + 40),
        )?;
    }

    // One row per param.
    let rows = tornado.bars.len().max(1) as i32;
    let row_height = (PLOT_BOTTOM - PLOT_TOP) / rows;
    let bar_half = (row_height * 3 / 10).clamp(4, 16);
    let centre = px(tornado.overall.p);
    for (i, bar) in tornado.bars.iter().enumerate() {
        let y = PLOT_TOP + row_height * i as i32 + row_height / 2;
        root.draw_text(
            &bar.param,
            &label.pos(Pos::new(HPos::Right, VPos::Center)),
            (x0 - 12, y),
        )?;
        root.draw_text(
            &bar.swing_text,
            &label.pos(Pos::new(HPos::Left, VPos::Center)),
            (x1 + 12, y),
        )?;
        for (end, colour) in [(bar.bottom, BOTTOM_FIFTH), (bar.top, TOP_FIFTH)] {
            let (a, b) = (centre.min(px(end.p)), centre.max(px(end.p)));
            root.draw(&Rectangle::new(
                [(a, y - bar_half), (b.max(a + 1), y + bar_half)],
                colour.filled(),
            ))?;
        }
        // Whiskers: the bottom fifth's just above the middle, the top fifth's just below.
        for (end, dy) in [(bar.bottom, -bar_half / 3), (bar.top, bar_half / 3)] {
            whisker(root, &end, y + dy, bar_half / 2, &px)?;
        }
    }
    root.draw(&PathElement::new(
        vec![(centre, PLOT_TOP - 6), (centre, PLOT_BOTTOM)],
        BLACK.stroke_width(3),
    ))?;
    Ok(())
}

fn whisker<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    end: &End,
    y: i32,
    cap: i32,
    px: &impl Fn(f64) -> i32,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let line = WHISKER.stroke_width(2);
    let (lo, hi) = (px(end.lo), px(end.hi));
    root.draw(&PathElement::new(vec![(lo, y), (hi, y)], line))?;
    root.draw(&PathElement::new(vec![(lo, y - cap), (lo, y + cap)], line))?;
    root.draw(&PathElement::new(vec![(hi, y - cap), (hi, y + cap)], line))?;
    Ok(())
}
