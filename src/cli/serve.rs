//! `hookgate serve`: logging, the listener, graceful shutdown.

use std::path::PathBuf;
use std::process::ExitCode;

use super::LogFormat;
use crate::http::{app, Limits};

pub fn run(config: Option<PathBuf>, log_format: LogFormat) -> anyhow::Result<ExitCode> {
    init_logging(log_format);
    let loaded = match config {
        Some(p) => crate::config::load(&p)?,
        None => {
            tracing::warn!("no --config given: serving no sources (see examples/quickstart.toml)");
            crate::config::Loaded::empty()
        }
    };
    let gateway = loaded.gateway()?;
    let server = loaded.config.server.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(server.listen).await?;
        tracing::info!(
            listen = %listener.local_addr()?,
            config = %loaded.file,
            sources = loaded.config.sources.len(),
            output = gateway.output().kind(),
            "hookgate listening"
        );
        // Install the recorder before the first request; keep histograms drained.
        if let Some(handle) = crate::telemetry::prometheus() {
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
                loop {
                    tick.tick().await;
                    handle.run_upkeep();
                }
            });
        }
        let router = app(
            gateway.clone(),
            Limits {
                max_body_bytes: server.max_body_bytes,
                read_timeout: server.read_timeout,
            },
        );
        // Slow headers get the same budget as the body.
        crate::http::serve(
            listener,
            router,
            server.read_timeout,
            shutdown_signal(),
            server.shutdown_timeout,
        )
        .await;
        gateway.output().shutdown().await;
        tracing::info!("hookgate stopped");
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested: finishing in-flight requests");
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
