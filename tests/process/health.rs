//! Health checks against hostile endpoints on loopback: each misbehaving node gets an error for
//! itself, within the check budget, and nobody else notices. Also: 200 nodes with 20 hung still
//! finish every round inside one interval.
//!
//! Every server here listens on 127.0.0.1 or ::1 only, stops when dropped, and bounds every
//! loop by a stop flag and a 60 s life limit.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use big_brother::health::client::Client;
use big_brother::health::parse::interpret;
use big_brother::health::serve::{Forced, LitmusServer};
use big_brother::health::{clean_text, CheckError, Phase, HEAD_LIMIT, INTERIM_LIMIT};
use big_brother::supervisor::checker::{spawn_targets, Observation, Target};

const LIFE: Duration = Duration::from_secs(60);

/// Ways to misbehave.
#[derive(Clone, Copy, Debug)]
enum Evil {
    /// Accepts, reads the request, never answers.
    Hang,
    /// Sends the headers one byte every 100 ms.
    Trickle,
    /// A chunked body that never ends.
    EndlessChunked,
    /// A body delimited by close that never ends.
    EndlessUntilClose,
    /// Content-Length: 10 MB, and sends it.
    TenMegabytes,
    Redirect,
    Status500,
    /// Not HTTP at all.
    Garbage,
    /// A 200 whose body is not a litmus_paper answer.
    NotLitmus,
    /// Reads the request, then resets the connection (RST).
    Reset,
    /// `HTTP/1.1 100 Continue` interim responses, as fast as the socket takes them, forever.
    EndlessContinue,
    /// A chunked body whose second chunk claims 2^64 - 1 bytes (issue 12: wrapped the size
    /// arithmetic and panicked the checker thread).
    HugeChunk,
}

struct Hostile {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(100));
    }
}

fn hostile(evil: Evil) -> Hostile {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let s = Arc::clone(&stop);
    thread::spawn(move || {
        for conn in listener.incoming() {
            if s.load(Ordering::SeqCst) {
                return;
            }
            let Ok(conn) = conn else { continue };
            let s = Arc::clone(&s);
            thread::spawn(move || misbehave(conn, evil, &s));
        }
    });
    Hostile { addr, stop }
}

fn read_request(c: &mut TcpStream) {
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = Vec::new();
    let mut b = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match c.read(&mut b) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&b[..n]),
        }
    }
}

fn misbehave(mut c: TcpStream, evil: Evil, stop: &AtomicBool) {
    let born = Instant::now();
    let alive = || !stop.load(Ordering::SeqCst) && born.elapsed() < LIFE;
    read_request(&mut c);
    let _ = c.set_write_timeout(Some(Duration::from_secs(5)));
    match evil {
        Evil::Hang => {
            while alive() {
                thread::sleep(Duration::from_millis(50));
            }
        }
        Evil::Trickle => {
            let head = b"HTTP/1.1 200 OK\r\nX-Health: 100\r\nContent-Length: 0\r\n\r\n";
            for &byte in head.iter().cycle() {
                if !alive() || c.write_all(&[byte]).is_err() {
                    return;
                }
                thread::sleep(Duration::from_millis(100));
            }
        }
        Evil::EndlessChunked | Evil::EndlessUntilClose => {
            let chunked = matches!(evil, Evil::EndlessChunked);
            let head: &[u8] = if chunked {
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            } else {
                b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
            };
            if c.write_all(head).is_err() {
                return;
            }
            let line = "Health: 100\n".repeat(340);
            let piece = if chunked {
                format!("{:x}\r\n{line}\r\n", line.len())
            } else {
                line
            };
            while alive() && c.write_all(piece.as_bytes()).is_ok() {}
        }
        Evil::TenMegabytes => {
            let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10485760\r\n\r\n");
            let mb = vec![b'x'; 1 << 20];
            for _ in 0..10 {
                if !alive() || c.write_all(&mb).is_err() {
                    return;
                }
            }
        }
        Evil::Redirect => {
            let _ = c.write_all(
                b"HTTP/1.1 302 Found\r\nLocation: http://192.0.2.1/elsewhere\r\nContent-Length: 0\r\n\r\n",
            );
            thread::sleep(Duration::from_millis(200));
        }
        Evil::Status500 => {
            let _ = c.write_all(
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 11\r\n\r\nHealth: 100",
            );
            thread::sleep(Duration::from_millis(200));
        }
        Evil::Garbage => {
            let _ = c.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n\x00\xff\xfe garbage\r\n\r\n");
        }
        Evil::NotLitmus => {
            let _ = c.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 26\r\n\r\n<html>It works!</html>\r\n\r\n",
            );
            thread::sleep(Duration::from_millis(200));
        }
        Evil::Reset => {
            let linger = libc::linger {
                l_onoff: 1,
                l_linger: 0,
            };
            // SAFETY: setsockopt on a socket we own with a correctly sized `linger` value; an
            // SO_LINGER of 0 makes close() send RST.
            unsafe {
                libc::setsockopt(
                    c.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_LINGER,
                    std::ptr::addr_of!(linger).cast(),
                    std::mem::size_of::<libc::linger>() as libc::socklen_t,
                );
            }
            drop(c);
        }
        Evil::EndlessContinue => {
            let interim = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(64);
            while alive() && c.write_all(&interim).is_ok() {}
        }
        Evil::HugeChunk => {
            let _ = c.write_all(HUGE_CHUNK);
            thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Issue 12's first answer: one body byte, then a chunk size of 2^64 - 1.
const HUGE_CHUNK: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
    1\r\nH\r\nffffffffffffffff\r\nYY\r\n0\r\n\r\n";
/// Its second: two body bytes, then 2^64 - 2 (the sum and the `+ 2` for CRLF both wrapped).
const HUGE_CHUNK_2: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
    2\r\nHe\r\nfffffffffffffffe\r\nYY\r\n0\r\n\r\n";

/// A loopback port that refuses connections for as long as this lives: a TCP socket bound to it
/// but never listening. Linux answers a connection to such a port with RST (ECONNREFUSED), and
/// since the socket keeps the port, no other test's server can take it meanwhile (binding a
/// listener and dropping it would free the port for anyone).
struct Refused {
    addr: SocketAddr,
    _socket: OwnedFd,
}

fn refused() -> Refused {
    // SAFETY: socket(2) with constant arguments; the descriptor is owned at once.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut sa = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from(std::net::Ipv4Addr::LOCALHOST).to_be(),
        },
        sin_zero: [0; 8],
    };
    let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: bind/getsockname on our socket with a correctly sized, initialised sockaddr_in.
    unsafe {
        let p = std::ptr::addr_of_mut!(sa).cast::<libc::sockaddr>();
        assert_eq!(libc::bind(socket.as_raw_fd(), p, len), 0, "bind");
        assert_eq!(libc::getsockname(socket.as_raw_fd(), p, &mut len), 0);
    }
    Refused {
        addr: SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, u16::from_be(sa.sin_port))),
        _socket: socket,
    }
}

fn check(addr: SocketAddr, budget: Duration) -> (Result<f64, CheckError>, Duration) {
    let mut c = Client::new(addr, "/app/status");
    let t = Instant::now();
    let r = c.get(budget).and_then(|r| interpret(&r)).map(|h| h.value);
    (r, t.elapsed())
}

#[test]
fn each_hostile_endpoint_gets_its_own_error_within_the_budget() {
    let budget = Duration::from_millis(800);
    let slack = Duration::from_millis(400);
    type Expect = fn(&CheckError) -> bool;
    let cases: &[(Evil, Expect)] = &[
        (Evil::Hang, |e| {
            matches!(
                e,
                CheckError::Timeout {
                    phase: Phase::Head,
                    ..
                }
            )
        }),
        (Evil::Trickle, |e| {
            matches!(
                e,
                CheckError::Timeout {
                    phase: Phase::Head,
                    ..
                }
            )
        }),
        (Evil::EndlessChunked, |e| {
            matches!(e, CheckError::TooLarge { what: "body", .. })
        }),
        (Evil::EndlessUntilClose, |e| {
            matches!(e, CheckError::TooLarge { what: "body", .. })
        }),
        (Evil::TenMegabytes, |e| {
            matches!(e, CheckError::TooLarge { what: "body", .. })
        }),
        (
            Evil::Redirect,
            |e| matches!(e, CheckError::Redirect { status: 302, location } if location == "http://192.0.2.1/elsewhere"),
        ),
        (Evil::Status500, |e| {
            matches!(e, CheckError::Status { status: 500, .. })
        }),
        (Evil::Garbage, |e| matches!(e, CheckError::Malformed(_))),
        (Evil::EndlessContinue, |e| {
            matches!(
                e,
                CheckError::TooMany { .. }
                    | CheckError::TooLarge {
                        what: "headers",
                        ..
                    }
            )
        }),
        (Evil::HugeChunk, |e| {
            matches!(e, CheckError::TooLarge { what: "body", .. })
        }),
        (Evil::NotLitmus, |e| matches!(e, CheckError::NotLitmus(_))),
        (Evil::Reset, |e| {
            matches!(
                e,
                CheckError::Io {
                    kind: std::io::ErrorKind::ConnectionReset,
                    ..
                } | CheckError::Closed { .. }
            )
        }),
    ];
    for (evil, expect) in cases {
        let h = hostile(*evil);
        let (r, took) = check(h.addr, budget);
        let e = r.expect_err(&format!("{evil:?} must fail"));
        assert!(expect(&e), "{evil:?}: unexpected error {e:?} ({e})");
        assert!(
            took <= budget + slack,
            "{evil:?} took {took:?}, budget {budget:?}"
        );
    }
    let closed = refused();
    let (r, _) = check(closed.addr, budget);
    assert!(
        matches!(
            r,
            Err(CheckError::Io {
                phase: Phase::Connect,
                kind: std::io::ErrorKind::ConnectionRefused,
                ..
            })
        ),
        "{r:?}"
    );
}

#[test]
fn ipv6_endpoint() {
    let srv = LitmusServer::start("[::1]:0".parse().unwrap(), "app", 77.5).unwrap();
    assert!(srv.addr().is_ipv6());
    let (r, _) = check(srv.addr(), Duration::from_secs(2));
    assert_eq!(r, Ok(77.5));
}

#[test]
fn forced_down_reason_travels_through_a_real_check() {
    let srv = LitmusServer::start("127.0.0.1:0".parse().unwrap(), "app", 90.0).unwrap();
    srv.force(Some(Forced::Down("apt upgrades".into())));
    let mut c = Client::new(srv.addr(), "/app/status");
    let resp = c.get(Duration::from_secs(2)).unwrap();
    assert_eq!(resp.status, 503);
    let h = interpret(&resp).unwrap();
    assert_eq!(h.value, 0.0);
    assert_eq!(h.forced_reason.as_deref(), Some("apt upgrades"));
}

/// Collects observations for `window` and returns them per node.
fn collect(
    rx: &mpsc::Receiver<Observation>,
    nodes: usize,
    window: Duration,
) -> Vec<Vec<Observation>> {
    let mut per = vec![Vec::new(); nodes];
    let end = Instant::now() + window;
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(o) => per[o.node].push(o),
            Err(mpsc::RecvTimeoutError::Timeout) => break,
            Err(e) => panic!("checkers died: {e}"),
        }
    }
    per
}

#[test]
fn hostile_nodes_affect_only_themselves() {
    let good: Vec<LitmusServer> = (0..3)
        .map(|i| {
            LitmusServer::start(
                "127.0.0.1:0".parse().unwrap(),
                "app",
                10.0 * f64::from(i + 1),
            )
            .unwrap()
        })
        .collect();
    let six = LitmusServer::start("[::1]:0".parse().unwrap(), "app", 66.0).unwrap();
    let evils = [
        Evil::Hang,
        Evil::Trickle,
        Evil::EndlessChunked,
        Evil::EndlessUntilClose,
        Evil::TenMegabytes,
        Evil::Redirect,
        Evil::Status500,
        Evil::Garbage,
        Evil::NotLitmus,
        Evil::Reset,
        Evil::EndlessContinue,
        Evil::HugeChunk,
    ];
    let bad: Vec<Hostile> = evils.iter().map(|&e| hostile(e)).collect();
    let mut addrs: Vec<SocketAddr> = good.iter().map(LitmusServer::addr).collect();
    addrs.push(six.addr());
    let n_good = addrs.len();
    addrs.extend(bad.iter().map(|h| h.addr));
    let closed = refused();
    addrs.push(closed.addr);
    let targets: Vec<Target> = addrs
        .iter()
        .enumerate()
        .map(|(node, &addr)| Target::litmus(node, addr, "/app/status"))
        .collect();
    let interval = Duration::from_millis(500);
    let (tx, rx) = mpsc::channel();
    let checkers = spawn_targets(&targets, interval, interval, tx).unwrap();
    // Skip the first round (staggered start), then watch six intervals.
    let _ = collect(&rx, targets.len(), interval);
    let per = collect(&rx, targets.len(), interval * 6);
    checkers.stop();
    for (i, obs) in per.iter().enumerate() {
        assert!(
            obs.len() >= 5,
            "node {i} ({}) observed only {} times in 6 intervals",
            addrs[i],
            obs.len()
        );
        for o in obs {
            assert!(o.latency <= interval + Duration::from_millis(300), "{o:?}");
            if i < n_good {
                let want = if i == 3 { 66.0 } else { 10.0 * (i + 1) as f64 };
                // Healthy nodes keep answering (within their budget) beside hung neighbours.
                assert_eq!(o.result.as_ref().map(|h| h.value), Ok(want), "node {i}");
            } else {
                assert!(o.result.is_err(), "hostile node {i} gave {o:?}");
            }
        }
    }
}

#[test]
fn two_hundred_nodes_twenty_hung_every_round_within_one_interval() {
    let interval = Duration::from_secs(1);
    let servers: Vec<LitmusServer> = (0..180)
        .map(|_| LitmusServer::start("127.0.0.1:0".parse().unwrap(), "app", 50.0).unwrap())
        .collect();
    let hung: Vec<Hostile> = (0..20).map(|_| hostile(Evil::Hang)).collect();
    let addrs: Vec<SocketAddr> = servers
        .iter()
        .map(LitmusServer::addr)
        .chain(hung.iter().map(|h| h.addr))
        .collect();
    let targets: Vec<Target> = addrs
        .iter()
        .enumerate()
        .map(|(node, &addr)| Target::litmus(node, addr, "/app/status"))
        .collect();
    let (tx, rx) = mpsc::channel();
    let checkers = spawn_targets(&targets, interval, interval, tx).unwrap();
    let _ = collect(&rx, targets.len(), interval);
    let rounds = 5;
    let per = collect(&rx, targets.len(), interval * rounds);
    checkers.stop();
    for (i, obs) in per.iter().enumerate() {
        // One observation per interval per node (±1 for where the window cuts the grid).
        let n = u32::try_from(obs.len()).unwrap();
        assert!(
            n + 1 >= rounds,
            "node {i} finished only {n} checks in {rounds} intervals"
        );
        for w in obs.windows(2) {
            let gap = w[1].at - w[0].at;
            // One interval apart; the slack only absorbs scheduling on a busy 2-CPU machine.
            assert!(gap <= interval * 3 / 2, "node {i}: {gap:?} between checks");
        }
        if i >= 180 {
            assert!(
                obs.iter()
                    .all(|o| matches!(o.result, Err(CheckError::Timeout { .. }))),
                "hung node {i}: {:?}",
                obs.first()
            );
        } else {
            assert!(
                obs.iter().all(|o| o.result.is_ok()),
                "node {i}: {:?}",
                obs.iter().find(|o| o.result.is_err())
            );
        }
    }
}

/// Serves each accepted connection with `reply(n)` (n = connection number), then closes it or,
/// with `linger`, keeps it open for a while without reading.
fn scripted(reply: fn(usize) -> Vec<u8>, linger: bool) -> Hostile {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let s = Arc::clone(&stop);
    thread::spawn(move || {
        for (n, conn) in listener.incoming().enumerate() {
            if s.load(Ordering::SeqCst) {
                return;
            }
            let Ok(mut conn) = conn else { continue };
            read_request(&mut conn);
            let _ = conn.write_all(&reply(n));
            if linger {
                thread::sleep(Duration::from_millis(300));
            }
        }
    });
    Hostile { addr, stop }
}

#[test]
fn chunked_answer_with_trailer() {
    let h = scripted(
        |_| {
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
              7\r\nHealth:\r\n5;ext=1\r\n 42.5\r\n1\r\n\n\r\n0\r\nX-Trailer: x\r\n\r\n"
                .to_vec()
        },
        false,
    );
    assert_eq!(check(h.addr, Duration::from_secs(2)).0, Ok(42.5));
}

#[test]
fn stale_kept_alive_connection_is_retried_once() {
    // Claims keep-alive, then closes after every answer: the second check finds the reused
    // connection dead before any byte and must retry on a fresh one, not report an error.
    let h = scripted(
        |n| {
            let body = format!("Health: {}\n", 10 + n);
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        },
        false,
    );
    let mut c = Client::new(h.addr, "/app/status");
    let budget = Duration::from_secs(2);
    assert_eq!(interpret(&c.get(budget).unwrap()).unwrap().value, 10.0);
    thread::sleep(Duration::from_millis(100));
    assert_eq!(interpret(&c.get(budget).unwrap()).unwrap().value, 11.0);
    assert_eq!(c.connects, 2);
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 48, ..Default::default() })]

    /// Whatever bytes a node sends back, a check ends within its budget with a health in range
    /// or an error, and never panics.
    #[test]
    fn any_reply_ends_within_the_budget(
        head in proptest::sample::select(vec![
            "HTTP/1.1 200 OK\r\n", "HTTP/1.1 503 Service Unavailable\r\n", "HTTP/1.0 200 OK\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n", "",
        ]),
        rest in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
        tail in proptest::sample::select(vec!["", "\r\n", "\r\n\r\nHealth: 50\n", "\r\n\r\n"]),
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut reply = head.as_bytes().to_vec();
        reply.extend_from_slice(&rest);
        reply.extend_from_slice(tail.as_bytes());
        let server = thread::spawn(move || {
            if let Ok((mut c, _)) = listener.accept() {
                read_request(&mut c);
                let _ = c.write_all(&reply);
            }
        });
        let budget = Duration::from_millis(500);
        let (r, took) = check(addr, budget);
        proptest::prop_assert!(took <= budget + Duration::from_millis(300), "took {:?}", took);
        if let Ok(v) = r {
            proptest::prop_assert!((0.0..=100.0).contains(&v));
        }
        let _ = server.join();
    }
}

/// Checks a server that answers one connection with `reply` and closes it.
fn answer(reply: &[u8]) -> (Result<f64, CheckError>, Duration) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let reply = reply.to_vec();
    let server = thread::spawn(move || {
        if let Ok((mut c, _)) = listener.accept() {
            read_request(&mut c);
            let _ = c.write_all(&reply);
        }
    });
    let r = check(addr, Duration::from_secs(2));
    let _ = server.join();
    r
}

/// Issue 12, item 1: chunk sizes near 2^64 wrapped `body.len() + size` and `size + 2` and
/// panicked the checker thread ("slice index starts at 18 but ends at 17"). Both answers must be
/// an error for the node, like any other bad answer.
#[test]
fn chunk_sizes_near_two_to_the_64_are_errors_not_panics() {
    for reply in [HUGE_CHUNK, HUGE_CHUNK_2] {
        let (r, _) = answer(reply);
        assert!(
            matches!(r, Err(CheckError::TooLarge { what: "body", .. })),
            "{r:?}"
        );
    }
    // Sizes that are not 1*HEXDIG (RFC 9112 section 7.1), or do not fit 64 bits: malformed.
    for size in ["+5", "-1", "0x5", "", " ", "1ffffffffffffffff", "5 5"] {
        let reply = format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\nHealth\r\n0\r\n\r\n"
        );
        let (r, _) = answer(reply.as_bytes());
        assert!(
            matches!(r, Err(CheckError::Malformed(_))),
            "{size:?}: {r:?}"
        );
    }
}

/// Issue 12, item 2: endless `100 Continue` answers grew the buffer without bound until the
/// check budget ended. Every head read in one check, interim ones included, shares the 16 KiB
/// cap, and a handful of interim responses is all that is allowed: the check ends at once.
#[test]
fn endless_interim_responses_end_the_check_at_once() {
    let h = hostile(Evil::EndlessContinue);
    let mut c = Client::new(h.addr, "/app/status");
    let budget = Duration::from_secs(5);
    let t = Instant::now();
    let e = c.get(budget).unwrap_err();
    let took = t.elapsed();
    assert!(
        matches!(
            e,
            CheckError::TooMany {
                limit: INTERIM_LIMIT,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(took < Duration::from_secs(2), "took {took:?} of {budget:?}");
    // What was read is bounded by the cap plus one socket read, not by the budget.
    assert!(
        c.received <= (HEAD_LIMIT + 8192) as u64,
        "read {} bytes",
        c.received
    );
    // The limit is exact: INTERIM_LIMIT interim responses (103 Early Hints may carry headers)
    // before the answer are fine, one more is not.
    let early = b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n";
    let last = b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nHealth: 64\n";
    let mut reply = early.repeat(INTERIM_LIMIT);
    reply.extend_from_slice(last);
    assert_eq!(answer(&reply).0, Ok(64.0));
    let mut reply = early.repeat(INTERIM_LIMIT + 1);
    reply.extend_from_slice(last);
    let (r, _) = answer(&reply);
    assert!(matches!(r, Err(CheckError::TooMany { .. })), "{r:?}");
    // Interim heads that together pass the cap end the check, even below the count limit.
    let big = format!(
        "HTTP/1.1 103 Early Hints\r\nLink: {}\r\n\r\n",
        "x".repeat(6000)
    );
    let mut reply = big.repeat(3).into_bytes();
    reply.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nHealth: 64\n");
    let (r, _) = answer(&reply);
    assert!(
        matches!(
            r,
            Err(CheckError::TooLarge {
                what: "headers",
                ..
            })
        ),
        "{r:?}"
    );
    // 101 Switching Protocols answers a request that asked for no upgrade: not an interim step.
    let (r, _) = answer(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n");
    assert!(matches!(r, Err(CheckError::Malformed(_))), "{r:?}");
}

/// Issue 12, smaller item and RFC 9112 section 6.3: headers that decide the health or the
/// framing must not be ambiguous. Two different `X-Health` values, conflicting `Content-Length`
/// values, or `Content-Length` beside `Transfer-Encoding` are malformed answers; exact repeats
/// are harmless and accepted.
#[test]
fn ambiguous_headers_are_malformed_answers() {
    let ok = |h: &str| format!("HTTP/1.1 200 OK\r\n{h}\r\n\r\n");
    let refused = [
        ok("X-Health: 100\r\nX-Health: 0\r\nContent-Length: 0"),
        ok("X-Health: 100\r\nContent-Length: 0\r\nx-health: 5"),
        ok("Content-Length: 11\r\nContent-Length: 12") + "Health: 64\n\n",
        ok("Content-Length: 11, 12") + "Health: 64\n\n",
        ok("Content-Length: 11\r\nTransfer-Encoding: chunked") + "b\r\nHealth: 64\n\r\n0\r\n\r\n",
        ok("Transfer-Encoding: chunked\r\nContent-Length: 11") + "b\r\nHealth: 64\n\r\n0\r\n\r\n",
        ok("Content-Length: +11") + "Health: 64\n",
        ok("Content-Length: 0x0b") + "Health: 64\n",
        // Whitespace before the colon (RFC 9112 section 5.1) and obsolete line folding.
        ok("Content-Length : 11") + "Health: 64\n",
        ok("X-Health: 10\r\n 0\r\nContent-Length: 0"),
        ok("X-Health: 10\r\n\tX-Health: 0\r\nContent-Length: 0"),
        // NUL or a bare CR/LF inside a field value.
        ok("X-Health: 10\0\r\nContent-Length: 0"),
        ok("X-Health: 10\rX-Health: 0\r\nContent-Length: 0"),
    ];
    for reply in &refused {
        let (r, _) = answer(reply.as_bytes());
        assert!(
            matches!(r, Err(CheckError::Malformed(_))),
            "{reply:?} gave {r:?}"
        );
    }
    let accepted = [
        ok("X-Health: 64\r\nX-Health: 64\r\nContent-Length: 0"),
        ok("X-Health:  64 \r\nx-health: 64\r\nContent-Length: 0"),
        ok("Content-Length: 11\r\nContent-Length: 11") + "Health: 64\n",
        ok("Content-Length: 11, 11") + "Health: 64\n",
        ok("Transfer-Encoding: chunked") + "b\r\nHealth: 64\n\r\n0\r\n\r\n",
        // Transfer-Encoding is a list; repeated lines are one list, chunked last.
        ok("Transfer-Encoding: identity\r\nTransfer-Encoding: chunked")
            + "b\r\nHealth: 64\n\r\n0\r\n\r\n",
    ];
    for reply in &accepted {
        let (r, _) = answer(reply.as_bytes());
        assert_eq!(r, Ok(64.0), "{reply:?}");
    }
    // The error says what was ambiguous.
    let (r, _) = answer(ok("X-Health: 100\r\nX-Health: 0\r\nContent-Length: 0").as_bytes());
    let e = r.unwrap_err().to_string();
    assert!(
        e.contains("X-Health") && e.contains("100") && e.contains('0'),
        "{e}"
    );
}

/// `clean_text` against an independent Unicode database (Python's `unicodedata`, from the
/// Debian package python3): every control, format, line/paragraph separator and space separator
/// it knows is blanked or dropped, never kept.
#[test]
fn clean_text_knows_every_format_and_separator_character() {
    let script = "import unicodedata, sys\n\
        print(unicodedata.unidata_version)\n\
        print(' '.join('%x' % c for c in range(0x110000)\n\
        \x20   if unicodedata.category(chr(c)) in ('Cc', 'Cf', 'Zl', 'Zp', 'Zs')))\n";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .output()
        .expect("python3 is needed (tests/install-deps installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let version = lines.next().unwrap();
    let chars: Vec<char> = lines
        .next()
        .unwrap()
        .split(' ')
        .map(|h| char::from_u32(u32::from_str_radix(h, 16).unwrap()).unwrap())
        .collect();
    assert!(
        chars.len() > 200,
        "Unicode {version}: only {} found",
        chars.len()
    );
    for ch in chars {
        let cleaned = clean_text(&format!("a{ch}b"));
        assert!(
            cleaned == "ab" || cleaned == "a b",
            "U+{:04X} (Unicode {version}) kept: {cleaned:?}",
            u32::from(ch)
        );
    }
}
