//! Where events go. `deliver` resolves only once the event is safe (written and
//! flushed, or acknowledged by the broker): the 2xx is promised on that.

mod config;
mod file;
pub mod kafka;
mod null;
pub mod spool;

use async_trait::async_trait;

use crate::event::{CanonicalEvent, DeadLetter};
pub use config::OutputConfig;
pub use file::{FileOutput, LineSink};
pub use kafka::KafkaMode;
pub use null::NullOutput;

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The output cannot take the event now; the provider should retry.
    #[error("output unavailable: {0}")]
    Unavailable(String),
    #[error("cannot encode the record: {0}")]
    Encode(String),
}

#[async_trait]
pub trait Output: Send + Sync + 'static {
    async fn deliver(&self, event: &CanonicalEvent) -> Result<(), OutputError>;
    async fn dead_letter(&self, record: &DeadLetter) -> Result<(), OutputError>;
    /// Whether the output can take events now (for `/readyz`).
    async fn ready(&self) -> Result<(), OutputError>;
    /// Flushes whatever is buffered; called once on shutdown.
    async fn shutdown(&self);
    fn kind(&self) -> &'static str;
}
