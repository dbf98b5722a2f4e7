//! IPVS generic-netlink messages (`include/uapi/linux/ip_vs.h`, `net/netfilter/ipvs/ip_vs_ctl.c`):
//! the model's services, destinations, sync daemons and timeouts to bytes and back. Pure: no
//! socket, no errno.
//!
//! Encoding follows ipvsadm 1.31 attribute for attribute where both send the same thing, so the
//! fixtures captured from ipvsadm double as golden output (`fixtures.rs`). Where the kernel needs
//! less than ipvsadm sends, we send less: a service is *identified* by AF + fwmark, or AF +
//! protocol + address + port (DEL_SERVICE, GET_DEST and the service half of destination
//! commands), and a destination by AF + address + port (DEL_DEST).
//!
//! Byte orders (the kernel's `nla_get_*`): ports are big-endian (`be16`); fwmark, weight,
//! thresholds, timeouts and counters are host order; the netmask is read raw as `__be32`, so
//! IPv4 `255.255.255.255` is `ff ff ff ff` either way and an IPv6 prefix length is a host-order
//! u32 (128), exactly what ipvsadm writes. Addresses are always 16 bytes (`union nf_inet_addr`),
//! an IPv4 address in the first four. Sync daemons differ: the port is host order
//! (`nla_get_u16`), the IPv4 group a 4-byte `in_addr` and the IPv6 group its own attribute.
//! Timeouts are top-level u32 attributes, not nested.
//!
//! Decoding keeps going past attributes it does not know and never panics; what the model cannot
//! express is reported, not guessed: a dump entry for an SCTP service decodes to `None` (it is
//! not big_brother's), a destination with a forwarding method other than NAT/tunnel/DR is a
//! [`DecodeError`] naming it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::attr::{Attr, DecodeError, EncodeError, Writer};
use super::message::{genl_request, GenlMsg, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST};
use crate::ipvs::{
    Dest, DestEntry, DestStats, Family, Forward, Info, Netmask, Protocol, Service, ServiceKey,
    SyncDaemon, SyncState, Timeouts,
};

pub use super::ip_vs::*;

const AF_INET: u16 = libc::AF_INET as u16;
const AF_INET6: u16 = libc::AF_INET6 as u16;
const IPPROTO_TCP: u16 = libc::IPPROTO_TCP as u16;
const IPPROTO_UDP: u16 = libc::IPPROTO_UDP as u16;

/// One IPVS request, before a family id and sequence number are attached.
#[derive(Clone, Copy, Debug)]
pub enum Request<'a> {
    GetInfo,
    /// GET_SERVICE with NLM_F_DUMP: every service of the namespace.
    DumpServices,
    /// GET_SERVICE for one service (`ESRCH` when absent).
    GetService(&'a ServiceKey),
    NewService(&'a Service),
    SetService(&'a Service),
    DelService(&'a ServiceKey),
    /// GET_DEST (dump only): the destinations of one service.
    DumpDests(&'a ServiceKey),
    NewDest(&'a ServiceKey, &'a Dest),
    SetDest(&'a ServiceKey, &'a Dest),
    DelDest(&'a ServiceKey, IpAddr, u16),
    /// GET_DAEMON (dump only): the running sync daemons.
    DumpDaemons,
    NewDaemon(&'a SyncDaemon),
    /// DEL_DAEMON: stops the daemon of that state.
    DelDaemon(SyncState),
    /// GET_CONFIG: the namespace's timeouts.
    GetConfig,
    /// SET_CONFIG: all three timeouts, 0 keeping the current value.
    SetConfig(&'a Timeouts),
}

impl Request<'_> {
    pub fn cmd(&self) -> u8 {
        match self {
            Request::GetInfo => IPVS_CMD_GET_INFO,
            Request::DumpServices | Request::GetService(_) => IPVS_CMD_GET_SERVICE,
            Request::NewService(_) => IPVS_CMD_NEW_SERVICE,
            Request::SetService(_) => IPVS_CMD_SET_SERVICE,
            Request::DelService(_) => IPVS_CMD_DEL_SERVICE,
            Request::DumpDests(_) => IPVS_CMD_GET_DEST,
            Request::NewDest(..) => IPVS_CMD_NEW_DEST,
            Request::SetDest(..) => IPVS_CMD_SET_DEST,
            Request::DelDest(..) => IPVS_CMD_DEL_DEST,
            Request::DumpDaemons => IPVS_CMD_GET_DAEMON,
            Request::NewDaemon(_) => IPVS_CMD_NEW_DAEMON,
            Request::DelDaemon(_) => IPVS_CMD_DEL_DAEMON,
            Request::GetConfig => IPVS_CMD_GET_CONFIG,
            Request::SetConfig(_) => IPVS_CMD_SET_CONFIG,
        }
    }

    pub fn is_dump(&self) -> bool {
        matches!(
            self,
            Request::DumpServices | Request::DumpDests(_) | Request::DumpDaemons
        )
    }

    /// The whole netlink message for IPVS family id `family`. Values the kernel would reject
    /// with a bare `EINVAL`/`ERANGE` are caught here with a reason instead.
    pub fn encode(&self, family: u16) -> Result<Vec<u8>, EncodeError> {
        self.check()?;
        // ipvsadm sets NLM_F_ACK on dumps too; the kernel never acks a dump (it ends in DONE).
        let flags = NLM_F_REQUEST | NLM_F_ACK | if self.is_dump() { NLM_F_DUMP } else { 0 };
        genl_request(
            family,
            flags,
            self.cmd(),
            IPVS_GENL_VERSION,
            |w| match self {
                Request::GetInfo
                | Request::DumpServices
                | Request::DumpDaemons
                | Request::GetConfig => {}
                Request::GetService(key) | Request::DelService(key) | Request::DumpDests(key) => {
                    service_key_nest(w, key);
                }
                Request::NewService(svc) | Request::SetService(svc) => service_nest(w, svc),
                Request::NewDest(key, dest) | Request::SetDest(key, dest) => {
                    service_key_nest(w, key);
                    dest_nest(w, dest);
                }
                Request::DelDest(key, addr, port) => {
                    service_key_nest(w, key);
                    w.nest(IPVS_CMD_ATTR_DEST, |w| {
                        w.u16(IPVS_DEST_ATTR_ADDR_FAMILY, af(Family::of(addr)))
                            .bytes(IPVS_DEST_ATTR_ADDR, &addr16(addr))
                            .be16(IPVS_DEST_ATTR_PORT, *port);
                    });
                }
                Request::NewDaemon(d) => daemon_nest(w, d),
                Request::DelDaemon(state) => {
                    w.nest(IPVS_CMD_ATTR_DAEMON, |w| {
                        w.u32(IPVS_DAEMON_ATTR_STATE, state.code());
                    });
                }
                Request::SetConfig(t) => {
                    w.u32(IPVS_CMD_ATTR_TIMEOUT_TCP, t.tcp)
                        .u32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, t.tcp_fin)
                        .u32(IPVS_CMD_ATTR_TIMEOUT_UDP, t.udp);
                }
            },
        )
    }

    /// What [`Request::encode`] checks before building anything: values the kernel would
    /// refuse, or silently change. The in-memory backend applies the same checks.
    pub fn check(&self) -> Result<(), EncodeError> {
        let invalid = |reason: String| Err(EncodeError { reason });
        let key = match self {
            Request::GetInfo
            | Request::DumpServices
            | Request::DumpDaemons
            | Request::NewDaemon(_)
            | Request::DelDaemon(_)
            | Request::GetConfig
            | Request::SetConfig(_) => None,
            Request::GetService(k)
            | Request::DelService(k)
            | Request::DumpDests(k)
            | Request::NewDest(k, _)
            | Request::SetDest(k, _)
            | Request::DelDest(k, ..) => Some(*k),
            Request::NewService(svc) | Request::SetService(svc) => Some(&svc.key),
        };
        if let Some(ServiceKey::Fwmark { mark: 0, .. }) = key {
            return invalid("fwmark 0 does not identify a service".into());
        }
        match self {
            Request::NewService(svc) | Request::SetService(svc) => {
                let s = &svc.scheduler;
                if s.is_empty() || s.len() >= IP_VS_SCHEDNAME_MAXLEN || s.contains('\0') {
                    return invalid(format!(
                        "scheduler name {s:?} must be 1 to {} characters",
                        IP_VS_SCHEDNAME_MAXLEN - 1
                    ));
                }
                svc.netmask.check(svc.key.family()).or_else(invalid)?;
            }
            Request::NewDest(_, d) | Request::SetDest(_, d) => {
                if i32::try_from(d.weight).is_err() {
                    return invalid(format!("weight {} exceeds {}", d.weight, i32::MAX));
                }
                if d.lower_threshold > d.upper_threshold {
                    return invalid(format!(
                        "lower threshold {} is above upper threshold {} (the kernel refuses it)",
                        d.lower_threshold, d.upper_threshold
                    ));
                }
            }
            Request::NewDaemon(d) => d.check().or_else(invalid)?,
            Request::SetConfig(t) => t.check().or_else(invalid)?,
            _ => {}
        }
        Ok(())
    }
}

fn af(f: Family) -> u16 {
    match f {
        Family::V4 => AF_INET,
        Family::V6 => AF_INET6,
    }
}

fn proto(p: Protocol) -> u16 {
    match p {
        Protocol::Tcp => IPPROTO_TCP,
        Protocol::Udp => IPPROTO_UDP,
    }
}

/// `union nf_inet_addr`: 16 bytes, an IPv4 address in the first four.
fn addr16(a: &IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(v4) => {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&v4.octets());
            b
        }
        IpAddr::V6(v6) => v6.octets(),
    }
}

fn forward_code(f: Forward) -> u32 {
    match f {
        Forward::Nat => IP_VS_CONN_F_MASQ,
        Forward::Ipip => IP_VS_CONN_F_TUNNEL,
        Forward::Dr => IP_VS_CONN_F_DROUTE,
    }
}

/// Identifying attributes only, in ipvsadm's order.
fn service_key_attrs(w: &mut Writer, key: &ServiceKey) {
    w.u16(IPVS_SVC_ATTR_AF, af(key.family()));
    match key {
        ServiceKey::Fwmark { mark, .. } => {
            w.u32(IPVS_SVC_ATTR_FWMARK, *mark);
        }
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => {
            w.u16(IPVS_SVC_ATTR_PROTOCOL, proto(*protocol))
                .bytes(IPVS_SVC_ATTR_ADDR, &addr16(addr))
                .be16(IPVS_SVC_ATTR_PORT, *port);
        }
    }
}

fn service_key_nest(w: &mut Writer, key: &ServiceKey) {
    w.nest(IPVS_CMD_ATTR_SERVICE, |w| service_key_attrs(w, key));
}

/// The full service, as NEW_SERVICE / SET_SERVICE require (scheduler, flags, timeout, netmask).
fn service_nest(w: &mut Writer, svc: &Service) {
    w.nest(IPVS_CMD_ATTR_SERVICE, |w| {
        service_key_attrs(w, &svc.key);
        let mut flags = [0u8; 8];
        flags[..4].copy_from_slice(&svc.flags.to_ne_bytes());
        // Mask: every flag as given, so an edit also clears what is not set.
        flags[4..].copy_from_slice(&u32::MAX.to_ne_bytes());
        w.string(IPVS_SVC_ATTR_SCHED_NAME, &svc.scheduler)
            .bytes(IPVS_SVC_ATTR_FLAGS, &flags)
            .u32(IPVS_SVC_ATTR_TIMEOUT, svc.timeout)
            .bytes(IPVS_SVC_ATTR_NETMASK, &netmask_bytes(&svc.netmask));
    });
}

/// `nla_get_be32` of the netmask: an IPv4 mask is its four octets, an IPv6 prefix length the
/// host-order u32 ipvsadm writes (the kernel compares the raw value with 1..=128).
fn netmask_bytes(m: &Netmask) -> [u8; 4] {
    match m {
        Netmask::V4(mask) => mask.octets(),
        Netmask::V6(len) => u32::from(*len).to_ne_bytes(),
    }
}

fn netmask_from(family: Family, a: &Attr) -> Result<Netmask, DecodeError> {
    let raw: [u8; 4] = a.payload.try_into().map_err(|_| {
        DecodeError::new(format!("netmask has {} bytes, expected 4", a.payload.len()))
    })?;
    Ok(match family {
        Family::V4 => Netmask::V4(Ipv4Addr::from(raw)),
        Family::V6 => {
            let len = u32::from_ne_bytes(raw);
            Netmask::V6(u8::try_from(len).map_err(|_| {
                DecodeError::new(format!("IPv6 netmask {len} is not a prefix length"))
            })?)
        }
    })
}

/// NEW_DAEMON, attribute for attribute as ipvsadm sends it: the optional ones only when set.
fn daemon_nest(w: &mut Writer, d: &SyncDaemon) {
    w.nest(IPVS_CMD_ATTR_DAEMON, |w| {
        w.u32(IPVS_DAEMON_ATTR_STATE, d.state.code())
            .string(IPVS_DAEMON_ATTR_MCAST_IFN, &d.interface)
            .u32(IPVS_DAEMON_ATTR_SYNC_ID, u32::from(d.sync_id));
        if let Some(len) = d.max_len {
            w.u16(IPVS_DAEMON_ATTR_SYNC_MAXLEN, len);
        }
        if let Some(port) = d.port {
            w.u16(IPVS_DAEMON_ATTR_MCAST_PORT, port);
        }
        if let Some(ttl) = d.ttl {
            w.u8(IPVS_DAEMON_ATTR_MCAST_TTL, ttl);
        }
        match d.group {
            Some(IpAddr::V4(g)) => {
                w.bytes(IPVS_DAEMON_ATTR_MCAST_GROUP, &g.octets());
            }
            Some(IpAddr::V6(g)) => {
                w.bytes(IPVS_DAEMON_ATTR_MCAST_GROUP6, &g.octets());
            }
            None => {}
        }
    });
}

/// The full destination, as NEW_DEST / SET_DEST require. SET_DEST overwrites every field (there
/// is no partial update), tunnel fields included, so they are always sent: IPIP, no port/flags.
fn dest_nest(w: &mut Writer, d: &Dest) {
    w.nest(IPVS_CMD_ATTR_DEST, |w| {
        w.u16(IPVS_DEST_ATTR_ADDR_FAMILY, af(Family::of(&d.addr)))
            .bytes(IPVS_DEST_ATTR_ADDR, &addr16(&d.addr))
            .be16(IPVS_DEST_ATTR_PORT, d.port)
            .u32(IPVS_DEST_ATTR_FWD_METHOD, forward_code(d.forward))
            .u32(IPVS_DEST_ATTR_WEIGHT, d.weight)
            .u8(IPVS_DEST_ATTR_TUN_TYPE, 0)
            .be16(IPVS_DEST_ATTR_TUN_PORT, 0)
            .u16(IPVS_DEST_ATTR_TUN_FLAGS, 0)
            .u32(IPVS_DEST_ATTR_U_THRESH, d.upper_threshold)
            .u32(IPVS_DEST_ATTR_L_THRESH, d.lower_threshold);
    });
}

fn expect_cmd(msg: &GenlMsg, want: u8, what: &str) -> Result<(), DecodeError> {
    if msg.cmd == want {
        Ok(())
    } else {
        Err(DecodeError::new(format!(
            "{what} reply has command {}, expected {want}",
            msg.cmd
        )))
    }
}

/// The one nested attribute of kind `kind` at the top level of `msg`.
fn top_nest<'a>(msg: &GenlMsg<'a>, kind: u16, what: &str) -> Result<Attr<'a>, DecodeError> {
    for a in msg.attrs() {
        let a = a.map_err(|e| e.context(what))?;
        if a.kind == kind {
            return Ok(a);
        }
    }
    Err(DecodeError::new(format!(
        "{what}: no nested attribute {kind}"
    )))
}

fn family_from(code: u16, what: &str) -> Result<Family, DecodeError> {
    match code {
        AF_INET => Ok(Family::V4),
        AF_INET6 => Ok(Family::V6),
        other => Err(DecodeError::new(format!(
            "{what}: address family {other} is neither AF_INET nor AF_INET6"
        ))),
    }
}

fn addr_from(family: Family, a: &Attr, what: &str) -> Result<IpAddr, DecodeError> {
    let need = match family {
        Family::V4 => 4,
        Family::V6 => 16,
    };
    if a.payload.len() < need {
        return Err(DecodeError::new(format!(
            "{what}: address has {} bytes, expected at least {need}",
            a.payload.len()
        )));
    }
    let mut b = [0u8; 16];
    b[..need].copy_from_slice(&a.payload[..need]);
    Ok(match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])),
        Family::V6 => IpAddr::V6(Ipv6Addr::from(b)),
    })
}

/// GET_INFO's reply (command SET_INFO).
pub fn parse_info(body: &[u8]) -> Result<Info, DecodeError> {
    let msg = GenlMsg::parse(body)?;
    expect_cmd(&msg, IPVS_CMD_SET_INFO, "GET_INFO")?;
    let (mut version, mut size) = (None, None);
    for a in msg.attrs() {
        let a = a.map_err(|e| e.context("info"))?;
        match a.kind {
            IPVS_INFO_ATTR_VERSION => version = Some(a.u32().map_err(|e| e.context("version"))?),
            IPVS_INFO_ATTR_CONN_TAB_SIZE => {
                size = Some(a.u32().map_err(|e| e.context("conn_tab_size"))?)
            }
            _ => {}
        }
    }
    Ok(Info {
        version: version.ok_or_else(|| DecodeError::new("info: no IPVS_INFO_ATTR_VERSION"))?,
        conn_table_size: size
            .ok_or_else(|| DecodeError::new("info: no IPVS_INFO_ATTR_CONN_TAB_SIZE"))?,
    })
}

/// One service from a GET_SERVICE reply (command NEW_SERVICE). `Ok(None)`: a service the model
/// cannot express (SCTP), which big_brother never creates and leaves alone.
pub fn parse_service(body: &[u8]) -> Result<Option<Service>, DecodeError> {
    let msg = GenlMsg::parse(body)?;
    expect_cmd(&msg, IPVS_CMD_NEW_SERVICE, "GET_SERVICE")?;
    let nest = top_nest(&msg, IPVS_CMD_ATTR_SERVICE, "service")?;
    let ctx = |e: DecodeError| e.context("service");
    let mut af = None;
    let mut protocol = None;
    let mut addr = None;
    let mut port = None;
    let mut fwmark = None;
    let mut scheduler = None;
    let mut flags = None;
    let mut timeout = None;
    let mut netmask = None;
    for a in nest.nested() {
        let a = a.map_err(ctx)?;
        match a.kind {
            IPVS_SVC_ATTR_AF => af = Some(a.u16().map_err(ctx)?),
            IPVS_SVC_ATTR_PROTOCOL => protocol = Some(a.u16().map_err(ctx)?),
            IPVS_SVC_ATTR_ADDR => addr = Some(a),
            IPVS_SVC_ATTR_PORT => port = Some(a.be16().map_err(ctx)?),
            IPVS_SVC_ATTR_FWMARK => fwmark = Some(a.u32().map_err(ctx)?),
            IPVS_SVC_ATTR_SCHED_NAME => scheduler = Some(a.string().map_err(ctx)?.to_owned()),
            IPVS_SVC_ATTR_FLAGS => {
                let raw = a.payload;
                if raw.len() != 8 {
                    return Err(DecodeError::new(format!(
                        "service: flags have {} bytes, expected 8 (struct ip_vs_flags)",
                        raw.len()
                    )));
                }
                flags = Some(u32::from_ne_bytes([raw[0], raw[1], raw[2], raw[3]]));
            }
            IPVS_SVC_ATTR_TIMEOUT => timeout = Some(a.u32().map_err(ctx)?),
            IPVS_SVC_ATTR_NETMASK => netmask = Some(a),
            _ => {} // stats, PE name, and anything newer
        }
    }
    let family = family_from(
        af.ok_or_else(|| DecodeError::new("service: no IPVS_SVC_ATTR_AF"))?,
        "service",
    )?;
    let key = match fwmark {
        Some(mark) if mark != 0 => ServiceKey::Fwmark { family, mark },
        _ => {
            let protocol = match protocol {
                Some(IPPROTO_TCP) => Protocol::Tcp,
                Some(IPPROTO_UDP) => Protocol::Udp,
                Some(_) => return Ok(None),
                None => return Err(DecodeError::new("service: neither a fwmark nor a protocol")),
            };
            let addr = addr.ok_or_else(|| DecodeError::new("service: no IPVS_SVC_ATTR_ADDR"))?;
            ServiceKey::Addr {
                protocol,
                addr: addr_from(family, &addr, "service")?,
                port: port.ok_or_else(|| DecodeError::new("service: no IPVS_SVC_ATTR_PORT"))?,
            }
        }
    };
    Ok(Some(Service {
        key,
        scheduler: scheduler
            .ok_or_else(|| DecodeError::new(format!("service {key}: no scheduler name")))?,
        flags: flags.ok_or_else(|| DecodeError::new(format!("service {key}: no flags")))?
            & !IP_VS_SVC_F_HASHED,
        timeout: timeout.ok_or_else(|| DecodeError::new(format!("service {key}: no timeout")))?,
        netmask: netmask_from(
            family,
            &netmask.ok_or_else(|| DecodeError::new(format!("service {key}: no netmask")))?,
        )
        .map_err(|e| e.context(format!("service {key}")))?,
    }))
}

fn parse_stats(nest: &Attr, wide: bool, what: &str) -> Result<DestStats, DecodeError> {
    let mut s = DestStats::default();
    for a in nest.nested() {
        let a = a.map_err(|e| e.context(what))?;
        let get = |a: &Attr| -> Result<u64, DecodeError> {
            if wide {
                a.u64()
            } else {
                a.u32().map(u64::from)
            }
        };
        let ctx = |e: DecodeError| e.context(what);
        match a.kind {
            IPVS_STATS_ATTR_CONNS => s.conns = get(&a).map_err(ctx)?,
            IPVS_STATS_ATTR_INPKTS => s.in_packets = get(&a).map_err(ctx)?,
            IPVS_STATS_ATTR_OUTPKTS => s.out_packets = get(&a).map_err(ctx)?,
            // Byte counters are u64 in both STATS and STATS64.
            IPVS_STATS_ATTR_INBYTES => s.in_bytes = a.u64().map_err(ctx)?,
            IPVS_STATS_ATTR_OUTBYTES => s.out_bytes = a.u64().map_err(ctx)?,
            IPVS_STATS_ATTR_CPS => s.cps = get(&a).map_err(ctx)?,
            _ => {} // rates, padding
        }
    }
    Ok(s)
}

/// One destination from a GET_DEST dump (command NEW_DEST). `service` is the family of the
/// service dumped, used when the kernel does not say the destination's own (before Linux 4.x).
pub fn parse_dest(body: &[u8], service: Family) -> Result<DestEntry, DecodeError> {
    let msg = GenlMsg::parse(body)?;
    expect_cmd(&msg, IPVS_CMD_NEW_DEST, "GET_DEST")?;
    let nest = top_nest(&msg, IPVS_CMD_ATTR_DEST, "destination")?;
    let ctx = |e: DecodeError| e.context("destination");
    let mut addr = None;
    let mut family = None;
    let mut port = None;
    let mut fwd = None;
    let mut weight = None;
    let mut upper = 0;
    let mut lower = 0;
    let mut stats32 = None;
    let mut stats64 = None;
    let mut conns = (0, 0, 0);
    for a in nest.nested() {
        let a = a.map_err(ctx)?;
        match a.kind {
            IPVS_DEST_ATTR_ADDR => addr = Some(a),
            IPVS_DEST_ATTR_ADDR_FAMILY => family = Some(a.u16().map_err(ctx)?),
            IPVS_DEST_ATTR_PORT => port = Some(a.be16().map_err(ctx)?),
            IPVS_DEST_ATTR_FWD_METHOD => fwd = Some(a.u32().map_err(ctx)?),
            IPVS_DEST_ATTR_WEIGHT => weight = Some(a.u32().map_err(ctx)?),
            IPVS_DEST_ATTR_U_THRESH => upper = a.u32().map_err(ctx)?,
            IPVS_DEST_ATTR_L_THRESH => lower = a.u32().map_err(ctx)?,
            IPVS_DEST_ATTR_ACTIVE_CONNS => conns.0 = a.u32().map_err(ctx)?,
            IPVS_DEST_ATTR_INACT_CONNS => conns.1 = a.u32().map_err(ctx)?,
            IPVS_DEST_ATTR_PERSIST_CONNS => conns.2 = a.u32().map_err(ctx)?,
            IPVS_DEST_ATTR_STATS => stats32 = Some(a),
            IPVS_DEST_ATTR_STATS64 => stats64 = Some(a),
            _ => {} // tunnel type/port/flags, and anything newer
        }
    }
    let family = match family {
        Some(code) => family_from(code, "destination")?,
        None => service,
    };
    let addr = addr_from(
        family,
        &addr.ok_or_else(|| DecodeError::new("destination: no IPVS_DEST_ATTR_ADDR"))?,
        "destination",
    )?;
    let port = port.ok_or_else(|| DecodeError::new(format!("destination {addr}: no port")))?;
    let fwd = fwd.ok_or_else(|| DecodeError::new(format!("destination {addr}: no fwd method")))?
        & IP_VS_CONN_F_FWD_MASK;
    let forward = match fwd {
        IP_VS_CONN_F_MASQ => Forward::Nat,
        IP_VS_CONN_F_TUNNEL => Forward::Ipip,
        IP_VS_CONN_F_DROUTE => Forward::Dr,
        other => {
            let name = match other {
                IP_VS_CONN_F_LOCALNODE => "LOCALNODE",
                IP_VS_CONN_F_BYPASS => "BYPASS",
                _ => "unknown",
            };
            return Err(DecodeError::new(format!(
                "destination {addr}:{port}: forwarding method {other} ({name}) is not one \
                 big_brother manages (masq, tunnel, droute)"
            )));
        }
    };
    let mut stats = match (stats64, stats32) {
        (Some(s), _) => parse_stats(&s, true, "destination stats64")?,
        (None, Some(s)) => parse_stats(&s, false, "destination stats")?,
        (None, None) => DestStats::default(),
    };
    (
        stats.active_conns,
        stats.inactive_conns,
        stats.persistent_conns,
    ) = conns;
    Ok(DestEntry {
        dest: Dest {
            addr,
            port,
            forward,
            weight: weight
                .ok_or_else(|| DecodeError::new(format!("destination {addr}: no weight")))?,
            upper_threshold: upper,
            lower_threshold: lower,
        },
        stats,
    })
}

/// One daemon from a GET_DAEMON dump (command NEW_DAEMON), every value as the kernel uses it.
pub fn parse_daemon(body: &[u8]) -> Result<SyncDaemon, DecodeError> {
    let msg = GenlMsg::parse(body)?;
    expect_cmd(&msg, IPVS_CMD_NEW_DAEMON, "GET_DAEMON")?;
    let nest = top_nest(&msg, IPVS_CMD_ATTR_DAEMON, "sync daemon")?;
    let ctx = |e: DecodeError| e.context("sync daemon");
    let mut state = None;
    let mut interface = None;
    let mut sync_id = None;
    let mut d = SyncDaemon::new(SyncState::Master, "", 0);
    for a in nest.nested() {
        let a = a.map_err(ctx)?;
        match a.kind {
            IPVS_DAEMON_ATTR_STATE => state = Some(a.u32().map_err(ctx)?),
            IPVS_DAEMON_ATTR_MCAST_IFN => interface = Some(a.string().map_err(ctx)?.to_owned()),
            IPVS_DAEMON_ATTR_SYNC_ID => sync_id = Some(a.u32().map_err(ctx)?),
            IPVS_DAEMON_ATTR_SYNC_MAXLEN => d.max_len = Some(a.u16().map_err(ctx)?),
            IPVS_DAEMON_ATTR_MCAST_PORT => d.port = Some(a.u16().map_err(ctx)?),
            IPVS_DAEMON_ATTR_MCAST_TTL => d.ttl = Some(a.u8().map_err(ctx)?),
            IPVS_DAEMON_ATTR_MCAST_GROUP => {
                let o: [u8; 4] = a.payload.try_into().map_err(|_| {
                    DecodeError::new(format!(
                        "sync daemon: IPv4 group has {} bytes, expected 4",
                        a.payload.len()
                    ))
                })?;
                d.group = Some(IpAddr::V4(Ipv4Addr::from(o)));
            }
            IPVS_DAEMON_ATTR_MCAST_GROUP6 => {
                let o: [u8; 16] = a.payload.try_into().map_err(|_| {
                    DecodeError::new(format!(
                        "sync daemon: IPv6 group has {} bytes, expected 16",
                        a.payload.len()
                    ))
                })?;
                d.group = Some(IpAddr::V6(Ipv6Addr::from(o)));
            }
            _ => {}
        }
    }
    let code = state.ok_or_else(|| DecodeError::new("sync daemon: no IPVS_DAEMON_ATTR_STATE"))?;
    d.state = SyncState::from_code(code).ok_or_else(|| {
        DecodeError::new(format!(
            "sync daemon: state {code} is neither master (1) nor backup (2)"
        ))
    })?;
    d.interface =
        interface.ok_or_else(|| DecodeError::new("sync daemon: no IPVS_DAEMON_ATTR_MCAST_IFN"))?;
    let id = sync_id.ok_or_else(|| DecodeError::new("sync daemon: no IPVS_DAEMON_ATTR_SYNC_ID"))?;
    // The kernel keeps an int but sends a u8 on the wire; ids above 255 are not ours.
    d.sync_id = u8::try_from(id)
        .map_err(|_| DecodeError::new(format!("sync daemon: sync id {id} is above 255")))?;
    Ok(d)
}

/// GET_CONFIG's reply (command SET_CONFIG): the three timeouts.
pub fn parse_config(body: &[u8]) -> Result<Timeouts, DecodeError> {
    let msg = GenlMsg::parse(body)?;
    expect_cmd(&msg, IPVS_CMD_SET_CONFIG, "GET_CONFIG")?;
    let (mut tcp, mut fin, mut udp) = (None, None, None);
    for a in msg.attrs() {
        let a = a.map_err(|e| e.context("config"))?;
        let ctx = |e: DecodeError| e.context("config");
        match a.kind {
            IPVS_CMD_ATTR_TIMEOUT_TCP => tcp = Some(a.u32().map_err(ctx)?),
            IPVS_CMD_ATTR_TIMEOUT_TCP_FIN => fin = Some(a.u32().map_err(ctx)?),
            IPVS_CMD_ATTR_TIMEOUT_UDP => udp = Some(a.u32().map_err(ctx)?),
            _ => {}
        }
    }
    // A kernel built without TCP or UDP support omits that protocol's timeouts.
    let missing = |what: &str| DecodeError::new(format!("config: no {what} timeout"));
    Ok(Timeouts {
        tcp: tcp.ok_or_else(|| missing("tcp"))?,
        tcp_fin: fin.ok_or_else(|| missing("tcpfin"))?,
        udp: udp.ok_or_else(|| missing("udp"))?,
    })
}
