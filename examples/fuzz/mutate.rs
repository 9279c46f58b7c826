//! Byte-level mutation of the shipped scenarios (and test fixtures): bits flipped, bytes and
//! tokens inserted, deleted, duplicated or replaced, lines duplicated, dropped or swapped.
//!
//! Positions favour lines that are not comments, since most of a shipped file's bytes are
//! comments that TOML skips. A variant is written with the base it extends, and either of the
//! two may be the mutated one.

use crate::{Corpus, Rng};

/// Bytes worth inserting: TOML and expression punctuation, escapes, and invalid UTF-8.
const BYTES: &[u8] = b"\"'[]{}=,.#\n\r\t\\()!&|<>+-*/0123456789eE_ \x00\x1b\x7f\xff\xc3\xa9\xe2";

/// Tokens worth substituting.
const TOKENS: &[&str] = &[
    "nan",
    "inf",
    "-inf",
    "1e308",
    "-1e308",
    "5e-324",
    "0",
    "-1",
    "1",
    "0.5",
    "9223372036854775807",
    "18446744073709551616",
    "true",
    "false",
    "escalation",
    "t",
    "since",
    "fired",
    "count",
    "(",
    ")",
    "((((((((((",
    "&&",
    "||",
    "!",
    "==",
    "'",
    "\"",
    "\"\"\"",
    "\\u0070",
    "\\n",
    "\\U0001F600",
    "é",
    "[",
    "]",
    "{}",
    "[[triggers]]",
    "[[outcomes]]",
    "[params]",
    "[scenario]",
    "extends",
    "repeat",
    "cooldown",
    "delay",
    "remove_triggers",
    "compare",
];

/// A shipped scenario (with its base, for a variant), mutated.
pub fn shipped(rng: &mut Rng, corpus: &Corpus) -> (String, Vec<(String, Vec<u8>)>) {
    let (name, bytes) = corpus.files[rng.index(corpus.files.len())].clone();
    let mut files = vec![(name.clone(), bytes)];
    // The base of a variant comes along, unmutated unless it is picked below.
    for (other, text) in &corpus.files {
        let needle = format!("extends = \"{other}\"");
        if *other != name && contains(&files[0].1, needle.as_bytes()) {
            files.push((other.clone(), text.clone()));
        }
    }
    let target = if files.len() > 1 && rng.chance(1, 4) { 1 } else { 0 };
    let count = if rng.chance(1, 5) {
        rng.range(5, 30)
    } else {
        rng.range(1, 4)
    };
    for _ in 0..count {
        mutate(rng, &mut files[target].1, corpus);
    }
    let origin = format!("{} mutated {count} times", files[target].0);
    (origin, files)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Growth stops here: larger files test nothing new and slow every case down.
const MAX_LEN: usize = 256 * 1024;

fn mutate(rng: &mut Rng, data: &mut Vec<u8>, corpus: &Corpus) {
    if data.is_empty() {
        data.push(*rng.pick(BYTES));
        return;
    }
    let at = position(rng, data);
    match rng.below(11) {
        0 => data[at] ^= 1 << rng.below(8),
        1 => data.insert(at, *rng.pick(BYTES)),
        2 => {
            let len = rng.range(1, 16) as usize;
            data.drain(at..(at + len).min(data.len()));
        }
        3 if data.len() < MAX_LEN => {
            let from = position(rng, data);
            let len = (rng.range(1, 64) as usize).min(data.len() - from);
            let chunk = data[from..from + len].to_vec();
            data.splice(at..at, chunk);
        }
        4 | 5 => {
            let (start, end) = token(data, at);
            let replacement = rng.pick(TOKENS).as_bytes().to_vec();
            data.splice(start..end, replacement);
        }
        6 if data.len() < MAX_LEN => {
            // A token from any file of the corpus: names and keys that exist elsewhere.
            let (_, other) = &corpus.files[rng.index(corpus.files.len())];
            if other.is_empty() {
                return;
            }
            let from = position(rng, other);
            let (s, e) = token(other, from);
            let replacement = other[s..e].to_vec();
            let (start, end) = token(data, at);
            data.splice(start..end, replacement);
        }
        7 if data.len() < MAX_LEN => {
            let (start, end) = line(data, at);
            let copy = data[start..end].to_vec();
            data.splice(end..end, copy);
        }
        8 => {
            let (start, end) = line(data, at);
            data.drain(start..end);
        }
        9 => {
            let (s1, e1) = line(data, at);
            let other = position(rng, data);
            let (s2, e2) = line(data, other);
            if e1 <= s2 {
                let (a, b) = (data[s1..e1].to_vec(), data[s2..e2].to_vec());
                data.splice(s2..e2, a);
                data.splice(s1..e1, b);
            }
        }
        _ => {
            // Repeat a token many times: long names, long numbers, deep nesting.
            let (start, end) = token(data, at);
            let room = MAX_LEN.saturating_sub(data.len()) / (end - start);
            let times = rng.log_range(2, 3000).min(room as u64) as usize;
            let repeated = data[start..end].repeat(times);
            data.splice(start..end, repeated);
        }
    }
}

/// A byte position, three times in four on a line that is not a comment or blank.
fn position(rng: &mut Rng, data: &[u8]) -> usize {
    let at = rng.index(data.len());
    if rng.chance(1, 4) {
        return at;
    }
    for attempt in 0..8 {
        let at = if attempt == 0 { at } else { rng.index(data.len()) };
        let (start, end) = line(data, at);
        let text = &data[start..end];
        let first = text.iter().position(|b| !b.is_ascii_whitespace());
        if let Some(first) = first
            && text[first] != b'#'
        {
            return start + first + rng.index(end - start - first);
        }
    }
    at
}

/// The line holding `at`, with its newline.
fn line(data: &[u8], at: usize) -> (usize, usize) {
    let start = data[..at].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let end = data[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(data.len(), |i| at + i + 1);
    (start, end)
}

/// The token holding `at`: a run of word characters, or one other byte.
fn token(data: &[u8], at: usize) -> (usize, usize) {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'.';
    if !word(data[at]) {
        return (at, at + 1);
    }
    let start = data[..at].iter().rposition(|&b| !word(b)).map_or(0, |i| i + 1);
    let end = data[at..].iter().position(|&b| !word(b)).map_or(data.len(), |i| at + i);
    (start, end)
}
