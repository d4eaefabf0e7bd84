//! The enterprise chat and support-desk providers (Zoom, Webex, HubSpot, Front,
//! Crisp, Sunshine Conversations, Bird) through the real router: every fixture,
//! batches split into one event per item, challenges answered (Zoom's computed
//! from the key that signed), and each new scheme kind's bad inputs refused 401
//! with their reason. Signatures here are computed by the test itself (hmac,
//! sha2, base64), independently of hookgate's verify module.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use base64::Engine as _;
use hmac::Mac;
use serde_json::Value;

use hookgate::fixture::{self, FIXTURE_SECRET};

mod common;
use common::*;

const HUBSPOT_URL: &str = "https://hooks.example.com/hooks/hubspot";
const BIRD_URL: &str = "https://hooks.example.com/hooks/bird";
const ZOOM_NEW_SECRET: &str = "zoom-rotated-in-secret-0123";

const PROVIDERS: [&str; 7] = [
    "zoom",
    "webex",
    "hubspot",
    "front",
    "crisp",
    "sunshine-conversations",
    "bird",
];

fn config() -> String {
    let mut c = String::new();
    for p in PROVIDERS {
        let url = match p {
            "hubspot" => format!("public_url = \"{HUBSPOT_URL}\"\n"),
            "bird" => format!("public_url = \"{BIRD_URL}\"\n"),
            _ => String::new(),
        };
        c.push_str(&format!(
            "[[source]]\nid = \"{p}\"\nprovider = \"{p}\"\nsecrets = [\"{FIXTURE_SECRET}\"]\n{url}\n"
        ));
    }
    c.push_str(&format!(
        "[[source]]\nid = \"zoom-rotating\"\nprovider = \"zoom\"\nsecrets = [\"{ZOOM_NEW_SECRET}\", \"{FIXTURE_SECRET}\"]\n"
    ));
    c
}

fn hmac256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

/// The headers a provider sends for `body` at `ms` (its signature and timestamp,
/// computed as each provider documents), beside the fixture's other headers.
fn signed_now(provider: &str, case: &fixture::Case, ms: u128) -> Vec<(String, String)> {
    let body = &case.body[..];
    let key = FIXTURE_SECRET.as_bytes();
    let secs = (ms / 1000).to_string();
    let ms = ms.to_string();
    let fresh: Vec<(&str, String)> = match provider {
        "zoom" => {
            let mac = hex::encode(hmac256(
                key,
                &[b"v0:", secs.as_bytes(), b":", body].concat(),
            ));
            vec![
                ("x-zm-request-timestamp", secs.clone()),
                ("x-zm-signature", format!("v0={mac}")),
            ]
        }
        "hubspot" => {
            // The fixture's query, with the escapes HubSpot decodes before signing.
            let url = case.url.clone().unwrap().replace("%3A", ":");
            let signed = [b"POST", url.as_bytes(), body, ms.as_bytes()].concat();
            vec![
                ("x-hubspot-request-timestamp", ms.clone()),
                ("x-hubspot-signature-v3", b64(&hmac256(key, &signed))),
            ]
        }
        "front" => vec![
            ("x-front-request-timestamp", ms.clone()),
            (
                "x-front-signature",
                b64(&hmac256(key, &[ms.as_bytes(), b":", body].concat())),
            ),
        ],
        "crisp" => vec![
            ("x-crisp-request-timestamp", ms.clone()),
            (
                "x-crisp-signature",
                hex::encode(hmac256(
                    key,
                    &[b"[", ms.as_bytes(), b";", body, b"]"].concat(),
                )),
            ),
        ],
        "bird" => {
            let digest = <sha2::Sha256 as sha2::Digest>::digest(body);
            let signed = [
                secs.as_bytes(),
                b"\n",
                BIRD_URL.as_bytes(),
                b"\n",
                &digest[..],
            ]
            .concat();
            vec![
                ("messagebird-request-timestamp", secs.clone()),
                ("messagebird-signature", b64(&hmac256(key, &signed))),
            ]
        }
        // Not timestamped: the fixture's own headers hold.
        _ => Vec::new(),
    };
    let mut out: Vec<(String, String)> = case
        .headers
        .iter()
        .filter(|(k, _)| !fresh.iter().any(|(f, _)| k.as_str() == *f))
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    out.extend(fresh.into_iter().map(|(k, v)| (k.to_owned(), v)));
    out
}

fn path(provider: &str, case: &fixture::Case) -> String {
    match case.url.as_deref().and_then(|u| u.split_once('?')) {
        Some((_, q)) => format!("/webhooks/{provider}?{q}"),
        None => format!("/webhooks/{provider}"),
    }
}

#[tokio::test]
async fn every_desk_fixture_through_the_router() {
    let (mut cases, mut written_total, mut batches) = (0, 0, 0);
    for provider in PROVIDERS {
        for case in fixture::load_cases(&fixtures_root(), provider).unwrap() {
            // A gateway per case, as the fixtures of one provider may share ids.
            let h = Harness::new(&config());
            let want = case.expected.clone().unwrap();
            let headers = signed_now(provider, &case, now_ms());
            let (s, j) = post_owned(&h, &path(provider, &case), &headers, case.body.to_vec()).await;
            let name = format!("{provider}/{}", case.name);
            assert_eq!(s, StatusCode::OK, "{name}: {j}");
            if want["status"] == "responded" {
                // The challenge answer is the answer body itself.
                assert_eq!(j, want["body"], "{name}");
            } else {
                assert_eq!(j["status"], want["status"], "{name}: {j}");
            }
            let all = if want["status"] == "batch" {
                batches += 1;
                assert_eq!(statuses(&j), statuses(&want), "{name}");
                want["events"].as_array().unwrap().clone()
            } else {
                vec![want.clone()]
            };
            let wanted: Vec<&Value> = all.iter().filter(|e| e["status"] == "accepted").collect();
            let written = h.events();
            assert_eq!(written.len(), wanted.len(), "{name}");
            for (w, e) in wanted.iter().zip(&written) {
                assert_eq!(stable(w["event"].clone()), stable(e.clone()), "{name}");
            }
            let dead = all
                .iter()
                .filter(|e| e["status"] == "dead_lettered")
                .count();
            assert_eq!(h.dead_letters().len(), dead, "{name}");
            cases += 1;
            written_total += written.len();
        }
    }
    assert!(
        cases >= 23 && written_total >= 21 && batches >= 5,
        "{cases} {written_total} {batches}"
    );
}

#[tokio::test]
async fn hubspot_batches_split_and_a_redelivery_is_all_duplicates() {
    let h = Harness::new(&config());
    let case = fixture_case("hubspot", "batch-with-unmapped-deal");
    let headers = signed_now("hubspot", &case, now_ms());
    let (s, first) = post_owned(&h, &path("hubspot", &case), &headers, case.body.to_vec()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(statuses(&first), ["accepted", "dead_lettered"]);
    let (_, again) = post_owned(&h, &path("hubspot", &case), &headers, case.body.to_vec()).await;
    assert_eq!(statuses(&again), ["duplicate", "duplicate"]);
    assert_eq!((h.events().len(), h.dead_letters().len()), (1, 1));
}

#[tokio::test]
async fn hubspot_v3_refuses_what_its_signature_does_not_cover() {
    let h = Harness::new(&config());
    let case = fixture_case("hubspot", "conversation-new-message");
    let body = case.body.to_vec();
    let at = |ms: u128| signed_now("hubspot", &case, ms);
    let p = path("hubspot", &case);
    let set = |mut hs: Vec<(String, String)>, k: &str, v: &str| {
        hs.retain(|(n, _)| n != k);
        hs.push((k.to_owned(), v.to_owned()));
        hs
    };
    let now = now_ms();
    // Another query than the one signed: the URL is part of the signature.
    let other_query = p.replace("route=crm", "route=crn");
    let (s, j) = post_owned(&h, &other_query, &at(now), body.clone()).await;
    assert_answer((s, j), StatusCode::UNAUTHORIZED, "signature_mismatch");
    // The Host header names nothing hookgate signs with: the configured URL is used.
    let mut with_host = at(now);
    with_host.push(("host".into(), "attacker.example".into()));
    let (s, j) = post_owned(&h, &p, &with_host, body.clone()).await;
    assert_eq!(
        (s, j["status"].as_str()),
        (StatusCode::OK, Some("batch")),
        "{j}"
    );
    // Signed, but ten minutes old; or a timestamp in seconds where HubSpot sends ms.
    let stale = at(now - 600_000);
    let (s, j) = post_owned(&h, &p, &stale, body.clone()).await;
    assert_answer(
        (s, j),
        StatusCode::UNAUTHORIZED,
        "timestamp_out_of_tolerance",
    );
    let seconds = at(now / 1000);
    let (s, j) = post_owned(&h, &p, &seconds, body.clone()).await;
    assert_answer(
        (s, j),
        StatusCode::UNAUTHORIZED,
        "timestamp_out_of_tolerance",
    );
    // A fresh timestamp put on an old signature.
    let moved = set(
        stale.clone(),
        "x-hubspot-request-timestamp",
        &now.to_string(),
    );
    let (s, j) = post_owned(&h, &p, &moved, body.clone()).await;
    assert_answer((s, j), StatusCode::UNAUTHORIZED, "signature_mismatch");
    let mut no_ts = at(now);
    no_ts.retain(|(n, _)| n != "x-hubspot-request-timestamp");
    let (s, j) = post_owned(&h, &p, &no_ts, body.clone()).await;
    assert_answer((s, j), StatusCode::UNAUTHORIZED, "bad_timestamp");
    let hex_sig = set(at(now), "x-hubspot-signature-v3", &"ab".repeat(32));
    let (s, j) = post_owned(&h, &p, &hex_sig, body.clone()).await;
    assert_answer((s, j), StatusCode::UNAUTHORIZED, "malformed_signature");
    let mut tampered = body.clone();
    tampered[3] ^= 1;
    let (s, j) = post_owned(&h, &p, &at(now), tampered).await;
    assert_answer((s, j), StatusCode::UNAUTHORIZED, "signature_mismatch");
    assert_eq!(h.events().len(), 1);
}

#[tokio::test]
async fn bird_signs_the_body_hash_and_the_url() {
    let h = Harness::new(&config());
    let case = fixture_case("bird", "whatsapp-inbound");
    let body = case.body.to_vec();
    let now = now_ms();
    let good = signed_now("bird", &case, now);
    let mut tampered = body.clone();
    let i = body.iter().position(|b| *b == b'H').unwrap();
    tampered[i] = b'J';
    let (s, j) = post_owned(&h, "/webhooks/bird", &good, tampered).await;
    assert_answer((s, j), StatusCode::UNAUTHORIZED, "signature_mismatch");
    // Signed for a query the subscription's URL does not have.
    let (s, j) = post_owned(&h, "/webhooks/bird?x=1", &good, body.clone()).await;
    assert_answer((s, j), StatusCode::UNAUTHORIZED, "signature_mismatch");
    let mut missing = good.clone();
    missing.retain(|(k, _)| k != "messagebird-signature");
    let (s, j) = post_owned(&h, "/webhooks/bird", &missing, body.clone()).await;
    assert_answer((s, j), StatusCode::UNAUTHORIZED, "missing_signature");
    let mut garbage = missing.clone();
    garbage.push(("messagebird-signature".into(), "not base64 at all!".into()));
    let (s, j) = post_owned(&h, "/webhooks/bird", &garbage, body.clone()).await;
    assert_answer((s, j), StatusCode::UNAUTHORIZED, "malformed_signature");
    let (s, j) = post_owned(&h, "/webhooks/bird", &good, body).await;
    assert_eq!(
        (s, j["status"].as_str()),
        (StatusCode::OK, Some("accepted")),
        "{j}"
    );
}

fn zoom_validation(secret: &str, token: &str, secs: u64) -> (Vec<(String, String)>, Vec<u8>) {
    let body = format!(
        r#"{{"payload":{{"plainToken":"{token}"}},"event_ts":{}000,"event":"endpoint.url_validation"}}"#,
        secs
    )
    .into_bytes();
    let mac = hex::encode(hmac256(
        secret.as_bytes(),
        &[format!("v0:{secs}:").as_bytes(), &body].concat(),
    ));
    let headers = vec![
        ("content-type".into(), "application/json".into()),
        ("x-zm-request-timestamp".into(), secs.to_string()),
        ("x-zm-signature".into(), format!("v0={mac}")),
    ];
    (headers, body)
}

#[tokio::test]
async fn zoom_validation_is_answered_with_the_hmac_of_the_key_that_signed_it() {
    let h = Harness::new(&config());
    let secs = (now_ms() / 1000) as u64;
    for secret in [ZOOM_NEW_SECRET, FIXTURE_SECRET] {
        let (headers, body) = zoom_validation(secret, "qgg8vlvZRS6UYooatFL8Aw", secs);
        let (s, j) = post_owned(&h, "/webhooks/zoom-rotating", &headers, body).await;
        assert_eq!(s, StatusCode::OK, "{j}");
        let want = hex::encode(hmac256(secret.as_bytes(), b"qgg8vlvZRS6UYooatFL8Aw"));
        assert_eq!(
            j,
            serde_json::json!({"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": want})
        );
    }
    // Not signed, or signed with a key the source does not hold: no answer at all.
    let (mut headers, body) = zoom_validation("not-zooms-secret-0123", "t0k", secs);
    let (s, j) = post_owned(&h, "/webhooks/zoom", &headers, body.clone()).await;
    assert_answer((s, j), StatusCode::UNAUTHORIZED, "signature_mismatch");
    headers.retain(|(k, _)| k != "x-zm-signature");
    let (s, j) = post_owned(&h, "/webhooks/zoom", &headers, body).await;
    assert_answer((s, j), StatusCode::UNAUTHORIZED, "missing_signature");
    // A stale validation is not answered either.
    let (headers, body) = zoom_validation(FIXTURE_SECRET, "t0k", secs - 3600);
    let (s, j) = post_owned(&h, "/webhooks/zoom", &headers, body).await;
    assert_answer(
        (s, j),
        StatusCode::UNAUTHORIZED,
        "timestamp_out_of_tolerance",
    );
    assert!(h.events().is_empty() && h.dead_letters().is_empty());
}

#[tokio::test]
async fn front_echoes_its_challenge_only_when_signed() {
    let h = Harness::new(&config());
    let case = fixture_case("front", "sync-challenge");
    let now = now_ms();
    let good = signed_now("front", &case, now);
    let (s, j) = post_owned(&h, "/webhooks/front", &good, case.body.to_vec()).await;
    assert_eq!(
        (s, j),
        (
            StatusCode::OK,
            serde_json::json!({"challenge": "a8c1b3e2f4d6"})
        )
    );
    let old = signed_now("front", &case, now - 3_600_000);
    let (s, j) = post_owned(&h, "/webhooks/front", &old, case.body.to_vec()).await;
    assert_answer(
        (s, j),
        StatusCode::UNAUTHORIZED,
        "timestamp_out_of_tolerance",
    );
    let mut bad_ts = good.clone();
    bad_ts.retain(|(k, _)| k != "x-front-request-timestamp");
    bad_ts.push(("x-front-request-timestamp".into(), "yesterday".into()));
    let (s, j) = post_owned(&h, "/webhooks/front", &bad_ts, case.body.to_vec()).await;
    assert_answer((s, j), StatusCode::UNAUTHORIZED, "signature_mismatch");
}

#[tokio::test]
async fn crisp_reads_a_timestamp_in_either_unit() {
    let h = Harness::new(&config());
    let case = fixture_case("crisp", "message-send");
    let body = case.body.to_vec();
    let now = now_ms();
    // Milliseconds (what `signed_now` sends), then seconds, both fresh.
    let (s, j) = post_owned(
        &h,
        "/webhooks/crisp",
        &signed_now("crisp", &case, now),
        body.clone(),
    )
    .await;
    assert_eq!(
        (s, j["status"].as_str()),
        (StatusCode::OK, Some("accepted")),
        "{j}"
    );
    let secs = (now / 1000).to_string();
    let mac = hex::encode(hmac256(
        FIXTURE_SECRET.as_bytes(),
        &[b"[", secs.as_bytes(), b";", &body[..], b"]"].concat(),
    ));
    let headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("x-crisp-request-timestamp".to_owned(), secs),
        ("x-crisp-signature".to_owned(), mac),
    ];
    let (s, j) = post_owned(&h, "/webhooks/crisp", &headers, body.clone()).await;
    assert_eq!(
        (s, j["status"].as_str()),
        (StatusCode::OK, Some("duplicate")),
        "{j}"
    );
    let stale = signed_now("crisp", &case, now - 600_000);
    let (s, j) = post_owned(&h, "/webhooks/crisp", &stale, body).await;
    assert_answer(
        (s, j),
        StatusCode::UNAUTHORIZED,
        "timestamp_out_of_tolerance",
    );
}

#[tokio::test]
async fn sunshine_conversations_api_key_is_checked_and_its_batch_split() {
    let h = Harness::new(&config());
    let case = fixture_case("sunshine-conversations", "batch-messages");
    let body = case.body.to_vec();
    let with_key = |key: Option<&str>| {
        let mut hs = vec![("content-type".to_owned(), "application/json".to_owned())];
        if let Some(k) = key {
            hs.push(("x-api-key".to_owned(), k.to_owned()));
        }
        hs
    };
    let (s, j) = post_owned(
        &h,
        "/webhooks/sunshine-conversations",
        &with_key(None),
        body.clone(),
    )
    .await;
    assert_answer((s, j), StatusCode::UNAUTHORIZED, "missing_signature");
    let almost = format!("{}x", &FIXTURE_SECRET[..FIXTURE_SECRET.len() - 1]);
    let (s, j) = post_owned(
        &h,
        "/webhooks/sunshine-conversations",
        &with_key(Some(&almost)),
        body.clone(),
    )
    .await;
    assert_answer((s, j), StatusCode::UNAUTHORIZED, "signature_mismatch");
    let (s, j) = post_owned(
        &h,
        "/webhooks/sunshine-conversations",
        &with_key(Some(FIXTURE_SECRET)),
        body,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(statuses(&j), ["accepted", "accepted", "accepted"]);
    let types: Vec<Value> = h.events().iter().map(|e| e["type"].clone()).collect();
    assert_eq!(
        types,
        ["message.created", "message.created", "conversation.created"]
    );
}
