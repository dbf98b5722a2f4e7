//! The exit codes of every face: OCF's numbering (OCF 1.1 `resource-agent-api.md`, values as in
//! resource-agents' `heartbeat/ocf-returncodes`). The agent speaks it to Pacemaker; the
//! supervisor exits with it (so `start` can pass its verdict on); the CLI and the crm verbs
//! reuse the same numbers so one table of meanings serves an operator everywhere. Which failure
//! gets which code is decided once per face: `ocf::code` (agent), `crm::code` (crm verbs),
//! `commands::code` (every other subcommand).

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_round_trip() {
        for v in 0..=7u8 {
            assert_eq!(OcfCode::from_u8(v).map(OcfCode::as_u8), Some(v));
        }
        assert_eq!(OcfCode::from_u8(8), None);
    }
}
