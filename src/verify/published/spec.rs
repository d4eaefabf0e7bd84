//! The declarative form of a token signed with the provider's published keys, as
//! a mapping file's `[auth] scheme = "published-jwt"` writes it: where the keys
//! are published and in what form, whose tokens are taken, which algorithms, and
//! the claims a delivery must agree with.

use jsonwebtoken::Algorithm;
use serde::{Deserialize, Serialize};

/// How the provider publishes its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyFormat {
    /// A JSON Web Key Set (`{"keys": [...]}`).
    Jwks,
    /// An OpenID Connect discovery document whose `jwks_uri` names the key set
    /// (Bot Framework).
    OpenidConfiguration,
    /// Google's map of key id to PEM X.509 certificate.
    X509,
}

/// A claim the token must carry, and what it must equal: a fixed value, or a
/// value of the delivery's own JSON body (a JSON pointer, `/serviceUrl`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimSpec {
    pub claim: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals_body: Option<String>,
}

/// `[auth] scheme = "published-jwt"`. Sources give their `audience` (the app id,
/// the project number); the keys are fetched from `keys_url`, never configured.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedJwtSpec {
    /// The header the token travels in (`Bearer <token>`).
    #[serde(default = "default_header")]
    pub header: String,
    /// Where the keys are published: `https://` only (a source's `keys_url` may
    /// point elsewhere, e.g. a loopback key server in tests).
    pub keys_url: String,
    pub keys: KeyFormat,
    /// The `iss` values taken; one is required.
    pub issuers: Vec<String>,
    /// The algorithms the provider signs with: `RS256`, `RS384`, `RS512`, `ES256`.
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    /// How far past `exp` (and before `nbf`) a token is still taken: clock skew.
    #[serde(default)]
    pub leeway: Option<String>,
    /// Claims checked beside `iss`, `aud`, `exp` and `nbf`.
    #[serde(default)]
    pub claims: Vec<ClaimSpec>,
    /// A JSON pointer into the body naming the channel a key must be endorsed for,
    /// when the key set lists endorsements (Bot Framework's `/channelId`).
    #[serde(default)]
    pub key_endorsement: Option<String>,
}

fn default_header() -> String {
    "Authorization".to_owned()
}

fn default_algorithms() -> Vec<String> {
    vec!["RS256".to_owned()]
}

/// The algorithms a published-key scheme may allow: signatures by a private key.
pub fn algorithm(name: &str) -> Option<Algorithm> {
    match name {
        "RS256" => Some(Algorithm::RS256),
        "RS384" => Some(Algorithm::RS384),
        "RS512" => Some(Algorithm::RS512),
        "ES256" => Some(Algorithm::ES256),
        _ => None,
    }
}

/// A key URL hookgate may fetch: `https`, or `http` to the loopback interface
/// (a test's key server). Keys fetched in clear text from anywhere else could be
/// replaced on the way, and every token with them.
pub fn check_key_url(url: &str) -> Result<(), String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|_| format!("key URL `{url}` is not a URL"))?;
    let host = uri.host().unwrap_or_default();
    match uri.scheme_str() {
        Some("https") if !host.is_empty() => Ok(()),
        Some("http") if matches!(host, "127.0.0.1" | "localhost" | "[::1]") => Ok(()),
        _ => Err(format!(
            "key URL `{url}` must be https:// (http:// only to 127.0.0.1 or localhost)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_and_loopback_key_urls() {
        for ok in [
            "https://login.botframework.com/v1/.well-known/openidconfiguration",
            "http://127.0.0.1:8123/keys",
            "http://localhost/keys",
            "http://[::1]:9/keys",
        ] {
            assert_eq!(check_key_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://login.botframework.com/keys",
            "http://127.0.0.2/keys",
            "http://localhost.evil.example/keys",
            "ftp://example.com/keys",
            "/keys",
            "not a url",
        ] {
            assert!(check_key_url(bad).is_err(), "{bad}");
        }
    }
}
