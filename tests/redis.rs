//! Shared deduplication across replicas with a real Redis: concurrent copies split
//! between two gateways, a claim abandoned by a dead replica, Redis outages in both
//! failure modes, and dedup resuming when Redis is back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};

use hookgate::dedup::{Claim, DedupConfig, DedupKey, DedupStoreKind, OnUnavailable};
use hookgate::event::{DedupId, EventId, SourceId};
use hookgate::fixture::FIXTURE_SECRET;

mod common;
use common::redis::Redis;
use common::*;

fn config(redis: &Redis, extra: &str) -> String {
    format!(
        "{}\n[dedup]\nstore = \"redis\"\nurl = \"{}\"\nin_flight_wait = \"2s\"\npending_ttl = \"3s\"\n{extra}\n",
        all_providers_config().replace("[dedup]\nin_flight_wait = \"2s\"\n", ""),
        redis.url()
    )
}

fn sahut(n: usize) -> (Vec<u8>, String) {
    let body = serde_json::to_vec(&json!({
        "id": format!("evt_redis_{n}"), "event": "contact.created", "created_at": "2026-03-02T08:15:04Z",
        "data": {"id": format!("ct_{n}"), "name": "Siti"}
    }))
    .unwrap();
    let sig = hmac_hex("sha256", FIXTURE_SECRET.as_bytes(), &body);
    (body, sig)
}

async fn post(h: &Harness, n: usize) -> (StatusCode, Value) {
    let (body, sig) = sahut(n);
    let req = Request::post("/webhooks/sahut")
        .header("x-sahut-signature", sig)
        .body(Body::from(body))
        .unwrap();
    let (s, j, _) = h.send(req).await;
    (s, j)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_copies_split_between_two_replicas_deliver_once() {
    let redis = Redis::start();
    let a = Arc::new(Harness::new(&config(&redis, "")));
    let b = Arc::new(Harness::new(&config(&redis, "")));
    let mut tasks = Vec::new();
    for i in 0..50 {
        let h = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move { post(&h, 1).await }));
    }
    let mut counts = std::collections::BTreeMap::new();
    for t in tasks {
        let (s, j) = t.await.unwrap();
        assert_eq!(s, StatusCode::OK, "{j}");
        *counts
            .entry(j["status"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    assert_eq!(counts.get("accepted"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("duplicate"), Some(&49), "{counts:?}");
    assert_eq!(
        a.events().len() + b.events().len(),
        1,
        "exactly one event across both replicas"
    );
}

fn key(n: usize) -> DedupKey {
    let source = SourceId::parse("sahut").unwrap();
    let id = EventId::derive(&source, &DedupId::new(format!("evt_redis_{n}")));
    DedupKey { source, id }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_abandoned_by_a_dead_replica_expires_after_the_pending_ttl() {
    const PENDING_TTL: Duration = Duration::from_secs(3);
    let redis = Redis::start();
    // Built first, so the first copy arrives right after the claim.
    let h = Harness::new(&config(&redis, ""));
    // The "dead replica": claims and never commits or releases.
    let dead = DedupConfig {
        store: DedupStoreKind::Redis,
        url: Some(redis.url()),
        pending_ttl: PENDING_TTL,
        in_flight_wait: Duration::from_secs(1),
        on_unavailable: OnUnavailable::Closed,
        ..DedupConfig::default()
    }
    .build()
    .unwrap();
    let before_claim = Instant::now();
    assert!(matches!(
        dead.claim(&key(7), Duration::ZERO).await.unwrap(),
        Claim::Acquired(_)
    ));

    // The provider retries until the delivery is taken. Each copy waits up to
    // `in_flight_wait` (2 s) for the claim; while it stands the answer is 503
    // `in_flight` and nothing is delivered; the copy that gets through does so
    // only once the pending TTL ran out.
    let (mut refused, mut accepted) = (0, None);
    let deadline = before_claim + PENDING_TTL + Duration::from_secs(20);
    while accepted.is_none() {
        assert!(Instant::now() < deadline, "the claim never expired");
        let (s, j) = post(&h, 7).await;
        match (s, j["status"].as_str(), j["error"].as_str()) {
            (StatusCode::SERVICE_UNAVAILABLE, _, Some("in_flight")) => {
                refused += 1;
                assert!(
                    h.events().is_empty(),
                    "never delivered while another copy may be in flight"
                );
            }
            (StatusCode::OK, Some("accepted"), _) => accepted = Some(before_claim.elapsed()),
            other => panic!("unexpected answer {other:?}: {j}"),
        }
    }
    let at = accepted.unwrap_or_default();
    assert!(
        refused >= 1,
        "the first copy was refused while the claim stood"
    );
    // Redis expires the key `pending_ttl` after it was set, which was after
    // `before_claim` (a few ms of slack for Redis's own clock).
    assert!(
        at + Duration::from_millis(10) >= PENDING_TTL,
        "delivered {at:?} after the claim, before its {PENDING_TTL:?} expiry"
    );
    assert_eq!(h.events().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_fail_open_delivers_and_dedup_resumes_when_back() {
    let mut redis = Redis::start();
    let h = Harness::new(&config(&redis, ""));
    assert_answer(post(&h, 1).await, StatusCode::OK, "accepted");

    redis.stop();
    // Fail-open (the default): deliveries go through, nothing answered 2xx is lost.
    for n in 2..5 {
        assert_answer(post(&h, n).await, StatusCode::OK, "accepted");
    }
    assert_eq!(h.events().len(), 4);

    redis.restart();
    // The connection manager reconnects by itself; dedup works again.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (s, j) = post(&h, 9).await;
        assert_eq!(s, StatusCode::OK, "{j}");
        let (s2, j2) = post(&h, 9).await;
        assert_eq!(s2, StatusCode::OK, "{j2}");
        if j2["status"] == "duplicate" {
            break;
        }
        // Until Redis is reachable again the copies are delivered (fail-open).
        assert!(Instant::now() < deadline, "dedup did not resume: {j2}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let ids: Vec<String> = h
        .events()
        .iter()
        .map(|e| e["providereventid"].as_str().unwrap().to_owned())
        .collect();
    for n in 1..5 {
        assert!(ids.contains(&format!("evt_redis_{n}")), "{ids:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_fail_closed_answers_503_and_loses_nothing() {
    let mut redis = Redis::start();
    let h = Harness::new(&config(&redis, "on_unavailable = \"closed\""));
    redis.stop();
    let started = Instant::now();
    assert_answer(
        post(&h, 3).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "fails fast: {:?}",
        started.elapsed()
    );
    assert!(h.events().is_empty());
    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (s, j) = post(&h, 3).await;
        if s == StatusCode::OK {
            assert_eq!(j["status"], "accepted");
            break;
        }
        assert!(Instant::now() < deadline, "never recovered: {j}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(h.events().len(), 1);
    let (_, j) = post(&h, 3).await;
    assert_eq!(j["status"], "duplicate");
}
