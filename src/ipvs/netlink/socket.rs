//! The only code in `ipvs::netlink` that makes system calls: a blocking `AF_NETLINK` socket that
//! sends one request at a time and collects its reply.
//!
//! Invariants: the socket is `SOCK_CLOEXEC` (a supervisor's children never inherit it), bound to
//! a kernel-assigned port id, and owned by one thread. Each request gets the next sequence number;
//! reply messages whose sequence number or port id do not match (a late answer to a request that
//! timed out) are dropped. A request ends at its ack (`NLMSG_ERROR` 0) or, for `NLM_F_DUMP`, at
//! `NLMSG_DONE`; a kernel error ends it with the errno. `EINTR` is retried; every wait is bounded
//! by the receive timeout and by an overall deadline, so no call blocks forever. The socket lives
//! in the network namespace of the thread that opened it.
//!
//! The kernel handles a request to one of its netlink sockets inside our `sendto` (the handler
//! runs in `netlink_unicast_kernel`), so whatever it answers is queued before `sendto` returns.
//! [`Socket::request_or_silence`] relies on that for the one case where it answers nothing at
//! all: a handler that returns `EINTR` gets no ack, not even with `NLM_F_ACK`
//! (`netlink_rcv_skb`), and IPVS's DEL_DAEMON does when the daemon's thread had not run yet.

use std::io;
use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use super::attr::DecodeError;
use super::message::{classify, split, stamp, Kind, NLMSG_HDRLEN};

/// Big enough for any datagram the kernel sends: dump skbs are capped at 32 KiB
/// (`netlink_dump`), acks are small because of `NETLINK_CAP_ACK`.
const RECV_BUF: usize = 64 * 1024;

/// A request failed on the way to or from the kernel, or the kernel refused it.
#[derive(Debug)]
pub enum NlError {
    /// A system call failed (`what` names it) — including a receive timeout (`TimedOut`).
    Io {
        what: &'static str,
        source: io::Error,
    },
    /// The kernel answered with this errno (positive, e.g. `libc::EEXIST`).
    Kernel(i32),
    /// The reply was malformed.
    Decode(DecodeError),
}

impl std::fmt::Display for NlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NlError::Io { what, source } => write!(f, "{what}: {source}"),
            NlError::Kernel(e) => write!(f, "kernel: {}", io::Error::from_raw_os_error(*e)),
            NlError::Decode(e) => write!(f, "malformed reply: {e}"),
        }
    }
}

impl std::error::Error for NlError {}

fn io_err(what: &'static str) -> NlError {
    NlError::Io {
        what,
        source: io::Error::last_os_error(),
    }
}

/// A blocking netlink socket for request/reply exchanges.
#[derive(Debug)]
pub struct Socket {
    fd: OwnedFd,
    port: u32,
    seq: u32,
    timeout: Duration,
    buf: Vec<u8>,
}

impl Socket {
    /// Opens and binds a socket of netlink `protocol` (e.g. `libc::NETLINK_GENERIC`) whose
    /// receives give up after `timeout`.
    pub fn open(protocol: i32, timeout: Duration) -> Result<Socket, NlError> {
        // SAFETY: plain socket(2) call; the result is checked before use.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                protocol,
            )
        };
        if raw < 0 {
            return Err(io_err("socket(AF_NETLINK)"));
        }
        // SAFETY: `raw` is a fresh, valid descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };

        let tv = libc::timeval {
            tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
            tv_usec: libc::suseconds_t::from(timeout.subsec_micros()),
        };
        set_opt(&fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv)
            .map_err(|_| io_err("setsockopt(SO_RCVTIMEO)"))?;
        // Acks without a copy of our request: smaller replies. Best effort (Linux >= 4.3).
        let _ = set_opt(&fd, libc::SOL_NETLINK, libc::NETLINK_CAP_ACK, &1i32);

        // SAFETY: sockaddr_nl is plain old data; all-zero is a valid value.
        let mut addr: libc::sockaddr_nl = unsafe { mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        let addr_len = mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        // SAFETY: `addr` is a valid sockaddr_nl of the stated length; port 0 = kernel assigns.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                std::ptr::addr_of!(addr).cast::<libc::sockaddr>(),
                addr_len,
            )
        };
        if rc < 0 {
            return Err(io_err("bind(AF_NETLINK)"));
        }
        let mut len = addr_len;
        // SAFETY: getsockname writes at most `len` bytes into `addr`, which is that large.
        let rc = unsafe {
            libc::getsockname(
                fd.as_raw_fd(),
                std::ptr::addr_of_mut!(addr).cast::<libc::sockaddr>(),
                &mut len,
            )
        };
        if rc < 0 {
            return Err(io_err("getsockname(AF_NETLINK)"));
        }
        Ok(Socket {
            fd,
            port: addr.nl_pid,
            seq: 0,
            timeout,
            buf: vec![0; RECV_BUF],
        })
    }

    /// The port id the kernel assigned to this socket.
    pub fn port(&self) -> u32 {
        self.port
    }

    /// Sends a request built with `NLM_F_REQUEST | NLM_F_ACK` and returns the bodies of the data
    /// messages that came before the ack (none for a plain set command, one for a get).
    pub fn request(&mut self, msg: Vec<u8>) -> Result<Vec<Vec<u8>>, NlError> {
        self.exchange(msg, false, false)
            .map(Option::unwrap_or_default)
    }

    /// Sends an `NLM_F_DUMP` request and returns the bodies of every part of the dump.
    pub fn dump(&mut self, msg: Vec<u8>) -> Result<Vec<Vec<u8>>, NlError> {
        self.exchange(msg, true, false)
            .map(Option::unwrap_or_default)
    }

    /// [`Socket::request`] to a kernel socket that may take the request without answering
    /// (see the module docs): `Ok(None)` when nothing of ours is queued once `sendto` returned,
    /// without waiting for the timeout.
    pub fn request_or_silence(&mut self, msg: Vec<u8>) -> Result<Option<Vec<Vec<u8>>>, NlError> {
        self.exchange(msg, false, true)
    }

    fn exchange(
        &mut self,
        mut msg: Vec<u8>,
        dump: bool,
        silence_ok: bool,
    ) -> Result<Option<Vec<Vec<u8>>>, NlError> {
        if msg.len() < NLMSG_HDRLEN {
            return Err(NlError::Decode(DecodeError::new(
                "request shorter than a netlink header",
            )));
        }
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        stamp(&mut msg, seq, self.port);
        self.send(&msg)?;

        let deadline = Instant::now() + self.timeout;
        let mut out = Vec::new();
        // Until something of ours arrives, silence is an answer (when the caller allows it).
        let mut answered = !silence_ok;
        loop {
            let n = if answered {
                self.recv(deadline)?
            } else {
                match self.recv_queued()? {
                    Some(n) => n,
                    None => return Ok(None),
                }
            };
            let mut finished = false;
            for part in split(&self.buf[..n]) {
                let (h, body) = part.map_err(NlError::Decode)?;
                if h.seq != seq || h.pid != self.port {
                    continue; // a late reply to an earlier request
                }
                answered = true;
                match classify(&h, body).map_err(NlError::Decode)? {
                    Kind::Data(b) => out.push(b.to_vec()),
                    Kind::Ack if !dump => finished = true,
                    Kind::Ack | Kind::Ignore => {}
                    Kind::Error(errno) => return Err(NlError::Kernel(errno)),
                    Kind::Done(Ok(())) if dump => finished = true,
                    Kind::Done(Ok(())) => {}
                    Kind::Done(Err(errno)) => return Err(NlError::Kernel(errno)),
                }
            }
            if finished {
                return Ok(Some(out));
            }
        }
    }

    /// Receives one already queued datagram into `self.buf` without waiting; `None` if none is.
    fn recv_queued(&mut self) -> Result<Option<usize>, NlError> {
        loop {
            // SAFETY: `self.buf` is valid for writes of `self.buf.len()` bytes.
            let rc = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    self.buf.as_mut_ptr().cast(),
                    self.buf.len(),
                    libc::MSG_TRUNC | libc::MSG_DONTWAIT,
                )
            };
            if rc >= 0 {
                return self.fits(rc as usize).map(Some);
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => return Ok(None),
                _ => {
                    return Err(NlError::Io {
                        what: "recv(AF_NETLINK)",
                        source: e,
                    })
                }
            }
        }
    }

    /// `n` (a `MSG_TRUNC` length) if the datagram fit the buffer.
    fn fits(&self, n: usize) -> Result<usize, NlError> {
        if n > self.buf.len() {
            return Err(NlError::Decode(DecodeError::new(format!(
                "a {n}-byte datagram did not fit the {}-byte buffer",
                self.buf.len()
            ))));
        }
        Ok(n)
    }

    fn send(&mut self, msg: &[u8]) -> Result<(), NlError> {
        // SAFETY: sockaddr_nl is plain old data; all-zero (pid 0) addresses the kernel.
        let mut kernel: libc::sockaddr_nl = unsafe { mem::zeroed() };
        kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        loop {
            // SAFETY: `msg` is valid for `msg.len()` bytes; `kernel` is a valid sockaddr_nl.
            let rc = unsafe {
                libc::sendto(
                    self.fd.as_raw_fd(),
                    msg.as_ptr().cast(),
                    msg.len(),
                    0,
                    std::ptr::addr_of!(kernel).cast::<libc::sockaddr>(),
                    mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
                )
            };
            if rc >= 0 {
                return if rc as usize == msg.len() {
                    Ok(())
                } else {
                    Err(NlError::Io {
                        what: "sendto(AF_NETLINK)",
                        source: io::Error::new(
                            io::ErrorKind::WriteZero,
                            format!("sent {rc} of {} bytes", msg.len()),
                        ),
                    })
                };
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(NlError::Io {
                    what: "sendto(AF_NETLINK)",
                    source: e,
                });
            }
        }
    }

    /// Receives one datagram into `self.buf`; returns its length.
    fn recv(&mut self, deadline: Instant) -> Result<usize, NlError> {
        loop {
            if Instant::now() > deadline {
                return Err(self.timed_out());
            }
            // SAFETY: `self.buf` is valid for writes of `self.buf.len()` bytes.
            let rc = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    self.buf.as_mut_ptr().cast(),
                    self.buf.len(),
                    libc::MSG_TRUNC,
                )
            };
            if rc >= 0 {
                return self.fits(rc as usize);
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => return Err(self.timed_out()),
                _ => {
                    return Err(NlError::Io {
                        what: "recv(AF_NETLINK)",
                        source: e,
                    })
                }
            }
        }
    }

    fn timed_out(&self) -> NlError {
        NlError::Io {
            what: "recv(AF_NETLINK)",
            source: io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "no complete reply from the kernel within {:?}",
                    self.timeout
                ),
            ),
        }
    }
}

fn set_opt<T>(fd: &OwnedFd, level: i32, name: i32, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a live T of the length we pass.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RTM_GETLINK (18) with NLM_F_REQUEST | NLM_F_ACK (0x5) for one interface index.
    fn getlink(ifindex: i32) -> Vec<u8> {
        let mut msg = vec![0u8; NLMSG_HDRLEN + 16];
        let len = msg.len() as u32;
        msg[0..4].copy_from_slice(&len.to_ne_bytes());
        msg[4..6].copy_from_slice(&18u16.to_ne_bytes());
        msg[6..8].copy_from_slice(&0x5u16.to_ne_bytes());
        msg[NLMSG_HDRLEN + 4..NLMSG_HDRLEN + 8].copy_from_slice(&ifindex.to_ne_bytes());
        msg
    }

    /// NETLINK_ROUTE needs no privileges and exists on every Linux host, so the socket plumbing
    /// (bind, seq, dump framing, DONE) is exercised here without the kernel tier.
    #[test]
    fn rtnetlink_link_dump_round_trip() {
        let mut s = Socket::open(libc::NETLINK_ROUTE, Duration::from_secs(5)).unwrap();
        assert_ne!(s.port(), 0);
        // RTM_GETLINK (18) dump with an empty ifinfomsg (16 bytes).
        let mut msg = vec![0u8; NLMSG_HDRLEN + 16];
        let len = msg.len() as u32;
        msg[0..4].copy_from_slice(&len.to_ne_bytes());
        msg[4..6].copy_from_slice(&18u16.to_ne_bytes());
        msg[6..8].copy_from_slice(&(0x1 | 0x300u16).to_ne_bytes());
        let links = s.dump(msg.clone()).unwrap();
        assert!(!links.is_empty(), "every namespace has at least lo");
        // A second request on the same socket gets a fresh sequence number and works too.
        assert_eq!(s.dump(msg).unwrap().len(), links.len());
    }

    /// A request the kernel never answers (NLMSG_NOOP without NLM_F_ACK) ends in a timeout, not
    /// a hang, and the socket stays usable.
    #[test]
    fn unanswered_requests_time_out() {
        let timeout = Duration::from_millis(200);
        let mut s = Socket::open(libc::NETLINK_ROUTE, timeout).unwrap();
        let mut noop = vec![0u8; NLMSG_HDRLEN];
        noop[0..4].copy_from_slice(&(NLMSG_HDRLEN as u32).to_ne_bytes());
        noop[4..6].copy_from_slice(&super::super::message::NLMSG_NOOP.to_ne_bytes());
        noop[6..8].copy_from_slice(&0x1u16.to_ne_bytes());
        let started = Instant::now();
        match s.request(noop) {
            Err(NlError::Io { source, .. }) => {
                assert_eq!(source.kind(), io::ErrorKind::TimedOut, "{source}")
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(5), "bounded wait");
        let mut msg = vec![0u8; NLMSG_HDRLEN + 16];
        let len = msg.len() as u32;
        msg[0..4].copy_from_slice(&len.to_ne_bytes());
        msg[4..6].copy_from_slice(&18u16.to_ne_bytes());
        msg[6..8].copy_from_slice(&(0x1 | 0x300u16).to_ne_bytes());
        assert!(!s.dump(msg).unwrap().is_empty());
    }

    /// A request the kernel takes without answering is silence at once, not a timeout; one it
    /// answers is not silence; the socket stays in step either way.
    #[test]
    fn silence_is_reported_without_waiting() {
        let mut s = Socket::open(libc::NETLINK_ROUTE, Duration::from_secs(5)).unwrap();
        let noop = |flags: u16| {
            let mut m = vec![0u8; NLMSG_HDRLEN];
            m[0..4].copy_from_slice(&(NLMSG_HDRLEN as u32).to_ne_bytes());
            m[4..6].copy_from_slice(&super::super::message::NLMSG_NOOP.to_ne_bytes());
            m[6..8].copy_from_slice(&flags.to_ne_bytes());
            m
        };
        let started = Instant::now();
        assert!(s.request_or_silence(noop(0x1)).unwrap().is_none());
        assert!(started.elapsed() < Duration::from_secs(1), "no waiting");
        // With NLM_F_ACK the kernel acks a NOOP (a control message) with 0.
        assert_eq!(s.request_or_silence(noop(0x5)).unwrap(), Some(vec![]));
        assert!(s.request_or_silence(noop(0x1)).unwrap().is_none());
        let lo = s.request_or_silence(getlink(1)).unwrap().unwrap();
        assert_eq!(lo.len(), 1, "one RTM_NEWLINK for ifindex 1 (lo)");
    }

    #[test]
    fn kernel_errors_come_back_as_errno() {
        let mut s = Socket::open(libc::NETLINK_ROUTE, Duration::from_secs(5)).unwrap();
        // RTM_GETLINK (not a dump) for ifindex 0x7fffffff: ENODEV.
        match s.request(getlink(0x7fff_ffff)) {
            Err(NlError::Kernel(e)) => assert_eq!(e, libc::ENODEV),
            other => panic!("expected ENODEV, got {other:?}"),
        }
    }
}
