//! Sweeps: a scenario and one or two swept settings in (`--param NAME=FROM..TO:STEPS`, a param
//! or a trigger's probability); the sweep's points as scenario texts, and once simulated, each
//! outcome's and rung's probability by the horizon at every point, and where it crosses a
//! threshold, out.
//!
//! A point is the scenario with the swept settings fixed, written as a variant that `extends`
//! the scenario file, so it is checked and compiled exactly as a variant file would be. Every
//! point is simulated with the same seed and run indices; draws are addressed by trigger and
//! param, so the points share their random numbers run by run and a response curve is as smooth
//! as the model: where a larger value can only make an outcome more likely run by run, the counts
//! rise monotonically.

use std::fmt::Write as _;
use std::str::FromStr;

use crate::aggregate::{Summary, decimals_for, estimate, wilson};

/// The most points one axis may have, and a grid in all.
pub const MAX_POINTS: usize = 1_000;

/// One swept setting: a param or trigger id, and the values it takes, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub name: String,
    pub values: Vec<f64>,
}

impl FromStr for Axis {
    type Err = String;

    /// `NAME=FROM..TO:STEPS`: `STEPS` evenly spaced values from `FROM` to `TO`, both included.
    fn from_str(text: &str) -> Result<Self, String> {
        let form = "write NAME=FROM..TO:STEPS, e.g. p_clash=0.05..0.5:10";
        let (name, range) = text
            .split_once('=')
            .ok_or_else(|| format!("`{text}` has no `=`; {form}"))?;
        let (bounds, steps) = range
            .rsplit_once(':')
            .ok_or_else(|| format!("`{text}` gives no number of points after `:`; {form}"))?;
        let (from, to) = bounds
            .split_once("..")
            .ok_or_else(|| format!("`{text}` gives no range FROM..TO; {form}"))?;
        let number = |s: &str| -> Result<f64, String> {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("`{s}` in `{text}` is not a finite number; {form}"))
        };
        let (from, to) = (number(from)?, number(to)?);
        let steps: usize = steps
            .trim()
            .parse()
            .map_err(|_| format!("`{steps}` in `{text}` is not a number of points; {form}"))?;
        if !(2..=MAX_POINTS).contains(&steps) {
            return Err(format!(
                "a sweep needs 2 to {MAX_POINTS} points, `{text}` asks for {steps}"
            ));
        }
        if from >= to {
            return Err(format!("`{text}` must rise: FROM ({from}) below TO ({to})"));
        }
        let name = name.trim();
        if name.is_empty() {
            return Err(format!("`{text}` names nothing before `=`; {form}"));
        }
        // Rounded to 12 significant places so that 0.05 + 2 * 0.05 prints as 0.15.
        let values = (0..steps)
            .map(|i| {
                let x = from + (to - from) * i as f64 / (steps - 1) as f64;
                format!("{x:.12e}").parse::<f64>().expect("a formatted float parses")
            })
            .collect();
        Ok(Axis {
            name: name.to_string(),
            values,
        })
    }
}

/// What an axis sets in the scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A param, fixed at the value (as the model reads it: per step, not per year).
    Param,
    /// A trigger's per-step probability.
    TriggerProbability,
}

/// One point of a sweep: its values (one per axis) and the variant text that fixes them.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub values: Vec<f64>,
    pub id: String,
    pub text: String,
}

/// Every point of the sweep of `axes` over the scenario in the file `base_file_name` (id
/// `base_id`, name `base_name`), the first axis varying fastest.
pub fn points(base_file_name: &str, base_id: &str, base_name: &str, axes: &[(Axis, Target)]) -> Vec<Point> {
    let mut grid: Vec<Vec<f64>> = vec![vec![]];
    for (axis, _) in axes.iter().rev() {
        grid = grid
            .into_iter()
            .flat_map(|outer| {
                axis.values.iter().map(move |&v| {
                    let mut values = vec![v];
                    values.extend(&outer);
                    values
                })
            })
            .collect();
    }
    // Reorder so that the first axis varies fastest (rows of a heat map by the second axis).
    grid.sort_by(|a, b| {
        a.iter()
            .rev()
            .zip(b.iter().rev())
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    grid.into_iter()
        .enumerate()
        .map(|(index, values)| {
            let settings: Vec<String> = axes
                .iter()
                .zip(&values)
                .map(|((axis, _), v)| format!("{} = {v}", axis.name))
                .collect();
            let id = format!("{base_id}-sweep-{index}");
            let mut text = format!(
                "# A point of a sweep of {base_file_name}, generated by `sim sweep`.\nextends = {}\n\n[scenario]\nid = {}\nname = {}\n",
                toml_string(base_file_name),
                toml_string(&id),
                toml_string(&format!("{base_name}, {}", settings.join(", ")))
            );
            let params: Vec<String> = axes
                .iter()
                .zip(&values)
                .filter(|((_, target), _)| *target == Target::Param)
                .map(|((axis, _), v)| format!("{} = {v:?}\n", axis.name))
                .collect();
            if !params.is_empty() {
                text += "\n[params]\n";
                text += &params.concat();
            }
            for ((axis, target), v) in axes.iter().zip(&values) {
                if *target == Target::TriggerProbability {
                    let _ = write!(text, "\n[[triggers]]\nid = {}\nprobability = {v:?}\n", toml_string(&axis.name));
                }
            }
            Point { values, id, text }
        })
        .collect()
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The probability of one outcome or rung by the horizon at one point.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub values: Vec<f64>,
    /// `outcome` or `rung`.
    pub kind: &'static str,
    pub id: String,
    pub label: String,
    pub count: u64,
    pub runs: u64,
}

impl Cell {
    pub fn p(&self) -> f64 {
        self.count as f64 / self.runs as f64
    }
}

/// Every outcome's and rung's count by the horizon at every point, point by point, in the
/// order of the summaries' tables.
pub fn cells(points: &[Point], summaries: &[Summary]) -> Vec<Cell> {
    let mut cells = Vec::new();
    for (point, summary) in points.iter().zip(summaries) {
        let tables = &summary.tables;
        let kinds = tables
            .outcome_by
            .iter()
            .map(|s| ("outcome", s))
            .chain(tables.rung_reached.iter().map(|s| ("rung", s)));
        for (kind, series) in kinds {
            cells.push(Cell {
                values: point.values.clone(),
                kind,
                id: series.id.clone(),
                label: series.label.clone(),
                count: series.points.last().expect("steps 0..=horizon").count,
                runs: summary.runs,
            });
        }
    }
    cells
}

/// Where a probability crosses a level along the first axis (the other axes held).
#[derive(Clone, Debug, PartialEq)]
pub enum Crossing {
    /// Already at or above the level at the first value.
    AtStart,
    /// Crosses between two points: `estimate` by linear interpolation of the estimates. At 95%
    /// the crossing lies above `lo`, the last value before `hi` whose interval lies wholly below
    /// the level (None: no such value), and at or below `hi`, the first value whose interval
    /// lies wholly at or above it (None: no swept value is surely above).
    Between {
        estimate: f64,
        lo: Option<f64>,
        hi: Option<f64>,
    },
    /// Below the level at every swept value.
    Never,
}

/// The crossing of `level` by the cells of one outcome or rung, in the order of the first axis.
pub fn crossing(cells: &[&Cell], level: f64) -> Crossing {
    let p: Vec<f64> = cells.iter().map(|c| c.p()).collect();
    if p.first().is_some_and(|&p0| p0 >= level) {
        return Crossing::AtStart;
    }
    let Some(i) = p.windows(2).position(|w| w[0] < level && w[1] >= level) else {
        return Crossing::Never;
    };
    let x = |k: usize| cells[k].values[0];
    let estimate = x(i) + (x(i + 1) - x(i)) * (level - p[i]) / (p[i + 1] - p[i]);
    let interval = |c: &Cell| wilson(c.count, c.runs);
    let surely_above = cells.iter().position(|c| interval(c).0 >= level);
    let hi = surely_above.map(x);
    let lo = cells[..surely_above.unwrap_or(cells.len())]
        .iter()
        .rposition(|c| interval(c).1 < level)
        .map(&x);
    Crossing::Between { estimate, lo, hi }
}

/// A crossing in words, as the terminal and the report say it: `level` along the axis `name`,
/// whose first value is `first`.
pub fn describe(crossing: &Crossing, level: f64, name: &str, first: f64) -> String {
    let level_pct = format!("{}%", level * 100.0);
    match crossing {
        Crossing::AtStart => format!("already {level_pct} or more at {name} = {first}"),
        Crossing::Never => format!("stays below {level_pct} over the whole sweep"),
        Crossing::Between { estimate, lo, hi } => {
            let lo = lo
                .map(|x| format!("above {x}"))
                .unwrap_or_else(|| "not surely above the first value".into());
            let hi = hi
                .map(|x| format!("at most {x}"))
                .unwrap_or_else(|| "not surely below the last value".into());
            format!("reaches {level_pct} at {name} ≈ {estimate:.4} (95%: {lo}, {hi})")
        }
    }
}

/// `sweep.csv`: one row per point and outcome or rung, tidy. Probabilities are rounded to the
/// precision the runs support, the interval outward (as in every table of `sim run`).
pub fn table_csv(names: &[&str], cells: &[Cell]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = vec!["param".into(), "value".into()];
    if names.len() > 1 {
        header.extend(["param2".into(), "value2".into()]);
    }
    header.extend(["kind", "outcome", "label", "count", "runs", "p", "lo95", "hi95"].map(String::from));
    writer.write_record(&header).expect("writing to memory");
    for cell in cells {
        let estimate = estimate(cell.count, cell.runs, decimals_for(cell.runs));
        let mut row: Vec<String> = Vec::new();
        for (name, value) in names.iter().zip(&cell.values) {
            row.push(name.to_string());
            row.push(format!("{value}"));
        }
        row.extend([
            cell.kind.to_string(),
            cell.id.clone(),
            crate::report::spreadsheet_safe(&cell.label),
            cell.count.to_string(),
            cell.runs.to_string(),
            format!("{}", estimate.p),
            format!("{}", estimate.lo),
            format!("{}", estimate.hi),
        ]);
        writer.write_record(&row).expect("writing to memory");
    }
    String::from_utf8(writer.into_inner().expect("flushing to memory")).expect("UTF-8 fields")
}

/// The crossings of `level` by every outcome and rung, along the first axis, for each value of
/// the second axis (if any): (kind, id, label, value of the second axis, crossing).
pub fn crossings(cells: &[Cell], level: f64) -> Vec<(&'static str, String, String, Option<f64>, Crossing)> {
    let mut keys: Vec<(&'static str, &str, Option<f64>)> = Vec::new();
    for cell in cells {
        let key = (cell.kind, cell.id.as_str(), cell.values.get(1).copied());
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.into_iter()
        .map(|(kind, id, second)| {
            let line: Vec<&Cell> = cells
                .iter()
                .filter(|c| c.kind == kind && c.id == id && c.values.get(1).copied() == second)
                .collect();
            let label = line[0].label.clone();
            (kind, id.to_string(), label, second, crossing(&line, level))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_are_parsed_with_both_ends_included() {
        let axis: Axis = "p_clash=0.05..0.5:10".parse().unwrap();
        assert_eq!(axis.name, "p_clash");
        assert_eq!(axis.values.len(), 10);
        assert_eq!(axis.values[0], 0.05);
        assert_eq!(axis.values[9], 0.5);
        assert_eq!(axis.values[1], 0.1);
        let axis: Axis = "x=0..0.3:4".parse().unwrap();
        assert_eq!(axis.values, [0.0, 0.1, 0.2, 0.3]);
    }

    #[test]
    fn malformed_axes_say_how_to_write_one() {
        for (text, expected) in [
            ("p_clash", "has no `=`"),
            ("p=0.1..0.2", "no number of points"),
            ("p=0.1:3", "no range"),
            ("p=a..0.2:3", "not a finite number"),
            ("p=0.1..inf:3", "not a finite number"),
            ("p=0.1..0.2:1", "2 to 1000 points"),
            ("p=0.1..0.2:5000", "2 to 1000 points"),
            ("p=0.3..0.2:3", "must rise"),
            ("=0.1..0.2:3", "names nothing"),
        ] {
            let err = text.parse::<Axis>().unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn a_grid_varies_the_first_axis_fastest_and_writes_variants() {
        let a: Axis = "p=0.1..0.2:2".parse().unwrap();
        let b: Axis = "hawk=0..1:3".parse().unwrap();
        let points = points(
            "base.toml",
            "base",
            "Base",
            &[(a, Target::Param), (b, Target::TriggerProbability)],
        );
        let values: Vec<Vec<f64>> = points.iter().map(|p| p.values.clone()).collect();
        assert_eq!(
            values,
            [[0.1, 0.0], [0.2, 0.0], [0.1, 0.5], [0.2, 0.5], [0.1, 1.0], [0.2, 1.0]]
        );
        let text = &points[3].text;
        assert!(text.contains("extends = \"base.toml\""), "{text}");
        assert!(text.contains("id = \"base-sweep-3\""), "{text}");
        assert!(text.contains("[params]\np = 0.2\n"), "{text}");
        assert!(
            text.contains("[[triggers]]\nid = \"hawk\"\nprobability = 0.5\n"),
            "{text}"
        );
        let parsed: toml::Table = text.parse().expect("valid TOML");
        assert_eq!(parsed["scenario"]["name"].as_str(), Some("Base, p = 0.2, hawk = 0.5"));
    }

    fn cell(value: f64, count: u64) -> Cell {
        Cell {
            values: vec![value],
            kind: "outcome",
            id: "war".into(),
            label: "War".into(),
            count,
            runs: 1000,
        }
    }

    #[test]
    fn crossings_interpolate_and_bound_with_the_neighbouring_intervals() {
        let cells = [cell(0.1, 100), cell(0.2, 200), cell(0.3, 300), cell(0.4, 400)];
        let refs: Vec<&Cell> = cells.iter().collect();
        match crossing(&refs, 0.25) {
            Crossing::Between { estimate, lo, hi } => {
                assert!((estimate - 0.25).abs() < 1e-12, "{estimate}");
                // 20% of 1,000 runs: [17.6, 22.6], wholly below 25%; 30%: [27.2, 32.9], wholly above.
                assert_eq!((lo, hi), (Some(0.2), Some(0.3)));
            }
            other => panic!("{other:?}"),
        }
        let close = [cell(0.1, 100), cell(0.2, 240), cell(0.3, 260), cell(0.4, 400)];
        let refs: Vec<&Cell> = close.iter().collect();
        match crossing(&refs, 0.25) {
            Crossing::Between { estimate, lo, hi } => {
                assert!((estimate - 0.25).abs() < 1e-9, "{estimate}");
                // 24% and 26% of 1,000 runs both have intervals around 25%.
                assert_eq!((lo, hi), (Some(0.1), Some(0.4)));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(crossing(&refs, 0.05), Crossing::AtStart);
        assert_eq!(crossing(&refs, 0.5), Crossing::Never);
    }
}
