//! The store as a whole: FIFO order, group commit, the byte limit, recovery and
//! salvage, file modes.

use super::*;
use crate::output::spool::recovery::DB_SIDE_FILES;
use crate::output::spool::test_support;

/// The sample record, with 200 bytes of data.
fn rec(id: &str) -> SpoolRecord {
    test_support::record(id, 200)
}

fn ids(got: &[(Seq, SpoolRecord)]) -> Vec<String> {
    got.iter().map(|(_, r)| r.event_id.clone()).collect()
}

const BIG: u64 = 1 << 30;

#[tokio::test]
async fn append_peek_remove_keep_fifo_order() {
    let dir = tempfile::tempdir().unwrap();
    let (spool, rec0) = Spool::open(dir.path(), BIG).unwrap();
    assert_eq!(rec0, Recovery::default());
    assert!(spool.is_empty());
    let a = spool.append(vec![rec("a"), rec("b")]).await.unwrap();
    let b = spool.append(vec![rec("c")]).await.unwrap();
    assert_eq!(a, vec![Seq(1), Seq(2)]);
    assert_eq!(b, vec![Seq(3)]);

    let all = spool.peek(None, 10).unwrap();
    assert_eq!(ids(&all), ["a", "b", "c"]);
    assert_eq!(all[0].1, rec("a"));
    assert_eq!(ids(&spool.peek(Some(Seq(1)), 1).unwrap()), ["b"]);
    assert!(spool.peek(None, 0).unwrap().is_empty());

    // out of order, and an unknown sequence is ignored
    spool.remove(&[Seq(2), Seq(99)]).unwrap();
    assert_eq!(ids(&spool.peek(None, 10).unwrap()), ["a", "c"]);
    let s = spool.stats();
    assert_eq!(s.records, 2);
    assert_eq!(s.oldest_appended_at_ms, Some(rec("a").appended_at_ms));
    spool.remove(&[Seq(1), Seq(3)]).unwrap();
    assert!(spool.is_empty());
    assert_eq!(spool.stats().bytes, 0);
    assert_eq!(spool.stats().oldest_appended_at_ms, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_share_commits() {
    let dir = tempfile::tempdir().unwrap();
    let (spool, _) = Spool::open(dir.path(), BIG).unwrap();
    let spool = Arc::new(spool);
    let n = 200;
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let spool = Arc::clone(&spool);
            tokio::spawn(async move { spool.append(vec![rec(&format!("e{i}"))]).await })
        })
        .collect();
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.extend(t.await.unwrap().unwrap());
    }
    seqs.sort();
    seqs.dedup();
    assert_eq!(seqs.len(), n);
    let commits = spool.commits();
    assert!(commits < n as u64, "{commits} commits for {n} records");
    assert_eq!(spool.stats().records, n as u64);
}

#[tokio::test]
async fn full_refuses_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let one = codec::encode(&rec("a")).unwrap().len() as u64;
    let (spool, _) = Spool::open(dir.path(), one * 3).unwrap();
    spool.append(vec![rec("a"), rec("b")]).await.unwrap();
    let commits = spool.commits();
    let err = spool.append(vec![rec("c"), rec("d")]).await.unwrap_err();
    assert!(
        matches!(err, SpoolError::Full { used, incoming, max_bytes } if used == 2 * one && incoming == 2 * one && max_bytes == 3 * one),
        "{err:?}"
    );
    assert_eq!(spool.commits(), commits);
    assert_eq!(ids(&spool.peek(None, 10).unwrap()), ["a", "b"]);
    // exactly up to the limit is fine, and removal makes room again
    spool.append(vec![rec("c")]).await.unwrap();
    spool.remove(&[Seq(1)]).unwrap();
    spool.append(vec![rec("d")]).await.unwrap();
    drop(spool);
    let (spool, recovery) = Spool::open(dir.path(), one * 3).unwrap();
    assert_eq!(recovery.records, 3);
    assert_eq!(ids(&spool.peek(None, 10).unwrap()), ["b", "c", "d"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_writer_decides_full_when_racing_appends_pass_the_early_check() {
    let dir = tempfile::tempdir().unwrap();
    let one = codec::encode(&rec("00")).unwrap().len() as u64;
    let (spool, _) = Spool::open(dir.path(), one * 10).unwrap();
    let spool = Arc::new(spool);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let spool = Arc::clone(&spool);
            tokio::spawn(async move { spool.append(vec![rec(&format!("{i:02}"))]).await })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(SpoolError::Full { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(ok, 10);
    assert_eq!(spool.stats().bytes, 10 * one);
    assert_eq!(spool.peek(None, 100).unwrap().len(), 10);
}

/// A spool in a fresh directory, given `a`, `b` and `c` (seqs 1 to 3).
async fn holding_abc() -> (tempfile::TempDir, Spool) {
    let dir = tempfile::tempdir().unwrap();
    let (spool, _) = Spool::open(dir.path(), BIG).unwrap();
    spool
        .append(vec![rec("a"), rec("b"), rec("c")])
        .await
        .unwrap();
    (dir, spool)
}

/// [`holding_abc`] with `removed` taken out, closed and opened again: the directory,
/// the spool, and what opening it recovered.
async fn reopened_after_removing(removed: &[Seq]) -> (tempfile::TempDir, Spool, Recovery) {
    let (dir, spool) = holding_abc().await;
    spool.remove(removed).unwrap();
    drop(spool);
    let (spool, recovery) = Spool::open(dir.path(), BIG).unwrap();
    (dir, spool, recovery)
}

#[tokio::test]
async fn reopen_keeps_records_and_numbering_continues() {
    // the highest numbers go: they must still not be handed out again
    let (_dir, spool, recovery) = reopened_after_removing(&[Seq(2), Seq(3)]).await;
    assert_eq!(recovery.records, 1);
    assert_eq!(recovery.bytes, spool.stats().bytes);
    assert_eq!(spool.append(vec![rec("d")]).await.unwrap(), vec![Seq(4)]);
    let got = spool.peek(None, 10).unwrap();
    assert_eq!(ids(&got), ["a", "d"]);
    assert_eq!(got[0].0, Seq(1));
    assert_eq!(
        spool.stats().oldest_appended_at_ms,
        Some(rec("a").appended_at_ms)
    );
}

#[tokio::test]
async fn removed_records_stay_removed_after_reopen() {
    let (dir, spool, recovery) = reopened_after_removing(&[Seq(1), Seq(3)]).await;
    assert_eq!(recovery.records, 1);
    assert_eq!(ids(&spool.peek(None, 10).unwrap()), ["b"]);
    spool.remove(&[Seq(2)]).unwrap();
    drop(spool);
    let (spool, recovery) = Spool::open(dir.path(), BIG).unwrap();
    assert_eq!(recovery.records, 0);
    assert!(spool.is_empty());
}

/// Flips one byte of a stored body behind the spool's back, as a bad disk would.
fn corrupt_body(dir: &Path, seq: i64) {
    let conn = Connection::open(dir.join(DB_FILE)).unwrap();
    let mut body: Vec<u8> = conn
        .query_row("SELECT body FROM spool WHERE seq = ?1", [seq], |r| r.get(0))
        .unwrap();
    let mid = body.len() / 2;
    body[mid] ^= 0x20;
    conn.execute(
        "UPDATE spool SET body = ?2 WHERE seq = ?1",
        params![seq, body],
    )
    .unwrap();
}

fn quarantined(dir: &Path) -> Vec<(i64, String)> {
    let conn = Connection::open(dir.join(DB_FILE)).unwrap();
    let mut stmt = conn
        .prepare("SELECT seq, reason FROM quarantine ORDER BY seq")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn a_corrupt_record_is_quarantined_at_open_and_the_others_recovered() {
    let (dir, spool) = holding_abc().await;
    drop(spool);
    corrupt_body(dir.path(), 2);
    let (spool, recovery) = Spool::open(dir.path(), BIG).unwrap();
    assert_eq!(recovery.records, 2);
    assert_eq!(recovery.quarantined_records, 1);
    assert!(recovery.quarantined_files.is_empty());
    assert_eq!(spool.stats().records, 2);
    assert_eq!(ids(&spool.peek(None, 10).unwrap()), ["a", "c"]);
    let q = quarantined(dir.path());
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].0, 2);
    assert!(q[0].1.contains("checksum"), "{}", q[0].1);
    // numbering goes on past the quarantined record
    assert_eq!(spool.append(vec![rec("d")]).await.unwrap(), vec![Seq(4)]);
}

#[tokio::test]
async fn a_record_corrupted_while_open_is_quarantined_by_peek_not_returned() {
    let (dir, spool) = holding_abc().await;
    corrupt_body(dir.path(), 1);
    // the limit is still filled from the records after the bad one
    assert_eq!(ids(&spool.peek(None, 2).unwrap()), ["b", "c"]);
    assert_eq!(spool.stats().records, 2);
    assert_eq!(quarantined(dir.path()).len(), 1);
    assert_eq!(ids(&spool.peek(None, 10).unwrap()), ["b", "c"]);
}

#[tokio::test]
async fn a_garbage_store_file_is_moved_aside_and_a_fresh_spool_starts() {
    let dir = tempfile::tempdir().unwrap();
    let garbage: Vec<u8> = (0..10_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(dir.path().join(DB_FILE), &garbage).unwrap();
    let (spool, recovery) = Spool::open(dir.path(), BIG).unwrap();
    assert_eq!(recovery.records, 0);
    assert_eq!(recovery.quarantined_files.len(), 1);
    let moved = recovery.quarantined_files[0].join(DB_FILE);
    assert_eq!(std::fs::read(&moved).unwrap(), garbage);
    assert!(spool.is_empty());
    assert_eq!(spool.append(vec![rec("a")]).await.unwrap(), vec![Seq(1)]);
    assert_eq!(ids(&spool.peek(None, 10).unwrap()), ["a"]);
}

#[tokio::test]
async fn a_store_with_a_broken_page_is_moved_aside_and_readable_records_salvaged() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (spool, _) = Spool::open(dir.path(), BIG).unwrap();
        for i in 0..200 {
            spool.append(vec![rec(&format!("e{i:03}"))]).await.unwrap();
        }
    }
    // Checkpointed into the main file by the close; now smash a page in the middle,
    // a leaf of the spool table.
    let path = dir.path().join(DB_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2 / 4096 * 4096;
    for b in &mut bytes[mid..mid + 4096] {
        *b = 0xa5;
    }
    std::fs::write(&path, &bytes).unwrap();

    let (spool, recovery) = Spool::open(dir.path(), BIG).unwrap();
    assert_eq!(recovery.quarantined_files.len(), 1, "{recovery:?}");
    assert!(recovery.quarantined_files[0].join(DB_FILE).exists());
    assert_eq!(recovery.records, recovery.salvaged_records);
    assert!(
        // one leaf of ~400-byte records lost, the records on both sides of it kept
        recovery.records >= 180 && recovery.records < 200,
        "{recovery:?}"
    );
    let got = spool.peek(None, 1000).unwrap();
    assert_eq!(got.len() as u64, recovery.records);
    // salvaged records keep their numbers and order; new ones come after
    assert!(got.windows(2).all(|w| w[0].0 < w[1].0));
    let last = got.last().unwrap().0;
    let next = spool.append(vec![rec("new")]).await.unwrap()[0];
    assert!(next > last);
}

#[tokio::test]
async fn a_new_store_is_wal_with_8k_pages_and_incremental_vacuum() {
    let dir = tempfile::tempdir().unwrap();
    let (spool, _) = Spool::open(dir.path(), BIG).unwrap();
    spool.append(vec![rec("a")]).await.unwrap();
    let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
    let get = |p: &str| -> String {
        conn.query_row(&format!("PRAGMA {p}"), [], |r| {
            r.get::<_, rusqlite::types::Value>(0)
        })
        .map(|v| format!("{v:?}"))
        .unwrap()
    };
    assert_eq!(get("journal_mode"), r#"Text("wal")"#);
    assert_eq!(get("page_size"), "Integer(8192)");
    assert_eq!(get("auto_vacuum"), "Integer(2)");
}

#[tokio::test]
async fn a_second_open_of_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_spool, _) = Spool::open(dir.path(), BIG).unwrap();
    assert!(matches!(
        Spool::open(dir.path(), BIG),
        Err(SpoolError::Locked(_))
    ));
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// The store holds signed deliveries that can be replayed: owner only, whatever
/// the umask (the test process's is usually 022).
#[tokio::test]
async fn the_store_and_its_folder_are_owner_only() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a").join("spool");
    let (spool, _) = Spool::open(&dir, BIG).unwrap();
    spool.append(vec![rec("a")]).await.unwrap();
    assert_eq!(mode(&tmp.path().join("a")), 0o700);
    assert_eq!(mode(&dir), 0o700);
    for name in [DB_FILE, LOCK_FILE].into_iter().chain(DB_SIDE_FILES) {
        let p = dir.join(name);
        assert!(p.exists(), "{name}");
        assert_eq!(mode(&p), 0o600, "{name}");
    }
}

#[tokio::test]
async fn an_existing_store_readable_by_others_is_tightened_at_open() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    {
        let (spool, _) = Spool::open(dir.path(), BIG).unwrap();
        spool.append(vec![rec("a")]).await.unwrap();
    }
    let names: Vec<&str> = [DB_FILE, LOCK_FILE]
        .into_iter()
        .chain(DB_SIDE_FILES)
        .collect();
    for name in &names {
        let p = dir.path().join(name);
        if !p.exists() {
            std::fs::write(&p, b"").unwrap();
        }
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let (spool, recovery) = Spool::open(dir.path(), BIG).unwrap();
    assert_eq!(recovery.records, 1);
    spool.append(vec![rec("b")]).await.unwrap();
    for name in &names {
        assert_eq!(mode(&dir.path().join(name)), 0o600, "{name}");
    }
}

/// Quarantined records count toward `max_bytes`: the table cannot outgrow the
/// budget, and what does not fit is refused at the door (503, the provider
/// retries) instead of anything on disk being dropped.
#[tokio::test]
async fn quarantined_records_count_toward_max_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let one = codec::encode(&rec("a")).unwrap().len() as u64;
    let (spool, _) = Spool::open(dir.path(), one * 3).unwrap();
    spool
        .append(vec![rec("a"), rec("b"), rec("c")])
        .await
        .unwrap();
    spool.quarantine(Seq(1), "refused".into()).unwrap();
    spool.quarantine(Seq(2), "refused".into()).unwrap();
    let s = spool.stats();
    assert_eq!((s.records, s.bytes), (1, one));
    assert_eq!((s.quarantined_records, s.quarantined_bytes), (2, 2 * one));
    spool.remove(&[Seq(3)]).unwrap();
    // The queue is empty, but the quarantine holds two thirds of the budget.
    let err = spool.append(vec![rec("d"), rec("e")]).await.unwrap_err();
    assert!(
        matches!(err, SpoolError::Full { used, incoming, .. } if used == 2 * one && incoming == 2 * one),
        "{err:?}"
    );
    spool.append(vec![rec("d")]).await.unwrap();
    assert_eq!(quarantined(dir.path()).len(), 2, "nothing dropped");
    drop(spool);
    // Counted again from the store at open.
    let (spool, _) = Spool::open(dir.path(), one * 3).unwrap();
    let s = spool.stats();
    assert_eq!((s.quarantined_records, s.quarantined_bytes), (2, 2 * one));
    assert!(matches!(
        spool.append(vec![rec("e")]).await,
        Err(SpoolError::Full { .. })
    ));
}

#[tokio::test]
async fn a_drained_backlog_gives_its_space_back() {
    let dir = tempfile::tempdir().unwrap();
    let (spool, _) = Spool::open(dir.path(), BIG).unwrap();
    let mut seqs = Vec::new();
    for chunk in 0..40 {
        let batch = (0..100)
            .map(|i| SpoolRecord {
                value: vec![b'v'; 2000],
                ..rec(&format!("e{chunk}-{i}"))
            })
            .collect();
        seqs.extend(spool.append(batch).await.unwrap());
    }
    let size = |p: &Path| std::fs::metadata(p.join(DB_FILE)).unwrap().len();
    // checkpoint so the main file holds the backlog
    drop(spool);
    let full = size(dir.path());
    let (spool, _) = Spool::open(dir.path(), BIG).unwrap();
    for chunk in seqs.chunks(500) {
        spool.remove(chunk).unwrap();
    }
    drop(spool);
    let drained = size(dir.path());
    assert!(drained * 4 < full, "{full} -> {drained} bytes");
}
