//! The spans of a delivery, named and attributed after the OpenTelemetry semantic
//! conventions (HTTP server, messaging, CloudEvents), and what is recorded on
//! them. Every one has the target [`TARGET`]: only these reach the exporter, and
//! the log lines never show them. With no `[telemetry.otlp]` no layer wants
//! them, so each is a disabled `Span` that costs a callsite check.
//!
//! Attributes carry ids, names and reason words only: never a header value, a
//! body, a query string or a URL token.

use opentelemetry::trace::{Status, TraceContextExt};
use tracing::field::Empty;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::context::{check_traceparent, incoming, outgoing, TraceHeaders};

/// The target of every exported span (the exporter's filter keeps these).
pub const TARGET: &str = "hookgate::trace";

/// The route of a webhook request, as `http.route` and `url.path` show it (the
/// path's token segment never appears).
fn route(token: bool) -> &'static str {
    if token {
        "/webhooks/{source}/{token}"
    } else {
        "/webhooks/{source}"
    }
}

/// The server span of one webhook delivery: continues the request's valid
/// `traceparent`, or starts a new trace.
pub fn delivery(method: &http::Method, token: bool, headers: &http::HeaderMap) -> Span {
    let route = route(token);
    let span = tracing::info_span!(
        target: "hookgate::trace",
        "delivery",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        http.request.method = %method,
        http.route = route,
        url.path = route,
        url.scheme = "http",
        server.address = Empty,
        server.port = Empty,
        http.response.status_code = Empty,
        error.type = Empty,
        hookgate.source = Empty,
        hookgate.provider = Empty,
        hookgate.outcome = Empty,
        hookgate.reason = Empty,
        cloudevents.event_id = Empty,
        cloudevents.event_type = Empty,
    );
    if span.is_disabled() {
        return span;
    }
    // The host the request named, when it is a well-formed authority.
    let authority = headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<http::uri::Authority>().ok());
    if let Some(a) = authority.filter(|a| a.host().len() <= 253) {
        span.record("server.address", a.host());
        if let Some(port) = a.port_u16() {
            span.record("server.port", port);
        }
    }
    let _ = span.set_parent(incoming(headers).unwrap_or_default());
    span
}

/// One step of a delivery (`verify`, `map`, `validate`, `dedup`), a child of the
/// current span.
pub fn stage(name: &'static str) -> Span {
    tracing::info_span!(
        target: "hookgate::trace",
        "stage",
        otel.name = name,
        hookgate.reason = Empty,
        hookgate.dedup = Empty,
    )
}

/// Writing one record to the output (Kafka: a producer span; renamed `spool`
/// when the record goes to the local spool instead).
pub fn produce(output: &'static str) -> Span {
    let kafka = output.contains("kafka");
    tracing::info_span!(
        target: "hookgate::trace",
        "produce",
        otel.name = "produce",
        otel.kind = "producer",
        messaging.system = kafka.then_some("kafka"),
        messaging.operation.type = "send",
        messaging.operation.name = "send",
        messaging.destination.name = Empty,
        hookgate.output = output,
        hookgate.spooled = Empty,
        hookgate.dead_letter.reason = Empty,
        cloudevents.event_id = Empty,
        cloudevents.event_type = Empty,
    )
}

/// A dead letter brought back by `hookgate replay` (or the inspector): a new
/// trace, linked to the one the record was written in when it kept its
/// `traceparent`.
pub fn replay(source: &str, traceparent: Option<&str>, tracestate: Option<&str>) -> Span {
    let span = tracing::info_span!(
        target: "hookgate::trace",
        "replay",
        otel.name = "replay",
        hookgate.source = %source,
        hookgate.outcome = Empty,
    );
    if span.is_disabled() {
        return span;
    }
    let _ = span.set_parent(opentelemetry::Context::new());
    let kept = traceparent
        .filter(|tp| check_traceparent(tp).is_ok())
        .map(|tp| {
            let mut h = http::HeaderMap::new();
            if let Ok(v) = http::HeaderValue::from_str(tp) {
                h.insert("traceparent", v);
            }
            if let Some(v) = tracestate.and_then(|s| http::HeaderValue::from_str(s).ok()) {
                h.insert("tracestate", v);
            }
            h
        });
    if let Some(cx) = kept.as_ref().and_then(incoming) {
        span.add_link(cx.span().span_context().clone());
    }
    span
}

/// The trace context `span` continues as: what a record carries so a consumer
/// continues the trace (`None` without tracing).
pub fn headers_of(span: &Span) -> Option<TraceHeaders> {
    if span.is_disabled() {
        return None;
    }
    outgoing(&span.context())
}

/// Puts the trace and span ids of `delivery` on `log_span` (the request span
/// every log line of the request carries), so a log line leads to its trace.
pub fn log_ids(log_span: &Span, delivery: &Span) {
    if delivery.is_disabled() {
        return;
    }
    let cx = delivery.context();
    let span = cx.span();
    let sc = span.span_context();
    if sc.is_valid() {
        log_span.record("trace_id", tracing::field::display(sc.trace_id()));
        log_span.record("span_id", tracing::field::display(sc.span_id()));
    }
}

/// Marks `span` failed with a reason word (a verification or dead-letter
/// reason, an error kind): never a detail.
pub fn fail(span: &Span, reason: &'static str) {
    span.record("hookgate.reason", reason);
    span.set_status(Status::error(reason));
}

/// What the current delivery span learns once its source is known.
pub fn source_known(source: &str, provider: &str, token: bool) {
    let span = Span::current();
    span.record("hookgate.source", source);
    span.record("hookgate.provider", provider);
    if token {
        span.record(
            "url.path",
            tracing::field::display(format_args!("/webhooks/{source}/{{token}}")),
        );
    } else {
        span.record(
            "url.path",
            tracing::field::display(format_args!("/webhooks/{source}")),
        );
    }
}

/// The event a span is about (the delivery span for a single event, and each
/// produce span).
pub fn event_known(span: &Span, id: &dyn std::fmt::Display, ty: &str) {
    span.record("cloudevents.event_id", tracing::field::display(id));
    span.record("cloudevents.event_type", ty);
}

/// The current delivery span's answer: the status and the outcome word
/// (`accepted`, …), or the error kind and the reason the answer names. Server
/// spans are failed for 5xx answers only (OpenTelemetry HTTP conventions); a
/// refused request still says why in `error.type`.
pub fn answered(status: u16, outcome: &'static str, reason: Option<&'static str>) {
    let span = Span::current();
    span.record("http.response.status_code", status);
    span.record("hookgate.outcome", outcome);
    if status >= 400 {
        span.record("error.type", reason.unwrap_or(outcome));
        if let Some(reason) = reason {
            span.record("hookgate.reason", reason);
        }
    }
    if status >= 500 {
        span.set_status(Status::error(outcome));
    }
}

/// The topic the current produce span writes to.
pub fn destination(topic: &str) {
    Span::current().record("messaging.destination.name", topic);
}

/// The current produce span's record went to the local spool.
pub fn spooled() {
    let span = Span::current();
    span.record("otel.name", "spool");
    span.record("hookgate.spooled", true);
}
