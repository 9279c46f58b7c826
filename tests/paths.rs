//! Escalation paths and trigger lift with known answers: a chain that can only go one way, a
//! trigger unrelated to the outcome, and triggers without which the outcome cannot happen.

use crate::util::{Workspace, read, read_summary, sim, tree};

/// `a` then `b` (only once `a` fired) set `a.stage` to 1 then 2, and the outcome is stage 2;
/// `coin` fires at step 1 with probability one half and touches nothing the outcome reads;
/// `alarm` could move the ladder but never fires.
const CHAIN: &str = r#"
[scenario]
name = "chain"
steps = 24
step_unit = "month"
start = "2025-01"

[escalation]
levels = ["calm", "tense"]
initial = "calm"

[actors.a]
name = "A"
stage = { initial = 0, min = 0, max = 2 }
coins = { initial = 0, min = 0, max = 1 }

[[triggers]]
id = "a"
label = "A moves"
actor = "a"
probability = 0.08
effects = ["a.stage = 1"]

[[triggers]]
id = "b"
label = "B follows"
actor = "a"
when = "fired.a"
probability = 0.15
effects = ["a.stage = 2"]

[[triggers]]
id = "coin"
label = "A coin lands heads"
actor = "a"
when = "t == 1"
probability = 0.5
effects = ["a.coins = 1"]

[[triggers]]
id = "alarm"
label = "An alarm"
actor = "a"
probability = 0
effects = ["escalation += 1"]

[[outcomes]]
id = "o"
label = "Stage 2"
when = "a.stage >= 2"
"#;

#[test]
fn a_chain_that_can_only_go_one_way_is_the_only_path_and_lift_has_known_answers() {
    let ws = Workspace::new();
    let file = ws.file("chain.toml", CHAIN);
    let summary = ws.run(&file, 40_000, 1);
    let paths = summary.paths.as_ref().expect("sim run counts paths");
    let o = &paths.outcomes[0];
    let o_runs = o.runs;
    assert_eq!(
        o.triggers,
        ["a", "b", "alarm"],
        "triggers that write what `o` reads, or the ladder"
    );
    assert!(!o.all_triggers);
    assert!(o.runs > 10_000, "enough runs reached the outcome: {}", o.runs);
    assert_eq!((o.distinct, o.top.len()), (1, 1));
    let only = &o.top[0];
    assert_eq!(only.triggers, ["a", "b"]);
    assert_eq!((only.share.count, only.share.runs, only.share.p), (o.runs, o.runs, 1.0));
    assert!(only.sentence.starts_with("A moves (typically 20"), "{}", only.sentence);
    assert!(only.sentence.contains(", then B follows (20"), "{}", only.sentence);
    assert!(only.typical_steps[0] <= only.typical_steps[1]);

    let lift = summary.lift.as_ref().expect("sim run counts lift");
    let index = |id: &str| lift.triggers.iter().position(|t| t == id).unwrap();
    let o = &lift.outcomes[0];
    for cause in ["a", "b"] {
        let i = index(cause);
        assert!(o.never_runs[i] > 0);
        assert_eq!(o.never_with[i], 0, "P(o | {cause} never fired) = 0");
        assert_eq!(o.fired_with[i], summary.tables.outcome_by[0].points[24].count);
    }
    // `coin` is decided at step 1, independently of `a` and `b`: its 95% interval contains 0
    // (at this seed; it would miss at about one seed in twenty).
    let coin = o.difference[index("coin")].expect("both groups have runs");
    assert!(coin[1] <= 0.0 && 0.0 <= coin[2], "coin's interval {coin:?} contains 0");
    assert_eq!(
        o.strongest[..2].iter().map(|&i| &lift.triggers[i]).collect::<Vec<_>>(),
        ["b", "a"]
    );
    assert!(
        o.difference[index("alarm")].is_none(),
        "`alarm` never fired: one group is empty"
    );

    let dir = ws.out().join("chain");
    let paths_csv = read(&dir.join("paths.csv"));
    let rows: Vec<&str> = paths_csv.lines().collect();
    assert_eq!(rows.len(), 2, "{paths_csv}");
    assert!(rows[1].starts_with("o,1,a > b,false,"), "{paths_csv}");
    assert!(
        rows[1].contains(&format!(",{0},{0},1,", o_runs)),
        "all runs on the one path: {paths_csv}"
    );
    let lift_csv = read(&dir.join("lift.csv"));
    assert_eq!(lift_csv.lines().count(), 1 + 4, "one row per outcome and trigger");
    assert!(
        lift_csv.lines().any(|l| l.starts_with("o,b,") && l.contains(",0,0,0,")),
        "P(o | b never fired) is 0 in lift.csv:\n{lift_csv}"
    );
}

/// Past 100,000 runs, paths are counted in runs 0 to 99,999 and the lift in every run; three
/// shards, one of them wholly past the sample, merge into the single process's files.
#[test]
fn paths_are_counted_in_the_first_100000_runs_for_any_shard_split() {
    let ws = Workspace::new();
    let file = ws.file("chain.toml", CHAIN);
    let runs = 130_000;
    let summary = ws.run(&file, runs, 2);
    let paths = summary.paths.as_ref().unwrap();
    assert_eq!(paths.sample_runs, 100_000);
    let reached_all = summary.tables.outcome_by[0].points[24].count;
    let reached_sample = paths.outcomes[0].runs;
    assert!(
        reached_sample < reached_all && reached_sample * 13 > reached_all * 9,
        "{reached_sample} of the first 100,000 runs against {reached_all} of {runs}"
    );
    let lift = summary.lift.as_ref().unwrap();
    assert_eq!(lift.outcomes[0].fired_with[0], reached_all, "the lift counts every run");
    let dir = ws.out().join("chain");
    let csv = read(&dir.join("paths.csv"));
    assert!(csv.lines().next().unwrap().ends_with(",sample_runs"), "{csv}");
    assert!(csv.lines().nth(1).unwrap().ends_with(",100000"), "{csv}");
    let html = read(&ws.out().join("index.html"));
    assert!(
        html.contains("paths are counted in runs 0 to 99,999"),
        "the report says which runs"
    );

    // Shards of 43,334, 43,333 and 43,333 runs: the third lies wholly past the sample.
    let parts = ws.path().join("parts");
    for k in 0..3 {
        sim()
            .arg("run")
            .arg(&file)
            .args([
                "--runs",
                &runs.to_string(),
                "--seed",
                "2",
                "--shard",
                &format!("{k}/3"),
                "--out",
            ])
            .arg(&parts)
            .assert()
            .success();
    }
    let merged = ws.path().join("merged");
    sim()
        .arg("merge")
        .arg(&parts)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    assert_eq!(
        read_summary(&merged.join("chain/summary.json")),
        summary,
        "merged shards give the single process's summary"
    );
    assert_eq!(tree(&merged.join("chain")), tree(&dir), "and its files, byte for byte");
}
