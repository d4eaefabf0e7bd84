//! `[[source]]`: one URL, the provider mapping behind it, and the checks its
//! deliveries must pass. Compiled against the loaded mappings into a [`Source`].

use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;

use super::{RateLimit, Source, SourceLimits};
use crate::event::SourceId;
use crate::mapping::MappingSet;
use crate::settings::{within, DAY, SEC};
use crate::verify::{BasicAuth, IpAllowList, Secret, SourceAuth, MIN_SECRET_BYTES};

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
        let scheme = mapping.scheme();
        if scheme.is_none() && self.secrets.iter().any(|x| !x.trim().is_empty()) {
            return Err(fail(format!(
                "provider `{}` does not sign its deliveries, so `secrets` cannot be checked; \
                 use token, basic_auth or allow_ips",
                self.provider
            )));
        }
        // An empty slot (`"${PREVIOUS:-}"` unset) is skipped before decoding; a
        // value that decodes to a short or empty key is refused, never used: an
        // empty HMAC key is one anybody can sign with.
        let mut secrets = Vec::new();
        for (n, raw) in self.secrets.iter().enumerate() {
            let Some(scheme) = scheme.filter(|_| !raw.trim().is_empty()) else {
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
        if !self.secrets.is_empty() && secrets.is_empty() {
            return Err(fail(
                "every entry of `secrets` is empty (is the environment variable set?)".to_owned(),
            ));
        }
        let auth = SourceAuth {
            signature: scheme
                .filter(|_| !secrets.is_empty())
                .map(|s| (s.clone(), secrets)),
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
        };
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
            Some(t) if t.is_empty() => return Err(fail("verify_token is empty".to_owned())),
            Some(t) => Some(Secret::new(t.as_bytes())),
            None => None,
        };
        if self.tenant.as_deref().is_some_and(str::is_empty) {
            return Err(fail("tenant is empty".to_owned()));
        }
        // Only a signature stands between a stranger and the body.
        let signature_only = auth.signature.is_some() && !auth.checks_before_body();
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
            },
            rate_limit,
        })
    }
}

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
