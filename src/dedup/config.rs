//! `[dedup]`: which store remembers delivered event ids, for how long, and what
//! happens when it cannot be reached.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::memory::MemoryStore;
use super::redis::{RedisOptions, RedisStore};
use super::store::{DedupError, DedupStore};
use crate::settings::{within, DAY, HOUR, MIN, MS, SEC};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DedupStoreKind {
    #[default]
    Memory,
    Redis,
}

/// What to do when the dedup store cannot be reached (Redis; the memory store
/// always can).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OnUnavailable {
    /// Deliver anyway (duplicates possible, counted and logged): a duplicate is
    /// better than a loss, and consumers can dedup on the deterministic event id.
    #[default]
    Open,
    /// Answer 503 so the provider retries later.
    Closed,
}

/// How the gateway uses its dedup store.
#[derive(Debug, Clone, Copy)]
pub struct DedupPolicy {
    /// How long a duplicate waits for its in-flight original.
    pub in_flight_wait: Duration,
    /// What a claim the store cannot answer does.
    pub on_unavailable: OnUnavailable,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DedupConfig {
    #[serde(default)]
    pub store: DedupStoreKind,
    /// How long a delivered event id is remembered.
    #[serde(default = "default_ttl", with = "humantime_serde")]
    pub ttl: Duration,
    /// Memory store: how many ids are remembered at most, per source.
    #[serde(default = "default_max_entries")]
    pub max_entries: u64,
    /// How long a duplicate waits for its in-flight original before a 503.
    #[serde(default = "default_in_flight_wait", with = "humantime_serde")]
    pub in_flight_wait: Duration,
    /// Redis store: `redis://host:6379/0` (or `rediss://` for TLS).
    #[serde(default)]
    pub url: Option<String>,
    /// Redis store: prefix of every key hookgate writes.
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
    /// Redis store: how long a claim lives before its delivery finished; a claim
    /// left by a crashed replica frees itself after this.
    #[serde(default = "default_pending_ttl", with = "humantime_serde")]
    pub pending_ttl: Duration,
    /// Redis store: `open` (deliver without dedup, default) or `closed` (503).
    #[serde(default)]
    pub on_unavailable: OnUnavailable,
    /// Redis store: per-command budget before Redis counts as unavailable.
    #[serde(default = "default_redis_timeout", with = "humantime_serde")]
    pub timeout: Duration,
}

impl Default for DedupConfig {
    fn default() -> Self {
        Self {
            store: DedupStoreKind::Memory,
            ttl: default_ttl(),
            max_entries: default_max_entries(),
            in_flight_wait: default_in_flight_wait(),
            url: None,
            key_prefix: default_key_prefix(),
            pending_ttl: default_pending_ttl(),
            on_unavailable: OnUnavailable::default(),
            timeout: default_redis_timeout(),
        }
    }
}

impl DedupConfig {
    pub fn validate(&self) -> Result<(), String> {
        within("dedup.ttl", self.ttl, SEC, 366 * DAY)?;
        within(
            "dedup.in_flight_wait",
            self.in_flight_wait,
            Duration::ZERO,
            MIN,
        )?;
        within("dedup.pending_ttl", self.pending_ttl, SEC, HOUR)?;
        within("dedup.timeout", self.timeout, MS, MIN)?;
        match (self.store, &self.url) {
            (DedupStoreKind::Memory, Some(_)) => {
                Err("dedup: `url` is only used with store = \"redis\"".to_owned())
            }
            (DedupStoreKind::Redis, None) => Err("dedup: store = \"redis\" needs `url`".to_owned()),
            (DedupStoreKind::Redis, Some(_)) if self.pending_ttl <= self.in_flight_wait => {
                Err("dedup: pending_ttl must be longer than in_flight_wait".to_owned())
            }
            _ => Ok(()),
        }
    }

    /// How the gateway uses the store.
    pub fn policy(&self) -> DedupPolicy {
        DedupPolicy {
            in_flight_wait: self.in_flight_wait,
            on_unavailable: self.on_unavailable,
        }
    }

    /// Opens the configured store (Redis is not contacted yet: the gateway starts
    /// while it is down).
    pub fn build(&self) -> Result<Arc<dyn DedupStore>, DedupError> {
        self.validate().map_err(DedupError::Config)?;
        Ok(match (self.store, &self.url) {
            (DedupStoreKind::Redis, Some(url)) => Arc::new(RedisStore::new(
                url,
                RedisOptions {
                    key_prefix: self.key_prefix.clone(),
                    ttl: self.ttl,
                    pending_ttl: self.pending_ttl,
                    timeout: self.timeout,
                },
            )?),
            _ => Arc::new(MemoryStore::new(self.ttl, self.max_entries)),
        })
    }
}

fn default_key_prefix() -> String {
    "hookgate:dedup:".to_owned()
}
fn default_pending_ttl() -> Duration {
    Duration::from_secs(15)
}
fn default_redis_timeout() -> Duration {
    Duration::from_millis(500)
}
fn default_ttl() -> Duration {
    Duration::from_secs(24 * 3600)
}
fn default_max_entries() -> u64 {
    1_000_000
}
fn default_in_flight_wait() -> Duration {
    Duration::from_secs(3)
}
