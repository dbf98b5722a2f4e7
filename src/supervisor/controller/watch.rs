//! What the controller watches besides the kernel: check results (and checkers that stop
//! reporting), the drain and override files, and the `on_change` hook's view of the down count.

use std::time::{Instant, SystemTime};

use super::Controller;
use crate::health::CheckError;
use crate::log;
use crate::spec;
use crate::state::overrides::Override;
use crate::state::status;
use crate::supervisor::bell::Settled;
use crate::supervisor::checker::{self, Observation};
use crate::supervisor::on_change;
use crate::supervisor::plan::applied_weight;
use crate::supervisor::policy;

impl Controller {
    /// Takes one check result into account; true when it changed the node's own weight.
    pub(super) fn observe(&mut self, obs: &Observation) -> bool {
        let (Some(state), Some(node)) =
            (self.nodes.get_mut(obs.node), self.spec.nodes.get(obs.node))
        else {
            return false;
        };
        let now = Instant::now();
        let before = state.weight(&self.policy, node.max_weight, now);
        state.observe(obs, &self.policy);
        if let Some(o) = self.observed.get_mut(obs.node) {
            *o = true;
        }
        if let Some(t) = self.last_result.get_mut(obs.node) {
            *t = obs.at;
        }
        if let Some(Some(_)) = self.silent_since.get_mut(obs.node).map(Option::take) {
            log::info(format!(
                "{}: node {}: check results again",
                self.ident.cluster,
                node.id()
            ));
        }
        if let Some(c) = &mut self.checkers {
            c.saw(obs.node);
        }
        if let Err(CheckError::Internal(msg)) = &obs.result {
            log::error(format!(
                "{}: node {}: the check panicked (a big_brother bug; counted as a failed \
                 check, the checker goes on): {msg}",
                self.ident.cluster,
                node.id()
            ));
        }
        let changed = state.weight(&self.policy, node.max_weight, now) != before;
        // What the check said beside its health: an agent's `drain` (until it says otherwise)
        // and its output (replaced by every check; a failed check has none).
        let drain_changed = if obs.drain {
            self.agent_drained.insert(node.id())
        } else {
            self.agent_drained.remove(&node.id())
        };
        if drain_changed {
            log::info(format!(
                "{}: node {}: the agent {} a drain",
                self.ident.cluster,
                node.id(),
                if obs.drain { "asks for" } else { "lifts" }
            ));
        }
        match &obs.output {
            Some(o) => {
                self.outputs.insert(node.id(), o.clone());
            }
            None => {
                self.outputs.remove(&node.id());
            }
        }
        let changed = changed || drain_changed;
        self.bell.settle(
            obs.node,
            state.settled_on().map(|class| Settled {
                class,
                drain: obs.drain,
            }),
        );
        let c = self.counters.entry(node.id()).or_default();
        c.0 = c.0.saturating_add(1);
        c.1 = c.1.saturating_add(u64::from(obs.result.is_err()));
        changed
    }

    /// Keeps the checkers honest (issue 12: a checker that stops must never go unnoticed). A
    /// node without a check result for [`checker::stale_after`] counts as failed — one failed
    /// check per interval while it lasts, so `fall` applies as to any failure and its weight
    /// goes to 0 — and its checker is replaced; threads that exited are restarted. What the
    /// checkers cannot repair is kept as `checker_error`, which `monitor` reports.
    pub(super) fn watch_checkers(&mut self, now: Instant) {
        let interval = self.spec.check_interval;
        let bound = checker::stale_after(interval, self.spec.check_timeout);
        let mut stale = Vec::new();
        for (i, (state, node)) in self.nodes.iter_mut().zip(&self.spec.nodes).enumerate() {
            let (Some(last), Some(flagged)) =
                (self.last_result.get(i), self.silent_since.get_mut(i))
            else {
                continue;
            };
            let quiet = now.saturating_duration_since(*last);
            if quiet <= bound {
                continue;
            }
            stale.push(i);
            if flagged.is_some_and(|t| now.saturating_duration_since(t) < interval) {
                continue;
            }
            let error = CheckError::NoResult {
                secs: quiet.as_secs(),
            };
            if flagged.is_none() {
                log::warn(format!(
                    "{}: node {}: {error}; counted as failed until results come again",
                    self.ident.cluster,
                    node.id()
                ));
            }
            *flagged = Some(now);
            state.observe(
                &Observation {
                    node: i,
                    at: now,
                    latency: quiet,
                    result: Err(error),
                    drain: false,
                    output: None,
                },
                &self.policy,
            );
            // Its next real result, whatever it is, wakes the controller.
            self.bell.settle(i, None);
        }
        let Some(checkers) = &mut self.checkers else {
            return;
        };
        let sup = checkers.supervise(&stale, now);
        for event in &sup.events {
            let (node, what) = match event {
                checker::Event::Restarted { node, why } => (
                    *node,
                    format!("its checker thread had stopped ({why}); restarted"),
                ),
                checker::Event::Replaced { node } => (
                    *node,
                    "its checker stopped reporting; replaced by a fresh one".to_string(),
                ),
                checker::Event::LoopReplaced { nodes, why } => {
                    log::error(format!(
                        "{}: the checks loop had stopped ({why}); replaced, {nodes} nodes \
                         checked afresh",
                        self.ident.cluster
                    ));
                    continue;
                }
            };
            let id = self
                .spec
                .nodes
                .get(node)
                .map(spec::Node::id)
                .unwrap_or_default();
            log::error(format!("{}: node {id}: {what}", self.ident.cluster));
            let n = self.restarts.entry(id).or_default();
            *n = n.saturating_add(1);
        }
        if sup.error != self.checker_error {
            match &sup.error {
                Some(e) => log::error(format!(
                    "{}: health checkers cannot be kept running: {e}",
                    self.ident.cluster
                )),
                None => log::info(format!(
                    "{}: every health checker runs again",
                    self.ident.cluster
                )),
            }
            self.checker_error = sup.error;
        }
    }

    pub(super) fn poll_drains(&mut self) {
        let (set, err) = self.drains.poll();
        if *set != self.drained {
            log::info(format!(
                "{}: drained nodes now [{}]",
                self.ident.cluster,
                set.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
            self.drained = set.clone();
        }
        let err = err.map(|e| e.to_string());
        if err != self.drain_error {
            if let Some(e) = &err {
                log::warn(format!("{}: cannot read drains: {e}", self.ident.cluster));
            }
            self.drain_error = err;
        }
    }

    /// Takes what the CIB watch saw last (it reads on its own thread).
    pub(super) fn poll_cib(&mut self) {
        if let Some(w) = &self.cib {
            self.cib_seen = w.seen();
        }
    }

    /// Re-reads the override files (see [`Controller::follow_forced`] for what a change does).
    pub(super) fn poll_overrides(&mut self) {
        let (cur, err) = self.overrides.poll();
        let (cur, err) = (cur.clone(), err);
        if cur != self.override_now {
            let (up, down) = self.overrides.paths();
            match cur.state {
                Some(o) => log::warn(format!(
                    "{}: override {} in force ({}){}",
                    self.ident.cluster,
                    o.as_str(),
                    if o == Override::Up { up } else { down }.display(),
                    if cur.reason.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", cur.reason)
                    }
                )),
                None => log::info(format!(
                    "{}: override lifted; weights follow health again",
                    self.ident.cluster
                )),
            }
            self.override_now = cur;
        }
        let err = err.map(|e| e.to_string());
        if err != self.override_error {
            if let Some(e) = &err {
                log::warn(format!(
                    "{}: cannot read the override files, keeping the last answer: {e}",
                    self.ident.cluster
                ));
            }
            self.override_error = err;
        }
    }

    /// What operators force now: the cluster-wide override of the files and the CIB together
    /// (`policy::combine`) and the CIB's node overrides.
    pub(super) fn forced_cluster(&self) -> Option<Override> {
        policy::combine(
            self.override_now.state,
            self.cib_seen.overrides.cluster.as_ref().map(|c| c.state),
        )
    }

    /// Follows a change of what is forced: lifting a cluster-wide `down` restarts every ramp,
    /// lifting a node override at 0 that node's (nobody sent them new connections meanwhile;
    /// a node lifted from a weight above 0 keeps its ramp as it was).
    pub(super) fn follow_forced(&mut self, now: Instant) {
        let cluster = self.forced_cluster();
        let pinned = self.cib_seen.overrides.weights();
        if self.forced_last == Some(Override::Down) && cluster.is_none() {
            for n in &mut self.nodes {
                n.restart_ramp(now);
            }
        }
        for (n, state) in self.spec.nodes.iter().zip(self.nodes.iter_mut()) {
            let id = n.id();
            if self.pinned_last.get(&id) == Some(&0) && !pinned.contains_key(&id) {
                state.restart_ramp(now);
            }
        }
        self.forced_last = cluster;
        self.pinned_last = pinned;
    }

    /// Hands a summary to the `on_change` hook when the count of down nodes changed.
    pub(super) fn notify_change(&mut self, now: Instant) {
        let Some(hook) = &self.hook else { return };
        let weights = policy::node_weights(
            &self.spec,
            &self.nodes,
            &self.admin_drains(),
            policy::Forced {
                cluster: self.forced_last,
                nodes: Some(&self.pinned_last),
            },
            now,
        );
        let down: Vec<String> = self
            .spec
            .nodes
            .iter()
            .zip(&weights)
            .filter(|(_, w)| **w == 0)
            .map(|(n, _)| n.id())
            .collect();
        let panic = self.panic.active();
        if self.last_down == Some((down.len(), panic)) {
            return;
        }
        self.last_down = Some((down.len(), panic));
        let combined_weight = self
            .spec
            .nodes
            .iter()
            .map(|n| u64::from(applied_weight(&self.applied, n)))
            .sum();
        hook.send(on_change::Summary {
            cluster: self.ident.cluster.clone(),
            service: self.key.to_string(),
            total: self.spec.nodes.len(),
            down,
            combined_weight,
            override_state: self.forced_last,
            panic,
            at: status::unix_secs(SystemTime::now()),
        });
    }
}
