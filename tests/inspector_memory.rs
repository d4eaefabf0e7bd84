//! The inspector's memory under a flood, measured on the real `hookgate serve`
//! process (its resident set, from `/proc/<pid>/status`): requests to unknown
//! sources and forged requests, each with 90 headers of 4 KB, leave it within
//! `[admin] max_memory` plus a small margin, and the dead letter received before
//! the flood is still there to replay. Also: a dead letter too large to keep whole
//! says how to replay it instead.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use hookgate::fixture::FIXTURE_SECRET;

mod common;
use common::broker::free_port;
use common::server::{
    admin_login, get, post_delivery, raw_request, server_with_admin, session_cookie, Server,
    ADMIN_TOKEN,
};
use common::{fixture_case, hmac_hex};

const MAX_MEMORY: u64 = 4 * 1024 * 1024;
/// What else a flood may leave resident: the allocator's retained pages of the
/// requests' own buffers (hyper reads each ~370 KB header block whole).
const MARGIN: u64 = 8 * 1024 * 1024;
const HEADERS: usize = 90;
const HEADER_BYTES: usize = 4096;
const FLOOD: usize = 1000;

fn config(admin_port: u16) -> String {
    format!(
        "{}recent = 1000\nmax_memory = \"4MiB\"\n",
        server_with_admin(admin_port)
    ) + &common::source("sahut", "sahut")
}

/// The resident set of process `pid`, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in {status}"));
    kib * 1024
}

/// A POST of `body` to `path` carrying `HEADERS` headers of `HEADER_BYTES` each
/// (distinct values, so nothing is shared), plus `extra`.
fn padded(path: &str, body: &str, extra: &[(&str, &str)], n: usize) -> Vec<u8> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n",
        body.len()
    );
    for (k, v) in extra {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let filler = "v".repeat(HEADER_BYTES);
    for i in 0..HEADERS {
        let prefix = format!("{n:08}-{i:03}-");
        req.push_str(&format!(
            "x-pad-{i}: {prefix}{}\r\n",
            &filler[prefix.len()..]
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    req.into_bytes()
}

/// Sends `FLOOD` requests made by `request` over two connections at a time; each
/// answer must start with `expect` (the handler's, not hyper's 431).
fn flood(port: u16, request: impl Fn(usize) -> Vec<u8> + Sync, expect: &str) {
    std::thread::scope(|s| {
        for half in 0..2 {
            let request = &request;
            s.spawn(move || {
                for n in (half..FLOOD).step_by(2) {
                    let r = raw_request(port, &request(n));
                    assert!(r.starts_with(expect), "request {n}: {r}");
                }
            });
        }
    });
}

fn sign_in(admin: u16) -> String {
    let r = admin_login(None, admin, ADMIN_TOKEN);
    assert!(r.starts_with("HTTP/1.1 303"), "{r}");
    session_cookie(&r)
}

fn admin_get(admin: u16, path: &str, cookie: &str) -> String {
    raw_request(
        admin,
        format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncookie: {cookie}\r\n\r\n")
            .as_bytes(),
    )
}

fn gauge(port: u16, name: &str) -> f64 {
    let (status, text) = get(port, "/metrics");
    assert_eq!(status, 200);
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
}

#[test]
fn a_flood_of_unknown_and_forged_requests_stays_within_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let admin = free_port();
    let server = Server::start(dir.path(), &config(admin), "json");
    let port = server.port;
    let pid = server.child.id();

    // A real dead letter, waiting for Replay: the first delivery (seq 1).
    let case = fixture_case("sahut", "unknown-event-type");
    let d = hookgate::loadgen::Delivery {
        path: "/webhooks/sahut".into(),
        headers: case.headers,
        body: case.body,
    };
    let (status, answer) = post_delivery(port, &d);
    assert_eq!(
        (status, answer["reason"].as_str()),
        (200, Some("unknown_event_type"))
    );

    // Warm up (first-use allocations, the connection path), then measure.
    let forged = |n: usize| {
        padded(
            "/webhooks/sahut",
            r#"{"id":"evt_forged","event":"contact.created"}"#,
            &[("x-sahut-signature", &"0".repeat(64))],
            n,
        )
    };
    let unknown = |n: usize| padded(&format!("/webhooks/nosuch-{n}"), "{}", &[], n);
    for n in 0..20 {
        assert!(raw_request(port, &unknown(n)).starts_with("HTTP/1.1 404"));
        assert!(raw_request(port, &forged(n)).starts_with("HTTP/1.1 401"));
    }
    let before = rss(pid);

    flood(port, unknown, "HTTP/1.1 404");
    flood(port, forged, "HTTP/1.1 401");
    let after = rss(pid);
    let grown = after.saturating_sub(before);
    eprintln!(
        "RSS before {} KiB, after {} KiB: grew {} KiB (budget {} KiB)",
        before / 1024,
        after / 1024,
        grown / 1024,
        MAX_MEMORY / 1024
    );
    assert!(
        grown <= MAX_MEMORY + MARGIN,
        "the flood grew the process by {} KiB (budget {} KiB + margin {} KiB)",
        grown / 1024,
        MAX_MEMORY / 1024,
        MARGIN / 1024
    );
    let held = gauge(port, "hookgate_inspector_bytes");
    assert!(held > 0.0 && held <= MAX_MEMORY as f64, "{held}");

    // The dead letter is still there, with its Replay button.
    let cookie = sign_in(admin);
    let page = admin_get(admin, "/deliveries/1", &cookie);
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(
        page.contains("unknown_event_type") && page.contains(r#"id="replay""#),
        "{page}"
    );
    // The requests to unknown sources are kept in one ring, under what they asked for.
    let list = admin_get(admin, "/?outcome=rejected", &cookie);
    assert!(list.contains("nosuch-"), "{list}");
}

#[test]
fn a_dead_letter_too_large_to_keep_whole_points_to_hookgate_replay() {
    let dir = tempfile::tempdir().unwrap();
    let admin = free_port();
    let server = Server::start(dir.path(), &config(admin), "json");
    // A malformed body of 512 KiB, signed: dead-lettered. More than the inspector
    // keeps whole under a 4 MiB budget.
    let body = format!("{{\"id\": \"{}", "x".repeat(512 * 1024));
    let signature = hmac_hex("sha256", FIXTURE_SECRET.as_bytes(), body.as_bytes());
    let d = hookgate::loadgen::Delivery {
        path: "/webhooks/sahut".into(),
        headers: [
            ("content-type", "application/json"),
            ("x-sahut-signature", signature.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| {
            (
                http::HeaderName::from_static(k),
                http::HeaderValue::from_str(v).unwrap(),
            )
        })
        .collect(),
        body: body.into_bytes().into(),
    };
    let (status, answer) = post_delivery(server.port, &d);
    assert_eq!(
        (status, answer["reason"].as_str()),
        (200, Some("malformed_json"))
    );
    let held = gauge(server.port, "hookgate_inspector_bytes");
    assert!(held < 64.0 * 1024.0, "the inspector holds {held} bytes");
    // Its page says why there is no Replay button, and what to run instead.
    let cookie = sign_in(admin);
    let page = admin_get(admin, "/deliveries/1", &cookie);
    assert!(page.contains("malformed_json"), "{page}");
    assert!(
        !page.contains(r#"id="replay""#) && page.contains("hookgate replay"),
        "{page}"
    );
    // A Replay posted anyway is refused with the same advice.
    let list = admin_get(admin, "/", &cookie);
    let at = list.find(r#"name="csrf" value=""#).unwrap() + 19;
    let csrf = list[at..].split('"').next().unwrap();
    let form = format!("csrf={csrf}");
    let replay = raw_request(
        admin,
        format!(
            "POST /deliveries/1/replay HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncookie: {cookie}\r\n\
             content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{form}",
            form.len()
        )
        .as_bytes(),
    );
    assert!(
        replay.starts_with("HTTP/1.1 409") && replay.contains("hookgate replay"),
        "{replay}"
    );
}
