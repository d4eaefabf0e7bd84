//! Provider mapping files: loading, validation against `schemas/mapping.schema.json`,
//! compilation (jq filters compiled once), and evaluation of a verified delivery
//! into a canonical event. No axum, no rdkafka.

mod config;
pub mod jq;
mod model;
mod native;
mod value;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use jaq_json::Val;

use crate::event::{
    CanonicalEvent, DeadLetter, DeadLetterReason, Decision, DedupId, EventId, Kept, Rejection,
    SourceId,
};
use crate::verify::{JwtScheme, Scheme, SignedScheme, TwilioScheme, Verified};
pub use config::MappingsConfig;
pub use jq::HeaderReads;
use jq::{Jq, JqSet};
pub use model::{AuthSpec, AuthSpecs, EventRule, EventSpec, HandshakeSpec, MappingFile};
pub use value::{prune, to_json};

/// The mapping files shipped with hookgate, embedded so the binary works anywhere.
pub const SHIPPED: &[(&str, &str)] = &[
    ("sahut.toml", include_str!("../../mappings/sahut.toml")),
    (
        "oneroute.toml",
        include_str!("../../mappings/oneroute.toml"),
    ),
    (
        "magalu-sac.toml",
        include_str!("../../mappings/magalu-sac.toml"),
    ),
    ("aisoule.toml", include_str!("../../mappings/aisoule.toml")),
    ("savanto.toml", include_str!("../../mappings/savanto.toml")),
    (
        "standard-webhooks.toml",
        include_str!("../../mappings/standard-webhooks.toml"),
    ),
    ("stripe.toml", include_str!("../../mappings/stripe.toml")),
    ("slack.toml", include_str!("../../mappings/slack.toml")),
    ("zendesk.toml", include_str!("../../mappings/zendesk.toml")),
    ("github.toml", include_str!("../../mappings/github.toml")),
    (
        "whatsapp-cloud.toml",
        include_str!("../../mappings/whatsapp-cloud.toml"),
    ),
    (
        "intercom.toml",
        include_str!("../../mappings/intercom.toml"),
    ),
    ("shopify.toml", include_str!("../../mappings/shopify.toml")),
    (
        "telegram.toml",
        include_str!("../../mappings/telegram.toml"),
    ),
    (
        "messenger.toml",
        include_str!("../../mappings/messenger.toml"),
    ),
    ("line.toml", include_str!("../../mappings/line.toml")),
    ("twilio.toml", include_str!("../../mappings/twilio.toml")),
    ("discord.toml", include_str!("../../mappings/discord.toml")),
    ("vonage.toml", include_str!("../../mappings/vonage.toml")),
    ("viber.toml", include_str!("../../mappings/viber.toml")),
];

pub const MAPPING_SCHEMA: &str = include_str!("../../schemas/mapping.schema.json");

/// A mapping file that cannot be used. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("{file}: cannot read: {detail}")]
    Read { file: String, detail: String },
    #[error("{file}: not valid TOML: {detail}")]
    Toml { file: String, detail: String },
    #[error("{file}: does not match mapping.schema.json: {detail}")]
    Schema { file: String, detail: String },
    #[error("{file}: {detail}")]
    Invalid { file: String, detail: String },
    #[error("{file}: {source}")]
    Jq {
        file: String,
        #[source]
        source: jq::JqError,
    },
}

struct CompiledRule {
    ty: String,
    data: Jq,
    subject: Option<Jq>,
    partition_key: Option<Jq>,
    time: Option<Jq>,
    requires: Option<Jq>,
}

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

/// The most items a batched delivery may carry unless the source says otherwise.
pub const DEFAULT_MAX_BATCH_ITEMS: usize = 1000;

/// The body as the mapping reads it: JSON, or a form
/// (`application/x-www-form-urlencoded`) as an object of its fields (a repeated
/// key is an array), so a `payload` field holding JSON can be read with `fromjson`.
fn parse_body(req: &Verified) -> Result<Val, Rejection> {
    parse_payload(req.headers(), req.body())
}

/// [`parse_body`] for a raw payload (tools and tests that hold no verified request).
pub fn parse_payload(headers: &http::HeaderMap, body: &[u8]) -> Result<Val, Rejection> {
    use DeadLetterReason as R;
    if crate::form::is_form(headers.get(http::header::CONTENT_TYPE)) {
        let pairs = crate::form::parse(body)
            .map_err(|e| Rejection::new(R::MalformedForm, e.to_string()))?;
        return serde_json::from_value(crate::form::to_json(&pairs))
            .map_err(|e| Rejection::new(R::MalformedForm, e.to_string()));
    }
    serde_json::from_slice(body).map_err(|e| Rejection::new(R::MalformedJson, e.to_string()))
}

/// `$headers`: lower-case names to values (repeated headers joined by ", ").
pub fn headers_value(headers: &http::HeaderMap) -> Val {
    let mut m = jaq_json::Map::default();
    for name in headers.keys() {
        let joined = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        m.insert(Val::from(name.as_str().to_owned()), Val::from(joined));
    }
    Val::obj(m)
}

/// One provider's compiled mapping.
pub struct Mapping {
    provider: String,
    file: String,
    /// The provider's schemes, in the file's order (empty: it does not sign).
    schemes: Vec<Scheme>,
    /// `[batch] items`: how one delivery splits into events (a jq stream).
    batch_items: Option<Jq>,
    ty: Jq,
    id: Option<Jq>,
    dedup: Option<Jq>,
    time: Option<Jq>,
    tenant: Option<Jq>,
    subject: Option<Jq>,
    partition_key: Option<Jq>,
    ignore: HashSet<String>,
    aliases: HashMap<String, String>,
    events: HashMap<String, CompiledRule>,
    dead_letter_headers: Vec<http::HeaderName>,
    /// Whether any expression reads `$headers` (else it is not built per request).
    uses_headers: bool,
    respond: Vec<(Jq, Jq)>,
    answer: Option<Jq>,
    handshake: HandshakeSpec,
}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapping")
            .field("provider", &self.provider)
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

/// How many bytes the dead letters of one batched delivery may copy of its body
/// (each holds the whole body) before the delivery is dead-lettered once, whole.
pub const MAX_BATCH_DEAD_LETTER_BYTES: usize = 8 * 1024 * 1024;

/// Whether `dead` item dead letters of a `body_len`-byte delivery copy too much.
pub fn exceeds_dead_letter_budget(dead: usize, body_len: usize) -> bool {
    dead > 1 && dead.saturating_mul(body_len) > MAX_BATCH_DEAD_LETTER_BYTES
}

/// Provider event type -> canonical type, for documentation and `check`.
pub type TypeTable = BTreeMap<String, String>;

impl Mapping {
    pub fn provider(&self) -> &str {
        &self.provider
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    /// The provider's first scheme, or `None` when it does not sign.
    pub fn scheme(&self) -> Option<&Scheme> {
        self.schemes.first()
    }

    /// Every scheme the provider signs with.
    pub fn schemes(&self) -> &[Scheme] {
        &self.schemes
    }

    pub fn handshake(&self) -> &HandshakeSpec {
        &self.handshake
    }

    pub fn dead_letter_headers(&self) -> &[http::HeaderName] {
        &self.dead_letter_headers
    }

    pub fn type_table(&self) -> TypeTable {
        let mut t: TypeTable = self
            .events
            .iter()
            .map(|(k, r)| (k.clone(), r.ty.clone()))
            .collect();
        for (alias, target) in &self.aliases {
            if let Some(r) = self.events.get(target) {
                t.insert(alias.clone(), r.ty.clone());
            }
        }
        t
    }

    pub fn ignored_types(&self) -> impl Iterator<Item = &str> {
        self.ignore.iter().map(String::as_str)
    }

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
                AuthSpec::Jwt(spec) => Scheme::Jwt(Box::new(
                    JwtScheme::compile(spec).map_err(|e| invalid(format!("auth: {e}")))?,
                )),
                AuthSpec::Twilio(spec) => Scheme::Twilio(Box::new(
                    TwilioScheme::compile(spec).map_err(|e| invalid(format!("auth: {e}")))?,
                )),
                AuthSpec::HeaderToken(spec) => Scheme::HeaderToken(header(&spec.header)?),
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
            if !matches!(scheme, Scheme::HeaderToken(_)) {
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
                Ok((
                    jq(format!("respond[{i}].when"), &r.when)?,
                    jq(format!("respond[{i}].body"), &r.body)?,
                ))
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
        // A header token is the secret itself: never written to a dead letter.
        let secret_headers: Vec<http::HeaderName> = mapping
            .schemes
            .iter()
            .filter_map(|s| match s {
                Scheme::HeaderToken(h) => Some(h.clone()),
                _ => None,
            })
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

    /// Every compiled expression of the mapping, sorted by label (for reports
    /// and tests: which run natively, which fall back to jaq).
    pub fn expressions(&self) -> Vec<&Jq> {
        let mut all: Vec<&Jq> = self.filters().collect();
        all.sort_by(|a, b| a.label().cmp(b.label()));
        all
    }

    /// Every compiled expression of the mapping.
    fn filters(&self) -> impl Iterator<Item = &Jq> {
        let event = [
            &self.id,
            &self.dedup,
            &self.time,
            &self.tenant,
            &self.subject,
            &self.partition_key,
        ];
        std::iter::once(&self.ty)
            .chain(event.into_iter().flatten())
            .chain(self.events.values().flat_map(|r| {
                std::iter::once(&r.data).chain(
                    [&r.subject, &r.partition_key, &r.time, &r.requires]
                        .into_iter()
                        .flatten(),
                )
            }))
            .chain(self.respond.iter().flat_map(|(when, body)| [when, body]))
            .chain(self.batch_items.iter())
            .chain(self.answer.iter())
    }

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

    /// `$headers`, built only for a mapping whose expressions read it.
    fn headers_val(&self, headers: &http::HeaderMap) -> Val {
        if self.uses_headers {
            headers_value(headers)
        } else {
            Val::Null
        }
    }

    /// The provider event type of a raw payload, if it parses and has one.
    pub fn event_type(&self, headers: &http::HeaderMap, body: &[u8]) -> Option<String> {
        self.event_types(headers, body).into_iter().next()
    }

    /// The provider event type of each event a raw payload carries (one, or one
    /// per item of a batch), where it parses and has one.
    pub fn event_types(&self, headers: &http::HeaderMap, body: &[u8]) -> Vec<String> {
        let Ok(input) = parse_payload(headers, body) else {
            return Vec::new();
        };
        let h = self.headers_val(headers);
        let items = match &self.batch_items {
            Some(split) => split
                .all(&input, &h, DEFAULT_MAX_BATCH_ITEMS)
                .unwrap_or_default(),
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

    /// Maps a verified delivery: an event (to validate and deliver), a dead letter,
    /// an ignore or a handshake answer. Pure: the same input always gives the same
    /// output.
    pub fn map(&self, source: &SourceId, req: &Verified, received_at: DateTime<Utc>) -> Decision {
        self.map_with(source, req, received_at, DEFAULT_MAX_BATCH_ITEMS)
    }

    /// As [`Mapping::map`], with the most items a batched delivery may carry
    /// (past it the whole delivery is dead-lettered `batch_too_large`).
    pub fn map_with(
        &self,
        source: &SourceId,
        req: &Verified,
        received_at: DateTime<Utc>,
        max_items: usize,
    ) -> Decision {
        self.try_map(source, req, received_at, max_items)
            .unwrap_or_else(|why| {
                Decision::DeadLetter(Box::new(self.dead_letter(
                    source,
                    req,
                    &received_at,
                    why,
                    None,
                )))
            })
    }

    /// The mapping's own 200 answer for a delivery whose events are safe
    /// (`answer`), if it has one and it evaluates.
    pub fn answer(&self, req: &Verified) -> Option<serde_json::Value> {
        let expr = self.answer.as_ref()?;
        let input = parse_body(req).ok()?;
        let headers = self.headers_val(req.headers());
        expr.first(&input, &headers).ok().map(|v| to_json(&v))
    }

    /// Whether the mapping splits a delivery into items (`[batch]`).
    pub fn is_batched(&self) -> bool {
        self.batch_items.is_some()
    }

    /// The dead-letter record of a delivery (or of one item of it), keeping the
    /// headers the mapping names, the whole raw body and the query string: what a
    /// replay needs to verify it again.
    pub fn dead_letter(
        &self,
        source: &SourceId,
        req: &Verified,
        received_at: &DateTime<Utc>,
        why: Rejection,
        item: Option<usize>,
    ) -> DeadLetter {
        let headers = self
            .dead_letter_headers
            .iter()
            .filter_map(|name| {
                req.headers().get(name).map(|v| {
                    (
                        name.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
            })
            .collect();
        let kept = Kept {
            headers,
            body: req.body(),
            query: req.query(),
            item,
            identity: req.signed_identity(),
        };
        DeadLetter::new(source, &self.provider, kept, received_at, why)
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

    fn try_map(
        &self,
        source: &SourceId,
        req: &Verified,
        received_at: DateTime<Utc>,
        max_items: usize,
    ) -> Result<Decision, Rejection> {
        use DeadLetterReason as R;
        let input = parse_body(req)?;
        let headers = self.headers_val(req.headers());
        for (when, body) in &self.respond {
            if let Ok(v) = when.first(&input, &headers) {
                if !matches!(v, Val::Null | Val::Bool(false)) {
                    return body
                        .first(&input, &headers)
                        .map(|b| Decision::Respond(to_json(&b)))
                        .map_err(|e| Rejection::new(R::MappingError, e.to_string()));
                }
            }
        }
        let Some(split) = &self.batch_items else {
            return self.map_item(source, req, &input, &headers, received_at, None);
        };
        let items = split
            .all(&input, &headers, max_items)
            .map_err(|e| Rejection::new(R::MappingError, format!("batch.items: {e}")))?;
        if items.len() > max_items {
            return Err(Rejection::new(
                R::BatchTooLarge,
                format!(
                    "the delivery carries more than {max_items} items (the source's \
                     max_batch_items): kept whole, nothing of it delivered"
                ),
            ));
        }
        let mapped: Vec<Result<Decision, Rejection>> = items
            .iter()
            .enumerate()
            .map(|(i, item)| self.map_item(source, req, item, &headers, received_at, Some(i)))
            .collect();
        // Each item's dead letter holds the whole body (what a replay verifies): past
        // a budget the delivery is kept once, whole, rather than copied per item.
        let failed = mapped.iter().filter(|m| m.is_err()).count();
        if exceeds_dead_letter_budget(failed, req.body().len()) {
            let first = mapped
                .iter()
                .find_map(|m| m.as_ref().err())
                .map(|r| format!("{}: {}", r.reason.as_str(), r.detail))
                .unwrap_or_default();
            return Err(Rejection::new(
                R::BatchTooLarge,
                format!(
                    "{failed} of its {} items cannot be mapped (the first: {first}); one dead \
                     letter per item would copy the body {failed} times: kept whole, once, \
                     nothing of it delivered",
                    items.len()
                ),
            ));
        }
        Ok(Decision::Batch(
            mapped
                .into_iter()
                .enumerate()
                .map(|(i, m)| {
                    m.unwrap_or_else(|why| {
                        Decision::DeadLetter(Box::new(self.dead_letter(
                            source,
                            req,
                            &received_at,
                            why,
                            Some(i),
                        )))
                    })
                })
                .collect(),
        ))
    }

    /// One event: the whole delivery, or one item of a batch (then `.` is the item).
    fn map_item(
        &self,
        source: &SourceId,
        req: &Verified,
        input: &Val,
        headers: &Val,
        received_at: DateTime<Utc>,
        item: Option<usize>,
    ) -> Result<Decision, Rejection> {
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
            return Ok(Decision::Ignore { provider_type });
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
            Ok(event) => Ok(Decision::Deliver(Box::new(event))),
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

/// Every provider mapping known to this gateway, by provider name.
#[derive(Debug, Default)]
pub struct MappingSet {
    by_provider: HashMap<String, Arc<Mapping>>,
    /// Shipped providers left uncompiled because nothing asked for them.
    skipped: Vec<String>,
}

impl MappingSet {
    /// The shipped mappings, then every `*.toml` in `dirs` (a file for a provider
    /// that is already known replaces it, so integrators can adjust a shipped one).
    pub fn load(dirs: &[PathBuf]) -> Result<Self, Vec<MappingError>> {
        Self::load_for(dirs, None)
    }

    /// Like [`MappingSet::load`], but compiles only the shipped mappings of the
    /// `wanted` providers (the gateway's sources): the others cost start-up time
    /// and memory for nothing. Files in `dirs` are always compiled, so a broken
    /// one is reported whether or not a source uses it.
    pub fn load_for(
        dirs: &[PathBuf],
        wanted: Option<&HashSet<&str>>,
    ) -> Result<Self, Vec<MappingError>> {
        let schema = mapping_schema().map_err(|e| vec![e])?;
        let mut set = Self::default();
        let mut errors = Vec::new();
        for (name, text) in SHIPPED {
            let provider = name.strip_suffix(".toml").unwrap_or(name);
            if wanted.is_some_and(|w| !w.contains(provider)) {
                set.skipped.push(provider.to_owned());
                continue;
            }
            match Mapping::compile(&format!("(shipped) mappings/{name}"), text, &schema) {
                Ok(m) => set.insert(m),
                Err(e) => errors.push(e),
            }
        }
        for dir in dirs {
            match read_dir_sorted(dir) {
                Ok(files) => {
                    for path in files {
                        let file = path.display().to_string();
                        match std::fs::read_to_string(&path) {
                            Ok(text) => match Mapping::compile(&file, &text, &schema) {
                                Ok(m) => set.insert(m),
                                Err(e) => errors.push(e),
                            },
                            Err(e) => errors.push(MappingError::Read {
                                file,
                                detail: e.to_string(),
                            }),
                        }
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(errors)
        }
    }

    fn insert(&mut self, m: Mapping) {
        self.skipped.retain(|p| p != &m.provider);
        self.by_provider.insert(m.provider.clone(), Arc::new(m));
    }

    pub fn get(&self, provider: &str) -> Option<&Arc<Mapping>> {
        self.by_provider.get(provider)
    }

    pub fn providers(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .by_provider
            .keys()
            .chain(&self.skipped)
            .map(String::as_str)
            .collect();
        v.sort_unstable();
        v
    }
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, MappingError> {
    let err = |e: std::io::Error| MappingError::Read {
        file: dir.display().to_string(),
        detail: e.to_string(),
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(err)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// The compiled mapping-file schema.
pub fn mapping_schema() -> Result<jsonschema::Validator, MappingError> {
    let err = |detail: String| MappingError::Invalid {
        file: "schemas/mapping.schema.json".to_owned(),
        detail,
    };
    let v: serde_json::Value =
        serde_json::from_str(MAPPING_SCHEMA).map_err(|e| err(e.to_string()))?;
    jsonschema::validator_for(&v).map_err(|e| err(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_files_are_named_after_their_provider_and_load_for_compiles_only_those_wanted() {
        // load_for skips shipped files by name, so the name must be the provider.
        let all = MappingSet::load(&[]).unwrap_or_else(|e| panic!("{e:?}"));
        for (name, _) in SHIPPED {
            let provider = name.strip_suffix(".toml").unwrap_or(name);
            assert!(
                all.get(provider).is_some(),
                "{name} does not define `{provider}`"
            );
        }
        let wanted: HashSet<&str> = ["sahut", "stripe"].into_iter().collect();
        let some = MappingSet::load_for(&[], Some(&wanted)).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(some.get("sahut").is_some() && some.get("stripe").is_some());
        assert!(some.get("github").is_none());
        assert_eq!(
            some.providers(),
            all.providers(),
            "skipped ones are still known"
        );
    }

    #[test]
    fn shipped_mappings_load() {
        let set = match MappingSet::load(&[]) {
            Ok(s) => s,
            Err(errs) => panic!(
                "{}",
                errs.iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        };
        assert_eq!(
            set.providers(),
            [
                "aisoule",
                "discord",
                "github",
                "intercom",
                "line",
                "magalu-sac",
                "messenger",
                "oneroute",
                "sahut",
                "savanto",
                "shopify",
                "slack",
                "standard-webhooks",
                "stripe",
                "telegram",
                "twilio",
                "viber",
                "vonage",
                "whatsapp-cloud",
                "zendesk"
            ]
        );
    }

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
