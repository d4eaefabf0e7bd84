//! hookgate: a receiving-side webhook gateway. Verify, map to CloudEvents,
//! deduplicate, deliver.

pub mod config;
pub mod dedup;
pub mod engine;
pub mod event;
pub mod gateway;
pub mod mapping;
pub mod output;
pub mod verify;
