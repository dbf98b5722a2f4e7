//! Captures what ipvsadm and the kernel exchange over generic netlink and renders it as the
//! annotated Rust source of `src/ipvs/netlink/fixtures.rs` (the codec's golden bytes).
//!
//! How: an `nlmon` device taps every netlink message of the namespace; an `AF_PACKET` socket on
//! it reads them while ipvsadm runs the steps below one by one. Only message *bodies* are kept
//! (generic netlink header + attributes): the netlink header holds a sequence number, a port id
//! and the dynamic family id, which change from run to run; the header flags go into the doc
//! comment. The rendered text must equal the committed file; otherwise the new text is written
//! to `$BB_VM_OUT/fixtures.rs` (visible on the host after `tests/vm/run`) and the test fails,
//! so fixtures are captured once, reviewed, committed — and stay true.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use big_brother::ipvs::netlink::attr::Attrs;
use big_brother::ipvs::netlink::codec::*;
use big_brother::ipvs::netlink::family::GENL_ID_CTRL;
use big_brother::ipvs::netlink::message::{split, NLM_F_REQUEST};
use big_brother::ipvs::netlink::Netlink;

use super::{ipvsadm, sh};

/// (constant-name prefix, ipvsadm arguments). Only the first step keeps the family lookup and
/// GET_INFO that ipvsadm repeats before every command.
const STEPS: &[(&str, &str)] = &[
    ("INFO", "-Ln"),
    ("ADD_FWMARK", "-A -f 7 -s wlc"),
    ("ADD_FWMARK_DEST", "-a -f 7 -r 192.0.2.1 -i -w 100"),
    ("EDIT_FWMARK_DEST", "-e -f 7 -r 192.0.2.1 -i -w 50"),
    ("ADD_TCP4", "-A -t 192.0.2.10:80 -s rr"),
    (
        "ADD_TCP4_DEST",
        "-a -t 192.0.2.10:80 -r 198.51.100.1:8080 -m -w 1",
    ),
    ("EDIT_TCP4", "-E -t 192.0.2.10:80 -s wlc -p 300"),
    ("ADD_TCP6", "-A -t [2001:db8::10]:443 -s wlc -p 300"),
    (
        "ADD_TCP6_DEST",
        "-a -t [2001:db8::10]:443 -r [2001:db8::1]:8443 -g -w 5 -x 100 -y 10",
    ),
    ("ADD_UDP4", "-A -u 198.51.100.53:53 -s rr -o"),
    ("ADD_FWMARK6", "-A -f 8 -6 -s sh"),
    ("ADD_FWMARK6_DEST", "-a -f 8 -6 -r 2001:db8::2 -i -w 0"),
    ("LIST", "-Ln"),
    ("DEL_FWMARK_DEST", "-d -f 7 -r 192.0.2.1"),
    ("DEL_FWMARK", "-D -f 7"),
    // Namespace-wide timeouts: all three, then 0s that keep two of them.
    ("TIMEOUTS", "--set 100 20 30"),
    ("TIMEOUTS_KEEP", "--set 0 60 0"),
    ("LIST_TIMEOUTS", "-L --timeout"),
    // Sync daemons on SYNC_IF: the defaults, every optional attribute, an IPv6 group.
    (
        "DAEMON_MASTER",
        "--start-daemon master --mcast-interface sync0 --syncid 42",
    ),
    (
        "DAEMON_BACKUP",
        "--start-daemon backup --mcast-interface sync0 --syncid 42 --sync-maxlen 1400 \
         --mcast-group 239.1.2.3 --mcast-port 9000 --mcast-ttl 3",
    ),
    ("LIST_DAEMONS", "-L --daemon"),
    ("STOP_MASTER", "--stop-daemon master"),
    ("STOP_BACKUP", "--stop-daemon backup"),
    (
        "DAEMON_BACKUP6",
        "--start-daemon backup --mcast-interface sync0 --syncid 7 --mcast-group ff02::1:3",
    ),
    ("LIST_DAEMONS6", "-L --daemon"),
    ("STOP_BACKUP6", "--stop-daemon backup"),
    // Service options: persistence netmask, scheduler flags, one-packet, thresholds; edited in
    // place; read back one service at a time (GET_SERVICE without NLM_F_DUMP).
    (
        "ADD_OPTS",
        "-A -t 192.0.2.70:80 -s sh -b sh-fallback,sh-port -p 300 -M 255.255.255.0",
    ),
    (
        "ADD_OPTS_DEST",
        "-a -t 192.0.2.70:80 -r 198.51.100.70:80 -g -w 5 -x 100 -y 10",
    ),
    (
        "EDIT_OPTS",
        "-E -t 192.0.2.70:80 -s sh -b sh-port -p 600 -M 255.255.0.0",
    ),
    (
        "EDIT_OPTS_DEST",
        "-e -t 192.0.2.70:80 -r 198.51.100.70:80 -g -w 5 -x 200 -y 50",
    ),
    ("LIST_OPTS", "-Ln -t 192.0.2.70:80"),
    (
        "ADD_OPTS6",
        "-A -t [2001:db8::70]:80 -s mh -b mh-fallback,mh-port -p 300 -M 64",
    ),
    ("LIST_OPTS6", "-Ln -t [2001:db8::70]:80"),
    ("ADD_OPS_FWMARK", "-A -f 9 -s rr -o"),
    ("LIST_OPS_FWMARK", "-Ln -f 9"),
];

/// The sync daemons' interface: a dummy link with an IPv4 address and multicast on.
const SYNC_IF: &str = "sync0";

const FIXTURES: &str = "src/ipvs/netlink/fixtures.rs";

pub fn check() {
    let family = Netlink::open().expect("open IPVS netlink").family_id();
    sh(&["ip", "link", "add", "nlmon0", "type", "nlmon"]);
    sh(&["ip", "link", "set", "nlmon0", "up"]);
    sh(&["ip", "link", "add", SYNC_IF, "type", "dummy"]);
    sh(&["ip", "link", "set", SYNC_IF, "multicast", "on", "up"]);
    sh(&["ip", "addr", "add", "192.0.2.200/24", "dev", SYNC_IF]);
    let tap = Tap::open("nlmon0").expect("AF_PACKET socket on nlmon0");
    tap.drain(); // anything before the first step

    let mut out = header();
    for (prefix, args) in STEPS {
        ipvsadm(args);
        let mut seen: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
        let mut named: Vec<(String, u16, Vec<u8>)> = Vec::new();
        for packet in tap.drain() {
            for part in split(&packet) {
                let (h, body) = part.expect("nlmon delivers whole messages");
                let is_ctrl = h.kind == GENL_ID_CTRL;
                if h.kind != family && !is_ctrl {
                    continue; // acks, errors, other families
                }
                let cmd = body.first().copied().unwrap_or(0);
                let preamble = is_ctrl || matches!(cmd, IPVS_CMD_GET_INFO | IPVS_CMD_SET_INFO);
                if preamble && *prefix != "INFO" {
                    continue;
                }
                let dir = if h.flags & NLM_F_REQUEST != 0 {
                    "REQ"
                } else {
                    "REPLY"
                };
                let base = format!("{prefix}_{}_{dir}", cmd_name(is_ctrl, cmd));
                let bodies = seen.entry(base.clone()).or_default();
                if bodies.iter().any(|b| b == body) {
                    continue; // ipvsadm repeats the lookup on each of its sockets
                }
                bodies.push(body.to_vec());
                named.push((base, h.flags, body.to_vec()));
            }
        }
        // Dump order follows kernel hash buckets, which mix in the namespace's address: group by
        // name in order of first appearance, sort each group's bodies, number groups of several.
        let mut order: Vec<String> = Vec::new();
        for (base, _, _) in &named {
            if !order.contains(base) {
                order.push(base.clone());
            }
        }
        for base in order {
            let mut group: Vec<(u16, Vec<u8>)> = named
                .iter()
                .filter(|(b, _, _)| *b == base)
                .map(|(_, f, body)| (*f, body.clone()))
                .collect();
            group.sort_by(|a, b| a.1.cmp(&b.1));
            let several = group.len() > 1;
            for (i, (flags, body)) in group.iter().enumerate() {
                let name = if several {
                    format!("{base}{}", i + 1)
                } else {
                    base.clone()
                };
                render(&mut out, &name, args, *flags, body);
            }
        }
    }

    let path = crate::util::repo().join(FIXTURES);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != out {
        let hint = match std::env::var("BB_VM_OUT") {
            Ok(dir) => {
                let p = std::path::Path::new(&dir).join("fixtures.rs");
                std::fs::write(&p, &out).expect("write new fixtures");
                format!("the captured version is in {}", p.display())
            }
            Err(_) => "set BB_VM_OUT to get the captured version".to_string(),
        };
        panic!(
            "{FIXTURES} differs from what ipvsadm and this kernel exchange now; {hint}. \
             Review the difference and commit it if the change is expected."
        );
    }
}

fn header() -> String {
    let uname = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let major_minor: Vec<&str> = uname.trim().split('.').take(2).collect();
    let ipvsadm_version = ipvsadm("--version");
    format!(
        "//! Golden bytes for the IPVS codec, captured from the real kernel: message bodies (generic\n\
         //! netlink header + attributes) exchanged by ipvsadm and Linux {} in the kernel-tier VM,\n\
         //! tapped with an `nlmon` device. Requests are ipvsadm's, replies the kernel's; the ipvsadm\n\
         //! command that produced each is in its doc comment, the bytes are annotated per attribute.\n\
         //! ipvsadm: `{}`.\n\
         //!\n\
         //! GENERATED by `tests/ipvs_kernel/fixture_gen.rs`: the kernel tier checks that this file\n\
         //! still matches and, on a difference, writes the new version to `$BB_VM_OUT/fixtures.rs`.\n\
         //! Do not edit by hand.\n\
         \n\
         #![allow(dead_code)]\n",
        major_minor.join("."),
        ipvsadm_version.trim(),
    )
}

fn cmd_name(ctrl: bool, cmd: u8) -> &'static str {
    if ctrl {
        return match cmd {
            1 => "CTRL_NEWFAMILY",
            3 => "CTRL_GETFAMILY",
            _ => "CTRL_OTHER",
        };
    }
    match cmd {
        IPVS_CMD_NEW_SERVICE => "NEW_SERVICE",
        IPVS_CMD_SET_SERVICE => "SET_SERVICE",
        IPVS_CMD_DEL_SERVICE => "DEL_SERVICE",
        IPVS_CMD_GET_SERVICE => "GET_SERVICE",
        IPVS_CMD_NEW_DEST => "NEW_DEST",
        IPVS_CMD_SET_DEST => "SET_DEST",
        IPVS_CMD_DEL_DEST => "DEL_DEST",
        IPVS_CMD_GET_DEST => "GET_DEST",
        IPVS_CMD_NEW_DAEMON => "NEW_DAEMON",
        IPVS_CMD_DEL_DAEMON => "DEL_DAEMON",
        IPVS_CMD_GET_DAEMON => "GET_DAEMON",
        IPVS_CMD_SET_CONFIG => "SET_CONFIG",
        IPVS_CMD_GET_CONFIG => "GET_CONFIG",
        IPVS_CMD_SET_INFO => "SET_INFO",
        IPVS_CMD_GET_INFO => "GET_INFO",
        _ => "OTHER",
    }
}

/// Where an attribute sits, to name it.
#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Ctrl,
    Info,
    Cmd,
    Svc,
    Dest,
    Daemon,
    Stats,
    Opaque,
}

fn attr_name(ctx: Ctx, kind: u16) -> (&'static str, Ctx) {
    use Ctx::*;
    let (name, inner) = match (ctx, kind) {
        (Ctrl, 1) => ("CTRL_ATTR_FAMILY_ID", Opaque),
        (Ctrl, 2) => ("CTRL_ATTR_FAMILY_NAME", Opaque),
        (Ctrl, 3) => ("CTRL_ATTR_VERSION", Opaque),
        (Ctrl, 4) => ("CTRL_ATTR_HDRSIZE", Opaque),
        (Ctrl, 5) => ("CTRL_ATTR_MAXATTR", Opaque),
        (Ctrl, 6) => ("CTRL_ATTR_OPS", Opaque),
        (Ctrl, 7) => ("CTRL_ATTR_MCAST_GROUPS", Opaque),
        (Info, 1) => ("IPVS_INFO_ATTR_VERSION", Opaque),
        (Info, 2) => ("IPVS_INFO_ATTR_CONN_TAB_SIZE", Opaque),
        (Cmd, 1) => ("IPVS_CMD_ATTR_SERVICE", Svc),
        (Cmd, 2) => ("IPVS_CMD_ATTR_DEST", Dest),
        (Cmd, 3) => ("IPVS_CMD_ATTR_DAEMON", Daemon),
        (Cmd, 4) => ("IPVS_CMD_ATTR_TIMEOUT_TCP", Opaque),
        (Cmd, 5) => ("IPVS_CMD_ATTR_TIMEOUT_TCP_FIN", Opaque),
        (Cmd, 6) => ("IPVS_CMD_ATTR_TIMEOUT_UDP", Opaque),
        (Daemon, 1) => ("IPVS_DAEMON_ATTR_STATE", Opaque),
        (Daemon, 2) => ("IPVS_DAEMON_ATTR_MCAST_IFN", Opaque),
        (Daemon, 3) => ("IPVS_DAEMON_ATTR_SYNC_ID", Opaque),
        (Daemon, 4) => ("IPVS_DAEMON_ATTR_SYNC_MAXLEN", Opaque),
        (Daemon, 5) => ("IPVS_DAEMON_ATTR_MCAST_GROUP", Opaque),
        (Daemon, 6) => ("IPVS_DAEMON_ATTR_MCAST_GROUP6", Opaque),
        (Daemon, 7) => ("IPVS_DAEMON_ATTR_MCAST_PORT", Opaque),
        (Daemon, 8) => ("IPVS_DAEMON_ATTR_MCAST_TTL", Opaque),
        (Svc, 1) => ("IPVS_SVC_ATTR_AF", Opaque),
        (Svc, 2) => ("IPVS_SVC_ATTR_PROTOCOL", Opaque),
        (Svc, 3) => ("IPVS_SVC_ATTR_ADDR", Opaque),
        (Svc, 4) => ("IPVS_SVC_ATTR_PORT", Opaque),
        (Svc, 5) => ("IPVS_SVC_ATTR_FWMARK", Opaque),
        (Svc, 6) => ("IPVS_SVC_ATTR_SCHED_NAME", Opaque),
        (Svc, 7) => ("IPVS_SVC_ATTR_FLAGS", Opaque),
        (Svc, 8) => ("IPVS_SVC_ATTR_TIMEOUT", Opaque),
        (Svc, 9) => ("IPVS_SVC_ATTR_NETMASK", Opaque),
        (Svc, 10) => ("IPVS_SVC_ATTR_STATS", Stats),
        (Svc, 11) => ("IPVS_SVC_ATTR_PE_NAME", Opaque),
        (Svc, 12) => ("IPVS_SVC_ATTR_STATS64", Stats),
        (Dest, 1) => ("IPVS_DEST_ATTR_ADDR", Opaque),
        (Dest, 2) => ("IPVS_DEST_ATTR_PORT", Opaque),
        (Dest, 3) => ("IPVS_DEST_ATTR_FWD_METHOD", Opaque),
        (Dest, 4) => ("IPVS_DEST_ATTR_WEIGHT", Opaque),
        (Dest, 5) => ("IPVS_DEST_ATTR_U_THRESH", Opaque),
        (Dest, 6) => ("IPVS_DEST_ATTR_L_THRESH", Opaque),
        (Dest, 7) => ("IPVS_DEST_ATTR_ACTIVE_CONNS", Opaque),
        (Dest, 8) => ("IPVS_DEST_ATTR_INACT_CONNS", Opaque),
        (Dest, 9) => ("IPVS_DEST_ATTR_PERSIST_CONNS", Opaque),
        (Dest, 10) => ("IPVS_DEST_ATTR_STATS", Stats),
        (Dest, 11) => ("IPVS_DEST_ATTR_ADDR_FAMILY", Opaque),
        (Dest, 12) => ("IPVS_DEST_ATTR_STATS64", Stats),
        (Dest, 13) => ("IPVS_DEST_ATTR_TUN_TYPE", Opaque),
        (Dest, 14) => ("IPVS_DEST_ATTR_TUN_PORT", Opaque),
        (Dest, 15) => ("IPVS_DEST_ATTR_TUN_FLAGS", Opaque),
        (Stats, 1) => ("STATS_CONNS", Opaque),
        (Stats, 2) => ("STATS_INPKTS", Opaque),
        (Stats, 3) => ("STATS_OUTPKTS", Opaque),
        (Stats, 4) => ("STATS_INBYTES", Opaque),
        (Stats, 5) => ("STATS_OUTBYTES", Opaque),
        (Stats, 6) => ("STATS_CPS", Opaque),
        (Stats, 7) => ("STATS_INPPS", Opaque),
        (Stats, 8) => ("STATS_OUTPPS", Opaque),
        (Stats, 9) => ("STATS_INBPS", Opaque),
        (Stats, 10) => ("STATS_OUTBPS", Opaque),
        (Stats, 11) => ("STATS_PAD", Opaque),
        _ => ("unknown", Opaque),
    };
    (name, inner)
}

/// A readable value for an attribute payload; `af` is the address family of the service nest
/// it sits in, if that says one.
fn value(name: &str, p: &[u8], af: Option<u16>) -> String {
    let ip = |p: &[u8], v6: bool| -> String {
        if v6 && p.len() == 16 {
            let mut b = [0u8; 16];
            b.copy_from_slice(p);
            std::net::Ipv6Addr::from(b).to_string()
        } else if p.len() >= 4 {
            std::net::Ipv4Addr::new(p[0], p[1], p[2], p[3]).to_string()
        } else {
            format!("{p:?}")
        }
    };
    if name.ends_with("_NAME") || name.ends_with("_IFN") {
        return format!("{:?}", String::from_utf8_lossy(p).trim_end_matches('\0'));
    }
    if name.ends_with("ADDR") {
        let v6 = p[4..].iter().any(|&b| b != 0);
        return ip(p, v6);
    }
    if name.ends_with("_GROUP") || name.ends_with("_GROUP6") {
        return ip(p, name.ends_with('6'));
    }
    if name == "IPVS_DAEMON_ATTR_MCAST_PORT" && p.len() == 2 {
        return format!("{} (host order)", u16::from_ne_bytes([p[0], p[1]]));
    }
    if name == "IPVS_DAEMON_ATTR_STATE" && p.len() == 4 {
        let state = u32::from_ne_bytes([p[0], p[1], p[2], p[3]]);
        let what = match state {
            IP_VS_STATE_MASTER => "master",
            IP_VS_STATE_BACKUP => "backup",
            _ => "unknown",
        };
        return format!("{state} ({what})");
    }
    if name == "IPVS_SVC_ATTR_NETMASK" && p.len() == 4 {
        // Raw be32: an IPv4 mask's octets, or an IPv6 prefix length in host order.
        return if af == Some(libc::AF_INET6 as u16) {
            let v = u32::from_ne_bytes([p[0], p[1], p[2], p[3]]);
            format!("{v} (prefix length)")
        } else {
            ip(p, false)
        };
    }
    if name.ends_with("_PORT") && p.len() == 2 {
        return format!("{} (big-endian)", u16::from_be_bytes([p[0], p[1]]));
    }
    if name.ends_with("_FLAGS") && p.len() == 8 {
        let f = u32::from_ne_bytes([p[0], p[1], p[2], p[3]]);
        let m = u32::from_ne_bytes([p[4], p[5], p[6], p[7]]);
        return format!("flags {f:#x} mask {m:#x}");
    }
    match p.len() {
        1 => p[0].to_string(),
        2 => u16::from_ne_bytes([p[0], p[1]]).to_string(),
        4 => {
            let v = u32::from_ne_bytes([p[0], p[1], p[2], p[3]]);
            if v > 0xffff {
                format!("{v:#x}")
            } else {
                v.to_string()
            }
        }
        8 => u64::from_ne_bytes([p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]]).to_string(),
        _ => format!("{} bytes", p.len()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("0x{b:02x},"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn render(out: &mut String, name: &str, args: &str, flags: u16, body: &[u8]) {
    let ctrl = name.contains("_CTRL_");
    let dir = if flags & NLM_F_REQUEST != 0 {
        "request, ipvsadm → kernel"
    } else {
        "reply, kernel → ipvsadm"
    };
    let _ = writeln!(out);
    let _ = writeln!(out, "/// `ipvsadm {args}`: {dir}; nlmsg flags {flags:#x}.");
    let _ = writeln!(out, "#[rustfmt::skip]");
    let _ = writeln!(out, "pub const {name}: &[u8] = &[");
    let cmd = body.first().copied().unwrap_or(0);
    let _ = writeln!(
        out,
        "    {} // genlmsghdr: cmd {cmd} {}, version {}",
        hex(&body[..body.len().min(4)]),
        cmd_name(ctrl, cmd),
        body.get(1).copied().unwrap_or(0)
    );
    let top = if ctrl {
        Ctx::Ctrl
    } else if matches!(cmd, IPVS_CMD_SET_INFO | IPVS_CMD_GET_INFO) {
        Ctx::Info
    } else {
        Ctx::Cmd
    };
    attrs(out, body.get(4..).unwrap_or_default(), top, 1);
    let _ = writeln!(out, "];");
}

fn attrs(out: &mut String, buf: &[u8], ctx: Ctx, depth: usize) {
    let indent = "    ".repeat(depth);
    let mut off = 0;
    let af = if ctx == Ctx::Svc {
        Attrs::new(buf)
            .filter_map(Result::ok)
            .find(|a| a.kind == IPVS_SVC_ATTR_AF)
            .and_then(|a| a.u16().ok())
    } else {
        None
    };
    for a in Attrs::new(buf) {
        let Ok(a) = a else {
            let _ = writeln!(out, "{indent}{} // malformed", hex(&buf[off..]));
            return;
        };
        let len = 4 + a.payload.len();
        let padded = (len + 3) & !3;
        let end = (off + padded).min(buf.len());
        let (name, inner) = attr_name(ctx, a.kind);
        let nested = inner != Ctx::Opaque || matches!((ctx, a.kind), (Ctx::Ctrl, 6 | 7));
        if nested {
            let _ = writeln!(
                out,
                "{indent}{} // nla len {len}, type {:#06x}: {name} (nested)",
                hex(&buf[off..off + 4]),
                u16::from_ne_bytes([buf[off + 2], buf[off + 3]])
            );
            if inner == Ctx::Opaque {
                for chunk in buf[off + 4..end].chunks(16) {
                    let _ = writeln!(out, "{indent}    {}", hex(chunk));
                }
            } else {
                attrs(out, &buf[off + 4..off + len], inner, depth + 1);
                if end > off + len {
                    let _ = writeln!(out, "{indent}{} // padding", hex(&buf[off + len..end]));
                }
            }
        } else {
            let pad = if end > off + len {
                format!(" (+{} pad)", end - off - len)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "{indent}{} // {name} = {}{pad}",
                hex(&buf[off..end]),
                value(name, a.payload, af)
            );
        }
        off = end;
    }
}

/// A packet socket on an nlmon device: every netlink message of the namespace, both directions.
struct Tap {
    fd: OwnedFd,
}

impl Tap {
    fn open(ifname: &str) -> io::Result<Tap> {
        let proto = (libc::ETH_P_ALL as u16).to_be();
        // SAFETY: plain socket(2) call; the result is checked.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                i32::from(proto),
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let cname = std::ffi::CString::new(ifname).expect("no NUL in ifname");
        // SAFETY: `cname` is a valid C string.
        let index = unsafe { libc::if_nametoindex(cname.as_ptr()) };
        if index == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: sockaddr_ll is plain old data; all-zero is valid.
        let mut sll: libc::sockaddr_ll = unsafe { mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = proto;
        sll.sll_ifindex = index as i32;
        // SAFETY: `sll` is a valid sockaddr_ll of the stated size.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                std::ptr::addr_of!(sll).cast(),
                mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        // Dump replies are tapped as whole 16-32 KiB skbs: give the queue room (as root).
        let size: i32 = 16 << 20;
        // SAFETY: `size` is a live i32 of the stated size.
        let rc = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUFFORCE,
                std::ptr::addr_of!(size).cast(),
                mem::size_of::<i32>() as u32,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        let tv = libc::timeval {
            tv_sec: 0,
            tv_usec: 200_000,
        };
        // SAFETY: `tv` is a live timeval of the stated size.
        let rc = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                std::ptr::addr_of!(tv).cast(),
                mem::size_of::<libc::timeval>() as u32,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Tap { fd })
    }

    /// Every packet queued now (the tap is fed synchronously, so a finished ipvsadm's traffic is
    /// all there); stops at the first 200 ms of silence or after 10 000 packets.
    fn drain(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 65536];
        for _ in 0..10_000 {
            // SAFETY: `buf` is valid for writes of its length.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                break; // timeout: drained
            }
            out.push(buf[..n as usize].to_vec());
        }
        assert_eq!(
            self.dropped(),
            0,
            "the nlmon tap dropped packets: fixtures would be partial"
        );
        out
    }

    /// Packets the kernel dropped for this socket since the last call (PACKET_STATISTICS).
    fn dropped(&self) -> u32 {
        let mut st = libc::tpacket_stats {
            tp_packets: 0,
            tp_drops: 0,
        };
        let mut len = mem::size_of::<libc::tpacket_stats>() as u32;
        // SAFETY: getsockopt writes at most `len` bytes into `st`, which is that large.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                std::ptr::addr_of_mut!(st).cast(),
                &mut len,
            )
        };
        assert_eq!(rc, 0, "PACKET_STATISTICS: {}", io::Error::last_os_error());
        st.tp_drops
    }
}
