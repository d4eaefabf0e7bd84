//! The binary itself over a real socket: `serve` with the quick-start config,
//! `send` signing like each provider, `check` and `map` on the shipped files.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::server::{raw_request, read_response, root, Server, BIN};
use hookgate::config::Loaded;

/// Starts `hookgate serve` on a free port with the quick-start sources, writing
/// into `dir`.
fn serve(dir: &Path) -> Server {
    serve_with(dir, "10s")
}

fn serve_with(dir: &Path, read_timeout: &str) -> Server {
    let text = std::fs::read_to_string(root().join("examples/quickstart.toml"))
        .expect("quickstart")
        .replace("../events.ndjson", "events.ndjson")
        .replace("../dead-letters.ndjson", "dead-letters.ndjson")
        .replace(
            "read_timeout = \"10s\"",
            &format!("read_timeout = \"{read_timeout}\""),
        );
    Server::start(dir, &text, "human")
}

fn send(args: &[&str], url: &str) -> (bool, String) {
    let out = Command::new(BIN)
        .arg("send")
        .args(args)
        .args(["--fixtures"])
        .arg(root().join("fixtures"))
        .arg(url)
        .output()
        .expect("send runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A signed Savanto `event` to the quick-start gateway listening on `port`.
fn send_savanto(port: u16, event: &str) -> (bool, String) {
    send(
        &[
            "--provider",
            "savanto",
            "--event",
            event,
            "--secret",
            "demo-savanto-secret",
        ],
        &format!("http://127.0.0.1:{port}/webhooks/savanto"),
    )
}

#[test]
fn serve_and_send_every_provider_over_a_real_socket() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path());
    let base = format!("http://127.0.0.1:{}/webhooks", server.port);
    let cases = [
        (
            "sahut",
            "message.created",
            "demo-sahut-secret",
            format!("{base}/sahut-main"),
        ),
        (
            "oneroute",
            "newMessage",
            "demo-oneroute-secret",
            format!("{base}/oneroute"),
        ),
        (
            "aisoule",
            "message.incoming",
            "demo-aisoule-secret",
            format!("{base}/aisoule"),
        ),
        (
            "savanto",
            "chat.message_sent",
            "demo-savanto-secret",
            format!("{base}/savanto"),
        ),
    ];
    for (provider, event, secret, url) in &cases {
        let (ok, out) = send(
            &["--provider", provider, "--event", event, "--secret", secret],
            url,
        );
        assert!(
            ok && out.starts_with("200 ") && out.contains("\"accepted\""),
            "{provider}: {out}"
        );
        // The wrong secret is refused.
        let (ok, out) = send(
            &[
                "--provider",
                provider,
                "--event",
                event,
                "--secret",
                "wrong",
            ],
            url,
        );
        assert!(!ok && out.starts_with("401 "), "{provider}: {out}");
    }
    let (ok, out) = send(
        &["--provider", "magalu-sac", "--event", "sac_ticket.CREATION"],
        &format!("{base}/magalu/demo-magalu-token-0123456789"),
    );
    assert!(ok && out.contains("\"accepted\""), "magalu: {out}");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut events = Vec::new();
    while Instant::now() < deadline {
        events = common::read_lines(&dir.path().join("events.ndjson"));
        if events.len() >= 5 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(events.len(), 5, "one event per accepted delivery");
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        types,
        [
            "message.created",
            "message.created",
            "message.created",
            "message.created",
            "ticket.created"
        ]
    );
    assert_eq!(events[0]["source"], "/sources/sahut-main");
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = serve(dir.path());
    let (ok, _) = send_savanto(server.port, "feedback.submitted");
    assert!(ok);
    server.signal("-TERM");
    let exit = server.wait_exit(Duration::from_secs(10));
    assert!(exit.success(), "exit status {exit:?}");
    assert_eq!(
        common::read_lines(&dir.path().join("events.ndjson")).len(),
        1
    );
}

#[test]
fn slow_headers_are_cut_off_by_the_read_timeout() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve_with(dir.path(), "1s");
    let mut slow = std::net::TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    slow.write_all(b"POST /webhooks/savanto HTTP/1.1\r\nHost: x\r\n")
        .expect("write");
    slow.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let started = Instant::now();
    let mut buf = [0u8; 256];
    // The server closes the connection (EOF, or a reset) once the header budget is
    // spent; our own 5 s read timeout firing instead means it stayed open.
    let read = slow.read(&mut buf);
    let closed = match &read {
        Ok(0) => true,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        Ok(_) => false,
    };
    assert!(closed, "connection still open: {read:?}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "cut off after {:?}",
        started.elapsed()
    );
    // Meanwhile normal deliveries are served.
    let (ok, out) = send_savanto(server.port, "product.created");
    assert!(ok, "{out}");
}

#[test]
fn check_passes_on_the_shipped_mappings_and_quickstart() {
    let out = Command::new(BIN)
        .current_dir(root())
        .args(["check", "--config", "examples/quickstart.toml"])
        .output()
        .expect("check runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}

#[test]
fn check_prints_the_topic_each_fixture_would_be_routed_to() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("hookgate.toml");
    std::fs::write(
        &config,
        "[[source]]\nid = \"sahut-main\"\nprovider = \"sahut\"\nsecrets = [\"0123456789abcdef0123\"]\n\
         [output]\nkind = \"kafka\"\nbrokers = \"127.0.0.1:1\"\n\
         [[output.route]]\ntype = \"contact.*\"\ntopic = \"crm.contacts\"\n\
         [[output.route]]\nsource = \"sahut-*\"\ndead_letter_topic = \"sahut.dead\"\n",
    )
    .expect("write");
    let out = Command::new(BIN)
        .current_dir(root())
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .expect("check runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    for line in [
        "ok   sahut/contact-created → crm.contacts",
        "ok   sahut/conversation-created → webhooks.events",
        "ok   sahut/unknown-event-type → sahut.dead",
        // A batch: each item's topic, once.
        "ok   line/message-image → webhooks.events",
    ] {
        assert!(stdout.lines().any(|l| l == line), "{line}\n{stdout}");
    }
}

#[test]
fn check_fails_on_a_broken_mapping_and_names_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let maps = dir.path().join("mappings");
    std::fs::create_dir(&maps).expect("dir");
    std::fs::write(
        maps.join("broken.toml"),
        "provider = \"broken\"\n[auth]\nscheme = \"none\"\n[event]\ntype = \".a | | b\"\n[events.x]\ntype = \"message.created\"\ndata = \"{}\"\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("hookgate.toml"),
        "[mappings]\ndirs = [\"mappings\"]\n",
    )
    .expect("write");
    let out = Command::new(BIN)
        .args(["check", "--config"])
        .arg(dir.path().join("hookgate.toml"))
        .output()
        .expect("check runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("broken.toml") && stderr.contains(".a | | b"),
        "{stderr}"
    );
}

#[test]
fn the_full_example_config_builds_a_gateway() {
    // Every option in one file; Kafka and Redis are not contacted at build time.
    // Its secrets have no defaults: they come from the environment.
    let path = root().join("examples/full.toml");
    let text = std::fs::read_to_string(&path).expect("examples/full.toml");
    let env = |k: &str| {
        Some(match k {
            "STANDARD_WEBHOOKS_SECRET" => "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned(),
            "DISCORD_PUBLIC_KEY" => hookgate::fixture::FIXTURE_ED25519_PUBLIC.to_owned(),
            k => format!("{}-value-0123456789", k.to_lowercase()),
        })
        .filter(|_| !k.starts_with("KAFKA") && !k.starts_with("REDIS") && !k.ends_with("_PREVIOUS"))
    };
    let spool = tempfile::tempdir().expect("tempdir");
    let spool_dir = spool.path().display().to_string();
    let env = |k: &str| match k {
        "HOOKGATE_SPOOL_DIR" => Some(spool_dir.clone()),
        k => env(k),
    };
    let loaded = Loaded::from_text(&text, "examples/full.toml", &root().join("examples"), &env)
        .expect("examples/full.toml parses");
    assert_eq!(loaded.config.sources.len(), 18);
    assert!(
        loaded.config.admin.is_some(),
        "the inspector's [admin] is shown too"
    );
    let err = hookgate::config::parse(&text, "examples/full.toml", &|_| None)
        .expect_err("secrets have no shipped defaults");
    assert!(err.to_string().contains("SAHUT_SECRET"), "{err}");
    let gateway = loaded.build_gateway().expect("examples/full.toml builds");
    assert_eq!(gateway.output().kind(), "kafka");
    assert!(gateway.sealer().is_enabled(), "dead letters are sealed");
    assert!(gateway
        .source("whatsapp")
        .is_some_and(|s| s.verify_token.is_some()));
}

#[test]
fn the_container_config_builds_and_demands_its_secrets() {
    // deploy/hookgate.toml is the image's default and what compose.yaml runs.
    let path = root().join("deploy/hookgate.toml");
    let text = std::fs::read_to_string(&path).expect("deploy/hookgate.toml");
    let compose = std::fs::read_to_string(root().join("compose.yaml")).expect("compose.yaml");
    let secrets = [
        "SAHUT_SECRET",
        "ONEROUTE_SECRET",
        "MAGALU_TOKEN",
        "AISOULE_SECRET",
        "SAVANTO_SECRET",
        "HOOKGATE_DEAD_LETTER_KEY",
    ];
    let env = |k: &str| {
        secrets
            .contains(&k)
            .then(|| format!("{}-value-0123456789", k.to_lowercase()))
    };
    let loaded = Loaded::from_text(&text, "deploy/hookgate.toml", &root().join("deploy"), &env)
        .expect("parses with the secrets set");
    assert_eq!(loaded.config.server.listen.to_string(), "0.0.0.0:8080");
    let gateway = loaded.build_gateway().expect("builds");
    assert_eq!(gateway.output().kind(), "kafka");
    assert_eq!(gateway.sources().count(), 5);
    assert!(gateway.sealer().is_enabled(), "dead letters are sealed");
    // Every secret the file needs is one compose.yaml provides.
    for k in secrets {
        assert!(
            compose.contains(&format!("{k}: ")),
            "compose.yaml lacks {k}"
        );
    }
    // Without them the gateway refuses to start, naming the variable.
    let err = hookgate::config::parse(&text, "deploy/hookgate.toml", &|_| None)
        .expect_err("secrets are required");
    assert!(err.to_string().contains("SAHUT_SECRET"), "{err}");
}

#[test]
fn map_prints_the_canonical_event() {
    let out = Command::new(BIN)
        .args(["map", "--provider", "savanto"])
        .arg(root().join("fixtures/savanto/contact-submitted/body.json"))
        .output()
        .expect("map runs");
    assert!(out.status.success());
    let ev: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON event");
    assert_eq!(ev["type"], "contact.submitted");
    assert_eq!(ev["data"]["contact"]["email"], "jane@example.com");
}

#[test]
fn serve_refuses_a_source_without_authentication() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("hookgate.toml");
    std::fs::write(
        &config,
        "[[source]]\nid = \"m\"\nprovider = \"magalu-sac\"\n",
    )
    .expect("write");
    let out = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("does not sign") && stderr.contains("allow_unauthenticated"),
        "{stderr}"
    );
}

fn scrape_metrics(port: u16) -> String {
    raw_request(
        port,
        b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
}

#[test]
fn sigterm_lets_a_request_in_flight_finish_and_refuses_new_connections() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = serve(dir.path());
    let body = std::fs::read(root().join("fixtures/magalu-sac/ticket-creation/body.json"))
        .expect("fixture");
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    write!(
        stream,
        "POST /webhooks/magalu/demo-magalu-token-0123456789 HTTP/1.1\r\nhost: x\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .expect("headers");
    stream.write_all(first).expect("first half");
    stream.flush().expect("flush");
    // In flight once the handler has it (headers parsed, the body half read): the
    // gauge says so, however long the server took to get there.
    common::wait_until(
        Duration::from_secs(10),
        "the half-sent request counted in flight",
        || common::metric(&scrape_metrics(server.port), "hookgate_requests_in_flight") == Some(1.0),
    );
    server.signal("-TERM");
    server.wait_log("shutdown requested", Duration::from_secs(5));
    // New connections are refused once draining started.
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", server.port)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "still accepting connections after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        server.child.try_wait().expect("wait").is_none(),
        "exited with a request in flight"
    );
    stream.write_all(rest).expect("second half");
    let response = read_response(&mut stream);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"accepted\""), "{response}");
    let exit = server.wait_exit(Duration::from_secs(10));
    assert!(exit.success(), "exit status {exit:?}");
    let events = common::read_lines(&dir.path().join("events.ndjson"));
    assert_eq!(events.len(), 1, "the in-flight event was written");
    assert_eq!(events[0]["type"], "ticket.created");
}

#[test]
fn sighup_reloads_sources_and_mappings_and_a_broken_config_keeps_the_old_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path());
    let base = format!("http://127.0.0.1:{}/webhooks", server.port);
    let sahut = |event: &str, secret: &str| {
        send(
            &["--provider", "sahut", "--event", event, "--secret", secret],
            &format!("{base}/sahut-main"),
        )
    };
    let copy_body = root().join("fixtures/sahut/contact-created/body.json");
    // `send` reads the mapping from its own copy of the good configuration.
    let send_config = dir.path().join("send.toml");
    let config_arg = send_config.to_string_lossy().into_owned();
    let copy = || {
        send(
            &[
                "--config",
                &config_arg,
                "--provider",
                "sahut-copy",
                "--body",
                copy_body.to_str().expect("utf-8 path"),
                "--secret",
                "copy-secret-0123456789",
            ],
            &format!("{base}/sahut-copy"),
        )
    };
    let (ok, out) = sahut("message.created", "demo-sahut-secret");
    assert!(ok && out.contains("\"accepted\""), "{out}");

    // New version: Sahut's secret rotated, a new mapping folder with a new
    // provider, and a source for it.
    let original = std::fs::read_to_string(&server.config).expect("config");
    let extra = dir.path().join("extra");
    std::fs::create_dir(&extra).expect("mkdir");
    let mapping = std::fs::read_to_string(root().join("mappings/sahut.toml"))
        .expect("sahut mapping")
        .replacen("provider = \"sahut\"", "provider = \"sahut-copy\"", 1);
    assert!(mapping.contains("provider = \"sahut-copy\""));
    std::fs::write(extra.join("sahut-copy.toml"), mapping).expect("write mapping");
    let good = original.replace("demo-sahut-secret", "rotated-sahut-secret")
        + "\n[mappings]\ndirs = [\"extra\"]\n\n[[source]]\nid = \"sahut-copy\"\n\
           provider = \"sahut-copy\"\nsecrets = [\"copy-secret-0123456789\"]\n";
    std::fs::write(&server.config, &good).expect("write config");
    std::fs::write(&send_config, &good).expect("write config");
    server.signal("-HUP");
    server.wait_log("configuration reloaded", Duration::from_secs(10));

    let (ok, out) = sahut("conversation.created", "demo-sahut-secret");
    assert!(
        !ok && out.starts_with("401 "),
        "the old secret still works: {out}"
    );
    let (ok, out) = sahut("conversation.created", "rotated-sahut-secret");
    assert!(ok && out.contains("\"accepted\""), "{out}");
    let (ok, out) = copy();
    assert!(ok && out.contains("\"accepted\""), "{out}");

    // A broken mapping file: rejected as a whole, naming the file.
    std::fs::write(
        extra.join("broken.toml"),
        "provider = \"broken\"\n[event]\ntype = \".[[\"\n",
    )
    .expect("write broken mapping");
    server.signal("-HUP");
    let line = server.wait_log("configuration reload rejected", Duration::from_secs(10));
    assert!(line.contains("broken.toml"), "{line}");
    std::fs::remove_file(extra.join("broken.toml")).expect("rm");
    // A configuration that does not parse.
    std::fs::write(&server.config, "[[source]\nid = ").expect("write config");
    server.signal("-HUP");
    server.wait_log("configuration reload rejected", Duration::from_secs(10));

    // The last good configuration is still the one serving.
    let (ok, out) = copy();
    assert!(ok && out.contains("\"duplicate\""), "{out}");
    let (ok, out) = sahut("contact.created", "rotated-sahut-secret");
    assert!(ok && out.contains("\"accepted\""), "{out}");
    let metrics = scrape_metrics(server.port);
    assert!(
        metrics.contains("hookgate_config_reloads_total{result=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("hookgate_config_reloads_total{result=\"error\"} 2"),
        "{metrics}"
    );
    let events = common::read_lines(&dir.path().join("events.ndjson"));
    let sources: Vec<&str> = events.iter().filter_map(|e| e["source"].as_str()).collect();
    assert_eq!(
        sources,
        [
            "/sources/sahut-main",
            "/sources/sahut-main",
            "/sources/sahut-copy",
            "/sources/sahut-main"
        ]
    );
}

#[test]
fn probe_succeeds_on_a_live_gateway_and_fails_on_a_dead_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path());
    let probe = |url: String| {
        Command::new(BIN)
            .args(["probe", &url, "--timeout", "2s"])
            .output()
            .expect("probe runs")
    };
    let out = probe(format!("http://127.0.0.1:{}/healthz", server.port));
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("200 "));
    let out = probe(format!("http://127.0.0.1:{}/nope", server.port));
    assert!(!out.status.success(), "a 404 is not healthy");
    drop(server);
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let out = probe(format!("http://127.0.0.1:{free}/healthz"));
    assert!(!out.status.success(), "nobody listening is not healthy");
}

/// `hookgate bench` against a live gateway: every delivery is accepted as a new
/// event (signed right, unique, so dedup never answers for it), and the report's
/// 2xx count matches what reached the output.
#[test]
fn bench_drives_a_live_gateway_with_unique_signed_deliveries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path());
    let out = Command::new(BIN)
        .current_dir(root())
        .args(["bench", "--config"])
        .arg(&server.config)
        .args(["--duration", "1s", "--warmup", "0s", "--concurrency", "4"])
        .args(["--json", "--quiet"])
        .arg(format!("http://127.0.0.1:{}", server.port))
        .output()
        .expect("bench runs");
    assert!(
        out.status.success(),
        "bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let ok = report["statuses"]["200"].as_u64().unwrap_or(0);
    let requests = report["requests"].as_u64().expect("requests");
    assert!(ok > 0, "no 200 answers: {report}");
    assert_eq!(ok, requests, "every request answered 200: {report}");
    assert_eq!(report["transport_errors"], 0, "{report}");
    // Every source of the quick start contributes templates.
    assert!(report["templates"].as_u64().unwrap_or(0) >= 5, "{report}");

    let events = std::fs::read_to_string(dir.path().join("events.ndjson")).expect("events");
    let ids: std::collections::HashSet<String> = events
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("event JSON");
            v["id"].as_str().expect("id").to_owned()
        })
        .collect();
    assert_eq!(ids.len(), events.lines().count(), "no event written twice");
    // A duplicate would be answered 200 without being written: the output holds at
    // least one event per 200 (deliveries still in flight at the end may add some).
    assert!(
        ids.len() as u64 >= ok,
        "{} events written for {ok} answers of 200",
        ids.len()
    );
    assert!(
        !dir.path().join("dead-letters.ndjson").exists()
            || std::fs::read_to_string(dir.path().join("dead-letters.ndjson"))
                .expect("dead letters")
                .is_empty(),
        "no bench delivery is dead-lettered"
    );
}

#[test]
fn bench_refuses_a_broken_fixture() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = dir.path().join("fixtures/sahut/01-broken");
    std::fs::create_dir_all(&case).expect("mkdir");
    std::fs::write(case.join("headers.json"), "{not json").expect("write");
    std::fs::write(case.join("body.json"), "{}").expect("write");
    let out = Command::new(BIN)
        .current_dir(root())
        .args([
            "bench",
            "--config",
            "examples/quickstart.toml",
            "--source",
            "sahut-main",
        ])
        .arg("--fixtures")
        .arg(dir.path().join("fixtures"))
        .args(["--duration", "1s", "http://127.0.0.1:9"])
        .output()
        .expect("bench runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a broken fixture must fail the run");
    assert!(
        stderr.contains("01-broken") && stderr.contains("sahut"),
        "the error names the fixture: {stderr}"
    );
}
