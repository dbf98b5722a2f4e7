//! The controller: the supervisor's one thread that owns the IPVS backend. Each tick it drains
//! health observations from the checker threads, asks the policy for the desired destinations,
//! reads the service's destinations once, applies the minimal set of changes, rewrites the status
//! file (the heartbeat) and sends `STATUS=`/`WATCHDOG=1`.
//!
//! Start-up order matters for "never half-started": the service is created (or adopted, with
//! the kernel's current weights, after a crash), then the first round of checks runs, bounded by
//! `check_timeout` and by the start budget, then the first apply, and only then `READY=1`.
//! Reload (SIGHUP) re-reads the spec and changes the service in place; a spec that does not
//! validate is refused and recorded, and the running one stays.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant, SystemTime};

use super::repr::{DestRepr, ServiceRepr};
use super::runtime::{self, Notifier};
use super::state::StateDir;
use super::status::{self, NodeStatus, ReloadStatus, Status};
use crate::ipvs::{Dest, DestEntry, Ipvs, IpvsError, Service, ServiceKey};
use crate::ocf::error::AgentError;
use crate::ocf::log;
use crate::spec::{self, Spec};

// PLACEHOLDER until the `health` branch lands (SUPERVISOR_CONTRACT.md): these come from
// supervisor::{checker, policy, reconcile} then, with the same shapes.
use placeholder::{apply, desired, reconcile, spawn, Checkers, NodeState, Observation};

/// `IP_VS_SVC_F_PERSISTENT` (`linux/ip_vs.h`).
const SVC_F_PERSISTENT: u32 = 0x0001;

/// Who this supervisor is (fixed for its life).
#[derive(Clone, Debug)]
pub struct Ident {
    pub cluster: String,
    pub instance: Option<String>,
    pub dry_run: bool,
    pub pid: i32,
    pub started_at: u64,
}

/// What a node last looked like, for the status file.
#[derive(Clone, Debug, Default)]
struct Seen {
    health: Option<f64>,
    latency: Option<Duration>,
    error: Option<String>,
    observed: bool,
    state: String,
    since: u64,
}

pub struct Controller {
    spec: Spec,
    digest: String,
    ident: Ident,
    ipvs: Box<dyn Ipvs + Send>,
    state: StateDir,
    notifier: Notifier,
    tx: Sender<Observation>,
    rx: Receiver<Observation>,
    checkers: Option<Checkers>,
    nodes: Vec<NodeState>,
    seen: Vec<Seen>,
    drained: BTreeSet<String>,
    applied: Vec<Dest>,
    tick: u64,
    reload: ReloadStatus,
    backend_error: Option<String>,
    ready: bool,
}

/// The kernel service a spec asks for.
pub fn service_of(spec: &Spec) -> Service {
    let (flags, timeout) = match spec.persistence_timeout {
        Some(t) => (
            SVC_F_PERSISTENT,
            u32::try_from(t.as_secs()).unwrap_or(u32::MAX),
        ),
        None => (0, 0),
    };
    Service {
        key: spec.service,
        scheduler: spec.scheduler.clone(),
        flags,
        timeout,
    }
}

impl Controller {
    pub fn new(
        spec: Spec,
        digest: String,
        ident: Ident,
        ipvs: Box<dyn Ipvs + Send>,
        state: StateDir,
        notifier: Notifier,
    ) -> Controller {
        let (tx, rx) = mpsc::channel();
        Controller {
            spec,
            digest,
            ident,
            ipvs,
            state,
            notifier,
            tx,
            rx,
            checkers: None,
            nodes: Vec::new(),
            seen: Vec::new(),
            drained: BTreeSet::new(),
            applied: Vec::new(),
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
        self.spec.service
    }

    /// How often the controller ticks: the check interval, but at least once a second so the
    /// heartbeat and ramp-up stay smooth, and at most ten times a second.
    fn tick_every(&self) -> Duration {
        self.spec
            .check_interval
            .clamp(Duration::from_millis(100), Duration::from_secs(1))
    }

    /// Programs the service, runs the first round of checks (bounded by `check_timeout` and half
    /// of `ready_within`), applies, writes the status file and sends `READY=1`.
    pub fn start(&mut self, ready_within: Duration) -> Result<(), AgentError> {
        let started = Instant::now();
        let existing = self.ensure_service()?;
        self.notify(&format!(
            "STATUS=programmed {}, checking {} nodes",
            self.key(),
            self.spec.nodes.len()
        ));
        self.start_nodes(&existing);
        let bound = (self.spec.check_timeout + Duration::from_millis(100)).min(ready_within / 2);
        self.first_round(started + bound);
        self.tick().map_err(|source| self.ipvs_err(source))?;
        fault_ready_delay();
        self.ready = true;
        self.write_status();
        self.notify(&format!(
            "READY=1\nSTATUS=running {} with {} destinations",
            self.key(),
            self.applied.len()
        ));
        log::info(format!(
            "{} ready: {} programmed with {} destinations in {} ms",
            self.ident.cluster,
            self.key(),
            self.applied.len(),
            started.elapsed().as_millis()
        ));
        Ok(())
    }

    /// Runs until SIGTERM/SIGINT: ticks, and reloads on SIGHUP.
    pub fn run(&mut self) {
        let mut next = Instant::now() + self.tick_every();
        while !runtime::stop_requested() {
            if runtime::take_reload_request() {
                self.reload_spec();
                next = Instant::now();
            }
            let now = Instant::now();
            if now >= next {
                if let Err(e) = self.tick() {
                    let msg = e.to_string();
                    if self.backend_error.as_deref() != Some(msg.as_str()) {
                        log::error(format!("cannot program {}: {msg}", self.key()));
                    }
                    self.backend_error = Some(msg);
                    self.write_status();
                }
                next = now + self.tick_every();
                continue;
            }
            // Wake at least every 100 ms to notice signals.
            let wait = (next - now).min(Duration::from_millis(100));
            match self.rx.recv_timeout(wait) {
                Ok(obs) => self.observe(obs),
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {}
            }
        }
    }

    /// Clean stop: checkers told to stop (not joined: a hung check must not delay the stop),
    /// the service deleted with its destinations, the status file removed.
    pub fn shutdown(mut self) -> Result<(), AgentError> {
        if let Some(c) = self.checkers.take() {
            c.stop();
        }
        let key = self.key();
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

    fn ipvs_err(&self, source: IpvsError) -> AgentError {
        AgentError::Ipvs {
            service: self.key().to_string(),
            source,
        }
    }

    /// Creates the service, or adopts an existing one (a restart after a crash) and brings its
    /// scheduler/persistence in line. Returns the destinations already there.
    fn ensure_service(&mut self) -> Result<Vec<DestEntry>, AgentError> {
        let want = service_of(&self.spec);
        let found = self.ipvs.service(&want.key).map_err(|e| self.ipvs_err(e))?;
        match found {
            None => {
                self.ipvs.add_service(&want).map_err(|e| self.ipvs_err(e))?;
                Ok(Vec::new())
            }
            Some(have) => {
                if have != want {
                    log::info(format!(
                        "{}: updating {} (scheduler {} → {})",
                        self.ident.cluster, want.key, have.scheduler, want.scheduler
                    ));
                    self.ipvs
                        .edit_service(&want)
                        .map_err(|e| self.ipvs_err(e))?;
                }
                let existing = self.ipvs.dests(&want.key).map_err(|e| self.ipvs_err(e))?;
                if !existing.is_empty() {
                    log::info(format!(
                        "{}: adopting {} existing destinations of {} with their weights",
                        self.ident.cluster,
                        existing.len(),
                        want.key
                    ));
                }
                Ok(existing)
            }
        }
    }

    /// (Re)starts the checkers for the current spec, with per-node state carried over by node id
    /// from `previous` (reload) or adopted from the backend's weights.
    fn start_nodes(&mut self, existing: &[DestEntry]) {
        self.start_nodes_keeping(existing, Vec::new());
    }

    fn start_nodes_keeping(
        &mut self,
        existing: &[DestEntry],
        previous: Vec<(String, NodeState, Seen)>,
    ) {
        if let Some(c) = self.checkers.take() {
            c.stop();
        }
        // A fresh channel: observations from the old checkers carry old node indices.
        let (tx, rx) = mpsc::channel();
        self.tx = tx;
        self.rx = rx;
        let now = Instant::now();
        let mut previous = previous;
        self.nodes.clear();
        self.seen.clear();
        for node in &self.spec.nodes {
            let id = node.id();
            if let Some(i) = previous.iter().position(|(pid, _, _)| *pid == id) {
                let (_, state, seen) = previous.swap_remove(i);
                self.nodes.push(state);
                self.seen.push(seen);
                continue;
            }
            let adopted = existing
                .iter()
                .find(|e| e.dest.addr == node.address && e.dest.port == node.real_port)
                .map(|e| e.dest.weight);
            self.nodes.push(NodeState::new(adopted, now));
            self.seen.push(Seen {
                state: "new".into(),
                since: status::unix_secs(SystemTime::now()),
                ..Seen::default()
            });
        }
        self.checkers = Some(spawn(&self.spec, self.tx.clone()));
    }

    /// Waits until every node has answered once, or `deadline`.
    fn first_round(&mut self, deadline: Instant) {
        loop {
            if self.seen.iter().all(|s| s.observed) || runtime::stop_requested() {
                return;
            }
            let now = Instant::now();
            if now >= deadline {
                let silent = self.seen.iter().filter(|s| !s.observed).count();
                log::warn(format!(
                    "{}: {silent} of {} nodes did not answer their first check in time; \
                     starting with what is known",
                    self.ident.cluster,
                    self.seen.len()
                ));
                return;
            }
            match self
                .rx
                .recv_timeout((deadline - now).min(Duration::from_millis(100)))
            {
                Ok(obs) => self.observe(obs),
                Err(_) => continue,
            }
        }
    }

    fn observe(&mut self, obs: Observation) {
        let Some(state) = self.nodes.get_mut(obs.node) else {
            return;
        };
        state.observe(&obs, &self.spec);
        let seen = &mut self.seen[obs.node];
        seen.observed = true;
        seen.latency = Some(obs.latency);
        match &obs.result {
            Ok(h) => {
                seen.health = Some(h.value);
                seen.error = None;
            }
            Err(e) => {
                seen.health = Some(0.0);
                seen.error = Some(e.to_string());
            }
        }
    }

    /// One controller step: observations → policy → one dump → reconcile → apply → status.
    fn tick(&mut self) -> Result<(), IpvsError> {
        while let Ok(obs) = self.rx.try_recv() {
            self.observe(obs);
        }
        let now = Instant::now();
        let want = desired(&self.spec, &self.nodes, &self.drained, now);
        let key = self.key();
        let current = match self.ipvs.dests(&key) {
            Ok(c) => c,
            Err(IpvsError::NotFound { .. }) => {
                // Someone deleted our service (`ipvsadm -C`): put it back.
                log::warn(format!(
                    "{}: {key} vanished; re-creating it",
                    self.ident.cluster
                ));
                self.ipvs.add_service(&service_of(&self.spec))?;
                Vec::new()
            }
            Err(e) => return Err(e),
        };
        let ops = reconcile(&want, &current);
        let changed = apply(self.ipvs.as_mut(), &key, &ops)?;
        if changed > 0 {
            log::debug(format!("{}: {changed} IPVS changes", self.ident.cluster));
        }
        self.applied = want;
        self.backend_error = None;
        self.tick += 1;
        self.update_node_states();
        self.write_status();
        self.notify(&format!(
            "STATUS=running {} with {} destinations\nWATCHDOG=1",
            key,
            self.applied.len()
        ));
        Ok(())
    }

    fn update_node_states(&mut self) {
        let now = status::unix_secs(SystemTime::now());
        for (i, node) in self.spec.nodes.iter().enumerate() {
            let weight = self.weight_of(node);
            let state = match (self.seen[i].observed, weight) {
                (false, _) => "unchecked",
                (true, 0) => "down",
                (true, _) => "up",
            };
            if self.seen[i].state != state {
                self.seen[i].state = state.to_string();
                self.seen[i].since = now;
            }
        }
    }

    fn weight_of(&self, node: &spec::Node) -> u32 {
        self.applied
            .iter()
            .find(|d| d.addr == node.address && d.port == node.real_port)
            .map(|d| d.weight)
            .unwrap_or(0)
    }

    fn status(&self) -> Status {
        let nodes = self
            .spec
            .nodes
            .iter()
            .zip(&self.seen)
            .map(|(n, s)| NodeStatus {
                id: n.id(),
                address: n.address,
                health: s.health,
                weight: self.weight_of(n),
                state: s.state.clone(),
                drained: self.drained.contains(&n.id()),
                last_latency_ms: s
                    .latency
                    .map(|l| u64::try_from(l.as_millis()).unwrap_or(u64::MAX)),
                last_error: s.error.clone(),
                since: s.since,
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
            updated_at: status::unix_secs(SystemTime::now()),
            check_interval_ms: u64::try_from(self.spec.check_interval.as_millis())
                .unwrap_or(u64::MAX),
            tick: self.tick,
            ready: self.ready,
            service: ServiceRepr::from(&service_of(&self.spec)),
            reload: self.reload.clone(),
            dests: self.applied.iter().map(DestRepr::from).collect(),
            backend_error: self.backend_error.clone(),
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
        match self.load_for_reload(&path) {
            Ok((spec, digest)) => match self.apply_spec(spec, digest) {
                Ok(()) => {
                    log::info(format!(
                        "{}: reloaded {} (generation {generation})",
                        self.ident.cluster,
                        path.display()
                    ));
                    self.reload = ReloadStatus {
                        generation,
                        ok: true,
                        error: None,
                        at,
                    };
                }
                Err(e) => {
                    log::error(format!("{}: reload failed: {e}", self.ident.cluster));
                    self.reload = ReloadStatus {
                        generation,
                        ok: false,
                        error: Some(e.to_string()),
                        at,
                    };
                }
            },
            Err(e) => {
                let msg = e.to_string().replace('\n', "; ");
                log::error(format!(
                    "{}: new spec refused, keeping the running one: {msg}",
                    self.ident.cluster
                ));
                self.reload = ReloadStatus {
                    generation,
                    ok: false,
                    error: Some(msg),
                    at,
                };
            }
        }
        self.write_status();
    }

    fn load_for_reload(&self, path: &std::path::Path) -> Result<(Spec, String), AgentError> {
        let (spec, digest) = load_spec(path)?;
        if spec.name != self.ident.cluster {
            return Err(AgentError::ClusterMismatch {
                file: path.to_path_buf(),
                spec: spec.name,
                param: self.ident.cluster.clone(),
            });
        }
        Ok((spec, digest))
    }

    /// Switches to `spec` in place. A different service key (a new fwmark or VIP:port) cannot be
    /// edited in the kernel: the new service is created and the old one deleted, as a restart
    /// would. Everything else (scheduler, persistence, nodes) changes in place.
    fn apply_spec(&mut self, spec: Spec, digest: String) -> Result<(), AgentError> {
        let old_key = self.key();
        let previous: Vec<(String, NodeState, Seen)> = self
            .spec
            .nodes
            .iter()
            .map(|n| n.id())
            .zip(std::mem::take(&mut self.nodes))
            .zip(std::mem::take(&mut self.seen))
            .map(|((id, n), s)| (id, n, s))
            .collect();
        self.spec = spec;
        self.digest = digest;
        let existing = self.ensure_service()?;
        if old_key != self.key() {
            log::warn(format!(
                "{}: service changed from {old_key} to {}; removing the old one",
                self.ident.cluster,
                self.key()
            ));
            match self.ipvs.del_service(&old_key) {
                Ok(()) | Err(IpvsError::NotFound { .. }) => {}
                Err(source) => {
                    return Err(AgentError::Ipvs {
                        service: old_key.to_string(),
                        source,
                    })
                }
            }
        }
        self.start_nodes_keeping(&existing, previous);
        self.tick().map_err(|e| self.ipvs_err(e))
    }
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
    while Instant::now() < end && !runtime::stop_requested() {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads and validates a spec, with the digest of the bytes it came from.
pub fn load_spec(path: &std::path::Path) -> Result<(Spec, String), AgentError> {
    let bytes = std::fs::read(path).map_err(|source| spec::SpecError::Read {
        file: PathBuf::from(path),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let spec = spec::parse(path, &text)?;
    Ok((spec, status::digest(&bytes)))
}

/// PLACEHOLDER until the `health` branch lands (SUPERVISOR_CONTRACT.md): the checker, policy and
/// reconcile shapes of the contract, with no HTTP at all — every node reports healthy once, at
/// once, and serves at its `max_weight` (or keeps an adopted weight until it answers). Replaced
/// wholesale by `supervisor::{checker, policy, reconcile}` when `health` is merged.
mod placeholder {
    use std::collections::BTreeSet;
    use std::net::IpAddr;
    use std::sync::mpsc::Sender;
    use std::time::{Duration, Instant};

    use crate::ipvs::{Dest, DestEntry, Ipvs, IpvsError, ServiceKey};
    use crate::spec::Spec;

    pub struct Health {
        pub value: f64,
    }

    pub struct Observation {
        pub node: usize,
        pub latency: Duration,
        pub result: Result<Health, String>,
    }

    pub struct Checkers;

    impl Checkers {
        pub fn stop(self) {}
    }

    pub fn spawn(spec: &Spec, tx: Sender<Observation>) -> Checkers {
        for node in 0..spec.nodes.len() {
            let _ = tx.send(Observation {
                node,
                latency: Duration::ZERO,
                result: Ok(Health { value: 100.0 }),
            });
        }
        Checkers
    }

    pub struct NodeState {
        adopted: Option<u32>,
        health: Option<f64>,
    }

    impl NodeState {
        pub fn new(adopted: Option<u32>, _now: Instant) -> NodeState {
            NodeState {
                adopted,
                health: None,
            }
        }

        pub fn observe(&mut self, obs: &Observation, _spec: &Spec) {
            self.health = Some(obs.result.as_ref().map(|h| h.value).unwrap_or(0.0));
        }
    }

    pub fn desired(
        spec: &Spec,
        states: &[NodeState],
        _drained: &BTreeSet<String>,
        _now: Instant,
    ) -> Vec<Dest> {
        spec.nodes
            .iter()
            .zip(states)
            .map(|(n, s)| Dest {
                addr: n.address,
                port: n.real_port,
                forward: spec.forward,
                weight: match s.health {
                    Some(h) if h > 0.0 => n.max_weight,
                    Some(_) => 0,
                    None => s.adopted.unwrap_or(0),
                },
                upper_threshold: 0,
                lower_threshold: 0,
            })
            .collect()
    }

    pub enum Op {
        Add(Dest),
        Edit(Dest),
        Del(IpAddr, u16),
    }

    pub fn reconcile(desired: &[Dest], current: &[DestEntry]) -> Vec<Op> {
        let mut ops = Vec::new();
        for d in desired {
            match current.iter().find(|c| c.dest.id() == d.id()) {
                None => ops.push(Op::Add(*d)),
                Some(c) if c.dest != *d => ops.push(Op::Edit(*d)),
                Some(_) => {}
            }
        }
        for c in current {
            if !desired.iter().any(|d| d.id() == c.dest.id()) {
                ops.push(Op::Del(c.dest.addr, c.dest.port));
            }
        }
        ops
    }

    pub fn apply(ipvs: &mut dyn Ipvs, key: &ServiceKey, ops: &[Op]) -> Result<usize, IpvsError> {
        for op in ops {
            match op {
                Op::Add(d) => ipvs.add_dest(key, d)?,
                Op::Edit(d) => ipvs.edit_dest(key, d)?,
                Op::Del(a, p) => ipvs.del_dest(key, *a, *p)?,
            }
        }
        Ok(ops.len())
    }
}
