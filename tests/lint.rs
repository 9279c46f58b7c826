//! Warnings for likely mistakes: printed by `sim check` and `sim run` as `warning:` with
//! file:line:column, changing neither the exit code nor the results; none for the shipped
//! scenarios. (Each class of warning is tested beside the analysis, in `compile/lint.rs`.)

use crate::util::{Workspace, repo, shipped_scenarios, sim};

const SCENARIO: &str = r#"[scenario]
name = "warned"
steps = 12
step_unit = "month"

[escalation]
levels = ["calm", "tense", "clash"]
initial = "calm"

[params]
p_arms = 0.2
p_unused = 0.5

[actors.rok]
name = "Seoul"
alert = false

[[triggers]]
id = "rok_arms"
label = "Seoul sends lethal arms"
actor = "rok"
probability = "p_arms"
effects = ["escalation += 1"]

[[triggers]]
id = "rok_reacts"
label = "Seoul reacts to an alert nothing raises"
actor = "rok"
when = "rok.alert"
probability = 0.5
effects = ["escalation += 1"]

[[outcomes]]
id = "beyond"
label = "Beyond the ladder"
when = "escalation > 'clash'"
"#;

#[test]
fn check_and_run_print_warnings_with_their_place_and_succeed() {
    let ws = Workspace::new();
    let file = ws.file("case.toml", SCENARIO);
    let check = sim().arg("check").arg(&file).output().unwrap();
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(0), "{stderr}");
    assert!(String::from_utf8_lossy(&check.stdout).contains("ok:"));
    for expected in [
        "warning: param `p_unused` is never read",
        "case.toml:12:1",
        "warning: trigger `rok_reacts` can never fire: its `when` never holds",
        "case.toml:29:8",
        "`rok.alert` is always `false` (no trigger that can fire changes it)",
        "warning: outcome `beyond` can never hold",
        "case.toml:36:8",
        "3 warnings in scenario",
    ] {
        assert!(stderr.contains(expected), "no {expected:?} in\n{stderr}");
    }
    assert!(!stderr.contains("error"), "{stderr}");

    let run = sim()
        .arg("run")
        .arg(&file)
        .args(["--runs", "100", "--out"])
        .arg(ws.out())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("3 warnings in scenario"), "{stderr}");
    assert!(ws.out().join("case").join("summary.json").is_file());
}

#[test]
fn the_shipped_scenarios_and_fixtures_have_no_warning() {
    let mut files = shipped_scenarios();
    files.push(repo("tests/fixtures/small.toml"));
    let check = sim().arg("check").args(&files).output().unwrap();
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
}
