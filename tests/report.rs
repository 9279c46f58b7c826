//! The report a person reads: two shipped scenarios run together give per-scenario charts, a
//! comparison of everything they share, and one self-contained page; `sim compare` redraws the
//! comparison from the summaries alone and refuses results that do not line up. Every table,
//! and every chart's CSV, holds intervals that contain the data they were computed from.

use std::path::Path;

use crate::util::{Workspace, file_names, read, read_summary, repo, shipped_scenarios, sim, small_scenario};

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
            for ext in ["png", "svg", "csv"] {
                assert!(
                    out.join(id).join(format!("{chart}.{ext}")).is_file(),
                    "{id}/{chart}.{ext} missing"
                );
            }
        }
    }

    // One overlay per shared outcome and per rung above the initial one, plus the bar chart;
    // the variant ran on the baseline's runs: the forest plots and each outcome's difference.
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
        .chain(["forest_outcomes".to_string(), "forest_rungs".to_string()])
        .chain(
            baseline
                .tables
                .outcome_by
                .iter()
                .map(|s| format!("difference_outcome_{}", s.id)),
        )
        .flat_map(|name| [format!("{name}.png"), format!("{name}.svg"), format!("{name}.csv")])
        .chain(["differences.csv".to_string()])
        .collect();
    expected.sort();
    assert_eq!(file_names(&out.join("compare")), expected);

    let html = read(&out.join("index.html"));
    assert!(html.contains(&baseline.scenario.name) && html.contains(&restrains.scenario.name));
    assert!(
        html.matches("<svg").count() >= 2 * CHARTS.len() + expected.len() / 3,
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

/// Every `.csv` under `dir`, sorted.
fn csv_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(csv_files(&path));
        } else if path.extension().is_some_and(|e| e == "csv") {
            found.push(path);
        }
    }
    found.sort();
    found
}

#[test]
fn every_interval_of_every_table_contains_its_data() {
    let ws = Workspace::new();
    let out = ws.out();
    // 4,000 runs keep 2 decimals: rounded to nearest, a single event (0.025%) had [0, 0].
    sim()
        .args(["run", "--runs", "4000", "--seed", "5", "--out"])
        .arg(&out)
        .args(shipped_scenarios())
        .assert()
        .success();
    let (mut probability_rows, mut mean_rows, mut share_rows, mut difference_rows) = (0, 0, 0, 0);
    let (mut lift_rows, mut swing_rows) = (0, 0);
    for path in csv_files(&out) {
        let mut reader = csv::Reader::from_path(&path).unwrap();
        let headers = reader.headers().unwrap().clone();
        let column = |name: &str| headers.iter().position(|h| h == name);
        for record in reader.records() {
            let record = record.unwrap();
            let number = |name: &str| -> f64 {
                let field = &record[column(name).unwrap()];
                field
                    .parse()
                    .unwrap_or_else(|_| panic!("{}: {name} = {field:?}", path.display()))
            };
            let where_ = || format!("{}: {record:?}", path.display());
            match (column("count"), column("mean_rung")) {
                // A share of the runs that reached an outcome: undefined (empty) until one has.
                _ if column("fired_before").is_some() => {
                    let runs = number("runs_with_outcome");
                    if runs == 0.0 {
                        let blank = ["p", "lo95", "hi95"].map(|name| &record[column(name).unwrap()]);
                        assert_eq!(blank, ["", "", ""], "{}", where_());
                        continue;
                    }
                    let data = number("fired_before") / runs;
                    let (lo, p, hi) = (number("lo95"), number("p"), number("hi95"));
                    assert!(lo <= data && data <= hi, "interval excludes the share: {}", where_());
                    assert!(lo <= p && p <= hi, "interval excludes the printed p: {}", where_());
                    share_rows += 1;
                }
                (Some(_), _) => {
                    let data = number("count") / number("runs");
                    let (lo, p, hi) = (number("lo95"), number("p"), number("hi95"));
                    assert!(lo <= data && data <= hi, "interval excludes count/runs: {}", where_());
                    assert!(lo <= p && p <= hi, "interval excludes the printed p: {}", where_());
                    probability_rows += 1;
                }
                (None, Some(_)) => {
                    let (lo, mean, hi) = (number("lo95"), number("mean_rung"), number("hi95"));
                    assert!(lo <= mean && mean <= hi, "{}", where_());
                    assert!(number("runs") > 0.0, "{}", where_());
                    mean_rows += 1;
                }
                // A difference of two probabilities: its interval contains the exact difference
                // of the paired counts.
                // A swing: its interval contains the exact difference of the two fifths.
                (None, None) if column("swing").is_some() => {
                    let exact = number("count_top_fifth") / number("runs_top_fifth")
                        - number("count_bottom_fifth") / number("runs_bottom_fifth");
                    let (lo, swing, hi) = (number("lo95"), number("swing"), number("hi95"));
                    assert!(lo <= exact && exact <= hi && lo <= swing && swing <= hi, "{}", where_());
                    swing_rows += 1;
                }
                (None, None) if column("diff").is_some() => {
                    let exact = (number("variant_only") - number("baseline_only")) / number("runs");
                    let (lo, diff, hi) = (number("lo95"), number("diff"), number("hi95"));
                    assert!(lo <= exact && exact <= hi && lo <= diff && diff <= hi, "{}", where_());
                    difference_rows += 1;
                }
                // Lift: P(outcome) with and without a trigger, each inside its interval, and
                // their difference inside its own.
                (None, None) if column("difference").is_some() => {
                    for group in ["fired", "never"] {
                        let runs = number(&format!("{group}_runs"));
                        let p = &record[column(&format!("p_{group}")).unwrap()];
                        if runs == 0.0 {
                            assert_eq!(p, "", "{}", where_());
                            continue;
                        }
                        let data = number(&format!("{group}_with_outcome")) / runs;
                        let (lo, hi) = (number(&format!("lo95_{group}")), number(&format!("hi95_{group}")));
                        assert!(lo <= data && data <= hi, "{group}: {}", where_());
                    }
                    if !record[column("difference").unwrap()].is_empty() {
                        let (lo, diff, hi) = (number("lo95"), number("difference"), number("hi95"));
                        assert!(lo <= diff && diff <= hi, "{}", where_());
                    }
                    lift_rows += 1;
                }
                (None, None) => assert!(path.ends_with("mean_firings.csv"), "{}", where_()),
            }
        }
    }
    assert!(
        probability_rows > 10_000
            && mean_rows > 100
            && share_rows > 10_000
            && difference_rows > 10_000
            && lift_rows > 100,
        "{probability_rows} {mean_rows} {share_rows} {difference_rows} {lift_rows}"
    );
    assert!(swing_rows > 1000, "{swing_rows} rows of swings.csv");

    for scenario in shipped_scenarios() {
        let id = scenario.file_stem().unwrap().to_string_lossy().into_owned();
        let dir = out.join(&id);
        let summary = read_summary(&dir.join("summary.json"));
        let tables = &summary.tables;
        for table in [
            &tables.level_distribution,
            &tables.rung_reached,
            &tables.outcome_by,
            &tables.outcome_holds,
            &tables.trigger_fired_by,
            &tables.final_level,
        ] {
            for series in table {
                for e in &series.points {
                    let data = e.count as f64 / summary.runs as f64;
                    assert!(e.lo <= data && data <= e.hi, "{id}.json {}: {e:?}", series.id);
                    assert!(e.lo <= e.p && e.p <= e.hi, "{id}.json {}: {e:?}", series.id);
                }
            }
        }
        for outcome in &summary.precursors.as_ref().unwrap().outcomes {
            if let Some(h) = &outcome.horizon {
                for (i, counts) in outcome.fired_before.iter().enumerate() {
                    let data = counts[counts.len() - 1] as f64 / h.runs as f64;
                    let (lo, p, hi) = (h.lo[i], h.p[i], h.hi[i]);
                    assert!(lo <= data && data <= hi && lo <= p && p <= hi, "{id}.json: {h:?}");
                }
            }
        }
        // Every chart has its numbers beside it, under the same name.
        for name in file_names(&dir).iter().chain(&file_names(&out.join("compare"))) {
            if let Some(stem) = name.strip_suffix(".png") {
                let here = if dir.join(name).is_file() {
                    &dir
                } else {
                    &out.join("compare")
                };
                assert!(here.join(format!("{stem}.csv")).is_file(), "{stem}.csv missing");
            }
        }
        let final_level = read(&dir.join("final_level.csv"));
        assert!(final_level.starts_with("rung,level,step,date,count,runs,p,lo95,hi95\n"));
        assert!(final_level.contains(",36,2028-05,"), "{final_level}");
        assert!(read(&dir.join("mean_firings.csv")).starts_with("id,label,actor,runs,mean_firings\n"));
    }
}
