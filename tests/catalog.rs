//! The signature scheme catalog through the real router: timestamped schemes with
//! fresh and stale timestamps, the handshakes, and the header token. Signatures
//! are computed here with the `hmac` crate directly, not with hookgate's signer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use hmac::Mac;

use hookgate::fixture::FIXTURE_SECRET;

mod common;
use common::*;

fn config() -> String {
    let whsec = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(FIXTURE_SECRET)
    );
    let mut c = String::new();
    for p in [
        "slack", "stripe", "zendesk", "github", "intercom", "shopify",
    ] {
        c.push_str(&format!(
            "[[source]]\nid = \"{p}\"\nprovider = \"{p}\"\nsecrets = [\"{FIXTURE_SECRET}\"]\n\n"
        ));
    }
    c.push_str(&format!(
        "[[source]]\nid = \"whatsapp\"\nprovider = \"whatsapp-cloud\"\nsecrets = [\"{FIXTURE_SECRET}\"]\nverify_token = \"meta-verify-token\"\n\n\
         [[source]]\nid = \"std\"\nprovider = \"standard-webhooks\"\nsecrets = [\"{whsec}\"]\n\n\
         [[source]]\nid = \"telegram\"\nprovider = \"telegram\"\nsecrets = [\"tg-secret-token-123\"]\n"
    ));
    c
}

fn mac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn slack_body() -> Vec<u8> {
    br#"{"type":"event_callback","team_id":"T1","event_id":"EvFRESH1","event_time":1767225600,"event":{"type":"message","channel":"C1","user":"U1","text":"hi","ts":"1767225600.000100"}}"#.to_vec()
}

async fn post_slack(h: &Harness, body: Vec<u8>, ts: i64) -> (StatusCode, serde_json::Value) {
    let mut signed = format!("v0:{ts}:").into_bytes();
    signed.extend_from_slice(&body);
    let sig = format!(
        "v0={}",
        hex::encode(mac(FIXTURE_SECRET.as_bytes(), &signed))
    );
    h.post(
        "/webhooks/slack",
        &[
            ("x-slack-request-timestamp", &ts.to_string()),
            ("x-slack-signature", &sig),
        ],
        body,
    )
    .await
}

#[tokio::test]
async fn slack_fresh_is_accepted_stale_and_future_are_refused() {
    let h = Harness::new(&config());
    assert_answer(
        post_slack(&h, slack_body(), now() - 400).await,
        StatusCode::UNAUTHORIZED,
        "timestamp_out_of_tolerance",
    );
    assert_answer(
        post_slack(&h, slack_body(), now() + 400).await,
        StatusCode::UNAUTHORIZED,
        "timestamp_out_of_tolerance",
    );
    assert!(h.events().is_empty());
    assert_answer(
        post_slack(&h, slack_body(), now()).await,
        StatusCode::OK,
        "accepted",
    );
    // A captured request replayed later is refused, even though its signature is valid.
    let ts = now() - 301;
    assert_answer(
        post_slack(&h, slack_body(), ts).await,
        StatusCode::UNAUTHORIZED,
        "timestamp_out_of_tolerance",
    );
    assert_eq!(h.events().len(), 1);
}

#[tokio::test]
async fn slack_url_verification_is_answered_and_not_forwarded() {
    let h = Harness::new(&config());
    let body = br#"{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#.to_vec();
    let (s, j) = post_slack(&h, body.clone(), now()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        j,
        serde_json::json!({"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
    );
    assert!(h.events().is_empty() && h.dead_letters().is_empty());
    // Unsigned, the challenge is not answered.
    assert_answer(
        h.post("/webhooks/slack", &[], body).await,
        StatusCode::UNAUTHORIZED,
        "missing_signature",
    );
}

#[tokio::test]
async fn stripe_and_standard_webhooks_with_fresh_timestamps() {
    let h = Harness::new(&config());
    let ts = now();
    let body = br#"{"id":"evt_fresh","type":"customer.created","created":1767225600,"data":{"object":{"id":"cus_1","email":"a@example.com"}}}"#.to_vec();
    let mut signed = format!("{ts}.").into_bytes();
    signed.extend_from_slice(&body);
    let header = format!(
        "t={ts},v1={}",
        hex::encode(mac(FIXTURE_SECRET.as_bytes(), &signed))
    );
    assert_answer(
        h.post(
            "/webhooks/stripe",
            &[("stripe-signature", &header)],
            body.clone(),
        )
        .await,
        StatusCode::OK,
        "accepted",
    );
    let stale = header.replacen(&format!("t={ts}"), &format!("t={}", ts - 600), 1);
    let (s, j) = h
        .post("/webhooks/stripe", &[("stripe-signature", &stale)], body)
        .await;
    assert_eq!(
        (s, j["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("signature_mismatch")),
        "moving t invalidates the signature: {j}"
    );

    let body = br#"{"type":"contact.created","timestamp":"2026-01-01T00:00:00Z","data":{"contact":{"id":"u9"}}}"#.to_vec();
    let id = "msg_fresh_1";
    let mut signed = format!("{id}.{ts}.").into_bytes();
    signed.extend_from_slice(&body);
    let sig = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac(FIXTURE_SECRET.as_bytes(), &signed))
    );
    let headers = [
        ("webhook-id", id),
        ("webhook-timestamp", &ts.to_string()),
        ("webhook-signature", &sig),
    ];
    assert_answer(
        h.post("/webhooks/std", &headers, body.clone()).await,
        StatusCode::OK,
        "accepted",
    );
    let (s, j) = h.post("/webhooks/std", &headers, body).await;
    assert_eq!(
        j["status"], "duplicate",
        "webhook-id is the dedup id: {s} {j}"
    );
}

#[tokio::test]
async fn meta_subscription_handshake() {
    let h = Harness::new(&config());
    let get = |q: &str| {
        Request::get(format!("/webhooks/whatsapp?{q}"))
            .body(Body::empty())
            .unwrap()
    };
    let (s, body, _) = h
        .send(get(
            "hub.mode=subscribe&hub.verify_token=meta-verify-token&hub.challenge=1158201444",
        ))
        .await;
    // The body is the bare challenge (the harness reads it as JSON, hence a number).
    assert_eq!(
        (s, body.to_string()),
        (StatusCode::OK, "1158201444".to_owned())
    );
    for q in [
        "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
        "hub.mode=unsubscribe&hub.verify_token=meta-verify-token&hub.challenge=1",
        "hub.mode=subscribe&hub.challenge=1",
    ] {
        let (s, j, _) = h.send(get(q)).await;
        assert_eq!(
            (s, j["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{q}: {j}"
        );
    }
    // Providers without the handshake do not answer GET.
    let slack = Request::get("/webhooks/slack?hub.mode=subscribe")
        .body(Body::empty())
        .unwrap();
    let (s, j, _) = h.send(slack).await;
    assert_answer((s, j), StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn telegram_secret_token_header() {
    let h = Harness::new(&config());
    let body = br#"{"update_id":5,"message":{"message_id":1,"chat":{"id":42,"type":"private"},"from":{"id":42,"is_bot":false,"first_name":"Ada"},"date":1767225600,"text":"hi"}}"#.to_vec();
    for (token, want, reason) in [
        (
            Some("tg-secret-token-124"),
            StatusCode::UNAUTHORIZED,
            Some("signature_mismatch"),
        ),
        (
            Some(""),
            StatusCode::UNAUTHORIZED,
            Some("signature_mismatch"),
        ),
        (None, StatusCode::UNAUTHORIZED, Some("missing_signature")),
        (Some("tg-secret-token-123"), StatusCode::OK, None),
    ] {
        let headers: Vec<(&str, &str)> = token
            .map(|t| ("x-telegram-bot-api-secret-token", t))
            .into_iter()
            .collect();
        let (s, j) = h.post("/webhooks/telegram", &headers, body.clone()).await;
        assert_eq!((s, j["reason"].as_str()), (want, reason), "{token:?}: {j}");
    }
    assert_eq!(h.events().len(), 1);
}

#[tokio::test]
async fn every_catalog_fixture_with_a_fresh_signature_through_the_router() {
    // The untimestamped catalog providers: their fixtures verify as they are.
    let h = Harness::new(&config());
    for (provider, source) in [
        ("github", "github"),
        ("intercom", "intercom"),
        ("shopify", "shopify"),
        ("whatsapp-cloud", "whatsapp"),
    ] {
        for case in hookgate::fixture::load_cases(&fixtures_root(), provider).unwrap() {
            let want = case.expected.clone().unwrap();
            let (s, j, _) = h.send(request(&format!("/webhooks/{source}"), &case)).await;
            assert_eq!(s, StatusCode::OK, "{provider}/{}: {j}", case.name);
            assert_eq!(j["status"], want["status"], "{provider}/{}: {j}", case.name);
        }
    }
}

#[tokio::test]
async fn max_event_age_refuses_old_payloads() {
    let cfg = format!(
        "[[source]]\nid = \"strict\"\nprovider = \"sahut\"\nsecrets = [\"{FIXTURE_SECRET}\"]\nmax_event_age = \"6h\"\n\n\
         [[source]]\nid = \"sahut\"\nprovider = \"sahut\"\nsecrets = [\"{FIXTURE_SECRET}\"]\n"
    );
    let h = Harness::new(&cfg);
    // The fixture's event time is 2026-03-02: far older than six hours.
    let case = hookgate::fixture::load_cases(&fixtures_root(), "sahut")
        .unwrap()
        .into_iter()
        .find(|c| c.name == "message-created-incoming")
        .unwrap();
    let (s, j, _) = h.send(request("/webhooks/strict", &case)).await;
    assert_eq!(
        (s, j["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("event_too_old")),
        "{j}"
    );
    let (s, j, _) = h.send(request("/webhooks/sahut", &case)).await;
    assert_eq!(
        (s, j["status"].as_str()),
        (StatusCode::OK, Some("accepted")),
        "{j}"
    );
    // A fresh event passes the strict source.
    let fresh = serde_json::json!({"id": "evt_fresh_age", "event": "contact.created",
        "created_at": chrono::Utc::now().to_rfc3339(), "data": {"id": "ct_1"}})
    .to_string();
    let sig = hex::encode(mac(FIXTURE_SECRET.as_bytes(), fresh.as_bytes()));
    assert_answer(
        h.post("/webhooks/strict", &[("x-sahut-signature", &sig)], fresh)
            .await,
        StatusCode::OK,
        "accepted",
    );
    assert_eq!(h.events().len(), 2);
}

#[tokio::test]
async fn per_source_rate_limit() {
    let cfg = "[[source]]\nid = \"m\"\nprovider = \"magalu-sac\"\nallow_unauthenticated = true\nrate_limit = { per_second = 1, burst = 2 }\n";
    let h = Harness::new(cfg);
    let body = |n: u32| {
        format!(
            r#"{{"data":{{"status":"CREATION","params":{{"id":"t{n}"}},"resource":"/v0/tickets/t{n}"}},"tenant_id":"x","topic":"sac_ticket"}}"#
        )
    };
    let (a, _) = h.post("/webhooks/m", &[], body(1)).await;
    let (b, _) = h.post("/webhooks/m", &[], body(2)).await;
    let (s, j, headers) = h
        .send(
            Request::post("/webhooks/m")
                .body(Body::from(body(3)))
                .unwrap(),
        )
        .await;
    assert_eq!((a, b), (StatusCode::OK, StatusCode::OK));
    assert_eq!(
        (s, j["error"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"))
    );
    assert_eq!(
        headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert_eq!(h.events().len(), 2, "the refused request wrote nothing");
}

#[test]
fn whsec_secrets_must_decode() {
    let bad =
        "[[source]]\nid = \"std\"\nprovider = \"standard-webhooks\"\nsecrets = [\"whsec_***\"]\n";
    let loaded =
        hookgate::config::Loaded::from_text(bad, "t.toml", std::path::Path::new(""), &|_| None)
            .unwrap();
    let e = loaded
        .build_gateway()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("whsec_") && !e.contains("***"), "{e}");
}
