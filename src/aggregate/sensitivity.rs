//! Sensitivity published: the counts of `tally::sensitivity` in, per outcome and rung and per
//! uncertain param, the probability in each fifth of the param's distribution, the swing and a
//! rank correlation out.
//!
//! - Per fifth `j` (1 to 5): `p_j` = the runs of that fifth in which the outcome happened (held
//!   by the horizon; for a rung, reached by the horizon), over the runs of that fifth, with its
//!   Wilson 95% interval.
//! - The swing: `p_5 - p_1`, with Newcombe's hybrid score interval for two independent samples
//!   (the runs of two fifths are different runs).
//! - The rank correlation: Pearson's correlation, over all runs, between the param's rank
//!   `F(x)` (its CDF at the draw, uniform on [0, 1]: Spearman's rank for a population) and the
//!   outcome as 0 or 1. From the integer sums `n`, `ΣF`, `ΣF²`, `Σy`, `ΣFy`:
//!   `r = (ΣFy/n - ΣF/n · Σy/n) / sqrt((ΣF²/n - (ΣF/n)²) · (Σy/n)(1 - Σy/n))`, 0 when either
//!   varies not at all. A param that nothing reads has `r` near 0, within about `2/sqrt(n)`.
//!
//! Every number is rounded to the precision its runs support (`decimals_for`), intervals
//! outward, as the tables are.

use serde::{Deserialize, Serialize};

use super::check::estimate_is_valid;
use super::difference::independent_difference;
use super::{Estimate, ShareEstimate, Summary, decimals_for, round_down, round_to, round_up};
use crate::model::ScenarioInfo;
use crate::tally::sensitivity::{BINS, F_ONE, Sensitivity};

/// Every outcome's and rung's sensitivity to every param drawn from a distribution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SensitivityTables {
    /// The params drawn from a distribution, in declaration order: the order of every cell's
    /// `params`.
    pub params: Vec<String>,
    /// The outcomes (declaration order), then the rungs above the initial one.
    pub cells: Vec<CellSensitivity>,
}

/// One outcome's (or rung's) sensitivity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellSensitivity {
    /// `outcome` or `rung`.
    pub kind: String,
    /// The outcome's id, or the rung's level name (reached that rung or a higher one).
    pub id: String,
    /// The runs in which it happened by the horizon.
    pub count: u64,
    /// One entry per param of [`SensitivityTables::params`].
    pub params: Vec<ParamSensitivity>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamSensitivity {
    pub param: String,
    /// Per fifth of the param's distribution, lowest first: the runs of that fifth and those in
    /// which the outcome happened.
    pub bins: Vec<ShareEstimate>,
    pub swing: Swing,
    /// The rank correlation between the param and the outcome (see the module header).
    pub correlation: f64,
}

/// `p(top fifth) - p(bottom fifth)` with its 95% interval, rounded to `decimals` (the interval
/// outward).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Swing {
    pub decimals: u32,
    pub diff: f64,
    pub lo: f64,
    pub hi: f64,
}

/// What a cell is, as `sensitivity.csv` and summary.json name it.
pub const OUTCOME: &str = "outcome";
pub const RUNG: &str = "rung";

impl ParamSensitivity {
    /// Param `p`'s counts for cell `c`.
    fn of(s: &Sensitivity, c: usize, p: usize) -> ParamSensitivity {
        let (counts, runs) = (s.counts_of(c, p), s.runs_of(p));
        // A fifth without runs (a tiny job) has p = 0 and the interval [0, 1].
        let bins = (0..BINS).map(|b| ShareEstimate::new(counts[b], runs[b])).collect();
        let (top, bottom) = (BINS - 1, 0);
        let d = independent_difference(counts[top], runs[top], counts[bottom], runs[bottom]);
        let decimals = decimals_for(runs[top].min(runs[bottom]));
        let swing = Swing {
            decimals,
            diff: round_to(d.diff, decimals),
            lo: round_down(d.lo, decimals),
            hi: round_up(d.hi, decimals),
        };
        ParamSensitivity {
            param: s.params[p].clone(),
            bins,
            swing,
            correlation: round_to(
                correlation(
                    s.runs,
                    s.sum_f[p],
                    s.sum_f2[p],
                    s.happened(c),
                    s.sum_fy[c * s.params.len() + p],
                ),
                decimals_for(s.runs),
            ),
        }
    }
}

/// Pearson's correlation between `F` (sums in multiples of 2^-32) and a 0/1 outcome, from the
/// exact sums over `n` runs (see the module header).
pub fn correlation(n: u64, sum_f: u128, sum_f2: u128, sum_y: u64, sum_fy: u128) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let one = F_ONE as f64;
    let nf = n as f64;
    let mean_f = sum_f as f64 / one / nf;
    let mean_y = sum_y as f64 / nf;
    let var_f = sum_f2 as f64 / (one * one) / nf - mean_f * mean_f;
    let var_y = mean_y * (1.0 - mean_y);
    let cov = sum_fy as f64 / one / nf - mean_f * mean_y;
    if var_f <= 0.0 || var_y <= 0.0 {
        return 0.0;
    }
    (cov / (var_f * var_y).sqrt()).clamp(-1.0, 1.0)
}

/// The published sensitivity of a scenario's counts.
pub fn sensitivity_tables(info: &ScenarioInfo, s: &Sensitivity) -> SensitivityTables {
    let cells = (0..s.cells())
        .map(|c| {
            let (kind, id) = if c < s.outcomes {
                (OUTCOME, info.outcomes[c].id.clone())
            } else {
                (RUNG, info.levels[s.rungs[c - s.outcomes]].clone())
            };
            CellSensitivity {
                kind: kind.into(),
                id,
                count: s.happened(c),
                params: (0..s.params.len()).map(|p| ParamSensitivity::of(s, c, p)).collect(),
            }
        })
        .collect();
    SensitivityTables {
        params: s.params.clone(),
        cells,
    }
}

impl CellSensitivity {
    /// The params by decreasing `|swing|`, a tie (the swing is rounded) by decreasing
    /// `|correlation|`, then in declaration order: a tornado's order.
    pub fn by_swing(&self) -> Vec<&ParamSensitivity> {
        let mut params: Vec<&ParamSensitivity> = self.params.iter().collect();
        params.sort_by(|a, b| {
            (b.swing.diff.abs().total_cmp(&a.swing.diff.abs()))
                .then(b.correlation.abs().total_cmp(&a.correlation.abs()))
        });
        params
    }
}

/// What is wrong with a summary's sensitivity read back: the params must be uncertain params of
/// the scenario in its order, the cells its outcomes then the rungs of `rung_reached`, each with
/// the count the tables give at the horizon; per param, five fifths whose runs add up to all
/// runs and whose counts add up to the cell's, each a valid share; a swing inside [-1, 1] with
/// `lo <= diff <= hi`, and a correlation in [-1, 1]. Checked once the rest is sound.
pub(super) fn problems(tables: &SensitivityTables, summary: &Summary) -> Vec<String> {
    let (info, runs) = (&summary.scenario, summary.runs);
    let mut problems = Vec::new();
    let mut names = info.params.iter().map(|p| p.name.as_str());
    if !tables.params.iter().all(|name| names.any(|n| n == name)) {
        problems.push(format!(
            "`sensitivity.params` [{}] are not params of the scenario in its order",
            tables.params.join(", ")
        ));
        return problems;
    }
    let horizon = info.steps;
    let expected: Vec<(&str, &str, u64)> = summary
        .tables
        .outcome_by
        .iter()
        .map(|s| (OUTCOME, s.id.as_str(), s.points[horizon].count))
        .chain(
            summary
                .tables
                .rung_reached
                .iter()
                .map(|s| (RUNG, s.id.as_str(), s.points[horizon].count)),
        )
        .collect();
    let found: Vec<(&str, &str)> = tables.cells.iter().map(|c| (c.kind.as_str(), c.id.as_str())).collect();
    if found != expected.iter().map(|&(kind, id, _)| (kind, id)).collect::<Vec<_>>() {
        problems.push(format!(
            "`sensitivity.cells` are [{}] where the scenario has [{}]",
            found
                .iter()
                .map(|(k, id)| format!("{k} {id}"))
                .collect::<Vec<_>>()
                .join(", "),
            expected
                .iter()
                .map(|(k, id, _)| format!("{k} {id}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        return problems;
    }
    for (cell, &(_, _, happened)) in tables.cells.iter().zip(&expected) {
        let name = format!("`sensitivity` of {} `{}`", cell.kind, cell.id);
        if cell.count != happened {
            problems.push(format!(
                "{name}: `count` is {} where `tables` give {happened} at the horizon",
                cell.count
            ));
            continue;
        }
        let params: Vec<&str> = cell.params.iter().map(|p| p.param.as_str()).collect();
        if params != tables.params {
            problems.push(format!("{name}: `params` must be [{}]", tables.params.join(", ")));
            continue;
        }
        for param in &cell.params {
            let bins = &param.bins;
            let total = |f: fn(&ShareEstimate) -> u64| bins.iter().try_fold(0u64, |sum, e| sum.checked_add(f(e)));
            let bins_fit = bins.len() == BINS
                && total(|e| e.runs) == Some(runs)
                && total(|e| e.count) == Some(cell.count)
                && bins.iter().all(|e| {
                    let estimate = Estimate {
                        count: e.count,
                        p: e.p,
                        lo: e.lo,
                        hi: e.hi,
                    };
                    estimate_is_valid(&estimate, e.runs)
                });
            let w = &param.swing;
            let swing_fits = -1.0 <= w.lo && w.lo <= w.diff && w.diff <= w.hi && w.hi <= 1.0;
            if !bins_fit || !swing_fits || !(-1.0..=1.0).contains(&param.correlation) {
                problems.push(format!(
                    "{name}, param `{}`: must give {BINS} fifths whose runs add up to {runs} and counts to {}, each a share with an interval, a swing with `lo <= diff <= hi` in [-1, 1] and a correlation in [-1, 1]",
                    param.param, cell.count
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::check::summary_problems;
    use crate::aggregate::summarize;
    use crate::job::Job;

    fn summary() -> Summary {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(
            &path,
            "[scenario]\nname = \"s\"\nsteps = 6\nstep_unit = \"month\"\n\
             [escalation]\nlevels = [\"calm\", \"tense\", \"crisis\"]\ninitial = \"calm\"\n\
             [actors.a]\nname = \"A\"\nready = true\n\
             [params]\np = { triangular = [0.05, 0.1, 0.3] }\nq = { beta = [2, 5] }\n\
             [[triggers]]\nid = \"x\"\nlabel = \"X\"\nactor = \"a\"\nprobability = \"p\"\neffects = [\"escalation += 1\"]\n\
             [[outcomes]]\nid = \"o\"\nlabel = \"O\"\nwhen = \"escalation >= 'tense'\"\n",
        )
        .unwrap();
        let model = crate::compile::compile(&crate::load::load(&path).unwrap()).unwrap();
        let job = Job::new(&model, Some(1), Some(2000));
        summarize(&model.info, &job.identity(), &job.results(&|_| {}).unwrap())
    }

    #[test]
    fn correlation_is_pearsons_from_the_sums() {
        // F = 0, 1/2, 1 against y = 0, 0, 1: r = 0.866.
        let half = u128::from(F_ONE / 2);
        let one = u128::from(F_ONE);
        let r = correlation(3, half + one, half * half + one * one, 1, one);
        assert!((r - 0.75f64.sqrt()).abs() < 1e-12, "{r}");
        assert_eq!(correlation(3, 0, 0, 1, 0), 0.0, "F never varies");
        assert_eq!(correlation(0, 0, 0, 0, 0), 0.0);
    }

    #[test]
    fn summaries_read_back_are_checked() {
        let s = summary();
        let tables = s.sensitivity.as_ref().unwrap();
        assert_eq!(tables.params, ["p", "q"]);
        let kinds: Vec<(&str, &str)> = tables.cells.iter().map(|c| (c.kind.as_str(), c.id.as_str())).collect();
        assert_eq!(kinds, [("outcome", "o"), ("rung", "tense"), ("rung", "crisis")]);
        assert_eq!(summary_problems(&s), Vec::<String>::new());
        type Tamper = Box<dyn Fn(&mut SensitivityTables)>;
        let cases: Vec<(&str, Tamper)> = vec![
            ("`sensitivity.params`", Box::new(|t| t.params.reverse())),
            (
                "`sensitivity.cells`",
                Box::new(|t| t.cells.pop().map(drop).unwrap_or_default()),
            ),
            ("`count` is", Box::new(|t| t.cells[0].count += 1)),
            (
                "param `p`: must give 5 fifths",
                Box::new(|t| t.cells[0].params[0].bins[2].runs += 1),
            ),
            (
                "param `q`: must give",
                Box::new(|t| t.cells[1].params[1].swing.lo = 2.0),
            ),
            (
                "param `p`: must give",
                Box::new(|t| t.cells[2].params[0].correlation = -1.5),
            ),
        ];
        for (expected, tamper) in cases {
            let mut bad = s.clone();
            tamper(bad.sensitivity.as_mut().unwrap());
            let problems = summary_problems(&bad).join("; ");
            assert!(problems.contains(expected), "{expected}: {problems}");
        }
    }
}
