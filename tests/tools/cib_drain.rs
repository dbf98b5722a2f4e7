//! Cluster-wide drains in the Pacemaker CIB (issue 15) against the real `cibadmin`,
//! `crm_verify` and `crm_simulate`, on a file CIB (`CIB_file`) shared by two supervisors in dry
//! run — two directors of one cluster. What must hold: both apply a drain made with either's
//! command within a check interval; who/when/why are recorded; a CIB that cannot be read keeps
//! the last drains (and says so); a CIB that refuses the write and bad input leave nothing
//! half-written; `crm apply`, a schema upgrade and the scheduler leave the drains alone and
//! restart nothing. Also prints what watching the CIB costs per director.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::ocf_support::wait_for;
use crate::process::health_supervisor::Lb;
use crate::tools::crm::{webapp, FileCib};
use crate::util::{self, require_tool, Run};

/// An operator command of `lb` on the shared CIB file.
pub(super) fn bb(lb: &Lb, cib: &Path, args: &[&str]) -> Run {
    let mut cmd = lb.command(args);
    cmd.env("CIB_file", cib);
    util::run(&mut cmd)
}

/// Starts `lb`'s supervisor (dry run) watching the CIB file.
pub(super) fn start(lb: &Lb, cib: &Path) {
    lb.agent_env("start", &[("CIB_file", cib.to_str().unwrap())])
        .expect_code(0);
}

pub(super) fn cib_set(cib: &FileCib) -> String {
    let r = cib.tool("cibadmin", &["--query", "--scope", "crm_config"]);
    r.expect_code(0);
    r.stdout()
}

/// Issue 15: two directors, one CIB. A drain made on one is applied by both within a check
/// interval (1 s at least), with who/when/why in the CIB and in `status`; an undrain on the
/// other lifts it on both. The CIB stays valid for `crm_verify`.
#[test]
fn two_directors_sharing_one_cib_apply_the_same_drain() {
    let cib = FileCib::new();
    let a = Lb::new("cibd", &[100.0, 100.0, 100.0]);
    let b = Lb::new("cibd", &[100.0, 100.0, 100.0]);
    start(&a, &cib.path);
    start(&b, &cib.path);
    a.wait_weights("a: full weights", |w| w == [100, 100, 100]);
    b.wait_weights("b: full weights", |w| w == [100, 100, 100]);

    let node = a.id(1);
    let config = a.config.display().to_string();
    let t0 = Instant::now();
    let r = bb(
        &a,
        &cib.path,
        &[
            "drain",
            "cibd",
            &node,
            "--config",
            &config,
            "--reason",
            "kernel 6.1 → 6.6, reboot",
        ],
    );
    r.expect_code(0);
    assert!(
        r.stdout()
            .contains("drained on every director (CIB big_brother-cibd, by "),
        "{}",
        r.stdout()
    );
    a.wait_weights("a: the drain applied", |w| w == [100, 0, 100]);
    b.wait_weights("b: the drain applied", |w| w == [100, 0, 100]);
    let took = t0.elapsed();
    println!("cib drain seen by both directors after {took:.2?} (check_interval 500ms, CIB read every 1 s)");
    // One read interval (1 s) plus a tick (0.5 s) plus the command itself; generous for load.
    assert!(took < Duration::from_secs(6), "took {took:?}");

    // Recorded with who, when, why: in the CIB, in status.json, in `status`.
    let set = cib_set(&cib);
    assert!(
        set.contains("<cluster_property_set id=\"big_brother-cibd\">")
            && set.contains(&format!("name=\"drain-{node}\""))
            && set.contains("reason=kernel 6.1 → 6.6, reboot"),
        "{set}"
    );
    let st = b.status_file();
    let d = &st["cib"]["drains"][0];
    assert_eq!(d["node"], node.as_str(), "{st}");
    assert_eq!(d["reason"], "kernel 6.1 → 6.6, reboot");
    assert!(d["by"].as_str().unwrap().contains('@'), "{d}");
    assert!(d["at"].as_str().unwrap().ends_with('Z'), "{d}");
    assert_eq!(st["cib"]["reachable"], true);
    let text = b.bb(&["status", "cibd"]).stdout();
    assert!(
        text.contains("drained cluster-wide by ") && text.contains(": kernel 6.1 → 6.6, reboot"),
        "{text}"
    );
    cib.verify();

    // Undrain from the other director: both return (ramping up).
    bb(
        &b,
        &cib.path,
        &["undrain", "cibd", &node, "--config", &config],
    )
    .expect_code(0);
    a.wait_weights("a: undrained", |w| w[1] > 0);
    b.wait_weights("b: undrained", |w| w[1] > 0);
    assert!(!cib_set(&cib).contains("drain-"), "{}", cib_set(&cib));
    a.agent("stop").expect_code(0);
    b.agent("stop").expect_code(0);
}

/// A CIB that cannot be read keeps the drains of the last read: never a weight reset. Status
/// says so. Once it can be read again, its state applies.
#[test]
fn an_unreadable_cib_keeps_the_last_drains_and_says_so() {
    let cib = FileCib::new();
    let lb = Lb::new("cibu", &[100.0, 100.0]);
    start(&lb, &cib.path);
    lb.wait_weights("full weights", |w| w == [100, 100]);
    let config = lb.config.display().to_string();
    let node = lb.id(0);
    bb(
        &lb,
        &cib.path,
        &["drain", "cibu", &node, "--config", &config],
    )
    .expect_code(0);
    lb.wait_weights("drained", |w| w == [0, 100]);

    let good = cib.bytes();
    std::fs::write(&cib.path, b"<cib><not-closed>").unwrap();
    wait_for(
        "status to say the CIB cannot be read",
        Duration::from_secs(20),
        || lb.status_file()["cib"]["error"].is_string(),
    );
    // Three more reads: still drained.
    std::thread::sleep(Duration::from_millis(3000));
    assert_eq!(lb.weights(), [0, 100]);
    let text = lb.bb(&["status", "cibu"]).stdout();
    assert!(
        text.contains("CIB: cannot read it (")
            && text.contains("keeping the 1 cluster-wide drains and 0 overrides read"),
        "{text}"
    );
    assert!(text.contains("drained cluster-wide"), "{text}");

    // Readable again, without the drain: the node comes back.
    std::fs::write(&cib.path, &good).unwrap();
    cib.tool(
        "cibadmin",
        &[
            "--delete",
            "--xpath",
            "//cluster_property_set[@id='big_brother-cibu']",
        ],
    )
    .expect_code(0);
    lb.wait_weights("undrained once readable", |w| w[0] > 0);
    assert!(lb.status_file()["cib"]["error"].is_null());
    lb.agent("stop").expect_code(0);
}

/// A CIB that refuses the write (here: an id the drain needs is already taken, so the schema
/// check fails) is a clear error, exit 1, and nothing is written anywhere: not the CIB, not
/// the local drain file.
#[test]
fn a_cib_that_refuses_the_write_leaves_nothing_half_written() {
    let cib = FileCib::new();
    let lb = Lb::new("cibr", &[100.0]);
    let config = lb.config.display().to_string();
    let node = lb.id(0);
    cib.take_id(&format!("big_brother.cibr.drain-{node}"));
    let before = cib.bytes();
    let r = bb(
        &lb,
        &cib.path,
        &[
            "drain",
            "cibr",
            &node,
            "--config",
            &config,
            "--reason",
            "disk <swap> & \"fan\"",
        ],
    );
    r.expect_code(1);
    assert!(
        r.stderr()
            .starts_with("big_brother drain: `cibadmin --modify --allow-create")
            && r.stderr()
                .contains("does not conform to the configured schema"),
        "{}",
        r.stderr()
    );
    assert_eq!(cib.bytes(), before, "the CIB is unchanged");
    assert!(!lb.dir.path().join("data/cibr/drain").exists());
    cib.verify();
}

/// Bad input is refused before anything is read or written: control characters (and other
/// invisible ones) or an over-long reason (exit 2), an unknown node (2), an unknown cluster
/// (6, as `validate`).
#[test]
fn bad_input_gets_a_clear_error_and_writes_nothing() {
    let cib = FileCib::new();
    let lb = Lb::new("cibb", &[100.0]);
    let config = lb.config.display().to_string();
    let node = lb.id(0);
    let before = cib.bytes();
    let long = "x".repeat(257);
    for (reason, says) in [
        ("two\nlines", "\"\\n\" (character 4)"),
        ("\u{1b}[2J", "\"\\u{1b}\" (character 1)"),
        ("abc\u{202e}def", "(character 4)"),
        (long.as_str(), "the reason is 257 bytes long; at most 256"),
        (
            "disque & ventilateur échangés",
            "leave out & < > \" or write the reason in ASCII",
        ),
        ("6.1 → 6.6 <reboot>", "has '<' beside non-ASCII text"),
    ] {
        let r = bb(
            &lb,
            &cib.path,
            &[
                "drain", "cibb", &node, "--config", &config, "--reason", reason,
            ],
        );
        r.expect_code(2);
        assert!(r.stderr().contains(says), "{reason:?}: {}", r.stderr());
    }
    let r = bb(
        &lb,
        &cib.path,
        &["drain", "cibb", "192.0.2.250", "--config", &config],
    );
    r.expect_code(2);
    assert!(
        r.stderr().contains("expected one of the cluster's nodes"),
        "{}",
        r.stderr()
    );
    let r = bb(&lb, &cib.path, &["drain", "nosuch", &node]);
    r.expect_code(6);
    assert!(r.stderr().contains("nosuch.toml"), "{}", r.stderr());
    let r = bb(
        &lb,
        &cib.path,
        &[
            "undrain", "cibb", &node, "--config", &config, "--reason", "x",
        ],
    );
    r.expect_code(2);
    assert_eq!(cib.bytes(), before, "nothing written to the CIB");
    assert!(
        !lb.dir.path().join("data/cibb").exists(),
        "nothing written locally"
    );
}

/// A local drain (from before, or `--local`) keeps working beside the CIB's, is reported as
/// this director's only, and a plain `drain` moves it to the CIB.
#[test]
fn local_drains_keep_working_and_move_to_the_cib() {
    let cib = FileCib::new();
    let lb = Lb::new("cibl", &[100.0, 100.0]);
    start(&lb, &cib.path);
    lb.wait_weights("full weights", |w| w == [100, 100]);
    let config = lb.config.display().to_string();
    let node = lb.id(1);
    let r = bb(
        &lb,
        &cib.path,
        &["drain", "cibl", &node, "--config", &config, "--local"],
    );
    r.expect_code(0);
    lb.wait_weights("locally drained", |w| w == [100, 0]);
    assert!(!cib_set(&cib).contains("drain-"));
    let text = lb.bb(&["status", "cibl"]).stdout();
    assert!(
        text.contains("drained on this director only")
            && text.contains(&format!("local drains (this director only): {node}")),
        "{text}"
    );
    // ASCII markup in a reason is escaped and comes back as typed (the command reads it back).
    let reason = "disk <swap> & \"fan\" 'now'";
    let r = bb(
        &lb,
        &cib.path,
        &[
            "drain", "cibl", &node, "--config", &config, "--reason", reason,
        ],
    );
    r.expect_code(0);
    assert!(
        r.stdout().contains("moved from this director's drain file"),
        "{}",
        r.stdout()
    );
    assert!(cib_set(&cib).contains(&format!("drain-{node}")));
    wait_for(
        "status: a cluster-wide drain only",
        Duration::from_secs(10),
        || {
            let st = lb.status_file();
            st["local_drains"].is_null()
                && st["cib"]["drains"][0]["node"] == node.as_str()
                && st["cib"]["drains"][0]["reason"] == reason
        },
    );
    assert_eq!(lb.weights(), [100, 0], "drained all along");
    lb.agent("stop").expect_code(0);
}

/// The place survives what runs on a cluster: `crm apply` (here one that rewrites the group),
/// a schema upgrade, and a change to it schedules no action (a changed instance attribute,
/// for contrast, restarts the group: the check can fail).
#[test]
fn crm_apply_and_upgrades_keep_the_drains_and_nothing_restarts() {
    let cib = FileCib::new();
    cib.tool(
        "crm_attribute",
        &[
            "--type",
            "crm_config",
            "--name",
            "no-quorum-policy",
            "--update",
            "ignore",
        ],
    )
    .expect_code(0);
    let spec = webapp();
    cib.bb(&["crm", "apply", &spec]).expect_code(0);
    // Two nodes, the group started on one: a CIB with a status section.
    let running = cib.dir.path().join("running.xml");
    let sim = |args: &[&str]| -> String {
        let r = util::run(Command::new(require_tool("crm_simulate")).args(args));
        r.expect_code(0);
        r.stdout()
    };
    let p = cib.path.to_str().unwrap();
    let rp = running.to_str().unwrap();
    sim(&[
        "--xml-file",
        p,
        "--node-up",
        "n1",
        "--node-up",
        "n2",
        "--simulate",
        "--save-output",
        rp,
    ]);
    sim(&["--xml-file", rp, "--simulate", "--save-output", rp]);
    let actions = |file: &str| -> Vec<String> {
        let out = sim(&["--xml-file", file, "--simulate"]);
        let summary = out
            .split("Transition Summary:")
            .nth(1)
            .unwrap_or("")
            .to_string();
        let summary = summary
            .split("Executing Cluster Transition")
            .next()
            .unwrap_or("");
        summary
            .lines()
            .filter(|l| l.trim_start().starts_with('*'))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(actions(rp), Vec::<String>::new(), "settled");

    let drain = util::bb_env(
        &[
            "drain",
            "webapp",
            "10.0.0.1",
            "--config",
            &spec,
            "--reason",
            "disk swap",
        ],
        &[
            ("CIB_file", &running),
            ("BIG_BROTHER_DATA_DIR", cib.dir.path()),
        ],
    );
    drain.expect_code(0);
    assert_eq!(
        actions(rp),
        Vec::<String>::new(),
        "a drain schedules nothing"
    );
    let verify = util::run(Command::new(require_tool("crm_verify")).args(["-V", "--xml-file", rp]));
    verify.expect_code(0);
    assert_eq!(verify.stderr(), "", "no crm_verify warning");
    // crmsh shows the set as a property set of its own and its verify says nothing about it
    // (it checks only cib-bootstrap-options against the known cluster options).
    let crm = |args: &[&str]| {
        util::run(
            Command::new(require_tool("crm"))
                .env("CIB_file", &running)
                .args(args),
        )
    };
    let show = crm(&["configure", "show", "big_brother-webapp"]);
    assert!(
        show.stdout().contains("property big_brother-webapp:")
            && show.stdout().contains("drain-10.0.0.1=\"at="),
        "{}",
        show.stdout()
    );
    let verify = crm(&["configure", "verify"]);
    let said = format!("{}{}", verify.stdout(), verify.stderr());
    assert!(
        !said.contains("big_brother-webapp") && !said.contains("drain-"),
        "{said}"
    );

    // crm apply of a changed spec rewrites the group; the drain stays.
    let changed = cib.spec(
        "webapp.toml",
        &std::fs::read_to_string(&spec)
            .unwrap()
            .replace("Braintree Webapp", "Webapp v2"),
    );
    let apply = util::bb_env(&["crm", "apply", &changed], &[("CIB_file", &running)]);
    apply.expect_code(0);
    assert!(apply.stdout().contains("replaced"), "{}", apply.stdout());
    let has_drain = |file: &Path| -> bool {
        let r = util::run(
            Command::new(require_tool("cibadmin"))
                .env("CIB_file", file)
                .args(["--query", "--xpath", "//nvpair[@name='drain-10.0.0.1']"]),
        );
        r.code() == 0 && r.stdout().contains("reason=disk swap")
    };
    assert!(has_drain(&running), "kept by crm apply");

    // A CIB from an older schema, upgraded: still there.
    let old = cib.dir.path().join("old.xml");
    let text = std::fs::read_to_string(&running).unwrap();
    let re = text.find("validate-with=\"").unwrap();
    let end = text[re + 15..].find('"').unwrap() + re + 15;
    std::fs::write(
        &old,
        format!(
            "{}validate-with=\"pacemaker-2.0{}",
            &text[..re],
            &text[end..]
        ),
    )
    .unwrap();
    util::run(
        Command::new(require_tool("cibadmin"))
            .env("CIB_file", &old)
            .args(["--upgrade", "--force"]),
    )
    .expect_code(0);
    assert!(has_drain(&old), "kept by cibadmin --upgrade");

    // For contrast: an instance attribute of the primitive restarts it (and the VIP after it).
    let ia = cib.dir.path().join("ia.xml");
    std::fs::copy(&running, &ia).unwrap();
    util::run(
        Command::new(require_tool("crm_resource"))
            .env("CIB_file", &ia)
            .args([
                "--resource",
                "ipvs_webapp",
                "--set-parameter",
                "drain",
                "--parameter-value",
                "x",
            ]),
    )
    .expect_code(0);
    let restarts = actions(ia.to_str().unwrap());
    assert!(
        restarts.iter().any(|l| l.contains("Restart")),
        "{restarts:?}"
    );
}

/// CPU time of `pid` and its reaped children, from `/proc/PID/stat` (utime, stime, cutime,
/// cstime in clock ticks).
fn cpu_ticks(pid: i32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let f: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    // Fields 14-17 of the whole line are 12-15 after "pid (comm)" and the state.
    f[11..15].iter().map(|v| v.parse::<u64>().unwrap()).sum()
}

/// Ticks per second of those counters.
fn clk_tck() -> f64 {
    let r = util::run(Command::new("getconf").arg("CLK_TCK"));
    r.stdout().trim().parse().unwrap()
}

/// What watching the CIB costs a director at a 2 s check interval, CPU per minute, against an
/// idle supervisor measured in the same run: (1) a supervisor that watches a file CIB (its
/// reads are gated on the file changing, as cibadmin reads that file), and (2) what reads of
/// the live CIB cost: one `cibadmin --query` per minute while its disk copy is unchanged
/// (`cib_drain::REFRESH_EVERY`; a stat per interval otherwise), against the one query per
/// interval before issue 14 — both from 30 runs against a file CIB of the same cluster.
/// Printed; bounded loosely so the figure cannot silently grow by an order of magnitude.
#[test]
fn watching_the_cib_costs_little() {
    let secs = 20u64;
    let cib = FileCib::new();
    let idle = Lb::new("cibc", &[100.0, 100.0]);
    let watch = Lb::new("cibc", &[100.0, 100.0]);
    for lb in [&idle, &watch] {
        let text = std::fs::read_to_string(&lb.config).unwrap();
        std::fs::write(
            &lb.config,
            text.replace("check_interval = \"500ms\"", "check_interval = \"2s\""),
        )
        .unwrap();
    }
    // The idle one has no CIB here (no cluster, no CIB_file): one failed probe per 30 s.
    idle.agent("start").expect_code(0);
    start(&watch, &cib.path);
    idle.wait_weights("idle up", |w| w == [100, 100]);
    watch.wait_weights("watch up", |w| w == [100, 100]);
    let (pi, pw) = (idle.pid(), watch.pid());
    let (i0, w0) = (cpu_ticks(pi), cpu_ticks(pw));
    std::thread::sleep(Duration::from_secs(secs));
    let (i1, w1) = (cpu_ticks(pi), cpu_ticks(pw));
    let hz = clk_tck();
    let per_min = |t: u64| t as f64 / hz * 60.0 / secs as f64;
    let (idle_min, watch_min) = (per_min(i1 - i0), per_min(w1 - w0));

    // One minute of live-CIB reads at a 2 s interval, run here with the same query.
    let xpath = "/cib/configuration/crm_config/cluster_property_set[@id='big_brother-cibc']";
    let t0 = Instant::now();
    let usage: f64 = (0..30)
        .map(|_| {
            child_cpu(
                cib.cmd("cibadmin")
                    .args(["--query", "--xpath", xpath, "--timeout", "5"])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null()),
            )
        })
        .sum();
    let wall = t0.elapsed();
    let per_query = usage / 30.0;
    let refresh = big_brother::state::cib_drain::REFRESH_EVERY.as_secs_f64();
    let live_min = per_query * 60.0 / refresh;
    println!(
        "CIB watch cost per director at check_interval 2s: idle supervisor {idle_min:.3} s CPU/min; \
         supervisor watching a file CIB {watch_min:.3} s CPU/min (ratio {:.2}); \
         a cibadmin query {:.1} ms CPU (30 in {wall:.2?}); live CIB unchanged: {live_min:.3} s CPU/min \
         ({:.1}x the idle supervisor; a query per interval would be {usage:.3} s CPU/min, {:.1} % of one core)",
        watch_min / idle_min.max(0.001),
        per_query * 1000.0,
        live_min / idle_min.max(0.001),
        usage / 60.0 * 100.0
    );
    // Loose bounds: a regression by an order of magnitude fails, machine load does not.
    assert!(
        watch_min < idle_min * 3.0 + 0.5,
        "file watch: {watch_min} vs idle {idle_min}"
    );
    assert!(usage < 6.0, "a minute of CIB reads took {usage} s CPU");
    idle.agent("stop").expect_code(0);
    watch.agent("stop").expect_code(0);
}

/// Runs `cmd` to its end and returns its user + system CPU seconds (`wait4`'s rusage: only
/// this child's, whatever else the test binary runs meanwhile).
fn child_cpu(cmd: &mut Command) -> f64 {
    let child = cmd.spawn().unwrap();
    let pid = i32::try_from(child.id()).unwrap();
    let mut status = 0;
    // SAFETY: `rusage` is plain old data wait4 fills; `pid` is our own unreaped child (the
    // `Child` handle is forgotten below so nothing waits for it twice).
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::wait4(pid, &mut status, 0, &mut ru), pid);
        ru
    };
    std::mem::forget(child);
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// The CIB's `epoch`: what Pacemaker bumps, and rewrites its disk copy for, on a configuration
/// change.
fn epoch(cib: &FileCib) -> u64 {
    let r = cib.tool("cibadmin", &["--query", "--local", "--xpath", "/cib"]);
    r.expect_code(0);
    let out = r.stdout();
    let at = out.find(" epoch=\"").expect("an epoch attribute") + 8;
    out[at..]
        .split('"')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("a numeric epoch")
}

/// Issue 14: every write of ours is a configuration change for Pacemaker — the epoch goes up —
/// because supervisors on a live cluster query the CIB only when its disk copy, rewritten on
/// configuration changes alone, changed. The first drain of a cluster (which creates its set)
/// once bumped only `num_updates` and reached the other director a minute late.
#[test]
fn every_write_bumps_the_epoch() {
    let cib = FileCib::new();
    let lb = Lb::new("cibe", &[100.0, 100.0]);
    let config = lb.config.display().to_string();
    let (n0, n1) = (lb.id(0), lb.id(1));
    let steps: [(&str, Vec<&str>); 6] = [
        (
            "the first drain (creates the set)",
            vec!["drain", "cibe", &n0],
        ),
        ("a second drain", vec!["drain", "cibe", &n1]),
        ("an undrain", vec!["undrain", "cibe", &n1]),
        ("a cluster override", vec!["override", "cibe", "down"]),
        ("a node override", vec!["override", "cibe", &n0, "50"]),
        (
            "clearing the cluster override",
            vec!["override", "cibe", "clear"],
        ),
    ];
    for (what, args) in steps {
        let before = epoch(&cib);
        let mut args = args;
        args.extend(["--config", config.as_str()]);
        bb(&lb, &cib.path, &args).expect_code(0);
        let after = epoch(&cib);
        assert!(after > before, "{what}: epoch {before} -> {after}");
    }
}
