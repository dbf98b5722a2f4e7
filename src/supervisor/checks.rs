//! The `checks` thread: every `litmus`, `http`, `tcp` and `agent` check of one supervisor in one
//! event loop (issue 18), each node a [`Machine`] driven by readiness. [`super::checker`] starts
//! it, feeds it nodes ([`Shared::order`]) and watches its heartbeat; `exec` checks keep a
//! thread per node there.
//!
//! Invariants:
//! - **the same time grid as a checker thread**: a node's check starts at its slot (`admit`:
//!   within the grace, with a budget that ends by the next slot; later, at the next slot), and
//!   its next slot follows the one it had, so nodes stay spread over the interval. One
//!   difference: while the loop keeps time, checks due within [`coalesce`] (a fiftieth of the
//!   interval, at most 20 ms) start in the same wake-up, a little early, never late;
//! - one min-heap holds every node's next moment (its slot, or its check's deadline while in
//!   flight; stale entries are skipped by generation), and the loop sleeps in `ppoll(2)` until
//!   the earliest of them or a socket of a check in flight is ready: the poll set holds only the
//!   checks in flight (and the wake socket), never the idle kept-alive connections, so a turn
//!   costs O(checks in flight), not O(nodes);
//! - **a hung node delays nobody**: no step blocks (non-blocking connect to an IP, non-blocking
//!   reads and writes), and its socket waits in the poll set until its own deadline;
//! - **a panic in one node's check** is caught around that step and becomes that node's
//!   [`CheckError::Internal`], with a fresh connection next time; a panic in the loop's own part
//!   of a node's turn ends that node's machine (as a checker thread's death), which
//!   [`super::checker::Checkers::supervise`] restarts;
//! - **the loop's own stall is seen**: it stamps [`Shared::beat`] every turn (and turns at least
//!   once a second), and the supervisor replaces the whole thread when the stamp is older than
//!   `stale_after`.

use std::any::Any;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::bell::Outbox;
use super::fault::{Fault, FaultMode};
use super::policy::Observation;
use super::schedule::{admit, later, stale_after};
use super::target::Target;
use crate::health::clean_text;
use crate::health::machine::{Machine, Step};
use crate::health::plan::Verdict;
use crate::health::CheckError;

/// Longest sleep of the loop: it stamps its heartbeat at least this often, whatever the
/// interval, so a long interval is never mistaken for a stall. A quarter of the time after which
/// the loop is judged stuck (`stale_after`, which leaves room for three late wake-ups), between
/// one second and [`MAX_SLEEP`]. Nothing else needs a turn: new nodes, a stop and the sockets
/// wake it. With ten nodes at a 20 s interval, waking every second for the stamp alone was as
/// many wake-ups as the checks themselves; capped at 5 s, at a 60 s interval a thousand
/// supervisors still woke 200 times a second for nothing (issue 18, 1,000 × 10).
fn max_sleep(interval: Duration, timeout: Duration) -> Duration {
    (stale_after(interval, timeout) / 4).clamp(Duration::from_secs(1), MAX_SLEEP)
}

/// Upper bound of [`max_sleep`]: the loop turns at least once a minute.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// Most a check may start before its slot so that checks whose slots fall close together
/// start in one wake-up of the loop (see [`coalesce`]).
const COALESCE_MAX: Duration = Duration::from_millis(20);

/// How late a wake-up may be and still count as on time (see `Loop::fire_timers`).
const ON_TIME: Duration = Duration::from_millis(1);

/// How early a check may start when the loop is awake anyway and on time: a fiftieth of the interval, at
/// most [`COALESCE_MAX`]. Natively a check's cost is mostly the kernel's (the loopback TCP
/// exchange) and the loop's wake-ups; starting the checks due within this window together
/// saves wake-ups while a node's checks stay on its grid (each still starts within the window
/// before its slot, never late) and a hundred nodes stay spread (2 per 20 ms at 1 s).
pub fn coalesce(interval: Duration) -> Duration {
    (interval / 50).min(COALESCE_MAX)
}

/// One node's machine as the supervisor sees it (what a thread's handle is for a checker
/// thread).
#[derive(Debug, Default)]
pub struct NodeCtl {
    /// Tells the loop to drop this machine without reporting.
    pub retired: Arc<AtomicBool>,
    /// Set when the machine died (the panic's message).
    pub died: Mutex<Option<String>>,
}

impl NodeCtl {
    pub fn death(&self) -> Option<String> {
        self.died.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A node to check from `first` on (a slot of its grid), replacing the one it had.
pub struct Order {
    pub target: Target,
    pub ctl: Arc<NodeCtl>,
    pub first: Instant,
    /// The slot after the first check when it is not one interval later (the first round,
    /// see `schedule::first_checks`).
    pub then: Option<Instant>,
}

/// What the supervisor and one loop thread share.
pub struct Shared {
    stop: AtomicBool,
    /// Milliseconds from the checkers' epoch at the loop's last turn.
    beat: AtomicU64,
    inbox: Mutex<Vec<Order>>,
    wake_tx: UnixStream,
    wake_rx: UnixStream,
}

impl Shared {
    pub fn new() -> io::Result<Arc<Shared>> {
        let (wake_tx, wake_rx) = UnixStream::pair()?;
        wake_tx.set_nonblocking(true)?;
        wake_rx.set_nonblocking(true)?;
        Ok(Arc::new(Shared {
            stop: AtomicBool::new(false),
            beat: AtomicU64::new(0),
            inbox: Mutex::new(Vec::new()),
            wake_tx,
            wake_rx,
        }))
    }

    fn wake(&self) {
        // A full socket already holds a wake-up: nothing is lost when this write fails.
        let _ = (&self.wake_tx).write(&[1]);
    }

    /// Hands a node to the loop.
    pub fn order(&self, o: Order) {
        self.inbox.lock().unwrap_or_else(|e| e.into_inner()).push(o);
        self.wake();
    }

    /// Tells the loop to end (a stop, or its replacement) without reporting again.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake();
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// How long ago, seen at `now`, the loop last turned (`epoch`: the checkers' epoch).
    pub fn beat_age(&self, epoch: Instant, now: Instant) -> Duration {
        let at = epoch + Duration::from_millis(self.beat.load(Ordering::SeqCst));
        now.saturating_duration_since(at)
    }

    pub fn stamp(&self, epoch: Instant, now: Instant) {
        let ms = now.saturating_duration_since(epoch).as_millis();
        self.beat
            .store(u64::try_from(ms).unwrap_or(u64::MAX), Ordering::SeqCst);
    }
}

/// One node in the loop.
struct Entry {
    target: Target,
    ctl: Arc<NodeCtl>,
    machine: Option<Machine>,
    /// The slot of the check that runs or comes next.
    due: Instant,
    /// The slot after `due` when it is not one interval later (the first round).
    then: Option<Instant>,
    began: Instant,
    /// Generation of the node's latest timer in the heap (older ones are skipped).
    gen: u64,
    /// The check in flight waits for this socket.
    waiting: Option<(RawFd, i16)>,
}

/// The loop thread's state.
pub struct Loop {
    shared: Arc<Shared>,
    epoch: Instant,
    interval: Duration,
    timeout: Duration,
    tx: Outbox,
    fault: Option<Arc<Fault>>,
    nodes: HashMap<usize, Entry>,
    timers: BinaryHeap<Reverse<(Instant, usize, u64)>>,
    /// Nodes with a check in flight.
    inflight: Vec<usize>,
    /// The controller is gone.
    orphaned: bool,
    /// The last generation handed out (one counter for every node: a node dropped and started
    /// again can never match a timer of its earlier entry).
    gens: u64,
}

impl Loop {
    pub fn new(
        shared: Arc<Shared>,
        epoch: Instant,
        interval: Duration,
        timeout: Duration,
        tx: Outbox,
        fault: Option<Arc<Fault>>,
    ) -> Loop {
        Loop {
            shared,
            epoch,
            interval,
            timeout,
            tx,
            fault,
            nodes: HashMap::new(),
            timers: BinaryHeap::new(),
            inflight: Vec::new(),
            orphaned: false,
            gens: 0,
        }
    }

    pub fn run(mut self) {
        let mut fds: Vec<libc::pollfd> = Vec::new();
        let mut owners: Vec<usize> = Vec::new();
        loop {
            let now = Instant::now();
            self.shared.stamp(self.epoch, now);
            if self.shared.stopped() || self.orphaned {
                return;
            }
            self.take_orders();
            self.fire_timers(now);
            if self.shared.stopped() || self.orphaned {
                return;
            }
            // Sleep until a socket in flight is ready, the next timer, or a wake-up.
            fds.clear();
            owners.clear();
            fds.push(libc::pollfd {
                fd: self.shared.wake_rx.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
            for &n in &self.inflight {
                if let Some((fd, events)) = self.nodes.get(&n).and_then(|e| e.waiting) {
                    fds.push(libc::pollfd {
                        fd,
                        events,
                        revents: 0,
                    });
                    owners.push(n);
                }
            }
            let now = Instant::now();
            let longest = max_sleep(self.interval, self.timeout);
            let sleep = self
                .timers
                .peek()
                .map_or(longest, |Reverse((t, _, _))| {
                    t.saturating_duration_since(now)
                })
                .min(longest);
            if !sleep.is_zero() && poll(&mut fds, sleep) > 0 {
                if fds.first().is_some_and(|p| p.revents != 0) {
                    let mut sink = [0u8; 64];
                    while matches!((&self.shared.wake_rx).read(&mut sink), Ok(n) if n > 0) {}
                }
                let ready: Vec<usize> = fds
                    .iter()
                    .skip(1)
                    .zip(&owners)
                    .filter(|(p, _)| p.revents != 0)
                    .map(|(_, &n)| n)
                    .collect();
                for n in ready {
                    self.advance(n, Instant::now());
                }
            }
        }
    }

    fn take_orders(&mut self) {
        let orders =
            std::mem::take(&mut *self.shared.inbox.lock().unwrap_or_else(|e| e.into_inner()));
        for o in orders {
            let node = o.target.node;
            self.inflight.retain(|&n| n != node);
            self.gens = self.gens.wrapping_add(1);
            let gen = self.gens;
            self.nodes.insert(
                node,
                Entry {
                    machine: Machine::new(o.target.plan.clone()).ok(),
                    target: o.target,
                    ctl: o.ctl,
                    due: o.first,
                    then: o.then,
                    began: o.first,
                    gen,
                    waiting: None,
                },
            );
            self.timers.push(Reverse((o.first, node, gen)));
        }
    }

    /// Schedules node `n`'s next moment at `t` (its slot, or its check's deadline).
    fn schedule(&mut self, n: usize, t: Instant) {
        if let Some(e) = self.nodes.get_mut(&n) {
            self.gens = self.gens.wrapping_add(1);
            e.gen = self.gens;
            self.timers.push(Reverse((t, n, e.gen)));
        }
    }

    fn fire_timers(&mut self, now: Instant) {
        // Slots are pulled forward only while the loop keeps time: a loop woken late (a busy
        // CPU) starts what is due and no more, or each late turn would also start the next
        // 20 ms of checks and bunch them further.
        let late = self
            .timers
            .peek()
            .is_some_and(|Reverse((t, _, _))| now.saturating_duration_since(*t) > ON_TIME);
        let horizon = if late {
            now
        } else {
            later(now, coalesce(self.interval))
        };
        while let Some(&Reverse((t, n, gen))) = self.timers.peek() {
            if t > horizon {
                return;
            }
            let Some(e) = self.nodes.get(&n) else {
                self.timers.pop();
                continue;
            };
            if e.gen != gen {
                self.timers.pop();
                continue;
            }
            if t > now && e.waiting.is_some() {
                // A deadline is never taken early: sleep until it.
                return;
            }
            self.timers.pop();
            if e.ctl.retired.load(Ordering::SeqCst) {
                self.drop_node(n);
                continue;
            }
            if e.waiting.is_some() {
                // The check's deadline: the machine times it out.
                self.advance(n, now);
            } else {
                self.start(n, now);
            }
            if self.shared.stopped() || self.orphaned {
                return;
            }
        }
    }

    fn drop_node(&mut self, n: usize) {
        self.nodes.remove(&n);
        self.inflight.retain(|&m| m != n);
    }

    fn fire(&self, addr: std::net::SocketAddr, modes: &[FaultMode]) -> bool {
        self.fault.as_ref().is_some_and(|f| f.fire(addr, modes))
    }

    /// Node `n`'s slot came: its check starts (or waits for its next slot when late).
    fn start(&mut self, n: usize, now: Instant) {
        let (interval, timeout) = (self.interval, self.timeout);
        let Some(e) = self.nodes.get_mut(&n) else {
            return;
        };
        let budget = match admit(e.due, interval, timeout, now) {
            Ok(budget) => budget,
            Err(slot) => {
                e.due = slot;
                e.then = None;
                self.schedule(n, slot);
                return;
            }
        };
        let addr = e.target.addr;
        if let Some(f) = &self.fault {
            f.count(addr);
        }
        if self.fire(addr, &[FaultMode::Stall]) {
            // The loop itself stuck for good, as only a bug could make it.
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        // The loop's own part of the node's turn, as a checker thread's loop: a panic here
        // ends the node's machine (the supervisor restarts it), not the loop.
        let outside = panic::catch_unwind(AssertUnwindSafe(|| {
            if self.fire(addr, &[FaultMode::Die, FaultMode::NoSpawn]) {
                panic!("fault knob: checker thread of {addr} dies");
            }
            self.fire(addr, &[FaultMode::Hang])
        }));
        match outside {
            Err(payload) => {
                if let Some(e) = self.nodes.get(&n) {
                    *e.ctl.died.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some(panic_message(payload.as_ref()));
                }
                self.drop_node(n);
                return;
            }
            // That node's machine never advances again (no timer, no socket in the poll set)
            // until the supervisor replaces it.
            Ok(true) => return,
            Ok(false) => {}
        }
        let fault = self.fault.clone();
        let Some(e) = self.nodes.get_mut(&n) else {
            return;
        };
        e.began = now;
        let step = panic::catch_unwind(AssertUnwindSafe(|| {
            if fault
                .as_ref()
                .is_some_and(|f| f.fire(addr, &[FaultMode::Panic]))
            {
                panic!("fault knob: check of {addr} panics");
            }
            // A plan that cannot run (an unreadable CA file) fails every check of its node,
            // and is tried again at each check: the file may be fixed.
            if e.machine.is_none() {
                match Machine::new(e.target.plan.clone()) {
                    Ok(m) => e.machine = Some(m),
                    Err(err) => return Step::Done(Err(CheckError::Tls(err.to_string()))),
                }
            }
            match e.machine.as_mut() {
                Some(m) => m.begin(now, budget),
                None => Step::Done(Err(CheckError::Internal("no machine".into()))),
            }
        }));
        self.after(n, step);
    }

    /// Node `n`'s socket is ready, or its deadline passed.
    fn advance(&mut self, n: usize, now: Instant) {
        let Some(e) = self.nodes.get_mut(&n) else {
            return;
        };
        let step = panic::catch_unwind(AssertUnwindSafe(|| match e.machine.as_mut() {
            Some(m) => m.advance(now),
            None => Step::Done(Err(CheckError::Internal("no machine".into()))),
        }));
        self.after(n, step);
    }

    fn after(&mut self, n: usize, step: Result<Step, Box<dyn std::any::Any + Send>>) {
        let Some(e) = self.nodes.get_mut(&n) else {
            return;
        };
        let result = match step {
            Ok(Step::Wait { fd, events, until }) => {
                e.waiting = Some((fd, events));
                if !self.inflight.contains(&n) {
                    self.inflight.push(n);
                }
                self.schedule(n, until);
                return;
            }
            Ok(Step::Done(r)) => r,
            // A panic in a check (a bug on some answer nobody foresaw) is that node's error;
            // the next check starts afresh on a new connection.
            Err(payload) => Err(CheckError::Internal(panic_message(payload.as_ref()))),
        };
        e.waiting = None;
        if result.is_err() {
            if let Some(m) = e.machine.as_mut() {
                m.reset();
            }
        }
        self.inflight.retain(|&m| m != n);
        let Some(e) = self.nodes.get_mut(&n) else {
            return;
        };
        let (drain, output) = match &result {
            Ok(Verdict { drain, output, .. }) => (*drain, output.clone()),
            Err(_) => (false, None),
        };
        let at = Instant::now();
        if self.shared.stopped() || e.ctl.retired.load(Ordering::SeqCst) {
            return;
        }
        let obs = Observation {
            node: e.target.node,
            at,
            latency: at.saturating_duration_since(e.began),
            result: result.map(|v| v.health),
            drain,
            output,
        };
        // The next slot of the node's grid (see `checker::admit`).
        e.due = e.then.take().unwrap_or_else(|| later(e.due, self.interval));
        let due = e.due;
        if self.tx.send(obs).is_err() {
            self.orphaned = true; // the controller is gone
            return;
        }
        self.schedule(n, due);
    }
}

/// The text of a panic payload (`panic!` gives a `&str` or a `String`), made safe to log.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    let raw = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message");
    clean_text(raw)
}

/// `ppoll(2)` on `fds` for at most `sleep`; the number of ready descriptors (0 on a timeout or
/// a signal).
fn poll(fds: &mut [libc::pollfd], sleep: Duration) -> i32 {
    let ts = libc::timespec {
        tv_sec: libc::time_t::try_from(sleep.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: libc::c_long::from(i32::try_from(sleep.subsec_nanos()).unwrap_or(0)),
    };
    // SAFETY: `fds` is a valid array of `fds.len()` pollfd; `ts` lives across the call; no
    // signal mask is changed.
    unsafe {
        libc::ppoll(
            fds.as_mut_ptr(),
            fds.len() as libc::nfds_t,
            &ts,
            std::ptr::null(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loop_sleeps_at_most_a_quarter_of_its_staleness_bound() {
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        for (interval, timeout) in [
            (ms(100), ms(100)),
            (s(1), s(1)),
            (s(2), s(1)),
            (s(20), s(5)),
            (s(60), s(60)),
            (s(300), s(300)),
        ] {
            let longest = max_sleep(interval, timeout);
            assert!(
                longest * 3 <= stale_after(interval, timeout),
                "{interval:?}"
            );
            assert!(longest >= s(1) && longest <= MAX_SLEEP);
        }
        // 2 × 20 s + 5 s = 45 s; a quarter of it.
        assert_eq!(max_sleep(s(20), s(5)), ms(11_250));
        assert_eq!(max_sleep(s(60), s(60)), s(45));
        assert_eq!(max_sleep(s(300), s(300)), MAX_SLEEP);
        assert_eq!(max_sleep(s(1), s(1)), s(1));
    }

    #[test]
    fn checks_start_at_most_a_fiftieth_of_the_interval_and_20_ms_early() {
        let ms = Duration::from_millis;
        assert_eq!(coalesce(ms(100)), ms(2));
        assert_eq!(coalesce(Duration::from_secs(1)), ms(20));
        assert_eq!(coalesce(Duration::from_secs(300)), COALESCE_MAX);
        assert_eq!(coalesce(Duration::ZERO), Duration::ZERO);
    }
}
