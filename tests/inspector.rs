//! The inspector in a real browser: Debian's chromium driven over WebDriver
//! (chromedriver) with fantoccini. Signs in, watches deliveries of several
//! providers appear without a reload, opens a dead letter, fixes the mapping
//! (SIGHUP), clicks Replay and sees it accepted. Screenshots go to
//! `target/inspector-screenshots/`. Also, over plain HTTP: the refusals, the
//! sign-in limit per client address, and the live feed ending with its session.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

mod common;
use common::broker::free_port;
use common::server::{
    admin_login, get, post_delivery, raw_request, read_response, root, server_with_admin,
    session_cookie, Server, ADMIN_TOKEN,
};
use common::{fixture_case, path_for, sources};

fn sahut_mapping(broken: bool) -> String {
    let shipped = std::fs::read_to_string(root().join("mappings/sahut.toml")).unwrap();
    if !broken {
        return shipped;
    }
    let start = shipped.find("[events.\"contact.created\"]").unwrap();
    let end = start + shipped[start..].find("\n\n").unwrap();
    format!("{}{}", &shipped[..start], &shipped[end + 2..])
}

fn config(admin_port: u16) -> String {
    format!(
        "{}recent = 50\ncapture_bodies = true\n\n[mappings]\ndirs = [\"mappings\"]\n",
        server_with_admin(admin_port)
    ) + &sources(&[
        ("sahut", "sahut"),
        ("savanto", "savanto"),
        ("aisoule", "aisoule"),
        ("magalu-sac", "magalu-sac"),
    ])
}

fn start(dir: &Path) -> (Server, u16) {
    std::fs::create_dir_all(dir.join("mappings")).unwrap();
    std::fs::write(dir.join("mappings/sahut.toml"), sahut_mapping(true)).unwrap();
    let admin = free_port();
    let server = Server::start(dir, &config(admin), "json");
    (server, admin)
}

/// Posts the fixture `provider/case` to the gateway.
fn deliver(port: u16, provider: &str, case: &str) -> serde_json::Value {
    let c = fixture_case(provider, case);
    let d = hookgate::loadgen::Delivery {
        path: path_for(provider),
        headers: c.headers,
        body: c.body,
    };
    let (status, body) = post_delivery(port, &d);
    assert_eq!(status, 200, "{provider}/{case}: {body}");
    body
}

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// chromedriver on a free port, and a headless chromium session through it.
async fn browser(profile: &Path) -> (Driver, Client) {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect(
            "chromedriver is required for this test (Debian's chromium and chromium-driver; \
             scripts/test.sh installs them)",
        );
    let driver = Driver(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-quic", "--no-first-run",
                "--window-size=1366,860",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a chromium session");
    (driver, client)
}

async fn screenshot(client: &Client, name: &str) {
    let dir = root().join("target/inspector-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}

/// Waits until `count` rows are in the deliveries table.
async fn rows(client: &Client, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let found = client
            .find_all(Locator::Css("#deliveries tr"))
            .await
            .unwrap();
        if found.len() >= count {
            let mut texts = Vec::new();
            for r in found {
                texts.push(r.text().await.unwrap());
            }
            return texts;
        }
        assert!(
            Instant::now() < deadline,
            "only {} rows appeared",
            found.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_watch_deliveries_arrive_and_replay_a_dead_letter() {
    let dir = tempfile::tempdir().unwrap();
    let (server, admin) = start(dir.path());
    let profile = tempfile::tempdir().unwrap();
    let (_driver, client) = browser(profile.path()).await;
    let base = format!("http://127.0.0.1:{admin}");

    // Signing in.
    client.goto(&base).await.unwrap();
    let token = client.find(Locator::Css("#token")).await.unwrap();
    token.send_keys(ADMIN_TOKEN).await.unwrap();
    client
        .find(Locator::Css("button.primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css("table.deliveries"))
        .await
        .unwrap();
    // Let the live feed connect before deliveries arrive.
    client
        .wait()
        .for_element(Locator::Css("#live.on"))
        .await
        .unwrap();

    // Deliveries of four providers appear without a reload.
    deliver(server.port, "savanto", "product-created");
    deliver(server.port, "aisoule", "message-incoming");
    deliver(server.port, "magalu-sac", "ticket-creation");
    let dead = deliver(server.port, "sahut", "contact-created");
    assert_eq!(dead["reason"], "unknown_event_type");
    let texts = rows(&client, 4).await;
    assert!(
        texts[0].contains("sahut") && texts[0].contains("dead lettered"),
        "{texts:?}"
    );
    assert!(texts
        .iter()
        .any(|t| t.contains("savanto") && t.contains("accepted")));
    assert!(texts.iter().any(|t| t.contains("product.created")));
    screenshot(&client, "list.png").await;

    // The dead letter opens to its reason, its headers (signature hidden) and body.
    client
        .find(Locator::XPath("//tr[contains(., 'dead lettered')]//a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let page = client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("unknown_event_type"), "{page}");
    assert!(
        page.contains("x-sahut-signature") && page.contains("[hidden]"),
        "{page}"
    );
    assert!(page.contains("Siti Rahma"), "the captured body: {page}");

    // Fix the mapping, reload, replay.
    std::fs::write(dir.path().join("mappings/sahut.toml"), sahut_mapping(false)).unwrap();
    server.signal("-HUP");
    server.wait_log("configuration reloaded", Duration::from_secs(10));
    client
        .find(Locator::Css("#replay"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let result = client
        .wait()
        .for_element(Locator::Css("p.result"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        result.contains("Replayed: accepted as contact.created"),
        "{result}"
    );
    screenshot(&client, "replayed.png").await;
    let events = common::read_lines(&dir.path().join("events.ndjson"));
    assert!(
        events.iter().any(|e| e["type"] == "contact.created"),
        "{events:?}"
    );
    client.close().await.unwrap();
}

#[test]
fn refusals_say_nothing_more_than_needed() {
    let dir = tempfile::tempdir().unwrap();
    let (server, admin) = start(dir.path());
    // No session: 401, the sign-in form, nothing else.
    let (status, body) = get(admin, "/");
    assert_eq!(status, 401);
    assert!(
        body.contains("Sign in") && !body.contains("deliveries"),
        "{body}"
    );
    assert_eq!(get(admin, "/events").0, 401);
    assert_eq!(get(admin, "/deliveries/1").0, 401);
    // A wrong token: the same words whatever is wrong with it.
    let login = |token: &str| admin_login(None, admin, token);
    for wrong in [
        "x",
        &ADMIN_TOKEN[..ADMIN_TOKEN.len() - 1],
        "inspector-token-0123456789abcdeF",
    ] {
        let r = login(wrong);
        assert!(r.starts_with("HTTP/1.1 401"), "{r}");
        assert!(
            r.contains("Sign-in failed.") && !r.contains("set-cookie"),
            "{r}"
        );
    }
    // The right one: an HttpOnly, SameSite=Strict cookie, and a strict CSP.
    let r = login(ADMIN_TOKEN);
    assert!(r.starts_with("HTTP/1.1 303"), "{r}");
    let cookie_line = r
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap();
    assert!(cookie_line.contains("HttpOnly") && cookie_line.contains("SameSite=Strict"));
    let cookie = cookie_line
        .split_once(':')
        .unwrap()
        .1
        .trim()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = raw_request(
        admin,
        format!("GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncookie: {cookie}\r\n\r\n")
            .as_bytes(),
    );
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(
        page.contains("content-security-policy: default-src 'none'; script-src 'self'"),
        "{page}"
    );
    // A replay without the form's CSRF token is refused.
    let dead = deliver(server.port, "sahut", "contact-created");
    assert_eq!(dead["status"], "dead_lettered");
    let seq = 1;
    let replay = raw_request(
        admin,
        format!(
            "POST /deliveries/{seq}/replay HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncookie: {cookie}\r\n\
             content-type: application/x-www-form-urlencoded\r\ncontent-length: 10\r\n\r\ncsrf=guess"
        )
        .as_bytes(),
    );
    assert!(replay.starts_with("HTTP/1.1 403"), "{replay}");
    // Signature values never reach a page.
    let detail = raw_request(
        admin,
        format!("GET /deliveries/{seq} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncookie: {cookie}\r\n\r\n")
            .as_bytes(),
    );
    let signature = fixture_case("sahut", "contact-created").headers["x-sahut-signature"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("unknown_event_type"), "{detail}");
    assert!(
        !detail.contains(&signature),
        "the signature is shown: {detail}"
    );
}

const HERE: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1));
const ELSEWHERE: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));

/// The CSRF token of the session's forms, read from the list page.
fn csrf_token(admin: u16, cookie: &str) -> String {
    let page = raw_request(
        admin,
        format!("GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncookie: {cookie}\r\n\r\n")
            .as_bytes(),
    );
    let at = page.find(r#"name="csrf" value=""#).expect("a CSRF field") + 19;
    page[at..].split('"').next().unwrap().to_owned()
}

#[test]
fn wrong_tokens_from_one_address_do_not_lock_out_another() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, admin) = start(dir.path());
    // One address guesses until it is refused: its own budget (burst 10) is spent.
    let mut attempts = 0;
    loop {
        attempts += 1;
        let r = admin_login(Some(HERE), admin, "a-wrong-guess-0123456789abc");
        if r.starts_with("HTTP/1.1 429") {
            assert!(r.contains("Too many attempts"), "{r}");
            break;
        }
        assert!(r.starts_with("HTTP/1.1 401"), "{r}");
        assert!(attempts <= 11, "no attempt was refused for its rate");
    }
    // The right token from another address still signs in.
    let r = admin_login(Some(ELSEWHERE), admin, ADMIN_TOKEN);
    assert!(r.starts_with("HTTP/1.1 303"), "{r}");
    assert!(session_cookie(&r).starts_with("hookgate_admin="), "{r}");
}

#[test]
fn the_live_feed_ends_with_its_session() {
    let dir = tempfile::tempdir().unwrap();
    let (server, admin) = start(dir.path());
    let cookie = session_cookie(&admin_login(Some(HERE), admin, ADMIN_TOKEN));
    let csrf = csrf_token(admin, &cookie);
    // Open the feed and read its response head: from then on it is subscribed.
    let mut feed = std::net::TcpStream::connect(("127.0.0.1", admin)).unwrap();
    write!(
        feed,
        "GET /events HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncookie: {cookie}\r\n\r\n"
    )
    .unwrap();
    feed.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        feed.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    assert!(
        head.starts_with("HTTP/1.1 200") && head.contains("text/event-stream"),
        "{head}"
    );
    // Sign out, then a delivery arrives.
    let form = format!("csrf={csrf}");
    let out = raw_request(
        admin,
        format!(
            "POST /logout HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncookie: {cookie}\r\n\
             content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{form}",
            form.len()
        )
        .as_bytes(),
    );
    assert!(out.starts_with("HTTP/1.1 303"), "{out}");
    deliver(server.port, "savanto", "product-created");
    // The feed ends (read_response reads to the end, within its 10 s timeout)
    // without the delivery's row.
    let rest = read_response(&mut feed);
    assert!(
        !rest.contains("event: delivery") && !rest.contains("savanto"),
        "the feed delivered a row after sign-out: {rest}"
    );
    let ended = feed.read(&mut byte).map(|n| n == 0);
    assert!(
        matches!(ended, Ok(true)),
        "the feed is still open after sign-out: {ended:?}"
    );
}
