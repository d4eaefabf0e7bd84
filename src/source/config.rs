//! `[[source]]`: one URL, the provider mapping behind it, and the checks its
//! deliveries must pass. Compiled against the loaded mappings into a [`Source`].

use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;

use super::{RateLimit, Source, SourceLimits};
use crate::event::SourceId;
use crate::mapping::MappingSet;
use crate::settings::{within, DAY, SEC};
use crate::verify::{
    check_key_url, BasicAuth, IpAllowList, KeyStore, Keys, PublishedKeys, Secret, SourceAuth,
    MIN_SECRET_BYTES,
};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub id: String,
    pub provider: String,
    /// Signature secrets (HMAC keys, header tokens, JWT secrets, Twilio's auth
    /// token); any may match (rotation). Empty entries are skipped, so
    /// `"${PREVIOUS_SECRET:-}"` can stand for a rotation slot not in use.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Public keys, for providers that sign with a private key (Ed25519): hex,
    /// base64 or `whpk_<base64>`; any may match (rotation); empty entries skipped.
    #[serde(default)]
    pub public_keys: Vec<String>,
    /// The URL the provider posts to, as the provider sees it (behind a load
    /// balancer it is not the one hookgate sees): for schemes that sign the URL.
    #[serde(default)]
    pub public_url: Option<String>,
    /// For providers that sign with keys they publish: the audience their tokens
    /// are addressed to (the bot's app id, the Chat app's project number); one
    /// value or a list. Empty entries are skipped.
    #[serde(default, deserialize_with = "one_or_many")]
    pub audience: Vec<String>,
    /// Where those keys are fetched, in place of the mapping's URL (a national
    /// cloud's endpoint, a test's key server): https://, or http:// to loopback.
    #[serde(default)]
    pub keys_url: Option<String>,
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
    #[serde(default, with = "humantime_serde")]
    pub max_event_age: Option<Duration>,
    /// Requests per second this source accepts (past it: 429 + Retry-After).
    #[serde(default)]
    pub rate_limit: Option<RateLimitConfig>,
    /// The CloudEvents `tenant` of every event of this source, in place of the
    /// mapping's: for providers whose tenant is not covered by the signature
    /// (Shopify's shop domain header), one source per tenant says it trustworthily.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The most items one batched delivery may carry (default 1000); past it the
    /// delivery is dead-lettered whole (`batch_too_large`), never cut silently.
    #[serde(default)]
    pub max_batch_items: Option<usize>,
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

/// How much larger the default pre-signature budget is than the authenticated one.
const UNVERIFIED_FACTOR: std::num::NonZeroU32 = match std::num::NonZeroU32::new(4) {
    Some(n) => n,
    None => std::num::NonZeroU32::MIN,
};

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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuthConfig {
    pub username: String,
    pub password: String,
}

impl SourceConfig {
    /// Bounds that need no mapping; `index` names the source in errors.
    pub fn validate(&self, index: usize) -> Result<(), String> {
        if let Some(n) = self.max_batch_items {
            crate::settings::count_within(
                &format!("source[{index}].max_batch_items"),
                n as u64,
                1,
                100_000,
            )?;
        }
        if let Some(age) = self.max_event_age {
            within(
                &format!("source[{index}].max_event_age"),
                age,
                SEC,
                3660 * DAY,
            )?;
        }
        Ok(())
    }

    /// Checks the source against its provider's mapping and compiles the checks it
    /// requires. Errors name the source (`source[i] (id `x`)`), never a secret.
    pub fn compile(&self, index: usize, mappings: &MappingSet) -> Result<Source, String> {
        let at = format!("source[{index}] (id `{}`)", self.id);
        let fail = |detail: String| format!("{at}: {detail}");
        self.validate(index)?;
        let id = SourceId::parse(&self.id).map_err(fail)?;
        let mapping = mappings.get(&self.provider).ok_or_else(|| {
            fail(format!(
                "unknown provider `{}` (known: {})",
                self.provider,
                mappings.providers().join(", ")
            ))
        })?;
        let schemes = mapping.schemes();
        let published: Vec<_> = schemes
            .iter()
            .filter(|s| s.takes_published_keys())
            .collect();
        let secret_scheme = schemes
            .iter()
            .find(|s| !s.takes_public_keys() && !s.takes_published_keys());
        let key_scheme = schemes.iter().find(|s| s.takes_public_keys());
        let given = |v: &[String]| v.iter().any(|x| !x.trim().is_empty());
        if given(&self.secrets) && secret_scheme.is_none() {
            return Err(fail(match key_scheme {
                Some(_) => format!(
                    "provider `{}` signs with a private key: give its `public_keys`, not `secrets`",
                    self.provider
                ),
                None if !published.is_empty() => format!(
                    "provider `{}` signs with keys it publishes, which hookgate fetches: give \
                     the source's `audience`, not `secrets`",
                    self.provider
                ),
                None => format!(
                    "provider `{}` does not sign its deliveries, so `secrets` cannot be checked; \
                     use token, basic_auth or allow_ips",
                    self.provider
                ),
            }));
        }
        if given(&self.public_keys) && key_scheme.is_none() {
            return Err(fail(format!(
                "provider `{}` does not sign with a public key: `public_keys` cannot be used \
                 (its keys go in `secrets`)",
                self.provider
            )));
        }
        // An empty slot (`"${PREVIOUS:-}"` unset) is skipped before decoding; a
        // value that decodes to a short or empty key is refused, never used: an
        // empty HMAC key is one anybody can sign with.
        let mut secrets = Vec::new();
        for (n, raw) in self.secrets.iter().enumerate() {
            let Some(scheme) = secret_scheme.filter(|_| !raw.trim().is_empty()) else {
                continue;
            };
            let key = scheme
                .prepare_secret(raw)
                .map_err(|e| fail(format!("secrets[{n}]: {e}")))?;
            if key.len() < MIN_SECRET_BYTES {
                return Err(fail(format!(
                    "secrets[{n}] is {} bytes after decoding; keys must be at least \
                     {MIN_SECRET_BYTES} bytes (is a variable inside it unset?)",
                    key.len()
                )));
            }
            secrets.push(key);
        }
        let mut public = Vec::new();
        for (n, raw) in self.public_keys.iter().enumerate() {
            let Some(scheme) = key_scheme.filter(|_| !raw.trim().is_empty()) else {
                continue;
            };
            public.push(
                scheme
                    .prepare_public_key(raw)
                    .map_err(|e| fail(format!("public_keys[{n}]: {e}")))?,
            );
        }
        if !self.secrets.is_empty() && secrets.is_empty() && public.is_empty() {
            return Err(fail(
                "every entry of `secrets` is empty (is the environment variable set?)".to_owned(),
            ));
        }
        if !self.public_keys.is_empty() && public.is_empty() && secrets.is_empty() {
            return Err(fail(
                "every entry of `public_keys` is empty (is the environment variable set?)"
                    .to_owned(),
            ));
        }
        let mut signatures = self.published_keys(&published).map_err(fail)?;
        if let (Some(scheme), false) = (secret_scheme, secrets.is_empty()) {
            signatures.push((scheme.clone(), Keys::Secrets(secrets)));
        }
        if let (Some(scheme), false) = (key_scheme, public.is_empty()) {
            signatures.push((scheme.clone(), Keys::Public(public)));
        }
        let signs_url = signatures.iter().any(|(s, _)| s.signs_url());
        let public_url = match (&self.public_url, signs_url) {
            (Some(url), true) => Some(public_url(url).map_err(fail)?),
            (None, true) => {
                return Err(fail(format!(
                    "provider `{}` signs the URL it posts to: set `public_url` to that URL as the \
                     provider sees it (e.g. https://hooks.example.com/webhooks/{})",
                    self.provider, self.id
                )))
            }
            (Some(_), false) => {
                return Err(fail(format!(
                    "public_url is set but provider `{}` does not sign the URL",
                    self.provider
                )))
            }
            (None, false) => None,
        };
        let auth = SourceAuth {
            signatures,
            token: self.token.as_deref().map(token).transpose().map_err(fail)?,
            basic: match &self.basic_auth {
                Some(b) if b.password.is_empty() => {
                    return Err(fail("basic_auth.password is empty".to_owned()))
                }
                Some(b) => Some(BasicAuth {
                    username: b.username.clone(),
                    password: Secret::new(b.password.as_bytes()),
                }),
                None => None,
            },
            allow: (!self.allow_ips.is_empty()).then(|| IpAllowList::new(self.allow_ips.clone())),
            public_url,
        };
        let scheme = mapping.scheme();
        if auth.is_open() && !self.allow_unauthenticated {
            let why = if scheme.is_some() {
                format!(
                    "provider `{}` signs its deliveries: set `secrets`",
                    self.provider
                )
            } else {
                format!("provider `{}` does not sign its deliveries", self.provider)
            };
            return Err(fail(format!(
                "no authentication configured ({why}; or token, basic_auth, allow_ips; \
                 or allow_unauthenticated = true to accept anyone's requests)"
            )));
        }
        if !auth.is_open() && self.allow_unauthenticated {
            return Err(fail(
                "allow_unauthenticated = true contradicts the checks configured for this source"
                    .to_owned(),
            ));
        }
        let verify_token = match &self.verify_token {
            Some(_) if !mapping.handshake().meta_subscribe => {
                return Err(fail(format!(
                    "verify_token is set but provider `{}` declares no subscription handshake",
                    self.provider
                )))
            }
            // Compared before any signature, by anyone who knows the source's URL:
            // long enough not to be guessed, like a URL token.
            Some(t) if t.chars().count() < MIN_VERIFY_TOKEN_CHARS => {
                return Err(fail(format!(
                    "verify_token must be at least {MIN_VERIFY_TOKEN_CHARS} characters                      (is a variable inside it unset?)"
                )))
            }
            Some(t) => Some(Secret::new(t.as_bytes())),
            None => None,
        };
        if self.tenant.as_deref().is_some_and(str::is_empty) {
            return Err(fail("tenant is empty".to_owned()));
        }
        // Only a signature stands between a stranger and the body.
        let signature_only = !auth.signatures.is_empty() && !auth.checks_before_body();
        let rate_limit = self.rate_limit.map(|r| {
            let (rate, burst) = r.authenticated();
            let (pre_rate, pre_burst) = r.unverified();
            SourceLimits {
                authenticated: RateLimit::new(rate, burst),
                unverified: signature_only.then(|| RateLimit::new(pre_rate, pre_burst)),
            }
        });
        Ok(Source {
            id,
            mapping: mapping.clone(),
            auth,
            verify_token,
            policy: crate::engine::Policy {
                max_event_age: self.max_event_age,
                tenant: self.tenant.clone(),
                max_batch_items: self.max_batch_items,
            },
            rate_limit,
        })
    }
}

impl SourceConfig {
    /// The keys of each published-key scheme: the shared store of its key URL
    /// (the source's `keys_url` when set), and the source's audience.
    fn published_keys(
        &self,
        schemes: &[&crate::verify::Scheme],
    ) -> Result<Vec<(crate::verify::Scheme, Keys)>, String> {
        let audience: Vec<String> = self
            .audience
            .iter()
            .filter(|a| !a.trim().is_empty())
            .cloned()
            .collect();
        if schemes.is_empty() {
            if !self.audience.is_empty() || self.keys_url.is_some() {
                return Err(format!(
                    "`audience` and `keys_url` are for providers that sign with keys they \
                     publish; `{}` does not",
                    self.provider
                ));
            }
            return Ok(Vec::new());
        }
        if audience.is_empty() {
            return Err(format!(
                "provider `{}` signs with keys it publishes: set `audience` to what its tokens \
                 are addressed to (the app id, the project number){}",
                self.provider,
                if self.audience.is_empty() {
                    ""
                } else {
                    " (is the environment variable set?)"
                }
            ));
        }
        if let Some(url) = &self.keys_url {
            check_key_url(url)?;
        }
        Ok(schemes
            .iter()
            .filter_map(|scheme| {
                let crate::verify::Scheme::Published(p) = scheme else {
                    return None;
                };
                let url = self.keys_url.as_deref().unwrap_or(p.keys_url());
                let store = KeyStore::shared(url, p.key_format());
                Some((
                    (*scheme).clone(),
                    Keys::Published(PublishedKeys::fetched(store, audience.clone())),
                ))
            })
            .collect())
    }
}

/// One string or a list of them.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// The shortest `verify_token` accepted (the same bar as a URL `token`).
const MIN_VERIFY_TOKEN_CHARS: usize = 16;

/// A URL token: long enough not to be guessed, and plain enough for a path.
fn token(t: &str) -> Result<Secret, String> {
    if t.len() < 16 {
        return Err(
            "token must be at least 16 characters (URL tokens are guessable otherwise)".to_owned(),
        );
    }
    if !t
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b))
    {
        return Err("token must be URL-safe (A-Z, a-z, 0-9, `-_.~`)".to_owned());
    }
    Ok(Secret::new(t.as_bytes()))
}

/// A `public_url`: absolute, http(s), no query (the request's own is appended).
fn public_url(url: &str) -> Result<String, String> {
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(format!(
            "public_url `{url}` must start with https:// or http://"
        ));
    }
    if url.contains('?') || url.contains('#') {
        return Err(format!(
            "public_url `{url}` must not carry a query or fragment: the request's own query is added"
        ));
    }
    Ok(url.to_owned())
}
