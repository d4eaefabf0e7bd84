//! Building the gateway a loaded configuration describes: each component builds
//! itself from its own section; this module only puts them together, and on
//! SIGHUP rebuilds what may change under traffic.

use std::collections::HashSet;
use std::sync::Arc;

use super::Gateway;
use crate::config::{ConfigError, Loaded};
use crate::engine::Engine;
use crate::event::{EventValidator, Sealer};
use crate::mapping::MappingSet;
use crate::source::Source;

/// Compiles every configured source against the mappings. Errors name the source
/// and are scrubbed of values taken from the environment.
pub fn compile_sources(loaded: &Loaded, mappings: &MappingSet) -> Result<Vec<Source>, ConfigError> {
    let mut seen = HashSet::new();
    loaded
        .config
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if !seen.insert(s.id.as_str()) {
                return Err(
                    loaded.error(format!("source[{i}] (id `{}`): duplicate source id", s.id))
                );
            }
            s.compile(i, mappings).map_err(|e| loaded.error(e))
        })
        .collect()
}

fn engine(loaded: &Loaded) -> Result<Engine, ConfigError> {
    let validator = EventValidator::new().map_err(|e| loaded.error(e.to_string()))?;
    Ok(Engine::new(validator))
}

fn sealer(loaded: &Loaded) -> Result<Sealer, ConfigError> {
    loaded
        .config
        .dead_letters
        .build()
        .map_err(|e| loaded.error(e))
}

impl Gateway {
    /// Builds the whole gateway: mappings, sources, the dedup store and the output.
    pub fn build(loaded: &Loaded) -> Result<Arc<Self>, ConfigError> {
        let mappings = loaded.source_mappings()?;
        let sources = compile_sources(loaded, &mappings)?;
        let dedup_config = &loaded.config.dedup;
        let dedup = dedup_config
            .build()
            .map_err(|e| loaded.error(e.to_string()))?;
        let output = loaded
            .config
            .output
            .build(&loaded.base_dir)
            .map_err(|e| loaded.output_error(e))?;
        Ok(Arc::new(
            Self::new(
                sources,
                engine(loaded)?,
                dedup,
                dedup_config.policy(),
                output,
            )
            .with_sealer(sealer(loaded)?),
        ))
    }

    /// Builds the gateway `next` describes on top of this one (SIGHUP). Sources,
    /// their secrets and the mapping files are replaced; the listener, the output
    /// and the dedup store stay as they are, because changing them under traffic
    /// could lose or duplicate events: those sections are kept from `running` and
    /// reported in [`Reload::needs_restart`].
    pub fn reload(&self, mut next: Loaded, running: &Loaded) -> Result<Reload, ConfigError> {
        let mappings = next.source_mappings()?;
        let sources = compile_sources(&next, &mappings)?;
        let engine = engine(&next)?;
        let needs_restart = next.keep_restart_only_sections(running);
        Ok(Reload {
            gateway: Arc::new(
                self.reconfigured(sources, engine)
                    .with_sealer(sealer(&next)?),
            ),
            loaded: next,
            needs_restart,
        })
    }
}

/// What [`Gateway::reload`] built.
#[derive(Debug)]
pub struct Reload {
    /// The configuration now in effect (restart-only sections as they were).
    pub loaded: Loaded,
    pub gateway: Arc<Gateway>,
    /// Sections that changed in the file but apply only after a restart.
    pub needs_restart: Vec<&'static str>,
}
