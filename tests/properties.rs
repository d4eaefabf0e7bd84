//! Property tests for the parsers hostile input reaches first: signature headers of
//! every shipped scheme, `${VAR}` interpolation, and whole mapping evaluation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, UNIX_EPOCH};

use hookgate::config::{expand, Loaded};
use hookgate::fixture::{
    FIXTURE_EC_PRIVATE, FIXTURE_EC_PUBLIC, FIXTURE_RSA_PRIVATE, FIXTURE_RSA_PUBLIC,
};
use hookgate::verify::{Keys, Kind, Scheme, Secret, Signed, VerifyError};
use proptest::prelude::*;
use sha2::Digest;

/// Every scheme of every shipped mapping, compiled once for all cases.
fn schemes() -> &'static [Scheme] {
    static S: std::sync::OnceLock<Vec<Scheme>> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        let set = Loaded::empty().mappings().unwrap();
        set.providers()
            .iter()
            .filter_map(|p| set.get(p))
            .flat_map(|m| m.schemes().to_vec())
            .collect()
    })
}

/// Where the URL-signing schemes are told the request went.
const URL: &str = "https://hooks.example.com/webhooks/src";

/// The secret the round trip signs with.
const MAIN_SECRET: &str = "whsec_cHJvcGVydHktdGVzdC1zZWNyZXQ=";

/// Public keys of someone else (nyaruka/courier's Freshchat key, sendgrid-python's
/// test key): what "another key" is for the RSA and P-256 schemes.
const OTHER_RSA_PUBLIC: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuGJLF4hTTtxWogT6dNkGf3CEgLAR2mGJzlds5cNbrHFoJNFnmVhkRYGzLYxx4EtDiezNCZVHfyMI2AKuNSQW2fEdDatVIG+q3Zr/X9eeDl8kQOGy804J/fgCYDrN8RQu0n5Dh1inv4puca0wb29SCvoAwrWb33ehDBIvv6+rUKBdjtv2xTV65kNiVDo5VRCaYRVeE10osxeONgw55HVY4nczuxnR+dmc2282de6WHe5LXtr0ZBdJ8yttFOLIluZ/sNM5DIWZBkIWQhyT581tbA7bTpsIbrT/IMBlmioIILw8WGtI7zcmNkjU5dnq5HnlVKEDhj/Ug/dLiyno8+Vp7QIDAQAB";
const OTHER_EC_PUBLIC: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==";

/// Verifies with a secret or, for a public-key scheme, the public key the secret
/// stands for: Ed25519's is derived from it; RSA's and P-256's are the fixture key
/// for [`MAIN_SECRET`] and someone else's for any other secret.
fn check(
    scheme: &Scheme,
    key: &Secret,
    h: &http::HeaderMap,
    body: &[u8],
    now: std::time::SystemTime,
    url: &str,
) -> Result<(), VerifyError> {
    let main = key.expose() == MAIN_SECRET.as_bytes();
    let public = match scheme.public_key_kind() {
        None => None,
        Some(Kind::Ed25519) => {
            let seed: [u8; 32] = sha2::Sha256::digest(key.expose()).into();
            let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
            Some(hex::encode(public.as_bytes()))
        }
        Some(Kind::RsaSha256) if main => Some(FIXTURE_RSA_PUBLIC.to_owned()),
        Some(Kind::RsaSha256) => Some(OTHER_RSA_PUBLIC.to_owned()),
        Some(_) if main => Some(FIXTURE_EC_PUBLIC.to_owned()),
        Some(_) => Some(OTHER_EC_PUBLIC.to_owned()),
    };
    let keys = match public {
        Some(p) => Keys::Public(vec![scheme.prepare_public_key(&p).unwrap()]),
        None => Keys::Secrets(vec![key.clone()]),
    };
    let req = Signed {
        headers: h,
        body,
        url: Some(url),
    };
    scheme.verify(&keys, req, now, true)
}

/// The key a scheme signs with: the secret, or for a public-key scheme the private
/// key `check` finds the public one of.
fn signing_key(scheme: &Scheme, key: &Secret) -> Secret {
    match scheme.public_key_kind() {
        None => key.clone(),
        Some(Kind::Ed25519) => {
            let seed: [u8; 32] = sha2::Sha256::digest(key.expose()).into();
            Secret::new(seed.to_vec())
        }
        Some(Kind::RsaSha256) => Secret::new(FIXTURE_RSA_PRIVATE.as_bytes()),
        Some(_) => Secret::new(FIXTURE_EC_PRIVATE.as_bytes()),
    }
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
            prop_assert!(check(scheme, &key[0], &h, &body, now, URL).is_err());
        }
    }

    /// For every shipped scheme: what it signs, it verifies; another secret does not;
    /// one flipped body byte breaks it (except a header token, which signs nothing).
    #[test]
    fn sign_then_verify_round_trips(body in proptest::collection::vec(any::<u8>(), 1..256), flip in any::<prop::sample::Index>()) {
        let now = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        // Published-key tokens prove the sender, not the body, and need a key
        // server: tests/published_keys.rs covers them.
        for scheme in schemes().iter().filter(|s| !s.takes_published_keys()) {
            let prepare = |s: &str| scheme.prepare_secret(s).unwrap_or_else(|_| Secret::new(s.as_bytes()));
            let key = prepare(MAIN_SECRET);
            // Twilio signs form fields, which arbitrary bytes are not: its JSON mode
            // covers any body through the URL's bodySHA256.
            let url = match scheme {
                Scheme::Twilio(_) => format!("{URL}?bodySHA256={}", hex::encode(sha2::Sha256::digest(&body))),
                _ => URL.to_owned(),
            };
            let mut h = http::HeaderMap::new();
            for (k, v) in scheme.sign_at(&signing_key(scheme, &key), &h.clone(), &body, now, Some(&url)) {
                h.insert(k, v.parse().unwrap());
            }
            prop_assert!(check(scheme, &key, &h, &body, now, &url).is_ok());
            // Another secret never verifies it.
            let other = prepare("whsec_b3RoZXItc2VjcmV0LW5vdC10aGUtb25l");
            prop_assert!(check(scheme, &other, &h, &body, now, &url).is_err());
            // A header token (Telegram) authenticates the sender, not the body.
            if matches!(scheme, Scheme::HeaderToken(_)) {
                continue;
            }
            let mut tampered = body.clone();
            let i = flip.index(tampered.len());
            tampered[i] ^= 0x01;
            prop_assert!(check(scheme, &key, &h, &tampered, now, &url).is_err());
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// The `$headers` scanner behind `check`'s unsigned-header report is total and
    /// never misses a literal read, whatever surrounds it.
    #[test]
    fn header_reads_never_miss_a_literal_read(
        before in "[ -~]{0,40}",
        name in "[a-z][a-z0-9-]{0,20}",
        after in "[ -~]{0,40}",
        spelling in 0usize..3,
    ) {
        let read = match spelling {
            0 => format!("$headers[\"{name}\"]"),
            1 => format!("$headers.\"{name}\""),
            _ => format!("$headers | .[\"{name}\"]"),
        };
        let reads = hookgate::mapping::HeaderReads::scan(&format!("{before}{read}{after}"));
        prop_assert!(reads.names.contains(&name) || reads.any, "{reads:?}");
    }

    /// Whatever a `whsec_` secret holds, a key is either refused or at least one byte:
    /// an empty HMAC key (anybody can sign with it) never comes out.
    #[test]
    fn whsec_decoding_never_yields_an_empty_key(tail in "[A-Za-z0-9+/=_%-]{0,40}") {
        static STD: std::sync::OnceLock<Scheme> = std::sync::OnceLock::new();
        let scheme = STD.get_or_init(|| {
            let set = Loaded::empty().mappings().unwrap();
            set.get("standard-webhooks").and_then(|m| m.scheme().cloned()).unwrap()
        });
        if let Ok(key) = scheme.prepare_secret(&format!("whsec_{tail}")) {
            prop_assert!(!key.is_empty());
        }
    }

    /// Any duration in any key: the configuration is refused, or every duration it
    /// holds is one the gateway can add to a deadline.
    #[test]
    fn durations_are_bounded_whatever_is_written(
        key in prop::sample::select(vec![
            "server.read_timeout", "server.shutdown_timeout", "dedup.ttl",
            "dedup.in_flight_wait", "dedup.pending_ttl", "dedup.timeout",
        ]),
        amount in 0u64..u64::MAX,
        unit in prop::sample::select(vec!["ms", "s", "m", "h", "d", "y"]),
    ) {
        let (section, name) = key.split_once('.').unwrap();
        let text = format!("[{section}]\n{name} = \"{amount}{unit}\"\n");
        if let Ok(c) = hookgate::config::parse(&text, "p.toml", &|_| None) {
            let year = Duration::from_secs(367 * 24 * 3600);
            for d in [c.server.read_timeout, c.server.shutdown_timeout, c.dedup.ttl,
                      c.dedup.in_flight_wait, c.dedup.pending_ttl, c.dedup.timeout] {
                prop_assert!(d <= year);
                prop_assert!(std::time::Instant::now().checked_add(d).is_some());
            }
        }
    }
}
