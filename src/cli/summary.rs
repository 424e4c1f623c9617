//! The per-rule summary `eval` prints after a run: counts per value, ranges, notes.

use crate::data::pipeline::{Summary, Tally};
use crate::eval::value::write_float;
use crate::heuristic::OutputType;
use serde_json::{Value as Json, json};
use std::fmt::Write as _;

fn float_text(f: f64) -> String {
    let mut out = Vec::new();
    write_float(f, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The quantiles shown, approximate (from the tally's log-scale histogram).
const QUANTILES: [(&str, f64); 3] = [("p10", 0.1), ("p50", 0.5), ("p90", 0.9)];

/// An approximate value as text: ints rounded, floats to 3 significant digits.
fn approx_text(x: f64, int: bool) -> String {
    if int {
        return format!("{}", x.round() as i64);
    }
    float_text(format!("{x:.2e}").parse().unwrap_or(x))
}

/// `p10 ~8, p50 ~24, p90 ~40` for a number column, or nothing.
fn quantile_parts(t: &Tally, int: bool) -> Vec<String> {
    QUANTILES
        .iter()
        .filter_map(|&(label, q)| {
            t.quantile(q)
                .map(|v| format!("{label} ~{}", approx_text(v, int)))
        })
        .collect()
}

/// An output's values as (label, count) pairs in the type's order, and its
/// range for numbers (as text, min then max).
type Counts = (Vec<(String, u64)>, Option<(String, String)>);

fn counts(t: &Tally, ty: &OutputType) -> Counts {
    let mut c = Vec::new();
    let mut range = None;
    match ty {
        OutputType::Bool => {
            c.push(("true".to_string(), t.trues));
            c.push(("false".to_string(), t.falses));
        }
        OutputType::Enum(names) => {
            for (k, n) in names.iter().enumerate() {
                c.push((n.clone(), t.variants.get(k).copied().unwrap_or(0)));
            }
        }
        OutputType::Int => {
            range = t.int_range.map(|(lo, hi)| (lo.to_string(), hi.to_string()));
        }
        OutputType::Float => {
            range = t
                .float_range
                .map(|(lo, hi)| (float_text(lo), float_text(hi)));
        }
        OutputType::String => c.push(("values".to_string(), t.others)),
    }
    (c, range)
}

/// The note for an output that has one value on every row, if it does.
pub(super) fn note(name: &str, t: &Tally, ty: &OutputType, rows: u64) -> Option<String> {
    if rows == 0 {
        return None;
    }
    if t.missing == rows {
        return Some(format!("{name} is missing on every row"));
    }
    let (c, range) = counts(t, ty);
    if !matches!(ty, OutputType::String)
        && let Some((label, _)) = c.iter().find(|(_, n)| *n == rows)
    {
        return Some(format!("{name} is `{label}` on every row"));
    }
    match range {
        Some((lo, hi)) if lo == hi && t.missing == 0 => {
            Some(format!("{name} is `{lo}` on every row"))
        }
        _ => None,
    }
}

/// The human summary: one line of rows, one line per output, then notes.
pub fn human(s: &Summary, outputs: &[(String, OutputType)]) -> String {
    let mut out = format!(
        "summary: {} rows read, {} written\n",
        s.rows, s.rows_written
    );
    let width = outputs.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut notes = Vec::new();
    for ((name, ty), t) in outputs.iter().zip(&s.tallies) {
        let (c, range) = counts(t, ty);
        let mut parts: Vec<String> = c.iter().map(|(l, n)| format!("{l} {n}")).collect();
        if let Some((lo, hi)) = range {
            parts.push(format!("min {lo}"));
            parts.extend(quantile_parts(t, matches!(ty, OutputType::Int)));
            parts.push(format!("max {hi}"));
        }
        parts.push(format!("missing {}", t.missing));
        let _ = writeln!(out, "  {name:width$}  {}", parts.join(", "));
        notes.extend(note(name, t, ty, s.rows_written));
    }
    for n in notes {
        let _ = writeln!(out, "note: {n}");
    }
    out
}

/// The same as one JSON object: `rows_read`, `rows_written`, `rules` (each
/// with `name`, `type`, `missing`, and `counts` or `min`/`p10`/`p50`/`p90`/`max`),
/// `notes`.
pub fn json(s: &Summary, outputs: &[(String, OutputType)]) -> String {
    let mut rules = Vec::new();
    let mut notes = Vec::new();
    for ((name, ty), t) in outputs.iter().zip(&s.tallies) {
        let type_name = match ty {
            OutputType::Bool => "bool",
            OutputType::Int => "int",
            OutputType::Float => "float",
            OutputType::String => "string",
            OutputType::Enum(_) => "enum",
        };
        let (c, _) = counts(t, ty);
        let mut rule = json!({ "name": name, "type": type_name, "missing": t.missing });
        if !c.is_empty() {
            let map: serde_json::Map<String, Json> =
                c.into_iter().map(|(l, n)| (l, json!(n))).collect();
            rule["counts"] = Json::Object(map);
        }
        match ty {
            OutputType::Int => {
                if let Some((lo, hi)) = t.int_range {
                    rule["min"] = json!(lo);
                    rule["max"] = json!(hi);
                }
            }
            OutputType::Float => {
                if let Some((lo, hi)) = t.float_range {
                    rule["min"] = json!(lo);
                    rule["max"] = json!(hi);
                }
            }
            _ => {}
        }
        if matches!(ty, OutputType::Int | OutputType::Float) {
            let int = matches!(ty, OutputType::Int);
            for (label, q) in QUANTILES {
                if let Some(v) = t.quantile(q) {
                    rule[label] = match int {
                        true => json!(v.round() as i64),
                        false => json!(v),
                    };
                }
            }
        }
        rules.push(rule);
        notes.extend(note(name, t, ty, s.rows_written));
    }
    json!({ "rows_read": s.rows, "rows_written": s.rows_written, "rules": rules, "notes": notes })
        .to_string()
}
