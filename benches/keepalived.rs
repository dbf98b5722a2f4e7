//! big_brother against keepalived, in one run, on real IPVS (`tests/vm/bench keepalived`, which
//! runs this as root in the kernel-tier VM; issue 18).
//!
//! For each shape (services × real servers) both programs check the same loopback endpoints
//! (`LitmusServer`s of this crate, one per real server, shared by every service) at the same
//! interval and program the kernel's IPVS table, on separate VIPs (big_brother `10.18.x.y:80`,
//! keepalived `10.19.x.y:80`, both NAT to `127.0.0.1:<port>`), one after the other in the same
//! VM run: keepalived's turn, then big_brother's, each alone on the machine. (Side by side, a
//! CPU shortage would be shared by the kernel per thread: big_brother's hundred threads would
//! get most of it and keepalived's one thread would lag — measured: 42 of 300 samples with a
//! healthy weight not at 100 for keepalived against 16 for big_brother.) One big_brother
//! supervisor per service, as Pacemaker runs them; one keepalived (`-C`, its checker process) with one `virtual_server` per service,
//! `HTTP_GET` with `status_code 200`, `delay_loop` = big_brother's `check_interval`,
//! `connect_timeout` = `check_timeout` = the interval, `retry 0` (big_brother's `fall = 1`),
//! `alpha` (a real server enters only once checked, as big_brother's enter at 0 until checked)
//! and `inhibit_on_failure` (a failed server goes to weight 0, as big_brother's).
//! Each logs as on a director: keepalived through syslog (`/dev/log`; the VM has no syslog
//! daemon, so the benchmark binds it and counts the messages), big_brother to its `HA_LOGFILE`.
//! Each is stopped with SIGTERM and given two minutes to empty its part of the table.
//!
//! Figures, one `RESULT <shape> <figure> big_brother=<x> keepalived=<y> ratio=<x/y>` line each:
//! - `cpu_ms_per_min`: CPU time of every thread of every process of the program over a steady
//!   window, by the scheduler's runtime (`/proc/<pid>/task/<tid>/schedstat`; exact, where
//!   `utime`/`stime` are sampled at the tick and miss short, frequent wake-ups);
//! - `rss_kib`, `pss_kib`: summed over every process of the program, at the end of that window;
//! - `latency_median_ms`, `latency_p99_ms`: from an endpoint's health change (down, then up
//!   again, at random phases) until every service's weight for it is the final one in the
//!   kernel (read from `/proc/net/ip_vs` every 10 ms, or four times as long as a read takes,
//!   so the benchmark's polling never takes more than a fifth of a CPU);
//! - `startup_ms`: from the program's start until the kernel has every real server of every
//!   service at its full weight (keepalived first, big_brother
//!   second, after keepalived stopped).
//!
//! - `processes`, `threads`, `fds`: what the process model costs, summed at the end of the
//!   window; and a `TICK` line: the oldest big_brother heartbeat seen in the window (every
//!   supervisor writes `<state>/heartbeat` each tick, so it shows whether all of them still tick
//!   every interval; `status.json` itself is rewritten only on a change or every 5 s).
//!
//! Endpoints: a `LitmusServer` each (a thread per connection), or, when the shape needs more
//! than 2,000 connections (1,000 × 10: 10,000 kept-alive connections) or `--endpoints poll`,
//! one epoll thread serving every endpoint's sockets with the same answers.
//!
//! Options: `--quick` (1 × 100 only), `--shapes 1x100,1x1000,100x10,1000x10` (a shape may carry
//! its own interval and hung share: `1x1000@20000h10`), `--interval-ms N`
//! (default 2000, big_brother's default `check_interval`), `--window-s N` (CPU window, default 60), `--changes N` (default 10),
//! `--hung-percent N` (that share of the endpoints accept and never answer; the hung-node
//! scenario), `--endpoints poll|threads`, `--keep` (leave the configuration directory).

// A benchmark, like a test, may stop at the first surprise.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use big_brother::health::serve::{Forced, Litmus, LitmusServer};
use big_brother::ipvs::netlink::Netlink;
use big_brother::ipvs::{Ipvs, Protocol, ServiceKey};
use big_brother::state::heartbeat;
use big_brother::state::status::boottime;
use big_brother::supervisor::checker::raise_fd_limit;

const SERVICE: &str = "bench";

#[derive(Clone)]
struct Opts {
    /// Services, real servers, and this shape's own interval and hung share, if given.
    shapes: Vec<(usize, usize, Option<Duration>, Option<usize>)>,
    interval: Duration,
    window: Duration,
    changes: usize,
    hung_percent: usize,
    /// `Some(true)`: the poll server; `None`: it when the shape needs over 2,000 connections.
    endpoints: Option<bool>,
    keep: bool,
}

fn opts() -> Opts {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut o = Opts {
        shapes: [(1, 100), (1, 1000), (100, 10), (1000, 10)]
            .map(|(s, r)| (s, r, None, None))
            .to_vec(),
        // big_brother's default check_interval; `--interval-ms 1000` for the probe.
        interval: Duration::from_millis(2000),
        window: Duration::from_secs(60),
        changes: 10,
        hung_percent: 0,
        endpoints: None,
        keep: false,
    };
    let mut i = 0;
    while i < args.len() {
        let val = || args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--quick" => o.shapes = vec![(1, 100, None, None)],
            "--shapes" => {
                // SxR[@INTERVAL_MS][hHUNG_PERCENT], e.g. 1x1000@20000h10.
                o.shapes = val()
                    .split(',')
                    .map(|s| {
                        let (s, hung) = match s.split_once('h') {
                            Some((s, h)) => (s, Some(h.parse().unwrap())),
                            None => (s, None),
                        };
                        let (s, ms) = match s.split_once('@') {
                            Some((s, ms)) => (s, Some(Duration::from_millis(ms.parse().unwrap()))),
                            None => (s, None),
                        };
                        let (a, b) = s.split_once('x').expect("--shapes SxR[@MS][hP],…");
                        (a.parse().unwrap(), b.parse().unwrap(), ms, hung)
                    })
                    .collect();
                i += 1;
            }
            "--interval-ms" => {
                o.interval = Duration::from_millis(val().parse().unwrap());
                i += 1;
            }
            "--window-s" => {
                o.window = Duration::from_secs(val().parse().unwrap());
                i += 1;
            }
            "--changes" => {
                o.changes = val().parse().unwrap();
                i += 1;
            }
            "--hung-percent" => {
                o.hung_percent = val().parse().unwrap();
                i += 1;
            }
            "--endpoints" => {
                o.endpoints = match val().as_str() {
                    "poll" => Some(true),
                    "threads" => Some(false),
                    other => panic!("--endpoints poll|threads, not {other:?}"),
                };
                i += 1;
            }
            "--keep" => o.keep = true,
            "--bench" => {}
            other => panic!("unknown option {other}"),
        }
        i += 1;
    }
    o
}

fn main() {
    // `--serve N SECONDS`: only the poll endpoint server, on the host (no IPVS needed), for
    // measuring many supervisors outside the VM; prints the ports, serves, exits.
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        let n: usize = args[i + 1].parse().unwrap();
        let secs: u64 = args[i + 2].parse().unwrap();
        raise_fd_limit(65_536);
        let p = PollEndpoints::start(n, 0);
        let ports: Vec<String> = p.ports.iter().map(u16::to_string).collect();
        println!("{}", ports.join(" "));
        thread::sleep(Duration::from_secs(secs));
        return;
    }
    let o = opts();
    let ka = which("keepalived");
    assert!(
        Path::new("/proc/net/ip_vs").exists(),
        "no /proc/net/ip_vs: run this in the kernel-tier VM (tests/vm/bench keepalived)"
    );
    assert!(
        Path::new("/proc/self/schedstat").exists(),
        "no /proc/self/schedstat: the CPU figures need the kernel's per-thread runtime"
    );
    let version = Command::new(&ka).arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&version.stderr)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    println!(
        "big_brother vs keepalived ({}; {} build of big_brother; {} CPUs; interval {:?})",
        version,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        thread::available_parallelism().map_or(0, |n| n.get()),
        o.interval
    );
    // 1,000 × 10 keeps 10,000 connections open in the endpoint server, past the 4,096 hard
    // limit the VM's init leaves: as root, the hard limit goes up first.
    raise_hard_fd_limit(65_536);
    raise_fd_limit(65_536);
    syslog_sink();
    for &(s, r, interval, hung) in &o.shapes {
        let mut os = o.clone();
        os.interval = interval.unwrap_or(o.interval);
        os.hung_percent = hung.unwrap_or(o.hung_percent);
        shape(&os, &ka, s, r);
    }
}

/// Messages keepalived sent to the benchmark's `/dev/log`.
static SYSLOG_MESSAGES: AtomicU64 = AtomicU64::new(0);

/// keepalived logs through syslog, as it does on a director (journald or rsyslog behind
/// `/dev/log`); big_brother appends to its `HA_LOGFILE`. The VM runs no syslog daemon, so
/// the benchmark takes `/dev/log` itself and counts what arrives. Not `keepalived -l`: that
/// writes to `/dev/console`, here the VM's emulated serial port, where 10,000 lines at start
/// and stop cost it tens of seconds, and its stop outlasted its own checker's grace (its
/// parent killed the checker, which left a tenth of the services in the table).
fn syslog_sink() {
    let path = Path::new("/dev/log");
    if path.exists() {
        println!("keepalived logs to this machine's /dev/log");
        return;
    }
    let sock = match UnixDatagram::bind(path) {
        Ok(s) => s,
        Err(e) => panic!("cannot take /dev/log for keepalived's syslog: {e}"),
    };
    println!("keepalived logs through syslog to the benchmark's /dev/log (counted, dropped)");
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while sock.recv(&mut buf).is_ok() {
            SYSLOG_MESSAGES.fetch_add(1, Ordering::Relaxed);
        }
    });
}

/// Raises the hard `RLIMIT_NOFILE` to `n` (needs root; best effort, the soft limit follows in
/// `raise_fd_limit`).
fn raise_hard_fd_limit(n: u64) {
    let lim = libc::rlimit {
        rlim_cur: n,
        rlim_max: n,
    };
    // SAFETY: setrlimit with a valid pointer to a local `rlimit`.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
        println!(
            "cannot raise the descriptor limit to {n}: {}",
            std::io::Error::last_os_error()
        );
    }
}

fn which(name: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin"] {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} is not installed: run tests/install-deps");
}

fn bb_bin() -> PathBuf {
    // The release binary cargo built beside this benchmark (target/release/big_brother).
    let me = std::env::current_exe().unwrap();
    let dir = me.parent().unwrap().parent().unwrap();
    let p = dir.join("big_brother");
    assert!(
        p.is_file(),
        "{} missing: build it first (cargo build --release)",
        p.display()
    );
    p
}

/// An endpoint that accepts and never answers (a hung node).
struct Hung {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Hung {
    fn start() -> Hung {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        thread::spawn(move || {
            let mut held: Vec<TcpStream> = Vec::new();
            for c in l.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                if let Ok(c) = c {
                    held.push(c);
                    // Keep the newest few: the checkers reconnect after each timeout, and 100
                    // hung endpoints holding hundreds each ran this process out of descriptors.
                    if held.len() > 8 {
                        held.drain(..4);
                    }
                }
            }
        });
        Hung { addr, stop }
    }
}

impl Drop for Hung {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// Every endpoint of a shape served by one thread waiting on all their sockets (epoll), for
/// shapes whose connections would need thousands of [`LitmusServer`] threads (1,000 × 10: every
/// one of 1,000 supervisors keeps a connection open to each of the 10 endpoints, 10,000
/// threads, each waking twice a second on its read timeout, which under emulation made the
/// endpoints the bottleneck). Each answer is [`Litmus::answer`]'s, byte for byte what a
/// `LitmusServer` sends; a hung endpoint accepts and never answers, holding its newest few
/// connections.
struct PollEndpoints {
    ports: Vec<u16>,
    down: Arc<Vec<AtomicBool>>,
    counts: Arc<PollCounts>,
    stop: Arc<AtomicBool>,
    handle: Option<thread::JoinHandle<()>>,
}

/// What the poll server did, for a diagnosis when a change is not seen.
#[derive(Default)]
struct PollCounts {
    accepted: AtomicU64,
    closed: AtomicU64,
    answered: AtomicU64,
    /// Connections turned away at [`POLL_MAX_CONNS`] or on a failed setup.
    refused: AtomicU64,
}

impl PollCounts {
    fn describe(&self) -> String {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        format!(
            "endpoint server: {} connections accepted, {} closed, {} refused, {} answers",
            g(&self.accepted),
            g(&self.closed),
            g(&self.refused),
            g(&self.answered)
        )
    }
}

/// Most connections the poll server holds (the descriptor limit is raised to 65,536).
const POLL_MAX_CONNS: usize = 40_000;

struct PollConn {
    stream: TcpStream,
    ep: usize,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    close_after: bool,
}

impl PollEndpoints {
    fn start(n: usize, hung: usize) -> PollEndpoints {
        let listeners: Vec<TcpListener> = (0..n)
            .map(|_| {
                let l = TcpListener::bind("127.0.0.1:0").unwrap();
                l.set_nonblocking(true).unwrap();
                l
            })
            .collect();
        let ports = listeners
            .iter()
            .map(|l| l.local_addr().unwrap().port())
            .collect();
        let down: Arc<Vec<AtomicBool>> = Arc::new((0..n).map(|_| AtomicBool::new(false)).collect());
        let stop = Arc::new(AtomicBool::new(false));
        let counts = Arc::new(PollCounts::default());
        let (d, s, k) = (Arc::clone(&down), Arc::clone(&stop), Arc::clone(&counts));
        let handle = thread::Builder::new()
            .name("poll-endpoints".into())
            .spawn(move || poll_loop(&listeners, n - hung, &d, &s, &k))
            .unwrap();
        PollEndpoints {
            ports,
            down,
            counts,
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for PollEndpoints {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// The poll server's loop: endpoints `0..live` answer, the others (hung) never do. epoll, not
/// poll(2): at 1,000 × 10 big_brother keeps 10,000 connections open, and a poll(2) over all of
/// them for every request took the server 20 s of CPU a minute natively (the emulated VM's
/// CPU, shared with the program measured); epoll's cost follows the requests, not the sockets.
fn poll_loop(
    listeners: &[TcpListener],
    live: usize,
    down: &[AtomicBool],
    stop: &AtomicBool,
    counts: &PollCounts,
) {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    // SAFETY: epoll_create1 has no memory preconditions; the fd is owned below.
    let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    assert!(
        ep >= 0,
        "epoll_create1: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: `ep` is a fresh descriptor nothing else owns.
    let ep = unsafe { OwnedFd::from_raw_fd(ep) };
    let ctl = |op: libc::c_int, fd: libc::c_int, events: u32, token: u64| {
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: `ev` is a live epoll_event; `ep` and `fd` are open descriptors.
        unsafe { libc::epoll_ctl(ep.as_raw_fd(), op, fd, &mut ev) }
    };
    let nl = listeners.len() as u64;
    for (i, l) in listeners.iter().enumerate() {
        assert_eq!(
            ctl(
                libc::EPOLL_CTL_ADD,
                l.as_raw_fd(),
                libc::EPOLLIN as u32,
                i as u64
            ),
            0
        );
    }
    // Connections by slot; a slot's token is `nl + slot`.
    let mut conns: Vec<Option<PollConn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut hung_held: Vec<std::collections::VecDeque<TcpStream>> =
        (0..listeners.len()).map(|_| Default::default()).collect();
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
    let mut buf = vec![0u8; 16 * 1024];
    while !stop.load(Ordering::SeqCst) {
        // SAFETY: `events` is a live array of `events.len()` epoll_event structs.
        let n = unsafe {
            libc::epoll_wait(
                ep.as_raw_fd(),
                events.as_mut_ptr(),
                events.len() as i32,
                200,
            )
        };
        for ev in &events[..n.max(0) as usize] {
            let (token, re) = (ev.u64, ev.events);
            if token < nl {
                let e = token as usize;
                // At most 256 accepts per endpoint per wake-up: bounded work between waits.
                for _ in 0..256 {
                    let Ok((s, _)) = listeners[e].accept() else {
                        break;
                    };
                    if e >= live {
                        // Hung: hold the newest few, never read.
                        let q = &mut hung_held[e];
                        q.push_back(s);
                        if q.len() > 8 {
                            q.pop_front();
                        }
                        continue;
                    }
                    let open = conns.len() - free.len();
                    if open >= POLL_MAX_CONNS || s.set_nonblocking(true).is_err() {
                        counts.refused.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let _ = s.set_nodelay(true);
                    let slot = free.pop().unwrap_or_else(|| {
                        conns.push(None);
                        conns.len() - 1
                    });
                    let fd = s.as_raw_fd();
                    conns[slot] = Some(PollConn {
                        stream: s,
                        ep: e,
                        inbuf: Vec::new(),
                        out: Vec::new(),
                        close_after: false,
                    });
                    if ctl(
                        libc::EPOLL_CTL_ADD,
                        fd,
                        libc::EPOLLIN as u32,
                        nl + slot as u64,
                    ) != 0
                    {
                        conns[slot] = None;
                        free.push(slot);
                        counts.refused.fetch_add(1, Ordering::Relaxed);
                    } else {
                        counts.accepted.fetch_add(1, Ordering::Relaxed);
                    }
                }
                continue;
            }
            let slot = (token - nl) as usize;
            let Some(c) = conns.get_mut(slot).and_then(Option::as_mut) else {
                continue;
            };
            let waited = !c.out.is_empty();
            let closed = serve_conn(c, re, &mut buf, down, &counts.answered);
            let waits = !c.out.is_empty();
            if closed {
                // Closing the socket takes it out of the epoll set.
                conns[slot] = None;
                free.push(slot);
                counts.closed.fetch_add(1, Ordering::Relaxed);
            } else if waited != waits {
                // Writable interest only while an answer waits to go out.
                let mut want = libc::EPOLLIN as u32;
                if waits {
                    want |= libc::EPOLLOUT as u32;
                }
                ctl(libc::EPOLL_CTL_MOD, c.stream.as_raw_fd(), want, token);
            }
        }
    }
}

/// Reads, answers and writes what one connection's event allows; whether it is done with.
fn serve_conn(
    c: &mut PollConn,
    re: u32,
    buf: &mut [u8],
    down: &[AtomicBool],
    answered: &AtomicU64,
) -> bool {
    use std::io::{ErrorKind, Read, Write};
    let (err, input) = (
        (libc::EPOLLERR | libc::EPOLLHUP) as u32,
        libc::EPOLLIN as u32,
    );
    if re & err != 0 && re & input == 0 {
        return true;
    }
    if re & input != 0 {
        match c.stream.read(buf) {
            Ok(0) => return true,
            Ok(k) => c.inbuf.extend_from_slice(&buf[..k]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => return true,
        }
        if c.inbuf.len() > 16 * 1024 {
            return true;
        }
        while let Some(end) = c.inbuf.windows(4).position(|w| w == b"\r\n\r\n") {
            let req: Vec<u8> = c.inbuf.drain(..end + 4).collect();
            let req = String::from_utf8_lossy(&req);
            let first = req.lines().next().unwrap_or("");
            let path = first.split_whitespace().nth(1).unwrap_or("/");
            let close = first.trim_end().ends_with("HTTP/1.0")
                || req.lines().any(|h| {
                    h.to_ascii_lowercase().starts_with("connection:") && h.contains("close")
                });
            let litmus = Litmus {
                service: SERVICE.into(),
                measured: 100.0,
                forced: down[c.ep]
                    .load(Ordering::SeqCst)
                    .then(|| Forced::Down("bench".into())),
            };
            c.out
                .extend_from_slice(litmus.http_response(path, close).as_bytes());
            c.close_after |= close;
            answered.fetch_add(1, Ordering::Relaxed);
        }
    }
    if !c.out.is_empty() {
        match c.stream.write(&c.out) {
            Ok(k) => {
                c.out.drain(..k);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => return true,
        }
    }
    c.close_after && c.out.is_empty()
}

enum Endpoint {
    Live(LitmusServer),
    Hung(Hung),
}

impl Endpoint {
    fn port(&self) -> u16 {
        match self {
            Endpoint::Live(s) => s.addr().port(),
            Endpoint::Hung(h) => h.addr.port(),
        }
    }
}

/// A shape's endpoints: live ones first, then the hung ones.
enum Fleet {
    Threads(Vec<Endpoint>),
    Poll(PollEndpoints),
}

impl Fleet {
    fn ports(&self) -> Vec<u16> {
        match self {
            Fleet::Threads(v) => v.iter().map(Endpoint::port).collect(),
            Fleet::Poll(p) => p.ports.clone(),
        }
    }

    /// Forces live endpoint `i` down, or lets it answer again.
    fn set_down(&self, i: usize, down: bool) {
        match self {
            Fleet::Threads(v) => {
                if let Endpoint::Live(s) = &v[i] {
                    s.force(down.then(|| Forced::Down("bench".into())));
                }
            }
            Fleet::Poll(p) => p.down[i].store(down, Ordering::SeqCst),
        }
    }

    /// The poll server's counters (the thread-per-connection servers keep none).
    fn describe(&self) -> Option<String> {
        match self {
            Fleet::Threads(_) => None,
            Fleet::Poll(p) => Some(p.counts.describe()),
        }
    }
}

fn vip(prog: u8, s: usize) -> String {
    format!("10.{prog}.{}.{}", s / 250, s % 250 + 1)
}

fn proc_key(vip: &str) -> String {
    let o: Vec<u8> = vip.split('.').map(|p| p.parse().unwrap()).collect();
    format!("{:02X}{:02X}{:02X}{:02X}:0050", o[0], o[1], o[2], o[3])
}

/// The kernel's table: service key (`0A120001:0050`) → real server port → weight.
fn table() -> BTreeMap<String, BTreeMap<u16, u32>> {
    let text = std::fs::read_to_string("/proc/net/ip_vs").unwrap_or_default();
    let mut out: BTreeMap<String, BTreeMap<u16, u32>> = BTreeMap::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.first() == Some(&"TCP") && f.len() >= 2 {
            cur = Some(f[1].to_string());
            out.entry(f[1].to_string()).or_default();
        } else if f.first() == Some(&"->") && f.len() >= 4 {
            if let (Some(c), Some((_, port))) = (&cur, f[1].split_once(':')) {
                let port = u16::from_str_radix(port, 16).unwrap_or(0);
                let w: u32 = f[3].parse().unwrap_or(0);
                out.get_mut(c).unwrap().insert(port, w);
            }
        }
    }
    out
}

/// Whether every service of `prog` has `port` at `weight` (`None`: every live port at 100).
fn holds(
    t: &BTreeMap<String, BTreeMap<u16, u32>>,
    keys: &[String],
    ports: &[u16],
    want: Option<(u16, u32)>,
) -> bool {
    keys.iter().all(|k| {
        let Some(rs) = t.get(k) else { return false };
        match want {
            Some((p, w)) => rs.get(&p) == Some(&w),
            None => ports.iter().all(|p| rs.get(p) == Some(&100)),
        }
    })
}

/// On-CPU nanoseconds of `pid`'s checker threads (named `check-…`) and of its other threads,
/// from each thread's `schedstat` (the scheduler's exact runtime). Not `utime`/`stime`: those
/// are sampled at the timer tick, and a thousand supervisors each running for microseconds
/// between ticks on an otherwise idle CPU were charged almost nothing (natively 0 ms a minute
/// where the scheduler counted about a second).
fn cpu_split(pid: u32) -> (u64, u64) {
    let mut out = (0, 0);
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for e in dir.flatten() {
        let tid = e.file_name().to_string_lossy().to_string();
        let comm =
            std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm")).unwrap_or_default();
        // A thread that ended between the listing and the read counts nothing.
        let t = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0);
        // The checks loop ("checks") and the threads of `exec` nodes ("check-<addr>").
        if comm.trim_end() == "checks" || comm.starts_with("check-") {
            out.0 += t;
        } else {
            out.1 += t;
        }
    }
    out
}

/// The children of every process in `parents`, from one pass over `/proc` (one pass per
/// parent made the 1,000-supervisor shape read `/proc` a million times).
fn children(parents: &[u32]) -> Vec<u32> {
    let parents: std::collections::BTreeSet<String> = parents.iter().map(u32::to_string).collect();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let after = s.rsplit_once(')').map_or("", |(_, a)| a);
        if after
            .split_whitespace()
            .nth(1)
            .is_some_and(|pp| parents.contains(pp))
        {
            out.push(pid);
        }
    }
    out
}

/// (RSS, PSS) in KiB.
fn memory(pid: u32) -> (u64, u64) {
    let field = |text: &str, name: &str| -> u64 {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    // Both from smaps_rollup, which walks the page tables: `VmRSS` in /proc/PID/status comes
    // from per-thread counters folded in lazily (up to 64 pages per thread), so for a process
    // of 1,000 threads it read 10 MiB where the pages themselves gave a PSS of 29 MiB.
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    (field(&rollup, "Rss:"), field(&rollup, "Pss:"))
}

fn fds(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count() as u64)
}

fn threads(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |d| d.count() as u64)
}

struct Procs(Vec<Child>);

impl Drop for Procs {
    /// Stops the program as an operator would, with SIGTERM, and gives it the time to take its
    /// services out of the table (keepalived deletes a thousand one by one, as does each
    /// supervisor its own); whatever is still running after that is killed, children too
    /// (keepalived's checker would otherwise outlive its killed parent).
    fn drop(&mut self) {
        let parents: Vec<u32> = self.0.iter().map(Child::id).collect();
        let kids = children(&parents);
        for c in &mut self.0 {
            // SAFETY: kill has no memory preconditions.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
        }
        let end = Instant::now() + Duration::from_secs(120);
        for c in &mut self.0 {
            while Instant::now() < end {
                if let Ok(Some(_)) = c.try_wait() {
                    break;
                }
                thread::sleep(Duration::from_millis(20));
            }
            if !matches!(c.try_wait(), Ok(Some(_))) {
                println!(
                    "process {} still running 120 s after SIGTERM: killed",
                    c.id()
                );
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        for k in kids {
            // SAFETY: kill has no memory preconditions; a pid already gone gives ESRCH.
            unsafe { libc::kill(k as i32, libc::SIGKILL) };
        }
    }
}

/// The service of a `/proc/net/ip_vs` key (`0A120001:0050`).
fn service_key(proc_key: &str) -> ServiceKey {
    let (a, p) = proc_key.split_once(':').unwrap();
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: Ipv4Addr::from(u32::from_str_radix(a, 16).unwrap()).into(),
        port: u16::from_str_radix(p, 16).unwrap(),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn result(shape: &str, figure: &str, bb: f64, ka: f64) {
    let ratio = if ka > 0.0 { bb / ka } else { f64::NAN };
    println!("RESULT {shape} {figure} big_brother={bb:.1} keepalived={ka:.1} ratio={ratio:.2}");
}

fn pct(v: &[Duration], p: f64) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    if v.is_empty() {
        return Duration::ZERO;
    }
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

/// The pause after a table read that took `read`: at least `floor`, and four times the read,
/// so that the benchmark's own polling takes at most a fifth of one CPU (at 1,000 × 10 the
/// table is 11,000 lines; read every 10 ms under emulation it took most of a vCPU from the
/// programs measured).
fn poll_pause(read: Duration, floor: Duration) -> Duration {
    floor.max(read * 4)
}

/// Waits until `f` holds on the kernel's table; the time it took, or `None` after `limit`.
fn until(
    start: Instant,
    limit: Duration,
    mut f: impl FnMut(&BTreeMap<String, BTreeMap<u16, u32>>) -> bool,
) -> Option<Duration> {
    loop {
        let r0 = Instant::now();
        let t = table();
        let now = Instant::now();
        if f(&t) {
            return Some(now - start);
        }
        if now - start > limit {
            return None;
        }
        thread::sleep(poll_pause(now - r0, Duration::from_millis(10)));
    }
}

/// What one program measured in one shape.
#[derive(Default)]
struct Figures {
    startup: Option<Duration>,
    cpu_ms_per_min: f64,
    rss: u64,
    pss: u64,
    lagged: usize,
    latencies: Vec<Duration>,
    processes: usize,
    threads: u64,
    fds: u64,
    /// big_brother: the oldest heartbeat seen in the window (each supervisor writes it every
    /// tick, so this says whether every one of them still ticked every interval).
    status_max_age: Option<Duration>,
}

/// The shape's fixed parts, shared by both programs' turns.
struct Setup<'a> {
    o: &'a Opts,
    root: PathBuf,
    live: Vec<u16>,
    fleet: &'a Fleet,
    services: usize,
    limit: Duration,
}

fn shape(o: &Opts, ka: &Path, services: usize, reals: usize) {
    let name = if o.hung_percent > 0 {
        format!("{services}x{reals}h{}", o.hung_percent)
    } else {
        format!("{services}x{reals}")
    };
    let secs = o.interval.as_secs_f64();
    println!("\n== shape {name}: {services} service(s) x {reals} real servers, interval {secs}s");
    let hung_n = reals * o.hung_percent / 100;
    // Connections the checkers keep open: big_brother one per (service, real server).
    let poll = match o.endpoints {
        Some(p) => p,
        None => services * reals > 2000,
    };
    let fleet = if poll {
        Fleet::Poll(PollEndpoints::start(reals, hung_n))
    } else {
        Fleet::Threads(
            (0..reals)
                .map(|i| {
                    if i >= reals - hung_n {
                        Endpoint::Hung(Hung::start())
                    } else {
                        Endpoint::Live(
                            LitmusServer::start("127.0.0.1:0".parse().unwrap(), SERVICE, 100.0)
                                .unwrap(),
                        )
                    }
                })
                .collect(),
        )
    };
    println!(
        "endpoints: {}",
        if poll {
            "one epoll thread for every socket"
        } else {
            "a LitmusServer each (a thread per connection)"
        }
    );
    let ports: Vec<u16> = fleet.ports();
    let dir = tempfile::Builder::new()
        .prefix("bb-vs-ka-")
        .tempdir()
        .unwrap();
    let setup = Setup {
        o,
        root: dir.path().to_path_buf(),
        live: ports[..reals - hung_n].to_vec(),
        fleet: &fleet,
        services,
        limit: o.interval * 30 + Duration::from_secs(30),
    };
    let root = &setup.root;

    // keepalived: one configuration, one virtual_server per service.
    let mut kc = String::from("global_defs {\n  router_id bench\n}\n");
    for s in 0..services {
        kc.push_str(&format!(
            "virtual_server {} 80 {{\n  delay_loop {secs}\n  lb_algo wlc\n  lb_kind NAT\n  protocol TCP\n  alpha\n",
            vip(19, s)
        ));
        for p in &ports {
            kc.push_str(&format!(
                "  real_server 127.0.0.1 {p} {{\n    weight 100\n    inhibit_on_failure\n    HTTP_GET {{\n      url {{\n        path /{SERVICE}/status\n        status_code 200\n      }}\n      connect_timeout {secs}\n      retry 0\n    }}\n  }}\n"
            ));
        }
        kc.push_str("}\n");
    }
    let kconf = root.join("keepalived.conf");
    std::fs::write(&kconf, kc).unwrap();
    // big_brother: one spec and one supervisor per service.
    let mut specs = Vec::new();
    for s in 0..services {
        let mut t = format!(
            "name = \"c{s}\"\nprotocol = \"tcp\"\naddress = \"{}\"\nport = 80\nforward = \"nat\"\n\
             scheduler = \"wlc\"\ncheck_interval = \"{}ms\"\nramp_up_time = \"1ms\"\n",
            vip(18, s),
            o.interval.as_millis()
        );
        for p in &ports {
            t.push_str(&format!(
                "[[node]]\naddress = \"127.0.0.1\"\nport = {p}\nreal_port = {p}\npath = \"/{SERVICE}/status\"\n"
            ));
        }
        let f = root.join(format!("c{s}.toml"));
        std::fs::write(&f, t).unwrap();
        specs.push(f);
    }
    let bb_keys: Vec<String> = (0..services).map(|s| proc_key(&vip(18, s))).collect();
    let ka_keys: Vec<String> = (0..services).map(|s| proc_key(&vip(19, s))).collect();

    // keepalived's turn, then big_brother's: each alone on the machine (with many threads
    // against one, the scheduler's per-thread fairness would favour big_brother whenever the
    // CPU is short), against the same endpoints in the same VM.
    let k = turn(&setup, "keepalived", &ka_keys, |_| {
        let kap = Command::new(ka)
            .args(["-C", "-n", "-f"])
            .arg(&kconf)
            .arg("-p")
            .arg(root.join("ka.pid"))
            .arg("-c")
            .arg(root.join("ka-check.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Procs(vec![kap])
    });
    let bb = bb_bin();
    let b = turn(&setup, "big_brother", &bb_keys, |_| {
        let mut procs = Procs(Vec::new());
        for (s, spec) in specs.iter().enumerate() {
            let state = root.join(format!("state-c{s}"));
            std::fs::create_dir_all(&state).unwrap();
            let child = Command::new(&bb)
                .args(["supervise", "--cluster", &format!("c{s}"), "--config"])
                .arg(spec)
                .arg("--state-dir")
                .arg(&state)
                .env("BIG_BROTHER_DATA_DIR", root.join("data"))
                .env("HA_LOGFACILITY", "none")
                .env("HA_LOGFILE", root.join(format!("bb-c{s}.log")))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            procs.0.push(child);
        }
        procs
    });
    if let (Some(bs), Some(ks)) = (b.startup, k.startup) {
        result(&name, "startup_ms", ms(bs), ms(ks));
    }
    result(&name, "cpu_ms_per_min", b.cpu_ms_per_min, k.cpu_ms_per_min);
    result(&name, "rss_kib", b.rss as f64, k.rss as f64);
    result(&name, "pss_kib", b.pss as f64, k.pss as f64);
    result(&name, "processes", b.processes as f64, k.processes as f64);
    result(&name, "threads", b.threads as f64, k.threads as f64);
    result(&name, "fds", b.fds as f64, k.fds as f64);
    if let Some(age) = b.status_max_age {
        // keepalived writes no heartbeat; the interval is the bound big_brother's must keep.
        println!(
            "TICK {name} big_brother oldest_heartbeat_ms={:.0} interval_ms={}",
            ms(age),
            o.interval.as_millis()
        );
    }
    if hung_n > 0 {
        result(
            &name,
            "healthy_lag_samples",
            b.lagged as f64,
            k.lagged as f64,
        );
    }
    if !b.latencies.is_empty() {
        let (lb, lk) = (&b.latencies, &k.latencies);
        result(
            &name,
            "latency_median_ms",
            ms(pct(lb, 0.5)),
            ms(pct(lk, 0.5)),
        );
        result(
            &name,
            "latency_p99_ms",
            ms(pct(lb, 0.99)),
            ms(pct(lk, 0.99)),
        );
    }
    if o.keep {
        let kept = dir.keep();
        println!("kept {}", kept.display());
    }
}

/// Says why the table does not show `want`: how many services lag, the rows of the first
/// few, and for big_brother the end of those supervisors' logs and status files.
fn diagnose(setup: &Setup, prog: &str, keys: &[String], want: Option<(u16, u32)>) {
    let t = table();
    let lagging: Vec<usize> = (0..keys.len())
        .filter(|&i| !holds(&t, &keys[i..=i], &setup.live, want))
        .collect();
    println!(
        "{prog}: {} of {} services not at {want:?}",
        lagging.len(),
        keys.len()
    );
    if let Some(d) = setup.fleet.describe() {
        println!("  {d}");
    }
    for &i in lagging.iter().take(3) {
        println!("  {}: {:?}", keys[i], t.get(&keys[i]));
        if prog != "big_brother" {
            continue;
        }
        let log = setup.root.join(format!("bb-c{i}.log"));
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        println!("  {} (last 15 lines of {}):", log.display(), lines.len());
        for l in &lines[lines.len().saturating_sub(15)..] {
            println!("    {l}");
        }
        let status = setup.root.join(format!("state-c{i}")).join("status.json");
        let text = std::fs::read_to_string(&status).unwrap_or_default();
        // The nodes' states and last errors say why (the kernel's rows above say only what).
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(v) => {
                println!("  {} (tick {}):", status.display(), v["tick"]);
                for n in v["nodes"].as_array().into_iter().flatten() {
                    println!(
                        "    {} {} weight {} health {} checks {} failed {} since {} error {}",
                        n["id"],
                        n["state"],
                        n["weight"],
                        n["health"],
                        n["checks"],
                        n["check_failures"],
                        n["since"],
                        n["last_error"]
                    );
                }
            }
            Err(e) => println!("  {}: unreadable ({e})", status.display()),
        }
    }
}

/// One program's turn: start it, time the table's programming, CPU and memory over the steady
/// window, then the health changes; stop it (it removes its services).
fn turn(setup: &Setup, prog: &str, keys: &[String], start: impl FnOnce(()) -> Procs) -> Figures {
    let (o, live, limit) = (setup.o, &setup.live, setup.limit);
    let mut f = Figures::default();
    let t0 = Instant::now();
    let procs = start(());
    f.startup = until(t0, limit, |t| holds(t, keys, live, None));
    println!("{prog}: programmed the table in {:?}", f.startup);

    thread::sleep(o.interval * 2);
    let parents: Vec<u32> = procs.0.iter().map(Child::id).collect();
    // Every process of the program: the started ones and their children (keepalived's checker).
    let pids = || {
        let mut v = parents.clone();
        v.extend(children(&parents));
        v
    };
    let split = |pids: &[u32]| {
        pids.iter()
            .map(|&p| cpu_split(p))
            .fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
    };
    // At least two rounds in the window, whatever `--window-s` says.
    let window = o.window.max(o.interval * 2);
    let first = pids();
    let (s0, w0) = (split(&first), Instant::now());
    // Rounds stay within the interval: the healthy weights never leave 100 meanwhile.
    let mut last_age_check = Instant::now();
    while w0.elapsed() < window {
        let r0 = Instant::now();
        if !holds(&table(), keys, live, None) {
            f.lagged += 1;
        }
        let read = r0.elapsed();
        if prog == "big_brother" && last_age_check.elapsed() >= Duration::from_secs(5) {
            last_age_check = Instant::now();
            let now = boottime().unwrap_or_default();
            for s in 0..setup.services {
                let p = setup.root.join(format!("state-c{s}")).join("heartbeat");
                // By the CLOCK_BOOTTIME stamp in the line, as `monitor` judges it; a missing,
                // torn or stampless heartbeat counts as the whole window.
                let age = match heartbeat::read(&p).and_then(|b| b.boot_ms) {
                    Some(ms) => now.saturating_sub(Duration::from_millis(ms)),
                    None => window,
                };
                f.status_max_age = Some(f.status_max_age.map_or(age, |a| a.max(age)));
            }
        }
        thread::sleep(poll_pause(read, Duration::from_millis(200)));
    }
    let all = pids();
    let (s1, w1) = (split(&all), w0.elapsed());
    // A thread that ended in the window takes its time with it: never below zero.
    let (checks_ns, other_ns) = (s1.0.saturating_sub(s0.0), s1.1.saturating_sub(s0.1));
    f.cpu_ms_per_min = (checks_ns + other_ns) as f64 / 1e6 * 60.0 / w1.as_secs_f64();
    for &pid in &all {
        let (r, p) = memory(pid);
        f.rss += r;
        f.pss += p;
        f.threads += threads(pid);
        f.fds += fds(pid);
    }
    f.processes = all.len();
    println!(
        "{prog}: {} processes, {} threads, {} descriptors; CPU ms in the window: threads \
         named checks or check-* {}, the others {}; samples (every 200 ms or more) with a healthy weight \
         not at 100: {}; oldest heartbeat: {:?}",
        f.processes,
        f.threads,
        f.fds,
        checks_ns / 1_000_000,
        other_ns / 1_000_000,
        f.lagged,
        f.status_max_age
    );

    // Health changes: an endpoint goes down, then up again, at random phases of the interval.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let n_live = live.len();
    let mut ep = 0;
    // Five intervals and a minute: far beyond either program's bound (a check's interval and
    // timeout), short enough that a change never seen costs minutes, not half an hour.
    let change_limit = o.interval * 5 + Duration::from_secs(60);
    for c in 0..o.changes {
        let down = c % 2 == 0;
        if down {
            // A fresh endpoint goes down; the next change brings the same one up.
            ep = (rnd() as usize) % n_live;
        }
        let port = live[ep];
        // The table first shows the state before the change (else a lagging weight would
        // count as a change seen at once).
        let before = Some((port, if down { 100 } else { 0 }));
        if until(Instant::now(), change_limit, |t| {
            holds(t, keys, live, before)
        })
        .is_none()
        {
            // A change that was never seen leaves the table behind: what follows would measure
            // nothing, so stop here (the figures so far stand, marked by the message).
            println!(
                "{prog}: the table never showed {before:?} before change {c}; no more changes"
            );
            diagnose(setup, prog, keys, before);
            break;
        }
        let pause = Duration::from_millis(rnd() % (o.interval.as_millis() as u64).max(1));
        thread::sleep(pause);
        let t0 = Instant::now();
        setup.fleet.set_down(ep, down);
        let want = Some((port, if down { 0 } else { 100 }));
        // Past both programs' bound (a check within the interval, answered within the
        // timeout, here the interval too), say who lags while they still do; then keep waiting.
        let bound = o.interval * 2 + Duration::from_secs(10);
        let mut seen = until(t0, bound, |t| holds(t, keys, live, want));
        if seen.is_none() {
            println!("{prog}: change {c} not seen within {bound:?}");
            diagnose(setup, prog, keys, want);
            seen = until(t0, change_limit, |t| holds(t, keys, live, want));
        }
        println!(
            "{prog}: change {c} ({}): {seen:?}",
            if down { "down" } else { "up" }
        );
        if seen.is_none() {
            diagnose(setup, prog, keys, want);
        }
        f.latencies.push(seen.unwrap_or(change_limit));
    }
    // Every endpoint up for the other program's turn, however the changes ended.
    setup.fleet.set_down(ep, false);
    let t_stop = Instant::now();
    drop(procs);
    // Gone from the table before the other program's turn; what a stopped program left
    // behind is said and removed, so the next turn starts on a clean table.
    let gone = until(t_stop, Duration::from_secs(60), |t| {
        keys.iter().all(|k| !t.contains_key(k))
    });
    let syslog = SYSLOG_MESSAGES.load(Ordering::Relaxed);
    println!("{prog}: stopped, its services out of the table in {gone:?}; syslog messages so far: {syslog}");
    if gone.is_none() {
        let t = table();
        let left: Vec<&String> = keys.iter().filter(|k| t.contains_key(*k)).collect();
        println!(
            "{prog}: left {} of {} services in the table after it stopped; removing them",
            left.len(),
            keys.len()
        );
        let mut nl = Netlink::open().unwrap();
        for k in left {
            nl.del_service(&service_key(k)).unwrap();
        }
    }
    f
}
