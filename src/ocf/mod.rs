//! The OCF face: exit codes, environment, parameters, meta-data and the resource agent
//! actions. [`agent::run`] is the entry point; the supervisor it launches lives in
//! `crate::supervisor`.

pub mod action;
pub mod agent;
pub mod code;
pub mod env;
pub mod metadata;
pub mod monitor;
pub mod params;
pub mod reload;
pub mod spawn;
pub mod start;
pub mod stop;
pub mod sync;
pub mod validate;

use crate::error::Error;
use crate::state::status::Status;
use crate::state::StateDir;

/// The supervisor's status file as `start` and `monitor` wait on it: absent is `None` (not
/// written yet), unreadable is an error that names the file.
fn read_status(state: &StateDir) -> Result<Option<Status>, Error> {
    Status::read(&state.status()).map_err(|source| Error::Io {
        what: "status file",
        path: state.status(),
        source,
    })
}
