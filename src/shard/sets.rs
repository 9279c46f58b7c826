//! Which part files make up complete wholes: shared by the merge of `sim run`'s shards
//! ([`super::Partial`]) and of a sweep's ([`super::sweep::SweepPart`]).
//!
//! In: parts, each named by where it came from (a file name, for messages). Out: per scenario
//! id, in order of first appearance, the parts of one whole, one per shard, handed to a merge of
//! their counts; or every problem found: a part unusable on its own, a part of another whole
//! (the most common identity in a group is taken as the whole, ties to the part given first), a
//! shard missing or given twice.

use indexmap::IndexMap;

use super::{MergeError, Shard};
use crate::model::ScenarioId;

/// What merging asks of a part file.
pub(crate) trait Part {
    /// The scenario the part counts runs of: parts are grouped by it.
    fn scenario_id(&self) -> &ScenarioId;
    /// Shard `index` of `count`.
    fn shard(&self) -> (u64, u64);
    /// The run count and seed of the whole.
    fn runs_and_seed(&self) -> (u64, u64);
    /// `shard K/N of … (runs a..b)`, for messages.
    fn describe(&self) -> String;
    /// What makes the part unusable on its own (format, damage, inconsistency).
    fn problems(&self) -> Vec<String>;
    /// What must be equal for two parts to be pieces of one whole, as (field, value).
    fn identity(&self) -> Vec<(&'static str, String)>;
    /// Why two parts differ in `field`, for fields whose values mean nothing to a reader
    /// (digests); `None` prints both values.
    fn explain(field: &str) -> Option<&'static str>;
    /// How the whole is named in messages: "`id`", "the sweep of `id`".
    fn whole(&self) -> String;
    /// The command that makes shard `index` of the whole, for the message that it is missing.
    fn command_for(&self, index: u64) -> String;
}

/// Groups `parts` by scenario id and merges each complete group with `merge_whole`, which gets
/// the group's parts one per shard (in the order given) and may find problems of its own.
pub(crate) fn merge_parts<P: Part, M>(
    parts: Vec<(String, P)>,
    merge_whole: impl Fn(Vec<(String, P)>) -> Result<M, Vec<String>>,
) -> Result<Vec<M>, MergeError> {
    let mut problems = Vec::new();
    let mut groups: IndexMap<ScenarioId, Vec<(String, P)>> = IndexMap::new();
    for (name, part) in parts {
        let own = part.problems();
        if own.is_empty() {
            groups.entry(part.scenario_id().clone()).or_default().push((name, part));
        } else {
            problems.extend(own.into_iter().map(|p| format!("{name}: {p}")));
        }
    }
    let mut merged = Vec::new();
    for group in groups.into_values() {
        let (whole, incomplete) = one_whole(group);
        match merge_whole(whole) {
            Ok(one) if incomplete.is_empty() => merged.push(one),
            Ok(_) => problems.extend(incomplete),
            Err(more) => problems.extend(incomplete.into_iter().chain(more)),
        }
    }
    if problems.is_empty() {
        Ok(merged)
    } else {
        Err(MergeError { problems })
    }
}

/// The parts of the group's most common identity, the first given of each shard, and why they
/// are not one complete whole: parts of another identity, shards missing or given twice.
fn one_whole<P: Part>(group: Vec<(String, P)>) -> (Vec<(String, P)>, Vec<String>) {
    let identities: Vec<Vec<(&'static str, String)>> = group.iter().map(|(_, part)| part.identity()).collect();
    let mut tally: IndexMap<&[(&'static str, String)], usize> = IndexMap::new();
    for identity in &identities {
        *tally.entry(identity).or_default() += 1;
    }
    let mut reference: Option<(&[(&'static str, String)], usize)> = None;
    for (&identity, &n) in &tally {
        if reference.is_none_or(|(_, best)| n > best) {
            reference = Some((identity, n));
        }
    }
    let reference = reference.expect("groups are never empty").0.to_vec();
    let at = identities
        .iter()
        .position(|identity| *identity == reference)
        .expect("the reference comes from the group");
    let reference_name = group[at].0.clone();

    let mut problems = Vec::new();
    let mut by_index: IndexMap<u64, Vec<(String, P)>> = IndexMap::new();
    for ((name, part), identity) in group.into_iter().zip(identities) {
        if identity == reference {
            by_index.entry(part.shard().0).or_default().push((name, part));
            continue;
        }
        let differences: Vec<String> = identity
            .iter()
            .zip(&reference)
            .filter(|(mine, theirs)| mine.1 != theirs.1)
            .map(|((field, mine), (_, theirs))| match P::explain(field) {
                Some(why) => why.to_string(),
                None => format!("{field} is {mine} here but {theirs} in {reference_name}"),
            })
            .collect();
        problems.push(format!(
            "{name}: {} does not belong with {reference_name}: {}",
            part.describe(),
            differences.join("; ")
        ));
    }
    let first = &by_index.values().next().expect("the reference has at least one part")[0].1;
    let (_, shards) = first.shard();
    for index in 0..shards {
        match by_index.get(&index).map(Vec::as_slice) {
            None | Some([]) => {
                let (total, seed) = first.runs_and_seed();
                let runs = Shard::new(index, shards).expect("index < shards").runs(total);
                problems.push(format!(
                    "shard {index}/{shards} of {} is missing (runs {}..{} of {total}, seed {seed}); run it with `{}`",
                    first.whole(),
                    runs.start,
                    runs.end,
                    first.command_for(index)
                ));
            }
            Some([_]) => {}
            Some(several) => {
                let names: Vec<&str> = several.iter().map(|(name, _)| name.as_str()).collect();
                problems.push(format!(
                    "shard {index}/{shards} of {} is given {} times: {}; pass each shard once",
                    first.whole(),
                    several.len(),
                    names.join(", ")
                ));
            }
        }
    }
    let whole = by_index
        .into_values()
        .filter_map(|parts| parts.into_iter().next())
        .collect();
    (whole, problems)
}
