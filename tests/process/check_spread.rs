//! Checks stay spread over the interval (issue 18): 100 nodes behind one shared endpoint that is
//! too slow to answer within the timeout (a saturated litmus_paper serving many services), the
//! real supervisor (`big_brother supervise`, dry-run) checking them every second. The director
//! stalls once (SIGSTOP for 1.5 s: a VM losing its CPU, a swap storm), which holds every thread
//! up at once. Measured at the endpoint: the most checks that arrive within any tenth of the
//! interval. Spread evenly that is 10; before the fix every check timed out together after the
//! stall and started the next one "at once" together, for good: ~100 in one burst.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::ocf_support::signal;
use crate::util::bin;

const NODES: usize = 100;
const INTERVAL: Duration = Duration::from_secs(1);
/// The endpoint answers this late: every check times out.
const SLOW: Duration = Duration::from_millis(1500);

/// One endpoint on loopback, a thread per connection, that records when each request arrived
/// and answers (litmus_paper's format) only after [`SLOW`].
struct SlowEndpoint {
    addr: SocketAddr,
    arrivals: Arc<Mutex<Vec<Instant>>>,
    stop: Arc<AtomicBool>,
}

impl SlowEndpoint {
    fn start() -> SlowEndpoint {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, s) = (Arc::clone(&arrivals), Arc::clone(&stop));
        thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (a, s) = (Arc::clone(&a), Arc::clone(&s));
                thread::spawn(move || serve(conn, &a, &s));
            }
        });
        SlowEndpoint {
            addr,
            arrivals,
            stop,
        }
    }

    fn arrivals(&self) -> Vec<Instant> {
        let mut v = self.arrivals.lock().unwrap().clone();
        v.sort();
        v
    }
}

impl Drop for SlowEndpoint {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn serve(mut conn: TcpStream, arrivals: &Mutex<Vec<Instant>>, stop: &AtomicBool) {
    let _ = conn.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    while !stop.load(Ordering::SeqCst) {
        match conn.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
            Err(_) => return,
        }
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            buf.drain(..end + 4);
            arrivals.lock().unwrap().push(Instant::now());
            thread::sleep(SLOW);
            let body = "Health: 100\n";
            let answer = format!(
                "HTTP/1.1 200 OK\r\nX-Health: 100\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            if conn.write_all(answer.as_bytes()).is_err() {
                return;
            }
        }
    }
}

/// The most instants of `sorted` inside any window of length `w` starting within `[from, to)`.
fn max_in_window(sorted: &[Instant], from: Instant, to: Instant, w: Duration) -> usize {
    let inside: Vec<Instant> = sorted
        .iter()
        .copied()
        .filter(|t| *t >= from && *t < to)
        .collect();
    let mut best = 0;
    let mut j = 0;
    for i in 0..inside.len() {
        while j < inside.len() && inside[j] < inside[i] + w {
            j += 1;
        }
        best = best.max(j - i);
    }
    best
}

struct Supervisor(Child);

impl Drop for Supervisor {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn checks_against_a_saturated_shared_endpoint_stay_spread_after_a_stall() {
    let srv = SlowEndpoint::start();
    let dir = tempfile::tempdir().unwrap();
    let mut spec = String::from(
        "name = \"spread\"\nprotocol = \"tcp\"\naddress = \"192.0.2.60\"\nport = 80\n\
         check_interval = \"1s\"\ncheck_timeout = \"1s\"\n",
    );
    // One shared endpoint: every node's check goes to it; the nodes differ by real port.
    for i in 0..NODES {
        spec.push_str(&format!(
            "[[node]]\naddress = \"127.0.0.1\"\nport = {}\nreal_port = {}\npath = \"/spread/status\"\n",
            srv.addr.port(),
            10_000 + i
        ));
    }
    let config = dir.path().join("spread.toml");
    std::fs::write(&config, spec).unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let child = Command::new(bin())
        .args(["supervise", "--cluster", "spread", "--config"])
        .arg(&config)
        .arg("--state-dir")
        .arg(&state)
        .arg("--dry-run")
        .env("BIG_BROTHER_DATA_DIR", dir.path().join("data"))
        .env("HA_LOGFACILITY", "none")
        .env("HA_LOGFILE", dir.path().join("ha.log"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let sup = Supervisor(child);
    let pid = i32::try_from(sup.0.id()).unwrap();
    let window = INTERVAL / 10;

    thread::sleep(Duration::from_secs(4));
    let before = Instant::now();
    signal(pid, libc::SIGSTOP);
    thread::sleep(Duration::from_millis(1500));
    signal(pid, libc::SIGCONT);
    let resumed = Instant::now();
    // Two intervals to settle, then four measured.
    thread::sleep(Duration::from_secs(6));
    let measured_from = resumed + 2 * INTERVAL;
    let measured_to = measured_from + 4 * INTERVAL;
    let arrivals = srv.arrivals();
    drop(sup);

    let warm = max_in_window(&arrivals, before - 2 * INTERVAL, before, window);
    let after = max_in_window(&arrivals, measured_from, measured_to, window);
    let count = arrivals
        .iter()
        .filter(|t| **t >= measured_from && **t < measured_to)
        .count();
    eprintln!(
        "checks in any {window:?}: {warm} before the stall, {after} after it \
         ({count} checks in 4 intervals; 10 when spread evenly)"
    );
    // Every node is still checked about once per interval (each check uses its whole budget).
    assert!(count >= 3 * NODES, "{count} checks in 4 intervals");
    // Spread: at most 2.5 times the even share in any tenth of the interval.
    let bound = NODES / 4;
    assert!(
        warm <= bound,
        "{warm} checks in one {window:?} before the stall"
    );
    assert!(
        after <= bound,
        "{after} checks arrived within one {window:?} after the stall (bound {bound}): the \
         checkers fell into step"
    );
}
