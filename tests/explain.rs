//! `glyphsieve explain` (value, trace, cells, cfg values and flips of chosen
//! rows and rules) and `eval --why` (a reason column beside bool rules).

use crate::support::glyphsieve;
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use serde_json::Value as Json;

fn stdout_of(args: &[&str]) -> String {
    let out = glyphsieve().args(args).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).expect("utf-8 stdout")
}

fn json_of(args: &[&str]) -> Vec<Json> {
    let text = stdout_of(args);
    match serde_json::from_str(&text) {
        Ok(Json::Array(items)) => items,
        other => panic!("not a JSON list: {other:?}\n{text}"),
    }
}

fn failure(args: &[&str], code: i32) -> String {
    let out = glyphsieve().args(args).assert().code(code);
    String::from_utf8(out.get_output().stderr.clone()).expect("utf-8 stderr")
}

// Row 2 of the examples is the H100 PCIe: 80 GB, 350 W, MIG.
const H100_PCIE: [&str; 7] = [
    "explain",
    "rules/",
    "examples/listings.csv",
    "--row",
    "2",
    "--rule",
    "quantization_capable",
];

#[test]
fn explain_h100_pcie_shows_the_failed_tdp_test_and_its_flip_to_300() {
    let out = stdout_of(&H100_PCIE);
    assert!(
        out.starts_with("row 2 (line 3 of examples/listings.csv): quantization_capable = false\n"),
        "{out}"
    );
    assert!(out.contains("not evaluated"), "MIG test skipped:\n{out}");
    assert!(
        out.contains(
            "tdp_watts \"350\" → \"300\" (column tdp_watts): quantization_capable becomes true"
        ),
        "{out}"
    );
    assert!(
        out.contains("no single change of `vram_gb` flips it"),
        "{out}"
    );
    insta::assert_snapshot!("explain_h100_pcie_human", out);
}

#[test]
fn explain_json_has_row_rule_value_trace_and_verified_flips() {
    let items = json_of(&[&H100_PCIE[..], &["--format", "json"]].concat());
    assert_eq!(items.len(), 1);
    let e = &items[0];
    for key in ["row", "rule", "value", "trace", "flips"] {
        assert!(e.get(key).is_some(), "no `{key}` in {e}");
    }
    assert_eq!(e["row"], 2);
    assert_eq!(e["rule"], "quantization_capable");
    assert_eq!(e["value"], false);
    let trace = e["trace"].as_array().expect("trace list");
    assert!(
        trace
            .iter()
            .any(|n| n["text"] == "tdp_watts" && n["value"] == 350.0)
    );
    assert!(trace.iter().any(|n| n["evaluated"] == false));
    let flips = e["flips"].as_array().expect("flips list");
    assert_eq!(
        flips[0],
        serde_json::json!({"field": "tdp_watts", "column": "tdp_watts", "from": "350", "to": "300", "value": true})
    );
}

#[test]
fn explain_a_missing_field_lists_the_value_that_decides_it() {
    // Row 39: an A100 PCIe listed without its VRAM.
    let items = json_of(&[
        "explain",
        "rules/",
        "examples/listings.csv",
        "--row",
        "39",
        "--rule",
        "quantization_capable",
        "--format",
        "json",
    ]);
    let e = &items[0];
    assert_eq!(e["value"], false);
    assert_eq!(e["default_used"], true);
    let flips = e["flips"].as_array().expect("flips");
    assert!(
        flips.iter().any(|f| f["field"] == "vram_gb"
            && f["from"] == ""
            && f["to"] == "24"
            && f["value"] == true),
        "{flips:?}"
    );
    let human = stdout_of(&[
        "explain",
        "rules/",
        "examples/listings.csv",
        "--row",
        "39",
        "--rule",
        "quantization_capable",
    ]);
    assert!(human.contains("missing: empty"), "{human}");
    // Row 40: an A30 whose TDP is written `NA`.
    let human = stdout_of(&[
        "explain",
        "rules/",
        "examples/listings.csv",
        "--row",
        "40",
        "--rule",
        "power_class",
    ]);
    assert!(human.contains("missing: null marker `NA`"), "{human}");
    assert!(
        human.contains("tdp_watts \"NA\" → \"150\" (column tdp_watts): power_class becomes low"),
        "{human}"
    );
}

#[test]
fn explain_rule_picks_rules_and_row_picks_rows_in_the_order_given() {
    let items = json_of(&[
        "explain",
        "rules/",
        "examples/listings.csv",
        "--row",
        "3",
        "--row",
        "1",
        "--rule",
        "rack_friendly,power_class",
        "--format",
        "json",
    ]);
    let got: Vec<(i64, String)> = items
        .iter()
        .map(|e| {
            (
                e["row"].as_i64().expect("row"),
                e["rule"].as_str().expect("rule").to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (3, "rack_friendly".to_string()),
            (3, "power_class".to_string()),
            (1, "rack_friendly".to_string()),
            (1, "power_class".to_string()),
        ]
    );
    // power_class reads tdp_watts: 700 W is high; 300 W makes it mid.
    let pc = &items[3];
    assert_eq!(pc["value"], "high");
    assert!(
        pc["flips"]
            .as_array()
            .expect("flips")
            .iter()
            .any(|f| f["to"] == "300" && f["value"] == "mid"),
        "{pc}"
    );
    // Every rule by default.
    let all = json_of(&[
        "explain",
        "rules/",
        "examples/listings.csv",
        "--row",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(all.len(), 8);
}

#[test]
fn explain_an_unknown_rule_or_a_let_is_a_bad_argument() {
    let err = failure(
        &[
            "explain",
            "rules/",
            "examples/listings.csv",
            "--row",
            "1",
            "--rule",
            "rack_frendly",
        ],
        2,
    );
    assert!(
        err.contains("no rule named `rack_frendly`") && err.contains("rack_friendly"),
        "{err}"
    );
    let err = failure(
        &[
            "explain",
            "rules/",
            "examples/listings.csv",
            "--row",
            "1",
            "--rule",
            "usable_vram_gb",
        ],
        2,
    );
    assert!(
        err.contains("`usable_vram_gb` is a let, not a rule"),
        "{err}"
    );
}

#[test]
fn explain_row_0_is_a_bad_argument_rows_count_from_1() {
    let err = failure(
        &["explain", "rules/", "examples/listings.csv", "--row", "0"],
        2,
    );
    assert!(err.contains("--row 0: rows are numbered from 1"), "{err}");
}

#[test]
fn explain_a_row_past_the_end_says_how_many_rows_there_are() {
    let err = failure(
        &[
            "explain",
            "rules/",
            "examples/listings.csv",
            "--row",
            "2",
            "--row",
            "42",
        ],
        2,
    );
    assert!(
        err.contains("--row 42: examples/listings.csv has 41 data rows"),
        "{err}"
    );
}

#[test]
fn explain_a_bad_cell_is_explained_as_missing_and_says_why() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("bad.csv");
    std::fs::write(
        &csv,
        "model,vram_gb,tdp_watts,mig_support\nA30,24GB,165,yes\n",
    )
    .expect("write");
    let csv = csv.to_str().expect("utf-8 path");
    let out = stdout_of(&[
        "explain",
        "rules/quantization_capable.rule",
        csv,
        "--row",
        "1",
    ]);
    assert!(
        out.contains("missing: cannot read it as float: not a number"),
        "{out}"
    );
    assert!(out.contains("eval stops here"), "{out}");
    assert!(out.contains("vram_gb \"24GB\" → \"24\""), "{out}");
}

#[test]
fn explain_a_field_without_a_column_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("few.csv");
    std::fs::write(&csv, "model,vram_gb\nA30,24\n").expect("write");
    let err = failure(
        &[
            "explain",
            "rules/quantization_capable.rule",
            csv.to_str().expect("path"),
            "--row",
            "1",
        ],
        1,
    );
    assert!(err.contains("field `tdp_watts`"), "{err}");
}

#[test]
fn explain_says_where_each_cfg_value_came_from() {
    let out = stdout_of(&[&H100_PCIE[..], &["--set", "max_tdp_watts=350"]].concat());
    assert!(out.contains("quantization_capable = true"), "{out}");
    assert!(
        out.contains("cfg.max_tdp_watts = 350  from --set max_tdp_watts=350"),
        "{out}"
    );
    assert!(
        out.contains(
            "cfg.min_vram_gb   = 24   from resources/quantization_heuristic.yaml (built in)"
        ),
        "{out}"
    );
    // 351 W is the nearest that fails again.
    assert!(out.contains("\"350\" → \"351\""), "{out}");
}

#[test]
fn explain_draws_lets_and_values_the_rules_read() {
    let out = stdout_of(&[
        "explain",
        "rules/",
        "examples/listings.csv",
        "--row",
        "2",
        "--rule",
        "capacity_70b,rack_friendly",
    ]);
    assert!(out.contains("let `usable_vram_gb` = 78"), "{out}");
    assert!(
        out.contains("power_class = high   (explain it with --rule power_class)"),
        "{out}"
    );
    // capacity_70b = floor((80 - 2) / 35) = 2: 71 GB gives 1, 107 GB gives 3.
    assert!(out.contains("vram_gb \"80\" → \"71\""), "{out}");
    assert!(out.contains("vram_gb \"80\" → \"107\""), "{out}");
}

// ---------------------------------------------------------------------------
// eval --why

fn table(csv: &str) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_bytes());
    r.records()
        .map(|rec| rec.expect("record").iter().map(String::from).collect())
        .collect()
}

#[test]
fn eval_why_adds_a_reason_beside_each_bool_rule() {
    let out = stdout_of(&["eval", "rules/", "examples/listings.csv", "--why"]);
    let t = table(&out);
    let header = &t[0];
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let q = col("quantization_capable");
    assert_eq!(header[q + 1], "quantization_capable_why");
    assert_eq!(header[col("rack_friendly") + 1], "rack_friendly_why");
    assert_eq!(header[col("underpowered") + 1], "underpowered_why");
    assert!(
        !header.iter().any(|h| h == "power_class_why"),
        "enum rules get none"
    );
    let why = |row: usize, rule: &str| t[row][col(rule) + 1].clone();
    assert_eq!(
        why(2, "quantization_capable"),
        "tdp_watts 350 > cfg.max_tdp_watts 300"
    );
    assert_eq!(why(7, "quantization_capable"), "all of 3 conditions hold");
    assert_eq!(
        why(39, "quantization_capable"),
        "vram_gb missing (default false)"
    );
    assert_eq!(why(2, "rack_friendly"), "power_class == high");
    assert_eq!(why(2, "underpowered"), "none of 2 conditions hold");
    assert_eq!(
        why(26, "underpowered"),
        "lower(coalesce(generation, \"\")) \"turing\" in [\"pascal\", \"volta\", \"turing\"]"
    );
}

#[test]
fn eval_why_names_rules_and_refuses_a_rule_that_is_not_bool() {
    let out = stdout_of(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--only",
        "power_class,rack_friendly",
        "--why=rack_friendly",
    ]);
    assert_eq!(
        table(&out)[0][14..],
        ["power_class", "rack_friendly", "rack_friendly_why"]
    );
    let err = failure(
        &[
            "eval",
            "rules/",
            "examples/listings.csv",
            "--why=power_class",
        ],
        2,
    );
    assert!(
        err.contains("--why: `power_class` is an enum rule; why-columns explain bool rules"),
        "{err}"
    );
    let err = failure(
        &[
            "eval",
            "rules/",
            "examples/listings.csv",
            "--only",
            "power_class",
            "--why=rack_friendly",
        ],
        2,
    );
    assert!(err.contains("not among the columns written"), "{err}");
}

/// A random bool rule over three fields, from comparisons joined by
/// `and`, `or` and `not`.
fn bool_rule() -> impl Strategy<Value = String> {
    let cmp = (
        prop::sample::select(&["vram_gb", "tdp_watts", "price"][..]),
        prop::sample::select(&["<", "<=", ">", ">=", "==", "!="][..]),
        0u32..400,
    )
        .prop_map(|(f, op, k)| format!("{f} {op} {k}"));
    let leaf = prop_oneof![
        4 => cmp,
        1 => Just("mig_support".to_string()),
        1 => Just("is_missing(vram_gb)".to_string()),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
            inner.prop_map(|a| format!("not {a}")),
        ]
    })
}

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (0u32..500).prop_map(|n| n.to_string()),
        1 => Just(String::new()),
        1 => Just("N/A".to_string()),
    ]
}

fn rows() -> impl Strategy<Value = Vec<(String, String, String, bool)>> {
    prop::collection::vec((cell(), cell(), cell(), any::<bool>()), 1..6)
}

fn csv_text(rows: &[(String, String, String, bool)]) -> String {
    let mut csv = String::from("model,vram_gb,tdp_watts,price,mig_support\n");
    for (i, (v, t, p, m)) in rows.iter().enumerate() {
        csv.push_str(&format!("card {i},{v},{t},{p},{m}\n"));
    }
    csv
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// `--why` adds its columns and changes nothing else: without the
    /// `_why` columns the output is eval's without `--why`, byte for byte.
    #[test]
    fn eval_why_never_changes_the_other_columns(a in bool_rule(), b in bool_rule(), rows in rows()) {
        let dir = tempfile::tempdir().expect("temp dir");
        let rule = dir.path().join("r.rule");
        std::fs::write(&rule, format!("rule a: bool = {a}\nrule b: bool default false = {b}\nrule n: float = price / vram_gb\n")).expect("write rule");
        let data = dir.path().join("d.csv");
        std::fs::write(&data, csv_text(&rows)).expect("write csv");
        let (rule, data) = (rule.to_str().expect("path"), data.to_str().expect("path"));
        let plain = stdout_of(&["eval", rule, data]);
        let with = stdout_of(&["eval", rule, data, "--why"]);
        let with = table(&with);
        let whys: Vec<usize> = with[0].iter().enumerate().filter(|(_, h)| h.ends_with("_why")).map(|(i, _)| i).collect();
        prop_assert_eq!(whys.len(), 2);
        let stripped: Vec<Vec<String>> = with
            .iter()
            .map(|r| r.iter().enumerate().filter(|(i, _)| !whys.contains(i)).map(|(_, c)| c.clone()).collect())
            .collect();
        prop_assert_eq!(stripped, table(&plain));
        for r in &with[1..] {
            for &w in &whys {
                prop_assert!(!r[w].is_empty(), "a reason on every row: {:?}", r);
            }
        }
    }
}

/// The README's explain example is the binary's real output.
#[test]
fn readme_explain_example_is_the_real_output() {
    let readme = std::fs::read_to_string(crate::support::root().join("README.md")).expect("README");
    let start =
        "$ glyphsieve explain rules/ examples/listings.csv --row 2 --rule quantization_capable\n";
    let from = readme.find(start).expect("the example in the README") + start.len();
    let len = readme[from..].find("\n$ ").expect("the next command") + 1;
    assert_eq!(&readme[from..from + len], stdout_of(&H100_PCIE));
}

/// Every flip of every shipped rule on every example row (strings, enums,
/// lets, rules reading rules, defaults, null markers), written into its
/// cell, changes the value the data pipeline writes.
#[test]
fn every_flip_of_the_shipped_rules_on_the_examples_changes_what_eval_writes() {
    use glyphsieve::data::pipeline::{Job, run};
    use glyphsieve::heuristic::Heuristic;
    use glyphsieve::schema::Schema;
    let root = crate::support::root();
    let files = glyphsieve::rules::rule_files(&[root.join("rules")]).expect("rules/");
    let texts = glyphsieve::rules::read_rule_files(&files).expect("read rules/");
    let set = glyphsieve::rules::RuleSet::build(
        &texts,
        &Schema::listing(),
        &glyphsieve::config::QuantizationConfig::default().to_config(),
    );
    let csv_text = std::fs::read_to_string(root.join("examples/listings.csv")).expect("examples");
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let heuristics = set.heuristics();
    let tag = |h: &dyn Heuristic, record: &[String]| -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&header).expect("header");
        w.write_record(record).expect("record");
        let input = w.into_inner().expect("csv");
        let job = Job::new(vec![h], Schema::listing()).expect("job");
        let mut out = Vec::new();
        run(&input[..], &mut out, &job).expect("tagged");
        let mut r = csv::Reader::from_reader(&out[..]);
        let rec = r.records().next().expect("a row").expect("a record");
        rec.iter().next_back().expect("the rule's cell").to_string()
    };
    let mut flips_checked = 0;
    for record in reader.records() {
        let record: Vec<String> = record.expect("record").iter().map(String::from).collect();
        let cells: Vec<&str> = record.iter().map(String::as_str).collect();
        for h in &heuristics {
            let before = tag(h, &record);
            let flips = glyphsieve::explain::record_flips(&set, h.name(), &header_refs, &cells)
                .expect("flips");
            for f in flips {
                let col = header
                    .iter()
                    .position(|c| *c == f.column)
                    .expect("a column");
                assert_eq!(f.from, record[col]);
                let mut changed = record.clone();
                changed[col] = f.to.clone();
                assert_ne!(
                    tag(h, &changed),
                    before,
                    "{} on {record:?}: {f:?}",
                    h.name()
                );
                flips_checked += 1;
            }
        }
    }
    assert!(flips_checked > 300, "{flips_checked}");
}

/// A field the rule files declare (`field stock: int from stock, qty`) is
/// read from its column, with its own null markers, by explain and --why.
#[test]
fn explain_reads_fields_the_rules_declare() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rule = dir.path().join("f.rule");
    std::fs::write(
        &rule,
        "field stock: int from stock, qty nulls [\"\", \"n/a\"]\nrule in_stock: bool = stock > 0 and vram_gb >= 24\n",
    )
    .expect("write rule");
    let csv = dir.path().join("f.csv");
    std::fs::write(&csv, "model,vram_gb,qty\nA,24,n/a\nB,48,3\n").expect("write csv");
    let (rule, csv) = (rule.to_str().expect("path"), csv.to_str().expect("path"));
    let out = stdout_of(&["explain", rule, csv, "--row", "1"]);
    assert!(
        out.contains("stock    column qty      \"n/a\"  missing: null marker `n/a`"),
        "{out}"
    );
    assert!(
        out.contains("stock \"n/a\" → \"1\" (column qty): in_stock becomes true"),
        "{out}"
    );
    let tagged = stdout_of(&["eval", rule, csv, "--why"]);
    assert_eq!(
        tagged,
        "model,vram_gb,qty,in_stock,in_stock_why\nA,24,n/a,,stock missing\nB,48,3,true,all of 2 conditions hold\n"
    );
}

/// `--where` picks the rows to explain as eval's `--where` keeps them: the
/// first `--limit` rows where it is true, in file order, after any `--row`.
#[test]
fn explain_where_picks_the_first_rows_where_it_holds_up_to_the_limit() {
    let flagged = stdout_of(&[
        "eval",
        "rules/",
        "examples/listings.csv",
        "--where",
        "quantization_capable",
        "--columns",
        "model",
        "--only",
        "quantization_capable",
    ]);
    assert!(flagged.lines().count() > 3, "{flagged}");
    let items = json_of(&[
        "explain",
        "rules/",
        "examples/listings.csv",
        "--where",
        "quantization_capable",
        "--rule",
        "quantization_capable",
        "--limit",
        "2",
        "--row",
        "2",
        "--format",
        "json",
    ]);
    let rows: Vec<(u64, bool)> = items
        .iter()
        .map(|i| {
            let row = i["row"].as_u64().expect("a row number");
            (row, i["value"].as_bool().expect("a bool value"))
        })
        .collect();
    // Row 2 (the H100 PCIe, not flagged) first, as asked; then two flagged rows.
    assert_eq!(rows.len(), 3, "{items:?}");
    assert_eq!(rows[0], (2, false));
    assert!(rows[1..].iter().all(|&(_, v)| v), "{rows:?}");
    assert!(rows[1].0 < rows[2].0, "file order: {rows:?}");
}

#[test]
fn explain_where_that_matches_no_row_says_so() {
    let out = glyphsieve()
        .args(["explain", "rules/", "examples/listings.csv"])
        .args(["--where", "vram_gb > 100000"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(stderr.contains("no data row matches --where"), "{stderr}");
    assert!(out.get_output().stdout.is_empty());
}

#[test]
fn explain_where_that_is_not_bool_is_a_located_error() {
    let err = failure(
        &[
            "explain",
            "rules/",
            "examples/listings.csv",
            "--where",
            "vram_gb + 1",
        ],
        1,
    );
    assert!(err.contains("--where:1:1"), "{err}");
    assert!(err.contains("expects a bool, found a float"), "{err}");
}

#[test]
fn explain_needs_a_row_or_a_where() {
    let err = failure(&["explain", "rules/", "examples/listings.csv"], 2);
    assert!(err.contains("--row <N>"), "{err}");
}
