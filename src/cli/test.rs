//! `sim test`: the scenarios' `[[expect]]` claims judged on fresh runs.
//!
//! In: scenario files (a difference claim's `than` must be among them), the starting run count,
//! the cap. Out: one line per claim with its estimate and 95% interval, an optional JUnit XML
//! report (`--junit`), and the exit code: 0 when every claim passes, `exit::CLAIMS_FAILED` when
//! one fails, `exit::CLAIMS_UNDECIDED` when none fails but some stay undecided at the cap.
//!
//! Until the claims are decided: the scenarios some claim reads are simulated at the starting
//! run count (the file's `runs`, or `--runs`); while a claim is undecided, all of them are
//! simulated on to twice as many runs, at most `--max-runs`. Runs `0..2n` with one seed contain runs `0..n`, so only the new runs
//! are simulated and the result is the same as one run of `2n`: the rule is deterministic.
//! Looking at the data before deciding to stop biases the verdict slightly (an interval checked
//! up to five times covers a little less often than 95%); docs/ci.md says so.

use std::path::{Path, PathBuf};

use super::{Failure, ReportArgs, compile_all, exit, expand, note, simulate_study, summaries_of, thread_pool};
use crate::aggregate::Summary;
use crate::claims::{Interval, Judgement, Verdict, comparable, judge};
use crate::diagnostic::{Diagnostic, ScenarioError};
use crate::job::{Job, Study, StudyResults};
use crate::load::LoadedScenario;
use crate::model::{Claim, ClaimKind, Model, Test};
use crate::simulate::{Collector, PairCollector};

/// `--max-runs` when not given.
pub(super) const DEFAULT_MAX_RUNS: u64 = 160_000;

#[derive(clap::Args, Debug)]
pub(super) struct TestArgs {
    /// Scenario files or globs; a difference claim's `than` must be among them.
    #[arg(required = true)]
    files: Vec<String>,
    /// Runs to start with (default: each scenario's `runs`, else 10000).
    #[arg(long)]
    runs: Option<u64>,
    /// The most runs a scenario is simulated for while a claim is undecided (runs double
    /// until then).
    #[arg(long, default_value_t = DEFAULT_MAX_RUNS)]
    max_runs: u64,
    /// Seed (default: the scenario's `seed`, else 1).
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads, 1 to 256 (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// The scenario the others are simulated paired with (default: the scenario the others
    /// `extends`, when there is exactly one, else the first file).
    #[arg(long, value_name = "ID")]
    baseline: Option<String>,
    /// Also write the verdicts as JUnit XML to FILE (one test case per claim).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Also write what `sim run` writes (tables, charts, report) for the runs judged, into DIR,
    /// whatever the verdicts: a CI job keeps it when a claim fails.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print only failed and undecided claims, and errors.
    #[arg(long, short)]
    quiet: bool,
}

/// A claim and where it belongs.
struct Owned<'m> {
    /// Index of its scenario in the models.
    scenario: usize,
    /// Index of the scenario it compares with.
    than: Option<usize>,
    claim: &'m Claim,
}

pub(super) fn test(args: TestArgs) -> Result<(), Failure> {
    let files = expand(&args.files)?;
    let models = compile_all(&files)?;
    let usage = |message: String| Failure {
        message,
        code: exit::USAGE,
    };
    if args.runs == Some(0) || args.max_runs == 0 {
        return Err(usage("error: --runs and --max-runs must be at least 1".into()));
    }
    if let Some(runs) = args.runs.filter(|&r| r > args.max_runs) {
        return Err(usage(format!(
            "error: --runs {runs} is above --max-runs {}\n  = help: raise --max-runs, or start with fewer runs",
            args.max_runs
        )));
    }
    let claims = claims_of(&models)?;
    if claims.is_empty() {
        return Err(usage(
            "error: none of these scenarios has a claim to test\n  = help: add `[[expect]]` tables (docs/scenario-format.md, \"Claims\"), or give the files that have them".into(),
        ));
    }
    let junit = args.junit.as_deref().map(super::junit::JunitFile::check).transpose()?;
    let report = ReportArgs {
        baseline: args.baseline.clone(),
        quiet: args.quiet,
        ..ReportArgs::default()
    };
    let pool = thread_pool(args.threads)?;
    if let Some(out) = &args.out {
        crate::output::check_writable(out)?;
    }
    super::QUIET.store(args.quiet, std::sync::atomic::Ordering::Relaxed);

    // Only the scenarios some claim reads are simulated (and the baseline asked for).
    let mut involved = vec![false; models.len()];
    for c in &claims {
        involved[c.scenario] = true;
        if let Some(than) = c.than {
            involved[than] = true;
        }
    }
    let all: Vec<&crate::model::ScenarioInfo> = models.iter().map(|(_, m)| &m.info).collect();
    if args.baseline.is_some() {
        let (asked, _) = super::choose_baseline(&all, args.baseline.as_deref())?;
        involved[asked] = true;
    }
    let simulated: Vec<usize> = (0..models.len()).filter(|&i| involved[i]).collect();
    let infos: Vec<&crate::model::ScenarioInfo> = simulated.iter().map(|&i| all[i]).collect();
    let baseline_index = simulated[super::choose_baseline(&infos, args.baseline.as_deref())?.0];
    let baseline = models[baseline_index].1.info.id.clone();
    let mut targets: Vec<u64> = models
        .iter()
        .map(|(_, m)| args.runs.unwrap_or(m.default_runs).min(args.max_runs))
        .collect();
    let mut done = vec![0u64; models.len()];
    let mut counted: Vec<Option<StudyResults>> = vec![None; models.len()];
    let mut unpaired_why = None;
    let (summaries, judgements) = loop {
        // A scenario already at the cap (it started with more runs than the others) waits.
        let active: Vec<usize> = simulated.iter().copied().filter(|&i| done[i] < targets[i]).collect();
        let study = Study {
            jobs: active
                .iter()
                .map(|&i| Job::new(&models[i].1, args.seed, Some(targets[i])).with_block(done[i]..targets[i]))
                .collect(),
            baseline: active.iter().position(|&i| i == baseline_index).unwrap_or(0),
        };
        let with_baseline = active.contains(&baseline_index);
        if done.iter().all(|&d| d == 0) && study.jobs.len() > 1 {
            unpaired_why = study.unpairable();
            match &unpaired_why {
                Some(why) => note(&report, &format!("note: not paired with the baseline: {why}")),
                None => note(&report, &format!("paired with the baseline `{baseline}`")),
            }
        }
        let results = simulate_study(&study, &pool)?;
        for (&i, result) in active.iter().zip(results) {
            // Counts paired with another scenario than the baseline would be counts of nothing.
            let result = StudyResults {
                paired: result.paired.filter(|_| with_baseline),
                ..result
            };
            counted[i] = Some(match counted[i].take() {
                None => result,
                Some(mut sofar) => {
                    sofar.results.merge(result.results);
                    // Paired only if every round was (run counts at the cap may become equal).
                    sofar.paired = match (sofar.paired, result.paired) {
                        (Some(mut a), Some(b)) => {
                            a.merge(b);
                            Some(a)
                        }
                        _ => None,
                    };
                    sofar
                }
            });
            done[i] = targets[i];
        }
        let summaries = summaries_now(&models, &counted, &args, &baseline);
        let judgements = judge_all(&claims, &models, &summaries)?;
        let undecided = judgements.iter().filter(|j| j.verdict == Verdict::Undecided).count();
        if undecided == 0 || simulated.iter().all(|&i| targets[i] >= args.max_runs) {
            break (summaries, judgements);
        }
        // Every scenario goes on, not only the undecided claims' ones: a scenario that ran on
        // alone would no longer have the run count of the scenarios it is compared with.
        for target in &mut targets {
            *target = target.saturating_mul(2).min(args.max_runs);
        }
        note(
            &report,
            &format!(
                "{undecided} claim{} undecided: simulating on to {} runs",
                if undecided == 1 { "" } else { "s" },
                crate::format::thousands(simulated.iter().map(|&i| targets[i]).max().unwrap_or(0))
            ),
        );
    };
    let lines: Vec<Line> = claims
        .iter()
        .zip(&judgements)
        .map(|(c, j)| line(c, j, &models, &baseline, unpaired_why.as_deref()))
        .collect();
    let mut text = String::new();
    for l in lines.iter().filter(|l| !args.quiet || l.verdict != Verdict::Pass) {
        text.push_str(&l.text());
    }
    let count = |v: Verdict| lines.iter().filter(|l| l.verdict == v).count();
    let (passed, failed, undecided) = (count(Verdict::Pass), count(Verdict::Fail), count(Verdict::Undecided));
    text.push_str(&format!(
        "{} claim{}: {passed} passed, {failed} failed, {undecided} undecided\n",
        lines.len(),
        if lines.len() == 1 { "" } else { "s" }
    ));
    if let Some(junit) = junit {
        junit.write(&lines)?;
    }
    if let Some(out) = &args.out {
        let quietly = ReportArgs { quiet: true, ..report };
        let simulated: Vec<Summary> = summaries.into_iter().flatten().collect();
        super::write_results(&simulated, out, &quietly)?;
        if !args.quiet {
            eprintln!("wrote the outputs of these runs into {}", out.display());
        }
    }
    super::print_stdout(&text)?;
    match (failed, undecided) {
        (0, 0) => Ok(()),
        (0, _) => Err(Failure {
            message: format!(
                "error: {undecided} claim{} undecided at --max-runs {}: not a pass\n  = help: raise --max-runs, or move the claim's bound away from the estimate",
                if undecided == 1 { "" } else { "s" },
                args.max_runs
            ),
            code: exit::CLAIMS_UNDECIDED,
        }),
        _ => Err(Failure {
            message: format!("error: {failed} claim{} failed", if failed == 1 { "" } else { "s" }),
            code: exit::CLAIMS_FAILED,
        }),
    }
}

/// Every claim of every model, with `than` resolved among the files given: an unknown one is
/// reported at its `than`, and one the other scenario cannot answer by name.
fn claims_of(models: &[(PathBuf, Model)]) -> Result<Vec<Owned<'_>>, Failure> {
    let ids: Vec<&str> = models.iter().map(|(_, m)| m.info.id.as_str()).collect();
    let mut claims = Vec::new();
    let mut messages = Vec::new();
    for (scenario, (path, model)) in models.iter().enumerate() {
        if model
            .claims
            .iter()
            .any(|c| c.test.than().is_some_and(|t| !ids.contains(&t)))
        {
            messages.push(at_spans(path, |loaded| crate::compile::unknown_than(loaded, &ids)));
            continue;
        }
        let mut incomparable = Vec::new();
        for (k, claim) in model.claims.iter().enumerate() {
            let than = claim.test.than().and_then(|t| ids.iter().position(|id| *id == t));
            if let Some(t) = than
                && let Err(why) = comparable(claim, &model.info, &models[t].1.info)
            {
                incomparable.push((
                    k,
                    format!("the claim on {} `{}` cannot be judged: {why}", claim.kind, claim.id),
                ));
            }
            claims.push(Owned { scenario, than, claim });
        }
        if !incomparable.is_empty() {
            messages.push(at_spans(path, |loaded| {
                incomparable
                    .into_iter()
                    .map(|(k, why)| {
                        let d = match crate::compile::than_span(loaded, k) {
                            Some(span) => Diagnostic::new(why, span).label("compared with this"),
                            None => Diagnostic::without_span(why),
                        };
                        d.help("compare with a scenario that has it, or drop the claim")
                    })
                    .collect()
            }));
        }
    }
    if messages.is_empty() {
        Ok(claims)
    } else {
        Err(Failure {
            message: messages.join("\n\n"),
            code: exit::INVALID_SCENARIO,
        })
    }
}

/// Problems with the claims of the scenario at `path` that only `sim test` sees, rendered at
/// their file:line:column. The file compiled moments ago; it is read again only for the spans.
fn at_spans(path: &Path, problems: impl FnOnce(&LoadedScenario) -> Vec<Diagnostic>) -> String {
    match crate::load::load(path) {
        Ok(loaded) => {
            let error = ScenarioError {
                diagnostics: problems(&loaded),
                sources: loaded.sources,
            };
            format!("{error} {}", path.display())
        }
        Err(e) => format!("{e} {}", path.display()),
    }
}

/// The summaries of the scenarios counted so far (the others' are `None`).
fn summaries_now(
    models: &[(PathBuf, Model)],
    counted: &[Option<StudyResults>],
    args: &TestArgs,
    baseline: &str,
) -> Vec<Option<Summary>> {
    models
        .iter()
        .zip(counted)
        .map(|((_, model), counts)| {
            let counts = counts.as_ref()?;
            let job = Job::new(model, args.seed, Some(counts.results.tallies.runs));
            let study = crate::job::Study {
                jobs: vec![job],
                baseline: 0,
            };
            let mut summary = summaries_of(&study, std::slice::from_ref(counts)).remove(0);
            summary.paired = counts
                .paired
                .as_ref()
                .map(|p| crate::aggregate::paired_tables(&model.info, p, baseline));
            Some(summary)
        })
        .collect()
}

fn judge_all(
    claims: &[Owned],
    models: &[(PathBuf, Model)],
    summaries: &[Option<Summary>],
) -> Result<Vec<Judgement>, Failure> {
    let present: Vec<Summary> = summaries.iter().flatten().cloned().collect();
    claims
        .iter()
        .map(|c| {
            let own = summaries[c.scenario]
                .as_ref()
                .expect("every claim's scenario is simulated");
            judge(c.claim, own, &present).map_err(|why| {
                Failure::from(anyhow::anyhow!(
                    "{}: cannot judge a claim: {why}",
                    models[c.scenario].0.display()
                ))
            })
        })
        .collect()
}

/// One claim's verdict as printed and as written to JUnit.
pub(super) struct Line {
    pub verdict: Verdict,
    pub scenario: String,
    /// What was claimed: `P(outcome `regional_war` by 2028-05) below 0.05`.
    pub claim: String,
    /// What was found: `2.41% [2.20, 2.63], 20,000 runs`.
    pub found: String,
    pub note: Option<String>,
}

impl Line {
    fn text(&self) -> String {
        let verdict = match self.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Undecided => "undecided",
        };
        let mut text = format!("{verdict:<9}  {}: {}: {}\n", self.scenario, self.claim, self.found);
        if let (Some(note), false) = (&self.note, self.verdict == Verdict::Pass) {
            text.push_str(&format!("           why it should hold: {note}\n"));
        }
        text
    }
}

fn line(owned: &Owned, j: &Judgement, models: &[(PathBuf, Model)], baseline: &str, unpaired_why: Option<&str>) -> Line {
    let c = owned.claim;
    let info = &models[owned.scenario].1.info;
    let at = &info.step_labels[c.step];
    let what = match c.kind {
        ClaimKind::Outcome => format!("outcome `{}` by {at}", c.id),
        ClaimKind::Rung => format!("rung `{}` reached by {at}", c.id),
        ClaimKind::Trigger => format!("trigger `{}` fired by {at}", c.id),
    };
    // One decimal more than the tables print: a claim's bound is often finer than they are.
    let decimals = crate::aggregate::decimals_for(j.runs).saturating_sub(1);
    let runs = crate::format::thousands(j.runs);
    let (claim, found) = match &c.test {
        Test::DifferenceAbove { than, by } | Test::DifferenceBelow { than, by } => {
            let direction = if matches!(c.test, Test::DifferenceAbove { .. }) {
                "above"
            } else {
                "below"
            };
            let how = match j.interval {
                Interval::Paired => "paired".to_string(),
                _ => {
                    let why = match unpaired_why {
                        _ if baseline != info.id && baseline != than => {
                            format!("neither is the baseline `{baseline}` (choose it with --baseline)")
                        }
                        Some(why) => why.to_string(),
                        None => "their run counts differ".to_string(),
                    };
                    format!("unpaired: {why}")
                }
            };
            (
                format!("P({what}) - P(same in `{than}`) {direction} {}", signed_pp(*by)),
                format!(
                    "{} {} ({how}), {runs} runs",
                    crate::format::difference_pp(j.estimate, 0.0, decimals),
                    crate::format::difference_interval_pp(j.lo, j.hi, decimals)
                ),
            )
        }
        test => {
            let estimate = crate::aggregate::estimate(j.count, j.runs, decimals + 2);
            (
                format!("P({what}) {test}"),
                format!("{}, {runs} runs", crate::format::estimate_text(&estimate, decimals)),
            )
        }
    };
    Line {
        verdict: j.verdict,
        scenario: info.id.clone(),
        claim,
        found,
        note: c.note.clone(),
    }
}

/// A difference bound in percentage points: `+20 pp`, `0 pp`, `-5 pp`.
fn signed_pp(by: f64) -> String {
    let pp = 100.0 * by;
    let pp = if (pp - pp.round()).abs() < 1e-9 { pp.round() } else { pp };
    if pp > 0.0 {
        format!("+{pp} pp")
    } else {
        format!("{pp} pp")
    }
}
