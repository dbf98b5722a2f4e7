//! The OCF face against the real tools, tools tier: Debian's `ocf-tester` (first on
//! `ocf:heartbeat:Dummy`, to prove the harness, then on our installed agent in dry-run mode),
//! `xmllint` with resource-agents' `ra-api-1.dtd`, and `agents/install`.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::ocf_support::{is_supervisor, Behaviour, Cluster};
use crate::util::{bb, bin, repo, require_tool, run, Run};

const DTD_DIR: &str = "/usr/share/resource-agents";

fn dtd() -> PathBuf {
    let p = Path::new(DTD_DIR).join("ra-api-1.dtd");
    assert!(
        p.is_file(),
        "{} is missing: install resource-agents (tests/install-deps)",
        p.display()
    );
    p
}

fn golden() -> String {
    std::fs::read_to_string(repo().join("agents/meta-data.xml")).unwrap()
}

/// Runs `cmd` with `input` on stdin.
fn run_with_input(cmd: &mut Command, input: &str) -> Run {
    use std::io::Write;
    let argv = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {argv}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Run { argv, out }
}

#[test]
fn meta_data_matches_the_golden_copy() {
    let r = bb(&["meta-data"]);
    r.expect_code(0);
    assert_eq!(
        r.stdout(),
        golden(),
        "agents/meta-data.xml is stale: regenerate with `big_brother meta-data > agents/meta-data.xml`"
    );
}

#[test]
fn meta_data_is_valid_as_ocf_tester_checks_it() {
    require_tool("xmllint");
    dtd();
    // ocf-tester's METADATA_LINT, run where it runs it: the document's DOCTYPE names
    // ra-api-1.dtd, extended by the internal subset with the OCF 1.1 additions.
    let r = run_with_input(
        Command::new("xmllint")
            .args(["--noout", "--valid", "-"])
            .current_dir(DTD_DIR),
        &golden(),
    );
    r.expect_code(0);
    assert_eq!(r.stderr(), "", "xmllint warnings");
}

#[test]
fn meta_data_differs_from_ra_api_1_dtd_only_by_ocf_1_1_additions() {
    require_tool("xmllint");
    let dtd = dtd();
    let dir = tempfile::tempdir().unwrap();
    // 1. With --dtdvalid (external DTD only), the sole complaints are the OCF 1.1 additions
    //    that ra-api-1.dtd predates.
    let full = dir.path().join("full.xml");
    std::fs::write(&full, golden()).unwrap();
    let r = run(Command::new("xmllint").args([
        "--noout",
        "--dtdvalid",
        dtd.to_str().unwrap(),
        full.to_str().unwrap(),
    ]));
    assert_ne!(
        r.code(),
        0,
        "ra-api-1.dtd has learnt OCF 1.1: simplify metadata.rs"
    );
    for line in r.stderr().lines().filter(|l| l.contains("validity error")) {
        assert!(
            ["reloadable", "unique-group", "reload-agent"]
                .iter()
                .any(|k| line.contains(k)),
            "unexpected validity error: {line}\n{}",
            r.stderr()
        );
    }
    // 2. Without them, the document is valid against the plain DTD.
    let doc = golden();
    let body_start = doc.find("<resource-agent").unwrap();
    let stripped = doc[body_start..]
        .replace(" reloadable=\"1\"", "")
        .lines()
        .filter(|l| !l.contains("name=\"reload-agent\""))
        .map(|l| match l.find(" unique-group=") {
            Some(i) => {
                let end = l[i + 15..].find('"').unwrap() + i + 16;
                format!("{}{}", &l[..i], &l[end..])
            }
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let plain = dir.path().join("plain.xml");
    std::fs::write(&plain, format!("<?xml version=\"1.0\"?>\n{stripped}\n")).unwrap();
    run(Command::new("xmllint").args([
        "--noout",
        "--dtdvalid",
        dtd.to_str().unwrap(),
        plain.to_str().unwrap(),
    ]))
    .expect_code(0);
}

/// The sync agent's meta-data needs no OCF 1.1 addition: it is valid against ra-api-1.dtd as it
/// is, and equals its golden copy.
#[test]
fn sync_meta_data_is_valid_against_ra_api_1_dtd() {
    require_tool("xmllint");
    let dir = open_tempdir();
    std::os::unix::fs::symlink(bin(), dir.path().join("ipvs_sync")).unwrap();
    let r = run(Command::new(dir.path().join("ipvs_sync"))
        .arg("meta-data")
        .env_clear()
        .uid(65534)
        .gid(65534));
    r.expect_code(0);
    let golden = std::fs::read_to_string(repo().join("agents/ipvs_sync-meta-data.xml")).unwrap();
    assert_eq!(r.stdout(), golden);
    let doc = dir.path().join("sync.xml");
    std::fs::write(&doc, r.stdout()).unwrap();
    run(Command::new("xmllint").args([
        "--noout",
        "--dtdvalid",
        dtd().to_str().unwrap(),
        doc.to_str().unwrap(),
    ]))
    .expect_code(0);
}

#[test]
fn meta_data_runs_as_nobody() {
    let r = run(Command::new(bin())
        .arg("meta-data")
        .env_clear()
        .uid(65534)
        .gid(65534));
    r.expect_code(0);
    assert_eq!(r.stdout(), golden());
}

/// `agents/install --prefix <dir>` of the binary under test; returns the agent's path.
fn install(prefix: &Path, extra: &[&str]) -> (PathBuf, Run) {
    let mut cmd = Command::new(repo().join("agents/install"));
    cmd.arg("--prefix").arg(prefix).args(extra).arg(bin());
    let r = run(&mut cmd);
    let provider = extra
        .windows(2)
        .find(|w| w[0] == "--provider")
        .map(|w| w[1])
        .unwrap_or("braintree");
    (
        prefix.join(format!("usr/lib/ocf/resource.d/{provider}/ocf_big_brother")),
        r,
    )
}

/// ocf-tester with the given agent, resource name and `-o` parameters.
fn ocf_tester(agent: &Path, name: &str, params: &[String], env: &[(&str, String)]) -> Run {
    let tester = require_tool("ocf-tester");
    let mut cmd = Command::new(tester);
    cmd.arg("-n").arg(name);
    for p in params {
        cmd.arg("-o").arg(p);
    }
    cmd.arg(agent).env_clear().env(
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    );
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

/// A directory `nobody` can traverse: ocf-tester runs `meta-data` as nobody.
fn open_tempdir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    d
}

#[test]
fn ocf_tester_passes_on_heartbeat_dummy() {
    // Harness check (STYLE.md point 16): the same driver on a known-good agent.
    let d = open_tempdir();
    let r = ocf_tester(
        Path::new("/usr/lib/ocf/resource.d/heartbeat/Dummy"),
        "dummy_harness",
        &[format!("state={}", d.path().join("dummy.state").display())],
        &[("HA_RSCTMP", d.path().display().to_string())],
    );
    r.expect_code(0);
    assert!(r.stdout().contains("passed all tests"), "{}", r.stdout());
}

#[test]
fn ocf_tester_passes_on_the_installed_agent() {
    let d = open_tempdir();
    let prefix = d.path().join("root");
    let (agent, r) = install(&prefix, &[]);
    r.expect_code(0);
    let c = Cluster::in_dir(
        tempfile::tempdir().unwrap(),
        "tester1",
        7,
        &[Behaviour::Health(100), Behaviour::Health(50)],
    );
    let rsc = d.path().join("rsctmp");
    let log = d.path().join("ha.log");
    let r = ocf_tester(
        &agent,
        "ipvs_tester1",
        &[
            "cluster=tester1".to_string(),
            format!("config={}", c.config.display()),
            "dry_run=1".to_string(),
        ],
        &[
            ("HA_RSCTMP", rsc.display().to_string()),
            ("HA_LOGFILE", log.display().to_string()),
            ("HA_LOGFACILITY", "none".to_string()),
        ],
    );
    r.expect_code(0);
    assert!(r.stdout().contains("passed all tests"), "{}", r.stdout());
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("ocf_big_brother(ipvs_tester1)["),
        "tagged with the instance: {log}"
    );
    assert!(
        !log.contains("ERROR"),
        "ocf-tester's run logs no error: {log}"
    );
    let state = rsc.join("big_brother/tester1");
    if let Ok(pid) = std::fs::read_to_string(state.join("lock")) {
        let pid: i32 = pid.trim().parse().unwrap_or(0);
        assert!(!is_supervisor(pid), "ocf-tester ends with a stop");
    }
}

#[test]
fn install_is_idempotent_and_takes_a_provider() {
    let d = open_tempdir();
    let prefix = d.path().join("root");
    let (agent, first) = install(&prefix, &[]);
    first.expect_code(0);
    assert!(first.stdout().contains("installed"), "{}", first.stdout());
    let mode = std::fs::metadata(&agent).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o755);
    let (_, again) = install(&prefix, &[]);
    again.expect_code(0);
    assert_eq!(
        again.stdout().matches("unchanged").count(),
        3,
        "{}",
        again.stdout()
    );

    // The alias is the operator's command line; the agent path is the OCF agent.
    let alias = prefix.join("usr/sbin/big_brother");
    assert_eq!(std::fs::canonicalize(&alias).unwrap(), agent);
    let spec = repo().join("crm/examples/webapp.toml");
    run(Command::new(&alias).arg("validate").arg(&spec)).expect_code(0);
    run(Command::new(&agent).arg("meta-data")).expect_code(0);
    run(Command::new(&agent).arg("validate")).expect_code(3);

    // The sync agent is the same binary under the name Pacemaker runs for ocf:…:ipvs_sync.
    let sync = agent.with_file_name("ipvs_sync");
    assert_eq!(std::fs::canonicalize(&sync).unwrap(), agent);
    let r = run(Command::new(&sync).arg("meta-data"));
    r.expect_code(0);
    assert!(r.stdout().contains("<resource-agent name=\"ipvs_sync\""));

    let (acme, r) = install(&prefix, &["--provider", "acme"]);
    r.expect_code(0);
    assert!(acme.ends_with("resource.d/acme/ocf_big_brother") && acme.is_file());

    let r = run(Command::new(repo().join("agents/install"))
        .arg("--prefix")
        .arg(&prefix)
        .arg(d.path().join("no-such-binary")));
    r.expect_code(5);
    assert!(r.stderr().contains("no executable"), "{}", r.stderr());
}
