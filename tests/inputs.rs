//! Hostile input files: only regular files of bounded size are read (scenarios, the bases they
//! extend, summaries and partial results), and whatever is read back from JSON is checked
//! before use. Each case ends with a message and a documented exit code, never a panic, a hang
//! or a runaway read.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::util::{Workspace, read, sim, small_scenario};

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo failed");
}

/// `sim check FILE`, stopped after 30 s (a FIFO would otherwise block forever).
fn check(file: &Path) -> assert_cmd::assert::Assert {
    sim().arg("check").arg(file).timeout(Duration::from_secs(30)).assert()
}

#[test]
fn only_regular_scenario_files_of_at_most_1_mib_are_read() {
    let ws = Workspace::new();
    let fifo = ws.path().join("fifo.toml");
    mkfifo(&fifo);
    // Past the cap by a comment: a valid scenario otherwise.
    let huge = ws.file(
        "huge.toml",
        &format!("{}\n#{}\n", read(&small_scenario()), "x".repeat(1 << 20)),
    );
    for (file, why) in [
        (PathBuf::from("/dev/zero"), "not a regular file"),
        (fifo, "not a regular file"),
        (ws.path().to_path_buf(), "is a directory"),
        (huge, "larger than the limit of 1 MiB"),
    ] {
        check(&file)
            .code(5)
            .stderr(predicates::str::contains(format!("cannot read {}: ", file.display())))
            .stderr(predicates::str::contains(why));
    }
    // Exactly at the cap is still read.
    let text = read(&small_scenario());
    let padding = (1 << 20) - text.len() - 2;
    let at_cap = ws.file("at_cap.toml", &format!("{text}#{}\n", "x".repeat(padding)));
    assert_eq!(std::fs::metadata(&at_cap).unwrap().len(), 1 << 20);
    check(&at_cap).code(0);
}

/// A variant of the small scenario whose `extends` is `base`, written as `variant.toml`.
fn variant(ws: &Workspace, base: &str) -> PathBuf {
    ws.file(
        "variant.toml",
        &format!("extends = \"{base}\"\n\n[scenario]\nid = \"variant\"\n"),
    )
}

#[test]
fn extends_follows_only_regular_toml_files() {
    let ws = Workspace::new();
    std::fs::create_dir(ws.path().join("folder.toml")).unwrap();
    std::os::unix::fs::symlink(ws.path().join("loop_b.toml"), ws.path().join("loop_a.toml")).unwrap();
    std::os::unix::fs::symlink(ws.path().join("loop_a.toml"), ws.path().join("loop_b.toml")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", ws.path().join("passwd.toml")).unwrap();
    mkfifo(&ws.path().join("fifo.toml"));
    ws.file("big.toml", &"#\n".repeat(1 << 20));
    for (base, message, label) in [
        (
            "/etc/passwd",
            "the base scenario /etc/passwd is not a .toml file",
            "not a .toml file",
        ),
        (
            "passwd.toml",
            "the base scenario /etc/passwd is not a .toml file",
            "not a .toml file",
        ),
        ("folder.toml", "it is a directory, not a file", "a directory"),
        ("loop_a.toml", "its symbolic links form a loop", "a symlink loop"),
        ("fifo.toml", "it is not a regular file", "unreadable"),
        ("big.toml", "larger than the limit of 1 MiB", "too large"),
        ("absent.toml", "does not exist", "no such file"),
    ] {
        let file = variant(&ws, base);
        let assert = check(&file).code(1);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(stderr.contains(message), "{base}: {stderr}");
        assert!(stderr.contains(&format!("^ {label}")), "{base}: {stderr}");
        assert!(stderr.contains("variant.toml:1:11"), "{base}: {stderr}");
        // Nothing of the file is echoed.
        assert!(!stderr.contains("root:"), "{base}: {stderr}");
    }
    // A regular .toml base is followed, through a symlink too.
    std::fs::copy(small_scenario(), ws.path().join("small.toml")).unwrap();
    std::os::unix::fs::symlink(ws.path().join("small.toml"), ws.path().join("linked.toml")).unwrap();
    check(&variant(&ws, "linked.toml")).code(0);
}

/// Runs the small scenario into `out` and returns its summary.json as JSON.
fn summary_json(out: &Path) -> serde_json::Value {
    sim()
        .arg("run")
        .arg(small_scenario())
        .args(["--runs", "200", "--seed", "3", "--out"])
        .arg(out)
        .assert()
        .success();
    serde_json::from_str(&read(&out.join("small/summary.json"))).unwrap()
}

#[test]
fn tampered_summaries_are_refused_by_compare_and_expect() {
    let ws = Workspace::new();
    let good = summary_json(&ws.out());
    type Tamper = fn(&mut serde_json::Value);
    let cases: [(&str, Tamper); 7] = [
        ("`decimals` is 1000000", |s| s["decimals"] = 1_000_000.into()),
        ("`runs` is 0", |s| s["runs"] = 0.into()),
        ("`scenario.initial_level` is 99", |s| {
            s["scenario"]["initial_level"] = 99.into()
        }),
        ("`scenario.step_labels` has 3 entries", |s| {
            s["scenario"]["step_labels"].as_array_mut().unwrap().truncate(3)
        }),
        ("has count 5000 of 200 runs", |s| {
            s["tables"]["outcome_by"][0]["points"][4]["count"] = 5000.into()
        }),
        ("points instead of 13", |s| {
            s["tables"]["rung_reached"][0]["points"].as_array_mut().unwrap().pop();
        }),
        ("`scenario.id` \"../../etc\"", |s| {
            s["scenario"]["id"] = "../../etc".into()
        }),
    ];
    for (why, tamper) in cases {
        let mut tampered = good.clone();
        tamper(&mut tampered);
        let path = ws.path().join("tampered.json");
        std::fs::write(&path, serde_json::to_string(&tampered).unwrap()).unwrap();
        let compared = ws.path().join("compared");
        sim()
            .arg("compare")
            .arg(ws.out().join("small"))
            .arg(&path)
            .arg("--out")
            .arg(&compared)
            .assert()
            .code(5)
            .stderr(predicates::str::contains("is not a valid sim summary"))
            .stderr(predicates::str::contains(why));
        assert!(!compared.exists(), "{why}: compare wrote output");
        sim()
            .arg("run")
            .arg(small_scenario())
            .arg("--expect")
            .arg(&path)
            .arg("--out")
            .arg(ws.path().join("expected"))
            .assert()
            .code(5)
            .stderr(predicates::str::contains(why));
    }
    // Not a regular file, or too large: refused before reading.
    sim()
        .args(["compare", "/dev/zero"])
        .arg(ws.out().join("small"))
        .timeout(Duration::from_secs(30))
        .assert()
        .code(5)
        .stderr(predicates::str::contains("not a regular file"));
}

#[test]
fn forged_partial_results_are_refused() {
    let ws = Workspace::new();
    let parts = ws.path().join("parts");
    sim()
        .arg("run")
        .arg(small_scenario())
        .args(["--runs", "100", "--shard", "0/1", "--out"])
        .arg(&parts)
        .assert()
        .success();
    let path = parts.join("small.shard-0-of-1.json");
    let mut part: serde_json::Value = serde_json::from_str(&read(&path)).unwrap();
    // More runs at a level than there are runs, with the digest made to match.
    part["tallies"]["level_at"][0] = 1_000_000.into();
    let tallies: sim::tally::Tallies = serde_json::from_value(part["tallies"].clone()).unwrap();
    part["tallies_digest"] = tallies.digest().into();
    std::fs::write(&path, serde_json::to_string(&part).unwrap()).unwrap();
    sim()
        .arg("merge")
        .arg(&path)
        .arg("--out")
        .arg(ws.out())
        .assert()
        .code(6)
        .stderr(predicates::str::contains(
            "`level_at` at step 0 do not add up to its 100 runs",
        ));
    assert!(!ws.out().exists(), "a refused merge wrote output");
}
