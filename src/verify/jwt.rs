//! Signed-JWT webhooks: a token HMAC-signed with the source's secret whose claims
//! carry the SHA-256 of the raw body and, for some providers, of the URL called.
//! Vonage's Messages API (`Authorization: Bearer`, HS256, `iat`, `payload_hash`)
//! and MessageBird's legacy `MessageBird-Signature-JWT` (the token alone, `nbf` and
//! `exp`, `jti`, `url_hash`, no `payload_hash` for an empty body) are two settings
//! of it. The algorithm is one the mapping allows, all HMACs: the token's `alg`
//! only picks among them, so `none` and every other algorithm are refused before
//! any signature is computed. The claims are checked after the signature, so none
//! of them can be probed unsigned.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Digest;

use super::bearer::{allowed_algorithms, bare, bearer, token_header};
use super::{Secret, VerifyError, DEFAULT_TOLERANCE};

/// The declarative form, as a mapping file's `[auth] scheme = "jwt"` writes it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JwtSpec {
    /// The header the token travels in.
    #[serde(default = "default_header")]
    pub header: String,
    /// Whether the header reads `Bearer <token>` (false: the token alone).
    #[serde(default = "yes")]
    pub bearer: bool,
    /// The HMAC algorithms taken: `HS256`, `HS384`, `HS512`.
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    /// The claim holding the lowercase hex SHA-256 of the raw body.
    #[serde(default = "default_body_hash_claim")]
    pub body_hash_claim: String,
    /// Whether an empty body's hash is claimed too (false: an empty body comes
    /// without the claim, and a claim with an empty body is refused).
    #[serde(default = "yes")]
    pub hash_empty_body: bool,
    /// The claim holding the hex SHA-256 of the URL called (the source's
    /// `public_url` and the query), when the provider signs it.
    #[serde(default)]
    pub url_hash_claim: Option<String>,
    /// `iss` the token must carry, when set.
    #[serde(default)]
    pub issuer: Option<String>,
    /// Claims the token must carry (any present `iat`, `nbf`, `exp` is checked).
    #[serde(default = "default_required_claims")]
    pub required_claims: Vec<String>,
    /// How far `iat` may be from now, and the clock skew allowed past `exp` and
    /// before `nbf`.
    #[serde(default)]
    pub tolerance: Option<String>,
}

fn default_header() -> String {
    "Authorization".to_owned()
}

fn yes() -> bool {
    true
}

fn default_algorithms() -> Vec<String> {
    vec!["HS256".to_owned()]
}

fn default_body_hash_claim() -> String {
    "payload_hash".to_owned()
}

fn default_required_claims() -> Vec<String> {
    vec!["iat".to_owned()]
}

impl Default for JwtSpec {
    fn default() -> Self {
        Self {
            header: default_header(),
            bearer: true,
            algorithms: default_algorithms(),
            body_hash_claim: default_body_hash_claim(),
            hash_empty_body: true,
            url_hash_claim: None,
            issuer: None,
            required_claims: default_required_claims(),
            tolerance: None,
        }
    }
}

/// The claims whose absence is a missing timestamp rather than a missing claim.
const TIME_CLAIMS: [&str; 3] = ["iat", "nbf", "exp"];
/// How long a token made by [`JwtScheme::sign_at`] is valid, when it carries `exp`
/// (MessageBird's tokens: a minute).
const SIGNED_LIFETIME: i64 = 60;

#[derive(Debug, Clone)]
pub struct JwtScheme {
    header: HeaderName,
    bearer: bool,
    algorithms: Vec<Algorithm>,
    body_hash_claim: String,
    hash_empty_body: bool,
    url_hash_claim: Option<String>,
    issuer: Option<String>,
    required: Vec<String>,
    tolerance: Duration,
}

fn unix(now: SystemTime) -> i64 {
    now.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// The algorithms a token signed with a shared secret may name.
fn hmac_algorithm(name: &str) -> Option<Algorithm> {
    match name {
        "HS256" => Some(Algorithm::HS256),
        "HS384" => Some(Algorithm::HS384),
        "HS512" => Some(Algorithm::HS512),
        _ => None,
    }
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(data))
}

/// Whether a claimed hex SHA-256 is `data`'s, compared in constant time.
fn hash_matches(claimed: Option<&Value>, data: &[u8]) -> bool {
    claimed.and_then(Value::as_str).is_some_and(|c| {
        Secret::new(sha256_hex(data).as_bytes()).ct_eq(c.to_ascii_lowercase().as_bytes())
    })
}

fn present(claims: &Map<String, Value>, name: &str) -> bool {
    claims
        .get(name)
        .is_some_and(|v| !v.is_null() && v.as_str() != Some(""))
}

impl JwtScheme {
    pub fn compile(spec: &JwtSpec) -> Result<Self, String> {
        let tolerance = match &spec.tolerance {
            Some(t) => humantime::parse_duration(t).map_err(|e| format!("tolerance: {e}"))?,
            None => DEFAULT_TOLERANCE,
        };
        if tolerance.is_zero() || tolerance > Duration::from_secs(24 * 3600) {
            return Err("tolerance: outside the accepted range 1s to 1day".to_owned());
        }
        let algorithms = allowed_algorithms(
            &spec.algorithms,
            hmac_algorithm,
            "HS256, HS384, HS512",
            |a| {
                format!(
                    "algorithms: `{a}` is not one of HS256, HS384, HS512 (a token signed \
                     with the provider's private key is `published-jwt`)"
                )
            },
        )?;
        let claims = std::iter::once(&spec.body_hash_claim)
            .chain(&spec.url_hash_claim)
            .chain(&spec.required_claims);
        if let Some(empty) = claims.clone().find(|c| c.is_empty()) {
            return Err(format!("a claim name is empty: `{empty}`"));
        }
        if spec.url_hash_claim.as_ref() == Some(&spec.body_hash_claim) {
            return Err("url_hash_claim and body_hash_claim name the same claim".to_owned());
        }
        Ok(Self {
            header: HeaderName::try_from(spec.header.as_str())
                .map_err(|_| format!("invalid header name `{}`", spec.header))?,
            bearer: spec.bearer,
            algorithms,
            body_hash_claim: spec.body_hash_claim.clone(),
            hash_empty_body: spec.hash_empty_body,
            url_hash_claim: spec.url_hash_claim.clone(),
            issuer: spec.issuer.clone(),
            required: spec.required_claims.clone(),
            tolerance,
        })
    }

    pub fn header_name(&self) -> &HeaderName {
        &self.header
    }

    /// Whether the token claims the URL's hash, so a source must say its `public_url`.
    pub fn signs_url(&self) -> bool {
        self.url_hash_claim.is_some()
    }

    fn token<'h>(&self, headers: &'h HeaderMap) -> Result<&'h str, VerifyError> {
        if self.bearer {
            bearer(headers, &self.header)
        } else {
            bare(headers, &self.header)
        }
    }

    /// Checks the token against every secret (rotation), then its issuer and
    /// required claims, its times against the tolerance (unless `window` is false:
    /// a replay of a kept record), the URL hash against `url` and the body hash
    /// against the body.
    pub fn verify_at(
        &self,
        secrets: &[Secret],
        headers: &HeaderMap,
        body: &[u8],
        url: Option<&str>,
        now: SystemTime,
        window: bool,
    ) -> Result<(), VerifyError> {
        let token = self.token(headers)?;
        let alg = hmac_algorithm(&token_header(token)?.alg)
            .filter(|a| self.algorithms.contains(a))
            .ok_or(VerifyError::AlgorithmNotAllowed)?;
        let mut validation = Validation::new(alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        let mut claims = None;
        for secret in secrets {
            match jsonwebtoken::decode::<Map<String, Value>>(
                token,
                &DecodingKey::from_secret(secret.expose()),
                &validation,
            ) {
                Ok(data) => {
                    claims = Some(data.claims);
                    break;
                }
                Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => {}
                Err(_) => return Err(VerifyError::MalformedSignature),
            }
        }
        let claims = claims.ok_or(VerifyError::SignatureMismatch)?;
        if let Some(iss) = &self.issuer {
            if claims.get("iss").and_then(Value::as_str) != Some(iss) {
                return Err(VerifyError::WrongIssuer);
            }
        }
        if let Some(missing) = self.required.iter().find(|c| !present(&claims, c)) {
            return Err(if TIME_CLAIMS.contains(&missing.as_str()) {
                VerifyError::BadTimestamp
            } else {
                VerifyError::ClaimMismatch
            });
        }
        if window {
            self.check_times(&claims, now)?;
        }
        if let Some(claim) = &self.url_hash_claim {
            let url = url.ok_or(VerifyError::MissingSignedHeader)?;
            if !hash_matches(claims.get(claim), url.as_bytes()) {
                return Err(VerifyError::UrlHashMismatch);
            }
        }
        self.check_body(&claims, body)
    }

    fn check_times(&self, claims: &Map<String, Value>, now: SystemTime) -> Result<(), VerifyError> {
        let now = unix(now);
        let tolerance = self.tolerance.as_secs() as i64;
        let time = |k: &str| match claims.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .map(|t| Some(t as i64))
                .ok_or(VerifyError::BadTimestamp),
        };
        if time("iat")?.is_some_and(|iat| now.abs_diff(iat) > tolerance.unsigned_abs()) {
            return Err(VerifyError::StaleTimestamp);
        }
        if time("nbf")?.is_some_and(|nbf| now < nbf.saturating_sub(tolerance)) {
            return Err(VerifyError::TokenNotYetValid);
        }
        if time("exp")?.is_some_and(|exp| now > exp.saturating_add(tolerance)) {
            return Err(VerifyError::TokenExpired);
        }
        Ok(())
    }

    /// The body hash claim against the body; where the provider claims no hash of
    /// an empty body, its absence stands for one, and a claim for an empty body is
    /// refused (the body was removed on the way).
    fn check_body(&self, claims: &Map<String, Value>, body: &[u8]) -> Result<(), VerifyError> {
        let claimed = claims.get(&self.body_hash_claim).filter(|v| !v.is_null());
        let ok = match (claimed, body.is_empty() && !self.hash_empty_body) {
            (None, unhashed) => unhashed,
            (Some(_), true) => false,
            (claimed, false) => hash_matches(claimed, body),
        };
        if ok {
            Ok(())
        } else {
            Err(VerifyError::BodyHashMismatch)
        }
    }

    /// The header a provider would send for `body` posted to `url`: a fresh token
    /// with the first algorithm taken, the issuer, a `jti`, the required times
    /// (`iat` and `nbf` now, `exp` a minute on) and the hashes.
    pub fn sign_at(
        &self,
        secret: &Secret,
        body: &[u8],
        url: Option<&str>,
        now: SystemTime,
    ) -> (HeaderName, String) {
        let t = unix(now);
        let mut claims = Map::new();
        if let Some(iss) = &self.issuer {
            claims.insert("iss".into(), iss.clone().into());
        }
        for name in &self.required {
            match name.as_str() {
                "iat" | "nbf" => claims.insert(name.clone(), t.into()),
                "exp" => claims.insert(name.clone(), (t + SIGNED_LIFETIME).into()),
                _ => None,
            };
        }
        claims.insert("jti".into(), uuid::Uuid::new_v4().to_string().into());
        if let (Some(claim), Some(url)) = (&self.url_hash_claim, url) {
            claims.insert(claim.clone(), sha256_hex(url.as_bytes()).into());
        }
        if self.hash_empty_body || !body.is_empty() {
            claims.insert(self.body_hash_claim.clone(), sha256_hex(body).into());
        }
        let alg = self.algorithms.first().copied().unwrap_or(Algorithm::HS256);
        let token = jsonwebtoken::encode(
            &Header::new(alg),
            &claims,
            &EncodingKey::from_secret(secret.expose()),
        )
        .unwrap_or_default();
        let value = if self.bearer {
            format!("Bearer {token}")
        } else {
            token
        };
        (self.header.clone(), value)
    }
}

#[cfg(test)]
#[path = "jwt_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "jwt_vectors.rs"]
mod vectors;
