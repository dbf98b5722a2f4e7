//! Just enough HTTP/1.1 (RFC 9112) for a read-only status API: one request per connection,
//! `Connection: close` on every answer, no request bodies. Reading is bounded in size (request
//! line, header count and bytes) and in time (the caller sets socket timeouts and a deadline), so
//! a slow or hostile client costs one capped thread for a few seconds at most.

use std::io::{self, BufRead, Read, Write};
use std::time::Instant;

/// Longest request line accepted (method, target, version).
pub const MAX_REQUEST_LINE: usize = 4096;
/// Most header bytes accepted (all header lines together).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Most header lines accepted.
pub const MAX_HEADERS: usize = 64;
/// Most body bytes read and discarded before answering a request that sent one (so the client
/// sees our answer rather than a reset).
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
            BadRequest::HeadersTooLarge => 431,
            BadRequest::Version => 505,
            BadRequest::Timeout => 408,
        }
    }

    pub fn message(&self) -> String {
        match self {
            BadRequest::Malformed(why) => format!("Bad Request: {why}"),
            BadRequest::UriTooLong => format!("Request line longer than {MAX_REQUEST_LINE} bytes"),
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
/// end. `Ok(false)` when the limit was hit first.
fn read_line(
    r: &mut impl BufRead,
    buf: &mut Vec<u8>,
    limit: usize,
    deadline: Instant,
) -> Result<bool, BadRequest> {
    buf.clear();
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
        let room = limit + 2 - buf.len().min(limit + 2);
        let used = take.min(room);
        buf.extend_from_slice(&available[..used]);
        r.consume(used);
        if done && used == take {
            buf.pop(); // \n
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(buf.len() <= limit);
        }
        if buf.len() > limit {
            return Ok(false);
        }
    }
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
    if !target.starts_with('/') || target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(BadRequest::Malformed("target is not an absolute path"));
    }
    let path = target.split('?').next().unwrap_or("").to_string();
    let method = method.to_string();

    let mut content_length = None;
    let mut total = 0;
    let mut count = 0;
    loop {
        let room = MAX_HEADER_BYTES.saturating_sub(total);
        if !read_line(r, &mut line, room, deadline)? {
            return Err(BadRequest::HeadersTooLarge);
        }
        if line.is_empty() {
            break;
        }
        total += line.len() + 2;
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
        let name = &line[..colon];
        if name.is_empty() || name.iter().any(|b| b.is_ascii_whitespace()) {
            return Err(BadRequest::Malformed("bad header name"));
        }
        if name.eq_ignore_ascii_case(b"content-length") {
            let value = std::str::from_utf8(&line[colon + 1..])
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or(BadRequest::Malformed("bad Content-Length"))?;
            if content_length.is_some_and(|c| c != value) {
                return Err(BadRequest::Malformed("conflicting Content-Length"));
            }
            content_length = Some(value);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            // No request here has a body; a chunked one cannot be skipped safely.
            return Err(BadRequest::Malformed("request bodies are not accepted"));
        }
    }
    Ok(Request {
        method,
        path,
        content_length,
    })
}

/// Reads and drops a small request body so that closing the socket does not reset it before
/// the client has read our answer. Larger bodies are left (the client gets what it gets).
pub fn discard_body(r: &mut impl Read, len: u64) {
    if len <= MAX_DISCARD {
        let _ = io::copy(&mut r.take(len), &mut io::sink());
    }
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
