//! The one way a spec or legacy config file is read: a regular file (symlinks to one are
//! fine), at most [`MAX_FILE_BYTES`], UTF-8. Anything else fails at once with an error naming
//! the file, before its content costs memory or time: `/dev/zero` is refused by type rather than
//! read until memory runs out, a FIFO is opened without blocking (`O_NONBLOCK`) and refused, and
//! a file that grows while read is cut at the cap plus one byte and refused.

use std::fs::Metadata;
use std::io::Read as _;
use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
use std::path::Path;

use super::checker::line_col;
use super::SpecError;

/// Largest spec or legacy file read: 1 MiB. The talk's spec is 300 bytes; a spec at every count
/// limit (4,096 nodes of the usual three or four keys, 256 VIPs) is under 400 KiB.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Reads `file`'s bytes: a regular file of at most [`MAX_FILE_BYTES`].
pub fn read_bytes(file: &Path) -> Result<Vec<u8>, SpecError> {
    let io = |source: std::io::Error| SpecError::Read {
        file: file.to_path_buf(),
        source,
    };
    // Look before opening: opening a device can itself have effects (a tape rewinds, a tty
    // becomes the controlling terminal).
    check_type(file, &std::fs::metadata(file).map_err(io)?)?;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(file)
        .map_err(io)?;
    // Again on what was opened: the path may have been replaced in between.
    let meta = f.metadata().map_err(io)?;
    check_type(file, &meta)?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_big(file));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    (&f).take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big(file));
    }
    Ok(bytes)
}

/// Reads `file` as text: [`read_bytes`], then UTF-8 (an error names the line and column of the
/// first byte that is not).
pub fn read_text(file: &Path) -> Result<String, SpecError> {
    let bytes = read_bytes(file)?;
    text(file, bytes)
}

/// `bytes` read from `file` as UTF-8 text.
pub fn text(file: &Path, bytes: Vec<u8>) -> Result<String, SpecError> {
    String::from_utf8(bytes).map_err(|e| {
        let good = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        // The prefix is valid UTF-8 by definition of `valid_up_to`.
        let before = std::str::from_utf8(&bytes[..good]).unwrap_or("");
        let (line, column) = line_col(before, before.len());
        SpecError::Parse {
            file: file.to_path_buf(),
            line: Some(line),
            column: Some(column),
            message: format!(
                "expected UTF-8 text, not the byte 0x{:02X}",
                bytes.get(good).copied().unwrap_or(0)
            ),
        }
    })
}

fn check_type(file: &Path, meta: &Metadata) -> Result<(), SpecError> {
    let t = meta.file_type();
    let what = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    };
    Err(SpecError::Unfit {
        file: file.to_path_buf(),
        expected: format!("a regular file, not {what}"),
    })
}

fn too_big(file: &Path) -> SpecError {
    SpecError::Unfit {
        file: file.to_path_buf(),
        expected: format!(
            "a file of at most {} KiB (a spec or big_brother config is far smaller)",
            MAX_FILE_BYTES / 1024
        ),
    }
}

/// A short, stable digest of a spec file's bytes (FNV-1a, 64 bit): enough to tell operators and
/// `reload` whether the running spec is the one on disk. Not a security property.
pub fn digest(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_stable() {
        assert_eq!(digest(b""), "fnv1a64:cbf29ce484222325");
        assert_ne!(digest(b"a"), digest(b"b"));
    }
    use std::time::{Duration, Instant};

    fn unfit(file: &Path) -> String {
        match read_text(file) {
            Err(e @ SpecError::Unfit { .. }) => {
                assert!(!e.is_missing() && !e.is_denied());
                e.to_string()
            }
            other => panic!("{}: expected Unfit, got {other:?}", file.display()),
        }
    }

    #[test]
    fn devices_fifos_and_directories_are_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let t = Instant::now();
        assert!(unfit(Path::new("/dev/zero"))
            .contains("/dev/zero: expected a regular file, not a character device"));
        let link = dir.path().join("zero.toml");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(unfit(&link).contains("not a character device"));
        let fifo = dir.path().join("fifo.yml");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: `c` is a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(unfit(&fifo).contains("not a FIFO"));
        assert!(unfit(dir.path()).contains("not a directory"));
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    }

    #[test]
    fn size_is_capped_and_symlinks_to_files_are_fine() {
        let dir = tempfile::tempdir().unwrap();
        let at_cap = dir.path().join("cap.toml");
        std::fs::write(&at_cap, vec![b'#'; MAX_FILE_BYTES as usize]).unwrap();
        assert_eq!(read_text(&at_cap).unwrap().len(), MAX_FILE_BYTES as usize);
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(&at_cap, &link).unwrap();
        assert!(read_text(&link).is_ok());
        let over = dir.path().join("over.toml");
        std::fs::write(&over, vec![b'#'; MAX_FILE_BYTES as usize + 1]).unwrap();
        assert!(unfit(&over).contains("at most 1024 KiB"));
    }

    #[test]
    fn missing_files_keep_their_io_error() {
        let e = read_text(Path::new("/nonexistent/x.toml")).unwrap_err();
        assert!(matches!(e, SpecError::Read { .. }), "{e:?}");
        assert!(e.is_missing());
    }

    #[test]
    fn non_utf8_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("latin1.toml");
        std::fs::write(&f, b"name = \"w\"\ndescription = \"caf\xe9\"\n").unwrap();
        let e = read_text(&f).unwrap_err();
        assert!(!e.is_missing());
        let msg = e.to_string();
        assert!(
            msg.ends_with("latin1.toml:2:19: expected UTF-8 text, not the byte 0xE9"),
            "{msg}"
        );
    }
}
