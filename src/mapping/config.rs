//! `[mappings]`: where mapping files beyond the shipped ones are read.

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingsConfig {
    /// Extra folders of `*.toml` mapping files (relative to the config file).
    #[serde(default)]
    pub dirs: Vec<PathBuf>,
}
