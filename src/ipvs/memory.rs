//! An in-process IPVS table with the kernel's semantics (EEXIST/ENOENT, destinations keyed by
//! address and port, one master and one backup sync daemon, timeouts where 0 keeps the value).
//! Used by unit tests, by `dry_run` (shadow mode: everything but the kernel) and by
//! `big_brother demo`. Cloning shares the table, so a test or the demo's display can watch what
//! the controller programs.
//!
//! Requests are checked exactly as the netlink backend checks them before sending
//! ([`Request::check`]), and the kernel's own refusals are modelled in the kernel's order. What
//! this twin cannot know: interfaces (every name exists unless [`Memory::set_interfaces`] says
//! otherwise; MTU 1500, always up), scheduler modules (every name loads), routes.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use super::netlink::codec::Request;
use super::netlink::{MIXED_DEST, MIXED_SYNC};
use super::{
    Dest, DestEntry, DestStats, Family, Forward, Info, Ipvs, IpvsError, Service, ServiceKey,
    SyncDaemon, SyncState, Timeouts,
};

/// Destinations of one service, keyed as the kernel keys them.
type Dests = BTreeMap<(IpAddr, u16), Dest>;

/// The MTU this twin assumes for every interface.
const MTU: u32 = 1500;

struct Table {
    services: BTreeMap<ServiceKey, (Service, Dests)>,
    daemons: BTreeMap<SyncState, SyncDaemon>,
    timeouts: Timeouts,
    /// `None`: every interface name exists.
    interfaces: Option<BTreeSet<String>>,
    ops: u64,
}

impl Default for Table {
    fn default() -> Table {
        Table {
            services: BTreeMap::new(),
            daemons: BTreeMap::new(),
            timeouts: Timeouts::LINUX_DEFAULT,
            interfaces: None,
            ops: 0,
        }
    }
}

impl Table {
    /// The kernel's `mixed_address_family_dests > 0`.
    fn has_mixed_family_dests(&self) -> bool {
        self.services
            .iter()
            .any(|(key, (_, dests))| dests.values().any(|d| Family::of(&d.addr) != key.family()))
    }
}

/// The checks the netlink backend makes before sending, with the same error.
fn check(op: &'static str, req: Request) -> Result<(), IpvsError> {
    req.check().map_err(|e| IpvsError::Invalid {
        op,
        reason: e.reason,
    })
}

/// The kernel's refusal of a destination of the other family (`ip_vs_genl_set_cmd`).
fn check_family(
    op: &'static str,
    t: &Table,
    key: &ServiceKey,
    dest: &Dest,
) -> Result<(), IpvsError> {
    let mixed = Family::of(&dest.addr) != key.family();
    if mixed && (dest.forward != Forward::Ipip || !t.daemons.is_empty()) {
        return Err(IpvsError::Invalid {
            op,
            reason: format!("{MIXED_DEST} (EINVAL)"),
        });
    }
    Ok(())
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

    /// What adding and editing a destination check first: the request is valid, its service
    /// exists, the families match. The table stays locked for the change.
    fn dest_op(
        &self,
        op: &'static str,
        req: Request,
        key: &ServiceKey,
        dest: &Dest,
    ) -> Result<MutexGuard<'_, Table>, IpvsError> {
        check(op, req)?;
        let t = self.lock();
        if !t.services.contains_key(key) {
            return Err(IpvsError::NotFound { op });
        }
        check_family(op, &t, key, dest)?;
        Ok(t)
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

    /// From now on only these interfaces exist (starting a daemon elsewhere is `ENODEV`).
    pub fn set_interfaces(&self, names: &[&str]) {
        self.lock().interfaces = Some(names.iter().map(|n| n.to_string()).collect());
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
        check("add service", Request::NewService(svc))?;
        let mut t = self.lock();
        if t.services.contains_key(&svc.key) {
            return Err(IpvsError::Exists { op: "add service" });
        }
        t.services.insert(svc.key, (svc.clone(), BTreeMap::new()));
        t.ops = t.ops.saturating_add(1);
        Ok(())
    }

    fn edit_service(&mut self, svc: &Service) -> Result<(), IpvsError> {
        check("edit service", Request::SetService(svc))?;
        let mut t = self.lock();
        match t.services.get_mut(&svc.key) {
            Some((s, _)) => *s = svc.clone(),
            None => return Err(IpvsError::NotFound { op: "edit service" }),
        }
        t.ops = t.ops.saturating_add(1);
        Ok(())
    }

    fn del_service(&mut self, key: &ServiceKey) -> Result<(), IpvsError> {
        check("delete service", Request::DelService(key))?;
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
        let op = "add destination";
        let mut t = self.dest_op(op, Request::NewDest(key, dest), key, dest)?;
        let (_, dests) = t.services.get_mut(key).ok_or(IpvsError::NotFound { op })?;
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
        let op = "edit destination";
        let mut t = self.dest_op(op, Request::SetDest(key, dest), key, dest)?;
        let slot = t
            .services
            .get_mut(key)
            .and_then(|(_, d)| d.get_mut(&dest.id()))
            .ok_or(IpvsError::NotFound { op })?;
        *slot = *dest;
        t.ops = t.ops.saturating_add(1);
        Ok(())
    }

    fn del_dest(&mut self, key: &ServiceKey, addr: IpAddr, port: u16) -> Result<(), IpvsError> {
        check("delete destination", Request::DelDest(key, addr, port))?;
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

    fn sync_daemons(&mut self) -> Result<Vec<SyncDaemon>, IpvsError> {
        Ok(self.lock().daemons.values().cloned().collect())
    }

    /// The kernel's order: values, then mixed-family services (`ip_vs_genl_new_daemon`), then
    /// the interface, then a daemon of that state (`start_sync_thread`).
    fn start_sync_daemon(&mut self, daemon: &SyncDaemon) -> Result<(), IpvsError> {
        let op = "start sync daemon";
        check(op, Request::NewDaemon(daemon))?;
        let mut t = self.lock();
        if t.has_mixed_family_dests() {
            return Err(IpvsError::Invalid {
                op,
                reason: format!("{MIXED_SYNC} (EINVAL)"),
            });
        }
        if let Some(names) = &t.interfaces {
            if !names.contains(&daemon.interface) {
                return Err(IpvsError::NoSuchInterface {
                    op,
                    interface: daemon.interface.clone(),
                });
            }
        }
        if t.daemons.contains_key(&daemon.state) {
            return Err(IpvsError::DaemonRunning {
                op,
                state: daemon.state,
            });
        }
        t.daemons.insert(daemon.state, daemon.effective(MTU));
        t.ops += 1;
        Ok(())
    }

    fn stop_sync_daemon(&mut self, state: SyncState) -> Result<(), IpvsError> {
        let mut t = self.lock();
        if t.daemons.remove(&state).is_none() {
            return Err(IpvsError::DaemonNotRunning {
                op: "stop sync daemon",
                state,
            });
        }
        t.ops += 1;
        Ok(())
    }

    fn timeouts(&mut self) -> Result<Timeouts, IpvsError> {
        Ok(self.lock().timeouts)
    }

    fn set_timeouts(&mut self, timeouts: &Timeouts) -> Result<(), IpvsError> {
        check("set timeouts", Request::SetConfig(timeouts))?;
        let mut t = self.lock();
        t.timeouts = t.timeouts.updated(timeouts);
        t.ops += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::{Family, Netmask, SchedFlag};

    fn svc() -> Service {
        Service::new(ServiceKey::fwmark(Family::V4, 7), "wlc")
    }

    fn dest(w: u32) -> Dest {
        Dest::new("192.0.2.1".parse().unwrap(), 0, Forward::Ipip, w)
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

    /// Options travel whole: add and edit keep netmask, flags and thresholds as given, and the
    /// netlink backend's pre-send checks apply.
    #[test]
    fn service_options_and_thresholds_are_kept_and_checked() {
        let mut m = Memory::new();
        let key = ServiceKey::Addr {
            protocol: crate::ipvs::Protocol::Tcp,
            addr: "2001:db8::70".parse().unwrap(),
            port: 80,
        };
        let mut s = Service {
            flags: 0x1 | SchedFlag::MhFallback.bit(),
            timeout: 300,
            netmask: Netmask::V6(64),
            ..Service::new(key, "mh")
        };
        m.add_service(&s).unwrap();
        assert_eq!(m.service(&key).unwrap().as_ref(), Some(&s));
        s.netmask = Netmask::V6(48);
        s.flags = SchedFlag::MhPort.bit();
        m.edit_service(&s).unwrap();
        assert_eq!(
            m.service(&key).unwrap().unwrap().sched_flags(),
            vec![SchedFlag::MhPort]
        );
        for (bad, want) in [
            (Netmask::V6(0), "between 1 and 128"),
            (Netmask::V4("255.255.0.0".parse().unwrap()), "is for IPv4"),
        ] {
            let e = m
                .edit_service(&Service {
                    netmask: bad,
                    ..s.clone()
                })
                .unwrap_err();
            assert!(
                matches!(&e, IpvsError::Invalid { reason, .. } if reason.contains(want)),
                "{e}"
            );
        }
        assert_eq!(m.service(&key).unwrap().unwrap().netmask, Netmask::V6(48));
        let mut d = Dest {
            addr: "2001:db8::1".parse().unwrap(),
            port: 80,
            forward: Forward::Dr,
            weight: 1,
            upper_threshold: 100,
            lower_threshold: 10,
        };
        m.add_dest(&key, &d).unwrap();
        d.upper_threshold = 200;
        d.lower_threshold = 150;
        m.edit_dest(&key, &d).unwrap();
        assert_eq!(m.dests(&key).unwrap()[0].dest, d);
        d.lower_threshold = 201;
        assert!(matches!(
            m.edit_dest(&key, &d),
            Err(IpvsError::Invalid { .. })
        ));
    }

    #[test]
    fn sync_daemons_follow_the_kernel() {
        let mut m = Memory::new();
        assert_eq!(m.sync_daemons().unwrap(), vec![]);
        let master = SyncDaemon::new(SyncState::Master, "s0", 42);
        let mut backup = SyncDaemon::new(SyncState::Backup, "s0", 42);
        backup.group = Some("239.1.2.3".parse().unwrap());
        backup.port = Some(9000);
        m.start_sync_daemon(&master).unwrap();
        m.start_sync_daemon(&backup).unwrap();
        let listed = m.sync_daemons().unwrap();
        assert_eq!(listed, vec![master.effective(1500), backup.effective(1500)]);
        assert_eq!(
            listed[0].to_string(),
            "master sync daemon (mcast=s0, syncid=42, maxlen=1472, group=224.0.0.81, \
             port=8848, ttl=1)"
        );

        // A second master, even with another id: EEXIST, and the first one is untouched.
        let e = m
            .start_sync_daemon(&SyncDaemon::new(SyncState::Master, "s0", 7))
            .unwrap_err();
        assert!(
            matches!(
                e,
                IpvsError::DaemonRunning {
                    state: SyncState::Master,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            "start sync daemon: a master sync daemon already runs in this network namespace \
             (the kernel runs at most one master and one backup); stop it first"
        );
        assert_eq!(m.sync_daemons().unwrap()[0].sync_id, 42);

        m.stop_sync_daemon(SyncState::Master).unwrap();
        let e = m.stop_sync_daemon(SyncState::Master).unwrap_err();
        assert!(matches!(e, IpvsError::DaemonNotRunning { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "stop sync daemon: no master sync daemon is running"
        );
        assert_eq!(m.sync_daemons().unwrap().len(), 1);

        // Unknown interfaces, once the twin knows the interfaces; checked before EEXIST.
        m.set_interfaces(&["s0"]);
        let e = m
            .start_sync_daemon(&SyncDaemon::new(SyncState::Backup, "eth9", 1))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "start sync daemon: no network interface \"eth9\" in this network namespace"
        );
        // Values the kernel would refuse or change: refused before anything happens.
        let mut bad = master.clone();
        bad.ttl = Some(0);
        assert!(matches!(
            m.start_sync_daemon(&bad),
            Err(IpvsError::Invalid { .. })
        ));
        assert_eq!(m.mutations(), 3);
    }

    #[test]
    fn sync_daemons_and_mixed_family_services_exclude_each_other() {
        let mut m = Memory::new();
        let s = svc();
        m.add_service(&s).unwrap();
        let mut v6 = dest(1);
        v6.addr = "2001:db8::3".parse().unwrap();
        // Across families only IPIP works.
        v6.forward = Forward::Dr;
        let e = m.add_dest(&s.key, &v6).unwrap_err();
        assert!(
            matches!(&e, IpvsError::Invalid { reason, .. } if reason.contains("IPIP")),
            "{e}"
        );
        v6.forward = Forward::Ipip;
        m.add_dest(&s.key, &v6).unwrap();
        let e = m
            .start_sync_daemon(&SyncDaemon::new(SyncState::Backup, "s0", 1))
            .unwrap_err();
        assert!(
            matches!(&e, IpvsError::Invalid { reason, .. } if reason.contains("sync protocol")),
            "{e}"
        );
        m.del_dest(&s.key, v6.addr, 0).unwrap();
        m.start_sync_daemon(&SyncDaemon::new(SyncState::Backup, "s0", 1))
            .unwrap();
        let e = m.add_dest(&s.key, &v6).unwrap_err();
        assert!(
            matches!(&e, IpvsError::Invalid { reason, .. } if reason.contains("sync daemon")),
            "{e}"
        );
        m.add_dest(&s.key, &dest(1)).unwrap();
    }

    #[test]
    fn timeouts_zero_keeps_and_bounds() {
        let mut m = Memory::new();
        assert_eq!(m.timeouts().unwrap(), Timeouts::LINUX_DEFAULT);
        m.set_timeouts(&Timeouts {
            tcp: 100,
            tcp_fin: 0,
            udp: 30,
        })
        .unwrap();
        assert_eq!(m.timeouts().unwrap().to_string(), "100 120 30");
        let e = m
            .set_timeouts(&Timeouts {
                tcp: Timeouts::MAX_SECONDS + 1,
                tcp_fin: 0,
                udp: 0,
            })
            .unwrap_err();
        assert!(matches!(e, IpvsError::Invalid { .. }), "{e}");
        assert_eq!(m.timeouts().unwrap().to_string(), "100 120 30");
    }

    impl Memory {
        fn is_empty_for_test(&self) -> bool {
            self.lock().services.is_empty()
        }
    }
}
