//! Scheme dispatch: the ways a provider proves a delivery is its own, one family
//! per variant, and what each needs of a source (secrets or public keys, a URL).

use std::time::SystemTime;

use http::HeaderMap;

use super::content::Signed;
use super::error::VerifyError;
use super::jwt::JwtScheme;
use super::keys::{Keys, PublicKey};
use super::published::PublishedJwtScheme;
use super::signed::{Kind, SignedScheme};
use super::twilio::TwilioScheme;
use crate::secret::Secret;

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
    /// A token signed with keys the provider publishes (Bot Framework, Google
    /// Chat): it proves the sender, not the body.
    Published(Box<PublishedJwtScheme>),
}

impl Scheme {
    /// Whether sources give this scheme public keys (`public_keys`) rather than
    /// secrets (`secrets`).
    pub fn takes_public_keys(&self) -> bool {
        self.public_key_kind().is_some()
    }

    /// The kind of key the provider signs with, when sources give its public key.
    pub fn public_key_kind(&self) -> Option<Kind> {
        match self {
            Self::Signed(s) if s.kind().takes_public_keys() => Some(s.kind()),
            _ => None,
        }
    }

    /// Whether the provider publishes its keys (sources give their `audience`,
    /// neither secrets nor public keys).
    pub fn takes_published_keys(&self) -> bool {
        matches!(self, Self::Published(_))
    }

    /// Whether the scheme signs the URL, so a source must say its `public_url`.
    pub fn signs_url(&self) -> bool {
        match self {
            Self::Signed(s) => s.signs_url(),
            Self::Twilio(_) => true,
            Self::HeaderToken(_) | Self::Jwt(_) | Self::Published(_) => false,
        }
    }

    /// Whether what the provider signs covers the body, so a kept record can be
    /// verified again (a header token, or a token proving only the sender, cannot).
    pub fn signs_body(&self) -> bool {
        !matches!(self, Self::HeaderToken(_) | Self::Published(_))
    }

    /// Turns a configured secret into the key (checked at start-up).
    pub fn prepare_secret(&self, s: &str) -> Result<Secret, String> {
        match self {
            Self::Signed(h) if h.kind().takes_public_keys() => {
                Err("this provider signs with a private key: give its `public_keys`".to_owned())
            }
            Self::Signed(h) => h.prepare_secret(s),
            Self::Published(_) => Err(
                "this provider signs with keys it publishes, fetched by hookgate: give the \
                 source's `audience`, no secrets"
                    .to_owned(),
            ),
            Self::HeaderToken(_) | Self::Jwt(_) | Self::Twilio(_) => Ok(Secret::new(s.as_bytes())),
        }
    }

    /// Turns a configured public key into one (checked at start-up).
    pub fn prepare_public_key(&self, s: &str) -> Result<PublicKey, String> {
        match self.public_key_kind() {
            Some(Kind::Ed25519) => PublicKey::parse(s),
            Some(Kind::RsaSha256) => PublicKey::parse_asymmetric(s, true),
            Some(Kind::EcdsaP256) => PublicKey::parse_asymmetric(s, false),
            _ => Err("this provider's scheme takes `secrets`, not public keys".to_owned()),
        }
    }

    /// The request headers the proof covers: a value taken from any other header
    /// can be changed by whoever holds one captured delivery.
    pub fn signed_headers(&self) -> &[http::HeaderName] {
        match self {
            Self::Signed(h) => h.signed_headers(),
            // The token proves who sent the request, not what it says; the JWT
            // covers the body through its hash, and Twilio's the URL and the form.
            Self::HeaderToken(_) | Self::Jwt(_) | Self::Twilio(_) | Self::Published(_) => &[],
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
            Self::Published(p) => vec![p.header_name()],
        }
    }

    /// The header the proof travels in.
    pub fn header_name(&self) -> &http::HeaderName {
        match self {
            Self::Signed(h) => h.header_name(),
            Self::HeaderToken(h) => h,
            Self::Jwt(j) => j.header_name(),
            Self::Twilio(t) => t.header_name(),
            Self::Published(p) => p.header_name(),
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
            Keys::Public(_) | Keys::Published(_) => Err(VerifyError::SignatureMismatch),
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
            Self::Published(p) => {
                let Keys::Published(keys) = keys else {
                    return Err(VerifyError::SignatureMismatch);
                };
                let set = keys.current().ok_or(VerifyError::KeysUnavailable)?;
                p.verify(&set, keys.audience(), req.headers, req.body, now, window)
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
            Self::Signed(_) | Self::HeaderToken(_) | Self::Jwt(_) | Self::Published(_) => None,
        }
    }

    /// The headers the provider would send for `body` signed with `secret` (for
    /// Ed25519, the private key) at `now`, posted to `url`. A published-key
    /// scheme's token also names a key id and an audience: see
    /// [`PublishedJwtScheme::sign`]; here it gets none.
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
            Self::Published(_) => Vec::new(),
        }
    }
}
