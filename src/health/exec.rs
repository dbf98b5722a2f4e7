//! `exec` checks: a program run with keepalived's `misc_dynamic` exit semantics.
//!
//! - argv only (absolute program path first), never a shell; stdin `/dev/null`; working
//!   directory `/`; a minimal environment: `PATH=/usr/sbin:/usr/bin:/sbin:/bin`,
//!   `BB_NODE_ADDRESS`, `BB_NODE_PORT` (the check port), `BB_REAL_PORT`, then the plan's pairs;
//! - no descriptor beyond 0/1/2: std opens its own descriptors close-on-exec and so does the
//!   output pipe here (only its dup2'ed copies on 1 and 2 survive exec), but descriptors
//!   big_brother itself inherited without close-on-exec (a jobserver pipe, a service manager's
//!   leftovers: seen in practice) would pass on, so the child marks every descriptor from 3 up
//!   close-on-exec just before exec (`close_range(2)`; a loop on kernels before 5.11);
//! - its own process group, killed (SIGKILL) at the budget, and also as soon as the program
//!   has exited, so nothing it forked outlives its check or holds its output pipe open;
//! - stdout and stderr share one pipe, read as it comes (a flood never blocks the program or
//!   us): the first [`OUTPUT_LIMIT`] bytes are kept, the rest counted and dropped;
//! - always reaped: the group is killed while the leader is still unreaped (a zombie at worst),
//!   so its process-group id cannot have been reused by then, and then it is waited for.
//!
//! Exit status: 0 → health 100; 1 → down (a check error with the output); 2–255 → healthy with
//! health `min(status − 2, 100)` (keepalived's weight = status − 2, on big_brother's 0–100
//! scale); killed by a signal → a check error.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::plan::{CheckPlan, Verdict};
use super::{CheckError, Health, Phase};

/// Output kept from one run (stdout and stderr together).
pub const OUTPUT_LIMIT: usize = 4096;
/// Most argv items (the spec's bound too).
pub const ARGV_LIMIT: usize = 64;
/// The `PATH` of programs big_brother starts (`exec` checks, `on_change`).
const ENV_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// The program must be an absolute path; items must hold no NUL (exec could not pass them).
pub fn validate(argv: &[String]) -> Result<(), String> {
    let Some(prog) = argv.first() else {
        return Err("no program given".into());
    };
    if !prog.starts_with('/') {
        return Err(format!("program {prog:?} is not an absolute path"));
    }
    if argv.len() > ARGV_LIMIT {
        return Err(format!("more than {ARGV_LIMIT} arguments"));
    }
    if argv.iter().any(|a| a.contains('\0')) {
        return Err("an argument holds a NUL byte".into());
    }
    Ok(())
}

/// One run of the plan's program within `budget`.
pub fn check(
    argv: &[String],
    env: &[(String, String)],
    plan: &CheckPlan,
    budget: Duration,
) -> Result<Verdict, CheckError> {
    let started = Instant::now();
    let deadline = started.checked_add(budget).unwrap_or(started);
    let budget_ms = u64::try_from(budget.as_millis()).unwrap_or(u64::MAX);
    validate(argv).map_err(CheckError::Spawn)?;
    let (prog, args) = argv
        .split_first()
        .ok_or_else(|| CheckError::Spawn("no program".into()))?;
    let (read, write) = pipe().map_err(|e| CheckError::Spawn(format!("pipe: {e}")))?;
    let child = {
        let out = write
            .try_clone()
            .map_err(|e| CheckError::Spawn(format!("pipe: {e}")))?;
        let mut cmd = confined(prog);
        cmd.args(args)
            .env("BB_NODE_ADDRESS", plan.addr.ip().to_string())
            .env("BB_NODE_PORT", plan.addr.port().to_string())
            .env("BB_REAL_PORT", plan.real_port.to_string())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(write));
        // The Command (and with it our copies of the pipe's write end) is dropped at the end of
        // this block: from then on, end of file means every writer is gone.
        cmd.spawn()
            .map_err(|e| CheckError::Spawn(format!("{prog}: {e}")))?
    };
    let mut run = Run {
        child,
        pidfd: None,
        pipe: File::from(read),
        kept: Vec::with_capacity(256),
        total: 0,
        eof: false,
    };
    run.pidfd = pidfd_open(run.pid());
    let timed_out = run.watch(deadline);
    // Kill the whole group before reaping the leader (see the module's comment).
    run.kill_group();
    if !timed_out {
        // Leftovers are gone now: take what they wrote, quickly, up to the deadline.
        run.drain(deadline);
    }
    let status = run
        .child
        .wait()
        .map_err(|e| CheckError::Internal(format!("waiting for the check command: {e}")))?;
    let output = run.output();
    if timed_out {
        return Err(CheckError::Timeout {
            phase: Phase::Run,
            budget_ms,
        });
    }
    match (status.code(), status.signal()) {
        (Some(0), _) => Ok(verdict(100.0, output)),
        (Some(1), _) => Err(CheckError::Exec {
            how: "exited 1 (down)".into(),
            output: output.unwrap_or_default(),
        }),
        (Some(code), _) => {
            let health = code.saturating_sub(2).clamp(0, 100);
            Ok(verdict(f64::from(health), output))
        }
        (None, Some(sig)) => Err(CheckError::Exec {
            how: format!("killed by signal {sig}"),
            output: output.unwrap_or_default(),
        }),
        (None, None) => Err(CheckError::Exec {
            how: format!("ended without a status ({status})"),
            output: output.unwrap_or_default(),
        }),
    }
}

fn verdict(health: f64, output: Option<String>) -> Verdict {
    Verdict {
        health: Health::new(health),
        drain: false,
        output,
    }
}

struct Run {
    child: Child,
    /// Readable when the child has exited (Linux ≥ 5.3); without it the exit is polled.
    pidfd: Option<OwnedFd>,
    pipe: File,
    kept: Vec<u8>,
    total: u64,
    eof: bool,
}

/// How often the exit is polled when no pidfd is available.
const TICK: Duration = Duration::from_millis(5);

impl Run {
    fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap_or(0)
    }

    /// Reads output until the program has exited and its output ended, or the deadline;
    /// `true` when the deadline came first.
    fn watch(&mut self, deadline: Instant) -> bool {
        loop {
            let exited = self.exited();
            if exited && self.eof {
                return false;
            }
            if exited {
                // Something it forked still holds the pipe: the group is killed next.
                return false;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            let wait = if self.pidfd.is_some() {
                left
            } else {
                left.min(TICK)
            };
            let pipe_fd = (!self.eof).then(|| self.pipe.as_raw_fd());
            let ready = poll(pipe_fd, self.pidfd.as_ref().map(AsRawFd::as_raw_fd), wait);
            if ready.0 {
                self.read_some();
            }
        }
    }

    /// After the group is killed: read until end of file or the deadline.
    fn drain(&mut self, deadline: Instant) {
        while !self.eof {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            if poll(Some(self.pipe.as_raw_fd()), None, left).0 {
                self.read_some();
            }
        }
    }

    fn read_some(&mut self) {
        let mut chunk = [0u8; 8192];
        match self.pipe.read(&mut chunk) {
            Ok(0) => self.eof = true,
            Ok(n) => {
                let got = chunk.get(..n).unwrap_or(&[]);
                let room = OUTPUT_LIMIT.saturating_sub(self.kept.len());
                self.kept
                    .extend_from_slice(got.get(..room.min(n)).unwrap_or(&[]));
                self.total = self.total.saturating_add(n as u64);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => self.eof = true,
        }
    }

    /// Whether the leader has exited, without reaping it (it stays a zombie until `wait`).
    fn exited(&self) -> bool {
        let pid = self.pid();
        if pid <= 0 {
            return true;
        }
        // SAFETY: siginfo_t is plain data, zeroed is a valid value; waitid writes into it only.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: a valid pointer to our siginfo_t; WNOWAIT leaves the child unreaped.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            )
        };
        // SAFETY: si_pid is set by waitid for an exited child and zero otherwise.
        r == 0 && unsafe { info.si_pid() } != 0
    }

    fn kill_group(&self) {
        let pid = self.pid();
        if pid > 0 {
            // SAFETY: kill has no memory effects; -pid is the group we created for this child
            // (process_group(0)), whose leader is not reaped yet, so the id is still ours.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }

    fn output(&self) -> Option<String> {
        if self.total == 0 {
            return None;
        }
        let text = String::from_utf8_lossy(&self.kept);
        let mut out = crate::text::clean(text.trim(), OUTPUT_LIMIT);
        if self.total > self.kept.len() as u64 {
            out.push_str(&format!(" … ({} bytes in all)", self.total));
        }
        Some(out)
    }
}

/// A command for `prog` confined as every program big_brother starts (`exec` checks,
/// `on_change`) is: nothing inherited — an empty environment but `PATH`, cwd `/`, stdin from
/// /dev/null, no descriptor beyond 0–2 — and its own process group, so a timeout kills what it
/// started too. The caller adds arguments, its `BB_*` variables and its output.
pub fn confined(prog: &str) -> Command {
    let mut cmd = Command::new(prog);
    cmd.env_clear()
        .env("PATH", ENV_PATH)
        .current_dir("/")
        .stdin(Stdio::null())
        .process_group(0);
    // SAFETY: the closure runs in the child between fork and exec and makes only
    // async-signal-safe system calls (close_range, getrlimit, fcntl); it allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            cloexec_from_3();
            Ok(())
        });
    }
    cmd
}

/// Marks every descriptor from 3 up close-on-exec (in the child, before exec). Marking rather
/// than closing keeps std's own exec-error pipe working until the exec.
fn cloexec_from_3() {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: close_range only changes descriptor flags; no memory is passed.
    let r = unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, CLOSE_RANGE_CLOEXEC) };
    if r == 0 {
        return;
    }
    // SAFETY: rlimit is plain data; getrlimit writes into it only.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to our rlimit.
    let max = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        lim.rlim_cur.min(1 << 20)
    } else {
        1024
    };
    let max = i32::try_from(max).unwrap_or(1 << 20);
    for fd in 3..max {
        // SAFETY: fcntl on a descriptor that may not exist fails harmlessly with EBADF.
        unsafe {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }
}

/// A pipe whose both ends are close-on-exec.
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds: [RawFd; 2] = [-1, -1];
    // SAFETY: fds points to two ints, as pipe2 requires.
    let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both are fresh descriptors owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn pidfd_open(pid: i32) -> Option<OwnedFd> {
    if pid <= 0 {
        return None;
    }
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = RawFd::try_from(fd).ok().filter(|&fd| fd >= 0)?;
    // SAFETY: a fresh descriptor (pidfds are close-on-exec) owned by nobody else.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Waits until `a` or `b` is readable or `wait` passed; says which are.
fn poll(a: Option<RawFd>, b: Option<RawFd>, wait: Duration) -> (bool, bool) {
    let mut fds = [
        libc::pollfd {
            fd: a.unwrap_or(-1),
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: b.unwrap_or(-1),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    // Round up so a sub-millisecond rest does not become a busy loop.
    let ms = i32::try_from(wait.as_micros().div_ceil(1000)).unwrap_or(i32::MAX);
    // SAFETY: fds is an array of two pollfd; negative fds are ignored by poll.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), 2, ms) };
    if r <= 0 {
        return (false, false);
    }
    let hit = |p: &libc::pollfd| p.fd >= 0 && p.revents != 0;
    (hit(&fds[0]), hit(&fds[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_must_name_an_absolute_program() {
        let v = |a: &[&str]| validate(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert!(v(&["/usr/lib/check", "--quick"]).is_ok());
        assert_eq!(v(&[]), Err("no program given".into()));
        assert!(v(&["check.sh"])
            .unwrap_err()
            .contains("not an absolute path"));
        assert_eq!(
            v(&["/bin/x", "a\0b"]),
            Err("an argument holds a NUL byte".into())
        );
        let many: Vec<String> = (0..=ARGV_LIMIT).map(|_| "/bin/x".to_string()).collect();
        assert!(validate(&many).unwrap_err().contains("more than 64"));
    }
}
