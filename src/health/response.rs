//! Reading one HTTP/1.1 response, sans I/O: bytes in ([`ResponseReader::feed`], then
//! [`ResponseReader::eof`] when the peer closed), `NeedMore` or the [`Response`] out. The blocking
//! [`super::client::Client`] and the supervisor's event loop (`supervisor::checks`) both read
//! through it, so there is one parser with one set of limits:
//! - at most [`HEAD_LIMIT`] bytes of protocol text per response — every head, interim (1xx)
//!   ones included (at most [`INTERIM_LIMIT`] of those), then chunk size lines and trailers —
//!   and a body of at most the body limit whatever the framing (Content-Length, chunked, or
//!   until close); sizes from the peer are checked before any arithmetic, so none can wrap;
//! - **strict framing** (RFC 9112 sections 5 and 6.3): conflicting `Content-Length`s,
//!   `Content-Length` beside `Transfer-Encoding`, whitespace before a colon, folded lines and
//!   CR/LF/NUL inside values are malformed answers, never guessed at.
//!
//! Nothing here panics on peer data; every failure is a [`CheckError`].

use super::parse::Response;
use super::{clean_text, CheckError, Phase, HEAD_LIMIT, INTERIM_LIMIT};

/// Longest line of chunked framing (a chunk size with its extensions, or a trailer field).
const CHUNK_LINE_LIMIT: usize = 1024;

/// What one [`ResponseReader::feed`] or [`ResponseReader::eof`] came to.
#[derive(Debug, PartialEq)]
pub enum Progress {
    /// The response is not complete yet: read more.
    NeedMore,
    /// The whole response; `keep` when the connection may carry the next request (the server
    /// allows it, the body was not delimited by close, and no byte followed the answer).
    Done { response: Response, keep: bool },
}

/// Where the reader is within the response.
#[derive(Debug)]
enum State {
    /// Status line and headers; `interim` 1xx responses skipped so far.
    Head { interim: usize },
    /// The body, delimited by `framing`, of `response`.
    Body {
        response: Response,
        framing: Framing,
        keep: bool,
        chunk: Chunk,
    },
    /// The response was given out (or an error was): nothing more is read.
    Finished,
}

/// Where a chunked body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Waiting for a chunk size line.
    Size,
    /// Waiting for `n` bytes of data and their CRLF.
    Data(usize),
    /// Trailer fields, up to the empty line.
    Trailers,
}

/// Reads one response from the bytes it is given.
#[derive(Debug)]
pub struct ResponseReader {
    /// Bytes given but not yet consumed start at `pos`.
    buf: Vec<u8>,
    pos: usize,
    /// Protocol bytes of this response (every head, then the chunk size lines and trailers):
    /// together at most [`HEAD_LIMIT`].
    meta: Budget,
    body_limit: usize,
    body: Vec<u8>,
    state: State,
    /// Bytes given so far.
    received: u64,
}

impl ResponseReader {
    pub fn new(body_limit: usize) -> ResponseReader {
        ResponseReader {
            buf: Vec::new(),
            pos: 0,
            meta: Budget::new(HEAD_LIMIT),
            body_limit,
            body: Vec::new(),
            state: State::Head { interim: 0 },
            received: 0,
        }
    }

    /// Bytes given so far (none: the peer said nothing of an answer).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The phase a timeout or a read error now falls in.
    pub fn phase(&self) -> Phase {
        match self.state {
            State::Head { .. } => Phase::Head,
            _ => Phase::Body,
        }
    }

    /// Takes `bytes` read from the peer.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Progress, CheckError> {
        self.buf.extend_from_slice(bytes);
        self.received = self.received.saturating_add(bytes.len() as u64);
        let r = self.advance();
        if r.is_err() {
            self.state = State::Finished;
        }
        r
    }

    /// The peer closed: the end of a body delimited by close, an error anywhere else.
    pub fn eof(&mut self) -> Result<Progress, CheckError> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Body {
                mut response,
                framing: Framing::UntilClose,
                ..
            } => {
                let n = self.pending();
                response.body = self.consume(n).to_vec();
                Ok(Progress::Done {
                    response,
                    keep: false,
                })
            }
            State::Head { .. } => Err(CheckError::Closed { phase: Phase::Head }),
            _ => Err(CheckError::Closed { phase: Phase::Body }),
        }
    }

    /// Parses as far as the buffered bytes allow.
    fn advance(&mut self) -> Result<Progress, CheckError> {
        loop {
            match std::mem::replace(&mut self.state, State::Finished) {
                State::Finished => return Ok(Progress::NeedMore),
                State::Head { interim } => match self.head(interim)? {
                    Some(next) => self.state = next,
                    None => {
                        self.state = State::Head { interim };
                        return Ok(Progress::NeedMore);
                    }
                },
                State::Body {
                    mut response,
                    framing,
                    keep,
                    chunk,
                } => {
                    // The body when it is all there, else the chunk state to wait in.
                    let next = match framing {
                        Framing::None => Ok(Vec::new()),
                        Framing::Length(n) => {
                            // `n` was checked against the body limit with the head.
                            let n = usize::try_from(n).unwrap_or(usize::MAX);
                            if self.pending() >= n {
                                Ok(self.consume(n).to_vec())
                            } else {
                                Err(chunk)
                            }
                        }
                        Framing::UntilClose => {
                            if self.pending() > self.body_limit {
                                return Err(self.too_large());
                            }
                            Err(chunk)
                        }
                        Framing::Chunked => self
                            .chunked(chunk)?
                            .map(|()| std::mem::take(&mut self.body)),
                    };
                    match next {
                        Ok(body) => {
                            response.body = body;
                            // Bytes after the answer were not asked for: reusing the connection
                            // would read them as the next check's answer.
                            let keep = keep && self.pending() == 0;
                            self.compact();
                            return Ok(Progress::Done { response, keep });
                        }
                        Err(chunk) => {
                            self.state = State::Body {
                                response,
                                framing,
                                keep,
                                chunk,
                            };
                            return Ok(Progress::NeedMore);
                        }
                    }
                }
            }
        }
    }

    fn too_large(&self) -> CheckError {
        CheckError::TooLarge {
            what: "body",
            limit: self.body_limit,
        }
    }

    /// One head, when it is all there: the next state (another head after an interim
    /// response, or the body).
    fn head(&mut self, interim: usize) -> Result<Option<State>, CheckError> {
        let too_large = CheckError::TooLarge {
            what: "headers",
            limit: HEAD_LIMIT,
        };
        let Some(i) = find(self.unparsed(), b"\r\n\r\n") else {
            if !self.meta.fits(self.pending()) {
                return Err(too_large);
            }
            return Ok(None);
        };
        let len = i.saturating_add(4);
        if !self.meta.take(len) {
            return Err(too_large);
        }
        let text = String::from_utf8_lossy(self.consume(len)).into_owned();
        self.compact();
        let (response, version_11) = parse_head(&text)?;
        if response.status == 101 {
            // We never ask for an upgrade; what follows would not be HTTP.
            return Err(CheckError::Malformed(
                "101 Switching Protocols, but no upgrade was asked for".into(),
            ));
        }
        if (100..200).contains(&response.status) {
            let interim = interim.saturating_add(1);
            if interim > INTERIM_LIMIT {
                return Err(CheckError::TooMany {
                    what: "interim (1xx) responses",
                    limit: INTERIM_LIMIT,
                });
            }
            return Ok(Some(State::Head { interim }));
        }
        let framing = framing(&response)?;
        if let Framing::Length(n) = framing {
            if usize::try_from(n).map_or(true, |n| n > self.body_limit) {
                return Err(self.too_large());
            }
        }
        let connection = response.header("connection").map(str::to_ascii_lowercase);
        let keep = match connection.as_deref() {
            Some(c) if c.contains("close") => false,
            Some(c) if c.contains("keep-alive") => true,
            _ => version_11,
        };
        // A body delimited by close cannot be followed by another response.
        let keep = keep && framing != Framing::UntilClose;
        Ok(Some(State::Body {
            response,
            framing,
            keep,
            chunk: Chunk::Size,
        }))
    }

    /// Decodes chunks into `self.body`: `Ok(Ok(()))` at the end of the body, `Ok(Err(chunk))`
    /// when more bytes are needed (and where to resume).
    fn chunked(&mut self, mut chunk: Chunk) -> Result<Result<(), Chunk>, CheckError> {
        loop {
            match chunk {
                Chunk::Size => {
                    let Some(line) = self.line()? else {
                        return Ok(Err(chunk));
                    };
                    let size = chunk_size(&line)?;
                    if size == 0 {
                        chunk = Chunk::Trailers;
                        continue;
                    }
                    // Checked before any arithmetic: a size near 2^64 must not wrap.
                    let size = usize::try_from(size)
                        .ok()
                        .filter(|s| *s <= self.body_limit.saturating_sub(self.body.len()))
                        .ok_or_else(|| self.too_large())?;
                    chunk = Chunk::Data(size);
                }
                Chunk::Data(size) => {
                    // `size` is at most the body limit, so `size + 2` cannot overflow.
                    if self.pending() < size.saturating_add(2) {
                        return Ok(Err(chunk));
                    }
                    let data = self.consume(size).to_vec();
                    self.body.extend_from_slice(&data);
                    if self.consume(2) != b"\r\n" {
                        return Err(CheckError::Malformed("chunk not followed by CRLF".into()));
                    }
                    // Keep the buffer small while decoding a long chunked body.
                    self.compact();
                    chunk = Chunk::Size;
                }
                Chunk::Trailers => match self.line()? {
                    None => return Ok(Err(chunk)),
                    Some(l) if l.is_empty() => return Ok(Ok(())),
                    Some(_) => {}
                },
            }
        }
    }

    /// One CRLF-terminated line of chunked framing, without the CRLF, when it is all there; its
    /// bytes are taken from the protocol budget.
    fn line(&mut self) -> Result<Option<String>, CheckError> {
        match find(self.unparsed(), b"\r\n") {
            Some(i) => {
                if !self.meta.take(i.saturating_add(2)) {
                    return Err(CheckError::TooLarge {
                        what: "headers and chunk framing",
                        limit: HEAD_LIMIT,
                    });
                }
                let s = String::from_utf8_lossy(self.consume(i)).into_owned();
                self.consume(2);
                Ok(Some(s))
            }
            None if self.pending() > CHUNK_LINE_LIMIT => {
                Err(CheckError::Malformed("chunk header line too long".into()))
            }
            None => Ok(None),
        }
    }

    /// Bytes given and not yet consumed.
    fn pending(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

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

    /// Forgets consumed bytes, so the buffer never holds more than what is still to be parsed.
    fn compact(&mut self) {
        self.buf.drain(..self.pos.min(self.buf.len()));
        self.pos = 0;
    }
}

/// A byte budget shared by every head and framing line of one response.
#[derive(Debug)]
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

/// How the body of a response is delimited (RFC 9112 section 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `bytes` in pieces of `step`, then the close when `close`; the first non-`NeedMore`.
    fn read(bytes: &[u8], step: usize, close: bool) -> Result<Progress, CheckError> {
        let mut r = ResponseReader::new(64);
        for piece in bytes.chunks(step.max(1)) {
            match r.feed(piece)? {
                Progress::NeedMore => {}
                done => return Ok(done),
            }
        }
        if close {
            r.eof()
        } else {
            Ok(Progress::NeedMore)
        }
    }

    fn body(p: Result<Progress, CheckError>) -> (Vec<u8>, bool) {
        match p {
            Ok(Progress::Done { response, keep }) => (response.body, keep),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn byte_at_a_time_reads_the_same_answer() {
        let chunked = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\
            Transfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n";
        for step in [1, 2, 7, 1000] {
            assert_eq!(body(read(chunked, step, false)), (b"abcde".to_vec(), true));
            let len = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";
            assert_eq!(body(read(len, step, false)), (b"ok".to_vec(), false));
            let close = b"HTTP/1.1 200 OK\r\n\r\nuntil close";
            assert_eq!(read(close, step, false), Ok(Progress::NeedMore));
            assert_eq!(
                body(read(close, step, true)),
                (b"until close".to_vec(), false)
            );
        }
    }

    #[test]
    fn limits_and_closes() {
        let extra = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokX";
        assert_eq!(body(read(extra, 1000, false)), (b"ok".to_vec(), false));
        let big = b"HTTP/1.1 200 OK\r\nContent-Length: 65\r\n\r\n";
        assert!(matches!(
            read(big, 1000, false),
            Err(CheckError::TooLarge { what: "body", .. })
        ));
        let long = [b"HTTP/1.1 200 OK\r\n\r\n".as_slice(), &[b'x'; 65]].concat();
        assert!(matches!(
            read(&long, 10, true),
            Err(CheckError::TooLarge { what: "body", .. })
        ));
        let head = vec![b'x'; HEAD_LIMIT + 1];
        assert!(matches!(
            read(&head, 4096, false),
            Err(CheckError::TooLarge {
                what: "headers",
                ..
            })
        ));
        assert_eq!(
            read(b"HTTP/1.1 200", 3, true),
            Err(CheckError::Closed { phase: Phase::Head })
        );
        assert_eq!(
            read(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", 3, true),
            Err(CheckError::Closed { phase: Phase::Body })
        );
        let mut r = ResponseReader::new(64);
        assert_eq!(r.phase(), Phase::Head);
        assert_eq!(
            r.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"),
            Ok(Progress::NeedMore)
        );
        assert_eq!((r.phase(), r.received()), (Phase::Body, 38));
    }

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
