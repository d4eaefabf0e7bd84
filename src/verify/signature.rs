//! HMAC signature schemes declared by mapping files: what is signed, how the
//! signature header is laid out and encoded, the replay window for timestamped
//! schemes, and the constant-time check against every secret.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName};
use serde::{Deserialize, Serialize};

use super::{Secret, VerifyError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Hex,
    Base64,
}

/// How the signature header is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureFormat {
    /// One signature, optionally prefixed (`sha256=…`).
    #[default]
    Plain,
    /// `t=<unix seconds>,v1=<hex>[,v1=<hex>…]` (Stripe and alike); `versions`
    /// names the keys that hold signatures.
    Stripe,
    /// Space-separated `v1,<base64>` entries (Standard Webhooks); `versions` names
    /// the accepted versions.
    StandardWebhooks,
}

/// How a source's secret strings become HMAC keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SecretEncoding {
    /// The secret's bytes as written.
    #[default]
    Raw,
    /// `whsec_<base64>` (Standard Webhooks, Svix): the key is the decoded base64.
    WhsecBase64,
}

/// One piece of the signed-content template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(Vec<u8>),
    Body,
    Header(HeaderName),
    Timestamp,
    Id,
}

/// A compiled HMAC scheme: everything parsed at start-up so a request costs one
/// header lookup, one MAC per secret and one constant-time compare per candidate.
#[derive(Debug, Clone)]
pub struct HmacScheme {
    algorithm: Algorithm,
    headers: Vec<HeaderName>,
    encodings: Vec<Encoding>,
    prefix: Option<String>,
    prefix_optional: bool,
    template: Vec<Part>,
    format: SignatureFormat,
    versions: Vec<String>,
    timestamp_header: Option<HeaderName>,
    id_header: Option<HeaderName>,
    tolerance: Duration,
    secret_encoding: SecretEncoding,
    /// Headers whose values are part of the signed content.
    signed_headers: Vec<HeaderName>,
}

/// The declarative form of an HMAC scheme, as written in a mapping file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HmacSpec {
    pub algorithm: Algorithm,
    /// Candidate header names, tried in order; the first present is used.
    pub headers: Vec<String>,
    #[serde(default = "default_encodings")]
    pub encodings: Vec<Encoding>,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub prefix_optional: bool,
    /// What is signed: `{body}` (the raw body, default), `{header:Name}`,
    /// `{timestamp}` and `{id}` placeholders.
    #[serde(default = "default_signed")]
    pub signed: String,
    #[serde(default)]
    pub format: SignatureFormat,
    /// Stripe: keys holding signatures; Standard Webhooks: accepted versions.
    #[serde(default = "default_versions")]
    pub versions: Vec<String>,
    /// Where `{timestamp}` comes from (Unix seconds), unless the format carries it.
    #[serde(default)]
    pub timestamp_header: Option<String>,
    /// Where `{id}` comes from.
    #[serde(default)]
    pub id_header: Option<String>,
    /// Replay window for timestamped schemes, e.g. "5m" (the default).
    #[serde(default)]
    pub tolerance: Option<String>,
    #[serde(default)]
    pub secret_encoding: SecretEncoding,
}

fn default_encodings() -> Vec<Encoding> {
    vec![Encoding::Hex]
}

fn default_signed() -> String {
    "{body}".to_owned()
}

fn default_versions() -> Vec<String> {
    vec!["v1".to_owned()]
}

/// The default replay window of timestamped schemes.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The widest replay window a mapping may declare.
const MAX_TOLERANCE: Duration = Duration::from_secs(24 * 3600);

/// At most this many signatures are considered in one header (bounded work).
const MAX_CANDIDATES: usize = 8;
/// Longer signature headers are refused before any parsing.
const MAX_HEADER_LEN: usize = 4096;

/// A scheme declaration that cannot be compiled.
#[derive(Debug, thiserror::Error)]
pub enum SchemeError {
    #[error("invalid header name `{0}`")]
    HeaderName(String),
    #[error("no signature header named")]
    NoHeaders,
    #[error("no encoding named")]
    NoEncodings,
    #[error("signed-content template `{template}`: {reason}")]
    Template { template: String, reason: String },
    #[error("tolerance: {0}")]
    Tolerance(String),
}

fn header_name(h: &str) -> Result<HeaderName, SchemeError> {
    HeaderName::try_from(h).map_err(|_| SchemeError::HeaderName(h.to_owned()))
}

fn unix_now(now: SystemTime) -> i64 {
    now.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// What the signature header says: a timestamp (Stripe's `t=`) and candidates.
struct Parsed<'a> {
    timestamp: Option<&'a str>,
    candidates: Vec<&'a str>,
}

impl HmacScheme {
    pub fn compile(spec: &HmacSpec) -> Result<Self, SchemeError> {
        if spec.headers.is_empty() {
            return Err(SchemeError::NoHeaders);
        }
        if spec.encodings.is_empty() {
            return Err(SchemeError::NoEncodings);
        }
        let headers = spec
            .headers
            .iter()
            .map(|h| header_name(h))
            .collect::<Result<Vec<_>, _>>()?;
        let timestamp_header = spec
            .timestamp_header
            .as_deref()
            .map(header_name)
            .transpose()?;
        let id_header = spec.id_header.as_deref().map(header_name).transpose()?;
        let template = parse_template(&spec.signed)?;
        let template_err = |reason: &str| SchemeError::Template {
            template: spec.signed.clone(),
            reason: reason.to_owned(),
        };
        let has_timestamp = spec.format == SignatureFormat::Stripe || timestamp_header.is_some();
        if template.contains(&Part::Timestamp) && !has_timestamp {
            return Err(template_err(
                "uses {timestamp} but the scheme has no timestamp (set timestamp_header or format = \"stripe\")",
            ));
        }
        if template.contains(&Part::Id) && id_header.is_none() {
            return Err(template_err("uses {id} but id_header is not set"));
        }
        // A replay window or id checked on a value the signature does not cover is
        // no check at all: anyone could send a fresh timestamp with an old delivery.
        if has_timestamp && !template.contains(&Part::Timestamp) {
            return Err(template_err(
                "the scheme has a timestamp but the signed template does not include {timestamp}, \
                 so the replay window would check an unsigned value",
            ));
        }
        if id_header.is_some() && !template.contains(&Part::Id) {
            return Err(template_err(
                "id_header is set but the signed template does not include {id}",
            ));
        }
        let tolerance = match &spec.tolerance {
            Some(t) => {
                humantime::parse_duration(t).map_err(|e| SchemeError::Tolerance(e.to_string()))?
            }
            None => DEFAULT_TOLERANCE,
        };
        if tolerance.is_zero() || tolerance > MAX_TOLERANCE {
            return Err(SchemeError::Tolerance(format!(
                "{} is outside the accepted range 1s to 1day",
                humantime::format_duration(tolerance)
            )));
        }
        let mut signed_headers: Vec<HeaderName> = template
            .iter()
            .filter_map(|p| match p {
                Part::Header(h) => Some(h.clone()),
                _ => None,
            })
            .chain(timestamp_header.clone())
            .chain(id_header.clone())
            .collect();
        signed_headers.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        signed_headers.dedup();
        Ok(Self {
            signed_headers,
            algorithm: spec.algorithm,
            headers,
            encodings: spec.encodings.clone(),
            prefix: spec.prefix.clone().filter(|p| !p.is_empty()),
            prefix_optional: spec.prefix_optional,
            template,
            format: spec.format,
            versions: spec.versions.clone(),
            timestamp_header,
            id_header,
            tolerance,
            secret_encoding: spec.secret_encoding,
        })
    }

    /// The name of the header the provider puts its signature in (the first candidate).
    pub fn header_name(&self) -> &HeaderName {
        &self.headers[0]
    }

    /// The request headers inside the signed content (template headers, and the
    /// timestamp and id headers, which compile only when the template signs them).
    pub fn signed_headers(&self) -> &[HeaderName] {
        &self.signed_headers
    }

    /// Whether sources give `whsec_<base64>` secrets.
    pub fn uses_whsec(&self) -> bool {
        self.secret_encoding == SecretEncoding::WhsecBase64
    }

    /// Whether deliveries carry a timestamp that is checked against `tolerance`.
    pub fn has_timestamp(&self) -> bool {
        self.format == SignatureFormat::Stripe || self.timestamp_header.is_some()
    }

    /// Turns a configured secret into the HMAC key (checked at start-up).
    pub fn prepare_secret(&self, s: &str) -> Result<Secret, String> {
        match self.secret_encoding {
            SecretEncoding::Raw => Ok(Secret::new(s.as_bytes())),
            SecretEncoding::WhsecBase64 => {
                let b64 = s.strip_prefix("whsec_").unwrap_or(s);
                let key = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|_| {
                        "this provider's secrets are `whsec_<base64>` and this one does not decode"
                            .to_owned()
                    })?;
                if key.is_empty() {
                    return Err(
                        "this `whsec_` secret decodes to an empty key (is a variable inside it unset?)"
                            .to_owned(),
                    );
                }
                Ok(Secret::new(key))
            }
        }
    }

    fn parse_header<'a>(&self, raw: &'a str) -> Result<Parsed<'a>, VerifyError> {
        if raw.len() > MAX_HEADER_LEN {
            return Err(VerifyError::MalformedSignature);
        }
        let raw = raw.trim();
        let mut parsed = Parsed {
            timestamp: None,
            candidates: Vec::new(),
        };
        match self.format {
            SignatureFormat::Plain => parsed.candidates.push(raw),
            SignatureFormat::Stripe => {
                for item in raw.split(',') {
                    let Some((k, v)) = item.trim().split_once('=') else {
                        continue;
                    };
                    if k == "t" {
                        parsed.timestamp = Some(v);
                    } else if self.versions.iter().any(|x| x == k) {
                        parsed.candidates.push(v);
                    }
                }
            }
            SignatureFormat::StandardWebhooks => {
                for item in raw.split_ascii_whitespace() {
                    if let Some((version, sig)) = item.split_once(',') {
                        if self.versions.iter().any(|x| x == version) {
                            parsed.candidates.push(sig);
                        }
                    }
                }
            }
        }
        parsed.candidates.truncate(MAX_CANDIDATES);
        if parsed.candidates.is_empty() {
            return Err(VerifyError::MalformedSignature);
        }
        Ok(parsed)
    }

    fn mac(&self, key: &[u8], content: &[u8]) -> Vec<u8> {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], content: &[u8]) -> Vec<u8> {
            // HMAC accepts keys of any length, so this cannot fail.
            match <M as hmac::digest::KeyInit>::new_from_slice(key) {
                Ok(mut m) => {
                    m.update(content);
                    m.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            }
        }
        match self.algorithm {
            Algorithm::Sha1 => run::<Hmac<sha1::Sha1>>(key, content),
            Algorithm::Sha256 => run::<Hmac<sha2::Sha256>>(key, content),
            Algorithm::Sha512 => run::<Hmac<sha2::Sha512>>(key, content),
        }
    }

    fn mac_len(&self) -> usize {
        match self.algorithm {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha512 => 64,
        }
    }

    /// Decodes one candidate into the MACs it can be, one per accepted encoding;
    /// empty for anything that cannot be one (wrong length, bad characters, missing
    /// prefix).
    fn decode(&self, candidate: &str) -> Vec<Vec<u8>> {
        let mut value = candidate.trim();
        if let Some(prefix) = &self.prefix {
            match value.strip_prefix(prefix.as_str()) {
                Some(rest) => value = rest,
                None if self.prefix_optional => {}
                None => return Vec::new(),
            }
        }
        if value.is_empty() || value.len() > 256 {
            return Vec::new();
        }
        let want = self.mac_len();
        let encodings: &[Encoding] = if self.format == SignatureFormat::StandardWebhooks {
            &[Encoding::Base64]
        } else {
            &self.encodings
        };
        encodings
            .iter()
            .filter_map(|enc| match enc {
                Encoding::Hex => hex::decode(value).ok(),
                Encoding::Base64 => base64::engine::general_purpose::STANDARD.decode(value).ok(),
            })
            .filter(|d| d.len() == want)
            .collect()
    }

    fn signed_content<'a>(
        &self,
        headers: &HeaderMap,
        body: &'a [u8],
        timestamp: Option<&str>,
        id: Option<&str>,
    ) -> Result<std::borrow::Cow<'a, [u8]>, VerifyError> {
        if let [Part::Body] = self.template.as_slice() {
            return Ok(std::borrow::Cow::Borrowed(body));
        }
        let mut out = Vec::with_capacity(body.len() + 64);
        for part in &self.template {
            match part {
                Part::Literal(l) => out.extend_from_slice(l),
                Part::Body => out.extend_from_slice(body),
                Part::Header(name) => {
                    let v = headers.get(name).ok_or(VerifyError::MissingSignature)?;
                    out.extend_from_slice(v.as_bytes());
                }
                Part::Timestamp => {
                    out.extend_from_slice(timestamp.ok_or(VerifyError::BadTimestamp)?.as_bytes())
                }
                Part::Id => {
                    out.extend_from_slice(id.ok_or(VerifyError::MissingSignature)?.as_bytes())
                }
            }
        }
        Ok(std::borrow::Cow::Owned(out))
    }

    fn header_str<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h str> {
        headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Checks the request against every secret (any match passes: key rotation),
    /// then, for timestamped schemes, the replay window around `now`.
    pub fn verify_at(
        &self,
        secrets: &[Secret],
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), VerifyError> {
        let raw = self
            .headers
            .iter()
            .find_map(|h| headers.get(h))
            .ok_or(VerifyError::MissingSignature)?;
        let raw = raw.to_str().map_err(|_| VerifyError::MalformedSignature)?;
        let parsed = self.parse_header(raw)?;
        let timestamp = match (&self.timestamp_header, parsed.timestamp) {
            (_, Some(t)) => Some(t),
            (Some(h), None) => Some(Self::header_str(headers, h).ok_or(VerifyError::BadTimestamp)?),
            (None, None) if self.format == SignatureFormat::Stripe => {
                return Err(VerifyError::BadTimestamp)
            }
            (None, None) => None,
        };
        let id = self
            .id_header
            .as_ref()
            .and_then(|h| Self::header_str(headers, h));
        let candidates: Vec<Vec<u8>> = parsed
            .candidates
            .iter()
            .flat_map(|c| self.decode(c))
            .collect();
        if candidates.is_empty() {
            return Err(VerifyError::MalformedSignature);
        }
        let content = self.signed_content(headers, body, timestamp, id)?;
        let mut ok = subtle::Choice::from(0u8);
        for secret in secrets {
            let expected = self.mac(secret.expose(), &content);
            for c in &candidates {
                use subtle::ConstantTimeEq;
                ok |= expected.as_slice().ct_eq(c.as_slice());
            }
        }
        if !bool::from(ok) {
            return Err(VerifyError::SignatureMismatch);
        }
        // Checked after the signature, so the time window cannot be probed unsigned.
        if let Some(t) = timestamp {
            let t = parse_timestamp(t).ok_or(VerifyError::BadTimestamp)?;
            let skew = (unix_now(now) - t).unsigned_abs();
            if skew > self.tolerance.as_secs() {
                return Err(VerifyError::StaleTimestamp);
            }
        }
        Ok(())
    }

    /// The headers a provider would send for `body` signed with `secret` at `now`:
    /// the signature, and the timestamp and id headers the scheme needs.
    pub fn sign_at(
        &self,
        secret: &Secret,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Vec<(HeaderName, String)> {
        let ts = unix_now(now).to_string();
        let mut out = Vec::new();
        if let Some(h) = &self.timestamp_header {
            out.push((h.clone(), ts.clone()));
        }
        let id = match &self.id_header {
            Some(h) => {
                let id = Self::header_str(headers, h)
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("msg_{}", uuid::Uuid::new_v4().simple()));
                out.push((h.clone(), id.clone()));
                Some(id)
            }
            None => None,
        };
        let timestamp = self.has_timestamp().then_some(ts.as_str());
        let content = self
            .signed_content(headers, body, timestamp, id.as_deref())
            .unwrap_or(std::borrow::Cow::Borrowed(body));
        let mac = self.mac(secret.expose(), &content);
        let b64 = || base64::engine::general_purpose::STANDARD.encode(&mac);
        let encoded = match self.encodings.first() {
            Some(Encoding::Base64) => b64(),
            _ => hex::encode(&mac),
        };
        let prefix = self.prefix.as_deref().unwrap_or("");
        let version = self.versions.first().map(String::as_str).unwrap_or("v1");
        let value = match self.format {
            SignatureFormat::Plain => format!("{prefix}{encoded}"),
            SignatureFormat::Stripe => format!("t={ts},{version}={prefix}{encoded}"),
            SignatureFormat::StandardWebhooks => format!("{version},{}", b64()),
        };
        out.push((self.headers[0].clone(), value));
        out
    }
}

/// Unix seconds, or RFC 3339 (Zendesk sends ISO 8601 timestamps).
fn parse_timestamp(t: &str) -> Option<i64> {
    let t = t.trim();
    t.parse::<i64>().ok().or_else(|| {
        chrono::DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|d| d.timestamp())
    })
}

fn parse_template(t: &str) -> Result<Vec<Part>, SchemeError> {
    let err = |reason: &str| SchemeError::Template {
        template: t.to_owned(),
        reason: reason.to_owned(),
    };
    let mut parts = Vec::new();
    let mut rest = t;
    while let Some(start) = rest.find('{') {
        if start > 0 {
            parts.push(Part::Literal(rest.as_bytes()[..start].to_vec()));
        }
        let after = &rest[start + 1..];
        let end = after.find('}').ok_or_else(|| err("unclosed `{`"))?;
        let name = &after[..end];
        match name {
            "body" => parts.push(Part::Body),
            "timestamp" => parts.push(Part::Timestamp),
            "id" => parts.push(Part::Id),
            _ => match name.strip_prefix("header:") {
                Some(h) => parts.push(Part::Header(
                    HeaderName::try_from(h).map_err(|_| err("invalid header name"))?,
                )),
                None => {
                    return Err(err(
                        "placeholders are {body}, {timestamp}, {id} and {header:Name}",
                    ))
                }
            },
        }
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.as_bytes().to_vec()));
    }
    if !parts.contains(&Part::Body) {
        return Err(err("the template must include {body}"));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn spec(alg: Algorithm, headers: &[&str]) -> HmacSpec {
        HmacSpec {
            algorithm: alg,
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            encodings: vec![Encoding::Hex],
            prefix: None,
            prefix_optional: false,
            signed: "{body}".into(),
            format: SignatureFormat::Plain,
            versions: default_versions(),
            timestamp_header: None,
            id_header: None,
            tolerance: None,
            secret_encoding: SecretEncoding::Raw,
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::try_from(*k).expect("name"),
                http::HeaderValue::from_str(v).expect("value"),
            );
        }
        h
    }

    fn at(unix: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(unix)
    }

    fn scheme(s: HmacSpec) -> HmacScheme {
        HmacScheme::compile(&s).expect("valid scheme")
    }

    // RFC 4231 test case 2 (key "Jefe").
    #[test]
    fn rfc4231_vector() {
        let s = scheme(spec(Algorithm::Sha256, &["X-Sig"]));
        let sig = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let body = b"what do ya want for nothing?";
        let now = SystemTime::now();
        assert!(s
            .verify_at(
                &[Secret::new("Jefe")],
                &headers(&[("x-sig", sig)]),
                body,
                now
            )
            .is_ok());
        assert_eq!(
            s.verify_at(
                &[Secret::new("jefe")],
                &headers(&[("x-sig", sig)]),
                body,
                now
            ),
            Err(VerifyError::SignatureMismatch)
        );
    }

    // GitHub's documented example (docs: "Validating webhook deliveries").
    #[test]
    fn github_documented_vector() {
        let mut sp = spec(Algorithm::Sha256, &["X-Hub-Signature-256"]);
        sp.prefix = Some("sha256=".into());
        let s = scheme(sp);
        let h = headers(&[(
            "x-hub-signature-256",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        )]);
        let key = [Secret::new("It's a Secret to Everybody")];
        let now = SystemTime::now();
        assert!(s.verify_at(&key, &h, b"Hello, World!", now).is_ok());
        assert_eq!(
            s.verify_at(&key, &h, b"Hello, World?", now),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            s.verify_at(
                &[Secret::new("It's a secret to everybody")],
                &h,
                b"Hello, World!",
                now
            ),
            Err(VerifyError::SignatureMismatch)
        );
    }

    fn slack() -> HmacScheme {
        let mut sp = spec(Algorithm::Sha256, &["X-Slack-Signature"]);
        sp.prefix = Some("v0=".into());
        sp.signed = "v0:{timestamp}:{body}".into();
        sp.timestamp_header = Some("X-Slack-Request-Timestamp".into());
        scheme(sp)
    }

    // Slack's documented example ("Verifying requests from Slack").
    #[test]
    fn slack_documented_vector_and_replay_window() {
        let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let h = headers(&[
            ("x-slack-request-timestamp", "1531420618"),
            (
                "x-slack-signature",
                "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
            ),
        ]);
        let key = [Secret::new("8f742231b10e8888abcd99yyyzzz85a5")];
        let s = slack();
        assert!(s.verify_at(&key, &h, body, at(1531420618 + 60)).is_ok());
        // Stale and far-future timestamps are refused, each just past the 5-minute window.
        assert_eq!(
            s.verify_at(&key, &h, body, at(1531420618 + 301)),
            Err(VerifyError::StaleTimestamp)
        );
        assert_eq!(
            s.verify_at(&key, &h, body, at(1531420618 - 301)),
            Err(VerifyError::StaleTimestamp)
        );
        // A replayed signature with a fresh timestamp does not verify.
        let mut moved = h.clone();
        moved.insert(
            "x-slack-request-timestamp",
            "1531420919".parse().expect("v"),
        );
        assert_eq!(
            s.verify_at(&key, &moved, body, at(1531420919)),
            Err(VerifyError::SignatureMismatch)
        );
        let mut no_ts = h.clone();
        no_ts.remove("x-slack-request-timestamp");
        assert_eq!(
            s.verify_at(&key, &no_ts, body, at(1531420618)),
            Err(VerifyError::BadTimestamp)
        );
    }

    // The Standard Webhooks specification's test vector.
    #[test]
    fn standard_webhooks_vector_rotation_and_whsec() {
        let mut sp = spec(Algorithm::Sha256, &["webhook-signature"]);
        sp.format = SignatureFormat::StandardWebhooks;
        sp.signed = "{id}.{timestamp}.{body}".into();
        sp.timestamp_header = Some("webhook-timestamp".into());
        sp.id_header = Some("webhook-id".into());
        sp.secret_encoding = SecretEncoding::WhsecBase64;
        let s = scheme(sp);
        let key = s
            .prepare_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .expect("whsec");
        assert!(s.prepare_secret("whsec_%%%").is_err());
        let body = br#"{"test": 2432232314}"#;
        let h = headers(&[
            ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
            ("webhook-timestamp", "1614265330"),
            // Several signatures in one header: an old one, an unknown version, the good one.
            ("webhook-signature", "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1a,abc v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
        ]);
        assert!(s
            .verify_at(std::slice::from_ref(&key), &h, body, at(1614265330))
            .is_ok());
        assert_eq!(
            s.verify_at(
                std::slice::from_ref(&key),
                &h,
                br#"{"test": 2432232315}"#,
                at(1614265330)
            ),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            s.verify_at(std::slice::from_ref(&key), &h, body, at(1614265330 + 3600)),
            Err(VerifyError::StaleTimestamp)
        );
        let mut other_id = h.clone();
        other_id.insert("webhook-id", "msg_other".parse().expect("v"));
        assert_eq!(
            s.verify_at(&[key], &other_id, body, at(1614265330)),
            Err(VerifyError::SignatureMismatch)
        );
    }

    fn stripe() -> HmacScheme {
        let mut sp = spec(Algorithm::Sha256, &["Stripe-Signature"]);
        sp.format = SignatureFormat::Stripe;
        sp.signed = "{timestamp}.{body}".into();
        scheme(sp)
    }

    // Computed with Python's hmac: hmac.new(secret, b"1700000000." + body, sha256).
    #[test]
    fn stripe_style_header() {
        let s = stripe();
        let body = br#"{"id":"evt_1","type":"charge.succeeded"}"#;
        let good = "6f3356ce5701dd6223636ac876d42e3d64a5c998dc193818a0dba9df61942206";
        let key = [Secret::new("whsec_stripe_test")];
        let h = |v: &str| headers(&[("stripe-signature", v)]);
        let ok = format!("t=1700000000,v1={},v0=deadbeef,v1={good}", "0".repeat(64));
        assert!(s.verify_at(&key, &h(&ok), body, at(1700000100)).is_ok());
        assert_eq!(
            s.verify_at(&key, &h(&format!("v1={good}")), body, at(1700000100)),
            Err(VerifyError::BadTimestamp)
        );
        assert_eq!(
            s.verify_at(
                &key,
                &h(&format!("t=1700000000,v0={good}")),
                body,
                at(1700000100)
            ),
            Err(VerifyError::MalformedSignature),
            "only v1 signatures count"
        );
        assert_eq!(
            s.verify_at(&key, &h(&ok), body, at(1700000000 + 301)),
            Err(VerifyError::StaleTimestamp)
        );
        // What `send` produces verifies.
        let signed = s.sign_at(&key[0], &HeaderMap::new(), body, at(1700000000));
        let mut hs = HeaderMap::new();
        for (k, v) in signed {
            hs.insert(k, v.parse().expect("v"));
        }
        assert!(s.verify_at(&key, &hs, body, at(1700000000)).is_ok());
    }

    // Zendesk: base64 HMAC-SHA256 of timestamp + body, ISO-8601 timestamp header.
    #[test]
    fn zendesk_style_base64_with_iso_timestamp() {
        let mut sp = spec(Algorithm::Sha256, &["X-Zendesk-Webhook-Signature"]);
        sp.encodings = vec![Encoding::Base64];
        sp.signed = "{timestamp}{body}".into();
        sp.timestamp_header = Some("X-Zendesk-Webhook-Signature-Timestamp".into());
        let s = scheme(sp);
        let body = br#"{"ticket":{"id":35436}}"#;
        let h = headers(&[
            (
                "x-zendesk-webhook-signature-timestamp",
                "2026-01-01T00:00:00Z",
            ),
            (
                "x-zendesk-webhook-signature",
                "f9rvkY6vcTC2EpCm8zgEbIUB5RdeuxzGhdaH/U6THAw=",
            ),
        ]);
        let key = [Secret::new("dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmc")];
        assert!(s.verify_at(&key, &h, body, at(1767225600 + 10)).is_ok());
        assert_eq!(
            s.verify_at(&key, &h, body, at(1767225600 + 600)),
            Err(VerifyError::StaleTimestamp)
        );
    }

    #[test]
    fn shopify_and_intercom_style() {
        let mut sp = spec(Algorithm::Sha256, &["X-Shopify-Hmac-Sha256"]);
        sp.encodings = vec![Encoding::Base64];
        let shopify = scheme(sp);
        let h = headers(&[(
            "x-shopify-hmac-sha256",
            "3JxXO8Lul52iD5+qb1FHtoXK8vDwPbXpi8eB+yETk5I=",
        )]);
        let now = SystemTime::now();
        assert!(shopify
            .verify_at(
                &[Secret::new("shpss_test")],
                &h,
                br#"{"id":820982911946154508}"#,
                now
            )
            .is_ok());
        assert!(shopify
            .verify_at(
                &[Secret::new("shpss_test")],
                &h,
                br#"{"id":820982911946154509}"#,
                now
            )
            .is_err());
        let mut sp = spec(Algorithm::Sha1, &["X-Hub-Signature"]);
        sp.prefix = Some("sha1=".into());
        let intercom = scheme(sp);
        let h = headers(&[(
            "x-hub-signature",
            "sha1=3d7bce87181445590d18647882a60c332838578c",
        )]);
        let body = br#"{"type":"notification_event"}"#;
        assert!(intercom
            .verify_at(&[Secret::new("intercom_client_secret")], &h, body, now)
            .is_ok());
        assert!(intercom
            .verify_at(&[Secret::new("other")], &h, body, now)
            .is_err());
    }

    #[test]
    fn rotation_prefix_alt_header_and_base64() {
        let mut sp = spec(Algorithm::Sha256, &["X-Sig", "X-Sig-Alt"]);
        sp.prefix = Some("sha256=".into());
        sp.prefix_optional = true;
        sp.encodings = vec![Encoding::Hex, Encoding::Base64];
        let s = scheme(sp);
        let (new, old) = (Secret::new("new"), Secret::new("old"));
        let body = b"{\"a\":1}";
        let now = SystemTime::now();
        let v = s.sign_at(&old, &HeaderMap::new(), body, now).remove(0).1;
        assert!(v.starts_with("sha256="));
        assert!(s
            .verify_at(
                &[new.clone(), old.clone()],
                &headers(&[("x-sig-alt", &v)]),
                body,
                now
            )
            .is_ok());
        let bare = v.trim_start_matches("sha256=");
        assert!(s
            .verify_at(
                std::slice::from_ref(&old),
                &headers(&[("x-sig", bare)]),
                body,
                now
            )
            .is_ok());
        let b64 = base64::engine::general_purpose::STANDARD.encode(hex::decode(bare).expect("hex"));
        assert!(s
            .verify_at(
                std::slice::from_ref(&old),
                &headers(&[("x-sig", &b64)]),
                body,
                now
            )
            .is_ok());
        assert!(s
            .verify_at(&[new], &headers(&[("x-sig", &v)]), body, now)
            .is_err());
        assert!(s
            .verify_at(&[old], &headers(&[("x-sig", &v)]), b"{\"a\":2}", now)
            .is_err());
    }

    #[test]
    fn hostile_headers() {
        let mut sp = spec(Algorithm::Sha256, &["X-Sig"]);
        sp.prefix = Some("sha256=".into());
        let s = scheme(sp);
        let k = [Secret::new("k")];
        let now = SystemTime::now();
        assert_eq!(
            s.verify_at(&k, &HeaderMap::new(), b"x", now),
            Err(VerifyError::MissingSignature)
        );
        let long = "a".repeat(5000);
        for bad in [
            "",
            "sha256=",
            "sha256=zz",
            "deadbeef",
            "sha256=abc",
            long.as_str(),
        ] {
            let r = s.verify_at(&k, &headers(&[("x-sig", bad)]), b"x", now);
            assert_eq!(r, Err(VerifyError::MalformedSignature), "{bad:?}");
        }
        // A SHA-1 signature offered to a SHA-256 scheme is the wrong length.
        let mut sp = spec(Algorithm::Sha1, &["X-Sig"]);
        sp.prefix = Some("sha256=".into());
        let v = scheme(sp)
            .sign_at(&k[0], &HeaderMap::new(), b"x", now)
            .remove(0)
            .1;
        assert_eq!(
            s.verify_at(&k, &headers(&[("x-sig", &v)]), b"x", now),
            Err(VerifyError::MalformedSignature)
        );
        // Stripe-style parsing of garbage never panics and finds nothing.
        for bad in ["t=,v1=", ",,,", "t=1,v1", "=,=,="] {
            assert!(stripe()
                .verify_at(&k, &headers(&[("stripe-signature", bad)]), b"x", now)
                .is_err());
        }
    }

    #[test]
    fn templates() {
        assert!(parse_template("{nonsense}.{body}").is_err());
        assert!(parse_template("v0:{header:X-Ts}").is_err());
        assert_eq!(
            parse_template("v0:{header:X-Ts}:{body}")
                .map(|p| p.len())
                .ok(),
            Some(4)
        );
        let mut sp = spec(Algorithm::Sha256, &["x-sig"]);
        sp.signed = "{timestamp}.{body}".into();
        assert!(
            HmacScheme::compile(&sp).is_err(),
            "{{timestamp}} needs a timestamp source"
        );
        sp.signed = "{id}.{body}".into();
        assert!(HmacScheme::compile(&sp).is_err(), "{{id}} needs id_header");
        sp.signed = "{body}".into();
        sp.tolerance = Some("soon".into());
        assert!(HmacScheme::compile(&sp).is_err());
        // Found by the security review: a timestamp outside the signed content.
        sp.tolerance = None;
        sp.timestamp_header = Some("x-ts".into());
        let e = HmacScheme::compile(&sp).err().map(|e| e.to_string());
        assert!(
            e.as_deref()
                .is_some_and(|e| e.contains("does not include {timestamp}")),
            "{e:?}"
        );
        sp.timestamp_header = None;
        sp.format = SignatureFormat::Stripe;
        assert!(
            HmacScheme::compile(&sp).is_err(),
            "stripe's t= must be signed"
        );
        sp.format = SignatureFormat::Plain;
        sp.id_header = Some("x-id".into());
        assert!(
            HmacScheme::compile(&sp).is_err(),
            "an id header must be signed"
        );
    }
}
