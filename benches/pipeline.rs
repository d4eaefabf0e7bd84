//! The pipeline's stages per provider, on each provider's first event fixture:
//! verify (signature), parse (the body into jq values), map (parse + jq), validate (canonical schemas), encode
//! (the record an output writes), and process (map + validate, as the gateway runs
//! it). Dedup has its own bench (`benches/dedup.rs`). `map_jaq` is `map` with the
//! native jq evaluator off (every expression in jaq), for comparison. The
//! `kafka_record` group builds the Kafka record of one event (structured and binary
//! mode) and of a dead letter, without and with the schema registry's wire-format
//! framing.
//! Run: cargo bench --bench pipeline [-- FILTER], e.g. `-- sahut/map`.

use std::time::Duration;

// The same allocator as the binary, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use hookgate::engine::{Engine, Policy, DEFAULT_MAX_BATCH_ITEMS};
use hookgate::event::{CanonicalEvent, Decision, EventValidator, SourceId};
use hookgate::fixture::{self, Case};
use hookgate::mapping::{Item, Mapped, Mapping, MappingSet};
use hookgate::verify::{SourceAuth, Unverified, Verified};

fn fail<E: std::fmt::Debug>(e: E) -> ! {
    panic!("{e:?}")
}

/// The provider's first fixture case that becomes an event.
fn first_event(engine: &Engine, mapping: &Mapping, cases: Vec<Case>) -> Option<Case> {
    cases.into_iter().find(|c| {
        fixture::outcome(engine, mapping, &Policy::default(), c).is_ok_and(|o| {
            o["status"] == "accepted"
                || (o["status"] == "batch"
                    && o["events"]
                        .as_array()
                        .is_some_and(|e| e.len() == 1 && e[0]["status"] == "accepted"))
        })
    })
}

/// The event of a one-event delivery (a batched provider's delivery of one item).
fn delivered(m: &Mapped) -> Option<CanonicalEvent> {
    match m.events()?.as_slice() {
        [e] => Some((*e).clone()),
        _ => None,
    }
}

fn is_event(m: &Mapped) -> bool {
    let event = |i: &Result<Item, _>| matches!(i, Ok(Item::Event(_)));
    match m {
        Mapped::One(item) => event(item),
        Mapped::Batch(items) => items.iter().all(event),
        _ => false,
    }
}

fn is_delivered(d: &Decision) -> bool {
    match d {
        Decision::Deliver(_) => true,
        Decision::Batch(items) => items.iter().all(is_delivered),
        _ => false,
    }
}

fn auth_for(mapping: &Mapping, case: &Case) -> SourceAuth {
    fixture::fixture_auth(mapping, case.url.as_deref()).unwrap_or_else(|e| fail(e))
}

fn unverified(case: &Case) -> Unverified {
    Unverified {
        headers: case.headers.clone(),
        body: case.body.clone(),
        peer: None,
        path_token: None,
        query: fixture::url_query(case.url.as_deref()),
    }
}

fn stages(c: &mut Criterion) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mappings = MappingSet::load(&[]).unwrap_or_else(|e| fail(e));
    // The switch is read when a mapping is compiled.
    std::env::set_var("HOOKGATE_NATIVE_JQ", "0");
    let jaq_only = MappingSet::load(&[]).unwrap_or_else(|e| fail(e));
    std::env::remove_var("HOOKGATE_NATIVE_JQ");
    let engine = Engine::new(EventValidator::new().unwrap_or_else(|e| fail(e)));
    let validator = EventValidator::new().unwrap_or_else(|e| fail(e));
    let at = fixture::fixture_received_at();
    let now = fixture::fixture_now();
    for provider in mappings.providers() {
        let mapping = mappings.get(provider).unwrap_or_else(|| fail(provider));
        let cases = fixture::load_cases(&root, provider).unwrap_or_else(|e| fail(e));
        let Some(case) = first_event(&engine, mapping, cases) else {
            continue;
        };
        let source = SourceId::parse(provider).unwrap_or_else(|e| fail(e));
        let auth = auth_for(mapping, &case);
        let verified: Verified = unverified(&case)
            .verify_at(&auth, now)
            .unwrap_or_else(|e| fail(e));
        let Some(event) = delivered(&mapping.map(&source, &verified, at, DEFAULT_MAX_BATCH_ITEMS))
        else {
            fail(format!("{provider}: not an event"))
        };
        let mut g = c.benchmark_group(provider.to_owned());
        g.bench_function("verify", |b| {
            b.iter_batched(
                || unverified(&case),
                |u| u.verify_at(&auth, now).is_ok(),
                BatchSize::SmallInput,
            )
        });
        g.bench_function("parse", |b| {
            b.iter(|| serde_json::from_slice::<jaq_json::Val>(&case.body).is_ok())
        });
        g.bench_function("map", |b| {
            b.iter(|| is_event(&mapping.map(&source, &verified, at, DEFAULT_MAX_BATCH_ITEMS)))
        });
        let jaq_mapping = jaq_only.get(provider).unwrap_or_else(|| fail(provider));
        g.bench_function("map_jaq", |b| {
            b.iter(|| is_event(&jaq_mapping.map(&source, &verified, at, DEFAULT_MAX_BATCH_ITEMS)))
        });
        g.bench_function("validate", |b| {
            b.iter(|| {
                let v = serde_json::to_value(&event).unwrap_or_else(|e| fail(e));
                validator.validate(&v).is_ok()
            })
        });
        g.bench_function("encode", |b| {
            b.iter(|| serde_json::to_vec(&event).map(|v| v.len()).unwrap_or(0))
        });
        g.bench_function("process", |b| {
            b.iter(|| {
                engine
                    .process(&source, mapping, &verified, at, &Policy::default())
                    .is_ok_and(|d| is_delivered(&d))
            })
        });
        g.finish();
    }
}

/// The record the Kafka output writes for a Sahut event (its fixture's expected
/// event) and for a dead letter of the same delivery: plain JSON, and framed with a
/// schema id (what `[output.schema_registry]` adds to the Kafka path).
fn kafka_record(c: &mut Criterion) {
    use hookgate::event::{CanonicalEvent, DeadLetter, DeadLetterReason, Kept, Rejection};
    use hookgate::output::kafka::record::{dead_letter_record, event_record};
    use hookgate::output::KafkaMode;

    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sahut/contact-created");
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap_or_else(|e| fail(e));
    let json = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&read(name)).unwrap_or_else(|e| fail(e))
    };
    let event: CanonicalEvent =
        serde_json::from_value(json("expected.json")["event"].clone()).unwrap_or_else(|e| fail(e));
    let headers = serde_json::from_value(json("headers.json")).unwrap_or_else(|e| fail(e));
    let body = read("body.json");
    let dead = DeadLetter::new(
        &SourceId::parse("sahut").unwrap_or_else(|e| fail(e)),
        "sahut",
        Kept {
            headers,
            body: &body,
            query: None,
            item: None,
            identity: None,
        },
        &fixture::fixture_received_at(),
        Rejection::new(DeadLetterReason::UnknownEventType, "no mapping"),
    );
    let mut g = c.benchmark_group("kafka_record");
    for (name, mode) in [
        ("structured", KafkaMode::Structured),
        ("binary", KafkaMode::Binary),
    ] {
        for (suffix, id) in [("", None), ("_framed", Some(100_001))] {
            g.bench_function(format!("{name}{suffix}"), |b| {
                b.iter(|| {
                    event_record(&event, "webhooks.events", mode, id)
                        .map(|r| r.value.len())
                        .unwrap_or(0)
                })
            });
        }
    }
    for (suffix, id) in [("", None), ("_framed", Some(100_002))] {
        g.bench_function(format!("dead_letter{suffix}"), |b| {
            b.iter(|| {
                dead_letter_record(&dead, "webhooks.dead-letter", id)
                    .map(|r| r.value.len())
                    .unwrap_or(0)
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = stages, kafka_record
}
criterion_main!(benches);
