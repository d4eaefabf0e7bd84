//! The mapping set: the shipped mapping files and the integrator's directories,
//! compiled and looked up by provider name; the mapping-file schema they are
//! checked against.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::compiled::Mapping;
use super::error::MappingError;

/// The mapping files shipped with hookgate, embedded so the binary works anywhere.
pub const SHIPPED: &[(&str, &str)] = &[
    ("sahut.toml", include_str!("../../mappings/sahut.toml")),
    (
        "oneroute.toml",
        include_str!("../../mappings/oneroute.toml"),
    ),
    (
        "magalu-sac.toml",
        include_str!("../../mappings/magalu-sac.toml"),
    ),
    ("aisoule.toml", include_str!("../../mappings/aisoule.toml")),
    ("savanto.toml", include_str!("../../mappings/savanto.toml")),
    (
        "standard-webhooks.toml",
        include_str!("../../mappings/standard-webhooks.toml"),
    ),
    ("stripe.toml", include_str!("../../mappings/stripe.toml")),
    ("slack.toml", include_str!("../../mappings/slack.toml")),
    ("zendesk.toml", include_str!("../../mappings/zendesk.toml")),
    ("github.toml", include_str!("../../mappings/github.toml")),
    (
        "whatsapp-cloud.toml",
        include_str!("../../mappings/whatsapp-cloud.toml"),
    ),
    (
        "intercom.toml",
        include_str!("../../mappings/intercom.toml"),
    ),
    ("shopify.toml", include_str!("../../mappings/shopify.toml")),
    (
        "telegram.toml",
        include_str!("../../mappings/telegram.toml"),
    ),
    (
        "messenger.toml",
        include_str!("../../mappings/messenger.toml"),
    ),
    ("line.toml", include_str!("../../mappings/line.toml")),
    ("twilio.toml", include_str!("../../mappings/twilio.toml")),
    ("discord.toml", include_str!("../../mappings/discord.toml")),
    ("vonage.toml", include_str!("../../mappings/vonage.toml")),
    ("viber.toml", include_str!("../../mappings/viber.toml")),
    ("msteams.toml", include_str!("../../mappings/msteams.toml")),
    (
        "google-chat.toml",
        include_str!("../../mappings/google-chat.toml"),
    ),
    (
        "freshchat.toml",
        include_str!("../../mappings/freshchat.toml"),
    ),
    (
        "sendgrid.toml",
        include_str!("../../mappings/sendgrid.toml"),
    ),
    ("telnyx.toml", include_str!("../../mappings/telnyx.toml")),
    ("zoom.toml", include_str!("../../mappings/zoom.toml")),
    ("webex.toml", include_str!("../../mappings/webex.toml")),
    ("hubspot.toml", include_str!("../../mappings/hubspot.toml")),
    ("front.toml", include_str!("../../mappings/front.toml")),
    ("crisp.toml", include_str!("../../mappings/crisp.toml")),
    (
        "sunshine-conversations.toml",
        include_str!("../../mappings/sunshine-conversations.toml"),
    ),
    ("bird.toml", include_str!("../../mappings/bird.toml")),
];

pub const MAPPING_SCHEMA: &str = include_str!("../../schemas/mapping.schema.json");

/// Every provider mapping known to this gateway, by provider name.
#[derive(Debug, Default)]
pub struct MappingSet {
    by_provider: HashMap<String, Arc<Mapping>>,
    /// Shipped providers left uncompiled because nothing asked for them.
    skipped: Vec<String>,
}

impl MappingSet {
    /// The shipped mappings, then every `*.toml` in `dirs` (a file for a provider
    /// that is already known replaces it, so integrators can adjust a shipped one).
    pub fn load(dirs: &[PathBuf]) -> Result<Self, Vec<MappingError>> {
        Self::load_for(dirs, None)
    }

    /// Like [`MappingSet::load`], but compiles only the shipped mappings of the
    /// `wanted` providers (the gateway's sources): the others cost start-up time
    /// and memory for nothing. Files in `dirs` are always compiled, so a broken
    /// one is reported whether or not a source uses it.
    pub fn load_for(
        dirs: &[PathBuf],
        wanted: Option<&HashSet<&str>>,
    ) -> Result<Self, Vec<MappingError>> {
        let schema = mapping_schema().map_err(|e| vec![e])?;
        let mut set = Self::default();
        let mut errors = Vec::new();
        for (name, text) in SHIPPED {
            let provider = name.strip_suffix(".toml").unwrap_or(name);
            if wanted.is_some_and(|w| !w.contains(provider)) {
                set.skipped.push(provider.to_owned());
                continue;
            }
            match Mapping::compile(&format!("(shipped) mappings/{name}"), text, &schema) {
                Ok(m) => set.insert(m),
                Err(e) => errors.push(e),
            }
        }
        for dir in dirs {
            match read_dir_sorted(dir) {
                Ok(files) => {
                    for path in files {
                        let file = path.display().to_string();
                        match std::fs::read_to_string(&path) {
                            Ok(text) => match Mapping::compile(&file, &text, &schema) {
                                Ok(m) => set.insert(m),
                                Err(e) => errors.push(e),
                            },
                            Err(e) => errors.push(MappingError::Read {
                                file,
                                detail: e.to_string(),
                            }),
                        }
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(errors)
        }
    }

    fn insert(&mut self, m: Mapping) {
        self.skipped.retain(|p| p != &m.provider);
        self.by_provider.insert(m.provider.clone(), Arc::new(m));
    }

    pub fn get(&self, provider: &str) -> Option<&Arc<Mapping>> {
        self.by_provider.get(provider)
    }

    pub fn providers(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .by_provider
            .keys()
            .chain(&self.skipped)
            .map(String::as_str)
            .collect();
        v.sort_unstable();
        v
    }
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, MappingError> {
    let err = |e: std::io::Error| MappingError::Read {
        file: dir.display().to_string(),
        detail: e.to_string(),
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(err)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// The compiled mapping-file schema.
pub fn mapping_schema() -> Result<jsonschema::Validator, MappingError> {
    let err = |detail: String| MappingError::Invalid {
        file: "schemas/mapping.schema.json".to_owned(),
        detail,
    };
    let v: serde_json::Value =
        serde_json::from_str(MAPPING_SCHEMA).map_err(|e| err(e.to_string()))?;
    jsonschema::validator_for(&v).map_err(|e| err(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_files_are_named_after_their_provider_and_load_for_compiles_only_those_wanted() {
        // load_for skips shipped files by name, so the name must be the provider.
        let all = MappingSet::load(&[]).unwrap_or_else(|e| panic!("{e:?}"));
        for (name, _) in SHIPPED {
            let provider = name.strip_suffix(".toml").unwrap_or(name);
            assert!(
                all.get(provider).is_some(),
                "{name} does not define `{provider}`"
            );
        }
        let wanted: HashSet<&str> = ["sahut", "stripe"].into_iter().collect();
        let some = MappingSet::load_for(&[], Some(&wanted)).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(some.get("sahut").is_some() && some.get("stripe").is_some());
        assert!(some.get("github").is_none());
        assert_eq!(
            some.providers(),
            all.providers(),
            "skipped ones are still known"
        );
    }

    #[test]
    fn shipped_mappings_load() {
        let set = match MappingSet::load(&[]) {
            Ok(s) => s,
            Err(errs) => panic!(
                "{}",
                errs.iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        };
        assert_eq!(
            set.providers(),
            [
                "aisoule",
                "bird",
                "crisp",
                "discord",
                "freshchat",
                "front",
                "github",
                "google-chat",
                "hubspot",
                "intercom",
                "line",
                "magalu-sac",
                "messenger",
                "msteams",
                "oneroute",
                "sahut",
                "savanto",
                "sendgrid",
                "shopify",
                "slack",
                "standard-webhooks",
                "stripe",
                "sunshine-conversations",
                "telegram",
                "telnyx",
                "twilio",
                "viber",
                "vonage",
                "webex",
                "whatsapp-cloud",
                "zendesk",
                "zoom",
            ]
        );
    }
}
