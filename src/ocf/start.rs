//! `start`: validate, then launch the supervisor detached and return 0 only once it has
//! programmed its service (`READY=1`). Idempotent: a cluster whose supervisor already runs and
//! reports is started. On any failure the supervisor is killed and whatever it programmed is
//! removed, so a failed start leaves nothing half-started; the exit code says why (5: not
//! installed here, 6: the spec is wrong, 4: permissions, 1: anything else) with the reason on
//! the `ocf-exit-reason:` line.

use std::path::Path;
use std::time::{Duration, Instant};

use super::env::{OcfEnv, Params};
use super::read_status;
use super::spawn::{self, NotifySocket, Outcome};
use super::validate::load_spec;
use crate::error::Error;
use crate::ipvs::ServiceKey;
use crate::log;
use crate::state::backend::open_backend;
use crate::state::status::{Now, Status};
use crate::state::{Liveness, StateDir};

pub fn start(env: &OcfEnv, params: &Params, deadline: Instant) -> Result<(), Error> {
    let run = load_spec(params)?;
    let state = StateDir::new(&env.rsctmp, &params.cluster);
    // Fail fast, with the precise code, when this host cannot run the backend at all.
    drop(open_backend(params.dry_run, &state)?);
    state.create().map_err(|source| Error::Io {
        what: "state directory",
        path: state.path().to_path_buf(),
        source,
    })?;
    let liveness = state.liveness().map_err(|source| Error::Io {
        what: "lock",
        path: state.lock(),
        source,
    })?;
    if let Liveness::Running { pid } = liveness {
        return already_running(&state, pid, deadline);
    }
    if !params.dry_run {
        if let Some(other) = owner_of(&env.rsctmp, &params.cluster, &run.key) {
            return Err(Error::ServiceTaken {
                service: run.key.to_string(),
                other,
            });
        }
    }
    // Leftovers of a crash: a status file would look like a live heartbeat to nobody (the lock
    // is free), and a handed-over config would be picked up by the next SIGHUP. The dry-run
    // table stays: it is the "kernel", and the new supervisor adopts what is in it.
    for stale in [state.status(), state.heartbeat(), state.params()] {
        let _ = std::fs::remove_file(stale);
    }

    let notify = NotifySocket::bind(&state)?;
    let program = std::env::current_exe().map_err(|source| Error::Spawn {
        program: "/proc/self/exe".into(),
        source,
    })?;
    let budget = deadline.saturating_duration_since(Instant::now());
    let mut child = spawn::spawn_supervisor(&program, params, &state, &notify, budget)?;
    log::info(format!(
        "{}: started supervisor pid {} for {} ({} nodes), waiting up to {} ms for READY",
        params.cluster,
        child.id(),
        run.key,
        run.spec.nodes.len(),
        budget.as_millis()
    ));
    let outcome = spawn::wait_ready(&mut child, &notify, deadline);
    drop(notify);
    let err = match outcome {
        Outcome::Ready => {
            log::info(format!("{}: running", params.cluster));
            return Ok(());
        }
        Outcome::Exited { code, reason } => Error::SupervisorFailed {
            code,
            reason: reason.unwrap_or_else(|| "exited without a reason (see syslog)".into()),
        },
        Outcome::TimedOut { last } => {
            spawn::kill(&mut child);
            Error::StartTimeout {
                waited: budget,
                last,
            }
        }
    };
    // Whatever the supervisor programmed before dying or being killed goes too, unless the lock
    // is held: then another supervisor (a concurrent start) owns the service, not us.
    if matches!(state.liveness(), Ok(Liveness::Stopped)) {
        if let Err(e) = super::stop::stop(env, params, Instant::now() + Duration::from_secs(5)) {
            log::error(format!("cleanup after failed start: {e}"));
        }
    }
    Err(err)
}

/// The other cluster on this host whose running, non-dry-run supervisor owns `key`, if any.
/// (Dry-run clusters have tables of their own: shadowing a live cluster is what they are for.)
pub fn owner_of(rsctmp: &Path, cluster: &str, key: &ServiceKey) -> Option<String> {
    let entries = std::fs::read_dir(rsctmp.join("big_brother")).ok()?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == cluster {
            continue;
        }
        let other = StateDir::new(rsctmp, &name);
        if !matches!(other.liveness(), Ok(Liveness::Running { .. })) {
            continue;
        }
        if let Ok(Some(st)) = Status::read(&other.status()) {
            if !st.dry_run && ServiceKey::from(st.service.key) == *key {
                return Some(st.cluster);
            }
        }
    }
    None
}

/// A supervisor holds the lock: success once it reports (it may be finishing its own start).
fn already_running(state: &StateDir, pid: Option<i32>, deadline: Instant) -> Result<(), Error> {
    loop {
        let status = read_status(state)?;
        if let Some(s) = status {
            if s.fresh(Now::read()) {
                log::info(format!(
                    "{}: already running (supervisor pid {})",
                    s.cluster, s.pid
                ));
                return Ok(());
            }
            return Err(Error::Unhealthy(format!(
                "supervisor pid {} is running but stopped reporting; stop it first",
                s.pid
            )));
        }
        if Instant::now() >= deadline {
            return Err(Error::Unhealthy(format!(
                "supervisor {} holds the lock but never reported ready",
                pid.map(|p| format!("pid {p}")).unwrap_or_default()
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::Family;
    use crate::state::lock::Lock;
    use crate::state::status::tests::sample;

    #[test]
    fn a_live_cluster_owning_the_service_is_found() {
        let rsc = tempfile::tempdir().unwrap();
        let fwm7 = ServiceKey::Fwmark {
            family: Family::V4,
            mark: 7,
        };
        assert_eq!(owner_of(rsc.path(), "mine", &fwm7), None);
        let other = StateDir::new(rsc.path(), "webapp");
        other.create().unwrap();
        let mut st = sample(); // cluster "webapp", FWM 7, dry run
        st.write(&other.status()).unwrap();
        assert_eq!(owner_of(rsc.path(), "mine", &fwm7), None, "not running");
        let _lock = Lock::acquire(&other, Duration::from_millis(10)).unwrap();
        assert_eq!(owner_of(rsc.path(), "mine", &fwm7), None, "dry run");
        st.dry_run = false;
        st.write(&other.status()).unwrap();
        assert_eq!(owner_of(rsc.path(), "mine", &fwm7), Some("webapp".into()));
        assert_eq!(owner_of(rsc.path(), "webapp", &fwm7), None, "itself");
        let fwm8 = ServiceKey::Fwmark {
            family: Family::V4,
            mark: 8,
        };
        assert_eq!(owner_of(rsc.path(), "mine", &fwm8), None);
    }
}
