//! The panic threshold (issue 15), pure: the share of healthy nodes in, "trust health or not"
//! out, time passed in as `now`.
//!
//! Envoy's anchor: when the share of healthy hosts falls below `healthy_panic_threshold`
//! (default 50 %), Envoy stops trusting health and balances across *all* hosts, healthy or not,
//! on the theory that a health signal that condemns most of the pool is more likely wrong (a bad
//! health-endpoint deploy, a dependency every check shares) than the pool really gone. We differ
//! in three ways, each because a kernel load balancer has no retries to hide a dead host:
//!
//! - **only nodes that still answer TCP** are kept (their last check reached them: a 503 or a
//!   bad body counts, a refused or timed-out connect does not — see
//!   `crate::health::CheckError::reached_node`); Envoy sends to every host;
//! - **at their last good weight**, not equal weights: the pool keeps the shape it had;
//! - **hysteresis**: Envoy re-evaluates on every update and can flap at the boundary; we enter
//!   at once when the share drops below the threshold but leave only when it has been at or
//!   above `threshold + EXIT_MARGIN` (capped at 100 %) for [`HOLD_INTERVALS`] check intervals
//!   in a row (every node re-checked about twice), so a pool hovering at the threshold does not
//!   swing between "everyone" and "only the healthy ones".
//!
//! The share counts undrained nodes only (a drain is a decision, not a health signal); with
//! every node drained there is no share and no panic. Off (threshold 0) by default; Envoy's
//! default is 50 %, ours stays off so that an upgrade changes no behaviour.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::policy::{Mode, NodeState};
use crate::spec::Spec;

/// Percentage points above the threshold the healthy share must reach to leave panic.
pub const EXIT_MARGIN: u8 = 10;
/// Check intervals the share must stay at or above the exit level before panic ends.
pub const HOLD_INTERVALS: u32 = 2;

/// Healthy nodes among the counted (undrained) ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Share {
    pub healthy: usize,
    pub counted: usize,
}

impl Share {
    /// The share at `now`: a node is healthy when its own state serves (up, ramping, or failing
    /// below `fall`), whatever panic, overrides or `active_passive` make of its weight.
    pub fn of(spec: &Spec, states: &[NodeState], drained: &BTreeSet<String>) -> Share {
        let mut share = Share::default();
        for (n, s) in spec.nodes.iter().zip(states) {
            if drained.contains(&n.id()) {
                continue;
            }
            share.counted += 1;
            share.healthy += usize::from(s.mode() == Mode::Up);
        }
        share
    }

    /// Whether fewer than `pct` percent of the counted nodes are healthy (exact, in integers).
    pub fn below(self, pct: u8) -> bool {
        self.counted > 0 && self.healthy.saturating_mul(100) < usize::from(pct) * self.counted
    }

    /// The healthy share in percent (0 when nothing is counted).
    pub fn percent(self) -> f64 {
        if self.counted == 0 {
            return 0.0;
        }
        self.healthy as f64 * 100.0 / self.counted as f64
    }
}

/// A change of mode, for the log and the `on_change` hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    Entered,
    Left,
}

/// The panic state of one cluster.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Panic {
    since: Option<Instant>,
    /// While in panic: since when the share has been at or above the exit level.
    recovering_since: Option<Instant>,
    /// Times panic was entered since the supervisor started.
    entered: u64,
}

impl Panic {
    pub fn active(&self) -> bool {
        self.since.is_some()
    }

    /// When the current panic began.
    pub fn since(&self) -> Option<Instant> {
        self.since
    }

    pub fn entered(&self) -> u64 {
        self.entered
    }

    /// The share needed to leave panic with `threshold`.
    pub fn exit_level(threshold: u8) -> u8 {
        threshold.saturating_add(EXIT_MARGIN).min(100)
    }

    /// Takes one tick's share into account; `interval` is the check interval (the hold is
    /// [`HOLD_INTERVALS`] of them). Threshold 0 (off, or turned off by a reload) and an empty
    /// share end a panic at once: there is nothing left to distrust.
    pub fn step(
        &mut self,
        threshold: u8,
        share: Share,
        interval: Duration,
        now: Instant,
    ) -> Option<Transition> {
        if threshold == 0 || share.counted == 0 {
            return self.leave();
        }
        if !self.active() {
            if share.below(threshold) {
                self.since = Some(now);
                self.recovering_since = None;
                self.entered = self.entered.saturating_add(1);
                return Some(Transition::Entered);
            }
            return None;
        }
        if share.below(Panic::exit_level(threshold)) {
            self.recovering_since = None;
            return None;
        }
        let from = *self.recovering_since.get_or_insert(now);
        if now.saturating_duration_since(from) >= interval.saturating_mul(HOLD_INTERVALS) {
            return self.leave();
        }
        None
    }

    fn leave(&mut self) -> Option<Transition> {
        self.recovering_since = None;
        self.since.take().map(|_| Transition::Left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::{CheckError, Health, Phase};
    use crate::supervisor::policy::{desired_in, Forced, Observation, Policy};
    use std::io;

    const SEC: Duration = Duration::from_secs(1);

    /// A cluster of `n` nodes (192.0.2.1…), health weights 0..=100, no ramp.
    fn spec(n: usize) -> Spec {
        let mut text = String::from(
            "name = \"t\"\nfwmark = 7\nramp_up_time = \"1ms\"\n[[vip]]\naddress = \"192.0.2.99\"\n",
        );
        for i in 1..=n {
            text.push_str(&format!("[[node]]\naddress = \"192.0.2.{i}\"\nport = 9\n"));
        }
        crate::spec::parse(std::path::Path::new("t.toml"), &text).unwrap()
    }

    fn share(healthy: usize, counted: usize) -> Share {
        Share { healthy, counted }
    }

    fn obs(at: Instant, result: Result<Health, CheckError>) -> Observation {
        Observation {
            node: 0,
            at,
            latency: Duration::from_millis(2),
            result,
            drain: false,
            output: None,
        }
    }

    fn http_503() -> CheckError {
        CheckError::Status {
            status: 503,
            reason: "Service Unavailable".into(),
        }
    }

    fn refused() -> CheckError {
        CheckError::Io {
            phase: Phase::Connect,
            kind: io::ErrorKind::ConnectionRefused,
            detail: "refused".into(),
        }
    }

    #[test]
    fn below_is_exact() {
        assert!(share(1, 3).below(50), "33 % < 50 %");
        assert!(!share(2, 4).below(50), "50 % is not below 50 %");
        assert!(share(0, 1).below(1));
        assert!(!share(0, 0).below(100), "nothing counted: no share");
        assert!(!share(3, 3).below(100));
        assert!(share(2, 3).below(100));
        assert!((share(1, 4).percent() - 25.0).abs() < 1e-9);
    }

    #[test]
    fn enters_at_once_and_leaves_with_hysteresis() {
        let t0 = Instant::now();
        let iv = 2 * SEC;
        let mut p = Panic::default();
        assert_eq!(p.step(50, share(2, 4), iv, t0), None, "at the threshold");
        assert_eq!(p.step(50, share(1, 4), iv, t0), Some(Transition::Entered));
        assert!(p.active() && p.since() == Some(t0) && p.entered() == 1);
        // Back at the threshold, below threshold + margin (60 %): still in panic, however long.
        assert_eq!(p.step(50, share(5, 10), iv, t0 + 100 * SEC), None);
        assert!(p.active());
        // At the exit level: the hold starts; leaving takes 2 intervals of it.
        assert_eq!(p.step(50, share(6, 10), iv, t0 + 101 * SEC), None);
        assert_eq!(p.step(50, share(6, 10), iv, t0 + 104 * SEC), None);
        // A dip below the exit level restarts the hold.
        assert_eq!(p.step(50, share(5, 10), iv, t0 + 104 * SEC), None);
        assert_eq!(p.step(50, share(7, 10), iv, t0 + 105 * SEC), None);
        assert_eq!(p.step(50, share(7, 10), iv, t0 + 108 * SEC), None);
        assert_eq!(
            p.step(50, share(7, 10), iv, t0 + 109 * SEC),
            Some(Transition::Left)
        );
        assert!(!p.active());
        assert_eq!(p.step(50, share(7, 10), iv, t0 + 110 * SEC), None);
        assert_eq!(
            p.step(50, share(4, 10), iv, t0 + 111 * SEC),
            Some(Transition::Entered)
        );
        assert_eq!(p.entered(), 2);
    }

    #[test]
    fn off_or_empty_ends_panic_at_once() {
        let t0 = Instant::now();
        let mut p = Panic::default();
        assert_eq!(p.step(0, share(0, 4), SEC, t0), None, "off: never");
        p.step(50, share(0, 4), SEC, t0);
        assert_eq!(p.step(0, share(0, 4), SEC, t0), Some(Transition::Left));
        p.step(50, share(0, 4), SEC, t0);
        assert_eq!(p.step(50, share(0, 0), SEC, t0), Some(Transition::Left));
        // The exit level caps at 100 %: threshold 95 leaves only with every node healthy.
        assert_eq!(Panic::exit_level(95), 100);
        assert_eq!(Panic::exit_level(50), 60);
    }

    #[test]
    fn what_answers_tcp() {
        assert!(http_503().reached_node());
        assert!(!refused().reached_node());
        for (e, reached) in [
            (
                CheckError::Timeout {
                    phase: Phase::Connect,
                    budget_ms: 1,
                },
                false,
            ),
            (
                CheckError::Timeout {
                    phase: Phase::Head,
                    budget_ms: 1,
                },
                true,
            ),
            (CheckError::Closed { phase: Phase::Body }, true),
            (CheckError::Tls("expired".into()), true),
            (CheckError::NoResult { secs: 9 }, false),
            (
                CheckError::Exec {
                    how: "exited 1".into(),
                    output: String::new(),
                },
                false,
            ),
            (CheckError::Internal("x".into()), false),
        ] {
            assert_eq!(e.reached_node(), reached, "{e}");
        }
    }

    /// The pool of a bad health deploy: every node answers 503 at once. In panic the nodes keep
    /// their last good weights; a node whose connect is refused, one forced down by its
    /// operator and a drained one still go to 0. Without panic all fall to 0.
    #[test]
    fn panic_keeps_the_last_good_weight_of_nodes_that_answer() {
        let mut spec = spec(5);
        spec.panic_threshold = 50;
        let p = Policy::from_spec(&spec);
        let t0 = Instant::now();
        let healths = [80.0, 60.0, 40.0, 90.0, 70.0];
        let mut states: Vec<NodeState> = healths
            .iter()
            .map(|&h| {
                let mut s = NodeState::new(None, t0);
                s.observe(&obs(t0, Ok(Health::new(h))), &p);
                s
            })
            .collect();
        let t1 = t0 + 500 * SEC;
        for s in &mut states[..2] {
            s.observe(&obs(t1, Err(http_503())), &p);
        }
        states[2].observe(&obs(t1, Err(refused())), &p);
        states[3].observe(
            &obs(
                t1,
                Ok(Health {
                    value: 0.0,
                    forced_reason: Some("maintenance".into()),
                }),
            ),
            &p,
        );
        states[4].observe(&obs(t1, Err(http_503())), &p);
        let drained: BTreeSet<String> = [spec.nodes[4].id()].into();
        let sh = Share::of(&spec, &states, &drained);
        assert_eq!(sh, share(0, 4), "the drained node is not counted");
        let mut panic = Panic::default();
        assert_eq!(
            panic.step(spec.panic_threshold, sh, spec.check_interval, t1),
            Some(Transition::Entered)
        );
        let w = |panic: bool| -> Vec<u32> {
            desired_in(&spec, &states, &drained, Forced::default(), panic, t1)
                .iter()
                .map(|d| d.weight)
                .collect()
        };
        assert_eq!(w(true), [80, 60, 0, 0, 0]);
        assert_eq!(w(false), [0, 0, 0, 0, 0]);
        // An override file wins over panic.
        let d = crate::supervisor::policy::desired_in(
            &spec,
            &states,
            &drained,
            Forced::cluster(Some(crate::state::overrides::Override::Down)),
            true,
            t1,
        );
        assert!(d.iter().all(|d| d.weight == 0));
        // A node override is left alone by panic: node 0 (panic would keep it at 80) stays at
        // its 5, node 1 (panic would keep it at 60) at 0; the others as panic has them.
        let pinned = [(spec.nodes[0].id(), 5), (spec.nodes[1].id(), 0)].into();
        let forced = Forced {
            cluster: None,
            nodes: Some(&pinned),
        };
        let d = desired_in(&spec, &states, &drained, forced, true, t1);
        assert_eq!(
            d.iter().map(|d| d.weight).collect::<Vec<_>>(),
            [5, 0, 0, 0, 0]
        );
    }

    /// The sorry server: while panic keeps some node serving, it stays out; when no node
    /// answers TCP, it comes in as in any all-down cluster.
    #[test]
    fn the_sorry_server_comes_in_only_when_nothing_answers() {
        let mut spec = spec(2);
        spec.panic_threshold = 50;
        spec.sorry_server = Some(crate::spec::SorryServer {
            address: "198.51.100.9".parse().unwrap(),
            port: 0,
            weight: 1,
        });
        let p = Policy::from_spec(&spec);
        let t0 = Instant::now();
        let mut states: Vec<NodeState> = (0..2)
            .map(|_| {
                let mut s = NodeState::new(None, t0);
                s.observe(&obs(t0, Ok(Health::new(100.0))), &p);
                s
            })
            .collect();
        states[0].observe(&obs(t0, Err(http_503())), &p);
        states[1].observe(&obs(t0, Err(refused())), &p);
        let none = BTreeSet::new();
        let d = desired_in(&spec, &states, &none, Forced::default(), true, t0);
        assert_eq!(d.iter().map(|d| d.weight).collect::<Vec<_>>(), [100, 0]);
        states[0].observe(&obs(t0, Err(refused())), &p);
        let d = desired_in(&spec, &states, &none, Forced::default(), true, t0);
        assert_eq!(d.len(), 3, "sorry server added: {d:?}");
    }

    /// A node panic kept at 80 that recovers keeps serving: its ramp starts from what it was
    /// serving at, not from 0 (a bad health deploy being fixed must not cost capacity).
    #[test]
    fn a_held_node_that_recovers_ramps_from_its_held_weight() {
        let spec = spec(2);
        let p = Policy {
            fall: 1,
            rise: 1,
            ramp_up_time: 100 * SEC,
        };
        let t0 = Instant::now();
        let mut states: Vec<NodeState> = (0..2)
            .map(|_| {
                let mut s = NodeState::new(Some(80), t0);
                s.observe(&obs(t0, Ok(Health::new(80.0))), &p);
                s
            })
            .collect();
        for s in &mut states {
            s.observe(&obs(t0, Err(http_503())), &p);
        }
        let none = BTreeSet::new();
        let d = desired_in(&spec, &states, &none, Forced::default(), true, t0);
        assert_eq!(d.iter().map(|d| d.weight).collect::<Vec<_>>(), [80, 80]);
        crate::supervisor::policy::note_applied(&spec, &mut states, &d);
        let t1 = t0 + SEC;
        states[0].observe(&obs(t1, Ok(Health::new(100.0))), &p);
        assert_eq!(states[0].mode(), Mode::Up);
        assert_eq!(states[0].weight(&p, 100, t1), 80, "no dip to 1");
        assert_eq!(states[0].weight(&p, 100, t1 + 50 * SEC), 90);
        // Outside panic a down node was at 0 and ramps from 0 as always.
        let d = desired_in(&spec, &states, &none, Forced::default(), false, t1);
        crate::supervisor::policy::note_applied(&spec, &mut states, &d);
        states[1].observe(&obs(t1, Ok(Health::new(100.0))), &p);
        assert_eq!(states[1].weight(&p, 100, t1), 1);
    }

    /// An adopted node (found serving in the kernel at start-up) keeps the kernel's weight in
    /// panic, before and after a failed check that still reached it.
    #[test]
    fn adopted_nodes_keep_the_kernels_weight() {
        let t0 = Instant::now();
        let p = Policy {
            fall: 1,
            rise: 1,
            ramp_up_time: SEC,
        };
        let mut s = NodeState::new(Some(42), t0);
        assert_eq!(s.panic_weight(100), 42);
        s.observe(&obs(t0, Err(http_503())), &p);
        assert_eq!((s.mode(), s.panic_weight(100)), (Mode::Down, 42));
        assert_eq!(s.panic_weight(10), 10, "capped by max_weight");
        assert_eq!(NodeState::new(None, t0).panic_weight(100), 0);
    }
}
