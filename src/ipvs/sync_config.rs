//! One configuration for both sync daemons of a host: what the `ipvs_sync` agent reads from its
//! parameters and what `crm generate --sync-*` writes into the CIB as those parameters. One type
//! in the lowest room both faces may use, so the agent and the generator cannot drift apart on
//! what a value means or which values are refused.

use std::net::IpAddr;

use super::host::{SyncDaemon, SyncState};
use super::host_settings::HostSettings;

/// The `ipvs_sync` agent's parameter names: its meta-data, its `OCF_RESKEY_*` variables and the
/// nvpairs `crm generate` writes.
pub mod param {
    pub const INTERFACE: &str = "interface";
    pub const SYNC_ID: &str = "sync_id";
    pub const MCAST_GROUP: &str = "mcast_group";
    pub const MCAST_PORT: &str = "mcast_port";
    pub const MCAST_TTL: &str = "mcast_ttl";
    pub const SYNC_MAXLEN: &str = "sync_maxlen";
    // The host-wide settings' names are `crate::ipvs::Setting::param`.
}

/// `interface` and `sync_id` required; the rest `None` for the kernel's default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncConfig {
    pub interface: String,
    pub sync_id: u8,
    pub group: Option<IpAddr>,
    pub port: Option<u16>,
    pub ttl: Option<u8>,
    pub max_len: Option<u16>,
    /// Host-wide timeouts and sysctls to set while the resource runs (all optional).
    pub host: HostSettings,
}

impl SyncConfig {
    /// The configuration with the kernel's defaults for everything optional.
    pub fn new(interface: impl Into<String>, sync_id: u8) -> SyncConfig {
        SyncConfig {
            interface: interface.into(),
            sync_id,
            group: None,
            port: None,
            ttl: None,
            max_len: None,
            host: HostSettings::default(),
        }
    }

    /// The daemon of `state` this configuration asks for.
    pub fn daemon(&self, state: SyncState) -> SyncDaemon {
        SyncDaemon {
            state,
            interface: self.interface.clone(),
            sync_id: self.sync_id,
            max_len: self.max_len,
            group: self.group,
            port: self.port,
            ttl: self.ttl,
        }
    }

    /// Why the kernel would refuse (or silently change) a value for either daemon, if it would
    /// ([`SyncDaemon::check`] for the master, then the backup).
    pub fn check(&self) -> Result<(), String> {
        for state in [SyncState::Master, SyncState::Backup] {
            self.daemon(state).check()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_daemons_share_the_values_and_the_check() {
        let c = SyncConfig::new("eth1", 42);
        assert_eq!(
            c.daemon(SyncState::Backup),
            SyncDaemon::new(SyncState::Backup, "eth1", 42)
        );
        assert!(c.check().is_ok());
        // 100 bytes is fine for a master, not for a backup: the check covers both.
        let short = SyncConfig {
            max_len: Some(100),
            ..c.clone()
        };
        assert!(short.daemon(SyncState::Master).check().is_ok());
        assert!(short.check().unwrap_err().contains("for a backup"));
        let unicast = SyncConfig {
            group: Some("10.0.0.1".parse().unwrap()),
            ..c
        };
        assert!(unicast
            .check()
            .unwrap_err()
            .contains("not a multicast address"));
    }
}
