//! `stop`: SIGTERM to the supervisor (it removes its service itself and exits), SIGKILL if it
//! does not exit in time, then make sure the service is gone through the same backend, and clean
//! the state directory. Idempotent: stopping a stopped cluster is 0. Bounded by the stop timeout
//! (`OCF_RESKEY_CRM_meta_timeout`). It returns an error only when the supervisor survives SIGKILL
//! or the service could not be removed: a failed stop gets the node fenced, so nothing else
//! may fail it.

use std::time::{Duration, Instant};

use super::env::{OcfEnv, Params};
use super::monitor::known_service;
use crate::error::Error;
use crate::ipvs::{Ipvs, IpvsError, ServiceKey};
use crate::log;
use crate::state::backend::{open_backend, BackendError};
use crate::state::snapshot;
use crate::state::{Liveness, StateDir};

pub fn stop(env: &OcfEnv, params: &Params, deadline: Instant) -> Result<(), Error> {
    let state = StateDir::new(&env.rsctmp, &params.cluster);
    let liveness = state.liveness().map_err(|source| Error::Io {
        what: "lock",
        path: state.lock(),
        source,
    })?;
    // A supervisor that is already gone crashed (a clean stop always goes through SIGTERM): its
    // weights are kept for the start Pacemaker's recovery runs next (`supervisor::snapshot`).
    let crashed = match liveness {
        Liveness::Running { pid } => {
            terminate(&state, pid, deadline)?;
            false
        }
        Liveness::Stopped => true,
    };
    let table_empty = remove_service(&state, params, crashed)?;
    clean_state_dir(&state, table_empty);
    Ok(())
}

/// Ends the supervisor holding the lock: SIGTERM, then SIGKILL with a reserve of the budget.
pub fn terminate(state: &StateDir, pid: Option<i32>, deadline: Instant) -> Result<(), Error> {
    // The supervisor writes its pid right after taking the lock; give it a moment.
    let pid = match pid {
        Some(p) => p,
        None => {
            std::thread::sleep(Duration::from_millis(50));
            match state.liveness() {
                Ok(Liveness::Running { pid: Some(p) }) => p,
                Ok(Liveness::Stopped) => return Ok(()),
                _ => {
                    return Err(Error::Unhealthy(format!(
                        "{} is locked by a process that did not record its pid",
                        state.lock().display()
                    )))
                }
            }
        }
    };
    let started = Instant::now();
    signal(pid, libc::SIGTERM);
    let left = deadline.saturating_duration_since(started);
    let reserve = (left / 4)
        .clamp(Duration::from_millis(500), Duration::from_secs(5))
        .min(left / 2);
    if wait_released(state, deadline - reserve) {
        log::info(format!("supervisor pid {pid} exited after SIGTERM"));
        return Ok(());
    }
    log::warn(format!(
        "supervisor pid {pid} still running {} ms after SIGTERM; sending SIGKILL",
        started.elapsed().as_millis()
    ));
    signal(pid, libc::SIGKILL);
    if wait_released(
        state,
        deadline.max(Instant::now() + Duration::from_millis(200)),
    ) {
        return Ok(());
    }
    Err(Error::StopTimeout {
        pid,
        waited: started.elapsed(),
    })
}

fn signal(pid: i32, sig: libc::c_int) {
    // SAFETY: kill has no memory preconditions. The pid came from the lock file while the lock
    // was held, so it is the supervisor's.
    unsafe { libc::kill(pid, sig) };
}

/// Polls the lock until it is free or `until`; true when free.
fn wait_released(state: &StateDir, until: Instant) -> bool {
    loop {
        if matches!(state.liveness(), Ok(Liveness::Stopped)) {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Removes our service if it is still there (the supervisor was SIGKILLed, crashed, or never
/// got to it). Returns whether the dry-run table is empty afterwards (then its file can go).
/// `crashed`: the supervisor was dead before this stop; snapshot the weights first.
fn remove_service(state: &StateDir, params: &Params, crashed: bool) -> Result<bool, Error> {
    let Some((key, dry_run)) = known_service(state, params) else {
        log::warn(format!(
            "{}: no status file and no readable spec; nothing known to remove",
            params.cluster
        ));
        return Ok(true);
    };
    let mut ipvs = match open_backend(dry_run, state) {
        Ok(b) => b,
        Err(BackendError::Ipvs(IpvsError::NotAvailable)) => return Ok(true),
        Err(e) => return Err(e.into()),
    };
    let present = ipvs.service(&key).map_err(|e| Error::Removal {
        service: key.to_string(),
        errors: vec![e],
    })?;
    if present.is_some() {
        if crashed {
            match ipvs.dests(&key) {
                Ok(dests) if !dests.is_empty() => match snapshot::save(state, &key, &dests) {
                    Ok(()) => log::info(format!(
                        "{}: kept the weights of {} destinations for the next start",
                        params.cluster,
                        dests.len()
                    )),
                    Err(e) => log::warn(format!("cannot keep the weights of {key}: {e}")),
                },
                Ok(_) => {}
                Err(e) => log::warn(format!("cannot read the weights of {key}: {e}")),
            }
        }
        teardown(ipvs.as_mut(), &key)?;
        log::info(format!("{}: removed {key}", params.cluster));
    }
    Ok(dry_run && ipvs.services().map(|s| s.is_empty()).unwrap_or(false))
}

/// Deletes the service; if the kernel refuses, deletes what it can (each destination) and tries
/// once more, reporting every failure (best-effort teardown).
fn teardown(ipvs: &mut dyn Ipvs, key: &ServiceKey) -> Result<(), Error> {
    let first = match ipvs.del_service(key) {
        Ok(()) | Err(IpvsError::NotFound { .. }) => return Ok(()),
        Err(e) => e,
    };
    let mut errors = vec![first];
    if let Ok(dests) = ipvs.dests(key) {
        for d in dests {
            if let Err(e) = ipvs.del_dest(key, d.dest.addr, d.dest.port) {
                errors.push(e);
            }
        }
    }
    match ipvs.del_service(key) {
        Ok(()) | Err(IpvsError::NotFound { .. }) => Ok(()),
        Err(e) => {
            errors.push(e);
            Err(Error::Removal {
                service: key.to_string(),
                errors,
            })
        }
    }
}

/// Removes our files from the state directory, under the lock so no supervisor can be starting
/// on them. Failures are warnings: the service is gone, which is what stop promises.
fn clean_state_dir(state: &StateDir, table_empty: bool) {
    match state.try_lock_exclusive() {
        Ok(Some(_guard)) => {
            for (path, e) in state.remove_files(table_empty) {
                log::warn(format!("cannot remove {}: {e}", path.display()));
            }
        }
        Ok(None) => {
            if state.path().exists() && state.lock().exists() {
                log::warn(format!(
                    "{} is locked again (a new start?); leaving it",
                    state.path().display()
                ));
            } else {
                // No lock file: remove leftovers of a crash before the lock existed.
                let _ = state.remove_files(table_empty);
            }
        }
        Err(e) => log::warn(format!("cannot clean {}: {e}", state.path().display())),
    }
}
