//! Streaming CSV input in batches of whole records: the raw bytes of each
//! record (copied to the output unchanged) and its unescaped fields (read by
//! rules). Memory is bounded by the batch size, whatever the file size.

use std::io::{self, Read};

/// Raw input read per batch; a record longer than this grows the buffer.
pub const BATCH_BYTES: usize = 256 << 10;

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
        self.first_line + count_lines(&self.raw[..start + lead(r)])
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

/// Give back most of a buffer that one huge record grew far past a batch.
pub fn shrink_if_huge(buf: &mut Vec<u8>, batch_bytes: usize) {
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
    /// Whether the first batch (where a BOM may stand) has been read.
    started: bool,
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
            batch_bytes: batch_bytes.max(1),
            started: false,
        }
    }

    /// Fill `batch` with the next whole records; `false` at end of input.
    pub fn next_batch(&mut self, batch: &mut Batch) -> io::Result<bool> {
        batch.clear();
        batch.trim(self.batch_bytes);
        batch.first_line = self.line;
        std::mem::swap(&mut batch.raw, &mut self.carry);
        self.carry.clear();
        // Grows for one record longer than a batch, for this batch only.
        let mut limit = self.batch_bytes;
        loop {
            // Fill up to the batch size (more if one record is longer).
            let want = limit.max(batch.raw.len() + limit / 4);
            while !self.eof && batch.raw.len() < want {
                let old = batch.raw.len();
                batch.raw.resize(want, 0);
                let n = read_some(&mut self.src, &mut batch.raw[old..])?;
                batch.raw.truncate(old + n);
                if n == 0 {
                    self.eof = true;
                }
            }
            let consumed = self.parse(batch);
            if batch.is_empty() && !self.eof {
                // One record longer than the batch: read more and parse again.
                limit *= 2;
                continue;
            }
            self.carry.extend_from_slice(&batch.raw[consumed..]);
            batch.raw.truncate(consumed);
            self.line += count_lines(&batch.raw);
            self.started = true;
            return Ok(!batch.is_empty());
        }
    }

    /// Parse whole records from `batch.raw`; returns the bytes they span.
    /// A record cut off by the end of the read is left for the next batch.
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
            batch.bom = batch.raw.starts_with(BOM);
            if batch.bom {
                pos = BOM.len();
            }
        }
        let mut ends = [0usize; 64];
        let mut out = 0;
        'records: loop {
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
                    .extend(ends[..nend].iter().map(|&e| (record_out + e) as u32));
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
                        pos += nread;
                        batch.raw_ends.push(pos as u32);
                        batch.record_ends.push(batch.field_ends.len() as u32);
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

    #[test]
    fn empty_input_has_no_records() {
        assert!(records(b"", 16).is_empty());
        assert_eq!(records(b"h\n", 16).len(), 1);
    }
}
