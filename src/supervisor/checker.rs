//! Every node's check, every `check_interval`, each result sent as an [`Observation`] to the
//! controller over an mpsc channel, ringing the controller's bell only when the result may
//! change a weight ([`super::bell`]) — and what keeps the checkers alive.
//!
//! Since issue 18 the `litmus`, `http`, `tcp` and `agent` checks of a supervisor all run in one
//! `checks` thread, an event loop over non-blocking sockets ([`super::checks`]); only `exec`
//! checks keep a thread per node (waiting for a child blocks). A "checker" below is a node's
//! machine in that loop, or its thread.
//!
//! Invariants:
//! - a node that hangs delays nobody: each node has its own connection and its own deadline
//!   (`check_timeout`, never more than the interval), and no step of the loop blocks;
//! - **every node keeps its own phase** (issue 18): node `i` of `n` is checked at
//!   `epoch + interval × i/n + k × interval`, so 1,000 nodes never open 1,000 connections in the
//!   same millisecond — and stay spread. Only the first round is spread over at most 2 s, so a
//!   long interval does not delay the first table ([`super::schedule::first_checks`]). A check
//!   never runs into the node's next slot (its budget is `check_timeout`, cut to end at that
//!   slot; the first round's checks keep their whole budget), a check more than [`grace`] late
//!   (the machine stalled, not the node) waits for the node's next slot instead of starting at
//!   once, and a restarted checker resumes on the node's grid. Before, a check that overran its slot
//!   started the next one "at once": threads delayed together (a stall, a saturated shared
//!   endpoint making every check time out) then timed out together and started together for
//!   good, so 100 checks arrived as one burst each interval;
//! - a late check never causes a burst: missed slots are skipped, not caught up;
//! - **a checker that stops never goes unnoticed** (issue 12): a panic inside a check is caught
//!   and becomes that node's check error ([`CheckError::Internal`]), with a fresh connection for
//!   the next check; a checker that ends anyway (a thread that exits, a machine whose turn
//!   panicked outside the check) is started again by [`Checkers::supervise`], which the
//!   controller calls every tick; a checker that stops reporting (stuck in a way nobody
//!   foresaw) is told to retire and replaced once. The loop itself is watched the same way: a
//!   loop thread that ends, or whose heartbeat (stamped every turn) is older than
//!   [`stale_after`], is replaced with a fresh machine for each of its nodes. The controller
//!   meanwhile counts a node without a result for [`stale_after`] as failed, so no weight is
//!   ever frozen by a silent checker. What cannot be repaired — a checker that cannot be
//!   started, a replacement stuck again, a checker (or the loop) dying over and over without a
//!   result — is a persistent [`Supervision::error`], which `monitor` reports as a failure;
//! - [`Checkers::stop`] wakes the loop and idle threads at once and waits at most
//!   `check_timeout` plus a second for a thread in the middle of a check; a thread still
//!   running then is left behind (it cannot report: its channel is gone or it was retired).

use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub use super::bell::Outbox;
pub use super::checks::panic_message;
use super::checks::{Loop, NodeCtl, Order, Shared};
pub use super::fault::{Fault, FaultMode, FAULT_ENV};
pub use super::policy::Observation;
use super::schedule::{admit, first_checks, later, slot_at_or_after, stagger};
pub use super::schedule::{stale_after, STALE_MIN};
pub use super::target::Target;
use crate::health::probe::{Probe, Prober, Verdict};
pub use crate::health::{CheckError, Health};
use crate::spec::Spec;

/// Stack of a checker thread: the client needs a few KiB; 1,000 threads × 256 KiB of address
/// space is fine, and only touched pages count towards RSS.
const STACK_SIZE: usize = 256 * 1024;

/// A checker thread that dies this many times in a row without one result in between cannot
/// be kept alive: the supervisor reports it as a persistent error.
pub const MAX_DEATHS_WITHOUT_RESULT: u32 = 3;

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

/// A node's checker: its own thread (`exec`), or its machine in the checks loop.
enum Handle {
    Thread(JoinHandle<()>),
    Machine(Arc<NodeCtl>),
}

impl Handle {
    fn is_finished(&self) -> bool {
        match self {
            Handle::Thread(h) => h.is_finished(),
            Handle::Machine(c) => c.death().is_some(),
        }
    }

    /// Why it ended (a panic's message), once it has.
    fn join(self) -> String {
        match self {
            Handle::Thread(h) => match h.join() {
                Err(payload) => panic_message(payload.as_ref()),
                Ok(()) => "the thread ended".to_string(),
            },
            Handle::Machine(c) => c.death().unwrap_or_else(|| "the machine ended".into()),
        }
    }
}

/// The checks loop thread (every node but `exec` ones).
struct LoopRun {
    shared: Arc<Shared>,
    handle: JoinHandle<()>,
    since: Instant,
}

/// One node's checker and its history.
struct Slot {
    target: Target,
    /// `None` after a failed start (retried by the next [`Checkers::supervise`]).
    handle: Option<Handle>,
    /// Tells this slot's current checker to leave without reporting.
    retired: Arc<AtomicBool>,
    /// A stuck checker replaced by `handle`, while it has not ended.
    abandoned: Option<Handle>,
    restarts: u64,
    /// Thread deaths and replacements since the node's last result.
    deaths: u32,
    last_restart: Option<Instant>,
    /// Why the last attempt to start a thread failed, while none runs.
    start_error: Option<String>,
}

/// Something [`Checkers::supervise`] did or found, for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The node's checker had ended (`why`: its panic message) and was started again.
    Restarted { node: usize, why: String },
    /// The node's checker stopped reporting; it was retired and a fresh one started.
    Replaced { node: usize },
    /// The checks loop had ended (`why`) or stopped turning (stalled) and was replaced, with a
    /// fresh machine for each of its `nodes`.
    LoopReplaced { nodes: usize, why: String },
}

/// What one [`Checkers::supervise`] call did, and what it could not repair.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Supervision {
    pub events: Vec<Event>,
    /// Why some checker cannot be kept running, while that lasts (`None` when all run).
    pub error: Option<String>,
}

/// The running checker threads. Dropping without [`Checkers::stop`] also stops them (without
/// waiting).
pub struct Checkers {
    flag: Arc<StopFlag>,
    slots: Vec<Slot>,
    /// Origin of every node's grid of slots (see [`Checkers::origin`]).
    epoch: Instant,
    interval: Duration,
    timeout: Duration,
    tx: Outbox,
    fault: Option<Arc<Fault>>,
    /// The checks loop, when some node is not `exec` (`None` after a failed start).
    lp: Option<LoopRun>,
    /// Stalled loops left behind.
    stuck_loops: Vec<JoinHandle<()>>,
    /// Loop replacements since a loop node's last result.
    loop_deaths: u32,
    /// Why the last attempt to start the loop failed, while none runs.
    loop_error: Option<String>,
}

impl Checkers {
    /// Number of checked nodes.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Restarts per node so far (in target order).
    pub fn restarts(&self) -> Vec<u64> {
        self.slots.iter().map(|s| s.restarts).collect()
    }

    fn signal(&self) {
        *self.flag.stopped.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.flag.wake.notify_all();
        for s in &self.slots {
            s.retired.store(true, Ordering::SeqCst);
        }
        if let Some(lp) = &self.lp {
            lp.shared.stop();
        }
    }

    /// Stops every thread and waits for them: at most `check_timeout` plus a second, so a
    /// stuck thread cannot hold up a reload or a stop (it is left behind, unable to report).
    pub fn stop(mut self) {
        self.signal();
        let deadline = Instant::now() + self.timeout.saturating_add(Duration::from_secs(1));
        let mut handles: Vec<JoinHandle<()>> = self
            .slots
            .iter_mut()
            .flat_map(|s| s.handle.take().into_iter().chain(s.abandoned.take()))
            .filter_map(|h| match h {
                Handle::Thread(h) => Some(h),
                Handle::Machine(_) => None,
            })
            .chain(self.lp.take().map(|lp| lp.handle))
            .collect();
        while !handles.is_empty() && Instant::now() < deadline {
            let (done, running): (Vec<_>, Vec<_>) =
                handles.into_iter().partition(JoinHandle::is_finished);
            for h in done {
                let _ = h.join();
            }
            handles = running;
            if !handles.is_empty() {
                thread::sleep(Duration::from_millis(5));
            }
        }
    }

    /// The controller saw a result for `node`: its checker works.
    pub fn saw(&mut self, node: usize) {
        if let Some(s) = self.slots.get_mut(node) {
            s.deaths = 0;
            if !is_exec(&s.target) {
                self.loop_deaths = 0;
            }
        }
    }

    /// Keeps every checker running: joins threads that exited and starts them again, retires
    /// and replaces the thread of a `stale` node (no result for [`stale_after`]), and reaps
    /// replaced threads that finally ended. A dead thread is restarted at most once per
    /// interval (one that dies at once is not respawned in a tight loop), and a replacement
    /// gets the whole [`stale_after`] before it is judged stuck in turn.
    pub fn supervise(&mut self, stale: &[usize], now: Instant) -> Supervision {
        let bound = stale_after(self.interval, self.timeout);
        let mut out = Supervision::default();
        let mut problems = Vec::new();
        self.supervise_loop(now, bound, &mut out, &mut problems);
        for i in 0..self.slots.len() {
            let slot = &mut self.slots[i];
            if slot.abandoned.as_ref().is_some_and(Handle::is_finished) {
                if let Some(h) = slot.abandoned.take() {
                    let _ = h.join();
                }
            }
            let since_restart = slot.last_restart.map(|t| now.saturating_duration_since(t));
            let (node, addr) = (slot.target.node, slot.target.addr);
            let event = match &slot.handle {
                _ if since_restart.is_some_and(|d| d < self.interval) => None,
                None => Some(Event::Restarted {
                    node,
                    why: "it could not be started before".into(),
                }),
                Some(h) if h.is_finished() => {
                    let why = slot
                        .handle
                        .take()
                        .map(Handle::join)
                        .unwrap_or_else(|| "the thread ended".to_string());
                    slot.deaths = slot.deaths.saturating_add(1);
                    Some(Event::Restarted { node, why })
                }
                Some(_) if stale.contains(&node) && since_restart.is_none_or(|d| d >= bound) => {
                    if !is_exec(&slot.target) && self.lp.is_none() {
                        // The loop is down: its restart brings the node back.
                        None
                    } else if slot.abandoned.is_some() {
                        problems.push(format!(
                            "the checker of {addr} is stuck, and so was the one that replaced it"
                        ));
                        None
                    } else {
                        slot.retired.store(true, Ordering::SeqCst);
                        slot.abandoned = slot.handle.take();
                        slot.deaths = slot.deaths.saturating_add(1);
                        Some(Event::Replaced { node })
                    }
                }
                Some(_) => None,
            };
            if let Some(event) = event {
                self.slots[i].last_restart = Some(now);
                // On the node's own grid, not at `now`: nodes restarted by the same tick
                // (every stale node after a stall) must not start checking in step.
                let first = slot_at_or_after(self.origin(i), self.interval, now);
                match self.start(i, first, None) {
                    Ok(()) => {
                        let slot = &mut self.slots[i];
                        slot.restarts = slot.restarts.saturating_add(1);
                        slot.start_error = None;
                        out.events.push(event);
                    }
                    Err(e) => self.slots[i].start_error = Some(e.to_string()),
                }
            }
            if let Some(e) = &self.slots[i].start_error {
                problems.push(format!("cannot start the checker of {addr}: {e}"));
            }
            let deaths = self.slots[i].deaths;
            if deaths >= MAX_DEATHS_WITHOUT_RESULT {
                problems.push(format!(
                    "the checker of {addr} stopped {deaths} times without a result"
                ));
            }
        }
        if !problems.is_empty() {
            let n = problems.len();
            let mut text = problems.into_iter().take(3).collect::<Vec<_>>().join("; ");
            if n > 3 {
                text.push_str(&format!(" (and {} more)", n - 3));
            }
            out.error = Some(text);
        }
        out
    }

    /// Where node `i`'s grid of slots starts: `epoch + interval × i/n`.
    fn origin(&self, i: usize) -> Instant {
        later(
            self.epoch,
            stagger(self.interval, i, self.slots.len().max(1)),
        )
    }

    /// Starts slot `i`'s checker: its first check at `first`, the next at `then` (a slot of the
    /// node's grid; `None`: `first` is one, and the next is an interval later).
    fn start(&mut self, i: usize, first: Instant, then: Option<Instant>) -> io::Result<()> {
        let slot = &mut self.slots[i];
        if self
            .fault
            .as_ref()
            .is_some_and(|f| f.refuses_spawn(slot.target.addr))
        {
            return Err(io::Error::other("fault knob: thread start refused"));
        }
        let retired = Arc::new(AtomicBool::new(false));
        if !is_exec(&slot.target) {
            let Some(lp) = &self.lp else {
                return Err(io::Error::other("the checks loop is not running"));
            };
            let ctl = Arc::new(NodeCtl {
                retired: Arc::clone(&retired),
                died: Mutex::new(None),
            });
            lp.shared.order(Order {
                target: slot.target.clone(),
                ctl: Arc::clone(&ctl),
                first,
                then,
            });
            slot.handle = Some(Handle::Machine(ctl));
            slot.retired = retired;
            return Ok(());
        }
        let w = Worker {
            target: slot.target.clone(),
            interval: self.interval,
            timeout: self.timeout,
            flag: Arc::clone(&self.flag),
            retired: Arc::clone(&retired),
            tx: self.tx.clone(),
            fault: self.fault.clone(),
        };
        let handle = thread::Builder::new()
            .name(format!("check-{}", slot.target.addr))
            .stack_size(STACK_SIZE)
            .spawn(move || w.run(first, then))?;
        slot.handle = Some(Handle::Thread(handle));
        slot.retired = retired;
        Ok(())
    }
}

impl Checkers {
    /// Starts a checks loop thread (no node yet).
    fn start_loop(&mut self, now: Instant) -> io::Result<()> {
        let shared = Shared::new()?;
        let lp = Loop::new(
            Arc::clone(&shared),
            self.epoch,
            self.interval,
            self.timeout,
            self.tx.clone(),
            self.fault.clone(),
        );
        // Stamped now: the new loop gets the whole bound before it can be judged stalled.
        shared.stamp(self.epoch, now);
        let handle = thread::Builder::new()
            .name("checks".into())
            .stack_size(STACK_SIZE)
            .spawn(move || lp.run())?;
        self.lp = Some(LoopRun {
            shared,
            handle,
            since: now,
        });
        Ok(())
    }

    /// Keeps the checks loop turning: a loop that ended or whose heartbeat is older than
    /// `bound` is replaced (a stalled one told to stop and left behind), and every node it
    /// checked gets a fresh machine on its own grid.
    fn supervise_loop(
        &mut self,
        now: Instant,
        bound: Duration,
        out: &mut Supervision,
        problems: &mut Vec<String>,
    ) {
        self.stuck_loops.retain(|h| !h.is_finished());
        if !self.slots.iter().any(|s| !is_exec(&s.target)) {
            return;
        }
        let why = match &self.lp {
            None => Some("it could not be started before".to_string()),
            Some(lp) if lp.handle.is_finished() => {
                let why = match self.lp.take().map(|lp| lp.handle.join()) {
                    Some(Err(payload)) => panic_message(payload.as_ref()),
                    _ => "the thread ended".to_string(),
                };
                self.loop_deaths = self.loop_deaths.saturating_add(1);
                Some(why)
            }
            Some(lp)
                if lp.shared.beat_age(self.epoch, now) > bound
                    && now.saturating_duration_since(lp.since) >= bound =>
            {
                if let Some(lp) = self.lp.take() {
                    lp.shared.stop();
                    self.stuck_loops.push(lp.handle);
                }
                self.loop_deaths = self.loop_deaths.saturating_add(1);
                Some(format!(
                    "it stopped turning for more than {} ms",
                    bound.as_millis()
                ))
            }
            Some(_) => None,
        };
        if let Some(why) = why {
            match self.start_loop(now) {
                Ok(()) => {
                    self.loop_error = None;
                    let mut nodes = 0;
                    for i in 0..self.slots.len() {
                        if is_exec(&self.slots[i].target) {
                            continue;
                        }
                        self.slots[i].retired.store(true, Ordering::SeqCst);
                        self.slots[i].abandoned = None;
                        let first = slot_at_or_after(self.origin(i), self.interval, now);
                        if self.start(i, first, None).is_ok() {
                            nodes += 1;
                        }
                        // The fresh machine gets the whole bound before it is judged stuck.
                        self.slots[i].last_restart = Some(now);
                    }
                    out.events.push(Event::LoopReplaced { nodes, why });
                }
                Err(e) => self.loop_error = Some(e.to_string()),
            }
        }
        if let Some(e) = &self.loop_error {
            problems.push(format!("cannot start the checks loop: {e}"));
        }
        if self.loop_deaths >= MAX_DEATHS_WITHOUT_RESULT {
            problems.push(format!(
                "the checks loop stopped {} times without a result",
                self.loop_deaths
            ));
        }
    }
}

/// Whether the node's check runs in a thread of its own (`exec`: waiting for a child blocks).
fn is_exec(t: &Target) -> bool {
    matches!(t.plan.probe, Probe::Exec { .. })
}

impl Drop for Checkers {
    fn drop(&mut self) {
        self.signal();
    }
}

/// Starts one checker per node of `spec`.
pub fn spawn(spec: &Spec, tx: Outbox) -> io::Result<Checkers> {
    let targets: Vec<Target> = spec
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| Target::of(i, n, &spec.name))
        .collect();
    spawn_with(
        &targets,
        spec.check_interval,
        spec.check_timeout,
        tx,
        Fault::from_env(),
    )
}

/// Starts one checker per target (the demo and benchmarks use this directly).
pub fn spawn_targets(
    targets: &[Target],
    interval: Duration,
    timeout: Duration,
    tx: impl Into<Outbox>,
) -> io::Result<Checkers> {
    spawn_with(targets, interval, timeout, tx.into(), None)
}

/// [`spawn_targets`] with a fault to inject (tests).
pub fn spawn_with(
    targets: &[Target],
    interval: Duration,
    timeout: Duration,
    tx: Outbox,
    fault: Option<Arc<Fault>>,
) -> io::Result<Checkers> {
    let timeout = timeout.min(interval);
    // One kept-alive socket per node, plus the process's own: 4,096 nodes (the spec's limit)
    // would not fit under the common soft limit of 1,024 descriptors.
    raise_fd_limit((targets.len() as u64).saturating_add(64));
    let mut checkers = Checkers {
        flag: Arc::new(StopFlag {
            stopped: Mutex::new(false),
            wake: Condvar::new(),
        }),
        slots: targets
            .iter()
            .map(|t| Slot {
                target: t.clone(),
                handle: None,
                retired: Arc::new(AtomicBool::new(false)),
                abandoned: None,
                restarts: 0,
                deaths: 0,
                last_restart: None,
                start_error: None,
            })
            .collect(),
        epoch: Instant::now(),
        interval,
        timeout,
        tx,
        fault,
        lp: None,
        stuck_loops: Vec::new(),
        loop_deaths: 0,
        loop_error: None,
    };
    if targets.iter().any(|t| !is_exec(t)) {
        checkers.start_loop(checkers.epoch)?;
    }
    let n = targets.len();
    for i in 0..n {
        // The first round within the interval or 2 s, whichever is shorter; then the grid.
        let (first, then) = first_checks(checkers.epoch, interval, timeout, i, n);
        if let Err(e) = checkers.start(i, first, Some(then)) {
            checkers.stop();
            return Err(e);
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

/// Everything one checker thread owns.
struct Worker {
    target: Target,
    interval: Duration,
    timeout: Duration,
    flag: Arc<StopFlag>,
    retired: Arc<AtomicBool>,
    tx: Outbox,
    fault: Option<Arc<Fault>>,
}

impl Worker {
    fn done(&self) -> bool {
        self.retired.load(Ordering::SeqCst) || self.flag.is_set()
    }

    fn fault(&self, modes: &[FaultMode]) -> bool {
        self.fault
            .as_ref()
            .is_some_and(|f| f.fire(self.target.addr, modes))
    }

    fn run(self, first: Instant, mut then: Option<Instant>) {
        // A plan that cannot run (an unreadable CA file) fails every check of its node, with the
        // reason in status, and is tried again at each check: the file may be fixed.
        let mut prober = Prober::new(self.target.plan.clone());
        let mut due = first;
        // `then`: the slot after the first check, when it is not one interval later (the first
        // round).
        loop {
            if self.flag.sleep_until(due) || self.done() {
                return;
            }
            let budget = match admit(due, self.interval, self.timeout, Instant::now()) {
                Ok(budget) => budget,
                Err(slot) => {
                    due = slot;
                    then = None;
                    continue;
                }
            };
            if let Some(f) = &self.fault {
                f.count(self.target.addr);
            }
            if self.fault(&[FaultMode::Die, FaultMode::NoSpawn]) {
                panic!("fault knob: checker thread of {} dies", self.target.addr);
            }
            if self.fault(&[FaultMode::Hang]) {
                // Stuck for good, as only a bug could make it; the process's end ends it.
                loop {
                    thread::sleep(Duration::from_secs(3600));
                }
            }
            let began = Instant::now();
            // A panic in a check (a bug on some answer nobody foresaw) is that node's error,
            // not the end of its checker: the next check starts afresh on a new connection.
            let checked = panic::catch_unwind(AssertUnwindSafe(|| {
                if self.fault(&[FaultMode::Panic]) {
                    panic!("fault knob: check of {} panics", self.target.addr);
                }
                match &mut prober {
                    Ok(p) => p.check(budget),
                    Err(_) => {
                        prober = Prober::new(self.target.plan.clone());
                        match &mut prober {
                            Ok(p) => p.check(budget),
                            Err(e) => Err(CheckError::Tls(e.to_string())),
                        }
                    }
                }
            }));
            let verdict = checked.unwrap_or_else(|payload| {
                if let Ok(p) = &mut prober {
                    p.reset();
                }
                Err(CheckError::Internal(panic_message(payload.as_ref())))
            });
            if verdict.is_err() {
                if let Ok(p) = &mut prober {
                    p.reset();
                }
            }
            let (drain, output) = match &verdict {
                Ok(Verdict { drain, output, .. }) => (*drain, output.clone()),
                Err(_) => (false, None),
            };
            let result = verdict.map(|v| v.health);
            let at = Instant::now();
            if self.done() {
                return;
            }
            let obs = Observation {
                node: self.target.node,
                at,
                latency: at.saturating_duration_since(began),
                result,
                drain,
                output,
            };
            if self.tx.send(obs).is_err() {
                return; // the controller is gone
            }
            // The next slot of the node's grid: the check ended by it (its budget), or a
            // moment after it (then `admit` runs it at once, or skips it if the thread was
            // held up longer than the grace).
            due = then.take().unwrap_or_else(|| later(due, self.interval));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::serve::LitmusServer;
    use std::net::SocketAddr;
    use std::sync::mpsc;

    #[test]
    fn observes_every_interval_and_stops_promptly() {
        let a = LitmusServer::start("127.0.0.1:0".parse().unwrap(), "app", 60.0).unwrap();
        let b = LitmusServer::start("127.0.0.1:0".parse().unwrap(), "app", 30.0).unwrap();
        let targets = [
            Target::litmus(0, a.addr(), "/app/status"),
            Target::litmus(1, b.addr(), "/app/status"),
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

    #[test]
    fn at_a_long_interval_every_node_is_checked_within_two_seconds_of_the_start() {
        // A 20 s interval: without the short first round the last of eight nodes would be
        // checked 17.5 s after the start (and the table programmed then).
        let a = LitmusServer::start("127.0.0.1:0".parse().unwrap(), "app", 60.0).unwrap();
        let targets: Vec<Target> = (0..8).map(|i| target(i, &a)).collect();
        let (tx, rx) = mpsc::channel();
        let interval = Duration::from_secs(20);
        let t0 = Instant::now();
        let c = spawn_targets(&targets, interval, interval, tx).unwrap();
        let mut seen = [0u32; 8];
        let deadline = t0 + Duration::from_secs(10);
        while seen.contains(&0) && Instant::now() < deadline {
            if let Ok(o) = rx.recv_timeout(Duration::from_millis(100)) {
                seen[o.node] += 1;
            }
        }
        let took = t0.elapsed();
        assert!(!seen.contains(&0), "{seen:?} after {took:?}");
        // Node 7's first check is due at 2 s × 7/8 = 1.75 s; 5 s leaves room for a busy host,
        // and is far below the 17.5 s of the interval's spread.
        assert!(took < Duration::from_secs(5), "{took:?}");
        // Once each: the second checks wait for the nodes' grid (10 s or more later).
        thread::sleep(Duration::from_millis(500));
        while let Ok(o) = rx.try_recv() {
            seen[o.node] += 1;
        }
        assert_eq!(seen, [1; 8]);
        c.stop();
    }

    fn target(node: usize, srv: &LitmusServer) -> Target {
        Target::litmus(node, srv.addr(), "/app/status")
    }

    /// Runs two checkers, node 0 with `fault`, calling `supervise` every 20 ms as the
    /// controller's tick would (stale: no result for `stale_ms`), until `done` says so or 10 s
    /// pass. Returns every observation and supervision, and the checkers.
    #[allow(clippy::type_complexity)]
    fn drive(
        mode: FaultMode,
        times: u32,
        stale_ms: u64,
        done: impl Fn(&[Observation], &[Supervision]) -> bool,
    ) -> (Vec<Observation>, Vec<Supervision>, Checkers) {
        let a = LitmusServer::start("127.0.0.1:0".parse().unwrap(), "app", 60.0).unwrap();
        let b = LitmusServer::start("127.0.0.1:0".parse().unwrap(), "app", 30.0).unwrap();
        let fault = Arc::new(Fault::new(mode, a.addr(), times));
        let (tx, rx) = mpsc::channel();
        let interval = Duration::from_millis(100);
        // A generous check timeout: these tests are about threads dying and panicking, and a
        // loaded machine must not turn a slow loopback answer into a failed check.
        let timeout = Duration::from_secs(2);
        let mut c = spawn_with(
            &[target(0, &a), target(1, &b)],
            interval,
            timeout,
            tx.into(),
            Some(fault),
        )
        .unwrap();
        let (mut seen, mut sups) = (Vec::new(), Vec::new());
        let mut last = [Instant::now(); 2];
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end && !done(&seen, &sups) {
            while let Ok(o) = rx.try_recv() {
                last[o.node] = o.at;
                c.saw(o.node);
                seen.push(o);
            }
            let now = Instant::now();
            let stale: Vec<usize> = (0..2)
                .filter(|&i| now - last[i] > Duration::from_millis(stale_ms))
                .collect();
            sups.push(c.supervise(&stale, now));
            thread::sleep(Duration::from_millis(20));
        }
        (seen, sups, c)
    }

    fn results(seen: &[Observation], node: usize) -> Vec<Result<f64, CheckError>> {
        seen.iter()
            .filter(|o| o.node == node)
            .map(|o| o.result.clone().map(|h| h.value))
            .collect()
    }

    #[test]
    fn a_panicking_check_is_that_nodes_error_and_its_checker_goes_on() {
        let (seen, sups, c) = drive(FaultMode::Panic, 1, 60_000, |seen, _| {
            results(seen, 0).iter().filter(|r| r.is_ok()).count() >= 2
        });
        let a = results(&seen, 0);
        assert!(
            matches!(&a[0], Err(CheckError::Internal(m)) if m.contains("fault knob: check of")),
            "{a:?}"
        );
        assert!(a[1..].iter().all(|r| *r == Ok(60.0)), "{a:?}");
        assert!(results(&seen, 1).iter().all(|r| *r == Ok(30.0)));
        assert!(
            sups.iter().all(|s| *s == Supervision::default()),
            "{sups:?}"
        );
        assert_eq!(c.restarts(), [0, 0], "the thread itself never stopped");
        c.stop();
    }

    #[test]
    fn a_thread_that_dies_is_started_again() {
        let (seen, sups, c) = drive(FaultMode::Die, 1, 60_000, |seen, _| {
            results(seen, 0).iter().filter(|r| r.is_ok()).count() >= 2
        });
        assert!(results(&seen, 0).iter().all(|r| *r == Ok(60.0)));
        let events: Vec<&Event> = sups.iter().flat_map(|s| &s.events).collect();
        assert!(
            matches!(events[..], [Event::Restarted { node: 0, why }] if why.contains("fault knob: checker thread")),
            "{events:?}"
        );
        assert!(sups.iter().all(|s| s.error.is_none()), "{sups:?}");
        assert_eq!(c.restarts(), [1, 0]);
        c.stop();
    }

    #[test]
    fn a_stuck_thread_is_replaced_when_its_node_goes_stale() {
        let (seen, sups, c) = drive(FaultMode::Hang, 1, 1000, |seen, _| {
            results(seen, 0).iter().filter(|r| r.is_ok()).count() >= 2
        });
        assert!(results(&seen, 0).iter().all(|r| *r == Ok(60.0)));
        let events: Vec<&Event> = sups.iter().flat_map(|s| &s.events).collect();
        assert_eq!(events, [&Event::Replaced { node: 0 }]);
        assert!(sups.iter().all(|s| s.error.is_none()), "{sups:?}");
        assert_eq!(c.restarts(), [1, 0]);
        // The stuck thread is left behind; stop does not wait for it beyond its bound.
        let t = Instant::now();
        c.stop();
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    }

    #[test]
    fn a_replacement_stuck_again_is_a_persistent_error() {
        let (seen, sups, c) = drive(FaultMode::Hang, 2, 1000, |_, sups| {
            sups.iter()
                .rev()
                .take(3)
                .filter(|s| s.error.is_some())
                .count()
                == 3
        });
        assert!(results(&seen, 0).is_empty());
        let e = sups.last().unwrap().error.clone().unwrap();
        assert!(
            e.contains("stuck, and so was the one that replaced it"),
            "{e}"
        );
        assert_eq!(c.restarts(), [1, 0], "replaced once, not again and again");
        c.stop();
    }

    #[test]
    fn a_thread_that_cannot_be_started_is_a_persistent_error() {
        let (seen, sups, c) = drive(FaultMode::NoSpawn, 1, 60_000, |_, sups| {
            sups.iter().filter(|s| s.error.is_some()).count() >= 10
        });
        assert!(results(&seen, 0).is_empty());
        let first = sups.iter().position(|s| s.error.is_some()).unwrap();
        assert!(
            sups[first..].iter().all(|s| s
                .error
                .as_deref()
                .is_some_and(|e| e.contains("cannot start the checker of")
                    && e.contains("fault knob: thread start refused"))),
            "the error lasts while no thread runs: {sups:?}"
        );
        assert!(results(&seen, 1).len() >= 2, "the other node goes on");
        c.stop();
    }

    #[test]
    fn a_thread_dying_again_and_again_is_a_persistent_error() {
        let (seen, sups, c) = drive(FaultMode::Die, u32::MAX, 60_000, |_, sups| {
            sups.iter().any(|s| s.error.is_some())
        });
        assert!(results(&seen, 0).is_empty());
        let e = sups.last().unwrap().error.clone().unwrap();
        assert!(e.contains("stopped 3 times without a result"), "{e}");
        // Restarted at most once per interval, not in a tight loop.
        let restarts = c.restarts()[0];
        assert_eq!(restarts, 3, "{sups:?}");
        c.stop();
    }

    #[test]
    fn a_stalled_loop_is_replaced_and_its_nodes_checked_again() {
        let ok = |r: &&Result<f64, CheckError>| r.is_ok();
        let (seen, sups, c) = drive(FaultMode::Stall, 1, 60_000, |seen, sups| {
            sups.iter().any(|s| !s.events.is_empty())
                && results(seen, 0).iter().filter(ok).count() >= 2
                && results(seen, 1).iter().filter(ok).count() >= 2
        });
        let events: Vec<&Event> = sups.iter().flat_map(|s| &s.events).collect();
        assert!(
            matches!(events[..], [Event::LoopReplaced { nodes: 2, why }] if why.contains("stopped turning")),
            "{events:?}"
        );
        assert!(results(&seen, 0).iter().all(|r| *r == Ok(60.0)));
        assert!(results(&seen, 1).iter().filter(ok).count() >= 2);
        assert!(sups.iter().all(|s| s.error.is_none()), "{sups:?}");
        // The stalled loop is left behind; stop does not wait for it.
        let t = Instant::now();
        c.stop();
        assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    }

    #[test]
    fn the_fault_knob_parses_strictly() {
        let f = Fault::parse("hang@127.0.2.1:4000#4").unwrap();
        assert_eq!((f.mode, f.from), (FaultMode::Hang, 4));
        assert_eq!(f.addr, "127.0.2.1:4000".parse().unwrap());
        assert_eq!(Fault::parse("die@[::1]:80").unwrap().from, 1);
        for bad in [
            "",
            "die",
            "die@x",
            "oops@127.0.0.1:1",
            "die@127.0.0.1:1#0",
            "die@127.0.0.1:1#x",
        ] {
            assert!(Fault::parse(bad).is_none(), "{bad:?}");
        }
        // Fires from check N on, as many times as it may.
        let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let f = Fault::from_check(FaultMode::Panic, a, 2, 1);
        f.count(a);
        assert!(!f.fire(a, &[FaultMode::Panic]), "check 1");
        f.count(a);
        assert!(!f.fire(a, &[FaultMode::Die]), "another mode");
        assert!(f.fire(a, &[FaultMode::Panic]), "check 2");
        f.count(a);
        assert!(!f.fire(a, &[FaultMode::Panic]), "once only");
    }

    #[test]
    fn scheduling_arithmetic_never_overflows() {
        let now = Instant::now();
        assert_eq!(
            stagger(Duration::from_secs(1), 1, 4),
            Duration::from_millis(250)
        );
        assert_eq!(stagger(Duration::from_secs(1), 0, 0), Duration::ZERO);
        let huge = stagger(Duration::MAX, 999, 1000);
        assert!(huge < Duration::MAX && huge > Duration::MAX / 2);
        assert!(later(now, Duration::MAX) > now);
        let ms = Duration::from_millis;
        assert!(slot_at_or_after(now, Duration::MAX, now + ms(1)) > now);
        assert_eq!(slot_at_or_after(now, ms(100), now), now);
        assert_eq!(slot_at_or_after(now + ms(30), ms(100), now), now + ms(30));
        assert_eq!(slot_at_or_after(now, ms(100), now + ms(1)), now + ms(100));
        assert_eq!(slot_at_or_after(now, ms(100), now + ms(250)), now + ms(300));
        assert_eq!(slot_at_or_after(now, ms(100), now + ms(400)), now + ms(400));
        assert!(admit(now, Duration::MAX, Duration::MAX, now).is_ok());
        assert!(admit(now, Duration::MAX, Duration::MAX, now + ms(1)).is_ok());
    }

    #[test]
    fn a_check_keeps_its_nodes_phase() {
        let now = Instant::now();
        let ms = Duration::from_millis;
        // On time: the whole timeout.
        assert_eq!(admit(now, ms(1000), ms(500), now), Ok(ms(500)));
        // A little late (within the grace of a tenth): runs at once, cut to end at the next slot.
        assert_eq!(admit(now, ms(1000), ms(1000), now + ms(40)), Ok(ms(960)));
        assert_eq!(admit(now, ms(1000), ms(500), now + ms(100)), Ok(ms(500)));
        // Later than that (the thread was held up): the node's next slot, not "at once".
        assert_eq!(
            admit(now, ms(1000), ms(1000), now + ms(101)),
            Err(now + ms(1000))
        );
        assert_eq!(
            admit(now, ms(1000), ms(1000), now + ms(2500)),
            Err(now + ms(3000))
        );
    }

    #[test]
    fn restarts_resume_on_the_nodes_grid() {
        let (tx, _rx) = mpsc::channel();
        let a = LitmusServer::start("127.0.0.1:0".parse().unwrap(), "app", 60.0).unwrap();
        let targets: Vec<Target> = (0..4).map(|i| target(i, &a)).collect();
        let interval = Duration::from_secs(1);
        let c = spawn_targets(&targets, interval, interval, tx).unwrap();
        let ms = Duration::from_millis;
        assert_eq!(c.origin(0), c.epoch);
        assert_eq!(c.origin(3), c.epoch + ms(750));
        // A restart at 5.1 s resumes node 2 at its phase (5.5 s), node 0 at 6 s.
        let t = c.epoch + ms(5100);
        assert_eq!(
            slot_at_or_after(c.origin(2), interval, t),
            c.epoch + ms(5500)
        );
        assert_eq!(
            slot_at_or_after(c.origin(0), interval, t),
            c.epoch + ms(6000)
        );
        c.stop();
        assert_eq!(stale_after(Duration::MAX, Duration::MAX), Duration::MAX);
        assert_eq!(stale_after(ms(100), ms(100)), STALE_MIN);
        assert_eq!(
            stale_after(Duration::from_secs(2), Duration::from_secs(1)),
            Duration::from_secs(5)
        );
        assert_eq!(
            stale_after(Duration::from_secs(2), Duration::from_secs(9)),
            Duration::from_secs(6),
            "the timeout never exceeds the interval"
        );
    }
}
