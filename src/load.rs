//! Loading: scenario files in, one merged [`RawScenario`] out.
//!
//! In: the path of a scenario file. Out: the scenario as written (spans kept, nothing checked
//! beyond TOML syntax and key names), with its `extends` chain resolved into a single
//! [`RawScenario`], plus the [`Sources`] to report errors against. Meaning is checked by
//! `compile`. This is the only stage that reads scenario files, through `input::read_text`:
//! regular files of at most [`SCENARIO_FILE_LIMIT`] bytes, and for `extends` only `.toml` files.

mod parse;
mod raw;
#[cfg(test)]
mod tests;
mod variant;

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, ScenarioError, Sources};
use crate::input::{ReadError, ReadProblem, SCENARIO_FILE_LIMIT, read_text};
use parse::parse_scenario;
pub use raw::{
    ExprSource, Literal, RawActor, RawDelay, RawEscalation, RawExpect, RawHeader, RawOutcome, RawParam, RawRepeat,
    RawScenario, RawTrigger, RawVar, VariantOf,
};
use variant::{apply_variant, describe_variant};

/// A scenario read from disk, bases merged in.
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    pub path: PathBuf,
    pub raw: RawScenario,
    pub sources: Sources,
    /// Span of the whole main file, for problems that belong to no key (a missing table).
    pub file_span: Range<usize>,
}

/// Reads a scenario file and the chain of files it extends.
pub fn load(path: &Path) -> Result<LoadedScenario, ScenarioError> {
    match read_scenario_file(path) {
        Ok(text) => load_text(path, text),
        Err(e) => Err(ScenarioError {
            diagnostics: vec![
                Diagnostic::without_span(e.to_string())
                    .help("check the path; globs such as scenarios/*.toml are expanded by `sim`"),
            ],
            sources: Sources::default(),
        }),
    }
}

/// Reads a scenario file: a regular file (symlinks followed) of at most
/// [`SCENARIO_FILE_LIMIT`] bytes of UTF-8. Separate from [`load_text`] so that the CLI can tell
/// an unreadable file (an I/O failure) from an invalid scenario.
pub fn read_scenario_file(path: &Path) -> Result<String, ReadError> {
    read_text(path, SCENARIO_FILE_LIMIT)
}

/// Loads a scenario whose main file `path` holds `text`, reading the files it extends.
pub fn load_text(path: &Path, text: String) -> Result<LoadedScenario, ScenarioError> {
    let mut sources = Sources::default();
    let mut chain = Vec::new();
    let outcome = load_chain(path, text, &mut sources, &mut chain);
    match outcome {
        Ok((raw, file_span)) => Ok(LoadedScenario {
            path: path.to_path_buf(),
            raw,
            sources,
            file_span,
        }),
        Err(diagnostics) => Err(ScenarioError { diagnostics, sources }),
    }
}

fn load_chain(
    path: &Path,
    text: String,
    sources: &mut Sources,
    chain: &mut Vec<PathBuf>,
) -> Result<(RawScenario, Range<usize>), Vec<Diagnostic>> {
    let len = text.len();
    let base = sources.add(path, text.clone());
    let file_span = base..base + len;
    // Parsing behind `base` spaces puts every span of this file in the shared offset space.
    let padded = format!("{}{text}", " ".repeat(base));
    let mut raw = parse_scenario(&padded, base)?;

    let Some(extends) = raw.extends.take() else {
        return Ok((raw, file_span));
    };
    let base_path = path.parent().unwrap_or(Path::new(".")).join(extends.get_ref());
    let identity = std::fs::canonicalize(&base_path).unwrap_or_else(|_| base_path.clone());
    chain.push(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()));
    if chain.contains(&identity) {
        return Err(vec![
            Diagnostic::new(
                format!(
                    "`extends` makes a cycle: {} is already being loaded",
                    base_path.display()
                ),
                extends.span(),
            )
            .label("cycle")
            .help("a variant extends a base; the base must not extend the variant"),
        ]);
    }
    let base_text = read_base(&base_path, &identity).map_err(|(message, label)| {
        let help = if label == "no such file" {
            "the path is relative to the directory of this file"
        } else {
            "`extends` names another scenario: a regular .toml file"
        };
        vec![Diagnostic::new(message, extends.span()).label(label).help(help)]
    })?;
    let (mut merged, _) = load_chain(&base_path, base_text, sources, chain)?;
    let base_id = match &merged.scenario.id {
        Some(id) => id.get_ref().clone(),
        None => base_path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string(),
    };
    let changes = describe_variant(&merged, &raw);
    if raw.header_span.is_some() {
        merged.header_span = raw.header_span.clone();
    }
    apply_variant(&mut merged, raw)?;
    merged.variant_of = Some(VariantOf { base_id, changes });
    Ok((merged, file_span))
}

/// Reads the base scenario a variant `extends`: only a regular `.toml` file (also after
/// following symlinks, to `identity`), so that `extends` cannot make `sim` read and echo other
/// files. Fails with a message and a caret label.
fn read_base(base_path: &Path, identity: &Path) -> Result<String, (String, &'static str)> {
    let is_toml = |p: &Path| p.extension().is_some_and(|e| e == "toml");
    if !is_toml(base_path) || !is_toml(identity) {
        return Err((
            format!(
                "the base scenario {} is not a .toml file",
                if is_toml(base_path) { identity } else { base_path }.display()
            ),
            "not a .toml file",
        ));
    }
    read_scenario_file(base_path).map_err(|e| {
        let label = match e.problem {
            ReadProblem::Missing => "no such file",
            ReadProblem::Directory => "a directory",
            ReadProblem::SymlinkLoop => "a symlink loop",
            ReadProblem::TooLarge { .. } => "too large",
            _ => "unreadable",
        };
        let message = match e.problem {
            ReadProblem::Missing => format!("the base scenario {} does not exist", base_path.display()),
            problem => format!("cannot read the base scenario {}: {problem}", base_path.display()),
        };
        (message, label)
    })
}
