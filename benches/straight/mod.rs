//! Straightforward hand-written versions of two models, the engine's second yardstick.
//!
//! Each is what an engineer writes in an afternoon: one `ChaCha8Rng` stream per run (the seed,
//! then `set_stream(run)`), the params drawn at the start of the run in the order they are
//! listed, then at every step one uniform per eligible trigger, in declaration order; one struct
//! per actor with named fields, enumerations as small integers, every `when` and probability
//! written as Rust, scalar code, runs spread over rayon with a plain `fold`/`reduce`. It follows
//! the model's step semantics (docs/scenario-format.md) but not the engine's random-number
//! protocol, so it agrees with the engine in distribution, not draw for draw: [`compare`] checks
//! every headline probability against the engine's within 4 standard errors.
//!
//! - `baseline`: `scenarios/baseline.toml`.
//! - `repeating`: `benches/scenarios/repeating.toml`, a model of another shape (few params,
//!   repeating triggers with cooldowns and delays, state-dependent probabilities).

pub mod baseline;
pub mod repeating;

use rayon::prelude::*;
use sim::model::{Model, SLOT_ESCALATION};
use sim::tally::Tallies;

/// The headline counts over `runs` runs: each outcome held at some step up to the horizon, and
/// the ladder reached each rung (or higher) at some step up to the horizon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Headline {
    pub runs: u64,
    pub outcome_by: Vec<u64>,
    /// Runs whose highest rung, steps 0 to the horizon, is `k` or above; index `k`.
    pub rung_reached: Vec<u64>,
}

impl Headline {
    /// The engine's headline counts, read from its tallies at the horizon.
    pub fn of_tallies(tallies: &Tallies) -> Headline {
        let shape = tallies.shape;
        let last = shape.steps;
        let max_at = &tallies.max_level_at[last * shape.levels..(last + 1) * shape.levels];
        Headline {
            runs: tallies.runs,
            outcome_by: tallies.outcome_by[last * shape.outcomes..(last + 1) * shape.outcomes].to_vec(),
            rung_reached: (0..shape.levels).map(|k| max_at[k..].iter().sum()).collect(),
        }
    }
}

/// What [`compare`] found: the largest distance between the two estimates, in standard errors,
/// and where.
pub struct Agreement {
    pub max_z: f64,
    pub worst: String,
    pub probabilities: usize,
}

/// Compares every headline probability of `hand` with `engine`'s (outcomes by the horizon, and
/// rungs above the initial one reached by the horizon): each difference must lie within 4
/// standard errors of the two independent estimates, sqrt(p1(1-p1)/n1 + p2(1-p2)/n2).
/// Returns the worst distance, or every probability outside the bound.
pub fn compare(model: &Model, engine: &Headline, hand: &Headline) -> Result<Agreement, String> {
    let initial = model.initial_slots[SLOT_ESCALATION as usize] as usize;
    let levels = &model.slot_levels[SLOT_ESCALATION as usize];
    let outcomes = model.outcomes.iter().enumerate().map(|(o, outcome)| {
        (
            format!("outcome {}", outcome.id),
            engine.outcome_by[o],
            hand.outcome_by[o],
        )
    });
    let rungs = (initial + 1..model.levels).map(|k| {
        (
            format!("rung {} reached", levels[k]),
            engine.rung_reached[k],
            hand.rung_reached[k],
        )
    });
    let mut agreement = Agreement {
        max_z: 0.0,
        worst: String::new(),
        probabilities: 0,
    };
    let mut failures = Vec::new();
    for (what, x1, x2) in outcomes.chain(rungs) {
        let (n1, n2) = (engine.runs as f64, hand.runs as f64);
        let (p1, p2) = (x1 as f64 / n1, x2 as f64 / n2);
        let se = (p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2).sqrt();
        let z = if p1 == p2 { 0.0 } else { (p1 - p2).abs() / se };
        agreement.probabilities += 1;
        if z > agreement.max_z {
            agreement.max_z = z;
            agreement.worst = what.clone();
        }
        if z > 4.0 {
            failures.push(format!(
                "{what}: engine {p1:.5}, hand-written {p2:.5}, {z:.1} standard errors apart"
            ));
        }
    }
    if failures.is_empty() {
        Ok(agreement)
    } else {
        Err(failures.join("\n"))
    }
}

/// The exact per-step probability of an event with probability `annual` per year.
pub fn monthly(annual: f64) -> f64 {
    1.0 - (1.0 - annual).powf(1.0 / 12.0)
}

/// PERT(min, mode, max): a Beta rescaled to [min, max].
pub struct Pert {
    beta: rand_distr::Beta<f64>,
    min: f64,
    max: f64,
}

impl Pert {
    pub fn new(min: f64, mode: f64, max: f64) -> Pert {
        let alpha = 1.0 + 4.0 * (mode - min) / (max - min);
        let beta = 1.0 + 4.0 * (max - mode) / (max - min);
        Pert {
            beta: rand_distr::Beta::new(alpha, beta).expect("valid PERT shape"),
            min,
            max,
        }
    }

    pub fn sample<R: rand::Rng>(&self, rng: &mut R) -> f64 {
        use rand_distr::Distribution;
        self.min + (self.max - self.min) * self.beta.sample(rng)
    }
}

/// `since.X` before X ever fired (docs/scenario-format.md).
pub const NEVER: u32 = 1_000_000;

/// Per-run bookkeeping of the triggers: firings so far and the step of the last one.
#[derive(Clone, Copy)]
pub struct Fired<const N: usize> {
    pub count: [u32; N],
    pub last: [u32; N],
}

impl<const N: usize> Fired<N> {
    pub fn new() -> Self {
        Fired {
            count: [0; N],
            last: [0; N],
        }
    }

    /// `since.X` at step `t`.
    pub fn since(&self, i: usize, t: u32) -> u32 {
        if self.count[i] > 0 { t - self.last[i] } else { NEVER }
    }

    /// The repeat budget is not spent and the cooldown has passed.
    pub fn ready(&self, i: usize, t: u32, max_firings: u32, cooldown: u32) -> bool {
        self.count[i] < max_firings && (self.count[i] == 0 || t > self.last[i] + cooldown)
    }
}

/// Fires when `u < p`, one uniform from the run's stream; panics on a probability outside
/// [0, 1], which would be a bug in the hand-written model.
pub fn roll<R: rand::Rng>(rng: &mut R, p: f64) -> bool {
    use rand::RngExt;
    assert!((0.0..=1.0).contains(&p), "probability {p} outside [0, 1]");
    rng.random::<f64>() < p
}

/// Headline counts of a set of runs of a model of `O` outcomes and `L` rungs.
#[derive(Clone, Copy)]
pub struct Counts<const O: usize, const L: usize> {
    pub runs: u64,
    pub outcome_by: [u64; O],
    pub rung_reached: [u64; L],
}

impl<const O: usize, const L: usize> Counts<O, L> {
    fn zero() -> Self {
        Counts {
            runs: 0,
            outcome_by: [0; O],
            rung_reached: [0; L],
        }
    }

    /// One run: which outcomes held at some step, and the highest rung it reached.
    pub fn record(&mut self, held: &[bool; O], highest: usize) {
        self.runs += 1;
        for (count, &held) in self.outcome_by.iter_mut().zip(held) {
            *count += u64::from(held);
        }
        for count in &mut self.rung_reached[..=highest] {
            *count += 1;
        }
    }

    fn add(mut self, other: Self) -> Self {
        self.runs += other.runs;
        for (mine, theirs) in self.outcome_by.iter_mut().zip(other.outcome_by) {
            *mine += theirs;
        }
        for (mine, theirs) in self.rung_reached.iter_mut().zip(other.rung_reached) {
            *mine += theirs;
        }
        self
    }
}

/// Runs `0..runs` of a model on the current rayon pool, the plain way: `run(index, pending,
/// counts)` simulates one run into `counts`, with `pending` a scratch list of its delayed effects
/// (landing step, trigger) that each piece of work reuses.
pub fn simulate_runs<const O: usize, const L: usize>(
    runs: u64,
    run: impl Fn(u64, &mut Vec<(u32, usize)>, &mut Counts<O, L>) + Sync,
) -> Headline {
    let counts = (0..runs)
        .into_par_iter()
        .fold(
            || (Counts::zero(), Vec::with_capacity(8)),
            |(mut counts, mut pending), index| {
                run(index, &mut pending, &mut counts);
                (counts, pending)
            },
        )
        .map(|(counts, _)| counts)
        .reduce(Counts::zero, Counts::add);
    Headline {
        runs: counts.runs,
        outcome_by: counts.outcome_by.to_vec(),
        rung_reached: counts.rung_reached.to_vec(),
    }
}
