//! The OCF action the agent was asked to perform: the single command-line argument of the OCF
//! 1.1 execution syntax (`ra/1.1/resource-agent-api.md`, "Execution Syntax"; further arguments are
//! ignored as the spec demands). Names the agent does not implement parse to
//! [`Action::Other`] and answer 3 (`OCF_ERR_UNIMPLEMENTED`) with the usage text, as Dummy does.

use std::fmt;

/// An OCF action, as named on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Start,
    Stop,
    Monitor,
    /// LSB-style alias of `monitor` (the resource-agents convention).
    Status,
    MetaData,
    ValidateAll,
    /// OCF 1.1: make changed `reloadable="1"` parameters effective without a restart.
    ReloadAgent,
    /// Re-read the spec file (the service's native configuration) without a restart.
    Reload,
    /// Print the supported actions, one per line.
    Methods,
    Usage,
    /// Anything else, kept for messages (`promote`, `notify`, a typo …).
    Other(String),
}

/// Every action name defined by OCF 1.1, implemented or not. `main` sends these to the agent even
/// when the binary is called as `big_brother`, so `big_brother notify` answers 3 like an agent
/// instead of a command-line error.
pub const OCF_ACTION_NAMES: &[&str] = &[
    "start",
    "stop",
    "monitor",
    "meta-data",
    "validate-all",
    "reload-agent",
    "reload",
    "methods",
    "usage",
    "promote",
    "demote",
    "notify",
    "recover",
    "migrate_to",
    "migrate_from",
];

/// Actions this agent implements, in the order `methods` and `usage` list them.
pub const IMPLEMENTED: &[&str] = &[
    "start",
    "stop",
    "monitor",
    "status",
    "validate-all",
    "reload-agent",
    "reload",
    "meta-data",
    "methods",
    "usage",
];

impl Action {
    pub fn parse(name: &str) -> Action {
        match name {
            "start" => Action::Start,
            "stop" => Action::Stop,
            "monitor" => Action::Monitor,
            "status" => Action::Status,
            "meta-data" => Action::MetaData,
            "validate-all" => Action::ValidateAll,
            "reload-agent" => Action::ReloadAgent,
            "reload" => Action::Reload,
            "methods" => Action::Methods,
            "usage" | "help" => Action::Usage,
            other => Action::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Action::Start => "start",
            Action::Stop => "stop",
            Action::Monitor => "monitor",
            Action::Status => "status",
            Action::MetaData => "meta-data",
            Action::ValidateAll => "validate-all",
            Action::ReloadAgent => "reload-agent",
            Action::Reload => "reload",
            Action::Methods => "methods",
            Action::Usage => "usage",
            Action::Other(s) => s,
        }
    }

    /// `monitor` and its LSB alias `status`.
    pub fn is_monitor(&self) -> bool {
        matches!(self, Action::Monitor | Action::Status)
    }

    /// Actions that need no parameters, no config and no privileges (ocf-tester runs
    /// `meta-data` as `nobody`), and that neither log nor touch state.
    pub fn is_informational(&self) -> bool {
        matches!(
            self,
            Action::MetaData | Action::Methods | Action::Usage | Action::Other(_)
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The usage line printed for `usage` and for unknown actions.
pub fn usage(program: &str) -> String {
    format!(
        "usage: {program} {{{}}}\n\nExpects a fully populated OCF RA-compliant environment \
         (OCF_RESKEY_cluster, optionally OCF_RESKEY_config and OCF_RESKEY_dry_run).\n",
        IMPLEMENTED.join("|")
    )
}

/// The informational actions, answered alike by every agent this binary serves and needing
/// no environment, configuration or log: `meta-data`, `methods`, `usage`. `Some(code)` when
/// `action` was one of them (its text printed), `None` otherwise.
pub fn informational(
    action: &Action,
    metadata: impl FnOnce() -> String,
    implemented: &[&str],
    usage: impl FnOnce() -> String,
) -> Option<crate::exit::OcfCode> {
    match action {
        Action::MetaData => print!("{}", metadata()),
        Action::Methods => {
            for a in implemented {
                println!("{a}");
            }
        }
        Action::Usage => print!("{}", usage()),
        _ => return None,
    }
    Some(crate::exit::OcfCode::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_implemented_name() {
        for name in IMPLEMENTED {
            let a = Action::parse(name);
            assert!(!matches!(a, Action::Other(_)), "{name} is implemented");
            assert_eq!(a.as_str(), *name);
        }
    }

    #[test]
    fn unknown_names_are_kept() {
        assert_eq!(Action::parse("promote"), Action::Other("promote".into()));
        assert!(Action::parse("notify").is_informational());
    }

    #[test]
    fn every_implemented_name_but_status_dispatches_to_the_agent() {
        // `status` is also the operator's `big_brother status`; main decides by environment.
        for name in IMPLEMENTED.iter().filter(|n| **n != "status") {
            assert!(OCF_ACTION_NAMES.contains(name), "{name}");
        }
    }
}
