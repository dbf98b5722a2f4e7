//! `reload-agent` (OCF 1.1: a `reloadable` parameter changed, here `config`) and `reload` (the
//! spec file's content changed). The new spec is validated here first; a bad one is refused
//! with 6 and the supervisor is not disturbed. Otherwise the new path is handed over in the
//! state directory, the supervisor gets SIGHUP, validates and applies the spec in place, and
//! records the outcome in `status.json`; we wait for that (bounded by the action's timeout).

use std::time::{Duration, Instant};

use super::env::{OcfEnv, Params};
use super::validate::load_spec;
use crate::error::Error;
use crate::log;
use crate::supervisor::state::{HandoverParams, Liveness, StateDir};
use crate::supervisor::status::Status;

pub fn reload(env: &OcfEnv, params: &Params, deadline: Instant) -> Result<(), Error> {
    // A spec that does not validate never reaches the running supervisor.
    load_spec(params)?;
    let state = StateDir::new(&env.rsctmp, &params.cluster);
    let liveness = state.liveness().map_err(|source| Error::Io {
        what: "lock",
        path: state.lock(),
        source,
    })?;
    let Liveness::Running { pid: Some(pid) } = liveness else {
        log::info(format!(
            "{}: not running; the new parameters take effect at the next start",
            params.cluster
        ));
        return Ok(());
    };
    let status_err = |source| Error::Io {
        what: "status file",
        path: state.status(),
        source,
    };
    let before = Status::read(&state.status())
        .map_err(status_err)?
        .map(|s| s.reload.generation)
        .unwrap_or(0);
    state
        .write_params(&HandoverParams {
            config: params.config.clone(),
        })
        .map_err(|source| Error::Io {
            what: "handover file",
            path: state.params(),
            source,
        })?;
    // SAFETY: kill has no memory preconditions; the pid is the lock holder's.
    unsafe { libc::kill(pid, libc::SIGHUP) };
    let started = Instant::now();
    loop {
        if let Some(s) = Status::read(&state.status()).map_err(status_err)? {
            if s.reload.generation > before {
                return match (s.reload.ok, s.reload.error) {
                    (true, _) => {
                        log::info(format!(
                            "{}: reloaded {}",
                            params.cluster,
                            params.config.display()
                        ));
                        Ok(())
                    }
                    (false, e) => Err(Error::ReloadRefused {
                        reason: e.unwrap_or_else(|| "no reason given".into()),
                    }),
                };
            }
        }
        if Instant::now() >= deadline {
            return Err(Error::ReloadTimeout {
                waited: started.elapsed(),
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
