//! `sim`: seeded, parallel Monte Carlo simulation of escalation scenarios written in TOML.
//!
//! The pipeline, one module per stage, data flowing one way:
//! `load` (TOML -> raw scenario) -> `compile` (-> `model`: flat slots, `eval` trees) ->
//! `simulate` (-> any `Collector`; `tally`: the tallies, precursors and sensitivity; `job`: what
//! `sim run` collects) -> `aggregate` (-> summary; `verify` and `claims` judge summaries) ->
//! `report` / `plot` / `html` (-> files). See
//! ARCHITECTURE.md; `tests/architecture.rs` holds the code to this order.

pub mod aggregate;
pub mod claims;
pub mod cli;
pub mod comparable;
pub mod compile;
pub mod diagnostic;
pub mod eval;
pub mod expr;
pub mod format;
pub mod html;
pub mod input;
pub mod job;
pub mod lanes;
pub mod load;
pub mod model;
pub mod output;
pub mod plot;
pub mod precision;
pub mod report;
pub mod rng;
pub mod schema;
pub mod shard;
pub mod simulate;
pub mod sweep;
pub mod tally;
pub mod verify;
