//! What `sim check` refuses so that everything it accepts runs within bounds: numbers that are
//! not finite or not consistent, models past the limits of docs/scenario-format.md, over-long
//! or control-character texts, impossible start dates, scenario ids that name what `sim` writes;
//! and labels that spreadsheets would run as formulas, neutralised in the CSVs.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::util::{Workspace, sim};

const GOOD: &str = r#"[scenario]
name = "limits"
steps = 12
step_unit = "month"
start = "2025-05"

[escalation]
levels = ["calm", "tense", "clash"]
initial = "calm"

[params]
p_arms = { pert = [0.01, 0.03, 0.08] }

[actors.rok]
name = "Seoul"
vigilance = { initial = 1, min = 0, max = 3 }

[[triggers]]
id = "rok_arms"
label = "Seoul sends lethal arms"
actor = "rok"
probability = "p_arms"
effects = ["escalation += 1"]

[[outcomes]]
id = "clash"
label = "Armed clash"
when = "escalation >= 'clash'"
"#;

/// Runs `sim check` on `text` and returns its exit code and stderr.
fn check(text: &str) -> (Option<i32>, String, Duration) {
    let ws = Workspace::new();
    let file = ws.file("case.toml", text);
    let started = Instant::now();
    let output = sim().arg("check").arg(&file).output().unwrap();
    let took = started.elapsed();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        took,
    )
}

/// Replaces `from` by `to` in the good scenario and checks that `sim check` refuses it at
/// `case.toml:<location>` with every text of `expected`.
#[track_caller]
fn assert_refused(from: &str, to: &str, location: &str, expected: &[&str]) {
    assert!(GOOD.contains(from), "fixture lacks {from:?}");
    let (code, stderr, _) = check(&GOOD.replacen(from, to, 1));
    assert_eq!(code, Some(1), "exit code for {to:?}\n{stderr}");
    assert!(
        stderr.contains(&format!("case.toml:{location}")),
        "no case.toml:{location} in\n{stderr}"
    );
    for text in expected {
        assert!(stderr.contains(text), "no {text:?} in\n{stderr}");
    }
}

#[test]
fn the_fixture_itself_is_valid() {
    let (code, stderr, _) = check(GOOD);
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn numbers_that_are_not_finite_are_refused() {
    let vigilance = "vigilance = { initial = 1, min = 0, max = 3 }";
    assert_refused(
        vigilance,
        "vigilance = { initial = 1, min = 0, max = nan }",
        "16:43",
        &["`max` is `NaN`", "not a finite number"],
    );
    assert_refused(
        vigilance,
        "vigilance = { initial = nan, min = 0, max = 3 }",
        "16:25",
        &["`initial` is `NaN`"],
    );
    assert_refused(
        vigilance,
        "vigilance = { initial = 1, min = -inf, max = 3 }",
        "16:34",
        &["`min` is `-inf`"],
    );
    assert_refused(vigilance, "vigilance = inf", "16:13", &["`initial` is `inf`"]);
    let param = "p_arms = { pert = [0.01, 0.03, 0.08] }";
    assert_refused(param, "p_arms = nan", "12:10", &["`value` is given `NaN`"]);
    assert_refused(param, "p_arms = { value = -inf }", "12:20", &["not a finite number"]);
    assert_refused(param, "p_arms = { annual = nan }", "12:21", &["not a finite number"]);
    assert_refused(
        param,
        "p_arms = { beta = [nan, 1] }",
        "12:19",
        &["`beta` is given `NaN`"],
    );
    assert_refused(
        param,
        "p_arms = { triangular = [0, inf, inf] }",
        "12:25",
        &["not a finite number"],
    );
    // Finite bounds whose width overflows, in a param nothing reads.
    let wide = "p_arms = { pert = [0.01, 0.03, 0.08] }\nq = { pert = [-1e308, 0, 1e308] }";
    assert_refused(param, wide, "13:14", &["overflows to infinity"]);
    assert_refused(
        param,
        "p_arms = { uniform = [-1e308, 1e308] }",
        "12:22",
        &["overflows to infinity"],
    );
    // And inside an expression.
    assert_refused(
        "probability = \"p_arms\"",
        "probability = \"p_arms * 1e999\"",
        "22:25",
        &["`1e999` is not a finite number"],
    );
}

#[test]
fn inconsistent_numbers_are_refused() {
    let vigilance = "vigilance = { initial = 1, min = 0, max = 3 }";
    assert_refused(
        vigilance,
        "vigilance = { initial = 4, min = 0, max = 3 }",
        "16:25",
        &["outside [0, 3]"],
    );
    assert_refused(
        vigilance,
        "vigilance = { initial = 1, min = 3, max = 0 }",
        "16:13",
        &["greater than `max`"],
    );
    let param = "p_arms = { pert = [0.01, 0.03, 0.08] }";
    assert_refused(
        param,
        "p_arms = { pert = [0.08, 0.03, 0.01] }",
        "12:19",
        &["min <= mode <= max"],
    );
}

#[test]
fn step_counts_past_the_longest_horizon_are_refused() {
    // 2^32 + 1 used to wrap to a delay of 1 step.
    let effects = "effects = [\"escalation += 1\"]";
    assert_refused(
        effects,
        &format!("{effects}\ndelay = 4294967297"),
        "24:9",
        &["`delay` must be a number of steps from 0 to 10000"],
    );
    assert_refused(
        effects,
        &format!("{effects}\ndelay = [0, 4294967295]"),
        "24:9",
        &["[min, max]"],
    );
    assert_refused(
        effects,
        &format!("{effects}\ncooldown = 4294967296"),
        "24:12",
        &["`cooldown` must be a number of steps from 0 to 10000"],
    );
    let (code, stderr, _) = check(&GOOD.replace(effects, &format!("{effects}\ndelay = [0, 10000]\ncooldown = 10000")));
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn start_must_be_a_calendar_date() {
    for bad in ["2025-02-31", "2025-02-29", "2025-13", "2025-5", "+2025"] {
        assert_refused(
            "start = \"2025-05\"",
            &format!("start = \"{bad}\""),
            "5:9",
            &["must be a calendar date", "a day that exists in that month"],
        );
    }
    let (code, stderr, _) = check(&GOOD.replace("start = \"2025-05\"", "start = \"2024-02-29\""));
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn scenario_ids_never_name_what_sim_writes() {
    assert_refused(
        "name = \"limits\"",
        "id = \"compare\"\nname = \"limits\"",
        "2:6",
        &["`compare` cannot be a scenario id", "comparison"],
    );
    // An id taken from the file name is held to the same rule, and nothing is written.
    let ws = Workspace::new();
    let file = ws.file("compare.toml", GOOD);
    let output = sim()
        .arg("run")
        .arg(&file)
        .args(["--runs", "10"])
        .arg("--out")
        .arg(ws.out())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("`compare` cannot be a scenario id"), "{stderr}");
    assert!(!ws.out().exists());
}

#[test]
fn control_characters_in_texts_are_refused() {
    let label = "label = \"Seoul sends lethal arms\"";
    assert_refused(
        label,
        "label = \"Seoul \\u001b[2J sends\"",
        "20:9",
        &["control character U+001B"],
    );
    assert_refused(
        label,
        "label = \"two\\nlines\"",
        "20:9",
        &["U+000A", "this text is one line"],
    );
    assert_refused(label, "label = \"\\tindented\"", "20:9", &["U+0009"]);
    assert_refused(label, "label = \"abc\\u202Edef\"", "20:9", &["U+202E"]);
    assert_refused("name = \"Seoul\"", "name = \"Seo\\u0007ul\"", "15:8", &["U+0007"]);
    assert_refused("name = \"limits\"", "name = \"lim\\u009bits\"", "2:8", &["U+009B"]);
    assert_refused(
        "label = \"Armed clash\"",
        "label = \"Armed\\rclash\"",
        "27:9",
        &["U+000D"],
    );
    // The message quotes the offending text escaped, never raw.
    let (_, stderr, _) = check(&GOOD.replace("actor = \"rok\"", "actor = \"r\\u001b]0;pwned\\u0007\""));
    assert!(!stderr.contains('\u{1b}') && !stderr.contains('\u{7}'), "{stderr:?}");
    // Line breaks are fine where they make sense.
    let described = GOOD.replace(
        "name = \"limits\"",
        "name = \"limits\"\ndescription = \"\"\"\nOne.\r\n\tTwo.\n\"\"\"",
    );
    let (code, stderr, _) = check(&described);
    assert_eq!(code, Some(0), "{stderr}");
    let noted = GOOD.replace("effects = [", "note = \"first\\nsecond\"\neffects = [");
    let (code, stderr, _) = check(&noted);
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn long_texts_are_refused_quickly() {
    let long = "word".repeat(25_000);
    let label = "label = \"Seoul sends lethal arms\"";
    let started = Instant::now();
    assert_refused(
        label,
        &format!("label = \"{long}\""),
        "20:9",
        &["100000 characters; at most 200"],
    );
    assert_refused(
        "name = \"limits\"",
        &format!("name = \"{}\"", "n".repeat(201)),
        "2:8",
        &["at most 200"],
    );
    assert_refused(
        "id = \"rok_arms\"",
        &format!("id = \"{}\"", "a".repeat(65)),
        "19:6",
        &["65 characters; at most 64"],
    );
    assert_refused(
        "name = \"limits\"",
        &format!("name = \"limits\"\ndescription = \"{}\"", "d".repeat(5_001)),
        "3:15",
        &["at most 5000"],
    );
    // "Did you mean" over long names: an unknown actor among long ones.
    let long_actor = "a".repeat(100_000);
    let text = GOOD
        .replace("[actors.rok]", &format!("[actors.{long_actor}]"))
        .replace("actor = \"rok\"", &format!("actor = \"{long_actor}b\""));
    let (code, stderr, _) = check(&text);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("at most 64"), "{}", &stderr[..stderr.len().min(2000)]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

// ---- Model limits ----------------------------------------------------------------------------

/// A generated model: `triggers` triggers, `outcomes` outcomes, `levels` rungs, `params` params,
/// `actors` actors with `variables` state variables each, over `steps` steps.
struct Generated {
    steps: usize,
    levels: usize,
    triggers: usize,
    outcomes: usize,
    params: usize,
    actors: usize,
    variables: usize,
}

const SMALL: Generated = Generated {
    steps: 12,
    levels: 2,
    triggers: 1,
    outcomes: 1,
    params: 1,
    actors: 1,
    variables: 1,
};

impl Generated {
    fn text(&self) -> String {
        use std::fmt::Write;
        let levels: Vec<String> = (0..self.levels).map(|k| format!("\"l{k}\"")).collect();
        let mut out = format!(
            "[scenario]\nname = \"generated\"\nsteps = {}\nstep_unit = \"month\"\n\n[escalation]\nlevels = [{}]\ninitial = \"l0\"\n\n[params]\n",
            self.steps,
            levels.join(", ")
        );
        for p in 0..self.params {
            writeln!(out, "p{p} = {{ pert = [0.001, 0.002, 0.004] }}").unwrap();
        }
        for a in 0..self.actors {
            writeln!(out, "\n[actors.a{a}]\nname = \"Actor {a}\"").unwrap();
            for v in 0..self.variables {
                writeln!(out, "v{v} = {{ initial = 0, min = 0, max = 10 }}").unwrap();
            }
        }
        for i in 0..self.triggers {
            writeln!(
                out,
                "\n[[triggers]]\nid = \"t{i}\"\nlabel = \"Trigger number {i} fires\"\nactor = \"a0\"\nprobability = \"p0 + 0.001\"\nrepeat = true\neffects = [\"a0.v0 += 1\", \"escalation += 1\"]"
            )
            .unwrap();
        }
        for o in 0..self.outcomes {
            writeln!(
                out,
                "\n[[outcomes]]\nid = \"o{o}\"\nlabel = \"Outcome number {o}\"\nwhen = \"a0.v0 >= {}\"",
                o % 10
            )
            .unwrap();
        }
        out
    }
}

#[track_caller]
fn assert_too_large(model: Generated, expected: &str) {
    let (code, stderr, _) = check(&model.text());
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(expected), "no {expected:?} in\n{stderr}");
    assert!(stderr.contains("case.toml:"), "not located:\n{stderr}");
}

#[test]
fn models_past_each_limit_are_refused() {
    let (code, stderr, _) = check(&SMALL.text());
    assert_eq!(code, Some(0), "{stderr}");
    assert_too_large(
        Generated {
            triggers: 1_001,
            ..SMALL
        },
        "1001 triggers; at most 1000",
    );
    assert_too_large(Generated { outcomes: 201, ..SMALL }, "201 outcomes; at most 200");
    assert_too_large(Generated { levels: 101, ..SMALL }, "101 levels; at most 100");
    assert_too_large(Generated { params: 1_001, ..SMALL }, "1001 params; at most 1000");
    assert_too_large(Generated { actors: 201, ..SMALL }, "201 actors; at most 200");
    assert_too_large(
        Generated {
            actors: 2,
            variables: 501,
            ..SMALL
        },
        "1002 state variables; at most 1000",
    );
    assert_too_large(Generated { steps: 10_001, ..SMALL }, "between 1 and 10000");
    // (10,000 + 1) x (2 x 2 + 2 x 1 + 14) = 200,020 cells.
    assert_too_large(
        Generated {
            steps: 10_000,
            triggers: 14,
            ..SMALL
        },
        "200020 probabilities; at most 200000",
    );
}

fn total_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                total_size(&e.path())
            } else {
                e.metadata().unwrap().len()
            }
        })
        .sum()
}

#[test]
fn a_model_at_the_limits_runs_with_bounded_output() {
    // Every trigger the limit allows, and as many steps as the table limit leaves them:
    // (198 + 1) x (2 x 2 + 2 x 0 + 1000) = 199,796 cells.
    let model = Generated {
        steps: 198,
        triggers: 1_000,
        outcomes: 0,
        ..SMALL
    };
    let ws = Workspace::new();
    let file = ws.file("widest.toml", &model.text());
    let output = sim()
        .arg("run")
        .arg(&file)
        .args(["--runs", "64"])
        .arg("--out")
        .arg(ws.out())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let size = total_size(&ws.out());
    // About 60 bytes per cell in the JSON and as much in the CSV; the charts are small.
    assert!(size < 60_000_000, "{size} bytes written");
    assert!(size > 10_000_000, "{size} bytes: fewer cells reported than expected");
}

#[test]
fn formula_leading_labels_are_neutralised_in_csvs() {
    let ws = Workspace::new();
    let text = GOOD
        .replace(
            "label = \"Seoul sends lethal arms\"",
            "label = \"=HYPERLINK(\\\"http://x\\\")\"",
        )
        .replace("label = \"Armed clash\"", "label = \"-1 clash\"");
    let file = ws.file("formulas.toml", &text);
    let output = sim()
        .arg("run")
        .arg(&file)
        .args(["--runs", "10"])
        .arg("--out")
        .arg(ws.out())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let dir = ws.out().join("formulas");
    let fired = std::fs::read_to_string(dir.join("trigger_fired_by.csv")).unwrap();
    let outcome = std::fs::read_to_string(dir.join("outcome_by.csv")).unwrap();
    assert!(
        fired.lines().skip(1).all(|l| l.starts_with("rok_arms,\"'=HYPERLINK(")),
        "{fired}"
    );
    assert!(
        outcome.lines().skip(1).all(|l| l.starts_with("clash,'-1 clash,")),
        "{outcome}"
    );
    // The summary keeps the label as written.
    let summary = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    assert!(
        summary.contains("\"label\": \"=HYPERLINK(\\\"http://x\\\")\""),
        "{summary}"
    );
}
