//! `[server]`: the listeners and the limits every request is held to.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use crate::settings::{count_within, within, HOUR, MS};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Deadline for the request headers, and then for the whole body.
    #[serde(default = "default_read_timeout", with = "humantime_serde")]
    pub read_timeout: Duration,
    /// How long shutdown waits for in-flight requests.
    #[serde(default = "default_shutdown_timeout", with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    /// Connections open at once; past it new ones are answered 503 and closed.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Serve `/metrics`, `/readyz` and `/healthz` on this address instead of
    /// `listen` (they name sources and failure reasons: keep them off a public port).
    #[serde(default)]
    pub metrics_listen: Option<SocketAddr>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            max_body_bytes: default_max_body(),
            read_timeout: default_read_timeout(),
            shutdown_timeout: default_shutdown_timeout(),
            max_connections: default_max_connections(),
            metrics_listen: None,
        }
    }
}

impl ServerConfig {
    pub fn validate(&self) -> Result<(), String> {
        within("server.read_timeout", self.read_timeout, 100 * MS, HOUR)?;
        within(
            "server.shutdown_timeout",
            self.shutdown_timeout,
            Duration::ZERO,
            HOUR,
        )?;
        count_within(
            "server.max_connections",
            self.max_connections as u64,
            1,
            1_000_000,
        )
    }

    /// What the HTTP layer holds each request to.
    pub fn limits(&self) -> super::Limits {
        super::Limits {
            max_body_bytes: self.max_body_bytes,
            read_timeout: self.read_timeout,
        }
    }

    /// How the listeners serve connections. Slow headers get the body's budget.
    pub fn serve_options(&self) -> super::ServeOptions {
        super::ServeOptions {
            header_timeout: self.read_timeout,
            drain: self.shutdown_timeout,
            max_connections: self.max_connections,
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_max_body() -> usize {
    1024 * 1024
}
fn default_read_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_shutdown_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_max_connections() -> usize {
    1024
}
