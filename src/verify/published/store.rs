//! The key store: one per key URL, shared by every source (and every reload)
//! that uses it. It fetches lazily (start-up never waits for the network), keeps
//! a set for the lifetime its server gives it (bounded), refetches once when a
//! token names an unknown key (at most once per interval, so forged key ids
//! cannot make hookgate hammer the provider), backs off after failures, and
//! keeps the last good set when a fetch fails. One fetch at a time per store.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use tokio::time::Instant;

use super::fetch::{Fetch, HttpsFetcher};
use super::keyset::KeySet;
use super::spec::KeyFormat;

/// How a store treats time.
#[derive(Debug, Clone, Copy)]
pub struct RefreshPolicy {
    /// The shortest and longest a fetched set is kept before it is fetched again,
    /// whatever its `Cache-Control` says.
    pub min_lifetime: Duration,
    pub max_lifetime: Duration,
    /// The lifetime of a set served without `max-age`.
    pub default_lifetime: Duration,
    /// At most one refetch per this long for tokens naming an unknown key.
    pub unknown_key_interval: Duration,
    /// The wait after a first failed fetch, doubled per failure up to `max_retry`.
    pub first_retry: Duration,
    pub max_retry: Duration,
    /// How long a request waits for another request's fetch.
    pub wait: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            min_lifetime: Duration::from_secs(300),
            max_lifetime: Duration::from_secs(24 * 3600),
            default_lifetime: Duration::from_secs(3600),
            unknown_key_interval: Duration::from_secs(30),
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(30),
            wait: Duration::from_secs(10),
        }
    }
}

/// What the fetching side remembers, behind the one-fetch-at-a-time lock.
#[derive(Debug, Default)]
struct State {
    /// When the current set is to be fetched again.
    expires: Option<Instant>,
    /// The last refetch an unknown key id caused.
    last_unknown: Option<Instant>,
    /// No attempt before this, after a failure.
    retry_at: Option<Instant>,
    failures: u32,
}

/// One key URL's keys.
pub struct KeyStore {
    url: String,
    format: KeyFormat,
    fetcher: Arc<dyn Fetch>,
    policy: RefreshPolicy,
    keys: ArcSwapOption<KeySet>,
    state: tokio::sync::Mutex<State>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore")
            .field("url", &self.url)
            .field("format", &self.format)
            .field("loaded", &self.keys.load().is_some())
            .finish_non_exhaustive()
    }
}

impl KeyStore {
    pub fn new(
        url: &str,
        format: KeyFormat,
        fetcher: Arc<dyn Fetch>,
        policy: RefreshPolicy,
    ) -> Arc<Self> {
        Arc::new(Self {
            url: url.to_owned(),
            format,
            fetcher,
            policy,
            keys: ArcSwapOption::empty(),
            state: tokio::sync::Mutex::new(State::default()),
        })
    }

    /// The process's store for `url`: the same one for every source and every
    /// reload while one holds it, so a reload keeps the keys already fetched.
    pub fn shared(url: &str, format: KeyFormat) -> Arc<Self> {
        type Registry = std::sync::Mutex<HashMap<(String, KeyFormat), Weak<KeyStore>>>;
        static STORES: OnceLock<Registry> = OnceLock::new();
        let mut stores = STORES
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        stores.retain(|_, s| s.strong_count() > 0);
        let key = (url.to_owned(), format);
        if let Some(store) = stores.get(&key).and_then(Weak::upgrade) {
            return store;
        }
        let store = Self::new(
            url,
            format,
            Arc::new(HttpsFetcher),
            RefreshPolicy::default(),
        );
        stores.insert(key, Arc::downgrade(&store));
        store
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The keys now, if a fetch ever succeeded.
    pub fn keys(&self) -> Option<Arc<KeySet>> {
        self.keys.load_full()
    }

    /// Whether keys are loaded; starts a fetch in the background when one is due
    /// (none loaded yet, or the set's lifetime passed).
    pub fn ready(self: &Arc<Self>) -> bool {
        self.kick();
        self.keys.load().is_some()
    }

    /// Before a token naming `kid` is checked: with no keys yet, waits for a
    /// fetch; for an unknown key id, waits for one refetch unless one was made
    /// within the interval; otherwise starts a background refresh when the set's
    /// lifetime passed, and returns at once.
    pub async fn prepare(self: &Arc<Self>, kid: Option<&str>) {
        let loaded = match self.keys() {
            Some(set) if set.knows(kid) => {
                self.kick();
                return;
            }
            Some(_) => true,
            None => false,
        };
        let Ok(mut st) = tokio::time::timeout(self.policy.wait, self.state.lock()).await else {
            return;
        };
        // Another request's fetch may have brought it meanwhile.
        if self.keys().is_some_and(|set| set.knows(kid)) {
            return;
        }
        let now = Instant::now();
        if st.retry_at.is_some_and(|t| now < t) {
            return;
        }
        if loaded {
            if st
                .last_unknown
                .is_some_and(|t| now < t + self.policy.unknown_key_interval)
            {
                return;
            }
            st.last_unknown = Some(now);
        }
        self.fetch(&mut st).await;
    }

    /// Starts a background fetch when one is due and no fetch is running.
    fn kick(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if !self.due(self.state.try_lock().as_deref().ok()) {
            return;
        }
        let this = self.clone();
        runtime.spawn(async move {
            let Ok(mut st) = this.state.try_lock() else {
                return;
            };
            if this.due(Some(&st)) {
                this.fetch(&mut st).await;
            }
        });
    }

    /// Whether a background fetch is due (`None`: a fetch is running).
    fn due(&self, st: Option<&State>) -> bool {
        let Some(st) = st else {
            return false;
        };
        let now = Instant::now();
        let stale = self.keys.load().is_none() || st.expires.is_some_and(|e| now >= e);
        stale && st.retry_at.is_none_or(|t| now >= t)
    }

    /// One fetch, with the lock held: the new set replaces the old one only when
    /// it parsed and holds a usable key.
    async fn fetch(&self, st: &mut State) {
        let result = self.load().await;
        let now = Instant::now();
        match result {
            Ok((set, max_age)) => {
                let p = &self.policy;
                let lifetime = max_age
                    .unwrap_or(p.default_lifetime)
                    .clamp(p.min_lifetime, p.max_lifetime);
                tracing::info!(
                    url = %self.url,
                    keys = set.len(),
                    lifetime_s = lifetime.as_secs(),
                    "published signing keys fetched"
                );
                self.keys.store(Some(Arc::new(set)));
                st.expires = Some(now + lifetime);
                st.retry_at = None;
                st.failures = 0;
            }
            Err(error) => {
                st.failures = st.failures.saturating_add(1);
                let doubling = 2u32.saturating_pow(st.failures.saturating_sub(1).min(16));
                let backoff = self
                    .policy
                    .first_retry
                    .saturating_mul(doubling)
                    .min(self.policy.max_retry);
                st.retry_at = Some(now + backoff);
                tracing::warn!(
                    url = %self.url,
                    %error,
                    failures = st.failures,
                    keeping_last_good = self.keys.load().is_some(),
                    "published signing keys could not be fetched"
                );
            }
        }
    }

    /// Fetches and parses the set (for a discovery document, the set its
    /// `jwks_uri` names); its lifetime is the shorter of the two documents'.
    async fn load(&self) -> Result<(KeySet, Option<Duration>), String> {
        let first = self.fetcher.get(&self.url).await?;
        match self.format {
            KeyFormat::OpenidConfiguration => {
                let uri = KeySet::jwks_uri(&first.body)?;
                let jwks = self.fetcher.get(&uri).await?;
                let age = match (first.max_age, jwks.max_age) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                Ok((KeySet::parse(self.format, &jwks.body)?, age))
            }
            KeyFormat::Jwks | KeyFormat::X509 => {
                Ok((KeySet::parse(self.format, &first.body)?, first.max_age))
            }
        }
    }
}
