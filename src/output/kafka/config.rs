//! `[output] kind = "kafka"`: brokers, topics, the CloudEvents binding mode, the
//! acknowledgement budget and librdkafka's own properties (except those hookgate's
//! delivery promise rests on).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::settings::{within, MIN, MS};

/// CloudEvents Kafka protocol binding mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum KafkaMode {
    /// The whole CloudEvent as the value, `content-type: application/cloudevents+json`.
    #[default]
    Structured,
    /// `data` as the value, attributes as `ce_*` headers.
    Binary,
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
    pub mode: KafkaMode,
    /// Acknowledgement budget: past it the request is answered 503 (default 3s,
    /// below the strictest provider's 5 s timeout).
    #[serde(default = "default_ack_timeout", with = "humantime_serde")]
    pub ack_timeout: Duration,
    /// Any librdkafka property, passed through (except the ones hookgate owns).
    #[serde(default)]
    pub librdkafka: BTreeMap<String, LibrdkafkaValue>,
    /// A durable local spool in front of the broker (see `[output.spool]`).
    #[serde(default)]
    pub spool: Option<crate::output::spool::SpoolConfig>,
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

/// Settings hookgate owns because its delivery promise rests on them.
pub const PROTECTED: &[(&str, &str)] = &[
    ("bootstrap.servers", "set `brokers`"),
    ("metadata.broker.list", "set `brokers`"),
    (
        "enable.idempotence",
        "hookgate always uses the idempotent producer",
    ),
    ("acks", "hookgate always uses acks=all"),
    ("request.required.acks", "hookgate always uses acks=all"),
    ("message.timeout.ms", "set `ack_timeout`"),
    ("delivery.timeout.ms", "set `ack_timeout`"),
];

impl KafkaOutputConfig {
    pub fn validate(&self) -> Result<(), String> {
        within("output.ack_timeout", self.ack_timeout, MS, 5 * MIN)?;
        if let Some(spool) = &self.spool {
            spool.validate()?;
        }
        for key in self.librdkafka.keys() {
            if let Some((_, why)) = PROTECTED.iter().find(|(p, _)| p == key) {
                return Err(format!("librdkafka.\"{key}\" cannot be set here: {why}"));
            }
        }
        Ok(())
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
