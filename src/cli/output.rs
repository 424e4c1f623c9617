//! Where `eval` output goes (stdout or `-o FILE`), and the checks that keep a run from losing bytes.
//!
//! One concern, one place: resolving `-o` through symlinks, refusing targets
//! that are not regular files (or that are the input, or read-only), writing a
//! regular file atomically through a temporary file beside it, streaming into a
//! FIFO or character device, and removing the temporary file when the run is
//! stopped by SIGINT, SIGTERM or SIGHUP.

use crate::data::pipeline::{DataError, Job, Summary, run};
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// How many symbolic links `-o` may go through, as the kernel's ELOOP limit.
pub const MAX_SYMLINK_HOPS: usize = 40;

/// Errors of the output step: usage problems (exit 2) or data problems.
pub enum OutputError {
    Usage(String),
    Data(DataError),
}

/// A file's identity: device and inode (what `cat` compares to refuse
/// `cat f >> f`). Hard links and symlinks to one file share it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    #[cfg(unix)]
    pub fn of(meta: &Metadata) -> Option<FileId> {
        use std::os::unix::fs::MetadataExt;
        Some(FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }

    #[cfg(not(unix))]
    pub fn of(_meta: &Metadata) -> Option<FileId> {
        None
    }
}

/// The data a command reads: a file, or stdin for `-`.
pub struct Input {
    pub reader: Box<dyn io::Read + Send>,
    /// Names it in messages (`<stdin>` for stdin).
    pub name: String,
    /// Its size, when it is a file (for the progress bar).
    pub size: Option<u64>,
    /// Its device and inode, so that no output (a file, stdout) can be
    /// the input itself.
    pub id: Option<FileId>,
}

/// Run `job` over `input` into stdout, buffered. `Ok(None)`: stdout was
/// closed before the end (`| head`); a broken pipe is not an error.
pub fn run_to_stdout(
    input: Box<dyn io::Read + Send>,
    job: &Job,
) -> Result<Option<Summary>, OutputError> {
    let stdout = io::stdout();
    let mut w = BufWriter::with_capacity(1 << 16, stdout.lock());
    match run(input, &mut w, job) {
        Err(DataError::Write { error, .. }) if error.kind() == io::ErrorKind::BrokenPipe => {
            Ok(None)
        }
        other => other.map(Some).map_err(OutputError::Data),
    }
}

impl Input {
    /// Open `path` (`-`: stdin). `Err`: the error message, naming the file.
    pub fn open(path: &Path) -> Result<Input, String> {
        if path == Path::new("-") {
            return Ok(Input {
                reader: Box::new(io::stdin()),
                name: "<stdin>".to_string(),
                size: None,
                id: stdin_file(),
            });
        }
        let name = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|e| format!("cannot read {name}: {e}"))?;
        let meta = f.metadata().ok();
        Ok(Input {
            reader: Box::new(f),
            size: meta.as_ref().map(|m| m.len()),
            id: meta.as_ref().and_then(FileId::of),
            name,
        })
    }
}

/// The identity of standard input when it is a regular file (`< f`); a
/// terminal or a pipe is never "the input file".
#[cfg(unix)]
pub fn stdin_file() -> Option<FileId> {
    use std::os::fd::AsFd;
    regular_file_id(io::stdin().as_fd())
}

/// The identity of standard output when it is a regular file (`> f`, `>> f`).
#[cfg(unix)]
pub fn stdout_file() -> Option<FileId> {
    use std::os::fd::AsFd;
    regular_file_id(io::stdout().as_fd())
}

#[cfg(not(unix))]
pub fn stdin_file() -> Option<FileId> {
    None
}

#[cfg(not(unix))]
pub fn stdout_file() -> Option<FileId> {
    None
}

/// fstat on a duplicate of the descriptor: no `unsafe`, no /dev/stdin path
/// (which would name the terminal or pipe of whoever opens it).
#[cfg(unix)]
fn regular_file_id(fd: std::os::fd::BorrowedFd<'_>) -> Option<FileId> {
    let meta = File::from(fd.try_clone_to_owned().ok()?).metadata().ok()?;
    if meta.is_file() {
        FileId::of(&meta)
    } else {
        None
    }
}

/// Refuse to send the output to stdout when stdout is the input file
/// (`glyphsieve eval rules/ big.csv >> big.csv` would grow it without end).
pub fn check_stdout(input: Option<FileId>, input_name: &str) -> Result<(), OutputError> {
    match (input, stdout_file()) {
        (Some(a), Some(b)) if a == b => Err(OutputError::Usage(format!(
            "refusing to write the output to stdout: stdout is the input {input_name}; \
             redirect it to another file or use -o"
        ))),
        _ => Ok(()),
    }
}

/// What the `-o` path is, once symbolic links are followed.
#[derive(Debug, PartialEq, Eq)]
pub enum Kind {
    /// Nothing there yet: a new regular file.
    Missing,
    Regular,
    Directory,
    Fifo,
    CharDevice,
    BlockDevice,
    Socket,
    Other,
}

impl Kind {
    /// What the path is, from its (not followed) metadata.
    pub fn of(meta: &Metadata) -> Kind {
        let t = meta.file_type();
        if t.is_file() {
            return Kind::Regular;
        }
        if t.is_dir() {
            return Kind::Directory;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if t.is_fifo() {
                return Kind::Fifo;
            }
            if t.is_char_device() {
                return Kind::CharDevice;
            }
            if t.is_block_device() {
                return Kind::BlockDevice;
            }
            if t.is_socket() {
                return Kind::Socket;
            }
        }
        Kind::Other
    }

    fn describe(&self) -> &'static str {
        match self {
            Kind::Missing => "missing",
            Kind::Regular => "a regular file",
            Kind::Directory => "a directory",
            Kind::Fifo => "a FIFO",
            Kind::CharDevice => "a character device",
            Kind::BlockDevice => "a block device",
            Kind::Socket => "a socket",
            Kind::Other => "not a regular file",
        }
    }
}

/// Follow `path` through symbolic links (at most [`MAX_SYMLINK_HOPS`]), each
/// relative target read against its link's folder, to the path that is not a
/// link: that file is the one written. A dangling link yields its target,
/// which the run creates.
pub fn resolve_symlinks(path: &Path) -> Result<PathBuf, String> {
    let mut current = path.to_path_buf();
    for _ in 0..=MAX_SYMLINK_HOPS {
        match std::fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&current)
                    .map_err(|e| format!("cannot read the link {}: {e}", current.display()))?;
                current = match current.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(format!(
        "cannot write {}: more than {MAX_SYMLINK_HOPS} symbolic links to follow (a loop?)",
        path.display()
    ))
}

/// Run `body` into the file at `path`. A regular (or new) file is written
/// through a temporary file beside it, renamed over it only on success: a
/// failed or stopped run leaves nothing behind. A FIFO or character device is
/// written straight into. Anything else, the input itself, and a read-only
/// file are refused (exit 2).
pub fn write_to<F>(
    path: &Path,
    input: Option<FileId>,
    input_name: &str,
    body: F,
) -> Result<Summary, OutputError>
where
    F: FnOnce(&mut dyn Write) -> Result<Summary, DataError>,
{
    let usage = |m: String| OutputError::Usage(m);
    let target = resolve_symlinks(path).map_err(usage)?;
    // The path as the user gave it, and where a link led when it differs.
    let shown = if target == path {
        path.display().to_string()
    } else {
        format!("{} (-> {})", path.display(), target.display())
    };
    let meta = match std::fs::symlink_metadata(&target) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(usage(format!("cannot write {shown}: {e}"))),
    };
    let kind = meta.as_ref().map_or(Kind::Missing, Kind::of);
    let target_id = meta.as_ref().and_then(FileId::of);
    if input.is_some() && input == target_id {
        return Err(usage(format!(
            "refusing to write the output over the input {input_name} \
             (-o {shown} is the same file); choose another -o"
        )));
    }
    match kind {
        Kind::Missing => write_atomically(&target, &shown, None, body),
        Kind::Regular => {
            let meta = meta.as_ref();
            if let Some(why) = meta.and_then(|m| read_only(&target, m)) {
                return Err(usage(format!(
                    "refusing to replace {shown}: it is read-only ({why}); \
                     make it writable or choose another -o"
                )));
            }
            write_atomically(&target, &shown, meta, body)
        }
        Kind::Fifo | Kind::CharDevice => stream_into(&target, &shown, body),
        other => Err(usage(format!(
            "cannot write {shown}: it is {}; -o needs a regular file, a FIFO or a character device",
            other.describe()
        ))),
    }
}

/// Why an existing regular file must not be replaced, if it must not: no
/// write bit at all (root passes every access check, so the mode bits are
/// what says "read-only"), or opening it for writing is refused.
fn read_only(path: &Path, meta: &Metadata) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o222 == 0 {
            return Some(format!("mode {:o}", mode & 0o7777));
        }
    }
    #[cfg(not(unix))]
    if meta.permissions().readonly() {
        return Some("read-only attribute".to_string());
    }
    // Neither create nor truncate: this open changes nothing.
    match OpenOptions::new().write(true).open(path) {
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Some(e.to_string()),
        _ => None,
    }
}

/// Write into a FIFO or character device as it comes (a temporary file and
/// a rename would replace the node, and its reader would get nothing).
fn stream_into<F>(target: &Path, shown: &str, body: F) -> Result<Summary, OutputError>
where
    F: FnOnce(&mut dyn Write) -> Result<Summary, DataError>,
{
    let file = OpenOptions::new()
        .write(true)
        .open(target)
        .map_err(|e| OutputError::Usage(format!("cannot write {shown}: {e}")))?;
    let mut w = BufWriter::with_capacity(1 << 16, file);
    let summary = body(&mut w).map_err(OutputError::Data)?;
    w.flush()
        .map_err(|e| OutputError::Usage(format!("cannot write {shown}: {e}")))?;
    Ok(summary)
}

fn write_atomically<F>(
    target: &Path,
    shown: &str,
    existing: Option<&Metadata>,
    body: F,
) -> Result<Summary, OutputError>
where
    F: FnOnce(&mut dyn Write) -> Result<Summary, DataError>,
{
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = live::create_in(&dir)
        .map_err(|e| OutputError::Usage(format!("cannot write in {}: {e}", dir.display())))?;
    let summary = {
        let mut w = BufWriter::with_capacity(1 << 16, &mut tmp);
        let s = body(&mut w).map_err(OutputError::Data)?;
        w.flush()
            .map_err(|e| OutputError::Usage(format!("cannot write {shown}: {e}")))?;
        s
    };
    // Keep the permission bits of the file replaced.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = existing.map_or(0o644, |m| m.permissions().mode());
        let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = existing;
    tmp.persist(target)
        .map_err(|e| OutputError::Usage(format!("cannot write {shown}: {e}")))?;
    Ok(summary)
}

/// Temporary files being written, removed when a signal stops the run.
mod live {
    use std::io;
    use std::path::{Path, PathBuf};
    use std::sync::{Mutex, MutexGuard, Once};

    /// The paths of the live temporary files. Holding the lock makes the
    /// rename of a finished output and the removal on a signal exclusive: a
    /// signal during the rename can neither delete the finished output nor
    /// leave the temporary file.
    static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    static HANDLER: Once = Once::new();

    fn live() -> MutexGuard<'static, Vec<PathBuf>> {
        // A panic while holding the lock leaves a usable list.
        LIVE.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A temporary file registered for removal on SIGINT, SIGTERM, SIGHUP.
    pub struct Temp {
        file: Option<tempfile::NamedTempFile>,
    }

    pub fn create_in(dir: &Path) -> io::Result<Temp> {
        // Only commands that write a file catch signals; installed before the
        // file exists, so no window leaves it unregistered.
        install_handler();
        let mut list = live();
        let file = tempfile::Builder::new()
            .prefix(".glyphsieve-")
            .suffix(".tmp")
            .tempfile_in(dir)?;
        list.push(file.path().to_path_buf());
        Ok(Temp { file: Some(file) })
    }

    impl Temp {
        pub fn path(&self) -> &Path {
            self.file.as_ref().map_or(Path::new(""), |f| f.path())
        }

        /// Rename over `target`, under the lock (see [`LIVE`]).
        pub fn persist(mut self, target: &Path) -> io::Result<()> {
            let mut list = live();
            let Some(file) = self.file.take() else {
                return Ok(());
            };
            let path = file.path().to_path_buf();
            list.retain(|p| *p != path);
            // On failure the returned NamedTempFile is dropped here: removed.
            file.persist(target).map(|_| ()).map_err(|e| e.error)
        }
    }

    impl Drop for Temp {
        fn drop(&mut self) {
            let mut list = live();
            if let Some(file) = self.file.take() {
                let path = file.path().to_path_buf();
                list.retain(|p| *p != path);
                drop(file);
            }
        }
    }

    impl io::Write for Temp {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            match &mut self.file {
                Some(f) => f.write(buf),
                None => Err(closed()),
            }
        }
        fn flush(&mut self) -> io::Result<()> {
            match &mut self.file {
                Some(f) => f.flush(),
                None => Err(closed()),
            }
        }
    }

    /// Only persist and drop take the file, and both end the Temp.
    fn closed() -> io::Error {
        io::Error::other("temporary file already closed")
    }

    #[cfg(unix)]
    fn install_handler() {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        HANDLER.call_once(|| {
            // If the handler cannot be installed the run goes on: a signal
            // then stops it the default way (the temp file may stay).
            let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
            else {
                return;
            };
            let _ = std::thread::Builder::new()
                .name("glyphsieve-signals".into())
                .spawn(move || {
                    if let Some(signal) = signals.forever().next() {
                        // The lock stays held to the exit: no rename starts.
                        let list = live();
                        for p in list.iter() {
                            let _ = std::fs::remove_file(p);
                        }
                        std::process::exit(128 + signal);
                    }
                });
        });
    }

    #[cfg(not(unix))]
    fn install_handler() {
        HANDLER.call_once(|| {});
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn dev_null_is_classified_as_a_character_device() {
        // Reads metadata only: nothing is written to /dev/null.
        let meta = std::fs::symlink_metadata("/dev/null").expect("/dev/null exists");
        assert_eq!(Kind::of(&meta), Kind::CharDevice);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loop_is_refused_after_bounded_hops() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::os::unix::fs::symlink("b", &a).expect("symlink");
        std::os::unix::fs::symlink("a", &b).expect("symlink");
        let e = resolve_symlinks(&a).expect_err("a loop");
        assert!(e.contains("symbolic links"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn relative_symlink_resolves_against_its_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        let link = dir.path().join("sub/link");
        std::os::unix::fs::symlink("../real.csv", &link).expect("symlink");
        assert_eq!(
            resolve_symlinks(&link).expect("resolves"),
            dir.path().join("sub/../real.csv")
        );
    }
}
