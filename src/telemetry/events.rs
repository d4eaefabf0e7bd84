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
        let source = self.source.to_owned();
        metrics::counter!(REQUESTS, "source" => source.clone(), "outcome" => self.outcome)
            .increment(1);
        metrics::histogram!(REQUEST_SECONDS, "source" => source).record(self.elapsed.as_secs_f64());
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
        let source = self.source.to_owned();
        metrics::counter!(REQUESTS, "source" => source.clone(), "outcome" => self.kind)
            .increment(1);
        metrics::histogram!(REQUEST_SECONDS, "source" => source).record(self.elapsed.as_secs_f64());
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
        metrics::counter!(EVENTS, "source" => self.source.to_owned(), "type" => self.ty.to_owned())
            .increment(1);
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
