//! Dedup overhead per delivery: claim + commit of a fresh key, memory store vs a
//! real Redis (a `redis-server` started on a free loopback port for the run).
//! Run: cargo bench --bench dedup

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use hookgate::dedup::redis::{OnUnavailable, RedisSettings, RedisStore};
use hookgate::dedup::{Claim, DedupStore, MemoryStore};
use hookgate::event::{DedupId, EventId, SourceId};

struct RedisServer(Child);

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis() -> (RedisServer, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("free port: {e}"));
    let child = Command::new("redis-server")
        .args([
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--port",
        ])
        .arg(port.to_string())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("redis-server is needed for this benchmark: {e}"));
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(20));
    }
    (RedisServer(child), format!("redis://127.0.0.1:{port}/0"))
}

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
            let key = EventId::derive(&source, &DedupId::new(format!("evt_{i}")));
            rt.block_on(async {
                match store.claim(key, Duration::ZERO).await {
                    Ok(Claim::Acquired(t)) => {
                        store.commit(key, t).await.unwrap_or_else(|e| panic!("{e}"))
                    }
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
    let (_server, url) = start_redis();
    let redis = RedisStore::new(RedisSettings {
        url,
        key_prefix: "bench:".into(),
        ttl: Duration::from_secs(3600),
        pending_ttl: Duration::from_secs(15),
        on_unavailable: OnUnavailable::Closed,
        timeout: Duration::from_millis(500),
    })
    .unwrap_or_else(|e| panic!("{e}"));
    claim_commit(c, "dedup claim+commit (redis, loopback)", &redis, &rt);
}

criterion_group!(benches, bench);
criterion_main!(benches);
