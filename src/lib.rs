//! hookgate: a receiving-side webhook gateway. Verify, map to CloudEvents,
//! deduplicate, deliver.

pub mod event;
pub mod mapping;
pub mod verify;
