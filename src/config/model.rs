//! The configuration file's shape. Unknown keys are rejected everywhere.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer};

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub mappings: MappingsConfig,
    #[serde(default)]
    pub output: OutputConfig,
    #[serde(default)]
    pub dedup: DedupConfig,
    #[serde(default, rename = "source")]
    pub sources: Vec<SourceConfig>,
    /// Values interpolated from the environment, scrubbed from every error message.
    #[serde(skip)]
    pub env_values: Vec<String>,
}

impl Config {
    /// Every duration within the range hookgate can act on. An unbounded one would
    /// overflow a deadline at run time (a panic in every connection task, or a
    /// Redis `PX` that wraps) instead of being refused here, naming its key.
    pub fn check_bounds(&self) -> Result<(), String> {
        const MS: Duration = Duration::from_millis(1);
        const SEC: Duration = Duration::from_secs(1);
        const MIN: Duration = Duration::from_secs(60);
        const HOUR: Duration = Duration::from_secs(3600);
        const DAY: Duration = Duration::from_secs(24 * 3600);
        let mut checks: Vec<(String, Duration, Duration, Duration)> = vec![
            (
                "server.read_timeout".into(),
                self.server.read_timeout,
                100 * MS,
                HOUR,
            ),
            (
                "server.shutdown_timeout".into(),
                self.server.shutdown_timeout,
                Duration::ZERO,
                HOUR,
            ),
            ("dedup.ttl".into(), self.dedup.ttl, SEC, 366 * DAY),
            (
                "dedup.in_flight_wait".into(),
                self.dedup.in_flight_wait,
                Duration::ZERO,
                MIN,
            ),
            (
                "dedup.pending_ttl".into(),
                self.dedup.pending_ttl,
                SEC,
                HOUR,
            ),
            ("dedup.timeout".into(), self.dedup.timeout, MS, MIN),
        ];
        if let OutputConfig::Kafka(k) = &self.output {
            checks.push(("output.ack_timeout".into(), k.ack_timeout, MS, 5 * MIN));
        }
        for (i, s) in self.sources.iter().enumerate() {
            if let Some(age) = s.max_event_age {
                checks.push((format!("source[{i}].max_event_age"), age, SEC, 3660 * DAY));
            }
        }
        if !(1..=1_000_000).contains(&self.server.max_connections) {
            return Err(format!(
                "server.max_connections: {} is outside the accepted range 1 to 1000000",
                self.server.max_connections
            ));
        }
        for (key, value, min, max) in checks {
            if value < min || value > max {
                return Err(format!(
                    "{key}: {} is outside the accepted range {} to {}",
                    humantime::format_duration(value),
                    humantime::format_duration(min),
                    humantime::format_duration(max)
                ));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Deadline for receiving the whole request body.
    #[serde(default = "default_read_timeout", deserialize_with = "duration")]
    pub read_timeout: Duration,
    /// How long shutdown waits for in-flight requests.
    #[serde(default = "default_shutdown_timeout", deserialize_with = "duration")]
    pub shutdown_timeout: Duration,
    /// Connections open at once; past it new ones are answered 503 and closed.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Serve `/metrics`, `/readyz` and `/healthz` on this address instead of
    /// `listen` (they name sources and failure reasons: keep them off a public port).
    #[serde(default)]
    pub metrics_listen: Option<SocketAddr>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            max_body_bytes: default_max_body(),
            read_timeout: default_read_timeout(),
            shutdown_timeout: default_shutdown_timeout(),
            max_connections: default_max_connections(),
            metrics_listen: None,
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_max_body() -> usize {
    1024 * 1024
}
fn default_read_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_max_connections() -> usize {
    1024
}
fn default_shutdown_timeout() -> Duration {
    Duration::from_secs(30)
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MappingsConfig {
    /// Extra folders of `*.toml` mapping files (relative to the config file).
    #[serde(default)]
    pub dirs: Vec<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum OutputConfig {
    File {
        #[serde(default = "default_events_path")]
        path: PathBuf,
        #[serde(default = "default_dead_letter_path")]
        dead_letter_path: PathBuf,
        /// fsync each batch before acknowledging (default true).
        #[serde(default = "yes")]
        fsync: bool,
    },
    Stdout {},
    Kafka(KafkaOutputConfig),
    /// Encodes and discards every record: for benchmarks only.
    Null {},
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaOutputConfig {
    /// Bootstrap brokers, comma-separated `host:port`.
    pub brokers: String,
    #[serde(default = "default_topic")]
    pub topic: String,
    #[serde(default = "default_dead_letter_topic")]
    pub dead_letter_topic: String,
    /// CloudEvents Kafka binding: structured (default) or binary.
    #[serde(default)]
    pub mode: crate::output::KafkaMode,
    /// Acknowledgement budget: past it the request is answered 503 (default 3s,
    /// below the strictest provider's 5 s timeout).
    #[serde(default = "default_ack_timeout", deserialize_with = "duration")]
    pub ack_timeout: Duration,
    /// Any librdkafka property, passed through (except the ones hookgate owns).
    #[serde(default)]
    pub librdkafka: BTreeMap<String, LibrdkafkaValue>,
}

/// A librdkafka property value as TOML lets one write it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum LibrdkafkaValue {
    String(String),
    Integer(i64),
    Bool(bool),
    Float(f64),
}

impl std::fmt::Display for LibrdkafkaValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::String(s) => f.write_str(s),
            Self::Integer(i) => write!(f, "{i}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Float(x) => write!(f, "{x}"),
        }
    }
}

fn default_topic() -> String {
    "webhooks.events".to_owned()
}
fn default_dead_letter_topic() -> String {
    "webhooks.dead-letter".to_owned()
}
fn default_ack_timeout() -> Duration {
    Duration::from_secs(3)
}

impl Default for OutputConfig {
    fn default() -> Self {
        Self::File {
            path: default_events_path(),
            dead_letter_path: default_dead_letter_path(),
            fsync: true,
        }
    }
}

fn default_events_path() -> PathBuf {
    PathBuf::from("events.ndjson")
}
fn default_dead_letter_path() -> PathBuf {
    PathBuf::from("dead-letters.ndjson")
}
fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DedupStoreKind {
    #[default]
    Memory,
    Redis,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DedupConfig {
    #[serde(default)]
    pub store: DedupStoreKind,
    /// How long a delivered event id is remembered.
    #[serde(default = "default_ttl", deserialize_with = "duration")]
    pub ttl: Duration,
    /// Memory store: how many ids are remembered at most.
    #[serde(default = "default_max_entries")]
    pub max_entries: u64,
    /// How long a duplicate waits for its in-flight original before a 503.
    #[serde(default = "default_in_flight_wait", deserialize_with = "duration")]
    pub in_flight_wait: Duration,
    /// Redis store: `redis://host:6379/0` (or `rediss://` for TLS).
    #[serde(default)]
    pub url: Option<String>,
    /// Redis store: prefix of every key hookgate writes.
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
    /// Redis store: how long a claim lives before its delivery finished; a claim
    /// left by a crashed replica frees itself after this.
    #[serde(default = "default_pending_ttl", deserialize_with = "duration")]
    pub pending_ttl: Duration,
    /// Redis store: `open` (deliver without dedup, default) or `closed` (503).
    #[serde(default)]
    pub on_unavailable: crate::dedup::redis::OnUnavailable,
    /// Redis store: per-command budget before Redis counts as unavailable.
    #[serde(default = "default_redis_timeout", deserialize_with = "duration")]
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
            on_unavailable: Default::default(),
            timeout: default_redis_timeout(),
        }
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub id: String,
    pub provider: String,
    /// Signature secrets; any may match (rotation). Empty entries are skipped, so
    /// `"${PREVIOUS_SECRET:-}"` can stand for a rotation slot not in use.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// A secret URL segment: POST /webhooks/{id}/{token}.
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub basic_auth: Option<BasicAuthConfig>,
    /// Networks deliveries may come from (CIDR), checked against the TCP peer.
    #[serde(default)]
    pub allow_ips: Vec<IpNet>,
    /// Accept deliveries with no check at all. Must be said explicitly.
    #[serde(default)]
    pub allow_unauthenticated: bool,
    /// Meta's subscription handshake token, for mappings that declare it.
    #[serde(default)]
    pub verify_token: Option<String>,
    /// Refuse events whose own time is older than this (e.g. "6h"): replay
    /// protection for providers without a signed timestamp. Keep it above the
    /// provider's retry window.
    #[serde(default, deserialize_with = "opt_duration")]
    pub max_event_age: Option<Duration>,
    /// Requests per second this source accepts (past it: 429 + Retry-After).
    #[serde(default)]
    pub rate_limit: Option<RateLimitConfig>,
    /// The CloudEvents `tenant` of every event of this source, in place of the
    /// mapping's: for providers whose tenant is not covered by the signature
    /// (Shopify's shop domain header), one source per tenant says it trustworthily.
    #[serde(default)]
    pub tenant: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Authenticated requests per second.
    pub per_second: std::num::NonZeroU32,
    /// Requests allowed at once above the rate (default: `per_second`).
    #[serde(default)]
    pub burst: Option<std::num::NonZeroU32>,
    /// Sources checked by signature only: requests per second read before the
    /// signature is known (default: 4 × `per_second`). Forgeries spend this
    /// budget, never the authenticated one.
    #[serde(default)]
    pub unverified_per_second: Option<std::num::NonZeroU32>,
    /// Burst of the unverified budget (default: 4 × `burst`).
    #[serde(default)]
    pub unverified_burst: Option<std::num::NonZeroU32>,
}

impl RateLimitConfig {
    /// The authenticated budget's (rate, burst).
    pub fn authenticated(&self) -> (std::num::NonZeroU32, std::num::NonZeroU32) {
        (self.per_second, self.burst.unwrap_or(self.per_second))
    }

    /// The unverified budget's (rate, burst).
    pub fn unverified(&self) -> (std::num::NonZeroU32, std::num::NonZeroU32) {
        let (rate, burst) = self.authenticated();
        (
            self.unverified_per_second
                .unwrap_or(rate.saturating_mul(UNVERIFIED_FACTOR)),
            self.unverified_burst
                .unwrap_or(burst.saturating_mul(UNVERIFIED_FACTOR)),
        )
    }
}

/// How much larger the default pre-signature budget is than the authenticated one.
const UNVERIFIED_FACTOR: std::num::NonZeroU32 = match std::num::NonZeroU32::new(4) {
    Some(n) => n,
    None => std::num::NonZeroU32::MIN,
};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuthConfig {
    pub username: String,
    pub password: String,
}

fn opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    duration(d).map(Some)
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    humantime::parse_duration(&s).map_err(|e| {
        serde::de::Error::custom(format!(
            "`{s}` is not a duration like \"10s\" or \"24h\": {e}"
        ))
    })
}
