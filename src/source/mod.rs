//! A configured source: a URL path segment bound to a provider mapping, the checks
//! its deliveries must pass, the policy its events get, and its request budgets.

mod config;

use std::sync::Arc;
use std::time::Duration;

pub use config::{BasicAuthConfig, RateLimitConfig, SourceConfig};

use crate::engine::Policy;
use crate::event::SourceId;
use crate::mapping::Mapping;
use crate::verify::SourceAuth;

/// One configured source: a URL path segment bound to a provider mapping and the
/// checks its deliveries must pass.
#[derive(Debug)]
pub struct Source {
    pub id: SourceId,
    pub mapping: Arc<Mapping>,
    pub auth: SourceAuth,
    /// Meta's subscription handshake token (`hub.verify_token`).
    pub verify_token: Option<crate::verify::Secret>,
    /// What the engine applies to this source's events (`max_event_age`, `tenant`).
    pub policy: Policy,
    pub rate_limit: Option<SourceLimits>,
}

/// A source's request budgets. Only requests that passed the body-free checks
/// (address, URL token, basic auth) spend `authenticated`, so a stranger who knows
/// the source id cannot lock the provider out. A source whose only check is a
/// signature cannot tell a forgery before reading the body: its pre-body budget is
/// `unverified` (larger), and `authenticated` is spent once the signature matched,
/// so forgeries never starve authentic deliveries of their budget.
#[derive(Debug)]
pub struct SourceLimits {
    pub authenticated: RateLimit,
    pub unverified: Option<RateLimit>,
}

impl SourceLimits {
    /// Spends one request of the budget for requests not yet known to be the
    /// provider's: the unverified one when the source has it (signature-only
    /// sources), else the only one. `Err(wait)` when it is spent.
    pub fn check_unverified(&self) -> Result<(), Duration> {
        match &self.unverified {
            Some(pre) => pre.check(),
            None => self.authenticated.check(),
        }
    }
}

/// A per-source request budget (GCRA, from the governor crate).
pub struct RateLimit(governor::DefaultDirectRateLimiter);

impl std::fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RateLimit")
    }
}

impl RateLimit {
    pub fn new(per_second: std::num::NonZeroU32, burst: std::num::NonZeroU32) -> Self {
        let quota = governor::Quota::per_second(per_second).allow_burst(burst);
        Self(governor::RateLimiter::direct(quota))
    }

    /// `Err(wait)` when the budget is spent: how long until the next request fits.
    pub fn check(&self) -> Result<(), Duration> {
        use governor::clock::Clock as _;
        self.0.check().map_err(|not_until| {
            not_until.wait_time_from(governor::clock::DefaultClock::default().now())
        })
    }
}

impl Source {
    /// Answers Meta's `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`:
    /// `Some(challenge)` when this source's mapping declares the handshake and the
    /// token matches (constant time).
    pub fn meta_subscribe<'q>(
        &self,
        mode: Option<&str>,
        token: Option<&str>,
        challenge: Option<&'q str>,
    ) -> Option<&'q str> {
        let expected = self.verify_token.as_ref()?;
        if !self.mapping.handshake().meta_subscribe || mode != Some("subscribe") {
            return None;
        }
        let ok = expected.ct_eq(token?.as_bytes());
        ok.then_some(challenge?)
    }
}
