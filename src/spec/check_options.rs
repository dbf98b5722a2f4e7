//! The IPVS service and real-server options beyond scheduler and persistence timeout (issue 17):
//! `persistence_netmask`, `scheduler_flags`, `one_packet` per cluster, `upper_threshold` and
//! `lower_threshold` per node. Each is checked against what the kernel would do with it, so a
//! value the kernel would ignore (a flag of another scheduler, a netmask without persistence) is
//! refused here instead of silently doing nothing.

use std::net::Ipv4Addr;
use std::time::Duration;

use super::checker::Checker;
use super::model::limits;
use super::raw::{RawNode, RawSpec};
use crate::ipvs::{Netmask, Protocol, SchedFlag, ServiceKey};
use crate::text::quoted;

/// The cluster's service options.
pub struct ServiceOptions {
    pub persistence_netmask: Option<Netmask>,
    pub scheduler_flags: Vec<SchedFlag>,
    pub one_packet: bool,
}

pub fn service_options(
    c: &mut Checker<'_>,
    raw: &RawSpec,
    service: Option<ServiceKey>,
    scheduler: &str,
    persistence_timeout: Option<Duration>,
) -> ServiceOptions {
    ServiceOptions {
        persistence_netmask: netmask(c, raw, service, persistence_timeout),
        scheduler_flags: sched_flags(c, raw, scheduler),
        one_packet: one_packet(c, raw, service),
    }
}

/// `persistence_netmask`: a dotted IPv4 netmask (`"255.255.255.0"`) for an IPv4 service, a
/// prefix length (`64`) for an IPv6 one, as ipvsadm's `-M`. The kernel only reads it for a
/// persistent service, so it needs `persistence_timeout`.
fn netmask(
    c: &mut Checker<'_>,
    raw: &RawSpec,
    service: Option<ServiceKey>,
    persistence_timeout: Option<Duration>,
) -> Option<Netmask> {
    let v = raw.persistence_netmask.as_ref()?;
    const KEY: &str = "persistence_netmask";
    let mask = match v.get_ref() {
        toml::Value::String(s) => match s.parse::<Ipv4Addr>() {
            Ok(m) => Some(Netmask::V4(m)),
            Err(_) => {
                c.at(v, KEY, format!("an IPv4 netmask such as \"255.255.255.0\" (or, for an IPv6 service, a prefix length such as 64), not {}", quoted(s, 80)));
                None
            }
        },
        toml::Value::Integer(n) => match u8::try_from(*n) {
            Ok(len) if (1..=128).contains(&len) => Some(Netmask::V6(len)),
            _ => {
                c.at(
                    v,
                    KEY,
                    format!("an IPv6 prefix length from 1 to 128, not {n}"),
                );
                None
            }
        },
        _ => {
            c.at(v, KEY, "an IPv4 netmask string such as \"255.255.255.0\" or an IPv6 prefix length such as 64");
            None
        }
    };
    let mask = mask?;
    if let Some(key) = service {
        let family = key.family();
        if let Err(why) = mask.check(family) {
            let hint = match family {
                crate::ipvs::Family::V4 => "a dotted IPv4 netmask such as \"255.255.255.0\"",
                crate::ipvs::Family::V6 => "an IPv6 prefix length such as 64",
            };
            c.at(v, KEY, format!("{hint}: {why}"));
            return None;
        }
    }
    if persistence_timeout.is_none() {
        c.at(
            v,
            KEY,
            "persistence_timeout beside it (the kernel only groups clients by netmask for a persistent service)",
        );
        return None;
    }
    Some(mask)
}

/// `scheduler_flags`: names the chosen scheduler reads, each once.
fn sched_flags(c: &mut Checker<'_>, raw: &RawSpec, scheduler: &str) -> Vec<SchedFlag> {
    let Some(v) = &raw.scheduler_flags else {
        return Vec::new();
    };
    let mut flags = Vec::new();
    for name in v.get_ref() {
        match SchedFlag::parse(name, scheduler) {
            Ok(f) if flags.contains(&f) => {
                c.at(
                    v,
                    "scheduler_flags",
                    format!("each flag once, but {} is listed twice", quoted(name, 40)),
                );
            }
            Ok(f) => flags.push(f),
            Err(_) => {
                let valid: Vec<&str> = SchedFlag::for_scheduler(scheduler)
                    .map(SchedFlag::name)
                    .collect();
                let expected = if valid.is_empty() {
                    format!(
                        "no flags for scheduler {} (only sh and mh read flags), not {}",
                        quoted(scheduler, 20),
                        quoted(name, 40)
                    )
                } else {
                    format!(
                        "flags of scheduler {scheduler} ({}), not {}",
                        valid.join(", "),
                        quoted(name, 40)
                    )
                };
                c.at(v, "scheduler_flags", expected);
            }
        }
    }
    flags.sort();
    flags
}

/// `one_packet`: the kernel applies it to UDP only (a TCP connection is never one packet), so a
/// TCP service refuses it; a fwmark service may carry UDP and takes it.
fn one_packet(c: &mut Checker<'_>, raw: &RawSpec, service: Option<ServiceKey>) -> bool {
    let Some(v) = &raw.one_packet else {
        return false;
    };
    let on = *v.get_ref();
    if on {
        if let Some(ServiceKey::Addr {
            protocol: Protocol::Tcp,
            ..
        }) = service
        {
            c.at(
                v,
                "one_packet",
                "protocol = \"udp\" or a fwmark service (the kernel schedules only UDP datagrams one by one)",
            );
            return false;
        }
    }
    on
}

/// A node's `upper_threshold` and `lower_threshold` (0 when absent). The lower one only means
/// something under an upper one, and never above it.
pub fn thresholds(c: &mut Checker<'_>, n: &RawNode, key: &str) -> (u32, u32) {
    let upper = n.upper_threshold.as_ref().and_then(|u| {
        c.int(
            u,
            &format!("{key}.upper_threshold"),
            0,
            limits::MAX_THRESHOLD,
            "a connection count (0: no limit)",
        )
    });
    let lower = n.lower_threshold.as_ref().and_then(|l| {
        c.int(
            l,
            &format!("{key}.lower_threshold"),
            0,
            limits::MAX_THRESHOLD,
            "a connection count",
        )
    });
    let upper = upper.and_then(|u| u32::try_from(u).ok()).unwrap_or(0);
    let mut lower = lower.and_then(|l| u32::try_from(l).ok()).unwrap_or(0);
    if let Some(l) = &n.lower_threshold {
        if lower > 0 && upper == 0 {
            c.at(
                l,
                &format!("{key}.lower_threshold"),
                "upper_threshold beside it (a node is only ever overloaded past its upper threshold)",
            );
            lower = 0;
        } else if lower > upper {
            c.at(
                l,
                &format!("{key}.lower_threshold"),
                format!("at most upper_threshold ({upper}), not {lower}"),
            );
            lower = 0;
        }
    }
    (upper, lower)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::ipvs::{Netmask, SchedFlag};
    use crate::spec::{parse, Problem, Spec, SpecError};

    fn spec(top: &str, node: &str) -> Result<Spec, Vec<Problem>> {
        let text = format!(
            "name = \"web\"\n{top}\n[[vip]]\naddress = \"192.0.2.7\"\n\
             [[node]]\naddress = \"198.51.100.1\"\nport = 80\n{node}\n"
        );
        match parse(Path::new("t.toml"), &text) {
            Ok(s) => Ok(s),
            Err(SpecError::Invalid { problems, .. }) => Err(problems),
            Err(e) => panic!("unexpected {e}"),
        }
    }

    /// `(line, column, key, expected)` of the only problem.
    fn one(r: Result<Spec, Vec<Problem>>) -> (usize, usize, String, String) {
        let p = r.expect_err("refused");
        assert_eq!(p.len(), 1, "{p:?}");
        let p = &p[0];
        (
            p.line.unwrap_or(0),
            p.column.unwrap_or(0),
            p.key.clone(),
            p.expected.clone(),
        )
    }

    #[test]
    fn service_options_are_read() {
        let s = spec(
            "fwmark = 7\nscheduler = \"sh\"\npersistence_timeout = \"300s\"\n\
             persistence_netmask = \"255.255.255.0\"\nscheduler_flags = [\"sh-port\", \"sh-fallback\"]\n\
             one_packet = true",
            "upper_threshold = 100\nlower_threshold = 50",
        )
        .unwrap();
        assert_eq!(
            s.persistence_netmask,
            Some(Netmask::V4([255, 255, 255, 0].into()))
        );
        assert_eq!(
            s.scheduler_flags,
            vec![SchedFlag::ShFallback, SchedFlag::ShPort]
        );
        assert!(s.one_packet);
        assert_eq!(
            (s.nodes[0].upper_threshold, s.nodes[0].lower_threshold),
            (100, 50)
        );
        let s = spec(
            "address = \"2001:db8::7\"\nport = 443\npersistence_timeout = \"1m\"\npersistence_netmask = 64",
            "",
        )
        .unwrap();
        assert_eq!(s.persistence_netmask, Some(Netmask::V6(64)));
        let s = spec("fwmark = 7", "").unwrap();
        assert_eq!(
            (
                s.persistence_netmask,
                s.scheduler_flags.len(),
                s.one_packet,
                s.nodes[0].upper_threshold,
                s.nodes[0].lower_threshold
            ),
            (None, 0, false, 0, 0)
        );
    }

    #[test]
    fn wrong_values_say_where_and_what_was_expected() {
        let (l, c, k, e) = one(spec(
            "fwmark = 7\npersistence_timeout = \"5m\"\npersistence_netmask = \"255.255.0.255.1\"",
            "",
        ));
        assert_eq!((l, c, k.as_str()), (4, 23, "persistence_netmask"));
        assert!(e.contains("an IPv4 netmask such as"), "{e}");
        let (_, _, k, e) = one(spec(
            "fwmark = 7\npersistence_netmask = \"255.255.255.0\"",
            "",
        ));
        assert_eq!(k, "persistence_netmask");
        assert!(e.contains("persistence_timeout beside it"), "{e}");
        let (_, _, k, e) = one(spec(
            "address = \"192.0.2.7\"\nport = 80\npersistence_timeout = \"5m\"\npersistence_netmask = 64",
            "",
        ));
        assert_eq!(k, "persistence_netmask");
        assert!(e.contains("dotted IPv4 netmask"), "{e}");
        let (_, _, _, e) = one(spec(
            "fwmark = 7\npersistence_timeout = \"5m\"\npersistence_netmask = 129",
            "",
        ));
        assert!(e.contains("from 1 to 128, not 129"), "{e}");
        let (l, c, k, e) = one(spec(
            "fwmark = 7\nscheduler = \"wlc\"\nscheduler_flags = [\"sh-port\"]",
            "",
        ));
        assert_eq!((l, c, k.as_str()), (4, 19, "scheduler_flags"));
        assert!(e.contains("no flags for scheduler \"wlc\""), "{e}");
        let (_, _, _, e) = one(spec(
            "fwmark = 7\nscheduler = \"mh\"\nscheduler_flags = [\"sh-port\"]",
            "",
        ));
        assert!(
            e.contains("flags of scheduler mh (mh-fallback, mh-port), not \"sh-port\""),
            "{e}"
        );
        let (_, _, _, e) = one(spec(
            "fwmark = 7\nscheduler = \"sh\"\nscheduler_flags = [\"sh-port\", \"sh-port\"]",
            "",
        ));
        assert!(e.contains("listed twice"), "{e}");
        let (_, _, k, e) = one(spec(
            "protocol = \"tcp\"\naddress = \"192.0.2.7\"\nport = 80\none_packet = true",
            "",
        ));
        assert_eq!(k, "one_packet");
        assert!(e.contains("protocol = \"udp\""), "{e}");
        assert!(
            spec(
                "protocol = \"udp\"\naddress = \"192.0.2.7\"\nport = 53\none_packet = true",
                ""
            )
            .unwrap()
            .one_packet
        );
        let (_, _, k, e) = one(spec("fwmark = 7", "upper_threshold = -1"));
        assert_eq!(k, "node[0].upper_threshold");
        assert!(e.contains("a connection count"), "{e}");
        let (_, _, k, e) = one(spec("fwmark = 7", "upper_threshold = 1000001"));
        assert_eq!(k, "node[0].upper_threshold");
        assert!(e.contains("a connection count"), "{e}");
        let (_, _, k, e) = one(spec("fwmark = 7", "lower_threshold = 5"));
        assert_eq!(k, "node[0].lower_threshold");
        assert!(e.contains("upper_threshold beside it"), "{e}");
        let (_, _, _, e) = one(spec(
            "fwmark = 7",
            "upper_threshold = 5\nlower_threshold = 6",
        ));
        assert!(e.contains("at most upper_threshold (5), not 6"), "{e}");
    }
}
