//! Sweep charts: what a sweep's response curve and heat map of an outcome show, pure (no
//! drawing), and their CSV.
//!
//! In: the sweep's cells ([`crate::sweep::Cell`], one per point and outcome), the swept
//! settings' names and the `--threshold` levels. Out: one [`Curve`] per outcome (P by the
//! horizon against the first axis, the estimate `count / runs` with its unrounded Wilson 95%
//! interval at every point, one line per value of the second axis of a grid, and where each
//! line crosses each level), and for a grid one [`Heatmap`] per outcome; and the same numbers as
//! CSV. `super::sweep_render` draws them.

use anyhow::Result;

use super::tornado::End;
use crate::aggregate::{decimals_for, estimate, wilson};
use crate::format::{horizon_label, thousands};
use crate::model::ScenarioInfo;
use crate::sweep::{Cell, Crossing, crossing};

/// A heat map prints each cell's percentage when it has at most this many columns and rows.
pub const MAX_LABELLED: usize = 12;

/// One point of a curve: the swept value and its probability as plotted (percent).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurvePoint {
    pub x: f64,
    pub end: End,
}

/// One line of a curve: every value of the first axis at one value of the second (none for a
/// one-axis sweep).
#[derive(Clone, Debug, PartialEq)]
pub struct CurveLine {
    /// `param2 = v` for a grid; `None` for a one-axis sweep.
    pub legend: Option<String>,
    pub value2: Option<f64>,
    pub points: Vec<CurvePoint>,
    /// For each threshold level (same order as [`Curve::levels`]), the swept value where the
    /// line crosses it, interpolated between the points on either side, if it does.
    pub crossings: Vec<Option<f64>>,
}

/// One outcome's response curve.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    /// The file name: `curve_<outcome id>`.
    pub name: String,
    pub outcome: String,
    pub title: String,
    pub subtitle: String,
    /// The swept settings' names: the x axis's, and the second axis's for a grid.
    pub params: Vec<String>,
    /// The `--threshold` levels, in percent.
    pub levels: Vec<f64>,
    pub lines: Vec<CurveLine>,
}

/// One outcome's heat map over a grid: `rows[j][i]` is the point at `ys[j]`, `xs[i]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Heatmap {
    /// The file name: `heatmap_<outcome id>`.
    pub name: String,
    pub outcome: String,
    pub title: String,
    pub subtitle: String,
    pub params: Vec<String>,
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    pub rows: Vec<Vec<End>>,
}

/// A swept value as a label: at most 4 significant digits (`0.006666666666667` is `0.006667`);
/// the CSV keeps every digit.
pub fn short(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let decimals = (3 - v.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

fn end(cell: &Cell) -> End {
    let (lo, hi) = wilson(cell.count, cell.runs);
    let p = if cell.runs == 0 {
        0.0
    } else {
        100.0 * cell.count as f64 / cell.runs as f64
    };
    End {
        count: cell.count,
        runs: cell.runs,
        p,
        lo: 100.0 * lo,
        hi: 100.0 * hi,
    }
}

fn titles(info: &ScenarioInfo, label: &str, params: &[&str], runs: u64, seed: u64) -> (String, String) {
    (
        format!("P({label} by {}) against {}", horizon_label(info), params.join(" and ")),
        format!(
            "{} runs per point, seed {seed}, common random numbers; 95% Wilson intervals",
            thousands(runs)
        ),
    )
}

/// The values of the second axis, in the cells' order (none for a one-axis sweep).
fn second_values(cells: &[&Cell]) -> Vec<Option<f64>> {
    let mut seconds: Vec<Option<f64>> = Vec::new();
    for cell in cells {
        let second = cell.values.get(1).copied();
        if !seconds.contains(&second) {
            seconds.push(second);
        }
    }
    seconds
}

/// One curve per outcome of `info`, in its order, from the sweep's cells over the axes named
/// `params`; each of `levels` (fractions) is a threshold line.
pub fn curves(
    info: &ScenarioInfo,
    params: &[&str],
    cells: &[Cell],
    levels: &[f64],
    runs: u64,
    seed: u64,
) -> Vec<Curve> {
    info.outcomes
        .iter()
        .filter_map(|outcome| {
            let mine: Vec<&Cell> = cells
                .iter()
                .filter(|c| c.kind == "outcome" && c.id == outcome.id)
                .collect();
            if mine.is_empty() {
                return None;
            }
            let lines = second_values(&mine)
                .into_iter()
                .map(|second| {
                    let line: Vec<&Cell> = mine
                        .iter()
                        .copied()
                        .filter(|c| c.values.get(1).copied() == second)
                        .collect();
                    CurveLine {
                        legend: second.map(|v| format!("{} = {}", params[1], short(v))),
                        value2: second,
                        points: line
                            .iter()
                            .map(|c| CurvePoint {
                                x: c.values[0],
                                end: end(c),
                            })
                            .collect(),
                        crossings: levels
                            .iter()
                            .map(|&level| match crossing(&line, level) {
                                Crossing::Between { estimate, .. } => Some(estimate),
                                Crossing::AtStart | Crossing::Never => None,
                            })
                            .collect(),
                    }
                })
                .collect();
            let (title, subtitle) = titles(info, &outcome.label, &params[..1], runs, seed);
            Some(Curve {
                name: format!("curve_{}", outcome.id),
                outcome: outcome.id.clone(),
                title,
                subtitle,
                params: params.iter().map(|p| p.to_string()).collect(),
                levels: levels.iter().map(|l| 100.0 * l).collect(),
                lines,
            })
        })
        .collect()
}

/// One heat map per outcome of `info` for a grid (none for a one-axis sweep).
pub fn heatmaps(info: &ScenarioInfo, params: &[&str], cells: &[Cell], runs: u64, seed: u64) -> Vec<Heatmap> {
    if params.len() < 2 {
        return Vec::new();
    }
    info.outcomes
        .iter()
        .filter_map(|outcome| {
            let mine: Vec<&Cell> = cells
                .iter()
                .filter(|c| c.kind == "outcome" && c.id == outcome.id)
                .collect();
            let ys: Vec<f64> = second_values(&mine).into_iter().flatten().collect();
            let rows: Vec<Vec<End>> = ys
                .iter()
                .map(|&y| {
                    mine.iter()
                        .filter(|c| c.values.get(1) == Some(&y))
                        .map(|c| end(c))
                        .collect()
                })
                .collect();
            let first = rows.first()?;
            let xs: Vec<f64> = mine.iter().take(first.len()).map(|c| c.values[0]).collect();
            let (title, subtitle) = titles(info, &outcome.label, params, runs, seed);
            Some(Heatmap {
                name: format!("heatmap_{}", outcome.id),
                outcome: outcome.id.clone(),
                title,
                subtitle,
                params: params.iter().map(|p| p.to_string()).collect(),
                xs,
                ys,
                rows,
            })
        })
        .collect()
}

fn points_csv(outcome: &str, params: &[String], rows: impl Iterator<Item = (Vec<f64>, End)>) -> Result<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["outcome", "param", "value"];
    if params.len() > 1 {
        header.extend(["param2", "value2"]);
    }
    header.extend(["count", "runs", "p", "lo95", "hi95"]);
    out.write_record(&header)?;
    for (values, end) in rows {
        let e = estimate(end.count, end.runs, decimals_for(end.runs));
        let mut row = vec![outcome.to_string()];
        for (name, value) in params.iter().zip(&values) {
            row.extend([name.clone(), format!("{value}")]);
        }
        row.extend([
            end.count.to_string(),
            end.runs.to_string(),
            e.p.to_string(),
            e.lo.to_string(),
            e.hi.to_string(),
        ]);
        out.write_record(&row)?;
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}

/// The curve's numbers, one row per point (line by line), with `p` and its interval as
/// fractions rounded as in every table (outward); the crossings are in `thresholds.csv`.
pub fn curve_csv(curve: &Curve) -> Result<String> {
    let rows = curve.lines.iter().flat_map(|line| {
        line.points.iter().map(move |point| {
            let mut values = vec![point.x];
            values.extend(line.value2);
            (values, point.end)
        })
    });
    points_csv(&curve.outcome, &curve.params, rows)
}

/// The heat map's numbers, one row per cell, row by row of the second axis.
pub fn heatmap_csv(map: &Heatmap) -> Result<String> {
    let rows = map
        .ys
        .iter()
        .zip(&map.rows)
        .flat_map(|(&y, row)| map.xs.iter().zip(row).map(move |(&x, &end)| (vec![x, y], end)));
    points_csv(&map.outcome, &map.params, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(values: &[f64], id: &str, count: u64) -> Cell {
        Cell {
            values: values.to_vec(),
            kind: "outcome",
            id: id.into(),
            label: id.into(),
            count,
            runs: 1000,
        }
    }

    fn info() -> ScenarioInfo {
        crate::plot::tests::synthetic_summary("base", "Base", 12, 0.0).scenario
    }

    #[test]
    fn a_curve_has_a_point_per_value_inside_its_band_and_its_crossing() {
        // Cells as `sweep::cells` lists them: point by point, each point's outcomes (and a rung,
        // which no curve shows).
        let mut cells = Vec::new();
        for (x, clash, talks) in [(0.1, 100, 0), (0.2, 200, 1), (0.3, 400, 999)] {
            cells.push(cell(&[x], "clash", clash));
            cells.push(cell(&[x], "talks", talks));
            cells.push(Cell {
                kind: "rung",
                ..cell(&[x], "1", 7)
            });
        }
        let curves = curves(&info(), &["p_clash"], &cells, &[0.3, 0.5], 1000, 7);
        assert_eq!(curves.len(), 2);
        let clash = &curves[0];
        assert_eq!(clash.name, "curve_clash");
        assert!(
            clash.title.starts_with("P(Armed clash on the peninsula by "),
            "{}",
            clash.title
        );
        assert!(clash.title.ends_with(") against p_clash"), "{}", clash.title);
        assert!(
            clash
                .subtitle
                .starts_with("1,000 runs per point, seed 7, common random numbers")
        );
        assert_eq!(clash.lines.len(), 1);
        let line = &clash.lines[0];
        assert_eq!(line.legend, None);
        let xs: Vec<f64> = line.points.iter().map(|p| p.x).collect();
        let ps: Vec<f64> = line.points.iter().map(|p| p.end.p).collect();
        assert_eq!(xs, [0.1, 0.2, 0.3]);
        assert_eq!(ps, [10.0, 20.0, 40.0]);
        // 30% is crossed halfway from 20% at 0.2 to 40% at 0.3.
        let at = line.crossings[0].expect("30% is crossed");
        assert!((at - 0.25).abs() < 1e-12, "{at}");
        assert_eq!(line.crossings[1], None, "50% is never reached");
        assert_eq!(clash.levels, [30.0, 50.0]);
        let talks = curves[1].lines[0].crossings[0].expect("0.1% at 0.2, then 99.9%");
        assert!(talks > 0.2 && talks < 0.3, "{talks}");
        for curve in &curves {
            for point in curve.lines.iter().flat_map(|l| &l.points) {
                let e = point.end;
                assert!(e.lo <= e.p && e.p <= e.hi && e.lo < e.hi, "{e:?}");
                assert!(e.lo >= 0.0 && e.hi <= 100.0, "{e:?}");
            }
        }
        assert!(heatmaps(&info(), &["p_clash"], &cells, 1000, 7).is_empty());
        let csv = curve_csv(clash).unwrap();
        assert_eq!(csv.lines().count(), 4, "{csv}");
        assert!(
            csv.starts_with("outcome,param,value,count,runs,p,lo95,hi95\nclash,p_clash,0.1,100,1000,0.1,"),
            "{csv}"
        );
    }

    #[test]
    fn a_grid_has_a_line_per_second_value_and_a_heat_map_row_by_row() {
        let mut cells = Vec::new();
        for (y, base) in [(0.0, 0), (0.006666666666667, 50)] {
            for (i, x) in [1.0, 2.0, 3.0].into_iter().enumerate() {
                cells.push(cell(&[x, y], "clash", base + 10 * i as u64));
                cells.push(cell(&[x, y], "talks", 3));
            }
        }
        let info = info();
        let curves = curves(&info, &["a", "b"], &cells, &[], 1000, 1);
        let lines = &curves[0].lines;
        let legends: Vec<_> = lines.iter().map(|l| l.legend.clone().unwrap()).collect();
        assert_eq!(legends, ["b = 0", "b = 0.006667"]);
        assert_eq!(
            lines[1].points.iter().map(|p| p.end.count).collect::<Vec<_>>(),
            [50, 60, 70]
        );
        let maps = heatmaps(&info, &["a", "b"], &cells, 1000, 1);
        assert_eq!(maps.len(), 2);
        let map = &maps[0];
        assert_eq!(map.name, "heatmap_clash");
        assert_eq!(map.xs, [1.0, 2.0, 3.0]);
        assert_eq!(map.ys, [0.0, 0.006666666666667]);
        let counts: Vec<Vec<u64>> = map.rows.iter().map(|r| r.iter().map(|e| e.count).collect()).collect();
        assert_eq!(counts, [[0, 10, 20], [50, 60, 70]]);
        let csv = heatmap_csv(map).unwrap();
        assert_eq!(csv.lines().count(), 7, "{csv}");
        assert!(csv.contains("\nclash,a,2,b,0.006666666666667,60,1000,0.06,"), "{csv}");
    }

    #[test]
    fn short_values_keep_four_significant_digits() {
        for (v, text) in [
            (0.0, "0"),
            (0.02, "0.02"),
            (0.006666666666667, "0.006667"),
            (12.5, "12.5"),
            (1500.0, "1500"),
        ] {
            assert_eq!(short(v), text);
        }
    }
}
