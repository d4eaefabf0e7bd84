//! `[output.schema_registry]`: where the Confluent-compatible schema registry is,
//! how to log in to it, how subjects are named and whether hookgate registers its
//! schemas or only looks them up.

use serde::Deserialize;

use crate::secret::Secret;

/// Confluent's three subject name strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SubjectStrategy {
    /// `<topic>-value` (TopicNameStrategy, Confluent's default): one schema per topic.
    #[default]
    Topic,
    /// `<record name>` (RecordNameStrategy): one subject per record kind, any topic.
    Record,
    /// `<topic>-<record name>` (TopicRecordNameStrategy).
    TopicRecord,
}

impl SubjectStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Topic => "topic",
            Self::Record => "record",
            Self::TopicRecord => "topic_record",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaRegistryConfig {
    /// The registry's base URL (`https://psrc-….confluent.cloud`, `http://registry:8081`).
    pub url: String,
    /// Basic auth (Confluent Cloud: the API key); needs `password`.
    #[serde(default)]
    pub username: Option<String>,
    /// Basic auth password (Confluent Cloud: the API secret). Never printed.
    #[serde(default)]
    pub password: Option<Secret>,
    #[serde(default)]
    pub subject_strategy: SubjectStrategy,
    /// Register hookgate's schemas (default) or only use what is registered.
    #[serde(default = "yes")]
    pub auto_register: bool,
}

impl SchemaRegistryConfig {
    /// The URL without a trailing `/` (the client appends `/subjects/…`).
    pub fn base_url(&self) -> &str {
        self.url.trim_end_matches('/')
    }

    /// Checks the settings against the topics events and dead letters can go to.
    pub fn validate(
        &self,
        event_topics: &[String],
        dead_letter_topics: &[String],
    ) -> Result<(), String> {
        let url = self.base_url();
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        if rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) {
            return Err(format!(
                "output.schema_registry.url: `{}` is not an http:// or https:// URL",
                self.url
            ));
        }
        match (&self.username, &self.password) {
            (Some(_), None) | (None, Some(_)) => {
                return Err(
                    "output.schema_registry: set both `username` and `password` \
                            (basic auth) or neither"
                        .into(),
                )
            }
            (Some(u), Some(p)) if u.is_empty() || p.is_empty() => {
                return Err("output.schema_registry: username and password must not be \
                            empty (an unset variable?)"
                    .into())
            }
            _ => {}
        }
        if self.subject_strategy == SubjectStrategy::Topic {
            if let Some(t) = event_topics.iter().find(|t| dead_letter_topics.contains(t)) {
                return Err(format!(
                    "output.schema_registry: topic `{t}` gets both events and dead letters, \
                     and with subject_strategy = \"topic\" both schemas would fight over the \
                     one subject `{t}-value`; give dead letters a topic of their own or use \
                     subject_strategy = \"topic_record\""
                ));
            }
        }
        Ok(())
    }
}

fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Result<SchemaRegistryConfig, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    fn routes(topic: &str, dead: &str) -> (Vec<String>, Vec<String>) {
        (vec![topic.to_owned()], vec![dead.to_owned()])
    }

    #[test]
    fn defaults_and_redaction() {
        let c = config("url = \"http://r:8081/\"\nusername = \"key\"\npassword = \"s3cret\"\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.subject_strategy, SubjectStrategy::Topic);
        assert!(c.auto_register);
        assert_eq!(c.base_url(), "http://r:8081");
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(c.validate(&["e".into()], &["d".into()]).is_ok());
        let c = config(
            "url = \"http://r\"\nsubject_strategy = \"topic_record\"\nauto_register = false\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (c.subject_strategy, c.auto_register),
            (SubjectStrategy::TopicRecord, false)
        );
        assert!(config("url = \"http://r\"\nsubject_strategy = \"subject\"\n").is_err());
        assert!(config("url = \"http://r\"\nschema = \"x\"\n").is_err());
        assert!(config("username = \"u\"\n").is_err());
    }

    #[test]
    fn bad_settings_are_named() {
        let err = |text: &str, r: &(Vec<String>, Vec<String>)| {
            config(text)
                .and_then(|c| c.validate(&r.0, &r.1))
                .err()
                .unwrap_or_default()
        };
        let r = routes("e", "d");
        assert!(err("url = \"registry:8081\"", &r).contains("output.schema_registry.url"));
        assert!(err("url = \"http://\"", &r).contains("output.schema_registry.url"));
        assert!(err("url = \"http://r\"\nusername = \"u\"", &r).contains("both"));
        assert!(err("url = \"http://r\"\npassword = \"p\"", &r).contains("both"));
        assert!(
            err("url = \"http://r\"\nusername = \"u\"\npassword = \"\"", &r)
                .contains("must not be empty")
        );
        // One topic for events and dead letters: two schemas, one subject.
        let shared = routes("all", "all");
        let e = err("url = \"http://r\"", &shared);
        assert!(e.contains("topic `all`") && e.contains("all-value"), "{e}");
        assert_eq!(
            err(
                "url = \"http://r\"\nsubject_strategy = \"topic_record\"",
                &shared
            ),
            ""
        );
    }
}
