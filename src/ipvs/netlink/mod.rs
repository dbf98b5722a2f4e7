//! The kernel backend: [`Netlink`] implements [`Ipvs`] over generic netlink, family `"IPVS"`.
//!
//! Layers, bottom up: [`attr`] (nlattr TLVs) and [`message`] (nlmsghdr/genlmsghdr framing) are
//! pure byte code; [`ip_vs`] holds the kernel's numbers; [`socket`] is the only part that makes system calls; [`family`] resolves a
//! generic netlink family by name through nlctrl; [`codec`] turns the IPVS model into messages
//! and replies back into the model. [`Netlink`] ties them together and maps errnos the way the
//! in-memory twin ([`crate::ipvs::memory::Memory`]) reports the same situations:
//!
//! | kernel | [`IpvsError`] |
//! |---|---|
//! | `EEXIST` (service or destination already there) | `Exists` |
//! | `ESRCH` (no such service), `ENOENT` (no such destination) | `NotFound` |
//! | `ENOENT` on add/edit service (scheduler module missing) | `Invalid` |
//! | `EINVAL` on add/edit destination of the other address family | `Invalid` (why) |
//! | `EEXIST` / `ESRCH` on start / stop sync daemon | `DaemonRunning` / `DaemonNotRunning` |
//! | `ENODEV` / `ENETUNREACH` on start sync daemon | `NoSuchInterface` / `InterfaceDown` |
//! | `EINVAL` on start sync daemon (mixed-family services) or set timeouts | `Invalid` (why) |
//! | `EPERM` (no `CAP_NET_ADMIN` in the initial user namespace) | `Permission` |
//! | family `"IPVS"` unknown (`ip_vs` not loaded and not loadable) | `NotAvailable` |
//! | anything else | `Kernel { errno }` |
//!
//! One [`Netlink`] is one socket, opened in the network namespace of the calling thread, with the
//! family id resolved once. It is `Send` but not shared: the supervisor's controller owns it.

pub mod attr;
pub mod codec;
pub mod family;
pub mod ip_vs;
pub mod message;
pub mod socket;

#[cfg(test)]
mod codec_tests;
#[cfg(test)]
mod fixtures;

use std::net::IpAddr;
use std::time::Duration;

use self::codec::Request;
use self::socket::{NlError, Socket};
use super::{
    Dest, DestEntry, Family, Info, Ipvs, IpvsError, Service, ServiceKey, SyncDaemon, SyncState,
    Timeouts,
};

/// The running sync daemons, through a socket opened for this one question (for `status` and
/// `/metrics`, which read the host's state now and then).
pub fn sync_daemons() -> Result<Vec<SyncDaemon>, IpvsError> {
    let mut nl = Netlink::open()?;
    let mut v = nl.sync_daemons()?;
    v.sort_by_key(|d| d.state);
    Ok(v)
}

/// How long one request may wait for the kernel before failing with `TimedOut`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// IPVS in the kernel, through one generic netlink socket.
#[derive(Debug)]
pub struct Netlink {
    sock: Socket,
    family: u16,
}

impl Netlink {
    /// Opens a socket in the calling thread's network namespace and resolves the `"IPVS"`
    /// family ([`IpvsError::NotAvailable`] when the kernel has no IPVS).
    pub fn open() -> Result<Netlink, IpvsError> {
        Netlink::with_timeout(DEFAULT_TIMEOUT)
    }

    /// [`Netlink::open`] with a different per-request timeout.
    pub fn with_timeout(timeout: Duration) -> Result<Netlink, IpvsError> {
        Netlink::open_as(codec::IPVS_GENL_NAME, timeout)
    }

    /// Opens the backend over the generic netlink family `name` instead of `"IPVS"`: a name the
    /// kernel does not know gives exactly the [`IpvsError::NotAvailable`] a kernel without IPVS
    /// gives, through the real lookup (the test fault knob `BIG_BROTHER_FAULT_IPVS_FAMILY` uses
    /// it, so "no IPVS here" is testable on a host that has it).
    pub fn open_as(name: &str, timeout: Duration) -> Result<Netlink, IpvsError> {
        let mut sock = Socket::open(libc::NETLINK_GENERIC, timeout)
            .map_err(|e| map_err("open netlink socket", e))?;
        let family = family::resolve(&mut sock, name).map_err(resolve_err)?;
        Ok(Netlink { sock, family })
    }

    /// The message type the kernel assigned to the IPVS family (dynamic; 32 or so).
    pub fn family_id(&self) -> u16 {
        self.family
    }

    /// Sends `req` and returns the bodies of its reply messages (raw: genlmsghdr + attributes).
    /// For tools and tests that want the bytes; the [`Ipvs`] methods decode them.
    pub fn raw(&mut self, op: &'static str, req: Request) -> Result<Vec<Vec<u8>>, IpvsError> {
        let msg = self.encode(op, &req)?;
        let res = if req.is_dump() {
            self.sock.dump(msg)
        } else {
            self.sock.request(msg)
        };
        res.map_err(|e| map_request_err(op, &req, e))
    }

    fn encode(&self, op: &'static str, req: &Request) -> Result<Vec<u8>, IpvsError> {
        req.encode(self.family).map_err(|e| IpvsError::Invalid {
            op,
            reason: e.reason,
        })
    }

    /// A request the kernel answers with one message, decoded by `parse`.
    fn single<T>(
        &mut self,
        op: &'static str,
        req: Request,
        parse: impl FnOnce(&[u8]) -> Result<T, attr::DecodeError>,
    ) -> Result<T, IpvsError> {
        let replies = self.raw(op, req)?;
        let first = replies.first().ok_or(IpvsError::Decode {
            op,
            reason: "no reply message".into(),
        })?;
        Self::decode(op, parse(first))
    }

    fn decode<T>(op: &'static str, r: Result<T, attr::DecodeError>) -> Result<T, IpvsError> {
        r.map_err(|e| IpvsError::Decode {
            op,
            reason: e.to_string(),
        })
    }
}

/// A failed family lookup: `ENOENT` means this kernel has no IPVS (module absent or not
/// loadable); anything else is reported as it is.
fn resolve_err(e: NlError) -> IpvsError {
    match e {
        NlError::Kernel(libc::ENOENT) => IpvsError::NotAvailable,
        e => map_err("resolve generic netlink family IPVS", e),
    }
}

/// Errno → [`IpvsError`] where the request decides what the errno means (the module docs'
/// table); everything else goes through [`map_err`].
fn map_request_err(op: &'static str, req: &Request, e: NlError) -> IpvsError {
    let invalid = |reason: String| IpvsError::Invalid { op, reason };
    match (req, e) {
        (Request::NewService(svc) | Request::SetService(svc), NlError::Kernel(libc::ENOENT)) => {
            invalid(format!(
                "scheduler {:?} is not available in this kernel (module ip_vs_{} missing?)",
                svc.scheduler, svc.scheduler
            ))
        }
        (Request::NewDest(key, d) | Request::SetDest(key, d), NlError::Kernel(libc::EINVAL))
            if Family::of(&d.addr) != key.family() =>
        {
            invalid(format!("{MIXED_DEST} (EINVAL)"))
        }
        (Request::NewDaemon(d), NlError::Kernel(errno)) => match errno {
            libc::EEXIST => IpvsError::DaemonRunning { op, state: d.state },
            libc::ENODEV => IpvsError::NoSuchInterface {
                op,
                interface: d.interface.clone(),
            },
            libc::ENETUNREACH => IpvsError::InterfaceDown {
                op,
                interface: d.interface.clone(),
            },
            // Everything else the kernel checks with EINVAL was checked before sending.
            libc::EINVAL => invalid(format!("{MIXED_SYNC} (EINVAL)")),
            errno => map_err(op, NlError::Kernel(errno)),
        },
        (Request::DelDaemon(state), NlError::Kernel(libc::ESRCH)) => {
            IpvsError::DaemonNotRunning { op, state: *state }
        }
        (Request::SetConfig(_), NlError::Kernel(libc::EINVAL)) => invalid(
            "a timeout exceeds INT_MAX / HZ seconds, the most this kernel can count (EINVAL)"
                .into(),
        ),
        (_, e) => map_err(op, e),
    }
}

/// Why a destination of the other address family is refused (both backends say it).
pub const MIXED_DEST: &str = "a real server of the other address family than its service is \
     possible only with IPIP forwarding, and not while a sync daemon runs (the sync protocol \
     cannot carry such connections)";

/// Why a sync daemon cannot start (both backends say it).
pub const MIXED_SYNC: &str = "a service has a real server of the other address family (an IPIP \
     tunnel across families), which the sync protocol cannot carry: sync daemons cannot run";

/// Errno → [`IpvsError`], the table in the module docs.
fn map_err(op: &'static str, e: NlError) -> IpvsError {
    match e {
        NlError::Kernel(libc::EEXIST) => IpvsError::Exists { op },
        NlError::Kernel(libc::ESRCH | libc::ENOENT) => IpvsError::NotFound { op },
        NlError::Kernel(libc::EPERM) => IpvsError::Permission { op },
        NlError::Kernel(errno) => IpvsError::Kernel {
            op,
            errno: std::io::Error::from_raw_os_error(errno),
        },
        NlError::Io { what, source } => IpvsError::Io {
            op,
            source: std::io::Error::new(source.kind(), format!("{what}: {source}")),
        },
        NlError::Decode(d) => IpvsError::Decode {
            op,
            reason: d.to_string(),
        },
    }
}

impl Ipvs for Netlink {
    fn info(&mut self) -> Result<Info, IpvsError> {
        self.single("get IPVS info", Request::GetInfo, codec::parse_info)
    }

    fn services(&mut self) -> Result<Vec<Service>, IpvsError> {
        let op = "list services";
        let mut out = Vec::new();
        for body in self.raw(op, Request::DumpServices)? {
            if let Some(svc) = Self::decode(op, codec::parse_service(&body))? {
                out.push(svc);
            }
        }
        Ok(out)
    }

    fn service(&mut self, key: &ServiceKey) -> Result<Option<Service>, IpvsError> {
        let op = "get service";
        match self.raw(op, Request::GetService(key)) {
            Ok(replies) => match replies.first() {
                Some(body) => Self::decode(op, codec::parse_service(body)),
                None => Ok(None),
            },
            Err(IpvsError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn add_service(&mut self, svc: &Service) -> Result<(), IpvsError> {
        self.raw("add service", Request::NewService(svc)).map(drop)
    }

    fn edit_service(&mut self, svc: &Service) -> Result<(), IpvsError> {
        self.raw("edit service", Request::SetService(svc)).map(drop)
    }

    fn del_service(&mut self, key: &ServiceKey) -> Result<(), IpvsError> {
        self.raw("delete service", Request::DelService(key))
            .map(drop)
    }

    fn dests(&mut self, key: &ServiceKey) -> Result<Vec<DestEntry>, IpvsError> {
        let op = "list destinations";
        let bodies = self.raw(op, Request::DumpDests(key))?;
        // The kernel answers an empty dump for a missing service; the trait says NotFound.
        if bodies.is_empty() && self.service(key)?.is_none() {
            return Err(IpvsError::NotFound { op });
        }
        bodies
            .iter()
            .map(|b| Self::decode(op, codec::parse_dest(b, key.family())))
            .collect()
    }

    fn add_dest(&mut self, key: &ServiceKey, dest: &Dest) -> Result<(), IpvsError> {
        self.raw("add destination", Request::NewDest(key, dest))
            .map(drop)
    }

    fn edit_dest(&mut self, key: &ServiceKey, dest: &Dest) -> Result<(), IpvsError> {
        self.raw("edit destination", Request::SetDest(key, dest))
            .map(drop)
    }

    fn del_dest(&mut self, key: &ServiceKey, addr: IpAddr, port: u16) -> Result<(), IpvsError> {
        self.raw("delete destination", Request::DelDest(key, addr, port))
            .map(drop)
    }

    fn sync_daemons(&mut self) -> Result<Vec<SyncDaemon>, IpvsError> {
        let op = "list sync daemons";
        self.raw(op, Request::DumpDaemons)?
            .iter()
            .map(|b| Self::decode(op, codec::parse_daemon(b)))
            .collect()
    }

    fn start_sync_daemon(&mut self, daemon: &SyncDaemon) -> Result<(), IpvsError> {
        self.raw("start sync daemon", Request::NewDaemon(daemon))
            .map(drop)
    }

    /// DEL_DAEMON can go unanswered: stopping a daemon whose kernel thread has not run yet
    /// (right after its start, on a busy machine) makes the kernel's handler return `EINTR`,
    /// and generic netlink sends no ack for that, though the daemon is stopped. Silence is
    /// therefore checked against the list instead of waited out.
    fn stop_sync_daemon(&mut self, state: SyncState) -> Result<(), IpvsError> {
        let op = "stop sync daemon";
        let req = Request::DelDaemon(state);
        let msg = self.encode(op, &req)?;
        match self.sock.request_or_silence(msg) {
            Ok(Some(_)) => Ok(()),
            Ok(None) if self.sync_daemons()?.iter().any(|d| d.state == state) => {
                Err(IpvsError::Kernel {
                    op,
                    errno: std::io::Error::from_raw_os_error(libc::EINTR),
                })
            }
            Ok(None) => Ok(()),
            Err(e) => Err(map_request_err(op, &req, e)),
        }
    }

    fn timeouts(&mut self) -> Result<Timeouts, IpvsError> {
        self.single("get timeouts", Request::GetConfig, codec::parse_config)
    }

    fn set_timeouts(&mut self, timeouts: &Timeouts) -> Result<(), IpvsError> {
        self.raw("set timeouts", Request::SetConfig(timeouts))
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_mapping_matches_the_memory_backend() {
        let k = |e| map_err("op", NlError::Kernel(e));
        assert!(matches!(k(libc::EEXIST), IpvsError::Exists { .. }));
        assert!(matches!(k(libc::ESRCH), IpvsError::NotFound { .. }));
        assert!(matches!(k(libc::ENOENT), IpvsError::NotFound { .. }));
        assert!(matches!(k(libc::EPERM), IpvsError::Permission { .. }));
        match k(libc::ERANGE) {
            IpvsError::Kernel { errno, .. } => assert_eq!(errno.raw_os_error(), Some(libc::ERANGE)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_family_means_not_available() {
        assert!(matches!(
            resolve_err(NlError::Kernel(libc::ENOENT)),
            IpvsError::NotAvailable
        ));
        assert!(matches!(
            resolve_err(NlError::Kernel(libc::EINVAL)),
            IpvsError::Kernel { .. }
        ));
        let msg = IpvsError::NotAvailable.to_string();
        assert!(msg.contains("modprobe ip_vs"), "{msg}");
    }

    /// Whatever this host's kernel has, opening never panics and a missing IPVS is reported as
    /// NotAvailable (or Permission without CAP_NET_ADMIN), never as a bare errno.
    #[test]
    fn open_on_the_host_is_a_clean_result() {
        match Netlink::open() {
            Ok(n) => assert!(n.family_id() >= 16),
            Err(IpvsError::NotAvailable | IpvsError::Permission { .. }) => {}
            Err(other) => panic!("unexpected error opening IPVS netlink: {other}"),
        }
    }
}
