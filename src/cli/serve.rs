//! `hookgate serve`: logging, the listener, graceful shutdown.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use crate::config::Loaded;
use crate::gateway::{Gateway, LiveGateway};
use crate::http::{app_live, ops_app, webhook_app};
use crate::telemetry;

/// How log lines are written.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// How long shutdown waits for the last spans to reach the collector.
const TRACE_FLUSH_BUDGET: std::time::Duration = std::time::Duration::from_secs(2);

pub fn run(config: Option<PathBuf>, log_format: LogFormat) -> anyhow::Result<ExitCode> {
    let loaded = match &config {
        Some(p) => crate::config::load(p)?,
        None => crate::config::Loaded::empty(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // The recorder first: the exporter and the output register their counters (at
    // 0) as they are built.
    let _ = crate::telemetry::prometheus();
    // The grpc exporter starts its connection on this runtime.
    let traces = {
        let _entered = rt.enter();
        telemetry::trace::install(
            Some(match log_format {
                LogFormat::Human => telemetry::trace::LogFormat::Human,
                LogFormat::Json => telemetry::trace::LogFormat::Json,
            }),
            loaded.config.telemetry.otlp.as_ref(),
        )?
    };
    if config.is_none() {
        tracing::warn!("no --config given: serving no sources (see examples/quickstart.toml)");
    }
    warn_public_secrets(&loaded);
    let live = Arc::new(LiveGateway::new(loaded.build_gateway()?));
    if !live.load().sealer().is_enabled() && config.is_some() {
        tracing::warn!(
            "[dead_letters] keys is not set: dead letters are written unsealed, and \
             `hookgate replay` accepts them only with --trust-unauthenticated"
        );
    }
    let server = loaded.config.server.clone();
    let otlp = loaded
        .config
        .telemetry
        .otlp
        .as_ref()
        .map_or_else(|| "(off)".to_owned(), |o| o.traces_url());
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(server.listen).await?;
        let ops_listener = match server.metrics_listen {
            Some(addr) => Some(tokio::net::TcpListener::bind(addr).await?),
            None => None,
        };
        let admin = loaded.config.admin.clone();
        let admin_listener = match &admin {
            Some(a) => Some(tokio::net::TcpListener::bind(a.listen).await?),
            None => None,
        };
        tokio::spawn(crate::http::watch_readiness(live.clone()));
        let inspector = admin
            .as_ref()
            .map(|a| Arc::new(crate::admin::inspector::Inspector::new(a.inspector())));
        let addr = |l: &Option<tokio::net::TcpListener>| {
            l.as_ref()
                .and_then(|l| l.local_addr().ok())
                .map_or_else(|| "(none)".to_owned(), |a| a.to_string())
        };
        tracing::info!(
            listen = %listener.local_addr()?,
            metrics_listen = %addr(&ops_listener),
            admin_listen = %addr(&admin_listener),
            config = %loaded.file,
            sources = loaded.config.sources.len(),
            output = live.load().output().kind(),
            traces = %otlp,
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
        match config {
            Some(path) => {
                tokio::spawn(reload_on_sighup(path, loaded.clone(), live.clone()));
            }
            None => tracing::info!("no --config: SIGHUP has nothing to reload"),
        }
        let (limits, options) = (server.limits(), server.serve_options());
        // One signal stops every listener.
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = stop_tx.send(true);
        });
        let stopped = move || {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|stop| *stop).await;
            }
        };
        // The operations and admin listeners serve beside the public one and stop
        // with it.
        let mut side = Vec::new();
        if let Some(l) = ops_listener {
            side.push(tokio::spawn(crate::http::serve(
                l,
                ops_app(live.clone()),
                options,
                stopped(),
            )));
        }
        if let (Some(l), Some(a), Some(insp)) = (admin_listener, &admin, &inspector) {
            side.push(tokio::spawn(crate::http::serve(
                l,
                crate::admin::app(live.clone(), insp.clone(), a),
                options,
                stopped(),
            )));
        }
        // The inspector files each delivery the public listener answers.
        let observer = inspector
            .clone()
            .map(|i| i as Arc<dyn crate::http::DeliveryObserver>);
        let public = if server.metrics_listen.is_some() {
            webhook_app(live.clone(), limits, observer)
        } else {
            app_live(live.clone(), limits, observer)
        };
        crate::http::serve(listener, public, options, stopped()).await;
        for task in side {
            let _ = task.await;
        }
        // What the broker takes within the budget is delivered; a spool keeps the
        // rest on disk for the next start.
        live.load().output().shutdown(server.shutdown_timeout).await;
        Ok::<_, anyhow::Error>(())
    })?;
    traces.shutdown(TRACE_FLUSH_BUDGET);
    tracing::info!("hookgate stopped");
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

/// SIGHUP: read the configuration file and the mapping folders again and swap
/// the new gateway in whole. Anything wrong leaves the running one serving.
async fn reload_on_sighup(path: PathBuf, mut running: Loaded, live: Arc<LiveGateway>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hup = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGHUP: reload disabled");
                return;
            }
        };
        while hup.recv().await.is_some() {
            // Compiling mappings and schemas is CPU work: keep it off the
            // request workers.
            let (p, r, current) = (path.clone(), running.clone(), live.load_full());
            let built = tokio::task::spawn_blocking(move || reload(&p, &r, &current))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()));
            match built {
                Ok(done) => {
                    warn_public_secrets(&done.loaded);
                    live.store(done.gateway);
                    running = done.loaded;
                    telemetry::events::ConfigReloaded {
                        file: &running.file,
                        sources: running.config.sources.len(),
                        needs_restart: &done.needs_restart,
                    }
                    .emit();
                }
                Err(e) => telemetry::events::ConfigReloadFailed { error: &e }.emit(),
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (path, running, live);
    }
}

fn reload(
    path: &Path,
    running: &Loaded,
    current: &Gateway,
) -> Result<crate::config::Reload, crate::config::ConfigError> {
    crate::config::load(path)?.rebuild_gateway(current, running)
}

/// Loud on purpose: a published key in production lets anyone forge deliveries.
fn warn_public_secrets(loaded: &Loaded) {
    for w in loaded.public_secret_warnings() {
        tracing::warn!("INSECURE: {w}");
    }
}
