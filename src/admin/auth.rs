//! Signing in to the inspector: the token once (compared in constant time), then
//! an HttpOnly, SameSite=Strict session cookie; a per-session CSRF token on every
//! form that changes something. Sessions live in memory and expire. Sign-in
//! attempts are limited per client address, under a higher limit for all together.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::verify::Secret;

pub const COOKIE: &str = "hookgate_admin";
/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Sessions held at once; the oldest goes first.
const MAX_SESSIONS: usize = 64;
/// Sign-in attempts per client address: a burst, then one a second.
const PER_ADDRESS_BURST: u32 = 10;
/// Attempts from all addresses together: a ceiling for many addresses guessing
/// at once, well above what one address may spend.
const GLOBAL_PER_SECOND: u32 = 10;
const GLOBAL_BURST: u32 = 100;
/// Client addresses whose attempts are tracked at once. Past it, addresses whose
/// budget is full again are forgotten; while the table stays full (thousands of
/// addresses guessing within seconds), attempts are held to the global ceiling
/// alone.
const MAX_TRACKED_ADDRESSES: usize = 4096;

#[derive(Debug, Clone)]
pub struct Session {
    pub csrf: String,
    expires: Instant,
}

pub struct Auth {
    token: Secret,
    sessions: Mutex<HashMap<String, Session>>,
    /// Sign-in attempts per client address (an IPv6 client by its /64), so one
    /// client's guesses do not lock out another.
    per_address: governor::DefaultKeyedRateLimiter<IpAddr>,
    /// All attempts together.
    attempts: governor::DefaultDirectRateLimiter,
    /// Bumped whenever a session ends before its time (sign-out, pushed out), so
    /// open live feeds check theirs at once.
    ended: watch::Sender<u64>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Auth")
    }
}

/// A random identifier: 244 bits from the OS's generator (two UUIDv4).
fn random_id() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Why a sign-in did not work. One message for every wrong token: which part
/// was wrong is not said.
#[derive(Debug, PartialEq, Eq)]
pub enum SignIn {
    Wrong,
    TooMany,
}

/// The key a client's attempts are counted under: its address, an IPv6 one by
/// its /64 (one host often holds a whole /64), an IPv4-mapped one as IPv4.
fn client_key(peer: Option<IpAddr>) -> IpAddr {
    match peer {
        None => IpAddr::from([0, 0, 0, 0]),
        Some(IpAddr::V4(v4)) => IpAddr::V4(v4),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl Auth {
    pub fn new(token: &str) -> Self {
        let per_address =
            governor::Quota::per_second(NonZeroU32::MIN).allow_burst(nonzero(PER_ADDRESS_BURST));
        let global = governor::Quota::per_second(nonzero(GLOBAL_PER_SECOND))
            .allow_burst(nonzero(GLOBAL_BURST));
        Self {
            token: Secret::new(token.as_bytes()),
            sessions: Mutex::new(HashMap::new()),
            per_address: governor::RateLimiter::keyed(per_address),
            attempts: governor::RateLimiter::direct(global),
            ended: watch::channel(0).0,
        }
    }

    /// Whether `peer` may try a token now: its own budget first (so one address
    /// cannot spend the global one faster than its own), then the global one.
    fn may_try(&self, peer: Option<IpAddr>) -> bool {
        let key = client_key(peer);
        if self.per_address.len() >= MAX_TRACKED_ADDRESSES {
            self.per_address.retain_recent();
            self.per_address.shrink_to_fit();
        }
        let tracked = self.per_address.len() < MAX_TRACKED_ADDRESSES;
        if tracked && self.per_address.check_key(&key).is_err() {
            return false;
        }
        self.attempts.check().is_ok()
    }

    /// Checks the token given from `peer`; on success a new session id.
    pub fn sign_in(&self, given: &str, peer: Option<IpAddr>) -> Result<String, SignIn> {
        if !self.may_try(peer) {
            return Err(SignIn::TooMany);
        }
        if !self.token.ct_eq(given.as_bytes()) {
            return Err(SignIn::Wrong);
        }
        let id = random_id();
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        sessions.retain(|_, s| s.expires > now);
        if sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.expires)
                .map(|(k, _)| k.clone())
            {
                sessions.remove(&oldest);
                self.ended.send_modify(|n| *n += 1);
            }
        }
        sessions.insert(
            id.clone(),
            Session {
                csrf: random_id(),
                expires: now + SESSION_TTL,
            },
        );
        Ok(id)
    }

    /// The session a cookie value names, if it is live.
    pub fn session(&self, id: &str) -> Option<Session> {
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        // A map lookup by the secret id: its timing says nothing about other ids.
        sessions
            .get(id)
            .filter(|s| s.expires > Instant::now())
            .cloned()
    }

    pub fn sign_out(&self, id: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        self.ended.send_modify(|n| *n += 1);
    }

    /// Changes whenever a session ends before its time.
    pub fn endings(&self) -> watch::Receiver<u64> {
        self.ended.subscribe()
    }
}

impl Session {
    /// Whether a form's CSRF token is this session's (constant time).
    pub fn csrf_ok(&self, given: &str) -> bool {
        Secret::new(self.csrf.as_bytes()).ct_eq(given.as_bytes())
    }
}

/// The session cookie's value in a `Cookie` header.
pub fn cookie_value(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_only_with_the_token_and_csrf_only_its_own() {
        let auth = Auth::new("a-token-of-at-least-24-chars");
        assert_eq!(auth.sign_in("wrong", A), Err(SignIn::Wrong));
        assert_eq!(
            auth.sign_in("a-token-of-at-least-24-charz", A),
            Err(SignIn::Wrong)
        );
        let id = auth
            .sign_in("a-token-of-at-least-24-chars", A)
            .unwrap_or_default();
        let s = auth.session(&id).unwrap_or_else(|| panic!("session"));
        assert!(s.csrf_ok(&s.csrf));
        assert!(!s.csrf_ok("guess"));
        assert!(auth.session("not-a-session").is_none());
        auth.sign_out(&id);
        assert!(auth.session(&id).is_none());
    }

    const A: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));
    const B: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2)));

    #[test]
    fn guessing_fast_is_refused() {
        let auth = Auth::new("a-token-of-at-least-24-chars");
        let refused = (0..50)
            .filter(|_| auth.sign_in("guess", A) == Err(SignIn::TooMany))
            .count();
        assert!(refused >= 35, "{refused}");
    }

    #[test]
    fn one_address_guessing_does_not_lock_out_another() {
        let auth = Auth::new("a-token-of-at-least-24-chars");
        for _ in 0..12 {
            let _ = auth.sign_in("guess", A);
        }
        assert_eq!(
            auth.sign_in("a-token-of-at-least-24-chars", A),
            Err(SignIn::TooMany)
        );
        assert!(auth.sign_in("a-token-of-at-least-24-chars", B).is_ok());
    }

    #[test]
    fn many_addresses_meet_the_global_ceiling() {
        let auth = Auth::new("a-token-of-at-least-24-chars");
        let refused = (0..500u32)
            .map(|n| Some(IpAddr::V4(n.into())))
            .filter(|peer| auth.sign_in("guess", *peer) == Err(SignIn::TooMany))
            .count();
        assert!(refused >= 350, "{refused}");
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1"
            .parse()
            .unwrap_or_else(|_| unreachable!());
        let b: IpAddr = "2001:db8:1:2:bbbb::2"
            .parse()
            .unwrap_or_else(|_| unreachable!());
        assert_eq!(client_key(Some(a)), client_key(Some(b)));
        let mapped: IpAddr = "::ffff:192.0.2.1"
            .parse()
            .unwrap_or_else(|_| unreachable!());
        assert_eq!(client_key(Some(mapped)), client_key(A));
    }

    #[test]
    fn the_tracked_addresses_are_bounded() {
        let auth = Auth::new("a-token-of-at-least-24-chars");
        for n in 0..(MAX_TRACKED_ADDRESSES as u32 + 500) {
            let _ = auth.may_try(Some(IpAddr::V4(n.into())));
        }
        assert!(auth.per_address.len() <= MAX_TRACKED_ADDRESSES);
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = http::HeaderMap::new();
        h.insert(
            http::header::COOKIE,
            http::HeaderValue::from_static("a=1; hookgate_admin=abc; b=2"),
        );
        assert_eq!(cookie_value(&h).as_deref(), Some("abc"));
    }
}
