//! The load generator behind `hookgate bench`: unique signed deliveries sent at a
//! fixed concurrency or a fixed rate, with latency percentiles and status counts.

mod cpu;
mod deliveries;
mod run;
mod slots;

pub use deliveries::{Delivery, DeliverySet, Skipped, Target};
pub use run::{run, Load, Report};

/// Unique signed deliveries for the configured sources (all, or the `only` ones),
/// made from their providers' fixture cases under `fixtures`: what `hookgate bench`
/// sends, and what the tests that need many distinct events send.
pub fn deliveries(
    loaded: &crate::config::Loaded,
    only: &[String],
    fixtures: &std::path::Path,
) -> anyhow::Result<(DeliverySet, Skipped)> {
    let mappings = loaded.mappings()?;
    let sources = loaded.compile_sources(&mappings)?;
    let mut targets = Vec::new();
    let mut cases = Vec::new();
    for (src, conf) in sources.iter().zip(&loaded.config.sources) {
        if !only.is_empty() && !only.contains(&conf.id) {
            continue;
        }
        // The generator signs as the provider would: with a shared secret, or,
        // for a public-key or published-key scheme, with the fixtures' private
        // key when the source trusts its public key or its audience (no other
        // private key is known here; a published-key source's key server must
        // serve the fixtures' key, `fixtures/keys/`).
        let fixture_signing = |scheme: &crate::verify::Scheme| {
            Some((scheme.clone(), crate::fixture::fixture_private_key(scheme)?))
        };
        let mut audience = None;
        let signing = src
            .auth
            .signatures
            .iter()
            .find_map(|(scheme, keys)| match keys {
                crate::verify::Keys::Secrets(secrets) => {
                    Some((scheme.clone(), secrets.first()?.clone()))
                }
                crate::verify::Keys::Public(keys) => {
                    let fixture = scheme
                        .prepare_public_key(crate::fixture::fixture_public_key(scheme)?)
                        .ok()?;
                    keys.contains(&fixture).then(|| fixture_signing(scheme))?
                }
                crate::verify::Keys::Published(p) => {
                    audience = Some(p.audience().first()?.clone());
                    fixture_signing(scheme)
                }
            });
        targets.push(Target {
            source: conf.id.clone(),
            mapping: src.mapping.clone(),
            signing,
            audience,
            token: conf.token.clone(),
            public_url: src.auth.public_url.clone(),
            basic: conf
                .basic_auth
                .as_ref()
                .map(|b| (b.username.clone(), b.password.clone())),
        });
        let provider = src.mapping.provider().to_owned();
        if !cases.iter().any(|(p, _)| p == &provider) {
            // A broken fixture is an error, not a quietly smaller (and different) mix.
            let c = crate::fixture::load_cases(fixtures, &provider)
                .map_err(|e| anyhow::anyhow!("fixtures of `{provider}`: {e}"))?;
            cases.push((provider, c));
        }
    }
    for wanted in only {
        anyhow::ensure!(
            targets.iter().any(|t| &t.source == wanted),
            "no source `{wanted}` in {}",
            loaded.file
        );
    }
    Ok(DeliverySet::build(&targets, &cases))
}
