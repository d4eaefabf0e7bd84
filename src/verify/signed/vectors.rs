//! The request-signing templates (issue 24): HubSpot v3 (method, URL, body and a
//! millisecond timestamp) against HubSpot's published vector, Bird (timestamp,
//! URL and the body's SHA-256), Zoom, Front and Crisp layouts against signatures
//! computed here with `hmac` directly, and each one's bad inputs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::Mac;
use http::{HeaderMap, HeaderName};

use super::spec::SignatureLayout;
use super::*;
use crate::secret::Secret;
use crate::verify::{Keys, Signed, VerifyError};

fn hubspot() -> SignedScheme {
    let mut layout = SignatureLayout::new(vec!["X-HubSpot-Signature-v3".into()]);
    layout.encodings = vec![Encoding::Base64];
    layout.signed = "{method}{url}{body}{timestamp}".into();
    layout.timestamp_header = Some("X-HubSpot-Request-Timestamp".into());
    layout.timestamp_unit = TimestampUnit::Milliseconds;
    layout.url_decode = Some(":/?@!$'()*,;".into());
    sha256(layout).unwrap_or_else(|e| panic!("{e}"))
}

fn sha256(layout: SignatureLayout) -> Result<SignedScheme, SchemeError> {
    SignedScheme::compile(&HmacSpec {
        algorithm: Algorithm::Sha256,
        layout,
        secret_encoding: SecretEncoding::Raw,
    })
}

fn bird() -> SignedScheme {
    let mut layout = SignatureLayout::new(vec!["messagebird-signature".into()]);
    layout.encodings = vec![Encoding::Base64];
    layout.signed = "{timestamp}\n{url}\n{body:sha256}".into();
    layout.timestamp_header = Some("messagebird-request-timestamp".into());
    sha256(layout).unwrap_or_else(|e| panic!("{e}"))
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(*k), v.parse()) {
            h.insert(k, v);
        }
    }
    h
}

fn check(
    s: &SignedScheme,
    key: &str,
    h: &HeaderMap,
    body: &[u8],
    url: Option<&str>,
    now: SystemTime,
) -> Result<(), VerifyError> {
    let keys = Keys::Secrets(vec![Secret::new(key)]);
    s.verify_at(
        &keys,
        Signed {
            headers: h,
            body,
            url,
        },
        now,
    )
}

fn ms(n: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(n)
}

fn b64_hmac(key: &[u8], msg: &[u8]) -> String {
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    m.update(msg);
    base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
}

// hubspot-api-python, tests/spec/utils/test_signature.py `test_get_signature__v3`.
const HS_SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
const HS_BODY: &[u8] = b"{'example_field':'example_value'}";
const HS_URL: &str = "https://www.example.com/webhook_uri";
const HS_TS: &str = "1693657560000";
const HS_SIG: &str = "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=";

#[test]
fn hubspot_v3_published_vector_and_its_window_in_milliseconds() {
    let s = hubspot();
    let h = headers(&[
        ("X-HubSpot-Signature-v3", HS_SIG),
        ("X-HubSpot-Request-Timestamp", HS_TS),
    ]);
    let at = ms(1_693_657_560_000);
    assert_eq!(check(&s, HS_SECRET, &h, HS_BODY, Some(HS_URL), at), Ok(()));
    // 5 minutes either way, counted in milliseconds.
    let late = ms(1_693_657_560_000 + 299_000);
    assert_eq!(
        check(&s, HS_SECRET, &h, HS_BODY, Some(HS_URL), late),
        Ok(())
    );
    let too_late = ms(1_693_657_560_000 + 301_000);
    assert_eq!(
        check(&s, HS_SECRET, &h, HS_BODY, Some(HS_URL), too_late),
        Err(VerifyError::StaleTimestamp)
    );
    // What the signature covers: URL, body, timestamp, secret; and the URL is
    // required (a source without public_url cannot check it).
    for (url, body, key) in [
        (
            Some("https://www.example.com/webhook_uri/"),
            HS_BODY,
            HS_SECRET,
        ),
        (
            Some("http://www.example.com/webhook_uri"),
            HS_BODY,
            HS_SECRET,
        ),
        (
            Some(HS_URL),
            &b"{'example_field':'example_valuE'}"[..],
            HS_SECRET,
        ),
        (
            Some(HS_URL),
            HS_BODY,
            "zzzzzzzz-yyyy-yyyy-yyyy-yyyyyyyyyyyy",
        ),
    ] {
        assert_eq!(
            check(&s, key, &h, body, url, at),
            Err(VerifyError::SignatureMismatch)
        );
    }
    assert_eq!(
        check(&s, HS_SECRET, &h, HS_BODY, None, at),
        Err(VerifyError::MissingSignedHeader)
    );
    let moved = headers(&[
        ("X-HubSpot-Signature-v3", HS_SIG),
        ("X-HubSpot-Request-Timestamp", "1693657560001"),
    ]);
    assert_eq!(
        check(&s, HS_SECRET, &moved, HS_BODY, Some(HS_URL), at),
        Err(VerifyError::SignatureMismatch)
    );
    let no_ts = headers(&[("X-HubSpot-Signature-v3", HS_SIG)]);
    assert_eq!(
        check(&s, HS_SECRET, &no_ts, HS_BODY, Some(HS_URL), at),
        Err(VerifyError::BadTimestamp)
    );
    let hex_sig = headers(&[
        ("X-HubSpot-Signature-v3", &"2b".repeat(32)),
        ("X-HubSpot-Request-Timestamp", HS_TS),
    ]);
    assert_eq!(
        check(&s, HS_SECRET, &hex_sig, HS_BODY, Some(HS_URL), at),
        Err(VerifyError::MalformedSignature)
    );
    // HubSpot's own signing, as `hookgate send` and the load generator do it.
    let signed = s.sign_at(
        &Secret::new(HS_SECRET),
        &HeaderMap::new(),
        HS_BODY,
        at,
        Some(HS_URL),
    );
    let got: Vec<(String, String)> = signed
        .into_iter()
        .map(|(k, v)| (k.as_str().to_owned(), v))
        .collect();
    assert!(got.contains(&("x-hubspot-request-timestamp".into(), HS_TS.into())));
    assert!(got.contains(&("x-hubspot-signature-v3".into(), HS_SIG.into())));
}

#[test]
fn hubspot_signs_the_url_with_its_listed_escapes_decoded() {
    let s = hubspot();
    let url = "https://hooks.example.com/h?route=crm%3Acontacts&q=a%20b%2Fc";
    let decoded = "https://hooks.example.com/h?route=crm:contacts&q=a%20b/c";
    let sig = b64_hmac(
        HS_SECRET.as_bytes(),
        format!("POST{decoded}{{}}{HS_TS}").as_bytes(),
    );
    let h = headers(&[
        ("X-HubSpot-Signature-v3", &sig),
        ("X-HubSpot-Request-Timestamp", HS_TS),
    ]);
    let at = ms(1_693_657_560_000);
    assert_eq!(check(&s, HS_SECRET, &h, b"{}", Some(url), at), Ok(()));
    assert_eq!(check(&s, HS_SECRET, &h, b"{}", Some(decoded), at), Ok(()));
    // %20 is not on HubSpot's list: decoding it would be another URL.
    assert_eq!(
        check(
            &s,
            HS_SECRET,
            &h,
            b"{}",
            Some(&decoded.replace("%20", " ")),
            at
        ),
        Err(VerifyError::SignatureMismatch)
    );
}

#[test]
fn bird_signs_timestamp_url_and_the_raw_body_hash() {
    let s = bird();
    let body = br#"{"service":"channels","event":"whatsapp.inbound","payload":{"id":"m1"}}"#;
    let url = "https://domain.com/webhook/bird";
    let key = "secureSigningKey";
    let digest = <sha2::Sha256 as sha2::Digest>::digest(body);
    let signed = [b"1719823259\n", url.as_bytes(), b"\n", &digest[..]].concat();
    let sig = b64_hmac(key.as_bytes(), &signed);
    let h = headers(&[
        ("messagebird-signature", &sig),
        ("messagebird-request-timestamp", "1719823259"),
    ]);
    let at = ms(1_719_823_259_000);
    assert_eq!(check(&s, key, &h, body, Some(url), at), Ok(()));
    let mut other = body.to_vec();
    other[3] ^= 0x20;
    let stale = ms(1_719_823_259_000 + 301_000);
    for (body, url, now, want) in [
        (&other[..], url, at, VerifyError::SignatureMismatch),
        (
            body,
            "https://domain.com/webhook/bird?x",
            at,
            VerifyError::SignatureMismatch,
        ),
        (body, url, stale, VerifyError::StaleTimestamp),
    ] {
        assert_eq!(check(&s, key, &h, body, Some(url), now), Err(want));
    }
    let signed = s.sign_at(&Secret::new(key), &HeaderMap::new(), body, at, Some(url));
    assert!(signed
        .iter()
        .any(|(k, v)| k == "messagebird-signature" && *v == sig));
}

#[test]
fn the_new_placeholders_and_keys_compile_only_where_they_mean_something() {
    let compile = |signed: &str, url_decode: Option<&str>| {
        let mut layout = SignatureLayout::new(vec!["x-sig".into()]);
        layout.signed = signed.into();
        layout.url_decode = url_decode.map(str::to_owned);
        sha256(layout)
    };
    assert!(compile("{method}{url}{body:sha256}", None).is_ok());
    assert!(compile("{method}{url}", None).is_err(), "no body at all");
    assert!(compile("{body:sha512}", None).is_err());
    assert!(matches!(
        compile("{body}", Some(":")),
        Err(SchemeError::Template { reason, .. }) if reason.contains("url_decode")
    ));
    assert!(matches!(
        compile("{url}{body}", Some("a")),
        Err(SchemeError::UrlDecode('a'))
    ));
    let s = compile("{method} {body}", None).unwrap_or_else(|e| panic!("{e}"));
    assert!(!s.signs_url());
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"k").unwrap_or_else(|_| unreachable!());
    m.update(b"POST {}");
    let sig = hex::encode(m.finalize().into_bytes());
    let h = headers(&[("x-sig", &sig)]);
    assert_eq!(check(&s, "k", &h, b"{}", None, SystemTime::now()), Ok(()));
}
