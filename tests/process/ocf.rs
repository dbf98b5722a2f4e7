//! The OCF contract of the agent, process tier: the real binary, `dry_run`, a private
//! `HA_RSCTMP`, loopback health endpoints. Exit codes per action and situation (issue 4, item 7),
//! and the process model: a detached supervisor, lock liveness, crash and stale-state recovery,
//! stop escalation, reload, two clusters side by side.

use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

use crate::ocf_support::{
    expect_no_reason, expect_reason, fds, is_supervisor, pgid_sid, signal, wait_for, Behaviour,
    Cluster,
};
use crate::util::{bb, bin, run};

const UP: Behaviour = Behaviour::Health(100);

// ---------------------------------------------------------------------------------------------
// Actions that need nothing

#[test]
fn informational_actions_need_no_environment() {
    let md = bb(&["meta-data"]);
    md.expect_code(0);
    assert!(md
        .stdout()
        .contains("<resource-agent name=\"ocf_big_brother\""));
    let methods = bb(&["methods"]);
    methods.expect_code(0);
    for a in [
        "start",
        "stop",
        "monitor",
        "reload-agent",
        "validate-all",
        "meta-data",
    ] {
        assert!(
            methods.stdout().lines().any(|l| l == a),
            "methods lists {a}"
        );
    }
    bb(&["usage"]).expect_code(0);
}

#[test]
fn unknown_actions_are_unimplemented() {
    for a in ["notify", "promote", "demote", "migrate_to"] {
        let r = bb(&[a]);
        r.expect_code(3);
        assert!(r.stderr().contains("usage:"), "{}", r.stderr());
    }
    // Called as the installed agent, every argument is an action.
    let dir = tempfile::tempdir().unwrap();
    let agent = dir.path().join("ocf_big_brother");
    std::os::unix::fs::symlink(bin(), &agent).unwrap();
    run(std::process::Command::new(&agent).arg("frobnicate")).expect_code(3);
    // …and no action at all is bad arguments.
    let r = run(&mut std::process::Command::new(&agent));
    r.expect_code(2);
    assert!(r.stderr().contains("usage:"));
}

#[test]
fn status_is_the_agent_only_with_an_instance() {
    let c = Cluster::new("st1", &[UP]);
    // With OCF_RESOURCE_INSTANCE set, `status` is the LSB alias of monitor.
    c.agent("status", &[]).expect_code(7);
}

// ---------------------------------------------------------------------------------------------
// Parameter and configuration errors: the code, and one ocf-exit-reason line naming the problem

#[test]
fn parameter_errors_are_not_configured() {
    let c = Cluster::new("pe1", &[UP]);
    type Case<'a> = (&'a [(&'a str, &'a str)], i32, &'a str);
    let cases: &[Case] = &[
        (&[("OCF_RESKEY_cluster", "")], 6, "OCF_RESKEY_cluster"),
        (&[("OCF_RESKEY_cluster", "../etc")], 6, "cluster"),
        (&[("OCF_RESKEY_dry_run", "maybe")], 6, "dry_run"),
        (
            &[("OCF_RESKEY_config", "relative.toml")],
            6,
            "absolute path",
        ),
        (&[("OCF_CHECK_LEVEL", "deep")], 2, "OCF_CHECK_LEVEL"),
    ];
    for (env, code, reason) in cases {
        let action = if env[0].0 == "OCF_CHECK_LEVEL" {
            "monitor"
        } else {
            "start"
        };
        let r = c.agent(action, env);
        r.expect_code(*code);
        expect_reason(&r, reason);
    }
    assert!(!c.state_dir().exists(), "a refused start creates nothing");
}

#[test]
fn spec_errors_map_to_installed_or_configured() {
    let c = Cluster::new("se1", &[UP]);
    let missing = c.dir.path().join("absent.toml");
    let r = c.agent("start", &[("OCF_RESKEY_config", missing.to_str().unwrap())]);
    r.expect_code(5);
    expect_reason(&r, "absent.toml");
    c.agent(
        "validate-all",
        &[("OCF_RESKEY_config", missing.to_str().unwrap())],
    )
    .expect_code(5);

    std::fs::write(&c.config, c.spec_text(0, 1)).unwrap();
    for action in ["start", "validate-all"] {
        let r = c.agent(action, &[]);
        r.expect_code(6);
        expect_reason(&r, "fwmark");
    }
    // A probe on a node where the spec is broken: not running here, no failure reason.
    let p = c.probe();
    p.expect_code(7);
    expect_no_reason(&p);
    // Stop has nothing to stop: success.
    c.agent("stop", &[]).expect_code(0);

    // A valid spec for another cluster.
    std::fs::write(&c.config, c.spec_text(7, 1).replace("\"se1\"", "\"other\"")).unwrap();
    let r = c.agent("start", &[]);
    r.expect_code(6);
    expect_reason(&r, "\"other\"");
}

/// A node whose kernel has no IPVS: start is 5 with the `modprobe` hint and leaves nothing,
/// `validate-all` is 0 at level 0 and 5 at level 10, a probe is 7 (not running here) and stop 0.
/// The kernel's answer is made deterministic on any host with the test fault knob
/// `BIG_BROTHER_FAULT_IPVS_FAMILY` (a generic netlink family no kernel has; at most 15 characters, GENL_NAMSIZ): the real netlink
/// lookup fails exactly as without `ip_vs`. The other half, a kernel with IPVS, is the kernel
/// tier's (`ocf_kernel_validate_all_level_10_opens_the_kernel_backend`).
#[test]
fn without_kernel_ipvs_start_is_not_installed() {
    let c = Cluster::new("kb1", &[UP]);
    let no_ipvs = ("BIG_BROTHER_FAULT_IPVS_FAMILY", "bb-no-ipvs");
    let kernel = [("OCF_RESKEY_dry_run", "false"), no_ipvs];
    let r = c.agent("start", &kernel);
    r.expect_code(5);
    expect_reason(&r, "modprobe ip_vs");
    assert!(!c.state_dir().join("lock").exists(), "nothing started");
    c.agent("validate-all", &kernel).expect_code(0);
    let r = c.agent(
        "validate-all",
        &[
            ("OCF_RESKEY_dry_run", "false"),
            ("OCF_CHECK_LEVEL", "10"),
            no_ipvs,
        ],
    );
    r.expect_code(5);
    expect_reason(&r, "not available");
    // A probe on a node without IPVS: not running here; stop: nothing to stop.
    let p = c.agent(
        "monitor",
        &[
            ("OCF_RESKEY_dry_run", "false"),
            ("OCF_RESKEY_CRM_meta_interval", "0"),
            no_ipvs,
        ],
    );
    p.expect_code(7);
    expect_no_reason(&p);
    c.agent("stop", &kernel).expect_code(0);
}

#[test]
fn permission_problems_are_4() {
    // As `nobody`, the root-owned HA_RSCTMP cannot be written.
    let c = Cluster::new("perm1", &[UP]);
    let dir = c.dir.path();
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::create_dir_all(&c.rsctmp).unwrap();
    std::fs::set_permissions(
        &c.rsctmp,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let mut cmd = c.command("start", &[("HA_LOGFILE", "")]);
    cmd.uid(65534).gid(65534);
    let r = run(&mut cmd);
    r.expect_code(4);
    expect_reason(&r, "ermission denied");
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

#[test]
fn lifecycle_with_idempotent_start_and_stop() {
    let c = Cluster::new("lc1", &[UP, UP]);
    let p = c.probe();
    p.expect_code(7);
    expect_no_reason(&p);
    c.agent("monitor", &[]).expect_code(7);
    c.agent("stop", &[]).expect_code(0);

    let t0 = Instant::now();
    c.agent("start", &[]).expect_code(0);
    let started_in = t0.elapsed();
    let pid = c.pid().expect("supervisor pid in the lock file");
    assert!(is_supervisor(pid));
    assert_eq!(
        c.table().unwrap().len(),
        2,
        "both nodes programmed at READY"
    );
    c.agent("monitor", &[]).expect_code(0);
    c.probe().expect_code(0);
    c.agent("monitor", &[("OCF_CHECK_LEVEL", "10")])
        .expect_code(0);
    let st = c.status().unwrap();
    assert_eq!(st["cluster"], "lc1");
    assert_eq!(st["ready"], true);
    assert_eq!(st["nodes"].as_array().unwrap().len(), 2);

    // Start twice: success, same supervisor.
    c.agent("start", &[]).expect_code(0);
    assert_eq!(c.pid(), Some(pid));

    c.agent("stop", &[]).expect_code(0);
    assert!(!is_supervisor(pid), "supervisor gone after stop");
    assert!(c.table().is_none(), "service removed");
    assert!(!c.state_dir().exists(), "state directory cleaned");
    c.agent("monitor", &[]).expect_code(7);
    c.agent("stop", &[]).expect_code(0);
    c.agent("monitor", &[]).expect_code(7);
    assert!(
        started_in < Duration::from_secs(10),
        "start took {started_in:?}"
    );

    let log = c.log_text();
    assert!(
        log.contains("big_brother(ipvs_lc1)["),
        "tagged lines: {log}"
    );
    assert!(
        !log.contains("ERROR"),
        "no errors in a clean lifecycle: {log}"
    );
}

#[test]
fn the_supervisor_is_detached_and_inherits_no_descriptors() {
    let c = Cluster::new("dt1", &[UP]);
    let marker = c.dir.path().join("inherited-marker");
    std::fs::write(&marker, "x").unwrap();
    // fd 7 is open without close-on-exec in the agent, as an fd leaked by execd would be.
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(format!("exec 7<'{}'; exec \"$0\" start", marker.display()))
        .arg(bin())
        .env_clear()
        .envs(c.env())
        .process_group(0);
    let agent = run(&mut cmd);
    agent.expect_code(0);
    let pid = c.pid().unwrap();
    let (pgid, sid) = pgid_sid(pid);
    assert_eq!((pgid, sid), (pid, pid), "own session and process group");
    let fds = fds(pid);
    for (fd, target) in &fds {
        assert_ne!(
            target, &marker,
            "fd {fd} leaked into the supervisor: {fds:?}"
        );
        if *fd <= 2 {
            assert_eq!(target.to_str(), Some("/dev/null"), "stdio closed: {fds:?}");
        }
    }
    // Killing the agent's process group (what execd does on timeout) cannot reach it: the agent
    // is gone already, and the supervisor is in another group.
    c.agent("monitor", &[]).expect_code(0);
    c.agent("stop", &[]).expect_code(0);
}

#[test]
fn monitor_after_the_supervisor_is_killed() {
    let c = Cluster::new("kill1", &[UP, UP]);
    c.agent("start", &[]).expect_code(0);
    let pid = c.pid().unwrap();
    signal(pid, libc::SIGKILL);
    wait_for("the lock to be released", Duration::from_secs(5), || {
        c.probe().code() != 0
    });
    // The service is still programmed, no supervisor: failed, for recurring monitors and probes.
    let r = c.agent("monitor", &[]);
    r.expect_code(1);
    expect_reason(&r, "no supervisor runs");
    c.probe().expect_code(1);
    // stop cleans up after it.
    c.agent("stop", &[]).expect_code(0);
    assert!(c.table().is_none());
    c.agent("monitor", &[]).expect_code(7);
    // And it starts again.
    c.agent("start", &[]).expect_code(0);
    c.agent("monitor", &[]).expect_code(0);
    c.agent("stop", &[]).expect_code(0);
}

#[test]
fn a_restart_after_a_crash_adopts_the_kernel_weights() {
    let c = Cluster::new("adopt1", &[UP]);
    c.agent("start", &[]).expect_code(0);
    signal(c.pid().unwrap(), libc::SIGKILL);
    wait_for("the lock to be released", Duration::from_secs(5), || {
        c.probe().code() == 1
    });
    assert_eq!(c.table().unwrap().len(), 1);
    // Start on top of the leftover service: it is adopted, not re-created.
    c.agent("start", &[]).expect_code(0);
    assert!(
        c.log_text().contains("adopting 1 existing destinations"),
        "{}",
        c.log_text()
    );
    c.agent("monitor", &[("OCF_CHECK_LEVEL", "10")])
        .expect_code(0);
    c.agent("stop", &[]).expect_code(0);
}

#[test]
fn a_stale_state_dir_left_by_a_crash() {
    let c = Cluster::new("stale1", &[UP]);
    let sd = c.state_dir();
    std::fs::create_dir_all(&sd).unwrap();
    // What a crashed supervisor leaves: an unlocked lock with a dead pid, an old status file,
    // a notify socket path, and its service in the (dry-run) kernel table.
    std::fs::write(sd.join("lock"), "999999\n").unwrap();
    std::fs::write(sd.join("notify"), "").unwrap();
    std::fs::write(sd.join("params.json"), "{\"config\":\"/nonexistent.toml\"}").unwrap();
    let status = format!(
        r#"{{"cluster":"stale1","pid":999999,"config":"{}","config_digest":"x","dry_run":true,
            "started_at":1,"updated_at":1,"check_interval_ms":1000,"tick":5,"ready":true,
            "service":{{"key":{{"kind":"fwmark","mark":7,"ipv6":false}},"scheduler":"wlc"}},
            "reload":{{"generation":0,"ok":true}},"dests":[],"nodes":[]}}"#,
        c.config.display()
    );
    std::fs::write(sd.join("status.json"), status).unwrap();
    std::fs::write(
        sd.join("dryrun-ipvs.json"),
        r#"{"services":[{"service":{"key":{"kind":"fwmark","mark":7,"ipv6":false},
            "scheduler":"wlc"},"dests":[{"address":"127.0.0.1","port":0,"forward":"ipip",
            "weight":40}]}]}"#,
    )
    .unwrap();
    c.probe().expect_code(1);
    c.agent("start", &[]).expect_code(0);
    c.agent("monitor", &[("OCF_CHECK_LEVEL", "10")])
        .expect_code(0);
    c.agent("stop", &[]).expect_code(0);
    c.agent("monitor", &[]).expect_code(7);
    assert!(!sd.exists(), "stop leaves no state behind");
}

#[test]
fn a_missing_ha_rsctmp_is_created_by_start_only() {
    let mut c = Cluster::new("rsc1", &[UP]);
    let deep = c.dir.path().join("not/yet/there");
    c.rsctmp = deep.clone();
    c.agent("monitor", &[]).expect_code(7);
    c.probe().expect_code(7);
    c.agent("validate-all", &[]).expect_code(0);
    c.agent("stop", &[]).expect_code(0);
    assert!(
        !deep.exists(),
        "monitor, validate-all and stop create nothing"
    );
    c.agent("start", &[]).expect_code(0);
    assert!(deep.join("big_brother/rsc1/status.json").exists());
    c.agent("monitor", &[]).expect_code(0);
    c.agent("stop", &[]).expect_code(0);
    c.agent("monitor", &[]).expect_code(7);
}

#[test]
fn a_start_whose_health_endpoints_hang_finishes_in_time() {
    let c = Cluster::new("hang1", &[Behaviour::Hang, Behaviour::Hang, UP]);
    let t0 = Instant::now();
    c.agent("start", &[]).expect_code(0);
    let took = t0.elapsed();
    // The start timeout is 20 s; the first round is bounded by one check interval plus
    // check_timeout (1 s + 1 s here).
    assert!(took < Duration::from_secs(15), "start took {took:?}");
    c.agent("monitor", &[]).expect_code(0);
    let st = c.status().unwrap();
    let nodes = st["nodes"].as_array().unwrap();
    for hung in &nodes[..2] {
        assert_eq!(hung["weight"], 0, "a hung node serves nothing: {st}");
        assert!(
            hung["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("timed out")),
            "{st}"
        );
    }
    assert!(nodes[2]["weight"].as_u64().unwrap() > 0, "{st}");
    assert_eq!(
        c.table().unwrap().len(),
        3,
        "hung nodes are quiesced, not left out"
    );
    c.agent("stop", &[]).expect_code(0);
}

#[test]
fn a_start_that_cannot_become_ready_in_its_timeout_leaves_nothing() {
    let c = Cluster::new("slow1", &[UP]);
    // The fault knob holds READY back after the service is programmed: the agent must kill the
    // supervisor at its deadline and remove what it programmed.
    let t0 = Instant::now();
    let r = c.agent(
        "start",
        &[
            ("OCF_RESKEY_CRM_meta_timeout", "3000"),
            ("BIG_BROTHER_FAULT_READY_DELAY_MS", "30000"),
        ],
    );
    let took = t0.elapsed();
    r.expect_code(1);
    expect_reason(&r, "did not report ready");
    // Pacemaker would kill the agent at 3 s: it answers first, cleanup included.
    assert!(
        took < Duration::from_secs(3),
        "start overran its timeout: {took:?}"
    );
    let pid = c.pid();
    assert!(pid.is_none_or(|p| !is_supervisor(p)), "supervisor killed");
    assert!(
        c.table().is_none(),
        "nothing programmed after a failed start"
    );
    c.agent("monitor", &[]).expect_code(7);
}

#[test]
fn stop_escalates_to_sigkill_within_its_timeout() {
    let c = Cluster::new("esc1", &[UP]);
    c.agent("start", &[]).expect_code(0);
    let pid = c.pid().unwrap();
    // A stopped process does not handle SIGTERM; SIGKILL still ends it.
    signal(pid, libc::SIGSTOP);
    let t0 = Instant::now();
    let r = c.agent("stop", &[("OCF_RESKEY_CRM_meta_timeout", "4000")]);
    let took = t0.elapsed();
    r.expect_code(0);
    assert!(took < Duration::from_secs(4), "stop took {took:?}");
    assert!(!is_supervisor(pid));
    assert!(c.table().is_none(), "stop removed the service itself");
    assert!(c.log_text().contains("sending SIGKILL"), "{}", c.log_text());
    c.agent("monitor", &[]).expect_code(7);
}

#[test]
fn a_stuck_supervisor_fails_monitor() {
    let c = Cluster::new("stuck1", &[UP]);
    c.agent("start", &[]).expect_code(0);
    let pid = c.pid().unwrap();
    signal(pid, libc::SIGSTOP);
    // Age the heartbeat as if the supervisor had been stuck for a minute.
    let path = c.state_dir().join("status.json");
    let mut st = c.status().unwrap();
    st["updated_at"] = (st["updated_at"].as_u64().unwrap() - 60).into();
    st["updated_boottime_ms"] = (st["updated_boottime_ms"].as_u64().unwrap() - 60_000).into();
    std::fs::write(&path, serde_json::to_vec(&st).unwrap()).unwrap();
    let r = c.agent("monitor", &[]);
    r.expect_code(1);
    expect_reason(&r, "stopped reporting");
    signal(pid, libc::SIGCONT);
    c.agent("stop", &[]).expect_code(0);
}

#[test]
fn monitor_level_10_compares_the_backend_with_the_status() {
    let c = Cluster::new("deep1", &[UP, UP]);
    c.agent("start", &[]).expect_code(0);
    c.agent("monitor", &[("OCF_CHECK_LEVEL", "10")])
        .expect_code(0);
    let pid = c.pid().unwrap();
    // Freeze the supervisor so it cannot repair the table, then change a weight behind its back.
    signal(pid, libc::SIGSTOP);
    let table = c.state_dir().join("dryrun-ipvs.json");
    let mut t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&table).unwrap()).unwrap();
    let d = &mut t["services"][0]["dests"][0];
    let tampered = d["weight"].as_u64().unwrap() + 7;
    d["weight"] = tampered.into();
    std::fs::write(&table, serde_json::to_vec(&t).unwrap()).unwrap();
    c.agent("monitor", &[]).expect_code(0);
    let r = c.agent("monitor", &[("OCF_CHECK_LEVEL", "10")]);
    r.expect_code(1);
    expect_reason(&r, &format!("w{tampered}"));
    signal(pid, libc::SIGCONT);
    c.agent("stop", &[]).expect_code(0);
}

// ---------------------------------------------------------------------------------------------
// Reload

#[test]
fn reload_agent_applies_a_new_spec_in_place() {
    let c = Cluster::new("rl1", &[UP, UP, UP]);
    c.write_spec(7, 2);
    c.agent("start", &[]).expect_code(0);
    let pid = c.pid().unwrap();
    assert_eq!(c.table().unwrap().len(), 2);

    // A new config path (the reloadable parameter) with a third node.
    let new = c.dir.path().join("rl1-new.toml");
    std::fs::write(&new, c.spec_text(7, 3)).unwrap();
    c.agent(
        "reload-agent",
        &[("OCF_RESKEY_config", new.to_str().unwrap())],
    )
    .expect_code(0);
    assert_eq!(c.pid(), Some(pid), "same supervisor");
    assert_eq!(c.table().unwrap().len(), 3, "node added in place");
    let st = c.status().unwrap();
    assert_eq!(st["reload"]["generation"], 1);
    assert_eq!(st["config"], new.to_str().unwrap());

    // A node removed through `reload` of the same path.
    std::fs::write(&new, c.spec_text(7, 1)).unwrap();
    c.agent("reload", &[("OCF_RESKEY_config", new.to_str().unwrap())])
        .expect_code(0);
    assert_eq!(c.table().unwrap().len(), 1);
    c.agent("monitor", &[("OCF_CHECK_LEVEL", "10")])
        .expect_code(0);
    c.agent("stop", &[]).expect_code(0);
}

#[test]
fn a_bad_new_spec_is_refused_and_the_old_one_keeps_running() {
    let c = Cluster::new("rl2", &[UP, UP]);
    c.agent("start", &[]).expect_code(0);
    let before = c.table().unwrap();
    std::fs::write(
        &c.config,
        "name = \"rl2\"\nfwmark = 7\nscheduler = \"nope\"\n",
    )
    .unwrap();
    let r = c.agent("reload-agent", &[]);
    r.expect_code(6);
    expect_reason(&r, "scheduler");
    c.agent("monitor", &[("OCF_CHECK_LEVEL", "10")])
        .expect_code(0);
    assert_eq!(c.table().unwrap(), before);

    // The supervisor's own refusal (a bad file handed over behind the agent's back).
    let st_path = c.state_dir();
    std::fs::write(
        st_path.join("params.json"),
        format!("{{\"config\":\"{}\"}}", c.config.display()),
    )
    .unwrap();
    signal(c.pid().unwrap(), libc::SIGHUP);
    wait_for(
        "the supervisor to record the refusal",
        Duration::from_secs(5),
        || c.status().is_some_and(|s| s["reload"]["generation"] == 1),
    );
    let st = c.status().unwrap();
    assert_eq!(st["reload"]["ok"], false);
    assert!(
        st["reload"]["error"]
            .as_str()
            .unwrap()
            .contains("scheduler"),
        "{st}"
    );
    c.agent("monitor", &[]).expect_code(0);
    assert_eq!(c.table().unwrap(), before);
    assert!(c.log_text().contains("new spec refused"));
    c.agent("stop", &[]).expect_code(0);
}

#[test]
fn reload_when_stopped_succeeds_after_validating() {
    let c = Cluster::new("rl3", &[UP]);
    c.agent("reload-agent", &[]).expect_code(0);
    std::fs::write(&c.config, "name = 1\n").unwrap();
    c.agent("reload-agent", &[]).expect_code(6);
}

// ---------------------------------------------------------------------------------------------
// Two clusters on one host

#[test]
fn two_clusters_do_not_touch_each_other() {
    let shared = tempfile::tempdir().unwrap();
    let rsc = shared.path().join("rsctmp");
    // One HA_RSCTMP for both, as on a real host.
    let mut a = Cluster::in_dir(tempfile::tempdir().unwrap(), "twoa", 7, &[UP, UP]);
    let mut b = Cluster::in_dir(tempfile::tempdir().unwrap(), "twob", 8, &[UP]);
    a.rsctmp = rsc.clone();
    b.rsctmp = rsc.clone();
    a.agent("start", &[]).expect_code(0);
    b.agent("start", &[]).expect_code(0);
    let b_table = std::fs::read_to_string(b.state_dir().join("dryrun-ipvs.json")).unwrap();
    let (a_pid, b_pid) = (a.pid().unwrap(), b.pid().unwrap());
    assert_ne!(a_pid, b_pid);
    assert_ne!(a.table(), None);

    signal(a_pid, libc::SIGKILL);
    wait_for("a's lock to be released", Duration::from_secs(5), || {
        a.agent("monitor", &[]).code() == 1
    });
    b.agent("monitor", &[]).expect_code(0);
    a.agent("stop", &[]).expect_code(0);
    a.agent("monitor", &[]).expect_code(7);
    b.agent("monitor", &[("OCF_CHECK_LEVEL", "10")])
        .expect_code(0);
    assert!(is_supervisor(b_pid));
    assert_eq!(
        std::fs::read_to_string(b.state_dir().join("dryrun-ipvs.json")).unwrap(),
        b_table
    );
    b.agent("stop", &[]).expect_code(0);
    // b stopped cleanly: nothing left. a crashed: only the weights kept for its next start.
    assert!(!b.state_dir().exists());
    let left: Vec<_> = std::fs::read_dir(a.state_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["crash-weights.json"]);
}

// ---------------------------------------------------------------------------------------------
// Specs and drains

#[test]
fn staged_specs_are_refused_with_6() {
    let c = Cluster::new("stg1", &[UP]);
    // What the talk's Puppet define writes: a name and VIPs, no service and no nodes yet.
    std::fs::write(
        &c.config,
        "name = \"stg1\"\n[[vip]]\naddress = \"192.0.2.9\"\ncidr_netmask = 32\n",
    )
    .unwrap();
    for action in ["start", "validate-all", "reload-agent"] {
        let r = c.agent(action, &[]);
        r.expect_code(6);
        expect_reason(&r, "staged");
    }
    c.probe().expect_code(7);
    c.agent("stop", &[]).expect_code(0);
}

#[test]
fn drained_nodes_go_to_weight_zero_and_back() {
    let c = Cluster::new("dr1", &[UP, UP]);
    c.agent("start", &[]).expect_code(0);
    let drain = c.dir.path().join("data/dr1/drain");
    let node = |st: &serde_json::Value, i: usize| st["nodes"][i].clone();
    big_brother::state::drain::update(&drain, "127.0.0.1", true).unwrap();
    wait_for("the node to be drained", Duration::from_secs(10), || {
        c.status()
            .is_some_and(|st| node(&st, 0)["drained"] == true && node(&st, 0)["weight"] == 0)
    });
    assert_eq!(
        c.table().unwrap()[0],
        ("127.0.0.1".to_string(), 0),
        "drained, not removed"
    );
    c.agent("monitor", &[("OCF_CHECK_LEVEL", "10")])
        .expect_code(0);
    big_brother::state::drain::update(&drain, "127.0.0.1", false).unwrap();
    wait_for("the node to be undrained", Duration::from_secs(10), || {
        c.status().is_some_and(|st| {
            node(&st, 0)["drained"] == false && node(&st, 0)["weight"].as_u64() > Some(0)
        })
    });
    c.agent("stop", &[]).expect_code(0);
}

#[test]
fn the_config_may_be_the_original_big_brother_yaml() {
    // An operator migrating keeps pointing `config` at the Ruby big_brother's file; the agent
    // runs its cluster of that name (another, broken cluster in the file does not matter).
    let c = Cluster::new("legacy1", &[UP, UP]);
    let yaml = format!(
        "_big_brother:\n  check_interval: 1\nclusters:\n  - cluster_name: legacy1\n    \
         fwmark: 7\n    scheduler: wlc\n    nodes:\n      - address: 127.0.0.1\n        \
         port: {}\n        path: /legacy1/status\n      - address: 127.0.0.2\n        \
         port: {}\n        path: /legacy1/status\n  - cluster_name: broken\n    fwmark: 0\n    \
         scheduler: wlc\n    nodes: []\n",
        c.servers[0].addr.port(),
        c.servers[1].addr.port()
    );
    let conf = c.dir.path().join("big_brother.conf");
    std::fs::write(&conf, yaml).unwrap();
    let env = [("OCF_RESKEY_config", conf.to_str().unwrap())];
    c.agent("validate-all", &env).expect_code(0);
    c.agent("start", &env).expect_code(0);
    assert_eq!(c.table().unwrap().len(), 2);
    c.agent("monitor", &[env[0], ("OCF_CHECK_LEVEL", "10")])
        .expect_code(0);
    c.agent("stop", &env).expect_code(0);
    let r = c.agent("start", &[env[0], ("OCF_RESKEY_cluster", "nosuch")]);
    r.expect_code(6);
    expect_reason(&r, "legacy1");
}
