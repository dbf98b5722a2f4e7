//! `big_brother api`: an optional, read-only, stateless HTTP server that answers the original
//! big_brother's status routes (port 9292) and Prometheus metrics from the status files the
//! supervisors write. It never changes anything — Pacemaker owns start and stop — so it can
//! crash, restart or be left out without any effect on load balancing.
//!
//! - **Bounded**: one thread per connection, at most [`MAX_CONNECTIONS`] at once (more get a
//!   quick 503); one request per connection; a request must arrive within [`REQUEST_BUDGET`]
//!   and fit the limits in [`http`]; every phase of a connection, answer and lingering close
//!   included, ends within [`CONNECTION_BUDGET`] of its accept ([`conn`]), so a slot is never
//!   held longer, whatever the client does.
//! - **Loopback by default**: status reveals node addresses and health; listening elsewhere
//!   needs `--allow-remote`, an explicit decision.
//! - **Text from files is escaped for where it goes** ([`text`]): the status files are ours,
//!   but what they quote (node ids, backend errors) must not reach a terminal, a JSON parser or
//!   a Prometheus scrape as control or bidi characters.
//! - Rooms: [`conn`] (one connection under one deadline), [`http`] (parsing and writing, pure
//!   over readers/writers), [`routes`] (request → response, pure), [`metrics`] (Prometheus
//!   text, pure), [`text`] (escaping, pure), [`view`] (the files → cluster views).

pub mod conn;
pub mod http;
pub mod metrics;
pub mod routes;
pub mod text;
pub mod view;

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use conn::Budget;
use http::Response;
use view::Files;

/// Default address: the original's port, on loopback (where litmus_paper looks for it).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9292";
/// Connections served at once; more are answered 503 and closed.
pub const MAX_CONNECTIONS: usize = 64;
/// Time a client has to send its request (head and any body to drain), from the accept.
pub const REQUEST_BUDGET: Duration = Budget::DEFAULT.request;
/// Longest a connection holds a slot, from the accept: every phase ends by then.
pub const CONNECTION_BUDGET: Duration = Budget::DEFAULT.connection;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(
        "refusing to listen on {0}: not a loopback address, and the status it serves names every \
         node; pass --allow-remote to mean it"
    )]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
}

/// Binds the listening socket, refusing a non-loopback address unless `allow_remote`.
pub fn bind(addr: SocketAddr, allow_remote: bool) -> Result<TcpListener, ApiError> {
    if !addr.ip().is_loopback() && !allow_remote {
        return Err(ApiError::NotLoopback(addr));
    }
    TcpListener::bind(addr).map_err(|source| ApiError::Bind { addr, source })
}

/// Decrements the connection count when a connection's thread ends, however it ends.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Serves until the process is killed (SIGTERM's default action is right: there is nothing to
/// clean up). Returns only if accepting fails for good.
pub fn serve(
    listener: &TcpListener,
    files: &Files,
    max_connections: usize,
    budget: Budget,
) -> io::Error {
    let active = Arc::new(AtomicUsize::new(0));
    loop {
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if is_transient(&e) => {
                // Out of descriptors or a connection reset while queued: wait a little.
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(e) => return e,
        };
        if active.fetch_add(1, Ordering::SeqCst) >= max_connections {
            active.fetch_sub(1, Ordering::SeqCst);
            busy(&stream);
            continue;
        }
        let slot = Slot(active.clone());
        let files = files.clone();
        let spawned = std::thread::Builder::new()
            .name("api-conn".into())
            .spawn(move || {
                let _slot = slot;
                conn::handle(&stream, &files, budget);
            });
        if let Err(e) = spawned {
            // The closure (and its slot) was dropped with the error: the count is right.
            eprintln!("big_brother api: cannot start a connection thread: {e}");
        }
    }
}

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    ) || matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// Too many connections: a short 503 and close, on the accepting thread (bounded by a short
/// write timeout, so a client that does not read cannot stall accepting).
fn busy(stream: &TcpStream) {
    let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
    let _ = Response::text(503, "Too many connections; retry\n")
        .with_header("Retry-After", "1")
        .write_to(&mut &*stream, false);
    let _ = stream.shutdown(Shutdown::Both);
}
