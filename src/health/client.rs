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
//! - **bounded memory**: headers at most [`HEAD_LIMIT`], body at most [`BODY_LIMIT`] whatever the
//!   framing (Content-Length, chunked, or until close);
//! - **keep-alive**: the connection is reused for the next check when the server allows it, and
//!   a stale reused connection is retried once on a fresh one.
//!
//! Nothing here panics on peer data; every failure is a [`CheckError`].

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::parse::Response;
use super::{clean_text, CheckError, Phase, BODY_LIMIT, HEAD_LIMIT};

/// One node's health endpoint and its (possibly kept-alive) connection.
pub struct Client {
    addr: SocketAddr,
    request: Vec<u8>,
    conn: Option<Conn>,
    body_limit: usize,
    /// Connections opened so far (for tests and benchmarks: proves reuse).
    pub connects: u64,
}

impl Client {
    /// A client for `http://addr/path`. `path` must start with `/`.
    pub fn new(addr: SocketAddr, path: &str) -> Client {
        let host = match addr {
            SocketAddr::V4(a) => format!("{}:{}", a.ip(), a.port()),
            SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
        };
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: big_brother/{}\r\n\
             Accept: text/plain\r\nConnection: keep-alive\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        )
        .into_bytes();
        Client {
            addr,
            request,
            conn: None,
            body_limit: BODY_LIMIT,
            connects: 0,
        }
    }

    /// Changes the body limit (tests).
    pub fn with_body_limit(mut self, limit: usize) -> Client {
        self.body_limit = limit;
        self
    }

    /// Performs one GET within `budget`. Never blocks longer than `budget` (plus scheduling).
    pub fn get(&mut self, budget: Duration) -> Result<Response, CheckError> {
        let started = Instant::now();
        let deadline = started + budget;
        let budget_ms = u64::try_from(budget.as_millis()).unwrap_or(u64::MAX);
        if let Some(mut conn) = self.conn.take() {
            match conn.exchange(&self.request, deadline, budget_ms, self.body_limit) {
                Ok((resp, keep)) => {
                    if keep {
                        self.conn = Some(conn);
                    }
                    return Ok(resp);
                }
                // The server closed an idle kept-alive connection: not the node's fault, try
                // once more on a fresh connection if time is left.
                Err(Failure { stale: true, .. }) if Instant::now() < deadline => {}
                Err(f) => return Err(f.error),
            }
        }
        let mut conn = self.connect(started, budget, budget_ms)?;
        match conn.exchange(&self.request, deadline, budget_ms, self.body_limit) {
            Ok((resp, keep)) => {
                if keep {
                    self.conn = Some(conn);
                }
                Ok(resp)
            }
            Err(f) => Err(f.error),
        }
    }

    fn connect(
        &mut self,
        started: Instant,
        budget: Duration,
        budget_ms: u64,
    ) -> Result<Conn, CheckError> {
        // Connect may use at most half of the budget: a node that cannot even accept in that
        // time would not answer in the rest, and the other half stays for the response.
        let limit = (started + budget / 2).saturating_duration_since(Instant::now());
        if limit.is_zero() {
            return Err(CheckError::Timeout {
                phase: Phase::Connect,
                budget_ms,
            });
        }
        self.connects += 1;
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
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(1024),
            pos: 0,
        })
    }
}

/// A failed exchange; `stale` when a reused connection died before any byte of an answer.
struct Failure {
    error: CheckError,
    stale: bool,
}

struct Conn {
    stream: TcpStream,
    /// Bytes read but not yet consumed start at `pos`.
    buf: Vec<u8>,
    pos: usize,
}

/// How the body of a response is delimited (RFC 9112 section 6.3).
enum Framing {
    None,
    Length(usize),
    Chunked,
    UntilClose,
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
        let fresh_bytes = self.buf.len() - self.pos;
        let (resp, framing, keep) = match self.head(&t) {
            Ok(x) => x,
            Err(error) => {
                let stale = fresh_bytes == 0
                    && self.buf.len() == self.pos
                    && matches!(error, CheckError::Io { .. } | CheckError::Closed { .. });
                return Err(Failure { error, stale });
            }
        };
        // A body delimited by close cannot be followed by another response.
        let keep = keep && !matches!(framing, Framing::UntilClose);
        let mut resp = resp;
        resp.body = self
            .body(framing, body_limit, &t)
            .map_err(|error| Failure {
                error,
                stale: false,
            })?;
        // Forget consumed bytes so the buffer never grows across checks.
        self.buf.drain(..self.pos);
        self.pos = 0;
        Ok((resp, keep))
    }

    fn send(&mut self, request: &[u8], t: &Timer) -> Result<(), CheckError> {
        let mut off = 0;
        while off < request.len() {
            let left = t.left(Phase::Send)?;
            self.stream
                .set_write_timeout(Some(left))
                .map_err(|e| CheckError::io(Phase::Send, &e))?;
            match self.stream.write(&request[off..]) {
                Ok(0) => return Err(CheckError::Closed { phase: Phase::Send }),
                Ok(n) => off += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(t.map(Phase::Send, &e)),
            }
        }
        Ok(())
    }

    /// Reads more bytes into the buffer; 0 means the peer closed.
    fn fill(&mut self, phase: Phase, t: &Timer) -> Result<usize, CheckError> {
        let left = t.left(phase)?;
        self.stream
            .set_read_timeout(Some(left))
            .map_err(|e| CheckError::io(phase, &e))?;
        let mut chunk = [0u8; 8192];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(t.map(phase, &e)),
            }
        }
    }

    /// Status line and headers; 1xx interim responses are skipped.
    fn head(&mut self, t: &Timer) -> Result<(Response, Framing, bool), CheckError> {
        loop {
            let end = loop {
                if let Some(i) = find(&self.buf[self.pos..], b"\r\n\r\n") {
                    break self.pos + i + 4;
                }
                if self.buf.len() - self.pos > HEAD_LIMIT {
                    return Err(CheckError::TooLarge {
                        what: "headers",
                        limit: HEAD_LIMIT,
                    });
                }
                if self.fill(Phase::Head, t)? == 0 {
                    return Err(CheckError::Closed { phase: Phase::Head });
                }
            };
            let text = String::from_utf8_lossy(&self.buf[self.pos..end]).into_owned();
            self.pos = end;
            let (resp, version_11) = parse_head(&text)?;
            if (100..200).contains(&resp.status) {
                continue;
            }
            let framing = framing(&resp)?;
            let connection = resp.header("connection").map(str::to_ascii_lowercase);
            let keep = match connection.as_deref() {
                Some(c) if c.contains("close") => false,
                Some(c) if c.contains("keep-alive") => true,
                _ => version_11,
            };
            return Ok((resp, framing, keep));
        }
    }

    fn body(&mut self, framing: Framing, limit: usize, t: &Timer) -> Result<Vec<u8>, CheckError> {
        let too_large = CheckError::TooLarge {
            what: "body",
            limit,
        };
        match framing {
            Framing::None => Ok(Vec::new()),
            Framing::Length(n) if n > limit => Err(too_large),
            Framing::Length(n) => {
                while self.buf.len() - self.pos < n {
                    if self.fill(Phase::Body, t)? == 0 {
                        return Err(CheckError::Closed { phase: Phase::Body });
                    }
                }
                let body = self.buf[self.pos..self.pos + n].to_vec();
                self.pos += n;
                Ok(body)
            }
            Framing::UntilClose => {
                while self.fill(Phase::Body, t)? != 0 {
                    if self.buf.len() - self.pos > limit {
                        return Err(too_large);
                    }
                }
                let body = self.buf[self.pos..].to_vec();
                self.pos = self.buf.len();
                Ok(body)
            }
            Framing::Chunked => {
                let mut body = Vec::new();
                loop {
                    let line = self.line(t)?;
                    let size_text = line.split(';').next().unwrap_or("").trim();
                    let size = usize::from_str_radix(size_text, 16).map_err(|_| {
                        CheckError::Malformed(format!("bad chunk size {:?}", clean_text(size_text)))
                    })?;
                    if size == 0 {
                        // Trailer fields, up to the empty line.
                        let mut trailer = 0;
                        while !self.line(t)?.is_empty() {
                            trailer += 1;
                            if trailer > 100 {
                                return Err(CheckError::TooLarge {
                                    what: "trailer",
                                    limit: HEAD_LIMIT,
                                });
                            }
                        }
                        return Ok(body);
                    }
                    if body.len() + size > limit {
                        return Err(too_large);
                    }
                    while self.buf.len() - self.pos < size + 2 {
                        if self.fill(Phase::Body, t)? == 0 {
                            return Err(CheckError::Closed { phase: Phase::Body });
                        }
                    }
                    body.extend_from_slice(&self.buf[self.pos..self.pos + size]);
                    if &self.buf[self.pos + size..self.pos + size + 2] != b"\r\n" {
                        return Err(CheckError::Malformed("chunk not followed by CRLF".into()));
                    }
                    self.pos += size + 2;
                    // Keep the buffer small while decoding a long chunked body.
                    self.buf.drain(..self.pos);
                    self.pos = 0;
                }
            }
        }
    }

    /// One CRLF-terminated line of chunked framing, without the CRLF.
    fn line(&mut self, t: &Timer) -> Result<String, CheckError> {
        loop {
            if let Some(i) = find(&self.buf[self.pos..], b"\r\n") {
                let s = String::from_utf8_lossy(&self.buf[self.pos..self.pos + i]).into_owned();
                self.pos += i + 2;
                return Ok(s);
            }
            if self.buf.len() - self.pos > 1024 {
                return Err(CheckError::Malformed("chunk header line too long".into()));
            }
            if self.fill(Phase::Body, t)? == 0 {
                return Err(CheckError::Closed { phase: Phase::Body });
            }
        }
    }
}

fn framing(resp: &Response) -> Result<Framing, CheckError> {
    if resp.status == 204 || resp.status == 304 {
        return Ok(Framing::None);
    }
    if let Some(te) = resp.header("transfer-encoding") {
        if te.to_ascii_lowercase().trim_end().ends_with("chunked") {
            return Ok(Framing::Chunked);
        }
        return Ok(Framing::UntilClose);
    }
    match resp.header("content-length") {
        Some(v) => {
            v.trim().parse::<usize>().map(Framing::Length).map_err(|_| {
                CheckError::Malformed(format!("bad Content-Length {:?}", clean_text(v)))
            })
        }
        None => Ok(Framing::UntilClose),
    }
}

/// Parses `HTTP/1.x SSS reason` and the header lines. Returns whether the version is 1.1.
fn parse_head(text: &str) -> Result<(Response, bool), CheckError> {
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let version_11 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => {
            return Err(CheckError::Malformed(format!(
                "status line {:?}",
                clean_text(status_line)
            )))
        }
    };
    let status = parts
        .next()
        .filter(|s| s.len() == 3)
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|s| (100..600).contains(s))
        .ok_or_else(|| {
            CheckError::Malformed(format!("status line {:?}", clean_text(status_line)))
        })?;
    let reason = clean_text(parts.next().unwrap_or(""));
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| CheckError::Malformed(format!("header line {:?}", clean_text(line))))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    Ok((
        Response {
            status,
            reason,
            headers,
            body: Vec::new(),
        },
        version_11,
    ))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_parsing() {
        let (r, v11) =
            parse_head("HTTP/1.1 503 Service Unavailable\r\nX-Health: 0\r\nContent-Length: 9\r\n")
                .unwrap();
        assert!(v11);
        assert_eq!(r.status, 503);
        assert_eq!(r.reason, "Service Unavailable");
        assert_eq!(r.header("x-health"), Some("0"));
        assert!(matches!(framing(&r), Ok(Framing::Length(9))));
        for bad in [
            "SSH-2.0-OpenSSH",
            "HTTP/1.1 20 OK",
            "HTTP/1.1 abc OK",
            "HTTP/2 200",
        ] {
            assert!(parse_head(bad).is_err(), "{bad}");
        }
        assert!(parse_head("HTTP/1.0 200 OK\r\nno colon here\r\n").is_err());
    }
}
