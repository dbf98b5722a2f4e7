//! Helpers shared by the integration tests: run the built binary, require real tools, and make
//! failures explain themselves (argv, env, exit code, stdout, stderr).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Path of the binary under test (built by cargo for this test run).
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_big_brother"))
}

/// Root of the repository (for examples and golden files).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The status of the supervisor whose state directory is `state_dir`, as `monitor` and
/// `big_brother status` read it: `status.json` with its heartbeat merged in (the file alone is
/// rewritten only on a change or every few seconds; the heartbeat carries the tick). `None`
/// when there is no status file; a file that does not parse fails the test.
pub fn merged_status(state_dir: &Path) -> Option<serde_json::Value> {
    let st = big_brother::state::status::Status::read(&state_dir.join("status.json"))
        .unwrap_or_else(|e| panic!("{}/status.json: {e}", state_dir.display()))?;
    Some(serde_json::to_value(st).unwrap())
}

/// Fails the test loudly when a tool that `.ci/run` should have installed is missing: a missing
/// tool is never a skip.
pub fn require_tool(name: &str) -> PathBuf {
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths)
            .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!("required tool `{name}` is not installed; run tests/install-deps (as .ci/run does)");
}

/// The result of a finished command, with everything needed to explain a failure.
pub struct Run {
    pub argv: String,
    pub out: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    /// Panics with the whole story unless the exit code is `want`.
    pub fn expect_code(&self, want: i32) -> &Self {
        assert_eq!(
            self.code(),
            want,
            "`{}` exited {} (wanted {want})\n--- stdout\n{}\n--- stderr\n{}",
            self.argv,
            self.code(),
            self.stdout(),
            self.stderr()
        );
        self
    }
}

/// Runs a prepared command to completion.
pub fn run(cmd: &mut Command) -> Run {
    let argv = format!("{cmd:?}");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {argv}: {e}"));
    Run { argv, out }
}

/// Runs the binary under test with `args`.
pub fn bb(args: &[&str]) -> Run {
    run(Command::new(bin()).args(args))
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
    p
}

/// Runs a prepared command with `input` on its stdin.
pub fn run_with_stdin(cmd: &mut Command, input: &str) -> Run {
    use std::io::Write as _;
    use std::process::Stdio;
    let argv = format!("{cmd:?} < (stdin: {} bytes)", input.len());
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {argv}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let text = input.to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(text.as_bytes());
    });
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait for {argv}: {e}"));
    writer.join().expect("stdin writer");
    Run { argv, out }
}

/// Runs the binary under test with `args` and extra environment variables.
pub fn bb_env(args: &[&str], env: &[(&str, &Path)]) -> Run {
    let mut cmd = Command::new(bin());
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

/// The kernel tier's guard: fails (never skips) when IPVS is missing, i.e. when a kernel test
/// runs anywhere but in the VM of `tests/vm/run`.
pub fn require_kernel() {
    assert!(
        Path::new("/proc/net/ip_vs").exists(),
        "kernel tier: /proc/net/ip_vs is missing (BB_KERNEL_TIER={:?}); these tests need root \
         and the ip_vs module: run them through tests/vm/run",
        std::env::var("BB_KERNEL_TIER").ok()
    );
}

/// Runs `f` on a new thread inside a fresh network namespace with `lo` up (IPVS state is per
/// namespace, so kernel tests cannot see each other) and returns its result; a panic in `f`
/// fails the calling test with the original message.
pub fn in_netns<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    require_kernel();
    let t = std::thread::Builder::new()
        .name("netns".into())
        .spawn(move || {
            // SAFETY: unshare(2) with CLONE_NEWNET only changes this thread's namespace; threads
            // and processes started from it inherit the new one.
            let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
            assert_eq!(
                rc,
                0,
                "unshare(CLONE_NEWNET): {}",
                std::io::Error::last_os_error()
            );
            run(Command::new(require_tool("ip")).args(["link", "set", "lo", "up"])).expect_code(0);
            f()
        })
        .expect("spawn netns thread");
    t.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
}
