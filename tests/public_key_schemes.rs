//! Raw public-key signatures through the real router: Freshchat (RSA-SHA256 over
//! the body), SendGrid (ECDSA P-256 over timestamp + body, batched) and Telnyx
//! (Ed25519 over `timestamp|body`). Deliveries are signed here at the current
//! time with the fixtures' private keys; the providers' published vectors go
//! through the router with the providers' own keys.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use base64::Engine as _;
use ed25519_dalek::Signer as _;
use p256::pkcs8::DecodePrivateKey as _;
use serde_json::Value;

use hookgate::config::Loaded;
use hookgate::fixture::{
    FIXTURE_EC_PRIVATE, FIXTURE_EC_PUBLIC, FIXTURE_ED25519_PUBLIC, FIXTURE_ED25519_SEED,
    FIXTURE_RSA_PUBLIC,
};

mod common;
use common::*;

/// nyaruka/courier `handlers/freshchat/handler_test.go`: Freshchat's key as its
/// admin shows it (one line), a delivery and its signature.
const COURIER_KEY: &str = "-----BEGIN RSA PUBLIC KEY----- MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuGJLF4hTTtxWogT6dNkGf3CEgLAR2mGJzlds5cNbrHFoJNFnmVhkRYGzLYxx4EtDiezNCZVHfyMI2AKuNSQW2fEdDatVIG+q3Zr/X9eeDl8kQOGy804J/fgCYDrN8RQu0n5Dh1inv4puca0wb29SCvoAwrWb33ehDBIvv6+rUKBdjtv2xTV65kNiVDo5VRCaYRVeE10osxeONgw55HVY4nczuxnR+dmc2282de6WHe5LXtr0ZBdJ8yttFOLIluZ/sNM5DIWZBkIWQhyT581tbA7bTpsIbrT/IMBlmioIILw8WGtI7zcmNkjU5dnq5HnlVKEDhj/Ug/dLiyno8+Vp7QIDAQAB -----END RSA PUBLIC KEY-----";
const COURIER_SIGNATURE: &str = "AhrmypOSWoewHG6LmIRuWjxyokuMDmPklrSU9p0gpUNjdSRCJzvpL6rjuTi5poV/ZLzWRWNM7X9yWjT5m9YFPshYrvigcd1ph4Ot2xmaJGYoUNJHijQccE6oDtDIp6i/8oLRafHgObQnGukZWPbP9OE5EiKz/VcsMP0Wv7hawI/sfIviM0w+6fNOKXWi0jDBH9ap1mj5CqOUOojni7OD5iYmIrjV/h33dyNmbvAta9E+trzcEhYqxfHIN4Z8R2FsatfRHWicoQ4PE5cQ8+UONVya8qr85nQ9w8N7Ql7yNg9fEViYG4/W/JnGEbPPEf8WrYtKzoVyuupDz4mVHdfKWg==";

/// sendgrid-python `test/unit/test_eventwebhook.py`.
const SENDGRID_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==";
const SENDGRID_SIGNATURE: &str = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=";
const SENDGRID_PAYLOAD: &str = "[{\"email\":\"hello@world.com\",\"event\":\"dropped\",\"reason\":\"Bounced Address\",\"sg_event_id\":\"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA\",\"sg_message_id\":\"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0\",\"smtp-id\":\"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>\",\"timestamp\":1600112492}]\r\n";

const SG_SIG: &str = "x-twilio-email-event-webhook-signature";
const SG_TS: &str = "x-twilio-email-event-webhook-timestamp";

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn config() -> String {
    let one_line = |pem: &str| pem.replace('\n', " ");
    format!(
        "[[source]]\nid = \"freshchat\"\nprovider = \"freshchat\"\npublic_keys = [\"{}\"]\n\n\
         [[source]]\nid = \"freshchat-courier\"\nprovider = \"freshchat\"\npublic_keys = [\"{COURIER_KEY}\"]\n\n\
         [[source]]\nid = \"sendgrid\"\nprovider = \"sendgrid\"\npublic_keys = [\"{}\"]\n\n\
         [[source]]\nid = \"sendgrid-sdk\"\nprovider = \"sendgrid\"\npublic_keys = [\"{SENDGRID_KEY}\"]\n\n\
         [[source]]\nid = \"telnyx\"\nprovider = \"telnyx\"\npublic_keys = [\"{}\"]\n",
        one_line(FIXTURE_RSA_PUBLIC),
        one_line(FIXTURE_EC_PUBLIC),
        b64(&hex::decode(FIXTURE_ED25519_PUBLIC).unwrap()),
    )
}

fn statuses(answer: &Value) -> Vec<&str> {
    answer["events"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["status"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn freshchat_fixtures_and_the_published_vector_through_the_router() {
    let h = Harness::new(&config());
    let mut written = 0;
    for case in hookgate::fixture::load_cases(&fixtures_root(), "freshchat").unwrap() {
        let (s, j, _) = h.send(request("/webhooks/freshchat", &case)).await;
        let want = case.expected.clone().unwrap();
        assert_eq!(
            (s, &j["status"]),
            (StatusCode::OK, &want["status"]),
            "{}: {j}",
            case.name
        );
        written += 1;
    }
    assert_eq!(h.events().len(), written);

    // The published vector, with Freshchat's key as its admin shows it.
    let body = fixture_case("freshchat", "message-create-user").body;
    let post = |body: Vec<u8>| {
        let h = &h;
        async move {
            h.post(
                "/webhooks/freshchat-courier",
                &[
                    ("content-type", "application/json"),
                    ("x-freshchat-signature", COURIER_SIGNATURE),
                ],
                body,
            )
            .await
        }
    };
    assert_answer(post(body.to_vec()).await, StatusCode::OK, "accepted");
    assert_eq!(h.events().len(), written + 1);
    let tampered = String::from_utf8(body.to_vec())
        .unwrap()
        .replace("Test 2", "Test 3");
    assert_answer(
        post(tampered.into_bytes()).await,
        StatusCode::UNAUTHORIZED,
        "signature_mismatch",
    );
    // The fixture key's signature is not Freshchat's.
    let case = fixture_case("freshchat", "message-create-agent");
    let mut req = request("/webhooks/freshchat-courier", &case);
    *req.uri_mut() = "/webhooks/freshchat-courier".parse().unwrap();
    let (s, j, _) = h.send(req).await;
    assert_eq!(
        (s, why(&j)),
        (StatusCode::UNAUTHORIZED, Some("signature_mismatch")),
        "{j}"
    );
}

fn sendgrid_sign(ts: i64, body: &[u8]) -> String {
    let key = p256::ecdsa::SigningKey::from_pkcs8_pem(FIXTURE_EC_PRIVATE).unwrap();
    let sig: p256::ecdsa::Signature = key.sign(&[ts.to_string().as_bytes(), body].concat());
    b64(sig.to_der().as_bytes())
}

#[tokio::test]
async fn sendgrid_batches_split_and_bad_signatures_and_stale_timestamps_are_refused() {
    let h = Harness::new(&config());
    let body = fixture_case("sendgrid", "delivery-batch").body.to_vec();
    let post = |ts: i64, sig: String, body: Vec<u8>, source: &'static str| {
        let h = &h;
        async move {
            h.post(
                &format!("/webhooks/{source}"),
                &[
                    ("content-type", "application/json"),
                    (SG_SIG, &sig),
                    (SG_TS, &ts.to_string()),
                ],
                body,
            )
            .await
        }
    };
    let t = now();
    let (s, j) = post(t, sendgrid_sign(t, &body), body.clone(), "sendgrid").await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(
        statuses(&j),
        ["accepted", "ignored", "accepted", "accepted"],
        "{j}"
    );
    let types: Vec<Value> = h.events().iter().map(|e| e["type"].clone()).collect();
    assert_eq!(types, ["message.sent", "message.delivered", "message.read"]);

    let mut tampered = body.clone();
    tampered[3] ^= 1;
    assert_answer(
        post(t, sendgrid_sign(t, &body), tampered, "sendgrid").await,
        StatusCode::UNAUTHORIZED,
        "signature_mismatch",
    );
    // The signature covers the timestamp: another one does not verify...
    assert_answer(
        post(t + 1, sendgrid_sign(t, &body), body.clone(), "sendgrid").await,
        StatusCode::UNAUTHORIZED,
        "signature_mismatch",
    );
    // ...and a signed one outside the window (10 minutes) is refused.
    let old = t - 3600;
    assert_answer(
        post(old, sendgrid_sign(old, &body), body.clone(), "sendgrid").await,
        StatusCode::UNAUTHORIZED,
        "timestamp_out_of_tolerance",
    );
    // The SDK's vector: its signature matches (the timestamp, checked only after
    // the signature, is from 2020), and a changed payload does not.
    let sdk = |payload: &str| {
        post(
            1600112502,
            SENDGRID_SIGNATURE.to_owned(),
            payload.as_bytes().to_vec(),
            "sendgrid-sdk",
        )
    };
    assert_answer(
        sdk(SENDGRID_PAYLOAD).await,
        StatusCode::UNAUTHORIZED,
        "timestamp_out_of_tolerance",
    );
    assert_answer(
        sdk(&SENDGRID_PAYLOAD.replace("dropped", "bounce")).await,
        StatusCode::UNAUTHORIZED,
        "signature_mismatch",
    );
    assert_eq!(h.events().len(), 3);
}

#[tokio::test]
async fn telnyx_signs_timestamp_and_body() {
    let h = Harness::new(&config());
    let seed: [u8; 32] = hex::decode(FIXTURE_ED25519_SEED)
        .unwrap()
        .try_into()
        .unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let body = fixture_case("telnyx", "message-received").body.to_vec();
    let t = now();
    let sign = |ts: i64, body: &[u8]| {
        b64(&key
            .sign(&[format!("{ts}|").as_bytes(), body].concat())
            .to_bytes())
    };
    let post = |ts: i64, sig: String, body: Vec<u8>| {
        let h = &h;
        async move {
            h.post(
                "/webhooks/telnyx",
                &[
                    ("content-type", "application/json"),
                    ("telnyx-signature-ed25519", &sig),
                    ("telnyx-timestamp", &ts.to_string()),
                ],
                body,
            )
            .await
        }
    };
    let (s, _) = post(t, sign(t, &body), body.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h.events()[0]["type"], "message.created");
    assert_answer(
        post(t + 5, sign(t, &body), body.clone()).await,
        StatusCode::UNAUTHORIZED,
        "signature_mismatch",
    );
    // Without the separator the signed bytes differ.
    let joined = b64(&key
        .sign(&[t.to_string().as_bytes(), &body].concat())
        .to_bytes());
    assert_answer(
        post(t, joined, body.clone()).await,
        StatusCode::UNAUTHORIZED,
        "signature_mismatch",
    );
    assert_eq!(h.events().len(), 1);
}

#[test]
fn a_key_of_the_wrong_kind_is_refused_at_start_up() {
    for (provider, key, wants) in [
        ("sendgrid", FIXTURE_RSA_PUBLIC.replace('\n', " "), "P-256"),
        ("freshchat", FIXTURE_EC_PUBLIC.replace('\n', " "), "RSA"),
        (
            "freshchat",
            FIXTURE_ED25519_PUBLIC.to_owned(),
            "not an RSA or P-256 public key",
        ),
    ] {
        let cfg = format!(
            "[[source]]\nid = \"s\"\nprovider = \"{provider}\"\npublic_keys = [\"{key}\"]\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let loaded = Loaded::from_text(&cfg, "test.toml", dir.path(), &|_| None).expect("parses");
        let e = match loaded.build_gateway() {
            Ok(_) => panic!("built: {cfg}"),
            Err(e) => format!("{e:#}"),
        };
        assert!(e.contains(wants), "{provider}: {e}");
    }
}
