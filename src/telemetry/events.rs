//! Internal events (after Vector's `internal_events`): one struct per thing that
//! happens, whose `emit()` writes its log line and its metrics together, so the
//! two never drift apart and handlers hold no inline log-plus-counter pairs.

use std::time::Duration;

use super::*;

/// A webhook request answered 2xx.
pub struct RequestAnswered<'a> {
    /// The configured source id (never a URL segment: label values come from
    /// configuration only).
    pub source: &'a str,
    /// `accepted`, `duplicate`, `ignored`, `responded`, `dead_lettered`.
    pub outcome: &'static str,
    pub elapsed: Duration,
}

impl RequestAnswered<'_> {
    pub fn emit(self) {
        let handles = handles::source(self.source);
        handles.requests(self.outcome).increment(1);
        handles.seconds.record(self.elapsed.as_secs_f64());
        tracing::debug!(
            source = self.source,
            outcome = self.outcome,
            "delivery answered"
        );
    }
}

/// A webhook request not answered 2xx. 5xx answers log at `error` with their
/// cause (which the answer never shows); the others at `warn`.
pub struct RequestRejected<'a> {
    pub source: &'a str,
    /// The source segment as requested, escaped for a log line.
    pub requested: &'a dyn std::fmt::Display,
    /// The error kind (`unauthorized`, `unavailable`, …): the `outcome` label.
    pub kind: &'static str,
    pub status: u16,
    /// What went wrong, for the operator: the verification reason, or the cause.
    pub detail: &'a dyn std::fmt::Display,
    pub elapsed: Duration,
}

impl RequestRejected<'_> {
    pub fn emit(self) {
        let handles = handles::source(self.source);
        handles.requests(self.kind).increment(1);
        handles.seconds.record(self.elapsed.as_secs_f64());
        if self.status >= 500 {
            tracing::error!(source = %self.requested, error = self.kind, status = self.status, cause = %self.detail, "delivery not accepted");
        } else {
            tracing::warn!(source = %self.requested, error = self.kind, status = self.status, detail = %self.detail, "delivery rejected");
        }
    }
}

/// A request that failed its source's checks (its log line is the rejection's).
pub struct VerificationFailed<'a> {
    pub source: &'a str,
    pub reason: &'static str,
}

impl VerificationFailed<'_> {
    pub fn emit(self) {
        metrics::counter!(VERIFICATION_FAILURES, "source" => self.source.to_owned(), "reason" => self.reason)
            .increment(1);
    }
}

/// A canonical event delivered (acknowledged by the output).
pub struct EventDelivered<'a> {
    pub source: &'a str,
    pub ty: &'a str,
}

impl EventDelivered<'_> {
    pub fn emit(self) {
        handles::source(self.source).events(self.ty).increment(1);
    }
}

/// A delivery answered as a duplicate: nothing written.
pub struct DuplicateAnswered<'a> {
    pub source: &'a str,
}

impl DuplicateAnswered<'_> {
    pub fn emit(self) {
        metrics::counter!(DEDUP_HITS, "source" => self.source.to_owned()).increment(1);
    }
}

/// An authentic delivery written to the dead-letter output.
pub struct DeadLettered<'a> {
    pub source: &'a str,
    pub reason: &'static str,
    pub detail: &'a str,
}

impl DeadLettered<'_> {
    pub fn emit(self) {
        metrics::counter!(DEAD_LETTERS, "source" => self.source.to_owned(), "reason" => self.reason)
            .increment(1);
        tracing::info!(
            source = self.source,
            reason = self.reason,
            detail = self.detail,
            "dead-lettered"
        );
    }
}

/// The output acknowledged (or failed) a record.
pub struct OutputAcknowledged {
    pub output: &'static str,
    pub ok: bool,
    pub elapsed: Duration,
}

impl OutputAcknowledged {
    pub fn emit(self) {
        let result = if self.ok { "ok" } else { "error" };
        metrics::histogram!(OUTPUT_ACK_SECONDS, "output" => self.output, "result" => result)
            .record(self.elapsed.as_secs_f64());
    }
}

/// The Kafka client reported a failure of its own (not of one record): refused
/// credentials, a TLS handshake, a broker out of reach.
pub struct KafkaClientFailed<'a> {
    pub kind: &'static str,
    pub detail: &'a str,
    /// Whether this failure differs from the last one reported (logged only then:
    /// librdkafka repeats a failure on every reconnect).
    pub new: bool,
}

impl KafkaClientFailed<'_> {
    pub fn emit(self) {
        metrics::counter!(KAFKA_CLIENT_ERRORS, "kind" => self.kind).increment(1);
        if !self.new {
            return;
        }
        if matches!(self.kind, "authentication" | "tls") {
            tracing::error!(
                kind = self.kind,
                error = self.detail,
                "the Kafka brokers refused the connection; check [output.sasl] / [output.tls]"
            );
        } else {
            tracing::warn!(kind = self.kind, error = self.detail, "Kafka client error");
        }
    }
}

impl KafkaClientFailed<'_> {
    /// Every kind at 0 from the start, so `increase()` in an alert sees the first
    /// failure (a series that appears with 1 has no increase to show).
    pub fn register_kinds() {
        for kind in ["authentication", "tls", "transport", "other"] {
            metrics::counter!(KAFKA_CLIENT_ERRORS, "kind" => kind).increment(0);
        }
    }
}

/// An attempt to register or look up hookgate's schemas in the schema registry
/// failed.
pub struct SchemaRegistryFailed<'a> {
    /// `unavailable` (retried while `/readyz` says why) or `refused` (the registry
    /// will not take the schema: incompatible or invalid).
    pub kind: &'static str,
    pub detail: &'a str,
    /// Whether this failure differs from the last one reported (logged only then:
    /// every `/readyz` probe retries while the registry is away).
    pub new: bool,
}

impl SchemaRegistryFailed<'_> {
    pub fn emit(self) {
        // The first attempt is made while the output is built, before anything
        // else installed the recorder.
        let _ = prometheus();
        metrics::counter!(SCHEMA_REGISTRY_ERRORS, "kind" => self.kind).increment(1);
        if !self.new {
            return;
        }
        if self.kind == "refused" {
            tracing::error!(
                error = self.detail,
                "the schema registry refused hookgate's schema"
            );
        } else {
            tracing::warn!(
                error = self.detail,
                "schema registry unavailable: records wait for their schema ids (answered 503)"
            );
        }
    }
}

/// What readiness was found to be (by the periodic check or a `/readyz`).
pub struct ReadinessObserved {
    pub ready: bool,
}

impl ReadinessObserved {
    pub fn emit(self) {
        metrics::gauge!(READY).set(if self.ready { 1.0 } else { 0.0 });
    }
}

/// The registry gave the id of hookgate's schema under a subject: records for it
/// are framed with that id from now on, for the life of the process.
pub struct SchemaIdKnown<'a> {
    pub subject: &'a str,
    pub record: &'a str,
    pub id: u32,
}

impl SchemaIdKnown<'_> {
    pub fn emit(self) {
        tracing::info!(
            subject = self.subject,
            record = self.record,
            id = self.id,
            "schema registry: schema id known"
        );
    }
}

/// The pipeline task of a request panicked: answered 503, counted, and logged with
/// the panic's message.
pub struct PipelinePanicked<'a> {
    pub source: &'a str,
    pub cause: &'a dyn std::fmt::Display,
}

impl PipelinePanicked<'_> {
    pub fn emit(self) {
        metrics::counter!(PIPELINE_PANICS, "source" => self.source.to_owned()).increment(1);
        tracing::error!(source = self.source, cause = %self.cause, "the pipeline task panicked");
    }
}

/// The dedup store could not be reached for a claim.
pub struct DedupUnavailable<'a> {
    pub error: &'a dyn std::fmt::Display,
    /// `open`: delivered without dedup; `closed`: answered 503.
    pub on_unavailable: &'static str,
}

impl DedupUnavailable<'_> {
    pub fn emit(self) {
        metrics::counter!(DEDUP_ERRORS, "on_unavailable" => self.on_unavailable).increment(1);
        match self.on_unavailable {
            "open" => {
                tracing::warn!(error = %self.error, "dedup store unavailable: delivering without dedup (fail-open)")
            }
            _ => {
                tracing::warn!(error = %self.error, "dedup store unavailable: answering 503 (fail-closed)")
            }
        }
    }
}

/// A delivered event whose dedup mark could not be written: a retry may deliver it
/// again (with the same id).
pub struct DedupCommitFailed<'a> {
    pub error: &'a dyn std::fmt::Display,
}

impl DedupCommitFailed<'_> {
    pub fn emit(self) {
        metrics::counter!(DEDUP_ERRORS, "on_unavailable" => "commit").increment(1);
        tracing::warn!(error = %self.error, "dedup commit failed after delivery: a retry may deliver it again");
    }
}

/// The memory dedup store forgot an id before its TTL (the source's bound).
pub struct DedupEvicted<'a> {
    pub source: &'a str,
}

impl DedupEvicted<'_> {
    pub fn emit(self) {
        metrics::counter!(DEDUP_EVICTIONS, "source" => self.source.to_owned()).increment(1);
    }
}

/// A connection refused at `max_connections`.
pub struct ConnectionRefused {
    pub peer: std::net::SocketAddr,
}

impl ConnectionRefused {
    pub fn emit(self) {
        metrics::counter!(CONNECTIONS_REFUSED).increment(1);
        tracing::debug!(peer = %self.peer, "connection refused: max_connections reached");
    }
}

/// A SIGHUP reload took effect.
pub struct ConfigReloaded<'a> {
    pub file: &'a str,
    pub sources: usize,
    /// Changed sections that apply only after a restart.
    pub needs_restart: &'a [&'static str],
}

impl ConfigReloaded<'_> {
    pub fn emit(self) {
        metrics::counter!(CONFIG_RELOADS, "result" => "ok").increment(1);
        if !self.needs_restart.is_empty() {
            tracing::warn!(
                sections = %self.needs_restart.join(", "),
                "configuration reloaded, but these sections changed and apply only after a restart"
            );
        }
        tracing::info!(
            config = self.file,
            sources = self.sources,
            "configuration reloaded"
        );
    }
}

/// A SIGHUP reload was refused; the previous configuration keeps serving.
pub struct ConfigReloadFailed<'a> {
    pub error: &'a str,
}

impl ConfigReloadFailed<'_> {
    pub fn emit(self) {
        metrics::counter!(CONFIG_RELOADS, "result" => "error").increment(1);
        // One log line per event, even when several mapping files fail.
        let error = self
            .error
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        tracing::error!(%error, "configuration reload rejected: the previous configuration keeps serving");
    }
}

/// The spool was opened at start-up, with what a previous run left.
pub struct SpoolOpened<'a> {
    pub path: &'a std::path::Path,
    /// Readable records found, and their bytes.
    pub records: u64,
    pub bytes: u64,
    /// Unreadable records moved to the quarantine table.
    pub quarantined_records: u64,
    /// Folders unusable store files were moved into.
    pub moved_aside: &'a [std::path::PathBuf],
    /// Readable records copied out of a moved-aside file.
    pub salvaged_records: u64,
}

impl SpoolOpened<'_> {
    pub fn emit(self) {
        // The spool's counters exist from the start, so `rate()` and alerts see
        // their first increase.
        for counter in [SPOOL_APPENDED, SPOOL_DRAINED, SPOOL_FALLBACKS] {
            metrics::counter!(counter).increment(0);
        }
        let quarantined = self.quarantined_records + self.moved_aside.len() as u64;
        if quarantined > 0 {
            metrics::counter!(SPOOL_QUARANTINED, "when" => "open").increment(quarantined);
            tracing::error!(
                path = %self.path.display(),
                quarantined_records = self.quarantined_records,
                moved_aside = ?self.moved_aside,
                salvaged_records = self.salvaged_records,
                "spool: unreadable records or files were moved aside (kept, not produced)"
            );
        }
        tracing::info!(
            path = %self.path.display(),
            records = self.records,
            bytes = self.bytes,
            "spool opened; its records will be drained to Kafka"
        );
    }
}

/// The broker could not acknowledge a record in time: it goes to the spool.
pub struct SpoolFallback<'a> {
    pub cause: &'a dyn std::fmt::Display,
}

impl SpoolFallback<'_> {
    pub fn emit(self) {
        metrics::counter!(SPOOL_FALLBACKS).increment(1);
        tracing::warn!(cause = %self.cause, "Kafka did not acknowledge in time: spooling the record");
    }
}

/// A record made durable on the spool.
pub struct SpoolAppended;

impl SpoolAppended {
    pub fn emit(self) {
        metrics::counter!(SPOOL_APPENDED).increment(1);
    }
}

/// A record the spool could not take (full, or a disk error): answered 503.
pub struct SpoolAppendFailed<'a> {
    /// The spool is at its `max_bytes` (else: a disk or store error).
    pub full: bool,
    pub error: &'a dyn std::fmt::Display,
}

impl SpoolAppendFailed<'_> {
    pub fn emit(self) {
        let kind = if self.full { "full" } else { "error" };
        metrics::counter!(SPOOL_APPEND_FAILURES, "kind" => kind).increment(1);
        tracing::error!(error = %self.error, "spool append failed: answering 503");
    }
}

/// Records produced from the spool and removed after their acknowledgement.
pub struct SpoolDrained {
    pub records: u64,
}

impl SpoolDrained {
    pub fn emit(self) {
        if self.records > 0 {
            metrics::counter!(SPOOL_DRAINED).increment(self.records);
            tracing::debug!(records = self.records, "spool drained to Kafka");
        }
    }
}

/// A drain round that failed (`kind`: `broker` or `store`); retried with backoff.
pub struct SpoolDrainFailed<'a> {
    pub kind: &'static str,
    pub error: &'a dyn std::fmt::Display,
}

impl SpoolDrainFailed<'_> {
    pub fn emit(self) {
        metrics::counter!(SPOOL_DRAIN_ERRORS, "kind" => self.kind).increment(1);
        tracing::warn!(kind = self.kind, error = %self.error, "spool drain failed; retrying");
    }
}

/// A spooled record the broker refuses for good: moved to the quarantine table.
pub struct SpoolRecordRefused<'a> {
    pub event_id: &'a str,
    pub why: &'a str,
}

impl SpoolRecordRefused<'_> {
    pub fn emit(self) {
        metrics::counter!(SPOOL_QUARANTINED, "when" => "refused").increment(1);
        tracing::error!(event_id = self.event_id, why = self.why, "Kafka refuses a spooled record: moved to the spool's quarantine table (kept, not produced)");
    }
}

/// The spool's gauges, refreshed before a scrape.
pub struct SpoolObserved {
    pub records: u64,
    pub bytes: u64,
    pub quarantined_records: u64,
    pub quarantined_bytes: u64,
    /// How long the oldest record has waited (0 when the spool is empty).
    pub oldest_age: std::time::Duration,
}

impl SpoolObserved {
    pub fn emit(self) {
        metrics::gauge!(SPOOL_RECORDS).set(self.records as f64);
        metrics::gauge!(SPOOL_BYTES).set(self.bytes as f64);
        metrics::gauge!(SPOOL_QUARANTINE_RECORDS).set(self.quarantined_records as f64);
        metrics::gauge!(SPOOL_QUARANTINE_BYTES).set(self.quarantined_bytes as f64);
        metrics::gauge!(SPOOL_OLDEST_AGE_SECONDS).set(self.oldest_age.as_secs_f64());
    }
}

/// What the inspector holds, after each entry it files.
pub struct InspectorHeld {
    pub bytes: usize,
    pub entries: usize,
}

impl InspectorHeld {
    pub fn emit(self) {
        metrics::gauge!(INSPECTOR_BYTES).set(self.bytes as f64);
        metrics::gauge!(INSPECTOR_ENTRIES).set(self.entries as f64);
    }
}
