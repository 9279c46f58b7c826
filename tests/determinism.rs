//! Determinism is a contract: results depend on the scenario, the seed and the run count only.

use std::path::{Path, PathBuf};

use crate::util::{Workspace, read_summary, sim, tree};
use sim::job::{Analysis, Job, Results};
use sim::lanes::Simd;
use sim::simulate::{Collector, Observer, Unobserved, replay};

fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name)
}

fn run_tree(out: &Path, threads: &str, seed: &str) -> Vec<(PathBuf, Vec<u8>)> {
    sim()
        .args(["run", "--runs", "3000", "--seed", seed, "--threads", threads, "--out"])
        .arg(out)
        .arg(shipped("baseline.toml"))
        .arg(shipped("seoul_arms_kyiv.toml"))
        .assert()
        .success();
    tree(out)
}

#[test]
fn every_output_byte_is_identical_for_any_thread_count() {
    let ws = Workspace::new();
    let one = run_tree(&ws.path().join("t1"), "1", "5");
    assert!(
        one.iter().any(|(p, _)| p.ends_with("index.html")) && one.len() > 30,
        "expected a full report, got {} files",
        one.len()
    );
    for threads in ["2", "8"] {
        let other = run_tree(&ws.path().join(format!("t{threads}")), threads, "5");
        let names = |t: &[(PathBuf, Vec<u8>)]| t.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
        assert_eq!(names(&one), names(&other), "same files with --threads {threads}");
        for ((path, a), (_, b)) in one.iter().zip(&other) {
            assert!(
                a == b,
                "{} differs between --threads 1 and --threads {threads}",
                path.display()
            );
        }
    }
}

/// The whole engine with the portable code a processor without AVX2 runs (SSE2 on x86-64, no
/// vector intrinsics elsewhere) writes the same bytes as with the best this processor has.
#[test]
fn every_output_byte_is_identical_with_the_portable_code() {
    let ws = Workspace::new();
    // The first param drawn (a narrower pass once put a stale block into it) gates a trigger.
    let first_param = ws.file(
        "first_param.toml",
        r#"[scenario]
name = "first param"
steps = 12
step_unit = "month"
[escalation]
levels = ["calm", "tense"]
initial = "calm"
[params]
a_gate = { uniform = [0, 1] }
b_other = { uniform = [0, 1] }
[actors.a]
name = "A"
[[triggers]]
id = "x"
label = "x"
actor = "a"
when = "a_gate > 0.5 && b_other > 0.2"
probability = 0.3
effects = ["escalation = 'tense'"]
"#,
    );
    let run = |simd: &str| {
        let out = ws.path().join(simd);
        sim()
            .env("SIM_SIMD", simd)
            .args(["run", "--runs", "3000", "--seed", "5", "--threads", "2", "--out"])
            .arg(&out)
            .arg(shipped("baseline.toml"))
            .arg(shipped("seoul_arms_kyiv.toml"))
            .arg(&first_param)
            .assert()
            .success();
        tree(&out)
    };
    let best = run("auto");
    let forms: Vec<String> = Simd::available().iter().map(Simd::to_string).collect();
    assert!(forms.contains(&"scalar".to_string()), "{forms:?}");
    for form in &forms {
        let other = run(form);
        assert_eq!(best.len(), other.len(), "{form}");
        for ((path, a), (_, b)) in best.iter().zip(&other) {
            assert!(a == b, "{} differs with SIM_SIMD={form}", path.display());
        }
    }
    // A form this processor lacks, or no form at all, is refused before anything runs.
    let refused = sim()
        .env("SIM_SIMD", "neon")
        .args(["run", "--runs", "10", "--out"])
        .arg(ws.path().join("refused"))
        .arg(shipped("baseline.toml"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(stderr.contains("use auto, avx2, sse2 or scalar"), "{stderr}");
}

#[test]
fn same_seed_repeats_and_another_seed_differs() {
    let ws = Workspace::new();
    let first = run_tree(&ws.path().join("a"), "2", "5");
    let again = run_tree(&ws.path().join("b"), "2", "5");
    assert!(first == again, "two runs with the same seed differ");
    run_tree(&ws.path().join("c"), "2", "6");
    let digest = |dir: &str| read_summary(&ws.path().join(dir).join("baseline/summary.json")).tallies_digest;
    assert_ne!(digest("a"), digest("c"), "seeds 5 and 6 gave the same tallies");
}

const BASE: &str = r#"
[scenario]
name = "base"
steps = 24
step_unit = "month"

[escalation]
levels = ["calm", "tense", "crisis"]
initial = "calm"

[params]
p_watch = { uniform = [0.1, 0.4] }

[actors.a]
name = "A"
alert = { initial = 0, min = 0, max = 5 }

[[triggers]]
id = "watched"
label = "the trigger we watch"
actor = "a"
probability = "p_watch"
repeat = true
cooldown = 1
effects = ["a.alert += 1"]

[[triggers]]
id = "other"
label = "another trigger"
actor = "a"
when = "a.alert >= 2"
probability = 0.2
effects = ["escalation += 1"]
"#;

/// Firing steps of one trigger, per run.
struct Firings {
    trigger: usize,
    steps: Vec<usize>,
}

impl Observer for Firings {
    fn fired(&mut self, step: usize, trigger: usize, _landing: Option<usize>) {
        if trigger == self.trigger {
            self.steps.push(step);
        }
    }
}

fn firing_pattern(file: &Path, runs: u64) -> Vec<Vec<usize>> {
    let model = sim::compile::compile(&sim::load::load(file).unwrap()).unwrap();
    let watched = model.triggers.iter().position(|t| t.id == "watched").unwrap();
    (0..runs)
        .map(|run| {
            let mut firings = Firings {
                trigger: watched,
                steps: Vec::new(),
            };
            replay(&model, 9, run, &mut firings, &mut ()).unwrap();
            firings.steps
        })
        .collect()
}

#[test]
fn variants_share_random_numbers_where_they_share_triggers() {
    let ws = Workspace::new();
    let base = ws.file("base.toml", BASE);
    // An unrelated trigger is added and the other trigger is changed: the watched trigger's
    // draws are addressed by its own id, so its firings stay the same run by run.
    let variant = ws.file(
        "variant.toml",
        r#"extends = "base.toml"
[scenario]
name = "variant"

[[triggers]]
id = "other"
probability = 0.9

[[triggers]]
id = "added"
label = "an unrelated new trigger"
actor = "a"
probability = 0.5
repeat = true
"#,
    );
    let a = firing_pattern(&base, 300);
    let b = firing_pattern(&variant, 300);
    assert!(
        a.iter().map(Vec::len).sum::<usize>() > 300,
        "the watched trigger should fire often"
    );
    assert_eq!(
        a, b,
        "adding or changing other triggers moved the watched trigger's firings"
    );
}

#[test]
fn replaying_one_run_gives_exactly_that_run_of_the_job() {
    let ws = Workspace::new();
    for file in [ws.file("base.toml", BASE), shipped("baseline.toml")] {
        let model = sim::compile::compile(&sim::load::load(&file).unwrap()).unwrap();
        let job = Job::new(&model, Some(3), Some(5000));
        for run in [0, 17, 511, 512, 4096] {
            let mut alone = Results::new(&model, Analysis::Full);
            replay(&model, 3, run, &mut Unobserved, &mut alone).unwrap();
            let in_job = job.clone().with_block(run..run + 1).results(&|_| {}).unwrap();
            assert_eq!(alone, in_job, "{}: run {run}", model.info.id);
        }
        // A block of runs is the sum of its runs, whatever the split: the sensitivity's sums too.
        let whole = job.clone().with_block(0..1500).results(&|_| {}).unwrap();
        let mut parts = job.clone().with_block(0..700).results(&|_| {}).unwrap();
        parts.merge(job.clone().with_block(700..1100).results(&|_| {}).unwrap());
        parts.merge(job.clone().with_block(1100..1500).results(&|_| {}).unwrap());
        assert!(whole.sensitivity.as_ref().is_some_and(|s| s.runs == 1500));
        assert_eq!(whole, parts, "{}", model.info.id);
    }
}

#[test]
fn trace_narrates_dated_firings_and_ladder_moves() {
    let ws = Workspace::new();
    let file = ws.file(
        "certain.toml",
        r#"
[scenario]
name = "certain"
steps = 4
step_unit = "month"
start = "2025-05"

[escalation]
levels = ["calm", "tense"]
initial = "calm"

[actors.rok]
name = "Seoul"
arms = { levels = ["none", "lethal"], initial = "none" }

[[triggers]]
id = "arms"
label = "Seoul sends lethal arms to Kyiv"
actor = "rok"
when = "t == 2"
probability = 1
delay = 1
effects = ["rok.arms = 'lethal'", "escalation += 1"]
"#,
    );
    let output = sim()
        .args(["trace", file.to_str().unwrap(), "--run", "3"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("2025-07 (step 2)  Seoul sends lethal arms to Kyiv [arms] (effects land 2025-08 (step 3))"),
        "{text}"
    );
    assert!(
        text.contains("2025-08 (step 3)    rok.arms: none -> lethal, from [arms] earlier"),
        "{text}"
    );
    assert!(text.contains("escalation: calm -> tense"), "{text}");
    assert!(text.contains("end 2025-09: escalation at `tense` (rung 1)"), "{text}");
}

/// A trigger whose delay is drawn from [0, 1] lands its effects at once when it draws 0: the
/// trace says nothing of a landing then (it said they would land after the horizon).
#[test]
fn trace_tells_an_undelayed_landing_of_a_delayed_trigger_apart_from_one_past_the_horizon() {
    let ws = Workspace::new();
    let file = ws.file(
        "maybe_late.toml",
        r#"
[scenario]
name = "maybe late"
steps = 4
step_unit = "month"
start = "2025-05"

[escalation]
levels = ["calm", "tense"]
initial = "calm"

[actors.rok]
name = "Seoul"

[[triggers]]
id = "arms"
label = "Seoul sends lethal arms to Kyiv"
actor = "rok"
when = "t == 2"
probability = 1
delay = [0, 1]
effects = ["escalation += 1"]
"#,
    );
    let (mut at_once, mut later) = (0, 0);
    for run in 0..16 {
        let output = sim()
            .args(["trace", file.to_str().unwrap(), "--run", &run.to_string()])
            .output()
            .unwrap();
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(output.status.success() && !text.contains("after the horizon"), "{text}");
        at_once += usize::from(text.contains("Seoul sends lethal arms to Kyiv [arms]\n"));
        later += usize::from(text.contains("[arms] (effects land 2025-08 (step 3))"));
    }
    assert!(at_once > 0 && later > 0 && at_once + later == 16, "{at_once} {later}");
}
