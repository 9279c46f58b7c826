//! `sim sweep`: response curves on common random numbers, held to a closed form.

use std::path::Path;

use crate::util::{Workspace, read, sim, tree};

const STEPS: i32 = 12;

/// One trigger with probability `p` per step (a param), and an outcome that holds once it fired.
const ONE_TRIGGER: &str = r#"
[scenario]
id = "one"
name = "One trigger"
steps = 12
step_unit = "month"
runs = 1000
seed = 5

[escalation]
levels = ["calm", "tense"]
initial = "calm"

[params]
p = 0.1
unread = { uniform = [0.0, 1.0] }

[actors.a]
name = "A"
struck = false

[[triggers]]
id = "strike"
label = "A strikes"
actor = "a"
probability = "p"
effects = ["a.struck = true", "escalation += 1"]

[[outcomes]]
id = "struck"
label = "A has struck"
when = "a.struck"
"#;

/// `sweep.csv` rows of the outcome `struck`: (value, count, runs).
fn struck_rows(csv_text: &str) -> Vec<(f64, u64, u64)> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (value, outcome, count, runs) = (column("value"), column("outcome"), column("count"), column("runs"));
    reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[outcome] == "struck")
        .map(|r| {
            (
                r[value].parse().unwrap(),
                r[count].parse().unwrap(),
                r[runs].parse().unwrap(),
            )
        })
        .collect()
}

fn sweep(file: &Path, args: &[&str], out: &Path) -> String {
    let output = sim()
        .arg("sweep")
        .arg(file)
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn every_point_matches_the_closed_form_and_the_curve_rises_run_by_run() {
    let ws = Workspace::new();
    let file = ws.file("one.toml", ONE_TRIGGER);
    let out = ws.path().join("out");
    sweep(
        &file,
        &["--param", "p=0.02..0.2:10", "--runs", "20000", "--quiet"],
        &out,
    );
    let rows = struck_rows(&read(&out.join("one-sweep/sweep.csv")));
    assert_eq!(rows.len(), 10);
    for &(p, count, runs) in &rows {
        let exact = 1.0 - (1.0 - p).powi(STEPS);
        let estimate = count as f64 / runs as f64;
        let standard_error = (exact * (1.0 - exact) / runs as f64).sqrt();
        assert!(
            (estimate - exact).abs() <= 4.0 * standard_error,
            "p = {p}: {estimate} against the exact {exact}"
        );
    }
    // Common random numbers: a run where the trigger fired at p fires at every larger p.
    assert!(rows.windows(2).all(|w| w[0].1 <= w[1].1), "not monotone: {rows:?}");
}

#[test]
fn a_trigger_probability_swept_directly_gives_the_same_counts_as_its_param() {
    let ws = Workspace::new();
    let file = ws.file("one.toml", ONE_TRIGGER);
    let (by_param, by_trigger) = (ws.path().join("param"), ws.path().join("trigger"));
    sweep(&file, &["--param", "p=0.05..0.3:6", "--quiet"], &by_param);
    sweep(&file, &["--param", "strike=0.05..0.3:6", "--quiet"], &by_trigger);
    let counts = |dir: &Path| -> Vec<u64> {
        struck_rows(&read(&dir.join("one-sweep/sweep.csv")))
            .iter()
            .map(|r| r.1)
            .collect()
    };
    assert_eq!(counts(&by_param), counts(&by_trigger));
}

#[test]
fn the_threshold_crossing_brackets_the_exact_value() {
    let ws = Workspace::new();
    let file = ws.file("one.toml", ONE_TRIGGER);
    let out = ws.path().join("out");
    let printed = sweep(
        &file,
        &["--param", "p=0.01..0.1:10", "--runs", "20000", "--threshold", "0.5"],
        &out,
    );
    // P(struck by 12) = 0.5 at p = 1 - 0.5^(1/12).
    let exact = 1.0 - 0.5f64.powf(1.0 / STEPS as f64);
    let thresholds = read(&out.join("one-sweep/thresholds.csv"));
    let row = thresholds
        .lines()
        .find(|l| l.contains(",outcome,struck,"))
        .unwrap_or_else(|| panic!("{thresholds}"));
    let fields: Vec<&str> = row.split(',').collect();
    assert_eq!(fields[4], "between", "{row}");
    let (estimate, lo, hi): (f64, f64, f64) = (
        fields[5].parse().unwrap(),
        fields[6].parse().unwrap(),
        fields[7].parse().unwrap(),
    );
    assert!(lo < exact && exact <= hi, "{exact} not in ({lo}, {hi}]: {row}");
    assert!((estimate - exact).abs() < 0.005, "{estimate} against {exact}");
    assert!(printed.contains("reaches 50% at p ≈"), "{printed}");

    // The sweep's report: the same crossing, the curve inlined, nothing fetched.
    let page = read(&out.join("one-sweep/index.html"));
    let said = printed.lines().find(|l| l.contains("reaches 50% at p ≈")).unwrap();
    let said = said.trim_start_matches([' ', '-', '>']);
    assert!(page.contains(&said.replace('&', "&amp;")), "{said} not in the report");
    assert!(page.contains("<figure id=\"chart-curve_struck\">\n<svg"), "no curve");
    assert!(!page.contains("http://") && !page.contains("https://") && !page.contains("<script"));
}

#[test]
fn a_grid_has_a_row_per_point_and_the_bytes_do_not_depend_on_threads() {
    let ws = Workspace::new();
    let file = ws.file("one.toml", ONE_TRIGGER);
    let (one, two) = (ws.path().join("one"), ws.path().join("two"));
    let args = ["--param", "p=0.05..0.15:3", "--param", "unread=0..1:2", "--quiet"];
    sweep(&file, &[&args[..], &["--threads", "1"]].concat(), &one);
    sweep(&file, &[&args[..], &["--threads", "2"]].concat(), &two);
    assert!(tree(&one) == tree(&two));
    let table = read(&one.join("one-sweep/sweep.csv"));
    assert!(table.starts_with("param,value,param2,value2,kind,outcome,"), "{table}");
    // 6 points, each with the outcome and the one rung above the initial.
    assert_eq!(table.lines().count(), 1 + 6 * 2, "{table}");
    // A param nothing reads changes nothing: both rows of the second axis agree.
    let rows = struck_rows(&table);
    assert_eq!(
        rows[..3].iter().map(|r| r.1).collect::<Vec<_>>(),
        rows[3..].iter().map(|r| r.1).collect::<Vec<_>>()
    );
}

#[test]
fn unknown_names_and_impossible_values_are_refused() {
    let ws = Workspace::new();
    let file = ws.file("one.toml", ONE_TRIGGER);
    for (args, expected) in [
        (vec!["--param", "q=0..1:3"], "neither a param nor a trigger"),
        (vec!["--param", "strik=0..0.5:3"], "did you mean `strike`?"),
        (vec!["--param", "strike=0.5..1.5:3"], "not between 0 and 1"),
        (vec!["--param", "p=0.1..0.2"], "no number of points"),
        (
            vec!["--param", "p=0.1..0.2:3", "--threshold", "1.3"],
            "strictly between 0 and 1",
        ),
        (
            vec!["--param", "p=0..1:2", "--param", "unread=0..1:2", "--param", "p=0..1:2"],
            "one or two --param",
        ),
    ] {
        let output = sim()
            .arg("sweep")
            .arg(&file)
            .args(&args)
            .arg("--out")
            .arg(ws.path().join("out"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!ws.path().join("out").exists(), "{args:?} wrote output");
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_curve_is_drawn_per_outcome_and_a_grid_adds_a_heat_map() {
    let ws = Workspace::new();
    let file = ws.file("one.toml", ONE_TRIGGER);
    let (curve, grid) = (ws.path().join("curve"), ws.path().join("grid"));
    sweep(
        &file,
        &["--param", "p=0.02..0.2:5", "--threshold", "0.5", "--quiet"],
        &curve,
    );
    let dir = curve.join("one-sweep");
    assert_eq!(
        names(&dir),
        [
            "curve_struck.csv",
            "curve_struck.png",
            "curve_struck.svg",
            "index.html",
            "sweep.csv",
            "thresholds.csv"
        ]
    );
    assert!(
        std::fs::read(dir.join("curve_struck.png"))
            .unwrap()
            .starts_with(b"\x89PNG")
    );
    let svg = read(&dir.join("curve_struck.svg"));
    assert!(svg.contains("P(A has struck by month 12) against p"), "{svg}");
    // The chart's numbers are the table's.
    let plotted = struck_rows(&read(&dir.join("curve_struck.csv")));
    assert_eq!(plotted, struck_rows(&read(&dir.join("sweep.csv"))));
    assert_eq!(plotted.len(), 5);

    sweep(
        &file,
        &["--param", "p=0.05..0.15:3", "--param", "unread=0..1:2", "--quiet"],
        &grid,
    );
    let dir = grid.join("one-sweep");
    assert_eq!(
        names(&dir),
        [
            "curve_struck.csv",
            "curve_struck.png",
            "curve_struck.svg",
            "heatmap_struck.csv",
            "heatmap_struck.png",
            "heatmap_struck.svg",
            "index.html",
            "sweep.csv"
        ]
    );
    assert!(
        std::fs::read(dir.join("heatmap_struck.png"))
            .unwrap()
            .starts_with(b"\x89PNG")
    );
    let curve_svg = read(&dir.join("curve_struck.svg"));
    assert!(curve_svg.contains("unread = 0") && curve_svg.contains("unread = 1"));
    let page = read(&dir.join("index.html"));
    assert!(
        page.contains("<figure id=\"chart-curve_struck\">") && page.contains("<figure id=\"chart-heatmap_struck\">")
    );
    let heatmap = read(&dir.join("heatmap_struck.csv"));
    assert!(
        heatmap.starts_with("outcome,param,value,param2,value2,count,runs,p,lo95,hi95\n"),
        "{heatmap}"
    );
    assert_eq!(heatmap.lines().count(), 1 + 6, "{heatmap}");
    assert_eq!(struck_rows(&heatmap), struck_rows(&read(&dir.join("sweep.csv"))));
}
