//! The declarative form of an HMAC scheme, as a mapping file's `[auth]` writes it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Hex,
    Base64,
}

/// How the signature header is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureFormat {
    /// One signature, optionally prefixed (`sha256=…`).
    #[default]
    Plain,
    /// `t=<unix seconds>,v1=<hex>[,v1=<hex>…]` (Stripe and alike); `versions`
    /// names the keys that hold signatures.
    Stripe,
    /// Space-separated `v1,<base64>` entries (Standard Webhooks); `versions` names
    /// the accepted versions.
    StandardWebhooks,
}

/// How a source's secret strings become HMAC keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SecretEncoding {
    /// The secret's bytes as written.
    #[default]
    Raw,
    /// `whsec_<base64>` (Standard Webhooks, Svix): the key is the decoded base64.
    WhsecBase64,
}

/// The declarative form of an HMAC scheme, as written in a mapping file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HmacSpec {
    pub algorithm: Algorithm,
    /// Candidate header names, tried in order; the first present is used.
    pub headers: Vec<String>,
    #[serde(default = "default_encodings")]
    pub encodings: Vec<Encoding>,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub prefix_optional: bool,
    /// What is signed: `{body}` (the raw body, default), `{header:Name}`,
    /// `{timestamp}` and `{id}` placeholders.
    #[serde(default = "default_signed")]
    pub signed: String,
    #[serde(default)]
    pub format: SignatureFormat,
    /// Stripe: keys holding signatures; Standard Webhooks: accepted versions.
    #[serde(default = "default_versions")]
    pub versions: Vec<String>,
    /// Where `{timestamp}` comes from (Unix seconds), unless the format carries it.
    #[serde(default)]
    pub timestamp_header: Option<String>,
    /// Where `{id}` comes from.
    #[serde(default)]
    pub id_header: Option<String>,
    /// Replay window for timestamped schemes, e.g. "5m" (the default).
    #[serde(default)]
    pub tolerance: Option<String>,
    #[serde(default)]
    pub secret_encoding: SecretEncoding,
}

fn default_encodings() -> Vec<Encoding> {
    vec![Encoding::Hex]
}

fn default_signed() -> String {
    "{body}".to_owned()
}

pub(super) fn default_versions() -> Vec<String> {
    vec!["v1".to_owned()]
}

/// The default replay window of timestamped schemes.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);
