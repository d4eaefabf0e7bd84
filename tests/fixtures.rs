//! Golden walk: every fixture case of every shipped provider produces exactly its
//! expected.json, through verification (fixtures are signed), mapping and schema.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use hookgate::config::Loaded;
use hookgate::engine::Engine;
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
            if let Err(e) = fixture::run(&engine, mapping, &case) {
                failures.push(format!("{provider}/{}: {e}", case.name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(count >= 40, "expected the full fixture set, found {count}");
}

/// Every canonical type PRODUCT.md §3 assigns to a provider is produced by at least
/// one of its fixtures.
#[test]
fn fixtures_cover_every_documented_event_type() {
    let mappings = Loaded::empty().mappings().expect("shipped mappings load");
    for provider in mappings.providers() {
        let mapping = mappings.get(provider).expect("mapping");
        let cases = fixture::load_cases(&common::fixtures_root(), provider).expect("cases");
        let seen: std::collections::BTreeSet<String> = cases
            .iter()
            .filter_map(|c| mapping.event_type(&c.headers, &c.body))
            .collect();
        for provider_type in mapping.type_table().keys() {
            assert!(
                seen.contains(provider_type),
                "{provider}: no fixture for `{provider_type}`"
            );
        }
    }
}
