//! The durable spool store: a FIFO queue of Kafka-ready records in one SQLite database
//! (WAL, synchronous=FULL) in the spool directory. This is its handle: appends go to
//! the one writer thread (`writer`), which batches concurrent ones into one commit (one
//! fsync); reads go through a read-only connection. Opening recovers what the store
//! holds (`recovery`). Knows SQLite; knows nothing of Kafka or HTTP.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::{params, Connection};
use tokio::sync::oneshot;

use super::codec::{self, Seq, SpoolRecord};
use super::error::{db, to_sql_seq, SpoolError};
use super::recovery::{recover, Recovery, DB_FILE};
use super::writer::{self, Job, Row, Shared, SpoolStats};
use crate::output::owner_only;

const LOCK_FILE: &str = "spool.lock";

/// The durable FIFO queue. Share it behind an `Arc`; `peek` and `remove` block on disk
/// (call them from a blocking context, e.g. `spawn_blocking` or a drainer thread).
pub struct Spool {
    jobs: Option<mpsc::Sender<Job>>,
    writer: Option<JoinHandle<()>>,
    reader: Mutex<Connection>,
    shared: Arc<Shared>,
    _lock: std::fs::File,
}

impl Spool {
    /// Opens or creates the spool in `dir` and recovers every readable record. Records
    /// that fail their checksum or decoding go to the store's quarantine table; a store
    /// file that cannot be used at all is moved into `dir/quarantine-<ms>/`, its readable
    /// records are copied into a fresh store, and start-up goes on. Nothing is deleted.
    /// Fails when the directory cannot be used (permissions, another process holds it).
    pub fn open(dir: &Path, max_bytes: u64) -> Result<(Self, Recovery), SpoolError> {
        owner_only::dir_all(dir)?;
        let lock = lock_dir(dir)?;
        let (conn, scan, recovery) = recover(dir)?;

        let reader = Connection::open(dir.join(DB_FILE)).map_err(db)?;
        reader
            .execute_batch("PRAGMA query_only = ON; PRAGMA busy_timeout = 5000;")
            .map_err(db)?;

        let shared = Arc::new(Shared {
            stats: Mutex::new(SpoolStats {
                records: scan.records,
                bytes: scan.bytes,
                quarantined_records: scan.quarantine_records,
                quarantined_bytes: scan.quarantine_bytes,
                max_bytes,
                oldest_appended_at_ms: scan.oldest_appended_at_ms,
            }),
            commits: AtomicU64::new(0),
        });
        let (tx, handle) = writer::spawn(conn, scan.next_seq, Arc::clone(&shared))?;

        if recovery.quarantined_records > 0 || !recovery.quarantined_files.is_empty() {
            tracing::warn!(
                quarantined_records = recovery.quarantined_records,
                quarantined_files = recovery.quarantined_files.len(),
                salvaged_records = recovery.salvaged_records,
                "spool recovered with quarantined data"
            );
        }
        tracing::info!(
            dir = %dir.display(),
            records = recovery.records,
            bytes = recovery.bytes,
            "spool open"
        );
        Ok((
            Self {
                jobs: Some(tx),
                writer: Some(handle),
                reader: Mutex::new(reader),
                shared,
                _lock: lock,
            },
            recovery,
        ))
    }

    /// Appends `records` in order; concurrent calls share one durable commit. Resolves
    /// only once that commit is on disk. `SpoolError::Full` when the records would take
    /// the spool (queue and quarantine) over `max_bytes`: then nothing of them was
    /// written.
    pub async fn append(&self, records: Vec<SpoolRecord>) -> Result<Vec<Seq>, SpoolError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows = Vec::with_capacity(records.len());
        let mut bytes = 0u64;
        for r in &records {
            let body = codec::encode(r)?;
            bytes += body.len() as u64;
            rows.push(Row {
                body,
                appended_at_ms: r.appended_at_ms,
            });
        }
        // Early refusal without a trip to the writer; the writer checks again, exactly.
        {
            let stats = self.shared.stats();
            if stats.used_bytes().saturating_add(bytes) > stats.max_bytes {
                return Err(SpoolError::Full {
                    used: stats.used_bytes(),
                    incoming: bytes,
                    max_bytes: stats.max_bytes,
                });
            }
        }
        let (reply, done) = oneshot::channel();
        self.send(Job::Append { rows, bytes, reply })?;
        done.await.map_err(|_| SpoolError::Stopped)?
    }

    /// The oldest records after `after` (`None`: from the start), at most `limit`.
    /// A record that fails its checksum or decoding is quarantined and skipped.
    pub fn peek(
        &self,
        after: Option<Seq>,
        limit: usize,
    ) -> Result<Vec<(Seq, SpoolRecord)>, SpoolError> {
        let mut out = Vec::with_capacity(limit.min(1024));
        let mut cursor = match after {
            Some(s) => to_sql_seq(s.0)?,
            None => 0,
        };
        while out.len() < limit {
            let want = limit - out.len();
            let rows = self.read_rows(cursor, want)?;
            let got = rows.len();
            for (seq, crc, body) in rows {
                cursor = to_sql_seq(seq)?;
                match codec::decode(seq, crc, &body) {
                    Ok(record) => out.push((Seq(seq), record)),
                    Err(e) => {
                        tracing::error!(seq, reason = %e, "corrupt spool record: quarantined, not produced");
                        self.quarantine(Seq(seq), e.to_string())?;
                    }
                }
            }
            if got < want {
                break;
            }
        }
        Ok(out)
    }

    fn read_rows(&self, after: i64, limit: usize) -> Result<Vec<(u64, u32, Vec<u8>)>, SpoolError> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let mut stmt = conn
            .prepare_cached("SELECT seq, crc, body FROM spool WHERE seq > ?1 ORDER BY seq LIMIT ?2")
            .map_err(db)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![after, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, crc, body) = row.map_err(db)?;
            // A negative seq or a crc outside u32 cannot come from this code: let the
            // checksum reject it by handing decode an impossible value.
            let crc =
                u32::try_from(crc).unwrap_or_else(|_| codec::checksum(0, b"").wrapping_add(1));
            let seq = u64::try_from(seq)
                .map_err(|_| SpoolError::Corrupt(format!("negative sequence {seq}")))?;
            out.push((seq, crc, body));
        }
        Ok(out)
    }

    /// Removes records (after Kafka acknowledged them); sequences not in the spool are
    /// ignored. Durable when it returns, like an append.
    pub fn remove(&self, seqs: &[Seq]) -> Result<(), SpoolError> {
        if seqs.is_empty() {
            return Ok(());
        }
        let (reply, done) = mpsc::channel();
        self.send(Job::Remove {
            seqs: seqs.to_vec(),
            reply,
        })?;
        done.recv().map_err(|_| SpoolError::Stopped)?
    }

    /// Moves a record out of the queue into the store's quarantine table (kept on disk,
    /// never produced): for records the broker refuses for good (too large). The move
    /// never needs room: the record's bytes were counted toward `max_bytes` already
    /// and stay counted, so the quarantine is bounded with the queue and nothing in it
    /// is ever dropped to make room; new appends are refused instead (503, the
    /// provider retries) until an operator empties it.
    pub fn quarantine(&self, seq: Seq, reason: String) -> Result<(), SpoolError> {
        let (reply, done) = mpsc::channel();
        self.send(Job::Quarantine { seq, reason, reply })?;
        done.recv().map_err(|_| SpoolError::Stopped)?
    }

    fn send(&self, job: Job) -> Result<(), SpoolError> {
        self.jobs
            .as_ref()
            .ok_or(SpoolError::Stopped)?
            .send(job)
            .map_err(|_| SpoolError::Stopped)
    }

    pub fn stats(&self) -> SpoolStats {
        *self.shared.stats()
    }

    pub fn is_empty(&self) -> bool {
        self.stats().records == 0
    }

    /// Durable commits made since open (each one fsync): with concurrent appends this
    /// grows slower than the number of records.
    pub fn commits(&self) -> u64 {
        self.shared.commits.load(Ordering::Relaxed)
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        // Closing the channel ends the writer after the jobs already sent; waiting for it
        // means a spool reopened in this process finds the store closed.
        self.jobs.take();
        if let Some(h) = self.writer.take() {
            if h.join().is_err() {
                tracing::error!("spool writer thread panicked");
            }
        }
    }
}

/// Takes an exclusive lock on the directory: two processes on one spool would hand out
/// the same sequence numbers.
fn lock_dir(dir: &Path) -> Result<std::fs::File, SpoolError> {
    let f = owner_only::open(
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true),
        &dir.join(LOCK_FILE),
    )?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(SpoolError::Locked(dir.to_owned())),
        Err(std::fs::TryLockError::Error(e)) => Err(SpoolError::Io(e)),
    }
}

#[cfg(test)]
mod tests;
