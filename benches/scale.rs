//! How the engine's cost grows with the size of a model and with the run count.
//!
//! `cargo bench --bench scale` simulates generated models (the TOML text is built here and
//! compiled with `sim::load::load_text` and `sim::compile::compile`, as `sim run` would) into
//! the tallies, on 1 thread:
//! - `triggers`: 10, 100, 300 and 1,000 triggers, 36 steps, 3 outcomes, the state growing with
//!   the triggers (`Coupling::Local`); `triggers_shared`: 10, 100 and 1,000 with ten variables
//!   and the ladder read by every trigger (`Coupling::Shared`);
//! - `steps`: 12, 100 and 1,000 steps, 20 triggers, 3 outcomes;
//!
//! with criterion's "elements" counting trigger-steps (runs x triggers x steps), so that its
//! throughput reads as the cost per trigger-step; and
//! - `outcomes`: 1, 10 and 100 outcomes, 20 triggers, 36 steps, elements counting runs;
//! - `runs`: `scenarios/baseline.toml` at 10,000, 100,000 and 1,000,000 runs per iteration on
//!   2 threads, elements counting runs; and 10,000,000 with `SIM_BENCH_10M=1` in the
//!   environment (about 5 more minutes).
//!
//! Sample sizes are small so that the whole bench takes a few minutes; `cargo test` runs each
//! model once on a few runs.

use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use sim::job::Job;
use sim::model::Model;

/// `cargo test --benches` runs each bench once (criterion's test mode, chosen when `--bench` is
/// absent).
fn test_mode() -> bool {
    !std::env::args().any(|arg| arg == "--bench")
}

/// The size of a generated model: triggers, steps, outcomes.
type Size = (usize, usize, usize);

/// How the triggers of a generated model share its state.
#[derive(Clone, Copy, PartialEq)]
enum Coupling {
    /// One variable per two triggers (at least five): each variable is read by about four
    /// triggers whatever the size, and only the triggers that move the ladder read it.
    Local,
    /// Ten variables whatever the size, and every trigger's condition reads the ladder: a
    /// firing makes a share of all the triggers' conditions and probabilities stale, so the
    /// work per firing grows with the model.
    Shared,
}

/// A model of `triggers` triggers, `steps` monthly steps and `outcomes` outcomes: two drawn
/// params, bounded variables of one actor (see [`Coupling`]) and a three-rung ladder. Trigger
/// `i` moves one unit from the next variable to variable `i % variables` when neither is at its
/// bound, so the sum of the variables never changes and the state keeps moving however long the
/// horizon (a model that drifts to its bounds freezes, and its cost per trigger-step with it);
/// its condition and its probability read both, and one trigger in five moves the ladder. Most
/// triggers repeat, with cooldowns of 0 to 2 steps; one in ten acts after a delay of 1 or 2
/// steps. Outcomes read two variables each.
fn generated((triggers, steps, outcomes): Size, coupling: Coupling) -> String {
    let variables = match coupling {
        Coupling::Local => (triggers / 2).max(5),
        Coupling::Shared => 10,
    };
    let mut toml = format!(
        "[scenario]\nname = \"Generated: {triggers} triggers, {steps} steps, {outcomes} outcomes\"\n\
         steps = {steps}\nstep_unit = \"month\"\nseed = 1\n\n\
         [escalation]\nlevels = [\"low\", \"mid\", \"high\"]\ninitial = \"low\"\n\n\
         [params]\np = {{ uniform = [0.01, 0.05] }}\nq = {{ pert = [0.1, 0.2, 0.4] }}\n\n\
         [actors.a]\nname = \"A\"\n"
    );
    for v in 0..variables {
        toml += &format!("x{v} = {{ initial = {}, min = 0, max = 5 }}\n", v % 3);
    }
    for i in 0..triggers {
        let (v, next) = (i % variables, (i + 1) % variables);
        let (ladder, when) = match (i % 10, coupling) {
            (0, _) => (
                ", \"escalation += 1\"",
                format!("a.x{v} < 5 && a.x{next} > 0 && escalation < 'high'"),
            ),
            (5, _) => (
                ", \"escalation -= 1\"",
                format!("a.x{v} < 5 && a.x{next} > 0 && escalation > 'low'"),
            ),
            (_, Coupling::Shared) => (
                "",
                format!("a.x{v} < 5 && a.x{next} > 0 && (escalation < 'high' || a.x{v} < 4)"),
            ),
            (_, Coupling::Local) => ("", format!("a.x{v} < 5 && a.x{next} > 0")),
        };
        let repeat = if i % 7 == 6 { "repeat = 3" } else { "repeat = true" };
        let delay = if i % 10 == 3 { "delay = [1, 2]\n" } else { "" };
        toml += &format!(
            "\n[[triggers]]\nid = \"t{i}\"\nlabel = \"trigger {i}\"\nactor = \"a\"\nwhen = \"{when}\"\n\
             probability = \"min(1, p * (1 + 0.2 * a.x{next}) + q * 0.01 * a.x{v})\"\n\
             {repeat}\ncooldown = {}\n{delay}effects = [\"a.x{v} += 1\", \"a.x{next} -= 1\"{ladder}]\n",
            i % 3
        );
    }
    for o in 0..outcomes {
        let (v, next) = (o % variables, (o + 3) % variables);
        toml += &format!(
            "\n[[outcomes]]\nid = \"o{o}\"\nlabel = \"outcome {o}\"\nwhen = \"a.x{v} + a.x{next} >= {}\"\n",
            2 + o % 4
        );
    }
    toml
}

fn compile(name: &str, text: String) -> Model {
    let path = Path::new(name);
    let loaded = sim::load::load_text(path, text).unwrap_or_else(|e| panic!("loading {name}: {e:?}"));
    sim::compile::compile(&loaded).unwrap_or_else(|e| panic!("compiling {name}: {e:?}"))
}

/// Runs per iteration for about ten million trigger-steps (a multiple of the engine's chunk of
/// 512 runs, at least one chunk).
fn runs_for(triggers: usize, steps: usize) -> u64 {
    if test_mode() {
        return 64;
    }
    let runs = 10_000_000 / (triggers * steps) as u64;
    runs.div_ceil(512).max(1) * 512
}

/// Panics if a generated model is inert, which would make its cost per trigger-step
/// meaningless: most triggers must fire, the ladder must reach its top rung and every outcome
/// must hold in some runs.
fn check_active(name: &str, tallies: &sim::tally::Tallies) {
    let shape = tallies.shape;
    let fired = tallies.trigger_firings.iter().filter(|&&n| n > 0).count();
    let last = shape.steps * shape.outcomes;
    let by = &tallies.outcome_by[last..last + shape.outcomes];
    let top = tallies.max_level_at[(shape.steps + 1) * shape.levels - 1];
    assert!(
        2 * fired > shape.triggers && top > 0 && by.iter().all(|&n| n > 0),
        "{name} is nearly inert: {fired} of {} triggers fired, {top} runs reached the top rung, outcomes {by:?} of {} runs",
        shape.triggers,
        tallies.runs
    );
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
}

fn scale(c: &mut Criterion) {
    let one = pool(1);
    let sizes: [(&str, Coupling, &[Size]); 4] = [
        (
            "triggers",
            Coupling::Local,
            &[(10, 36, 3), (100, 36, 3), (300, 36, 3), (1000, 36, 3)],
        ),
        (
            "triggers_shared",
            Coupling::Shared,
            &[(10, 36, 3), (100, 36, 3), (1000, 36, 3)],
        ),
        ("steps", Coupling::Local, &[(20, 12, 3), (20, 100, 3), (20, 1000, 3)]),
        ("outcomes", Coupling::Local, &[(20, 36, 1), (20, 36, 10), (20, 36, 100)]),
    ];
    for (axis, coupling, points) in sizes {
        let mut group = c.benchmark_group(axis);
        for &(triggers, steps, outcomes) in points {
            let name = format!("{axis}-{triggers}-{steps}-{outcomes}.toml");
            let model = compile(&name, generated((triggers, steps, outcomes), coupling));
            let runs = runs_for(triggers, steps);
            let size = match axis {
                "triggers" | "triggers_shared" => triggers,
                "steps" => steps,
                _ => outcomes,
            };
            let elements = if axis == "outcomes" {
                runs
            } else {
                runs * (triggers * steps) as u64
            };
            group.throughput(Throughput::Elements(elements));
            let job = Job::new(&model, None, Some(runs));
            let tallies = job.tallies(&|_| {}).expect("a generated model runs");
            check_active(&name, &tallies);
            let firings: u64 = tallies.trigger_firings.iter().sum();
            eprintln!(
                "{name}: {:.4} firings per trigger-step",
                firings as f64 / (tallies.runs * (triggers * steps) as u64) as f64
            );
            group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, _| {
                b.iter(|| one.install(|| job.tallies(&|_| {}).expect("a generated model runs").runs))
            });
        }
        group.finish();
    }

    let baseline = {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
        let loaded = sim::load::load(&path).expect("the baseline loads");
        sim::compile::compile(&loaded).expect("the baseline compiles")
    };
    let two = pool(2);
    let mut group = c.benchmark_group("runs");
    group.sampling_mode(SamplingMode::Flat);
    let counts: &[u64] = if test_mode() {
        &[1000]
    } else if std::env::var_os("SIM_BENCH_10M").is_some() {
        // Ten samples of about 30 seconds each on this machine: asked for, not by default.
        &[10_000, 100_000, 1_000_000, 10_000_000]
    } else {
        &[10_000, 100_000, 1_000_000]
    };
    for &runs in counts {
        group.throughput(Throughput::Elements(runs));
        let job = Job::new(&baseline, None, Some(runs));
        group.bench_with_input(BenchmarkId::from_parameter(runs), &runs, |b, _| {
            b.iter(|| two.install(|| job.tallies(&|_| {}).expect("the baseline runs").runs))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = scale
}
criterion_main!(benches);
