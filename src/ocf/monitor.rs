//! `monitor` (and its LSB alias `status`): is the cluster running here, cleanly stopped, or
//! failed? Fast and side-effect free: it reads the lock, `status.json` and, only when needed,
//! the IPVS table; it creates, changes and logs nothing of its own.
//!
//! - lock free, no service of ours in IPVS → 7 (not running; also for probes);
//! - lock free, but our service is in IPVS → 1: a crashed or half-started supervisor left it
//!   there, and Pacemaker must recover (stop cleans it up);
//! - lock held, heartbeat fresh → 0; stale (no tick for 3 check intervals, at least 10 s) → 1;
//!   also 1 when the supervisor reports that it cannot program IPVS or cannot keep its health
//!   checkers running;
//! - `OCF_CHECK_LEVEL` ≥ 10: also the service and its destinations in IPVS must be exactly what
//!   the status file says the supervisor applied.

use std::time::{Duration, Instant};

use super::env::{OcfEnv, Params};
use super::read_status;
use super::validate::load_spec;
use crate::error::Error;
use crate::ipvs::{Ipvs, ServiceKey};
use crate::state::backend::{open_backend, BackendError};
use crate::state::liveness::{verdict, Verdict};
use crate::state::repr::DestRepr;
use crate::state::status::{Now, Status};
use crate::state::StateDir;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Running,
    NotRunning,
}

pub fn monitor(env: &OcfEnv, params: &Params, level: u32) -> Result<State, Error> {
    let state = StateDir::new(&env.rsctmp, &params.cluster);
    let status = match verdict(&state, Now::read())? {
        Verdict::Stopped => return stopped(&state, params),
        Verdict::Running(status) => status,
        unhealthy => {
            return Err(Error::Unhealthy(
                unhealthy.problem(&state).unwrap_or_default(),
            ))
        }
    };
    if level >= 10 {
        compare_with_backend(&state, *status)?;
    }
    Ok(State::Running)
}

/// The service this cluster owns and the backend it lives in: from the status file the last
/// supervisor left, else from the spec. `None` when neither can say.
pub fn known_service(state: &StateDir, params: &Params) -> Option<(ServiceKey, bool)> {
    if let Ok(Some(s)) = Status::read(&state.status()) {
        return Some((s.service.key.into(), s.dry_run));
    }
    load_spec(params).ok().map(|run| (run.key, params.dry_run))
}

/// No supervisor: cleanly stopped, unless our service is still in IPVS.
fn stopped(state: &StateDir, params: &Params) -> Result<State, Error> {
    let Some((key, dry_run)) = known_service(state, params) else {
        return Ok(State::NotRunning);
    };
    let mut ipvs = match open_backend(dry_run, state) {
        Ok(b) => b,
        // No backend on this host: nothing of ours can be in it.
        Err(BackendError::Ipvs(crate::ipvs::IpvsError::NotAvailable)) => {
            return Ok(State::NotRunning)
        }
        Err(e) => return Err(e.into()),
    };
    let present = ipvs.service(&key).map_err(|source| Error::Ipvs {
        service: key.to_string(),
        source,
    })?;
    match present {
        None => Ok(State::NotRunning),
        Some(_) => Err(Error::Unhealthy(format!(
            "IPVS service {key} is programmed but no supervisor runs (crashed or half-started); \
             stop removes it"
        ))),
    }
}

/// Level 10: the backend holds exactly what the status file says was applied. The supervisor
/// applies and then writes the status file, so a monitor that reads between the two sees a
/// difference that is not one: on a mismatch it waits for the next status (bounded) and
/// compares once more.
fn compare_with_backend(state: &StateDir, first: Status) -> Result<(), Error> {
    let key: ServiceKey = first.service.key.into();
    let mut ipvs = open_backend(first.dry_run, state)?;
    let mut status = first;
    let deadline = Instant::now()
        + (Duration::from_millis(status.check_interval_ms) * 2)
            .clamp(Duration::from_millis(200), Duration::from_secs(3));
    loop {
        let diff = difference(ipvs.as_mut(), &key, &status)?;
        let Some(diff) = diff else {
            return Ok(());
        };
        // Wait for a newer status (a later tick) before calling it a failure.
        let tick = status.tick;
        loop {
            if Instant::now() >= deadline {
                return Err(Error::Unhealthy(format!(
                    "IPVS does not match the supervisor's status: {diff}"
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
            let read = read_status(state)?;
            if let Some(s) = read {
                if s.tick != tick {
                    status = s;
                    break;
                }
            }
        }
    }
}

/// What differs between the backend and the status file, if anything.
fn difference(
    ipvs: &mut dyn Ipvs,
    key: &ServiceKey,
    status: &Status,
) -> Result<Option<String>, Error> {
    let ipvs_err = |source| Error::Ipvs {
        service: key.to_string(),
        source,
    };
    let Some(svc) = ipvs.service(key).map_err(ipvs_err)? else {
        return Ok(Some(format!("service {key} is missing")));
    };
    if svc.scheduler != status.service.scheduler {
        return Ok(Some(format!(
            "scheduler is {}, the supervisor set {}",
            svc.scheduler, status.service.scheduler
        )));
    }
    let mut have: Vec<DestRepr> = ipvs
        .dests(key)
        .map_err(ipvs_err)?
        .iter()
        .map(|e| DestRepr::from(&e.dest))
        .collect();
    let mut want = status.dests.clone();
    let order = |d: &DestRepr| (d.address, d.port);
    have.sort_by_key(order);
    want.sort_by_key(order);
    if have == want {
        return Ok(None);
    }
    let show = |v: &[DestRepr]| {
        v.iter()
            .map(|d| format!("{}:{} w{}", d.address, d.port, d.weight))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Ok(Some(format!(
        "destinations of {key} are [{}], the supervisor applied [{}]",
        show(&have),
        show(&want)
    )))
}
