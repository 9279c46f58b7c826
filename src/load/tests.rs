use super::*;

#[test]
fn a_variant_knows_its_base_and_what_it_changes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let base = load(&dir.join("baseline.toml")).unwrap();
    assert_eq!(base.raw.variant_of, None);
    let variant = load(&dir.join("china_restrains.toml")).unwrap().raw.variant_of.unwrap();
    assert_eq!(variant.base_id, "baseline");
    assert!(
        variant
            .changes
            .contains(&"trigger `china_tilts_to_axis` removed".to_string()),
        "{variant:?}"
    );
    assert!(
        variant
            .changes
            .contains(&"`china.stance`: initial = \"restrains\" (base: \"uneasy\")".to_string()),
        "{variant:?}"
    );
    assert!(
        variant
            .changes
            .iter()
            .any(|c| c.starts_with("param `p_china_reverts` = pert(0.005, 0.015, 0.04) (base: pert(")),
        "{variant:?}"
    );
    // Unchanged keys a variant repeats are not listed; the digest ignores the description.
    assert_eq!(variant.changes.len(), 4, "{variant:?}");
}

fn problems(text: &str) -> Vec<(usize, String)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, text).unwrap();
    let error = load(&path).unwrap_err();
    let line = |offset: usize| text[..offset].lines().count().max(1);
    error
        .diagnostics
        .iter()
        .map(|d| (line(d.span.clone().unwrap().start + 1), d.message.clone()))
        .collect()
}

#[test]
fn every_independent_shape_error_is_reported_in_file_order() {
    let text = "# five mistakes\n[scenario]\nid = \"bad\"\nsteps = \"36\"\ncolour = \"red\"\n\n\
                [params]\np = { pert = [0.1, 0.2, 0.3], mode = 2 }\n\n\
                [[triggers]]\nid = \"a\"\nprobabilty = \"p\"\n\n[[triggers]]\nlabel = \"no id\"\n\n\
                [[outcomes]]\nid = \"o\"\nwhen = 3\nextra = 1\n";
    let found = problems(text);
    let lines: Vec<usize> = found.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, [4, 5, 8, 12, 14, 20], "{found:?}");
    assert!(found[0].1.contains("expected a whole number"), "{found:?}");
    assert!(found[4].1.contains("missing field `id`"), "{found:?}");
}

#[test]
fn every_syntax_error_the_parser_recovers_from_is_reported() {
    let found = problems("[scenario]\nid = \"x\nsteps = 3\nname = = \"n\"\n");
    assert!(found.len() >= 2, "{found:?}");
    assert_eq!(found[0].0, 2, "{found:?}");
    assert!(found.iter().any(|(line, _)| *line == 4), "{found:?}");
}

#[test]
fn the_header_is_located_for_problems_with_missing_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.toml");
    std::fs::write(&path, "# a comment\n\n[scenario]\nid = \"x\"\n").unwrap();
    let loaded = load(&path).unwrap();
    let span = loaded.raw.header_span.unwrap();
    assert_eq!(loaded.sources.text(&span), "scenario");
}

#[test]
fn a_variant_states_its_own_claims_and_inherits_none() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let base = load(&dir.join("baseline.toml")).unwrap();
    assert!(base.raw.expect.len() > 1, "the baseline has claims");
    let variant = load(&dir.join("seoul_arms_kyiv.toml")).unwrap();
    let claims: Vec<Option<&str>> = variant
        .raw
        .expect
        .iter()
        .map(|e| e.get_ref().than.as_ref().map(|t| t.get_ref().as_str()))
        .collect();
    assert_eq!(claims, [Some("baseline")], "only the variant's own claim");
    // Claims are not part of what determines the numbers.
    let mut without = base.raw.clone();
    without.expect.clear();
    assert_eq!(without.digest(), base.raw.digest());
}
