//! Shared dedup store for several replicas: Redis. A claim is one `SET NX PX`
//! with a short pending TTL (a crashed replica's claim expires by itself); commit
//! marks the key delivered for the full window; release deletes the key only if
//! the claim is still ours.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};
use tokio::sync::OnceCell;

use super::store::{Claim, ClaimToken, DedupError, DedupKey, DedupStore};
use crate::event::EventId;

const DELIVERED: &str = "d";

/// Poll interval while waiting for another replica's in-flight copy.
const POLL: Duration = Duration::from_millis(25);

/// What the Redis store needs of `[dedup]`.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// Prefix of every key hookgate writes.
    pub key_prefix: String,
    /// How long a delivered event id is remembered.
    pub ttl: Duration,
    /// How long a claim lives before its delivery finished.
    pub pending_ttl: Duration,
    /// Per-command budget before Redis counts as unavailable.
    pub timeout: Duration,
}

pub struct RedisStore {
    client: redis::Client,
    conn: OnceCell<ConnectionManager>,
    settings: RedisOptions,
    release: Script,
}

impl RedisStore {
    /// Does not connect: the gateway starts while Redis is down, and the first
    /// request connects (the connection manager then reconnects by itself).
    pub fn new(url: &str, settings: RedisOptions) -> Result<Self, DedupError> {
        let client = redis::Client::open(url)
            .map_err(|e| DedupError::Config(format!("dedup.url: invalid Redis URL: {e}")))?;
        Ok(Self {
            client,
            conn: OnceCell::new(),
            settings,
            release: Script::new(
                "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end",
            ),
        })
    }

    fn key(&self, key: EventId) -> String {
        format!("{}{}", self.settings.key_prefix, key)
    }

    fn pending_value(token: ClaimToken) -> String {
        format!("p:{:032x}", token.0)
    }

    async fn conn(&self) -> Result<ConnectionManager, DedupError> {
        let t = self.settings.timeout;
        self.conn
            .get_or_try_init(|| async {
                let cfg = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(t))
                    .set_response_timeout(Some(t))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(500));
                self.client.get_connection_manager_with_config(cfg).await
            })
            .await
            .cloned()
            .map_err(|e| DedupError::Unavailable(e.to_string()))
    }

    async fn try_claim(&self, key: EventId, wait: Duration) -> Result<Claim, DedupError> {
        let mut conn = self.conn().await?;
        let k = self.key(key);
        let token = ClaimToken(uuid::Uuid::new_v4().as_u128());
        let pending = Self::pending_value(token);
        let px = self.settings.pending_ttl.as_millis().max(1) as u64;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let set: Option<String> = redis::cmd("SET")
                .arg(&k)
                .arg(&pending)
                .arg("NX")
                .arg("PX")
                .arg(px)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            if set.is_some() {
                return Ok(Claim::Acquired(token));
            }
            let current: Option<String> = conn.get(&k).await.map_err(unavailable)?;
            match current.as_deref() {
                Some(DELIVERED) => return Ok(Claim::Duplicate),
                // Gone between SET and GET (released or expired): claim again.
                None => continue,
                Some(_) if tokio::time::Instant::now() >= deadline => return Ok(Claim::InFlight),
                Some(_) => tokio::time::sleep(POLL).await,
            }
        }
    }
}

fn unavailable(e: redis::RedisError) -> DedupError {
    DedupError::Unavailable(e.to_string())
}

#[async_trait]
impl DedupStore for RedisStore {
    async fn claim(&self, key: &DedupKey, wait: Duration) -> Result<Claim, DedupError> {
        // The event id already names the source (it is derived from it), and Redis
        // has no shared size bound to defend: one key space serves every source.
        self.try_claim(key.id, wait).await
    }

    async fn commit(&self, key: &DedupKey, _token: ClaimToken) -> Result<(), DedupError> {
        let key = key.id;
        // The event is safe whoever claimed it, so mark it delivered unconditionally.
        let mut conn = self.conn().await?;
        let px = self.settings.ttl.as_millis().max(1) as u64;
        let _: () = redis::cmd("SET")
            .arg(self.key(key))
            .arg(DELIVERED)
            .arg("PX")
            .arg(px)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn release(&self, key: &DedupKey, token: ClaimToken) {
        let key = key.id;
        let Ok(mut conn) = self.conn().await else {
            // The pending TTL frees the key by itself.
            return;
        };
        let r: Result<i64, _> = self
            .release
            .key(self.key(key))
            .arg(Self::pending_value(token))
            .invoke_async(&mut conn)
            .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "Redis release failed; the claim expires with its pending TTL");
        }
    }

    fn entry_count(&self) -> u64 {
        0
    }
}
