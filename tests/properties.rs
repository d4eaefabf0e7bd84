//! Property tests for the parsers hostile input reaches first: signature headers of
//! every shipped scheme, `${VAR}` interpolation, and whole mapping evaluation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, UNIX_EPOCH};

use hookgate::config::{expand, Loaded};
use hookgate::verify::{Scheme, Secret};
use proptest::prelude::*;

/// Every shipped scheme, compiled once for all cases.
fn schemes() -> &'static [Scheme] {
    static S: std::sync::OnceLock<Vec<Scheme>> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        let set = Loaded::empty().mappings().unwrap();
        set.providers()
            .iter()
            .filter_map(|p| set.get(p).and_then(|m| m.scheme().cloned()))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// Any header value, timestamp and body: verification answers (never panics) and
    /// never accepts without the secret.
    #[test]
    fn signature_headers_are_total(
        sig in "[ -~]{0,300}",
        ts in prop_oneof![Just("1767225600".to_owned()), "[0-9]{0,12}", "[ -~]{0,40}"],
        body in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let key = [Secret::new("property-test-secret")];
        let now = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        for scheme in schemes() {
            let mut h = http::HeaderMap::new();
            if let Ok(v) = http::HeaderValue::from_str(&sig) {
                h.insert(scheme.header_name().clone(), v);
            }
            for name in ["x-slack-request-timestamp", "webhook-timestamp", "x-zendesk-webhook-signature-timestamp", "webhook-id"] {
                if let Ok(v) = http::HeaderValue::from_str(&ts) {
                    h.insert(http::HeaderName::from_static(name), v);
                }
            }
            prop_assert!(scheme.verify_at(&key, &h, &body, now).is_err());
        }
    }

    /// For every shipped scheme: what it signs, it verifies; another secret does not;
    /// one flipped body byte breaks it (except a header token, which signs nothing).
    #[test]
    fn sign_then_verify_round_trips(body in proptest::collection::vec(any::<u8>(), 1..256), flip in any::<prop::sample::Index>()) {
        let now = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        for scheme in schemes() {
            let key = scheme.prepare_secret("whsec_cHJvcGVydHktdGVzdC1zZWNyZXQ=").unwrap();
            let mut h = http::HeaderMap::new();
            for (k, v) in scheme.sign_at(&key, &h.clone(), &body, now) {
                h.insert(k, v.parse().unwrap());
            }
            prop_assert!(scheme.verify_at(std::slice::from_ref(&key), &h, &body, now).is_ok());
            // Another secret never verifies it.
            let other = scheme.prepare_secret("whsec_b3RoZXItc2VjcmV0LW5vdC10aGUtb25l").unwrap();
            prop_assert!(scheme.verify_at(std::slice::from_ref(&other), &h, &body, now).is_err());
            // A header token (Telegram) authenticates the sender, not the body.
            if matches!(scheme, Scheme::HeaderToken(_)) {
                continue;
            }
            let mut tampered = body.clone();
            let i = flip.index(tampered.len());
            tampered[i] ^= 0x01;
            prop_assert!(scheme.verify_at(std::slice::from_ref(&key), &h, &tampered, now).is_err());
        }
    }

    /// Interpolation never panics; text without `$` is unchanged; `$$` is a `$`.
    #[test]
    fn interpolation_is_total(s in "[ -~]{0,200}") {
        let env = |k: &str| (k == "A").then(|| "x".to_owned());
        let _ = expand(&s, &env);
        if !s.contains('$') {
            prop_assert_eq!(expand(&s, &env).unwrap(), s.clone());
        }
        let escaped = s.replace('$', "$$");
        prop_assert_eq!(expand(&escaped, &env).unwrap(), s);
    }
}
