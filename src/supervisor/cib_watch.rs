//! The supervisor's watch on the cluster-wide drains in the Pacemaker CIB (issue 15): one
//! thread, `cib-watch`, polls them (`state::cib_drain::Reader`) once per check interval — but
//! not more than once a second — and leaves the last result where the controller picks it up at
//! its tick. A poll runs `cibadmin` only when the CIB may have changed (its disk copy, or
//! `CIB_file`, has a new stamp; at least once a minute against the live cluster): a query per
//! interval cost a director enough CPU to slow a failover (issue 14). `cibadmin` never runs on the controller's thread: a slow or hung CIB (each run is
//! bounded by `cib_drain::TIMEOUT`) delays nothing but the next read.
//!
//! Drains and overrides come in one read. A read that fails — the CIB cannot be read, or an
//! override in it cannot (`CibError::BadOverride`) — keeps the drains and overrides of the last
//! good one (a CIB that cannot be read must never undrain a node in maintenance, nor lift or
//! set an override) and is reported. A CIB that has never answered since
//! start means there is no Pacemaker here (a test, a host outside the cluster): it is asked
//! again every [`NO_CIB_EVERY`], and only local drains apply.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::log;
use crate::state::cib_drain::{self, CibError, CibSet, Drains, Reader};
use crate::state::cib_override::Overrides;
use crate::state::status::unix_secs;

/// Least time between two reads.
pub const MIN_EVERY: Duration = Duration::from_secs(1);
/// Between reads while no CIB has answered yet.
pub const NO_CIB_EVERY: Duration = Duration::from_secs(30);

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

/// The handle the controller keeps; dropping it stops the thread (within 100 ms, or once a
/// `cibadmin` run in progress ends).
#[derive(Debug)]
pub struct CibWatch {
    seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
    every_ms: Arc<AtomicU64>,
}

impl CibWatch {
    /// Starts the thread for `cluster`, reading every `interval` (at least [`MIN_EVERY`]).
    pub fn spawn(cluster: &str, interval: Duration) -> std::io::Result<CibWatch> {
        let w = CibWatch {
            seen: Arc::new(Mutex::new(Seen::default())),
            stop: Arc::new(AtomicBool::new(false)),
            every_ms: Arc::new(AtomicU64::new(0)),
        };
        w.set_interval(interval);
        let (seen, stop, every) = (w.seen.clone(), w.stop.clone(), w.every_ms.clone());
        let cluster = cluster.to_string();
        std::thread::Builder::new()
            .name("cib-watch".into())
            .spawn(move || run(&cluster, &seen, &stop, &every))?;
        Ok(w)
    }

    /// A reload may change the check interval.
    pub fn set_interval(&self, interval: Duration) {
        let ms = u64::try_from(interval.max(MIN_EVERY).as_millis()).unwrap_or(u64::MAX);
        self.every_ms.store(ms, Ordering::Relaxed);
    }

    /// A copy of what was seen last.
    pub fn seen(&self) -> Seen {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for CibWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn run(cluster: &str, seen: &Mutex<Seen>, stop: &AtomicBool, every_ms: &AtomicU64) {
    let mut reader = Reader::new(cluster);
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now < next {
            std::thread::sleep((next - now).min(Duration::from_millis(100)));
            continue;
        }
        let result = reader.poll();
        let reachable = {
            let Ok(mut s) = seen.lock() else { return };
            take(cluster, &mut s, result);
            s.reachable
        };
        let every = if reachable || cib_drain::cib_file().is_some() {
            Duration::from_millis(every_ms.load(Ordering::Relaxed))
        } else {
            NO_CIB_EVERY
        };
        next = now + every;
    }
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
