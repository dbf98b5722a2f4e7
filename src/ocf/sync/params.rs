//! The sync agent's instance parameters (`OCF_RESKEY_*`): `interface` and `sync_id` required,
//! the multicast group, port, TTL and maximum length optional (unset = the kernel's default),
//! and the host-wide settings ([`Setting`]: three timeouts, three sysctls) optional (unset =
//! leave the host's value).
//! Parsing is pure (a lookup function), and every value is checked the way
//! [`SyncDaemon::check`] checks it, for both daemons, so a bad value is a configuration error
//! before anything is sent to the kernel.

use super::error::SyncError;
use crate::ipvs::{HostSettings, Setting, SyncConfig};

/// `OCF_RESKEY_<name>`.
pub fn env_name(name: &str) -> String {
    format!("OCF_RESKEY_{name}")
}

/// Parameter names, as meta-data advertises them (shared with the CIB generator).
pub use crate::ipvs::sync_param::*;

fn number<T: std::str::FromStr>(
    name: &'static str,
    raw: &str,
    expected: &str,
) -> Result<T, SyncError> {
    raw.trim().parse().map_err(|_| SyncError::BadParam {
        name,
        value: raw.to_string(),
        expected: expected.to_string(),
    })
}

/// Reads and checks the parameters through `get` (the process environment in production).
pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<SyncConfig, SyncError> {
    let val = |name: &str| get(&env_name(name)).filter(|v| !v.is_empty());
    let interface = val(INTERFACE).ok_or(SyncError::MissingParam { name: INTERFACE })?;
    let raw_id = val(SYNC_ID).ok_or(SyncError::MissingParam { name: SYNC_ID })?;
    let sync_id = number(SYNC_ID, &raw_id, "an integer from 0 to 255")?;
    let group = match val(MCAST_GROUP) {
        None => None,
        Some(raw) => Some(number(
            MCAST_GROUP,
            &raw,
            "an IPv4 or IPv6 multicast address",
        )?),
    };
    let port = match val(MCAST_PORT) {
        None => None,
        Some(raw) => Some(number(MCAST_PORT, &raw, "a UDP port from 1 to 65535")?),
    };
    let ttl = match val(MCAST_TTL) {
        None => None,
        Some(raw) => Some(number(MCAST_TTL, &raw, "an integer from 1 to 255")?),
    };
    let max_len = match val(SYNC_MAXLEN) {
        None => None,
        Some(raw) => Some(number(SYNC_MAXLEN, &raw, "an integer from 1024 to 65507")?),
    };
    let mut host = HostSettings::default();
    for setting in Setting::ALL {
        if let Some(raw) = val(setting.param()) {
            let v = setting
                .parse(&raw)
                .map_err(|expected| SyncError::BadParam {
                    name: setting.param(),
                    value: raw.clone(),
                    expected,
                })?;
            host.set(setting, v);
        }
    }
    let p = SyncConfig {
        interface,
        sync_id,
        group,
        port,
        ttl,
        max_len,
        host,
    };
    p.check().map_err(|reason| SyncError::Invalid { reason })?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::ipvs::{SyncDaemon, SyncState};

    fn parse(pairs: &[(&str, &str)]) -> Result<SyncConfig, String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (env_name(k), v.to_string()))
            .collect();
        from_lookup(|k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn required_and_defaults() {
        let p = parse(&[("interface", "eth1"), ("sync_id", "42")]).unwrap();
        assert_eq!(
            p.daemon(SyncState::Master),
            SyncDaemon::new(SyncState::Master, "eth1", 42)
        );
        assert_eq!(
            parse(&[("sync_id", "1")]).unwrap_err(),
            "parameter interface is required"
        );
        assert_eq!(
            parse(&[("interface", "eth1")]).unwrap_err(),
            "parameter sync_id is required"
        );
    }

    #[test]
    fn every_optional_value_is_read() {
        let p = parse(&[
            ("interface", "eth1"),
            ("sync_id", "255"),
            ("mcast_group", "ff02::1:81"),
            ("mcast_port", "9000"),
            ("mcast_ttl", "2"),
            ("sync_maxlen", "1400"),
        ])
        .unwrap();
        assert_eq!(p.group, Some("ff02::1:81".parse().unwrap()));
        assert_eq!(
            (p.port, p.ttl, p.max_len),
            (Some(9000), Some(2), Some(1400))
        );
        assert!(p.host.is_empty(), "host settings unset by default");
    }

    #[test]
    fn host_settings_are_read_and_a_zero_timeout_leaves_the_kernels() {
        let p = parse(&[
            ("interface", "eth1"),
            ("sync_id", "1"),
            ("tcp_timeout", "100"),
            ("tcpfin_timeout", "0"),
            ("udp_timeout", ""),
            ("expire_nodest_conn", "1"),
            ("expire_quiescent_template", "0"),
            ("sloppy_tcp", "1"),
        ])
        .unwrap();
        let got: Vec<(Setting, u32)> = p.host.wanted().collect();
        assert_eq!(
            got,
            vec![
                (Setting::TcpTimeout, 100),
                (Setting::ExpireNodestConn, 1),
                (Setting::ExpireQuiescentTemplate, 0),
                (Setting::SloppyTcp, 1),
            ]
        );
    }

    #[test]
    fn bad_values_say_what_was_expected() {
        let base = [("interface", "eth1"), ("sync_id", "1")];
        let with = |k: &'static str, v: &'static str| {
            let mut all = base.to_vec();
            all.push((k, v));
            parse(&all).unwrap_err()
        };
        assert_eq!(
            parse(&[("interface", "eth1"), ("sync_id", "256")]).unwrap_err(),
            "parameter sync_id=\"256\": expected an integer from 0 to 255"
        );
        assert!(with("mcast_group", "10.0.0.1").contains("not a multicast address"));
        assert!(with("mcast_group", "nope").contains("expected an IPv4 or IPv6"));
        assert!(with("mcast_port", "0").contains("sync port 0"));
        assert!(with("mcast_port", "70000").contains("expected a UDP port"));
        assert!(with("mcast_ttl", "0").contains("TTL 0"));
        assert!(with("sync_maxlen", "100").contains("outside 1024..=65507 for a backup"));
        assert_eq!(
            with("sloppy_tcp", "yes"),
            "parameter sloppy_tcp=\"yes\": expected 0 or 1 (empty: leave the host's value)"
        );
        assert!(with("expire_nodest_conn", "2").contains("expected 0 or 1"));
        assert!(with("tcp_timeout", "99999999").contains("seconds from 0 to 2147483"));
        assert!(with("udp_timeout", "-5").starts_with("parameter udp_timeout=\"-5\""));
        assert!(parse(&[("interface", "a/b"), ("sync_id", "1")])
            .unwrap_err()
            .contains("not an interface name"));
    }
}
