//! The test-only fault knob of the checkers (`BIG_BROTHER_FAULT_CHECKER`): makes one node's
//! checker fail in a chosen way, so the process tier can test the supervision of checkers.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// Test-only fault knob (see [`Fault::from_env`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultMode {
    /// The node's next check panics inside the check.
    Panic,
    /// The node's checker thread panics outside the check and exits.
    Die,
    /// The node's checker thread blocks for good, ignoring every flag.
    Hang,
    /// As `Die`, and every later attempt to start a thread for the node fails.
    NoSpawn,
    /// The checks loop itself blocks for good when the node's check is due (a loop node only):
    /// what a bug in the loop would do to every node of the cluster.
    Stall,
}

/// A fault to inject into one node's checker, for tests of the supervision.
#[derive(Debug)]
pub struct Fault {
    pub mode: FaultMode,
    /// The node's health endpoint.
    pub addr: SocketAddr,
    /// The node's check (counted from 1 across its threads) from which the fault fires.
    pub(super) from: u64,
    /// Checks of the node so far.
    checks: AtomicU64,
    /// How many more times it fires.
    left: AtomicU32,
    fired: AtomicBool,
}

/// The test-only fault knob's environment variable.
pub const FAULT_ENV: &str = "BIG_BROTHER_FAULT_CHECKER";

impl Fault {
    /// A fault that fires `times` times, from the node's first check on.
    pub fn new(mode: FaultMode, addr: SocketAddr, times: u32) -> Fault {
        Fault::from_check(mode, addr, 1, times)
    }

    /// A fault that fires `times` times, from the node's check number `from` on.
    pub fn from_check(mode: FaultMode, addr: SocketAddr, from: u64, times: u32) -> Fault {
        Fault {
            mode,
            addr,
            from,
            checks: AtomicU64::new(0),
            left: AtomicU32::new(times),
            fired: AtomicBool::new(false),
        }
    }

    /// `BIG_BROTHER_FAULT_CHECKER=MODE@ADDR:PORT[#N]`, as `BIG_BROTHER_FAULT_READY_DELAY_MS` is
    /// for readiness: lets the process tier make one node's checker fail deterministically.
    /// ADDR:PORT is the node's health endpoint; N (default 1) the node's check from which the
    /// fault fires. `panic` (that check panics), `die` (the node's checker — its thread, or its
    /// machine in the checks loop — panics outside the check) and `nospawn` (`die`, and no
    /// checker for the node can be started again) fire once; `hang` (the thread blocks for
    /// good; the machine never advances) fires at check N and at every check after, so
    /// replacements hang too; `stall` (the whole checks loop blocks for good) fires once.
    /// Unset in production; anything unparsable is ignored.
    pub fn from_env() -> Option<Arc<Fault>> {
        static FAULT: OnceLock<Option<Arc<Fault>>> = OnceLock::new();
        FAULT
            .get_or_init(|| Fault::parse(&std::env::var(FAULT_ENV).ok()?).map(Arc::new))
            .clone()
    }

    pub(super) fn parse(v: &str) -> Option<Fault> {
        let (mode, rest) = v.split_once('@')?;
        let (addr, from) = match rest.split_once('#') {
            Some((a, n)) => (a, n.parse().ok().filter(|n| *n > 0)?),
            None => (rest, 1),
        };
        let (mode, times) = match mode {
            "panic" => (FaultMode::Panic, 1),
            "die" => (FaultMode::Die, 1),
            "hang" => (FaultMode::Hang, u32::MAX),
            "nospawn" => (FaultMode::NoSpawn, 1),
            "stall" => (FaultMode::Stall, 1),
            _ => return None,
        };
        Some(Fault::from_check(mode, addr.parse().ok()?, from, times))
    }

    /// Counts a check of `addr` about to start.
    pub(super) fn count(&self, addr: SocketAddr) {
        if self.addr == addr {
            self.checks.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Whether the fault applies to `addr` in one of `modes` now (each firing uses one of its
    /// times).
    pub(super) fn fire(&self, addr: SocketAddr, modes: &[FaultMode]) -> bool {
        let hit = self.addr == addr
            && modes.contains(&self.mode)
            && self.checks.load(Ordering::SeqCst) >= self.from
            && self
                .left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
        if hit {
            self.fired.store(true, Ordering::SeqCst);
        }
        hit
    }

    /// Whether starting a thread for `addr` must fail.
    pub(super) fn refuses_spawn(&self, addr: SocketAddr) -> bool {
        self.mode == FaultMode::NoSpawn && self.addr == addr && self.fired.load(Ordering::SeqCst)
    }
}
