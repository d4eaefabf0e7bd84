//! Fuzz target: every shipped provider's verification on arbitrary header values
//! and bodies. Must never panic; must never accept (the secret is not guessable).
#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

use hookgate::config::Loaded;
use hookgate::verify::{Scheme, Secret};
use libfuzzer_sys::fuzz_target;

fn schemes() -> &'static Vec<(Scheme, Vec<http::HeaderName>)> {
    static S: OnceLock<Vec<(Scheme, Vec<http::HeaderName>)>> = OnceLock::new();
    S.get_or_init(|| {
        let set = Loaded::empty().mappings().unwrap_or_default();
        set.providers()
            .iter()
            .filter_map(|p| set.get(p).and_then(|m| m.scheme().cloned()))
            .map(|s| {
                let h = vec![
                    s.header_name().clone(),
                    http::HeaderName::from_static("x-slack-request-timestamp"),
                    http::HeaderName::from_static("webhook-timestamp"),
                    http::HeaderName::from_static("webhook-id"),
                    http::HeaderName::from_static("x-zendesk-webhook-signature-timestamp"),
                ];
                (s, h)
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    // Split the input: the first part is the header values, the rest the body.
    let cut = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let (head, body) = data.split_at(cut);
    let values: Vec<&[u8]> = head.split(|b| *b == b'\n').collect();
    let secret = [Secret::new("fuzz-secret-that-is-not-guessable-0123456789")];
    for (scheme, names) in schemes() {
        let mut headers = http::HeaderMap::new();
        for (name, v) in names.iter().zip(values.iter()) {
            if let Ok(v) = http::HeaderValue::from_bytes(v) {
                headers.insert(name.clone(), v);
            }
        }
        let now = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let r = scheme.verify_at(&secret, &headers, body, now);
        assert!(r.is_err(), "a random input verified");
    }
});
