//! From a mapping file's text to a [`Mapping`]: TOML, the mapping-file schema,
//! the model, then every jq expression compiled in one set.

use std::collections::{HashMap, HashSet};

use super::compiled::{CompiledRule, Mapping};
use super::error::MappingError;
use super::jq::{Jq, JqSet};
use super::model::{AuthSpec, MappingFile};
use super::respond::{Respond, Sign};
use crate::verify::{JwtScheme, Kind, PublishedJwtScheme, Scheme, SignedScheme, TwilioScheme};

impl Mapping {
    /// Parses, validates and compiles one mapping file's text.
    pub fn compile(
        file: &str,
        text: &str,
        schema: &jsonschema::Validator,
    ) -> Result<Self, MappingError> {
        let file_s = file.to_owned();
        let raw: toml::Value = toml::from_str(text).map_err(|e| MappingError::Toml {
            file: file_s.clone(),
            detail: e.to_string(),
        })?;
        let as_json = serde_json::to_value(&raw).map_err(|e| MappingError::Invalid {
            file: file_s.clone(),
            detail: e.to_string(),
        })?;
        let errors: Vec<String> = schema
            .iter_errors(&as_json)
            .take(5)
            .map(|e| format!("at `{}`: {e}", e.instance_path()))
            .collect();
        if !errors.is_empty() {
            return Err(MappingError::Schema {
                file: file_s,
                detail: errors.join("; "),
            });
        }
        let m: MappingFile = toml::from_str(text).map_err(|e| MappingError::Toml {
            file: file_s.clone(),
            detail: e.to_string(),
        })?;
        Self::from_model(file, m)
    }

    fn from_model(file: &str, m: MappingFile) -> Result<Self, MappingError> {
        let invalid = |detail: String| MappingError::Invalid {
            file: file.to_owned(),
            detail,
        };
        let set = JqSet::new(m.prelude.as_deref().unwrap_or(""));
        // Expressions run once the whole set is compiled (below). The label is
        // the expression's place in the file, for `hookgate check`.
        let jq = |label: String, e: &str| Ok::<_, MappingError>(set.add_labeled(&label, e));
        let opt =
            |label: String, e: &Option<String>| e.as_deref().map(|e| jq(label, e)).transpose();
        let mut schemes = Vec::new();
        for auth in m.auth.all() {
            let header = |h: &str| {
                http::HeaderName::try_from(h)
                    .map_err(|_| invalid(format!("auth: invalid header name `{h}`")))
            };
            schemes.push(match auth {
                AuthSpec::Hmac(spec) => Scheme::Signed(Box::new(
                    SignedScheme::compile(spec).map_err(|e| invalid(format!("auth: {e}")))?,
                )),
                AuthSpec::Ed25519(spec) => Scheme::Signed(Box::new(
                    SignedScheme::compile_ed25519(spec)
                        .map_err(|e| invalid(format!("auth: {e}")))?,
                )),
                AuthSpec::RsaSha256(spec) => Scheme::Signed(Box::new(
                    SignedScheme::compile_public_key(spec, Kind::RsaSha256)
                        .map_err(|e| invalid(format!("auth: {e}")))?,
                )),
                AuthSpec::EcdsaP256(spec) => Scheme::Signed(Box::new(
                    SignedScheme::compile_public_key(spec, Kind::EcdsaP256)
                        .map_err(|e| invalid(format!("auth: {e}")))?,
                )),
                AuthSpec::Jwt(spec) => Scheme::Jwt(Box::new(
                    JwtScheme::compile(spec).map_err(|e| invalid(format!("auth: {e}")))?,
                )),
                AuthSpec::Twilio(spec) => Scheme::Twilio(Box::new(
                    TwilioScheme::compile(spec).map_err(|e| invalid(format!("auth: {e}")))?,
                )),
                AuthSpec::HeaderToken(spec) => Scheme::HeaderToken(header(&spec.header)?),
                AuthSpec::PublishedJwt(spec) => Scheme::Published(Box::new(
                    PublishedJwtScheme::compile(spec).map_err(|e| invalid(format!("auth: {e}")))?,
                )),
                AuthSpec::None(_) => continue,
            });
        }
        let mut events = HashMap::with_capacity(m.events.len());
        for (name, rule) in &m.events {
            let at = |field: &str| format!("events.{name:?}.{field}");
            let compiled = CompiledRule {
                ty: rule.ty.clone(),
                data: jq(at("data"), &rule.data)?,
                subject: opt(at("subject"), &rule.subject)?,
                partition_key: opt(at("partition_key"), &rule.partition_key)?,
                time: opt(at("time"), &rule.time)?,
                requires: opt(at("requires"), &rule.requires)?,
            };
            events.insert(name.clone(), compiled);
        }
        for (alias, target) in &m.aliases {
            if !events.contains_key(target) && !m.ignore.contains(target) {
                return Err(invalid(format!(
                    "alias `{alias}` points to `{target}`, which is neither an event nor ignored"
                )));
            }
        }
        let header = |h: &str| {
            http::HeaderName::try_from(h).map_err(|_| invalid(format!("invalid header name `{h}`")))
        };
        // Dead letters keep what a replay needs to verify and map the delivery again:
        // the signature headers, every header the signature covers, and the headers
        // the mapping's expressions read (added once they are compiled, below).
        let mut dl_headers: Vec<http::HeaderName> = vec![
            http::header::CONTENT_TYPE,
            http::header::USER_AGENT,
            http::HeaderName::from_static("x-request-id"),
        ];
        for scheme in &schemes {
            if scheme.signs_body() {
                dl_headers.extend(scheme.credential_headers().into_iter().cloned());
            }
            dl_headers.extend(scheme.signed_headers().iter().cloned());
        }
        for h in &m.dead_letter_headers {
            dl_headers.push(header(h)?);
        }
        let respond = m
            .respond
            .iter()
            .enumerate()
            .map(|(i, r)| {
                Ok(Respond {
                    when: jq(format!("respond[{i}].when"), &r.when)?,
                    body: jq(format!("respond[{i}].body"), &r.body)?,
                    sign: r
                        .sign
                        .as_ref()
                        .map(|s| {
                            Ok::<_, MappingError>(Sign::new(
                                s,
                                jq(format!("respond[{i}].sign.of"), &s.of)?,
                            ))
                        })
                        .transpose()?,
                })
            })
            .collect::<Result<Vec<_>, MappingError>>()?;
        let answer = m
            .answer
            .as_deref()
            .map(|a| jq("answer".to_owned(), a))
            .transpose()?;
        let mut mapping = Self {
            uses_headers: false,
            respond,
            answer,
            handshake: m.handshake.clone(),
            provider: m.provider.clone(),
            file: file.to_owned(),
            schemes,
            batch_items: m
                .batch
                .as_ref()
                .map(|b| jq("batch.items".to_owned(), &b.items))
                .transpose()?,
            ty: jq("event.type".to_owned(), &m.event.ty)?,
            id: opt("event.id".to_owned(), &m.event.id)?,
            dedup: opt("event.dedup".to_owned(), &m.event.dedup)?,
            time: opt("event.time".to_owned(), &m.event.time)?,
            tenant: opt("event.tenant".to_owned(), &m.event.tenant)?,
            subject: opt("event.subject".to_owned(), &m.event.subject)?,
            partition_key: opt("event.partition_key".to_owned(), &m.event.partition_key)?,
            ignore: m.ignore.iter().cloned().collect(),
            aliases: m.aliases.clone().into_iter().collect(),
            events,
            dead_letter_headers: dl_headers,
        };
        set.finish().map_err(|source| MappingError::Jq {
            file: file.to_owned(),
            source,
        })?;
        let uses_headers = mapping.filters().any(Jq::uses_headers);
        mapping.uses_headers = uses_headers;
        let read: Vec<String> = mapping
            .filters()
            .flat_map(|j| j.header_reads().names.iter().cloned())
            .collect();
        for h in read {
            mapping.dead_letter_headers.push(header(&h)?);
        }
        // A header token is the secret itself, and a bearer token that does not
        // cover the body lets whoever reads it send any body while it lives:
        // neither is written to a dead letter.
        let secret_headers: Vec<http::HeaderName> = mapping
            .schemes
            .iter()
            .filter(|s| !s.signs_body())
            .flat_map(|s| s.credential_headers().into_iter().cloned())
            .collect();
        for secret_header in &secret_headers {
            if m.dead_letter_headers
                .iter()
                .any(|h| h.eq_ignore_ascii_case(secret_header.as_str()))
            {
                return Err(invalid(format!(
                    "dead_letter_headers: `{secret_header}` carries the source's secret and is never kept"
                )));
            }
            mapping.dead_letter_headers.retain(|h| h != secret_header);
        }
        let mut seen = HashSet::new();
        mapping
            .dead_letter_headers
            .retain(|h| seen.insert(h.as_str().to_owned()));
        Ok(mapping)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::mapping_schema;

    #[test]
    fn schema_rejects_unknown_keys_and_bad_types() -> Result<(), MappingError> {
        let schema = mapping_schema()?;
        let bad = r#"
provider = "x"
colour = "blue"
[auth]
scheme = "none"
[event]
type = ".t"
[events.a]
type = "message.exploded"
data = "{}"
"#;
        let err = Mapping::compile("x.toml", bad, &schema)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("x.toml") && err.contains("colour"), "{err}");
        assert!(err.contains("message.exploded"), "{err}");
        Ok(())
    }
}
