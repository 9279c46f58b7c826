use super::*;
use crate::aggregate::{paired_tables, summarize};
use crate::job::{Job, Study};
use crate::model::Model;

fn model_of(id: &str, p: f64, claims: &str) -> Model {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{id}.toml"));
    let text = format!(
        "[scenario]\nname = \"{id}\"\nsteps = 4\nstep_unit = \"month\"\n\
         [escalation]\nlevels = [\"calm\", \"tense\"]\ninitial = \"calm\"\n\
         [actors.a]\nname = \"A\"\n\
         [[triggers]]\nid = \"x\"\nlabel = \"x\"\nactor = \"a\"\nprobability = {p}\neffects = [\"escalation = 'tense'\"]\n\
         [[outcomes]]\nid = \"o\"\nlabel = \"x fired\"\nwhen = \"fired.x\"\n{claims}"
    );
    std::fs::write(&path, text).unwrap();
    crate::compile::compile(&crate::load::load(&path).unwrap()).unwrap()
}

/// The summaries of `models` simulated as one study (paired with the first when they can be).
fn summaries(models: &[&Model], runs: u64) -> Vec<Summary> {
    let study = Study {
        jobs: models.iter().map(|m| Job::new(m, Some(7), Some(runs))).collect(),
        baseline: 0,
    };
    let results = study.simulate(&|_| {}).unwrap();
    study
        .jobs
        .iter()
        .zip(&results)
        .map(|(job, r)| {
            let mut s = summarize(&job.model.info, &job.identity(), &r.results);
            s.paired = r.paired.as_ref().map(|p| paired_tables(&job.model.info, p, "base"));
            s
        })
        .collect()
}

fn claim(kind: ClaimKind, id: &str, step: usize, test: Test) -> Claim {
    Claim {
        kind,
        id: id.into(),
        step,
        test,
        note: None,
    }
}

#[test]
fn a_verdict_needs_the_whole_interval() {
    use Verdict::*;
    for (test, lo, hi, expected) in [
        (Test::Below(0.05), 0.01, 0.04, Pass),
        (Test::Below(0.05), 0.04, 0.06, Undecided),
        (Test::Below(0.05), 0.06, 0.07, Fail),
        (Test::Above(0.05), 0.06, 0.07, Pass),
        (Test::Above(0.05), 0.01, 0.04, Fail),
        (Test::Above(0.05), 0.05, 0.07, Undecided),
        (Test::Between(0.1, 0.3), 0.15, 0.25, Pass),
        (Test::Between(0.1, 0.3), 0.05, 0.15, Undecided),
        (Test::Between(0.1, 0.3), 0.31, 0.4, Fail),
        (Test::Between(0.1, 0.3), 0.01, 0.09, Fail),
        (
            Test::DifferenceAbove {
                than: "b".into(),
                by: 0.2,
            },
            0.21,
            0.3,
            Pass,
        ),
        (
            Test::DifferenceBelow {
                than: "b".into(),
                by: 0.0,
            },
            -0.1,
            0.01,
            Undecided,
        ),
        (
            Test::DifferenceBelow {
                than: "b".into(),
                by: 0.0,
            },
            0.01,
            0.1,
            Fail,
        ),
    ] {
        assert_eq!(verdict(&test, lo, hi), expected, "{test} on [{lo}, {hi}]");
    }
}

/// P(x fired by step 4) = 1 - 0.8^4 = 0.5904 in `base`, 1 - 0.7^4 = 0.7599 in `more`.
#[test]
fn claims_are_judged_by_their_intervals() {
    let base = model_of("base", 0.2, "");
    let more = model_of("more", 0.3, "");
    let all = summaries(&[&base, &more], 4_000);
    let judge_on = |c: &Claim, own: usize| judge(c, &all[own], &all).unwrap();
    let pass = judge_on(&claim(ClaimKind::Outcome, "o", 4, Test::Between(0.55, 0.63)), 0);
    assert_eq!(
        (pass.verdict, pass.interval, pass.runs),
        (Verdict::Pass, Interval::Wilson, 4_000)
    );
    assert!(pass.lo < 0.5904 && 0.5904 < pass.hi, "{pass:?}");
    let fail = judge_on(&claim(ClaimKind::Trigger, "x", 4, Test::Below(0.5)), 0);
    assert_eq!(fail.verdict, Verdict::Fail, "{fail:?}");
    // At step 1, P = 0.2: a bound right on it is undecided.
    let undecided = judge_on(&claim(ClaimKind::Rung, "tense", 1, Test::Above(0.2)), 0);
    assert_eq!(undecided.verdict, Verdict::Undecided, "{undecided:?}");

    // The difference, +0.1695, paired (the variant against its baseline, and the other way).
    let by = |than: &str, by: f64| Test::DifferenceAbove { than: than.into(), by };
    // A bound well below it: the paired interval is about ±0.011 wide at 4,000 runs.
    let paired = judge_on(&claim(ClaimKind::Outcome, "o", 4, by("base", 0.13)), 1);
    assert_eq!(
        (paired.verdict, paired.interval),
        (Verdict::Pass, Interval::Paired),
        "{paired:?}"
    );
    assert!(paired.lo < 0.1695 && 0.1695 < paired.hi, "{paired:?}");
    let seen_from_base = judge_on(&claim(ClaimKind::Outcome, "o", 4, by("more", -0.19)), 0);
    assert_eq!(seen_from_base.interval, Interval::Paired);
    assert!(
        (seen_from_base.estimate + paired.estimate).abs() < 1e-12
            && (seen_from_base.lo + paired.hi).abs() < 1e-12
            && (seen_from_base.hi + paired.lo).abs() < 1e-12,
        "{seen_from_base:?} is {paired:?} turned around"
    );

    // Without the paired counts: the same difference, a wider interval, and it says so.
    let mut unpaired_summaries = all.clone();
    unpaired_summaries[1].paired = None;
    let unpaired = judge(
        &claim(ClaimKind::Outcome, "o", 4, by("base", 0.15)),
        &unpaired_summaries[1],
        &unpaired_summaries,
    )
    .unwrap();
    assert_eq!(unpaired.interval, Interval::Unpaired);
    assert_eq!(unpaired.estimate, paired.estimate);
    assert!(
        unpaired.hi - unpaired.lo > paired.hi - paired.lo,
        "{unpaired:?} vs {paired:?}"
    );
}

#[test]
fn a_difference_needs_the_same_thing_in_the_other_scenario() {
    let base = model_of("base", 0.2, "");
    let other = model_of("other", 0.2, "");
    let mut info = other.info.clone();
    info.outcomes.clear();
    let c = claim(
        ClaimKind::Outcome,
        "o",
        4,
        Test::DifferenceBelow {
            than: "other".into(),
            by: 0.1,
        },
    );
    assert_eq!(comparable(&c, &base.info, &other.info), Ok(()));
    assert_eq!(
        comparable(&c, &base.info, &info),
        Err("`other` has no outcome `o`".to_string())
    );
}
