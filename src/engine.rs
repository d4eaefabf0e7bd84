//! The sans-I/O core of the pipeline: a verified delivery in, a [`Decision`] out
//! (a validated canonical event, a dead letter, an ignore or a handshake answer),
//! or a refusal. Used by the gateway, `check`, `map`, the fixture tests and the
//! benchmarks alike, so all of them apply the same rules.

use chrono::{DateTime, Utc};

use crate::event::{DeadLetterReason, Decision, EventValidator, Rejection, SourceId};
use crate::mapping::Mapping;
use crate::verify::{Verified, VerifyError};

/// What a source applies to its events beyond its mapping.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Replay guard for providers without a signed timestamp: events whose own
    /// time is older than this are refused (401 `event_too_old`).
    pub max_event_age: Option<std::time::Duration>,
    /// Replaces the mapping's tenant on every event (configuration, so trusted).
    pub tenant: Option<String>,
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
        let mut event = match mapping.map(source, req, received_at) {
            Decision::Deliver(event) => event,
            other => return Ok(other),
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
            ))))
        };
        let as_json = match serde_json::to_value(&*event) {
            Ok(v) => v,
            Err(e) => return invalid(DeadLetterReason::MappingError, e.to_string()),
        };
        match self.validator.validate(&as_json) {
            Ok(()) => Ok(Decision::Deliver(event)),
            Err(detail) => invalid(DeadLetterReason::SchemaViolation, detail),
        }
    }
}
