//! Fuzz target: configuration text through parsing, interpolation and source
//! validation. Must never panic and never echo an environment secret.
#![no_main]

use hookgate::config::{parse, Loaded};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let env = |k: &str| (k == "SECRET").then(|| "s3cr3t-value-never-echoed".to_owned());
    match parse(text, "fuzz.toml", &env) {
        Err(e) => assert!(!e.to_string().contains("s3cr3t-value-never-echoed")),
        Ok(config) => {
            let loaded = Loaded {
                config,
                file: "fuzz.toml".into(),
                base_dir: std::path::PathBuf::from("/nonexistent"),
            };
            if let Ok(set) = loaded.mappings() {
                if let Err(e) = loaded.sources(&set) {
                    assert!(!e.to_string().contains("s3cr3t-value-never-echoed"));
                }
            }
        }
    }
});
