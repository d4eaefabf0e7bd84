//! Dead letters come back: a kept dead-letter record is verified again (its kept
//! signature headers against the source's current secrets), mapped with the current
//! mappings and, when it now maps, validated, deduplicated and delivered with its
//! deterministic id. Shared by `hookgate replay` and the inspector's Replay button.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::event::{CanonicalEvent, DeadLetter, Decision, EventId, SealCheck};
use crate::gateway::{Gateway, GatewayError};
use crate::telemetry::trace;
use crate::verify::Unverified;
use tracing::Instrument;

/// Where a record comes from, which decides how far its fields are trusted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Origin {
    /// Read back from the dead-letter topic or file, where anybody with write
    /// access could have put it: its fields are trusted as far as its seal says.
    #[default]
    Stored,
    /// Read back from the dead-letter topic or file, unsealed records accepted
    /// (written before `[dead_letters] keys` was set): the body is still verified
    /// against the provider's signature, but `received_at` is taken as the time of
    /// the replay, so `max_event_age` and the mapping's age checks measure the
    /// event against now.
    StoredTrustingUnsealed,
    /// Kept in this process's memory since it was received (the inspector).
    Memory,
}

/// How a replay treats what it cannot check.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReplayOptions {
    /// Where the record comes from.
    pub origin: Origin,
    /// Replay records of sources that do not sign (token, basic auth, address,
    /// header token, none): nothing kept proves those authentic.
    pub trust_unsigned: bool,
    /// Show what each record would become; deliver nothing.
    pub dry_run: bool,
}

/// What one replayed record became.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ReplayResult {
    /// It now maps: delivered with its deterministic id.
    Replayed {
        id: EventId,
        #[serde(rename = "type")]
        ty: String,
    },
    /// It now maps, and that event was already delivered.
    Duplicate { id: EventId },
    /// Dry run: what it would deliver.
    WouldDeliver { event: Box<CanonicalEvent> },
    /// The mapping declares its event type ignorable now.
    Ignored { provider_type: String },
    /// It still does not map (not dead-lettered again).
    StillFailing { reason: String, detail: String },
    /// Not trusted: its signature does not verify against the source's current
    /// secrets, the source is gone, or it cannot be verified at all.
    Unverifiable { reason: String, detail: String },
    /// The output or the dedup store cannot take it now: replay it again later.
    Unavailable { detail: String },
}

impl ReplayResult {
    /// A short label for summaries.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Replayed { .. } => "replayed",
            Self::Duplicate { .. } => "duplicate",
            Self::WouldDeliver { .. } => "would_deliver",
            Self::Ignored { .. } => "ignored",
            Self::StillFailing { .. } => "still_failing",
            Self::Unverifiable { .. } => "unverifiable",
            Self::Unavailable { .. } => "unavailable",
        }
    }

    /// Whether the record is done with: delivered (now or before) or ignored. A
    /// record still failing, unverifiable or unavailable is kept for a later run.
    pub fn is_done(&self) -> bool {
        matches!(
            self,
            Self::Replayed { .. } | Self::Duplicate { .. } | Self::Ignored { .. }
        )
    }
}

fn unverifiable(reason: &str, detail: impl Into<String>) -> ReplayResult {
    ReplayResult::Unverifiable {
        reason: reason.to_owned(),
        detail: detail.into(),
    }
}

/// When the record was received, as far as it can be trusted; a stored record
/// whose seal is broken (or missing, unless accepted) is refused.
fn received_at(
    gateway: &Gateway,
    record: &DeadLetter,
    origin: Origin,
) -> Result<DateTime<Utc>, ReplayResult> {
    let written = || {
        DateTime::parse_from_rfc3339(&record.received_at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|_| Utc::now())
    };
    let check = gateway.sealer().check(record);
    match (origin, check) {
        (Origin::Memory, _) | (_, SealCheck::Intact) => Ok(written()),
        (_, SealCheck::Broken) => Err(unverifiable(
            check.reason(),
            "the record's seal does not match its fields under any of `[dead_letters] keys`: \
             it was changed or not written by this gateway",
        )),
        (Origin::StoredTrustingUnsealed, SealCheck::Missing | SealCheck::NoKey) => Ok(Utc::now()),
        (Origin::Stored, SealCheck::Missing) => Err(unverifiable(
            check.reason(),
            "the record carries no seal, so its fields cannot be trusted \
             (--trust-unauthenticated replays it as received now)",
        )),
        (Origin::Stored, SealCheck::NoKey) => Err(unverifiable(
            check.reason(),
            "the record is sealed but `[dead_letters] keys` is not configured to check it",
        )),
    }
}

/// Replays one dead-letter record through `gateway` (its sources, mappings, dedup
/// store and output), in a new trace linked to the one the record was written in.
pub async fn replay(
    gateway: &Arc<Gateway>,
    record: &DeadLetter,
    opts: ReplayOptions,
) -> ReplayResult {
    let span = trace::replay(
        &record.source,
        record.traceparent.as_deref(),
        record.tracestate.as_deref(),
    );
    let result = replay_record(gateway, record, opts)
        .instrument(span.clone())
        .await;
    span.record("hookgate.outcome", result.kind());
    result
}

async fn replay_record(
    gateway: &Arc<Gateway>,
    record: &DeadLetter,
    opts: ReplayOptions,
) -> ReplayResult {
    // First whether the record is the gateway's own. Mapped as of its receipt, so `max_event_age` measures the age it had then,
    // when that time is known to be the gateway's; otherwise as of now.
    let received_at = match received_at(gateway, record, opts.origin) {
        Ok(t) => t,
        Err(refused) => return refused,
    };
    let Some(source) = gateway.source(&record.source) else {
        return unverifiable(
            "unknown_source",
            format!("no source `{}` is configured", record.source),
        );
    };
    if source.mapping.provider() != record.provider {
        return unverifiable(
            "provider_changed",
            format!(
                "source `{}` now uses provider `{}`; the record is from `{}`",
                record.source,
                source.mapping.provider(),
                record.provider
            ),
        );
    }
    let body = match record.raw_body() {
        Ok(b) => b,
        Err(e) => return unverifiable("bad_record", e),
    };
    let mut headers = http::HeaderMap::new();
    for (k, v) in &record.headers {
        match (
            http::HeaderName::try_from(k.as_str()),
            http::HeaderValue::from_str(v),
        ) {
            (Ok(name), Ok(value)) => {
                headers.append(name, value);
            }
            _ => return unverifiable("bad_record", format!("kept header `{k}` is not valid")),
        }
    }
    let kept = Unverified {
        headers,
        body: body.into(),
        peer: None,
        path_token: None,
        query: record.query.clone(),
    };
    let verified = match kept.reverify(&source.auth, opts.trust_unsigned) {
        Ok(v) => v,
        Err(e) => return unverifiable(e.reason(), e.to_string()),
    };
    let whole = match gateway.engine().process(
        &source.id,
        &source.mapping,
        &verified,
        received_at,
        &source.policy,
    ) {
        Ok(d) => d,
        Err(refused) => {
            return ReplayResult::StillFailing {
                reason: refused.reason().to_owned(),
                detail: refused.to_string(),
            }
        }
    };
    // One item of a batch: the delivery is mapped whole, and that item taken.
    let decision = match (whole, record.item) {
        (Decision::Batch(mut items), Some(i)) if i < items.len() => items.swap_remove(i),
        // A delivery kept whole (too many items, or too many dead ones): it comes
        // back whole once every item maps.
        (Decision::Batch(items), None) => return replay_batch(gateway, source, items, &opts).await,
        (Decision::Batch(_), _) | (_, Some(_)) => {
            return ReplayResult::StillFailing {
                reason: "batch_changed".to_owned(),
                detail: format!(
                    "the record is item {:?} of a batch, and the current mapping does not split \
                     the delivery that way",
                    record.item
                ),
            }
        }
        (one, None) => one,
    };
    match decision {
        Decision::Batch(_) => ReplayResult::StillFailing {
            reason: "batch_changed".to_owned(),
            detail: "a batch inside a batch".to_owned(),
        },
        Decision::DeadLetter(d) => ReplayResult::StillFailing {
            reason: d.reason.as_str().to_owned(),
            detail: d.detail,
        },
        Decision::Ignore { provider_type } => ReplayResult::Ignored { provider_type },
        Decision::Respond(_) => ReplayResult::Ignored {
            provider_type: "(handshake)".to_owned(),
        },
        Decision::Deliver(event) if opts.dry_run => ReplayResult::WouldDeliver { event },
        Decision::Deliver(event) => {
            let (id, ty) = (event.id, event.ty.clone());
            match gateway.complete(&source.id, Decision::Deliver(event)).await {
                Ok(outcome) if outcome.duplicate => ReplayResult::Duplicate { id },
                Ok(_) => ReplayResult::Replayed { id, ty },
                Err(GatewayError::Unauthorized(e)) => ReplayResult::StillFailing {
                    reason: e.reason().to_owned(),
                    detail: e.to_string(),
                },
                Err(e) => ReplayResult::Unavailable {
                    detail: e.to_string(),
                },
            }
        }
    }
}

/// A whole batched delivery: delivered only when every item now maps (the items
/// already delivered come back as duplicates).
async fn replay_batch(
    gateway: &Gateway,
    source: &crate::source::Source,
    items: Vec<Decision>,
    opts: &ReplayOptions,
) -> ReplayResult {
    if let Some(d) = items.iter().find_map(|d| match d {
        Decision::DeadLetter(d) => Some(d),
        _ => None,
    }) {
        return ReplayResult::StillFailing {
            reason: d.reason.as_str().to_owned(),
            detail: format!("item {:?} of the batch: {}", d.item, d.detail),
        };
    }
    let Some(first) = items.iter().find_map(|d| match d {
        Decision::Deliver(e) => Some(e.clone()),
        _ => None,
    }) else {
        return ReplayResult::Ignored {
            provider_type: "(a batch without events)".to_owned(),
        };
    };
    if opts.dry_run {
        return ReplayResult::WouldDeliver { event: first };
    }
    let count = items.len();
    match gateway.complete(&source.id, Decision::Batch(items)).await {
        Ok(outcome) if outcome.items.iter().all(|o| o.duplicate) => {
            ReplayResult::Duplicate { id: first.id }
        }
        Ok(_) => ReplayResult::Replayed {
            id: first.id,
            ty: format!("batch of {count}"),
        },
        Err(GatewayError::Unauthorized(e)) => ReplayResult::StillFailing {
            reason: e.reason().to_owned(),
            detail: e.to_string(),
        },
        Err(e) => ReplayResult::Unavailable {
            detail: e.to_string(),
        },
    }
}
