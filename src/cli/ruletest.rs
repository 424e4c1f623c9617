//! `glyphsieve test`: runs the `test` items of rule files. Each test's
//! fields make one row (read as CSV cells are, the others missing), its
//! `with cfg.` overrides are laid over the config, and each `expect` (a
//! hidden bool rule) must be true on it. Output like `cargo test`, the
//! failures with the values of the rules they name and explain's trace;
//! with `--coverage` / `--coverage-data`, the condition coverage.

use super::args::{Format, TestArgs};
use super::coverage::{self, Coverage, Over};
use super::explain::{missing_column, read_failure};
use super::output::Input;
use super::run::build;
use super::{Exit, Failure, Inputs, print_stdout};
use crate::check::ruletests::test_item_name;
use crate::check::{ItemId, Program, TExpr, TKind};
use crate::config::Config;
use crate::data::reader::header_from_fields;
use crate::data::reader::{Batch, BatchReader};
use crate::explain::{CfgOrigin, Explained, Reads, Record, TVal, Tracer};
use crate::ops::CmpOp;
use crate::rules::RuleSet;
use crate::syntax::ast::{Expr, ExprKind, TestDef};
use serde_json::{Value as Json, json};
use std::path::Path;

pub fn test(args: TestArgs, inputs: Inputs, color: bool, out_color: bool) -> Result<Exit, Failure> {
    // The tracer recurses over the expression tree, as the checker does.
    super::on_big_stack("test", || test_here(&args, &inputs, color, out_color))
}

/// One failed `expect`.
struct Failed {
    /// The expect as written.
    text: String,
    /// What it gave: `false`, `missing`, or the evaluation error.
    value: String,
    /// `RULE: expected X, found Y` when the expect is `RULE == LITERAL`.
    expected: Option<String>,
    /// The rules the expect names, with their values.
    rules: Vec<(String, Json, String)>,
    /// Explain's trace of each of those rules.
    traces: String,
    json_traces: Vec<Json>,
}

struct Outcome {
    name: String,
    file: String,
    line: usize,
    column: usize,
    failed: Vec<Failed>,
    /// The test could not run (its overrides give the rules an error).
    error: Option<String>,
}

impl Outcome {
    fn passed(&self) -> bool {
        self.failed.is_empty() && self.error.is_none()
    }
}

fn test_here(
    args: &TestArgs,
    inputs: &Inputs,
    color: bool,
    out_color: bool,
) -> Result<Exit, Failure> {
    let style = super::report::Style::new(args.format, color);
    let set = build(inputs, &[], None, style).map_err(|mut f| {
        // The rules' errors stop every test: say that, not what eval says.
        f.message = f.message.replace("nothing was written", "no test was run");
        f
    })?;
    let mut cov = (args.coverage || args.coverage_data.is_some()).then(Coverage::default);
    let mut outcomes = Vec::new();
    for (t, def) in set.tests.iter().enumerate() {
        outcomes.push(run_one(t, def, &set, inputs, out_color, cov.as_mut())?);
    }
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    let failed = outcomes.len() - passed;
    let data_cov = match &args.coverage_data {
        Some(path) => Some(data_coverage(&set, path, args.max_record_bytes)?),
        None => None,
    };
    let data_name = args
        .coverage_data
        .as_ref()
        .map(|p| match p == Path::new("-") {
            true => "<stdin>".to_string(),
            false => p.display().to_string(),
        })
        .unwrap_or_default();
    match args.format {
        Format::Human => {
            let mut out = human(&outcomes);
            if args.coverage
                && let Some(c) = &cov
            {
                out.push('\n');
                out += &coverage::human(
                    c,
                    &set.program,
                    &set.sources,
                    Over::Tests,
                    "the tests",
                    out_color,
                );
            }
            if let Some(c) = &data_cov {
                out.push('\n');
                out += &coverage::human(
                    c,
                    &set.program,
                    &set.sources,
                    Over::Data,
                    &data_name,
                    out_color,
                );
            }
            print_stdout(&out)?;
        }
        Format::Json => {
            let mut doc = json!({
                "tests": outcomes.iter().map(outcome_json).collect::<Vec<_>>(),
                "passed": passed,
                "failed": failed,
            });
            if let Some(o) = doc.as_object_mut() {
                if args.coverage
                    && let Some(c) = &cov
                {
                    o.insert(
                        "coverage".into(),
                        coverage::json(c, &set.program, &set.sources, Over::Tests),
                    );
                }
                if let Some(c) = &data_cov {
                    let mut j = coverage::json(c, &set.program, &set.sources, Over::Data);
                    if let Some(m) = j.as_object_mut() {
                        m.insert("file".into(), json!(data_name));
                    }
                    o.insert("data_coverage".into(), j);
                }
            }
            let text =
                serde_json::to_string_pretty(&doc).map_err(|e| Failure::usage(e.to_string()))?;
            print_stdout(&(text + "\n"))?;
        }
    }
    Ok(if failed > 0 { Exit::Problems } else { Exit::Ok })
}

/// A test's literal as the text of a CSV cell (or a `--set` value).
fn cell_text(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(i) => i.to_string(),
        ExprKind::Float(f) => f.to_string(),
        ExprKind::Str(s) => s.clone(),
        ExprKind::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

fn run_one(
    t: usize,
    def: &TestDef,
    base: &RuleSet,
    inputs: &Inputs,
    color: bool,
    cov: Option<&mut Coverage>,
) -> Result<Outcome, Failure> {
    let name_span = def.name.span;
    let file = base.sources.get(name_span.file);
    let (line, column) = file.line_col(name_span.start as usize);
    let mut outcome = Outcome {
        name: def.name.name.clone(),
        file: file.name.clone(),
        line,
        column,
        failed: Vec::new(),
        error: None,
    };
    // The overrides are laid over the config as `--set`s are; the rules
    // are checked again with it (a `cfg.` value is folded into the code).
    let mut config: Config = inputs.config.clone();
    let rebuilt;
    let set = if def.overrides.is_empty() {
        base
    } else {
        for o in &def.overrides {
            let key: Vec<&str> = o.key.iter().map(|k| k.name.as_str()).collect();
            let assignment = format!("{}={}", key.join("."), cell_text(&o.value));
            if let Err(e) = config.set(&assignment) {
                outcome.error = Some(e.to_string());
                return Ok(outcome);
            }
        }
        rebuilt = RuleSet::build(&inputs.texts, &inputs.schema, &config);
        if let Some(d) = rebuilt.diagnostics.iter().find(|d| d.is_error()) {
            outcome.error = Some(format!(
                "with its `with cfg.` values the rules have an error: {}",
                d.message
            ));
            return Ok(outcome);
        }
        &rebuilt
    };
    let Some(compiled) = set.compiled.clone() else {
        outcome.error = Some("the rules have errors".into());
        return Ok(outcome);
    };
    let program = &set.program;
    // The test's row: one cell per field given, under the field's column.
    let (mut header, mut slots, mut cells) = (Vec::new(), Vec::new(), Vec::new());
    for f in &def.fields {
        let Some(slot) = set.schema.slot(&f.name.name) else {
            continue;
        };
        let field = set.schema.field(slot);
        header.push(
            field
                .columns
                .first()
                .cloned()
                .unwrap_or_else(|| field.name.clone()),
        );
        slots.push(slot);
        cells.push(cell_text(&f.value).into_bytes());
    }
    let reads = Reads::new(&set.schema, &header, &slots).map_err(|(field, _)| {
        Failure::problem(format!(
            "test {:?}: field `{field}` has no column",
            def.name.name
        ))
    })?;
    let record = Record {
        cells,
        row: 1,
        line: line as u64,
    };
    let (row, _) = reads.row(&record);
    let mut tracer = Tracer::new(program, &row);
    for (k, expect) in def.expects.iter().enumerate() {
        let hidden = test_item_name(t, k);
        let Some(id) = program.items.iter().position(|i| i.name == hidden) else {
            continue;
        };
        let id = ItemId(id as u32);
        let value = match tracer.item(id) {
            Ok(TVal::Bool(true)) => continue,
            Ok(v) => v.show(program),
            Err(f) => f.into_error(program, id).to_string(),
        };
        let body = &program.items[id.0 as usize].body;
        let mut named = Vec::new();
        rules_named(body, program, &mut named);
        let rules = named
            .iter()
            .map(|&r| {
                let v = tracer.item(r).unwrap_or(TVal::Missing);
                let item = &program.items[r.0 as usize];
                (item.name.clone(), json_of(&v, program), v.show(program))
            })
            .collect();
        let cfg = CfgOrigin {
            config: &config,
            sets: &[],
        };
        let mut traces = String::new();
        let mut json_traces = Vec::new();
        for &r in &named {
            let e = Explained::new(program, &compiled, &reads, &record, r);
            let text = crate::explain::human(&e, program, &set.sources, &cfg, "test", color);
            // Its first line names a data row; the failure names the test.
            traces.extend(text.split_inclusive('\n').skip(1));
            json_traces.push(crate::explain::json(&e, program, &set.sources, &cfg));
        }
        outcome.failed.push(Failed {
            text: base
                .sources
                .get(expect.span.file)
                .slice(expect.span)
                .to_string(),
            expected: expected_text(body, &tracer, program),
            value,
            rules,
            traces,
            json_traces,
        });
    }
    if let Some(cov) = cov {
        cov.runs += 1;
        for &o in &program.outputs {
            let _ = tracer.item(o);
        }
        for trace in tracer.into_traces().iter().flatten() {
            cov.record(&trace.body);
        }
    }
    Ok(outcome)
}

/// The rules (not lets) an expect names, in order, each once.
fn rules_named(e: &TExpr, program: &Program, out: &mut Vec<ItemId>) {
    if let TKind::Item(id) = e.kind
        && program.items[id.0 as usize].rule.is_some()
        && !out.contains(&id)
    {
        out.push(id);
    }
    let kids = e.children();
    for k in kids {
        rules_named(k, program, out);
    }
}

/// For `RULE == LITERAL` (either way round): `RULE: expected X, found Y`.
fn expected_text(body: &TExpr, tracer: &Tracer, program: &Program) -> Option<String> {
    let TKind::Cmp {
        op: CmpOp::Eq,
        lhs,
        rhs,
    } = &body.kind
    else {
        return None;
    };
    let (item, konst) = match (&lhs.kind, &rhs.kind) {
        (TKind::Item(id), TKind::Const(c)) | (TKind::Const(c), TKind::Item(id)) => (*id, c),
        _ => return None,
    };
    let found = tracer.trace(item)?.value.show(program);
    Some(format!(
        "{}: expected {}, found {found}",
        program.items[item.0 as usize].name,
        crate::explain::show_const(konst, program)
    ))
}

fn json_of(v: &TVal, program: &Program) -> Json {
    crate::explain::json_value(v, program)
}

fn human(outcomes: &[Outcome]) -> String {
    let n = outcomes.len();
    let mut out = format!("running {n} test{}\n", if n == 1 { "" } else { "s" });
    for o in outcomes {
        let verdict = if o.passed() { "ok" } else { "FAILED" };
        out.push_str(&format!("test {} ... {verdict}\n", o.name));
    }
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.passed()).collect();
    if !failed.is_empty() {
        out.push_str("\nfailures:\n");
        for o in &failed {
            out.push_str(&format!(
                "\n---- {} ({}:{}:{}) ----\n",
                o.name, o.file, o.line, o.column
            ));
            if let Some(e) = &o.error {
                out.push_str(&format!("could not run: {e}\n"));
            }
            for f in &o.failed {
                out.push_str(&format!("expect `{}` is {}\n", f.text, f.value));
                match &f.expected {
                    Some(e) => out.push_str(&format!("  {e}\n")),
                    None => {
                        for (name, _, shown) in &f.rules {
                            out.push_str(&format!("  {name} = {shown}\n"));
                        }
                    }
                }
                out.push_str(&f.traces);
            }
        }
        out.push_str("\nfailures:\n");
        for o in &failed {
            out.push_str(&format!("    {}\n", o.name));
        }
    }
    let passed = n - failed.len();
    let result = if failed.is_empty() { "ok" } else { "FAILED" };
    out.push_str(&format!(
        "\ntest result: {result}. {passed} passed, {} failed\n",
        failed.len()
    ));
    out
}

fn outcome_json(o: &Outcome) -> Json {
    json!({
        "name": o.name,
        "file": o.file,
        "line": o.line,
        "column": o.column,
        "passed": o.passed(),
        "error": o.error,
        "failures": o.failed.iter().map(|f| json!({
            "expect": f.text,
            "value": f.value,
            "rules": f.rules.iter().map(|(n, v, _)| json!({"rule": n, "value": v})).collect::<Vec<_>>(),
            "explain": f.json_traces,
        })).collect::<Vec<_>>(),
    })
}

/// Coverage over every row of a CSV file, streamed: each row is traced
/// through every rule and only the counts are kept.
fn data_coverage(set: &RuleSet, path: &Path, max_record_bytes: usize) -> Result<Coverage, Failure> {
    let Some(compiled) = set.compiled.as_ref() else {
        return Err(Failure::problem("the rules have errors"));
    };
    let Input {
        reader: input,
        name,
        ..
    } = Input::open(path).map_err(Failure::usage)?;
    let program = &set.program;
    let slots = compiled.fields_read_by(program.outputs.iter().map(|o| o.0));
    let mut reader = BatchReader::new(input).max_record_bytes(max_record_bytes);
    let mut batch = Batch::default();
    let mut reads: Option<Reads> = None;
    let mut cov = Coverage::default();
    let mut seen = 0u64;
    while reader
        .next_batch(&mut batch)
        .map_err(|e| read_failure(e, &name))?
    {
        for i in 0..batch.len() {
            let fields = batch.record(i);
            let Some(reads) = &reads else {
                let header = header_from_fields(fields.iter());
                reads = Some(
                    Reads::new(&set.schema, &header, &slots)
                        .map_err(|(field, wanted)| missing_column(&name, field, wanted, &header))?,
                );
                continue;
            };
            seen += 1;
            let record = Record {
                cells: fields.iter().map(<[u8]>::to_vec).collect(),
                row: seen,
                line: batch.line(i),
            };
            let (row, _) = reads.row(&record);
            let mut tracer = Tracer::new(program, &row);
            for &o in &program.outputs {
                let _ = tracer.item(o);
            }
            for trace in tracer.into_traces().iter().flatten() {
                cov.record(&trace.body);
            }
            cov.runs += 1;
        }
    }
    Ok(cov)
}
