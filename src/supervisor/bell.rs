//! The controller's doorbell (issue 18): checkers post every result on the channel, but wake the
//! controller only for a result that may change a weight (through its [`Wake`], an eventfd).
//!
//! Before, the controller slept in `recv_timeout` and every result woke it: with 100 nodes
//! checked every second, 100 wake-ups and context switches a second to learn, nearly always,
//! that nothing changed. Now the controller sleeps on the [`Bell`]; a checker rings it only when
//! its node is not settled on the class of the result it got ([`NodeState::settled_on`], a
//! fixed point proven by the policy's tests: a settled node observing that class keeps its
//! weight). Every other result waits in the channel for the next tick (at most a second, or one
//! check interval), which drains it before anything is decided, so status and stale-checker
//! detection see every result, only later. A ring missed in a race (the controller changing a
//! node's settlement while its checker reads it) costs that one tick of latency, never a wrong
//! weight.
//!
//! [`NodeState::settled_on`]: super::policy::NodeState::settled_on

use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::policy::{Observation, ResultClass};
use super::wake::Wake;

/// What a node's checker may post without ringing: results of this class, with the agent's
/// `drain` flag as given (a change of either may change the weight).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settled {
    pub class: ResultClass,
    pub drain: bool,
}

impl Settled {
    fn of(obs: &Observation) -> Settled {
        Settled {
            class: ResultClass::of(&obs.result),
            drain: obs.drain,
        }
    }
}

/// One per checker generation (a reload makes a new one with the new node list), ringing the
/// controller's one [`Wake`] (which stop and reload requests ring too).
#[derive(Debug)]
pub struct Bell {
    wake: Arc<Wake>,
    /// Per node (the spec's order); `None`: ring for every result.
    settled: Vec<Mutex<Option<Settled>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Bell {
    /// A bell for `nodes` nodes, none settled: every result rings until the controller says
    /// otherwise.
    pub fn new(nodes: usize) -> Bell {
        Bell::with_wake(Arc::new(Wake::new()), nodes)
    }

    /// A bell for `nodes` nodes that rings `wake`.
    pub fn with_wake(wake: Arc<Wake>, nodes: usize) -> Bell {
        Bell {
            wake,
            settled: (0..nodes).map(|_| Mutex::new(None)).collect(),
        }
    }

    /// The controller, having taken `node`'s latest result into account: what it may post
    /// without ringing from now on.
    pub fn settle(&self, node: usize, settled: Option<Settled>) {
        if let Some(m) = self.settled.get(node) {
            *lock(m) = settled;
        }
    }

    /// Whether `obs` may change its node's weight (unknown nodes: yes).
    pub fn matters(&self, obs: &Observation) -> bool {
        self.settled
            .get(obs.node)
            .is_none_or(|m| *lock(m) != Some(Settled::of(obs)))
    }

    pub fn ring(&self) {
        self.wake.ring();
    }

    /// Sleeps until rung (by a checker, or a stop or reload request) or `timeout`; returns
    /// whether it was rung (and un-rings it). See [`Wake::wait`].
    pub fn wait(&self, timeout: Duration) -> bool {
        self.wake.wait(timeout)
    }
}

/// A checker's way to the controller: the channel, and the bell when there is one (the demo,
/// benchmarks and tests that read the channel directly pass a bare `Sender`).
#[derive(Clone, Debug)]
pub struct Outbox {
    tx: Sender<Observation>,
    bell: Option<Arc<Bell>>,
}

impl Outbox {
    pub fn new(tx: Sender<Observation>, bell: Arc<Bell>) -> Outbox {
        Outbox {
            tx,
            bell: Some(bell),
        }
    }

    /// Posts `obs`, ringing the bell when it may change a weight. Fails when the controller is
    /// gone (the result is dropped: nobody is left to read it).
    pub fn send(&self, obs: Observation) -> Result<(), Gone> {
        let ring = self.bell.as_ref().filter(|b| b.matters(&obs));
        self.tx.send(obs).map_err(|_| Gone)?;
        if let Some(b) = ring {
            b.ring();
        }
        Ok(())
    }
}

/// The controller has hung up (the receiving end of the channel is gone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gone;

impl From<Sender<Observation>> for Outbox {
    fn from(tx: Sender<Observation>) -> Outbox {
        Outbox { tx, bell: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::{CheckError, Health, Phase};
    use std::sync::mpsc;
    use std::time::Instant;

    fn obs(node: usize, result: Result<Health, CheckError>) -> Observation {
        Observation {
            node,
            at: Instant::now(),
            latency: Duration::ZERO,
            result,
            drain: false,
            output: None,
        }
    }

    #[test]
    fn rings_only_for_results_a_settled_node_did_not_settle_on() {
        let bell = Arc::new(Bell::new(2));
        let (tx, rx) = mpsc::channel();
        let out = Outbox::new(tx, Arc::clone(&bell));
        let good = || Ok(Health::new(60.0));
        let fail = || Err(CheckError::Closed { phase: Phase::Head });

        out.send(obs(0, good())).unwrap();
        assert!(bell.wait(Duration::ZERO), "unsettled: rings");
        bell.settle(
            0,
            Some(Settled {
                class: ResultClass::Good(60f64.to_bits()),
                drain: false,
            }),
        );
        out.send(obs(0, good())).unwrap();
        assert!(
            !bell.wait(Duration::ZERO),
            "the settled result: posted, no ring"
        );
        out.send(obs(0, Ok(Health::new(61.0)))).unwrap();
        assert!(bell.wait(Duration::ZERO), "another health: rings");
        out.send(obs(0, fail())).unwrap();
        assert!(bell.wait(Duration::ZERO), "a failure: rings");
        let mut drained = obs(0, good());
        drained.drain = true;
        out.send(drained).unwrap();
        assert!(bell.wait(Duration::ZERO), "the agent's drain: rings");
        out.send(obs(1, fail())).unwrap();
        assert!(bell.wait(Duration::ZERO), "another node, unsettled: rings");
        out.send(obs(7, good())).unwrap();
        assert!(
            bell.wait(Duration::ZERO),
            "a node the bell does not know: rings"
        );
        assert_eq!(
            rx.try_iter().count(),
            7,
            "every result is posted, rung or not"
        );
    }

    #[test]
    fn a_bare_sender_never_rings_and_wait_times_out() {
        let (tx, rx) = mpsc::channel();
        let out = Outbox::from(tx);
        out.send(obs(0, Ok(Health::new(1.0)))).unwrap();
        assert_eq!(rx.try_iter().count(), 1);
        let bell = Bell::new(1);
        let t = Instant::now();
        assert!(!bell.wait(Duration::from_millis(30)));
        assert!(t.elapsed() >= Duration::from_millis(30));
        drop(rx);
        assert!(out.send(obs(0, Ok(Health::new(1.0)))).is_err());
    }

    #[test]
    fn a_ring_wakes_a_waiting_controller() {
        let bell = Arc::new(Bell::new(1));
        let b = Arc::clone(&bell);
        let t = Instant::now();
        let waiter = std::thread::spawn(move || b.wait(Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(20));
        bell.ring();
        assert!(waiter.join().unwrap());
        assert!(t.elapsed() < Duration::from_secs(10));
    }
}
