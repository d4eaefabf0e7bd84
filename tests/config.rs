//! Configuration as a whole: sources compiled against the mappings (what start-up
//! refuses, and how it says so without showing a secret), and SIGHUP's rebuild.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use hookgate::config::{ConfigError, Loaded};

/// A key long enough for every scheme.
const KEY: &str = "0123456789abcdef";

fn env(k: &str) -> Option<String> {
    (k == "S").then(|| "secret-value".to_owned())
}

fn loaded(text: &str) -> Result<Loaded, ConfigError> {
    Loaded::from_text(text, "test.toml", Path::new(""), &env)
}

/// The error building the sources of `text` gives, or "" when they build.
fn sources_err(text: &str) -> String {
    let l = match loaded(text) {
        Ok(l) => l,
        Err(e) => return e.to_string(),
    };
    let m = l.mappings().unwrap_or_else(|e| panic!("{e}"));
    match l.compile_sources(&m) {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn reload_swaps_sources_and_keeps_restart_only_sections() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let events = dir.path().join("e.ndjson").display().to_string();
    let dead = dir.path().join("d.ndjson").display().to_string();
    let text = |listen: &str, ttl: &str, source: &str| {
        format!(
            "[server]\nlisten = \"{listen}\"\n[output]\nkind = \"file\"\npath = \"{events}\"\n\
             dead_letter_path = \"{dead}\"\n[dedup]\nttl = \"{ttl}\"\n\
             [[source]]\nid = \"{source}\"\nprovider = \"sahut\"\nsecrets = [\"{KEY}\"]\n"
        )
    };
    let running = loaded(&text("127.0.0.1:1", "1h", "a")).unwrap_or_else(|e| panic!("{e}"));
    let current = running.build_gateway().unwrap_or_else(|e| panic!("{e}"));
    let next = loaded(&text("127.0.0.1:2", "2h", "b")).unwrap_or_else(|e| panic!("{e}"));
    let done = next
        .rebuild_gateway(&current, &running)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(done.needs_restart, ["server", "dedup"]);
    assert!(done.gateway.source("b").is_some() && done.gateway.source("a").is_none());
    assert!(Arc::ptr_eq(done.gateway.output(), current.output()));
    assert!(Arc::ptr_eq(done.gateway.dedup(), current.dedup()));
    // What is in effect is what the next reload compares against.
    assert_eq!(done.loaded.config.server, running.config.server);
    assert_eq!(done.loaded.config.dedup, running.config.dedup);
    // Same restart-only sections: nothing to report.
    let again = loaded(&text("127.0.0.1:1", "1h", "c")).unwrap_or_else(|e| panic!("{e}"));
    let done = again
        .rebuild_gateway(&current, &running)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(done.needs_restart.is_empty());
}

#[test]
fn unsigned_provider_needs_a_way_in() {
    let e = sources_err("[[source]]\nid = \"m\"\nprovider = \"magalu-sac\"\n");
    assert!(
        e.contains("does not sign") && e.contains("allow_unauthenticated"),
        "{e}"
    );
    let e =
        sources_err("[[source]]\nid = \"m\"\nprovider = \"magalu-sac\"\nsecrets = [\"${S}\"]\n");
    assert!(e.contains("does not sign"), "{e}");
    assert!(
        !e.contains("secret-value"),
        "secrets never appear in errors: {e}"
    );
    let ok = sources_err(
        "[[source]]\nid = \"m\"\nprovider = \"magalu-sac\"\ntoken = \"0123456789abcdef0123\"\n",
    );
    assert_eq!(ok, "");
    let ok = sources_err(
        "[[source]]\nid = \"m\"\nprovider = \"magalu-sac\"\nallow_unauthenticated = true\n",
    );
    assert_eq!(ok, "");
    let e = sources_err("[[source]]\nid = \"m\"\nprovider = \"magalu-sac\"\ntoken = \"short\"\n");
    assert!(e.contains("at least 16"), "{e}");
}

#[test]
fn signing_provider_without_secrets_is_refused() {
    let e = sources_err("[[source]]\nid = \"s\"\nprovider = \"sahut\"\n");
    assert!(e.contains("set `secrets`"), "{e}");
    let e = sources_err(
        "[[source]]\nid = \"s\"\nprovider = \"nope\"\nsecrets = [\"0123456789abcdef\"]\n",
    );
    assert!(e.contains("unknown provider `nope`"), "{e}");
    let e = sources_err(
        "[[source]]\nid = \"s\"\nprovider = \"sahut\"\nsecrets = [\"0123456789abcdef\"]\n[[source]]\nid = \"s\"\nprovider = \"sahut\"\nsecrets = [\"0123456789abcdef\"]\n",
    );
    assert!(e.contains("duplicate source id"), "{e}");
}

/// Found by the security review: `"whsec_${PREVIOUS:-}"` with the variable unset
/// decoded to an empty HMAC key, which verifies anything signed with it.
#[test]
fn empty_and_short_keys_are_refused_and_empty_slots_skipped() {
    let std = |secrets: &str| {
        sources_err(&format!(
            "[[source]]\nid = \"svix-main\"\nprovider = \"standard-webhooks\"\nsecrets = [{secrets}]\n"
        ))
    };
    let good = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let e = std(&format!("\"{good}\", \"whsec_${{PREVIOUS:-}}\""));
    assert!(
        e.contains("svix-main") && e.contains("secrets[1]") && e.contains("empty key"),
        "{e}"
    );
    // 11 bytes once decoded ("demo-secret").
    let e = std("\"whsec_ZGVtby1zZWNyZXQ=\"");
    assert!(
        e.contains("svix-main") && e.contains("11 bytes") && e.contains("at least 16"),
        "{e}"
    );
    // An empty slot is a rotation slot not in use.
    assert_eq!(std(&format!("\"{good}\", \"${{PREVIOUS:-}}\"")), "");
    let e = sources_err("[[source]]\nid = \"s\"\nprovider = \"sahut\"\nsecrets = [\"short\"]\n");
    assert!(
        e.contains("source[0] (id `s`)") && e.contains("at least 16"),
        "{e}"
    );
    assert!(!e.contains("short\""), "the value is never shown: {e}");
    let e =
        sources_err("[[source]]\nid = \"tg\"\nprovider = \"telegram\"\nsecrets = [\"tg-token\"]\n");
    assert!(e.contains("tg") && e.contains("at least 16"), "{e}");
}

/// Meta's handshake token proves nothing if it can be guessed: held to the same
/// 16-character minimum as URL tokens, named in the error, never shown.
#[test]
fn a_short_verify_token_is_refused_naming_the_key() {
    let src = |token: &str| {
        sources_err(&format!(
            "[[source]]\nid = \"wa\"\nprovider = \"whatsapp-cloud\"\nsecrets = [\"0123456789abcdef\"]\nverify_token = \"{token}\"\n"
        ))
    };
    let e = src("hunter2-meta");
    assert!(
        e.contains("source[0] (id `wa`)")
            && e.contains("verify_token")
            && e.contains("at least 16"),
        "{e}"
    );
    assert!(!e.contains("hunter2"), "the value is never shown: {e}");
    assert_eq!(src("0123456789abcdef"), "");
}

#[test]
fn values_from_the_environment_never_appear_in_errors() {
    // Found by the config_load fuzz target: a secret in a duration field.
    let e = sources_err("[dedup]\nttl = \"${S}\"\n");
    assert!(
        e.contains("ttl") && e.contains("[redacted]") && !e.contains("secret-value"),
        "{e}"
    );
    let e = sources_err("[server]\nlisten = \"${S}\"\n");
    assert!(e.contains("listen") && !e.contains("secret-value"), "{e}");
    let e = sources_err(
        "[[source]]\nid = \"s\"\nprovider = \"${S}\"\nsecrets = [\"0123456789abcdef\"]\n",
    );
    assert!(
        e.contains("unknown provider") && !e.contains("secret-value"),
        "{e}"
    );
    let e = sources_err(
        "[[source]]\nid = \"${S}!\"\nprovider = \"sahut\"\nsecrets = [\"0123456789abcdef\"]\n",
    );
    assert!(
        e.contains("source id") && !e.contains("secret-value"),
        "{e}"
    );
}
