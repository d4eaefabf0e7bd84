//! OTLP export behind a bounded queue: the SDK's batch span processor (its own
//! thread; a request only hands a finished span over, never waits) with a gate in
//! front that counts what it cannot take, and an exporter wrapper that counts what
//! the collector did not get. Both land in `hookgate_trace_spans_dropped_total`.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_otlp::{WithExportConfig, WithHttpConfig, WithTonicConfig};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SpanData, SpanExporter, SpanProcessor,
};

use crate::telemetry::config::{OtlpConfig, Protocol};
use crate::telemetry::TRACE_SPANS_DROPPED;

/// Finished spans waiting for export, at most: past it a span is dropped (and
/// counted) rather than held, so a collector that is away costs memory bounded
/// by this and nothing else.
pub const QUEUE: usize = 2048;

/// Spans per export request.
const BATCH: usize = 512;

/// Why the exporter could not be made.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up the OTLP exporter: {0}")]
pub struct ExportSetupError(String);

/// The processor a tracer provider exports through. The grpc transport starts
/// its connection task on the Tokio runtime current here (`Handle::enter`).
pub fn processor(cfg: &OtlpConfig) -> Result<Gate, ExportSetupError> {
    let fail = |e: &dyn std::fmt::Display| ExportSetupError(e.to_string());
    let headers = cfg
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v.expose()).into_owned()));
    let exporter = match cfg.protocol {
        Protocol::HttpProtobuf => opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_endpoint(cfg.traces_url())
            .with_timeout(cfg.timeout)
            .with_headers(headers.collect())
            .build(),
        Protocol::Grpc => {
            let mut map = http::HeaderMap::new();
            for (k, v) in headers {
                map.insert(
                    http::HeaderName::try_from(k).map_err(|e| fail(&e))?,
                    http::HeaderValue::try_from(v).map_err(|e| fail(&e))?,
                );
            }
            let metadata =
                opentelemetry_otlp::tonic_types::metadata::MetadataMap::from_headers(map);
            opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(cfg.traces_url())
                .with_timeout(cfg.timeout)
                .with_metadata(metadata)
                .build()
        }
    }
    .map_err(|e| fail(&e))?;
    Ok(Gate::new(exporter))
}

/// The batch processor, behind a gate that admits at most [`QUEUE`] spans not yet
/// through an export; the processor's own queue is as large, so it never drops
/// a span this gate did not count.
#[derive(Debug)]
pub struct Gate {
    inner: BatchSpanProcessor,
    pending: Arc<AtomicUsize>,
    capacity: usize,
}

impl Gate {
    fn new<E: SpanExporter + 'static>(exporter: E) -> Self {
        Self::with_queue(exporter, QUEUE)
    }

    fn with_queue<E: SpanExporter + 'static>(exporter: E, queue: usize) -> Self {
        let pending = Arc::new(AtomicUsize::new(0));
        let counted = Counted {
            inner: exporter,
            pending: pending.clone(),
            failing: AtomicBool::new(false),
        };
        let config = BatchConfigBuilder::default()
            .with_max_queue_size(queue)
            .with_max_export_batch_size(BATCH.min(queue))
            .build();
        for reason in ["queue_full", "export_failed"] {
            metrics::counter!(TRACE_SPANS_DROPPED, "reason" => reason).increment(0);
        }
        Self {
            inner: BatchSpanProcessor::new(counted, config),
            pending,
            capacity: queue,
        }
    }
}

impl SpanProcessor for Gate {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &opentelemetry::Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        if self.pending.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.pending.fetch_sub(1, Ordering::AcqRel);
            metrics::counter!(TRACE_SPANS_DROPPED, "reason" => "queue_full").increment(1);
            return;
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.inner.set_resource(resource);
    }
}

/// The OTLP exporter, counting the spans of every export that failed (the
/// collector away, refusing, or slower than `timeout`) and releasing the gate.
#[derive(Debug)]
struct Counted<E> {
    inner: E,
    pending: Arc<AtomicUsize>,
    /// Logs once when exports start failing and once when they work again.
    failing: AtomicBool,
}

impl<E: SpanExporter> SpanExporter for Counted<E> {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        let n = batch.len();
        let export = self.inner.export(batch);
        async move {
            let result = export.await;
            self.pending.fetch_sub(n, Ordering::AcqRel);
            match &result {
                Err(e) => {
                    metrics::counter!(TRACE_SPANS_DROPPED, "reason" => "export_failed")
                        .increment(n as u64);
                    if !self.failing.swap(true, Ordering::Relaxed) {
                        tracing::warn!(error = %e, spans = n, "cannot export spans to the OTLP collector; dropping them until it answers");
                    }
                }
                Ok(()) => {
                    if self.failing.swap(false, Ordering::Relaxed) {
                        tracing::info!("the OTLP collector takes spans again");
                    }
                }
            }
            result
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.inner.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{Tracer, TracerProvider};
    use opentelemetry_sdk::error::OTelSdkError;

    /// An exporter that fails every export after holding it a while.
    #[derive(Debug, Clone, Default)]
    struct Down {
        calls: Arc<AtomicUsize>,
    }

    impl SpanExporter for Down {
        fn export(&self, _batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
            self.calls.fetch_add(1, Ordering::Relaxed);
            async {
                std::thread::sleep(Duration::from_millis(50));
                Err(OTelSdkError::InternalFailure("collector away".into()))
            }
        }
    }

    #[test]
    fn a_full_queue_drops_without_waiting_and_failed_exports_release_it() {
        let down = Down::default();
        let gate = Gate::with_queue(down.clone(), 4);
        let pending = gate.pending.clone();
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_span_processor(gate)
            .build();
        let tracer = provider.tracer("test");
        let started = std::time::Instant::now();
        for _ in 0..100 {
            tracer.in_span("s", |_| {});
        }
        // Ending 100 spans never waited on the failing exporter.
        assert!(started.elapsed() < Duration::from_millis(40));
        assert!(pending.load(Ordering::Relaxed) <= 4);
        let _ = provider.shutdown_with_timeout(Duration::from_secs(2));
        assert_eq!(
            pending.load(Ordering::Relaxed),
            0,
            "failed exports release the gate"
        );
        assert!(down.calls.load(Ordering::Relaxed) >= 1);
    }
}
