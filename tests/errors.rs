//! Every class of bad input: a message naming file:line:column, what is wrong and how to fix
//! it, a non-zero exit, and nothing written.

use crate::util::{Workspace, sim};

const GOOD: &str = r#"[scenario]
name = "errors"
steps = 12
step_unit = "month"

[escalation]
levels = ["calm", "tense", "clash"]
initial = "calm"

[params]
p_arms = { pert = [0.01, 0.03, 0.08] }

[actors.rok]
name = "Seoul"
arms = { levels = ["none", "non_lethal", "lethal"], initial = "non_lethal" }
vigilance = { initial = 1, min = 0, max = 3 }

[[triggers]]
id = "rok_arms"
label = "Seoul sends lethal arms"
actor = "rok"
when = "rok.arms == 'non_lethal'"
probability = "p_arms"
effects = ["rok.arms = 'lethal'", "escalation += 1"]
"#;

/// Replaces `from` by `to` in the good scenario, runs it, and checks the failure.
#[track_caller]
fn assert_rejected(from: &str, to: &str, location: &str, expected: &[&str]) {
    assert!(GOOD.contains(from), "fixture lacks {from:?}");
    let ws = Workspace::new();
    let file = ws.file("case.toml", &GOOD.replacen(from, to, 1));
    let output = sim()
        .arg("run")
        .arg(&file)
        .arg("--runs")
        .arg("100")
        .arg("--out")
        .arg(ws.out())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "exit code for {to:?}\n{stderr}");
    assert!(
        stderr.contains(&format!("case.toml:{location}")),
        "no case.toml:{location} in\n{stderr}"
    );
    for text in expected {
        assert!(stderr.contains(text), "no {text:?} in\n{stderr}");
    }
    assert!(!ws.out().exists(), "output written despite the error");
    // `check` reports the same problem.
    let check = sim().arg("check").arg(&file).output().unwrap();
    assert_eq!(check.status.code(), Some(1));
}

#[test]
fn the_fixture_itself_is_valid() {
    let ws = Workspace::new();
    let file = ws.file("case.toml", GOOD);
    sim().arg("check").arg(&file).assert().success();
}

#[test]
fn toml_syntax_error() {
    assert_rejected("steps = 12", "steps = = 12", "3:9", &["extra `=`"]);
}

#[test]
fn misspelt_key_suggests_the_right_one() {
    assert_rejected(
        "steps = 12",
        "stpes = 12",
        "3:1",
        &["unknown field `stpes`", "did you mean `steps`?"],
    );
}

#[test]
fn unknown_name_in_expression_suggests_the_right_one() {
    assert_rejected(
        "probability = \"p_arms\"",
        "probability = \"p_armz\"",
        "23:16",
        &["unknown name `p_armz`", "did you mean `p_arms`?"],
    );
}

#[test]
fn unknown_variable_suggests_the_right_one() {
    assert_rejected(
        "when = \"rok.arms ==",
        "when = \"rok.amrs ==",
        "22:9",
        &["actor `rok` has no variable `amrs`", "did you mean `arms`?"],
    );
}

#[test]
fn number_compared_with_boolean() {
    assert_rejected(
        "when = \"rok.arms == 'non_lethal'\"",
        "when = \"rok.vigilance == true\"",
        "22:9",
        &["cannot compare a number with a boolean"],
    );
}

#[test]
fn enumeration_compared_with_a_level_it_lacks() {
    assert_rejected(
        "'non_lethal'\"\nprob",
        "'nonlethal'\"\nprob",
        "22:21",
        &["`'nonlethal'` is not a level", "did you mean `non_lethal`?"],
    );
}

#[test]
fn non_boolean_when() {
    assert_rejected(
        "when = \"rok.arms == 'non_lethal'\"",
        "when = \"rok.vigilance + 1\"",
        "22:8",
        &["`when` must be a boolean, but this is a number"],
    );
}

#[test]
fn a_level_literal_alone_is_a_type_error_not_a_crash() {
    assert_rejected(
        "when = \"rok.arms == 'non_lethal'\"",
        "when = \"'non_lethal'\"",
        "22:8",
        &["`when` must be a boolean, but this is a level literal"],
    );
    assert_rejected(
        "probability = \"p_arms\"",
        "probability = \"clamp('non_lethal', t, 2)\"",
        "23:22",
        &["level literal"],
    );
}

#[test]
fn probability_above_one_is_an_error_not_clamped() {
    assert_rejected(
        "probability = \"p_arms\"",
        "probability = 1.3",
        "23:15",
        &["probability 1.3 is outside [0, 1]"],
    );
}

#[test]
fn initial_value_outside_bounds() {
    assert_rejected(
        "initial = 1, min = 0",
        "initial = 7, min = 0",
        "16:25",
        &["initial value 7 is outside [0, 3]"],
    );
}

#[test]
fn bad_distribution_parameters() {
    assert_rejected(
        "[0.01, 0.03, 0.08]",
        "[0.08, 0.03, 0.01]",
        "11:19",
        &["`pert` takes [min, mode, max]"],
    );
}

#[test]
fn unknown_actor_of_a_trigger() {
    assert_rejected(
        "actor = \"rok\"",
        "actor = \"rk\"",
        "21:9",
        &["unknown actor `rk`", "did you mean `rok`?"],
    );
}

#[test]
fn assignment_of_the_wrong_type() {
    assert_rejected(
        "\"rok.arms = 'lethal'\"",
        "\"rok.arms = 2\"",
        "24:24",
        &["cannot assign a number to an enumeration"],
    );
}

#[test]
fn missing_required_key() {
    assert_rejected(
        "label = \"Seoul sends lethal arms\"\n",
        "",
        "18:1",
        &["trigger `rok_arms` has no `label`"],
    );
}

#[test]
fn duplicate_trigger_id() {
    let doubled =
        format!("{GOOD}\n[[triggers]]\nid = \"rok_arms\"\nlabel = \"again\"\nactor = \"rok\"\nprobability = 0.1\n");
    let ws = Workspace::new();
    let file = ws.file("case.toml", &doubled);
    let output = sim().arg("check").arg(&file).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.contains("case.toml:27:6") && stderr.contains("trigger id `rok_arms` is used twice"),
        "{stderr}"
    );
}

#[test]
fn variant_errors_point_into_the_variant_file() {
    let ws = Workspace::new();
    ws.file("base.toml", GOOD);
    let variant = ws.file(
        "variant.toml",
        "extends = \"base.toml\"\nremove_triggers = [\"rok_armz\"]\n",
    );
    let output = sim().arg("check").arg(&variant).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.contains("variant.toml:2:20") && stderr.contains("did you mean `rok_arms`?"),
        "{stderr}"
    );

    let missing = ws.file("orphan.toml", "extends = \"nowhere.toml\"\n");
    let stderr = String::from_utf8_lossy(&sim().arg("check").arg(&missing).output().unwrap().stderr).to_string();
    assert!(
        stderr.contains("orphan.toml:1:11") && stderr.contains("does not exist"),
        "{stderr}"
    );

    ws.file("loop_a.toml", "extends = \"loop_b.toml\"\n");
    let looped = ws.file("loop_b.toml", "extends = \"loop_a.toml\"\n");
    let stderr = String::from_utf8_lossy(&sim().arg("check").arg(&looped).output().unwrap().stderr).to_string();
    assert!(stderr.contains("makes a cycle"), "{stderr}");
}

#[test]
fn several_mistakes_are_reported_together() {
    let text = GOOD
        .replacen("p_arms\"", "p_armz\"", 1)
        .replacen("actor = \"rok\"", "actor = \"rk\"", 1);
    let ws = Workspace::new();
    let file = ws.file("case.toml", &text);
    let stderr = String::from_utf8_lossy(&sim().arg("check").arg(&file).output().unwrap().stderr).to_string();
    assert!(
        stderr.contains("unknown name `p_armz`")
            && stderr.contains("unknown actor `rk`")
            && stderr.contains("2 errors"),
        "{stderr}"
    );
}

#[test]
fn runtime_probability_outside_unit_interval_stops_the_job() {
    let ws = Workspace::new();
    let file = ws.file(
        "case.toml",
        &GOOD.replacen("probability = \"p_arms\"", "probability = \"p_arms * 20\"", 1),
    );
    let output = sim()
        .arg("run")
        .arg(&file)
        .arg("--runs")
        .arg("2000")
        .arg("--out")
        .arg(ws.out())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("scenario `case`, run ")
            && stderr.contains("trigger `rok_arms`")
            && stderr.contains("outside [0, 1]"),
        "{stderr}"
    );
    assert!(!ws.out().exists(), "output written despite the error");
}

#[test]
fn unsafe_scenario_ids_are_refused() {
    assert_rejected(
        "name = \"errors\"",
        "id = \"../escape\"\nname = \"errors\"",
        "2:6",
        &["cannot be a scenario id"],
    );
}

#[test]
fn a_missing_name_is_located_at_the_scenario_header() {
    // Line 1 is a comment: the caret belongs under `[scenario]`, on line 2.
    let bad = format!("# a comment\n{}", GOOD.replacen("name = \"errors\"\n", "", 1));
    let ws = Workspace::new();
    let file = ws.file("case.toml", &bad);
    let output = sim().arg("check").arg(&file).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("has no `name`") && stderr.contains("case.toml:2:2"),
        "{stderr}"
    );
}

#[test]
fn independent_toml_errors_are_all_reported() {
    let bad = GOOD
        .replacen("steps = 12", "steps = \"12\"\ncolour = \"red\"", 1)
        .replacen("p_arms = { pert", "p_arms = { mode = 2, pert", 1)
        .replacen("probability = \"p_arms\"", "probabilty = \"p_arms\"", 1)
        .replacen("initial = \"calm\"", "initial = \"calm\"\nstart = 1", 1);
    let ws = Workspace::new();
    let file = ws.file("case.toml", &bad);
    let output = sim().arg("check").arg(&file).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("5 errors in scenario"), "{stderr}");
    for location in ["3:9", "4:1", "10:1", "13:12", "25:1"] {
        assert!(
            stderr.contains(&format!("case.toml:{location}")),
            "no {location} in\n{stderr}"
        );
    }
}
