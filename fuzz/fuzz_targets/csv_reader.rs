//! Fuzz target `csv_reader`: arbitrary bytes through `BatchReader` at a
//! random batch size and read size, compared with one big batch and with the
//! `csv` crate; then through the tagging pipeline with no rules, whose output
//! must be the input with only the documented normalisations. A reader
//! error (an unclosed quote at the end, a UTF-16 file) must be the same at
//! every batch size, and the pipeline must report it too.
#![no_main]

use glyphsieve::data::pipeline::{self, DataError, Job};
use glyphsieve::data::reader::{BOM, Batch, BatchReader, DEFAULT_MAX_RECORD_BYTES, ReadError};
use glyphsieve::schema::Schema;
use libfuzzer_sys::fuzz_target;
use std::io::{self, Read};

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

/// One record as the reader gives it.
#[derive(Debug, PartialEq)]
struct Got {
    fields: Vec<Vec<u8>>,
    raw: Vec<u8>,
    term: Vec<u8>,
    line: u64,
}

/// Every record of `input`, and whether the first batch saw a BOM.
fn records(input: &[u8], batch_bytes: usize, chunk: usize) -> Result<(Vec<Got>, bool), ReadError> {
    let mut reader = BatchReader::with_batch_bytes(Chunked { data: input, chunk }, batch_bytes);
    let mut batch = Batch::default();
    let mut out = Vec::new();
    let mut bom = false;
    let mut first = true;
    while reader.next_batch(&mut batch)? {
        assert!(
            !batch.is_empty(),
            "next_batch returned true with no records"
        );
        bom |= first && batch.bom;
        first = false;
        for i in 0..batch.len() {
            out.push(Got {
                fields: batch.record(i).iter().map(<[u8]>::to_vec).collect(),
                raw: batch.raw_record(i).to_vec(),
                term: batch.terminator(i).to_vec(),
                line: batch.line(i),
            });
        }
    }
    assert!(!reader.next_batch(&mut batch)?, "data after the end");
    Ok((out, bom))
}

/// The `csv` crate's fields, or `None` if it rejects the input.
fn csv_fields(input: &[u8]) -> Option<Vec<Vec<Vec<u8>>>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut rec = csv::ByteRecord::new();
    let mut out = Vec::new();
    while r.read_byte_record(&mut rec).ok()? {
        out.push(rec.iter().map(<[u8]>::to_vec).collect());
    }
    Some(out)
}

/// The tagging pipeline with no rules: the passthrough alone.
fn job(threads: usize) -> Job<'static> {
    Job {
        heuristics: Vec::new(),
        schema: Schema::listing(),
        fields: Vec::new(),
        input_name: "fuzz.csv".into(),
        output_name: "out.csv".into(),
        replace: false,
        lenient: false,
        progress: None,
        threads,
        max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
        tally_values: false,
    }
}

fn is_break(b: &u8) -> bool {
    matches!(b, b'\r' | b'\n')
}

fuzz_target!(|data: &[u8]| {
    let [size, read, input @ ..] = data else {
        return;
    };
    // Small batches cut records everywhere; 255 is the real batch size.
    let batch_bytes = if *size == 255 {
        256 << 10
    } else {
        usize::from(*size % 64) + 1
    };
    let chunk = if *read >= 128 {
        usize::MAX
    } else {
        usize::from(*read % 16) + 1
    };
    let show = || input.escape_ascii().to_string();

    let threads = 1 + usize::from(*read & 1);
    let (got, bom) = match (
        records(input, batch_bytes, chunk),
        records(input, input.len() + 1, usize::MAX),
    ) {
        (Ok((got, bom)), Ok((whole, whole_bom))) => {
            assert_eq!(
                got,
                whole,
                "batch size {batch_bytes}, reads of {chunk}; input {}",
                show()
            );
            assert_eq!(bom, whole_bom);
            (got, bom)
        }
        (Err(a), Err(b)) => {
            assert_eq!(
                a.to_string(),
                b.to_string(),
                "batch size {batch_bytes}; input {}",
                show()
            );
            assert!(
                matches!(
                    a,
                    ReadError::UnclosedQuote { .. } | ReadError::Encoding { .. }
                ),
                "{a}; input {}",
                show()
            );
            // The pipeline stops with the same error.
            let mut out = Vec::new();
            let e = pipeline::run(input, &mut out, &job(threads)).expect_err("the reader failed");
            assert!(
                matches!(
                    e,
                    DataError::UnclosedQuote { .. } | DataError::Encoding { .. }
                ),
                "{e}; input {}",
                show()
            );
            return;
        }
        (a, b) => panic!(
            "batch size {batch_bytes} gives {:?}, one batch {:?}; input {}",
            a.err().map(|e| e.to_string()),
            b.err().map(|e| e.to_string()),
            show()
        ),
    };
    // With a one-column header, a blank line after it is a record with one
    // empty field (the csv crate skips it).
    let one_column = got.first().is_some_and(|g| g.fields.len() == 1);
    // A BOM is reported with the first batch; input that is only a BOM
    // (and line breaks) has none.
    if !got.is_empty() {
        assert_eq!(bom, input.starts_with(BOM), "BOM; input {}", show());
    }

    if let Some(want) = csv_fields(input).filter(|_| !one_column) {
        let fields: Vec<&Vec<Vec<u8>>> = got.iter().map(|g| &g.fields).collect();
        let want: Vec<&Vec<Vec<u8>>> = want.iter().collect();
        assert_eq!(
            fields,
            want,
            "fields differ from the csv crate; input {}",
            show()
        );
    }

    // Raw records and terminators lie in the input in order; only line
    // breaks (blank lines) are between them. Lines count from 1.
    let mut pos = if input.starts_with(BOM) { BOM.len() } else { 0 };
    for (k, g) in got.iter().enumerate() {
        if k == 0 || !one_column {
            pos += input[pos..].iter().take_while(|b| is_break(b)).count();
        }
        let line = 1 + input[..pos].iter().filter(|&&b| b == b'\n').count() as u64;
        assert_eq!(g.line, line, "line of record {k}; input {}", show());
        assert!(
            input[pos..].starts_with(&g.raw) && input[pos + g.raw.len()..].starts_with(&g.term),
            "record {k} {:?} + {:?} is not at byte {pos}; input {}",
            g.raw.escape_ascii().to_string(),
            g.term.escape_ascii().to_string(),
            show()
        );
        assert!(g.term.iter().all(is_break), "terminator {:?}", g.term);
        pos += g.raw.len() + g.term.len();
    }
    assert!(
        input[pos..].iter().all(is_break),
        "bytes lost after the last record; input {}",
        show()
    );

    // The pipeline with no rules: the BOM, then every record's raw bytes,
    // each ended as the header line is (LF if it has no terminator).
    let mut out = Vec::new();
    match pipeline::run(input, &mut out, &job(threads)) {
        Ok(summary) => {
            assert_eq!(summary.rows as usize, got.len().saturating_sub(1));
            let term: &[u8] = match got.first().map(|g| &g.term[..]) {
                None | Some(b"") => b"\n",
                Some(t) => t,
            };
            let mut want = Vec::new();
            if bom {
                want.extend_from_slice(BOM);
            }
            for g in &got {
                // A record that would be written as nothing is `""`.
                if g.raw.is_empty() && g.fields.len() == 1 {
                    want.extend_from_slice(b"\"\"");
                }
                want.extend_from_slice(&g.raw);
                want.extend_from_slice(term);
            }
            assert!(
                out == want,
                "passthrough differs; input {}\noutput {}\nwanted {}",
                show(),
                out.escape_ascii(),
                want.escape_ascii()
            );
        }
        Err(DataError::NoHeader { .. }) => assert!(got.is_empty(), "NoHeader with records"),
        Err(DataError::Ragged {
            expected,
            found,
            line,
            ..
        }) => {
            let width = got[0].fields.len();
            assert_eq!(expected, width);
            assert!(
                got.iter()
                    .any(|g| g.line == line && g.fields.len() == found && found != width),
                "no ragged record at line {line}; input {}",
                show()
            );
        }
        Err(e) => panic!("unexpected error {e}; input {}", show()),
    }
});
