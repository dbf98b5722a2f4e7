//! The spec file versus the supervisor running it on *this* machine.
//!
//! A cluster's nodes, checks and scheduler live only in its spec file, never in the CIB, so a
//! changed node list leaves the CIB in sync and Pacemaker has nothing to act on. `crm check`
//! therefore also asks: is a supervisor for this cluster running here from this very file, but
//! loaded from other bytes (its `status.json` records the digest)? If so, the spec differs from
//! what runs, `check` exits 1, and `crm apply` reloads that supervisor through the agent's own
//! `reload` path (validate, SIGHUP, wait for the outcome) — in place, no restart, connections
//! kept. Every load balancer runs `apply` from Puppet, so each one reloads its own supervisor
//! after it has written its own copy of the file; a node that does not run the cluster has
//! nothing to reload.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::spec::source::digest;
use crate::spec::{self, Spec};
use crate::state::handover;
use crate::state::status::Status;
use crate::state::{Liveness, StateDir};

/// How long `apply` waits for a supervisor to confirm a reload (the agent's reload timeout).
pub const RELOAD_TIMEOUT: Duration = Duration::from_secs(20);

/// A local supervisor that runs an older version of a spec file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outdated {
    pub pid: i32,
    /// The file it was loaded from (the same file as the spec, maybe by another path).
    pub config: PathBuf,
    pub dry_run: bool,
}

/// The supervisor running `spec`'s cluster on this machine from `spec.file` with other content,
/// if there is one. Anything unreadable means "nothing to reload": this is advice on top of the
/// CIB comparison, and the agent's monitor reports a broken supervisor on its own.
pub fn outdated_supervisor(spec: &Spec, rsctmp: &Path) -> Option<Outdated> {
    let state = StateDir::new(rsctmp, &spec.name);
    let Ok(Liveness::Running { pid: Some(pid) }) = state.liveness() else {
        return None;
    };
    let status = Status::read(&state.status()).ok()??;
    let same_file = match (
        std::fs::canonicalize(&status.config),
        std::fs::canonicalize(&spec.file),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same_file {
        return None;
    }
    // Read as the spec was (bounded, regular files only): it may have changed since.
    let bytes = crate::spec::source::read_bytes(&spec.file).ok()?;
    (digest(&bytes) != status.config_digest).then_some(Outdated {
        pid,
        config: status.config,
        dry_run: status.dry_run,
    })
}

/// Reloads an outdated supervisor in place, as `reload-agent` would (the spec validated first,
/// then the state directory's handshake), and waits for its verdict.
pub fn reload(spec: &Spec, outdated: &Outdated, rsctmp: &Path) -> Result<(), Error> {
    spec::load_runnable(&outdated.config, &spec.name)?;
    let state = StateDir::new(rsctmp, &spec.name);
    handover::request(&state, &outdated.config, Instant::now() + RELOAD_TIMEOUT)?;
    Ok(())
}
