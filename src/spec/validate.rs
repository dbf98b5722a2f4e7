//! From raw TOML values to the [`Spec`] model: every rule an operator can break is checked here,
//! and every problem is reported at once with its key, position and what was expected.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::checker::{abs_path_problem, argv_problem, Checker};
use super::model::*;
use super::raw::{RawOps, RawSpec};
use super::{check_options, duration, Problem};
use crate::ipvs::{Family, Forward, Protocol, ServiceKey};
use crate::text::{first_unprintable, quoted};

/// True when `name` can be used as a cluster name: it becomes part of Pacemaker ids (XML IDs),
/// of file names in the state directory, and of the OCF parameter.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Pacemaker 2.1.5 (Debian 12) writes an attribute value unescaped from the first non-ASCII
/// character on: `é &` is stored as `é &`, which corrupts the CIB file (and what peers receive).
/// A value is safe when it is ASCII or has none of the characters XML must escape in a
/// double-quoted attribute. Only the description can hold such text (names, nics and addresses
/// are ASCII by the other rules).
pub fn pacemaker_storable(value: &str) -> bool {
    value.is_ascii() || !value.contains(['&', '<', '>', '"'])
}

/// Linux interface names: 1..=15 bytes, no `/`, `:`, whitespace (see `dev_valid_name`).
fn is_valid_nic(nic: &str) -> bool {
    !nic.is_empty()
        && nic.len() <= 15
        && nic != "."
        && nic != ".."
        && nic
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '/' && c != ':')
}

pub fn validate(file: &Path, text: &str, raw: RawSpec) -> Result<Spec, Vec<Problem>> {
    let mut c = Checker {
        text,
        problems: Vec::new(),
    };
    let (name, description) = identity(&mut c, &raw);
    // VIPs first: a fwmark service takes its address family from them.
    let vips = vips(&mut c, &raw);
    let service = service(&mut c, &raw, &vips);
    let Scheduling {
        scheduler,
        forward,
        persistence_timeout,
    } = scheduling(&mut c, &raw);
    let check_options::ServiceOptions {
        persistence_netmask,
        scheduler_flags,
        one_packet,
    } = check_options::service_options(&mut c, &raw, service, &scheduler, persistence_timeout);
    let Checks {
        check_interval,
        check_timeout,
        ramp_up_time,
        fall,
        rise,
        backend_mode,
    } = checks(&mut c, &raw);
    let (nodes, seen_nodes) = nodes(&mut c, &raw, &name, service, forward);
    let sorry_server = sorry_server(&mut c, &raw, service, &seen_nodes);
    let override_dir = override_dir(&mut c, &raw);
    let on_change = on_change(&mut c, &raw);
    let (panic_threshold, removal_timeout) = operator_state(&mut c, &raw);
    let standby = standby(&mut c, &raw, &vips);
    let ops = ops(&mut c, raw.ops.unwrap_or_default());

    if c.problems.is_empty() {
        Ok(Spec {
            file: file.to_path_buf(),
            name,
            description,
            service,
            scheduler,
            forward,
            persistence_timeout,
            persistence_netmask,
            scheduler_flags,
            one_packet,
            check_interval,
            check_timeout,
            ramp_up_time,
            fall,
            rise,
            backend_mode,
            standby,
            sorry_server,
            override_dir,
            on_change,
            panic_threshold,
            removal_timeout,
            vips,
            nodes,
            ops,
        })
    } else {
        let mut problems = c.problems;
        // Report in file order; problems without a position (missing tables) go last.
        problems.sort_by_key(|p| (p.line.is_none(), p.line, p.column));
        Err(problems)
    }
}

/// `name` and `description`: both go into Pacemaker ids and attributes.
fn identity(c: &mut Checker<'_>, raw: &RawSpec) -> (String, Option<String>) {
    let name = raw.name.get_ref().clone();
    if !is_valid_name(&name) {
        c.at(
            &raw.name,
            "name",
            format!("a name usable in Pacemaker ids: a letter, then up to 63 letters, digits, '_', '-' or '.', not {}", quoted(&name, 80)),
        );
    }
    let description = raw.description.as_ref().map(|d| d.get_ref().clone());
    if let Some(d) = &raw.description {
        let text = d.get_ref();
        if let Some(ch) = first_unprintable(text) {
            c.at(
                d,
                "description",
                format!(
                    "a description of printable text (no control, format or bidirectional characters, none XML cannot hold), not {} with {}",
                    quoted(text, 80),
                    quoted(&ch.to_string(), 1)
                ),
            );
        } else if text.chars().count() > limits::MAX_DESCRIPTION_CHARS {
            c.at(
                d,
                "description",
                format!(
                    "at most {} characters, not {}",
                    limits::MAX_DESCRIPTION_CHARS,
                    text.chars().count()
                ),
            );
        } else if !pacemaker_storable(text) {
            c.at(
                d,
                "description",
                format!("text Pacemaker can store, not {}: Pacemaker 2.1 writes a value with a non-ASCII character unescaped, so together with & < > or \" it corrupts the CIB; drop the accents or those characters", quoted(text, 80)),
            );
        }
    }
    (name, description)
}

/// `[[vip]]` tables: addresses, prefix lengths and NICs, each VIP once, at most [`MAX_VIPS`].
fn vips(c: &mut Checker<'_>, raw: &RawSpec) -> Vec<Vip> {
    let mut vips = Vec::new();
    let mut seen_vips = BTreeSet::new();
    if raw.vip.len() > MAX_VIPS {
        c.nowhere(
            "vip",
            format!("at most {MAX_VIPS} VIPs per cluster, not {}", raw.vip.len()),
        );
    }
    // Past the cap, one problem says it all: the rest are not checked one by one.
    for (i, v) in raw.vip.iter().enumerate().take(MAX_VIPS) {
        let key = format!("vip[{i}]");
        let Some(address) = c.ip(&v.address, &format!("{key}.address")) else {
            continue;
        };
        if !seen_vips.insert(address) {
            c.at(
                &v.address,
                &format!("{key}.address"),
                format!("each VIP once, but {address} is listed twice"),
            );
        }
        let max_mask = if address.is_ipv4() { 32 } else { 128 };
        let cidr_netmask = match &v.cidr_netmask {
            Some(m) => c
                .int(
                    m,
                    &format!("{key}.cidr_netmask"),
                    1,
                    max_mask,
                    "a prefix length",
                )
                .and_then(|n| u8::try_from(n).ok())
                .unwrap_or(0),
            None => u8::try_from(max_mask).unwrap_or(32),
        };
        let nic = v.nic.as_ref().map(|n| n.get_ref().clone());
        if let (Some(n), Some(raw_nic)) = (&nic, &v.nic) {
            if !is_valid_nic(n) {
                c.at(
                    raw_nic,
                    &format!("{key}.nic"),
                    format!("a network interface name (1 to 15 characters, no '/', ':' or spaces), not {}", quoted(n, 80)),
                );
            }
        }
        vips.push(Vip {
            address,
            nic,
            cidr_netmask,
        });
    }
    // No VIPs is fine for a cluster with a service: its VIPs live elsewhere in Pacemaker (the
    // original big_brother's layout, which `import` reproduces) and its group holds only the
    // big_brother primitive. A spec with neither VIPs nor a service would describe nothing.
    let has_service_keys = raw.fwmark.is_some()
        || raw.protocol.is_some()
        || raw.address.is_some()
        || raw.port.is_some();
    if raw.vip.is_empty() && !has_service_keys {
        c.nowhere(
            "vip",
            "at least one [[vip]] table (address, nic, cidr_netmask), or a service (fwmark, or protocol/address/port) whose VIPs Pacemaker manages elsewhere",
        );
    }
    vips
}

/// The service: a firewall mark (its family from the VIPs), or protocol + address + port —
/// never both, and none only for a staged cluster.
fn service(c: &mut Checker<'_>, raw: &RawSpec, vips: &[Vip]) -> Option<ServiceKey> {
    // The service: a firewall mark, or protocol + address + port — never both.
    let addr_keys = raw.protocol.is_some() || raw.address.is_some() || raw.port.is_some();
    match (&raw.fwmark, addr_keys) {
        (Some(f), true) => {
            c.at(
                f,
                "fwmark",
                "either fwmark or protocol/address/port for the service, not both",
            );
            None
        }
        (Some(f), false) => {
            let mark = c
                .int(f, "fwmark", 1, i64::from(u32::MAX), "a firewall mark")
                .and_then(|n| u32::try_from(n).ok());
            let family = vips
                .first()
                .map_or(Family::V4, |v: &Vip| Family::of(&v.address));
            if vips.iter().any(|v| Family::of(&v.address) != family) {
                c.nowhere(
                    "vip",
                    "VIPs of one address family for a fwmark service (IPv4 and IPv6 marks are separate kernel services; use two clusters)",
                );
            }
            mark.map(|mark| ServiceKey::Fwmark { family, mark })
        }
        (None, true) => {
            let protocol = match &raw.protocol {
                None => Some(Protocol::Tcp),
                Some(p) => match p.get_ref().as_str() {
                    "tcp" => Some(Protocol::Tcp),
                    "udp" => Some(Protocol::Udp),
                    other => {
                        c.at(
                            p,
                            "protocol",
                            format!("\"tcp\" or \"udp\", not {}", quoted(other, 80)),
                        );
                        None
                    }
                },
            };
            let addr = match &raw.address {
                Some(a) => c.ip(a, "address"),
                None => {
                    c.nowhere("address", "the service address beside protocol/port");
                    None
                }
            };
            let port = match &raw.port {
                Some(p) => c.port(p, "port"),
                None => {
                    c.nowhere("port", "the service port beside protocol/address");
                    None
                }
            };
            match (protocol, addr, port) {
                (Some(protocol), Some(addr), Some(port)) => Some(ServiceKey::Addr {
                    protocol,
                    addr,
                    port,
                }),
                _ => None,
            }
        }
        // No service at all is a *staged* cluster (see `Spec::runnable`): enough for the CIB
        // group, which never mentions the service. Nodes and a sorry server need one, because
        // their ports only mean something against it.
        (None, false) if raw.node.is_empty() && raw.sorry_server.is_none() => None,
        (None, false) => {
            c.nowhere(
                "fwmark",
                "a service for the nodes: fwmark = N, or protocol/address/port",
            );
            None
        }
    }
}

/// How IPVS schedules and forwards: the service's options.
struct Scheduling {
    scheduler: String,
    forward: Forward,
    persistence_timeout: Option<Duration>,
}

fn scheduling(c: &mut Checker<'_>, raw: &RawSpec) -> Scheduling {
    let scheduler = match &raw.scheduler {
        None => defaults::SCHEDULER.to_string(),
        Some(s) => {
            if !SCHEDULERS.contains(&s.get_ref().as_str()) {
                c.at(
                    s,
                    "scheduler",
                    format!(
                        "a kernel scheduler ({}), not {}",
                        SCHEDULERS.join(" "),
                        quoted(s.get_ref(), 80)
                    ),
                );
            }
            s.get_ref().clone()
        }
    };
    let forward = match &raw.forward {
        None => Forward::Ipip,
        Some(f) => match f.get_ref().as_str() {
            "ipip" => Forward::Ipip,
            "dr" => Forward::Dr,
            "nat" => Forward::Nat,
            other => {
                c.at(
                    f,
                    "forward",
                    format!(
                        "a forwarding method (ipip, dr, nat), not {}",
                        quoted(other, 80)
                    ),
                );
                Forward::Ipip
            }
        },
    };
    let persistence_timeout = raw.persistence_timeout.as_ref().map(|_| {
        c.duration(
            &raw.persistence_timeout,
            "persistence_timeout",
            Duration::ZERO,
            limits::PERSISTENCE_TIMEOUT,
        )
    });
    if let (Some(d), Some(v)) = (persistence_timeout, &raw.persistence_timeout) {
        if d.subsec_nanos() != 0 {
            c.at(
                v,
                "persistence_timeout",
                "whole seconds (IPVS counts persistence in seconds)",
            );
        }
    }
    Scheduling {
        scheduler,
        forward,
        persistence_timeout,
    }
}

/// `standby`: `cold` (the talk's group, the default) or `warm` (a clone of the big_brother
/// primitive on every director and a group of the VIPs). A warm cluster needs a VIP: its group
/// holds only the VIPs, and Pacemaker refuses an empty group.
fn standby(c: &mut Checker<'_>, raw: &RawSpec, vips: &[Vip]) -> Standby {
    let Some(s) = &raw.standby else {
        return Standby::Cold;
    };
    let standby = match s.get_ref().as_str() {
        "cold" => Standby::Cold,
        "warm" => Standby::Warm,
        other => {
            c.at(
                s,
                "standby",
                format!("\"cold\" or \"warm\", not {}", quoted(other, 80)),
            );
            return Standby::Cold;
        }
    };
    if standby == Standby::Warm && vips.is_empty() {
        c.at(
            s,
            "standby",
            "at least one [[vip]] with standby = \"warm\" (the VIP group is what moves on a failover; Pacemaker refuses an empty group)",
        );
    }
    standby
}

/// How nodes are checked and weighted.
struct Checks {
    check_interval: Duration,
    check_timeout: Duration,
    ramp_up_time: Duration,
    fall: u32,
    rise: u32,
    backend_mode: BackendMode,
}

fn checks(c: &mut Checker<'_>, raw: &RawSpec) -> Checks {
    let check_interval = c.duration(
        &raw.check_interval,
        "check_interval",
        defaults::CHECK_INTERVAL,
        limits::CHECK_INTERVAL,
    );
    // Bounded above by the interval just below, with a message saying why.
    let check_timeout = c.duration(
        &raw.check_timeout,
        "check_timeout",
        check_interval,
        (limits::CHECK_TIMEOUT_MIN, limits::CHECK_INTERVAL.1),
    );
    if let Some(t) = &raw.check_timeout {
        if check_timeout > check_interval {
            c.at(
                t,
                "check_timeout",
                format!(
                    "at most check_interval ({}) so a round of checks finishes inside one interval",
                    duration::render(check_interval)
                ),
            );
        }
    }
    let ramp_up_time = c.duration(
        &raw.ramp_up_time,
        "ramp_up_time",
        defaults::RAMP_UP_TIME,
        limits::RAMP_UP_TIME,
    );
    let fall = raw
        .fall
        .as_ref()
        .and_then(|f| c.int(f, "fall", 1, 100, "a count of failed checks"))
        .map_or(defaults::FALL, |n| {
            u32::try_from(n).unwrap_or(defaults::FALL)
        });
    let rise = raw
        .rise
        .as_ref()
        .and_then(|r| c.int(r, "rise", 1, 100, "a count of good checks"))
        .map_or(defaults::RISE, |n| {
            u32::try_from(n).unwrap_or(defaults::RISE)
        });
    let backend_mode = match &raw.backend_mode {
        None => BackendMode::ActiveActive,
        Some(m) => match m.get_ref().as_str() {
            "active_active" => BackendMode::ActiveActive,
            "active_passive" => BackendMode::ActivePassive,
            other => {
                c.at(
                    m,
                    "backend_mode",
                    format!(
                        "\"active_active\" or \"active_passive\", not {}",
                        quoted(other, 80)
                    ),
                );
                BackendMode::ActiveActive
            }
        },
    };
    Checks {
        check_interval,
        check_timeout,
        ramp_up_time,
        fall,
        rise,
        backend_mode,
    }
}

/// `[[node]]` tables, each node once, at most [`MAX_NODES`]; also the (address, real port)
/// pairs seen, which the sorry server must not repeat.
fn nodes(
    c: &mut Checker<'_>,
    raw: &RawSpec,
    name: &str,
    service: Option<ServiceKey>,
    forward: Forward,
) -> (Vec<Node>, BTreeSet<(IpAddr, u16)>) {
    let service_family = service.map(|s| s.family());
    let default_real_port = match service {
        Some(ServiceKey::Addr { port, .. }) => port,
        _ => 0,
    };
    let is_fwmark = matches!(service, Some(ServiceKey::Fwmark { .. }));

    let mut nodes = Vec::new();
    let mut seen_nodes = BTreeSet::new();
    // Zero nodes is allowed here (a staged cluster); `Spec::runnable` refuses to run one.
    if raw.node.len() > MAX_NODES {
        c.nowhere(
            "node",
            format!(
                "at most {MAX_NODES} nodes per cluster, not {}",
                raw.node.len()
            ),
        );
    }
    for (i, n) in raw.node.iter().enumerate().take(MAX_NODES) {
        let key = format!("node[{i}]");
        let address = c.ip(&n.address, &format!("{key}.address"));
        let port = c.port(&n.port, &format!("{key}.port"));
        let path = match &n.path {
            Some(p) => {
                let s = p.get_ref();
                if let Some(problem) = url_path_problem(s) {
                    c.at(p, &format!("{key}.path"), problem);
                }
                s.clone()
            }
            None => format!("/{name}/status"),
        };
        let real_port = match &n.real_port {
            Some(p) if is_fwmark => {
                c.at(
                    p,
                    &format!("{key}.real_port"),
                    "no real_port for a fwmark service (real servers take the packet's own port)",
                );
                0
            }
            Some(p) => c.port(p, &format!("{key}.real_port")).unwrap_or(0),
            None => default_real_port,
        };
        let max_weight = n
            .max_weight
            .as_ref()
            .and_then(|w| {
                c.int(
                    w,
                    &format!("{key}.max_weight"),
                    0,
                    i64::from(MAX_WEIGHT),
                    "a weight",
                )
            })
            .map_or(defaults::MAX_WEIGHT, |w| u32::try_from(w).unwrap_or(0));
        let priority = n.priority.as_ref().map_or(0, |p| *p.get_ref());
        let (upper_threshold, lower_threshold) = check_options::thresholds(c, n, &key);
        let check = super::check_keys::check(c, raw, Some(n), &key);
        // litmus_paper serves `/<service>/status`; a plain web application's root is `/`.
        let path = match (&check.kind, &n.path) {
            (CheckKind::Http { .. }, None) => "/".to_string(),
            _ => path,
        };
        let Some(address) = address else { continue };
        if !seen_nodes.insert((address, real_port)) {
            c.at(
                &n.address,
                &format!("{key}.address"),
                format!("each node once, but {address} is listed twice"),
            );
        }
        if let Some(fam) = service_family {
            if Family::of(&address) != fam && forward != Forward::Ipip {
                c.at(
                    &n.address,
                    &format!("{key}.address"),
                    format!(
                        "an address of the service's family ({}) unless forward = \"ipip\" (the kernel only tunnels across families)",
                        if fam == Family::V4 { "IPv4" } else { "IPv6" }
                    ),
                );
            }
        }
        nodes.push(Node {
            address,
            port: port.unwrap_or(0),
            path,
            real_port,
            max_weight,
            priority,
            upper_threshold,
            lower_threshold,
            check,
        });
    }
    // Without nodes, the cluster's defaults alone, so a wrong combination there is still
    // reported (with nodes, each node's merged keys are checked and may complete the defaults).
    if raw.node.is_empty() {
        super::check_keys::check(c, raw, None, "");
    }
    dedup_problems(c);
    (nodes, seen_nodes)
}

/// A top-level check key is checked with every node: report each problem once.
fn dedup_problems(c: &mut Checker<'_>) {
    let mut seen = BTreeSet::new();
    c.problems
        .retain(|p| seen.insert((p.line, p.column, p.key.clone(), p.expected.clone())));
}

/// `[sorry_server]`: a real server that is not also a node.
fn sorry_server(
    c: &mut Checker<'_>,
    raw: &RawSpec,
    service: Option<ServiceKey>,
    seen_nodes: &BTreeSet<(IpAddr, u16)>,
) -> Option<SorryServer> {
    let default_real_port = match service {
        Some(ServiceKey::Addr { port, .. }) => port,
        _ => 0,
    };
    let is_fwmark = matches!(service, Some(ServiceKey::Fwmark { .. }));
    raw.sorry_server.as_ref().and_then(|s| {
        let address = c.ip(&s.address, "sorry_server.address");
        let port = match &s.port {
            Some(p) if is_fwmark => {
                c.at(p, "sorry_server.port", "no port for a fwmark service");
                0
            }
            Some(p) => c.port(p, "sorry_server.port").unwrap_or(0),
            None => default_real_port,
        };
        let weight = s
            .weight
            .as_ref()
            .and_then(|w| {
                c.int(
                    w,
                    "sorry_server.weight",
                    1,
                    i64::from(MAX_WEIGHT),
                    "a weight",
                )
            })
            .map_or(defaults::SORRY_WEIGHT, |w| u32::try_from(w).unwrap_or(1));
        if let Some(a) = address {
            if seen_nodes.contains(&(a, port)) {
                c.at(
                    &s.address,
                    "sorry_server.address",
                    "a sorry server that is not also a node",
                );
            }
        }
        address.map(|address| SorryServer {
            address,
            port,
            weight,
        })
    })
}

/// `override_dir`: where the original's `up/` and `down/` files live.
fn override_dir(c: &mut Checker<'_>, raw: &RawSpec) -> PathBuf {
    match &raw.override_dir {
        None => PathBuf::from(defaults::OVERRIDE_DIR),
        Some(d) => {
            let dir = d.get_ref();
            if let Some(problem) = abs_path_problem(dir) {
                c.at(
                    d,
                    "override_dir",
                    format!("an absolute directory path (it holds up/<cluster> and down/<cluster>){problem}"),
                );
            }
            PathBuf::from(dir)
        }
    }
}

/// `[ops.ipvs]` and `[ops.vip]`: the primitives' operation timeouts in the CIB.
fn ops(c: &mut Checker<'_>, ops_raw: RawOps) -> Ops {
    Ops {
        ipvs: c.opset(ops_raw.ipvs.as_ref(), "ops.ipvs", Ops::DEFAULT.ipvs),
        vip: c.opset(ops_raw.vip.as_ref(), "ops.vip", Ops::DEFAULT.vip),
    }
}

/// `panic_threshold` (a percentage, 0 = off) and `removal_timeout` (issue 15).
fn operator_state(c: &mut Checker<'_>, raw: &RawSpec) -> (u8, Duration) {
    let panic_threshold = raw
        .panic_threshold
        .as_ref()
        .and_then(|p| {
            c.int(
                p,
                "panic_threshold",
                0,
                100,
                "a percentage of healthy nodes (0 = off)",
            )
        })
        .map_or(defaults::PANIC_THRESHOLD, |n| {
            u8::try_from(n).unwrap_or(defaults::PANIC_THRESHOLD)
        });
    let removal_timeout = c.duration(
        &raw.removal_timeout,
        "removal_timeout",
        defaults::REMOVAL_TIMEOUT,
        limits::REMOVAL_TIMEOUT,
    );
    (panic_threshold, removal_timeout)
}

/// `on_change` and `on_change_timeout`: an argument array whose first element is an absolute
/// path (no shell and no `PATH` lookup, so what runs is exactly what the spec names).
fn on_change(c: &mut Checker<'_>, raw: &RawSpec) -> Option<OnChange> {
    let timeout = c.duration(
        &raw.on_change_timeout,
        "on_change_timeout",
        defaults::ON_CHANGE_TIMEOUT,
        limits::ON_CHANGE_TIMEOUT,
    );
    if let (Some(t), None) = (&raw.on_change_timeout, &raw.on_change) {
        c.at(
            t,
            "on_change_timeout",
            "on_change beside it (the command it limits)",
        );
    }
    let v = raw.on_change.as_ref()?;
    let argv = v.get_ref();
    let problem = argv_problem(
        argv,
        "/usr/local/bin/notify\", \"--team\", \"lb",
        "command",
        defaults::ON_CHANGE_MAX_ARGS,
    );
    if let Some(p) = problem {
        c.at(v, "on_change", p);
        return None;
    }
    Some(OnChange {
        argv: argv.clone(),
        timeout,
    })
}

/// What is wrong with `path` as a node's health-check path, if anything: it goes into the
/// HTTP request line, which is ASCII (RFC 9112): visible characters only, no `#` (a fragment
/// is never sent), percent-encode the rest.
pub fn url_path_problem(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        Some(format!(
            "a path starting with '/', not {}",
            quoted(path, 80)
        ))
    } else if path.len() > limits::MAX_URL_PATH_BYTES {
        Some(format!(
            "a URL path of at most {} bytes, not {}",
            limits::MAX_URL_PATH_BYTES,
            path.len()
        ))
    } else if !path.bytes().all(|b| b.is_ascii_graphic() && b != b'#') {
        Some(format!(
            "a URL path of visible ASCII without spaces, control characters or '#' (percent-encode others), not {}",
            quoted(path, 80)
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{parse, SpecError};

    const BASE: &str = "name = \"web\"\n";
    const TAIL: &str =
        "[[vip]]\naddress = \"192.0.2.7\"\n[[node]]\naddress = \"198.51.100.1\"\nport = 80\n";

    fn spec(top: &str) -> Result<Spec, Vec<Problem>> {
        let text = format!("{BASE}{top}\n{TAIL}");
        match parse(Path::new("t.toml"), &text) {
            Ok(s) => Ok(s),
            Err(SpecError::Invalid { problems, .. }) => Err(problems),
            Err(e) => panic!("unexpected {e}"),
        }
    }

    fn keys(r: Result<Spec, Vec<Problem>>) -> Vec<String> {
        r.err()
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.key)
            .collect()
    }

    #[test]
    fn standby_is_cold_by_default_warm_needs_a_vip() {
        assert_eq!(spec("fwmark = 7").unwrap().standby, Standby::Cold);
        assert_eq!(
            spec("fwmark = 7\nstandby = \"cold\"").unwrap().standby,
            Standby::Cold
        );
        assert_eq!(
            spec("fwmark = 7\nstandby = \"warm\"").unwrap().standby,
            Standby::Warm
        );
        let bad = spec("fwmark = 7\nstandby = \"hot\"").unwrap_err();
        assert_eq!(bad.len(), 1);
        assert_eq!(
            (bad[0].key.as_str(), bad[0].line, bad[0].column),
            ("standby", Some(3), Some(11))
        );
        assert!(bad[0]
            .expected
            .contains("\"cold\" or \"warm\", not \"hot\""));
        let text = "name = \"w\"\nstandby = \"warm\"\nfwmark = 7\n[[node]]\naddress = \"198.51.100.1\"\nport = 80\n";
        let Err(SpecError::Invalid { problems, .. }) = parse(Path::new("t.toml"), text) else {
            panic!("a warm spec without VIPs must be refused")
        };
        assert_eq!(problems[0].key, "standby");
        assert!(problems[0].expected.contains("at least one [[vip]]"));
    }

    #[test]
    fn defaults_are_the_talks() {
        let s = spec("fwmark = 7").unwrap();
        assert_eq!(s.scheduler, "wlc");
        assert_eq!(s.forward, Forward::Ipip);
        assert_eq!(s.check_interval, Duration::from_secs(2));
        assert_eq!(s.check_timeout, Duration::from_secs(2));
        assert_eq!(s.ramp_up_time, Duration::from_secs(120));
        assert_eq!((s.fall, s.rise), (1, 1));
        assert_eq!(s.ops, Ops::DEFAULT);
        assert_eq!(s.vips[0].cidr_netmask, 32);
        assert_eq!(s.nodes[0].path, "/web/status");
        assert_eq!(s.nodes[0].real_port, 0);
        assert_eq!(
            s.service.unwrap(),
            ServiceKey::Fwmark {
                family: Family::V4,
                mark: 7
            }
        );
    }

    #[test]
    fn address_service_gives_nodes_its_port() {
        let s = spec("protocol = \"tcp\"\naddress = \"192.0.2.7\"\nport = 443").unwrap();
        assert_eq!(s.nodes[0].real_port, 443);
        assert_eq!(s.nodes[0].id(), "198.51.100.1:443");
        let s = spec("address = \"2001:db8::7\"\nport = 443").unwrap();
        assert!(matches!(
            s.service.unwrap(),
            ServiceKey::Addr {
                protocol: Protocol::Tcp,
                ..
            }
        ));
    }

    #[test]
    fn service_rules() {
        assert_eq!(keys(spec("")), vec!["fwmark"]);
        assert_eq!(keys(spec("fwmark = 7\nport = 80")), vec!["fwmark"]);
        assert_eq!(keys(spec("address = \"192.0.2.7\"")), vec!["port"]);
        assert_eq!(
            keys(spec(
                "protocol = \"sctp\"\naddress = \"192.0.2.7\"\nport = 1"
            )),
            vec!["protocol"]
        );
        assert_eq!(keys(spec("fwmark = 4294967296")), vec!["fwmark"]);
    }

    #[test]
    fn cross_family_nodes_need_ipip() {
        let text = "name = \"w\"\nfwmark = 1\nforward = \"dr\"\n[[vip]]\naddress = \"2001:db8::1\"\n[[node]]\naddress = \"198.51.100.1\"\nport = 80\n";
        let Err(SpecError::Invalid { problems, .. }) = parse(Path::new("t"), text) else {
            panic!("dr across families must be rejected")
        };
        assert_eq!(problems[0].key, "node[0].address");
        let ok = text.replace("forward = \"dr\"\n", "");
        let s = parse(Path::new("t"), &ok).unwrap();
        assert_eq!(s.service.unwrap().family(), Family::V6);
        assert_eq!(s.vips[0].cidr_netmask, 128);
    }

    #[test]
    fn check_timeout_fits_the_interval() {
        assert_eq!(
            keys(spec(
                "fwmark = 1\ncheck_interval = \"1s\"\ncheck_timeout = \"1500ms\""
            )),
            vec!["check_timeout"]
        );
        let s = spec("fwmark = 1\ncheck_interval = \"2s\"\ncheck_timeout = \"500ms\"").unwrap();
        assert_eq!(s.check_timeout, Duration::from_millis(500));
    }

    #[test]
    fn ops_are_settable() {
        let s = spec("fwmark = 1\n[ops.ipvs]\nstart_timeout = \"45s\"\n[ops.vip]\nmonitor_interval = \"10s\"").unwrap();
        assert_eq!(s.ops.ipvs.start_timeout, Duration::from_secs(45));
        assert_eq!(s.ops.ipvs.stop_timeout, Duration::from_secs(40));
        assert_eq!(s.ops.vip.monitor_interval, Duration::from_secs(10));
        assert_eq!(
            keys(spec("fwmark = 1\n[ops.vip]\nstop_timeout = \"0s\"")),
            vec!["ops.vip.stop_timeout"]
        );
    }

    #[test]
    fn problems_carry_positions_in_file_order() {
        let Err(p) = spec("fwmark = 0\nscheduler = \"x\"") else {
            panic!()
        };
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].line, p[0].column), (Some(2), Some(10)));
        assert_eq!((p[1].key.as_str(), p[1].line), ("scheduler", Some(3)));
    }

    #[test]
    fn descriptions_pacemaker_would_corrupt_are_refused() {
        assert!(pacemaker_storable("Braintree Webapp"));
        assert!(pacemaker_storable("A & B <\"c\"> 'd'"));
        assert!(pacemaker_storable("Café Zürich 'x'"));
        assert!(!pacemaker_storable("Café & Bar"));
        assert!(!pacemaker_storable("\"Café\""));
        assert!(!pacemaker_storable("<é"));
        assert_eq!(
            keys(spec("description = \"Café & Bar\"\nfwmark = 1")),
            vec!["description"]
        );
    }

    #[test]
    fn names() {
        for good in ["webapp", "a", "web-app_1.v2"] {
            assert!(is_valid_name(good), "{good}");
        }
        for bad in [
            "",
            "1web",
            "web app",
            "web/app",
            "_x",
            "wé",
            &"a".repeat(65),
        ] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn sorry_server() {
        let s = spec("fwmark = 1\n[sorry_server]\naddress = \"203.0.113.9\"").unwrap();
        let sorry = s.sorry_server.unwrap();
        assert_eq!((sorry.port, sorry.weight), (0, 1));
        assert_eq!(
            keys(spec(
                "fwmark = 1\n[sorry_server]\naddress = \"203.0.113.9\"\nport = 80"
            )),
            vec!["sorry_server.port"]
        );
    }

    #[test]
    fn override_dir() {
        let s = spec("fwmark = 1").unwrap();
        assert_eq!(s.override_dir, Path::new("/etc/big_brother"));
        let s = spec("fwmark = 1\noverride_dir = \"/var/lib/bigbro\"").unwrap();
        assert_eq!(s.override_dir, Path::new("/var/lib/bigbro"));
        assert_eq!(
            keys(spec("fwmark = 1\noverride_dir = \"data\"")),
            vec!["override_dir"]
        );
    }

    #[test]
    fn on_change() {
        let s = spec("fwmark = 1").unwrap();
        assert_eq!(s.on_change, None);
        let s = spec("fwmark = 1\non_change = [\"/usr/local/bin/notify\", \"--team\", \"lb\"]")
            .unwrap();
        let hook = s.on_change.unwrap();
        assert_eq!(hook.argv, ["/usr/local/bin/notify", "--team", "lb"]);
        assert_eq!(hook.timeout, Duration::from_secs(10));
        let s =
            spec("fwmark = 1\non_change = [\"/bin/true\"]\non_change_timeout = \"2s\"").unwrap();
        assert_eq!(s.on_change.unwrap().timeout, Duration::from_secs(2));
        for (bad, key) in [
            ("on_change = []", "on_change"),
            ("on_change = [\"notify\"]", "on_change"),
            ("on_change = [\"/bin/x\", \"a\\u0000b\"]", "on_change"),
            ("on_change_timeout = \"2s\"", "on_change_timeout"),
            (
                "on_change = [\"/bin/x\"]\non_change_timeout = \"1h\"",
                "on_change_timeout",
            ),
        ] {
            assert_eq!(
                keys(spec(&format!("fwmark = 1\n{bad}"))),
                vec![key],
                "{bad}"
            );
        }
        let many = format!(
            "fwmark = 1\non_change = [\"/bin/x\"{}]",
            ", \"a\"".repeat(64)
        );
        assert_eq!(keys(spec(&many)), vec!["on_change"]);
        // A string instead of an array is a shape error from the parser, with its position.
        let text = format!("{BASE}fwmark = 1\non_change = \"/bin/x --y\"\n{TAIL}");
        let e = parse(Path::new("t.toml"), &text).unwrap_err().to_string();
        assert!(e.contains("t.toml:3"), "{e}");
    }

    /// Issue 15: `panic_threshold` is a percentage, off by default; `removal_timeout` is a
    /// bounded duration with a documented default. Errors carry FILE:LINE:COL.
    #[test]
    fn panic_threshold_and_removal_timeout() {
        let s = spec("fwmark = 1").unwrap();
        assert_eq!(s.panic_threshold, 0, "off by default");
        assert_eq!(s.removal_timeout, defaults::REMOVAL_TIMEOUT);
        let s = spec("fwmark = 1\npanic_threshold = 50\nremoval_timeout = \"30s\"").unwrap();
        assert_eq!(
            (s.panic_threshold, s.removal_timeout),
            (50, Duration::from_secs(30))
        );
        assert_eq!(
            spec("fwmark = 1\npanic_threshold = 100")
                .unwrap()
                .panic_threshold,
            100
        );
        for (line, key, expected) in [
            (
                "panic_threshold = 101",
                "panic_threshold",
                "panic_threshold: a percentage of healthy nodes (0 = off) from 0 to 100, not 101",
            ),
            (
                "panic_threshold = -1",
                "panic_threshold",
                "panic_threshold: a percentage of healthy nodes (0 = off) from 0 to 100, not -1",
            ),
            (
                "removal_timeout = \"25h\"",
                "removal_timeout",
                "removal_timeout: ",
            ),
            (
                "removal_timeout = 30",
                "removal_timeout",
                "removal_timeout: a duration string",
            ),
        ] {
            let got = messages(spec(&format!("fwmark = 1\n{line}")));
            assert_eq!(got.len(), 1, "{line}: {got:?}");
            assert!(got[0].starts_with(expected), "{line}: {got:?}");
            assert!(got[0].starts_with(key));
        }
        // A string is a shape error from the parser, with its position.
        let text = format!("{BASE}fwmark = 1\npanic_threshold = \"50%\"\n{TAIL}");
        let e = parse(Path::new("t.toml"), &text).unwrap_err().to_string();
        assert!(e.contains("t.toml:3"), "{e}");
        let text = format!("{BASE}fwmark = 1\npanic_threshold = 200\n{TAIL}");
        let e = parse(Path::new("t.toml"), &text).unwrap_err().to_string();
        assert!(e.contains("t.toml:3:19: panic_threshold: expected"), "{e}");
    }

    fn messages(r: Result<Spec, Vec<Problem>>) -> Vec<String> {
        r.err()
            .unwrap_or_default()
            .into_iter()
            .map(|p| format!("{}: {}", p.key, p.expected))
            .collect()
    }

    /// Issue 12, item 5: every duration has a documented range; absurd ones name the bound.
    #[test]
    fn every_duration_is_bounded() {
        for (line, key, bound) in [
            (
                "check_interval = \"18446744073709551615ms\"",
                "check_interval",
                "from 100ms to 5m",
            ),
            (
                "check_interval = \"2000m\"",
                "check_interval",
                "from 100ms to 5m",
            ),
            (
                "check_interval = \"99ms\"",
                "check_interval",
                "from 100ms to 5m",
            ),
            (
                "check_interval = \"99999999999999999999999s\"",
                "check_interval",
                "from 100ms to 5m",
            ),
            ("check_timeout = \"6m\"", "check_timeout", "from 1ms to 5m"),
            ("ramp_up_time = \"61m\"", "ramp_up_time", "from 1ms to 1h"),
            (
                "persistence_timeout = \"25h\"",
                "persistence_timeout",
                "from 1s to 24h",
            ),
            (
                "on_change = [\"/bin/x\"]\non_change_timeout = \"301s\"",
                "on_change_timeout",
                "from 1ms to 5m",
            ),
            (
                "[ops.ipvs]\nstart_timeout = \"2h\"",
                "ops.ipvs.start_timeout",
                "from 1ms to 1h",
            ),
            (
                "[ops.ipvs]\nstop_timeout = \"18446744073709551615ms\"",
                "ops.ipvs.stop_timeout",
                "from 1ms to 1h",
            ),
            (
                "[ops.vip]\nmonitor_interval = \"3601s\"",
                "ops.vip.monitor_interval",
                "from 1ms to 1h",
            ),
            (
                "[ops.vip]\nmonitor_timeout = \"1000h\"",
                "ops.vip.monitor_timeout",
                "from 1ms to 1h",
            ),
        ] {
            // Tables go after the top-level keys (and the ops tables after TAIL's tables).
            let text = if line.starts_with('[') {
                format!("{BASE}fwmark = 1\n{TAIL}{line}\n")
            } else {
                format!("{BASE}fwmark = 1\n{line}\n{TAIL}")
            };
            let Err(SpecError::Invalid { problems, .. }) = parse(Path::new("t"), &text) else {
                panic!("{line} must be refused")
            };
            assert_eq!(problems.len(), 1, "{line}: {problems:?}");
            assert_eq!(problems[0].key, key, "{line}");
            assert!(
                problems[0].expected.contains(bound),
                "{line}: {}",
                problems[0].expected
            );
        }
        // The bounds themselves are fine.
        let s = spec("fwmark = 1\ncheck_interval = \"5m\"\ncheck_timeout = \"100ms\"\nramp_up_time = \"1h\"\npersistence_timeout = \"24h\"").unwrap();
        assert_eq!(s.check_interval, Duration::from_secs(300));
        assert_eq!(s.persistence_timeout, Some(Duration::from_secs(86_400)));
        assert!(spec("fwmark = 1\ncheck_interval = \"100ms\"").is_ok());
    }

    /// Issue 12, item 4: nothing XML 1.0 cannot hold (nor a terminal should show raw) passes.
    #[test]
    fn descriptions_hold_only_printable_xml_text() {
        for bad in [
            "\\uFFFE",
            "\\uFFFF",
            "\\u0001",
            "\\u001B[2J",
            "\\u0007",
            "\\u000B",
            "\\u007F",
            "\\u0085",
            "\\u202E",
            "\\u2028",
            "\\u200B",
            "\\uFEFF",
            "a\\tb",
            "a\\nb",
        ] {
            let line = format!("description = \"x{bad}y\"\nfwmark = 1");
            let m = messages(spec(&line));
            assert_eq!(m.len(), 1, "{bad}: {m:?}");
            assert!(
                m[0].starts_with("description: a description of printable text"),
                "{m:?}"
            );
            assert!(
                !m[0].contains('\u{1b}') && !m[0].contains('\u{202e}'),
                "{m:?}"
            );
        }
        let long = format!("description = \"{}\"\nfwmark = 1", "é".repeat(1025));
        assert_eq!(
            messages(spec(&long)),
            vec!["description: at most 1024 characters, not 1025"]
        );
        assert!(spec(&format!(
            "description = \"{}\"\nfwmark = 1",
            "é".repeat(1024)
        ))
        .is_ok());
        assert!(
            spec("description = \"Café 中文 😀 \\uE000 \\uFFFD \\U0010FFFF\"\nfwmark = 1").is_ok()
        );
    }

    /// Issue 12, item 7: VIPs are capped like nodes, and past a cap nothing more is checked.
    #[test]
    fn vips_are_capped() {
        let mut t = String::from("name = \"w\"\nfwmark = 1\n");
        for i in 0..=MAX_VIPS {
            t.push_str(&format!(
                "[[vip]]\naddress = \"10.0.{}.{}\"\n",
                i / 256,
                i % 256
            ));
        }
        let Err(SpecError::Invalid { problems, .. }) = parse(Path::new("t"), &t) else {
            panic!("257 VIPs must be refused")
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].key, "vip");
        assert_eq!(
            problems[0].expected,
            "at most 256 VIPs per cluster, not 257"
        );
        let at_cap = t.rsplit_once("[[vip]]").unwrap().0;
        assert_eq!(parse(Path::new("t"), at_cap).unwrap().vips.len(), MAX_VIPS);
        // 100,000 duplicate VIPs: one problem, not 100,000.
        let dup = format!(
            "name = \"w\"\nfwmark = 1\n{}",
            "[[vip]]\naddress = \"192.0.2.1\"\n".repeat(100_000)
        );
        let Err(SpecError::Invalid { problems, .. }) = parse(Path::new("t"), &dup) else {
            panic!()
        };
        assert!(problems.len() <= MAX_VIPS + 1, "{}", problems.len());
    }

    /// Issue 12, item 6: strings that reach the health request line, a path or an argv.
    #[test]
    fn strings_for_requests_paths_and_argv_are_checked() {
        for (bad, key) in [
            (
                "[[node]]\naddress = \"198.51.100.2\"\nport = 80\npath = \"/caf\\u00e9\"",
                "node[1].path",
            ),
            (
                "[[node]]\naddress = \"198.51.100.2\"\nport = 80\npath = \"/a\\rb\"",
                "node[1].path",
            ),
            (
                "[[node]]\naddress = \"198.51.100.2\"\nport = 80\npath = \"/a b\"",
                "node[1].path",
            ),
        ] {
            let text = format!("{BASE}fwmark = 1\n{TAIL}{bad}\n");
            let Err(SpecError::Invalid { problems, .. }) = parse(Path::new("t"), &text) else {
                panic!("{bad} must be refused")
            };
            assert_eq!(problems[0].key, key, "{bad}");
        }
        let long_path = format!("{BASE}fwmark = 1\n{TAIL}path = \"/{}\"\n", "a".repeat(1024));
        assert!(parse(Path::new("t"), &long_path).is_err());
        assert!(parse(Path::new("t"), &long_path.replacen("aa", "", 1)).is_ok());
        for (bad, key) in [
            ("override_dir = \"/srv/\\u001b[2J\"", "override_dir"),
            ("override_dir = \"/srv/\\u202e\"", "override_dir"),
            ("on_change = [\"/usr/bin/\\u0007x\"]", "on_change"),
            ("on_change = [\"/usr/bin/x\\n\"]", "on_change"),
        ] {
            assert_eq!(
                keys(spec(&format!("fwmark = 1\n{bad}"))),
                vec![key],
                "{bad}"
            );
        }
        let long_dir = format!("fwmark = 1\noverride_dir = \"/{}\"", "d".repeat(4096));
        assert_eq!(keys(spec(&long_dir)), vec!["override_dir"]);
        let big_arg = format!(
            "fwmark = 1\non_change = [\"/bin/x\", \"{}\"]",
            "a".repeat(4097)
        );
        let m = messages(spec(&big_arg));
        assert_eq!(
            m,
            vec!["on_change: arguments of at most 4096 bytes each, not 4097"]
        );
        // Newlines and quotes inside arguments are data: the command gets them verbatim.
        let ok =
            spec("fwmark = 1\non_change = [\"/bin/sh\", \"-c\", \"echo \\\"$1\\\"\\n\", \"x\"]")
                .unwrap();
        assert_eq!(ok.on_change.unwrap().argv[2], "echo \"$1\"\n");
    }

    /// Deep nesting is refused by the TOML parser's recursion limit, at once, with a position.
    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("{BASE}x = {}{}\n", "[".repeat(200_000), "]".repeat(200_000));
        let Err(SpecError::Parse { line, .. }) = parse(Path::new("t"), &text) else {
            panic!("deep nesting must be a parse error")
        };
        assert_eq!(line, Some(2));
    }

    #[test]
    fn vips_may_be_left_to_pacemaker_only_with_a_service() {
        let s = parse(
            Path::new("t"),
            "name = \"w\"\nfwmark = 1\n[[node]]\naddress = \"198.51.100.1\"\nport = 80\n",
        )
        .unwrap();
        assert!(s.vips.is_empty());
        assert!(s.runnable().is_ok());
        let Err(SpecError::Invalid { problems, .. }) = parse(Path::new("t"), "name = \"w\"\n")
        else {
            panic!("a spec with neither VIPs nor a service describes nothing")
        };
        assert_eq!(problems[0].key, "vip");
    }

    #[test]
    fn unknown_keys_name_their_table() {
        let text = format!("{BASE}fwmark = 1\n{TAIL}nic = \"eth0\"\n");
        let e = parse(Path::new("t.toml"), &text).unwrap_err().to_string();
        assert!(
            e.contains("t.toml:") && e.contains("node[0]") && e.contains("nic"),
            "{e}"
        );
    }
}
