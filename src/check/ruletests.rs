//! `test` items: each field value must name a schema field and have its
//! type, each `with cfg.KEY = VALUE` must name a config key and have its
//! type. The `expect` expressions are checked as hidden bool rules
//! ([`test_item_name`]), so they get a rule body's diagnostics.

use super::{Checker, diagnostics};
use crate::source::{FileId, Span};
use crate::syntax::ast::{Expr, ExprKind, ItemKind, Module, TestDef};
use crate::types::Type;
use std::collections::HashMap;

/// The hidden rule of the `k`th (0-based) `expect` of the `t`th test in
/// the rule set (tests counted in file order). No rule can be named so.
pub fn test_item_name(t: usize, k: usize) -> String {
    format!("--test {t}.{k}")
}

/// Whether an item is a test's hidden `expect` rule.
pub fn is_test_item(name: &str) -> bool {
    name.starts_with("--test ")
}

/// The test items of `modules`, in the order their hidden rules are numbered.
pub fn tests_of(modules: &[(FileId, Module)]) -> Vec<&TestDef> {
    modules
        .iter()
        .flat_map(|(_, m)| &m.items)
        .filter_map(|i| match &i.kind {
            ItemKind::Test(t) => Some(t),
            _ => None,
        })
        .collect()
}

impl Checker<'_> {
    pub(super) fn check_tests(&mut self, tests: &[TestDef]) {
        for t in tests {
            let mut seen: HashMap<&str, Span> = HashMap::new();
            for f in &t.fields {
                let name = f.name.name.as_str();
                if let Some(&prev) = seen.get(name) {
                    let d = diagnostics::duplicate(f.name.span, name, prev, "test field");
                    self.error(d);
                    continue;
                }
                seen.insert(name, f.name.span);
                let Some(slot) = self.schema.slot(name) else {
                    let help = self
                        .suggest("test fields", name, |c| {
                            c.schema.names().map(String::from).collect()
                        })
                        .or_else(|| self.column_hint(name))
                        .or_else(|| {
                            self.by_name.contains_key(name).then(|| {
                                format!("`{name}` is a rule or let: the test gives fields; write what it must be in `expect`")
                            })
                        });
                    let d = diagnostics::unknown_name(f.name.span, name, help)
                        .label("not a field of the schema");
                    self.error(d);
                    continue;
                };
                let want = self.schema.field(slot).ty.ty();
                self.literal_fits(&f.value, want, &format!("field `{name}`"));
            }
            for o in &t.overrides {
                // Checked as the `cfg.` path a rule would read: E102 with
                // did-you-mean for an unknown key.
                let path = Expr {
                    kind: ExprKind::Cfg(o.key.clone()),
                    span: o.span,
                };
                let key = self.expr(&path, None);
                if key.ty == Type::Error {
                    continue;
                }
                let shown = format!(
                    "`cfg.{}`",
                    o.key
                        .iter()
                        .map(|k| k.name.as_str())
                        .collect::<Vec<_>>()
                        .join(".")
                );
                self.literal_fits(&o.value, key.ty, &shown);
            }
        }
    }

    /// Report a test's literal whose type is not `want` (an int is a float).
    fn literal_fits(&mut self, value: &Expr, want: Type, what: &str) {
        let lit = self.expr(value, Some(want));
        let fits = lit.ty == want
            || lit.ty == Type::Error
            || want == Type::Error
            || (lit.ty, want) == (Type::Int, Type::Float);
        if !fits {
            let (found, expected) = (self.show(lit.ty), self.show(want));
            let help = format!(
                "{what} is {expected}: give it {}",
                diagnostics::article(&expected)
            );
            self.error(diagnostics::type_mismatch(
                value.span, &expected, &found, help,
            ));
        }
    }
}
