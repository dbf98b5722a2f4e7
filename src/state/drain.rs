//! Operator drains: the set of node ids forced to weight 0 for maintenance (`big_brother drain
//! CLUSTER NODE`, the balancer-side twin of `litmusctl force down`).
//!
//! Stored as one node id per line in `<data dir>/<cluster>/drain`, where the data dir is
//! `$BIG_BROTHER_DATA_DIR` or `/var/lib/big_brother`: a persistent directory, not the state dir
//! under `$HA_RSCTMP` (cleared at boot), because an operator who drained a node for maintenance
//! expects it to stay drained across supervisor restarts, reloads and reboots until they undrain
//! it. Writes are atomic (temp file, fsync, rename) and serialised by an `flock` on
//! `drain.lock`, so two operators never lose each other's change; the supervisor re-reads the
//! file when its inode, size or mtime changes.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Default persistent data directory.
pub const DATA_DIR: &str = "/var/lib/big_brother";

/// Why the drain set could not be read or written. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum DrainError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> DrainError + '_ {
    move |source| DrainError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The data directory (`$BIG_BROTHER_DATA_DIR` or [`DATA_DIR`]).
pub fn data_dir() -> PathBuf {
    std::env::var_os("BIG_BROTHER_DATA_DIR")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(DATA_DIR), PathBuf::from)
}

/// Path of a cluster's drain file.
pub fn path(cluster: &str) -> PathBuf {
    data_dir().join(cluster).join("drain")
}

/// Reads a drain file; a missing file is an empty set. Blank lines and `#` comments are ignored.
pub fn load(path: &Path) -> Result<BTreeSet<String>, DrainError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// Writes a drain file atomically (creating its directory).
pub fn save(path: &Path, set: &BTreeSet<String>) -> Result<(), DrainError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut text = String::from("# node ids drained by `big_brother drain`; one per line\n");
    for id in set {
        text.push_str(id);
        text.push('\n');
    }
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io_err(dir))?;
    tmp.write_all(text.as_bytes()).map_err(io_err(path))?;
    tmp.as_file().sync_all().map_err(io_err(path))?;
    tmp.persist(path).map_err(|e| io_err(path)(e.error))?;
    // The rename is durable once the directory is synced.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Adds (`drain = true`) or removes a node id under the lock. Returns whether the set changed.
pub fn update(path: &Path, id: &str, drain: bool) -> Result<bool, DrainError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let lock_path = dir.join("drain.lock");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io_err(&lock_path))?;
    // SAFETY: flock on a file descriptor we own and keep open for the duration; no memory is
    // shared with the kernel.
    if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(io_err(&lock_path)(io::Error::last_os_error()));
    }
    let mut set = load(path)?;
    let changed = if drain {
        set.insert(id.to_string())
    } else {
        set.remove(id)
    };
    if changed {
        save(path, &set)?;
    }
    Ok(changed)
    // The lock is released when `lock` is closed.
}

/// The supervisor's view of the drain file: re-read only when it changed on disk.
#[derive(Debug)]
pub struct Watch {
    path: PathBuf,
    /// (inode, mtime, size) of the file last read: every save renames a new inode in.
    seen: Option<(u64, SystemTime, u64)>,
    set: BTreeSet<String>,
}

impl Watch {
    pub fn new(path: PathBuf) -> Watch {
        Watch {
            path,
            seen: None,
            set: BTreeSet::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current drain set. On a read error the previous set is kept and the error returned
    /// alongside, so one bad read never undrains anything.
    pub fn poll(&mut self) -> (&BTreeSet<String>, Option<DrainError>) {
        let sig = match fs::metadata(&self.path) {
            Ok(m) => Some((
                m.ino(),
                m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                m.len(),
            )),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return (&self.set, Some(io_err(&self.path)(e))),
        };
        if sig.is_none() {
            self.set.clear();
            self.seen = None;
            return (&self.set, None);
        }
        if sig == self.seen {
            return (&self.set, None);
        }
        match load(&self.path) {
            Ok(s) => {
                self.set = s;
                self.seen = sig;
                (&self.set, None)
            }
            Err(e) => (&self.set, Some(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_and_watch() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("webapp").join("drain");
        let mut w = Watch::new(p.clone());
        assert!(w.poll().0.is_empty());
        assert!(update(&p, "192.0.2.1", true).unwrap());
        assert!(!update(&p, "192.0.2.1", true).unwrap());
        assert!(update(&p, "[2001:db8::1]:80", true).unwrap());
        let (set, err) = w.poll();
        assert!(err.is_none());
        assert_eq!(set.len(), 2);
        assert!(update(&p, "192.0.2.1", false).unwrap());
        // Same second, different size: still noticed.
        let set: Vec<String> = w.poll().0.iter().cloned().collect();
        assert_eq!(set, ["[2001:db8::1]:80"]);
        fs::remove_file(&p).unwrap();
        assert!(w.poll().0.is_empty());
    }
}
