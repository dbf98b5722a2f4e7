//! The per-cluster state directory `$HA_RSCTMP/big_brother/<cluster>/` that the agent and the
//! supervisor share, and the liveness probe built on it.
//!
//! Liveness is "the supervisor holds an exclusive `flock` on `lock`", never a bare PID file: the
//! kernel drops the lock when the process dies however it dies, so a crash can never look alive
//! and a recycled PID can never be mistaken for ours. The supervisor writes its PID into the lock
//! file, which is trusted only while the lock is held. Probing takes a *shared* lock without
//! blocking and drops it at once; it never creates anything (monitor is side-effect free).
//!
//! Layout: `lock`, `notify` (the datagram socket `start` binds for `READY=1`), `status.json`,
//! `heartbeat` (the per-tick sign of life that goes with it), `params.json` (parameters handed over by `reload-agent`), `dryrun-ipvs.json` and
//! `dryrun-conns.json` (dry-run only: the table, and connection counts to pretend).

pub mod backend;
pub mod cib_drain;
pub mod cib_override;
pub mod cib_record;
pub mod drain;
pub mod dryrun;
pub mod handover;
pub mod heartbeat;
pub mod liveness;
pub mod lock;
pub mod notify;
pub mod overrides;
pub mod repr;
pub mod snapshot;
pub mod status;

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A file or directory of big_brother's own that could not be used: what it is, where, why.
/// The one shape every error type with such a case wraps.
#[derive(Debug, thiserror::Error)]
#[error("{what} {}: {source}", path.display())]
pub struct FileError {
    pub what: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

impl FileError {
    /// For `map_err`: `.map_err(FileError::of("lock", state.lock()))`.
    pub fn of(what: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> FileError {
        let path = path.into();
        move |source| FileError { what, path, source }
    }
}

/// Where resource agents keep state (`ocf-directories`: `HA_RSCTMP:=/run/resource-agents`).
/// Cleared at boot, which is what we want.
pub const DEFAULT_RSCTMP: &str = "/run/resource-agents";

/// `HA_RSCTMP` from the environment, or [`DEFAULT_RSCTMP`] (an empty value counts as unset).
pub fn rsctmp_from_env() -> PathBuf {
    std::env::var_os("HA_RSCTMP")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_RSCTMP), PathBuf::from)
}

/// One cluster's state directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateDir {
    dir: PathBuf,
}

/// What the lock says about the supervisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liveness {
    /// Nobody holds the lock (or there is no lock file).
    Stopped,
    /// A supervisor holds the lock; its PID if it has written it yet.
    Running { pid: Option<i32> },
}

pub const LOCK: &str = "lock";
pub const NOTIFY: &str = "notify";
pub const STATUS: &str = "status.json";
pub const PARAMS: &str = "params.json";

impl StateDir {
    /// `<rsctmp>/big_brother/<cluster>`.
    pub fn new(rsctmp: &Path, cluster: &str) -> StateDir {
        StateDir {
            dir: rsctmp.join("big_brother").join(cluster),
        }
    }

    /// A state directory at an explicit path (the supervisor's `--state-dir`).
    pub fn at(dir: &Path) -> StateDir {
        StateDir {
            dir: dir.to_path_buf(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
    pub fn lock(&self) -> PathBuf {
        self.dir.join(LOCK)
    }
    pub fn notify(&self) -> PathBuf {
        self.dir.join(NOTIFY)
    }
    pub fn status(&self) -> PathBuf {
        self.dir.join(STATUS)
    }
    pub fn heartbeat(&self) -> PathBuf {
        self.dir.join(heartbeat::FILE_NAME)
    }
    pub fn params(&self) -> PathBuf {
        self.dir.join(PARAMS)
    }
    pub fn dryrun(&self) -> PathBuf {
        self.dir.join(dryrun::FILE_NAME)
    }

    /// Creates the directory (and `HA_RSCTMP` itself: it is cleared at boot and may be missing).
    /// World-readable so operators can read `status.json`; only root writes.
    pub fn create(&self) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o755))
    }

    /// Probes the lock without blocking and without creating anything.
    pub fn liveness(&self) -> io::Result<Liveness> {
        let mut file = match File::open(self.lock()) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Liveness::Stopped),
            Err(e) => return Err(e),
        };
        // A shared lock conflicts only with the supervisor's exclusive one. Dropping `file`
        // releases ours at once; the supervisor retries its own acquisition for this reason.
        match flock(&file, libc::LOCK_SH | libc::LOCK_NB) {
            Ok(()) => Ok(Liveness::Stopped),
            Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => {
                let mut text = String::new();
                file.read_to_string(&mut text)?;
                Ok(Liveness::Running {
                    pid: text.trim().parse().ok().filter(|p: &i32| *p > 0),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Takes the lock exclusively without blocking, for cleaning up a stopped cluster: while we
    /// hold it no supervisor can start on these files. `None` when someone holds it.
    pub fn try_lock_exclusive(&self) -> io::Result<Option<File>> {
        let file = match File::open(self.lock()) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        match flock(&file, libc::LOCK_EX | libc::LOCK_NB) {
            Ok(()) => Ok(Some(file)),
            Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Removes the files big_brother put there, then the directory if nothing else is left
    /// (files other rooms keep there, such as drain state, survive). Returns what could not be
    /// removed; a file already gone is not an error.
    pub fn remove_files(&self, also_dryrun: bool) -> Vec<(PathBuf, io::Error)> {
        let mut failed = Vec::new();
        let mut names = vec![STATUS, heartbeat::FILE_NAME, NOTIFY, PARAMS];
        if also_dryrun {
            names.push(dryrun::FILE_NAME);
        }
        // The lock goes last: until then a concurrent start sees a consistent directory.
        names.push(LOCK);
        for name in names {
            let p = self.dir.join(name);
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => failed.push((p, e)),
            }
        }
        // Fails harmlessly (ENOTEMPTY/ENOENT) when something else lives there.
        let _ = std::fs::remove_dir(&self.dir);
        failed
    }
}

/// `flock(2)` on an open file.
pub fn flock(file: &File, op: libc::c_int) -> io::Result<()> {
    // SAFETY: flock only reads the descriptor number, which `file` keeps open for the call.
    let rc = unsafe { libc::flock(file.as_raw_fd(), op) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Writes `bytes` to `path` so that readers see the old content or the new, never a mix:
/// a tempfile in the same directory, fsync, rename. Mode 0644.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_meta(path, bytes).map(drop)
}

/// [`write_atomic`], returning what `fstat` said of the new file just before it took the
/// name (a rename changes neither its inode, size nor times): the heartbeat names it by that.
pub fn write_atomic_meta(path: &Path, bytes: &[u8]) -> io::Result<std::fs::Metadata> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    tmp.as_file().sync_all()?;
    let meta = tmp.as_file().metadata()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(meta)
}

/// Opens (creating) a file for the supervisor's lock, close-on-exec as every std file.
pub fn open_lock_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

/// A state directory in a fresh temporary directory (removed when the guard drops).
/// Reads at most `cap` bytes of a regular file; a bigger file (or one that is not regular) is
/// `InvalidData`, never read to its end. `flags` are added to the open's (the heartbeat's
/// `O_NOFOLLOW`).
pub(crate) fn read_capped(
    path: &Path,
    cap: u64,
    flags: libc::c_int,
) -> io::Result<(Vec<u8>, std::fs::Metadata)> {
    // O_NONBLOCK: a FIFO put in its place must not hang the reader at open.
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | flags)
        .open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a regular file",
        ));
    }
    let mut bytes = Vec::new();
    f.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {cap} bytes"),
        ));
    }
    Ok((bytes, meta))
}

#[cfg(test)]
impl StateDir {
    pub fn temp() -> (tempfile::TempDir, StateDir) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let state = StateDir::at(dir.path());
        (dir, state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let s = StateDir::new(Path::new("/run/resource-agents"), "webapp");
        assert_eq!(
            s.status(),
            Path::new("/run/resource-agents/big_brother/webapp/status.json")
        );
        assert_eq!(
            s.dryrun(),
            Path::new("/run/resource-agents/big_brother/webapp/dryrun-ipvs.json")
        );
    }

    #[test]
    fn liveness_follows_the_exclusive_lock() {
        let tmp = tempfile::tempdir().unwrap();
        let s = StateDir::new(tmp.path(), "c1");
        assert_eq!(s.liveness().unwrap(), Liveness::Stopped);
        assert!(!s.path().exists(), "probing must not create anything");
        s.create().unwrap();
        let mut held = open_lock_file(&s.lock()).unwrap();
        assert_eq!(s.liveness().unwrap(), Liveness::Stopped);
        flock(&held, libc::LOCK_EX | libc::LOCK_NB).unwrap();
        write!(held, "4242").unwrap();
        assert_eq!(s.liveness().unwrap(), Liveness::Running { pid: Some(4242) });
        assert!(s.try_lock_exclusive().unwrap().is_none());
        drop(held);
        assert_eq!(s.liveness().unwrap(), Liveness::Stopped);
        let guard = s.try_lock_exclusive().unwrap();
        assert!(guard.is_some());
    }

    #[test]
    fn atomic_write_replaces_and_cleans_up() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("status.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two");
        let names: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temp files left behind");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }

    #[test]
    fn remove_files_keeps_foreign_files() {
        let tmp = tempfile::tempdir().unwrap();
        let s = StateDir::new(tmp.path(), "c1");
        s.create().unwrap();
        for n in [LOCK, STATUS, "drain"] {
            std::fs::write(s.path().join(n), "x").unwrap();
        }
        assert!(s.remove_files(true).is_empty());
        assert!(s.path().join("drain").exists());
        assert!(!s.lock().exists());
        std::fs::remove_file(s.path().join("drain")).unwrap();
        assert!(s.remove_files(true).is_empty());
        assert!(!s.path().exists());
    }
}
