//! The supervisor's lifetime lock: an exclusive `flock` on `<state>/lock`, held until the
//! process dies (the kernel drops it however we die), with the PID written into the file for
//! `stop` to signal. Liveness (`super::liveness`) is "someone holds this lock".

use std::fs::File;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use super::{flock, open_lock_file, Liveness, StateDir};

/// The held lifetime lock. Dropping it (or dying) releases it.
#[derive(Debug)]
pub struct Lock {
    file: File,
}

/// What [`Lock::keep`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Kept {
    /// The lock file at the path is still ours.
    Held,
    /// The state directory or the lock file was removed (an operator's `rm -rf`, a tmpfiles
    /// cleaner): the directory and the lock were made again, and are held.
    Recreated,
    /// Another process holds the lock now at the path (`pid`, when it wrote one).
    Lost { pid: Option<i32> },
}

impl Lock {
    /// Takes the cluster's lock, retrying for up to `patience`: a `monitor` probe holds a shared
    /// lock for a few microseconds, which must not make a start fail. Fails with `WouldBlock` when
    /// another supervisor holds it for longer.
    pub fn acquire(state: &StateDir, patience: Duration) -> io::Result<Lock> {
        let deadline = Instant::now() + patience;
        loop {
            match take(&state.lock())? {
                Taken::Held(file) => return Ok(Lock { file }),
                // Unlinked between our open and our flock: open the new file at once.
                Taken::Unlinked => {}
                Taken::Busy if Instant::now() >= deadline => {
                    let holder = match state.liveness() {
                        Ok(Liveness::Running { pid: Some(p) }) => format!(" (pid {p})"),
                        _ => String::new(),
                    };
                    return Err(io::Error::new(
                        io::ErrorKind::WouldBlock,
                        format!(
                            "another supervisor{holder} holds {}",
                            state.lock().display()
                        ),
                    ));
                }
                Taken::Busy => {}
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Makes sure the lock at `state`'s path is still this one. Liveness is "someone holds the
    /// file at the path": a supervisor whose state directory was removed would hold a lock
    /// nobody can see, and `monitor` would call a running supervisor stopped (Pacemaker would
    /// then start a second one). So the supervisor calls this every tick and takes the lock
    /// again at once, with its PID, when the file is gone.
    pub fn keep(&mut self, state: &StateDir) -> io::Result<Kept> {
        let path = state.lock();
        if same_file(&self.file, &path)? {
            return Ok(Kept::Held);
        }
        state.create()?;
        Ok(match take(&path)? {
            Taken::Held(file) => {
                self.file = file;
                Kept::Recreated
            }
            // Unlinked again between our open and our flock: try on the next tick.
            Taken::Unlinked => Kept::Recreated,
            Taken::Busy => Kept::Lost {
                pid: match state.liveness() {
                    Ok(Liveness::Running { pid }) => pid,
                    _ => None,
                },
            },
        })
    }
}

/// One attempt at the lock file at `path`.
enum Taken {
    /// Locked, and still the file at the path: it now holds our PID.
    Held(File),
    /// Locked, but `stop` (or an operator) unlinked the file between our open and our flock
    /// (`stop` removes a stopped cluster's state directory): a lock nobody else can see.
    Unlinked,
    /// Another process holds it.
    Busy,
}

fn take(path: &std::path::Path) -> io::Result<Taken> {
    let mut file = open_lock_file(path)?;
    match flock(&file, libc::LOCK_EX | libc::LOCK_NB) {
        Ok(()) if same_file(&file, path)? => {
            file.set_len(0)?;
            writeln!(file, "{}", std::process::id())?;
            Ok(Taken::Held(file))
        }
        Ok(()) => Ok(Taken::Unlinked),
        Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => Ok(Taken::Busy),
        Err(e) => Err(e),
    }
}

fn same_file(file: &File, path: &std::path::Path) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let a = file.metadata()?;
    match std::fs::metadata(path) {
        Ok(b) => Ok(a.dev() == b.dev() && a.ino() == b.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_is_exclusive_and_records_the_pid() {
        let (_dir, s) = StateDir::temp();
        let held = Lock::acquire(&s, Duration::from_millis(10)).unwrap();
        assert_eq!(
            s.liveness().unwrap(),
            Liveness::Running {
                pid: Some(std::process::id() as i32)
            }
        );
        let err = Lock::acquire(&s, Duration::from_millis(20)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        assert!(err.to_string().contains("another supervisor"), "{err}");
        drop(held);
        Lock::acquire(&s, Duration::from_millis(10)).unwrap();
    }

    #[test]
    fn a_removed_state_directory_is_made_again_and_the_lock_retaken() {
        let (dir, s) = StateDir::temp();
        let mut held = Lock::acquire(&s, Duration::from_millis(10)).unwrap();
        assert_eq!(held.keep(&s).unwrap(), Kept::Held);
        std::fs::remove_dir_all(s.path()).unwrap();
        assert_eq!(held.keep(&s).unwrap(), Kept::Recreated);
        let me = Liveness::Running {
            pid: Some(std::process::id() as i32),
        };
        assert_eq!(s.liveness().unwrap(), me);
        assert_eq!(held.keep(&s).unwrap(), Kept::Held);
        // Someone else took the new file first: lost, and said so.
        std::fs::remove_file(s.lock()).unwrap();
        let other = Lock::acquire(&s, Duration::from_millis(10)).unwrap();
        assert!(matches!(held.keep(&s).unwrap(), Kept::Lost { .. }));
        drop(other);
        drop(dir);
    }
}
