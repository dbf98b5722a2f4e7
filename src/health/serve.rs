//! A tiny litmus_paper look-alike on loopback, for `big_brother demo` and the tests: it answers
//! `GET /<service>/status` exactly as litmus_paper 1.6.2 does (200 when health > 0, 503 when 0,
//! `X-Health`, `X-Health-Forced`, `Forced Reason:`), with keep-alive, and lets the caller change
//! the health or force it while it runs.
//!
//! [`LitmusServer::start_tls`] serves the same over TLS (rustls; the caller brings the
//! certificate), for the TLS checks' tests and benchmark.
//!
//! One accept thread plus one thread per connection; every blocking call has a timeout so
//! dropping the server stops all of them within about a second.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// `litmusctl force …` as litmus_paper stores it.
#[derive(Clone, Debug, PartialEq)]
pub enum Forced {
    Down(String),
    Up(String),
    /// `force health N`: the answer is min(measured, N).
    Health(f64, String),
}

/// What the endpoint currently reports.
#[derive(Clone, Debug, PartialEq)]
pub struct Litmus {
    pub service: String,
    /// Measured health, 0..=100.
    pub measured: f64,
    pub forced: Option<Forced>,
}

impl Litmus {
    /// The health litmus_paper would report.
    pub fn health(&self) -> f64 {
        match &self.forced {
            None => self.measured,
            Some(Forced::Down(_)) => 0.0,
            Some(Forced::Up(_)) => 100.0,
            Some(Forced::Health(n, _)) => self.measured.min(*n),
        }
    }

    /// The whole HTTP/1.1 answer to `GET path`, as bytes go on the wire: [`Self::answer`]
    /// framed with a `Content-Length`, and `Connection: close` when the client asked for it.
    /// One rendering for every server that plays litmus_paper, so they answer byte for byte
    /// alike.
    pub fn http_response(&self, path: &str, close: bool) -> String {
        let (status, headers, body) = self.answer(path);
        let reason = match status {
            200 => "OK",
            503 => "Service Unavailable",
            _ => "Not Found",
        };
        let mut out = format!("HTTP/1.1 {status} {reason}\r\n");
        for (n, v) in headers {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
        if close {
            out.push_str("Connection: close\r\n");
        }
        out.push_str("\r\n");
        out.push_str(&body);
        out
    }

    /// Status, headers and body of litmus_paper's answer to `GET path`.
    pub fn answer(&self, path: &str) -> (u16, Vec<(&'static str, String)>, String) {
        let wanted = format!("/{}/status", self.service);
        if path != wanted {
            return (
                404,
                vec![
                    ("Content-Type", "text/plain".into()),
                    ("X-Health", "0".into()),
                ],
                "NOT FOUND".into(),
            );
        }
        let health = self.health();
        let mut headers = vec![
            ("Content-Type", "text/plain".to_string()),
            ("X-Health", fmt_num(health)),
        ];
        let mut body = format!(
            "Health: {}\nMeasured Health: {}\n",
            fmt_num(health),
            fmt_num(self.measured)
        );
        if let Some(f) = &self.forced {
            let (how, reason) = match f {
                Forced::Down(r) => ("down", r),
                Forced::Up(r) => ("up", r),
                Forced::Health(_, r) => ("health", r),
            };
            headers.push(("X-Health-Forced", how.into()));
            body.push_str(&format!("Forced Reason: {reason}\n"));
        }
        body.push_str("Dependency::HTTP(http://localhost/heartbeat): OK\n");
        body.push_str(&format!(
            "Metric::CPULoad(100): {}\n",
            fmt_num(self.measured)
        ));
        let status = if health > 0.0 { 200 } else { 503 };
        (status, headers, body)
    }
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

struct Shared {
    litmus: Mutex<Litmus>,
    /// Bytes sent instead of litmus_paper's answer, then the connection is closed (tests: a
    /// node whose endpoint goes bad).
    raw: Mutex<Option<Vec<u8>>>,
    stop: AtomicBool,
    /// Serve TLS with this configuration (its session cache lets clients resume).
    tls: Option<Arc<rustls::ServerConfig>>,
    requests: AtomicU64,
    connections: AtomicU64,
}

/// A running look-alike endpoint. Dropping it stops it.
pub struct LitmusServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl LitmusServer {
    /// Listens on `addr` (use port 0 for any free port) and serves `/<service>/status`.
    pub fn start(addr: SocketAddr, service: &str, measured: f64) -> io::Result<LitmusServer> {
        LitmusServer::start_with(addr, service, measured, None)
    }

    /// The same over TLS with `config`.
    pub fn start_tls(
        addr: SocketAddr,
        service: &str,
        measured: f64,
        config: Arc<rustls::ServerConfig>,
    ) -> io::Result<LitmusServer> {
        LitmusServer::start_with(addr, service, measured, Some(config))
    }

    fn start_with(
        addr: SocketAddr,
        service: &str,
        measured: f64,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> io::Result<LitmusServer> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            litmus: Mutex::new(Litmus {
                service: service.to_string(),
                measured,
                forced: None,
            }),
            raw: Mutex::new(None),
            stop: AtomicBool::new(false),
            tls,
            requests: AtomicU64::new(0),
            connections: AtomicU64::new(0),
        });
        let s = Arc::clone(&shared);
        let accept = thread::Builder::new()
            .name(format!("litmus-{}", addr.port()))
            .spawn(move || accept_loop(&listener, &s))?;
        Ok(LitmusServer {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn lock(&self) -> MutexGuard<'_, Litmus> {
        self.shared.litmus.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_measured(&self, measured: f64) {
        self.lock().measured = measured.clamp(0.0, 100.0);
    }

    /// `litmusctl force …` (`None`: `litmusctl delete`).
    pub fn force(&self, forced: Option<Forced>) {
        self.lock().forced = forced;
    }

    /// Answers every request with `raw` instead (and closes the connection), until `None`.
    pub fn set_raw(&self, raw: Option<Vec<u8>>) {
        *self.shared.raw.lock().unwrap_or_else(|e| e.into_inner()) = raw;
    }

    pub fn litmus(&self) -> Litmus {
        self.lock().clone()
    }

    /// Requests answered so far.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Connections accepted so far (keep-alive keeps this at one per client).
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }
}

impl Drop for LitmusServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept call.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        shared.connections.fetch_add(1, Ordering::Relaxed);
        let s = Arc::clone(shared);
        // Connection threads end on their own (read timeout + stop flag); not joined.
        let _ = thread::Builder::new()
            .name("litmus-conn".into())
            .spawn(move || {
                let _ = match &s.tls {
                    None => serve_connection(stream, &s),
                    Some(config) => serve_tls(stream, config, &s),
                };
            });
    }
}

fn serve_tls(
    stream: TcpStream,
    config: &Arc<rustls::ServerConfig>,
    shared: &Shared,
) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_millis(500)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    // The handshake's flights and session tickets go out as separate writes: without this,
    // Nagle and delayed ACKs add ~40 ms to every new connection.
    stream.set_nodelay(true)?;
    let conn = rustls::ServerConnection::new(Arc::clone(config)).map_err(io::Error::other)?;
    serve_stream(rustls::StreamOwned::new(conn, stream), shared)
}

fn serve_connection(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_millis(500)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    serve_stream(stream, shared)
}

fn serve_stream<S: Read + Write>(stream: S, shared: &Shared) -> io::Result<()> {
    let mut reader = BufReader::new(stream);
    loop {
        // Request line, skipping idle timeouts until told to stop.
        let mut line = String::new();
        loop {
            if shared.stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            match reader.read_line(&mut line) {
                Ok(0) => return Ok(()),
                Ok(_) => break,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(e),
            }
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut close = line.trim_end().ends_with("HTTP/1.0");
        let mut header_bytes = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 {
                return Ok(());
            }
            header_bytes += h.len();
            if header_bytes > 16 * 1024 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if h.to_ascii_lowercase().starts_with("connection:") && h.contains("close") {
                close = true;
            }
        }
        let raw = shared.raw.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(raw) = raw {
            shared.requests.fetch_add(1, Ordering::Relaxed);
            return reader.get_mut().write_all(&raw);
        }
        let out = {
            let l = shared.litmus.lock().unwrap_or_else(|e| e.into_inner());
            l.http_response(&path, close)
        };
        shared.requests.fetch_add(1, Ordering::Relaxed);
        reader.get_mut().write_all(out.as_bytes())?;
        reader.get_mut().flush()?;
        if close {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::client::Client;
    use crate::health::parse::interpret;

    #[test]
    fn answers_like_litmus_paper_over_keep_alive() {
        let srv = LitmusServer::start("127.0.0.1:0".parse().unwrap(), "webapp", 82.0).unwrap();
        let mut c = Client::new(srv.addr(), "/webapp/status");
        let budget = Duration::from_secs(2);
        let h = interpret(&c.get(budget).unwrap()).unwrap();
        assert_eq!(h.value, 82.0);
        srv.force(Some(Forced::Down("apt upgrades".into())));
        let r = c.get(budget).unwrap();
        assert_eq!(r.status, 503);
        let h = interpret(&r).unwrap();
        assert_eq!(
            (h.value, h.forced_reason.as_deref()),
            (0.0, Some("apt upgrades"))
        );
        srv.force(Some(Forced::Health(40.0, "canary".into())));
        assert_eq!(interpret(&c.get(budget).unwrap()).unwrap().value, 40.0);
        srv.force(None);
        srv.set_measured(12.5);
        assert_eq!(interpret(&c.get(budget).unwrap()).unwrap().value, 12.5);
        assert_eq!(c.connects, 1, "keep-alive reuses one connection");
        assert_eq!(srv.requests(), 4);
        let mut wrong = Client::new(srv.addr(), "/other/status");
        let e = interpret(&wrong.get(budget).unwrap()).unwrap_err();
        assert_eq!(e.to_string(), "HTTP 404 Not Found");
    }
}
