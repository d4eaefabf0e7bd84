//! What the HTTP layer tells an observer of each delivery (the admin inspector
//! subscribes; the HTTP layer knows no subscriber): what it saw of the request
//! and how it was answered, as an event emitted once per request.
//!
//! The call is synchronous, on the request path, before the answer is sent: an
//! entry is there to look at by the time its sender has its answer, and nothing
//! queues between the two. So an observer must do bounded work and never wait on
//! I/O; a slow one delays that request's answer (the inspector files under one
//! short lock and hands a slow page's live feed to a bounded broadcast that drops
//! what it cannot keep up with).

use axum::http::{HeaderMap, HeaderName};

use crate::event::Outcome;

/// What the HTTP layer saw of one request, beside its answer.
#[derive(Debug, Default)]
pub struct Seen {
    /// The configured source, or the requested segment (escaped, bounded) when unknown.
    pub source: String,
    /// The request named no configured source.
    pub unmatched: bool,
    /// What the observer kept of the headers (see [`DeliveryObserver::headers`]).
    pub headers: Vec<(String, String)>,
    /// The body as read (shared, not copied), when it was read.
    pub body: Option<bytes::Bytes>,
    pub latency_ms: f64,
}

/// How a request was answered.
#[derive(Debug, Clone, Copy)]
pub enum Answer<'a> {
    Answered(&'a Outcome),
    /// Not answered 2xx: the status, the error kind and, for a refused
    /// verification, its reason.
    Refused {
        status: u16,
        kind: &'static str,
        reason: Option<&'static str>,
    },
}

/// Subscribes to the deliveries the HTTP layer answers.
pub trait DeliveryObserver: Send + Sync + std::fmt::Debug {
    /// What to keep of a request's headers, taken before the gateway consumes them;
    /// `credential_headers` are those the source's schemes carry a secret in.
    fn headers(
        &self,
        headers: &HeaderMap,
        credential_headers: &[&HeaderName],
    ) -> Vec<(String, String)>;

    /// One answered request, received at `at`. Bounded work: see the module doc.
    fn observe(&self, seen: Seen, answer: Answer<'_>, at: chrono::DateTime<chrono::Utc>);
}
