//! The original big_brother's cluster-wide override files, read exactly where and as it read
//! them: `<override_dir>/up/<cluster>` forces every node of the cluster to full weight,
//! `<override_dir>/down/<cluster>` forces every node to 0, and up wins when both exist. The
//! files' content is a free-text reason (the original's `StatusFile#create(reason)` wrote one
//! line); only their existence matters, so `touch /etc/big_brother/down/webapp` and `rm` keep
//! working for operators who switch over.
//!
//! The supervisor polls them every tick: two `stat`s, and a read of the (small) reason only when
//! a file's inode, size or mtime changed. A file that is simply absent (`ENOENT`, or `ENOTDIR`
//! when `up` is not a directory) means no override; any other error (permissions, I/O) keeps the
//! previous answer and is reported, so a transient failure never lifts or sets an override.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// Longest reason kept from an override file (the rest is ignored).
const MAX_REASON: u64 = 512;

/// A cluster-wide override in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Override {
    /// Every node at its full weight (`max_weight`), whatever its checks say.
    Up,
    /// Every node at weight 0 (the sorry server, if any, takes new connections).
    Down,
}

impl Override {
    pub fn as_str(self) -> &'static str {
        match self {
            Override::Up => "up",
            Override::Down => "down",
        }
    }
}

/// Why an override file could not be examined; names the file.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct OverrideError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// `<dir>/up/<cluster>`.
pub fn up_path(dir: &Path, cluster: &str) -> PathBuf {
    dir.join("up").join(cluster)
}

/// `<dir>/down/<cluster>`.
pub fn down_path(dir: &Path, cluster: &str) -> PathBuf {
    dir.join("down").join(cluster)
}

/// Identity of a file version: (inode, size, mtime). Every rewrite changes one of them.
type Sig = (u64, u64, SystemTime);

/// `Ok(None)` when the file is absent.
fn sig(path: &Path) -> Result<Option<Sig>, OverrideError> {
    match fs::metadata(path) {
        Ok(m) => Ok(Some((
            m.ino(),
            m.len(),
            m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        ))),
        Err(e)
            if e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENOTDIR) =>
        {
            Ok(None)
        }
        Err(source) => Err(OverrideError {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The first line of an override file, trimmed; empty when it has none or cannot be read (the
/// file's existence is what counts).
fn reason(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(f) = fs::File::open(path) {
        let _ = f.take(MAX_REASON).read_to_string(&mut text);
    }
    text.lines().next().unwrap_or("").trim().to_string()
}

/// What the override files say now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Current {
    pub state: Option<Override>,
    /// The reason written in the file in force (may be empty).
    pub reason: String,
}

/// The supervisor's view of one cluster's override files.
#[derive(Debug)]
pub struct Watch {
    up: PathBuf,
    down: PathBuf,
    seen: (Option<Sig>, Option<Sig>),
    current: Current,
}

impl Watch {
    pub fn new(dir: &Path, cluster: &str) -> Watch {
        Watch {
            up: up_path(dir, cluster),
            down: down_path(dir, cluster),
            seen: (None, None),
            current: Current::default(),
        }
    }

    /// The files this watch reads (up, down).
    pub fn paths(&self) -> (&Path, &Path) {
        (&self.up, &self.down)
    }

    /// The override in force. On an error the previous answer is kept and the error returned
    /// alongside it.
    pub fn poll(&mut self) -> (&Current, Option<OverrideError>) {
        let up = match sig(&self.up) {
            Ok(s) => s,
            Err(e) => return (&self.current, Some(e)),
        };
        // Up wins: the down file only matters when there is no up file.
        let down = match up {
            Some(_) => None,
            None => match sig(&self.down) {
                Ok(s) => s,
                Err(e) => return (&self.current, Some(e)),
            },
        };
        if (up, down) != self.seen {
            self.seen = (up, down);
            self.current = match (up, down) {
                (Some(_), _) => Current {
                    state: Some(Override::Up),
                    reason: reason(&self.up),
                },
                (None, Some(_)) => Current {
                    state: Some(Override::Down),
                    reason: reason(&self.down),
                },
                (None, None) => Current::default(),
            };
        }
        (&self.current, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_wins_and_reasons_are_read() {
        let d = tempfile::tempdir().unwrap();
        let mut w = Watch::new(d.path(), "webapp");
        assert_eq!(w.poll().0.state, None);
        fs::create_dir_all(d.path().join("down")).unwrap();
        fs::write(down_path(d.path(), "webapp"), "apt upgrades\nmore\n").unwrap();
        let (cur, err) = w.poll();
        assert!(err.is_none());
        assert_eq!(
            cur,
            &Current {
                state: Some(Override::Down),
                reason: "apt upgrades".into()
            }
        );
        fs::create_dir_all(d.path().join("up")).unwrap();
        fs::write(up_path(d.path(), "webapp"), "").unwrap();
        assert_eq!(w.poll().0.state, Some(Override::Up), "up wins");
        assert_eq!(w.poll().0.reason, "");
        fs::remove_file(up_path(d.path(), "webapp")).unwrap();
        assert_eq!(w.poll().0.state, Some(Override::Down));
        fs::remove_file(down_path(d.path(), "webapp")).unwrap();
        assert_eq!(w.poll().0, &Current::default());
        // Another cluster's file does not count.
        fs::write(down_path(d.path(), "other"), "x").unwrap();
        assert_eq!(w.poll().0.state, None);
    }

    #[test]
    fn a_rewritten_reason_is_noticed() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("down")).unwrap();
        let p = down_path(d.path(), "c");
        fs::write(&p, "one\n").unwrap();
        let mut w = Watch::new(d.path(), "c");
        assert_eq!(w.poll().0.reason, "one");
        fs::write(&p, "second reason\n").unwrap();
        assert_eq!(w.poll().0.reason, "second reason");
    }

    #[test]
    fn not_a_directory_is_no_override() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("up"), "a file where the directory should be").unwrap();
        let mut w = Watch::new(d.path(), "c");
        let (cur, err) = w.poll();
        assert!(err.is_none(), "{err:?}");
        assert_eq!(cur.state, None);
    }

    #[test]
    fn errors_keep_the_previous_answer() {
        // A symlink loop fails `stat` with ELOOP even for root (permission bits would not).
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real");
        fs::create_dir_all(real.join("down")).unwrap();
        fs::write(down_path(&real, "c"), "x").unwrap();
        let link = d.path().join("data");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let mut w = Watch::new(&link, "c");
        assert_eq!(w.poll().0.state, Some(Override::Down));
        fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(&link, &link).unwrap();
        let (cur, err) = w.poll();
        assert_eq!(cur.state, Some(Override::Down), "kept on error");
        let err = err.unwrap().to_string();
        assert!(err.contains("data/up/c"), "{err}");
    }
}
