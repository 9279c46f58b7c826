//! The report a person reads: two shipped scenarios run together give per-scenario charts, a
//! comparison of everything they share, and one self-contained page; `sim compare` redraws the
//! comparison from the summaries alone and refuses results that do not line up.

use std::path::Path;

use crate::util::{Workspace, file_names, read, read_summary, repo, sim, small_scenario};

const CHARTS: [&str; 4] = ["escalation", "ladder", "outcomes", "triggers"];

fn run_two(out: &Path) -> String {
    let output = sim()
        .args(["run", "--runs", "1000", "--seed", "3", "--out"])
        .arg(out)
        .arg(repo("scenarios/baseline.toml"))
        .arg(repo("scenarios/china_restrains.toml"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn two_scenarios_give_charts_comparison_and_report() {
    let ws = Workspace::new();
    let out = ws.out();
    let stdout = run_two(&out);
    let baseline = read_summary(&out.join("baseline/summary.json"));
    let restrains = read_summary(&out.join("china_restrains/summary.json"));

    for id in ["baseline", "china_restrains"] {
        for chart in CHARTS {
            for ext in ["png", "svg"] {
                assert!(
                    out.join(id).join(format!("{chart}.{ext}")).is_file(),
                    "{id}/{chart}.{ext} missing"
                );
            }
        }
    }

    // One overlay per shared outcome and per rung above the initial one, plus the bar chart.
    let mut expected: Vec<String> = baseline
        .tables
        .outcome_by
        .iter()
        .filter(|s| restrains.tables.outcome_by.iter().any(|r| r.id == s.id))
        .map(|s| format!("compare_outcome_{}", s.id))
        .chain(
            baseline
                .tables
                .rung_reached
                .iter()
                .map(|s| format!("compare_rung_{}", s.id)),
        )
        .chain(["compare_horizon".to_string()])
        .flat_map(|name| [format!("{name}.png"), format!("{name}.svg")])
        .collect();
    expected.sort();
    assert_eq!(file_names(&out.join("compare")), expected);

    let html = read(&out.join("index.html"));
    assert!(html.contains(&baseline.scenario.name) && html.contains(&restrains.scenario.name));
    assert!(
        html.matches("<svg").count() >= 2 * CHARTS.len() + expected.len() / 2,
        "charts are inlined"
    );
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"));
    let clash = restrains
        .tables
        .outcome_by
        .iter()
        .find(|s| s.id == "armed_clash")
        .unwrap();
    assert!(
        stdout.contains(&restrains.scenario.name) && stdout.contains(" pp"),
        "{stdout}"
    );
    // Printed with only the decimals 1,000 runs support (whole percentages).
    let places = (restrains.decimals - 2) as usize;
    let printed = format!("{:.places$}% [", clash.points.last().unwrap().p * 100.0);
    assert!(stdout.contains(&printed), "no {printed:?} in\n{stdout}");
}

#[test]
fn compare_redraws_the_same_comparison_from_summaries() {
    let ws = Workspace::new();
    let out = ws.out();
    run_two(&out);
    let redrawn = ws.path().join("redrawn");
    sim()
        .arg("compare")
        .arg(out.join("baseline"))
        .arg(out.join("china_restrains/summary.json"))
        .arg("--out")
        .arg(&redrawn)
        .assert()
        .success();
    for name in file_names(&out.join("compare")) {
        assert!(
            std::fs::read(out.join("compare").join(&name)).unwrap()
                == std::fs::read(redrawn.join("compare").join(&name)).unwrap(),
            "{name} differs when redrawn"
        );
    }
}

#[test]
fn compare_refuses_results_whose_ladders_differ() {
    let ws = Workspace::new();
    let out = ws.out();
    run_two(&out);
    sim()
        .args(["run", "--runs", "200", "--out"])
        .arg(&out)
        .arg(small_scenario())
        .assert()
        .success();
    let output = sim()
        .arg("compare")
        .arg(out.join("baseline"))
        .arg(out.join("small"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(7), "{stderr}");
    assert!(
        stderr.contains("cannot compare") && stderr.contains("Small test scenario"),
        "{stderr}"
    );
}
