//! `[output] kind = "kafka"`: brokers, topics, the CloudEvents binding mode, the
//! acknowledgement budget and librdkafka's own properties (except those hookgate's
//! delivery promise rests on).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::secret::Secret;
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
    pub librdkafka: LibrdkafkaProps,
    /// A durable local spool in front of the broker (see `[output.spool]`).
    #[serde(default)]
    pub spool: Option<crate::output::spool::SpoolConfig>,
    /// `[output.sasl]`: authenticate to the brokers (managed Kafka).
    #[serde(default)]
    pub sasl: Option<SaslConfig>,
    /// `[output.tls]`: encrypt the connection (and present a client certificate).
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// `[[output.route]]`: topics by type, provider, source or tenant.
    #[serde(default)]
    pub route: Vec<super::route::RouteConfig>,
    /// `[output.schema_registry]`: register the records' schemas and frame every
    /// value with its schema id (the Confluent wire format).
    #[serde(default)]
    pub schema_registry: Option<crate::output::registry::SchemaRegistryConfig>,
}

/// The SASL mechanisms librdkafka speaks without a system SASL library: the ones
/// Confluent Cloud, MSK, Aiven and Redpanda Cloud offer for user/password access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum SaslMechanism {
    #[serde(rename = "PLAIN")]
    Plain,
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
}

impl SaslMechanism {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaslConfig {
    pub mechanism: SaslMechanism,
    pub username: String,
    /// Never printed (`Debug` shows `[redacted]`); write it as `"${VAR}"`.
    pub password: Secret,
}

/// TLS to the brokers. An empty `[output.tls]` means TLS with the system's CA
/// certificates, which is what every managed service needs.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file of the CA(s) that signed the brokers' certificates (default: the system's).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// A client certificate (PEM) for brokers that authenticate clients by certificate
    /// (Aiven's default); needs `key_file`.
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    /// The client certificate's private key (PEM, unencrypted).
    #[serde(default)]
    pub key_file: Option<PathBuf>,
}

impl TlsConfig {
    /// The same settings with relative paths resolved against `base_dir` (the
    /// config file's folder).
    pub fn resolved(&self, base_dir: &Path) -> Self {
        let r = |p: &Option<PathBuf>| {
            p.as_ref().map(|p| {
                if p.is_absolute() {
                    p.clone()
                } else {
                    base_dir.join(p)
                }
            })
        };
        Self {
            ca_file: r(&self.ca_file),
            cert_file: r(&self.cert_file),
            key_file: r(&self.key_file),
        }
    }

    fn validate(&self) -> Result<(), String> {
        match (&self.cert_file, &self.key_file) {
            (Some(_), None) => Err("output.tls.cert_file needs output.tls.key_file".into()),
            (None, Some(_)) => Err("output.tls.key_file needs output.tls.cert_file".into()),
            _ => Ok(()),
        }
    }
}

impl KafkaOutputConfig {
    /// The same settings with the TLS files' relative paths resolved against
    /// `base_dir` (the config file's folder).
    pub fn resolved(&self, base_dir: &Path) -> Self {
        Self {
            tls: self.tls.as_ref().map(|t| t.resolved(base_dir)),
            ..self.clone()
        }
    }

    /// The compiled `[[output.route]]` rules.
    pub fn routes(&self) -> Result<super::route::Routes, String> {
        super::route::Routes::compile(&self.route, &self.topic, &self.dead_letter_topic)
    }

    /// The kind of record an event is written as in this mode (what the schema
    /// registry holds for the events' topics).
    pub fn event_record_kind(&self) -> crate::output::registry::RecordKind {
        match self.mode {
            KafkaMode::Structured => crate::output::registry::RecordKind::Event,
            KafkaMode::Binary => crate::output::registry::RecordKind::EventData,
        }
    }

    /// librdkafka's `security.protocol` for the typed settings.
    pub fn security_protocol(&self) -> &'static str {
        match (&self.sasl, &self.tls) {
            (None, None) => "plaintext",
            (None, Some(_)) => "ssl",
            (Some(_), None) => "sasl_plaintext",
            (Some(_), Some(_)) => "sasl_ssl",
        }
    }
}

/// `[output.librdkafka]`: librdkafka's own properties. `Debug` hides the values of
/// the ones that hold key material (`ssl.key.password`, `ssl.key.pem`, …).
#[derive(Clone, PartialEq, Deserialize, Default)]
#[serde(transparent)]
pub struct LibrdkafkaProps(BTreeMap<String, LibrdkafkaValue>);

impl LibrdkafkaProps {
    fn is_secret(key: &str) -> bool {
        ["password", "secret", ".pem", "jaas", "token"]
            .iter()
            .any(|s| key.contains(s))
    }
}

impl std::ops::Deref for LibrdkafkaProps {
    type Target = BTreeMap<String, LibrdkafkaValue>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FromIterator<(String, LibrdkafkaValue)> for LibrdkafkaProps {
    fn from_iter<I: IntoIterator<Item = (String, LibrdkafkaValue)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl std::fmt::Debug for LibrdkafkaProps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| {
                let shown: &dyn std::fmt::Debug =
                    if Self::is_secret(k) { &"[redacted]" } else { v };
                (k, shown)
            }))
            .finish()
    }
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
    // Typed so the password is redacted everywhere and a failure is named.
    (
        "security.protocol",
        "it follows from `[output.sasl]` and `[output.tls]`",
    ),
    ("sasl.mechanism", "set `[output.sasl] mechanism`"),
    ("sasl.mechanisms", "set `[output.sasl] mechanism`"),
    ("sasl.username", "set `[output.sasl] username`"),
    ("sasl.password", "set `[output.sasl] password`"),
    ("ssl.ca.location", "set `[output.tls] ca_file`"),
    ("ssl.certificate.location", "set `[output.tls] cert_file`"),
    ("ssl.key.location", "set `[output.tls] key_file`"),
];

impl KafkaOutputConfig {
    pub fn validate(&self) -> Result<(), String> {
        within("output.ack_timeout", self.ack_timeout, MS, 5 * MIN)?;
        if let Some(spool) = &self.spool {
            spool.validate()?;
        }
        if let Some(tls) = &self.tls {
            tls.validate()?;
        }
        let routes = self.routes()?;
        if let Some(registry) = &self.schema_registry {
            registry.validate(&routes.event_topics(), &routes.dead_letter_topics())?;
        }
        if let Some(sasl) = &self.sasl {
            if sasl.username.is_empty() || sasl.password.is_empty() {
                return Err("output.sasl: username and password must not be empty \
                            (an unset variable?)"
                    .into());
            }
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
