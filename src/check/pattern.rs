//! Regexes of `matches(s, "...")`: compiled once, when rules are checked,
//! within size limits, so a small rule file cannot take gigabytes.

use regex_automata::meta;
use regex_automata::util::syntax;

/// Most heap one compiled regex may take. Unicode `\w` alone takes 56 KiB
/// (it has hundreds of ranges), so `\w{30}` fits and `\w{150}` (8 MiB) does
/// not; real patterns take a few KiB.
pub const MAX_REGEX_BYTES: usize = 2 << 20;

/// Most heap all the regexes of one rule set may take together.
pub const MAX_ALL_REGEX_BYTES: usize = 32 << 20;

/// The lazy DFA's transition cache, per regex and per thread: smaller than
/// the regex crate's default (2 MiB), so many regexes stay cheap; a pattern
/// that needs more falls back to a slower search, never to more memory.
const DFA_CACHE_BYTES: usize = 256 << 10;

/// Why a pattern was refused: the label of its E204.
pub enum PatternError {
    /// Not a regex: the parser's own message.
    Syntax(String),
    /// Compiled, it would exceed [`MAX_REGEX_BYTES`].
    TooLarge,
    /// With the rule set's other regexes, it would exceed [`MAX_ALL_REGEX_BYTES`].
    TotalTooLarge { used: usize },
}

/// Compile `pattern` as a byte regex (the syntax and meaning of the `regex`
/// crate's `bytes::Regex`), charging its size to `used`.
pub fn compile(pattern: &str, used: &mut usize) -> Result<meta::Regex, PatternError> {
    let config = meta::Config::new()
        .match_kind(regex_automata::MatchKind::LeftmostFirst)
        .utf8_empty(false)
        .nfa_size_limit(Some(MAX_REGEX_BYTES))
        .onepass_size_limit(Some(MAX_REGEX_BYTES))
        .dfa_size_limit(Some(MAX_REGEX_BYTES))
        .hybrid_cache_capacity(DFA_CACHE_BYTES);
    let re = meta::Builder::new()
        .configure(config)
        .syntax(syntax::Config::new().utf8(false))
        .build(pattern)
        .map_err(|e| match (e.size_limit(), e.syntax_error()) {
            (Some(_), _) => PatternError::TooLarge,
            (None, Some(s)) => PatternError::Syntax(last_line(&s.to_string())),
            (None, None) => PatternError::Syntax(last_line(&e.to_string())),
        })?;
    let size = re.memory_usage();
    if size > MAX_REGEX_BYTES {
        return Err(PatternError::TooLarge);
    }
    if *used + size > MAX_ALL_REGEX_BYTES {
        return Err(PatternError::TotalTooLarge { used: *used });
    }
    *used += size;
    Ok(re)
}

/// The regex parser's message is a drawing of the pattern and a caret; its
/// last line says what is wrong.
fn last_line(detail: &str) -> String {
    let last = detail.lines().last().unwrap_or("").trim();
    last.strip_prefix("error: ").unwrap_or(last).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_as_the_regex_crate_does() {
        let mut used = 0;
        let re = compile("^(H|A)100", &mut used).ok().expect("compiles");
        assert!(re.is_match(b"H100 PCIe".as_slice()));
        assert!(!re.is_match(b"RTX 4090".as_slice()));
        // Byte regexes match text that is not UTF-8, as regex::bytes does.
        let any = compile("a(?-u:.)b", &mut used).ok().expect("compiles");
        assert!(any.is_match(b"a\xffb".as_slice()));
        assert!(used > 0);
    }

    /// Regression: 40 rules of `\w{150}` took 431 MB and 3 s to lint.
    #[test]
    fn a_huge_pattern_is_refused() {
        let mut used = 0;
        assert!(matches!(
            compile(r"\w{150}", &mut used),
            Err(PatternError::TooLarge)
        ));
        assert_eq!(used, 0);
        let mut used = 0;
        let mut refused = 0;
        for i in 0..400 {
            match compile(&format!(r"\d{{100}}x{i}"), &mut used) {
                Ok(_) => {}
                Err(PatternError::TotalTooLarge { .. }) => refused += 1,
                Err(_) => panic!("only the total may be too large"),
            }
        }
        assert!(used <= MAX_ALL_REGEX_BYTES);
        assert!(refused > 0, "the total limit was reached");
    }
}
