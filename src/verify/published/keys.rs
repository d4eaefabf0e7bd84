//! A source's keys under a published-key scheme: the provider's key set (fetched
//! by the shared store, or given: the fixtures') and the audiences the source
//! takes tokens for (its app id, its project number).

use std::sync::Arc;

use super::keyset::KeySet;
use super::store::KeyStore;

#[derive(Debug, Clone)]
enum KeySource {
    Fetched(Arc<KeyStore>),
    Given(Arc<KeySet>),
}

#[derive(Debug, Clone)]
pub struct PublishedKeys {
    source: KeySource,
    audience: Vec<String>,
}

impl PublishedKeys {
    /// Keys fetched by `store`, for tokens addressed to one of `audience`.
    pub fn fetched(store: Arc<KeyStore>, audience: Vec<String>) -> Self {
        Self {
            source: KeySource::Fetched(store),
            audience,
        }
    }

    /// A fixed set (fixtures, tests, offline tools).
    pub fn given(set: KeySet, audience: Vec<String>) -> Self {
        Self {
            source: KeySource::Given(Arc::new(set)),
            audience,
        }
    }

    pub fn audience(&self) -> &[String] {
        &self.audience
    }

    /// The key set now, if any was loaded.
    pub fn current(&self) -> Option<Arc<KeySet>> {
        match &self.source {
            KeySource::Fetched(store) => store.keys(),
            KeySource::Given(set) => Some(set.clone()),
        }
    }

    /// Whether keys are loaded (asking starts a fetch when one is due).
    pub fn ready(&self) -> bool {
        match &self.source {
            KeySource::Fetched(store) => store.ready(),
            KeySource::Given(_) => true,
        }
    }

    /// Lets the store fetch what a token naming `kid` needs, within its limits.
    pub async fn prepare(&self, kid: Option<&str>) {
        if let KeySource::Fetched(store) = &self.source {
            store.prepare(kid).await;
        }
    }
}
