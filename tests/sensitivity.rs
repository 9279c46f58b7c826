//! Sensitivity against closed-form answers, and as the real binary writes it.
//!
//! One trigger whose probability is a param `p ~ U(a, b)`, over `T` steps, and an outcome that
//! holds once it fired: among the runs whose `p` fell in fifth `j`, `[l, h]`, the outcome's
//! probability is the average of `1 - (1 - p)^T` over the fifth,
//! `1 - ((1 - l)^(T+1) - (1 - h)^(T+1)) / ((T + 1)(h - l))`. Seeds are fixed, so each check
//! passes or fails the same way every time.

use std::path::Path;

use crate::util::{Workspace, read, shipped_scenarios, sim};
use sim::aggregate::sensitivity::{CellSensitivity, ParamSensitivity};

const RUNS: u64 = 40_000;
const STEPS: i32 = 12;
const A: f64 = 0.01;
const B: f64 = 0.09;

fn scenario() -> String {
    format!(
        "[scenario]\nname = \"sensitivity\"\nsteps = {STEPS}\nstep_unit = \"month\"\n\n\
         [escalation]\nlevels = [\"calm\", \"tense\"]\ninitial = \"calm\"\n\n\
         [actors.a]\nname = \"A\"\nready = true\n\n\
         [params]\np = {{ uniform = [{A}, {B}] }}\nunread = {{ pert = [0.1, 0.2, 0.6] }}\nfixed = 0.5\n\n\
         [[triggers]]\nid = \"x\"\nlabel = \"X\"\nactor = \"a\"\nprobability = \"p\"\neffects = [\"escalation += 1\"]\n\n\
         [[outcomes]]\nid = \"fired\"\nlabel = \"x fired\"\nwhen = \"escalation >= 'tense'\"\n"
    )
}

fn param<'a>(cell: &'a CellSensitivity, name: &str) -> &'a ParamSensitivity {
    cell.params.iter().find(|p| p.param == name).unwrap()
}

#[test]
fn one_param_trigger_gives_the_exact_probability_per_fifth() {
    let ws = Workspace::new();
    let file = ws.file("case.toml", &scenario());
    let summary = ws.run(&file, RUNS, 3);
    let tables = summary.sensitivity.as_ref().expect("sensitivity is on by default");
    assert_eq!(tables.params, ["p", "unread"], "fixed params are not analysed");
    let cell = &tables.cells[0];
    assert_eq!((cell.kind.as_str(), cell.id.as_str()), ("outcome", "fired"));
    let p = param(cell, "p");
    let width = (B - A) / 5.0;
    let n = f64::from(STEPS + 1);
    for (j, bin) in p.bins.iter().enumerate() {
        let (l, h) = (A + j as f64 * width, A + (j + 1) as f64 * width);
        let exact = 1.0 - ((1.0 - l).powf(n) - (1.0 - h).powf(n)) / (n * (h - l));
        assert!(
            bin.lo <= exact && exact <= bin.hi,
            "fifth {}: exact {exact:.5} outside [{}, {}] ({} of {})",
            j + 1,
            bin.lo,
            bin.hi,
            bin.count,
            bin.runs
        );
    }
    assert_eq!(cell.by_swing()[0].param, "p", "the param the trigger reads ranks first");
    assert!(
        p.swing.lo > 0.0 && p.correlation > 0.2,
        "{:?}, r = {}",
        p.swing,
        p.correlation
    );
    let unread = param(cell, "unread");
    assert!(
        unread.swing.lo <= 0.0 && 0.0 <= unread.swing.hi,
        "a param nothing reads: {:?}",
        unread.swing
    );
    assert!(unread.correlation.abs() < 0.02, "r = {}", unread.correlation);
    // The rung `tense` is reached exactly when the outcome holds: the same counts.
    assert_eq!(tables.cells[1].id, "tense");
    assert_eq!(tables.cells[1].params, cell.params);
}

#[test]
fn no_analysis_leaves_the_tables_as_they_are() {
    let ws = Workspace::new();
    let file = ws.file("case.toml", &scenario());
    let (with, without) = (ws.path().join("with"), ws.path().join("without"));
    for (out, extra) in [(&with, None), (&without, Some("--no-analysis"))] {
        sim()
            .arg("run")
            .arg(&file)
            .args(["--runs", "3000", "--seed", "9", "-q", "--out"])
            .arg(out)
            .args(extra)
            .assert()
            .success();
    }
    let dir = |out: &Path| out.join("case");
    assert!(dir(&with).join("sensitivity.csv").exists());
    assert!(dir(&with).join("tornado_fired.png").exists());
    assert!(!dir(&without).join("sensitivity.csv").exists());
    assert!(!dir(&without).join("tornado_fired.svg").exists());
    let summary = |out: &Path| crate::util::read_summary(&dir(out).join("summary.json"));
    let (a, b) = (summary(&with), summary(&without));
    assert_eq!(a.tallies_digest, b.tallies_digest);
    assert_eq!(a.tables, b.tables);
    assert!(a.sensitivity.is_some() && b.sensitivity.is_none());
    for table in [
        "outcome_by.csv",
        "rung_reached.csv",
        "trigger_fired_by.csv",
        "precursors.csv",
    ] {
        assert_eq!(
            read(&dir(&with).join(table)),
            read(&dir(&without).join(table)),
            "{table}"
        );
    }
}

/// The shipped baseline as written: every fifth's interval holds its count over its runs, and
/// every param's fifths hold all runs.
#[test]
fn shipped_scenario_sensitivity_csv_adds_up() {
    let ws = Workspace::new();
    let baseline = shipped_scenarios()
        .into_iter()
        .find(|p| p.ends_with("baseline.toml"))
        .unwrap();
    let runs = 4000u64;
    sim()
        .arg("run")
        .arg(&baseline)
        .args(["--runs", &runs.to_string(), "--seed", "5", "-q", "--out"])
        .arg(ws.out())
        .assert()
        .success();
    let text = read(&ws.out().join("baseline/sensitivity.csv"));
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("kind,outcome,param,bin,count,runs,p,lo95,hi95"));
    let mut per_param: std::collections::BTreeMap<(String, String, String), u64> = Default::default();
    let mut rows = 0;
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let (count, of): (u64, u64) = (f[4].parse().unwrap(), f[5].parse().unwrap());
        let (lo, hi): (f64, f64) = (f[7].parse().unwrap(), f[8].parse().unwrap());
        let share = count as f64 / of as f64;
        assert!(lo <= share && share <= hi, "{line}");
        assert!((1..=5).contains(&f[3].parse::<u32>().unwrap()), "{line}");
        *per_param.entry((f[0].into(), f[1].into(), f[2].into())).or_default() += of;
        rows += 1;
    }
    assert!(rows > 100, "{rows} rows");
    assert!(
        per_param.values().all(|&n| n == runs),
        "runs per fifth add up to the runs"
    );
    let swings = read(&ws.out().join("baseline/swings.csv"));
    assert!(swings.starts_with("kind,outcome,rank,param,swing,lo95,hi95,p_bottom_fifth,p_top_fifth,"));
}

/// Found by the fuzz harness: with no uncertain param, the per-param counts said that no outcome
/// ever happened, and `sim compare` refused the summary `sim run` had just written.
#[test]
fn a_scenario_without_uncertain_params_has_no_sensitivity_and_reads_back() {
    let ws = Workspace::new();
    let text = scenario()
        .replace("p = { uniform = [0.01, 0.09] }", "p = 0.05")
        .replace("unread = { pert = [0.1, 0.2, 0.6] }\n", "");
    assert!(!text.contains("uniform") && !text.contains("pert"), "{text}");
    let file = ws.file("case.toml", &text);
    let summary = ws.run(&file, 2_000, 3);
    assert!(summary.sensitivity.is_none());
    assert!(summary.tables.outcome_by[0].points.last().unwrap().count > 0);
    assert!(!ws.out().join("case/sensitivity.csv").exists());
    // Read back: `sim compare` checks every summary it is given.
    let copy = ws.path().join("copy");
    std::fs::create_dir_all(&copy).unwrap();
    std::fs::copy(ws.out().join("case/summary.json"), copy.join("summary.json")).unwrap();
    sim()
        .arg("compare")
        .arg(ws.out().join("case"))
        .arg(&copy)
        .arg("--out")
        .arg(ws.path().join("compared"))
        .assert()
        .success();
}
