//! `validate-all`, and the spec checks `start` and `reload-agent` share: the parameters parse,
//! the spec file loads and validates, and it describes the cluster the resource names. Level 10
//! (OCF "Check Levels": "may verify the suitability of the local environment") also opens the
//! IPVS backend this host would use. A *staged* spec (no service or no nodes yet) is refused
//! with 6, naming what is missing. No side effects.

use super::env::{OcfEnv, Params};
use crate::error::Error;
use crate::spec::{self, Runnable};
use crate::state::backend::open_backend;
use crate::state::StateDir;

/// Loads the spec named by `params`, refusing a staged one and one for another cluster.
pub fn load_spec(params: &Params) -> Result<Runnable, Error> {
    Ok(spec::load_runnable(&params.config, &params.cluster)?)
}

pub fn validate_all(env: &OcfEnv) -> Result<(), Error> {
    let params = env.params()?;
    load_spec(&params)?;
    if env.check_level()? >= 10 {
        open_backend(params.dry_run, &StateDir::new(&env.rsctmp, &params.cluster))?;
    }
    Ok(())
}
