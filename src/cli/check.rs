//! `hookgate check` and `hookgate map`: the integrator's offline tools.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::Utc;

use crate::engine::{Engine, Processed};
use crate::event::{EventValidator, SourceId};
use crate::fixture;
use crate::verify::{SourceAuth, Unverified};

pub fn check(config: Option<PathBuf>, fixtures: &Path, bless: bool) -> anyhow::Result<ExitCode> {
    let loaded = super::load(config)?;
    let mappings = loaded.mappings()?;
    let sources = loaded.sources(&mappings)?;
    println!(
        "config: {} ({} source(s)); mappings: {}",
        loaded.file,
        sources.len(),
        mappings.providers().join(", ")
    );
    let engine = Engine::new(EventValidator::new()?);
    let (mut passed, mut failed) = (0usize, 0usize);
    for provider in mappings.providers() {
        let Some(mapping) = mappings.get(provider) else {
            continue;
        };
        let cases = match fixture::load_cases(fixtures, provider) {
            Ok(c) => c,
            Err(e) => {
                println!("FAIL {provider}: {e}");
                failed += 1;
                continue;
            }
        };
        if cases.is_empty() {
            println!(
                "warn {provider}: no fixture cases under {}/{provider}",
                fixtures.display()
            );
        }
        for case in &cases {
            let result = if bless {
                fixture::bless(&engine, mapping, case)
            } else {
                fixture::run(&engine, mapping, case)
            };
            match result {
                Ok(()) => {
                    passed += 1;
                    println!("ok   {provider}/{}", case.name);
                }
                Err(e) => {
                    failed += 1;
                    println!("FAIL {provider}/{}: {e}", case.name);
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
    let loaded = super::load(config)?;
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
        headers: super::parse_headers(headers)?,
        body: body.into(),
        peer: None,
        path_token: None,
    }
    .verify(&SourceAuth::default())
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let source = SourceId::parse(provider).map_err(|e| anyhow::anyhow!(e))?;
    let engine = Engine::new(EventValidator::new()?);
    match engine.process(&source, mapping, &verified, Utc::now()) {
        Processed::Event { event, .. } => {
            println!("{}", serde_json::to_string_pretty(&event)?);
            Ok(ExitCode::SUCCESS)
        }
        Processed::Respond(v) => {
            println!("handshake, answered directly: {v}");
            Ok(ExitCode::SUCCESS)
        }
        Processed::Ignored { provider_type } => {
            println!("ignored: provider event `{provider_type}` is declared ignorable");
            Ok(ExitCode::SUCCESS)
        }
        Processed::DeadLetter(d) => {
            eprintln!("dead letter: {}: {}", d.reason.as_str(), d.detail);
            Ok(ExitCode::FAILURE)
        }
    }
}
