//! `[output]`: where events and dead letters go. Each kind builds itself.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use super::kafka::KafkaOutputConfig;
use super::{FileOutput, NullOutput, Output};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum OutputConfig {
    File {
        #[serde(default = "default_events_path")]
        path: PathBuf,
        #[serde(default = "default_dead_letter_path")]
        dead_letter_path: PathBuf,
        /// fsync each batch before acknowledging (default true).
        #[serde(default = "yes")]
        fsync: bool,
    },
    Stdout {},
    Kafka(Box<KafkaOutputConfig>),
    /// Encodes and discards every record: for benchmarks only.
    Null {},
}

impl Default for OutputConfig {
    fn default() -> Self {
        Self::File {
            path: default_events_path(),
            dead_letter_path: default_dead_letter_path(),
            fsync: true,
        }
    }
}

impl OutputConfig {
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::Kafka(k) => k.validate(),
            Self::File {
                path,
                dead_letter_path,
                ..
            } if path == dead_letter_path => {
                Err("path and dead_letter_path must differ".to_owned())
            }
            _ => Ok(()),
        }
    }

    /// Opens the output; relative paths resolve against `base_dir` (the config
    /// file's folder). A Kafka output starts while the broker is down.
    pub fn build(&self, base_dir: &Path) -> Result<Arc<dyn Output>, String> {
        self.validate()?;
        let resolve = |p: &Path| {
            if p.is_absolute() {
                p.to_owned()
            } else {
                base_dir.join(p)
            }
        };
        Ok(match self {
            Self::File {
                path,
                dead_letter_path,
                fsync,
            } => {
                let (p, d) = (resolve(path), resolve(dead_letter_path));
                if p == d {
                    return Err("path and dead_letter_path must differ".to_owned());
                }
                Arc::new(FileOutput::files(&p, &d, *fsync).map_err(|e| e.to_string())?)
            }
            Self::Stdout {} => Arc::new(FileOutput::stdout()),
            Self::Null {} => {
                tracing::warn!(
                    "output kind = \"null\": events are encoded and dropped (benchmarks only)"
                );
                Arc::new(NullOutput)
            }
            #[cfg(feature = "kafka")]
            Self::Kafka(k) => {
                let k = &k.resolved(base_dir);
                match &k.spool {
                    Some(spool) => Arc::new(super::kafka::SpooledKafka::open(k, spool, base_dir)?),
                    None => Arc::new(super::kafka::KafkaOutput::new(k).map_err(|e| e.to_string())?),
                }
            }
            #[cfg(not(feature = "kafka"))]
            Self::Kafka(_) => {
                return Err("this hookgate was built without the `kafka` feature".to_owned())
            }
        })
    }
}

fn default_events_path() -> PathBuf {
    PathBuf::from("events.ndjson")
}
fn default_dead_letter_path() -> PathBuf {
    PathBuf::from("dead-letters.ndjson")
}
fn yes() -> bool {
    true
}
