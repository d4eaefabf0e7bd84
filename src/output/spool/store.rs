//! The durable spool store: a FIFO queue of Kafka-ready records in one SQLite database
//! (WAL, synchronous=FULL) in the spool directory. One writer thread owns every write and
//! batches concurrent appends and removals into one commit (one fsync). Knows SQLite;
//! knows nothing of Kafka or HTTP.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Transaction};
use tokio::sync::oneshot;

use super::codec::{self, Seq, SpoolRecord};
use crate::output::owner_only;

const DB_FILE: &str = "spool.db";
const LOCK_FILE: &str = "spool.lock";
/// SQLite keeps these beside the database; they belong to it and move with it.
const DB_SIDE_FILES: [&str; 2] = ["spool.db-wal", "spool.db-shm"];
/// Bounds one group commit so a burst cannot make one transaction (and the memory
/// holding it) arbitrarily large.
const MAX_BATCH_JOBS: usize = 512;
const MAX_BATCH_BYTES: u64 = 16 << 20;
/// Give freed pages back to the file system once this many are free and they are over a
/// quarter of the file, or as soon as the spool is empty: a drained backlog should not
/// keep its high-water mark on disk, while a queue in steady state reuses its free pages
/// instead of shrinking and growing.
const VACUUM_MIN_FREE_PAGES: i64 = 1024;
/// The WAL is truncated to this after a checkpoint, so a burst does not leave it large.
const WAL_SIZE_LIMIT: i64 = 64 << 20;

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

/// What `Spool::open` found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Readable records now in the spool.
    pub records: u64,
    pub bytes: u64,
    /// Records whose checksum or decoding failed, moved to the `quarantine` table of the
    /// store (or left in a moved-aside file).
    pub quarantined_records: u64,
    /// Folders that an unusable store file was moved into.
    pub quarantined_files: Vec<PathBuf>,
    /// Readable records copied out of a moved-aside store file into the fresh one.
    pub salvaged_records: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The caller answers 503: nothing was written. `used` includes the quarantine.
    #[error(
        "spool full: {incoming} more bytes would exceed the limit of {max_bytes} ({used} in use, quarantine included)"
    )]
    Full {
        used: u64,
        incoming: u64,
        max_bytes: u64,
    },
    #[error("spool I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("spool store: {0}")]
    Store(String),
    #[error("spool store corrupt: {0}")]
    Corrupt(String),
    #[error("record cannot be stored: {0}")]
    Encode(#[from] codec::DecodeError),
    #[error("spool directory {0} is in use by another process")]
    Locked(PathBuf),
    #[error("spool writer stopped")]
    Stopped,
}

fn db_error(e: &rusqlite::Error) -> SpoolError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            SpoolError::Corrupt(e.to_string())
        }
        _ => SpoolError::Store(e.to_string()),
    }
}

fn db(e: rusqlite::Error) -> SpoolError {
    db_error(&e)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// SQLite integers are i64; sequence numbers start at 1 and grow by one per record, so
/// they never get near the limit, but a corrupt meta row could claim otherwise.
fn to_sql_seq(seq: u64) -> Result<i64, SpoolError> {
    i64::try_from(seq).map_err(|_| SpoolError::Corrupt(format!("sequence {seq} out of range")))
}

/// The durable FIFO queue. Share it behind an `Arc`; `peek` and `remove` block on disk
/// (call them from a blocking context, e.g. `spawn_blocking` or a drainer thread).
pub struct Spool {
    jobs: Option<mpsc::Sender<Job>>,
    writer: Option<JoinHandle<()>>,
    reader: Mutex<Connection>,
    shared: Arc<Shared>,
    _lock: std::fs::File,
}

struct Shared {
    stats: Mutex<SpoolStats>,
    commits: AtomicU64,
}

impl Shared {
    fn stats(&self) -> MutexGuard<'_, SpoolStats> {
        // Stats are plain numbers: a panic elsewhere cannot leave them half-written.
        self.stats.lock().unwrap_or_else(|p| p.into_inner())
    }
}

type Reply<T> = mpsc::Sender<Result<T, SpoolError>>;

enum Job {
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

struct Row {
    body: Vec<u8>,
    appended_at_ms: i64,
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
        let path = dir.join(DB_FILE);
        let mut recovery = Recovery::default();

        let (conn, scan) = match open_verified(&path) {
            Ok(ok) => ok,
            Err(OpenError::Failed(e)) => return Err(e),
            Err(OpenError::Unusable(why)) => {
                let aside = move_aside(dir)?;
                tracing::error!(
                    store = %path.display(),
                    moved_to = %aside.display(),
                    reason = %why,
                    "spool store unusable: moved aside, starting a fresh spool"
                );
                let (conn, _) = open_verified(&path).map_err(OpenError::into_spool_error)?;
                let salvage = salvage(&aside.join(DB_FILE), &conn);
                recovery.salvaged_records = salvage.records;
                recovery.quarantined_records += salvage.bad;
                recovery.quarantined_files.push(aside);
                drop(conn);
                // Counted again from what is now stored, not from what salvage believed.
                open_verified(&path).map_err(OpenError::into_spool_error)?
            }
        };
        recovery.records = scan.records;
        recovery.bytes = scan.bytes;
        recovery.quarantined_records += scan.quarantined;

        let reader = Connection::open(&path).map_err(db)?;
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
        let (tx, rx) = mpsc::channel();
        let writer = Writer {
            conn,
            next_seq: scan.next_seq,
            shared: Arc::clone(&shared),
        };
        let handle = std::thread::Builder::new()
            .name("hookgate-spool".to_owned())
            .spawn(move || writer.run(&rx))?;

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

// ------------------------------------------------------------------ writer

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
fn quarantine_row(tx: &Transaction<'_>, seq: Seq, reason: &str) -> Result<Option<u64>, SpoolError> {
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

// ------------------------------------------------------------------ open and recovery

enum OpenError {
    /// The environment refuses (permissions, disk, locks): start-up fails.
    Failed(SpoolError),
    /// The file is not a usable spool store: it is moved aside.
    Unusable(String),
}

impl OpenError {
    fn into_spool_error(self) -> SpoolError {
        match self {
            Self::Failed(e) => e,
            Self::Unusable(why) => SpoolError::Corrupt(why),
        }
    }
}

impl From<rusqlite::Error> for OpenError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(
                ErrorCode::CannotOpen
                | ErrorCode::PermissionDenied
                | ErrorCode::ReadOnly
                | ErrorCode::DiskFull
                | ErrorCode::SystemIoFailure
                | ErrorCode::OutOfMemory
                | ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked,
            ) => Self::Failed(db(e)),
            // Not a database, corrupt pages, or a database of another shape.
            _ => Self::Unusable(e.to_string()),
        }
    }
}

struct Scan {
    records: u64,
    bytes: u64,
    /// Records moved to the quarantine table by this scan.
    quarantined: u64,
    /// Everything in the quarantine table after the scan (earlier runs' too).
    quarantine_records: u64,
    quarantine_bytes: u64,
    oldest_appended_at_ms: Option<i64>,
    next_seq: u64,
}

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS spool (
        seq INTEGER PRIMARY KEY,
        crc INTEGER NOT NULL,
        appended_at_ms INTEGER NOT NULL,
        body BLOB NOT NULL
    );
    CREATE TABLE IF NOT EXISTS quarantine (
        id INTEGER PRIMARY KEY,
        seq INTEGER,
        crc INTEGER,
        appended_at_ms INTEGER,
        body BLOB,
        reason TEXT NOT NULL,
        quarantined_at_ms INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
";

/// Opens (or creates) the store, checks the file's structure, and checks every record,
/// moving the ones that fail into the quarantine table.
fn open_verified(path: &Path) -> Result<(Connection, Scan), OpenError> {
    // The store holds signed, replayable deliveries: 0600 before SQLite opens it, so
    // the log and shared-memory files it creates beside it get 0600 too; side files
    // left by an earlier run with a wider mode are tightened.
    let side = |suffix: &str| {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    };
    owner_only::create_or_tighten(path)
        .and_then(|()| owner_only::tighten(&side("-wal")))
        .and_then(|()| owner_only::tighten(&side("-shm")))
        .map_err(|e| OpenError::Failed(SpoolError::Io(e)))?;
    let mut conn = Connection::open(path)?;
    // On a new file the order matters: page size and auto_vacuum are fixed by the first
    // table, and switching to WAL first would fix the default 4 KiB page. 8 KiB pages
    // hold ~1.5 KiB records with 20% less slack than 4 KiB ones (measured: 100k records,
    // 157 MiB against 196 MiB). On an existing store both pragmas are no-ops.
    conn.execute_batch(
        "PRAGMA busy_timeout = 5000; PRAGMA page_size = 8192; PRAGMA auto_vacuum = INCREMENTAL;",
    )?;
    let check: String = conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(OpenError::Unusable(format!("quick_check: {check}")));
    }
    conn.execute_batch(SCHEMA)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(OpenError::Failed(SpoolError::Store(format!(
            "cannot switch the spool store to WAL (journal mode {mode})"
        ))));
    }
    // FULL makes every commit fsync the WAL; NORMAL would not, and the last commits
    // could be lost on power failure although their appends had resolved.
    conn.execute_batch(&format!(
        "PRAGMA synchronous = FULL; PRAGMA journal_size_limit = {WAL_SIZE_LIMIT};"
    ))?;

    let mut scan = Scan {
        records: 0,
        bytes: 0,
        quarantined: 0,
        quarantine_records: 0,
        quarantine_bytes: 0,
        oldest_appended_at_ms: None,
        next_seq: 1,
    };
    let mut bad: Vec<(u64, String)> = Vec::new();
    let mut max_seq = 0u64;
    {
        let mut stmt =
            conn.prepare("SELECT seq, crc, appended_at_ms, body FROM spool ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let crc: i64 = row.get(1)?;
            let at: i64 = row.get(2)?;
            let body: Vec<u8> = row.get(3)?;
            let Ok(useq) = u64::try_from(seq) else {
                return Err(OpenError::Unusable(format!("negative sequence {seq}")));
            };
            max_seq = max_seq.max(useq);
            let verdict = match u32::try_from(crc) {
                Ok(crc) => codec::decode(useq, crc, &body).map(|_| ()),
                Err(_) => Err(codec::DecodeError::Checksum {
                    stored: 0,
                    computed: codec::checksum(useq, &body),
                }),
            };
            match verdict {
                Ok(()) => {
                    scan.records += 1;
                    scan.bytes += body.len() as u64;
                    scan.oldest_appended_at_ms.get_or_insert(at);
                }
                Err(e) => bad.push((useq, e.to_string())),
            }
        }
    }
    if !bad.is_empty() {
        let tx = conn.transaction()?;
        for (seq, reason) in &bad {
            tracing::warn!(seq, reason = %reason, "corrupt spool record quarantined at open");
            quarantine_row(&tx, Seq(*seq), reason).map_err(|e| match e {
                SpoolError::Corrupt(m) => OpenError::Unusable(m),
                other => OpenError::Failed(other),
            })?;
        }
        tx.commit()?;
        scan.quarantined = bad.len() as u64;
    }
    let stored_next: Option<i64> = conn
        .query_row("SELECT value FROM meta WHERE name = 'next_seq'", [], |r| {
            r.get(0)
        })
        .optional()?;
    let quarantined_max: Option<i64> =
        conn.query_row("SELECT max(seq) FROM quarantine", [], |r| r.get(0))?;
    let (q_records, q_bytes): (i64, i64) = conn.query_row(
        "SELECT count(*), coalesce(sum(length(body)), 0) FROM quarantine",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    scan.quarantine_records = q_records.unsigned_abs();
    scan.quarantine_bytes = q_bytes.unsigned_abs();
    scan.next_seq = [
        stored_next.and_then(|v| u64::try_from(v).ok()).unwrap_or(1),
        max_seq + 1,
        quarantined_max
            .and_then(|v| u64::try_from(v).ok())
            .map_or(1, |m| m + 1),
    ]
    .into_iter()
    .max()
    .unwrap_or(1);
    Ok((conn, scan))
}

/// Moves the store file and SQLite's side files into a new `quarantine-<ms>` folder.
fn move_aside(dir: &Path) -> Result<PathBuf, SpoolError> {
    let stamp = now_ms();
    let mut aside = dir.join(format!("quarantine-{stamp}"));
    let mut n = 1;
    while aside.exists() {
        aside = dir.join(format!("quarantine-{stamp}-{n}"));
        n += 1;
    }
    {
        use std::os::unix::fs::DirBuilderExt as _;
        std::fs::DirBuilder::new().mode(0o700).create(&aside)?;
    }
    for name in std::iter::once(DB_FILE).chain(DB_SIDE_FILES) {
        let from = dir.join(name);
        if from.exists() {
            std::fs::rename(&from, aside.join(name))?;
        }
    }
    // The renames are metadata of `dir`: make them survive a crash before a fresh store
    // is created under the old name.
    std::fs::File::open(dir)?.sync_all()?;
    Ok(aside)
}

#[derive(Default)]
struct Salvage {
    records: u64,
    bad: u64,
}

/// Copies the readable, checksum-valid records of a moved-aside store into `fresh`,
/// keeping their sequence numbers. Best effort: past a part it cannot read it starts
/// again from the next sequence numbers, and whatever it cannot copy stays in the
/// moved-aside file.
fn salvage(old: &Path, fresh: &Connection) -> Salvage {
    let mut out = Salvage::default();
    let result = (|| -> rusqlite::Result<()> {
        // Read-write: a WAL store opened read-only needs its -shm file, which a crash may
        // not have left; this is the moved-aside copy, reading it changes no record.
        let src = Connection::open(old)?;
        let mut insert = fresh.prepare(
            "INSERT OR IGNORE INTO spool (seq, crc, appended_at_ms, body) VALUES (?1, ?2, ?3, ?4)",
        )?;
        fresh.execute_batch("BEGIN")?;
        let max_seq = copy_readable(&src, &mut insert, &mut out)?;
        // Keep the numbering going past what the old store handed out, if it can tell.
        let next: Option<i64> = src
            .query_row("SELECT value FROM meta WHERE name = 'next_seq'", [], |r| {
                r.get(0)
            })
            .optional()
            .unwrap_or(None);
        let next = next.unwrap_or(0).max(max_seq + 1);
        fresh.execute(
            "INSERT INTO meta (name, value) VALUES ('next_seq', ?1)
             ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)",
            [next],
        )?;
        fresh.execute_batch("COMMIT")?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = fresh.execute_batch("ROLLBACK");
        tracing::warn!(error = %e, "nothing salvaged from the moved-aside spool store");
        out.records = 0;
    }
    out
}

/// Reads `src` in sequence order; a read error skips ahead (one sequence number at a
/// time, then doubling, so a broken interior page cannot make this loop for long).
/// Read errors are absorbed; an error writing into `fresh` is returned.
fn copy_readable(
    src: &Connection,
    insert: &mut rusqlite::Statement<'_>,
    out: &mut Salvage,
) -> rusqlite::Result<i64> {
    const LINEAR_PROBES: u32 = 64;
    let mut stmt = src
        .prepare("SELECT seq, crc, appended_at_ms, body FROM spool WHERE seq > ?1 ORDER BY seq")?;
    let mut cursor = 0i64;
    let mut max_seq = 0i64;
    let mut failures_in_a_row = 0u32;
    let mut step = 1i64;
    loop {
        let read_error = match stmt.query([cursor]) {
            Err(e) => e,
            Ok(mut rows) => loop {
                let row = match rows.next() {
                    Ok(None) => return Ok(max_seq),
                    Ok(Some(row)) => row,
                    Err(e) => break e,
                };
                let fields = (|| {
                    Ok::<_, rusqlite::Error>((
                        row.get::<_, i64>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, i64>(2)?,
                        row.get::<_, Vec<u8>>(3)?,
                    ))
                })();
                let (seq, crc, at, body) = match fields {
                    Ok(f) => f,
                    Err(e) => break e,
                };
                cursor = cursor.max(seq);
                failures_in_a_row = 0;
                step = 1;
                let ok = match (u64::try_from(seq), u32::try_from(crc)) {
                    (Ok(s), Ok(c)) => codec::decode(s, c, &body).is_ok(),
                    _ => false,
                };
                if ok {
                    insert.execute(params![seq, crc, at, body])?;
                    out.records += 1;
                    max_seq = max_seq.max(seq);
                } else {
                    out.bad += 1;
                }
            },
        };
        failures_in_a_row += 1;
        if failures_in_a_row == 1 {
            tracing::warn!(error = %read_error, after_seq = cursor, "spool salvage skipping an unreadable part");
        }
        if failures_in_a_row > LINEAR_PROBES {
            step = step.saturating_mul(2);
        }
        if cursor == i64::MAX {
            return Ok(max_seq);
        }
        cursor = cursor.saturating_add(step);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str) -> SpoolRecord {
        SpoolRecord {
            topic: "webhooks".into(),
            key: id.as_bytes().to_vec(),
            value: format!(
                r#"{{"specversion":"1.0","id":"{id}","data":"{}"}}"#,
                "x".repeat(200)
            )
            .into_bytes(),
            headers: vec![(
                "content-type".into(),
                b"application/cloudevents+json".to_vec(),
            )],
            event_id: id.into(),
            appended_at_ms: 1_000 + id.len() as i64,
        }
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

    #[tokio::test]
    async fn reopen_keeps_records_and_numbering_continues() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (spool, _) = Spool::open(dir.path(), BIG).unwrap();
            spool
                .append(vec![rec("a"), rec("b"), rec("c")])
                .await
                .unwrap();
            // the highest numbers go: they must still not be handed out again
            spool.remove(&[Seq(2), Seq(3)]).unwrap();
        }
        let (spool, recovery) = Spool::open(dir.path(), BIG).unwrap();
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
        let dir = tempfile::tempdir().unwrap();
        {
            let (spool, _) = Spool::open(dir.path(), BIG).unwrap();
            spool
                .append(vec![rec("a"), rec("b"), rec("c")])
                .await
                .unwrap();
            spool.remove(&[Seq(1), Seq(3)]).unwrap();
        }
        let (spool, recovery) = Spool::open(dir.path(), BIG).unwrap();
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
        let dir = tempfile::tempdir().unwrap();
        {
            let (spool, _) = Spool::open(dir.path(), BIG).unwrap();
            spool
                .append(vec![rec("a"), rec("b"), rec("c")])
                .await
                .unwrap();
        }
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
        let dir = tempfile::tempdir().unwrap();
        let (spool, _) = Spool::open(dir.path(), BIG).unwrap();
        spool
            .append(vec![rec("a"), rec("b"), rec("c")])
            .await
            .unwrap();
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
}
