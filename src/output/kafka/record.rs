//! The Kafka records hookgate writes, built without a broker: the CloudEvents Kafka
//! protocol binding for events (structured or binary mode) and the dead-letter
//! record format, each value framed with its schema id when a schema registry is
//! configured. The producer (and the spool) write exactly these.

use serde::Serialize;

use super::KafkaMode;
use crate::event::{CanonicalEvent, DeadLetter};
use crate::output::registry::wire;
use crate::output::OutputError;

/// One Kafka record: where it goes and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub topic: String,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
}

/// The `content-type` of a structured-mode event.
pub const STRUCTURED_CONTENT_TYPE: &str = "application/cloudevents+json; charset=utf-8";

/// A value as JSON, after the Confluent wire-format header when `schema_id` is
/// given: one buffer, written once (unframed, exactly `serde_json::to_vec`).
fn encode<T: Serialize + ?Sized>(
    value: &T,
    schema_id: Option<u32>,
) -> Result<Vec<u8>, OutputError> {
    let mut out = Vec::with_capacity(128);
    if let Some(id) = schema_id {
        out.extend_from_slice(&wire::header(id));
    }
    serde_json::to_writer(&mut out, value).map_err(|e| OutputError::Encode(e.to_string()))?;
    Ok(out)
}

/// The record for an event: keyed by its partition key (else its id), per the
/// CloudEvents Kafka binding in `mode`; the value framed with `schema_id` if given.
pub fn event_record(
    event: &CanonicalEvent,
    topic: &str,
    mode: KafkaMode,
    schema_id: Option<u32>,
) -> Result<Record, OutputError> {
    let key = event.key().into_bytes();
    let header = |k: &str, v: &str| (k.to_owned(), v.as_bytes().to_vec());
    match mode {
        KafkaMode::Structured => {
            let mut headers = vec![header("content-type", STRUCTURED_CONTENT_TYPE)];
            headers.extend(trace_headers(&event.traceparent, &event.tracestate));
            Ok(Record {
                topic: topic.to_owned(),
                key,
                value: encode(event, schema_id)?,
                headers,
            })
        }
        KafkaMode::Binary => {
            let id = event.id.to_string();
            let attrs: [(&str, Option<&str>); 14] = [
                ("ce_specversion", Some(&event.specversion)),
                ("ce_id", Some(&id)),
                ("ce_source", Some(&event.source)),
                ("ce_type", Some(&event.ty)),
                ("ce_time", Some(&event.time)),
                ("ce_subject", event.subject.as_deref()),
                ("ce_provider", Some(&event.provider)),
                ("ce_providereventtype", Some(&event.providereventtype)),
                ("ce_providereventid", event.providereventid.as_deref()),
                ("ce_tenant", event.tenant.as_deref()),
                ("ce_receivedat", Some(&event.receivedat)),
                ("ce_partitionkey", event.partitionkey.as_deref()),
                ("ce_traceparent", event.traceparent.as_deref()),
                ("ce_tracestate", event.tracestate.as_deref()),
            ];
            let mut headers = vec![header("content-type", &event.datacontenttype)];
            headers.extend(
                attrs
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| header(k, v))),
            );
            headers.extend(trace_headers(&event.traceparent, &event.tracestate));
            Ok(Record {
                topic: topic.to_owned(),
                key,
                value: encode(&event.data, schema_id)?,
                headers,
            })
        }
    }
}

/// The record for a dead letter: keyed by source, so one source's dead letters
/// stay in order; the reason also in a header, for consumers that filter.
pub fn dead_letter_record(
    record: &DeadLetter,
    topic: &str,
    schema_id: Option<u32>,
) -> Result<Record, OutputError> {
    let mut headers = vec![
        ("content-type".to_owned(), b"application/json".to_vec()),
        (
            "hookgate_reason".to_owned(),
            record.reason.as_str().as_bytes().to_vec(),
        ),
    ];
    headers.extend(trace_headers(&record.traceparent, &record.tracestate));
    Ok(Record {
        topic: topic.to_owned(),
        key: record.source.as_bytes().to_vec(),
        value: encode(record, schema_id)?,
        headers,
    })
}

/// The W3C `traceparent`/`tracestate` headers every record carries when its
/// event (or dead letter) has a trace context, whatever the mode: a consumer
/// continues the trace from them without reading the value.
fn trace_headers<'a>(
    traceparent: &'a Option<String>,
    tracestate: &'a Option<String>,
) -> impl Iterator<Item = (String, Vec<u8>)> + 'a {
    [("traceparent", traceparent), ("tracestate", tracestate)]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_owned(), v.as_bytes().to_vec())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{DeadLetterReason, DedupId, EventId, SourceId};
    use serde_json::json;

    fn event(partitionkey: Option<&str>) -> CanonicalEvent {
        let source = SourceId::parse("sahut").unwrap_or_else(|e| panic!("{e}"));
        CanonicalEvent {
            specversion: "1.0".into(),
            id: EventId::derive(&source, &DedupId::new("evt_1")),
            source: "/sources/sahut".into(),
            ty: "message.created".into(),
            time: "2026-01-01T00:00:00Z".into(),
            subject: Some("msg_1".into()),
            datacontenttype: "application/json".into(),
            provider: "sahut".into(),
            providereventtype: "message.created".into(),
            providereventid: Some("evt_1".into()),
            tenant: None,
            receivedat: "2026-01-01T00:00:01Z".into(),
            partitionkey: partitionkey.map(str::to_owned),
            traceparent: None,
            tracestate: None,
            data: json!({"message": {"id": "msg_1"}}),
        }
    }

    fn header<'a>(r: &'a Record, k: &str) -> Option<&'a str> {
        r.headers
            .iter()
            .find(|(name, _)| name == k)
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    #[test]
    fn structured_mode_is_the_whole_event_keyed_by_partition_key() {
        let ev = event(Some("conv_1"));
        let r =
            event_record(&ev, "t", KafkaMode::Structured, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (r.topic.as_str(), r.key.as_slice()),
            ("t", b"conv_1".as_slice())
        );
        let value: serde_json::Value =
            serde_json::from_slice(&r.value).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(value["id"], ev.id.to_string());
        assert_eq!(value["data"]["message"]["id"], "msg_1");
        assert_eq!(header(&r, "content-type"), Some(STRUCTURED_CONTENT_TYPE));
        assert_eq!(r.headers.len(), 1);
    }

    #[test]
    fn binary_mode_is_the_data_with_ce_headers_keyed_by_id_without_partition_key() {
        let ev = event(None);
        let r = event_record(&ev, "t", KafkaMode::Binary, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.key, ev.id.to_string().into_bytes());
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&r.value).ok(),
            Some(json!({"message": {"id": "msg_1"}}))
        );
        assert_eq!(header(&r, "content-type"), Some("application/json"));
        assert_eq!(header(&r, "ce_id"), Some(ev.id.to_string().as_str()));
        assert_eq!(header(&r, "ce_type"), Some("message.created"));
        assert_eq!(header(&r, "ce_subject"), Some("msg_1"));
        // Absent attributes are absent headers, never empty ones.
        assert_eq!(header(&r, "ce_tenant"), None);
        assert_eq!(header(&r, "ce_partitionkey"), None);
        assert_eq!(r.headers.len(), 11);
    }

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn the_trace_context_rides_in_headers_in_both_modes_and_in_the_structured_value() {
        let mut ev = event(None);
        ev.traceparent = Some(TP.to_owned());
        ev.tracestate = Some("rojo=00f067aa0ba902b7".to_owned());
        let s =
            event_record(&ev, "t", KafkaMode::Structured, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(header(&s, "traceparent"), Some(TP));
        assert_eq!(header(&s, "tracestate"), Some("rojo=00f067aa0ba902b7"));
        let value: serde_json::Value =
            serde_json::from_slice(&s.value).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(value["traceparent"], TP);
        assert_eq!(value["tracestate"], "rojo=00f067aa0ba902b7");
        let b = event_record(&ev, "t", KafkaMode::Binary, None).unwrap_or_else(|e| panic!("{e}"));
        for name in ["traceparent", "ce_traceparent"] {
            assert_eq!(header(&b, name), Some(TP), "{name}");
        }
        assert_eq!(header(&b, "ce_tracestate"), Some("rojo=00f067aa0ba902b7"));
        // Without a trace: no header, no attribute.
        let plain = event_record(&event(None), "t", KafkaMode::Structured, None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(header(&plain, "traceparent"), None);
        assert!(!String::from_utf8_lossy(&plain.value).contains("traceparent"));
    }

    #[test]
    fn with_a_schema_id_every_value_is_framed_and_nothing_else_changes() {
        let ev = event(Some("conv_1"));
        for mode in [KafkaMode::Structured, KafkaMode::Binary] {
            let plain = event_record(&ev, "t", mode, None).unwrap_or_else(|e| panic!("{e}"));
            let framed = event_record(&ev, "t", mode, Some(258)).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&framed.value[..5], &[0, 0, 0, 1, 2], "{mode:?}");
            assert_eq!(&framed.value[5..], plain.value.as_slice(), "{mode:?}");
            assert_eq!(
                (&framed.topic, &framed.key, &framed.headers),
                (&plain.topic, &plain.key, &plain.headers)
            );
        }
        let d = dead_letter();
        let plain = dead_letter_record(&d, "dl", None).unwrap_or_else(|e| panic!("{e}"));
        let framed = dead_letter_record(&d, "dl", Some(7)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            wire::unframe(&framed.value),
            Some((7, plain.value.as_slice()))
        );
        assert_eq!(framed.headers, plain.headers);
    }

    fn dead_letter() -> DeadLetter {
        DeadLetter {
            id: event(None).id,
            source: "sahut".into(),
            provider: "sahut".into(),
            reason: DeadLetterReason::UnknownEventType,
            detail: "no mapping".into(),
            providereventtype: None,
            received_at: "2026-01-01T00:00:00Z".into(),
            headers: Default::default(),
            body: Some("{}".into()),
            body_base64: None,
            query: None,
            item: None,
            traceparent: None,
            tracestate: None,
            seal: None,
        }
    }

    #[test]
    fn dead_letters_are_keyed_by_source_with_the_reason_in_a_header() {
        let d = dead_letter();
        let r = dead_letter_record(&d, "dl", None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (r.topic.as_str(), r.key.as_slice()),
            ("dl", b"sahut".as_slice())
        );
        assert_eq!(header(&r, "hookgate_reason"), Some("unknown_event_type"));
        assert_eq!(header(&r, "traceparent"), None);
        let traced = DeadLetter {
            traceparent: Some(TP.to_owned()),
            ..d.clone()
        };
        let t = dead_letter_record(&traced, "dl", None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(header(&t, "traceparent"), Some(TP));
        let back: DeadLetter = serde_json::from_slice(&r.value).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, d);
    }
}
