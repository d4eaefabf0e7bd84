//! Deduplication on (source, dedup id) within a window: claim before delivery,
//! commit once the output acknowledged, release on failure. By role: the store's
//! contract (`store`), the stores (`memory`, `redis`), and the `[dedup]` section
//! that picks one (`config`).

mod config;
mod memory;
mod redis;
mod store;

pub use config::{DedupConfig, DedupPolicy, DedupStoreKind, OnUnavailable};
pub use memory::MemoryStore;
pub use redis::{RedisOptions, RedisStore};
pub use store::{Claim, ClaimGuard, ClaimToken, DedupError, DedupKey, DedupStore};
