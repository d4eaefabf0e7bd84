//! Why a mapping file cannot be used: every variant names the file.

use super::jq;

/// A mapping file that cannot be used. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("{file}: cannot read: {detail}")]
    Read { file: String, detail: String },
    #[error("{file}: not valid TOML: {detail}")]
    Toml { file: String, detail: String },
    #[error("{file}: does not match mapping.schema.json: {detail}")]
    Schema { file: String, detail: String },
    #[error("{file}: {detail}")]
    Invalid { file: String, detail: String },
    #[error("{file}: {source}")]
    Jq {
        file: String,
        #[source]
        source: jq::JqError,
    },
}
