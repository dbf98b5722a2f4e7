//! `big_brother import --from keepalived`: keepalived.conf (tests/fixtures/keepalived/, written
//! for these tests) becomes one spec per virtual_server; what is not carried is listed on
//! stderr as `FILE:LINE: KEY: not carried: why`; refusals exit 6 and write nothing; argument
//! mistakes exit 2.

use std::path::Path;

use crate::util::{bb, repo, write};

fn fixture(name: &str) -> String {
    repo()
        .join("tests/fixtures/keepalived")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_none())
}

#[test]
fn include_is_refused_with_its_line_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("specs");
    let r = bb(&[
        "import",
        "--from",
        "keepalived",
        &fixture("include.conf"),
        "--out-dir",
        s(&out),
    ]);
    r.expect_code(6);
    let err = r.stderr();
    assert!(
        err.contains("include.conf:4:1: include: expected no `include`"),
        "{err}"
    );
    assert!(err.contains("nothing imported"), "{err}");
    assert!(empty(&out));
}

#[test]
fn a_misc_path_that_needs_a_shell_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let r = bb(&[
        "import",
        "--from",
        "keepalived",
        &fixture("shell.conf"),
        "--out-dir",
        s(dir.path()),
    ]);
    r.expect_code(6);
    let err = r.stderr();
    assert!(
        err.contains("shell.conf:5:13: misc_path: expected a command without shell syntax"),
        "{err}"
    );
    assert!(empty(dir.path()));
}

#[test]
fn broken_syntax_and_hostile_files_exit_6() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, want) in [
        (
            "open.conf",
            "virtual_server 192.0.2.1 80 {\n  delay_loop 6\n",
            "open.conf:1:29: \"virtual_server\": not keepalived.conf: expected a `}` closing the block opened here",
        ),
        (
            "close.conf",
            "}\n",
            "close.conf:1:1: \"}\": not keepalived.conf",
        ),
        ("deep.conf", &"a {\n".repeat(100), "nested at most 16 deep"),
        (
            "quote.conf",
            "virtual_server \"192.0.2.1 80 {\n",
            "a closing `\"` on the same line",
        ),
    ] {
        let f = write(dir.path(), name, text);
        let r = bb(&["import", "--from", "keepalived", s(&f), "--dry-run"]);
        r.expect_code(6);
        assert!(r.stderr().contains(want), "{name}: {}", r.stderr());
        assert!(r.stdout().is_empty());
    }
    // Over the size cap: refused at once by the bounded reader.
    let big = dir.path().join("big.conf");
    std::fs::write(&big, vec![b'!'; 1024 * 1024 + 1]).unwrap();
    let r = bb(&["import", "--from", "keepalived", s(&big), "--dry-run"]);
    r.expect_code(6);
    assert!(
        r.stderr().contains("not a keepalived.conf"),
        "{}",
        r.stderr()
    );
    // Not UTF-8.
    let bin = dir.path().join("bin.conf");
    std::fs::write(&bin, [0xff, 0xfe, b'{']).unwrap();
    bb(&["import", "--from", "keepalived", s(&bin), "--dry-run"]).expect_code(6);
}

#[test]
fn vrrp_only_reports_every_block_not_carried_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "keepalived.conf",
        "global_defs {\n  router_id LB1\n}\nvrrp_script chk {\n  script \"/bin/true\"\n}\nvrrp_instance VI_1 {\n  state BACKUP\n}\nvirtual_server_group G {\n  192.0.2.1 80\n}\n",
    );
    let out = dir.path().join("specs");
    let r = bb(&[
        "import",
        "--from",
        "keepalived",
        s(&f),
        "--out-dir",
        s(&out),
    ]);
    r.expect_code(0);
    let err = r.stderr();
    let file = std::fs::canonicalize(&f).unwrap();
    for (line, key) in [
        (1, "global_defs"),
        (4, "vrrp_script chk"),
        (7, "vrrp_instance VI_1"),
        (10, "virtual_server_group G"),
    ] {
        let want = format!("{}:{line}: {key}: not carried: ", file.display());
        assert!(err.contains(&want), "{want:?} not in\n{err}");
    }
    assert!(err.contains("no virtual_server to import"), "{err}");
    assert!(empty(&out));
}

#[test]
fn argument_mistakes_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let r = bb(&[
        "import",
        "--from",
        "keepalived",
        &fixture("web.conf"),
        "--cluster",
        "nope",
        "--out-dir",
        s(dir.path()),
    ]);
    r.expect_code(2);
    assert!(
        r.stderr().contains("no virtual_server imports as \"nope\" (the file has: tcp_192.0.2.10_80, tcp_192.0.2.10_443, fwmark_7)"),
        "{}",
        r.stderr()
    );
    bb(&["import", "--from", "haproxy", &fixture("web.conf")]).expect_code(2);
    // `--from big_brother` is the default, the original's YAML.
    let legacy = repo().join("tests/fixtures/legacy/big_brother.conf");
    let explicit = bb(&["import", "--from", "big_brother", s(&legacy), "--dry-run"]);
    explicit.expect_code(0);
    assert_eq!(
        explicit.stdout(),
        bb(&["import", s(&legacy), "--dry-run"]).stdout()
    );
    let r = bb(&[
        "import",
        "--from",
        "keepalived",
        &fixture("web.conf"),
        "--data-dir",
        "/var/lib/bb",
    ]);
    r.expect_code(2);
    assert!(
        r.stderr()
            .contains("--data-dir: only with --from big_brother"),
        "{}",
        r.stderr()
    );
    // A missing file: as any file named on the command line.
    bb(&[
        "import",
        "--from",
        "keepalived",
        s(&dir.path().join("missing.conf")),
    ])
    .expect_code(6);
    assert!(empty(dir.path()));
}

/// The whole path, written and validated.
#[test]
fn web_conf_imports_validates_and_reruns_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("specs");
    let args = [
        "import",
        "--from",
        "keepalived",
        &fixture("web.conf"),
        "--out-dir",
        s(&out),
    ];
    let r = bb(&args);
    r.expect_code(0);
    let (stdout, err) = (r.stdout(), r.stderr());
    for n in ["tcp_192.0.2.10_80", "tcp_192.0.2.10_443", "fwmark_7"] {
        let f = out.join(format!("{n}.toml"));
        assert!(
            stdout.contains(&format!("{n}: wrote {}", f.display())),
            "{stdout}"
        );
        bb(&["validate", s(&f)]).expect_code(0);
    }
    assert!(stdout.contains("imported 3 virtual_server(s)"), "{stdout}");
    for part in [
        "web.conf:38: digest: not carried: ",
        "web.conf:13: vrrp_instance VI_1: not carried: ",
        "web.conf:101: SMTP_CHECK: not carried: ",
    ] {
        assert!(err.contains(part), "{part:?} not in\n{err}");
    }
    let again = bb(&args);
    again.expect_code(0);
    assert!(
        again
            .stdout()
            .contains("0 written, 0 replaced, 3 unchanged"),
        "{}",
        again.stdout()
    );
    // --dry-run prints the same bytes and writes nothing.
    let dry = bb(&[
        "import",
        "--from",
        "keepalived",
        &fixture("web.conf"),
        "--dry-run",
        "--cluster",
        "fwmark_7",
    ]);
    dry.expect_code(0);
    assert_eq!(
        dry.stdout(),
        std::fs::read_to_string(out.join("fwmark_7.toml")).unwrap()
    );
}
