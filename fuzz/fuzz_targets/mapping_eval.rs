//! Fuzz target: every shipped mapping evaluated on arbitrary bodies (usually JSON
//! shaped by the seeds). Must never panic; every outcome is an event that passed
//! the schema, an ignore, a handshake answer, or a dead letter.
#![no_main]

use std::sync::OnceLock;

use chrono::TimeZone;
use hookgate::config::Loaded;
use hookgate::engine::{Engine, Policy};
use hookgate::event::{Decision, EventValidator, SourceId};
use hookgate::mapping::MappingSet;
use hookgate::verify::{SourceAuth, Unverified};
use libfuzzer_sys::fuzz_target;

fn setup() -> &'static (MappingSet, Engine) {
    static S: OnceLock<(MappingSet, Engine)> = OnceLock::new();
    S.get_or_init(|| {
        let set = Loaded::empty().mappings().unwrap_or_default();
        let engine = Engine::new(EventValidator::new().unwrap_or_else(|e| panic!("{e}")));
        (set, engine)
    })
}

fuzz_target!(|data: &[u8]| {
    let (set, engine) = setup();
    let now = chrono::Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    for provider in set.providers() {
        let Some(mapping) = set.get(provider) else {
            continue;
        };
        let Ok(verified) = (Unverified {
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::copy_from_slice(data),
            peer: None,
            path_token: None,
        })
        .verify(&SourceAuth::open()) else {
            continue;
        };
        let source = SourceId::parse("fuzz").unwrap_or_else(|e| panic!("{e}"));
        match engine.process(&source, mapping, &verified, now, &Policy::default()) {
            Ok(Decision::DeadLetter(d)) => assert_eq!(
                d.body
                    .as_deref()
                    .map(str::as_bytes)
                    .unwrap_or_default()
                    .len()
                    + d.body_base64
                        .as_deref()
                        .map(|_| data.len())
                        .unwrap_or_default(),
                data.len()
            ),
            Ok(Decision::Deliver(_) | Decision::Ignore { .. } | Decision::Respond(_)) => {}
            Err(refused) => panic!("no policy, yet refused: {refused}"),
        }
    }
});
