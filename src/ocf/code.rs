//! OCF exit codes (OCF 1.1 `resource-agent-api.md`, values as in resource-agents'
//! `heartbeat/ocf-returncodes`), and the ONE mapping from an agent failure to a code
//! ([`ocf_code`]). Every face of the binary exits through [`OcfCode`].

use super::action::Action;
use super::error::AgentError;
use crate::ipvs::IpvsError;
use crate::supervisor::backend::BackendError;

/// An OCF resource agent exit code.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OcfCode {
    /// The action succeeded (for `monitor`: the resource is running).
    Success = 0,
    /// A generic or unspecified error; Pacemaker recovers by restart.
    ErrGeneric = 1,
    /// Wrong or missing arguments to the agent.
    ErrArgs = 2,
    /// The requested action is not implemented.
    ErrUnimplemented = 3,
    /// Insufficient privileges (e.g. no CAP_NET_ADMIN).
    ErrPerm = 4,
    /// A needed component is missing on this node (hard error: not retried here).
    ErrInstalled = 5,
    /// The configuration is wrong everywhere (hard error: not retried anywhere).
    ErrConfigured = 6,
    /// The resource is cleanly stopped.
    NotRunning = 7,
}

impl OcfCode {
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// The code an exit status stands for (the supervisor exits with one).
    pub fn from_u8(v: u8) -> Option<OcfCode> {
        Some(match v {
            0 => OcfCode::Success,
            1 => OcfCode::ErrGeneric,
            2 => OcfCode::ErrArgs,
            3 => OcfCode::ErrUnimplemented,
            4 => OcfCode::ErrPerm,
            5 => OcfCode::ErrInstalled,
            6 => OcfCode::ErrConfigured,
            7 => OcfCode::NotRunning,
            _ => return None,
        })
    }
}

impl From<OcfCode> for std::process::ExitCode {
    fn from(c: OcfCode) -> Self {
        std::process::ExitCode::from(c.as_u8())
    }
}

/// What a failure means to Pacemaker, given the action it happened in (the same failure means
/// different things: a spec Pacemaker cannot read is "not configured" for `start`, "not running
/// here" for a probe, and nothing to stop for `stop`). `probe` is a monitor with interval 0.
///
/// When this returns [`OcfCode::Success`] or [`OcfCode::NotRunning`] for an error, the caller
/// logs the error as a warning instead of printing an exit reason.
pub fn ocf_code(err: &AgentError, action: &Action, probe: bool) -> OcfCode {
    let code = base_code(err);
    let cannot_run_here = matches!(
        err,
        AgentError::Spec(_) | AgentError::MissingParam { .. } | AgentError::BadParam { .. }
    ) || code == OcfCode::ErrInstalled;
    match action {
        // A probe asks "is it running here?". A node that cannot even run it (IPaddr2's
        // `ocf_is_probe && exit $OCF_NOT_RUNNING`) answers "no"; start will say why.
        a if a.is_monitor() && probe && cannot_run_here => OcfCode::NotRunning,
        // Stop must not fail unless the resource may still be running (a failed stop means
        // fencing). A spec that cannot be read, or a backend that does not exist, leaves
        // nothing of ours to stop.
        Action::Stop
            if matches!(
                err,
                AgentError::Spec(_)
                    | AgentError::Backend(BackendError::Ipvs(IpvsError::NotAvailable))
            ) =>
        {
            OcfCode::Success
        }
        _ => code,
    }
}

fn base_code(err: &AgentError) -> OcfCode {
    use std::io::ErrorKind;
    match err {
        AgentError::MissingParam { .. }
        | AgentError::BadParam { .. }
        | AgentError::ServiceTaken { .. }
        | AgentError::ReloadRefused { .. } => OcfCode::ErrConfigured,
        AgentError::BadEnv { .. } => OcfCode::ErrArgs,
        AgentError::Spec(e) => e.ocf_code(),
        AgentError::Io { source, .. } => match source.kind() {
            ErrorKind::PermissionDenied => OcfCode::ErrPerm,
            _ => OcfCode::ErrGeneric,
        },
        AgentError::Backend(BackendError::Ipvs(e)) | AgentError::Ipvs { source: e, .. } => {
            ipvs_code(e)
        }
        AgentError::Spawn { source, .. } => match source.kind() {
            ErrorKind::NotFound => OcfCode::ErrInstalled,
            ErrorKind::PermissionDenied => OcfCode::ErrPerm,
            _ => OcfCode::ErrGeneric,
        },
        AgentError::SupervisorFailed { code, .. } => match code {
            // A supervisor that failed cannot have "succeeded" or be "cleanly stopped".
            OcfCode::Success | OcfCode::NotRunning => OcfCode::ErrGeneric,
            c => *c,
        },
        AgentError::StartTimeout { .. }
        | AgentError::StopTimeout { .. }
        | AgentError::Removal { .. }
        | AgentError::ReloadTimeout { .. }
        | AgentError::Unhealthy(_)
        | AgentError::AlreadyRunning(_) => OcfCode::ErrGeneric,
    }
}

fn ipvs_code(e: &IpvsError) -> OcfCode {
    match e {
        IpvsError::NotAvailable => OcfCode::ErrInstalled,
        IpvsError::Permission { .. } => OcfCode::ErrPerm,
        _ => OcfCode::ErrGeneric,
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;
    use crate::spec::SpecError;

    fn missing_spec() -> AgentError {
        AgentError::Spec(SpecError::Read {
            file: PathBuf::from("/etc/big_brother/x.toml"),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        })
    }

    fn bad_spec() -> AgentError {
        AgentError::Spec(SpecError::Parse {
            file: PathBuf::from("/etc/big_brother/x.toml"),
            line: Some(1),
            column: Some(1),
            message: "nope".into(),
        })
    }

    /// (error, action, probe) → code: the contract as a table (STYLE.md point 17).
    #[test]
    fn table() {
        let start = Action::Start;
        let stop = Action::Stop;
        let mon = Action::Monitor;
        let cases: Vec<(AgentError, &Action, bool, OcfCode)> = vec![
            (missing_spec(), &start, false, OcfCode::ErrInstalled),
            (bad_spec(), &start, false, OcfCode::ErrConfigured),
            (bad_spec(), &mon, true, OcfCode::NotRunning),
            (bad_spec(), &stop, false, OcfCode::Success),
            (
                AgentError::MissingParam { name: "cluster" },
                &start,
                false,
                OcfCode::ErrConfigured,
            ),
            (
                AgentError::BadEnv {
                    var: "OCF_CHECK_LEVEL",
                    value: "x".into(),
                    expected: "n",
                },
                &mon,
                false,
                OcfCode::ErrArgs,
            ),
            (
                AgentError::Backend(BackendError::Ipvs(IpvsError::NotAvailable)),
                &start,
                false,
                OcfCode::ErrInstalled,
            ),
            (
                AgentError::Backend(BackendError::Ipvs(IpvsError::NotAvailable)),
                &mon,
                true,
                OcfCode::NotRunning,
            ),
            (
                AgentError::Backend(BackendError::Ipvs(IpvsError::NotAvailable)),
                &stop,
                false,
                OcfCode::Success,
            ),
            (
                AgentError::Backend(BackendError::Ipvs(IpvsError::Permission { op: "x" })),
                &start,
                false,
                OcfCode::ErrPerm,
            ),
            (
                AgentError::Io {
                    what: "state directory",
                    path: "/run/x".into(),
                    source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
                },
                &start,
                false,
                OcfCode::ErrPerm,
            ),
            (
                AgentError::Spawn {
                    program: "/x".into(),
                    source: std::io::Error::from(std::io::ErrorKind::NotFound),
                },
                &start,
                false,
                OcfCode::ErrInstalled,
            ),
            (
                AgentError::SupervisorFailed {
                    code: OcfCode::ErrConfigured,
                    reason: "r".into(),
                },
                &start,
                false,
                OcfCode::ErrConfigured,
            ),
            (
                AgentError::SupervisorFailed {
                    code: OcfCode::Success,
                    reason: "r".into(),
                },
                &start,
                false,
                OcfCode::ErrGeneric,
            ),
            (
                AgentError::StartTimeout {
                    waited: Duration::from_secs(1),
                    last: None,
                },
                &start,
                false,
                OcfCode::ErrGeneric,
            ),
            (
                AgentError::Removal {
                    service: "FWM 7".into(),
                    errors: vec![],
                },
                &stop,
                false,
                OcfCode::ErrGeneric,
            ),
            (
                AgentError::ReloadRefused { reason: "r".into() },
                &Action::ReloadAgent,
                false,
                OcfCode::ErrConfigured,
            ),
            (
                AgentError::Unhealthy("stale".into()),
                &mon,
                true,
                OcfCode::ErrGeneric,
            ),
        ];
        for (err, action, probe, want) in cases {
            assert_eq!(
                ocf_code(&err, action, probe),
                want,
                "{err:?} during {action} (probe {probe})"
            );
        }
    }

    #[test]
    fn exit_statuses_round_trip() {
        for v in 0..=7u8 {
            assert_eq!(OcfCode::from_u8(v).map(OcfCode::as_u8), Some(v));
        }
        assert_eq!(OcfCode::from_u8(8), None);
    }
}
