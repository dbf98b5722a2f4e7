//! The application's error: everything that can go wrong in an agent action, the supervisor, or
//! a subcommand built on them (demo, the API's views, the crm face's local reload), as one enum
//! that keeps its sources (spec, IPVS, I/O with the path). Exit codes are NOT decided here: each
//! face maps it once (`ocf::code` for the agent, with the action; `commands::code` for the CLI).

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crate::exit::OcfCode;
use crate::ipvs::IpvsError;
use crate::spec::SpecError;
use crate::state::backend::BackendError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("parameter {name} is required (set OCF_RESKEY_{name})")]
    MissingParam { name: &'static str },

    #[error("parameter {name}: expected {expected}, not {value:?}")]
    BadParam {
        name: &'static str,
        value: String,
        expected: String,
    },

    /// A malformed environment variable that is not an instance parameter.
    #[error("{var}: expected {expected}, not {value:?}")]
    BadEnv {
        var: &'static str,
        value: String,
        expected: &'static str,
    },

    #[error(transparent)]
    Spec(#[from] SpecError),

    /// Another cluster running on this host already owns the service (two specs, one fwmark).
    #[error(
        "{service} is already run by cluster {other:?} on this host; two clusters cannot share \
         one IPVS service"
    )]
    ServiceTaken { service: String, other: String },

    /// A file or directory of ours could not be used.
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("IPVS backend: {0}")]
    Backend(#[from] BackendError),

    #[error("IPVS {service}: {source}")]
    Ipvs {
        service: String,
        #[source]
        source: IpvsError,
    },

    #[error("cannot run the supervisor {}: {source}", program.display())]
    Spawn {
        program: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The supervisor exited before `READY=1`; `code` is its exit status, which it chose with
    /// the same mapping, and `reason` its last `STATUS=`.
    #[error("supervisor failed to start: {reason}")]
    SupervisorFailed { code: OcfCode, reason: String },

    #[error("supervisor did not report ready within {}s{}", waited.as_secs_f32(), last_status(.last))]
    StartTimeout {
        waited: Duration,
        last: Option<String>,
    },

    #[error("supervisor pid {pid} is still alive {}s after SIGTERM and SIGKILL", waited.as_secs_f32())]
    StopTimeout { pid: i32, waited: Duration },

    /// Teardown is best effort: every failure is kept.
    #[error("could not remove {service}: {}", join(.errors))]
    Removal {
        service: String,
        errors: Vec<IpvsError>,
    },

    #[error("new spec refused, the running one stays: {reason}")]
    ReloadRefused { reason: String },

    #[error("supervisor did not confirm the reload within {}s", waited.as_secs_f32())]
    ReloadTimeout { waited: Duration },

    /// The resource runs but not as it should (monitor's "failed": stale heartbeat, half-started,
    /// backend out of step with the status file).
    #[error("{0}")]
    Unhealthy(String),

    /// Another process already holds the cluster's lock (seen by a second supervisor).
    #[error("{0}")]
    AlreadyRunning(String),
}

fn last_status(s: &Option<String>) -> String {
    match s {
        Some(s) => format!(" (last status: {s})"),
        None => String::new(),
    }
}

fn join(errors: &[IpvsError]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<crate::state::liveness::ReadError> for Error {
    fn from(e: crate::state::liveness::ReadError) -> Error {
        Error::Io {
            what: e.what,
            path: e.path,
            source: e.source,
        }
    }
}

impl From<crate::state::FileError> for Error {
    fn from(f: crate::state::FileError) -> Error {
        Error::Io {
            what: f.what,
            path: f.path,
            source: f.source,
        }
    }
}

impl From<crate::state::handover::HandoverError> for Error {
    fn from(e: crate::state::handover::HandoverError) -> Error {
        use crate::state::handover::HandoverError as H;
        match e {
            H::Io(f) => f.into(),
            H::Refused { reason } => Error::ReloadRefused { reason },
            H::Timeout { waited } => Error::ReloadTimeout { waited },
        }
    }
}
