//! OCF exit codes (OCF 1.1 `resource-agent-api.md`, values as in resource-agents'
//! `heartbeat/ocf-returncodes`). Every face of the binary exits through this type, so the mapping
//! from failures to codes lives in one place per error layer (`ocf_code()` methods).

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
}

impl From<OcfCode> for std::process::ExitCode {
    fn from(c: OcfCode) -> Self {
        std::process::ExitCode::from(c.as_u8())
    }
}
