//! The shipped scenarios (`scenarios/*.toml`): every file passes `sim check`, and the family's
//! results move in the direction the scenarios' reasoning predicts (see `scenarios/README.md`).
//!
//! The directional tests run the compared scenarios once per test binary, at a fixed seed, and
//! compare probabilities at the horizon by their Wilson 95% intervals: a difference counts only
//! when the intervals do not overlap, so these tests fail when a direction changes, not on noise.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;
use sim::aggregate::{Estimate, Summary};

/// Runs of the directional checks. The smallest gap they test is about 7 points (armed clash,
/// Beijing restraining vs backing the axis: 14.6% [14.1, 15.1] vs 21.9% [21.4, 22.5] at this
/// seed); at 20,000 runs a Wilson 95% interval reaches at most 0.7 points either side. The five
/// scenarios take about 6 s in the test profile (`opt-level = 1`, see Cargo.toml); an
/// unoptimised build would need about 150 s of CPU for them.
const RUNS: u64 = 20_000;
const SEED: u64 = 2025;

/// The scenarios the directional checks compare.
const COMPARED: [&str; 5] = [
    "baseline",
    "seoul_arms_kyiv",
    "russia_escalates_aid",
    "china_restrains",
    "china_backs_axis",
];

/// The outcomes analysts ask for; the baseline must report each of them.
const ASKED_FOR: [&str; 5] = [
    "russia_escalates_aid",
    "dprk_strategic_test",
    "armed_clash",
    "regional_war",
    "china_restrains",
];

fn sim() -> Command {
    Command::cargo_bin("sim").expect("the `sim` binary is built for integration tests")
}

fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Every `*.toml` file in `scenarios/`, sorted by name.
fn shipped_scenarios() -> Vec<PathBuf> {
    let dir = scenario_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    files
}

/// The summaries of the compared scenarios, by scenario id: one `sim run` per test binary.
fn family() -> &'static BTreeMap<String, Summary> {
    static FAMILY: OnceLock<BTreeMap<String, Summary>> = OnceLock::new();
    FAMILY.get_or_init(|| {
        let out = tempfile::tempdir().expect("a temporary output directory");
        let files = COMPARED.map(|id| scenario_dir().join(format!("{id}.toml")));
        let output = sim()
            .arg("run")
            .args(&files)
            .args(["--runs", &RUNS.to_string(), "--seed", &SEED.to_string(), "--out"])
            .arg(out.path())
            .output()
            .expect("`sim run` starts");
        assert!(
            output.status.success(),
            "`sim run` of the shipped scenarios failed\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
        COMPARED
            .iter()
            .map(|id| {
                let path = out.path().join(id).join("summary.json");
                let text =
                    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
                let summary: Summary =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not a summary: {e}", path.display()));
                assert_eq!(
                    (summary.runs, summary.seed),
                    (RUNS, SEED),
                    "{id}: runs and seed as asked"
                );
                (id.to_string(), summary)
            })
            .collect()
    })
}

/// P(`outcome` held at some step up to the horizon) in `scenario`.
fn by_horizon(scenario: &str, outcome: &str) -> Estimate {
    let series = family()[scenario]
        .tables
        .outcome_by
        .iter()
        .find(|series| series.id == outcome)
        .unwrap_or_else(|| panic!("{scenario} has no outcome `{outcome}`"));
    *series.points.last().expect("a series has one point per step")
}

fn show(scenario: &str, e: Estimate) -> String {
    format!(
        "{scenario} {:.3} [{:.3}, {:.3}] ({} of {RUNS} runs)",
        e.p, e.lo, e.hi, e.count
    )
}

/// Asserts that `outcome` is less likely in scenario `lower` than in `higher`, with
/// non-overlapping Wilson 95% intervals.
fn assert_lower(outcome: &str, lower: &str, higher: &str) {
    let (a, b) = (by_horizon(lower, outcome), by_horizon(higher, outcome));
    assert!(
        a.hi < b.lo,
        "P({outcome} by the horizon) should be lower in {lower} than in {higher}: {} vs {}",
        show(lower, a),
        show(higher, b),
    );
}

#[test]
fn every_shipped_scenario_passes_check() {
    let files = shipped_scenarios();
    assert!(
        files.iter().any(|file| file.ends_with("baseline.toml")),
        "scenarios/ holds the baseline (found {files:?})"
    );
    for file in &files {
        let output = sim().arg("check").arg(file).output().expect("`sim check` starts");
        assert!(
            output.status.success(),
            "`sim check {}` failed\nstderr:\n{}",
            file.display(),
            String::from_utf8_lossy(&output.stderr),
        );
    }
}

#[test]
fn seoul_arming_kyiv_makes_russia_escalating_aid_more_likely() {
    // The Kremlin's stated reaction (trigger `russia_answers_seoul`).
    assert_lower("russia_escalates_aid", "baseline", "seoul_arms_kyiv");
}

#[test]
fn russia_escalating_aid_variant_has_more_escalated_aid_than_the_baseline() {
    assert_lower("russia_escalates_aid", "baseline", "russia_escalates_aid");
}

#[test]
fn beijing_restraining_pyongyang_makes_a_clash_less_likely_than_backing_the_axis() {
    assert_lower("armed_clash", "china_restrains", "china_backs_axis");
}

#[test]
fn no_baseline_outcome_is_certain_or_impossible() {
    let baseline = &family()["baseline"];
    let ids: Vec<&str> = baseline
        .tables
        .outcome_by
        .iter()
        .map(|series| series.id.as_str())
        .collect();
    for id in ASKED_FOR {
        assert!(ids.contains(&id), "the baseline reports `{id}` (it reports {ids:?})");
    }
    for series in &baseline.tables.outcome_by {
        let last = by_horizon("baseline", &series.id);
        assert!(
            0 < last.count && last.count < baseline.runs,
            "baseline outcome `{}` is {} by the horizon: no shipped outcome is certain or impossible",
            series.id,
            show("baseline", last),
        );
    }
}

#[test]
fn baseline_regional_war_is_rare_and_a_clash_well_under_even_odds() {
    let (war, clash) = (
        by_horizon("baseline", "regional_war"),
        by_horizon("baseline", "armed_clash"),
    );
    assert!(
        war.hi < 0.05,
        "regional war within 36 months should be rare: {}",
        show("baseline", war)
    );
    assert!(
        clash.hi < 0.4,
        "an armed clash should stay well under even odds: {}",
        show("baseline", clash)
    );
    assert!(
        war.hi < clash.lo,
        "a regional war should be rarer than an armed clash: {} vs {}",
        show("baseline", war),
        show("baseline", clash),
    );
}
