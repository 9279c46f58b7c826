//! Paired comparison: a variant simulated with its baseline on the same runs, its difference
//! with the paired interval in `compare/differences.csv`, the same from shards; its discordant
//! runs in `summary.json` and the report, followed with `sim trace --diff`.

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
    let discordant = read_summary(&out.join("renamed/summary.json"))
        .paired
        .unwrap()
        .discordant
        .unwrap();
    assert_eq!(discordant.outcomes.len(), 8);
    for outcome in &discordant.outcomes {
        assert!(
            outcome.variant_only.is_empty() && outcome.baseline_only.is_empty(),
            "no run differs: {outcome:?}"
        );
    }
    assert!(read(&out.join("index.html")).contains("In no run did an outcome hold by 2028-05 with this variant"));
    let trace = trace_diff(&same, &base, &["--run", "17", "--seed", "3", "--runs", "2000"])
        .success()
        .get_output()
        .stdout
        .clone();
    let trace = String::from_utf8(trace).unwrap();
    assert!(
        trace.contains("the runs are identical: the same firings and state at every step, steps 0-36"),
        "{trace}"
    );
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
    // The lowest discordant runs of the three shards together are those of the single process
    // (the summaries are equal byte for byte above); some lie beyond the first shard's runs.
    let discordant = read_summary(&merged.join("china_restrains/summary.json"))
        .paired
        .unwrap()
        .discordant
        .unwrap();
    let runs: Vec<u64> = discordant
        .outcomes
        .iter()
        .flat_map(|o| o.variant_only.iter().chain(&o.baseline_only))
        .copied()
        .collect();
    assert!(runs.iter().any(|&r| r >= 234), "{discordant:?}");
}

/// `sim trace VARIANT --diff BASE` with `extra` arguments.
fn trace_diff(variant: &Path, base: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    sim()
        .arg("trace")
        .arg(variant)
        .arg("--diff")
        .arg(base)
        .args(extra)
        .assert()
}

#[test]
fn a_discordant_run_traced_side_by_side_shows_the_outcome_in_one_run_only() {
    let ws = Workspace::new();
    let out = ws.path().join("out");
    let (base, variant) = (repo("scenarios/baseline.toml"), repo("scenarios/seoul_arms_kyiv.toml"));
    // Baseline-only clashes are rare (the variant adds escalation, with common random numbers):
    // 2,000 runs hold one.
    run(&[&base, &variant], "2000", &out, &["--seed", "5"]);
    let summary = read_summary(&out.join("seoul_arms_kyiv/summary.json"));
    let discordant = summary.paired.unwrap().discordant.unwrap();
    let clash = discordant.outcomes.iter().find(|o| o.id == "armed_clash").unwrap();
    let (&with_variant, &in_baseline) = (
        clash.variant_only.first().unwrap(),
        clash.baseline_only.first().unwrap(),
    );
    let report = read(&out.join("index.html"));
    let command = "sim trace seoul_arms_kyiv.toml --diff baseline.toml --run";
    assert!(report.contains("Runs that differ from the baseline") && report.contains(command));
    for (run, variant_holds) in [(with_variant, true), (in_baseline, false)] {
        let args = ["--run", &run.to_string(), "--seed", "5", "--runs", "2000"].map(String::from);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = trace_diff(&variant, &base, &args).success().get_output().stdout.clone();
        let trace = String::from_utf8(output).unwrap();
        assert!(trace.contains("where they differ:"), "{trace}");
        let line = trace
            .lines()
            .find(|l| l.starts_with("An armed clash on the peninsula [armed_clash]"))
            .unwrap_or_else(|| panic!("{trace}"));
        let (left, right) = line.split_once(" | ").unwrap();
        let (holds, not) = if variant_holds { (left, right) } else { (right, left) };
        assert!(
            holds.contains("held from") && not.trim_end().ends_with("never held"),
            "run {run}: {line}"
        );
    }
}

#[test]
fn trace_diff_refuses_scenarios_that_are_not_paired_and_runs_out_of_range() {
    let ws = Workspace::new();
    let base = repo("scenarios/baseline.toml");
    let short = ws.file(
        "short.toml",
        &format!(
            "extends = {:?}\n[scenario]\nname = \"Shorter\"\nsteps = 12\n",
            base.display().to_string()
        ),
    );
    let stderr = |assert: assert_cmd::assert::Assert| String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    let refused = stderr(trace_diff(&short, &base, &["--run", "3"]).failure().code(7));
    assert!(
        refused.contains("`short` cannot be traced against `baseline`") && refused.contains("horizon or ladder"),
        "{refused}"
    );
    let reseeded = ws.file(
        "reseeded.toml",
        &format!(
            "extends = {:?}\n[scenario]\nname = \"Reseeded\"\nseed = 9\n",
            base.display().to_string()
        ),
    );
    let refused = stderr(trace_diff(&reseeded, &base, &["--run", "3"]).failure().code(7));
    assert!(
        refused.contains("differ in seed") && refused.contains("--seed S"),
        "{refused}"
    );
    trace_diff(&reseeded, &base, &["--run", "3", "--seed", "9"]).success();
    let variant = repo("scenarios/seoul_arms_kyiv.toml");
    let refused = stderr(
        trace_diff(&variant, &base, &["--run", "500", "--runs", "500"])
            .failure()
            .code(2),
    );
    assert!(
        refused.contains("--run 500 is out of range: the study has 500 runs (0 to 499)"),
        "{refused}"
    );
}

/// A shard whose discordant runs were edited (its digest made to match) is refused by
/// `sim merge`: a run outside its block, and a list that misses runs its counts have.
#[test]
fn merge_refuses_a_shard_whose_discordant_runs_do_not_fit() {
    let ws = Workspace::new();
    let files = [repo("scenarios/baseline.toml"), repo("scenarios/china_restrains.toml")];
    let parts = ws.path().join("parts");
    for k in 0..2 {
        sim()
            .args([
                "run",
                "--runs",
                "400",
                "--seed",
                "4",
                "--shard",
                &format!("{k}/2"),
                "--out",
            ])
            .arg(&parts)
            .args(&files)
            .assert()
            .success();
    }
    let path = parts.join("china_restrains.shard-1-of-2.json");
    let original = read(&path);
    type Edit = fn(&mut [Vec<u64>; 2]);
    let edits: [Edit; 2] = [|lists| lists[1] = vec![3], |lists| lists[0].clear()];
    for edit in edits {
        let mut part: sim::shard::Partial = serde_json::from_str(&original).unwrap();
        let pairs = part.paired.as_mut().unwrap();
        let k = pairs
            .counts
            .discordant
            .runs
            .iter()
            .position(|l| !l[0].is_empty())
            .unwrap();
        edit(&mut pairs.counts.discordant.runs[k]);
        pairs.digest = pairs.counts.digest();
        std::fs::write(&path, serde_json::to_string(&part).unwrap()).unwrap();
        let expected = format!("its discordant runs of outcome pair {k} are not");
        let assert = sim()
            .arg("merge")
            .arg(&parts)
            .arg("--out")
            .arg(ws.path().join("merged"))
            .assert()
            .failure()
            .code(6);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(
            stderr.contains(&expected) && stderr.contains("ascending runs of 200..400"),
            "{stderr}"
        );
    }
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
