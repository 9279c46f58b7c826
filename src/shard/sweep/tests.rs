//! Tests of `shard::sweep`: the split by runs, parts merged into the whole sweep's cells, and
//! every refusal of the merge.
use std::path::Path;

use super::*;
use crate::aggregate::summarize;
use crate::job::{Analysis, Job, Study};
use crate::model::Model;

fn scenario(p: f64) -> String {
    format!(
        r#"
[scenario]
id = "one"
name = "One trigger"
steps = 6
step_unit = "month"
runs = 100
seed = 5

[escalation]
levels = ["calm", "tense", "war"]
initial = "calm"

[params]
p = {p:?}

[actors.a]
name = "A"
struck = false

[[triggers]]
id = "strike"
label = "A strikes"
actor = "a"
probability = "p"
effects = ["a.struck = true", "escalation += 1"]

[[outcomes]]
id = "struck"
label = "A has struck"
when = "a.struck"
"#
    )
}

const VALUES: [f64; 3] = [0.05, 0.15, 0.25];
const RUNS: u64 = 150;

fn models() -> Vec<Model> {
    VALUES
        .iter()
        .map(|&p| {
            let loaded = crate::load::load_text(Path::new("one.toml"), scenario(p)).unwrap();
            crate::compile::compile(&loaded).unwrap()
        })
        .collect()
}

/// The cells of `block` of the sweep of `p` over [`VALUES`], as `sim sweep` counts them.
fn block_cells(models: &[Model], block: std::ops::Range<u64>) -> Vec<Cell> {
    let study = Study {
        jobs: models
            .iter()
            .map(|m| {
                Job::new(m, Some(5), Some(RUNS))
                    .with_analysis(Analysis::Off)
                    .with_block(block.clone())
            })
            .collect(),
        baseline: 0,
    };
    let results = study.simulate(&|_| {}).unwrap();
    let summaries: Vec<_> = study
        .jobs
        .iter()
        .zip(&results)
        .map(|(job, r)| summarize(&job.model.info, &job.identity(), &r.results))
        .collect();
    let axis = Axis {
        name: "p".into(),
        values: VALUES.to_vec(),
    };
    let points = crate::sweep::points("one.toml", "one", "One trigger", &[(axis, Target::Param)]);
    crate::sweep::cells(&points, &summaries)
}

fn part(models: &[Model], shard: Shard, seed: u64) -> SweepPart {
    let axis = Axis {
        name: "p".into(),
        values: VALUES.to_vec(),
    };
    let digests: Vec<&str> = models.iter().map(|m| m.scenario_digest.as_str()).collect();
    let definition = SweepDefinition {
        info: &models[0].info,
        scenario_digest: &models[0].scenario_digest,
        point_digests: &digests,
        axes: vec![PartAxis::new(&axis, Target::Param)],
        thresholds: &[0.25],
        seed,
        runs: RUNS,
    };
    SweepPart::new(definition, shard, &block_cells(models, shard.runs(RUNS)))
}

fn parts(models: &[Model], n: u64) -> Vec<(String, SweepPart)> {
    (0..n)
        .map(|k| {
            let part = part(models, Shard::new(k, n).unwrap(), 5);
            // Through the file format, as `sim merge` reads it.
            let read: SweepPart = serde_json::from_str(&part_json(&part)).unwrap();
            (part.file_name(), read)
        })
        .collect()
}

#[test]
fn blocks_of_runs_at_every_point_merge_into_the_whole_sweep_for_any_shard_count() {
    let models = models();
    let whole = block_cells(&models, 0..RUNS);
    assert!(whole.iter().any(|c| c.count > 0), "{whole:?}");
    // More shards than runs: the last ones simulate no run and still write a valid part.
    for n in [1, 2, 3, 7, RUNS + 3] {
        let parts = parts(&models, n);
        let empty: Vec<&SweepPart> = parts
            .iter()
            .map(|(_, p)| p)
            .filter(|p| p.first_run == p.end_run)
            .collect();
        assert_eq!(empty.len() as u64, n.saturating_sub(RUNS), "{n} shards");
        assert!(empty.iter().all(|p| p.cells.iter().all(|c| c.count == 0)));
        let merged = merge(parts).unwrap_or_else(|e| panic!("{n} shards: {e}"));
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].cells, whole, "{n} shards");
        assert_eq!((merged[0].seed, merged[0].runs), (5, RUNS));
        assert_eq!(merged[0].thresholds, [0.25]);
        assert_eq!(merged[0].axes, [("p".to_string(), VALUES.to_vec())]);
    }
}

fn refusal(parts: Vec<(String, SweepPart)>) -> String {
    merge(parts).unwrap_err().to_string()
}

#[test]
fn missing_duplicated_and_foreign_parts_are_refused_by_name() {
    let models = models();
    let mut three = parts(&models, 3);
    let second = three.remove(1);
    let message = refusal(three.clone());
    assert!(
        message.contains("shard 1/3 of the sweep of `one` is missing (runs 50..100 of 150, seed 5)")
            && message.contains(
                "sim sweep <scenario> --param p=0.05..0.25:3 --threshold 0.25 --runs 150 --seed 5 --shard 1/3"
            ),
        "{message}"
    );

    let mut twice = three.clone();
    twice.push(second.clone());
    twice.push(("copy.json".into(), second.1.clone()));
    let message = refusal(twice);
    assert!(
        message.contains("shard 1/3 of the sweep of `one` is given 2 times"),
        "{message}"
    );

    let mut foreign = three.clone();
    foreign.push(("other-seed.json".into(), part(&models, Shard::new(1, 3).unwrap(), 6)));
    let message = refusal(foreign);
    assert!(
        message.contains("other-seed.json: shard 1/3 of the sweep of `one` (runs 50..100) does not belong")
            && message.contains("seed is 6 here but 5 in"),
        "{message}"
    );
}

#[test]
fn a_sweep_of_other_values_thresholds_or_scenario_is_foreign() {
    let models = models();
    let reference = parts(&models, 2);
    let edit = |change: &dyn Fn(&mut SweepPart)| {
        let mut part = reference[1].1.clone();
        change(&mut part);
        part.definition_digest = part.own_definition_digest();
        refusal(vec![reference[0].clone(), ("edited.json".into(), part)])
    };
    let message = edit(&|p| p.thresholds = vec![0.5]);
    assert!(message.contains("thresholds is [0.5] here but [0.25]"), "{message}");
    let message = edit(&|p| {
        p.runs = 300;
        (p.first_run, p.end_run) = (150, 300);
    });
    assert!(message.contains("runs is 300 here but 150"), "{message}");
    let message = edit(&|p| p.scenario_digest = "x".into());
    assert!(
        message.contains("the scenario was changed between the shards"),
        "{message}"
    );
    let message = edit(&|p| {
        p.axes[0].values[2] = 0.3;
        for c in p.cells.iter_mut().filter(|c| c.values == [0.25]) {
            c.values = vec![0.3];
        }
        p.counts_digest = digest_of(&p.cells);
    });
    assert!(
        message.contains("params is \"p=0.05..0.3:3\" here but \"p=0.05..0.25:3\""),
        "{message}"
    );
}

#[test]
fn a_damaged_or_edited_part_is_refused() {
    let models = models();
    let reference = parts(&models, 2);
    let edited = |change: &dyn Fn(&mut SweepPart)| {
        let mut part = reference[1].1.clone();
        change(&mut part);
        refusal(vec![reference[0].clone(), ("edited.json".into(), part)])
    };
    let message = edited(&|p| p.cells[0].count += 1);
    assert!(
        message.contains("edited.json: its counts do not match their digest"),
        "{message}"
    );
    let message = edited(&|p| p.seed = 9);
    assert!(message.contains("its definition"), "{message}");
    let message = edited(&|p| p.scenario.name = "Renamed".into());
    assert!(message.contains("its scenario block does not match"), "{message}");
    let message = edited(&|p| p.end_run += 1);
    assert!(message.contains("it covers runs 75..151"), "{message}");
    let message = edited(&|p| {
        p.cells[0].count = 1000;
        p.counts_digest = digest_of(&p.cells);
    });
    assert!(message.contains("more than its 75 runs"), "{message}");
    let message = edited(&|p| {
        p.cells.pop();
        p.counts_digest = digest_of(&p.cells);
    });
    assert!(message.contains("its cells are not one per point"), "{message}");
    let message = edited(&|p| {
        p.cells[0].label = "Other".into();
        p.counts_digest = digest_of(&p.cells);
    });
    assert!(message.contains("labels its outcomes or rungs otherwise"), "{message}");
}

#[test]
fn part_files_are_named_apart_from_those_of_sim_run() {
    let models = models();
    let part = part(&models, Shard::new(2, 4).unwrap(), 5);
    assert_eq!(part.file_name(), "one.sweep.shard-2-of-4.json");
    assert_ne!(part.file_name(), Shard::new(2, 4).unwrap().file_name("one"));
}
