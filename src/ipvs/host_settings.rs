//! Host-wide IPVS settings the `ipvs_sync` agent may set: the namespace's three connection
//! timeouts (SET_CONFIG / GET_CONFIG over netlink) and three sysctls under
//! `/proc/sys/net/ipv4/vs/` (written as files: no `sysctl` binary, no shell). One enum names
//! them all, so the agent's parameters, its saved originals, its monitor and `crm generate`
//! agree on names and ranges. [`HostAccess`] reads and writes one setting; [`Kernel`] is the
//! real host, the unit tests use a double.

use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::{Ipvs, IpvsError, Timeouts};

/// Where the kernel exposes `net.ipv4.vs.*` (per network namespace: the reader's).
pub const SYSCTL_DIR: &str = "/proc/sys/net/ipv4/vs";

/// One host-wide setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Setting {
    TcpTimeout,
    TcpFinTimeout,
    UdpTimeout,
    ExpireNodestConn,
    ExpireQuiescentTemplate,
    SloppyTcp,
}

impl Setting {
    pub const ALL: [Setting; 6] = [
        Setting::TcpTimeout,
        Setting::TcpFinTimeout,
        Setting::UdpTimeout,
        Setting::ExpireNodestConn,
        Setting::ExpireQuiescentTemplate,
        Setting::SloppyTcp,
    ];

    /// The agent's parameter name (also the name in its saved originals and in messages).
    pub const fn param(self) -> &'static str {
        match self {
            Setting::TcpTimeout => "tcp_timeout",
            Setting::TcpFinTimeout => "tcpfin_timeout",
            Setting::UdpTimeout => "udp_timeout",
            Setting::ExpireNodestConn => "expire_nodest_conn",
            Setting::ExpireQuiescentTemplate => "expire_quiescent_template",
            Setting::SloppyTcp => "sloppy_tcp",
        }
    }

    /// Inverse of [`Setting::param`].
    pub fn from_param(name: &str) -> Option<Setting> {
        Setting::ALL.into_iter().find(|s| s.param() == name)
    }

    /// The sysctl file name, for the three sysctls.
    pub fn sysctl(self) -> Option<&'static str> {
        match self {
            Setting::ExpireNodestConn => Some("expire_nodest_conn"),
            Setting::ExpireQuiescentTemplate => Some("expire_quiescent_template"),
            Setting::SloppyTcp => Some("sloppy_tcp"),
            _ => None,
        }
    }

    /// What an operator knows it as: `net.ipv4.vs.sloppy_tcp`, `the IPVS tcp timeout`.
    pub fn describe(self) -> String {
        match self.sysctl() {
            Some(name) => format!("net.ipv4.vs.{name}"),
            None => format!(
                "the IPVS {} timeout",
                match self {
                    Setting::TcpTimeout => "tcp",
                    Setting::TcpFinTimeout => "tcpfin",
                    _ => "udp",
                }
            ),
        }
    }

    /// What a parameter value must be, for the error that names it.
    pub fn expected(self) -> String {
        match self.sysctl() {
            Some(_) => "0 or 1 (empty: leave the host's value)".into(),
            None => format!(
                "seconds from 0 to {} (0 or empty: leave the kernel's value)",
                Timeouts::MAX_SECONDS
            ),
        }
    }

    /// A parameter value: `Ok(None)` = leave the host's value (empty; a timeout of 0, which
    /// the kernel's SET_CONFIG itself reads as "keep").
    pub fn parse(self, raw: &str) -> Result<Option<u32>, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let max = if self.sysctl().is_some() {
            1
        } else {
            Timeouts::MAX_SECONDS
        };
        match raw.parse::<u32>() {
            Ok(v) if v <= max => Ok(if self.sysctl().is_none() && v == 0 {
                None
            } else {
                Some(v)
            }),
            _ => Err(self.expected()),
        }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.param())
    }
}

/// The settings a configuration asks for; `None` = leave the host's value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostSettings([Option<u32>; 6]);

impl HostSettings {
    pub fn get(&self, s: Setting) -> Option<u32> {
        self.0[s as usize]
    }

    pub fn set(&mut self, s: Setting, v: Option<u32>) {
        self.0[s as usize] = v;
    }

    /// The configured settings with their values, in [`Setting::ALL`] order.
    pub fn wanted(&self) -> impl Iterator<Item = (Setting, u32)> + '_ {
        Setting::ALL
            .into_iter()
            .filter_map(|s| self.get(s).map(|v| (s, v)))
    }

    pub fn is_empty(&self) -> bool {
        self.wanted().next().is_none()
    }
}

/// Reading or writing a host setting failed.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("{setting}: {source}")]
    Ipvs {
        setting: Setting,
        #[source]
        source: IpvsError,
    },
    #[error("{}: {}: {source}", setting.describe(), path.display())]
    Sysctl {
        setting: Setting,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: {}: expected a number, read {text:?}", setting.describe(), path.display())]
    Malformed {
        setting: Setting,
        path: PathBuf,
        text: String,
    },
}

/// Reads and writes one host setting.
pub trait HostAccess {
    fn read(&mut self, s: Setting) -> Result<u32, HostError>;
    fn write(&mut self, s: Setting, value: u32) -> Result<(), HostError>;
}

/// The real host: timeouts over `ipvs`, sysctls as files in `sysctl_dir` ([`SYSCTL_DIR`]).
pub struct Kernel<'a> {
    pub ipvs: &'a mut dyn Ipvs,
    pub sysctl_dir: PathBuf,
}

/// A sysctl file holds a number and a newline; anything longer is not one.
const MAX_SYSCTL_BYTES: u64 = 32;

impl Kernel<'_> {
    fn path(&self, name: &str) -> PathBuf {
        self.sysctl_dir.join(name)
    }
}

fn read_sysctl(setting: Setting, path: &Path) -> Result<u32, HostError> {
    let io_err = |source| HostError::Sysctl {
        setting,
        path: path.to_path_buf(),
        source,
    };
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SYSCTL_BYTES).read_to_string(&mut text))
        .map_err(io_err)?;
    text.trim().parse().map_err(|_| HostError::Malformed {
        setting,
        path: path.to_path_buf(),
        text: text.trim().chars().take(32).collect(),
    })
}

impl HostAccess for Kernel<'_> {
    fn read(&mut self, s: Setting) -> Result<u32, HostError> {
        if let Some(name) = s.sysctl() {
            return read_sysctl(s, &self.path(name));
        }
        let t = self
            .ipvs
            .timeouts()
            .map_err(|source| HostError::Ipvs { setting: s, source })?;
        Ok(match s {
            Setting::TcpTimeout => t.tcp,
            Setting::TcpFinTimeout => t.tcp_fin,
            _ => t.udp,
        })
    }

    fn write(&mut self, s: Setting, value: u32) -> Result<(), HostError> {
        if let Some(name) = s.sysctl() {
            let path = self.path(name);
            // Opened without create or truncate: /proc files exist or the module is absent.
            return std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|mut f| io::Write::write_all(&mut f, format!("{value}\n").as_bytes()))
                .map_err(|source| HostError::Sysctl {
                    setting: s,
                    path,
                    source,
                });
        }
        // A 0 in SET_CONFIG keeps that timeout: only this one changes.
        let mut t = Timeouts {
            tcp: 0,
            tcp_fin: 0,
            udp: 0,
        };
        match s {
            Setting::TcpTimeout => t.tcp = value,
            Setting::TcpFinTimeout => t.tcp_fin = value,
            _ => t.udp = value,
        }
        self.ipvs
            .set_timeouts(&t)
            .map_err(|source| HostError::Ipvs { setting: s, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::memory::Memory;

    #[test]
    fn names_round_trip_and_parse_bounds() {
        for s in Setting::ALL {
            assert_eq!(Setting::from_param(s.param()), Some(s));
        }
        assert_eq!(Setting::from_param("nope"), None);
        assert_eq!(Setting::SloppyTcp.parse("1"), Ok(Some(1)));
        assert_eq!(Setting::SloppyTcp.parse("0"), Ok(Some(0)));
        assert_eq!(Setting::SloppyTcp.parse(""), Ok(None));
        assert!(Setting::SloppyTcp
            .parse("2")
            .unwrap_err()
            .contains("0 or 1"));
        assert_eq!(Setting::TcpTimeout.parse(" 100 "), Ok(Some(100)));
        assert_eq!(
            Setting::TcpTimeout.parse("0"),
            Ok(None),
            "0 keeps the kernel's"
        );
        assert!(Setting::UdpTimeout
            .parse("2147484")
            .unwrap_err()
            .contains("from 0 to 2147483"));
        assert!(Setting::UdpTimeout.parse("-1").is_err());
        assert_eq!(
            Setting::ExpireNodestConn.describe(),
            "net.ipv4.vs.expire_nodest_conn"
        );
        assert_eq!(Setting::TcpFinTimeout.describe(), "the IPVS tcpfin timeout");
    }

    #[test]
    fn kernel_access_reads_and_writes_files_and_timeouts() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "expire_nodest_conn",
            "expire_quiescent_template",
            "sloppy_tcp",
        ] {
            std::fs::write(dir.path().join(name), "0\n").unwrap();
        }
        let mut m = Memory::new();
        let mut k = Kernel {
            ipvs: &mut m,
            sysctl_dir: dir.path().to_path_buf(),
        };
        k.write(Setting::SloppyTcp, 1).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("sloppy_tcp")).unwrap(),
            "1\n"
        );
        assert_eq!(k.read(Setting::SloppyTcp).unwrap(), 1);
        k.write(Setting::UdpTimeout, 30).unwrap();
        assert_eq!(k.read(Setting::UdpTimeout).unwrap(), 30);
        assert_eq!(k.read(Setting::TcpTimeout).unwrap(), 900, "others kept");
        std::fs::write(dir.path().join("expire_nodest_conn"), "x").unwrap();
        let e = k.read(Setting::ExpireNodestConn).unwrap_err();
        assert!(e.to_string().contains("expected a number"), "{e}");
        std::fs::remove_file(dir.path().join("expire_nodest_conn")).unwrap();
        assert!(matches!(
            k.write(Setting::ExpireNodestConn, 1),
            Err(HostError::Sysctl { .. })
        ));
    }
}
