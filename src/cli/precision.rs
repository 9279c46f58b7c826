//! `sim run --precision`: the target checked against the scenarios before anything is
//! simulated; the study simulated to it with a progress bar; where it stopped, said once.

use std::path::PathBuf;

use super::{Failure, ReportArgs, RunArgs, exit, note, progress_bar, simd_of_environment};
use crate::aggregate::Stopping;
use crate::job::{Job, Study, StudyResults};
use crate::model::Model;
use crate::precision::Target;

/// The `--precision` target, checked before anything is simulated.
pub(super) fn target(args: &RunArgs, models: &[(PathBuf, Model)]) -> Result<Option<Target>, Failure> {
    let Some(half_width) = args.precision else {
        return Ok(None);
    };
    let target = Target {
        half_width,
        on: args.precision_on.clone(),
        min_runs: args.min_runs,
        max_runs: args.max_runs,
    };
    let usage = |message: String| Failure {
        message,
        code: exit::USAGE,
    };
    target.check().map_err(|why| usage(format!("error: {why}")))?;
    let infos: Vec<&crate::model::ScenarioInfo> = models.iter().map(|(_, m)| &m.info).collect();
    if let Some((id, closest)) = target.unknown_ids(&infos).into_iter().next() {
        let help = match closest {
            Some(closest) => format!("did you mean `{closest}`?"),
            None => "name an outcome id or a rung of the ladder".into(),
        };
        return Err(usage(format!(
            "error: --precision-on `{id}` is no outcome or rung of the scenarios given\n  = help: {help}"
        )));
    }
    Ok(Some(target))
}

/// `precision::simulate` on `pool`, with a progress bar that grows with each checkpoint.
pub(super) fn simulate<'m>(
    study: &Study<'m>,
    target: &Target,
    pool: &rayon::ThreadPool,
) -> Result<(Study<'m>, Vec<StudyResults>, Stopping), Failure> {
    let simd = simd_of_environment()?;
    let study = Study {
        jobs: study.jobs.iter().map(|job| Job { simd, ..job.clone() }).collect(),
        baseline: study.baseline,
    };
    let scenarios = if study.paired() { 1 } else { study.jobs.len() as u64 };
    let bar = progress_bar(&study, target.max_runs.saturating_mul(scenarios));
    let finished = pool
        .install(|| crate::precision::simulate(&study, target, &|n| bar.inc(n)))
        .map_err(|e| Failure {
            message: format!("error: {e}"),
            code: exit::SIMULATION,
        })?;
    bar.finish_and_clear();
    Ok(finished)
}

/// One line on where `--precision` stopped, and a warning when it stopped short of the target.
pub(super) fn report(stopping: &Stopping, report: &ReportArgs) {
    let widest = &stopping.widest;
    let pp = |x: f64| format!("±{:.2} pp", x * 100.0);
    let runs = crate::format::thousands(*stopping.checkpoints.last().expect("one checkpoint at least"));
    if stopping.reached {
        note(
            report,
            &format!(
                "stopped at {runs} runs: every headline interval is within {} (widest: `{}` of `{}`, {})",
                pp(stopping.half_width),
                widest.id,
                widest.scenario,
                pp(widest.half_width)
            ),
        );
    } else {
        // A warning, not a note: the numbers are less precise than asked, even with --quiet.
        eprintln!(
            "warning: --precision {} not reached by --max-runs {runs}: `{}` of `{}` is still {}\n  = help: raise --max-runs, or name the outcomes that matter with --precision-on",
            stopping.half_width,
            widest.id,
            widest.scenario,
            pp(widest.half_width)
        );
    }
}
