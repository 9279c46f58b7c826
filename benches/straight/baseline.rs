//! `scenarios/baseline.toml` written the straightforward way (see the parent module): the same
//! model as `benches/baseline/mod.rs`, without the engine's random-number protocol.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, Triangular, Uniform};

use super::{Fired, Headline, Pert, monthly, roll};

const STEPS: u32 = 36;
const LEVELS: usize = 7;
const OUTCOMES: usize = 8;
const N: usize = 35;

// The ladder.
const STABLE_DETERRENCE: u8 = 0;
const WARNINGS: u8 = 1;
const ARMS_TRANSFERS: u8 = 2;
const TECH_TRANSFERS: u8 = 3;
const SHOW_OF_FORCE: u8 = 4;
const ARMED_CLASH: u8 = 5;
const REGIONAL_WAR: u8 = 6;

// Enumerations, as their level's index.
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
const REINFORCED: u8 = 1; // usa.posture: steady, reinforced, surge
const SURGE: u8 = 2;
const HEIGHTENED: u8 = 1; // japan.posture: normal, heightened, high
const HIGH: u8 = 2;

// Triggers, in declaration order.
const KYIV_ASKS: usize = 0;
const CEASEFIRE_HOLDS: usize = 1;
const CEASEFIRE_COLLAPSES: usize = 2;
const SECOND_DEPLOYMENT: usize = 3;
const TROOPS_HOME: usize = 4;
const DPRK_THREATENS: usize = 5;
const DPRK_QUIET: usize = 6;
const ICBM_TEST: usize = 7;
const NUCLEAR_TEST: usize = 8;
const DPRK_PROVOCATIVE: usize = 9;
const DPRK_RELAXES: usize = 10;
const TALKS_COLLAPSE: usize = 11;
const ROK_LETHAL_ARMS: usize = 12;
const RUSSIA_REWARDS: usize = 13;
const RUSSIA_ANSWERS: usize = 14;
const RUSSIA_MISSILE_TECH: usize = 15;
const RUSSIA_NUCLEAR_TECH: usize = 16;
const CHINA_REINS_IN: usize = 17;
const CHINA_TILTS: usize = 18;
const CHINA_EASES: usize = 19;
const CHINA_COOLS: usize = 20;
const ALLIED_SHOW: usize = 21;
const ALLIED_RELAXES: usize = 22;
const US_DPRK_TALKS: usize = 23;
const JAPAN_ALERT: usize = 24;
const JAPAN_STANDS_DOWN: usize = 25;
const MOSCOW_THREATENS: usize = 26;
const SEOUL_PROTESTS: usize = 27;
const ALLIES_WARN: usize = 28;
const ROK_RAISES_ALERT: usize = 29;
const CRISIS_SUBSIDES: usize = 30;
const DMZ_CLASH: usize = 31;
const CRISIS_CLASH: usize = 32;
const CLASH_CONTAINED: usize = 33;
const CLASH_SPREADS: usize = 34;

const ONCE: u32 = 1;
const ALWAYS: u32 = u32::MAX;

const APPETITE_STEP: f64 = 0.5;
const TROOP_SCALE_K: f64 = 12.0;

/// The distributions of the params drawn per run, built once.
struct Distributions {
    kursk_contingent_k: Uniform<f64>,
    second_wave_k: Uniform<f64>,
    p_kyiv_asks: Pert,
    p_ceasefire: Pert,
    p_ceasefire_breaks: Triangular<f64>,
    p_troops_home: Triangular<f64>,
    p_second_deployment: Pert,
    p_threats: Pert,
    p_quiet: Pert,
    p_icbm: Pert,
    p_nuclear_test: Pert,
    p_provocative: Pert,
    p_posture_relax: Uniform<f64>,
    p_rok_lethal: Pert,
    p_reward: Pert,
    p_russia_reply: Pert,
    p_missile_tech: Pert,
    p_nuclear_tech: Pert,
    p_china_reins_in: Pert,
    p_china_tilts: Pert,
    p_china_reverts: Pert,
    p_allied_show: Beta<f64>,
    p_allied_relax: Uniform<f64>,
    p_talks: Triangular<f64>,
    p_talks_collapse: Pert,
    p_japan_alert: Uniform<f64>,
    p_subside: Pert,
    p_contained: Beta<f64>,
    p_clash: Pert,
    p_crisis_clash: Pert,
    p_war: Pert,
}

/// One run's params, per month where the scenario gives them per year.
struct Params {
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
    p_japan_relax: f64,
    p_subside: f64,
    p_contained: f64,
    p_clash: f64,
    p_crisis_clash: f64,
    p_war: f64,
}

impl Distributions {
    fn new() -> Self {
        let uniform = |a, b| Uniform::new(a, b).expect("a < b");
        let triangular = |min, mode, max| Triangular::new(min, max, mode).expect("min <= mode <= max");
        Distributions {
            kursk_contingent_k: uniform(10.0, 14.0),
            second_wave_k: uniform(25.0, 30.0),
            p_kyiv_asks: Pert::new(0.3, 0.6, 0.9),
            p_ceasefire: Pert::new(0.10, 0.25, 0.50),
            p_ceasefire_breaks: triangular(0.10, 0.30, 0.60),
            p_troops_home: triangular(0.10, 0.25, 0.40),
            p_second_deployment: Pert::new(0.10, 0.25, 0.50),
            p_threats: Pert::new(0.05, 0.15, 0.30),
            p_quiet: Pert::new(0.01, 0.03, 0.06),
            p_icbm: Pert::new(0.08, 0.20, 0.45),
            p_nuclear_test: Pert::new(0.01, 0.03, 0.08),
            p_provocative: Pert::new(0.05, 0.15, 0.30),
            p_posture_relax: uniform(0.10, 0.30),
            p_rok_lethal: Pert::new(0.01, 0.03, 0.08),
            p_reward: Pert::new(0.02, 0.06, 0.15),
            p_russia_reply: Pert::new(0.01, 0.04, 0.10),
            p_missile_tech: Pert::new(0.02, 0.04, 0.10),
            p_nuclear_tech: Pert::new(0.01, 0.04, 0.12),
            p_china_reins_in: Pert::new(0.005, 0.02, 0.06),
            p_china_tilts: Pert::new(0.005, 0.02, 0.05),
            p_china_reverts: Pert::new(0.02, 0.05, 0.10),
            p_allied_show: Beta::new(6.0, 3.0).expect("positive shapes"),
            p_allied_relax: uniform(0.15, 0.35),
            p_talks: triangular(0.02, 0.08, 0.25),
            p_talks_collapse: Pert::new(0.20, 0.40, 0.70),
            p_japan_alert: uniform(0.5, 0.9),
            p_subside: Pert::new(0.08, 0.15, 0.30),
            p_contained: Beta::new(4.0, 7.0).expect("positive shapes"),
            p_clash: Pert::new(0.02, 0.04, 0.08),
            p_crisis_clash: Pert::new(0.005, 0.015, 0.04),
            p_war: Pert::new(0.005, 0.02, 0.06),
        }
    }

    /// Draws one run's params, in the order the scenario lists them.
    fn draw(&self, rng: &mut ChaCha8Rng) -> Params {
        let d = self;
        Params {
            kursk_contingent_k: d.kursk_contingent_k.sample(rng),
            second_wave_k: d.second_wave_k.sample(rng),
            p_kyiv_asks: monthly(d.p_kyiv_asks.sample(rng)),
            p_ceasefire: monthly(d.p_ceasefire.sample(rng)),
            p_ceasefire_breaks: monthly(d.p_ceasefire_breaks.sample(rng)),
            p_troops_home: d.p_troops_home.sample(rng),
            p_second_deployment: monthly(d.p_second_deployment.sample(rng)),
            p_threats: d.p_threats.sample(rng),
            p_quiet: d.p_quiet.sample(rng),
            p_icbm: monthly(d.p_icbm.sample(rng)),
            p_nuclear_test: monthly(d.p_nuclear_test.sample(rng)),
            p_provocative: d.p_provocative.sample(rng),
            p_posture_relax: d.p_posture_relax.sample(rng),
            p_rok_lethal: monthly(d.p_rok_lethal.sample(rng)),
            p_reward: monthly(d.p_reward.sample(rng)),
            p_russia_reply: d.p_russia_reply.sample(rng),
            p_missile_tech: monthly(d.p_missile_tech.sample(rng)),
            p_nuclear_tech: monthly(d.p_nuclear_tech.sample(rng)),
            p_china_reins_in: d.p_china_reins_in.sample(rng),
            p_china_tilts: d.p_china_tilts.sample(rng),
            p_china_reverts: d.p_china_reverts.sample(rng),
            p_allied_show: d.p_allied_show.sample(rng),
            p_allied_relax: d.p_allied_relax.sample(rng),
            p_talks: monthly(d.p_talks.sample(rng)),
            p_talks_collapse: monthly(d.p_talks_collapse.sample(rng)),
            p_japan_alert: d.p_japan_alert.sample(rng),
            p_japan_relax: monthly(0.5),
            p_subside: d.p_subside.sample(rng),
            p_contained: d.p_contained.sample(rng),
            p_clash: monthly(d.p_clash.sample(rng)),
            p_crisis_clash: d.p_crisis_clash.sample(rng),
            p_war: d.p_war.sample(rng),
        }
    }
}

#[derive(Clone, Copy)]
struct Rok {
    arms_to_ukraine: u8,
    vigilance: i32,
    exercises: u8,
}

#[derive(Clone, Copy)]
struct Dprk {
    forces_in_russia: bool,
    second_wave_k: f64,
    missile_tests: u32,
    nuclear_tests: u32,
    posture: u8,
    risk_appetite: f64,
}

#[derive(Clone, Copy)]
struct Russia {
    aid_to_dprk: u8,
}

#[derive(Clone, Copy)]
struct Ukraine {
    war: u8,
    arms_requests: i32,
}

#[derive(Clone, Copy)]
struct China {
    stance: u8,
}

#[derive(Clone, Copy)]
struct Usa {
    posture: u8,
    talks_with_dprk: bool,
}

#[derive(Clone, Copy)]
struct Japan {
    posture: u8,
    missile_alerts: i64,
}

#[derive(Clone, Copy)]
struct World {
    escalation: u8,
    rok: Rok,
    dprk: Dprk,
    russia: Russia,
    ukraine: Ukraine,
    china: China,
    usa: Usa,
    japan: Japan,
}

impl World {
    fn initial() -> Self {
        World {
            escalation: WARNINGS,
            rok: Rok {
                arms_to_ukraine: NON_LETHAL,
                vigilance: 1,
                exercises: ROUTINE,
            },
            dprk: Dprk {
                forces_in_russia: true,
                second_wave_k: 0.0,
                missile_tests: 0,
                nuclear_tests: 0,
                posture: GUARDED,
                risk_appetite: 1.0,
            },
            russia: Russia { aid_to_dprk: ECONOMIC },
            ukraine: Ukraine {
                war: FIGHTING,
                arms_requests: 0,
            },
            china: China { stance: UNEASY },
            usa: Usa {
                posture: REINFORCED,
                talks_with_dprk: false,
            },
            japan: Japan {
                posture: HEIGHTENED,
                missile_alerts: 0,
            },
        }
    }

    fn appetite(&mut self, by: f64) {
        self.dprk.risk_appetite = (self.dprk.risk_appetite + by).clamp(0.0, 4.0);
    }

    fn vigilance(&mut self, by: i32) {
        self.rok.vigilance = (self.rok.vigilance + by).clamp(0, 3);
    }

    /// Decides which triggers fire at step `t`, all on the world as it stands (the snapshot
    /// rule: nothing changes until every trigger has rolled).
    fn roll_triggers(&self, fired: &Fired<N>, t: u32, p: &Params, rng: &mut ChaCha8Rng) -> [bool; N] {
        let w = self;
        let esc = w.escalation;
        let since = |i| fired.since(i, t);
        let count = |i: usize| fired.count[i] as f64;
        let ready = |i, max, cooldown| fired.ready(i, t, max, cooldown);
        let appetite = 0.5 + 0.5 * w.dprk.risk_appetite;
        let mut fire = [false; N];

        // Ukraine front
        if ready(KYIV_ASKS, 4, 5) && w.ukraine.war == FIGHTING && w.rok.arms_to_ukraine != LETHAL {
            fire[KYIV_ASKS] = roll(rng, p.p_kyiv_asks);
        }
        if ready(CEASEFIRE_HOLDS, ALWAYS, 2) && w.ukraine.war == FIGHTING && esc < REGIONAL_WAR {
            fire[CEASEFIRE_HOLDS] = roll(rng, p.p_ceasefire);
        }
        if ready(CEASEFIRE_COLLAPSES, ALWAYS, 0) && w.ukraine.war == CEASEFIRE {
            fire[CEASEFIRE_COLLAPSES] = roll(rng, p.p_ceasefire_breaks);
        }
        // Pyongyang
        if ready(SECOND_DEPLOYMENT, ONCE, 0) && w.ukraine.war == FIGHTING && w.dprk.forces_in_russia {
            fire[SECOND_DEPLOYMENT] = roll(rng, p.p_second_deployment);
        }
        if ready(TROOPS_HOME, ONCE, 0) && w.ukraine.war == CEASEFIRE && w.dprk.forces_in_russia {
            fire[TROOPS_HOME] = roll(rng, p.p_troops_home);
        }
        if ready(DPRK_THREATENS, ALWAYS, 0) && esc == STABLE_DETERRENCE {
            fire[DPRK_THREATENS] = roll(rng, (p.p_threats * appetite).clamp(0.0, 1.0));
        }
        if ready(DPRK_QUIET, ALWAYS, 0) && esc == WARNINGS && since(ICBM_TEST) > 6 && since(SECOND_DEPLOYMENT) > 6 {
            fire[DPRK_QUIET] = roll(rng, p.p_quiet);
        }
        if ready(ICBM_TEST, ALWAYS, 2) && w.dprk.posture != ENGAGEMENT {
            fire[ICBM_TEST] = roll(rng, (p.p_icbm * appetite).clamp(0.0, 1.0));
        }
        if ready(NUCLEAR_TEST, ONCE, 0) && w.dprk.posture != ENGAGEMENT {
            let boost = 1.0 + 2.0 * count(RUSSIA_NUCLEAR_TECH);
            fire[NUCLEAR_TEST] = roll(rng, (p.p_nuclear_test * appetite * boost).clamp(0.0, 1.0));
        }
        if ready(DPRK_PROVOCATIVE, ALWAYS, 3) && w.dprk.posture == GUARDED && w.rok.exercises == EXPANDED {
            fire[DPRK_PROVOCATIVE] = roll(rng, p.p_provocative);
        }
        if ready(DPRK_RELAXES, ALWAYS, 0) && w.dprk.posture == PROVOCATIVE && w.rok.exercises != EXPANDED {
            fire[DPRK_RELAXES] = roll(rng, p.p_posture_relax);
        }
        if ready(TALKS_COLLAPSE, ALWAYS, 0) && w.usa.talks_with_dprk {
            fire[TALKS_COLLAPSE] = roll(rng, p.p_talks_collapse);
        }
        // Seoul
        if ready(ROK_LETHAL_ARMS, ONCE, 0) && w.rok.arms_to_ukraine == NON_LETHAL && w.ukraine.war == FIGHTING {
            let requests = 1.0 + 0.5 * w.ukraine.arms_requests as f64;
            let deployment = 1.0 + count(SECOND_DEPLOYMENT);
            fire[ROK_LETHAL_ARMS] = roll(rng, (p.p_rok_lethal * requests * deployment).min(1.0));
        }
        // Moscow
        if ready(RUSSIA_REWARDS, ONCE, 0)
            && w.russia.aid_to_dprk == ECONOMIC
            && w.dprk.forces_in_russia
            && w.ukraine.war == FIGHTING
        {
            let troops = (p.kursk_contingent_k + w.dprk.second_wave_k) / TROOP_SCALE_K;
            fire[RUSSIA_REWARDS] = roll(rng, (p.p_reward * troops).min(1.0));
        }
        if ready(RUSSIA_ANSWERS, ONCE, 0) && w.rok.arms_to_ukraine == LETHAL && w.russia.aid_to_dprk < MISSILE_TECH {
            fire[RUSSIA_ANSWERS] = roll(rng, p.p_russia_reply);
        }
        if ready(RUSSIA_MISSILE_TECH, ONCE, 0) && w.russia.aid_to_dprk < MISSILE_TECH {
            fire[RUSSIA_MISSILE_TECH] = roll(rng, (p.p_missile_tech * (1.0 + count(SECOND_DEPLOYMENT))).min(1.0));
        }
        if ready(RUSSIA_NUCLEAR_TECH, ONCE, 0) && w.russia.aid_to_dprk == MISSILE_TECH {
            fire[RUSSIA_NUCLEAR_TECH] = roll(rng, (p.p_nuclear_tech * (1.0 + count(SECOND_DEPLOYMENT))).min(1.0));
        }
        // Beijing
        if ready(CHINA_REINS_IN, ALWAYS, 6)
            && w.china.stance != RESTRAINS
            && esc < REGIONAL_WAR
            && (esc >= TECH_TRANSFERS || w.russia.aid_to_dprk >= MISSILE_TECH || w.dprk.nuclear_tests >= 1)
        {
            fire[CHINA_REINS_IN] = roll(rng, p.p_china_reins_in);
        }
        if ready(CHINA_TILTS, ALWAYS, 6)
            && w.china.stance != BACKS_AXIS
            && (w.rok.arms_to_ukraine == LETHAL || w.usa.posture == SURGE || w.japan.posture == HIGH)
        {
            fire[CHINA_TILTS] = roll(rng, p.p_china_tilts);
        }
        if ready(CHINA_EASES, ALWAYS, 0) && w.china.stance == RESTRAINS {
            fire[CHINA_EASES] = roll(rng, p.p_china_reverts);
        }
        if ready(CHINA_COOLS, ALWAYS, 0) && w.china.stance == BACKS_AXIS {
            fire[CHINA_COOLS] = roll(rng, p.p_china_reverts);
        }
        // Washington and Tokyo
        if ready(ALLIED_SHOW, ALWAYS, 3)
            && w.usa.posture != SURGE
            && (since(ICBM_TEST) <= 2 || since(NUCLEAR_TEST) <= 2)
        {
            fire[ALLIED_SHOW] = roll(rng, p.p_allied_show);
        }
        if ready(ALLIED_RELAXES, ALWAYS, 0) && w.usa.posture == SURGE && since(ALLIED_SHOW) > 3 && since(ICBM_TEST) > 3
        {
            fire[ALLIED_RELAXES] = roll(rng, p.p_allied_relax);
        }
        if ready(US_DPRK_TALKS, ALWAYS, 6) && !w.usa.talks_with_dprk && esc < ARMED_CLASH {
            let reined_in = count(CHINA_REINS_IN).min(1.0);
            fire[US_DPRK_TALKS] = roll(rng, (p.p_talks * (1.0 + reined_in)).min(1.0));
        }
        if ready(JAPAN_ALERT, ALWAYS, 1) && (since(ICBM_TEST) <= 1 || since(NUCLEAR_TEST) <= 1) {
            fire[JAPAN_ALERT] = roll(rng, p.p_japan_alert);
        }
        if ready(JAPAN_STANDS_DOWN, ALWAYS, 0) && w.japan.posture == HIGH && since(JAPAN_ALERT) > 6 {
            fire[JAPAN_STANDS_DOWN] = roll(rng, p.p_japan_relax);
        }
        // The ladder
        if ready(MOSCOW_THREATENS, ALWAYS, 0) && esc < ARMS_TRANSFERS && since(ROK_LETHAL_ARMS) <= 1 {
            fire[MOSCOW_THREATENS] = roll(rng, 1.0);
        }
        if ready(SEOUL_PROTESTS, ALWAYS, 0)
            && esc < ARMS_TRANSFERS
            && (since(RUSSIA_REWARDS) <= 1 || since(RUSSIA_ANSWERS) <= 1)
        {
            fire[SEOUL_PROTESTS] = roll(rng, 1.0);
        }
        if ready(ALLIES_WARN, ALWAYS, 0)
            && esc < TECH_TRANSFERS
            && (since(RUSSIA_MISSILE_TECH) <= 1
                || since(RUSSIA_NUCLEAR_TECH) <= 1
                || (since(RUSSIA_ANSWERS) <= 1 && w.russia.aid_to_dprk >= MISSILE_TECH))
        {
            fire[ALLIES_WARN] = roll(rng, 1.0);
        }
        if ready(ROK_RAISES_ALERT, ALWAYS, 0)
            && esc < SHOW_OF_FORCE
            && (since(ICBM_TEST) <= 1 || since(NUCLEAR_TEST) <= 1 || since(ALLIED_SHOW) <= 1)
        {
            fire[ROK_RAISES_ALERT] = roll(rng, 1.0);
        }
        if ready(CRISIS_SUBSIDES, ALWAYS, 1)
            && (ARMS_TRANSFERS..=SHOW_OF_FORCE).contains(&esc)
            && since(ICBM_TEST) > 2
            && since(NUCLEAR_TEST) > 2
        {
            fire[CRISIS_SUBSIDES] = roll(rng, p.p_subside);
        }
        if ready(DMZ_CLASH, ALWAYS, 0) && (WARNINGS..SHOW_OF_FORCE).contains(&esc) {
            fire[DMZ_CLASH] = roll(rng, (p.p_clash * appetite).clamp(0.0, 1.0));
        }
        if ready(CRISIS_CLASH, ALWAYS, 0) && esc == SHOW_OF_FORCE {
            let vigilance = 1.0 + 0.25 * w.rok.vigilance as f64;
            fire[CRISIS_CLASH] = roll(rng, (p.p_crisis_clash * appetite * vigilance).clamp(0.0, 1.0));
        }
        if ready(CLASH_CONTAINED, ALWAYS, 0) && esc == ARMED_CLASH {
            fire[CLASH_CONTAINED] = roll(rng, p.p_contained);
        }
        if ready(CLASH_SPREADS, ALWAYS, 0) && esc == ARMED_CLASH {
            fire[CLASH_SPREADS] = roll(rng, (p.p_war * appetite).clamp(0.0, 1.0));
        }
        fire
    }

    /// Applies trigger `i`'s effects in order, each clamped to its variable's bounds.
    fn apply(&mut self, i: usize, p: &Params) {
        let up = |level: u8, top: u8| (level + 1).min(top);
        let down = |level: u8| level.saturating_sub(1);
        match i {
            KYIV_ASKS => self.ukraine.arms_requests = (self.ukraine.arms_requests + 1).min(4),
            CEASEFIRE_HOLDS => {
                self.ukraine.war = CEASEFIRE;
                self.escalation = down(self.escalation);
                self.appetite(-APPETITE_STEP);
            }
            CEASEFIRE_COLLAPSES => {
                self.ukraine.war = FIGHTING;
                self.appetite(APPETITE_STEP);
            }
            SECOND_DEPLOYMENT => {
                self.dprk.second_wave_k = p.second_wave_k.clamp(0.0, 30.0);
                self.appetite(APPETITE_STEP);
                self.vigilance(1);
            }
            TROOPS_HOME => {
                self.dprk.forces_in_russia = false;
                self.dprk.second_wave_k = 0.0;
            }
            DPRK_THREATENS => self.escalation = WARNINGS,
            DPRK_QUIET => self.escalation = down(self.escalation),
            ICBM_TEST => self.dprk.missile_tests += 1,
            NUCLEAR_TEST => self.dprk.nuclear_tests += 1,
            DPRK_PROVOCATIVE => {
                self.dprk.posture = PROVOCATIVE;
                self.appetite(APPETITE_STEP);
            }
            DPRK_RELAXES => {
                self.dprk.posture = down(self.dprk.posture);
                self.appetite(-APPETITE_STEP);
            }
            TALKS_COLLAPSE => {
                self.usa.talks_with_dprk = false;
                self.dprk.posture = GUARDED;
                self.appetite(APPETITE_STEP);
                self.rok.exercises = ROUTINE;
            }
            ROK_LETHAL_ARMS => {
                self.rok.arms_to_ukraine = LETHAL;
                self.vigilance(1);
            }
            RUSSIA_REWARDS => {
                self.russia.aid_to_dprk = MILITARY;
                self.appetite(APPETITE_STEP);
            }
            RUSSIA_ANSWERS => {
                self.russia.aid_to_dprk = up(self.russia.aid_to_dprk, NUCLEAR_TECH);
                self.appetite(APPETITE_STEP);
            }
            RUSSIA_MISSILE_TECH => {
                self.russia.aid_to_dprk = MISSILE_TECH;
                self.appetite(APPETITE_STEP);
            }
            RUSSIA_NUCLEAR_TECH => {
                self.russia.aid_to_dprk = NUCLEAR_TECH;
                self.appetite(2.0 * APPETITE_STEP);
            }
            CHINA_REINS_IN => {
                self.china.stance = down(self.china.stance);
                self.appetite(-APPETITE_STEP);
                self.escalation = down(self.escalation);
            }
            CHINA_TILTS => {
                self.china.stance = up(self.china.stance, BACKS_AXIS);
                self.appetite(APPETITE_STEP);
            }
            CHINA_EASES => {
                self.china.stance = UNEASY;
                self.appetite(APPETITE_STEP);
            }
            CHINA_COOLS => {
                self.china.stance = UNEASY;
                self.appetite(-APPETITE_STEP);
            }
            ALLIED_SHOW => {
                self.usa.posture = SURGE;
                self.rok.exercises = EXPANDED;
                self.vigilance(1);
            }
            ALLIED_RELAXES => {
                self.usa.posture = down(self.usa.posture);
                self.rok.exercises = ROUTINE;
            }
            US_DPRK_TALKS => {
                self.usa.talks_with_dprk = true;
                self.dprk.posture = ENGAGEMENT;
                self.appetite(-APPETITE_STEP);
                self.escalation = down(self.escalation);
                self.rok.exercises = SCALED_BACK;
            }
            JAPAN_ALERT => {
                self.japan.posture = up(self.japan.posture, HIGH);
                self.japan.missile_alerts += 1;
            }
            JAPAN_STANDS_DOWN => self.japan.posture = down(self.japan.posture),
            MOSCOW_THREATENS => self.escalation = ARMS_TRANSFERS,
            SEOUL_PROTESTS => {
                self.escalation = ARMS_TRANSFERS;
                self.vigilance(1);
            }
            ALLIES_WARN => {
                self.escalation = TECH_TRANSFERS;
                self.japan.posture = up(self.japan.posture, HIGH);
            }
            ROK_RAISES_ALERT => {
                self.escalation = SHOW_OF_FORCE;
                self.vigilance(1);
            }
            CRISIS_SUBSIDES => {
                self.escalation = down(self.escalation);
                self.vigilance(-1);
            }
            DMZ_CLASH => {
                self.escalation = ARMED_CLASH;
                self.rok.vigilance = 3;
            }
            CRISIS_CLASH => {
                self.escalation = up(self.escalation, REGIONAL_WAR);
                self.rok.vigilance = 3;
            }
            CLASH_CONTAINED => self.escalation = down(self.escalation),
            CLASH_SPREADS => self.escalation = REGIONAL_WAR,
            _ => unreachable!("35 triggers"),
        }
    }

    fn outcomes(&self) -> [bool; OUTCOMES] {
        [
            self.russia.aid_to_dprk >= MILITARY,
            self.dprk.missile_tests >= 1 || self.dprk.nuclear_tests >= 1,
            self.escalation >= ARMED_CLASH,
            self.escalation == REGIONAL_WAR,
            self.china.stance == RESTRAINS,
            self.china.stance == BACKS_AXIS,
            self.rok.arms_to_ukraine == LETHAL,
            self.ukraine.war == CEASEFIRE,
        ]
    }
}

/// The delay of trigger `i`'s effects, drawn when it fires.
fn delay(i: usize, rng: &mut ChaCha8Rng) -> u32 {
    match i {
        SECOND_DEPLOYMENT => rng.random_range(1..=3),
        TROOPS_HOME => 2,
        ROK_LETHAL_ARMS => rng.random_range(1..=2),
        _ => 0,
    }
}

type Counts = super::Counts<OUTCOMES, LEVELS>;

pub struct Baseline {
    seed: u64,
    distributions: Distributions,
}

impl Baseline {
    pub fn new(seed: u64) -> Self {
        Baseline {
            seed,
            distributions: Distributions::new(),
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
        let p = self.distributions.draw(&mut rng);
        let mut w = World::initial();
        let mut fired = Fired::<N>::new();
        pending.clear();
        let mut highest = w.escalation;
        let mut seen = w.outcomes();
        for t in 1..=STEPS {
            for &(landing, i) in pending.iter() {
                if landing == t {
                    w.apply(i, &p);
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
                    w.apply(i, &p);
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
