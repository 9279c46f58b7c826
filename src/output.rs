//! Atomic file output: bytes in, a file that is either complete or absent out.
//!
//! Every file `sim` writes goes through [`write_atomic`]: the bytes go to a temporary file in the
//! destination directory, which is synced and then renamed over the destination. A reader (or a
//! second `sim` writing the same directory) sees the old file or the new one, never a mix, and an
//! interrupted run leaves no half-written file behind.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Writes `bytes` to `path` atomically, creating parent directories as needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create directory {}", dir.display()))?;
    // A leading dot keeps half-written files out of globs such as `output/*/summary.json`.
    let mut file = tempfile::Builder::new()
        .prefix(".sim-tmp-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.persist(path)
        .with_context(|| format!("cannot move the finished file to {}", path.display()))?;
    Ok(())
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
