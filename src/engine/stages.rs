//! One mapped event on its way to a decision, as a typestate: the source's
//! policy first, then the canonical schemas. Each step consumes the state before
//! it, so nothing reaches [`Decision::Deliver`] without passing both.

use chrono::{DateTime, Utc};

use super::policy::Policy;
use crate::event::{CanonicalEvent, DeadLetterReason, Decision, EventValidator, Rejection};

/// An event as the mapping built it: neither the policy nor the schemas applied.
pub(super) struct Unvalidated(Box<CanonicalEvent>);

/// Within the source's policy (not too old, its tenant set); not yet validated.
pub(super) struct Admitted(Box<CanonicalEvent>);

/// Valid against the canonical schemas: what is delivered.
pub(super) struct Valid(Box<CanonicalEvent>);

/// The event's own time is older than the policy's `max_event_age`.
#[derive(Debug)]
pub(super) struct TooOld;

impl Unvalidated {
    pub(super) fn new(event: Box<CanonicalEvent>) -> Self {
        Self(event)
    }

    /// Applies the policy: the age limit, then the tenant that replaces the
    /// mapping's.
    pub(super) fn admit(
        self,
        policy: &Policy,
        received_at: DateTime<Utc>,
    ) -> Result<Admitted, TooOld> {
        let Self(mut event) = self;
        if let Some(max) = policy.max_event_age {
            let too_old = DateTime::parse_from_rfc3339(&event.time).is_ok_and(|t| {
                received_at
                    .signed_duration_since(t)
                    .to_std()
                    .is_ok_and(|age| age > max)
            });
            if too_old {
                return Err(TooOld);
            }
        }
        if let Some(tenant) = &policy.tenant {
            event.tenant = Some(tenant.clone());
        }
        Ok(Admitted(event))
    }
}

impl Admitted {
    /// Validates the event against the canonical schemas; `Err` says why it is
    /// dead-lettered.
    pub(super) fn validate(self, validator: &EventValidator) -> Result<Valid, Rejection> {
        let Self(event) = self;
        let invalid = |reason, detail: String| {
            Err(Rejection::new(reason, detail).of_type(event.providereventtype.clone()))
        };
        let as_json = match serde_json::to_value(&*event) {
            Ok(v) => v,
            Err(e) => return invalid(DeadLetterReason::MappingError, e.to_string()),
        };
        match validator.validate(&as_json) {
            Ok(()) => Ok(Valid(event)),
            Err(detail) => invalid(DeadLetterReason::SchemaViolation, detail),
        }
    }
}

impl From<Valid> for Decision {
    fn from(Valid(event): Valid) -> Self {
        Decision::Deliver(event)
    }
}
