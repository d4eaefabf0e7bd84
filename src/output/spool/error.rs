//! What the spool store fails with, and how SQLite's errors map onto it.

use std::path::PathBuf;

use rusqlite::ErrorCode;

use super::codec;

/// Why a spool operation failed.
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

pub(super) fn db(e: rusqlite::Error) -> SpoolError {
    db_error(&e)
}

/// SQLite integers are i64; sequence numbers start at 1 and grow by one per record, so
/// they never get near the limit, but a corrupt meta row could claim otherwise.
pub(super) fn to_sql_seq(seq: u64) -> Result<i64, SpoolError> {
    i64::try_from(seq).map_err(|_| SpoolError::Corrupt(format!("sequence {seq} out of range")))
}
