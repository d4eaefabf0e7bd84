//! The canonical event model v1: a CloudEvents 1.0 event whose `data` holds
//! entities by name (see `schemas/`). No axum, no rdkafka.

mod dead_letter;
mod decision;
mod ids;
mod schema;
mod seal;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use dead_letter::{DeadLetter, DeadLetterReason, Kept, Rejection};
pub use decision::{Decision, Outcome};
pub use ids::{DedupId, EventId, SourceId};
pub use schema::{EventValidator, SchemaError, SCHEMAS};
pub use seal::{SealCheck, SealConfig, Sealer};

pub const SPEC_VERSION: &str = "1.0";
pub const DATA_CONTENT_TYPE: &str = "application/json";

/// One canonical event, as written to the output (structured CloudEvents JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CanonicalEvent {
    pub specversion: String,
    pub id: EventId,
    pub source: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub datacontenttype: String,
    pub provider: String,
    pub providereventtype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub providereventid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub receivedat: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitionkey: Option<String>,
    /// The W3C trace context of the span that wrote the event (CloudEvents
    /// Distributed Tracing extension), so a consumer continues the trace. Set by
    /// the gateway as it writes the event, when it traces; never by a mapping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracestate: Option<String>,
    pub data: Value,
}

impl CanonicalEvent {
    /// The Kafka key: the conversation/ticket/contact it concerns, else its id.
    pub fn key(&self) -> String {
        self.partitionkey
            .clone()
            .unwrap_or_else(|| self.id.to_string())
    }

    /// The id of the `[[source]]` it came in through (`source` is `/sources/<id>`).
    pub fn source_id(&self) -> &str {
        self.source
            .strip_prefix("/sources/")
            .unwrap_or(&self.source)
    }
}
