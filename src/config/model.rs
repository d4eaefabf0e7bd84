//! The configuration file's shape: one section per component, each defined (and
//! built) by its component. Unknown keys are rejected everywhere.

use serde::Deserialize;

use crate::dedup::DedupConfig;
use crate::http::ServerConfig;
use crate::mapping::MappingsConfig;
use crate::output::OutputConfig;
use crate::source::SourceConfig;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub mappings: MappingsConfig,
    #[serde(default)]
    pub output: OutputConfig,
    #[serde(default)]
    pub dedup: DedupConfig,
    #[serde(default, rename = "source")]
    pub sources: Vec<SourceConfig>,
    /// The keys that seal dead-letter records for `hookgate replay`.
    #[serde(default)]
    pub dead_letters: crate::event::SealConfig,
    /// Traces (off unless `[telemetry.otlp]` is given).
    #[serde(default)]
    pub telemetry: crate::telemetry::TelemetryConfig,
    /// The inspector (off unless given).
    #[serde(default)]
    pub admin: Option<crate::admin::AdminConfig>,
    /// Values interpolated from the environment, scrubbed from every error message.
    #[serde(skip)]
    pub env_values: Vec<String>,
}

impl Config {
    /// Each section's own checks that need nothing else (bounds, contradictions),
    /// so a bad value is refused at load time naming its key.
    pub fn validate(&self) -> Result<(), String> {
        self.server.validate()?;
        self.dedup.validate()?;
        self.output.validate().map_err(|e| format!("output: {e}"))?;
        self.dead_letters.validate()?;
        self.telemetry.validate()?;
        for (i, s) in self.sources.iter().enumerate() {
            s.validate(i)?;
        }
        if let Some(admin) = &self.admin {
            admin.validate()?;
        }
        Ok(())
    }
}
