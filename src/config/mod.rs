//! Configuration: TOML with `${VAR}` interpolation and unknown keys rejected, each
//! section handed to the component that owns it; values from the environment
//! scrubbed from every error; which sections a reload may change. The composition
//! root: `assemble` builds the gateway the file describes.

mod assemble;
mod interpolate;
mod model;

use std::path::{Path, PathBuf};

pub use assemble::Reload;
pub use interpolate::expand;
pub use model::Config;

use crate::mapping::MappingSet;

/// Credentials published with hookgate: the quick start's `${VAR:-default}`
/// defaults, the fixtures' signing key and the benchmark configuration's keys.
/// `serve` warns loudly when a source uses one (a test keeps the list complete).
pub const PUBLIC_SECRETS: &[&str] = &[
    "demo-sahut-secret",
    "demo-oneroute-secret",
    "demo-magalu-token-0123456789",
    "demo-aisoule-secret",
    "demo-savanto-secret",
    crate::fixture::FIXTURE_SECRET,
    "bench-sahut-secret",
    "bench-oneroute-secret",
    "bench-magalu-token-0123456789",
    "bench-aisoule-secret",
    "bench-savanto-secret",
    "demo-dead-letter-key-0123456789",
];

/// A configuration that cannot be used. Messages name the file, the key and the
/// reason, and never a secret's value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read: {detail}")]
    Read { file: String, detail: String },
    #[error("{file}: {detail}")]
    Invalid { file: String, detail: String },
    #[error("{file}: mapping files:\n  {}", .errors.join("\n  "))]
    Mappings { file: String, errors: Vec<String> },
    #[error("{file}: output: {detail}")]
    Output { file: String, detail: String },
}

/// A parsed configuration and where it came from (relative paths resolve there).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub file: String,
    pub base_dir: PathBuf,
}

/// Reads and parses a configuration file, interpolating `${VAR}` from the process
/// environment.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        file: file.clone(),
        detail: e.to_string(),
    })?;
    let config = parse(&text, &file, &|k| std::env::var(k).ok())?;
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(Loaded {
        config,
        file,
        base_dir,
    })
}

/// Parses configuration text with an explicit environment (for tests).
pub fn parse(
    text: &str,
    file: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    // Values taken from the environment may be secrets: whatever error a value
    // causes (a secret put in a duration field, say), its text never shows them.
    let from_env = std::cell::RefCell::new(Vec::<String>::new());
    let recording = |k: &str| {
        let v = env(k);
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            from_env.borrow_mut().push(v.clone());
        }
        v
    };
    let invalid = |detail: String| ConfigError::Invalid {
        file: file.to_owned(),
        detail: scrub(detail, &from_env.borrow()),
    };
    let mut tree: toml::Value = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let mut errors = Vec::new();
    interpolate::expand_tree(&mut tree, &mut Vec::new(), &recording, &mut errors);
    if !errors.is_empty() {
        return Err(invalid(errors.join("; ")));
    }
    let mut config = serde_path_to_error::deserialize::<_, Config>(tree).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path == "." || path.is_empty() {
            invalid(inner)
        } else {
            invalid(format!("{path}: {inner}"))
        }
    })?;
    config.validate().map_err(invalid)?;
    config.env_values = from_env.take();
    Ok(config)
}

/// Replaces every occurrence of the given values with `[redacted]`.
fn scrub(mut text: String, values: &[String]) -> String {
    for v in values {
        if text.contains(v.as_str()) {
            text = text.replace(v.as_str(), "[redacted]");
        }
    }
    text
}

impl Loaded {
    /// A configuration from text, as if read from `file` in `base_dir`, with an
    /// explicit environment (tests, tools).
    pub fn from_text(
        text: &str,
        file: &str,
        base_dir: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            config: parse(text, file, env)?,
            file: file.to_owned(),
            base_dir: base_dir.to_owned(),
        })
    }

    /// The configuration used when none is given: no sources, shipped mappings.
    pub fn empty() -> Self {
        Self {
            config: Config::default(),
            file: "(default configuration)".to_owned(),
            base_dir: PathBuf::new(),
        }
    }

    fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_owned()
        } else {
            self.base_dir.join(p)
        }
    }

    pub fn mapping_dirs(&self) -> Vec<PathBuf> {
        self.config
            .mappings
            .dirs
            .iter()
            .map(|d| self.resolve(d))
            .collect()
    }

    /// Loads and compiles every mapping file.
    pub fn mappings(&self) -> Result<MappingSet, ConfigError> {
        self.load_mappings(None)
    }

    /// The mappings the configured sources use (plus every file in the mapping
    /// folders): what the gateway compiles.
    pub fn source_mappings(&self) -> Result<MappingSet, ConfigError> {
        let wanted: std::collections::HashSet<&str> = self
            .config
            .sources
            .iter()
            .map(|s| s.provider.as_str())
            .collect();
        self.load_mappings(Some(&wanted))
    }

    fn load_mappings(
        &self,
        wanted: Option<&std::collections::HashSet<&str>>,
    ) -> Result<MappingSet, ConfigError> {
        MappingSet::load_for(&self.mapping_dirs(), wanted).map_err(|errs| ConfigError::Mappings {
            file: self.file.clone(),
            errors: errs.iter().map(ToString::to_string).collect(),
        })
    }

    /// An error about this configuration, scrubbed of every value that came from
    /// the environment.
    pub fn error(&self, detail: String) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.clone(),
            detail: scrub(detail, &self.config.env_values),
        }
    }

    /// An error from building the output, scrubbed likewise.
    pub fn output_error(&self, detail: String) -> ConfigError {
        ConfigError::Output {
            file: self.file.clone(),
            detail: scrub(detail, &self.config.env_values),
        }
    }

    /// Keeps the sections that cannot change under traffic (`[server]`, `[output]`,
    /// `[dedup]`: a new listener, producer or dedup store mid-flight could lose or
    /// repeat events) as they are in `running`, and names those that differed.
    pub fn keep_restart_only_sections(&mut self, running: &Loaded) -> Vec<&'static str> {
        let mut changed = Vec::new();
        let (new, old) = (&mut self.config, &running.config);
        if new.server != old.server {
            changed.push("server");
            new.server = old.server.clone();
        }
        if new.output != old.output {
            changed.push("output");
            new.output = old.output.clone();
        }
        if new.dedup != old.dedup {
            changed.push("dedup");
            new.dedup = old.dedup.clone();
        }
        if new.admin != old.admin {
            changed.push("admin");
            new.admin = old.admin.clone();
        }
        changed
    }

    /// Warnings for every configured credential that equals a value published with
    /// hookgate (the quick start's defaults, the fixtures' and the benchmark's keys):
    /// anyone who read the repository can sign with those.
    pub fn public_secret_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, s) in self.config.sources.iter().enumerate() {
            let mut values: Vec<(String, &str)> = s
                .secrets
                .iter()
                .enumerate()
                .map(|(n, v)| (format!("secrets[{n}]"), v.as_str()))
                .collect();
            values.extend(s.token.as_deref().map(|t| ("token".to_owned(), t)));
            values.extend(
                s.basic_auth
                    .as_ref()
                    .map(|b| ("basic_auth.password".to_owned(), b.password.as_str())),
            );
            values.extend(
                s.verify_token
                    .as_deref()
                    .map(|t| ("verify_token".to_owned(), t)),
            );
            for (key, value) in values {
                if PUBLIC_SECRETS.contains(&value) {
                    out.push(format!(
                        "source[{i}] (id `{}`): {key} is a value published in hookgate's \
                         examples or fixtures: anyone can sign requests with it; set your own",
                        s.id
                    ));
                }
            }
        }
        for (n, key) in self.config.dead_letters.keys.iter().enumerate() {
            if PUBLIC_SECRETS.contains(&key.as_str()) {
                out.push(format!(
                    "dead_letters.keys[{n}] is a value published in hookgate's examples: \
                     anyone can seal records `hookgate replay` trusts with it; set your own"
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key long enough for every scheme.
    const KEY: &str = "0123456789abcdef";

    fn env(k: &str) -> Option<String> {
        (k == "S").then(|| "secret-value".to_owned())
    }

    fn loaded(text: &str) -> Result<Loaded, ConfigError> {
        Loaded::from_text(text, "test.toml", Path::new(""), &env)
    }

    fn parse_err(text: &str) -> String {
        loaded(text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_path() {
        let e = parse_err("[server]\nlisten = \"127.0.0.1:1\"\ncolour = 1\n");
        assert!(e.contains("test.toml") && e.contains("colour"), "{e}");
        let e = parse_err("[[source]]\nid = \"a\"\nprovider = \"sahut\"\nsecret = \"x\"\n");
        assert!(e.contains("source[0]") && e.contains("secret"), "{e}");
        let e = parse_err("[output]\nkind = \"file\"\npaht = \"x\"\n");
        assert!(e.contains("paht"), "{e}");
    }

    #[test]
    fn missing_variable_is_named() {
        let e = parse_err(
            "[[source]]\nid = \"a\"\nprovider = \"sahut\"\nsecrets = [\"${MISSING_VAR}\"]\n",
        );
        assert!(
            e.contains("source[0].secrets[0]") && e.contains("MISSING_VAR"),
            "{e}"
        );
    }

    #[test]
    fn every_published_credential_is_known_and_warned_about() {
        for (file, text) in [
            (
                "quickstart.toml",
                include_str!("../../examples/quickstart.toml"),
            ),
            ("gateway.toml", include_str!("../../benches/gateway.toml")),
        ] {
            let config = parse(text, file, &|_| None).unwrap_or_else(|e| panic!("{e}"));
            let published: Vec<String> = config
                .sources
                .iter()
                .flat_map(|s| s.secrets.iter().chain(&s.token).filter(|v| !v.is_empty()))
                .chain(config.dead_letters.keys.iter().filter(|v| !v.is_empty()))
                .cloned()
                .collect();
            assert!(!published.is_empty(), "{file}");
            for v in &published {
                assert!(
                    PUBLIC_SECRETS.contains(&v.as_str()),
                    "{file}: {v} is not listed"
                );
            }
            let l = Loaded {
                config,
                file: file.into(),
                base_dir: PathBuf::new(),
            };
            let warnings = l.public_secret_warnings();
            assert_eq!(warnings.len(), published.len(), "{file}: {warnings:?}");
            assert!(warnings[0].contains("published"), "{}", warnings[0]);
        }
        let own = loaded(&format!(
            "[[source]]\nid = \"s\"\nprovider = \"sahut\"\nsecrets = [\"{KEY}\"]\n"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(own.public_secret_warnings().is_empty());
    }

    /// Found by the security review: a huge `read_timeout` panicked every connection
    /// task ("overflow when adding duration to instant").
    #[test]
    fn durations_are_bounded_and_errors_name_the_key() {
        for (text, key) in [
            ("[server]\nread_timeout = \"100000000y\"\n", "server.read_timeout"),
            ("[server]\nread_timeout = \"0s\"\n", "server.read_timeout"),
            ("[server]\nshutdown_timeout = \"2h\"\n", "server.shutdown_timeout"),
            ("[dedup]\nin_flight_wait = \"500000y\"\n", "dedup.in_flight_wait"),
            ("[dedup]\nttl = \"400d\"\n", "dedup.ttl"),
            ("[dedup]\npending_ttl = \"9999999999s\"\n", "dedup.pending_ttl"),
            ("[dedup]\ntimeout = \"2m\"\n", "dedup.timeout"),
            (
                "[output]\nkind = \"kafka\"\nbrokers = \"b:9092\"\nack_timeout = \"1y\"\n",
                "output.ack_timeout",
            ),
            (
                "[[source]]\nid = \"s\"\nprovider = \"sahut\"\nsecrets = [\"0123456789abcdef\"]\nmax_event_age = \"100y\"\n",
                "source[0].max_event_age",
            ),
        ] {
            let e = loaded(text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains(key) && e.contains("outside the accepted range"), "{text}: {e}");
        }
        assert!(loaded("[server]\nread_timeout = \"1h\"\n[dedup]\nttl = \"366d\"\n").is_ok());
    }

    #[test]
    fn durations_and_output_kinds() -> Result<(), ConfigError> {
        let l = loaded("[dedup]\nttl = \"2h\"\n[output]\nkind = \"stdout\"\n")?;
        assert_eq!(l.config.dedup.ttl, std::time::Duration::from_secs(7200));
        assert!(matches!(
            l.config.output,
            crate::output::OutputConfig::Stdout {}
        ));
        let e = parse_err("[dedup]\nttl = \"soon\"\n");
        assert!(e.contains("dedup.ttl") && e.contains("soon"), "{e}");
        let redis_err = |t: &str| match loaded(t) {
            Err(e) => Some(e.to_string()),
            Ok(l) => l.config.dedup.build().err().map(|e| e.to_string()),
        };
        assert!(
            redis_err("[dedup]\nstore = \"redis\"\n").is_some_and(|e| e.contains("needs `url`"))
        );
        assert!(
            redis_err("[dedup]\nurl = \"redis://x\"\n").is_some_and(|e| e.contains("only used"))
        );
        assert_eq!(redis_err("[dedup]\nstore = \"redis\"\nurl = \"redis://127.0.0.1:1\"\non_unavailable = \"closed\"\n"), None);
        let e = parse_err(
            "[dedup]\nstore = \"redis\"\nurl = \"redis://x\"\non_unavailable = \"maybe\"\n",
        );
        assert!(
            e.contains("dedup.on_unavailable") && e.contains("maybe"),
            "{e}"
        );
        let e = parse_err("[output]\nkind = \"carrier-pigeon\"\n");
        assert!(e.contains("output") && e.contains("carrier-pigeon"), "{e}");
        let l = loaded(
            "[output]\nkind = \"kafka\"\nbrokers = \"b:9092\"\nmode = \"binary\"\n[output.librdkafka]\n\"linger.ms\" = 2\n\"compression.type\" = \"lz4\"\n",
        )?;
        let crate::output::OutputConfig::Kafka(k) = &l.config.output else {
            panic!("kafka output expected")
        };
        assert_eq!(
            (k.topic.as_str(), k.dead_letter_topic.as_str()),
            ("webhooks.events", "webhooks.dead-letter")
        );
        assert_eq!(k.librdkafka["linger.ms"].to_string(), "2");
        assert_eq!(k.ack_timeout, std::time::Duration::from_secs(3));
        let e = parse_err("[output]\nkind = \"kafka\"\nbrokers = \"b\"\ntopics = \"x\"\n");
        assert!(e.contains("output") && e.contains("topics"), "{e}");
        let e = parse_err(
            "[output]\nkind = \"kafka\"\nbrokers = \"b\"\n[output.librdkafka]\nacks = 1\n",
        );
        assert!(e.contains("librdkafka.\"acks\""), "{e}");
        Ok(())
    }
}
