//! Atomic file output: bytes in, a file that is either complete or absent out.
//!
//! Every file `sim` writes goes through [`write_atomic`]: the bytes go to a temporary file in the
//! destination directory, which is synced and then renamed over the destination. A reader (or a
//! second `sim` writing the same directory) sees the old file or the new one, never a mix, and an
//! interrupted run leaves no half-written file behind.
//!
//! A scenario's files are written together into a [`Staging`] directory that replaces
//! `out/<id>` in one rename, so `out/<id>` always holds one run's complete set of files, even
//! when two runs write into the same output directory at once. Paths being written are
//! registered so that Ctrl-C can remove them ([`remove_unfinished`]) before the process exits.
//! Every step that creates, renames or removes such a path runs under the same lock as
//! [`remove_unfinished`], so Ctrl-C cannot slip in between creating a file and registering it.
//!
//! [`check_scenario_id`] is the one rule for scenario ids: they name directories here, so they
//! never leave the output directory nor take a name `sim` writes itself (`compare`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};

/// Writes `bytes` to `path` atomically, creating parent directories as needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = exclusive(|unfinished| -> Result<tempfile::NamedTempFile> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create directory {}", dir.display()))?;
        let file = temporary(0o666)
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
        unfinished.push(file.path().to_path_buf());
        Ok(file)
    })?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()));
    exclusive(move |unfinished| {
        unfinished.retain(|p| p != file.path());
        // On failure `file` is dropped, and so deleted, while the lock is still held.
        written.and_then(|()| {
            file.persist(path)
                .map(drop)
                .with_context(|| format!("cannot move the finished file to {}", path.display()))
        })
    })
}

/// A builder of temporary files or directories, created with `mode` less the umask as
/// `std::fs` would, not with tempfile's owner-only default: outputs are shared (with a merge
/// step running as another user, a web server, colleagues).
fn temporary(#[cfg_attr(not(unix), allow(unused_variables))] mode: u32) -> tempfile::Builder<'static, 'static> {
    let mut builder = tempfile::Builder::new();
    // A leading dot keeps half-written files out of globs such as `output/*/summary.json`.
    builder.prefix(".sim-tmp-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    builder
}

/// Paths being written, and whether the process is exiting after Ctrl-C.
struct Unfinished {
    paths: Vec<PathBuf>,
    exiting: bool,
}

static UNFINISHED: Mutex<Unfinished> = Mutex::new(Unfinished {
    paths: Vec::new(),
    exiting: false,
});

fn lock_unfinished() -> std::sync::MutexGuard<'static, Unfinished> {
    UNFINISHED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs a step that creates, renames or removes output paths, never at the same time as
/// [`remove_unfinished`]: the step registers what it leaves unfinished before Ctrl-C can look,
/// and once Ctrl-C has cleaned up no step starts any more (the thread waits for the exit).
fn exclusive<T>(step: impl FnOnce(&mut Vec<PathBuf>) -> T) -> T {
    let mut unfinished = lock_unfinished();
    if unfinished.exiting {
        drop(unfinished);
        loop {
            std::thread::park();
        }
    }
    step(&mut unfinished.paths)
}

/// Removes every file and staging directory still being written, and stops all further
/// writing: any later write blocks forever. Called from the Ctrl-C handler right before the
/// process exits, so that an interrupted run leaves nothing half-written behind.
pub fn remove_unfinished() {
    let mut unfinished = lock_unfinished();
    unfinished.exiting = true;
    for path in std::mem::take(&mut unfinished.paths) {
        let _ = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
    }
}

/// A directory being filled, published as `destination` in one step.
pub struct Staging {
    path: PathBuf,
    destination: PathBuf,
}

impl Staging {
    pub fn new(destination: PathBuf) -> Result<Self> {
        let parent = destination.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create directory {}", parent.display()))?;
        let path = exclusive(|unfinished| -> Result<PathBuf> {
            let path = temporary(0o777)
                .tempdir_in(parent)
                .with_context(|| format!("cannot create a staging directory in {}", parent.display()))?
                .keep();
            unfinished.push(path.clone());
            Ok(path)
        })?;
        Ok(Staging { path, destination })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces `destination` with the staged directory. Between the two renames the
    /// destination is briefly absent, never partial; a concurrent publisher that wins the race
    /// is simply replaced in turn.
    pub fn publish(self) -> Result<PathBuf> {
        let parent = self.destination.parent().unwrap_or(Path::new("."));
        // Under the lock, so that Ctrl-C never exits between the renames and leaves the
        // retired directory behind.
        exclusive(|unfinished| {
            for _attempt in 0..100 {
                let retired = parent.join(format!(".sim-old-{}", unique_suffix()));
                let moved_away = std::fs::rename(&self.destination, &retired).is_ok();
                let placed = std::fs::rename(&self.path, &self.destination);
                if moved_away {
                    let _ = std::fs::remove_dir_all(&retired);
                }
                if placed.is_ok() {
                    unfinished.retain(|p| p != &self.path);
                    return Ok(self.destination.clone());
                }
            }
            Err(anyhow::anyhow!(
                "cannot replace {}: another process keeps writing it",
                self.destination.display()
            ))
        })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        exclusive(|unfinished| {
            if self.path.exists() {
                let _ = std::fs::remove_dir_all(&self.path);
                unfinished.retain(|p| p != &self.path);
            }
        });
    }
}

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!("{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Names `sim` itself writes beside the scenario directories in an output directory.
/// `index.html` and the staging entries `.sim-*` cannot be ids (no dots, no leading dot);
/// `compare` could, and would be replaced by the comparison charts.
pub const RESERVED_SCENARIO_IDS: [&str; 1] = ["compare"];

/// Longest scenario id: ids name directories and files (`<id>.shard-K-of-N.json`).
pub const MAX_SCENARIO_ID_LEN: usize = 64;

/// The one rule for scenario ids, used by `compile` (ids from files), `shard` (ids read back from
/// partial results) and [`scenario_dir`]: `[a-z0-9][a-z0-9_-]*`, at most
/// [`MAX_SCENARIO_ID_LEN`] characters and not a name `sim` writes itself, so `out/<id>` is always
/// a fresh directory inside `out`. `Err` says what is wrong.
pub fn check_scenario_id(id: &str) -> Result<(), String> {
    let well_formed = id
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !well_formed {
        return Err("use lowercase letters, digits, `_` and `-` only, starting with a letter or digit".into());
    }
    if id.len() > MAX_SCENARIO_ID_LEN {
        return Err(format!(
            "it has {} characters; at most {MAX_SCENARIO_ID_LEN} are allowed",
            id.len()
        ));
    }
    if RESERVED_SCENARIO_IDS.contains(&id) {
        return Err(format!("`{id}/` is where `sim` writes the comparison of all scenarios"));
    }
    Ok(())
}

/// A scenario's output directory: `out/<id>`. Scenario ids are validated at load by
/// [`check_scenario_id`], so the join cannot leave `out` nor hit a name `sim` writes itself; the
/// assertion guards that invariant.
pub fn scenario_dir(out: &Path, scenario_id: &str) -> PathBuf {
    assert!(
        check_scenario_id(scenario_id).is_ok(),
        "scenario id {scenario_id:?} was not validated"
    );
    out.join(scenario_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_ids_never_name_what_sim_writes() {
        for good in ["baseline", "2025_q1", "a-b", &"x".repeat(MAX_SCENARIO_ID_LEN)] {
            assert!(check_scenario_id(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "compare",
            "index.html",
            ".sim-tmp-1",
            "-x",
            "_x",
            "A",
            "a/b",
            "..",
            &"x".repeat(MAX_SCENARIO_ID_LEN + 1),
        ] {
            assert!(check_scenario_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn staging_replaces_whole_directory() {
        let dir = tempfile::tempdir().unwrap();
        let destination = dir.path().join("baseline");
        std::fs::create_dir_all(&destination).unwrap();
        std::fs::write(destination.join("stale.csv"), "old").unwrap();
        let staging = Staging::new(destination.clone()).unwrap();
        write_atomic(&staging.path().join("summary.json"), b"{}").unwrap();
        staging.publish().unwrap();
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, vec![std::ffi::OsString::from("baseline")]);
        assert!(destination.join("summary.json").exists());
        assert!(!destination.join("stale.csv").exists());
    }

    #[cfg(unix)]
    #[test]
    fn outputs_get_the_permissions_of_ordinary_files() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        std::fs::write(dir.path().join("plain"), b"x").unwrap();
        std::fs::create_dir(dir.path().join("plain_dir")).unwrap();
        let staging = Staging::new(dir.path().join("scenario")).unwrap();
        write_atomic(&staging.path().join("summary.json"), b"{}").unwrap();
        let published = staging.publish().unwrap();
        assert_eq!(mode(&published.join("summary.json")), mode(&dir.path().join("plain")));
        assert_eq!(mode(&published), mode(&dir.path().join("plain_dir")));
    }

    #[test]
    fn writes_whole_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a/b/summary.json");
        write_atomic(&target, b"first").unwrap();
        write_atomic(&target, b"second").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(target.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("summary.json")]);
    }
}
