//! Signed-JWT webhooks (Vonage's Messages API): `Authorization: Bearer <JWT>`,
//! HS256 with the account's signature secret, whose claim (`payload_hash`) is the
//! SHA-256 of the raw body. The token's own `alg` is never trusted: HS256 is the
//! only algorithm accepted (`none` and every other one are refused); `exp` and `iat`
//! are checked against the scheme's tolerance.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::bearer::bearer;
use super::{Secret, VerifyError, DEFAULT_TOLERANCE};

/// The declarative form, as a mapping file's `[auth] scheme = "jwt"` writes it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JwtSpec {
    /// The header the token travels in (`Bearer <token>`).
    #[serde(default = "default_header")]
    pub header: String,
    /// The claim holding the lowercase hex SHA-256 of the raw body.
    #[serde(default = "default_body_hash_claim")]
    pub body_hash_claim: String,
    /// `iss` the token must carry, when set.
    #[serde(default)]
    pub issuer: Option<String>,
    /// How far `iat` may be from now, and how long past `exp` a token is taken.
    #[serde(default)]
    pub tolerance: Option<String>,
}

fn default_header() -> String {
    "Authorization".to_owned()
}

fn default_body_hash_claim() -> String {
    "payload_hash".to_owned()
}

#[derive(Debug, Clone)]
pub struct JwtScheme {
    header: HeaderName,
    body_hash_claim: String,
    issuer: Option<String>,
    tolerance: Duration,
}

/// The claims hookgate reads; the rest are kept by the provider.
#[derive(Debug, Deserialize, Serialize)]
struct Claims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

fn unix(now: SystemTime) -> i64 {
    now.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
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
        Ok(Self {
            header: HeaderName::try_from(spec.header.as_str())
                .map_err(|_| format!("invalid header name `{}`", spec.header))?,
            body_hash_claim: spec.body_hash_claim.clone(),
            issuer: spec.issuer.clone(),
            tolerance,
        })
    }

    pub fn header_name(&self) -> &HeaderName {
        &self.header
    }

    fn token<'h>(&self, headers: &'h HeaderMap) -> Result<&'h str, VerifyError> {
        bearer(headers, &self.header)
    }

    /// Checks the token against every secret (rotation), its claims' times against
    /// the tolerance (unless `window` is false: a replay of a kept record), and the
    /// body hash claim against the body.
    pub fn verify_at(
        &self,
        secrets: &[Secret],
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
        window: bool,
    ) -> Result<(), VerifyError> {
        let token = self.token(headers)?;
        // The only algorithm: whatever the token's header says.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        if let Some(iss) = &self.issuer {
            validation.set_issuer(&[iss]);
            // set_issuer alone checks `iss` only when the token carries one.
            validation.set_required_spec_claims(&["iss"]);
        }
        let mut claims = None;
        let mut refused = VerifyError::SignatureMismatch;
        for secret in secrets {
            match jsonwebtoken::decode::<Claims>(
                token,
                &DecodingKey::from_secret(secret.expose()),
                &validation,
            ) {
                Ok(data) => {
                    claims = Some(data.claims);
                    break;
                }
                Err(e) => match e.kind() {
                    ErrorKind::InvalidSignature => {}
                    ErrorKind::InvalidIssuer | ErrorKind::MissingRequiredClaim(_) => {
                        refused = VerifyError::SignatureMismatch
                    }
                    _ => return Err(VerifyError::MalformedSignature),
                },
            }
        }
        let claims = claims.ok_or(refused)?;
        // Checked after the signature, so the time window cannot be probed unsigned.
        if window {
            let now = unix(now);
            let tolerance = self.tolerance.as_secs() as i64;
            let iat = claims.iat.ok_or(VerifyError::BadTimestamp)?;
            if now.abs_diff(iat) > tolerance.unsigned_abs() {
                return Err(VerifyError::StaleTimestamp);
            }
            if claims
                .exp
                .is_some_and(|exp| now > exp.saturating_add(tolerance))
            {
                return Err(VerifyError::StaleTimestamp);
            }
        }
        let claimed = claims
            .rest
            .get(&self.body_hash_claim)
            .and_then(|v| v.as_str())
            .ok_or(VerifyError::BodyHashMismatch)?;
        let actual = hex::encode(sha2::Sha256::digest(body));
        if Secret::new(actual.as_bytes()).ct_eq(claimed.to_ascii_lowercase().as_bytes()) {
            Ok(())
        } else {
            Err(VerifyError::BodyHashMismatch)
        }
    }

    /// The header a provider would send: a fresh HS256 token over the body's hash.
    pub fn sign_at(&self, secret: &Secret, body: &[u8], now: SystemTime) -> (HeaderName, String) {
        let mut rest = serde_json::Map::new();
        rest.insert(
            self.body_hash_claim.clone(),
            hex::encode(sha2::Sha256::digest(body)).into(),
        );
        rest.insert("jti".into(), uuid::Uuid::new_v4().to_string().into());
        if let Some(iss) = &self.issuer {
            rest.insert("iss".into(), iss.clone().into());
        }
        let claims = Claims {
            iat: Some(unix(now)),
            exp: None,
            rest,
        };
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.expose()),
        )
        .unwrap_or_default();
        (self.header.clone(), format!("Bearer {token}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn scheme() -> JwtScheme {
        JwtScheme::compile(&JwtSpec {
            header: default_header(),
            body_hash_claim: default_body_hash_claim(),
            issuer: None,
            tolerance: None,
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::AUTHORIZATION,
            format!("Bearer {token}")
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        );
        h
    }

    /// A token with any header and claims, signed HS256 by hand (as an attacker
    /// would build one).
    fn forge(header: &str, claims: &str, key: &[u8]) -> String {
        use hmac::Mac;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let signing = format!("{}.{}", b64.encode(header), b64.encode(claims));
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        mac.update(signing.as_bytes());
        format!("{signing}.{}", b64.encode(mac.finalize().into_bytes()))
    }

    const KEY: &str = "vonage-signature-secret-0123";
    const BODY: &[u8] = br#"{"message_uuid":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab"}"#;

    fn hash(body: &[u8]) -> String {
        hex::encode(sha2::Sha256::digest(body))
    }

    #[test]
    fn a_signed_token_over_this_body_verifies_and_nothing_else_does() {
        let s = scheme();
        let key = [Secret::new(KEY)];
        let now = SystemTime::now();
        let t = unix(now);
        let (_, value) = s.sign_at(&key[0], BODY, now);
        let mut h = HeaderMap::new();
        h.insert(
            http::header::AUTHORIZATION,
            value.parse().unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(s.verify_at(&key, &h, BODY, now, true), Ok(()));
        // Another body under the same token.
        assert_eq!(
            s.verify_at(&key, &h, b"{}", now, true),
            Err(VerifyError::BodyHashMismatch)
        );
        // Another key.
        assert_eq!(
            s.verify_at(
                &[Secret::new("another-secret-0123456789")],
                &h,
                BODY,
                now,
                true
            ),
            Err(VerifyError::SignatureMismatch)
        );
        // alg: none, and RS256 (the key as an "RSA" secret), whatever they sign.
        let none = format!(
            "{}.",
            forge(
                r#"{"alg":"none","typ":"JWT"}"#,
                &format!(r#"{{"iat":{t},"payload_hash":"{}"}}"#, hash(BODY)),
                KEY.as_bytes()
            )
            .rsplit_once('.')
            .map(|(a, _)| a.to_owned())
            .unwrap_or_default()
        );
        assert_eq!(
            s.verify_at(&key, &bearer(&none), BODY, now, true),
            Err(VerifyError::MalformedSignature)
        );
        let rs = forge(
            r#"{"alg":"RS256","typ":"JWT"}"#,
            &format!(r#"{{"iat":{t},"payload_hash":"{}"}}"#, hash(BODY)),
            KEY.as_bytes(),
        );
        assert_eq!(
            s.verify_at(&key, &bearer(&rs), BODY, now, true),
            Err(VerifyError::MalformedSignature)
        );
        // Expired, and issued outside the window: refused, but not for a replay.
        let old = forge(
            r#"{"alg":"HS256","typ":"JWT"}"#,
            &format!(
                r#"{{"iat":{},"exp":{},"payload_hash":"{}"}}"#,
                t - 7200,
                t - 3600,
                hash(BODY)
            ),
            KEY.as_bytes(),
        );
        assert_eq!(
            s.verify_at(&key, &bearer(&old), BODY, now, true),
            Err(VerifyError::StaleTimestamp)
        );
        assert_eq!(s.verify_at(&key, &bearer(&old), BODY, now, false), Ok(()));
        // No token at all, or not a bearer one.
        assert_eq!(
            s.verify_at(&key, &HeaderMap::new(), BODY, now, true),
            Err(VerifyError::MissingSignature)
        );
        let mut basic = HeaderMap::new();
        basic.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("Basic eDp5"),
        );
        assert_eq!(
            s.verify_at(&key, &basic, BODY, now, true),
            Err(VerifyError::MalformedSignature)
        );
    }

    // vonage-python-sdk jwt/tests/test_verify_jwt.py: a plain HS256 token (it carries
    // no payload_hash, so it proves the key check only).
    #[test]
    fn vonage_sdk_vector() {
        let token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJPbmxpbmUgSldUIEJ1aWxkZXIiLCJpYXQiOjE2OTc2MzQ2ODAsImV4cCI6MzMyNTQ1NDA4MjgsImF1ZCI6IiIsInN1YiI6IiJ9.88vJc3I2HhuqEDixHXVhc9R30tA6U_HQHZTC29y6CGM";
        let s = scheme();
        let now = SystemTime::now();
        let right = s.verify_at(
            &[Secret::new("qwertyuiopasdfghjklzxcvbnm123456")],
            &bearer(token),
            BODY,
            now,
            false,
        );
        assert!(
            !matches!(right, Err(VerifyError::SignatureMismatch) | Ok(())),
            "the key checks out; the missing body hash does not: {right:?}"
        );
        assert_eq!(
            s.verify_at(&[Secret::new("asdf")], &bearer(token), BODY, now, false),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn a_required_issuer_must_be_present_and_iat_extremes_do_not_overflow() {
        let s = JwtScheme::compile(&JwtSpec {
            header: default_header(),
            body_hash_claim: default_body_hash_claim(),
            issuer: Some("Vonage".into()),
            tolerance: None,
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let key = [Secret::new(KEY)];
        let now = SystemTime::now();
        let t = unix(now);
        let hs = r#"{"alg":"HS256","typ":"JWT"}"#;
        let claims =
            |extra: &str| format!(r#"{{"iat":{t},"payload_hash":"{}"{extra}}}"#, hash(BODY));
        let with = forge(hs, &claims(r#","iss":"Vonage""#), KEY.as_bytes());
        assert_eq!(s.verify_at(&key, &bearer(&with), BODY, now, true), Ok(()));
        let without = forge(hs, &claims(""), KEY.as_bytes());
        assert_eq!(
            s.verify_at(&key, &bearer(&without), BODY, now, true),
            Err(VerifyError::SignatureMismatch)
        );
        for iat in [i64::MIN, i64::MAX] {
            let extreme = forge(
                hs,
                &format!(
                    r#"{{"iat":{iat},"iss":"Vonage","payload_hash":"{}"}}"#,
                    hash(BODY)
                ),
                KEY.as_bytes(),
            );
            assert_eq!(
                s.verify_at(&key, &bearer(&extreme), BODY, now, true),
                Err(VerifyError::StaleTimestamp)
            );
        }
    }
}
