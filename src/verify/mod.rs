//! Authentication of incoming deliveries, on the raw bytes, before any parsing.
//!
//! The typestate lives here: an [`Unverified`] request can only become a
//! [`Verified`] one through [`Unverified::verify`], and everything downstream
//! (mapping, dedup, output) takes a `Verified`. No axum, no rdkafka.

mod access;
mod hmac;
mod secret;

use std::net::IpAddr;

use bytes::Bytes;
use http::HeaderMap;

pub use access::{BasicAuth, IpAllowList};
pub use hmac::{
    Algorithm, Encoding, HmacScheme, HmacSpec, SchemeError, SecretEncoding, SignatureFormat,
    SignedAt, DEFAULT_TOLERANCE,
};
pub use secret::{Secret, MIN_SECRET_BYTES};

use std::time::SystemTime;

/// Why a request was refused. The messages are safe to show a caller: they name
/// the failed check, never a secret or the expected signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the signature header is missing")]
    MissingSignature,
    /// A header (or the id) the signed content names is absent.
    #[error("a header the signature covers is missing")]
    MissingSignedHeader,
    #[error("the signature header is malformed")]
    MalformedSignature,
    #[error("the signature does not match")]
    SignatureMismatch,
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
            Self::BadToken => "bad_token",
            Self::BadCredentials => "bad_credentials",
            Self::AddressNotAllowed => "address_not_allowed",
            Self::BadTimestamp => "bad_timestamp",
            Self::StaleTimestamp => "timestamp_out_of_tolerance",
            Self::EventTooOld => "event_too_old",
        }
    }
}

/// How a provider proves a delivery is its own.
#[derive(Debug, Clone)]
pub enum Scheme {
    Hmac(Box<HmacScheme>),
    /// The secret itself in a header (Telegram's secret token), compared in
    /// constant time.
    HeaderToken(http::HeaderName),
}

impl Scheme {
    pub fn prepare_secret(&self, s: &str) -> Result<Secret, String> {
        match self {
            Self::Hmac(h) => h.prepare_secret(s),
            Self::HeaderToken(_) => Ok(Secret::new(s.as_bytes())),
        }
    }

    /// The request headers the proof covers: a value taken from any other header
    /// can be changed by whoever holds one captured delivery.
    pub fn signed_headers(&self) -> &[http::HeaderName] {
        match self {
            Self::Hmac(h) => h.signed_headers(),
            // The token proves who sent the request, not what it says.
            Self::HeaderToken(_) => &[],
        }
    }

    /// The headers that carry the proof (signature candidates, or the token): their
    /// values are never shown.
    pub fn credential_headers(&self) -> Vec<&http::HeaderName> {
        match self {
            Self::Hmac(h) => h.signature_headers().iter().collect(),
            Self::HeaderToken(h) => vec![h],
        }
    }

    /// The header the proof travels in.
    pub fn header_name(&self) -> &http::HeaderName {
        match self {
            Self::Hmac(h) => h.header_name(),
            Self::HeaderToken(h) => h,
        }
    }

    pub fn verify_at(
        &self,
        secrets: &[Secret],
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), VerifyError> {
        match self {
            Self::Hmac(h) => h.verify_at(secrets, headers, body, now),
            Self::HeaderToken(name) => {
                let given = headers.get(name).ok_or(VerifyError::MissingSignature)?;
                let mut ok = false;
                for s in secrets {
                    ok |= s.ct_eq(given.as_bytes());
                }
                if ok {
                    Ok(())
                } else {
                    Err(VerifyError::SignatureMismatch)
                }
            }
        }
    }

    /// The headers the provider would send (see [`HmacScheme::sign_at`]).
    pub fn sign_at(
        &self,
        secret: &Secret,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Vec<(http::HeaderName, String)> {
        match self {
            Self::Hmac(h) => h.sign_at(secret, headers, body, now),
            Self::HeaderToken(name) => vec![(
                name.clone(),
                String::from_utf8_lossy(secret.expose()).into_owned(),
            )],
        }
    }
}

/// Every check a source requires; all configured checks must pass.
#[derive(Debug, Clone, Default)]
pub struct SourceAuth {
    /// The provider's scheme and this source's secrets (any may match).
    pub signature: Option<(Scheme, Vec<Secret>)>,
    /// A secret path segment: `/webhooks/{source}/{token}`.
    pub token: Option<Secret>,
    pub basic: Option<BasicAuth>,
    pub allow: Option<IpAllowList>,
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
        self.signature.is_none()
            && self.token.is_none()
            && self.basic.is_none()
            && self.allow.is_none()
    }
}

/// What arrives before the body: enough for the checks that need no body.
#[derive(Debug)]
pub struct RequestHead {
    pub headers: HeaderMap,
    pub peer: Option<IpAddr>,
    pub path_token: Option<String>,
}

/// A request whose body-free checks passed (address, URL token, basic auth): its
/// body may now be read. Only [`RequestHead::admit`] makes one.
#[derive(Debug)]
pub struct Admitted {
    headers: HeaderMap,
}

/// A request as received, body included: nothing about it is trusted yet.
#[derive(Debug)]
pub struct Unverified {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub peer: Option<IpAddr>,
    pub path_token: Option<String>,
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
}

impl Verified {
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    pub fn body(&self) -> &Bytes {
        &self.body
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
        if let Some((scheme, secrets)) = &auth.signature {
            scheme.verify_at(secrets, &self.headers, &body, now)?;
        }
        Ok(Verified {
            headers: self.headers,
            body,
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
    /// against the source's current secrets, without the replay window (its
    /// timestamp is old by design; its signature never is). A source that does not
    /// sign the body cannot be verified from what was kept: only with
    /// `trust_unsigned`, the operator's explicit word.
    pub fn reverify(
        self,
        auth: &SourceAuth,
        trust_unsigned: bool,
    ) -> Result<Verified, ReverifyError> {
        match &auth.signature {
            Some((Scheme::Hmac(h), secrets)) => {
                let _signed_at = h
                    .verify_signature(secrets, &self.headers, &self.body)
                    .map_err(ReverifyError::Failed)?;
            }
            Some((Scheme::HeaderToken(_), _)) | None if trust_unsigned => {}
            Some((Scheme::HeaderToken(_), _)) | None => return Err(ReverifyError::Unsigned),
        }
        Ok(Verified {
            headers: self.headers,
            body: self.body,
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
