//! `big_brother override CLUSTER up|down|clear` and `big_brother override CLUSTER NODE
//! WEIGHT|clear`: force the whole cluster up or down, or one node to a weight, on every director
//! at once — the CIB twin of the original big_brother's override files, which stay this
//! director's own (`state::overrides`).
//!
//! Works as `drain` does (its helpers are shared): the cluster and node are checked against the
//! spec first, the reason before anything is read, then one `cibadmin` write in the cluster's
//! property set (`state::cib_drain::put`, read back) with who, when and why
//! (`state::cib_override` has the values). There is no local fallback: a director's own
//! override is a file an operator writes (`touch <override_dir>/down/<cluster>`), and this
//! command says so when no CIB answers.

use std::path::PathBuf;

use super::code::{finish, Failure};
use super::drain::{cluster_spec, resolve};
use crate::exit::OcfCode;
use crate::spec::{self, Spec};
use crate::state::cib_drain::{self, CibError, CibSet, Record};
use crate::state::cib_override::{self, parse_weight};
use crate::state::overrides::{self, Override};

/// `big_brother override` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    pub cluster: String,
    /// `up` (every node at its max_weight), `down` (every node at 0) or `clear`; or a node's id
    /// as `status` shows it (its address, or address:port), then its WEIGHT or `clear`.
    #[arg(value_name = "up|down|clear|NODE")]
    pub what: String,
    /// With a NODE: the weight to force (0 to the node's max_weight), or `clear`.
    // A negative number reaches the check below, which says what a weight is.
    #[arg(value_name = "WEIGHT|clear", allow_negative_numbers = true)]
    pub weight: Option<String>,
    /// The cluster's spec (default /etc/big_brother/CLUSTER.toml).
    #[arg(long, value_name = "SPEC")]
    pub config: Option<PathBuf>,
    /// Why, recorded in the CIB with who and when (at most 256 bytes of printable text).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Ask {
    Cluster(Option<Override>),
    /// A node as given (resolved against the spec later) and its weight (`None`: clear).
    Node(String, Option<u32>),
}

/// Reads the positional arguments; refuses what cannot be meant (before anything is read).
fn ask(a: &Args) -> Result<Ask, Failure> {
    let usage = |m: String| Failure::Usage(m);
    let ask = match (a.what.as_str(), a.weight.as_deref()) {
        ("up", None) => Ask::Cluster(Some(Override::Up)),
        ("down", None) => Ask::Cluster(Some(Override::Down)),
        ("clear", None) => Ask::Cluster(None),
        (other, None) => {
            return Err(usage(format!(
                "expected up, down or clear (the whole cluster), or a NODE then its WEIGHT or \
                 clear, not {}",
                crate::text::quoted(other, 64)
            )))
        }
        (node, Some("clear")) => Ask::Node(node.to_string(), None),
        (node, Some(w)) => match parse_weight(w) {
            Some(w) => Ask::Node(node.to_string(), Some(w)),
            None => {
                return Err(usage(format!(
                    "expected a weight 0–{} or clear for node {node}, not {}",
                    spec::MAX_WEIGHT,
                    crate::text::quoted(w, 64)
                )))
            }
        },
    };
    let clears = matches!(ask, Ask::Cluster(None) | Ask::Node(_, None));
    if clears && a.reason.is_some() {
        return Err(usage(
            "--reason is for setting an override (clear removes the record)".into(),
        ));
    }
    Ok(ask)
}

pub fn run(a: &Args) -> OcfCode {
    finish("override", apply(a).map(|()| OcfCode::Success))
}

fn apply(a: &Args) -> Result<(), Failure> {
    let cluster = a.cluster.as_str();
    let ask = ask(a)?;
    let reason = a.reason.as_deref().unwrap_or("");
    cib_drain::check_reason(reason)?;
    let spec = cluster_spec(cluster, a.config.as_deref())?;
    let before = match cib_drain::read_set(cluster) {
        Ok(s) => s,
        Err(CibError::Unreachable(why)) => {
            let (up, down) = (
                overrides::up_path(&spec.override_dir, cluster),
                overrides::down_path(&spec.override_dir, cluster),
            );
            return Err(Failure::Cib(CibError::Unreachable(format!(
                "{why}; an override for every director lives in the CIB (run this on a cluster \
                 node, or with CIB_file=); this director's own override files are {} and {}",
                up.display(),
                down.display()
            ))));
        }
        Err(e) => return Err(e.into()),
    };
    match ask {
        Ask::Cluster(state) => cluster_override(cluster, &spec, &before, state, reason),
        Ask::Node(given, weight) => {
            let id = match node_of(&spec, &given) {
                Ok(n) => {
                    if let Some(w) = weight.filter(|w| *w > n.max_weight) {
                        return Err(Failure::Usage(format!(
                            "{cluster}: weight {w} is above node {}'s max_weight {}; expected \
                             0–{}",
                            n.id(),
                            n.max_weight,
                            n.max_weight
                        )));
                    }
                    n.id()
                }
                // Clear a node removed from the spec since its override was set.
                Err(_)
                    if weight.is_none()
                        && before
                            .value(&cib_drain::override_name(Some(&given)))
                            .is_some() =>
                {
                    given
                }
                Err(e) => return Err(Failure::Usage(format!("{cluster}: {e}"))),
            };
            node_override(cluster, &before, &id, weight, reason)
        }
    }
}

/// The spec's node `given` names, or why none.
fn node_of<'a>(spec: &'a Spec, given: &str) -> Result<&'a spec::Node, String> {
    let ids: Vec<String> = spec.nodes.iter().map(spec::Node::id).collect();
    let id = resolve(&ids, given)?;
    spec.nodes
        .iter()
        .find(|n| &n.id() == id)
        .ok_or_else(|| format!("no node {id}"))
}

/// ` by … at …: reason` of a record.
fn stamp(r: &Record) -> String {
    format!(
        "by {} at {}{}",
        r.by,
        r.at,
        super::drain::reason_text(&r.reason)
    )
}

fn cluster_override(
    cluster: &str,
    spec: &Spec,
    before: &CibSet,
    state: Option<Override>,
    reason: &str,
) -> Result<(), Failure> {
    let name = cib_drain::override_name(None);
    let set = cib_drain::set_id(cluster);
    let old = before.overrides.cluster.as_ref();
    match state {
        Some(s) => {
            if let Some(o) =
                old.filter(|o| o.state == s && (reason.is_empty() || o.record.reason == reason))
            {
                println!(
                    "{cluster}: override {} was already set cluster-wide ({})",
                    s.as_str(),
                    stamp(&o.record)
                );
            } else {
                let record = Record::now("", reason);
                cib_drain::put(
                    cluster,
                    before,
                    &name,
                    &cib_override::cluster_value(s, &record),
                )?;
                println!(
                    "{cluster}: override {} on every director (CIB {set}, {}): every node {} within a check interval; a drained node or one with its own override keeps it",
                    s.as_str(),
                    stamp(&record),
                    match s {
                        Override::Up => "at its full weight",
                        Override::Down => "at weight 0",
                    }
                );
            }
        }
        None if old.is_some() || before.value(&name).is_some() => {
            cib_drain::delete(cluster, &name)?;
            println!(
                "{cluster}: override lifted on every director (CIB {set}): weights follow health again (from 0 after a down, ramping up)"
            );
        }
        None => println!("{cluster}: no cluster-wide override in the CIB"),
    }
    // This director's files are not the CIB's business, but they decide with it: say so.
    let mut files = overrides::Watch::new(&spec.override_dir, cluster);
    let (local, _) = files.poll();
    if let Some(l) = local.state {
        let (up, down) = files.paths();
        let path = if l == Override::Up { up } else { down };
        println!(
            "{cluster}: note: this director's override file {} says {} too (up wins when both are set; remove the file to leave it to the CIB)",
            path.display(),
            l.as_str()
        );
    }
    Ok(())
}

fn node_override(
    cluster: &str,
    before: &CibSet,
    id: &str,
    weight: Option<u32>,
    reason: &str,
) -> Result<(), Failure> {
    let name = cib_drain::override_name(Some(id));
    let set = cib_drain::set_id(cluster);
    let old = before.overrides.nodes.get(id);
    match weight {
        Some(w) => {
            if let Some(o) =
                old.filter(|o| o.weight == w && (reason.is_empty() || o.record.reason == reason))
            {
                println!(
                    "{cluster}: {id} was already at weight {w} cluster-wide ({})",
                    stamp(&o.record)
                );
            } else {
                let record = Record::now(id, reason);
                cib_drain::put(
                    cluster,
                    before,
                    &name,
                    &cib_override::node_value(w, &record),
                )?;
                println!(
                    "{cluster}: {id} at weight {w} on every director (CIB {set}, {}) within a check interval, whatever its checks say; a drain still wins",
                    stamp(&record)
                );
            }
        }
        None if old.is_some() || before.value(&name).is_some() => {
            cib_drain::delete(cluster, &name)?;
            println!(
                "{cluster}: {id}'s override lifted on every director (CIB {set}): its weight follows its health again"
            );
        }
        None => println!("{cluster}: {id} has no override in the CIB"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(what: &str, weight: Option<&str>, reason: Option<&str>) -> Args {
        Args {
            cluster: "web".into(),
            what: what.into(),
            weight: weight.map(str::to_string),
            config: None,
            reason: reason.map(str::to_string),
        }
    }

    #[test]
    fn the_arguments_say_what_to_force() {
        assert_eq!(
            ask(&args("down", None, Some("r"))).unwrap(),
            Ask::Cluster(Some(Override::Down))
        );
        assert_eq!(
            ask(&args("up", None, None)).unwrap(),
            Ask::Cluster(Some(Override::Up))
        );
        assert_eq!(ask(&args("clear", None, None)).unwrap(), Ask::Cluster(None));
        assert_eq!(
            ask(&args("10.0.0.1", Some("40"), None)).unwrap(),
            Ask::Node("10.0.0.1".into(), Some(40))
        );
        assert_eq!(
            ask(&args("10.0.0.1", Some("clear"), None)).unwrap(),
            Ask::Node("10.0.0.1".into(), None)
        );
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        for (a, says) in [
            (args("sideways", None, None), "expected up, down or clear"),
            (args("10.0.0.1", None, None), "or a NODE then its WEIGHT"),
            (
                args("10.0.0.1", Some("65536"), None),
                "expected a weight 0–65535 or clear",
            ),
            (args("10.0.0.1", Some("-1"), None), "not \"-1\""),
            (args("clear", None, Some("x")), "--reason is for setting"),
            (
                args("10.0.0.1", Some("clear"), Some("x")),
                "--reason is for setting",
            ),
        ] {
            match ask(&a) {
                Err(Failure::Usage(m)) => assert!(m.contains(says), "{m}"),
                other => panic!("{a:?}: {other:?}"),
            }
        }
    }
}
