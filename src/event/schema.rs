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

    /// `Err` holds a short, human-readable list of violations (at most five).
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
            .map(|e| format!("{}: {}", e.instance_path(), e))
            .collect();
        Err(msgs.join("; "))
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
        assert!(
            e.contains("/data/message/direction") && e.contains("sideways"),
            "{e:?}"
        );
        let mut bad = event();
        bad["data"] = json!({"contact": {"id": "c"}});
        let e = violation(&bad);
        assert!(
            e.contains("/data") && e.contains("message"),
            "message.* must carry data.message: {e:?}"
        );
        let mut bad = event();
        bad["type"] = json!("message.exploded");
        let e = violation(&bad);
        assert!(
            e.contains("/type") && e.contains("message.exploded"),
            "{e:?}"
        );
        let mut bad = event();
        bad["time"] = json!("yesterday");
        let e = violation(&bad);
        assert!(e.contains("/time") && e.contains("yesterday"), "{e:?}");
        Ok(())
    }
}
