//! `benches/scenarios/repeating.toml` written the straightforward way (see the parent module).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, Uniform};

use super::{Fired, Headline, Pert, monthly, roll};

const STEPS: u32 = 36;
const LEVELS: usize = 7;
const OUTCOMES: usize = 5;
const N: usize = 22;

// The ladder.
const CALM: u8 = 0;
const TENSION: u8 = 1;
const INCIDENTS: u8 = 2;
const MOBILISATION: u8 = 3;
const SKIRMISH: u8 = 4;
const CLASH: u8 = 5;
const WAR: u8 = 6;

// Postures of both sides: defensive, alert, offensive.
const DEFENSIVE: u8 = 0;
const ALERT: u8 = 1;
const OFFENSIVE: u8 = 2;

// Triggers, in declaration order.
const NORTH_PATROLS: usize = 0;
const NORTH_RECALLS_PATROLS: usize = 1;
const BORDER_INCIDENT: usize = 2;
const SOUTH_ALERT: usize = 3;
const SOUTH_RELAXES: usize = 4;
const NORTH_MOBILISES: usize = 5;
const SOUTH_CALLS_RESERVES: usize = 6;
const SOUTH_RELEASES_RESERVES: usize = 7;
const NORTH_RELAXES: usize = 8;
const HOSTILITY_RISES: usize = 9;
const HOSTILITY_EASES: usize = 10;
const MEDIATOR_ENGAGES: usize = 11;
const MEDIATOR_WITHDRAWS: usize = 12;
const MEDIATOR_PRESSES: usize = 13;
const SKIRMISH_BREAKS_OUT: usize = 14;
const SKIRMISH_CONTAINED: usize = 15;
const CLASH_BREAKS_OUT: usize = 16;
const CLASH_CONTAINED: usize = 17;
const WAR_BREAKS_OUT: usize = 18;
const DE_ESCALATION: usize = 19;
const CALM_RETURNS: usize = 20;
const TENSION_RETURNS: usize = 21;

const ALWAYS: u32 = u32::MAX;
const HOSTILITY_STEP: f64 = 0.5;

struct Params {
    p_incident: f64,
    p_calm: f64,
    p_war: f64,
    p_talks: f64,
}

#[derive(Clone, Copy)]
struct North {
    readiness: i32,
    posture: u8,
    patrols: i32,
    hostility: f64,
}

#[derive(Clone, Copy)]
struct South {
    readiness: i32,
    posture: u8,
    reserves_called: bool,
}

#[derive(Clone, Copy)]
struct Mediator {
    engaged: bool,
    pressure: i32,
}

#[derive(Clone, Copy)]
struct Ledger {
    incidents: i32,
    casualties: i32,
}

#[derive(Clone, Copy)]
struct World {
    escalation: u8,
    north: North,
    south: South,
    mediator: Mediator,
    ledger: Ledger,
}

impl World {
    fn initial() -> Self {
        World {
            escalation: TENSION,
            north: North {
                readiness: 1,
                posture: ALERT,
                patrols: 0,
                hostility: 1.0,
            },
            south: South {
                readiness: 1,
                posture: DEFENSIVE,
                reserves_called: false,
            },
            mediator: Mediator {
                engaged: false,
                pressure: 0,
            },
            ledger: Ledger {
                incidents: 0,
                casualties: 0,
            },
        }
    }

    /// Decides which triggers fire at step `t`, all on the world as it stands (the snapshot
    /// rule).
    fn roll_triggers(&self, fired: &Fired<N>, t: u32, p: &Params, rng: &mut ChaCha8Rng) -> [bool; N] {
        let w = self;
        let esc = w.escalation;
        let ready = |i, max, cooldown| fired.ready(i, t, max, cooldown);
        let hostility = 0.5 + 0.5 * w.north.hostility;
        let mut fire = [false; N];

        if ready(NORTH_PATROLS, ALWAYS, 2) && w.north.posture != DEFENSIVE {
            fire[NORTH_PATROLS] = roll(rng, (0.3 + 0.1 * w.north.readiness as f64).min(1.0));
        }
        if ready(NORTH_RECALLS_PATROLS, ALWAYS, 1) && w.north.patrols >= 3 {
            fire[NORTH_RECALLS_PATROLS] = roll(rng, p.p_calm);
        }
        if ready(BORDER_INCIDENT, ALWAYS, 1) && w.north.patrols >= 1 && esc < SKIRMISH {
            let patrols = 1.0 + 0.1 * w.north.patrols as f64;
            fire[BORDER_INCIDENT] = roll(rng, (p.p_incident * hostility * patrols).clamp(0.0, 1.0));
        }
        if ready(SOUTH_ALERT, ALWAYS, 2) && w.south.posture != OFFENSIVE && fired.since(BORDER_INCIDENT, t) <= 1 {
            fire[SOUTH_ALERT] = roll(rng, (0.4 + 0.1 * w.south.readiness as f64).min(1.0));
        }
        if ready(SOUTH_RELAXES, ALWAYS, 2) && w.south.posture != DEFENSIVE && fired.since(BORDER_INCIDENT, t) > 3 {
            fire[SOUTH_RELAXES] = roll(rng, p.p_calm);
        }
        if ready(NORTH_MOBILISES, ALWAYS, 3) && w.north.hostility >= 2.0 && w.north.posture != OFFENSIVE {
            fire[NORTH_MOBILISES] = roll(rng, (p.p_incident * w.north.hostility).clamp(0.0, 1.0));
        }
        if ready(SOUTH_CALLS_RESERVES, ALWAYS, 4)
            && !w.south.reserves_called
            && (w.north.posture == OFFENSIVE || esc >= MOBILISATION)
        {
            fire[SOUTH_CALLS_RESERVES] = roll(rng, 0.5);
        }
        if ready(SOUTH_RELEASES_RESERVES, ALWAYS, 2) && w.south.reserves_called && esc < MOBILISATION {
            fire[SOUTH_RELEASES_RESERVES] = roll(rng, p.p_calm);
        }
        if ready(NORTH_RELAXES, ALWAYS, 2) && w.north.posture != DEFENSIVE && w.north.hostility < 1.0 {
            fire[NORTH_RELAXES] = roll(rng, (p.p_calm * (1.0 + w.mediator.pressure as f64)).min(1.0));
        }
        if ready(HOSTILITY_RISES, ALWAYS, 3) && (w.south.posture != DEFENSIVE || w.south.reserves_called) {
            fire[HOSTILITY_RISES] = roll(rng, (0.2 + 0.05 * w.ledger.incidents as f64).min(1.0));
        }
        if ready(HOSTILITY_EASES, ALWAYS, 1) && w.mediator.engaged {
            fire[HOSTILITY_EASES] = roll(rng, (p.p_calm * (1.0 + w.mediator.pressure as f64)).min(1.0));
        }
        if ready(MEDIATOR_ENGAGES, ALWAYS, 6) && !w.mediator.engaged && esc >= INCIDENTS {
            fire[MEDIATOR_ENGAGES] = roll(rng, (p.p_talks * (1.0 + 0.5 * w.ledger.incidents as f64)).min(1.0));
        }
        if ready(MEDIATOR_WITHDRAWS, ALWAYS, 0) && w.mediator.engaged && esc >= CLASH {
            fire[MEDIATOR_WITHDRAWS] = roll(rng, 0.3);
        }
        if ready(MEDIATOR_PRESSES, 3, 4) && w.mediator.engaged && w.mediator.pressure < 3 {
            fire[MEDIATOR_PRESSES] = roll(rng, 0.15);
        }
        if ready(SKIRMISH_BREAKS_OUT, ALWAYS, 2) && (INCIDENTS..SKIRMISH).contains(&esc) && w.north.readiness >= 2 {
            let readiness = 1.0 + 0.25 * w.south.readiness as f64;
            fire[SKIRMISH_BREAKS_OUT] = roll(rng, (p.p_incident * 0.3 * hostility * readiness).clamp(0.0, 1.0));
        }
        if ready(SKIRMISH_CONTAINED, ALWAYS, 1) && esc == SKIRMISH {
            let p = 0.3 + 0.1 * w.mediator.pressure as f64 - 0.05 * w.north.hostility;
            fire[SKIRMISH_CONTAINED] = roll(rng, p.clamp(0.0, 1.0));
        }
        if ready(CLASH_BREAKS_OUT, ALWAYS, 2) && esc == SKIRMISH && w.north.posture == OFFENSIVE {
            fire[CLASH_BREAKS_OUT] = roll(rng, (0.1 * hostility).clamp(0.0, 1.0));
        }
        if ready(CLASH_CONTAINED, ALWAYS, 1) && esc == CLASH {
            fire[CLASH_CONTAINED] = roll(rng, (0.25 + 0.1 * w.mediator.pressure as f64).clamp(0.0, 1.0));
        }
        if ready(WAR_BREAKS_OUT, 1, 0) && esc == CLASH {
            fire[WAR_BREAKS_OUT] = roll(rng, (p.p_war * hostility).clamp(0.0, 1.0));
        }
        if ready(DE_ESCALATION, ALWAYS, 1)
            && (INCIDENTS..=MOBILISATION).contains(&esc)
            && fired.since(BORDER_INCIDENT, t) > 2
        {
            fire[DE_ESCALATION] = roll(rng, p.p_calm);
        }
        if ready(CALM_RETURNS, 2, 6) && esc == TENSION && fired.since(BORDER_INCIDENT, t) > 6 && w.mediator.engaged {
            fire[CALM_RETURNS] = roll(rng, 0.5 * p.p_calm);
        }
        if ready(TENSION_RETURNS, ALWAYS, 0) && esc == CALM {
            fire[TENSION_RETURNS] = roll(rng, p.p_incident);
        }
        fire
    }

    /// Applies trigger `i`'s effects in order, each clamped to its variable's bounds.
    fn apply(&mut self, i: usize) {
        let up = |level: u8| (level + 1).min(OFFENSIVE);
        let down = |level: u8| level.saturating_sub(1);
        match i {
            NORTH_PATROLS => self.north.patrols = (self.north.patrols + 1).min(10),
            NORTH_RECALLS_PATROLS => self.north.patrols = (self.north.patrols - 2).max(0),
            BORDER_INCIDENT => {
                self.ledger.incidents += 1;
                self.escalation = self.escalation.max(INCIDENTS);
            }
            SOUTH_ALERT => {
                self.south.posture = up(self.south.posture);
                self.south.readiness = (self.south.readiness + 1).min(5);
            }
            SOUTH_RELAXES => {
                self.south.posture = down(self.south.posture);
                self.south.readiness = (self.south.readiness - 1).max(0);
            }
            NORTH_MOBILISES => {
                self.north.posture = up(self.north.posture);
                self.north.readiness = (self.north.readiness + 2).min(5);
                self.escalation = self.escalation.max(MOBILISATION);
            }
            SOUTH_CALLS_RESERVES => {
                self.south.reserves_called = true;
                self.south.readiness = (self.south.readiness + 2).min(5);
            }
            SOUTH_RELEASES_RESERVES => {
                self.south.reserves_called = false;
                self.south.readiness = (self.south.readiness - 2).max(0);
            }
            NORTH_RELAXES => {
                self.north.posture = down(self.north.posture);
                self.north.readiness = (self.north.readiness - 1).max(0);
            }
            HOSTILITY_RISES => self.north.hostility = (self.north.hostility + HOSTILITY_STEP).min(4.0),
            HOSTILITY_EASES => self.north.hostility = (self.north.hostility - HOSTILITY_STEP).max(0.0),
            MEDIATOR_ENGAGES => {
                self.mediator.engaged = true;
                self.mediator.pressure = (self.mediator.pressure + 1).min(3);
            }
            MEDIATOR_WITHDRAWS => {
                self.mediator.engaged = false;
                self.mediator.pressure = 0;
            }
            MEDIATOR_PRESSES => self.mediator.pressure = (self.mediator.pressure + 1).min(3),
            SKIRMISH_BREAKS_OUT => {
                self.escalation = SKIRMISH;
                self.ledger.casualties = (self.ledger.casualties + 2).min(100);
                self.north.hostility = (self.north.hostility + HOSTILITY_STEP).min(4.0);
            }
            SKIRMISH_CONTAINED => self.escalation = down(self.escalation),
            CLASH_BREAKS_OUT => {
                self.escalation = CLASH;
                self.ledger.casualties = (self.ledger.casualties + 10).min(100);
            }
            CLASH_CONTAINED => {
                self.escalation = down(self.escalation);
                self.north.hostility = (self.north.hostility - HOSTILITY_STEP).max(0.0);
            }
            WAR_BREAKS_OUT => {
                self.escalation = WAR;
                self.ledger.casualties = (self.ledger.casualties + 50).min(100);
            }
            DE_ESCALATION => self.escalation = down(self.escalation),
            CALM_RETURNS => {
                self.escalation = CALM;
                self.north.hostility = (self.north.hostility - HOSTILITY_STEP).max(0.0);
            }
            TENSION_RETURNS => self.escalation = TENSION,
            _ => unreachable!("22 triggers"),
        }
    }

    fn outcomes(&self) -> [bool; OUTCOMES] {
        [
            self.escalation >= SKIRMISH,
            self.escalation == WAR,
            self.south.reserves_called,
            self.north.posture == OFFENSIVE,
            self.ledger.casualties >= 20,
        ]
    }
}

/// The delay of trigger `i`'s effects, drawn when it fires.
fn delay(i: usize, rng: &mut ChaCha8Rng) -> u32 {
    match i {
        NORTH_MOBILISES => rng.random_range(1..=2),
        SOUTH_CALLS_RESERVES => 1,
        CLASH_BREAKS_OUT => rng.random_range(0..=2),
        _ => 0,
    }
}

type Counts = super::Counts<OUTCOMES, LEVELS>;

pub struct Repeating {
    seed: u64,
    p_incident: Pert,
    p_calm: Uniform<f64>,
    p_war: Beta<f64>,
}

impl Repeating {
    pub fn new(seed: u64) -> Self {
        Repeating {
            seed,
            p_incident: Pert::new(0.05, 0.10, 0.20),
            p_calm: Uniform::new(0.10, 0.30).expect("a < b"),
            p_war: Beta::new(2.0, 30.0).expect("positive shapes"),
        }
    }

    /// Runs `0..runs` on the current rayon pool.
    pub fn simulate(&self, runs: u64) -> Headline {
        super::simulate_runs(runs, |run, pending, counts| self.run(run, pending, counts))
    }

    /// One run; `pending` holds the delayed effects not yet applied, (landing step, trigger).
    fn run(&self, run: u64, pending: &mut Vec<(u32, usize)>, counts: &mut Counts) {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(run);
        let p = Params {
            p_incident: self.p_incident.sample(&mut rng),
            p_calm: self.p_calm.sample(&mut rng),
            p_war: self.p_war.sample(&mut rng),
            p_talks: monthly(0.3),
        };
        let mut w = World::initial();
        let mut fired = Fired::<N>::new();
        pending.clear();
        let mut highest = w.escalation;
        let mut seen = w.outcomes();
        for t in 1..=STEPS {
            for &(landing, i) in pending.iter() {
                if landing == t {
                    w.apply(i);
                }
            }
            pending.retain(|&(landing, _)| landing != t);

            let fire = w.roll_triggers(&fired, t, &p, &mut rng);
            let firing = || (0..N).filter(|&i| fire[i]);
            for i in firing() {
                fired.count[i] += 1;
                fired.last[i] = t;
            }
            for i in firing() {
                let d = delay(i, &mut rng);
                if d == 0 {
                    w.apply(i);
                } else if t + d <= STEPS {
                    pending.push((t + d, i));
                }
            }

            highest = highest.max(w.escalation);
            for (seen, holds) in seen.iter_mut().zip(w.outcomes()) {
                *seen |= holds;
            }
        }
        counts.record(&seen, usize::from(highest));
    }
}
