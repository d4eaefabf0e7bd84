//! `[admin]`: the inspector's listener, its sign-in token, and what it remembers.

use std::net::SocketAddr;

use serde::Deserialize;

use crate::settings::count_within;

/// The shortest admin token accepted.
pub const MIN_TOKEN_LEN: usize = 24;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Where the inspector listens; keep it private (loopback, or a private network).
    pub listen: SocketAddr,
    /// The sign-in token (at least 24 characters).
    pub token: String,
    /// Deliveries remembered per source (memory, bounded).
    #[serde(default = "default_recent")]
    pub recent: usize,
    /// Keep raw bodies (cut at 16 KiB) to show them: they hold personal data.
    #[serde(default)]
    pub capture_bodies: bool,
}

impl AdminConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.token.chars().count() < MIN_TOKEN_LEN {
            return Err(format!(
                "admin.token must be at least {MIN_TOKEN_LEN} characters"
            ));
        }
        count_within("admin.recent", self.recent as u64, 1, 100_000)
    }
}

fn default_recent() -> usize {
    1000
}
