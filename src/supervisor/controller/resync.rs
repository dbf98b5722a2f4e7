//! Synced connections bound to destinations added after them (see [`crate::ipvs::rebind`]): a
//! cold director that takes over creates its service and destinations only then, while its
//! backup sync daemon created the old director's connections long before, unbound. Each time
//! destinations are added, the synced connections naming them are announced once more to this
//! host's own backup daemon, which binds them.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::mpsc::{self, Sender};

use super::Controller;
use crate::ipvs::rebind::{self, SyncedConn};
use crate::ipvs::{iface, Dest, Forward, ServiceKey, SyncDaemon, SyncState};
use crate::log;

/// One announcement: everything the worker needs, owned.
struct Job {
    cluster: String,
    key: ServiceKey,
    forward: Forward,
    added: Vec<Dest>,
    backup: SyncDaemon,
    source: Ipv4Addr,
}

/// The thread that reads the kernel's connection table and announces: off the controller,
/// because the table can hold a million connections (up to [`rebind::READ_LIMIT`] of text) and
/// the announcement is paced to what the backup daemon takes (seconds for a large table), while
/// a cold director that just took over must go on ticking. Started at the first announcement;
/// jobs run one after the other, in order; it ends when the controller drops its sender.
#[derive(Default)]
pub(super) struct Worker {
    tx: Option<Sender<Job>>,
}

impl Worker {
    fn submit(&mut self, job: Job) -> Result<(), String> {
        if self.tx.is_none() {
            let (tx, rx) = mpsc::channel::<Job>();
            std::thread::Builder::new()
                .name("rebind".into())
                .spawn(move || {
                    for job in rx {
                        announce(&job);
                    }
                })
                .map_err(|e| format!("starting the rebind thread: {e}"))?;
            self.tx = Some(tx);
        }
        let tx = self.tx.as_ref().ok_or("no rebind thread")?;
        tx.send(job).map_err(|_| {
            // The thread is gone (it panicked): start a new one next time.
            self.tx = None;
            "the rebind thread has ended".to_string()
        })
    }
}

impl Controller {
    /// Hands the synced connections to `added` to the worker, to be announced to the local
    /// backup daemon, if one runs. Best effort: a failure is logged, never fatal (the
    /// connections are then lost as they were before, and new ones are served all the same).
    pub(super) fn rebind_synced(&mut self, added: &[Dest]) {
        if added.is_empty() {
            return;
        }
        if let Err(why) = self.submit_rebind(added) {
            log::warn(format!(
                "{}: synced connections not re-announced to the backup sync daemon: {why}",
                self.ident.cluster
            ));
        }
    }

    fn submit_rebind(&mut self, added: &[Dest]) -> Result<(), String> {
        // A backend that cannot list daemons has none to announce to: not worth a warning on
        // every destination added.
        let daemons = match self.ipvs.sync_daemons() {
            Ok(d) => d,
            Err(e) => {
                log::debug(format!(
                    "{}: sync daemons not listed: {e}",
                    self.ident.cluster
                ));
                return Ok(());
            }
        };
        let Some(backup) = daemons.into_iter().find(|d| d.state == SyncState::Backup) else {
            return Ok(());
        };
        let source = iface::lookup(&backup.interface)
            .map_err(|e| format!("{}: {e}", backup.interface))?
            .and_then(|i| i.ipv4.first().copied())
            .ok_or_else(|| format!("{} has no IPv4 address", backup.interface))?;
        self.rebind.submit(Job {
            cluster: self.ident.cluster.clone(),
            key: self.key,
            forward: self.spec.forward,
            added: added.to_vec(),
            backup,
            source,
        })
    }
}

/// The worker's part: read, pick, announce, log.
fn announce(job: &Job) {
    match try_announce(job) {
        Ok(0) => {}
        Ok(n) => log::info(format!(
            "{}: announced {n} synced connections to the local backup sync daemon so they bind to the destinations just added",
            job.cluster
        )),
        Err(why) => log::warn(format!(
            "{}: synced connections not re-announced to the backup sync daemon: {why}",
            job.cluster
        )),
    }
}

fn try_announce(job: &Job) -> Result<usize, String> {
    let table = rebind::read_table().map_err(|e| format!("{}: {e}", rebind::CONN_SYNC_PROC))?;
    let conns = ours(&rebind::parse(&table), &job.key, &job.added);
    if conns.is_empty() {
        return Ok(0);
    }
    let fwmark = match job.key {
        ServiceKey::Fwmark { mark, .. } => mark,
        ServiceKey::Addr { .. } => 0,
    };
    let msgs = rebind::messages(job.backup.sync_id, &conns, job.forward, fwmark);
    let sent =
        rebind::announce(&job.backup, job.source, &msgs).map_err(|e| format!("sending: {e}"))?;
    // An IPv6 group sends nothing (see `rebind::announce`): nothing announced.
    Ok(if sent == 0 { 0 } else { conns.len() })
}

/// The connections of this service (an address service: its address and port) whose real
/// server is one of `added` (a fwmark service's destination may carry port 0: any port).
fn ours(conns: &[SyncedConn], key: &ServiceKey, added: &[Dest]) -> Vec<SyncedConn> {
    conns
        .iter()
        .filter(|c| match key {
            ServiceKey::Addr { addr, port, .. } => *addr == IpAddr::V4(c.vaddr) && *port == c.vport,
            ServiceKey::Fwmark { .. } => true,
        })
        .filter(|c| {
            added
                .iter()
                .any(|d| d.addr == IpAddr::V4(c.daddr) && (d.port == c.dport || d.port == 0))
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::{Family, Forward, Protocol};
    use std::net::Ipv4Addr;

    fn conn(v: [u8; 4], vport: u16, d: [u8; 4]) -> SyncedConn {
        SyncedConn {
            protocol: 6,
            caddr: Ipv4Addr::new(192, 0, 2, 100),
            cport: 40000,
            vaddr: Ipv4Addr::from(v),
            vport,
            daddr: Ipv4Addr::from(d),
            dport: 7,
            state: 1,
            expires: 900,
        }
    }

    #[test]
    fn only_this_services_connections_to_added_destinations() {
        let conns = [
            conn([203, 0, 113, 10], 7, [198, 51, 100, 1]),
            conn([203, 0, 113, 10], 7, [198, 51, 100, 2]),
            conn([203, 0, 113, 11], 7, [198, 51, 100, 1]),
            conn([203, 0, 113, 10], 8, [198, 51, 100, 1]),
        ];
        let added = [Dest::new(
            "198.51.100.1".parse().unwrap(),
            7,
            Forward::Ipip,
            5,
        )];
        let key = ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: "203.0.113.10".parse().unwrap(),
            port: 7,
        };
        assert_eq!(ours(&conns, &key, &added), vec![conns[0].clone()]);
        let fwm = ServiceKey::fwmark(Family::V4, 7);
        let any_port = [Dest::new(
            "198.51.100.1".parse().unwrap(),
            0,
            Forward::Ipip,
            5,
        )];
        assert_eq!(ours(&conns, &fwm, &any_port).len(), 3);
    }
}
