//! Files and folders only their owner may use: what the outputs write holds signed,
//! replayable deliveries (dead letters, the spool) and personal data (events).

use std::path::Path;

/// Creates the folders of `dir` that are missing, each 0700; folders already there
/// are the operator's and keep their mode.
pub(crate) fn dir_all(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Opens `path` with `options`, a new file 0600 (whatever the umask). A regular file already
/// there that others may read or write is tightened to 0600, and the log says so:
/// hookgate owns these files, and a mode left from before this rule would keep them
/// readable. A file whose mode cannot be changed (another owner's) is used as it is,
/// with a warning.
pub(crate) fn open(
    options: &mut std::fs::OpenOptions,
    path: &Path,
) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let f = options.mode(0o600).open(path)?;
    let meta = f.metadata()?;
    let mode = meta.permissions().mode() & 0o777;
    // A device or a pipe (`/dev/stdout`) is not a file of ours to change.
    if meta.is_file() && mode & 0o077 != 0 {
        match f.set_permissions(std::fs::Permissions::from_mode(mode & 0o700)) {
            Ok(()) => tracing::warn!(
                path = %path.display(),
                was = format_args!("{mode:04o}"),
                now = format_args!("{:04o}", mode & 0o700),
                "file was readable by others: restricted to its owner"
            ),
            Err(e) => tracing::warn!(
                path = %path.display(),
                mode = format_args!("{mode:04o}"),
                error = %e,
                "file is readable by others and its mode cannot be changed"
            ),
        }
    }
    Ok(f)
}

/// `open` for a file another library opens itself (SQLite's store and its side
/// files), by path, so no descriptor of ours is closed under the library's locks:
/// a missing file is left missing, one others may use is tightened to 0600.
pub(crate) fn tighten(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mode = meta.permissions().mode() & 0o777;
    if meta.is_file() && mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))?;
        tracing::warn!(
            path = %path.display(),
            was = format_args!("{mode:04o}"),
            now = format_args!("{:04o}", mode & 0o700),
            "file was readable by others: restricted to its owner"
        );
    }
    Ok(())
}

/// Creates `path` empty and 0600 if it is missing (SQLite then writes its database
/// into it, and gives the `-wal` and `-shm` files it creates the same mode), else
/// `tighten`s it.
pub(crate) fn create_or_tighten(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => tighten(path),
        Err(e) => Err(e),
    }
}
