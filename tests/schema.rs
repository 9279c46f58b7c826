//! The JSON Schema of scenario files (`schema/scenario.schema.json`): the shipped file is the
//! one the code generates, every shipped scenario validates against it, and invalid scenarios
//! (which `sim check` refuses too) do not.

use crate::util::{read, repo, shipped_scenarios, sim};

const REGENERATE: &str = "cargo run -- schema > schema/scenario.schema.json";

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(&read(&repo("schema/scenario.schema.json"))).expect("the shipped schema is JSON");
    jsonschema::validator_for(&schema).expect("the shipped schema is a valid JSON Schema")
}

/// A scenario file as the JSON document an editor validates.
fn as_json(text: &str) -> serde_json::Value {
    let value: toml::Value = toml::from_str(text).unwrap_or_else(|e| panic!("not TOML: {}", e.message()));
    serde_json::to_value(value).expect("TOML values are JSON")
}

#[test]
fn the_shipped_schema_is_the_generated_one() {
    let output = sim().arg("schema").output().unwrap();
    assert!(output.status.success());
    let generated = String::from_utf8(output.stdout).unwrap();
    let shipped = read(&repo("schema/scenario.schema.json"));
    assert!(
        generated == shipped,
        "schema/scenario.schema.json differs from what the code generates; regenerate it with `{REGENERATE}`"
    );
}

#[test]
fn every_shipped_scenario_validates() {
    let validator = validator();
    let mut files = shipped_scenarios();
    files.push(repo("tests/fixtures/small.toml"));
    for file in files {
        let json = as_json(&read(&file));
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    }
}

#[test]
fn invalid_scenarios_fail_validation_and_check() {
    let validator = validator();
    let baseline = read(&repo("scenarios/baseline.toml"));
    let cases = [
        ("steps = 36", "stpes = 36"),
        ("steps = 36", "steps = \"36\""),
        ("steps = 36", "steps = 0"),
        ("initial = \"warnings\"", "initial = \"warnings\"\nlevel = []"),
        ("appetite_step = 0.5", "appetite_step = { valeu = 0.5 }"),
        (
            "appetite_step = 0.5",
            "appetite_step = { uniform = [0, 1], pert = [0, 0.5, 1] }",
        ),
        ("appetite_step = 0.5", "appetite_step = { pert = [0, 1] }"),
        ("probability = \"p_kyiv_asks\"", "probabilty = \"p_kyiv_asks\""),
        (
            "probability = \"p_kyiv_asks\"",
            "probability = \"p_kyiv_asks\"\ndelay = [1, 2, 3]",
        ),
        ("repeat = 4", "repeat = 0"),
        ("below = 0.05", "below = 1.3"),
        ("below = 0.05", "bellow = 0.05"),
        ("between = [0.05, 0.4]", "between = [0.05, 0.4, 0.5]"),
        ("below = 0.05", "below = 0.05\nabove = 0.01"),
        (
            "outcome = \"regional_war\"\nbelow",
            "rung = \"regional_war\"\noutcome = \"regional_war\"\nbelow",
        ),
        ("above = 0\n", "above = 0\nstep = 3\ndate = \"2026-05\"\n"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (from, to) in cases {
        assert!(baseline.contains(from), "baseline.toml lacks {from:?}");
        let text = baseline.replacen(from, to, 1);
        assert!(!validator.is_valid(&as_json(&text)), "the schema accepts {to:?}");
        let file = dir.path().join("case.toml");
        std::fs::write(&file, &text).unwrap();
        let check = sim().arg("check").arg(&file).output().unwrap();
        assert_eq!(check.status.code(), Some(1), "`sim check` accepts {to:?}");
    }
}

/// `.taplo.toml` (what editors read, docs/scenario-format.md) points the scenarios at the
/// shipped schema.
#[test]
fn the_editor_configuration_names_the_shipped_schema() {
    let config: toml::Value = toml::from_str(&read(&repo(".taplo.toml"))).expect(".taplo.toml is TOML");
    let rule = &config["rule"][0];
    let path = rule["schema"]["path"].as_str().expect("a schema path");
    assert!(repo(path).is_file(), "{path} does not exist");
    let include: Vec<&str> = rule["include"]
        .as_array()
        .expect("include globs")
        .iter()
        .map(|g| g.as_str().unwrap())
        .collect();
    for file in shipped_scenarios() {
        let relative = file.strip_prefix(repo("")).unwrap().to_str().unwrap().to_string();
        assert!(
            include
                .iter()
                .any(|g| glob::Pattern::new(g).unwrap().matches(&relative)),
            "{relative} is not associated with the schema"
        );
    }
}
