//! The supervisor's watch on the cluster-wide drains in the Pacemaker CIB (issue 15): one
//! thread, `cib-watch`, polls them (`state::cib_drain::Reader`) once per check interval — but
//! not more than once a second — and leaves the last result where the controller picks it up at
//! its tick; a read that changed the drains or overrides rings the controller's wake, so the
//! change is applied at once, not at a tick an idle controller may have planned seconds away.
//! A poll runs `cibadmin` only when the CIB may have changed (its disk copy, or
//! `CIB_file`, has a new stamp; at least every five minutes against the live cluster): a query per
//! interval cost a director enough CPU to slow a failover (issue 14). `cibadmin` never runs on the controller's thread: a slow or hung CIB (each run is
//! bounded by `cib_drain::TIMEOUT`) delays nothing but the next read.
//!
//! Drains and overrides come in one read. A read that fails — the CIB cannot be read, or an
//! override in it cannot (`CibError::BadOverride`) — keeps the drains and overrides of the last
//! good one (a CIB that cannot be read must never undrain a node in maintenance, nor lift or
//! set an override) and is reported. A CIB that has never answered since
//! start means there is no Pacemaker here, or that it did not answer yet: under Pacemaker (the
//! agent started this supervisor: `OCF_RESOURCE_INSTANCE` is set) it is asked again every
//! [`NO_CIB_EVERY`], since a director that just took over must learn its drains soon; outside
//! (a supervisor run by hand, a benchmark) only every [`NO_CIB_MAX`]. And a supervisor outside
//! Pacemaker where nothing says there is a cluster (no `CIB_file`, no CIB on this node's disk,
//! no `CIB_port` of a remote CIB) runs no `cibadmin` at all: it looks for those signs again
//! every [`NO_CIB_MAX`] (a `stat`), and reads once one appears. Meanwhile only local drains
//! apply.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::wake::Wake;
use crate::log;
use crate::state::cib_drain::{self, CibError, CibSet, Drains, Reader};
use crate::state::cib_override::Overrides;
use crate::state::status::unix_secs;

/// Least time between two reads.
pub const MIN_EVERY: Duration = Duration::from_secs(1);
/// Between reads while no CIB has answered yet, under Pacemaker.
pub const NO_CIB_EVERY: Duration = Duration::from_secs(30);
/// Between reads while no CIB has answered yet, outside Pacemaker. Each read is a `cibadmin`
/// process: a hundred supervisors on a host without a cluster (the VM benchmark) spawned three
/// a second at 30 s, a large share of their CPU under emulation (issue 18).
pub const NO_CIB_MAX: Duration = Duration::from_secs(600);

/// The wait before the next read while no CIB has answered yet: see the module's text.
pub fn no_cib_wait(under_pacemaker: bool) -> Duration {
    if under_pacemaker {
        NO_CIB_EVERY
    } else {
        NO_CIB_MAX
    }
}

/// Whether a CIB may answer here: Pacemaker started this supervisor, `CIB_file` names one,
/// this node has a CIB on disk, or `CIB_port` points `cibadmin` at a remote one. Without any of
/// these a `cibadmin` can only fail, and its cost is not small: a thousand supervisors on a
/// host without a cluster (the VM benchmark) each ran one ten minutes after start, and the
/// thousand processes starved the VM for minutes (checks of healthy nodes timed out; issue 18).
fn cluster_here(under_pacemaker: bool, cib_file: bool, disk_copy: bool, remote: bool) -> bool {
    under_pacemaker || cib_file || disk_copy || remote
}

/// [`cluster_here`] with what the environment and the disk say now.
fn cluster_signs(under_pacemaker: bool) -> bool {
    cluster_here(
        under_pacemaker,
        cib_drain::cib_file().is_some(),
        Path::new(cib_drain::LIVE_COPY).exists(),
        std::env::var_os("CIB_port").is_some_and(|v| !v.is_empty()),
    )
}

/// What the watch last saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// The drains of the last successful read.
    pub drains: Drains,
    /// The overrides of the last successful read.
    pub overrides: Overrides,
    /// Whether any read succeeded since start.
    pub reachable: bool,
    /// Unix seconds of the last successful read.
    pub read_at: Option<u64>,
    /// Why the last read failed, if it did.
    pub error: Option<String>,
}

/// The handle the controller keeps; dropping it stops the thread (at once, or once a
/// `cibadmin` run in progress ends).
#[derive(Debug)]
pub struct CibWatch {
    seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
    every_ms: Arc<AtomicU64>,
    /// Set (and the controller's wake rung) when a read brought drains or overrides that differ
    /// from the last: the controller ticks at once rather than at its next planned tick.
    news: Arc<AtomicBool>,
    thread: std::thread::Thread,
}

impl CibWatch {
    /// Starts the thread for `cluster`, reading every `interval` (at least [`MIN_EVERY`]).
    /// A read that changes the drains or overrides rings `wake`.
    /// `under_pacemaker`: the agent started this supervisor (`OCF_RESOURCE_INSTANCE` set).
    pub fn spawn(
        cluster: &str,
        interval: Duration,
        under_pacemaker: bool,
        wake: Arc<Wake>,
    ) -> std::io::Result<CibWatch> {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let every_ms = Arc::new(AtomicU64::new(every_ms(interval)));
        let news = Arc::new(AtomicBool::new(false));
        let shared = Shared {
            seen: seen.clone(),
            stop: stop.clone(),
            every_ms: every_ms.clone(),
            news: news.clone(),
            wake,
        };
        let cluster = cluster.to_string();
        let handle = std::thread::Builder::new()
            .name("cib-watch".into())
            .spawn(move || run(&cluster, under_pacemaker, &shared))?;
        Ok(CibWatch {
            seen,
            stop,
            every_ms,
            news,
            thread: handle.thread().clone(),
        })
    }

    /// A reload may change the check interval.
    pub fn set_interval(&self, interval: Duration) {
        self.every_ms.store(every_ms(interval), Ordering::Relaxed);
    }

    /// Whether a read changed the drains or overrides since the last call (and clears it).
    pub fn take_news(&self) -> bool {
        self.news.swap(false, Ordering::Relaxed)
    }

    /// A copy of what was seen last.
    pub fn seen(&self) -> Seen {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for CibWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.unpark();
    }
}

/// The time between reads for a check interval, in ms (at least [`MIN_EVERY`]).
fn every_ms(interval: Duration) -> u64 {
    u64::try_from(interval.max(MIN_EVERY).as_millis()).unwrap_or(u64::MAX)
}

/// The thread's side of a [`CibWatch`].
struct Shared {
    seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
    every_ms: Arc<AtomicU64>,
    news: Arc<AtomicBool>,
    wake: Arc<Wake>,
}

fn run(cluster: &str, managed: bool, sh: &Shared) {
    let mut reader = Reader::new(cluster);
    let mut next = Instant::now();
    while !sh.stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now < next {
            // Parked until the next read, not woken every 100 ms to look at the stop flag: a
            // hundred idle supervisors did a thousand wake-ups a second that way (issue 18).
            // Drop unparks it; a spurious wake-up just goes round again.
            std::thread::park_timeout(next - now);
            continue;
        }
        if !cluster_signs(managed) {
            // No cluster here: look again later, without a `cibadmin` that could only fail.
            next = now + NO_CIB_MAX;
            continue;
        }
        let Some(reachable) = fold(cluster, sh, reader.poll()) else {
            return;
        };
        let every = if reachable || cib_drain::cib_file().is_some() {
            Duration::from_millis(sh.every_ms.load(Ordering::Relaxed))
        } else {
            no_cib_wait(managed)
        };
        next = now + every;
    }
}

/// Folds one read into what is shared with the controller, and tells it (news, and a ring of
/// its wake) when the drains or overrides changed. Whether the CIB is reachable now; `None`
/// when the lock is poisoned (the controller panicked: the thread ends).
fn fold(cluster: &str, sh: &Shared, result: Result<Option<CibSet>, CibError>) -> Option<bool> {
    let (reachable, changed) = {
        let mut s = sh.seen.lock().ok()?;
        // Only a successful read with a set replaces what was seen (`take`).
        let changed = matches!(&result, Ok(Some(set))
            if set.drains != s.drains || set.overrides != s.overrides);
        take(cluster, &mut s, result);
        (s.reachable, changed)
    };
    if changed {
        sh.news.store(true, Ordering::Relaxed);
        sh.wake.ring();
    }
    Some(reachable)
}

/// Folds one read into what was seen: new drains and overrides replace the old only on success.
fn take(cluster: &str, s: &mut Seen, result: Result<Option<CibSet>, CibError>) {
    let at = unix_secs(SystemTime::now());
    match result {
        Ok(read) => {
            if let Some(set) = read {
                if set.drains != s.drains || !s.reachable {
                    log::info(format!(
                        "{cluster}: cluster-wide drains (CIB) now [{}]",
                        set.drains.keys().cloned().collect::<Vec<_>>().join(", ")
                    ));
                }
                if set.overrides != s.overrides && (s.reachable || !set.overrides.is_empty()) {
                    log::warn(format!(
                        "{cluster}: cluster-wide overrides (CIB) now {}",
                        describe(&set.overrides)
                    ));
                }
                s.drains = set.drains;
                s.overrides = set.overrides;
            }
            if s.error.is_some() && s.reachable {
                log::info(format!("{cluster}: the CIB can be read again"));
            }
            s.reachable = true;
            s.read_at = Some(at);
            s.error = None;
        }
        Err(e) => {
            let msg = e.to_string();
            // A bad override is news even before the first good read: the CIB answered (so
            // it is reachable, and status says what is wrong with it).
            s.reachable |= matches!(e, CibError::BadOverride { .. });
            if s.error.as_deref() != Some(msg.as_str()) && s.reachable {
                log::warn(format!(
                    "{cluster}: cannot read the CIB, keeping the {} cluster-wide drains and {} overrides read last: {msg}",
                    s.drains.len(),
                    s.overrides.nodes.len() + usize::from(s.overrides.cluster.is_some())
                ));
            }
            s.error = Some(msg);
        }
    }
}

/// The overrides for a log line: `[cluster down, 10.0.0.1 = 50]`, `none`.
fn describe(o: &Overrides) -> String {
    if o.is_empty() {
        return "none".into();
    }
    let mut parts: Vec<String> = o
        .cluster
        .iter()
        .map(|c| format!("cluster {}", c.state.as_str()))
        .collect();
    parts.extend(o.nodes.iter().map(|(n, w)| format!("{n} = {}", w.weight)));
    format!("[{}]", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::cib_drain::Record;
    use crate::state::cib_override::ClusterOverride;
    use crate::state::overrides::Override;
    use std::collections::BTreeMap;

    #[test]
    fn a_read_that_changes_the_drains_rings_the_controller_once() {
        let sh = Shared {
            seen: Arc::new(Mutex::new(Seen::default())),
            stop: Arc::new(AtomicBool::new(false)),
            every_ms: Arc::new(AtomicU64::new(1000)),
            news: Arc::new(AtomicBool::new(false)),
            wake: Arc::new(Wake::new()),
        };
        let rung = |sh: &Shared| {
            let r = sh.wake.wait(Duration::ZERO);
            (r, sh.news.swap(false, Ordering::Relaxed))
        };
        let d: Drains = [("10.0.0.1".to_string(), Record::default())].into();
        let set = |d: &Drains| Ok(Some(CibSet::of(d.clone(), Overrides::default())));
        assert_eq!(fold("w", &sh, Ok(None)), Some(true));
        assert_eq!(rung(&sh), (false, false), "reachable, nothing new");
        assert_eq!(fold("w", &sh, set(&d)), Some(true));
        assert_eq!(rung(&sh), (true, true), "a new drain rings");
        assert_eq!(fold("w", &sh, set(&d)), Some(true));
        assert_eq!(rung(&sh), (false, false), "the same drains again do not");
        let _ = fold("w", &sh, Err(CibError::Unreachable("no".into())));
        assert_eq!(
            rung(&sh),
            (false, false),
            "a failed read keeps them, silently"
        );
        assert_eq!(fold("w", &sh, set(&Drains::new())), Some(true));
        assert_eq!(rung(&sh), (true, true), "the undrain rings");
    }

    /// Issue 18: `cibadmin` runs only where a CIB may answer; any one sign is enough.
    #[test]
    fn cibadmin_runs_only_where_a_cluster_may_answer() {
        for sign in [
            (true, false, false, false),
            (false, true, false, false),
            (false, false, true, false),
            (false, false, false, true),
        ] {
            assert!(cluster_here(sign.0, sign.1, sign.2, sign.3), "{sign:?}");
        }
        assert!(!cluster_here(false, false, false, false));
    }

    #[test]
    fn without_a_cib_only_a_supervisor_under_pacemaker_asks_again_soon() {
        assert_eq!(no_cib_wait(true), Duration::from_secs(30));
        assert_eq!(no_cib_wait(false), Duration::from_secs(600));
    }

    #[test]
    fn a_failed_read_keeps_the_last_drains() {
        let mut s = Seen::default();
        take("w", &mut s, Err(CibError::Unreachable("no".into())));
        assert!(!s.reachable && s.error.is_some() && s.drains.is_empty());
        let d: Drains = [("10.0.0.1".to_string(), Record::default())].into();
        let set = CibSet::of;
        let o = Overrides {
            cluster: Some(ClusterOverride {
                state: Override::Down,
                record: Record::default(),
            }),
            nodes: BTreeMap::new(),
        };
        take("w", &mut s, Ok(Some(set(d.clone(), o.clone()))));
        assert!(s.reachable && s.error.is_none() && s.drains == d);
        take("w", &mut s, Err(CibError::Timeout { argv: "x".into() }));
        assert_eq!((&s.drains, &s.overrides), (&d, &o), "kept");
        let bad = CibError::BadOverride {
            set: "big_brother-w".into(),
            name: "override".into(),
            value: "sideways".into(),
            expected: "up or down",
        };
        take("w", &mut s, Err(bad));
        assert_eq!(
            (&s.drains, &s.overrides),
            (&d, &o),
            "kept on a bad override"
        );
        assert!(s.error.as_deref().unwrap().contains("sideways"));
        assert!(s.reachable && s.error.is_some());
        take("w", &mut s, Ok(None));
        assert_eq!(s.drains, d, "unchanged file CIB");
        assert!(s.error.is_none());
        take("w", &mut s, Ok(Some(CibSet::default())));
        assert!(s.drains.is_empty() && s.overrides.is_empty());
    }
}
