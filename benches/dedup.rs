//! Dedup overhead per delivery: claim + commit of a fresh key, memory store vs a
//! real Redis (a `redis-server` started on a free loopback port for the run).
//! Run: cargo bench --bench dedup

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use hookgate::dedup::{
    Claim, DedupConfig, DedupKey, DedupStore, DedupStoreKind, MemoryStore, OnUnavailable,
};
use hookgate::event::{DedupId, EventId, SourceId};

// The integration tests' harness: the same redis-server start-up, port and checks.
#[path = "../tests/common/mod.rs"]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

fn claim_commit(
    c: &mut Criterion,
    name: &str,
    store: &dyn DedupStore,
    rt: &tokio::runtime::Runtime,
) {
    let source = SourceId::parse("bench").unwrap_or_else(|e| panic!("{e}"));
    let n = AtomicU64::new(0);
    c.bench_function(name, |b| {
        b.iter(|| {
            let i = n.fetch_add(1, Ordering::Relaxed);
            let key = DedupKey {
                source: source.clone(),
                id: EventId::derive(&source, &DedupId::new(format!("evt_{i}"))),
            };
            rt.block_on(async {
                match store.claim(&key, Duration::ZERO).await {
                    Ok(Claim::Acquired(t)) => store
                        .commit(&key, t)
                        .await
                        .unwrap_or_else(|e| panic!("{e}")),
                    other => panic!("unexpected {other:?}"),
                }
            })
        })
    });
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let memory = MemoryStore::new(Duration::from_secs(3600), 10_000_000);
    claim_commit(c, "dedup claim+commit (memory)", &memory, &rt);
    let server = common::redis::Redis::start();
    let redis = DedupConfig {
        store: DedupStoreKind::Redis,
        url: Some(server.url()),
        key_prefix: "bench:".into(),
        ttl: Duration::from_secs(3600),
        on_unavailable: OnUnavailable::Closed,
        ..DedupConfig::default()
    }
    .build()
    .unwrap_or_else(|e| panic!("{e}"));
    claim_commit(
        c,
        "dedup claim+commit (redis, loopback)",
        redis.as_ref(),
        &rt,
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
