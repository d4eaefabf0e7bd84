//! The W3C trace context of a request: a `traceparent` is taken only when every
//! part of it is well formed (then the OpenTelemetry `TraceContextPropagator`
//! reads it); anything else is ignored whole and the delivery starts a new trace.
//! And the other way: the `traceparent`/`tracestate` a span is written out as.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;

/// The longest `tracestate` kept (the W3C limit a vendor must pass on); a longer
/// one is dropped, the `traceparent` still taken.
const MAX_TRACESTATE: usize = 512;

/// A `traceparent` value that passed [`check_traceparent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent<'a> {
    /// The first 55 characters: `vv-<32 hex>-<16 hex>-ff` (a later version's
    /// extra fields cut off, as the specification says to read it).
    pub prefix: &'a str,
}

/// Why a `traceparent` is not taken (for the unit tests; a request never says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("not 55 characters (version 00), or a later version without a `-` after them")]
    Length,
    #[error("a field is not lowercase hex, or a separator is not `-`")]
    Syntax,
    #[error("version ff is invalid")]
    Version,
    #[error("the trace id is all zeros")]
    ZeroTraceId,
    #[error("the parent id is all zeros")]
    ZeroParentId,
}

/// Checks a `traceparent` header value strictly (W3C Trace Context, level 1):
/// lowercase hex only, exact lengths, no all-zero id, version 00 exactly 55
/// characters, version ff refused.
pub fn check_traceparent(value: &str) -> Result<TraceParent<'_>, Malformed> {
    let b = value.as_bytes();
    if b.len() < 55 {
        return Err(Malformed::Length);
    }
    let lower_hex = |s: &[u8]| s.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
    let (version, trace_id, parent_id, flags) = (&b[0..2], &b[3..35], &b[36..52], &b[53..55]);
    if [b[2], b[35], b[52]] != [b'-'; 3]
        || !lower_hex(version)
        || !lower_hex(trace_id)
        || !lower_hex(parent_id)
        || !lower_hex(flags)
    {
        return Err(Malformed::Syntax);
    }
    match version {
        b"ff" => return Err(Malformed::Version),
        b"00" if b.len() != 55 => return Err(Malformed::Length),
        _ if b.len() > 55 && b[55] != b'-' => return Err(Malformed::Length),
        _ => {}
    }
    if trace_id.iter().all(|c| *c == b'0') {
        return Err(Malformed::ZeroTraceId);
    }
    if parent_id.iter().all(|c| *c == b'0') {
        return Err(Malformed::ZeroParentId);
    }
    Ok(TraceParent {
        prefix: &value[..55],
    })
}

/// The parent a request names: its `traceparent` (exactly one, well formed) and
/// its `tracestate` (every header joined, bounded). `None`: start a new trace.
pub fn incoming(headers: &http::HeaderMap) -> Option<opentelemetry::Context> {
    let mut parents = headers.get_all("traceparent").iter();
    let (Some(value), None) = (parents.next(), parents.next()) else {
        return None;
    };
    let parent = check_traceparent(value.to_str().ok()?.trim()).ok()?;
    let state = headers
        .get_all("tracestate")
        .iter()
        .map(|v| v.to_str())
        .collect::<Result<Vec<_>, _>>()
        .ok()
        .map(|parts| parts.join(","))
        .filter(|s| s.len() <= MAX_TRACESTATE);
    let carrier = Carrier {
        traceparent: parent.prefix,
        tracestate: state.as_deref(),
    };
    let cx = TraceContextPropagator::new().extract(&carrier);
    cx.span().span_context().is_valid().then_some(cx)
}

struct Carrier<'a> {
    traceparent: &'a str,
    tracestate: Option<&'a str>,
}

impl Extractor for Carrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "traceparent" => Some(self.traceparent),
            "tracestate" => self.tracestate,
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}

/// The trace context a record carries (CloudEvents Distributed Tracing extension).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceHeaders {
    pub traceparent: String,
    /// `None` when the trace has no vendor state.
    pub tracestate: Option<String>,
}

impl Injector for TraceHeaders {
    fn set(&mut self, key: &str, value: String) {
        match key {
            "traceparent" => self.traceparent = value,
            "tracestate" if !value.is_empty() => self.tracestate = Some(value),
            _ => {}
        }
    }
}

/// The headers that continue `cx` (`None` when it holds no valid span).
pub fn outgoing(cx: &opentelemetry::Context) -> Option<TraceHeaders> {
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut headers = TraceHeaders::default();
    TraceContextPropagator::new().inject_context(cx, &mut headers);
    (!headers.traceparent.is_empty()).then_some(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_traceparent_is_taken() {
        assert_eq!(check_traceparent(VALID), Ok(TraceParent { prefix: VALID }));
        let unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
        assert!(check_traceparent(unsampled).is_ok());
    }

    #[test]
    fn malformed_traceparents_are_refused_whole() {
        let cases = [
            // version ff is forbidden
            (
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                Malformed::Version,
            ),
            // bad lengths
            (
                "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
                Malformed::Length,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
                Malformed::Length,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736a-00f067aa0ba902b7-01",
                Malformed::Syntax,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
                Malformed::Length,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
                Malformed::Length,
            ),
            (
                "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                Malformed::Length,
            ),
            ("", Malformed::Length),
            // all-zero ids
            (
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                Malformed::ZeroTraceId,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                Malformed::ZeroParentId,
            ),
            // uppercase hex anywhere
            (
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                Malformed::Syntax,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
                Malformed::Syntax,
            ),
            (
                "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                Malformed::Syntax,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
                Malformed::Syntax,
            ),
            // not hex, wrong separators, a sign that `from_str_radix` would take
            (
                "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                Malformed::Syntax,
            ),
            (
                "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
                Malformed::Syntax,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
                Malformed::Syntax,
            ),
        ];
        for (value, why) in cases {
            assert_eq!(check_traceparent(value), Err(why), "{value}");
        }
    }

    #[test]
    fn a_later_version_is_read_as_its_first_55_characters() {
        let later = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-adds";
        assert_eq!(check_traceparent(later).map(|p| p.prefix), Ok(&later[..55]));
        let glued = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x";
        assert_eq!(check_traceparent(glued), Err(Malformed::Length));
    }

    fn headers(pairs: &[(&'static str, &str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_static(k),
                http::HeaderValue::from_str(v).unwrap_or_else(|e| panic!("{e}")),
            );
        }
        h
    }

    #[test]
    fn incoming_context_round_trips_with_its_state() {
        let cx = incoming(&headers(&[
            ("traceparent", VALID),
            ("tracestate", "congo=t61rcWkgMzE"),
            ("tracestate", "rojo=00f067aa0ba902b7"),
        ]))
        .unwrap_or_else(|| panic!("taken"));
        let span = cx.span();
        let sc = span.span_context();
        assert_eq!(
            sc.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(sc.span_id().to_string(), "00f067aa0ba902b7");
        assert!(sc.is_sampled() && sc.is_remote());
        let out = outgoing(&cx).unwrap_or_default();
        assert_eq!(out.traceparent, VALID);
        assert_eq!(
            out.tracestate.as_deref(),
            Some("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
        );
    }

    #[test]
    fn two_traceparents_or_a_malformed_one_start_a_new_trace() {
        assert!(incoming(&headers(&[("traceparent", VALID), ("traceparent", VALID)])).is_none());
        assert!(incoming(&headers(&[("traceparent", &VALID.to_uppercase())])).is_none());
        assert!(incoming(&headers(&[("tracestate", "a=b")])).is_none());
        assert!(incoming(&http::HeaderMap::new()).is_none());
        // A tracestate past the bound is dropped; the traceparent still counts.
        let long = format!("a={}", "x".repeat(600));
        let cx = incoming(&headers(&[("traceparent", VALID), ("tracestate", &long)]))
            .unwrap_or_else(|| panic!("taken"));
        assert_eq!(outgoing(&cx).and_then(|h| h.tracestate), None);
    }
}
