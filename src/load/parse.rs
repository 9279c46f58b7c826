//! Parsing one scenario file's text.
//!
//! In: the text of one file, padded behind the offset where `Sources` placed it. Out: its
//! [`RawScenario`], or every independent syntax or shape problem as a [`Diagnostic`] in file
//! order, with serde's wording turned into TOML's and "did you mean" for unknown keys.

use serde::Deserialize;
use toml::Spanned;

use super::RawScenario;
use crate::diagnostic::Diagnostic;

/// Parses one file's text (behind `base` spaces) into a [`RawScenario`], or reports every
/// independent problem one pass finds: all the syntax errors the parser recovers from, else
/// the shape errors (unknown keys, wrong types, missing ids) of each top-level key, each
/// `[scenario]` key, each param, each actor and each trigger and outcome on its own, in file
/// order.
pub(super) fn parse_scenario(padded: &str, base: usize) -> Result<RawScenario, Vec<Diagnostic>> {
    use toml::de::{DeTable, DeValue, Deserializer};
    let (document, syntax) = DeTable::parse_recoverable(padded);
    if !syntax.is_empty() {
        let mut errors: Vec<Diagnostic> = syntax.iter().map(|e| toml_diagnostic(e, base)).collect();
        errors.sort_by_key(|d| d.span.as_ref().map(|s| s.start));
        return Err(distinct(errors));
    }
    let header_span = document.get_ref().get_key_value("scenario").map(|(key, _)| key.span());
    let first = match RawScenario::deserialize(Deserializer::from(document.clone())) {
        Ok(mut raw) => {
            raw.header_span = header_span;
            return Ok(raw);
        }
        Err(first) => first,
    };
    let mut errors = Vec::new();
    for (key, value) in document.get_ref() {
        let pieces: Vec<Spanned<DeValue>> = match (key.get_ref().as_ref(), value.get_ref()) {
            ("triggers" | "outcomes" | "expect", DeValue::Array(items)) => items
                .iter()
                .map(|item| Spanned::new(value.span(), DeValue::Array(std::iter::once(item.clone()).collect())))
                .collect(),
            ("scenario" | "params" | "actors", DeValue::Table(entries)) => entries
                .iter()
                .map(|(k, v)| {
                    let mut one = DeTable::new();
                    one.insert(k.clone(), v.clone());
                    Spanned::new(value.span(), DeValue::Table(one))
                })
                .collect(),
            _ => vec![value.clone()],
        };
        for piece in pieces {
            let mut one = DeTable::new();
            one.insert(key.clone(), piece);
            if let Err(e) = RawScenario::deserialize(Deserializer::from(Spanned::new(document.span(), one))) {
                errors.push(toml_diagnostic(&e, base));
            }
        }
    }
    if errors.is_empty() {
        errors.push(toml_diagnostic(&first, base));
    }
    // The parsed tables are in key order, not file order.
    errors.sort_by_key(|d| d.span.as_ref().map(|s| s.start));
    Err(distinct(errors))
}

/// Drops repeated diagnostics (same message at the same place).
fn distinct(diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut seen = Vec::new();
    diagnostics
        .into_iter()
        .filter(|d| {
            let key = format!("{d:?}");
            let new = !seen.contains(&key);
            seen.push(key);
            new
        })
        .collect()
}

/// Turns a TOML syntax or shape error into a diagnostic, suggesting the closest key for an
/// unknown one (serde lists the expected keys in its message).
fn toml_diagnostic(error: &toml::de::Error, base: usize) -> Diagnostic {
    // serde names Rust types; scenario authors think in TOML values.
    let message = error
        .message()
        .trim()
        .replace("expected i64", "expected a whole number")
        .replace("expected f64", "expected a number")
        .replace("expected a string", "expected a quoted string");
    let span = error.span().unwrap_or(base..base);
    let diagnostic = Diagnostic::new(message.clone(), span).label("here");
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return diagnostic;
    };
    let unknown = rest.split('`').next().unwrap_or_default();
    let expected: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
    diagnostic.suggest(unknown, expected)
}
