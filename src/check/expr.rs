//! Typing expressions: resolve names, settle types, widen ints, fold `cfg.`.

use super::Checker;
use super::builtins::{BUILTINS, Params};
use super::diagnostics::{self, article};
use super::ir::*;
use super::pattern;
use crate::config::CfgValue;
use crate::diagnostic::elide_list;
use crate::ops;
use crate::ops::CmpOp;
use crate::source::Span;
use crate::syntax::ast::{ArithOp, BinaryOp, Expr, ExprKind, Ident, UnaryOp, cmp_symbol};
use crate::types::Type;
use crate::value::Val;

impl Checker<'_> {
    /// Type `e`; `expected` lets a bare enum variant resolve.
    pub(super) fn expr(&mut self, e: &Expr, expected: Option<Type>) -> TExpr {
        let span = e.span;
        let (kind, ty) = match &e.kind {
            ExprKind::Int(i) => (TKind::Const(Const::Int(*i)), Type::Int),
            ExprKind::Float(f) => (TKind::Const(Const::Float(*f)), Type::Float),
            ExprKind::Str(s) => (TKind::Const(Const::Str(s.clone())), Type::Str),
            ExprKind::Bool(b) => (TKind::Const(Const::Bool(*b)), Type::Bool),
            ExprKind::Name(n) => return self.name(n, e, expected),
            ExprKind::Cfg(path) => return self.cfg(path, e),
            ExprKind::Unary { op, operand, .. } => return self.unary(*op, operand, e),
            ExprKind::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } => {
                return self.binary(*op, *op_span, lhs, rhs, e);
            }
            ExprKind::In {
                negated,
                value,
                list,
            } => return self.in_list(*negated, value, list, e),
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => return self.if_expr(cond, then, otherwise, e, expected),
            ExprKind::Call { func, args } => return self.call(func, args, e, expected),
            ExprKind::Error => (TKind::Error, Type::Error),
        };
        TExpr { kind, ty, span }
    }

    fn name(&mut self, n: &str, e: &Expr, expected: Option<Type>) -> TExpr {
        let span = e.span;
        if let Some(Type::Enum(want)) = expected {
            // By the variant index: an enum may have thousands of variants.
            let variant = self
                .variants
                .get(n)
                .and_then(|owners| owners.iter().find(|(id, _)| *id == want));
            if let Some(&(_, v)) = variant {
                return TExpr {
                    kind: TKind::Const(Const::Enum(want, v)),
                    ty: Type::Enum(want),
                    span,
                };
            }
        }
        if let Some(&id) = self.by_name.get(n) {
            self.deps.push(id);
            self.let_used.insert(id);
            let ty = self.types[id.0 as usize].unwrap_or(Type::Error);
            return TExpr {
                kind: TKind::Item(id),
                ty,
                span,
            };
        }
        if let Some(slot) = self.schema.slot(n) {
            return TExpr {
                kind: TKind::Field(slot),
                ty: self.schema.field(slot).ty.ty(),
                span,
            };
        }
        if let Some(owners) = self.variants.get(n).cloned() {
            if let Some(Type::Enum(want)) = expected {
                let help = format!(
                    "`{n}` is a variant of enum `{}`, but enum `{}` is expected here",
                    self.enum_name(owners[0].0),
                    self.enum_name(want)
                );
                return self.unknown_variant(n, e, want, Some(help));
            }
            if owners.len() == 1 {
                let (id, v) = owners[0];
                return TExpr {
                    kind: TKind::Const(Const::Enum(id, v)),
                    ty: Type::Enum(id),
                    span,
                };
            }
            let names: Vec<&str> = owners.iter().map(|(id, _)| self.enum_name(*id)).collect();
            let d = diagnostics::ambiguous_variant(span, n, &names);
            self.error(d);
            return TExpr::error(span);
        }
        if self.broken.contains(n) {
            return TExpr::error(span);
        }
        if let Some(Type::Enum(want)) = expected {
            return self.unknown_variant(n, e, want, None);
        }
        if let Some(help) = literal_habit(n, None) {
            let d = diagnostics::unknown_name(span, n, Some(help));
            self.error(match bool_word(n) {
                Some(b) => d.fix(span, b),
                None => d,
            });
            return TExpr::error(span);
        }
        if let Some(help) = self.column_hint(n) {
            self.error(diagnostics::unknown_name(span, n, Some(help)));
            return TExpr::error(span);
        }
        let help = self
            .suggest("names", n, |c| {
                let mut names: Vec<String> = c.by_name.keys().cloned().collect();
                names.extend(c.schema.names().map(String::from));
                names.extend(c.variants.keys().cloned());
                names
            })
            .or_else(|| {
                (self.config.get(&[n]).is_some()).then(|| format!("config is read as `cfg.{n}`"))
            });
        self.error(diagnostics::unknown_name(span, n, help));
        TExpr::error(span)
    }

    fn unknown_variant(
        &mut self,
        n: &str,
        e: &Expr,
        want: crate::types::EnumId,
        help: Option<String>,
    ) -> TExpr {
        let help = help
            .or_else(|| {
                self.suggest(&format!("enum {}", want.0), n, |c| {
                    c.enums[want.0 as usize].variants.clone()
                })
            })
            .unwrap_or_else(|| {
                let variants = &self.enums[want.0 as usize].variants;
                format!("the variants are {}", elide_list(variants, 20))
            });
        let d = diagnostics::unknown_variant(e.span, n, self.enum_name(want), help);
        self.error(d);
        TExpr::error(e.span)
    }

    fn cfg(&mut self, path: &[Ident], e: &Expr) -> TExpr {
        let span = e.span;
        let segs: Vec<&str> = path.iter().map(|i| i.name.as_str()).collect();
        for i in 0..segs.len() {
            match self.config.get(&segs[..=i]) {
                None => {
                    let keys = self.config.keys_at(&segs[..i]);
                    let shown = format!("cfg.{}", segs[..=i].join("."));
                    let level = format!("cfg {}", segs[..i].join("."));
                    let help = self
                        .suggest(&level, segs[i], |c| {
                            c.config
                                .keys_at(&segs[..i])
                                .into_iter()
                                .map(String::from)
                                .collect()
                        })
                        .map(|h| {
                            let prefix: String =
                                segs[..i].iter().map(|s| format!("{s}.")).collect();
                            h.replacen('`', &format!("`cfg.{prefix}"), 1)
                        })
                        .unwrap_or_else(|| {
                            if keys.is_empty() {
                                format!("{} has no keys here (--config, --set)", self.config.name)
                            } else {
                                format!("the keys here are {}", elide_list(&keys, 20))
                            }
                        });
                    let seg_span = path[i].span;
                    self.cfg_unknown.insert(segs.join("."));
                    let d = diagnostics::unknown_cfg_key(seg_span, &shown, &self.config.name, help);
                    self.error(d);
                    return TExpr::error(span);
                }
                Some(CfgValue::Map(_)) if i + 1 < segs.len() => continue,
                Some(v) if i + 1 < segs.len() => {
                    let v = v.to_string();
                    let shown = format!("cfg.{}", segs[..=i].join("."));
                    self.error(diagnostics::cfg_not_a_mapping(path[i + 1].span, &shown, &v));
                    return TExpr::error(span);
                }
                Some(_) => {}
            }
        }
        let full = segs.join(".");
        let value = self.config.get(&segs).cloned();
        let (c, ty) = match value {
            Some(CfgValue::Bool(b)) => (Const::Bool(b), Type::Bool),
            Some(CfgValue::Int(i)) => (Const::Int(i), Type::Int),
            Some(CfgValue::Float(f)) => (Const::Float(f), Type::Float),
            Some(CfgValue::Str(s)) => (Const::Str(s), Type::Str),
            other => {
                let found = other.map(|v| v.to_string()).unwrap_or_default();
                self.error(diagnostics::cfg_unreadable(span, &full, &found));
                return TExpr::error(span);
            }
        };
        self.cfg_used.insert(full);
        TExpr {
            kind: TKind::Const(c),
            ty,
            span,
        }
    }

    fn unary(&mut self, op: UnaryOp, operand: &Expr, e: &Expr) -> TExpr {
        let span = e.span;
        match op {
            UnaryOp::Not => {
                let inner = self.boolean(operand, "`not`");
                TExpr {
                    kind: TKind::Not(Box::new(inner)),
                    ty: Type::Bool,
                    span,
                }
            }
            UnaryOp::Neg => {
                let inner = self.expr(operand, None);
                if inner.ty == Type::Error {
                    return TExpr::error(span);
                }
                if !inner.ty.is_numeric() {
                    let found = self.show(inner.ty);
                    self.error(diagnostics::cannot_negate(operand.span, &found));
                    return TExpr::error(span);
                }
                let ty = inner.ty;
                // Folded with the evaluator's negation: `-(-9223372036854775807 - 1)`
                // would fail on every row, so it is E501 now.
                if let TKind::Const(c) = &inner.kind
                    && let Some(v) = number(c)
                {
                    return match ops::neg(v, 0) {
                        Ok(v) => TExpr {
                            kind: TKind::Const(from_number(v)),
                            ty,
                            span,
                        },
                        Err(_) => self.overflow(span, false),
                    };
                }
                TExpr {
                    kind: TKind::Neg(Box::new(inner)),
                    ty,
                    span,
                }
            }
        }
    }

    /// An operand that must be a bool.
    fn boolean(&mut self, e: &Expr, context: &str) -> TExpr {
        let t = self.expr(e, Some(Type::Bool));
        self.coerce(t, Type::Bool, context)
    }

    /// Accept `t` where `want` is expected: widen int to float, or report.
    pub(super) fn coerce(&mut self, t: TExpr, want: Type, context: &str) -> TExpr {
        if t.ty == want || t.ty == Type::Error || want == Type::Error {
            return t;
        }
        if t.ty == Type::Int && want == Type::Float {
            return widen(t);
        }
        let found = self.show(t.ty);
        let expected = self.show(want);
        if want == Type::Bool && t.ty.is_numeric() {
            self.error(diagnostics::number_as_bool(t.span, context, &found));
            return TExpr::error(t.span);
        }
        let help = match (t.ty, want) {
            (Type::Float, Type::Int) => "use round(), floor() or ceil() to make an int".to_string(),
            _ => format!("{context} expects {}", article(&expected)),
        };
        self.error(diagnostics::type_mismatch(t.span, &expected, &found, help));
        TExpr::error(t.span)
    }

    fn binary(&mut self, op: BinaryOp, op_span: Span, lhs: &Expr, rhs: &Expr, e: &Expr) -> TExpr {
        match op {
            BinaryOp::And => self.logic(true, lhs, rhs, e),
            BinaryOp::Or => self.logic(false, lhs, rhs, e),
            BinaryOp::Arith(op) => self.arithmetic(op, op_span, lhs, rhs, e),
            BinaryOp::Cmp(op) => self.comparison(op, op_span, lhs, rhs, e),
        }
    }

    /// `a and b`, `a or b`: both sides bools.
    fn logic(&mut self, and: bool, lhs: &Expr, rhs: &Expr, e: &Expr) -> TExpr {
        let word = if and { "`and`" } else { "`or`" };
        let l = Box::new(self.boolean(lhs, word));
        let r = Box::new(self.boolean(rhs, word));
        TExpr {
            kind: if and {
                TKind::And(l, r)
            } else {
                TKind::Or(l, r)
            },
            ty: Type::Bool,
            span: e.span,
        }
    }

    /// Both operands typed, the right one with the left's enum as a hint;
    /// `None` when either has an error already.
    fn operands(&mut self, lhs: &Expr, rhs: &Expr) -> Option<(TExpr, TExpr)> {
        let l = self.expr(lhs, None);
        let hint = matches!(l.ty, Type::Enum(_)).then_some(l.ty);
        let r = self.expr(rhs, hint);
        (l.ty != Type::Error && r.ty != Type::Error).then_some((l, r))
    }

    fn arithmetic(
        &mut self,
        op: ArithOp,
        op_span: Span,
        lhs: &Expr,
        rhs: &Expr,
        e: &Expr,
    ) -> TExpr {
        let span = e.span;
        let Some((l, r)) = self.operands(lhs, rhs) else {
            return TExpr::error(span);
        };
        if matches!(op, ArithOp::Div | ArithOp::Rem) {
            self.division_by_zero(op, op_span, &r);
        }
        if !(l.ty.is_numeric() && r.ty.is_numeric()) {
            let (bad, ty) = if l.ty.is_numeric() {
                (&r, r.ty)
            } else {
                (&l, l.ty)
            };
            let found = self.show(ty);
            self.error(diagnostics::needs_numbers(
                bad.span,
                op.symbol(),
                &found,
                op_span,
            ));
            return TExpr::error(span);
        }
        let float = l.ty == Type::Float || r.ty == Type::Float || op == ArithOp::Div;
        let (l, r) = if float { (widen(l), widen(r)) } else { (l, r) };
        let ty = if float { Type::Float } else { Type::Int };
        let op = arith_of(op, float);
        if let (TKind::Const(a), TKind::Const(b)) = (&l.kind, &r.kind) {
            match fold(op, a, b) {
                Some(Ok(c)) => {
                    return TExpr {
                        kind: TKind::Const(c),
                        ty,
                        span,
                    };
                }
                Some(Err(())) => return self.overflow(span, float),
                // Division by zero: missing at run time (W401 says so).
                None => {}
            }
        }
        TExpr {
            kind: TKind::Arith {
                op,
                lhs: Box::new(l),
                rhs: Box::new(r),
            },
            ty,
            span,
        }
    }

    /// Whether `n` names nothing: no item, field, variant or broken item.
    fn names_nothing(&self, n: &str) -> bool {
        !(self.by_name.contains_key(n)
            || self.schema.slot(n).is_some()
            || self.variants.contains_key(n)
            || self.broken.contains(n))
    }

    /// A comparison with a word that names nothing, where another language
    /// would read a literal: `x == null` (is_missing), `condition == New`
    /// (a string written without quotes). `Some` after reporting.
    fn comparison_habit(&mut self, op: CmpOp, lhs: &Expr, rhs: &Expr) -> Option<TExpr> {
        let (word, word_span, other) = match (&lhs.kind, &rhs.kind) {
            (_, ExprKind::Name(n)) if self.names_nothing(n) => (n, rhs.span, lhs),
            (ExprKind::Name(n), _) if self.names_nothing(n) => (n, lhs.span, rhs),
            _ => return None,
        };
        let other_text = match &other.kind {
            ExprKind::Name(o) => o.clone(),
            _ => "x".to_string(),
        };
        let negated = op == CmpOp::Ne;
        let whole = lhs.span.to(rhs.span);
        let (help, fix) = match literal_habit(word, Some((&other_text, negated))) {
            // `price == null` is `is_missing(price)`: an edit of the whole
            // comparison, when the other side is a name (its text).
            Some(help) if bool_word(word).is_none() => {
                let fix = (matches!(other.kind, ExprKind::Name(_))
                    && matches!(op, CmpOp::Eq | CmpOp::Ne))
                .then(|| {
                    let not = if negated { "not " } else { "" };
                    (whole, format!("{not}is_missing({other_text})"))
                });
                (help, fix)
            }
            Some(help) => (help, bool_word(word).map(|b| (word_span, b.to_string()))),
            None => {
                // Typed quietly: a problem on the other side is its own
                // diagnostic, reported when the comparison is typed below.
                let before = self.diags.len();
                let ty = self.expr(other, None).ty;
                self.diags.truncate(before);
                if ty != Type::Str {
                    return None;
                }
                let help = format!(
                    "`{word}` names nothing; to compare with the text, quote it: `\"{word}\"`"
                );
                (help, Some((word_span, format!("\"{word}\""))))
            }
        };
        self.expr(other, None);
        let d = diagnostics::unknown_name(word_span, word, Some(help));
        self.error(match fix {
            Some((span, text)) => d.fix(span, text),
            None => d,
        });
        Some(TExpr::error(whole))
    }

    fn comparison(&mut self, op: CmpOp, op_span: Span, lhs: &Expr, rhs: &Expr, e: &Expr) -> TExpr {
        let span = e.span;
        self.self_comparison(op, op_span, lhs, rhs);
        if let Some(t) = self.comparison_habit(op, lhs, rhs) {
            return t;
        }
        let Some((l, r)) = self.operands(lhs, rhs) else {
            return TExpr::error(span);
        };
        let (l, r) = match (l.ty, r.ty) {
            (a, b) if a == b => (l, r),
            // An int and a float compare by value, exactly: not widened,
            // since a float cannot hold every int above 2^53. An int
            // constant a float holds exactly is widened (`vram_gb >= 24`),
            // which is the same comparison, made faster.
            (a, b) if a.is_numeric() && b.is_numeric() => (exact_widen(l), exact_widen(r)),
            (a, b) => {
                self.incomparable(op_span, &l, &r, a, b);
                return TExpr::error(span);
            }
        };
        if l.ty == Type::Bool && !matches!(op, CmpOp::Eq | CmpOp::Ne) {
            self.error(diagnostics::bools_unordered(op_span, cmp_symbol(op)));
            return TExpr::error(span);
        }
        TExpr {
            kind: TKind::Cmp {
                op,
                lhs: Box::new(l),
                rhs: Box::new(r),
            },
            ty: Type::Bool,
            span,
        }
    }

    /// E201 for comparing values of two types that do not compare.
    fn incomparable(&mut self, op_span: Span, l: &TExpr, r: &TExpr, a: Type, b: Type) {
        let (sa, sb) = (self.show(a), self.show(b));
        // `power_class == "low"`: the variant is written bare.
        let variant =
            [(l, b), (r, a)]
                .into_iter()
                .find_map(|(side, other)| match (&side.kind, other) {
                    (TKind::Const(Const::Str(text)), Type::Enum(id)) => self
                        .variants
                        .get(text)
                        .is_some_and(|owners| owners.iter().any(|(e, _)| *e == id))
                        .then(|| text.clone()),
                    _ => None,
                });
        self.error(diagnostics::incomparable(
            op_span,
            (l.span, &sa),
            (r.span, &sb),
            variant,
        ));
    }

    fn in_list(&mut self, negated: bool, value: &Expr, list: &[Expr], e: &Expr) -> TExpr {
        let v = self.expr(value, None);
        // `condition in [New, Used]`: words that name nothing, in a list of
        // strings, are strings written without quotes.
        if v.ty == Type::Str {
            let mut unquoted = false;
            for x in list {
                if let ExprKind::Name(n) = &x.kind
                    && self.names_nothing(n)
                    && literal_habit(n, None).is_none()
                {
                    let help = format!(
                        "`{n}` names nothing; to compare with the text, quote it: `\"{n}\"`"
                    );
                    let d = diagnostics::unknown_name(x.span, n, Some(help));
                    self.error(d.fix(x.span, format!("\"{n}\"")));
                    unquoted = true;
                }
            }
            if unquoted {
                return TExpr::error(e.span);
            }
        }
        let hint = matches!(v.ty, Type::Enum(_)).then_some(v.ty);
        let mut items: Vec<TExpr> = list.iter().map(|x| self.expr(x, hint)).collect();
        if v.ty == Type::Error || items.iter().any(|i| i.ty == Type::Error) {
            return TExpr::error(e.span);
        }
        // Each item compares with `x` as `x == item` does: an int and a
        // float by exact value, never through a widened int (which would
        // make 9007199254740993 equal 9007199254740992.0). Int constants a
        // float holds exactly are widened, as for `==`: the same answer.
        let numeric = v.ty.is_numeric();
        let mut ok = true;
        for it in items.iter_mut() {
            let taken = std::mem::replace(it, TExpr::error(e.span));
            let c = if numeric && taken.ty.is_numeric() {
                if v.ty == Type::Float {
                    exact_widen(taken)
                } else {
                    taken
                }
            } else {
                self.coerce(taken, v.ty, "this list of `in`")
            };
            ok &= c.ty != Type::Error;
            *it = c;
        }
        if !ok {
            return TExpr::error(e.span);
        }
        TExpr {
            kind: TKind::In {
                negated,
                value: Box::new(v),
                list: items.into(),
            },
            ty: Type::Bool,
            span: e.span,
        }
    }

    fn if_expr(
        &mut self,
        cond: &Expr,
        then: &Expr,
        otherwise: &Expr,
        e: &Expr,
        expected: Option<Type>,
    ) -> TExpr {
        let c = self.boolean(cond, "`if`");
        let t = self.expr(then, expected);
        let hint = expected.or(Some(t.ty).filter(|ty| matches!(ty, Type::Enum(_))));
        let o = self.expr(otherwise, hint);
        if c.ty == Type::Error || t.ty == Type::Error || o.ty == Type::Error {
            return TExpr::error(e.span);
        }
        let (t, o, ty) = match (t.ty, o.ty) {
            (a, b) if a == b => (t, o, a),
            (a, b) if a.is_numeric() && b.is_numeric() => (widen(t), widen(o), Type::Float),
            (a, b) => {
                let (sa, sb) = (self.show(a), self.show(b));
                self.error(diagnostics::if_branches_differ(
                    (t.span, &sa),
                    (o.span, &sb),
                ));
                return TExpr::error(e.span);
            }
        };
        TExpr {
            kind: TKind::If {
                cond: Box::new(c),
                then: Box::new(t),
                otherwise: Box::new(o),
            },
            ty,
            span: e.span,
        }
    }

    fn call(&mut self, func: &Ident, args: &[Expr], e: &Expr, expected: Option<Type>) -> TExpr {
        let span = e.span;
        let Some(mut f) = self.function(func, args, span) else {
            return TExpr::error(span);
        };
        if let Builtin::Matches { .. } = f {
            match self.pattern(args) {
                Some(with_regex) => f = with_regex,
                None => return TExpr::error(span),
            }
        }
        let Some(typed) = self.call_args(f, args, expected) else {
            return TExpr::error(span);
        };
        let Some((typed, arg_ty)) = self.unify_args(f, typed) else {
            return TExpr::error(span);
        };
        let ty = f.result(arg_ty);
        // A numeric builtin of constants is folded with the evaluator's
        // own code: `floor(1e300)` would fail on every row, so it is E501.
        if let Some(folded) = self.fold_call(f, &typed, ty, span) {
            return folded;
        }
        TExpr {
            kind: TKind::Call {
                func: f,
                args: typed.into(),
            },
            ty,
            span,
        }
    }

    /// The builtin `func` names, called with an argument count it takes;
    /// `None` after reporting (E103, E203).
    fn function(&mut self, func: &Ident, args: &[Expr], span: Span) -> Option<Builtin> {
        let Some(f) = Builtin::from_name(&func.name) else {
            let help = self.suggest("functions", &func.name, |_| {
                let mut names: Vec<String> = BUILTINS.iter().map(|b| b.name.to_string()).collect();
                // Overloads (`round`) are adjacent rows of one name.
                names.dedup();
                names
            });
            self.error(diagnostics::unknown_function(func.span, &func.name, help));
            args.iter().for_each(|a| {
                self.expr(a, None);
            });
            return None;
        };
        // `round` has two forms; the number of arguments picks one.
        let Some(f) = f.by_arity(args.len()) else {
            self.error(diagnostics::wrong_arity(span, f, args.len()));
            return None;
        };
        Some(f)
    }

    /// Compile the pattern of `matches(s, "...")` (two arguments, checked
    /// already): the builtin with its regex id, or `None` after reporting
    /// (E204, E205) or when the pattern had an error already.
    fn pattern(&mut self, args: &[Expr]) -> Option<Builtin> {
        match &args[1].kind {
            ExprKind::Str(pattern) => match pattern::compile(pattern, &mut self.regex_bytes) {
                Ok(re) => {
                    let regex = self.regexes.len() as u32;
                    self.regexes.push(re);
                    Some(Builtin::Matches { regex })
                }
                Err(err) => {
                    self.error(diagnostics::invalid_regex(args[1].span, err));
                    self.expr(&args[0], None);
                    None
                }
            },
            ExprKind::Error => None,
            _ => {
                self.error(diagnostics::pattern_not_literal(args[1].span));
                self.expr(&args[0], None);
                None
            }
        }
    }

    /// Type each argument; a later one gets the expected type (for
    /// `coalesce`) or the first one's enum as a hint. `None` if any has an
    /// error.
    fn call_args(
        &mut self,
        f: Builtin,
        args: &[Expr],
        expected: Option<Type>,
    ) -> Option<Vec<TExpr>> {
        let hint = match f.params() {
            Params::Same => expected,
            Params::Numeric | Params::Strings | Params::Any | Params::NumberDigits => None,
        };
        let mut typed: Vec<TExpr> = Vec::with_capacity(args.len());
        for a in args {
            let h = hint.or_else(|| {
                typed
                    .first()
                    .map(|t: &TExpr| t.ty)
                    .filter(|t| matches!(t, Type::Enum(_)))
            });
            typed.push(self.expr(a, h));
        }
        (!typed.iter().any(|t| t.ty == Type::Error)).then_some(typed)
    }

    /// Bring the arguments to the one type `f` takes them as, and say which;
    /// `None` after reporting.
    fn unify_args(&mut self, f: Builtin, typed: Vec<TExpr>) -> Option<(Vec<TExpr>, Type)> {
        match f.params() {
            Params::Any => {
                let ty = typed[0].ty;
                Some((typed, ty))
            }
            Params::Strings => Some((self.coerce_all(f, typed, Type::Str)?, Type::Str)),
            Params::NumberDigits => {
                let mut typed = typed.into_iter();
                let (Some(x), Some(digits)) = (typed.next(), typed.next()) else {
                    return None;
                };
                if !x.ty.is_numeric() {
                    let found = self.show(x.ty);
                    self.error(diagnostics::takes_numbers(x.span, f, &found));
                    return None;
                }
                let x = self.coerce(x, Type::Float, &format!("`{}`", f.name()));
                let digits = self.coerce(digits, Type::Int, "the number of digits");
                if digits.ty == Type::Error {
                    return None;
                }
                Some((vec![x, digits], Type::Float))
            }
            Params::Numeric | Params::Same => {
                let numeric = f.params() == Params::Numeric;
                if numeric && let Some(bad) = typed.iter().find(|t| !t.ty.is_numeric()) {
                    let found = self.show(bad.ty);
                    self.error(diagnostics::takes_numbers(bad.span, f, &found));
                    return None;
                }
                let all_numeric = typed.iter().all(|t| t.ty.is_numeric());
                let want = if all_numeric && typed.iter().any(|t| t.ty == Type::Float) {
                    Type::Float
                } else {
                    typed[0].ty
                };
                Some((self.coerce_all(f, typed, want)?, want))
            }
        }
    }

    /// Coerce every argument of `f` to `want`, reporting each that does
    /// not fit; `None` if any did not.
    fn coerce_all(&mut self, f: Builtin, typed: Vec<TExpr>, want: Type) -> Option<Vec<TExpr>> {
        let context = format!("`{}`", f.name());
        let mut ok = true;
        let typed: Vec<TExpr> = typed
            .into_iter()
            .map(|t| {
                let c = self.coerce(t, want, &context);
                ok &= c.ty != Type::Error;
                c
            })
            .collect();
        ok.then_some(typed)
    }

    /// Fold a call of a numeric builtin whose arguments are all constants
    /// (already coerced to one type); `None` when it is not one.
    fn fold_call(
        &mut self,
        f: Builtin,
        args: &[TExpr],
        ty: Type,
        span: crate::source::Span,
    ) -> Option<TExpr> {
        let vals: Vec<Val> = args
            .iter()
            .map(|a| match &a.kind {
                TKind::Const(c) => number(c),
                _ => None,
            })
            .collect::<Option<_>>()?;
        let float = matches!(vals.first(), Some(Val::Float(_)));
        let result = match f.numeric(float) {
            Some(func) => ops::numeric(func, &vals, 0),
            // `floor`, `ceil` and `round` of an int are the int.
            None if matches!(f, Builtin::Floor | Builtin::Ceil | Builtin::Round) => Ok(vals[0]),
            None => return None,
        };
        Some(match result {
            Ok(v @ (Val::Int(_) | Val::Float(_))) => TExpr {
                kind: TKind::Const(from_number(v)),
                ty,
                span,
            },
            Ok(_) => return None,
            // Every overflow of these is an integer overflow.
            Err(_) => self.overflow(span, false),
        })
    }

    /// E501 for constant arithmetic that overflows: it would fail on
    /// every row that reaches it.
    fn overflow(&mut self, span: crate::source::Span, float: bool) -> TExpr {
        self.error(diagnostics::overflow(span, float));
        TExpr::error(span)
    }
}

/// `true` or `false` for a capitalised spelling of one (`True`, `FALSE`).
fn bool_word(word: &str) -> Option<&'static str> {
    match word {
        "True" | "TRUE" => Some("true"),
        "False" | "FALSE" => Some("false"),
        _ => None,
    }
}

/// Help for a word another language reads as a literal (`True`, `null`),
/// when it names nothing here. `compared`: the other side of an `==` or
/// `!=` (as written, `x` when not a name) and whether it is `!=`.
fn literal_habit(word: &str, compared: Option<(&str, bool)>) -> Option<String> {
    match word {
        "True" | "TRUE" | "False" | "FALSE" => Some(format!(
            "bools are written in lowercase: `{}`",
            bool_word(word).unwrap_or("true")
        )),
        "null" | "NULL" | "Null" | "None" | "nil" | "NaN" | "nan" | "undefined" => {
            Some(match compared {
                Some((x, false)) => format!(
                    "there is no null value; a missing value is tested with `is_missing({x})`"
                ),
                Some((x, true)) => format!(
                    "there is no null value; a present value is tested with `not is_missing({x})`"
                ),
                None => "there is no null value; test a missing value with `is_missing(x)`, or give the rule a `default`".to_string(),
            })
        }
        _ => None,
    }
}

/// A number constant as the evaluator's value.
fn number(c: &Const) -> Option<Val> {
    match c {
        Const::Int(i) => Some(Val::Int(*i)),
        Const::Float(f) => Some(Val::Float(*f)),
        _ => None,
    }
}

/// A number value (int or float) as a constant.
fn from_number(v: Val) -> Const {
    match v {
        Val::Float(f) => Const::Float(f),
        Val::Int(i) => Const::Int(i),
        // Only numbers come here; 0 keeps this total.
        _ => Const::Int(0),
    }
}

/// Fold arithmetic on two constants with the evaluator's own arithmetic:
/// `Some(Err)` on overflow, `None` when the result is missing (division by
/// zero) or the operands are not numbers.
fn fold(op: ops::Arith, a: &Const, b: &Const) -> Option<Result<Const, ()>> {
    let (a, b) = (number(a)?, number(b)?);
    match ops::arith(op, a, b, 0) {
        Ok(Val::Int(i)) => Some(Ok(Const::Int(i))),
        Ok(Val::Float(f)) => Some(Ok(Const::Float(f))),
        Ok(_) => None,
        Err(_) => Some(Err(())),
    }
}

/// An int constant that a float represents exactly, as that float.
fn exact_widen(t: TExpr) -> TExpr {
    match t.kind {
        TKind::Const(Const::Int(i)) if i.unsigned_abs() <= 1 << 53 => widen(t),
        _ => t,
    }
}

/// Widen an int expression to float (folding constants).
pub(super) fn widen(t: TExpr) -> TExpr {
    if t.ty != Type::Int {
        return t;
    }
    if let TKind::Const(Const::Int(i)) = t.kind {
        return TExpr {
            kind: TKind::Const(Const::Float(i as f64)),
            ty: Type::Float,
            span: t.span,
        };
    }
    let span = t.span;
    TExpr {
        kind: TKind::ToFloat(Box::new(t)),
        ty: Type::Float,
        span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::QuantizationConfig;
    use crate::rules::RuleSet;
    use crate::schema::Schema;

    #[test]
    fn each_matches_call_carries_its_own_regex_id() {
        let text = "rule a: bool = matches(model, \"^H\")\n\
                    rule b: bool = matches(title, \"100$\")\n";
        let set = RuleSet::build(
            &[("t.rule".to_string(), text.to_string())],
            &Schema::listing(),
            &QuantizationConfig::default().to_config(),
        );
        assert!(set.diagnostics.is_empty(), "{:?}", set.diagnostics);
        let ids: Vec<Builtin> = set
            .program
            .items
            .iter()
            .map(|item| match &item.body.kind {
                TKind::Call { func, .. } => *func,
                other => panic!("not a call: {other:?}"),
            })
            .collect();
        assert_eq!(
            ids,
            [Builtin::Matches { regex: 0 }, Builtin::Matches { regex: 1 }]
        );
        assert_eq!(set.program.regexes.len(), 2);
    }

    fn helps(text: &str) -> Vec<String> {
        let set = RuleSet::build(
            &[("t.rule".to_string(), text.to_string())],
            &Schema::listing(),
            &QuantizationConfig::default().to_config(),
        );
        set.diagnostics
            .iter()
            .map(|d| format!("{}: {}", d.code, d.help.as_deref().unwrap_or("")))
            .collect()
    }

    /// Regression: `condition in [New, Used]`, `x == null`, `True` said only
    /// "unknown name" and "fields come from the row schema".
    #[test]
    fn words_other_languages_read_as_literals_say_what_to_write() {
        assert_eq!(
            helps("rule r: bool = condition in [New, \"Used\"]"),
            ["E101: `New` names nothing; to compare with the text, quote it: `\"New\"`"]
        );
        assert_eq!(
            helps("rule r: bool = null == tdp_watts"),
            [
                "E101: there is no null value; a missing value is tested with `is_missing(tdp_watts)`"
            ]
        );
        assert_eq!(
            helps("rule r: bool default TRUE = nvlink"),
            ["E101: bools are written in lowercase: `true`"]
        );
        // Compared with a number, a bare word is not taken for a string.
        assert_eq!(
            helps("rule r: bool = vram_gb == New"),
            [
                "E101: fields come from the row schema (--schema) or a `field NAME: TYPE from COLUMN` declaration"
            ]
        );
        // A declared name is not a habit.
        assert_eq!(
            helps("let New = \"New\"\nrule r: bool = condition == New"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn arithmetic_and_comparison_are_ir_kinds_of_their_own() {
        let text = "rule a: bool = price * 2.0 >= 1.0\n";
        let set = RuleSet::build(
            &[("t.rule".to_string(), text.to_string())],
            &Schema::listing(),
            &QuantizationConfig::default().to_config(),
        );
        let TKind::Cmp { op, lhs, .. } = &set.program.items[0].body.kind else {
            panic!("not a comparison: {:?}", set.program.items[0].body);
        };
        assert_eq!(*op, CmpOp::Ge);
        assert!(matches!(
            lhs.kind,
            TKind::Arith {
                op: ops::Arith::MulFloat,
                ..
            }
        ));
    }
}
