//! The shipped scenarios (`scenarios/*.toml`): every file passes `sim check`, and the claims
//! they carry (`[[expect]]`: the directions the scenarios' reasoning predicts, see
//! `scenarios/README.md`) hold under `sim test`, run as a user's CI runs it.
//!
//! `sim test` judges each claim by its 95% interval (paired with the baseline where it can), so
//! it fails when a direction changes, not on noise, and it says which claim.

use crate::util::{repo, shipped_scenarios, sim};

/// The outcomes analysts ask for; the baseline must report each of them, and each must be
/// neither certain nor impossible there.
const ASKED_FOR: [&str; 5] = [
    "russia_escalates_aid",
    "dprk_strategic_test",
    "armed_clash",
    "regional_war",
    "china_restrains",
];

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

/// `sim test 'scenarios/*.toml'` at the scenarios' own seed and runs (20,000; about 2 s of CPU
/// in the test profile, `opt-level = 1`).
#[test]
fn the_shipped_claims_hold() {
    let output = sim()
        .current_dir(repo(""))
        .args(["test", "scenarios/*.toml"])
        .output()
        .expect("`sim test` starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "`sim test scenarios/*.toml` failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(stdout.contains(" 0 failed, 0 undecided"), "{stdout}");
    let has = |scenario: &str, claim: &str| {
        stdout
            .lines()
            .any(|l| l.starts_with("pass") && l.contains(&format!("{scenario}: P({claim}")))
    };
    // The directions the scenarios are written to show.
    for (scenario, claim) in [
        (
            "seoul_arms_kyiv",
            "outcome `russia_escalates_aid` by 2028-05) - P(same in `baseline`) above",
        ),
        (
            "russia_escalates_aid",
            "outcome `russia_escalates_aid` by 2028-05) - P(same in `baseline`) above",
        ),
        (
            "china_restrains",
            "outcome `armed_clash` by 2028-05) - P(same in `china_backs_axis`) below",
        ),
        ("baseline", "outcome `regional_war` by 2028-05) below 0.05"),
        ("baseline", "outcome `armed_clash` by 2028-05) between 0.05 and 0.4"),
    ] {
        assert!(has(scenario, claim), "no passing claim {scenario}: {claim}\n{stdout}");
    }
    for outcome in ASKED_FOR {
        assert!(
            has("baseline", &format!("outcome `{outcome}` by 2028-05)")),
            "the baseline claims nothing about `{outcome}`\n{stdout}"
        );
    }
}
