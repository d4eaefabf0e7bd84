//! Unique, correctly signed deliveries made from the fixture cases, so that every
//! request of a benchmark does the gateway's whole work (dedup never short-cuts it).

use std::sync::Arc;
use std::time::SystemTime;

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::engine::DEFAULT_MAX_BATCH_ITEMS;
use crate::event::SourceId;
use crate::fixture::Case;
use crate::mapping::Mapping;
use crate::verify::{Scheme, Secret, SourceAuth, Unverified};

use super::slots::{collect_leaves, slots, Body, Doc, Step};

/// One request, ready to send.
#[derive(Debug)]
pub struct Delivery {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A fixture case bound to a configured source.
#[derive(Debug, Clone)]
struct Template {
    case: String,
    path: String,
    body: Body,
    headers: HeaderMap,
    /// Header values that feed the dedup id: `-{n}` is appended.
    unique_headers: Vec<HeaderName>,
    signing: Option<(Scheme, Secret)>,
    /// A published-key scheme's token audience (the source's).
    audience: Option<String>,
    /// The URL the provider signs (schemes that sign it).
    public_url: Option<String>,
}

/// Where a benchmark's deliveries come from.
#[derive(Debug, Clone)]
pub struct DeliverySet {
    templates: Arc<Vec<Template>>,
}

/// A source the generator can send to, as configured for the gateway.
#[derive(Debug, Clone)]
pub struct Target {
    pub source: String,
    pub mapping: Arc<Mapping>,
    pub signing: Option<(Scheme, Secret)>,
    /// A published-key scheme's token audience (the source's).
    pub audience: Option<String>,
    pub token: Option<String>,
    /// The URL the provider posts to, for schemes that sign it.
    pub public_url: Option<String>,
    pub basic: Option<(String, String)>,
}

/// What was left out and why (printed before a run).
#[derive(Debug, Default)]
pub struct Skipped(pub Vec<String>);

impl DeliverySet {
    /// Every fixture case of each target's provider that becomes an event, made
    /// unique per request. Cases that cannot be made unique are skipped and listed.
    pub fn build(targets: &[Target], cases: &[(String, Vec<Case>)]) -> (Self, Skipped) {
        let mut templates = Vec::new();
        let mut skipped = Skipped::default();
        for t in targets {
            let Some((_, provider_cases)) = cases.iter().find(|(p, _)| p == t.mapping.provider())
            else {
                skipped.0.push(format!(
                    "{}: no fixture cases for `{}`",
                    t.source,
                    t.mapping.provider()
                ));
                continue;
            };
            for case in provider_cases {
                match Template::new(t, case) {
                    Ok(Some(tpl)) => templates.push(tpl),
                    Ok(None) => {}
                    Err(why) => skipped.0.push(format!("{}/{}: {why}", t.source, case.name)),
                }
            }
        }
        (
            Self {
                templates: Arc::new(templates),
            },
            skipped,
        )
    }

    pub fn len(&self) -> usize {
        self.templates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    /// The `n`th delivery: templates in turn, each with the unique number `n`.
    pub fn delivery(&self, n: u64, now: SystemTime) -> Option<Delivery> {
        let count = self.templates.len() as u64;
        if count == 0 {
            return None;
        }
        let t = self.templates.get((n % count) as usize)?;
        Some(t.render(n, now))
    }

    /// The templates in use, as `path case`.
    pub fn names(&self) -> impl Iterator<Item = String> + '_ {
        self.templates
            .iter()
            .map(|t| format!("{} {}", t.path, t.case))
    }
}

impl Template {
    /// `Ok(None)` for a case that is not an event (ignored, handshake, dead letter).
    fn new(target: &Target, case: &Case) -> Result<Option<Self>, String> {
        let source = SourceId::parse(&target.source)?;
        let Some((ty, dedup)) = map_event(&target.mapping, &source, &case.headers, &case.body)
        else {
            return Ok(None);
        };
        let mut path = format!("/webhooks/{}", target.source);
        if let Some(tok) = &target.token {
            path = format!("{path}/{tok}");
        }
        let mut headers = case.headers.clone();
        if let Some((scheme, _)) = &target.signing {
            headers.remove(scheme.header_name());
        }
        if let Some((user, pass)) = &target.basic {
            let cred = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            headers.insert(
                http::header::AUTHORIZATION,
                HeaderValue::from_str(&format!("Basic {cred}")).map_err(|e| e.to_string())?,
            );
        }
        let mut tpl = Self {
            case: case.name.clone(),
            path,
            body: Body::Whitespace(case.body.clone()),
            headers,
            unique_headers: Vec::new(),
            signing: target.signing.clone(),
            audience: target.audience.clone(),
            public_url: target.public_url.clone(),
        };
        // Which leaves feed the dedup id: each candidate is tried alone, and kept
        // when changing it changes the dedup id but not the event type.
        let parsed = if crate::form::is_form(case.headers.get(http::header::CONTENT_TYPE)) {
            crate::form::parse(&case.body).ok().map(Doc::Form)
        } else {
            serde_json::from_slice(&case.body).ok().map(Doc::Json)
        };
        let mut leaves = Vec::new();
        match &parsed {
            Some(Doc::Json(v)) => collect_leaves(v, &mut Vec::new(), &dedup, &mut leaves),
            Some(Doc::Form(pairs)) => leaves.extend(
                pairs
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, v))| v.len() >= 3 && dedup.contains(v.as_str()))
                    .map(|(i, _)| vec![Step::Index(i)]),
            ),
            None => {}
        }
        let probe = |tpl: &Template| {
            let d = tpl.render(999_999, SystemTime::now());
            map_event(&target.mapping, &source, &d.headers, &d.body)
                .is_some_and(|(t, d2)| t == ty && d2 != dedup)
        };
        // Each leaf with `-{n}` appended, else (an id whose length the mapping
        // checks) with its last 12 characters replaced.
        let mut kept_leaves = Vec::new();
        for leaf in leaves {
            for fixed in [false, true] {
                let mut one = tpl.clone();
                one.body = match slots(parsed.as_ref(), &[(leaf.clone(), fixed)]) {
                    Ok(b) => b,
                    Err(_) if fixed => continue,
                    Err(e) => return Err(e),
                };
                if probe(&one) {
                    kept_leaves.push((leaf, fixed));
                    break;
                }
            }
        }
        for (name, value) in &case.headers {
            let v = value.to_str().unwrap_or_default();
            if v.len() >= 3 && dedup.contains(v) {
                let mut one = tpl.clone();
                one.unique_headers = vec![name.clone()];
                if probe(&one) {
                    tpl.unique_headers.push(name.clone());
                }
            }
        }
        if !kept_leaves.is_empty() {
            tpl.body = slots(parsed.as_ref(), &kept_leaves)?;
        }
        // Two different numbers must give two different dedup ids of the same type.
        let a = tpl.render(1, SystemTime::now());
        let b = tpl.render(2, SystemTime::now());
        match (
            map_event(&target.mapping, &source, &a.headers, &a.body),
            map_event(&target.mapping, &source, &b.headers, &b.body),
        ) {
            (Some((ta, da)), Some((tb, db))) if ta == ty && tb == ty && all_differ(&da, &db) => {
                Ok(Some(tpl))
            }
            _ => Err("cannot be made unique per request".to_owned()),
        }
    }

    fn render(&self, n: u64, now: SystemTime) -> Delivery {
        let body = self.body.render(n);
        let mut headers = self.headers.clone();
        for name in &self.unique_headers {
            if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
                if let Ok(v) = HeaderValue::from_str(&format!("{v}-{n}")) {
                    headers.insert(name.clone(), v);
                }
            }
        }
        if let Some((scheme, secret)) = &self.signing {
            let signed = match (scheme, &self.audience) {
                // A token for the source's audience, signed with the fixtures' key.
                (Scheme::Published(p), Some(aud)) => std::str::from_utf8(secret.expose())
                    .ok()
                    .and_then(|pem| {
                        p.sign(pem, crate::fixture::FIXTURE_KID, aud, &body, now)
                            .ok()
                    })
                    .into_iter()
                    .collect(),
                _ => scheme.sign_at(secret, &headers, &body, now, self.public_url.as_deref()),
            };
            for (name, value) in signed {
                if let Ok(v) = HeaderValue::from_str(&value) {
                    headers.insert(name, v);
                }
            }
        }
        Delivery {
            path: self.path.clone(),
            headers,
            body,
        }
    }
}

/// Between the dedup ids of a batch's items in what [`map_event`] returns.
const ITEM_SEPARATOR: &str = "\u{1f}";

/// Whether every event of `a` has another dedup id than its place in `b`.
fn all_differ(a: &str, b: &str) -> bool {
    let (a, b): (Vec<_>, Vec<_>) = (
        a.split(ITEM_SEPARATOR).collect(),
        b.split(ITEM_SEPARATOR).collect(),
    );
    a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x != y)
}

/// The event type and dedup id a body maps to, when it maps to an event (for a
/// batch: its types, and its items' dedup ids).
fn map_event(
    mapping: &Mapping,
    source: &SourceId,
    headers: &HeaderMap,
    body: &Bytes,
) -> Option<(String, String)> {
    let verified = Unverified {
        headers: headers.clone(),
        body: body.clone(),
        peer: None,
        path_token: None,
        query: None,
    }
    .verify(&SourceAuth::open())
    .ok()?;
    let ids = mapping.dedup_ids(&verified)?;
    let ids = ids
        .iter()
        .map(|d| d.as_str())
        .collect::<Vec<_>>()
        .join(ITEM_SEPARATOR);
    // A batch counts as one delivery of its types, unique when every item is.
    let types = mapping
        .map(
            source,
            &verified,
            chrono::Utc::now(),
            DEFAULT_MAX_BATCH_ITEMS,
        )
        .events()?
        .iter()
        .map(|e| e.ty.as_str())
        .collect::<Vec<_>>()
        .join(",");
    Some((types, ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(
        set: &crate::mapping::MappingSet,
        provider: &str,
        secret: &str,
    ) -> (Target, Vec<(String, Vec<Case>)>) {
        let mapping = set
            .get(provider)
            .cloned()
            .unwrap_or_else(|| panic!("{provider}"));
        let signing = mapping.scheme().map(|s| {
            let key = crate::fixture::fixture_private_key(s)
                .unwrap_or_else(|| s.prepare_secret(secret).unwrap_or_else(|e| panic!("{e}")));
            (s.clone(), key)
        });
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let cases = crate::fixture::load_cases(&root, provider).unwrap_or_else(|e| panic!("{e}"));
        (
            Target {
                source: format!("{provider}-src"),
                mapping,
                signing,
                audience: Some(crate::fixture::FIXTURE_AUDIENCE.to_owned()),
                token: None,
                public_url: Some(TWILIO_URL.to_owned()),
                basic: None,
            },
            vec![(provider.to_owned(), cases)],
        )
    }

    const TWILIO_URL: &str = "https://hooks.example.com/hooks/twilio";

    #[test]
    fn every_delivery_is_signed_and_maps_to_a_distinct_event_for_every_shipped_provider() {
        let providers = [
            "sahut",
            "oneroute",
            "magalu-sac",
            "aisoule",
            "savanto",
            "standard-webhooks",
            "stripe",
            "slack",
            "zendesk",
            "github",
            "whatsapp-cloud",
            "intercom",
            "shopify",
            "telegram",
            "messenger",
            "line",
            "twilio",
            "discord",
            "vonage",
            "viber",
            "msteams",
            "google-chat",
            "freshchat",
            "sendgrid",
            "telnyx",
            "zoom",
            "webex",
            "hubspot",
            "front",
            "crisp",
            "sunshine-conversations",
            "bird",
        ];
        let mappings = crate::mapping::MappingSet::load(&[]).unwrap_or_else(|e| panic!("{e:?}"));
        for p in providers {
            let (t, cases) = target(&mappings, p, "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=");
            let (set, skipped) = DeliverySet::build(std::slice::from_ref(&t), &cases);
            assert!(skipped.0.is_empty(), "{p}: {:?}", skipped.0);
            assert!(!set.is_empty(), "{p}: no event fixture");
            let mut auth = SourceAuth {
                public_url: t.public_url.clone(),
                ..SourceAuth::default()
            };
            if let Some((s, k)) = &t.signing {
                let keys = if s.takes_published_keys() {
                    crate::verify::Keys::Published(crate::verify::PublishedKeys::given(
                        crate::fixture::fixture_key_set().unwrap_or_else(|e| panic!("{e}")),
                        vec![crate::fixture::FIXTURE_AUDIENCE.to_owned()],
                    ))
                } else if let Some(public) = crate::fixture::fixture_public_key(s) {
                    crate::verify::Keys::Public(vec![s
                        .prepare_public_key(public)
                        .unwrap_or_else(|e| panic!("{e}"))])
                } else {
                    crate::verify::Keys::Secrets(vec![k.clone()])
                };
                auth.signatures = vec![(s.clone(), keys)];
            }
            let source = SourceId::parse(&t.source).unwrap_or_else(|e| panic!("{e}"));
            let mut seen = std::collections::HashSet::new();
            for n in 0..(set.len() as u64 * 3) {
                let d = set
                    .delivery(n, SystemTime::now())
                    .unwrap_or_else(|| panic!("{p}"));
                let verified = Unverified {
                    headers: d.headers,
                    body: d.body,
                    peer: None,
                    path_token: None,
                    query: None,
                }
                .verify(&auth)
                .unwrap_or_else(|e| panic!("{p}/{n}: {}", e.reason()));
                let mapped = t.mapping.map(
                    &source,
                    &verified,
                    chrono::Utc::now(),
                    DEFAULT_MAX_BATCH_ITEMS,
                );
                if mapped.events().is_none() {
                    panic!("{p}/{n}: not an event: {mapped:?}");
                }
                for dedup in t
                    .mapping
                    .dedup_ids(&verified)
                    .unwrap_or_else(|| panic!("{p}/{n}"))
                {
                    assert!(seen.insert(dedup.as_str().to_owned()), "{p}/{n}: repeated");
                }
            }
        }
    }
}
