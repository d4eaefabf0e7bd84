//! In-process dedup store: one moka cache per source, each with a TTL and its own
//! size bound, plus a watch channel per in-flight claim so racing duplicates wait
//! for the original.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use moka::notification::RemovalCause;
use moka::ops::compute::Op;
use tokio::sync::watch;

use super::store::{Claim, ClaimToken, DedupError, DedupKey, DedupStore};
use crate::event::{EventId, SourceId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Delivered,
    Released,
}

struct Slot {
    token: ClaimToken,
    state: watch::Sender<State>,
}

type Cache = moka::sync::Cache<EventId, Arc<Slot>>;

pub struct MemoryStore {
    /// One cache per source: a source that floods ids (an open one, or one whose
    /// token leaked) evicts only its own, never another source's.
    caches: RwLock<HashMap<SourceId, Cache>>,
    ttl: Duration,
    max_entries: u64,
    next_token: AtomicU64,
}

impl MemoryStore {
    /// `ttl`: how long a delivered event is remembered; `max_entries`: the bound, per
    /// source, past which its least recently used keys are forgotten (duplicates
    /// of those would then be delivered again, never lost; counted in
    /// `hookgate_dedup_evictions_total`).
    pub fn new(ttl: Duration, max_entries: u64) -> Self {
        Self {
            caches: RwLock::new(HashMap::new()),
            ttl,
            max_entries,
            next_token: AtomicU64::new(1),
        }
    }

    fn cache(&self, source: &SourceId) -> Cache {
        let read = self.caches.read().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = read.get(source) {
            return c.clone();
        }
        drop(read);
        let mut write = self.caches.write().unwrap_or_else(|p| p.into_inner());
        write
            .entry(source.clone())
            .or_insert_with(|| {
                let label = source.as_str().to_owned();
                Cache::builder()
                    .max_capacity(self.max_entries)
                    .time_to_live(self.ttl)
                    .eviction_listener(move |_, _, cause| {
                        if cause == RemovalCause::Size {
                            crate::telemetry::events::DedupEvicted { source: &label }.emit();
                        }
                    })
                    .build()
            })
            .clone()
    }
}

#[async_trait]
impl DedupStore for MemoryStore {
    async fn claim(&self, key: &DedupKey, wait: Duration) -> Result<Claim, DedupError> {
        let cache = self.cache(&key.source);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let token = ClaimToken(u128::from(self.next_token.fetch_add(1, Ordering::Relaxed)));
            let entry = cache.entry(key.id).or_insert_with(|| {
                Arc::new(Slot {
                    token,
                    state: watch::Sender::new(State::Pending),
                })
            });
            if entry.is_fresh() {
                return Ok(Claim::Acquired(token));
            }
            let slot = entry.into_value();
            let mut rx = slot.state.subscribe();
            drop(slot);
            loop {
                let state = *rx.borrow_and_update();
                match state {
                    State::Delivered => return Ok(Claim::Duplicate),
                    State::Released => break,
                    State::Pending => {}
                }
                match tokio::time::timeout_at(deadline, rx.changed()).await {
                    Err(_) => return Ok(Claim::InFlight),
                    // The slot was evicted or released: claim again.
                    Ok(Err(_)) => break,
                    Ok(Ok(())) => {}
                }
            }
        }
    }

    async fn commit(&self, key: &DedupKey, token: ClaimToken) -> Result<(), DedupError> {
        if let Some(slot) = self.cache(&key.source).get(&key.id) {
            if slot.token == token {
                slot.state.send_replace(State::Delivered);
            }
        }
        Ok(())
    }

    async fn release(&self, key: &DedupKey, token: ClaimToken) {
        let mut released = None;
        self.cache(&key.source)
            .entry(key.id)
            .and_compute_with(|e| match e {
                Some(e) if e.value().token == token => {
                    released = Some(e.into_value());
                    Op::Remove
                }
                _ => Op::Nop,
            });
        if let Some(slot) = released {
            slot.state.send_replace(State::Released);
        }
    }

    fn entry_count(&self) -> u64 {
        let caches = self.caches.read().unwrap_or_else(|p| p.into_inner());
        caches
            .values()
            .map(|c| {
                // moka counts lazily; settle pending inserts so the gauge is exact.
                c.run_pending_tasks();
                c.entry_count()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::DedupId;

    fn key_in(source: &str, n: u32) -> DedupKey {
        let s = SourceId::parse(source).unwrap_or_else(|e| panic!("{e}"));
        let id = EventId::derive(&s, &DedupId::new(n.to_string()));
        DedupKey { source: s, id }
    }

    fn key(n: u32) -> DedupKey {
        key_in("s", n)
    }

    #[tokio::test]
    async fn claim_commit_duplicate() -> Result<(), DedupError> {
        let s = MemoryStore::new(Duration::from_secs(60), 1000);
        let Claim::Acquired(t) = s.claim(&key(1), Duration::ZERO).await? else {
            panic!("first claim must be acquired")
        };
        assert_eq!(
            s.claim(&key(1), Duration::from_millis(10)).await?,
            Claim::InFlight
        );
        s.commit(&key(1), t).await?;
        assert_eq!(s.claim(&key(1), Duration::ZERO).await?, Claim::Duplicate);
        assert!(matches!(
            s.claim(&key(2), Duration::ZERO).await?,
            Claim::Acquired(_)
        ));
        Ok(())
    }

    type Waiter = tokio::task::JoinHandle<Result<Claim, DedupError>>;

    /// Claims parked on `key`'s pending claim: each holds a receiver of its state.
    fn waiters(s: &MemoryStore, key: &DedupKey) -> usize {
        s.cache(&key.source)
            .get(&key.id)
            .map_or(0, |slot| slot.state.receiver_count())
    }

    /// The state of `key`'s slot, if it has one.
    fn state(s: &MemoryStore, key: &DedupKey) -> Option<State> {
        s.cache(&key.source)
            .get(&key.id)
            .map(|slot| *slot.state.borrow())
    }

    /// Waits (at most 10 s) for the waiter's result; it waits 30 s itself, so an
    /// answer here is a wake-up, never its own timeout.
    async fn woken(waiter: Waiter) -> Result<Claim, DedupError> {
        tokio::time::timeout(Duration::from_secs(10), waiter)
            .await
            .map_err(|_| DedupError::Unavailable("the waiter was not woken".into()))?
            .map_err(|e| DedupError::Unavailable(e.to_string()))?
    }

    /// A store where key 1 is claimed (token returned) and a second claim is parked
    /// on it: subscribed to the claim's state, as seen from the store.
    async fn claimed_with_waiter() -> Result<(Arc<MemoryStore>, ClaimToken, Waiter), DedupError> {
        let s = Arc::new(MemoryStore::new(Duration::from_secs(60), 1000));
        let Claim::Acquired(t) = s.claim(&key(1), Duration::ZERO).await? else {
            panic!("first claim must be acquired")
        };
        let waiter = {
            let s = s.clone();
            tokio::spawn(async move { s.claim(&key(1), Duration::from_secs(30)).await })
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while waiters(&s, &key(1)) == 0 {
            assert!(
                !waiter.is_finished(),
                "the waiter returned instead of parking"
            );
            assert!(
                tokio::time::Instant::now() < deadline,
                "the waiter never parked on the claim"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok((s, t, waiter))
    }

    #[tokio::test]
    async fn release_lets_a_retry_through_and_wakes_waiters() -> Result<(), DedupError> {
        let (s, t, waiter) = claimed_with_waiter().await?;
        assert_eq!(waiters(&s, &key(1)), 1, "the waiter is parked on the claim");
        // A stale token cannot release someone else's claim: it stays pending, so
        // the waiter has nothing to wake up for and stays parked.
        s.release(&key(1), ClaimToken(t.0 + 1000)).await;
        assert_eq!(
            state(&s, &key(1)),
            Some(State::Pending),
            "a stale token released the claim"
        );
        assert_eq!(waiters(&s, &key(1)), 1, "the waiter is still parked");
        assert!(
            matches!(s.claim(&key(1), Duration::ZERO).await?, Claim::InFlight),
            "the claim still stands"
        );
        s.release(&key(1), t).await;
        // Woken by the release, long before its own 30 s wait would end (a
        // timed-out waiter answers InFlight).
        let got = woken(waiter).await?;
        assert!(
            matches!(got, Claim::Acquired(_)),
            "the waiter takes over: {got:?}"
        );
        Ok(())
    }

    #[tokio::test]
    async fn waiter_sees_commit_as_duplicate() -> Result<(), DedupError> {
        let (s, t, waiter) = claimed_with_waiter().await?;
        assert_eq!(waiters(&s, &key(1)), 1, "the waiter is parked on the claim");
        s.commit(&key(1), t).await?;
        assert_eq!(woken(waiter).await?, Claim::Duplicate);
        Ok(())
    }

    /// Found by the security review: with one store for every source, a weak
    /// source flushed another source's ids out, so their redeliveries were accepted.
    #[tokio::test]
    async fn a_flooding_source_evicts_only_its_own_ids() -> Result<(), DedupError> {
        let s = MemoryStore::new(Duration::from_secs(60), 100);
        let Claim::Acquired(t) = s.claim(&key_in("victim", 1), Duration::ZERO).await? else {
            panic!("first claim must be acquired")
        };
        s.commit(&key_in("victim", 1), t).await?;
        for n in 0..2_000 {
            let k = key_in("flood", n);
            if let Claim::Acquired(t) = s.claim(&k, Duration::ZERO).await? {
                s.commit(&k, t).await?;
            }
        }
        let count = s.entry_count();
        assert!(
            count <= 101 + 10,
            "the flood stays within its own bound: {count}"
        );
        assert_eq!(
            s.claim(&key_in("victim", 1), Duration::ZERO).await?,
            Claim::Duplicate
        );
        Ok(())
    }

    #[tokio::test]
    async fn entries_expire() -> Result<(), DedupError> {
        let s = MemoryStore::new(Duration::from_millis(50), 1000);
        let claimed_at = std::time::Instant::now();
        let Claim::Acquired(t) = s.claim(&key(1), Duration::ZERO).await? else {
            panic!("first claim must be acquired")
        };
        s.commit(&key(1), t).await?;
        assert_eq!(s.claim(&key(1), Duration::ZERO).await?, Claim::Duplicate);
        // Forgotten once the TTL ran out: polled, not slept for a guessed time.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match s.claim(&key(1), Duration::ZERO).await? {
                Claim::Acquired(_) => break,
                Claim::Duplicate => {}
                Claim::InFlight => panic!("a delivered id came back as in flight"),
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the entry never expired"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            claimed_at.elapsed() >= Duration::from_millis(50),
            "expired before its TTL: {:?}",
            claimed_at.elapsed()
        );
        Ok(())
    }
}
