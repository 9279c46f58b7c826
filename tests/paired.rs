//! Paired comparison: a variant simulated with its baseline on the same runs, its difference
//! with the paired interval in `compare/differences.csv`, the same from shards.

use std::path::Path;

use crate::util::{Workspace, read, read_summary, repo, shipped_scenarios, sim, tree};

fn run(files: &[&Path], runs: &str, out: &Path, extra: &[&str]) {
    sim()
        .args(["run", "--runs", runs, "--quiet", "--out"])
        .arg(out)
        .args(files)
        .args(extra)
        .assert()
        .success();
}

/// The rows of `differences.csv`, as header -> field maps.
fn rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            headers
                .iter()
                .map(String::from)
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

#[test]
fn a_variant_run_with_its_baseline_gets_paired_differences() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    let (base, variant) = (repo("scenarios/baseline.toml"), repo("scenarios/seoul_arms_kyiv.toml"));
    run(&[&base, &variant], "3000", &out, &["--seed", "5"]);
    let summary = read_summary(&out.join("seoul_arms_kyiv/summary.json"));
    assert_eq!(summary.paired.as_ref().unwrap().baseline, "baseline");
    assert!(read_summary(&out.join("baseline/summary.json")).paired.is_none());
    let rows = rows(&out.join("compare/differences.csv"));
    assert!(rows.len() > 1000, "{} rows", rows.len());
    let number = |row: &std::collections::HashMap<String, String>, name: &str| -> f64 { row[name].parse().unwrap() };
    let mut narrower = 0;
    for row in &rows {
        let counts = ["both", "variant_only", "baseline_only", "neither"].map(|c| number(row, c));
        assert_eq!(counts.iter().sum::<f64>(), number(row, "runs"), "{row:?}");
        let exact = (counts[1] - counts[2]) / number(row, "runs");
        let (lo, diff, hi) = (number(row, "lo95"), number(row, "diff"), number(row, "hi95"));
        assert!(lo <= exact && exact <= hi && lo <= diff && diff <= hi, "{row:?}");
        assert!(
            number(row, "unpaired_lo95") <= exact && exact <= number(row, "unpaired_hi95"),
            "{row:?}"
        );
        narrower += usize::from(hi - lo < number(row, "unpaired_hi95") - number(row, "unpaired_lo95"));
    }
    assert!(
        narrower * 2 > rows.len(),
        "the paired interval is the narrower one in {narrower} of {} rows",
        rows.len()
    );
    // A trigger the variant adds to the baseline has no pair.
    assert!(
        rows.iter()
            .all(|r| r["scenario"] == "seoul_arms_kyiv" && r["baseline"] == "baseline")
    );
}

#[test]
fn a_variant_that_changes_only_its_name_differs_nowhere() {
    let ws = Workspace::new();
    let base = repo("scenarios/baseline.toml");
    let same = ws.file(
        "renamed.toml",
        &format!(
            "extends = {:?}\n[scenario]\nname = \"The baseline under another name\"\n",
            base.display().to_string()
        ),
    );
    let out = ws.path().join("out");
    run(&[&base, &same], "2000", &out, &["--seed", "3"]);
    let rows = rows(&out.join("compare/differences.csv"));
    assert!(!rows.is_empty());
    for row in &rows {
        assert_eq!(
            (row["variant_only"].as_str(), row["baseline_only"].as_str()),
            ("0", "0"),
            "{row:?}"
        );
        let (lo, hi): (f64, f64) = (row["lo95"].parse().unwrap(), row["hi95"].parse().unwrap());
        assert!(row["diff"] == "0" && lo <= 0.0 && 0.0 <= hi, "{row:?}");
    }
}

#[test]
fn scenarios_with_other_seeds_are_not_paired() {
    let ws = Workspace::new();
    let base = repo("scenarios/baseline.toml");
    let reseeded = ws.file(
        "reseeded.toml",
        &format!(
            "extends = {:?}\n[scenario]\nname = \"Reseeded\"\nseed = 99\n",
            base.display().to_string()
        ),
    );
    let out = ws.path().join("out");
    let assert = sim()
        .args(["run", "--runs", "500", "--out"])
        .arg(&out)
        .arg(&base)
        .arg(&reseeded)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("not paired") && stderr.contains("seed"), "{stderr}");
    assert!(!out.join("compare/differences.csv").exists());
    assert!(read_summary(&out.join("reseeded/summary.json")).paired.is_none());
    // No difference chart either: without paired counts there is nothing to draw.
    assert!(!out.join("compare/forest_outcomes.png").exists());
    assert!(!read(&out.join("index.html")).contains("chart-forest_outcomes"));
}

#[test]
fn shards_of_a_paired_run_merge_into_the_single_process_outputs() {
    let ws = Workspace::new();
    let files = [repo("scenarios/baseline.toml"), repo("scenarios/china_restrains.toml")];
    let single = ws.path().join("single");
    run(&[&files[0], &files[1]], "700", &single, &["--seed", "4"]);
    let parts = ws.path().join("parts");
    for k in 0..3 {
        sim()
            .args([
                "run",
                "--runs",
                "700",
                "--seed",
                "4",
                "--shard",
                &format!("{k}/3"),
                "--out",
            ])
            .arg(&parts)
            .args(&files)
            .assert()
            .success();
    }
    let merged = ws.path().join("merged");
    sim()
        .arg("merge")
        .arg(&parts)
        .arg("--quiet")
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    let data = |dir: &Path| {
        tree(dir)
            .into_iter()
            .filter(|(p, _)| p.extension().is_some_and(|e| e == "csv" || e == "json"))
            .collect::<Vec<_>>()
    };
    let (a, b) = (data(&single), data(&merged));
    assert_eq!(a.len(), b.len());
    for ((path, x), (_, y)) in a.iter().zip(&b) {
        assert!(
            x == y,
            "{} differs between the single run and the merged shards",
            path.display()
        );
    }
    assert!(read(&merged.join("compare/differences.csv")).lines().count() > 100);
}

/// The shipped scenarios: a forest plot of every outcome and rung, each outcome's difference
/// over time, each with its numbers, all in the report.
#[test]
fn the_shipped_comparison_gets_forest_plots_and_differences_over_time() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    let files = shipped_scenarios();
    let files: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    run(&files, "1000", &out, &[]);
    let baseline = read_summary(&out.join("baseline/summary.json"));
    let variants = files.len() - 1;
    let compare = out.join("compare");
    let mut stems = vec!["forest_outcomes".to_string(), "forest_rungs".to_string()];
    stems.extend(
        baseline
            .outcome_table()
            .iter()
            .map(|o| format!("difference_outcome_{}", o.id)),
    );
    let page = read(&out.join("index.html"));
    for stem in &stems {
        for ext in ["png", "svg", "csv"] {
            let path = compare.join(format!("{stem}.{ext}"));
            assert!(path.is_file(), "{} is missing", path.display());
        }
        assert!(
            page.contains(&format!("<figure id=\"chart-{stem}\">")),
            "{stem} not in the report"
        );
    }
    let forest = rows(&compare.join("forest_outcomes.csv"));
    assert_eq!(forest.len(), baseline.outcome_table().len() * variants);
    let over_time = rows(&compare.join("difference_outcome_armed_clash.csv"));
    assert_eq!(over_time.len(), (baseline.scenario.steps + 1) * variants);
    let differences = rows(&compare.join("differences.csv"));
    for row in forest.iter().chain(&over_time) {
        let number = |name: &str| -> f64 { row[name].parse().unwrap() };
        let exact = (number("variant_only") - number("baseline_only")) / number("runs");
        assert!(number("lo95") <= exact && exact <= number("hi95"), "{row:?}");
        // The same numbers as differences.csv (both charts are of outcomes).
        let id = row.get("id").map_or("armed_clash", String::as_str);
        let same = differences.iter().find(|d| {
            d["kind"] == "outcome" && d["id"] == id && d["scenario"] == row["scenario"] && d["step"] == row["step"]
        });
        let same = same.unwrap_or_else(|| panic!("{row:?} is not in differences.csv"));
        for column in [
            "diff",
            "lo95",
            "hi95",
            "both",
            "variant_only",
            "baseline_only",
            "neither",
        ] {
            // Compared as numbers: differences.csv writes a difference that rounds to zero from
            // below as -0.
            let value = |text: &str| -> f64 { text.parse().unwrap() };
            assert_eq!(value(&same[column]), value(&row[column]), "{column} of {row:?}");
        }
    }
}

/// `sim compare` of a variant paired with the same baseline at another seed: its paired counts
/// are not about these runs, so it gets no paired interval, no row of differences.csv and no
/// mark on the forest plot, which says so.
#[test]
fn compare_does_not_pair_a_variant_counted_against_another_seed() {
    let ws = Workspace::new();
    let (base, aid, restrains) = (
        repo("scenarios/baseline.toml"),
        repo("scenarios/seoul_arms_kyiv.toml"),
        repo("scenarios/china_restrains.toml"),
    );
    let first = ws.path().join("first");
    run(&[&base, &aid], "500", &first, &["--seed", "3"]);
    let second = ws.path().join("second");
    run(&[&base, &restrains], "500", &second, &["--seed", "4"]);
    let out = ws.path().join("compared");
    sim()
        .args(["compare", "--quiet", "--out"])
        .arg(&out)
        .arg(first.join("baseline"))
        .arg(first.join("seoul_arms_kyiv"))
        .arg(second.join("china_restrains"))
        .assert()
        .success();
    let differences = rows(&out.join("compare/differences.csv"));
    assert!(!differences.is_empty());
    assert!(differences.iter().all(|r| r["scenario"] == "seoul_arms_kyiv"));
    let forest = rows(&out.join("compare/forest_outcomes.csv"));
    assert!(!forest.is_empty() && forest.iter().all(|r| r["scenario"] == "seoul_arms_kyiv"));
    assert!(
        read(&out.join("compare/forest_outcomes.svg")).contains("so not shown: Beijing restrains Pyongyang (seed 4")
    );
    assert!(read(&out.join("index.html")).contains("so not in these charts: Beijing restrains Pyongyang."));
}
