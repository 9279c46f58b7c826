//! A randomized differential test of the two engines: scenarios generated from a seed, as TOML
//! text through the real loader and compiler, must give the lockstep engine (`batch`) and the
//! run-by-run engine (`one_run`) identical tallies, or the same first error.
//!
//! The generator covers what the lockstep engine does differently to be fast: repeats and
//! cooldowns (lanes leaving and rejoining `active`), fixed, ranged and zero delays (some landing
//! past the horizon), params of every kind (lazy ones drawn late), enumerations and the ladder
//! moved by fractional amounts, `since.`/`count.`/`fired.` read by conditions, probabilities,
//! effects and outcomes (comparisons with constants, which `Plan::advance` tracks, and values),
//! probabilities of exactly 0 and 1, and, now and then, a probability outside [0, 1] or an effect
//! dividing by zero. Run ranges start anywhere and have lengths that are mostly not multiples
//! of 64, some crossing a 512-run chunk.
//!
//! The generator is a ChaCha stream on a fixed seed, so every case is the same on every machine;
//! a failure prints the scenario text, the seed and the runs, which is all it takes to replay it.

use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

use super::tests::{agreed, try_model_of};

/// Number of generated scenarios (about 2 s in a `cargo test` build on one core), and the seed
/// of the generator. `SIM_DIFFERENTIAL_CASES=n` runs `n` cases instead, for a longer search
/// (`cargo test --lib generated_scenarios`); the first 250 are always the same.
const CASES: usize = 250;
const GENERATOR_SEED: u64 = 20_261_130;

/// What a generated expression may name.
struct Names {
    levels: usize,
    params: Vec<String>,
    /// `actor.var`: numbers, booleans, and enumerations with their number of levels.
    numbers: Vec<String>,
    flags: Vec<String>,
    enums: Vec<(String, usize)>,
    triggers: usize,
}

struct Gen {
    rng: ChaCha8Rng,
}

impl Gen {
    fn below(&mut self, n: usize) -> usize {
        self.rng.random_range(0..n)
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A small number, whole or with one decimal.
    fn constant(&mut self) -> String {
        let k = self.below(8);
        if self.chance(0.3) {
            format!("{k}.5")
        } else {
            k.to_string()
        }
    }

    /// A numeric expression of depth at most `depth`.
    fn number(&mut self, names: &Names, depth: usize) -> String {
        let leaf = depth == 0 || self.chance(0.4);
        if leaf {
            return match self.below(7) {
                0 => self.constant(),
                1 if !names.params.is_empty() => self.pick(&names.params).clone(),
                2 if !names.numbers.is_empty() => self.pick(&names.numbers).clone(),
                3 => format!("count.x{}", self.below(names.triggers)),
                4 => format!("since.x{}", self.below(names.triggers)),
                5 => "t".into(),
                _ => self.constant(),
            };
        }
        let (a, b) = (self.number(names, depth - 1), self.number(names, depth - 1));
        match self.below(8) {
            0 => format!("min({a}, {b})"),
            1 => format!("max({a}, {b})"),
            2 => format!("abs({a} - {b})"),
            // A constant upper bound below 0 would be refused by `compile`.
            3 => format!("clamp({a}, 0, max(0, {b}))"),
            4 => format!("({a} + {b})"),
            5 => format!("({a} - {b})"),
            6 => format!("({a} * {b})"),
            // Never divides by zero: the divisor is at least 1.
            _ => format!("({a} / (1 + abs({b})))"),
        }
    }

    /// A boolean expression of depth at most `depth`.
    fn condition(&mut self, names: &Names, depth: usize) -> String {
        if depth == 0 || self.chance(0.45) {
            let x = self.below(names.triggers);
            let cmp = *self.pick(&["<", "<=", ">", ">=", "==", "!="]);
            return match self.below(10) {
                0 => format!("t {cmp} {}", self.below(12)),
                1 => format!("since.x{x} {cmp} {}", self.below(6)),
                2 => format!("count.x{x} {cmp} {}", self.below(4)),
                3 => format!("fired.x{x}"),
                4 => format!("escalation {cmp} 'l{}'", self.below(names.levels)),
                5 if !names.enums.is_empty() => {
                    let (var, levels) = self.pick(&names.enums);
                    format!("{var} {cmp} 'e{}'", self.below(*levels))
                }
                6 if !names.flags.is_empty() => self.pick(&names.flags).clone(),
                7 if !names.numbers.is_empty() => {
                    format!("{} {cmp} {}", self.pick(&names.numbers), self.constant())
                }
                8 => format!("{} {cmp} {}", self.number(names, 1), self.constant()),
                _ => (*self.pick(&["true", "false"])).into(),
            };
        }
        let (a, b) = (self.condition(names, depth - 1), self.condition(names, depth - 1));
        match self.below(3) {
            0 => format!("({a} && {b})"),
            1 => format!("({a} || {b})"),
            _ => format!("!({a})"),
        }
    }

    /// A probability: usually clamped into [0, 1], now and then exactly 0 or 1, rarely an
    /// expression that may leave [0, 1] (the job must then fail alike in both engines).
    fn probability(&mut self, names: &Names) -> String {
        match self.below(20) {
            0 => "0".into(),
            1 | 2 => "1".into(),
            3 if !names.params.is_empty() => {
                format!(
                    "{} * (1 + 0.1 * count.x{})",
                    self.pick(&names.params),
                    self.below(names.triggers)
                )
            }
            4..=6 if !names.params.is_empty() => self.pick(&names.params).clone(),
            7 => format!("0.{}", 1 + self.below(9)),
            _ => format!("clamp({} / 10, 0, 1)", self.number(names, 2)),
        }
    }

    /// An effect statement.
    fn effect(&mut self, names: &Names) -> String {
        let op = *self.pick(&["+=", "-="]);
        let amount = *self.pick(&["1", "2", "0.5", "1.5", "2.5", "-0.5", "-1.5", "0.49"]);
        match self.below(9) {
            0 | 1 => format!("escalation {op} {amount}"),
            2 => format!("escalation = 'l{}'", self.below(names.levels)),
            3 => format!("escalation {op} clamp({} / 4, -3, 3)", self.number(names, 1)),
            4 if !names.enums.is_empty() => {
                let (var, levels) = self.pick(&names.enums);
                if self.chance(0.3) {
                    format!("{var} = 'e{}'", self.below(*levels))
                } else {
                    format!("{var} {op} {amount}")
                }
            }
            5 if !names.flags.is_empty() => {
                format!("{} = {}", self.pick(&names.flags), self.condition(names, 1))
            }
            6 if !names.numbers.is_empty() && self.chance(0.5) => {
                // May divide by zero: an effect computing infinity stops the job.
                let var = self.pick(&names.numbers);
                format!("{var} = 1 / ({var} - {})", self.below(3))
            }
            _ if !names.numbers.is_empty() => {
                let op = *self.pick(&["=", "+=", "-="]);
                format!("{} {op} {}", self.pick(&names.numbers), self.number(names, 2))
            }
            _ => format!("escalation {op} {amount}"),
        }
    }

    fn param(&mut self) -> String {
        let basis = if self.chance(0.2) { ", basis = \"annual\"" } else { "" };
        match self.below(7) {
            0 => format!("{:.3}", self.rng.random::<f64>()),
            1 => format!("{{ annual = {:.3} }}", self.rng.random::<f64>()),
            2 => {
                // Now and then below 0: a probability reading it directly is invalid there.
                let lo = if basis.is_empty() && self.chance(0.1) {
                    -0.05
                } else {
                    0.0
                };
                format!(
                    "{{ uniform = [{lo}, {:.3}]{basis} }}",
                    0.05 + 0.9 * self.rng.random::<f64>()
                )
            }
            3 => format!("{{ triangular = [0.0, 0.2, 0.6]{basis} }}"),
            4 => format!(
                "{{ pert = [0.01, {:.3}, 0.5]{basis} }}",
                0.02 + 0.4 * self.rng.random::<f64>()
            ),
            5 => format!("{{ beta = [{}, {}]{basis} }}", 1 + self.below(5), 1 + self.below(8)),
            _ => format!("{{ uniform = [0.0, {}] }}", 1 + self.below(5)),
        }
    }

    /// A whole scenario.
    fn scenario(&mut self) -> String {
        let steps = 1 + self.below(30);
        let levels = 2 + self.below(5);
        let mut text = format!(
            "[scenario]\nname = \"generated\"\nsteps = {steps}\nstep_unit = \"month\"\n\n[escalation]\nlevels = [{}]\ninitial = \"l{}\"\n\n[params]\n",
            (0..levels).map(|k| format!("\"l{k}\"")).collect::<Vec<_>>().join(", "),
            self.below(levels)
        );
        let mut names = Names {
            levels,
            params: Vec::new(),
            numbers: Vec::new(),
            flags: Vec::new(),
            enums: Vec::new(),
            triggers: 1 + self.below(8),
        };
        for p in 0..self.below(6) {
            text += &format!("p{p} = {}\n", self.param());
            names.params.push(format!("p{p}"));
        }
        for a in 0..1 + self.below(2) {
            text += &format!("\n[actors.a{a}]\nname = \"A{a}\"\n");
            for v in 0..self.below(4) {
                let var = format!("a{a}.v{v}");
                match self.below(4) {
                    0 => {
                        text += &format!("v{v} = {}\n", self.chance(0.5));
                        names.flags.push(var);
                    }
                    1 => {
                        let count = 2 + self.below(4);
                        let list = (0..count).map(|k| format!("\"e{k}\"")).collect::<Vec<_>>();
                        text += &format!(
                            "v{v} = {{ levels = [{}], initial = \"e{}\" }}\n",
                            list.join(", "),
                            self.below(count)
                        );
                        names.enums.push((var, count));
                    }
                    2 => {
                        let initial = self.below(4);
                        text += &format!(
                            "v{v} = {{ initial = {initial}, min = 0, max = {} }}\n",
                            initial + self.below(6)
                        );
                        names.numbers.push(var);
                    }
                    _ => {
                        text += &format!("v{v} = {}\n", self.constant());
                        names.numbers.push(var);
                    }
                }
            }
        }
        for x in 0..names.triggers {
            text += &format!("\n[[triggers]]\nid = \"x{x}\"\nlabel = \"x{x}\"\nactor = \"a0\"\n");
            if self.chance(0.7) {
                text += &format!("when = \"{}\"\n", self.condition(&names, 2));
            }
            text += &format!("probability = \"{}\"\n", self.probability(&names));
            match self.below(4) {
                0 => {}
                1 => text += "repeat = true\n",
                2 => text += &format!("repeat = {}\n", 1 + self.below(4)),
                _ => text += "repeat = false\n",
            }
            if self.chance(0.4) {
                text += &format!("cooldown = {}\n", self.below(4));
            }
            match self.below(5) {
                0 => text += &format!("delay = {}\n", self.below(4)),
                1 => {
                    let lo = self.below(3);
                    text += &format!("delay = [{lo}, {}]\n", lo + 1 + self.below(5));
                }
                _ => {}
            }
            let effects: Vec<String> = (0..self.below(4))
                .map(|_| format!("\"{}\"", self.effect(&names)))
                .collect();
            text += &format!("effects = [{}]\n", effects.join(", "));
        }
        for o in 0..self.below(5) {
            text += &format!(
                "\n[[outcomes]]\nid = \"o{o}\"\nlabel = \"o{o}\"\nwhen = \"{}\"\n",
                self.condition(&names, 2)
            );
        }
        text
    }
}

#[test]
fn generated_scenarios_give_both_engines_the_same_tallies_and_errors() {
    let mut generator = Gen {
        rng: ChaCha8Rng::seed_from_u64(GENERATOR_SEED),
    };
    let cases = std::env::var("SIM_DIFFERENTIAL_CASES").map_or(CASES, |n| n.parse().expect("a number of cases"));
    let (mut failed, mut runs, mut kinds) = (0, 0, [0; 2]);
    for case in 0..cases {
        let text = generator.scenario();
        let model = try_model_of(&text)
            .unwrap_or_else(|e| panic!("case {case}: the generator wrote an invalid scenario: {e}\n{text}"));
        let seed = generator.rng.random_range(0..1000);
        let first = generator.rng.random_range(0..5000);
        // Mostly not multiples of 64; now and then crossing a 512-run chunk.
        let count = match generator.below(6) {
            0 => *generator.pick(&[1, 63, 64, 65, 127, 129]),
            1 => 500 + generator.below(100) as u64,
            _ => 1 + generator.below(200) as u64,
        };
        let result = std::panic::catch_unwind(|| agreed(&model, seed, first, count));
        match result {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => {
                failed += 1;
                kinds[usize::from(error.what.starts_with("an effect"))] += 1;
            }
            Err(panic) => {
                eprintln!("case {case}: seed {seed}, runs {first}..{}\n{text}", first + count);
                std::panic::resume_unwind(panic);
            }
        }
        runs += count;
    }
    eprintln!(
        "{cases} scenarios, {runs} runs, {failed} stopped on an error ({} probabilities, {} effects)",
        kinds[0], kinds[1]
    );
    // The cases must exercise both paths: runs that finish, and jobs that stop on an error of
    // either kind.
    assert!(
        failed > cases / 50 && failed < cases / 3,
        "{failed} of {cases} cases failed"
    );
    assert!(kinds.iter().all(|&n| n > 0), "errors: {kinds:?}");
    assert!(runs > 20_000, "{runs} runs");
}
