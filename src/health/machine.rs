//! One node's `litmus`, `http`, `tcp` or `agent` check as a state machine driven by socket
//! readiness, for the supervisor's event loop (one thread for every node of a cluster): no call
//! here blocks. [`Machine::begin`] starts a check, [`Machine::advance`] moves it on when its
//! socket is ready or its deadline has passed; each returns [`Step::Wait`] (the descriptor, what
//! to wait for, and until when) or [`Step::Done`] with the check's outcome.
//!
//! The same rules as the blocking [`super::probe::Prober`]: one deadline for the whole check,
//! connect given at most half of it (litmus, http) or all of it (tcp, agent); the answer read
//! through the one [`ResponseReader`] (same limits, same framing rules); TLS through rustls'
//! sans-I/O `ClientConnection` (its session cache resumes sessions); a kept-alive connection
//! reused and, when the server had closed it, retried once on a fresh one within the budget.
//! Addresses are IPs: there is no DNS lookup to block on.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::time::{Duration, Instant};

use rustls::ClientConnection;

use super::agent;
use super::judge::{judge, request, validate};
use super::plan::{timeout_or_io, CheckPlan, PlanError, Probe, Verdict};
use super::response::{Progress, ResponseReader};
use super::tls::Connector;
use super::{CheckError, Health, Phase, BODY_LIMIT};

/// Most socket reads in one step: a peer that keeps sending (within the answer's limits, or TLS
/// records that carry nothing) cannot keep the loop on its node; the rest waits for the next
/// turn, and the deadline still applies.
const STEP_READS: usize = 64;

/// `poll(2)` events a waiting check wants.
pub const READ: i16 = libc::POLLIN;
pub const WRITE: i16 = libc::POLLOUT;

/// Where a check is after a step.
#[derive(Debug)]
pub enum Step {
    /// Waiting for `events` on `fd`, or for `until` (then [`Machine::advance`] times it out).
    Wait {
        fd: RawFd,
        events: i16,
        until: Instant,
    },
    Done(Result<Verdict, CheckError>),
}

/// One node's check, with what is kept between checks (a kept-alive connection, TLS sessions).
pub struct Machine {
    plan: CheckPlan,
    tls: Option<Connector>,
    request: Vec<u8>,
    /// A kept-alive connection of litmus/http, between checks.
    idle: Option<Conn>,
    run: Option<Run>,
    /// Connections opened so far (tests: proves reuse).
    pub connects: u64,
    /// TLS handshakes that resumed a session so far.
    pub resumed: u64,
}

struct Conn {
    sock: TcpStream,
    tls: Option<Box<ClientConnection>>,
}

/// The check in flight.
struct Run {
    conn: Conn,
    stage: Stage,
    /// The connection was kept alive from an earlier check (a failure before any answer may
    /// only mean the server closed it meanwhile).
    reused: bool,
    started: Instant,
    deadline: Instant,
    budget_ms: u64,
    /// The answer allows the connection to carry the next check.
    keep: bool,
}

enum Stage {
    Connect { until: Instant },
    Handshake,
    Send { off: usize },
    Read(ResponseReader),
    Line(Vec<u8>),
}

/// What one non-blocking step came to.
enum Moved {
    Wait(i16),
    Next(Stage),
    /// On to `Stage`, which waits for `i16` first (the answer cannot precede the request: no
    /// read is tried before the socket says there is something).
    NextWait(Stage, i16),
    Done(Result<Verdict, CheckError>),
}

impl Machine {
    /// A machine for `plan` (not an `exec` plan: those run in a thread of their own).
    pub fn new(plan: CheckPlan) -> Result<Machine, PlanError> {
        if matches!(plan.probe, Probe::Exec { .. }) {
            return Err(PlanError::Exec(
                "exec checks do not run in the event loop".into(),
            ));
        }
        let tls = validate(&plan)?;
        let request = match &plan.probe {
            Probe::Litmus { path } | Probe::Http { path, .. } => request(plan.addr, path),
            _ => Vec::new(),
        };
        Ok(Machine {
            plan,
            tls,
            request,
            idle: None,
            run: None,
            connects: 0,
            resumed: 0,
        })
    }

    /// Forgets every connection (after a panic or a failed check); TLS sessions stay cached.
    pub fn reset(&mut self) {
        self.idle = None;
        self.run = None;
    }

    fn http(&self) -> bool {
        matches!(self.plan.probe, Probe::Litmus { .. } | Probe::Http { .. })
    }

    /// Starts a check with `budget`, at `now`.
    pub fn begin(&mut self, now: Instant, budget: Duration) -> Step {
        self.run = None;
        let deadline = now.checked_add(budget).unwrap_or(now);
        let budget_ms = u64::try_from(budget.as_millis()).unwrap_or(u64::MAX);
        let reused = self.idle.take();
        let run = match reused {
            Some(conn) => Ok(Run {
                conn,
                stage: Stage::Send { off: 0 },
                reused: true,
                started: now,
                deadline,
                budget_ms,
                keep: false,
            }),
            None => self.open(now, now, deadline, budget_ms),
        };
        match run {
            Ok(run) => {
                self.run = Some(run);
                self.advance(now)
            }
            Err(e) => Step::Done(Err(e)),
        }
    }

    /// A fresh connection for a check that started at `started`.
    fn open(
        &mut self,
        started: Instant,
        now: Instant,
        deadline: Instant,
        budget_ms: u64,
    ) -> Result<Run, CheckError> {
        let until = if self.http() {
            // As the blocking client: connect may use at most half of the budget.
            let half = deadline.saturating_duration_since(started) / 2;
            started.checked_add(half).unwrap_or(started)
        } else {
            deadline
        };
        if until <= now {
            return Err(CheckError::Timeout {
                phase: Phase::Connect,
                budget_ms,
            });
        }
        self.connects = self.connects.saturating_add(1);
        let sock = connect(&self.plan.addr).map_err(|e| CheckError::io(Phase::Connect, &e))?;
        Ok(Run {
            conn: Conn { sock, tls: None },
            stage: Stage::Connect { until },
            reused: false,
            started,
            deadline,
            budget_ms,
            keep: false,
        })
    }

    /// Moves the check on as far as the socket allows (or times it out at its deadline).
    pub fn advance(&mut self, now: Instant) -> Step {
        loop {
            let Some(run) = self.run.as_mut() else {
                return Step::Done(Err(CheckError::Internal("no check in flight".into())));
            };
            let until = match &run.stage {
                Stage::Connect { until } => *until,
                _ => run.deadline,
            };
            let timeout = CheckError::Timeout {
                phase: phase(&run.stage),
                budget_ms: run.budget_ms,
            };
            // What the socket holds is taken first, even when the loop runs late: an answer
            // that came within the budget counts, as it does for a thread woken by it late.
            // Only a check that would still have to wait is out of time.
            let moved = match self.step() {
                Moved::Wait(_) if now >= until => Moved::Done(Err(timeout)),
                moved => moved,
            };
            let Some(run) = self.run.as_mut() else {
                return Step::Done(Err(CheckError::Internal("no check in flight".into())));
            };
            match moved {
                Moved::Wait(events) => {
                    return Step::Wait {
                        fd: run.conn.sock.as_raw_fd(),
                        events,
                        until: match &run.stage {
                            Stage::Connect { until } => *until,
                            _ => run.deadline,
                        },
                    }
                }
                Moved::Next(stage) => run.stage = stage,
                Moved::NextWait(stage, events) => {
                    run.stage = stage;
                    return Step::Wait {
                        fd: run.conn.sock.as_raw_fd(),
                        events,
                        until: run.deadline,
                    };
                }
                Moved::Done(result) => {
                    if let Some(step) = self.finish(result, now) {
                        return step;
                    }
                }
            }
        }
    }

    /// Ends the run with `result`; `None` when a stale kept-alive connection is retried on a
    /// fresh one instead.
    fn finish(&mut self, result: Result<Verdict, CheckError>, now: Instant) -> Option<Step> {
        let run = self.run.take()?;
        if result.is_ok() && run.keep {
            self.idle = Some(run.conn);
            return Some(Step::Done(result));
        }
        if let Err(e) = &result {
            let nothing_came = match &run.stage {
                Stage::Send { .. } => true,
                Stage::Read(r) => r.received() == 0,
                _ => false,
            };
            let stale = run.reused
                && nothing_came
                && matches!(e, CheckError::Io { .. } | CheckError::Closed { .. })
                && now < run.deadline;
            if stale {
                // The server closed an idle kept-alive connection: not the node's fault.
                match self.open(run.started, now, run.deadline, run.budget_ms) {
                    Ok(fresh) => {
                        self.run = Some(fresh);
                        return None;
                    }
                    Err(e) => return Some(Step::Done(Err(e))),
                }
            }
        }
        Some(Step::Done(result))
    }

    /// One non-blocking move of the run's stage.
    fn step(&mut self) -> Moved {
        let http = self.http();
        let Machine {
            plan,
            tls,
            request,
            run,
            resumed,
            ..
        } = self;
        let Some(run) = run.as_mut() else {
            return Moved::Done(Err(CheckError::Internal("no check in flight".into())));
        };
        let budget_ms = run.budget_ms;
        match &mut run.stage {
            Stage::Connect { .. } => {
                match run.conn.sock.take_error() {
                    Ok(Some(e)) | Err(e) => {
                        return Moved::Done(Err(timeout_or_io(Phase::Connect, &e, budget_ms)))
                    }
                    Ok(None) => {}
                }
                if let Err(e) = run.conn.sock.peer_addr() {
                    return match e.raw_os_error() {
                        Some(libc::ENOTCONN) => Moved::Wait(WRITE),
                        _ => Moved::Done(Err(CheckError::io(Phase::Connect, &e))),
                    };
                }
                // Small request, small answer: do not wait for Nagle.
                let _ = run.conn.sock.set_nodelay(true);
                match (&plan.probe, tls.as_ref()) {
                    (Probe::Tcp, _) => Moved::Done(Ok(Verdict::of(Health::new(100.0)))),
                    (Probe::Agent, _) => Moved::Next(Stage::Line(Vec::with_capacity(64))),
                    (_, Some(c)) => match c.client() {
                        Ok(conn) => {
                            run.conn.tls = Some(Box::new(conn));
                            Moved::Next(Stage::Handshake)
                        }
                        Err(e) => Moved::Done(Err(e)),
                    },
                    (_, None) => Moved::Next(Stage::Send { off: 0 }),
                }
            }
            Stage::Handshake => {
                let (Some(conn), Some(c)) = (run.conn.tls.as_mut(), tls.as_ref()) else {
                    return Moved::Done(Err(CheckError::Internal("TLS without a session".into())));
                };
                let sock = &mut run.conn.sock;
                for _ in 0..STEP_READS {
                    if let Some(m) = flush_tls(conn, sock, |e| c.handshake_error(e, budget_ms)) {
                        return m;
                    }
                    if !conn.is_handshaking() {
                        if conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed) {
                            *resumed = resumed.saturating_add(1);
                        }
                        if let Err(e) = conn.writer().write_all(request) {
                            return Moved::Done(Err(CheckError::io(Phase::Send, &e)));
                        }
                        return Moved::Next(Stage::Send { off: 0 });
                    }
                    match conn.read_tls(sock) {
                        Ok(0) => {
                            return Moved::Done(Err(CheckError::Closed {
                                phase: Phase::Handshake,
                            }))
                        }
                        Ok(_) => {
                            if let Err(e) = conn.process_new_packets() {
                                // Tell the server why (an alert) when rustls has one; best effort.
                                let _ = conn.write_tls(sock);
                                let e = io::Error::new(io::ErrorKind::InvalidData, e);
                                return Moved::Done(Err(c.handshake_error(&e, budget_ms)));
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            return Moved::Wait(READ)
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Moved::Done(Err(c.handshake_error(&e, budget_ms))),
                    }
                }
                // More to read than one step takes: the rest on the next turn.
                Moved::Wait(READ)
            }
            Stage::Send { off } => {
                let sock = &mut run.conn.sock;
                if let Some(conn) = run.conn.tls.as_mut() {
                    if run.reused && *off == 0 {
                        // A kept-alive TLS connection: the request goes in a new record.
                        *off = 1;
                        if let Err(e) = conn.writer().write_all(request) {
                            return Moved::Done(Err(CheckError::io(Phase::Send, &e)));
                        }
                    }
                    if let Some(m) = flush_tls(conn, sock, |e| CheckError::io(Phase::Send, e)) {
                        return m;
                    }
                    return Moved::NextWait(Stage::Read(ResponseReader::new(BODY_LIMIT)), READ);
                }
                while let Some(rest) = request.get(*off..).filter(|r| !r.is_empty()) {
                    match sock.write(rest) {
                        Ok(0) => {
                            return Moved::Done(Err(CheckError::Closed { phase: Phase::Send }))
                        }
                        Ok(n) => *off = off.saturating_add(n),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            return Moved::Wait(WRITE)
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Moved::Done(Err(CheckError::io(Phase::Send, &e))),
                    }
                }
                Moved::NextWait(Stage::Read(ResponseReader::new(BODY_LIMIT)), READ)
            }
            Stage::Read(reader) => {
                let mut chunk = [0u8; 8192];
                for _ in 0..STEP_READS {
                    let got = match run.conn.tls.as_mut() {
                        Some(conn) => tls_read(conn, &mut run.conn.sock, &mut chunk),
                        None => run.conn.sock.read(&mut chunk),
                    };
                    let progress = match got {
                        Ok(0) => reader.eof(),
                        Ok(n) => reader.feed(chunk.get(..n).unwrap_or(&[])),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            return Moved::Wait(READ)
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => Err(CheckError::io(reader.phase(), &e)),
                    };
                    match progress {
                        Ok(Progress::NeedMore) => {}
                        Ok(Progress::Done { response, keep }) => {
                            let verdict = judge(plan, &response);
                            run.keep = keep && http;
                            return Moved::Done(verdict);
                        }
                        Err(e) => return Moved::Done(Err(e)),
                    }
                }
                Moved::Wait(READ)
            }
            Stage::Line(line) => {
                let mut chunk = [0u8; 256];
                for _ in 0..STEP_READS {
                    match run.conn.sock.read(&mut chunk) {
                        Ok(0) => return Moved::Done(agent::verdict(line)),
                        Ok(n) => {
                            line.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
                            if agent::complete(line) {
                                return Moved::Done(agent::verdict(line));
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            return Moved::Wait(READ)
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Moved::Done(Err(CheckError::io(Phase::Line, &e))),
                    }
                }
                Moved::Wait(READ)
            }
        }
    }
}

/// The phase a timeout in `stage` falls in.
fn phase(stage: &Stage) -> Phase {
    match stage {
        Stage::Connect { .. } => Phase::Connect,
        Stage::Handshake => Phase::Handshake,
        Stage::Send { .. } => Phase::Send,
        Stage::Read(r) => r.phase(),
        Stage::Line(_) => Phase::Line,
    }
}

/// Writes rustls' pending records to the non-blocking socket: `None` once all are out, else the
/// move to make — wait for the socket to take more, or end the check with the error `fail`
/// names (the handshake and the request report theirs differently).
fn flush_tls(
    conn: &mut ClientConnection,
    sock: &mut TcpStream,
    fail: impl Fn(&io::Error) -> CheckError,
) -> Option<Moved> {
    while conn.wants_write() {
        match conn.write_tls(sock) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Some(Moved::Wait(WRITE)),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Some(Moved::Done(Err(fail(&e)))),
        }
    }
    None
}

/// Plaintext from a TLS connection: what rustls has decrypted, else one read of records from
/// the socket (`WouldBlock` when none is there yet); 0 is the end of the stream.
fn tls_read(
    conn: &mut ClientConnection,
    sock: &mut TcpStream,
    buf: &mut [u8],
) -> io::Result<usize> {
    for _ in 0..STEP_READS {
        match conn.reader().read(buf) {
            Ok(n) => return Ok(n),
            // Closed without close_notify: for a health answer, as good as a close.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        while conn.wants_write() {
            conn.write_tls(sock)?;
        }
        if conn.read_tls(sock)? == 0 {
            return Ok(0);
        }
        conn.process_new_packets()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    }
    // Records that carried no plaintext, more than one step takes: the rest next turn.
    Err(io::ErrorKind::WouldBlock.into())
}

/// A non-blocking TCP socket connecting to `addr` (the connect is in progress or done).
fn connect(addr: &SocketAddr) -> io::Result<TcpStream> {
    // SAFETY: sockaddr_storage is plain data, valid when zeroed.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let (family, len) = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { std::ptr::write(std::ptr::addr_of_mut!(storage).cast(), sin) };
            (libc::AF_INET, std::mem::size_of::<libc::sockaddr_in>())
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            unsafe { std::ptr::write(std::ptr::addr_of_mut!(storage).cast(), sin6) };
            (libc::AF_INET6, std::mem::size_of::<libc::sockaddr_in6>())
        }
    };
    // SAFETY: plain socket(2); the descriptor is owned by the TcpStream at once.
    let fd = unsafe {
        libc::socket(
            family,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh socket nobody else owns.
    let sock = unsafe { TcpStream::from_raw_fd(fd) };
    // SAFETY: `storage` holds a valid address of `len` bytes.
    let r = unsafe {
        libc::connect(
            fd,
            std::ptr::addr_of!(storage).cast(),
            len as libc::socklen_t,
        )
    };
    if r != 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(e);
        }
    }
    Ok(sock)
}
