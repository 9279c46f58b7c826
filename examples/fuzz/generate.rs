//! Structured generation: random scenarios from the scenario grammar (docs/scenario-format.md).
//!
//! Most of what is generated is well-typed, so that cases get past `sim check` and reach the
//! engine: random actors, variables of the three types, params with every distribution,
//! triggers with repeats, cooldowns and delays, outcomes, and expressions of random shape over
//! the names in scope. A small share of every choice is hostile on purpose: expressions
//! thousands of levels deep, NaN, infinities and 1e308 where numbers go, long names and
//! labels, control characters and TOML escapes in strings, unknown keys and names, chains of
//! `extends` (with cycles and missing bases).

use std::cell::Cell;

use crate::Rng;

/// How a scenario takes the hostile choices.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// None: well typed and consistent, so that it reaches the engine.
    Plain,
    /// Each one time in ten of a hostile scenario: mostly plain with one or two odd things, so
    /// that an odd value `sim check` lets through reaches the engine.
    Tinted,
    /// All of them.
    Hostile,
}

thread_local! {
    static MODE: Cell<Mode> = const { Cell::new(Mode::Plain) };
}

/// The mode of the last scenario generated on this thread.
pub fn mode() -> Mode {
    MODE.get()
}

/// Whether the current scenario takes the hostile choices that need no rate of their own.
fn hostile() -> bool {
    MODE.get() == Mode::Hostile
}

/// A hostile choice, taken one time in `den` in a hostile scenario, one in `10 * den` in a
/// tinted one, never in a plain one.
fn odd(rng: &mut Rng, den: u64) -> bool {
    match MODE.get() {
        Mode::Plain => false,
        Mode::Tinted => rng.chance(1, 10 * den),
        Mode::Hostile => rng.chance(1, den),
    }
}

/// An odd number or a deep expression: as `odd`, but a tinted scenario takes them twice as
/// often as a hostile one's other choices, since these are what `sim check` lets through to the
/// engine.
fn odd_value(rng: &mut Rng, den: u64) -> bool {
    match MODE.get() {
        Mode::Plain => false,
        Mode::Tinted => rng.chance(1, 2 * den),
        Mode::Hostile => rng.chance(1, den),
    }
}

/// The names an expression can read.
#[derive(Default, Clone)]
struct Scope {
    params: Vec<String>,
    numbers: Vec<String>,
    booleans: Vec<String>,
    enums: Vec<(String, Vec<String>)>,
    levels: Vec<String>,
    triggers: Vec<String>,
    outcomes: Vec<String>,
    actors: Vec<String>,
}

/// A scenario: one file, or a variant extending a chain of bases.
pub fn scenario(rng: &mut Rng) -> Vec<(String, Vec<u8>)> {
    MODE.set(*rng.pick(&[Mode::Plain, Mode::Plain, Mode::Tinted, Mode::Tinted, Mode::Hostile]));
    let mut scope = Scope::default();
    let base = full_scenario(rng, &mut scope);
    if !rng.chance(1, 5) {
        return vec![("case.toml".into(), base.into_bytes())];
    }
    // A chain: case.toml extends mid.toml (sometimes) which extends base.toml.
    let mut files = Vec::new();
    let mut parent = "base.toml".to_string();
    files.push((parent.clone(), base));
    if rng.chance(1, 3) {
        let mid = variant(rng, &mut scope, &parent);
        files.push(("mid.toml".into(), mid));
        parent = "mid.toml".into();
    }
    let mut case = variant(rng, &mut scope, &parent);
    if odd(rng, 20) {
        // A cycle: the base extends the variant.
        files[0].1 = format!("extends = \"case.toml\"\n{}", files[0].1);
    }
    if odd(rng, 30) {
        let target = *rng.pick(&["missing.toml", ".", "", "case.toml", "../base.toml", "base.toml/"]);
        case = case.replacen(
            &format!("extends = \"{parent}\""),
            &format!("extends = \"{target}\""),
            1,
        );
    }
    let mut out = vec![("case.toml".to_string(), case.into_bytes())];
    out.extend(files.into_iter().map(|(n, t)| (n, t.into_bytes())));
    out
}

fn full_scenario(rng: &mut Rng, scope: &mut Scope) -> String {
    let mut s = String::new();
    s.push_str("[scenario]\n");
    if !odd(rng, 40) {
        s.push_str(&format!("name = {}\n", label_string(rng)));
    }
    if rng.chance(1, 4) {
        let id = if odd(rng, 8) { hostile_name(rng) } else { ident(rng) };
        s.push_str(&format!("id = {}\n", string(rng, &id)));
    }
    if rng.chance(1, 4) {
        s.push_str(&format!("description = {}\n", label_string(rng)));
    }
    if !odd(rng, 40) {
        let steps = if odd(rng, 25) {
            rng.pick(&["0", "-1", "10000", "10001", "1e3", "\"12\"", "4294967297", "nan", "2.5"])
                .to_string()
        } else if rng.chance(1, 15) {
            rng.range(50, 1500).to_string()
        } else {
            rng.range(1, 40).to_string()
        };
        s.push_str(&format!("steps = {steps}\n"));
    }
    if !odd(rng, 40) {
        let unit = if odd(rng, 10) {
            label(rng)
        } else {
            rng.pick(&UNITS).to_string()
        };
        s.push_str(&format!("step_unit = {}\n", string(rng, &unit)));
    }
    if rng.chance(1, 3) {
        let start = if odd(rng, 4) {
            rng.pick(&[
                "2025-02-31",
                "2025-13",
                "0000-00",
                "9999-12-31",
                "2025-1",
                "",
                "2025-05-05T00:00",
                "-1",
            ])
            .to_string()
        } else {
            let (y, m, d) = (rng.range(1900, 2100), rng.range(1, 12), rng.range(1, 28));
            match rng.below(3) {
                0 => format!("{y}"),
                1 => format!("{y}-{m:02}"),
                _ => format!("{y}-{m:02}-{d:02}"),
            }
        };
        s.push_str(&format!("start = {}\n", string(rng, &start)));
    }
    if rng.chance(1, 4) {
        s.push_str(&format!("runs = {}\n", integer(rng)));
    }
    if rng.chance(1, 4) {
        s.push_str(&format!("seed = {}\n", integer(rng)));
    }
    if odd(rng, 50) {
        s.push_str("unknown_key = 1\n");
    }

    let levels = {
        let n = if odd(rng, 30) { 1 } else { rng.range(2, 7) as usize };
        distinct_names(rng, |_| n)
    };
    scope.levels = levels.clone();
    s.push_str("\n[escalation]\n");
    s.push_str(&format!("levels = [{}]\n", list(rng, &levels)));
    let initial = if odd(rng, 30) {
        ident(rng)
    } else {
        rng.pick(&levels).clone()
    };
    s.push_str(&format!("initial = {}\n", string(rng, &initial)));

    // Names are declared before any expression is written, so that expressions can read
    // params, variables and triggers declared after them.
    let params = distinct_names(rng, |r| r.below(7) as usize);
    let actors = distinct_names(rng, |r| r.range(1, 4) as usize);
    let mut actor_vars = Vec::new();
    for actor in &actors {
        let mut vars = Vec::new();
        for var in distinct_names(rng, |r| r.below(5) as usize) {
            if var == "name" || var == "note" {
                continue;
            }
            let kind = rng.below(3);
            let path = format!("{actor}.{var}");
            match kind {
                0 => scope.numbers.push(path),
                1 => scope.booleans.push(path),
                _ => {
                    let lv = distinct_names(rng, |r| r.range(2, 5) as usize);
                    scope.enums.push((path, lv.clone()));
                    vars.push((var, 2, lv));
                    continue;
                }
            }
            vars.push((var, kind, Vec::new()));
        }
        actor_vars.push(vars);
    }
    scope.params = params.clone();
    scope.actors = actors.clone();
    scope.triggers = distinct_names(rng, |r| r.below(8) as usize);
    scope.outcomes = distinct_names(rng, |r| r.below(5) as usize);

    s.push_str("\n[params]\n");
    for name in &params {
        s.push_str(&format!("{} = {}\n", key(rng, name), param(rng, scope)));
    }
    for (actor, vars) in actors.iter().zip(&actor_vars) {
        s.push_str(&format!("\n[actors.{}]\n", key(rng, actor)));
        if !odd(rng, 40) {
            s.push_str(&format!("name = {}\n", label_string(rng)));
        }
        if rng.chance(1, 5) {
            s.push_str(&format!("note = {}\n", label_string(rng)));
        }
        for (var, kind, levels) in vars {
            s.push_str(&format!("{} = {}\n", key(rng, var), variable(rng, *kind, levels)));
        }
    }
    let triggers = scope.triggers.clone();
    for id in &triggers {
        s.push_str(&trigger(rng, scope, id, true));
    }
    let outcomes = scope.outcomes.clone();
    for id in &outcomes {
        s.push_str(&outcome(rng, scope, id, true));
    }
    s
}

/// A variant of `parent`: a few patches and additions.
fn variant(rng: &mut Rng, scope: &mut Scope, parent: &str) -> String {
    let mut s = format!("extends = \"{parent}\"\n");
    if rng.chance(1, 5) && !scope.triggers.is_empty() {
        let removed = rng.pick(&scope.triggers).clone();
        s.push_str(&format!("remove_triggers = [{}]\n", string(rng, &removed)));
        if rng.chance(1, 2) {
            scope.triggers.retain(|t| *t != removed);
        }
    }
    if rng.chance(1, 8) && !scope.outcomes.is_empty() {
        let removed = rng.pick(&scope.outcomes).clone();
        s.push_str(&format!("remove_outcomes = [{}]\n", string(rng, &removed)));
    }
    s.push_str(&format!("\n[scenario]\nname = {}\n", label_string(rng)));
    if rng.chance(1, 5) {
        s.push_str(&format!("steps = {}\n", rng.range(1, 30)));
    }
    if odd(rng, 20) {
        s.push_str("\n[escalation]\nlevels = [\"a\", \"b\"]\ninitial = \"a\"\n");
    }
    s.push_str("\n[params]\n");
    for _ in 0..rng.below(3) {
        let name = if rng.chance(1, 2) && !scope.params.is_empty() {
            rng.pick(&scope.params).clone()
        } else {
            let name = ident(rng);
            scope.params.push(name.clone());
            name
        };
        s.push_str(&format!("{} = {}\n", key(rng, &name), param(rng, scope)));
    }
    if rng.chance(1, 2) && !scope.actors.is_empty() {
        let actor = rng.pick(&scope.actors).clone();
        s.push_str(&format!("\n[actors.{actor}]\n"));
        let prefix = format!("{actor}.");
        let numbers: Vec<String> = scope
            .numbers
            .iter()
            .filter(|n| n.starts_with(&prefix))
            .cloned()
            .collect();
        if let Some(var) = numbers.first() {
            let var = &var[prefix.len()..];
            if rng.chance(1, 2) {
                s.push_str(&format!("{var} = {}\n", number(rng)));
            } else {
                s.push_str(&format!("{var} = {{ initial = {} }}\n", number(rng)));
            }
        }
        if rng.chance(1, 2) {
            let var = ident(rng);
            if var != "name" && var != "note" {
                s.push_str(&format!(
                    "{var} = {}\n",
                    rng.pick(&["true", "1", "{ initial = 2, max = 1 }"])
                ));
            }
        }
    }
    for _ in 0..rng.below(3) {
        if rng.chance(1, 2) && !scope.triggers.is_empty() {
            let id = rng.pick(&scope.triggers).clone();
            s.push_str(&trigger(rng, scope, &id, false));
        } else {
            let id = ident(rng);
            scope.triggers.push(id.clone());
            s.push_str(&trigger(rng, scope, &id, true));
        }
    }
    if rng.chance(1, 3) {
        let id = if rng.chance(1, 2) && !scope.outcomes.is_empty() {
            rng.pick(&scope.outcomes).clone()
        } else {
            ident(rng)
        };
        let complete = rng.chance(1, 2);
        s.push_str(&outcome(rng, scope, &id, complete));
    }
    s
}

const UNITS: [&str; 6] = ["day", "week", "month", "quarter", "year", "month"];

fn trigger(rng: &mut Rng, scope: &Scope, id: &str, complete: bool) -> String {
    let mut s = String::from("\n[[triggers]]\n");
    s.push_str(&format!("id = {}\n", string(rng, id)));
    let all = complete && !odd(rng, 40);
    if all || rng.chance(1, 4) {
        s.push_str(&format!("label = {}\n", label_string(rng)));
    }
    if all || rng.chance(1, 8) {
        let actor = if odd(rng, 30) || scope.actors.is_empty() {
            ident(rng)
        } else {
            rng.pick(&scope.actors).clone()
        };
        s.push_str(&format!("actor = {}\n", string(rng, &actor)));
    }
    if rng.chance(2, 3) {
        let when = boolean(rng, scope);
        s.push_str(&format!("when = {}\n", string(rng, &when)));
    }
    if all || rng.chance(1, 2) {
        let probability = if rng.chance(1, 3) {
            probability_literal(rng)
        } else {
            let expr = numeric(rng, scope);
            string(rng, &expr)
        };
        s.push_str(&format!("probability = {probability}\n"));
    }
    if rng.chance(1, 3) {
        let delay = match rng.below(6) {
            0 => {
                let (a, b) = (rng.below(4), rng.below(6));
                format!("[{}, {}]", a.min(b), a.max(b))
            }
            1 if hostile() => rng
                .pick(&["-1", "[3, 1]", "[1]", "1.5", "nan", "[0, 1000000]", "\"2\""])
                .to_string(),
            _ => small_int(rng),
        };
        s.push_str(&format!("delay = {delay}\n"));
    }
    if rng.chance(1, 2) {
        let repeat = match rng.below(5) {
            0 => "true".to_string(),
            1 => "false".to_string(),
            2 if hostile() => rng.pick(&["-1", "0", "1.5", "99999999999", "\"yes\""]).to_string(),
            _ => rng.range(1, 5).to_string(),
        };
        s.push_str(&format!("repeat = {repeat}\n"));
    }
    if rng.chance(1, 3) {
        let cooldown = if odd(rng, 10) {
            rng.pick(&["-1", "1e9", "nan", "4294967296"]).to_string()
        } else {
            small_int(rng)
        };
        s.push_str(&format!("cooldown = {cooldown}\n"));
    }
    if rng.chance(3, 4) {
        let effects: Vec<String> = (0..rng.below(4)).map(|_| effect(rng, scope)).collect();
        let effects: Vec<String> = effects.iter().map(|e| string(rng, e)).collect();
        s.push_str(&format!("effects = [{}]\n", effects.join(", ")));
    }
    if rng.chance(1, 3) {
        let k = if rng.chance(1, 2) { "source" } else { "note" };
        s.push_str(&format!("{k} = {}\n", label_string(rng)));
    }
    if odd(rng, 60) {
        s.push_str("probabilty = 0.5\n");
    }
    s
}

fn outcome(rng: &mut Rng, scope: &Scope, id: &str, complete: bool) -> String {
    let mut s = String::from("\n[[outcomes]]\n");
    s.push_str(&format!("id = {}\n", string(rng, id)));
    if complete || rng.chance(1, 3) {
        s.push_str(&format!("label = {}\n", label_string(rng)));
    }
    if complete || rng.chance(1, 2) {
        let when = boolean(rng, scope);
        s.push_str(&format!("when = {}\n", string(rng, &when)));
    }
    s
}

fn effect(rng: &mut Rng, scope: &Scope) -> String {
    let op = *rng.pick(&["=", "+=", "-="]);
    match rng.below(6) {
        0 | 1 => {
            let rhs = if op == "=" && !odd(rng, 4) {
                format!("'{}'", rng.pick(&scope.levels))
            } else {
                numeric(rng, scope)
            };
            format!("escalation {op} {rhs}")
        }
        2 if !scope.numbers.is_empty() => format!("{} {op} {}", rng.pick(&scope.numbers), numeric(rng, scope)),
        3 if !scope.booleans.is_empty() => format!("{} = {}", rng.pick(&scope.booleans), boolean(rng, scope)),
        4 if !scope.enums.is_empty() => {
            let (var, levels) = rng.pick(&scope.enums).clone();
            if op == "=" {
                format!("{var} = '{}'", rng.pick(&levels))
            } else {
                format!("{var} {op} {}", numeric(rng, scope))
            }
        }
        _ => {
            if odd(rng, 4) {
                rng.pick(&[
                    "t = 1",
                    "escalation",
                    "x.y += 1",
                    "escalation += ",
                    "= 1",
                    "fired.a = true",
                ])
                .to_string()
            } else {
                let op = if op == "=" { "+=" } else { op };
                format!("escalation {op} {}", small_int(rng))
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------------------------

/// A number-valued expression.
fn numeric(rng: &mut Rng, scope: &Scope) -> String {
    if odd_value(rng, 100) {
        return deep(rng, scope, false);
    }
    let depth = rng.below(5);
    num_expr(rng, scope, depth)
}

/// A boolean-valued expression.
fn boolean(rng: &mut Rng, scope: &Scope) -> String {
    if odd_value(rng, 100) {
        return deep(rng, scope, true);
    }
    let depth = rng.below(5);
    bool_expr(rng, scope, depth)
}

fn num_expr(rng: &mut Rng, scope: &Scope, depth: u64) -> String {
    if depth == 0 || rng.chance(1, 3) {
        return num_atom(rng, scope);
    }
    let d = depth - 1;
    match rng.below(9) {
        0..=3 => {
            let op = *rng.pick(&["+", "-", "*", "/"]);
            let (a, b) = (num_expr(rng, scope, d), num_expr(rng, scope, d));
            let space = if rng.chance(1, 2) { " " } else { "" };
            format!("{a}{space}{op}{space}{b}")
        }
        4 => format!("-{}", num_expr(rng, scope, d)),
        5 => format!("({})", num_expr(rng, scope, d)),
        6 => {
            let f = *rng.pick(&["min", "max"]);
            format!("{f}({}, {})", num_expr(rng, scope, d), num_expr(rng, scope, d))
        }
        7 => format!("abs({})", num_expr(rng, scope, d)),
        _ => format!(
            "clamp({}, {}, {})",
            num_expr(rng, scope, d),
            num_expr(rng, scope, d),
            num_expr(rng, scope, d)
        ),
    }
}

fn num_atom(rng: &mut Rng, scope: &Scope) -> String {
    match rng.below(12) {
        0 | 1 => format!("{:.3}", rng.unit()),
        2 => {
            let literals = [
                "0", "1", "2", "0.5", "0.0001", "100", "1e308", "1e-320", "1e309", "1.", ".5", "1e", "0x1",
            ];
            let n = if hostile() { literals.len() } else { 6 };
            literals[rng.index(n)].to_string()
        }
        3 | 4 if !scope.params.is_empty() => rng.pick(&scope.params).clone(),
        5 | 6 if !scope.numbers.is_empty() => rng.pick(&scope.numbers).clone(),
        7 => "t".into(),
        8 | 9 if !scope.triggers.is_empty() => {
            let kind = *rng.pick(&["count", "since"]);
            format!("{kind}.{}", rng.pick(&scope.triggers))
        }
        // An enumeration where a number goes.
        10 if odd(rng, 4) => "escalation".into(),
        11 if odd(rng, 4) => {
            // Names out of scope or of the wrong type.
            let wrong = [
                ident(rng),
                "fired".into(),
                "since.nope".into(),
                "true".into(),
                "'lvl'".into(),
                "nan".into(),
                "inf".into(),
                "min(1)".into(),
                "f(1)".into(),
            ];
            rng.pick(&wrong).clone()
        }
        _ => format!("{}", rng.below(10)),
    }
}

fn bool_expr(rng: &mut Rng, scope: &Scope, depth: u64) -> String {
    if depth == 0 || rng.chance(1, 3) {
        return bool_atom(rng, scope, depth);
    }
    let d = depth - 1;
    match rng.below(6) {
        0 | 1 => format!("{} && {}", bool_expr(rng, scope, d), bool_expr(rng, scope, d)),
        2 | 3 => format!("{} || {}", bool_expr(rng, scope, d), bool_expr(rng, scope, d)),
        // `!` binds tighter than comparisons: unbracketed, `!a < b` is a type error.
        4 if odd(rng, 2) => format!("!{}", bool_expr(rng, scope, d)),
        4 => format!("!({})", bool_expr(rng, scope, d)),
        _ => format!("({})", bool_expr(rng, scope, d)),
    }
}

fn bool_atom(rng: &mut Rng, scope: &Scope, depth: u64) -> String {
    let cmp = *rng.pick(&["==", "!=", "<", "<=", ">", ">="]);
    match rng.below(9) {
        0 => rng.pick(&["true", "false"]).to_string(),
        1 if !scope.booleans.is_empty() => rng.pick(&scope.booleans).clone(),
        2 if !scope.triggers.is_empty() => format!("fired.{}", rng.pick(&scope.triggers)),
        3 => format!("escalation {cmp} '{}'", rng.pick(&scope.levels)),
        4 if !scope.enums.is_empty() => {
            let (var, levels) = rng.pick(&scope.enums).clone();
            format!("{var} {cmp} '{}'", rng.pick(&levels))
        }
        5 if odd(rng, 6) => rng
            .pick(&[
                "1 == 1 == 1",
                "escalation == 'nope'",
                "escalation > 1",
                "1 && 2",
                "!",
                "(true",
                "true)",
                "'a' == 'a'",
                "t >= ",
                "\u{0}",
                "é",
            ])
            .to_string(),
        _ => {
            let d = depth.saturating_sub(1);
            format!("{} {cmp} {}", num_expr(rng, scope, d), num_expr(rng, scope, d))
        }
    }
}

/// An expression hundreds to tens of thousands of levels deep, of one of several shapes.
fn deep(rng: &mut Rng, scope: &Scope, boolean: bool) -> String {
    let n = rng.log_range(50, 20_000) as usize;
    if boolean {
        let atom = bool_atom(rng, scope, 0);
        return match rng.below(4) {
            0 => format!("{}{atom}", "!".repeat(n)),
            1 => format!("{}{atom}{}", "(".repeat(n), ")".repeat(n)),
            2 => vec![atom; n].join(" && "),
            _ => format!("{}{atom}{}", "true && (".repeat(n), ")".repeat(n)),
        };
    }
    let atom = num_atom(rng, scope);
    match rng.below(6) {
        0 => vec!["0.0001"; n].join("+"),
        1 => format!("{}{atom}{}", "(".repeat(n), ")".repeat(n)),
        2 => format!("{}{atom}", "-".repeat(n)),
        3 => format!("{}{atom}", "- ".repeat(n)),
        4 => format!("{}{atom}{}", "min(".repeat(n), ", 1)".repeat(n)),
        _ => vec![atom; n].join(" * "),
    }
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

fn param(rng: &mut Rng, scope: &Scope) -> String {
    let _ = scope;
    let basis = if rng.chance(1, 4) { ", basis = \"annual\"" } else { "" };
    let kinds = if hostile() { 8 } else { 7 };
    match rng.below(kinds) {
        0 => number(rng),
        1 => format!("{{ value = {} }}", number(rng)),
        2 => format!("{{ annual = {} }}", probability_literal(rng)),
        3 => format!("{{ uniform = [{}, {}]{basis} }}", bound(rng, 0.0), bound(rng, 1.0)),
        4 => format!(
            "{{ triangular = [{}, {}, {}]{basis} }}",
            bound(rng, 0.0),
            bound(rng, 0.4),
            bound(rng, 1.0)
        ),
        5 => format!(
            "{{ pert = [{}, {}, {}]{basis} }}",
            bound(rng, 0.0),
            bound(rng, 0.3),
            bound(rng, 0.9)
        ),
        6 => format!("{{ beta = [{}, {}]{basis} }}", bound(rng, 2.0), bound(rng, 5.0)),
        _ => rng
            .pick(&[
                "{ }",
                "{ uniform = [1] }",
                "{ pert = [0, 1] }",
                "{ value = 1, annual = 0.1 }",
                "\"0.5\"",
                "[0.1, 0.2]",
                "true",
                "{ beta = [0, 0] }",
                "{ uniform = [0.5, 0.5] }",
                "{ triangular = [1, 0, 2] }",
            ])
            .to_string(),
    }
}

fn variable(rng: &mut Rng, kind: u64, levels: &[String]) -> String {
    match kind {
        0 => match rng.below(5) {
            0 => number(rng),
            1 => format!("{{ initial = {} }}", number(rng)),
            _ if hostile() => {
                let mut fields = vec![format!("initial = {}", number(rng))];
                if rng.chance(2, 3) {
                    fields.push(format!("min = {}", number(rng)));
                }
                if rng.chance(2, 3) {
                    fields.push(format!("max = {}", number(rng)));
                }
                format!("{{ {} }}", fields.join(", "))
            }
            _ => {
                let initial = rng.below(10) as i64 - 3;
                let (below, above) = (rng.below(5) as i64, rng.below(5) as i64);
                let mut values = [
                    initial.to_string(),
                    (initial - below).to_string(),
                    (initial + above).to_string(),
                ];
                for value in &mut values {
                    if odd_value(rng, 4) {
                        *value = odd_number(rng);
                    }
                }
                let [initial, min, max] = values;
                format!("{{ initial = {initial}, min = {min}, max = {max} }}")
            }
        },
        1 => match rng.below(3) {
            0 => rng.pick(&["true", "false"]).to_string(),
            1 => {
                let n = if hostile() { 4 } else { 2 };
                format!("{{ initial = {} }}", ["true", "false", "1", "\"yes\""][rng.index(n)])
            }
            _ => "false".into(),
        },
        _ => {
            let initial = if odd(rng, 20) {
                ident(rng)
            } else {
                rng.pick(levels).clone()
            };
            format!(
                "{{ levels = [{}], initial = {} }}",
                list(rng, levels),
                string(rng, &initial)
            )
        }
    }
}

/// A number where a value goes: mostly ordinary, sometimes NaN, infinite, huge or tiny.
fn number(rng: &mut Rng) -> String {
    if odd_value(rng, 8) {
        return odd_number(rng);
    }
    match rng.below(3) {
        0 => rng.below(20).to_string(),
        1 => format!("{:.2}", rng.unit() * 10.0),
        _ => format!("-{}", rng.below(5)),
    }
}

/// A distribution bound near `typical`, sometimes odd.
fn bound(rng: &mut Rng, typical: f64) -> String {
    if odd_value(rng, 8) {
        return odd_number(rng);
    }
    format!(
        "{:.3}",
        (typical + (rng.unit() - 0.5) * 0.2).clamp(0.0, typical.max(1.0))
    )
}

fn probability_literal(rng: &mut Rng) -> String {
    if odd_value(rng, 8) {
        return odd_number(rng);
    }
    format!("{:.4}", rng.unit() * rng.unit())
}

fn odd_number(rng: &mut Rng) -> String {
    rng.pick(&[
        "nan",
        "+nan",
        "-nan",
        "inf",
        "-inf",
        "+inf",
        "1e308",
        "-1e308",
        "1.7976931348623157e308",
        "5e-324",
        "-0.0",
        "1e-300",
        "9223372036854775807",
        "-9223372036854775808",
        "18446744073709551616",
        "1e400",
        "0x7fffffffffffffff",
        "1_000_000",
        "0.1e-310",
        "2",
        "-1",
    ])
    .to_string()
}

fn integer(rng: &mut Rng) -> String {
    if odd(rng, 5) {
        return rng
            .pick(&["0", "-1", "9223372036854775807", "18446744073709551615", "1e5", "nan"])
            .to_string();
    }
    rng.range(1, 100_000).to_string()
}

fn small_int(rng: &mut Rng) -> String {
    let n = if rng.chance(1, 5) { 100 } else { 4 };
    rng.below(n).to_string()
}

// ---------------------------------------------------------------------------------------------
// Names and text
// ---------------------------------------------------------------------------------------------

fn ident(rng: &mut Rng) -> String {
    if odd(rng, 40) {
        return hostile_name(rng);
    }
    let len = if odd(rng, 50) {
        rng.log_range(100, 5000) as usize
    } else {
        rng.range(1, 8) as usize
    };
    let mut name = String::new();
    name.push((b'a' + rng.below(26) as u8) as char);
    const TAIL: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
    for _ in 1..len {
        name.push(*rng.pick(TAIL) as char);
    }
    name
}

fn hostile_name(rng: &mut Rng) -> String {
    rng.pick(&[
        "t",
        "escalation",
        "fired",
        "count",
        "since",
        "true",
        "min",
        "clamp",
        "Upper",
        "with-dash",
        "with.dot",
        "1abc",
        "é",
        "a b",
        "",
        "_x",
        "compare",
        "index",
        "../up",
        "name",
    ])
    .to_string()
}

fn distinct_names(rng: &mut Rng, count: impl FnOnce(&mut Rng) -> usize) -> Vec<String> {
    let n = count(rng);
    let mut names: Vec<String> = Vec::new();
    for _ in 0..n * 2 {
        if names.len() == n {
            break;
        }
        let name = ident(rng);
        if !names.contains(&name) || odd(rng, 30) {
            names.push(name);
        }
    }
    names
}

/// Text for names and labels: words, sometimes non-ASCII, control characters or very long.
fn label_string(rng: &mut Rng) -> String {
    let text = label(rng);
    string(rng, &text)
}

fn label(rng: &mut Rng) -> String {
    if odd(rng, 40) {
        let word = rng
            .pick(&["a", "é", "漢", "ab "])
            .repeat(rng.log_range(100, 5000) as usize);
        return word;
    }
    let pieces = [
        "Seoul",
        "sends",
        "arms",
        "to",
        "Kyiv",
        "é",
        "漢字",
        "🙂",
        " ",
        "\t",
        "\n",
        "\u{1b}[2J",
        "\u{7f}",
        "\u{0}",
        "\u{202e}",
        "\"",
        "'",
        "\\",
        "=SUM(A1)",
        "<script>",
        "&amp;",
        "%s",
        "{}",
        "\r",
        "   ",
    ];
    let n = rng.range(1, 6);
    let mut text = String::new();
    for i in 0..n {
        if i > 0 {
            text.push(' ');
        }
        let piece = if odd(rng, 6) {
            *rng.pick(&pieces)
        } else {
            *rng.pick(&pieces[..5])
        };
        text.push_str(piece);
    }
    text
}

/// `text` as a TOML string: basic with escapes (some characters escaped for no reason, which
/// moves decoded offsets away from raw ones), literal, or multi-line.
fn string(rng: &mut Rng, text: &str) -> String {
    let plain = !text.chars().any(|c| c.is_control() || c == '\'');
    match rng.below(10) {
        0 if plain => format!("'{text}'"),
        1 if !text.contains("\"\"\"") && !text.ends_with('"') && !text.ends_with('\\') => {
            let escaped = escape_basic(rng, text, 0);
            format!("\"\"\"{}{escaped}\"\"\"", if rng.chance(1, 2) { "\n" } else { "" })
        }
        2 | 3 => {
            let escaped = escape_basic(rng, text, 3);
            format!("\"{escaped}\"")
        }
        _ => format!("\"{}\"", escape_basic(rng, text, 0)),
    }
}

/// Escapes what a basic string needs escaped; one character in `gratuitous` of the others too.
fn escape_basic(rng: &mut Rng, text: &str, gratuitous: u64) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' if rng.chance(1, 2) => out.push_str("\\t"),
            c if c.is_control() && c != '\t' => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if gratuitous > 0 && rng.chance(1, gratuitous) => {
                if (c as u32) > 0xFFFF || rng.chance(1, 4) {
                    out.push_str(&format!("\\U{:08X}", c as u32));
                } else {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// A TOML key: bare, or quoted when it must be (or for no reason).
fn key(rng: &mut Rng, name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare && !rng.chance(1, 20) {
        name.to_string()
    } else {
        format!("\"{}\"", escape_basic(rng, name, 0))
    }
}

fn list(rng: &mut Rng, items: &[String]) -> String {
    items.iter().map(|i| string(rng, i)).collect::<Vec<_>>().join(", ")
}
