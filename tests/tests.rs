//! One integration-test binary (faster to build and link than one per file).

mod architecture;
#[cfg(unix)]
mod ci_docs;
mod claims;
mod closed_form;
#[cfg(unix)]
mod cluster_docs;
mod determinism;
mod errors;
#[cfg(unix)]
mod exit_codes;
mod expressions;
mod golden;
#[cfg(unix)]
mod inputs;
mod limits;
mod lint;
#[cfg(unix)]
mod output_safety;
mod paired;
mod paths;
mod precision;
#[cfg(unix)]
mod published_together;
mod report;
mod schema;
mod sensitivity;
mod shard;
mod shipped_scenarios;
#[cfg(unix)]
mod slurm;
mod sweep;
mod sweep_shard;
mod util;
