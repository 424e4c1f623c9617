//! Streaming CSV input in batches of whole records: the raw bytes of each
//! record (copied to the output unchanged) and its unescaped fields (read by
//! rules). Memory is bounded by the batch size, whatever the file size.

use std::io::{self, Read};

/// Raw input read per batch; a record longer than this grows the buffer.
pub const BATCH_BYTES: usize = 256 << 10;

/// Default longest record (`--max-record-bytes`): a file that never ends a
/// record (a stream of zeros, a lost closing quote in a huge file) stops
/// with a located error instead of growing memory until the allocator aborts.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 64 << 20;

/// Largest `--max-record-bytes` accepted. Offsets into a batch are stored as
/// `u32`: a batch holds at most one record of this size, the blank lines
/// before it (also at most this size) and a read's growth, so its buffers stay
/// below 3 GiB + `BATCH_BYTES` < 4 GiB and every offset fits (see `offset`).
pub const MAX_RECORD_BYTES_LIMIT: usize = 1 << 30;

const _: () = assert!(3 * MAX_RECORD_BYTES_LIMIT + 16 * BATCH_BYTES < u32::MAX as usize);

/// Why the input could not be read as CSV.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The input ends inside a quoted field opened on `line` in field
    /// `field` (0-based) of the last record.
    #[error("line {line}: a quoted field (field {}) is never closed", field + 1)]
    UnclosedQuote { line: u64, field: usize },
    /// The record starting on `line` is longer than `limit` bytes.
    #[error("line {line}: a record is longer than {limit} bytes")]
    RecordTooLong { line: u64, limit: usize },
    /// The input starts with a UTF-16 or UTF-32 byte order mark.
    #[error("the input is {encoding}")]
    Encoding { encoding: &'static str },
}

/// A batch offset as stored. Cannot truncate: batches stay below 4 GiB
/// (`MAX_RECORD_BYTES_LIMIT`).
fn offset(n: usize) -> u32 {
    debug_assert!(u32::try_from(n).is_ok(), "batch offset {n} past 4 GiB");
    n as u32
}

/// Whole records of the input, in order.
#[derive(Debug, Default)]
pub struct Batch {
    /// Raw bytes of the records, back to back.
    pub raw: Vec<u8>,
    /// End of each record in `raw`.
    pub raw_ends: Vec<u32>,
    /// Unescaped field bytes.
    pub fields: Vec<u8>,
    /// End of each field in `fields`.
    pub field_ends: Vec<u32>,
    /// End of each record's fields in `field_ends`.
    pub record_ends: Vec<u32>,
    /// Input line of the batch's first byte (1-based).
    pub first_line: u64,
    /// The input starts with a UTF-8 byte order mark, which `raw[..3]`
    /// holds; record 0 starts after it (first batch only).
    pub bom: bool,
}

/// The UTF-8 byte order mark.
pub const BOM: &[u8] = b"\xef\xbb\xbf";

impl Batch {
    pub fn len(&self) -> usize {
        self.raw_ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.raw_ends.is_empty()
    }

    fn clear(&mut self) {
        self.raw.clear();
        self.raw_ends.clear();
        self.fields.clear();
        self.field_ends.clear();
        self.record_ends.clear();
        self.bom = false;
    }

    /// Give back memory a very long record left behind, so one huge cell
    /// does not keep every later batch large.
    pub fn trim(&mut self, batch_bytes: usize) {
        shrink_if_huge(&mut self.raw, batch_bytes);
        shrink_if_huge(&mut self.fields, batch_bytes);
    }

    /// Record `i`'s bytes as read: blank lines before it, its text, its terminator.
    fn span(&self, i: usize) -> &[u8] {
        let start = match i {
            0 if self.bom => BOM.len(),
            0 => 0,
            _ => self.raw_ends[i - 1] as usize,
        };
        &self.raw[start..self.raw_ends[i] as usize]
    }

    /// Record `i`'s raw bytes, without blank lines before it or its terminator.
    pub fn raw_record(&self, i: usize) -> &[u8] {
        let r = self.span(i);
        let r = &r[lead(r)..];
        let r = r.strip_suffix(b"\n").unwrap_or(r);
        r.strip_suffix(b"\r").unwrap_or(r)
    }

    /// Record `i`'s line terminator as written in the input (empty at the
    /// end of a file that does not end with a newline).
    pub fn terminator(&self, i: usize) -> &'static [u8] {
        let r = self.span(i);
        if r.ends_with(b"\r\n") {
            b"\r\n"
        } else if r.ends_with(b"\n") {
            b"\n"
        } else if r.ends_with(b"\r") {
            b"\r"
        } else {
            b""
        }
    }

    /// The input line record `i` starts on.
    pub fn line(&self, i: usize) -> u64 {
        let r = self.span(i);
        let start = r.as_ptr() as usize - self.raw.as_ptr() as usize;
        // A blank line read as a record (one-column files) starts where it is.
        let skip = match lead(r) {
            l if l == r.len() => 0,
            l => l,
        };
        self.first_line + count_lines(&self.raw[..start + skip])
    }

    /// Record `i`'s fields.
    pub fn record(&self, i: usize) -> Fields<'_> {
        let first = if i == 0 {
            0
        } else {
            self.record_ends[i - 1] as usize
        };
        let ends = &self.field_ends[first..self.record_ends[i] as usize];
        let start = if first == 0 {
            0
        } else {
            self.field_ends[first - 1] as usize
        };
        Fields {
            bytes: &self.fields,
            ends,
            start,
        }
    }
}

/// One record's unescaped fields.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    bytes: &'a [u8],
    ends: &'a [u32],
    start: usize,
}

impl<'a> Fields<'a> {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, i: usize) -> &'a [u8] {
        let s = if i == 0 {
            self.start
        } else {
            self.ends[i - 1] as usize
        };
        &self.bytes[s..self.ends[i] as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// A CSV header record as column names: each field decoded as UTF-8 (lossily)
/// and a leading byte-order mark (`\u{feff}`) taken off the first.
pub(crate) fn header_from_fields<'a>(fields: impl IntoIterator<Item = &'a [u8]>) -> Vec<String> {
    let mut names: Vec<String> = fields
        .into_iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    if let Some(first) = names.first_mut()
        && let Some(stripped) = first.strip_prefix('\u{feff}')
    {
        *first = stripped.to_string();
    }
    names
}

/// Give back most of a buffer that one huge record grew far past a batch.
pub(crate) fn shrink_if_huge(buf: &mut Vec<u8>, batch_bytes: usize) {
    if buf.capacity() > 4 * batch_bytes {
        buf.shrink_to(2 * batch_bytes);
    }
}

/// Splits a byte stream into batches of whole records.
pub struct BatchReader<R> {
    src: R,
    core: csv_core::Reader,
    /// Bytes read but not yet part of a batch (a record cut by the read).
    carry: Vec<u8>,
    eof: bool,
    line: u64,
    batch_bytes: usize,
    max_record: usize,
    /// Whether the first batch (where a BOM may stand) has been read.
    started: bool,
    /// Whether the header (the first record) has been read.
    header_read: bool,
    /// The header has one column: a blank line is then a record of one
    /// empty field, not a blank line to skip.
    one_column: bool,
    /// An error found while parsing, returned with the records before it.
    failed: Option<ReadError>,
}

impl<R: Read> BatchReader<R> {
    pub fn new(src: R) -> BatchReader<R> {
        BatchReader::with_batch_bytes(src, BATCH_BYTES)
    }

    pub fn with_batch_bytes(src: R, batch_bytes: usize) -> BatchReader<R> {
        BatchReader {
            src,
            core: csv_core::Reader::new(),
            carry: Vec::new(),
            eof: false,
            line: 1,
            batch_bytes: batch_bytes.clamp(1, BATCH_BYTES << 4),
            max_record: DEFAULT_MAX_RECORD_BYTES,
            started: false,
            header_read: false,
            one_column: false,
            failed: None,
        }
    }

    /// The longest record accepted, in bytes of its text (without its line
    /// terminator and the blank lines before it); at most
    /// `MAX_RECORD_BYTES_LIMIT`.
    pub fn max_record_bytes(mut self, max: usize) -> BatchReader<R> {
        self.max_record = max.clamp(1, MAX_RECORD_BYTES_LIMIT);
        self
    }

    /// Fill `batch` with the next whole records; `false` at end of input.
    /// On an error in the data (`UnclosedQuote`, `RecordTooLong`), `batch`
    /// holds the records before it (so a caller can still read the header)
    /// and the next call returns `false`.
    pub fn next_batch(&mut self, batch: &mut Batch) -> Result<bool, ReadError> {
        batch.clear();
        batch.trim(self.batch_bytes);
        batch.first_line = self.line;
        std::mem::swap(&mut batch.raw, &mut self.carry);
        self.carry.clear();
        // Grows for one record longer than a batch, for this batch only.
        let mut limit = self.batch_bytes;
        // While one record is read: the most bytes that tell whether it is
        // too long, so memory stays near `max_record` (see `check_partial`).
        let mut cap = usize::MAX;
        loop {
            // Fill up to the batch size (more if one record is longer).
            let want = limit.max(batch.raw.len() + limit / 4).min(cap);
            while !self.eof && batch.raw.len() < want {
                let old = batch.raw.len();
                batch.raw.resize(want, 0);
                let n = match read_some(&mut self.src, &mut batch.raw[old..]) {
                    Ok(n) => n,
                    Err(e) => {
                        batch.raw.truncate(old);
                        return Err(e.into());
                    }
                };
                batch.raw.truncate(old + n);
                if n == 0 {
                    self.eof = true;
                }
            }
            let consumed = self.parse(batch);
            if batch.is_empty() && !self.eof && self.failed.is_none() {
                match self.check_partial(batch) {
                    Ok(most) => cap = most,
                    Err(e) => self.failed = Some(e),
                }
            }
            if batch.is_empty() && !self.eof && self.failed.is_none() {
                // One record longer than the batch: read more and parse again.
                // `limit` stops doubling near the longest record allowed, so
                // the buffer stays below 4 GiB (`MAX_RECORD_BYTES_LIMIT`).
                limit = (limit * 2).min(2 * self.max_record + 8).max(limit);
                continue;
            }
            if self.failed.is_none() {
                self.carry.extend_from_slice(&batch.raw[consumed..]);
            }
            batch.raw.truncate(consumed);
            self.line += count_lines(&batch.raw);
            self.started = true;
            if let Some(e) = self.failed.take() {
                // Nothing is read after a data error; `batch` keeps the
                // records before it.
                self.eof = true;
                return Err(e);
            }
            return Ok(!batch.is_empty());
        }
    }

    /// `batch.raw` holds only the start of one record (and maybe blank lines
    /// before it): fail if it is already longer than a record may be, else
    /// give the most bytes `batch.raw` needs to hold to tell (always more
    /// than it holds: the longest record and its CRLF).
    fn check_partial(&self, batch: &Batch) -> Result<usize, ReadError> {
        let skip = if !self.started && batch.raw.starts_with(BOM) {
            BOM.len()
        } else {
            0
        };
        let r = &batch.raw[skip..];
        let blanks = lead(r);
        // A CR at the end may be the first half of the record's CRLF.
        let text = (r.len() - blanks).saturating_sub(usize::from(r.ends_with(b"\r")));
        if text > self.max_record || blanks > self.max_record {
            return Err(ReadError::RecordTooLong {
                line: batch.first_line + count_lines(&r[..blanks]),
                limit: self.max_record,
            });
        }
        Ok(skip + blanks + self.max_record + 2)
    }

    /// Parse whole records from `batch.raw`; returns the bytes they span.
    /// A record cut off by the end of the read is left for the next batch.
    /// A data error is left in `self.failed`, with the records before it.
    fn parse(&mut self, batch: &mut Batch) -> usize {
        use csv_core::ReadRecordResult::*;
        // Unescaped fields are never longer than their raw text.
        batch.fields.resize(batch.raw.len() + 64, 0);
        // Each batch starts at a record boundary. `reset` also re-arms
        // csv_core's BOM stripping, which must not apply past the file's
        // start: reading one blank line disarms it again. The file's own BOM
        // is skipped here and kept in `batch.raw` for the output.
        self.core.reset();
        let _ = self.core.read_record(b"\n", &mut [], &mut []);
        let mut pos = 0;
        if !self.started {
            // A UTF-32 mark begins like a UTF-16 one: decide on four bytes,
            // however small the batch (found by the csv_reader fuzz target).
            if batch.raw.len() < 4 && !self.eof {
                batch.fields.clear();
                return 0;
            }
            if let Some(encoding) = wide_encoding(&batch.raw) {
                self.failed = Some(ReadError::Encoding { encoding });
                return 0;
            }
            batch.bom = batch.raw.starts_with(BOM);
            if batch.bom {
                pos = BOM.len();
            }
        }
        let mut ends = [0usize; 64];
        let mut out = 0;
        'records: loop {
            if self.one_column {
                // csv_core skips blank lines; in a one-column file each is a
                // record of one empty field. Rare, so the common path (more
                // than one column) does no work here.
                match blank_line(&batch.raw[pos..], self.eof) {
                    Blank::Line(n) => {
                        pos += n;
                        batch.field_ends.push(offset(out));
                        batch.raw_ends.push(offset(pos));
                        batch.record_ends.push(offset(batch.field_ends.len()));
                        continue 'records;
                    }
                    Blank::Unknown => break 'records,
                    Blank::No => {}
                }
            }
            let record_start = pos;
            let record_fields = batch.field_ends.len();
            let record_out = out;
            let mut nread = 0;
            loop {
                let input = &batch.raw[pos + nread..];
                if input.is_empty() && !self.eof {
                    // csv_core reads an empty input as the end of the data.
                    batch.field_ends.truncate(record_fields);
                    out = record_out;
                    break 'records;
                }
                let (res, nin, nout, nend) =
                    self.core
                        .read_record(input, &mut batch.fields[out..], &mut ends);
                nread += nin;
                out += nout;
                // Ends count from the record's start, across calls.
                batch
                    .field_ends
                    .extend(ends[..nend].iter().map(|&e| offset(record_out + e)));
                match res {
                    InputEmpty | OutputEndsFull => continue,
                    OutputFull => {
                        let len = batch.fields.len();
                        batch.fields.resize(len * 2, 0);
                    }
                    Record => {
                        let end = pos + nread;
                        // csv_core ends a CRLF record at the CR: take the LF
                        // too, so the record keeps its whole terminator; if
                        // the LF is not read yet, leave the record for the
                        // next batch.
                        if batch.raw[end - 1] == b'\r' {
                            match batch.raw.get(end) {
                                Some(b'\n') => nread += 1,
                                None if !self.eof => {
                                    batch.field_ends.truncate(record_fields);
                                    out = record_out;
                                    break 'records;
                                }
                                _ => {}
                            }
                        }
                        let end = pos + nread;
                        let error = if end - record_start > self.max_record {
                            self.too_long(batch, record_start, end)
                        } else {
                            None
                        };
                        // Only the last record can end inside quotes: inside
                        // them a line break does not end a record.
                        let error = error.or_else(|| match self.eof && end == batch.raw.len() {
                            true => unclosed_quote(batch, record_start, end),
                            false => None,
                        });
                        if let Some(e) = error {
                            batch.field_ends.truncate(record_fields);
                            out = record_out;
                            self.failed = Some(e);
                            break 'records;
                        }
                        pos = end;
                        batch.raw_ends.push(offset(pos));
                        batch.record_ends.push(offset(batch.field_ends.len()));
                        if !self.header_read {
                            self.header_read = true;
                            self.one_column = batch.field_ends.len() - record_fields == 1;
                        }
                        continue 'records;
                    }
                    End => {
                        batch.field_ends.truncate(record_fields);
                        out = record_out;
                        pos += nread;
                        break 'records;
                    }
                }
            }
        }
        batch.fields.truncate(out);
        pos
    }

    /// `RecordTooLong` if the text of the record in `raw[start..end]`
    /// (without blank lines before it and its terminator) is too long.
    fn too_long(&self, batch: &Batch, start: usize, end: usize) -> Option<ReadError> {
        let r = &batch.raw[start..end];
        let blanks = lead(r);
        let r = &r[blanks..];
        let r = r.strip_suffix(b"\n").unwrap_or(r);
        let r = r.strip_suffix(b"\r").unwrap_or(r);
        (r.len() > self.max_record).then(|| ReadError::RecordTooLong {
            line: batch.first_line + count_lines(&batch.raw[..start + blanks]),
            limit: self.max_record,
        })
    }
}

/// What stands at a record start in a one-column file.
enum Blank {
    /// A blank line of this many bytes (its terminator).
    Line(usize),
    /// Not a blank line.
    No,
    /// A CR at the end of the read: a CRLF or a lone CR, not known yet.
    Unknown,
}

fn blank_line(rest: &[u8], eof: bool) -> Blank {
    match rest {
        [b'\n', ..] => Blank::Line(1),
        [b'\r', b'\n', ..] => Blank::Line(2),
        [b'\r'] if !eof => Blank::Unknown,
        [b'\r', ..] => Blank::Line(1),
        _ => Blank::No,
    }
}

/// The encoding named by a UTF-16 or UTF-32 byte order mark at the start.
fn wide_encoding(raw: &[u8]) -> Option<&'static str> {
    if raw.starts_with(b"\xff\xfe\0\0") || raw.starts_with(b"\0\0\xfe\xff") {
        Some("UTF-32")
    } else if raw.starts_with(b"\xff\xfe") || raw.starts_with(b"\xfe\xff") {
        Some("UTF-16")
    } else {
        None
    }
}

/// `UnclosedQuote` if the input's last record, `raw[start..end]`, ends
/// inside a quoted field. Follows csv_core's rules: a `"` at a field's start
/// opens quotes; inside them `""` is a quote and a lone `"` closes them; a
/// `"` inside an unquoted field is text.
fn unclosed_quote(batch: &Batch, start: usize, end: usize) -> Option<ReadError> {
    #[derive(Clone, Copy, PartialEq)]
    enum S {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let r = &batch.raw[start..end];
    let blanks = lead(r);
    let mut state = S::FieldStart;
    let mut field = 0;
    let mut opened = 0;
    for (k, &b) in r.iter().enumerate().skip(blanks) {
        state = match (state, b) {
            (S::FieldStart, b'"') => {
                opened = k;
                S::Quoted
            }
            (S::Quoted, b'"') => S::QuoteInQuoted,
            (S::Quoted, _) => S::Quoted,
            (S::QuoteInQuoted, b'"') => S::Quoted,
            (_, b',') => {
                field += 1;
                S::FieldStart
            }
            (_, b'\r' | b'\n') => S::FieldStart,
            _ => S::Unquoted,
        };
    }
    (state == S::Quoted).then(|| ReadError::UnclosedQuote {
        line: batch.first_line + count_lines(&batch.raw[..start + opened]),
        field,
    })
}

/// Length of the blank lines (CR and LF bytes) before a record's text.
fn lead(r: &[u8]) -> usize {
    r.iter().take_while(|&&b| b == b'\n' || b == b'\r').count()
}

/// Lines in `bytes`, counted by LF as the csv crate and most tools count
/// them (a lone CR, inside a quoted cell or as an old Mac line end, is not
/// counted).
fn count_lines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

fn read_some<R: Read>(src: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match src.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(input: &[u8], batch_bytes: usize) -> Vec<(u64, Vec<u8>, Vec<Vec<u8>>)> {
        let mut r = BatchReader::with_batch_bytes(input, batch_bytes);
        let mut b = Batch::default();
        let mut out = Vec::new();
        while r.next_batch(&mut b).unwrap() {
            for i in 0..b.len() {
                out.push((
                    b.line(i),
                    b.raw_record(i).to_vec(),
                    b.record(i).iter().map(<[u8]>::to_vec).collect(),
                ));
            }
        }
        out
    }

    #[test]
    fn records_survive_any_batch_size() {
        let input: &[u8] = b"a,b\r\n1,\"x,\"\"y\"\"\nz\"\r\n\r\n3,4\n5,6";
        let want = records(input, 1 << 20);
        assert_eq!(want.len(), 4);
        assert_eq!(want[1].0, 2);
        assert_eq!(want[1].1, b"1,\"x,\"\"y\"\"\nz\"");
        assert_eq!(want[1].2, [b"1".to_vec(), b"x,\"y\"\nz".to_vec()]);
        assert_eq!(want[2].0, 5, "blank line skipped, line counted");
        assert_eq!(want[2].1, b"3,4");
        assert_eq!(want[3].1, b"5,6");
        for size in 1..input.len() + 2 {
            assert_eq!(records(input, size), want, "batch size {size}");
        }
    }

    /// Records read until the end or an error (with the records before it).
    fn until_error<R: Read>(mut r: BatchReader<R>) -> (Vec<Vec<Vec<u8>>>, Option<ReadError>) {
        let mut b = Batch::default();
        let mut out = Vec::new();
        loop {
            let res = r.next_batch(&mut b);
            out.extend((0..b.len()).map(|i| b.record(i).iter().map(<[u8]>::to_vec).collect()));
            match res {
                Ok(true) => {}
                Ok(false) => return (out, None),
                Err(e) => {
                    assert!(!r.next_batch(&mut b).unwrap(), "nothing after an error");
                    return (out, Some(e));
                }
            }
        }
    }

    #[test]
    fn unterminated_quote_at_eof_is_a_located_error() {
        let cases: &[(&[u8], usize, u64, usize)] = &[
            // input, records before it, line the quote opened on, field
            (b"slots,x\n1,\"abc\n2,d\n3,e\n", 1, 2, 1),
            (b"a,b\r\n1,2\r\n\"x\"\"\r\n", 2, 3, 0),
            (b"a,b\n1,\"ok\"\n2,\"cut", 2, 3, 1),
            (b"a,b\n1,\"two\nlines\",\"open\n", 1, 3, 2),
            (b"\"never", 0, 1, 0),
            (b"one\n\n\"x", 2, 3, 0),
        ];
        for &(input, before, line, field) in cases {
            for size in 1..input.len() + 2 {
                let (records, err) = until_error(BatchReader::with_batch_bytes(input, size));
                let show = input.escape_ascii();
                assert_eq!(records.len(), before, "{show} at batch size {size}");
                match err {
                    Some(ReadError::UnclosedQuote { line: l, field: f }) => {
                        assert_eq!((l, f), (line, field), "{show} at batch size {size}")
                    }
                    other => panic!("{show} at batch size {size}: {other:?}"),
                }
            }
        }
        // Closed quotes, a quote inside an unquoted field, an escaped quote.
        for ok in [
            &b"a,b\n1,\"x\"\"\""[..],
            b"a,b\n1,x\"y",
            b"a,b\n1,\"\"",
            b"a\n\"\"\"\"\n",
        ] {
            assert!(
                until_error(BatchReader::with_batch_bytes(ok, 3))
                    .1
                    .is_none()
            );
        }
    }

    /// Never ends, never sends a line break.
    struct Endless;

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            buf.fill(b'x');
            Ok(buf.len())
        }
    }

    #[test]
    fn never_ending_record_stops_at_max_record_bytes() {
        let head = &b"slots,x\n\n1,"[..];
        for size in [1, 7, 1000, BATCH_BYTES] {
            let r = BatchReader::with_batch_bytes(head.chain(Endless), size).max_record_bytes(5000);
            let (records, err) = until_error(r);
            assert!(records.len() <= 1, "the header at most");
            match err {
                Some(ReadError::RecordTooLong {
                    line: 3,
                    limit: 5000,
                }) => {}
                other => panic!("batch size {size}: {other:?}"),
            }
        }
    }

    #[test]
    fn record_of_max_record_bytes_passes_and_one_more_fails() {
        let max = 40;
        for term in ["\n", "\r\n", ""] {
            for text in [max - 1, max, max + 1] {
                let record = format!("{}{term}", "y".repeat(text));
                // Unterminated, the record ends the input.
                let tail = if term.is_empty() { "" } else { "b\n" };
                let input = format!("a,b\n\n{record}{tail}");
                for size in 1..input.len() + 2 {
                    let r =
                        BatchReader::with_batch_bytes(input.as_bytes(), size).max_record_bytes(max);
                    let (records, err) = until_error(r);
                    let what = format!("{text} bytes, {term:?}, batch size {size}");
                    if text <= max {
                        assert!(err.is_none(), "{what}: {err:?}");
                        assert_eq!(records.len(), 3 - usize::from(term.is_empty()), "{what}");
                    } else {
                        assert!(
                            matches!(err, Some(ReadError::RecordTooLong { line: 3, limit: 40 })),
                            "{what}: {err:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn one_column_blank_lines_are_empty_records() {
        let input: &[u8] = b"\nslots\r\n1\r\n\r\n\n\r2\n\n";
        for size in 1..input.len() + 2 {
            let got = records(input, size);
            let fields: Vec<&Vec<Vec<u8>>> = got.iter().map(|g| &g.2).collect();
            let lines: Vec<u64> = got.iter().map(|g| g.0).collect();
            let e = vec![Vec::new()];
            assert_eq!(
                fields,
                [
                    &vec![b"slots".to_vec()],
                    &vec![b"1".to_vec()],
                    &e,
                    &e,
                    &e,
                    &vec![b"2".to_vec()],
                    &e
                ],
                "batch size {size}"
            );
            assert_eq!(lines, [2, 3, 4, 5, 6, 6, 7], "batch size {size}");
        }
        // Two columns: blank lines are skipped, as csv does.
        assert_eq!(records(b"a,b\n\n1,2\n", 4).len(), 2);
    }

    #[test]
    fn utf16_input_is_named() {
        for (input, name) in [
            (&b"\xff\xfea\0,\0b\0\n\0"[..], "UTF-16"),
            (b"\xfe\xff\0a", "UTF-16"),
            (b"\xff\xfe\0\0a\0\0\0", "UTF-32"),
            (b"\0\0\xfe\xff\0\0\0a", "UTF-32"),
        ] {
            for size in [1, 2, 3, 16] {
                let (records, err) = until_error(BatchReader::with_batch_bytes(input, size));
                assert!(records.is_empty());
                assert!(
                    matches!(err, Some(ReadError::Encoding { encoding }) if encoding == name),
                    "batch size {size}: {err:?}"
                );
            }
        }
    }

    #[test]
    fn empty_input_has_no_records() {
        assert!(records(b"", 16).is_empty());
        assert_eq!(records(b"h\n", 16).len(), 1);
    }
}
