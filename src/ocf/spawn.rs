//! `start`'s process work: launch `big_brother supervise` detached and wait for its `READY=1`.
//!
//! Why each step (Pacemaker runs every agent action in its own process group and kills that
//! group when the action times out; the supervisor must outlive the agent either way):
//! - `setsid()` in the child: a new session and process group, so neither the group kill on
//!   timeout nor a terminal hangup reaches the supervisor.
//! - stdio to `/dev/null`: execd collects the agent's stdout/stderr through pipes and waits for
//!   them to close; a supervisor holding them would hang the action. It logs to syslog instead.
//! - every inherited descriptor above 2 marked close-on-exec (`close_range(3, ~0,
//!   CLOSE_RANGE_CLOEXEC)`): the agent may have inherited descriptors from execd that must not
//!   live on in a daemon. Marking instead of closing keeps std's exec-error pipe working.
//! - working directory `/` so the daemon pins no mount; umask 022 for the files it writes.
//! - this runs before the agent creates any thread (`fork` in a threaded process may only call
//!   async-signal-safe functions, which is all `pre_exec` does here).
//!
//! Readiness is the sd_notify protocol on a datagram socket bound in the state directory:
//! `READY=1` after the service is programmed; `STATUS=` lines carry progress and, before a
//! failed supervisor exits, the reason. Its exit status is the OCF code it chose.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::env::Params;
use crate::error::Error;
use crate::exit::OcfCode;
use crate::state::StateDir;

/// How `start` ended waiting.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Ready,
    Exited {
        code: OcfCode,
        reason: Option<String>,
    },
    TimedOut {
        last: Option<String>,
    },
}

/// The notify socket `start` listens on; unlinked when dropped.
pub struct NotifySocket {
    sock: UnixDatagram,
    path: std::path::PathBuf,
}

impl NotifySocket {
    /// Binds `<state>/notify`, replacing a stale socket a crash may have left. Mode 0600: only
    /// root (the supervisor) may claim readiness.
    pub fn bind(state: &StateDir) -> Result<NotifySocket, Error> {
        let path = state.notify();
        let io_err = |source| Error::Io {
            what: "notify socket",
            path: path.clone(),
            source,
        };
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(e)),
        }
        let sock = UnixDatagram::bind(&path).map_err(io_err)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io_err)?;
        sock.set_read_timeout(Some(Duration::from_millis(25)))
            .map_err(io_err)?;
        Ok(NotifySocket { sock, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for NotifySocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Launches `program supervise …` detached. `ready_within` is the supervisor's budget for its
/// first round of checks, so that `READY=1` comes well inside the start timeout.
pub fn spawn_supervisor(
    program: &Path,
    params: &Params,
    state: &StateDir,
    notify: &NotifySocket,
    ready_within: Duration,
) -> Result<Child, Error> {
    let mut cmd = Command::new(program);
    // argv[0] `big_brother`, not the agent's `ocf_big_brother` (which would make every argument
    // an OCF action), and what operators look for in `ps`.
    cmd.arg0("big_brother")
        .arg("supervise")
        .arg("--cluster")
        .arg(&params.cluster)
        .arg("--config")
        .arg(&params.config)
        .arg("--state-dir")
        .arg(state.path())
        .arg("--ready-within-ms")
        .arg(ready_within.as_millis().to_string());
    if params.dry_run {
        cmd.arg("--dry-run");
    }
    cmd.env("NOTIFY_SOCKET", notify.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .current_dir("/");
    // SAFETY: the closure runs in the forked child before exec and calls only async-signal-safe
    // functions (setsid, umask, close_range/fcntl); it allocates nothing and takes no locks.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            libc::umask(0o022);
            mark_cloexec_from(3);
            Ok(())
        });
    }
    cmd.spawn().map_err(|source| Error::Spawn {
        program: program.to_path_buf(),
        source,
    })
}

/// Marks every descriptor ≥ `first` close-on-exec. Async-signal-safe.
fn mark_cloexec_from(first: libc::c_int) {
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only changes descriptor flags.
    let rc = unsafe {
        libc::close_range(
            first as libc::c_uint,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC as libc::c_int,
        )
    };
    if rc == 0 {
        return;
    }
    // Kernels before 5.11: walk the descriptor table (bounded by RLIMIT_NOFILE, capped).
    // SAFETY: getrlimit writes into our stack struct; fcntl on a closed fd just fails (EBADF).
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        let max = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur.min(65_536) as libc::c_int
        } else {
            1024
        };
        for fd in first..max {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    }
}

/// Waits for `READY=1`, the child's exit, or `deadline`, whichever comes first.
pub fn wait_ready(child: &mut Child, notify: &NotifySocket, deadline: Instant) -> Outcome {
    let mut last: Option<String> = None;
    let mut buf = [0u8; 4096];
    loop {
        match notify.sock.recv(&mut buf) {
            Ok(n) => {
                if absorb(&buf[..n], &mut last) {
                    return Outcome::Ready;
                }
                continue;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            // A broken socket cannot tell us anything more; the child's exit or the deadline will.
            Err(_) => std::thread::sleep(Duration::from_millis(25)),
        }
        if let Ok(Some(status)) = child.try_wait() {
            // The reason may still be queued behind the exit: read what is there.
            let _ = notify.sock.set_nonblocking(true);
            while let Ok(n) = notify.sock.recv(&mut buf) {
                if absorb(&buf[..n], &mut last) {
                    return Outcome::Ready;
                }
            }
            let code = match (status.code(), status.signal()) {
                (Some(c), _) => u8::try_from(c)
                    .ok()
                    .and_then(OcfCode::from_u8)
                    .unwrap_or(OcfCode::ErrGeneric),
                _ => OcfCode::ErrGeneric,
            };
            let reason = match (last, status.signal()) {
                (Some(r), _) => Some(r),
                (None, Some(sig)) => Some(format!("supervisor killed by signal {sig}")),
                (None, None) => None,
            };
            return Outcome::Exited { code, reason };
        }
        if Instant::now() >= deadline {
            return Outcome::TimedOut { last };
        }
    }
}

/// Reads one sd_notify datagram; true on `READY=1`. Keeps the last `STATUS=`.
fn absorb(msg: &[u8], last: &mut Option<String>) -> bool {
    let text = String::from_utf8_lossy(msg);
    let mut ready = false;
    for line in text.lines() {
        if line == "READY=1" {
            ready = true;
        } else if let Some(s) = line.strip_prefix("STATUS=") {
            *last = Some(s.to_string());
        }
    }
    ready
}

/// Kills a supervisor that never became ready (its whole process group: it is a session
/// leader) and reaps it.
pub fn kill(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill has no memory preconditions; -pid addresses the group the child leads.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A notify socket in a fresh state directory (kept alive by the returned guard).
    fn bound() -> (tempfile::TempDir, NotifySocket) {
        let dir = tempfile::tempdir().unwrap();
        let sock = NotifySocket::bind(&StateDir::at(dir.path())).unwrap();
        (dir, sock)
    }

    #[test]
    fn notify_messages() {
        let mut last = None;
        assert!(!absorb(b"STATUS=checking 3 nodes", &mut last));
        assert_eq!(last.as_deref(), Some("checking 3 nodes"));
        assert!(absorb(b"STATUS=programmed FWM 7\nREADY=1", &mut last));
        assert_eq!(last.as_deref(), Some("programmed FWM 7"));
        assert!(!absorb(b"READY=0\nWATCHDOG=1", &mut last));
    }

    fn send(sock: &NotifySocket, msg: &str) {
        UnixDatagram::unbound()
            .unwrap()
            .send_to(msg.as_bytes(), sock.path())
            .unwrap();
    }

    #[test]
    fn waits_for_ready_from_a_child() {
        let (_dir, sock) = bound();
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        send(&sock, "STATUS=hello");
        send(&sock, "READY=1");
        let out = wait_ready(&mut child, &sock, Instant::now() + Duration::from_secs(10));
        assert_eq!(out, Outcome::Ready);
        kill(&mut child);
    }

    #[test]
    fn a_dying_child_reports_its_code_and_reason() {
        let (_dir, sock) = bound();
        send(&sock, "STATUS=bad spec");
        let mut child = Command::new("sh").args(["-c", "exit 6"]).spawn().unwrap();
        let out = wait_ready(&mut child, &sock, Instant::now() + Duration::from_secs(10));
        assert_eq!(
            out,
            Outcome::Exited {
                code: OcfCode::ErrConfigured,
                reason: Some("bad spec".into())
            }
        );
    }

    #[test]
    fn a_silent_child_times_out() {
        let (_dir, sock) = bound();
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let out = wait_ready(
            &mut child,
            &sock,
            Instant::now() + Duration::from_millis(200),
        );
        assert_eq!(out, Outcome::TimedOut { last: None });
        kill(&mut child);
        let path = sock.path().to_path_buf();
        drop(sock);
        assert!(!path.exists(), "the socket file goes with the listener");
    }
}
