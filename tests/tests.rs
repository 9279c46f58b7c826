#[cfg(unix)]
mod cluster_docs;
mod determinism;
mod golden;
#[cfg(unix)]
mod output_safety;
mod shard;
mod util;
