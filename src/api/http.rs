//! Just enough HTTP/1.1 (RFC 9112) for a read-only status API: one request per connection,
//! `Connection: close` on every answer, no request bodies. Reading is bounded in size (request
//! line, header count and bytes, body drained) and in time (a deadline checked here; the
//! connection's reader enforces it on every read, see [`super::conn`]), so a slow or hostile
//! client costs one capped thread for a few seconds at most.
//!
//! What is refused, and why (RFC 9112 §2.2, RFC 9110 §5.5): a bare CR anywhere in the head (400
//! at once, not a wait for a line feed that never comes); control characters other than HTAB in
//! a header value, NUL first (400); a header name that is not a token; a target that is not
//! visible ASCII; a `Content-Length` that is not all digits, overflows, or disagrees with
//! another (400), or exceeds what we drain (413); any `Transfer-Encoding` (400). A bare LF ends
//! a line like CRLF does: §2.2 allows a recipient to accept it, and with one request per
//! connection and no body there is no second request a disagreeing proxy could smuggle.

use std::io::{self, BufRead, Read, Write};
use std::time::Instant;

/// Longest request line accepted (method, target, version).
pub const MAX_REQUEST_LINE: usize = 4096;
/// Most header bytes accepted (all header lines together).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Most header lines accepted.
pub const MAX_HEADERS: usize = 64;
/// Most body bytes read and discarded before answering a request that sent one (so the client
/// sees our answer rather than a reset); a longer announced body is refused with 413 unread.
pub const MAX_DISCARD: u64 = 64 * 1024;

/// A parsed request head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// `Content-Length`, when the client sent a body.
    pub content_length: Option<u64>,
}

/// Why a request could not be read; each maps to a status code.
#[derive(Debug, PartialEq, Eq)]
pub enum BadRequest {
    /// 400: not HTTP as we speak it.
    Malformed(&'static str),
    /// 414: the request line is too long.
    UriTooLong,
    /// 413: an announced body longer than [`MAX_DISCARD`].
    BodyTooLarge,
    /// 431: too many or too large headers.
    HeadersTooLarge,
    /// 505: not HTTP/1.0 or HTTP/1.1.
    Version,
    /// 408: the client was too slow.
    Timeout,
    /// The client went away before sending a whole request (nothing to answer).
    Closed,
}

impl BadRequest {
    pub fn status(&self) -> u16 {
        match self {
            BadRequest::Malformed(_) | BadRequest::Closed => 400,
            BadRequest::UriTooLong => 414,
            BadRequest::BodyTooLarge => 413,
            BadRequest::HeadersTooLarge => 431,
            BadRequest::Version => 505,
            BadRequest::Timeout => 408,
        }
    }

    pub fn message(&self) -> String {
        match self {
            BadRequest::Malformed(why) => format!("Bad Request: {why}"),
            BadRequest::UriTooLong => format!("Request line longer than {MAX_REQUEST_LINE} bytes"),
            BadRequest::BodyTooLarge => {
                format!("Request body longer than {MAX_DISCARD} bytes; this API takes none")
            }
            BadRequest::HeadersTooLarge => {
                format!("More than {MAX_HEADERS} headers or {MAX_HEADER_BYTES} header bytes")
            }
            BadRequest::Version => "Only HTTP/1.0 and HTTP/1.1 are spoken here".into(),
            BadRequest::Timeout => "Request not received in time".into(),
            BadRequest::Closed => "Connection closed".into(),
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Reads one line (up to `limit` bytes, CRLF or LF terminated) into `buf`, without the line
/// end. `Ok(false)` when the limit was hit first. A CR not followed by LF is refused as soon as
/// the byte after it arrives (RFC 9112 §2.2: a bare CR makes the element invalid).
fn read_line(
    r: &mut impl BufRead,
    buf: &mut Vec<u8>,
    limit: usize,
    deadline: Instant,
) -> Result<bool, BadRequest> {
    buf.clear();
    // Each pass consumes at least one byte or returns; the buffer stops at `limit + 2`.
    loop {
        if Instant::now() >= deadline {
            return Err(BadRequest::Timeout);
        }
        let available = match r.fill_buf() {
            Ok([]) => return Err(BadRequest::Closed),
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if is_timeout(&e) => return Err(BadRequest::Timeout),
            Err(_) => return Err(BadRequest::Closed),
        };
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        let room = (limit + 2).saturating_sub(buf.len());
        let used = take.min(room);
        buf.extend_from_slice(&available[..used]);
        r.consume(used);
        if done && used == take {
            buf.pop(); // \n
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            if buf.contains(&b'\r') {
                return Err(BadRequest::Malformed("bare CR in the request head"));
            }
            return Ok(buf.len() <= limit);
        }
        // Not at the line end yet: only the last byte may be a CR (its LF may still come).
        if let Some((_, before)) = buf.split_last() {
            if before.contains(&b'\r') {
                return Err(BadRequest::Malformed("bare CR in the request head"));
            }
        }
        if buf.len() > limit {
            return Ok(false);
        }
    }
}

/// RFC 9110 §5.6.2 `tchar`: what a header name is made of.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 9110 §5.5: a field value is visible ASCII, SP, HTAB and obs-text (0x80–0xFF); CR, LF and
/// NUL must be refused, and so are the other controls (terminal escapes, DEL).
fn is_field_byte(b: u8) -> bool {
    b == b'\t' || (b >= b' ' && b != 0x7f)
}

/// `Content-Length = 1*DIGIT` (RFC 9110 §8.6), surrounded by optional SP/HTAB; no sign, no
/// list, and no value that does not fit in a u64.
fn parse_content_length(value: &[u8]) -> Result<u64, BadRequest> {
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !ows(b)).unwrap_or(value.len());
    let end = value.iter().rposition(|b| !ows(b)).map_or(start, |i| i + 1);
    let digits = &value[start..end];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(BadRequest::Malformed("Content-Length is not a number"));
    }
    digits.iter().try_fold(0u64, |n, d| {
        n.checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
            .ok_or(BadRequest::Malformed("Content-Length out of range"))
    })
}

/// Reads a request head: the request line and the headers up to the empty line.
pub fn read_request(r: &mut impl BufRead, deadline: Instant) -> Result<Request, BadRequest> {
    let mut line = Vec::new();
    // RFC 9112 §2.2: ignore at least one empty line before the request line.
    let mut blank = 0;
    loop {
        if !read_line(r, &mut line, MAX_REQUEST_LINE, deadline)? {
            return Err(BadRequest::UriTooLong);
        }
        if !line.is_empty() {
            break;
        }
        blank += 1;
        if blank > 2 {
            return Err(BadRequest::Malformed("empty request line"));
        }
    }
    let text = std::str::from_utf8(&line)
        .map_err(|_| BadRequest::Malformed("request line is not UTF-8"))?;
    let mut parts = text.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(BadRequest::Malformed(
            "request line is not METHOD SP TARGET SP VERSION",
        ));
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(BadRequest::Malformed("method is not an uppercase token"));
    }
    match version {
        "HTTP/1.1" | "HTTP/1.0" => {}
        v if v.starts_with("HTTP/") && v.len() > 5 => return Err(BadRequest::Version),
        _ => return Err(BadRequest::Malformed("no HTTP version")),
    }
    // Visible ASCII only (RFC 3986): nothing a 404 could echo into a terminal.
    if !target.starts_with('/') || !target.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(BadRequest::Malformed("target is not an absolute path"));
    }
    let path = target.split('?').next().unwrap_or("").to_string();
    let method = method.to_string();

    let mut content_length = None;
    let mut total = 0usize;
    let mut count = 0usize;
    loop {
        let room = MAX_HEADER_BYTES.saturating_sub(total);
        if !read_line(r, &mut line, room, deadline)? {
            return Err(BadRequest::HeadersTooLarge);
        }
        if line.is_empty() {
            break;
        }
        total = total.saturating_add(line.len() + 2);
        count += 1;
        if count > MAX_HEADERS || total > MAX_HEADER_BYTES {
            return Err(BadRequest::HeadersTooLarge);
        }
        if line[0] == b' ' || line[0] == b'\t' {
            return Err(BadRequest::Malformed("obsolete header line folding"));
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Err(BadRequest::Malformed("header line without ':'"));
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return Err(BadRequest::Malformed("bad header name"));
        }
        if !value.iter().all(|&b| is_field_byte(b)) {
            return Err(BadRequest::Malformed("control character in a header value"));
        }
        if name.eq_ignore_ascii_case(b"content-length") {
            let value = parse_content_length(value)?;
            if content_length.is_some_and(|c| c != value) {
                return Err(BadRequest::Malformed("conflicting Content-Length"));
            }
            content_length = Some(value);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            // No request here has a body; a chunked one cannot be skipped safely.
            return Err(BadRequest::Malformed("request bodies are not accepted"));
        }
    }
    if content_length.is_some_and(|n| n > MAX_DISCARD) {
        return Err(BadRequest::BodyTooLarge);
    }
    Ok(Request {
        method,
        path,
        content_length,
    })
}

/// Reads and drops a request body of `len` bytes (at most [`MAX_DISCARD`], see
/// [`read_request`]) so that closing the socket does not reset it before the client has read
/// our answer. The body is part of the request: it must arrive by the same `deadline`.
pub fn discard_body(r: &mut impl Read, len: u64, deadline: Instant) -> Result<(), BadRequest> {
    let mut left = len.min(MAX_DISCARD);
    let mut buf = [0u8; 4096];
    // Each pass reads at least one byte or returns.
    while left > 0 {
        if Instant::now() >= deadline {
            return Err(BadRequest::Timeout);
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        match r.read(&mut buf[..want]) {
            Ok(0) => return Err(BadRequest::Closed),
            Ok(n) => left = left.saturating_sub(n as u64),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return Err(BadRequest::Timeout),
            Err(_) => return Err(BadRequest::Closed),
        }
    }
    Ok(())
}

/// An answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// Extra headers (name, value).
    pub headers: Vec<(&'static str, String)>,
}

pub const TEXT: &str = "text/plain; charset=utf-8";
pub const JSON: &str = "application/json";
/// The Prometheus text exposition format, version 0.0.4.
pub const PROMETHEUS: &str = "text/plain; version=0.0.4; charset=utf-8";

impl Response {
    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            content_type: TEXT,
            body: body.into().into_bytes(),
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    /// Writes the answer; `head_only` for HEAD (headers, no body).
    pub fn write_to(&self, w: &mut impl Write, head_only: bool) -> io::Result<()> {
        let mut out = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\nConnection: close\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        );
        for (k, v) in &self.headers {
            out.push_str(k);
            out.push_str(": ");
            out.push_str(v);
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        if !head_only {
            bytes.extend_from_slice(&self.body);
        }
        w.write_all(&bytes)?;
        w.flush()
    }
}

/// Reason phrases of the codes we send.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        413 => "Content Too Large",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn parse(raw: &[u8]) -> Result<Request, BadRequest> {
        let mut r = io::BufReader::with_capacity(16, raw);
        read_request(&mut r, Instant::now() + Duration::from_secs(5))
    }

    #[test]
    fn good_requests() {
        let r = parse(b"GET /cluster/webapp?x=1 HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
        assert_eq!(
            (r.method.as_str(), r.path.as_str()),
            ("GET", "/cluster/webapp")
        );
        assert_eq!(r.content_length, None);
        let r = parse(b"\r\nHEAD / HTTP/1.0\nX-A: b\n\n").unwrap();
        assert_eq!(r.method, "HEAD");
        let r = parse(b"PUT /cluster/w HTTP/1.1\r\nContent-Length: 2\r\n\r\nOK").unwrap();
        assert_eq!(r.content_length, Some(2));
    }

    #[test]
    fn bad_requests_get_the_right_codes() {
        let cases: &[(&[u8], u16)] = &[
            (b"GET /\r\n\r\n", 400),
            (b"GET  / HTTP/1.1\r\n\r\n", 400),
            (b"get / HTTP/1.1\r\n\r\n", 400),
            (b"GET / HTTP/2.0\r\n\r\n", 505),
            (b"GET / FTP/1.0\r\n\r\n", 400),
            (b"GET http://x/ HTTP/1.1\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\n folded\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400),
            (
                b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                400,
            ),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                400,
            ),
            (b"\xff\xfe / HTTP/1.1\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: a", 400),
        ];
        for (raw, code) in cases {
            let got = parse(raw).map(|_| 200).unwrap_or_else(|e| e.status());
            assert_eq!(got, *code, "{:?}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn limits() {
        let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(MAX_REQUEST_LINE));
        assert_eq!(parse(long.as_bytes()), Err(BadRequest::UriTooLong));
        let fits = format!(
            "GET /{} HTTP/1.1\r\n\r\n",
            "a".repeat(MAX_REQUEST_LINE - 15)
        );
        assert!(parse(fits.as_bytes()).is_ok());
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: 1\r\n")).collect();
        let r = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(parse(r.as_bytes()), Err(BadRequest::HeadersTooLarge));
        let big = format!(
            "GET / HTTP/1.1\r\nX: {}\r\n\r\n",
            "b".repeat(MAX_HEADER_BYTES)
        );
        assert_eq!(parse(big.as_bytes()), Err(BadRequest::HeadersTooLarge));
        let endless = vec![b'a'; 1 << 20];
        assert_eq!(parse(&endless), Err(BadRequest::UriTooLong));
    }

    /// Gives its bytes, then behaves like a socket whose client sends nothing more (a read
    /// timeout): whatever is decided before that was decided at once.
    struct ThenSilence<'a>(&'a [u8]);

    impl Read for ThenSilence<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::new(io::ErrorKind::WouldBlock, "no more"));
            }
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn parse_open(raw: &[u8]) -> Result<Request, BadRequest> {
        let mut r = io::BufReader::with_capacity(16, ThenSilence(raw));
        read_request(&mut r, Instant::now() + Duration::from_secs(5))
    }

    /// Issue 12: CR-only line ends waited for a line feed until the budget ran out (408).
    #[test]
    fn bare_cr_is_refused_at_once() {
        let cases: &[&[u8]] = &[
            b"GET / HTTP/1.1\rHost: a\r\r",
            b"GET / HTTP/1.1\r\rHost: a",
            b"GET /\r HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n",
            b"GET / HTTP/1.1\r\nX-A: a\r\r\n\r\n",
            b"GET / HTTP/1.1\r\n\r\r\n",
        ];
        for raw in cases {
            assert_eq!(
                parse_open(raw),
                Err(BadRequest::Malformed("bare CR in the request head")),
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
        // A CR at the very end may still be followed by its LF: wait (here: time out).
        assert_eq!(parse_open(b"GET / HTTP/1.1\r"), Err(BadRequest::Timeout));
    }

    /// RFC 9112 §2.2 lets a recipient take a bare LF as a line end; we do (one request per
    /// connection, no body: nothing for a disagreeing intermediary to smuggle).
    #[test]
    fn bare_lf_ends_a_line() {
        for raw in [
            &b"GET /a HTTP/1.1\nHost: x\n\n"[..],
            b"GET /a HTTP/1.1\r\nHost: x\n\r\n",
            b"\nGET /a HTTP/1.1\nContent-Length: 0\n\n",
        ] {
            let r = parse_open(raw).unwrap();
            assert_eq!(r.path, "/a", "{:?}", String::from_utf8_lossy(raw));
        }
    }

    /// Issue 12: a NUL in a header value was accepted; so were the other controls.
    #[test]
    fn header_values_and_names() {
        for b in (0u8..0x20).chain([0x7f]) {
            if b == b'\t' || b == b'\n' || b == b'\r' {
                continue;
            }
            let raw = [&b"GET / HTTP/1.1\r\nX-A: a"[..], &[b], b"b\r\n\r\n"].concat();
            assert_eq!(
                parse_open(&raw),
                Err(BadRequest::Malformed("control character in a header value")),
                "{b:#04x}"
            );
        }
        assert!(parse_open(b"GET / HTTP/1.1\r\nX-A: a\tb \xff\xfe\r\n\r\n").is_ok());
        assert!(parse_open(b"GET / HTTP/1.1\r\nX-A:\r\n\r\n").is_ok());
        for name in ["X A", "X(A)", "X\u{1b}", "X/A", "X\"", "\u{e9}"] {
            let raw = format!("GET / HTTP/1.1\r\n{name}: a\r\n\r\n");
            assert_eq!(
                parse_open(raw.as_bytes()),
                Err(BadRequest::Malformed("bad header name")),
                "{name:?}"
            );
        }
        assert!(parse_open(b"GET / HTTP/1.1\r\nX-!#$%&'*+.^_`|~9: a\r\n\r\n").is_ok());
    }

    #[test]
    fn targets_are_visible_ascii() {
        for t in ["/\u{202e}x", "/\u{e9}", "/a\u{7f}", "/a\u{1b}[1m"] {
            let raw = format!("GET {t} HTTP/1.1\r\n\r\n");
            assert_eq!(
                parse_open(raw.as_bytes()),
                Err(BadRequest::Malformed("target is not an absolute path")),
                "{t:?}"
            );
        }
        assert_eq!(
            parse_open(b"GET /cluster/a%1b?x=%22 HTTP/1.1\r\n\r\n").map(|r| r.path),
            Ok("/cluster/a%1b".into())
        );
    }

    /// Numbers a client made up: only digits, no overflow, no disagreement, no
    /// Transfer-Encoding, nothing longer than we drain.
    #[test]
    fn content_length_and_transfer_encoding() {
        let cl = |v: &str| {
            let raw = format!("GET / HTTP/1.1\r\nContent-Length:{v}\r\n\r\n");
            parse_open(raw.as_bytes()).map(|r| r.content_length)
        };
        assert_eq!(cl(" 0"), Ok(Some(0)));
        assert_eq!(cl("\t007 "), Ok(Some(7)));
        assert_eq!(cl("65536"), Ok(Some(MAX_DISCARD)));
        assert_eq!(cl("65537"), Err(BadRequest::BodyTooLarge));
        assert_eq!(cl("18446744073709551615"), Err(BadRequest::BodyTooLarge));
        let out_of_range = Err(BadRequest::Malformed("Content-Length out of range"));
        assert_eq!(cl("18446744073709551616"), out_of_range);
        assert_eq!(cl("99999999999999999999"), out_of_range);
        assert_eq!(cl(&"9".repeat(4000)), out_of_range);
        for bad in [
            "", " ", "+1", "-1", "1,1", "1, 1", "0x10", "1 1", "1e3", "١",
        ] {
            assert_eq!(
                cl(bad),
                Err(BadRequest::Malformed("Content-Length is not a number")),
                "{bad:?}"
            );
        }
        let two = |a: &str, b: &str| {
            let raw =
                format!("GET / HTTP/1.1\r\nContent-Length: {a}\r\ncontent-length: {b}\r\n\r\n");
            parse_open(raw.as_bytes()).map(|r| r.content_length)
        };
        assert_eq!(two("2", "02"), Ok(Some(2)));
        assert_eq!(
            two("2", "3"),
            Err(BadRequest::Malformed("conflicting Content-Length"))
        );
        for te in ["chunked", "identity", "gzip, chunked"] {
            for version in ["1.0", "1.1"] {
                let raw = format!("POST / HTTP/{version}\r\nTransfer-Encoding: {te}\r\n\r\n");
                assert_eq!(
                    parse_open(raw.as_bytes()),
                    Err(BadRequest::Malformed("request bodies are not accepted")),
                    "{te} {version}"
                );
            }
        }
        assert_eq!(BadRequest::BodyTooLarge.status(), 413);
    }

    #[test]
    fn bodies_are_drained_within_the_deadline() {
        let later = Instant::now() + Duration::from_secs(5);
        let mut r = &b"0123456789rest"[..];
        assert_eq!(discard_body(&mut r, 10, later), Ok(()));
        assert_eq!(r, b"rest", "exactly the body");
        let mut r = &b"0123"[..];
        assert_eq!(discard_body(&mut r, 10, later), Err(BadRequest::Closed));
        let mut r = ThenSilence(b"0123");
        assert_eq!(discard_body(&mut r, 10, later), Err(BadRequest::Timeout));
        let mut r = &b"0123"[..];
        let past = Instant::now() - Duration::from_millis(1);
        assert_eq!(discard_body(&mut r, 4, past), Err(BadRequest::Timeout));
        assert_eq!(discard_body(&mut r, 0, past), Ok(()));
        // Never more than MAX_DISCARD, whatever the caller asks.
        let big = vec![b'x'; 2 * MAX_DISCARD as usize];
        let mut r = &big[..];
        assert_eq!(discard_body(&mut r, u64::MAX, later), Ok(()));
        assert_eq!(r.len() as u64, MAX_DISCARD);
    }

    #[test]
    fn a_deadline_in_the_past_times_out() {
        let mut r = io::BufReader::new(&b"GET / HTTP/1.1\r\n\r\n"[..]);
        assert_eq!(
            read_request(&mut r, Instant::now() - Duration::from_millis(1)),
            Err(BadRequest::Timeout)
        );
    }

    #[test]
    fn responses() {
        let mut out = Vec::new();
        Response::text(405, "nope")
            .with_header("Allow", "GET, HEAD")
            .write_to(&mut out, false)
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
            "{text}"
        );
        assert!(text.contains("\r\nContent-Length: 4\r\n"), "{text}");
        assert!(text.contains("\r\nAllow: GET, HEAD\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\nnope"), "{text}");
        let mut out = Vec::new();
        Response::text(200, "body")
            .write_to(&mut out, true)
            .unwrap();
        assert!(String::from_utf8(out).unwrap().ends_with(
            "Content-Length: 4\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
        ));
    }
}
