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
//! Temporary names carry the writer's process id and host (`.sim-tmp-<pid>-<host>-...`), so
//! that a later run can remove what a killed process (SIGKILL, power loss) left behind in the
//! directories it writes to, and only that: entries of processes still alive, or of other hosts
//! sharing the file system, are left alone ([`remove_stale`]).
//!
//! Scenario ids name directories here; [`ScenarioId`] is the rule that keeps them inside the
//! output directory and off the names `sim` writes itself (`compare`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};

use crate::model::ScenarioId;

/// Writes `bytes` to `path` atomically, creating parent directories as needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = exclusive(|unfinished| -> Result<tempfile::NamedTempFile> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create directory {}", dir.display()))?;
        remove_stale(dir);
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
    builder.prefix(temporary_prefix());
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
            remove_stale(parent);
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
                    // What was there may have been a file, or a symlink, not a directory.
                    remove_path(&retired);
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
    format!(
        "{}-{}-{}",
        std::process::id(),
        host_tag(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// `.sim-tmp-<pid>-<host>-`: the start of every temporary name this process creates.
fn temporary_prefix() -> &'static str {
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PREFIX.get_or_init(|| format!(".sim-tmp-{}-{}-", std::process::id(), host_tag()))
}

/// Eight hex digits naming this host, so that processes of different machines writing to one
/// shared directory never mistake each other's entries for their own host's.
fn host_tag() -> &'static str {
    static TAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TAG.get_or_init(|| {
        let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_default();
        blake3::hash(name.trim().as_bytes()).to_hex()[..8].to_string()
    })
}

/// Removes a file, a symlink or a whole directory.
fn remove_path(path: &Path) {
    let _ = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        _ => std::fs::remove_file(path),
    };
}

/// Removes the `.sim-tmp-*` and `.sim-old-*` entries of `dir` that a process of this host left
/// behind when it was killed: those whose process no longer exists. Entries with another host's
/// tag, or of a live process, are not touched.
fn remove_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name
            .to_str()
            .and_then(|n| n.strip_prefix(".sim-tmp-").or_else(|| n.strip_prefix(".sim-old-")))
        else {
            continue;
        };
        let mut fields = rest.splitn(3, '-');
        let (Some(pid), Some(host)) = (fields.next().and_then(|p| p.parse::<u32>().ok()), fields.next()) else {
            continue;
        };
        if host == host_tag() && pid != std::process::id() && !process_exists(pid) {
            remove_path(&entry.path());
        }
    }
}

/// Whether process `pid` exists on this host. Where that cannot be told, it is assumed to.
fn process_exists(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return true;
        };
        // SAFETY: signal 0 only checks that the process exists and may be signalled.
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        alive || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// Checks that `dir` can be created and written, so that a long simulation does not end in an
/// unwritable output directory. Nothing is left behind: a probe file is created and removed in
/// `dir`, or in its nearest existing ancestor when `dir` does not exist yet (a run that fails
/// later leaves no empty directory).
pub fn check_writable(dir: &Path) -> Result<()> {
    let mut existing = dir;
    let metadata = loop {
        match std::fs::metadata(existing) {
            Ok(metadata) => break metadata,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && existing != Path::new(".") => {
                existing = match existing.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => parent,
                    _ => Path::new("."),
                };
            }
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "cannot write into the output directory {}: {e}",
                    dir.display()
                ));
            }
        }
    };
    if !metadata.is_dir() {
        anyhow::bail!(
            "cannot write into the output directory {}: {} is not a directory",
            dir.display(),
            existing.display()
        );
    }
    exclusive(|_| {
        // Removed when dropped, inside the lock: Ctrl-C cannot leave it behind.
        temporary(0o666)
            .tempfile_in(existing)
            .map(drop)
            .with_context(|| format!("cannot write into the output directory {}", dir.display()))
    })
}

/// A scenario's output directory: `out/<id>`. Scenario ids are validated at load by the rule
/// of [`ScenarioId`], so the join cannot leave `out` nor hit a name `sim` writes itself; the
/// assertion guards that invariant.
pub fn scenario_dir(out: &Path, scenario_id: &str) -> PathBuf {
    assert!(
        ScenarioId::parse(scenario_id).is_ok(),
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
    fn publishing_over_a_regular_file_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let destination = dir.path().join("baseline");
        std::fs::write(&destination, "not a directory").unwrap();
        let staging = Staging::new(destination.clone()).unwrap();
        write_atomic(&staging.path().join("summary.json"), b"{}").unwrap();
        staging.publish().unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("baseline")]);
        assert!(destination.join("summary.json").is_file());
    }

    #[cfg(unix)]
    #[test]
    fn stale_entries_of_dead_processes_of_this_host_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        // A process that has exited: its pid is not alive (pids are not reused this soon).
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let host = host_tag();
        let names = [
            format!(".sim-tmp-{dead}-{host}-abc"),
            format!(".sim-old-{dead}-{host}-0"),
            format!(".sim-tmp-{}-{host}-live", std::process::id()),
            format!(".sim-tmp-{dead}-0000othr-abc"),
            ".sim-tmp-unparsable".to_string(),
        ];
        for name in &names[..2] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
            std::fs::write(dir.path().join(name).join("summary.json"), "{").unwrap();
        }
        for name in &names[2..] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        write_atomic(&dir.path().join("index.html"), b"<html>").unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        let mut expected = vec![
            "index.html".to_string(),
            names[2].clone(),
            names[3].clone(),
            names[4].clone(),
        ];
        expected.sort();
        assert_eq!(left, expected);
    }

    #[test]
    fn an_unwritable_output_directory_is_found_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        check_writable(&dir.path().join("new/out")).unwrap();
        assert!(!dir.path().join("new").exists(), "the check created a directory");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "the probe was left behind"
        );
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let error = check_writable(&file.join("out")).unwrap_err().to_string();
        assert!(error.contains("cannot write into the output directory"), "{error}");
        let error = check_writable(&file).unwrap_err().to_string();
        assert!(error.contains("is not a directory"), "{error}");
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
