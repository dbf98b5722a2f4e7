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
