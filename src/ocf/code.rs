//! The agent's exit-code table: the ONE mapping from a failure to the OCF code Pacemaker gets
//! ([`ocf_code`]), which depends on the action too. The supervisor exits with the code this
//! table gives for `start`, so `start` can pass its verdict on unchanged.

use std::fmt::Display;

use super::action::Action;
use super::env::OcfEnv;
use crate::error::Error;
use crate::exit::OcfCode;
use crate::ipvs::IpvsError;
use crate::log;
use crate::state::backend::BackendError;

/// The end of every agent action (both agents): the outcome becomes the exit code — an error
/// through `code_of` — and the log says why. An error that changed nothing about the answer
/// (stop: nothing to stop; probe: not running here) is worth a warning, not a failure reason.
pub fn answer<E: Display>(
    env: &OcfEnv,
    action: &Action,
    outcome: Result<OcfCode, E>,
    code_of: impl FnOnce(&E) -> OcfCode,
) -> OcfCode {
    let code = match outcome {
        Ok(code) => code,
        Err(e) => {
            let code = code_of(&e);
            match code {
                OcfCode::Success | OcfCode::NotRunning => log::warn(&e),
                _ => log::exit_reason(&e),
            }
            code
        }
    };
    log::debug(format!(
        "{} {action} : {}",
        env.instance.as_deref().unwrap_or("-"),
        code.as_u8()
    ));
    code
}

/// What a failure means to Pacemaker, given the action it happened in (the same failure means
/// different things: a spec Pacemaker cannot read is "not configured" for `start`, "not running
/// here" for a probe, and nothing to stop for `stop`). `probe` is a monitor with interval 0.
///
/// When this returns [`OcfCode::Success`] or [`OcfCode::NotRunning`] for an error, the caller
/// logs the error as a warning instead of printing an exit reason.
pub fn ocf_code(err: &Error, action: &Action, probe: bool) -> OcfCode {
    let code = base_code(err);
    let cannot_run_here = matches!(
        err,
        Error::Spec(_) | Error::MissingParam { .. } | Error::BadParam { .. }
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
                Error::Spec(_) | Error::Backend(BackendError::Ipvs(IpvsError::NotAvailable))
            ) =>
        {
            OcfCode::Success
        }
        _ => code,
    }
}

fn base_code(err: &Error) -> OcfCode {
    use std::io::ErrorKind;
    match err {
        Error::MissingParam { .. }
        | Error::BadParam { .. }
        | Error::ServiceTaken { .. }
        | Error::ReloadRefused { .. } => OcfCode::ErrConfigured,
        Error::BadEnv { .. } => OcfCode::ErrArgs,
        // A missing file is a node-local install problem (another node may have it, so
        // Pacemaker must only avoid this one); unreadable is a permission problem; anything
        // wrong inside the file is a configuration error everywhere.
        Error::Spec(e) if e.is_missing() => OcfCode::ErrInstalled,
        Error::Spec(e) if e.is_denied() => OcfCode::ErrPerm,
        Error::Spec(_) => OcfCode::ErrConfigured,
        Error::Io { source, .. } => match source.kind() {
            ErrorKind::PermissionDenied => OcfCode::ErrPerm,
            _ => OcfCode::ErrGeneric,
        },
        Error::Backend(BackendError::Ipvs(e)) | Error::Ipvs { source: e, .. } => ipvs_code(e),
        Error::Spawn { source, .. } => match source.kind() {
            ErrorKind::NotFound => OcfCode::ErrInstalled,
            ErrorKind::PermissionDenied => OcfCode::ErrPerm,
            _ => OcfCode::ErrGeneric,
        },
        Error::SupervisorFailed { code, .. } => match code {
            // A supervisor that failed cannot have "succeeded" or be "cleanly stopped".
            OcfCode::Success | OcfCode::NotRunning => OcfCode::ErrGeneric,
            c => *c,
        },
        Error::StartTimeout { .. }
        | Error::StopTimeout { .. }
        | Error::Removal { .. }
        | Error::ReloadTimeout { .. }
        | Error::Unhealthy(_)
        | Error::AlreadyRunning(_) => OcfCode::ErrGeneric,
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

    fn missing_spec() -> Error {
        Error::Spec(SpecError::Read {
            file: PathBuf::from("/etc/big_brother/x.toml"),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        })
    }

    fn bad_spec() -> Error {
        Error::Spec(SpecError::Parse {
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
        let cases: Vec<(Error, &Action, bool, OcfCode)> = vec![
            (missing_spec(), &start, false, OcfCode::ErrInstalled),
            (bad_spec(), &start, false, OcfCode::ErrConfigured),
            (bad_spec(), &mon, true, OcfCode::NotRunning),
            (bad_spec(), &stop, false, OcfCode::Success),
            (
                Error::MissingParam { name: "cluster" },
                &start,
                false,
                OcfCode::ErrConfigured,
            ),
            (
                Error::BadEnv {
                    var: "OCF_CHECK_LEVEL",
                    value: "x".into(),
                    expected: "n",
                },
                &mon,
                false,
                OcfCode::ErrArgs,
            ),
            (
                Error::Backend(BackendError::Ipvs(IpvsError::NotAvailable)),
                &start,
                false,
                OcfCode::ErrInstalled,
            ),
            (
                Error::Backend(BackendError::Ipvs(IpvsError::NotAvailable)),
                &mon,
                true,
                OcfCode::NotRunning,
            ),
            (
                Error::Backend(BackendError::Ipvs(IpvsError::NotAvailable)),
                &stop,
                false,
                OcfCode::Success,
            ),
            (
                Error::Backend(BackendError::Ipvs(IpvsError::Permission { op: "x" })),
                &start,
                false,
                OcfCode::ErrPerm,
            ),
            (
                Error::Io {
                    what: "state directory",
                    path: "/run/x".into(),
                    source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
                },
                &start,
                false,
                OcfCode::ErrPerm,
            ),
            (
                Error::Spawn {
                    program: "/x".into(),
                    source: std::io::Error::from(std::io::ErrorKind::NotFound),
                },
                &start,
                false,
                OcfCode::ErrInstalled,
            ),
            (
                Error::SupervisorFailed {
                    code: OcfCode::ErrConfigured,
                    reason: "r".into(),
                },
                &start,
                false,
                OcfCode::ErrConfigured,
            ),
            (
                Error::SupervisorFailed {
                    code: OcfCode::Success,
                    reason: "r".into(),
                },
                &start,
                false,
                OcfCode::ErrGeneric,
            ),
            (
                Error::StartTimeout {
                    waited: Duration::from_secs(1),
                    last: None,
                },
                &start,
                false,
                OcfCode::ErrGeneric,
            ),
            (
                Error::Removal {
                    service: "FWM 7".into(),
                    errors: vec![],
                },
                &stop,
                false,
                OcfCode::ErrGeneric,
            ),
            (
                Error::ReloadRefused { reason: "r".into() },
                &Action::ReloadAgent,
                false,
                OcfCode::ErrConfigured,
            ),
            (
                Error::Unhealthy("stale".into()),
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
}
