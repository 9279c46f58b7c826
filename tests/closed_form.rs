//! Statistical checks against closed-form answers: the exact probability must lie inside the
//! Wilson interval of the counts at 4 standard errors. Not the 95% interval the engine reports:
//! this file makes about 30 checks, and at 95% each, one or two would fail by chance alone,
//! which ones depending on the random numbers; at 4 standard errors a check fails by chance
//! about once in 16,000. Seeds are fixed, so each check passes or fails the same way every time;
//! a wrong engine (an off-by-one step, a divided-by-12 annual rate, a delay applied late) moves
//! the estimate far outside the interval at these run counts (a 3.3-point error in the annual
//! case is 13 standard errors at 40,000 runs).

use crate::util::Workspace;
use sim::aggregate::{Estimate, Series, Summary};

const RUNS: u64 = 40_000;

/// Standard errors of the checks' intervals.
const Z: f64 = 4.0;

fn series<'a>(tables: &'a [Series], id: &str) -> &'a Series {
    tables
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no series `{id}`"))
}

/// The Wilson score interval of `count` successes in `runs` at `Z` standard errors.
fn wilson(count: u64, runs: u64) -> (f64, f64) {
    let (n, p) = (runs as f64, count as f64 / runs as f64);
    let z2 = Z * Z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    (centre - half, centre + half)
}

/// `estimate`, a point of a table over the `RUNS` runs, is consistent with `exact`.
#[track_caller]
fn assert_covers(estimate: &Estimate, exact: f64, what: &str) {
    assert_count_covers(estimate.count, RUNS, exact, what);
}

#[track_caller]
fn assert_count_covers(count: u64, runs: u64, exact: f64, what: &str) {
    let (lo, hi) = wilson(count, runs);
    assert!(
        lo <= exact && exact <= hi,
        "{what}: exact {exact:.5} outside the Wilson interval at {Z} standard errors [{lo:.5}, {hi:.5}] \
         (estimate {:.5}: {count} of {runs} runs)",
        count as f64 / runs as f64
    );
}

const LADDER: &str = r#"
[escalation]
levels = ["calm", "tense", "crisis", "war"]
initial = "calm"
"#;

fn scenario(steps: usize, unit: &str, rest: &str) -> String {
    format!(
        "[scenario]\nname = \"closed form\"\nsteps = {steps}\nstep_unit = \"{unit}\"\n{LADDER}\n[actors.a]\nname = \"A\"\nready = true\n{rest}"
    )
}

fn run(text: &str, seed: u64) -> Summary {
    let ws = Workspace::new();
    let file = ws.file("case.toml", text);
    ws.run(&file, RUNS, seed)
}

#[test]
fn single_trigger_fires_by_t_with_probability_one_minus_q_to_the_t() {
    let p: f64 = 0.07;
    let summary = run(
        &scenario(
            24,
            "month",
            &format!(
                "[[triggers]]\nid = \"x\"\nlabel = \"X\"\nactor = \"a\"\nprobability = {p}\neffects = [\"escalation += 1\"]\n"
            ),
        ),
        11,
    );
    let fired = series(&summary.tables.trigger_fired_by, "x");
    for t in [1, 6, 24] {
        assert_covers(
            &fired.points[t],
            1.0 - (1.0 - p).powi(t as i32),
            &format!("P(x fired by {t})"),
        );
    }
    assert_eq!(fired.points[0].count, 0, "nothing fires at step 0");
    let reached = series(&summary.tables.rung_reached, "tense");
    assert_eq!(
        reached.points[24].count, fired.points[24].count,
        "each firing moves the ladder one rung"
    );
}

#[test]
fn two_stage_chain_follows_the_convolution() {
    let (pa, pb): (f64, f64) = (0.1, 0.2);
    let steps = 12;
    let summary = run(
        &scenario(
            steps,
            "month",
            &format!(
                "[[triggers]]\nid = \"first\"\nlabel = \"first\"\nactor = \"a\"\nprobability = {pa}\n\n[[triggers]]\nid = \"second\"\nlabel = \"second\"\nactor = \"a\"\nwhen = \"fired.first\"\nprobability = {pb}\n"
            ),
        ),
        12,
    );
    // `second` can fire from the step after `first` fired: T - s chances.
    let exact = |horizon: usize| -> f64 {
        (1..=horizon)
            .map(|s| pa * (1.0 - pa).powi(s as i32 - 1) * (1.0 - (1.0 - pb).powi((horizon - s) as i32)))
            .sum()
    };
    let second = series(&summary.tables.trigger_fired_by, "second");
    assert_eq!(
        second.points[1].count, 0,
        "a trigger reacts from the next step on, never within a step"
    );
    for t in [4, steps] {
        assert_covers(&second.points[t], exact(t), &format!("P(second by {t})"));
    }
}

#[test]
fn ladder_matches_markov_chain_matrix_power() {
    let (up, down): (f64, f64) = (0.15, 0.25);
    let steps = 10;
    let summary = run(
        &scenario(
            steps,
            "month",
            &format!(
                "[[triggers]]\nid = \"up\"\nlabel = \"up\"\nactor = \"a\"\nwhen = \"escalation < 'war'\"\nprobability = {up}\nrepeat = true\neffects = [\"escalation += 1\"]\n\n\
                 [[triggers]]\nid = \"down\"\nlabel = \"down\"\nactor = \"a\"\nwhen = \"escalation > 'calm'\"\nprobability = {down}\nrepeat = true\neffects = [\"escalation -= 1\"]\n"
            ),
        ),
        13,
    );
    // Both triggers see the same snapshot and may fire in one step; their effects then cancel.
    let n = 4;
    let mut matrix = vec![vec![0.0; n]; n];
    for k in 0..n {
        let u = if k < n - 1 { up } else { 0.0 };
        let d = if k > 0 { down } else { 0.0 };
        if k < n - 1 {
            matrix[k][k + 1] += u * (1.0 - d);
        }
        if k > 0 {
            matrix[k][k - 1] += d * (1.0 - u);
        }
        matrix[k][k] += (1.0 - u) * (1.0 - d) + u * d;
    }
    let mut distribution = vec![1.0, 0.0, 0.0, 0.0];
    for _ in 0..steps {
        distribution = (0..n)
            .map(|j| (0..n).map(|i| distribution[i] * matrix[i][j]).sum())
            .collect();
    }
    for (k, level) in summary.tables.level_distribution.iter().enumerate() {
        assert_covers(
            &level.points[steps],
            distribution[k],
            &format!("P(level {} at {steps})", level.id),
        );
    }
}

#[test]
fn annual_basis_is_converted_with_the_exact_hazard() {
    // 20% a year over 36 monthly steps: 1 - 0.8^3 = 0.488 (dividing by 12 would give 0.521).
    let summary = run(
        &scenario(
            36,
            "month",
            "[params]\np = { annual = 0.2 }\nq = { uniform = [0.1, 0.3], basis = \"annual\" }\n\n\
             [[triggers]]\nid = \"fixed\"\nlabel = \"fixed\"\nactor = \"a\"\nprobability = \"p\"\n\n\
             [[triggers]]\nid = \"drawn\"\nlabel = \"drawn\"\nactor = \"a\"\nprobability = \"q\"\n",
        ),
        14,
    );
    let fixed = series(&summary.tables.trigger_fired_by, "fixed");
    assert_covers(&fixed.points[36], 1.0 - 0.8f64.powi(3), "P(fixed annual by 36 months)");
    assert_covers(&fixed.points[12], 0.2, "P(fixed annual by 12 months)");
    // Within one year the chance of firing equals the drawn annual probability: E[q] = 0.2.
    let drawn = series(&summary.tables.trigger_fired_by, "drawn");
    assert_covers(&drawn.points[12], 0.2, "P(drawn annual by 12 months)");
}

#[test]
fn delays_shift_effects_by_whole_steps() {
    let p: f64 = 0.1;
    let summary = run(
        &scenario(
            15,
            "month",
            &format!(
                "[actors.b]\nname = \"B\"\nhit = false\n\n\
                 [[triggers]]\nid = \"fixed\"\nlabel = \"fixed\"\nactor = \"a\"\nprobability = {p}\ndelay = 3\neffects = [\"escalation += 1\"]\n\n\
                 [[triggers]]\nid = \"ranged\"\nlabel = \"ranged\"\nactor = \"b\"\nprobability = {p}\ndelay = [1, 3]\neffects = [\"b.hit = true\"]\n\n\
                 [[outcomes]]\nid = \"hit\"\nlabel = \"hit\"\nwhen = \"b.hit\"\n"
            ),
        ),
        15,
    );
    let fired_by = |t: i32| if t <= 0 { 0.0 } else { 1.0 - (1.0 - p).powi(t) };
    let reached = series(&summary.tables.rung_reached, "tense");
    assert_eq!(reached.points[3].count, 0, "a 3-step delay cannot land before step 4");
    for t in [4, 10, 15] {
        assert_covers(
            &reached.points[t],
            fired_by(t as i32 - 3),
            &format!("P(delayed effect landed by {t})"),
        );
    }
    let hit = series(&summary.tables.outcome_by, "hit");
    for t in [2, 8, 15] {
        let exact = (1..=3).map(|d| fired_by(t as i32 - d)).sum::<f64>() / 3.0;
        assert_covers(&hit.points[t], exact, &format!("P(ranged delay landed by {t})"));
    }
}

#[test]
fn cooldown_blocks_the_steps_after_a_firing() {
    // A repeating trigger cooling down for `c` steps after each firing: its firings are a
    // renewal process. The ladder counts them (up to 3), and the exact distribution of the
    // count comes from the chain over (firings so far, steps of cooldown left).
    let (p, c, steps) = (0.3, 2, 12);
    let summary = run(
        &scenario(
            steps,
            "month",
            &format!(
                "[[triggers]]\nid = \"x\"\nlabel = \"X\"\nactor = \"a\"\nprobability = {p}\nrepeat = true\ncooldown = {c}\neffects = [\"escalation += 1\"]\n"
            ),
        ),
        23,
    );
    // `chance[k][r]`: P(k firings so far, r steps of cooldown left), k capped at 3 like the ladder.
    let mut chance = vec![vec![0.0; c + 1]; 4];
    chance[0][0] = 1.0;
    for t in 1..=steps {
        let mut next = vec![vec![0.0; c + 1]; 4];
        for k in 0..4 {
            next[k][0] += chance[k][0] * (1.0 - p);
            next[(k + 1).min(3)][c] += chance[k][0] * p;
            for r in 1..=c {
                next[k][r - 1] += chance[k][r];
            }
        }
        chance = next;
        if t % 4 == 0 {
            for (level, series) in summary.tables.level_distribution.iter().enumerate() {
                let exact: f64 = chance[level].iter().sum();
                assert_covers(&series.points[t], exact, &format!("P(level {level} at step {t})"));
            }
        }
    }
    // At most one firing in any c + 1 steps: by step 3, at most one; by step 6, at most two.
    let levels = &summary.tables.level_distribution;
    assert_eq!(levels[2].points[3].count, 0, "a second firing within the cooldown");
    assert_eq!(levels[3].points[6].count, 0, "a third firing within the cooldowns");
}

/// "By t" means at some step <= t, step 0 (the initial state) included: an outcome that holds
/// only at step 0 is "by t" in every run at every t, in summary.json and outcome_by.csv alike.
/// Rung series start above the initial rung, which every run has reached at step 0.
#[test]
fn by_t_includes_the_initial_state() {
    let text = scenario(
        4,
        "month",
        "[[triggers]]\nid = \"x\"\nlabel = \"X\"\nactor = \"a\"\nprobability = 1\neffects = [\"a.ready = false\"]\n\
         [[outcomes]]\nid = \"ready\"\nlabel = \"ready\"\nwhen = \"a.ready\"\n",
    )
    .replace("initial = \"calm\"", "initial = \"tense\"");
    let ws = Workspace::new();
    let file = ws.file("case.toml", &text);
    let runs = 100;
    let summary = ws.run(&file, runs, 1);
    let holds: Vec<u64> = summary.tables.outcome_holds[0].points.iter().map(|e| e.count).collect();
    assert_eq!(holds, [runs, 0, 0, 0, 0], "holds at step 0 only");
    let by: Vec<u64> = summary.tables.outcome_by[0].points.iter().map(|e| e.count).collect();
    assert_eq!(by, [runs; 5], "held at some step <= t, for every t");
    let csv = std::fs::read_to_string(ws.out().join("case/outcome_by.csv")).unwrap();
    let step_0: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(
        (step_0[0], step_0[2], step_0[4], step_0[5]),
        ("ready", "0", "100", "100"),
        "{csv}"
    );
    let rungs: Vec<&str> = summary.tables.rung_reached.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(rungs, ["crisis", "war"], "rungs above the initial one");
}

/// Precursors: among the runs where `b` fired (the outcome), the share in which `a` fired at or
/// before the step `b` did. `a` and `b` fire independently with per-step probabilities `pa` and
/// `pb`, once each, so with `q = 1 - pb` the share by step `t` is
/// `sum_{s <= t} q^(s-1) pb (1 - (1 - pa)^s) / (1 - q^t)`. A trigger that can fire only once
/// the outcome holds is never counted, and one that always fires at step 1 always is.
#[test]
fn precursor_shares_follow_the_closed_form() {
    let (pa, pb): (f64, f64) = (0.05, 0.08);
    let steps = 24;
    let summary = run(
        &scenario(
            steps,
            "month",
            &format!(
                "[[triggers]]\nid = \"a\"\nlabel = \"A\"\nactor = \"a\"\nprobability = {pa}\n\
                 [[triggers]]\nid = \"b\"\nlabel = \"B\"\nactor = \"a\"\nprobability = {pb}\n\
                 [[triggers]]\nid = \"after\"\nlabel = \"after\"\nactor = \"a\"\nwhen = \"fired.b\"\nprobability = 1\n\
                 [[triggers]]\nid = \"first\"\nlabel = \"first\"\nactor = \"a\"\nwhen = \"t == 1\"\nprobability = 1\n\
                 [[outcomes]]\nid = \"o\"\nlabel = \"b fired\"\nwhen = \"fired.b\"\n"
            ),
        ),
        5,
    );
    let precursors = summary.precursors.as_ref().expect("sim run counts precursors");
    assert_eq!(precursors.steps, (0..=steps).collect::<Vec<_>>());
    let outcome = &precursors.outcomes[0];
    let reached = series(&summary.tables.outcome_by, "o");
    for (t, &runs) in outcome.runs.iter().enumerate() {
        assert_eq!(runs, reached.points[t].count, "runs with the outcome by step {t}");
    }
    let index = |id: &str| precursors.triggers.iter().position(|x| x == id).unwrap();
    let counts = |id: &str| &outcome.fired_before[index(id)];
    let share = |t: usize| -> f64 {
        let q = 1.0 - pb;
        let hits: f64 = (1..=t)
            .map(|s| q.powi(s as i32 - 1) * pb * (1.0 - (1.0 - pa).powi(s as i32)))
            .sum();
        hits / (1.0 - q.powi(t as i32))
    };
    for t in [6, 12, steps] {
        assert_count_covers(
            counts("a")[t],
            outcome.runs[t],
            share(t),
            &format!("P(a before b | b by {t})"),
        );
    }
    let horizon = outcome.horizon.as_ref().unwrap();
    let at_horizon = sim::aggregate::ShareEstimate::new(counts("a")[steps], outcome.runs[steps]);
    assert_eq!(horizon.runs, outcome.runs[steps]);
    assert_eq!(
        (horizon.p[index("a")], horizon.lo[index("a")], horizon.hi[index("a")]),
        (at_horizon.p, at_horizon.lo, at_horizon.hi)
    );
    assert!(outcome.runs[steps] > 10_000, "enough runs reached the outcome to test");
    assert_eq!(counts("after")[steps], 0, "`after` fires only once the outcome holds");
    assert_eq!(counts("first"), &outcome.runs, "`first` fires at step 1, before any b");
    assert_eq!(
        counts("b"),
        &outcome.runs,
        "the outcome's own trigger fires at its step"
    );
}
