//! The scenario's time axis: `step_unit` and `start` in, steps per year and step labels out.

pub(super) fn steps_per_year(unit: &str) -> Option<f64> {
    Some(match unit {
        "day" => 365.0,
        "week" => 52.0,
        "month" => 12.0,
        "quarter" => 4.0,
        "year" => 1.0,
        _ => return None,
    })
}

/// A start date `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (years 1000 to 9999, a day that exists in
/// that month): its year and month, or `None` if it is not such a date.
pub(super) fn parse_start(start: &str) -> Option<(i32, u32)> {
    let mut parts = start.split('-');
    let mut number = |digits: usize| -> Option<u32> {
        let part = parts.next()?;
        (part.len() == digits && part.bytes().all(|b| b.is_ascii_digit())).then(|| part.parse().ok())?
    };
    let year = number(4)?;
    let month = if start.len() > 4 { number(2)? } else { 1 };
    let day = if start.len() > 7 { number(2)? } else { 1 };
    if parts.next().is_some() || !(1000..=9999).contains(&year) || !(1..=12).contains(&month) {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    (1..=days_in_month).contains(&day).then_some((year as i32, month))
}

/// Axis labels for steps `0..=steps`: calendar months for monthly, quarterly and yearly steps
/// with a start date; otherwise "month 3".
pub(super) fn step_labels(start: Option<&str>, unit: &str, steps: usize) -> Vec<String> {
    let months_per_step = match unit {
        "month" => Some(1),
        "quarter" => Some(3),
        "year" => Some(12),
        _ => None,
    };
    (0..=steps)
        .map(|t| match (start.and_then(parse_start), months_per_step) {
            (Some((year, month)), Some(m)) => {
                let months = (year as i64) * 12 + (month as i64 - 1) + (t as i64) * m;
                if unit == "year" {
                    format!("{}", months / 12)
                } else {
                    format!("{}-{:02}", months / 12, months % 12 + 1)
                }
            }
            _ => format!("{unit} {t}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_dates_are_real_calendar_dates() {
        for good in [
            "2025",
            "2025-05",
            "2025-05-31",
            "2024-02-29",
            "2000-02-29",
            "1999-12-01",
        ] {
            assert!(parse_start(good).is_some(), "{good}");
        }
        for bad in [
            "2025-02-31",
            "2025-02-29",
            "1900-02-29",
            "2025-04-31",
            "2025-00",
            "2025-13",
            "2025-05-00",
            "2025-5",
            "2025-05-1",
            "+2025",
            "+2025-05",
            "0999",
            "2025-05-01-01",
            "2025-",
            "",
            "２０２５",
        ] {
            assert!(parse_start(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn step_labels_follow_calendar() {
        let labels = step_labels(Some("2025-05"), "month", 9);
        assert_eq!(labels[0], "2025-05");
        assert_eq!(labels[8], "2026-01");
        assert_eq!(step_labels(Some("2025-05"), "quarter", 2)[2], "2025-11");
        assert_eq!(step_labels(None, "week", 1), vec!["week 0", "week 1"]);
    }
}
