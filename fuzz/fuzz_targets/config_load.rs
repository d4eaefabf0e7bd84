//! Fuzz target: configuration text through parsing, interpolation and source
//! validation. Must never panic and never echo an environment secret.
#![no_main]

use std::sync::OnceLock;

use hookgate::config::{parse, Loaded};
use hookgate::gateway::compile_sources;
use hookgate::mapping::MappingSet;
use libfuzzer_sys::fuzz_target;

/// The shipped mappings, compiled once (compiling them is what start-up does once).
fn mappings() -> &'static MappingSet {
    static M: OnceLock<MappingSet> = OnceLock::new();
    M.get_or_init(|| Loaded::empty().mappings().unwrap_or_default())
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Errors may quote the file's own text; the property is about the environment.
    if text.contains("s3cr3t-value-never-echoed") {
        return;
    }
    let env = |k: &str| (k == "SECRET").then(|| "s3cr3t-value-never-echoed".to_owned());
    match parse(text, "fuzz.toml", &env) {
        Err(e) => assert!(!e.to_string().contains("s3cr3t-value-never-echoed")),
        Ok(config) => {
            let loaded = Loaded {
                config,
                file: "fuzz.toml".into(),
                base_dir: std::path::PathBuf::from("/nonexistent"),
            };
            if let Err(e) = compile_sources(&loaded, mappings()) {
                assert!(!e.to_string().contains("s3cr3t-value-never-echoed"));
            }
            // The dedup store is built without I/O to a service.
            if let Err(e) = loaded.config.dedup.build() {
                let e = loaded.error(e.to_string());
                assert!(!e.to_string().contains("s3cr3t-value-never-echoed"));
            }
        }
    }
});
