//! The inspector's memory: the most recent deliveries of each configured source (a
//! bounded ring each, and one shared ring for requests to no configured source),
//! what each became, and a live feed of new ones, all within a byte budget
//! (`[admin] max_memory`). It subscribes to the deliveries the HTTP layer answers
//! ([`DeliveryObserver`]); the admin pages read. Secrets and signature values are
//! never kept in what is shown: their headers are hidden when recorded. What a
//! stranger can send (headers, refused requests) is bounded per entry and never
//! pushes out a dead letter waiting for Replay.

mod entry;
mod headers;
mod ring;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::broadcast;

pub use entry::{
    Entry, HeldDeadLetter, MAX_CAPTURED_BODY, MAX_SHOWN_EVENT, WHOLE_DEAD_LETTER_SHARE,
};
pub use headers::{
    visible_headers, HIDDEN, MAX_HEADERS, MAX_HEADER_BYTES, MAX_HEADER_NAME, MAX_HEADER_VALUE,
};

use crate::event::Decision;
use crate::http::{Answer, DeliveryObserver, Seen};
use crate::telemetry::events;
use ring::{Held, RingKey};

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
        result: Answer<'_>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Arc<Entry> {
        self.record_replay(seen, result, at, None)
    }

    /// As [`Inspector::record`], for the delivery a Replay of entry `of` produced.
    pub fn record_replay(
        &self,
        seen: Seen,
        result: Answer<'_>,
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
            Answer::Answered(outcome) if matches!(outcome.decision, Decision::Batch(_)) => {
                let mut last = None;
                for item in &outcome.items {
                    let mut entry = self.entry(&seen, at, of);
                    entry.answered(item, self.settings.max_bytes);
                    last = Some(self.file(&key, entry, true));
                }
                last.unwrap_or_else(|| {
                    let mut entry = self.entry(&seen, at, of);
                    entry.outcome = "batch".to_owned();
                    entry.reason = Some("no items".to_owned());
                    self.file(&key, entry, true)
                })
            }
            Answer::Answered(outcome) => {
                let mut entry = self.entry(&seen, at, of);
                entry.answered(outcome, self.settings.max_bytes);
                self.file(&key, entry, true)
            }
            Answer::Refused {
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
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        Entry::new(seq, seen, at, of, self.settings.capture_bodies)
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

/// Files each delivery the HTTP layer answers.
impl DeliveryObserver for Inspector {
    fn headers(
        &self,
        headers: &http::HeaderMap,
        credential_headers: &[&http::HeaderName],
    ) -> Vec<(String, String)> {
        visible_headers(headers, credential_headers)
    }

    fn observe(&self, seen: Seen, answer: Answer<'_>, at: chrono::DateTime<chrono::Utc>) {
        self.record(seen, answer, at);
    }
}
