//! The security review's findings that need the binary itself: what reaches the
//! log (never a URL token, never a forged line), the connection bound, the
//! operations endpoints on their own listener, and the warning for published keys.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::time::Duration;

mod common;
use common::server::{raw_request, read_response, Server};

const LIMITED_TOKEN: &str = "limited-token-9f8e7d6c5b4a";
const TOKEN: &str = "secret-token-0a1b2c3d4e5f";

/// Two token sources: one with a budget of one request, one on a Kafka output
/// that cannot acknowledge (no broker), so each error answer can be provoked.
fn config() -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:8080"
max_body_bytes = 400
read_timeout = "1s"

[output]
kind = "kafka"
brokers = "127.0.0.1:1"
ack_timeout = "300ms"

[[source]]
id = "limited"
provider = "magalu-sac"
token = "{LIMITED_TOKEN}"
rate_limit = {{ per_second = 1, burst = 1 }}

[[source]]
id = "magalu"
provider = "magalu-sac"
token = "{TOKEN}"
"#
    )
}

const BODY: &str = r#"{"data":{"status":"CREATION","params":{"id":"t1"},"resource":"/v0/tickets/t1"},"tenant_id":"x","topic":"sac_ticket"}"#;

fn post(port: u16, path: &str, body: &str) -> String {
    raw_request(
        port,
        format!(
            "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
}

/// What the server sent on a connection it keeps open, up to `needle`.
fn read_until(stream: &mut std::net::TcpStream, needle: &str) -> String {
    use std::io::Read;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&got).contains(needle) {
        let n = stream.read(&mut buf).expect("read within 10 s");
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

fn status(response: &str) -> &str {
    response.get(9..12).unwrap_or("")
}

/// Provokes 429, 413, 408 and 503 with the right tokens, and a forged log line in
/// the source segment, then reads every line the server logged.
fn provoke(log_format: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), &config(), log_format);
    let port = server.port;
    let limited = format!("/webhooks/limited/{LIMITED_TOKEN}");
    let magalu = format!("/webhooks/magalu/{TOKEN}");
    // 503 first (the broker is absent), which also spends `limited`'s one request.
    assert_eq!(status(&post(port, &limited, BODY)), "503");
    assert_eq!(status(&post(port, &limited, BODY)), "429");
    assert_eq!(status(&post(port, &magalu, &"x".repeat(500))), "413");
    // Half a body, then silence past the read timeout.
    let mut slow = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        slow,
        "POST {magalu} HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{{\"data\""
    )
    .expect("write");
    assert_eq!(status(&read_response(&mut slow)), "408");
    // A newline in the source segment would start a forged line in the human format.
    let forged = post(
        port,
        "/webhooks/evil%0A2026-01-01T00:00:00Z%20INFO%20forged",
        BODY,
    );
    assert_eq!(status(&forged), "404");
    // One more request, logged after the forged one: once its line is read, every
    // line before it is too (a forged second line included, were there one).
    assert_eq!(status(&post(port, "/webhooks/logged-last", BODY)), "404");
    // Each request's line is written after its answer: waited for.
    server.wait_logs(
        Duration::from_secs(10),
        "a log line for each provoked answer",
        |logs| {
            let all = logs.join("\n");
            LOGGED.iter().all(|needle| all.contains(needle))
        },
    )
}

/// What the log shows of `provoke`'s requests once all are logged: each error
/// kind, and the forged source segment (its escaping is checked per format).
const LOGGED: &[&str] = &[
    "rate_limited",
    "payload_too_large",
    "request_timeout",
    "unavailable",
    "evil",
    "logged-last",
];

fn assert_no_secret_and_no_forged_line(logs: &[String], format: &str) {
    let all = logs.join("\n");
    for t in [TOKEN, LIMITED_TOKEN] {
        assert!(!all.contains(t), "{format} logs show a URL token:\n{all}");
    }
    for error in [
        "rate_limited",
        "payload_too_large",
        "request_timeout",
        "unavailable",
    ] {
        assert!(all.contains(error), "{format}: no {error} line:\n{all}");
    }
    assert!(
        all.contains("/webhooks/{source}/{token}"),
        "{format}: the matched route is logged:\n{all}"
    );
    assert!(
        !logs.iter().any(|l| l.starts_with("2026-01-01T00:00:00Z")),
        "{format}: a forged line:\n{all}"
    );
}

#[test]
fn url_tokens_never_reach_the_log_and_lines_cannot_be_forged_human() {
    let logs = provoke("human");
    assert_no_secret_and_no_forged_line(&logs, "human");
    assert!(
        logs.iter().any(|l| l.contains("evil\\n2026")),
        "the source segment is escaped: {logs:#?}"
    );
}

#[test]
fn url_tokens_never_reach_the_log_and_lines_cannot_be_forged_json() {
    let logs = provoke("json");
    assert_no_secret_and_no_forged_line(&logs, "json");
    for l in &logs {
        serde_json::from_str::<serde_json::Value>(l)
            .unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {l}"));
    }
}

#[test]
fn connections_past_the_bound_are_refused_not_queued() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "[server]\nlisten = \"127.0.0.1:8080\"\nmax_connections = 2\n";
    let server = Server::start(dir.path(), text, "human");
    // Each of two connections answered once and kept open: the server has accepted
    // both and holds their slots (a connect alone may still sit in the backlog).
    let idle: Vec<_> = (0..2)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
            s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
                .expect("write");
            let head = read_until(&mut s, "{\"status\":\"ok\"}");
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            s
        })
        .collect();
    let refused = raw_request(server.port, b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
    assert!(
        refused.starts_with("HTTP/1.1 503") && refused.contains("too_many_connections"),
        "{refused}"
    );
    drop(idle);
    // The slots come back when the idle connections go away.
    common::wait_until(
        Duration::from_secs(5),
        "a slot free again once the idle connections closed",
        || {
            raw_request(
                server.port,
                b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
            )
            .starts_with("HTTP/1.1 200")
        },
    );
    let metrics = raw_request(
        server.port,
        b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    );
    // At least the one refused above (the retries while the idle connections were
    // being closed may have been refused too).
    let refused: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("hookgate_connections_refused_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(refused >= 1, "{metrics}");
}

#[test]
fn metrics_and_readiness_can_leave_the_public_listener() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ops_port = common::broker::free_port();
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:8080\"\nmetrics_listen = \"127.0.0.1:{ops_port}\"\n"
    );
    let server = Server::start(dir.path(), &text, "human");
    let get = |port: u16, path: &str| {
        raw_request(
            port,
            format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes(),
        )
    };
    for path in ["/metrics", "/readyz"] {
        assert_eq!(
            status(&get(server.port, path)),
            "404",
            "{path} on the public port"
        );
        assert_eq!(
            status(&get(ops_port, path)),
            "200",
            "{path} on the metrics port"
        );
    }
    assert_eq!(status(&get(server.port, "/healthz")), "200");
    assert_eq!(status(&get(ops_port, "/webhooks/x")), "404");
}

#[test]
fn serve_warns_loudly_about_keys_published_in_the_examples() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(common::server::root().join("examples/quickstart.toml"))
        .expect("quickstart")
        .replace("../events.ndjson", "events.ndjson")
        .replace("../dead-letters.ndjson", "dead-letters.ndjson");
    let server = Server::start(dir.path(), &text, "human");
    // The warnings are logged before `hookgate listening`, which `start` waits for:
    // every one of them has been read by now.
    let warnings: Vec<String> = server
        .logs()
        .into_iter()
        .filter(|l| l.contains("INSECURE") && l.contains("WARN"))
        .collect();
    assert_eq!(warnings.len(), 6, "one per demo key: {warnings:#?}");
    assert!(warnings.iter().any(|w| w.contains("sahut-main")));
    assert!(warnings.iter().any(|w| w.contains("dead_letters.keys[0]")));
    assert!(
        !warnings.iter().any(|w| w.contains("demo-sahut-secret")),
        "the value itself is never logged"
    );
}
