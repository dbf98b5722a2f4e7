//! Everything that can go wrong in the CIB face. Which exit code each gets is decided in
//! `crm::code`, and nowhere else.

use std::io;

use super::plan::PlanError;
use super::xml::XmlError;
use crate::error::Error;
use crate::spec::SpecError;

#[derive(Debug, thiserror::Error)]
pub enum CrmError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// Specs were refused and every problem of every file is already printed.
    #[error("{0} refused")]
    Invalid(String),
    /// The supervisor running a changed spec on this machine could not be reloaded (the CIB
    /// was written; the supervisor keeps its old spec).
    #[error("{group}: the supervisor here (pid {pid}) kept its old spec: {source}")]
    Reload {
        group: String,
        pid: i32,
        #[source]
        source: Error,
    },
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
