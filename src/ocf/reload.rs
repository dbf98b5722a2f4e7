//! `reload-agent` (OCF 1.1: a `reloadable` parameter changed, here `config`) and `reload` (the
//! spec file's content changed). The new spec is validated here first; a bad one is refused
//! with 6 and the supervisor is not disturbed. Otherwise the new path is handed over in the
//! state directory, the supervisor gets SIGHUP, validates and applies the spec in place, and
//! records the outcome in `status.json`; we wait for that (bounded by the action's timeout).

use std::time::Instant;

use super::env::{OcfEnv, Params};
use super::validate::load_spec;
use crate::error::Error;
use crate::log;
use crate::state::handover::{self, Handed};
use crate::state::StateDir;

pub fn reload(env: &OcfEnv, params: &Params, deadline: Instant) -> Result<(), Error> {
    // A spec that does not validate never reaches the running supervisor.
    load_spec(params)?;
    let state = StateDir::new(&env.rsctmp, &params.cluster);
    match handover::request(&state, &params.config, deadline)? {
        Handed::NotRunning => log::info(format!(
            "{}: not running; the new parameters take effect at the next start",
            params.cluster
        )),
        Handed::Reloaded => log::info(format!(
            "{}: reloaded {}",
            params.cluster,
            params.config.display()
        )),
    }
    Ok(())
}
