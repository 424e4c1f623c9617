//! The CSV input path end to end (issue 7): unclosed quotes, one-column
//! files, the longest record, UTF-16 input, and errors that echo hostile
//! headers and cells.

use crate::support::glyphsieve;
use std::path::Path;

/// A rule file in `dir`.
fn rule(dir: &Path, text: &str) -> String {
    let path = dir.join("r.rule");
    std::fs::write(&path, text).expect("write the rule");
    path.display().to_string()
}

const SLOTS_RULE: &str = "rule two: bool = slots >= 2\n";

#[test]
fn unterminated_quote_at_eof_is_a_located_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let r = rule(dir.path(), SLOTS_RULE);
    let out = dir.path().join("out.csv");
    let assert = glyphsieve()
        .args(["eval", &r, "-", "-o"])
        .arg(&out)
        .write_stdin("slots,notes\n1,\"abc\n2,d\n3,e\n")
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains(
            "<stdin>:2: a quoted field opened here (column `notes`) is never closed: the file ends inside it"
        ),
        "{stderr}"
    );
    assert!(!out.exists(), "no output file");
    // To stdout: nothing either (the error comes with the first batch).
    glyphsieve()
        .args(["eval", &r, "-"])
        .write_stdin("slots,notes\n1,ok\n2,\"cut off")
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicates::str::contains(
            "<stdin>:3: a quoted field opened here (column `notes`)",
        ));
}

/// The same past the first batch: the error comes after rows were read, and
/// still names the column.
#[test]
fn unterminated_quote_after_many_rows_names_its_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    let r = rule(dir.path(), SLOTS_RULE);
    let out = dir.path().join("out.csv");
    let mut input = String::from("slots,notes\n");
    for _ in 0..50_000 {
        input.push_str("2,\"a, b\"\n");
    }
    input.push_str("1,\"cut\noff");
    glyphsieve()
        .args(["eval", &r, "-", "--threads", "2", "-o"])
        .arg(&out)
        .write_stdin(input)
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "<stdin>:50002: a quoted field opened here (column `notes`) is never closed",
        ));
    assert!(!out.exists(), "no output file");
}

#[test]
fn single_column_blank_line_is_a_row_with_an_empty_cell() {
    let dir = tempfile::tempdir().expect("temp dir");
    let r = rule(dir.path(), SLOTS_RULE);
    glyphsieve()
        .args(["eval", &r, "-"])
        .write_stdin("slots\n1\n\n2\n")
        .assert()
        .success()
        .stdout("slots,two\n1,false\n,\n2,true\n");
    glyphsieve()
        .args(["eval", &r, "-"])
        .write_stdin("slots\r\n1\r\n\r\n2\r\n")
        .assert()
        .success()
        .stdout("slots,two\r\n1,false\r\n,\r\n2,true\r\n");
    // Two columns: a blank line is still skipped.
    glyphsieve()
        .args(["eval", &r, "-"])
        .write_stdin("slots,x\n1,a\n\n2,b\n")
        .assert()
        .success()
        .stdout("slots,x,two\n1,a,false\n2,b,true\n");
}

#[test]
fn replace_writes_an_empty_single_field_as_quoted_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    // `1 % 0` is missing: the replaced column becomes empty.
    let r = rule(dir.path(), "rule flag: int = 1 % 0\n");
    let out = dir.path().join("out.csv");
    glyphsieve()
        .args(["eval", &r, "-", "--replace", "-o"])
        .arg(&out)
        .write_stdin("flag\n1\nx\n")
        .assert()
        .success();
    let written = std::fs::read_to_string(&out).expect("output");
    assert_eq!(written, "flag\n\"\"\n\"\"\n");
    // It reads back with its two rows.
    let rows = csv::Reader::from_reader(written.as_bytes())
        .records()
        .count();
    assert_eq!(rows, 2);
    // And through glyphsieve again: blank lines would be rows too, but the
    // output need not rely on it.
    glyphsieve()
        .args(["eval", &r, "-", "--replace"])
        .write_stdin(written)
        .assert()
        .success()
        .stdout("flag\n\"\"\n\"\"\n");
}

#[test]
fn never_ending_record_stops_at_max_record_bytes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let r = rule(dir.path(), SLOTS_RULE);
    let out = dir.path().join("out.csv");
    let mut input = b"slots,x\n1,a\n\n2,".to_vec();
    input.resize(input.len() + 100_000, 0);
    glyphsieve()
        .args(["eval", &r, "-", "--max-record-bytes", "1KiB", "-o"])
        .arg(&out)
        .write_stdin(input)
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "<stdin>:4: a record is longer than 1 KiB (--max-record-bytes)",
        ));
    assert!(!out.exists(), "no output file");
    // A record of exactly the limit passes.
    let mut input = b"slots,x\n1,".to_vec();
    input.resize(input.len() + 1022, b'x');
    input.push(b'\n');
    glyphsieve()
        .args(["eval", &r, "-", "--max-record-bytes", "1024"])
        .write_stdin(input)
        .assert()
        .success();
}

#[test]
fn max_record_bytes_over_1gib_or_malformed_is_a_usage_error() {
    for bad in ["2GiB", "0", "lots", "1T"] {
        glyphsieve()
            .args(["tag-quantization", "-", "--max-record-bytes", bad])
            .write_stdin("x\n")
            .assert()
            .code(2)
            .stderr(predicates::str::contains("--max-record-bytes"));
    }
}

#[test]
fn utf16_input_names_its_encoding() {
    let dir = tempfile::tempdir().expect("temp dir");
    let r = rule(dir.path(), SLOTS_RULE);
    let mut utf16 = vec![0xff, 0xfe];
    for unit in "slots\n1\n".encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    let assert = glyphsieve()
        .args(["eval", &r, "-"])
        .write_stdin(utf16)
        .assert()
        .code(1)
        .stdout("");
    let stderr = &assert.get_output().stderr;
    assert!(!stderr.contains(&0), "no NUL on stderr");
    let stderr = String::from_utf8_lossy(stderr);
    assert!(
        stderr.contains("<stdin>: the file is UTF-16 (it starts with a UTF-16 byte order mark); glyphsieve reads UTF-8: convert it first, e.g. iconv -f UTF-16 -t UTF-8"),
        "{stderr}"
    );
}

#[test]
fn huge_header_and_cell_are_shortened_and_escaped_in_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let r = rule(dir.path(), SLOTS_RULE);
    // A million-column header lacking `slots`, with terminal escapes.
    let header: Vec<String> = (0..1_000_000).map(|i| format!("c\x1b[31m{i}")).collect();
    let assert = glyphsieve()
        .args(["eval", &r, "-"])
        .write_stdin(format!("{}\n", header.join(",")))
        .assert()
        .code(1);
    let stderr = &assert.get_output().stderr;
    assert!(stderr.len() < 2000, "{} bytes of error", stderr.len());
    assert!(!stderr.contains(&0x1b), "no escape byte on stderr");
    let stderr = String::from_utf8_lossy(stderr);
    assert!(
        stderr.contains("c\\u{1b}[31m19, … and 999980 more"),
        "{stderr}"
    );
    // A 5 MB bad cell.
    let cell = "9".repeat(5_000_000) + "x\x1b";
    let assert = glyphsieve()
        .args(["eval", &r, "-"])
        .write_stdin(format!("slots\n{cell}\n"))
        .assert()
        .code(1);
    let stderr = &assert.get_output().stderr;
    assert!(stderr.len() < 1000, "{} bytes of error", stderr.len());
    let stderr = String::from_utf8_lossy(stderr);
    assert!(
        stderr.contains(&format!(
            "<stdin>:2: column `slots`: cannot read \"{}\"… (4999922 more bytes) as int",
            "9".repeat(80)
        )),
        "{stderr}"
    );
}
