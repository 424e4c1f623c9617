//! Compile: the typed program to flat register code. Fields are schema slots,
//! `cfg.` values and literals are constants, every operation is typed, so
//! evaluation does no name lookups and no type dispatch.

use crate::check::{Builtin, Const, ItemId, Program, TExpr, TKind};
pub use crate::ops::{Arith, CmpOp, Func};
use crate::schema::Schema;
use crate::source::Span;
use crate::types::{OutputType, Type};
use crate::value::{Pool, StrRef, Val};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

mod share;

pub type Reg = u32;

/// One instruction. `at` indexes [`Compiled::spans`], for runtime errors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Instr {
    Const {
        dst: Reg,
        val: Val,
    },
    Field {
        dst: Reg,
        slot: u32,
    },
    Item {
        dst: Reg,
        item: u32,
    },
    ToFloat {
        dst: Reg,
        src: Reg,
    },
    Neg {
        dst: Reg,
        src: Reg,
        at: u32,
    },
    Not {
        dst: Reg,
        src: Reg,
    },
    /// `and`: if `src` is false, `dst` is false and jump to `end`.
    AndShort {
        dst: Reg,
        src: Reg,
        end: u32,
    },
    /// `or`: if `src` is true, `dst` is true and jump to `end`.
    OrShort {
        dst: Reg,
        src: Reg,
        end: u32,
    },
    /// Kleene `and`/`or` of two bools, the left known not to decide alone.
    Logic {
        dst: Reg,
        a: Reg,
        b: Reg,
        and: bool,
    },
    /// Operands are read in place (a register, a field, a constant), so
    /// `vram_gb >= 24` is one instruction.
    Arith {
        op: Arith,
        dst: Reg,
        a: Src,
        b: Src,
        at: u32,
    },
    Cmp {
        op: CmpOp,
        dst: Reg,
        a: Src,
        b: Src,
    },
    /// If `cond` is missing, `dst` is missing and jump to `end`; if false,
    /// jump to `otherwise`.
    Branch {
        cond: Reg,
        dst: Reg,
        otherwise: u32,
        end: u32,
    },
    Jump {
        to: u32,
    },
    /// `coalesce`: if `src` is present, `dst` takes it and jump to `end`.
    TakeIfPresent {
        dst: Reg,
        src: Reg,
        end: u32,
    },
    In {
        dst: Reg,
        value: Reg,
        first: Reg,
        count: u32,
        negated: bool,
    },
    Call {
        func: Func,
        dst: Reg,
        first: Reg,
        count: u32,
        at: u32,
    },
}

/// Where an operand is read from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Src {
    Reg(Reg),
    Field(u32),
    Const(Val),
}

/// One compiled `let` or `rule`.
#[derive(Debug, Clone)]
pub struct ItemCode {
    pub name: Arc<str>,
    /// A `rule` (else a `let`): runtime errors say which.
    pub is_rule: bool,
    /// The rule's `default`, used when the result is missing.
    pub default: Option<Val>,
    pub code: std::ops::Range<u32>,
    pub result: Reg,
    /// Items this one reads directly.
    pub deps: Vec<u32>,
    /// Schema slots of the fields this item reads directly.
    pub fields: Vec<usize>,
    pub span: Span,
}

/// A compiled rule set, shared by every heuristic that wraps one of its rules.
#[derive(Debug)]
pub struct Compiled {
    /// Distinguishes programs in a row's scratch memo.
    pub(crate) id: usize,
    pub code: Vec<Instr>,
    pub items: Vec<ItemCode>,
    /// Rules in output order.
    pub outputs: Vec<u32>,
    /// What each of `outputs` writes (enum variants by name).
    pub output_types: Vec<OutputType>,
    pub spans: Vec<Span>,
    pub(crate) const_text: Vec<u8>,
    pub regexes: Vec<regex_automata::meta::Regex>,
    /// Variant names by global variant id.
    pub variant_names: Vec<Arc<str>>,
    /// By global variant id, the variant's position in its own enum (what
    /// the per-rule summary counts by).
    pub variant_index: Vec<u32>,
    /// Registers one item needs at most.
    pub registers: usize,
    /// The fields (name, type) of the schema the rules were checked against.
    pub schema: Vec<(String, crate::types::FieldType)>,
    /// The typed program this was compiled from, when kept for
    /// [`Compiled::for_batch`].
    source: Option<Arc<Program>>,
    /// The batch form, made on first use: `None` when it is this program.
    batch: OnceLock<Option<Arc<Compiled>>>,
}

impl Compiled {
    /// The program the batch path runs: this one with the expressions
    /// several items compute alike as hidden lets (appended after the
    /// items, so every item keeps its id), made once, on first use; this
    /// one when nothing is shared or the typed program was not kept.
    pub(crate) fn for_batch(self: &Arc<Self>) -> Arc<Compiled> {
        let Some(source) = &self.source else {
            return self.clone();
        };
        let batch = self.batch.get_or_init(|| {
            share::share_common(source).map(|shared| {
                let mut c = compile_fields(&shared, self.schema.clone());
                c.id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                Arc::new(c)
            })
        });
        batch.clone().unwrap_or_else(|| self.clone())
    }

    /// Whether rows of `schema` can be evaluated: it has the fields, in
    /// order and with the types, the rules were checked against (a row of
    /// another schema would read the wrong slots).
    pub fn checked_against(&self, schema: &Schema) -> bool {
        schema.fields.len() == self.schema.len()
            && schema
                .fields
                .iter()
                .zip(&self.schema)
                .all(|(f, (name, ty))| f.name == *name && f.ty == *ty)
    }

    /// Schema slots of the fields `items` read, directly or through the
    /// items they depend on (for `--only`: parse only what those need).
    pub fn fields_read_by(&self, items: impl IntoIterator<Item = u32>) -> Vec<usize> {
        let mut seen = vec![false; self.items.len()];
        let mut stack: Vec<u32> = items.into_iter().collect();
        let mut fields = Vec::new();
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i as usize], true) {
                continue;
            }
            let item = &self.items[i as usize];
            fields.extend_from_slice(&item.fields);
            stack.extend(item.deps.iter().copied());
        }
        fields.sort_unstable();
        fields.dedup();
        fields
    }
}

static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

/// Compile a checked program (which must have no errors), checked against
/// `schema`: rows it evaluates must have that schema's fields.
pub fn compile(p: &Program, schema: &Schema) -> Compiled {
    compile_fields(p, schema_fields(schema))
}

/// [`compile`], keeping the typed program for [`Compiled::for_batch`].
pub fn compile_keeping(p: &Arc<Program>, schema: &Schema) -> Compiled {
    Compiled {
        source: Some(p.clone()),
        ..compile(p, schema)
    }
}

fn schema_fields(schema: &Schema) -> Vec<(String, crate::types::FieldType)> {
    schema
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.ty))
        .collect()
}

fn compile_fields(p: &Program, schema: Vec<(String, crate::types::FieldType)>) -> Compiled {
    let mut variant_base = Vec::with_capacity(p.enums.len());
    let mut variant_names = Vec::new();
    let mut variant_index = Vec::new();
    for e in &p.enums {
        variant_base.push(variant_names.len() as u32);
        variant_names.extend(e.variants.iter().map(|v| Arc::<str>::from(v.as_str())));
        variant_index.extend(0..e.variants.len() as u32);
    }
    // Sized once: grown by doubling, the code of a rule file near the size
    // limit would briefly take twice its room (the front end's peak).
    let (instrs, spans) = p
        .items
        .iter()
        .map(|i| code_bound(&i.body))
        .fold((0, 0), |(a, b), (x, y)| (a + x, b + y));
    let mut c = Compiler {
        code: Vec::with_capacity(instrs),
        spans: Vec::with_capacity(spans),
        const_text: Vec::new(),
        variant_base,
        next_reg: 0,
        max_reg: 0,
        fields: Vec::new(),
    };
    let mut items = Vec::with_capacity(p.items.len());
    for item in &p.items {
        c.next_reg = 0;
        c.fields.clear();
        let start = c.code.len() as u32;
        let result = c.alloc();
        c.expr(&item.body, result);
        let default = item
            .rule
            .as_ref()
            .and_then(|r| r.default.as_ref())
            .map(|d| c.constant(d));
        items.push(ItemCode {
            name: item.name.as_str().into(),
            is_rule: item.rule.is_some(),
            default,
            code: start..c.code.len() as u32,
            result,
            deps: item.deps.iter().map(|d: &ItemId| d.0).collect(),
            fields: {
                c.fields.sort_unstable();
                c.fields.dedup();
                c.fields.clone()
            },
            span: item.span,
        });
    }
    debug_assert!(
        c.code.len() <= instrs && c.spans.len() <= spans,
        "code_bound is an upper bound"
    );
    Compiled {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        code: c.code,
        items,
        outputs: p.outputs.iter().map(|o| o.0).collect(),
        output_types: p
            .outputs
            .iter()
            .map(|o| match p.items[o.0 as usize].ty {
                Type::Bool => OutputType::Bool,
                Type::Int => OutputType::Int,
                Type::Float => OutputType::Float,
                Type::Enum(id) => OutputType::Enum(p.enums[id.0 as usize].variants.clone()),
                Type::Str | Type::Error => OutputType::String,
            })
            .collect(),
        spans: c.spans,
        const_text: c.const_text,
        regexes: p.regexes.clone(),
        variant_names,
        variant_index,
        registers: c.max_reg as usize,
        schema,
        source: None,
        batch: OnceLock::new(),
    }
}

/// At least as many instructions and spans as compiling `e` emits: each
/// node emits at most one instruction, `and`/`or`/`if` two, `coalesce` one
/// per argument more; arithmetic, negation and calls keep a span.
fn code_bound(e: &TExpr) -> (usize, usize) {
    let (mut instrs, mut spans) = (0, 0);
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        instrs += match &e.kind {
            TKind::And(..) | TKind::Or(..) | TKind::If { .. } => 2,
            TKind::Call {
                func: Builtin::Coalesce,
                args,
            } => 1 + args.len(),
            _ => 1,
        };
        spans += matches!(
            e.kind,
            TKind::Arith { .. } | TKind::Neg(_) | TKind::Call { .. }
        ) as usize;
        stack.extend(e.children());
    }
    (instrs, spans)
}

struct Compiler {
    code: Vec<Instr>,
    spans: Vec<Span>,
    const_text: Vec<u8>,
    variant_base: Vec<u32>,
    next_reg: Reg,
    max_reg: Reg,
    /// Fields the item being compiled reads.
    fields: Vec<usize>,
}

impl Compiler {
    fn alloc(&mut self) -> Reg {
        let r = self.next_reg;
        self.next_reg += 1;
        self.max_reg = self.max_reg.max(self.next_reg);
        r
    }

    fn at(&mut self, span: Span) -> u32 {
        self.spans.push(span);
        self.spans.len() as u32 - 1
    }

    fn emit(&mut self, i: Instr) -> usize {
        self.code.push(i);
        self.code.len() - 1
    }

    fn here(&self) -> u32 {
        self.code.len() as u32
    }

    fn constant(&mut self, c: &Const) -> Val {
        match c {
            Const::Bool(b) => Val::Bool(*b),
            Const::Int(i) => Val::Int(*i),
            Const::Float(f) => Val::Float(*f),
            Const::Str(s) => {
                let start = self.const_text.len() as u32;
                self.const_text.extend_from_slice(s.as_bytes());
                Val::Str(StrRef {
                    pool: Pool::Const,
                    start,
                    len: s.len() as u32,
                })
            }
            Const::Enum(e, v) => Val::Enum(self.variant_base[e.0 as usize] + v),
        }
    }

    /// An operand read in place when it is a field or a constant, else
    /// evaluated into a fresh register.
    fn operand(&mut self, e: &TExpr) -> Src {
        match &e.kind {
            TKind::Const(c) => Src::Const(self.constant(c)),
            TKind::Field(slot) => {
                self.fields.push(*slot);
                Src::Field(*slot as u32)
            }
            _ => {
                let r = self.alloc();
                self.expr(e, r);
                Src::Reg(r)
            }
        }
    }

    /// Evaluate `e` into `dst`.
    fn expr(&mut self, e: &TExpr, dst: Reg) {
        match &e.kind {
            TKind::Const(c) => {
                let val = self.constant(c);
                self.emit(Instr::Const { dst, val });
            }
            TKind::Field(slot) => {
                self.fields.push(*slot);
                self.emit(Instr::Field {
                    dst,
                    slot: *slot as u32,
                });
            }
            TKind::Item(id) => {
                self.emit(Instr::Item { dst, item: id.0 });
            }
            TKind::ToFloat(inner) => {
                self.expr(inner, dst);
                self.emit(Instr::ToFloat { dst, src: dst });
            }
            TKind::Neg(inner) => {
                self.expr(inner, dst);
                let at = self.at(e.span);
                self.emit(Instr::Neg { dst, src: dst, at });
            }
            TKind::Not(inner) => {
                self.expr(inner, dst);
                self.emit(Instr::Not { dst, src: dst });
            }
            TKind::And(l, r) | TKind::Or(l, r) => {
                let and = matches!(e.kind, TKind::And(..));
                let a = self.alloc();
                self.expr(l, a);
                let short = if and {
                    self.emit(Instr::AndShort {
                        dst,
                        src: a,
                        end: 0,
                    })
                } else {
                    self.emit(Instr::OrShort {
                        dst,
                        src: a,
                        end: 0,
                    })
                };
                let b = self.alloc();
                self.expr(r, b);
                self.emit(Instr::Logic { dst, a, b, and });
                let end = self.here();
                match &mut self.code[short] {
                    Instr::AndShort { end: e, .. } | Instr::OrShort { end: e, .. } => *e = end,
                    _ => {}
                }
            }
            TKind::Arith { op, lhs, rhs } => {
                let a = self.operand(lhs);
                let b = self.operand(rhs);
                let at = self.at(e.span);
                self.emit(Instr::Arith {
                    op: *op,
                    dst,
                    a,
                    b,
                    at,
                });
            }
            TKind::Cmp { op, lhs, rhs } => {
                let a = self.operand(lhs);
                let b = self.operand(rhs);
                self.emit(Instr::Cmp { op: *op, dst, a, b });
            }
            TKind::In {
                negated,
                value,
                list,
            } => {
                let v = self.alloc();
                self.expr(value, v);
                let first = self.next_reg;
                let regs: Vec<Reg> = list.iter().map(|_| self.alloc()).collect();
                for (item, r) in list.iter().zip(regs) {
                    self.expr(item, r);
                }
                self.emit(Instr::In {
                    dst,
                    value: v,
                    first,
                    count: list.len() as u32,
                    negated: *negated,
                });
            }
            TKind::If {
                cond,
                then,
                otherwise,
            } => {
                let c = self.alloc();
                self.expr(cond, c);
                let branch = self.emit(Instr::Branch {
                    cond: c,
                    dst,
                    otherwise: 0,
                    end: 0,
                });
                self.expr(then, dst);
                let jump = self.emit(Instr::Jump { to: 0 });
                let else_pc = self.here();
                self.expr(otherwise, dst);
                let end = self.here();
                self.code[jump] = Instr::Jump { to: end };
                if let Instr::Branch {
                    otherwise, end: e, ..
                } = &mut self.code[branch]
                {
                    *otherwise = else_pc;
                    *e = end;
                }
            }
            TKind::Call { func, args } => self.call(*func, args, e, dst),
            TKind::Error => {
                self.emit(Instr::Const {
                    dst,
                    val: Val::Missing,
                });
            }
        }
    }

    /// `coalesce`: evaluate left to right, stopping at the first present value.
    fn coalesce(&mut self, args: &[TExpr], dst: Reg) {
        let mut patches = Vec::new();
        let tmp = self.alloc();
        for (i, a) in args.iter().enumerate() {
            if i + 1 == args.len() {
                self.expr(a, dst);
            } else {
                self.expr(a, tmp);
                patches.push(self.emit(Instr::TakeIfPresent {
                    dst,
                    src: tmp,
                    end: 0,
                }));
            }
        }
        let end = self.here();
        for p in patches {
            if let Instr::TakeIfPresent { end: e, .. } = &mut self.code[p] {
                *e = end;
            }
        }
    }

    fn call(&mut self, func: Builtin, args: &[TExpr], e: &TExpr, dst: Reg) {
        let float = args.first().is_some_and(|a| a.ty == Type::Float);
        let f = match func {
            Builtin::Coalesce => return self.coalesce(args, dst),
            Builtin::IsMissing => Func::IsMissing,
            Builtin::Lower => Func::Lower,
            Builtin::Upper => Func::Upper,
            Builtin::Contains => Func::Contains,
            Builtin::StartsWith => Func::StartsWith,
            Builtin::EndsWith => Func::EndsWith,
            Builtin::Matches { regex } => Func::Matches(regex),
            Builtin::Min
            | Builtin::Max
            | Builtin::Abs
            | Builtin::Floor
            | Builtin::Ceil
            | Builtin::Round
            | Builtin::RoundTo
            | Builtin::Clamp => match func.numeric(float) {
                Some(f) => f,
                // `floor`, `ceil` and `round` of an int: the int itself.
                None => return self.expr(&args[0], dst),
            },
        };
        // `matches` reads only its subject: the pattern is compiled already.
        let args = if matches!(f, Func::Matches(_)) {
            &args[..1]
        } else {
            args
        };
        let first = self.next_reg;
        let regs: Vec<Reg> = args.iter().map(|_| self.alloc()).collect();
        for (a, r) in args.iter().zip(regs) {
            self.expr(a, r);
        }
        let at = self.at(e.span);
        self.emit(Instr::Call {
            func: f,
            dst,
            first,
            count: args.len() as u32,
            at,
        });
    }
}
