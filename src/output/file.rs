//! The embedded outputs: newline-delimited JSON to files (or stdout), written by a
//! dedicated thread that batches concurrent records into one write and one fsync
//! (group commit), and acknowledges each record only after that.

use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use super::{Output, OutputError, Readiness};
use crate::event::{CanonicalEvent, DeadLetter};

type Ack = oneshot::Sender<Result<(), String>>;

/// A line-oriented sink served by its own thread.
#[derive(Clone)]
pub struct LineSink {
    tx: mpsc::Sender<(Vec<u8>, Ack)>,
    name: String,
}

const MAX_BATCH: usize = 512;

impl LineSink {
    /// Appends to `path` (created if missing); `fsync` makes every acknowledged
    /// record survive a power loss, at the cost of one fsync per batch. The file is
    /// the owner's alone (0600, folders made for it 0700): dead letters keep signed,
    /// replayable deliveries and events carry personal data.
    pub fn file(path: &Path, fsync: bool) -> std::io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            super::owner_only::dir_all(dir)?;
        }
        let f =
            super::owner_only::open(std::fs::OpenOptions::new().create(true).append(true), path)?;
        Ok(Self::spawn(
            path.display().to_string(),
            Box::new(f),
            fsync.then_some(()),
        ))
    }

    pub fn stdout() -> Self {
        Self::spawn("stdout".to_owned(), Box::new(std::io::stdout()), None)
    }

    fn spawn(name: String, mut w: Box<dyn SyncWrite>, fsync: Option<()>) -> Self {
        let (tx, mut rx) = mpsc::channel::<(Vec<u8>, Ack)>(4096);
        let thread_name = format!("hookgate-sink-{name}");
        let run = move || {
            let mut batch: Vec<(Vec<u8>, Ack)> = Vec::with_capacity(MAX_BATCH);
            let mut buf = Vec::with_capacity(64 * 1024);
            while let Some(first) = rx.blocking_recv() {
                batch.push(first);
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(item) => batch.push(item),
                        Err(_) => break,
                    }
                }
                buf.clear();
                for (line, _) in &batch {
                    buf.extend_from_slice(line);
                    buf.push(b'\n');
                }
                let result = w
                    .write_all(&buf)
                    .and_then(|()| w.flush())
                    .and_then(|()| if fsync.is_some() { w.sync() } else { Ok(()) })
                    .map_err(|e| e.to_string());
                for (_, ack) in batch.drain(..) {
                    let _ = ack.send(result.clone());
                }
            }
        };
        if let Err(e) = std::thread::Builder::new().name(thread_name).spawn(run) {
            tracing::error!(error = %e, "cannot start the output writer thread");
        }
        Self { tx, name }
    }

    /// Resolves once the line is written (and synced when configured).
    pub async fn write_line(&self, line: Vec<u8>) -> Result<(), OutputError> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send((line, ack))
            .await
            .map_err(|_| OutputError::Unavailable(format!("{}: writer stopped", self.name)))?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(OutputError::Unavailable(format!("{}: {e}", self.name))),
            Err(_) => Err(OutputError::Unavailable(format!(
                "{}: writer stopped",
                self.name
            ))),
        }
    }
}

trait SyncWrite: Write + Send {
    fn sync(&mut self) -> std::io::Result<()>;
}

impl SyncWrite for std::fs::File {
    fn sync(&mut self) -> std::io::Result<()> {
        self.sync_data()
    }
}

impl SyncWrite for std::io::Stdout {
    fn sync(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Events to one sink, dead letters to another (possibly the same).
pub struct FileOutput {
    events: LineSink,
    dead_letters: LineSink,
    kind: &'static str,
    paths: Vec<PathBuf>,
}

impl FileOutput {
    pub fn files(events: &Path, dead_letters: &Path, fsync: bool) -> std::io::Result<Self> {
        Ok(Self {
            events: LineSink::file(events, fsync)?,
            dead_letters: LineSink::file(dead_letters, fsync)?,
            kind: "file",
            paths: vec![events.to_owned(), dead_letters.to_owned()],
        })
    }

    pub fn stdout() -> Self {
        let sink = LineSink::stdout();
        Self {
            events: sink.clone(),
            dead_letters: sink,
            kind: "stdout",
            paths: Vec::new(),
        }
    }
}

#[async_trait]
impl Output for FileOutput {
    async fn deliver(&self, event: &CanonicalEvent) -> Result<(), OutputError> {
        let line = serde_json::to_vec(event).map_err(|e| OutputError::Encode(e.to_string()))?;
        self.events.write_line(line).await
    }

    async fn dead_letter(&self, record: &DeadLetter) -> Result<(), OutputError> {
        let line = serde_json::to_vec(record).map_err(|e| OutputError::Encode(e.to_string()))?;
        self.dead_letters.write_line(line).await
    }

    async fn ready(&self) -> Result<Readiness, OutputError> {
        for p in &self.paths {
            if std::fs::metadata(p).is_err() {
                return Err(OutputError::Unavailable(format!(
                    "{} is missing",
                    p.display()
                )));
            }
        }
        if self.events.tx.is_closed() || self.dead_letters.tx.is_closed() {
            return Err(OutputError::Unavailable("writer stopped".to_owned()));
        }
        Ok(Readiness::Ready)
    }

    async fn shutdown(&self, _budget: std::time::Duration) {}

    fn kind(&self) -> &'static str {
        self.kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    /// Dead letters keep signed bodies and their signature headers (replayable), and
    /// events carry personal data: owner only, whatever the umask (usually 022).
    #[test]
    fn the_files_and_the_folders_made_for_them_are_owner_only() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("{e}"));
        let before = mode(tmp.path());
        let events = tmp.path().join("out").join("events.ndjson");
        let dead = tmp
            .path()
            .join("dl")
            .join("deep")
            .join("dead-letters.ndjson");
        let _out = FileOutput::files(&events, &dead, true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(mode(&events), 0o600);
        assert_eq!(mode(&dead), 0o600);
        for d in ["out", "dl", "dl/deep"] {
            assert_eq!(mode(&tmp.path().join(d)), 0o700, "{d}");
        }
        // A folder that was there already is the operator's: left as it was.
        assert_eq!(mode(tmp.path()), before);
    }

    #[test]
    fn an_existing_file_readable_by_others_is_tightened_and_kept() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let events = tmp.path().join("events.ndjson");
        let dead = tmp.path().join("dead-letters.ndjson");
        for p in [&events, &dead] {
            std::fs::write(p, b"{\"old\":1}\n").unwrap_or_else(|e| panic!("{e}"));
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o644))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let _out = FileOutput::files(&events, &dead, true).unwrap_or_else(|e| panic!("{e}"));
        for p in [&events, &dead] {
            assert_eq!(mode(p), 0o600);
            assert_eq!(
                std::fs::read(p).unwrap_or_default(),
                b"{\"old\":1}\n",
                "appended to, not replaced"
            );
        }
    }
}
