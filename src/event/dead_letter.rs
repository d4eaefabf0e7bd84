//! Dead-letter records: authentic deliveries that could not become a valid
//! canonical event, kept whole with the reason so nothing authentic is lost.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// Why an authentic delivery was dead-lettered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetterReason {
    MalformedJson,
    UnknownEventType,
    MappingError,
    SchemaViolation,
    /// The payload does not fit the event type it was labelled with (`requires`).
    TypeMismatch,
    /// A form body (`application/x-www-form-urlencoded`) that cannot be read.
    MalformedForm,
    /// A batched delivery with more items than the source accepts, or whose
    /// unmappable items would copy its body too many times: kept whole, once.
    BatchTooLarge,
    /// One item of a batch older than the source's `max_event_age` (a delivery
    /// whose every event is too old is refused instead).
    EventTooOld,
}

impl DeadLetterReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedJson => "malformed_json",
            Self::UnknownEventType => "unknown_event_type",
            Self::MappingError => "mapping_error",
            Self::SchemaViolation => "schema_violation",
            Self::TypeMismatch => "type_mismatch",
            Self::MalformedForm => "malformed_form",
            Self::BatchTooLarge => "batch_too_large",
            Self::EventTooOld => "event_too_old",
        }
    }
}

/// Why an authentic delivery cannot become an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub reason: DeadLetterReason,
    pub detail: String,
    /// The provider's event type, when it was read before the failure.
    pub provider_type: Option<String>,
}

impl Rejection {
    pub fn new(reason: DeadLetterReason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
            provider_type: None,
        }
    }

    pub fn of_type(mut self, provider_type: impl Into<String>) -> Self {
        self.provider_type = Some(provider_type.into());
        self
    }
}

/// The dead-letter record written to the dead-letter output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Deterministic id (source + body hash), so a redelivery of the same bad payload
    /// is recognised as a duplicate.
    pub id: super::EventId,
    pub source: String,
    pub provider: String,
    pub reason: DeadLetterReason,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub providereventtype: Option<String>,
    pub received_at: String,
    pub headers: BTreeMap<String, String>,
    /// The raw body when it is UTF-8 text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The raw body, base64, when it is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
    /// The query string it was posted with (part of what some schemes sign).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// For one item of a batched delivery: its place in the batch (the body is
    /// the whole delivery, so the record can be verified again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<usize>,
    /// The W3C trace context the delivery was written in (when the gateway
    /// traces): `hookgate replay` links its own trace to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracestate: Option<String>,
    /// The gateway's MAC over every other field ([`super::Sealer`]), when
    /// `[dead_letters] keys` is configured: what lets `hookgate replay` trust the
    /// fields no provider signs (`received_at`, `item`, the kept headers' choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<String>,
}

/// What a dead letter keeps of the request.
#[derive(Debug)]
pub struct Kept<'a> {
    pub headers: BTreeMap<String, String>,
    pub body: &'a [u8],
    pub query: Option<&'a str>,
    pub item: Option<usize>,
    /// What identifies the delivery when its signature covers more bodies than
    /// one (the verified request's `signed_identity`): the dead letter's id is
    /// derived from it instead of the body, so variants are duplicates.
    pub identity: Option<&'a [u8; 32]>,
}

impl DeadLetter {
    /// The record for an authentic delivery that could not become an event. Its id
    /// is derived from the source and the body, so a redelivery of the same bad
    /// payload is a duplicate.
    pub fn new(
        source: &super::SourceId,
        provider: &str,
        kept: Kept<'_>,
        received_at: &chrono::DateTime<chrono::Utc>,
        why: Rejection,
    ) -> Self {
        let Kept {
            headers,
            body,
            query,
            item,
            identity,
        } = kept;
        let Rejection {
            reason,
            detail,
            provider_type: providereventtype,
        } = why;
        let (body_text, body_base64) = Self::body_fields(body);
        let hash = super::DedupId::from_body(identity.map_or(body, |i| &i[..]));
        let dedup = super::DedupId::new(match item {
            Some(i) => format!("dead-letter:{}#{i}", hash.as_str()),
            None => format!("dead-letter:{}", hash.as_str()),
        });
        Self {
            id: super::EventId::derive(source, &dedup),
            source: source.to_string(),
            provider: provider.to_owned(),
            reason,
            detail,
            providereventtype,
            received_at: received_at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            headers,
            body: body_text,
            body_base64,
            query: query.map(str::to_owned),
            item,
            traceparent: None,
            tracestate: None,
            seal: None,
        }
    }

    /// The raw body, byte-exact, from `body` or `body_base64`.
    pub fn raw_body(&self) -> Result<Vec<u8>, String> {
        match (&self.body, &self.body_base64) {
            (Some(text), None) => Ok(text.clone().into_bytes()),
            (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| format!("body_base64 does not decode: {e}")),
            (None, None) => Ok(Vec::new()),
            (Some(_), Some(_)) => Err("both body and body_base64 are set".to_owned()),
        }
    }

    /// Splits the raw body into `body` or `body_base64`, byte-exact either way.
    pub fn body_fields(raw: &[u8]) -> (Option<String>, Option<String>) {
        match std::str::from_utf8(raw) {
            Ok(s) => (Some(s.to_owned()), None),
            Err(_) => (
                None,
                Some(base64::engine::general_purpose::STANDARD.encode(raw)),
            ),
        }
    }
}
