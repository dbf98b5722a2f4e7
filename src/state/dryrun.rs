//! The `dry_run` backend: the in-memory IPVS table ([`Memory`]) persisted to
//! `<state>/dryrun-ipvs.json` after every change, so that processes other than the supervisor
//! (`monitor OCF_CHECK_LEVEL=10`, `stop` after a SIGKILL, a start after a crash) see the same
//! "kernel" the supervisor programmed. Writes are atomic (tempfile + rename); a reader never
//! sees half a table. Opening never creates the file: `monitor` must stay side-effect free.
//!
//! A dry run has no connections. To rehearse what depends on them (graceful removal,
//! `drain --wait`), connection counts can be pretended in [`CONNS_FILE_NAME`] beside the table:
//! a JSON object from destination id (as `status` names it) to `{"active_conns": N,
//! "inactive_conns": M}`, read on every dump and never written by big_brother. The process tier
//! uses it; a missing, unreadable, oversized or malformed file means no connections.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::repr::{DestRepr, ServiceRepr};
use super::write_atomic;
use crate::ipvs::memory::Memory;
use crate::ipvs::{
    Dest, DestEntry, Info, Ipvs, IpvsError, Service, ServiceKey, SyncDaemon, SyncState, Timeouts,
};

/// File name inside the state directory.
pub const FILE_NAME: &str = "dryrun-ipvs.json";
/// Pretended connection counts, beside the table (see the module's notes).
pub const CONNS_FILE_NAME: &str = "dryrun-conns.json";
/// Most bytes read from [`CONNS_FILE_NAME`].
const MAX_CONNS_FILE: u64 = 1 << 20;

/// One destination's pretended counters.
#[derive(Debug, Default, Deserialize)]
struct PretendConns {
    #[serde(default)]
    active_conns: u32,
    #[serde(default)]
    inactive_conns: u32,
}

/// The pretended counters beside `table` (empty when there are none or they cannot be read).
fn pretended(table: &Path) -> std::collections::BTreeMap<String, PretendConns> {
    use std::io::Read;
    let path = table.with_file_name(CONNS_FILE_NAME);
    let Ok(file) = std::fs::File::open(path) else {
        return Default::default();
    };
    let mut bytes = Vec::new();
    if file.take(MAX_CONNS_FILE).read_to_end(&mut bytes).is_err() {
        return Default::default();
    }
    serde_json::from_slice(&bytes).unwrap_or_default()
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TableRepr {
    services: Vec<ServiceEntry>,
    #[serde(default)]
    ops: OpCounts,
}

/// How many changes of each kind the table has seen since the file was created: what a test
/// needs to tell "edited in place" from "deleted and re-created" (the kernel shows the
/// difference through reset counters and lost connections; this table has neither).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpCounts {
    pub services_added: u64,
    pub services_edited: u64,
    pub services_deleted: u64,
    pub dests_added: u64,
    pub dests_edited: u64,
    pub dests_deleted: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct ServiceEntry {
    service: ServiceRepr,
    dests: Vec<DestRepr>,
}

/// A [`Memory`] table that mirrors itself to a JSON file.
pub struct FileBacked {
    mem: Memory,
    path: PathBuf,
    ops: OpCounts,
}

impl FileBacked {
    /// Loads `path` if it exists (an absent file is an empty table).
    pub fn open(path: &Path) -> Result<FileBacked, IpvsError> {
        let mut mem = Memory::new();
        let mut ops = OpCounts::default();
        match std::fs::read(path) {
            Ok(bytes) => {
                let table: TableRepr =
                    serde_json::from_slice(&bytes).map_err(|e| IpvsError::Decode {
                        op: "load dry-run table",
                        reason: format!("{}: {e}", path.display()),
                    })?;
                ops = table.ops;
                for entry in &table.services {
                    let svc = Service::from(&entry.service);
                    mem.add_service(&svc)?;
                    for d in &entry.dests {
                        mem.add_dest(&svc.key, &Dest::from(d))?;
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(IpvsError::Io {
                    op: "load dry-run table",
                    source,
                })
            }
        }
        Ok(FileBacked {
            mem,
            path: path.to_path_buf(),
            ops,
        })
    }

    /// The shared in-memory table (for tests and the demo display).
    pub fn memory(&self) -> &Memory {
        &self.mem
    }

    /// Changes made so far, by kind.
    pub fn ops(&self) -> OpCounts {
        self.ops
    }

    fn persist(&mut self) -> Result<(), IpvsError> {
        let mut table = TableRepr {
            services: Vec::new(),
            ops: self.ops,
        };
        for svc in self.mem.services()? {
            let dests = self
                .mem
                .dests(&svc.key)?
                .iter()
                .map(|e| DestRepr::from(&e.dest))
                .collect();
            table.services.push(ServiceEntry {
                service: ServiceRepr::from(&svc),
                dests,
            });
        }
        let json = serde_json::to_vec_pretty(&table).map_err(|e| IpvsError::Invalid {
            op: "save dry-run table",
            reason: e.to_string(),
        })?;
        write_atomic(&self.path, &json).map_err(|source| IpvsError::Io {
            op: "save dry-run table",
            source,
        })
    }

    /// Runs one mutation and persists the table when it succeeded.
    fn mutate(
        &mut self,
        count: fn(&mut OpCounts) -> &mut u64,
        f: impl FnOnce(&mut Memory) -> Result<(), IpvsError>,
    ) -> Result<(), IpvsError> {
        f(&mut self.mem)?;
        let n = count(&mut self.ops);
        // Counts are read back from the table file, which need not be ours: never wrap.
        *n = n.saturating_add(1);
        self.persist()
    }
}

impl Ipvs for FileBacked {
    fn info(&mut self) -> Result<Info, IpvsError> {
        self.mem.info()
    }
    fn services(&mut self) -> Result<Vec<Service>, IpvsError> {
        self.mem.services()
    }
    fn add_service(&mut self, svc: &Service) -> Result<(), IpvsError> {
        self.mutate(|o| &mut o.services_added, |m| m.add_service(svc))
    }
    fn edit_service(&mut self, svc: &Service) -> Result<(), IpvsError> {
        self.mutate(|o| &mut o.services_edited, |m| m.edit_service(svc))
    }
    fn del_service(&mut self, key: &ServiceKey) -> Result<(), IpvsError> {
        self.mutate(|o| &mut o.services_deleted, |m| m.del_service(key))
    }
    fn dests(&mut self, key: &ServiceKey) -> Result<Vec<DestEntry>, IpvsError> {
        let mut dests = self.mem.dests(key)?;
        let conns = pretended(&self.path);
        if !conns.is_empty() {
            for e in &mut dests {
                if let Some(c) = conns.get(&DestRepr::from(&e.dest).id()) {
                    e.stats.active_conns = c.active_conns;
                    e.stats.inactive_conns = c.inactive_conns;
                }
            }
        }
        Ok(dests)
    }
    fn add_dest(&mut self, key: &ServiceKey, dest: &Dest) -> Result<(), IpvsError> {
        self.mutate(|o| &mut o.dests_added, |m| m.add_dest(key, dest))
    }
    fn edit_dest(&mut self, key: &ServiceKey, dest: &Dest) -> Result<(), IpvsError> {
        self.mutate(|o| &mut o.dests_edited, |m| m.edit_dest(key, dest))
    }
    fn del_dest(&mut self, key: &ServiceKey, addr: IpAddr, port: u16) -> Result<(), IpvsError> {
        self.mutate(|o| &mut o.dests_deleted, |m| m.del_dest(key, addr, port))
    }
    // Namespace-wide state (sync daemons, timeouts) is not the supervisor's and not in the
    // file: it lives in this process's table only.
    fn sync_daemons(&mut self) -> Result<Vec<SyncDaemon>, IpvsError> {
        self.mem.sync_daemons()
    }
    fn start_sync_daemon(&mut self, daemon: &SyncDaemon) -> Result<(), IpvsError> {
        self.mem.start_sync_daemon(daemon)
    }
    fn stop_sync_daemon(&mut self, state: SyncState) -> Result<(), IpvsError> {
        self.mem.stop_sync_daemon(state)
    }
    fn timeouts(&mut self) -> Result<Timeouts, IpvsError> {
        self.mem.timeouts()
    }
    fn set_timeouts(&mut self, timeouts: &Timeouts) -> Result<(), IpvsError> {
        self.mem.set_timeouts(timeouts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::{Family, Forward};

    fn svc() -> Service {
        Service::new(ServiceKey::fwmark(Family::V4, 7), "wlc")
    }

    fn dest(last: u8, weight: u32) -> Dest {
        Dest::new(IpAddr::from([192, 0, 2, last]), 0, Forward::Ipip, weight)
    }

    #[test]
    fn survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let mut a = FileBacked::open(&path).unwrap();
        assert!(!path.exists(), "opening must not create the file");
        let s = svc();
        a.add_service(&s).unwrap();
        a.add_dest(&s.key, &dest(1, 10)).unwrap();
        a.add_dest(&s.key, &dest(2, 20)).unwrap();
        a.edit_dest(&s.key, &dest(2, 25)).unwrap();

        let mut b = FileBacked::open(&path).unwrap();
        assert_eq!(b.service(&s.key).unwrap(), Some(s.clone()));
        assert_eq!(
            b.ops(),
            OpCounts {
                services_added: 1,
                dests_added: 2,
                dests_edited: 1,
                ..OpCounts::default()
            },
            "the counts survive a reopen"
        );
        let weights: Vec<u32> = b
            .dests(&s.key)
            .unwrap()
            .iter()
            .map(|e| e.dest.weight)
            .collect();
        assert_eq!(weights, [10, 25]);
        b.del_service(&s.key).unwrap();
        assert!(FileBacked::open(&path)
            .unwrap()
            .services()
            .unwrap()
            .is_empty());
    }

    #[test]
    fn counts_read_back_at_their_maximum_do_not_wrap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let mut a = FileBacked::open(&path).unwrap();
        a.add_service(&svc()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["ops"]["dests_added"] = u64::MAX.into();
        std::fs::write(&path, v.to_string()).unwrap();
        let mut b = FileBacked::open(&path).unwrap();
        b.add_dest(&svc().key, &dest(1, 10)).unwrap();
        assert_eq!(b.ops().dests_added, u64::MAX);
    }

    #[test]
    fn failed_mutations_do_not_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let mut a = FileBacked::open(&path).unwrap();
        assert!(matches!(
            a.del_service(&svc().key),
            Err(IpvsError::NotFound { .. })
        ));
        assert!(!path.exists());
    }

    #[test]
    fn a_corrupt_table_is_a_decode_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, "{not json").unwrap();
        let err = FileBacked::open(&path).err().unwrap();
        assert!(err.to_string().contains(FILE_NAME), "{err}");
    }
}
