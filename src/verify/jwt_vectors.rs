//! MessageBird's legacy `MessageBird-Signature-JWT`, as `mappings/bird.toml`
//! declares it, against the reference vectors MessageBird's SDKs test their
//! verifiers with (`fixtures/vectors/`, from messagebird-nodejs
//! `lib/testdata/webhook-signature-jwt-reference.json`; go-rest-api's
//! `signature_jwt/testdata/reference.json` is the same set less one), each
//! through a source's checks at the vector's own instant; and the settings'
//! bad inputs the vectors leave out.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use serde_json::Value;

use super::{JwtScheme, JwtSpec};
use crate::secret::Secret;
use crate::verify::{Keys, Scheme, SourceAuth, Unverified, VerifyError};

const VECTORS: &str =
    include_str!("../../fixtures/vectors/messagebird-webhook-signature-jwt-reference.json");
const HEADER: &str = "messagebird-signature-jwt";

/// The `jwt` entry of `mappings/bird.toml`'s `[[auth]]`, as the mapping states it.
fn bird_spec() -> JwtSpec {
    let file: toml::Value = toml::from_str(include_str!("../../mappings/bird.toml"))
        .unwrap_or_else(|e| panic!("bird.toml: {e}"));
    let mut auth = file
        .get("auth")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .find(|a| a.get("scheme").and_then(toml::Value::as_str) == Some("jwt"))
        .cloned()
        .unwrap_or_else(|| panic!("bird.toml has no [[auth]] scheme = \"jwt\""));
    if let Some(table) = auth.as_table_mut() {
        table.remove("scheme");
    }
    auth.try_into()
        .unwrap_or_else(|e| panic!("bird.toml jwt: {e}"))
}

fn compile(spec: &JwtSpec) -> Scheme {
    Scheme::Jwt(Box::new(
        JwtScheme::compile(spec).unwrap_or_else(|e| panic!("{e}")),
    ))
}

/// A source of the scheme with `secret`, whose `public_url` is the URL's part
/// before the query (the query is the request's, appended as hookgate does).
fn deliver(
    scheme: &Scheme,
    secret: Option<&str>,
    url: &str,
    token: &str,
    body: &[u8],
    now: SystemTime,
) -> Result<(), VerifyError> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q.to_owned())),
        None => (url, None),
    };
    let auth = SourceAuth {
        signatures: vec![(
            scheme.clone(),
            Keys::Secrets(secret.map(Secret::new).into_iter().collect()),
        )],
        public_url: Some(base.to_owned()),
        ..SourceAuth::default()
    };
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(token) {
        headers.insert(HEADER, v);
    }
    Unverified {
        headers,
        body: Bytes::copy_from_slice(body),
        peer: None,
        path_token: None,
        query,
    }
    .verify_at(&auth, now)
    .map(drop)
}

/// The refusal each of the SDKs' reasons stands for.
fn expected(reason: &str) -> VerifyError {
    [
        ("nbf is in the future", VerifyError::TokenNotYetValid),
        ("exp is in the past", VerifyError::TokenExpired),
        ("url_hash is invalid", VerifyError::UrlHashMismatch),
        ("payload_hash", VerifyError::BodyHashMismatch),
        ("signature is invalid", VerifyError::SignatureMismatch),
        ("signing method none", VerifyError::AlgorithmNotAllowed),
    ]
    .into_iter()
    .find(|(r, _)| reason.contains(r))
    .map(|(_, e)| e)
    .unwrap_or_else(|| panic!("a vector's reason hookgate does not classify: {reason}"))
}

struct Vector {
    name: String,
    secret: Option<String>,
    url: String,
    token: String,
    body: Vec<u8>,
    now: SystemTime,
    outcome: Result<(), VerifyError>,
}

fn vectors() -> Vec<Vector> {
    let all: Vec<Value> = serde_json::from_str(VECTORS).unwrap_or_else(|e| panic!("{e}"));
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    all.iter()
        .map(|v| {
            let name = text(v, "name").unwrap_or_default();
            let at = text(v, "timestamp")
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
                .unwrap_or_else(|| panic!("{name}: timestamp"));
            Vector {
                secret: text(v, "secret"),
                url: text(v, "url").unwrap_or_else(|| panic!("{name}: url")),
                token: text(v, "token").unwrap_or_else(|| panic!("{name}: token")),
                body: text(v, "payload").unwrap_or_default().into_bytes(),
                now: SystemTime::from(at),
                outcome: if v.get("valid").and_then(Value::as_bool) == Some(true) {
                    Ok(())
                } else {
                    Err(expected(&text(v, "reason").unwrap_or_default()))
                },
                name,
            }
        })
        .collect()
}

#[test]
fn every_messagebird_sdk_vector_verifies_or_fails_for_its_reason() {
    let scheme = compile(&bird_spec());
    let all = vectors();
    assert_eq!(all.len(), 44, "the reference set has 44 vectors");
    let valid = all.iter().filter(|v| v.outcome.is_ok()).count();
    assert_eq!(valid, 24);
    for v in &all {
        let got = deliver(
            &scheme,
            v.secret.as_deref(),
            &v.url,
            &v.token,
            &v.body,
            v.now,
        );
        assert_eq!(got, v.outcome, "{}", v.name);
    }
}

#[test]
fn the_algorithms_are_the_mappings_never_the_tokens() {
    let hs256_only = compile(&JwtSpec {
        algorithms: vec!["HS256".into()],
        ..bird_spec()
    });
    for v in vectors().iter().filter(|v| v.name.starts_with("HS")) {
        let got = deliver(
            &hs256_only,
            v.secret.as_deref(),
            &v.url,
            &v.token,
            &v.body,
            v.now,
        );
        assert_eq!(got, Err(VerifyError::AlgorithmNotAllowed), "{}", v.name);
    }
    for bad in ["none", "RS256", "ES256"] {
        let spec = JwtSpec {
            algorithms: vec![bad.into()],
            ..bird_spec()
        };
        assert!(JwtScheme::compile(&spec).is_err(), "{bad}");
    }
}

const KEY: &str = "36efdd1aace2e26cd490f0d951138253bef2f7c6d34d18981da781555cc4cebb";
const URL: &str = "https://hooks.example.com/hooks/bird?channel=sms";

/// A token with these claims, HS256 with the vectors' key, made as the SDKs'
/// reference generator makes them.
fn token(claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(KEY.as_bytes()),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn claims(now: i64, body: &[u8]) -> Value {
    use sha2::Digest;
    serde_json::json!({
        "iss": "MessageBird",
        "nbf": now,
        "exp": now + 60,
        "jti": "59a244dc-e9ad-4e23-9778-371faa238f72",
        "url_hash": hex::encode(sha2::Sha256::digest(URL.as_bytes())),
        "payload_hash": hex::encode(sha2::Sha256::digest(body)),
    })
}

#[test]
fn hookgates_own_tokens_verify_and_the_claims_the_vectors_leave_out_are_checked() {
    let scheme = compile(&bird_spec());
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
    let t = 1_767_225_600;
    let body = br#"{"service":"channels","event":"sms.inbound"}"#;
    let Scheme::Jwt(j) = &scheme else {
        unreachable!()
    };
    let (name, value) = j.sign_at(&Secret::new(KEY), body, Some(URL), now);
    assert_eq!(name.as_str(), HEADER);
    assert!(!value.starts_with("Bearer"), "{value}");
    let check = |token: &str, body: &[u8], at: SystemTime| {
        deliver(&scheme, Some(KEY), URL, token, body, at)
    };
    assert_eq!(check(&value, body, now), Ok(()));
    assert_eq!(check(&token(claims(t, body)), body, now), Ok(()));
    // Inside the 5-second skew, and past it.
    assert_eq!(
        check(&token(claims(t - 64, body)), body, now),
        Ok(()),
        "exp 4s ago"
    );
    assert_eq!(
        check(&token(claims(t - 66, body)), body, now),
        Err(VerifyError::TokenExpired)
    );
    assert_eq!(
        check(&token(claims(t + 6, body)), body, now),
        Err(VerifyError::TokenNotYetValid)
    );
    // Another issuer, none, no jti, no times, another URL.
    let with = |k: &str, v: Value| {
        let mut c = claims(t, body);
        c[k] = v;
        token(c)
    };
    let without = |k: &str| {
        let mut c = claims(t, body);
        c.as_object_mut().map(|o| o.remove(k));
        token(c)
    };
    for (what, bad, want) in [
        (
            "another issuer",
            with("iss", "Mallory".into()),
            VerifyError::WrongIssuer,
        ),
        ("no issuer", without("iss"), VerifyError::WrongIssuer),
        ("no jti", without("jti"), VerifyError::ClaimMismatch),
        (
            "empty jti",
            with("jti", "".into()),
            VerifyError::ClaimMismatch,
        ),
        ("no nbf", without("nbf"), VerifyError::BadTimestamp),
        ("no exp", without("exp"), VerifyError::BadTimestamp),
        (
            "exp a word",
            with("exp", "soon".into()),
            VerifyError::BadTimestamp,
        ),
        (
            "no url_hash",
            without("url_hash"),
            VerifyError::UrlHashMismatch,
        ),
    ] {
        assert_eq!(check(&bad, body, now), Err(want), "{what}");
    }
    let elsewhere = deliver(
        &scheme,
        Some(KEY),
        "https://hooks.example.com/hooks/bird?channel=whatsapp",
        &value,
        body,
        now,
    );
    assert_eq!(elsewhere, Err(VerifyError::UrlHashMismatch));
    // A kept record replayed later: its signature and hashes still, not its times.
    let kept = Unverified {
        headers: {
            let mut h = HeaderMap::new();
            h.insert(
                HEADER,
                HeaderValue::from_str(&value).unwrap_or_else(|e| panic!("{e}")),
            );
            h
        },
        body: Bytes::from_static(body),
        peer: None,
        path_token: None,
        query: Some("channel=sms".into()),
    };
    let auth = SourceAuth {
        signatures: vec![(scheme.clone(), Keys::Secrets(vec![Secret::new(KEY)]))],
        public_url: Some("https://hooks.example.com/hooks/bird".into()),
        ..SourceAuth::default()
    };
    assert!(kept.reverify(&auth, false).is_ok());
    // The token alone: as a bearer token, or with no source URL, it is refused.
    assert_eq!(
        check(&format!("Bearer {value}"), body, now),
        Err(VerifyError::MalformedSignature)
    );
    let no_url = SourceAuth {
        public_url: None,
        ..auth.clone()
    };
    let mut h = HeaderMap::new();
    h.insert(
        HEADER,
        HeaderValue::from_str(&value).unwrap_or_else(|e| panic!("{e}")),
    );
    let got = Unverified {
        headers: h,
        body: Bytes::from_static(body),
        peer: None,
        path_token: None,
        query: None,
    }
    .verify_at(&no_url, now)
    .map(drop);
    assert_eq!(got, Err(VerifyError::MissingSignedHeader));
}
