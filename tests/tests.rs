mod determinism;
mod golden;
mod output_safety;
mod shard;
mod util;
