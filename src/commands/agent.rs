//! Agent mode: decide from argv whether Pacemaker (or an operator) is calling us as an OCF
//! resource agent, and run the action.
//!
//! Called as `ipvs_sync`, every argument is an action of the connection-sync agent.
//!
//! Agent mode when: we were called as `ocf_big_brother` (the installed agent; every argument is
//! an action, unknown ones answer 3); or the first argument is an OCF action name; or it is
//! `status` and `OCF_RESOURCE_INSTANCE` is set (otherwise `big_brother status` is the operator's
//! status command).

use std::ffi::OsString;
use std::path::Path;

use crate::exit::OcfCode;
use crate::ocf::action::{usage, Action, OCF_ACTION_NAMES};
use crate::ocf::agent;
use crate::ocf::metadata::AGENT_NAME;
use crate::ocf::sync;
use crate::ocf::sync::metadata::AGENT_NAME as SYNC_AGENT_NAME;

/// What `main` should do with argv.
#[derive(Debug, PartialEq, Eq)]
pub enum Mode {
    /// Run the agent; `None` when called as the agent without an action.
    Agent(Option<String>),
    /// Run the connection-sync agent (called as `ipvs_sync`); `None`: without an action.
    SyncAgent(Option<String>),
    /// Parse a subcommand.
    Cli,
}

/// Decides the mode from argv and whether `OCF_RESOURCE_INSTANCE` is set.
pub fn mode(args: &[OsString], instance_set: bool) -> Mode {
    let first = args.get(1).map(|a| a.to_string_lossy().into_owned());
    if program(args) == AGENT_NAME {
        return Mode::Agent(first);
    }
    if program(args) == SYNC_AGENT_NAME {
        return Mode::SyncAgent(first);
    }
    match first.as_deref() {
        Some(a) if OCF_ACTION_NAMES.contains(&a) => Mode::Agent(first),
        Some("status") if instance_set => Mode::Agent(first),
        _ => Mode::Cli,
    }
}

/// The basename we were called by (`ocf_big_brother`, `big_brother`).
pub fn program(args: &[OsString]) -> String {
    args.first()
        .and_then(|a| Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "big_brother".into())
}

/// Runs the connection-sync agent (`ocf:braintree:ipvs_sync`).
pub fn run_sync(action: Option<&str>, program: &str) -> OcfCode {
    sync::run(action, program)
}

pub fn run(action: Option<&str>, program: &str) -> OcfCode {
    match action {
        Some(a) => agent::run(&Action::parse(a), program),
        None => {
            eprint!("{}", usage(program));
            OcfCode::ErrArgs
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn dispatch_table() {
        let agent = |a: &str| Mode::Agent(Some(a.to_string()));
        let cases: &[(&[&str], bool, Mode)] = &[
            (&["big_brother", "start"], false, agent("start")),
            (
                &["/usr/sbin/big_brother", "meta-data"],
                false,
                agent("meta-data"),
            ),
            (&["big_brother", "notify"], false, agent("notify")),
            (&["big_brother", "status"], false, Mode::Cli),
            (&["big_brother", "status"], true, agent("status")),
            (&["big_brother", "validate", "x.toml"], false, Mode::Cli),
            (&["big_brother"], false, Mode::Cli),
            (
                &[
                    "/usr/lib/ocf/resource.d/braintree/ocf_big_brother",
                    "status",
                ],
                false,
                agent("status"),
            ),
            (
                &["ocf_big_brother", "frobnicate"],
                false,
                agent("frobnicate"),
            ),
            (&["ocf_big_brother"], false, Mode::Agent(None)),
            (
                &["/usr/lib/ocf/resource.d/braintree/ipvs_sync", "start"],
                false,
                Mode::SyncAgent(Some("start".into())),
            ),
            (
                &["ipvs_sync", "status"],
                false,
                Mode::SyncAgent(Some("status".into())),
            ),
            (&["ipvs_sync"], false, Mode::SyncAgent(None)),
        ];
        for (argv, inst, want) in cases {
            assert_eq!(&mode(&args(argv), *inst), want, "{argv:?} instance={inst}");
        }
    }
}
