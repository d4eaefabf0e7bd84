//! Opening the spool store and recovering what it holds: every record checked, the
//! ones that fail moved to the quarantine table; a store file that cannot be used
//! at all moved aside, its readable records salvaged into a fresh one. Nothing is
//! deleted.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, ErrorCode, OptionalExtension};

use super::codec::{self, Seq};
use super::error::{db, SpoolError};
use super::writer::{now_ms, quarantine_row};
use crate::output::owner_only;

/// The store file in the spool directory.
pub(super) const DB_FILE: &str = "spool.db";
/// SQLite keeps these beside the database; they belong to it and move with it.
pub(super) const DB_SIDE_FILES: [&str; 2] = ["spool.db-wal", "spool.db-shm"];
/// The WAL is truncated to this after a checkpoint, so a burst does not leave it large.
const WAL_SIZE_LIMIT: i64 = 64 << 20;

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

/// Opens the store at `dir/DB_FILE` and recovers it (see [`open_verified`]); an
/// unusable one is moved aside and a fresh store gets what could be salvaged.
pub(super) fn recover(dir: &Path) -> Result<(Connection, Scan, Recovery), SpoolError> {
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
    Ok((conn, scan, recovery))
}

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

pub(super) struct Scan {
    pub(super) records: u64,
    pub(super) bytes: u64,
    /// Records moved to the quarantine table by this scan.
    pub(super) quarantined: u64,
    /// Everything in the quarantine table after the scan (earlier runs' too).
    pub(super) quarantine_records: u64,
    pub(super) quarantine_bytes: u64,
    pub(super) oldest_appended_at_ms: Option<i64>,
    pub(super) next_seq: u64,
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
