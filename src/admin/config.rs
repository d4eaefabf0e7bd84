//! `[admin]`: the inspector's listener, its sign-in token, and what it remembers.

use std::collections::HashSet;
use std::net::SocketAddr;

use bytesize::ByteSize;
use serde::Deserialize;

use crate::settings::count_within;

/// The shortest admin token accepted.
pub const MIN_TOKEN_LEN: usize = 24;
/// The fewest different characters an admin token must have: a token of one
/// repeated character (or a few) is a guess away, however long.
pub const MIN_TOKEN_DISTINCT: usize = 8;

/// The admin token: `Debug` never prints it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct AdminToken(String);

impl AdminToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<&str> for AdminToken {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Where the inspector listens; keep it private (loopback, or a private network).
    pub listen: SocketAddr,
    /// The sign-in token (at least 24 characters, 8 of them different, no whitespace).
    pub token: AdminToken,
    /// Deliveries remembered per source (and for all unknown sources together).
    #[serde(default = "default_recent")]
    pub recent: usize,
    /// What the remembered deliveries may take together; the oldest go first.
    #[serde(default = "default_max_memory")]
    pub max_memory: ByteSize,
    /// Keep raw bodies (cut at 16 KiB) to show them: they hold personal data.
    #[serde(default)]
    pub capture_bodies: bool,
}

impl AdminConfig {
    pub fn validate(&self) -> Result<(), String> {
        let token = self.token.expose();
        if token.chars().count() < MIN_TOKEN_LEN {
            return Err(format!(
                "admin.token must be at least {MIN_TOKEN_LEN} characters"
            ));
        }
        if token.chars().any(char::is_whitespace) {
            return Err("admin.token must not contain whitespace".to_owned());
        }
        let distinct = token.chars().collect::<HashSet<_>>().len();
        if distinct < MIN_TOKEN_DISTINCT {
            return Err(format!(
                "admin.token has {distinct} different characters; it needs at least \
                 {MIN_TOKEN_DISTINCT} (use a random one: openssl rand -hex 24)"
            ));
        }
        count_within("admin.recent", self.recent as u64, 1, 100_000)?;
        count_within(
            "admin.max_memory",
            self.max_memory.as_u64(),
            MIN_MEMORY.as_u64(),
            MAX_MEMORY.as_u64(),
        )
        .map_err(|_| {
            format!(
                "admin.max_memory: {} is outside the accepted range {MIN_MEMORY} to {MAX_MEMORY}",
                self.max_memory
            )
        })
    }

    /// What the inspector may hold.
    pub fn inspector(&self) -> super::inspector::Settings {
        super::inspector::Settings {
            recent: self.recent,
            max_bytes: usize::try_from(self.max_memory.as_u64()).unwrap_or(usize::MAX),
            capture_bodies: self.capture_bodies,
        }
    }
}

const MIN_MEMORY: ByteSize = ByteSize::mib(1);
const MAX_MEMORY: ByteSize = ByteSize::gib(64);

fn default_recent() -> usize {
    1000
}

fn default_max_memory() -> ByteSize {
    ByteSize::mib(64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_token(token: &str) -> AdminConfig {
        AdminConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
            token: token.into(),
            recent: default_recent(),
            max_memory: default_max_memory(),
            capture_bodies: false,
        }
    }

    #[test]
    fn weak_tokens_are_refused_naming_the_key() {
        for (token, why) in [
            (" ".repeat(24), "whitespace"),
            ("a-token-of-24-chars with spaces".to_owned(), "whitespace"),
            ("abcabcabcabcabcabcabcabcabc".to_owned(), "3 different"),
            ("short-0123456789".to_owned(), "at least 24"),
        ] {
            let e = with_token(&token).validate().err().unwrap_or_default();
            assert!(
                e.starts_with("admin.token") && e.contains(why),
                "{token:?}: {e}"
            );
        }
        assert_eq!(
            with_token("inspector-token-0123456789abcdef").validate(),
            Ok(())
        );
    }

    #[test]
    fn max_memory_is_parsed_as_a_size_and_bounded() {
        let parse = |v: &str| {
            toml::from_str::<AdminConfig>(&format!(
                "listen = \"127.0.0.1:9090\"\ntoken = \"inspector-token-0123456789abcdef\"\n\
                 max_memory = \"{v}\""
            ))
            .map_err(|e| e.to_string())
        };
        let c = parse("4MiB").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.inspector().max_bytes, 4 * 1024 * 1024);
        let e = parse("100KiB")
            .and_then(|c| c.validate().map(|()| c))
            .err()
            .unwrap_or_default();
        assert!(e.contains("admin.max_memory"), "{e}");
        assert!(format!("{c:?}").contains("[redacted]"));
        assert!(!format!("{c:?}").contains("inspector-token"));
    }
}
