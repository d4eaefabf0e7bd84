//! The sans-I/O core of the pipeline: a verified delivery in, a [`Decision`] out
//! (a validated canonical event, a dead letter, an ignore or a handshake answer),
//! or a refusal. Used by the gateway, `check`, `map`, the fixture tests and the
//! benchmarks alike, so all of them apply the same rules.

use chrono::{DateTime, Utc};

use crate::event::{DeadLetterReason, Decision, EventValidator, Rejection, SourceId};
use crate::mapping::Mapping;
use crate::telemetry::trace;
use crate::verify::{Verified, VerifyError};

/// What a source applies to its events beyond its mapping.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Replay guard for providers without a signed timestamp: events whose own
    /// time is older than this are refused (401 `event_too_old`).
    pub max_event_age: Option<std::time::Duration>,
    /// Replaces the mapping's tenant on every event (configuration, so trusted).
    pub tenant: Option<String>,
    /// The most items a batched delivery may carry (`None`: the default).
    pub max_batch_items: Option<usize>,
}

/// Maps and validates. Holds nothing per request.
#[derive(Debug)]
pub struct Engine {
    validator: EventValidator,
}

impl Engine {
    pub fn new(validator: EventValidator) -> Self {
        Self { validator }
    }

    /// Decides what a verified delivery becomes. `Err` refuses it (401): its own
    /// time is older than the policy's `max_event_age`.
    pub fn process(
        &self,
        source: &SourceId,
        mapping: &Mapping,
        req: &Verified,
        received_at: DateTime<Utc>,
        policy: &Policy,
    ) -> Result<Decision, VerifyError> {
        let max_items = policy
            .max_batch_items
            .unwrap_or(crate::mapping::DEFAULT_MAX_BATCH_ITEMS);
        let map = trace::stage("map");
        let mapped = map.in_scope(|| mapping.map_with(source, req, received_at, max_items));
        if let Decision::DeadLetter(d) = &mapped {
            trace::fail(&map, d.reason.as_str());
        }
        match mapped {
            Decision::Batch(items) => {
                let (total, mut dead, mut too_old) = (items.len(), 0, 0);
                let mut decided = Vec::with_capacity(total);
                for (i, item) in items.into_iter().enumerate() {
                    let settled =
                        match self.settle(source, mapping, req, received_at, policy, item, Some(i))
                        {
                            Ok(d) => d,
                            // One late item is kept aside; refusing the delivery would
                            // refuse its fresh items on every retry.
                            Err(VerifyError::EventTooOld) => {
                                too_old += 1;
                                let why = Rejection::new(
                                    DeadLetterReason::EventTooOld,
                                    "older than the source's max_event_age",
                                );
                                Decision::DeadLetter(Box::new(mapping.dead_letter(
                                    source,
                                    req,
                                    &received_at,
                                    why,
                                    Some(i),
                                )))
                            }
                            Err(e) => return Err(e),
                        };
                    if matches!(settled, Decision::DeadLetter(_)) {
                        dead += 1;
                        if crate::mapping::exceeds_dead_letter_budget(dead, req.body().len()) {
                            return Ok(Self::kept_whole(source, mapping, req, received_at, dead));
                        }
                    }
                    decided.push(settled);
                }
                if total > 0 && too_old == total {
                    return Err(VerifyError::EventTooOld);
                }
                Ok(Decision::Batch(decided))
            }
            one => self.settle(source, mapping, req, received_at, policy, one, None),
        }
    }

    /// A batch with too many dead items to copy its body for each: one record.
    fn kept_whole(
        source: &SourceId,
        mapping: &Mapping,
        req: &Verified,
        received_at: DateTime<Utc>,
        dead: usize,
    ) -> Decision {
        let why = Rejection::new(
            DeadLetterReason::BatchTooLarge,
            format!(
                "{dead} or more of its items are not valid events; one dead letter per item \
                 would copy the body that many times: kept whole, once, nothing of it delivered"
            ),
        );
        Decision::DeadLetter(Box::new(mapping.dead_letter(
            source,
            req,
            &received_at,
            why,
            None,
        )))
    }

    /// Applies the policy to one mapped event and validates it: a valid event, or
    /// its dead letter (`item`: its place in a batch).
    #[allow(clippy::too_many_arguments)]
    fn settle(
        &self,
        source: &SourceId,
        mapping: &Mapping,
        req: &Verified,
        received_at: DateTime<Utc>,
        policy: &Policy,
        decision: Decision,
        item: Option<usize>,
    ) -> Result<Decision, VerifyError> {
        let Decision::Deliver(mut event) = decision else {
            return Ok(decision);
        };
        if let Some(max) = policy.max_event_age {
            let too_old = DateTime::parse_from_rfc3339(&event.time).is_ok_and(|t| {
                received_at
                    .signed_duration_since(t)
                    .to_std()
                    .is_ok_and(|age| age > max)
            });
            if too_old {
                return Err(VerifyError::EventTooOld);
            }
        }
        if let Some(tenant) = &policy.tenant {
            event.tenant = Some(tenant.clone());
        }
        let invalid = |reason, detail: String| {
            let why = Rejection::new(reason, detail).of_type(event.providereventtype.clone());
            Ok(Decision::DeadLetter(Box::new(mapping.dead_letter(
                source,
                req,
                &received_at,
                why,
                item,
            ))))
        };
        let as_json = match serde_json::to_value(&*event) {
            Ok(v) => v,
            Err(e) => return invalid(DeadLetterReason::MappingError, e.to_string()),
        };
        let validate = trace::stage("validate");
        match validate.in_scope(|| self.validator.validate(&as_json)) {
            Ok(()) => Ok(Decision::Deliver(event)),
            Err(detail) => {
                trace::fail(&validate, DeadLetterReason::SchemaViolation.as_str());
                invalid(DeadLetterReason::SchemaViolation, detail)
            }
        }
    }
}
