//! The sync agent's actions on the kernel: which of the two daemons (master, backup) are this
//! resource's, start what is missing, stop exactly its own. Generic over [`Ipvs`] (the kernel in
//! production, [`crate::ipvs::memory::Memory`] in the unit tests) and over how interfaces are
//! looked up, so every case runs without a kernel.
//!
//! "Ours" means: running with exactly the values this resource's parameters ask for
//! ([`SyncDaemon::differences`] is empty). The kernel records no owner, so a daemon with the
//! same values is indistinguishable from ours and is treated as ours (start is then a no-op,
//! which is what Pacemaker needs after an agent crash); one with any other value is someone
//! else's and is never adopted, restarted or stopped.

use std::io;

use super::error::SyncError;
use crate::ipvs::iface::Interface;
use crate::ipvs::{Ipvs, IpvsError, SyncConfig, SyncDaemon, SyncState};

/// Both states, in the order they are started (master first: it is the one with more ways to
/// fail, so a failure leaves nothing behind more often).
pub const STATES: [SyncState; 2] = [SyncState::Master, SyncState::Backup];

/// What runs in the kernel for one state, compared with this resource's wish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Slot {
    Absent,
    Ours(SyncDaemon),
    /// Someone else's: the running daemon and how it differs.
    Foreign(SyncDaemon, Vec<String>),
}

/// The monitor's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Both daemons run with this resource's values.
    Running,
    /// Neither of ours runs (a foreign daemon may: `notes` say so).
    Stopped { notes: Vec<String> },
}

/// Both slots, master then backup.
pub fn slots(ipvs: &mut dyn Ipvs, p: &SyncConfig) -> Result<[Slot; 2], SyncError> {
    let running = ipvs.sync_daemons()?;
    Ok(STATES.map(|state| {
        let want = p.daemon(state);
        match running.iter().find(|d| d.state == state) {
            None => Slot::Absent,
            Some(d) => {
                let diff = want.differences(d);
                if diff.is_empty() {
                    Slot::Ours(d.clone())
                } else {
                    Slot::Foreign(d.clone(), diff)
                }
            }
        }
    }))
}

fn foreign(d: &SyncDaemon, diff: &[String]) -> SyncError {
    SyncError::Foreign {
        state: d.state,
        running: d.to_string(),
        differences: diff.join(", "),
    }
}

/// Monitor: both ours → running; neither ours → stopped; one of them → failed (Pacemaker
/// recovers by stop + start).
pub fn monitor(ipvs: &mut dyn Ipvs, p: &SyncConfig) -> Result<Verdict, SyncError> {
    let slots = slots(ipvs, p)?;
    let ours = slots.iter().filter(|s| matches!(s, Slot::Ours(_))).count();
    let notes: Vec<String> = slots
        .iter()
        .filter_map(|s| match s {
            Slot::Foreign(d, diff) => Some(foreign(d, diff).to_string()),
            _ => None,
        })
        .collect();
    match ours {
        2 => Ok(Verdict::Running),
        0 => Ok(Verdict::Stopped { notes }),
        _ => {
            let missing: Vec<String> = STATES
                .iter()
                .zip(slots.iter())
                .filter(|(_, s)| !matches!(s, Slot::Ours(_)))
                .map(|(state, s)| match s {
                    Slot::Foreign(d, diff) => foreign(d, diff).to_string(),
                    _ => format!("the {state} sync daemon is not running"),
                })
                .collect();
            Err(SyncError::Partial(format!(
                "only part of the connection sync runs: {}",
                missing.join("; ")
            )))
        }
    }
}

/// Start: refuse (changing nothing) when a foreign daemon holds a state; check the interface;
/// start what is missing, master first; if the second start fails, stop the first again.
pub fn start(
    ipvs: &mut dyn Ipvs,
    p: &SyncConfig,
    lookup: &dyn Fn(&str) -> io::Result<Option<Interface>>,
) -> Result<(), SyncError> {
    let slots = slots(ipvs, p)?;
    for s in &slots {
        if let Slot::Foreign(d, diff) = s {
            return Err(foreign(d, diff));
        }
    }
    let todo: Vec<SyncState> = STATES
        .iter()
        .zip(slots.iter())
        .filter(|(_, s)| matches!(s, Slot::Absent))
        .map(|(state, _)| *state)
        .collect();
    if todo.is_empty() {
        return Ok(());
    }
    let iface = lookup(&p.interface)
        .map_err(SyncError::Interfaces)?
        .ok_or_else(|| SyncError::NoInterface {
            interface: p.interface.clone(),
        })?;
    if todo.contains(&SyncState::Master) && iface.ipv4.is_empty() {
        return Err(SyncError::NoIpv4 {
            interface: p.interface.clone(),
        });
    }
    let mut started = Vec::new();
    for state in todo {
        if let Err(e) = start_one(ipvs, p, state) {
            for s in started {
                // Undo our own half-start; the original error is what matters.
                let _ = ipvs.stop_sync_daemon(s);
            }
            return Err(e);
        }
        started.push(state);
    }
    match monitor(ipvs, p)? {
        Verdict::Running => Ok(()),
        Verdict::Stopped { .. } => Err(SyncError::Partial(
            "the sync daemons were started but the kernel no longer lists them".into(),
        )),
    }
}

fn start_one(ipvs: &mut dyn Ipvs, p: &SyncConfig, state: SyncState) -> Result<(), SyncError> {
    let want = p.daemon(state);
    match ipvs.start_sync_daemon(&want) {
        Ok(()) => Ok(()),
        // Someone started one between our read and our start: say whose values it has.
        Err(IpvsError::DaemonRunning { .. }) => {
            let running = ipvs.sync_daemons()?;
            match running.iter().find(|d| d.state == state) {
                Some(d) if want.differences(d).is_empty() => Ok(()),
                Some(d) => Err(foreign(d, &want.differences(d))),
                None => Err(SyncError::Partial(format!(
                    "the kernel refused a {state} sync daemon as already running, then listed none"
                ))),
            }
        }
        Err(IpvsError::NoSuchInterface { .. }) => Err(SyncError::NoInterface {
            interface: p.interface.clone(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// Stop: remove our daemons; leave a foreign one running (a note for the log says so). Stopping
/// what is stopped succeeds.
pub fn stop(ipvs: &mut dyn Ipvs, p: &SyncConfig) -> Result<Vec<String>, SyncError> {
    let mut notes = Vec::new();
    for slot in slots(ipvs, p)? {
        match slot {
            Slot::Absent => {}
            Slot::Ours(d) => match ipvs.stop_sync_daemon(d.state) {
                Ok(()) | Err(IpvsError::DaemonNotRunning { .. }) => {}
                Err(e) => return Err(e.into()),
            },
            Slot::Foreign(d, diff) => notes.push(format!(
                "left running: {} (not this resource's: {})",
                d,
                diff.join(", ")
            )),
        }
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::ipvs::memory::Memory;

    fn params(id: u8) -> SyncConfig {
        SyncConfig::new("sync0", id)
    }

    fn with_v4(_: &str) -> io::Result<Option<Interface>> {
        Ok(Some(Interface {
            ipv4: vec![Ipv4Addr::new(10, 0, 0, 1)],
        }))
    }

    fn without_v4(_: &str) -> io::Result<Option<Interface>> {
        Ok(Some(Interface::default()))
    }

    fn missing(_: &str) -> io::Result<Option<Interface>> {
        Ok(None)
    }

    #[test]
    fn start_monitor_stop_round() {
        let mut m = Memory::new();
        let p = params(42);
        assert_eq!(
            monitor(&mut m, &p).unwrap(),
            Verdict::Stopped { notes: vec![] }
        );
        start(&mut m, &p, &with_v4).unwrap();
        start(&mut m, &p, &with_v4).unwrap();
        assert_eq!(monitor(&mut m, &p).unwrap(), Verdict::Running);
        let running = m.sync_daemons().unwrap();
        assert_eq!(running.len(), 2);
        assert!(running
            .iter()
            .all(|d| d.sync_id == 42 && d.interface == "sync0"));
        assert_eq!(stop(&mut m, &p).unwrap(), Vec::<String>::new());
        assert_eq!(stop(&mut m, &p).unwrap(), Vec::<String>::new());
        assert_eq!(m.sync_daemons().unwrap(), vec![]);
    }

    #[test]
    fn a_foreign_daemon_is_refused_and_left_alone() {
        let mut m = Memory::new();
        let theirs = SyncDaemon::new(SyncState::Backup, "sync0", 7);
        m.start_sync_daemon(&theirs).unwrap();
        let p = params(42);
        let err = start(&mut m, &p, &with_v4).unwrap_err();
        assert!(
            matches!(
                err,
                SyncError::Foreign {
                    state: SyncState::Backup,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("sync id 7 (wanted 42)"), "{err}");
        // Nothing started, not even the free master.
        assert_eq!(m.sync_daemons().unwrap().len(), 1);
        match monitor(&mut m, &p).unwrap() {
            Verdict::Stopped { notes } => assert_eq!(notes.len(), 1, "{notes:?}"),
            v => panic!("{v:?}"),
        }
        let notes = stop(&mut m, &p).unwrap();
        assert!(
            notes[0].starts_with("left running: backup sync daemon"),
            "{notes:?}"
        );
        assert_eq!(m.sync_daemons().unwrap().len(), 1);
    }

    #[test]
    fn stop_removes_only_ours_beside_a_foreign_one() {
        let mut m = Memory::new();
        m.start_sync_daemon(&SyncDaemon::new(SyncState::Master, "sync0", 42))
            .unwrap();
        m.start_sync_daemon(&SyncDaemon::new(SyncState::Backup, "other0", 42))
            .unwrap();
        let p = params(42);
        assert!(matches!(monitor(&mut m, &p), Err(SyncError::Partial(_))));
        let notes = stop(&mut m, &p).unwrap();
        assert_eq!(notes.len(), 1);
        let left = m.sync_daemons().unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].interface, "other0");
    }

    #[test]
    fn half_running_is_a_failure_and_start_completes_it() {
        let mut m = Memory::new();
        let p = params(3);
        m.start_sync_daemon(&p.daemon(SyncState::Backup)).unwrap();
        let err = monitor(&mut m, &p).unwrap_err();
        assert!(
            err.to_string()
                .contains("master sync daemon is not running"),
            "{err}"
        );
        start(&mut m, &p, &with_v4).unwrap();
        assert_eq!(monitor(&mut m, &p).unwrap(), Verdict::Running);
    }

    #[test]
    fn interface_errors_are_explained_and_change_nothing() {
        let mut m = Memory::new();
        let p = params(1);
        let err = start(&mut m, &p, &missing).unwrap_err();
        assert!(
            err.to_string()
                .contains("does not exist on this host (ENODEV)"),
            "{err}"
        );
        let err = start(&mut m, &p, &without_v4).unwrap_err();
        assert!(err.to_string().contains("has no IPv4 address"), "{err}");
        assert_eq!(m.sync_daemons().unwrap(), vec![]);
        // The kernel's own ENODEV (interface gone between lookup and start) reads the same.
        m.set_interfaces(&["eth0"]);
        let err = start(&mut m, &p, &with_v4).unwrap_err();
        assert!(matches!(err, SyncError::NoInterface { .. }), "{err}");
        assert_eq!(m.sync_daemons().unwrap(), vec![]);
    }

    #[test]
    fn custom_values_are_ours_only_when_equal() {
        let mut m = Memory::new();
        let mut p = params(9);
        p.group = Some("239.1.2.3".parse().unwrap());
        p.port = Some(9000);
        p.ttl = Some(2);
        p.max_len = Some(1400);
        start(&mut m, &p, &with_v4).unwrap();
        assert_eq!(monitor(&mut m, &p).unwrap(), Verdict::Running);
        let mut other = p.clone();
        other.port = Some(9001);
        assert!(matches!(
            monitor(&mut m, &other).unwrap(),
            Verdict::Stopped { .. }
        ));
        assert!(matches!(
            start(&mut m, &other, &with_v4),
            Err(SyncError::Foreign { .. })
        ));
    }
}
