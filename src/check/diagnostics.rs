//! The wording of the checker's errors, one constructor per kind of problem,
//! so a message is written once and the checking code reads as checks.
//! (Warnings are worded where they are found, in `lints.rs`.)

use super::builtins::BUILTINS;
use super::ir::Builtin;
use super::pattern::{self, PatternError};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;

/// "an int", "a float", "an enum X".
pub(super) fn article(ty: &str) -> String {
    let vowel = ty.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {ty}", if vowel { "an" } else { "a" })
}

// Names (E1xx).

pub(super) fn unknown_name(span: Span, name: &str, help: Option<String>) -> Diagnostic {
    Diagnostic::new(Code::UnknownName, span, format!("unknown name `{name}`"))
        .label("not a field, rule or let")
        .maybe_help(help.or_else(|| {
            Some(
                "fields come from the row schema (--schema) or a `field NAME: TYPE from COLUMN` declaration"
                    .into(),
            )
        }))
}

pub(super) fn ambiguous_variant(span: Span, name: &str, enums: &[&str]) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownVariant,
        span,
        format!("`{name}` could be a variant of several enums"),
    )
    .label("ambiguous variant")
    .help(format!(
        "`{name}` is a variant of {}; compare it with a value of one of them",
        enums.join(" and ")
    ))
}

pub(super) fn unknown_variant(span: Span, name: &str, enum_name: &str, help: String) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownVariant,
        span,
        format!("`{name}` is not a variant of enum `{enum_name}`"),
    )
    .label("unknown variant")
    .help(help)
}

pub(super) fn unknown_cfg_key(span: Span, shown: &str, config: &str, help: String) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownCfgKey,
        span,
        format!("unknown config key `{shown}`"),
    )
    .label(format!("not in {config}"))
    .help(help)
}

pub(super) fn cfg_not_a_mapping(span: Span, shown: &str, value: &str) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownCfgKey,
        span,
        format!("`{shown}` is {value}, not a mapping"),
    )
    .label("no keys under a value")
    .help(format!("read `{shown}` itself"))
}

pub(super) fn unknown_function(span: Span, name: &str, help: Option<String>) -> Diagnostic {
    let help = help.unwrap_or_else(|| {
        let mut names: Vec<&str> = BUILTINS.iter().map(|b| b.name).collect();
        // Overloads (`round`) are adjacent rows of one name.
        names.dedup();
        format!("the functions are {}", names.join(", "))
    });
    Diagnostic::new(
        Code::UnknownFunction,
        span,
        format!("unknown function `{name}`"),
    )
    .label("not a function")
    .help(help)
}

pub(super) fn unknown_type(span: Span, name: &str, help: Option<String>) -> Diagnostic {
    let help =
        help.unwrap_or_else(|| "types are bool, int, float, string or a declared enum".into());
    Diagnostic::new(Code::UnknownType, span, format!("unknown type `{name}`"))
        .label("not a type")
        .help(help)
}

// Types (E2xx). `found` and `expected` are types as users read them.

pub(super) fn type_mismatch(span: Span, expected: &str, found: &str, help: String) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        span,
        format!("type mismatch: expected {expected}, found {found}"),
    )
    .label(format!("this is {}", article(found)))
    .help(help)
}

pub(super) fn number_as_bool(span: Span, context: &str, found: &str) -> Diagnostic {
    Diagnostic::new(
        Code::NumberAsBool,
        span,
        format!("{context} expects a bool, found {}", article(found)),
    )
    .label(format!("this is {}", article(found)))
    .help("numbers are not truth values; compare explicitly, e.g. `x != 0`")
}

pub(super) fn cfg_unreadable(span: Span, path: &str, found: &str) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        span,
        format!("`cfg.{path}` is {found}, which rules cannot read"),
    )
    .label("not a bool, int, float or string")
    .help("read one of the keys under it")
}

pub(super) fn cannot_negate(span: Span, found: &str) -> Diagnostic {
    Diagnostic::new(Code::TypeMismatch, span, format!("cannot negate a {found}"))
        .label(format!("this is a {found}"))
        .help("`-` takes an int or a float")
}

/// An arithmetic operand that is not a number.
pub(super) fn needs_numbers(span: Span, symbol: &str, found: &str, op_span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        span,
        format!("`{symbol}` needs numbers, found {}", article(found)),
    )
    .label(format!("this is {}", article(found)))
    .note(op_span, "in this operation")
}

pub(super) fn bools_unordered(op_span: Span, symbol: &str) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        op_span,
        format!("bools cannot be ordered with `{symbol}`"),
    )
    .label("not an ordering of bools")
    .help("bools compare only with `==` and `!=`")
}

/// Two sides of a comparison, each a span and its type; `variant` is a
/// quoted string that names a variant of the other side's enum.
pub(super) fn incomparable(
    op_span: Span,
    (l_span, l_ty): (Span, &str),
    (r_span, r_ty): (Span, &str),
    variant: Option<String>,
) -> Diagnostic {
    let help = match variant {
        Some(v) => format!("variants are written bare, without quotes: `{v}`"),
        None => "both sides must have the same type (ints and floats mix)".to_string(),
    };
    Diagnostic::new(
        Code::TypeMismatch,
        op_span,
        format!("cannot compare {} with {}", article(l_ty), article(r_ty)),
    )
    .label("these types do not compare")
    .note(l_span, format!("this is {}", article(l_ty)))
    .note(r_span, format!("this is {}", article(r_ty)))
    .help(help)
}

pub(super) fn if_branches_differ(
    (then_span, then_ty): (Span, &str),
    (else_span, else_ty): (Span, &str),
) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        else_span,
        format!(
            "`if` branches differ: `then` gives {}, `else` gives {}",
            article(then_ty),
            article(else_ty)
        ),
    )
    .label(format!("this is {}", article(else_ty)))
    .note(then_span, format!("this is {}", article(then_ty)))
    .help("both branches must have the same type")
}

pub(super) fn wrong_arity(span: Span, f: Builtin, found: usize) -> Diagnostic {
    // Every form of the name (`round(x)`, `round(x, digits)`) counts.
    let counts: Vec<String> = f
        .forms()
        .map(|def| match def.max_args {
            Some(m) if m == def.min_args => format!("{m}"),
            Some(m) => format!("{} to {m}", def.min_args),
            None => format!("at least {}", def.min_args),
        })
        .collect();
    let want = counts.join(" or ");
    let s = if want == "1" || want.ends_with(" 1") {
        ""
    } else {
        "s"
    };
    let signatures: Vec<&str> = f.forms().map(|def| def.signature).collect();
    Diagnostic::new(
        Code::WrongArity,
        span,
        format!("`{}` takes {want} argument{s}, found {found}", f.name()),
    )
    .label(format!(
        "{found} argument{}",
        if found == 1 { "" } else { "s" }
    ))
    .help(format!("call it as {}", signatures.join(" or ")))
}

/// A numeric builtin given something else.
pub(super) fn takes_numbers(span: Span, f: Builtin, found: &str) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        span,
        format!("`{}` takes numbers, found {}", f.name(), article(found)),
    )
    .label(format!("this is {}", article(found)))
    .help(format!("call it as {}", f.signature()))
}

pub(super) fn invalid_regex(span: Span, err: PatternError) -> Diagnostic {
    let (message, label, help) = match err {
        PatternError::Syntax(detail) => (
            "invalid regular expression".to_string(),
            detail,
            "the syntax is the `regex` crate's (no look-around or backreferences)".to_string(),
        ),
        PatternError::TooLarge => (
            "regular expression too large".to_string(),
            format!(
                "compiled, it needs more than {} KiB",
                pattern::MAX_REGEX_BYTES >> 10
            ),
            "repeat less (`\\w{150}` is 150 copies of every Unicode letter and digit), or use ASCII classes such as (?-u:\\w) or [0-9]".to_string(),
        ),
        PatternError::TotalTooLarge { used } => (
            "the rules' regular expressions are too large together".to_string(),
            format!(
                "the ones before it take {} KiB of at most {} KiB",
                used >> 10,
                pattern::MAX_ALL_REGEX_BYTES >> 10
            ),
            "use fewer or smaller patterns; join alternatives into one pattern".to_string(),
        ),
    };
    Diagnostic::new(Code::InvalidRegex, span, message)
        .label(label)
        .help(help)
}

pub(super) fn pattern_not_literal(span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::PatternNotLiteral,
        span,
        "the pattern of `matches` must be a string literal",
    )
    .label("not a string literal")
    .help("write the regex inline, e.g. matches(model, \"^(H|A)100\"), so it is checked before any row is read")
}

/// A rule's `default` of another type than the rule; `example` is a
/// literal of the rule's type.
pub(super) fn default_type(span: Span, found: &str, want: &str, example: &str) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        span,
        format!(
            "the default is {}, but the rule is {}",
            article(found),
            article(want)
        ),
    )
    .label(format!("this is {}", article(found)))
    .help(format!(
        "write a literal of the rule's type, such as `{example}`"
    ))
}

pub(super) fn default_not_literal(span: Span) -> Diagnostic {
    Diagnostic::new(Code::TypeMismatch, span, "a default must be a literal")
        .label("not a literal")
        .help("write a literal such as `false`, `0` or an enum variant")
}

// Structure (E3xx).

pub(super) fn builtin_type_name(span: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateName,
        span,
        format!("`{name}` is a built-in type"),
    )
    .label("the name of a built-in type")
    .help("give the enum another name")
}

pub(super) fn shadows_field(span: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateName,
        span,
        format!("`{name}` is already a field of the row schema"),
    )
    .label("shadows a field")
    .help("give the rule or let another name")
}

pub(super) fn shadows_variant(span: Span, name: &str, owner: &str) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateName,
        span,
        format!("`{name}` is already a variant of enum `{owner}`"),
    )
    .label("same name as a variant")
    .help("give the rule or let another name")
}

/// `what` is "item" or "enum".
pub(super) fn duplicate(span: Span, name: &str, first: Span, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateName,
        span,
        format!("the {what} `{name}` is defined more than once"),
    )
    .label("defined again here")
    .note(first, "first defined here")
    .help("rename or remove one of them")
}

// Runtime, found early (E5xx).

/// Constant arithmetic that overflows: it would fail on every row.
pub(super) fn overflow(span: Span, float: bool) -> Diagnostic {
    Diagnostic::new(Code::Overflow, span, "this constant expression overflows")
        .label(if float {
            "float overflow"
        } else {
            "integer overflow"
        })
        .help("every row would fail here; use smaller numbers or floats")
}
