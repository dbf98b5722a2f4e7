//! Kernel tier: the `Netlink` IPVS backend against the real kernel, cross-checked with Debian's
//! `ipvsadm` and `/proc/net/ip_vs`. Needs root and `ip_vs`, so every test here is `#[ignore]`d
//! on the host and runs inside the QEMU VM: `tests/vm/run -- <tests binary> --include-ignored
//! ipvs_kernel` (tests/run-all does this). Each test runs on its own thread in a fresh network
//! namespace — IPVS state is per namespace — so tests neither see nor leak each other's services.
//! Addresses are documentation ranges only. Submodules: `options` (netmask, scheduler flags,
//! one-packet, thresholds), `sync` (sync daemons and timeouts), `fixture_gen` (golden bytes).

mod fixture_gen;
mod options;
mod sync;

use std::collections::BTreeSet;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use big_brother::exit::OcfCode;
use big_brother::ipvs::netlink::Netlink;
use big_brother::ipvs::{
    Dest, DestEntry, Family, Forward, Ipvs, IpvsError, Protocol, Service, ServiceKey,
};

use crate::util::{in_netns, require_kernel, require_tool, run};

/// Runs a command (in the calling thread's namespace), requires success, returns stdout.
/// What the agent answers `start` with for this kernel error (its exit-code table).
fn agent_code(source: IpvsError) -> OcfCode {
    let e = big_brother::error::Error::Ipvs {
        service: "test".into(),
        source,
    };
    big_brother::ocf::code::ocf_code(&e, &big_brother::ocf::action::Action::Start, false)
}

fn sh(argv: &[&str]) -> String {
    let tool = require_tool(argv[0]);
    let r = run(Command::new(tool).args(&argv[1..]));
    r.expect_code(0);
    r.stdout()
}

fn ipvsadm(args: &str) -> String {
    let argv: Vec<&str> = std::iter::once("ipvsadm")
        .chain(args.split_whitespace())
        .collect();
    sh(&argv)
}

/// `ipvsadm -Ln` without its header lines, whitespace collapsed, services each followed by
/// their destinations in sorted order (ipvsadm prints kernel order).
fn table() -> Vec<String> {
    normalize(&ipvsadm("-Ln"))
}

/// ipvsadm or /proc/net/ip_vs text without headers, normalized as [`table`] describes.
fn normalize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut dests: Vec<String> = Vec::new();
    for line in text.lines() {
        let l = line.split_whitespace().collect::<Vec<_>>().join(" ");
        let header = ["IP Virtual Server", "Prot LocalAddress", "-> RemoteAddress"]
            .iter()
            .any(|h| l.starts_with(h));
        if l.is_empty() || header {
            continue;
        }
        if l.starts_with("->") {
            dests.push(l);
        } else {
            dests.sort();
            out.append(&mut dests);
            out.push(l);
        }
    }
    dests.sort();
    out.append(&mut dests);
    out
}

/// This thread's `/proc/net/ip_vs` (`/proc/net` follows the main thread's namespace).
fn proc_ip_vs() -> Vec<String> {
    let text = std::fs::read_to_string("/proc/thread-self/net/ip_vs").expect("read ip_vs");
    normalize(&text)
}

fn open() -> Netlink {
    Netlink::open().unwrap_or_else(|e| panic!("open IPVS netlink: {e}"))
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn fwmark(family: Family, mark: u32) -> ServiceKey {
    ServiceKey::fwmark(family, mark)
}

fn tcp(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: ip(addr),
        port,
    }
}

fn svc(key: ServiceKey, scheduler: &str) -> Service {
    Service::new(key, scheduler)
}

fn dest(addr: &str, port: u16, forward: Forward, weight: u32) -> Dest {
    Dest::new(ip(addr), port, forward, weight)
}

/// Destinations without counters, sorted, for comparisons.
fn dests_of(nl: &mut Netlink, key: &ServiceKey) -> Vec<Dest> {
    let mut v: Vec<Dest> = nl
        .dests(key)
        .unwrap_or_else(|e| panic!("dests({key}): {e}"))
        .into_iter()
        .map(|e: DestEntry| e.dest)
        .collect();
    v.sort_by_key(|d| (d.addr, d.port));
    v
}

fn lines(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Not ignored: when the kernel tier was requested (tests/vm/run sets BB_KERNEL_TIER=1) but IPVS
/// is missing or unusable, this fails instead of letting the ignored tests vanish unnoticed.
#[test]
fn kernel_tier_guard() {
    if std::env::var("BB_KERNEL_TIER").as_deref() != Ok("1") {
        return; // host tier: the kernel tests below are reported as ignored
    }
    require_kernel();
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(euid, 0, "the kernel tier runs as root");
    let info = open().info().expect("GET_INFO");
    assert_eq!(info.version, 0x010201);
}

#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn info_reports_ipvs_1_2_1() {
    in_netns(|| {
        let info = open().info().unwrap();
        assert_eq!(info.version, 0x010201, "IPVS 1.2.1");
        let first = ipvsadm("-Ln")
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        assert_eq!(
            first,
            format!(
                "IP Virtual Server version 1.2.1 (size={})",
                info.conn_table_size
            )
        );
    });
}

/// The talk's service: `ipvsadm -A -f 7 -s wlc` with `--ipip` real servers, then weight edits.
#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn fwmark_service_lifecycle_matches_ipvsadm_and_proc() {
    in_netns(|| {
        let mut nl = open();
        let key = fwmark(Family::V4, 7);
        nl.add_service(&svc(key, "wlc")).unwrap();
        nl.add_dest(&key, &dest("192.0.2.1", 0, Forward::Ipip, 100))
            .unwrap();
        nl.add_dest(&key, &dest("192.0.2.2", 0, Forward::Ipip, 100))
            .unwrap();
        assert_eq!(nl.services().unwrap(), vec![svc(key, "wlc")]);
        assert_eq!(
            table(),
            lines(&[
                "FWM 7 wlc",
                "-> 192.0.2.1:0 Tunnel 100 0 0",
                "-> 192.0.2.2:0 Tunnel 100 0 0"
            ])
        );

        nl.edit_dest(&key, &dest("192.0.2.1", 0, Forward::Ipip, 50))
            .unwrap();
        assert_eq!(
            dests_of(&mut nl, &key),
            vec![
                dest("192.0.2.1", 0, Forward::Ipip, 50),
                dest("192.0.2.2", 0, Forward::Ipip, 100)
            ]
        );
        assert_eq!(
            table()[1..],
            lines(&[
                "-> 192.0.2.1:0 Tunnel 50 0 0",
                "-> 192.0.2.2:0 Tunnel 100 0 0"
            ])[..]
        );
        assert_eq!(
            proc_ip_vs(),
            lines(&[
                "FWM 00000007 wlc",
                "-> C0000201:0000 Tunnel 50 0 0",
                "-> C0000202:0000 Tunnel 100 0 0"
            ])
        );

        // Weight 0 quiesces; the destination stays.
        nl.edit_dest(&key, &dest("192.0.2.2", 0, Forward::Ipip, 0))
            .unwrap();
        assert!(table().contains(&"-> 192.0.2.2:0 Tunnel 0 0 0".to_string()));

        nl.del_dest(&key, ip("192.0.2.2"), 0).unwrap();
        assert_eq!(
            table(),
            lines(&["FWM 7 wlc", "-> 192.0.2.1:0 Tunnel 50 0 0"])
        );
        nl.del_service(&key).unwrap();
        assert_eq!(nl.services().unwrap(), vec![]);
        assert_eq!(table(), Vec::<String>::new());
    });
}

/// TCP VIP:port services with NAT and DR real servers, IPv4 and IPv6, a UDP one-packet service,
/// an IPv6 fwmark service and an IPv4 fwmark service with an IPv6 tunnel destination.
#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn addr_services_v4_v6_nat_dr_udp_and_mixed_family() {
    in_netns(|| {
        // The VIPs live on a dummy interface, as IPaddr2 would put them.
        sh(&["ip", "link", "add", "bb0", "type", "dummy"]);
        sh(&["ip", "link", "set", "bb0", "up"]);
        sh(&["ip", "addr", "add", "192.0.2.10/32", "dev", "bb0"]);
        sh(&[
            "ip",
            "addr",
            "add",
            "2001:db8::10/128",
            "dev",
            "bb0",
            "nodad",
        ]);

        let mut nl = open();
        let web = tcp("192.0.2.10", 80);
        let tls6 = tcp("2001:db8::10", 443);
        let dns = ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: ip("198.51.100.53"),
            port: 53,
        };
        let fw6 = fwmark(Family::V6, 8);
        let fw4 = fwmark(Family::V4, 7);

        let persistent = Service {
            flags: 0x1,
            timeout: 300,
            ..svc(tls6, "wlc")
        };
        let one_packet = Service {
            flags: 0x4,
            timeout: 0,
            ..svc(dns, "sh")
        };
        for s in [
            svc(web, "rr"),
            persistent.clone(),
            one_packet.clone(),
            svc(fw6, "wlc"),
            svc(fw4, "wlc"),
        ] {
            nl.add_service(&s)
                .unwrap_or_else(|e| panic!("add {}: {e}", s.key));
        }
        nl.add_dest(&web, &dest("198.51.100.1", 8080, Forward::Nat, 1))
            .unwrap();
        nl.add_dest(&web, &dest("198.51.100.2", 8080, Forward::Nat, 2))
            .unwrap();
        let mut thresholds = dest("2001:db8::1", 443, Forward::Dr, 10);
        thresholds.upper_threshold = 100;
        thresholds.lower_threshold = 10;
        nl.add_dest(&tls6, &thresholds).unwrap();
        nl.add_dest(&dns, &dest("198.51.100.53", 53, Forward::Dr, 1))
            .unwrap();
        nl.add_dest(&fw6, &dest("2001:db8::2", 0, Forward::Ipip, 5))
            .unwrap();
        nl.add_dest(&fw4, &dest("2001:db8::3", 0, Forward::Ipip, 20))
            .unwrap();

        let got: BTreeSet<String> = nl
            .services()
            .unwrap()
            .iter()
            .map(|s| format!("{s:?}"))
            .collect();
        let want: BTreeSet<String> = [
            svc(web, "rr"),
            persistent,
            one_packet,
            svc(fw6, "wlc"),
            svc(fw4, "wlc"),
        ]
        .iter()
        .map(|s| format!("{s:?}"))
        .collect();
        assert_eq!(got, want);
        assert_eq!(
            dests_of(&mut nl, &web),
            vec![
                dest("198.51.100.1", 8080, Forward::Nat, 1),
                dest("198.51.100.2", 8080, Forward::Nat, 2)
            ]
        );
        assert_eq!(dests_of(&mut nl, &tls6), vec![thresholds]);
        assert_eq!(
            dests_of(&mut nl, &fw4),
            vec![dest("2001:db8::3", 0, Forward::Ipip, 20)]
        );

        let t: BTreeSet<String> = table().into_iter().collect();
        for line in [
            "TCP 192.0.2.10:80 rr",
            "-> 198.51.100.1:8080 Masq 1 0 0",
            "-> 198.51.100.2:8080 Masq 2 0 0",
            "TCP [2001:db8::10]:443 wlc persistent 300",
            "-> [2001:db8::1]:443 Route 10 0 0",
            "UDP 198.51.100.53:53 sh ops",
            "-> 198.51.100.53:53 Route 1 0 0",
            "FWM 8 IPv6 wlc",
            "-> [2001:db8::2]:0 Tunnel 5 0 0",
            "FWM 7 wlc",
            "-> [2001:db8::3]:0 Tunnel 20 0 0",
        ] {
            assert!(t.contains(line), "ipvsadm -Ln lacks `{line}`: {t:#?}");
        }
        assert_eq!(t.len(), 11, "nothing else in the table: {t:#?}");
        let thr = normalize(&ipvsadm("-Ln --thresholds -t [2001:db8::10]:443"));
        assert_eq!(thr[1], "-> [2001:db8::1]:443 100 10 0 0");

        // The same fwmark exists once per family: deleting the IPv6 one leaves the IPv4 one.
        nl.del_service(&fw6).unwrap();
        assert!(nl.service(&fw4).unwrap().is_some());
        assert!(nl.service(&fw6).unwrap().is_none());
    });
}

#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn exists_and_not_found_like_the_memory_backend() {
    in_netns(|| {
        let mut nl = open();
        let key = tcp("192.0.2.20", 443);
        let other = tcp("192.0.2.21", 443);
        let d = dest("198.51.100.7", 443, Forward::Dr, 1);
        let s = svc(key, "wlc");

        assert!(nl.service(&key).unwrap().is_none());
        assert!(matches!(nl.dests(&key), Err(IpvsError::NotFound { .. })));
        assert!(matches!(
            nl.edit_service(&s),
            Err(IpvsError::NotFound { .. })
        ));
        assert!(matches!(
            nl.del_service(&key),
            Err(IpvsError::NotFound { .. })
        ));
        assert!(matches!(
            nl.add_dest(&key, &d),
            Err(IpvsError::NotFound { .. })
        ));

        nl.add_service(&s).unwrap();
        let e = nl.add_service(&s).unwrap_err();
        assert!(matches!(e, IpvsError::Exists { .. }), "{e}");
        assert_eq!(agent_code(e), OcfCode::ErrGeneric);
        assert_eq!(nl.dests(&key).unwrap(), vec![], "empty, not NotFound");
        assert!(matches!(
            nl.edit_dest(&key, &d),
            Err(IpvsError::NotFound { .. })
        ));
        assert!(matches!(
            nl.del_dest(&key, d.addr, d.port),
            Err(IpvsError::NotFound { .. })
        ));
        nl.add_dest(&key, &d).unwrap();
        assert!(matches!(
            nl.add_dest(&key, &d),
            Err(IpvsError::Exists { .. })
        ));
        // Same address, other port: a different destination.
        nl.add_dest(&key, &dest("198.51.100.7", 8443, Forward::Dr, 1))
            .unwrap();
        assert!(matches!(
            nl.add_dest(&other, &d),
            Err(IpvsError::NotFound { .. })
        ));
        nl.del_service(&key).unwrap();
        assert!(matches!(
            nl.del_dest(&key, d.addr, d.port),
            Err(IpvsError::NotFound { .. })
        ));
    });
}

/// SET_SERVICE changes scheduler, flags and timeout in place: destinations and weights stay.
#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn scheduler_change_in_place_keeps_destinations() {
    in_netns(|| {
        let mut nl = open();
        let key = tcp("192.0.2.30", 80);
        nl.add_service(&svc(key, "rr")).unwrap();
        for (i, w) in [(1, 10), (2, 20), (3, 0)] {
            nl.add_dest(&key, &dest(&format!("198.51.100.{i}"), 80, Forward::Dr, w))
                .unwrap();
        }
        let before = dests_of(&mut nl, &key);
        let edited = Service {
            flags: 0x1,
            timeout: 60,
            ..svc(key, "wlc")
        };
        nl.edit_service(&edited).unwrap();
        assert_eq!(nl.service(&key).unwrap(), Some(edited));
        assert_eq!(dests_of(&mut nl, &key), before);
        assert_eq!(table()[0], "TCP 192.0.2.30:80 wlc persistent 60");
        assert_eq!(table().len(), 4);

        // And back: persistence off again.
        nl.edit_service(&svc(key, "sh")).unwrap();
        assert_eq!(table()[0], "TCP 192.0.2.30:80 sh");
    });
}

#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn invalid_requests_are_explained() {
    in_netns(|| {
        let mut nl = open();
        let key = tcp("192.0.2.40", 80);
        match nl.add_service(&svc(key, "nosuchsched")) {
            Err(IpvsError::Invalid { reason, .. }) => {
                assert!(reason.contains("nosuchsched"), "{reason}")
            }
            other => panic!("unknown scheduler: {other:?}"),
        }
        assert!(matches!(
            nl.add_service(&svc(key, "a-scheduler-name-too-long")),
            Err(IpvsError::Invalid { .. })
        ));
        nl.add_service(&svc(key, "wrr")).unwrap();
        let max = dest("198.51.100.1", 80, Forward::Dr, i32::MAX as u32);
        nl.add_dest(&key, &max).unwrap();
        assert_eq!(dests_of(&mut nl, &key), vec![max]);
        let mut too_big = max;
        too_big.weight = i32::MAX as u32 + 1;
        assert!(matches!(
            nl.edit_dest(&key, &too_big),
            Err(IpvsError::Invalid { .. })
        ));
        let mut upside_down = max;
        upside_down.lower_threshold = 5;
        assert!(matches!(
            nl.edit_dest(&key, &upside_down),
            Err(IpvsError::Invalid { .. })
        ));
        // A multicast address is not a real server: the kernel's EINVAL comes back as Kernel.
        match nl.add_dest(&key, &dest("224.0.0.1", 80, Forward::Dr, 1)) {
            Err(IpvsError::Kernel { errno, .. }) => {
                assert_eq!(errno.raw_os_error(), Some(libc::EINVAL))
            }
            other => panic!("multicast destination: {other:?}"),
        }
    });
}

/// Drops CAP_NET_ADMIN from this thread only (capabilities are per thread at the syscall level).
fn drop_cap_net_admin() {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    const CAP_NET_ADMIN: u32 = 12;
    let mut h = Header {
        version: VERSION_3,
        pid: 0,
    };
    let mut d = [Data::default(); 2];
    // SAFETY: capget writes two Data structs for version 3, which `d` holds.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut h, d.as_mut_ptr()) };
    assert_eq!(rc, 0, "capget: {}", io::Error::last_os_error());
    d[0].effective &= !(1 << CAP_NET_ADMIN);
    d[0].permitted &= !(1 << CAP_NET_ADMIN);
    // SAFETY: capset reads the header and two Data structs, all initialised.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &mut h, d.as_ptr()) };
    assert_eq!(rc, 0, "capset: {}", io::Error::last_os_error());
}

#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn without_cap_net_admin_it_is_permission_denied() {
    in_netns(|| {
        let mut admin = open();
        let key = fwmark(Family::V4, 7);
        admin.add_service(&svc(key, "wlc")).unwrap();

        drop_cap_net_admin();
        // Family lookup needs no privilege; every IPVS command does (GENL_ADMIN_PERM).
        let mut nl = open();
        for r in [
            nl.info().map(drop),
            nl.services().map(drop),
            nl.edit_service(&svc(key, "rr")),
        ] {
            let e = r.unwrap_err();
            assert!(matches!(e, IpvsError::Permission { .. }), "{e}");
            assert_eq!(agent_code(e), OcfCode::ErrPerm);
        }
    });
}

/// State created by ipvsadm (every option big_brother's model has) decodes to the same model.
#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn decodes_state_created_by_ipvsadm() {
    in_netns(|| {
        for cmd in [
            "-A -t 192.0.2.50:80 -s wrr -p 120",
            "-a -t 192.0.2.50:80 -r 198.51.100.1:80 -g -w 0",
            "-a -t 192.0.2.50:80 -r 198.51.100.2:8080 -m -w 7 -x 50 -y 5",
            "-A -u [2001:db8::53]:53 -s rr -o",
            "-a -u [2001:db8::53]:53 -r [2001:db8::5]:53 -i -w 3",
            "-A -f 9 -s lc",
            "-a -f 9 -r 192.0.2.9 -i",
        ] {
            ipvsadm(cmd);
        }
        let mut nl = open();
        let web = tcp("192.0.2.50", 80);
        let dns = ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: ip("2001:db8::53"),
            port: 53,
        };
        let fw = fwmark(Family::V4, 9);
        assert_eq!(
            nl.service(&web).unwrap(),
            Some(Service {
                flags: 0x1,
                timeout: 120,
                ..svc(web, "wrr")
            })
        );
        assert_eq!(
            nl.service(&dns).unwrap(),
            Some(Service {
                flags: 0x4,
                timeout: 0,
                ..svc(dns, "rr")
            })
        );
        assert_eq!(nl.service(&fw).unwrap(), Some(svc(fw, "lc")));
        assert_eq!(nl.services().unwrap().len(), 3);
        let mut nat = dest("198.51.100.2", 8080, Forward::Nat, 7);
        nat.upper_threshold = 50;
        nat.lower_threshold = 5;
        assert_eq!(
            dests_of(&mut nl, &web),
            vec![dest("198.51.100.1", 80, Forward::Dr, 0), nat]
        );
        assert_eq!(
            dests_of(&mut nl, &dns),
            vec![dest("2001:db8::5", 53, Forward::Ipip, 3)]
        );
        assert_eq!(
            dests_of(&mut nl, &fw),
            vec![dest("192.0.2.9", 0, Forward::Ipip, 1)],
            "ipvsadm's default weight is 1"
        );
    });
}

/// Connection counters and STATS64 decode: a local client's SYN to the VIP is scheduled by IPVS
/// (LOCAL_OUT hook) and counted; our numbers equal `ipvsadm -Ln --stats`.
#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn counters_match_ipvsadm_stats() {
    in_netns(|| {
        sh(&["ip", "link", "add", "bb0", "type", "dummy"]);
        sh(&["ip", "link", "set", "bb0", "up"]);
        sh(&["ip", "addr", "add", "192.0.2.60/32", "dev", "bb0"]);
        sh(&["ip", "route", "add", "198.51.100.0/24", "dev", "bb0"]);
        let mut nl = open();
        let key = tcp("192.0.2.60", 80);
        nl.add_service(&svc(key, "rr")).unwrap();
        nl.add_dest(&key, &dest("198.51.100.61", 80, Forward::Nat, 1))
            .unwrap();
        for _ in 0..3 {
            // Nobody answers behind the dummy link: the connect times out, the SYN is counted.
            let _ = TcpStream::connect_timeout(
                &SocketAddr::new(ip("192.0.2.60"), 80),
                Duration::from_millis(100),
            );
        }
        // Counters are per-CPU and folded into what netlink reports by the IPVS estimator every
        // 2 s (connection counts are immediate): poll, bounded.
        let mut st = nl.dests(&key).unwrap()[0].stats;
        for _ in 0..40 {
            if st.conns >= 3 {
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
            st = nl.dests(&key).unwrap()[0].stats;
        }
        assert_eq!(st.conns, 3, "{st:?}");
        assert!(st.in_packets >= 3, "{st:?}");
        assert!(st.in_bytes >= 3 * 40, "{st:?}");
        assert_eq!(
            u64::from(st.active_conns + st.inactive_conns),
            3,
            "each half-open connection is counted once: {st:?}"
        );
        let stats = normalize(&ipvsadm("-Ln --stats --exact"));
        assert_eq!(
            stats[1],
            format!(
                "-> 198.51.100.61:80 {} {} {} {} {}",
                st.conns, st.in_packets, st.out_packets, st.in_bytes, st.out_bytes
            ),
            "{stats:#?}"
        );
        let conns = normalize(&ipvsadm("-Ln"));
        assert_eq!(
            conns[1],
            format!(
                "-> 198.51.100.61:80 Masq 1 {} {}",
                st.active_conns, st.inactive_conns
            )
        );
    });
}

/// The committed codec fixtures are what this kernel and ipvsadm really exchange.
#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn fixtures_are_what_the_kernel_and_ipvsadm_exchange() {
    in_netns(fixture_gen::check);
}
