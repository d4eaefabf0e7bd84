//! The `hookgate` binary: parse the command line and hand over to `cli`.

use clap::Parser;

// The pipeline (jq evaluation above all) allocates many small short-lived values;
// mimalloc takes them at a fraction of glibc malloc's cost (see docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = hookgate::cli::Cli::parse();
    match hookgate::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", hookgate::cli::term::Lines(&format!("{e:#}")));
            std::process::ExitCode::FAILURE
        }
    }
}
