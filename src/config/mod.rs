//! Configuration: TOML with `${VAR}` interpolation and unknown keys rejected,
//! validated and compiled into a ready-to-serve [`Gateway`].

mod interpolate;
mod model;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use interpolate::expand;
pub use model::*;

use crate::dedup::redis::{RedisSettings, RedisStore};
use crate::dedup::{DedupStore, MemoryStore};
use crate::engine::Engine;
use crate::event::{EventValidator, SourceId};
use crate::gateway::{Gateway, RateLimit, Source, SourceLimits};
use crate::mapping::MappingSet;
#[cfg(feature = "kafka")]
use crate::output::kafka::{KafkaOutput, KafkaSettings};
use crate::output::{FileOutput, NullOutput, Output};
use crate::verify::{BasicAuth, IpAllowList, Secret, SourceAuth, MIN_SECRET_BYTES};

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
    config.check_bounds().map_err(invalid)?;
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

    /// A validation error, scrubbed of every value that came from the environment.
    fn invalid(&self, detail: String) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.clone(),
            detail: scrub(detail, &self.config.env_values),
        }
    }

    /// Checks every source against its mapping and compiles the checks it requires.
    pub fn sources(&self, mappings: &MappingSet) -> Result<Vec<Source>, ConfigError> {
        let invalid = |detail: String| self.invalid(detail);
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::with_capacity(self.config.sources.len());
        for (i, s) in self.config.sources.iter().enumerate() {
            let at = format!("source[{i}] (id `{}`)", s.id);
            let id = SourceId::parse(&s.id).map_err(|e| invalid(format!("{at}: {e}")))?;
            if !seen.insert(s.id.clone()) {
                return Err(invalid(format!("{at}: duplicate source id")));
            }
            let mapping = mappings.get(&s.provider).ok_or_else(|| {
                invalid(format!(
                    "{at}: unknown provider `{}` (known: {})",
                    s.provider,
                    mappings.providers().join(", ")
                ))
            })?;
            if mapping.scheme().is_none() && s.secrets.iter().any(|x| !x.trim().is_empty()) {
                return Err(invalid(format!(
                    "{at}: provider `{}` does not sign its deliveries, so `secrets` cannot be checked; \
                     use token, basic_auth or allow_ips",
                    s.provider
                )));
            }
            // An empty slot (`"${PREVIOUS:-}"` unset) is skipped before decoding; a
            // value that decodes to a short or empty key is refused, never used: an
            // empty HMAC key is one anybody can sign with.
            let secrets: Vec<Secret> = s
                .secrets
                .iter()
                .enumerate()
                .filter(|(_, x)| !x.trim().is_empty())
                .map(|(n, x)| {
                    let key = match mapping.scheme() {
                        Some(scheme) => scheme
                            .prepare_secret(x)
                            .map_err(|e| invalid(format!("{at}: secrets[{n}]: {e}")))?,
                        None => Secret::new(x.as_bytes()), // refused above
                    };
                    if key.len() < MIN_SECRET_BYTES {
                        return Err(invalid(format!(
                            "{at}: secrets[{n}] is {} bytes after decoding; keys must be at least \
                             {MIN_SECRET_BYTES} bytes (is a variable inside it unset?)",
                            key.len()
                        )));
                    }
                    Ok(key)
                })
                .collect::<Result<_, _>>()?;
            if !s.secrets.is_empty() && secrets.is_empty() {
                return Err(invalid(format!(
                    "{at}: every entry of `secrets` is empty (is the environment variable set?)"
                )));
            }
            let signature = match mapping.scheme() {
                Some(scheme) if !secrets.is_empty() => Some((scheme.clone(), secrets)),
                _ => None,
            };
            let token = match &s.token {
                Some(t) if t.len() < 16 => {
                    return Err(invalid(format!(
                        "{at}: token must be at least 16 characters (URL tokens are guessable otherwise)"
                    )))
                }
                Some(t) if !t.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b)) => {
                    return Err(invalid(format!(
                        "{at}: token must be URL-safe (A-Z, a-z, 0-9, `-_.~`)"
                    )))
                }
                Some(t) => Some(Secret::new(t.as_bytes())),
                None => None,
            };
            let basic = match &s.basic_auth {
                Some(b) if b.password.is_empty() => {
                    return Err(invalid(format!("{at}: basic_auth.password is empty")))
                }
                Some(b) => Some(BasicAuth {
                    username: b.username.clone(),
                    password: Secret::new(b.password.as_bytes()),
                }),
                None => None,
            };
            let allow = (!s.allow_ips.is_empty()).then(|| IpAllowList::new(s.allow_ips.clone()));
            let auth = SourceAuth {
                signature,
                token,
                basic,
                allow,
            };
            if auth.is_open() && !s.allow_unauthenticated {
                let why = if mapping.scheme().is_some() {
                    format!(
                        "provider `{}` signs its deliveries: set `secrets`",
                        s.provider
                    )
                } else {
                    format!("provider `{}` does not sign its deliveries", s.provider)
                };
                return Err(invalid(format!(
                    "{at}: no authentication configured ({why}; or token, basic_auth, allow_ips; \
                     or allow_unauthenticated = true to accept anyone's requests)"
                )));
            }
            if !auth.is_open() && s.allow_unauthenticated {
                return Err(invalid(format!(
                    "{at}: allow_unauthenticated = true contradicts the checks configured for this source"
                )));
            }
            let verify_token = match &s.verify_token {
                Some(_) if !mapping.handshake().meta_subscribe => {
                    return Err(invalid(format!(
                        "{at}: verify_token is set but provider `{}` declares no subscription handshake",
                        s.provider
                    )))
                }
                Some(t) if t.is_empty() => return Err(invalid(format!("{at}: verify_token is empty"))),
                Some(t) => Some(Secret::new(t.as_bytes())),
                None => None,
            };
            // Only a signature stands between a stranger and the body.
            let signature_only = auth.signature.is_some() && !auth.checks_before_body();
            out.push(Source {
                id,
                mapping: mapping.clone(),
                auth,
                verify_token,
                max_event_age: s.max_event_age,
                tenant: s.tenant.clone(),
                rate_limit: s.rate_limit.map(|r| {
                    let (rate, burst) = r.authenticated();
                    let (pre_rate, pre_burst) = r.unverified();
                    SourceLimits {
                        authenticated: RateLimit::new(rate, burst),
                        unverified: signature_only.then(|| RateLimit::new(pre_rate, pre_burst)),
                    }
                }),
            });
        }
        Ok(out)
    }

    /// Opens the configured output.
    pub fn output(&self) -> Result<Arc<dyn Output>, ConfigError> {
        let err = |detail: String| ConfigError::Output {
            file: self.file.clone(),
            detail: scrub(detail, &self.config.env_values),
        };
        Ok(match &self.config.output {
            OutputConfig::File {
                path,
                dead_letter_path,
                fsync,
            } => {
                let (p, d) = (self.resolve(path), self.resolve(dead_letter_path));
                if p == d {
                    return Err(err("path and dead_letter_path must differ".to_owned()));
                }
                Arc::new(FileOutput::files(&p, &d, *fsync).map_err(|e| err(e.to_string()))?)
            }
            OutputConfig::Stdout {} => Arc::new(FileOutput::stdout()),
            OutputConfig::Null {} => {
                tracing::warn!(
                    "output kind = \"null\": events are encoded and dropped (benchmarks only)"
                );
                Arc::new(NullOutput)
            }
            #[cfg(not(feature = "kafka"))]
            OutputConfig::Kafka(_) => {
                return Err(err(
                    "this hookgate was built without the `kafka` feature".to_owned()
                ))
            }
            #[cfg(feature = "kafka")]
            OutputConfig::Kafka(k) => {
                let settings = KafkaSettings {
                    brokers: k.brokers.clone(),
                    topic: k.topic.clone(),
                    dead_letter_topic: k.dead_letter_topic.clone(),
                    mode: k.mode,
                    ack_timeout: k.ack_timeout,
                    librdkafka: k
                        .librdkafka
                        .iter()
                        .map(|(key, v)| (key.clone(), v.to_string()))
                        .collect(),
                };
                Arc::new(KafkaOutput::new(settings).map_err(|e| err(e.to_string()))?)
            }
        })
    }

    /// Opens the configured dedup store (Redis is not contacted yet).
    pub fn dedup_store(&self) -> Result<Arc<dyn DedupStore>, ConfigError> {
        let invalid = |detail: String| self.invalid(format!("dedup: {detail}"));
        let d = &self.config.dedup;
        Ok(match (d.store, &d.url) {
            (DedupStoreKind::Memory, None) => Arc::new(MemoryStore::new(d.ttl, d.max_entries)),
            (DedupStoreKind::Memory, Some(_)) => {
                return Err(invalid(
                    "`url` is only used with store = \"redis\"".to_owned(),
                ))
            }
            (DedupStoreKind::Redis, None) => {
                return Err(invalid("store = \"redis\" needs `url`".to_owned()))
            }
            (DedupStoreKind::Redis, Some(url)) => {
                if d.pending_ttl <= d.in_flight_wait {
                    return Err(invalid(
                        "pending_ttl must be longer than in_flight_wait".to_owned(),
                    ));
                }
                let settings = RedisSettings {
                    url: url.clone(),
                    key_prefix: d.key_prefix.clone(),
                    ttl: d.ttl,
                    pending_ttl: d.pending_ttl,
                    on_unavailable: d.on_unavailable,
                    timeout: d.timeout,
                };
                Arc::new(RedisStore::new(settings).map_err(|e| invalid(e.to_string()))?)
            }
        })
    }

    fn engine(&self) -> Result<Engine, ConfigError> {
        let validator = EventValidator::new().map_err(|e| ConfigError::Invalid {
            file: self.file.clone(),
            detail: e.to_string(),
        })?;
        Ok(Engine::new(validator))
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
        out
    }

    /// Builds the whole gateway.
    pub fn gateway(&self) -> Result<Arc<Gateway>, ConfigError> {
        let mappings = self.source_mappings()?;
        let sources = self.sources(&mappings)?;
        let dedup = self.dedup_store()?;
        let d = &self.config.dedup;
        Ok(Arc::new(Gateway::new(
            sources,
            self.engine()?,
            dedup,
            d.in_flight_wait,
            self.output()?,
        )))
    }

    /// Builds the gateway this configuration describes on top of the running one
    /// (SIGHUP). Sources, their secrets and the mapping files are replaced; the
    /// listener, the output and the dedup store stay as they are, because changing
    /// them under traffic could lose or duplicate events: those sections are kept
    /// from `running` and reported in [`Reload::needs_restart`].
    pub fn reload(mut self, running: &Loaded, current: &Gateway) -> Result<Reload, ConfigError> {
        let mappings = self.source_mappings()?;
        let sources = self.sources(&mappings)?;
        let engine = self.engine()?;
        let mut needs_restart = Vec::new();
        let (new, old) = (&mut self.config, &running.config);
        if new.server != old.server {
            needs_restart.push("server");
            new.server = old.server.clone();
        }
        if new.output != old.output {
            needs_restart.push("output");
            new.output = old.output.clone();
        }
        if new.dedup != old.dedup {
            needs_restart.push("dedup");
            new.dedup = old.dedup.clone();
        }
        Ok(Reload {
            gateway: Arc::new(current.reconfigured(sources, engine)),
            loaded: self,
            needs_restart,
        })
    }
}

/// What [`Loaded::reload`] built.
#[derive(Debug)]
pub struct Reload {
    /// The configuration now in effect (restart-only sections as they were).
    pub loaded: Loaded,
    pub gateway: Arc<Gateway>,
    /// Sections that changed in the file but apply only after a restart.
    pub needs_restart: Vec<&'static str>,
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
        Ok(Loaded {
            config: parse(text, "test.toml", &env)?,
            file: "test.toml".into(),
            base_dir: PathBuf::new(),
        })
    }

    fn sources_err(text: &str) -> String {
        let l = match loaded(text) {
            Ok(l) => l,
            Err(e) => return e.to_string(),
        };
        let m = l.mappings().unwrap_or_else(|e| panic!("{e}"));
        match l.sources(&m) {
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
        let current = running.gateway().unwrap_or_else(|e| panic!("{e}"));
        let next = loaded(&text("127.0.0.1:2", "2h", "b")).unwrap_or_else(|e| panic!("{e}"));
        let done = next
            .reload(&running, &current)
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
            .reload(&running, &current)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(done.needs_restart.is_empty());
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_path() {
        let e = sources_err("[server]\nlisten = \"127.0.0.1:1\"\ncolour = 1\n");
        assert!(e.contains("test.toml") && e.contains("colour"), "{e}");
        let e = sources_err("[[source]]\nid = \"a\"\nprovider = \"sahut\"\nsecret = \"x\"\n");
        assert!(e.contains("source[0]") && e.contains("secret"), "{e}");
        let e = sources_err("[output]\nkind = \"file\"\npaht = \"x\"\n");
        assert!(e.contains("paht"), "{e}");
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

    #[test]
    fn missing_variable_is_named() {
        let e = sources_err(
            "[[source]]\nid = \"a\"\nprovider = \"sahut\"\nsecrets = [\"${MISSING_VAR}\"]\n",
        );
        assert!(
            e.contains("source[0].secrets[0]") && e.contains("MISSING_VAR"),
            "{e}"
        );
    }

    #[test]
    fn unsigned_provider_needs_a_way_in() {
        let e = sources_err("[[source]]\nid = \"m\"\nprovider = \"magalu-sac\"\n");
        assert!(
            e.contains("does not sign") && e.contains("allow_unauthenticated"),
            "{e}"
        );
        let e = sources_err(
            "[[source]]\nid = \"m\"\nprovider = \"magalu-sac\"\nsecrets = [\"${S}\"]\n",
        );
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
        let e =
            sources_err("[[source]]\nid = \"m\"\nprovider = \"magalu-sac\"\ntoken = \"short\"\n");
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
        let e =
            sources_err("[[source]]\nid = \"s\"\nprovider = \"sahut\"\nsecrets = [\"short\"]\n");
        assert!(
            e.contains("source[0] (id `s`)") && e.contains("at least 16"),
            "{e}"
        );
        assert!(!e.contains("short\""), "the value is never shown: {e}");
        let e = sources_err(
            "[[source]]\nid = \"tg\"\nprovider = \"telegram\"\nsecrets = [\"tg-token\"]\n",
        );
        assert!(e.contains("tg") && e.contains("at least 16"), "{e}");
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
        assert!(matches!(l.config.output, OutputConfig::Stdout {}));
        assert!(loaded("[dedup]\nttl = \"soon\"\n").is_err());
        let redis_err = |t: &str| {
            loaded(t)
                .and_then(|l| l.dedup_store().map(|_| ()))
                .err()
                .map(|e| e.to_string())
        };
        assert!(
            redis_err("[dedup]\nstore = \"redis\"\n").is_some_and(|e| e.contains("needs `url`"))
        );
        assert!(
            redis_err("[dedup]\nurl = \"redis://x\"\n").is_some_and(|e| e.contains("only used"))
        );
        assert_eq!(redis_err("[dedup]\nstore = \"redis\"\nurl = \"redis://127.0.0.1:1\"\non_unavailable = \"closed\"\n"), None);
        assert!(loaded(
            "[dedup]\nstore = \"redis\"\nurl = \"redis://x\"\non_unavailable = \"maybe\"\n"
        )
        .is_err());
        assert!(loaded("[output]\nkind = \"carrier-pigeon\"\n").is_err());
        let l = loaded(
            "[output]\nkind = \"kafka\"\nbrokers = \"b:9092\"\nmode = \"binary\"\n[output.librdkafka]\n\"linger.ms\" = 2\n\"compression.type\" = \"lz4\"\n",
        )?;
        let OutputConfig::Kafka(k) = &l.config.output else {
            panic!("kafka output expected")
        };
        assert_eq!(
            (k.topic.as_str(), k.dead_letter_topic.as_str()),
            ("webhooks.events", "webhooks.dead-letter")
        );
        assert_eq!(k.librdkafka["linger.ms"].to_string(), "2");
        assert_eq!(k.ack_timeout, std::time::Duration::from_secs(3));
        assert!(loaded("[output]\nkind = \"kafka\"\nbrokers = \"b\"\ntopics = \"x\"\n").is_err());
        Ok(())
    }
}
