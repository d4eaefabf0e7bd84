//! What a source applies to its events beyond its mapping, and the limits on a
//! batched delivery.

/// The most items a batched delivery may carry unless the source says otherwise.
pub const DEFAULT_MAX_BATCH_ITEMS: usize = 1000;

/// How many bytes the dead letters of one batched delivery may copy of its body
/// (each holds the whole body) before the delivery is dead-lettered once, whole.
pub const MAX_BATCH_DEAD_LETTER_BYTES: usize = 8 * 1024 * 1024;

/// Whether `dead` item dead letters of a `body_len`-byte delivery copy too much.
pub(super) fn exceeds_dead_letter_budget(dead: usize, body_len: usize) -> bool {
    dead > 1 && dead.saturating_mul(body_len) > MAX_BATCH_DEAD_LETTER_BYTES
}

/// What a source applies to its events beyond its mapping.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Replay guard for providers without a signed timestamp: events whose own
    /// time is older than this are refused (401 `event_too_old`).
    pub max_event_age: Option<std::time::Duration>,
    /// Replaces the mapping's tenant on every event (configuration, so trusted).
    pub tenant: Option<String>,
    /// The most items a batched delivery may carry (`None`: the default).
    pub max_batch_items: Option<usize>,
}

impl Policy {
    /// The most items a batched delivery may carry.
    pub fn batch_limit(&self) -> usize {
        self.max_batch_items.unwrap_or(DEFAULT_MAX_BATCH_ITEMS)
    }
}
