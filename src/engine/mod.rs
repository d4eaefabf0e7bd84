//! The sans-I/O core of the pipeline: a verified delivery in, a [`Decision`] out
//! (a validated canonical event, a dead letter, an ignore or a handshake answer),
//! or a refusal. Used by the gateway, `check`, `map`, the fixture tests and the
//! benchmarks alike, so all of them apply the same rules.
//!
//! The mapping computes what a delivery carries ([`crate::mapping::Mapped`]);
//! the engine alone decides what becomes of it: the source's policy, the batch
//! limits and dead-letter budget, validation, and every dead letter.
//!
//! [`Decision`]: crate::event::Decision

mod policy;
mod process;
mod stages;

pub use policy::{Policy, DEFAULT_MAX_BATCH_ITEMS, MAX_BATCH_DEAD_LETTER_BYTES};
pub use process::Engine;

#[cfg(test)]
mod tests;
