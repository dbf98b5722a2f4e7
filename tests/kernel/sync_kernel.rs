//! Kernel tier of the connection-sync agent `ocf:braintree:ipvs_sync`: the binary called as
//! `ipvs_sync` against the real kernel's sync daemons, read back through GET_DAEMON (our
//! netlink dump) and `ipvsadm -L --daemon`; and `ocf-tester` against the installed agent. Needs
//! root and `ip_vs`, so every test is `#[ignore]`d on the host and runs in the QEMU VM:
//! `tests/vm/run -- <tests binary> --include-ignored kernel::sync`. Each test runs in a fresh
//! network namespace (the kernel runs one master and one backup per namespace).

use std::path::{Path, PathBuf};
use std::process::Command;

use big_brother::ipvs::netlink::Netlink;
use big_brother::ipvs::{Ipvs, SyncDaemon, SyncState};

use crate::ocf_support::expect_reason;
use crate::process::api::Api;
use crate::util::{bin, in_netns, repo, require_tool, run, Run};

/// `ip ARGS…`, which must succeed.
fn ip(args: &[&str]) {
    run(Command::new(require_tool("ip")).args(args)).expect_code(0);
}

/// A dummy interface, up, multicast on, with `addr` (CIDR) if given.
fn sync_if(name: &str, addr: Option<&str>) {
    ip(&["link", "add", name, "type", "dummy"]);
    ip(&["link", "set", name, "multicast", "on", "up"]);
    if let Some(a) = addr {
        ip(&["addr", "add", a, "dev", name]);
    }
}

/// The running daemons as the kernel's GET_DAEMON dump lists them, master first.
fn daemons() -> Vec<SyncDaemon> {
    let mut v = Netlink::open().unwrap().sync_daemons().unwrap();
    v.sort_by_key(|d| d.state);
    v
}

/// `ipvsadm -L --daemon`, one line per daemon.
fn ipvsadm_daemons() -> Vec<String> {
    let r = run(Command::new(require_tool("ipvsadm")).args(["-L", "--daemon"]));
    r.expect_code(0);
    r.stdout()
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The agent as Pacemaker runs it: the binary under the name `ipvs_sync`.
struct Agent {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Agent {
    fn new() -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ipvs_sync");
        std::os::unix::fs::symlink(bin(), &path).unwrap();
        Agent { _dir: dir, path }
    }

    /// Runs `action` with `params` as `OCF_RESKEY_*`; `monitor` as a recurring one (interval
    /// set), so "not running" is not a probe's quiet answer.
    fn run(&self, action: &str, params: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(&self.path);
        cmd.arg(action)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HA_LOGFACILITY", "none")
            .env("OCF_RESOURCE_INSTANCE", "ipvs_sync")
            .env("OCF_RESKEY_CRM_meta_interval", "30000");
        for (k, v) in params {
            cmd.env(format!("OCF_RESKEY_{k}"), v);
        }
        run(&mut cmd)
    }
}

const OURS: [(&str, &str); 2] = [("interface", "sync0"), ("sync_id", "42")];

#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn sync_agent_starts_monitors_and_stops_both_daemons() {
    in_netns(|| {
        sync_if("sync0", Some("192.0.2.1/24"));
        let a = Agent::new();
        a.run("validate-all", &OURS).expect_code(0);
        a.run("monitor", &OURS).expect_code(7);
        a.run("start", &OURS).expect_code(0);
        let running = daemons();
        assert_eq!(
            running,
            vec![
                SyncDaemon::new(SyncState::Master, "sync0", 42).effective(1500),
                SyncDaemon::new(SyncState::Backup, "sync0", 42).effective(1500),
            ],
            "both daemons, with the configured interface and id and the kernel's defaults"
        );
        assert_eq!(
            ipvsadm_daemons(),
            vec![
                "master sync daemon (mcast=sync0, syncid=42, maxlen=1472, group=224.0.0.81, \
                 port=8848, ttl=1)",
                "backup sync daemon (mcast=sync0, syncid=42, maxlen=1472, group=224.0.0.81, \
                 port=8848, ttl=1)",
            ]
        );
        a.run("monitor", &OURS).expect_code(0);
        // `big_brother status` shows the host's daemons, read from the kernel.
        let rsctmp = tempfile::tempdir().unwrap();
        let st = run(Command::new(bin())
            .arg("status")
            .env("HA_RSCTMP", rsctmp.path()));
        st.expect_code(7); // no cluster is supervised here
        assert!(
            st.stdout().contains(
                "connection sync (host): master sync daemon (mcast=sync0, syncid=42, \
                 maxlen=1472, group=224.0.0.81, port=8848, ttl=1); backup sync daemon \
                 (mcast=sync0, syncid=42,"
            ),
            "{}",
            st.stdout()
        );
        // `/metrics` of `big_brother api`: one sample per daemon, read from the kernel.
        let api = Api::start(rsctmp.path(), rsctmp.path());
        let m = api.get("/metrics").body;
        for state in ["master", "backup"] {
            let sample = format!(
                "big_brother_ipvs_sync_daemon{{state=\"{state}\",interface=\"sync0\",\
                 sync_id=\"42\",group=\"224.0.0.81\",port=\"8848\"}} 1\n"
            );
            assert!(m.contains(&sample), "{sample} in:\n{m}");
        }
        drop(api);
        a.run("start", &OURS).expect_code(0);
        assert_eq!(daemons().len(), 2, "a second start changes nothing");
        a.run("stop", &OURS).expect_code(0);
        assert_eq!(daemons(), vec![]);
        a.run("monitor", &OURS).expect_code(7);
        a.run("stop", &OURS).expect_code(0);
    });
}

#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn sync_agent_custom_values_are_what_runs() {
    in_netns(|| {
        sync_if("sync0", Some("192.0.2.1/24"));
        let a = Agent::new();
        let p = [
            ("interface", "sync0"),
            ("sync_id", "7"),
            ("mcast_group", "239.1.2.3"),
            ("mcast_port", "9000"),
            ("mcast_ttl", "2"),
            ("sync_maxlen", "1400"),
        ];
        a.run("start", &p).expect_code(0);
        let running = daemons();
        assert_eq!(running.len(), 2);
        for d in &running {
            assert_eq!(
                (d.sync_id, d.group, d.port, d.ttl, d.max_len),
                (
                    7,
                    Some("239.1.2.3".parse().unwrap()),
                    Some(9000),
                    Some(2),
                    Some(1400)
                ),
                "{d}"
            );
        }
        a.run("monitor", &p).expect_code(0);
        // Another port is another resource's configuration: not ours.
        let mut other = p;
        other[3] = ("mcast_port", "9001");
        a.run("monitor", &other).expect_code(7);
        a.run("stop", &p).expect_code(0);
        assert_eq!(daemons(), vec![]);
    });
}

#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn sync_agent_refuses_and_leaves_a_foreign_daemon() {
    in_netns(|| {
        sync_if("sync0", Some("192.0.2.1/24"));
        run(Command::new(require_tool("ipvsadm")).args([
            "--start-daemon",
            "backup",
            "--mcast-interface",
            "sync0",
            "--syncid",
            "9",
        ]))
        .expect_code(0);
        let a = Agent::new();
        let r = a.run("start", &OURS);
        r.expect_code(1);
        expect_reason(&r, "backup sync daemon started by someone else");
        expect_reason(&r, "sync id 9 (wanted 42)");
        let left = daemons();
        assert_eq!(
            left.len(),
            1,
            "start changed nothing, not even the free master: {left:?}"
        );
        assert_eq!((left[0].state, left[0].sync_id), (SyncState::Backup, 9));
        a.run("monitor", &OURS).expect_code(7);
        a.run("stop", &OURS).expect_code(0);
        assert_eq!(daemons(), left, "stop leaves the foreign daemon");
    });
}

#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn sync_agent_stop_removes_only_its_own() {
    in_netns(|| {
        sync_if("sync0", Some("192.0.2.1/24"));
        sync_if("sync1", Some("198.51.100.1/24"));
        let a = Agent::new();
        a.run("start", &OURS).expect_code(0);
        // Someone replaces our backup with theirs behind our back.
        run(Command::new(require_tool("ipvsadm")).args(["--stop-daemon", "backup"])).expect_code(0);
        run(Command::new(require_tool("ipvsadm")).args([
            "--start-daemon",
            "backup",
            "--mcast-interface",
            "sync1",
            "--syncid",
            "42",
        ]))
        .expect_code(0);
        let r = a.run("monitor", &OURS);
        r.expect_code(1);
        expect_reason(&r, "only part of the connection sync runs");
        a.run("stop", &OURS).expect_code(0);
        let left = daemons();
        assert_eq!(left.len(), 1, "{left:?}");
        assert_eq!(
            (left[0].state, left[0].interface.as_str()),
            (SyncState::Backup, "sync1")
        );
    });
}

#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn sync_agent_explains_interface_errors() {
    in_netns(|| {
        let a = Agent::new();
        let r = a.run("start", &[("interface", "nosuch0"), ("sync_id", "1")]);
        r.expect_code(5);
        expect_reason(
            &r,
            "interface \"nosuch0\" does not exist on this host (ENODEV)",
        );
        sync_if("bare0", None);
        let r = a.run("start", &[("interface", "bare0"), ("sync_id", "1")]);
        r.expect_code(5);
        expect_reason(&r, "has no IPv4 address");
        assert_eq!(daemons(), vec![], "a refused start starts nothing");
    });
}

/// `agents/install` into a prefix, then ocf-tester against the installed `ipvs_sync` link.
#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn sync_agent_passes_ocf_tester() {
    in_netns(|| {
        sync_if("sync0", Some("192.0.2.1/24"));
        let d = tempfile::tempdir().unwrap();
        std::fs::set_permissions(
            d.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let prefix = d.path().join("root");
        run(Command::new(repo().join("agents/install"))
            .arg("--prefix")
            .arg(&prefix)
            .arg(bin()))
        .expect_code(0);
        let agent: &Path = &prefix.join("usr/lib/ocf/resource.d/braintree/ipvs_sync");
        let r = run(Command::new(require_tool("ocf-tester"))
            .args([
                "-n",
                "ipvs_sync",
                "-o",
                "interface=sync0",
                "-o",
                "sync_id=42",
            ])
            .arg(agent)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HA_LOGFACILITY", "none"));
        r.expect_code(0);
        assert!(r.stdout().contains("passed all tests"), "{}", r.stdout());
        assert_eq!(daemons(), vec![], "ocf-tester ends stopped");
    });
}
