//! The signed-JWT scheme: Vonage's settings against tokens forged by hand and
//! the Vonage SDK's vector; MessageBird's legacy settings against its SDKs' vectors
//! (`jwt_vectors`).

use super::*;
use base64::Engine as _;

use crate::verify::bearer::test_bearer as bearer;

/// Vonage signs no URL.
fn no_url(
    s: &JwtScheme,
    secrets: &[Secret],
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
    window: bool,
) -> Result<(), VerifyError> {
    s.verify_at(secrets, headers, body, None, now, window)
}

fn scheme() -> JwtScheme {
    JwtScheme::compile(&JwtSpec::default()).unwrap_or_else(|e| panic!("{e}"))
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
    let (_, value) = s.sign_at(&key[0], BODY, None, now);
    let mut h = HeaderMap::new();
    h.insert(
        http::header::AUTHORIZATION,
        value.parse().unwrap_or_else(|_| unreachable!()),
    );
    assert_eq!(no_url(&s, &key, &h, BODY, now, true), Ok(()));
    // Another body under the same token.
    assert_eq!(
        no_url(&s, &key, &h, b"{}", now, true),
        Err(VerifyError::BodyHashMismatch)
    );
    // Another key.
    assert_eq!(
        no_url(
            &s,
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
        no_url(&s, &key, &bearer(&none), BODY, now, true),
        Err(VerifyError::AlgorithmNotAllowed)
    );
    let rs = forge(
        r#"{"alg":"RS256","typ":"JWT"}"#,
        &format!(r#"{{"iat":{t},"payload_hash":"{}"}}"#, hash(BODY)),
        KEY.as_bytes(),
    );
    assert_eq!(
        no_url(&s, &key, &bearer(&rs), BODY, now, true),
        Err(VerifyError::AlgorithmNotAllowed)
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
        no_url(&s, &key, &bearer(&old), BODY, now, true),
        Err(VerifyError::StaleTimestamp)
    );
    assert_eq!(no_url(&s, &key, &bearer(&old), BODY, now, false), Ok(()));
    // No token at all, or not a bearer one.
    assert_eq!(
        no_url(&s, &key, &HeaderMap::new(), BODY, now, true),
        Err(VerifyError::MissingSignature)
    );
    let mut basic = HeaderMap::new();
    basic.insert(
        http::header::AUTHORIZATION,
        http::HeaderValue::from_static("Basic eDp5"),
    );
    assert_eq!(
        no_url(&s, &key, &basic, BODY, now, true),
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
    let right = no_url(
        &s,
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
        no_url(&s, &[Secret::new("asdf")], &bearer(token), BODY, now, false),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn a_required_issuer_must_be_present_and_iat_extremes_do_not_overflow() {
    let s = JwtScheme::compile(&JwtSpec {
        issuer: Some("Vonage".into()),
        ..JwtSpec::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let key = [Secret::new(KEY)];
    let now = SystemTime::now();
    let t = unix(now);
    let hs = r#"{"alg":"HS256","typ":"JWT"}"#;
    let claims = |extra: &str| format!(r#"{{"iat":{t},"payload_hash":"{}"{extra}}}"#, hash(BODY));
    let with = forge(hs, &claims(r#","iss":"Vonage""#), KEY.as_bytes());
    assert_eq!(no_url(&s, &key, &bearer(&with), BODY, now, true), Ok(()));
    let without = forge(hs, &claims(""), KEY.as_bytes());
    assert_eq!(
        no_url(&s, &key, &bearer(&without), BODY, now, true),
        Err(VerifyError::WrongIssuer)
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
            no_url(&s, &key, &bearer(&extreme), BODY, now, true),
            Err(VerifyError::StaleTimestamp)
        );
    }
}
