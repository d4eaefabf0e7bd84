//! `[output.spool]`: the durable local spool in front of the Kafka producer.

use std::path::PathBuf;

use bytesize::ByteSize;
use serde::Deserialize;

/// When records go through the spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SpoolMode {
    /// Deliver to Kafka as without a spool; spool only what the broker cannot
    /// acknowledge within `ack_timeout`, and everything behind it until the spool is
    /// drained (so one key's events stay in order).
    #[default]
    Fallback,
    /// Write-ahead: every record is appended and fsynced (group commit), answered,
    /// then forwarded by the drainer.
    Always,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpoolConfig {
    /// A directory on a persistent volume, owned by this replica alone.
    pub path: PathBuf,
    /// The most record bytes the spool holds; past it: 503 + Retry-After.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: ByteSize,
    #[serde(default)]
    pub mode: SpoolMode,
}

impl SpoolConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.max_bytes.as_u64() < 1024 * 1024 {
            return Err(format!(
                "output.spool.max_bytes: {} is below the minimum of 1 MiB",
                self.max_bytes
            ));
        }
        if self.path.as_os_str().is_empty() {
            return Err("output.spool.path is empty".to_owned());
        }
        Ok(())
    }
}

fn default_max_bytes() -> ByteSize {
    ByteSize::gib(2)
}
