//! Metrics: every metric name in one place (as Vector does), the internal events
//! that emit them with their log lines, and the Prometheus recorder that
//! `/metrics` renders; and tracing (`trace`): the subscriber, the delivery spans,
//! OTLP export.

mod config;
pub mod events;
mod handles;
pub mod trace;

pub use config::{OtlpConfig, Protocol, TelemetryConfig};

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Requests by `source` and `outcome` (accepted, duplicate, ignored, responded,
/// dead_lettered, or the error kind: unauthorized, unknown_source, rate_limited, …).
pub const REQUESTS: &str = "hookgate_requests_total";
/// Verification failures by `source` and `reason` (signature_mismatch, …).
pub const VERIFICATION_FAILURES: &str = "hookgate_verification_failures_total";
/// Events delivered by `source` and canonical `type`.
pub const EVENTS: &str = "hookgate_events_total";
/// Dead letters written by `source` and `reason`.
pub const DEAD_LETTERS: &str = "hookgate_dead_letters_total";
/// Duplicates answered without delivering, by `source`.
pub const DEDUP_HITS: &str = "hookgate_dedup_hits_total";
/// Time from handing a record to the output to its acknowledgement, by `output`
/// and `result` (ok, error).
pub const OUTPUT_ACK_SECONDS: &str = "hookgate_output_ack_seconds";
/// librdkafka's client-level failures (the brokers out of reach), by `kind`:
/// authentication, tls, transport, other.
pub const KAFKA_CLIENT_ERRORS: &str = "hookgate_kafka_client_errors_total";
/// 1 while `/readyz` answers 200 (ready, or accepting onto the spool), else 0:
/// evaluated every 10 s by `serve` and on every `/readyz`.
pub const READY: &str = "hookgate_ready";
/// Failed attempts to register or look up hookgate's schemas in the schema
/// registry, by `kind`: unavailable (retried), refused (incompatible or invalid).
pub const SCHEMA_REGISTRY_ERRORS: &str = "hookgate_schema_registry_errors_total";
/// Whole request duration, by `source`.
pub const REQUEST_SECONDS: &str = "hookgate_request_duration_seconds";
/// Requests being processed now.
pub const IN_FLIGHT: &str = "hookgate_requests_in_flight";
/// Keys held by the dedup store (memory store; 0 for Redis).
pub const DEDUP_KEYS: &str = "hookgate_dedup_keys";
/// Ids the memory dedup store forgot before their TTL because a source reached
/// its `max_entries`, by `source` (their redeliveries would be delivered again).
pub const DEDUP_EVICTIONS: &str = "hookgate_dedup_evictions_total";
/// Configuration reloads (SIGHUP) by `result` (ok, error).
pub const CONFIG_RELOADS: &str = "hookgate_config_reloads_total";

/// Connections refused because `server.max_connections` were open.
pub const CONNECTIONS_REFUSED: &str = "hookgate_connections_refused_total";

/// Pipeline tasks that panicked (answered 503), by `source`.
pub const PIPELINE_PANICS: &str = "hookgate_pipeline_panics_total";
/// Dedup store failures: claims that found it unreachable (`on_unavailable` =
/// `open`: delivered without dedup, `closed`: 503) and commits that failed (`commit`).
pub const DEDUP_ERRORS: &str = "hookgate_dedup_errors_total";

/// Records on the spool now (gauge).
pub const SPOOL_RECORDS: &str = "hookgate_spool_records";
/// Bytes of the records waiting on the spool now (gauge; `max_bytes` bounds it
/// together with the quarantine's).
pub const SPOOL_BYTES: &str = "hookgate_spool_bytes";
/// Records in the spool's quarantine table now (gauge): kept, never produced.
pub const SPOOL_QUARANTINE_RECORDS: &str = "hookgate_spool_quarantine_records";
/// Their bytes (gauge): part of what `max_bytes` bounds.
pub const SPOOL_QUARANTINE_BYTES: &str = "hookgate_spool_quarantine_bytes";
/// Age of the oldest record on the spool (gauge, 0 when empty).
pub const SPOOL_OLDEST_AGE_SECONDS: &str = "hookgate_spool_oldest_record_age_seconds";
/// Records appended to the spool.
pub const SPOOL_APPENDED: &str = "hookgate_spool_appended_total";
/// Records produced from the spool and removed after their acknowledgement.
pub const SPOOL_DRAINED: &str = "hookgate_spool_drained_total";
/// Failed drain rounds, by `kind` (broker, store).
pub const SPOOL_DRAIN_ERRORS: &str = "hookgate_spool_drain_errors_total";
/// Appends refused, by `kind` (full, error): answered 503.
pub const SPOOL_APPEND_FAILURES: &str = "hookgate_spool_append_failures_total";
/// Records the broker did not acknowledge in time, sent to the spool (fallback mode).
pub const SPOOL_FALLBACKS: &str = "hookgate_spool_fallbacks_total";
/// Records moved aside, by `when` (open: unreadable; refused: by the broker).
pub const SPOOL_QUARANTINED: &str = "hookgate_spool_quarantined_total";

/// Bytes the inspector's entries are counted for (gauge; `[admin] max_memory`
/// bounds it).
pub const INSPECTOR_BYTES: &str = "hookgate_inspector_bytes";
/// Entries the inspector holds (gauge).
pub const INSPECTOR_ENTRIES: &str = "hookgate_inspector_entries";

/// Finished spans not exported, by `reason`: `queue_full` (more spans waiting
/// than the export queue holds) or `export_failed` (the collector away, refusing,
/// or slower than `[telemetry.otlp] timeout`).
pub const TRACE_SPANS_DROPPED: &str = "hookgate_trace_spans_dropped_total";

/// The `source` label for requests to no configured source: a fixed value, so
/// random URLs cannot grow the label set.
pub const UNKNOWN_SOURCE: &str = "_unknown";

const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide Prometheus recorder, installed on first use.
pub fn prometheus() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new().set_buckets(SECONDS_BUCKETS).ok()?;
            match builder.install_recorder() {
                Ok(h) => Some(h),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot install the metrics recorder");
                    None
                }
            }
        })
        .clone()
}
