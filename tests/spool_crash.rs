//! Kills (SIGKILL) a process in the middle of spool appends, reopens the spool, and checks
//! that every record whose append had resolved is there, by event id: the promise the
//! gateway's 2xx rests on. The child is this test binary re-executed with an env var.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hookgate::output::spool::{test_support, Seq, Spool, SpoolRecord};

const CHILD_DIR: &str = "HOOKGATE_SPOOL_CRASH_DIR";
const CHILD_ROUND: &str = "HOOKGATE_SPOOL_CRASH_ROUND";
const ROUNDS: u64 = 8;

/// About 1.3 KiB encoded.
fn record(id: String) -> SpoolRecord {
    test_support::record(&id, 1200)
}

/// The child's work: appends from several tasks forever and prints `ACK <event id>` for
/// each record once its append resolved. Does nothing in an ordinary test run.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let round = std::env::var(CHILD_ROUND).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let (spool, _) = Spool::open(Path::new(&dir), 1 << 30).unwrap();
        let spool = Arc::new(spool);
        let out = Arc::new(Mutex::new(std::io::stdout()));
        let tasks: Vec<_> = (0..8)
            .map(|t| {
                let spool = Arc::clone(&spool);
                let out = Arc::clone(&out);
                let round = round.clone();
                tokio::spawn(async move {
                    for n in 0u64.. {
                        let ids: Vec<String> = (0..1 + n % 3)
                            .map(|b| format!("r{round}-t{t}-n{n}-b{b}"))
                            .collect();
                        spool
                            .append(ids.iter().cloned().map(record).collect())
                            .await
                            .unwrap();
                        let mut o = out.lock().unwrap();
                        for id in &ids {
                            writeln!(o, "ACK {id}").unwrap();
                        }
                        o.flush().unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
}

fn everything(spool: &Spool) -> Vec<(Seq, SpoolRecord)> {
    let mut all = Vec::new();
    loop {
        let page = spool.peek(all.last().map(|(s, _)| *s), 500).unwrap();
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

#[test]
fn every_acknowledged_append_survives_kill_9() {
    if std::env::var(CHILD_DIR).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut acked_total: HashSet<String> = HashSet::new();
    let mut removed: HashSet<String> = HashSet::new();

    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_ROUND, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let acks = Arc::new(Mutex::new(Vec::<String>::new()));
        let reader = {
            let acks = Arc::clone(&acks);
            std::thread::spawn(move || {
                let mut r = BufReader::new(stdout);
                let mut line = String::new();
                while r.read_line(&mut line).unwrap_or(0) > 0 {
                    // A line cut short by the kill was not a complete acknowledgement.
                    if let Some(id) = line.strip_prefix("ACK ").and_then(|l| l.strip_suffix('\n')) {
                        acks.lock().unwrap().push(id.to_owned());
                    }
                    line.clear();
                }
            })
        };
        // Kill while appends are in flight, at a different point each round.
        let start = Instant::now();
        while acks.lock().unwrap().len() < 20 {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "child never acknowledged"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(20 + (round * 53) % 250));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert_eq!(
            status.signal(),
            Some(9),
            "child ended on its own: {status:?}"
        );
        reader.join().unwrap();
        let acked: Vec<String> = std::mem::take(&mut *acks.lock().unwrap());
        acked_total.extend(acked.iter().cloned());

        let (spool, recovery) = Spool::open(dir.path(), 1 << 30).unwrap();
        assert_eq!(recovery.quarantined_records, 0, "{recovery:?}");
        assert!(recovery.quarantined_files.is_empty(), "{recovery:?}");
        let all = everything(&spool);
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "peek order");
        let present: HashSet<String> = all.iter().map(|(_, r)| r.event_id.clone()).collect();
        assert_eq!(present.len(), all.len(), "an event id stored twice");
        let missing: Vec<&String> = acked_total
            .iter()
            .filter(|id| !removed.contains(*id) && !present.contains(*id))
            .collect();
        assert!(
            missing.is_empty(),
            "round {round}: {} acknowledged records lost, e.g. {:?}",
            missing.len(),
            missing.iter().take(5).collect::<Vec<_>>()
        );
        let back: Vec<&String> = removed.iter().filter(|id| present.contains(*id)).collect();
        assert!(back.is_empty(), "removed records came back: {back:?}");
        assert_eq!(spool.stats().records, all.len() as u64);

        // Drain every other record, as the Kafka side would, so later rounds also
        // recover a spool with holes.
        let drain: Vec<Seq> = all.iter().step_by(2).map(|(s, _)| *s).collect();
        spool.remove(&drain).unwrap();
        removed.extend(all.iter().step_by(2).map(|(_, r)| r.event_id.clone()));
        eprintln!(
            "round {round}: {} acknowledged, {} stored, {} drained",
            acked.len(),
            all.len(),
            drain.len()
        );
    }
    assert!(acked_total.len() as u64 >= 20 * ROUNDS);
}
