//! The gateway's failure branches, without a broker or Redis: a channel-backed fake
//! output and a fake dedup store (after the svix bridge's `FakeReceiverOutput`)
//! stand in, so each branch is driven on purpose and what the fakes saw is checked.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::*;
use crate::dedup::{ClaimToken, DedupError, MemoryStore};
use crate::event::{CanonicalEvent, DeadLetter, EventValidator};
use crate::mapping::MappingSet;
use crate::output::{OutputError, Readiness};
use crate::source::SourceConfig;

/// What the fakes saw, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Delivered(String),
    DeadLettered(String),
    Claimed,
    Committed,
    Released,
}

/// An output that reports every record on a channel and fails or panics on demand.
struct FakeOutput {
    seen: mpsc::UnboundedSender<Seen>,
    fail: AtomicBool,
    panic: AtomicBool,
    /// Deliveries that succeed before the output fails (a broker lost mid-batch).
    budget: AtomicUsize,
    /// Batches written at once ([`Output::concurrent_batches`]); then the call
    /// numbered `late_failure` fails only after the others were handed over.
    concurrent: AtomicBool,
    calls: AtomicUsize,
    late_failure: AtomicUsize,
}

#[async_trait]
impl Output for FakeOutput {
    async fn deliver(&self, event: &CanonicalEvent) -> Result<(), OutputError> {
        if self.panic.load(Ordering::SeqCst) {
            panic!("fake output panicked on purpose");
        }
        if self.fail.load(Ordering::SeqCst)
            || self
                .budget
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| b.checked_sub(1))
                .is_err()
        {
            return Err(OutputError::Unavailable("fake broker down".into()));
        }
        if self.concurrent.load(Ordering::SeqCst) {
            let call = self.calls.fetch_add(1, Ordering::SeqCst);
            let fails = call == self.late_failure.load(Ordering::SeqCst);
            if !fails {
                let _ = self.seen.send(Seen::Delivered(event.ty.clone()));
            }
            // The acknowledgement comes later, after the whole batch was handed over.
            tokio::task::yield_now().await;
            if fails {
                return Err(OutputError::Unavailable("fake broker failed it".into()));
            }
            return Ok(());
        }
        let _ = self.seen.send(Seen::Delivered(event.ty.clone()));
        Ok(())
    }

    async fn dead_letter(&self, record: &DeadLetter) -> Result<(), OutputError> {
        let _ = self
            .seen
            .send(Seen::DeadLettered(record.reason.as_str().to_owned()));
        Ok(())
    }

    async fn ready(&self) -> Result<Readiness, OutputError> {
        Ok(Readiness::Ready)
    }

    async fn shutdown(&self, _budget: std::time::Duration) {}

    fn kind(&self) -> &'static str {
        "fake"
    }

    fn concurrent_batches(&self) -> bool {
        self.concurrent.load(Ordering::SeqCst)
    }
}

/// A memory store that reports claims, commits and releases, and can be made
/// unreachable.
struct FakeDedup {
    inner: MemoryStore,
    seen: mpsc::UnboundedSender<Seen>,
    down: AtomicBool,
}

#[async_trait]
impl DedupStore for FakeDedup {
    async fn claim(&self, key: &DedupKey, wait: Duration) -> Result<Claim, DedupError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(DedupError::Unavailable("fake redis down".into()));
        }
        let _ = self.seen.send(Seen::Claimed);
        self.inner.claim(key, wait).await
    }

    async fn commit(&self, key: &DedupKey, token: ClaimToken) -> Result<(), DedupError> {
        let _ = self.seen.send(Seen::Committed);
        self.inner.commit(key, token).await
    }

    async fn release(&self, key: &DedupKey, token: ClaimToken) {
        let _ = self.seen.send(Seen::Released);
        self.inner.release(key, token).await
    }

    fn entry_count(&self) -> u64 {
        self.inner.entry_count()
    }
}

struct Rig {
    gateway: Arc<Gateway>,
    output: Arc<FakeOutput>,
    dedup: Arc<FakeDedup>,
    seen: tokio::sync::Mutex<mpsc::UnboundedReceiver<Seen>>,
}

impl Rig {
    fn new(on_unavailable: OnUnavailable) -> Self {
        Self::with_source(
            on_unavailable,
            "id = \"m\"\nprovider = \"magalu-sac\"\nallow_unauthenticated = true\n",
        )
    }

    fn with_source(on_unavailable: OnUnavailable, source: &str) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let mappings = MappingSet::load(&[]).unwrap_or_else(|e| panic!("{e:?}"));
        let source: SourceConfig = toml::from_str(source).unwrap_or_else(|e| panic!("{e}"));
        let source = source
            .compile(0, &mappings)
            .unwrap_or_else(|e| panic!("{e}"));
        let output = Arc::new(FakeOutput {
            seen: tx.clone(),
            fail: AtomicBool::new(false),
            panic: AtomicBool::new(false),
            budget: AtomicUsize::new(usize::MAX),
            concurrent: AtomicBool::new(false),
            calls: AtomicUsize::new(0),
            late_failure: AtomicUsize::new(usize::MAX),
        });
        let dedup = Arc::new(FakeDedup {
            inner: MemoryStore::new(Duration::from_secs(60), 1000),
            seen: tx,
            down: AtomicBool::new(false),
        });
        let engine = Engine::new(EventValidator::new().unwrap_or_else(|e| panic!("{e}")));
        let gateway = Arc::new(Gateway::new(
            vec![source],
            engine,
            dedup.clone(),
            DedupPolicy {
                in_flight_wait: Duration::from_millis(100),
                on_unavailable,
            },
            output.clone(),
        ));
        Self {
            gateway,
            output,
            dedup,
            seen: tokio::sync::Mutex::new(rx),
        }
    }

    async fn post(&self, body: &str) -> Result<Outcome, GatewayError> {
        let req = Unverified {
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::copy_from_slice(body.as_bytes()),
            peer: None,
            path_token: None,
            query: None,
        };
        self.gateway.handle_request("m", req).await
    }

    /// What the fakes saw since the last call. The pipeline reports before its
    /// answer, so this needs no wait; only a claim released from `Drop` (a task
    /// that panicked) comes later, and [`Rig::seen_at_least`] waits for that.
    async fn seen(&self) -> Vec<Seen> {
        let mut rx = self.seen.lock().await;
        let mut out = Vec::new();
        while let Ok(s) = rx.try_recv() {
            out.push(s);
        }
        out
    }

    /// What the fakes saw since the last call, once it is at least `n` things
    /// (panics if that takes more than 10 s).
    async fn seen_at_least(&self, n: usize) -> Vec<Seen> {
        let mut rx = self.seen.lock().await;
        let mut out = Vec::new();
        while out.len() < n {
            match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
                Ok(Some(s)) => out.push(s),
                _ => panic!("only {out:?} within 10 s, waiting for {n}"),
            }
        }
        while let Ok(s) = rx.try_recv() {
            out.push(s);
        }
        out
    }
}

const TICKET: &str = r#"{"data":{"status":"CREATION","params":{"id":"t1"},"resource":"/v0/tickets/t1"},"tenant_id":"x","topic":"sac_ticket"}"#;

#[tokio::test]
async fn an_output_failure_releases_the_claim_and_the_retry_delivers() {
    let rig = Rig::new(OnUnavailable::Open);
    rig.output.fail.store(true, Ordering::SeqCst);
    let e = rig.post(TICKET).await.err();
    assert!(
        matches!(&e, Some(GatewayError::Unavailable(cause)) if cause.contains("fake broker down")),
        "{e:?}"
    );
    assert_eq!(rig.seen().await, [Seen::Claimed, Seen::Released]);
    rig.output.fail.store(false, Ordering::SeqCst);
    let ok = rig.post(TICKET).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ok.status(), "accepted");
    assert_eq!(
        rig.seen().await,
        [
            Seen::Claimed,
            Seen::Delivered("ticket.created".into()),
            Seen::Committed
        ]
    );
    let again = rig.post(TICKET).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.status(), "duplicate");
    assert_eq!(rig.seen().await, [Seen::Claimed], "nothing written twice");
}

#[tokio::test]
async fn dedup_unavailable_fail_closed_answers_503_and_writes_nothing() {
    let rig = Rig::new(OnUnavailable::Closed);
    rig.dedup.down.store(true, Ordering::SeqCst);
    let e = rig.post(TICKET).await.err();
    assert!(
        matches!(&e, Some(GatewayError::Unavailable(cause)) if cause.contains("fake redis down")),
        "{e:?}"
    );
    assert_eq!(rig.seen().await, []);
}

#[tokio::test]
async fn dedup_unavailable_fail_open_delivers_without_a_claim() {
    let rig = Rig::new(OnUnavailable::Open);
    rig.dedup.down.store(true, Ordering::SeqCst);
    let ok = rig.post(TICKET).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ok.status(), "accepted");
    assert_eq!(rig.seen().await, [Seen::Delivered("ticket.created".into())]);
}

#[tokio::test]
async fn a_panicking_pipeline_is_a_503_with_its_cause_and_releases_its_claim() {
    let rig = Rig::new(OnUnavailable::Open);
    rig.output.panic.store(true, Ordering::SeqCst);
    let e = rig.post(TICKET).await.err();
    assert!(
        matches!(&e, Some(GatewayError::Unavailable(cause)) if cause.contains("panicked on purpose")),
        "{e:?}"
    );
    // The claim guard, dropped by the unwinding task, gives the claim back from a
    // task of its own: waited for.
    assert_eq!(rig.seen_at_least(2).await, [Seen::Claimed, Seen::Released]);
    rig.output.panic.store(false, Ordering::SeqCst);
    assert_eq!(
        rig.post(TICKET).await.map(|o| o.status()).ok(),
        Some("accepted")
    );
}

#[tokio::test]
async fn an_unmappable_delivery_is_dead_lettered_once() {
    let rig = Rig::new(OnUnavailable::Open);
    let ok = rig
        .post("{not json")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ok.status(), "dead_lettered");
    assert_eq!(
        rig.seen().await,
        [
            Seen::Claimed,
            Seen::DeadLettered("malformed_json".into()),
            Seen::Committed
        ]
    );
    let again = rig
        .post("{not json")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.status(), "duplicate");
}

/// Three LINE events in one delivery (LINE's documented batch shape).
const LINE_BATCH: &str = r#"{"destination":"U1","events":[
{"type":"message","webhookEventId":"01A","timestamp":1767225600000,"source":{"type":"user","userId":"U2"},"message":{"type":"text","id":"1","text":"one"}},
{"type":"message","webhookEventId":"01B","timestamp":1767225601000,"source":{"type":"user","userId":"U2"},"message":{"type":"text","id":"2","text":"two"}},
{"type":"message","webhookEventId":"01C","timestamp":1767225602000,"source":{"type":"user","userId":"U2"},"message":{"type":"text","id":"3","text":"three"}}]}"#;

#[tokio::test]
async fn an_output_failure_mid_batch_is_a_503_and_the_retry_delivers_only_the_rest() {
    let rig = Rig::with_source(
        OnUnavailable::Closed,
        "id = \"m\"\nprovider = \"line\"\nallow_unauthenticated = true\n",
    );
    rig.output.budget.store(1, Ordering::SeqCst);
    let e = rig.post(LINE_BATCH).await.err();
    assert!(
        matches!(&e, Some(GatewayError::Unavailable(cause)) if cause.contains("fake broker down")),
        "{e:?}"
    );
    // The first item is safe and its claim kept; the second failed and was released;
    // the third was never claimed.
    assert_eq!(
        rig.seen().await,
        [
            Seen::Claimed,
            Seen::Delivered("message.created".into()),
            Seen::Committed,
            Seen::Claimed,
            Seen::Released
        ]
    );
    rig.output.budget.store(usize::MAX, Ordering::SeqCst);
    let ok = rig.post(LINE_BATCH).await.unwrap_or_else(|e| panic!("{e}"));
    let statuses: Vec<_> = ok.items.iter().map(Outcome::status).collect();
    assert_eq!(statuses, ["duplicate", "accepted", "accepted"]);
    assert_eq!(
        rig.seen().await,
        [
            Seen::Claimed,
            Seen::Claimed,
            Seen::Delivered("message.created".into()),
            Seen::Committed,
            Seen::Claimed,
            Seen::Delivered("message.created".into()),
            Seen::Committed
        ],
        "only the undelivered items are written"
    );
}

#[tokio::test]
async fn a_batch_repeating_an_id_writes_it_once() {
    let rig = Rig::with_source(
        OnUnavailable::Closed,
        "id = \"m\"\nprovider = \"line\"\nallow_unauthenticated = true\n",
    );
    let twice = LINE_BATCH.replace("\"01B\"", "\"01A\"");
    let ok = rig.post(&twice).await.unwrap_or_else(|e| panic!("{e}"));
    let statuses: Vec<_> = ok.items.iter().map(Outcome::status).collect();
    assert_eq!(statuses, ["accepted", "duplicate", "accepted"]);
    let delivered = rig
        .seen()
        .await
        .into_iter()
        .filter(|s| matches!(s, Seen::Delivered(_)))
        .count();
    assert_eq!(delivered, 2);
}

#[tokio::test]
async fn a_batch_written_at_once_keeps_every_written_items_claim_past_a_failure() {
    let rig = Rig::with_source(
        OnUnavailable::Closed,
        "id = \"m\"\nprovider = \"line\"\nallow_unauthenticated = true\n",
    );
    rig.output.concurrent.store(true, Ordering::SeqCst);
    rig.output.late_failure.store(1, Ordering::SeqCst);
    let e = rig.post(LINE_BATCH).await.err();
    assert!(
        matches!(&e, Some(GatewayError::Unavailable(cause)) if cause.contains("fake broker failed it")),
        "{e:?}"
    );
    // All claimed, all handed over; the second failed. The third reached the
    // output: it keeps its claim, so the retry writes the second only.
    assert_eq!(
        rig.seen().await,
        [
            Seen::Claimed,
            Seen::Claimed,
            Seen::Claimed,
            Seen::Delivered("message.created".into()),
            Seen::Delivered("message.created".into()),
            Seen::Committed,
            Seen::Released,
            Seen::Committed
        ]
    );
    rig.output.late_failure.store(usize::MAX, Ordering::SeqCst);
    let ok = rig.post(LINE_BATCH).await.unwrap_or_else(|e| panic!("{e}"));
    let statuses: Vec<_> = ok.items.iter().map(Outcome::status).collect();
    assert_eq!(statuses, ["duplicate", "accepted", "duplicate"]);
    assert_eq!(
        rig.seen().await,
        [
            Seen::Claimed,
            Seen::Claimed,
            Seen::Claimed,
            Seen::Delivered("message.created".into()),
            Seen::Committed
        ]
    );
}
