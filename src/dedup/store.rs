//! The dedup store's contract: the key it remembers, the claim protocol (claim,
//! then commit or release), its errors, and the guard that releases a claim a
//! failed or cancelled request left behind.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::event::{EventId, SourceId};

/// What the dedup store remembers: an event id, within its source's share of the
/// store (one source's traffic cannot push another's ids out).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DedupKey {
    pub source: SourceId,
    pub id: EventId,
}

/// Identifies one claim, so only its owner can commit or release it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimToken(pub u128);

/// The answer to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This request owns the event: deliver it, then commit (or release).
    Acquired(ClaimToken),
    /// The event was already delivered within the window.
    Duplicate,
    /// Another copy is being delivered right now and did not finish within the wait.
    InFlight,
}

#[derive(Debug, thiserror::Error)]
pub enum DedupError {
    #[error("dedup store unavailable: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Config(String),
}

#[async_trait]
pub trait DedupStore: Send + Sync + 'static {
    /// Claims `key`. When another copy is in flight, waits up to `wait` for it to
    /// finish: a duplicate is never answered before the original is safe. `Err`
    /// when the store cannot be reached; what then happens is the gateway's
    /// `on_unavailable` policy.
    async fn claim(&self, key: &DedupKey, wait: Duration) -> Result<Claim, DedupError>;
    /// Marks the event delivered for the rest of the window.
    async fn commit(&self, key: &DedupKey, token: ClaimToken) -> Result<(), DedupError>;
    /// Gives the claim up (delivery failed), so a retry can deliver.
    async fn release(&self, key: &DedupKey, token: ClaimToken);
    /// Approximate number of keys held (for metrics).
    fn entry_count(&self) -> u64;
}

/// A claim that releases itself unless committed: a request cancelled or failed
/// half-way never leaves a claim behind that would block the provider's retry.
pub struct ClaimGuard {
    store: Arc<dyn DedupStore>,
    key: DedupKey,
    token: ClaimToken,
    done: bool,
}

impl ClaimGuard {
    pub fn new(store: Arc<dyn DedupStore>, key: DedupKey, token: ClaimToken) -> Self {
        Self {
            store,
            key,
            token,
            done: false,
        }
    }

    pub async fn commit(mut self) -> Result<(), DedupError> {
        self.done = true;
        self.store.commit(&self.key, self.token).await
    }

    pub async fn release(mut self) {
        self.done = true;
        self.store.release(&self.key, self.token).await;
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let (store, key, token) = (self.store.clone(), self.key.clone(), self.token);
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move { store.release(&key, token).await });
        }
    }
}
