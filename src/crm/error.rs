//! Everything that can go wrong in the CIB face, and the one place that maps it to an exit code.
//!
//! Exit codes of `crm check|apply|remove` (OCF numbering, so Puppet and scripts see the same
//! meanings as from the agent): 0 success / in sync; 1 the CIB differs (`check`), or a write did
//! not take effect, or `remove` timed out waiting for the group to stop; 2 a Pacemaker tool
//! failed or printed something unreadable (or bad arguments); 4 the tool said we lack the
//! privileges; 5 a Pacemaker tool is not installed; 6 a spec is invalid or clashes with the CIB.

use std::io;

use super::plan::PlanError;
use super::xml::XmlError;
use crate::ocf::OcfCode;
use crate::spec::SpecError;

/// Pacemaker's `CRM_EX_INSUFFICIENT_PRIV`: what its tools exit with when access is denied.
const CRM_EX_INSUFFICIENT_PRIV: i32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum CrmError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error("{tool} not found on PATH or in /usr/sbin; install pacemaker-cli-utils")]
    ToolMissing { tool: &'static str },
    #[error("cannot run {tool}: {source}")]
    Spawn {
        tool: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("`{argv}` failed ({}): {}", exit_text(*code), stderr.trim())]
    ToolFailed {
        argv: String,
        code: Option<i32>,
        stderr: String,
    },
    #[error("unreadable XML from `{argv}`: {source}")]
    BadXml {
        argv: String,
        #[source]
        source: XmlError,
    },
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(
        "{group}: still differs from the spec after the write (someone else changed it?):\n{diff}"
    )]
    StillDiffers { group: String, diff: String },
    #[error("{group}: still in the CIB after the write: {}", ids.join(", "))]
    Lingering { group: String, ids: Vec<String> },
    #[error("{group}: still running after {timeout} ({}); left in the CIB with target-role=Stopped — wait and run remove again, or use --force", running.join(", "))]
    StopTimeout {
        group: String,
        timeout: String,
        running: Vec<String>,
    },
    #[error("cannot write a temporary file for crm_diff: {0}")]
    Temp(#[source] io::Error),
    #[error(
        "{0:?} is not a cluster name (a letter, then up to 63 letters, digits, '_', '-' or '.')"
    )]
    BadName(String),
}

fn exit_text(code: Option<i32>) -> String {
    match code {
        Some(c) => format!("exit {c}"),
        None => "killed by a signal".to_string(),
    }
}

impl CrmError {
    /// The exit code `crm …` returns for this failure (see the module doc).
    pub fn ocf_code(&self) -> OcfCode {
        match self {
            CrmError::Spec(_) => OcfCode::ErrConfigured,
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
            CrmError::StillDiffers { .. }
            | CrmError::Lingering { .. }
            | CrmError::StopTimeout { .. } => OcfCode::ErrGeneric,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn exit_codes() {
        let spec = CrmError::Spec(SpecError::Invalid {
            file: PathBuf::from("x.toml"),
            problems: vec![],
        });
        assert_eq!(spec.ocf_code(), OcfCode::ErrConfigured);
        assert_eq!(
            CrmError::ToolMissing { tool: "cibadmin" }.ocf_code(),
            OcfCode::ErrInstalled
        );
        let failed = |code| CrmError::ToolFailed {
            argv: "cibadmin".into(),
            code,
            stderr: String::new(),
        };
        assert_eq!(failed(Some(105)).ocf_code(), OcfCode::ErrArgs);
        assert_eq!(failed(None).ocf_code(), OcfCode::ErrArgs);
        assert_eq!(failed(Some(4)).ocf_code(), OcfCode::ErrPerm);
        assert_eq!(
            CrmError::Plan(PlanError::IdClash {
                group: "g".into(),
                ids: vec!["x".into()]
            })
            .ocf_code(),
            OcfCode::ErrConfigured
        );
        assert_eq!(
            CrmError::StopTimeout {
                group: "g".into(),
                timeout: "60s".into(),
                running: vec![]
            }
            .ocf_code(),
            OcfCode::ErrGeneric
        );
        assert_eq!(CrmError::BadName("1x".into()).ocf_code(), OcfCode::ErrArgs);
    }
}
