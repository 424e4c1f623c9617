//! Source files and spans: one `Span` type that every stage carries.

use std::borrow::Cow;
use std::sync::Arc;

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.end == self.start
    }
}

/// Lone carriage returns (old Mac line ends) become line feeds, byte for
/// byte, so every offset stays put while the parser, the line index and the
/// renderer all see the same lines. CRLF is left alone.
pub(crate) fn normalize_line_ends(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let lone = |i: usize| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n');
    if !memchr::memchr_iter(b'\r', bytes).any(lone) {
        return Cow::Borrowed(text);
    }
    let mut out = bytes.to_vec();
    for i in memchr::memchr_iter(b'\r', bytes) {
        if lone(i) {
            out[i] = b'\n';
        }
    }
    // Only an ASCII byte was replaced by another: still UTF-8.
    Cow::Owned(
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

/// Where a label on the start of `text` ends: its first line, at most
/// `max` bytes of it, cut on a character boundary.
pub(crate) fn head_len(text: &str, max: usize) -> usize {
    let line = text.find('\n').unwrap_or(text.len()).min(max);
    (0..=line)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}

/// Bytes between char-count checkpoints (see [`SourceFile::line_col`]).
const CHECKPOINT: usize = 4096;

/// One source text (a `.rule` file, a config or schema YAML) with its line index.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
    line_starts: Arc<[usize]>,
    /// Characters before each multiple of [`CHECKPOINT`] bytes; empty when
    /// the text is ASCII (a column is then a byte distance).
    char_checkpoints: Arc<[usize]>,
    /// The text as reports draw it, when it differs: control and bidi
    /// characters replaced (see [`defang`]).
    shown: Option<Arc<str>>,
}

impl SourceFile {
    /// A source file; lone CRs in `text` become LFs.
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> SourceFile {
        let mut text: Arc<str> = text.into();
        if let Cow::Owned(fixed) = normalize_line_ends(&text) {
            text = fixed.into();
        }
        let line_starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
            .collect();
        let char_checkpoints = if text.is_ascii() {
            Arc::from([])
        } else {
            let mut seen = 0;
            text.as_bytes()
                .chunks(CHECKPOINT)
                .map(|chunk| {
                    let before = seen;
                    seen += count_chars(chunk);
                    before
                })
                .collect()
        };
        SourceFile {
            name: name.into(),
            shown: defang(&text).map(Arc::from),
            text,
            line_starts,
            char_checkpoints,
        }
    }

    /// Characters in `text[..offset]`, in time bounded by [`CHECKPOINT`].
    fn chars_before(&self, offset: usize) -> usize {
        if self.char_checkpoints.is_empty() {
            return offset;
        }
        let k = offset / CHECKPOINT;
        let base = self.char_checkpoints.get(k).copied().unwrap_or(0);
        base + count_chars(&self.text.as_bytes()[k * CHECKPOINT..offset])
    }

    /// The 0-based line an offset is on.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset) - 1
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        let col = self.chars_before(offset) - self.chars_before(start);
        (line + 1, col + 1)
    }

    /// The byte length of the longest line among those `span` touches,
    /// with `around` lines of context on each side.
    pub fn widest_line(&self, span: Span, around: usize) -> usize {
        let first = self.line_of(span.start as usize).saturating_sub(around);
        let last = (self.line_of(span.end as usize) + around).min(self.line_starts.len() - 1);
        (first..=last)
            .map(|l| self.line_end(l) - self.line_starts[l])
            .max()
            .unwrap_or(0)
    }

    /// Where line `l` (0-based) ends, its line feed included.
    fn line_end(&self, l: usize) -> usize {
        self.line_starts
            .get(l + 1)
            .copied()
            .unwrap_or(self.text.len())
    }

    pub fn slice(&self, span: Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    /// This file as miette source code that reads only the lines around a
    /// span, so rendering N diagnostics costs O(N), not O(N × file size).
    pub(crate) fn windowed(&self) -> Windowed {
        Windowed { file: self.clone() }
    }
}

/// Whether printing `c` could act on a terminal rather than show a glyph:
/// C0 and C1 controls but tab and line ends, DEL, and the bidirectional
/// formatting characters (which reorder what follows them).
pub(crate) fn acts_on_terminal(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every character that could act on a terminal (C0 and C1
/// controls but tab and line ends, DEL, bidirectional formatting) replaced by
/// a visible one of the same byte length: `?`, `¿` or U+FFFD. Offsets and
/// columns stay put; `None` when there is nothing to replace.
pub(crate) fn defang(text: &str) -> Option<String> {
    let risky = acts_on_terminal;
    if !text.chars().any(risky) {
        return None;
    }
    Some(
        text.chars()
            .map(|c| match c {
                c if !risky(c) => c,
                c if c.len_utf8() == 1 => '?',
                c if c.len_utf8() == 2 => '¿',
                _ => '\u{FFFD}',
            })
            .collect(),
    )
}

/// UTF-8 characters in `bytes`: every byte that does not continue a character.
fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b as i8) >= -0x40).count()
}

/// A [`SourceFile`] as miette's `SourceCode`: each request is answered from
/// a window of lines around the span, with miette's own line logic, then
/// moved back to file offsets and line numbers.
#[derive(Debug, Clone)]
pub(crate) struct Windowed {
    file: SourceFile,
}

impl miette::SourceCode for Windowed {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let f = &self.file;
        let start = span.offset().min(f.text.len());
        let end = (start + span.len()).min(f.text.len());
        // One line more on each side than asked: miette trims the excess, so
        // the answer equals what it computes over the whole text.
        let first = f.line_of(start).saturating_sub(context_lines_before + 1);
        let last = (f.line_of(end) + context_lines_after + 1).min(f.line_starts.len() - 1);
        let (from, to) = (f.line_starts[first], f.line_end(last));
        let shown = f.shown.as_deref().unwrap_or(&f.text);
        let window = &shown.as_bytes()[from..to];
        let inner = miette::SourceSpan::from((start - from, end - start));
        let got = <[u8] as miette::SourceCode>::read_span(
            window,
            &inner,
            context_lines_before,
            context_lines_after,
        )?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            defang(&f.name).unwrap_or_else(|| f.name.clone()),
            got.data(),
            (got.span().offset() + from, got.span().len()).into(),
            got.line() + first,
            got.column(),
            got.line_count() + first,
        )))
    }
}

/// Every source text a run has read, addressed by [`FileId`].
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    pub fn add(&mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> FileId {
        self.files.push(SourceFile::new(name, text));
        FileId(self.files.len() as u32 - 1)
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// The first source of this name, if any.
    pub fn find(&self, name: &str) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| f.name == name)
            .map(|i| FileId(i as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_from_one() {
        let f = SourceFile::new("a.rule", "ab\nçd x\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        // 'ç' is two bytes but one column
        assert_eq!(f.line_col(6), (2, 3));
        assert_eq!(f.line_col(100), (3, 1));
    }

    #[test]
    fn columns_on_long_non_ascii_lines_cross_checkpoints() {
        let text = format!("{}x", "é".repeat(3 * CHECKPOINT));
        let f = SourceFile::new("long.rule", text.as_str());
        let x = text.len() - 1;
        assert_eq!(f.line_col(x), (1, 3 * CHECKPOINT + 1));
        assert_eq!(f.line_col(2 * CHECKPOINT), (1, CHECKPOINT + 1));
    }

    /// Regression: a CR-only file had one line for the parser and the JSON
    /// positions, but many for miette, so the two outputs disagreed.
    #[test]
    fn cr_only_line_ends_count_as_lines_everywhere() {
        let f = SourceFile::new("mac.rule", "rule a: int = 1\rrule b: int = x\r");
        assert_eq!(&*f.text, "rule a: int = 1\nrule b: int = x\n");
        assert_eq!(f.line_col(30), (2, 15));
        let crlf = SourceFile::new("dos.rule", "a\r\nb");
        assert_eq!(&*crlf.text, "a\r\nb");
    }

    /// Regression: an escape sequence in a rule file reached the terminal
    /// raw through the drawn source line.
    #[test]
    fn control_characters_are_not_drawn_raw() {
        let text = "rule r: string = \"\u{1b}[31m\u{9b}\u{202e}\"\n";
        let shown = defang(text).expect("something to replace");
        assert_eq!(shown.len(), text.len());
        assert_eq!(shown, "rule r: string = \"?[31m¿\u{FFFD}\"\n");
        assert_eq!(defang("plain\ttext\r\n"), None);
    }

    #[test]
    fn windowed_source_reads_like_the_whole_text() {
        use miette::SourceCode;
        let text = "l1\nl2 é\nl3 abc\nl4\r\nl5\nl6\n";
        let f = SourceFile::new("w.rule", text);
        let w = f.windowed();
        for start in 0..text.len() {
            for len in [0, 1, 3] {
                if start + len > text.len() {
                    continue;
                }
                for (b, a) in [(0, 0), (1, 1), (2, 0)] {
                    let span = miette::SourceSpan::from((start, len));
                    let (Ok(x), Ok(y)) = (w.read_span(&span, b, a), text.read_span(&span, b, a))
                    else {
                        continue;
                    };
                    assert_eq!(x.data(), y.data(), "{start} {len} {b} {a}");
                    assert_eq!(x.span(), y.span());
                    assert_eq!((x.line(), x.column()), (y.line(), y.column()));
                    assert_eq!(x.line_count(), y.line_count());
                }
            }
        }
    }
}
