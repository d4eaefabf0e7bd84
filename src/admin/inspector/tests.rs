//! The inspector's rings, budget and header bounds.

use super::*;
use crate::event::{DeadLetter, Outcome};

const MIB: usize = 1024 * 1024;

fn inspector(recent: usize, capture_bodies: bool, max_bytes: usize) -> Inspector {
    Inspector::new(Settings {
        recent,
        max_bytes,
        capture_bodies,
    })
}

fn unauthorized() -> Answer<'static> {
    Answer::Refused {
        status: 401,
        kind: "unauthorized",
        reason: Some("signature_mismatch"),
    }
}

#[test]
fn each_source_keeps_its_own_bounded_ring_under_a_flood() {
    let insp = inspector(10, false, 64 * MIB);
    let at = chrono::Utc::now();
    let refused = |source: &str, reason| {
        let seen = Seen {
            source: source.into(),
            ..Seen::default()
        };
        let answer = Answer::Refused {
            status: 401,
            kind: "unauthorized",
            reason: Some(reason),
        };
        insp.record(seen, answer, at);
    };
    for _ in 0..3 {
        refused("quiet", "signature_mismatch");
    }
    for _ in 0..5_000 {
        refused("flood", "bad_token");
    }
    let held = insp.held();
    assert_eq!((held["flood"], held["quiet"]), (10, 3));
    let newest = insp.recent(None, None, 1);
    assert_eq!(newest[0].seq, 5_003);
    assert!(
        insp.get(1).is_some(),
        "the quiet source's oldest is still there"
    );
    assert!(insp.get(4).is_none(), "the flood's oldest are gone");
    assert_eq!(insp.recent(Some("quiet"), Some("rejected"), 100).len(), 3);
}

#[test]
fn credentials_are_hidden() {
    let mut h = http::HeaderMap::new();
    h.insert(
        "x-sig",
        "sha256=abc".parse().unwrap_or_else(|_| unreachable!()),
    );
    h.insert(
        "authorization",
        "Basic eDp5".parse().unwrap_or_else(|_| unreachable!()),
    );
    h.insert(
        "content-type",
        "application/json"
            .parse()
            .unwrap_or_else(|_| unreachable!()),
    );
    let sig = http::HeaderName::from_static("x-sig");
    let shown = visible_headers(&h, &[&sig]);
    let get = |k: &str| shown.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("x-sig"), Some(HIDDEN));
    assert_eq!(get("authorization"), Some(HIDDEN));
    assert_eq!(get("content-type"), Some("application/json"));
}

#[test]
fn bodies_are_kept_only_when_asked_and_cut() {
    let at = chrono::Utc::now();
    let big = bytes::Bytes::from(vec![b'a'; MAX_CAPTURED_BODY * 2]);
    let refused = || Answer::Refused {
        status: 413,
        kind: "payload_too_large",
        reason: None,
    };
    let off = inspector(5, false, 64 * MIB);
    let e = off.record(
        Seen {
            source: "s".into(),
            body: Some(big.clone()),
            ..Seen::default()
        },
        refused(),
        at,
    );
    assert!(e.body().is_none());
    let on = inspector(5, true, 64 * MIB);
    let e = on.record(
        Seen {
            source: "s".into(),
            body: Some(big),
            ..Seen::default()
        },
        refused(),
        at,
    );
    assert_eq!(e.body().map(|b| b.len()), Some(MAX_CAPTURED_BODY));
}

fn dead_letter(body_len: usize) -> Outcome {
    let source = crate::event::SourceId::parse("sahut").unwrap_or_else(|e| panic!("{e}"));
    let body = vec![b'{'; body_len];
    let kept = crate::event::Kept {
        headers: std::collections::BTreeMap::new(),
        body: &body,
        query: None,
        item: None,
        identity: None,
    };
    let why = crate::event::Rejection::new(
        crate::event::DeadLetterReason::MalformedJson,
        "expected value",
    );
    let d = DeadLetter::new(&source, "sahut", kept, &chrono::Utc::now(), why);
    Outcome::new(Decision::DeadLetter(Box::new(d)))
}

fn padded_headers(n: usize) -> Vec<(String, String)> {
    let mut h = http::HeaderMap::new();
    for i in 0..90 {
        let name =
            http::HeaderName::try_from(format!("x-pad-{i}")).unwrap_or_else(|e| panic!("{e}"));
        let value = http::HeaderValue::try_from(format!("{n}-{}", "v".repeat(4096)))
            .unwrap_or_else(|e| panic!("{e}"));
        h.insert(name, value);
    }
    visible_headers(&h, &[])
}

#[test]
fn a_dead_letter_survives_a_flood_of_refused_requests() {
    let budget = 4 * MIB;
    let insp = inspector(10, false, budget);
    let at = chrono::Utc::now();
    let seen = |n| Seen {
        source: "sahut".into(),
        headers: padded_headers(n),
        ..Seen::default()
    };
    let dead = insp.record(seen(0), Answer::Answered(&dead_letter(100)), at);
    for n in 0..300 {
        insp.record(seen(n), unauthorized(), at);
        assert!(
            insp.held_bytes() <= budget,
            "{} after {n}",
            insp.held_bytes()
        );
    }
    let kept = insp
        .get(dead.seq)
        .unwrap_or_else(|| panic!("the dead letter went"));
    assert!(matches!(kept.dead_letter, Some(HeldDeadLetter::Whole(_))));
    assert_eq!(insp.held()["sahut"], 10);
    // An answered delivery does push out the oldest, dead letter or not.
    for _ in 0..10 {
        insp.record(seen(0), Answer::Answered(&dead_letter(100)), at);
    }
    assert!(insp.get(dead.seq).is_none());
}

#[test]
fn refused_requests_are_not_kept_when_only_dead_letters_are_left() {
    let insp = inspector(3, false, 64 * MIB);
    let at = chrono::Utc::now();
    let seen = || Seen {
        source: "sahut".into(),
        ..Seen::default()
    };
    for _ in 0..3 {
        insp.record(seen(), Answer::Answered(&dead_letter(100)), at);
    }
    let refused = insp.record(seen(), unauthorized(), at);
    assert!(insp.get(refused.seq).is_none());
    assert_eq!(
        insp.recent(None, Some("dead_lettered"), 10)
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>(),
        [3, 2, 1]
    );
}

#[test]
fn the_budget_holds_across_sources_and_the_flood_gives_first() {
    let budget = 2 * MIB;
    let insp = inspector(100_000, true, budget);
    let at = chrono::Utc::now();
    let body = bytes::Bytes::from(vec![b'x'; MAX_CAPTURED_BODY]);
    for n in 0..5 {
        insp.record(
            Seen {
                source: "quiet".into(),
                headers: padded_headers(n),
                body: Some(body.clone()),
                ..Seen::default()
            },
            unauthorized(),
            at,
        );
    }
    for n in 0..400 {
        let unmatched = n % 2 == 0;
        insp.record(
            Seen {
                source: if unmatched {
                    format!("nosuch-{n}")
                } else {
                    "flood".into()
                },
                unmatched,
                headers: padded_headers(n),
                body: Some(body.clone()),
                latency_ms: 0.0,
            },
            unauthorized(),
            at,
        );
        assert!(
            insp.held_bytes() <= budget,
            "{} after {n}",
            insp.held_bytes()
        );
    }
    let held = insp.held();
    assert_eq!(held.len(), 3, "{held:?}");
    assert_eq!(held["quiet"], 5, "{held:?}");
    assert!(held[UNMATCHED] > 10 && held["flood"] > 10, "{held:?}");
    assert!(insp.held_bytes() > budget / 2);
    // The requested names are still shown, and filtered on.
    assert_eq!(insp.recent(Some("nosuch-398"), None, 10).len(), 1);
}

#[test]
fn headers_are_bounded_in_count_and_bytes() {
    let many = padded_headers(7);
    assert!(many.len() <= MAX_HEADERS + 1);
    let bytes: usize = many.iter().map(|(k, v)| k.len() + v.len()).sum();
    assert!(bytes <= MAX_HEADER_BYTES + 64, "{bytes}");
    let (last_name, last) = &many[many.len() - 1];
    assert_eq!(last_name, "…");
    assert!(
        last.starts_with("75 more headers (") && last.ends_with("bytes) not kept"),
        "{last}"
    );
    let (_, first) = &many[0];
    assert!(
        first.len() < MAX_HEADER_VALUE + 40 && first.ends_with("[cut: 4098 bytes]"),
        "{first}"
    );
}

#[test]
fn a_large_dead_letter_is_not_kept_whole() {
    let insp = inspector(10, true, 4 * MIB);
    let at = chrono::Utc::now();
    let seen = |len: usize| Seen {
        source: "sahut".into(),
        body: Some(bytes::Bytes::from(vec![b'{'; len])),
        ..Seen::default()
    };
    let big = insp.record(seen(MIB), Answer::Answered(&dead_letter(MIB)), at);
    assert!(
        matches!(
            big.dead_letter,
            Some(HeldDeadLetter::Cut { bytes, .. }) if bytes == MIB
        ),
        "{:?}",
        big.dead_letter
    );
    assert!(
        insp.held_bytes() < MAX_CAPTURED_BODY + 4096,
        "{}",
        insp.held_bytes()
    );
    assert_eq!(big.body().map(|b| b.len()), Some(MAX_CAPTURED_BODY));
    // A small one is kept whole, for Replay, and its body is not kept twice.
    let before = insp.held_bytes();
    let small = insp.record(seen(1000), Answer::Answered(&dead_letter(1000)), at);
    assert!(matches!(small.dead_letter, Some(HeldDeadLetter::Whole(_))));
    assert_eq!(small.body().map(|b| b.len()), Some(1000));
    assert!(
        insp.held_bytes() - before < 1000 + 2048,
        "{}",
        insp.held_bytes() - before
    );
}
