//! The shape of the code, held to the bar of ARCHITECTURE.md so that it cannot regress: no
//! source file above 1,000 lines, and no module of the library importing one that comes later
//! in the flow load -> compile -> simulate -> tally/aggregate -> report/plot/html -> cli.
//!
//! In: the `.rs` files of the repository (src/, tests/, benches/, examples/), read as text.
//! Out: a failure naming every file over the limit with its line count, and every `crate::`
//! reference in src/ that goes against the flow with its file and line. Both tables below are
//! data: a new module, a new exception or a file split for good is a one-line change here.

use std::path::{Path, PathBuf};

use crate::util::repo;

/// One concept per file: a file longer than this holds several.
const MAX_LINES: usize = 1_000;

/// Files still above [`MAX_LINES`] while the work that splits them is under way. A file listed
/// here that is back within the limit fails the test, so that the list only shrinks.
const OVERSIZED: &[&str] = &[];

/// The layers of the library, in the order data flows through them. A module may use modules
/// of its own layer and of earlier ones, never of a later one. Every top-level module of src/
/// (a file `src/x.rs` or directory `src/x/`, submodules counted with it) must be listed, so that
/// a new module gets its place on purpose. Where this differs from the pipeline drawing:
/// - `rng` imports nothing from the crate and `compile` derives the random-number address of
///   each param and trigger with it (`rng::region`), so it sits with the leaves, not between
///   `compile` and `simulate`.
/// - `output` (atomic writes, staging) imports only `model` (the scenario-id rule that
///   `scenario_dir` asserts) and is how `report`, `plot`, `html`, `shard` and `cli` write files,
///   so it sits below them.
/// - `lanes` imports nothing, and the block function of `rng` uses its choice of vector
///   instructions (`Simd`), so it sits with the leaves; `eval` < `model`: the model holds
///   expression trees (`eval`), whose evaluators work on lanes.
const LAYERS: &[&[&str]] = &[
    &["input", "diagnostic", "rng", "lanes"],
    &["expr"],
    &["load"],
    &["schema"],
    &["eval"],
    &["model"],
    &["compile"],
    &["simulate"],
    &["tally"],
    &["job"],
    &["aggregate", "verify", "claims"],
    &["format", "comparable", "precision"],
    &["output"],
    &["report", "plot", "html", "sweep"],
    &["shard"],
    &["cli", "main", "lib"],
];

/// Imports against the flow that the code has today: (importer, imported, why). Each is a
/// decision left open, not an approval; one that no longer occurs fails the test, so that the
/// list only shrinks. Test code (`#[cfg(test)]` items and the files they declare) is not held
/// to the flow: a test may build its fixtures with any stage (lint's soundness test simulates).
const KNOWN_EXCEPTIONS: &[(&str, &str, &str)] = &[];

#[test]
fn no_source_file_is_above_the_line_limit() {
    let mut over = Vec::new();
    let mut back_within = Vec::new();
    for dir in ["src", "tests", "benches", "examples"] {
        for file in rust_files(&repo(dir)) {
            let name = relative(&file);
            let lines = std::fs::read_to_string(&file).unwrap().lines().count();
            let listed = OVERSIZED.contains(&name.as_str());
            if lines > MAX_LINES && !listed {
                over.push(format!("{name}: {lines} lines"));
            } else if lines <= MAX_LINES && listed {
                back_within.push(format!("{name}: {lines} lines, remove it from OVERSIZED"));
            }
        }
    }
    for name in OVERSIZED {
        if !repo(name).exists() {
            back_within.push(format!("{name} no longer exists, remove it from OVERSIZED"));
        }
    }
    let report = sections(&[
        ("files above 1,000 lines (split them along their concepts)", over),
        ("stale entries of OVERSIZED", back_within),
    ]);
    assert!(report.is_empty(), "{report}");
}

#[test]
fn no_module_imports_against_the_flow() {
    let src = repo("src");
    let mut against = Vec::new();
    let mut unplaced = Vec::new();
    let mut seen_exceptions = Vec::new();
    let test_files = test_only_files(&src);
    for file in rust_files(&src) {
        if test_files.contains(&file) {
            continue;
        }
        let from = top_module(&src, &file);
        let Some(from_layer) = layer_of(&from) else {
            unplaced.push(format!("{from} (from {})", relative(&file)));
            continue;
        };
        let code = without_test_items(&code_only(&std::fs::read_to_string(&file).unwrap()));
        for (line, to) in crate_references(&code) {
            if to == from {
                continue;
            }
            let Some(to_layer) = layer_of(&to) else {
                unplaced.push(format!("{to} (used at {}:{line})", relative(&file)));
                continue;
            };
            if to_layer <= from_layer {
                continue;
            }
            if KNOWN_EXCEPTIONS
                .iter()
                .any(|&(f, t, _)| (f, t) == (from.as_str(), to.as_str()))
            {
                seen_exceptions.push((from.clone(), to.clone()));
            } else {
                against.push(format!("{}:{line}: `{from}` uses `{to}`", relative(&file)));
            }
        }
    }
    let stale: Vec<String> = KNOWN_EXCEPTIONS
        .iter()
        .filter(|&&(f, t, _)| !seen_exceptions.iter().any(|(a, b)| (a.as_str(), b.as_str()) == (f, t)))
        .map(|(f, t, _)| format!("{f} -> {t} no longer occurs, remove it from KNOWN_EXCEPTIONS"))
        .collect();
    unplaced.sort();
    unplaced.dedup();
    let report = sections(&[
        (
            "imports against the flow (a module may use its own layer and earlier ones; see LAYERS)",
            against,
        ),
        ("modules missing from LAYERS (give each its place)", unplaced),
        ("stale entries of KNOWN_EXCEPTIONS", stale),
    ]);
    assert!(report.is_empty(), "{report}");
}

/// The checker itself: each rule catches what it is for.
#[test]
fn the_flow_check_sees_what_it_must() {
    let code = code_only(
        "use crate::load::RawScenario; // crate::cli in a comment\n\
         let s = \"crate::html in a string\";\n\
         use crate::{\n    expr::Expr,\n    simulate::{Batch, one_run::Run},\n};\n\
         fn f() { crate::output::write_atomic(p, b) }\n\
         #[cfg(test)]\nmod tests {\n    use crate::plot::x;\n}\n\
         #[cfg(test)]\nmod fixtures;\n\
         let c = '{'; let t = crate::tally::Tallies::default();\n",
    );
    let code = without_test_items(&code);
    let found: Vec<(usize, String)> = crate_references(&code);
    let found: Vec<(usize, &str)> = found.iter().map(|(l, m)| (*l, m.as_str())).collect();
    assert_eq!(
        found,
        [(1, "load"), (4, "expr"), (5, "simulate"), (7, "output"), (14, "tally")]
    );
    assert_eq!(
        test_modules_declared(&code_only("#[cfg(test)]\nmod fixtures;\nmod real;\n")),
        ["fixtures"]
    );
    assert!(layer_of("compile") < layer_of("simulate"));
    assert!(layer_of("aggregate") == layer_of("verify"));
    assert_eq!(layer_of("no_such_module"), None);
}

/// The non-empty lists under their titles, one item a line.
fn sections(lists: &[(&str, Vec<String>)]) -> String {
    let mut report = String::new();
    for (title, items) in lists.iter().filter(|(_, items)| !items.is_empty()) {
        report.push_str(&format!("{title}:\n  {}\n", items.join("\n  ")));
    }
    report
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn relative(file: &Path) -> String {
    file.strip_prefix(repo("")).unwrap().display().to_string()
}

/// `src/x.rs` and everything under `src/x/` belong to module `x` (`lib`, `main` for the roots).
fn top_module(src: &Path, file: &Path) -> String {
    let first = file.strip_prefix(src).unwrap().components().next().unwrap();
    let first = first.as_os_str().to_str().unwrap();
    first.strip_suffix(".rs").unwrap_or(first).to_string()
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The files that only tests compile: those declared by `#[cfg(test)] mod name;`, and
/// everything under them.
fn test_only_files(src: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for file in rust_files(src) {
        let code = code_only(&std::fs::read_to_string(&file).unwrap());
        // `src/a.rs` and `src/a/mod.rs` declare children in `src/a/`; the roots in `src/`.
        let stem = file.file_stem().unwrap().to_str().unwrap();
        let root = file.parent() == Some(src) && matches!(stem, "lib" | "main");
        let dir = if root || stem == "mod" {
            file.parent().unwrap().to_path_buf()
        } else {
            file.with_extension("")
        };
        for name in test_modules_declared(&code) {
            let child = dir.join(&name);
            found.push(child.with_extension("rs"));
            found.extend(rust_files_if_dir(&child));
        }
    }
    found
}

fn rust_files_if_dir(dir: &Path) -> Vec<PathBuf> {
    if dir.is_dir() { rust_files(dir) } else { Vec::new() }
}

/// Names `n` of the `#[cfg(test)] mod n;` declarations in `code`.
fn test_modules_declared(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        rest = &rest[at + "#[cfg(test)]".len()..];
        let item = rest.trim_start();
        if let Some(declared) = item
            .strip_prefix("mod ")
            .or_else(|| item.strip_prefix("pub(crate) mod "))
        {
            let name: String = declared
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if declared.trim_start()[name.len()..].trim_start().starts_with(';') {
                names.push(name);
            }
        }
    }
    names
}

/// `code` with every `#[cfg(test)]` item blanked out (lines kept, so line numbers hold): the
/// item runs to its first `;` or to the brace that closes its first `{`.
fn without_test_items(code: &str) -> String {
    let mut out = code.as_bytes().to_vec();
    let mut from = 0;
    while let Some(at) = code[from..].find("#[cfg(test)]").map(|i| i + from) {
        let mut depth = 0usize;
        let mut end = code.len();
        for (i, b) in code.bytes().enumerate().skip(at + "#[cfg(test)]".len()) {
            match b {
                b'{' => depth += 1,
                b'}' if depth > 0 => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                b';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        for byte in &mut out[at..end] {
            if *byte != b'\n' {
                *byte = b' ';
            }
        }
        from = end;
    }
    String::from_utf8(out).unwrap()
}

/// The Rust code of `text` with comments, strings and character literals blanked out (newlines
/// kept), so that only code is searched for paths and braces.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |out: &mut String, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
            }
        } else if c == 'r' && matches!(next, Some('"' | '#')) && (!ident_before(&chars, i) || byte_prefix(&chars, i)) {
            // A raw string: r"..." or r#"..."#, closed by a quote and as many hashes.
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            if chars.get(i + 1 + hashes) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let close: Vec<char> = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            let mut j = i + 2 + hashes;
            while j < chars.len() && !chars[j..].starts_with(&close) {
                j += 1;
            }
            let end = (j + close.len()).min(chars.len());
            for &skipped in &chars[i..end] {
                blank(&mut out, skipped);
            }
            i = end;
        } else if c == '"' {
            blank(&mut out, c);
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                let step = if chars[i] == '\\' { 2 } else { 1 };
                for &skipped in &chars[i..(i + step).min(chars.len())] {
                    blank(&mut out, skipped);
                }
                i += step;
            }
            if i < chars.len() {
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A character literal ('x', '\n', '\u{..}'), not a lifetime.
            let mut j = i + 1;
            while j < chars.len() && (chars[j] != '\'' || (j == i + 2 && chars[i + 1] == '\\')) {
                j += 1;
            }
            let end = (j + 1).min(chars.len());
            for &skipped in &chars[i..end] {
                blank(&mut out, skipped);
            }
            i = end;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_before(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// Whether the `r` at `i` is that of a raw byte string, `br"..."`.
fn byte_prefix(chars: &[char], i: usize) -> bool {
    i > 0 && chars[i - 1] == 'b' && !ident_before(chars, i - 1)
}

/// Every top-level module a `crate::` path in `code` names, with its line (1-based):
/// `crate::a::...`, and each item of a group `crate::{a::x, b::{y, z}}`.
fn crate_references(code: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let ident = |s: &str| -> String { s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect() };
    let line_of = |offset: usize| code[..offset].matches('\n').count() + 1;
    let mut from = 0;
    while let Some(at) = code[from..].find("crate::").map(|i| i + from) {
        from = at + "crate::".len();
        if at > 0 && code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = &code[from..];
        if !rest.starts_with('{') {
            found.push((line_of(from), ident(rest)));
            continue;
        }
        // A group: the first name of each item at the group's own level.
        let mut depth = 0;
        let mut item_start = true;
        for (i, c) in rest.char_indices() {
            match c {
                '{' => {
                    depth += 1;
                    item_start = depth == 1;
                }
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                ',' if depth == 1 => item_start = true,
                c if item_start && depth == 1 && (c.is_alphanumeric() || c == '_') => {
                    found.push((line_of(from + i), ident(&rest[i..])));
                    item_start = false;
                }
                _ => {}
            }
        }
    }
    found.retain(|(_, name)| !name.is_empty() && name != "self");
    found
}
