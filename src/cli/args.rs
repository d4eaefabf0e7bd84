//! What several commands read from their arguments the same way: the
//! configuration file (or the default one) and `-H 'Name: value'` headers.

use std::path::PathBuf;

/// The configuration `--config` names, or the default one (no sources).
pub(super) fn load(config: Option<PathBuf>) -> anyhow::Result<crate::config::Loaded> {
    Ok(match config {
        Some(p) => crate::config::load(&p)?,
        None => crate::config::Loaded::empty(),
    })
}

/// Parses 'Name: value' header arguments.
pub(super) fn parse_headers(args: &[String]) -> anyhow::Result<http::HeaderMap> {
    let mut h = http::HeaderMap::new();
    for a in args {
        let (k, v) = a
            .split_once(':')
            .ok_or_else(|| anyhow::anyhow!("header `{a}` is not 'Name: value'"))?;
        h.append(
            http::HeaderName::try_from(k.trim())?,
            http::HeaderValue::from_str(v.trim())?,
        );
    }
    Ok(h)
}
