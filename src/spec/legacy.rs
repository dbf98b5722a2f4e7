//! The original big_brother's config (Ruby gem 0.9.12, `/etc/big_brother.conf`), converted to
//! our specs: one [`Converted`] cluster per entry of `clusters:`, each with the TOML text to
//! write, the [`Spec`] that text validates to, and the keys that could not be carried over.
//!
//! What the original accepted is what we accept: its kwalify schema (`_big_brother:` defaults
//! merged into every cluster, per-cluster keys winning; `clusters:` a list of maps; the keys and
//! types in `convert`), read as Ruby reads YAML (`yaml`), checked by `check`, written by
//! `render`. Versions before 0.8.6 (July 2015) had
//! no schema and used a top-level map `cluster_name: {…}` instead of the `clusters:` list; that
//! form is read too, and keys those versions ignored are reported as not carried over.
//!
//! Nothing here touches the disk: `import` works on text, so the command can validate every
//! cluster before it writes any file, and the agent can read a legacy file in memory.

mod check;
mod convert;
pub(crate) mod render;
mod yaml;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use super::model::Spec;
use super::{validate::is_valid_name, Problem, SpecError};
use crate::text::quoted;
use check::Check;
use convert::{plan, Plan, Settings, DEFAULT_KEYS};
use yaml::{Key, Node, Value};

/// Most clusters one legacy file may define: each becomes a spec file.
pub const MAX_CLUSTERS: usize = 1024;

/// The real server the original added while every node of a `has_downpage` cluster was down.
pub const DOWNPAGE_ADDRESS: Ipv4Addr = Ipv4Addr::new(169, 254, 254, 254);

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
    import_with_data_dir(file, text, only, out_dir, None)
}

/// [`import`], for a legacy daemon that ran with `bigbro --data-dir DIR` (the directory of its
/// `up/<cluster>` and `down/<cluster>` override files, not in its config): each spec gets
/// `override_dir = "DIR"` unless DIR is the original's default, which is ours too.
pub fn import_with_data_dir(
    file: &Path,
    text: &str,
    only: Option<&str>,
    out_dir: Option<&Path>,
    data_dir: Option<&Path>,
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
        if let Some(mut plan) = plan(&mut c, r, &defaults, form) {
            plan.override_dir = data_dir
                .filter(|d| *d != Path::new(super::model::defaults::OVERRIDE_DIR))
                .map(Path::to_path_buf);
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
    if items.len() > MAX_CLUSTERS {
        top.at_node(
            list,
            "clusters",
            format!(
                "at most {MAX_CLUSTERS} clusters in one file, not {}",
                items.len()
            ),
        );
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate().take(MAX_CLUSTERS) {
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
                        format!("a name usable in Pacemaker ids and file names: a letter, then up to 63 letters, digits, '_', '-' or '.', not {}", quoted(s, 80)),
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
    if entries.len() > MAX_CLUSTERS {
        top.problems.push(Problem {
            line: None,
            column: None,
            key: "clusters".into(),
            expected: format!(
                "at most {MAX_CLUSTERS} clusters in one file, not {}",
                entries.len()
            ),
        });
    }
    let mut out = Vec::new();
    for (k, v) in entries.iter().take(MAX_CLUSTERS + 1) {
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
                    "a cluster named {} in this big_brother config (it has: {})",
                    quoted(cluster, 80),
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
