//! `hookgate replay`: dead letters of a mapping that lacked an event type come back
//! once the mapping is fixed, verified again first; a forged record, a corrupt line
//! and an unsigned source's record are refused; a second replay delivers nothing
//! new (Redis dedup, and the dead-letter topic's committed offsets).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use hookgate::fixture::FIXTURE_SECRET;

mod common;
use common::redis::Redis;
use common::server::BIN;
use common::*;

/// Sahut's shipped mapping without `contact.created`: what an integrator had
/// before adding it.
fn broken_sahut_mapping() -> String {
    let shipped =
        std::fs::read_to_string(common::server::root().join("mappings/sahut.toml")).unwrap();
    let start = shipped.find("[events.\"contact.created\"]").unwrap();
    let end = start + shipped[start..].find("\n\n").unwrap();
    let broken = format!("{}{}", &shipped[..start], &shipped[end + 2..]);
    assert!(!broken.contains("contact.created\"]"));
    broken
}

fn write_mapping(dir: &Path, text: &str) {
    std::fs::create_dir_all(dir.join("mappings")).unwrap();
    std::fs::write(dir.join("mappings/sahut.toml"), text).unwrap();
}

/// The gateway's own key, sealing the dead letters it writes.
const DEAD_LETTER_KEY: &str = "replay-test-seal-key-0123456789";

fn config(dedup: &str) -> String {
    format!(
        "[mappings]\ndirs = [\"mappings\"]\n{dedup}\n\
         [dead_letters]\nkeys = [\"{DEAD_LETTER_KEY}\"]\n\n\
         [[source]]\nid = \"sahut\"\nprovider = \"sahut\"\nsecrets = [\"{FIXTURE_SECRET}\"]\n\n\
         [[source]]\nid = \"magalu-sac\"\nprovider = \"magalu-sac\"\ntoken = \"{MAGALU_TOKEN}\"\n"
    )
}

fn replay(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .arg("replay")
        .arg("--config")
        .arg(dir.join("hookgate.toml"))
        .args(args)
        .output()
        .expect("replay runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A gateway (in process) with the broken mapping: the fixture is dead-lettered.
async fn dead_letter_a_contact(dir: &Path, config_text: &str) -> serde_json::Value {
    write_mapping(dir, &broken_sahut_mapping());
    std::fs::write(dir.join("hookgate.toml"), config_text).unwrap();
    let h = Harness::in_dir(dir, config_text);
    let case = fixture_case("sahut", "contact-created");
    let (s, j, _) = h.send(request("/webhooks/sahut", &case)).await;
    assert_eq!(
        (s.as_u16(), j["reason"].as_str()),
        (200, Some("unknown_event_type")),
        "{j}"
    );
    let dead = h.dead_letters();
    assert_eq!(dead.len(), 1);
    // Every header the signature covers is kept, so the record can be verified again.
    assert!(
        dead[0]["headers"]["x-sahut-signature"].is_string(),
        "{}",
        dead[0]
    );
    dead[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixed_mapping_brings_the_dead_letter_back_once() {
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap();
    let text = config(&format!(
        "[dedup]\nstore = \"redis\"\nurl = \"{}\"\n",
        redis.url()
    ));
    dead_letter_a_contact(dir.path(), &text).await;
    let dead = dir.path().join("dead-letters.ndjson");
    let dead = dead.to_str().unwrap();

    // Still broken: reported as still failing, nothing written, not an error exit.
    let (ok, _, err) = replay(dir.path(), &["--from-file", dead]);
    assert!(ok, "{err}");
    assert!(
        err.contains("still_failing") && err.contains("unknown_event_type"),
        "{err}"
    );
    assert!(read_lines(&dir.path().join("events.ndjson")).is_empty());

    // A dry run with the fixed mapping shows the event and delivers nothing.
    write_mapping(
        dir.path(),
        &std::fs::read_to_string(common::server::root().join("mappings/sahut.toml")).unwrap(),
    );
    let (ok, out, err) = replay(dir.path(), &["--from-file", dead, "--dry-run"]);
    assert!(ok, "{err}");
    let line: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(line["result"], "would_deliver");
    assert_eq!(line["event"]["type"], "contact.created");
    assert!(read_lines(&dir.path().join("events.ndjson")).is_empty());

    // Replayed: the event, with the id it would have had had the mapping been right.
    let (ok, out, err) = replay(dir.path(), &["--from-file", dead]);
    assert!(ok, "{err}");
    assert!(
        out.contains("sahut") && out.contains("unknown_event_type"),
        "{out}"
    );
    let events = read_lines(&dir.path().join("events.ndjson"));
    assert_eq!(events.len(), 1);
    let expected = fixture_case("sahut", "contact-created").expected.unwrap();
    assert_eq!(events[0]["id"], expected["event"]["id"]);
    assert_eq!(events[0]["type"], "contact.created");

    // Twice: a duplicate, nothing new.
    let (ok, out, err) = replay(dir.path(), &["--from-file", dead]);
    assert!(ok, "{err}");
    let row = out.lines().find(|l| l.starts_with("sahut")).unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cells[2..4], ["0", "1"], "replayed 0, duplicate 1: {out}");
    assert_eq!(read_lines(&dir.path().join("events.ndjson")).len(), 1);
}

#[tokio::test]
async fn forged_corrupt_and_unsigned_records_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = config("");
    let real = dead_letter_a_contact(dir.path(), &text).await;
    write_mapping(
        dir.path(),
        &std::fs::read_to_string(common::server::root().join("mappings/sahut.toml")).unwrap(),
    );
    // A forged record: the body changed, the kept signature not.
    let mut forged = real.clone();
    forged["body"] =
        serde_json::Value::String(forged["body"].as_str().unwrap().replace("Siti", "Mallory"));
    // An unsigned source's record (Magalu: URL token), as a dead-letter topic
    // writable by others could hold.
    let magalu = serde_json::json!({
        "id": real["id"], "source": "magalu-sac", "provider": "magalu-sac",
        "reason": "unknown_event_type", "detail": "x", "received_at": real["received_at"],
        "headers": {}, "body": std::fs::read_to_string(fixtures_root().join("magalu-sac/ticket-creation/body.json")).unwrap()
    });
    let file = dir.path().join("mixed.ndjson");
    std::fs::write(
        &file,
        format!("{forged}\n{{ not json at all\n{magalu}\n{real}\n"),
    )
    .unwrap();
    let (ok, out, err) = replay(dir.path(), &["--from-file", file.to_str().unwrap()]);
    assert!(!ok, "an unverifiable record makes the run fail: {out}{err}");
    assert!(
        err.contains("mixed.ndjson:1") && err.contains("bad_record_seal"),
        "the forged record: {err}"
    );
    assert!(
        err.contains("mixed.ndjson:2: not a dead-letter record"),
        "the corrupt line, with its number: {err}"
    );
    assert!(
        err.contains("mixed.ndjson:3") && err.contains("unsealed_record"),
        "the hand-written record: {err}"
    );
    // Only the real one was delivered.
    let events = read_lines(&dir.path().join("events.ndjson"));
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["data"]["contact"]["name"], "Siti Rahma");

    // Unsealed records accepted: the forged body still fails its signature, and
    // the unsigned source's record needs --trust-unsigned too.
    let mut forged_unsealed = forged.clone();
    forged_unsealed.as_object_mut().unwrap().remove("seal");
    let unsealed = dir.path().join("unsealed.ndjson");
    std::fs::write(&unsealed, format!("{forged_unsealed}\n{magalu}\n")).unwrap();
    let unsealed = unsealed.to_str().unwrap();
    let (ok, _, err) = replay(
        dir.path(),
        &["--from-file", unsealed, "--trust-unauthenticated"],
    );
    assert!(!ok);
    assert!(
        err.contains("unsealed.ndjson:1") && err.contains("signature_mismatch"),
        "{err}"
    );
    assert!(
        err.contains("unsealed.ndjson:2") && err.contains("unsigned_source"),
        "{err}"
    );
    // With both flags the operator vouches for the unsigned one.
    let only = dir.path().join("magalu.ndjson");
    std::fs::write(&only, format!("{magalu}\n")).unwrap();
    let (ok, _, err) = replay(
        dir.path(),
        &[
            "--from-file",
            only.to_str().unwrap(),
            "--trust-unsigned",
            "--trust-unauthenticated",
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(read_lines(&dir.path().join("events.ndjson")).len(), 2);
}

#[test]
fn the_dead_letter_topic_is_replayed_once_and_what_still_fails_is_kept() {
    let broker = common::broker::Broker::memory();
    broker.create_topic("webhooks.events", 1);
    broker.create_topic("webhooks.dead-letter", 1);
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:8080\"\n[output]\nkind = \"kafka\"\nbrokers = \"{}\"\n{}",
        broker.bootstrap(),
        config("")
    );
    write_mapping(dir.path(), &broken_sahut_mapping());
    let server = common::server::Server::start(dir.path(), &text, "json");
    // Two dead letters: a contact (fixable) and a body that is not JSON (never).
    let case = fixture_case("sahut", "contact-created");
    let send = |body: &[u8], headers: &http::HeaderMap| {
        let d = hookgate::loadgen::Delivery {
            path: "/webhooks/sahut".into(),
            headers: headers.clone(),
            body: bytes::Bytes::copy_from_slice(body),
        };
        common::server::post_delivery(server.port, &d)
    };
    let (s, j) = send(&case.body, &case.headers);
    assert_eq!(
        (s, j["reason"].as_str()),
        (200, Some("unknown_event_type")),
        "{j}"
    );
    let garbage = b"not json";
    let mut h = http::HeaderMap::new();
    h.insert(
        "x-sahut-signature",
        hmac_hex("sha256", FIXTURE_SECRET.as_bytes(), garbage)
            .parse()
            .unwrap(),
    );
    let (s, j) = send(garbage, &h);
    assert_eq!(
        (s, j["reason"].as_str()),
        (200, Some("malformed_json")),
        "{j}"
    );
    drop(server);

    write_mapping(
        dir.path(),
        &std::fs::read_to_string(common::server::root().join("mappings/sahut.toml")).unwrap(),
    );
    std::fs::write(dir.path().join("hookgate.toml"), &text).unwrap();
    let (ok, out, err) = replay(dir.path(), &["--from-topic"]);
    assert!(ok, "{out}{err}");
    assert!(
        err.contains("malformed_json"),
        "still failing, reported: {err}"
    );
    let events = common::broker::consume(
        &broker.bootstrap(),
        "webhooks.events",
        1,
        1,
        Duration::from_secs(10),
    );
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].json()["type"], "contact.created");
    // Again: the contact is behind the committed offset only if nothing before it
    // failed; the malformed record (after it) is seen again, the contact is not.
    let (ok, out, err) = replay(dir.path(), &["--from-topic"]);
    assert!(ok, "{out}{err}");
    assert!(
        err.contains("malformed_json"),
        "the failing record is kept: {err}"
    );
    let row = out.lines().find(|l| l.contains("unknown_event_type"));
    assert!(
        row.is_none(),
        "the replayed contact is not read again: {out}"
    );
    // The replay has returned: whatever it produced is on the topic now, so the
    // topic read to its end shows it (no wait for records that should not come).
    let events = common::broker::consume_all(
        &broker.bootstrap(),
        "webhooks.events",
        1,
        Duration::from_secs(10),
    );
    assert_eq!(events.len(), 1, "nothing new on the topic");
}

/// One item of a LINE batch was dead-lettered (no rule for `unfollow`); once the
/// mapping has one, replaying the record verifies the whole delivery again and
/// delivers that item alone, with the id it would have had.
#[tokio::test]
async fn a_dead_lettered_batch_item_comes_back_alone() {
    let dir = tempfile::tempdir().unwrap();
    let shipped =
        std::fs::read_to_string(common::server::root().join("mappings/line.toml")).unwrap();
    std::fs::create_dir_all(dir.path().join("mappings")).unwrap();
    std::fs::write(dir.path().join("mappings/line.toml"), &shipped).unwrap();
    let text = format!(
        "[mappings]\ndirs = [\"mappings\"]\n[dead_letters]\nkeys = [\"{DEAD_LETTER_KEY}\"]\n\n\
         [[source]]\nid = \"line\"\nprovider = \"line\"\nsecrets = [\"{FIXTURE_SECRET}\"]\n"
    );
    std::fs::write(dir.path().join("hookgate.toml"), &text).unwrap();
    let h = Harness::in_dir(dir.path(), &text);
    let case = fixture_case("line", "batch-message-follow-unfollow");
    let (s, j, _) = h.send(request("/webhooks/line", &case)).await;
    assert_eq!(s.as_u16(), 200, "{j}");
    assert_eq!(read_lines(&dir.path().join("events.ndjson")).len(), 2);
    let dead = h.dead_letters();
    assert_eq!((dead.len(), dead[0]["item"].as_u64()), (1, Some(2)));
    // The item is the gateway's word: pointing the record at another item of the
    // signed batch breaks its seal.
    let mut moved = dead[0].clone();
    moved["item"] = serde_json::json!(0);
    let moved_file = dir.path().join("moved.ndjson");
    std::fs::write(&moved_file, format!("{moved}\n")).unwrap();
    let (ok, _, err) = replay(dir.path(), &["--from-file", moved_file.to_str().unwrap()]);
    assert!(!ok && err.contains("bad_record_seal"), "{err}");

    let fixed = format!(
        "{shipped}\n[events.unfollow]\ntype = \"contact.updated\"\n\
         data = '{{contact: {{id: .event.source.userId, attributes: {{unfollowed: true}}}}}}'\n"
    );
    std::fs::write(dir.path().join("mappings/line.toml"), fixed).unwrap();
    let file = dir.path().join("dead-letters.ndjson");
    let (ok, out, err) = replay(dir.path(), &["--from-file", file.to_str().unwrap()]);
    assert!(ok, "{out}\n{err}");
    let events = read_lines(&dir.path().join("events.ndjson"));
    assert_eq!(
        events.len(),
        3,
        "only the dead-lettered item is added: {out}"
    );
    assert_eq!(events[2]["type"], "contact.updated");
    assert_eq!(events[2]["providereventid"], "01FZ74B5Y0F4TNKA5SCAVKPEDM");
    assert_eq!(
        events[2]["data"]["contact"]["id"],
        "Ubbd4f124aee5113a6d1f1e8e0a7a6d2c"
    );
}

/// A sealed record's `received_at` is the gateway's word: moved back to just after
/// the event's own time (so `max_event_age` would pass), the seal breaks. Without a
/// seal the record is refused, and accepted unsealed it is aged against now.
#[tokio::test]
async fn received_at_is_trusted_only_under_the_gateways_seal() {
    let dir = tempfile::tempdir().unwrap();
    // The contact fixture's own time is 2026-03-02T08:14:58Z, months before now.
    let text = config("").replace(
        "provider = \"sahut\"\n",
        "provider = \"sahut\"\nmax_event_age = \"6h\"\n",
    );
    let real = dead_letter_a_contact(dir.path(), &text).await;
    assert!(
        real["seal"]
            .as_str()
            .is_some_and(|s| s.starts_with("hmac-sha256:v1:")),
        "{real}"
    );
    write_mapping(
        dir.path(),
        &std::fs::read_to_string(common::server::root().join("mappings/sahut.toml")).unwrap(),
    );
    let write = |name: &str, record: &serde_json::Value| {
        let p = dir.path().join(name);
        std::fs::write(&p, format!("{record}\n")).unwrap();
        p.to_str().unwrap().to_owned()
    };
    // As written: received now, the event is months old, so it still fails.
    let (ok, _, err) = replay(dir.path(), &["--from-file", &write("real.ndjson", &real)]);
    assert!(ok, "{err}");
    assert!(
        err.contains("still_failing") && err.contains("too_old"),
        "{err}"
    );

    let mut backdated = real.clone();
    backdated["received_at"] = serde_json::json!("2026-03-02T09:00:00Z");
    let (ok, _, err) = replay(
        dir.path(),
        &["--from-file", &write("backdated.ndjson", &backdated)],
    );
    assert!(!ok, "refused, and the run says so");
    assert!(
        err.contains("unverifiable") && err.contains("bad_record_seal"),
        "{err}"
    );

    let mut unsealed = backdated.clone();
    unsealed.as_object_mut().unwrap().remove("seal");
    let unsealed = write("unsealed.ndjson", &unsealed);
    let (ok, _, err) = replay(dir.path(), &["--from-file", &unsealed]);
    assert!(!ok);
    assert!(err.contains("unsealed_record"), "{err}");
    let (ok, _, err) = replay(
        dir.path(),
        &["--from-file", &unsealed, "--trust-unauthenticated"],
    );
    assert!(ok, "{err}");
    assert!(
        err.contains("still_failing") && err.contains("too_old"),
        "aged against the time of the replay: {err}"
    );
    assert!(read_lines(&dir.path().join("events.ndjson")).is_empty());
}

/// A record's strings reach the operator's terminal escaped: an ESC sequence in a
/// record (clear screen, set title) is printed as `\u{1b}`, never sent raw.
#[test]
fn a_records_escape_sequences_do_not_reach_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    write_mapping(dir.path(), &broken_sahut_mapping());
    std::fs::write(dir.path().join("hookgate.toml"), config("")).unwrap();
    let hostile = "sahut\u{1b}[2J\u{1b}]0;pwned\u{7}\u{9b}31m";
    let record = serde_json::json!({
        "id": "aa7dcb06-54a7-523c-8ca7-d13cb7b99d83", "source": hostile, "provider": "sahut",
        "reason": "unknown_event_type", "detail": hostile, "received_at": "2026-03-02T09:00:00Z",
        "headers": {}, "body": "{}"
    });
    let file = dir.path().join("hostile.ndjson");
    std::fs::write(&file, format!("{record}\n")).unwrap();
    for extra in [&[][..], &["--dry-run"][..]] {
        let mut args = vec![
            "--from-file",
            file.to_str().unwrap(),
            "--trust-unauthenticated",
        ];
        args.extend_from_slice(extra);
        let (ok, out, err) = replay(dir.path(), &args);
        assert!(!ok, "an unknown source is unverifiable");
        for text in [&out, &err] {
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "raw control characters printed: {text:?}"
            );
        }
        assert!(
            err.contains("sahut\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\u{9b}31m"),
            "{err}"
        );
        assert!(out.contains("sahut\\u{1b}[2J"), "the summary row: {out}");
    }
}
