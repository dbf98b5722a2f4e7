//! Desired destinations vs. what the kernel has: the minimal list of changes ([`reconcile`],
//! pure) and applying it ([`apply`]), idempotently as keepalived does.
//!
//! Invariants:
//! - one operation per destination that differs, none for one that matches;
//! - operations that add capacity (new destinations, higher weights) come before those that
//!   remove it, so a swap (sorry server out, a node back in) never leaves a moment with nobody
//!   to send new connections to;
//! - `Exists` on ADD and `NotFound` on EDIT/DEL mean someone else changed the table since the
//!   dump: ADD becomes EDIT, EDIT becomes ADD, DEL of a missing destination is done.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::ipvs::{Dest, DestEntry, DestStats, Ipvs, IpvsError, ServiceKey};

/// One change to a service's destinations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Add(Dest),
    Edit(Dest),
    Del(IpAddr, u16),
}

impl Op {
    /// Whether this change can only add capacity (applied first).
    fn adds_capacity(&self, current: &BTreeMap<(IpAddr, u16), Dest>) -> bool {
        match self {
            Op::Add(_) => true,
            Op::Edit(d) => current.get(&d.id()).is_some_and(|c| d.weight >= c.weight),
            Op::Del(..) => false,
        }
    }
}

/// Whether two destinations differ in anything the kernel lets us set.
fn differs(want: &Dest, have: &Dest) -> bool {
    want.weight != have.weight
        || want.forward != have.forward
        || want.upper_threshold != have.upper_threshold
        || want.lower_threshold != have.lower_threshold
}

/// The changes that turn `current` into `desired`. Destinations not desired are deleted (a node
/// removed from the spec, a sorry server no longer needed); unhealthy nodes are in `desired`
/// with weight 0, so they are never deleted here.
pub fn reconcile(desired: &[Dest], current: &[DestEntry]) -> Vec<Op> {
    let have: BTreeMap<(IpAddr, u16), Dest> =
        current.iter().map(|e| (e.dest.id(), e.dest)).collect();
    let mut wanted = BTreeMap::new();
    let mut ops = Vec::new();
    for d in desired {
        if wanted.insert(d.id(), ()).is_some() {
            continue; // a duplicate in desired: the first one wins
        }
        match have.get(&d.id()) {
            None => ops.push(Op::Add(*d)),
            Some(h) if differs(d, h) => ops.push(Op::Edit(*d)),
            Some(_) => {}
        }
    }
    for e in current {
        if !wanted.contains_key(&e.dest.id()) {
            ops.push(Op::Del(e.dest.addr, e.dest.port));
        }
    }
    // Stable: within each group the order above (spec order, then dump order) is kept.
    ops.sort_by_key(|op| !op.adds_capacity(&have));
    ops
}

/// Applies `ops` to the service `key`, best effort: every op is tried; the first hard error is
/// returned after the others were attempted. Returns the number of changes made.
pub fn apply(ipvs: &mut dyn Ipvs, key: &ServiceKey, ops: &[Op]) -> Result<usize, IpvsError> {
    let mut done = 0;
    let mut first_err = None;
    for op in ops {
        let r = match op {
            Op::Add(d) => match ipvs.add_dest(key, d) {
                Err(IpvsError::Exists { .. }) => ipvs.edit_dest(key, d),
                r => r,
            },
            Op::Edit(d) => match ipvs.edit_dest(key, d) {
                Err(IpvsError::NotFound { .. }) => ipvs.add_dest(key, d),
                r => r,
            },
            Op::Del(addr, port) => match ipvs.del_dest(key, *addr, *port) {
                Err(IpvsError::NotFound { .. }) => Ok(()),
                r => r,
            },
        };
        match r {
            Ok(()) => done += 1,
            Err(e) => {
                if first_err.is_none() {
                    first_err = Some(e);
                }
            }
        }
    }
    match first_err {
        None => Ok(done),
        Some(e) => Err(e),
    }
}

/// One reconciliation round: one dump of the service's destinations, the minimal changes, and
/// applying them. Returns the changes made (an empty list means the kernel already matched; a
/// non-empty list when `desired` did not change since the last round is drift).
pub fn sync(ipvs: &mut dyn Ipvs, key: &ServiceKey, desired: &[Dest]) -> Result<Vec<Op>, IpvsError> {
    let current = ipvs.dests(key)?;
    let ops = reconcile(desired, &current);
    apply(ipvs, key, &ops)?;
    Ok(ops)
}

/// What one [`sync_counting_drift`] round did and saw.
#[derive(Debug)]
pub struct Round {
    /// The changes made.
    pub ops: Vec<Op>,
    /// Changes someone else made since the last round.
    pub drift: usize,
    /// The kernel's counters per destination (address, port), from the round's dump — taken
    /// before its changes, which do not touch connections. What the status file shows as a
    /// node's active and inactive connections, at no extra cost.
    pub stats: BTreeMap<(IpAddr, u16), DestStats>,
}

/// [`sync`] that also counts **drift**: changes someone else made since `last_applied` (what
/// this supervisor programmed last time), measured on the same dump. `None` when there is no
/// trustworthy last state (first tick, a new service, a failed apply): drift is then 0.
pub fn sync_counting_drift(
    ipvs: &mut dyn Ipvs,
    key: &ServiceKey,
    desired: &[Dest],
    last_applied: Option<&[Dest]>,
) -> Result<Round, IpvsError> {
    let current = ipvs.dests(key)?;
    let drift = last_applied.map_or(0, |last| reconcile(last, &current).len());
    let ops = reconcile(desired, &current);
    apply(ipvs, key, &ops)?;
    Ok(Round {
        ops,
        drift,
        stats: current.iter().map(|e| (e.dest.id(), e.stats)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::memory::Memory;
    use crate::ipvs::{Family, Forward, Service};
    use proptest::prelude::*;

    fn key() -> ServiceKey {
        ServiceKey::fwmark(Family::V4, 7)
    }

    fn dest(last: u8, weight: u32) -> Dest {
        Dest::new(IpAddr::from([192, 0, 2, last]), 0, Forward::Ipip, weight)
    }

    fn entries(d: &[Dest]) -> Vec<DestEntry> {
        d.iter()
            .map(|d| DestEntry {
                dest: *d,
                stats: Default::default(),
            })
            .collect()
    }

    fn memory_with(current: &[Dest]) -> Memory {
        let mut m = Memory::new();
        m.add_service(&Service::new(key(), "wlc")).unwrap();
        for d in current {
            m.add_dest(&key(), d).unwrap();
        }
        m
    }

    #[test]
    fn minimal_changes() {
        let cur = [dest(1, 100), dest(2, 50), dest(9, 1)];
        let want = [dest(1, 100), dest(2, 40), dest(3, 1)];
        let ops = reconcile(&want, &entries(&cur));
        assert_eq!(
            ops,
            [
                Op::Add(dest(3, 1)),
                Op::Edit(dest(2, 40)),
                Op::Del(dest(9, 0).addr, 0)
            ]
        );
        assert!(reconcile(&want, &entries(&want)).is_empty());
    }

    #[test]
    fn capacity_first() {
        // All down → one back: the node's raise comes before the sorry server's removal.
        let cur = [dest(1, 0), dest(9, 1)];
        let want = [dest(1, 5)];
        let ops = reconcile(&want, &entries(&cur));
        assert_eq!(ops, [Op::Edit(dest(1, 5)), Op::Del(dest(9, 0).addr, 0)]);
        // Going all down: the sorry server is added before the node drops.
        let ops = reconcile(&[dest(1, 0), dest(9, 1)], &entries(&[dest(1, 5)]));
        assert_eq!(ops, [Op::Add(dest(9, 1)), Op::Edit(dest(1, 0))]);
    }

    #[test]
    fn apply_is_idempotent_like_keepalived() {
        let mut m = memory_with(&[dest(1, 10)]);
        // Stale view: ADD of an existing dest, EDIT of a missing one, DEL of a missing one.
        let ops = [
            Op::Add(dest(1, 20)),
            Op::Edit(dest(2, 30)),
            Op::Del(dest(3, 0).addr, 0),
        ];
        assert_eq!(apply(&mut m, &key(), &ops).unwrap(), 3);
        assert_eq!(m.weight(&key(), dest(1, 0).addr, 0), Some(20));
        assert_eq!(m.weight(&key(), dest(2, 0).addr, 0), Some(30));
        // A missing service is a hard error, reported after trying everything.
        let other = ServiceKey::Fwmark {
            family: Family::V4,
            mark: 8,
        };
        assert!(matches!(
            apply(&mut m, &other, &ops),
            Err(IpvsError::NotFound { .. })
        ));
    }

    #[test]
    fn drift_is_what_changed_behind_our_back() {
        let applied = [dest(1, 50), dest(2, 50)];
        let mut m = memory_with(&applied);
        let r = sync_counting_drift(&mut m, &key(), &[dest(1, 60), dest(2, 50)], Some(&applied))
            .unwrap();
        assert_eq!(
            (r.ops.len(), r.drift),
            (1, 0),
            "our own change is not drift"
        );
        // The dump's counters come along, one entry per destination it held.
        let ids: Vec<_> = r.stats.keys().copied().collect();
        assert_eq!(ids, [dest(1, 0).id(), dest(2, 0).id()]);
        // Someone runs `ipvsadm -e … -w 1` and adds a stranger.
        m.edit_dest(&key(), &dest(2, 1)).unwrap();
        m.add_dest(&key(), &dest(7, 3)).unwrap();
        let want = [dest(1, 60), dest(2, 50)];
        let r = sync_counting_drift(&mut m, &key(), &want, Some(&want)).unwrap();
        assert_eq!((r.ops.len(), r.drift), (2, 2));
        assert_eq!(r.stats.len(), 3, "the stranger was in the dump");
        let r = sync_counting_drift(&mut m, &key(), &want, None).unwrap();
        assert_eq!(r.drift, 0);
    }

    fn arb_dests() -> impl Strategy<Value = Vec<Dest>> {
        proptest::collection::btree_map(1u8..20, 0u32..5, 0..12)
            .prop_map(|m| m.into_iter().map(|(a, w)| dest(a, w)).collect())
    }

    proptest! {
        /// Applying the ops to a table holding `current` yields exactly `desired`, with one op
        /// per differing destination and none when nothing differs.
        #[test]
        fn reconcile_converges(current in arb_dests(), desired in arb_dests()) {
            let mut m = memory_with(&current);
            let ops = reconcile(&desired, &entries(&current));
            let differing = desired.iter().filter(|d| !current.contains(d)).count()
                + current.iter().filter(|c| !desired.iter().any(|d| d.id() == c.id())).count();
            prop_assert_eq!(ops.len(), differing);
            prop_assert_eq!(apply(&mut m, &key(), &ops).unwrap(), ops.len());
            let mut got: Vec<Dest> = m.dests(&key()).unwrap().into_iter().map(|e| e.dest).collect();
            let mut want = desired.clone();
            got.sort_by_key(Dest::id);
            want.sort_by_key(Dest::id);
            prop_assert_eq!(got, want);
            prop_assert!(reconcile(&desired, &m.dests(&key()).unwrap()).is_empty());
        }
    }
}
