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
    /// The agent's `HA_RSCTMP` (where it saves the host settings' originals).
    rsctmp: PathBuf,
}

impl Agent {
    fn new() -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ipvs_sync");
        std::os::unix::fs::symlink(bin(), &path).unwrap();
        let rsctmp = dir.path().join("rsctmp");
        Agent {
            _dir: dir,
            path,
            rsctmp,
        }
    }

    /// The agent's `HA_LOGFILE`.
    fn log(&self) -> PathBuf {
        self._dir.path().join("agent.log")
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log()).unwrap_or_default()
    }

    /// Runs `action` with `params` as `OCF_RESKEY_*`; `monitor` as a recurring one (interval
    /// set), so "not running" is not a probe's quiet answer.
    fn run(&self, action: &str, params: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(&self.path);
        cmd.arg(action)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HA_LOGFACILITY", "none")
            .env("HA_RSCTMP", &self.rsctmp)
            .env("HA_LOGFILE", self.log())
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

/// `net.ipv4.vs.<name>` of the calling thread's namespace, read as the agent reads it.
fn sysctl(name: &str) -> String {
    std::fs::read_to_string(format!("/proc/sys/net/ipv4/vs/{name}"))
        .unwrap()
        .trim()
        .to_string()
}

fn set_sysctl(name: &str, value: &str) {
    std::fs::write(format!("/proc/sys/net/ipv4/vs/{name}"), value).unwrap();
}

/// `ipvsadm -L --timeout`'s three numbers, and the same through our GET_CONFIG.
fn timeouts() -> String {
    let r = run(Command::new(require_tool("ipvsadm")).args(["-L", "--timeout"]));
    r.expect_code(0);
    let text = r.stdout().trim().to_string();
    let ours = Netlink::open().unwrap().timeouts().unwrap().to_string();
    assert_eq!(
        text,
        format!("Timeout (tcp tcpfin udp): {ours}"),
        "ipvsadm and GET_CONFIG agree"
    );
    ours
}

const SYSCTLS: [&str; 3] = [
    "expire_nodest_conn",
    "expire_quiescent_template",
    "sloppy_tcp",
];

/// The host settings: start sets them (read back through ipvsadm, GET_CONFIG and /proc/sys),
/// monitor fails when one changes, stop restores what is still ours and leaves someone else's.
#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn sync_agent_sets_watches_and_restores_host_settings() {
    in_netns(|| {
        sync_if("sync0", Some("192.0.2.1/24"));
        // The module's sysctls exist once ip_vs is loaded (opening the family loads it).
        drop(Netlink::open().unwrap());
        assert_eq!(timeouts(), "900 120 300", "a fresh namespace");
        for name in SYSCTLS {
            assert_eq!(sysctl(name), "0", "{name} in a fresh namespace");
        }
        let p: Vec<(&str, &str)> = [
            ("tcp_timeout", "100"),
            ("tcpfin_timeout", "0"),
            ("udp_timeout", "30"),
            ("expire_nodest_conn", "1"),
            ("expire_quiescent_template", "1"),
            ("sloppy_tcp", "1"),
        ]
        .into_iter()
        .chain(OURS)
        .collect();
        let a = Agent::new();
        // Validation names the parameter and what it expects, and changes nothing.
        let bad: Vec<(&str, &str)> = OURS.into_iter().chain([("sloppy_tcp", "2")]).collect();
        let r = a.run("validate-all", &bad);
        r.expect_code(6);
        expect_reason(&r, "parameter sloppy_tcp=\"2\": expected 0 or 1");
        let bad: Vec<(&str, &str)> = OURS
            .into_iter()
            .chain([("udp_timeout", "2147484")])
            .collect();
        let r = a.run("start", &bad);
        r.expect_code(6);
        expect_reason(&r, "parameter udp_timeout=\"2147484\": expected seconds");
        assert_eq!(daemons(), vec![]);

        a.run("start", &p).expect_code(0);
        assert_eq!(timeouts(), "100 120 30", "tcpfin 0 leaves the kernel's");
        for name in SYSCTLS {
            assert_eq!(sysctl(name), "1", "{name} set by start");
        }
        let saved = a.rsctmp.join("big_brother_ipvs_sync/host-settings.json");
        let text = std::fs::read_to_string(&saved).unwrap();
        assert!(
            text.contains(
                "\"setting\": \"tcp_timeout\",\n      \"original\": 900,\n      \"set\": 100"
            ),
            "{text}"
        );
        a.run("monitor", &p).expect_code(0);
        // `big_brother status` shows the host's settings beside the sync daemons.
        let st = run(Command::new(bin())
            .arg("status")
            .env("HA_RSCTMP", &a.rsctmp));
        assert!(
            st.stdout().contains(
                "\nIPVS host settings: tcp_timeout 100, tcpfin_timeout 120, udp_timeout 30, \
                 expire_nodest_conn 1, expire_quiescent_template 1, sloppy_tcp 1\n"
            ),
            "{}",
            st.stdout()
        );
        // `/metrics` has them as one gauge family.
        let api = Api::start(&a.rsctmp, &a.rsctmp);
        let m = api.get("/metrics").body;
        for (name, v) in [
            ("tcp_timeout", 100),
            ("tcpfin_timeout", 120),
            ("sloppy_tcp", 1),
        ] {
            let sample = format!("big_brother_ipvs_host_setting{{name=\"{name}\"}} {v}\n");
            assert!(m.contains(&sample), "{sample} in:\n{m}");
        }
        drop(api);
        a.run("start", &p).expect_code(0);
        assert_eq!(
            std::fs::read_to_string(&saved).unwrap(),
            text,
            "a second start keeps the first originals"
        );

        // Someone turns a sysctl back: monitor says which, so Pacemaker restarts us.
        set_sysctl("sloppy_tcp", "0");
        let r = a.run("monitor", &p);
        r.expect_code(1);
        expect_reason(
            &r,
            "net.ipv4.vs.sloppy_tcp is 0, this resource sets 1 (parameter sloppy_tcp)",
        );
        set_sysctl("sloppy_tcp", "1");
        a.run("monitor", &p).expect_code(0);
        // Someone sets the udp timeout to their own value.
        run(Command::new(require_tool("ipvsadm")).args(["--set", "0", "0", "45"])).expect_code(0);
        let r = a.run("monitor", &p);
        r.expect_code(1);
        expect_reason(&r, "the IPVS udp timeout is 45, this resource sets 30");

        let r = a.run("stop", &p);
        r.expect_code(0);
        assert_eq!(timeouts(), "900 120 45", "ours restored, theirs left");
        for name in SYSCTLS {
            assert_eq!(sysctl(name), "0", "{name} restored by stop");
        }
        let log = a.log_text();
        assert!(
            log.contains(
                "the IPVS udp timeout left at 45: changed by someone else since start \
                 (big_brother set 30, the original was 300)"
            ),
            "{log}"
        );
        assert!(
            log.contains("net.ipv4.vs.expire_nodest_conn restored to 0 (was 1)"),
            "{log}"
        );
        assert!(!saved.exists(), "stop removes the saved originals");
        assert_eq!(daemons(), vec![]);
        a.run("stop", &p).expect_code(0);
        assert_eq!(timeouts(), "900 120 45", "a second stop changes nothing");

        // Without host parameters the host is not touched.
        set_sysctl("sloppy_tcp", "1");
        a.run("start", &OURS).expect_code(0);
        a.run("monitor", &OURS).expect_code(0);
        a.run("stop", &OURS).expect_code(0);
        assert_eq!(sysctl("sloppy_tcp"), "1");
        assert_eq!(timeouts(), "900 120 45");
        assert!(!saved.exists());
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
                "-o",
                "udp_timeout=60",
                "-o",
                "expire_quiescent_template=1",
            ])
            .arg(agent)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HA_RSCTMP", d.path().join("rsctmp"))
            .env("HA_LOGFACILITY", "none"));
        r.expect_code(0);
        assert!(r.stdout().contains("passed all tests"), "{}", r.stdout());
        assert_eq!(daemons(), vec![], "ocf-tester ends stopped");
        assert_eq!(
            timeouts(),
            "900 120 300",
            "and with the host's settings restored"
        );
        assert_eq!(sysctl("expire_quiescent_template"), "0");
        assert!(
            !d.path()
                .join("rsctmp/big_brother_ipvs_sync/host-settings.json")
                .exists(),
            "the saved originals were used and removed"
        );
    });
}

/// `-> ADDR:80 …` of a real server in `ipvsadm -Ln`, if listed.
fn dest_row(node: &str) -> Option<String> {
    super::ocf_kernel::ipvsadm()
        .into_iter()
        .find(|l| l.starts_with(&format!("-> {node}:80 ")))
}

/// The cold director's case (`src/ipvs/rebind.rs`): the backup daemon created the old master's
/// connections while this host had no service, so they are unbound, and adding the service and
/// its destinations does not bind them (the control: a service made with ipvsadm keeps its
/// destination at 0 connections). The supervisor, adding its destinations, announces them again
/// to its own backup daemon, which binds them: the destination counts them as active. Thousands
/// of them, as a busy director has: the announcement is paced to what the backup takes.
#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn sync_kernel_supervisor_binds_synced_connections_to_the_destinations_it_adds() {
    use big_brother::health::serve::LitmusServer;
    use big_brother::ipvs::rebind::{self, SyncedConn};
    use big_brother::ipvs::Forward;
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use crate::ocf_support::{wait_for, Cluster};

    const OURS_VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 90);
    const OURS_NODE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 91);
    const OTHER_VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 91);
    const OTHER_NODE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 92);
    // 112 messages each (27 connections a message): unpaced, a burst of this size overflowed the
    // backup's socket (7,408 of 10,000 created); paced in batches of 16, none is lost.
    const PER_SERVICE: u16 = 3000;

    in_netns(|| {
        sync_if("sync0", Some("192.0.2.5/24"));
        ip(&["addr", "add", &format!("{OURS_NODE}/32"), "dev", "sync0"]);
        let backup = SyncDaemon {
            state: SyncState::Backup,
            interface: "sync0".into(),
            sync_id: 42,
            max_len: None,
            group: None,
            port: None,
            ttl: None,
        };
        Netlink::open().unwrap().start_sync_daemon(&backup).unwrap();

        // What the old master announced, before this host had any service.
        let conns = |vaddr: Ipv4Addr, daddr: Ipv4Addr, first: u8| -> Vec<SyncedConn> {
            (0..PER_SERVICE)
                .map(|i| SyncedConn {
                    protocol: 6,
                    caddr: Ipv4Addr::new(203, 0, 113, first),
                    cport: 40000 + i,
                    vaddr,
                    vport: 80,
                    daddr,
                    dport: 80,
                    state: 1,
                    expires: 900,
                })
                .collect()
        };
        let mut all = conns(OURS_VIP, OURS_NODE, 10);
        all.extend(conns(OTHER_VIP, OTHER_NODE, 11));
        let msgs = rebind::messages(42, &all, Forward::Ipip, 0);
        rebind::announce(&backup, Ipv4Addr::new(192, 0, 2, 5), &msgs).unwrap();
        wait_for(
            "the backup daemon to create the synced connections",
            Duration::from_secs(10),
            || {
                // This thread's namespace: /proc/net is the main thread's.
                let table = std::fs::read_to_string("/proc/thread-self/net/ip_vs_conn_sync")
                    .unwrap_or_default();
                rebind::parse(&table).len() == all.len()
            },
        );

        // The control: destinations added by ipvsadm leave them unbound.
        let other = format!("{OTHER_VIP}:80");
        let other_node = format!("{OTHER_NODE}:80");
        for args in [
            vec!["-A", "-t", other.as_str(), "-s", "wlc"],
            vec![
                "-a",
                "-t",
                other.as_str(),
                "-r",
                other_node.as_str(),
                "-i",
                "-w",
                "1",
            ],
        ] {
            run(Command::new(require_tool("ipvsadm")).args(&args)).expect_code(0);
        }

        // The supervisor's service and destination, checked on a litmus look-alike.
        let health =
            LitmusServer::start(format!("{OURS_NODE}:0").parse().unwrap(), "kst9", 100.0).unwrap();
        let c = Cluster::new("kst9", &[]);
        std::fs::write(
            &c.config,
            format!(
                "name = \"kst9\"\nprotocol = \"tcp\"\naddress = \"{OURS_VIP}\"\nport = 80\n\
                 forward = \"ipip\"\ncheck_interval = \"500ms\"\nramp_up_time = \"1ms\"\n\
                 [[node]]\naddress = \"{OURS_NODE}\"\nport = {}\npath = \"/kst9/status\"\n",
                health.addr().port()
            ),
        )
        .unwrap();
        c.agent("start", &[("OCF_RESKEY_dry_run", "false")])
            .expect_code(0);
        let ours = format!("-> {OURS_NODE}:80 Tunnel 100 {PER_SERVICE} 0");
        wait_for(
            "the supervisor's destination to count the synced connections as active",
            Duration::from_secs(15),
            || dest_row(&OURS_NODE.to_string()).as_deref() == Some(ours.as_str()),
        );
        assert!(
            c.log_text().contains(&format!(
                "kst9: announced {PER_SERVICE} synced connections to the local backup sync daemon"
            )),
            "{}",
            c.log_text()
        );
        assert_eq!(
            dest_row(&OTHER_NODE.to_string()).as_deref(),
            Some(format!("-> {OTHER_NODE}:80 Tunnel 1 0 0").as_str()),
            "without the announcement the kernel leaves synced connections unbound"
        );
        c.agent("stop", &[("OCF_RESKEY_dry_run", "false")])
            .expect_code(0);
        Netlink::open()
            .unwrap()
            .stop_sync_daemon(SyncState::Backup)
            .unwrap();
        drop(health);
    });
}
