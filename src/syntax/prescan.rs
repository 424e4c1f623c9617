//! Cheap passes over raw rule text that run before pest: splitting a file
//! into items (so one syntax error does not hide the rest) and bounding
//! nesting (so deep input yields a diagnostic instead of a stack overflow).

/// Most parentheses, brackets and open `if`s one expression may nest. pest
/// parses nesting by recursion; at this depth it stays well inside a 2 MiB
/// thread stack even in an unoptimised build (75 levels of `if` fit there).
pub const MAX_NESTING: usize = 64;

/// Largest item (a rule, let or enum with its doc comment) the parser
/// reads. Parsing takes about 120 bytes of memory per byte of an item, so
/// this bounds it near 30 MiB; real items are a few hundred bytes, and an
/// `in` list of 10,000 model names fits.
pub const MAX_ITEM_BYTES: usize = 256 << 10;

/// Byte ranges of the items in `text`: a new item starts at a line that
/// begins (in column 1) with `rule`, `let`, `enum` or `field`, together with the `##`
/// doc lines right above it. Strings cannot span lines and those keywords
/// cannot occur inside an expression, so the split never cuts an item.
pub fn item_chunks(text: &str) -> Vec<(usize, usize)> {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
        .filter(|&s| s < text.len())
        .collect();
    let mut starts = vec![0];
    for (i, &ls) in line_starts.iter().enumerate().skip(1) {
        if !starts_item(&text[ls..]) {
            continue;
        }
        let mut j = i;
        while j > 0
            && text[line_starts[j - 1]..]
                .trim_start_matches([' ', '\t'])
                .starts_with("##")
        {
            j -= 1;
        }
        let start = line_starts[j];
        if start > *starts.last().unwrap_or(&0) {
            starts.push(start);
        }
    }
    let mut chunks: Vec<(usize, usize)> = starts.windows(2).map(|w| (w[0], w[1])).collect();
    chunks.push((*starts.last().unwrap_or(&0), text.len()));
    chunks
}

/// The words that begin an item in column 1.
pub const ITEM_KEYWORDS: [&str; 5] = ["rule", "let", "enum", "field", "test"];

pub(crate) fn starts_item(line: &str) -> bool {
    ITEM_KEYWORDS.iter().any(|kw| {
        line.strip_prefix(kw)
            .is_some_and(|rest| rest.starts_with([' ', '\t']))
    })
}

/// The names an item chunk declares, read loosely (used when it fails to
/// parse): the item's name and, for an enum, the words between its braces,
/// so that uses of its variants raise no follow-on errors.
pub fn declared_names(chunk: &str) -> Vec<String> {
    let word = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let Some((kw, rest)) = chunk.lines().find_map(|line| {
        ITEM_KEYWORDS.iter().find_map(|kw| {
            line.strip_prefix(kw)
                .filter(|r| r.starts_with([' ', '\t']))
                .map(|r| (*kw, r))
        })
    }) else {
        return Vec::new();
    };
    let name = word(rest.trim_start());
    let mut names: Vec<String> = Vec::new();
    if !name.is_empty() {
        names.push(name);
    }
    if kw == "enum"
        && let Some(open) = chunk.find('{')
    {
        let body = &chunk[open + 1..];
        let body = &body[..body.find('}').unwrap_or(body.len())];
        names.extend(
            body.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| !w.is_empty())
                .map(String::from),
        );
    }
    names
}

/// The byte offset where nesting first exceeds [`MAX_NESTING`], if it does.
/// Counts `(` and `[` and each `if` not yet closed by its `else`, skipping
/// strings and comments.
pub fn nesting_overflow(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut brackets, mut ifs) = (0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'#' => {
                i = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' => brackets += 1,
            b')' | b']' => brackets = brackets.saturating_sub(1),
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                match &bytes[start..i] {
                    b"if" => ifs += 1,
                    b"else" => ifs = ifs.saturating_sub(1),
                    _ => {}
                }
                if brackets + ifs > MAX_NESTING {
                    return Some(start);
                }
                continue;
            }
            _ => {}
        }
        if brackets + ifs > MAX_NESTING {
            return Some(i);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_start_at_items_and_keep_their_docs() {
        let text = "# c\nrule a: int = 1\n## doc\nlet b = 2\n  rule c: int = 3\nenum E { x }\n";
        let chunks = item_chunks(text);
        let parts: Vec<&str> = chunks.iter().map(|&(s, e)| &text[s..e]).collect();
        assert_eq!(
            parts,
            [
                "# c\n",
                "rule a: int = 1\n",
                "## doc\nlet b = 2\n  rule c: int = 3\n",
                "enum E { x }\n"
            ]
        );
    }

    #[test]
    fn nesting_counts_brackets_and_open_ifs_but_not_strings() {
        assert_eq!(nesting_overflow(&"(".repeat(MAX_NESTING)), None);
        assert_eq!(
            nesting_overflow(&"(".repeat(MAX_NESTING + 1)),
            Some(MAX_NESTING)
        );
        let quoted = format!("\"{}\"", "(".repeat(500));
        assert_eq!(nesting_overflow(&quoted), None);
        let chain = "if a then b else ".repeat(500);
        assert_eq!(nesting_overflow(&chain), None);
        assert!(nesting_overflow(&"if a then ".repeat(MAX_NESTING + 1)).is_some());
    }

    #[test]
    fn declared_names_read_the_item_name_and_enum_words() {
        assert_eq!(declared_names("## d\nrule foo: int = ("), ["foo"]);
        assert!(declared_names("garbage").is_empty());
        assert_eq!(
            declared_names("enum P { low mid, high }"),
            ["P", "low", "mid", "high"]
        );
    }
}
