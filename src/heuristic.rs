//! The strategy: a heuristic takes a typed row and gives its output column's
//! name and value. Every compiled rule is wrapped in one; a heuristic written
//! in Rust implements the same trait.

use crate::compile::Compiled;
use crate::eval::{EvalError, Row, Value, eval_item, write_item};
// Re-exported: they were defined here, and a heuristic written in Rust
// names them.
pub use crate::eval::Written;
pub use crate::types::OutputType;
use std::sync::Arc;

/// The strategy: given a typed row, a heuristic gives its output column's
/// name and value (bool, int, float, string, enum variant, or missing).
///
/// A heuristic written in Rust runs in the tagging pipeline as compiled
/// rules do: it says which fields it reads, and
/// [`run`](crate::data::pipeline::run) parses those cells, evaluates it on
/// every record and appends its column.
///
/// ```
/// use glyphsieve::data::pipeline::{Job, run};
/// use glyphsieve::eval::{EvalError, Row, Value};
/// use glyphsieve::heuristic::{Heuristic, OutputType};
/// use glyphsieve::schema::Schema;
///
/// /// Cards with at least 48 GB of memory.
/// struct BigMemory;
///
/// impl Heuristic for BigMemory {
///     fn name(&self) -> &str {
///         "big_memory"
///     }
///     fn output_type(&self) -> OutputType {
///         OutputType::Bool
///     }
///     fn fields(&self) -> Option<Vec<String>> {
///         Some(vec!["vram_gb".to_string()])
///     }
///     fn evaluate(&self, row: &Row) -> Result<Value, EvalError> {
///         // An unknown size (an empty cell, `NA`, ...) stays unknown.
///         Ok(match row.number("vram_gb") {
///             Some(gb) => Value::Bool(gb >= 48.0),
///             None => Value::Missing,
///         })
///     }
/// }
///
/// let csv = "model,vram_gb\nA100,80\nRTX 4090,24\nmystery,NA\n";
/// let job = Job::new(vec![&BigMemory], Schema::listing())?;
/// let mut out = Vec::new();
/// let summary = run(csv.as_bytes(), &mut out, &job)?;
/// assert_eq!(
///     String::from_utf8(out)?,
///     "model,vram_gb,big_memory\nA100,80,true\nRTX 4090,24,false\nmystery,NA,\n"
/// );
/// assert_eq!((summary.rows, summary.tallies[0].trues), (3, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Heuristic: Send + Sync {
    /// The output column's name.
    fn name(&self) -> &str;
    /// The output column's type.
    fn output_type(&self) -> OutputType;

    /// The schema fields this heuristic reads, by name. The pipeline parses
    /// only the cells of fields some heuristic reads (each must have a
    /// column in the CSV header); the others read as missing in the row.
    /// `None`, the default, stands for every field of the schema: correct
    /// for any heuristic, but then every field's column must be in the
    /// input. A compiled rule lists the fields it and its lets read.
    fn fields(&self) -> Option<Vec<String>> {
        None
    }
    /// This heuristic's value for one row.
    fn evaluate(&self, row: &Row) -> Result<Value, EvalError>;

    /// The output column's name and this row's value, in one call.
    fn output(&self, row: &Row) -> Result<(&str, Value), EvalError> {
        Ok((self.name(), self.evaluate(row)?))
    }

    /// The compiled program and item this heuristic evaluates, when it is a
    /// compiled rule: the pipeline then evaluates that item a chunk of rows
    /// at a time and does not call [`Heuristic::evaluate`] or
    /// [`Heuristic::write_cell`], so only a heuristic whose value is that
    /// item's may return `Some`. `None`, the default, for a heuristic
    /// written in Rust.
    #[doc(hidden)]
    fn compiled(&self) -> Option<(&Arc<Compiled>, u32)> {
        None
    }

    /// Evaluate and append the value as a CSV cell (quoted when it must be).
    /// Compiled rules write straight from the evaluator, without a `Value`.
    fn write_cell(&self, row: &Row, out: &mut Vec<u8>) -> Result<Written, EvalError> {
        let v = self.evaluate(row)?;
        v.write_csv(out);
        Ok(match &v {
            // The variant's index, for the per-rule summary.
            Value::Enum(_) => match self.output_type() {
                OutputType::Enum(names) => Written::of_typed(&v, &names),
                _ => Written::Other,
            },
            _ => Written::of(&v),
        })
    }
}

/// A compiled rule as a heuristic. Rules of one program share their lets and
/// each other's results through the row's memo, so each is computed once
/// per row whichever heuristic asks first.
pub struct RuleHeuristic {
    program: Arc<Compiled>,
    item: u32,
    output: OutputType,
}

impl RuleHeuristic {
    /// One heuristic per rule of `program`, in output order.
    pub(crate) fn all(program: &Arc<Compiled>) -> Vec<RuleHeuristic> {
        program
            .outputs
            .iter()
            .zip(&program.output_types)
            .map(|(&item, output)| RuleHeuristic {
                program: program.clone(),
                item,
                output: output.clone(),
            })
            .collect()
    }
}

impl RuleHeuristic {
    /// The bool item `item` of `program` (a `--where` filter, not an output).
    pub(crate) fn filter(program: &Arc<Compiled>, item: u32) -> RuleHeuristic {
        RuleHeuristic {
            program: program.clone(),
            item,
            output: OutputType::Bool,
        }
    }

    /// The compiled item this heuristic evaluates.
    pub(crate) fn item(&self) -> u32 {
        self.item
    }
}

impl Heuristic for RuleHeuristic {
    fn name(&self) -> &str {
        &self.program.items[self.item as usize].name
    }

    fn output_type(&self) -> OutputType {
        self.output.clone()
    }

    fn fields(&self) -> Option<Vec<String>> {
        let p = &self.program;
        let slots = p.fields_read_by([self.item]);
        Some(slots.into_iter().map(|s| p.schema[s].0.clone()).collect())
    }

    fn evaluate(&self, row: &Row) -> Result<Value, EvalError> {
        eval_item(&self.program, row, self.item)
    }

    fn write_cell(&self, row: &Row, out: &mut Vec<u8>) -> Result<Written, EvalError> {
        write_item(&self.program, row, self.item, out)
    }

    fn compiled(&self) -> Option<(&Arc<Compiled>, u32)> {
        Some((&self.program, self.item))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::QuantizationConfig;
    use crate::eval::Listing;
    use crate::rules::{QUANTIZATION_RULE, QUANTIZATION_RULE_NAME, RuleSet};
    use crate::schema::Schema;

    #[test]
    fn a_compiled_rule_gives_its_name_and_value() {
        let texts = [(
            QUANTIZATION_RULE_NAME.to_string(),
            QUANTIZATION_RULE.to_string(),
        )];
        let set = RuleSet::build(
            &texts,
            &Schema::listing(),
            &QuantizationConfig::default().to_config(),
        );
        let rule = &set.heuristics()[0];
        let row = Row::from_listing(&Listing {
            vram_gb: Some(80.0),
            tdp_watts: Some(300.0),
            mig_support: Some(true),
            ..Listing::default()
        });
        assert_eq!(
            rule.output(&row),
            Ok(("quantization_capable", Value::Bool(true)))
        );
        assert_eq!(rule.output_type(), OutputType::Bool);
        let mut cell = Vec::new();
        assert_eq!(rule.write_cell(&row, &mut cell), Ok(Written::True));
        assert_eq!(cell, b"true");
    }

    #[test]
    fn a_row_of_another_schema_is_an_error_not_a_wrong_answer() {
        let schema = Schema::from_yaml(
            "s.yaml",
            "fields:\n  a: { type: int }\n  b: { type: int }\n",
        )
        .expect("schema");
        let texts = [("r.rule".to_string(), "rule r: int = b + 1\n".to_string())];
        let set = RuleSet::build(&texts, &schema, &crate::config::Config::empty());
        let rule = &set.heuristics()[0];
        let err = rule
            .evaluate(&Row::from_listing(&Listing::default()))
            .unwrap_err();
        assert_eq!(
            err.what,
            crate::eval::EvalErrorKind::SchemaMismatch,
            "{err}"
        );
        let mut row = Row::new(std::sync::Arc::new(schema));
        row.set("b", 41).expect("set b");
        assert_eq!(rule.evaluate(&row), Ok(Value::Int(42)));
    }
}
