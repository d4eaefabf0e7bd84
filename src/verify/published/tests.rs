//! The published-key scheme against given key sets (every refusal and its reason),
//! the key set parsers, and the key store's policy with a counting fake fetcher
//! on a paused clock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use http::HeaderMap;
use serde_json::json;

use super::*;
use crate::fixture::{FIXTURE_KID, FIXTURE_RSA_PRIVATE, FIXTURE_RSA_PUBLIC};
use crate::verify::asymmetric::AsymmetricKey;
use crate::verify::VerifyError;

const BF: &str = r#"
keys_url = "https://login.example/v1/.well-known/openidconfiguration"
keys = "openid-configuration"
issuers = ["https://api.botframework.com"]
algorithms = ["RS256", "ES256"]
leeway = "5m"
key_endorsement = "/channelId"

[[claims]]
claim = "serviceUrl"
equals_body = "/serviceUrl"
"#;

const APP: &str = "f0e1d2c3-0000-4000-8000-00000000b07f";

fn scheme(text: &str) -> PublishedJwtScheme {
    let spec: PublishedJwtSpec = toml::from_str(text).unwrap_or_else(|e| panic!("{e}"));
    PublishedJwtScheme::compile(&spec).unwrap_or_else(|e| panic!("{e}"))
}

fn body(service_url: &str, channel: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "type": "message", "id": "1", "channelId": channel, "serviceUrl": service_url,
    }))
    .unwrap_or_default()
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The fixture key as a JWK, with `extra` members.
fn jwk(kid: &str, extra: serde_json::Value) -> serde_json::Value {
    let Some((n, e)) = AsymmetricKey::parse(FIXTURE_RSA_PUBLIC)
        .ok()
        .and_then(|k| k.rsa_components())
    else {
        panic!("fixture key");
    };
    let mut k = json!({"kty": "RSA", "use": "sig", "kid": kid, "n": b64(&n), "e": b64(&e)});
    if let (Some(k), Some(extra)) = (k.as_object_mut(), extra.as_object()) {
        k.extend(extra.clone());
    }
    k
}

fn set(keys: serde_json::Value) -> KeySet {
    KeySet::parse(KeyFormat::Jwks, keys.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e}"))
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

fn signed(s: &PublishedJwtScheme, kid: &str, aud: &str, body: &[u8], at: SystemTime) -> HeaderMap {
    let (name, value) = s
        .sign(FIXTURE_RSA_PRIVATE, kid, aud, body, at)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut h = HeaderMap::new();
    h.insert(name, value.parse().unwrap_or_else(|_| unreachable!()));
    h
}

/// A token with any header and claims, its third part `sig` (as an attacker
/// would write one).
fn forged(header: serde_json::Value, claims: serde_json::Value, key: Option<&[u8]>) -> String {
    let signing = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let sig = key.map_or_else(Vec::new, |k| {
        use hmac::Mac;
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(k).unwrap_or_else(|_| unreachable!());
        mac.update(signing.as_bytes());
        mac.finalize().into_bytes().to_vec()
    });
    format!("{signing}.{}", b64(&sig))
}

#[test]
fn a_valid_token_verifies_and_each_claim_is_checked() {
    let s = scheme(BF);
    let keys = set(json!({"keys": [jwk(FIXTURE_KID, json!({"endorsements": ["msteams"]}))]}));
    let aud = [APP.to_owned()];
    let now = SystemTime::now();
    let b = body("https://smba.trafficmanager.net/amer/", "msteams");
    let h = signed(&s, FIXTURE_KID, APP, &b, now);
    assert_eq!(s.verify(&keys, &aud, &h, &b, now, true), Ok(()));
    // Another activity's serviceUrl under the same token.
    let other = body("https://evil.example/", "msteams");
    assert_eq!(
        s.verify(&keys, &aud, &h, &other, now, true),
        Err(VerifyError::ClaimMismatch)
    );
    // A channel the key is not endorsed for.
    let skype = body("https://smba.trafficmanager.net/amer/", "skype");
    let hs = signed(&s, FIXTURE_KID, APP, &skype, now);
    assert_eq!(
        s.verify(&keys, &aud, &hs, &skype, now, true),
        Err(VerifyError::KeyNotEndorsed)
    );
    // Another bot's token.
    let h2 = signed(&s, FIXTURE_KID, "another-app", &b, now);
    assert_eq!(
        s.verify(&keys, &aud, &h2, &b, now, true),
        Err(VerifyError::WrongAudience)
    );
    // Expired (an hour's validity, issued two hours ago) but fine for a replay,
    // and issued an hour from now.
    let old = signed(&s, FIXTURE_KID, APP, &b, now - Duration::from_secs(7200));
    assert_eq!(
        s.verify(&keys, &aud, &old, &b, now, true),
        Err(VerifyError::TokenExpired)
    );
    assert_eq!(s.verify(&keys, &aud, &old, &b, now, false), Ok(()));
    let early = signed(&s, FIXTURE_KID, APP, &b, now + Duration::from_secs(3600));
    assert_eq!(
        s.verify(&keys, &aud, &early, &b, now, true),
        Err(VerifyError::TokenNotYetValid)
    );
    // Within the leeway either side.
    let edge = signed(
        &s,
        FIXTURE_KID,
        APP,
        &b,
        now - Duration::from_secs(3600 + 240),
    );
    assert_eq!(s.verify(&keys, &aud, &edge, &b, now, true), Ok(()));
    // Another issuer (a scheme naming another one signs it).
    let other_iss = scheme(&BF.replace("https://api.botframework.com", "https://evil.example"));
    let hi = signed(&other_iss, FIXTURE_KID, APP, &b, now);
    assert_eq!(
        s.verify(&keys, &aud, &hi, &b, now, true),
        Err(VerifyError::WrongIssuer)
    );
}

#[test]
fn keys_and_algorithms_are_the_schemes_not_the_tokens() {
    let s = scheme(BF);
    let keys = set(json!({"keys": [jwk(FIXTURE_KID, json!({}))]}));
    let aud = [APP.to_owned()];
    let now = SystemTime::now();
    let t = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let b = body("https://smba.trafficmanager.net/amer/", "msteams");
    let claims = json!({"iss": "https://api.botframework.com", "aud": APP, "exp": t + 600,
                        "serviceUrl": "https://smba.trafficmanager.net/amer/"});
    let check = |token: String| s.verify(&keys, &aud, &bearer(&token), &b, now, true);
    // alg: none, unsigned.
    let none = forged(
        json!({"alg": "none", "kid": FIXTURE_KID}),
        claims.clone(),
        None,
    );
    assert_eq!(check(none), Err(VerifyError::AlgorithmNotAllowed));
    // HS256 keyed with the public key's PEM (the classic confusion), and with its DER.
    for key in [
        FIXTURE_RSA_PUBLIC.as_bytes().to_vec(),
        crate::verify::asymmetric::pem(FIXTURE_RSA_PUBLIC)
            .map(|(_, der)| der)
            .unwrap_or_default(),
    ] {
        let hs = forged(
            json!({"alg": "HS256", "kid": FIXTURE_KID, "typ": "JWT"}),
            claims.clone(),
            Some(&key),
        );
        assert_eq!(check(hs), Err(VerifyError::AlgorithmNotAllowed));
    }
    // ES256 is allowed, but the key is RSA: it cannot be used for it.
    let es = forged(
        json!({"alg": "ES256", "kid": FIXTURE_KID}),
        claims.clone(),
        Some(b"x"),
    );
    assert_eq!(check(es), Err(VerifyError::AlgorithmNotAllowed));
    // A key id the set does not have.
    let h = signed(&s, "kid-from-nowhere", APP, &b, now);
    assert_eq!(
        s.verify(&keys, &aud, &h, &b, now, true),
        Err(VerifyError::UnknownKey)
    );
    // A good token with its signature changed.
    let good = signed(&s, FIXTURE_KID, APP, &b, now);
    let token = good
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim_start_matches("Bearer ")
        .to_owned();
    let (signing, sig) = token.rsplit_once('.').unwrap_or_default();
    let mut bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sig)
        .unwrap_or_default();
    bytes[10] ^= 1;
    assert_eq!(
        check(format!("{signing}.{}", b64(&bytes))),
        Err(VerifyError::SignatureMismatch)
    );
    // A key pinned to another algorithm by its JWK.
    let pinned = set(json!({"keys": [jwk(FIXTURE_KID, json!({"alg": "RS512"}))]}));
    assert_eq!(
        s.verify(&pinned, &aud, &good, &b, now, true),
        Err(VerifyError::AlgorithmNotAllowed)
    );
    // No token, not a bearer one, garbage.
    assert_eq!(
        s.verify(&keys, &aud, &HeaderMap::new(), &b, now, true),
        Err(VerifyError::MissingSignature)
    );
    assert_eq!(
        check("a.b.c".to_owned()),
        Err(VerifyError::MalformedSignature)
    );
}

#[test]
fn compile_refuses_symmetric_algorithms_and_plain_http() {
    for (bad, why) in [
        (BF.replace("\"RS256\", \"ES256\"", "\"HS256\""), "HS256"),
        (BF.replace("\"RS256\", \"ES256\"", "\"none\""), "none"),
        (
            BF.replace("https://login.example", "http://login.example"),
            "https://",
        ),
        (
            BF.replace("[\"https://api.botframework.com\"]", "[]"),
            "issuers",
        ),
        (BF.replace("leeway = \"5m\"", "leeway = \"1h\""), "leeway"),
        (
            BF.replace(
                "equals_body = \"/serviceUrl\"",
                "equals_body = \"serviceUrl\"",
            ),
            "pointer",
        ),
    ] {
        let spec: PublishedJwtSpec = toml::from_str(&bad).unwrap_or_else(|e| panic!("{e}"));
        let e = PublishedJwtScheme::compile(&spec).err().unwrap_or_default();
        assert!(e.contains(why), "{why}: {e}");
    }
    assert!(toml::from_str::<PublishedJwtSpec>(&format!("{BF}\ncolour = 1\n")).is_err());
}

#[test]
fn key_sets_keep_only_usable_signing_keys() {
    let k = jwk("rsa", json!({}));
    let parsed = set(json!({"keys": [
        k,
        {"kty": "oct", "kid": "secret", "k": "c2VjcmV0"},
        jwk("enc", json!({"use": "enc"})),
        {"kty": "RSA", "kid": "short", "n": b64(&[0xc5; 128]), "e": "AQAB"},
        {"kty": "EC", "kid": "p384", "crv": "P-384", "x": b64(&[1; 48]), "y": b64(&[1; 48])},
        {"kty": "EC", "kid": "p256", "crv": "P-256", "x": b64(&[1; 32]), "y": b64(&[2; 32])},
    ]}));
    let kids: Vec<_> = parsed
        .candidates(None)
        .filter_map(|k| k.kid.clone())
        .collect();
    assert_eq!(kids, ["rsa", "p256"]);
    assert!(KeySet::parse(KeyFormat::Jwks, br#"{"keys": [{"kty": "oct", "k": "AA"}]}"#).is_err());
    assert!(KeySet::parse(KeyFormat::Jwks, b"[]").is_err());
    // Google's map: key id -> certificate; anything else in it is skipped.
    let map =
        json!({"c1": crate::verify::asymmetric::tests::RSA_CERT, "junk": "not a certificate"});
    let x = KeySet::parse(KeyFormat::X509, map.to_string().as_bytes());
    assert_eq!(x.map(|s| s.len()), Ok(1));
    assert_eq!(
        KeySet::jwks_uri(br#"{"issuer": "x", "jwks_uri": "https://login.example/keys"}"#),
        Ok("https://login.example/keys".to_owned())
    );
    assert!(KeySet::jwks_uri(b"{}").is_err());
}

/// A document and its `max-age`, or why it cannot be fetched.
type Doc = Result<(String, Option<Duration>), String>;

/// A fetcher serving documents from a table, counting requests per URL.
#[derive(Debug, Default)]
struct Fake {
    docs: Mutex<HashMap<String, Doc>>,
    count: Mutex<HashMap<String, usize>>,
    total: AtomicUsize,
}

impl Fake {
    fn serve(&self, url: &str, doc: Doc) {
        if let Ok(mut d) = self.docs.lock() {
            d.insert(url.to_owned(), doc);
        }
    }

    fn fetches(&self) -> usize {
        self.total.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl Fetch for Fake {
    async fn get(&self, url: &str) -> Result<Fetched, String> {
        self.total.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut c) = self.count.lock() {
            *c.entry(url.to_owned()).or_default() += 1;
        }
        // A fetch takes a moment, so concurrent requests overlap it.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let doc = self
            .docs
            .lock()
            .ok()
            .and_then(|d| d.get(url).cloned())
            .unwrap_or_else(|| Err("404".to_owned()));
        doc.map(|(body, max_age)| Fetched {
            body: body.into(),
            max_age,
        })
    }
}

const URL: &str = "https://keys.example/jwks";

fn store(fake: &Arc<Fake>) -> Arc<KeyStore> {
    KeyStore::new(URL, KeyFormat::Jwks, fake.clone(), RefreshPolicy::default())
}

fn jwks(kids: &[&str]) -> String {
    json!({"keys": kids.iter().map(|k| jwk(k, json!({}))).collect::<Vec<_>>()}).to_string()
}

#[tokio::test(start_paused = true)]
async fn unknown_key_ids_refetch_at_most_once_per_interval() {
    let fake = Arc::new(Fake::default());
    fake.serve(URL, Ok((jwks(&["a"]), Some(Duration::from_secs(3600)))));
    let s = store(&fake);
    assert!(s.keys().is_none());
    s.prepare(Some("a")).await;
    assert_eq!((fake.fetches(), s.keys().map(|k| k.len())), (1, Some(1)));
    // Known: nothing fetched.
    s.prepare(Some("a")).await;
    assert_eq!(fake.fetches(), 1);
    // A flood of forged key ids, at once and one after the other: one refetch.
    let flood: Vec<_> = (0..50)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move { s.prepare(Some(&format!("forged-{i}"))).await })
        })
        .collect();
    for f in flood {
        let _ = f.await;
    }
    for i in 0..20 {
        s.prepare(Some(&format!("again-{i}"))).await;
    }
    assert_eq!(fake.fetches(), 2);
    // A rotation at the provider: after the interval, the new key is fetched, and
    // the old one stays while the set lists it.
    fake.serve(URL, Ok((jwks(&["a", "b"]), None)));
    tokio::time::advance(Duration::from_secs(31)).await;
    s.prepare(Some("b")).await;
    assert_eq!(fake.fetches(), 3);
    assert!(s
        .keys()
        .is_some_and(|k| k.knows(Some("a")) && k.knows(Some("b"))));
    // The old key leaves the provider's set: gone at the next refetch.
    fake.serve(URL, Ok((jwks(&["b"]), None)));
    tokio::time::advance(Duration::from_secs(31)).await;
    s.prepare(Some("c")).await;
    assert_eq!(fake.fetches(), 4);
    assert!(s
        .keys()
        .is_some_and(|k| !k.knows(Some("a")) && k.knows(Some("b"))));
}

#[tokio::test(start_paused = true)]
async fn a_failed_fetch_keeps_the_last_good_set_and_backs_off() {
    let fake = Arc::new(Fake::default());
    let s = store(&fake);
    // Down from the start: no keys, and a retry only after the backoff.
    fake.serve(URL, Err("connection refused".to_owned()));
    s.prepare(None).await;
    s.prepare(None).await;
    assert_eq!((fake.fetches(), s.keys().is_none()), (1, true));
    tokio::time::advance(Duration::from_millis(1100)).await;
    s.prepare(None).await;
    assert_eq!(fake.fetches(), 2);
    // Up: loaded; its max-age (1 s) is raised to the 5-minute floor.
    fake.serve(URL, Ok((jwks(&["a"]), Some(Duration::from_secs(1)))));
    tokio::time::advance(Duration::from_secs(3)).await;
    s.prepare(None).await;
    assert_eq!((fake.fetches(), s.ready()), (3, true));
    tokio::time::advance(Duration::from_secs(60)).await;
    assert!(s.ready());
    tokio::task::yield_now().await;
    assert_eq!(fake.fetches(), 3);
    // Expired and the server answers garbage: the last good set stays.
    fake.serve(URL, Ok(("{\"keys\": []}".to_owned(), None)));
    tokio::time::advance(Duration::from_secs(300)).await;
    assert!(s.ready());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(fake.fetches(), 4);
    assert!(s.keys().is_some_and(|k| k.knows(Some("a"))));
}

#[tokio::test(start_paused = true)]
async fn an_openid_configuration_names_the_key_set() {
    let fake = Arc::new(Fake::default());
    let config = "https://login.example/.well-known/openidconfiguration";
    fake.serve(
        config,
        Ok((
            json!({"jwks_uri": URL}).to_string(),
            Some(Duration::from_secs(86400)),
        )),
    );
    fake.serve(URL, Ok((jwks(&["a"]), Some(Duration::from_secs(600)))));
    let s = KeyStore::new(
        config,
        KeyFormat::OpenidConfiguration,
        fake.clone(),
        RefreshPolicy::default(),
    );
    s.prepare(Some("a")).await;
    assert!(s.keys().is_some_and(|k| k.knows(Some("a"))));
    assert_eq!(fake.fetches(), 2);
    // The shorter lifetime (the key set's 10 minutes) decides the refresh.
    tokio::time::advance(Duration::from_secs(601)).await;
    assert!(s.ready());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(fake.fetches(), 4);
}
