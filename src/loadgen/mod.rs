//! The load generator behind `hookgate bench`: unique signed deliveries sent at a
//! fixed concurrency or a fixed rate, with latency percentiles and status counts.

mod deliveries;
mod run;

pub use deliveries::{Delivery, DeliverySet, Skipped, Target};
pub use run::{run, Load, Report};
