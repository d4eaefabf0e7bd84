//! What the engine decides for batched and single deliveries: the budget, the
//! policy, validation and the dead letters, with their exact reasons and details.

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::event::{DeadLetter, DeadLetterReason, Decision, EventValidator, SourceId};
use crate::mapping::{mapping_schema, Mapping};
use crate::verify::{SourceAuth, Unverified, VerifyError};

const RULES: &str = r#"
[event]
type = ".kind"
time = ".at"
[events.contact]
type = "contact.created"
data = '{contact: {id: .id}}'
[[respond]]
when = '.challenge != null'
body = '{challenge: .challenge}'
"#;

fn mapping(batched: bool) -> Mapping {
    let batch = if batched {
        "[batch]\nitems = \".items[]\"\n"
    } else {
        ""
    };
    let text =
        format!("provider = \"x\"\nignore = [\"ping\"]\n[auth]\nscheme = \"none\"\n{batch}{RULES}");
    let schema = mapping_schema().unwrap_or_else(|e| panic!("{e}"));
    Mapping::compile("x.toml", &text, &schema).unwrap_or_else(|e| panic!("{e}"))
}

fn received_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

const FRESH: &str = "2025-12-31T23:30:00Z";
const OLD: &str = "2025-12-31T20:00:00Z";

fn valid(id: &str, at: &str) -> serde_json::Value {
    serde_json::json!({"kind": "contact", "id": id, "at": at})
}

/// Maps, but the canonical schemas refuse it (a contact id is a string).
fn invalid() -> serde_json::Value {
    serde_json::json!({"kind": "contact", "id": 7, "at": FRESH})
}

fn unknown() -> serde_json::Value {
    serde_json::json!({"kind": "nope", "at": FRESH})
}

fn ping() -> serde_json::Value {
    serde_json::json!({"kind": "ping"})
}

/// A batched body of `items`, padded to `pad` bytes more.
fn batch(items: Vec<serde_json::Value>, pad: usize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"items": items, "pad": "x".repeat(pad)}))
        .unwrap_or_default()
}

/// Large enough that two dead letters copying it exceed the budget.
const LARGE: usize = MAX_BATCH_DEAD_LETTER_BYTES / 2 + 1024;

fn process(batched: bool, body: Vec<u8>, policy: &Policy) -> Result<Decision, VerifyError> {
    let engine = Engine::new(EventValidator::new().unwrap_or_else(|e| panic!("{e}")));
    let req = Unverified {
        headers: http::HeaderMap::new(),
        body: body.into(),
        peer: None,
        path_token: None,
        query: None,
    }
    .verify(&SourceAuth::open())
    .unwrap_or_else(|e| panic!("{e}"));
    let source = SourceId::parse("x").unwrap_or_else(|e| panic!("{e}"));
    engine.process(&source, &mapping(batched), &req, received_at(), policy)
}

fn aged() -> Policy {
    Policy {
        max_event_age: Some(std::time::Duration::from_secs(3600)),
        tenant: Some("acme".to_owned()),
        max_batch_items: None,
    }
}

fn dead(d: &Decision) -> &DeadLetter {
    match d {
        Decision::DeadLetter(d) => d,
        other => panic!("not a dead letter: {other:?}"),
    }
}

/// (reason, detail, item, provider type) of a dead letter.
fn why(d: &Decision) -> (DeadLetterReason, &str, Option<usize>, Option<&str>) {
    let d = dead(d);
    (
        d.reason,
        d.detail.as_str(),
        d.item,
        d.providereventtype.as_deref(),
    )
}

fn items(d: Result<Decision, VerifyError>) -> Vec<Decision> {
    match d {
        Ok(Decision::Batch(items)) => items,
        other => panic!("not a batch: {other:?}"),
    }
}

#[test]
fn each_item_of_a_batch_is_decided_on_its_own() {
    let body = batch(
        vec![
            valid("c1", FRESH),
            invalid(),
            unknown(),
            ping(),
            valid("c2", OLD),
        ],
        0,
    );
    let got = items(process(true, body.clone(), &aged()));
    assert_eq!(got.len(), 5);
    match &got[0] {
        Decision::Deliver(e) => {
            assert_eq!(e.tenant.as_deref(), Some("acme"), "the policy's tenant");
            assert_eq!(e.ty, "contact.created");
        }
        other => panic!("{other:?}"),
    }
    let (reason, detail, item, ty) = why(&got[1]);
    assert_eq!(
        (reason, item, ty),
        (DeadLetterReason::SchemaViolation, Some(1), Some("contact"))
    );
    assert!(!detail.is_empty());
    assert_eq!(
        why(&got[2]),
        (
            DeadLetterReason::UnknownEventType,
            "no mapping for provider event type `nope`",
            Some(2),
            Some("nope")
        )
    );
    assert!(
        matches!(&got[3], Decision::Ignore { provider_type } if provider_type == "ping"),
        "{:?}",
        got[3]
    );
    assert_eq!(
        why(&got[4]),
        (
            DeadLetterReason::EventTooOld,
            "older than the source's max_event_age",
            Some(4),
            None
        )
    );
    // Every dead letter keeps the whole body, for a replay to verify.
    for d in [&got[1], &got[2], &got[4]] {
        assert_eq!(dead(d).body.as_deref().map(str::len), Some(body.len()));
    }
}

#[test]
fn a_batch_whose_every_item_is_too_old_is_refused_and_an_empty_one_is_not() {
    let body = batch(vec![valid("c1", OLD), valid("c2", OLD)], 0);
    assert!(matches!(
        process(true, body, &aged()),
        Err(VerifyError::EventTooOld)
    ));
    assert!(items(process(true, batch(vec![], 0), &aged())).is_empty());
}

#[test]
fn more_items_than_the_policy_allows_keep_the_delivery_whole() {
    let policy = Policy {
        max_batch_items: Some(2),
        ..Policy::default()
    };
    let body = batch(
        vec![valid("a", FRESH), valid("b", FRESH), valid("c", FRESH)],
        0,
    );
    let got = process(true, body, &policy).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        why(&got),
        (
            DeadLetterReason::BatchTooLarge,
            "the delivery carries more than 2 items (the source's max_batch_items): kept \
             whole, nothing of it delivered",
            None,
            None
        )
    );
    let two = batch(vec![valid("a", FRESH), valid("b", FRESH)], 0);
    assert_eq!(items(process(true, two, &policy)).len(), 2);
}

#[test]
fn unmappable_items_past_the_budget_keep_the_delivery_whole_once() {
    let body = batch(vec![unknown(), valid("c1", FRESH), unknown()], LARGE);
    let got = process(true, body.clone(), &Policy::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        why(&got),
        (
            DeadLetterReason::BatchTooLarge,
            "2 of its 3 items cannot be mapped (the first: unknown_event_type: no mapping for \
             provider event type `nope`); one dead letter per item would copy the body 2 \
             times: kept whole, once, nothing of it delivered",
            None,
            None
        )
    );
    assert_eq!(dead(&got).body.as_deref().map(str::len), Some(body.len()));
    // One dead item is kept on its own however large the body.
    let one = batch(vec![unknown(), valid("c1", FRESH)], LARGE);
    let got = items(process(true, one, &Policy::default()));
    assert_eq!(why(&got[0]).2, Some(0));
    assert!(matches!(got[1], Decision::Deliver(_)));
}

#[test]
fn invalid_and_late_items_count_toward_the_budget_too() {
    let whole = |items: Vec<serde_json::Value>| {
        let got = process(true, batch(items, LARGE), &aged()).unwrap_or_else(|e| panic!("{e}"));
        let (reason, detail, item, ty) = why(&got);
        assert_eq!(
            (reason, item, ty),
            (DeadLetterReason::BatchTooLarge, None, None)
        );
        assert_eq!(
            detail,
            "2 or more of its items are not valid events; one dead letter per item would copy \
             the body that many times: kept whole, once, nothing of it delivered"
        );
    };
    whole(vec![unknown(), valid("c1", FRESH), invalid()]);
    whole(vec![invalid(), invalid(), valid("c1", FRESH)]);
    // Every item too old, but past the budget first: kept whole, not refused.
    whole(vec![valid("a", OLD), valid("b", OLD), valid("c", OLD)]);
}

#[test]
fn a_batch_that_cannot_be_split_or_read_is_dead_lettered_whole() {
    let got = process(true, br#"{"items": 5}"#.to_vec(), &Policy::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let (reason, detail, item, _) = why(&got);
    assert_eq!((reason, item), (DeadLetterReason::MappingError, None));
    assert!(detail.starts_with("batch.items: "), "{detail}");
    let got = process(true, b"{".to_vec(), &Policy::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (why(&got).0, why(&got).2),
        (DeadLetterReason::MalformedJson, None)
    );
    let got =
        process(true, br#"{"challenge": "c"}"#.to_vec(), &aged()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(&got, Decision::Respond(v) if v == &serde_json::json!({"challenge": "c"})),
        "{got:?}"
    );
}

#[test]
fn a_single_delivery_is_refused_when_too_old_and_dead_lettered_whole_otherwise() {
    let one =
        |v: serde_json::Value| process(false, serde_json::to_vec(&v).unwrap_or_default(), &aged());
    assert!(matches!(
        one(valid("c1", OLD)),
        Err(VerifyError::EventTooOld)
    ));
    match one(valid("c1", FRESH)) {
        Ok(Decision::Deliver(e)) => assert_eq!(e.tenant.as_deref(), Some("acme")),
        other => panic!("{other:?}"),
    }
    let got = one(invalid()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (why(&got).0, why(&got).2, why(&got).3),
        (DeadLetterReason::SchemaViolation, None, Some("contact"))
    );
    let got = one(unknown()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        why(&got),
        (
            DeadLetterReason::UnknownEventType,
            "no mapping for provider event type `nope`",
            None,
            Some("nope")
        )
    );
    assert!(matches!(one(ping()), Ok(Decision::Ignore { .. })));
    assert!(matches!(
        one(serde_json::json!({"challenge": "c"})),
        Ok(Decision::Respond(_))
    ));
}
