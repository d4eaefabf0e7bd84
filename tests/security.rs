//! The security review's findings, each reproduced through the real router: the
//! unsigned headers of GitHub and Shopify, the pre-authentication budget, checks
//! made before the body is read, and request ids unfit for a log line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};

use hookgate::fixture::FIXTURE_SECRET;

mod common;
use common::*;

fn signed_sources() -> String {
    let mut c = String::new();
    for p in ["github", "shopify"] {
        c.push_str(&format!(
            "[[source]]\nid = \"{p}\"\nprovider = \"{p}\"\nsecrets = [\"{FIXTURE_SECRET}\"]\n\n"
        ));
    }
    c
}

/// The fixture's request with some headers replaced, as an attacker holding one
/// captured delivery would send it (the body, and so the signature, unchanged).
fn relabelled(case: &hookgate::fixture::Case, path: &str, set: &[(&str, &str)]) -> Request<Body> {
    let mut headers = case.headers.clone();
    for (k, v) in set {
        headers.insert(
            axum::http::HeaderName::try_from(*k).unwrap(),
            v.parse().unwrap(),
        );
    }
    let mut b = Request::post(path);
    for (k, v) in &headers {
        b = b.header(k, v);
    }
    b.body(Body::from(case.body.clone())).unwrap()
}

#[tokio::test]
async fn a_github_delivery_replayed_with_a_fresh_delivery_id_is_a_duplicate() {
    let h = Harness::new(&signed_sources());
    let case = fixture_case("github", "issues-opened");
    let (s, first, _) = h.send(request("/webhooks/github", &case)).await;
    assert_eq!(
        (s, first["status"].as_str()),
        (StatusCode::OK, Some("accepted"))
    );
    for n in 0..3 {
        let fresh = format!("00000000-0000-0000-0000-00000000000{n}");
        let (s, j, _) = h
            .send(relabelled(
                &case,
                "/webhooks/github",
                &[("x-github-delivery", &fresh)],
            ))
            .await;
        assert_eq!(
            (s, j["status"].as_str()),
            (StatusCode::OK, Some("duplicate")),
            "{j}"
        );
        assert_eq!(j["id"], first["id"]);
    }
    assert_eq!(h.events().len(), 1);
}

#[tokio::test]
async fn a_github_body_relabelled_through_its_unsigned_event_header_is_dead_lettered() {
    let h = Harness::new(&signed_sources());
    // GitHub signs an `issue_comment` delivery whose action is `edited`. Relabelled
    // `issues`, it would become `issues.edited`, a mapped type: `requires` sees a
    // comment in the body and refuses.
    let comment = fixture_case("github", "issue-comment-created");
    let body = String::from_utf8(comment.body.to_vec())
        .unwrap()
        .replace(r#""action": "created""#, r#""action": "edited""#);
    assert!(body.contains(r#""action": "edited""#));
    let signature = format!(
        "sha256={}",
        hmac_hex("sha256", FIXTURE_SECRET.as_bytes(), body.as_bytes())
    );
    let h = &h;
    let send = |event: &'static str| {
        let (body, signature) = (body.clone(), signature.clone());
        async move {
            h.post(
                "/webhooks/github",
                &[
                    ("content-type", "application/json"),
                    ("x-github-event", event),
                    ("x-hub-signature-256", &signature),
                ],
                body,
            )
            .await
        }
    };
    let (s, j) = send("issues").await;
    assert_eq!(
        (s, j["status"].as_str(), j["reason"].as_str()),
        (StatusCode::OK, Some("dead_lettered"), Some("type_mismatch")),
        "{j}"
    );
    assert!(h.events().is_empty());
    let dead = h.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["providereventtype"], "issues.edited");
    assert!(
        dead[0]["detail"].as_str().unwrap().contains("requires"),
        "{}",
        dead[0]
    );
    // Labelled truthfully it is an unmapped type: the same body, so the same
    // dead letter (a duplicate of it), and still no event.
    let (_, j) = send("issue_comment").await;
    assert_eq!(j["status"], "duplicate", "{j}");
    assert!(h.events().is_empty());
    // And an issue labelled as a comment is never accepted either.
    let issue = fixture_case("github", "issues-opened");
    let (_, j, _) = h
        .send(relabelled(
            &issue,
            "/webhooks/github",
            &[("x-github-event", "issue_comment")],
        ))
        .await;
    assert_eq!(j["status"], "dead_lettered", "{j}");
    assert!(h.events().is_empty());
}

#[tokio::test]
async fn a_shopify_order_relabelled_as_a_customer_is_dead_lettered_and_headers_set_nothing() {
    let h = Harness::new(&signed_sources());
    let order = fixture_case("shopify", "orders-create-is-dead-lettered");
    let (s, j, _) = h
        .send(relabelled(
            &order,
            "/webhooks/shopify",
            &[("x-shopify-topic", "customers/create")],
        ))
        .await;
    assert_eq!(
        (s, j["status"].as_str(), j["reason"].as_str()),
        (StatusCode::OK, Some("dead_lettered"), Some("type_mismatch")),
        "{j}"
    );
    assert!(h.events().is_empty(), "no contact.created from an order");

    // A customer with another shop, a fresh event id and a fresh time in the
    // unsigned headers: none of them reaches the event, and the replay is a duplicate.
    let customer = fixture_case("shopify", "customers-create");
    let (_, first, _) = h.send(request("/webhooks/shopify", &customer)).await;
    assert_eq!(first["status"], "accepted", "{first}");
    let (_, again, _) = h
        .send(relabelled(
            &customer,
            "/webhooks/shopify",
            &[
                ("x-shopify-shop-domain", "victim.myshopify.com"),
                ("x-shopify-event-id", "11111111-2222-3333-4444-555555555555"),
                ("x-shopify-triggered-at", "2099-01-01T00:00:00Z"),
            ],
        ))
        .await;
    assert_eq!(again["status"], "duplicate", "{again}");
    let events = h.events();
    assert_eq!(events.len(), 1);
    assert!(events[0].get("tenant").is_none(), "{}", events[0]);
    assert_eq!(
        events[0]["time"], "2026-01-01T05:00:00Z",
        "the body's updated_at"
    );
}

#[tokio::test]
async fn a_source_tenant_is_set_from_configuration() {
    let h = Harness::new(&format!(
        "[[source]]\nid = \"shopify\"\nprovider = \"shopify\"\nsecrets = [\"{FIXTURE_SECRET}\"]\ntenant = \"acme.myshopify.com\"\n"
    ));
    let customer = fixture_case("shopify", "customers-create");
    let (_, j, _) = h
        .send(relabelled(
            &customer,
            "/webhooks/shopify",
            &[("x-shopify-shop-domain", "victim.myshopify.com")],
        ))
        .await;
    assert_eq!(j["status"], "accepted", "{j}");
    assert_eq!(h.events()[0]["tenant"], "acme.myshopify.com");
}

const TOKEN: &str = "right-token-0123456789";

fn magalu_body(n: u32) -> String {
    format!(
        r#"{{"data":{{"status":"CREATION","params":{{"id":"t{n}"}},"resource":"/v0/tickets/t{n}"}},"tenant_id":"x","topic":"sac_ticket"}}"#
    )
}

#[tokio::test]
async fn a_flood_of_wrong_tokens_does_not_spend_the_sources_budget() {
    let h = Harness::new(&format!(
        "[[source]]\nid = \"m\"\nprovider = \"magalu-sac\"\ntoken = \"{TOKEN}\"\nrate_limit = {{ per_second = 1, burst = 2 }}\n"
    ));
    for n in 0..50 {
        assert_answer(
            h.post("/webhooks/m/wrong-token-0123456789", &[], magalu_body(n))
                .await,
            StatusCode::UNAUTHORIZED,
            "bad_token",
        );
    }
    assert_answer(
        h.post(&format!("/webhooks/m/{TOKEN}"), &[], magalu_body(100))
            .await,
        StatusCode::OK,
        "accepted",
    );
    assert_eq!(h.events().len(), 1);
}

#[tokio::test]
async fn forged_signatures_spend_only_the_unverified_budget() {
    // Authenticated: 1/s, burst 2. Unverified (pre-signature): 20/s, burst 5.
    let h = Harness::new(&format!(
        "[[source]]\nid = \"savanto\"\nprovider = \"savanto\"\nsecrets = [\"{FIXTURE_SECRET}\"]\n\
         rate_limit = {{ per_second = 1, burst = 2, unverified_per_second = 20, unverified_burst = 5 }}\n"
    ));
    let case = fixture_case("savanto", "product-created");
    let forged = || {
        Request::post("/webhooks/savanto")
            .header("x-webhook-signature", format!("sha256={}", "0".repeat(64)))
            .body(Body::from(case.body.clone()))
            .unwrap()
    };
    for _ in 0..4 {
        let (s, j, _) = h.send(forged()).await;
        assert_eq!(
            (s, j["reason"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("signature_mismatch"))
        );
    }
    // The forgeries spent 4 of the 5 unverified tokens and none of the authentic ones.
    let (s, j, _) = h.send(request("/webhooks/savanto", &case)).await;
    assert_eq!(
        (s, j["status"].as_str()),
        (StatusCode::OK, Some("accepted")),
        "{j}"
    );
    // Past the unverified burst, even a forgery is refused before its body is read.
    let (s, j, _) = h.send(forged()).await;
    assert_eq!(
        (s, j["error"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"))
    );
}

/// Meta's GET handshake compares a token before any signature: it spends the
/// source's unverified budget, so a flood guessing the token gets 429s.
#[tokio::test]
async fn a_flood_of_handshakes_spends_the_unverified_budget() {
    let h = Harness::new(&format!(
        "[[source]]\nid = \"wa\"\nprovider = \"whatsapp-cloud\"\nsecrets = [\"{FIXTURE_SECRET}\"]\n\
         verify_token = \"meta-verify-token-0123\"\n\
         rate_limit = {{ per_second = 1, burst = 2, unverified_per_second = 1, unverified_burst = 3 }}\n"
    ));
    let get = |token: &str| {
        Request::get(format!(
            "/webhooks/wa?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=42"
        ))
        .body(Body::empty())
        .unwrap()
    };
    let (s, j, _) = h.send(get("meta-verify-token-0123")).await;
    assert_eq!((s, j.to_string()), (StatusCode::OK, "42".to_owned()));
    for n in 0..2 {
        let (s, _, _) = h.send(get(&format!("guess-{n}"))).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    // The burst of 3 is spent: even the right token waits now.
    for token in ["guess-3", "meta-verify-token-0123"] {
        let (s, j, headers) = h.send(get(token)).await;
        assert_eq!(
            (s, j["error"].as_str()),
            (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")),
            "{token}: {j}"
        );
        assert!(headers.contains_key("retry-after"));
    }
}

/// A body that never finishes: whoever reads it waits for the read timeout.
fn endless_body() -> Body {
    let stream = futures_stream_pending();
    Body::from_stream(stream)
}

fn futures_stream_pending(
) -> impl futures_core::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static {
    tokio_stream::pending()
}

#[tokio::test]
async fn body_free_checks_answer_before_the_body_is_read() {
    let h = Harness::new(&format!(
        "[[source]]\nid = \"m\"\nprovider = \"magalu-sac\"\ntoken = \"{TOKEN}\"\n\n\
         [[source]]\nid = \"b\"\nprovider = \"magalu-sac\"\nbasic_auth = {{ username = \"u\", password = \"p\" }}\n\n\
         [[source]]\nid = \"ip\"\nprovider = \"magalu-sac\"\nallow_ips = [\"174.138.104.128/32\"]\n"
    ));
    for (path, reason) in [
        ("/webhooks/m/wrong-token-0123456789".to_owned(), "bad_token"),
        ("/webhooks/m".to_owned(), "bad_token"),
        ("/webhooks/b".to_owned(), "bad_credentials"),
        ("/webhooks/ip".to_owned(), "address_not_allowed"),
    ] {
        let req = Request::post(path.as_str())
            .header("content-length", "1048000")
            .body(endless_body())
            .unwrap();
        // The body never comes: a server that read it would answer 408 once the
        // harness's 5 s read timeout ran out, so the 401 with its reason below is
        // the proof it was not read (the bound here only stops a hung test).
        let (s, j, _) = tokio::time::timeout(Duration::from_secs(60), h.send(req))
            .await
            .unwrap_or_else(|_| panic!("{path}: no answer"));
        assert_eq!(
            (s, j["reason"].as_str()),
            (StatusCode::UNAUTHORIZED, Some(reason)),
            "{path}"
        );
    }
}

#[tokio::test]
async fn request_ids_unfit_for_a_log_line_are_replaced() {
    let h = Harness::new("");
    let long = "a".repeat(129);
    for bad in ["forged\tline", long.as_str(), "é-not-ascii"] {
        let req = Request::get("/healthz")
            .header(
                "x-request-id",
                axum::http::HeaderValue::from_bytes(bad.as_bytes()).unwrap(),
            )
            .body(Body::empty())
            .unwrap();
        let (s, _, headers) = h.send(req).await;
        assert_eq!(s, StatusCode::OK);
        let echoed = headers["x-request-id"].to_str().unwrap();
        assert_ne!(echoed, bad);
        assert!(
            uuid::Uuid::parse_str(echoed).is_ok(),
            "a fresh id: {echoed}"
        );
    }
    let ok = "provider-req_123:abc";
    let (_, _, headers) = h
        .send(
            Request::get("/healthz")
                .header("x-request-id", ok)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(headers["x-request-id"], ok);
}
