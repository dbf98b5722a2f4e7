//! The weight policy, pure: observations in, weights out, time passed in as `now`.
//!
//! Per node (a [`NodeState`]):
//! - **weight = health**: `round(health / 100 × max_weight)`, clamped to `1..=max_weight` while
//!   the node is up (a positive health never rounds to 0: litmus_paper answers 200 for any
//!   health above 0, and weight 0 would mean "no new connections").
//! - **damping**: a serving node goes down after `fall` consecutive failed checks (an error, or
//!   health 0); until then it keeps its last good health. A down node serves again after `rise`
//!   consecutive good checks (health > 0). An operator's forced-down answer (`Health: 0` with a
//!   forced reason) takes effect at once, whatever `fall` says: it is a decision, not a flap.
//! - **ramp-up**: whenever a node starts serving from weight 0 (new, recovered, or undrained), its
//!   weight climbs linearly from 0 to its health over `ramp_up_time` (the original's
//!   `health × age / ramp_up_time`, but re-run after every recovery). A weight going *down* is
//!   never delayed. A recovery ramps from the weight the node was really serving at
//!   ([`note_applied`]): 0 as a rule, its held weight when the panic threshold kept it serving.
//! - **adoption**: a supervisor that starts and finds the node in the kernel at weight W > 0
//!   treats it as up at W and converges to its health along the same ramp (from W instead of 0),
//!   so a restart never drops a serving node to 0.
//!
//! Per cluster ([`desired`]): a cluster-wide override ([`desired_with_override`], the original's
//! `up`/`down` files) first puts every node at `max_weight` or 0; drained nodes get 0;
//! `active_passive` keeps only the best serving
//! node; when no node has a weight above 0 the cluster is **quiesced** (every node at 0, nobody
//! deleted), and the spec's `sorry_server`, if any, is added until a node serves again.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::health::{CheckError, Health};
use crate::ipvs::{Dest, DestEntry};
use crate::spec::{BackendMode, Spec};
use crate::state::overrides::Override;

/// One check's outcome: the policy's input (the checker threads produce it).
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// Index into `spec.nodes`.
    pub node: usize,
    /// When the check ended.
    pub at: Instant,
    pub latency: Duration,
    pub result: Result<Health, CheckError>,
    /// An agent check said `drain`: weight 0 like an administrative drain (not a failure).
    pub drain: bool,
    /// What the check printed or said (exec's output, the agent's line), bounded.
    pub output: Option<String>,
}

/// The cluster-wide knobs the per-node state machine needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub fall: u32,
    pub rise: u32,
    pub ramp_up_time: Duration,
}

impl Policy {
    pub fn from_spec(spec: &Spec) -> Policy {
        Policy {
            fall: spec.fall.max(1),
            rise: spec.rise.max(1),
            ramp_up_time: spec.ramp_up_time,
        }
    }
}

/// Where a node stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Not checked yet and not found serving in the kernel.
    New,
    /// Serving (weight > 0, possibly ramping).
    Up,
    /// Failed (`fall` reached), forced down, or reporting health 0.
    Down,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::New => "new",
            Mode::Up => "up",
            Mode::Down => "down",
        }
    }
}

/// A linear climb from `from` to the node's target weight, starting at `start`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Ramp {
    start: Instant,
    from: u32,
}

/// What the last check said, for the status file.
#[derive(Clone, Debug, PartialEq)]
pub struct LastCheck {
    pub at: Instant,
    pub latency: Duration,
    /// The health the node reported (0 when the check failed).
    pub reported: f64,
    pub error: Option<String>,
    pub forced_reason: Option<String>,
    /// The check reached the node over TCP (an answer, even a 503; see
    /// [`CheckError::reached_node`]): what the panic threshold keeps serving.
    pub answered: bool,
}

/// The weight a node had while it was last good, which the panic threshold keeps it at.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Held {
    /// Its last good health (scaled by `max_weight` when used, so a reload's new `max_weight`
    /// applies).
    Health(f64),
    /// The weight it was adopted at from the kernel, before any good check.
    Adopted(u32),
}

/// A check result as far as a node's weight can tell, the panic threshold's included: a health
/// above 0 (by its exact value), or a failure (an error, or a health of 0 or below) with
/// whether it reached the node over TCP and whether its operator forced it down — what
/// [`NodeState::panic_weight`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultClass {
    /// Health above 0; the `f64`'s bits, so two results match only when equal.
    Good(u64),
    Failed {
        answered: bool,
        forced: bool,
    },
}

impl ResultClass {
    pub fn of(result: &Result<Health, CheckError>) -> ResultClass {
        match result {
            Ok(h) if h.value > 0.0 => ResultClass::Good(h.value.to_bits()),
            Ok(h) => ResultClass::Failed {
                answered: true,
                forced: h.forced_reason.is_some(),
            },
            Err(e) => ResultClass::Failed {
                answered: e.reached_node(),
                forced: false,
            },
        }
    }
}

/// One node's policy state. Keep one per `spec.nodes` entry, in the same order.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeState {
    mode: Mode,
    since: Instant,
    /// Last good health (held while failures stay below `fall`); `None` before the first one.
    health: Option<f64>,
    /// Weight found in the kernel at start-up, served until a health is known.
    adopted: Option<u32>,
    fails: u32,
    goods: u32,
    ramp: Option<Ramp>,
    drained: bool,
    last: Option<LastCheck>,
    /// Last good weight, kept through a fall (unlike `health`): the panic threshold's fallback.
    held: Option<Held>,
    /// The weight the cluster rules last gave the node ([`note_applied`]); a recovery ramps
    /// from it.
    applied: u32,
}

impl NodeState {
    /// A node as found at start-up: `adopted_weight` is its weight in the kernel, if it was
    /// there. W > 0 adopts the node as up at W; W = 0 means it was down (it will ramp when it
    /// recovers); `None` is a new node.
    pub fn new(adopted_weight: Option<u32>, now: Instant) -> NodeState {
        let (mode, ramp, adopted) = match adopted_weight {
            Some(w) if w > 0 => (
                Mode::Up,
                Some(Ramp {
                    start: now,
                    from: w,
                }),
                Some(w),
            ),
            Some(_) => (Mode::Down, None, None),
            None => (Mode::New, None, None),
        };
        NodeState {
            mode,
            since: now,
            health: None,
            adopted,
            fails: 0,
            goods: 0,
            ramp,
            drained: false,
            last: None,
            held: adopted.map(Held::Adopted),
            applied: adopted.unwrap_or(0),
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// When the node entered its current mode.
    pub fn since(&self) -> Instant {
        self.since
    }

    /// The health the policy currently acts on (last good one while up).
    pub fn health(&self) -> Option<f64> {
        self.health
    }

    pub fn last(&self) -> Option<&LastCheck> {
        self.last.as_ref()
    }

    pub fn drained(&self) -> bool {
        self.drained
    }

    /// Consecutive failed checks so far (below `fall` while still up).
    pub fn fails(&self) -> u32 {
        self.fails
    }

    /// The one kind of result that leaves this node where it is, if there is one: observing it
    /// changes neither the node's weight nor this answer (a fixed point; the unit tests check
    /// it). A serving node with no failure counted settles on its current health; a down node
    /// with no good check counted settles on failures. A new, adopted, counting (some of
    /// `rise` or `fall` seen) node settles on nothing: any result may move it. The checker
    /// uses it to decide whether a result is worth waking the controller for (issue 18); ramps
    /// move with time, not results, and the controller's ticks carry them.
    pub fn settled_on(&self) -> Option<ResultClass> {
        match self.mode {
            Mode::Up if self.fails == 0 && self.adopted.is_none() => {
                self.health.map(|h| ResultClass::Good(h.to_bits()))
            }
            Mode::Down if self.goods == 0 => Some(ResultClass::Failed {
                answered: self.last.as_ref().is_some_and(|l| l.answered),
                forced: self
                    .last
                    .as_ref()
                    .is_some_and(|l| l.forced_reason.is_some()),
            }),
            _ => None,
        }
    }

    /// The weight the panic threshold gives this node when its own weight is 0: its last good
    /// weight (without a ramp: the point is to keep capacity) while its last check still reached
    /// it over TCP; 0 for a node forced down by its operator (a decision, not a symptom), one
    /// never good, or one that does not answer TCP.
    pub fn panic_weight(&self, max_weight: u32) -> u32 {
        let Some(last) = &self.last else {
            // Not checked yet: an adopted node keeps what the kernel had.
            return match self.held {
                Some(Held::Adopted(w)) => w.min(max_weight),
                _ => 0,
            };
        };
        if !last.answered || last.forced_reason.is_some() {
            return 0;
        }
        match self.held {
            Some(Held::Health(h)) => scale(h, max_weight),
            Some(Held::Adopted(w)) => w.min(max_weight),
            None => 0,
        }
    }

    /// Whether the weight is still climbing towards the health at `now`.
    pub fn ramping(&self, policy: &Policy, max_weight: u32, now: Instant) -> bool {
        match (self.mode, self.ramp, self.health) {
            (Mode::Up, Some(r), Some(h)) => {
                progress(r, policy, now) < 1.0
                    && self.weight(policy, max_weight, now) < scale(h, max_weight)
            }
            _ => false,
        }
    }

    /// Takes one check result into account.
    pub fn observe(&mut self, obs: &Observation, policy: &Policy) {
        let now = obs.at;
        let (reported, good, forced_down) = match &obs.result {
            Ok(h) => (
                h.value,
                h.value > 0.0,
                h.value <= 0.0 && h.forced_reason.is_some(),
            ),
            Err(_) => (0.0, false, false),
        };
        self.last = Some(LastCheck {
            at: now,
            latency: obs.latency,
            reported,
            error: obs.result.as_ref().err().map(ToString::to_string),
            forced_reason: obs
                .result
                .as_ref()
                .ok()
                .and_then(|h| h.forced_reason.clone()),
            answered: obs
                .result
                .as_ref()
                .map_or_else(CheckError::reached_node, |_| true),
        });
        if good {
            self.held = Some(Held::Health(reported));
        }
        if self.ramp.is_some_and(|r| progress(r, policy, now) >= 1.0) {
            self.ramp = None;
        }
        match self.mode {
            Mode::Up if good => {
                self.fails = 0;
                self.health = Some(reported);
                self.adopted = None;
            }
            Mode::Up => {
                self.fails = self.fails.saturating_add(1);
                if forced_down || self.fails >= policy.fall {
                    self.go_down(now);
                }
            }
            Mode::New | Mode::Down if good => {
                self.goods = self.goods.saturating_add(1);
                self.health = Some(reported);
                if self.goods >= policy.rise {
                    self.mode = Mode::Up;
                    self.since = now;
                    self.fails = 0;
                    // From what it was serving at: 0 as a rule, but a node the panic threshold
                    // (or an `up` override) kept serving has connections already, and must not
                    // lose its share by recovering.
                    self.ramp = Some(Ramp {
                        start: now,
                        from: self.applied,
                    });
                }
            }
            Mode::New | Mode::Down => {
                self.goods = 0;
                if self.mode == Mode::New {
                    self.go_down(now);
                }
            }
        }
    }

    fn go_down(&mut self, now: Instant) {
        self.mode = Mode::Down;
        self.since = now;
        self.goods = 0;
        self.fails = 0;
        self.ramp = None;
        self.adopted = None;
        self.health = None;
    }

    /// Marks the node drained or not. Undraining a serving node restarts its ramp from 0: it
    /// has had no new connections while drained.
    pub fn set_drained(&mut self, drained: bool, now: Instant) {
        if self.drained && !drained && self.mode == Mode::Up {
            self.ramp = Some(Ramp {
                start: now,
                from: 0,
            });
            self.adopted = None;
        }
        self.drained = drained;
    }

    /// Restarts the ramp from 0 for a serving node: a cluster-wide `down` override was lifted,
    /// and, as after an undrain, the node has had no new connections for a while.
    pub fn restart_ramp(&mut self, now: Instant) {
        if self.mode == Mode::Up && self.health.is_some() {
            self.ramp = Some(Ramp {
                start: now,
                from: 0,
            });
            self.adopted = None;
        }
    }

    /// The node's own weight at `now` (drain and cluster rules are applied by [`desired`]).
    pub fn weight(&self, policy: &Policy, max_weight: u32, now: Instant) -> u32 {
        if self.mode != Mode::Up {
            return 0;
        }
        let target = match (self.health, self.adopted) {
            (Some(h), _) => scale(h, max_weight),
            (None, Some(w)) => return w.min(max_weight.max(1)),
            (None, None) => return 0,
        };
        let Some(ramp) = self.ramp else {
            return target;
        };
        let p = progress(ramp, policy, now);
        if p >= 1.0 || target <= ramp.from {
            return target;
        }
        let climb = f64::from(target - ramp.from) * p;
        // Truncation as in the original (health × age / ramp_up_time); at least 1 so a node that
        // is up always takes some traffic.
        (ramp.from + climb as u32).clamp(1, target)
    }
}

/// Fraction of the ramp done at `now`, 0.0..=1.0.
fn progress(ramp: Ramp, policy: &Policy, now: Instant) -> f64 {
    if policy.ramp_up_time.is_zero() {
        return 1.0;
    }
    let age = now.saturating_duration_since(ramp.start);
    (age.as_secs_f64() / policy.ramp_up_time.as_secs_f64()).min(1.0)
}

/// Health (0..=100) to weight (0..=max_weight); positive health never gives 0.
pub fn scale(health: f64, max_weight: u32) -> u32 {
    if health.is_nan() || health <= 0.0 || max_weight == 0 {
        return 0;
    }
    let w = (health.min(100.0) / 100.0 * f64::from(max_weight)).round();
    (w as u32).clamp(1, max_weight)
}

/// States for `spec`'s nodes at start-up, adopting what the kernel has: a node found in
/// `current` at weight W starts from W (see [`NodeState::new`]). A restarted supervisor calls
/// this with the one dump it makes before its first tick.
pub fn adopt(spec: &Spec, current: &[DestEntry], now: Instant) -> Vec<NodeState> {
    spec.nodes
        .iter()
        .map(|n| {
            let found = current
                .iter()
                .find(|e| e.dest.addr == n.address && e.dest.port == n.real_port)
                .map(|e| e.dest.weight);
            NodeState::new(found, now)
        })
        .collect()
}

/// States for a reloaded spec: nodes kept (same id) keep their whole state — health, damping
/// counters, ramp, drain — and new nodes are adopted from `current` like at start-up.
pub fn carry_over(
    old: &Spec,
    old_states: &[NodeState],
    new: &Spec,
    current: &[DestEntry],
    now: Instant,
) -> Vec<NodeState> {
    let fresh = adopt(new, current, now);
    new.nodes
        .iter()
        .zip(fresh)
        .map(|(n, fresh)| {
            let id = n.id();
            old.nodes
                .iter()
                .position(|o| o.id() == id)
                .and_then(|i| old_states.get(i).cloned())
                .unwrap_or(fresh)
        })
        .collect()
}

/// Tells each node the weight the tick's desired set gives it (cluster rules, panic and
/// overrides included), so that a recovery ramps from what it was really serving at.
pub fn note_applied(spec: &Spec, states: &mut [NodeState], desired: &[Dest]) {
    for (n, s) in spec.nodes.iter().zip(states.iter_mut()) {
        s.applied = desired
            .iter()
            .find(|d| d.addr == n.address && d.port == n.real_port)
            .map_or(0, |d| d.weight);
    }
}

/// Brings each state's drained flag in line with the drain set (ids as [`crate::spec::Node::id`]).
pub fn apply_drains(
    spec: &Spec,
    states: &mut [NodeState],
    drained: &BTreeSet<String>,
    now: Instant,
) {
    for (node, state) in spec.nodes.iter().zip(states.iter_mut()) {
        state.set_drained(drained.contains(&node.id()), now);
    }
}

/// The destinations the service should have at `now`: one per node (weight 0 when down or
/// drained; unhealthy nodes are never removed), plus the sorry server when nobody serves.
pub fn desired(
    spec: &Spec,
    states: &[NodeState],
    drained: &BTreeSet<String>,
    now: Instant,
) -> Vec<Dest> {
    desired_with_override(spec, states, drained, None, now)
}

/// What operators force besides drains: the cluster-wide override in force (the files' and the
/// CIB's together, see [`combine`]) and the CIB's node overrides (node id → weight).
#[derive(Clone, Copy, Debug, Default)]
pub struct Forced<'a> {
    pub cluster: Option<Override>,
    pub nodes: Option<&'a BTreeMap<String, u32>>,
}

impl Forced<'_> {
    /// A cluster-wide override only.
    pub fn cluster(cluster: Option<Override>) -> Forced<'static> {
        Forced {
            cluster,
            nodes: None,
        }
    }

    /// The weight forced on node `id`, if any.
    pub fn node(&self, id: &str) -> Option<u32> {
        self.nodes.and_then(|m| m.get(id).copied())
    }
}

/// The cluster-wide override in force when both a director's override files and the CIB set
/// one: `up` wins, as it already does between the two files (the original big_brother's rule,
/// kept: an operator who says "serve" somewhere is never silently overruled by a `down`
/// elsewhere, and the files' own semantics do not change).
pub fn combine(file: Option<Override>, cib: Option<Override>) -> Option<Override> {
    match (file, cib) {
        (Some(Override::Up), _) | (_, Some(Override::Up)) => Some(Override::Up),
        (Some(Override::Down), _) | (_, Some(Override::Down)) => Some(Override::Down),
        (None, None) => None,
    }
}

/// Each node's own weight at `now`, before the cluster rules (`active_passive`, sorry server).
/// Precedence, highest first: a drain (0); a node override (its weight, capped by the node's
/// `max_weight`, no ramp); the cluster-wide override (`max_weight` for [`Override::Up`] — no
/// ramp: the operator said "serve", as the original's up file gave 100 at once — and 0 for
/// [`Override::Down`]); health. A node is *down* for notifications when this is 0.
pub fn node_weights(
    spec: &Spec,
    states: &[NodeState],
    drained: &BTreeSet<String>,
    forced: Forced,
    now: Instant,
) -> Vec<u32> {
    let policy = Policy::from_spec(spec);
    spec.nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let id = n.id();
            // A drain is about one node and outlives any override.
            if drained.contains(&id) {
                return 0;
            }
            if let Some(w) = forced.node(&id) {
                return w.min(n.max_weight);
            }
            match (states.get(i), forced.cluster) {
                (_, Some(Override::Up)) => n.max_weight,
                (_, Some(Override::Down)) => 0,
                (Some(s), None) => s.weight(&policy, n.max_weight, now),
                (None, None) => 0,
            }
        })
        .collect()
}

/// [`desired`] with the cluster-wide override files in force (see [`node_weights`]); the
/// cluster rules then apply as usual: under `down` every node is at 0, so the sorry server, if
/// any, is added; under `up` an `active_passive` cluster still serves from one node.
pub fn desired_with_override(
    spec: &Spec,
    states: &[NodeState],
    drained: &BTreeSet<String>,
    ovr: Option<Override>,
    now: Instant,
) -> Vec<Dest> {
    desired_in(spec, states, drained, Forced::cluster(ovr), false, now)
}

/// [`desired_with_override`] with node overrides, and in `panic` (see `super::panic`) every
/// undrained node whose own weight is 0 keeps its [`NodeState::panic_weight`] (its last good
/// weight while it still answers TCP). Overrides are an operator's decision and win over panic:
/// under a cluster-wide one panic holds nobody, and a node with its own override is left at
/// it. The cluster rules then apply as usual: a node kept by panic counts as serving, so the
/// sorry server comes in only when no node answers TCP at all.
pub fn desired_in(
    spec: &Spec,
    states: &[NodeState],
    drained: &BTreeSet<String>,
    forced: Forced,
    panic: bool,
    now: Instant,
) -> Vec<Dest> {
    let mut weights = node_weights(spec, states, drained, forced, now);
    if panic && forced.cluster.is_none() {
        for ((n, w), s) in spec.nodes.iter().zip(weights.iter_mut()).zip(states) {
            let id = n.id();
            if *w == 0 && !drained.contains(&id) && forced.node(&id).is_none() {
                *w = s.panic_weight(n.max_weight);
            }
        }
    }
    if spec.backend_mode == BackendMode::ActivePassive {
        // The healthy node with the lowest priority; ties go to the lowest address (numeric,
        // where the original compared strings), then port. Switching is one reconcile: the new
        // node's raise and the old one's drop are in the same desired set.
        let active = spec
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| weights[*i] > 0)
            .min_by_key(|(_, n)| (n.priority, n.address, n.real_port))
            .map(|(i, _)| i);
        for (i, w) in weights.iter_mut().enumerate() {
            if Some(i) != active {
                *w = 0;
            }
        }
    }
    let all_down = weights.iter().all(|&w| w == 0);
    let mut dests: Vec<Dest> = spec
        .nodes
        .iter()
        .zip(&weights)
        .map(|(n, &weight)| Dest {
            upper_threshold: n.upper_threshold,
            lower_threshold: n.lower_threshold,
            ..Dest::new(n.address, n.real_port, spec.forward, weight)
        })
        .collect();
    if let (true, Some(s)) = (all_down, spec.sorry_server) {
        dests.push(Dest::new(s.address, s.port, spec.forward, s.weight));
    }
    dests
}

/// A node's state in words and numbers, for the status file and tables.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeSummary {
    /// `new`, `up`, `ramping`, `down`, `failing` (up, but failures below `fall`), `forced_down`
    /// or `drained`.
    pub state: String,
    pub health: Option<f64>,
    pub weight: u32,
    pub last_latency_ms: Option<f64>,
    pub last_error: Option<String>,
    pub forced_reason: Option<String>,
    /// Seconds since the node entered its current mode.
    pub since_secs: f64,
}

impl NodeState {
    /// Summary at `now`; `weight` is what [`desired`] gave the node (cluster rules included).
    pub fn summary(
        &self,
        policy: &Policy,
        max_weight: u32,
        weight: u32,
        now: Instant,
    ) -> NodeSummary {
        let last = self.last.as_ref();
        let forced_reason = last.and_then(|l| l.forced_reason.clone());
        let state = if self.drained {
            "drained"
        } else {
            match self.mode {
                Mode::New => "new",
                Mode::Up if self.fails > 0 => "failing",
                Mode::Up if self.ramping(policy, max_weight, now) => "ramping",
                Mode::Up => "up",
                Mode::Down if forced_reason.is_some() => "forced_down",
                Mode::Down => "down",
            }
        };
        NodeSummary {
            state: state.to_string(),
            health: last.map(|l| l.reported),
            weight,
            last_latency_ms: last.map(|l| l.latency.as_secs_f64() * 1000.0),
            last_error: last.and_then(|l| l.error.clone()),
            forced_reason,
            since_secs: now.saturating_duration_since(self.since).as_secs_f64(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::{CheckError, Health, Phase};
    use crate::ipvs::{Family, Forward, ServiceKey};
    use crate::spec::{Node, Ops, SorryServer};
    use proptest::prelude::*;

    const SEC: Duration = Duration::from_secs(1);

    fn policy(fall: u32, rise: u32, ramp: u64) -> Policy {
        Policy {
            fall,
            rise,
            ramp_up_time: Duration::from_secs(ramp),
        }
    }

    fn ok(at: Instant, v: f64) -> Observation {
        Observation {
            node: 0,
            at,
            latency: Duration::from_millis(3),
            result: Ok(Health::new(v)),
            drain: false,
            output: None,
        }
    }

    fn err(at: Instant) -> Observation {
        Observation {
            node: 0,
            at,
            latency: Duration::from_millis(3),
            result: Err(CheckError::Timeout {
                phase: Phase::Head,
                budget_ms: 2000,
            }),
            drain: false,
            output: None,
        }
    }

    fn forced(at: Instant) -> Observation {
        Observation {
            node: 0,
            at,
            latency: Duration::from_millis(3),
            result: Ok(Health {
                value: 0.0,
                forced_reason: Some("apt upgrades".into()),
            }),
            drain: false,
            output: None,
        }
    }

    pub(crate) fn spec(n: usize) -> Spec {
        Spec {
            file: "t.toml".into(),
            name: "t".into(),
            description: None,
            service: Some(ServiceKey::Fwmark {
                family: Family::V4,
                mark: 7,
            }),
            scheduler: "wlc".into(),
            forward: Forward::Ipip,
            persistence_timeout: None,
            persistence_netmask: None,
            scheduler_flags: vec![],
            one_packet: false,
            check_interval: 2 * SEC,
            check_timeout: 2 * SEC,
            ramp_up_time: 120 * SEC,
            fall: 1,
            rise: 1,
            backend_mode: BackendMode::ActiveActive,
            standby: crate::spec::Standby::Cold,
            sorry_server: None,
            override_dir: crate::spec::defaults::OVERRIDE_DIR.into(),
            on_change: None,
            panic_threshold: 0,
            removal_timeout: crate::spec::defaults::REMOVAL_TIMEOUT,
            vips: vec![],
            nodes: (0..n)
                .map(|i| Node {
                    address: format!("192.0.2.{}", i + 1).parse().unwrap(),
                    port: 80,
                    path: "/t/status".into(),
                    real_port: 0,
                    max_weight: 100,
                    priority: 0,
                    upper_threshold: 0,
                    lower_threshold: 0,
                    check: Default::default(),
                })
                .collect(),
            ops: Ops::DEFAULT,
        }
    }

    #[test]
    fn scale_rounds_and_clamps() {
        assert_eq!(scale(0.0, 100), 0);
        assert_eq!(scale(0.2, 100), 1);
        assert_eq!(scale(87.5, 100), 88);
        assert_eq!(scale(100.0, 100), 100);
        assert_eq!(scale(50.0, 1000), 500);
        assert_eq!(scale(50.0, 1), 1);
        assert_eq!(scale(f64::NAN, 100), 0);
    }

    #[test]
    fn new_node_ramps_like_the_original() {
        let p = policy(1, 1, 120);
        let t0 = Instant::now();
        let mut s = NodeState::new(None, t0);
        assert_eq!(s.weight(&p, 100, t0), 0);
        s.observe(&ok(t0, 100.0), &p);
        assert_eq!(s.mode(), Mode::Up);
        assert_eq!(s.weight(&p, 100, t0), 1, "up means at least 1");
        assert_eq!(s.weight(&p, 100, t0 + 30 * SEC), 25);
        assert_eq!(s.weight(&p, 100, t0 + 60 * SEC), 50);
        assert_eq!(s.weight(&p, 100, t0 + 120 * SEC), 100);
        assert_eq!(s.weight(&p, 100, t0 + 500 * SEC), 100);
        // Health below the ramp's level applies at once.
        s.observe(&ok(t0 + 60 * SEC, 20.0), &p);
        assert_eq!(s.weight(&p, 100, t0 + 60 * SEC), 10);
    }

    #[test]
    fn recovery_from_zero_ramps_again() {
        let p = policy(1, 1, 100);
        let t0 = Instant::now();
        let mut s = NodeState::new(None, t0);
        s.observe(&ok(t0, 80.0), &p);
        let t1 = t0 + 200 * SEC;
        assert_eq!(s.weight(&p, 100, t1), 80);
        s.observe(&err(t1), &p);
        assert_eq!((s.mode(), s.weight(&p, 100, t1)), (Mode::Down, 0));
        let t2 = t1 + 10 * SEC;
        s.observe(&ok(t2, 80.0), &p);
        assert_eq!(s.weight(&p, 100, t2), 1);
        assert_eq!(s.weight(&p, 100, t2 + 50 * SEC), 40);
    }

    #[test]
    fn fall_and_rise_damp_flapping() {
        let p = policy(3, 2, 0);
        let t = Instant::now();
        let mut s = NodeState::new(Some(100), t);
        s.observe(&ok(t, 70.0), &p);
        s.observe(&err(t), &p);
        s.observe(&err(t), &p);
        assert_eq!(
            s.weight(&p, 100, t),
            70,
            "two failures < fall: last good health held"
        );
        assert_eq!(s.summary(&p, 100, 70, t).state, "failing");
        s.observe(&ok(t, 70.0), &p);
        s.observe(&err(t), &p);
        s.observe(&err(t), &p);
        assert_eq!(s.mode(), Mode::Up, "a good check resets the count");
        s.observe(&err(t), &p);
        assert_eq!(s.mode(), Mode::Down);
        s.observe(&ok(t, 70.0), &p);
        assert_eq!(s.weight(&p, 100, t), 0, "one good check < rise");
        s.observe(&ok(t, 70.0), &p);
        assert_eq!(s.weight(&p, 100, t), 70);
    }

    #[test]
    fn forced_down_is_immediate_and_shown() {
        let p = policy(5, 1, 0);
        let t = Instant::now();
        let mut s = NodeState::new(None, t);
        s.observe(&ok(t, 90.0), &p);
        s.observe(&forced(t), &p);
        assert_eq!(s.mode(), Mode::Down);
        let sum = s.summary(&p, 100, 0, t);
        assert_eq!(sum.state, "forced_down");
        assert_eq!(sum.forced_reason.as_deref(), Some("apt upgrades"));
    }

    #[test]
    fn adoption_never_drops_to_zero() {
        let p = policy(1, 1, 100);
        let t0 = Instant::now();
        let mut s = NodeState::new(Some(60), t0);
        assert_eq!(
            s.weight(&p, 100, t0),
            60,
            "adopted weight served before any check"
        );
        s.observe(&ok(t0 + SEC, 100.0), &p);
        assert_eq!(s.weight(&p, 100, t0 + SEC), 60);
        assert_eq!(s.weight(&p, 100, t0 + 50 * SEC), 80);
        assert_eq!(s.weight(&p, 100, t0 + 100 * SEC), 100);
        // Lower health than adopted: straight down to it, no ramp.
        let mut s = NodeState::new(Some(60), t0);
        s.observe(&ok(t0, 30.0), &p);
        assert_eq!(s.weight(&p, 100, t0), 30);
        // Found at 0 in the kernel: down, ramps when good.
        let mut s = NodeState::new(Some(0), t0);
        assert_eq!(s.mode(), Mode::Down);
        s.observe(&ok(t0, 100.0), &p);
        assert_eq!(s.weight(&p, 100, t0 + 50 * SEC), 50);
    }

    #[test]
    fn undrain_ramps_from_zero() {
        let p = policy(1, 1, 100);
        let t0 = Instant::now();
        let mut s = NodeState::new(Some(100), t0);
        s.observe(&ok(t0, 100.0), &p);
        s.set_drained(true, t0);
        assert_eq!(s.summary(&p, 100, 0, t0).state, "drained");
        s.observe(&err(t0), &p);
        assert_eq!(
            s.summary(&p, 100, 0, t0).state,
            "drained",
            "a drained node shows as drained, not as failed"
        );
        s.observe(&ok(t0, 100.0), &p);
        let t1 = t0 + 1000 * SEC;
        s.set_drained(false, t1);
        assert_eq!(s.weight(&p, 100, t1), 1);
        assert_eq!(s.weight(&p, 100, t1 + 50 * SEC), 50);
    }

    fn up_states(spec: &Spec, healths: &[f64], t: Instant) -> Vec<NodeState> {
        let p = Policy::from_spec(spec);
        healths
            .iter()
            .map(|&h| {
                let mut s = NodeState::new(Some(100), t);
                s.observe(&ok(t, h), &p);
                s
            })
            .collect()
    }

    #[test]
    fn desired_quiesces_all_or_adds_the_sorry_server() {
        let mut sp = spec(3);
        let t = Instant::now();
        let states = up_states(&sp, &[0.0, 0.0, 0.0], t);
        let none = BTreeSet::new();
        let d = desired(&sp, &states, &none, t);
        assert_eq!(d.len(), 3, "nobody is deleted");
        assert!(d.iter().all(|d| d.weight == 0));
        sp.sorry_server = Some(SorryServer {
            address: "198.51.100.9".parse().unwrap(),
            port: 0,
            weight: 1,
        });
        let d = desired(&sp, &states, &none, t);
        assert_eq!(d.len(), 4);
        assert_eq!(
            (d[3].addr.to_string(), d[3].weight),
            ("198.51.100.9".into(), 1)
        );
        let states = up_states(&sp, &[0.0, 50.0, 0.0], t);
        let d = desired(&sp, &states, &none, t);
        assert_eq!(d.iter().map(|d| d.weight).collect::<Vec<_>>(), [0, 50, 0]);
        // Draining the only serving node brings the sorry server in.
        let drained: BTreeSet<String> = ["192.0.2.2".to_string()].into();
        assert_eq!(desired(&sp, &states, &drained, t).len(), 4);
    }

    #[test]
    fn active_passive_serves_one() {
        let mut sp = spec(3);
        sp.backend_mode = BackendMode::ActivePassive;
        sp.nodes[0].priority = 1;
        sp.nodes[1].priority = 1;
        let t = Instant::now();
        let states = up_states(&sp, &[90.0, 80.0, 70.0], t);
        let w: Vec<u32> = desired(&sp, &states, &BTreeSet::new(), t)
            .iter()
            .map(|d| d.weight)
            .collect();
        assert_eq!(w, [0, 0, 70]);
        let states = up_states(&sp, &[90.0, 80.0, 0.0], t);
        let w: Vec<u32> = desired(&sp, &states, &BTreeSet::new(), t)
            .iter()
            .map(|d| d.weight)
            .collect();
        assert_eq!(w, [90, 0, 0], "ties on priority go to the lowest address");
    }

    #[test]
    fn adopt_and_carry_over() {
        let sp = spec(3);
        let t = Instant::now();
        let entry = |i: usize, w: u32| DestEntry {
            dest: Dest::new(sp.nodes[i].address, 0, Forward::Ipip, w),
            stats: Default::default(),
        };
        let current = [entry(0, 70), entry(1, 0)];
        let states = adopt(&sp, &current, t);
        let p = Policy::from_spec(&sp);
        let modes: Vec<Mode> = states.iter().map(NodeState::mode).collect();
        assert_eq!(modes, [Mode::Up, Mode::Down, Mode::New]);
        assert_eq!(states[0].weight(&p, 100, t), 70);
        // Reload: node 1 removed, node 3 added (found in the kernel at 5), nodes 0 and 2 kept.
        let mut states = states;
        states[2].observe(&ok(t, 90.0), &p);
        let mut sp2 = spec(4);
        sp2.nodes.remove(1);
        let current = [
            entry(0, 70),
            DestEntry {
                dest: Dest {
                    addr: sp2.nodes[2].address,
                    ..current[0].dest
                },
                stats: Default::default(),
            },
        ];
        let current = [
            current[0],
            DestEntry {
                dest: Dest {
                    weight: 5,
                    ..current[1].dest
                },
                stats: Default::default(),
            },
        ];
        let next = carry_over(&sp, &states, &sp2, &current, t);
        assert_eq!(next.len(), 3);
        assert_eq!(next[0], states[0]);
        assert_eq!(next[1], states[2], "node 192.0.2.3 keeps its state");
        assert_eq!(
            next[2].weight(&p, 100, t),
            5,
            "new node adopted from the kernel"
        );
    }

    /// A check result for property tests: error, forced down, or a health.
    fn any_result() -> impl Strategy<Value = Result<Health, CheckError>> {
        prop_oneof![
            Just(Err(CheckError::Closed { phase: Phase::Head })),
            Just(Err(CheckError::Closed {
                phase: Phase::Connect
            })),
            Just(Ok(Health {
                value: 0.0,
                forced_reason: Some("x".into())
            })),
            (0.0f64..=100.0).prop_map(|v| Ok(Health::new(v))),
        ]
    }

    #[test]
    fn nodes_settle_only_where_a_repeat_changes_nothing() {
        let p = policy(3, 2, 0);
        let t = Instant::now();
        let mut s = NodeState::new(None, t);
        assert_eq!(s.settled_on(), None, "new: any result moves it");
        s.observe(&ok(t, 60.0), &p);
        assert_eq!(s.settled_on(), None, "one good of rise 2 counted");
        s.observe(&ok(t, 60.0), &p);
        assert_eq!(s.settled_on(), Some(ResultClass::Good(60f64.to_bits())));
        s.observe(&err(t), &p);
        assert_eq!(s.settled_on(), None, "one failure of fall 3 counted");
        s.observe(&ok(t, 50.0), &p);
        assert_eq!(s.settled_on(), Some(ResultClass::Good(50f64.to_bits())));
        s.observe(&forced(t), &p);
        assert_eq!(
            s.settled_on(),
            Some(ResultClass::Failed {
                answered: true,
                forced: true
            }),
            "down at once"
        );
        let adopted = NodeState::new(Some(40), t);
        assert_eq!(
            adopted.settled_on(),
            None,
            "adopted: the first health moves it"
        );
        assert_eq!(
            ResultClass::of(&ok(t, -0.0).result),
            ResultClass::Failed {
                answered: true,
                forced: false
            }
        );
        assert_eq!(
            ResultClass::of(&err(t).result),
            ResultClass::Failed {
                answered: true,
                forced: false
            },
            "a timeout after the connect reached the node"
        );
    }

    proptest! {
        /// Whatever happens, the weight stays within 0..=max_weight and is 0 unless up.
        #[test]
        fn weight_in_bounds(results in proptest::collection::vec(any_result(), 0..40),
                            adopted in proptest::option::of(0u32..200), max in 1u32..1000,
                            fall in 1u32..5, rise in 1u32..5, ramp in 0u64..300, step in 0u64..20) {
            let p = policy(fall, rise, ramp);
            let t0 = Instant::now();
            let mut s = NodeState::new(adopted, t0);
            for (i, r) in results.into_iter().enumerate() {
                let at = t0 + Duration::from_secs(step * i as u64);
                s.observe(&Observation { node: 0, at, latency: Duration::ZERO, result: r, drain: false, output: None }, &p);
                let w = s.weight(&p, max, at);
                prop_assert!(w <= max);
                prop_assert_eq!(w == 0, s.mode() != Mode::Up);
            }
        }

        /// `settled_on` is a fixed point: whenever a node says it is settled on the class of the
        /// next result, observing that result changes neither its weight nor the answer — so a
        /// checker may leave the controller asleep for it (the bell, issue 18) without a weight
        /// ever lagging. The sequence mixes every kind of result, with repeats so that nodes do
        /// settle, from every start (new, adopted up, adopted down).
        #[test]
        fn settled_on_is_a_fixed_point(results in proptest::collection::vec((any_result(), 1usize..4), 0..30),
                                       adopted in proptest::option::of(0u32..200),
                                       fall in 1u32..5, rise in 1u32..5, ramp in 0u64..30) {
            let p = policy(fall, rise, ramp);
            let t0 = Instant::now();
            let mut s = NodeState::new(adopted, t0);
            for (i, (r, repeat)) in results.into_iter().enumerate() {
                for k in 0..repeat {
                    let at = t0 + Duration::from_secs(3 * i as u64 + k as u64);
                    let obs = Observation { node: 0, at, latency: Duration::ZERO, result: r.clone(), drain: false, output: None };
                    let before = (s.weight(&p, 100, at), s.panic_weight(100), s.settled_on());
                    s.observe(&obs, &p);
                    if before.2 == Some(ResultClass::of(&obs.result)) {
                        prop_assert_eq!(s.weight(&p, 100, at), before.0);
                        prop_assert_eq!(s.panic_weight(100), before.1);
                        prop_assert_eq!(s.settled_on(), before.2);
                    }
                }
            }
        }

        /// A serving node needs `fall` consecutive non-forced failures to reach weight 0.
        #[test]
        fn fall_damps(fall in 1u32..8, fails in 0u32..10, h in 1.0f64..=100.0) {
            let p = policy(fall, 1, 0);
            let t = Instant::now();
            let mut s = NodeState::new(None, t);
            s.observe(&ok(t, h), &p);
            for _ in 0..fails { s.observe(&err(t), &p); }
            prop_assert_eq!(s.weight(&p, 100, t) == 0, fails >= fall);
        }

        /// A down node needs `rise` consecutive good checks to serve.
        #[test]
        fn rise_damps(rise in 1u32..8, goods in 0u32..10, h in 1.0f64..=100.0) {
            let p = policy(1, rise, 0);
            let t = Instant::now();
            let mut s = NodeState::new(Some(0), t);
            for _ in 0..goods { s.observe(&ok(t, h), &p); }
            prop_assert_eq!(s.weight(&p, 100, t) > 0, goods >= rise);
        }

        /// The ramp: non-decreasing, never above the linear line (+1 for the floor), and at the
        /// node's health once `ramp_up_time` has passed.
        #[test]
        fn ramp_curve(h in 1.0f64..=100.0, max in 1u32..1000, ramp in 1u64..600,
                      probes in proptest::collection::vec(0u64..1000, 1..30)) {
            let p = policy(1, 1, ramp);
            let t0 = Instant::now();
            let mut s = NodeState::new(None, t0);
            s.observe(&ok(t0, h), &p);
            let target = scale(h, max);
            let mut probes = probes;
            probes.sort_unstable();
            let mut prev = 0;
            for secs in probes {
                let w = s.weight(&p, max, t0 + Duration::from_secs(secs));
                let frac = (secs as f64 / ramp as f64).min(1.0);
                prop_assert!(w >= prev);
                prop_assert!(f64::from(w) <= (f64::from(target) * frac).max(1.0) + 1e-9);
                if secs >= ramp { prop_assert_eq!(w, target); }
                prev = w;
            }
        }

        /// A restart adopting weight W never serves 0 before a failure, and stays between W and
        /// the health-derived target while converging.
        #[test]
        fn adoption_converges_without_a_gap(w in 1u32..=100, h in 1.0f64..=100.0,
                                            probes in proptest::collection::vec(0u64..300, 1..20)) {
            let p = policy(1, 1, 120);
            let t0 = Instant::now();
            let mut s = NodeState::new(Some(w), t0);
            s.observe(&ok(t0 + SEC, h), &p);
            let target = scale(h, 100);
            for secs in probes {
                let got = s.weight(&p, 100, t0 + Duration::from_secs(secs));
                prop_assert!(got >= 1);
                prop_assert!(got >= w.min(target) && got <= w.max(target));
            }
        }

        /// Cluster rules: the sorry server is there exactly when no node serves; in
        /// active_passive at most one node serves.
        #[test]
        fn cluster_rules(healths in proptest::collection::vec(0u32..=3, 1..12), sorry: bool,
                         passive: bool, drain_mask in proptest::collection::vec(any::<bool>(), 12)) {
            let mut sp = spec(healths.len());
            if sorry {
                sp.sorry_server = Some(SorryServer { address: "198.51.100.9".parse().unwrap(), port: 0, weight: 1 });
            }
            if passive { sp.backend_mode = BackendMode::ActivePassive; }
            let t = Instant::now();
            let hs: Vec<f64> = healths.iter().map(|&h| f64::from(h) * 30.0).collect();
            let states = up_states(&sp, &hs, t);
            let drained: BTreeSet<String> = sp.nodes.iter().zip(&drain_mask)
                .filter(|(_, &d)| d).map(|(n, _)| n.id()).collect();
            let d = desired(&sp, &states, &drained, t);
            let serving = d[..sp.nodes.len()].iter().filter(|d| d.weight > 0).count();
            prop_assert_eq!(d.len(), sp.nodes.len() + usize::from(sorry && serving == 0));
            if passive { prop_assert!(serving <= 1); }
            for (n, dest) in sp.nodes.iter().zip(&d) {
                if drained.contains(&n.id()) { prop_assert_eq!(dest.weight, 0); }
            }
        }
    }
}

#[cfg(test)]
#[path = "policy_parity.rs"]
mod parity_tests;
