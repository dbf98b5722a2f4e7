//! An in-process IPVS table with the kernel's semantics (EEXIST/ENOENT, destinations keyed by
//! address and port). Used by unit tests, by `dry_run` (shadow mode: everything but the kernel)
//! and by `big_brother demo`. Cloning shares the table, so a test or the demo's display can watch
//! what the controller programs.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{Dest, DestEntry, DestStats, Info, Ipvs, IpvsError, Service, ServiceKey};

/// Destinations of one service, keyed as the kernel keys them.
type Dests = BTreeMap<(IpAddr, u16), Dest>;

#[derive(Default)]
struct Table {
    services: BTreeMap<ServiceKey, (Service, Dests)>,
    ops: u64,
}

/// In-memory IPVS backend. Cheap to clone; clones share one table.
#[derive(Clone, Default)]
pub struct Memory {
    table: Arc<Mutex<Table>>,
}

impl Memory {
    pub fn new() -> Memory {
        Memory::default()
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // A panic while holding the lock leaves the table consistent (every mutation is one
        // map operation), so a poisoned lock is still safe to use.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of mutating operations applied so far (for tests and benchmarks).
    pub fn mutations(&self) -> u64 {
        self.lock().ops
    }

    /// Weight of one destination, if present (for tests and the demo).
    pub fn weight(&self, key: &ServiceKey, addr: IpAddr, port: u16) -> Option<u32> {
        self.lock()
            .services
            .get(key)
            .and_then(|(_, d)| d.get(&(addr, port)).map(|d| d.weight))
    }
}

impl Ipvs for Memory {
    fn info(&mut self) -> Result<Info, IpvsError> {
        Ok(Info {
            version: 0x010201,
            conn_table_size: 4096,
        })
    }

    fn services(&mut self) -> Result<Vec<Service>, IpvsError> {
        Ok(self
            .lock()
            .services
            .values()
            .map(|(s, _)| s.clone())
            .collect())
    }

    fn add_service(&mut self, svc: &Service) -> Result<(), IpvsError> {
        let mut t = self.lock();
        if t.services.contains_key(&svc.key) {
            return Err(IpvsError::Exists { op: "add service" });
        }
        t.services.insert(svc.key, (svc.clone(), BTreeMap::new()));
        t.ops = t.ops.saturating_add(1);
        Ok(())
    }

    fn edit_service(&mut self, svc: &Service) -> Result<(), IpvsError> {
        let mut t = self.lock();
        match t.services.get_mut(&svc.key) {
            Some((s, _)) => *s = svc.clone(),
            None => return Err(IpvsError::NotFound { op: "edit service" }),
        }
        t.ops = t.ops.saturating_add(1);
        Ok(())
    }

    fn del_service(&mut self, key: &ServiceKey) -> Result<(), IpvsError> {
        let mut t = self.lock();
        if t.services.remove(key).is_none() {
            return Err(IpvsError::NotFound {
                op: "delete service",
            });
        }
        t.ops = t.ops.saturating_add(1);
        Ok(())
    }

    fn dests(&mut self, key: &ServiceKey) -> Result<Vec<DestEntry>, IpvsError> {
        let t = self.lock();
        let (_, dests) = t.services.get(key).ok_or(IpvsError::NotFound {
            op: "list destinations",
        })?;
        Ok(dests
            .values()
            .map(|d| DestEntry {
                dest: *d,
                stats: DestStats::default(),
            })
            .collect())
    }

    fn add_dest(&mut self, key: &ServiceKey, dest: &Dest) -> Result<(), IpvsError> {
        let mut t = self.lock();
        let (_, dests) = t.services.get_mut(key).ok_or(IpvsError::NotFound {
            op: "add destination",
        })?;
        if dests.contains_key(&dest.id()) {
            return Err(IpvsError::Exists {
                op: "add destination",
            });
        }
        dests.insert(dest.id(), *dest);
        t.ops = t.ops.saturating_add(1);
        Ok(())
    }

    fn edit_dest(&mut self, key: &ServiceKey, dest: &Dest) -> Result<(), IpvsError> {
        let mut t = self.lock();
        let slot = t
            .services
            .get_mut(key)
            .and_then(|(_, d)| d.get_mut(&dest.id()))
            .ok_or(IpvsError::NotFound {
                op: "edit destination",
            })?;
        *slot = *dest;
        t.ops = t.ops.saturating_add(1);
        Ok(())
    }

    fn del_dest(&mut self, key: &ServiceKey, addr: IpAddr, port: u16) -> Result<(), IpvsError> {
        let mut t = self.lock();
        let removed = t
            .services
            .get_mut(key)
            .and_then(|(_, d)| d.remove(&(addr, port)));
        if removed.is_none() {
            return Err(IpvsError::NotFound {
                op: "delete destination",
            });
        }
        t.ops = t.ops.saturating_add(1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::{Family, Forward};

    fn svc() -> Service {
        Service {
            key: ServiceKey::Fwmark {
                family: Family::V4,
                mark: 7,
            },
            scheduler: "wlc".into(),
            flags: 0,
            timeout: 0,
        }
    }

    fn dest(w: u32) -> Dest {
        Dest {
            addr: "192.0.2.1".parse().unwrap(),
            port: 0,
            forward: Forward::Ipip,
            weight: w,
            upper_threshold: 0,
            lower_threshold: 0,
        }
    }

    #[test]
    fn kernel_like_errors() {
        let mut m = Memory::new();
        let s = svc();
        m.add_service(&s).unwrap();
        assert!(matches!(m.add_service(&s), Err(IpvsError::Exists { .. })));
        assert!(matches!(
            m.edit_dest(&s.key, &dest(1)),
            Err(IpvsError::NotFound { .. })
        ));
        m.add_dest(&s.key, &dest(1)).unwrap();
        m.edit_dest(&s.key, &dest(50)).unwrap();
        assert_eq!(m.weight(&s.key, dest(0).addr, 0), Some(50));
        let shared = m.clone();
        m.del_service(&s.key).unwrap();
        assert!(shared.is_empty_for_test());
        assert!(matches!(
            m.del_service(&s.key),
            Err(IpvsError::NotFound { .. })
        ));
    }

    impl Memory {
        fn is_empty_for_test(&self) -> bool {
            self.lock().services.is_empty()
        }
    }
}
