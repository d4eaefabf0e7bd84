//! The `null` output: encodes every record as the file output would, then drops it.
//! For measuring the pipeline without I/O; it keeps nothing, so never use it in
//! production (start-up says so).

use async_trait::async_trait;

use super::{Output, OutputError, Readiness};
use crate::event::{CanonicalEvent, DeadLetter};

#[derive(Debug, Default)]
pub struct NullOutput;

fn encode<T: serde::Serialize>(record: &T) -> Result<(), OutputError> {
    // Encoding is part of every real output's cost, so it is kept here.
    let bytes = serde_json::to_vec(record).map_err(|e| OutputError::Encode(e.to_string()))?;
    std::hint::black_box(bytes);
    Ok(())
}

#[async_trait]
impl Output for NullOutput {
    async fn deliver(&self, event: &CanonicalEvent) -> Result<(), OutputError> {
        encode(event)
    }

    async fn dead_letter(&self, record: &DeadLetter) -> Result<(), OutputError> {
        encode(record)
    }

    async fn ready(&self) -> Result<Readiness, OutputError> {
        Ok(Readiness::Ready)
    }

    async fn shutdown(&self, _budget: std::time::Duration) {}

    fn kind(&self) -> &'static str {
        "null"
    }
}
