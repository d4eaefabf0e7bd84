//! The composition root: building the gateway a loaded configuration describes.
//! Each component builds itself from its own section; only this module, which
//! knows the whole file, puts them together, and on SIGHUP rebuilds what may
//! change under traffic.

use std::collections::HashSet;
use std::sync::Arc;

use super::{ConfigError, Loaded};
use crate::engine::Engine;
use crate::event::{EventValidator, Sealer};
use crate::gateway::Gateway;
use crate::mapping::MappingSet;
use crate::source::Source;

impl Loaded {
    /// Compiles every configured source against the mappings. Errors name the
    /// source and are scrubbed of values taken from the environment.
    pub fn compile_sources(&self, mappings: &MappingSet) -> Result<Vec<Source>, ConfigError> {
        let mut seen = HashSet::new();
        self.config
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| {
                if !seen.insert(s.id.as_str()) {
                    return Err(
                        self.error(format!("source[{i}] (id `{}`): duplicate source id", s.id))
                    );
                }
                s.compile(i, mappings).map_err(|e| self.error(e))
            })
            .collect()
    }

    /// Builds the whole gateway: mappings, sources, the dedup store and the output.
    pub fn build_gateway(&self) -> Result<Arc<Gateway>, ConfigError> {
        let mappings = self.source_mappings()?;
        let sources = self.compile_sources(&mappings)?;
        let dedup_config = &self.config.dedup;
        let dedup = dedup_config
            .build()
            .map_err(|e| self.error(e.to_string()))?;
        let output = self
            .config
            .output
            .build(&self.base_dir)
            .map_err(|e| self.output_error(e))?;
        Ok(Arc::new(
            Gateway::new(
                sources,
                self.engine()?,
                dedup,
                dedup_config.policy(),
                output,
            )
            .with_sealer(self.sealer()?),
        ))
    }

    /// Builds the gateway this configuration describes on top of `current`, the
    /// one `running` built (SIGHUP). Sources, their secrets and the mapping files
    /// are replaced; the listener, the output and the dedup store stay as they
    /// are, because changing them under traffic could lose or duplicate events:
    /// those sections are kept from `running` and reported in
    /// [`Reload::needs_restart`].
    pub fn rebuild_gateway(
        mut self,
        current: &Gateway,
        running: &Loaded,
    ) -> Result<Reload, ConfigError> {
        let mappings = self.source_mappings()?;
        let sources = self.compile_sources(&mappings)?;
        let engine = self.engine()?;
        let needs_restart = self.keep_restart_only_sections(running);
        Ok(Reload {
            gateway: Arc::new(
                current
                    .reconfigured(sources, engine)
                    .with_sealer(self.sealer()?),
            ),
            loaded: self,
            needs_restart,
        })
    }

    fn engine(&self) -> Result<Engine, ConfigError> {
        let validator = EventValidator::new().map_err(|e| self.error(e.to_string()))?;
        Ok(Engine::new(validator))
    }

    fn sealer(&self) -> Result<Sealer, ConfigError> {
        self.config.dead_letters.build().map_err(|e| self.error(e))
    }
}

/// What [`Loaded::rebuild_gateway`] built.
#[derive(Debug)]
pub struct Reload {
    /// The configuration now in effect (restart-only sections as they were).
    pub loaded: Loaded,
    pub gateway: Arc<Gateway>,
    /// Sections that changed in the file but apply only after a restart.
    pub needs_restart: Vec<&'static str>,
}
