//! What each legacy key becomes: the `_big_brother:` defaults and a cluster's own keys read into
//! [`Settings`], merged as the original merged them, then turned into a [`Plan`] (the values
//! to render) plus the keys that have no equivalent and the changes an operator must know.
//! The original's behaviour behind each decision is cited from its `cluster.rb`/`node.rb`.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use super::check::{Check, Pos};
use super::yaml::{Node, Value};
use super::{Dropped, Form, RawCluster, DOWNPAGE_ADDRESS};
use crate::spec::model::{limits, BackendMode, MAX_NODES, SCHEDULERS};
use crate::spec::validate::url_path_problem;
use crate::text::{first_unprintable, quoted};

/// The original's defaults for keys a cluster leaves out (`cluster.rb`).
const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(1);
const DEFAULT_RAMP_UP_TIME: Duration = Duration::from_secs(60);
const DEFAULT_OFFSET: i64 = 10_000;
/// The original's ticker ran every 100 ms; `check_interval: 0` meant "check on every tick".
const TICK: Duration = Duration::from_millis(100);

/// Keys the 0.9.12 schema allows under `_big_brother:`.
pub const DEFAULT_KEYS: &[&str] = &[
    "offset",
    "check_interval",
    "max_down_ticks",
    "backend_mode",
    "scheduler",
    "ramp_up_time",
    "has_downpage",
    "nagios",
];
/// Keys the 0.9.12 schema allows in a cluster.
pub const CLUSTER_KEYS: &[&str] = &[
    "cluster_name",
    "fwmark",
    "scheduler",
    "check_interval",
    "ramp_up_time",
    "max_down_ticks",
    "backend_mode",
    "has_downpage",
    "non_egress_locations",
    "nagios",
    "nodes",
];
const NODE_KEYS: &[&str] = &[
    "address",
    "port",
    "path",
    "max_weight",
    "priority",
    "interpol",
];
const NAGIOS_KEYS: &[&str] = &["server", "check", "host"];
/// send_nsca's limits (NSCA's `MAX_HOSTNAME_LENGTH` and `MAX_DESCRIPTION_LENGTH`): longer
/// names are cut short in the packet and then match no Nagios object.
const NSCA_MAX_HOST_BYTES: usize = 64;
const NSCA_MAX_CHECK_BYTES: usize = 128;
/// A DNS name's longest spelling.
const MAX_SERVER_BYTES: usize = 253;

/// Keys a cluster may also take from `_big_brother:`.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    check_interval: Option<(Duration, Pos)>,
    ramp_up_time: Option<(Duration, Pos)>,
    max_down_ticks: Option<i64>,
    backend_mode: Option<BackendMode>,
    scheduler: Option<String>,
    has_downpage: Option<bool>,
    nagios: Option<Nagios>,
    pub offset: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Nagios {
    server: Option<String>,
    check: Option<String>,
    host: Option<String>,
}

impl Settings {
    pub fn read(c: &mut Check, m: &Node) -> Settings {
        let backend_mode = c
            .string(m, "backend_mode")
            .and_then(|(s, n)| match s.as_str() {
                "active_active" => Some(BackendMode::ActiveActive),
                "active_passive" => Some(BackendMode::ActivePassive),
                _ => {
                    c.at_node(
                        n,
                        "backend_mode",
                        format!("active_active or active_passive, not {}", quoted(&s, 80)),
                    );
                    None
                }
            });
        let scheduler = c.string(m, "scheduler").and_then(|(s, n)| {
            if SCHEDULERS.contains(&s.as_str()) {
                Some(s)
            } else {
                c.at_node(
                    n,
                    "scheduler",
                    format!(
                        "a kernel scheduler ({}), not {}",
                        SCHEDULERS.join(" "),
                        quoted(&s, 80)
                    ),
                );
                None
            }
        });
        let nagios = m.get("nagios").and_then(|n| match &n.value {
            Value::Null => None,
            Value::Map(entries) => {
                c.unknown_keys(entries, NAGIOS_KEYS, "nagios takes server, check and host");
                Some(Nagios {
                    server: nagios_text(c, n, "server"),
                    check: nagios_text(c, n, "check"),
                    host: nagios_text(c, n, "host"),
                })
            }
            _ => {
                c.at_node(
                    n,
                    "nagios",
                    format!("a map (server, check, host), not {}", n.describe()),
                );
                None
            }
        });
        Settings {
            check_interval: c.seconds(m, "check_interval", limits::CHECK_INTERVAL.1),
            ramp_up_time: c.seconds(m, "ramp_up_time", limits::RAMP_UP_TIME.1),
            max_down_ticks: c.int(m, "max_down_ticks"),
            backend_mode,
            scheduler,
            has_downpage: c.bool(m, "has_downpage"),
            nagios,
            offset: None,
        }
    }

    /// `defaults.merge(cluster)`: the cluster's own keys win; `nagios` merges key by key, as
    /// the original merged nested maps.
    fn over(self, defaults: &Settings) -> Settings {
        let nagios = match (self.nagios, &defaults.nagios) {
            (Some(own), Some(d)) => Some(Nagios {
                server: own.server.or_else(|| d.server.clone()),
                check: own.check.or_else(|| d.check.clone()),
                host: own.host.or_else(|| d.host.clone()),
            }),
            (own, d) => own.or_else(|| d.clone()),
        };
        Settings {
            check_interval: self.check_interval.or(defaults.check_interval),
            ramp_up_time: self.ramp_up_time.or(defaults.ramp_up_time),
            max_down_ticks: self.max_down_ticks.or(defaults.max_down_ticks),
            backend_mode: self.backend_mode.or(defaults.backend_mode),
            scheduler: self.scheduler.or_else(|| defaults.scheduler.clone()),
            has_downpage: self.has_downpage.or(defaults.has_downpage),
            nagios,
            offset: self.offset.or(defaults.offset),
        }
    }
}

/// One string of a `nagios` block, refused unless the NSCA line the `on_change` hook writes can
/// carry it: the hook prints `host,check,code,message` and a newline into send_nsca, so a line
/// break in `host` or `check` would forge a second result (for any host) and a comma would
/// shift the fields; `server` is send_nsca's `-H` argument, a host name or address. Printable
/// text only, so the report and the spec's header show it as it is.
fn nagios_text(c: &mut Check, n: &Node, key: &str) -> Option<String> {
    let (s, at) = c.string(n, key)?;
    let key = format!("nagios.{key}");
    let problem = match key.as_str() {
        "nagios.server" => {
            let ok = !s.is_empty()
                && s.len() <= MAX_SERVER_BYTES
                && !s.starts_with('-')
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'));
            (!ok).then(|| {
                format!(
                    "a host name or address for send_nsca -H (letters, digits, '.', '-', '_', ':'; at most {MAX_SERVER_BYTES} bytes), not {}",
                    quoted(&s, 80)
                )
            })
        }
        _ => {
            let max = if key == "nagios.host" {
                NSCA_MAX_HOST_BYTES
            } else {
                NSCA_MAX_CHECK_BYTES
            };
            if s.is_empty() || s.len() > max {
                Some(format!(
                    "a Nagios name of 1 to {max} bytes (send_nsca's limit), not {}",
                    quoted(&s, 80)
                ))
            } else if first_unprintable(&s).is_some() || s.contains(',') {
                Some(format!(
                    "a Nagios name without control characters, line breaks or commas (the hook sends the line `host,check,code,message` to send_nsca: a line break would forge a second result, a comma shift the fields), not {}",
                    quoted(&s, 80)
                ))
            } else {
                None
            }
        }
    };
    match problem {
        Some(p) => {
            c.at_node(at, &key, p);
            None
        }
        None => Some(s),
    }
}

/// A cluster ready to render.
pub struct Plan {
    pub(super) name: String,
    /// `clusters[2]` or `cluster web` (old form): where it came from, for the header.
    pub(super) origin: String,
    pub(super) fwmark: u32,
    pub(super) scheduler: String,
    pub(super) check_interval: Duration,
    pub(super) ramp_up_time: Duration,
    pub(super) backend_mode: BackendMode,
    pub(super) downpage: bool,
    /// `bigbro --data-dir`, when the operator said it was not the default.
    pub(super) override_dir: Option<std::path::PathBuf>,
    /// The `nagios` block, complete: (host, check, server) for the `on_change` hook.
    pub(super) nagios: Option<(String, String, String)>,
    pub(super) nodes: Vec<PlanNode>,
    pub(super) dropped: Vec<Dropped>,
    pub(super) notes: Vec<String>,
}

pub struct PlanNode {
    pub(super) address: Ipv4Addr,
    pub(super) port: u16,
    pub(super) path: String,
    pub(super) max_weight: Option<u32>,
    pub(super) priority: Option<i64>,
}

/// Reads one cluster's keys, merges the defaults, and decides what each becomes.
pub fn plan(c: &mut Check, r: &RawCluster<'_>, defaults: &Settings, form: Form) -> Option<Plan> {
    let m = r.node;
    let entries = m.as_map().unwrap_or_default();
    let mut dropped = Vec::new();
    let mut notes = Vec::new();
    match form {
        Form::Clusters => c.unknown_keys(entries, CLUSTER_KEYS, "0.9.12's schema refuses it"),
        Form::ClusterMap => {
            // Before the schema, unknown keys were silently ignored: say so, do not fail.
            for (k, _) in entries {
                if !CLUSTER_KEYS.contains(&k.name.as_str()) && k.name != "offset" {
                    dropped.push(Dropped {
                        key: k.name.clone(),
                        why: "not a setting big_brother 0.8 read (it ignored unknown keys)".into(),
                    });
                }
            }
            if let Some((s, n)) = c.string(m, "cluster_name") {
                if Some(&s) != r.name.as_ref() {
                    c.at_node(
                        n,
                        "cluster_name",
                        format!(
                            "the same name as the map key ({}), or no cluster_name",
                            r.name.as_deref().unwrap_or("")
                        ),
                    );
                }
            }
        }
    }

    let mut own = Settings::read(c, m);
    if form == Form::ClusterMap {
        // Before the schema, a cluster could set its own relay offset.
        own.offset = c.int(m, "offset");
    }
    let s = own.over(defaults);

    let fwmark = match m.get("fwmark") {
        None => {
            c.at_node(
                m,
                "fwmark",
                "a fwmark (required: the IPVS service's firewall mark)",
            );
            None
        }
        Some(n) => match n.value {
            Value::Int(v) if (1..=i64::from(u32::MAX)).contains(&v) => u32::try_from(v).ok(),
            Value::Int(v) => {
                c.at_node(
                    n,
                    "fwmark",
                    format!("a firewall mark from 1 to 4294967295, not {v}"),
                );
                None
            }
            _ => {
                c.at_node(
                    n,
                    "fwmark",
                    format!(
                        "a firewall mark (an integer from 1 to 4294967295), not {}",
                        n.describe()
                    ),
                );
                None
            }
        },
    };
    if s.scheduler.is_none() && !c.has_problem("scheduler") {
        c.at_node(
            m,
            "scheduler",
            format!(
                "a scheduler (required; one of {}), here or under _big_brother",
                SCHEDULERS.join(" ")
            ),
        );
    }

    let check_interval = match s.check_interval {
        None => DEFAULT_CHECK_INTERVAL,
        Some((d, _)) if d < TICK => {
            notes.push(format!(
                "check_interval {} becomes {}: the original then checked on every tick of its 100 ms ticker",
                d.as_secs_f64(),
                crate::spec::duration::render(TICK)
            ));
            TICK
        }
        Some((d, _)) => d,
    };
    let ramp_up_time = match s.ramp_up_time {
        None => DEFAULT_RAMP_UP_TIME,
        Some((d, _)) if d.is_zero() => {
            notes.push("ramp_up_time 0 becomes 1ms (a spec needs a positive duration): nodes serve at full weight at once, as in the original".into());
            Duration::from_millis(1)
        }
        Some((d, _)) => d,
    };
    let backend_mode = s.backend_mode.unwrap_or(BackendMode::ActiveActive);
    let downpage = s.has_downpage == Some(true);
    if downpage {
        notes.push(format!(
            "has_downpage becomes [sorry_server] {DOWNPAGE_ADDRESS} weight 1, the original's downpage real server"
        ));
    }

    // nagios: the same passive check, sent by an on_change hook that runs send_nsca.
    let mut nagios = None;
    if let Some(Nagios {
        server: Some(server),
        check: Some(check),
        host: Some(host),
    }) = &s.nagios
    {
        notes.push(format!(
            "nagios (server {server}, check {check}, host {host}) becomes on_change running send_nsca as the original did (install nsca-client)"
        ));
        nagios = Some((host.clone(), check.clone(), server.clone()));
    } else if let Some(n) = &s.nagios {
        let parts: Vec<String> = [
            ("server", &n.server),
            ("check", &n.check),
            ("host", &n.host),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {v}")))
        .collect();
        dropped.push(Dropped {
            key: if parts.is_empty() {
                "nagios".into()
            } else {
                format!("nagios ({})", parts.join(", "))
            },
            why: "incomplete (the original needed server, check and host to run send_nsca); set on_change to notify".into(),
        });
    }
    if let Some(t) = s.max_down_ticks {
        dropped.push(Dropped {
            key: format!("max_down_ticks = {t}"),
            why: "it only counted failed ticks of remote (interpol) nodes before removing them; big_brother has no remote nodes (fall/rise damp the local ones, set here to the original's 1/1)".into(),
        });
    }
    if let Some(n) = m.get("non_egress_locations") {
        match &n.value {
            Value::Null => {}
            Value::Seq(items) => {
                let mut locs = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match &item.value {
                        Value::Str(s) => locs.push(s.clone()),
                        _ => c.at_node(
                            item,
                            &format!("non_egress_locations[{i}]"),
                            format!("a location name, not {}", item.describe()),
                        ),
                    }
                }
                dropped.push(Dropped {
                    key: format!("non_egress_locations ({})", locs.join(", ")),
                    why: "it filtered interpol's remote nodes; big_brother has no cross-datacenter relay".into(),
                });
            }
            _ => c.at_node(
                n,
                "non_egress_locations",
                format!("a list of location names, not {}", n.describe()),
            ),
        }
    }
    let offset = s.offset.unwrap_or(DEFAULT_OFFSET);
    match (backend_mode, fwmark) {
        (BackendMode::ActiveActive, Some(f)) => dropped.push(Dropped {
            key: format!(
                "relay service fwmark {} (fwmark {f} + offset {offset})",
                i64::from(f) + offset
            ),
            why: "the original ran this second IPVS service with the same nodes for every active_active cluster, for other sites' interpol relays; if traffic is marked with it, write a second spec with that fwmark".into(),
        }),
        (BackendMode::ActivePassive, _) if s.offset.is_some() => dropped.push(Dropped {
            key: format!("offset = {offset}"),
            why: "it only placed the relay service of active_active clusters".into(),
        }),
        _ => {}
    }

    // Nodes.
    let mut nodes = Vec::new();
    let mut seen: BTreeMap<Ipv4Addr, usize> = BTreeMap::new();
    match m.get("nodes") {
        None => c.at_node(m, "nodes", "a nodes: list (required; it may be empty)"),
        Some(n) => match &n.value {
            Value::Seq(items) => {
                if items.len() > MAX_NODES {
                    c.at_node(
                        n,
                        "nodes",
                        format!(
                            "at most {MAX_NODES} nodes per cluster (the spec's limit), not {}",
                            items.len()
                        ),
                    );
                }
                for (i, item) in items.iter().enumerate().take(MAX_NODES) {
                    if let Some(node) = plan_node(c, i, item, &mut dropped, &mut notes) {
                        if let Some(first) = seen.get(&node.address) {
                            c.at_node(
                                item.get("address").unwrap_or(item),
                                &format!("nodes[{i}].address"),
                                format!(
                                    "each address once (nodes[{first}] has {} too; an fwmark real server has no port, so they would be one IPVS real server)",
                                    node.address
                                ),
                            );
                        } else {
                            seen.insert(node.address, i);
                            nodes.push(node);
                        }
                    }
                }
            }
            _ => c.at_node(
                n,
                "nodes",
                format!("a list of nodes (`- address: …`), not {}", n.describe()),
            ),
        },
    }
    if nodes.is_empty() {
        notes.push("no real servers: the spec is staged (valid, but big_brother will not start it) until you add [[node]] tables".into());
    }

    let (Some(name), Some(fwmark), Some(scheduler)) = (r.name.clone(), fwmark, s.scheduler) else {
        return None;
    };
    let origin = match r.index {
        Some(i) => format!("clusters[{i}]"),
        None => format!("the map key {name}"),
    };
    Some(Plan {
        name,
        origin,
        fwmark,
        scheduler,
        check_interval,
        ramp_up_time,
        backend_mode,
        downpage,
        override_dir: None,
        nagios,
        nodes,
        dropped,
        notes,
    })
}

fn plan_node(
    c: &mut Check,
    i: usize,
    item: &Node,
    dropped: &mut Vec<Dropped>,
    notes: &mut Vec<String>,
) -> Option<PlanNode> {
    let key = format!("nodes[{i}]");
    let Some(entries) = item.as_map() else {
        c.at_node(
            item,
            &key,
            format!("a node (address, port, path), not {}", item.describe()),
        );
        return None;
    };
    c.unknown_keys_in(entries, NODE_KEYS, &key, "0.9.12's schema refuses it");
    let sub = |k: &str| format!("{key}.{k}");
    let address = match item.get("address") {
        None => {
            c.at_node(item, &sub("address"), "an address (required)");
            None
        }
        Some(n) => match &n.value {
            Value::Str(s) => match s.parse::<Ipv4Addr>() {
                Ok(a) if a.is_unspecified() || a.is_multicast() || a.is_broadcast() => {
                    c.at_node(
                        n,
                        &sub("address"),
                        format!("a unicast IPv4 address, not {}", quoted(s, 80)),
                    );
                    None
                }
                Ok(a) => Some(a),
                Err(_) => {
                    c.at_node(
                        n,
                        &sub("address"),
                        format!(
                            "an IPv4 address like 192.0.2.10 (the original's schema), not {}",
                            quoted(s, 80)
                        ),
                    );
                    None
                }
            },
            _ => {
                c.at_node(
                    n,
                    &sub("address"),
                    format!("an IPv4 address, not {}", n.describe()),
                );
                None
            }
        },
    };
    let port = match item.get("port") {
        None
        | Some(Node {
            value: Value::Null, ..
        }) => None,
        Some(n) => match n.value {
            Value::Int(p) if (1..=65535).contains(&p) => u16::try_from(p).ok(),
            _ => {
                c.at_node(
                    n,
                    &sub("port"),
                    format!("a port from 1 to 65535, not {}", n.describe()),
                );
                return None;
            }
        },
    };
    let path = match c.string(item, "path") {
        Some((p, n)) => {
            if let Some(problem) = url_path_problem(&p) {
                c.at_node(n, &sub("path"), problem);
            }
            Some(p)
        }
        None => None,
    };
    let max_weight = c.int(item, "max_weight");
    let priority = c.int(item, "priority");
    let interpol = c.bool(item, "interpol") == Some(true);
    let address = address?;
    let port_shown = port.map_or(String::new(), |p| format!(":{p}"));
    if interpol {
        dropped.push(Dropped {
            key: format!("{key} ({address}{port_shown}, interpol)"),
            why: "an interpol status server listing other sites' load balancers, not a real server; big_brother has no cross-datacenter relay".into(),
        });
        return None;
    }
    let port = match port {
        Some(p) => p,
        None => {
            notes.push(format!(
                "{key} ({address}) had no port: the original's check URL then used HTTP's port 80"
            ));
            80
        }
    };
    let path = match path {
        Some(p) => p,
        None => {
            notes.push(format!(
                "{key} ({address}) had no path: the original checked http://{address}:{port}/, so path is \"/\""
            ));
            "/".into()
        }
    };
    let max_weight = match max_weight {
        None => None,
        Some(w) if w <= 0 => {
            notes.push(format!(
                "{key} ({address}).max_weight {w} is left out: the original ignored a max_weight of 0 or less"
            ));
            None
        }
        Some(w) if w >= 100 => {
            notes.push(format!(
                "{key} ({address}).max_weight {w} is left out: health never exceeds 100, so the original never applied it"
            ));
            None
        }
        Some(w) => {
            notes.push(format!(
                "{key} ({address}).max_weight {w}: the original capped the weight at {w} (min(health, {w})); big_brother scales health 0-100 into 0-{w} (the same at full health, lower below it)"
            ));
            u32::try_from(w).ok()
        }
    };
    Some(PlanNode {
        address,
        port,
        path,
        max_weight,
        priority,
    })
}
