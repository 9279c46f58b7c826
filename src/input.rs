//! Reading input files: a path in, its text out, or an error that says what the path is.
//!
//! Every file `sim` reads (scenarios, the bases they extend, summaries and partial results)
//! goes through [`read_text`]: only regular files are read (after following symlinks), and never
//! more than a size cap, so that `/dev/zero`, a FIFO or a huge file fail at once with a clear
//! message instead of filling memory or blocking forever.
//!
//! A summary read back is then checked by `aggregate::check` before anything uses it.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest scenario file (and base it extends), in bytes; docs/scenario-format.md, "Limits".
pub const SCENARIO_FILE_LIMIT: u64 = 1 << 20;

/// Largest `summary.json` or partial result read back, in bytes (docs/cli.md).
pub const RESULT_FILE_LIMIT: u64 = 256 << 20;

/// Why a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadProblem {
    Missing,
    Directory,
    /// A FIFO, socket or device: reading it could block forever or never end.
    NotRegular,
    /// A chain of symlinks that never ends.
    SymlinkLoop,
    TooLarge {
        limit: u64,
    },
    /// The first invalid byte, at 1-based `line` and `column` (in characters).
    NotUtf8 {
        offset: usize,
        line: usize,
        column: usize,
    },
    /// Any other I/O error, as the system words it.
    Io(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub path: PathBuf,
    pub problem: ReadProblem,
}

impl fmt::Display for ReadProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadProblem::Missing => write!(f, "no such file"),
            ReadProblem::Directory => write!(f, "it is a directory, not a file"),
            ReadProblem::NotRegular => write!(
                f,
                "it is not a regular file (a FIFO, socket or device); only regular files are read"
            ),
            ReadProblem::SymlinkLoop => write!(f, "its symbolic links form a loop"),
            ReadProblem::TooLarge { limit } => write!(f, "it is larger than the limit of {}", bytes(*limit)),
            ReadProblem::NotUtf8 { offset, line, column } => write!(
                f,
                "it is not UTF-8 text (invalid byte at line {line}, column {column}, byte offset {offset})"
            ),
            ReadProblem::Io(message) => f.write_str(message),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read {}: {}", self.path.display(), self.problem)
    }
}

impl std::error::Error for ReadError {}

/// `1 MiB`, `256 MiB`, or a byte count.
fn bytes(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// Reads `path` as UTF-8 text if it is a regular file (symlinks followed) of at most `limit`
/// bytes.
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    let fail = |problem| ReadError {
        path: path.to_path_buf(),
        problem,
    };
    // Checked before opening: opening a FIFO blocks until a writer appears.
    let metadata = std::fs::metadata(path).map_err(|e| fail(io_problem(&e)))?;
    check_kind(&metadata, limit).map_err(fail)?;
    let file = std::fs::File::open(path).map_err(|e| fail(io_problem(&e)))?;
    // Again on the open file, in case the path was replaced in between.
    check_kind(&file.metadata().map_err(|e| fail(io_problem(&e)))?, limit).map_err(fail)?;
    let mut raw = Vec::new();
    // One byte past the limit tells a file that grew beyond it from one that fits exactly.
    file.take(limit + 1)
        .read_to_end(&mut raw)
        .map_err(|e| fail(io_problem(&e)))?;
    if raw.len() as u64 > limit {
        return Err(fail(ReadProblem::TooLarge { limit }));
    }
    String::from_utf8(raw).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let valid = std::str::from_utf8(&e.as_bytes()[..offset]).unwrap_or_default();
        let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
        fail(ReadProblem::NotUtf8 {
            offset,
            line: valid.matches('\n').count() + 1,
            column: valid[line_start..].chars().count() + 1,
        })
    })
}

fn check_kind(metadata: &std::fs::Metadata, limit: u64) -> Result<(), ReadProblem> {
    if metadata.is_dir() {
        Err(ReadProblem::Directory)
    } else if !metadata.is_file() {
        Err(ReadProblem::NotRegular)
    } else if metadata.len() > limit {
        Err(ReadProblem::TooLarge { limit })
    } else {
        Ok(())
    }
}

fn io_problem(e: &std::io::Error) -> ReadProblem {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::ELOOP) {
        return ReadProblem::SymlinkLoop;
    }
    match e.kind() {
        std::io::ErrorKind::NotFound => ReadProblem::Missing,
        std::io::ErrorKind::IsADirectory => ReadProblem::Directory,
        _ => ReadProblem::Io(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(path: &Path, limit: u64) -> ReadProblem {
        read_text(path, limit).unwrap_err().problem
    }

    #[test]
    fn reads_regular_files_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.toml");
        std::fs::write(&path, "abcd").unwrap();
        assert_eq!(read_text(&path, 4).unwrap(), "abcd");
        assert_eq!(problem(&path, 3), ReadProblem::TooLarge { limit: 3 });
        assert_eq!(problem(&dir.path().join("none"), 10), ReadProblem::Missing);
        assert_eq!(problem(dir.path(), 10), ReadProblem::Directory);
        std::fs::write(&path, b"ab\xffcd").unwrap();
        assert_eq!(
            problem(&path, 10),
            ReadProblem::NotUtf8 {
                offset: 2,
                line: 1,
                column: 3
            }
        );
        std::fs::write(&path, "a\n\u{e9}\u{e9}".bytes().chain([0xff]).collect::<Vec<u8>>()).unwrap();
        assert_eq!(
            problem(&path, 10),
            ReadProblem::NotUtf8 {
                offset: 6,
                line: 2,
                column: 3
            }
        );
        assert!(
            read_text(&path, 10)
                .unwrap_err()
                .to_string()
                .starts_with(&format!("cannot read {}: it is not UTF-8", path.display()))
        );
    }

    #[cfg(unix)]
    #[test]
    fn refuses_devices_fifos_and_symlink_loops_without_blocking() {
        assert_eq!(problem(Path::new("/dev/zero"), 1 << 20), ReadProblem::NotRegular);
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        assert_eq!(problem(&fifo, 1 << 20), ReadProblem::NotRegular);
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        assert_eq!(problem(&a, 10), ReadProblem::SymlinkLoop);
    }

    #[test]
    fn limits_are_worded_in_mebibytes() {
        assert_eq!(bytes(SCENARIO_FILE_LIMIT), "1 MiB");
        assert_eq!(bytes(RESULT_FILE_LIMIT), "256 MiB");
        assert_eq!(bytes(3), "3 bytes");
    }
}
