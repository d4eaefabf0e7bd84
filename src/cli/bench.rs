//! `hookgate bench`: the load generator, pointed at a gateway (or the baseline) with
//! the gateway's own configuration, so it signs exactly as each source expects.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::loadgen::Load;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The gateway's configuration: the sources to send to, their providers and
    /// secrets (the first secret of each source signs).
    #[arg(long, short)]
    pub config: PathBuf,
    /// Only these sources (repeatable). Default: every configured source.
    #[arg(long = "source")]
    pub sources: Vec<String>,
    #[arg(long, default_value = "fixtures")]
    pub fixtures: PathBuf,
    /// Requests kept in flight (closed loop).
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// A fixed arrival rate in requests per second instead (open loop).
    #[arg(long)]
    pub rate: Option<u32>,
    /// Open loop: most requests outstanding before scheduled ones are skipped.
    #[arg(long, default_value_t = 4096)]
    pub max_in_flight: usize,
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Load sent before measuring starts (connections, caches, the broker's metadata).
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub warmup: Duration,
    /// Also report the CPU time this process (the server) spends in the measured
    /// window, and per request (Linux).
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Print the report as JSON (one object) instead of text.
    #[arg(long)]
    pub json: bool,
    /// No per-second progress lines on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Where the gateway listens, e.g. http://127.0.0.1:8080 (requests go to
    /// {BASE}/webhooks/{source}).
    pub base: String,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let loaded = crate::config::load(&a.config)?;
    let (set, skipped) = crate::loadgen::deliveries(&loaded, &a.sources, &a.fixtures)?;
    for s in &skipped.0 {
        eprintln!("skipped: {s}");
    }
    anyhow::ensure!(
        !set.is_empty(),
        "no fixture case maps to an event for these sources"
    );
    if !a.quiet {
        eprintln!(
            "{} templates: {}",
            set.len(),
            set.names().collect::<Vec<_>>().join(", ")
        );
    }
    let load = match a.rate {
        Some(per_second) => Load::Rate {
            per_second,
            max_in_flight: a.max_in_flight,
        },
        None => Load::Concurrency(a.concurrency),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = rt.block_on(crate::loadgen::run(
        &a.base,
        set,
        load,
        a.warmup,
        a.duration,
        !a.quiet,
        a.server_pid,
    ))?;
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("{report}");
    }
    Ok(ExitCode::SUCCESS)
}
