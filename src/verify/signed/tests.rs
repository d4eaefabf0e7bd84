//! The HMAC schemes against published vectors (RFC 4231, GitHub, Slack, Standard
//! Webhooks) and Python-computed ones, the replay window, and hostile headers.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use http::{HeaderMap, HeaderName};

use super::spec::SignatureLayout;
use super::*;
use crate::secret::Secret;
use crate::verify::{Keys, Signed, VerifyError};

/// The tests' shorthand: secrets, headers and body, as one call.
trait Check {
    fn check(
        &self,
        keys: &[Secret],
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), VerifyError>;
}

impl Check for SignedScheme {
    fn check(
        &self,
        keys: &[Secret],
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), VerifyError> {
        let keys = Keys::Secrets(keys.to_vec());
        let req = Signed {
            headers,
            body,
            url: None,
        };
        self.verify_at(&keys, req, now)
    }
}
use super::template::Template;

fn spec(alg: Algorithm, headers: &[&str]) -> HmacSpec {
    HmacSpec {
        algorithm: alg,
        layout: SignatureLayout::new(headers.iter().map(|h| (*h).to_owned()).collect()),
        secret_encoding: SecretEncoding::Raw,
    }
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(
            HeaderName::try_from(*k).expect("name"),
            http::HeaderValue::from_str(v).expect("value"),
        );
    }
    h
}

fn at(unix: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix)
}

fn scheme(s: HmacSpec) -> SignedScheme {
    SignedScheme::compile(&s).expect("valid scheme")
}

// RFC 4231 test case 2 (key "Jefe").
#[test]
fn rfc4231_vector() {
    let s = scheme(spec(Algorithm::Sha256, &["X-Sig"]));
    let sig = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    let body = b"what do ya want for nothing?";
    let now = SystemTime::now();
    assert!(s
        .check(
            &[Secret::new("Jefe")],
            &headers(&[("x-sig", sig)]),
            body,
            now
        )
        .is_ok());
    assert_eq!(
        s.check(
            &[Secret::new("jefe")],
            &headers(&[("x-sig", sig)]),
            body,
            now
        ),
        Err(VerifyError::SignatureMismatch)
    );
}

// GitHub's documented example (docs: "Validating webhook deliveries").
#[test]
fn github_documented_vector() {
    let mut sp = spec(Algorithm::Sha256, &["X-Hub-Signature-256"]);
    sp.layout.prefix = Some("sha256=".into());
    let s = scheme(sp);
    let h = headers(&[(
        "x-hub-signature-256",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    )]);
    let key = [Secret::new("It's a Secret to Everybody")];
    let now = SystemTime::now();
    assert!(s.check(&key, &h, b"Hello, World!", now).is_ok());
    assert_eq!(
        s.check(&key, &h, b"Hello, World?", now),
        Err(VerifyError::SignatureMismatch)
    );
    assert_eq!(
        s.check(
            &[Secret::new("It's a secret to everybody")],
            &h,
            b"Hello, World!",
            now
        ),
        Err(VerifyError::SignatureMismatch)
    );
}

fn slack() -> SignedScheme {
    let mut sp = spec(Algorithm::Sha256, &["X-Slack-Signature"]);
    sp.layout.prefix = Some("v0=".into());
    sp.layout.signed = "v0:{timestamp}:{body}".into();
    sp.layout.timestamp_header = Some("X-Slack-Request-Timestamp".into());
    scheme(sp)
}

// Slack's documented example ("Verifying requests from Slack").
#[test]
fn slack_documented_vector_and_replay_window() {
    let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    let h = headers(&[
        ("x-slack-request-timestamp", "1531420618"),
        (
            "x-slack-signature",
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        ),
    ]);
    let key = [Secret::new("8f742231b10e8888abcd99yyyzzz85a5")];
    let s = slack();
    assert!(s.check(&key, &h, body, at(1531420618 + 60)).is_ok());
    // Stale and far-future timestamps are refused, each just past the 5-minute window.
    assert_eq!(
        s.check(&key, &h, body, at(1531420618 + 301)),
        Err(VerifyError::StaleTimestamp)
    );
    assert_eq!(
        s.check(&key, &h, body, at(1531420618 - 301)),
        Err(VerifyError::StaleTimestamp)
    );
    // A replayed signature with a fresh timestamp does not verify.
    let mut moved = h.clone();
    moved.insert(
        "x-slack-request-timestamp",
        "1531420919".parse().expect("v"),
    );
    assert_eq!(
        s.check(&key, &moved, body, at(1531420919)),
        Err(VerifyError::SignatureMismatch)
    );
    let mut no_ts = h.clone();
    no_ts.remove("x-slack-request-timestamp");
    assert_eq!(
        s.check(&key, &no_ts, body, at(1531420618)),
        Err(VerifyError::BadTimestamp)
    );
}

// The Standard Webhooks specification's test vector.
#[test]
fn standard_webhooks_vector_rotation_and_whsec() {
    let mut sp = spec(Algorithm::Sha256, &["webhook-signature"]);
    sp.layout.format = SignatureFormat::StandardWebhooks;
    sp.layout.signed = "{id}.{timestamp}.{body}".into();
    sp.layout.timestamp_header = Some("webhook-timestamp".into());
    sp.layout.id_header = Some("webhook-id".into());
    sp.secret_encoding = SecretEncoding::WhsecBase64;
    let s = scheme(sp);
    let key = s
        .prepare_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        .expect("whsec");
    let e = s.prepare_secret("whsec_%%%").err();
    assert!(
        e.as_deref().is_some_and(|e| e.contains("does not decode")),
        "{e:?}"
    );
    let body = br#"{"test": 2432232314}"#;
    let h = headers(&[
        ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
        ("webhook-timestamp", "1614265330"),
        // Several signatures in one header: an old one, an unknown version, the good one.
        ("webhook-signature", "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1a,abc v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
    ]);
    assert!(s
        .check(std::slice::from_ref(&key), &h, body, at(1614265330))
        .is_ok());
    assert_eq!(
        s.check(
            std::slice::from_ref(&key),
            &h,
            br#"{"test": 2432232315}"#,
            at(1614265330)
        ),
        Err(VerifyError::SignatureMismatch)
    );
    assert_eq!(
        s.check(std::slice::from_ref(&key), &h, body, at(1614265330 + 3600)),
        Err(VerifyError::StaleTimestamp)
    );
    let mut other_id = h.clone();
    other_id.insert("webhook-id", "msg_other".parse().expect("v"));
    assert_eq!(
        s.check(&[key], &other_id, body, at(1614265330)),
        Err(VerifyError::SignatureMismatch)
    );
}

fn stripe() -> SignedScheme {
    let mut sp = spec(Algorithm::Sha256, &["Stripe-Signature"]);
    sp.layout.format = SignatureFormat::Stripe;
    sp.layout.signed = "{timestamp}.{body}".into();
    scheme(sp)
}

// Computed with Python's hmac: hmac.new(secret, b"1700000000." + body, sha256).
#[test]
fn stripe_style_header() {
    let s = stripe();
    let body = br#"{"id":"evt_1","type":"charge.succeeded"}"#;
    let good = "6f3356ce5701dd6223636ac876d42e3d64a5c998dc193818a0dba9df61942206";
    let key = [Secret::new("whsec_stripe_test")];
    let h = |v: &str| headers(&[("stripe-signature", v)]);
    let ok = format!("t=1700000000,v1={},v0=deadbeef,v1={good}", "0".repeat(64));
    assert!(s.check(&key, &h(&ok), body, at(1700000100)).is_ok());
    assert_eq!(
        s.check(&key, &h(&format!("v1={good}")), body, at(1700000100)),
        Err(VerifyError::BadTimestamp)
    );
    assert_eq!(
        s.check(
            &key,
            &h(&format!("t=1700000000,v0={good}")),
            body,
            at(1700000100)
        ),
        Err(VerifyError::MalformedSignature),
        "only v1 signatures count"
    );
    assert_eq!(
        s.check(&key, &h(&ok), body, at(1700000000 + 301)),
        Err(VerifyError::StaleTimestamp)
    );
    // What `send` produces verifies.
    let signed = s.sign_at(&key[0], &HeaderMap::new(), body, at(1700000000), None);
    let mut hs = HeaderMap::new();
    for (k, v) in signed {
        hs.insert(k, v.parse().expect("v"));
    }
    assert!(s.check(&key, &hs, body, at(1700000000)).is_ok());
}

// Zendesk: base64 HMAC-SHA256 of timestamp + body, ISO-8601 timestamp header.
#[test]
fn zendesk_style_base64_with_iso_timestamp() {
    let mut sp = spec(Algorithm::Sha256, &["X-Zendesk-Webhook-Signature"]);
    sp.layout.encodings = vec![Encoding::Base64];
    sp.layout.signed = "{timestamp}{body}".into();
    sp.layout.timestamp_header = Some("X-Zendesk-Webhook-Signature-Timestamp".into());
    let s = scheme(sp);
    let body = br#"{"ticket":{"id":35436}}"#;
    let h = headers(&[
        (
            "x-zendesk-webhook-signature-timestamp",
            "2026-01-01T00:00:00Z",
        ),
        (
            "x-zendesk-webhook-signature",
            "f9rvkY6vcTC2EpCm8zgEbIUB5RdeuxzGhdaH/U6THAw=",
        ),
    ]);
    let key = [Secret::new("dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmc")];
    assert!(s.check(&key, &h, body, at(1767225600 + 10)).is_ok());
    assert_eq!(
        s.check(&key, &h, body, at(1767225600 + 600)),
        Err(VerifyError::StaleTimestamp)
    );
}

#[test]
fn shopify_and_intercom_style() {
    let mut sp = spec(Algorithm::Sha256, &["X-Shopify-Hmac-Sha256"]);
    sp.layout.encodings = vec![Encoding::Base64];
    let shopify = scheme(sp);
    let h = headers(&[(
        "x-shopify-hmac-sha256",
        "3JxXO8Lul52iD5+qb1FHtoXK8vDwPbXpi8eB+yETk5I=",
    )]);
    let now = SystemTime::now();
    assert!(shopify
        .check(
            &[Secret::new("shpss_test")],
            &h,
            br#"{"id":820982911946154508}"#,
            now
        )
        .is_ok());
    assert_eq!(
        shopify.check(
            &[Secret::new("shpss_test")],
            &h,
            br#"{"id":820982911946154509}"#,
            now
        ),
        Err(VerifyError::SignatureMismatch)
    );
    let mut sp = spec(Algorithm::Sha1, &["X-Hub-Signature"]);
    sp.layout.prefix = Some("sha1=".into());
    let intercom = scheme(sp);
    let h = headers(&[(
        "x-hub-signature",
        "sha1=3d7bce87181445590d18647882a60c332838578c",
    )]);
    let body = br#"{"type":"notification_event"}"#;
    assert!(intercom
        .check(&[Secret::new("intercom_client_secret")], &h, body, now)
        .is_ok());
    assert_eq!(
        intercom.check(&[Secret::new("other")], &h, body, now),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn rotation_prefix_alt_header_and_base64() {
    let mut sp = spec(Algorithm::Sha256, &["X-Sig", "X-Sig-Alt"]);
    sp.layout.prefix = Some("sha256=".into());
    sp.layout.prefix_optional = true;
    sp.layout.encodings = vec![Encoding::Hex, Encoding::Base64];
    let s = scheme(sp);
    let (new, old) = (Secret::new("new"), Secret::new("old"));
    let body = b"{\"a\":1}";
    let now = SystemTime::now();
    let v = s
        .sign_at(&old, &HeaderMap::new(), body, now, None)
        .remove(0)
        .1;
    assert!(v.starts_with("sha256="));
    assert!(s
        .check(
            &[new.clone(), old.clone()],
            &headers(&[("x-sig-alt", &v)]),
            body,
            now
        )
        .is_ok());
    let bare = v.trim_start_matches("sha256=");
    assert!(s
        .check(
            std::slice::from_ref(&old),
            &headers(&[("x-sig", bare)]),
            body,
            now
        )
        .is_ok());
    let b64 = base64::engine::general_purpose::STANDARD.encode(hex::decode(bare).expect("hex"));
    assert!(s
        .check(
            std::slice::from_ref(&old),
            &headers(&[("x-sig", &b64)]),
            body,
            now
        )
        .is_ok());
    assert_eq!(
        s.check(&[new], &headers(&[("x-sig", &v)]), body, now),
        Err(VerifyError::SignatureMismatch)
    );
    assert_eq!(
        s.check(&[old], &headers(&[("x-sig", &v)]), b"{\"a\":2}", now),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn hostile_headers() {
    let mut sp = spec(Algorithm::Sha256, &["X-Sig"]);
    sp.layout.prefix = Some("sha256=".into());
    let s = scheme(sp);
    let k = [Secret::new("k")];
    let now = SystemTime::now();
    assert_eq!(
        s.check(&k, &HeaderMap::new(), b"x", now),
        Err(VerifyError::MissingSignature)
    );
    let long = "a".repeat(5000);
    for bad in [
        "",
        "sha256=",
        "sha256=zz",
        "deadbeef",
        "sha256=abc",
        long.as_str(),
    ] {
        let r = s.check(&k, &headers(&[("x-sig", bad)]), b"x", now);
        assert_eq!(r, Err(VerifyError::MalformedSignature), "{bad:?}");
    }
    // A SHA-1 signature offered to a SHA-256 scheme is the wrong length.
    let mut sp = spec(Algorithm::Sha1, &["X-Sig"]);
    sp.layout.prefix = Some("sha256=".into());
    let v = scheme(sp)
        .sign_at(&k[0], &HeaderMap::new(), b"x", now, None)
        .remove(0)
        .1;
    assert_eq!(
        s.check(&k, &headers(&[("x-sig", &v)]), b"x", now),
        Err(VerifyError::MalformedSignature)
    );
    // Stripe-style parsing of garbage never panics and finds nothing.
    for bad in ["t=,v1=", ",,,", "t=1,v1", "=,=,="] {
        assert_eq!(
            stripe().check(&k, &headers(&[("stripe-signature", bad)]), b"x", now),
            Err(VerifyError::MalformedSignature),
            "{bad:?}"
        );
    }
}

#[test]
fn templates() {
    // A compile error, and why: the template and the reason it names.
    let reason = |r: Result<SignedScheme, SchemeError>| match r {
        Err(SchemeError::Template { reason, .. }) => reason,
        other => panic!("not a template error: {other:?}"),
    };
    assert!(matches!(
        Template::parse("{nonsense}.{body}"),
        Err(SchemeError::Template { reason, .. }) if reason.starts_with("placeholders are")
    ));
    assert!(matches!(
        Template::parse("v0:{header:X-Ts}"),
        Err(SchemeError::Template { reason, .. }) if reason.contains("must include {body}")
    ));
    assert_eq!(
        Template::parse("v0:{header:X-Ts}:{body}")
            .map(|p| p.len())
            .ok(),
        Some(4)
    );
    let mut sp = spec(Algorithm::Sha256, &["x-sig"]);
    sp.layout.signed = "{timestamp}.{body}".into();
    assert!(
        reason(SignedScheme::compile(&sp))
            .contains("uses {timestamp} but the scheme has no timestamp"),
        "{{timestamp}} needs a timestamp source"
    );
    sp.layout.signed = "{id}.{body}".into();
    assert!(
        reason(SignedScheme::compile(&sp)).contains("uses {id} but id_header is not set"),
        "{{id}} needs id_header"
    );
    sp.layout.signed = "{body}".into();
    sp.layout.tolerance = Some("soon".into());
    assert!(
        matches!(SignedScheme::compile(&sp), Err(SchemeError::Tolerance(_))),
        "an unreadable tolerance"
    );
    // Found by the security review: a timestamp outside the signed content.
    sp.layout.tolerance = None;
    sp.layout.timestamp_header = Some("x-ts".into());
    let e = reason(SignedScheme::compile(&sp));
    assert!(e.contains("does not include {timestamp}"), "{e}");
    sp.layout.timestamp_header = None;
    sp.layout.format = SignatureFormat::Stripe;
    assert!(
        reason(SignedScheme::compile(&sp)).contains("does not include {timestamp}"),
        "stripe's t= must be signed"
    );
    sp.layout.format = SignatureFormat::Plain;
    sp.layout.id_header = Some("x-id".into());
    assert!(
        reason(SignedScheme::compile(&sp))
            .contains("id_header is set but the signed template does not include {id}"),
        "an id header must be signed"
    );
}

/// A header the template signs (or the id) that the request lacks is its own
/// reason, not a missing signature: the signature is there.
#[test]
fn a_missing_signed_header_is_its_own_reason() {
    let mut sp = spec(Algorithm::Sha256, &["X-Sig"]);
    sp.layout.signed = "{header:X-Account}.{body}".into();
    let s = scheme(sp);
    let key = [Secret::new("a-long-enough-key")];
    let now = SystemTime::now();
    let mut h = HeaderMap::new();
    h.insert("x-account", "acct_1".parse().expect("v"));
    let signed = s.sign_at(&key[0], &h, b"{}", now, None);
    let mut sent = h.clone();
    for (k, v) in signed {
        sent.insert(k, v.parse().expect("v"));
    }
    assert!(s.check(&key, &sent, b"{}", now).is_ok());
    sent.remove("x-account");
    assert_eq!(
        s.check(&key, &sent, b"{}", now),
        Err(VerifyError::MissingSignedHeader)
    );
    let mut sp = spec(Algorithm::Sha256, &["webhook-signature"]);
    sp.layout.format = SignatureFormat::StandardWebhooks;
    sp.layout.signed = "{id}.{timestamp}.{body}".into();
    sp.layout.timestamp_header = Some("webhook-timestamp".into());
    sp.layout.id_header = Some("webhook-id".into());
    let s = scheme(sp);
    let h = headers(&[
        ("webhook-timestamp", "1614265330"),
        (
            "webhook-signature",
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ),
    ]);
    assert_eq!(
        s.check(&key, &h, b"{}", at(1614265330)),
        Err(VerifyError::MissingSignedHeader)
    );
}

fn ed25519(spec: Ed25519Spec) -> SignedScheme {
    SignedScheme::compile_ed25519(&spec).expect("valid scheme")
}

fn ed_check(
    s: &SignedScheme,
    key: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Result<(), VerifyError> {
    let keys = Keys::Public(vec![crate::verify::PublicKey::parse(key).expect("key")]);
    s.verify_at(
        &keys,
        Signed {
            headers,
            body,
            url: None,
        },
        now,
    )
}

fn v1a() -> SignedScheme {
    ed25519(Ed25519Spec {
        layout: SignatureLayout {
            encodings: vec![Encoding::Base64],
            signed: "{id}.{timestamp}.{body}".into(),
            format: SignatureFormat::StandardWebhooks,
            versions: vec!["v1a".into()],
            timestamp_header: Some("webhook-timestamp".into()),
            id_header: Some("webhook-id".into()),
            tolerance: Some("5m".into()),
            ..SignatureLayout::new(vec!["webhook-signature".into()])
        },
    })
}

// Standard Webhooks v1a: the vectors of the reference libraries' open pull requests
// (Go #253 and JavaScript #308; no merged library implements v1a yet).
#[test]
fn standard_webhooks_v1a_published_vectors() {
    let s = v1a();
    let body = br#"{"test": 2432232314}"#;
    let sent = |sig: &str| {
        headers(&[
            ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
            ("webhook-timestamp", "1614265330"),
            ("webhook-signature", sig),
        ])
    };
    let go_key = "whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g=";
    let go_sig = "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag==";
    let js_key = "whpk_iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=";
    let js_sig = "v1a,Ykcu7AtGZGmZxFEH1Gaa2Nd7feY/CTuruoL4fqgnKwfbHU4DhemoVHZdvGfIvKvn4BIgwktLGGPGIr/i9nK7AA==";
    let now = at(1_614_265_330);
    assert_eq!(ed_check(&s, go_key, &sent(go_sig), body, now), Ok(()));
    assert_eq!(ed_check(&s, js_key, &sent(js_sig), body, now), Ok(()));
    // Each key refuses the other's signature, and a changed body.
    assert_eq!(
        ed_check(&s, go_key, &sent(js_sig), body, now),
        Err(VerifyError::SignatureMismatch)
    );
    assert_eq!(
        ed_check(&s, go_key, &sent(go_sig), br#"{"test": 2432232315}"#, now),
        Err(VerifyError::SignatureMismatch)
    );
    // The PRs' negative cases: a 32-byte value and an empty one are not signatures;
    // a list mixing v1, v2 and a valid v1a passes on the v1a entry.
    assert_eq!(
        ed_check(
            &s,
            go_key,
            &sent("v1a,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="),
            body,
            now
        ),
        Err(VerifyError::MalformedSignature)
    );
    assert_eq!(
        ed_check(&s, go_key, &sent("v1a,"), body, now),
        Err(VerifyError::MalformedSignature)
    );
    let mixed = format!("v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v2,abc {go_sig}");
    assert_eq!(ed_check(&s, go_key, &sent(&mixed), body, now), Ok(()));
    // Outside the five-minute window.
    assert_eq!(
        ed_check(&s, go_key, &sent(go_sig), body, at(1_614_265_330 + 301)),
        Err(VerifyError::StaleTimestamp)
    );
}

// Discord: hex Ed25519 over X-Signature-Timestamp + body. Discord publishes no
// fixed-key vector; this one was signed with RFC 8032's TEST 1 key by Python's
// `cryptography`, over the ping body of discord-interactions-js's tests.
#[test]
fn discord_interaction_vector() {
    let s = ed25519(Ed25519Spec {
        layout: SignatureLayout {
            signed: "{timestamp}{body}".into(),
            timestamp_header: Some("X-Signature-Timestamp".into()),
            tolerance: Some("5m".into()),
            ..SignatureLayout::new(vec!["X-Signature-Ed25519".into()])
        },
    });
    let body = br#"{"id":"787053080478613555","token":"ThisIsATokenFromDiscordThatIsVeryLong","type":1,"version":1}"#;
    let sig = "f0bd878adcef1f6d475c9644421905bd02b5de38e0d3ecfc6f58a711962c69ccc8dd7c9db312f9bdf08b1e1b8182e27a844da728c5e0dbb5507bf9931c1ed80b";
    let key = crate::fixture::FIXTURE_ED25519_PUBLIC;
    let sent = |sig: &str, ts: &str| {
        headers(&[("x-signature-ed25519", sig), ("x-signature-timestamp", ts)])
    };
    let now = at(1_700_000_000);
    assert_eq!(
        ed_check(&s, key, &sent(sig, "1700000000"), body, now),
        Ok(())
    );
    // The timestamp is signed: another one fails even inside the window.
    assert_eq!(
        ed_check(&s, key, &sent(sig, "1700000001"), body, now),
        Err(VerifyError::SignatureMismatch)
    );
    assert_eq!(
        ed_check(&s, key, &sent(&sig[..126], "1700000000"), body, now),
        Err(VerifyError::MalformedSignature)
    );
    // What hookgate signs (the load generator, `hookgate send`) verifies too.
    let seed = Secret::new(hex::decode(crate::fixture::FIXTURE_ED25519_SEED).expect("hex"));
    let signed = s.sign_at(&seed, &HeaderMap::new(), body, now, None);
    let mut h = HeaderMap::new();
    for (k, v) in signed {
        h.insert(k, http::HeaderValue::from_str(&v).expect("value"));
    }
    assert_eq!(ed_check(&s, key, &h, body, now), Ok(()));
}
