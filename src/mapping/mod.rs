//! Provider mapping files: loading, validation against `schemas/mapping.schema.json`,
//! compilation (jq filters compiled once), and evaluation of a verified delivery
//! into what it carries ([`Mapped`]); what becomes of that is the engine's to
//! decide. No axum, no rdkafka.

mod compile;
mod compiled;
mod config;
mod error;
mod evaluate;
pub mod jq;
mod model;
mod native;
mod payload;
mod reads;
mod respond;
mod set;
mod value;

pub use compiled::{Mapping, TypeTable};
pub use config::MappingsConfig;
pub use error::MappingError;
pub use evaluate::{Item, Mapped};
pub use jq::HeaderReads;
pub use model::{AuthSpec, AuthSpecs, EventRule, EventSpec, HandshakeSpec, MappingFile};
pub use payload::{headers_value, parse_payload};
pub use reads::UnsignedRead;
pub use set::{mapping_schema, MappingSet, MAPPING_SCHEMA, SHIPPED};
pub use value::{prune, to_json};
