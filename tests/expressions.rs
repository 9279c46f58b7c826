//! Expressions at their limits and beyond: depth and size, the caret after TOML escapes, NaN,
//! and `if(cond, a, b)`, through the real binary in `check`, `run` (the lockstep engine) and
//! `trace` (the run-by-run engine).

use std::path::Path;

use crate::util::{Workspace, sim};

/// A scenario with one trigger whose `when` and `probability` are given, and one outcome.
fn scenario(when: &str, probability: &str) -> String {
    format!(
        r#"[scenario]
id = "case"
name = "expressions"
steps = 6
step_unit = "month"

[escalation]
levels = ["calm", "tense", "clash"]
initial = "calm"

[params]
p = {{ uniform = [0.1, 0.3] }}

[actors.rok]
name = "Seoul"
vigilance = {{ initial = 1, min = 0, max = 3 }}

[[triggers]]
id = "alarm"
label = "Seoul raises its guard"
actor = "rok"
when = {when}
probability = {probability}
repeat = true
effects = ["rok.vigilance += 1", "escalation += 1"]

[[outcomes]]
id = "tense"
label = "Tense or worse"
when = "escalation >= 'tense'"
"#
    )
}

/// `sim check`, `sim run` and `sim trace` on `file`: the exit code of each and their stderr.
fn check_run_trace(ws: &Workspace, file: &Path) -> [(Option<i32>, String); 3] {
    let outputs = [
        sim().arg("check").arg(file).output().unwrap(),
        sim()
            .args(["run", "--runs", "300", "--threads", "2", "--out"])
            .arg(ws.out())
            .arg(file)
            .output()
            .unwrap(),
        sim().args(["trace", "--run", "3"]).arg(file).output().unwrap(),
    ];
    outputs.map(|o| (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned()))
}

/// Every command refuses the file with exit 1 and a message at `location` containing `text`.
#[track_caller]
fn assert_refused(text_of_file: &str, location: &str, text: &str) {
    let ws = Workspace::new();
    let file = ws.file("case.toml", text_of_file);
    for (code, stderr) in check_run_trace(&ws, &file) {
        assert_eq!(code, Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("case.toml:{location}")),
            "no case.toml:{location} in\n{stderr}"
        );
        assert!(stderr.contains(text), "no {text:?} in\n{stderr}");
    }
    assert!(!ws.out().exists(), "output written despite the error");
}

#[test]
fn too_deep_expressions_are_refused_where_they_nest_too_deep() {
    // Line 23 is `probability`, line 22 `when`; the 64th `+` is at column 16 + 7 * 64 - 1.
    let sum = vec!["0.0001"; 3500].join("+");
    assert_refused(
        &scenario("true", &format!("\"{sum}\"")),
        "23:463",
        "nests more than 64 levels",
    );
    let parens = format!("\"{}0.1{}\"", "(".repeat(10_000), ")".repeat(10_000));
    assert_refused(&scenario("true", &parens), "23:80", "nests more than 64 levels");
    let negations = format!("\"{}0.1\"", "-".repeat(10_000));
    assert_refused(&scenario("true", &negations), "23:80", "nests more than 64 levels");
    let nots = format!("\"{}true\"", "!".repeat(10_000));
    assert_refused(&scenario(&nots, "0.5"), "22:73", "nests more than 64 levels");
}

#[test]
fn expressions_at_the_depth_limit_run_in_both_engines() {
    let ws = Workspace::new();
    let sum = vec!["p / 100"; 63].join(" + ");
    let nots = format!("{}(rok.vigilance < 3)", "!".repeat(61));
    let mins = format!("{}p{}", "min(1, ".repeat(62), ")".repeat(62));
    for (when, probability) in [
        ("true".to_string(), format!("\"{sum}\"")),
        (format!("\"{nots}\""), "\"p\"".to_string()),
        ("\"rok.vigilance < 3\"".to_string(), format!("\"{mins}\"")),
    ] {
        let file = ws.file("case.toml", &scenario(&when, &probability));
        for (code, stderr) in check_run_trace(&ws, &file) {
            assert_eq!(code, Some(0), "{when} / {probability}:\n{stderr}");
        }
    }
}

/// `sim check` refuses `text` with `message` at `location`, the caret under `underlined`.
#[track_caller]
fn assert_caret(text: &str, location: &str, message: &str, underlined: &str) {
    let ws = Workspace::new();
    let file = ws.file("case.toml", text);
    let output = sim().arg("check").arg(&file).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(message), "no {message:?} in\n{stderr}");
    assert!(
        stderr.contains(&format!("case.toml:{location}\n")),
        "no case.toml:{location} in\n{stderr}"
    );
    // The caret line: as many `^` as `underlined` has characters, under its first one.
    let (line, column) = location.split_once(':').unwrap();
    let (line, column): (usize, usize) = (line.parse().unwrap(), column.parse().unwrap());
    let source_line = text.lines().nth(line - 1).unwrap();
    let at: String = source_line
        .chars()
        .skip(column - 1)
        .take(underlined.chars().count())
        .collect();
    assert_eq!(at, underlined, "column {column} of {source_line:?}");
    let carets = format!(" {}", "^".repeat(underlined.chars().count()));
    assert!(
        stderr
            .lines()
            .any(|l| l.contains(&carets) && !l.contains(&format!("{carets}^"))),
        "no {carets:?} in\n{stderr}"
    );
}

#[test]
fn carets_point_at_the_source_after_escapes() {
    let good = scenario("true", "\"p\"");
    let with = |probability: &str| good.replace("probability = \"p\"", probability);
    // A two-byte escape before two-byte characters: the caret on the first `é`, not inside it.
    assert_caret(
        &with(r#"probability = "a\néé""#),
        "23:19",
        "unexpected character `é`",
        "é",
    );
    assert_caret(
        &with(r#"probability = "\u0070 + zzz""#),
        "23:25",
        "unknown name `zzz`",
        "zzz",
    );
    assert_caret(
        &with(r#"probability = "\"p\" + zzz""#),
        "23:16",
        "unexpected character `\"`",
        "\\\"",
    );
    assert_caret(
        &with("probability = \"\"\"\np + \\\n    zzz\"\"\""),
        "25:5",
        "unknown name `zzz`",
        "zzz",
    );
    assert_caret(
        &with("probability = '''\np +\n  zzz'''"),
        "25:3",
        "unknown name `zzz`",
        "zzz",
    );
    assert_caret(
        &with("probability = 'p + \\zzz'"),
        "23:20",
        "unexpected character `\\`",
        "\\",
    );
    let effect = good.replace("\"rok.vigilance += 1\"", r#""rok.vigilance += \u0031 + zzz""#);
    assert_caret(&effect, "25:39", "unknown name `zzz`", "zzz");
}

/// `sim run` (lockstep) and `sim trace` (run by run) both stop with exit 3 and the same
/// message for the run they share, naming scenario, run, step and trigger.
#[track_caller]
fn assert_stops_in_both_engines(when: &str, probability: &str, effect: &str, what: &str) {
    let ws = Workspace::new();
    let text = scenario(when, probability).replace("\"rok.vigilance += 1\"", effect);
    let file = ws.file("case.toml", &text);
    let run = sim()
        .args(["run", "--runs", "200", "--out"])
        .arg(ws.out())
        .arg(&file)
        .output()
        .unwrap();
    let run_stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(3), "{probability} / {effect}:\n{run_stderr}");
    // Warnings (a param never read, say) may come first: the error is the line naming the run.
    let error_line = |stderr: &str| {
        stderr
            .lines()
            .find(|l| l.contains("scenario `case`, run "))
            .map(str::to_owned)
    };
    let first = error_line(&run_stderr).unwrap_or_else(|| panic!("no run error in:\n{run_stderr}"));
    let first = first.as_str();
    assert!(
        first.contains("scenario `case`, run ") && first.contains(", step ") && first.contains("trigger `alarm`"),
        "{first}"
    );
    assert!(first.contains(what), "no {what:?} in {first}");
    assert!(!ws.out().exists(), "output written despite the error");
    let run_index = first.split("run ").nth(1).unwrap().split(',').next().unwrap();
    let trace = sim().args(["trace", "--run", run_index]).arg(&file).output().unwrap();
    let trace_stderr = String::from_utf8_lossy(&trace.stderr);
    assert_eq!(trace.status.code(), Some(3), "{trace_stderr}");
    assert_eq!(
        error_line(&trace_stderr).as_deref(),
        Some(first),
        "the engines disagree"
    );
}

#[test]
fn nan_from_any_function_stops_the_run_in_both_engines() {
    let effect = "\"rok.vigilance += 1\"";
    for probability in [
        "\"min(1, p / 0 * 0)\"",
        "\"max(0, 0 / 0)\"",
        "\"clamp(0 / 0, 0, 1)\"",
        "\"clamp(p, 0, p / 0 * 0)\"",
        "\"abs(p - p / 0 * 0)\"",
        // Bounds that cross at run time: the vigilance starts at 1.
        "\"clamp(p, rok.vigilance - 1, 0.5)\"",
        "\"clamp(p, rok.vigilance, 0.5)\"",
    ] {
        assert_stops_in_both_engines("true", probability, effect, "probability NaN");
    }
    assert_stops_in_both_engines("true", "\"p\"", "\"rok.vigilance = min(2, 0 / 0)\"", "computed NaN");
}

#[test]
fn clamp_with_constant_crossed_bounds_is_refused_at_check() {
    let ws = Workspace::new();
    let file = ws.file("case.toml", &scenario("true", "\"clamp(p, 1, -(1))\""));
    let check = sim().arg("check").arg(&file).output().unwrap();
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("case.toml:23:25"), "{stderr}");
    assert!(stderr.contains("lower bound 1 above its upper bound -1"), "{stderr}");
    assert!(stderr.contains("^^^^^^^"), "{stderr}");
    let file = ws.file("case.toml", &scenario("true", "\"clamp(p, 0, 0 / 0)\""));
    let check = sim().arg("check").arg(&file).output().unwrap();
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("a bound that is not a number"), "{stderr}");
    // Equal bounds are fine: the value is then that bound.
    let file = ws.file("case.toml", &scenario("true", "\"clamp(p, 0.5, 0.5)\""));
    sim().arg("check").arg(&file).assert().success();
}

#[test]
fn conditional_expressions_run_alike_in_both_engines() {
    let ws = Workspace::new();
    let text = scenario("\"if(escalation == 'clash', false, true)\"", "\"if(t >= 3, 1, 0)\"").replace(
        "\"escalation += 1\"",
        "\"escalation = if(rok.vigilance >= 3, 'clash', 'tense')\"",
    );
    let file = ws.file("case.toml", &text);
    let summary = ws.run(&file, 200, 1);
    let tables = &summary.tables;
    let fired: Vec<u64> = tables.trigger_fired_by[0].points.iter().map(|e| e.count).collect();
    assert_eq!(fired, [0, 0, 0, 200, 200, 200, 200], "fires from step 3 on");
    let at = |level: usize, t: usize| tables.level_distribution[level].points[t].count;
    assert_eq!(
        (at(1, 3), at(2, 4), at(2, 6)),
        (200, 200, 200),
        "tense at 3, clash from 4"
    );
    // The run-by-run engine: the same steps, and no firing once at `clash`.
    let trace = sim().args(["trace", "--run", "7"]).arg(&file).output().unwrap();
    let stdout = String::from_utf8_lossy(&trace.stdout);
    assert!(trace.status.success(), "{stdout}");
    assert!(!stdout.contains("(step 2)") && !stdout.contains("(step 5)"), "{stdout}");
    assert!(
        stdout.contains("(step 3)") && stdout.contains("calm -> tense"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(step 4)") && stdout.contains("tense -> clash"),
        "{stdout}"
    );
}

#[test]
fn conditional_expressions_are_type_checked() {
    let good = scenario("true", "\"p\"");
    let with = |probability: &str| good.replace("probability = \"p\"", probability);
    assert_caret(
        &with(r#"probability = "if(p, 1, 0)""#),
        "23:19",
        "the condition of `if` needs a boolean, but this is a number",
        "p",
    );
    assert_caret(
        &with(r#"probability = "if(t > 2, p, t > 3)""#),
        "23:26",
        "the branches of `if` differ in type: a number and a boolean",
        "p, t > 3",
    );
    assert_caret(
        &with(r#"probability = "if(t > 2, 'calm', 1)""#),
        "23:26",
        "differ in type: a level literal and a number",
        "'calm', 1",
    );
    assert_caret(
        &with(r#"probability = "if(t > 2, p)""#),
        "23:16",
        "`if` takes 3 arguments, found 2",
        "if(t > 2, p)",
    );
    assert_caret(
        &good.replace("when = true", r#"when = "escalation == if(t > 2, 'calm', 'tense')""#),
        "22:33",
        "both branches of `if` are quoted levels",
        "'calm', 'tense'",
    );
    assert_caret(
        &good.replace("when = true", r#"when = "if(t > 2, escalation, 'clam') == 'calm'""#),
        "22:31",
        "`'clam'` is not a level",
        "'clam'",
    );
    assert_caret(
        &with(r#"probability = "if(t > 2, p, 0)""#).replace(
            "\"rok.vigilance += 1\"",
            "\"rok.vigilance = if(t > 2, 'calm', 'tense')\"",
        ),
        "25:39",
        "both branches of `if` are quoted levels",
        "'calm', 'tense'",
    );
    // An effect on an enumeration gives two quoted levels theirs, through nested branches, but
    // not to a comparison inside its value.
    let effect = |value: &str| good.replace("\"escalation += 1\"", &format!("\"escalation = {value}\""));
    let ws = Workspace::new();
    let nested = effect("if(t > 4, (if(rok.vigilance >= 3, 'clash', 'tense')), 'calm')");
    sim().arg("check").arg(ws.file("case.toml", &nested)).assert().success();
    assert_caret(
        &effect("if(if(t > 2, 'calm', 'tense') == escalation, 'clash', 'calm')"),
        "25:61",
        "both branches of `if` are quoted levels",
        "'calm', 'tense'",
    );
}
