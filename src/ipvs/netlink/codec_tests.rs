//! Codec tests against the bytes ipvsadm and the kernel really exchanged (`fixtures.rs`): what we
//! emit equals what ipvsadm emits for the same command (or is the subset the kernel needs), and
//! every captured reply parses to the model values the producing commands describe. Plus the
//! decoder's promises: unknown attributes are skipped, odd input is an error and never a panic.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

use proptest::prelude::*;

use super::attr::{Attrs, Writer, NLA_F_NESTED};
use super::codec::*;
use super::fixtures::*;
use super::message::{GenlMsg, Header, NLMSG_HDRLEN};
use crate::ipvs::{
    Dest, DestEntry, Family, Forward, Netmask, Protocol, SchedFlag, Service, ServiceKey,
    SyncDaemon, SyncState, Timeouts,
};

const FAMILY: u16 = 32;

/// The kernel's answer to `ipvsadm -Ln` after every step of the capture (sorted bytewise).
const SERVICE_REPLIES: [&[u8]; 5] = [
    LIST_NEW_SERVICE_REPLY1,
    LIST_NEW_SERVICE_REPLY2,
    LIST_NEW_SERVICE_REPLY3,
    LIST_NEW_SERVICE_REPLY4,
    LIST_NEW_SERVICE_REPLY5,
];
const DEST_REPLIES: [&[u8]; 4] = [
    LIST_NEW_DEST_REPLY1,
    LIST_NEW_DEST_REPLY2,
    LIST_NEW_DEST_REPLY3,
    LIST_NEW_DEST_REPLY4,
];

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn fwmark(family: Family, mark: u32) -> ServiceKey {
    ServiceKey::fwmark(family, mark)
}

fn addr_key(protocol: Protocol, a: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol,
        addr: ip(a),
        port,
    }
}

fn service(key: ServiceKey, scheduler: &str, flags: u32, timeout: u32) -> Service {
    Service {
        flags,
        timeout,
        ..Service::new(key, scheduler)
    }
}

fn dest(a: &str, port: u16, forward: Forward, weight: u32, upper: u32, lower: u32) -> Dest {
    Dest {
        upper_threshold: upper,
        lower_threshold: lower,
        ..Dest::new(ip(a), port, forward, weight)
    }
}

/// Encodes `req`, checks the netlink header, returns the body (what fixtures hold).
fn emit(req: Request, flags: u16) -> Vec<u8> {
    let msg = req.encode(FAMILY).unwrap();
    let h = Header::parse(&msg).unwrap();
    assert_eq!(h.len as usize, msg.len());
    assert_eq!(h.kind, FAMILY);
    assert_eq!(h.flags, flags, "nlmsg flags of {req:?}");
    msg[NLMSG_HDRLEN..].to_vec()
}

/// `(kind, payload)` of every attribute inside top-level nest `nest` of a body.
fn nest_attrs(body: &[u8], nest: u16) -> Vec<(u16, Vec<u8>)> {
    let msg = GenlMsg::parse(body).unwrap();
    let n = msg
        .attrs()
        .map(Result::unwrap)
        .find(|a| a.kind == nest)
        .unwrap_or_else(|| panic!("no nest {nest}"));
    n.nested()
        .map(|a| {
            let a = a.unwrap();
            (a.kind, a.payload.to_vec())
        })
        .collect()
}

/// Raw bytes of top-level nest `nest` (header included).
fn nest_bytes(body: &[u8], nest: u16) -> Vec<u8> {
    let mut off = 4;
    while off < body.len() {
        let len = usize::from(u16::from_ne_bytes([body[off], body[off + 1]]));
        let kind = u16::from_ne_bytes([body[off + 2], body[off + 3]]) & !NLA_F_NESTED;
        if kind == nest {
            return body[off..off + len].to_vec();
        }
        off += (len + 3) & !3;
    }
    panic!("no nest {nest}");
}

fn assert_subset(ours: &[(u16, Vec<u8>)], theirs: &[(u16, Vec<u8>)], what: &str) {
    for a in ours {
        assert!(
            theirs.contains(a),
            "{what}: attribute {} = {:?} is not in ipvsadm's message {theirs:?}",
            a.0,
            a.1
        );
    }
}

#[test]
fn service_requests_equal_ipvsadm() {
    let cases = [
        (
            ADD_FWMARK_NEW_SERVICE_REQ,
            service(fwmark(Family::V4, 7), "wlc", 0, 0),
        ),
        (
            ADD_TCP4_NEW_SERVICE_REQ,
            service(addr_key(Protocol::Tcp, "192.0.2.10", 80), "rr", 0, 0),
        ),
        (
            ADD_TCP6_NEW_SERVICE_REQ,
            service(addr_key(Protocol::Tcp, "2001:db8::10", 443), "wlc", 1, 300),
        ),
        (
            ADD_UDP4_NEW_SERVICE_REQ,
            service(addr_key(Protocol::Udp, "198.51.100.53", 53), "rr", 4, 0),
        ),
        (
            ADD_FWMARK6_NEW_SERVICE_REQ,
            service(fwmark(Family::V6, 8), "sh", 0, 0),
        ),
    ];
    for (fixture, svc) in cases {
        assert_eq!(emit(Request::NewService(&svc), 0x5), fixture, "{}", svc.key);
    }
    let edited = service(addr_key(Protocol::Tcp, "192.0.2.10", 80), "wlc", 1, 300);
    assert_eq!(
        emit(Request::SetService(&edited), 0x5),
        EDIT_TCP4_SET_SERVICE_REQ
    );
}

#[test]
fn dest_requests_equal_ipvsadm_in_the_dest_nest() {
    let fw7 = fwmark(Family::V4, 7);
    let tcp4 = addr_key(Protocol::Tcp, "192.0.2.10", 80);
    let tcp6 = addr_key(Protocol::Tcp, "2001:db8::10", 443);
    let fw8 = fwmark(Family::V6, 8);
    let cases: [(&[u8], Request, &ServiceKey); 5] = [
        (
            ADD_FWMARK_DEST_NEW_DEST_REQ,
            Request::NewDest(&fw7, &dest("192.0.2.1", 0, Forward::Ipip, 100, 0, 0)),
            &fw7,
        ),
        (
            EDIT_FWMARK_DEST_SET_DEST_REQ,
            Request::SetDest(&fw7, &dest("192.0.2.1", 0, Forward::Ipip, 50, 0, 0)),
            &fw7,
        ),
        (
            ADD_TCP4_DEST_NEW_DEST_REQ,
            Request::NewDest(&tcp4, &dest("198.51.100.1", 8080, Forward::Nat, 1, 0, 0)),
            &tcp4,
        ),
        (
            // ipvsadm replaced the requested :8443 by the service port: DR cannot change ports.
            ADD_TCP6_DEST_NEW_DEST_REQ,
            Request::NewDest(&tcp6, &dest("2001:db8::1", 443, Forward::Dr, 5, 100, 10)),
            &tcp6,
        ),
        (
            ADD_FWMARK6_DEST_NEW_DEST_REQ,
            Request::NewDest(&fw8, &dest("2001:db8::2", 0, Forward::Ipip, 0, 0, 0)),
            &fw8,
        ),
    ];
    for (fixture, req, key) in cases {
        let ours = emit(req, 0x5);
        assert_eq!(&ours[..4], &fixture[..4], "genlmsghdr of {req:?}");
        assert_eq!(
            nest_bytes(&ours, IPVS_CMD_ATTR_DEST),
            nest_bytes(fixture, IPVS_CMD_ATTR_DEST),
            "dest nest of {req:?}"
        );
        // The service half: only what identifies it, each attribute as ipvsadm writes it.
        let svc = nest_attrs(&ours, IPVS_CMD_ATTR_SERVICE);
        let kinds: Vec<u16> = svc.iter().map(|a| a.0).collect();
        let want_kinds = match key {
            ServiceKey::Fwmark { .. } => vec![IPVS_SVC_ATTR_AF, IPVS_SVC_ATTR_FWMARK],
            ServiceKey::Addr { .. } => vec![
                IPVS_SVC_ATTR_AF,
                IPVS_SVC_ATTR_PROTOCOL,
                IPVS_SVC_ATTR_ADDR,
                IPVS_SVC_ATTR_PORT,
            ],
        };
        assert_eq!(kinds, want_kinds);
        assert_subset(
            &svc,
            &nest_attrs(fixture, IPVS_CMD_ATTR_SERVICE),
            "service nest",
        );
    }
}

#[test]
fn delete_requests_are_the_identifying_subset_of_ipvsadms() {
    let fw7 = fwmark(Family::V4, 7);
    let ours = emit(Request::DelDest(&fw7, ip("192.0.2.1"), 0), 0x5);
    assert_eq!(ours[0], IPVS_CMD_DEL_DEST);
    assert_eq!(
        nest_attrs(&ours, IPVS_CMD_ATTR_DEST)
            .iter()
            .map(|a| a.0)
            .collect::<Vec<_>>(),
        vec![
            IPVS_DEST_ATTR_ADDR_FAMILY,
            IPVS_DEST_ATTR_ADDR,
            IPVS_DEST_ATTR_PORT
        ]
    );
    assert_subset(
        &nest_attrs(&ours, IPVS_CMD_ATTR_DEST),
        &nest_attrs(DEL_FWMARK_DEST_DEL_DEST_REQ, IPVS_CMD_ATTR_DEST),
        "DEL_DEST dest nest",
    );
    assert_subset(
        &nest_attrs(&ours, IPVS_CMD_ATTR_SERVICE),
        &nest_attrs(DEL_FWMARK_DEST_DEL_DEST_REQ, IPVS_CMD_ATTR_SERVICE),
        "DEL_DEST service nest",
    );

    let ours = emit(Request::DelService(&fw7), 0x5);
    assert_eq!(ours[0], IPVS_CMD_DEL_SERVICE);
    assert_eq!(nest_attrs(&ours, IPVS_CMD_ATTR_SERVICE).len(), 2);
    assert_subset(
        &nest_attrs(&ours, IPVS_CMD_ATTR_SERVICE),
        &nest_attrs(DEL_FWMARK_DEL_SERVICE_REQ, IPVS_CMD_ATTR_SERVICE),
        "DEL_SERVICE",
    );
}

#[test]
fn info_and_dump_requests_equal_ipvsadm() {
    assert_eq!(emit(Request::GetInfo, 0x5), INFO_GET_INFO_REQ);
    assert_eq!(emit(Request::DumpServices, 0x305), LIST_GET_SERVICE_REQ);
    assert_eq!(emit(Request::DumpServices, 0x305), INFO_GET_SERVICE_REQ);
    // ipvsadm asked for the destinations of each of the five services; we ask the same way.
    let keys = [
        fwmark(Family::V4, 7),
        addr_key(Protocol::Tcp, "192.0.2.10", 80),
        addr_key(Protocol::Tcp, "2001:db8::10", 443),
        addr_key(Protocol::Udp, "198.51.100.53", 53),
        fwmark(Family::V6, 8),
    ];
    let ours: BTreeSet<Vec<u8>> = keys
        .iter()
        .map(|k| emit(Request::DumpDests(k), 0x305))
        .collect();
    let theirs: BTreeSet<Vec<u8>> = [
        LIST_GET_DEST_REQ1,
        LIST_GET_DEST_REQ2,
        LIST_GET_DEST_REQ3,
        LIST_GET_DEST_REQ4,
        LIST_GET_DEST_REQ5,
    ]
    .iter()
    .map(|b| b.to_vec())
    .collect();
    assert_eq!(ours, theirs);
}

#[test]
fn info_reply_parses() {
    let info = parse_info(INFO_SET_INFO_REPLY).unwrap();
    assert_eq!(info.version, 0x010201);
    assert_eq!(info.conn_table_size, 4096);
}

/// `ipvsadm -Ln` after every ADD/EDIT step of the capture.
#[test]
fn service_dump_parses_to_what_was_configured() {
    let got: Vec<Service> = SERVICE_REPLIES
        .iter()
        .map(|b| parse_service(b).unwrap().expect("TCP/UDP/fwmark services"))
        .collect();
    let mut got: Vec<String> = got.iter().map(|s| format!("{s:?}")).collect();
    got.sort();
    let mut want: Vec<String> = [
        service(fwmark(Family::V4, 7), "wlc", 0, 0),
        service(addr_key(Protocol::Tcp, "192.0.2.10", 80), "wlc", 1, 300),
        service(addr_key(Protocol::Tcp, "2001:db8::10", 443), "wlc", 1, 300),
        // The kernel reports HASHED (0x2) too; the model keeps user flags only.
        service(addr_key(Protocol::Udp, "198.51.100.53", 53), "rr", 4, 0),
        service(fwmark(Family::V6, 8), "sh", 0, 0),
    ]
    .iter()
    .map(|s| format!("{s:?}"))
    .collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn dest_dump_parses_to_what_was_configured() {
    let mut got: Vec<DestEntry> = DEST_REPLIES
        .iter()
        // The family argument only matters when the kernel omits ADDR_FAMILY (it does not here).
        .map(|b| parse_dest(b, Family::V4).unwrap())
        .collect();
    got.sort_by_key(|e| (e.dest.addr, e.dest.port));
    let want = vec![
        dest("192.0.2.1", 0, Forward::Ipip, 50, 0, 0),
        dest("198.51.100.1", 8080, Forward::Nat, 1, 0, 0),
        dest("2001:db8::1", 443, Forward::Dr, 5, 100, 10),
        dest("2001:db8::2", 0, Forward::Ipip, 0, 0, 0),
    ];
    assert_eq!(got.iter().map(|e| e.dest).collect::<Vec<_>>(), want);
    assert!(got.iter().all(|e| e.stats == Default::default()));
}

/// Rebuilds a captured body, passing every attribute inside top-level nest `nest` through `f`
/// (which may drop it, change it, or add more).
fn rebuild(
    body: &[u8],
    nest: u16,
    mut f: impl FnMut(u16, &[u8]) -> Vec<(u16, Vec<u8>)>,
) -> Vec<u8> {
    let msg = GenlMsg::parse(body).unwrap();
    let mut w = Writer::with_prefix(&body[..4]);
    for a in msg.attrs() {
        let a = a.unwrap();
        if a.kind == nest {
            let inner: Vec<(u16, Vec<u8>)> = a
                .nested()
                .map(Result::unwrap)
                .flat_map(|i| f(i.kind, i.payload))
                .collect();
            w.nest(nest, |w| {
                for (k, p) in &inner {
                    w.bytes(*k, p);
                }
            });
        } else {
            w.bytes(a.kind, a.payload);
        }
    }
    w.finish().unwrap()
}

#[test]
fn unknown_attributes_are_skipped() {
    let plain = parse_service(LIST_NEW_SERVICE_REPLY1).unwrap();
    let extra = rebuild(LIST_NEW_SERVICE_REPLY1, IPVS_CMD_ATTR_SERVICE, |k, p| {
        vec![(k, p.to_vec()), (999, vec![1, 2, 3])]
    });
    assert_eq!(parse_service(&extra).unwrap(), plain);

    let plain = parse_dest(LIST_NEW_DEST_REPLY1, Family::V4).unwrap();
    let extra = rebuild(LIST_NEW_DEST_REPLY1, IPVS_CMD_ATTR_DEST, |k, p| {
        vec![(k, p.to_vec()), (777, vec![0; 9])]
    });
    assert_eq!(parse_dest(&extra, Family::V4).unwrap(), plain);
}

#[test]
fn what_the_model_cannot_express_is_reported() {
    // An SCTP service (IPPROTO_SCTP = 132) is not big_brother's: skipped, not an error.
    let addr_reply = SERVICE_REPLIES
        .into_iter()
        .find(|b| {
            matches!(
                parse_service(b).unwrap().unwrap().key,
                ServiceKey::Addr { .. }
            )
        })
        .unwrap();
    let sctp = rebuild(addr_reply, IPVS_CMD_ATTR_SERVICE, |k, p| {
        if k == IPVS_SVC_ATTR_PROTOCOL {
            vec![(k, 132u16.to_ne_bytes().to_vec())]
        } else {
            vec![(k, p.to_vec())]
        }
    });
    assert_eq!(parse_service(&sctp).unwrap(), None);

    // LOCALNODE forwarding: an error that names the method and the destination.
    let local = rebuild(LIST_NEW_DEST_REPLY1, IPVS_CMD_ATTR_DEST, |k, p| {
        if k == IPVS_DEST_ATTR_FWD_METHOD {
            vec![(k, IP_VS_CONN_F_LOCALNODE.to_ne_bytes().to_vec())]
        } else {
            vec![(k, p.to_vec())]
        }
    });
    let err = parse_dest(&local, Family::V4).unwrap_err().to_string();
    assert!(err.contains("LOCALNODE"), "{err}");
    assert!(err.contains(':'), "names the destination: {err}");
}

#[test]
fn dest_family_defaults_to_the_services() {
    // Kernels before ADDR_FAMILY existed: the address is read in the service's family.
    for reply in DEST_REPLIES {
        let with_family = parse_dest(reply, Family::V4).unwrap();
        let old = rebuild(reply, IPVS_CMD_ATTR_DEST, |k, p| {
            if k == IPVS_DEST_ATTR_ADDR_FAMILY {
                vec![]
            } else {
                vec![(k, p.to_vec())]
            }
        });
        let family = Family::of(&with_family.dest.addr);
        assert_eq!(parse_dest(&old, family).unwrap(), with_family);
    }
}

#[test]
fn missing_mandatory_attributes_are_named() {
    let no_sched = rebuild(LIST_NEW_SERVICE_REPLY1, IPVS_CMD_ATTR_SERVICE, |k, p| {
        if k == IPVS_SVC_ATTR_SCHED_NAME {
            vec![]
        } else {
            vec![(k, p.to_vec())]
        }
    });
    let err = parse_service(&no_sched).unwrap_err().to_string();
    assert!(err.contains("no scheduler"), "{err}");
    let no_weight = rebuild(LIST_NEW_DEST_REPLY1, IPVS_CMD_ATTR_DEST, |k, p| {
        if k == IPVS_DEST_ATTR_WEIGHT {
            vec![]
        } else {
            vec![(k, p.to_vec())]
        }
    });
    let err = parse_dest(&no_weight, Family::V4).unwrap_err().to_string();
    assert!(err.contains("no weight"), "{err}");
    let bad_port = rebuild(LIST_NEW_DEST_REPLY1, IPVS_CMD_ATTR_DEST, |k, p| {
        if k == IPVS_DEST_ATTR_PORT {
            vec![(k, vec![1, 2, 3])]
        } else {
            vec![(k, p.to_vec())]
        }
    });
    let err = parse_dest(&bad_port, Family::V4).unwrap_err().to_string();
    assert!(err.starts_with("destination: attribute 2"), "{err}");
    assert!(parse_service(INFO_SET_INFO_REPLY).is_err(), "wrong command");
}

#[test]
fn requests_the_kernel_would_refuse_are_caught_first() {
    let k = fwmark(Family::V4, 7);
    let long = service(k, "abcdefghijklmnop", 0, 0);
    assert!(Request::NewService(&long).encode(FAMILY).is_err());
    assert!(Request::NewService(&service(k, "", 0, 0))
        .encode(FAMILY)
        .is_err());
    let zero = fwmark(Family::V4, 0);
    assert!(Request::DelService(&zero).encode(FAMILY).is_err());
    let heavy = dest("192.0.2.1", 0, Forward::Ipip, 1 << 31, 0, 0);
    assert!(Request::NewDest(&k, &heavy).encode(FAMILY).is_err());
    let inverted = dest("192.0.2.1", 0, Forward::Ipip, 1, 5, 6);
    assert!(Request::SetDest(&k, &inverted).encode(FAMILY).is_err());
}

/// Every prefix of every captured reply: a value or an error, never a panic.
#[test]
fn truncated_replies_never_panic() {
    let replies: [&[u8]; 18] = [
        LIST_TIMEOUTS_SET_CONFIG_REPLY,
        LIST_DAEMONS_NEW_DAEMON_REPLY1,
        LIST_DAEMONS_NEW_DAEMON_REPLY2,
        LIST_DAEMONS6_NEW_DAEMON_REPLY,
        LIST_OPTS_NEW_SERVICE_REPLY,
        LIST_OPTS6_NEW_SERVICE_REPLY,
        LIST_OPS_FWMARK_NEW_SERVICE_REPLY,
        LIST_OPTS_NEW_DEST_REPLY,
        INFO_SET_INFO_REPLY,
        LIST_NEW_SERVICE_REPLY1,
        LIST_NEW_SERVICE_REPLY2,
        LIST_NEW_SERVICE_REPLY3,
        LIST_NEW_SERVICE_REPLY4,
        LIST_NEW_SERVICE_REPLY5,
        LIST_NEW_DEST_REPLY1,
        LIST_NEW_DEST_REPLY2,
        LIST_NEW_DEST_REPLY3,
        LIST_NEW_DEST_REPLY4,
    ];
    for r in replies {
        for n in 0..r.len() {
            let _ = parse_info(&r[..n]);
            let _ = parse_service(&r[..n]);
            let _ = parse_dest(&r[..n], Family::V6);
            let _ = parse_daemon(&r[..n]);
            let _ = parse_config(&r[..n]);
        }
    }
}

fn any_fixture() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(LIST_NEW_SERVICE_REPLY1.to_vec()),
        Just(LIST_NEW_SERVICE_REPLY3.to_vec()),
        Just(LIST_NEW_DEST_REPLY1.to_vec()),
        Just(LIST_NEW_DEST_REPLY2.to_vec()),
        Just(INFO_SET_INFO_REPLY.to_vec()),
        Just(LIST_DAEMONS_NEW_DAEMON_REPLY2.to_vec()),
        Just(LIST_DAEMONS6_NEW_DAEMON_REPLY.to_vec()),
        Just(LIST_TIMEOUTS_SET_CONFIG_REPLY.to_vec()),
        Just(LIST_OPTS6_NEW_SERVICE_REPLY.to_vec()),
    ]
}

proptest! {
    /// Corrupted replies (random byte overwrites) decode to something or to an error.
    #[test]
    fn corrupted_replies_never_panic(
        base in any_fixture(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
    ) {
        let mut b = base;
        for (i, v) in edits {
            let len = b.len();
            b[i % len] = v;
        }
        let _ = parse_info(&b);
        let _ = parse_service(&b);
        let _ = parse_dest(&b, Family::V4);
        let _ = parse_daemon(&b);
        let _ = parse_config(&b);
        let _ = Attrs::new(&b).count();
    }

    /// Arbitrary bytes, too.
    #[test]
    fn random_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_info(&b);
        let _ = parse_service(&b);
        let _ = parse_dest(&b, Family::V6);
        let _ = parse_daemon(&b);
        let _ = parse_config(&b);
    }

    /// Any model service survives encode → (kernel-shaped) decode.
    #[test]
    fn service_round_trip(
        mark in 1u32..,
        sched in "[a-z]{1,15}",
        flags in 0u32..0x40,
        timeout: u32,
        prefix in 1u8..=128,
    ) {
        let svc = Service {
            netmask: Netmask::V6(prefix),
            ..service(fwmark(Family::V6, mark), &sched, flags & !IP_VS_SVC_F_HASHED, timeout)
        };
        let msg = Request::NewService(&svc).encode(FAMILY).unwrap();
        let mut body = msg[NLMSG_HDRLEN..].to_vec();
        body[0] = IPVS_CMD_NEW_SERVICE; // a reply carries the same attributes under NEW_SERVICE
        prop_assert_eq!(parse_service(&body).unwrap(), Some(svc));
    }

    /// IPv4 masks of every shape go out as their octets and come back.
    #[test]
    fn netmask_v4_round_trip(mask: u32, mark in 1u32..) {
        let svc = Service {
            netmask: Netmask::V4(Ipv4Addr::from(mask)),
            ..service(fwmark(Family::V4, mark), "wlc", 1, 60)
        };
        let msg = Request::SetService(&svc).encode(FAMILY).unwrap();
        let mut body = msg[NLMSG_HDRLEN..].to_vec();
        body[0] = IPVS_CMD_NEW_SERVICE;
        prop_assert_eq!(parse_service(&body).unwrap(), Some(svc));
    }

    /// Any daemon the checks accept survives encode → decode (NEW_DAEMON is also the command of
    /// a dump reply, with the same attributes).
    #[test]
    fn daemon_round_trip(
        backup: bool,
        interface in "[a-z][a-z0-9.-]{0,14}",
        sync_id: u8,
        max_len in proptest::option::of(1024u16..=65487),
        group in proptest::option::of(prop_oneof![
            (224u8..=239, any::<[u8; 3]>()).prop_map(|(a, r)| IpAddr::from([a, r[0], r[1], r[2]])),
            any::<[u8; 15]>().prop_map(|r| {
                let mut o = [0xffu8; 16];
                o[1..].copy_from_slice(&r);
                IpAddr::from(o)
            }),
        ]),
        port in proptest::option::of(1u16..),
        ttl in proptest::option::of(1u8..),
    ) {
        let d = SyncDaemon {
            state: if backup { SyncState::Backup } else { SyncState::Master },
            interface,
            sync_id,
            max_len,
            group,
            port,
            ttl,
        };
        prop_assume!(d.check().is_ok());
        let msg = Request::NewDaemon(&d).encode(FAMILY).unwrap();
        prop_assert_eq!(parse_daemon(&msg[NLMSG_HDRLEN..]).unwrap(), d);
    }
}

#[test]
fn timeout_requests_and_reply_equal_ipvsadm() {
    let set = Timeouts {
        tcp: 100,
        tcp_fin: 20,
        udp: 30,
    };
    let keep = Timeouts {
        tcp: 0,
        tcp_fin: 60,
        udp: 0,
    };
    assert_eq!(emit(Request::SetConfig(&set), 0x5), TIMEOUTS_SET_CONFIG_REQ);
    assert_eq!(
        emit(Request::SetConfig(&keep), 0x5),
        TIMEOUTS_KEEP_SET_CONFIG_REQ
    );
    assert_eq!(emit(Request::GetConfig, 0x5), LIST_TIMEOUTS_GET_CONFIG_REQ);
    // The kernel kept what the 0s said to keep: the model's rule.
    let got = parse_config(LIST_TIMEOUTS_SET_CONFIG_REPLY).unwrap();
    assert_eq!(got, Timeouts::LINUX_DEFAULT.updated(&set).updated(&keep));
    assert_eq!(got.to_string(), "100 60 30");
    assert!(parse_config(INFO_SET_INFO_REPLY).is_err(), "wrong command");
    let no_udp = {
        let msg = GenlMsg::parse(LIST_TIMEOUTS_SET_CONFIG_REPLY).unwrap();
        let mut w = Writer::with_prefix(&LIST_TIMEOUTS_SET_CONFIG_REPLY[..4]);
        for a in msg.attrs().map(Result::unwrap) {
            if a.kind != IPVS_CMD_ATTR_TIMEOUT_UDP {
                w.bytes(a.kind, a.payload);
            }
        }
        w.finish().unwrap()
    };
    let err = parse_config(&no_udp).unwrap_err().to_string();
    assert_eq!(err, "config: no udp timeout");
}

fn master42() -> SyncDaemon {
    SyncDaemon::new(SyncState::Master, "sync0", 42)
}

fn backup42() -> SyncDaemon {
    SyncDaemon {
        max_len: Some(1400),
        group: Some("239.1.2.3".parse().unwrap()),
        port: Some(9000),
        ttl: Some(3),
        ..SyncDaemon::new(SyncState::Backup, "sync0", 42)
    }
}

fn backup7_v6() -> SyncDaemon {
    SyncDaemon {
        group: Some("ff02::1:3".parse().unwrap()),
        ..SyncDaemon::new(SyncState::Backup, "sync0", 7)
    }
}

#[test]
fn daemon_requests_equal_ipvsadm() {
    assert_eq!(
        emit(Request::NewDaemon(&master42()), 0x5),
        DAEMON_MASTER_NEW_DAEMON_REQ
    );
    assert_eq!(
        emit(Request::NewDaemon(&backup42()), 0x5),
        DAEMON_BACKUP_NEW_DAEMON_REQ
    );
    assert_eq!(
        emit(Request::NewDaemon(&backup7_v6()), 0x5),
        DAEMON_BACKUP6_NEW_DAEMON_REQ
    );
    assert_eq!(
        emit(Request::DumpDaemons, 0x305),
        LIST_DAEMONS_GET_DAEMON_REQ
    );
    assert_eq!(
        emit(Request::DumpDaemons, 0x305),
        LIST_DAEMONS6_GET_DAEMON_REQ
    );
    // DEL_DAEMON: the kernel reads the state only; ipvsadm adds an empty interface and id 0.
    for (state, theirs) in [
        (SyncState::Master, STOP_MASTER_DEL_DAEMON_REQ),
        (SyncState::Backup, STOP_BACKUP_DEL_DAEMON_REQ),
        (SyncState::Backup, STOP_BACKUP6_DEL_DAEMON_REQ),
    ] {
        let ours = emit(Request::DelDaemon(state), 0x5);
        assert_eq!(&ours[..4], &theirs[..4]);
        let attrs = nest_attrs(&ours, IPVS_CMD_ATTR_DAEMON);
        assert_eq!(
            attrs.iter().map(|a| a.0).collect::<Vec<_>>(),
            vec![IPVS_DAEMON_ATTR_STATE]
        );
        assert_subset(
            &attrs,
            &nest_attrs(theirs, IPVS_CMD_ATTR_DAEMON),
            "DEL_DAEMON",
        );
    }
}

/// `ipvsadm -L --daemon` after starting them: every value as the kernel fills it in, which is
/// what [`SyncDaemon::effective`] predicts.
#[test]
fn daemon_dump_parses_to_what_was_started() {
    let mut got: Vec<SyncDaemon> = [
        LIST_DAEMONS_NEW_DAEMON_REPLY1,
        LIST_DAEMONS_NEW_DAEMON_REPLY2,
    ]
    .iter()
    .map(|b| parse_daemon(b).unwrap())
    .collect();
    got.sort_by_key(|d| d.state);
    assert_eq!(
        got,
        vec![master42().effective(1500), backup42().effective(1500)]
    );
    assert_eq!(
        got[0].to_string(),
        "master sync daemon (mcast=sync0, syncid=42, maxlen=1472, group=224.0.0.81, port=8848, \
         ttl=1)"
    );
    assert_eq!(
        got[1].to_string(),
        "backup sync daemon (mcast=sync0, syncid=42, maxlen=1400, group=239.1.2.3, port=9000, \
         ttl=3)"
    );
    assert!(master42().differences(&got[0]).is_empty());
    assert!(backup42().differences(&got[1]).is_empty());
    let v6 = parse_daemon(LIST_DAEMONS6_NEW_DAEMON_REPLY).unwrap();
    assert_eq!(v6, backup7_v6().effective(1500));
    assert_eq!(v6.max_len, Some(1452), "1500 - IPv6 - UDP headers");
}

#[test]
fn malformed_daemons_are_named() {
    let change = |kind: u16, payload: Vec<u8>| {
        rebuild(
            LIST_DAEMONS_NEW_DAEMON_REPLY1,
            IPVS_CMD_ATTR_DAEMON,
            |k, p| {
                if k == kind {
                    if payload.is_empty() {
                        vec![]
                    } else {
                        vec![(k, payload.clone())]
                    }
                } else {
                    vec![(k, p.to_vec())]
                }
            },
        )
    };
    let err = |b: Vec<u8>| parse_daemon(&b).unwrap_err().to_string();
    assert_eq!(
        err(change(IPVS_DAEMON_ATTR_STATE, 3u32.to_ne_bytes().to_vec())),
        "sync daemon: state 3 is neither master (1) nor backup (2)"
    );
    assert_eq!(
        err(change(
            IPVS_DAEMON_ATTR_SYNC_ID,
            300u32.to_ne_bytes().to_vec()
        )),
        "sync daemon: sync id 300 is above 255"
    );
    assert_eq!(
        err(change(IPVS_DAEMON_ATTR_MCAST_IFN, vec![])),
        "sync daemon: no IPVS_DAEMON_ATTR_MCAST_IFN"
    );
    assert!(err(change(IPVS_DAEMON_ATTR_MCAST_GROUP, vec![1, 2, 3, 4, 5])).contains("5 bytes"));
    assert!(parse_daemon(INFO_SET_INFO_REPLY).is_err(), "wrong command");
    // Unknown attributes are skipped.
    let extra = rebuild(
        LIST_DAEMONS_NEW_DAEMON_REPLY1,
        IPVS_CMD_ATTR_DAEMON,
        |k, p| vec![(k, p.to_vec()), (99, vec![7; 3])],
    );
    assert_eq!(
        parse_daemon(&extra).unwrap(),
        parse_daemon(LIST_DAEMONS_NEW_DAEMON_REPLY1).unwrap()
    );
}

fn opts_key() -> ServiceKey {
    addr_key(Protocol::Tcp, "192.0.2.70", 80)
}

/// `-A -t 192.0.2.70:80 -s sh -b sh-fallback,sh-port -p 300 -M 255.255.255.0`.
fn opts_added() -> Service {
    Service {
        flags: IP_VS_SVC_F_PERSISTENT | SchedFlag::ShFallback.bit() | SchedFlag::ShPort.bit(),
        timeout: 300,
        netmask: Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)),
        ..Service::new(opts_key(), "sh")
    }
}

/// `-E … -s sh -b sh-port -p 600 -M 255.255.0.0`.
fn opts_edited() -> Service {
    Service {
        flags: IP_VS_SVC_F_PERSISTENT | SchedFlag::ShPort.bit(),
        timeout: 600,
        netmask: Netmask::V4(Ipv4Addr::new(255, 255, 0, 0)),
        ..Service::new(opts_key(), "sh")
    }
}

/// `-A -t [2001:db8::70]:80 -s mh -b mh-fallback,mh-port -p 300 -M 64`.
fn opts6() -> Service {
    Service {
        flags: IP_VS_SVC_F_PERSISTENT | SchedFlag::MhFallback.bit() | SchedFlag::MhPort.bit(),
        timeout: 300,
        netmask: Netmask::V6(64),
        ..Service::new(addr_key(Protocol::Tcp, "2001:db8::70", 80), "mh")
    }
}

/// `-A -f 9 -s rr -o`.
fn ops_fwmark() -> Service {
    Service {
        flags: IP_VS_SVC_F_ONEPACKET,
        ..Service::new(fwmark(Family::V4, 9), "rr")
    }
}

#[test]
fn service_option_requests_equal_ipvsadm() {
    assert_eq!(
        emit(Request::NewService(&opts_added()), 0x5),
        ADD_OPTS_NEW_SERVICE_REQ
    );
    assert_eq!(
        emit(Request::SetService(&opts_edited()), 0x5),
        EDIT_OPTS_SET_SERVICE_REQ,
        "edit in place carries flags, timeout and netmask"
    );
    assert_eq!(
        emit(Request::NewService(&opts6()), 0x5),
        ADD_OPTS6_NEW_SERVICE_REQ
    );
    assert_eq!(
        emit(Request::NewService(&ops_fwmark()), 0x5),
        ADD_OPS_FWMARK_NEW_SERVICE_REQ
    );
    // Thresholds on add and on edit in place: the dest nest is ipvsadm's, byte for byte.
    let added = dest("198.51.100.70", 80, Forward::Dr, 5, 100, 10);
    let edited = dest("198.51.100.70", 80, Forward::Dr, 5, 200, 50);
    let key = opts_key();
    for (req, theirs) in [
        (Request::NewDest(&key, &added), ADD_OPTS_DEST_NEW_DEST_REQ),
        (Request::SetDest(&key, &edited), EDIT_OPTS_DEST_SET_DEST_REQ),
    ] {
        let ours = emit(req, 0x5);
        assert_eq!(&ours[..4], &theirs[..4]);
        assert_eq!(
            nest_bytes(&ours, IPVS_CMD_ATTR_DEST),
            nest_bytes(theirs, IPVS_CMD_ATTR_DEST),
            "{req:?}"
        );
        assert_subset(
            &nest_attrs(&ours, IPVS_CMD_ATTR_SERVICE),
            &nest_attrs(theirs, IPVS_CMD_ATTR_SERVICE),
            "service nest",
        );
    }
}

/// `ipvsadm -Ln -t|-f …` asks for one service (GET_SERVICE without NLM_F_DUMP, the full
/// service nest with empty values) and then its destinations; we ask with the identifying
/// attributes only, and for the destinations exactly as ipvsadm does.
#[test]
fn single_service_requests_match_ipvsadm() {
    for (svc, get, dests) in [
        (
            opts_edited(),
            LIST_OPTS_GET_SERVICE_REQ,
            LIST_OPTS_GET_DEST_REQ,
        ),
        (opts6(), LIST_OPTS6_GET_SERVICE_REQ, LIST_OPTS6_GET_DEST_REQ),
        (
            ops_fwmark(),
            LIST_OPS_FWMARK_GET_SERVICE_REQ,
            LIST_OPS_FWMARK_GET_DEST_REQ,
        ),
    ] {
        let ours = emit(Request::GetService(&svc.key), 0x5);
        assert_eq!(&ours[..4], &get[..4]);
        assert_subset(
            &nest_attrs(&ours, IPVS_CMD_ATTR_SERVICE),
            &nest_attrs(get, IPVS_CMD_ATTR_SERVICE),
            "GET_SERVICE",
        );
        assert_eq!(emit(Request::DumpDests(&svc.key), 0x305), dests);
    }
}

#[test]
fn service_options_parse_from_the_kernel() {
    let got = parse_service(LIST_OPTS_NEW_SERVICE_REPLY).unwrap().unwrap();
    assert_eq!(got, opts_edited());
    assert_eq!(
        got.sched_flags(),
        vec![SchedFlag::ShPort],
        "sh-fallback was cleared"
    );
    let got6 = parse_service(LIST_OPTS6_NEW_SERVICE_REPLY)
        .unwrap()
        .unwrap();
    assert_eq!(got6, opts6());
    assert_eq!(
        got6.sched_flags(),
        vec![SchedFlag::MhFallback, SchedFlag::MhPort]
    );
    assert_eq!(
        parse_service(LIST_OPS_FWMARK_NEW_SERVICE_REPLY).unwrap(),
        Some(ops_fwmark())
    );
    assert_eq!(
        parse_dest(LIST_OPTS_NEW_DEST_REPLY, Family::V4)
            .unwrap()
            .dest,
        dest("198.51.100.70", 80, Forward::Dr, 5, 200, 50)
    );
    // A netmask attribute of the wrong size, or an IPv6 one that is no prefix length.
    let bad = rebuild(
        LIST_OPTS6_NEW_SERVICE_REPLY,
        IPVS_CMD_ATTR_SERVICE,
        |k, p| {
            if k == IPVS_SVC_ATTR_NETMASK {
                vec![(k, 300u32.to_ne_bytes().to_vec())]
            } else {
                vec![(k, p.to_vec())]
            }
        },
    );
    let err = parse_service(&bad).unwrap_err().to_string();
    assert!(err.contains("IPv6 netmask 300"), "{err}");
    let none = rebuild(
        LIST_OPTS_NEW_SERVICE_REPLY,
        IPVS_CMD_ATTR_SERVICE,
        |k, p| {
            if k == IPVS_SVC_ATTR_NETMASK {
                vec![]
            } else {
                vec![(k, p.to_vec())]
            }
        },
    );
    let err = parse_service(&none).unwrap_err().to_string();
    assert!(err.contains("no netmask"), "{err}");
}

#[test]
fn new_values_the_kernel_would_refuse_or_change_are_caught_first() {
    let reason = |r: Request| r.encode(FAMILY).unwrap_err().reason;
    let wrong_family = Service {
        netmask: Netmask::V6(64),
        ..opts_added()
    };
    assert!(reason(Request::NewService(&wrong_family)).contains("is for IPv6"));
    let zero_prefix = Service {
        netmask: Netmask::V6(0),
        ..opts6()
    };
    assert!(reason(Request::SetService(&zero_prefix)).contains("between 1 and 128"));
    let mut d = master42();
    d.group = Some("192.0.2.1".parse().unwrap());
    assert!(reason(Request::NewDaemon(&d)).contains("not a multicast address"));
    let long = SyncDaemon::new(SyncState::Backup, "sixteen-chars-xx", 1);
    assert!(reason(Request::NewDaemon(&long)).contains("not an interface name"));
    let t = Timeouts {
        tcp: Timeouts::MAX_SECONDS + 1,
        tcp_fin: 0,
        udp: 0,
    };
    assert!(reason(Request::SetConfig(&t)).contains("tcp timeout"));
}
