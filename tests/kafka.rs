//! Kafka end to end against a real broker (Tansu): every provider fixture on the
//! topic with key and headers, both binding modes, dead letters, and no
//! acknowledged delivery lost when the broker dies and comes back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};

use hookgate::fixture::{self, FIXTURE_SECRET};

mod common;
use common::broker::{consume_all, consume_distinct, Broker};
use common::*;

const EVENTS: &str = "webhooks.events";
const DEAD: &str = "webhooks.dead-letter";
const PARTITIONS: i32 = 3;

fn kafka_config(b: &Broker, extra: &str) -> String {
    format!(
        "{}\n[output]\nkind = \"kafka\"\nbrokers = \"{}\"\ntopic = \"{EVENTS}\"\ndead_letter_topic = \"{DEAD}\"\n{extra}\n",
        all_providers_config(),
        b.bootstrap()
    )
}

fn broker_with_topics(b: Broker) -> Broker {
    b.create_topic(EVENTS, PARTITIONS as u32);
    b.create_topic(DEAD, 1);
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_provider_fixture_lands_on_the_topic_structured() {
    let broker = broker_with_topics(Broker::memory());
    let h = Harness::new(&kafka_config(&broker, ""));
    h.wait_ready().await;
    let mut expected: BTreeMap<String, Value> = BTreeMap::new();
    let mut dead_expected = 0;
    let mut latencies = Vec::new();
    for provider in ["sahut", "oneroute", "magalu-sac", "aisoule", "savanto"] {
        for case in fixture::load_cases(&fixtures_root(), provider).unwrap() {
            let want = case.expected.clone().unwrap();
            let started = Instant::now();
            let (status, body, _) = h.send(request(&path_for(provider), &case)).await;
            latencies.push(started.elapsed());
            assert_eq!(status, StatusCode::OK, "{provider}/{}: {body}", case.name);
            assert_eq!(
                body["status"], want["status"],
                "{provider}/{}: {body}",
                case.name
            );
            match want["status"].as_str() {
                Some("accepted") => {
                    let ev = want["event"].clone();
                    expected.insert(ev["id"].as_str().unwrap().to_owned(), ev);
                }
                Some("dead_lettered") => dead_expected += 1,
                _ => {}
            }
        }
    }
    // Every 2xx above waited for the broker's acknowledgement: all of them are on
    // the topic now, and reading it to its end also shows any record too many.
    let records = consume_all(
        &broker.bootstrap(),
        EVENTS,
        PARTITIONS,
        Duration::from_secs(20),
    );
    assert_eq!(
        records.len(),
        expected.len(),
        "one record per accepted delivery"
    );
    let mut partition_of_key: BTreeMap<String, i32> = BTreeMap::new();
    let mut types = BTreeSet::new();
    for r in &records {
        let got = r.json();
        let id = got["id"].as_str().unwrap().to_owned();
        let want = expected
            .get(&id)
            .unwrap_or_else(|| panic!("unexpected record {got}"));
        assert_eq!(stable(got.clone()), stable(want.clone()));
        let key = want["partitionkey"].as_str().unwrap_or(&id).to_owned();
        assert_eq!(
            r.key.as_deref(),
            Some(key.as_str()),
            "key is the partition key, else the id"
        );
        assert_eq!(
            r.header("content-type"),
            Some("application/cloudevents+json; charset=utf-8")
        );
        // One key, one partition: a conversation's events stay in order.
        let p = *partition_of_key.entry(key).or_insert(r.partition);
        assert_eq!(p, r.partition);
        types.insert((
            want["provider"].as_str().unwrap().to_owned(),
            want["type"].as_str().unwrap().to_owned(),
        ));
    }
    assert!(
        types.len() >= 30,
        "every provider's canonical types are on the topic: {types:?}"
    );
    let dead = consume_all(&broker.bootstrap(), DEAD, 1, Duration::from_secs(10));
    assert_eq!(dead.len(), dead_expected);
    for d in &dead {
        let v = d.json();
        assert_eq!(d.header("hookgate_reason"), v["reason"].as_str());
        assert_eq!(d.key.as_deref(), v["source"].as_str());
        assert!(v["body"].is_string());
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize];
    println!(
        "request→2xx latency over {} deliveries (broker on loopback): p50 {:?}, p99 {:?}, max {:?}",
        latencies.len(),
        pct(0.5),
        pct(0.99),
        latencies.last().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_mode_puts_attributes_in_ce_headers() {
    let broker = broker_with_topics(Broker::memory());
    let h = Harness::new(&kafka_config(&broker, "mode = \"binary\""));
    h.wait_ready().await;
    let case = fixture::load_cases(&fixtures_root(), "sahut")
        .unwrap()
        .into_iter()
        .find(|c| c.name == "message-created-incoming")
        .unwrap();
    let want = case.expected.clone().unwrap()["event"].clone();
    let (status, _, _) = h.send(request("/webhooks/sahut", &case)).await;
    assert_eq!(status, StatusCode::OK);
    let records = consume_all(
        &broker.bootstrap(),
        EVENTS,
        PARTITIONS,
        Duration::from_secs(20),
    );
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.json(), want["data"], "the value is the data alone");
    assert_eq!(r.header("content-type"), Some("application/json"));
    for attr in [
        "specversion",
        "id",
        "source",
        "type",
        "time",
        "subject",
        "provider",
        "providereventtype",
        "providereventid",
        "partitionkey",
    ] {
        assert_eq!(
            r.header(&format!("ce_{attr}")),
            want[attr].as_str(),
            "ce_{attr}"
        );
    }
    assert!(r.header("ce_receivedat").is_some());
    assert_eq!(
        r.header("ce_tenant"),
        None,
        "absent attributes are absent headers"
    );
    assert_eq!(r.key.as_deref(), want["partitionkey"].as_str());
}

fn sahut_delivery(n: usize) -> (Vec<u8>, String) {
    let body = serde_json::to_vec(&json!({
        "id": format!("evt_burst_{n:05}"),
        "event": "message.created",
        "created_at": "2026-03-02T08:15:04Z",
        "data": {"id": format!("msg_{n}"), "type": "incoming", "content": format!("message {n}"),
                 "conversation_id": format!("conv_{}", n % 7), "created_at": "2026-03-02T08:15:03Z"}
    }))
    .unwrap();
    let sig = hmac_hex("sha256", FIXTURE_SECRET.as_bytes(), &body);
    (body, sig)
}

async fn post_sahut(h: &Harness, n: usize) -> (StatusCode, Value, Option<String>) {
    let (body, sig) = sahut_delivery(n);
    let req = Request::post("/webhooks/sahut")
        .header("x-sahut-signature", sig)
        .body(Body::from(body))
        .unwrap();
    let (s, j, headers) = h.send(req).await;
    let retry = headers
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (s, j, retry)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_down_answers_503_and_the_retry_gets_through_after_restart() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(std::env::var("TEST_LOG").unwrap_or("warn".into()))
        .with_test_writer()
        .try_init();
    let mut broker = broker_with_topics(Broker::sqlite());
    let extra = format!(
        "ack_timeout = \"2s\"\n{}",
        std::env::var("TEST_KAFKA_EXTRA").unwrap_or_default()
    );
    let h = Harness::new(&kafka_config(&broker, &extra));
    h.wait_ready().await;
    let (s, j, _) = post_sahut(&h, 1).await;
    assert_eq!(
        (s, j["status"].as_str()),
        (StatusCode::OK, Some("accepted"))
    );

    broker.kill();
    let started = Instant::now();
    let (s, j, retry) = post_sahut(&h, 2).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{j}");
    assert_eq!(j["error"], "unavailable");
    assert_eq!(retry.as_deref(), Some("5"));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "answered within the ack budget: {:?}",
        started.elapsed()
    );
    let (s, j, _) = h
        .send(Request::get("/readyz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{j}");
    assert_eq!(j["status"], "not_ready");

    broker.start();
    h.wait_ready().await;
    // The provider's retry: the claim was released, so it is delivered now.
    let mut last = Value::Null;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let (s, j, _) = post_sahut(&h, 2).await;
        if s == StatusCode::OK {
            last = j;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        last["status"],
        "accepted",
        "{last}; broker alive: {}; broker log:\n{}",
        broker.alive(),
        broker.log()
    );
    // Both were acknowledged: on the topic now (the first survived the restart).
    let records = consume_all(
        &broker.bootstrap(),
        EVENTS,
        PARTITIONS,
        Duration::from_secs(20),
    );
    let ids: BTreeSet<String> = records
        .iter()
        .map(|r| r.json()["providereventid"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        ids.contains("evt_burst_00001") && ids.contains("evt_burst_00002"),
        "{ids:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_2xx_is_lost_when_the_broker_crashes_during_a_burst() {
    const N: usize = 400;
    const WORKERS: usize = 8;
    let broker = Arc::new(tokio::sync::Mutex::new(
        broker_with_topics(Broker::sqlite()),
    ));
    let bootstrap = broker.lock().await.bootstrap();
    let h = Arc::new(Harness::new(&kafka_config(
        &*broker.lock().await,
        "ack_timeout = \"2s\"",
    )));
    h.wait_ready().await;

    // Crash the broker a moment into the burst, bring it back two seconds later.
    let chaos = {
        let broker = broker.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(400)).await;
            broker.lock().await.kill();
            tokio::time::sleep(Duration::from_secs(2)).await;
            broker.lock().await.start();
        })
    };
    let acked = Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let (h, acked) = (h.clone(), acked.clone());
        workers.push(tokio::spawn(async move {
            let mut failed = Vec::new();
            for n in (w..N).step_by(WORKERS) {
                let (s, j, _) = post_sahut(&h, n).await;
                if s == StatusCode::OK {
                    assert!(
                        matches!(j["status"].as_str(), Some("accepted" | "duplicate")),
                        "{j}"
                    );
                    acked.lock().unwrap().insert(n);
                } else {
                    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{j}");
                    failed.push(n);
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            failed
        }));
    }
    let mut failed = Vec::new();
    for w in workers {
        failed.extend(w.await.unwrap());
    }
    chaos.await.unwrap();
    let acked_during_burst = acked.lock().unwrap().clone();
    println!(
        "burst: {} answered 2xx, {} answered 503 while the broker was down",
        acked_during_burst.len(),
        failed.len()
    );
    assert!(
        !failed.is_empty(),
        "the crash should have refused some deliveries"
    );

    // The provider retries what was refused, until it is taken.
    h.wait_ready().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while let Some(n) = failed.pop() {
        let (s, _, _) = post_sahut(&h, n).await;
        if s != StatusCode::OK {
            assert!(Instant::now() < deadline, "retries never got through");
            failed.insert(0, n);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    // Read until every delivery's id was seen: a record produced twice across the
    // crash counts once (counting records stopped one id short of the end).
    let burst_id = |r: &common::broker::Record| -> usize {
        r.json()["providereventid"].as_str().unwrap()[10..]
            .parse()
            .unwrap()
    };
    let records = consume_distinct(
        &bootstrap,
        EVENTS,
        PARTITIONS,
        N,
        Duration::from_secs(60),
        |r| burst_id(r).to_string(),
    );
    let on_topic: BTreeSet<usize> = records.iter().map(burst_id).collect();
    let lost: Vec<&usize> = acked_during_burst.difference(&on_topic).collect();
    assert!(
        lost.is_empty(),
        "deliveries answered 2xx but missing from Kafka: {lost:?}"
    );
    assert_eq!(
        on_topic.len(),
        N,
        "after the retries every delivery is on the topic"
    );
    println!(
        "on topic: {} records for {} deliveries ({} duplicates)",
        records.len(),
        N,
        records.len() - on_topic.len()
    );
}
