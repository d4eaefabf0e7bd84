//! Managed-Kafka security against a real broker that demands it: Tansu with
//! `--authentication` (SASL/SCRAM users made before it starts) and TLS (stunnel in
//! front, with a CA made by the test). Deliveries reach the topic with the right
//! credentials; a refused login or an untrusted certificate is named in `/readyz`,
//! the log and `hookgate_kafka_client_errors_total`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

mod common;
use common::broker::{consume_until, make_certificates, register_client_settings, Broker, Scram};
use common::server::{get, post_delivery, Server};
use common::*;

const EVENTS: &str = "webhooks.events";
const DEAD: &str = "webhooks.dead-letter";
const TOPICS: &[(&str, u32)] = &[(EVENTS, 1), (DEAD, 1)];

/// A gateway configuration writing to `broker` with `security` (TOML tables under
/// `[output]`).
fn config(broker: &Broker, security: &str) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:8080\"\n{}\n[output]\nkind = \"kafka\"\nbrokers = \"{}\"\ntopic = \"{EVENTS}\"\ndead_letter_topic = \"{DEAD}\"\nack_timeout = \"5s\"\n{security}\n",
        all_providers_config(),
        broker.bootstrap()
    )
}

fn sasl(mechanism: &str, user: &str, password: &str) -> String {
    format!(
        "[output.sasl]\nmechanism = \"{mechanism}\"\nusername = \"{user}\"\npassword = \"{password}\"\n"
    )
}

fn tls(ca: &Path) -> String {
    format!("[output.tls]\nca_file = \"{}\"\n", ca.display())
}

/// `/readyz` until it answers `want`; the last body.
fn wait_readyz(server: &Server, want: u16, what: &str) -> String {
    wait_for(Duration::from_secs(30), what, || {
        let (status, body) = get(server.port, "/readyz");
        (status == want).then_some(body)
    })
}

/// Posts the Sahut fixture and returns the event id the gateway answered with.
fn deliver(server: &Server) -> String {
    let c = fixture_case("sahut", "contact-created");
    let d = hookgate::loadgen::Delivery {
        path: path_for("sahut"),
        headers: c.headers,
        body: c.body,
    };
    let (status, answer) = post_delivery(server.port, &d);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "accepted", "{answer}");
    answer["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no event id in {answer}"))
        .to_owned()
}

/// Reads the events topic (as a client that may need SASL/TLS itself) until the
/// record of `id` is there.
fn assert_on_topic(broker: &Broker, id: &str) {
    let records = consume_until(
        &broker.bootstrap(),
        EVENTS,
        1,
        Duration::from_secs(30),
        |rs| rs.iter().any(|r| r.json()["id"] == id),
    );
    assert!(
        records.iter().any(|r| r.json()["id"] == id),
        "event {id} is on {EVENTS}: {} records read",
        records.len()
    );
}

fn client_errors(server: &Server, kind: &str) -> f64 {
    let (_, text) = get(server.port, "/metrics");
    metric(
        &text,
        &format!("hookgate_kafka_client_errors_total{{kind=\"{kind}\"}}"),
    )
    .unwrap_or(0.0)
}

#[test]
fn scram_sha_256_and_512_logins_deliver_and_a_wrong_password_is_named() {
    let broker = Broker::with_users(
        &[
            ("alice", "alice-password-256", Scram::Sha256),
            ("bob", "bob-password-512", Scram::Sha512),
        ],
        TOPICS,
        None,
    );
    register_client_settings(
        &broker.bootstrap(),
        &[
            ("security.protocol", "sasl_plaintext"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            ("sasl.username", "bob"),
            ("sasl.password", "bob-password-512"),
        ],
    );
    for (mechanism, user, password) in [
        ("SCRAM-SHA-256", "alice", "alice-password-256"),
        ("SCRAM-SHA-512", "bob", "bob-password-512"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(
            dir.path(),
            &config(&broker, &sasl(mechanism, user, password)),
            "json",
        );
        wait_readyz(&server, 200, &format!("{mechanism} ready"));
        let id = deliver(&server);
        assert_on_topic(&broker, &id);
        assert!(
            !server.logs().iter().any(|l| l.contains(password)),
            "the password never reaches the log"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &config(&broker, &sasl("SCRAM-SHA-512", "bob", "not-bobs-password")),
        "json",
    );
    let reason = wait_for(
        Duration::from_secs(30),
        "readyz names the refused login",
        || {
            let (status, body) = get(server.port, "/readyz");
            (status == 503 && body.contains("broker refused authentication")).then_some(body)
        },
    );
    assert!(!reason.contains("not-bobs-password"), "{reason}");
    println!("/readyz with a wrong password: {reason}");
    let logs = server.wait_logs(Duration::from_secs(10), "an error log line", |l| {
        l.iter()
            .any(|l| l.contains("\"ERROR\"") && l.contains("authentication"))
    });
    assert!(!logs.iter().any(|l| l.contains("not-bobs-password")));
    wait_until(Duration::from_secs(10), "the metric counts it", || {
        client_errors(&server, "authentication") >= 1.0
    });
    // No delivery is accepted while the brokers refuse us: the provider retries.
    let c = fixture_case("sahut", "contact-updated");
    let (status, answer) = post_delivery(
        server.port,
        &hookgate::loadgen::Delivery {
            path: path_for("sahut"),
            headers: c.headers,
            body: c.body,
        },
    );
    assert_eq!(status, 503, "{answer}");
}

#[test]
fn tls_with_a_private_ca_and_sasl_over_tls() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_certificates(certs.path(), "broker");
    let (other_ca, _, _) = make_certificates(certs.path(), "stranger");

    // TLS alone.
    let broker = Broker::tls(TOPICS, &cert, &key);
    let ca_text = ca.display().to_string();
    register_client_settings(
        &broker.bootstrap(),
        &[("security.protocol", "ssl"), ("ssl.ca.location", &ca_text)],
    );
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &config(&broker, &tls(&ca)), "json");
    wait_readyz(&server, 200, "ready over TLS");
    let id = deliver(&server);
    assert_on_topic(&broker, &id);

    // A CA that did not sign the broker's certificate: named as a TLS failure.
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &config(&broker, &tls(&other_ca)), "json");
    wait_for(
        Duration::from_secs(30),
        "readyz names the TLS failure",
        || {
            let (status, body) = get(server.port, "/readyz");
            (status == 503 && body.contains("TLS handshake with the broker failed")).then_some(body)
        },
    );
    wait_until(Duration::from_secs(10), "the metric counts it", || {
        client_errors(&server, "tls") >= 1.0
    });
    drop(server);
    drop(broker);

    // SASL over TLS (what Confluent Cloud, MSK and Aiven use).
    let broker = Broker::with_users(
        &[("carol", "carol-password-512", Scram::Sha512)],
        TOPICS,
        Some((&cert, &key)),
    );
    register_client_settings(
        &broker.bootstrap(),
        &[
            ("security.protocol", "sasl_ssl"),
            ("ssl.ca.location", &ca_text),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            ("sasl.username", "carol"),
            ("sasl.password", "carol-password-512"),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let security = format!(
        "{}{}",
        sasl("SCRAM-SHA-512", "carol", "carol-password-512"),
        tls(&ca)
    );
    let server = Server::start(dir.path(), &config(&broker, &security), "json");
    wait_readyz(&server, 200, "ready with SASL over TLS");
    let id = deliver(&server);
    assert_on_topic(&broker, &id);
}
