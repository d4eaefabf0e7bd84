//! The Kafka output with a durable local spool in front of the producer. In
//! `fallback` mode a record goes to the broker as without a spool, and to the spool
//! when the broker cannot acknowledge it (and so does every record behind it, until
//! the spool is drained, so one key's events stay in order). In `always` mode every
//! record is appended (group commit) and answered before the broker sees it. Either
//! way a 2xx means the record is on disk or in Kafka; a drainer thread produces the
//! spool to Kafka in order and removes each record only after its acknowledgement.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use tokio::sync::{watch, Notify};

use super::record::Record;
use super::{KafkaOutput, KafkaOutputConfig};
use crate::event::{CanonicalEvent, DeadLetter};
use crate::output::spool::{Seq, Spool, SpoolConfig, SpoolError, SpoolMode, SpoolRecord};
use crate::output::{Output, OutputError, Readiness};
use crate::telemetry::events;

/// Records produced per drain round: enough in flight to keep the broker busy.
const DRAIN_BATCH: usize = 1024;
/// Retry pace of the drainer while the broker is away.
const MIN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Below this much free room the spool counts as full for `/readyz`.
const READY_HEADROOM: u64 = 256 * 1024;

pub struct SpooledKafka {
    producer: Arc<KafkaOutput>,
    spool: Arc<Spool>,
    mode: SpoolMode,
    /// Appends handed to the spool and not yet committed: with the spool's own
    /// count, whether new records must queue behind older ones.
    appending: AtomicU64,
    wake: Arc<Notify>,
    /// `Some(deadline)` once shutdown asked the drainer to finish.
    stop: watch::Sender<Option<Instant>>,
    drainer: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Why the last drain round failed, for `/readyz`.
    last_error: Arc<Mutex<Option<String>>>,
}

impl SpooledKafka {
    /// Opens the spool (recovering what a previous run left) and starts its drainer.
    pub fn open(
        config: &KafkaOutputConfig,
        spool: &SpoolConfig,
        base_dir: &Path,
    ) -> Result<Self, String> {
        let producer = Arc::new(KafkaOutput::new(config).map_err(|e| e.to_string())?);
        let dir = if spool.path.is_absolute() {
            spool.path.clone()
        } else {
            base_dir.join(&spool.path)
        };
        let (store, recovery) = Spool::open(&dir, spool.max_bytes.as_u64())
            .map_err(|e| format!("spool {}: {e}", dir.display()))?;
        events::SpoolOpened {
            path: &dir,
            records: recovery.records,
            bytes: recovery.bytes,
            quarantined_records: recovery.quarantined_records,
            moved_aside: &recovery.quarantined_files,
            salvaged_records: recovery.salvaged_records,
        }
        .emit();
        let store = Arc::new(store);
        let wake = Arc::new(Notify::new());
        let (stop, stop_rx) = watch::channel(None);
        let last_error = Arc::new(Mutex::new(None));
        let drainer = Drainer {
            producer: producer.clone(),
            spool: store.clone(),
            wake: wake.clone(),
            stop: stop_rx,
            last_error: last_error.clone(),
        };
        let handle = std::thread::Builder::new()
            .name("hookgate-spool-drainer".into())
            .spawn(move || drainer.run())
            .map_err(|e| format!("cannot start the spool drainer: {e}"))?;
        Ok(Self {
            producer,
            spool: store,
            mode: spool.mode,
            appending: AtomicU64::new(0),
            wake,
            stop,
            drainer: Mutex::new(Some(handle)),
            last_error,
        })
    }

    /// Whether records must go behind older ones on the spool.
    fn spooling(&self) -> bool {
        self.appending.load(Ordering::Acquire) > 0 || !self.spool.is_empty()
    }

    async fn write(&self, record: Record, event_id: String) -> Result<(), OutputError> {
        if self.mode == SpoolMode::Fallback && !self.spooling() {
            match self.producer.produce(&record).await {
                Ok(()) => return Ok(()),
                // The broker refuses the record itself, or it cannot be encoded:
                // the spool would hold it forever.
                Err(e @ (OutputError::Rejected(_) | OutputError::Encode(_))) => return Err(e),
                Err(e) => events::SpoolFallback { cause: &e }.emit(),
            }
        }
        self.append(record, event_id).await
    }

    async fn append(&self, record: Record, event_id: String) -> Result<(), OutputError> {
        crate::telemetry::trace::spooled();
        let record = SpoolRecord {
            topic: record.topic,
            key: record.key,
            value: record.value,
            headers: record.headers,
            event_id,
            appended_at_ms: now_ms(),
        };
        self.appending.fetch_add(1, Ordering::AcqRel);
        let result = self.spool.append(vec![record]).await;
        self.appending.fetch_sub(1, Ordering::AcqRel);
        match result {
            Ok(_) => {
                events::SpoolAppended.emit();
                self.wake.notify_one();
                Ok(())
            }
            Err(e) => {
                events::SpoolAppendFailed {
                    full: matches!(e, SpoolError::Full { .. }),
                    error: &e,
                }
                .emit();
                Err(OutputError::Unavailable(e.to_string()))
            }
        }
    }
}

#[async_trait]
impl Output for SpooledKafka {
    async fn deliver(&self, event: &CanonicalEvent) -> Result<(), OutputError> {
        let record = self.producer.event_record(event)?;
        self.write(record, event.id.to_string()).await
    }

    async fn dead_letter(&self, record: &DeadLetter) -> Result<(), OutputError> {
        let r = self.producer.dead_letter_record(record)?;
        self.write(r, record.id.to_string()).await
    }

    async fn ready(&self) -> Result<Readiness, OutputError> {
        // Without its schema id no record can be written, not even to the spool.
        self.producer.check_registry().await?;
        let stats = self.spool.stats();
        if stats.max_bytes.saturating_sub(stats.used_bytes()) < READY_HEADROOM {
            return Err(OutputError::Unavailable(format!(
                "the spool is full ({} records, {} of {} bytes; {} of them quarantined)",
                stats.records,
                stats.used_bytes(),
                stats.max_bytes,
                stats.quarantined_bytes
            )));
        }
        let broker = self.producer.check_broker().await;
        let last_error = self
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        Ok(match (broker, stats.records) {
            (Ok(()), 0) => Readiness::Ready,
            (Ok(()), n) => Readiness::Spooling {
                records: n,
                reason: last_error.unwrap_or_else(|| "draining the spool to Kafka".to_owned()),
            },
            (Err(e), n) => Readiness::Spooling {
                records: n,
                reason: e.to_string(),
            },
        })
    }

    async fn shutdown(&self, budget: Duration) {
        let _ = self.stop.send(Some(Instant::now() + budget));
        self.wake.notify_one();
        let handle = self
            .drainer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(h) = handle {
            if tokio::task::spawn_blocking(move || h.join()).await.is_err() {
                tracing::error!("the spool drainer thread panicked");
            }
        }
        self.producer.flush(Duration::from_secs(2)).await;
        let left = self.spool.stats();
        if left.records > 0 {
            tracing::warn!(
                records = left.records,
                bytes = left.bytes,
                "shutting down with records on the spool: they are kept on disk and drained at the next start"
            );
        }
    }

    fn observe(&self) {
        let stats = self.spool.stats();
        let waited_ms = stats
            .oldest_appended_at_ms
            .map_or(0, |t| (now_ms() - t).max(0));
        events::SpoolObserved {
            records: stats.records,
            bytes: stats.bytes,
            quarantined_records: stats.quarantined_records,
            quarantined_bytes: stats.quarantined_bytes,
            oldest_age: Duration::from_millis(waited_ms.unsigned_abs()),
        }
        .emit();
    }

    fn kind(&self) -> &'static str {
        "kafka"
    }

    /// In `always` mode every record is queued for the spool's next commit as
    /// it is handed over, in order (and refused only when the spool is full). In `fallback`
    /// mode a record the broker fails goes to the spool while later ones of the
    /// batch may already be in Kafka: one after the other, then.
    fn concurrent_batches(&self) -> bool {
        self.mode == SpoolMode::Always
    }
}

/// Produces the spool to Kafka, oldest first, on its own thread and runtime (so it
/// drains whatever the request workers are doing, and on shutdown after they stop).
struct Drainer {
    producer: Arc<KafkaOutput>,
    spool: Arc<Spool>,
    wake: Arc<Notify>,
    stop: watch::Receiver<Option<Instant>>,
    last_error: Arc<Mutex<Option<String>>>,
}

impl Drainer {
    fn run(mut self) {
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                tracing::error!(error = %e, "cannot start the spool drainer's runtime: the spool is not drained");
                return;
            }
        };
        rt.block_on(async move { self.drain().await });
    }

    async fn drain(&mut self) {
        let mut backoff = MIN_BACKOFF;
        loop {
            let deadline = *self.stop.borrow_and_update();
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return;
            }
            let spool = self.spool.clone();
            let batch =
                match tokio::task::spawn_blocking(move || spool.peek(None, DRAIN_BATCH)).await {
                    Ok(Ok(batch)) => batch,
                    Ok(Err(e)) => {
                        self.failed("store", &e);
                        self.pause(&mut backoff).await;
                        continue;
                    }
                    Err(e) => {
                        self.failed("store", &e);
                        self.pause(&mut backoff).await;
                        continue;
                    }
                };
            if batch.is_empty() {
                if deadline.is_some() {
                    return;
                }
                tokio::select! {
                    () = self.wake.notified() => {}
                    _ = self.stop.changed() => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                continue;
            }
            match self.produce(batch).await {
                Ok(()) => {
                    backoff = MIN_BACKOFF;
                    *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = None;
                }
                Err(()) => self.pause(&mut backoff).await,
            }
        }
    }

    /// One round: every record handed to the producer in order, then each ack
    /// awaited; acknowledged records are removed, refused ones quarantined. `Err`
    /// when the broker failed any (they stay, the oldest, for the next round).
    async fn produce(&self, batch: Vec<(Seq, SpoolRecord)>) -> Result<(), ()> {
        let sent: Vec<_> = batch
            .into_iter()
            .map(|(seq, r)| {
                let record = Record {
                    topic: r.topic,
                    key: r.key,
                    value: r.value,
                    headers: r.headers,
                };
                (seq, r.event_id, self.producer.send(&record))
            })
            .collect();
        let (mut acked, mut refused, mut broker_error) = (Vec::new(), Vec::new(), None);
        for (seq, event_id, in_flight) in sent {
            let result = match in_flight {
                Ok(f) => f.acked(&self.producer).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => acked.push(seq),
                Err(OutputError::Rejected(why)) => refused.push((seq, event_id, why)),
                Err(e) => {
                    broker_error.get_or_insert(e);
                }
            }
        }
        let drained = acked.len() as u64;
        let spool = self.spool.clone();
        let removed = tokio::task::spawn_blocking(move || {
            spool.remove(&acked)?;
            for (seq, event_id, why) in &refused {
                events::SpoolRecordRefused { event_id, why }.emit();
                spool.quarantine(*seq, format!("refused by the broker: {why}"))?;
            }
            Ok::<(), SpoolError>(())
        })
        .await;
        match removed {
            Ok(Ok(())) => events::SpoolDrained { records: drained }.emit(),
            // Not removed: produced again next round, with the same ids.
            Ok(Err(e)) => {
                self.failed("store", &e);
                return Err(());
            }
            Err(e) => {
                self.failed("store", &e);
                return Err(());
            }
        }
        match broker_error {
            None => Ok(()),
            Some(e) => {
                self.failed("broker", &e);
                Err(())
            }
        }
    }

    fn failed(&self, kind: &'static str, error: &dyn std::fmt::Display) {
        events::SpoolDrainFailed { kind, error }.emit();
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(error.to_string());
    }

    /// Waits before the next round, woken early by a stop.
    async fn pause(&mut self, backoff: &mut Duration) {
        tokio::select! {
            () = tokio::time::sleep(*backoff) => {}
            _ = self.stop.changed() => {}
        }
        *backoff = (*backoff * 2).min(MAX_BACKOFF);
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
