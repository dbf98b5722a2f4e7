//! Kernel tier, service options beyond scheduler and persistence timeout: persistence netmask,
//! named scheduler flags, one-packet scheduling and per-server connection thresholds. Each is
//! programmed through the netlink backend and read back through our dump and `ipvsadm -Ln`
//! (`--thresholds`, `--persistent-conn`); edits happen in place (a connection entry and the
//! counters survive them); and the options do what their names say with real connections: a
//! full server gets no new connections, `sh-fallback` moves traffic off a weight-0 server.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use big_brother::ipvs::netlink::ip_vs::{IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_PERSISTENT};
use big_brother::ipvs::netlink::Netlink;
use big_brother::ipvs::{
    Dest, Family, Forward, Ipvs, Netmask, Protocol, SchedFlag, Service, ServiceKey,
};

use super::{dest, dests_of, fwmark, ip, ipvsadm, normalize, open, sh, svc, table, tcp};

/// A dummy link carrying `vips` (host routes) and a route to the real servers' 198.51.100.0/24:
/// a local client's SYN to a VIP is scheduled by IPVS and goes out into nowhere.
fn vip_link(vips: &[&str]) {
    sh(&["ip", "link", "add", "bb0", "type", "dummy"]);
    sh(&["ip", "link", "set", "bb0", "up"]);
    for v in vips {
        sh(&["ip", "addr", "add", v, "dev", "bb0"]);
    }
    sh(&["ip", "route", "add", "198.51.100.0/24", "dev", "bb0"]);
}

/// One TCP connection attempt to `vip:80`: nobody answers, the SYN is what counts.
fn knock(vip: &str) {
    let _ = TcpStream::connect_timeout(&SocketAddr::new(ip(vip), 80), Duration::from_millis(100));
}

/// Active + inactive connections per real server address (counted at once, no estimator).
fn conns(nl: &mut Netlink, key: &ServiceKey) -> Vec<(String, u32)> {
    let mut v: Vec<(String, u32)> = nl
        .dests(key)
        .unwrap()
        .iter()
        .map(|e| {
            (
                e.dest.addr.to_string(),
                e.stats.active_conns + e.stats.inactive_conns,
            )
        })
        .collect();
    v.sort();
    v
}

/// `ipvsadm -Lnc` without headers and without the expiry column (it counts down).
fn entries() -> Vec<String> {
    ipvsadm("-Lnc")
        .lines()
        .skip(2)
        .map(|l| {
            let mut f: Vec<&str> = l.split_whitespace().collect();
            if f.len() > 1 {
                f.remove(1);
            }
            f.join(" ")
        })
        .collect()
}

fn with_thresholds(mut d: Dest, upper: u32, lower: u32) -> Dest {
    d.upper_threshold = upper;
    d.lower_threshold = lower;
    d
}

fn sh_service(key: ServiceKey) -> Service {
    Service {
        flags: IP_VS_SVC_F_PERSISTENT | SchedFlag::ShFallback.bit() | SchedFlag::ShPort.bit(),
        timeout: 300,
        netmask: Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)),
        ..svc(key, "sh")
    }
}

#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn options_read_back_from_ipvsadm_and_our_dump() {
    super::in_netns(|| {
        let mut nl = open();
        let web = tcp("192.0.2.70", 80);
        let web6 = tcp("2001:db8::70", 80);
        let dns = ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: ip("192.0.2.71"),
            port: 53,
        };
        let fw = fwmark(Family::V4, 9);
        let services = [
            sh_service(web),
            Service {
                flags: IP_VS_SVC_F_PERSISTENT
                    | SchedFlag::MhFallback.bit()
                    | SchedFlag::MhPort.bit(),
                timeout: 300,
                netmask: Netmask::V6(64),
                ..svc(web6, "mh")
            },
            Service {
                flags: IP_VS_SVC_F_ONEPACKET,
                ..svc(dns, "rr")
            },
            Service {
                flags: IP_VS_SVC_F_ONEPACKET,
                ..svc(fw, "wlc")
            },
        ];
        for s in &services {
            nl.add_service(s)
                .unwrap_or_else(|e| panic!("{}: {e}", s.key));
        }
        let d = with_thresholds(dest("198.51.100.70", 80, Forward::Dr, 5), 100, 10);
        let d6 = with_thresholds(dest("2001:db8::7", 80, Forward::Dr, 3), 1000, 0);
        nl.add_dest(&web, &d).unwrap();
        nl.add_dest(&web6, &d6).unwrap();

        let dump: BTreeSet<String> = nl
            .services()
            .unwrap()
            .iter()
            .map(|s| format!("{s:?}"))
            .collect();
        let want: BTreeSet<String> = services.iter().map(|s| format!("{s:?}")).collect();
        assert_eq!(dump, want);
        assert_eq!(
            nl.service(&web).unwrap().unwrap().sched_flags(),
            vec![SchedFlag::ShFallback, SchedFlag::ShPort]
        );
        assert_eq!(dests_of(&mut nl, &web), vec![d]);
        assert_eq!(dests_of(&mut nl, &web6), vec![d6]);

        let t: BTreeSet<String> = table().into_iter().collect();
        for line in [
            "TCP 192.0.2.70:80 sh (sh-fallback,sh-port) persistent 300 mask 255.255.255.0",
            "TCP [2001:db8::70]:80 mh (mh-fallback,mh-port) persistent 300 mask 64",
            "UDP 192.0.2.71:53 rr ops",
            "FWM 9 wlc ops",
        ] {
            assert!(t.contains(line), "ipvsadm -Ln lacks `{line}`: {t:#?}");
        }
        let thr = normalize(&ipvsadm("-Ln --thresholds -t 192.0.2.70:80"));
        assert_eq!(thr[1], "-> 198.51.100.70:80 100 10 0 0");
        let thr6 = normalize(&ipvsadm("-Ln --thresholds -t [2001:db8::70]:80"));
        assert_eq!(thr6[1], "-> [2001:db8::7]:80 1000 0 0 0");
        let pc = normalize(&ipvsadm("-Ln --persistent-conn -t 192.0.2.70:80"));
        assert_eq!(
            pc,
            vec![
                "TCP 192.0.2.70:80 sh (sh-fallback,sh-port) persistent 300 mask 255.255.255.0",
                "-> 198.51.100.70:80 5 0 0 0",
            ]
        );

        // Made by ipvsadm, read by us.
        ipvsadm("-A -t 192.0.2.72:80 -s mh -b mh-port -p 60 -M 255.255.0.0");
        let by_ipvsadm = nl.service(&tcp("192.0.2.72", 80)).unwrap().unwrap();
        assert_eq!(by_ipvsadm.sched_flags(), vec![SchedFlag::MhPort]);
        assert_eq!(
            by_ipvsadm.netmask,
            Netmask::V4(Ipv4Addr::new(255, 255, 0, 0))
        );
        assert_eq!(
            by_ipvsadm.flags & IP_VS_SVC_F_PERSISTENT,
            IP_VS_SVC_F_PERSISTENT
        );
    });
}

/// Netmask, scheduler flags, persistence and thresholds all change in place: the connection
/// entry made before the edits is still there after them, and the counters were not reset.
#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn options_change_in_place_and_connections_survive() {
    super::in_netns(|| {
        vip_link(&["192.0.2.80/32"]);
        let mut nl = open();
        let key = tcp("192.0.2.80", 80);
        let before = sh_service(key);
        nl.add_service(&before).unwrap();
        let d = with_thresholds(dest("198.51.100.80", 80, Forward::Nat, 5), 100, 10);
        nl.add_dest(&key, &d).unwrap();
        knock("192.0.2.80");
        let made = entries();
        assert_eq!(
            made.len(),
            2,
            "the connection and its persistence template: {made:?}"
        );
        assert_eq!(conns(&mut nl, &key), vec![("198.51.100.80".into(), 1)]);

        let after = Service {
            flags: IP_VS_SVC_F_PERSISTENT | SchedFlag::ShPort.bit(),
            timeout: 600,
            netmask: Netmask::V4(Ipv4Addr::new(255, 255, 0, 0)),
            ..svc(key, "sh")
        };
        nl.edit_service(&after).unwrap();
        let d2 = with_thresholds(d, 200, 50);
        nl.edit_dest(&key, &d2).unwrap();
        assert_eq!(nl.service(&key).unwrap(), Some(after));
        assert_eq!(dests_of(&mut nl, &key), vec![d2]);
        assert_eq!(
            table()[0],
            "TCP 192.0.2.80:80 sh (sh-port) persistent 600 mask 255.255.0.0"
        );
        let st = nl.dests(&key).unwrap()[0].stats;
        assert_eq!(
            normalize(&ipvsadm("-Ln --thresholds"))[1],
            format!(
                "-> 198.51.100.80:80 200 50 {} {}",
                st.active_conns, st.inactive_conns
            )
        );
        assert_eq!(entries(), made, "the connection entries are untouched");
        assert_eq!(conns(&mut nl, &key), vec![("198.51.100.80".into(), 1)]);

        // Everything off again: a plain sh service, no thresholds.
        nl.edit_service(&svc(key, "sh")).unwrap();
        nl.edit_dest(&key, &with_thresholds(d, 0, 0)).unwrap();
        assert_eq!(table()[0], "TCP 192.0.2.80:80 sh");
        assert_eq!(
            normalize(&ipvsadm("-Ln --thresholds"))[1],
            format!(
                "-> 198.51.100.80:80 0 0 {} {}",
                st.active_conns, st.inactive_conns
            )
        );
    });
}

/// An upper threshold stops new connections to a server once it has that many (the kernel
/// marks it overloaded and every scheduler skips it); lifting the threshold in place lets it
/// take new ones again.
#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn a_full_server_gets_no_new_connections() {
    super::in_netns(|| {
        vip_link(&["192.0.2.90/32"]);
        let mut nl = open();
        let key = tcp("192.0.2.90", 80);
        nl.add_service(&svc(key, "rr")).unwrap();
        let full = with_thresholds(dest("198.51.100.91", 80, Forward::Nat, 1), 1, 0);
        nl.add_dest(&key, &full).unwrap();
        nl.add_dest(&key, &dest("198.51.100.92", 80, Forward::Nat, 1))
            .unwrap();
        for _ in 0..6 {
            knock("192.0.2.90");
        }
        assert_eq!(
            conns(&mut nl, &key),
            vec![("198.51.100.91".into(), 1), ("198.51.100.92".into(), 5)],
            "round robin would have split them 3/3"
        );
        nl.edit_dest(&key, &with_thresholds(full, 0, 0)).unwrap();
        for _ in 0..4 {
            knock("192.0.2.90");
        }
        let after = conns(&mut nl, &key);
        assert_eq!(after[0].1 + after[1].1, 10);
        assert!(after[0].1 >= 2, "no longer overloaded: {after:?}");
    });
}

/// `sh` hashes each client (here with `sh-port`: each client port) to a server; a weight-0
/// server's share is refused unless `sh-fallback` is set, which sends it to another server.
#[test]
#[ignore = "kernel tier: root + ip_vs, run tests/vm/run"]
fn sh_fallback_moves_traffic_off_a_weight_0_server() {
    super::in_netns(|| {
        vip_link(&["192.0.2.95/32"]);
        let mut nl = open();
        let key = tcp("192.0.2.95", 80);
        let mut s = Service {
            flags: SchedFlag::ShPort.bit(),
            ..svc(key, "sh")
        };
        nl.add_service(&s).unwrap();
        nl.add_dest(&key, &dest("198.51.100.96", 80, Forward::Nat, 0))
            .unwrap();
        nl.add_dest(&key, &dest("198.51.100.97", 80, Forward::Nat, 1))
            .unwrap();
        // The weight-0 server holds every other hash bucket: about half of 24 client ports
        // land on it (all 24 missing it has odds of 1 in 2^24).
        let n = 24;
        for _ in 0..n {
            knock("192.0.2.95");
        }
        let without = conns(&mut nl, &key);
        assert_eq!(without[0], ("198.51.100.96".into(), 0));
        let served = without[1].1;
        assert!(
            served < n,
            "some clients hashed to the weight-0 server: {without:?}"
        );
        assert!(served > 0, "{without:?}");

        s.flags |= SchedFlag::ShFallback.bit();
        nl.edit_service(&s).unwrap();
        assert_eq!(table()[0], "TCP 192.0.2.95:80 sh (sh-fallback,sh-port)");
        for _ in 0..n {
            knock("192.0.2.95");
        }
        assert_eq!(
            conns(&mut nl, &key),
            vec![
                ("198.51.100.96".into(), 0),
                ("198.51.100.97".into(), served + n)
            ],
            "with sh-fallback every client is served"
        );
    });
}
