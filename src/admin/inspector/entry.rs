//! One delivery as the inspector holds it: what is kept of it (bodies and the
//! canonical event cut, a large dead letter without its body), and the bytes it
//! is counted for in the budget.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::event::{DeadLetter, Decision, Outcome};
use crate::http::Seen;
use crate::replay::ReplayResult;

/// Captured request bodies are cut at this size (they may be large and hold
/// personal data; the inspector is for looking, not for archiving).
pub const MAX_CAPTURED_BODY: usize = 16 * 1024;
/// The canonical event is shown cut at this size (it is in the output whole).
pub const MAX_SHOWN_EVENT: usize = 64 * 1024;
/// A dead letter is kept whole, for Replay, while it takes at most this fraction
/// of the budget (2 MiB of the default 64 MiB); a larger one keeps its reason and
/// detail, and is replayed from the dead-letter output with `hookgate replay`.
pub const WHOLE_DEAD_LETTER_SHARE: usize = 32;

/// A dead letter as the inspector holds it.
#[derive(Debug)]
pub enum HeldDeadLetter {
    /// The record as received: Replay works from it.
    Whole(DeadLetter),
    /// Too large to keep whole: the record without its headers and body (`bytes`
    /// long), for its reason and detail. Replay runs from the dead-letter output.
    Cut { record: DeadLetter, bytes: usize },
}

impl HeldDeadLetter {
    /// The record, whole or not (for its reason and detail).
    pub fn record(&self) -> &DeadLetter {
        match self {
            Self::Whole(d) | Self::Cut { record: d, .. } => d,
        }
    }

    /// The record Replay can run from, or the size of the body that was not kept.
    pub fn replayable(&self) -> Result<&DeadLetter, usize> {
        match self {
            Self::Whole(d) => Ok(d),
            Self::Cut { bytes, .. } => Err(*bytes),
        }
    }
}

/// One delivery as the inspector shows it.
#[derive(Debug, Serialize)]
pub struct Entry {
    /// Increasing over the process's life: the delivery's address in the pages.
    pub seq: u64,
    /// Receive time, RFC 3339.
    pub at: String,
    /// The configured source, or the requested segment (escaped, bounded) when unknown.
    pub source: String,
    pub provider_type: Option<String>,
    /// `accepted`, `duplicate`, `ignored`, `responded`, `dead_lettered`,
    /// `rejected` (4xx) or `unavailable` (503).
    pub outcome: String,
    /// Why: the verification reason or error kind, or the dead letter's reason.
    pub reason: Option<String>,
    pub status: u16,
    pub canonical_type: Option<String>,
    pub id: Option<String>,
    pub latency_ms: f64,
    /// The canonical event, pretty JSON (cut at [`MAX_SHOWN_EVENT`]).
    pub event: Option<String>,
    /// The dead letter (what Replay works from; its detail is shown).
    #[serde(skip)]
    pub dead_letter: Option<HeldDeadLetter>,
    /// The request's headers, credentials hidden, bounded (see [`visible_headers`]).
    pub headers: Vec<(String, String)>,
    /// The raw body, when `capture_bodies` is on (cut at [`MAX_CAPTURED_BODY`]),
    /// unless the whole dead letter holds it: see [`Entry::body`].
    body: Option<String>,
    /// The body to show is the whole dead letter's (not kept twice).
    body_in_dead_letter: bool,
    /// Set on the entry a Replay produced: the dead letter it came from.
    pub replay_of: Option<u64>,
    /// Replays run on this entry, newest last.
    #[serde(skip)]
    pub replays: Mutex<Vec<ReplayResult>>,
    /// The bytes this entry is counted for in the budget.
    #[serde(skip)]
    pub(super) cost: usize,
}

impl Entry {
    /// A new entry for what was seen, its outcome not filled in yet; the body
    /// prefix is kept when `capture_bodies`.
    pub(super) fn new(
        seq: u64,
        seen: &Seen,
        at: chrono::DateTime<chrono::Utc>,
        of: Option<u64>,
        capture_bodies: bool,
    ) -> Self {
        Self {
            seq,
            at: at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            source: seen.source.clone(),
            provider_type: None,
            outcome: String::new(),
            reason: None,
            status: 200,
            canonical_type: None,
            id: None,
            latency_ms: seen.latency_ms,
            event: None,
            dead_letter: None,
            headers: seen.headers.clone(),
            body: seen.body.as_ref().filter(|_| capture_bodies).map(|b| {
                String::from_utf8_lossy(&b[..b.len().min(MAX_CAPTURED_BODY)]).into_owned()
            }),
            body_in_dead_letter: false,
            replay_of: of,
            replays: Mutex::new(Vec::new()),
            cost: 0,
        }
    }

    /// Fills in what the delivery became; a dead letter is kept whole while it
    /// takes at most `max_bytes / WHOLE_DEAD_LETTER_SHARE`.
    pub(super) fn answered(&mut self, outcome: &Outcome, max_bytes: usize) {
        self.outcome = outcome.status().to_owned();
        self.provider_type = outcome.decision.provider_type().map(str::to_owned);
        self.id = outcome.decision.record_id().map(|id| id.to_string());
        match &outcome.decision {
            Decision::Deliver(event) => {
                self.canonical_type = Some(event.ty.clone());
                self.event = serde_json::to_string_pretty(&**event)
                    .ok()
                    .map(|json| shown(json.as_bytes(), MAX_SHOWN_EVENT));
            }
            Decision::DeadLetter(d) => {
                self.reason = Some(d.reason.as_str().to_owned());
                let whole = dead_letter_heap(d) <= max_bytes / WHOLE_DEAD_LETTER_SHARE;
                self.dead_letter = Some(if whole {
                    // The whole record holds the body: the shown prefix is read from it.
                    if self.body.take().is_some() {
                        self.body_in_dead_letter = true;
                    }
                    HeldDeadLetter::Whole((**d).clone())
                } else {
                    HeldDeadLetter::Cut {
                        record: without_body(d),
                        bytes: d.raw_body().map_or(0, |b| b.len()),
                    }
                });
            }
            Decision::Ignore { .. } | Decision::Respond(_) | Decision::Batch(_) => {}
        }
    }

    /// The captured body, cut at [`MAX_CAPTURED_BODY`].
    pub fn body(&self) -> Option<Cow<'_, str>> {
        if let Some(b) = &self.body {
            return Some(Cow::Borrowed(b));
        }
        if !self.body_in_dead_letter {
            return None;
        }
        let d = self.dead_letter.as_ref()?.replayable().ok()?;
        match &d.body {
            Some(text) => Some(Cow::Borrowed(cut_at_char(text, MAX_CAPTURED_BODY))),
            None => {
                let raw = d.raw_body().ok()?;
                Some(Cow::Owned(
                    String::from_utf8_lossy(&raw[..raw.len().min(MAX_CAPTURED_BODY)]).into_owned(),
                ))
            }
        }
    }

    /// An estimate of the heap this entry holds (its strings, its headers, its
    /// dead letter), plus its own size and its place in a ring.
    pub(super) fn estimate(&self) -> usize {
        const OVERHEAD: usize = std::mem::size_of::<Entry>()
            + 2 * std::mem::size_of::<usize>() // the Arc's counts
            + std::mem::size_of::<Arc<Entry>>(); // its slot in a ring
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::capacity);
        OVERHEAD
            + self.at.capacity()
            + self.source.capacity()
            + opt(&self.provider_type)
            + self.outcome.capacity()
            + opt(&self.reason)
            + opt(&self.canonical_type)
            + opt(&self.id)
            + opt(&self.event)
            + opt(&self.body)
            + self.headers.capacity() * std::mem::size_of::<(String, String)>()
            + self
                .headers
                .iter()
                .map(|(k, v)| k.capacity() + v.capacity())
                .sum::<usize>()
            + self
                .dead_letter
                .as_ref()
                .map_or(0, |d| dead_letter_heap(d.record()))
    }
}

/// The heap a dead letter's fields hold (the struct itself is inside its entry).
fn dead_letter_heap(d: &DeadLetter) -> usize {
    /// A B-tree map entry: its key and value, and a share of its node.
    const MAP_SLOT: usize = 2 * std::mem::size_of::<String>() + 16;
    let opt = |s: &Option<String>| s.as_ref().map_or(0, String::capacity);
    d.source.capacity()
        + d.provider.capacity()
        + d.detail.capacity()
        + opt(&d.providereventtype)
        + d.received_at.capacity()
        + d.headers
            .iter()
            .map(|(k, v)| MAP_SLOT + k.capacity() + v.capacity())
            .sum::<usize>()
        + opt(&d.body)
        + opt(&d.body_base64)
        + opt(&d.query)
}

/// `s` cut to at most `max` bytes, at a character boundary.
fn cut_at_char(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `bytes` as text, cut at `max` bytes with a mark saying how long it was.
pub(super) fn shown(bytes: &[u8], max: usize) -> String {
    if bytes.len() <= max {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    format!(
        "{}… [cut: {} bytes]",
        String::from_utf8_lossy(&bytes[..max]),
        bytes.len()
    )
}

/// A dead letter's reason and detail without its headers and body.
fn without_body(d: &DeadLetter) -> DeadLetter {
    DeadLetter {
        id: d.id,
        source: d.source.clone(),
        provider: d.provider.clone(),
        reason: d.reason,
        detail: d.detail.clone(),
        providereventtype: d.providereventtype.clone(),
        received_at: d.received_at.clone(),
        headers: std::collections::BTreeMap::new(),
        body: None,
        body_base64: None,
        query: None,
        item: d.item,
        traceparent: d.traceparent.clone(),
        tracestate: d.tracestate.clone(),
        // Cut, so no longer what was sealed.
        seal: None,
    }
}
