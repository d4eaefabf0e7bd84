//! Where events go. `deliver` resolves only once the event is safe (written and
//! flushed, or acknowledged by the broker): the 2xx is promised on that.

mod config;
mod file;
pub mod kafka;
mod null;
mod owner_only;
pub mod registry;
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
    /// The output refuses this record for good (the broker says it is too large or
    /// invalid): retrying it cannot help.
    #[error("record refused: {0}")]
    Rejected(String),
}

/// What `/readyz` says of an output that can take events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// Events are accepted onto the local spool (the broker is away, or the
    /// spool is still draining): ready, and saying so.
    Spooling {
        records: u64,
        reason: String,
    },
}

#[async_trait]
pub trait Output: Send + Sync + 'static {
    async fn deliver(&self, event: &CanonicalEvent) -> Result<(), OutputError>;
    async fn dead_letter(&self, record: &DeadLetter) -> Result<(), OutputError>;
    /// Whether the output can take events now (for `/readyz`).
    async fn ready(&self) -> Result<Readiness, OutputError>;
    /// Flushes whatever is buffered, within `budget`; called once on shutdown.
    async fn shutdown(&self, budget: std::time::Duration);
    /// Refreshes the output's gauges (before a metrics scrape).
    fn observe(&self) {}
    /// Whether a batch's records may be written at once: `deliver` and
    /// `dead_letter` hand their record over before they first wait, so records
    /// started in order are written in order, and one refused at hand-over stops
    /// the ones after it. A record that fails later may be overtaken by a later one
    /// of its key, as with concurrent deliveries. Otherwise a batch's records are
    /// written one after the other.
    fn concurrent_batches(&self) -> bool {
        false
    }
    fn kind(&self) -> &'static str;
}
