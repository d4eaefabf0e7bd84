//! The Kafka output, by role: its configuration, the records it writes (pure, per
//! the CloudEvents Kafka binding) and the producer that writes them (the only
//! module that knows rdkafka, compiled with the `kafka` feature).

#[cfg(feature = "kafka")]
mod acks;
#[cfg(feature = "kafka")]
mod client;
pub mod config;
#[cfg(feature = "kafka")]
mod consumer;
#[cfg(feature = "kafka")]
mod context;
#[cfg(feature = "kafka")]
mod producer;
pub mod record;
pub mod route;

pub use config::{
    KafkaMode, KafkaOutputConfig, LibrdkafkaValue, SaslConfig, SaslMechanism, TlsConfig,
};
#[cfg(feature = "kafka")]
pub use consumer::{Consumed, DeadLetterReader};
#[cfg(feature = "kafka")]
pub use producer::{classify, ErrorClass, InFlight, KafkaOutput};
#[cfg(feature = "kafka")]
mod spooled;
pub use record::Record;
pub use route::{RouteConfig, RouteKey, Routes};
#[cfg(feature = "kafka")]
pub use spooled::SpooledKafka;
