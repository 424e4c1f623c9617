//! Check and compile time of large rule sets (parse + check + compile), and
//! the cost of reporting many problems (check + render every diagnostic).
//! `cargo bench --bench frontend`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use glyphsieve::config::QuantizationConfig;
use glyphsieve::diagnostic::{render_human, to_json};
use glyphsieve::rules::RuleSet;
use glyphsieve::schema::Schema;
use std::hint::black_box;

/// `n` rules, each reading fields, config, a let and the rule before it.
fn rules(n: usize) -> String {
    let mut text = String::from("let usable = max(vram_gb - cfg.overhead_gb, 0)\n");
    for i in 0..n {
        let prev = if i == 0 {
            "0".to_string()
        } else {
            format!("r{}", i - 1)
        };
        text.push_str(&format!(
            "## Rule {i}.\nrule r{i}: int default 0 = if vram_gb >= {v} and (tdp_watts <= cfg.max_tdp_watts or mig_support) then floor(usable / cfg.model_gb.7b) + {prev} % 7 else {prev}\n",
            v = i % 97
        ));
    }
    text
}

fn frontend(c: &mut Criterion) {
    let config = QuantizationConfig::default().to_config();
    let schema = Schema::listing();
    let mut group = c.benchmark_group("check+compile");
    group.sample_size(20);
    for n in [10, 100, 1000, 10_000] {
        let texts = vec![("bench.rule".to_string(), rules(n))];
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &texts, |b, texts| {
            b.iter(|| {
                let set = RuleSet::build(black_box(texts), &schema, &config);
                assert!(!set.has_errors());
                black_box(set.has_errors())
            })
        });
    }
    group.finish();
}

/// Rule files with `n` problems of one kind each: reporting N problems must
/// cost about O(N), whatever the kind (issue 7: 20,000 in under a second).
fn broken(kind: &str, n: usize) -> String {
    match kind {
        "syntax" => (0..n).map(|i| format!("rule r{i}: int = 1 +\n")).collect(),
        "unknown-name" => (0..n).map(|i| format!("rule r{i}: int = x{i}\n")).collect(),
        "cycle" => (0..n)
            .map(|i| format!("rule r{i}: int = r{}\n", (i + 1) % n))
            .collect(),
        "unknown-variant" => {
            let variants: Vec<String> = (0..n).map(|i| format!("v{i}")).collect();
            let mut text = format!("enum E {{ {} }}\n", variants.join(", "));
            text.extend((0..n).map(|i| format!("rule r{i}: E = w{i}\n")));
            text
        }
        _ => unreachable!("no such kind"),
    }
}

fn reporting(c: &mut Criterion) {
    let config = QuantizationConfig::default().to_config();
    let schema = Schema::listing();
    let mut group = c.benchmark_group("report 20k");
    group.sample_size(10);
    for kind in ["syntax", "unknown-name", "cycle", "unknown-variant"] {
        let texts = vec![("bench.rule".to_string(), broken(kind, 20_000))];
        group.bench_with_input(BenchmarkId::new("human", kind), &texts, |b, texts| {
            b.iter(|| {
                let set = RuleSet::build(black_box(texts), &schema, &config);
                black_box(render_human(&set.diagnostics, &set.sources, false).len())
            })
        });
        group.bench_with_input(BenchmarkId::new("json", kind), &texts, |b, texts| {
            b.iter(|| {
                let set = RuleSet::build(black_box(texts), &schema, &config);
                let json: Vec<_> = set
                    .diagnostics
                    .iter()
                    .map(|d| to_json(d, &set.sources))
                    .collect();
                black_box(json.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, frontend, reporting);
criterion_main!(benches);
