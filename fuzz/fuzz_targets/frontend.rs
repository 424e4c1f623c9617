//! Fuzz target `frontend`: arbitrary bytes as rule text through parse, check
//! and compile; diagnostics must be well formed and render both ways.
#![no_main]

use glyphsieve::config::{Config, QuantizationConfig};
use glyphsieve::diagnostic::{render_human, to_json};
use glyphsieve::eval::{Listing, Row};
use glyphsieve::heuristic::Heuristic;
use glyphsieve::rules::RuleSet;
use glyphsieve::schema::Schema;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static CONFIG: LazyLock<Config> = LazyLock::new(|| QuantizationConfig::default().to_config());

/// Rendering is linear in the text; the README's `-max_len` keeps inputs at
/// this size, and larger ones are skipped so a run never times out on size alone.
const MAX_LEN: usize = 64 << 10;

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_LEN {
        return;
    }
    // Invalid UTF-8 cannot reach the front end (files are read as text), so
    // it is replaced; valid UTF-8 goes through as it is.
    let text = String::from_utf8_lossy(data).into_owned();
    let texts = [("fuzz.rule".to_string(), text)];
    let set = RuleSet::build(&texts, &Schema::listing(), &CONFIG);
    assert_eq!(
        set.has_errors(),
        set.diagnostics.iter().any(|d| d.is_error()),
        "compiled iff there are no errors"
    );
    for d in &set.diagnostics {
        assert!(!d.message.is_empty(), "empty message: {d:?}");
        for span in std::iter::once(d.span).chain(d.notes.iter().map(|(s, _)| *s)) {
            let file = set.sources.get(span.file);
            assert!(
                span.start <= span.end
                    && file
                        .text
                        .get(span.start as usize..span.end as usize)
                        .is_some(),
                "span {span:?} is not a char range of {}: {d:?}",
                file.name
            );
        }
        let json = to_json(d, &set.sources);
        assert!(json.place.line >= 1 && json.place.column >= 1, "{d:?}");
        serde_json::to_string(&json).expect("a diagnostic serializes");
    }
    let rendered = render_human(&set.diagnostics, &set.sources, false);
    for d in &set.diagnostics {
        assert!(
            rendered.contains(d.code.as_str()),
            "render lacks {}",
            d.code
        );
    }
    // Rules that compile evaluate without a panic on an empty and a full row
    // (an overflow is an error value, not a crash).
    let full = Row::from_listing(&Listing {
        model: "NVIDIA H100 PCIe 80GB".into(),
        condition: Some("New".into()),
        price: Some(27500.0),
        vram_gb: Some(80.0),
        tdp_watts: Some(350.0),
        mig_support: Some(true),
        slots: Some(2),
        cuda_cores: Some(i64::MAX),
        pcie_generation: Some(i64::MIN),
        ..Listing::default()
    });
    for row in [Row::new(Schema::listing()), full] {
        for h in set.heuristics() {
            let _ = h.evaluate(&row);
        }
    }
});
