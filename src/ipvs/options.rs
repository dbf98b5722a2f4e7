//! Service options beyond scheduler and persistence timeout, as the kernel and ipvsadm name
//! them: the persistence netmask (`-M`) and the scheduler flags (`-b`). Pure values; the codec
//! puts them on the wire and [`super::memory::Memory`] keeps them as given.
//!
//! Names follow the kernel: `IP_VS_SVC_F_SCHED_SH_FALLBACK` / `_SH_PORT` in
//! `include/uapi/linux/ip_vs.h`, `IP_VS_SVC_F_SCHED_MH_FALLBACK` / `_MH_PORT` in
//! `net/netfilter/ipvs/ip_vs_mh.c` (both pairs are scheduler flags 1 and 2); ipvsadm and
//! keepalived spell them `sh-fallback`, `sh-port`, `mh-fallback`, `mh-port`. No scheduler
//! distributed with Linux reads flag 3, and the others read none, so only these four are named.

use std::fmt;
use std::net::Ipv4Addr;

use super::netlink::ip_vs::{
    IP_VS_SVC_F_SCHED_MH_FALLBACK, IP_VS_SVC_F_SCHED_MH_PORT, IP_VS_SVC_F_SCHED_SH_FALLBACK,
    IP_VS_SVC_F_SCHED_SH_PORT,
};
use super::Family;

/// Persistence granularity (`IPVS_SVC_ATTR_NETMASK`): persistence templates are keyed by the
/// client address masked with this, so one template can cover a whole client network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Netmask {
    /// An IPv4 netmask, as ipvsadm `-M 255.255.255.0` (the kernel ANDs it with the address;
    /// it does not require contiguous bits).
    V4(Ipv4Addr),
    /// An IPv6 prefix length, 1 to 128 (the kernel refuses anything else with `EINVAL`).
    V6(u8),
}

impl Netmask {
    /// One template per client address: 255.255.255.255 or /128 (ipvsadm's default).
    pub fn full(family: Family) -> Netmask {
        match family {
            Family::V4 => Netmask::V4(Ipv4Addr::BROADCAST),
            Family::V6 => Netmask::V6(128),
        }
    }

    pub fn family(&self) -> Family {
        match self {
            Netmask::V4(_) => Family::V4,
            Netmask::V6(_) => Family::V6,
        }
    }

    /// Why the kernel would refuse this netmask on a service of `family`, if it would.
    pub fn check(&self, family: Family) -> Result<(), String> {
        if self.family() != family {
            return Err(format!(
                "persistence netmask {self} is for {} but the service is {}",
                family_name(self.family()),
                family_name(family)
            ));
        }
        match self {
            Netmask::V6(len) if !(1..=128).contains(len) => Err(format!(
                "IPv6 persistence prefix length {len} is not between 1 and 128"
            )),
            _ => Ok(()),
        }
    }
}

fn family_name(f: Family) -> &'static str {
    match f {
        Family::V4 => "IPv4",
        Family::V6 => "IPv6",
    }
}

/// As ipvsadm prints it after `mask`: the IPv4 mask dotted, the IPv6 prefix length a number.
impl fmt::Display for Netmask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Netmask::V4(m) => write!(f, "{m}"),
            Netmask::V6(len) => write!(f, "{len}"),
        }
    }
}

/// A named scheduler flag (`IPVS_SVC_ATTR_FLAGS` bits 0x8 and 0x10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SchedFlag {
    /// `sh`: when the hashed server is unavailable (weight 0 or overloaded), hash again over
    /// the available ones instead of dropping the connection.
    ShFallback,
    /// `sh`: hash the client's port together with its address.
    ShPort,
    /// `mh`: as `sh-fallback`, for the Maglev scheduler.
    MhFallback,
    /// `mh`: as `sh-port`.
    MhPort,
}

impl SchedFlag {
    pub const ALL: [SchedFlag; 4] = [
        SchedFlag::ShFallback,
        SchedFlag::ShPort,
        SchedFlag::MhFallback,
        SchedFlag::MhPort,
    ];

    /// The name ipvsadm (`-b`) and keepalived use.
    pub fn name(self) -> &'static str {
        match self {
            SchedFlag::ShFallback => "sh-fallback",
            SchedFlag::ShPort => "sh-port",
            SchedFlag::MhFallback => "mh-fallback",
            SchedFlag::MhPort => "mh-port",
        }
    }

    /// The scheduler that reads this flag.
    pub fn scheduler(self) -> &'static str {
        match self {
            SchedFlag::ShFallback | SchedFlag::ShPort => "sh",
            SchedFlag::MhFallback | SchedFlag::MhPort => "mh",
        }
    }

    /// The `IP_VS_SVC_F_*` bit.
    pub fn bit(self) -> u32 {
        match self {
            SchedFlag::ShFallback => IP_VS_SVC_F_SCHED_SH_FALLBACK,
            SchedFlag::ShPort => IP_VS_SVC_F_SCHED_SH_PORT,
            SchedFlag::MhFallback => IP_VS_SVC_F_SCHED_MH_FALLBACK,
            SchedFlag::MhPort => IP_VS_SVC_F_SCHED_MH_PORT,
        }
    }

    /// The flags `scheduler` reads.
    pub fn for_scheduler(scheduler: &str) -> impl Iterator<Item = SchedFlag> + '_ {
        SchedFlag::ALL
            .into_iter()
            .filter(move |f| f.scheduler() == scheduler)
    }

    /// `name` as a flag of `scheduler`; the error says what that scheduler accepts (a flag of
    /// another scheduler would set a bit this one ignores, or reads differently).
    pub fn parse(name: &str, scheduler: &str) -> Result<SchedFlag, String> {
        let valid: Vec<SchedFlag> = SchedFlag::for_scheduler(scheduler).collect();
        if let Some(f) = valid.iter().find(|f| f.name() == name) {
            return Ok(*f);
        }
        let names: Vec<&str> = valid.iter().map(|f| f.name()).collect();
        Err(if names.is_empty() {
            format!("scheduler {scheduler:?} takes no flags (sh and mh do), not {name:?}")
        } else {
            format!(
                "a flag of scheduler {scheduler} ({}), not {name:?}",
                names.join(", ")
            )
        })
    }

    /// The named flags of `scheduler` set in `flags`, in bit order.
    pub fn of(flags: u32, scheduler: &str) -> Vec<SchedFlag> {
        SchedFlag::for_scheduler(scheduler)
            .filter(|f| flags & f.bit() != 0)
            .collect()
    }
}

impl fmt::Display for SchedFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::netlink::ip_vs::{IP_VS_SVC_F_PERSISTENT, IP_VS_SVC_F_SCHED3};

    #[test]
    fn netmask_defaults_checks_and_display() {
        assert_eq!(Netmask::full(Family::V4).to_string(), "255.255.255.255");
        assert_eq!(Netmask::full(Family::V6).to_string(), "128");
        assert_eq!(Netmask::V6(64).family(), Family::V6);
        assert!(Netmask::V4(Ipv4Addr::new(255, 255, 255, 0))
            .check(Family::V4)
            .is_ok());
        // Non-contiguous masks are the kernel's business: it only ANDs.
        assert!(Netmask::V4(Ipv4Addr::new(255, 0, 255, 0))
            .check(Family::V4)
            .is_ok());
        let e = Netmask::V6(64).check(Family::V4).unwrap_err();
        assert_eq!(
            e,
            "persistence netmask 64 is for IPv6 but the service is IPv4"
        );
        for bad in [0, 129, 255] {
            let e = Netmask::V6(bad).check(Family::V6).unwrap_err();
            assert!(e.contains("between 1 and 128"), "{e}");
        }
        assert!(Netmask::V6(1).check(Family::V6).is_ok());
    }

    #[test]
    fn sched_flags_are_named_per_scheduler() {
        assert_eq!(SchedFlag::parse("sh-port", "sh"), Ok(SchedFlag::ShPort));
        assert_eq!(
            SchedFlag::parse("mh-fallback", "mh"),
            Ok(SchedFlag::MhFallback)
        );
        assert_eq!(
            SchedFlag::parse("mh-port", "sh").unwrap_err(),
            "a flag of scheduler sh (sh-fallback, sh-port), not \"mh-port\""
        );
        assert_eq!(
            SchedFlag::parse("sh-port", "wlc").unwrap_err(),
            "scheduler \"wlc\" takes no flags (sh and mh do), not \"sh-port\""
        );
        assert!(SchedFlag::parse("flag-1", "sh").is_err(), "only names");
        // sh and mh share the bits.
        assert_eq!(SchedFlag::ShFallback.bit(), SchedFlag::MhFallback.bit());
        assert_eq!(SchedFlag::ShPort.bit(), 0x10);
        let flags = IP_VS_SVC_F_PERSISTENT | 0x8 | 0x10 | IP_VS_SVC_F_SCHED3;
        assert_eq!(
            SchedFlag::of(flags, "sh"),
            vec![SchedFlag::ShFallback, SchedFlag::ShPort]
        );
        assert_eq!(
            SchedFlag::of(flags, "mh"),
            vec![SchedFlag::MhFallback, SchedFlag::MhPort]
        );
        assert_eq!(SchedFlag::of(flags, "wlc"), vec![]);
        assert_eq!(SchedFlag::of(0x10, "sh"), vec![SchedFlag::ShPort]);
        for f in SchedFlag::ALL {
            assert_eq!(SchedFlag::parse(f.name(), f.scheduler()), Ok(f));
            assert_eq!(f.to_string(), f.name());
        }
    }
}
