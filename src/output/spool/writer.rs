//! The spool's one writer thread: it owns every write, and batches concurrent
//! appends, removals and quarantines into one transaction (one fsync, a group
//! commit), keeping the spool's figures ([`SpoolStats`]) as it commits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use tokio::sync::oneshot;

use super::codec::{self, Seq};
use super::error::{db, to_sql_seq, SpoolError};

/// Bounds one group commit so a burst cannot make one transaction (and the memory
/// holding it) arbitrarily large.
const MAX_BATCH_JOBS: usize = 512;
const MAX_BATCH_BYTES: u64 = 16 << 20;
/// Give freed pages back to the file system once this many are free and they are over a
/// quarter of the file, or as soon as the spool is empty: a drained backlog should not
/// keep its high-water mark on disk, while a queue in steady state reuses its free pages
/// instead of shrinking and growing.
const VACUUM_MIN_FREE_PAGES: i64 = 1024;

/// What the spool holds now, kept in memory by the writer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpoolStats {
    pub records: u64,
    /// Encoded bytes of the records waiting; the files on disk are larger by SQLite's
    /// page slack, the WAL and free pages not yet given back.
    pub bytes: u64,
    /// Records in the quarantine table (kept, never produced) and their bytes. They
    /// count toward `max_bytes` with the waiting ones: `bytes + quarantined_bytes` is
    /// what the limit bounds.
    pub quarantined_records: u64,
    pub quarantined_bytes: u64,
    pub max_bytes: u64,
    pub oldest_appended_at_ms: Option<i64>,
}

impl SpoolStats {
    /// What counts toward `max_bytes`: the queue and the quarantine.
    pub fn used_bytes(&self) -> u64 {
        self.bytes.saturating_add(self.quarantined_bytes)
    }
}

pub(super) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub(super) struct Shared {
    pub(super) stats: Mutex<SpoolStats>,
    pub(super) commits: AtomicU64,
}

impl Shared {
    pub(super) fn stats(&self) -> MutexGuard<'_, SpoolStats> {
        // Stats are plain numbers: a panic elsewhere cannot leave them half-written.
        self.stats.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub(super) type Reply<T> = mpsc::Sender<Result<T, SpoolError>>;

pub(super) enum Job {
    Append {
        rows: Vec<Row>,
        bytes: u64,
        reply: oneshot::Sender<Result<Vec<Seq>, SpoolError>>,
    },
    Remove {
        seqs: Vec<Seq>,
        reply: Reply<()>,
    },
    Quarantine {
        seq: Seq,
        reason: String,
        reply: Reply<()>,
    },
}

pub(super) struct Row {
    pub(super) body: Vec<u8>,
    pub(super) appended_at_ms: i64,
}

/// Starts the writer on `conn`, numbering from `next_seq`: the channel its jobs go
/// to (closing it ends the thread once the jobs sent are done) and the thread.
pub(super) fn spawn(
    conn: Connection,
    next_seq: u64,
    shared: Arc<Shared>,
) -> std::io::Result<(mpsc::Sender<Job>, JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel();
    let writer = Writer {
        conn,
        next_seq,
        shared,
    };
    let handle = std::thread::Builder::new()
        .name("hookgate-spool".to_owned())
        .spawn(move || writer.run(&rx))?;
    Ok((tx, handle))
}

struct Writer {
    conn: Connection,
    next_seq: u64,
    shared: Arc<Shared>,
}

enum Planned {
    Appended(Vec<Seq>),
    Full { used: u64, incoming: u64 },
    Done,
}

impl Writer {
    fn run(mut self, rx: &mpsc::Receiver<Job>) {
        let mut batch = Vec::with_capacity(MAX_BATCH_JOBS);
        while let Ok(first) = rx.recv() {
            let mut bytes = job_bytes(&first);
            batch.push(first);
            while batch.len() < MAX_BATCH_JOBS && bytes < MAX_BATCH_BYTES {
                match rx.try_recv() {
                    Ok(job) => {
                        bytes += job_bytes(&job);
                        batch.push(job);
                    }
                    Err(_) => break,
                }
            }
            self.commit_batch(std::mem::take(&mut batch));
        }
    }

    fn commit_batch(&mut self, batch: Vec<Job>) {
        let before = *self.shared.stats();
        let outcome = self.apply(&batch, before);
        let planned = match outcome {
            Ok((planned, after)) => {
                *self.shared.stats() = after;
                planned
            }
            Err(e) => {
                tracing::error!(error = %e, jobs = batch.len(), "spool commit failed");
                for job in batch {
                    let err = match &e {
                        SpoolError::Corrupt(m) => SpoolError::Corrupt(m.clone()),
                        other => SpoolError::Store(other.to_string()),
                    };
                    reply(job, Err(err));
                }
                return;
            }
        };
        for (job, p) in batch.into_iter().zip(planned) {
            let result = match p {
                Planned::Appended(seqs) => Ok(seqs),
                Planned::Done => Ok(Vec::new()),
                Planned::Full { used, incoming } => Err(SpoolError::Full {
                    used,
                    incoming,
                    max_bytes: before.max_bytes,
                }),
            };
            reply(job, result);
        }
        self.maybe_vacuum();
    }

    /// Writes the batch in one transaction; returns each job's outcome and the stats after
    /// the commit. On error nothing of the batch is applied (SQLite rolls back).
    fn apply(
        &mut self,
        batch: &[Job],
        before: SpoolStats,
    ) -> Result<(Vec<Planned>, SpoolStats), SpoolError> {
        let mut stats = before;
        let mut planned = Vec::with_capacity(batch.len());
        let mut removed_any = false;
        let mut wrote = false;
        let tx = self.conn.transaction().map_err(db)?;
        for job in batch {
            match job {
                Job::Append { rows, bytes, .. } => {
                    if stats.used_bytes().saturating_add(*bytes) > stats.max_bytes {
                        planned.push(Planned::Full {
                            used: stats.used_bytes(),
                            incoming: *bytes,
                        });
                        continue;
                    }
                    let mut seqs = Vec::with_capacity(rows.len());
                    let mut stmt = tx
                        .prepare_cached(
                            "INSERT INTO spool (seq, crc, appended_at_ms, body) VALUES (?1, ?2, ?3, ?4)",
                        )
                        .map_err(db)?;
                    for row in rows {
                        // Taken before the write, and never given back: a failed commit
                        // leaves a gap, not a reused number.
                        let seq = self.next_seq;
                        self.next_seq += 1;
                        let crc = codec::checksum(seq, &row.body);
                        stmt.execute(params![
                            to_sql_seq(seq)?,
                            i64::from(crc),
                            row.appended_at_ms,
                            row.body
                        ])
                        .map_err(db)?;
                        seqs.push(Seq(seq));
                    }
                    if stats.records == 0 {
                        stats.oldest_appended_at_ms = rows.first().map(|r| r.appended_at_ms);
                    }
                    stats.records += rows.len() as u64;
                    stats.bytes += bytes;
                    wrote = true;
                    planned.push(Planned::Appended(seqs));
                }
                Job::Remove { seqs, .. } => {
                    let mut stmt = tx
                        .prepare_cached("DELETE FROM spool WHERE seq = ?1 RETURNING length(body)")
                        .map_err(db)?;
                    for seq in seqs {
                        let len: Option<i64> = stmt
                            .query_row([to_sql_seq(seq.0)?], |r| r.get(0))
                            .optional()
                            .map_err(db)?;
                        if let Some(len) = len {
                            stats.records = stats.records.saturating_sub(1);
                            stats.bytes = stats.bytes.saturating_sub(len.unsigned_abs());
                            removed_any = true;
                        }
                    }
                    wrote = true;
                    planned.push(Planned::Done);
                }
                Job::Quarantine { seq, reason, .. } => {
                    if let Some(len) = quarantine_row(&tx, *seq, reason)? {
                        stats.records = stats.records.saturating_sub(1);
                        stats.bytes = stats.bytes.saturating_sub(len);
                        stats.quarantined_records += 1;
                        stats.quarantined_bytes += len;
                        removed_any = true;
                    }
                    wrote = true;
                    planned.push(Planned::Done);
                }
            }
        }
        if !wrote {
            // Only refusals: no commit, no fsync.
            return Ok((planned, before));
        }
        tx.execute(
            "INSERT INTO meta (name, value) VALUES ('next_seq', ?1)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            [to_sql_seq(self.next_seq)?],
        )
        .map_err(db)?;
        if removed_any {
            stats.oldest_appended_at_ms = oldest(&tx)?;
        }
        tx.commit().map_err(db)?;
        self.shared.commits.fetch_add(1, Ordering::Relaxed);
        Ok((planned, stats))
    }

    fn maybe_vacuum(&mut self) {
        let result = (|| -> rusqlite::Result<()> {
            let free: i64 = self
                .conn
                .query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
            let drained = free > 0 && self.shared.stats().records == 0;
            if !drained {
                if free < VACUUM_MIN_FREE_PAGES {
                    return Ok(());
                }
                let pages: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
                if free * 4 < pages {
                    return Ok(());
                }
            }
            // The pragma frees pages one step at a time: step it to the end.
            let mut stmt = self.conn.prepare("PRAGMA incremental_vacuum")?;
            let mut rows = stmt.query([])?;
            while rows.next()?.is_some() {}
            tracing::debug!(freed_pages = free, "spool gave free pages back");
            Ok(())
        })();
        if let Err(e) = result {
            // Space is not data: the spool works on, only larger on disk.
            tracing::warn!(error = %e, "spool incremental vacuum failed");
        }
    }
}

fn job_bytes(job: &Job) -> u64 {
    match job {
        Job::Append { bytes, .. } => *bytes,
        Job::Remove { .. } | Job::Quarantine { .. } => 0,
    }
}

fn reply(job: Job, result: Result<Vec<Seq>, SpoolError>) {
    // A caller that went away (its request was cancelled) needs no answer.
    match job {
        Job::Append { reply, .. } => {
            let _ = reply.send(result);
        }
        Job::Remove { reply, .. } | Job::Quarantine { reply, .. } => {
            let _ = reply.send(result.map(|_| ()));
        }
    }
}

fn oldest(conn: &Connection) -> Result<Option<i64>, SpoolError> {
    conn.query_row(
        "SELECT appended_at_ms FROM spool ORDER BY seq LIMIT 1",
        [],
        |r| r.get(0),
    )
    .optional()
    .map_err(db)
}

/// Moves one record from `spool` to `quarantine`; its byte length if it was there.
pub(super) fn quarantine_row(
    tx: &Transaction<'_>,
    seq: Seq,
    reason: &str,
) -> Result<Option<u64>, SpoolError> {
    let seq = to_sql_seq(seq.0)?;
    tx.execute(
        "INSERT INTO quarantine (seq, crc, appended_at_ms, body, reason, quarantined_at_ms)
         SELECT seq, crc, appended_at_ms, body, ?2, ?3 FROM spool WHERE seq = ?1",
        params![seq, reason, now_ms()],
    )
    .map_err(db)?;
    let len: Option<i64> = tx
        .query_row(
            "DELETE FROM spool WHERE seq = ?1 RETURNING length(body)",
            [seq],
            |r| r.get(0),
        )
        .optional()
        .map_err(db)?;
    Ok(len.map(i64::unsigned_abs))
}
