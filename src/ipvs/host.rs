//! The namespace-wide parts of IPVS: connection-synchronization daemons and connection
//! timeouts. One of each per network namespace, shared by every service, so they belong to the
//! host rather than to one cluster.
//!
//! Kernel rules these types encode (`net/netfilter/ipvs/ip_vs_sync.c`, `start_sync_thread`, and
//! `ip_vs_ctl.c`, `ip_vs_set_timeout`): at most one master and one backup daemon; unset group,
//! port and TTL become 224.0.0.81, 8848 and 1; the maximum message length is clamped to
//! `min..=65535 - headers` (min 1 for a master, 1024 for a backup) or, when unset, derived from
//! the MTU (a master assumes 1500). A timeout of 0 leaves that timeout unchanged, and a timeout
//! above `INT_MAX / HZ` seconds is `EINVAL`.
//!
//! [`SyncDaemon::check`] refuses every value the kernel would refuse *or silently change*, so
//! what [`super::Ipvs::sync_daemons`] reads back equals what was started (with defaults filled
//! in, see [`SyncDaemon::effective`]).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use super::netlink::ip_vs::{IP_VS_IFNAME_MAXLEN, IP_VS_STATE_BACKUP, IP_VS_STATE_MASTER};

/// Which half of connection synchronization a daemon runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SyncState {
    /// Sends the connections this director handles to the multicast group.
    Master,
    /// Receives the peers' connections and creates them here.
    Backup,
}

impl SyncState {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Master => "master",
            SyncState::Backup => "backup",
        }
    }

    /// `IP_VS_STATE_MASTER` / `IP_VS_STATE_BACKUP`.
    pub fn code(self) -> u32 {
        match self {
            SyncState::Master => IP_VS_STATE_MASTER,
            SyncState::Backup => IP_VS_STATE_BACKUP,
        }
    }

    pub fn from_code(code: u32) -> Option<SyncState> {
        match code {
            IP_VS_STATE_MASTER => Some(SyncState::Master),
            IP_VS_STATE_BACKUP => Some(SyncState::Backup),
            _ => None,
        }
    }
}

impl fmt::Display for SyncState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A connection-synchronization daemon: what to start (`None` = the kernel's default), or what
/// runs (every field set, as the kernel reports it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncDaemon {
    pub state: SyncState,
    /// Interface the master sends through / the backup listens on (at most 15 bytes).
    pub interface: String,
    /// Written into every message by a master; a backup drops messages of other ids, except
    /// that a backup with id 0 accepts all.
    pub sync_id: u8,
    /// Largest sync message payload (UDP), in bytes; `None`: from the MTU.
    pub max_len: Option<u16>,
    /// Multicast group, IPv4 or IPv6; `None`: 224.0.0.81.
    pub group: Option<IpAddr>,
    /// UDP port (thread *n* uses port + *n*); `None`: 8848.
    pub port: Option<u16>,
    /// Multicast TTL / hop limit; `None`: 1 (the group stays on the link).
    pub ttl: Option<u8>,
}

/// The kernel's default group (`IP_VS_SYNC_GROUP`).
pub const DEFAULT_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 81);
/// The kernel's default port (`IP_VS_SYNC_PORT`).
pub const DEFAULT_PORT: u16 = 8848;
/// The kernel's default TTL.
pub const DEFAULT_TTL: u8 = 1;
/// The MTU a master assumes when deriving its maximum length, and a backup's lower bound.
pub const SYNC_MTU: u16 = 1500;

impl SyncDaemon {
    /// A daemon with the kernel's defaults for everything optional.
    pub fn new(state: SyncState, interface: impl Into<String>, sync_id: u8) -> SyncDaemon {
        SyncDaemon {
            state,
            interface: interface.into(),
            sync_id,
            max_len: None,
            group: None,
            port: None,
            ttl: None,
        }
    }

    /// The group the daemon uses: the configured one or 224.0.0.81.
    pub fn group_or_default(&self) -> IpAddr {
        self.group.unwrap_or(IpAddr::V4(DEFAULT_GROUP))
    }

    /// The port the daemon uses: the configured one or 8848.
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(DEFAULT_PORT)
    }

    /// IP + UDP header bytes of a sync message to the group.
    fn header_len(&self) -> u16 {
        match self.group_or_default() {
            IpAddr::V4(_) => 20 + 8,
            IpAddr::V6(_) => 40 + 8,
        }
    }

    /// The range of `max_len` the kernel keeps as given (it clamps anything else).
    pub fn max_len_range(&self) -> std::ops::RangeInclusive<u16> {
        let min = match self.state {
            SyncState::Master => 1,
            SyncState::Backup => 1024,
        };
        min..=u16::MAX - self.header_len()
    }

    /// Why the kernel would refuse this daemon or run it with other values than these, if it
    /// would. Checked before anything is sent.
    pub fn check(&self) -> Result<(), String> {
        check_ifname(&self.interface)?;
        if let Some(g) = self.group {
            let multicast = match g {
                IpAddr::V4(a) => a.is_multicast(),
                IpAddr::V6(a) => a.is_multicast(),
            };
            if !multicast {
                return Err(format!("sync group {g} is not a multicast address"));
            }
        }
        if self.port == Some(0) {
            return Err(format!(
                "sync port 0 is not a port (leave it unset for the default {DEFAULT_PORT})"
            ));
        }
        if self.ttl == Some(0) {
            return Err("sync TTL 0 would keep messages on this host (1 to 255)".into());
        }
        if let Some(len) = self.max_len {
            let range = self.max_len_range();
            if !range.contains(&len) {
                return Err(format!(
                    "sync maximum length {len} is outside {}..={} for a {} with an {} group \
                     (the kernel would change it)",
                    range.start(),
                    range.end(),
                    self.state,
                    if self.header_len() == 28 {
                        "IPv4"
                    } else {
                        "IPv6"
                    }
                ));
            }
        }
        Ok(())
    }

    /// What the kernel will report for this daemon once started on an interface with `mtu`:
    /// every default filled in. Assumes [`SyncDaemon::check`] passed.
    pub fn effective(&self, mtu: u32) -> SyncDaemon {
        let derived = match self.state {
            SyncState::Master => SYNC_MTU,
            SyncState::Backup => {
                u16::try_from(mtu.clamp(u32::from(SYNC_MTU), 65535)).unwrap_or(u16::MAX)
            }
        };
        SyncDaemon {
            state: self.state,
            interface: self.interface.clone(),
            sync_id: self.sync_id,
            max_len: Some(
                self.max_len
                    .unwrap_or_else(|| derived.saturating_sub(self.header_len())),
            ),
            group: Some(self.group_or_default()),
            port: Some(self.port.unwrap_or(DEFAULT_PORT)),
            ttl: Some(self.ttl.unwrap_or(DEFAULT_TTL)),
        }
    }

    /// How `running` (as listed) differs from this wanted daemon, one phrase per field, empty
    /// when it is what this daemon would run as. An unset `max_len` accepts any length (the
    /// kernel derived it from an MTU this code cannot know).
    pub fn differences(&self, running: &SyncDaemon) -> Vec<String> {
        let mut out = Vec::new();
        let mut differ = |what: &str, want: String, got: String| {
            if want != got {
                out.push(format!("{what} {got} (wanted {want})"));
            }
        };
        differ("state", self.state.to_string(), running.state.to_string());
        differ(
            "interface",
            format!("{:?}", self.interface),
            format!("{:?}", running.interface),
        );
        differ(
            "sync id",
            self.sync_id.to_string(),
            running.sync_id.to_string(),
        );
        let want = self.effective(u32::from(SYNC_MTU));
        let show = |v: Option<String>| v.unwrap_or_else(|| "unset".into());
        differ(
            "group",
            show(want.group.map(|g| g.to_string())),
            show(running.group.map(|g| g.to_string())),
        );
        differ(
            "port",
            show(want.port.map(|p| p.to_string())),
            show(running.port.map(|p| p.to_string())),
        );
        differ(
            "ttl",
            show(want.ttl.map(|t| t.to_string())),
            show(running.ttl.map(|t| t.to_string())),
        );
        if let Some(len) = self.max_len {
            differ(
                "maximum length",
                len.to_string(),
                show(running.max_len.map(|l| l.to_string())),
            );
        }
        out
    }
}

/// A name the kernel could have given an interface (`dev_valid_name`): 1 to 15 bytes, not `.`
/// or `..`, no `/`, `:`, whitespace or NUL.
fn check_ifname(name: &str) -> Result<(), String> {
    let max = IP_VS_IFNAME_MAXLEN - 1;
    let ok = !name.is_empty()
        && name.len() <= max
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == ':' || c == '\0' || c.is_whitespace());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not an interface name (1 to {max} bytes, no '/', ':' or whitespace)"
        ))
    }
}

/// As `ipvsadm -L --daemon` prints a running daemon; unset values print as the kernel's
/// defaults, an unset maximum length as `auto`.
impl fmt::Display for SyncDaemon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} sync daemon (mcast={}, syncid={}, maxlen=",
            self.state, self.interface, self.sync_id
        )?;
        match self.max_len {
            Some(l) => write!(f, "{l}")?,
            None => f.write_str("auto")?,
        }
        write!(
            f,
            ", group={}, port={}, ttl={})",
            self.group_or_default(),
            self.port.unwrap_or(DEFAULT_PORT),
            self.ttl.unwrap_or(DEFAULT_TTL)
        )
    }
}

/// Connection timeouts of a namespace in seconds (`ipvsadm --set tcp tcpfin udp`): how long an
/// idle established TCP connection, a TCP connection after the client's FIN, and a UDP flow
/// keep their entry (and so their real server).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub tcp: u32,
    pub tcp_fin: u32,
    pub udp: u32,
}

impl Timeouts {
    /// What a fresh namespace has (`tcp_timeouts` / `udp_timeouts` in the kernel).
    pub const LINUX_DEFAULT: Timeouts = Timeouts {
        tcp: 900,
        tcp_fin: 120,
        udp: 300,
    };

    /// The largest timeout every kernel accepts: `INT_MAX / HZ` with HZ at most 1000 (24 days;
    /// HZ=250 kernels take four times more, but userspace cannot learn HZ).
    pub const MAX_SECONDS: u32 = (i32::MAX / 1000) as u32;

    /// Why the kernel could refuse these, if it could.
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("tcp", self.tcp),
            ("tcpfin", self.tcp_fin),
            ("udp", self.udp),
        ] {
            if v > Timeouts::MAX_SECONDS {
                return Err(format!(
                    "{name} timeout {v} s exceeds {} s (INT_MAX / HZ at HZ=1000)",
                    Timeouts::MAX_SECONDS
                ));
            }
        }
        Ok(())
    }

    /// `update` applied to `self` the kernel's way: a 0 keeps the current value.
    pub fn updated(&self, update: &Timeouts) -> Timeouts {
        let pick = |new: u32, old: u32| if new == 0 { old } else { new };
        Timeouts {
            tcp: pick(update.tcp, self.tcp),
            tcp_fin: pick(update.tcp_fin, self.tcp_fin),
            udp: pick(update.udp, self.udp),
        }
    }
}

/// `tcp tcpfin udp`, as `ipvsadm -L --timeout` prints them.
impl fmt::Display for Timeouts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.tcp, self.tcp_fin, self.udp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master() -> SyncDaemon {
        SyncDaemon::new(SyncState::Master, "s0", 42)
    }

    #[test]
    fn states_round_trip_their_codes() {
        for s in [SyncState::Master, SyncState::Backup] {
            assert_eq!(SyncState::from_code(s.code()), Some(s));
        }
        assert_eq!(SyncState::from_code(0), None);
        assert_eq!(SyncState::from_code(3), None, "a bitmask, not a state");
    }

    #[test]
    fn effective_values_are_what_the_kernel_reports() {
        // Verified in the VM: `ipvsadm -L --daemon` after --start-daemon with defaults.
        assert_eq!(
            master().effective(9000).to_string(),
            "master sync daemon (mcast=s0, syncid=42, maxlen=1472, group=224.0.0.81, \
             port=8848, ttl=1)"
        );
        let mut backup6 = SyncDaemon::new(SyncState::Backup, "s0", 42);
        backup6.group = Some("ff02::1:3".parse().unwrap());
        assert_eq!(backup6.effective(1500).max_len, Some(1452));
        // A backup derives from the MTU (at least 1500), a master never goes above 1500.
        let backup = SyncDaemon::new(SyncState::Backup, "s0", 0);
        assert_eq!(backup.effective(9000).max_len, Some(9000 - 28));
        assert_eq!(backup.effective(576).max_len, Some(1472));
        assert_eq!(master().effective(576).max_len, Some(1472));
        let mut given = master();
        given.max_len = Some(1000);
        given.port = Some(9000);
        given.ttl = Some(3);
        given.group = Some("239.1.2.3".parse().unwrap());
        let e = given.effective(1500);
        assert_eq!(
            (e.max_len, e.port, e.ttl, e.group),
            (given.max_len, given.port, given.ttl, given.group)
        );
        assert!(given.differences(&e).is_empty());
        assert!(master().differences(&master().effective(1500)).is_empty());
    }

    #[test]
    fn check_refuses_what_the_kernel_refuses_or_changes() {
        assert!(master().check().is_ok());
        type Change = fn(&mut SyncDaemon);
        let cases: [(Change, &str); 9] = [
            (|d| d.interface = String::new(), "not an interface name"),
            (
                |d| d.interface = "a-very-long-name".into(),
                "not an interface name",
            ),
            (|d| d.interface = "eth0:1".into(), "not an interface name"),
            (|d| d.interface = "..".into(), "not an interface name"),
            (
                |d| d.group = Some("192.0.2.1".parse().unwrap()),
                "not a multicast address",
            ),
            (
                |d| d.group = Some("2001:db8::1".parse().unwrap()),
                "not a multicast address",
            ),
            (|d| d.port = Some(0), "port 0"),
            (|d| d.ttl = Some(0), "TTL 0"),
            (|d| d.max_len = Some(0), "outside 1..=65507 for a master"),
        ];
        for (change, want) in cases {
            let mut d = master();
            change(&mut d);
            let e = d.check().unwrap_err();
            assert!(e.contains(want), "{d:?}: {e}");
        }
        let mut d = SyncDaemon::new(SyncState::Backup, "s0", 1);
        d.max_len = Some(1023);
        let e = d.check().unwrap_err();
        assert!(e.contains("outside 1024..=65507 for a backup"), "{e}");
        d.max_len = Some(1024);
        assert!(d.check().is_ok());
        d.group = Some("ff02::1:3".parse().unwrap());
        d.max_len = Some(65488);
        let e = d.check().unwrap_err();
        assert!(e.contains("1024..=65487") && e.contains("IPv6"), "{e}");
        d.interface = "abcdefghijklmno".into(); // 15 bytes: the longest name
        d.max_len = None;
        assert!(d.check().is_ok());
    }

    #[test]
    fn differences_name_each_field() {
        let want = master();
        let mut running = want.effective(1500);
        running.sync_id = 43;
        running.port = Some(9000);
        assert_eq!(
            want.differences(&running),
            vec!["sync id 43 (wanted 42)", "port 9000 (wanted 8848)"]
        );
        let mut other = SyncDaemon::new(SyncState::Backup, "s1", 42).effective(1500);
        other.max_len = Some(2000);
        let d = want.differences(&other);
        assert_eq!(d[0], "state backup (wanted master)");
        assert_eq!(d[1], "interface \"s1\" (wanted \"s0\")");
        assert_eq!(d.len(), 2, "maximum length not compared when unset: {d:?}");
        let mut fixed = want.clone();
        fixed.max_len = Some(1400);
        assert_eq!(
            fixed.differences(&want.effective(1500)),
            vec!["maximum length 1472 (wanted 1400)"]
        );
    }

    #[test]
    fn timeouts_merge_and_bounds() {
        let t = Timeouts::LINUX_DEFAULT;
        assert_eq!(t.to_string(), "900 120 300");
        let u = t.updated(&Timeouts {
            tcp: 100,
            tcp_fin: 0,
            udp: 30,
        });
        assert_eq!(u.to_string(), "100 120 30");
        assert_eq!(Timeouts::MAX_SECONDS, 2_147_483);
        assert!(Timeouts {
            tcp: Timeouts::MAX_SECONDS,
            tcp_fin: 0,
            udp: 0
        }
        .check()
        .is_ok());
        let e = Timeouts {
            tcp: 1,
            tcp_fin: 1,
            udp: Timeouts::MAX_SECONDS + 1,
        }
        .check()
        .unwrap_err();
        assert_eq!(
            e,
            "udp timeout 2147484 s exceeds 2147483 s (INT_MAX / HZ at HZ=1000)"
        );
    }
}
