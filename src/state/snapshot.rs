//! Weights of a crashed supervisor's service, kept across Pacemaker's recovery.
//!
//! When a supervisor dies (SIGKILL, crash), Pacemaker's monitor reports 1 and Pacemaker recovers
//! the resource on the same node by `stop` then `start`. `stop` must remove the IPVS service (a
//! stopped resource leaves nothing behind, and a service without a supervisor is what monitor
//! calls half-started), so the new supervisor would find nothing to adopt and every node would
//! ramp up from 0 again — the original big_brother's weakness after a restart. So `stop`, before
//! removing a service whose supervisor is already gone, writes its destinations and weights to
//! `<state>/crash-weights.json`; the next `start` of the same service within
//! [`MAX_AGE`] re-creates the destinations with those weights and adopts them, exactly as if it
//! had found them in the kernel. A clean stop (SIGTERM honoured) writes nothing: an operator's
//! stop and start begins afresh. The file is read once and removed.

use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::repr::{DestRepr, KeyRepr};
use super::{write_atomic, StateDir};
use crate::ipvs::{Dest, DestEntry, ServiceKey};

pub const FILE_NAME: &str = "crash-weights.json";

/// Older snapshots are ignored: by then the nodes' health may be anything, and a ramp from 0 is
/// the safe start. Pacemaker's stop-then-start recovery takes seconds.
pub const MAX_AGE: Duration = Duration::from_secs(300);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub service: KeyRepr,
    /// Unix seconds.
    pub taken_at: u64,
    pub dests: Vec<DestRepr>,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Records the destinations of `key` before `stop` removes a crashed supervisor's service.
pub fn save(state: &StateDir, key: &ServiceKey, dests: &[DestEntry]) -> io::Result<()> {
    let snap = Snapshot {
        service: KeyRepr::from(key),
        taken_at: now_secs(),
        dests: dests.iter().map(|e| DestRepr::from(&e.dest)).collect(),
    };
    let bytes = serde_json::to_vec_pretty(&snap).map_err(io::Error::other)?;
    write_atomic(&state.path().join(FILE_NAME), &bytes)
}

/// Takes the snapshot for `key` if there is a fresh one (removing the file in any case).
pub fn take(state: &StateDir, key: &ServiceKey) -> Option<Vec<Dest>> {
    let path = state.path().join(FILE_NAME);
    let text = std::fs::read_to_string(&path).ok()?;
    let _ = std::fs::remove_file(&path);
    fresh(&text, key, now_secs())
}

fn fresh(text: &str, key: &ServiceKey, now: u64) -> Option<Vec<Dest>> {
    let snap: Snapshot = serde_json::from_str(text).ok()?;
    let young = now.saturating_sub(snap.taken_at) <= MAX_AGE.as_secs();
    (young && snap.service == KeyRepr::from(key))
        .then(|| snap.dests.iter().map(Dest::from).collect())
}

/// True when a snapshot file exists (for tests and diagnostics).
pub fn exists(state_dir: &Path) -> bool {
    state_dir.join(FILE_NAME).exists()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::{DestStats, Family, Forward};

    fn key(mark: u32) -> ServiceKey {
        ServiceKey::fwmark(Family::V4, mark)
    }

    fn entry(w: u32) -> DestEntry {
        DestEntry {
            dest: Dest::new("198.51.100.1".parse().unwrap(), 0, Forward::Ipip, w),
            stats: DestStats::default(),
        }
    }

    #[test]
    fn round_trip_once_for_the_same_service() {
        let tmp = tempfile::tempdir().unwrap();
        let state = StateDir::at(tmp.path());
        save(&state, &key(7), &[entry(80)]).unwrap();
        assert!(exists(tmp.path()));
        assert_eq!(
            take(&state, &key(8)),
            None,
            "another service never adopts it"
        );
        assert!(!exists(tmp.path()), "read once, then gone");
        save(&state, &key(7), &[entry(80)]).unwrap();
        let got = take(&state, &key(7)).unwrap();
        assert_eq!(got[0].weight, 80);
        assert_eq!(take(&state, &key(7)), None);
    }

    #[test]
    fn stale_snapshots_are_ignored() {
        let snap = Snapshot {
            service: KeyRepr::from(&key(7)),
            taken_at: 1000,
            dests: vec![DestRepr::from(&entry(50).dest)],
        };
        let text = serde_json::to_string(&snap).unwrap();
        assert!(fresh(&text, &key(7), 1000 + MAX_AGE.as_secs()).is_some());
        assert!(fresh(&text, &key(7), 1001 + MAX_AGE.as_secs()).is_none());
        assert!(fresh("garbage", &key(7), 1000).is_none());
    }
}
