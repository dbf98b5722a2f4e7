//! The one place that decides which IPVS backend a process talks to. The supervisor, `stop`
//! (cleaning up after a dead supervisor) and `monitor OCF_CHECK_LEVEL=10` all open it here, so
//! they always look at the same table: the kernel's, or in `dry_run` the file-backed in-memory
//! one in the cluster's state directory. Nothing else in the agent or supervisor knows which.

use crate::ipvs::netlink::{Netlink, DEFAULT_TIMEOUT};
use crate::ipvs::{Ipvs, IpvsError};

use super::dryrun::FileBacked;
use super::StateDir;

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    Ipvs(#[from] IpvsError),
}

/// Opens the backend for one cluster: the kernel's IPVS over generic netlink (in the calling
/// thread's network namespace), or in `dry_run` the file-backed table in the state directory.
/// Opening has no side effects (the dry-run table file is only written on the first change).
pub fn open_backend(dry_run: bool, state: &StateDir) -> Result<Box<dyn Ipvs + Send>, BackendError> {
    if dry_run {
        return Ok(Box::new(FileBacked::open(&state.dryrun())?));
    }
    // Test-only fault knob (as BIG_BROTHER_FAULT_READY_DELAY_MS): look up another generic
    // netlink family, so this process meets "no IPVS in this kernel" through the real lookup on
    // any host. Unset in production.
    if let Some(name) = std::env::var_os("BIG_BROTHER_FAULT_IPVS_FAMILY") {
        let name = name.to_string_lossy();
        return Ok(Box::new(Netlink::open_as(&name, DEFAULT_TIMEOUT)?));
    }
    Ok(Box::new(Netlink::open()?))
}
