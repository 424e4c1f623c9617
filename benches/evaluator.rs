//! The evaluator alone: rules x rows in memory, no CSV.
//! `cargo bench --bench evaluator`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use glyphsieve::config::QuantizationConfig;
use glyphsieve::eval::{Listing, Row};
use glyphsieve::heuristic::Heuristic;
use glyphsieve::rules::RuleSet;
use glyphsieve::schema::Schema;
use std::hint::black_box;
use std::sync::Arc;

const ROWS: usize = 1000;

/// Deterministic listings covering flagged, unflagged and missing cases.
fn rows() -> Vec<Row> {
    (0..ROWS)
        .map(|i| {
            let vram = [8.0, 16.0, 24.0, 48.0, 80.0][i % 5];
            Row::from_listing(&Listing {
                model: format!("card {i}"),
                price: Some(500.0 + i as f64),
                vram_gb: (i % 11 != 0).then_some(vram),
                tdp_watts: (i % 13 != 0).then_some([70.0, 250.0, 300.0, 350.0][i % 4]),
                mig_support: (i % 7 != 0).then_some(i % 3 == 0),
                slots: Some([1, 2, 3][i % 3]),
                generation: Some(["Ampere", "Hopper", "Volta"][i % 3].to_string()),
                ..Listing::default()
            })
        })
        .collect()
}

/// Rows of the peer benchmark's schema (benches/peer_schema.yaml).
fn peer_rows(schema: &Arc<Schema>) -> Vec<Row> {
    (0..ROWS)
        .map(|i| {
            let mut row = Row::new(schema.clone());
            let vram = [0.0, 8.0, 16.0, 24.0, 48.0, 80.0][i % 6];
            for (field, value) in [
                ("vram_gb", vram),
                ("tdp_w", [70.0, 250.0, 300.0, 350.0][i % 4]),
                ("mig_capable", [0.0, 4.0, 7.0][i % 3]),
                ("price", 500.0 + i as f64),
            ] {
                row.set(field, value).expect("peer schema field");
            }
            row
        })
        .collect()
}

fn rule_set(texts: &[(&str, &str)], schema: &Schema) -> RuleSet {
    let texts: Vec<(String, String)> = texts
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    let set = RuleSet::build(&texts, schema, &QuantizationConfig::default().to_config());
    assert!(!set.has_errors(), "{:?}", set.diagnostics);
    set
}

fn bench(c: &mut Criterion, name: &str, set: &RuleSet, mut rows: Vec<Row>) {
    let heuristics = set.heuristics();
    let mut group = c.benchmark_group("evaluate");
    group.throughput(Throughput::Elements((ROWS * heuristics.len()) as u64));
    group.bench_function(name, |b| {
        b.iter(|| {
            for row in rows.iter_mut() {
                row.forget_results();
                for h in &heuristics {
                    black_box(h.evaluate(row).ok());
                }
            }
        })
    });
    group.finish();
}

fn shipped(c: &mut Criterion) {
    let listing = Schema::listing();
    let set = rule_set(
        &[
            (
                "quantization_capable.rule",
                include_str!("../rules/quantization_capable.rule"),
            ),
            ("capacity.rule", include_str!("../rules/capacity.rule")),
            ("power.rule", include_str!("../rules/power.rule")),
            ("price.rule", include_str!("../rules/price.rule")),
        ],
        &listing,
    );
    bench(c, "shipped rules (8 rules)", &set, rows());
    let quant = rule_set(
        &[("q.rule", include_str!("../rules/quantization_capable.rule"))],
        &listing,
    );
    bench(c, "quantization_capable", &quant, rows());
    let peer = Arc::new(
        Schema::from_yaml("peer_schema.yaml", include_str!("peer_schema.yaml"))
            .expect("peer schema"),
    );
    let task = rule_set(&[("peer_task.rule", include_str!("peer_task.rule"))], &peer);
    bench(c, "peer task (3 rules)", &task, peer_rows(&peer));
    let hundred = rule_set(
        &[("hundred.rule", include_str!("hundred_rules.rule"))],
        &peer,
    );
    bench(c, "100 rules", &hundred, peer_rows(&peer));
}

criterion_group!(benches, shipped);
criterion_main!(benches);
