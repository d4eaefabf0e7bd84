//! `[[output.route]]`: which topic each event and each dead letter goes to. Rules
//! are tried in order and the first match wins; what no rule takes goes to `topic`
//! (`dead_letter_topic`). Pure: no broker, so `hookgate check` shows the topic of
//! every fixture and the rules are tested alone.

use globset::{Glob, GlobMatcher};
use serde::Deserialize;

/// One routing rule as written in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Glob on the canonical `type` (e.g. `"message.*"`).
    #[serde(default, rename = "type")]
    pub ty: Option<String>,
    /// Glob on the provider (`"whatsapp"`, `"zendesk"`).
    #[serde(default)]
    pub provider: Option<String>,
    /// Glob on the source id (the `id` of a `[[source]]`).
    #[serde(default)]
    pub source: Option<String>,
    /// Glob on the event's `tenant`; an event without a tenant never matches one.
    #[serde(default)]
    pub tenant: Option<String>,
    /// Where the matching events go.
    #[serde(default)]
    pub topic: Option<String>,
    /// Where the matching sources' dead letters go (matched on `provider`/`source`
    /// only: a dead letter has no canonical type or tenant).
    #[serde(default)]
    pub dead_letter_topic: Option<String>,
}

/// What a rule can look at.
#[derive(Debug, Clone, Copy)]
pub struct RouteKey<'a> {
    pub ty: Option<&'a str>,
    pub provider: &'a str,
    pub source: &'a str,
    pub tenant: Option<&'a str>,
}

#[derive(Debug, Clone)]
struct Matcher {
    ty: Option<GlobMatcher>,
    provider: Option<GlobMatcher>,
    source: Option<GlobMatcher>,
    tenant: Option<GlobMatcher>,
}

impl Matcher {
    fn matches(&self, key: &RouteKey<'_>) -> bool {
        let opt = |m: &Option<GlobMatcher>, v: Option<&str>| match (m, v) {
            (None, _) => true,
            (Some(m), Some(v)) => m.is_match(v),
            (Some(_), None) => false,
        };
        opt(&self.ty, key.ty)
            && opt(&self.provider, Some(key.provider))
            && opt(&self.source, Some(key.source))
            && opt(&self.tenant, key.tenant)
    }
}

impl<'a> RouteKey<'a> {
    /// What the rules see of an event.
    pub fn of(event: &'a crate::event::CanonicalEvent) -> Self {
        Self {
            ty: Some(&event.ty),
            provider: &event.provider,
            source: event.source_id(),
            tenant: event.tenant.as_deref(),
        }
    }
}

/// The compiled rules with the default topics.
#[derive(Debug, Clone)]
pub struct Routes {
    events: Vec<(Matcher, String)>,
    dead_letters: Vec<(Matcher, String)>,
    topic: String,
    dead_letter_topic: String,
}

impl Routes {
    /// Compiles `rules`; an error names the rule (`output.route[N]`) and the key.
    pub fn compile(
        rules: &[RouteConfig],
        topic: &str,
        dead_letter_topic: &str,
    ) -> Result<Self, String> {
        let mut routes = Self {
            events: Vec::new(),
            dead_letters: Vec::new(),
            topic: topic.to_owned(),
            dead_letter_topic: dead_letter_topic.to_owned(),
        };
        check_topic("output.topic", topic)?;
        check_topic("output.dead_letter_topic", dead_letter_topic)?;
        for (n, rule) in rules.iter().enumerate() {
            let at = format!("output.route[{n}]");
            let glob = |key: &str, pattern: &Option<String>| -> Result<_, String> {
                pattern
                    .as_deref()
                    .map(|p| {
                        Glob::new(p)
                            .map(|g| g.compile_matcher())
                            .map_err(|e| format!("{at}.{key}: {e}"))
                    })
                    .transpose()
            };
            let matcher = Matcher {
                ty: glob("type", &rule.ty)?,
                provider: glob("provider", &rule.provider)?,
                source: glob("source", &rule.source)?,
                tenant: glob("tenant", &rule.tenant)?,
            };
            if rule.topic.is_none() && rule.dead_letter_topic.is_none() {
                return Err(format!("{at}: set `topic` or `dead_letter_topic`"));
            }
            if let Some(t) = &rule.topic {
                check_topic(&format!("{at}.topic"), t)?;
                routes.events.push((matcher.clone(), t.clone()));
            }
            if let Some(t) = &rule.dead_letter_topic {
                check_topic(&format!("{at}.dead_letter_topic"), t)?;
                if rule.ty.is_some() || rule.tenant.is_some() {
                    return Err(format!(
                        "{at}: `dead_letter_topic` routes by `provider` and `source` only \
                         (a dead letter has no canonical type or tenant); put it in a rule of its own"
                    ));
                }
                routes.dead_letters.push((matcher, t.clone()));
            }
        }
        Ok(routes)
    }

    /// The topic of an event with these attributes.
    pub fn event_topic(&self, key: &RouteKey<'_>) -> &str {
        self.events
            .iter()
            .find(|(m, _)| m.matches(key))
            .map_or(&self.topic, |(_, t)| t)
    }

    /// The topic of a dead letter of this provider and source.
    pub fn dead_letter_topic(&self, provider: &str, source: &str) -> &str {
        let key = RouteKey {
            ty: None,
            provider,
            source,
            tenant: None,
        };
        self.dead_letters
            .iter()
            .find(|(m, _)| m.matches(&key))
            .map_or(&self.dead_letter_topic, |(_, t)| t)
    }

    /// Every topic a record can go to (the defaults first), each once: what
    /// readiness checks exists.
    pub fn topics(&self) -> Vec<String> {
        let mut all = vec![self.topic.clone(), self.dead_letter_topic.clone()];
        for (_, t) in self.events.iter().chain(&self.dead_letters) {
            if !all.contains(t) {
                all.push(t.clone());
            }
        }
        all
    }

    /// Every topic an event can go to (the default first), each once.
    pub fn event_topics(&self) -> Vec<String> {
        distinct(&self.topic, &self.events)
    }

    /// Every topic a dead letter can go to (the default first), each once.
    pub fn dead_letter_topics(&self) -> Vec<String> {
        distinct(&self.dead_letter_topic, &self.dead_letters)
    }
}

fn distinct(default: &str, rules: &[(Matcher, String)]) -> Vec<String> {
    let mut all = vec![default.to_owned()];
    for (_, t) in rules {
        if !all.contains(t) {
            all.push(t.clone());
        }
    }
    all
}

/// Kafka's own rule for topic names, checked before a broker says it.
fn check_topic(key: &str, topic: &str) -> Result<(), String> {
    let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if topic.is_empty()
        || topic.len() > 249
        || !topic.chars().all(legal)
        || topic == "."
        || topic == ".."
    {
        return Err(format!(
            "{key}: `{topic}` is not a Kafka topic name (1-249 of a-z A-Z 0-9 . _ -)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> RouteConfig {
        toml::from_str(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn key<'a>(
        ty: &'a str,
        provider: &'a str,
        source: &'a str,
        tenant: Option<&'a str>,
    ) -> RouteKey<'a> {
        RouteKey {
            ty: Some(ty),
            provider,
            source,
            tenant,
        }
    }

    #[test]
    fn first_match_wins_and_the_rest_goes_to_the_default() {
        let routes = Routes::compile(
            &[
                rule("type = \"message.*\"\nprovider = \"whatsapp\"\ntopic = \"wa.messages\""),
                rule("type = \"message.*\"\ntopic = \"chat.messages\""),
                rule("tenant = \"acme-*\"\ntopic = \"acme.events\""),
                rule("source = \"zendesk-*\"\ndead_letter_topic = \"support.dead\""),
            ],
            "webhooks.events",
            "webhooks.dead-letter",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let t = |k| routes.event_topic(&k).to_owned();
        assert_eq!(
            t(key("message.created", "whatsapp", "wa", None)),
            "wa.messages"
        );
        assert_eq!(
            t(key("message.created", "slack", "s", None)),
            "chat.messages"
        );
        assert_eq!(
            t(key("ticket.created", "zendesk", "z", Some("acme-eu"))),
            "acme.events"
        );
        // No tenant never matches a tenant pattern.
        assert_eq!(
            t(key("ticket.created", "zendesk", "z", None)),
            "webhooks.events"
        );
        assert_eq!(
            routes.dead_letter_topic("zendesk", "zendesk-eu"),
            "support.dead"
        );
        assert_eq!(
            routes.dead_letter_topic("slack", "s"),
            "webhooks.dead-letter"
        );
        assert_eq!(
            routes.topics(),
            [
                "webhooks.events",
                "webhooks.dead-letter",
                "wa.messages",
                "chat.messages",
                "acme.events",
                "support.dead"
            ]
        );
        assert_eq!(
            routes.event_topics(),
            [
                "webhooks.events",
                "wa.messages",
                "chat.messages",
                "acme.events"
            ]
        );
        assert_eq!(
            routes.dead_letter_topics(),
            ["webhooks.dead-letter", "support.dead"]
        );
    }

    #[test]
    fn bad_rules_are_named() {
        let err =
            |rules: &[RouteConfig]| Routes::compile(rules, "e", "d").err().unwrap_or_default();
        assert!(err(&[rule("type = \"a\"")]).contains("output.route[0]: set `topic`"));
        assert!(err(&[rule("topic = \"bad topic\"")]).contains("output.route[0].topic"));
        assert!(err(&[rule("type = \"[\"\ntopic = \"t\"")]).contains("output.route[0].type"));
        assert!(err(&[rule("type = \"a\"\ndead_letter_topic = \"d2\"")])
            .contains("by `provider` and `source` only"));
        assert!(toml::from_str::<RouteConfig>("kind = \"x\"").is_err());
    }
}
