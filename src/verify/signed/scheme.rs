//! A compiled signature scheme: checked and parsed once at start-up (a check
//! against every key, constant-time for secrets, then the replay window).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName};

use super::clock::TimestampUnit;
use super::error::SchemeError;
use super::spec::{
    Algorithm, Ed25519Spec, Encoding, HmacSpec, SecretEncoding, SignatureFormat, SignatureLayout,
    DEFAULT_TOLERANCE,
};
use super::template::Template;
use super::url::UrlDecode;
use crate::secret::Secret;
use crate::verify::asymmetric::{sign_pem, MIN_RSA_BITS};
use crate::verify::content::Signed;
use crate::verify::error::VerifyError;
use crate::verify::keys::Keys;

/// The widest replay window a mapping may declare.
const MAX_TOLERANCE: Duration = Duration::from_secs(24 * 3600);

/// What proves a signature: a MAC with a shared secret, or a public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Hmac(Algorithm),
    Ed25519,
    /// RSA PKCS#1 v1.5 with SHA-256 (Freshchat).
    RsaSha256,
    /// ECDSA on P-256 with SHA-256 (SendGrid's event webhook).
    EcdsaP256,
}

impl Kind {
    /// Whether the provider signs with a private key (sources give public keys).
    pub fn takes_public_keys(self) -> bool {
        !matches!(self, Self::Hmac(_))
    }

    /// Whether a decoded signature of `len` bytes can be one of this kind.
    fn fits(self, len: usize) -> bool {
        match self {
            Self::Hmac(Algorithm::Sha1) => len == 20,
            Self::Hmac(Algorithm::Sha256) => len == 32,
            Self::Hmac(Algorithm::Sha512) | Self::Ed25519 => len == 64,
            // 2048- to 8192-bit moduli.
            Self::RsaSha256 => (MIN_RSA_BITS / 8..=1024).contains(&len),
            // DER (at most 72 bytes) or the raw 64 bytes of r and s.
            Self::EcdsaP256 => (8..=72).contains(&len),
        }
    }
}

/// The HMAC of `content` under `key` with `algorithm`.
pub fn hmac_of(algorithm: Algorithm, key: &[u8], content: &[u8]) -> Vec<u8> {
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
    match algorithm {
        Algorithm::Sha1 => run::<Hmac<sha1::Sha1>>(key, content),
        Algorithm::Sha256 => run::<Hmac<sha2::Sha256>>(key, content),
        Algorithm::Sha512 => run::<Hmac<sha2::Sha512>>(key, content),
    }
}

/// A compiled signature scheme: everything parsed at start-up so a request costs
/// one header lookup, one MAC (or one verification) per key and one compare per
/// candidate. Its fields are open to the `signed` module, because provider-side
/// signing (`sign.rs`) must write exactly the layout this file checks.
#[derive(Debug, Clone)]
pub struct SignedScheme {
    pub(super) kind: Kind,
    pub(super) headers: Vec<HeaderName>,
    pub(super) encodings: Vec<Encoding>,
    pub(super) prefix: Option<String>,
    pub(super) prefix_optional: bool,
    pub(super) template: Template,
    pub(super) format: SignatureFormat,
    pub(super) versions: Vec<String>,
    pub(super) timestamp_header: Option<HeaderName>,
    pub(super) id_header: Option<HeaderName>,
    pub(super) tolerance: Duration,
    pub(super) timestamp_unit: TimestampUnit,
    pub(super) url_decode: UrlDecode,
    pub(super) secret_encoding: SecretEncoding,
    /// Headers whose values are part of the signed content.
    pub(super) signed_headers: Vec<HeaderName>,
}

fn header_name(h: &str) -> Result<HeaderName, SchemeError> {
    HeaderName::try_from(h).map_err(|_| SchemeError::HeaderName(h.to_owned()))
}

pub(super) fn unix_now(now: SystemTime) -> i64 {
    now.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

impl SignedScheme {
    pub fn compile(spec: &HmacSpec) -> Result<Self, SchemeError> {
        Self::compile_kind(
            &spec.layout,
            Kind::Hmac(spec.algorithm),
            spec.secret_encoding,
        )
    }

    /// An Ed25519 scheme's key is a public key, taken as written.
    pub fn compile_ed25519(spec: &Ed25519Spec) -> Result<Self, SchemeError> {
        Self::compile_kind(&spec.layout, Kind::Ed25519, SecretEncoding::Raw)
    }

    /// A scheme signed with the provider's RSA or P-256 private key, laid out
    /// as an Ed25519 one is.
    pub fn compile_public_key(spec: &Ed25519Spec, kind: Kind) -> Result<Self, SchemeError> {
        Self::compile_kind(&spec.layout, kind, SecretEncoding::Raw)
    }

    fn compile_kind(
        spec: &SignatureLayout,
        kind: Kind,
        secret_encoding: SecretEncoding,
    ) -> Result<Self, SchemeError> {
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
        let template = Template::parse(&spec.signed)?;
        let template_err = |reason: &str| SchemeError::Template {
            template: spec.signed.clone(),
            reason: reason.to_owned(),
        };
        let has_timestamp = spec.format.carries_timestamp() || timestamp_header.is_some();
        if template.signs_timestamp() && !has_timestamp {
            return Err(template_err(
                "uses {timestamp} but the scheme has no timestamp (set timestamp_header or format = \"stripe\")",
            ));
        }
        if template.signs_id() && id_header.is_none() {
            return Err(template_err("uses {id} but id_header is not set"));
        }
        // A replay window or id checked on a value the signature does not cover is
        // no check at all: anyone could send a fresh timestamp with an old delivery.
        if has_timestamp && !template.signs_timestamp() {
            return Err(template_err(
                "the scheme has a timestamp but the signed template does not include {timestamp}, \
                 so the replay window would check an unsigned value",
            ));
        }
        let url_decode = UrlDecode::parse(spec.url_decode.as_deref())?;
        if !url_decode.is_empty() && !template.signs_url() {
            return Err(template_err(
                "url_decode is set but the signed template does not include {url}",
            ));
        }
        if id_header.is_some() && !template.signs_id() {
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
            .headers()
            .cloned()
            .chain(timestamp_header.clone())
            .chain(id_header.clone())
            .collect();
        signed_headers.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        signed_headers.dedup();
        Ok(Self {
            signed_headers,
            kind,
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
            timestamp_unit: spec.timestamp_unit,
            url_decode,
            secret_encoding,
        })
    }

    /// Every header a signature may come in (the candidates, in order).
    pub fn signature_headers(&self) -> &[HeaderName] {
        &self.headers
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

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Whether the template signs the URL (the source must say its `public_url`).
    pub fn signs_url(&self) -> bool {
        self.template.signs_url()
    }

    /// Whether sources give `whsec_<base64>` secrets.
    pub fn uses_whsec(&self) -> bool {
        self.secret_encoding == SecretEncoding::WhsecBase64
    }

    /// Whether deliveries carry a timestamp that is checked against `tolerance`.
    pub fn has_timestamp(&self) -> bool {
        self.format.carries_timestamp() || self.timestamp_header.is_some()
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

    pub(super) fn mac(&self, key: &[u8], content: &[u8]) -> Vec<u8> {
        match self.kind {
            Kind::Hmac(algorithm) => hmac_of(algorithm, key, content),
            Kind::Ed25519 => match <[u8; 32]>::try_from(key) {
                Ok(seed) => {
                    use ed25519_dalek::Signer as _;
                    ed25519_dalek::SigningKey::from_bytes(&seed)
                        .sign(content)
                        .to_bytes()
                        .to_vec()
                }
                Err(_) => Vec::new(),
            },
            // The key is the provider's PEM private key (fixtures, load generator).
            Kind::RsaSha256 | Kind::EcdsaP256 => std::str::from_utf8(key)
                .ok()
                .and_then(|pem| sign_pem(pem, content).ok())
                .unwrap_or_default(),
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
        // An RSA-8192 signature is 1,368 base64 characters; a MAC at most 128 hex.
        let longest = if self.kind.takes_public_keys() {
            1400
        } else {
            256
        };
        if value.is_empty() || value.len() > longest {
            return Vec::new();
        }
        self.format
            .encodings(&self.encodings)
            .iter()
            .filter_map(|enc| match enc {
                Encoding::Hex => hex::decode(value).ok(),
                Encoding::Base64 => base64::engine::general_purpose::STANDARD.decode(value).ok(),
            })
            .filter(|d| self.kind.fits(d.len()))
            .collect()
    }

    pub(super) fn header_str<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h str> {
        headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Checks the request against every key (any match passes: key rotation),
    /// then, for timestamped schemes, the replay window around `now`.
    pub fn verify_at(
        &self,
        keys: &Keys,
        req: Signed<'_>,
        now: SystemTime,
    ) -> Result<(), VerifyError> {
        self.verify_signature(keys, req)?
            .check_window(now, self.tolerance)
    }

    /// The signature alone, without the replay window: what a replay of a kept
    /// dead letter checks (its timestamp is old by design; the signature never is).
    pub fn verify_signature(&self, keys: &Keys, req: Signed<'_>) -> Result<SignedAt, VerifyError> {
        let headers = req.headers;
        let raw = self
            .headers
            .iter()
            .find_map(|h| headers.get(h))
            .ok_or(VerifyError::MissingSignature)?;
        let raw = raw.to_str().map_err(|_| VerifyError::MalformedSignature)?;
        let parsed = self.format.parse(raw, &self.versions)?;
        let timestamp = match (&self.timestamp_header, parsed.timestamp) {
            (_, Some(t)) => Some(t),
            (Some(h), None) => Some(Self::header_str(headers, h).ok_or(VerifyError::BadTimestamp)?),
            (None, None) if self.format.carries_timestamp() => {
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
        let url = req.url.map(|u| self.url_decode.apply(u));
        let content = self
            .template
            .render(headers, req.body, timestamp, id, url.as_deref())?;
        let matched = match (self.kind, keys) {
            (Kind::Hmac(_), Keys::Secrets(secrets)) => {
                let mut ok = subtle::Choice::from(0u8);
                for secret in secrets {
                    let expected = self.mac(secret.expose(), &content);
                    for c in &candidates {
                        use subtle::ConstantTimeEq;
                        ok |= expected.as_slice().ct_eq(c.as_slice());
                    }
                }
                bool::from(ok)
            }
            (Kind::Ed25519, Keys::Public(public)) => {
                public.iter().filter_map(|k| k.ed25519()).any(|key| {
                    candidates.iter().any(|c| {
                        <[u8; 64]>::try_from(c.as_slice()).is_ok_and(|sig| {
                            key.verify_strict(&content, &ed25519_dalek::Signature::from_bytes(&sig))
                                .is_ok()
                        })
                    })
                })
            }
            (Kind::RsaSha256 | Kind::EcdsaP256, Keys::Public(public)) => public
                .iter()
                .filter_map(|k| k.asymmetric())
                .any(|key| candidates.iter().any(|c| key.verify(&content, c))),
            // Keys of the other kind prove nothing (start-up refuses this pairing).
            _ => false,
        };
        if !matched {
            return Err(VerifyError::SignatureMismatch);
        }
        Ok(SignedAt(
            timestamp.map(|t| (t.to_owned(), self.timestamp_unit)),
        ))
    }
}

/// A matched signature and the timestamp it covers (and its unit), if the scheme
/// has one.
#[derive(Debug)]
#[must_use = "the replay window is checked by check_window"]
pub struct SignedAt(Option<(String, TimestampUnit)>);

impl SignedAt {
    /// Checked after the signature, so the time window cannot be probed unsigned.
    pub fn check_window(self, now: SystemTime, tolerance: Duration) -> Result<(), VerifyError> {
        let Some((t, unit)) = self.0 else {
            return Ok(());
        };
        let t = unit.to_seconds(&t).ok_or(VerifyError::BadTimestamp)?;
        let skew = (unix_now(now) - t).unsigned_abs();
        if skew > tolerance.as_secs() {
            return Err(VerifyError::StaleTimestamp);
        }
        Ok(())
    }

    /// Whether the signature covered a timestamp.
    pub fn timestamped(&self) -> bool {
        self.0.is_some()
    }
}
