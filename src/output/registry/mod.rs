//! A Confluent-compatible schema registry for the Kafka output
//! (`[output.schema_registry]`): its settings, the schemas hookgate registers and
//! their subjects (pure), the wire format that frames each record value with its
//! schema id, and the client that registers the schemas and keeps their ids
//! (compiled with the `kafka` feature).

mod config;
#[cfg(feature = "kafka")]
mod ids;
pub mod schemas;
pub mod wire;

pub use config::{SchemaRegistryConfig, SubjectStrategy};
#[cfg(feature = "kafka")]
pub use ids::SchemaIds;
pub use schemas::RecordKind;
