//! `/metrics` after a mixed burst: the right count per outcome, verification
//! failures by reason, events by type, dead letters by reason, dedup hits.
//! (One test in this binary: the recorder is process-wide.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use hookgate::fixture;

mod common;
use common::*;

/// The value of the sample of `name` carrying every `labels` pair.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .find(|l| {
            l[name.len()..].starts_with('{')
                && labels
                    .iter()
                    .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn metrics_count_a_mixed_burst() {
    let h = Harness::new(&all_providers_config());
    let case = |p: &str, n: &str| {
        fixture::load_cases(&fixtures_root(), p)
            .unwrap()
            .into_iter()
            .find(|c| c.name == n)
            .unwrap()
    };
    // 3 accepted, 1 duplicate, 1 ignored, 1 dead letter, 2 unauthorized, 1 unknown source.
    for (p, n, outcome) in [
        ("sahut", "message-created-incoming", "accepted"),
        ("sahut", "contact-created", "accepted"),
        ("aisoule", "message-sent", "accepted"),
        ("sahut", "contact-created", "duplicate"),
        ("aisoule", "ping", "ignored"),
        ("sahut", "unknown-event-type", "dead_lettered"),
    ] {
        let (s, j, _) = h.send(request(&path_for(p), &case(p, n))).await;
        assert_eq!(
            (s, j["status"].as_str()),
            (StatusCode::OK, Some(outcome)),
            "{p}/{n}"
        );
    }
    let (s, _) = h
        .post(
            "/webhooks/savanto",
            &[("x-webhook-signature", "sha256=00")],
            "{}",
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = h.post("/webhooks/savanto", &[], "{}").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = h.post("/webhooks/no-such-source-12345", &[], "{}").await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let resp = h
        .router
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    let req = "hookgate_requests_total";
    assert_eq!(
        sample(&text, req, &[("source", "sahut"), ("outcome", "accepted")]),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            req,
            &[("source", "aisoule"), ("outcome", "accepted")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, req, &[("source", "sahut"), ("outcome", "duplicate")]),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, req, &[("source", "aisoule"), ("outcome", "ignored")]),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            req,
            &[("source", "sahut"), ("outcome", "dead_lettered")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            req,
            &[("source", "savanto"), ("outcome", "unauthorized")]
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &text,
            req,
            &[("source", "_unknown"), ("outcome", "unknown_source")]
        ),
        Some(1.0)
    );
    assert!(
        !text.contains("no-such-source-12345"),
        "URLs never become label values"
    );
    let vf = "hookgate_verification_failures_total";
    assert_eq!(
        sample(
            &text,
            vf,
            &[("source", "savanto"), ("reason", "malformed_signature")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            vf,
            &[("source", "savanto"), ("reason", "missing_signature")]
        ),
        Some(1.0)
    );
    let ev = "hookgate_events_total";
    assert_eq!(
        sample(
            &text,
            ev,
            &[("source", "sahut"), ("type", "message.created")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            ev,
            &[("source", "sahut"), ("type", "contact.created")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            ev,
            &[("source", "aisoule"), ("type", "message.sent")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            "hookgate_dead_letters_total",
            &[("source", "sahut"), ("reason", "unknown_event_type")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "hookgate_dedup_hits_total", &[("source", "sahut")]),
        Some(1.0)
    );
    // 3 events + 1 dead letter were acknowledged by the output.
    assert_eq!(
        sample(
            &text,
            "hookgate_output_ack_seconds_count",
            &[("output", "file"), ("result", "ok")]
        ),
        Some(4.0)
    );
    assert_eq!(
        sample(
            &text,
            "hookgate_request_duration_seconds_count",
            &[("source", "sahut")]
        ),
        Some(4.0)
    );
    assert!(text.contains("hookgate_requests_in_flight 0"), "{text}");
    assert!(
        text.contains("hookgate_dedup_keys 4"),
        "three events and one dead letter remembered: {text}"
    );
}
