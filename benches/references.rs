//! Throughput of the engine against straightforward hand-written Rust, on two models.
//!
//! `cargo bench --bench references` measures runs per second (criterion's "elements") on
//! `scenarios/baseline.toml` and on `benches/scenarios/repeating.toml` (a model of another shape:
//! few params, repeating triggers with cooldowns and delays), on 1 and 2 threads, back to back
//! in one criterion group per model:
//! - `tallies`: the engine collecting the tallies alone;
//! - `no_analysis`: what `sim run --no-analysis` collects (tallies and precursors);
//! - `published`: what `sim run` collects (the sensitivity analysis too);
//! - `straightforward`: the model written by hand the way an engineer would in an afternoon
//!   (`straight/`: one ChaCha8 stream per run, plain structs, scalar code).
//!
//! The hand-written versions do not follow the engine's random-number protocol, so they agree
//! with it in distribution only. Before measuring, every headline probability of each (each
//! outcome by the horizon, each rung above the initial one reached by the horizon) is checked
//! against the engine's within 4 standard errors: at 1,000,000 runs when benchmarking, at
//! 20,000 in `cargo test`'s single pass (test mode), which keeps that pass to seconds.

mod straight;

use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sim::job::{Analysis, Job};
use sim::model::Model;
use straight::Headline;

/// A hand-written model: simulates runs `0..n` on the current rayon pool.
type Simulate<'a> = &'a (dyn Fn(u64) -> Headline + Sync);

/// Runs per measured iteration: a multiple of the engine's chunk size, so that two threads get
/// equal shares.
const RUNS: u64 = 8192;

/// `cargo test --benches` runs each bench once (criterion's test mode, chosen when `--bench` is
/// absent).
fn test_mode() -> bool {
    !std::env::args().any(|arg| arg == "--bench")
}

/// `full` runs when benchmarking, `quick` ones in test mode.
fn runs(full: u64, quick: u64) -> u64 {
    if test_mode() { quick } else { full }
}

fn load(relative: &str) -> Model {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    let loaded = sim::load::load(&path).unwrap_or_else(|e| panic!("loading {}: {e:?}", path.display()));
    sim::compile::compile(&loaded).unwrap_or_else(|e| panic!("compiling {}: {e:?}", path.display()))
}

/// Panics unless every headline probability of the hand-written model lies within 4 standard
/// errors of the engine's, on the scenario's default seed.
fn check_agreement(name: &str, model: &Model, hand: Simulate) {
    let count = runs(1_000_000, 20_000);
    let job = Job::new(model, None, Some(count)).with_analysis(Analysis::Off);
    let engine = Headline::of_tallies(&job.tallies(&|_| {}).expect("the scenario runs"));
    let hand = hand(count);
    match straight::compare(model, &engine, &hand) {
        Ok(agreement) => eprintln!(
            "{name}: the straightforward version agrees with the engine on {} probabilities at {count} runs \
             (largest distance {:.2} standard errors, {})",
            agreement.probabilities, agreement.max_z, agreement.worst
        ),
        Err(failures) => panic!(
            "the straightforward version of {name} disagrees with the engine at {count} runs (more than 4 \
             standard errors): update benches/straight/ to the scenario\n{failures}"
        ),
    }
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
}

fn references(c: &mut Criterion) {
    let baseline = load("scenarios/baseline.toml");
    let repeating = load("benches/scenarios/repeating.toml");
    let hand_baseline = straight::baseline::Baseline::new(baseline.default_seed);
    let hand_repeating = straight::repeating::Repeating::new(repeating.default_seed);
    let models: [(&str, &Model, Simulate); 2] = [
        ("baseline", &baseline, &|runs| hand_baseline.simulate(runs)),
        ("repeating", &repeating, &|runs| hand_repeating.simulate(runs)),
    ];
    for (name, model, hand) in models {
        check_agreement(name, model, hand);
    }

    let runs = runs(RUNS, 512);
    let pools: Vec<(usize, rayon::ThreadPool)> = [1, 2].into_iter().map(|n| (n, pool(n))).collect();
    for (name, model, hand) in models {
        let job = Job::new(model, None, Some(runs));
        let no_analysis = job.clone().with_analysis(Analysis::Off);
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(runs));
        for (threads, pool) in &pools {
            let mut bench = |what: &str, simulate: &(dyn Fn() -> u64 + Sync)| {
                group.bench_with_input(BenchmarkId::new(what, threads), threads, |b, _| {
                    b.iter(|| pool.install(simulate))
                });
            };
            bench("tallies", &|| job.tallies(&|_| {}).expect("runs").runs);
            bench("no_analysis", &|| {
                no_analysis.results(&|_| {}).expect("runs").tallies.runs
            });
            bench("published", &|| job.results(&|_| {}).expect("runs").tallies.runs);
            bench("straightforward", &|| hand(runs).runs);
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(6));
    targets = references
}
criterion_main!(benches);
