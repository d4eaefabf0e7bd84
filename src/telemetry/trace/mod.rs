//! Tracing: the log subscriber, and with `[telemetry.otlp]` the OpenTelemetry
//! layer bridged from `tracing` that exports the delivery spans; the W3C trace
//! context in and out. The guard flushes what is queued on shutdown.

mod context;
mod export;
mod spans;

use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing_subscriber::filter::FilterExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

pub use context::{check_traceparent, incoming, outgoing, Malformed, TraceHeaders, TraceParent};
pub use export::{ExportSetupError, QUEUE};
pub use spans::*;

use super::config::OtlpConfig;

/// How log lines are written (to stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

/// The installed tracer provider, when spans are exported: shut it down last.
#[derive(Debug, Default)]
#[must_use = "dropping the guard without `shutdown` loses the spans still queued"]
pub struct Tracing {
    provider: Option<SdkTracerProvider>,
}

impl Tracing {
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Exports what is queued, waiting at most `budget` (a collector that is away
    /// costs the budget, never more).
    pub fn shutdown(self, budget: Duration) {
        let Some(provider) = self.provider else {
            return;
        };
        match provider.shutdown_with_timeout(budget) {
            Ok(()) => tracing::debug!("spans flushed"),
            Err(e) => tracing::warn!(error = %e, "spans not all flushed at shutdown"),
        }
    }
}

/// Installs the process's subscriber: log lines in `logs` (none: no log lines, as
/// `hookgate replay` prints its own report) filtered by `RUST_LOG` (default
/// `info`), and with `otlp` the layer that exports the delivery spans. A grpc
/// exporter needs a Tokio runtime entered here.
pub fn install(
    logs: Option<LogFormat>,
    otlp: Option<&OtlpConfig>,
) -> Result<Tracing, ExportSetupError> {
    let fmt = logs.map(|format| {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        // Colours only on a terminal: log collectors get plain text.
        let base = tracing_subscriber::fmt::layer()
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr);
        // The delivery spans are for the exporter: a log line names its trace
        // by the request span's `trace_id` instead.
        let filter = filter.and(tracing_subscriber::filter::filter_fn(|m| {
            m.target() != TARGET
        }));
        match format {
            LogFormat::Human => base.with_filter(filter).boxed(),
            LogFormat::Json => base.json().with_filter(filter).boxed(),
        }
    });
    let provider = otlp.map(provider).transpose()?;
    let otel = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("hookgate"))
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            .with_context_activation(false)
            .with_filter(tracing_subscriber::filter::filter_fn(|m| {
                m.target() == TARGET
            }))
    });
    // A second install (tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(otel)
        .try_init();
    Ok(Tracing { provider })
}

fn provider(cfg: &OtlpConfig) -> Result<SdkTracerProvider, ExportSetupError> {
    let mut resource = opentelemetry_sdk::Resource::builder().with_attribute(
        opentelemetry::KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
    );
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("hookgate");
    }
    Ok(SdkTracerProvider::builder()
        .with_span_processor(export::processor(cfg)?)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            cfg.sample_ratio,
        ))))
        .with_resource(resource.build())
        .build())
}
