//! The `hookgate` command line: serve, check, map, send, probe, bench.

mod args;
mod bench;
mod check;
mod probe;
mod replay;
mod send;
mod serve;
pub mod term;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub use serve::LogFormat;

#[derive(Debug, Parser)]
#[command(
    name = "hookgate",
    version,
    about = "Receiving-side webhook gateway: verify, map to CloudEvents, deduplicate, deliver"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway.
    Serve {
        #[arg(long, short, env = "HOOKGATE_CONFIG")]
        config: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "human", env = "HOOKGATE_LOG_FORMAT")]
        log_format: LogFormat,
    },
    /// Load the config and every mapping file, run every fixture case, report.
    Check {
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Folder of fixture cases: <DIR>/<provider>/<case>/.
        #[arg(long, default_value = "fixtures")]
        fixtures: PathBuf,
        /// Write each case's current outcome as its expected.json (review the diff!).
        #[arg(long)]
        bless: bool,
    },
    /// Print the canonical event a payload becomes, without sending anything.
    Map {
        #[arg(long, short)]
        provider: String,
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// A request header, as 'Name: value' (repeatable).
        #[arg(long = "header", short = 'H')]
        headers: Vec<String>,
        /// The payload file (raw body).
        file: PathBuf,
    },
    /// Sign and send a sample delivery the way the provider would.
    Send(send::Args),
    /// Dead letters back through the current mappings: re-verified, mapped,
    /// delivered with their deterministic ids.
    Replay(replay::Args),
    /// Load generator: unique signed deliveries at a fixed concurrency or rate.
    Bench(bench::Args),
    /// Health check: GET a URL, exit 0 on a 2xx answer (for container HEALTHCHECKs).
    Probe {
        #[arg(default_value = "http://127.0.0.1:8080/healthz")]
        url: String,
        #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
        timeout: std::time::Duration,
    },
}

/// Runs the parsed command; the exit code is non-zero on any failure.
pub fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    match cli.command {
        Command::Serve { config, log_format } => serve::run(config, log_format),
        Command::Check {
            config,
            fixtures,
            bless,
        } => check::check(config, &fixtures, bless),
        Command::Map {
            provider,
            config,
            headers,
            file,
        } => check::map(config, &provider, &headers, &file),
        Command::Send(args) => send::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Probe { url, timeout } => probe::run(&url, timeout),
    }
}
