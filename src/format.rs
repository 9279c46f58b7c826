//! How the report and the charts write numbers and horizons, so both say them alike.
//!
//! In: fractions, [`Estimate`]s, counts and a [`Summary`]'s [`ScenarioInfo`]. Out: text such as
//! `"34.5% [33.8, 35.2]"`, `"+4.1 pp"`, `"20,000"` or `"36 months from 2025-05"`. Pure: no
//! plotters, no HTML.

use crate::aggregate::{Estimate, Summary};
use crate::model::ScenarioInfo;

/// Decimal places of a percentage that a summary supports (its `decimals` are of a fraction).
pub fn percent_decimals(summary: &Summary) -> u32 {
    summary.decimals.saturating_sub(2)
}

/// `p` (a fraction) as a percentage with `decimals` places: `percent(0.345, 1)` is `"34.5%"`.
pub fn percent(p: f64, decimals: u32) -> String {
    format!("{}%", percent_number(p, decimals))
}

fn percent_number(p: f64, decimals: u32) -> String {
    format!("{:.*}", decimals as usize, 100.0 * p)
}

/// An estimate's 95% interval in percent: `"[33.8, 35.2]"`.
pub fn interval_text(estimate: &Estimate, decimals: u32) -> String {
    format!(
        "[{}, {}]",
        percent_number(estimate.lo, decimals),
        percent_number(estimate.hi, decimals)
    )
}

/// An estimate with its 95% interval: `"34.5% [33.8, 35.2]"`.
pub fn estimate_text(estimate: &Estimate, decimals: u32) -> String {
    format!(
        "{} {}",
        percent(estimate.p, decimals),
        interval_text(estimate, decimals)
    )
}

/// The difference `p - base` in percentage points: `"+4.1 pp"`, `"-0.3 pp"`, `"0.0 pp"`.
pub fn difference_pp(p: f64, base: f64, decimals: u32) -> String {
    let shown = format!("{:+.*}", decimals as usize, 100.0 * (p - base));
    // A difference that rounds to zero has no sign worth showing (and "-0.0" reads as a loss).
    if shown[1..].bytes().all(|b| b == b'0' || b == b'.') {
        format!("{} pp", &shown[1..])
    } else {
        format!("{shown} pp")
    }
}

/// The interval `[lo, hi]` of a difference (fractions) in percentage points, rounded outward:
/// `"[+2.9, +3.6]"`, `"[-0.1, +0.1]"`.
pub fn difference_interval_pp(lo: f64, hi: f64, decimals: u32) -> String {
    let scale = 10f64.powi(decimals as i32);
    let signed = |x: f64| {
        let shown = format!("{:+.*}", decimals as usize, x);
        if shown[1..].bytes().all(|b| b == b'0' || b == b'.') {
            shown[1..].to_string()
        } else {
            shown
        }
    };
    // Outward in the last printed digit, so that the printed interval contains the difference.
    let (lo, hi) = (
        (100.0 * lo * scale).floor() / scale,
        (100.0 * hi * scale).ceil() / scale,
    );
    format!("[{}, {}]", signed(lo), signed(hi))
}

/// `20000` as `"20,000"`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `"month"` -> `"months"` for counts other than one.
pub fn plural(unit: &str, count: usize) -> String {
    if count == 1 || unit.ends_with('s') {
        unit.to_string()
    } else {
        format!("{unit}s")
    }
}

/// "36 months from 2025-05".
pub fn describe_horizon(info: &ScenarioInfo) -> String {
    let length = format!("{} {}", info.steps, plural(&info.step_unit, info.steps));
    match &info.start {
        Some(start) => format!("{length} from {start}"),
        None => format!("{length} with no start date"),
    }
}

/// The label of the last step: "2028-05", or "month 36" without step labels.
pub fn horizon_label(info: &ScenarioInfo) -> String {
    match info.step_labels.last() {
        Some(label) if info.step_labels.len() == info.steps + 1 => label.clone(),
        _ => format!("{} {}", info.step_unit, info.steps),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::estimate;

    #[test]
    fn number_formats() {
        let estimate_of = |p: f64, decimals: u32| estimate((p * 20_000.0).round() as u64, 20_000, decimals);
        assert_eq!(percent(0.345, 1), "34.5%");
        assert_eq!(percent(0.0, 0), "0%");
        assert_eq!(estimate_text(&estimate_of(0.345, 3), 1), "34.5% [33.8, 35.2]");
        assert_eq!(difference_pp(0.386, 0.345, 1), "+4.1 pp");
        assert_eq!(difference_interval_pp(0.02861, 0.03601, 1), "[+2.8, +3.7]");
        assert_eq!(difference_interval_pp(-0.00001, 0.00001, 1), "[-0.1, +0.1]");
        assert_eq!(difference_interval_pp(0.0, 0.00001, 1), "[0.0, +0.1]");
        assert_eq!(difference_pp(0.342, 0.345, 1), "-0.3 pp");
        assert_eq!(difference_pp(0.3451, 0.345, 1), "0.0 pp");
        assert_eq!(thousands(20_000), "20,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
