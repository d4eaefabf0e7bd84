//! Metric handles per source, registered once: the per-request internal events
//! look them up by source id instead of building their label sets (owned strings
//! and a registry lookup per metric) on every request.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use metrics::{Counter, Histogram};

use super::{EVENTS, REQUESTS, REQUEST_SECONDS};

/// The handles of one source. Label values are bounded: source ids come from the
/// configuration, outcomes are static, event types are canonical types.
pub struct SourceHandles {
    id: String,
    requests: RwLock<HashMap<&'static str, Counter>>,
    events: RwLock<HashMap<String, Counter>>,
    pub seconds: Histogram,
}

static SOURCES: LazyLock<RwLock<HashMap<String, Arc<SourceHandles>>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));

/// The handles of `source`, registered on first use. The recorder is installed
/// first, so no handle is ever bound to the no-op recorder.
pub fn source(source: &str) -> Arc<SourceHandles> {
    if let Some(h) = SOURCES
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(source)
    {
        return h.clone();
    }
    let _ = super::prometheus();
    let mut all = SOURCES.write().unwrap_or_else(|p| p.into_inner());
    all.entry(source.to_owned())
        .or_insert_with(|| {
            Arc::new(SourceHandles {
                id: source.to_owned(),
                requests: RwLock::new(HashMap::new()),
                events: RwLock::new(HashMap::new()),
                seconds: metrics::histogram!(REQUEST_SECONDS, "source" => source.to_owned()),
            })
        })
        .clone()
}

impl SourceHandles {
    /// `hookgate_requests_total{source, outcome}`.
    pub fn requests(&self, outcome: &'static str) -> Counter {
        cached(
            &self.requests,
            &outcome,
            || metrics::counter!(REQUESTS, "source" => self.id.clone(), "outcome" => outcome),
        )
    }

    /// `hookgate_events_total{source, type}`.
    pub fn events(&self, ty: &str) -> Counter {
        cached(
            &self.events,
            ty,
            || metrics::counter!(EVENTS, "source" => self.id.clone(), "type" => ty.to_owned()),
        )
    }
}

/// The handle under `key`, registered with `make` the first time.
fn cached<K, Q>(
    map: &RwLock<HashMap<K, Counter>>,
    key: &Q,
    make: impl FnOnce() -> Counter,
) -> Counter
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: ToOwned<Owned = K> + std::hash::Hash + Eq + ?Sized,
{
    if let Some(c) = map.read().unwrap_or_else(|p| p.into_inner()).get(key) {
        return c.clone();
    }
    map.write()
        .unwrap_or_else(|p| p.into_inner())
        .entry(key.to_owned())
        .or_insert_with(make)
        .clone()
}
