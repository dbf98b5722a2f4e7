//! The controller: the supervisor's one thread that owns the IPVS backend. Each tick it drains
//! health observations from the checker threads, re-reads the drain set if it changed, asks the
//! policy for the desired destinations, reconciles them with one dump of the service, rewrites
//! the status file (the heartbeat) and sends `STATUS=`/`WATCHDOG=1`. A check result that changes
//! a node's weight pulls the next tick forward (at most ten ticks a second), so the kernel
//! follows a health change within one check interval, not up to a whole tick later.
//!
//! Start-up order matters for "never half-started": the service is created (or adopted, with
//! the kernel's current weights, after a crash), then the first round of checks runs, bounded by
//! one check interval plus `check_timeout` (the checkers stagger their first checks across the
//! interval) and by half the start budget, then the first apply, and only then `READY=1`.
//! Reload (SIGHUP) re-reads the spec and changes the service in place; a spec that does not
//! validate is refused and recorded, and the running one stays.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant, SystemTime};

use super::checker::{self, Checkers, Observation};
use super::on_change::{self, Hook};
use super::policy::{self, NodeState, Policy};
use super::reconcile;
use super::signals;
use crate::error::Error;
use crate::health::CheckError;
use crate::ipvs::{Dest, DestEntry, DestStats, Ipvs, IpvsError, Netmask, Service, ServiceKey};
use crate::log;
use crate::spec::{self, Spec};
use crate::state::drain;
use crate::state::notify::Notifier;
use crate::state::overrides::{self, Override};
use crate::state::repr::{DestRepr, ServiceRepr};
use crate::state::snapshot;
use crate::state::status::{self, CheckerStatus, NodeStatus, OverrideStatus, ReloadStatus, Status};
use crate::state::StateDir;

/// `IP_VS_SVC_F_PERSISTENT` (`linux/ip_vs.h`).
const SVC_F_PERSISTENT: u32 = 0x0001;

/// Least time between a tick and one a check result pulls forward: a cluster whose nodes'
/// health moves all the time still ticks at most ten times a second.
const MIN_TICK_GAP: Duration = Duration::from_millis(100);

/// Who this supervisor is (fixed for its life).
#[derive(Clone, Debug)]
pub struct Ident {
    pub cluster: String,
    pub instance: Option<String>,
    pub dry_run: bool,
    pub pid: i32,
    pub started_at: u64,
}

pub struct Controller {
    spec: Spec,
    key: ServiceKey,
    policy: Policy,
    digest: String,
    ident: Ident,
    ipvs: Box<dyn Ipvs + Send>,
    state: StateDir,
    notifier: Notifier,
    /// systemd-style watchdog requested (`WATCHDOG_USEC` for this process): ping every tick.
    watchdog: bool,
    tx: Sender<Observation>,
    rx: Receiver<Observation>,
    checkers: Option<Checkers>,
    nodes: Vec<NodeState>,
    /// Whether each node has answered (or failed) a check since the checkers started.
    observed: Vec<bool>,
    /// Per node: when its last check result came (or the checkers started).
    last_result: Vec<Instant>,
    /// Per node: when it was last counted as failed for having no result (`None` while its
    /// results come in time).
    silent_since: Vec<Option<Instant>>,
    /// Per node id: checker threads restarted or replaced since start (carried across reloads).
    restarts: BTreeMap<String, u64>,
    /// Why some checker cannot be kept running, while that lasts (`monitor` fails on it).
    checker_error: Option<String>,
    drains: drain::Watch,
    drained: BTreeSet<String>,
    drain_error: Option<String>,
    overrides: overrides::Watch,
    override_now: overrides::Current,
    override_error: Option<String>,
    hook: Option<Hook>,
    /// The down-node count of the last tick (`None` until the first, and after the hook
    /// changed), for `on_change`.
    last_down: Option<usize>,
    /// Per node id: checks and failed checks since start (carried across reloads by id).
    counters: BTreeMap<String, (u64, u64)>,
    applied: Vec<Dest>,
    /// Whether `applied` is what the backend held after the last tick (drift is measured
    /// against it): false before the first tick, after a failed one, and for a new service.
    applied_valid: bool,
    /// The kernel's counters per destination from the last tick's dump (connections per node
    /// in the status file).
    dest_stats: BTreeMap<(IpAddr, u16), DestStats>,
    drift: u64,
    tick: u64,
    reload: ReloadStatus,
    backend_error: Option<String>,
    ready: bool,
}

/// The kernel service a spec asks for.
pub fn service_of(spec: &Spec, key: ServiceKey) -> Service {
    let (flags, timeout) = match spec.persistence_timeout {
        Some(t) => (
            SVC_F_PERSISTENT,
            u32::try_from(t.as_secs()).unwrap_or(u32::MAX),
        ),
        None => (0, 0),
    };
    Service {
        key,
        scheduler: spec.scheduler.clone(),
        flags,
        timeout,
        netmask: Netmask::full(key.family()),
    }
}

impl Controller {
    pub fn new(
        run: spec::Runnable,
        ident: Ident,
        ipvs: Box<dyn Ipvs + Send>,
        state: StateDir,
        notifier: Notifier,
    ) -> Controller {
        let (tx, rx) = mpsc::channel();
        let drains = drain::Watch::new(drain::path(&ident.cluster));
        let overrides = overrides::Watch::new(&run.spec.override_dir, &ident.cluster);
        let hook = spawn_hook(&run.spec, &ident.cluster);
        Controller {
            policy: Policy::from_spec(&run.spec),
            spec: run.spec,
            key: run.key,
            digest: run.digest,
            ident,
            ipvs,
            state,
            notifier,
            watchdog: super::signals::watchdog_requested(),
            tx,
            rx,
            checkers: None,
            nodes: Vec::new(),
            observed: Vec::new(),
            last_result: Vec::new(),
            silent_since: Vec::new(),
            restarts: BTreeMap::new(),
            checker_error: None,
            drains,
            drained: BTreeSet::new(),
            drain_error: None,
            overrides,
            override_now: overrides::Current::default(),
            override_error: None,
            hook,
            last_down: None,
            counters: BTreeMap::new(),
            applied: Vec::new(),
            applied_valid: false,
            dest_stats: BTreeMap::new(),
            drift: 0,
            tick: 0,
            reload: ReloadStatus {
                generation: 0,
                ok: true,
                error: None,
                at: 0,
            },
            backend_error: None,
            ready: false,
        }
    }

    pub fn key(&self) -> ServiceKey {
        self.key
    }

    /// How often the controller ticks: the check interval, but at least once a second so the
    /// heartbeat and ramp-up stay smooth, and at most ten times a second.
    fn tick_every(&self) -> Duration {
        self.spec
            .check_interval
            .clamp(Duration::from_millis(100), Duration::from_secs(1))
    }

    /// Programs the service, runs the first round of checks, applies, writes the status file and
    /// sends `READY=1`.
    pub fn start(&mut self, ready_within: Duration) -> Result<(), Error> {
        let started = Instant::now();
        let existing = self.ensure_service()?;
        self.notify(&format!(
            "STATUS=programmed {}, checking {} nodes",
            self.key,
            self.spec.nodes.len()
        ));
        self.start_nodes(&existing, Vec::new())?;
        let round = self
            .spec
            .check_interval
            .saturating_add(self.spec.check_timeout.min(self.spec.check_interval))
            .saturating_add(Duration::from_millis(100));
        self.first_round(started + round.min(ready_within / 2));
        self.tick().map_err(|source| self.ipvs_err(source))?;
        fault_ready_delay();
        self.ready = true;
        self.write_status();
        self.notify(&format!(
            "READY=1\nSTATUS=running {} with {} destinations",
            self.key,
            self.applied.len()
        ));
        log::info(format!(
            "{} ready: {} programmed with {} destinations in {} ms",
            self.ident.cluster,
            self.key,
            self.applied.len(),
            started.elapsed().as_millis()
        ));
        Ok(())
    }

    /// Runs until SIGTERM/SIGINT: ticks, and reloads on SIGHUP. A check result that changes a
    /// node's weight brings the next tick forward ([`early_tick`]), so a health change reaches
    /// the kernel within one check interval rather than up to a whole tick after its check.
    pub fn run(&mut self) {
        let mut last = Instant::now();
        let mut next = last + self.tick_every();
        while !signals::stop_requested() {
            if signals::take_reload_request() {
                self.reload_spec();
                next = Instant::now() + self.tick_every();
            }
            let now = Instant::now();
            if now >= next {
                if let Err(e) = self.tick() {
                    let msg = e.to_string();
                    if self.backend_error.as_deref() != Some(msg.as_str()) {
                        log::error(format!("cannot program {}: {msg}", self.key));
                    }
                    self.backend_error = Some(msg);
                    self.write_status();
                }
                last = now;
                next = now + self.tick_every();
                continue;
            }
            // Wake at least every 100 ms to notice signals.
            let wait = (next - now).min(Duration::from_millis(100));
            match self.rx.recv_timeout(wait) {
                Ok(obs) => {
                    if self.observe(&obs) {
                        next = early_tick(next, last);
                    }
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {}
            }
        }
    }

    /// Clean stop: checkers told to stop (not joined: a hung check must not delay the stop),
    /// the service deleted with its destinations, the status file removed.
    pub fn shutdown(mut self) -> Result<(), Error> {
        drop(self.checkers.take());
        let key = self.key;
        let result = match self.ipvs.del_service(&key) {
            Ok(()) | Err(IpvsError::NotFound { .. }) => Ok(()),
            Err(source) => Err(self.ipvs_err(source)),
        };
        let _ = std::fs::remove_file(self.state.status());
        if result.is_ok() {
            log::info(format!("{}: removed {key}", self.ident.cluster));
        }
        result
    }

    fn ipvs_err(&self, source: IpvsError) -> Error {
        Error::Ipvs {
            service: self.key.to_string(),
            source,
        }
    }

    /// After a crash, `stop` kept the dead supervisor's weights (`supervisor::snapshot`): put the
    /// destinations of nodes still in the spec back at those weights, so they are adopted as if
    /// found in the kernel instead of ramping from 0.
    fn restore_snapshot(&mut self, key: &ServiceKey) -> Result<Vec<DestEntry>, Error> {
        let Some(dests) = snapshot::take(&self.state, key) else {
            return Ok(Vec::new());
        };
        let mut restored = Vec::new();
        for d in dests {
            let in_spec = self
                .spec
                .nodes
                .iter()
                .any(|n| n.address == d.addr && n.real_port == d.port);
            if !in_spec || d.weight == 0 {
                continue;
            }
            let d = Dest {
                forward: self.spec.forward,
                ..d
            };
            self.ipvs.add_dest(key, &d).map_err(|e| self.ipvs_err(e))?;
            restored.push(DestEntry {
                dest: d,
                stats: DestStats::default(),
            });
        }
        if !restored.is_empty() {
            log::info(format!(
                "{}: restored {} destinations of {key} with the weights they had when the previous supervisor died",
                self.ident.cluster,
                restored.len()
            ));
        }
        Ok(restored)
    }

    /// Creates the service, or adopts an existing one (a restart after a crash) and brings its
    /// scheduler/persistence in line. Returns the destinations already there.
    fn ensure_service(&mut self) -> Result<Vec<DestEntry>, Error> {
        let want = service_of(&self.spec, self.key);
        let found = self.ipvs.service(&want.key).map_err(|e| self.ipvs_err(e))?;
        let Some(have) = found else {
            self.ipvs.add_service(&want).map_err(|e| self.ipvs_err(e))?;
            return self.restore_snapshot(&want.key);
        };
        if have != want {
            log::info(format!(
                "{}: updating {} (scheduler {} → {}, persistence {}s → {}s)",
                self.ident.cluster,
                want.key,
                have.scheduler,
                want.scheduler,
                have.timeout,
                want.timeout
            ));
            self.ipvs
                .edit_service(&want)
                .map_err(|e| self.ipvs_err(e))?;
        }
        let existing = self.ipvs.dests(&want.key).map_err(|e| self.ipvs_err(e))?;
        if !existing.is_empty() && !self.ready {
            log::info(format!(
                "{}: adopting {} existing destinations of {} with their weights",
                self.ident.cluster,
                existing.len(),
                want.key
            ));
        }
        Ok(existing)
    }

    /// (Re)starts the checkers for the current spec. Per-node state is carried over by node id
    /// from `previous` (a reload); other nodes adopt their weight from `existing` (the backend).
    fn start_nodes(
        &mut self,
        existing: &[DestEntry],
        mut previous: Vec<(String, NodeState)>,
    ) -> Result<(), Error> {
        if let Some(c) = self.checkers.take() {
            c.stop();
        }
        // A fresh channel: observations from the old checkers carry old node indices.
        let (tx, rx) = mpsc::channel();
        self.tx = tx;
        self.rx = rx;
        let now = Instant::now();
        self.nodes.clear();
        self.observed.clear();
        self.last_result = vec![now; self.spec.nodes.len()];
        self.silent_since = vec![None; self.spec.nodes.len()];
        for node in &self.spec.nodes {
            let id = node.id();
            if let Some(i) = previous.iter().position(|(pid, _)| *pid == id) {
                self.nodes.push(previous.swap_remove(i).1);
                self.observed.push(true);
                continue;
            }
            let adopted = existing
                .iter()
                .find(|e| e.dest.addr == node.address && e.dest.port == node.real_port)
                .map(|e| e.dest.weight);
            self.nodes.push(NodeState::new(adopted, now));
            self.observed.push(false);
        }
        let checkers = checker::spawn(&self.spec, self.tx.clone()).map_err(|source| Error::Io {
            what: "cannot start checker threads for",
            path: self.spec.file.clone(),
            source,
        })?;
        self.checkers = Some(checkers);
        Ok(())
    }

    /// Waits until every node has been checked once, or `deadline`.
    fn first_round(&mut self, deadline: Instant) {
        loop {
            if self.observed.iter().all(|o| *o) || signals::stop_requested() {
                return;
            }
            let now = Instant::now();
            if now >= deadline {
                let silent = self.observed.iter().filter(|o| !**o).count();
                log::warn(format!(
                    "{}: {silent} of {} nodes not checked yet; starting with what is known",
                    self.ident.cluster,
                    self.observed.len()
                ));
                return;
            }
            if let Ok(obs) = self
                .rx
                .recv_timeout((deadline - now).min(Duration::from_millis(100)))
            {
                self.observe(&obs);
            }
        }
    }

    /// Takes one check result into account; true when it changed the node's own weight.
    fn observe(&mut self, obs: &Observation) -> bool {
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
    fn watch_checkers(&mut self, now: Instant) {
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
                },
                &self.policy,
            );
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

    /// One controller step: observations and drains → policy → one dump → minimal changes →
    /// status file.
    fn tick(&mut self) -> Result<(), IpvsError> {
        while let Ok(obs) = self.rx.try_recv() {
            self.observe(&obs);
        }
        self.watch_checkers(Instant::now());
        self.poll_drains();
        let now = Instant::now();
        self.poll_overrides(now);
        policy::apply_drains(&self.spec, &mut self.nodes, &self.drained, now);
        let ovr = self.override_now.state;
        let want = policy::desired_with_override(&self.spec, &self.nodes, &self.drained, ovr, now);
        let key = self.key;
        let last = self.applied_valid.then_some(self.applied.as_slice());
        self.applied_valid = false;
        let reconcile::Round { ops, drift, stats } =
            match reconcile::sync_counting_drift(self.ipvs.as_mut(), &key, &want, last) {
                Err(IpvsError::NotFound { .. }) => {
                    // Someone deleted our service (`ipvsadm -C`): put it back.
                    log::warn(format!(
                        "{}: {key} vanished; re-creating it",
                        self.ident.cluster
                    ));
                    self.ipvs.add_service(&service_of(&self.spec, key))?;
                    reconcile::sync_counting_drift(self.ipvs.as_mut(), &key, &want, None)?
                }
                other => other?,
            };
        if drift > 0 {
            log::warn(format!(
                "{}: {drift} changes to {key} made outside big_brother; undone",
                self.ident.cluster
            ));
            self.drift += drift as u64;
        }
        if !ops.is_empty() {
            log::debug(format!(
                "{}: {} IPVS changes",
                self.ident.cluster,
                ops.len()
            ));
        }
        self.applied = want;
        self.applied_valid = true;
        self.dest_stats = stats;
        self.notify_change(now);
        self.backend_error = None;
        self.tick += 1;
        self.write_status();
        let ping = if self.watchdog { "\nWATCHDOG=1" } else { "" };
        self.notify(&format!(
            "STATUS=running {key} with {} destinations{ping}",
            self.applied.len()
        ));
        Ok(())
    }

    fn poll_drains(&mut self) {
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

    /// Re-reads the override files; lifting a `down` override restarts the ramps (nobody had
    /// new connections meanwhile).
    fn poll_overrides(&mut self, now: Instant) {
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
            if self.override_now.state == Some(Override::Down) && cur.state.is_none() {
                for n in &mut self.nodes {
                    n.restart_ramp(now);
                }
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

    /// Hands a summary to the `on_change` hook when the count of down nodes changed.
    fn notify_change(&mut self, now: Instant) {
        let Some(hook) = &self.hook else { return };
        let weights = policy::node_weights(
            &self.spec,
            &self.nodes,
            &self.drained,
            self.override_now.state,
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
        if self.last_down == Some(down.len()) {
            return;
        }
        self.last_down = Some(down.len());
        let combined_weight = self
            .spec
            .nodes
            .iter()
            .map(|n| u64::from(self.weight_of(n)))
            .sum();
        hook.send(on_change::Summary {
            cluster: self.ident.cluster.clone(),
            service: self.key.to_string(),
            total: self.spec.nodes.len(),
            down,
            combined_weight,
            override_state: self.override_now.state,
            at: status::unix_secs(SystemTime::now()),
        });
    }

    fn weight_of(&self, node: &spec::Node) -> u32 {
        self.applied
            .iter()
            .find(|d| d.addr == node.address && d.port == node.real_port)
            .map(|d| d.weight)
            .unwrap_or(0)
    }

    fn status(&self) -> Status {
        let now = Instant::now();
        let now_unix = status::unix_secs(SystemTime::now());
        let nodes = self
            .spec
            .nodes
            .iter()
            .zip(&self.nodes)
            .map(|(n, s)| {
                let weight = self.weight_of(n);
                let sum = s.summary(&self.policy, n.max_weight, weight, now);
                let (checks, check_failures) =
                    self.counters.get(&n.id()).copied().unwrap_or_default();
                let stats = self.dest_stats.get(&(n.address, n.real_port));
                NodeStatus {
                    id: n.id(),
                    address: n.address,
                    health: sum.health,
                    weight,
                    state: sum.state,
                    drained: self.drained.contains(&n.id()),
                    last_latency_ms: sum.last_latency_ms,
                    last_error: sum.last_error,
                    forced_reason: sum.forced_reason,
                    since: now_unix.saturating_sub(sum.since_secs as u64),
                    checks,
                    check_failures,
                    max_weight: Some(n.max_weight),
                    active_conns: stats.map(|s| s.active_conns),
                    inactive_conns: stats.map(|s| s.inactive_conns),
                }
            })
            .collect();
        Status {
            cluster: self.ident.cluster.clone(),
            instance: self.ident.instance.clone(),
            pid: self.ident.pid,
            config: self.spec.file.clone(),
            config_digest: self.digest.clone(),
            dry_run: self.ident.dry_run,
            started_at: self.ident.started_at,
            updated_at: now_unix,
            check_interval_ms: u64::try_from(self.spec.check_interval.as_millis())
                .unwrap_or(u64::MAX),
            tick: self.tick,
            ready: self.ready,
            service: ServiceRepr::from(&service_of(&self.spec, self.key)),
            reload: self.reload.clone(),
            dests: self.applied.iter().map(DestRepr::from).collect(),
            backend_error: self.backend_error.clone(),
            drain_error: self.drain_error.clone(),
            drift: self.drift,
            override_state: self.override_now.state.map(|state| {
                let (up, down) = self.overrides.paths();
                OverrideStatus {
                    state,
                    file: if state == Override::Up { up } else { down }.to_path_buf(),
                    reason: self.override_now.reason.clone(),
                }
            }),
            override_error: self.override_error.clone(),
            on_change: self.hook.as_ref().map(Hook::stats),
            checkers: CheckerStatus {
                restarts: self
                    .restarts
                    .values()
                    .fold(0u64, |a, n| a.saturating_add(*n)),
                restarted: self.restarts.clone(),
                error: self.checker_error.clone(),
            },
            nodes,
        }
    }

    fn write_status(&self) {
        // Only a ready supervisor publishes: monitor reads "no status" as "still starting".
        if !self.ready {
            return;
        }
        if let Err(e) = self.status().write(&self.state.status()) {
            log::error(format!(
                "cannot write {}: {e}",
                self.state.status().display()
            ));
        }
    }

    fn notify(&self, msg: &str) {
        if let Err(e) = self.notifier.notify(msg) {
            // Normal once `start` has returned and removed its socket.
            log::debug(format!("sd_notify: {e}"));
        }
    }

    /// SIGHUP: re-read the spec (from the path `reload-agent` handed over, or the current one),
    /// apply it in place, and record the outcome for `reload-agent` in the status file.
    fn reload_spec(&mut self) {
        let path = match self.state.read_params() {
            Ok(Some(p)) => p.config,
            Ok(None) => self.spec.file.clone(),
            Err(e) => {
                log::warn(format!(
                    "ignoring unreadable {}: {e}",
                    self.state.params().display()
                ));
                self.spec.file.clone()
            }
        };
        let generation = self.reload.generation + 1;
        let at = status::unix_secs(SystemTime::now());
        let outcome = spec::load_runnable(&path, &self.ident.cluster)
            .map_err(Error::from)
            .and_then(|r| self.apply_spec(r));
        self.reload = match outcome {
            Ok(()) => {
                log::info(format!(
                    "{}: reloaded {} (generation {generation})",
                    self.ident.cluster,
                    path.display()
                ));
                ReloadStatus {
                    generation,
                    ok: true,
                    error: None,
                    at,
                }
            }
            Err(e) => {
                let msg = e.to_string().replace('\n', "; ");
                log::error(format!(
                    "{}: new spec refused, keeping the running one: {msg}",
                    self.ident.cluster
                ));
                ReloadStatus {
                    generation,
                    ok: false,
                    error: Some(msg),
                    at,
                }
            }
        };
        self.write_status();
    }

    /// Switches to a new spec in place. A different service key (a new fwmark or VIP:port)
    /// cannot be edited in the kernel: the new service is created and the old one deleted, as a
    /// restart would. Everything else (scheduler, persistence, nodes) changes in place, and
    /// nodes that stay keep their state (weights, ramps, damping counters).
    fn apply_spec(&mut self, run: spec::Runnable) -> Result<(), Error> {
        let old_key = self.key;
        let old_spec = std::mem::replace(&mut self.spec, run.spec);
        let previous: Vec<(String, NodeState)> = old_spec
            .nodes
            .iter()
            .map(|n| n.id())
            .zip(std::mem::take(&mut self.nodes))
            .collect();
        self.key = run.key;
        if self.key != old_key {
            // A new service: what was applied to the old one says nothing about it.
            self.applied_valid = false;
        }
        self.digest = run.digest;
        self.policy = Policy::from_spec(&self.spec);
        if self.spec.override_dir != old_spec.override_dir {
            self.overrides = overrides::Watch::new(&self.spec.override_dir, &self.ident.cluster);
        }
        match (&mut self.hook, &self.spec.on_change) {
            (Some(h), Some(cmd)) => h.set_command(cmd.clone()),
            (None, Some(_)) => {
                // A new hook starts by hearing the current state, as at start.
                self.hook = spawn_hook(&self.spec, &self.ident.cluster);
                self.last_down = None;
            }
            (_, None) => self.hook = None,
        }
        let existing = self.ensure_service()?;
        if old_key != self.key {
            log::warn(format!(
                "{}: service changed from {old_key} to {}; removing the old one",
                self.ident.cluster, self.key
            ));
            match self.ipvs.del_service(&old_key) {
                Ok(()) | Err(IpvsError::NotFound { .. }) => {}
                Err(source) => {
                    return Err(Error::Ipvs {
                        service: old_key.to_string(),
                        source,
                    })
                }
            }
        }
        self.start_nodes(&existing, previous)?;
        self.tick().map_err(|e| self.ipvs_err(e))
    }
}

/// The `on_change` hook's thread, if the spec has one (a thread that cannot start is logged: a
/// notifier is never worth failing the cluster for).
fn spawn_hook(spec: &Spec, cluster: &str) -> Option<Hook> {
    let cmd = spec.on_change.clone()?;
    match Hook::spawn(cmd, cluster) {
        Ok(h) => Some(h),
        Err(e) => {
            log::error(format!("{cluster}: cannot start the on_change thread: {e}"));
            None
        }
    }
}

/// When to tick once a check result changed a weight, the last tick having been at `last` and
/// the next one planned at `next`: at once (a time already past), but never sooner than
/// [`MIN_TICK_GAP`] after `last`, and never later than planned.
fn early_tick(next: Instant, last: Instant) -> Instant {
    next.min(last + MIN_TICK_GAP)
}

/// Test-only fault knob (as Pacemaker's Dummy has `op_sleep`): `BIG_BROTHER_FAULT_READY_DELAY_MS`
/// delays `READY=1` after the service is programmed, so tests can drive a start past its
/// timeout and check that nothing is left behind. Unset in production; a stop still ends it.
fn fault_ready_delay() {
    let Some(ms) = std::env::var("BIG_BROTHER_FAULT_READY_DELAY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return;
    };
    log::warn(format!("fault knob: delaying READY by {ms} ms"));
    let end = Instant::now() + Duration::from_millis(ms);
    while Instant::now() < end && !signals::stop_requested() {
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::{Health, Phase};
    use crate::ipvs::memory::Memory;
    use std::path::Path;

    /// A controller with one node (not checked yet) and an in-memory table; no threads.
    fn controller(dir: &Path) -> Controller {
        controller_with(dir, "")
    }

    /// The same, with more top-level spec keys.
    fn controller_with(dir: &Path, keys: &str) -> Controller {
        let text = format!(
            "name = \"t\"\nfwmark = 7\ncheck_interval = \"1s\"\nramp_up_time = \"1ms\"\n{keys}\n\
             [[vip]]\naddress = \"192.0.2.7\"\n\
             [[node]]\naddress = \"198.51.100.1\"\nport = 9\n"
        );
        let text = text.as_str();
        let spec = spec::parse(&dir.join("t.toml"), text).unwrap();
        let key = *spec.runnable().unwrap();
        let run = spec::Runnable {
            spec,
            key,
            digest: String::new(),
        };
        let ident = Ident {
            cluster: "t".into(),
            instance: None,
            dry_run: true,
            pid: 1,
            started_at: 0,
        };
        let mut c = Controller::new(
            run,
            ident,
            Box::new(Memory::new()),
            StateDir::at(dir),
            Notifier::None,
        );
        c.nodes = vec![NodeState::new(None, Instant::now())];
        c.observed = vec![false];
        c.last_result = vec![Instant::now()];
        c.silent_since = vec![None];
        c
    }

    fn obs(node: usize, result: Result<Health, CheckError>) -> Observation {
        Observation {
            node,
            at: Instant::now(),
            latency: Duration::from_millis(1),
            result,
        }
    }

    #[test]
    fn a_check_result_that_changes_the_weight_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = controller(dir.path());
        let closed = || Err(CheckError::Closed { phase: Phase::Head });
        assert!(
            c.observe(&obs(0, Ok(Health::new(50.0)))),
            "a new node comes up"
        );
        assert!(c.observed[0]);
        std::thread::sleep(Duration::from_millis(5)); // past the 1 ms ramp
        assert!(!c.observe(&obs(0, Ok(Health::new(50.0)))), "same health");
        assert!(c.observe(&obs(0, Ok(Health::new(20.0)))), "lower health");
        assert!(c.observe(&obs(0, closed())), "the node goes down");
        assert!(!c.observe(&obs(0, closed())), "still down");
        assert!(!c.observe(&obs(3, Ok(Health::new(50.0)))), "no such node");
    }

    #[test]
    fn an_early_tick_is_prompt_but_rate_limited() {
        let last = Instant::now();
        let gap = MIN_TICK_GAP;
        assert_eq!(early_tick(last + Duration::from_secs(1), last), last + gap);
        assert_eq!(early_tick(last + gap / 2, last), last + gap / 2);
    }

    /// A node's connection counts come from the tick's dump of its destination: none before
    /// the first dump that holds it, then what the backend reports.
    #[test]
    fn status_carries_the_dumps_connection_counts() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = controller(dir.path());
        let n = &c.status().nodes[0];
        assert_eq!(
            (n.max_weight, n.active_conns, n.inactive_conns),
            (Some(100), None, None)
        );
        c.tick().unwrap(); // creates the service: its dump was empty
        c.tick().unwrap();
        let n = &c.status().nodes[0];
        assert_eq!(
            (n.active_conns, n.inactive_conns),
            (Some(0), Some(0)),
            "the memory table counts no connections"
        );
        let node = &c.spec.nodes[0];
        let id = (node.address, node.real_port);
        assert!(c.dest_stats.contains_key(&id), "{:?}", c.dest_stats);
        c.dest_stats.insert(
            id,
            DestStats {
                active_conns: 12,
                inactive_conns: 40,
                ..DestStats::default()
            },
        );
        let n = &c.status().nodes[0];
        assert_eq!((n.active_conns, n.inactive_conns), (Some(12), Some(40)));
    }

    /// Issue 12: a node whose checker stopped reporting must not keep its weight. After
    /// `stale_after` without a result it counts as failed, once per interval, through the
    /// normal policy (`fall` applies), and a result brings it back to normal.
    #[test]
    fn a_node_without_results_counts_as_failed_once_per_interval() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = controller_with(dir.path(), "fall = 2");
        let sec = Duration::from_secs(1);
        let t0 = Instant::now();
        c.observe(&Observation {
            at: t0,
            ..obs(0, Ok(Health::new(80.0)))
        });
        std::thread::sleep(Duration::from_millis(5)); // past the 1 ms ramp
        assert_eq!(c.nodes[0].weight(&c.policy, 100, Instant::now()), 80);
        let bound = checker::stale_after(sec, sec);
        assert_eq!(bound, 3 * sec, "2 × 1 s + 1 s");
        c.watch_checkers(t0 + bound);
        assert_eq!(
            c.nodes[0].fails(),
            0,
            "not silent for longer than the bound yet"
        );
        c.watch_checkers(t0 + bound + sec / 10);
        assert_eq!(
            c.nodes[0].fails(),
            1,
            "one failure, fall = 2: still serving"
        );
        assert_eq!(c.nodes[0].mode(), policy::Mode::Up);
        c.watch_checkers(t0 + bound + sec / 2);
        assert_eq!(c.nodes[0].fails(), 1, "at most one failure per interval");
        c.watch_checkers(t0 + bound + sec * 11 / 10);
        assert_eq!(
            c.nodes[0].mode(),
            policy::Mode::Down,
            "fall reached: weight 0"
        );
        let later = t0 + bound + sec * 2;
        let sum = c.nodes[0].summary(&c.policy, 100, 0, later);
        assert_eq!(
            sum.last_error.as_deref(),
            Some("no check result for 4 s (its checker stopped reporting)")
        );
        assert_eq!(
            c.counters.get("198.51.100.1").copied(),
            Some((1, 0)),
            "only real checks are counted as checks"
        );
        // A result again: normal service, and no more failures from silence.
        c.observe(&Observation {
            at: later,
            ..obs(0, Ok(Health::new(80.0)))
        });
        assert_eq!(c.silent_since[0], None);
        assert_eq!(c.nodes[0].mode(), policy::Mode::Up);
        c.watch_checkers(later + sec);
        assert_eq!(c.nodes[0].mode(), policy::Mode::Up);
    }

    /// A reload reads its spec once, bounded, and only from a regular file: a path swapped for
    /// a device between the agent's check and the supervisor's read is refused, not read
    /// without end.
    #[test]
    fn a_runnable_spec_comes_from_one_bounded_read_of_a_regular_file() {
        let t = Instant::now();
        let e = spec::load_runnable(Path::new("/dev/zero"), "t")
            .err()
            .unwrap();
        assert!(t.elapsed() < Duration::from_secs(1), "{e}");
        assert!(e.to_string().contains("/dev/zero"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let text = "name = \"t\"\nfwmark = 7\n[[vip]]\naddress = \"192.0.2.7\"\n\
                    [[node]]\naddress = \"198.51.100.1\"\nport = 9\n";
        let file = dir.path().join("t.toml");
        std::fs::write(&file, text).unwrap();
        let run = spec::load_runnable(&file, "t").unwrap();
        assert_eq!(run.digest, spec::source::digest(text.as_bytes()));
    }
}
