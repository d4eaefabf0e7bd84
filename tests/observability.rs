//! The dashboard and alert rules that ship in `deploy/`: the rules pass Prometheus'
//! own `promtool check rules` and `promtool test rules` (Debian's `prometheus`
//! package), and every metric the dashboard or a rule uses is in `/metrics` of a
//! running gateway (Kafka output on real Tansu, a spool, the inspector) after real
//! traffic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

mod common;
use common::broker::{free_port, Broker};
use common::server::{get, post_delivery, root, Server, ADMIN_TOKEN};
use common::*;

fn promtool(args: &[&str]) -> String {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(root().join("deploy/prometheus"))
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "promtool is required (Debian's prometheus package; ./scripts/test.sh installs it): {e}"
            )
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?}:\n{text}");
    text
}

#[test]
fn the_alert_rules_pass_promtool_and_their_unit_tests() {
    let checked = promtool(&["check", "rules", "alerts.yaml"]);
    assert!(checked.contains("SUCCESS: 8 rules found"), "{checked}");
    let tested = promtool(&["test", "rules", "alerts.test.yaml"]);
    assert!(tested.contains("SUCCESS"), "{tested}");
    // Every alert has a unit test, and a runbook in the operations guide.
    let rules = std::fs::read_to_string(root().join("deploy/prometheus/alerts.yaml")).unwrap();
    let tests = std::fs::read_to_string(root().join("deploy/prometheus/alerts.test.yaml")).unwrap();
    let runbooks = std::fs::read_to_string(root().join("docs/operations.md")).unwrap();
    for line in rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
    {
        assert!(
            tests.contains(&format!("alertname: {line}")),
            "{line} has no promtool unit test"
        );
        assert!(
            runbooks.contains(&format!("### {line}")),
            "{line} has no runbook heading in docs/operations.md"
        );
    }
}

/// Every `hookgate_*` name in `text`.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("hookgate_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

fn deliver(port: u16, provider: &str, case: &str, tamper: bool) -> u16 {
    let c = fixture_case(provider, case);
    let mut body = c.body.to_vec();
    if tamper {
        body.extend_from_slice(b" ");
    }
    post_delivery(
        port,
        &hookgate::loadgen::Delivery {
            path: path_for(provider),
            headers: c.headers,
            body: body.into(),
        },
    )
    .0
}

#[test]
fn every_metric_the_dashboard_and_the_alerts_use_is_exported() {
    let dashboard_text =
        std::fs::read_to_string(root().join("deploy/grafana/hookgate.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&dashboard_text).unwrap();
    let panels = dashboard["panels"].as_array().unwrap();
    assert!(panels.iter().filter(|p| p["type"] == "timeseries").count() >= 12);
    for p in panels.iter().filter(|p| p["type"] != "row") {
        assert_eq!(p["datasource"]["uid"], "${datasource}", "{}", p["title"]);
        assert!(
            !p["targets"].as_array().unwrap().is_empty(),
            "{}",
            p["title"]
        );
    }
    let alerts = std::fs::read_to_string(root().join("deploy/prometheus/alerts.yaml")).unwrap();
    let wanted: BTreeSet<String> = metric_names(&dashboard_text)
        .into_iter()
        .chain(metric_names(&alerts))
        .collect();
    for name in [
        "hookgate_requests_total",
        "hookgate_verification_failures_total",
        "hookgate_dead_letters_total",
        "hookgate_output_ack_seconds_bucket",
        "hookgate_spool_records",
        "hookgate_spool_oldest_record_age_seconds",
        "hookgate_dedup_hits_total",
        "hookgate_inspector_bytes",
        "hookgate_ready",
    ] {
        assert!(wanted.contains(name), "the dashboard shows {name}");
    }

    let broker = Broker::memory();
    broker.create_topic("webhooks.events", 1);
    broker.create_topic("webhooks.dead-letter", 1);
    let dir = tempfile::tempdir().unwrap();
    let admin = free_port();
    let config = format!(
        "[server]\nlisten = \"127.0.0.1:8080\"\n{}\n[output]\nkind = \"kafka\"\nbrokers = \"{}\"\n\
         [output.spool]\npath = \"{}\"\nmax_bytes = \"8MiB\"\n\
         [admin]\nlisten = \"127.0.0.1:{admin}\"\ntoken = \"{ADMIN_TOKEN}\"\n",
        all_providers_config(),
        broker.bootstrap(),
        dir.path().join("spool").display()
    );
    let server = Server::start(dir.path(), &config, "json");
    wait_for(Duration::from_secs(30), "ready", || {
        (get(server.port, "/readyz").0 == 200).then_some(())
    });
    assert_eq!(deliver(server.port, "sahut", "contact-created", false), 200);
    assert_eq!(deliver(server.port, "sahut", "contact-created", false), 200); // duplicate
    assert_eq!(
        deliver(server.port, "sahut", "unknown-event-type", false),
        200
    ); // dead letter
    assert_eq!(deliver(server.port, "sahut", "contact-updated", true), 401); // forged
                                                                             // Gauges are set by periodic tasks (readiness every 10 s, the spool's stats):
                                                                             // wait for them, and name what is still missing at the deadline.
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    loop {
        let (_, text) = get(server.port, "/metrics");
        let have = metric_names(&text);
        let missing: Vec<&String> = wanted.difference(&have).collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not in /metrics of a running gateway: {missing:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}
