//! What hookgate registers in a schema registry: one self-contained JSON Schema per
//! record kind (the CloudEvent envelope, its `data` alone for binary mode, the dead
//! letter), bundled from `schemas/` with every `$ref` moved into `$defs`, and the
//! subject each is registered under. Pure: no network.
//!
//! The envelope, not one schema per canonical type: under the topic strategy (Kafka
//! Connect's default) a subject holds one schema lineage, so per-type schemas on one
//! topic would each be a new, incompatible version of the last. The envelope covers
//! every type through its `type` enum and its data families: one stable id per subject.

use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::SubjectStrategy;
use crate::event::SCHEMAS;

/// The dead-letter record's schema (`crate::event::DeadLetter` as serialized).
pub const DEAD_LETTER_SCHEMA: &str = include_str!("../../../schemas/dead-letter.schema.json");

const ENVELOPE: &str = "cloudevent.schema.json";

/// The kinds of record values hookgate writes to Kafka.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// Structured mode: the whole CloudEvent.
    Event,
    /// Binary mode: the value is the event's `data`.
    EventData,
    DeadLetter,
}

impl RecordKind {
    pub const ALL: [Self; 3] = [Self::Event, Self::EventData, Self::DeadLetter];

    /// The record name (the schema's `title`; the subject under the record strategies).
    pub fn record_name(self) -> &'static str {
        match self {
            Self::Event => "dev.hookgate.CloudEvent",
            Self::EventData => "dev.hookgate.CloudEventData",
            Self::DeadLetter => "dev.hookgate.DeadLetter",
        }
    }

    /// The subject this kind's schema is registered under, for a record on `topic`.
    pub fn subject(self, strategy: SubjectStrategy, topic: &str) -> String {
        match strategy {
            SubjectStrategy::Topic => format!("{topic}-value"),
            SubjectStrategy::Record => self.record_name().to_owned(),
            SubjectStrategy::TopicRecord => format!("{topic}-{}", self.record_name()),
        }
    }

    /// The bundled schema, as registered (compact JSON text).
    pub fn schema(self) -> Result<&'static str, String> {
        match &*BUNDLED {
            Ok(b) => Ok(match self {
                Self::Event => &b.event,
                Self::EventData => &b.event_data,
                Self::DeadLetter => &b.dead_letter,
            }),
            Err(e) => Err(e.clone()),
        }
    }
}

struct Bundled {
    event: String,
    event_data: String,
    dead_letter: String,
}

static BUNDLED: LazyLock<Result<Bundled, String>> = LazyLock::new(bundle);

fn parse(name: &str, text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(format!("schema {name} is not a JSON object")),
        Err(e) => Err(format!("schema {name} is not valid JSON: {e}")),
    }
}

/// The `$defs` name of a family schema file: `message.schema.json` → `message`.
fn def_name(file: &str) -> &str {
    file.strip_suffix(".schema.json").unwrap_or(file)
}

/// Rewrites every `$ref` to a family file into a reference to its `$defs` entry.
fn rewrite_refs(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, inner) in m.iter_mut() {
                match inner {
                    Value::String(r) if k == "$ref" && r.ends_with(".schema.json") => {
                        let name = def_name(r.rsplit('/').next().unwrap_or(r)).to_owned();
                        *r = format!("#/$defs/{name}");
                    }
                    _ => rewrite_refs(inner),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

/// A schema made a record's: its own `title`, no `$id` (the registry's id is its
/// identity), the families in `$defs`.
fn finish(
    mut schema: Map<String, Value>,
    kind: RecordKind,
    defs: &Map<String, Value>,
) -> Result<String, String> {
    schema.remove("$id");
    schema.insert(
        "$schema".into(),
        Value::String("https://json-schema.org/draft/2020-12/schema".into()),
    );
    schema.insert("title".into(), Value::String(kind.record_name().into()));
    if !defs.is_empty() {
        schema.insert("$defs".into(), Value::Object(defs.clone()));
    }
    let mut v = Value::Object(schema);
    rewrite_refs(&mut v);
    serde_json::to_string(&v).map_err(|e| e.to_string())
}

fn bundle() -> Result<Bundled, String> {
    let mut envelope = None;
    let mut defs = Map::new();
    for (name, text) in SCHEMAS {
        let mut schema = parse(name, text)?;
        if *name == ENVELOPE {
            envelope = Some(schema);
            continue;
        }
        // A family is a subschema now: `$id` would make it a resource of its own
        // (resolved against a URL nobody serves), `$schema` belongs to the root.
        schema.remove("$id");
        schema.remove("$schema");
        defs.insert(def_name(name).to_owned(), Value::Object(schema));
    }
    let envelope = envelope.ok_or_else(|| format!("{ENVELOPE} is not embedded"))?;
    let data = match envelope
        .get("properties")
        .and_then(|p| p.get("data"))
        .cloned()
    {
        Some(Value::Object(d)) => d,
        _ => return Err(format!("{ENVELOPE} has no `properties.data` object")),
    };
    Ok(Bundled {
        event: finish(envelope, RecordKind::Event, &defs)?,
        event_data: finish(data, RecordKind::EventData, &defs)?,
        dead_letter: finish(
            parse("dead-letter.schema.json", DEAD_LETTER_SCHEMA)?,
            RecordKind::DeadLetter,
            &Map::new(),
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{DeadLetter, DeadLetterReason, Kept, Rejection, SealConfig, SourceId};

    fn validator(kind: RecordKind) -> jsonschema::Validator {
        let text = kind.schema().unwrap_or_else(|e| panic!("{e}"));
        let schema: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"));
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"))
    }

    fn assert_valid(v: &jsonschema::Validator, value: &Value, what: &str) {
        let errors: Vec<String> = v.iter_errors(value).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{what}: {errors:?}");
    }

    #[test]
    fn subjects_follow_confluents_strategies() {
        let s = |strategy, kind: RecordKind| kind.subject(strategy, "webhooks.events");
        assert_eq!(
            s(SubjectStrategy::Topic, RecordKind::Event),
            "webhooks.events-value"
        );
        assert_eq!(
            s(SubjectStrategy::Record, RecordKind::EventData),
            "dev.hookgate.CloudEventData"
        );
        assert_eq!(
            s(SubjectStrategy::TopicRecord, RecordKind::DeadLetter),
            "webhooks.events-dev.hookgate.DeadLetter"
        );
    }

    #[test]
    fn bundles_are_self_contained_and_titled_by_record_name() {
        for kind in RecordKind::ALL {
            let text = kind.schema().unwrap_or_else(|e| panic!("{e}"));
            let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(v["title"], kind.record_name());
            assert!(v.get("$id").is_none(), "{kind:?}");
            // Every reference is local: a consumer needs nothing but this schema.
            assert!(!text.contains(".schema.json"), "{kind:?}: {text}");
            // Compiles without any other resource registered.
            validator(kind);
        }
        let event: Value = serde_json::from_str(RecordKind::Event.schema().unwrap_or_default())
            .unwrap_or_default();
        assert_eq!(
            event["properties"]["data"]["properties"]["message"]["$ref"],
            "#/$defs/message"
        );
        assert!(event["$defs"]["message"].get("$id").is_none());
        let data: Value = serde_json::from_str(RecordKind::EventData.schema().unwrap_or_default())
            .unwrap_or_default();
        assert_eq!(data["properties"]["ticket"]["$ref"], "#/$defs/ticket");
        assert_eq!(data["$defs"], event["$defs"]);
    }

    /// Every canonical event the fixtures expect (all providers) fits the bundled
    /// envelope, and its `data` the bundled data schema.
    #[test]
    fn every_fixture_event_validates_against_the_bundled_schemas() {
        let (event_v, data_v) = (
            validator(RecordKind::Event),
            validator(RecordKind::EventData),
        );
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut checked = 0;
        let mut dirs: Vec<_> = std::fs::read_dir(&root)
            .unwrap_or_else(|e| panic!("{e}"))
            .flatten()
            .flat_map(|p| std::fs::read_dir(p.path()).into_iter().flatten().flatten())
            .map(|c| c.path().join("expected.json"))
            .filter(|p| p.exists())
            .collect();
        dirs.sort();
        for path in dirs {
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
            let expected: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
            let mut events: Vec<&Value> = expected.get("event").into_iter().collect();
            if let Some(items) = expected["events"].as_array() {
                events.extend(items.iter().filter_map(|i| i.get("event")));
            }
            for ev in events {
                let what = path.display().to_string();
                assert_valid(&event_v, ev, &what);
                assert_valid(&data_v, &ev["data"], &what);
                checked += 1;
            }
        }
        assert!(checked > 50, "only {checked} fixture events found");
        // The envelope's rules still hold: a message event needs `data.message`.
        let mut wrong: Value = serde_json::json!({
            "specversion": "1.0", "id": "aa7dcb06-54a7-523c-8ca7-d13cb7b99d83",
            "source": "/sources/s", "type": "message.created", "time": "2026-01-01T00:00:00Z",
            "datacontenttype": "application/json", "provider": "p",
            "providereventtype": "x", "receivedat": "2026-01-01T00:00:00Z",
            "data": {"contact": {"id": "c"}}
        });
        assert!(!event_v.is_valid(&wrong));
        wrong["type"] = "contact.created".into();
        assert_valid(&event_v, &wrong, "contact event");
        assert!(!data_v.is_valid(&serde_json::json!({"nope": 1})));
    }

    fn every_reason() -> Vec<DeadLetterReason> {
        use DeadLetterReason as R;
        let all = [
            R::MalformedJson,
            R::UnknownEventType,
            R::MappingError,
            R::SchemaViolation,
            R::TypeMismatch,
            R::MalformedForm,
            R::BatchTooLarge,
            R::EventTooOld,
        ];
        // A new reason fails to compile here until it is listed above (and so in
        // the schema, which the test below checks).
        for r in all {
            match r {
                R::MalformedJson
                | R::UnknownEventType
                | R::MappingError
                | R::SchemaViolation
                | R::TypeMismatch
                | R::MalformedForm
                | R::BatchTooLarge
                | R::EventTooOld => {}
            }
        }
        all.to_vec()
    }

    /// A real sealed dead letter, with every optional field set and with none,
    /// fits the schema, and so does each reason; a field the type does not have
    /// does not.
    #[test]
    fn dead_letters_validate_against_the_bundled_schema() {
        let v = validator(RecordKind::DeadLetter);
        let sealer = SealConfig {
            keys: vec!["a-dead-letter-seal-key-0123456789".into()],
        }
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
        let source = SourceId::parse("sahut").unwrap_or_else(|e| panic!("{e}"));
        let at = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00.123Z")
            .unwrap_or_else(|e| panic!("{e}"))
            .with_timezone(&chrono::Utc);
        let make = |body: &[u8], query, item, why: Rejection| {
            let mut d = DeadLetter::new(
                &source,
                "sahut",
                Kept {
                    headers: [("x-signature".to_owned(), "sha256=ab".to_owned())].into(),
                    body,
                    query,
                    item,
                    identity: None,
                },
                &at,
                why,
            );
            sealer.seal(&mut d);
            d
        };
        let full = make(
            b"{\"event\":\"x\"}",
            Some("a=1"),
            Some(2),
            Rejection::new(DeadLetterReason::UnknownEventType, "no mapping").of_type("x"),
        );
        let bare = make(
            &[0xff, 0xfe],
            None,
            None,
            Rejection::new(DeadLetterReason::MalformedJson, "not JSON"),
        );
        assert!(full.seal.is_some() && full.item.is_some() && full.query.is_some());
        assert!(bare.body_base64.is_some() && bare.body.is_none());
        for d in [&full, &bare] {
            let value = serde_json::to_value(d).unwrap_or_else(|e| panic!("{e}"));
            assert_valid(&v, &value, "dead letter");
        }
        for reason in every_reason() {
            let mut d = full.clone();
            d.reason = reason;
            let value = serde_json::to_value(&d).unwrap_or_else(|e| panic!("{e}"));
            assert_valid(&v, &value, reason.as_str());
        }
        let mut extra = serde_json::to_value(&full).unwrap_or_else(|e| panic!("{e}"));
        extra["unexpected"] = Value::Bool(true);
        assert!(!v.is_valid(&extra));
        let mut both = serde_json::to_value(&bare).unwrap_or_else(|e| panic!("{e}"));
        both["body"] = "x".into();
        assert!(!v.is_valid(&both), "body and body_base64 are exclusive");
    }
}
