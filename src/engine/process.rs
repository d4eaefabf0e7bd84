//! The engine: a verified delivery's mapping in, its [`Decision`] out. Applies the
//! batch limit and the dead-letter budget, takes each event through the policy
//! and the schemas ([`super::stages`]), and builds every dead letter.

use chrono::{DateTime, Utc};

use super::policy::{exceeds_dead_letter_budget, Policy};
use super::stages::{TooOld, Unvalidated};
use crate::event::{
    DeadLetter, DeadLetterReason, Decision, EventValidator, Kept, Rejection, SourceId,
};
use crate::mapping::{Item, Mapped, Mapping};
use crate::telemetry::trace;
use crate::verify::{Verified, VerifyError};

/// Maps and validates. Holds nothing per request.
#[derive(Debug)]
pub struct Engine {
    validator: EventValidator,
}

/// One delivery being decided: what its policy and dead letters need.
struct Delivery<'a> {
    source: &'a SourceId,
    mapping: &'a Mapping,
    req: &'a Verified,
    received_at: DateTime<Utc>,
    policy: &'a Policy,
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
        let d = Delivery {
            source,
            mapping,
            req,
            received_at,
            policy,
        };
        let limit = policy.batch_limit();
        let map = trace::stage("map");
        let mapped = map.in_scope(|| mapping.map(source, req, received_at, limit));
        if let Mapped::Unreadable(why) | Mapped::One(Err(why)) = &mapped {
            trace::fail(&map, why.reason.as_str());
        }
        match mapped {
            Mapped::Respond(answer) => Ok(Decision::Respond(answer)),
            Mapped::Unreadable(why) | Mapped::One(Err(why)) => Ok(d.dead_letter(why, None)),
            Mapped::One(Ok(item)) => self
                .settle(&d, item, None)
                .map_err(|TooOld| VerifyError::EventTooOld),
            Mapped::Oversized => Ok(d.dead_letter(
                Rejection::new(
                    DeadLetterReason::BatchTooLarge,
                    format!(
                        "the delivery carries more than {limit} items (the source's \
                         max_batch_items): kept whole, nothing of it delivered"
                    ),
                ),
                None,
            )),
            Mapped::Batch(items) => self.batch(&d, items),
        }
    }

    /// A batch: one decision per item, unless its dead letters would copy its
    /// body past the budget (then one dead letter, whole) or every item is too
    /// old (then refused, as a single event would be).
    fn batch(
        &self,
        d: &Delivery<'_>,
        items: Vec<Result<Item, Rejection>>,
    ) -> Result<Decision, VerifyError> {
        let body_len = d.req.body().len();
        // Each item's dead letter holds the whole body (what a replay verifies): past
        // a budget the delivery is kept once, whole, rather than copied per item.
        let unmappable = items.iter().filter(|m| m.is_err()).count();
        if exceeds_dead_letter_budget(unmappable, body_len) {
            let first = items
                .iter()
                .find_map(|m| m.as_ref().err())
                .map(|r| format!("{}: {}", r.reason.as_str(), r.detail))
                .unwrap_or_default();
            let why = Rejection::new(
                DeadLetterReason::BatchTooLarge,
                format!(
                    "{unmappable} of its {} items cannot be mapped (the first: {first}); one \
                     dead letter per item would copy the body {unmappable} times: kept whole, \
                     once, nothing of it delivered",
                    items.len()
                ),
            );
            return Ok(d.dead_letter(why, None));
        }
        let (total, mut dead, mut too_old) = (items.len(), 0, 0);
        let mut decided = Vec::with_capacity(total);
        for (i, item) in items.into_iter().enumerate() {
            let decision = match item.map(|item| self.settle(d, item, Some(i))) {
                Err(why) => d.dead_letter(why, Some(i)),
                Ok(Ok(decision)) => decision,
                // One late item is kept aside; refusing the delivery would refuse
                // its fresh items on every retry.
                Ok(Err(TooOld)) => {
                    too_old += 1;
                    let why = Rejection::new(
                        DeadLetterReason::EventTooOld,
                        "older than the source's max_event_age",
                    );
                    d.dead_letter(why, Some(i))
                }
            };
            if matches!(decision, Decision::DeadLetter(_)) {
                dead += 1;
                if exceeds_dead_letter_budget(dead, body_len) {
                    return Ok(d.kept_whole(dead));
                }
            }
            decided.push(decision);
        }
        if total > 0 && too_old == total {
            return Err(VerifyError::EventTooOld);
        }
        Ok(Decision::Batch(decided))
    }

    /// One mapped event through the policy and the schemas: a valid event, or its
    /// dead letter (`item`: its place in a batch). `Err` when it is too old.
    fn settle(&self, d: &Delivery<'_>, item: Item, at: Option<usize>) -> Result<Decision, TooOld> {
        let event = match item {
            Item::Event(event) => event,
            Item::Ignore { provider_type } => return Ok(Decision::Ignore { provider_type }),
        };
        let admitted = Unvalidated::new(event).admit(d.policy, d.received_at)?;
        let validate = trace::stage("validate");
        Ok(
            match validate.in_scope(|| admitted.validate(&self.validator)) {
                Ok(valid) => valid.into(),
                Err(why) => {
                    trace::fail(&validate, why.reason.as_str());
                    d.dead_letter(why, at)
                }
            },
        )
    }
}

impl Delivery<'_> {
    /// A batch with too many dead items to copy its body for each: one record.
    fn kept_whole(&self, dead: usize) -> Decision {
        let why = Rejection::new(
            DeadLetterReason::BatchTooLarge,
            format!(
                "{dead} or more of its items are not valid events; one dead letter per item \
                 would copy the body that many times: kept whole, once, nothing of it delivered"
            ),
        );
        self.dead_letter(why, None)
    }

    /// The dead letter of the delivery (or of one item of it), keeping the headers
    /// the mapping names, the whole raw body and the query string: what a replay
    /// needs to verify it again.
    fn dead_letter(&self, why: Rejection, item: Option<usize>) -> Decision {
        let req = self.req;
        let headers = self
            .mapping
            .dead_letter_headers()
            .iter()
            .filter_map(|name| {
                req.headers().get(name).map(|v| {
                    (
                        name.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
            })
            .collect();
        let kept = Kept {
            headers,
            body: req.body(),
            query: req.query(),
            item,
            identity: req.signed_identity(),
        };
        Decision::DeadLetter(Box::new(DeadLetter::new(
            self.source,
            self.mapping.provider(),
            kept,
            &self.received_at,
            why,
        )))
    }
}
