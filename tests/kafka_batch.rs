//! A batched delivery (WhatsApp's documented batch) written to a real broker
//! (Tansu) with its items in flight together: every item on the topic in the
//! delivery's order, per-item outcomes, a retry answered as duplicates, and a
//! batch with an item the producer refuses (written up to it, nothing after).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;

use hookgate::fixture::FIXTURE_SECRET;

mod common;
use common::broker::{consume_all, Broker};
use common::*;

const EVENTS: &str = "webhooks.events";
const DEAD: &str = "webhooks.dead-letter";
const PARTITIONS: i32 = 3;

fn harness(broker: &Broker, librdkafka: &str) -> Harness {
    broker.create_topic(EVENTS, PARTITIONS as u32);
    broker.create_topic(DEAD, 1);
    Harness::new(&format!(
        "{}\n[output]\nkind = \"kafka\"\nbrokers = \"{}\"\ntopic = \"{EVENTS}\"\n\
         dead_letter_topic = \"{DEAD}\"\n[output.librdkafka]\n{librdkafka}\n",
        source("whatsapp-cloud", "whatsapp-cloud"),
        broker.bootstrap()
    ))
}

async fn post(h: &Harness, body: &[u8]) -> (StatusCode, Value) {
    let sig = hmac_hex("sha256", FIXTURE_SECRET.as_bytes(), body);
    let req = Request::post("/webhooks/whatsapp-cloud")
        .header("content-type", "application/json")
        .header("x-hub-signature-256", format!("sha256={sig}"))
        .body(Body::from(body.to_vec()))
        .unwrap();
    let (s, j, _) = h.send(req).await;
    (s, j)
}

/// The ids of the records on the topic, in offset order per partition.
fn ids_by_partition(records: &[common::broker::Record]) -> Vec<(i32, i64, String)> {
    let mut ids: Vec<_> = records
        .iter()
        .map(|r| {
            (
                r.partition,
                r.offset,
                r.json()["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_item_of_a_batch_reaches_the_topic_in_order_and_a_retry_is_all_duplicates() {
    let broker = Broker::memory();
    let h = harness(&broker, "");
    h.wait_ready().await;
    let case = fixture_case("whatsapp-cloud", "batch-messages-and-statuses");
    let want = case.expected.clone().unwrap();
    let (status, body) = post(&h, &case.body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let events = body["events"].as_array().unwrap();
    let want_ids: Vec<&str> = want["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(events.len(), want_ids.len(), "{body}");
    for (got, id) in events.iter().zip(&want_ids) {
        assert_eq!(got["status"], "accepted", "{body}");
        assert_eq!(got["id"].as_str(), Some(*id), "{body}");
    }
    // One key (the customer's number): one partition, in the delivery's order.
    let on_topic = ids_by_partition(&consume_all(
        &broker.bootstrap(),
        EVENTS,
        PARTITIONS,
        Duration::from_secs(20),
    ));
    let partitions: std::collections::BTreeSet<_> = on_topic.iter().map(|r| r.0).collect();
    assert_eq!(partitions.len(), 1, "{on_topic:?}");
    let order: Vec<&str> = on_topic.iter().map(|r| r.2.as_str()).collect();
    assert_eq!(order, want_ids);

    let (status, body) = post(&h, &case.body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["status"] == "duplicate"),
        "{body}"
    );
    let again = consume_all(
        &broker.bootstrap(),
        EVENTS,
        PARTITIONS,
        Duration::from_secs(20),
    );
    assert_eq!(again.len(), want_ids.len(), "a retry writes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_the_producer_refuses_keeps_the_items_before_it_and_writes_none_after_it() {
    let broker = Broker::memory();
    // librdkafka's smallest limit: the documented items fit, a long text does not.
    let h = harness(&broker, "\"message.max.bytes\" = 1000");
    h.wait_ready().await;
    let case = fixture_case("whatsapp-cloud", "batch-messages-and-statuses");
    let mut doc: Value = serde_json::from_slice(&case.body).unwrap();
    doc["entry"][0]["changes"][0]["value"]["messages"][1]["text"]["body"] =
        Value::String("Can I get more info about this? ".repeat(40));
    let body = serde_json::to_vec(&doc).unwrap();
    let want = case.expected.clone().unwrap();
    let first = want["events"][0]["event"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, answer) = post(&h, &body).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    let on_topic = ids_by_partition(&consume_all(
        &broker.bootstrap(),
        EVENTS,
        PARTITIONS,
        Duration::from_secs(20),
    ));
    let ids: Vec<&str> = on_topic.iter().map(|r| r.2.as_str()).collect();
    assert_eq!(
        ids,
        vec![first.as_str()],
        "only the item before the refused one"
    );

    // The retry: the first item is a duplicate now (its claim was kept), the
    // refused one fails again, and still nothing after it is written.
    let (status, answer) = post(&h, &body).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    let again = consume_all(
        &broker.bootstrap(),
        EVENTS,
        PARTITIONS,
        Duration::from_secs(20),
    );
    assert_eq!(again.len(), 1, "{:?}", ids_by_partition(&again));
}
