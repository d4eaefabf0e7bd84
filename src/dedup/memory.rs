//! In-process dedup store: a moka cache with TTL and a size bound, plus a watch
//! channel per in-flight claim so racing duplicates wait for the original.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use moka::ops::compute::Op;
use tokio::sync::watch;

use super::{Claim, ClaimToken, DedupError, DedupStore};
use crate::event::EventId;

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

pub struct MemoryStore {
    cache: moka::sync::Cache<EventId, Arc<Slot>>,
    next_token: AtomicU64,
}

impl MemoryStore {
    /// `ttl`: how long a delivered event is remembered; `max_entries`: the bound
    /// past which the least recently used keys are forgotten (duplicates of those
    /// would then be delivered again, never lost).
    pub fn new(ttl: Duration, max_entries: u64) -> Self {
        Self {
            cache: moka::sync::Cache::builder()
                .max_capacity(max_entries)
                .time_to_live(ttl)
                .build(),
            next_token: AtomicU64::new(1),
        }
    }
}

#[async_trait]
impl DedupStore for MemoryStore {
    async fn claim(&self, key: EventId, wait: Duration) -> Result<Claim, DedupError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let token = ClaimToken(u128::from(self.next_token.fetch_add(1, Ordering::Relaxed)));
            let entry = self.cache.entry(key).or_insert_with(|| {
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

    async fn commit(&self, key: EventId, token: ClaimToken) -> Result<(), DedupError> {
        if let Some(slot) = self.cache.get(&key) {
            if slot.token == token {
                slot.state.send_replace(State::Delivered);
            }
        }
        Ok(())
    }

    async fn release(&self, key: EventId, token: ClaimToken) {
        let mut released = None;
        self.cache.entry(key).and_compute_with(|e| match e {
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
        // moka counts lazily; settle pending inserts so the gauge is exact when scraped.
        self.cache.run_pending_tasks();
        self.cache.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{DedupId, SourceId};

    fn key(n: u32) -> EventId {
        let s = SourceId::parse("s").unwrap_or_else(|e| panic!("{e}"));
        EventId::derive(&s, &DedupId::new(n.to_string()))
    }

    #[tokio::test]
    async fn claim_commit_duplicate() -> Result<(), DedupError> {
        let s = MemoryStore::new(Duration::from_secs(60), 1000);
        let Claim::Acquired(t) = s.claim(key(1), Duration::ZERO).await? else {
            panic!("first claim must be acquired")
        };
        assert_eq!(
            s.claim(key(1), Duration::from_millis(10)).await?,
            Claim::InFlight
        );
        s.commit(key(1), t).await?;
        assert_eq!(s.claim(key(1), Duration::ZERO).await?, Claim::Duplicate);
        assert!(matches!(
            s.claim(key(2), Duration::ZERO).await?,
            Claim::Acquired(_)
        ));
        Ok(())
    }

    type Waiter = tokio::task::JoinHandle<Result<Claim, DedupError>>;

    /// A store where key 1 is claimed (token returned) and a second claim waits on it.
    async fn claimed_with_waiter() -> Result<(Arc<MemoryStore>, ClaimToken, Waiter), DedupError> {
        let s = Arc::new(MemoryStore::new(Duration::from_secs(60), 1000));
        let Claim::Acquired(t) = s.claim(key(1), Duration::ZERO).await? else {
            panic!("first claim must be acquired")
        };
        let waiter = {
            let s = s.clone();
            tokio::spawn(async move { s.claim(key(1), Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok((s, t, waiter))
    }

    #[tokio::test]
    async fn release_lets_a_retry_through_and_wakes_waiters() -> Result<(), DedupError> {
        let (s, t, waiter) = claimed_with_waiter().await?;
        // A stale token cannot release someone else's claim.
        s.release(key(1), ClaimToken(t.0 + 1000)).await;
        s.release(key(1), t).await;
        let got = waiter
            .await
            .map_err(|e| DedupError::Unavailable(e.to_string()))??;
        assert!(
            matches!(got, Claim::Acquired(_)),
            "the waiter takes over: {got:?}"
        );
        Ok(())
    }

    #[tokio::test]
    async fn waiter_sees_commit_as_duplicate() -> Result<(), DedupError> {
        let (s, t, waiter) = claimed_with_waiter().await?;
        s.commit(key(1), t).await?;
        let got = waiter
            .await
            .map_err(|e| DedupError::Unavailable(e.to_string()))??;
        assert_eq!(got, Claim::Duplicate);
        Ok(())
    }

    #[tokio::test]
    async fn entries_expire() -> Result<(), DedupError> {
        let s = MemoryStore::new(Duration::from_millis(50), 1000);
        let Claim::Acquired(t) = s.claim(key(1), Duration::ZERO).await? else {
            panic!("first claim must be acquired")
        };
        s.commit(key(1), t).await?;
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(matches!(
            s.claim(key(1), Duration::ZERO).await?,
            Claim::Acquired(_)
        ));
        Ok(())
    }
}
