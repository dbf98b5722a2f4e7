//! `validate-all`, and the spec checks `start` and `reload-agent` share: the parameters parse,
//! the spec file loads and validates, and it describes the cluster the resource names. Level 10
//! (OCF "Check Levels": "may verify the suitability of the local environment") also opens the
//! IPVS backend this host would use. No side effects.

use super::env::{OcfEnv, Params};
use super::error::AgentError;
use crate::spec::Spec;
use crate::supervisor::backend::open_backend;
use crate::supervisor::controller;
use crate::supervisor::state::StateDir;

/// Loads the spec named by `params` and checks it is the cluster's.
pub fn load_spec(params: &Params) -> Result<Spec, AgentError> {
    let (spec, _digest) = controller::load_spec(&params.config)?;
    if spec.name != params.cluster {
        return Err(AgentError::ClusterMismatch {
            file: params.config.clone(),
            spec: spec.name,
            param: params.cluster.clone(),
        });
    }
    Ok(spec)
}

pub fn validate_all(env: &OcfEnv) -> Result<(), AgentError> {
    let params = env.params()?;
    load_spec(&params)?;
    if env.check_level()? >= 10 {
        open_backend(params.dry_run, &StateDir::new(&env.rsctmp, &params.cluster))?;
    }
    Ok(())
}
