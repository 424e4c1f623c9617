//! Output safety (issue 7): where `-o` and stdout may write, and what a
//! stopped run leaves. Every test works inside its own temporary folder.

use crate::support::{fixture, glyphsieve, root};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use tempfile::TempDir;

const HEADER: &str = "model,vram_gb,tdp_watts,mig_support\n";
const ROWS: &str = "A30,24,165,True\nL4,24,72,False\n";
const RULE: &str = "rules/quantization_capable.rule";

/// A temporary folder holding `in.csv` (the seed's header and two rows).
fn sandbox() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("in.csv");
    fs::write(&input, format!("{HEADER}{ROWS}")).expect("write input");
    (dir, input)
}

/// What `eval RULE in.csv` prints on stdout: what every `-o` must hold.
fn expected(input: &Path) -> Vec<u8> {
    let out = glyphsieve().arg("eval").arg(RULE).arg(input).output();
    let out = out.expect("runs");
    assert!(out.status.success(), "{out:?}");
    out.stdout
}

/// `eval RULE input -o out`.
fn eval_to(input: &Path, out: &Path) -> std::process::Output {
    glyphsieve()
        .arg("eval")
        .arg(RULE)
        .arg(input)
        .arg("-o")
        .arg(out)
        .output()
        .expect("runs")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The hidden temporary files left in `dir`.
fn temporaries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".glyphsieve-"))
        .collect()
}

fn symlink(target: &str, link: &Path) {
    std::os::unix::fs::symlink(target, link).expect("symlink");
}

fn assert_refused(out: &std::process::Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty());
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}:\n{err}");
    }
}

// ---------------------------------------------------------------------------
// Item 1: -o through symlinks, into FIFOs, never over what is not a file

#[test]
fn output_through_a_symlink_writes_its_target_and_keeps_the_link() {
    let (dir, input) = sandbox();
    let link = dir.path().join("link.csv");
    symlink("real.csv", &link);
    let out = eval_to(&input, &link);
    assert!(out.status.success(), "{}", stderr(&out));
    let meta = fs::symlink_metadata(&link).expect("link");
    assert!(meta.file_type().is_symlink(), "the link was replaced");
    assert_eq!(
        fs::read(dir.path().join("real.csv")).expect("target"),
        expected(&input)
    );
    assert!(temporaries(dir.path()).is_empty());
}

#[test]
fn output_through_a_symlink_chain_writes_the_final_target() {
    let (dir, input) = sandbox();
    fs::create_dir(dir.path().join("sub")).expect("mkdir");
    fs::write(dir.path().join("sub/final.csv"), "old\n").expect("write");
    // a -> sub/b -> final.csv (relative to sub/): each hop from its own folder.
    symlink("final.csv", &dir.path().join("sub/b"));
    symlink("sub/b", &dir.path().join("a"));
    let out = eval_to(&input, &dir.path().join("a"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        fs::symlink_metadata(dir.path().join("a"))
            .unwrap()
            .is_symlink()
    );
    assert!(
        fs::symlink_metadata(dir.path().join("sub/b"))
            .unwrap()
            .is_symlink()
    );
    assert_eq!(
        fs::read(dir.path().join("sub/final.csv")).expect("target"),
        expected(&input)
    );
    // The temporary file went beside the target, and is gone.
    assert!(temporaries(dir.path()).is_empty());
    assert!(temporaries(&dir.path().join("sub")).is_empty());
}

#[test]
fn output_through_a_dangling_symlink_creates_its_target() {
    let (dir, input) = sandbox();
    let link = dir.path().join("link.csv");
    symlink("new.csv", &link);
    let out = eval_to(&input, &link);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(
        fs::read(dir.path().join("new.csv")).expect("created"),
        expected(&input)
    );
}

#[test]
fn output_through_a_symlink_loop_is_refused() {
    let (dir, input) = sandbox();
    symlink("b", &dir.path().join("a"));
    symlink("a", &dir.path().join("b"));
    let out = eval_to(&input, &dir.path().join("a"));
    assert_refused(&out, &["symbolic links"]);
}

#[test]
fn output_into_a_fifo_streams_to_its_reader() {
    let (dir, input) = sandbox();
    let fifo = dir.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    // Opening a FIFO for reading waits for a writer: read on a thread.
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read(fifo).expect("read fifo"))
    };
    let out = eval_to(&input, &fifo);
    if !out.status.success() {
        // Free the reader (its open waits for a writer) before failing.
        drop(OpenOptions::new().write(true).open(&fifo));
        panic!("{}", stderr(&out));
    }
    let got = reader.join().expect("reader");
    assert_eq!(got, expected(&input));
    use std::os::unix::fs::FileTypeExt;
    let kind = fs::symlink_metadata(&fifo).expect("fifo").file_type();
    assert!(kind.is_fifo(), "the FIFO was replaced");
    assert!(temporaries(dir.path()).is_empty());
}

#[test]
fn read_only_output_file_is_refused_naming_it() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, input) = sandbox();
    let ro = dir.path().join("ro.csv");
    fs::write(&ro, "keep me\n").expect("write");
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o444)).expect("chmod");
    let out = eval_to(&input, &ro);
    assert_refused(&out, &["ro.csv", "read-only"]);
    assert_eq!(fs::read_to_string(&ro).expect("read"), "keep me\n");
    assert_eq!(
        fs::metadata(&ro).unwrap().permissions().mode() & 0o777,
        0o444
    );
    assert!(temporaries(dir.path()).is_empty());
}

#[test]
fn output_to_a_directory_says_it_is_a_directory() {
    let (dir, input) = sandbox();
    let out = glyphsieve()
        .current_dir(dir.path())
        .arg("eval")
        .arg(root().join(RULE))
        .arg(&input)
        .args(["-o", "."])
        .output()
        .expect("runs");
    assert_refused(&out, &["cannot write .", "is a directory"]);
    assert!(!stderr(&out).contains("busy"));
    assert!(temporaries(dir.path()).is_empty());
}

#[test]
fn output_to_a_socket_is_refused() {
    let (dir, input) = sandbox();
    let sock = dir.path().join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).expect("bind");
    let out = eval_to(&input, &sock);
    assert_refused(&out, &["sock", "is a socket"]);
    use std::os::unix::fs::FileTypeExt;
    assert!(fs::symlink_metadata(&sock).unwrap().file_type().is_socket());
}

#[test]
fn output_over_a_hard_link_to_the_input_is_refused() {
    let (dir, input) = sandbox();
    let hard = dir.path().join("hard.csv");
    fs::hard_link(&input, &hard).expect("hard link");
    let before = fs::read(&input).unwrap();
    let out = eval_to(&input, &hard);
    assert_refused(&out, &["refusing to write the output over the input"]);
    assert_eq!(fs::read(&input).unwrap(), before);
}

#[test]
fn output_over_a_symlink_to_the_input_is_refused() {
    let (dir, input) = sandbox();
    let link = dir.path().join("link.csv");
    symlink("in.csv", &link);
    let before = fs::read(&input).unwrap();
    let out = eval_to(&input, &link);
    assert_refused(&out, &["refusing to write the output over the input"]);
    assert_eq!(fs::read(&input).unwrap(), before);
    assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
}

#[test]
fn replaced_output_keeps_its_permission_bits() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, input) = sandbox();
    let out_path = dir.path().join("out.csv");
    fs::write(&out_path, "old\n").expect("write");
    fs::set_permissions(&out_path, fs::Permissions::from_mode(0o640)).expect("chmod");
    let out = eval_to(&input, &out_path);
    assert!(out.status.success(), "{}", stderr(&out));
    let mode = fs::metadata(&out_path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o640);
}

// ---------------------------------------------------------------------------
// Item 3: stdout (or -o with stdin) is the input file

#[test]
fn stdout_appended_to_the_input_is_refused() {
    let (_dir, input) = sandbox();
    let before = fs::read(&input).unwrap();
    let append = OpenOptions::new().append(true).open(&input).expect("open");
    let out = Command::new(assert_cmd::cargo::cargo_bin("glyphsieve"))
        .current_dir(root())
        .env("NO_COLOR", "1")
        .arg("eval")
        .arg("rules/")
        .arg(&input)
        .stdout(Stdio::from(append))
        .stderr(Stdio::piped())
        .output()
        .expect("runs");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("stdout is the input"), "{err}");
    assert!(err.contains("in.csv"), "{err}");
    assert_eq!(fs::read(&input).unwrap(), before);
}

#[test]
fn stdin_and_stdout_the_same_file_is_refused() {
    let (_dir, input) = sandbox();
    let before = fs::read(&input).unwrap();
    let append = OpenOptions::new().append(true).open(&input).expect("open");
    let out = Command::new(assert_cmd::cargo::cargo_bin("glyphsieve"))
        .current_dir(root())
        .env("NO_COLOR", "1")
        .args(["eval", RULE, "-"])
        .stdin(File::open(&input).expect("open"))
        .stdout(Stdio::from(append))
        .stderr(Stdio::piped())
        .output()
        .expect("runs");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("stdout is the input <stdin>"), "{err}");
    assert_eq!(fs::read(&input).unwrap(), before);
}

#[test]
fn stdout_to_another_file_still_works() {
    let (dir, input) = sandbox();
    let other = dir.path().join("other.csv");
    let out = Command::new(assert_cmd::cargo::cargo_bin("glyphsieve"))
        .current_dir(root())
        .args(["eval", RULE])
        .arg(&input)
        .stdout(Stdio::from(File::create(&other).expect("create")))
        .status()
        .expect("runs");
    assert!(out.success());
    assert_eq!(fs::read(&other).unwrap(), expected(&input));
}

// ---------------------------------------------------------------------------
// Item 4: a run stopped by a signal leaves nothing

/// Start `eval -o out.csv` on a stdin that stays open, and wait until its
/// temporary file exists (the run is then blocked reading).
fn start_blocked_run(dir: &Path) -> Child {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("glyphsieve"))
        .current_dir(root())
        .env("NO_COLOR", "1")
        .args(["eval", RULE, "-", "-o"])
        .arg(dir.join("out.csv"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawns");
    let stdin = child.stdin.as_mut().expect("stdin");
    stdin
        .write_all(format!("{HEADER}{ROWS}").as_bytes())
        .expect("feed");
    stdin.flush().expect("flush");
    // Poll (no deadline asserted: a hang fails by the harness's timeout).
    while temporaries(dir).is_empty() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the run ended before its temporary file appeared: {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child
}

fn stop_with(signal: &str, want: i32) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = start_blocked_run(dir.path());
    // `Child::wait` closes the child's stdin first: keep it open until the
    // child has exited, or the run sees the end of its input and may finish.
    let stdin = child.stdin.take();
    let killed = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("waits");
    drop(stdin);
    assert_eq!(status.code(), Some(want), "{status}");
    let left: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn sigterm_during_a_run_leaves_no_temporary_file() {
    stop_with("TERM", 143);
}

#[test]
fn sigint_during_a_run_leaves_no_temporary_file() {
    stop_with("INT", 130);
}

// ---------------------------------------------------------------------------
// Item 16m: eval shows the rules' warnings

#[test]
fn eval_shows_warnings_like_w401_once_on_stderr() {
    let (dir, input) = sandbox();
    let rule = dir.path().join("w.rule");
    fs::write(&rule, "rule r: float = vram_gb / 0\n").expect("write rule");
    let out = glyphsieve()
        .arg("eval")
        .arg(&rule)
        .arg(&input)
        .output()
        .expect("runs");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(err.matches("W401").count(), 1, "{err}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "model,vram_gb,tdp_watts,mig_support,r\n\
         A30,24,165,True,\n\
         L4,24,72,False,\n"
    );
}

#[test]
fn shipped_rules_evaluate_without_warnings() {
    let out = glyphsieve()
        .args(["eval", "rules/"])
        .arg(root().join("examples/listings.csv"))
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let out = glyphsieve()
        .arg("tag-quantization")
        .arg(fixture("cli/bad/header_only.csv"))
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("W4"), "{}", stderr(&out));
}
