//! `matches` patterns (Rust regex syntax) rewritten for each engine's regex
//! flavour: RE2 (DuckDB), java.util.regex (Spark), POSIX ARE (PostgreSQL).
//! Only a subset whose meaning is the same in all four is accepted; the
//! rest is refused with the construct named, so a pattern never matches
//! differently in the engine than in `eval`.

use super::Dialect;

/// The pattern for `dialect`, or what cannot be translated exactly.
pub fn translate(pattern: &str, dialect: Dialect) -> Result<String, String> {
    let mut out = String::with_capacity(pattern.len() + 8);
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let Some(&e) = chars.get(i + 1) else {
                    return Err("a trailing `\\`".into());
                };
                i += 2;
                out.push_str(&escape(e)?);
                continue;
            }
            '[' => {
                i = class(&chars, i, &mut out)?;
                continue;
            }
            // Rust's `.` is any character but `\n`; POSIX's matches `\n` too
            // and Java's excludes `\r`, U+0085, U+2028 and U+2029 as well.
            '.' => match dialect {
                Dialect::DuckDb => out.push('.'),
                Dialect::Spark | Dialect::Postgres => out.push_str("[^\\n]"),
            },
            // Without the `m` flag `$` is the end of the text in Rust, RE2
            // and ARE; Java's `$` also matches before a final line break.
            '$' => match dialect {
                Dialect::Spark => out.push_str("\\z"),
                _ => out.push('$'),
            },
            '(' => {
                if chars.get(i + 1) == Some(&'?') {
                    if chars.get(i + 2) == Some(&':') {
                        out.push_str("(?:");
                        i += 3;
                        continue;
                    }
                    return Err("a group with flags or a name `(?...)`".into());
                }
                out.push('(');
            }
            '{' => {
                // A repetition: `{n}`, `{n,}`, `{n,m}`, digits only.
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == '}')
                    .map(|p| i + p)
                    .ok_or("a `{` that is not a repetition")?;
                let body: String = chars[i + 1..end].iter().collect();
                let ok = !body.is_empty()
                    && body.chars().all(|c| c.is_ascii_digit() || c == ',')
                    && body.matches(',').count() <= 1
                    && !body.starts_with(',');
                if !ok {
                    return Err(format!("the repetition `{{{body}}}`"));
                }
                out.push('{');
                out.push_str(&body);
                out.push('}');
                i = end + 1;
                continue;
            }
            // `]` and `}` are literal everywhere without the `x` flag, and
            // escaped for ARE.
            '}' | ']' => {
                out.push('\\');
                out.push(c);
            }
            // The operators `*+?|)^`, letters, non-ASCII, and the other
            // ASCII punctuation (`#&~-`, space, `,`, `:`, `"`, `'`, `/`,
            // ...) are themselves in all four.
            c => out.push(c),
        }
        i += 1;
    }
    Ok(out)
}

/// An escape outside a class: punctuation is itself, `\n` and `\t` are
/// the characters; the Unicode classes (`\d`, `\w`, `\s`) and word
/// boundaries mean different things in each flavour.
fn escape(e: char) -> Result<String, String> {
    match e {
        'n' => Ok("\\n".into()),
        't' => Ok("\\t".into()),
        e if e.is_ascii_punctuation() => Ok(format!("\\{e}")),
        e => Err(format!(
            "the escape `\\{e}` (Unicode classes, boundaries and code escapes differ between regex flavours; write a class such as [0-9])"
        )),
    }
}

/// A class `[...]` from `start` (the `[`): literal characters, ranges and
/// escaped punctuation only, no nesting or set operations; returns the
/// index after the `]`.
fn class(chars: &[char], start: usize, out: &mut String) -> Result<usize, String> {
    let mut i = start + 1;
    out.push('[');
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    let mut first = true;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err("an unclosed `[`".into());
        };
        match c {
            ']' if !first => {
                out.push(']');
                return Ok(i + 1);
            }
            '[' => return Err("a nested class or `[:name:]` inside `[...]`".into()),
            '&' | '~' | '-' if chars.get(i + 1) == Some(&c) => {
                return Err(format!("the class operation `{c}{c}`"));
            }
            '\\' => {
                let Some(&e) = chars.get(i + 1) else {
                    return Err("a trailing `\\`".into());
                };
                match e {
                    // `\n` and `\t` stay escapes; `]`, `\`, `^` and `-` are
                    // escaped so that every flavour reads them as themselves.
                    e if e == 'n' || e == 't' || e.is_ascii_punctuation() => {
                        out.push('\\');
                        out.push(e);
                    }
                    e => return Err(format!("the escape `\\{e}` inside `[...]`")),
                }
                i += 2;
                first = false;
                continue;
            }
            ']' => return Err("`]` first in a class".into()),
            c => out.push(c),
        }
        first = false;
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_and_dollar_mean_rusts_in_every_flavour() {
        assert_eq!(translate("^a.b$", Dialect::DuckDb).unwrap(), "^a.b$");
        assert_eq!(translate("^a.b$", Dialect::Spark).unwrap(), "^a[^\\n]b\\z");
        assert_eq!(translate("^a.b$", Dialect::Postgres).unwrap(), "^a[^\\n]b$");
        assert_eq!(
            translate("H100|A100 ?[0-9]{2,}(?:GB)", Dialect::Postgres).unwrap(),
            "H100|A100 ?[0-9]{2,}(?:GB)"
        );
    }

    #[test]
    fn unicode_classes_are_refused_naming_the_construct() {
        for p in [r"\d+", r"\bH", r"(?i)h100", "[[:alpha:]]", "[a&&b]"] {
            assert!(translate(p, Dialect::DuckDb).is_err(), "{p}");
        }
    }
}
