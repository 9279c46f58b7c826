//! One integration-test binary (faster to build and link than one per file).

mod closed_form;
#[cfg(unix)]
mod cluster_docs;
mod determinism;
mod errors;
mod golden;
mod lint;
#[cfg(unix)]
mod output_safety;
mod report;
mod schema;
mod shard;
mod shipped_scenarios;
mod util;
