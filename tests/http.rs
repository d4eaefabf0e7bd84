//! The real router end to end into the file output: every fixture of every
//! provider, every way in, and the hostile inputs of the core issue.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use serde_json::Value;

use hookgate::fixture::{self, FIXTURE_SECRET};

mod common;
use common::*;

#[tokio::test]
async fn every_fixture_through_http_into_the_file_output() {
    let h = Harness::new(&all_providers_config());
    let mut expected_events = Vec::new();
    let mut expected_dead = 0;
    for provider in ["sahut", "oneroute", "magalu-sac", "aisoule", "savanto"] {
        for case in fixture::load_cases(&fixtures_root(), provider).expect("cases") {
            let expected = case.expected.clone().expect("expected.json");
            let (status, body, _) = h.send(request(&path_for(provider), &case)).await;
            assert_eq!(status, StatusCode::OK, "{provider}/{}: {body}", case.name);
            assert_eq!(
                body["status"], expected["status"],
                "{provider}/{}: {body}",
                case.name
            );
            match expected["status"].as_str() {
                Some("accepted") => {
                    assert_eq!(
                        body["id"], expected["event"]["id"],
                        "{provider}/{}",
                        case.name
                    );
                    expected_events.push(stable(expected["event"].clone()));
                }
                Some("dead_lettered") => {
                    assert_eq!(body["reason"], expected["reason"]);
                    expected_dead += 1;
                }
                _ => {}
            }
        }
    }
    let written: Vec<Value> = h.events().into_iter().map(stable).collect();
    assert_eq!(written.len(), expected_events.len());
    for (got, want) in written.iter().zip(&expected_events) {
        assert_eq!(got, want);
    }
    let dead = h.dead_letters();
    assert_eq!(dead.len(), expected_dead);
    for d in &dead {
        assert!(d["body"].is_string() || d["body_base64"].is_string(), "{d}");
        assert!(
            d["reason"].is_string() && d["received_at"].is_string(),
            "{d}"
        );
    }
    // A redelivery of every accepted case is a duplicate with the same id, and
    // nothing more is written.
    for provider in ["sahut", "aisoule", "magalu-sac"] {
        for case in fixture::load_cases(&fixtures_root(), provider).expect("cases") {
            let expected = case.expected.clone().expect("expected");
            if expected["status"] == "accepted" {
                let (status, body, _) = h.send(request(&path_for(provider), &case)).await;
                assert_eq!(status, StatusCode::OK);
                assert_eq!(body["status"], "duplicate", "{provider}/{}", case.name);
                assert_eq!(body["id"], expected["event"]["id"]);
            }
        }
    }
    assert_eq!(h.events().len(), expected_events.len());
}

#[tokio::test]
async fn signature_failures_are_401_and_store_nothing() {
    let h = Harness::new(&all_providers_config());
    let case = fixture_case("savanto", "product-created");
    let body = case.body.to_vec();
    let good = hmac_hex("sha256", FIXTURE_SECRET.as_bytes(), &body);
    let mut tampered = body.clone();
    let pos = tampered
        .iter()
        .position(|b| *b == b'9')
        .expect("a digit to change");
    tampered[pos] = b'8';
    let sha1 = hmac_hex("sha1", FIXTURE_SECRET.as_bytes(), &body);
    let sha512 = hmac_hex("sha512", FIXTURE_SECRET.as_bytes(), &body);
    let wrong = hmac_hex("sha256", b"not-the-secret", &body);
    let cases: Vec<(&str, Option<String>, Vec<u8>, &str)> = vec![
        ("no header", None, body.clone(), "missing_signature"),
        (
            "empty header",
            Some(String::new()),
            body.clone(),
            "malformed_signature",
        ),
        (
            "prefix only",
            Some("sha256=".into()),
            body.clone(),
            "malformed_signature",
        ),
        (
            "missing prefix",
            Some(good.clone()),
            body.clone(),
            "malformed_signature",
        ),
        (
            "wrong secret",
            Some(format!("sha256={wrong}")),
            body.clone(),
            "signature_mismatch",
        ),
        (
            "tampered body",
            Some(format!("sha256={good}")),
            tampered,
            "signature_mismatch",
        ),
        (
            "truncated",
            Some(format!("sha256={}", &good[..40])),
            body.clone(),
            "malformed_signature",
        ),
        (
            "sha1 signature",
            Some(format!("sha256={sha1}")),
            body.clone(),
            "malformed_signature",
        ),
        (
            "sha512 signature",
            Some(format!("sha256={sha512}")),
            body.clone(),
            "malformed_signature",
        ),
        (
            "non-hex",
            Some(format!("sha256={}", "z".repeat(64))),
            body.clone(),
            "malformed_signature",
        ),
        (
            "huge header",
            Some(format!("sha256={}", "a".repeat(60_000))),
            body.clone(),
            "malformed_signature",
        ),
    ];
    for (what, sig, body, reason) in cases {
        let mut headers = vec![("content-type", "application/json")];
        let sig_s;
        if let Some(s) = sig {
            sig_s = s;
            headers.push(("x-webhook-signature", sig_s.as_str()));
        }
        let (status, resp) = h.post("/webhooks/savanto", &headers, body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {resp}");
        assert_eq!(resp["error"], "unauthorized", "{what}");
        assert_eq!(resp["reason"], reason, "{what}");
        let text = resp.to_string();
        assert!(
            !text.contains(&good) && !text.contains(FIXTURE_SECRET),
            "{what}: body leaks: {text}"
        );
    }
    assert!(
        h.events().is_empty() && h.dead_letters().is_empty(),
        "nothing stored"
    );
    // The untouched request passes, proving the cases above failed for their reason.
    let good_header = format!("sha256={good}");
    let (status, _) = h
        .post(
            "/webhooks/savanto",
            &[("x-webhook-signature", &good_header)],
            body,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn rotated_secrets_and_both_aisoule_headers_verify() {
    let h = Harness::new(&all_providers_config());
    // Sahut's source lists an old secret first; the fixture is signed with the second.
    let case = fixture_case("sahut", "message-created-incoming");
    let (status, body, _) = h.send(request("/webhooks/sahut", &case)).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("accepted"))
    );
    let case = fixture_case("aisoule", "message-received-developer-variant");
    assert!(case.headers.contains_key("x-aisoule-signature"));
    let (status, body, _) = h.send(request("/webhooks/aisoule", &case)).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("accepted"))
    );
}

#[tokio::test]
async fn unsigned_provider_ways_in() {
    let h = Harness::new(&all_providers_config());
    let case = fixture_case("magalu-sac", "ticket-creation");
    let body = case.body.clone();
    // Token in the URL.
    let (s, _) = h
        .post(
            &format!("/webhooks/magalu-sac/{MAGALU_TOKEN}"),
            &[],
            body.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    for bad in [
        "/webhooks/magalu-sac",
        "/webhooks/magalu-sac/magalu-token-0123456788",
    ] {
        let (s, j) = h.post(bad, &[], body.clone()).await;
        assert_eq!(
            (s, j["reason"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("bad_token")),
            "{bad}"
        );
    }
    // Basic auth.
    let creds = base64::engine::general_purpose::STANDARD.encode("magalu:basic-secret");
    let auth = format!("Basic {creds}");
    let other = fixture_case("magalu-sac", "ticket-update").body;
    let (s, _) = h
        .post(
            "/webhooks/magalu-basic",
            &[("authorization", &auth)],
            other.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let bad = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("magalu:guess")
    );
    assert_answer(
        h.post("/webhooks/magalu-basic", &[("authorization", &bad)], other)
            .await,
        StatusCode::UNAUTHORIZED,
        "bad_credentials",
    );
    // Address allow-list, with the peer address the server would see.
    let third = fixture_case("magalu-sac", "ticket-deletion").body;
    for (peer, want, reason) in [
        ("174.138.104.128:5555", StatusCode::OK, None),
        (
            "203.0.113.9:5555",
            StatusCode::UNAUTHORIZED,
            Some("address_not_allowed"),
        ),
    ] {
        let addr: SocketAddr = peer.parse().expect("addr");
        let mut req = Request::post("/webhooks/magalu-ip")
            .body(Body::from(third.clone()))
            .expect("req");
        req.extensions_mut().insert(ConnectInfo(addr));
        let (s, j, _) = h.send(req).await;
        assert_eq!((s, j["reason"].as_str()), (want, reason), "{peer}: {j}");
    }
    // OneRoute without a signature, through its token source.
    let one = fixture_case("oneroute", "new-message");
    assert_answer(
        h.post(
            "/webhooks/oneroute-token/oneroute-token-0123456789",
            &[],
            one.body.clone(),
        )
        .await,
        StatusCode::OK,
        "accepted",
    );
    // The signed OneRoute source refuses the unsigned delivery.
    assert_answer(
        h.post("/webhooks/oneroute", &[], one.body).await,
        StatusCode::UNAUTHORIZED,
        "missing_signature",
    );
    assert_eq!(h.events().len(), 4);
}

fn signed(body: &[u8]) -> String {
    format!(
        "sha256={}",
        hmac_hex("sha256", FIXTURE_SECRET.as_bytes(), body)
    )
}

#[tokio::test]
async fn malformed_json_unknown_type_and_non_utf8_are_dead_lettered() {
    let h = Harness::new(&all_providers_config());
    let malformed = br#"{"id": "evt_1", "event_type": "product.created", "data": {"#.to_vec();
    let (s, j) = h
        .post(
            "/webhooks/savanto",
            &[("x-webhook-signature", &signed(&malformed))],
            malformed.clone(),
        )
        .await;
    assert_eq!(
        (s, j["status"].as_str(), j["reason"].as_str()),
        (
            StatusCode::OK,
            Some("dead_lettered"),
            Some("malformed_json")
        )
    );
    let unknown = br#"{"id": "evt_2", "event_type": "order.shipped", "data": {}}"#.to_vec();
    assert_answer(
        h.post(
            "/webhooks/savanto",
            &[("x-webhook-signature", &signed(&unknown))],
            unknown,
        )
        .await,
        StatusCode::OK,
        "unknown_event_type",
    );
    let mut non_utf8 =
        br#"{"id": "evt_3", "event_type": "product.created", "data": {"name": ""#.to_vec();
    non_utf8.extend_from_slice(&[0xff, 0xfe, b'"', b'}', b'}']);
    assert_answer(
        h.post(
            "/webhooks/savanto",
            &[("x-webhook-signature", &signed(&non_utf8))],
            non_utf8.clone(),
        )
        .await,
        StatusCode::OK,
        "malformed_json",
    );
    // A mapping produces something the schema refuses: a product price that is a string
    // is dropped by the mapping, but a non-string id list breaks `categories`.
    let bad_schema = br#"{"id": "evt_4", "event_type": "product.created", "data": {"id": "p", "categories": [1, 2]}}"#.to_vec();
    assert_answer(
        h.post(
            "/webhooks/savanto",
            &[("x-webhook-signature", &signed(&bad_schema))],
            bad_schema,
        )
        .await,
        StatusCode::OK,
        "schema_violation",
    );

    let dead = h.dead_letters();
    assert_eq!(dead.len(), 4);
    assert_eq!(
        dead[0]["body"].as_str().map(str::as_bytes),
        Some(&malformed[..]),
        "raw body kept byte-exact"
    );
    assert_eq!(
        dead[0]["headers"]["x-webhook-signature"].as_str(),
        Some(signed(&malformed).as_str())
    );
    let b64 = dead[2]["body_base64"]
        .as_str()
        .expect("non-UTF-8 body as base64");
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("b64"),
        non_utf8
    );
    assert!(h.events().is_empty());
    // The same bad payload redelivered is a duplicate, not a second dead letter.
    assert_answer(
        h.post(
            "/webhooks/savanto",
            &[("x-webhook-signature", &signed(&malformed))],
            malformed,
        )
        .await,
        StatusCode::OK,
        "duplicate",
    );
    assert_eq!(h.dead_letters().len(), 4);
}

#[tokio::test]
async fn limits_routes_and_methods() {
    let h = Harness::with_limits(&all_providers_config(), 1024);
    let big = vec![b'a'; 2048];
    assert_answer(
        h.post(
            "/webhooks/savanto",
            &[("x-webhook-signature", &signed(&big))],
            big.clone(),
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    // Without a content-length (streamed), the limit still holds.
    let stream = Body::from_stream(futures_util_stream(big));
    let req = Request::post("/webhooks/savanto")
        .body(stream)
        .expect("req");
    let get = |path: &str| Request::get(path).body(Body::empty()).expect("req");
    let (s, j, _) = h.send(req).await;
    assert_answer((s, j), StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_answer(
        h.post("/webhooks/nope", &[], "{}").await,
        StatusCode::NOT_FOUND,
        "unknown_source",
    );
    let (s, j, _) = h.send(get("/webhooks/savanto")).await;
    assert_answer((s, j), StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let (s, j, _) = h.send(get("/elsewhere")).await;
    assert_answer((s, j), StatusCode::NOT_FOUND, "not_found");
    let (s, j, _) = h.send(get("/healthz")).await;
    assert_answer((s, j), StatusCode::OK, "ok");
    assert!(h.events().is_empty() && h.dead_letters().is_empty());
}

fn futures_util_stream(
    data: Vec<u8>,
) -> impl futures_core::Stream<Item = Result<bytes::Bytes, std::io::Error>> {
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = data
        .chunks(256)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    tokio_stream::iter(chunks)
}

#[tokio::test]
async fn request_ids_are_kept_or_made_and_echoed() {
    let h = Harness::new(&all_providers_config());
    let req = Request::get("/healthz")
        .header("x-request-id", "req-abc-123")
        .body(Body::empty())
        .expect("req");
    let (_, _, headers) = h.send(req).await;
    assert_eq!(
        headers.get("x-request-id").and_then(|v| v.to_str().ok()),
        Some("req-abc-123")
    );
    let (_, _, headers) = h
        .send(
            Request::post("/webhooks/nope")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    let made = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert_eq!(
        made.len(),
        36,
        "a UUID is made when the caller sent none: {made:?}"
    );
}

#[tokio::test]
async fn ping_is_ignored_and_not_written() {
    let h = Harness::new(&all_providers_config());
    let case = fixture_case("aisoule", "ping");
    let (s, j, _) = h.send(request("/webhooks/aisoule", &case)).await;
    assert_eq!((s, j["status"].as_str()), (StatusCode::OK, Some("ignored")));
    assert!(h.events().is_empty() && h.dead_letters().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_copies_of_one_delivery_are_written_once() {
    let h = std::sync::Arc::new(Harness::new(&all_providers_config()));
    let case = fixture_case("aisoule", "message-incoming");
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let h = h.clone();
        let case = case.clone();
        tasks.push(tokio::spawn(async move {
            h.send(request("/webhooks/aisoule", &case)).await
        }));
    }
    let mut statuses = std::collections::BTreeMap::new();
    for t in tasks {
        let (s, j, _) = t.await.expect("task");
        assert_eq!(s, StatusCode::OK, "{j}");
        *statuses
            .entry(j["status"].as_str().unwrap_or("?").to_owned())
            .or_insert(0) += 1;
    }
    assert_eq!(statuses.get("accepted"), Some(&1), "{statuses:?}");
    assert_eq!(statuses.get("duplicate"), Some(&49), "{statuses:?}");
    assert_eq!(h.events().len(), 1);
}
