//! One connection's life under one deadline: read the request head (and drain a small body),
//! answer, close. Every phase is bounded in time from the accept, whatever the client does —
//! trickling header bytes, trickling a body it announced, not reading the answer, trickling
//! into the lingering close — so a connection holds one of the
//! [`MAX_CONNECTIONS`](super::MAX_CONNECTIONS) slots for at most [`Budget::connection`]
//! (issue 12: per-read timeouts alone let one byte every 1.5 s hold a slot for hours).
//!
//! | phase | ends by (from accept) | at the cap |
//! |---|---|---|
//! | request line + headers, body drain | [`Budget::request`] (5 s) | 408 |
//! | answer write | [`Budget::connection`] (7 s) | connection closed, answer cut |
//! | lingering close | 1 s after the answer, and [`Budget::connection`]; 64 KiB | closed |

use std::io::{self, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant, SystemTime};

use super::http::{self, BadRequest, Response};
use super::routes;
use super::view::Files;

/// How long each phase of a connection may take, counted from its accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// The request head and any body to drain must have arrived by then (else 408).
    pub request: Duration,
    /// Nothing of the connection outlives this: the answer is written and the lingering close
    /// done by then, or the socket is closed anyway.
    pub connection: Duration,
    /// The lingering close after the answer lasts at most this long (and ends by `connection`).
    pub linger: Duration,
}

impl Budget {
    /// The production budget: a request within 5 s, a slot held at most 7 s.
    pub const DEFAULT: Budget = Budget {
        request: Duration::from_secs(5),
        connection: Duration::from_secs(7),
        linger: Duration::from_secs(1),
    };
}

/// Bytes read and dropped in the lingering close, at most.
pub const LINGER_BYTES: u64 = http::MAX_DISCARD;

/// A socket whose every read and write must end by `deadline`: the socket timeout is set to
/// the time left before each call, and nothing is tried once it has passed. (Plain per-call
/// timeouts would restart with every byte a slow client sends.)
pub struct Timed<'a> {
    stream: &'a TcpStream,
    deadline: Instant,
}

impl<'a> Timed<'a> {
    pub fn new(stream: &'a TcpStream, deadline: Instant) -> Timed<'a> {
        Timed { stream, deadline }
    }

    pub fn set_deadline(&mut self, deadline: Instant) {
        self.deadline = deadline;
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    fn left(&self) -> io::Result<Duration> {
        match self.deadline.checked_duration_since(Instant::now()) {
            Some(d) if !d.is_zero() => Ok(d),
            _ => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection deadline passed",
            )),
        }
    }
}

/// `SO_RCVTIMEO`/`SO_SNDTIMEO` expiry reads as `WouldBlock`; call it what it is.
fn timed_out(r: io::Result<usize>) -> io::Result<usize> {
    r.map_err(|e| {
        if e.kind() == io::ErrorKind::WouldBlock {
            io::Error::new(io::ErrorKind::TimedOut, e)
        } else {
            e
        }
    })
}

impl Read for Timed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.set_read_timeout(Some(self.left()?))?;
        timed_out((&*self.stream).read(buf))
    }
}

impl Write for Timed<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.set_write_timeout(Some(self.left()?))?;
        timed_out((&*self.stream).write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One connection: read one request, answer, close — all within `budget` from now (the accept).
pub fn handle(stream: &TcpStream, files: &Files, budget: Budget) {
    let accepted = Instant::now();
    let request_by = accepted + budget.request;
    let end_by = accepted + budget.connection;
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(Timed::new(stream, request_by));
    let request =
        http::read_request(&mut reader, request_by).and_then(|req| match req.content_length {
            Some(n) => http::discard_body(&mut reader, n, request_by).map(|()| req),
            None => Ok(req),
        });
    let (response, head_only) = match request {
        Ok(req) => (
            routes::respond(&req, files, SystemTime::now()),
            req.method == "HEAD",
        ),
        Err(BadRequest::Closed) => return,
        Err(e) => (
            Response::text(e.status(), format!("{}\n", e.message())),
            false,
        ),
    };
    if response
        .write_to(&mut Timed::new(stream, end_by), head_only)
        .is_err()
    {
        return;
    }
    let _ = stream.shutdown(Shutdown::Write);
    // Lingering close: read what the client still sends (a request we refused half-read) so
    // that closing does not reset the connection before it has read the answer — bounded in
    // time and bytes, since a client may trickle forever.
    let linger_by = (Instant::now() + budget.linger).min(end_by);
    reader.get_mut().set_deadline(linger_by);
    let _ = io::copy(&mut reader.take(LINGER_BYTES), &mut io::sink());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A connected loopback pair (the listener is kept until both ends exist).
    fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (server, _) = l.accept().unwrap();
        (client, server)
    }

    #[test]
    fn reads_end_at_the_deadline_however_often_bytes_come() {
        let (mut client, server) = pair();
        let started = Instant::now();
        let mut t = Timed::new(&server, started + Duration::from_millis(400));
        let feeder = std::thread::spawn(move || {
            // A byte every 50 ms: a per-read timeout would never fire.
            for _ in 0..40 {
                if client.write_all(b"x").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let mut got = 0;
        let err = loop {
            let mut b = [0u8; 16];
            match t.read(&mut b) {
                Ok(0) => panic!("closed"),
                Ok(n) => got += n,
                Err(e) => break e,
            }
        };
        let took = started.elapsed();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
        assert!(got >= 2, "bytes did arrive: {got}");
        assert!(took >= Duration::from_millis(400), "{took:?}");
        assert!(took < Duration::from_secs(2), "{took:?}");
        drop(server);
        feeder.join().unwrap();
    }

    #[test]
    fn writes_end_at_the_deadline_when_the_client_does_not_read() {
        let (client, server) = pair();
        let started = Instant::now();
        let mut t = Timed::new(&server, started + Duration::from_millis(300));
        let chunk = vec![0u8; 64 * 1024];
        // 64 MiB is more than both socket buffers can take (tcp_wmem/tcp_rmem maxima are 4 and
        // 32 MiB, and an unread receive buffer does not grow): the write must block.
        let mut result = Ok(());
        for _ in 0..1024 {
            result = t.write_all(&chunk);
            if result.is_err() {
                break;
            }
        }
        let took = started.elapsed();
        let err = result.expect_err("64 MiB went into a socket nobody reads");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
        assert!(took < Duration::from_secs(2), "{took:?}");
        drop(client);
    }

    #[test]
    fn nothing_is_tried_after_the_deadline() {
        let (mut client, server) = pair();
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        let mut t = Timed::new(&server, Instant::now() - Duration::from_millis(1));
        let mut b = [0u8; 8];
        assert_eq!(t.read(&mut b).unwrap_err().kind(), io::ErrorKind::TimedOut);
        assert_eq!(t.write(b"x").unwrap_err().kind(), io::ErrorKind::TimedOut);
    }
}
