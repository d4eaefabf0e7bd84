//! Golden walk: every fixture case of every shipped provider produces exactly its
//! expected.json, through verification (fixtures are signed), mapping and schema.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use hookgate::config::Loaded;
use hookgate::engine::{Engine, Policy, DEFAULT_MAX_BATCH_ITEMS};
use hookgate::event::EventValidator;
use hookgate::fixture;

mod common;

#[test]
fn every_fixture_case_matches_its_expected_outcome() {
    let mappings = Loaded::empty().mappings().expect("shipped mappings load");
    let engine = Engine::new(EventValidator::new().expect("schemas compile"));
    let mut failures = Vec::new();
    let mut count = 0;
    for provider in mappings.providers() {
        let mapping = mappings.get(provider).expect("mapping");
        let cases = fixture::load_cases(&common::fixtures_root(), provider).expect("cases load");
        assert!(!cases.is_empty(), "{provider} has no fixture cases");
        for case in cases {
            count += 1;
            if let Err(e) = fixture::run(&engine, mapping, &Policy::default(), &case) {
                failures.push(format!("{provider}/{}: {e}", case.name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(count >= 40, "expected the full fixture set, found {count}");
}

/// Every provider event type a shipped mapping handles (and every alias) is
/// exercised by at least one fixture case.
#[test]
fn fixtures_cover_every_documented_event_type() {
    let mappings = Loaded::empty().mappings().expect("shipped mappings load");
    let mut missing = Vec::new();
    for provider in mappings.providers() {
        let mapping = mappings.get(provider).expect("mapping");
        let cases = fixture::load_cases(&common::fixtures_root(), provider).expect("cases");
        let seen: std::collections::BTreeSet<String> = cases
            .iter()
            .flat_map(|c| mapping.event_types(&c.headers, &c.body, DEFAULT_MAX_BATCH_ITEMS))
            .collect();
        for provider_type in mapping.type_table().keys() {
            if !seen.contains(provider_type) {
                missing.push(format!("{provider}: `{provider_type}`"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "no fixture for:\n{}",
        missing.join("\n")
    );
}
