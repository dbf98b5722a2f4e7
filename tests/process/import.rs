//! `big_brother import`: the original big_brother's config shapes (tests/fixtures/legacy/)
//! become spec files that `big_brother validate` accepts (`tools::import_cib` applies them to a
//! real CIB); broken configs exit 6 and write nothing; existing files are never replaced
//! silently.

use std::path::{Path, PathBuf};

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

    // Together they validate; that they fit in one real CIB is tools::import_cib.
    let mut args = vec!["validate"];
    args.extend(files.iter().map(|f| s(f)));
    bb(&args).expect_code(0);
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
    // A missing file named on the command line is a config given wrong: 6, as `validate`
    // answers (commands::code; only the agent says 5, for Pacemaker's sake).
    let r = bb(&["import", s(&dir.path().join("missing.yml"))]);
    r.expect_code(6);
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

/// No control or bidirectional character, nor a `\` escape sequence a terminal would act on.
fn terminal_safe(out: &str) -> bool {
    !out.chars()
        .any(|c| c != '\n' && (c.is_control() || big_brother::text::is_format(c)))
}

/// Issue 12, item 6 and the smaller item: a file that is not a config (not UTF-8, a FIFO, a
/// device, a directory, over 1 MiB) exits 6 like `validate`, at once, naming the file and
/// writing nothing; a missing file stays an I/O error (1).
#[test]
fn files_that_are_not_configs_exit_6_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("specs");
    let latin1 = dir.path().join("latin1.yml");
    let mut bytes = GOOD.as_bytes().to_vec();
    bytes.extend_from_slice(b"# caf\xe9\n");
    std::fs::write(&latin1, &bytes).unwrap();
    let fifo = dir.path().join("fifo.yml");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let zero = dir.path().join("zero.yml");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let big = write(
        dir.path(),
        "big.yml",
        &format!("{GOOD}{}", "#".repeat(1 << 20)),
    );
    for (f, part) in [
        (
            latin1.clone(),
            ":18:6: expected UTF-8 text, not the byte 0xE9".to_string(),
        ),
        (fifo.clone(), ": expected a regular file, not a FIFO".into()),
        (
            zero.clone(),
            ": expected a regular file, not a character device".into(),
        ),
        (
            dir.path().to_path_buf(),
            ": expected a regular file, not a directory".into(),
        ),
        (big.clone(), ": expected a file of at most 1024 KiB".into()),
    ] {
        let t = std::time::Instant::now();
        let r = bb(&["import", s(&f), "--out-dir", s(&out)]);
        r.expect_code(6);
        assert!(
            r.stderr().contains(&format!("{}{part}", f.display())),
            "{}: {}",
            f.display(),
            r.stderr()
        );
        assert!(r.stderr().contains("nothing imported"), "{}", r.stderr());
        assert!(
            t.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            t.elapsed()
        );
        assert!(!out.exists(), "{}: wrote something", f.display());
    }
    let r = bb(&["import", s(&dir.path().join("missing.yml"))]);
    r.expect_code(6);
}

/// Issue 12, item 6: a nagios host with ESC/BEL or a check with a newline (which would make the
/// hook send a second, forged NSCA result) is refused: exit 6, file, line and key named, the
/// value shown escaped, nothing written.
#[test]
fn nagios_strings_that_would_forge_results_are_refused() {
    let nagios = GOOD.replace(
        "    fwmark: 7\n",
        "    fwmark: 7\n    nagios:\n      server: nsca.example.net\n      check: web_status\n      host: prod-lb\n",
    );
    for (from, to, key) in [
        (
            "host: prod-lb",
            "host: \"prod\\e]0;owned\\a\\e[2J-lb\"",
            "cluster web: nagios.host",
        ),
        (
            "check: web_status",
            "check: \"web_status\\nprod-db,db_status,0,OK\"",
            "cluster web: nagios.check",
        ),
        (
            "check: web_status",
            "check: \"web\\u202Estatus\"",
            "cluster web: nagios.check",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let legacy = write(dir.path(), "big_brother.conf", &nagios.replace(from, to));
        for extra in [&[][..], &["--dry-run"][..]] {
            let mut args = vec!["import", s(&legacy), "--out-dir", s(dir.path())];
            args.extend(extra);
            let r = bb(&args);
            r.expect_code(6);
            let err = r.stderr();
            assert!(
                err.contains(&format!("{}:1", legacy.display())) && err.contains(key),
                "{to}: {err}"
            );
            assert!(
                terminal_safe(&err) && terminal_safe(&r.stdout()),
                "{to}: {err:?}"
            );
            assert!(r.stdout().is_empty());
        }
        assert_eq!(contents(dir.path()).len(), 1, "{to}: wrote something");
    }
}

/// Issue 12, item 6: what import does not refuse but only reports (dropped keys, locations) is
/// printed escaped, and the written spec shows it escaped too.
#[test]
fn reported_strings_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let text = GOOD.replace(
        "    fwmark: 7\n",
        "    fwmark: 7\n    non_egress_locations: [\"dc\\e]0;owned\\a\", \"x\\u202Ey\"]\n",
    );
    let legacy = write(dir.path(), "big_brother.conf", &text);
    let r = bb(&[
        "import",
        s(&legacy),
        "--out-dir",
        s(dir.path()),
        "--dry-run",
    ]);
    r.expect_code(0);
    assert!(terminal_safe(&r.stdout()), "{:?}", r.stdout());
    assert!(terminal_safe(&r.stderr()), "{:?}", r.stderr());
    assert!(
        r.stderr().contains("dc\\u{1b}]0;owned\\u{7}"),
        "{}",
        r.stderr()
    );
    let r = bb(&["import", s(&legacy), "--out-dir", s(dir.path())]);
    r.expect_code(0);
    assert!(terminal_safe(&r.stdout()), "{:?}", r.stdout());
    let spec = std::fs::read_to_string(dir.path().join("web.toml")).unwrap();
    assert!(terminal_safe(&spec), "{spec:?}");
    assert!(spec.contains("x\\u{202e}y"), "{spec}");
    bb(&["validate", s(&dir.path().join("web.toml"))]).expect_code(0);

    // The old map form reports unknown keys; a hostile one is shown escaped as well.
    let old = "web:\n  fwmark: 7\n  scheduler: wlc\n  \"evil\\e[2J\": 1\n  nodes: []\n";
    let legacy = write(dir.path(), "old.yml", old);
    let r = bb(&[
        "import",
        s(&legacy),
        "--out-dir",
        s(&dir.path().join("old")),
        "--dry-run",
    ]);
    r.expect_code(0);
    assert!(
        terminal_safe(&r.stdout()) && terminal_safe(&r.stderr()),
        "{:?}",
        r.stderr()
    );
    assert!(r.stderr().contains("evil\\u{1b}[2J"), "{}", r.stderr());
}

/// `--data-dir` becomes `override_dir` in every spec: it must be a printable, UTF-8, absolute
/// path (a bad argument, 2).
#[test]
fn data_dir_must_be_a_printable_absolute_path() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = write(dir.path(), "bb.yml", GOOD);
    for bad in ["relative", "/var/\u{1b}[2Jlib", "/var/lib\n"] {
        let r = bb(&[
            "import",
            s(&legacy),
            "--out-dir",
            s(dir.path()),
            "--data-dir",
            bad,
        ]);
        r.expect_code(2);
        assert!(
            r.stderr().contains("--data-dir: expected"),
            "{}",
            r.stderr()
        );
        assert!(terminal_safe(&r.stderr()), "{:?}", r.stderr());
    }
    assert_eq!(contents(dir.path()).len(), 1);
}

/// A FIFO where a spec would be written is refused (1) rather than read, and nothing is written.
#[test]
fn an_existing_target_that_is_not_a_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("specs");
    std::fs::create_dir(&out).unwrap();
    let fifo = out.join("web.toml");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let legacy = write(dir.path(), "bb.yml", GOOD);
    let t = std::time::Instant::now();
    let r = bb(&["import", s(&legacy), "--out-dir", s(&out)]);
    r.expect_code(1);
    assert!(t.elapsed() < std::time::Duration::from_secs(10));
    assert!(
        r.stderr().contains("not a FIFO") && r.stderr().contains("nothing was written"),
        "{}",
        r.stderr()
    );
    assert!(!out.join("first.toml").exists());
}

/// The "billion laughs": nine levels of ten aliases, under 1 KiB.
fn billion_laughs() -> String {
    let mut t = String::from(
        "_big_brother:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..=9 {
        let refs = vec![format!("*a{}", i - 1); 10].join(",");
        t.push_str(&format!("  a{i}: &a{i} [{refs}]\n"));
    }
    t + "clusters:\n  - cluster_name: web\n    fwmark: 7\n    scheduler: wlc\n    nodes: []\n"
}

/// Issue 12, item 8: `import` refuses the billion laughs at once, naming the file, under a 1 GiB
/// address-space limit (the unbounded expansion grew to 18 GiB).
#[test]
fn alias_bombs_are_refused_by_import() {
    use std::os::unix::process::CommandExt as _;
    let dir = tempfile::tempdir().unwrap();
    let laughs = billion_laughs();
    assert!(laughs.len() < 1024, "{}", laughs.len());
    let legacy = write(dir.path(), "big_brother.conf", &laughs);
    let mut cmd = std::process::Command::new(crate::util::bin());
    cmd.args(["import", s(&legacy), "--out-dir", s(dir.path())]);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 1 << 30,
                rlim_max: 1 << 30,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let t = std::time::Instant::now();
    let r = crate::util::run(&mut cmd);
    r.expect_code(6);
    assert!(
        t.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        t.elapsed()
    );
    let err = r.stderr();
    assert!(err.contains(&format!("{}:", legacy.display())), "{err}");
    assert!(
        err.contains("at most 200000 values once aliases are expanded"),
        "{err}"
    );
    assert_eq!(contents(dir.path()).len(), 1);
}

/// Issue 12, item 8, the agent's side: `config` pointing at the billion laughs is a
/// configuration error (6) with a reason, not an abort.
#[test]
fn alias_bombs_are_refused_by_the_agent() {
    let c = crate::ocf_support::Cluster::new("web", &[]);
    let conf = write(c.dir.path(), "big_brother.conf", &billion_laughs());
    let env = [("OCF_RESKEY_config", s(&conf))];
    let t = std::time::Instant::now();
    let r = c.agent("validate-all", &env);
    r.expect_code(6);
    assert!(
        t.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        t.elapsed()
    );
    crate::ocf_support::expect_reason(&r, "aliases are expanded");
    let r = c.agent("start", &env);
    r.expect_code(6);
}

/// Found while bounding aliases: `- - - … x` nests one list per two bytes, and 150,000 of them
/// (300 KiB) overflowed the stack (abort) in `import` and in the agent. Nesting is capped at 64.
#[test]
fn deep_nesting_is_refused_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = write(
        dir.path(),
        "big_brother.conf",
        &format!("clusters:\n{}x\n", "- ".repeat(150_000)),
    );
    let r = bb(&["import", s(&legacy), "--out-dir", s(dir.path())]);
    r.expect_code(6);
    assert!(
        r.stderr().contains(&format!(
            "{}:2:127: not readable as YAML: lists and maps nested at most 64 deep",
            legacy.display()
        )),
        "{}",
        r.stderr()
    );
    let c = crate::ocf_support::Cluster::new("web", &[]);
    let r = c.agent("validate-all", &[("OCF_RESKEY_config", s(&legacy))]);
    r.expect_code(6);
    crate::ocf_support::expect_reason(&r, "nested at most 64 deep");
}
