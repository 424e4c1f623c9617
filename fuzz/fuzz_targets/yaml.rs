//! Fuzz target `yaml`: arbitrary bytes as a config, a quantization config and
//! a schema. No panic; a config that loads can look up every key it lists,
//! and `locate` points into its text at character boundaries.
#![no_main]

use glyphsieve::config::{Config, QuantizationConfig};
use glyphsieve::schema::Schema;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(config) = Config::from_yaml("fuzz.yaml", &text) {
        for path in config.leaf_paths() {
            let segs: Vec<&str> = path.split('.').collect();
            assert!(
                config.get(&segs).is_some(),
                "leaf path {path:?} does not resolve; yaml {text:?}"
            );
            if let Some((start, end)) = config.locate(&path) {
                assert!(
                    start <= end && text.get(start..end).is_some(),
                    "locate({path:?}) = {start}..{end} is not a char range of {} bytes; yaml {text:?}",
                    text.len()
                );
            }
        }
        // The typed view of the same config, as `--set` uses it.
        let _ = config.to_dto("fuzz.yaml");
    }
    if let Ok(q) = QuantizationConfig::from_yaml("fuzz.yaml", &text) {
        // What loads as the DTO reads back as the same DTO.
        let again = q.to_config().to_dto("fuzz.yaml");
        assert_eq!(again.as_ref().ok(), Some(&q), "round trip; yaml {text:?}");
    }
    if let Ok(schema) = Schema::from_yaml("fuzz.yaml", &text) {
        for (i, name) in schema.names().enumerate() {
            let slot = schema.slot(name).expect("a field's own name");
            assert!(slot <= i);
            let _ = schema.field(slot).is_null(b" NA ");
        }
    }
});
