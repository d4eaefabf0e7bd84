//! `[output.schema_registry]` against a real broker (Tansu) and a Confluent-compatible
//! registry the tests run (`common::registry`): every record value is framed in the
//! Confluent wire format with the id registered under the right subject and is
//! decoded by a real Confluent client library (schema_registry_converter's
//! `JsonDecoder`); a registry down at start keeps `/readyz` at 503 and writes
//! nothing, one down mid-run changes nothing; an incompatible schema stops start-up;
//! records through the spool are framed as well.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use schema_registry_converter::async_impl::json::JsonDecoder;
use schema_registry_converter::async_impl::schema_registry::SrSettings;
use serde_json::Value;

mod common;
use common::broker::{consume_all, Broker, Record};
use common::registry::Registry;
use common::server::{get, post_delivery, Server, BIN};
use common::*;

const EVENTS: &str = "webhooks.events";
const DEAD: &str = "webhooks.dead-letter";
const CHAT: &str = "chat.messages";

/// A gateway writing to `broker` in `mode`, with `registry` (the
/// `[output.schema_registry]` body) and `extra` (more of `[output]`, after it).
fn config(broker_bootstrap: &str, mode: &str, registry: &str, extra: &str) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:8080\"\n{}\n[output]\nkind = \"kafka\"\nbrokers = \"{broker_bootstrap}\"\nmode = \"{mode}\"\nack_timeout = \"5s\"\n\n[output.schema_registry]\n{registry}\n{extra}\n",
        all_providers_config(),
    )
}

fn registry_table(registry: &Registry, more: &str) -> String {
    format!("url = \"{}\"\n{more}", registry.url())
}

fn broker_with_topics(topics: &[&str]) -> Broker {
    let broker = Broker::memory();
    for t in topics {
        broker.create_topic(t, 1);
    }
    broker
}

fn wait_readyz(server: &Server, want: u16, what: &str) -> String {
    wait_for(Duration::from_secs(30), what, || {
        let (status, body) = get(server.port, "/readyz");
        (status == want).then_some(body)
    })
}

/// Posts a fixture case: the status and the answer.
fn post(server: &Server, provider: &str, case: &str) -> (u16, Value) {
    let c = fixture_case(provider, case);
    post_delivery(
        server.port,
        &hookgate::loadgen::Delivery {
            path: path_for(provider),
            headers: c.headers,
            body: c.body,
        },
    )
}

/// Posts a case that must be accepted; the event id answered.
fn deliver(server: &Server, provider: &str, case: &str) -> String {
    let (status, answer) = post(server, provider, case);
    assert_eq!(status, 200, "{provider}/{case}: {answer}");
    answer["id"].as_str().unwrap_or_default().to_owned()
}

/// The schema id a record value is framed with, and its JSON.
fn framed(r: &Record) -> (u32, Value) {
    assert!(
        r.value.len() > 5 && r.value[0] == 0,
        "not in the Confluent wire format: {:?}",
        String::from_utf8_lossy(&r.value)
    );
    let id = u32::from_be_bytes(r.value[1..5].try_into().unwrap());
    (
        id,
        serde_json::from_slice(&r.value[5..]).expect("JSON after the header"),
    )
}

/// Decodes every record with a real Confluent client (schema fetched by the id in
/// the value), validates it against that schema, and returns the values.
fn decode_all(registry: &Registry, auth: Option<(&str, &str)>, records: &[Record]) -> Vec<Value> {
    let mut settings = SrSettings::new_builder(registry.url());
    if let Some((u, p)) = auth {
        settings.set_basic_authorization(u, Some(p));
    }
    let decoder = JsonDecoder::new(settings.build().unwrap());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    records
        .iter()
        .map(|r| {
            let decoded = rt
                .block_on(decoder.decode(Some(&r.value)))
                .unwrap_or_else(|e| panic!("the Confluent decoder refuses the record: {e}"))
                .expect("a value");
            decoder
                .validate(&decoded.schema, &decoded.value)
                .unwrap_or_else(|e| panic!("the value does not fit its schema: {e}"));
            assert_eq!(decoded.schema.id, framed(r).0);
            decoded.value
        })
        .collect()
}

fn title(registry: &Registry, id: u32) -> String {
    registry.schema(id).unwrap()["title"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// (a) Structured mode with basic auth: the events and the dead letter are framed
/// with the ids registered under `<topic>-value`, decoded by the Confluent client
/// to the event itself; keys unchanged; `replay --from-topic` reads the framed
/// dead letters.
#[test]
fn structured_records_are_framed_with_the_topic_subjects_id_and_decode_with_a_confluent_client() {
    let auth = ("sr-key", "sr-secret-0123");
    let registry = Registry::start(Some(auth));
    let broker = broker_with_topics(&[EVENTS, DEAD]);
    let dir = tempfile::tempdir().unwrap();
    let text = config(
        &broker.bootstrap(),
        "structured",
        &registry_table(
            &registry,
            &format!("username = \"{}\"\npassword = \"{}\"\n", auth.0, auth.1),
        ),
        "",
    );
    let server = Server::start(dir.path(), &text, "json");
    wait_readyz(&server, 200, "ready once the schemas are registered");
    assert_eq!(
        registry.subjects(),
        [format!("{DEAD}-value"), format!("{EVENTS}-value")]
    );
    let event_id = registry.latest_id(&format!("{EVENTS}-value")).unwrap();
    let dead_id = registry.latest_id(&format!("{DEAD}-value")).unwrap();
    assert_eq!(title(&registry, event_id), "dev.hookgate.CloudEvent");
    assert_eq!(title(&registry, dead_id), "dev.hookgate.DeadLetter");
    // The secret never reaches the log.
    assert!(!server.logs().iter().any(|l| l.contains(auth.1)));

    let ids: Vec<String> = [
        ("sahut", "contact-created"),
        ("sahut", "message-created-incoming"),
        ("savanto", "product-created"),
    ]
    .iter()
    .map(|(p, c)| deliver(&server, p, c))
    .collect();
    let (status, answer) = post(&server, "sahut", "unknown-event-type");
    assert_eq!(
        (status, answer["reason"].as_str()),
        (200, Some("unknown_event_type")),
        "{answer}"
    );

    let records = consume_all(&broker.bootstrap(), EVENTS, 1, Duration::from_secs(60));
    assert_eq!(records.len(), ids.len());
    let decoded = decode_all(&registry, Some(auth), &records);
    for (r, value) in records.iter().zip(&decoded) {
        let (id, json) = framed(r);
        assert_eq!(id, event_id, "framed with the id of {EVENTS}-value");
        assert_eq!(*value, json, "the decoded value is the event");
        assert!(
            ids.contains(&value["id"].as_str().unwrap().to_owned()),
            "{value}"
        );
        let key = value["partitionkey"]
            .as_str()
            .or(value["id"].as_str())
            .unwrap();
        assert_eq!(r.key.as_deref(), Some(key), "the key is unchanged");
        assert_eq!(
            r.header("content-type"),
            Some("application/cloudevents+json; charset=utf-8")
        );
    }
    let dead = consume_all(&broker.bootstrap(), DEAD, 1, Duration::from_secs(60));
    assert_eq!(dead.len(), 1);
    assert_eq!(framed(&dead[0]).0, dead_id);
    let letter = &decode_all(&registry, Some(auth), &dead)[0];
    assert_eq!(letter["reason"], "unknown_event_type", "{letter}");
    assert_eq!(dead[0].key.as_deref(), Some("sahut"));
    assert_eq!(
        dead[0].header("hookgate_reason"),
        Some("unknown_event_type")
    );

    // `replay` reads the framed dead letters back (dry run: nothing written).
    let out = std::process::Command::new(BIN)
        .args(["replay", "--dry-run", "--from-topic", "--config"])
        .arg(&server.config)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    // (It exits non-zero: an unsealed record is not replayed without
    // --trust-unauthenticated. What matters here is that it was read.)
    // (The record after it is the fence `consume_all` wrote.)
    assert!(
        !stderr.contains(&format!("{DEAD}/0@0: not a dead-letter record")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{DEAD}/0@0: sahut (unknown_event_type)")),
        "{stdout}{stderr}"
    );
}

/// (b)+(c) Binary mode under `topic_record`: the value is the event's `data`, framed
/// with the id of `<topic>-dev.hookgate.CloudEventData`; the dead letters go under
/// `<topic>-dev.hookgate.DeadLetter`.
#[test]
fn binary_mode_frames_the_data_under_the_topic_record_subjects() {
    let registry = Registry::start(None);
    let broker = broker_with_topics(&[EVENTS, DEAD]);
    let dir = tempfile::tempdir().unwrap();
    let text = config(
        &broker.bootstrap(),
        "binary",
        &registry_table(&registry, "subject_strategy = \"topic_record\"\n"),
        "",
    );
    let server = Server::start(dir.path(), &text, "json");
    wait_readyz(&server, 200, "ready");
    let data_subject = format!("{EVENTS}-dev.hookgate.CloudEventData");
    assert_eq!(
        registry.subjects(),
        [
            format!("{DEAD}-dev.hookgate.DeadLetter"),
            data_subject.clone()
        ]
    );
    let data_id = registry.latest_id(&data_subject).unwrap();
    assert_eq!(title(&registry, data_id), "dev.hookgate.CloudEventData");
    let id = deliver(&server, "sahut", "contact-created");
    let records = consume_all(&broker.bootstrap(), EVENTS, 1, Duration::from_secs(60));
    assert_eq!(records.len(), 1);
    assert_eq!(framed(&records[0]).0, data_id);
    assert_eq!(records[0].header("ce_id"), Some(id.as_str()));
    let data = &decode_all(&registry, None, &records)[0];
    assert_eq!(
        data["contact"]["id"], "ct_5521",
        "the value is `data`: {data}"
    );
    assert!(data.get("specversion").is_none());
}

/// The spool (`mode = "always"`) in front of the broker, which stores the records
/// as the producer would write them: framed.
fn spool(dir: &std::path::Path) -> String {
    format!(
        "[output.spool]\npath = \"{}\"\nmax_bytes = \"64MiB\"\nmode = \"always\"\n",
        dir.join("spool").display()
    )
}

/// Waits until the spool is empty: everything appended is on the broker.
fn wait_drained(server: &Server) {
    wait_until(Duration::from_secs(60), "the spool drains", || {
        let (_, metrics) = get(server.port, "/metrics");
        metric(&metrics, "hookgate_spool_records") == Some(0.0)
    });
}

/// (c) The record strategy: one subject per record kind, whatever the topic (two
/// routed event topics share `dev.hookgate.CloudEvent`); records that went through
/// the spool are framed like the others.
#[test]
fn the_record_strategy_registers_one_subject_per_record_kind() {
    let registry = Registry::start(None);
    let broker = broker_with_topics(&[EVENTS, DEAD, CHAT]);
    let dir = tempfile::tempdir().unwrap();
    let text = config(
        &broker.bootstrap(),
        "structured",
        &registry_table(&registry, "subject_strategy = \"record\"\n"),
        &format!(
            "{}\n[[output.route]]\ntype = \"message.*\"\ntopic = \"chat.messages\"\n",
            spool(dir.path())
        ),
    );
    let server = Server::start(dir.path(), &text, "json");
    wait_readyz(&server, 200, "ready");
    assert_eq!(
        registry.subjects(),
        ["dev.hookgate.CloudEvent", "dev.hookgate.DeadLetter"]
    );
    let event_id = registry.latest_id("dev.hookgate.CloudEvent").unwrap();
    deliver(&server, "sahut", "contact-created");
    deliver(&server, "sahut", "message-created-incoming");
    wait_drained(&server);
    for topic in [EVENTS, CHAT] {
        let records = consume_all(&broker.bootstrap(), topic, 1, Duration::from_secs(60));
        assert_eq!(records.len(), 1, "{topic}");
        assert_eq!(framed(&records[0]).0, event_id, "{topic}");
        decode_all(&registry, None, &records);
    }
}

/// (d)+(e) A registry down at start: `/readyz` 503 naming it, deliveries 503 and
/// nothing written. Once it is up: ready, deliveries framed. Down again after
/// registration: the cached ids keep deliveries going, framed.
#[test]
fn a_registry_down_at_start_holds_deliveries_and_one_down_later_changes_nothing() {
    let mut registry = Registry::start(None);
    registry.stop();
    let broker = broker_with_topics(&[EVENTS, DEAD]);
    let dir = tempfile::tempdir().unwrap();
    let text = config(
        &broker.bootstrap(),
        "structured",
        &registry_table(&registry, ""),
        "",
    );
    let server = Server::start(dir.path(), &text, "json");
    let body = wait_readyz(&server, 503, "not ready while the registry is down");
    assert!(
        body.contains("schema registry") && body.contains(&registry.url()),
        "{body}"
    );
    println!("/readyz with the registry down: {body}");
    let (status, answer) = post(&server, "sahut", "contact-created");
    assert_eq!(status, 503, "{answer}");
    let (status, _) = post(&server, "sahut", "unknown-event-type");
    assert_eq!(status, 503, "a dead letter waits for its schema id too");
    assert!(consume_all(&broker.bootstrap(), EVENTS, 1, Duration::from_secs(30)).is_empty());
    assert!(consume_all(&broker.bootstrap(), DEAD, 1, Duration::from_secs(30)).is_empty());
    let (_, metrics) = get(server.port, "/metrics");
    assert!(
        metric(
            &metrics,
            "hookgate_schema_registry_errors_total{kind=\"unavailable\"}"
        )
        .unwrap_or(0.0)
            >= 1.0,
        "{metrics}"
    );

    registry.resume();
    wait_readyz(&server, 200, "ready once the registry is back");
    let event_id = registry.latest_id(&format!("{EVENTS}-value")).unwrap();
    let first = deliver(&server, "sahut", "contact-created");

    registry.stop();
    let second = deliver(&server, "sahut", "message-created-incoming");
    wait_readyz(
        &server,
        200,
        "still ready with the registry down: the ids are cached",
    );
    let records = consume_all(&broker.bootstrap(), EVENTS, 1, Duration::from_secs(60));
    let got: Vec<(u32, String)> = records
        .iter()
        .map(|r| {
            let (id, v) = framed(r);
            (id, v["id"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(got, [(event_id, first), (event_id, second)]);
}

/// (f) A registry that refuses the schema as incompatible stops start-up, naming
/// the subject and the registry's message.
#[test]
fn an_incompatible_subject_stops_start_up_naming_it() {
    let registry = Registry::start(None);
    registry.mark_incompatible(&format!("{EVENTS}-value"));
    let dir = tempfile::tempdir().unwrap();
    // No broker is needed: start-up stops before any record.
    let text = config(
        "127.0.0.1:1",
        "structured",
        &registry_table(&registry, ""),
        "",
    );
    let path = dir.path().join("hookgate.toml");
    std::fs::write(&path, text).unwrap();
    let out = std::process::Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("subject `{EVENTS}-value`")) && stderr.contains("incompatible"),
        "{stderr}"
    );
    println!("hookgate serve with an incompatible subject: {stderr}");
}

/// (g) `auto_register = false` with nothing registered: `/readyz` 503 naming the
/// subject (with a spool too: nothing can be spooled unframed). Once the operator
/// registers the schemas, hookgate uses their latest ids.
#[test]
fn without_auto_register_an_unregistered_subject_is_named() {
    let registry = Registry::start(None);
    let broker = broker_with_topics(&[EVENTS, DEAD]);
    let dir = tempfile::tempdir().unwrap();
    let text = config(
        &broker.bootstrap(),
        "structured",
        &registry_table(&registry, "auto_register = false\n"),
        &spool(dir.path()),
    );
    let server = Server::start(dir.path(), &text, "json");
    let body = wait_readyz(&server, 503, "not ready");
    assert!(
        body.contains(&format!("subject `{EVENTS}-value`")) && body.contains("auto_register"),
        "{body}"
    );
    println!("/readyz with nothing registered: {body}");
    let (status, _) = post(&server, "sahut", "contact-created");
    assert_eq!(status, 503, "not spooled without its schema id");
    assert!(
        registry.subjects().is_empty(),
        "nothing registered by hookgate"
    );
    use hookgate::output::registry::RecordKind;
    let event_id = registry.register(
        &format!("{EVENTS}-value"),
        RecordKind::Event.schema().unwrap(),
    );
    registry.register(
        &format!("{DEAD}-value"),
        RecordKind::DeadLetter.schema().unwrap(),
    );
    wait_readyz(&server, 200, "ready once the subjects are registered");
    deliver(&server, "sahut", "contact-created");
    wait_drained(&server);
    let records = consume_all(&broker.bootstrap(), EVENTS, 1, Duration::from_secs(60));
    assert_eq!(records.len(), 1);
    assert_eq!(framed(&records[0]).0, event_id);
    assert!(
        !registry
            .requests()
            .iter()
            .any(|r| r.starts_with("POST /subjects/") && r.ends_with("/versions")),
        "auto_register = false never registers: {:?}",
        registry.requests()
    );
}
