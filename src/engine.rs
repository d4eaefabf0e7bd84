//! The sans-I/O core of the pipeline: a verified delivery in, a validated canonical
//! event, an ignore, or a dead-letter record out. Used by the gateway, `check`,
//! `map`, the fixture tests and the benchmarks alike.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::event::{
    CanonicalEvent, DeadLetter, DeadLetterReason, DedupId, EventId, EventValidator, SourceId,
};
use crate::mapping::{MapOutcome, Mapping};
use crate::verify::Verified;

/// What one delivery becomes.
#[derive(Debug)]
pub enum Processed {
    Event {
        event: Box<CanonicalEvent>,
        dedup: DedupId,
    },
    Ignored {
        provider_type: String,
    },
    /// A handshake answered directly (not forwarded, not deduplicated).
    Respond(serde_json::Value),
    DeadLetter(Box<DeadLetter>),
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

    pub fn process(
        &self,
        source: &SourceId,
        mapping: &Mapping,
        req: &Verified,
        received_at: DateTime<Utc>,
    ) -> Processed {
        let dead = |reason, detail: String, provider_type| {
            Processed::DeadLetter(Box::new(dead_letter(
                source,
                mapping,
                req,
                received_at,
                reason,
                detail,
                provider_type,
            )))
        };
        match mapping.map(source, req, received_at) {
            MapOutcome::Ignored { provider_type } => Processed::Ignored { provider_type },
            MapOutcome::Respond(v) => Processed::Respond(v),
            MapOutcome::Rejected {
                reason,
                detail,
                provider_type,
            } => dead(reason, detail, provider_type),
            MapOutcome::Event { event, dedup } => {
                let as_json = match serde_json::to_value(&*event) {
                    Ok(v) => v,
                    Err(e) => {
                        return dead(
                            DeadLetterReason::MappingError,
                            e.to_string(),
                            Some(event.providereventtype.clone()),
                        )
                    }
                };
                match self.validator.validate(&as_json) {
                    Ok(()) => Processed::Event { event, dedup },
                    Err(detail) => dead(
                        DeadLetterReason::SchemaViolation,
                        detail,
                        Some(event.providereventtype.clone()),
                    ),
                }
            }
        }
    }
}

fn dead_letter(
    source: &SourceId,
    mapping: &Mapping,
    req: &Verified,
    received_at: DateTime<Utc>,
    reason: DeadLetterReason,
    detail: String,
    providereventtype: Option<String>,
) -> DeadLetter {
    let mut headers = BTreeMap::new();
    for name in mapping.dead_letter_headers() {
        if let Some(v) = req.headers().get(name) {
            headers.insert(
                name.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            );
        }
    }
    let (body, body_base64) = DeadLetter::body_fields(req.body());
    let dedup = DedupId::new(format!(
        "dead-letter:{}",
        DedupId::from_body(req.body()).as_str()
    ));
    DeadLetter {
        id: EventId::derive(source, &dedup),
        source: source.to_string(),
        provider: mapping.provider().to_owned(),
        reason,
        detail,
        providereventtype,
        received_at: received_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        headers,
        body,
        body_base64,
    }
}
