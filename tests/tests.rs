//! One integration-test binary (faster to build and link than one per file).

mod closed_form;
mod determinism;
mod errors;
mod shipped_scenarios;
mod util;
