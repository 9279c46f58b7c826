//! The report's account of the paired comparison: what common random numbers are, the forest
//! plots, how much narrower the paired intervals are than unpaired ones would be, and each
//! outcome's difference over time.
//!
//! In: the summaries (the first is the baseline) and the difference charts rendered by
//! [`crate::plot`]. Out: HTML appended to the comparison section; nothing when no variant ran
//! on the baseline's runs.

use std::fmt::Write;

use anyhow::Result;

use crate::aggregate::Summary;
use crate::aggregate::difference::{Difference, PairedCounts, paired_difference, unpaired_difference};
use crate::format::{horizon_label, percent_decimals};

use super::{escape, write_figure};

/// Whether a comparison chart is one of the difference charts, which the page shows apart.
pub(super) fn is_difference_chart(name: &str) -> bool {
    name.starts_with("forest_") || name.starts_with("difference_")
}

/// Whether `variant` ran on the runs of `baseline` and carries the paired counts
/// ([`Summary::paired_with`]).
fn is_paired(variant: &Summary, baseline: &Summary) -> bool {
    variant.paired_with(baseline).is_some()
}

/// A variant's difference from the baseline for one outcome at the horizon: paired, and as if
/// the two had been estimated from independent runs.
fn horizon_differences(variant: &Summary, baseline: &Summary, id: &str) -> Option<(Difference, Difference)> {
    let pair = variant.paired_with(baseline)?.outcome_by.iter().find(|p| p.id == id)?;
    let mine = variant.outcome_table().iter().find(|s| s.id == id)?.points.last()?;
    let theirs = baseline.outcome_table().iter().find(|s| s.id == id)?.points.last()?;
    let counts = PairedCounts::from_margins(*pair.both.last()?, mine.count, theirs.count, variant.runs)?;
    Some((
        paired_difference(counts),
        unpaired_difference(mine.count, theirs.count, variant.runs),
    ))
}

/// `2.4×`, `15×`: how many times narrower the paired interval is.
fn ratio_text(ratio: f64) -> String {
    if !ratio.is_finite() || ratio <= 0.0 {
        "—".to_string()
    } else if ratio < 10.0 {
        format!("{ratio:.1}\u{d7}")
    } else {
        format!("{ratio:.0}\u{d7}")
    }
}

/// `2.4× narrower`; `no narrower` when pairing gains nothing (a variant that makes an outcome
/// certain leaves the variant's side no variance for the pairing to remove).
fn gain_text(ratio: f64) -> String {
    if ratio < 1.05 {
        "no narrower".to_string()
    } else {
        format!("{} narrower", ratio_text(ratio))
    }
}

/// A width in percentage points, one decimal more than the probabilities, so that a width of
/// a few tenths still reads as a number.
fn width_text(width: f64, decimals: u32) -> String {
    format!("{:.*}", decimals as usize + 1, 100.0 * width)
}

/// The heading, what common random numbers are, the forest plots and the table of interval
/// widths; nothing when no variant ran on the baseline's runs.
pub(super) fn write_pairing(page: &mut String, summaries: &[Summary], charts: &[(String, String)]) -> Result<()> {
    let Some((baseline, others)) = summaries.split_first() else {
        return Ok(());
    };
    let paired: Vec<&Summary> = others.iter().filter(|s| is_paired(s, baseline)).collect();
    if paired.is_empty() {
        return Ok(());
    }
    let horizon = escape(&horizon_label(&baseline.scenario));
    writeln!(page, "<h3 id=\"differences\">What each variant changes</h3>")?;
    writeln!(
        page,
        "<p>Each variant ran on common random numbers with the baseline: run <i>i</i> of the \
         variant draws the same random numbers as run <i>i</i> of the baseline, so the two differ \
         only where the variant's changes make them differ, and the difference is measured from \
         those runs alone, with a much narrower interval than two independent estimates would \
         give. The forest plot shows each variant's difference P(variant) &minus; P(baseline) by \
         {horizon}, in percentage points, with its paired 95% interval.</p>"
    )?;
    let unpaired: Vec<String> = others
        .iter()
        .filter(|s| !is_paired(s, baseline))
        .map(|s| escape(&s.scenario.name))
        .collect();
    if !unpaired.is_empty() {
        writeln!(
            page,
            "<p>Not run on the baseline's runs (another seed or run count), so not in these \
             charts: {}. Their differences in the table above have no paired interval.</p>",
            unpaired.join(", ")
        )?;
    }
    for (name, svg) in charts.iter().filter(|(name, _)| name.starts_with("forest_")) {
        write_figure(page, name, svg)?;
    }
    write_widths(page, baseline, &paired, &horizon)?;
    Ok(())
}

/// The paired and the unpaired interval's widths (fractions) and the percent decimals shown.
type Widths = (f64, f64, u32);

/// How much the pairing gains: per outcome and variant, the width of the paired 95% interval
/// of the difference by the horizon against the unpaired one.
fn write_widths(page: &mut String, baseline: &Summary, paired: &[&Summary], horizon: &str) -> std::fmt::Result {
    let rows: Vec<(&str, Vec<Option<Widths>>)> = baseline
        .outcome_table()
        .iter()
        .map(|outcome| {
            let cells = paired
                .iter()
                .map(|v| {
                    let (p, u) = horizon_differences(v, baseline, &outcome.id)?;
                    let decimals = percent_decimals(v).min(percent_decimals(baseline));
                    Some((p.width(), u.width(), decimals))
                })
                .collect();
            (outcome.label.as_str(), cells)
        })
        .collect();
    let mut ratios: Vec<f64> = rows
        .iter()
        .flat_map(|(_, cells)| cells.iter().flatten())
        .map(|(p, u, _)| u / p)
        .filter(|r| r.is_finite())
        .collect();
    if ratios.is_empty() {
        return Ok(());
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    writeln!(
        page,
        "<p id=\"pairing-gain\">What the pairing gains: the width of the 95% interval of each \
         difference by {horizon}, paired against unpaired (the interval from two independent \
         estimates with the same run counts), in percentage points. Across these {} differences \
         the paired interval is a median {} narrower, up to {}.</p>",
        ratios.len(),
        ratio_text(median),
        ratio_text(ratios[ratios.len() - 1])
    )?;
    write!(
        page,
        "<div class=\"wide\">\n<table class=\"compare\">\n<thead><tr><th>Outcome</th>"
    )?;
    for variant in paired {
        write!(page, "<th class=\"num\">{}</th>", escape(&variant.scenario.name))?;
    }
    writeln!(page, "</tr></thead>\n<tbody>")?;
    for (label, cells) in &rows {
        write!(page, "<tr><td>{}</td>", escape(label))?;
        for cell in cells {
            match cell {
                Some((p, u, decimals)) => write!(
                    page,
                    "<td class=\"num\">{} vs {} pp<span class=\"ci\">{}</span></td>",
                    width_text(*p, *decimals),
                    width_text(*u, *decimals),
                    gain_text(u / p)
                )?,
                None => write!(page, "<td class=\"num\">&ndash;</td>")?,
            }
        }
        writeln!(page, "</tr>")?;
    }
    writeln!(page, "</tbody>\n</table>\n</div>")
}

/// Each outcome's difference over time, after the overlays.
pub(super) fn write_differences_over_time(page: &mut String, charts: &[(String, String)]) -> std::fmt::Result {
    let over_time: Vec<&(String, String)> = charts
        .iter()
        .filter(|(name, _)| name.starts_with("difference_"))
        .collect();
    if over_time.is_empty() {
        return Ok(());
    }
    writeln!(
        page,
        "<h3>Differences over time</h3>\n<p>Each outcome's difference from the baseline by each \
         date, with its paired 95% band.</p>"
    )?;
    for (name, svg) in over_time {
        write_figure(page, name, svg)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::render_report;
    use crate::comparable::Comparison;
    use crate::plot::difference_tests::paired;
    use crate::plot::tests::synthetic_summary;

    fn baseline() -> crate::aggregate::Summary {
        synthetic_summary("baseline", "Baseline", 12, 0.0)
    }

    fn variant() -> crate::aggregate::Summary {
        paired(
            synthetic_summary("lethal_aid", "Seoul sends lethal aid", 12, 0.3),
            &baseline(),
        )
    }

    #[test]
    fn a_paired_comparison_shows_forest_plots_widths_and_differences_over_time() {
        let page = render_report(&Comparison::new(&[baseline(), variant()])).unwrap();
        let at = |needle: &str| page.find(needle).unwrap_or_else(|| panic!("no {needle:?} in the page"));
        let table = at("<table class=\"compare\">");
        let heading = at("<h3 id=\"differences\">What each variant changes</h3>");
        let forest = at("<figure id=\"chart-forest_outcomes\">");
        let rungs = at("<figure id=\"chart-forest_rungs\">");
        let gain = at("<p id=\"pairing-gain\">");
        let overlay = at("<figure id=\"chart-compare_outcome_clash\">");
        let over_time = at("<figure id=\"chart-difference_outcome_clash\">");
        assert!(table < heading && heading < forest && forest < rungs && rungs < gain);
        assert!(
            gain < overlay && overlay < over_time,
            "overlays, then differences over time"
        );
        assert!(page.contains("common random numbers"));
        // 3,900 and 3,000 of 20,000: the paired interval is narrower than the unpaired one.
        let clash = &page[gain..overlay];
        let cell = clash
            .find("<tr><td>Armed clash on the peninsula</td><td class=\"num\">")
            .unwrap();
        let text = &clash[cell..clash[cell..].find("</td></tr>").unwrap() + cell];
        let widths: Vec<f64> = text.split(['>', ' ']).filter_map(|w| w.parse().ok()).collect();
        assert_eq!(widths.len(), 2, "{text}");
        assert!(
            widths[0] < widths[1],
            "paired {} against unpaired {}",
            widths[0],
            widths[1]
        );
        assert!(text.contains("\u{d7} narrower"), "{text}");
        // The comparison table gives the difference's interval on a line of its own.
        assert!(
            page.contains("<span class=\"diff\">+4.5 pp<span class=\"ci\">[+4.2, +4.8]</span></span>"),
            "no paired cell in the comparison table"
        );
    }

    #[test]
    fn an_unpaired_comparison_has_no_difference_section() {
        let unpaired = synthetic_summary("lethal_aid", "Seoul sends lethal aid", 12, 0.3);
        let page = render_report(&Comparison::new(&[baseline(), unpaired])).unwrap();
        assert!(!page.contains("id=\"differences\"") && !page.contains("chart-forest"));
        assert!(!page.contains("pairing-gain"));
        // A second variant on other runs is named, and only the paired one is drawn.
        let mut other = synthetic_summary("restraint", "Beijing restrains", 12, -0.4);
        other.seed = 7;
        let page = render_report(&Comparison::new(&[baseline(), variant(), other])).unwrap();
        assert!(
            page.contains("so not in these charts: Beijing restrains."),
            "the unpaired variant is not named"
        );
        let gain = page.find("<p id=\"pairing-gain\">").unwrap();
        let table_end = page[gain..].find("</table>").unwrap() + gain;
        assert!(!page[gain..table_end].contains("Beijing restrains"));
    }

    #[test]
    fn gains_are_written_plainly() {
        assert_eq!(super::gain_text(2.44), "2.4\u{d7} narrower");
        assert_eq!(super::gain_text(15.2), "15\u{d7} narrower");
        assert_eq!(super::gain_text(1.0), "no narrower");
        assert_eq!(super::width_text(0.0062, 1), "0.62");
    }
}
