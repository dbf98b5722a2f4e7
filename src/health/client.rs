//! A deliberately small HTTP/1.1 client for one thing: `GET http://address:port/path` against a
//! health endpoint, within a hard time budget, from one checker thread.
//!
//! Why hand-written on `std::net` rather than a general client (see docs/ARCHITECTURE.md,
//! "Decisions"): every property the supervisor relies on is a few lines here and cannot be
//! switched on by the environment or a library default —
//! - **one deadline for the whole check**: connect gets at most half of the budget, and every
//!   later read or write is given only what is left of it, so a node trickling one byte a second
//!   still ends at the deadline (per-read timeouts alone would let it run forever);
//! - **no redirects** (a 3xx is returned as an answer) and **no proxy** (nothing reads
//!   `http_proxy`; the node's address is connected to directly);
//! - **bounded memory and reads, strict framing**: the answer is read through the sans-I/O
//!   [`super::response::ResponseReader`] (the supervisor's event loop reads through the same
//!   one), which holds the limits (protocol text, interim responses, body) and RFC 9112's
//!   framing rules;
//! - **keep-alive**: the connection is reused for the next check when the server allows it, and
//!   a stale reused connection is retried once on a fresh one.
//!
//! Nothing here panics on peer data; every failure is a [`CheckError`].

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::parse::Response;
use super::response::{Progress, ResponseReader};
use super::tls::{Connector, TlsStream};
use super::{CheckError, Phase, BODY_LIMIT};

/// One node's health endpoint and its (possibly kept-alive) connection.
pub struct Client {
    addr: SocketAddr,
    request: Vec<u8>,
    conn: Option<Conn>,
    body_limit: usize,
    /// TLS on every connection when set (its config keeps the session cache for resumption).
    tls: Option<Connector>,
    /// Connections opened so far (for tests and benchmarks: proves reuse).
    pub connects: u64,
    /// TLS handshakes that resumed a session so far (for tests and benchmarks).
    pub resumed: u64,
    /// Bytes received so far (for tests: proves what a hostile answer could make us read).
    pub received: u64,
}

impl Client {
    /// A client for `http://addr/path`. `path` must start with `/`.
    pub fn new(addr: SocketAddr, path: &str) -> Client {
        let request = super::judge::request(addr, path);
        Client {
            addr,
            request,
            conn: None,
            body_limit: BODY_LIMIT,
            tls: None,
            connects: 0,
            resumed: 0,
            received: 0,
        }
    }

    /// Changes the body limit (tests).
    pub fn with_body_limit(mut self, limit: usize) -> Client {
        self.body_limit = limit;
        self
    }

    /// Speaks TLS with `tls` (none: plain HTTP).
    pub fn with_tls(mut self, tls: Option<Connector>) -> Client {
        self.tls = tls;
        self
    }

    /// Performs one GET within `budget`. Never blocks longer than `budget` (plus scheduling).
    pub fn get(&mut self, budget: Duration) -> Result<Response, CheckError> {
        let started = Instant::now();
        let deadline = started.checked_add(budget).unwrap_or(started);
        let budget_ms = u64::try_from(budget.as_millis()).unwrap_or(u64::MAX);
        if let Some(conn) = self.conn.take() {
            match self.attempt(conn, deadline, budget_ms) {
                Ok(resp) => return Ok(resp),
                // The server closed an idle kept-alive connection: not the node's fault, try
                // once more on a fresh connection if time is left.
                Err(Failure { stale: true, .. }) if Instant::now() < deadline => {}
                Err(f) => return Err(f.error),
            }
        }
        let conn = self.connect(started, budget, budget_ms)?;
        self.attempt(conn, deadline, budget_ms).map_err(|f| f.error)
    }

    /// One exchange on `conn`, which is kept for the next check when it may be reused.
    fn attempt(
        &mut self,
        mut conn: Conn,
        deadline: Instant,
        budget_ms: u64,
    ) -> Result<Response, Failure> {
        let result = conn.exchange(&self.request, deadline, budget_ms, self.body_limit);
        self.received = self.received.saturating_add(conn.received);
        conn.received = 0;
        let (resp, keep) = result?;
        if keep {
            self.conn = Some(conn);
        }
        Ok(resp)
    }

    fn connect(
        &mut self,
        started: Instant,
        budget: Duration,
        budget_ms: u64,
    ) -> Result<Conn, CheckError> {
        // Connect may use at most half of the budget: a node that cannot even accept in that
        // time would not answer in the rest, and the other half stays for the response.
        let limit = started
            .checked_add(budget / 2)
            .unwrap_or(started)
            .saturating_duration_since(Instant::now());
        if limit.is_zero() {
            return Err(CheckError::Timeout {
                phase: Phase::Connect,
                budget_ms,
            });
        }
        self.connects = self.connects.saturating_add(1);
        let stream = TcpStream::connect_timeout(&self.addr, limit).map_err(|e| {
            if is_timeout(&e) {
                CheckError::Timeout {
                    phase: Phase::Connect,
                    budget_ms,
                }
            } else {
                CheckError::io(Phase::Connect, &e)
            }
        })?;
        // Small request, small answer: do not wait for Nagle.
        let _ = stream.set_nodelay(true);
        let stream = match &self.tls {
            None => Stream::Plain(stream),
            // The handshake may use what is left of the whole budget.
            Some(tls) => {
                let s = tls.connect(
                    stream,
                    started.checked_add(budget).unwrap_or(started),
                    budget_ms,
                )?;
                if s.resumed() {
                    self.resumed = self.resumed.saturating_add(1);
                }
                Stream::Tls(Box::new(s))
            }
        };
        Ok(Conn {
            stream,
            received: 0,
        })
    }
}

/// A failed exchange; `stale` when a reused connection died before any byte of an answer.
struct Failure {
    error: CheckError,
    stale: bool,
}

/// A connection, plain or TLS; the client sets a timeout before every read and write.
enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream>),
}

impl Stream {
    fn set_read_timeout(&mut self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.set_read_timeout(t),
            Stream::Tls(s) => s.set_read_timeout(t),
        }
    }

    fn set_write_timeout(&mut self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.set_write_timeout(t),
            Stream::Tls(s) => s.set_write_timeout(t),
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
}

struct Conn {
    stream: Stream,
    /// Bytes read since the client last collected the count.
    received: u64,
}

impl Conn {
    /// Sends the request and reads one response. Returns it and whether the connection may be
    /// reused.
    fn exchange(
        &mut self,
        request: &[u8],
        deadline: Instant,
        budget_ms: u64,
        body_limit: usize,
    ) -> Result<(Response, bool), Failure> {
        let t = Timer {
            deadline,
            budget_ms,
        };
        if let Err(error) = self.send(request, &t) {
            let stale = matches!(error, CheckError::Io { .. } | CheckError::Closed { .. });
            return Err(Failure { error, stale });
        }
        let mut reader = ResponseReader::new(body_limit);
        let mut chunk = [0u8; 8192];
        loop {
            let phase = reader.phase();
            let progress = match self.read(&mut chunk, phase, &t) {
                Ok(0) => reader.eof(),
                Ok(n) => reader.feed(chunk.get(..n).unwrap_or(&[])),
                Err(e) => Err(e),
            };
            match progress {
                Ok(Progress::NeedMore) => {}
                Ok(Progress::Done { response, keep }) => return Ok((response, keep)),
                Err(error) => {
                    // A reused connection the server had closed: nothing of an answer came.
                    let stale = reader.received() == 0
                        && matches!(error, CheckError::Io { .. } | CheckError::Closed { .. });
                    return Err(Failure { error, stale });
                }
            }
        }
    }

    fn send(&mut self, request: &[u8], t: &Timer) -> Result<(), CheckError> {
        let mut off = 0;
        while let Some(rest) = request.get(off..).filter(|r| !r.is_empty()) {
            let left = t.left(Phase::Send)?;
            self.stream
                .set_write_timeout(Some(left))
                .map_err(|e| CheckError::io(Phase::Send, &e))?;
            match self.stream.write(rest) {
                Ok(0) => return Err(CheckError::Closed { phase: Phase::Send }),
                Ok(n) => off = off.saturating_add(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(t.map(Phase::Send, &e)),
            }
        }
        Ok(())
    }

    /// Reads some bytes within what is left of the budget; 0 means the peer closed.
    fn read(&mut self, chunk: &mut [u8], phase: Phase, t: &Timer) -> Result<usize, CheckError> {
        let left = t.left(phase)?;
        self.stream
            .set_read_timeout(Some(left))
            .map_err(|e| CheckError::io(phase, &e))?;
        loop {
            match self.stream.read(chunk) {
                Ok(n) => {
                    self.received = self.received.saturating_add(n as u64);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(t.map(phase, &e)),
            }
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// The check's deadline, handed to every read and write.
struct Timer {
    deadline: Instant,
    budget_ms: u64,
}

impl Timer {
    /// Time left, or the timeout error for `phase` when none is.
    fn left(&self, phase: Phase) -> Result<Duration, CheckError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(CheckError::Timeout {
                phase,
                budget_ms: self.budget_ms,
            })
        } else {
            Ok(left)
        }
    }

    fn map(&self, phase: Phase, e: &io::Error) -> CheckError {
        if is_timeout(e) {
            CheckError::Timeout {
                phase,
                budget_ms: self.budget_ms,
            }
        } else {
            CheckError::io(phase, e)
        }
    }
}
