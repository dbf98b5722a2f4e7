//! JSON shapes of IPVS objects for the files the agent and the supervisor share (`status.json`,
//! `dryrun-ipvs.json`). The `ipvs` model stays free of serde; these mirrors convert both ways and
//! spell things as `ipvsadm` operators know them (`fwmark`, `tcp`, `ipip`).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::ipvs::{Dest, Family, Forward, Netmask, Protocol, Service, ServiceKey};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum KeyRepr {
    Fwmark { mark: u32, ipv6: bool },
    Tcp { address: IpAddr, port: u16 },
    Udp { address: IpAddr, port: u16 },
}

impl From<&ServiceKey> for KeyRepr {
    fn from(k: &ServiceKey) -> Self {
        match *k {
            ServiceKey::Fwmark { family, mark } => KeyRepr::Fwmark {
                mark,
                ipv6: family == Family::V6,
            },
            ServiceKey::Addr {
                protocol: Protocol::Tcp,
                addr,
                port,
            } => KeyRepr::Tcp {
                address: addr,
                port,
            },
            ServiceKey::Addr {
                protocol: Protocol::Udp,
                addr,
                port,
            } => KeyRepr::Udp {
                address: addr,
                port,
            },
        }
    }
}

impl From<KeyRepr> for ServiceKey {
    fn from(k: KeyRepr) -> Self {
        match k {
            KeyRepr::Fwmark { mark, ipv6 } => ServiceKey::Fwmark {
                family: if ipv6 { Family::V6 } else { Family::V4 },
                mark,
            },
            KeyRepr::Tcp { address, port } => ServiceKey::Addr {
                protocol: Protocol::Tcp,
                addr: address,
                port,
            },
            KeyRepr::Udp { address, port } => ServiceKey::Addr {
                protocol: Protocol::Udp,
                addr: address,
                port,
            },
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ForwardRepr {
    Nat,
    Ipip,
    Dr,
}

impl From<Forward> for ForwardRepr {
    fn from(f: Forward) -> Self {
        match f {
            Forward::Nat => ForwardRepr::Nat,
            Forward::Ipip => ForwardRepr::Ipip,
            Forward::Dr => ForwardRepr::Dr,
        }
    }
}

impl From<ForwardRepr> for Forward {
    fn from(f: ForwardRepr) -> Self {
        match f {
            ForwardRepr::Nat => Forward::Nat,
            ForwardRepr::Ipip => Forward::Ipip,
            ForwardRepr::Dr => Forward::Dr,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRepr {
    pub key: KeyRepr,
    pub scheduler: String,
    #[serde(default)]
    pub flags: u32,
    #[serde(default)]
    pub timeout: u32,
    /// Persistence granularity as ipvsadm `-M` prints it (`"255.255.255.0"`, or `"64"` for an
    /// IPv6 prefix); absent when it is the full mask (one template per client).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistence_netmask: Option<String>,
    /// The scheduler flags set in `flags`, by name (`sh-fallback`, …); absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scheduler_flags: Vec<String>,
    /// One-packet scheduling (`flags` & 0x4), spelled out for readers of status.json.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub one_packet: bool,
}

/// `IP_VS_SVC_F_ONEPACKET` (`linux/ip_vs.h`).
const SVC_F_ONEPACKET: u32 = 0x0004;

impl From<&Service> for ServiceRepr {
    fn from(s: &Service) -> Self {
        ServiceRepr {
            key: (&s.key).into(),
            scheduler: s.scheduler.clone(),
            flags: s.flags,
            timeout: s.timeout,
            persistence_netmask: (s.netmask != Netmask::full(s.key.family()))
                .then(|| s.netmask.to_string()),
            scheduler_flags: s
                .sched_flags()
                .into_iter()
                .map(|f| f.name().to_string())
                .collect(),
            one_packet: s.flags & SVC_F_ONEPACKET != 0,
        }
    }
}

impl From<&ServiceRepr> for Service {
    fn from(s: &ServiceRepr) -> Self {
        let key: ServiceKey = s.key.into();
        // A mask that does not parse (a hand-edited file) reads as the full one: the
        // representation is only ever shown or compared, never programmed from.
        let netmask = s
            .persistence_netmask
            .as_deref()
            .and_then(|m| parse_netmask(m, key.family()))
            .unwrap_or_else(|| Netmask::full(key.family()));
        Service {
            key,
            scheduler: s.scheduler.clone(),
            flags: s.flags,
            timeout: s.timeout,
            netmask,
        }
    }
}

/// The inverse of `Netmask`'s display for `family`.
fn parse_netmask(s: &str, family: Family) -> Option<Netmask> {
    let m = match family {
        Family::V4 => Netmask::V4(s.parse().ok()?),
        Family::V6 => Netmask::V6(s.parse().ok()?),
    };
    m.check(family).ok().map(|()| m)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestRepr {
    pub address: IpAddr,
    pub port: u16,
    pub forward: ForwardRepr,
    pub weight: u32,
    #[serde(default)]
    pub upper_threshold: u32,
    #[serde(default)]
    pub lower_threshold: u32,
}

impl DestRepr {
    /// The destination named as operators name a node ([`crate::spec::Node::id`]): the
    /// address, plus the port when it matters.
    pub fn id(&self) -> String {
        match (self.address, self.port) {
            (a, 0) => a.to_string(),
            (IpAddr::V6(a), p) => format!("[{a}]:{p}"),
            (a, p) => format!("{a}:{p}"),
        }
    }
}

impl From<&Dest> for DestRepr {
    fn from(d: &Dest) -> Self {
        DestRepr {
            address: d.addr,
            port: d.port,
            forward: d.forward.into(),
            weight: d.weight,
            upper_threshold: d.upper_threshold,
            lower_threshold: d.lower_threshold,
        }
    }
}

impl From<&DestRepr> for Dest {
    fn from(d: &DestRepr) -> Self {
        Dest {
            addr: d.address,
            port: d.port,
            forward: d.forward.into(),
            weight: d.weight,
            upper_threshold: d.upper_threshold,
            lower_threshold: d.lower_threshold,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_json() {
        let keys = [
            ServiceKey::Fwmark {
                family: Family::V4,
                mark: 7,
            },
            ServiceKey::Fwmark {
                family: Family::V6,
                mark: 8,
            },
            ServiceKey::Addr {
                protocol: Protocol::Tcp,
                addr: "192.0.2.7".parse().unwrap(),
                port: 443,
            },
            ServiceKey::Addr {
                protocol: Protocol::Udp,
                addr: "2001:db8::7".parse().unwrap(),
                port: 53,
            },
        ];
        for k in keys {
            let json = serde_json::to_string(&KeyRepr::from(&k)).unwrap();
            let back: KeyRepr = serde_json::from_str(&json).unwrap();
            assert_eq!(ServiceKey::from(back), k, "{json}");
        }
        assert_eq!(
            serde_json::to_string(&KeyRepr::from(&keys[0])).unwrap(),
            r#"{"kind":"fwmark","mark":7,"ipv6":false}"#
        );
    }

    #[test]
    fn dests_round_trip() {
        let d = Dest::new("198.51.100.1".parse().unwrap(), 0, Forward::Ipip, 87);
        let json = serde_json::to_string(&DestRepr::from(&d)).unwrap();
        let back: DestRepr = serde_json::from_str(&json).unwrap();
        assert_eq!(Dest::from(&back), d);
    }
}
