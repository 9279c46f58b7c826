//! The result digest depends on the scenario, seed and run count only: not on the thread count
//! (shard splits are covered in `shard`).

use crate::util::{read, sim, small_scenario};

#[test]
fn thread_count_does_not_change_results() {
    let dir = tempfile::tempdir().unwrap();
    let mut summaries = Vec::new();
    for threads in [1, 2, 8] {
        let out = dir.path().join(format!("threads-{threads}"));
        // 3000 runs: several chunks of parallel work, so threads really share them.
        sim()
            .arg("run")
            .arg(small_scenario())
            .args([
                "--runs",
                "3000",
                "--seed",
                "4",
                "--threads",
                &threads.to_string(),
                "--out",
            ])
            .arg(&out)
            .assert()
            .success();
        summaries.push((threads, read(&out.join("small/summary.json"))));
    }
    let digest = |text: &str| {
        let summary: serde_json::Value = serde_json::from_str(text).unwrap();
        summary["tallies_digest"].as_str().unwrap().to_string()
    };
    let (_, reference) = &summaries[0];
    for (threads, summary) in &summaries[1..] {
        assert_eq!(
            digest(summary),
            digest(reference),
            "--threads {threads} changed the tallies digest"
        );
        assert!(summary == reference, "--threads {threads} changed summary.json");
    }
}
