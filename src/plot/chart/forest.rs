//! The charts of the difference each variant makes: the forest plots (every outcome's, and every
//! rung's, difference at the horizon, one marker per paired variant) and each outcome's
//! difference over time, with their CSV.
//!
//! In: the comparison's summaries and baseline ([`ComparisonCharts`]). Out: [`Chart`]s with a
//! [`Body::Forest`] or [`Body::DiffLines`] body, none when no variant was simulated on the
//! baseline's runs. A variant that was not is named in the subtitle as not shown.

use anyhow::Result;

use crate::aggregate::{decimals_for, round_down, round_to, round_up};
use crate::format::{horizon_label, thousands};

use super::super::difference::{DiffKind, DiffPoint, forest_groups, paired_variants, unpaired_variants};
use super::super::difference::{DiffSeries, difference_series};
use super::{Body, Chart, ComparisonCharts, LegendEntry, Mark, PercentScale, StepAxis, file_stem};

/// A difference axis in percentage points from `min` to `max`, ticked every `step`; it always
/// holds 0, so that the zero line is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(in crate::plot) struct DiffScale {
    pub(in crate::plot) min: f64,
    pub(in crate::plot) max: f64,
    pub(in crate::plot) step: f64,
}

impl DiffScale {
    /// The smallest round scale (at most eight intervals) holding 0 and every value of
    /// `values`, with a little headroom.
    pub(in crate::plot) fn fitted(values: impl IntoIterator<Item = f64>) -> Self {
        let (mut low, mut high) = (0.0f64, 0.0f64);
        for v in values.into_iter().filter(|v| v.is_finite()) {
            low = low.min(v);
            high = high.max(v);
        }
        let pad = 0.02 * (high - low).max(0.1);
        let (low, high) = (
            low - if low < 0.0 { pad } else { 0.0 },
            high + if high > 0.0 { pad } else { 0.0 },
        );
        const STEPS: [f64; 13] = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 25.0, 50.0];
        let step = STEPS
            .iter()
            .copied()
            .find(|step| ((high / step).ceil() - (low / step).floor()) <= 8.0)
            .unwrap_or(50.0);
        let (mut min, mut max) = ((low / step).floor() * step, (high / step).ceil() * step);
        if max - min < step {
            // All differences are zero: one tick either side.
            (min, max) = (-step, step);
        }
        // A difference of probabilities lies within ±100 pp: headroom never goes past that
        // (every step above 1 divides 100, so the ends stay on ticks).
        let (min, max) = (min.max(-100.0), max.min(100.0));
        DiffScale { min, max, step }
    }

    pub(in crate::plot) fn ticks(&self) -> Vec<f64> {
        let count = ((self.max - self.min) / self.step).round() as i64;
        let first = (self.min / self.step).round() as i64;
        (0..=count).map(|i| (first + i) as f64 * self.step).collect()
    }

    /// `+2`, `0`, `-0.5`: signed, with the decimals the step needs.
    pub(in crate::plot) fn label(&self, value: f64) -> String {
        let decimals = if self.step >= 1.0 {
            0
        } else if self.step >= 0.1 {
            1
        } else {
            2
        };
        let shown = format!("{value:+.decimals$}");
        if shown[1..].bytes().all(|b| b == b'0' || b == b'.') {
            shown[1..].to_string()
        } else {
            shown
        }
    }
}

const DIFF_AXIS: &str = "difference from the baseline (percentage points)";

impl ComparisonCharts<'_> {
    /// "Not paired with the baseline, so not shown: X (seed 7)." or nothing.
    fn unpaired_note(&self) -> String {
        let names: Vec<String> = unpaired_variants(self.summaries, self.baseline)
            .into_iter()
            .map(|i| {
                let s = &self.summaries[i];
                format!("{} (seed {}, {} runs)", s.scenario.name, s.seed, thousands(s.runs))
            })
            .collect();
        if names.is_empty() {
            String::new()
        } else {
            format!(" Not run on the baseline's runs, so not shown: {}.", names.join("; "))
        }
    }

    fn difference_chart(&self, name: String, title: String, x_desc: &str, body: Body) -> Chart {
        let base = &self.summaries[self.baseline];
        let variants = paired_variants(self.summaries, self.baseline);
        let legend = variants
            .iter()
            .map(|&i| LegendEntry {
                label: self.summaries[i].scenario.name.clone(),
                style: self.styles[i],
                mark: Mark::Line,
            })
            .collect();
        let subtitle = format!(
            "P(variant) \u{2212} P({}), paired 95% intervals (same random numbers run by run), {} runs each, seed {}.{}",
            base.scenario.name,
            thousands(base.runs),
            base.seed,
            self.unpaired_note()
        );
        Chart {
            subtitle,
            x_desc: x_desc.into(),
            y_desc: String::new(),
            legend_title: "Variant".into(),
            legend,
            empty_note: "No variant was run on the baseline's runs.".into(),
            scale: PercentScale::FULL,
            ..self.chart(name, title, Mark::Line, body)
        }
    }

    fn forest(&self, kind: DiffKind) -> Option<Chart> {
        let groups = forest_groups(self.summaries, self.baseline, kind);
        if groups.is_empty() {
            return None;
        }
        let scale = DiffScale::fitted(
            groups
                .iter()
                .flat_map(|g| &g.marks)
                .flat_map(|m| &m.points)
                .flat_map(|p| [p.lo, p.hi, p.diff]),
        );
        let variants = paired_variants(self.summaries, self.baseline)
            .into_iter()
            .map(|i| (self.summaries[i].scenario.id.clone(), self.styles[i]))
            .collect();
        let decimals = self
            .summaries
            .iter()
            .map(crate::format::percent_decimals)
            .min()
            .unwrap_or(1);
        let horizon = horizon_label(&self.summaries[self.baseline].scenario);
        let (name, title) = match kind {
            DiffKind::Outcome => (
                "forest_outcomes",
                format!("What each variant changes: P(outcome by {horizon}), difference from the baseline"),
            ),
            DiffKind::Rung => (
                "forest_rungs",
                format!("What each variant changes: P(rung reached by {horizon}), difference from the baseline"),
            ),
        };
        let body = Body::Forest {
            groups,
            variants,
            scale,
            decimals,
        };
        Some(self.difference_chart(name.into(), title, DIFF_AXIS, body))
    }

    fn difference_over_time(&self, id: &str, label: &str) -> Option<Chart> {
        let series = difference_series(self.summaries, self.baseline, DiffKind::Outcome, id);
        if series.is_empty() {
            return None;
        }
        let styles = series
            .iter()
            .filter_map(|s| {
                let i = self.summaries.iter().position(|x| x.scenario.id == s.id)?;
                Some(self.styles[i])
            })
            .collect();
        let scale = DiffScale::fitted(series.iter().flat_map(|s| &s.points).flat_map(|p| [p.lo, p.hi]));
        let body = Body::DiffLines {
            axis: StepAxis::new(&self.summaries[self.baseline].scenario),
            series,
            styles,
            scale,
        };
        let time = super::time_desc(&self.summaries[self.baseline].scenario);
        Some(Chart {
            y_desc: "difference (pp)".into(),
            ..self.difference_chart(
                format!("difference_outcome_{}", file_stem(id)),
                format!("Outcome: {label} — P(by date), difference from the baseline"),
                &time,
                body,
            )
        })
    }

    /// `forest_outcomes`, `forest_rungs`, then `difference_outcome_<id>` per outcome of the
    /// baseline, when some variant was paired with it.
    pub(super) fn difference_charts(&self) -> Vec<Chart> {
        let base = &self.summaries[self.baseline];
        let mut charts: Vec<Chart> = [DiffKind::Outcome, DiffKind::Rung]
            .into_iter()
            .filter_map(|kind| self.forest(kind))
            .collect();
        for series in base.outcome_table() {
            charts.extend(self.difference_over_time(&series.id, &series.label));
        }
        charts
    }
}

/// A difference chart's numbers: one row per plotted difference, naming its series (for a forest
/// plot, the outcome or rung too), the variant and the baseline, the step and date, the
/// difference with its paired 95% interval as fractions rounded as `differences.csv` rounds them
/// (the interval outward), and the four paired counts.
pub(super) fn difference_csv(chart: &Chart) -> Result<String> {
    use crate::report::spreadsheet_safe;
    let mut out = csv::Writer::from_writer(Vec::new());
    let forest = matches!(chart.body, Body::Forest { .. });
    let keys: &[&str] = if forest {
        &["id", "label", "scenario", "scenario_name", "baseline"]
    } else {
        &["scenario", "scenario_name", "baseline"]
    };
    let columns = [
        "step",
        "date",
        "diff",
        "lo95",
        "hi95",
        "both",
        "variant_only",
        "baseline_only",
        "neither",
        "runs",
    ];
    out.write_record(keys.iter().chain(&columns))?;
    let mut row = |mut keys: Vec<String>, s: &DiffSeries, p: &DiffPoint| -> Result<()> {
        let runs = p.counts.runs();
        let decimals = decimals_for(runs);
        // `+ 0.0` turns a difference that rounds to -0 into 0.
        let fraction = |pp: f64, round: fn(f64, u32) -> f64| (round(pp / 100.0, decimals) + 0.0).to_string();
        keys.extend([s.id.clone(), spreadsheet_safe(&s.label), chart.baseline_id.clone()]);
        keys.extend([
            p.step.to_string(),
            chart.step_labels.get(p.step).cloned().unwrap_or_default(),
            fraction(p.diff, round_to),
            fraction(p.lo, round_down),
            fraction(p.hi, round_up),
            p.counts.both.to_string(),
            p.counts.variant_only.to_string(),
            p.counts.baseline_only.to_string(),
            p.counts.neither.to_string(),
            runs.to_string(),
        ]);
        out.write_record(&keys)?;
        Ok(())
    };
    match &chart.body {
        Body::Forest { groups, .. } => {
            for group in groups {
                for mark in &group.marks {
                    for p in &mark.points {
                        row(vec![group.id.clone(), spreadsheet_safe(&group.label)], mark, p)?;
                    }
                }
            }
        }
        Body::DiffLines { series, .. } => {
            for s in series {
                for p in &s.points {
                    row(Vec::new(), s, p)?;
                }
            }
        }
        _ => {}
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}
