//! `hookgate check` and `hookgate map`: the integrator's offline tools.

use super::term::{self, Field, Lines};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::Utc;

use crate::engine::{Engine, Policy};
use crate::event::{Decision, EventValidator, SourceId};
use crate::fixture;
use crate::source::Source;
use crate::verify::{SourceAuth, Unverified};

/// The policy (`max_event_age`, `tenant`) of the first configured source of
/// `provider`, so offline runs apply what serving would.
fn policy_for(sources: &[Source], provider: &str) -> Policy {
    sources
        .iter()
        .find(|s| s.mapping.provider() == provider)
        .map(|s| s.policy.clone())
        .unwrap_or_default()
}

pub fn check(config: Option<PathBuf>, fixtures: &Path, bless: bool) -> anyhow::Result<ExitCode> {
    let loaded = super::args::load(config)?;
    let mappings = loaded.mappings()?;
    let sources = loaded.compile_sources(&mappings)?;
    println!(
        "config: {} ({} source(s)); mappings: {}",
        loaded.file,
        sources.len(),
        mappings.providers().join(", ")
    );
    let engine = Engine::new(EventValidator::new()?);
    let routes = match &loaded.config.output {
        crate::output::OutputConfig::Kafka(k) => Some(k.routes().map_err(|e| anyhow::anyhow!(e))?),
        _ => None,
    };
    let (mut passed, mut failed) = (0usize, 0usize);
    for provider in mappings.providers() {
        let Some(mapping) = mappings.get(provider) else {
            continue;
        };
        let cases = match fixture::load_cases(fixtures, provider) {
            Ok(c) => c,
            Err(e) => {
                println!("FAIL {provider}: {}", Lines(&e.to_string()));
                failed += 1;
                continue;
            }
        };
        for read in mapping.unsigned_reads() {
            let level = if read.checked_by_requires {
                "note"
            } else {
                "warn"
            };
            let guard = if read.checked_by_requires {
                "; every event rule checks the payload with `requires`"
            } else {
                ""
            };
            println!(
                "{level} {provider}: {} reads header(s) {} that the signature does not cover: \
                 whoever holds one delivery can choose this value{guard}",
                read.field,
                read.headers.join(", ")
            );
        }
        if cases.is_empty() {
            println!(
                "warn {provider}: no fixture cases under {}/{provider}",
                fixtures.display()
            );
        }
        for case in &cases {
            let policy = policy_for(&sources, provider);
            let result = if bless {
                fixture::bless(&engine, mapping, &policy, case)
            } else {
                fixture::run(&engine, mapping, &policy, case)
            };
            match result {
                Ok(()) => {
                    passed += 1;
                    let to = routes.as_ref().map_or(String::new(), |r| {
                        topics_of(r, case.expected.as_ref(), provider, &sources)
                    });
                    println!("ok   {provider}/{}{to}", Field(&case.name));
                }
                Err(e) => {
                    failed += 1;
                    println!(
                        "FAIL {provider}/{}: {}",
                        Field(&case.name),
                        Lines(&e.to_string())
                    );
                }
            }
        }
        println!("{}", native_line(provider, mapping));
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// How many of the mapping's expressions the native evaluator runs, and which
/// fall back to jaq and why: a mapping leaving the fast path shows here.
/// ` → topic` for the `ok` line of a case: where its event(s), or its dead letter,
/// would be written under `[[output.route]]`.
fn topics_of(
    routes: &crate::output::kafka::Routes,
    expected: Option<&serde_json::Value>,
    provider: &str,
    sources: &[Source],
) -> String {
    use crate::output::kafka::RouteKey;
    let Some(expected) = expected else {
        return String::new();
    };
    let source = sources
        .iter()
        .find(|s| s.mapping.provider() == provider)
        .map_or(provider.to_owned(), |s| s.id.to_string());
    let events: Vec<&serde_json::Value> = match (&expected["event"], &expected["events"]) {
        (e @ serde_json::Value::Object(_), _) => vec![e],
        (_, serde_json::Value::Array(items)) => items.iter().map(|i| &i["event"]).collect(),
        _ => Vec::new(),
    };
    let mut topics: Vec<&str> = Vec::new();
    for e in events.into_iter().filter(|e| e.is_object()) {
        let s = e["source"].as_str().unwrap_or_default();
        let key = RouteKey {
            ty: e["type"].as_str(),
            provider: e["provider"].as_str().unwrap_or(provider),
            source: s.strip_prefix("/sources/").unwrap_or(s),
            tenant: e["tenant"].as_str(),
        };
        topics.push(routes.event_topic(&key));
    }
    if expected["status"] == "dead_lettered" {
        topics.push(routes.dead_letter_topic(provider, &source));
    }
    topics.dedup();
    if topics.is_empty() {
        String::new()
    } else {
        format!(" → {}", topics.join(", "))
    }
}

fn native_line(provider: &str, mapping: &crate::mapping::Mapping) -> String {
    let exprs = mapping.expressions();
    let fallbacks: Vec<String> = exprs
        .iter()
        .filter_map(|j| {
            j.fallback_reason()
                .map(|why| format!("{}: {why}", j.label()))
        })
        .collect();
    let native = exprs.len() - fallbacks.len();
    let mut line = format!("native {provider}: {native}/{} expressions", exprs.len());
    if !fallbacks.is_empty() {
        line.push_str(&format!(" (fallback: {})", fallbacks.join("; ")));
    }
    line
}

pub fn map(
    config: Option<PathBuf>,
    provider: &str,
    headers: &[String],
    file: &Path,
) -> anyhow::Result<ExitCode> {
    let loaded = super::args::load(config)?;
    let mappings = loaded.mappings()?;
    let mapping = mappings.get(provider).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown provider `{provider}` (known: {})",
            mappings.providers().join(", ")
        )
    })?;
    let body = std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    // Offline: nothing is delivered, so the request goes through an open source.
    let verified = Unverified {
        headers: super::args::parse_headers(headers)?,
        body: body.into(),
        peer: None,
        path_token: None,
        query: None,
    }
    .verify(&SourceAuth::open())
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let source = SourceId::parse(provider).map_err(|e| anyhow::anyhow!(e))?;
    let engine = Engine::new(EventValidator::new()?);
    let policy = policy_for(&loaded.compile_sources(&mappings)?, provider);
    match engine.process(&source, mapping, &verified, Utc::now(), &policy) {
        Err(refused) => {
            eprintln!("refused: {}", refused.reason());
            Ok(ExitCode::FAILURE)
        }
        Ok(Decision::Deliver(event)) => {
            println!("{}", term::json(&serde_json::to_string_pretty(&event)?));
            Ok(ExitCode::SUCCESS)
        }
        Ok(Decision::Batch(items)) => {
            // One line of JSON per item: the event, or what became of it.
            let mut failed = false;
            for (i, item) in items.into_iter().enumerate() {
                let line = match item {
                    Decision::Deliver(event) => serde_json::to_value(&*event)?,
                    Decision::DeadLetter(d) => {
                        failed = true;
                        serde_json::json!({"item": i, "dead_letter": d.reason, "detail": d.detail})
                    }
                    Decision::Ignore { provider_type } => {
                        serde_json::json!({"item": i, "ignored": provider_type})
                    }
                    Decision::Respond(_) | Decision::Batch(_) => serde_json::json!({"item": i}),
                };
                println!("{}", term::json(&line.to_string()));
            }
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Ok(Decision::Respond(v)) => {
            println!(
                "handshake, answered directly: {}",
                term::json(&v.to_string())
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok(Decision::Ignore { provider_type }) => {
            println!(
                "ignored: provider event `{}` is declared ignorable",
                Field(&provider_type)
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok(Decision::DeadLetter(d)) => {
            eprintln!("dead letter: {}: {}", d.reason.as_str(), Field(&d.detail));
            Ok(ExitCode::FAILURE)
        }
    }
}
