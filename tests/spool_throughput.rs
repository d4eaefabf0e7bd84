//! Measures the spool as built (not the bare store): records per second and durable
//! commits per second with N concurrent single-record appenders, and the FIFO drain
//! (peek 256, remove them), and the open time with 100k records. Ignored by default; run with
//! `cargo test --no-default-features --test spool_throughput -- --ignored --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use hookgate::output::spool::{test_support, Spool, SpoolRecord};

/// About 1.5 KiB encoded, like a CloudEvent with a key and a header.
fn record(id: String) -> SpoolRecord {
    test_support::record(&id, 1400)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: run by hand"]
async fn spool_throughput() {
    for appenders in [1usize, 8, 64, 256] {
        let dir = tempfile::tempdir().unwrap();
        let (spool, _) = Spool::open(dir.path(), 1 << 34).unwrap();
        let spool = Arc::new(spool);
        let until = Instant::now() + Duration::from_secs(4);
        let start = Instant::now();
        let tasks: Vec<_> = (0..appenders)
            .map(|t| {
                let spool = Arc::clone(&spool);
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while Instant::now() < until {
                        spool
                            .append(vec![record(format!("t{t}-{n}"))])
                            .await
                            .unwrap();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let mut records = 0;
        for t in tasks {
            records += t.await.unwrap();
        }
        let secs = start.elapsed().as_secs_f64();
        let commits = spool.commits();
        println!(
            "appenders={appenders}\trecords/s={:.0}\tcommits/s={:.0}\trecords/commit={:.1}",
            records as f64 / secs,
            commits as f64 / secs,
            records as f64 / commits as f64
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let (spool, _) = Spool::open(dir.path(), 1 << 34).unwrap();
    let n = 20_000;
    for chunk in 0..n / 500 {
        let batch = (0..500).map(|i| record(format!("d{chunk}-{i}"))).collect();
        spool.append(batch).await.unwrap();
    }
    let spool = Arc::new(spool);
    let drained = tokio::task::spawn_blocking(move || {
        let start = Instant::now();
        let mut drained = 0usize;
        let mut cursor = None;
        loop {
            let page = spool.peek(cursor, 256).unwrap();
            let Some(last) = page.last() else { break };
            cursor = Some(last.0);
            let seqs: Vec<_> = page.iter().map(|(s, _)| *s).collect();
            spool.remove(&seqs).unwrap();
            drained += seqs.len();
        }
        (drained, start.elapsed().as_secs_f64())
    })
    .await
    .unwrap();
    println!(
        "drain\tpeek 256 + remove\trecords/s={:.0}",
        drained.0 as f64 / drained.1
    );

    // Open with 100k records present: quick_check plus the checksum scan of every record.
    let dir = tempfile::tempdir().unwrap();
    {
        let (spool, _) = Spool::open(dir.path(), 1 << 34).unwrap();
        for chunk in 0..200 {
            let batch = (0..500).map(|i| record(format!("o{chunk}-{i}"))).collect();
            spool.append(batch).await.unwrap();
        }
    }
    let start = Instant::now();
    let (_spool, recovery) = Spool::open(dir.path(), 1 << 34).unwrap();
    println!(
        "open\trecords={}\tMiB={:.1}\tms={:.0}",
        recovery.records,
        recovery.bytes as f64 / 1048576.0,
        start.elapsed().as_secs_f64() * 1000.0
    );
}
