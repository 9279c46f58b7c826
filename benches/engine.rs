//! Throughput of the engine on `scenarios/baseline.toml`, against the same model written by hand.
//!
//! `cargo bench --bench engine` reports runs per second (criterion's "elements") for the engine
//! collecting the tallies only (`engine`), the engine collecting what `sim run` publishes (the
//! tallies and the precursors: `published`), and the hand-written baseline (`baseline/mod.rs`),
//! each on 1 thread and on all cores.
//! Before measuring anything it checks that both give identical tallies, so the comparison is
//! between two implementations of one model; `cargo test --benches` runs that check and each
//! bench once.

mod baseline;

use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sim::job::{Job, Results};
use sim::model::Model;
use sim::tally::Shape;
use sim::tally::paired::Paired;

/// Runs per measured iteration: a multiple of the engine's chunk size, so that two threads get
/// equal shares.
const RUNS: u64 = 8192;
/// Runs compared between the engine and the baseline at startup.
const CHECK_RUNS: u64 = 2000;

/// `cargo test --benches` runs each bench once in an unoptimised build (criterion's test mode,
/// chosen when `--bench` is absent): fewer runs keep that to seconds.
fn test_mode() -> bool {
    !std::env::args().any(|arg| arg == "--bench")
}

/// `full` runs when benchmarking, `quick` ones in test mode.
fn runs(full: u64, quick: u64) -> u64 {
    if test_mode() { quick } else { full }
}

fn model() -> Model {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
    let loaded = sim::load::load(&path).unwrap_or_else(|e| panic!("loading {}: {e:?}", path.display()));
    sim::compile::compile(&loaded).unwrap_or_else(|e| panic!("compiling {}: {e:?}", path.display()))
}

/// Panics unless the baseline reproduces the engine's tallies exactly (on two seeds, one range
/// not starting at run 0).
fn check_equivalence(model: &Model) {
    for (seed, first) in [(model.default_seed, 0), (7, 1000)] {
        let count = runs(CHECK_RUNS, 500);
        let job = Job::new(model, Some(seed), Some(first + count)).with_block(first..first + count);
        let engine = job.tallies(&|_| {}).expect("the baseline scenario runs");
        let hand = baseline::Baseline::new(seed).simulate(first, runs(CHECK_RUNS, 500));
        assert!(
            engine == hand,
            "the hand-written baseline no longer matches scenarios/baseline.toml (seed {seed}): \
             update benches/baseline/mod.rs to the scenario\nengine tallies digest {}\nbaseline tallies digest {}",
            engine.digest(),
            hand.digest()
        );
    }
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
}

fn throughput(c: &mut Criterion) {
    let model = model();
    check_equivalence(&model);
    let seed = model.default_seed;
    let runs = runs(RUNS, 512);
    let hand = baseline::Baseline::new(seed);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pools: Vec<(usize, rayon::ThreadPool)> = [1, cores].into_iter().map(|n| (n, pool(n))).collect();

    let job = Job::new(&model, Some(seed), Some(runs));
    for name in ["engine", "published", "baseline"] {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(runs));
        for (threads, pool) in &pools {
            group.bench_with_input(BenchmarkId::new("threads", threads), threads, |b, _| {
                b.iter(|| {
                    pool.install(|| match name {
                        "engine" => job.tallies(&|_| {}).expect("the baseline scenario runs").runs,
                        "published" => job.results(&|_| {}).expect("the baseline scenario runs").tallies.runs,
                        _ => hand.simulate(0, runs).runs,
                    })
                })
            });
        }
        group.finish();
    }
    shipped_pairs(c, &pools);
}

/// The six shipped scenarios: each simulated on its own into what `sim run` publishes
/// (`shipped/plain`), against the baseline and its variants simulated together on the same runs
/// with their paired counts (`shipped/paired`, `simulate::collect_paired`); runs/s counts the
/// runs of one scenario.
fn shipped_pairs(c: &mut Criterion, pools: &[(usize, rayon::ThreadPool)]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let load = |name: &str| {
        let loaded = sim::load::load(&dir.join(name)).expect("a shipped scenario loads");
        sim::compile::compile(&loaded).expect("a shipped scenario compiles")
    };
    let base = load("baseline.toml");
    let variants: Vec<Model> = [
        "seoul_arms_kyiv.toml",
        "russia_escalates_aid.toml",
        "china_restrains.toml",
        "china_backs_axis.toml",
        "dprk_second_deployment.toml",
    ]
    .map(load)
    .into();
    let refs: Vec<&Model> = variants.iter().collect();
    let runs = runs(RUNS / 4, 128);
    let seed = base.default_seed;
    let simd = sim::lanes::Simd::detect();
    let empty = (
        Results::empty(Shape::of(&base)),
        variants
            .iter()
            .map(|v| (Results::empty(Shape::of(v)), Paired::new(v, &base)))
            .collect::<Vec<_>>(),
    );
    let mut group = c.benchmark_group("shipped");
    group.throughput(Throughput::Elements(runs));
    for (threads, pool) in pools {
        group.bench_with_input(BenchmarkId::new("plain", threads), threads, |b, _| {
            b.iter(|| {
                pool.install(|| {
                    std::iter::once(&base)
                        .chain(&variants)
                        .map(|m| {
                            Job::new(m, Some(seed), Some(runs))
                                .results(&|_| {})
                                .expect("runs")
                                .tallies
                                .runs
                        })
                        .sum::<u64>()
                })
            })
        });
        group.bench_with_input(BenchmarkId::new("paired", threads), threads, |b, _| {
            b.iter(|| {
                pool.install(|| {
                    let (base, pairs) =
                        sim::simulate::collect_paired(&base, &refs, (seed, 0, runs), &empty, simd, &|_| {})
                            .expect("runs");
                    base.tallies.runs + pairs.iter().map(|(r, p)| r.tallies.runs + p.runs).sum::<u64>()
                })
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    targets = throughput
}
criterion_main!(benches);
