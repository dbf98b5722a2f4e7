//! `big_brother import`: the original big_brother's config shapes (tests/fixtures/legacy/)
//! become spec files that `big_brother validate` and the real `crm_verify` accept; broken
//! configs exit 6 and write nothing; existing files are never replaced silently.

use std::path::{Path, PathBuf};

use crate::crm::FileCib;
use crate::util::{bb, repo, write};

fn fixture(name: &str) -> String {
    repo()
        .join("tests/fixtures/legacy")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file in `dir` with its bytes, sorted by name (to prove nothing changed).
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

#[test]
fn the_originals_example_shapes_import_and_validate() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("specs");
    let r = bb(&["import", &fixture("big_brother.conf"), "--out-dir", s(&out)]);
    r.expect_code(0);
    let report = r.stdout();
    let names = ["webapp", "api", "search", "payments"];
    let files: Vec<PathBuf> = names
        .iter()
        .map(|n| out.join(format!("{n}.toml")))
        .collect();
    for (n, f) in names.iter().zip(&files) {
        assert!(
            report.contains(&format!("{n}: wrote {}", f.display())),
            "{report}"
        );
        bb(&["validate", s(f)]).expect_code(0);
    }
    assert_eq!(
        contents(&out).len(),
        4,
        "only the four specs, no temp files"
    );
    // Everything the original had that we do not is named, cluster by cluster.
    for part in [
        "note: nagios (server nsca.example.net, check webapp_status, host prod-load) becomes on_change running send_nsca",
        "not carried over: relay service fwmark 10004 (fwmark 4 + offset 10000)",
        "not carried over: nodes[1] (198.51.100.2:9292, interpol)",
        "not carried over: max_down_ticks = 100",
        "not carried over: non_egress_locations (sandbox)",
        "note: has_downpage becomes [sorry_server] 169.254.254.254 weight 1",
        "note: nodes[0] (192.0.2.21).max_weight 50",
        "add [[vip]] tables",
        "imported 4 cluster(s)",
    ] {
        assert!(report.contains(part), "report lacks {part:?}:\n{report}");
    }
    let webapp = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        webapp.contains("backend_mode = \"active_passive\""),
        "{webapp}"
    );
    assert!(webapp.contains("[sorry_server]"), "{webapp}");
    assert!(webapp.contains("priority = 1"), "{webapp}");
    assert!(
        webapp.starts_with("# Imported by `big_brother import` from /"),
        "{webapp}"
    );
    assert!(webapp.contains("tests/fixtures/legacy/big_brother.conf"));

    // Together they fit in one CIB: the real crm_verify accepts the groups (VIP-less: only
    // the big_brother primitive each).
    let mut args = vec!["validate"];
    args.extend(files.iter().map(|f| s(f)));
    bb(&args).expect_code(0);
    let cib = FileCib::new();
    let mut args = vec!["crm", "apply"];
    args.extend(files.iter().map(|f| s(f)));
    cib.bb(&args).expect_code(0);
    cib.verify();
    assert!(cib.has_id("ipvs_payments"));
}

#[test]
fn the_pre_0_8_6_map_form_imports() {
    let dir = tempfile::tempdir().unwrap();
    let r = bb(&[
        "import",
        &fixture("pre-0.8.6.yml"),
        "--out-dir",
        s(dir.path()),
    ]);
    r.expect_code(0);
    assert!(r.stderr().contains("pre-0.8.6 form"), "{}", r.stderr());
    assert!(
        r.stdout().contains("not carried over: persistent"),
        "{}",
        r.stdout()
    );
    for n in ["webapp", "api"] {
        bb(&["validate", s(&dir.path().join(format!("{n}.toml")))]).expect_code(0);
    }
}

#[test]
fn rerun_is_a_no_op_and_a_different_file_needs_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let legacy = fixture("big_brother.conf");
    let args = ["import", legacy.as_str(), "--out-dir", s(out)];
    bb(&args).expect_code(0);
    let first = contents(out);
    // Same input, same bytes: nothing rewritten, from any working directory.
    let r = crate::util::run(
        std::process::Command::new(crate::util::bin())
            .args(["import", "big_brother.conf", "--out-dir", s(out)])
            .current_dir(repo().join("tests/fixtures/legacy")),
    );
    r.expect_code(0);
    assert!(
        r.stdout().contains("0 written, 0 replaced, 4 unchanged"),
        "{}",
        r.stdout()
    );
    assert_eq!(contents(out), first);

    // An operator edited one spec: import refuses to clobber it, and writes nothing else.
    let api = out.join("api.toml");
    let edited = std::fs::read_to_string(&api).unwrap() + "\n# my edit\n";
    std::fs::write(&api, &edited).unwrap();
    std::fs::remove_file(out.join("search.toml")).unwrap();
    let before = contents(out);
    let r = bb(&args);
    r.expect_code(1);
    assert!(r.stderr().contains("api.toml"), "{}", r.stderr());
    assert!(r.stderr().contains("--force"), "{}", r.stderr());
    assert_eq!(contents(out), before, "a refused import must write nothing");

    let mut forced = args.to_vec();
    forced.push("--force");
    let r = bb(&forced);
    r.expect_code(0);
    assert!(
        r.stdout().contains("1 written, 1 replaced, 2 unchanged"),
        "{}",
        r.stdout()
    );
    assert_eq!(contents(out), first);
}

#[test]
fn dry_run_prints_specs_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never");
    let r = bb(&[
        "import",
        &fixture("big_brother.conf"),
        "--out-dir",
        s(&out),
        "--cluster",
        "api",
        "--stdout",
    ]);
    r.expect_code(0);
    assert!(!out.exists(), "--stdout must not even create the directory");
    assert!(r.stderr().contains("api: would write"), "{}", r.stderr());
    // stdout is exactly one valid spec.
    let f = write(dir.path(), "api.toml", &r.stdout());
    bb(&["validate", s(&f)]).expect_code(0);
    assert!(!r.stdout().contains("webapp"), "{}", r.stdout());

    let r = bb(&[
        "import",
        &fixture("big_brother.conf"),
        "--out-dir",
        s(&out),
        "--dry-run",
    ]);
    r.expect_code(0);
    assert_eq!(r.stdout().matches("\nname = ").count(), 4);
    assert!(!out.exists());
}

const GOOD: &str = "_big_brother:
  check_interval: 2
clusters:
  - cluster_name: first
    fwmark: 1
    scheduler: wrr
    nodes:
      - address: 192.0.2.1
        port: 9001
        path: /first/status
  - cluster_name: web
    fwmark: 7
    scheduler: wlc
    nodes:
      - address: 192.0.2.2
        port: 9001
        path: /web/status
";

#[test]
fn broken_configs_exit_6_name_the_problem_and_write_nothing() {
    let cases: Vec<(&str, String, &[&str])> = vec![
        (
            "missing cluster_name",
            GOOD.replace("  - cluster_name: web\n", "  - check_interval: 1\n"),
            &["clusters[1]: cluster_name", "required", ":11:"],
        ),
        (
            "fwmark 0",
            GOOD.replace("fwmark: 7", "fwmark: 0"),
            &[
                "cluster web: fwmark",
                "from 1 to 4294967295, not 0",
                ":12:13",
            ],
        ),
        (
            "fwmark missing",
            GOOD.replace("    fwmark: 7\n", ""),
            &["cluster web: fwmark", "required"],
        ),
        (
            "bad scheduler",
            GOOD.replace("scheduler: wlc", "scheduler: fastest"),
            &["cluster web: scheduler", "not \"fastest\"", ":13:16"],
        ),
        (
            "bad node address",
            GOOD.replace("192.0.2.2", "192.0.2.256"),
            &[
                "cluster web: nodes[0].address",
                "IPv4 address",
                "192.0.2.256",
            ],
        ),
        (
            "wrong type",
            GOOD.replace(
                "port: 9001\n        path: /web",
                "port: nine\n        path: /web",
            ),
            &["cluster web: nodes[0].port", "the string \"nine\""],
        ),
        (
            "wrong type in defaults",
            GOOD.replace("check_interval: 2", "check_interval: [2]"),
            &["_big_brother: check_interval", "seconds", "not a list"],
        ),
        (
            "YAML syntax error",
            GOOD.replace("scheduler: wlc", "scheduler: [wlc"),
            &["not readable as YAML"],
        ),
        (
            "duplicate cluster names",
            GOOD.replace("cluster_name: first", "cluster_name: web"),
            &[
                "cluster web: cluster_name",
                "each cluster name once",
                "also on line 4",
            ],
        ),
        (
            "duplicate key",
            GOOD.replace("    fwmark: 7\n", "    fwmark: 7\n    fwmark: 8\n"),
            &["not readable as YAML", "each key once", ":13:"],
        ),
        (
            "unknown key",
            GOOD.replace("    fwmark: 7\n", "    fwmark: 7\n    persistent: 300\n"),
            &["cluster web: persistent", "unknown key"],
        ),
        ("empty file", String::new(), &["empty file"]),
    ];
    for (what, text, parts) in cases {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("specs");
        std::fs::create_dir(&out).unwrap();
        // A spec already there must survive untouched.
        write(&out, "other.toml", "name = \"other\"\nfwmark = 99\n");
        let before = contents(&out);
        let legacy = write(dir.path(), "big_brother.conf", &text);
        let r = bb(&["import", s(&legacy), "--out-dir", s(&out)]);
        r.expect_code(6);
        let err = r.stderr();
        assert!(
            err.contains(s(&legacy)),
            "{what}: must name the file: {err}"
        );
        for p in parts {
            assert!(err.contains(p), "{what}: stderr lacks {p:?}:\n{err}");
        }
        assert!(err.contains("nothing imported"), "{what}: {err}");
        assert_eq!(contents(&out), before, "{what}: wrote something");
        assert!(r.stdout().is_empty(), "{what}: {}", r.stdout());
    }
}

#[test]
fn syntax_errors_carry_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = write(
        dir.path(),
        "bb.yml",
        "clusters:\n  - cluster_name: web\n    nodes: [\n",
    );
    let r = bb(&["import", s(&legacy), "--out-dir", s(dir.path())]);
    r.expect_code(6);
    let err = r.stderr();
    let first = err.lines().next().unwrap();
    let rest = first
        .strip_prefix(&format!("{}:", legacy.display()))
        .unwrap_or_else(|| panic!("{first}"));
    let mut parts = rest.splitn(3, ':');
    let line: usize = parts.next().unwrap().parse().unwrap();
    let col: usize = parts.next().unwrap().parse().unwrap();
    assert!(line >= 3 && col >= 1, "{first}");
}

#[test]
fn bad_arguments_and_io_errors() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = write(dir.path(), "bb.yml", GOOD);
    // An unknown cluster is a bad argument.
    let r = bb(&[
        "import",
        s(&legacy),
        "--out-dir",
        s(dir.path()),
        "--cluster",
        "nope",
    ]);
    r.expect_code(2);
    assert!(r.stderr().contains("first, web"), "{}", r.stderr());
    bb(&["import"]).expect_code(2);
    bb(&["import", s(&legacy), "--bogus"]).expect_code(2);
    // A missing legacy file is an I/O error.
    let r = bb(&["import", s(&dir.path().join("missing.yml"))]);
    r.expect_code(1);
    assert!(r.stderr().contains("missing.yml"), "{}", r.stderr());
    // An out dir that cannot be created is an I/O error, and nothing is written.
    let blocker = write(dir.path(), "blocker", "a file, not a directory\n");
    let r = bb(&["import", s(&legacy), "--out-dir", s(&blocker.join("specs"))]);
    r.expect_code(1);
    assert!(r.stderr().contains("nothing was written"), "{}", r.stderr());
    // --cluster imports just that one.
    let out = dir.path().join("one");
    bb(&[
        "import",
        s(&legacy),
        "--out-dir",
        s(&out),
        "--cluster",
        "web",
    ])
    .expect_code(0);
    assert_eq!(contents(&out).len(), 1);
    bb(&["validate", s(&out.join("web.toml"))]).expect_code(0);
}
