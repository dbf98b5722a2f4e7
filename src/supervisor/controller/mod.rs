//! The controller: the supervisor's one thread that owns the IPVS backend. Each tick it drains
//! health observations from the checker threads, re-reads the drain set if it changed, asks the
//! policy for the desired destinations, reconciles them with one dump of the service, rewrites
//! the status file when its content changed (else only the one-line heartbeat, see
//! [`Controller::write_status`]) and sends `STATUS=`/`WATCHDOG=1`. Between ticks it sleeps on
//! its wake (an eventfd) until the next tick, a check result that may change a weight (which
//! pulls the next tick forward, at most ten ticks a second, so the kernel follows a health change
//! within one check interval, not up to a whole tick later), or a stop or reload request.
//!
//! Start-up order matters for "never half-started": the service is created (or adopted, with
//! the kernel's current weights, after a crash), then the first round of checks runs, bounded by
//! one check interval plus `check_timeout` (the checkers stagger their first checks across the
//! interval) and by half the start budget, then the first apply, and only then `READY=1`.
//! Reload (SIGHUP) re-reads the spec and changes the service in place; a spec that does not
//! validate is refused and recorded, and the running one stays.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::bell::Bell;
use super::checker::{Checkers, Observation};
use super::cib_watch::{CibWatch, Seen};
use super::context::{Context, Ident};
use super::control::Control;
use super::on_change::Hook;
use super::panic::{self, Panic, Share};
use super::plan;
use super::policy::{self, NodeState, Policy};
use super::reconcile;
use super::wake::Wake;
use crate::error::Error;
use crate::ipvs::{Dest, DestStats, Ipvs, IpvsError, ServiceKey};
use crate::log;
use crate::spec::{self, Spec};
use crate::state::drain;
use crate::state::heartbeat::{self, Beat, Identity};
use crate::state::lock::{Kept, Lock};
use crate::state::notify::Notifier;
use crate::state::overrides::{self};
use crate::state::status::{self, ReloadStatus, Status, STALE_MIN};
use crate::state::StateDir;

/// Least time between a tick and one a check result pulls forward: a cluster whose nodes'
/// health moves all the time still ticks at most ten times a second.
const MIN_TICK_GAP: Duration = Duration::from_millis(100);

/// Longest time `status.json` goes unrewritten while its content stays the same (the heartbeat
/// carries each tick meanwhile): the counters and connection counts in it are at most this old,
/// and a reader that ignores the heartbeat (an older release's, or a torn heartbeat) still sees
/// a stamp well within `monitor`'s staleness bound — at most half of its floor, so `monitor`'s
/// verdicts cannot change whichever of the two it goes by.
pub const STATUS_REFRESH: Duration = Duration::from_secs(5);
const _: () = assert!(STATUS_REFRESH.as_millis() * 2 <= STALE_MIN.as_millis());

// An idle controller ticks once per check interval ([`Controller::tick_every`]), and `monitor`
// calls a heartbeat stale only after `STALE_INTERVALS` of them: two intervals of slack.
const _: () = assert!(status::STALE_INTERVALS >= 3);

/// What `status.json` holds, as last written by this supervisor.
struct Published {
    /// The file's identity right after the write (the heartbeat names it).
    id: Identity,
    at: Instant,
    /// [`Status::content`] of what was written.
    content: Status,
}

/// The supervisor's one thread that owns the backend: its state, and the loop.
pub struct Controller {
    spec: Spec,
    key: ServiceKey,
    policy: Policy,
    digest: String,
    ident: Ident,
    ipvs: Box<dyn Ipvs + Send>,
    state: StateDir,
    notifier: Notifier,
    control: Control,
    lock: Option<Lock>,
    /// systemd-style watchdog requested (`WATCHDOG_USEC` for this process): ping every tick.
    watchdog: bool,
    tx: Sender<Observation>,
    rx: Receiver<Observation>,
    /// Rung by a checker whose result may change a weight (see [`super::bell`]).
    bell: Arc<Bell>,
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
    /// The drain file's set (administrative drains).
    drained: BTreeSet<String>,
    /// The watch on the cluster-wide drains in the CIB (`None`: not watched), and what it saw
    /// last (its drains apply, alongside the drain file's).
    cib: Option<CibWatch>,
    cib_seen: Seen,
    /// Node ids whose agent check said `drain` last: weight 0 like an administrative drain.
    agent_drained: BTreeSet<String>,
    /// Per node id: the last check's output (exec, agent), for status.
    outputs: BTreeMap<String, String>,
    drain_error: Option<String>,
    overrides: overrides::Watch,
    override_now: overrides::Current,
    override_error: Option<String>,
    /// The cluster-wide override in force at the last tick (files and CIB together) and the
    /// CIB's node overrides then (node id → weight): what the tick applied.
    forced_last: Option<overrides::Override>,
    pinned_last: BTreeMap<String, u32>,
    hook: Option<Hook>,
    /// The down-node count and panic flag of the last tick (`None` until the first, and after
    /// the hook changed), for `on_change`.
    last_down: Option<(usize, bool)>,
    /// The panic threshold's state, and the healthy share of the last tick.
    panic: Panic,
    share: Share,
    /// Nodes a reload took out, kept at weight 0 until their connections end (issue 15).
    removing: BTreeMap<plan::DestKey, plan::Removing>,
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
    /// Some node was still ramping at the last tick: the weight applied then is not its last,
    /// and only another tick brings the rest of the ramp (or its end) to the kernel.
    climbing: bool,
    /// The status file as last written; `None` before the first write and after a failed one
    /// (no heartbeat is written then: it would vouch for a status that is not current).
    published: Option<Published>,
    heartbeat: heartbeat::Writer,
    /// Announces synced connections to destinations just added (see [`resync`]).
    rebind: resync::Worker,
}

mod reload;
mod resync;
mod start;
#[cfg(test)]
mod tests;
mod watch;

impl Controller {
    pub fn new(run: spec::Runnable, ipvs: Box<dyn Ipvs + Send>, ctx: Context) -> Controller {
        let Context {
            ident,
            state,
            notifier,
            control,
            drain_file,
            watch_cib,
            lock,
        } = ctx;
        let (tx, rx) = mpsc::channel();
        let bell = Arc::new(Bell::with_wake(control.wake(), 0));
        let heartbeat = heartbeat::Writer::new(state.heartbeat());
        let drains = drain::Watch::new(drain_file);
        let overrides = overrides::Watch::new(&run.spec.override_dir, &ident.cluster);
        let hook = spawn_hook(&run.spec, &ident.cluster);
        let cib = watch_cib
            .then(|| {
                let managed = ident.instance.as_deref().is_some_and(|i| !i.is_empty());
                spawn_cib_watch(
                    &ident.cluster,
                    run.spec.check_interval,
                    managed,
                    control.wake(),
                )
            })
            .flatten();
        Controller {
            policy: Policy::from_spec(&run.spec),
            spec: run.spec,
            key: run.key,
            digest: run.digest,
            ident,
            ipvs,
            state,
            notifier,
            control,
            lock,
            watchdog: super::signals::watchdog_requested(),
            tx,
            rx,
            bell,
            checkers: None,
            nodes: Vec::new(),
            observed: Vec::new(),
            last_result: Vec::new(),
            silent_since: Vec::new(),
            restarts: BTreeMap::new(),
            checker_error: None,
            drains,
            drained: BTreeSet::new(),
            cib,
            cib_seen: Seen::default(),
            agent_drained: BTreeSet::new(),
            outputs: BTreeMap::new(),
            drain_error: None,
            overrides,
            override_now: overrides::Current::default(),
            override_error: None,
            forced_last: None,
            pinned_last: BTreeMap::new(),
            hook,
            last_down: None,
            panic: Panic::default(),
            share: Share::default(),
            removing: BTreeMap::new(),
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
            climbing: false,
            published: None,
            heartbeat,
            rebind: resync::Worker::default(),
        }
    }

    pub fn key(&self) -> ServiceKey {
        self.key
    }

    /// How often the controller ticks. While something moves with time (see
    /// [`Controller::moving`]) it is the check interval, but at least once a second so ramps,
    /// removals and the panic's exit stay smooth, and at most ten times a second. Otherwise it
    /// is the check interval: nothing then changes a weight but a check result that rings (it
    /// brings the tick forward), a drain or override (the CIB watch rings too; the files are
    /// polled each tick, so within one interval, as the CIB's drains), a reload or a stop (each
    /// wakes the controller). The heartbeat is then up to an interval old, a third of what
    /// `monitor` allows. At a 20 s interval a hundred idle supervisors did a hundred ticks a
    /// second — a dump of the kernel's service and a heartbeat write each — where keepalived
    /// does nothing between checks (issue 18).
    fn tick_every(&self) -> Duration {
        let busy = self
            .spec
            .check_interval
            .clamp(Duration::from_millis(100), Duration::from_secs(1));
        if self.moving() {
            busy
        } else {
            self.spec.check_interval.max(busy)
        }
    }

    /// Whether the next ticks may change something by time alone, or must repeat soon: a node
    /// that was ramping at the last tick (judged at that tick's time, not now: a ramp that
    /// ended since still needs the tick that applies its end), a removal waiting for its
    /// connections, the panic (its exit is held over ticks), a failed or not yet valid apply
    /// (retried each tick), not yet ready, or a watchdog to ping.
    fn moving(&self) -> bool {
        !self.ready
            || !self.applied_valid
            || self.backend_error.is_some()
            || self.watchdog
            || !self.removing.is_empty()
            || self.panic.active()
            || self.climbing
    }

    /// Runs until SIGTERM/SIGINT: ticks, and reloads on SIGHUP. A check result that changes a
    /// node's weight, or a CIB read that changed the drains or overrides, brings the next tick
    /// forward ([`early_tick`]), so a change reaches the kernel at once rather than up to a
    /// whole tick later.
    pub fn run(&mut self) {
        let mut last = Instant::now();
        let mut next = last + self.tick_every();
        while !self.control.stop_requested() {
            if self.control.take_reload() {
                self.reload_spec();
                let now = Instant::now();
                next = now + self.tick_every();
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
            // Asleep until the tick, unless a checker rings (a result that may change a weight;
            // the others wait in the channel for the tick), the CIB watch rings (new drains or
            // overrides) or a stop or reload is asked for.
            if self.bell.wait(next - now) {
                let mut changed = self.cib.as_ref().is_some_and(CibWatch::take_news);
                while let Ok(obs) = self.rx.try_recv() {
                    changed |= self.observe(&obs);
                }
                if changed {
                    next = early_tick(next, last);
                }
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
        self.heartbeat.remove();
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

    /// One controller step: observations and drains → policy → one dump → minimal changes →
    /// status file.
    fn tick(&mut self) -> Result<(), IpvsError> {
        while let Ok(obs) = self.rx.try_recv() {
            self.observe(&obs);
        }
        self.watch_checkers(Instant::now());
        self.poll_drains();
        self.poll_cib();
        let now = Instant::now();
        self.poll_overrides();
        self.follow_forced(now);
        let drained = self.drains_in_force();
        policy::apply_drains(&self.spec, &mut self.nodes, &drained, now);
        self.step_panic(&drained, now);
        self.finish_removals(now);
        let forced = policy::Forced {
            cluster: self.forced_last,
            nodes: Some(&self.pinned_last),
        };
        let mut want = policy::desired_in(
            &self.spec,
            &self.nodes,
            &drained,
            forced,
            self.panic.active(),
            now,
        );
        policy::note_applied(&self.spec, &mut self.nodes, &want);
        self.climbing = self
            .nodes
            .iter()
            .zip(&self.spec.nodes)
            .any(|(n, node)| n.ramping(&self.policy, node.max_weight, now));
        // Nodes being removed keep their destination at weight 0 until their connections end.
        want.extend(
            self.removing
                .values()
                .filter(|r| !want.iter().any(|d| d.id() == r.dest.id()))
                .map(|r| r.dest)
                .collect::<Vec<_>>(),
        );
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
                    self.ipvs.add_service(&plan::service_of(&self.spec, key))?;
                    reconcile::sync_counting_drift(self.ipvs.as_mut(), &key, &want, None)?
                }
                other => other?,
            };
        let added: Vec<Dest> = ops
            .iter()
            .filter_map(|op| match op {
                reconcile::Op::Add(d) => Some(*d),
                _ => None,
            })
            .collect();
        self.rebind_synced(&added);
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
        self.keep_lock();
        self.write_status();
        let ping = if self.watchdog { "\nWATCHDOG=1" } else { "" };
        self.notify(&format!(
            "STATUS=running {key} with {} destinations{ping}",
            self.applied.len()
        ));
        Ok(())
    }

    /// The panic threshold's step for this tick, said loudly when it changes mode: an error
    /// line on entry (health is being ignored), a warning on the way out.
    fn step_panic(&mut self, drained: &BTreeSet<String>, now: Instant) {
        let share = Share::of(&self.spec, &self.nodes, drained);
        self.share = share;
        let threshold = self.spec.panic_threshold;
        match self
            .panic
            .step(threshold, share, self.spec.check_interval, now)
        {
            Some(panic::Transition::Entered) => log::error(format!(
                "{}: PANIC: {} of {} nodes healthy ({:.0} %, below panic_threshold {threshold} %): \
                 health is not trusted; nodes that still answer TCP keep their last good weight",
                self.ident.cluster,
                share.healthy,
                share.counted,
                share.percent()
            )),
            Some(panic::Transition::Left) => log::warn(format!(
                "{}: panic over: {} of {} nodes healthy ({:.0} %); weights follow health again",
                self.ident.cluster,
                share.healthy,
                share.counted,
                share.percent()
            )),
            None => {}
        }
    }

    /// Ends the removals that are over by the last dump's counters: their destinations are
    /// left out of this tick's desired set, so this tick deletes them.
    fn finish_removals(&mut self, now: Instant) {
        for (key, end) in plan::removals_due(&self.removing, &self.dest_stats, now) {
            let Some(r) = self.removing.remove(&key) else {
                continue;
            };
            let waited = now.saturating_duration_since(r.since).as_secs();
            match end {
                plan::RemovalEnd::Drained => log::info(format!(
                    "{}: node {} removed: no active connections left after {waited} s",
                    self.ident.cluster, r.id
                )),
                plan::RemovalEnd::TimedOut { active } => log::warn(format!(
                    "{}: node {} removed after removal_timeout ({waited} s) with {active} active connections left",
                    self.ident.cluster, r.id
                )),
                plan::RemovalEnd::Gone => log::info(format!(
                    "{}: node {} being removed: its destination was already gone",
                    self.ident.cluster, r.id
                )),
            }
        }
    }

    /// Drains from the drain file, the CIB and agent checks: the policy treats them alike.
    fn drains_in_force(&self) -> BTreeSet<String> {
        let mut all = self.admin_drains();
        all.extend(self.agent_drained.iter().cloned());
        all
    }

    /// Drains an operator made: this director's drain file and the CIB's, together.
    fn admin_drains(&self) -> BTreeSet<String> {
        let mut all = self.drained.clone();
        all.extend(self.cib_seen.drains.keys().cloned());
        all
    }

    fn status(&self) -> Status {
        let (up, down) = self.overrides.paths();
        let drained = self.drains_in_force();
        let view = plan::View {
            spec: &self.spec,
            key: self.key,
            policy: &self.policy,
            digest: &self.digest,
            ident: &self.ident,
            nodes: &self.nodes,
            applied: &self.applied,
            counters: &self.counters,
            dest_stats: &self.dest_stats,
            drained: &drained,
            outputs: &self.outputs,
            tick: self.tick,
            ready: self.ready,
            reload: &self.reload,
            backend_error: self.backend_error.as_deref(),
            drain_error: self.drain_error.as_deref(),
            local_drains: &self.drained,
            cib: self.cib.is_some().then_some(&self.cib_seen),
            drift: self.drift,
            override_now: &self.override_now,
            override_files: (up, down),
            override_error: self.override_error.as_deref(),
            hook: self.hook.as_ref().map(Hook::stats),
            restarts: &self.restarts,
            checker_error: self.checker_error.as_deref(),
            panic: &self.panic,
            share: self.share,
            removing: &self.removing,
        };
        plan::status(&view, Instant::now(), status::Now::read())
    }

    /// Re-takes the lifetime lock when its file (or the whole state directory) was removed, so
    /// `monitor` never calls this running supervisor stopped (see [`Lock::keep`]).
    fn keep_lock(&mut self) {
        let Some(lock) = self.lock.as_mut() else {
            return;
        };
        match lock.keep(&self.state) {
            Ok(Kept::Held) => {}
            Ok(Kept::Recreated) => log::warn(format!(
                "{}: {} was removed; made it again and took the lock",
                self.ident.cluster,
                self.state.lock().display()
            )),
            Ok(Kept::Lost { pid }) => log::error(format!(
                "{}: another process{} holds {} now",
                self.ident.cluster,
                pid.map(|p| format!(" (pid {p})")).unwrap_or_default(),
                self.state.lock().display()
            )),
            Err(e) => log::error(format!(
                "{}: cannot keep {}: {e}",
                self.ident.cluster,
                self.state.lock().display()
            )),
        }
    }

    /// Publishes this tick: `status.json` rewritten when its content changed, when it is
    /// [`STATUS_REFRESH`] old, or when the file there is no longer the one written (removed, or
    /// replaced by someone); and in any case the heartbeat, one line in place, naming the status
    /// file it goes with. A status that cannot be written stops the heartbeat too, so `monitor`
    /// finds the supervisor stale exactly as when every tick rewrote the status.
    fn write_status(&mut self) {
        // Only a ready supervisor publishes: monitor reads "no status" as "still starting".
        if !self.ready {
            return;
        }
        let status = self.status();
        let path = self.state.status();
        let now = Instant::now();
        let content = status.content();
        let due = self.published.as_ref().is_none_or(|p| {
            p.content != content
                || now.saturating_duration_since(p.at) >= STATUS_REFRESH
                || Identity::at(&path) != Some(p.id)
        });
        if due {
            match status.write(&path) {
                Ok(id) => {
                    self.published = Some(Published {
                        id,
                        at: now,
                        content,
                    });
                    // The state directory may have been made again: the heartbeat's file too.
                    self.heartbeat.reopen();
                }
                Err(e) => {
                    self.published = None;
                    log::error(format!("cannot write {}: {e}", path.display()));
                    return;
                }
            }
        }
        let Some(p) = &self.published else { return };
        let beat = Beat {
            tick: status.tick,
            wall: status.updated_at,
            boot_ms: status.updated_boottime_ms,
            status: p.id,
        };
        if let Err(e) = self.heartbeat.write(&beat) {
            log::error(format!(
                "cannot write {}: {e}",
                self.state.heartbeat().display()
            ));
        }
    }

    fn notify(&self, msg: &str) {
        if let Err(e) = self.notifier.notify(msg) {
            // Normal once `start` has returned and removed its socket.
            log::debug(format!("sd_notify: {e}"));
        }
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

/// The CIB watch's thread (one that cannot start is logged, and only local drains apply).
fn spawn_cib_watch(
    cluster: &str,
    interval: Duration,
    under_pacemaker: bool,
    wake: Arc<Wake>,
) -> Option<CibWatch> {
    match CibWatch::spawn(cluster, interval, under_pacemaker, wake) {
        Ok(w) => Some(w),
        Err(e) => {
            log::error(format!(
                "{cluster}: cannot start the CIB watch thread (only local drains apply): {e}"
            ));
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
fn fault_ready_delay(control: &Control) {
    let Some(ms) = std::env::var("BIG_BROTHER_FAULT_READY_DELAY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return;
    };
    log::warn(format!("fault knob: delaying READY by {ms} ms"));
    let end = Instant::now() + Duration::from_millis(ms);
    while Instant::now() < end && !control.stop_requested() {
        std::thread::sleep(Duration::from_millis(20));
    }
}
