//! Differential property tests of the streaming CSV input and output against
//! the `csv` crate: `BatchReader` splits any input, at any batch size, into
//! the same records and fields as `csv`, keeps each record's raw bytes and
//! line number; and `glyphsieve tag-quantization -` copies every input record
//! through byte for byte and appends the value an oracle of the built-in rule
//! computes.

use crate::support::glyphsieve;
use glyphsieve::data::reader::{Batch, BatchReader, ReadError};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::Config as ProptestConfig;
use std::io::{self, Read};

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: n,
        // Never write regression files into the tree; a failure prints its input.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

const BOM: &[u8] = b"\xef\xbb\xbf";

// ---------------------------------------------------------------------------
// A model of a CSV document: what it holds and how it is written.
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Term {
    Lf,
    Crlf,
}

impl Term {
    fn bytes(self) -> &'static [u8] {
        match self {
            Term::Lf => b"\n",
            Term::Crlf => b"\r\n",
        }
    }
}

#[derive(Debug, Clone)]
struct Field {
    text: Vec<u8>,
    /// Quote it even when its text does not need quotes.
    quoted: bool,
}

impl Field {
    fn needs_quotes(&self) -> bool {
        self.text
            .iter()
            .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
    }

    fn write(&self, out: &mut Vec<u8>) {
        if self.quoted || self.needs_quotes() {
            out.push(b'"');
            for &b in &self.text {
                if b == b'"' {
                    out.push(b'"');
                }
                out.push(b);
            }
            out.push(b'"');
        } else {
            out.extend_from_slice(&self.text);
        }
    }
}

#[derive(Debug, Clone)]
struct Rec {
    /// Blank lines written before the record.
    blanks: Vec<Term>,
    fields: Vec<Field>,
    term: Term,
}

#[derive(Debug, Clone)]
struct Doc {
    bom: bool,
    records: Vec<Rec>,
    /// Whether the last record has its terminator.
    final_term: bool,
    /// Blank lines after the last record (only written after a terminator).
    trailing: Vec<Term>,
}

/// A rendered document and where each record lies in it.
struct Rendered {
    bytes: Vec<u8>,
    /// Each record's span, from its first byte (the BOM for the first record)
    /// to the end of its text, without its terminator.
    spans: Vec<(usize, usize)>,
    /// Each record's terminator as written (empty for an unterminated last one).
    terms: Vec<&'static [u8]>,
    /// Where each blank line starts, and its bytes: those before each
    /// record, then those after the last.
    blanks: Vec<Vec<(usize, &'static [u8])>>,
}

impl Doc {
    fn render(&self) -> Rendered {
        let mut bytes = Vec::new();
        let mut spans = Vec::new();
        let mut terms = Vec::new();
        let mut blanks = Vec::new();
        if self.bom {
            bytes.extend_from_slice(BOM);
        }
        let n = self.records.len();
        for (k, r) in self.records.iter().enumerate() {
            let mut at = Vec::new();
            for b in &r.blanks {
                at.push((bytes.len(), b.bytes()));
                bytes.extend_from_slice(b.bytes());
            }
            blanks.push(at);
            // A file's BOM is not part of record 0's raw text (`Batch::bom`).
            let start = bytes.len();
            for (c, f) in r.fields.iter().enumerate() {
                if c > 0 {
                    bytes.push(b',');
                }
                f.write(&mut bytes);
            }
            spans.push((start, bytes.len()));
            let term: &'static [u8] = if k + 1 < n || self.final_term {
                r.term.bytes()
            } else {
                b""
            };
            bytes.extend_from_slice(term);
            terms.push(term);
        }
        let mut at = Vec::new();
        if self.final_term || n == 0 {
            for b in &self.trailing {
                at.push((bytes.len(), b.bytes()));
                bytes.extend_from_slice(b.bytes());
            }
        }
        blanks.push(at);
        Rendered {
            bytes,
            spans,
            terms,
            blanks,
        }
    }
}

// ---------------------------------------------------------------------------
// Strategies.
// ---------------------------------------------------------------------------

/// Pieces of field text: plain text, separators, quotes, line breaks,
/// non-ASCII UTF-8 and invalid UTF-8; `BOM_PIECE` is added where a field may
/// start with a BOM.
const PIECES: &[&[u8]] = &[
    b"abc",
    b"x y",
    b"42",
    b" ",
    b"\t",
    b",",
    b"\"",
    b"\"\"",
    b"\r",
    b"\n",
    b"\r\n",
    "\u{e9}t\u{e9}".as_bytes(),
    "\u{65e5}\u{672c}".as_bytes(),
    "\u{1f680}".as_bytes(),
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\x80\x80",
];

fn term() -> impl Strategy<Value = Term> {
    prop_oneof![3 => Just(Term::Lf), 2 => Just(Term::Crlf)]
}

const BOM_PIECE: &[u8] = "\u{feff}".as_bytes();

/// Field text; with `bom`, pieces include a BOM (U+FEFF), which triggers
/// `bom_at_a_later_batch_start_is_field_text`.
fn text(bom: bool) -> impl Strategy<Value = Vec<u8>> {
    let mut pieces = PIECES.to_vec();
    if bom {
        pieces.push(BOM_PIECE);
    }
    prop_oneof![
        1 => Just(Vec::new()),
        4 => prop::collection::vec(select(pieces), 1..4).prop_map(|ps| ps.concat()),
    ]
}

fn field(bom: bool) -> impl Strategy<Value = Field> {
    (text(bom), prop::bool::weighted(0.3)).prop_map(|(text, quoted)| Field { text, quoted })
}

fn blanks() -> impl Strategy<Value = Vec<Term>> {
    prop_oneof![
        6 => Just(Vec::new()),
        1 => prop::collection::vec(term(), 1..3),
    ]
}

/// A record: usually a few fields, sometimes more than csv_core's 64 field
/// ends per call.
fn rec(bom: bool) -> impl Strategy<Value = Rec> {
    let fields = prop_oneof![
        12 => prop::collection::vec(field(bom), 1..6),
        1 => prop::collection::vec(field(bom), 60..72),
    ];
    (blanks(), fields, term()).prop_map(|(blanks, mut fields, term)| {
        // A record of one empty unquoted field would be a blank line.
        if fields.len() == 1 && fields[0].text.is_empty() {
            fields[0].quoted = true;
        }
        Rec {
            blanks,
            fields,
            term,
        }
    })
}

/// A document; `bom` as for `text`.
fn doc(bom: bool) -> impl Strategy<Value = Doc> {
    (
        prop::bool::weighted(0.2),
        prop::collection::vec(rec(bom), 0..12),
        any::<bool>(),
        blanks(),
    )
        .prop_map(|(bom, mut records, final_term, trailing)| {
            // A BOM followed by blank lines: see `bom_then_blank_line` below.
            if bom && let Some(first) = records.first_mut() {
                first.blanks.clear();
            }
            Doc {
                bom,
                records,
                final_term,
                trailing,
            }
        })
}

fn batch_size() -> impl Strategy<Value = usize> {
    prop_oneof![4 => 1usize..64, 1 => Just(256usize << 10)]
}

/// Reads at most `chunk` bytes per call, as a pipe or socket may.
struct Chunked<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.chunk).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

// ---------------------------------------------------------------------------
// Both readers, as plain data.
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
struct Got {
    fields: Vec<Vec<u8>>,
    raw: Vec<u8>,
    term: Vec<u8>,
    line: u64,
}

fn batch_records(input: &[u8], batch_bytes: usize, chunk: usize) -> Vec<Got> {
    let src = Chunked { data: input, chunk };
    let mut reader = BatchReader::with_batch_bytes(src, batch_bytes);
    let mut batch = Batch::default();
    let mut out = Vec::new();
    while reader
        .next_batch(&mut batch)
        .expect("reading a slice cannot fail")
    {
        assert!(
            !batch.is_empty(),
            "next_batch returned true with no records"
        );
        for i in 0..batch.len() {
            out.push(Got {
                fields: batch.record(i).iter().map(<[u8]>::to_vec).collect(),
                raw: batch.raw_record(i).to_vec(),
                term: batch.terminator(i).to_vec(),
                line: batch.line(i),
            });
        }
    }
    // At the end the reader stays at the end.
    assert!(!reader.next_batch(&mut batch).unwrap());
    out
}

/// A record as the `csv` crate reads it, with where its read began and ended.
#[derive(Debug)]
struct CsvRec {
    fields: Vec<Vec<u8>>,
    /// `ByteRecord::position()`: where the reader stood when the read began.
    pos_byte: usize,
    pos_line: u64,
    /// The reader's byte offset after the record.
    end: usize,
}

fn csv_records(input: &[u8]) -> Vec<CsvRec> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut rec = csv::ByteRecord::new();
    let mut out = Vec::new();
    while r.read_byte_record(&mut rec).expect("csv reads any bytes") {
        let pos = rec.position().expect("records have positions");
        out.push(CsvRec {
            fields: rec.iter().map(<[u8]>::to_vec).collect(),
            pos_byte: pos.byte() as usize,
            pos_line: pos.line(),
            end: r.position().byte() as usize,
        });
    }
    out
}

/// Each record's raw text, located with the `csv` crate's positions: from
/// where its read began, past blank lines (and the LF of a previous CRLF), to
/// where it ended, without its terminator.
fn csv_raw_records(input: &[u8]) -> Vec<&[u8]> {
    csv_records(input)
        .iter()
        .map(|r| {
            let span = &input[r.pos_byte..r.end];
            let lead = span
                .iter()
                .take_while(|&&b| b == b'\n' || b == b'\r')
                .count();
            let span = &span[lead..];
            let span = span.strip_suffix(b"\n").unwrap_or(span);
            span.strip_suffix(b"\r").unwrap_or(span)
        })
        .collect()
}

fn newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Escape bytes for failure messages.
fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// Whether the document's header has one column: its blank lines after the
/// header are then records of one empty field, which csv skips.
fn one_column(doc: &Doc) -> bool {
    doc.records.first().is_some_and(|r| r.fields.len() == 1)
}

/// The records a one-column document holds, from the model alone: its
/// records, and a record of one empty field (raw text empty, the blank line
/// as terminator) for each blank line after the header.
fn one_column_records(doc: &Doc) -> Vec<Got> {
    let r = doc.render();
    let line_at = |at: usize| 1 + newlines(&r.bytes[..at]);
    let blank = |(at, bytes): (usize, &'static [u8])| Got {
        fields: vec![Vec::new()],
        raw: Vec::new(),
        term: bytes.to_vec(),
        line: line_at(at),
    };
    let mut out = Vec::new();
    for (k, rec) in doc.records.iter().enumerate() {
        if k > 0 {
            out.extend(r.blanks[k].iter().copied().map(blank));
        }
        let (start, end) = r.spans[k];
        out.push(Got {
            fields: rec.fields.iter().map(|f| f.text.clone()).collect(),
            raw: r.bytes[start..end].to_vec(),
            term: r.terms[k].to_vec(),
            line: line_at(start),
        });
    }
    if !doc.records.is_empty() {
        out.extend(r.blanks[doc.records.len()].iter().copied().map(blank));
    }
    out
}

/// Compare `BatchReader` with `csv` and with the document model; with
/// `terminators`, also check that raw records and their terminators put back
/// together give the input without its blank lines (see
/// `crlf_split_across_batches_keeps_its_terminator`).
fn check_reader(
    doc: &Doc,
    batch_bytes: usize,
    chunk: usize,
    terminators: bool,
) -> Result<(), TestCaseError> {
    let r = doc.render();
    let input = &r.bytes[..];
    // A field that starts the file with U+FEFF cannot be told from a BOM:
    // every reader takes it for one.
    prop_assume!(doc.bom || !input.starts_with(BOM));
    if one_column(doc) {
        // csv skips blank lines even then: the model is the oracle.
        let got = batch_records(input, batch_bytes, chunk);
        let want = one_column_records(doc);
        prop_assert_eq!(got, want, "one-column input {}", show(input));
        return Ok(());
    }
    let want = csv_records(input);
    // The model and csv agree on the records (a check of the generator).
    prop_assert_eq!(want.len(), doc.records.len(), "input {}", show(input));

    let got = batch_records(input, batch_bytes, chunk);
    let got_fields: Vec<&Vec<Vec<u8>>> = got.iter().map(|g| &g.fields).collect();
    let want_fields: Vec<&Vec<Vec<u8>>> = want.iter().map(|w| &w.fields).collect();
    prop_assert_eq!(
        got_fields,
        want_fields,
        "fields differ from csv; input {}",
        show(input)
    );

    // Raw records and terminators put back together give the input without
    // its blank lines.
    if terminators {
        let mut joined = Vec::new();
        for g in &got {
            joined.extend_from_slice(&g.raw);
            joined.extend_from_slice(&g.term);
        }
        let mut expected = Vec::new();
        for (&(s, e), t) in r.spans.iter().zip(&r.terms) {
            expected.extend_from_slice(&input[s..e]);
            expected.extend_from_slice(t);
        }
        prop_assert_eq!(
            show(&joined),
            show(&expected),
            "raw records + terminators; input {}",
            show(input)
        );
    }

    for (k, ((g, w), &(start, end))) in got.iter().zip(&want).zip(&r.spans).enumerate() {
        prop_assert_eq!(&g.raw[..], &input[start..end], "raw record {}", k);
        // The line a record starts on: 1 + the newlines before its first byte.
        let line = 1 + newlines(&input[..start]);
        prop_assert_eq!(g.line, line, "line of record {}; input {}", k, show(input));
        // csv's position is where its read began: before the blank lines
        // and the LF of a CRLF that precede the record. Only line breaks lie
        // between the two, and its line misses exactly their LFs.
        prop_assert!(w.pos_byte <= start, "record {}", k);
        let mut between = &input[w.pos_byte..start];
        if k == 0 && doc.bom {
            // csv's first position is before the file's BOM.
            prop_assert!(between.starts_with(BOM), "record 0 after the BOM");
            between = &between[BOM.len()..];
        }
        prop_assert!(
            between.iter().all(|&b| b == b'\r' || b == b'\n'),
            "record {k}: {} between csv's position and the record",
            show(between)
        );
        prop_assert_eq!(g.line, w.pos_line + newlines(between), "record {}", k);
    }
    Ok(())
}

fn read_size() -> impl Strategy<Value = usize> {
    prop_oneof![1usize..8, Just(usize::MAX)]
}

proptest! {
    #![proptest_config(cases(512))]

    /// Any input, any batch size, any read size: the same records and fields
    /// as the csv crate, raw bytes and line numbers as written. (Fields never
    /// start with a BOM here and terminators are not checked: the ignored
    /// property below checks those too.)
    #[test]
    fn batch_reader_matches_csv(
        doc in doc(false),
        batch_bytes in batch_size(),
        chunk in read_size(),
    ) {
        check_reader(&doc, batch_bytes, chunk, false)?;
    }

    /// The same, on every input: fields may start with a BOM, and raw
    /// records with their terminators give back the input.
    #[test]
    fn batch_reader_matches_csv_on_every_input(
        doc in doc(true),
        batch_bytes in batch_size(),
        chunk in read_size(),
    ) {
        check_reader(&doc, batch_bytes, chunk, true)?;
    }
}

proptest! {
    #![proptest_config(cases(32))]

    /// One document read at every batch size from 1 to past its length gives
    /// the same records, raw records and lines each time.
    #[test]
    fn batch_size_does_not_change_records(doc in doc(false)) {
        let input = doc.render().bytes;
        let strip = |gs: Vec<Got>| -> Vec<(Vec<Vec<u8>>, Vec<u8>, u64)> {
            gs.into_iter().map(|g| (g.fields, g.raw, g.line)).collect()
        };
        let whole = strip(batch_records(&input, 256 << 10, usize::MAX));
        let records = match one_column(&doc) {
            true => one_column_records(&doc).len(),
            false => doc.records.len(),
        };
        prop_assert_eq!(whole.len(), records);
        for size in 1..input.len() + 2 {
            prop_assert_eq!(
                &strip(batch_records(&input, size, usize::MAX)),
                &whole,
                "batch size {}; input {}",
                size,
                show(&input)
            );
        }
    }
}

/// Records until the end or a read error, and the error.
fn batch_records_until_error(
    input: &[u8],
    batch_bytes: usize,
    chunk: usize,
) -> (usize, Option<ReadError>) {
    let src = Chunked { data: input, chunk };
    let mut reader = BatchReader::with_batch_bytes(src, batch_bytes);
    let mut batch = Batch::default();
    let mut n = 0;
    loop {
        let res = reader.next_batch(&mut batch);
        // On a data error the batch holds the records before it.
        n += batch.len();
        match res {
            Ok(true) => {}
            Ok(false) => return (n, None),
            Err(e) => return (n, Some(e)),
        }
    }
}

proptest! {
    #![proptest_config(cases(256))]

    /// Any document cut off inside a quoted field of a last record: every
    /// record before it is read, then an error names the line the quote
    /// opened on and its field, at any batch and read size.
    #[test]
    fn unterminated_quote_at_eof_is_a_located_error_at_any_batch_size(
        doc in doc(false),
        lead in select(vec!["", "x,", "a,\"b\",", "a,b\"c,"]),
        cut in select(vec!["", "abc", "ab\"\"c", "a\nb", "a,b\r\n"]),
        batch_bytes in batch_size(),
        chunk in read_size(),
    ) {
        let mut doc = doc;
        doc.final_term = true;
        let mut input = doc.render().bytes;
        prop_assume!(!input.starts_with(BOM));
        let before = batch_records(&input, 256 << 10, usize::MAX).len();
        let line = 1 + newlines(&input) + newlines(lead.as_bytes());
        let field = lead.matches(',').count();
        input.extend_from_slice(lead.as_bytes());
        input.push(b'"');
        input.extend_from_slice(cut.as_bytes());
        let (n, err) = batch_records_until_error(&input, batch_bytes, chunk);
        prop_assert_eq!(n, before, "input {}", show(&input));
        match err {
            Some(ReadError::UnclosedQuote { line: l, field: f }) => {
                prop_assert_eq!((l, f), (line, field), "input {}", show(&input));
            }
            other => prop_assert!(false, "{:?}; input {}", other, show(&input)),
        }
    }
}

/// A BOM opens the first batch only; the same bytes opening a later batch
/// are field text (csv strips a BOM only at the start of the input).
#[test]

fn bom_at_a_later_batch_start_is_field_text() {
    let input = b"a\n\xef\xbb\xbfb,c\n";
    let want: Vec<Vec<Vec<u8>>> = csv_records(input).into_iter().map(|r| r.fields).collect();
    assert_eq!(
        want,
        [
            vec![b"a".to_vec()],
            vec![b"\xef\xbb\xbfb".to_vec(), b"c".to_vec()]
        ]
    );
    for size in [1, 2, 3, 256 << 10] {
        let got: Vec<Vec<Vec<u8>>> = batch_records(input, size, usize::MAX)
            .into_iter()
            .map(|g| g.fields)
            .collect();
        assert_eq!(got, want, "batch size {size}");
    }
}

/// A CRLF cut between its CR and LF by the end of a read is still one
/// terminator.
#[test]

fn crlf_split_across_batches_keeps_its_terminator() {
    let input = b"ab\r\ncd\r\n";
    for chunk in [1, 2, 3, usize::MAX] {
        for size in 1..input.len() + 2 {
            let got = batch_records(input, size, chunk);
            let terms: Vec<&[u8]> = got.iter().map(|g| &g.term[..]).collect();
            assert_eq!(
                terms,
                [b"\r\n", b"\r\n"],
                "batch size {size}, read size {chunk}"
            );
            let lines: Vec<u64> = got.iter().map(|g| g.line).collect();
            assert_eq!(lines, [1, 2], "batch size {size}, read size {chunk}");
        }
    }
}

/// A BOM then a blank line: the first record starts on line 2, and the
/// blank line is not part of its raw text.
#[test]

fn bom_then_blank_line() {
    let input = b"\xef\xbb\xbf\nh\n";
    let want = csv_records(input);
    assert_eq!(want.len(), 1);
    assert_eq!(want[0].fields, [b"h".to_vec()]);
    let got = batch_records(input, 256 << 10, usize::MAX);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].fields, [b"h".to_vec()]);
    assert_eq!(got[0].line, 2, "the record is on line 2");
    assert!(
        !got[0].raw.contains(&b'\n'),
        "raw record {} holds the blank line",
        show(&got[0].raw)
    );
}

// ---------------------------------------------------------------------------
// End to end: tag-quantization on stdin.
// ---------------------------------------------------------------------------

const HEADER: [&str; 5] = ["model", "vram_gb", "tdp_watts", "mig_support", "notes"];

/// A cell text and the value the schema reads from it (None: missing).
type Cell<T> = (String, Option<T>);

/// Null markers of every field (trimmed, any case).
const NULLS: &[&str] = &[
    "", " ", "NA", "na", " NA ", "N/A", "n/a", "null", "NULL", "None", "none", "NONE",
];

/// Numbers as listings write them; zero, however written (`0`, `0.0`,
/// `0.00`), is missing for VRAM and TDP: their null marker `0` is numeric.
fn number(values: &'static [f64]) -> impl Strategy<Value = Cell<f64>> {
    let written = (select(values), 0..4usize, any::<bool>()).prop_map(|(v, form, pad)| {
        let t = match form {
            0 => format!("{v}"),
            1 => format!("{v:.1}"),
            2 => format!("{v:.2}"),
            _ => format!("{v:.3}"),
        };
        let t = if pad { format!(" {t} ") } else { t };
        let trimmed = t.trim();
        let value = Some(trimmed.parse::<f64>().expect("a number")).filter(|&v| v != 0.0);
        (t, value)
    });
    let zeros = select(&["0", "0.0", " 0 ", " 0.0"][..]).prop_map(|t| (t.to_string(), None));
    let nulls = select(NULLS).prop_map(|t| (t.to_string(), None));
    prop_oneof![6 => written, 1 => zeros, 2 => nulls]
}

fn vram() -> impl Strategy<Value = Cell<f64>> {
    number(&[
        0.0, -8.0, 8.0, 16.0, 23.5, 23.99, 24.0, 24.01, 40.0, 48.0, 80.0, 141.0,
    ])
}

fn tdp() -> impl Strategy<Value = Cell<f64>> {
    number(&[
        0.0, 70.0, 150.0, 299.5, 299.99, 300.0, 300.01, 301.0, 350.0, 700.0,
    ])
}

fn mig() -> impl Strategy<Value = Cell<bool>> {
    let words = select(
        &[
            ("True", Some(true)),
            ("true", Some(true)),
            ("TRUE", Some(true)),
            (" true ", Some(true)),
            ("yes", Some(true)),
            ("Yes", Some(true)),
            ("1", Some(true)),
            ("7.0", Some(true)),
            ("7", Some(true)),
            ("4", Some(true)),
            ("False", Some(false)),
            ("false", Some(false)),
            ("no", Some(false)),
            ("NO", Some(false)),
            ("0", Some(false)),
            ("0.0", Some(false)),
            (" 0 ", Some(false)),
        ][..],
    )
    .prop_map(|(t, v)| (t.to_string(), v));
    let nulls = select(NULLS).prop_map(|t| (t.to_string(), None));
    prop_oneof![4 => words, 1 => nulls]
}

#[derive(Debug, Clone)]
struct Listing {
    model: Field,
    vram: (Cell<f64>, bool),
    tdp: (Cell<f64>, bool),
    mig: (Cell<bool>, bool),
    notes: Field,
    blanks: Vec<Term>,
    term: Term,
}

impl Listing {
    fn flagged(&self) -> bool {
        matches!(
            (self.vram.0.1, self.tdp.0.1, self.mig.0.1),
            (Some(v), Some(t), Some(true)) if v >= 24.0 && t <= 300.0
        )
    }

    fn missing_input(&self) -> bool {
        self.vram.0.1.is_none() || self.tdp.0.1.is_none() || self.mig.0.1.is_none()
    }

    fn rec(&self) -> Rec {
        let cell = |t: &String, quoted: bool| Field {
            text: t.clone().into_bytes(),
            quoted,
        };
        Rec {
            blanks: self.blanks.clone(),
            fields: vec![
                self.model.clone(),
                cell(&self.vram.0.0, self.vram.1),
                cell(&self.tdp.0.0, self.tdp.1),
                cell(&self.mig.0.0, self.mig.1),
                self.notes.clone(),
            ],
            term: self.term,
        }
    }
}

fn listing() -> impl Strategy<Value = Listing> {
    let q = || prop::bool::weighted(0.25);
    (
        field(true),
        (vram(), q()),
        (tdp(), q()),
        (mig(), q()),
        field(true),
        blanks(),
        term(),
    )
        .prop_map(|(model, vram, tdp, mig, notes, blanks, term)| Listing {
            model,
            vram,
            tdp,
            mig,
            notes,
            blanks,
            term,
        })
}

#[derive(Debug, Clone)]
struct Table {
    bom: bool,
    header_quoted: Vec<bool>,
    header_term: Term,
    rows: Vec<Listing>,
    final_term: bool,
    trailing: Vec<Term>,
}

impl Table {
    fn doc(&self) -> Doc {
        let header = Rec {
            blanks: Vec::new(),
            fields: HEADER
                .iter()
                .zip(&self.header_quoted)
                .map(|(h, &quoted)| Field {
                    text: h.as_bytes().to_vec(),
                    quoted,
                })
                .collect(),
            term: self.header_term,
        };
        Doc {
            bom: self.bom,
            records: std::iter::once(header)
                .chain(self.rows.iter().map(Listing::rec))
                .collect(),
            final_term: self.final_term,
            trailing: self.trailing.clone(),
        }
    }
}

fn table(rows: std::ops::Range<usize>) -> impl Strategy<Value = Table> {
    (
        prop::bool::weighted(0.2),
        prop::collection::vec(prop::bool::weighted(0.2), 5),
        term(),
        prop::collection::vec(listing(), rows),
        any::<bool>(),
        blanks(),
    )
        .prop_map(
            |(bom, header_quoted, header_term, rows, final_term, trailing)| Table {
                bom,
                header_quoted,
                header_term,
                rows,
                final_term,
                trailing,
            },
        )
}

/// Run `tag-quantization -` on `input` and check its output against the input
/// and the oracle.
fn check_tagging(
    input: &[u8],
    rows: &[Listing],
    threads: Option<u16>,
) -> Result<(), TestCaseError> {
    let mut cmd = glyphsieve();
    cmd.args(["tag-quantization", "-"]);
    if let Some(n) = threads {
        cmd.args(["--threads", &n.to_string()]);
    }
    let out = cmd.write_stdin(input.to_vec()).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    prop_assert!(
        out.status.success(),
        "exit {:?}: {}; input {}",
        out.status.code(),
        stderr,
        show(input)
    );
    let output = &out.stdout[..];

    // The output records are the input records plus one field.
    let want = csv_records(input);
    let got = csv_records(output);
    prop_assert_eq!(
        want.len(),
        rows.len() + 1,
        "generator: records of the input"
    );
    prop_assert_eq!(got.len(), want.len(), "records; output {}", show(output));
    let appended = std::iter::once(&b"quantization_capable"[..]).chain(rows.iter().map(|r| {
        if r.flagged() {
            &b"true"[..]
        } else {
            &b"false"[..]
        }
    }));
    for (k, ((w, g), tag)) in want.iter().zip(&got).zip(appended).enumerate() {
        let mut expected = w.fields.clone();
        expected.push(tag.to_vec());
        prop_assert_eq!(
            &g.fields,
            &expected,
            "record {} (row {:?}); output {}",
            k,
            k.checked_sub(1).map(|r| &rows[r]),
            show(output)
        );
    }

    // Each output record starts with the input record's raw bytes, then the
    // new cell.
    let raw_in = csv_raw_records(input);
    let raw_out = csv_raw_records(output);
    for (k, (i, o)) in raw_in.iter().zip(&raw_out).enumerate() {
        prop_assert!(
            o.starts_with(i) && o[i.len()..].starts_with(b","),
            "record {k}: output {} does not start with input {} and a comma",
            show(o),
            show(i)
        );
    }

    // The summary counts the rows.
    let flagged = rows.iter().filter(|r| r.flagged()).count();
    let missing = rows.iter().filter(|r| r.missing_input()).count();
    for (label, n) in [
        ("rows", rows.len()),
        ("flagged", flagged),
        ("not flagged", rows.len() - flagged),
        ("missing data", missing),
    ] {
        let line = stderr
            .lines()
            .find(|l| l.starts_with(label) && l[label.len()..].starts_with("  "));
        let count = line.and_then(|l| l[label.len()..].split_whitespace().next());
        prop_assert_eq!(count, Some(&*n.to_string()), "{} in {}", label, stderr);
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(64))]

    /// Small tables: one batch, every record passed through and tagged.
    #[test]
    fn tag_quantization_appends_the_oracle(
        table in table(0..12),
        threads in prop::option::of(1u16..4),
    ) {
        let input = table.doc().render().bytes;
        check_tagging(&input, &table.rows, threads)?;
    }
}

proptest! {
    #![proptest_config(cases(3))]

    /// Tables past two 256 KiB batches: records cut by batch boundaries and
    /// evaluated by parallel workers come out whole and in order.
    #[test]
    fn tag_quantization_across_batches(
        table in table(16..32),
        threads in 1u16..4,
    ) {
        let mut table = table;
        let sample = table.rows.clone();
        let one = Table { rows: sample.clone(), ..table.clone() }.doc().render().bytes.len();
        for _ in 0..(600 << 10) / one {
            table.rows.extend_from_slice(&sample);
        }
        let input = table.doc().render().bytes;
        prop_assert!(input.len() > 512 << 10);
        check_tagging(&input, &table.rows, Some(threads))?;
    }
}

/// A CRLF header whose CR is the last byte of the first 256 KiB batch: the
/// output still ends its lines with CRLF, like the input.
#[test]

fn crlf_header_at_the_batch_boundary_keeps_crlf() {
    let batch = glyphsieve::data::reader::BATCH_BYTES;
    let mut input = b"model,vram_gb,tdp_watts,mig_support,notes,".to_vec();
    // A long last column name puts the header's CR at byte batch - 1.
    input.resize(batch - 1, b'x');
    input.extend_from_slice(b"\r\nH100,80,300,true,x,y\r\n");
    let out = glyphsieve()
        .args(["tag-quantization", "-"])
        .write_stdin(input.clone())
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut want = input[..batch - 1].to_vec();
    want.extend_from_slice(b",quantization_capable\r\nH100,80,300,true,x,y,true\r\n");
    assert_eq!(
        show(&out.stdout[batch - 64..]),
        show(&want[batch - 64..]),
        "the output's tail"
    );
    assert_eq!(out.stdout.len(), want.len());
}
