//! How series are told apart: colours, dashes and markers; and the colours of text, grid and axes.
//!
//! In: how many series a chart has (and which one is a comparison's baseline). Out: one
//! [`SeriesStyle`] per series, colour-blind safe, the baseline black and under the others.

use plotters::prelude::*;

/// Okabe-Ito, ordered so that the first colours are the most distinct on white; yellow, weak on
/// white, comes last. Its black is left out: black is the baseline's in comparisons.
pub(super) const PALETTE: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0xF0, 0xE4, 0x42),
];

/// Dash and gap lengths in pixels for series past the palette: the palette's colours come round
/// again, each time with another pattern.
const DASHES: [(u32, u32); 3] = [(14, 7), (4, 5), (18, 5)];

/// The comparison baseline: black and thicker than the variants, which are drawn over it, so a
/// variant that equals the baseline shows as a coloured line inside a black one.
pub(super) const BASELINE_LINE: RGBColor = RGBColor(0x00, 0x00, 0x00);
/// The baseline's bars: neutral grey, dark enough to read, light enough for its black whisker.
const BASELINE_FILL: RGBColor = RGBColor(0x8c, 0x8c, 0x8c);
pub(super) const BASELINE_WIDTH: u32 = 7;
const LINE_WIDTH: u32 = 3;

/// ColorBrewer RdYlBu (9 classes) reversed: blue for calm through yellow to red for severe.
/// Diverging-looking but ordered in lightness on each side, and colour-blind safe.
const SEVERITY_RAMP: [RGBColor; 9] = [
    RGBColor(0x45, 0x75, 0xb4),
    RGBColor(0x74, 0xad, 0xd1),
    RGBColor(0xab, 0xd9, 0xe9),
    RGBColor(0xe0, 0xf3, 0xf8),
    RGBColor(0xff, 0xff, 0xbf),
    RGBColor(0xfe, 0xe0, 0x90),
    RGBColor(0xfd, 0xae, 0x61),
    RGBColor(0xf4, 0x6d, 0x43),
    RGBColor(0xd7, 0x30, 0x27),
];

pub(super) const TEXT: RGBColor = RGBColor(0x22, 0x22, 0x22);
pub(super) const MUTED_TEXT: RGBColor = RGBColor(0x55, 0x55, 0x55);
pub(super) const GRID: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);
pub(super) const AXIS: RGBColor = RGBColor(0x88, 0x88, 0x88);
pub(super) const WHISKER: RGBColor = RGBColor(0x22, 0x22, 0x22);

/// A marker drawn on a curve at a few steps, so that a curve hidden under another (equal
/// numbers) still shows, and curves can be told apart without colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    TriangleDown,
}

const MARKERS: [Marker; 5] = [
    Marker::Circle,
    Marker::Square,
    Marker::Triangle,
    Marker::Diamond,
    Marker::TriangleDown,
];

/// How one series is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct SeriesStyle {
    /// The line's colour (and the marker's).
    pub(super) colour: RGBColor,
    /// The colour of its area or bar.
    pub(super) fill: RGBColor,
    pub(super) width: u32,
    /// Dash and gap in pixels; `None` for a solid line.
    pub(super) dash: Option<(u32, u32)>,
    pub(super) marker: Option<Marker>,
}

impl SeriesStyle {
    fn solid(colour: RGBColor) -> Self {
        SeriesStyle {
            colour,
            fill: colour,
            width: LINE_WIDTH,
            dash: None,
            marker: None,
        }
    }

    pub(super) const BASELINE: SeriesStyle = SeriesStyle {
        colour: BASELINE_LINE,
        fill: BASELINE_FILL,
        width: BASELINE_WIDTH,
        dash: None,
        marker: None,
    };
}

/// The style of the `index`-th categorical series: palette colour, a marker, and past the
/// palette a dash pattern.
pub(super) fn categorical(index: usize) -> SeriesStyle {
    let round = index / PALETTE.len();
    SeriesStyle {
        dash: round.checked_sub(1).map(|r| DASHES[r % DASHES.len()]),
        marker: Some(MARKERS[index % MARKERS.len()]),
        ..SeriesStyle::solid(PALETTE[index % PALETTE.len()])
    }
}

pub(super) fn categorical_styles(count: usize) -> Vec<SeriesStyle> {
    (0..count).map(categorical).collect()
}

/// Scenario `i` of a comparison: the baseline's style for `baseline`, the categorical styles,
/// in order, for the others. Each scenario keeps its style in every comparison chart.
pub(super) fn comparison_styles(count: usize, baseline: usize) -> Vec<SeriesStyle> {
    (0..count)
        .map(|i| match i.cmp(&baseline) {
            std::cmp::Ordering::Equal => SeriesStyle::BASELINE,
            std::cmp::Ordering::Less => categorical(i),
            std::cmp::Ordering::Greater => categorical(i - 1),
        })
        .collect()
}

/// `count` colours sampled evenly along the severity ramp, calm first.
pub(super) fn severity_styles(count: usize) -> Vec<SeriesStyle> {
    severity_colours(count).into_iter().map(SeriesStyle::solid).collect()
}

fn severity_colours(count: usize) -> Vec<RGBColor> {
    let last = (SEVERITY_RAMP.len() - 1) as f64;
    (0..count)
        .map(|i| {
            let position = if count < 2 {
                0.0
            } else {
                last * i as f64 / (count - 1) as f64
            };
            let below = position.floor() as usize;
            let above = (below + 1).min(SEVERITY_RAMP.len() - 1);
            mix(SEVERITY_RAMP[below], SEVERITY_RAMP[above], position - below as f64)
        })
        .collect()
}

fn mix(a: RGBColor, b: RGBColor, t: f64) -> RGBColor {
    let channel = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * t).round() as u8;
    RGBColor(channel(a.0, b.0), channel(a.1, b.1), channel(a.2, b.2))
}
