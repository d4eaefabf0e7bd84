//! What the pipeline decides for one verified delivery. The engine decides; the
//! gateway completes the decision (dedup, output) and answers from it.

use serde_json::{json, Value};

use super::{CanonicalEvent, DeadLetter, EventId};

#[derive(Debug)]
pub enum Decision {
    /// A valid canonical event, to be delivered.
    Deliver(Box<CanonicalEvent>),
    /// Authentic but not mappable or not valid: to the dead-letter output.
    DeadLetter(Box<DeadLetter>),
    /// A provider event the mapping declares ignorable (test pings).
    Ignore { provider_type: String },
    /// A handshake answered with this JSON; nothing is forwarded.
    Respond(Value),
    /// A delivery carrying several events: one decision per item (each a
    /// `Deliver`, `DeadLetter` or `Ignore`), in the delivery's order.
    Batch(Vec<Decision>),
}

impl Decision {
    /// The id of what is written (event or dead letter), the dedup store's key.
    pub fn record_id(&self) -> Option<EventId> {
        match self {
            Self::Deliver(e) => Some(e.id),
            Self::DeadLetter(d) => Some(d.id),
            Self::Ignore { .. } | Self::Respond(_) | Self::Batch(_) => None,
        }
    }

    /// The status once completed: `accepted`, `dead_lettered`, `ignored`, `responded`.
    pub fn status(&self) -> &'static str {
        match self {
            Self::Deliver(_) => "accepted",
            Self::DeadLetter(_) => "dead_lettered",
            Self::Ignore { .. } => "ignored",
            Self::Respond(_) => "responded",
            Self::Batch(_) => "batch",
        }
    }

    /// Puts the trace context the record is written in on it (an event or a
    /// dead letter; nothing else is written).
    pub fn set_trace(&mut self, traceparent: String, tracestate: Option<String>) {
        match self {
            Self::Deliver(e) => (e.traceparent, e.tracestate) = (Some(traceparent), tracestate),
            Self::DeadLetter(d) => (d.traceparent, d.tracestate) = (Some(traceparent), tracestate),
            Self::Ignore { .. } | Self::Respond(_) | Self::Batch(_) => {}
        }
    }

    /// The provider's event type, where known.
    pub fn provider_type(&self) -> Option<&str> {
        match self {
            Self::Deliver(e) => Some(&e.providereventtype),
            Self::DeadLetter(d) => d.providereventtype.as_deref(),
            Self::Ignore { provider_type } => Some(provider_type),
            Self::Respond(_) | Self::Batch(_) => None,
        }
    }
}

/// A decision the gateway carried out, answered 2xx.
#[derive(Debug)]
pub struct Outcome {
    pub decision: Decision,
    /// The event (or dead letter) had already been written within the dedup window,
    /// so nothing was written this time.
    pub duplicate: bool,
    /// For a batch: what became of each item, in the delivery's order.
    pub items: Vec<Outcome>,
    /// The mapping's own answer (`answer`), replacing hookgate's status body.
    pub answer: Option<Value>,
}

impl Outcome {
    pub fn new(decision: Decision) -> Self {
        Self {
            decision,
            duplicate: false,
            items: Vec::new(),
            answer: None,
        }
    }

    /// A record written before, within the dedup window: nothing written now.
    pub fn duplicate(decision: Decision) -> Self {
        Self {
            duplicate: true,
            ..Self::new(decision)
        }
    }

    /// A batch's outcome, from its items'.
    pub fn batch(items: Vec<Outcome>) -> Self {
        Self {
            decision: Decision::Batch(Vec::new()),
            duplicate: false,
            items,
            answer: None,
        }
    }

    /// The answer's `status`, and the `outcome` label of `hookgate_requests_total`.
    pub fn status(&self) -> &'static str {
        if self.duplicate {
            "duplicate"
        } else {
            self.decision.status()
        }
    }

    /// The JSON body of the 200 answer.
    pub fn body(&self) -> Value {
        if let Some(answer) = &self.answer {
            return answer.clone();
        }
        match (&self.decision, self.duplicate) {
            (Decision::Respond(v), _) => v.clone(),
            (Decision::Batch(_), _) => json!({
                "status": "batch",
                "events": self.items.iter().map(Outcome::body).collect::<Vec<_>>(),
            }),
            (d, true) => json!({"status": "duplicate", "id": d.record_id()}),
            (Decision::Deliver(e), false) => {
                json!({"status": "accepted", "id": e.id, "type": e.ty})
            }
            (Decision::DeadLetter(d), false) => {
                json!({"status": "dead_lettered", "id": d.id, "reason": d.reason.as_str()})
            }
            (Decision::Ignore { provider_type }, false) => {
                json!({"status": "ignored", "event": provider_type})
            }
        }
    }
}
