//! The durable local spool in front of the Kafka producer: every acknowledged webhook
//! is on local disk until Kafka acknowledged it, however long Kafka is away.
//! `store` is the queue itself (SQLite); `codec` is the record format inside it.

mod codec;
mod config;
mod store;

pub use config::{SpoolConfig, SpoolMode};

pub use codec::{DecodeError, Seq, SpoolRecord};
pub use store::{Recovery, Spool, SpoolError, SpoolStats};
