//! The fuzzers' corpora replayed (issue 19): every committed input of `tests/fuzz/corpus/TARGET/`
//! — the seeds taken from the tests' fixtures, and every input that once crashed, hung or
//! allocated without bound (named `regression-*`) — goes through the very entry points the
//! coverage-guided fuzzer drives (`tests/fuzz/src/entries.rs`). No fuzzer toolchain needed:
//! this is the CI step; `tests/fuzz/run` is the fuzzing itself.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[path = "../fuzz/src/entries.rs"]
mod entries;

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/corpus")
        .join(target)
}

/// What the fuzzer calls a hang (`-timeout=1`); the replay is held to the same bound, with
/// room for a loaded CI machine.
const SLOW: Duration = Duration::from_secs(3);

fn replay(target: &str) {
    let (_, entry) = entries::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no fuzz target {target}"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus(target))
        .unwrap_or_else(|e| panic!("{}: {e}", corpus(target).display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the corpus of {target} is empty");
    for f in &files {
        let data = std::fs::read(f).unwrap();
        let started = Instant::now();
        entry(&data);
        let took = started.elapsed();
        assert!(took < SLOW, "{}: took {took:?}", f.display());
    }
}

#[test]
fn every_corpus_has_a_target_and_every_target_a_corpus() {
    let mut dirs: Vec<String> = std::fs::read_dir(corpus(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut names: Vec<String> = entries::TARGETS
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    names.sort();
    assert_eq!(dirs, names);
    // And every target is a binary of the fuzz crate.
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/Cargo.toml"),
    )
    .unwrap();
    for n in &names {
        assert!(
            manifest.contains(&format!("name = \"{n}\"")),
            "{n} is not a fuzz binary"
        );
    }
}

macro_rules! replays {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            replay(stringify!($name));
        }
    )*};
}

replays!(
    spec_toml,
    legacy_yaml,
    keepalived_conf,
    health_litmus,
    health_http,
    health_agent,
    api_request,
    netlink_reply,
    cib_xml,
    status_json,
    heartbeat,
    snapshot_json,
);

#[test]
fn the_heartbeat_target_has_a_whole_status_file_to_go_with() {
    // Else every input would stop at "no status" and the merge would never be fuzzed.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("status.json");
    std::fs::write(&path, entries::SEED_STATUS).unwrap();
    let status = big_brother::state::status::Status::read(&path).unwrap();
    assert!(status.is_some_and(|s| !s.nodes.is_empty()));
}
