//! The canonical-event JSON Schemas (shipped in `schemas/`, embedded in the binary),
//! compiled once and applied to every event produced.

use serde_json::Value;

const BASE: &str = "https://hookgate.dev/schemas/v1/";

/// (file name, contents) of every schema the envelope refers to.
pub const SCHEMAS: &[(&str, &str)] = &[
    (
        "cloudevent.schema.json",
        include_str!("../../schemas/cloudevent.schema.json"),
    ),
    (
        "message.schema.json",
        include_str!("../../schemas/message.schema.json"),
    ),
    (
        "conversation.schema.json",
        include_str!("../../schemas/conversation.schema.json"),
    ),
    (
        "contact.schema.json",
        include_str!("../../schemas/contact.schema.json"),
    ),
    (
        "ticket.schema.json",
        include_str!("../../schemas/ticket.schema.json"),
    ),
    (
        "product.schema.json",
        include_str!("../../schemas/product.schema.json"),
    ),
    (
        "post.schema.json",
        include_str!("../../schemas/post.schema.json"),
    ),
    (
        "campaign.schema.json",
        include_str!("../../schemas/campaign.schema.json"),
    ),
    (
        "feedback.schema.json",
        include_str!("../../schemas/feedback.schema.json"),
    ),
    (
        "resource.schema.json",
        include_str!("../../schemas/resource.schema.json"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("schema {name} is not valid JSON: {detail}")]
    Json { name: String, detail: String },
    #[error("schema {name} does not compile: {detail}")]
    Compile { name: String, detail: String },
}

/// Validates canonical events against the envelope and the data-family schemas.
pub struct EventValidator {
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for EventValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventValidator")
    }
}

impl EventValidator {
    pub fn new() -> Result<Self, SchemaError> {
        let mut parsed = Vec::with_capacity(SCHEMAS.len());
        for (name, text) in SCHEMAS {
            let v: Value = serde_json::from_str(text).map_err(|e| SchemaError::Json {
                name: (*name).to_owned(),
                detail: e.to_string(),
            })?;
            parsed.push((*name, v));
        }
        let compile_err = |detail: String| SchemaError::Compile {
            name: "cloudevent.schema.json".to_owned(),
            detail,
        };
        let mut registry = jsonschema::Registry::new();
        let mut envelope = Value::Null;
        for (name, v) in parsed {
            if name == "cloudevent.schema.json" {
                envelope = v;
                continue;
            }
            let resource = jsonschema::Resource::from_contents(v);
            registry = registry
                .add(format!("{BASE}{name}"), resource)
                .map_err(|e| compile_err(e.to_string()))?;
        }
        let registry = registry.prepare().map_err(|e| compile_err(e.to_string()))?;
        let validator = jsonschema::options()
            .with_registry(&registry)
            .should_validate_formats(true)
            .build(&envelope)
            .map_err(|e| compile_err(e.to_string()))?;
        Ok(Self { validator })
    }

    /// `Err` holds a short list of violations (at most five), each the JSON pointer
    /// into the event and the rule it breaks. The payload's values stay out: the
    /// detail goes to logs, dead letters and the inspector page.
    pub fn validate(&self, event: &Value) -> Result<(), String> {
        // The yes/no answer is much cheaper than collecting errors; only a failing
        // event pays for the explanation.
        if self.validator.is_valid(event) {
            return Ok(());
        }
        let msgs: Vec<String> = self
            .validator
            .iter_errors(event)
            .take(5)
            .map(|e| violation(e.instance_path().as_str(), e.kind()))
            .collect();
        Err(msgs.join("; "))
    }
}

/// `pointer: keyword`, with what the schema (never the payload) says for the two
/// rules whose keyword alone does not tell what is wrong.
fn violation(pointer: &str, kind: &jsonschema::error::ValidationErrorKind) -> String {
    use jsonschema::error::{TypeKind, ValidationErrorKind as K};
    let at = if pointer.is_empty() { "/" } else { pointer };
    match kind {
        K::Required { property } => format!("{at}: required {property}"),
        K::Type {
            kind: TypeKind::Single(t),
        } => format!("{at}: type (expected {t})"),
        other => format!("{at}: {}", other.keyword()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({
            "specversion": "1.0",
            "id": "8a0e6a4e-4c0e-5d2b-9f3a-111111111111",
            "source": "/sources/sahut-main",
            "type": "message.created",
            "time": "2026-01-15T10:30:00Z",
            "datacontenttype": "application/json",
            "provider": "sahut",
            "providereventtype": "message.created",
            "receivedat": "2026-01-15T10:30:01Z",
            "data": {"message": {"id": "msg_1", "direction": "inbound"}}
        })
    }

    #[test]
    fn accepts_valid_and_rejects_violations() -> Result<(), Box<dyn std::error::Error>> {
        let v = EventValidator::new()?;
        v.validate(&event()).map_err(|e| e.to_string())?;
        // Each violation is reported at the place it is.
        let violation = |bad: &Value| v.validate(bad).err().unwrap_or_default();
        let mut bad = event();
        bad["data"]["message"]["direction"] = json!("sideways");
        let e = violation(&bad);
        // The place and the rule, never the payload's value.
        assert_eq!(e, "/data/message/direction: enum");
        let mut bad = event();
        bad["data"] = json!({"contact": {"id": "c"}});
        let e = violation(&bad);
        assert_eq!(
            e, "/data: required \"message\"",
            "message.* must carry data.message"
        );
        let mut bad = event();
        bad["type"] = json!("message.exploded");
        let e = violation(&bad);
        assert_eq!(e, "/type: enum");
        let mut bad = event();
        bad["time"] = json!("yesterday");
        let e = violation(&bad);
        assert_eq!(e, "/time: format", "the rule, not the value");
        Ok(())
    }

    /// The detail goes to the log, the dead letter and the inspector: it names where
    /// and which rule, never the payload's value.
    #[test]
    fn a_violation_names_the_place_and_the_rule_not_the_value(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let v = EventValidator::new()?;
        let secret = "4111-1111-1111-1111 secret";
        let mut bad = event();
        bad["data"]["message"]["direction"] = json!(secret);
        bad["time"] = json!(secret);
        bad["data"]["message"]["id"] = json!({"card": secret});
        let Err(detail) = v.validate(&bad) else {
            return Err("validated".into());
        };
        assert!(!detail.contains("4111"), "{detail}");
        assert!(!detail.contains("card"), "{detail}");
        assert!(detail.contains("/data/message/direction: enum"), "{detail}");
        assert!(detail.contains("/time: format"), "{detail}");
        assert!(detail.contains("/data/message/id: type"), "{detail}");
        Ok(())
    }
}
