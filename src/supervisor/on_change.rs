//! The `on_change` hook: the original big_brother ran `send_nsca` when the number of down nodes
//! changed; big_brother runs any command the spec names, with the cluster's summary in `BB_*`
//! environment variables, so the same event can feed Nagios, Slack or anything else.
//!
//! - **When**: the controller computes a [`Summary`] every tick and hands it over when the count
//!   of down nodes differs from the previous tick's (and once after start, as the original did:
//!   its first tick always reported). A node is down when its own weight is 0 (failed, forced
//!   down, drained, or under a `down` override) — passive nodes of an `active_passive` cluster
//!   are healthy, not down.
//! - **Never in the way**: the command runs on its own thread ("on-change"), one at a time. The
//!   controller only sends on a channel. Summaries that arrive while a command runs are coalesced:
//!   the next run gets the latest one, and is skipped if the count is back to what the hook was
//!   last told.
//! - **No shell**: `argv[0]` is an absolute path, executed directly; values reach the command only
//!   through the environment, so nothing in a node id or reason can be interpreted as syntax.
//! - **Time-limited**: the command gets its own process group; after `on_change_timeout` the
//!   group gets SIGTERM, one second later SIGKILL. Failures (spawn error, non-zero exit, signal,
//!   timeout) are logged with the command's first output line and counted in the status file;
//!   they are never fatal.
//!
//! - **Panic** (issue 15): entering and leaving the panic threshold's mode also runs the hook,
//!   with `BB_PANIC=1` (or `0`), even when the down count is unchanged.
//!
//! Levels are the original's: ≥ 50 % of nodes down is CRITICAL, any node down WARNING, else OK.

use crate::state::status::HookStats;
use std::io::{self, Read};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::log;
use crate::spec::OnChange;
use crate::state::overrides::Override;

/// Output kept from a command for the log (the rest is read and discarded).
const MAX_OUTPUT: usize = 2048;
/// Between SIGTERM and SIGKILL on a timeout.
const KILL_GRACE: Duration = Duration::from_secs(1);

/// Nagios-style level of a cluster, with the original's thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warning,
    Critical,
}

impl Level {
    /// `down` of `total` nodes: ≥ 50 % CRITICAL, > 0 WARNING, else OK.
    pub fn of(down: usize, total: usize) -> Level {
        if total > 0 && down * 2 >= total {
            Level::Critical
        } else if down > 0 {
            Level::Warning
        } else {
            Level::Ok
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warning => "WARNING",
            Level::Critical => "CRITICAL",
        }
    }

    /// Nagios plugin return code (0, 1, 2), what `send_nsca` expects.
    pub fn code(self) -> u8 {
        match self {
            Level::Ok => 0,
            Level::Warning => 1,
            Level::Critical => 2,
        }
    }

    /// The original's passive-check text, state first (`CRITICAL 50% of nodes are down`).
    pub fn message(self) -> &'static str {
        match self {
            Level::Ok => "OK all nodes up",
            Level::Warning => "WARNING a node is down",
            Level::Critical => "CRITICAL 50% of nodes are down",
        }
    }
}

/// What the hook is told about the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub cluster: String,
    /// The IPVS service as `ipvsadm` would name it (`FWM 7`, `TCP 192.0.2.1:80`).
    pub service: String,
    pub total: usize,
    /// Ids of the down nodes, in spec order.
    pub down: Vec<String>,
    /// Sum of the weights applied to the nodes (not the sorry server).
    pub combined_weight: u64,
    pub override_state: Option<Override>,
    /// The panic threshold is in force: health is not trusted (`supervisor::panic`).
    pub panic: bool,
    /// Unix seconds.
    pub at: u64,
}

impl Summary {
    pub fn level(&self) -> Level {
        Level::of(self.down.len(), self.total)
    }

    /// The environment the command gets; `previous` is the down count the hook was last told
    /// (`None` on the first run).
    pub fn env(&self, previous: Option<usize>) -> Vec<(&'static str, String)> {
        let level = self.level();
        vec![
            ("BB_CLUSTER", self.cluster.clone()),
            ("BB_SERVICE", self.service.clone()),
            ("BB_STATE", level.as_str().to_string()),
            ("BB_NAGIOS_CODE", level.code().to_string()),
            ("BB_MESSAGE", level.message().to_string()),
            ("BB_NODES_TOTAL", self.total.to_string()),
            ("BB_NODES_DOWN", self.down.len().to_string()),
            (
                "BB_NODES_UP",
                self.total.saturating_sub(self.down.len()).to_string(),
            ),
            ("BB_DOWN_NODES", self.down.join(" ")),
            (
                "BB_PREVIOUS_NODES_DOWN",
                previous.map(|p| p.to_string()).unwrap_or_default(),
            ),
            ("BB_COMBINED_WEIGHT", self.combined_weight.to_string()),
            (
                "BB_OVERRIDE",
                self.override_state
                    .map(|o| o.as_str().to_string())
                    .unwrap_or_default(),
            ),
            ("BB_PANIC", u8::from(self.panic).to_string()),
            ("BB_TIME", self.at.to_string()),
        ]
    }
}

/// How one run ended.
#[derive(Debug)]
pub enum Outcome {
    Exited(ExitStatus),
    TimedOut,
}

/// Why a run failed; `output` is the command's first output line, if any.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot run {cmd}: {source}")]
    Spawn {
        cmd: String,
        #[source]
        source: io::Error,
    },
    #[error("{cmd} {how}{}", output_suffix(.output))]
    Failed {
        cmd: String,
        how: String,
        output: String,
    },
}

fn output_suffix(output: &str) -> String {
    if output.is_empty() {
        String::new()
    } else {
        format!(": {output}")
    }
}

/// A pipe whose ends are close-on-exec (the child gets dups of the write end as stdout/stderr).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two descriptors into the array we pass, which lives for the call.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both descriptors are open and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Runs the command once with `env` added to ours, bounded by its timeout. Returns how it ended
/// and the first [`MAX_OUTPUT`] bytes of its stdout+stderr.
pub fn run_once(
    hook: &OnChange,
    env: &[(&'static str, String)],
) -> Result<(Outcome, String), io::Error> {
    run_tracked(hook, env, &AtomicI32::new(0))
}

/// [`run_once`], publishing the command's process group in `running` while it runs (0 after),
/// so that the supervisor can kill it when it exits first.
fn run_tracked(
    hook: &OnChange,
    env: &[(&'static str, String)],
    running: &AtomicI32,
) -> Result<(Outcome, String), io::Error> {
    let (read_end, write_end) = pipe()?;
    // Confined as `exec` checks are: PATH and the summary, nothing inherited from the supervisor
    // (Pacemaker's OCF_* and HA_* variables, its descriptors), its own process group.
    let mut cmd = crate::health::exec::confined(&hook.argv[0]);
    cmd.args(&hook.argv[1..])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::from(write_end.try_clone()?))
        .stderr(Stdio::from(write_end));
    let mut child = cmd.spawn()?;
    // Our copies of the write end are gone with `cmd`: EOF comes when the command's are.
    drop(cmd);
    let (out_tx, out_rx) = mpsc::channel();
    let mut reader = std::fs::File::from(read_end);
    std::thread::Builder::new()
        .name("on-change-out".into())
        .spawn(move || {
            let mut kept = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let room = MAX_OUTPUT.saturating_sub(kept.len());
                        kept.extend_from_slice(&buf[..n.min(room)]);
                    }
                }
            }
            let _ = out_tx.send(kept);
        })?;
    let pgid = i32::try_from(child.id()).unwrap_or(0);
    running.store(pgid, Ordering::SeqCst);
    // Cleared however this function ends, so a stale (possibly recycled) group is never killed.
    let _published = Published(running);
    let now = Instant::now();
    // A timeout too long to represent as an instant is no timeout to wait for: kill at once
    // rather than panic this thread (spec validation bounds it; this is the last line).
    let deadline = now.checked_add(hook.timeout).unwrap_or(now);
    // Poll for the exit: from 1 ms (a quick notifier is done at once) up to 10 ms.
    let mut nap = Duration::from_millis(1);
    let outcome = loop {
        if let Some(status) = child.try_wait()? {
            break Outcome::Exited(status);
        }
        if Instant::now() >= deadline {
            kill_group(pgid, libc::SIGTERM);
            let grace = Instant::now() + KILL_GRACE;
            while Instant::now() < grace && child.try_wait()?.is_none() {
                std::thread::sleep(Duration::from_millis(10));
            }
            kill_group(pgid, libc::SIGKILL);
            let _ = child.wait();
            break Outcome::TimedOut;
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(10));
    };
    drop(_published);
    // Something the command left running may hold the pipe open: do not wait for it long.
    let output = out_rx
        .recv_timeout(Duration::from_millis(200))
        .unwrap_or_default();
    Ok((outcome, String::from_utf8_lossy(&output).into_owned()))
}

/// Resets the published process group when dropped.
struct Published<'a>(&'a AtomicI32);

impl Drop for Published<'_> {
    fn drop(&mut self) {
        self.0.store(0, Ordering::SeqCst);
    }
}

fn kill_group(pgid: i32, sig: libc::c_int) {
    if pgid > 0 {
        // SAFETY: kill has no memory preconditions; a negative pid names the process group we
        // created for the command (never our own: process_group(0) made a new one).
        unsafe { libc::kill(-pgid, sig) };
    }
}

/// The first non-empty output line, trimmed.
fn first_line(output: &str) -> String {
    output
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

/// Runs `hook` for `summary` and turns the result into success or a [`RunError`].
fn run_checked(
    hook: &OnChange,
    summary: &Summary,
    previous: Option<usize>,
    running: &AtomicI32,
) -> Result<(), RunError> {
    let cmd = hook.argv[0].clone();
    let (outcome, output) =
        run_tracked(hook, &summary.env(previous), running).map_err(|source| RunError::Spawn {
            cmd: cmd.clone(),
            source,
        })?;
    let how = match outcome {
        Outcome::Exited(s) if s.success() => return Ok(()),
        Outcome::Exited(s) => match (s.code(), s.signal()) {
            (Some(c), _) => format!("exited {c}"),
            (None, Some(sig)) => format!("was killed by signal {sig}"),
            _ => "failed".to_string(),
        },
        Outcome::TimedOut => format!(
            "timed out after {} ms and was killed",
            hook.timeout.as_millis()
        ),
    };
    Err(RunError::Failed {
        cmd,
        how,
        output: first_line(&output),
    })
}

enum Msg {
    Run(Summary),
    Command(OnChange),
}

/// The hook's thread and the controller's handle on it. Dropping the handle ends the thread once
/// the command in progress (if any) has finished.
pub struct Hook {
    tx: Sender<Msg>,
    stats: Arc<Mutex<HookStats>>,
    command: OnChange,
    /// Process group of the command running now (0: none).
    running: Arc<AtomicI32>,
}

impl Drop for Hook {
    /// A command still running when the hook goes (the supervisor stops, or a reload removed
    /// `on_change`) is killed: it must never outlive its time limit, and once the supervisor is
    /// gone nothing else would enforce it.
    fn drop(&mut self) {
        kill_group(self.running.load(Ordering::SeqCst), libc::SIGKILL);
    }
}

impl Hook {
    pub fn spawn(command: OnChange, cluster: &str) -> io::Result<Hook> {
        let (tx, rx) = mpsc::channel();
        let stats = Arc::new(Mutex::new(HookStats::default()));
        let shared = stats.clone();
        let cluster = cluster.to_string();
        let first = command.clone();
        let running = Arc::new(AtomicI32::new(0));
        let pgid = running.clone();
        std::thread::Builder::new()
            .name("on-change".into())
            .spawn(move || worker(&rx, first, &shared, &cluster, &pgid))?;
        Ok(Hook {
            tx,
            stats,
            command,
            running,
        })
    }

    /// Queues a run for `summary`. Never blocks.
    pub fn send(&self, summary: Summary) {
        let _ = self.tx.send(Msg::Run(summary));
    }

    /// Switches to another command (a reload changed `on_change`); later runs use it.
    pub fn set_command(&mut self, command: OnChange) {
        if command != self.command {
            self.command = command.clone();
            let _ = self.tx.send(Msg::Command(command));
        }
    }

    pub fn stats(&self) -> HookStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

fn worker(
    rx: &Receiver<Msg>,
    mut command: OnChange,
    stats: &Mutex<HookStats>,
    cluster: &str,
    running: &AtomicI32,
) {
    let mut told: Option<usize> = None;
    let mut told_panic = false;
    loop {
        // Block for the next message, then take everything queued behind it: only the latest
        // summary matters (coalescing while a command ran).
        let mut latest = match rx.recv() {
            Ok(Msg::Run(s)) => Some(s),
            Ok(Msg::Command(c)) => {
                command = c;
                None
            }
            Err(_) => return,
        };
        loop {
            match rx.recv_timeout(Duration::ZERO) {
                Ok(Msg::Run(s)) => latest = Some(s),
                Ok(Msg::Command(c)) => command = c,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    // The supervisor is stopping: deliver what it last reported, then end.
                    break;
                }
            }
        }
        let Some(summary) = latest else { continue };
        if told == Some(summary.down.len()) && told_panic == summary.panic {
            continue; // changed and changed back while the previous run was going on
        }
        let started = Instant::now();
        if let Ok(mut s) = stats.lock() {
            s.runs += 1;
        }
        let result = run_checked(&command, &summary, told, running);
        let took = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        told = Some(summary.down.len());
        told_panic = summary.panic;
        match &result {
            Ok(()) => log::info(format!(
                "{cluster}: on_change ran for {} ({} of {} nodes down) in {took} ms",
                summary.level().as_str(),
                summary.down.len(),
                summary.total
            )),
            Err(e) => log::warn(format!("{cluster}: on_change failed: {e}")),
        }
        if let Ok(mut s) = stats.lock() {
            s.last_duration_ms = Some(took);
            s.last_error = result.as_ref().err().map(ToString::to_string);
            if result.is_err() {
                s.failures += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(down: &[&str], total: usize) -> Summary {
        Summary {
            cluster: "webapp".into(),
            service: "FWM 7".into(),
            total,
            down: down.iter().map(|s| s.to_string()).collect(),
            combined_weight: 150,
            override_state: None,
            panic: false,
            at: 1_700_000_000,
        }
    }

    fn hook(argv: &[&str], timeout_ms: u64) -> OnChange {
        OnChange {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            timeout: Duration::from_millis(timeout_ms),
        }
    }

    #[test]
    fn levels_are_the_originals() {
        assert_eq!(Level::of(0, 4), Level::Ok);
        assert_eq!(Level::of(1, 4), Level::Warning);
        assert_eq!(Level::of(2, 4), Level::Critical, "50% is critical");
        assert_eq!(Level::of(1, 3), Level::Warning);
        assert_eq!(Level::of(2, 3), Level::Critical);
        assert_eq!(Level::of(1, 1), Level::Critical);
        assert_eq!(Level::of(0, 0), Level::Ok);
        assert_eq!(Level::Critical.code(), 2);
        assert_eq!(Level::Warning.message(), "WARNING a node is down");
    }

    #[test]
    fn environment() {
        let mut s = summary(&["192.0.2.1", "192.0.2.3"], 3);
        s.override_state = Some(Override::Down);
        let env: std::collections::BTreeMap<_, _> = s.env(Some(1)).into_iter().collect();
        assert_eq!(env["BB_CLUSTER"], "webapp");
        assert_eq!(env["BB_SERVICE"], "FWM 7");
        assert_eq!(env["BB_STATE"], "CRITICAL");
        assert_eq!(env["BB_NAGIOS_CODE"], "2");
        assert_eq!(env["BB_MESSAGE"], "CRITICAL 50% of nodes are down");
        assert_eq!(env["BB_NODES_TOTAL"], "3");
        assert_eq!(env["BB_NODES_DOWN"], "2");
        assert_eq!(env["BB_NODES_UP"], "1");
        assert_eq!(env["BB_DOWN_NODES"], "192.0.2.1 192.0.2.3");
        assert_eq!(env["BB_PREVIOUS_NODES_DOWN"], "1");
        assert_eq!(env["BB_COMBINED_WEIGHT"], "150");
        assert_eq!(env["BB_OVERRIDE"], "down");
        assert_eq!(env["BB_TIME"], "1700000000");
        let first: std::collections::BTreeMap<_, _> =
            summary(&[], 3).env(None).into_iter().collect();
        assert_eq!(first["BB_PREVIOUS_NODES_DOWN"], "");
        assert_eq!(first["BB_OVERRIDE"], "");
    }

    #[test]
    fn runs_with_the_environment_and_no_shell() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        // `$BB_DOWN_NODES` reaches the script as data: the id containing `;` is not run.
        let h = hook(
            &[
                "/bin/sh",
                "-c",
                "printf '%s|%s|%s' \"$BB_STATE\" \"$BB_DOWN_NODES\" \"$1\" > \"$0\"",
                out.to_str().unwrap(),
                "arg; touch /nonexistent-should-not-run",
            ],
            5_000,
        );
        run_checked(&h, &summary(&["a;b"], 2), None, &AtomicI32::new(0)).unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "CRITICAL|a;b|arg; touch /nonexistent-should-not-run"
        );
    }

    #[test]
    fn runs_with_a_minimal_environment_and_no_inherited_descriptor() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        // A descriptor without close-on-exec, as a careless parent would leave one.
        let mut fds = [0; 2];
        // SAFETY: two ints for pipe(2) to fill.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let h = hook(
            &[
                "/bin/sh",
                "-c",
                "exec > \"$0\"; env | sort; echo fds; ls /proc/$$/fd; pwd",
                out.to_str().unwrap(),
            ],
            5_000,
        );
        let r = run_checked(&h, &summary(&["a"], 2), None, &AtomicI32::new(0));
        // SAFETY: the two descriptors made above, closed once.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
        r.unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        let (env, rest) = text.split_once("fds\n").unwrap();
        for line in env.lines() {
            let name = line.split('=').next().unwrap();
            // sh itself sets PWD (and may set SHLVL, _); nothing else may come from outside.
            assert!(
                name.starts_with("BB_") || ["PATH", "PWD", "SHLVL", "_"].contains(&name),
                "inherited: {line}\n{text}"
            );
        }
        assert!(
            env.contains("PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"),
            "{text}"
        );
        // The shell's descriptors (`exec >` replaced its stdout in place): 0, 1, 2 only.
        let fd_lines: Vec<&str> = rest.lines().take_while(|l| *l != "/").collect();
        assert_eq!(fd_lines, ["0", "1", "2"], "{text}");
        assert!(rest.ends_with("/\n"), "cwd /: {text}");
    }

    #[test]
    fn failures_say_what_happened() {
        let e = run_checked(
            &hook(&["/nonexistent/notify"], 1_000),
            &summary(&[], 1),
            None,
            &AtomicI32::new(0),
        )
        .unwrap_err();
        assert!(matches!(e, RunError::Spawn { .. }), "{e}");
        let e = run_checked(
            &hook(
                &["/bin/sh", "-c", "echo 'nsca: host unknown' >&2; exit 3"],
                5_000,
            ),
            &summary(&[], 1),
            None,
            &AtomicI32::new(0),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "/bin/sh exited 3: nsca: host unknown");
    }

    #[test]
    fn a_hung_command_and_its_children_are_killed() {
        let d = tempfile::tempdir().unwrap();
        let pidfile = d.path().join("child");
        // The script starts a grandchild that ignores nothing and sleeps; both must die.
        let h = hook(
            &[
                "/bin/sh",
                "-c",
                "sleep 30 & echo $! > \"$0\"; wait",
                pidfile.to_str().unwrap(),
            ],
            300,
        );
        let started = Instant::now();
        let e = run_checked(&h, &summary(&[], 1), None, &AtomicI32::new(0)).unwrap_err();
        assert!(e.to_string().contains("timed out after 300 ms"), "{e}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "bounded: {:?}",
            started.elapsed()
        );
        let grandchild: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            let stat = std::fs::read_to_string(format!("/proc/{grandchild}/stat"));
            let gone = match stat {
                Err(_) => true,
                Ok(s) => s
                    .rsplit_once(')')
                    .is_some_and(|(_, r)| r.trim_start().starts_with('Z')),
            };
            if gone {
                break;
            }
            assert!(Instant::now() < end, "grandchild {grandchild} still alive");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (bounded) until `pid` is gone or a zombie.
    fn wait_gone(pid: i32) {
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            let gone = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
                Err(_) => true,
                Ok(s) => s
                    .rsplit_once(')')
                    .is_some_and(|(_, r)| r.trim_start().starts_with('Z')),
            };
            if gone {
                return;
            }
            assert!(Instant::now() < end, "{pid} still alive");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn a_running_command_dies_with_the_hook() {
        let d = tempfile::tempdir().unwrap();
        let pidfile = d.path().join("pid");
        let h = hook(
            &[
                "/bin/sh",
                "-c",
                "echo $$ > \"$0\"; exec sleep 30",
                pidfile.to_str().unwrap(),
            ],
            60_000,
        );
        let hook = Hook::spawn(h, "webapp").unwrap();
        hook.send(summary(&[], 1));
        let end = Instant::now() + Duration::from_secs(5);
        let pid: i32 = loop {
            if let Some(p) = std::fs::read_to_string(&pidfile)
                .ok()
                .and_then(|t| t.trim().parse().ok())
            {
                break p;
            }
            assert!(Instant::now() < end, "the command never started");
            std::thread::sleep(Duration::from_millis(10));
        };
        // Published right after the spawn (the command may be quicker).
        while hook.running.load(Ordering::SeqCst) != pid {
            assert!(Instant::now() < end, "never published");
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(hook);
        wait_gone(pid);
    }

    #[test]
    fn the_worker_coalesces_and_counts() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("log");
        // Each run appends its down count and sleeps, so summaries pile up behind it.
        let h = hook(
            &[
                "/bin/sh",
                "-c",
                "echo \"$BB_NODES_DOWN/$BB_PREVIOUS_NODES_DOWN\" >> \"$0\"; sleep 0.3",
                log.to_str().unwrap(),
            ],
            5_000,
        );
        let hook = Hook::spawn(h, "webapp").unwrap();
        hook.send(summary(&[], 3));
        std::thread::sleep(Duration::from_millis(100));
        // While the first run sleeps: 1 down, 2 down, back to 1 down → one run, for "1".
        hook.send(summary(&["a"], 3));
        hook.send(summary(&["a", "b"], 3));
        hook.send(summary(&["a"], 3));
        let end = Instant::now() + Duration::from_secs(10);
        while hook.stats().runs < 2 || hook.stats().last_duration_ms.is_none() {
            assert!(Instant::now() < end, "{:?}", hook.stats());
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "0/\n1/0\n");
        let st = hook.stats();
        assert_eq!((st.runs, st.failures, st.last_error), (2, 0, None));
        // Back to the count last told: nothing runs.
        hook.send(summary(&["b"], 3));
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(hook.stats().runs, 2);
    }
}
