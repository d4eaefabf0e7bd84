//! The declarative form of a signature scheme, as a mapping file's `[auth]` writes
//! it: `scheme = "hmac"` (a shared secret) or `scheme = "ed25519"` (a public key).

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
    /// `{timestamp}`, `{id}` and `{url}` (the source's `public_url` and the query)
    /// placeholders.
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

/// `[auth] scheme = "ed25519"`: the provider signs with its private key; sources
/// give `public_keys` (hex, base64 or `whpk_<base64>`). Laid out and templated as
/// the HMAC schemes are.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Ed25519Spec {
    /// Candidate header names, tried in order; the first present is used.
    pub headers: Vec<String>,
    /// How the 64-byte signature is written.
    #[serde(default = "default_encodings")]
    pub encodings: Vec<Encoding>,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub prefix_optional: bool,
    #[serde(default = "default_signed")]
    pub signed: String,
    #[serde(default)]
    pub format: SignatureFormat,
    #[serde(default = "default_versions")]
    pub versions: Vec<String>,
    #[serde(default)]
    pub timestamp_header: Option<String>,
    #[serde(default)]
    pub id_header: Option<String>,
    #[serde(default)]
    pub tolerance: Option<String>,
}

impl Ed25519Spec {
    /// The shared fields in the HMAC spec's shape (its algorithm and secret
    /// encoding are not used for Ed25519).
    pub(super) fn as_common(&self) -> HmacSpec {
        HmacSpec {
            algorithm: Algorithm::Sha256,
            headers: self.headers.clone(),
            encodings: self.encodings.clone(),
            prefix: self.prefix.clone(),
            prefix_optional: self.prefix_optional,
            signed: self.signed.clone(),
            format: self.format,
            versions: self.versions.clone(),
            timestamp_header: self.timestamp_header.clone(),
            id_header: self.id_header.clone(),
            tolerance: self.tolerance.clone(),
            secret_encoding: SecretEncoding::Raw,
        }
    }
}

/// The default replay window of timestamped schemes.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);
