//! `big_brother drain` / `undrain` as an operator runs them: the spec is checked, the drain set
//! persists in `$BIG_BROTHER_DATA_DIR/<cluster>/drain`, mistakes get clear errors and codes.

use std::path::Path;
use std::process::Command;

use crate::util::{bin, run, write, Run};

const SPEC: &str = r#"
name = "webapp"
fwmark = 7

[[vip]]
address = "192.0.2.7"

[[node]]
address = "192.0.2.11"
port = 80
path = "/webapp/status"

[[node]]
address = "2001:db8::12"
port = 80
path = "/webapp/status"
"#;

fn bb_in(data: &Path, args: &[&str]) -> Run {
    run(Command::new(bin())
        .env("BIG_BROTHER_DATA_DIR", data)
        .args(args))
}

fn drained(data: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(data.join("webapp/drain")).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn a_warm_cluster_is_reminded_that_drains_are_per_director() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let warm = SPEC.replace("fwmark = 7", "fwmark = 7\nstandby = \"warm\"");
    let spec = write(dir.path(), "webapp.toml", &warm);
    let spec = spec.to_str().unwrap();
    let r = bb_in(&data, &["drain", "webapp", "192.0.2.11", "--config", spec]);
    r.expect_code(0);
    assert!(
        r.stdout().contains("note: standby = \"warm\": big_brother runs on every director and this file is this director's only; run `big_brother drain webapp 192.0.2.11` on every director"),
        "{}",
        r.stdout()
    );
    let r = bb_in(
        &data,
        &["undrain", "webapp", "192.0.2.11", "--config", spec],
    );
    assert!(
        r.expect_code(0)
            .stdout()
            .contains("`big_brother undrain webapp 192.0.2.11` on every director"),
        "{}",
        r.stdout()
    );
    // A cold cluster runs on one director at a time: no note.
    let cold = write(dir.path(), "cold.toml", SPEC);
    let r = bb_in(
        &data,
        &[
            "drain",
            "webapp",
            "192.0.2.11",
            "--config",
            cold.to_str().unwrap(),
        ],
    );
    assert!(
        !r.expect_code(0).stdout().contains("standby = \"warm\""),
        "{}",
        r.stdout()
    );
}

#[test]
fn drain_and_undrain_persist() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(dir.path(), "webapp.toml", SPEC);
    let spec = spec.to_str().unwrap();
    let data = dir.path().join("data");
    let r = bb_in(&data, &["drain", "webapp", "192.0.2.11", "--config", spec]);
    r.expect_code(0);
    assert!(r.stdout().contains("192.0.2.11 drained"), "{}", r.stdout());
    // Again: no change, still success.
    let r = bb_in(&data, &["drain", "webapp", "192.0.2.11", "--config", spec]);
    r.expect_code(0);
    assert!(r.stdout().contains("already drained"), "{}", r.stdout());
    bb_in(
        &data,
        &["drain", "webapp", "2001:db8::12", "--config", spec],
    )
    .expect_code(0);
    assert_eq!(drained(&data), ["192.0.2.11", "2001:db8::12"]);
    bb_in(
        &data,
        &["undrain", "webapp", "192.0.2.11", "--config", spec],
    )
    .expect_code(0);
    assert_eq!(drained(&data), ["2001:db8::12"]);
    let r = bb_in(
        &data,
        &["undrain", "webapp", "192.0.2.11", "--config", spec],
    );
    r.expect_code(0);
    assert!(r.stdout().contains("was not drained"), "{}", r.stdout());
}

#[test]
fn undrain_cleans_up_a_node_gone_from_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(dir.path(), "webapp.toml", SPEC);
    let spec = spec.to_str().unwrap();
    let data = dir.path().join("data");
    bb_in(&data, &["drain", "webapp", "192.0.2.11", "--config", spec]).expect_code(0);
    let fewer = SPEC.replace("192.0.2.11", "192.0.2.13");
    let spec2 = write(dir.path(), "webapp2.toml", &fewer);
    let spec2 = spec2.to_str().unwrap();
    bb_in(
        &data,
        &["undrain", "webapp", "192.0.2.11", "--config", spec2],
    )
    .expect_code(0);
    assert!(drained(&data).is_empty());
}

#[test]
fn mistakes_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(dir.path(), "webapp.toml", SPEC);
    let spec = spec.to_str().unwrap();
    let data = dir.path().join("data");
    let r = bb_in(&data, &["drain", "webapp", "192.0.2.99", "--config", spec]);
    r.expect_code(2);
    assert!(
        r.stderr().contains(
            "expected one of the cluster's nodes (192.0.2.11, 2001:db8::12), not \"192.0.2.99\""
        ),
        "{}",
        r.stderr()
    );
    let r = bb_in(&data, &["drain", "shop", "192.0.2.11", "--config", spec]);
    r.expect_code(6);
    assert!(
        r.stderr()
            .contains("expected name \"shop\" (the CLUSTER argument)"),
        "{}",
        r.stderr()
    );
    let missing = dir.path().join("nope.toml");
    let r = bb_in(
        &data,
        &[
            "drain",
            "webapp",
            "192.0.2.11",
            "--config",
            missing.to_str().unwrap(),
        ],
    );
    // The CLI answers 6 for a missing spec, as `validate` (commands::code).
    r.expect_code(6);
    let bad = write(
        dir.path(),
        "bad.toml",
        &SPEC.replace("fwmark = 7", "fwmark = 0"),
    );
    let r = bb_in(
        &data,
        &[
            "drain",
            "webapp",
            "192.0.2.11",
            "--config",
            bad.to_str().unwrap(),
        ],
    );
    r.expect_code(6);
    assert!(r.stderr().contains("fwmark"), "{}", r.stderr());
    assert!(
        !data.join("webapp/drain").exists(),
        "nothing written on error"
    );
    // An unwritable data directory: a clear error naming the path.
    let ro = dir.path().join("ro");
    std::fs::write(&ro, "a file, not a directory").unwrap();
    let r = bb_in(&ro, &["drain", "webapp", "192.0.2.11", "--config", spec]);
    assert_ne!(r.code(), 0);
    assert!(r.stderr().contains(ro.to_str().unwrap()), "{}", r.stderr());
}
