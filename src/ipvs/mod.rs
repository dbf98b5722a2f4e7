//! The kernel's IPVS table as big_brother sees it: a small model (services, destinations,
//! counters, and the namespace-wide parts: connection-sync daemons and timeouts) and the [`Ipvs`]
//! trait every backend implements.
//!
//! Two backends sit behind the trait: [`memory::Memory`] (an in-process table for unit tests,
//! `dry_run` and `big_brother demo`) and the generic-netlink one that talks to the kernel. The
//! supervisor and the agent only ever see the trait, so a backend can be swapped without touching
//! them. Semantics follow the kernel (`net/netfilter/ipvs/ip_vs_ctl.c`): adding what exists is
//! `EEXIST`, editing or deleting what does not is `ESRCH`/`ENOENT`; backends report those as
//! [`IpvsError::Exists`] / [`IpvsError::NotFound`] so callers can treat them as idempotent.
//! Sync daemons have their own variants ([`IpvsError::DaemonRunning`], `DaemonNotRunning`,
//! `NoSuchInterface`): a daemon that already runs is *not* the idempotent case, since it may run
//! with another sync id (`net/netfilter/ipvs/ip_vs_sync.c`, `start_sync_thread`).

pub mod memory;
pub mod netlink;

pub mod iface;
pub mod rebind;

mod host;
pub mod host_settings;
mod options;
mod sync_config;

pub use host::{SyncDaemon, SyncState, Timeouts};
pub use host_settings::{HostSettings, Setting};
pub use options::{Netmask, SchedFlag};
pub use sync_config::{param as sync_param, SyncConfig};

use std::fmt;
use std::net::IpAddr;

/// Address family of a service (`AF_INET` / `AF_INET6`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

/// Transport protocol of an address/port service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// What identifies a virtual service in the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServiceKey {
    /// `ipvsadm -f MARK`: traffic marked by netfilter; the family picks the kernel table.
    Fwmark { family: Family, mark: u32 },
    /// `ipvsadm -t|-u ADDR:PORT`.
    Addr {
        protocol: Protocol,
        addr: IpAddr,
        port: u16,
    },
}

impl ServiceKey {
    /// The firewall-mark service `mark` of `family`.
    pub fn fwmark(family: Family, mark: u32) -> ServiceKey {
        ServiceKey::Fwmark { family, mark }
    }

    pub fn family(&self) -> Family {
        match self {
            ServiceKey::Fwmark { family, .. } => *family,
            ServiceKey::Addr { addr, .. } => Family::of(addr),
        }
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Fwmark {
                family: Family::V4,
                mark,
            } => write!(f, "FWM {mark}"),
            ServiceKey::Fwmark {
                family: Family::V6,
                mark,
            } => write!(f, "FWM {mark} IPv6"),
            ServiceKey::Addr {
                protocol,
                addr: IpAddr::V6(a),
                port,
            } => write!(f, "{} [{a}]:{port}", protocol.as_str().to_uppercase()),
            ServiceKey::Addr {
                protocol,
                addr,
                port,
            } => write!(f, "{} {addr}:{port}", protocol.as_str().to_uppercase()),
        }
    }
}

/// Packet forwarding method of a destination (`IP_VS_CONN_F_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Forward {
    /// `IP_VS_CONN_F_MASQ` = 0 (`-m`).
    Nat,
    /// `IP_VS_CONN_F_TUNNEL` = 2 (`-i`), the talk's `--ipip`.
    Ipip,
    /// `IP_VS_CONN_F_DROUTE` = 3 (`-g`).
    Dr,
}

impl Forward {
    pub fn as_str(self) -> &'static str {
        match self {
            Forward::Nat => "nat",
            Forward::Ipip => "ipip",
            Forward::Dr => "dr",
        }
    }
}

/// A virtual service as programmed (scheduler and options included). Every field but `key` can
/// be changed in place with [`Ipvs::edit_service`] (SET_SERVICE); connections survive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub key: ServiceKey,
    /// Kernel scheduler name: rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos.
    pub scheduler: String,
    /// `IP_VS_SVC_F_*` flags: persistent 0x1, one-packet 0x4, scheduler flags 0x8/0x10/0x20
    /// (named per scheduler by [`SchedFlag`]). The constants are in [`netlink::ip_vs`].
    pub flags: u32,
    /// Persistence timeout in seconds (only meaningful with `IP_VS_SVC_F_PERSISTENT`).
    pub timeout: u32,
    /// Persistence granularity (ipvsadm `-M`): which part of the client address a persistence
    /// template covers. Must be of the service's family; [`Netmask::full`] is one client.
    pub netmask: Netmask,
}

impl Service {
    /// A service with `scheduler` and nothing else: no flags, no persistence, full netmask.
    pub fn new(key: ServiceKey, scheduler: impl Into<String>) -> Service {
        Service {
            key,
            scheduler: scheduler.into(),
            flags: 0,
            timeout: 0,
            netmask: Netmask::full(key.family()),
        }
    }

    /// The scheduler flags set in `flags` that this service's scheduler names (`sh-fallback`
    /// …), in bit order; bits the scheduler does not define are not listed.
    pub fn sched_flags(&self) -> Vec<SchedFlag> {
        SchedFlag::of(self.flags, &self.scheduler)
    }
}

/// A real server under a service, as desired by big_brother. Forwarding, weight and thresholds
/// change in place with [`Ipvs::edit_dest`] (SET_DEST overwrites all of them); the address and
/// port are its identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dest {
    pub addr: IpAddr,
    /// 0 for fwmark services whose real servers take the packet's own port.
    pub port: u16,
    pub forward: Forward,
    pub weight: u32,
    /// Connection threshold (ipvsadm `-x`): above this many active + inactive connections the
    /// server gets no new ones (the kernel marks it overloaded). 0 = no limit.
    pub upper_threshold: u32,
    /// ipvsadm `-y`: an overloaded server takes new connections again once it is back under
    /// this many (0: under three quarters of the upper threshold). Never above the upper.
    pub lower_threshold: u32,
}

impl Dest {
    /// A destination without connection thresholds (the spec sets none today).
    pub fn new(addr: IpAddr, port: u16, forward: Forward, weight: u32) -> Dest {
        Dest {
            addr,
            port,
            forward,
            weight,
            upper_threshold: 0,
            lower_threshold: 0,
        }
    }

    /// Identity of a destination within its service.
    pub fn id(&self) -> (IpAddr, u16) {
        (self.addr, self.port)
    }
}

/// Counters the kernel keeps per destination (read-only; zero in the memory backend).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DestStats {
    pub active_conns: u32,
    pub inactive_conns: u32,
    pub persistent_conns: u32,
    pub conns: u64,
    pub in_packets: u64,
    pub out_packets: u64,
    pub in_bytes: u64,
    pub out_bytes: u64,
    pub cps: u64,
}

/// One destination as read back from a dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DestEntry {
    pub dest: Dest,
    pub stats: DestStats,
}

/// IPVS subsystem information (`IPVS_CMD_GET_INFO`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Info {
    /// e.g. 0x010201 for 1.2.1.
    pub version: u32,
    pub conn_table_size: u32,
}

/// Why an IPVS operation failed. Errno-bearing variants keep the errno so callers can branch.
#[derive(Debug, thiserror::Error)]
pub enum IpvsError {
    #[error("{op}: already exists")]
    Exists { op: &'static str },
    #[error("{op}: no such service or destination")]
    NotFound { op: &'static str },
    #[error("{op}: permission denied (IPVS needs CAP_NET_ADMIN in the initial user namespace)")]
    Permission { op: &'static str },
    #[error("IPVS is not available in this kernel (generic netlink family \"IPVS\" not found); try `modprobe ip_vs`")]
    NotAvailable,
    #[error("{op}: kernel refused: {errno}")]
    Kernel {
        op: &'static str,
        errno: std::io::Error,
    },
    #[error("{op}: invalid request: {reason}")]
    Invalid { op: &'static str, reason: String },
    /// `ENODEV` starting a sync daemon.
    #[error("{op}: no network interface {interface:?} in this network namespace")]
    NoSuchInterface { op: &'static str, interface: String },
    /// `ENETUNREACH` starting a master: the interface is down (the kernel cannot route the
    /// multicast group through it). A backup starts on a down interface.
    #[error(
        "{op}: interface {interface:?} is down: the master cannot send to its multicast group"
    )]
    InterfaceDown { op: &'static str, interface: String },
    /// `EEXIST` starting a sync daemon: one of that state already runs in this namespace, with
    /// whatever settings it was started with ([`Ipvs::sync_daemons`] shows them).
    #[error(
        "{op}: a {state} sync daemon already runs in this network namespace (the kernel runs at \
         most one master and one backup); stop it first"
    )]
    DaemonRunning { op: &'static str, state: SyncState },
    /// `ESRCH` stopping a sync daemon that is not running.
    #[error("{op}: no {state} sync daemon is running")]
    DaemonNotRunning { op: &'static str, state: SyncState },
    #[error("{op}: malformed reply from the kernel: {reason}")]
    Decode { op: &'static str, reason: String },
    #[error("{op}: {source}")]
    Io {
        op: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// The operations big_brother needs from IPVS. Implementations are synchronous and owned by one
/// thread (the supervisor's controller).
pub trait Ipvs {
    fn info(&mut self) -> Result<Info, IpvsError>;
    fn services(&mut self) -> Result<Vec<Service>, IpvsError>;
    fn add_service(&mut self, svc: &Service) -> Result<(), IpvsError>;
    /// Change scheduler/flags/timeout of an existing service in place (connections survive).
    fn edit_service(&mut self, svc: &Service) -> Result<(), IpvsError>;
    fn del_service(&mut self, key: &ServiceKey) -> Result<(), IpvsError>;
    fn dests(&mut self, key: &ServiceKey) -> Result<Vec<DestEntry>, IpvsError>;
    fn add_dest(&mut self, key: &ServiceKey, dest: &Dest) -> Result<(), IpvsError>;
    fn edit_dest(&mut self, key: &ServiceKey, dest: &Dest) -> Result<(), IpvsError>;
    fn del_dest(&mut self, key: &ServiceKey, addr: IpAddr, port: u16) -> Result<(), IpvsError>;

    /// The running sync daemons (at most one master and one backup), each with the values the
    /// kernel uses: defaults filled in, the maximum length clamped or derived from the MTU.
    fn sync_daemons(&mut self) -> Result<Vec<SyncDaemon>, IpvsError>;
    /// Starts a sync daemon (NEW_DAEMON). Nothing about a running daemon can change in place:
    /// stop it and start it again. Refused with [`IpvsError::DaemonRunning`] when one of that
    /// state runs, [`IpvsError::NoSuchInterface`], [`IpvsError::InterfaceDown`] (a master on a
    /// down interface), [`IpvsError::Invalid`] (values out of range, or a service with real
    /// servers of the other address family, which the sync protocol cannot carry). The kernel
    /// does *not* refuse a master on an interface without an IPv4 address, nor one without the
    /// MULTICAST flag: it binds the first global IPv4 address of any other interface, or, with
    /// none, logs "You probably need to specify IP address on multicast interface" and sends
    /// from 0.0.0.0 — which a backup accepts for a link-local group (224.0.0.0/24, the default
    /// among them) and silently drops for any other. Callers that care check the address first.
    fn start_sync_daemon(&mut self, daemon: &SyncDaemon) -> Result<(), IpvsError>;
    /// Stops the daemon of `state` (DEL_DAEMON); [`IpvsError::DaemonNotRunning`] if none runs.
    fn stop_sync_daemon(&mut self, state: SyncState) -> Result<(), IpvsError>;
    /// The namespace's connection timeouts (GET_CONFIG).
    fn timeouts(&mut self) -> Result<Timeouts, IpvsError>;
    /// Sets the namespace's connection timeouts in place (SET_CONFIG); a field of 0 leaves that
    /// timeout as it is (the kernel's rule, as `ipvsadm --set`).
    fn set_timeouts(&mut self, timeouts: &Timeouts) -> Result<(), IpvsError>;

    /// One service by key, or `None`.
    fn service(&mut self, key: &ServiceKey) -> Result<Option<Service>, IpvsError> {
        Ok(self.services()?.into_iter().find(|s| s.key == *key))
    }
}
