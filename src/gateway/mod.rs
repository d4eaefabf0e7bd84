//! The running pipeline: sources, verification, the engine, dedup and the output,
//! put together. Knows nothing of HTTP (the `http` module only translates) nor of
//! the configuration file (`config` assembles a gateway from it).

mod batch;
#[cfg(test)]
mod tests;
mod traced;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::dedup::{Claim, ClaimGuard, DedupKey, DedupPolicy, DedupStore, OnUnavailable};
use crate::engine::Engine;
use crate::event::{Decision, Outcome, Sealer, SourceId};
use crate::output::Output;
use crate::source::Source;
use crate::telemetry::{events, trace};
use crate::verify::{Admitted, RequestHead, Unverified, VerifyError};

/// A request admitted to a source: its body may be read.
#[derive(Debug)]
pub struct Admission {
    source: Arc<Source>,
    admitted: Admitted,
}

impl Admission {
    pub fn source(&self) -> &Source {
        &self.source
    }

    pub fn headers(&self) -> &http::HeaderMap {
        self.admitted.headers()
    }
}

/// Why a delivery was not answered 2xx.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("unknown source")]
    UnknownSource,
    #[error("authentication failed: {0}")]
    Unauthorized(VerifyError),
    /// The output or the dedup store cannot take the event now: retry later. The
    /// cause is for the log, never for the answer.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A copy of this event is being delivered by another request right now.
    #[error("a copy of this event is in flight")]
    InFlight,
    /// The source's request budget is spent: retry after this long.
    #[error("rate limited")]
    RateLimited(Duration),
}

impl GatewayError {
    /// A refused verification: 401, unless the refusal is hookgate's own state
    /// (the provider's keys not loaded yet), which the provider retries.
    fn refused(e: VerifyError) -> Self {
        if e.is_unavailable() {
            Self::Unavailable(e.to_string())
        } else {
            Self::Unauthorized(e)
        }
    }
}

/// The gateway currently serving. A reload swaps it whole, so every request sees
/// one configuration from its first byte to its answer.
pub type LiveGateway = arc_swap::ArcSwap<Gateway>;

pub struct Gateway {
    sources: HashMap<String, Arc<Source>>,
    engine: Engine,
    dedup: Arc<dyn DedupStore>,
    dedup_policy: DedupPolicy,
    output: Arc<dyn Output>,
    /// Seals every dead letter written, so a replay can trust its fields.
    sealer: Sealer,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("sources", &self.sources.keys().collect::<Vec<_>>())
            .field("output", &self.output.kind())
            .finish_non_exhaustive()
    }
}

impl Gateway {
    pub fn new(
        sources: Vec<Source>,
        engine: Engine,
        dedup: Arc<dyn DedupStore>,
        dedup_policy: DedupPolicy,
        output: Arc<dyn Output>,
    ) -> Self {
        Self {
            sources: sources
                .into_iter()
                .map(|s| (s.id.as_str().to_owned(), Arc::new(s)))
                .collect(),
            engine,
            dedup,
            dedup_policy,
            output,
            sealer: Sealer::default(),
        }
    }

    /// Dead letters written from now on are sealed with these keys.
    pub fn with_sealer(mut self, sealer: Sealer) -> Self {
        self.sealer = sealer;
        self
    }

    /// The keys dead letters are sealed with (and replays check them against).
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// The same output and dedup store with new sources and mappings: what a
    /// reload builds. Keeping the output means no producer is torn down and no
    /// acknowledged event is in limbo while the new configuration takes over.
    pub fn reconfigured(&self, sources: Vec<Source>, engine: Engine) -> Self {
        Self::new(
            sources,
            engine,
            self.dedup.clone(),
            self.dedup_policy,
            self.output.clone(),
        )
    }

    pub fn sources(&self) -> impl Iterator<Item = &Arc<Source>> {
        self.sources.values()
    }

    pub fn source(&self, id: &str) -> Option<&Arc<Source>> {
        self.sources.get(id)
    }

    /// The sources whose provider's published keys are not loaded yet (they
    /// answer 503), sorted; asking starts a fetch where one is due.
    pub fn sources_without_keys(&self) -> Vec<&str> {
        let mut waiting: Vec<&str> = self
            .sources
            .values()
            .filter(|s| !s.auth.keys_ready())
            .map(|s| s.id.as_str())
            .collect();
        waiting.sort_unstable();
        waiting
    }

    pub fn output(&self) -> &Arc<dyn Output> {
        &self.output
    }

    pub fn dedup(&self) -> &Arc<dyn DedupStore> {
        &self.dedup
    }

    /// The checks that need no body, and the pre-body request budget: what
    /// decides whether the body is worth reading.
    pub fn admit(&self, source_id: &str, head: RequestHead) -> Result<Admission, GatewayError> {
        let source = self
            .source(source_id)
            .ok_or(GatewayError::UnknownSource)?
            .clone();
        trace::source_known(
            source.id.as_str(),
            source.mapping.provider(),
            head.path_token.is_some(),
        );
        let admitted = head
            .admit(&source.auth)
            .map_err(GatewayError::Unauthorized)?;
        if let Some(limits) = &source.rate_limit {
            limits
                .check_unverified()
                .map_err(GatewayError::RateLimited)?;
        }
        Ok(Admission { source, admitted })
    }

    /// Verifies the body and runs the rest of the pipeline. Everything after
    /// verification runs in its own task: if the caller goes away mid-delivery, the
    /// delivery and its dedup commit still complete, so the provider's retry is a
    /// clean duplicate.
    pub async fn handle(
        self: &Arc<Self>,
        admission: Admission,
        body: bytes::Bytes,
    ) -> Result<Outcome, GatewayError> {
        let Admission { source, admitted } = admission;
        source.auth.prepare_keys(admitted.headers()).await;
        let verified = trace::stage("verify").in_scope(|| {
            admitted.verify(body, &source.auth).map_err(|e| {
                trace::fail(&tracing::Span::current(), e.reason());
                GatewayError::refused(e)
            })
        })?;
        if let Some(limits) = source
            .rate_limit
            .as_ref()
            .filter(|l| l.unverified.is_some())
        {
            limits
                .authenticated
                .check()
                .map_err(GatewayError::RateLimited)?;
        }
        let (this, src) = (self.clone(), source.clone());
        // In the delivery's span: the pipeline's spans are its children.
        let task = tokio::spawn(tracing::Instrument::in_current_span(async move {
            let decision = this
                .engine
                .process(&src.id, &src.mapping, &verified, Utc::now(), &src.policy)
                .map_err(GatewayError::Unauthorized)?;
            // The protocol answer promises the event reached its consumers: not
            // for a dead letter (Discord then shows the interaction failed).
            let answerable = match &decision {
                Decision::Deliver(_) => true,
                Decision::Batch(items) => items.iter().any(|d| matches!(d, Decision::Deliver(_))),
                _ => false,
            };
            let mut outcome = this.complete(&src.id, decision).await?;
            if answerable {
                outcome.answer = src.mapping.answer(&verified);
            }
            Ok(outcome)
        }));
        match task.await {
            Ok(result) => {
                if let Ok(Outcome {
                    decision: Decision::Deliver(event),
                    ..
                }) = &result
                {
                    trace::event_known(&tracing::Span::current(), &event.id, &event.ty);
                }
                result
            }
            Err(e) => {
                let cause = panic_message(e);
                events::PipelinePanicked {
                    source: source.id.as_str(),
                    cause: &cause,
                }
                .emit();
                Err(GatewayError::Unavailable(format!(
                    "the pipeline task failed: {cause}"
                )))
            }
        }
    }

    /// A whole request at once (tests and tools): [`Gateway::admit`], then
    /// [`Gateway::handle`].
    pub async fn handle_request(
        self: &Arc<Self>,
        source_id: &str,
        req: Unverified,
    ) -> Result<Outcome, GatewayError> {
        let head = RequestHead {
            headers: req.headers,
            peer: req.peer,
            path_token: req.path_token,
            query: req.query,
        };
        let admission = self.admit(source_id, head)?;
        self.handle(admission, req.body).await
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Carries a decision out: claims its id, writes it, commits the claim once
    /// the output acknowledged (or releases it so the provider's retry can deliver).
    /// A batch's items are written together ([`batch`]); when one cannot be
    /// written the answer is 503, the items written keep their claims and the
    /// others do not, and the provider's retry delivers exactly those (the others
    /// are duplicates by then). Replays of dead
    /// letters go through here too.
    pub async fn complete(
        &self,
        source: &SourceId,
        decision: Decision,
    ) -> Result<Outcome, GatewayError> {
        match decision {
            Decision::Batch(items) => self.complete_batch(source, items).await,
            one => self.complete_one(source, one).await,
        }
    }

    async fn complete_one(
        &self,
        source: &SourceId,
        mut decision: Decision,
    ) -> Result<Outcome, GatewayError> {
        match self.claim(source, &decision).await? {
            Claimed::Nothing => Ok(Outcome::new(decision)),
            Claimed::Duplicate => Ok(Outcome::duplicate(decision)),
            Claimed::Write(guard) => {
                let result = self.write(source, &mut decision).await;
                settle(guard, result.is_ok()).await;
                result.map(|()| Outcome::new(decision))
            }
        }
    }

    /// Claims the id of `decision`'s record in the dedup store.
    async fn claim(&self, source: &SourceId, decision: &Decision) -> Result<Claimed, GatewayError> {
        let Some(id) = decision.record_id() else {
            return Ok(Claimed::Nothing);
        };
        let key = DedupKey {
            source: source.clone(),
            id,
        };
        let dedup = trace::stage("dedup");
        let claimed = self.dedup.claim(&key, self.dedup_policy.in_flight_wait);
        let claim = match tracing::Instrument::instrument(claimed, dedup.clone()).await {
            Ok(claim) => claim,
            Err(e) => {
                traced::claimed(&dedup, None);
                let open = self.dedup_policy.on_unavailable == OnUnavailable::Open;
                events::DedupUnavailable {
                    error: &e,
                    on_unavailable: if open { "open" } else { "closed" },
                }
                .emit();
                if !open {
                    return Err(GatewayError::Unavailable(e.to_string()));
                }
                // Fail-open: deliver without a claim (a duplicate is possible, a
                // loss is not; consumers can dedup on the deterministic id).
                return Ok(Claimed::Write(None));
            }
        };
        traced::claimed(&dedup, Some(&claim));
        match claim {
            Claim::Duplicate => {
                events::DuplicateAnswered {
                    source: source.as_str(),
                }
                .emit();
                Ok(Claimed::Duplicate)
            }
            Claim::InFlight => Err(GatewayError::InFlight),
            Claim::Acquired(token) => Ok(Claimed::Write(Some(ClaimGuard::new(
                self.dedup.clone(),
                key,
                token,
            )))),
        }
    }

    /// Writes a decision's record to the output; resolves once it is safe.
    async fn write(&self, source: &SourceId, decision: &mut Decision) -> Result<(), GatewayError> {
        let span = self.before_write(decision);
        let started = std::time::Instant::now();
        let result = tracing::Instrument::instrument(self.send(decision), span.clone()).await;
        self.after_write(source, decision, &span, started, result)
    }

    /// The span a record is written in; dead letters are sealed first.
    fn before_write(&self, decision: &mut Decision) -> tracing::Span {
        let span = traced::produce(self.output.kind(), decision);
        if let Decision::DeadLetter(d) = decision {
            self.sealer.seal(d);
        }
        span
    }

    /// Hands the record to the output: resolves once it is safe.
    async fn send(&self, decision: &Decision) -> Result<(), crate::output::OutputError> {
        match decision {
            Decision::Deliver(event) => self.output.deliver(event).await,
            Decision::DeadLetter(d) => self.output.dead_letter(d).await,
            Decision::Ignore { .. } | Decision::Respond(_) | Decision::Batch(_) => Ok(()),
        }
    }

    /// Tells what became of a write (metrics, logs, its span).
    fn after_write(
        &self,
        source: &SourceId,
        decision: &Decision,
        span: &tracing::Span,
        started: std::time::Instant,
        result: Result<(), crate::output::OutputError>,
    ) -> Result<(), GatewayError> {
        if let Err(e) = &result {
            traced::output_failed(span, e);
        }
        events::OutputAcknowledged {
            output: self.output.kind(),
            ok: result.is_ok(),
            elapsed: started.elapsed(),
        }
        .emit();
        if let Err(e) = result {
            return Err(GatewayError::Unavailable(e.to_string()));
        }
        match decision {
            Decision::Deliver(event) => events::EventDelivered {
                source: source.as_str(),
                ty: &event.ty,
            }
            .emit(),
            Decision::DeadLetter(d) => events::DeadLettered {
                source: source.as_str(),
                reason: d.reason.as_str(),
                detail: &d.detail,
            }
            .emit(),
            Decision::Ignore { .. } | Decision::Respond(_) | Decision::Batch(_) => {}
        }
        Ok(())
    }
}

/// What the dedup store's claim means for one record.
enum Claimed {
    /// No record to write (ignored, a protocol answer).
    Nothing,
    /// Written before, within the dedup window.
    Duplicate,
    /// To be written; the claim (`None`: the store is away and the policy is
    /// fail-open) is committed once the output acknowledged.
    Write(Option<ClaimGuard>),
}

/// Commits a written record's claim, or releases it so a retry can deliver.
async fn settle(guard: Option<ClaimGuard>, written: bool) {
    let Some(guard) = guard else { return };
    if written {
        // The record is safe; a missing dedup mark only means a retry may
        // deliver it twice (with the same id, so consumers can dedup).
        if let Err(e) = guard.commit().await {
            events::DedupCommitFailed { error: &e }.emit();
        }
    } else {
        guard.release().await;
    }
}

/// What a panicking task said, for the log.
fn panic_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned()),
        Err(e) => e.to_string(),
    }
}
