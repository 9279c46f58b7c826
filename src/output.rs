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
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create directory {}", dir.display()))?;
    // A leading dot keeps half-written files out of globs such as `output/*/summary.json`.
    let mut file = tempfile::Builder::new()
        .prefix(".sim-tmp-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    let temporary = file.path().to_path_buf();
    register(&temporary);
    // Temporary files are created private (0600); results are meant to be shared.
    make_readable(&temporary, 0o644)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
        .and_then(|()| {
            file.persist(path)
                .map(drop)
                .with_context(|| format!("cannot move the finished file to {}", path.display()))
        });
    unregister(&temporary);
    written
}

#[cfg(unix)]
fn make_readable(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set permissions of {}", path.display()))
}

#[cfg(not(unix))]
fn make_readable(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

static UNFINISHED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn register(path: &Path) {
    UNFINISHED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(path.to_path_buf());
}

fn unregister(path: &Path) {
    UNFINISHED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|p| p != path);
}

/// Removes every file and staging directory still being written. Called from the Ctrl-C
/// handler, so that an interrupted run leaves nothing half-written behind.
pub fn remove_unfinished() {
    let paths = std::mem::take(&mut *UNFINISHED.lock().unwrap_or_else(|e| e.into_inner()));
    for path in paths {
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
        let path = tempfile::Builder::new()
            .prefix(".sim-tmp-")
            .tempdir_in(parent)
            .with_context(|| format!("cannot create a staging directory in {}", parent.display()))?
            .keep();
        register(&path);
        make_readable(&path, 0o755)?;
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
        for _attempt in 0..100 {
            let retired = parent.join(format!(".sim-old-{}", unique_suffix()));
            let moved_away = std::fs::rename(&self.destination, &retired).is_ok();
            let placed = std::fs::rename(&self.path, &self.destination);
            if moved_away {
                let _ = std::fs::remove_dir_all(&retired);
            }
            if placed.is_ok() {
                unregister(&self.path);
                return Ok(self.destination.clone());
            }
        }
        Err(anyhow::anyhow!(
            "cannot replace {}: another process keeps writing it",
            self.destination.display()
        ))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.path.exists() {
            let _ = std::fs::remove_dir_all(&self.path);
            unregister(&self.path);
        }
    }
}

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!("{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// A scenario's output directory: `out/<id>`. Scenario ids are validated at load to
/// `[a-z0-9][a-z0-9_-]*`, so the join cannot leave `out`; the assertion guards that invariant.
pub fn scenario_dir(out: &Path, scenario_id: &str) -> PathBuf {
    assert!(
        !scenario_id.is_empty()
            && scenario_id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
            && !scenario_id.starts_with('-'),
        "scenario id {scenario_id:?} was not validated"
    );
    out.join(scenario_id)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn writes_whole_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a/b/summary.json");
        write_atomic(&target, b"first").unwrap();
        write_atomic(&target, b"second").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"second");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o644, "results are readable by others");
        }
        let names: Vec<_> = std::fs::read_dir(target.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("summary.json")]);
    }
}
