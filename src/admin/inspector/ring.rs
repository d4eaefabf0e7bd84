//! Where entries are held: a bounded ring per source (and one shared ring for
//! requests to no configured source), all within one byte budget. A refused
//! request never pushes out a dead letter.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::entry::Entry;

/// Which ring an entry goes to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum RingKey {
    Source(String),
    Unmatched,
}

/// One source's entries: those holding a dead letter apart from the others, so a
/// refused request can push out the oldest of the others without a scan.
#[derive(Debug, Default)]
pub(super) struct Ring {
    dead: VecDeque<Arc<Entry>>,
    other: VecDeque<Arc<Entry>>,
    dead_bytes: usize,
    other_bytes: usize,
}

impl Ring {
    pub(super) fn len(&self) -> usize {
        self.dead.len() + self.other.len()
    }

    fn push(&mut self, e: Arc<Entry>) {
        if e.dead_letter.is_some() {
            self.dead_bytes += e.cost;
            self.dead.push_back(e);
        } else {
            self.other_bytes += e.cost;
            self.other.push_back(e);
        }
    }

    /// The bytes an entry may free here: all of them, or only those without a
    /// dead letter.
    fn evictable_bytes(&self, may_evict_dead: bool) -> usize {
        self.other_bytes + if may_evict_dead { self.dead_bytes } else { 0 }
    }

    /// Removes the oldest entry an entry may push out.
    fn pop_oldest(&mut self, may_evict_dead: bool) -> Option<Arc<Entry>> {
        let dead_first = may_evict_dead
            && match (self.dead.front(), self.other.front()) {
                (Some(d), Some(o)) => d.seq < o.seq,
                (Some(_), None) => true,
                (None, _) => false,
            };
        if dead_first {
            let e = self.dead.pop_front()?;
            self.dead_bytes -= e.cost;
            Some(e)
        } else {
            let e = self.other.pop_front()?;
            self.other_bytes -= e.cost;
            Some(e)
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Arc<Entry>> {
        self.dead.iter().chain(self.other.iter())
    }
}

/// Every ring, and what they hold together.
#[derive(Debug, Default)]
pub(super) struct Held {
    pub(super) rings: HashMap<RingKey, Ring>,
    pub(super) bytes: usize,
    pub(super) entries: usize,
}

impl Held {
    /// Files `entry` in ring `key` within `per_ring` entries and `budget` bytes,
    /// pushing out the oldest entries it may: an answered delivery any, a refused
    /// request only those without a dead letter. Under the budget, the ring
    /// holding the most bytes gives first, so one source's flood empties its own
    /// ring before another's. `false`: not kept (nothing it may push out is left).
    pub(super) fn admit(
        &mut self,
        key: RingKey,
        entry: Arc<Entry>,
        may_evict_dead: bool,
        per_ring: usize,
        budget: usize,
    ) -> bool {
        if entry.cost > budget {
            return false;
        }
        let full = self.rings.get(&key).is_some_and(|r| r.len() >= per_ring);
        if full && !self.evict_from(&key, may_evict_dead) {
            return false;
        }
        while self.bytes + entry.cost > budget {
            let fullest = self
                .rings
                .iter()
                .map(|(k, r)| (r.evictable_bytes(may_evict_dead), k))
                .filter(|(bytes, _)| *bytes > 0)
                .max_by_key(|(bytes, _)| *bytes)
                .map(|(_, k)| k.clone());
            match fullest {
                Some(k) if self.evict_from(&k, may_evict_dead) => {}
                _ => return false,
            }
        }
        self.bytes += entry.cost;
        self.entries += 1;
        self.rings.entry(key).or_default().push(entry);
        true
    }

    fn evict_from(&mut self, key: &RingKey, may_evict_dead: bool) -> bool {
        let Some(ring) = self.rings.get_mut(key) else {
            return false;
        };
        let Some(gone) = ring.pop_oldest(may_evict_dead) else {
            return false;
        };
        if ring.len() == 0 {
            self.rings.remove(key);
        }
        self.bytes -= gone.cost;
        self.entries -= 1;
        true
    }

    pub(super) fn all(&self) -> impl Iterator<Item = &Arc<Entry>> {
        self.rings.values().flat_map(Ring::iter)
    }
}
