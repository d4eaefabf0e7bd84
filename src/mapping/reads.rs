//! Which event fields read request headers the provider's signature does not
//! cover (`hookgate check` warns about them).

use super::compiled::Mapping;
use super::jq::Jq;

/// An event field whose value comes from a request header the provider's signature
/// does not cover: anyone holding one captured delivery can choose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsignedRead {
    /// Where the expression is: `event.dedup`, `events."x".time`, …
    pub field: String,
    /// The unsigned headers it reads (`*` for a dynamic `$headers` use).
    pub headers: Vec<String>,
    /// For `event.type`: every event rule checks the payload with `requires`.
    pub checked_by_requires: bool,
}

impl Mapping {
    /// The fields that matter for dedup, replay and routing (type, dedup id, time,
    /// tenant) whose expressions read headers the signature does not cover.
    pub fn unsigned_reads(&self) -> Vec<UnsignedRead> {
        // Signed only if every scheme signs it: a source may use any of them.
        let signed: Vec<&str> = match self.schemes.split_first() {
            None => Vec::new(),
            Some((first, rest)) => first
                .signed_headers()
                .iter()
                .map(|h| h.as_str())
                .filter(|h| {
                    rest.iter()
                        .all(|s| s.signed_headers().iter().any(|x| x == h))
                })
                .collect(),
        };
        let all_checked = self.events.values().all(|r| r.requires.is_some());
        let mut fields: Vec<(String, &Jq)> = [
            ("event.type", Some(&self.ty)),
            ("event.dedup", self.dedup.as_ref()),
            ("event.time", self.time.as_ref()),
            ("event.tenant", self.tenant.as_ref()),
        ]
        .into_iter()
        .filter_map(|(f, j)| j.map(|j| (f.to_owned(), j)))
        .collect();
        let mut rules: Vec<_> = self.events.iter().collect();
        rules.sort_by(|a, b| a.0.cmp(b.0));
        for (name, rule) in rules {
            if let Some(t) = &rule.time {
                fields.push((format!("events.\"{name}\".time"), t));
            }
        }
        fields
            .into_iter()
            .filter_map(|(field, jq)| {
                let reads = jq.header_reads();
                let mut headers: Vec<String> = reads
                    .names
                    .iter()
                    .filter(|n| !signed.contains(&n.as_str()))
                    .cloned()
                    .collect();
                if reads.any {
                    headers.push("*".to_owned());
                }
                (!headers.is_empty()).then(|| UnsignedRead {
                    checked_by_requires: field == "event.type" && all_checked,
                    field,
                    headers,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::{mapping_schema, MappingError};

    #[test]
    fn unsigned_header_reads_are_reported_and_signed_ones_are_not() -> Result<(), MappingError> {
        let text = |dedup: &str, requires: &str| {
            format!(
                r#"
provider = "x"
[auth]
scheme = "hmac"
algorithm = "sha256"
headers = ["X-Sig"]
signed = "{{header:X-Signed-Id}}.{{body}}"
[event]
type = '$headers["x-kind"]'
dedup = '{dedup}'
time = '$headers["x-time"] // .t'
[events.a]
type = "contact.created"
{requires}
data = '{{contact: {{id: "1"}}}}'
"#
            )
        };
        let m = Mapping::compile(
            "x.toml",
            &text(r#"$headers["x-id"]"#, ""),
            &mapping_schema()?,
        )?;
        let reads = m.unsigned_reads();
        let fields: Vec<(&str, Vec<&str>, bool)> = reads
            .iter()
            .map(|r| {
                (
                    r.field.as_str(),
                    r.headers.iter().map(String::as_str).collect(),
                    r.checked_by_requires,
                )
            })
            .collect();
        assert_eq!(
            fields,
            [
                ("event.type", vec!["x-kind"], false),
                ("event.dedup", vec!["x-id"], false),
                ("event.time", vec!["x-time"], false),
            ]
        );
        // A header inside the signed template is covered; `requires` on every rule
        // is reported with the type.
        let m = Mapping::compile(
            "x.toml",
            &text(r#"$headers["x-signed-id"]"#, "requires = '.a != null'"),
            &mapping_schema()?,
        )?;
        let reads = m.unsigned_reads();
        assert!(reads.iter().all(|r| r.field != "event.dedup"), "{reads:?}");
        assert!(reads
            .iter()
            .any(|r| r.field == "event.type" && r.checked_by_requires));
        Ok(())
    }
}
