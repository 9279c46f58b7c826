//! `scenarios/baseline.toml` written by hand in Rust: the yardstick for the engine.
//!
//! Plain fields, `match` on the trigger index and no expression interpreter, but the same model,
//! the same step semantics (docs/scenario-format.md) and the same random-number protocol
//! (`sim::rng`), so it produces exactly the engine's tallies. The bench checks that at startup:
//! when someone retunes the scenario file, the check fails until this file follows.
//!
//! It is written the way one would write a fast simulation by hand, without the engine's tricks:
//! every `when` is evaluated at every step, and every eligible trigger draws its number through
//! its own `Addressed` cursor (one ChaCha block computed per cursor miss), where the engine
//! computes the blocks a step needs several at a time (`sim::rng::Key::pass`); see
//! docs/performance.md.

use rand_distr::{Beta, Distribution};
use rayon::prelude::*;
use sim::rng::{Addressed, region};
use sim::tally::{Shape, Tallies};

const STEPS: usize = 36;
const STEPS_PER_YEAR: f64 = 12.0;
/// `since.X` before X ever fired (see `sim::model::NEVER_FIRED_SINCE`).
const NEVER: usize = 1_000_000;

// Enumeration levels, in declaration order.
const STABLE_DETERRENCE: u8 = 0;
const WARNINGS: u8 = 1;
const ARMS_TRANSFERS: u8 = 2;
const TECH_TRANSFERS: u8 = 3;
const SHOW_OF_FORCE: u8 = 4;
const ARMED_CLASH: u8 = 5;
const REGIONAL_WAR: u8 = 6;
const LEVELS: usize = 7;

const NON_LETHAL: u8 = 1; // rok.arms_to_ukraine: none, non_lethal, lethal
const LETHAL: u8 = 2;
const SCALED_BACK: u8 = 0; // rok.exercises: scaled_back, routine, expanded
const ROUTINE: u8 = 1;
const EXPANDED: u8 = 2;
const ENGAGEMENT: u8 = 0; // dprk.posture: engagement, guarded, provocative
const GUARDED: u8 = 1;
const PROVOCATIVE: u8 = 2;
const ECONOMIC: u8 = 0; // russia.aid_to_dprk: economic, military, missile_tech, nuclear_tech
const MILITARY: u8 = 1;
const MISSILE_TECH: u8 = 2;
const NUCLEAR_TECH: u8 = 3;
const CEASEFIRE: u8 = 0; // ukraine.war: ceasefire, fighting
const FIGHTING: u8 = 1;
const RESTRAINS: u8 = 0; // china.stance: restrains, uneasy, backs_axis
const UNEASY: u8 = 1;
const BACKS_AXIS: u8 = 2;
const SURGE: u8 = 2; // usa.posture: steady, reinforced, surge
const HIGH: u8 = 2; // japan.posture: normal, heightened, high

/// Trigger ids in declaration order: index `i` below is trigger `TRIGGERS[i]`.
const TRIGGERS: [&str; 35] = [
    "kyiv_asks_seoul_for_arms",
    "ukraine_ceasefire",
    "ukraine_ceasefire_collapses",
    "dprk_second_deployment",
    "dprk_troops_come_home",
    "dprk_threatens_seoul",
    "dprk_goes_quiet",
    "dprk_icbm_test",
    "dprk_nuclear_test",
    "dprk_turns_provocative",
    "dprk_posture_relaxes",
    "dprk_talks_collapse",
    "rok_lethal_arms",
    "russia_rewards_pyongyang",
    "russia_answers_seoul",
    "russia_missile_tech",
    "russia_nuclear_tech",
    "china_reins_in_pyongyang",
    "china_tilts_to_axis",
    "china_eases_pressure",
    "china_cools_on_axis",
    "allied_show_of_force",
    "allied_posture_relaxes",
    "us_dprk_talks",
    "japan_raises_alert",
    "japan_stands_down",
    "moscow_threatens_seoul",
    "seoul_protests_russian_arms",
    "allies_warn_of_tech_transfer",
    "rok_raises_alert",
    "crisis_subsides",
    "dmz_clash",
    "crisis_clash",
    "clash_contained",
    "clash_spreads_to_war",
];
const N: usize = TRIGGERS.len();
const OUTCOMES: usize = 8;

// Indices of the triggers that expressions name.
const SECOND_DEPLOYMENT: usize = 3;
const ICBM_TEST: usize = 7;
const NUCLEAR_TEST: usize = 8;
const ROK_LETHAL_ARMS: usize = 12;
const RUSSIA_REWARDS: usize = 13;
const RUSSIA_ANSWERS: usize = 14;
const RUSSIA_MISSILE_TECH: usize = 15;
const RUSSIA_NUCLEAR_TECH: usize = 16;
const CHINA_REINS_IN: usize = 17;
const ALLIED_SHOW: usize = 21;
const JAPAN_RAISES_ALERT: usize = 24;

/// `repeat`, `cooldown` and `delay` of each trigger.
#[derive(Clone, Copy)]
struct Rules {
    max_firings: u32,
    cooldown: usize,
    delay: (usize, usize),
}

const fn rules(max_firings: u32, cooldown: usize, delay: (usize, usize)) -> Rules {
    Rules {
        max_firings,
        cooldown,
        delay,
    }
}
const ONCE: u32 = 1;
const ALWAYS: u32 = u32::MAX;

const RULES: [Rules; N] = [
    rules(4, 5, (0, 0)),
    rules(ALWAYS, 2, (0, 0)),
    rules(ALWAYS, 0, (0, 0)),
    rules(ONCE, 0, (1, 3)),
    rules(ONCE, 0, (2, 2)),
    rules(ALWAYS, 0, (0, 0)),
    rules(ALWAYS, 0, (0, 0)),
    rules(ALWAYS, 2, (0, 0)),
    rules(ONCE, 0, (0, 0)),
    rules(ALWAYS, 3, (0, 0)),
    rules(ALWAYS, 0, (0, 0)),
    rules(ALWAYS, 0, (0, 0)),
    rules(ONCE, 0, (1, 2)),
    rules(ONCE, 0, (0, 0)),
    rules(ONCE, 0, (0, 0)),
    rules(ONCE, 0, (0, 0)),
    rules(ONCE, 0, (0, 0)),
    rules(ALWAYS, 6, (0, 0)),
    rules(ALWAYS, 6, (0, 0)),
    rules(ALWAYS, 0, (0, 0)),
    rules(ALWAYS, 0, (0, 0)),
    rules(ALWAYS, 3, (0, 0)),
    rules(ALWAYS, 0, (0, 0)),
    rules(ALWAYS, 6, (0, 0)),
    rules(ALWAYS, 1, (0, 0)),
    rules(ALWAYS, 0, (0, 0)),
    rules(ALWAYS, 0, (0, 0)),
    rules(ALWAYS, 0, (0, 0)),
    rules(ALWAYS, 0, (0, 0)),
    rules(ALWAYS, 0, (0, 0)),
    rules(ALWAYS, 1, (0, 0)),
    rules(ALWAYS, 0, (0, 0)),
    rules(ALWAYS, 0, (0, 0)),
    rules(ALWAYS, 0, (0, 0)),
    rules(ALWAYS, 0, (0, 0)),
];

/// How one param is drawn at the start of a run (see `[params]` in the scenario format).
struct Sampler {
    region: u64,
    kind: Kind,
    annual: bool,
}

enum Kind {
    Uniform(f64, f64),
    Triangular(f64, f64, f64),
    /// Beta on [min, max]: pert and beta params.
    Beta(Beta<f64>, f64, f64),
}

impl Sampler {
    fn new(name: &str, kind: Kind, annual: bool) -> Self {
        Sampler {
            region: region(&format!("param:{name}")),
            kind,
            annual,
        }
    }
    fn uniform(name: &str, min: f64, max: f64) -> Self {
        Self::new(name, Kind::Uniform(min, max), false)
    }
    fn triangular(name: &str, min: f64, mode: f64, max: f64, annual: bool) -> Self {
        Self::new(name, Kind::Triangular(min, mode, max), annual)
    }
    fn pert(name: &str, min: f64, mode: f64, max: f64, annual: bool) -> Self {
        let alpha = 1.0 + 4.0 * (mode - min) / (max - min);
        let beta = 1.0 + 4.0 * (max - mode) / (max - min);
        Self::new(name, Kind::Beta(Beta::new(alpha, beta).unwrap(), min, max), annual)
    }
    fn beta(name: &str, alpha: f64, beta: f64) -> Self {
        Self::new(name, Kind::Beta(Beta::new(alpha, beta).unwrap(), 0.0, 1.0), false)
    }

    fn draw(&self, rng: &mut Addressed, run: u64) -> f64 {
        let value = match self.kind {
            Kind::Uniform(min, max) => min + (max - min) * rng.uniform(run, self.region, 0),
            Kind::Triangular(min, mode, max) => {
                let u = rng.uniform(run, self.region, 0);
                if u < (mode - min) / (max - min) {
                    min + (u * (max - min) * (mode - min)).sqrt()
                } else {
                    max - ((1.0 - u) * (max - min) * (max - mode)).sqrt()
                }
            }
            Kind::Beta(ref beta, min, max) => min + (max - min) * beta.sample(&mut rng.sequence(run, self.region)),
        };
        if self.annual { per_step(value) } else { value }
    }
}

/// The exact per-month probability of an event with probability `annual` per year.
fn per_step(annual: f64) -> f64 {
    1.0 - (1.0 - annual).powf(1.0 / STEPS_PER_YEAR)
}

/// The samplers of the params drawn per run, one field per param.
struct Samplers {
    kursk_contingent_k: Sampler,
    second_wave_k: Sampler,
    p_kyiv_asks: Sampler,
    p_ceasefire: Sampler,
    p_ceasefire_breaks: Sampler,
    p_troops_home: Sampler,
    p_second_deployment: Sampler,
    p_threats: Sampler,
    p_quiet: Sampler,
    p_icbm: Sampler,
    p_nuclear_test: Sampler,
    p_provocative: Sampler,
    p_posture_relax: Sampler,
    p_rok_lethal: Sampler,
    p_reward: Sampler,
    p_russia_reply: Sampler,
    p_missile_tech: Sampler,
    p_nuclear_tech: Sampler,
    p_china_reins_in: Sampler,
    p_china_tilts: Sampler,
    p_china_reverts: Sampler,
    p_allied_show: Sampler,
    p_allied_relax: Sampler,
    p_talks: Sampler,
    p_talks_collapse: Sampler,
    p_japan_alert: Sampler,
    p_subside: Sampler,
    p_contained: Sampler,
    p_clash: Sampler,
    p_crisis_clash: Sampler,
    p_war: Sampler,
}

impl Samplers {
    fn new() -> Self {
        let annual = true;
        let step = false;
        Samplers {
            kursk_contingent_k: Sampler::uniform("kursk_contingent_k", 10.0, 14.0),
            second_wave_k: Sampler::uniform("second_wave_k", 25.0, 30.0),
            p_kyiv_asks: Sampler::pert("p_kyiv_asks", 0.3, 0.6, 0.9, annual),
            p_ceasefire: Sampler::pert("p_ceasefire", 0.10, 0.25, 0.50, annual),
            p_ceasefire_breaks: Sampler::triangular("p_ceasefire_breaks", 0.10, 0.30, 0.60, annual),
            p_troops_home: Sampler::triangular("p_troops_home", 0.10, 0.25, 0.40, step),
            p_second_deployment: Sampler::pert("p_second_deployment", 0.10, 0.25, 0.50, annual),
            p_threats: Sampler::pert("p_threats", 0.05, 0.15, 0.30, step),
            p_quiet: Sampler::pert("p_quiet", 0.01, 0.03, 0.06, step),
            p_icbm: Sampler::pert("p_icbm", 0.08, 0.20, 0.45, annual),
            p_nuclear_test: Sampler::pert("p_nuclear_test", 0.01, 0.03, 0.08, annual),
            p_provocative: Sampler::pert("p_provocative", 0.05, 0.15, 0.30, step),
            p_posture_relax: Sampler::uniform("p_posture_relax", 0.10, 0.30),
            p_rok_lethal: Sampler::pert("p_rok_lethal", 0.01, 0.03, 0.08, annual),
            p_reward: Sampler::pert("p_reward", 0.02, 0.06, 0.15, annual),
            p_russia_reply: Sampler::pert("p_russia_reply", 0.01, 0.04, 0.10, step),
            p_missile_tech: Sampler::pert("p_missile_tech", 0.02, 0.04, 0.10, annual),
            p_nuclear_tech: Sampler::pert("p_nuclear_tech", 0.01, 0.04, 0.12, annual),
            p_china_reins_in: Sampler::pert("p_china_reins_in", 0.005, 0.02, 0.06, step),
            p_china_tilts: Sampler::pert("p_china_tilts", 0.005, 0.02, 0.05, step),
            p_china_reverts: Sampler::pert("p_china_reverts", 0.02, 0.05, 0.10, step),
            p_allied_show: Sampler::beta("p_allied_show", 6.0, 3.0),
            p_allied_relax: Sampler::uniform("p_allied_relax", 0.15, 0.35),
            p_talks: Sampler::triangular("p_talks", 0.02, 0.08, 0.25, annual),
            p_talks_collapse: Sampler::pert("p_talks_collapse", 0.20, 0.40, 0.70, annual),
            p_japan_alert: Sampler::uniform("p_japan_alert", 0.5, 0.9),
            p_subside: Sampler::pert("p_subside", 0.08, 0.15, 0.30, step),
            p_contained: Sampler::beta("p_contained", 4.0, 7.0),
            p_clash: Sampler::pert("p_clash", 0.02, 0.04, 0.08, annual),
            p_crisis_clash: Sampler::pert("p_crisis_clash", 0.005, 0.015, 0.04, step),
            p_war: Sampler::pert("p_war", 0.005, 0.02, 0.06, step),
        }
    }
}

/// The params of one run.
struct Params {
    appetite_step: f64,
    troop_scale_k: f64,
    p_japan_relax: f64,
    kursk_contingent_k: f64,
    second_wave_k: f64,
    p_kyiv_asks: f64,
    p_ceasefire: f64,
    p_ceasefire_breaks: f64,
    p_troops_home: f64,
    p_second_deployment: f64,
    p_threats: f64,
    p_quiet: f64,
    p_icbm: f64,
    p_nuclear_test: f64,
    p_provocative: f64,
    p_posture_relax: f64,
    p_rok_lethal: f64,
    p_reward: f64,
    p_russia_reply: f64,
    p_missile_tech: f64,
    p_nuclear_tech: f64,
    p_china_reins_in: f64,
    p_china_tilts: f64,
    p_china_reverts: f64,
    p_allied_show: f64,
    p_allied_relax: f64,
    p_talks: f64,
    p_talks_collapse: f64,
    p_japan_alert: f64,
    p_subside: f64,
    p_contained: f64,
    p_clash: f64,
    p_crisis_clash: f64,
    p_war: f64,
}

impl Params {
    fn draw(s: &Samplers, rng: &mut Addressed, run: u64) -> Self {
        let mut d = |sampler: &Sampler| sampler.draw(rng, run);
        Params {
            appetite_step: 0.5,
            troop_scale_k: 12.0,
            p_japan_relax: per_step(0.5),
            kursk_contingent_k: d(&s.kursk_contingent_k),
            second_wave_k: d(&s.second_wave_k),
            p_kyiv_asks: d(&s.p_kyiv_asks),
            p_ceasefire: d(&s.p_ceasefire),
            p_ceasefire_breaks: d(&s.p_ceasefire_breaks),
            p_troops_home: d(&s.p_troops_home),
            p_second_deployment: d(&s.p_second_deployment),
            p_threats: d(&s.p_threats),
            p_quiet: d(&s.p_quiet),
            p_icbm: d(&s.p_icbm),
            p_nuclear_test: d(&s.p_nuclear_test),
            p_provocative: d(&s.p_provocative),
            p_posture_relax: d(&s.p_posture_relax),
            p_rok_lethal: d(&s.p_rok_lethal),
            p_reward: d(&s.p_reward),
            p_russia_reply: d(&s.p_russia_reply),
            p_missile_tech: d(&s.p_missile_tech),
            p_nuclear_tech: d(&s.p_nuclear_tech),
            p_china_reins_in: d(&s.p_china_reins_in),
            p_china_tilts: d(&s.p_china_tilts),
            p_china_reverts: d(&s.p_china_reverts),
            p_allied_show: d(&s.p_allied_show),
            p_allied_relax: d(&s.p_allied_relax),
            p_talks: d(&s.p_talks),
            p_talks_collapse: d(&s.p_talks_collapse),
            p_japan_alert: d(&s.p_japan_alert),
            p_subside: d(&s.p_subside),
            p_contained: d(&s.p_contained),
            p_clash: d(&s.p_clash),
            p_crisis_clash: d(&s.p_crisis_clash),
            p_war: d(&s.p_war),
        }
    }
}

/// The state of one run: the actors' variables and the trigger counters.
struct State {
    escalation: u8,
    rok_arms_to_ukraine: u8,
    rok_vigilance: i32,
    rok_exercises: u8,
    dprk_forces_in_russia: bool,
    dprk_second_wave_k: f64,
    dprk_missile_tests: u32,
    dprk_nuclear_tests: u32,
    dprk_posture: u8,
    dprk_risk_appetite: f64,
    russia_aid_to_dprk: u8,
    ukraine_war: u8,
    ukraine_arms_requests: i32,
    china_stance: u8,
    usa_posture: u8,
    usa_talks_with_dprk: bool,
    japan_posture: u8,
    japan_missile_alerts: i64,
    count: [u32; N],
    last_fired: [usize; N],
}

impl State {
    fn initial() -> Self {
        State {
            escalation: WARNINGS,
            rok_arms_to_ukraine: NON_LETHAL,
            rok_vigilance: 1,
            rok_exercises: ROUTINE,
            dprk_forces_in_russia: true,
            dprk_second_wave_k: 0.0,
            dprk_missile_tests: 0,
            dprk_nuclear_tests: 0,
            dprk_posture: GUARDED,
            dprk_risk_appetite: 1.0,
            russia_aid_to_dprk: ECONOMIC,
            ukraine_war: FIGHTING,
            ukraine_arms_requests: 0,
            china_stance: UNEASY,
            usa_posture: 1,
            usa_talks_with_dprk: false,
            japan_posture: 1,
            japan_missile_alerts: 0,
            count: [0; N],
            last_fired: [0; N],
        }
    }

    /// `since.X` at step `t`.
    fn since(&self, trigger: usize, t: usize) -> usize {
        if self.count[trigger] > 0 {
            t - self.last_fired[trigger]
        } else {
            NEVER
        }
    }

    fn when(&self, trigger: usize, t: usize) -> bool {
        let esc = self.escalation;
        let since = |x| self.since(x, t);
        match trigger {
            0 => self.ukraine_war == FIGHTING && self.rok_arms_to_ukraine != LETHAL,
            1 => self.ukraine_war == FIGHTING && esc < REGIONAL_WAR,
            2 => self.ukraine_war == CEASEFIRE,
            3 => self.ukraine_war == FIGHTING && self.dprk_forces_in_russia,
            4 => self.ukraine_war == CEASEFIRE && self.dprk_forces_in_russia,
            5 => esc == STABLE_DETERRENCE,
            6 => esc == WARNINGS && since(ICBM_TEST) > 6 && since(SECOND_DEPLOYMENT) > 6,
            7 | 8 => self.dprk_posture != ENGAGEMENT,
            9 => self.dprk_posture == GUARDED && self.rok_exercises == EXPANDED,
            10 => self.dprk_posture == PROVOCATIVE && self.rok_exercises != EXPANDED,
            11 => self.usa_talks_with_dprk,
            12 => self.rok_arms_to_ukraine == NON_LETHAL && self.ukraine_war == FIGHTING,
            13 => self.russia_aid_to_dprk == ECONOMIC && self.dprk_forces_in_russia && self.ukraine_war == FIGHTING,
            14 => self.rok_arms_to_ukraine == LETHAL && self.russia_aid_to_dprk < MISSILE_TECH,
            15 => self.russia_aid_to_dprk < MISSILE_TECH,
            16 => self.russia_aid_to_dprk == MISSILE_TECH,
            17 => {
                self.china_stance != RESTRAINS
                    && esc < REGIONAL_WAR
                    && (esc >= TECH_TRANSFERS
                        || self.russia_aid_to_dprk >= MISSILE_TECH
                        || self.dprk_nuclear_tests >= 1)
            }
            18 => {
                self.china_stance != BACKS_AXIS
                    && (self.rok_arms_to_ukraine == LETHAL || self.usa_posture == SURGE || self.japan_posture == HIGH)
            }
            19 => self.china_stance == RESTRAINS,
            20 => self.china_stance == BACKS_AXIS,
            21 => self.usa_posture != SURGE && (since(ICBM_TEST) <= 2 || since(NUCLEAR_TEST) <= 2),
            22 => self.usa_posture == SURGE && since(ALLIED_SHOW) > 3 && since(ICBM_TEST) > 3,
            23 => !self.usa_talks_with_dprk && esc < ARMED_CLASH,
            24 => since(ICBM_TEST) <= 1 || since(NUCLEAR_TEST) <= 1,
            25 => self.japan_posture == HIGH && since(JAPAN_RAISES_ALERT) > 6,
            26 => esc < ARMS_TRANSFERS && since(ROK_LETHAL_ARMS) <= 1,
            27 => esc < ARMS_TRANSFERS && (since(RUSSIA_REWARDS) <= 1 || since(RUSSIA_ANSWERS) <= 1),
            28 => {
                esc < TECH_TRANSFERS
                    && (since(RUSSIA_MISSILE_TECH) <= 1
                        || since(RUSSIA_NUCLEAR_TECH) <= 1
                        || (since(RUSSIA_ANSWERS) <= 1 && self.russia_aid_to_dprk >= MISSILE_TECH))
            }
            29 => esc < SHOW_OF_FORCE && (since(ICBM_TEST) <= 1 || since(NUCLEAR_TEST) <= 1 || since(ALLIED_SHOW) <= 1),
            30 => (ARMS_TRANSFERS..=SHOW_OF_FORCE).contains(&esc) && since(ICBM_TEST) > 2 && since(NUCLEAR_TEST) > 2,
            31 => (WARNINGS..SHOW_OF_FORCE).contains(&esc),
            32 => esc == SHOW_OF_FORCE,
            33 | 34 => esc == ARMED_CLASH,
            _ => unreachable!(),
        }
    }

    fn probability(&self, trigger: usize, p: &Params) -> f64 {
        let appetite = 0.5 + 0.5 * self.dprk_risk_appetite;
        let count = |x: usize| self.count[x] as f64;
        match trigger {
            0 => p.p_kyiv_asks,
            1 => p.p_ceasefire,
            2 => p.p_ceasefire_breaks,
            3 => p.p_second_deployment,
            4 => p.p_troops_home,
            5 => (p.p_threats * appetite).clamp(0.0, 1.0),
            6 => p.p_quiet,
            7 => (p.p_icbm * appetite).clamp(0.0, 1.0),
            8 => (p.p_nuclear_test * appetite * (1.0 + 2.0 * count(RUSSIA_NUCLEAR_TECH))).clamp(0.0, 1.0),
            9 => p.p_provocative,
            10 => p.p_posture_relax,
            11 => p.p_talks_collapse,
            12 => (p.p_rok_lethal * (1.0 + 0.5 * self.ukraine_arms_requests as f64) * (1.0 + count(SECOND_DEPLOYMENT)))
                .min(1.0),
            13 => (p.p_reward * (p.kursk_contingent_k + self.dprk_second_wave_k) / p.troop_scale_k).min(1.0),
            14 => p.p_russia_reply,
            15 => (p.p_missile_tech * (1.0 + count(SECOND_DEPLOYMENT))).min(1.0),
            16 => (p.p_nuclear_tech * (1.0 + count(SECOND_DEPLOYMENT))).min(1.0),
            17 => p.p_china_reins_in,
            18 => p.p_china_tilts,
            19 | 20 => p.p_china_reverts,
            21 => p.p_allied_show,
            22 => p.p_allied_relax,
            23 => (p.p_talks * (1.0 + count(CHINA_REINS_IN).min(1.0))).min(1.0),
            24 => p.p_japan_alert,
            25 => p.p_japan_relax,
            26..=29 => 1.0,
            30 => p.p_subside,
            31 => (p.p_clash * appetite).clamp(0.0, 1.0),
            32 => (p.p_crisis_clash * appetite * (1.0 + 0.25 * self.rok_vigilance as f64)).clamp(0.0, 1.0),
            33 => p.p_contained,
            34 => (p.p_war * appetite).clamp(0.0, 1.0),
            _ => unreachable!(),
        }
    }

    /// Applies a trigger's effects in order, each clamped to its variable's bounds.
    fn apply(&mut self, trigger: usize, p: &Params) {
        let step = p.appetite_step;
        let appetite = |s: &mut State, by: f64| s.dprk_risk_appetite = (s.dprk_risk_appetite + by).clamp(0.0, 4.0);
        let vigilance = |s: &mut State, by: i32| s.rok_vigilance = (s.rok_vigilance + by).clamp(0, 3);
        let up = |level: u8, top: u8| (level + 1).min(top);
        let down = |level: u8| level.saturating_sub(1);
        match trigger {
            0 => self.ukraine_arms_requests = (self.ukraine_arms_requests + 1).min(4),
            1 => {
                self.ukraine_war = CEASEFIRE;
                self.escalation = down(self.escalation);
                appetite(self, -step);
            }
            2 => {
                self.ukraine_war = FIGHTING;
                appetite(self, step);
            }
            3 => {
                self.dprk_second_wave_k = p.second_wave_k.clamp(0.0, 30.0);
                appetite(self, step);
                vigilance(self, 1);
            }
            4 => {
                self.dprk_forces_in_russia = false;
                self.dprk_second_wave_k = 0.0;
            }
            5 => self.escalation = WARNINGS,
            6 => self.escalation = down(self.escalation),
            7 => self.dprk_missile_tests += 1,
            8 => self.dprk_nuclear_tests += 1,
            9 => {
                self.dprk_posture = PROVOCATIVE;
                appetite(self, step);
            }
            10 => {
                self.dprk_posture = down(self.dprk_posture);
                appetite(self, -step);
            }
            11 => {
                self.usa_talks_with_dprk = false;
                self.dprk_posture = GUARDED;
                appetite(self, step);
                self.rok_exercises = ROUTINE;
            }
            12 => {
                self.rok_arms_to_ukraine = LETHAL;
                vigilance(self, 1);
            }
            13 => {
                self.russia_aid_to_dprk = MILITARY;
                appetite(self, step);
            }
            14 => {
                self.russia_aid_to_dprk = up(self.russia_aid_to_dprk, NUCLEAR_TECH);
                appetite(self, step);
            }
            15 => {
                self.russia_aid_to_dprk = MISSILE_TECH;
                appetite(self, step);
            }
            16 => {
                self.russia_aid_to_dprk = NUCLEAR_TECH;
                appetite(self, 2.0 * step);
            }
            17 => {
                self.china_stance = down(self.china_stance);
                appetite(self, -step);
                self.escalation = down(self.escalation);
            }
            18 => {
                self.china_stance = up(self.china_stance, BACKS_AXIS);
                appetite(self, step);
            }
            19 => {
                self.china_stance = UNEASY;
                appetite(self, step);
            }
            20 => {
                self.china_stance = UNEASY;
                appetite(self, -step);
            }
            21 => {
                self.usa_posture = SURGE;
                self.rok_exercises = EXPANDED;
                vigilance(self, 1);
            }
            22 => {
                self.usa_posture = down(self.usa_posture);
                self.rok_exercises = ROUTINE;
            }
            23 => {
                self.usa_talks_with_dprk = true;
                self.dprk_posture = ENGAGEMENT;
                appetite(self, -step);
                self.escalation = down(self.escalation);
                self.rok_exercises = SCALED_BACK;
            }
            24 => {
                self.japan_posture = up(self.japan_posture, HIGH);
                self.japan_missile_alerts += 1;
            }
            25 => self.japan_posture = down(self.japan_posture),
            26 => self.escalation = ARMS_TRANSFERS,
            27 => {
                self.escalation = ARMS_TRANSFERS;
                vigilance(self, 1);
            }
            28 => {
                self.escalation = TECH_TRANSFERS;
                self.japan_posture = up(self.japan_posture, HIGH);
            }
            29 => {
                self.escalation = SHOW_OF_FORCE;
                vigilance(self, 1);
            }
            30 => {
                self.escalation = down(self.escalation);
                vigilance(self, -1);
            }
            31 => {
                self.escalation = ARMED_CLASH;
                self.rok_vigilance = 3;
            }
            32 => {
                self.escalation = up(self.escalation, REGIONAL_WAR);
                self.rok_vigilance = 3;
            }
            33 => self.escalation = down(self.escalation),
            34 => self.escalation = REGIONAL_WAR,
            _ => unreachable!(),
        }
    }

    fn outcome(&self, outcome: usize) -> bool {
        match outcome {
            0 => self.russia_aid_to_dprk >= MILITARY,
            1 => self.dprk_missile_tests >= 1 || self.dprk_nuclear_tests >= 1,
            2 => self.escalation >= ARMED_CLASH,
            3 => self.escalation == REGIONAL_WAR,
            4 => self.china_stance == RESTRAINS,
            5 => self.china_stance == BACKS_AXIS,
            6 => self.rok_arms_to_ukraine == LETHAL,
            7 => self.ukraine_war == CEASEFIRE,
            _ => unreachable!(),
        }
    }
}

/// The hand-written model: random-number regions and param samplers, prepared once.
pub struct Baseline {
    seed: u64,
    samplers: Samplers,
    fire_regions: [u64; N],
    delay_regions: [u64; N],
}

pub const SHAPE: Shape = Shape {
    steps: STEPS,
    levels: LEVELS,
    outcomes: OUTCOMES,
    triggers: N,
};

/// Buffers reused from run to run.
struct Scratch {
    /// Delayed firings not yet applied: (landing step, trigger), in firing order.
    pending: Vec<(usize, usize)>,
    firing: Vec<usize>,
}

/// Runs per unit of parallel work, as in the engine.
const CHUNK_RUNS: u64 = 512;

impl Baseline {
    pub fn new(seed: u64) -> Self {
        Baseline {
            seed,
            samplers: Samplers::new(),
            fire_regions: TRIGGERS.map(|id| region(&format!("trigger:{id}"))),
            delay_regions: TRIGGERS.map(|id| region(&format!("delay:{id}"))),
        }
    }

    /// Runs `first..first + count` on the current rayon pool.
    pub fn simulate(&self, first: u64, count: u64) -> Tallies {
        let chunks = count.div_ceil(CHUNK_RUNS);
        (0..chunks)
            .into_par_iter()
            .map(|chunk| {
                let start = first + chunk * CHUNK_RUNS;
                let end = (start + CHUNK_RUNS).min(first + count);
                let mut tallies = Tallies::zero(SHAPE);
                let mut rng = Addressed::new(self.seed);
                let mut fire_rngs: [Addressed; N] = std::array::from_fn(|_| Addressed::new(self.seed));
                let mut scratch = Scratch {
                    pending: Vec::with_capacity(2 * STEPS),
                    firing: Vec::with_capacity(N),
                };
                for run in start..end {
                    self.run(run, &mut rng, &mut fire_rngs, &mut scratch, &mut tallies);
                }
                tallies
            })
            .reduce(|| Tallies::zero(SHAPE), |a, b| a.merge(&b))
    }

    fn run(
        &self,
        run: u64,
        rng: &mut Addressed,
        fire_rngs: &mut [Addressed; N],
        scratch: &mut Scratch,
        tallies: &mut Tallies,
    ) {
        let p = Params::draw(&self.samplers, rng, run);
        let mut s = State::initial();
        let Scratch { pending, firing } = scratch;
        pending.clear();
        let mut max_level = s.escalation;
        let mut seen = [false; OUTCOMES];
        record(&s, 0, &mut max_level, &mut seen, tallies);
        for t in 1..=STEPS {
            for &(landing, trigger) in pending.iter() {
                if landing == t {
                    s.apply(trigger, &p);
                }
            }
            pending.retain(|&(landing, _)| landing != t);

            firing.clear();
            for i in 0..N {
                let rules = RULES[i];
                let count = s.count[i];
                if count >= rules.max_firings || (count > 0 && t <= s.last_fired[i] + rules.cooldown) || !s.when(i, t) {
                    continue;
                }
                let probability = s.probability(i, &p);
                assert!((0.0..=1.0).contains(&probability), "probability out of range");
                if fire_rngs[i].fires(run, self.fire_regions[i], t as u64, probability) {
                    firing.push(i);
                }
            }

            for &i in firing.iter() {
                s.count[i] += 1;
                s.last_fired[i] = t;
                tallies.trigger_firings[i] += 1;
            }
            for &i in firing.iter() {
                let (lo, hi) = RULES[i].delay;
                let delay = if lo == hi {
                    lo
                } else {
                    let u = rng.uniform(run, self.delay_regions[i], t as u64);
                    lo + (u * (hi - lo + 1) as f64) as usize
                };
                if delay == 0 {
                    s.apply(i, &p);
                } else if t + delay <= STEPS {
                    pending.push((t + delay, i));
                }
            }
            record(&s, t, &mut max_level, &mut seen, tallies);
        }
        tallies.runs += 1;
    }
}

fn record(s: &State, t: usize, max_level: &mut u8, seen: &mut [bool; OUTCOMES], tallies: &mut Tallies) {
    *max_level = (*max_level).max(s.escalation);
    tallies.level_at[t * LEVELS + s.escalation as usize] += 1;
    tallies.max_level_at[t * LEVELS + *max_level as usize] += 1;
    for (o, seen) in seen.iter_mut().enumerate() {
        if s.outcome(o) {
            tallies.outcome_holds[t * OUTCOMES + o] += 1;
            *seen |= t > 0;
        }
        if *seen {
            tallies.outcome_by[t * OUTCOMES + o] += 1;
        }
    }
    for i in 0..N {
        if s.count[i] > 0 {
            tallies.trigger_fired_by[t * N + i] += 1;
        }
    }
}
