//! Health checks against hostile endpoints on loopback: each misbehaving node gets an error for
//! itself, within the check budget, and nobody else notices. Also: 200 nodes with 20 hung still
//! finish every round inside one interval.
//!
//! Every server here listens on 127.0.0.1 or ::1 only, stops when dropped, and bounds every
//! loop by a stop flag and a 60 s life limit.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use big_brother::health::client::Client;
use big_brother::health::parse::interpret;
use big_brother::health::serve::{Forced, LitmusServer};
use big_brother::health::{CheckError, Phase};
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
    }
}

/// A port nobody listens on.
fn refused() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
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
    let (r, _) = check(refused(), budget);
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
    ];
    let bad: Vec<Hostile> = evils.iter().map(|&e| hostile(e)).collect();
    let mut addrs: Vec<SocketAddr> = good.iter().map(LitmusServer::addr).collect();
    addrs.push(six.addr());
    let n_good = addrs.len();
    addrs.extend(bad.iter().map(|h| h.addr));
    addrs.push(refused());
    let targets: Vec<Target> = addrs
        .iter()
        .enumerate()
        .map(|(node, &addr)| Target {
            node,
            addr,
            path: "/app/status".into(),
        })
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
        .map(|(node, &addr)| Target {
            node,
            addr,
            path: "/app/status".into(),
        })
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
