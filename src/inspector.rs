//! The inspector's memory: the most recent deliveries of each source (a bounded
//! ring per source), what each became, and a live feed of new ones. The HTTP layer
//! records; the admin pages read. Secrets and signature values are never kept in
//! what is shown: their headers are hidden when recorded.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::broadcast;

use crate::event::{DeadLetter, Decision, Outcome};
use crate::replay::ReplayResult;

/// Captured request bodies are cut at this size (they may be large and hold
/// personal data; the inspector is for looking, not for archiving).
pub const MAX_CAPTURED_BODY: usize = 16 * 1024;

/// Header values that are credentials: shown as `[hidden]`.
pub const HIDDEN: &str = "[hidden]";

/// One delivery as the inspector shows it.
#[derive(Debug, Serialize)]
pub struct Entry {
    /// Increasing over the process's life: the delivery's address in the pages.
    pub seq: u64,
    /// Receive time, RFC 3339.
    pub at: String,
    /// The configured source, or the requested segment (escaped) when unknown.
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
    /// The canonical event, pretty JSON.
    pub event: Option<String>,
    /// The dead letter (what Replay works from; its detail is shown).
    #[serde(skip)]
    pub dead_letter: Option<DeadLetter>,
    /// The request's headers, credentials hidden.
    pub headers: Vec<(String, String)>,
    /// The raw body, when `capture_bodies` is on (cut at [`MAX_CAPTURED_BODY`]).
    pub body: Option<String>,
    /// Set on the entry a Replay produced: the dead letter it came from.
    pub replay_of: Option<u64>,
    /// Replays run on this entry, newest last.
    #[serde(skip)]
    pub replays: Mutex<Vec<ReplayResult>>,
}

/// What the HTTP layer saw of one request, beside its result.
#[derive(Debug, Default)]
pub struct Seen {
    pub source: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<bytes::Bytes>,
    pub latency_ms: f64,
}

/// A request's result, as the inspector files it.
pub enum Filed<'a> {
    Answered(&'a Outcome),
    /// Not answered 2xx: the status, the error kind and, for a refused
    /// verification, its reason.
    Refused {
        status: u16,
        kind: &'static str,
        reason: Option<&'static str>,
    },
}

pub struct Inspector {
    per_source: usize,
    capture_bodies: bool,
    next: AtomicU64,
    rings: Mutex<HashMap<String, VecDeque<Arc<Entry>>>>,
    feed: broadcast::Sender<Arc<Entry>>,
}

impl std::fmt::Debug for Inspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inspector")
            .field("per_source", &self.per_source)
            .finish_non_exhaustive()
    }
}

impl Inspector {
    pub fn new(per_source: usize, capture_bodies: bool) -> Self {
        Self {
            per_source: per_source.max(1),
            capture_bodies,
            next: AtomicU64::new(1),
            rings: Mutex::new(HashMap::new()),
            feed: broadcast::channel(256).0,
        }
    }

    pub fn captures_bodies(&self) -> bool {
        self.capture_bodies
    }

    /// Files one delivery; the oldest of its source's ring goes when full.
    pub fn record(
        &self,
        seen: Seen,
        result: Filed<'_>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Arc<Entry> {
        self.record_replay(seen, result, at, None)
    }

    /// As [`Inspector::record`], for the delivery a Replay of entry `of` produced.
    pub fn record_replay(
        &self,
        seen: Seen,
        result: Filed<'_>,
        at: chrono::DateTime<chrono::Utc>,
        of: Option<u64>,
    ) -> Arc<Entry> {
        match result {
            // A batch is filed item by item: each is its own event.
            Filed::Answered(outcome) if matches!(outcome.decision, Decision::Batch(_)) => {
                let mut last = None;
                for item in &outcome.items {
                    let mut entry = self.entry(&seen, at, of);
                    Self::answered(&mut entry, item);
                    last = Some(self.file(entry));
                }
                last.unwrap_or_else(|| {
                    let mut entry = self.entry(&seen, at, of);
                    entry.outcome = "batch".to_owned();
                    entry.reason = Some("no items".to_owned());
                    self.file(entry)
                })
            }
            Filed::Answered(outcome) => {
                let mut entry = self.entry(&seen, at, of);
                Self::answered(&mut entry, outcome);
                self.file(entry)
            }
            Filed::Refused {
                status,
                kind,
                reason,
            } => {
                let mut entry = self.entry(&seen, at, of);
                entry.status = status;
                entry.outcome = if status >= 500 {
                    "unavailable"
                } else {
                    "rejected"
                }
                .to_owned();
                entry.reason = Some(reason.unwrap_or(kind).to_owned());
                self.file(entry)
            }
        }
    }

    fn entry(&self, seen: &Seen, at: chrono::DateTime<chrono::Utc>, of: Option<u64>) -> Entry {
        Entry {
            seq: self.next.fetch_add(1, Ordering::Relaxed),
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
            body: seen.body.as_ref().filter(|_| self.capture_bodies).map(|b| {
                String::from_utf8_lossy(&b[..b.len().min(MAX_CAPTURED_BODY)]).into_owned()
            }),
            replay_of: of,
            replays: Mutex::new(Vec::new()),
        }
    }

    fn answered(entry: &mut Entry, outcome: &Outcome) {
        entry.outcome = outcome.status().to_owned();
        entry.provider_type = outcome.decision.provider_type().map(str::to_owned);
        entry.id = outcome.decision.record_id().map(|id| id.to_string());
        match &outcome.decision {
            Decision::Deliver(event) => {
                entry.canonical_type = Some(event.ty.clone());
                entry.event = serde_json::to_string_pretty(&**event).ok();
            }
            Decision::DeadLetter(d) => {
                entry.reason = Some(d.reason.as_str().to_owned());
                entry.dead_letter = Some((**d).clone());
            }
            Decision::Ignore { .. } | Decision::Respond(_) | Decision::Batch(_) => {}
        }
    }

    /// Puts an entry in its source's ring (the oldest goes when full) and on the feed.
    fn file(&self, entry: Entry) -> Arc<Entry> {
        let entry = Arc::new(entry);
        {
            let mut rings = self.rings.lock().unwrap_or_else(|p| p.into_inner());
            let ring = rings.entry(entry.source.clone()).or_default();
            if ring.len() >= self.per_source {
                ring.pop_front();
            }
            ring.push_back(entry.clone());
        }
        // Nobody watching is fine; a slow watcher misses entries (and can reload).
        let _ = self.feed.send(entry.clone());
        entry
    }

    /// The most recent entries, newest first, filtered; at most `limit`.
    pub fn recent(
        &self,
        source: Option<&str>,
        outcome: Option<&str>,
        limit: usize,
    ) -> Vec<Arc<Entry>> {
        let rings = self.rings.lock().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<Arc<Entry>> = rings
            .iter()
            .filter(|(s, _)| source.is_none_or(|want| want == s.as_str()))
            .flat_map(|(_, ring)| ring.iter().cloned())
            .filter(|e| outcome.is_none_or(|o| e.outcome == o))
            .collect();
        all.sort_by_key(|e| std::cmp::Reverse(e.seq));
        all.truncate(limit);
        all
    }

    pub fn get(&self, seq: u64) -> Option<Arc<Entry>> {
        let rings = self.rings.lock().unwrap_or_else(|p| p.into_inner());
        rings
            .values()
            .flat_map(|ring| ring.iter())
            .find(|e| e.seq == seq)
            .cloned()
    }

    /// How many entries are held, per source (for tests and the page's header).
    pub fn held(&self) -> HashMap<String, usize> {
        let rings = self.rings.lock().unwrap_or_else(|p| p.into_inner());
        rings.iter().map(|(s, r)| (s.clone(), r.len())).collect()
    }

    /// New entries as they are recorded.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Entry>> {
        self.feed.subscribe()
    }
}

/// The request's headers with credentials hidden: `authorization`, cookies, and
/// the headers the source's scheme carries its signature or token in.
pub fn visible_headers(
    headers: &http::HeaderMap,
    credential_headers: &[&http::HeaderName],
) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let hidden = matches!(
                name.as_str(),
                "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
            ) || credential_headers.contains(&name);
            let shown = if hidden {
                HIDDEN.to_owned()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name.as_str().to_owned(), shown)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_source_keeps_its_own_bounded_ring_under_a_flood() {
        let insp = Inspector::new(10, false);
        let at = chrono::Utc::now();
        for _ in 0..3 {
            insp.record(
                Seen {
                    source: "quiet".into(),
                    ..Seen::default()
                },
                Filed::Refused {
                    status: 401,
                    kind: "unauthorized",
                    reason: Some("signature_mismatch"),
                },
                at,
            );
        }
        for _ in 0..5_000 {
            insp.record(
                Seen {
                    source: "flood".into(),
                    ..Seen::default()
                },
                Filed::Refused {
                    status: 401,
                    kind: "unauthorized",
                    reason: Some("bad_token"),
                },
                at,
            );
        }
        let held = insp.held();
        assert_eq!((held["flood"], held["quiet"]), (10, 3));
        let newest = insp.recent(None, None, 1);
        assert_eq!(newest[0].seq, 5_003);
        assert!(
            insp.get(1).is_some(),
            "the quiet source's oldest is still there"
        );
        assert!(insp.get(4).is_none(), "the flood's oldest are gone");
        assert_eq!(insp.recent(Some("quiet"), Some("rejected"), 100).len(), 3);
    }

    #[test]
    fn credentials_are_hidden() {
        let mut h = http::HeaderMap::new();
        h.insert(
            "x-sig",
            "sha256=abc".parse().unwrap_or_else(|_| unreachable!()),
        );
        h.insert(
            "authorization",
            "Basic eDp5".parse().unwrap_or_else(|_| unreachable!()),
        );
        h.insert(
            "content-type",
            "application/json"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        );
        let sig = http::HeaderName::from_static("x-sig");
        let shown = visible_headers(&h, &[&sig]);
        let get = |k: &str| shown.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("x-sig"), Some(HIDDEN));
        assert_eq!(get("authorization"), Some(HIDDEN));
        assert_eq!(get("content-type"), Some("application/json"));
    }

    #[test]
    fn bodies_are_kept_only_when_asked_and_cut() {
        let at = chrono::Utc::now();
        let big = bytes::Bytes::from(vec![b'a'; MAX_CAPTURED_BODY * 2]);
        let refused = || Filed::Refused {
            status: 413,
            kind: "payload_too_large",
            reason: None,
        };
        let off = Inspector::new(5, false);
        let e = off.record(
            Seen {
                source: "s".into(),
                body: Some(big.clone()),
                ..Seen::default()
            },
            refused(),
            at,
        );
        assert!(e.body.is_none());
        let on = Inspector::new(5, true);
        let e = on.record(
            Seen {
                source: "s".into(),
                body: Some(big),
                ..Seen::default()
            },
            refused(),
            at,
        );
        assert_eq!(e.body.as_ref().map(String::len), Some(MAX_CAPTURED_BODY));
    }
}
