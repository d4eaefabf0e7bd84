//! Tokens signed with keys the provider publishes, end to end: the real router
//! (`app()`), a Bot Framework (`msteams`) source whose `keys_url` points at a key
//! server on loopback serving OpenID metadata and a JWKS over HTTP, and tokens
//! signed here with the test keys (`fixtures/keys/`, `tests/keys/`). The key
//! server counts its key-set fetches, and its key set can be taken down and
//! brought back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Json;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use hookgate::fixture::{FIXTURE_AUDIENCE, FIXTURE_KID, FIXTURE_RSA_PRIVATE, FIXTURE_RSA_PUBLIC};

mod common;
use common::*;

const ISSUER: &str = "https://api.botframework.com";
const ROTATED_KID: &str = "rotated";

/// A key server on loopback: `/openid` names `/jwks`, which serves `keys`.
struct KeyServer {
    port: u16,
    keys: Arc<Mutex<Vec<Value>>>,
    up: Arc<AtomicBool>,
    fetches: Arc<AtomicUsize>,
}

impl KeyServer {
    async fn start(keys: Vec<Value>, up: bool) -> Self {
        let keys = Arc::new(Mutex::new(keys));
        let up = Arc::new(AtomicBool::new(up));
        let fetches = Arc::new(AtomicUsize::new(0));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (k, u, f) = (keys.clone(), up.clone(), fetches.clone());
        // The metadata always answers; "down" is the key set.
        let app = axum::Router::new()
            .route(
                "/openid",
                get(move || async move {
                    Json(json!({
                        "issuer": "https://api.botframework.com",
                        "jwks_uri": format!("http://127.0.0.1:{port}/jwks"),
                        "id_token_signing_alg_values_supported": ["RS256"]
                    }))
                }),
            )
            .route(
                "/jwks",
                get(move || {
                    f.fetch_add(1, Ordering::SeqCst);
                    let up = u.load(Ordering::SeqCst);
                    let keys = k.lock().unwrap().clone();
                    async move {
                        if up {
                            Ok(Json(json!({ "keys": keys })))
                        } else {
                            Err(StatusCode::SERVICE_UNAVAILABLE)
                        }
                    }
                }),
            );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            port,
            keys,
            up,
            fetches,
        }
    }

    fn config(&self) -> String {
        format!(
            "[[source]]\nid = \"teams\"\nprovider = \"msteams\"\naudience = [\"{FIXTURE_AUDIENCE}\"]\n\
             keys_url = \"http://127.0.0.1:{}/openid\"\n",
            self.port
        )
    }

    fn publish(&self, keys: Vec<Value>) {
        *self.keys.lock().unwrap() = keys;
    }

    fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

/// A JWK of `tests/keys/jwk.json` (`fixture`, `rotated`) under key id `kid`.
fn jwk(name: &str, kid: &str) -> Value {
    let all: Value = serde_json::from_str(include_str!("keys/jwk.json")).unwrap();
    let mut k = all[name].clone();
    k["kid"] = kid.into();
    k["use"] = "sig".into();
    k
}

fn unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The fixture activity with its own id (each a new delivery) and `serviceUrl`.
fn activity(n: u32, service_url: &str) -> Vec<u8> {
    let case = fixture_case("msteams", "message-personal");
    let mut v: Value = serde_json::from_slice(&case.body).unwrap();
    v["id"] = format!("1767225600{n:03}").into();
    v["serviceUrl"] = service_url.into();
    serde_json::to_vec(&v).unwrap()
}

const SVC: &str = "https://smba.trafficmanager.net/amer/";

fn claims(service_url: &str) -> Value {
    let t = unix();
    json!({"iss": ISSUER, "aud": FIXTURE_AUDIENCE, "nbf": t - 10, "iat": t - 10, "exp": t + 3600,
           "serviceUrl": service_url})
}

fn rs256(kid: &str, pem: &str, claims: &Value) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &h,
        claims,
        &EncodingKey::from_rsa_der(&x509_cert::der::pem::decode_vec(pem.as_bytes()).unwrap().1),
    )
    .unwrap()
}

fn fixture_token(claims: &Value) -> String {
    rs256(FIXTURE_KID, FIXTURE_RSA_PRIVATE, claims)
}

async fn post(h: &Harness, n: u32, token: &str) -> (StatusCode, Value) {
    h.post(
        "/webhooks/teams",
        &[
            ("content-type", "application/json"),
            ("authorization", &format!("Bearer {token}")),
        ],
        activity(n, SVC),
    )
    .await
}

/// Taken: 200 with the bot's empty answer (the msteams mapping's `answer`).
#[track_caller]
fn accepted((status, body): (StatusCode, Value)) {
    assert_eq!((status, &body), (StatusCode::OK, &json!({})), "{body}");
}

async fn readyz(h: &Harness) -> Value {
    let (_, body, _) = h
        .send(Request::get("/readyz").body(Body::empty()).unwrap())
        .await;
    body
}

#[tokio::test]
async fn a_valid_token_is_taken_and_each_bad_one_answered_401_with_its_reason() {
    let server = KeyServer::start(vec![jwk("fixture", FIXTURE_KID)], true).await;
    let h = Harness::new(&server.config());
    accepted(post(&h, 1, &fixture_token(&claims(SVC))).await);
    assert_eq!(h.events().len(), 1);
    assert_eq!(server.fetches(), 1, "the key set is fetched once");

    let mut expired = claims(SVC);
    expired["exp"] = (unix() - 3600).into();
    let mut aud = claims(SVC);
    aud["aud"] = "someone-else".into();
    let mut iss = claims(SVC);
    iss["iss"] = "https://login.example".into();
    let b64 = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "kid": FIXTURE_KID, "typ": "JWT"})),
        b64(&claims(SVC))
    );
    // HMAC keyed with the public key's bytes: what a verifier taking `alg` from
    // the token would check with the published key.
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some(FIXTURE_KID.to_owned());
    let hs256 = jsonwebtoken::encode(
        &hs,
        &claims(SVC),
        &EncodingKey::from_secret(FIXTURE_RSA_PUBLIC.as_bytes()),
    )
    .unwrap();
    // A token Bot Framework issued for another service URL.
    let other_service = fixture_token(&claims("https://evil.example/api/"));
    for (n, (token, reason)) in [
        (fixture_token(&expired), "token_expired"),
        (fixture_token(&aud), "wrong_audience"),
        (fixture_token(&iss), "wrong_issuer"),
        (none, "algorithm_not_allowed"),
        (hs256, "algorithm_not_allowed"),
        (other_service, "claim_mismatch"),
    ]
    .into_iter()
    .enumerate()
    {
        assert_answer(
            post(&h, 10 + n as u32, &token).await,
            StatusCode::UNAUTHORIZED,
            reason,
        );
    }
    assert_eq!(h.events().len(), 1, "nothing refused was written");
    assert_eq!(server.fetches(), 1, "known key ids cause no refetch");
}

#[tokio::test]
async fn unknown_key_ids_refetch_once_per_interval_and_a_rotated_key_is_taken() {
    let server = KeyServer::start(vec![jwk("fixture", FIXTURE_KID)], true).await;
    let h = Harness::new(&server.config());
    accepted(post(&h, 1, &fixture_token(&claims(SVC))).await);
    assert_eq!(server.fetches(), 1);
    // A forged key id: one refetch, then 401.
    let forged = |i: u32| rs256(&format!("forged-{i}"), FIXTURE_RSA_PRIVATE, &claims(SVC));
    assert_answer(
        post(&h, 2, &forged(0)).await,
        StatusCode::UNAUTHORIZED,
        "unknown_key",
    );
    assert_eq!(server.fetches(), 2, "an unknown key id refetches once");
    // A flood of them within the interval (30 s): no further fetch.
    for i in 1..=25 {
        assert_answer(
            post(&h, 2 + i, &forged(i)).await,
            StatusCode::UNAUTHORIZED,
            "unknown_key",
        );
    }
    assert_eq!(server.fetches(), 2, "at most one fetch per interval");

    // Rotation, on a fresh key server (its own store and interval): the provider
    // adds a key; a token naming it is taken after one refetch, the old key too.
    let server = KeyServer::start(vec![jwk("fixture", FIXTURE_KID)], true).await;
    let h = Harness::new(&server.config());
    accepted(post(&h, 1, &fixture_token(&claims(SVC))).await);
    server.publish(vec![
        jwk("fixture", FIXTURE_KID),
        jwk("rotated", ROTATED_KID),
    ]);
    let rotated = rs256(
        ROTATED_KID,
        include_str!("keys/rotated-rsa.pem"),
        &claims(SVC),
    );
    accepted(post(&h, 2, &rotated).await);
    assert_eq!(server.fetches(), 2);
    accepted(post(&h, 3, &fixture_token(&claims(SVC))).await);
    assert_eq!(h.events().len(), 3);
}

#[tokio::test]
async fn keys_down_at_start_answer_503_and_readyz_names_the_source_then_the_last_good_set_is_kept()
{
    let server = KeyServer::start(vec![jwk("fixture", FIXTURE_KID)], false).await;
    let h = Harness::new(&server.config());
    let token = fixture_token(&claims(SVC));
    let (status, body) = post(&h, 1, &token).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let ready = readyz(&h).await;
    assert_eq!(ready["sources_without_keys"], json!(["teams"]), "{ready}");
    assert_eq!(ready["status"], "degraded", "{ready}");
    assert!(h.events().is_empty());

    // The key server comes back: after the store's backoff, keys load.
    server.set_up(true);
    let mut n = 1;
    wait_for_async(
        Duration::from_secs(20),
        "keys loaded after the server came back",
        || {
            n += 1;
            let (h, token) = (&h, token.clone());
            async move {
                let (status, _) = post(h, n, &token).await;
                (status == StatusCode::OK).then_some(())
            }
        },
    )
    .await;
    let ready = readyz(&h).await;
    assert!(ready.get("sources_without_keys").is_none(), "{ready}");

    // Down again: a refetch (for an unknown key id) fails, the last good set is
    // kept and still takes the provider's tokens.
    server.set_up(false);
    let before = server.fetches();
    let forged = rs256("forged", FIXTURE_RSA_PRIVATE, &claims(SVC));
    assert_answer(
        post(&h, 100, &forged).await,
        StatusCode::UNAUTHORIZED,
        "unknown_key",
    );
    assert_eq!(server.fetches(), before + 1, "the refetch was tried");
    accepted(post(&h, 101, &token).await);
}
