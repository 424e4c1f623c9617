//! `glyphsieve explain`: for chosen rows and rules, the value, its trace
//! under the source, the cells and `cfg.` values read, and the flips. The
//! CSV is streamed until the last row asked for (memory stays flat).

use super::args::{ExplainArgs, Format};
use super::output::Input;
use super::run::build;
use super::{Exit, Failure, Inputs};
use crate::check::ItemId;
use crate::data::pipeline::DataError;
use crate::data::reader::header_from_fields;
use crate::data::reader::{Batch, BatchReader, ReadError};
use crate::diagnostic::{did_you_mean, elide_list};
use crate::explain::{CfgOrigin, Explained, Reads, Record, human, json};
use crate::heuristic::{Heuristic, RuleHeuristic};
use crate::schema::Schema;
use std::io::Read;
use std::sync::Arc;

/// `color`: colour diagnostics on stderr; `out_color`: colour the report
/// on stdout.
pub fn explain(
    args: ExplainArgs,
    inputs: Inputs,
    color: bool,
    out_color: bool,
) -> Result<Exit, Failure> {
    // The tracer recurses over the expression tree, as the checker does
    // (see `RuleSet::build`).
    super::on_big_stack("explain", || explain_here(&args, &inputs, color, out_color))
}

fn explain_here(
    args: &ExplainArgs,
    inputs: &Inputs,
    color: bool,
    out_color: bool,
) -> Result<Exit, Failure> {
    if args.rows.contains(&0) {
        return Err(Failure::usage(
            "--row 0: rows are numbered from 1, the first row after the header",
        ));
    }
    let set = build(
        inputs,
        &args.wheres,
        Some(&args.data),
        super::report::Style::new(args.format, color),
    )?;
    let Some(compiled) = set.compiled.clone() else {
        return Err(Failure::problem("the rules have errors"));
    };
    let program = &set.program;
    let rules: Vec<ItemId> = if args.rule.is_empty() {
        program.outputs.clone()
    } else {
        let mut chosen = Vec::new();
        for name in &args.rule {
            match crate::explain::rule_id(program, name) {
                Some(id) if !chosen.contains(&id) => chosen.push(id),
                Some(_) => {}
                None if program.items.iter().any(|i| i.name == *name) => {
                    return Err(Failure::usage(format!(
                        "--rule: `{name}` is a let, not a rule; its trace is shown with the rules that read it"
                    )));
                }
                None => {
                    let names: Vec<&str> = program
                        .outputs
                        .iter()
                        .map(|id| program.items[id.0 as usize].name.as_str())
                        .collect();
                    let hint = did_you_mean(name, names.iter().copied())
                        .unwrap_or_else(|| format!("the rules are {}", names.join(", ")));
                    return Err(Failure::usage(format!(
                        "--rule: no rule named `{name}`; {hint}"
                    )));
                }
            }
        }
        chosen
    };
    let mut wanted: Vec<u64> = args.rows.clone();
    wanted.sort_unstable();
    wanted.dedup();
    let last = wanted.last().copied().unwrap_or(0);
    let Input {
        reader: input,
        name: input_name,
        ..
    } = Input::open(&args.data).map_err(Failure::usage)?;
    let filters = set.filters();
    let pick = Pick {
        wanted: &wanted,
        last,
        filters: &filters,
        filter_slots: compiled.fields_read_by(filters.iter().map(|h| h.item())),
        schema: &set.schema,
        limit: if filters.is_empty() { 0 } else { args.limit },
    };
    let (header, records) = read_rows(input, &input_name, &pick, args.max_record_bytes)?;
    let slots = compiled.fields_read_by(rules.iter().map(|id| id.0));
    // The rule set's schema: the listing schema with the rules' field declarations.
    let reads = Reads::new(&set.schema, &header, &slots)
        .map_err(|(field, wanted)| missing_column(&input_name, field, wanted, &header))?;
    let origin = CfgOrigin {
        config: &inputs.config,
        sets: &args.config.set,
    };
    let mut human_out = String::new();
    let mut json_out = Vec::new();
    if !filters.is_empty() && !records.iter().any(|r| r.picked) {
        let matched = "no data row matches --where";
        if args.rows.is_empty() {
            eprintln!("{input_name}: {matched}");
        } else {
            eprintln!("{input_name}: {matched}; explaining the --row rows only");
        }
    }
    // The --row rows in the order asked for (a row asked twice is explained
    // once), then the rows --where picked, in file order.
    let picked = records.iter().filter(|r| r.picked).map(|r| r.record.row);
    let order: Vec<u64> = args.rows.iter().copied().chain(picked).collect();
    let mut shown = Vec::new();
    for &n in &order {
        if shown.contains(&n) {
            continue;
        }
        shown.push(n);
        let Some(record) = records
            .iter()
            .find(|r| r.record.row == n)
            .map(|r| &r.record)
        else {
            continue;
        };
        if record.cells.len() != header.len() {
            return Err(Failure::problem(
                DataError::Ragged {
                    file: input_name.clone(),
                    line: record.line,
                    expected: header.len(),
                    found: record.cells.len(),
                }
                .to_string(),
            ));
        }
        for &id in &rules {
            let e = Explained::new(program, &compiled, &reads, record, id);
            match args.format {
                Format::Human => {
                    if !human_out.is_empty() {
                        human_out.push('\n');
                    }
                    human_out.push_str(&human(
                        &e,
                        program,
                        &set.sources,
                        &origin,
                        &input_name,
                        out_color,
                    ));
                }
                Format::Json => json_out.push(json(&e, program, &set.sources, &origin)),
            }
        }
    }
    match args.format {
        Format::Human => super::print_stdout(&human_out)?,
        Format::Json => {
            let text = serde_json::to_string_pretty(&serde_json::Value::Array(json_out))
                .map_err(|e| Failure::usage(format!("cannot write JSON: {e}")))?;
            super::print_stdout(&format!("{text}\n"))?;
        }
    }
    Ok(Exit::Ok)
}

/// Which rows `read_rows` keeps: the `--row` rows (`wanted`, sorted, the
/// largest `last`), and up to `limit` rows where every `--where` filter is
/// true (none when `limit` is 0).
struct Pick<'a> {
    wanted: &'a [u64],
    last: u64,
    filters: &'a [RuleHeuristic],
    /// The schema slots the filters read.
    filter_slots: Vec<usize>,
    schema: &'a Arc<Schema>,
    limit: u64,
}

/// A record kept, and whether `--where` picked it (else `--row` asked for it).
struct Kept {
    record: Record,
    picked: bool,
}

/// Stream the CSV until the last `--row` row and the `--where` limit are
/// both reached, keeping the header and the rows picked. A `--row` past the
/// end is an error saying how many rows there are.
fn read_rows(
    input: Box<dyn Read>,
    input_name: &str,
    pick: &Pick,
    max_record_bytes: usize,
) -> Result<(Vec<String>, Vec<Kept>), Failure> {
    let mut reader = BatchReader::new(input).max_record_bytes(max_record_bytes);
    let mut batch = Batch::default();
    let mut header: Option<Vec<String>> = None;
    // The filters' fields, mapped to columns once the header is read.
    let mut filter_reads: Option<Reads> = None;
    let mut seen: u64 = 0;
    let mut picked: u64 = 0;
    let mut records = Vec::new();
    'read: loop {
        let more = reader
            .next_batch(&mut batch)
            .map_err(|e| read_failure(e, input_name))?;
        if !more {
            break;
        }
        for i in 0..batch.len() {
            let fields = batch.record(i);
            if header.is_none() {
                let names = header_from_fields(fields.iter());
                if pick.limit > 0 {
                    let reads = Reads::new(pick.schema, &names, &pick.filter_slots).map_err(
                        |(field, wanted)| missing_column(input_name, field, wanted, &names),
                    )?;
                    filter_reads = Some(reads);
                }
                header = Some(names);
                continue;
            }
            seen += 1;
            let record = || Record {
                cells: fields.iter().map(<[u8]>::to_vec).collect(),
                row: seen,
                line: batch.line(i),
            };
            let asked = pick.wanted.binary_search(&seen).is_ok();
            let mut matched = false;
            if let Some(reads) = &filter_reads
                && picked < pick.limit
            {
                let (row, _) = reads.row(&record());
                matched = true;
                for f in pick.filters {
                    match f.evaluate(&row) {
                        Ok(crate::eval::Value::Bool(true)) => {}
                        Ok(_) => matched = false,
                        Err(e) => {
                            return Err(Failure::problem(format!(
                                "{input_name}:{}: --where: {e}",
                                batch.line(i)
                            )));
                        }
                    }
                }
                picked += u64::from(matched);
            }
            if asked || matched {
                records.push(Kept {
                    record: record(),
                    picked: matched && !asked,
                });
            }
            if seen >= pick.last && picked >= pick.limit {
                break 'read;
            }
        }
    }
    let Some(header) = header else {
        return Err(Failure::problem(
            DataError::NoHeader {
                file: input_name.to_string(),
            }
            .to_string(),
        ));
    };
    if seen < pick.last {
        let past: Vec<String> = pick
            .wanted
            .iter()
            .filter(|&&r| r > seen)
            .map(u64::to_string)
            .collect();
        return Err(Failure::usage(format!(
            "--row {}: {input_name} has {seen} data row{} (numbered from 1, after the header)",
            past.join(", --row "),
            if seen == 1 { "" } else { "s" }
        )));
    }
    Ok((header, records))
}

/// A field the rules (or `--where`) read has no column in the header.
pub(super) fn missing_column(
    input_name: &str,
    field: String,
    wanted: String,
    header: &[String],
) -> Failure {
    Failure::problem(
        DataError::MissingColumn {
            file: input_name.to_string(),
            field,
            wanted,
            present: elide_list(header, 20),
        }
        .to_string(),
    )
}

pub(super) fn read_failure(e: ReadError, file: &str) -> Failure {
    match e {
        ReadError::Io(error) => Failure::usage(format!("{file}: {error}")),
        other => Failure::problem(format!("{file}: {other}")),
    }
}

/// `eval --why` (every bool rule written) or `--why=NAME,...`: one
/// why-column per rule, with the position in `chosen` it follows.
pub(super) fn why_columns(
    set: &crate::rules::RuleSet,
    chosen: &[&crate::heuristic::RuleHeuristic],
    why: Option<&[String]>,
) -> Result<Vec<(usize, crate::explain::WhyHeuristic)>, Failure> {
    use crate::heuristic::Heuristic;
    use crate::types::Type;
    let Some(names) = why else {
        return Ok(Vec::new());
    };
    let Some(compiled) = set.compiled.clone() else {
        return Ok(Vec::new());
    };
    let program = &set.program;
    let all = names.iter().all(|n| n.trim().is_empty());
    let is_bool = |item: u32| program.items[item as usize].ty == Type::Bool;
    let mut picked: Vec<usize> = Vec::new();
    if all {
        picked.extend((0..chosen.len()).filter(|&k| is_bool(chosen[k].item())));
    } else {
        for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            let Some(k) = chosen.iter().position(|h| h.name() == name) else {
                let why = if crate::explain::rule_id(program, name).is_some() {
                    "it is not among the columns written (--only)".to_string()
                } else if program.items.iter().any(|i| i.name == name) {
                    "it is a let, not a rule".to_string()
                } else {
                    let names: Vec<&str> = chosen.iter().map(|h| h.name()).collect();
                    did_you_mean(name, names.iter().copied())
                        .unwrap_or_else(|| "there is no rule of that name".to_string())
                };
                return Err(Failure::usage(format!("--why: `{name}`: {why}")));
            };
            let ty = program.items[chosen[k].item() as usize].ty;
            if ty != Type::Bool {
                let article = if matches!(ty, Type::Int | Type::Enum(_)) {
                    "an"
                } else {
                    "a"
                };
                return Err(Failure::usage(format!(
                    "--why: `{name}` is {article} {ty} rule; why-columns explain bool rules"
                )));
            }
            if !picked.contains(&k) {
                picked.push(k);
            }
        }
    }
    let program = set.program.clone();
    let sources = std::sync::Arc::new(set.sources.clone());
    let mut out = Vec::new();
    for k in picked {
        let w = crate::explain::WhyHeuristic::new(
            program.clone(),
            compiled.clone(),
            sources.clone(),
            ItemId(chosen[k].item()),
        );
        if let Some(h) = chosen.iter().find(|h| h.name() == w.name()) {
            return Err(Failure::usage(format!(
                "--why: the column `{}` would have the name of rule `{}`",
                w.name(),
                h.name()
            )));
        }
        out.push((k, w));
    }
    out.sort_by_key(|(k, _)| *k);
    Ok(out)
}
