//! `<state>/heartbeat`: the supervisor's per-tick sign of life (issue 18), one fixed-size line
//! beside `status.json`, which is now rewritten only when its content changes (or every few
//! seconds, see `supervisor::controller`). Before, the whole status file was rewritten every
//! tick (a temporary file, `fsync`, `rename`: 56 % of 100 idle supervisors' CPU, profiled); a
//! heartbeat is one `pwrite(2)` of [`LEN`] bytes into a file kept open.
//!
//! The line says which tick it is, the wall and `CLOCK_BOOTTIME` stamps of that tick, and which
//! `status.json` it vouches for: that file's device, inode, size and modification time. A reader
//! ([`super::status::Status::read`]) takes the heartbeat's tick and stamps only when they name
//! the very status file it read, so a heartbeat left over from an older file (rewritten by hand,
//! by another supervisor, restored from a backup) never makes that file look fresh. A checksum
//! ends the line: a write in place is not atomic for a reader, so a torn line (half old, half
//! new) or garbage fails the check and is read again, and if it stays bad it is ignored — the
//! status file's own stamps then decide, as before the heartbeat existed. A heartbeat can only
//! make a status look fresher when it is whole and names that status.

use std::io;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The file's name in the state directory.
pub const FILE_NAME: &str = "heartbeat";

/// Every heartbeat line is exactly this long (padded with spaces before its newline): a write
/// in place always covers the previous line whole.
pub const LEN: usize = 192;

/// The line's tag and format version.
const TAG: &str = "bbhb1";

/// How often a torn line is read again before it is ignored.
const TORN_RETRIES: u32 = 3;

/// Which status file a heartbeat goes with: what `fstat` says of it after it was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    /// Modification time, nanoseconds since the epoch (negative before it, as `stat` allows).
    pub mtime_ns: i128,
}

impl Identity {
    pub fn of(meta: &std::fs::Metadata) -> Identity {
        Identity {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        }
    }

    /// The identity of the file at `path` now (not following a symlink); `None` if there is none.
    pub fn at(path: &Path) -> Option<Identity> {
        std::fs::symlink_metadata(path)
            .ok()
            .filter(std::fs::Metadata::is_file)
            .map(|m| Identity::of(&m))
    }
}

/// One tick's heartbeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Beat {
    pub tick: u64,
    /// Unix seconds.
    pub wall: u64,
    /// `CLOCK_BOOTTIME` in milliseconds, when it could be read.
    pub boot_ms: Option<u64>,
    /// The status file this beat vouches for.
    pub status: Identity,
}

/// FNV-1a, 64 bits: enough to tell a torn or scribbled line from a whole one (this is no
/// defence against someone who can write the state directory; they can write status.json too).
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `body` as a whole line: its checksum appended, padded to [`LEN`] bytes; `None` if it does not
/// fit. What [`Beat::line`] writes, and how the fuzzer reaches the fields behind the checksum.
pub fn seal(body: &str) -> Option<[u8; LEN]> {
    let text = format!("{body} {:016x}", checksum(body.as_bytes()));
    if text.len() > LEN - 1 {
        return None;
    }
    let mut out = [b' '; LEN];
    out[..text.len()].copy_from_slice(text.as_bytes());
    out[LEN - 1] = b'\n';
    Some(out)
}

impl Beat {
    /// The line, exactly [`LEN`] bytes.
    pub fn line(&self) -> [u8; LEN] {
        let boot = self
            .boot_ms
            .map_or_else(|| "-".to_string(), |b| b.to_string());
        let s = &self.status;
        let body = format!(
            "{TAG} {} {} {boot} {}:{}:{}:{}",
            self.tick, self.wall, s.dev, s.ino, s.size, s.mtime_ns
        );
        // Every field is bounded (six u64s, one i128 of an i64's seconds): at most 178 bytes,
        // so the body always fits.
        seal(&body).unwrap_or([b' '; LEN])
    }

    /// Parses a line; `None` for anything but a whole line this format wrote (wrong length, tag,
    /// fields or checksum).
    pub fn parse(bytes: &[u8]) -> Option<Beat> {
        if bytes.len() != LEN || bytes[LEN - 1] != b'\n' {
            return None;
        }
        let text = std::str::from_utf8(&bytes[..LEN - 1]).ok()?.trim_end();
        let (body, sum) = text.rsplit_once(' ')?;
        if sum.len() != 16 || u64::from_str_radix(sum, 16).ok()? != checksum(body.as_bytes()) {
            return None;
        }
        let mut f = body.split(' ');
        if f.next()? != TAG {
            return None;
        }
        let tick = f.next()?.parse().ok()?;
        let wall = f.next()?.parse().ok()?;
        let boot_ms = match f.next()? {
            "-" => None,
            b => Some(b.parse().ok()?),
        };
        let mut id = f.next()?.split(':');
        let status = Identity {
            dev: id.next()?.parse().ok()?,
            ino: id.next()?.parse().ok()?,
            size: id.next()?.parse().ok()?,
            mtime_ns: id.next()?.parse().ok()?,
        };
        if id.next().is_some() || f.next().is_some() {
            return None;
        }
        Some(Beat {
            tick,
            wall,
            boot_ms,
            status,
        })
    }
}

/// The heartbeat file beside `status`.
pub fn path_beside(status: &Path) -> PathBuf {
    status.with_file_name(FILE_NAME)
}

/// Reads the heartbeat at `path`: `None` when there is none or it is not whole after a few
/// reads (torn by a concurrent write, or garbage). Only a regular file is read, at most one
/// line's worth and a byte (a bigger file is not one of ours), and never blocks at open.
pub fn read(path: &Path) -> Option<Beat> {
    (0..TORN_RETRIES).find_map(|_| Beat::parse(&read_once(path).ok()?))
}

fn read_once(path: &Path) -> io::Result<Vec<u8>> {
    super::read_capped(path, LEN as u64, libc::O_NOFOLLOW).map(|(bytes, _)| bytes)
}

/// The supervisor's side: the file kept open, written in place each tick.
#[derive(Debug)]
pub struct Writer {
    path: PathBuf,
    file: Option<std::fs::File>,
}

impl Writer {
    pub fn new(path: PathBuf) -> Writer {
        Writer { path, file: None }
    }

    /// Opens the file anew at its path (creating it), so a heartbeat whose file was removed
    /// (with the whole state directory, say) appears again. Called when status.json was
    /// rewritten, so at most a few seconds pass on a removed file.
    pub fn reopen(&mut self) {
        self.file = None;
    }

    /// Writes `beat` over the previous line: one `pwrite` when the file is open, else open
    /// (creating, mode 0644) first.
    pub fn write(&mut self, beat: &Beat) -> io::Result<()> {
        let line = beat.line();
        if let Some(f) = &self.file {
            return f.write_all_at(&line, 0);
        }
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&self.path)?;
        f.write_all_at(&line, 0)?;
        // A longer file left there (not one of ours) would keep its tail after our line.
        f.set_len(LEN as u64)?;
        self.file = Some(f);
        Ok(())
    }

    /// Removes the file (a clean stop).
    pub fn remove(&mut self) {
        self.file = None;
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beat() -> Beat {
        Beat {
            tick: 42,
            wall: 1_700_000_000,
            boot_ms: Some(123_456),
            status: Identity {
                dev: 2049,
                ino: 77,
                size: 1_234,
                mtime_ns: 1_700_000_000_123_456_789,
            },
        }
    }

    #[test]
    fn a_line_round_trips_and_has_the_fixed_length() {
        let b = beat();
        let line = b.line();
        assert_eq!(line.len(), LEN);
        assert_eq!(Beat::parse(&line), Some(b));
        let none = Beat {
            boot_ms: None,
            ..beat()
        };
        assert_eq!(Beat::parse(&none.line()), Some(none));
        // The largest values of every field still fit, whole, with the checksum.
        let max = Beat {
            tick: u64::MAX,
            wall: u64::MAX,
            boot_ms: Some(u64::MAX),
            status: Identity {
                dev: u64::MAX,
                ino: u64::MAX,
                size: u64::MAX,
                mtime_ns: i128::from(i64::MIN) * 1_000_000_000 - 999_999_999,
            },
        };
        assert_eq!(Beat::parse(&max.line()), Some(max));
    }

    /// A torn line — the start of one write and the end of another, at every split point — or
    /// any one byte changed is never taken for a heartbeat.
    #[test]
    fn torn_or_scribbled_lines_are_refused() {
        let old = beat().line();
        let new = Beat {
            tick: 43,
            wall: 1_700_000_001,
            boot_ms: Some(124_456),
            ..beat()
        }
        .line();
        for split in 1..LEN {
            let mut torn = new;
            torn[split..].copy_from_slice(&old[split..]);
            if torn != new && torn != old {
                assert_eq!(Beat::parse(&torn), None, "split at {split}");
            }
        }
        for i in 0..LEN {
            let mut bad = old;
            bad[i] ^= 0x01;
            assert_eq!(Beat::parse(&bad), None, "byte {i}");
        }
        assert_eq!(Beat::parse(&old[..LEN - 1]), None, "short");
        assert_eq!(Beat::parse(b""), None);
        assert_eq!(Beat::parse(&[b'x'; LEN]), None);
    }

    #[test]
    fn the_writer_overwrites_in_place_and_comes_back_after_removal() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE_NAME);
        assert_eq!(read(&p), None);
        // A longer foreign file there: cut to one line.
        std::fs::write(&p, vec![b'z'; 1000]).unwrap();
        let mut w = Writer::new(p.clone());
        w.write(&beat()).unwrap();
        assert_eq!(read(&p), Some(beat()));
        let ino = std::fs::metadata(&p).unwrap().ino();
        let next = Beat { tick: 43, ..beat() };
        w.write(&next).unwrap();
        assert_eq!(read(&p), Some(next));
        assert_eq!(
            std::fs::metadata(&p).unwrap().ino(),
            ino,
            "written in place"
        );
        assert_eq!(std::fs::metadata(&p).unwrap().len(), LEN as u64);
        // Removed under the writer: the open file takes the writes until reopened.
        std::fs::remove_file(&p).unwrap();
        w.write(&beat()).unwrap();
        assert_eq!(read(&p), None);
        w.reopen();
        w.write(&beat()).unwrap();
        assert_eq!(read(&p), Some(beat()));
        let mode = std::fs::metadata(&p).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o644);
        w.remove();
        assert!(!p.exists());
    }

    #[test]
    fn only_a_small_regular_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE_NAME);
        let mut long = beat().line().to_vec();
        long.push(b'\n');
        std::fs::write(&p, &long).unwrap();
        assert_eq!(read(&p), None, "a line and a byte");
        std::fs::remove_file(&p).unwrap();
        let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let t = std::time::Instant::now();
        assert_eq!(read(&p), None);
        assert!(t.elapsed() < std::time::Duration::from_secs(1));
        std::fs::remove_file(&p).unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), &p).unwrap();
        std::fs::write(dir.path().join("elsewhere"), beat().line()).unwrap();
        assert_eq!(read(&p), None, "a symlink is not followed");
    }
}
