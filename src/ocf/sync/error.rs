//! Why a sync agent action failed, and the sync agent's exit-code table ([`SyncError::code`]):
//! the one place that decides which OCF code Pacemaker gets for each failure and action.

use crate::exit::OcfCode;
use crate::ipvs::{IpvsError, SyncState};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("parameter {name} is required")]
    MissingParam { name: &'static str },
    #[error("parameter {name}={value:?}: expected {expected}")]
    BadParam {
        name: &'static str,
        value: String,
        expected: String,
    },
    /// A value the kernel would refuse or silently change ([`crate::ipvs::SyncDaemon::check`]).
    #[error("invalid parameters: {reason}")]
    Invalid { reason: String },
    #[error(
        "interface {interface:?} does not exist on this host (ENODEV): the sync daemons need it \
         to send and receive their multicast messages"
    )]
    NoInterface { interface: String },
    #[error(
        "interface {interface:?} has no IPv4 address: the master sync daemon sends from the \
         interface's first IPv4 address (without one the kernel picks another interface's \
         address or 0.0.0.0, and backups drop the messages); add an IPv4 address to it"
    )]
    NoIpv4 { interface: String },
    /// A daemon of that state runs with values other than this resource's (EEXIST on start):
    /// it is someone else's and is never adopted or stopped.
    #[error(
        "a {state} sync daemon started by someone else runs here: {running}; it differs from \
         this resource's in {differences}; it is left alone: stop it (`ipvsadm --stop-daemon \
         {state}`) or give this resource its values"
    )]
    Foreign {
        state: SyncState,
        running: String,
        differences: String,
    },
    /// Monitor: only part of what this resource runs is running.
    #[error("{0}")]
    Partial(String),
    #[error("reading the network interfaces: {0}")]
    Interfaces(std::io::Error),
    #[error(transparent)]
    Ipvs(#[from] IpvsError),
}

/// The action a code is decided for (the table differs for stop and monitor).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Start,
    Stop,
    Monitor,
    Validate,
}

impl SyncError {
    /// The OCF code for this failure during `phase`.
    pub fn code(&self, phase: Phase) -> OcfCode {
        use SyncError as E;
        match self {
            E::MissingParam { .. } | E::BadParam { .. } | E::Invalid { .. } => {
                OcfCode::ErrConfigured
            }
            // No IPVS here: nothing of ours can run, so there is nothing to stop.
            E::Ipvs(IpvsError::NotAvailable) => match phase {
                Phase::Stop => OcfCode::Success,
                Phase::Monitor => OcfCode::NotRunning,
                Phase::Start | Phase::Validate => OcfCode::ErrInstalled,
            },
            E::Ipvs(IpvsError::Permission { .. }) => OcfCode::ErrPerm,
            // This node lacks what the configuration needs; another node may have it.
            E::NoInterface { .. }
            | E::NoIpv4 { .. }
            | E::Ipvs(IpvsError::NoSuchInterface { .. }) => OcfCode::ErrInstalled,
            E::Ipvs(IpvsError::Invalid { .. }) => OcfCode::ErrConfigured,
            E::Foreign { .. } | E::Partial(_) | E::Interfaces(_) | E::Ipvs(_) => {
                OcfCode::ErrGeneric
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        use Phase::*;
        let foreign = || SyncError::Foreign {
            state: SyncState::Master,
            running: "x".into(),
            differences: "sync id 1 (wanted 2)".into(),
        };
        let cases: Vec<(SyncError, Phase, OcfCode)> = vec![
            (
                SyncError::MissingParam { name: "x" },
                Start,
                OcfCode::ErrConfigured,
            ),
            (
                SyncError::MissingParam { name: "x" },
                Stop,
                OcfCode::ErrConfigured,
            ),
            (
                SyncError::Ipvs(IpvsError::NotAvailable),
                Start,
                OcfCode::ErrInstalled,
            ),
            (
                SyncError::Ipvs(IpvsError::NotAvailable),
                Stop,
                OcfCode::Success,
            ),
            (
                SyncError::Ipvs(IpvsError::NotAvailable),
                Monitor,
                OcfCode::NotRunning,
            ),
            (
                SyncError::NoInterface {
                    interface: "e".into(),
                },
                Start,
                OcfCode::ErrInstalled,
            ),
            (
                SyncError::NoIpv4 {
                    interface: "e".into(),
                },
                Start,
                OcfCode::ErrInstalled,
            ),
            (foreign(), Start, OcfCode::ErrGeneric),
            (SyncError::Partial("p".into()), Monitor, OcfCode::ErrGeneric),
            (
                SyncError::Ipvs(IpvsError::Permission { op: "x" }),
                Monitor,
                OcfCode::ErrPerm,
            ),
        ];
        for (e, phase, want) in cases {
            assert_eq!(e.code(phase), want, "{e} in {phase:?}");
        }
    }
}
