//! Tests of `shard`: shard arithmetic, the scheduler's environment, part files and the checked merge.
use super::*;

#[test]
fn blocks_cover_every_run_once_and_differ_by_at_most_one() {
    for total in [0, 1, 7, 10, 1000, 1234] {
        for count in [1, 2, 3, 7, 16] {
            let blocks: Vec<Range<u64>> = (0..count).map(|k| Shard::new(k, count).unwrap().runs(total)).collect();
            assert_eq!(blocks[0].start, 0);
            assert_eq!(blocks.last().unwrap().end, total);
            for pair in blocks.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
            }
            let sizes: Vec<u64> = blocks.iter().map(|b| b.end - b.start).collect();
            assert!(
                sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
                "{sizes:?}"
            );
        }
    }
    assert_eq!(Shard::new(2, 4).unwrap().runs(10_000), 5000..7500);
    // No overflow near the top of u64.
    assert_eq!(Shard::new(1, 2).unwrap().runs(u64::MAX).end, u64::MAX);
}

#[test]
fn parses_shards_and_refuses_bad_ones() {
    assert_eq!("0/4".parse::<Shard>().unwrap(), Shard::new(0, 4).unwrap());
    assert_eq!("auto".parse::<ShardRequest>().unwrap(), ShardRequest::Auto);
    assert!(
        "4/4"
            .parse::<Shard>()
            .unwrap_err()
            .to_string()
            .contains("0-based, 0 to 3")
    );
    assert!("1/0".parse::<Shard>().unwrap_err().to_string().contains("at least 1"));
    assert!("3".parse::<Shard>().unwrap_err().to_string().contains("write K/N"));
    assert_eq!(
        Shard::new(2, 4).unwrap().file_name("baseline"),
        "baseline.shard-2-of-4.json"
    );
}

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

#[test]
fn reads_slurm_arrays_relative_to_their_first_task() {
    let slurm = env(&[
        ("SLURM_ARRAY_TASK_ID", "7"),
        ("SLURM_ARRAY_TASK_MIN", "5"),
        ("SLURM_ARRAY_TASK_COUNT", "4"),
    ]);
    assert_eq!(from_scheduler(&slurm, None).unwrap(), Shard::new(2, 4).unwrap());
    assert!(
        from_scheduler(&slurm, Some(3))
            .unwrap_err()
            .to_string()
            .contains("disagrees")
    );
    let stepped = env(&[
        ("SLURM_ARRAY_TASK_ID", "2"),
        ("SLURM_ARRAY_TASK_COUNT", "4"),
        ("SLURM_ARRAY_TASK_STEP", "2"),
    ]);
    assert!(
        from_scheduler(stepped, None)
            .unwrap_err()
            .to_string()
            .contains("contiguous")
    );
    let rerun = env(&[
        ("SLURM_ARRAY_TASK_ID", "3"),
        ("SLURM_ARRAY_TASK_MIN", "3"),
        ("SLURM_ARRAY_TASK_COUNT", "1"),
    ]);
    assert!(
        from_scheduler(rerun, None)
            .unwrap_err()
            .to_string()
            .contains("--shard 3/N")
    );
    let single = env(&[
        ("SLURM_ARRAY_TASK_ID", "0"),
        ("SLURM_ARRAY_TASK_MIN", "0"),
        ("SLURM_ARRAY_TASK_COUNT", "1"),
    ]);
    assert_eq!(from_scheduler(single, None).unwrap(), Shard::new(0, 1).unwrap());
    let gap = env(&[("SLURM_ARRAY_TASK_ID", "9"), ("SLURM_ARRAY_TASK_COUNT", "3")]);
    assert!(
        from_scheduler(gap, None)
            .unwrap_err()
            .to_string()
            .contains("--array=0-2")
    );
}

#[test]
fn reads_kubernetes_index_with_count_from_flag_or_variable() {
    let k8s = env(&[("JOB_COMPLETION_INDEX", "3"), (SHARD_COUNT_VAR, "8")]);
    assert_eq!(from_scheduler(&k8s, None).unwrap(), Shard::new(3, 8).unwrap());
    assert_eq!(from_scheduler(&k8s, Some(5)).unwrap(), Shard::new(3, 5).unwrap());
    let no_count = env(&[("JOB_COMPLETION_INDEX", "3")]);
    assert!(
        from_scheduler(no_count, None)
            .unwrap_err()
            .to_string()
            .contains("--shard-count")
    );
    assert!(
        from_scheduler(env(&[]), None)
            .unwrap_err()
            .to_string()
            .contains("no scheduler")
    );
}

fn info() -> ScenarioInfo {
    ScenarioInfo {
        id: "tiny".into(),
        name: "Tiny".into(),
        description: String::new(),
        steps: 1,
        step_unit: "month".into(),
        start: None,
        step_labels: vec!["month 0".into(), "month 1".into()],
        levels: vec!["calm".into(), "crisis".into()],
        initial_level: 0,
        params: vec![],
        actors: vec![],
        triggers: vec![],
        outcomes: vec![],
        variant: None,
    }
}

/// A partial whose tallies put every run at level 0 at step 0 and level 1 at step 1.
fn part(index: u64, count: u64, total: u64, seed: u64) -> (String, Partial) {
    let shard = Shard::new(index, count).unwrap();
    let info = info();
    let shape = Shape {
        steps: 1,
        levels: 2,
        outcomes: 0,
        triggers: 0,
    };
    let mut tallies = Tallies::zero(shape);
    let runs = shard.runs(total);
    tallies.runs = runs.end - runs.start;
    tallies.level_at = vec![tallies.runs, 0, 0, tallies.runs];
    tallies.max_level_at = tallies.level_at.clone();
    let identity = RunIdentity {
        seed,
        scenario_digest: "d".into(),
    };
    let name = shard.file_name("tiny");
    (
        name,
        Partial::new(&info, &identity, total, shard, Results::of_tallies(tallies), None),
    )
}

#[test]
fn merges_complete_parts_in_any_order() {
    let merged = merge(vec![part(2, 3, 10, 1), part(0, 3, 10, 1), part(1, 3, 10, 1)]).unwrap();
    assert_eq!(merged.len(), 1);
    assert_eq!(merged[0].results.tallies.runs, 10);
    assert_eq!(merged[0].results.tallies.level_at, vec![10, 0, 0, 10]);
    assert_eq!(merged[0].seed, 1);
}

#[test]
fn names_missing_duplicated_and_foreign_parts() {
    let missing = merge(vec![
        part(0, 4, 10_000, 1),
        part(1, 4, 10_000, 1),
        part(3, 4, 10_000, 1),
    ])
    .unwrap_err();
    assert_eq!(missing.problems.len(), 1, "{missing}");
    assert!(
        missing.problems[0].contains("shard 2/4 of `tiny` is missing (runs 5000..7500"),
        "{missing}"
    );

    let duplicated = merge(vec![part(0, 2, 10, 1), part(1, 2, 10, 1), part(1, 2, 10, 1)]).unwrap_err();
    assert!(
        duplicated.to_string().contains("shard 1/2 of `tiny` is given 2 times"),
        "{duplicated}"
    );

    let (name, foreign) = part(1, 3, 10, 9);
    let foreign = (format!("other-{name}"), foreign);
    let refused = merge(vec![part(0, 3, 10, 1), foreign, part(2, 3, 10, 1)]).unwrap_err();
    let text = refused.to_string();
    assert!(text.contains("other-tiny.shard-1-of-3.json: shard 1/3"), "{text}");
    assert!(
        text.contains("seed is 9 here but 1 in tiny.shard-0-of-3.json"),
        "{text}"
    );
    assert!(text.contains("shard 1/3 of `tiny` is missing"), "{text}");
}

#[test]
fn refuses_damaged_parts() {
    let (name, mut damaged) = part(0, 1, 10, 1);
    damaged.tallies.level_at[0] -= 1;
    let text = merge(vec![(name, damaged.clone())]).unwrap_err().to_string();
    assert!(text.contains("do not match their digest"), "{text}");
    // Edited with its digest recomputed: counts no run could produce are still refused.
    damaged.tallies_digest = damaged.tallies.digest();
    let text = merge(vec![("forged".into(), damaged.clone())]).unwrap_err().to_string();
    assert!(
        text.contains("forged: its tallies `level_at` at step 0 do not add up to its 10 runs"),
        "{text}"
    );
    damaged.tallies.level_at[0] += 1;
    damaged.tallies.max_level_at[3] += 100;
    damaged.tallies_digest = damaged.tallies.digest();
    let text = merge(vec![("forged".into(), damaged)]).unwrap_err().to_string();
    assert!(text.contains("`max_level_at` at step 1 do not add up"), "{text}");

    // An unsafe id cannot be held by a `Partial`: a file with one is refused when read.
    let (_, good) = part(0, 1, 10, 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.shard-0-of-1.json");
    std::fs::write(&path, partial_json(&good).replace("\"tiny\"", "\"../elsewhere\"")).unwrap();
    let text = format!("{:#}", read_partial(&path).unwrap_err());
    assert!(
        text.contains("is a damaged partial result: `../elsewhere` is not a valid scenario id: use lowercase"),
        "{text}"
    );
    let (name, mut other_id) = part(0, 1, 10, 1);
    other_id.scenario.id = "elsewhere".into();
    let text = merge(vec![(name, other_id)]).unwrap_err().to_string();
    assert!(text.contains("not a valid scenario id"), "{text}");

    let (name, mut wrong_range) = part(0, 2, 10, 1);
    wrong_range.end_run = 6;
    let text = merge(vec![(name, wrong_range)]).unwrap_err().to_string();
    assert!(
        text.contains("covers runs 0..6, but shard 0/2 of 10 runs is runs 0..5"),
        "{text}"
    );
}

#[test]
fn refuses_an_edited_or_differing_scenario_block() {
    // Edited without its digest: the part names itself as damaged.
    for edited in 0..2 {
        let mut parts = vec![part(0, 2, 10, 1), part(1, 2, 10, 1)];
        parts[edited].1.scenario.levels.reverse();
        let text = merge(parts).unwrap_err().to_string();
        assert!(
            text.contains(&format!(
                "tiny.shard-{edited}-of-2.json: its scenario block does not match its digest"
            )),
            "{text}"
        );
    }
    // Edited with a recomputed digest: the parts still do not agree.
    let mut parts = vec![part(0, 2, 10, 1), part(1, 2, 10, 1)];
    parts[1].1.scenario.name = "Renamed".into();
    parts[1].1.scenario_block_digest = scenario_block_digest(&parts[1].1.scenario);
    let text = merge(parts).unwrap_err().to_string();
    assert!(
        text.contains("tiny.shard-1-of-2.json: shard 1/2 of `tiny` (runs 5..10) does not belong")
            && text.contains("its scenario block differs"),
        "{text}"
    );
}
