//! Why a sync agent action failed, and the sync agent's exit-code table ([`SyncError::code`]):
//! the one place that decides which OCF code Pacemaker gets for each failure and action.

use crate::exit::OcfCode;
use crate::ipvs::host_settings::HostError;
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
    /// Reading or writing a host-wide setting failed.
    #[error(transparent)]
    Host(#[from] HostError),
    /// Monitor (or start's read-back): a configured host-wide setting has another value.
    #[error("{0}")]
    HostChanged(String),
    /// The file of saved originals could not be read or written.
    #[error("saved host settings {}: {reason}", path.display())]
    Saved {
        path: std::path::PathBuf,
        reason: String,
    },
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
            E::Ipvs(IpvsError::Permission { .. })
            | E::Host(HostError::Ipvs {
                source: IpvsError::Permission { .. },
                ..
            }) => OcfCode::ErrPerm,
            E::Host(HostError::Sysctl { source, .. })
                if source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                OcfCode::ErrPerm
            }
            // This node lacks what the configuration needs; another node may have it.
            E::NoInterface { .. }
            | E::NoIpv4 { .. }
            | E::Ipvs(IpvsError::NoSuchInterface { .. }) => OcfCode::ErrInstalled,
            E::Ipvs(IpvsError::Invalid { .. }) => OcfCode::ErrConfigured,
            // A changed host setting fails the resource on purpose: Pacemaker stops it (which
            // leaves the other party's value alone) and starts it again (which sets ours).
            E::Foreign { .. }
            | E::Partial(_)
            | E::Interfaces(_)
            | E::Ipvs(_)
            | E::Host(_)
            | E::HostChanged(_)
            | E::Saved { .. } => OcfCode::ErrGeneric,
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
                SyncError::HostChanged("h".into()),
                Monitor,
                OcfCode::ErrGeneric,
            ),
            (
                SyncError::BadParam {
                    name: "sloppy_tcp",
                    value: "2".into(),
                    expected: "0 or 1".into(),
                },
                Validate,
                OcfCode::ErrConfigured,
            ),
            (
                SyncError::Host(HostError::Sysctl {
                    setting: crate::ipvs::Setting::SloppyTcp,
                    path: "/proc/sys/net/ipv4/vs/sloppy_tcp".into(),
                    source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
                }),
                Start,
                OcfCode::ErrPerm,
            ),
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
