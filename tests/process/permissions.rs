//! Permissions (issue 19): what the agent and the supervisor leave on disk is writable by root
//! only, whatever umask Pacemaker (or an operator's shell) hands them. The API's loopback rule,
//! and the minimal environment and descriptors of `exec` checks, have their own tests
//! (`process::api::only_loopback_unless_allowed`,
//! `process::checks::exec_environment_and_descriptors_are_minimal`); `on_change`'s are here.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ocf_support::{wait_for, Behaviour, Cluster};
use crate::util::run;

const UP: Behaviour = Behaviour::Health(100);

/// Every path under `root` (itself included) with its mode.
fn walk(root: &Path, out: &mut Vec<(PathBuf, u32)>) {
    let meta = std::fs::symlink_metadata(root).unwrap();
    out.push((root.to_path_buf(), meta.permissions().mode()));
    if meta.is_dir() {
        for e in std::fs::read_dir(root).unwrap() {
            walk(&e.unwrap().path(), out);
        }
    }
}

fn writable_by_others(root: &Path) -> Vec<String> {
    let mut all = Vec::new();
    walk(root, &mut all);
    all.into_iter()
        .filter(|(_, mode)| mode & 0o022 != 0)
        .map(|(p, mode)| format!("{} {:o}", p.display(), mode & 0o7777))
        .collect()
}

#[test]
fn state_files_are_not_writable_by_others_even_under_umask_0() {
    let c = Cluster::new("perm19", &[UP]);
    // The state directory's parents are the agent's to make: none exists yet.
    assert!(!c.rsctmp.exists());
    let mut start = c.command("start", &[]);
    // SAFETY: umask is async-signal-safe and touches no memory.
    unsafe {
        start.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    run(&mut start).expect_code(0);
    wait_for("a status file", Duration::from_secs(5), || {
        c.status().is_some()
    });
    let bad = writable_by_others(&c.rsctmp);
    assert!(bad.is_empty(), "writable by group or others: {bad:?}");
    // Everything there is root's (the test runs as root, like Pacemaker's agents).
    let lock = std::fs::metadata(c.state_dir().join("lock")).unwrap();
    assert_eq!(lock.uid(), 0);
    c.agent("stop", &[]).expect_code(0);
}

#[test]
fn the_drain_file_is_not_writable_by_others_even_under_umask_0() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("lib/big_brother");
    let mut drain = std::process::Command::new(crate::util::bin());
    drain
        .args(["drain", "webapp", "10.0.0.1", "--config"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("crm/examples/webapp.toml"))
        .env("BIG_BROTHER_DATA_DIR", &data);
    // SAFETY: as above.
    unsafe {
        drain.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    let r = run(&mut drain);
    r.expect_code(0);
    let bad = writable_by_others(&data);
    assert!(bad.is_empty(), "writable by group or others: {bad:?}");
}
