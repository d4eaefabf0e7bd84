//! The running pipeline: sources, verification, the engine, dedup and the output,
//! put together. Knows nothing of HTTP: the `http` module only translates.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::dedup::{Claim, ClaimGuard, DedupKey, DedupStore};
use crate::engine::{Engine, Processed};
use crate::event::{DeadLetterReason, EventId, SourceId};
use crate::mapping::Mapping;
use crate::output::Output;
use crate::verify::{Admitted, RequestHead, SourceAuth, Unverified, VerifyError};

/// One configured source: a URL path segment bound to a provider mapping and the
/// checks its deliveries must pass.
#[derive(Debug)]
pub struct Source {
    pub id: SourceId,
    pub mapping: Arc<Mapping>,
    pub auth: SourceAuth,
    /// Meta's subscription handshake token (`hub.verify_token`).
    pub verify_token: Option<crate::verify::Secret>,
    /// Replay guard for providers without a signed timestamp: events whose own
    /// time is older than this are refused (401 `event_too_old`).
    pub max_event_age: Option<Duration>,
    pub rate_limit: Option<SourceLimits>,
    /// Replaces the mapping's tenant on every event (configuration, so trusted).
    pub tenant: Option<String>,
}

/// A source's request budgets. Only requests that passed the body-free checks
/// (address, URL token, basic auth) spend `authenticated`, so a stranger who knows
/// the source id cannot lock the provider out. A source whose only check is a
/// signature cannot tell a forgery before reading the body: its pre-body budget is
/// `unverified` (larger), and `authenticated` is spent once the signature matched,
/// so forgeries never starve authentic deliveries of their budget.
#[derive(Debug)]
pub struct SourceLimits {
    pub authenticated: RateLimit,
    pub unverified: Option<RateLimit>,
}

/// A per-source request budget (GCRA, from the governor crate).
pub struct RateLimit(governor::DefaultDirectRateLimiter);

impl std::fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RateLimit")
    }
}

impl RateLimit {
    pub fn new(per_second: std::num::NonZeroU32, burst: std::num::NonZeroU32) -> Self {
        let quota = governor::Quota::per_second(per_second).allow_burst(burst);
        Self(governor::RateLimiter::direct(quota))
    }

    /// `Err(wait)` when the budget is spent: how long until the next request fits.
    pub fn check(&self) -> Result<(), Duration> {
        use governor::clock::Clock as _;
        self.0.check().map_err(|not_until| {
            not_until.wait_time_from(governor::clock::DefaultClock::default().now())
        })
    }
}

impl Source {
    /// Answers Meta's `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`:
    /// `Some(challenge)` when this source's mapping declares the handshake and the
    /// token matches (constant time).
    pub fn meta_subscribe<'q>(
        &self,
        mode: Option<&str>,
        token: Option<&str>,
        challenge: Option<&'q str>,
    ) -> Option<&'q str> {
        let expected = self.verify_token.as_ref()?;
        if !self.mapping.handshake().meta_subscribe || mode != Some("subscribe") {
            return None;
        }
        let ok = expected.ct_eq(token?.as_bytes());
        ok.then_some(challenge?)
    }
}

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

/// What happened to a delivery that was answered 2xx.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Accepted {
        id: EventId,
        ty: String,
    },
    Duplicate {
        id: EventId,
    },
    Ignored {
        provider_type: String,
    },
    /// A handshake: answer 200 with exactly this JSON.
    Responded(serde_json::Value),
    DeadLettered {
        id: EventId,
        reason: DeadLetterReason,
    },
}

impl Outcome {
    /// The `outcome` label of `hookgate_requests_total`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Accepted { .. } => "accepted",
            Self::Duplicate { .. } => "duplicate",
            Self::Ignored { .. } => "ignored",
            Self::Responded(_) => "responded",
            Self::DeadLettered { .. } => "dead_lettered",
        }
    }
}

/// Why a delivery was not answered 2xx.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("unknown source")]
    UnknownSource,
    #[error("authentication failed: {0}")]
    Unauthorized(VerifyError),
    /// The output or the dedup store cannot take the event now: retry later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A copy of this event is being delivered by another request right now.
    #[error("a copy of this event is in flight")]
    InFlight,
    /// The source's request budget is spent: retry after this long.
    #[error("rate limited")]
    RateLimited(Duration),
}

/// What reaches the dedup store and the output.
enum Record {
    Event(Box<crate::event::CanonicalEvent>),
    DeadLetter(Box<crate::event::DeadLetter>),
}

/// The gateway currently serving. A reload swaps it whole, so every request sees
/// one configuration from its first byte to its answer.
pub type LiveGateway = arc_swap::ArcSwap<Gateway>;

pub struct Gateway {
    sources: HashMap<String, Arc<Source>>,
    engine: Engine,
    dedup: Arc<dyn DedupStore>,
    dedup_wait: Duration,
    output: Arc<dyn Output>,
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
        dedup_wait: Duration,
        output: Arc<dyn Output>,
    ) -> Self {
        Self {
            sources: sources
                .into_iter()
                .map(|s| (s.id.as_str().to_owned(), Arc::new(s)))
                .collect(),
            engine,
            dedup,
            dedup_wait,
            output,
        }
    }

    /// The same output and dedup store with new sources and mappings: what a
    /// reload builds. Keeping the output means no producer is torn down and no
    /// acknowledged event is in limbo while the new configuration takes over.
    pub fn reconfigured(&self, sources: Vec<Source>, engine: Engine) -> Self {
        Self::new(
            sources,
            engine,
            self.dedup.clone(),
            self.dedup_wait,
            self.output.clone(),
        )
    }

    pub fn sources(&self) -> impl Iterator<Item = &Arc<Source>> {
        self.sources.values()
    }

    pub fn source(&self, id: &str) -> Option<&Arc<Source>> {
        self.sources.get(id)
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
        let admitted = head
            .admit(&source.auth)
            .map_err(GatewayError::Unauthorized)?;
        if let Some(limits) = &source.rate_limit {
            match &limits.unverified {
                Some(pre) => pre.check(),
                None => limits.authenticated.check(),
            }
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
        let verified = admitted
            .verify(body, &source.auth)
            .map_err(GatewayError::Unauthorized)?;
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
        let this = self.clone();
        let task = tokio::spawn(async move {
            let now = Utc::now();
            let mut processed = this
                .engine
                .process(&source.id, &source.mapping, &verified, now);
            if let (Some(tenant), Processed::Event { event, .. }) = (&source.tenant, &mut processed)
            {
                event.tenant = Some(tenant.clone());
            }
            if let (Some(max), Processed::Event { event, .. }) = (source.max_event_age, &processed)
            {
                let too_old = chrono::DateTime::parse_from_rfc3339(&event.time)
                    .map(|t| {
                        now.signed_duration_since(t)
                            .to_std()
                            .is_ok_and(|age| age > max)
                    })
                    .unwrap_or(false);
                if too_old {
                    return Err(GatewayError::Unauthorized(VerifyError::EventTooOld));
                }
            }
            this.deliver(&source.id, processed).await
        });
        task.await
            .map_err(|e| GatewayError::Unavailable(format!("pipeline task failed: {e}")))?
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
        };
        let admission = self.admit(source_id, head)?;
        self.handle(admission, req.body).await
    }

    async fn deliver(
        &self,
        source: &SourceId,
        processed: Processed,
    ) -> Result<Outcome, GatewayError> {
        let record = match processed {
            Processed::Ignored { provider_type } => return Ok(Outcome::Ignored { provider_type }),
            Processed::Respond(v) => return Ok(Outcome::Responded(v)),
            Processed::Event { event, .. } => Record::Event(event),
            Processed::DeadLetter(d) => Record::DeadLetter(d),
        };
        let key = match &record {
            Record::Event(event) => event.id,
            Record::DeadLetter(d) => d.id,
        };
        let dedup_key = DedupKey {
            source: source.clone(),
            id: key,
        };
        let claim = self
            .dedup
            .claim(&dedup_key, self.dedup_wait)
            .await
            .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
        let guard = match claim {
            Claim::Duplicate => return Ok(Outcome::Duplicate { id: key }),
            Claim::InFlight => return Err(GatewayError::InFlight),
            Claim::Acquired(token) => ClaimGuard::new(self.dedup.clone(), dedup_key, token),
        };
        let started = std::time::Instant::now();
        let (result, outcome) = match record {
            Record::Event(event) => (
                self.output.deliver(&event).await,
                Outcome::Accepted {
                    id: key,
                    ty: event.ty,
                },
            ),
            Record::DeadLetter(d) => (
                self.output.dead_letter(&d).await,
                Outcome::DeadLettered {
                    id: key,
                    reason: d.reason,
                },
            ),
        };
        metrics::histogram!(
            crate::telemetry::OUTPUT_ACK_SECONDS,
            "output" => self.output.kind(),
            "result" => if result.is_ok() { "ok" } else { "error" }
        )
        .record(started.elapsed().as_secs_f64());
        match result {
            Ok(()) => {
                if let Err(e) = guard.commit().await {
                    // The event is safe; only its dedup mark is missing, so a retry
                    // may deliver it twice (consumers can dedup on the event id).
                    tracing::warn!(error = %e, "dedup commit failed after delivery");
                }
                Ok(outcome)
            }
            Err(e) => {
                guard.release().await;
                Err(GatewayError::Unavailable(e.to_string()))
            }
        }
    }
}
