//! The controller's decisions, as pure functions of what it knows (no I/O, no clock read, no
//! threads), each unit-tested here: the kernel service a spec asks for ([`service_of`]), what a
//! reload changes ([`plan_reload`]), which nodes a reload takes out gracefully and when they are
//! gone ([`removals_after_reload`], [`removals_due`]), and the status file's view of a tick
//! ([`status`]). The controller (`super::controller`) does the I/O around them.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::Instant;

use super::context::Ident;
use super::panic::{Panic, Share};
use super::policy::{self, Mode, NodeState, Policy};
use crate::ipvs::{Dest, DestStats, Netmask, Service, ServiceKey};
use crate::spec::{self, OnChange, Spec};
use crate::state::cib_drain::MAX_DRAINS;
use crate::state::cib_override::ClusterOverride;
use crate::state::overrides::{Current, Override};
use crate::state::repr::{DestRepr, ServiceRepr};
use crate::state::status::{
    unix_secs, CheckerStatus, CibStatus, HookStats, NodeStatus, Now, OverrideSource,
    OverrideStatus, PanicStatus, ReloadStatus, RemovingStatus, Status,
};

use crate::ipvs::netlink::ip_vs::{
    IP_VS_SVC_F_ONEPACKET as SVC_F_ONEPACKET, IP_VS_SVC_F_PERSISTENT as SVC_F_PERSISTENT,
};

/// The kernel service a spec asks for: scheduler, persistence (timeout and netmask), one-packet
/// scheduling and scheduler flags. The kernel edits every one of these in place
/// (`ip_vs_edit_service`), so a reload never has to re-create the service for them.
pub fn service_of(spec: &Spec, key: ServiceKey) -> Service {
    let (mut flags, timeout) = match spec.persistence_timeout {
        Some(t) => (
            SVC_F_PERSISTENT,
            u32::try_from(t.as_secs()).unwrap_or(u32::MAX),
        ),
        None => (0, 0),
    };
    if spec.one_packet {
        flags |= SVC_F_ONEPACKET;
    }
    for f in &spec.scheduler_flags {
        flags |= f.bit();
    }
    // The kernel reports the full mask for a service without persistence, so the spec's mask
    // only applies with a timeout (the validator refuses it without one).
    let netmask = match (spec.persistence_timeout, spec.persistence_netmask) {
        (Some(_), Some(m)) => m,
        _ => Netmask::full(key.family()),
    };
    Service {
        key,
        scheduler: spec.scheduler.clone(),
        flags,
        timeout,
        netmask,
    }
}

/// The weight applied to `node` in `applied` (0 when it has no destination).
pub fn applied_weight(applied: &[Dest], node: &spec::Node) -> u32 {
    applied
        .iter()
        .find(|d| d.addr == node.address && d.port == node.real_port)
        .map(|d| d.weight)
        .unwrap_or(0)
}

/// What becomes of the `on_change` hook on a reload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HookChange {
    /// No hook before, none now.
    None,
    /// The hook runs on: hand it the (possibly new) command.
    Command(OnChange),
    /// A hook appears: start it; it first hears the current state, as at start.
    Start,
    /// The hook goes: stop it.
    Stop,
}

/// What a reload changes, decided before anything is touched.
#[derive(Debug)]
pub struct ReloadPlan {
    /// The old service, when the key changed: a new fwmark or VIP:port cannot be edited in the
    /// kernel, so the new service is created and this one deleted, as a restart would.
    pub retire: Option<ServiceKey>,
    /// The override directory moved: watch the new files.
    pub rewatch_overrides: bool,
    pub hook: HookChange,
    /// Per node id, the state of nodes the old spec had: nodes that stay keep their weights,
    /// ramps and damping counters.
    pub carried: Vec<(String, NodeState)>,
}

/// Plans the switch from `old` (running as `old_key`, with per-node `states` in its node order)
/// to `new` (as `new_key`); `hook_running` says whether a hook thread exists now.
pub fn plan_reload(
    old: &Spec,
    old_key: ServiceKey,
    states: Vec<NodeState>,
    new: &Spec,
    new_key: ServiceKey,
    hook_running: bool,
) -> ReloadPlan {
    let hook = match (hook_running, &new.on_change) {
        (true, Some(cmd)) => HookChange::Command(cmd.clone()),
        (false, Some(_)) => HookChange::Start,
        (true, None) => HookChange::Stop,
        (false, None) => HookChange::None,
    };
    ReloadPlan {
        retire: (new_key != old_key).then_some(old_key),
        rewatch_overrides: new.override_dir != old.override_dir,
        hook,
        carried: old.nodes.iter().map(spec::Node::id).zip(states).collect(),
    }
}

/// A destination (address, real port), as the kernel and the dump's counters key it.
pub type DestKey = (IpAddr, u16);

/// A node a reload took out of the spec (issue 15): its destination stays, at weight 0, until
/// its active connections end or `deadline` passes, so a Puppet change never resets live
/// connections (deleting a destination breaks its connections: `shared/IPVS.md`).
#[derive(Clone, Debug, PartialEq)]
pub struct Removing {
    /// The node's id as it was in the spec.
    pub id: String,
    /// The destination kept, at weight 0.
    pub dest: Dest,
    pub since: Instant,
    pub deadline: Instant,
}

/// What a reload does to graceful removals.
#[derive(Debug, Default, PartialEq)]
pub struct Removals {
    /// Every removal in progress after the reload.
    pub removing: BTreeMap<DestKey, Removing>,
    /// Ids of nodes whose removal starts now.
    pub started: Vec<String>,
    /// Ids of nodes the new spec has again: their removal is cancelled and they stay.
    pub cancelled: Vec<String>,
}

/// The removals after a reload from `old` to `new` at `now`. A node of `old` whose destination
/// (address, real port) `new` no longer has — as a node or as its sorry server — starts its
/// removal with `new.removal_timeout`; one already being removed keeps its deadline; one that
/// `new` has again is cancelled. `retired`: the service itself was replaced (a new key), so
/// nothing of the old one is kept.
pub fn removals_after_reload(
    old: &Spec,
    new: &Spec,
    mut removing: BTreeMap<DestKey, Removing>,
    retired: bool,
    now: Instant,
) -> Removals {
    if retired {
        return Removals::default();
    }
    let wanted: BTreeSet<DestKey> = new
        .nodes
        .iter()
        .map(|n| (n.address, n.real_port))
        .chain(new.sorry_server.map(|s| (s.address, s.port)))
        .collect();
    let mut cancelled = Vec::new();
    removing.retain(|key, r| {
        let keep = !wanted.contains(key);
        if !keep {
            cancelled.push(r.id.clone());
        }
        keep
    });
    let mut started = Vec::new();
    for n in &old.nodes {
        let key = (n.address, n.real_port);
        if wanted.contains(&key) || removing.contains_key(&key) {
            continue;
        }
        started.push(n.id());
        removing.insert(
            key,
            Removing {
                id: n.id(),
                dest: Dest {
                    upper_threshold: n.upper_threshold,
                    lower_threshold: n.lower_threshold,
                    ..Dest::new(n.address, n.real_port, old.forward, 0)
                },
                since: now,
                deadline: now.checked_add(new.removal_timeout).unwrap_or(now),
            },
        );
    }
    Removals {
        removing,
        started,
        cancelled,
    }
}

/// Why a removal ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemovalEnd {
    /// The kernel counts no active connection on it any more.
    Drained,
    /// `removal_timeout` passed with this many active connections left.
    TimedOut { active: u32 },
    /// Its destination is no longer in the kernel (someone deleted it).
    Gone,
}

/// The removals that are over at `now`, by the counters of the last dump (`stats`): the
/// destination can be deleted. Inactive connections (closing, half-open) do not hold a removal:
/// the kernel keeps serving them from its trash list, and they end on their own.
pub fn removals_due(
    removing: &BTreeMap<DestKey, Removing>,
    stats: &BTreeMap<DestKey, DestStats>,
    now: Instant,
) -> Vec<(DestKey, RemovalEnd)> {
    removing
        .iter()
        .filter_map(|(key, r)| {
            let end = match stats.get(key) {
                None => RemovalEnd::Gone,
                Some(s) if s.active_conns == 0 => RemovalEnd::Drained,
                Some(s) if now >= r.deadline => RemovalEnd::TimedOut {
                    active: s.active_conns,
                },
                Some(_) => return None,
            };
            Some((*key, end))
        })
        .collect()
}

/// Everything the status file shows, borrowed from the controller.
pub struct View<'a> {
    pub spec: &'a Spec,
    pub key: ServiceKey,
    pub policy: &'a Policy,
    pub digest: &'a str,
    pub ident: &'a Ident,
    pub nodes: &'a [NodeState],
    pub applied: &'a [Dest],
    /// Per node id: checks and failed checks.
    pub counters: &'a BTreeMap<String, (u64, u64)>,
    /// The kernel's counters per destination from the last dump.
    pub dest_stats: &'a BTreeMap<(IpAddr, u16), DestStats>,
    pub drained: &'a BTreeSet<String>,
    /// Per node id: the last check's output.
    pub outputs: &'a BTreeMap<String, String>,
    pub tick: u64,
    pub ready: bool,
    pub reload: &'a ReloadStatus,
    pub backend_error: Option<&'a str>,
    pub drain_error: Option<&'a str>,
    /// This director's drain file's set.
    pub local_drains: &'a BTreeSet<String>,
    /// What the CIB watch saw last, when the CIB is watched.
    pub cib: Option<&'a super::cib_watch::Seen>,
    pub drift: u64,
    pub override_now: &'a Current,
    /// The `up` and `down` override files.
    pub override_files: (&'a std::path::Path, &'a std::path::Path),
    pub override_error: Option<&'a str>,
    pub hook: Option<HookStats>,
    /// Per node id: checker restarts.
    pub restarts: &'a BTreeMap<String, u64>,
    pub checker_error: Option<&'a str>,
    /// The panic threshold's state and the last tick's healthy share.
    pub panic: &'a Panic,
    pub share: Share,
    /// Nodes a reload took out, kept at weight 0 until their connections end.
    pub removing: &'a BTreeMap<DestKey, Removing>,
}

impl View<'_> {
    /// The CIB's cluster-wide override, with its record.
    fn cib_override(&self) -> Option<&ClusterOverride> {
        self.cib.and_then(|c| c.overrides.cluster.as_ref())
    }

    /// The cluster-wide override in force (files and CIB together).
    fn forced_cluster(&self) -> Option<Override> {
        policy::combine(
            self.override_now.state,
            self.cib_override().map(|c| c.state),
        )
    }

    /// The weight the CIB forces on node `id`, if it does.
    fn weight_override(&self, id: &str) -> Option<u32> {
        self.cib
            .and_then(|c| c.overrides.nodes.get(id))
            .map(|o| o.weight)
    }

    /// The override file's part, if a file sets one.
    fn file_override(&self) -> Option<OverrideStatus> {
        self.override_now.state.map(|state| {
            let (up, down) = self.override_files;
            OverrideStatus {
                state,
                source: OverrideSource::File,
                file: Some(if state == Override::Up { up } else { down }.to_path_buf()),
                reason: self.override_now.reason.clone(),
                by: None,
                at: None,
            }
        })
    }

    /// The cluster-wide override in force and, when the files and the CIB both set one, the
    /// other. The CIB's is named first when both agree (it says who and when).
    fn overrides(&self) -> (Option<OverrideStatus>, Option<OverrideStatus>) {
        let cib = self.cib_override().map(|c| OverrideStatus {
            state: c.state,
            source: OverrideSource::Cib,
            file: None,
            reason: c.record.reason.clone(),
            by: Some(c.record.by.clone()),
            at: Some(c.record.at.clone()),
        });
        let file = self.file_override();
        match (cib, file) {
            (Some(c), Some(f)) if Some(c.state) == self.forced_cluster() => (Some(c), Some(f)),
            (Some(c), Some(f)) => (Some(f), Some(c)),
            (c, f) => (c.or(f), None),
        }
    }
}

/// The panic threshold's part of the status file; `None` when the spec sets none.
fn panic_status(v: &View, now: Instant, at: Now) -> Option<PanicStatus> {
    let threshold = v.spec.panic_threshold;
    if threshold == 0 {
        return None;
    }
    let active = v.panic.active();
    // Held: unhealthy, undrained nodes that panic keeps at a weight (an override wins over
    // panic, so under a cluster-wide one nobody is held by it, nor a node with its own).
    let held = if active && v.forced_cluster().is_none() {
        v.spec
            .nodes
            .iter()
            .zip(v.nodes)
            .filter(|(n, s)| {
                s.mode() != Mode::Up
                    && !v.drained.contains(&n.id())
                    && v.weight_override(&n.id()).is_none()
                    && applied_weight(v.applied, n) > 0
            })
            .map(|(n, _)| n.id())
            .collect()
    } else {
        Vec::new()
    };
    Some(PanicStatus {
        threshold,
        exit_level: Panic::exit_level(threshold),
        active,
        since: v
            .panic
            .since()
            .map(|s| unix_secs(at.wall).saturating_sub(now.saturating_duration_since(s).as_secs())),
        healthy: v.share.healthy,
        counted: v.share.counted,
        entered: v.panic.entered(),
        held,
    })
}

/// The status file at `now` (`now_unix` is the same moment in Unix seconds).
pub fn status(v: &View, now: Instant, at: Now) -> Status {
    let nodes = v
        .spec
        .nodes
        .iter()
        .zip(v.nodes)
        .map(|(n, s)| {
            let weight = applied_weight(v.applied, n);
            let sum = s.summary(v.policy, n.max_weight, weight, now);
            let (checks, check_failures) = v.counters.get(&n.id()).copied().unwrap_or_default();
            let stats = v.dest_stats.get(&(n.address, n.real_port));
            NodeStatus {
                id: n.id(),
                address: n.address,
                health: sum.health,
                weight,
                state: sum.state,
                drained: v.drained.contains(&n.id()),
                last_latency_ms: sum.last_latency_ms,
                last_error: sum.last_error,
                forced_reason: sum.forced_reason,
                since: unix_secs(at.wall).saturating_sub(sum.since_secs as u64),
                checks,
                check_failures,
                max_weight: Some(n.max_weight),
                active_conns: stats.map(|s| s.active_conns),
                inactive_conns: stats.map(|s| s.inactive_conns),
                check: Some(n.check.kind.as_str().to_string()),
                check_target: Some(n.check_target()),
                check_output: v.outputs.get(&n.id()).cloned(),
                tls_verify: n.check.tls.as_ref().map(|t| t.verify),
                weight_override: v.weight_override(&n.id()),
            }
        })
        .collect();
    let owned = |s: Option<&str>| s.map(str::to_string);
    let overrides = v.overrides();
    Status {
        cluster: v.ident.cluster.clone(),
        instance: v.ident.instance.clone(),
        pid: v.ident.pid,
        config: v.spec.file.clone(),
        config_digest: v.digest.to_string(),
        dry_run: v.ident.dry_run,
        started_at: v.ident.started_at,
        updated_at: unix_secs(at.wall),
        updated_boottime_ms: at.boot_ms(),
        check_interval_ms: u64::try_from(v.spec.check_interval.as_millis()).unwrap_or(u64::MAX),
        tick: v.tick,
        ready: v.ready,
        service: ServiceRepr::from(&service_of(v.spec, v.key)),
        reload: v.reload.clone(),
        dests: v.applied.iter().map(DestRepr::from).collect(),
        backend_error: owned(v.backend_error),
        drain_error: owned(v.drain_error),
        cib: v.cib.map(|c| CibStatus {
            reachable: c.reachable,
            read_at: c.read_at,
            error: c.error.clone(),
            drains: c.drains.values().take(MAX_DRAINS).cloned().collect(),
            overrides: c.overrides.clone(),
        }),
        local_drains: v.local_drains.iter().cloned().collect(),
        drift: v.drift,
        panic: panic_status(v, now, at),
        removing: v
            .removing
            .iter()
            .map(|(key, r)| {
                let wall = |t: Instant| -> u64 {
                    let now_unix = unix_secs(at.wall);
                    if t >= now {
                        now_unix.saturating_add(t.duration_since(now).as_secs())
                    } else {
                        now_unix.saturating_sub(now.duration_since(t).as_secs())
                    }
                };
                let stats = v.dest_stats.get(key);
                RemovingStatus {
                    id: r.id.clone(),
                    since: wall(r.since),
                    deadline: wall(r.deadline),
                    active_conns: stats.map(|s| s.active_conns),
                    inactive_conns: stats.map(|s| s.inactive_conns),
                }
            })
            .collect(),
        override_state: overrides.0,
        override_other: overrides.1,
        override_error: owned(v.override_error),
        on_change: v.hook.clone(),
        checkers: CheckerStatus {
            restarts: v.restarts.values().fold(0u64, |a, n| a.saturating_add(*n)),
            restarted: v.restarts.clone(),
            error: owned(v.checker_error),
        },
        nodes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::Forward;
    use std::path::Path;
    use std::time::Duration;

    const SEC: Duration = Duration::from_secs(1);

    fn spec(keys: &str, nodes: &[&str]) -> Spec {
        let mut text = format!(
            "name = \"t\"\nfwmark = 7\nramp_up_time = \"1ms\"\n{keys}\n\
             [[vip]]\naddress = \"192.0.2.7\"\n"
        );
        for n in nodes {
            text.push_str(&format!("[[node]]\naddress = \"{n}\"\nport = 9\n"));
        }
        spec::parse(Path::new("/etc/big_brother/t.toml"), &text).unwrap()
    }

    fn key(spec: &Spec) -> ServiceKey {
        *spec.runnable().unwrap()
    }

    #[test]
    fn the_service_follows_scheduler_and_persistence() {
        let s = spec(
            "scheduler = \"rr\"\npersistence_timeout = \"300s\"",
            &["198.51.100.1"],
        );
        let svc = service_of(&s, key(&s));
        assert_eq!(
            (svc.scheduler.as_str(), svc.flags, svc.timeout),
            ("rr", 1, 300)
        );
        let s = spec("", &["198.51.100.1"]);
        let svc = service_of(&s, key(&s));
        assert_eq!((svc.flags, svc.timeout), (0, 0));
        assert_eq!(svc.netmask, Netmask::full(key(&s).family()));
    }

    #[test]
    fn the_service_carries_netmask_flags_and_one_packet_and_survives_status_json() {
        let s = spec(
            "scheduler = \"sh\"\npersistence_timeout = \"300s\"\n\
             persistence_netmask = \"255.255.255.0\"\nscheduler_flags = [\"sh-fallback\", \"sh-port\"]\n\
             one_packet = true",
            &["198.51.100.1"],
        );
        let svc = service_of(&s, key(&s));
        // persistent 0x1 | one-packet 0x4 | sh-fallback 0x8 | sh-port 0x10
        assert_eq!((svc.flags, svc.timeout), (0x1d, 300));
        assert_eq!(svc.netmask, Netmask::V4([255, 255, 255, 0].into()));
        let repr = ServiceRepr::from(&svc);
        assert_eq!(repr.persistence_netmask.as_deref(), Some("255.255.255.0"));
        assert_eq!(repr.scheduler_flags, vec!["sh-fallback", "sh-port"]);
        assert!(repr.one_packet);
        let json = serde_json::to_string(&repr).unwrap();
        let back: ServiceRepr = serde_json::from_str(&json).unwrap();
        assert_eq!(Service::from(&back), svc);
        // Without options the JSON keeps its old shape.
        let plain = ServiceRepr::from(&service_of(&spec("", &["198.51.100.1"]), key(&s)));
        let json = serde_json::to_string(&plain).unwrap();
        assert!(
            !json.contains("netmask") && !json.contains("one_packet"),
            "{json}"
        );
    }

    #[test]
    fn nodes_carry_their_thresholds_into_the_kernel() {
        let text = "name = \"t\"\nfwmark = 7\nramp_up_time = \"1ms\"\n[[vip]]\naddress = \"192.0.2.7\"\n\
                    [[node]]\naddress = \"198.51.100.1\"\nport = 9\nupper_threshold = 10\nlower_threshold = 4\n";
        let s = spec::parse(Path::new("/etc/big_brother/t.toml"), text).unwrap();
        // No state yet: the node is at weight 0 but its thresholds are already the spec's.
        let d = crate::supervisor::policy::desired(&s, &[], &BTreeSet::new(), Instant::now());
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].weight, d[0].upper_threshold, d[0].lower_threshold),
            (0, 10, 4)
        );
    }

    #[test]
    fn a_reload_carries_nodes_by_id_and_says_what_else_changes() {
        let t0 = Instant::now();
        let old = spec("", &["198.51.100.1", "198.51.100.2"]);
        let states = vec![NodeState::new(Some(40), t0), NodeState::new(Some(70), t0)];
        let text = "name = \"t\"\nfwmark = 8\noverride_dir = \"/srv/bb\"\n\
                    on_change = [\"/bin/true\"]\n[[vip]]\naddress = \"192.0.2.7\"\n\
                    [[node]]\naddress = \"198.51.100.2\"\nport = 9\n";
        let new = spec::parse(Path::new("/etc/big_brother/t.toml"), text).unwrap();
        let plan = plan_reload(&old, key(&old), states, &new, key(&new), false);
        assert_eq!(plan.retire, Some(key(&old)), "fwmark 7 → 8: a new service");
        assert!(plan.rewatch_overrides);
        assert_eq!(plan.hook, HookChange::Start);
        let ids: Vec<&str> = plan.carried.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["198.51.100.1", "198.51.100.2"]);

        let same = plan_reload(&old, key(&old), Vec::new(), &old, key(&old), true);
        assert_eq!(same.retire, None);
        assert!(!same.rewatch_overrides);
        assert_eq!(same.hook, HookChange::Stop);
        let none = plan_reload(&old, key(&old), Vec::new(), &old, key(&old), false);
        assert_eq!(none.hook, HookChange::None);
        let keep = plan_reload(&new, key(&new), Vec::new(), &new, key(&new), true);
        assert_eq!(
            keep.hook,
            HookChange::Command(new.on_change.clone().unwrap())
        );
    }

    fn stats(active: u32) -> DestStats {
        DestStats {
            active_conns: active,
            inactive_conns: 7,
            ..DestStats::default()
        }
    }

    /// Issue 15 item 3: a node a reload takes out goes to weight 0 and waits for its active
    /// connections (or `removal_timeout`); nodes added meanwhile are unaffected; re-adding it
    /// cancels the removal; a new service key removes nothing gracefully.
    #[test]
    fn removals_start_on_reload_end_on_connections_or_timeout_and_are_cancelled_by_a_re_add() {
        let t0 = Instant::now();
        let old = spec(
            "removal_timeout = \"60s\"",
            &["198.51.100.1", "198.51.100.2"],
        );
        let new = spec(
            "removal_timeout = \"60s\"",
            &["198.51.100.2", "198.51.100.3"],
        );
        let r = removals_after_reload(&old, &new, BTreeMap::new(), false, t0);
        assert_eq!(r.started, ["198.51.100.1"]);
        assert!(r.cancelled.is_empty());
        let key: DestKey = ("198.51.100.1".parse().unwrap(), 0);
        let gone = &r.removing[&key];
        assert_eq!((gone.dest.weight, gone.deadline), (0, t0 + 60 * SEC));
        assert_eq!(r.removing.len(), 1, "the added node is not touched");

        // Connections decide when it goes.
        let mut st = BTreeMap::from([(key, stats(3))]);
        assert!(removals_due(&r.removing, &st, t0 + SEC).is_empty());
        assert_eq!(
            removals_due(&r.removing, &st, t0 + 60 * SEC),
            [(key, RemovalEnd::TimedOut { active: 3 })]
        );
        st.insert(key, stats(0));
        assert_eq!(
            removals_due(&r.removing, &st, t0 + SEC),
            [(key, RemovalEnd::Drained)],
            "inactive connections do not hold a removal"
        );
        assert_eq!(
            removals_due(&r.removing, &BTreeMap::new(), t0 + SEC),
            [(key, RemovalEnd::Gone)]
        );

        // A second reload keeps the deadline; one that brings the node back cancels it.
        let again = removals_after_reload(&new, &new, r.removing.clone(), false, t0 + 30 * SEC);
        assert_eq!(again.removing[&key].deadline, t0 + 60 * SEC);
        assert!(again.started.is_empty());
        let back = removals_after_reload(&new, &old, r.removing.clone(), false, t0 + 30 * SEC);
        assert_eq!(back.cancelled, ["198.51.100.1"]);
        assert_eq!(back.started, ["198.51.100.3"]);
        assert!(!back.removing.contains_key(&key));
        // A new service: nothing of the old one is kept.
        let retired = removals_after_reload(&old, &new, r.removing, true, t0);
        assert_eq!(retired, Removals::default());
    }

    #[test]
    fn the_status_view_shows_each_node_with_its_weight_and_counters() {
        let s = spec("", &["198.51.100.1", "198.51.100.2"]);
        let t0 = Instant::now();
        let nodes = vec![NodeState::new(Some(40), t0), NodeState::new(None, t0)];
        let applied = vec![Dest::new(
            "198.51.100.1".parse().unwrap(),
            0,
            Forward::Ipip,
            40,
        )];
        let mut counters = BTreeMap::new();
        counters.insert("198.51.100.1".to_string(), (5, 1));
        let mut stats = BTreeMap::new();
        stats.insert(
            ("198.51.100.1".parse().unwrap(), 0),
            DestStats {
                active_conns: 3,
                inactive_conns: 4,
                ..DestStats::default()
            },
        );
        let drained = BTreeSet::from(["198.51.100.2".to_string()]);
        let ident = Ident {
            cluster: "t".into(),
            instance: Some("ipvs_t".into()),
            dry_run: true,
            pid: 42,
            started_at: 900,
        };
        let restarts = BTreeMap::from([("198.51.100.2".to_string(), 2u64)]);
        let reload = ReloadStatus::default();
        let current = Current {
            state: Some(Override::Down),
            reason: "maintenance".into(),
        };
        let v = View {
            spec: &s,
            key: key(&s),
            policy: &Policy::from_spec(&s),
            digest: "fnv1a64:0",
            ident: &ident,
            nodes: &nodes,
            applied: &applied,
            counters: &counters,
            dest_stats: &stats,
            drained: &drained,
            outputs: &BTreeMap::new(),
            tick: 7,
            ready: true,
            reload: &reload,
            backend_error: None,
            drain_error: None,
            local_drains: &drained,
            cib: None,
            drift: 2,
            override_now: &current,
            override_files: (Path::new("/etc/bb/up/t"), Path::new("/etc/bb/down/t")),
            override_error: None,
            hook: None,
            restarts: &restarts,
            checker_error: Some("cannot start"),
            panic: &Panic::default(),
            share: Share::default(),
            removing: &BTreeMap::new(),
        };
        let at = Now {
            wall: std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000),
            boot: Some(std::time::Duration::from_millis(77_500)),
        };
        let st = status(&v, t0, at);
        assert_eq!(
            (st.cluster.as_str(), st.pid, st.tick, st.drift),
            ("t", 42, 7, 2)
        );
        assert_eq!(
            (st.updated_at, st.updated_boottime_ms),
            (1_000, Some(77_500))
        );
        let n = &st.nodes[0];
        assert_eq!((n.weight, n.checks, n.check_failures), (40, 5, 1));
        assert_eq!((n.active_conns, n.inactive_conns), (Some(3), Some(4)));
        assert!(!n.drained && st.nodes[1].drained);
        assert_eq!(st.nodes[1].weight, 0, "no destination applied");
        assert_eq!(st.dests.len(), 1);
        let o = st.override_state.unwrap();
        assert_eq!(
            (o.state, o.file.as_deref(), o.reason.as_str()),
            (
                Override::Down,
                Some(Path::new("/etc/bb/down/t")),
                "maintenance"
            )
        );
        assert_eq!(o.source, OverrideSource::File);
        assert!(st.override_other.is_none());
        assert_eq!(st.checkers.restarts, 2);
        assert_eq!(st.checkers.error.as_deref(), Some("cannot start"));
    }
}
