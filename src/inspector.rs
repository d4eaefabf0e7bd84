//! The inspector's memory: the most recent deliveries of each configured source (a
//! bounded ring each, and one shared ring for requests to no configured source),
//! what each became, and a live feed of new ones, all within a byte budget
//! (`[admin] max_memory`). The HTTP layer records; the admin pages read. Secrets and
//! signature values are never kept in what is shown: their headers are hidden when
//! recorded. What a stranger can send (headers, refused requests) is bounded per
//! entry and never pushes out a dead letter waiting for Replay.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use serde::Serialize;
use tokio::sync::broadcast;

use crate::event::{DeadLetter, Decision, Outcome};
use crate::replay::ReplayResult;
use crate::telemetry::events;

/// Captured request bodies are cut at this size (they may be large and hold
/// personal data; the inspector is for looking, not for archiving).
pub const MAX_CAPTURED_BODY: usize = 16 * 1024;

/// Headers kept per entry; the rest are counted in one closing line.
pub const MAX_HEADERS: usize = 64;
/// Header names and values are cut at these sizes (and marked).
pub const MAX_HEADER_NAME: usize = 128;
pub const MAX_HEADER_VALUE: usize = 1024;
/// The most header bytes (names and values) kept per entry.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// The canonical event is shown cut at this size (it is in the output whole).
pub const MAX_SHOWN_EVENT: usize = 64 * 1024;
/// A dead letter is kept whole, for Replay, while it takes at most this fraction
/// of the budget (2 MiB of the default 64 MiB); a larger one keeps its reason and
/// detail, and is replayed from the dead-letter output with `hookgate replay`.
pub const WHOLE_DEAD_LETTER_SHARE: usize = 32;

/// Header values that are credentials: shown as `[hidden]`.
pub const HIDDEN: &str = "[hidden]";

/// How the rings of requests to no configured source are named in [`Inspector::held`].
pub const UNMATCHED: &str = "(unmatched)";

/// What the inspector may hold.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Entries per ring.
    pub recent: usize,
    /// Bytes held by all entries together (an estimate of their heap use).
    pub max_bytes: usize,
    /// Keep a prefix of each body, to show it.
    pub capture_bodies: bool,
}

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
    cost: usize,
}

impl Entry {
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
    fn estimate(&self) -> usize {
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
fn shown(bytes: &[u8], max: usize) -> String {
    if bytes.len() <= max {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    format!(
        "{}… [cut: {} bytes]",
        String::from_utf8_lossy(&bytes[..max]),
        bytes.len()
    )
}

/// What the HTTP layer saw of one request, beside its result.
#[derive(Debug, Default)]
pub struct Seen {
    pub source: String,
    /// The request named no configured source: it goes to the one shared ring.
    pub unmatched: bool,
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

/// Which ring an entry goes to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum RingKey {
    Source(String),
    Unmatched,
}

/// One source's entries: those holding a dead letter apart from the others, so a
/// refused request can push out the oldest of the others without a scan.
#[derive(Debug, Default)]
struct Ring {
    dead: VecDeque<Arc<Entry>>,
    other: VecDeque<Arc<Entry>>,
    dead_bytes: usize,
    other_bytes: usize,
}

impl Ring {
    fn len(&self) -> usize {
        self.dead.len() + self.other.len()
    }

    fn push(&mut self, e: Arc<Entry>) {
        if e.dead_letter.is_some() {
            self.dead_bytes += e.cost;
            self.dead.push_back(e);
        } else {
            self.other_bytes += e.cost;
            self.other.push_back(e);
        }
    }

    /// The bytes an entry may free here: all of them, or only those without a
    /// dead letter.
    fn evictable_bytes(&self, may_evict_dead: bool) -> usize {
        self.other_bytes + if may_evict_dead { self.dead_bytes } else { 0 }
    }

    /// Removes the oldest entry an entry may push out.
    fn pop_oldest(&mut self, may_evict_dead: bool) -> Option<Arc<Entry>> {
        let dead_first = may_evict_dead
            && match (self.dead.front(), self.other.front()) {
                (Some(d), Some(o)) => d.seq < o.seq,
                (Some(_), None) => true,
                (None, _) => false,
            };
        if dead_first {
            let e = self.dead.pop_front()?;
            self.dead_bytes -= e.cost;
            Some(e)
        } else {
            let e = self.other.pop_front()?;
            self.other_bytes -= e.cost;
            Some(e)
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Arc<Entry>> {
        self.dead.iter().chain(self.other.iter())
    }
}

/// Every ring, and what they hold together.
#[derive(Debug, Default)]
struct Held {
    rings: HashMap<RingKey, Ring>,
    bytes: usize,
    entries: usize,
}

impl Held {
    /// Files `entry` in ring `key` within `per_ring` entries and `budget` bytes,
    /// pushing out the oldest entries it may: an answered delivery any, a refused
    /// request only those without a dead letter. Under the budget, the ring
    /// holding the most bytes gives first, so one source's flood empties its own
    /// ring before another's. `false`: not kept (nothing it may push out is left).
    fn admit(
        &mut self,
        key: RingKey,
        entry: Arc<Entry>,
        may_evict_dead: bool,
        per_ring: usize,
        budget: usize,
    ) -> bool {
        if entry.cost > budget {
            return false;
        }
        let full = self.rings.get(&key).is_some_and(|r| r.len() >= per_ring);
        if full && !self.evict_from(&key, may_evict_dead) {
            return false;
        }
        while self.bytes + entry.cost > budget {
            let fullest = self
                .rings
                .iter()
                .map(|(k, r)| (r.evictable_bytes(may_evict_dead), k))
                .filter(|(bytes, _)| *bytes > 0)
                .max_by_key(|(bytes, _)| *bytes)
                .map(|(_, k)| k.clone());
            match fullest {
                Some(k) if self.evict_from(&k, may_evict_dead) => {}
                _ => return false,
            }
        }
        self.bytes += entry.cost;
        self.entries += 1;
        self.rings.entry(key).or_default().push(entry);
        true
    }

    fn evict_from(&mut self, key: &RingKey, may_evict_dead: bool) -> bool {
        let Some(ring) = self.rings.get_mut(key) else {
            return false;
        };
        let Some(gone) = ring.pop_oldest(may_evict_dead) else {
            return false;
        };
        if ring.len() == 0 {
            self.rings.remove(key);
        }
        self.bytes -= gone.cost;
        self.entries -= 1;
        true
    }

    fn all(&self) -> impl Iterator<Item = &Arc<Entry>> {
        self.rings.values().flat_map(Ring::iter)
    }
}

pub struct Inspector {
    settings: Settings,
    next: AtomicU64,
    held: Mutex<Held>,
    /// Weak, so entries a slow watcher has not read yet are not held past the
    /// budget: what was pushed out meanwhile is skipped.
    feed: broadcast::Sender<Weak<Entry>>,
}

impl std::fmt::Debug for Inspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inspector")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Inspector {
    pub fn new(settings: Settings) -> Self {
        Self {
            settings: Settings {
                recent: settings.recent.max(1),
                ..settings
            },
            next: AtomicU64::new(1),
            held: Mutex::new(Held::default()),
            feed: broadcast::channel(256).0,
        }
    }

    pub fn captures_bodies(&self) -> bool {
        self.settings.capture_bodies
    }

    /// Files one delivery; see [`Held::admit`] for what goes when it is full.
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
        let key = if seen.unmatched {
            RingKey::Unmatched
        } else {
            RingKey::Source(seen.source.clone())
        };
        match result {
            // A batch is filed item by item: each is its own event.
            Filed::Answered(outcome) if matches!(outcome.decision, Decision::Batch(_)) => {
                let mut last = None;
                for item in &outcome.items {
                    let mut entry = self.entry(&seen, at, of);
                    self.answered(&mut entry, item);
                    last = Some(self.file(&key, entry, true));
                }
                last.unwrap_or_else(|| {
                    let mut entry = self.entry(&seen, at, of);
                    entry.outcome = "batch".to_owned();
                    entry.reason = Some("no items".to_owned());
                    self.file(&key, entry, true)
                })
            }
            Filed::Answered(outcome) => {
                let mut entry = self.entry(&seen, at, of);
                self.answered(&mut entry, outcome);
                self.file(&key, entry, true)
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
                self.file(&key, entry, false)
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
            body: seen
                .body
                .as_ref()
                .filter(|_| self.settings.capture_bodies)
                .map(|b| {
                    String::from_utf8_lossy(&b[..b.len().min(MAX_CAPTURED_BODY)]).into_owned()
                }),
            body_in_dead_letter: false,
            replay_of: of,
            replays: Mutex::new(Vec::new()),
            cost: 0,
        }
    }

    fn answered(&self, entry: &mut Entry, outcome: &Outcome) {
        entry.outcome = outcome.status().to_owned();
        entry.provider_type = outcome.decision.provider_type().map(str::to_owned);
        entry.id = outcome.decision.record_id().map(|id| id.to_string());
        match &outcome.decision {
            Decision::Deliver(event) => {
                entry.canonical_type = Some(event.ty.clone());
                entry.event = serde_json::to_string_pretty(&**event)
                    .ok()
                    .map(|json| shown(json.as_bytes(), MAX_SHOWN_EVENT));
            }
            Decision::DeadLetter(d) => {
                entry.reason = Some(d.reason.as_str().to_owned());
                let whole =
                    dead_letter_heap(d) <= self.settings.max_bytes / WHOLE_DEAD_LETTER_SHARE;
                entry.dead_letter = Some(if whole {
                    // The whole record holds the body: the shown prefix is read from it.
                    if entry.body.take().is_some() {
                        entry.body_in_dead_letter = true;
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

    /// Puts an entry in its ring (see [`Held::admit`]) and, if it was kept, on
    /// the feed.
    fn file(&self, key: &RingKey, mut entry: Entry, may_evict_dead: bool) -> Arc<Entry> {
        entry.cost = entry.estimate();
        let entry = Arc::new(entry);
        let kept = {
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            let kept = held.admit(
                key.clone(),
                entry.clone(),
                may_evict_dead,
                self.settings.recent,
                self.settings.max_bytes,
            );
            events::InspectorHeld {
                bytes: held.bytes,
                entries: held.entries,
            }
            .emit();
            kept
        };
        if kept {
            // Nobody watching is fine; a slow watcher misses entries (and can reload).
            let _ = self.feed.send(Arc::downgrade(&entry));
        }
        entry
    }

    /// The most recent entries, newest first, filtered; at most `limit`.
    pub fn recent(
        &self,
        source: Option<&str>,
        outcome: Option<&str>,
        limit: usize,
    ) -> Vec<Arc<Entry>> {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<Arc<Entry>> = held
            .all()
            .filter(|e| source.is_none_or(|want| want == e.source))
            .filter(|e| outcome.is_none_or(|o| e.outcome == o))
            .cloned()
            .collect();
        all.sort_by_key(|e| std::cmp::Reverse(e.seq));
        all.truncate(limit);
        all
    }

    pub fn get(&self, seq: u64) -> Option<Arc<Entry>> {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let found = held.all().find(|e| e.seq == seq).cloned();
        found
    }

    /// How many entries are held, per ring (requests to no configured source
    /// under [`UNMATCHED`]).
    pub fn held(&self) -> HashMap<String, usize> {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.rings
            .iter()
            .map(|(k, r)| {
                let name = match k {
                    RingKey::Source(s) => s.clone(),
                    RingKey::Unmatched => UNMATCHED.to_owned(),
                };
                (name, r.len())
            })
            .collect()
    }

    /// The bytes the entries are counted for (never above `max_bytes`).
    pub fn held_bytes(&self) -> usize {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).bytes
    }

    /// New entries as they are kept (gone if pushed out before they are read).
    pub fn subscribe(&self) -> broadcast::Receiver<Weak<Entry>> {
        self.feed.subscribe()
    }
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
        // Cut, so no longer what was sealed.
        seal: None,
    }
}

/// The request's headers as the inspector keeps them: credentials hidden
/// (`authorization`, cookies, and the headers the source's scheme carries its
/// signature or token in), names and values cut at [`MAX_HEADER_NAME`] and
/// [`MAX_HEADER_VALUE`], at most [`MAX_HEADERS`] of them and [`MAX_HEADER_BYTES`]
/// together; what is left out is counted in a last line named `…`.
pub fn visible_headers(
    headers: &http::HeaderMap,
    credential_headers: &[&http::HeaderName],
) -> Vec<(String, String)> {
    let mut kept = Vec::new();
    let (mut bytes, mut left_out, mut left_out_bytes) = (0, 0, 0);
    for (name, value) in headers {
        let hidden = matches!(
            name.as_str(),
            "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
        ) || credential_headers.contains(&name);
        let size = name.as_str().len() + value.len();
        if kept.len() < MAX_HEADERS && bytes < MAX_HEADER_BYTES {
            let k = shown(name.as_str().as_bytes(), MAX_HEADER_NAME);
            let v = if hidden {
                HIDDEN.to_owned()
            } else {
                shown(value.as_bytes(), MAX_HEADER_VALUE)
            };
            if bytes + k.len() + v.len() <= MAX_HEADER_BYTES {
                bytes += k.len() + v.len();
                kept.push((k, v));
                continue;
            }
        }
        left_out += 1;
        left_out_bytes += size;
    }
    if left_out > 0 {
        kept.push((
            "…".to_owned(),
            format!("{left_out} more headers ({left_out_bytes} bytes) not kept"),
        ));
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1024 * 1024;

    fn inspector(recent: usize, capture_bodies: bool, max_bytes: usize) -> Inspector {
        Inspector::new(Settings {
            recent,
            max_bytes,
            capture_bodies,
        })
    }

    fn unauthorized() -> Filed<'static> {
        Filed::Refused {
            status: 401,
            kind: "unauthorized",
            reason: Some("signature_mismatch"),
        }
    }

    #[test]
    fn each_source_keeps_its_own_bounded_ring_under_a_flood() {
        let insp = inspector(10, false, 64 * MIB);
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
        let off = inspector(5, false, 64 * MIB);
        let e = off.record(
            Seen {
                source: "s".into(),
                body: Some(big.clone()),
                ..Seen::default()
            },
            refused(),
            at,
        );
        assert!(e.body().is_none());
        let on = inspector(5, true, 64 * MIB);
        let e = on.record(
            Seen {
                source: "s".into(),
                body: Some(big),
                ..Seen::default()
            },
            refused(),
            at,
        );
        assert_eq!(e.body().map(|b| b.len()), Some(MAX_CAPTURED_BODY));
    }

    fn dead_letter(body_len: usize) -> Outcome {
        let source = crate::event::SourceId::parse("sahut").unwrap_or_else(|e| panic!("{e}"));
        let body = vec![b'{'; body_len];
        let kept = crate::event::Kept {
            headers: std::collections::BTreeMap::new(),
            body: &body,
            query: None,
            item: None,
            identity: None,
        };
        let why = crate::event::Rejection::new(
            crate::event::DeadLetterReason::MalformedJson,
            "expected value",
        );
        let d = DeadLetter::new(&source, "sahut", kept, &chrono::Utc::now(), why);
        Outcome::new(Decision::DeadLetter(Box::new(d)))
    }

    fn padded_headers(n: usize) -> Vec<(String, String)> {
        let mut h = http::HeaderMap::new();
        for i in 0..90 {
            let name =
                http::HeaderName::try_from(format!("x-pad-{i}")).unwrap_or_else(|e| panic!("{e}"));
            let value = http::HeaderValue::try_from(format!("{n}-{}", "v".repeat(4096)))
                .unwrap_or_else(|e| panic!("{e}"));
            h.insert(name, value);
        }
        visible_headers(&h, &[])
    }

    #[test]
    fn a_dead_letter_survives_a_flood_of_refused_requests() {
        let budget = 4 * MIB;
        let insp = inspector(10, false, budget);
        let at = chrono::Utc::now();
        let seen = |n| Seen {
            source: "sahut".into(),
            headers: padded_headers(n),
            ..Seen::default()
        };
        let dead = insp.record(seen(0), Filed::Answered(&dead_letter(100)), at);
        for n in 0..300 {
            insp.record(seen(n), unauthorized(), at);
            assert!(
                insp.held_bytes() <= budget,
                "{} after {n}",
                insp.held_bytes()
            );
        }
        let kept = insp
            .get(dead.seq)
            .unwrap_or_else(|| panic!("the dead letter went"));
        assert!(matches!(kept.dead_letter, Some(HeldDeadLetter::Whole(_))));
        assert_eq!(insp.held()["sahut"], 10);
        // An answered delivery does push out the oldest, dead letter or not.
        for _ in 0..10 {
            insp.record(seen(0), Filed::Answered(&dead_letter(100)), at);
        }
        assert!(insp.get(dead.seq).is_none());
    }

    #[test]
    fn refused_requests_are_not_kept_when_only_dead_letters_are_left() {
        let insp = inspector(3, false, 64 * MIB);
        let at = chrono::Utc::now();
        let seen = || Seen {
            source: "sahut".into(),
            ..Seen::default()
        };
        for _ in 0..3 {
            insp.record(seen(), Filed::Answered(&dead_letter(100)), at);
        }
        let refused = insp.record(seen(), unauthorized(), at);
        assert!(insp.get(refused.seq).is_none());
        assert_eq!(
            insp.recent(None, Some("dead_lettered"), 10)
                .iter()
                .map(|e| e.seq)
                .collect::<Vec<_>>(),
            [3, 2, 1]
        );
    }

    #[test]
    fn the_budget_holds_across_sources_and_the_flood_gives_first() {
        let budget = 2 * MIB;
        let insp = inspector(100_000, true, budget);
        let at = chrono::Utc::now();
        let body = bytes::Bytes::from(vec![b'x'; MAX_CAPTURED_BODY]);
        for n in 0..5 {
            insp.record(
                Seen {
                    source: "quiet".into(),
                    headers: padded_headers(n),
                    body: Some(body.clone()),
                    ..Seen::default()
                },
                unauthorized(),
                at,
            );
        }
        for n in 0..400 {
            let unmatched = n % 2 == 0;
            insp.record(
                Seen {
                    source: if unmatched {
                        format!("nosuch-{n}")
                    } else {
                        "flood".into()
                    },
                    unmatched,
                    headers: padded_headers(n),
                    body: Some(body.clone()),
                    latency_ms: 0.0,
                },
                unauthorized(),
                at,
            );
            assert!(
                insp.held_bytes() <= budget,
                "{} after {n}",
                insp.held_bytes()
            );
        }
        let held = insp.held();
        assert_eq!(held.len(), 3, "{held:?}");
        assert_eq!(held["quiet"], 5, "{held:?}");
        assert!(held[UNMATCHED] > 10 && held["flood"] > 10, "{held:?}");
        assert!(insp.held_bytes() > budget / 2);
        // The requested names are still shown, and filtered on.
        assert_eq!(insp.recent(Some("nosuch-398"), None, 10).len(), 1);
    }

    #[test]
    fn headers_are_bounded_in_count_and_bytes() {
        let many = padded_headers(7);
        assert!(many.len() <= MAX_HEADERS + 1);
        let bytes: usize = many.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert!(bytes <= MAX_HEADER_BYTES + 64, "{bytes}");
        let (last_name, last) = &many[many.len() - 1];
        assert_eq!(last_name, "…");
        assert!(
            last.starts_with("75 more headers (") && last.ends_with("bytes) not kept"),
            "{last}"
        );
        let (_, first) = &many[0];
        assert!(
            first.len() < MAX_HEADER_VALUE + 40 && first.ends_with("[cut: 4098 bytes]"),
            "{first}"
        );
    }

    #[test]
    fn a_large_dead_letter_is_not_kept_whole() {
        let insp = inspector(10, true, 4 * MIB);
        let at = chrono::Utc::now();
        let seen = |len: usize| Seen {
            source: "sahut".into(),
            body: Some(bytes::Bytes::from(vec![b'{'; len])),
            ..Seen::default()
        };
        let big = insp.record(seen(MIB), Filed::Answered(&dead_letter(MIB)), at);
        assert!(
            matches!(
                big.dead_letter,
                Some(HeldDeadLetter::Cut { bytes, .. }) if bytes == MIB
            ),
            "{:?}",
            big.dead_letter
        );
        assert!(
            insp.held_bytes() < MAX_CAPTURED_BODY + 4096,
            "{}",
            insp.held_bytes()
        );
        assert_eq!(big.body().map(|b| b.len()), Some(MAX_CAPTURED_BODY));
        // A small one is kept whole, for Replay, and its body is not kept twice.
        let before = insp.held_bytes();
        let small = insp.record(seen(1000), Filed::Answered(&dead_letter(1000)), at);
        assert!(matches!(small.dead_letter, Some(HeldDeadLetter::Whole(_))));
        assert_eq!(small.body().map(|b| b.len()), Some(1000));
        assert!(
            insp.held_bytes() - before < 1000 + 2048,
            "{}",
            insp.held_bytes() - before
        );
    }
}
