//! One named thread per node, each checking its node every `check_interval` and sending an
//! [`Observation`] to the controller over an mpsc channel.
//!
//! Invariants:
//! - a node that hangs delays nobody: each thread has its own connection and its own deadline
//!   (`check_timeout`, never more than the interval);
//! - threads start staggered across the first interval, so 1,000 nodes do not open 1,000
//!   connections in the same millisecond;
//! - a late check never causes a burst: missed slots are skipped, not caught up;
//! - [`Checkers::stop`] wakes idle threads at once and waits at most `check_timeout` for a
//!   thread in the middle of a check.

use std::io;
use std::net::SocketAddr;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::health::{client::Client, parse::interpret};
pub use crate::health::{CheckError, Health};
use crate::spec::{Node, Spec};

/// Stack of a checker thread: the client needs a few KiB; 1,000 threads × 256 KiB of address
/// space is fine, and only touched pages count towards RSS.
const STACK_SIZE: usize = 256 * 1024;

/// One check's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// Index into `spec.nodes`.
    pub node: usize,
    /// When the check ended.
    pub at: Instant,
    pub latency: Duration,
    pub result: Result<Health, CheckError>,
}

/// What a checker thread needs to know about its node.
#[derive(Clone, Debug)]
pub struct Target {
    pub node: usize,
    pub addr: SocketAddr,
    pub path: String,
}

impl Target {
    pub fn of(index: usize, node: &Node) -> Target {
        Target {
            node: index,
            addr: SocketAddr::new(node.address, node.port),
            path: node.path.clone(),
        }
    }
}

struct StopFlag {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl StopFlag {
    fn is_set(&self) -> bool {
        *self.stopped.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sleeps until `until` or until stopped; returns true when stopped.
    fn sleep_until(&self, until: Instant) -> bool {
        let mut stopped = self.stopped.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if *stopped {
                return true;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            stopped = match self.wake.wait_timeout(stopped, left) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
    }
}

/// The running checker threads. Dropping without [`Checkers::stop`] also stops them (without
/// waiting).
pub struct Checkers {
    flag: Arc<StopFlag>,
    threads: Vec<JoinHandle<()>>,
}

impl Checkers {
    /// Number of checker threads.
    pub fn len(&self) -> usize {
        self.threads.len()
    }

    pub fn is_empty(&self) -> bool {
        self.threads.is_empty()
    }

    fn signal(&self) {
        *self.flag.stopped.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.flag.wake.notify_all();
    }

    /// Stops every thread and waits for them (at most about `check_timeout`).
    pub fn stop(mut self) {
        self.signal();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Checkers {
    fn drop(&mut self) {
        self.signal();
    }
}

/// Starts one checker per node of `spec`.
pub fn spawn(spec: &Spec, tx: Sender<Observation>) -> io::Result<Checkers> {
    let targets: Vec<Target> = spec
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| Target::of(i, n))
        .collect();
    spawn_targets(&targets, spec.check_interval, spec.check_timeout, tx)
}

/// Starts one checker per target (the demo and benchmarks use this directly).
pub fn spawn_targets(
    targets: &[Target],
    interval: Duration,
    timeout: Duration,
    tx: Sender<Observation>,
) -> io::Result<Checkers> {
    let timeout = timeout.min(interval);
    // One kept-alive socket per node, plus the process's own: 1,024 nodes would not fit under
    // the common soft limit of 1,024 descriptors.
    raise_fd_limit(targets.len() as u64 + 64);
    let flag = Arc::new(StopFlag {
        stopped: Mutex::new(false),
        wake: Condvar::new(),
    });
    let mut checkers = Checkers {
        flag: Arc::clone(&flag),
        threads: Vec::with_capacity(targets.len()),
    };
    let start = Instant::now();
    let n = u32::try_from(targets.len().max(1)).unwrap_or(u32::MAX);
    for (i, t) in targets.iter().enumerate() {
        let offset = interval * u32::try_from(i).unwrap_or(0) / n;
        let (target, flag, tx) = (t.clone(), Arc::clone(&flag), tx.clone());
        let handle = thread::Builder::new()
            .name(format!("check-{}", t.addr))
            .stack_size(STACK_SIZE)
            .spawn(move || run(&target, start + offset, interval, timeout, &flag, &tx));
        match handle {
            Ok(h) => checkers.threads.push(h),
            Err(e) => {
                checkers.stop();
                return Err(e);
            }
        }
    }
    Ok(checkers)
}

/// Raises the soft `RLIMIT_NOFILE` to at least `needed` (never above the hard limit); best
/// effort: if it cannot, checks past the limit report the EMFILE error for their node.
pub fn raise_fd_limit(needed: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local `rlimit`.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 || lim.rlim_cur >= needed {
            return;
        }
        lim.rlim_cur = needed.min(lim.rlim_max);
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    }
}

fn run(
    target: &Target,
    first: Instant,
    interval: Duration,
    timeout: Duration,
    flag: &StopFlag,
    tx: &Sender<Observation>,
) {
    let mut client = Client::new(target.addr, &target.path);
    let mut next = first;
    loop {
        if flag.sleep_until(next) {
            return;
        }
        let began = Instant::now();
        let result = client.get(timeout).and_then(|r| interpret(&r));
        let at = Instant::now();
        if flag.is_set() {
            return;
        }
        let obs = Observation {
            node: target.node,
            at,
            latency: at - began,
            result,
        };
        if tx.send(obs).is_err() {
            return; // the controller is gone
        }
        // Next slot on the original grid. A check that ran into the next slot (a hung node
        // uses its whole budget, which may equal the interval) starts the next one at once;
        // slots missed entirely are skipped instead of caught up in a burst.
        next += interval;
        if next < at {
            let behind = (at - next).as_nanos() / interval.as_nanos().max(1);
            next += interval * u32::try_from(behind).unwrap_or(u32::MAX);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::serve::LitmusServer;
    use std::sync::mpsc;

    #[test]
    fn observes_every_interval_and_stops_promptly() {
        let a = LitmusServer::start("127.0.0.1:0".parse().unwrap(), "app", 60.0).unwrap();
        let b = LitmusServer::start("127.0.0.1:0".parse().unwrap(), "app", 30.0).unwrap();
        let targets = [
            Target {
                node: 0,
                addr: a.addr(),
                path: "/app/status".into(),
            },
            Target {
                node: 1,
                addr: b.addr(),
                path: "/app/status".into(),
            },
        ];
        let (tx, rx) = mpsc::channel();
        let interval = Duration::from_millis(100);
        let c = spawn_targets(&targets, interval, interval, tx).unwrap();
        let mut seen = [0u32; 2];
        let deadline = Instant::now() + Duration::from_secs(10);
        while seen.iter().any(|&n| n < 3) && Instant::now() < deadline {
            if let Ok(o) = rx.recv_timeout(Duration::from_secs(1)) {
                let want = if o.node == 0 { 60.0 } else { 30.0 };
                assert_eq!(o.result.as_ref().map(|h| h.value), Ok(want));
                seen[o.node] += 1;
            }
        }
        assert!(seen.iter().all(|&n| n >= 3), "{seen:?}");
        let t = Instant::now();
        c.stop();
        assert!(t.elapsed() < Duration::from_secs(1));
        // Keep-alive: one connection per checker.
        assert_eq!((a.connections(), b.connections()), (1, 1));
    }
}
