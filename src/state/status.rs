//! `<state>/status.json`: what the supervisor is doing, rewritten atomically (tempfile, fsync,
//! rename) when its content changes and at least every few seconds, with a one-line
//! `<state>/heartbeat` beside it every tick ([`super::heartbeat`]; [`Status::read`] merges the
//! two). `updated_at` is the heartbeat `monitor` checks; `dests` is exactly what the
//! supervisor last applied to the backend, which `monitor OCF_CHECK_LEVEL=10` compares with the
//! backend; `reload` is how `reload-agent` learns the outcome of its SIGHUP. Operators and the
//! `big_brother status` command read the same file. Unknown fields are ignored and missing
//! optional ones default, so readers and writers of neighbouring versions get along.
//!
//! The heartbeat's age is measured on `CLOCK_BOOTTIME` (`updated_boottime_ms`): one clock for
//! every process of the machine, which a step of the wall clock (NTP, an operator's `date`) does
//! not move, so a step forward cannot fail a healthy supervisor and a step back cannot hide a
//! stuck one. `updated_at` (Unix seconds) stays for humans, and is the fallback for a file that
//! carries no boot-time stamp (written by a release before this one, during an upgrade) or one
//! stamped during an earlier boot.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::heartbeat::{self, Beat, Identity};
use super::overrides::Override;
use super::repr::{DestRepr, ServiceRepr};
use super::{read_capped, write_atomic_meta};

/// Heartbeats older than this many check intervals mean the supervisor is stuck.
pub const STALE_INTERVALS: u32 = 3;
/// …but never less than this, so a short interval does not turn a busy moment into a failure.
pub const STALE_MIN: Duration = Duration::from_secs(10);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub cluster: String,
    #[serde(default)]
    pub instance: Option<String>,
    pub pid: i32,
    /// The spec file in use and a digest of the bytes it was loaded from.
    pub config: PathBuf,
    pub config_digest: String,
    pub dry_run: bool,
    /// Unix seconds.
    pub started_at: u64,
    /// Unix seconds of the heartbeat, for humans (and the fallback described above).
    pub updated_at: u64,
    /// `CLOCK_BOOTTIME` of the heartbeat in milliseconds: what its age is measured by. Absent in
    /// files of releases before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_boottime_ms: Option<u64>,
    pub check_interval_ms: u64,
    /// Controller ticks since start.
    pub tick: u64,
    /// True once the first round of checks was applied and `READY=1` sent.
    pub ready: bool,
    pub service: ServiceRepr,
    pub reload: ReloadStatus,
    /// Destinations as last applied to the backend.
    pub dests: Vec<DestRepr>,
    /// The last backend failure, if the last tick failed to apply.
    #[serde(default)]
    pub backend_error: Option<String>,
    /// Why the drain file could not be read, if it could not (the previous drains stay).
    #[serde(default)]
    pub drain_error: Option<String>,
    /// Cluster-wide drains read from the Pacemaker CIB (issue 15), when this supervisor
    /// watches it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cib: Option<CibStatus>,
    /// Node ids drained in this director's own drain file (`big_brother drain --local`, or
    /// from before drains were kept in the CIB).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub local_drains: Vec<String>,
    /// The cluster-wide override in force, if any: the original's `up`/`down` files or the
    /// CIB's `override` (when both set one, `up` wins; see `supervisor::policy::combine`).
    #[serde(default, rename = "override")]
    pub override_state: Option<OverrideStatus>,
    /// When the files and the CIB both set one: the other (not deciding, or agreeing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_other: Option<OverrideStatus>,
    /// Why the override files could not be examined, if they could not (the previous answer
    /// stays in force).
    #[serde(default)]
    pub override_error: Option<String>,
    /// The `on_change` hook's counters, when the spec has one.
    #[serde(default)]
    pub on_change: Option<HookStats>,
    /// How the health checker threads fare: restarts, and what cannot be repaired.
    #[serde(default)]
    pub checkers: CheckerStatus,
    /// Changes found in the backend that this supervisor did not make (someone ran `ipvsadm`),
    /// counted since start; each was undone by the tick that found it.
    #[serde(default)]
    pub drift: u64,
    /// The panic threshold's state, when the spec sets one (issue 15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panic: Option<PanicStatus>,
    /// Nodes a reload took out of the spec, kept at weight 0 until their active connections end
    /// or `removal_timeout` passes (issue 15). Their destinations are in `dests`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removing: Vec<RemovingStatus>,
    pub nodes: Vec<NodeStatus>,
}

/// What the supervisor last read from the CIB (`state::cib_drain`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CibStatus {
    /// Whether the CIB has answered since the supervisor started (false: no Pacemaker CIB
    /// here, only local drains apply).
    pub reachable: bool,
    /// Unix seconds of the last successful read.
    #[serde(default)]
    pub read_at: Option<u64>,
    /// Why the last read failed, if it did: the drains of the last good read stay in force.
    #[serde(default)]
    pub error: Option<String>,
    /// The drains recorded there, with who, when and why.
    #[serde(default)]
    pub drains: Vec<super::cib_drain::Record>,
    /// The overrides recorded there (cluster-wide and per node), with who, when and why.
    #[serde(default)]
    pub overrides: super::cib_override::Overrides,
}

/// A node being removed gracefully.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovingStatus {
    /// The node's id as it was in the spec.
    pub id: String,
    /// Unix seconds: when the reload took it out, and when it is deleted at the latest.
    pub since: u64,
    pub deadline: u64,
    /// The kernel's counters for its destination at the last tick.
    #[serde(default)]
    pub active_conns: Option<u32>,
    #[serde(default)]
    pub inactive_conns: Option<u32>,
}

/// The panic threshold (`supervisor::panic`): while `active`, health is not trusted and the
/// nodes in `held` serve at their last good weight because they still answer TCP.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PanicStatus {
    /// The spec's `panic_threshold`, in percent.
    pub threshold: u8,
    /// The healthy share (percent) that ends a panic once held long enough.
    pub exit_level: u8,
    pub active: bool,
    /// Unix seconds when the current panic began.
    #[serde(default)]
    pub since: Option<u64>,
    /// Healthy nodes, of the `counted` (undrained) ones, at the last tick.
    pub healthy: usize,
    pub counted: usize,
    /// Times panic was entered since the supervisor started.
    #[serde(default)]
    pub entered: u64,
    /// Ids of the unhealthy nodes panic keeps serving.
    #[serde(default)]
    pub held: Vec<String>,
}

/// The `on_change` hook's counters, for the status file and metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookStats {
    /// Commands started.
    pub runs: u64,
    /// Runs that failed to start, exited non-zero, died of a signal or timed out.
    pub failures: u64,
    /// The last failure, if the last run failed.
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub last_duration_ms: Option<u64>,
}

/// A cluster-wide override in force: an override file of this director's, or the CIB's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideStatus {
    pub state: Override,
    /// Where it is set (`file` in status files written before the CIB had overrides).
    #[serde(default)]
    pub source: OverrideSource,
    /// The file that sets it (source `file`).
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// The file's first line, or the reason recorded in the CIB (may be empty).
    #[serde(default)]
    pub reason: String,
    /// Who set it and when, RFC 3339 UTC (source `cib`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

impl OverrideStatus {
    /// Where it comes from, for people: the file, or `cluster-wide in the CIB, by … at …`.
    pub fn origin(&self) -> String {
        match (self.source, &self.file) {
            (OverrideSource::File, Some(f)) => f.display().to_string(),
            (OverrideSource::File, None) => "override file".into(),
            (OverrideSource::Cib, _) => format!(
                "cluster-wide in the CIB, by {} at {}",
                self.by.as_deref().unwrap_or("?"),
                self.at.as_deref().unwrap_or("?")
            ),
        }
    }
}

/// Where a cluster-wide override is set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideSource {
    /// This director's `<override_dir>/{up,down}/<cluster>`.
    #[default]
    File,
    /// The cluster's property set in the Pacemaker CIB: every director's.
    Cib,
}

impl OverrideSource {
    pub fn as_str(self) -> &'static str {
        match self {
            OverrideSource::File => "file",
            OverrideSource::Cib => "cib",
        }
    }
}

/// The health checker threads' supervision (issue 12: a checker that stops must never go
/// unnoticed).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckerStatus {
    /// Checker threads restarted (they had exited) or replaced (they had stopped reporting)
    /// since the supervisor started.
    #[serde(default)]
    pub restarts: u64,
    /// The same per node id, for nodes restarted at least once.
    #[serde(default)]
    pub restarted: std::collections::BTreeMap<String, u64>,
    /// Why some checker cannot be kept running, while that lasts; `monitor` fails on it.
    #[serde(default)]
    pub error: Option<String>,
}

/// Outcome of the latest configuration reload (SIGHUP).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadStatus {
    /// Bumped once per reload attempt, successful or not.
    pub generation: u64,
    pub ok: bool,
    #[serde(default)]
    pub error: Option<String>,
    /// Unix seconds of the attempt (0: never reloaded).
    #[serde(default)]
    pub at: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeStatus {
    /// `spec::Node::id()`.
    pub id: String,
    pub address: std::net::IpAddr,
    /// Last measured health (0–100), if any check answered.
    #[serde(default)]
    pub health: Option<f64>,
    pub weight: u32,
    /// From the policy: `new`, `up`, `ramping`, `failing`, `down`, `forced_down`, `drained`.
    pub state: String,
    #[serde(default)]
    pub drained: bool,
    #[serde(default)]
    pub last_latency_ms: Option<f64>,
    #[serde(default)]
    pub last_error: Option<String>,
    /// litmus_paper's `Forced Reason:` when the node was forced down.
    #[serde(default)]
    pub forced_reason: Option<String>,
    /// Unix seconds since the node entered `state`.
    pub since: u64,
    /// Checks answered or failed since the supervisor started.
    #[serde(default)]
    pub checks: u64,
    /// Of those, checks that failed (refused, timeout, bad answer); a `Health: 0` answer is a
    /// check that worked.
    #[serde(default)]
    pub check_failures: u64,
    /// The spec's `max_weight` for this node (what a full weight bar means). Absent in files
    /// written before it was recorded.
    #[serde(default)]
    pub max_weight: Option<u32>,
    /// The kernel's `ActiveConn` for this node's destination (established connections), from
    /// the tick's dump; absent before the first dump, for a node with no destination, and in
    /// files written before it was recorded. The dry-run table keeps no connections: 0.
    #[serde(default)]
    pub active_conns: Option<u32>,
    /// The kernel's `InActConn` (connections in any other state: closing, half-open), as
    /// `active_conns`.
    #[serde(default)]
    pub inactive_conns: Option<u32>,
    /// The check type (`litmus`, `http`, `tcp`, `agent`, `exec`); absent in older files.
    #[serde(default)]
    pub check: Option<String>,
    /// What is probed: a URL, `tcp ADDR:PORT`, `agent ADDR:PORT`, `exec ARGV…`.
    #[serde(default)]
    pub check_target: Option<String>,
    /// The last check's output (exec's stdout+stderr, the agent's line), bounded; null if none.
    #[serde(default)]
    pub check_output: Option<String>,
    /// Only for TLS checks: whether the certificate is verified (`false` is said, never hidden).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_verify: Option<bool>,
    /// The weight a node override in the CIB forces on it (as recorded; the node gets at most
    /// its `max_weight`, and a drain still wins), if one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_override: Option<u32>,
}

impl Status {
    /// Sum of the weights applied to the nodes (not the sorry server): the original's
    /// `CombinedWeight`.
    pub fn combined_weight(&self) -> u64 {
        self.nodes.iter().map(|n| u64::from(n.weight)).sum()
    }

    /// Whether the heartbeat is recent enough at `now` (see [`Status::stale_after`]).
    pub fn fresh(&self, now: impl Into<Now>) -> bool {
        self.age(now) <= self.stale_after()
    }

    /// How old the heartbeat may get before `monitor` calls the supervisor stuck.
    pub fn stale_after(&self) -> Duration {
        // The interval comes from a file: saturate rather than overflow.
        Duration::from_millis(self.check_interval_ms)
            .saturating_mul(STALE_INTERVALS)
            .max(STALE_MIN)
    }

    /// Age of the heartbeat at `now`: by `CLOCK_BOOTTIME` when both the file and `now` have a
    /// reading of it, else by the wall clock (zero if that went backwards). A boot-time reading
    /// behind the file's stamp means the file was written during an earlier boot (a state
    /// directory that survived a reboot): only the wall clock can compare those.
    pub fn age(&self, now: impl Into<Now>) -> Duration {
        let now = now.into();
        if let (Some(then), Some(boot)) = (self.updated_boottime_ms, now.boot) {
            if let Some(age) = boot.checked_sub(Duration::from_millis(then)) {
                return age;
            }
        }
        Duration::from_secs(unix_secs(now.wall).saturating_sub(self.updated_at))
    }

    /// Which clock [`Status::age`] uses at `now`, for messages: `boot-time` or `wall`.
    pub fn age_clock(&self, now: impl Into<Now>) -> &'static str {
        let now = now.into();
        match (self.updated_boottime_ms, now.boot) {
            (Some(then), Some(boot)) if boot >= Duration::from_millis(then) => "boot-time",
            _ => "wall",
        }
    }

    /// This status without what moves on every tick while nothing happens — the tick and its
    /// stamps, and per node the latency, the check counters, the kernel's connection counts and
    /// the `since` stamps computed from monotonic time — so that two ticks' statuses compare
    /// equal unless something an operator or `monitor` acts on changed (a weight, a health, a
    /// state, an error, a drain, a reload, the destinations applied). The supervisor rewrites
    /// `status.json` when this changes, and otherwise only every few seconds.
    pub fn content(&self) -> Status {
        let mut s = self.clone();
        s.updated_at = 0;
        s.updated_boottime_ms = None;
        s.tick = 0;
        for n in &mut s.nodes {
            n.since = 0;
            n.last_latency_ms = None;
            n.checks = 0;
            n.check_failures = 0;
            n.active_conns = None;
            n.inactive_conns = None;
        }
        if let Some(c) = &mut s.cib {
            c.read_at = None;
        }
        for r in &mut s.removing {
            r.since = 0;
            r.deadline = 0;
            r.active_conns = None;
            r.inactive_conns = None;
        }
        if let Some(p) = &mut s.panic {
            p.since = None;
        }
        s
    }

    /// Writes the status file atomically; returns the new file's identity (what a heartbeat
    /// that goes with it names).
    pub fn write(&self, path: &Path) -> io::Result<Identity> {
        let json = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        write_atomic_meta(path, &json).map(|m| Identity::of(&m))
    }

    /// Reads a status file, with the heartbeat beside it merged in ([`Status::with_beat`]);
    /// `Ok(None)` when there is no status file.
    pub fn read(path: &Path) -> io::Result<Option<Status>> {
        let Some((mut status, id)) = Status::read_alone(path)? else {
            return Ok(None);
        };
        if let Some(beat) = heartbeat::read(&heartbeat::path_beside(path)) {
            status.with_beat(&beat, &id);
        }
        Ok(Some(status))
    }

    /// The status file alone (no heartbeat), and the identity of the file it was read from.
    pub fn read_alone(path: &Path) -> io::Result<Option<(Status, Identity)>> {
        match read_capped(path, MAX_STATUS_BYTES, 0) {
            Ok((b, meta)) => serde_json::from_slice(&b)
                .map(|s| Some((s, Identity::of(&meta))))
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Takes the tick and its stamps from `beat` when it vouches for this very file (`id`, the
    /// file this status was read from) and is not behind it; otherwise leaves the file's own.
    /// A heartbeat of another file (an older one, or one written by hand since) changes nothing.
    pub fn with_beat(&mut self, beat: &Beat, id: &Identity) {
        if beat.status != *id || beat.tick < self.tick {
            return;
        }
        self.tick = beat.tick;
        self.updated_at = beat.wall;
        self.updated_boottime_ms = beat.boot_ms;
    }
}

/// Largest status file read back (`monitor`, `status`, the API read it on every call). A status
/// of 4,096 nodes (the spec's limit) with long errors is under 4 MiB; anything bigger was not written by a
/// supervisor, and reading it whole would let one file make every reader allocate without end.
pub const MAX_STATUS_BYTES: u64 = 8 * 1024 * 1024;

/// One reading of the clocks a heartbeat is stamped with and judged by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// The wall clock: what humans read, and what old status files carry.
    pub wall: SystemTime,
    /// `CLOCK_BOOTTIME` since boot; `None` when it cannot be read (the wall clock is then used).
    pub boot: Option<Duration>,
}

impl Now {
    /// Both clocks, now.
    pub fn read() -> Now {
        Now {
            wall: SystemTime::now(),
            boot: boottime(),
        }
    }

    /// The boot-time reading in whole milliseconds, as the status file stores it.
    pub fn boot_ms(&self) -> Option<u64> {
        self.boot
            .map(|b| u64::try_from(b.as_millis()).unwrap_or(u64::MAX))
    }
}

/// A wall-clock reading alone (tests, and callers that only display): ages use the wall clock.
impl From<SystemTime> for Now {
    fn from(wall: SystemTime) -> Now {
        Now { wall, boot: None }
    }
}

/// `CLOCK_BOOTTIME`: monotonic like `Instant` (never stepped), counting suspend, and the same
/// clock in every process of the machine (not per process like `Instant`'s origin), so the
/// supervisor's stamp and `monitor`'s reading compare. `None` if the kernel refuses it.
pub fn boottime() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which we own, and reads nothing else.
    if unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) } != 0 {
        return None;
    }
    let secs = u64::try_from(ts.tv_sec).ok()?;
    let nanos = u32::try_from(ts.tv_nsec)
        .ok()
        .filter(|n| *n < 1_000_000_000)?;
    Some(Duration::new(secs, nanos))
}

pub fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::state::repr::KeyRepr;

    /// Issue 12 (same class as item 7): a status file is read only as a regular file of bounded
    /// size; a FIFO or a huge file is an error at once, not a hang or an allocation without end.
    #[test]
    fn status_files_are_read_bounded_and_regular_only() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("status.json");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let t = std::time::Instant::now();
        let e = Status::read(&fifo).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");
        assert!(t.elapsed() < std::time::Duration::from_secs(1));
        std::fs::remove_file(&fifo).unwrap();
        let f = std::fs::File::create(&fifo).unwrap();
        f.set_len(MAX_STATUS_BYTES + 1).unwrap();
        let e = Status::read(&fifo).unwrap_err();
        assert!(e.to_string().contains("larger than"), "{e}");
        assert!(Status::read(&dir.path().join("absent")).unwrap().is_none());
    }

    pub fn sample() -> Status {
        Status {
            cluster: "webapp".into(),
            instance: Some("ipvs_webapp".into()),
            pid: 42,
            config: "/etc/big_brother/webapp.toml".into(),
            config_digest: crate::spec::source::digest(b"x"),
            dry_run: true,
            started_at: 1_000,
            updated_at: 1_000,
            updated_boottime_ms: None,
            check_interval_ms: 2_000,
            tick: 1,
            ready: true,
            service: ServiceRepr {
                key: KeyRepr::Fwmark {
                    mark: 7,
                    ipv6: false,
                },
                scheduler: "wlc".into(),
                flags: 0,
                timeout: 0,
                persistence_netmask: None,
                scheduler_flags: vec![],
                one_packet: false,
            },
            reload: ReloadStatus::default(),
            dests: vec![],
            backend_error: None,
            drain_error: None,
            cib: None,
            local_drains: Vec::new(),
            override_state: None,
            override_other: None,
            override_error: None,
            on_change: None,
            checkers: CheckerStatus::default(),
            drift: 0,
            panic: None,
            removing: Vec::new(),
            nodes: vec![],
        }
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("status.json");
        assert_eq!(Status::read(&p).unwrap(), None);
        let s = sample();
        s.write(&p).unwrap();
        assert_eq!(Status::read(&p).unwrap(), Some(s));
    }

    #[test]
    fn staleness() {
        let mut s = sample();
        assert_eq!(s.stale_after(), STALE_MIN, "3 × 2s is below the floor");
        s.check_interval_ms = 30_000;
        assert_eq!(s.stale_after(), Duration::from_secs(90));
        let now = UNIX_EPOCH + Duration::from_secs(1_100);
        assert_eq!(s.age(now), Duration::from_secs(100));
        assert_eq!(s.age(UNIX_EPOCH), Duration::ZERO);
    }

    /// Issue 19: the heartbeat is judged by CLOCK_BOOTTIME, so a step of the wall clock either
    /// way changes nothing (readings injected: the logic is pure).
    #[test]
    fn a_wall_clock_step_neither_fails_nor_hides_a_heartbeat() {
        let mut s = sample();
        s.updated_at = 1_000_000;
        s.updated_boottime_ms = Some(50_000);
        let hour = Duration::from_secs(3_600);
        let wall = UNIX_EPOCH + Duration::from_secs(1_000_001);
        let boot = Some(Duration::from_millis(51_000));
        for stepped in [wall + hour, wall - hour, wall] {
            let now = Now {
                wall: stepped,
                boot,
            };
            assert_eq!(s.age(now), Duration::from_secs(1), "{stepped:?}");
            assert!(s.fresh(now));
            assert_eq!(s.age_clock(now), "boot-time");
        }
        // Boot time moved on past the bound while the wall clock was stepped back to the
        // stamp: stale (a wall-clock comparison would have said fresh).
        let late = Some(Duration::from_millis(50_000) + s.stale_after() + Duration::from_secs(1));
        for stepped in [
            wall - hour,
            UNIX_EPOCH + Duration::from_secs(1_000_000),
            wall,
        ] {
            let now = Now {
                wall: stepped,
                boot: late,
            };
            assert!(!s.fresh(now), "{stepped:?}");
            assert_eq!(s.age(now), s.stale_after() + Duration::from_secs(1));
        }
    }

    /// A file without the boot-time stamp (an older supervisor during an upgrade), a reader
    /// without the clock, or a stamp from an earlier boot: the wall clock decides, as before.
    #[test]
    fn without_a_comparable_boot_time_the_wall_clock_decides() {
        let mut s = sample();
        s.updated_at = 1_000;
        let now = |wall: u64, boot: Option<u64>| Now {
            wall: UNIX_EPOCH + Duration::from_secs(wall),
            boot: boot.map(Duration::from_millis),
        };
        // Old file, new reader.
        assert_eq!(s.age(now(1_005, Some(9_999_999))), Duration::from_secs(5));
        assert!(!s.fresh(now(1_000 + 11, Some(0))));
        assert_eq!(s.age_clock(now(1_005, Some(1))), "wall");
        // New file, reader without the clock.
        s.updated_boottime_ms = Some(500_000);
        assert_eq!(s.age(now(1_005, None)), Duration::from_secs(5));
        // A stamp ahead of the reading: written during an earlier boot.
        assert_eq!(s.age(now(1_500, Some(1_000))), Duration::from_secs(500));
        assert_eq!(s.age_clock(now(1_500, Some(1_000))), "wall");
        // A stamp from this boot; the wall clock is ignored, even stepped before the stamp.
        assert_eq!(s.age(now(0, Some(503_000))), Duration::from_secs(3));
        // Hostile numbers saturate, never panic.
        s.updated_boottime_ms = Some(u64::MAX);
        s.updated_at = u64::MAX;
        assert_eq!(s.age(now(0, Some(u64::MAX))), Duration::ZERO);
    }

    #[test]
    fn the_boot_time_clock_reads_and_moves_forward() {
        let a = boottime().unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let b = Now::read();
        assert!(
            b.boot.unwrap() >= a + Duration::from_millis(20),
            "{a:?} {b:?}"
        );
        assert!(b.boot_ms().unwrap() >= 20);
        // The status file's own fields round-trip; an old file without them reads as None.
        let mut s = sample();
        s.updated_boottime_ms = b.boot_ms();
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(
            v["updated_boottime_ms"],
            serde_json::json!(b.boot_ms().unwrap())
        );
        assert_eq!(serde_json::from_value::<Status>(v).unwrap(), s);
        let mut old = serde_json::to_value(sample()).unwrap();
        assert!(old.get("updated_boottime_ms").is_none());
        old["updated_at"] = serde_json::json!(7);
        assert_eq!(
            serde_json::from_value::<Status>(old)
                .unwrap()
                .updated_boottime_ms,
            None
        );
    }

    /// A status file from before `max_weight` and the connection counts were recorded (as
    /// the previous release wrote it) still reads, with them absent; a new one round-trips them.
    #[test]
    fn node_fields_added_later_are_optional() {
        let old = r#"{"id":"192.0.2.1:443","address":"192.0.2.1","health":50.0,"weight":50,
            "state":"up","drained":false,"last_latency_ms":1.5,"last_error":null,
            "forced_reason":null,"since":1,"checks":3,"check_failures":0}"#;
        let n: NodeStatus = serde_json::from_str(old).unwrap();
        assert_eq!(
            (n.max_weight, n.active_conns, n.inactive_conns),
            (None, None, None)
        );
        let mut n = n;
        (n.max_weight, n.active_conns, n.inactive_conns) = (Some(200), Some(7), Some(0));
        let v = serde_json::to_value(&n).unwrap();
        assert_eq!(
            (&v["max_weight"], &v["active_conns"], &v["inactive_conns"]),
            (
                &serde_json::json!(200),
                &serde_json::json!(7),
                &serde_json::json!(0)
            )
        );
        assert_eq!(serde_json::from_value::<NodeStatus>(v).unwrap(), n);
    }

    /// Issue 18: the heartbeat's tick and stamps count only when it names the very status file
    /// read and is not behind it; a torn, foreign or stale heartbeat leaves the file's own.
    #[test]
    fn a_heartbeat_is_merged_only_into_the_status_it_names() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("status.json");
        let s = sample();
        let id = s.write(&p).unwrap();
        let hb = heartbeat::path_beside(&p);
        let beat = Beat {
            tick: 9,
            wall: 1_005,
            boot_ms: Some(77_000),
            status: id,
        };
        std::fs::write(&hb, beat.line()).unwrap();
        let got = Status::read(&p).unwrap().unwrap();
        assert_eq!(
            (got.tick, got.updated_at, got.updated_boottime_ms),
            (9, 1_005, Some(77_000))
        );
        assert_eq!(got.nodes, s.nodes, "nothing else comes from the heartbeat");
        // Behind the file (an older supervisor's): ignored.
        let mut behind = beat;
        behind.tick = 0;
        std::fs::write(&hb, behind.line()).unwrap();
        assert_eq!(Status::read(&p).unwrap().unwrap(), s);
        // Torn: ignored.
        let mut torn = beat.line();
        torn[10] = b'#';
        std::fs::write(&hb, torn).unwrap();
        assert_eq!(Status::read(&p).unwrap().unwrap(), s);
        // The status file rewritten (by hand, say): the heartbeat names another file.
        std::fs::write(&hb, beat.line()).unwrap();
        let mut edited = s.clone();
        edited.updated_at = 1;
        std::fs::write(&p, serde_json::to_vec(&edited).unwrap()).unwrap();
        assert_eq!(Status::read(&p).unwrap().unwrap(), edited);
    }

    #[test]
    fn the_content_ignores_what_moves_every_tick_and_nothing_else() {
        let mut a = sample();
        a.nodes.push(NodeStatus {
            id: "192.0.2.1:443".into(),
            address: "192.0.2.1".parse().unwrap(),
            health: Some(50.0),
            weight: 50,
            state: "up".into(),
            drained: false,
            last_latency_ms: Some(1.0),
            last_error: None,
            forced_reason: None,
            since: 5,
            checks: 3,
            check_failures: 0,
            max_weight: Some(100),
            active_conns: Some(1),
            inactive_conns: Some(0),
            check: None,
            check_target: None,
            check_output: None,
            tls_verify: None,
            weight_override: None,
        });
        let mut b = a.clone();
        b.tick += 1;
        b.updated_at += 1;
        b.updated_boottime_ms = Some(9);
        let n = &mut b.nodes[0];
        (n.since, n.last_latency_ms, n.checks, n.check_failures) = (6, Some(2.0), 4, 1);
        (n.active_conns, n.inactive_conns) = (Some(7), Some(3));
        assert_eq!(a.content(), b.content());
        for change in [
            |s: &mut Status| s.nodes[0].weight = 49,
            |s: &mut Status| s.nodes[0].health = Some(49.0),
            |s: &mut Status| s.nodes[0].state = "down".into(),
            |s: &mut Status| s.nodes[0].last_error = Some("refused".into()),
            |s: &mut Status| s.nodes[0].drained = true,
            |s: &mut Status| s.nodes[0].weight_override = Some(10),
            |s: &mut Status| s.backend_error = Some("EPERM".into()),
            |s: &mut Status| s.reload.generation += 1,
            |s: &mut Status| s.drift += 1,
        ] {
            let mut c = b.clone();
            change(&mut c);
            assert_ne!(a.content(), c.content());
        }
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let mut v = serde_json::to_value(sample()).unwrap();
        v["added_by_a_newer_version"] = serde_json::json!(1);
        let back: Status = serde_json::from_value(v).unwrap();
        assert_eq!(back, sample());
    }
}
