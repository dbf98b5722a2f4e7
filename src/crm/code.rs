//! The crm face's exit-code table (`crm check|apply|remove|generate`), in OCF numbering so Puppet
//! and scripts see the meanings the agent uses. Outcomes first: 0 ok / in sync, and [`DIFFERS`]
//! when `check` finds the CIB (or the supervisor here) out of step. Failures ([`code`]): 1 a write
//! did not take effect, `remove` timed out, or the local supervisor kept its old spec; 2 a
//! Pacemaker tool failed or printed something unreadable, or bad arguments; 4 the tool said we
//! lack the privileges (or a spec may not be read); 5 a Pacemaker tool is not installed; 6 a spec
//! is missing or invalid, specs clash, or the CIB holds an id the group needs. `cibadmin`
//! failing is never 1, which `check` uses for "differs".

use std::io;

use super::error::CrmError;
use super::plan::PlanError;
use crate::error::Error;
use crate::exit::OcfCode;

/// `check`'s answer when a group (or the supervisor running it here) is not as generated.
pub const DIFFERS: OcfCode = OcfCode::ErrGeneric;

/// Pacemaker's `CRM_EX_INSUFFICIENT_PRIV`: what its tools exit with when access is denied.
const CRM_EX_INSUFFICIENT_PRIV: i32 = 4;

/// The exit code of a failure.
pub fn code(e: &CrmError) -> OcfCode {
    match e {
        CrmError::Spec(s) if s.is_denied() => OcfCode::ErrPerm,
        CrmError::Spec(_) | CrmError::Invalid(_) => OcfCode::ErrConfigured,
        CrmError::Plan(PlanError::IdClash { .. } | PlanError::WouldDropEveryVip { .. }) => {
            OcfCode::ErrConfigured
        }
        CrmError::Plan(PlanError::NoSection(_)) => OcfCode::ErrArgs,
        CrmError::ToolMissing { .. } => OcfCode::ErrInstalled,
        CrmError::Spawn { source, .. } if source.kind() == io::ErrorKind::PermissionDenied => {
            OcfCode::ErrPerm
        }
        CrmError::ToolFailed {
            code: Some(CRM_EX_INSUFFICIENT_PRIV),
            ..
        } => OcfCode::ErrPerm,
        CrmError::Spawn { .. }
        | CrmError::ToolFailed { .. }
        | CrmError::BadXml { .. }
        | CrmError::Temp(_)
        | CrmError::BadName(_) => OcfCode::ErrArgs,
        // The new spec was refused by the supervisor's own validation: the spec is wrong.
        CrmError::Reload {
            source: Error::ReloadRefused { .. } | Error::Spec(_),
            ..
        } => OcfCode::ErrConfigured,
        CrmError::Reload { .. }
        | CrmError::StillDiffers { .. }
        | CrmError::Lingering { .. }
        | CrmError::StopTimeout { .. } => OcfCode::ErrGeneric,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::SpecError;
    use std::path::PathBuf;
    use std::time::Duration;

    /// failure → code: the contract as a table (STYLE.md point 17).
    #[test]
    fn table() {
        let failed = |code| CrmError::ToolFailed {
            argv: "cibadmin".into(),
            code,
            stderr: String::new(),
        };
        let reload = |source| CrmError::Reload {
            group: "webapp_group".into(),
            pid: 7,
            source,
        };
        let cases: Vec<(CrmError, OcfCode)> = vec![
            (
                CrmError::Spec(SpecError::Invalid {
                    file: PathBuf::from("x.toml"),
                    problems: vec![],
                }),
                OcfCode::ErrConfigured,
            ),
            (
                CrmError::Spec(SpecError::Read {
                    file: PathBuf::from("x.toml"),
                    source: io::Error::from(io::ErrorKind::NotFound),
                }),
                OcfCode::ErrConfigured,
            ),
            (
                CrmError::Spec(SpecError::Read {
                    file: PathBuf::from("x.toml"),
                    source: io::Error::from(io::ErrorKind::PermissionDenied),
                }),
                OcfCode::ErrPerm,
            ),
            (CrmError::Invalid("2 specs".into()), OcfCode::ErrConfigured),
            (
                CrmError::ToolMissing { tool: "cibadmin" },
                OcfCode::ErrInstalled,
            ),
            (failed(Some(105)), OcfCode::ErrArgs),
            (failed(None), OcfCode::ErrArgs),
            (failed(Some(4)), OcfCode::ErrPerm),
            (
                CrmError::Plan(PlanError::IdClash {
                    group: "g".into(),
                    ids: vec!["x".into()],
                }),
                OcfCode::ErrConfigured,
            ),
            (
                CrmError::StopTimeout {
                    group: "g".into(),
                    timeout: "60s".into(),
                    running: vec![],
                },
                OcfCode::ErrGeneric,
            ),
            (CrmError::BadName("1x".into()), OcfCode::ErrArgs),
            (
                reload(Error::ReloadRefused { reason: "r".into() }),
                OcfCode::ErrConfigured,
            ),
            (
                reload(Error::ReloadTimeout {
                    waited: Duration::from_secs(1),
                }),
                OcfCode::ErrGeneric,
            ),
        ];
        for (e, want) in cases {
            assert_eq!(code(&e), want, "{e:?}");
        }
    }
}
