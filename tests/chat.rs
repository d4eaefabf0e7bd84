//! The chat platforms through the real router: every fixture of the batched and
//! form-encoded providers, Discord's PING and deferred answers, and each bad input
//! the issue lists (a 401 with its reason, never a panic). Signatures here are made
//! with the `ed25519-dalek` and `hmac` crates directly, and JWTs are assembled by
//! hand, not with hookgate's signers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use base64::Engine as _;
use ed25519_dalek::Signer;
use hmac::Mac;
use serde_json::{json, Value};
use sha2::Digest;

use hookgate::config::Loaded;
use hookgate::fixture::{FIXTURE_ED25519_PUBLIC, FIXTURE_ED25519_SEED, FIXTURE_SECRET};

mod common;
use common::*;

const TWILIO_URL: &str = "https://hooks.example.com/hooks/twilio";

fn config() -> String {
    let whsec = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(FIXTURE_SECRET)
    );
    let whpk = format!(
        "whpk_{}",
        base64::engine::general_purpose::STANDARD
            .encode(hex::decode(FIXTURE_ED25519_PUBLIC).unwrap())
    );
    let mut c = String::new();
    for p in ["whatsapp-cloud", "messenger", "line", "viber", "vonage"] {
        c.push_str(&format!(
            "[[source]]\nid = \"{p}\"\nprovider = \"{p}\"\nsecrets = [\"{FIXTURE_SECRET}\"]\n\n"
        ));
    }
    c.push_str(&format!(
        "[[source]]\nid = \"line-small\"\nprovider = \"line\"\nsecrets = [\"{FIXTURE_SECRET}\"]\nmax_batch_items = 2\n\n\
         [[source]]\nid = \"twilio\"\nprovider = \"twilio\"\nsecrets = [\"{FIXTURE_SECRET}\"]\npublic_url = \"{TWILIO_URL}\"\n\n\
         [[source]]\nid = \"discord\"\nprovider = \"discord\"\npublic_keys = [\"{FIXTURE_ED25519_PUBLIC}\"]\n\n\
         [[source]]\nid = \"std\"\nprovider = \"standard-webhooks\"\nsecrets = [\"{whsec}\"]\npublic_keys = [\"{whpk}\"]\n\n\
         [[source]]\nid = \"std-v1a-only\"\nprovider = \"standard-webhooks\"\npublic_keys = [\"{whpk}\"]\n"
    ));
    c
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn signing_key() -> ed25519_dalek::SigningKey {
    let seed: [u8; 32] = hex::decode(FIXTURE_ED25519_SEED)
        .unwrap()
        .try_into()
        .unwrap();
    ed25519_dalek::SigningKey::from_bytes(&seed)
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

#[tokio::test]
async fn every_chat_fixture_through_the_router() {
    let mut total = 0;
    for provider in ["whatsapp-cloud", "messenger", "line", "viber", "twilio"] {
        for case in hookgate::fixture::load_cases(&fixtures_root(), provider).unwrap() {
            // A gateway per case: cases of one provider share ids on purpose (the
            // batch repeats single deliveries), which one gateway would answer as
            // duplicates.
            let h = Harness::new(&config());
            let want = case.expected.clone().unwrap();
            let (s, j, _) = h
                .send(request(&format!("/webhooks/{provider}"), &case))
                .await;
            assert_eq!(s, StatusCode::OK, "{provider}/{}: {j}", case.name);
            assert_eq!(j["status"], want["status"], "{provider}/{}: {j}", case.name);
            assert_eq!(statuses(&j), statuses(&want), "{provider}/{}", case.name);
            let all = if want["status"] == "batch" {
                want["events"].as_array().unwrap().clone()
            } else {
                vec![want.clone()]
            };
            // Each written event is the fixture's, in the delivery's order.
            let written: Vec<Value> = h.events();
            let wanted: Vec<&Value> = all.iter().filter(|e| e["status"] == "accepted").collect();
            assert_eq!(written.len(), wanted.len(), "{provider}/{}", case.name);
            for (w, e) in wanted.iter().zip(&written) {
                assert_eq!(w["event"]["id"], e["id"], "{provider}/{}", case.name);
            }
            let dead = all
                .iter()
                .filter(|e| e["status"] == "dead_lettered")
                .count();
            assert_eq!(h.dead_letters().len(), dead, "{provider}/{}", case.name);
            total += written.len();
            // A dead-lettered item keeps its index and the whole raw body.
            if case.name == "batch-message-follow-unfollow" {
                let dl = &h.dead_letters()[0];
                assert_eq!(dl["item"], 2, "{dl}");
                assert_eq!(dl["reason"], "unknown_event_type");
                assert_eq!(dl["body"].as_str().map(str::as_bytes), Some(&case.body[..]));
            }
        }
    }
    assert!(total >= 35, "{total}");
}

#[tokio::test]
async fn a_retried_batch_is_all_duplicates_and_an_empty_batch_writes_nothing() {
    let h = Harness::new(&config());
    let case = fixture_case("line", "batch-message-follow-unfollow");
    let (s, first, _) = h.send(request("/webhooks/line", &case)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(statuses(&first), ["accepted", "accepted", "dead_lettered"]);
    let (s, again, _) = h.send(request("/webhooks/line", &case)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(statuses(&again), ["duplicate", "duplicate", "duplicate"]);
    assert_eq!((h.events().len(), h.dead_letters().len()), (2, 1));

    let empty = fixture_case("line", "verify-empty-events");
    let (s, j, _) = h.send(request("/webhooks/line", &empty)).await;
    assert_eq!(
        (s, j),
        (StatusCode::OK, json!({"status": "batch", "events": []}))
    );
    assert_eq!((h.events().len(), h.dead_letters().len()), (2, 1));
}

fn line_post(body: &[u8]) -> Vec<(String, String)> {
    vec![(
        "x-line-signature".into(),
        base64::engine::general_purpose::STANDARD
            .encode(hmac_sha256(FIXTURE_SECRET.as_bytes(), body)),
    )]
}

#[tokio::test]
async fn batches_over_the_limit_and_repeated_ids() {
    let h = Harness::new(&config());
    let ev = |id: &str| {
        json!({"type": "message", "webhookEventId": id, "timestamp": 1767225600000u64,
               "source": {"type": "user", "userId": "U2"}, "message": {"type": "text", "id": id, "text": "hi"}})
    };
    // Over the source's max_batch_items: dead-lettered whole, nothing of it delivered.
    let three = serde_json::to_vec(
        &json!({"destination": "U1", "events": [ev("01A"), ev("01B"), ev("01C")]}),
    )
    .unwrap();
    let (s, j) = post_owned(
        &h,
        "/webhooks/line-small",
        &line_post(&three),
        three.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(
        (j["status"].as_str(), j["reason"].as_str()),
        (Some("dead_lettered"), Some("batch_too_large")),
        "{j}"
    );
    assert_eq!(h.events().len(), 0);
    let dl = h.dead_letters();
    assert_eq!(dl.len(), 1);
    assert_eq!(
        dl[0]["body"].as_str().map(str::as_bytes),
        Some(&three[..]),
        "the whole raw body is kept: {}",
        dl[0]
    );
    // Items repeating an id: one event.
    let twice = serde_json::to_vec(&json!({"destination": "U1", "events": [ev("01D"), ev("01D")]}))
        .unwrap();
    let (s, j) = post_owned(&h, "/webhooks/line", &line_post(&twice), twice).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(statuses(&j), ["accepted", "duplicate"]);
    assert_eq!(h.events().len(), 1);
}

fn discord_headers(body: &[u8], ts: i64, key: &ed25519_dalek::SigningKey) -> Vec<(String, String)> {
    let mut msg = ts.to_string().into_bytes();
    msg.extend_from_slice(body);
    vec![
        ("x-signature-timestamp".into(), ts.to_string()),
        (
            "x-signature-ed25519".into(),
            hex::encode(key.sign(&msg).to_bytes()),
        ),
        ("content-type".into(), "application/json".into()),
    ]
}

#[tokio::test]
async fn discord_ping_commands_and_components_get_discord_answers() {
    let h = Harness::new(&config());
    let key = signing_key();
    let ping = br#"{"id":"1","token":"t","type":1,"version":1}"#.to_vec();
    let (s, j) = post_owned(
        &h,
        "/webhooks/discord",
        &discord_headers(&ping, now(), &key),
        ping,
    )
    .await;
    assert_eq!((s, j), (StatusCode::OK, json!({"type": 1})));
    assert_eq!(h.events().len(), 0, "a PING is answered, not forwarded");

    let command = std::fs::read(
        fixture_case("discord", "slash-command")
            .dir
            .join("body.json"),
    )
    .unwrap();
    let (s, j) = post_owned(
        &h,
        "/webhooks/discord",
        &discord_headers(&command, now(), &key),
        command.clone(),
    )
    .await;
    assert_eq!(
        (s, j),
        (StatusCode::OK, json!({"type": 5})),
        "deferred channel message"
    );
    // A second delivery of the same interaction is a duplicate, answered the same way.
    let (s, j) = post_owned(
        &h,
        "/webhooks/discord",
        &discord_headers(&command, now(), &key),
        command,
    )
    .await;
    assert_eq!((s, j), (StatusCode::OK, json!({"type": 5})));
    let component = br#"{"id":"787053080478613556","token":"tok","type":3,"version":1,"channel_id":"6450","user":{"id":"5390"},"data":{"custom_id":"buy","component_type":2}}"#.to_vec();
    let (s, j) = post_owned(
        &h,
        "/webhooks/discord",
        &discord_headers(&component, now(), &key),
        component,
    )
    .await;
    assert_eq!(
        (s, j),
        (StatusCode::OK, json!({"type": 6})),
        "deferred update"
    );
    let events = h.events();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0]["data"]["message"]["attributes"]["interaction_token"],
        "A_UNIQUE_TOKEN"
    );
}

#[tokio::test]
async fn bad_ed25519_signatures_are_refused_with_their_reason() {
    let h = Harness::new(&config());
    let key = signing_key();
    let body = br#"{"id":"2","token":"t","type":1,"version":1}"#.to_vec();
    let good = discord_headers(&body, now(), &key);
    let with_sig = |sig: String| {
        let mut hs = good.clone();
        hs[1].1 = sig;
        hs
    };
    let other = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    for (what, headers, reason) in [
        (
            "63 bytes",
            with_sig(hex::encode([1u8; 63])),
            "malformed_signature",
        ),
        (
            "65 bytes",
            with_sig(hex::encode([1u8; 65])),
            "malformed_signature",
        ),
        ("not hex", with_sig("zz".repeat(64)), "malformed_signature"),
        ("empty", with_sig(String::new()), "malformed_signature"),
        (
            "another key",
            discord_headers(&body, now(), &other),
            "signature_mismatch",
        ),
        (
            "stale",
            discord_headers(&body, now() - 900, &key),
            "timestamp_out_of_tolerance",
        ),
    ] {
        let (s, j) = post_owned(&h, "/webhooks/discord", &headers, body.clone()).await;
        assert_eq!(
            (s, j["reason"].as_str()),
            (StatusCode::UNAUTHORIZED, Some(reason)),
            "{what}: {j}"
        );
    }
    // Another body under a good signature.
    assert_answer(
        post_owned(
            &h,
            "/webhooks/discord",
            &good,
            br#"{"id":"3","type":1}"#.to_vec(),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "signature_mismatch",
    );
    // No signature header at all.
    assert_answer(
        h.post("/webhooks/discord", &[], body.clone()).await,
        StatusCode::UNAUTHORIZED,
        "missing_signature",
    );
}

fn std_headers(id: &str, ts: i64, body: &[u8], v1: bool, v1a: bool) -> Vec<(String, String)> {
    let signed = [id.as_bytes(), b".", ts.to_string().as_bytes(), b".", body].concat();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut sigs = Vec::new();
    if v1 {
        sigs.push(format!(
            "v1,{}",
            b64.encode(hmac_sha256(FIXTURE_SECRET.as_bytes(), &signed))
        ));
    }
    if v1a {
        sigs.push(format!(
            "v1a,{}",
            b64.encode(signing_key().sign(&signed).to_bytes())
        ));
    }
    vec![
        ("webhook-id".into(), id.into()),
        ("webhook-timestamp".into(), ts.to_string()),
        ("webhook-signature".into(), sigs.join(" ")),
    ]
}

#[tokio::test]
async fn standard_webhooks_v1a_beside_v1() {
    let h = Harness::new(&config());
    let body = |id: &str| {
        serde_json::to_vec(
            &json!({"type": "message.created", "timestamp": "2026-01-01T00:00:00Z",
            "data": {"message": {"id": id, "conversation_id": "c1", "direction": "inbound",
                                 "content": {"type": "text", "text": "hi"}}}}),
        )
        .unwrap()
    };
    for (n, (v1, v1a)) in [(true, false), (false, true), (true, true)]
        .into_iter()
        .enumerate()
    {
        let id = format!("msg_std_{n}");
        let b = body(&id);
        let (s, j) = post_owned(
            &h,
            "/webhooks/std",
            &std_headers(&id, now(), &b, v1, v1a),
            b,
        )
        .await;
        assert_eq!(
            (s, j["status"].as_str()),
            (StatusCode::OK, Some("accepted")),
            "v1={v1} v1a={v1a}: {j}"
        );
    }
    // A source with only the public key refuses an HMAC-only signature.
    let b = body("msg_std_3");
    let (s, j) = post_owned(
        &h,
        "/webhooks/std-v1a-only",
        &std_headers("msg_std_3", now(), &b, true, false),
        b.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{j}");
    let (s, _) = post_owned(
        &h,
        "/webhooks/std-v1a-only",
        &std_headers("msg_std_3", now(), &b, false, true),
        b,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h.events().len(), 4);
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWT assembled by hand: `header.claims.signature` (HMAC-SHA256 over the first two).
fn jwt(header: &Value, claims: &Value, key: &[u8]) -> String {
    let head = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    format!("{head}.{}", b64url(&hmac_sha256(key, head.as_bytes())))
}

fn vonage_claims(body: &[u8], iat: i64) -> Value {
    json!({"iat": iat, "jti": format!("jti-{iat}"), "iss": "Vonage", "api_key": "a1b2c3d",
           "payload_hash": hex::encode(sha2::Sha256::digest(body))})
}

#[tokio::test]
async fn vonage_jwts_that_are_not_hs256_over_this_body_are_refused() {
    let h = Harness::new(&config());
    let key = FIXTURE_SECRET.as_bytes();
    let body = br#"{"channel":"sms","message_uuid":"u-1","to":"447700900000","from":"447700900001","timestamp":"2026-01-01T00:00:00Z","message_type":"text","text":"hi"}"#.to_vec();
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});
    let bearer = |t: String| {
        vec![
            ("authorization".to_owned(), format!("Bearer {t}")),
            ("content-type".into(), "application/json".into()),
        ]
    };
    let good = jwt(&hs256, &vonage_claims(&body, now()), key);
    let (s, j) = post_owned(&h, "/webhooks/vonage", &bearer(good), body.clone()).await;
    assert_eq!(
        (s, j["status"].as_str()),
        (StatusCode::OK, Some("accepted")),
        "{j}"
    );

    let unsigned = format!(
        "{}.{}.",
        b64url(br#"{"alg":"none","typ":"JWT"}"#),
        b64url(vonage_claims(&body, now()).to_string().as_bytes())
    );
    let rs256 = jwt(
        &json!({"alg": "RS256", "typ": "JWT"}),
        &vonage_claims(&body, now()),
        key,
    );
    // Vonage's window is a day (a retry after an outage may carry its first token).
    let mut expired_claims = vonage_claims(&body, now() - 3 * 86_400);
    expired_claims["exp"] = json!(now() - 2 * 86_400);
    let expired = jwt(&hs256, &expired_claims, key);
    let other_body = jwt(&hs256, &vonage_claims(b"{\"other\":true}", now()), key);
    let other_key = jwt(
        &hs256,
        &vonage_claims(&body, now()),
        b"another-signature-secret-0123",
    );
    let mut wrong_iss = vonage_claims(&body, now());
    wrong_iss["iss"] = json!("Mallory");
    let wrong_iss = jwt(&hs256, &wrong_iss, key);
    for (what, token, reason) in [
        ("alg none", unsigned, "malformed_signature"),
        ("RS256", rs256, "malformed_signature"),
        ("expired", expired, "timestamp_out_of_tolerance"),
        (
            "payload_hash of another body",
            other_body,
            "body_hash_mismatch",
        ),
        ("another key", other_key, "signature_mismatch"),
        ("another issuer", wrong_iss, "signature_mismatch"),
        ("garbage", "a.b.c".to_owned(), "malformed_signature"),
    ] {
        let (s, j) = post_owned(&h, "/webhooks/vonage", &bearer(token), body.clone()).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{what}: {j}");
        assert_eq!(j["reason"].as_str(), Some(reason), "{what}: {j}");
    }
    assert_answer(
        h.post("/webhooks/vonage", &[], body).await,
        StatusCode::UNAUTHORIZED,
        "missing_signature",
    );
    assert_eq!(h.events().len(), 1);
}

/// Twilio's signature, computed as its SDKs do: URL, then each field sorted by name.
fn twilio_sig(url: &str, fields: &[(&str, &str)]) -> String {
    let mut sorted = fields.to_vec();
    sorted.sort();
    let mut s = url.to_owned();
    for (k, v) in sorted {
        s.push_str(k);
        s.push_str(v);
    }
    let mut m = hmac::Hmac::<sha1::Sha1>::new_from_slice(FIXTURE_SECRET.as_bytes()).unwrap();
    m.update(s.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
}

#[tokio::test]
async fn twilio_forms_signed_over_another_url_or_badly_encoded_are_refused() {
    let h = Harness::new(&config());
    const SM: &str = "SM1342fe1b2c904d1ab04f0fc7a58abca9";
    const MG: &str = "MG9752274e9e519418a7406176694466fa";
    const AC: &str = "AC00000000000000000000000000000001";
    let fields = [
        ("MessageSid", SM),
        ("SmsStatus", "received"),
        ("Body", "Hi & bye"),
        ("From", "+15558675310"),
        ("To", "+15017250604"),
        ("AccountSid", AC),
        ("MessagingServiceSid", MG),
    ];
    let body = format!("MessageSid={SM}&MessagingServiceSid={MG}&SmsStatus=received&Body=Hi+%26+bye&From=%2B15558675310&To=%2B15017250604&AccountSid={AC}");
    let body = body.as_str();
    // A form post to `path` under `signature`.
    let post = |path: &'static str, signature: String, body: String| {
        let headers = vec![
            (
                "content-type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ),
            ("x-twilio-signature".to_owned(), signature),
        ];
        let h = &h;
        async move { post_owned(h, path, &headers, body.into_bytes()).await }
    };
    let signed = twilio_sig(TWILIO_URL, &fields);
    assert_answer(
        post("/webhooks/twilio", signed.clone(), body.to_owned()).await,
        StatusCode::OK,
        "accepted",
    );
    assert_eq!(
        h.events()[0]["data"]["message"]["content"]["text"],
        "Hi & bye"
    );

    // Twilio signs name+value without separators: a field boundary moved keeps the
    // signature. The longer MessageSid is not a Twilio id, so no new event comes of it.
    let shifted = body.replace("&MessagingServiceSid=", "MessagingServiceSid");
    let long_sid = format!("{SM}MessagingServiceSid{MG}");
    let shifted_fields = [
        ("MessageSid", long_sid.as_str()),
        ("SmsStatus", "received"),
        ("Body", "Hi & bye"),
        ("From", "+15558675310"),
        ("To", "+15017250604"),
        ("AccountSid", AC),
    ];
    let shifted_sig = twilio_sig(TWILIO_URL, &shifted_fields);
    assert_eq!(shifted_sig, signed, "the same signed string");
    let (s, j) = post("/webhooks/twilio", shifted_sig, shifted).await;
    assert_eq!(
        (s, j["status"].as_str(), j["reason"].as_str()),
        (StatusCode::OK, Some("dead_lettered"), Some("type_mismatch")),
        "{j}"
    );

    let elsewhere = twilio_sig("https://hooks.example.com/hooks/other", &fields);
    assert_answer(
        post("/webhooks/twilio", elsewhere, body.to_owned()).await,
        StatusCode::UNAUTHORIZED,
        "signature_mismatch",
    );
    // A query the provider did not sign (it is part of the signed URL).
    assert_answer(
        post("/webhooks/twilio?x=1", signed, body.to_owned()).await,
        StatusCode::UNAUTHORIZED,
        "signature_mismatch",
    );
    let bad = "MessageSid=SM0002&Body=100%zz";
    assert_answer(
        post(
            "/webhooks/twilio",
            twilio_sig(TWILIO_URL, &[]),
            bad.to_owned(),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "malformed_body",
    );
    assert_eq!(h.events().len(), 1);
}

/// The fixture's headers, with another body under the fixture's signature.
fn fixture_headers(case: &hookgate::fixture::Case) -> Vec<(String, String)> {
    case.headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn a_twilio_field_boundary_moved_over_a_required_field_is_a_dead_letter() {
    // Twilio signs `name`+`value` with no separators: `Body` can swallow the `From`
    // that follows it in sorted order, and the signature still matches.
    let case = fixture_case("twilio", "inbound-sms");
    let body = std::str::from_utf8(&case.body).unwrap();
    let moved = body.replace("&From=%2B15558675310", "").replace(
        "Body=Hello+from+SMS",
        "Body=Hello+from+SMSFrom%2B15558675310",
    );
    assert_ne!(moved, body);
    let fields = |b: &str| -> Vec<(String, String)> {
        // The fixture encodes only spaces and `+` (`%2B`).
        let dec = |x: &str| x.replace('+', " ").replace("%2B", "+");
        b.split('&')
            .map(|kv| kv.split_once('=').unwrap())
            .map(|(k, v)| (dec(k), dec(v)))
            .collect()
    };
    let sig = |f: &[(String, String)]| {
        let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        twilio_sig(TWILIO_URL, &refs)
    };
    assert_eq!(
        sig(&fields(&moved)),
        sig(&fields(body)),
        "the same signed string"
    );
    let h = Harness::new(&config());
    let (s, j) = post_owned(
        &h,
        "/webhooks/twilio",
        &fixture_headers(&case),
        moved.into_bytes(),
    )
    .await;
    assert_eq!(
        (s, j["status"].as_str(), j["reason"].as_str()),
        (StatusCode::OK, Some("dead_lettered"), Some("type_mismatch")),
        "{j}"
    );
    assert!(h.events().is_empty());
    let dl = &h.dead_letters()[0];
    assert_eq!(dl["reason"], "type_mismatch", "{dl}");
    assert_eq!(dl["providereventtype"], "received", "{dl}");
    // Other variants of the same signed delivery (the sender swallowed by the body
    // at another place, a field percent-encoded differently) are new bodies but the
    // same signed content: duplicates of that dead letter, not new records.
    let variants = [
        body.replace("&From=%2B15558675310", "").replace(
            "Body=Hello+from+SMS",
            "Body=Hello+from+SMSFrom%2b15558675310",
        ),
        body.replace("&From=%2B15558675310", "").replace(
            "Body=Hello+from+SMS",
            "Body=Hello%20from%20SMSFrom%2B15558675310",
        ),
    ];
    for variant in variants {
        let (s, j) = post_owned(
            &h,
            "/webhooks/twilio",
            &fixture_headers(&case),
            variant.clone().into_bytes(),
        )
        .await;
        assert_eq!(
            (s, j["status"].as_str()),
            (StatusCode::OK, Some("duplicate")),
            "{variant}: {j}"
        );
    }
    assert_eq!(h.dead_letters().len(), 1, "one record per signed delivery");
}

#[tokio::test]
async fn a_repeated_twilio_field_is_refused_before_mapping() {
    // A repeated `Body` with a value already present signs the same (Twilio's SDKs
    // drop repeated values); a new value signs differently but is still a field
    // Twilio never repeats. Either way: 401 repeated_field, nothing written.
    let case = fixture_case("twilio", "inbound-sms");
    let h = Harness::new(&config());
    let mut again = case.body.to_vec();
    again.extend_from_slice(b"&Body=Hello+from+SMS");
    assert_answer(
        post_owned(&h, "/webhooks/twilio", &fixture_headers(&case), again).await,
        StatusCode::UNAUTHORIZED,
        "repeated_field",
    );
    let fields = [
        ("MessageSid", "SM1342fe1b2c904d1ab04f0fc7a58abca9"),
        ("AccountSid", "AC00000000000000000000000000000001"),
        ("From", "+15558675310"),
        ("To", "+15017250604"),
        ("Body", "first"),
        ("Body", "second"),
    ];
    let body = "MessageSid=SM1342fe1b2c904d1ab04f0fc7a58abca9&AccountSid=AC00000000000000000000000000000001&From=%2B15558675310&To=%2B15017250604&Body=first&Body=second";
    let headers = vec![
        (
            "content-type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        ),
        (
            "x-twilio-signature".to_owned(),
            twilio_sig(TWILIO_URL, &fields),
        ),
    ];
    assert_answer(
        post_owned(&h, "/webhooks/twilio", &headers, body.into()).await,
        StatusCode::UNAUTHORIZED,
        "repeated_field",
    );
    assert!(h.events().is_empty());
    assert!(h.dead_letters().is_empty());
}

#[tokio::test]
async fn a_twilio_message_with_only_the_documented_parameters_is_received() {
    let case = fixture_case("twilio", "inbound-sms-documented-parameters-only");
    let body = std::str::from_utf8(&case.body).unwrap();
    assert!(!body.contains("SmsStatus") && !body.contains("MessageStatus"));
    let h = Harness::new(&config());
    let (s, j, _) = h.send(request("/webhooks/twilio", &case)).await;
    assert_eq!(
        (s, j["status"].as_str(), j["type"].as_str()),
        (StatusCode::OK, Some("accepted"), Some("message.created")),
        "{j}"
    );
    let ev = &h.events()[0];
    assert_eq!(ev["providereventtype"], "received");
    assert_eq!(ev["data"]["message"]["direction"], "inbound");
    assert_eq!(ev["data"]["message"]["sender"]["phone"], "+15558675310");
    assert_eq!(
        ev["data"]["message"]["content"]["text"],
        "Only what the docs list"
    );
}

fn build_err(cfg: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let loaded = Loaded::from_text(cfg, "test.toml", dir.path(), &|_| None).expect("parses");
    match loaded.build_gateway() {
        Ok(_) => panic!("built: {cfg}"),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn keys_of_the_wrong_size_or_in_the_wrong_place_are_start_up_errors_naming_the_source() {
    for (cfg, wants) in [
        ("[[source]]\nid = \"dc\"\nprovider = \"discord\"\npublic_keys = [\"abcd\"]\n", "32 bytes"),
        (
            &*format!("[[source]]\nid = \"dc\"\nprovider = \"discord\"\npublic_keys = [\"{}00\"]\n", FIXTURE_ED25519_PUBLIC),
            "32 bytes",
        ),
        ("[[source]]\nid = \"dc\"\nprovider = \"discord\"\npublic_keys = [\"not a key at all\"]\n", "public_keys[0]"),
        (&*format!("[[source]]\nid = \"dc\"\nprovider = \"discord\"\nsecrets = [\"{FIXTURE_SECRET}\"]\n"), "public_keys"),
        (&*format!("[[source]]\nid = \"dc\"\nprovider = \"line\"\npublic_keys = [\"{FIXTURE_ED25519_PUBLIC}\"]\n"), "public key"),
        (&*format!("[[source]]\nid = \"dc\"\nprovider = \"twilio\"\nsecrets = [\"{FIXTURE_SECRET}\"]\n"), "public_url"),
    ] {
        let e = build_err(cfg);
        assert!(e.contains("dc"), "names the source: {e}");
        assert!(e.contains(wants), "{wants}: {e}");
    }
}

/// The providers' own published vectors, checked against the shipped mappings'
/// schemes (the keys are the SDK tests' own, shorter than hookgate accepts from a
/// configuration, so they are used here directly).
#[test]
fn published_vectors_verify_with_the_shipped_mappings() {
    use hookgate::verify::{Keys, Secret, Signed};
    let mappings = Loaded::empty().mappings().unwrap();
    let check =
        |provider: &str, key: &str, header: (&str, &str), body: &[u8], url: Option<&str>| {
            let scheme = &mappings.get(provider).unwrap().schemes()[0];
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(
                axum::http::HeaderName::from_bytes(header.0.as_bytes()).unwrap(),
                header.1.parse().unwrap(),
            );
            if header.0.eq_ignore_ascii_case("x-twilio-signature") {
                headers.insert(
                    "content-type",
                    "application/x-www-form-urlencoded".parse().unwrap(),
                );
            }
            let req = Signed {
                headers: &headers,
                body,
                url,
            };
            scheme.verify(
                &Keys::Secrets(vec![Secret::new(key)]),
                req,
                SystemTime::now(),
                true,
            )
        };
    // line-bot-sdk-python TestSignatureValidator.
    assert_eq!(
        check(
            "line",
            "channel_secret",
            (
                "x-line-signature",
                "/gg9a+LvFevTH1sd7XCQycD7tsWclCsInj7MhBHxN7k="
            ),
            b"bodybodybodybody",
            None
        ),
        Ok(())
    );
    assert!(check(
        "line",
        "channel_secret",
        (
            "x-line-signature",
            "/gg9a+LvFevTH1sd7XCQycD7tsWclCsInj7MhBHxN7k="
        ),
        b"bodybodybodybodX",
        None
    )
    .is_err());
    // viber-bot-python test_verify_signature.
    assert_eq!(
        check(
            "viber",
            "44dafb7e0f40021e-61a47a1e6778d187-f2c5a676a07050b3",
            (
                "x-viber-content-signature",
                "d21b343448c8aee33b8e93768ef6ceb64a6ba6163099973a2b8bd028fea510ef"
            ),
            br#"{"event":"webhook","timestamp":4977069964384421269,"message_token":1478683725125}"#,
            None
        ),
        Ok(())
    );
    // twilio-python / twilio-node RequestValidator, and Twilio's documented example.
    let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    let sdk = b"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212";
    assert_eq!(
        check(
            "twilio",
            "12345",
            ("x-twilio-signature", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
            sdk,
            Some(url)
        ),
        Ok(())
    );
    let docs = b"CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212";
    assert_eq!(
        check(
            "twilio",
            "12345",
            ("x-twilio-signature", "0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
            docs,
            Some(url)
        ),
        Ok(())
    );
    assert!(check(
        "twilio",
        "12345",
        ("x-twilio-signature", "0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
        sdk,
        Some(url)
    )
    .is_err());
    // The SDKs' repeated-name vector signs `Digits` once per distinct value; the
    // messaging mapping refuses a repeated name Twilio never repeats (the vector
    // itself is checked with `Digits` allowed in src/verify/twilio.rs).
    let repeated = b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234";
    assert_eq!(
        check(
            "twilio",
            "12345",
            ("x-twilio-signature", "IK+Dwps556ElfBT0I3Rgjkr1wJU="),
            repeated,
            Some(url)
        ),
        Err(hookgate::verify::VerifyError::RepeatedField)
    );
}

fn line_event(id: &str, ts_ms: i64, ty: &str, pad: usize) -> Value {
    json!({"type": ty, "webhookEventId": id, "timestamp": ts_ms, "mode": "active",
           "source": {"type": "user", "userId": "U2"},
           "message": {"type": "text", "id": id, "text": "x".repeat(pad)}})
}

#[tokio::test]
async fn a_late_item_is_kept_aside_and_the_rest_of_its_batch_delivered() {
    let cfg = format!(
        "[[source]]\nid = \"line\"\nprovider = \"line\"\nsecrets = [\"{FIXTURE_SECRET}\"]\nmax_event_age = \"1h\"\n"
    );
    let h = Harness::new(&cfg);
    let fresh = now() * 1000;
    let old = (now() - 7200) * 1000;
    let mixed = serde_json::to_vec(&json!({"destination": "U1", "events": [
        line_event("01F1", fresh, "message", 2), line_event("01F2", old, "message", 2), line_event("01F3", fresh, "message", 2)]}))
    .unwrap();
    let (s, j) = post_owned(&h, "/webhooks/line", &line_post(&mixed), mixed).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(statuses(&j), ["accepted", "dead_lettered", "accepted"]);
    assert_eq!(j["events"][1]["reason"], "event_too_old");
    assert_eq!((h.events().len(), h.dead_letters().len()), (2, 1));
    // Every event too old: the delivery is refused, as a single one would be.
    let all_old = serde_json::to_vec(
        &json!({"destination": "U1", "events": [line_event("01F4", old, "message", 2)]}),
    )
    .unwrap();
    assert_answer(
        post_owned(&h, "/webhooks/line", &line_post(&all_old), all_old).await,
        StatusCode::UNAUTHORIZED,
        "event_too_old",
    );
}

#[tokio::test]
async fn many_dead_items_of_a_large_batch_are_kept_once_whole() {
    let h = Harness::new(&config());
    // 100 unmappable items in a ~110 KB body: one dead letter each would copy the
    // body 100 times (11 MB); it is kept once.
    let events: Vec<Value> = (0..100)
        .map(|i| line_event(&format!("01U{i:03}"), now() * 1000, "unfollow", 1000))
        .collect();
    let body = serde_json::to_vec(&json!({"destination": "U1", "events": events})).unwrap();
    assert!(body.len() > 100_000);
    let (s, j) = post_owned(&h, "/webhooks/line", &line_post(&body), body.clone()).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(
        (j["status"].as_str(), j["reason"].as_str()),
        (Some("dead_lettered"), Some("batch_too_large")),
        "{j}"
    );
    let dl = h.dead_letters();
    assert_eq!(dl.len(), 1);
    assert!(dl[0]["item"].is_null());
    assert_eq!(dl[0]["body"].as_str().map(str::len), Some(body.len()));
    // A few dead items in a small batch are still kept one by one.
    let small = serde_json::to_vec(&json!({"destination": "U1", "events": [
        line_event("01V1", now() * 1000, "unfollow", 2), line_event("01V2", now() * 1000, "unfollow", 2)]}))
    .unwrap();
    let (_, j) = post_owned(&h, "/webhooks/line", &line_post(&small), small).await;
    assert_eq!(statuses(&j), ["dead_lettered", "dead_lettered"]);
}

#[tokio::test]
async fn a_dead_lettered_interaction_gets_no_deferred_answer() {
    let h = Harness::new(&config());
    let unknown = br#"{"id":"787053080478613599","token":"t","type":9,"version":1}"#.to_vec();
    let j = assert_answer(
        post_owned(
            &h,
            "/webhooks/discord",
            &discord_headers(&unknown, now(), &signing_key()),
            unknown,
        )
        .await,
        StatusCode::OK,
        "unknown_event_type",
    );
    assert_eq!(j["status"], "dead_lettered", "{j}");
    assert!(j.get("type").is_none(), "{j}");
}
