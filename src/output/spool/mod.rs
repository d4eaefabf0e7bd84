//! The durable local spool in front of the Kafka producer: every acknowledged webhook
//! is on local disk until Kafka acknowledged it, however long Kafka is away.
//! `store` is the queue's handle (SQLite), `writer` its one writer thread with group
//! commit, `recovery` what opening finds and salvages; `codec` is the record format
//! inside it.

mod codec;
mod config;
mod error;
mod recovery;
mod store;
#[doc(hidden)]
pub mod test_support;
mod writer;

pub use config::{SpoolConfig, SpoolMode};

pub use codec::{DecodeError, Seq, SpoolRecord};
pub use error::SpoolError;
pub use recovery::Recovery;
pub use store::Spool;
pub use writer::SpoolStats;
