//! The original big_brother's config (Ruby gem 0.9.12, `/etc/big_brother.conf`), converted to
//! our specs: one [`Converted`] cluster per entry of `clusters:`, each with the TOML text to
//! write, the [`Spec`] that text validates to, and the keys that could not be carried over.
//!
//! What the original accepted is what we accept: its kwalify schema (`_big_brother:` defaults
//! merged into every cluster, per-cluster keys winning; `clusters:` a list of maps; the keys and
//! types below), read as Ruby reads YAML (`yaml` module). Versions before 0.8.6 (July 2015) had
//! no schema and used a top-level map `cluster_name: {…}` instead of the `clusters:` list; that
//! form is read too, and keys those versions ignored are reported as not carried over.
//!
//! Nothing here touches the disk: `import` works on text, so the command can validate every
//! cluster before it writes any file, and the agent can read a legacy file in memory.

mod render;
mod yaml;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::model::{BackendMode, Spec, SCHEDULERS};
use super::{validate::is_valid_name, Problem, SpecError};
use yaml::{Key, Node, Value};

/// The real server the original added while every node of a `has_downpage` cluster was down.
pub const DOWNPAGE_ADDRESS: Ipv4Addr = Ipv4Addr::new(169, 254, 254, 254);

/// The original's defaults for keys a cluster leaves out (`cluster.rb`).
const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(1);
const DEFAULT_RAMP_UP_TIME: Duration = Duration::from_secs(60);
const DEFAULT_OFFSET: i64 = 10_000;
/// The original's ticker ran every 100 ms; `check_interval: 0` meant "check on every tick".
const TICK: Duration = Duration::from_millis(100);

/// Keys the 0.9.12 schema allows under `_big_brother:`.
const DEFAULT_KEYS: &[&str] = &[
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
const CLUSTER_KEYS: &[&str] = &[
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

/// A key of the legacy config that has no equivalent in our spec, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dropped {
    /// The key as an operator finds it in the legacy file (`nagios`, `nodes[1]`).
    pub key: String,
    pub why: String,
}

/// Which shape the legacy file had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `clusters:` list (0.8.6 and later, kwalify-validated).
    Clusters,
    /// Top-level map keyed by cluster name (before 0.8.6).
    ClusterMap,
}

/// One legacy cluster, converted.
#[derive(Clone, Debug)]
pub struct Converted {
    pub name: String,
    pub fwmark: u32,
    /// The spec file's text: a header comment naming the source and the unconverted keys, then
    /// the spec. `spec::parse` accepts it (checked before it is returned).
    pub toml: String,
    pub spec: Spec,
    /// Keys not carried over (also listed in the header of `toml`).
    pub dropped: Vec<Dropped>,
    /// Things carried over with a change an operator should know about.
    pub notes: Vec<String>,
}

/// The result of reading one legacy file.
#[derive(Clone, Debug)]
pub struct Import {
    pub form: Form,
    /// Every cluster name the file defines, in file order.
    pub names: Vec<String>,
    /// The converted clusters (all of them, or the one asked for).
    pub clusters: Vec<Converted>,
}

/// True when `file` is the original's YAML rather than a TOML spec: a `.yml`, `.yaml` or `.conf`
/// name (the original's default was `/etc/big_brother.conf`), or a text whose first key is
/// `clusters:` or `_big_brother:`.
pub fn looks_legacy(file: &Path, text: &str) -> bool {
    let by_name = file
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["yml", "yaml", "conf"].contains(&e.to_ascii_lowercase().as_str()));
    by_name
        || text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('%') && *l != "---")
            .is_some_and(|l| l.starts_with("clusters:") || l.starts_with("_big_brother:"))
}

/// Converts the legacy config `text` (read from `file`, named in messages and headers).
///
/// `only`: convert just the cluster with that name; problems in other clusters are then ignored
/// (the file's shape and its `_big_brother:` defaults must still be right). The result has no
/// clusters when the name is not in the file ([`Import::names`] says what is).
///
/// `out_dir`: where the specs will live; each [`Spec::file`] is `out_dir/<name>.toml`, or the
/// legacy file itself when `None`.
///
/// Every problem is reported at once, each with line, column, the cluster and the key.
pub fn import(
    file: &Path,
    text: &str,
    only: Option<&str>,
    out_dir: Option<&Path>,
) -> Result<Import, SpecError> {
    let invalid = |problems: Vec<Problem>| SpecError::Invalid {
        file: file.to_path_buf(),
        problems,
    };
    let root = match yaml::parse(text) {
        Ok(Some(root)) => root,
        Ok(None) => {
            return Err(invalid(vec![Problem {
                line: None,
                column: None,
                key: String::new(),
                expected: "a big_brother config (a `clusters:` list of clusters, optionally `_big_brother:` defaults), not an empty file".into(),
            }]))
        }
        Err(e) => {
            return Err(SpecError::Parse {
                file: file.to_path_buf(),
                line: e.line,
                column: e.column,
                message: format!("not readable as YAML: {}", e.message),
            })
        }
    };

    let mut top = Check::new("");
    let Some(entries) = root.as_map() else {
        top.at_node(
            &root,
            "",
            format!(
                "a big_brother config (a map with a `clusters:` list), not {}",
                root.describe()
            ),
        );
        return Err(invalid(top.problems));
    };

    // The defaults, checked once (a bad default is reported once, not once per cluster).
    let mut defaults = Settings::default();
    if let Some(d) = root.get("_big_brother") {
        let mut c = Check::new("_big_brother");
        match &d.value {
            Value::Null => {}
            Value::Map(m) => {
                c.unknown_keys(
                    m,
                    DEFAULT_KEYS,
                    "0.9.12 allows only these under _big_brother",
                );
                defaults = Settings::read(&mut c, d);
                defaults.offset = c.int(d, "offset");
            }
            _ => c.at_node(d, "", format!("a map of defaults, not {}", d.describe())),
        }
        top.problems.append(&mut c.problems);
    }

    // The clusters, as (where, name, node).
    let (form, raw) = match root.get("clusters") {
        Some(list) => {
            for (k, _) in entries {
                if k.name != "clusters" && k.name != "_big_brother" {
                    top.at_key(
                        k,
                        &k.name,
                        "only `_big_brother:` and `clusters:` at the top (the 0.9.12 schema); not this key",
                    );
                }
            }
            (Form::Clusters, clusters_from_list(&mut top, list))
        }
        None => (Form::ClusterMap, clusters_from_map(&mut top, entries)),
    };

    let names: Vec<String> = raw.iter().filter_map(|r| r.name.clone()).collect();
    let mut converted = Vec::new();
    let mut seen: BTreeMap<String, (usize, Option<usize>)> = BTreeMap::new();
    let mut marks: BTreeMap<u32, String> = BTreeMap::new();
    for r in &raw {
        if only.is_some_and(|o| r.name.as_deref() != Some(o)) {
            continue;
        }
        let mut c = Check::new(&r.label());
        if let Some(name) = &r.name {
            if let Some((line, _)) = seen.get(name) {
                c.at(
                    r.name_at,
                    "cluster_name",
                    format!("each cluster name once, but {name:?} is also on line {line}"),
                );
            } else {
                seen.insert(name.clone(), r.name_at);
            }
        }
        if let Some(plan) = plan(&mut c, r, &defaults, form) {
            if let Some(other) = marks.get(&plan.fwmark) {
                let at = r.node.get("fwmark").map(|n| (n.line, Some(n.column)));
                c.at(
                    at.unwrap_or((r.node.line, Some(r.node.column))),
                    "fwmark",
                    format!(
                        "a firewall mark no other cluster uses, but cluster {other} also has {}",
                        plan.fwmark
                    ),
                );
            } else {
                marks.insert(plan.fwmark, plan.name.clone());
            }
            if c.problems.is_empty() {
                match finish(file, out_dir, form, plan) {
                    Ok(done) => converted.push(done),
                    Err(mut p) => c.problems.append(&mut p),
                }
            }
        }
        top.problems.append(&mut c.problems);
    }

    if top.problems.is_empty() {
        Ok(Import {
            form,
            names,
            clusters: converted,
        })
    } else {
        let mut problems = top.problems;
        problems.sort_by_key(|p| (p.line.is_none(), p.line, p.column));
        Err(invalid(problems))
    }
}

/// One cluster from the legacy file before conversion.
struct RawCluster<'a> {
    /// `clusters[2]` (list form) or the map key (old form).
    index: Option<usize>,
    name: Option<String>,
    /// Where the name is written (line, column).
    name_at: (usize, Option<usize>),
    node: &'a Node,
}

impl RawCluster<'_> {
    /// How messages name this cluster.
    fn label(&self) -> String {
        match (&self.name, self.index) {
            (Some(n), _) => format!("cluster {n}"),
            (None, Some(i)) => format!("clusters[{i}]"),
            (None, None) => "cluster".into(),
        }
    }
}

fn clusters_from_list<'a>(top: &mut Check, list: &'a Node) -> Vec<RawCluster<'a>> {
    let Value::Seq(items) = &list.value else {
        top.at_node(
            list,
            "clusters",
            format!(
                "a list of clusters (`- cluster_name: …`), not {}",
                list.describe()
            ),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if item.as_map().is_none() {
            top.at_node(
                item,
                &format!("clusters[{i}]"),
                format!("a map of cluster settings, not {}", item.describe()),
            );
            continue;
        }
        let mut name = None;
        let mut name_at = (item.line, Some(item.column));
        match item.get("cluster_name") {
            None => top.at_node(
                item,
                &format!("clusters[{i}]: cluster_name"),
                "a cluster_name (required: it is the OCF `cluster` parameter)",
            ),
            Some(n) => {
                name_at = (n.line, Some(n.column));
                match &n.value {
                    Value::Str(s) if is_valid_name(s) => name = Some(s.clone()),
                    Value::Str(s) => top.at_node(
                        n,
                        &format!("clusters[{i}]: cluster_name"),
                        format!("a name usable in Pacemaker ids and file names: a letter, then up to 63 letters, digits, '_', '-' or '.', not {s:?}"),
                    ),
                    _ => top.at_node(
                        n,
                        &format!("clusters[{i}]: cluster_name"),
                        format!("a cluster name (a string), not {}", n.describe()),
                    ),
                }
            }
        }
        out.push(RawCluster {
            index: Some(i),
            name,
            name_at,
            node: item,
        });
    }
    out
}

fn clusters_from_map<'a>(top: &mut Check, entries: &'a [(Key, Node)]) -> Vec<RawCluster<'a>> {
    let mut out = Vec::new();
    for (k, v) in entries {
        if k.name == "_big_brother" {
            continue;
        }
        if v.as_map().is_none() {
            top.at_node(
                v,
                &k.name,
                format!(
                    "a `clusters:` list, or (before 0.8.6) a map of settings for cluster {}, not {}",
                    k.name,
                    v.describe()
                ),
            );
            continue;
        }
        let name = if is_valid_name(&k.name) {
            Some(k.name.clone())
        } else {
            top.at_key(
                k,
                &k.name,
                "a cluster name usable in Pacemaker ids and file names: a letter, then up to 63 letters, digits, '_', '-' or '.'",
            );
            None
        };
        out.push(RawCluster {
            index: None,
            name,
            name_at: (k.line, Some(k.column)),
            node: v,
        });
    }
    if out.is_empty() && top.problems.is_empty() {
        top.problems.push(Problem {
            line: None,
            column: None,
            key: "clusters".into(),
            expected: "a `clusters:` list of clusters (required)".into(),
        });
    }
    out
}

/// Keys a cluster may also take from `_big_brother:`.
#[derive(Clone, Debug, Default)]
struct Settings {
    check_interval: Option<(Duration, Pos)>,
    ramp_up_time: Option<(Duration, Pos)>,
    max_down_ticks: Option<i64>,
    backend_mode: Option<BackendMode>,
    scheduler: Option<String>,
    has_downpage: Option<bool>,
    nagios: Option<Nagios>,
    offset: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Nagios {
    server: Option<String>,
    check: Option<String>,
    host: Option<String>,
}

type Pos = (usize, Option<usize>);

impl Settings {
    fn read(c: &mut Check, m: &Node) -> Settings {
        let backend_mode = c
            .string(m, "backend_mode")
            .and_then(|(s, n)| match s.as_str() {
                "active_active" => Some(BackendMode::ActiveActive),
                "active_passive" => Some(BackendMode::ActivePassive),
                _ => {
                    c.at_node(
                        n,
                        "backend_mode",
                        format!("active_active or active_passive, not {s:?}"),
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
                    format!("a kernel scheduler ({}), not {s:?}", SCHEDULERS.join(" ")),
                );
                None
            }
        });
        let nagios = m.get("nagios").and_then(|n| match &n.value {
            Value::Null => None,
            Value::Map(entries) => {
                c.unknown_keys(entries, NAGIOS_KEYS, "nagios takes server, check and host");
                Some(Nagios {
                    server: c.string(n, "server").map(|(s, _)| s),
                    check: c.string(n, "check").map(|(s, _)| s),
                    host: c.string(n, "host").map(|(s, _)| s),
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
            check_interval: c.seconds(m, "check_interval"),
            ramp_up_time: c.seconds(m, "ramp_up_time"),
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

/// A cluster ready to render.
struct Plan {
    name: String,
    /// `clusters[2]` or `cluster web` (old form): where it came from, for the header.
    origin: String,
    fwmark: u32,
    scheduler: String,
    check_interval: Duration,
    ramp_up_time: Duration,
    backend_mode: BackendMode,
    downpage: bool,
    nodes: Vec<PlanNode>,
    dropped: Vec<Dropped>,
    notes: Vec<String>,
}

struct PlanNode {
    address: Ipv4Addr,
    port: u16,
    path: String,
    max_weight: Option<u32>,
    priority: Option<i64>,
}

/// Reads one cluster's keys, merges the defaults, and decides what each becomes.
fn plan(c: &mut Check, r: &RawCluster<'_>, defaults: &Settings, form: Form) -> Option<Plan> {
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
        Some((d, _)) if d.is_zero() => {
            notes.push(format!(
                "check_interval 0 becomes {}: the original then checked on every tick of its 100 ms ticker",
                super::duration::render(TICK)
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

    // Keys with no equivalent.
    if let Some(n) = &s.nagios {
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
            why: "big_brother does not run send_nsca; an on_change hook to run your own notifier is coming".into(),
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
                for (i, item) in items.iter().enumerate() {
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
        Some(n) => {
            match &n.value {
                Value::Str(s) => match s.parse::<Ipv4Addr>() {
                    Ok(a) if a.is_unspecified() || a.is_multicast() || a.is_broadcast() => {
                        c.at_node(
                            n,
                            &sub("address"),
                            format!("a unicast IPv4 address, not {s:?}"),
                        );
                        None
                    }
                    Ok(a) => Some(a),
                    Err(_) => {
                        c.at_node(
                        n,
                        &sub("address"),
                        format!("an IPv4 address like 192.0.2.10 (the original's schema), not {s:?}"),
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
            }
        }
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
            if !p.starts_with('/') {
                c.at_node(
                    n,
                    &sub("path"),
                    format!("a path starting with '/', not {p:?}"),
                );
            } else if p
                .chars()
                .any(|ch| ch.is_whitespace() || ch.is_control() || ch == '#')
            {
                c.at_node(
                    n,
                    &sub("path"),
                    format!("a URL path without spaces, control characters or '#', not {p:?}"),
                );
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

/// Renders a plan and proves the text is a valid spec.
fn finish(
    file: &Path,
    out_dir: Option<&Path>,
    form: Form,
    plan: Plan,
) -> Result<Converted, Vec<Problem>> {
    let spec_file = out_dir.map_or_else(
        || file.to_path_buf(),
        |d| d.join(format!("{}.toml", plan.name)),
    );
    let toml = render::render(file, form, &plan);
    match super::parse(&spec_file, &toml) {
        Ok(spec) => Ok(Converted {
            name: plan.name,
            fwmark: plan.fwmark,
            toml,
            spec,
            dropped: plan.dropped,
            notes: plan.notes,
        }),
        // The checks above should make this impossible; if not, say what the spec rules said.
        Err(e) => Err(vec![Problem {
            line: None,
            column: None,
            key: format!("cluster {}", plan.name),
            expected: format!(
                "a cluster the spec rules accept; the converted spec was refused: {}",
                e.to_string().replace('\n', "; ")
            ),
        }]),
    }
}

/// Collects problems for one context (`cluster web`, `_big_brother`, or the top level).
struct Check {
    ctx: String,
    problems: Vec<Problem>,
}

impl Check {
    fn new(ctx: &str) -> Check {
        Check {
            ctx: ctx.to_string(),
            problems: Vec::new(),
        }
    }

    fn key(&self, key: &str) -> String {
        match (self.ctx.is_empty(), key.is_empty()) {
            (true, _) => key.to_string(),
            (false, true) => self.ctx.clone(),
            (false, false) => format!("{}: {key}", self.ctx),
        }
    }

    fn at(&mut self, (line, column): Pos, key: &str, expected: impl Into<String>) {
        self.problems.push(Problem {
            line: Some(line),
            column,
            key: self.key(key),
            expected: expected.into(),
        });
    }

    fn at_node(&mut self, n: &Node, key: &str, expected: impl Into<String>) {
        self.at((n.line, Some(n.column)), key, expected);
    }

    fn at_key(&mut self, k: &Key, key: &str, expected: impl Into<String>) {
        self.at((k.line, Some(k.column)), key, expected);
    }

    fn has_problem(&self, key: &str) -> bool {
        let full = self.key(key);
        self.problems.iter().any(|p| p.key == full)
    }

    fn unknown_keys(&mut self, entries: &[(Key, Node)], allowed: &[&str], why: &str) {
        self.unknown_keys_in(entries, allowed, "", why);
    }

    fn unknown_keys_in(
        &mut self,
        entries: &[(Key, Node)],
        allowed: &[&str],
        prefix: &str,
        why: &str,
    ) {
        for (k, _) in entries {
            if !allowed.contains(&k.name.as_str()) {
                let key = if prefix.is_empty() {
                    k.name.clone()
                } else {
                    format!("{prefix}.{}", k.name)
                };
                self.at_key(
                    k,
                    &key,
                    format!("one of {} ({why}); not an unknown key", allowed.join(", ")),
                );
            }
        }
    }

    /// An optional integer; null counts as absent.
    fn int(&mut self, m: &Node, key: &str) -> Option<i64> {
        let n = m.get(key)?;
        match n.value {
            Value::Null => None,
            Value::Int(v) => Some(v),
            _ => {
                self.at_node(n, key, format!("an integer, not {}", n.describe()));
                None
            }
        }
    }

    fn bool(&mut self, m: &Node, key: &str) -> Option<bool> {
        let n = m.get(key)?;
        match n.value {
            Value::Null => None,
            Value::Bool(b) => Some(b),
            _ => {
                self.at_node(n, key, format!("true or false, not {}", n.describe()));
                None
            }
        }
    }

    fn string<'n>(&mut self, m: &'n Node, key: &str) -> Option<(String, &'n Node)> {
        let n = m.get(key)?;
        match &n.value {
            Value::Null => None,
            Value::Str(s) => Some((s.clone(), n)),
            _ => {
                self.at_node(n, key, format!("a string, not {}", n.describe()));
                None
            }
        }
    }

    /// Seconds as the original wrote them: a whole number (its schema), or a fraction (kept to
    /// the millisecond). Zero is allowed here and handled by the caller, as the original
    /// allowed it.
    fn seconds(&mut self, m: &Node, key: &str) -> Option<(Duration, Pos)> {
        let n = m.get(key)?;
        let pos = (n.line, Some(n.column));
        let ms = match n.value {
            Value::Null => return None,
            Value::Int(s) if s >= 0 => u64::try_from(s).ok().and_then(|s| s.checked_mul(1000)),
            Value::Float(f) if (0.0..1e12).contains(&f) => {
                // Whole milliseconds; at most 1e15, well inside u64.
                Some((f * 1000.0).round() as u64)
            }
            _ => None,
        };
        match ms {
            Some(ms) => Some((Duration::from_millis(ms), pos)),
            None => {
                self.at_node(
                    n,
                    key,
                    format!("a number of seconds (0 or more), not {}", n.describe()),
                );
                None
            }
        }
    }
}

/// The agent's path to a legacy file: the named cluster, converted in memory. Problems in other
/// clusters of the file do not stop this one (the original's reload stopped every cluster when
/// any was wrong; we do better).
pub fn load_cluster(file: &Path, text: &str, cluster: &str) -> Result<Spec, SpecError> {
    let import = import(file, text, Some(cluster), None)?;
    match import.clusters.into_iter().next() {
        Some(c) => Ok(c.spec),
        None => Err(SpecError::Invalid {
            file: file.to_path_buf(),
            problems: vec![Problem {
                line: None,
                column: None,
                key: "cluster_name".into(),
                expected: format!(
                    "a cluster named {cluster:?} in this big_brother config (it has: {})",
                    if import.names.is_empty() {
                        "none".to_string()
                    } else {
                        import.names.join(", ")
                    }
                ),
            }],
        }),
    }
}

/// Where `import` would put cluster `name` under `dir`.
pub fn spec_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.toml"))
}

#[cfg(test)]
mod tests;
