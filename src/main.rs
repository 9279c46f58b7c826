//! The `sim` binary: all of it lives in the library; see `sim::cli`.

fn main() -> std::process::ExitCode {
    sim::cli::main()
}
