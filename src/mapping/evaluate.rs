//! Evaluating a compiled mapping on a verified delivery: the events it carries
//! (one, or one per item of a batch), each an event, an ignorable type or why it
//! cannot be one. What becomes of them is the engine's to decide.

use chrono::{DateTime, SecondsFormat, Utc};
use jaq_json::Val;

use super::compiled::{CompiledRule, Mapping};
use super::jq::Jq;
use super::payload::{parse_body, parse_payload};
use super::value::{self, prune, to_json};
use crate::event::{CanonicalEvent, DeadLetterReason, DedupId, EventId, Rejection, SourceId};
use crate::verify::Verified;

/// What a delivery carries, as the mapping computes it: facts, no policy. The
/// engine decides what each becomes (delivered, dead-lettered, refused).
#[derive(Debug)]
pub enum Mapped {
    /// A handshake, answered with this JSON; it carries no event.
    Respond(serde_json::Value),
    /// The delivery cannot be read as events at all: its body does not parse,
    /// its handshake answer or its batch split fails.
    Unreadable(Rejection),
    /// A delivery that is one event: what it maps to.
    One(Result<Item, Rejection>),
    /// A batched delivery: what each item maps to, in the delivery's order.
    Batch(Vec<Result<Item, Rejection>>),
    /// A batched delivery carrying more items than the split was bounded to;
    /// none of them was mapped.
    Oversized,
}

/// What one event of a delivery (the whole delivery, or one item of a batch)
/// maps to.
#[derive(Debug)]
pub enum Item {
    /// A canonical event, as built: not yet checked against the source's policy
    /// or validated.
    Event(Box<CanonicalEvent>),
    /// A provider event type the mapping declares ignorable (test pings).
    Ignore { provider_type: String },
}

impl Mapped {
    /// Its events, when the delivery carries events only: one, or a non-empty
    /// batch whose every item maps to one (tools that generate deliveries).
    pub fn events(&self) -> Option<Vec<&CanonicalEvent>> {
        let items = match self {
            Self::One(item) => std::slice::from_ref(item),
            Self::Batch(items) if !items.is_empty() => items,
            _ => return None,
        };
        items
            .iter()
            .map(|item| match item {
                Ok(Item::Event(e)) => Some(&**e),
                _ => None,
            })
            .collect()
    }
}

/// A delivery as the expressions see it: parsed once, read by every expression.
struct Delivery<'a> {
    req: &'a Verified,
    /// The parsed body, or the item of a batched one.
    body: &'a Val,
    headers: &'a Val,
    provider_type: &'a str,
    /// Which item of a batch, if it is one.
    item: Option<usize>,
}

impl Mapping {
    /// The provider event type of a raw payload, if it parses and has one (for a
    /// batch, the first item's that has one).
    pub fn event_type(&self, headers: &http::HeaderMap, body: &[u8]) -> Option<String> {
        self.event_types(headers, body, usize::MAX)
            .into_iter()
            .next()
    }

    /// The provider event type of each event a raw payload carries (one, or one
    /// per item of a batch, at most `max_items + 1` of them), where it parses
    /// and has one.
    pub fn event_types(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        max_items: usize,
    ) -> Vec<String> {
        let Ok(input) = parse_payload(headers, body) else {
            return Vec::new();
        };
        let h = self.headers_val(headers);
        let items = match &self.batch_items {
            Some(split) => split.all(&input, &h, max_items).unwrap_or_default(),
            None => vec![input],
        };
        items
            .iter()
            .filter_map(|item| {
                value::to_opt_string(&self.ty.first(item, &h).ok()?)
                    .ok()
                    .flatten()
            })
            .collect()
    }

    /// The mapping's own 200 answer for a delivery whose events are safe
    /// (`answer`), if it has one and it evaluates.
    pub fn answer(&self, req: &Verified) -> Option<serde_json::Value> {
        let expr = self.answer.as_ref()?;
        let input = parse_body(req).ok()?;
        let headers = self.headers_val(req.headers());
        expr.first(&input, &headers).ok().map(|v| to_json(&v))
    }

    /// The dedup id a delivery's event would have (the load generator varies it).
    pub fn dedup_id(&self, req: &Verified) -> Option<DedupId> {
        let input = parse_body(req).ok()?;
        let headers = self.headers_val(req.headers());
        self.dedup(&input, &headers, req.body(), None).ok()
    }

    /// The dedup ids of a delivery's events: one, or one per item of a batch.
    pub fn dedup_ids(&self, req: &Verified) -> Option<Vec<DedupId>> {
        let Some(split) = &self.batch_items else {
            return self.dedup_id(req).map(|d| vec![d]);
        };
        let input = parse_body(req).ok()?;
        let headers = self.headers_val(req.headers());
        let items = split.all(&input, &headers, usize::MAX).ok()?;
        items
            .iter()
            .enumerate()
            .map(|(i, item)| self.dedup(item, &headers, req.body(), Some(i)).ok())
            .collect()
    }

    fn dedup(
        &self,
        input: &Val,
        headers: &Val,
        body: &[u8],
        item: Option<usize>,
    ) -> Result<DedupId, String> {
        let dedup = match &self.dedup {
            Some(j) => j.first(input, headers).map_err(|e| e.to_string())?,
            None => Val::Null,
        };
        Ok(
            match value::to_opt_string(&dedup).map_err(|e| format!("dedup: {e}"))? {
                Some(d) => DedupId::new(d),
                // A redelivery is byte-identical: the body's hash (and, for one of
                // a batch's items, its place in it).
                None => match item {
                    Some(i) => DedupId::new(format!("{}#{i}", DedupId::from_body(body).as_str())),
                    None => DedupId::from_body(body),
                },
            },
        )
    }

    /// Maps a verified delivery: what it carries, each event built but neither
    /// checked against the source's policy nor validated. `max_items` bounds the
    /// split: a batch carrying more is [`Mapped::Oversized`], none of its items
    /// mapped. Pure: the same input always gives the same output.
    pub fn map(
        &self,
        source: &SourceId,
        req: &Verified,
        received_at: DateTime<Utc>,
        max_items: usize,
    ) -> Mapped {
        self.try_map(source, req, received_at, max_items)
            .unwrap_or_else(Mapped::Unreadable)
    }

    fn try_map(
        &self,
        source: &SourceId,
        req: &Verified,
        received_at: DateTime<Utc>,
        max_items: usize,
    ) -> Result<Mapped, Rejection> {
        use DeadLetterReason as R;
        let input = parse_body(req)?;
        let headers = self.headers_val(req.headers());
        if let Some(rule) = self.respond.iter().find(|r| r.applies(&input, &headers)) {
            return rule
                .answer(req, &input, &headers)
                .map(Mapped::Respond)
                .map_err(|e| Rejection::new(R::MappingError, e));
        }
        let Some(split) = &self.batch_items else {
            return Ok(Mapped::One(self.map_item(
                source,
                req,
                &input,
                &headers,
                received_at,
                None,
            )));
        };
        let items = split
            .all(&input, &headers, max_items)
            .map_err(|e| Rejection::new(R::MappingError, format!("batch.items: {e}")))?;
        if items.len() > max_items {
            return Ok(Mapped::Oversized);
        }
        Ok(Mapped::Batch(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| self.map_item(source, req, item, &headers, received_at, Some(i)))
                .collect(),
        ))
    }

    fn map_item(
        &self,
        source: &SourceId,
        req: &Verified,
        input: &Val,
        headers: &Val,
        received_at: DateTime<Utc>,
        item: Option<usize>,
    ) -> Result<Item, Rejection> {
        use DeadLetterReason as R;
        let provider_type = self
            .ty
            .first(input, headers)
            .map_err(|e| e.to_string())
            .and_then(|v| value::to_opt_string(&v))
            .map_err(|e| Rejection::new(R::UnknownEventType, e))?
            .ok_or_else(|| Rejection::new(R::UnknownEventType, "the payload has no event type"))?;
        let resolved = self
            .aliases
            .get(&provider_type)
            .map(String::as_str)
            .unwrap_or(&provider_type);
        if self.ignore.contains(resolved) {
            return Ok(Item::Ignore { provider_type });
        }
        let Some(rule) = self.events.get(resolved) else {
            return Err(Rejection::new(
                R::UnknownEventType,
                format!("no mapping for provider event type `{provider_type}`"),
            )
            .of_type(provider_type));
        };
        if let Some(requires) = &rule.requires {
            let fits = requires
                .first(input, headers)
                .is_ok_and(|v| !matches!(v, Val::Null | Val::Bool(false)));
            if !fits {
                return Err(Rejection::new(
                    R::TypeMismatch,
                    format!(
                        "the payload does not fit provider event type `{provider_type}` (requires: {})",
                        requires.source()
                    ),
                )
                .of_type(provider_type));
            }
        }
        let delivery = Delivery {
            req,
            body: input,
            headers,
            provider_type: &provider_type,
            item,
        };
        match self.build(source, &delivery, rule, received_at) {
            Ok(event) => Ok(Item::Event(Box::new(event))),
            Err(detail) => Err(Rejection::new(R::MappingError, detail).of_type(provider_type)),
        }
    }

    fn build(
        &self,
        source: &SourceId,
        d: &Delivery<'_>,
        rule: &CompiledRule,
        received_at: DateTime<Utc>,
    ) -> Result<CanonicalEvent, String> {
        let (req, input, headers, provider_type) = (d.req, d.body, d.headers, d.provider_type);
        let eval = |jq: Option<&Jq>| -> Result<Val, String> {
            match jq {
                Some(j) => j.first(input, headers).map_err(|e| e.to_string()),
                None => Ok(Val::Null),
            }
        };
        let string = |jq: Option<&Jq>, what: &str| -> Result<Option<String>, String> {
            value::to_opt_string(&eval(jq)?).map_err(|e| format!("{what}: {e}"))
        };
        let providereventid = string(self.id.as_ref(), "id")?;
        let dedup = self.dedup(input, headers, req.body(), d.item)?;
        let received = received_at.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        let time = value::to_time(&eval(rule.time.as_ref().or(self.time.as_ref()))?)
            .map_err(|e| format!("time: {e}"))?
            .unwrap_or_else(|| received.clone());
        let subject = string(rule.subject.as_ref().or(self.subject.as_ref()), "subject")?;
        let partitionkey = string(
            rule.partition_key.as_ref().or(self.partition_key.as_ref()),
            "partition_key",
        )?;
        let data = rule.data.first(input, headers).map_err(|e| e.to_string())?;
        let data = prune(to_json(&data));
        if !data.is_object() {
            return Err(format!("data must be an object, got `{data}`"));
        }
        let event = CanonicalEvent {
            specversion: crate::event::SPEC_VERSION.to_owned(),
            id: EventId::derive(source, &dedup),
            source: format!("/sources/{source}"),
            ty: rule.ty.clone(),
            time,
            subject,
            datacontenttype: crate::event::DATA_CONTENT_TYPE.to_owned(),
            provider: self.provider.clone(),
            providereventtype: provider_type.to_owned(),
            providereventid,
            tenant: string(self.tenant.as_ref(), "tenant")?,
            receivedat: received,
            partitionkey,
            traceparent: None,
            tracestate: None,
            data,
        };
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::{mapping_schema, MappingError};

    #[test]
    fn headers_read_from_a_prelude_definition_are_provided() -> Result<(), MappingError> {
        let text = r#"
provider = "x"
prelude = 'def kind: $headers["x-kind"];'
[auth]
scheme = "none"
[event]
type = "kind"
[events.a]
type = "contact.created"
data = '{contact: {id: "1"}}'
"#;
        let m = Mapping::compile("x.toml", text, &mapping_schema()?)?;
        let mut h = http::HeaderMap::new();
        h.insert("x-kind", http::HeaderValue::from_static("a"));
        assert_eq!(m.event_type(&h, b"{}").as_deref(), Some("a"));
        Ok(())
    }
}
