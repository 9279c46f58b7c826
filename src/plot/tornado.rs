//! Tornado charts: what a chart of an outcome's sensitivity shows, pure (no drawing), and its CSV.
//!
//! In: a [`Summary`] with sensitivity tables. Out: one [`Tornado`] per outcome: the params with
//! the largest swings first (at most [`MAX_BARS`]), each bar running from `P(outcome)` in the
//! param's bottom fifth to that in its top fifth, both ends with their unrounded Wilson 95%
//! intervals, around the overall `P(outcome)` at the horizon; and the same numbers as CSV.
//! `super::tornado_render` draws it.

use anyhow::Result;

use crate::aggregate::sensitivity::{OUTCOME, ParamSensitivity};
use crate::aggregate::{ShareEstimate, Summary, decimals_for, estimate, wilson};
use crate::format::{difference_interval_pp, difference_pp, thousands};

/// Most params a tornado shows; the others are in `swings.csv`.
pub const MAX_BARS: usize = 12;

/// A probability as plotted, in percent: `count / runs` and the unrounded Wilson interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct End {
    pub count: u64,
    pub runs: u64,
    pub p: f64,
    pub lo: f64,
    pub hi: f64,
}

impl End {
    fn of(e: &ShareEstimate) -> End {
        let (lo, hi) = wilson(e.count, e.runs);
        let p = if e.runs == 0 {
            0.0
        } else {
            100.0 * e.count as f64 / e.runs as f64
        };
        End {
            count: e.count,
            runs: e.runs,
            p,
            lo: 100.0 * lo,
            hi: 100.0 * hi,
        }
    }
}

/// One param's bar.
#[derive(Clone, Debug, PartialEq)]
pub struct TornadoBar {
    pub param: String,
    pub bottom: End,
    pub top: End,
    /// The swing and its interval as the report writes them: `+11.0 pp [+8.2, +13.1]`.
    pub swing_text: String,
}

/// One outcome's tornado.
#[derive(Clone, Debug, PartialEq)]
pub struct Tornado {
    /// The file name: `tornado_<outcome id>`.
    pub name: String,
    pub outcome: String,
    pub title: String,
    pub subtitle: String,
    /// The overall probability at the horizon, in percent.
    pub overall: End,
    pub bars: Vec<TornadoBar>,
    /// How many params were left out (smaller swings).
    pub more: usize,
}

/// `+11.0 pp [+8.2, +13.1]`: a swing with its interval, in the decimals its runs support.
pub fn swing_text(param: &ParamSensitivity) -> String {
    let decimals = param.swing.decimals.saturating_sub(2);
    format!(
        "{} {}",
        difference_pp(param.swing.diff, 0.0, decimals),
        difference_interval_pp(param.swing.lo, param.swing.hi, decimals)
    )
}

/// One tornado per outcome of a summary with sensitivity tables (none without), in the
/// outcomes' order; an outcome without params to show gets none.
pub fn tornadoes(summary: &Summary) -> Vec<Tornado> {
    let Some(tables) = &summary.sensitivity else {
        return Vec::new();
    };
    let horizon = summary.scenario.steps;
    tables
        .cells
        .iter()
        .filter(|cell| cell.kind == OUTCOME && !cell.params.is_empty())
        .map(|cell| {
            let label = summary
                .scenario
                .outcomes
                .iter()
                .find(|o| o.id == cell.id)
                .map_or(cell.id.as_str(), |o| o.label.as_str());
            let overall = summary
                .tables
                .outcome_by
                .iter()
                .find(|s| s.id == cell.id)
                .map_or(cell.count, |s| s.points[horizon].count);
            let ranked = cell.by_swing();
            let bars = ranked
                .iter()
                .take(MAX_BARS)
                .map(|param| TornadoBar {
                    param: param.param.clone(),
                    bottom: End::of(&param.bins[0]),
                    top: End::of(&param.bins[param.bins.len() - 1]),
                    swing_text: swing_text(param),
                })
                .collect();
            Tornado {
                name: format!("tornado_{}", cell.id),
                outcome: cell.id.clone(),
                title: format!("What moves \u{201c}{label}\u{201d}"),
                subtitle: format!(
                    "P by the horizon in the bottom and the top fifth of each param's distribution, 95% Wilson intervals; {} runs, seed {}",
                    thousands(summary.runs),
                    summary.seed
                ),
                overall: End::of(&ShareEstimate::new(overall, summary.runs)),
                bars,
                more: ranked.len().saturating_sub(MAX_BARS),
            }
        })
        .collect()
}

/// The chart's numbers, one row per bar end: `rank`, `param`, `fifth` (1 or 5), `count` of
/// `runs`, `p` with its interval as fractions rounded as in every table (outward), and the
/// overall `p` of the outcome.
pub fn tornado_csv(tornado: &Tornado) -> Result<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "outcome",
        "rank",
        "param",
        "fifth",
        "count",
        "runs",
        "p",
        "lo95",
        "hi95",
        "overall_p",
    ])?;
    let overall = estimate(
        tornado.overall.count,
        tornado.overall.runs,
        decimals_for(tornado.overall.runs),
    );
    for (rank, bar) in tornado.bars.iter().enumerate() {
        for (fifth, end) in [(1, &bar.bottom), (5, &bar.top)] {
            let e = estimate(end.count, end.runs, decimals_for(end.runs));
            out.write_record([
                tornado.outcome.clone(),
                (rank + 1).to_string(),
                bar.param.clone(),
                fifth.to_string(),
                end.count.to_string(),
                end.runs.to_string(),
                e.p.to_string(),
                e.lo.to_string(),
                e.hi.to_string(),
                overall.p.to_string(),
            ])?;
        }
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}
