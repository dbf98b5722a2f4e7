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
//! - **bounded memory and reads**: at most [`HEAD_LIMIT`] bytes of protocol text per check —
//!   every head, interim (1xx) ones included (at most [`INTERIM_LIMIT`] of those), then chunk
//!   size lines and trailers — and a body of at most [`BODY_LIMIT`] whatever the framing
//!   (Content-Length, chunked, or until close); sizes from the peer are checked before any
//!   arithmetic, so none can wrap;
//! - **strict framing** (RFC 9112 sections 5 and 6.3): conflicting `Content-Length`s,
//!   `Content-Length` beside `Transfer-Encoding`, whitespace before a colon, folded lines and
//!   CR/LF/NUL inside values are malformed answers, never guessed at;
//! - **keep-alive**: the connection is reused for the next check when the server allows it, and
//!   a stale reused connection is retried once on a fresh one.
//!
//! Nothing here panics on peer data; every failure is a [`CheckError`].

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::parse::Response;
use super::tls::{Connector, TlsStream};
use super::{clean_text, CheckError, Phase, BODY_LIMIT, HEAD_LIMIT, INTERIM_LIMIT};

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
            buf: Vec::with_capacity(1024),
            pos: 0,
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
    /// Bytes read but not yet consumed start at `pos`.
    buf: Vec<u8>,
    pos: usize,
    /// Bytes read since the client last collected the count.
    received: u64,
}

/// How the body of a response is delimited (RFC 9112 section 6.3).
#[derive(Debug, PartialEq, Eq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

/// Longest line of chunked framing (a chunk size with its extensions, or a trailer field).
const CHUNK_LINE_LIMIT: usize = 1024;

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
        let fresh_bytes = self.pending();
        // Protocol bytes of this exchange (every head, interim ones included, then the chunk
        // size lines and trailers): together at most HEAD_LIMIT.
        let mut meta = Budget::new(HEAD_LIMIT);
        let (resp, framing, keep) = match self.head(&mut meta, &t) {
            Ok(x) => x,
            Err(error) => {
                let stale = fresh_bytes == 0
                    && self.received == 0
                    && matches!(error, CheckError::Io { .. } | CheckError::Closed { .. });
                return Err(Failure { error, stale });
            }
        };
        // A body delimited by close cannot be followed by another response.
        let keep = keep && !matches!(framing, Framing::UntilClose);
        let mut resp = resp;
        resp.body = self
            .body(framing, body_limit, &mut meta, &t)
            .map_err(|error| Failure {
                error,
                stale: false,
            })?;
        // Bytes after the answer were not asked for: reusing the connection would read them as
        // the next check's answer. Such a connection is not reused.
        let keep = keep && self.pending() == 0;
        self.compact();
        Ok((resp, keep))
    }

    /// Bytes read and not yet consumed.
    fn pending(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Forgets consumed bytes, so the buffer never holds more than what is still to be parsed.
    fn compact(&mut self) {
        self.buf.drain(..self.pos.min(self.buf.len()));
        self.pos = 0;
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
                    let got = chunk.get(..n).unwrap_or(&[]);
                    self.buf.extend_from_slice(got);
                    self.received = self.received.saturating_add(got.len() as u64);
                    return Ok(got.len());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(t.map(phase, &e)),
            }
        }
    }

    /// Status line and headers of the answer. Interim (1xx) responses before it are skipped, at
    /// most [`INTERIM_LIMIT`] of them, and count towards the same byte budget as the answer's
    /// own head.
    fn head(
        &mut self,
        meta: &mut Budget,
        t: &Timer,
    ) -> Result<(Response, Framing, bool), CheckError> {
        let too_large = CheckError::TooLarge {
            what: "headers",
            limit: HEAD_LIMIT,
        };
        let mut interim = 0usize;
        loop {
            let len = loop {
                if let Some(i) = find(self.unparsed(), b"\r\n\r\n") {
                    break i.saturating_add(4);
                }
                if !meta.fits(self.pending()) {
                    return Err(too_large);
                }
                if self.fill(Phase::Head, t)? == 0 {
                    return Err(CheckError::Closed { phase: Phase::Head });
                }
            };
            if !meta.take(len) {
                return Err(too_large);
            }
            let text =
                String::from_utf8_lossy(self.unparsed().get(..len).unwrap_or(&[])).into_owned();
            self.pos = self.pos.saturating_add(len);
            self.compact();
            let (resp, version_11) = parse_head(&text)?;
            if resp.status == 101 {
                // We never ask for an upgrade; what follows would not be HTTP.
                return Err(CheckError::Malformed(
                    "101 Switching Protocols, but no upgrade was asked for".into(),
                ));
            }
            if (100..200).contains(&resp.status) {
                interim += 1;
                if interim > INTERIM_LIMIT {
                    return Err(CheckError::TooMany {
                        what: "interim (1xx) responses",
                        limit: INTERIM_LIMIT,
                    });
                }
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

    /// The bytes read and not yet consumed.
    fn unparsed(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }

    /// Consumes `n` bytes (at most what is buffered) and returns them.
    fn consume(&mut self, n: usize) -> &[u8] {
        let start = self.pos.min(self.buf.len());
        let end = start.saturating_add(n).min(self.buf.len());
        self.pos = end;
        self.buf.get(start..end).unwrap_or(&[])
    }

    /// Reads until at least `n` bytes are buffered past `pos`.
    fn want(&mut self, n: usize, t: &Timer) -> Result<(), CheckError> {
        while self.pending() < n {
            if self.fill(Phase::Body, t)? == 0 {
                return Err(CheckError::Closed { phase: Phase::Body });
            }
        }
        Ok(())
    }

    fn body(
        &mut self,
        framing: Framing,
        limit: usize,
        meta: &mut Budget,
        t: &Timer,
    ) -> Result<Vec<u8>, CheckError> {
        let too_large = || CheckError::TooLarge {
            what: "body",
            limit,
        };
        match framing {
            Framing::None => Ok(Vec::new()),
            Framing::Length(n) => {
                let n = usize::try_from(n)
                    .ok()
                    .filter(|n| *n <= limit)
                    .ok_or_else(too_large)?;
                self.want(n, t)?;
                Ok(self.consume(n).to_vec())
            }
            Framing::UntilClose => {
                while self.fill(Phase::Body, t)? != 0 {
                    if self.pending() > limit {
                        return Err(too_large());
                    }
                }
                let n = self.pending();
                Ok(self.consume(n).to_vec())
            }
            Framing::Chunked => {
                let mut body = Vec::new();
                loop {
                    let line = self.line(meta, t)?;
                    let size = chunk_size(&line)?;
                    if size == 0 {
                        // Trailer fields, up to the empty line; they share the head budget.
                        while !self.line(meta, t)?.is_empty() {}
                        return Ok(body);
                    }
                    // Checked before any arithmetic: a size near 2^64 must not wrap.
                    let size = usize::try_from(size)
                        .ok()
                        .filter(|s| *s <= limit.saturating_sub(body.len()))
                        .ok_or_else(too_large)?;
                    // `size` is at most `limit` now, so `size + 2` cannot overflow.
                    self.want(size.saturating_add(2), t)?;
                    body.extend_from_slice(self.consume(size));
                    if self.consume(2) != b"\r\n" {
                        return Err(CheckError::Malformed("chunk not followed by CRLF".into()));
                    }
                    // Keep the buffer small while decoding a long chunked body.
                    self.compact();
                }
            }
        }
    }

    /// One CRLF-terminated line of chunked framing, without the CRLF; its bytes are taken from
    /// `meta`.
    fn line(&mut self, meta: &mut Budget, t: &Timer) -> Result<String, CheckError> {
        loop {
            if let Some(i) = find(self.unparsed(), b"\r\n") {
                if !meta.take(i.saturating_add(2)) {
                    return Err(CheckError::TooLarge {
                        what: "headers and chunk framing",
                        limit: HEAD_LIMIT,
                    });
                }
                let s = String::from_utf8_lossy(self.consume(i)).into_owned();
                self.consume(2);
                return Ok(s);
            }
            if self.pending() > CHUNK_LINE_LIMIT {
                return Err(CheckError::Malformed("chunk header line too long".into()));
            }
            if self.fill(Phase::Body, t)? == 0 {
                return Err(CheckError::Closed { phase: Phase::Body });
            }
        }
    }
}

/// A byte budget shared by every head and framing line of one exchange.
struct Budget {
    left: usize,
}

impl Budget {
    fn new(limit: usize) -> Budget {
        Budget { left: limit }
    }

    /// Whether `n` more bytes would still fit.
    fn fits(&self, n: usize) -> bool {
        n <= self.left
    }

    /// Takes `n` bytes; false (and nothing taken) when they do not fit.
    fn take(&mut self, n: usize) -> bool {
        match self.left.checked_sub(n) {
            Some(left) => {
                self.left = left;
                true
            }
            None => false,
        }
    }
}

/// The size of a chunk from its line (RFC 9112 section 7.1: `chunk-size [ chunk-ext ]`, the
/// size being 1*HEXDIG). Anything else, or a size that does not fit 64 bits, is malformed.
fn chunk_size(line: &str) -> Result<u64, CheckError> {
    let (size, _ext) = line.split_once(';').unwrap_or((line, ""));
    // Only whitespace before the `;` of an extension is allowed (BWS), none in front.
    let size = size.trim_end_matches([' ', '\t']);
    let bad = || CheckError::Malformed(format!("bad chunk size {:?}", clean_text(size)));
    if size.is_empty() || !size.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    u64::from_str_radix(size, 16).map_err(|_| bad())
}

/// The values of every `name` field, each split at commas (RFC 9110 section 5.3: repeated
/// fields are one comma-separated list), trimmed, empty members dropped.
fn list<'a>(resp: &'a Response, name: &str) -> Vec<&'a str> {
    resp.headers
        .iter()
        .filter(|(n, _)| n == name)
        .flat_map(|(_, v)| v.split(','))
        .map(|v| v.trim_matches([' ', '\t']))
        .filter(|v| !v.is_empty())
        .collect()
}

/// How the answer's body is delimited, strictly per RFC 9112 section 6.3: a response with both
/// `Transfer-Encoding` and `Content-Length`, or with `Content-Length` values that disagree or
/// are not plain decimal numbers, is refused (the RFC's "ought to be handled as an error" and
/// "MUST treat it as an unrecoverable error"); exact repeats of one length are accepted, as
/// RFC 9110 section 8.6 allows.
fn framing(resp: &Response) -> Result<Framing, CheckError> {
    if resp.status == 204 || resp.status == 304 {
        return Ok(Framing::None);
    }
    let te = list(resp, "transfer-encoding");
    let lengths = list(resp, "content-length");
    if !te.is_empty() {
        if !lengths.is_empty() {
            return Err(CheckError::Malformed(
                "both Transfer-Encoding and Content-Length (RFC 9112 section 6.3)".into(),
            ));
        }
        let chunked = te
            .iter()
            .filter(|c| c.eq_ignore_ascii_case("chunked"))
            .count();
        let last_chunked = te.last().is_some_and(|c| c.eq_ignore_ascii_case("chunked"));
        return match (chunked, last_chunked) {
            (0, _) => Ok(Framing::UntilClose),
            (1, true) => Ok(Framing::Chunked),
            _ => Err(CheckError::Malformed(format!(
                "Transfer-Encoding {:?}: chunked must be applied once, last",
                clean_text(&te.join(", "))
            ))),
        };
    }
    let mut length = None;
    for v in lengths {
        let n = Some(v)
            .filter(|v| v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| {
                CheckError::Malformed(format!("bad Content-Length {:?}", clean_text(v)))
            })?;
        match length {
            Some(m) if m != n => {
                return Err(CheckError::Malformed(format!(
                    "conflicting Content-Length values {m} and {n}"
                )))
            }
            _ => length = Some(n),
        }
    }
    Ok(length.map_or(Framing::UntilClose, Framing::Length))
}

/// Whether `name` is a field name (RFC 9110 section 5.1: a token).
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Parses `HTTP/1.x SSS reason` and the header lines. Returns whether the version is 1.1.
/// Strict where leniency could make two readers disagree: no whitespace before the colon, no
/// obsolete line folding, no CR, LF or NUL inside a value (RFC 9112 section 5).
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
        .filter(|s| s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|s| (100..600).contains(s))
        .ok_or_else(|| {
            CheckError::Malformed(format!("status line {:?}", clean_text(status_line)))
        })?;
    let reason = clean_text(parts.next().unwrap_or(""));
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let bad = |what: &str| CheckError::Malformed(format!("{what} {:?}", clean_text(line)));
        if line.starts_with([' ', '\t']) {
            return Err(bad("obsolete line folding in"));
        }
        let (name, value) = line.split_once(':').ok_or_else(|| bad("header line"))?;
        if !is_token(name) {
            return Err(bad("bad header name in"));
        }
        if value.contains(['\r', '\n', '\0']) {
            return Err(bad("CR, LF or NUL in the value of"));
        }
        headers.push((
            name.to_ascii_lowercase(),
            value.trim_matches([' ', '\t']).to_string(),
        ));
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

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
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
        assert_eq!(framing(&r), Ok(Framing::Length(9)));
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

    #[test]
    fn chunk_sizes_are_strict_hex_and_never_wrap() {
        assert_eq!(chunk_size("1a"), Ok(26));
        assert_eq!(chunk_size("1A ;name=value"), Ok(26));
        assert_eq!(chunk_size("ffffffffffffffff"), Ok(u64::MAX));
        assert_eq!(chunk_size("0000000000000000000005"), Ok(5));
        for bad in ["", "+5", "-1", " 5", "0x5", "5 5", "g", "10000000000000000"] {
            assert!(
                matches!(chunk_size(bad), Err(CheckError::Malformed(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn budget_never_goes_below_zero() {
        let mut b = Budget::new(10);
        assert!(b.fits(10) && !b.fits(11));
        assert!(b.take(4));
        assert!(!b.take(7), "6 left");
        assert!(b.take(6));
        assert!(!b.take(usize::MAX));
    }

    #[test]
    fn framing_follows_rfc_9112_section_6_3() {
        let head = |h: &str| {
            parse_head(&format!("HTTP/1.1 200 OK\r\n{h}\r\n"))
                .unwrap()
                .0
        };
        let f = |h: &str| framing(&head(h));
        assert_eq!(f("Content-Length: 5"), Ok(Framing::Length(5)));
        assert_eq!(
            f("Content-Length: 5\r\ncontent-length: 5"),
            Ok(Framing::Length(5))
        );
        assert_eq!(f("Content-Length: 5,5"), Ok(Framing::Length(5)));
        assert_eq!(f("Transfer-Encoding: gzip, chunked"), Ok(Framing::Chunked));
        assert_eq!(f("Transfer-Encoding: gzip"), Ok(Framing::UntilClose));
        assert_eq!(f("X-Other: 1"), Ok(Framing::UntilClose));
        assert_eq!(
            f("Content-Length: 18446744073709551615"),
            Ok(Framing::Length(u64::MAX))
        );
        for bad in [
            "Content-Length: 5\r\nContent-Length: 6",
            "Content-Length: 5, 6",
            "Content-Length: 18446744073709551616",
            "Content-Length: -1",
            "Content-Length: 5\r\nTransfer-Encoding: chunked",
            "Transfer-Encoding: chunked, gzip, chunked",
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
        ] {
            assert!(matches!(f(bad), Err(CheckError::Malformed(_))), "{bad:?}");
        }
        let mut r = head("Content-Length: 5\r\nTransfer-Encoding: chunked");
        r.status = 204;
        assert_eq!(
            framing(&r),
            Ok(Framing::None),
            "204 has no body whatever it says"
        );
    }

    #[test]
    fn header_lines_are_strict() {
        for bad in [
            "HTTP/1.1 200 OK\r\nX-Health : 5\r\n",
            "HTTP/1.1 200 OK\r\n X-Health: 5\r\n",
            "HTTP/1.1 200 OK\r\n: 5\r\n",
            "HTTP/1.1 200 OK\r\nX Health: 5\r\n",
            "HTTP/1.1 200 OK\r\nX-Health: 5\0\r\n",
            "HTTP/1.1 200 OK\r\nX-Health: 5\n6\r\n",
            "HTTP/1.1 +20 OK\r\n",
        ] {
            assert!(parse_head(bad).is_err(), "{bad:?}");
        }
        let (r, _) = parse_head("HTTP/1.1 200 OK\r\nX-Health:\t 5 \t\r\n").unwrap();
        assert_eq!(r.header("x-health"), Some("5"));
    }
}
