//! Kernel tier, namespace-wide IPVS state: connection-sync daemons and timeouts through the
//! netlink backend, read back through our dump and `ipvsadm -L --daemon` / `--timeout`; every
//! error the kernel answers; the in-memory twin answering the same script the same way; and the
//! daemons really carrying a connection from one namespace to another over a veth pair.

use std::net::{IpAddr, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use big_brother::ipvs::memory::Memory;
use big_brother::ipvs::{
    Dest, Family, Forward, Ipvs, IpvsError, Protocol, ServiceKey, SyncDaemon, SyncState, Timeouts,
};

use big_brother::ipvs::netlink::Netlink;

use super::{dest, fwmark, ip, ipvsadm, open, sh, svc};

/// A dummy interface, up, multicast on, with `addr` (CIDR) if given.
fn sync_if(name: &str, addr: Option<&str>) {
    sh(&["ip", "link", "add", name, "type", "dummy"]);
    sh(&["ip", "link", "set", name, "multicast", "on", "up"]);
    if let Some(a) = addr {
        sh(&["ip", "addr", "add", a, "dev", name]);
    }
}

/// `ipvsadm -L --daemon`, one line per daemon.
fn ipvsadm_daemons() -> Vec<String> {
    ipvsadm("-L --daemon")
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

fn daemons(nl: &mut impl Ipvs) -> Vec<SyncDaemon> {
    let mut v = nl.sync_daemons().unwrap();
    v.sort_by_key(|d| d.state);
    v
}

fn master(interface: &str, id: u8) -> SyncDaemon {
    SyncDaemon::new(SyncState::Master, interface, id)
}

fn backup(interface: &str, id: u8) -> SyncDaemon {
    SyncDaemon::new(SyncState::Backup, interface, id)
}

/// Both daemons at once on one interface, as every director runs them; listed by our dump and
/// by ipvsadm with the kernel's values; each stops on its own.
#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn master_and_backup_at_once_match_ipvsadm() {
    super::in_netns(|| {
        sync_if("s0", Some("192.0.2.1/24"));
        let mut nl = open();
        assert_eq!(nl.sync_daemons().unwrap(), vec![]);
        assert_eq!(ipvsadm_daemons(), Vec::<String>::new());

        let m = master("s0", 42);
        let b = SyncDaemon {
            max_len: Some(1400),
            group: Some(ip("239.1.2.3")),
            port: Some(9000),
            ttl: Some(3),
            ..backup("s0", 42)
        };
        nl.start_sync_daemon(&m).unwrap();
        nl.start_sync_daemon(&b).unwrap();
        let running = daemons(&mut nl);
        assert_eq!(running, vec![m.effective(1500), b.effective(1500)]);
        assert!(m.differences(&running[0]).is_empty());
        assert!(b.differences(&running[1]).is_empty());
        assert_eq!(
            ipvsadm_daemons(),
            vec![
                "master sync daemon (mcast=s0, syncid=42, maxlen=1472, group=224.0.0.81, \
                 port=8848, ttl=1)",
                "backup sync daemon (mcast=s0, syncid=42, maxlen=1400, group=239.1.2.3, \
                 port=9000, ttl=3)",
            ]
        );
        assert_eq!(
            ipvsadm_daemons(),
            running.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            "our rendering is ipvsadm's"
        );

        nl.stop_sync_daemon(SyncState::Master).unwrap();
        assert_eq!(daemons(&mut nl), vec![b.effective(1500)]);
        assert_eq!(ipvsadm_daemons().len(), 1);
        assert!(ipvsadm_daemons()[0].starts_with("backup sync daemon (mcast=s0, syncid=42,"));
        nl.stop_sync_daemon(SyncState::Backup).unwrap();
        assert_eq!(nl.sync_daemons().unwrap(), vec![]);

        // An IPv6 group: the backup's maximum length leaves room for the IPv6 header.
        let b6 = SyncDaemon {
            group: Some(ip("ff02::1:3")),
            ..backup("s0", 7)
        };
        nl.start_sync_daemon(&b6).unwrap();
        let running = daemons(&mut nl);
        assert_eq!(running, vec![b6.effective(1500)]);
        assert_eq!(running[0].max_len, Some(1452));
        assert_eq!(
            ipvsadm_daemons(),
            vec![
                "backup sync daemon (mcast=s0, syncid=7, maxlen=1452, group=ff02::1:3, \
                 port=8848, ttl=1)"
            ]
        );
        // Daemons started by ipvsadm decode the same way.
        nl.stop_sync_daemon(SyncState::Backup).unwrap();
        ipvsadm("--start-daemon master --mcast-interface s0 --syncid 9 --sync-maxlen 1000");
        let mut want = master("s0", 9);
        want.max_len = Some(1000);
        assert_eq!(daemons(&mut nl), vec![want.effective(1500)]);
    });
}

/// What the kernel answers in each error case, and what it does not refuse.
#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn sync_daemon_errors_are_the_kernels() {
    super::in_netns(|| {
        sync_if("s0", Some("192.0.2.1/24"));
        let mut nl = open();

        // ENODEV: an interface this namespace does not have.
        let e = nl.start_sync_daemon(&master("nosuch0", 1)).unwrap_err();
        assert!(
            matches!(&e, IpvsError::NoSuchInterface { interface, .. } if interface == "nosuch0"),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "start sync daemon: no network interface \"nosuch0\" in this network namespace"
        );

        // EEXIST: a second master, even with another sync id; the first one is untouched.
        nl.start_sync_daemon(&master("s0", 42)).unwrap();
        let e = nl.start_sync_daemon(&master("s0", 43)).unwrap_err();
        assert!(
            matches!(
                e,
                IpvsError::DaemonRunning {
                    state: SyncState::Master,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(nl.sync_daemons().unwrap()[0].sync_id, 42);
        // The interface is checked before the running daemon.
        let e = nl.start_sync_daemon(&master("nosuch0", 43)).unwrap_err();
        assert!(matches!(e, IpvsError::NoSuchInterface { .. }), "{e:?}");

        // ESRCH: stopping what does not run.
        let e = nl.stop_sync_daemon(SyncState::Backup).unwrap_err();
        assert!(
            matches!(
                e,
                IpvsError::DaemonNotRunning {
                    state: SyncState::Backup,
                    ..
                }
            ),
            "{e:?}"
        );
        nl.stop_sync_daemon(SyncState::Master).unwrap();
        assert!(matches!(
            nl.stop_sync_daemon(SyncState::Master),
            Err(IpvsError::DaemonNotRunning { .. })
        ));

        // ENETUNREACH: a master on an interface that is down. A backup starts there.
        sh(&["ip", "link", "add", "down0", "type", "dummy"]);
        let e = nl.start_sync_daemon(&master("down0", 1)).unwrap_err();
        assert!(matches!(e, IpvsError::InterfaceDown { .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "start sync daemon: interface \"down0\" is down: the master cannot send to its \
             multicast group"
        );
        assert_eq!(nl.sync_daemons().unwrap(), vec![], "nothing half-started");
        nl.start_sync_daemon(&backup("down0", 1)).unwrap();
        nl.stop_sync_daemon(SyncState::Backup).unwrap();

        // Not refused: a master on an interface without any IPv4 address in the namespace
        // (the kernel logs a warning and sends from 0.0.0.0, see the next test), and an
        // interface without the MULTICAST flag (a dummy's default).
        sh(&["ip", "link", "add", "bare0", "type", "dummy"]);
        sh(&["ip", "link", "set", "bare0", "up"]);
        let flags = sh(&["ip", "-o", "link", "show", "bare0"]);
        assert!(!flags.contains("MULTICAST"), "{flags}");
        sh(&["ip", "addr", "del", "192.0.2.1/24", "dev", "s0"]);
        nl.start_sync_daemon(&master("bare0", 1)).unwrap();
        nl.start_sync_daemon(&backup("bare0", 1)).unwrap();
        assert_eq!(nl.sync_daemons().unwrap().len(), 2);
        nl.stop_sync_daemon(SyncState::Master).unwrap();
        nl.stop_sync_daemon(SyncState::Backup).unwrap();

        // EINVAL: a service with a real server of the other family blocks sync, and a running
        // daemon blocks such a real server.
        let key = fwmark(Family::V4, 7);
        nl.add_service(&svc(key, "wlc")).unwrap();
        let v6 = dest("2001:db8::3", 0, Forward::Ipip, 1);
        nl.add_dest(&key, &v6).unwrap();
        let e = nl.start_sync_daemon(&backup("s0", 1)).unwrap_err();
        assert!(
            matches!(&e, IpvsError::Invalid { reason, .. } if reason.contains("sync protocol")),
            "{e:?}"
        );
        nl.del_dest(&key, v6.addr, 0).unwrap();
        nl.start_sync_daemon(&backup("s0", 1)).unwrap();
        let e = nl.add_dest(&key, &v6).unwrap_err();
        assert!(
            matches!(&e, IpvsError::Invalid { reason, .. } if reason.contains("while a sync daemon runs")),
            "{e:?}"
        );
    });
}

/// Makes this thread SCHED_FIFO: on the VM's single CPU nothing of normal priority (a new
/// kernel thread included) runs until this thread sleeps.
fn run_fifo() {
    let param = libc::sched_param { sched_priority: 1 };
    // SAFETY: sched_setscheduler on the calling thread (0) with a valid parameter struct.
    let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) };
    assert_eq!(rc, 0, "SCHED_FIFO: {}", std::io::Error::last_os_error());
}

/// Stopping a daemon whose kernel thread has not run yet: the kernel stops it but its handler
/// returns EINTR, and generic netlink sends no ack for that. With the default 5 s timeout, so a
/// wait for the missing ack would fail here; made certain (on the VM's one CPU) by running the
/// test thread SCHED_FIFO, so the new kernel thread cannot run before the stop.
#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn stop_right_after_start_is_not_a_hang() {
    super::in_netns(|| {
        sync_if("s0", Some("192.0.2.1/24"));
        let mut nl = Netlink::open().unwrap();
        run_fifo();
        for round in 0..5 {
            for d in [master("s0", round), backup("s0", round)] {
                nl.start_sync_daemon(&d).unwrap();
                nl.stop_sync_daemon(d.state)
                    .unwrap_or_else(|e| panic!("round {round}, {}: {e}", d.state));
                assert_eq!(nl.sync_daemons().unwrap(), vec![]);
            }
        }
    });
}

/// `/proc/net/netstat`'s IpExt `InMcastPkts` and `OutMcastPkts` of this thread's namespace.
fn mcast_packets() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/thread-self/net/netstat").expect("netstat");
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("IpExt:")).collect();
    assert_eq!(rows.len(), 2, "IpExt header and values: {text}");
    let names: Vec<&str> = rows[0].split_whitespace().collect();
    let values: Vec<&str> = rows[1].split_whitespace().collect();
    let get = |name: &str| -> u64 {
        let i = names.iter().position(|n| *n == name).expect(name);
        values[i].parse().expect("a counter")
    };
    (get("InMcastPkts"), get("OutMcastPkts"))
}

/// The connection entries of this thread's namespace (`ipvsadm -Lnc`), headers dropped.
fn connections() -> Vec<String> {
    ipvsadm("-Lnc")
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// What the backup namespace saw.
struct Received {
    connections: Vec<String>,
    in_mcast: u64,
}

/// A master in this namespace (interface `a0`, IPv4 address `master_addr` if any) and a backup
/// in a second one (`b0`, 192.0.2.2/24), joined by a veth pair, both using `group`. A local
/// client sends five UDP datagrams to a service here (the third one makes the connection
/// eligible for sync); returns what the backup's namespace has after the master has sent.
fn sync_across_namespaces(master_addr: Option<&str>, group: Option<IpAddr>) -> Received {
    let (tid_tx, tid_rx) = mpsc::channel::<i32>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let (look_tx, look_rx) = mpsc::channel::<Instant>();
    let peer = std::thread::spawn(move || {
        // SAFETY: unshare(2) with CLONE_NEWNET changes only this thread's namespace.
        assert_eq!(unsafe { libc::unshare(libc::CLONE_NEWNET) }, 0);
        // SAFETY: gettid has no preconditions.
        tid_tx.send(unsafe { libc::gettid() }).unwrap();
        go_rx.recv().unwrap();
        sh(&["ip", "link", "set", "lo", "up"]);
        sh(&["ip", "link", "set", "b0", "up"]);
        sh(&["ip", "addr", "add", "192.0.2.2/24", "dev", "b0"]);
        let b = SyncDaemon {
            group,
            ..backup("b0", 42)
        };
        open().start_sync_daemon(&b).unwrap();
        ready_tx.send(()).unwrap();
        let until = look_rx.recv().unwrap();
        loop {
            let connections = connections();
            if !connections.is_empty() || Instant::now() > until {
                return Received {
                    connections,
                    in_mcast: mcast_packets().0,
                };
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });

    let tid = tid_rx.recv().unwrap().to_string();
    sh(&[
        "ip", "link", "add", "a0", "type", "veth", "peer", "name", "b0", "netns", &tid,
    ]);
    sh(&["ip", "link", "set", "a0", "up"]);
    if let Some(a) = master_addr {
        sh(&["ip", "addr", "add", a, "dev", "a0"]);
    }
    // The VIP has host scope, so the master cannot borrow it as its source address.
    sh(&["ip", "link", "add", "d0", "type", "dummy"]);
    sh(&["ip", "link", "set", "d0", "up"]);
    sh(&[
        "ip",
        "addr",
        "add",
        "203.0.113.53/32",
        "dev",
        "d0",
        "scope",
        "host",
    ]);
    sh(&["ip", "route", "add", "198.51.100.0/24", "dev", "d0"]);
    go_tx.send(()).unwrap();
    ready_rx.recv().unwrap();

    let mut nl = open();
    nl.start_sync_daemon(&SyncDaemon {
        group,
        ..master("a0", 42)
    })
    .unwrap();
    let key = ServiceKey::Addr {
        protocol: Protocol::Udp,
        addr: ip("203.0.113.53"),
        port: 53,
    };
    nl.add_service(&svc(key, "rr")).unwrap();
    nl.add_dest(&key, &dest("198.51.100.53", 53, Forward::Nat, 1))
        .unwrap();
    let sent_before = mcast_packets().1;
    let client = UdpSocket::bind("0.0.0.0:0").unwrap();
    for _ in 0..5 {
        client.send_to(b"sync me", "203.0.113.53:53").unwrap();
    }
    assert_eq!(connections().len(), 1, "the master's own entry");
    // The master flushes its buffer within 2 s; the veth delivers synchronously.
    let deadline = Instant::now() + Duration::from_secs(10);
    while mcast_packets().1 <= sent_before {
        assert!(Instant::now() < deadline, "the master sent nothing in 10 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    look_tx
        .send(Instant::now() + Duration::from_secs(3))
        .unwrap();
    peer.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// The daemons do their job: a connection made on the master's director appears on the
/// backup's. And what a master without an IPv4 address does: the kernel accepted it (previous
/// test), it sends from 0.0.0.0, which a receiver accepts only for link-local groups
/// (224.0.0.0/24, the default 224.0.0.81 included) — with a routable group every message is
/// dropped, silently on both sides.
#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn sync_carries_a_connection_to_the_backup_namespace() {
    let want = " 203.0.113.53:53 198.51.100.53:53";
    let synced = |r: &Received| {
        r.connections
            .iter()
            .any(|c| c.starts_with("UDP ") && c.ends_with(want))
    };

    let normal = super::in_netns(|| sync_across_namespaces(Some("192.0.2.1/24"), None));
    assert!(synced(&normal), "{:?}", normal.connections);
    assert!(normal.in_mcast >= 1);
    let routable =
        super::in_netns(|| sync_across_namespaces(Some("192.0.2.1/24"), Some(ip("239.1.2.3"))));
    assert!(synced(&routable), "{:?}", routable.connections);

    let bare_default = super::in_netns(|| sync_across_namespaces(None, None));
    assert!(synced(&bare_default), "{:?}", bare_default.connections);
    let bare_routable = super::in_netns(|| sync_across_namespaces(None, Some(ip("239.1.2.3"))));
    assert_eq!(bare_routable.connections, Vec::<String>::new());
    assert_eq!(
        bare_routable.in_mcast, 0,
        "dropped before it counts as received"
    );
}

/// Timeouts change in place, a 0 keeps one, and what we read is what ipvsadm reads.
#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn timeouts_change_in_place_and_match_ipvsadm() {
    super::in_netns(|| {
        let mut nl = open();
        let line = || ipvsadm("-L --timeout").trim().to_string();
        assert_eq!(nl.timeouts().unwrap(), Timeouts::LINUX_DEFAULT);
        assert_eq!(line(), "Timeout (tcp tcpfin udp): 900 120 300");
        nl.set_timeouts(&Timeouts {
            tcp: 7200,
            tcp_fin: 30,
            udp: 60,
        })
        .unwrap();
        assert_eq!(nl.timeouts().unwrap().to_string(), "7200 30 60");
        assert_eq!(line(), "Timeout (tcp tcpfin udp): 7200 30 60");
        nl.set_timeouts(&Timeouts {
            tcp: 0,
            tcp_fin: 0,
            udp: 5,
        })
        .unwrap();
        assert_eq!(line(), "Timeout (tcp tcpfin udp): 7200 30 5");
        let max = Timeouts {
            tcp: Timeouts::MAX_SECONDS,
            tcp_fin: 0,
            udp: 0,
        };
        nl.set_timeouts(&max).unwrap();
        assert_eq!(nl.timeouts().unwrap().tcp, Timeouts::MAX_SECONDS);
        let over = Timeouts {
            tcp: Timeouts::MAX_SECONDS + 1,
            ..max
        };
        assert!(matches!(
            nl.set_timeouts(&over),
            Err(IpvsError::Invalid { .. })
        ));
        // Set by someone else: read back as set.
        ipvsadm("--set 100 20 30");
        assert_eq!(nl.timeouts().unwrap().to_string(), "100 20 30");
    });
}

/// One script of namespace-wide operations, every step's outcome (value or error text) as a
/// line: the kernel and the in-memory twin must write the same lines.
fn script(b: &mut dyn Ipvs) -> Vec<String> {
    let mut out = Vec::new();
    let mut log = |what: &str, r: Result<String, IpvsError>| {
        out.push(match r {
            Ok(v) => format!("{what}: ok {v}"),
            Err(e) => format!("{what}: {e}"),
        })
    };
    let list = |b: &mut dyn Ipvs| {
        b.sync_daemons().map(|mut v| {
            v.sort_by_key(|d| d.state);
            v.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        })
    };
    let unit = |r: Result<(), IpvsError>| r.map(|()| String::new());
    let m = master("s0", 42);
    let b6 = SyncDaemon {
        max_len: Some(2000),
        group: Some(ip("ff05::1:3")),
        port: Some(8000),
        ttl: Some(2),
        ..backup("s0", 42)
    };
    log("list", list(b));
    log("start master", unit(b.start_sync_daemon(&m)));
    log(
        "start master 43",
        unit(b.start_sync_daemon(&master("s0", 43))),
    );
    log(
        "start on eth9",
        unit(b.start_sync_daemon(&backup("eth9", 1))),
    );
    log("start backup", unit(b.start_sync_daemon(&b6)));
    log("list", list(b));
    log("bad ttl", {
        let mut bad = m.clone();
        bad.ttl = Some(0);
        unit(b.start_sync_daemon(&bad))
    });
    log("stop master", unit(b.stop_sync_daemon(SyncState::Master)));
    log("stop master", unit(b.stop_sync_daemon(SyncState::Master)));
    log("list", list(b));
    let key = fwmark(Family::V4, 7);
    log("add service", unit(b.add_service(&svc(key, "wlc"))));
    let v6: Dest = dest("2001:db8::3", 0, Forward::Ipip, 1);
    log("mixed dest", unit(b.add_dest(&key, &v6)));
    log("stop backup", unit(b.stop_sync_daemon(SyncState::Backup)));
    log("mixed dest", unit(b.add_dest(&key, &v6)));
    log("start master", unit(b.start_sync_daemon(&m)));
    log("mixed dr dest", {
        let mut dr = v6;
        dr.addr = ip("2001:db8::4");
        dr.forward = Forward::Dr;
        unit(b.add_dest(&key, &dr))
    });
    log("timeouts", b.timeouts().map(|t| t.to_string()));
    let t = Timeouts {
        tcp: 60,
        tcp_fin: 0,
        udp: 10,
    };
    log("set timeouts", unit(b.set_timeouts(&t)));
    log("timeouts", b.timeouts().map(|t| t.to_string()));
    log("set too long", {
        let long = Timeouts { udp: u32::MAX, ..t };
        unit(b.set_timeouts(&long))
    });
    log("timeouts", b.timeouts().map(|t| t.to_string()));
    out
}

/// The in-memory backend is the kernel's twin for sync daemons and timeouts: same values, same
/// errors, same order of checks.
#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn memory_twin_answers_like_the_kernel() {
    let kernel = super::in_netns(|| {
        sync_if("s0", Some("192.0.2.1/24"));
        script(&mut open())
    });
    let mut memory = Memory::new();
    memory.set_interfaces(&["s0"]);
    let twin = script(&mut memory);
    assert_eq!(twin, kernel);
    // The script went through every outcome it means to compare.
    let text = kernel.join("\n");
    for want in [
        "start master 43: start sync daemon: a master sync daemon already runs",
        "start on eth9: start sync daemon: no network interface \"eth9\"",
        "stop master: stop sync daemon: no master sync daemon is running",
        "mixed dest: add destination: invalid request",
        "start master: start sync daemon: invalid request",
        "set too long: set timeouts: invalid request",
        "timeouts: ok 60 120 10",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
}
