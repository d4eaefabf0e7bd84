//! hookgate: a receiving-side webhook gateway. Verify, map to CloudEvents,
//! deduplicate, deliver.

pub mod admin;
pub mod cli;
pub mod config;
pub mod dedup;
pub mod engine;
pub mod event;
pub mod fixture;
pub mod form;
pub mod gateway;
pub mod http;
pub mod loadgen;
pub mod mapping;
pub mod output;
pub mod replay;
pub mod secret;
pub mod settings;
pub mod source;
pub mod telemetry;
pub mod verify;
