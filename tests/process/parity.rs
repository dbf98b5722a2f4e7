//! Parity with the original big_brother (issue 8), process tier: the real binary in `dry_run`
//! with loopback health endpoints. The cluster-wide override files, the `on_change` hook, a
//! reloaded scheduler/forwarding method applied in place (the original's open issue #4), and
//! the import of what used to live outside the config (`--data-dir`, `nagios`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::ocf_support::{wait_for, Behaviour, Cluster};
use crate::util::{bb, write};

const UP: Behaviour = Behaviour::Health(100);
const WAIT: Duration = Duration::from_secs(15);

/// The cluster's spec with `extra` top-level keys (before the first table) and no ramp, so
/// weights are predictable.
fn spec_with(c: &Cluster, n: usize, extra: &str) -> String {
    c.spec_text(7, n).replacen(
        "check_interval",
        &format!("ramp_up_time = \"1ms\"\n{extra}\ncheck_interval"),
        1,
    )
}

/// The dry-run table's service, whole.
fn service(c: &Cluster) -> Value {
    let text = std::fs::read_to_string(c.state_dir().join("dryrun-ipvs.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["services"][0].clone()
}

fn ops(c: &Cluster) -> Value {
    let text = std::fs::read_to_string(c.state_dir().join("dryrun-ipvs.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["ops"].clone()
}

fn touch(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn table_is(c: &Cluster, want: &[(&str, u64)]) -> bool {
    let want: Vec<(String, u64)> = want.iter().map(|(a, w)| (a.to_string(), *w)).collect();
    c.table().is_some_and(|mut t| {
        t.sort();
        t == want
    })
}

#[test]
fn override_files_force_the_cluster_down_and_up() {
    let c = Cluster::new("ovr1", &[UP, Behaviour::Health(0)]);
    let data = c.dir.path().join("data");
    // The sorry server table goes after the top-level keys, before [[vip]].
    let text = spec_with(&c, 2, &format!("override_dir = \"{}\"", data.display())).replacen(
        "[[vip]]",
        "[sorry_server]\naddress = \"198.51.100.9\"\nweight = 1\n[[vip]]",
        1,
    );
    std::fs::write(&c.config, text).unwrap();
    c.agent("start", &[]).expect_code(0);
    wait_for("full weight", WAIT, || {
        table_is(&c, &[("127.0.0.1", 100), ("127.0.0.2", 0)])
    });

    // down: every node to 0 (none removed), and the sorry server comes in.
    let down = data.join("down/ovr1");
    touch(&down, "maintenance window\n");
    wait_for("the down override", WAIT, || {
        table_is(
            &c,
            &[("127.0.0.1", 0), ("127.0.0.2", 0), ("198.51.100.9", 1)],
        ) && c.status().unwrap()["override"]["state"] == "down"
    });
    let st = c.status().unwrap();
    assert_eq!(st["override"]["state"], "down", "{st}");
    // `big_brother status` says so.
    let r = crate::util::run(
        std::process::Command::new(crate::util::bin())
            .args(["status", "ovr1"])
            .env("HA_RSCTMP", &c.rsctmp),
    );
    r.expect_code(0);
    assert!(
        r.stdout().contains(&format!(
            "override: down — every node at weight 0 ({}: maintenance window)",
            down.display()
        )),
        "{}",
        r.stdout()
    );
    assert!(r.stdout().contains("override down"), "{}", r.stdout());
    assert_eq!(st["override"]["reason"], "maintenance window");
    assert_eq!(st["override"]["file"], down.to_str().unwrap());
    c.agent("monitor", &[("OCF_CHECK_LEVEL", "10")])
        .expect_code(0);

    // up wins over down: every node at full weight, even the one reporting health 0.
    let up = data.join("up/ovr1");
    touch(&up, "");
    wait_for("the up override", WAIT, || {
        table_is(&c, &[("127.0.0.1", 100), ("127.0.0.2", 100)])
            && c.status().unwrap()["override"]["state"] == "up"
    });

    std::fs::remove_file(&up).unwrap();
    wait_for("down again", WAIT, || {
        c.status().unwrap()["override"]["state"] == "down"
    });
    std::fs::remove_file(&down).unwrap();
    wait_for("health rules again", WAIT, || {
        table_is(&c, &[("127.0.0.1", 100), ("127.0.0.2", 0)])
            && c.status().unwrap()["override"] == Value::Null
    });
    assert_eq!(c.status().unwrap()["override"], Value::Null);
    // Another cluster's file is not ours.
    touch(&data.join("down/other"), "");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(table_is(&c, &[("127.0.0.1", 100), ("127.0.0.2", 0)]));
    c.agent("stop", &[]).expect_code(0);
}

#[test]
fn override_files_live_in_the_originals_data_dir_by_default() {
    let c = Cluster::new("ovr2", &[UP]);
    std::fs::write(&c.config, spec_with(&c, 1, "")).unwrap();
    c.agent("start", &[]).expect_code(0);
    // Nothing is written there to prove it (tests keep out of /etc); the supervisor names it.
    let st = c.status().unwrap();
    assert_eq!(st["override"], Value::Null);
    let spec = big_brother::spec::load(&c.config).unwrap();
    assert_eq!(spec.override_dir, Path::new("/etc/big_brother"));
    c.agent("stop", &[]).expect_code(0);
}

/// A hook that appends one line per run: `STATE DOWN/TOTAL [DOWN_NODES] PREVIOUS OVERRIDE`.
fn recording_hook(log: &Path) -> String {
    format!(
        "on_change = [\"/bin/sh\", \"-c\", \"echo \\\"$BB_STATE $BB_NODES_DOWN/$BB_NODES_TOTAL [$BB_DOWN_NODES] $BB_PREVIOUS_NODES_DOWN $BB_OVERRIDE $BB_CLUSTER $BB_NAGIOS_CODE\\\" >> \\\"$0\\\"\", \"{}\"]",
        log.display()
    )
}

fn lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn on_change_runs_when_the_count_of_down_nodes_changes() {
    let c = Cluster::new("hook1", &[UP, UP, Behaviour::Health(0)]);
    let data = c.dir.path().join("data");
    let log = c.dir.path().join("hook.log");
    let extra = format!(
        "override_dir = \"{}\"\n{}",
        data.display(),
        recording_hook(&log)
    );
    std::fs::write(&c.config, spec_with(&c, 3, &extra)).unwrap();
    c.agent("start", &[]).expect_code(0);
    // At start, as the original's first tick: one of three down → WARNING.
    wait_for("the first run", WAIT, || lines(&log).len() == 1);
    assert_eq!(lines(&log)[0], "WARNING 1/3 [127.0.0.3]   hook1 1");

    // The count changes: all down (≥ 50 % → CRITICAL), with the previous count.
    touch(&data.join("down/hook1"), "");
    wait_for("the second run", WAIT, || lines(&log).len() == 2);
    assert_eq!(
        lines(&log)[1],
        "CRITICAL 3/3 [127.0.0.1 127.0.0.2 127.0.0.3] 1 down hook1 2"
    );
    // No change, no run: the override stays for a few ticks.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(lines(&log).len(), 2);
    // up: nobody down → OK.
    touch(&data.join("up/hook1"), "");
    wait_for("the third run", WAIT, || lines(&log).len() == 3);
    assert_eq!(lines(&log)[2], "OK 0/3 [] 3 up hook1 0");
    // The counters reach the status file with the next tick.
    wait_for("three runs in the status", WAIT, || {
        c.status().unwrap()["on_change"]["runs"] == 3
    });
    assert_eq!(c.status().unwrap()["on_change"]["failures"], 0);
    c.agent("stop", &[]).expect_code(0);
}

#[test]
fn a_failing_or_hanging_hook_never_stops_the_cluster() {
    let c = Cluster::new("hook2", &[UP, UP]);
    let data = c.dir.path().join("data");
    // The first run hangs far past its 1s limit; the next ones fail.
    let marker = c.dir.path().join("hung-once");
    let extra = format!(
        "override_dir = \"{}\"\non_change = [\"/bin/sh\", \"-c\", \"if [ ! -e \\\"$0\\\" ]; then touch \\\"$0\\\"; exec sleep 60; fi; echo nsca refused >&2; exit 3\", \"{}\"]\non_change_timeout = \"1s\"",
        data.display(),
        marker.display()
    );
    std::fs::write(&c.config, spec_with(&c, 2, &extra)).unwrap();
    c.agent("start", &[]).expect_code(0);
    let tick0 = c.status().unwrap()["tick"].as_u64().unwrap();
    // While the hook hangs the controller keeps ticking.
    wait_for("the hook to start", WAIT, || marker.exists());
    wait_for("ticks during the hang", WAIT, || {
        c.status().unwrap()["tick"].as_u64().unwrap() >= tick0 + 2
    });
    c.agent("monitor", &[]).expect_code(0);
    wait_for("the timeout to be counted", WAIT, || {
        c.status().unwrap()["on_change"]["failures"] == 1
    });
    let err = c.status().unwrap()["on_change"]["last_error"].clone();
    assert!(
        err.as_str().unwrap().contains("timed out after 1000 ms"),
        "{err}"
    );
    touch(&data.join("down/hook2"), "");
    wait_for("the failure to be counted", WAIT, || {
        c.status().unwrap()["on_change"]["failures"] == 2
    });
    let st = c.status().unwrap();
    assert_eq!(
        st["on_change"]["last_error"],
        "/bin/sh exited 3: nsca refused"
    );
    assert!(
        c.log_text().contains("on_change failed"),
        "{}",
        c.log_text()
    );
    c.agent("monitor", &[("OCF_CHECK_LEVEL", "10")])
        .expect_code(0);
    c.agent("stop", &[]).expect_code(0);
}

#[test]
fn a_reload_changes_scheduler_and_forwarding_in_place() {
    // The original's open issue #4: a changed scheduler never reached the running service.
    let c = Cluster::new("inplace1", &[UP, UP]);
    std::fs::write(&c.config, spec_with(&c, 2, "")).unwrap();
    c.agent("start", &[]).expect_code(0);
    let pid = c.pid();
    let svc = service(&c);
    assert_eq!(svc["service"]["scheduler"], "wlc");
    assert!(svc["dests"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["forward"] == "ipip"));

    std::fs::write(
        &c.config,
        spec_with(&c, 2, "scheduler = \"rr\"\nforward = \"dr\""),
    )
    .unwrap();
    c.agent("reload-agent", &[]).expect_code(0);
    let svc = service(&c);
    assert_eq!(svc["service"]["scheduler"], "rr");
    let dests = svc["dests"].as_array().unwrap();
    assert_eq!(dests.len(), 2);
    assert!(dests.iter().all(|d| d["forward"] == "dr"), "{svc}");
    let o = ops(&c);
    assert_eq!(o["services_added"], 1, "{o}");
    assert_eq!(o["services_deleted"], 0, "never deleted: {o}");
    assert_eq!(o["services_edited"], 1, "{o}");
    assert_eq!(o["dests_added"], 2, "{o}");
    assert_eq!(o["dests_deleted"], 0, "{o}");
    assert!(o["dests_edited"].as_u64() >= Some(2), "{o}");
    assert_eq!(c.pid(), pid, "same supervisor");
    assert!(
        c.log_text().contains("scheduler wlc → rr"),
        "{}",
        c.log_text()
    );
    c.agent("monitor", &[("OCF_CHECK_LEVEL", "10")])
        .expect_code(0);

    // Persistence too, and back.
    std::fs::write(
        &c.config,
        spec_with(&c, 2, "persistence_timeout = \"300s\""),
    )
    .unwrap();
    c.agent("reload-agent", &[]).expect_code(0);
    let svc = service(&c);
    assert_eq!(
        (&svc["service"]["scheduler"], &svc["service"]["timeout"]),
        (&Value::from("wlc"), &Value::from(300))
    );
    assert_eq!(ops(&c)["services_deleted"], 0);
    c.agent("stop", &[]).expect_code(0);
}

#[test]
fn import_maps_the_data_dir_and_nagios() {
    let d = tempfile::tempdir().unwrap();
    let legacy = write(
        d.path(),
        "big_brother.conf",
        "_big_brother:\n  nagios:\n    server: nagios.example.com\n    check: lb_webapp\nclusters:\n  - cluster_name: webapp\n    fwmark: 7\n    scheduler: wlc\n    nagios:\n      host: lb1\n    nodes:\n      - address: 192.0.2.1\n        port: 80\n        path: /webapp/status\n  - cluster_name: quiet\n    fwmark: 8\n    scheduler: wlc\n    nodes: []\n",
    );
    let out = d.path().join("specs");
    let r = bb(&[
        "import",
        legacy.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
        "--data-dir",
        "/var/lib/bigbro",
    ]);
    r.expect_code(0);
    let spec = big_brother::spec::load(&out.join("webapp.toml")).unwrap();
    assert_eq!(spec.override_dir, PathBuf::from("/var/lib/bigbro"));
    let hook = spec.on_change.expect("nagios becomes on_change");
    assert_eq!(hook.argv[0], "/bin/sh");
    assert_eq!(
        &hook.argv[hook.argv.len() - 3..],
        ["lb1", "lb_webapp", "nagios.example.com"]
    );
    let quiet = big_brother::spec::load(&out.join("quiet.toml")).unwrap();
    assert_eq!(quiet.on_change, None, "no nagios, no hook");
    let text = std::fs::read_to_string(out.join("webapp.toml")).unwrap();
    assert!(text.contains("send_nsca"), "{text}");

    // The hook feeds send_nsca exactly the original's line. A stand-in send_nsca on PATH
    // records its arguments and stdin.
    let bin = d.path().join("bin");
    let seen = d.path().join("seen");
    std::fs::create_dir_all(&bin).unwrap();
    write(
        &bin,
        "send_nsca",
        &format!("#!/bin/sh\necho \"$*\" > {0}\ncat >> {0}\n", seen.display()),
    );
    std::fs::set_permissions(
        bin.join("send_nsca"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let out = std::process::Command::new(&hook.argv[0])
        .args(&hook.argv[1..])
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("BB_NAGIOS_CODE", "2")
        .env("BB_MESSAGE", "CRITICAL 50% of nodes are down")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap(),
        "-H nagios.example.com -d ,\nlb1,lb_webapp,2,CRITICAL 50% of nodes are down\n"
    );
}
