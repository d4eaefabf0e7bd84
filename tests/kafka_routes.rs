//! `[[output.route]]` against a real broker (Tansu): events of three types and two
//! providers land in the topics their rules name (keys unchanged), dead letters in
//! their source's topic, a missing topic is named by `/readyz`, and records spooled
//! through a broker outage keep their topics.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

mod common;
use common::broker::{consume_all, Broker};
use common::server::{get, post_delivery, Server};
use common::*;

const EVENTS: &str = "webhooks.events";
const DEAD: &str = "webhooks.dead-letter";
const MESSAGES: &str = "chat.messages";
const CONTACTS: &str = "crm.contacts";
const SAVANTO: &str = "savanto.events";
const SAHUT_DEAD: &str = "sahut.dead-letter";

const ROUTES: &str = r#"
[[output.route]]
type = "message.*"
topic = "chat.messages"

[[output.route]]
type = "contact.*"
provider = "sahut"
topic = "crm.contacts"

[[output.route]]
provider = "savanto"
topic = "savanto.events"

[[output.route]]
source = "sahut"
dead_letter_topic = "sahut.dead-letter"
"#;

fn config(broker: &Broker, extra: &str) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:8080\"\n{}\n[output]\nkind = \"kafka\"\nbrokers = \"{}\"\nack_timeout = \"2s\"\n{extra}\n{ROUTES}\n",
        all_providers_config(),
        broker.bootstrap()
    )
}

fn make_topics(broker: &Broker) {
    for t in [EVENTS, DEAD, MESSAGES, CONTACTS, SAVANTO, SAHUT_DEAD] {
        broker.create_topic(t, 1);
    }
}

/// The cases sent, with the topic each must land in.
const CASES: &[(&str, &str, &str)] = &[
    ("sahut", "contact-created", CONTACTS),
    ("sahut", "message-created-incoming", MESSAGES),
    ("sahut", "conversation-created", EVENTS),
    ("savanto", "chat-message-sent", MESSAGES),
    ("savanto", "product-created", SAVANTO),
    ("sahut", "unknown-event-type", SAHUT_DEAD),
];

/// Posts every case; returns topic → the ids answered for it (a dead letter's id
/// comes from the record itself, so it is counted, not named).
fn send_all(server: &Server) -> BTreeMap<&'static str, BTreeSet<String>> {
    let mut want: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (provider, case, topic) in CASES {
        let c = fixture_case(provider, case);
        let (status, answer) = post_delivery(
            server.port,
            &hookgate::loadgen::Delivery {
                path: path_for(provider),
                headers: c.headers,
                body: c.body,
            },
        );
        assert_eq!(status, 200, "{provider}/{case}: {answer}");
        let id = answer["id"].as_str().unwrap_or("dead-letter").to_owned();
        want.entry(topic).or_default().insert(id);
    }
    want
}

fn assert_routed(broker: &Broker, want: &BTreeMap<&str, BTreeSet<String>>) {
    for topic in [EVENTS, DEAD, MESSAGES, CONTACTS, SAVANTO, SAHUT_DEAD] {
        let records = consume_all(&broker.bootstrap(), topic, 1, Duration::from_secs(60));
        let expected = want.get(topic).cloned().unwrap_or_default();
        if topic == SAHUT_DEAD {
            assert_eq!(records.len(), 1, "{topic}: the dead letter of sahut");
            let v = records[0].json();
            assert_eq!(v["reason"], "unknown_event_type", "{v}");
            assert_eq!(records[0].key.as_deref(), Some("sahut"));
            continue;
        }
        let ids: BTreeSet<String> = records
            .iter()
            .map(|r| r.json()["id"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(ids, expected, "{topic}");
        for r in &records {
            let v = r.json();
            let key = v["partitionkey"].as_str().or(v["id"].as_str()).unwrap();
            assert_eq!(r.key.as_deref(), Some(key), "the key is unchanged: {v}");
        }
    }
}

#[test]
fn events_land_in_their_routed_topics_and_a_missing_topic_is_named() {
    let broker = Broker::memory();
    // Everything but one routed topic exists: the gateway is not ready and says which.
    for t in [EVENTS, DEAD, MESSAGES, CONTACTS, SAHUT_DEAD] {
        broker.create_topic(t, 1);
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &config(&broker, ""), "json");
    let reason = wait_for(Duration::from_secs(30), "readyz names the topic", || {
        let (status, body) = get(server.port, "/readyz");
        (status == 503 && body.contains(&format!("topic `{SAVANTO}` does not exist")))
            .then_some(body)
    });
    println!("/readyz with a routed topic missing: {reason}");
    broker.create_topic(SAVANTO, 1);
    wait_for(Duration::from_secs(30), "ready once it exists", || {
        (get(server.port, "/readyz").0 == 200).then_some(())
    });
    let want = send_all(&server);
    assert_routed(&broker, &want);
}

#[test]
fn records_spooled_through_an_outage_keep_their_topics() {
    let mut broker = Broker::sqlite();
    make_topics(&broker);
    let dir = tempfile::tempdir().unwrap();
    let spool = format!(
        "[output.spool]\npath = \"{}\"\nmax_bytes = \"64MiB\"\nmode = \"fallback\"\n",
        dir.path().join("spool").display()
    );
    let server = Server::start(dir.path(), &config(&broker, &spool), "json");
    wait_for(Duration::from_secs(30), "ready", || {
        (get(server.port, "/readyz").0 == 200).then_some(())
    });
    broker.kill();
    let want = send_all(&server);
    let (_, metrics) = get(server.port, "/metrics");
    assert!(
        metric(&metrics, "hookgate_spool_records").unwrap_or(0.0) >= 1.0,
        "answered from the spool during the outage"
    );
    broker.start();
    // Read once the drainer has written everything: a topic is read up to a fence
    // written now, and a record drained after it would be missed.
    wait_until(Duration::from_secs(60), "the spool drains", || {
        let (_, metrics) = get(server.port, "/metrics");
        metric(&metrics, "hookgate_spool_records") == Some(0.0)
    });
    assert_routed(&broker, &want);
}
