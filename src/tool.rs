//! Running the cluster's command-line tools (`cibadmin`, `crm_diff`, `crm_resource`,
//! `crm_mon`): looked up on `PATH`, then in `/usr/sbin` and `/sbin` (Puppet's `exec` and cron
//! have a short `PATH`); an argv, never a shell; stdin fed from a thread and stdout/stderr read
//! by threads, so a tool that writes before it has read everything cannot deadlock against us;
//! the run killed when it outlasts its time, its output read up to a bound.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Finds `tool` on `PATH` or in the sbin directories.
pub fn find(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// The bounds of one run.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Killed (and reaped) after this long.
    pub time: Duration,
    /// More stdout than this is [`RunError::TooBig`].
    pub stdout: usize,
    /// Stderr past this is cut off (it is only ever shown).
    pub stderr: usize,
}

/// What a finished run printed.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

#[derive(Debug)]
pub enum RunError {
    Spawn(io::Error),
    /// Still running after [`Limits::time`]: killed.
    Timeout,
    /// Printed more than [`Limits::stdout`] bytes.
    TooBig,
}

/// Runs `path args…` with `stdin` piped in (or `/dev/null`), bounded by `limits`.
pub fn run(
    path: &Path,
    args: &[&str],
    stdin: Option<&str>,
    limits: Limits,
) -> Result<Output, RunError> {
    let mut child = Command::new(path)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(RunError::Spawn)?;
    let (input, out, err) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let (waited, stdout, stderr) = std::thread::scope(|s| {
        if let (Some(text), Some(mut pipe)) = (stdin, input) {
            s.spawn(move || {
                // A tool that exits early closes the pipe; its exit status tells the story.
                let _ = pipe.write_all(text.as_bytes());
            });
        }
        let o = s.spawn(move || out.map(|o| read_bounded(o, limits.stdout)));
        let e = s.spawn(move || err.map(|e| read_bounded(e, limits.stderr)));
        let waited = wait_bounded(&mut child, limits.time);
        (waited, o.join(), e.join())
    });
    let stdout = match stdout {
        Ok(Some(Ok(b))) => b,
        Ok(Some(Err(e))) => return Err(RunError::Spawn(e)),
        _ => Vec::new(),
    };
    // A tool whose output we stopped reading blocks on its pipe until it is killed: that is
    // too much output, not too slow a tool.
    if stdout.len() > limits.stdout {
        return Err(RunError::TooBig);
    }
    let status = match waited {
        Ok(Some(st)) => st,
        Ok(None) => return Err(RunError::Timeout),
        Err(e) => return Err(RunError::Spawn(e)),
    };
    let mut stderr = match stderr {
        Ok(Some(Ok(b))) => b,
        _ => Vec::new(),
    };
    stderr.truncate(limits.stderr);
    Ok(Output {
        code: status.code(),
        stdout,
        stderr,
    })
}

/// Reads at most `limit + 1` bytes, so the caller can tell "more than `limit`".
fn read_bounded(r: impl Read, limit: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut buf)?;
    Ok(buf)
}

/// Waits for `child` at most `limit`; kills it (and reaps it) when the time is up.
fn wait_bounded(child: &mut Child, limit: Duration) -> io::Result<Option<ExitStatus>> {
    let end = Instant::now() + limit;
    loop {
        if let Some(st) = child.try_wait()? {
            return Ok(Some(st));
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limits = Limits {
        time: Duration::from_secs(10),
        stdout: 16,
        stderr: 4,
    };

    fn sh() -> PathBuf {
        find("sh").expect("sh")
    }

    #[test]
    fn output_and_code_come_back_with_stdin_fed() {
        let out = run(
            &sh(),
            &["-c", "cat; echo oops >&2; exit 3"],
            Some("hello"),
            SMALL,
        )
        .unwrap();
        assert_eq!(out.code, Some(3));
        assert_eq!(out.stdout, b"hello");
        assert_eq!(out.stderr, b"oops", "cut at the bound");
    }

    #[test]
    fn too_much_output_and_too_long_a_run_are_errors() {
        let quick = Limits {
            time: Duration::from_secs(1),
            ..SMALL
        };
        let big = run(&sh(), &["-c", "yes"], None, quick);
        assert!(matches!(big, Err(RunError::TooBig)), "{big:?}");
        let slow = Limits {
            time: Duration::from_millis(200),
            ..SMALL
        };
        let started = Instant::now();
        let r = run(&sh(), &["-c", "exec sleep 30"], None, slow);
        assert!(matches!(r, Err(RunError::Timeout)), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_missing_tool_is_not_found() {
        assert_eq!(find("no-such-tool-big-brother"), None);
    }
}
