//! Authentication of incoming deliveries, on the raw bytes, before any parsing.
//!
//! The typestate lives here: a [`RequestHead`] is admitted by the checks that need
//! no body, and an [`Admitted`] request becomes [`Verified`] only through its
//! signature check; everything downstream (mapping, dedup, output) takes a
//! `Verified`. The schemes, by family: `signed` (HMAC and Ed25519 over a template),
//! `jwt` (a signed token over the body's hash), `twilio` (the URL and the sorted
//! form parameters), a header token, and `access` (token, basic auth, addresses).
//! No axum, no rdkafka.

mod access;
mod jwt;
mod keys;

mod signed;
mod twilio;

use std::net::IpAddr;
use std::time::SystemTime;

use bytes::Bytes;
use http::HeaderMap;

pub use crate::secret::{Secret, MIN_SECRET_BYTES};
pub use access::{BasicAuth, IpAllowList};
pub use jwt::{JwtScheme, JwtSpec};
pub use keys::PublicKey;
pub use signed::{
    Algorithm, Ed25519Spec, Encoding, HmacSpec, Kind, SchemeError, SecretEncoding, SignatureFormat,
    SignedAt, SignedScheme, DEFAULT_TOLERANCE,
};
pub use twilio::{TwilioScheme, TwilioSpec};

/// Why a request was refused. The messages are safe to show a caller: they name
/// the failed check, never a secret or the expected signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the signature header is missing")]
    MissingSignature,
    /// A header (or the id, or the URL) the signed content names is absent.
    #[error("a header the signature covers is missing")]
    MissingSignedHeader,
    #[error("the signature header is malformed")]
    MalformedSignature,
    #[error("the signature does not match")]
    SignatureMismatch,
    /// The signed hash of the body (a JWT claim, Twilio's `bodySHA256`) is not
    /// this body's.
    #[error("the signed body hash is not this body's")]
    BodyHashMismatch,
    /// The body cannot be read as the scheme needs (a form with invalid
    /// percent-encoding, for a signature over its parameters).
    #[error("the body cannot be read for its signature")]
    MalformedBody,
    /// A signed form names a field twice that the provider never repeats (Twilio's
    /// signature cannot tell the variants apart).
    #[error("a signed form field is repeated")]
    RepeatedField,
    #[error("the URL token is missing or wrong")]
    BadToken,
    #[error("the credentials are missing or wrong")]
    BadCredentials,
    #[error("the source address is not allowed")]
    AddressNotAllowed,
    #[error("the signature timestamp is missing or malformed")]
    BadTimestamp,
    #[error("the signature timestamp is outside the replay window")]
    StaleTimestamp,
    /// The payload's own event time is older than the source's `max_event_age`.
    #[error("the event is older than the source accepts")]
    EventTooOld,
}

impl VerifyError {
    /// A stable label for metrics, logs and the error body.
    pub fn reason(self) -> &'static str {
        match self {
            Self::MissingSignature => "missing_signature",
            Self::MissingSignedHeader => "missing_signed_header",
            Self::MalformedSignature => "malformed_signature",
            Self::SignatureMismatch => "signature_mismatch",
            Self::BodyHashMismatch => "body_hash_mismatch",
            Self::MalformedBody => "malformed_body",
            Self::RepeatedField => "repeated_field",
            Self::BadToken => "bad_token",
            Self::BadCredentials => "bad_credentials",
            Self::AddressNotAllowed => "address_not_allowed",
            Self::BadTimestamp => "bad_timestamp",
            Self::StaleTimestamp => "timestamp_out_of_tolerance",
            Self::EventTooOld => "event_too_old",
        }
    }
}

/// A source's keys for its scheme: shared secrets (HMAC, tokens, JWT, Twilio's auth
/// token), or public keys (Ed25519). Any may match: rotation.
#[derive(Debug, Clone)]
pub enum Keys {
    Secrets(Vec<Secret>),
    Public(Vec<PublicKey>),
}

/// What a signature may cover: the request as received.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// The URL as the provider saw it: the source's `public_url` and the query.
    pub url: Option<&'a str>,
}

/// How a provider proves a delivery is its own.
#[derive(Debug, Clone)]
pub enum Scheme {
    /// HMAC or Ed25519 over a template of the body, headers, timestamp, URL.
    Signed(Box<SignedScheme>),
    /// The secret itself in a header (Telegram's secret token), compared in
    /// constant time.
    HeaderToken(http::HeaderName),
    /// A signed token whose claim is the body's hash (Vonage).
    Jwt(Box<JwtScheme>),
    /// The URL and the sorted form parameters (Twilio).
    Twilio(Box<TwilioScheme>),
}

impl Scheme {
    /// Whether sources give this scheme public keys (`public_keys`) rather than
    /// secrets (`secrets`).
    pub fn takes_public_keys(&self) -> bool {
        matches!(self, Self::Signed(s) if s.kind() == Kind::Ed25519)
    }

    /// Whether the scheme signs the URL, so a source must say its `public_url`.
    pub fn signs_url(&self) -> bool {
        match self {
            Self::Signed(s) => s.signs_url(),
            Self::Twilio(_) => true,
            Self::HeaderToken(_) | Self::Jwt(_) => false,
        }
    }

    /// Turns a configured secret into the key (checked at start-up).
    pub fn prepare_secret(&self, s: &str) -> Result<Secret, String> {
        match self {
            Self::Signed(h) if h.kind() == Kind::Ed25519 => {
                Err("this provider signs with a private key: give its `public_keys`".to_owned())
            }
            Self::Signed(h) => h.prepare_secret(s),
            Self::HeaderToken(_) | Self::Jwt(_) | Self::Twilio(_) => Ok(Secret::new(s.as_bytes())),
        }
    }

    /// Turns a configured public key into one (checked at start-up).
    pub fn prepare_public_key(&self, s: &str) -> Result<PublicKey, String> {
        if !self.takes_public_keys() {
            return Err("this provider's scheme takes `secrets`, not public keys".to_owned());
        }
        PublicKey::parse(s)
    }

    /// The request headers the proof covers: a value taken from any other header
    /// can be changed by whoever holds one captured delivery.
    pub fn signed_headers(&self) -> &[http::HeaderName] {
        match self {
            Self::Signed(h) => h.signed_headers(),
            // The token proves who sent the request, not what it says; the JWT
            // covers the body through its hash, and Twilio's the URL and the form.
            Self::HeaderToken(_) | Self::Jwt(_) | Self::Twilio(_) => &[],
        }
    }

    /// The headers that carry the proof (signature candidates, token, bearer
    /// token): their values are never shown.
    pub fn credential_headers(&self) -> Vec<&http::HeaderName> {
        match self {
            Self::Signed(h) => h.signature_headers().iter().collect(),
            Self::HeaderToken(h) => vec![h],
            Self::Jwt(j) => vec![j.header_name()],
            Self::Twilio(t) => vec![t.header_name()],
        }
    }

    /// The header the proof travels in.
    pub fn header_name(&self) -> &http::HeaderName {
        match self {
            Self::Signed(h) => h.header_name(),
            Self::HeaderToken(h) => h,
            Self::Jwt(j) => j.header_name(),
            Self::Twilio(t) => t.header_name(),
        }
    }

    /// Checks a request against the keys, with the replay window around `now`
    /// (`window` false: a kept record's signature alone, for replay).
    pub fn verify(
        &self,
        keys: &Keys,
        req: Signed<'_>,
        now: SystemTime,
        window: bool,
    ) -> Result<(), VerifyError> {
        let secrets = || match keys {
            Keys::Secrets(s) => Ok(s.as_slice()),
            Keys::Public(_) => Err(VerifyError::SignatureMismatch),
        };
        match self {
            Self::Signed(h) if window => h.verify_at(keys, req, now),
            Self::Signed(h) => h.verify_signature(keys, req).map(drop),
            Self::HeaderToken(name) => {
                let given = req.headers.get(name).ok_or(VerifyError::MissingSignature)?;
                let mut ok = false;
                for s in secrets()? {
                    ok |= s.ct_eq(given.as_bytes());
                }
                if ok {
                    Ok(())
                } else {
                    Err(VerifyError::SignatureMismatch)
                }
            }
            Self::Jwt(j) => j.verify_at(secrets()?, req.headers, req.body, now, window),
            Self::Twilio(t) => {
                let url = req.url.ok_or(VerifyError::MissingSignedHeader)?;
                t.verify(secrets()?, req.headers, req.body, url)
            }
        }
    }

    /// The hash of the content the scheme signs, when many bodies can carry one
    /// signature (Twilio: the URL and the sorted fields without separators); `None`
    /// where the body itself is what is signed.
    pub fn signed_identity(&self, req: Signed<'_>) -> Option<[u8; 32]> {
        match self {
            Self::Twilio(t) => t
                .signed_content(req.headers, req.body, req.url?)
                .ok()
                .map(|c| <sha2::Sha256 as sha2::Digest>::digest(c.as_bytes()).into()),
            Self::Signed(_) | Self::HeaderToken(_) | Self::Jwt(_) => None,
        }
    }

    /// The headers the provider would send for `body` signed with `secret` (for
    /// Ed25519, the private key) at `now`, posted to `url`.
    pub fn sign_at(
        &self,
        secret: &Secret,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
        url: Option<&str>,
    ) -> Vec<(http::HeaderName, String)> {
        match self {
            Self::Signed(h) => h.sign_at(secret, headers, body, now, url),
            Self::HeaderToken(name) => vec![(
                name.clone(),
                String::from_utf8_lossy(secret.expose()).into_owned(),
            )],
            Self::Jwt(j) => vec![j.sign_at(secret, body, now)],
            Self::Twilio(t) => vec![t.sign(secret, headers, body, url.unwrap_or_default())],
        }
    }
}

/// Every check a source requires; all configured checks must pass.
#[derive(Debug, Clone, Default)]
pub struct SourceAuth {
    /// The provider's schemes this source has keys for; a delivery passes when
    /// one of them verifies (a provider with both HMAC and Ed25519 signatures).
    pub signatures: Vec<(Scheme, Keys)>,
    /// A secret path segment: `/webhooks/{source}/{token}`.
    pub token: Option<Secret>,
    pub basic: Option<BasicAuth>,
    pub allow: Option<IpAllowList>,
    /// The URL the provider posts to, as it sees it (behind a load balancer it
    /// differs from what hookgate sees): for schemes that sign the URL.
    pub public_url: Option<String>,
}

impl SourceAuth {
    /// No check at all: a source configured with `allow_unauthenticated = true`,
    /// and the offline tools (`check`, `map`, the load generator), which deliver
    /// nothing. The one explicit way to a [`Verified`] without a credential.
    pub fn open() -> Self {
        Self::default()
    }

    /// Whether a check that needs no body (address, URL token, basic auth) stands
    /// before the body is read.
    pub fn checks_before_body(&self) -> bool {
        self.token.is_some() || self.basic.is_some() || self.allow.is_some()
    }

    /// True when no check is configured: only allowed with an explicit opt-in.
    pub fn is_open(&self) -> bool {
        self.signatures.is_empty()
            && self.token.is_none()
            && self.basic.is_none()
            && self.allow.is_none()
    }

    /// Whether a signature covers the body (so a kept record can be verified again).
    pub fn signs_body(&self) -> bool {
        self.signatures
            .iter()
            .any(|(s, _)| !matches!(s, Scheme::HeaderToken(_)))
    }

    /// The URL a request was posted to, as the provider saw it.
    fn url(&self, query: Option<&str>) -> Option<String> {
        let base = self.public_url.as_deref()?;
        Some(match query.filter(|q| !q.is_empty()) {
            Some(q) => format!("{base}?{q}"),
            None => base.to_owned(),
        })
    }

    /// The signature checks: one of the source's schemes must verify. The error of
    /// the first scheme is the one answered.
    fn verify_signatures(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        query: Option<&str>,
        now: SystemTime,
        window: bool,
    ) -> Result<Option<[u8; 32]>, VerifyError> {
        let url = self.url(query);
        let req = Signed {
            headers,
            body,
            url: url.as_deref(),
        };
        let mut first = None;
        for (scheme, keys) in &self.signatures {
            match scheme.verify(keys, req, now, window) {
                Ok(()) => return Ok(scheme.signed_identity(req)),
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        first.map_or(Ok(None), Err)
    }
}

/// What arrives before the body: enough for the checks that need no body.
#[derive(Debug)]
pub struct RequestHead {
    pub headers: HeaderMap,
    pub peer: Option<IpAddr>,
    pub path_token: Option<String>,
    /// The raw query string (for schemes that sign the URL).
    pub query: Option<String>,
}

/// A request whose body-free checks passed (address, URL token, basic auth): its
/// body may now be read. Only [`RequestHead::admit`] makes one.
#[derive(Debug)]
pub struct Admitted {
    headers: HeaderMap,
    query: Option<String>,
}

/// A request as received, body included: nothing about it is trusted yet.
#[derive(Debug)]
pub struct Unverified {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub peer: Option<IpAddr>,
    pub path_token: Option<String>,
    pub query: Option<String>,
}

/// A request that passed every check its source requires. Only
/// [`Admitted::verify`] makes one (directly, or through [`Unverified::verify`]);
/// its fields are private, so no other module can assemble one. Holding a
/// `Verified` proves the source's checks passed, with one explicit exception:
/// against [`SourceAuth::open`] (an `allow_unauthenticated` source, or an offline
/// tool) there are none to pass.
#[derive(Debug)]
pub struct Verified {
    headers: HeaderMap,
    body: Bytes,
    query: Option<String>,
    /// The hash of what the signature covers, for schemes under which many bodies
    /// carry one signature (Twilio's separator-free form fields).
    identity: Option<[u8; 32]>,
}

impl Verified {
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The raw query string it was posted with.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// What identifies this delivery as the provider signed it, when that is not
    /// the body byte for byte: every variant of one signed delivery (fields moved
    /// across a boundary, reordered, encoded otherwise) has the same identity, so a
    /// dead letter made from any of them is a duplicate of the first.
    pub fn signed_identity(&self) -> Option<&[u8; 32]> {
        self.identity.as_ref()
    }
}

impl RequestHead {
    /// The checks that need no body, cheapest first. Run before a byte of the body
    /// is read, so a request without the right token or address costs nothing.
    pub fn admit(self, auth: &SourceAuth) -> Result<Admitted, VerifyError> {
        if let Some(allow) = &auth.allow {
            match self.peer {
                Some(ip) if allow.contains(ip) => {}
                _ => return Err(VerifyError::AddressNotAllowed),
            }
        }
        match (&auth.token, &self.path_token) {
            (Some(expected), Some(given)) if expected.ct_eq(given.as_bytes()) => {}
            (Some(_), _) => return Err(VerifyError::BadToken),
            // A token on a source that has none is a misconfigured sender: refuse it
            // rather than silently ignore a credential we cannot check.
            (None, Some(_)) => return Err(VerifyError::BadToken),
            (None, None) => {}
        }
        if let Some(basic) = &auth.basic {
            basic.check(&self.headers)?;
        }
        Ok(Admitted {
            headers: self.headers,
            query: self.query,
        })
    }
}

impl Admitted {
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The signature check, on the raw body.
    pub fn verify(self, body: Bytes, auth: &SourceAuth) -> Result<Verified, VerifyError> {
        self.verify_at(body, auth, SystemTime::now())
    }

    /// As [`Admitted::verify`], with the clock the replay window is checked against.
    pub fn verify_at(
        self,
        body: Bytes,
        auth: &SourceAuth,
        now: SystemTime,
    ) -> Result<Verified, VerifyError> {
        let identity =
            auth.verify_signatures(&self.headers, &body, self.query.as_deref(), now, true)?;
        Ok(Verified {
            headers: self.headers,
            body,
            query: self.query,
            identity,
        })
    }
}

/// Why a kept delivery (a dead letter) is not trusted again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReverifyError {
    #[error("{0}")]
    Failed(VerifyError),
    /// The source's checks cover no body (URL token, basic auth, address, header
    /// token, none): nothing kept can prove the record authentic.
    #[error("the source does not sign its deliveries: replay it only with --trust-unsigned")]
    Unsigned,
}

impl ReverifyError {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Failed(e) => e.reason(),
            Self::Unsigned => "unsigned_source",
        }
    }
}

impl Unverified {
    /// Verifies a kept delivery again (a dead letter, for replay): its signature
    /// against the source's current keys, without the replay window (its
    /// timestamp is old by design; its signature never is). A source that does not
    /// sign the body cannot be verified from what was kept: only with
    /// `trust_unsigned`, the operator's explicit word.
    pub fn reverify(
        self,
        auth: &SourceAuth,
        trust_unsigned: bool,
    ) -> Result<Verified, ReverifyError> {
        let mut identity = None;
        if auth.signs_body() {
            let signing: Vec<(Scheme, Keys)> = auth
                .signatures
                .iter()
                .filter(|(s, _)| !matches!(s, Scheme::HeaderToken(_)))
                .cloned()
                .collect();
            let signed = SourceAuth {
                signatures: signing,
                ..auth.clone()
            };
            identity = signed
                .verify_signatures(
                    &self.headers,
                    &self.body,
                    self.query.as_deref(),
                    SystemTime::now(),
                    false,
                )
                .map_err(ReverifyError::Failed)?;
        } else if !trust_unsigned {
            return Err(ReverifyError::Unsigned);
        }
        Ok(Verified {
            headers: self.headers,
            body: self.body,
            query: self.query,
            identity,
        })
    }

    pub fn verify(self, auth: &SourceAuth) -> Result<Verified, VerifyError> {
        self.verify_at(auth, SystemTime::now())
    }

    /// As [`Unverified::verify`], with the clock the replay window is checked against.
    pub fn verify_at(self, auth: &SourceAuth, now: SystemTime) -> Result<Verified, VerifyError> {
        let head = RequestHead {
            headers: self.headers,
            peer: self.peer,
            path_token: self.path_token,
            query: self.query,
        };
        head.admit(auth)?.verify_at(self.body, auth, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(token: Option<&str>, peer: Option<&str>) -> Unverified {
        Unverified {
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"{}"),
            peer: peer.map(|p| p.parse().expect("ip")),
            path_token: token.map(str::to_owned),
            query: None,
        }
    }

    #[test]
    fn open_source_passes_and_token_source_checks_token() {
        assert!(req(None, None).verify(&SourceAuth::default()).is_ok());
        let auth = SourceAuth {
            token: Some(Secret::new("t0ken")),
            ..Default::default()
        };
        assert!(req(Some("t0ken"), None).verify(&auth).is_ok());
        assert_eq!(
            req(Some("t0ke"), None).verify(&auth).err(),
            Some(VerifyError::BadToken)
        );
        assert_eq!(
            req(None, None).verify(&auth).err(),
            Some(VerifyError::BadToken)
        );
        assert_eq!(
            req(Some("x"), None).verify(&SourceAuth::default()).err(),
            Some(VerifyError::BadToken)
        );
    }

    #[test]
    fn allow_list() {
        let auth = SourceAuth {
            allow: Some(IpAllowList::new(vec!["174.138.104.128/32"
                .parse()
                .expect("net")])),
            ..Default::default()
        };
        assert!(req(None, Some("174.138.104.128")).verify(&auth).is_ok());
        assert_eq!(
            req(None, Some("174.138.104.129")).verify(&auth).err(),
            Some(VerifyError::AddressNotAllowed)
        );
        assert_eq!(
            req(None, None).verify(&auth).err(),
            Some(VerifyError::AddressNotAllowed)
        );
    }
}
