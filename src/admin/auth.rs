//! Signing in to the inspector: the token once (compared in constant time), then
//! an HttpOnly, SameSite=Strict session cookie; a per-session CSRF token on every
//! form that changes something. Sessions live in memory and expire.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::verify::Secret;

pub const COOKIE: &str = "hookgate_admin";
/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Sessions held at once; the oldest goes first.
const MAX_SESSIONS: usize = 64;

#[derive(Debug, Clone)]
pub struct Session {
    pub csrf: String,
    expires: Instant,
}

pub struct Auth {
    token: Secret,
    sessions: Mutex<HashMap<String, Session>>,
    /// Sign-in attempts: a budget, so the token cannot be guessed fast.
    attempts: governor::DefaultDirectRateLimiter,
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

impl Auth {
    pub fn new(token: &str) -> Self {
        let quota = governor::Quota::per_second(std::num::NonZeroU32::MIN)
            .allow_burst(std::num::NonZeroU32::new(10).unwrap_or(std::num::NonZeroU32::MIN));
        Self {
            token: Secret::new(token.as_bytes()),
            sessions: Mutex::new(HashMap::new()),
            attempts: governor::RateLimiter::direct(quota),
        }
    }

    /// Checks the token; on success a new session id.
    pub fn sign_in(&self, given: &str) -> Result<String, SignIn> {
        if self.attempts.check().is_err() {
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
        assert_eq!(auth.sign_in("wrong"), Err(SignIn::Wrong));
        assert_eq!(
            auth.sign_in("a-token-of-at-least-24-charz"),
            Err(SignIn::Wrong)
        );
        let id = auth
            .sign_in("a-token-of-at-least-24-chars")
            .unwrap_or_default();
        let s = auth.session(&id).unwrap_or_else(|| panic!("session"));
        assert!(s.csrf_ok(&s.csrf));
        assert!(!s.csrf_ok("guess"));
        assert!(auth.session("not-a-session").is_none());
        auth.sign_out(&id);
        assert!(auth.session(&id).is_none());
    }

    #[test]
    fn guessing_fast_is_refused() {
        let auth = Auth::new("a-token-of-at-least-24-chars");
        let refused = (0..50)
            .filter(|_| auth.sign_in("guess") == Err(SignIn::TooMany))
            .count();
        assert!(refused >= 35, "{refused}");
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
