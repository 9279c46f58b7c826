//! The JSON Schema of the scenario format, generated from the raw types of `load`.
//!
//! In: nothing. Out: the schema as pretty-printed JSON, printed by `sim schema`. It is derived
//! (schemars) from the types the loader deserializes, with hand-written parts beside the
//! hand-written deserializers, so it says what the loader accepts: unknown keys are refused
//! everywhere. Draft-07, the draft TOML editors (Taplo / Even Better TOML) read. The shipped
//! copy, `schema/scenario.schema.json`, is tested to equal this, so it cannot drift.

use schemars::generate::SchemaSettings;
use serde_json::Value;

use crate::load::RawScenario;

/// Where the repository ships the schema, relative to its root.
pub const SHIPPED_PATH: &str = "schema/scenario.schema.json";

/// The schema of a scenario file, as pretty-printed JSON ending with a newline.
pub fn scenario_schema() -> String {
    let schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<RawScenario>();
    let mut schema = schema.to_value();
    for_toml(&mut schema);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema is JSON");
    text.push('\n');
    text
}

/// Removes what schemars derives from Rust rather than from the format: TOML has no null (an
/// `Option` is a key left out), and the serializer's `skip_serializing` (`writeOnly`, and the
/// defaults written out as tables of nulls) means nothing to a file's author.
fn for_toml(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            map.remove("writeOnly");
            if map.get("default").is_some_and(Value::is_object) {
                map.remove("default");
            }
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if let [only] = &types[..] {
                    let only = only.clone();
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(choices)) = map.get_mut("anyOf") {
                choices.retain(|c| c.get("type").is_none_or(|t| t != "null"));
                if choices.len() == 1 {
                    let choices = map.remove("anyOf").expect("just seen");
                    map.insert("allOf".into(), choices);
                }
            }
            map.values_mut().for_each(for_toml);
        }
        Value::Array(items) => items.iter_mut().for_each(for_toml),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written schemas (beside the hand-written deserializers in `load`) against the
    /// deserializers: for each value, whether the loader reads it and whether the schema
    /// accepts it. The schema may refuse more than the loader (what `compile` refuses: a param
    /// with two forms), never less.
    #[test]
    fn hand_written_schemas_agree_with_the_deserializers() {
        let schema: serde_json::Value = serde_json::from_str(&scenario_schema()).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let header = "[scenario]\nname = \"s\"\nsteps = 3\nstep_unit = \"month\"\n[escalation]\nlevels = [\"a\", \"b\"]\ninitial = \"a\"\n";
        let trigger = "[[triggers]]\nid = \"t\"\nlabel = \"t\"\nactor = \"a\"\nprobability = 0.1\n";
        // (the TOML, whether the loader reads it, whether the schema accepts it)
        let cases: Vec<(String, bool, bool)> = [
            ("[params]\nx = 0.3", true, true),
            ("[params]\nx = 3", true, true),
            ("[params]\nx = { value = 0.3 }", true, true),
            ("[params]\nx = { annual = 0.2 }", true, true),
            ("[params]\nx = { uniform = [1, 2] }", true, true),
            ("[params]\nx = { triangular = [1, 2, 3] }", true, true),
            (
                "[params]\nx = { pert = [0.1, 0.2, 0.3], basis = \"annual\" }",
                true,
                true,
            ),
            ("[params]\nx = { beta = [2, 3] }", true, true),
            ("[params]\nx = { valeu = 0.3 }", false, false),
            ("[params]\nx = \"0.3\"", false, false),
            ("[params]\nx = { uniform = [1, 2], pert = [1, 2, 3] }", true, false),
            ("[params]\nx = { uniform = [1, 2, 3] }", true, false),
            ("[params]\nx = { basis = \"annual\" }", true, false),
            ("[actors.a]\nname = \"A\"\nv = 3", true, true),
            ("[actors.a]\nname = \"A\"\nv = true", true, true),
            (
                "[actors.a]\nname = \"A\"\nv = { initial = 1, min = 0, max = 3 }",
                true,
                true,
            ),
            (
                "[actors.a]\nname = \"A\"\nv = { levels = [\"x\", \"y\"], initial = \"x\" }",
                true,
                true,
            ),
            (
                "[actors.a]\nname = \"A\"\nv = { initial = 1, maximum = 3 }",
                false,
                false,
            ),
            ("[actors.a]\nname = \"A\"\nv = [1, 2]", false, false),
            ("[actors.a]\nname = \"A\"\nnote = \"text\"", true, true),
            ("TRIGGER\ndelay = 2", true, true),
            ("TRIGGER\ndelay = [1, 3]", true, true),
            ("TRIGGER\ndelay = [1, 2, 3]", false, false),
            ("TRIGGER\ndelay = [1]", false, false),
            ("TRIGGER\ndelay = \"2\"", false, false),
            ("TRIGGER\nrepeat = true", true, true),
            ("TRIGGER\nrepeat = 3", true, true),
            ("TRIGGER\nrepeat = \"yes\"", false, false),
            ("TRIGGER\nrepeat = 0", true, false),
            ("TRIGGER\nwhen = \"a.v > 1\"", true, true),
            ("TRIGGER\nwhen = true", true, true),
            ("TRIGGER\nwhen = [1]", false, false),
            ("TRIGGER\nprobabilty = 0.2", false, false),
        ]
        .into_iter()
        .map(|(text, loads, valid)| (text.replace("TRIGGER\n", trigger), loads, valid))
        .collect();
        for (text, loads, valid) in cases {
            let text = format!("{header}{text}\n");
            let loaded = toml::from_str::<RawScenario>(&text).is_ok();
            let json = serde_json::to_value(toml::from_str::<toml::Value>(&text).unwrap()).unwrap();
            assert_eq!(loaded, loads, "does the loader read this?\n{text}");
            assert_eq!(validator.is_valid(&json), valid, "does the schema accept this?\n{text}");
        }
    }
}
