//! What the gateway puts on its spans: the produce span of one record, and the
//! trace context the record carries out of it.

use tracing::Span;

use crate::dedup::Claim;
use crate::event::Decision;
use crate::output::OutputError;
use crate::telemetry::trace;

/// The span `decision`'s record is written in; the record is stamped with its
/// trace context (so a consumer continues the trace) before it is sealed.
pub(super) fn produce(output: &'static str, decision: &mut Decision) -> Span {
    let span = trace::produce(output);
    if span.is_disabled() {
        return span;
    }
    match &*decision {
        Decision::Deliver(e) => trace::event_known(&span, &e.id, &e.ty),
        Decision::DeadLetter(d) => {
            trace::event_known(&span, &d.id, "dead_letter");
            span.record("hookgate.dead_letter.reason", d.reason.as_str());
        }
        Decision::Ignore { .. } | Decision::Respond(_) | Decision::Batch(_) => {}
    }
    if let Some(h) = trace::headers_of(&span) {
        decision.set_trace(h.traceparent, h.tracestate);
    }
    span
}

/// The word a failed write is marked with.
pub(super) fn output_failed(span: &Span, e: &OutputError) {
    trace::fail(
        span,
        match e {
            OutputError::Unavailable(_) => "unavailable",
            OutputError::Encode(_) => "encode_failed",
            OutputError::Rejected(_) => "rejected",
        },
    );
}

/// What the dedup store answered a claim.
pub(super) fn claimed(span: &Span, claim: Option<&Claim>) {
    let word = match claim {
        None => "unavailable",
        Some(Claim::Acquired(_)) => "acquired",
        Some(Claim::Duplicate) => "duplicate",
        Some(Claim::InFlight) => "in_flight",
    };
    span.record("hookgate.dedup", word);
}
