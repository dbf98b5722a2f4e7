//! `big_brother drain CLUSTER NODE` / `undrain CLUSTER NODE`: force a node to weight 0 for
//! maintenance and bring it back — the balancer-side twin of `litmusctl force down`.
//!
//! The node is checked against the cluster's spec (so a typo never drains nothing), then
//! recorded where every director sees it: the Pacemaker CIB (`state::cib_drain`, with who, when
//! and why), read by each supervisor within a check interval. `--local`, or a machine with no
//! Pacemaker CIB, keeps the drain in this director's drain file instead (`state::drain`, the
//! only place before issue 15); supervisors apply both. Draining a node that is drained in the
//! local file moves it to the CIB; undrain lifts it from both. Undraining a node that is no
//! longer in the spec is allowed, to clean up. `drain --wait` then waits for the node's
//! connections on this director (`super::drain_wait`). `super::overrides` shares the spec and
//! node lookups.

use std::path::{Path, PathBuf};

use super::code::{finish, Failure};
use crate::exit::OcfCode;
use crate::spec::{self, defaults};
use crate::state::cib_drain::{self, CibError};
use crate::state::drain;

/// The spec of `cluster`: `config`, or `/etc/big_brother/<cluster>.toml`.
pub fn spec_path(cluster: &str, config: Option<&Path>) -> PathBuf {
    config.map_or_else(
        || Path::new(defaults::CONFIG_DIR).join(format!("{cluster}.toml")),
        Path::to_path_buf,
    )
}

/// The spec of `cluster` (see [`spec_path`]), which must name that cluster.
pub fn cluster_spec(cluster: &str, config: Option<&Path>) -> Result<spec::Spec, Failure> {
    let file = spec_path(cluster, config);
    let spec = spec::load(&file)?;
    if spec.name != cluster {
        return Err(Failure::Spec(spec::SpecError::Unfit {
            expected: format!(
                "name {cluster:?} (the CLUSTER argument), not {:?}",
                spec.name
            ),
            file,
        }));
    }
    Ok(spec)
}

/// The node id `given` names in `ids`: an exact id, or an address that names exactly one node.
pub fn resolve<'a>(ids: &'a [String], given: &str) -> Result<&'a String, String> {
    if let Some(id) = ids.iter().find(|id| *id == given) {
        return Ok(id);
    }
    let by_address: Vec<&String> = ids
        .iter()
        .filter(|id| {
            let addr = id
                .strip_prefix('[')
                .and_then(|r| r.split_once("]:").map(|(a, _)| a))
                .or_else(|| {
                    id.rsplit_once(':')
                        .filter(|(a, _)| !a.contains(':'))
                        .map(|(a, _)| a)
                })
                .unwrap_or(id);
            addr == given
        })
        .collect();
    match by_address.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "expected one of the cluster's nodes ({}), not {given:?}",
            ids.join(", ")
        )),
        many => Err(format!(
            "{given} is several nodes ({}); name one with its port",
            many.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// `big_brother drain` / `undrain` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    pub cluster: String,
    /// The node's id as `status` shows it (its address, or address:port).
    pub node: String,
    /// The cluster's spec (default /etc/big_brother/CLUSTER.toml).
    #[arg(long, value_name = "SPEC")]
    pub config: Option<PathBuf>,
    /// drain only: why, recorded in the CIB with who and when (at most 256 bytes of printable
    /// text).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// This director only: the drain file in /var/lib/big_brother/CLUSTER/drain instead of the
    /// Pacemaker CIB (undrain --local lifts only that one).
    #[arg(long)]
    pub local: bool,
    /// drain only: then wait until the node is at weight 0 with no active connection in this
    /// director's IPVS table (exit 0), at most DURATION (`30s`, `5m`; exit 1 with the count
    /// left). Exit 7 when the cluster does not run on this director.
    #[arg(long, value_name = "DURATION", value_parser = super::drain_wait::parse_wait)]
    pub wait: Option<std::time::Duration>,
}

pub fn run(a: &Args, drain_it: bool) -> OcfCode {
    let verb = if drain_it { "drain" } else { "undrain" };
    let misuse = match (drain_it, a.wait.is_some(), a.reason.is_some()) {
        (false, true, _) => Some("--wait is for drain (undrain has nothing to wait for)"),
        (false, _, true) => Some("--reason is for drain (an undrain removes the record)"),
        _ => None,
    };
    if let Some(m) = misuse {
        return finish(verb, Err(Failure::Usage(m.into())));
    }
    finish(verb, drain(a, drain_it).map(|()| OcfCode::Success))
}

/// Where a drain was recorded.
enum Store {
    /// The CIB, with what it held for the cluster before.
    Cib(cib_drain::CibSet),
    /// This director's file; `why` says why not the CIB (`None`: `--local` asked for it).
    Local { why: Option<String> },
}

fn drain(a: &Args, drain_it: bool) -> Result<(), Failure> {
    let cluster = a.cluster.as_str();
    // Bad input is refused before anything is read or written.
    let reason = a.reason.as_deref().unwrap_or("");
    cib_drain::check_reason(reason)?;
    let spec = cluster_spec(cluster, a.config.as_deref())?;
    let path = drain::path(cluster);
    let store = if a.local {
        Store::Local { why: None }
    } else {
        match cib_drain::read_set(cluster) {
            Ok(d) => Store::Cib(d),
            Err(CibError::Unreachable(why)) => Store::Local { why: Some(why) },
            Err(e) => return Err(e.into()),
        }
    };
    let ids: Vec<String> = spec.nodes.iter().map(spec::Node::id).collect();
    let id = match resolve(&ids, &a.node) {
        Ok(id) => id.clone(),
        // Undrain a node removed from the spec since it was drained.
        Err(_)
            if !drain_it
                && (drain::load(&path).is_ok_and(|set| set.contains(&a.node))
                    || matches!(&store, Store::Cib(s) if s.drains.contains_key(&a.node))) =>
        {
            a.node.clone()
        }
        Err(e) => return Err(Failure::Usage(format!("{cluster}: {e}"))),
    };
    match store {
        Store::Cib(before) => in_cib(cluster, &id, drain_it, reason, &before, &path)?,
        Store::Local { why } => {
            if let Some(why) = why {
                println!(
                    "{cluster}: note: {why}; the drain is kept on this director only (use this command on a cluster node to drain it on every director)"
                );
            }
            in_file(cluster, &id, drain_it, &path, spec.standby)?;
        }
    }
    if let Some(limit) = a.wait {
        let (Ok(key), Some(n)) = (spec.runnable(), spec.nodes.iter().find(|n| n.id() == id)) else {
            return Err(Failure::Usage(format!(
                "{cluster}: --wait needs a runnable spec with node {id}"
            )));
        };
        super::drain_wait::wait(cluster, &id, *key, (n.address, n.real_port), limit)?;
    }
    Ok(())
}

/// A drain or undrain in the CIB; a drain of the same node in this director's file is moved
/// (drain) or lifted (undrain) too, so one command leaves one record.
fn in_cib(
    cluster: &str,
    id: &str,
    drain_it: bool,
    reason: &str,
    before: &cib_drain::CibSet,
    path: &Path,
) -> Result<(), Failure> {
    let local = drain::load(path).is_ok_and(|set| set.contains(id));
    let set = cib_drain::set_id(cluster);
    if drain_it {
        match before.drains.get(id) {
            Some(r) if r.reason == reason || reason.is_empty() => println!(
                "{cluster}: {id} was already drained cluster-wide (by {} at {}{})",
                r.by,
                r.at,
                reason_text(&r.reason)
            ),
            _ => {
                let record = cib_drain::Record::now(id, reason);
                cib_drain::write(cluster, before, &record)?;
                println!(
                    "{cluster}: {id} drained on every director (CIB {set}, by {} at {}{}): weight 0 within a check interval; existing connections finish",
                    record.by,
                    record.at,
                    reason_text(reason)
                );
            }
        }
        if local {
            drain::update(path, id, false)?;
            println!(
                "{cluster}: {id}: moved from this director's drain file ({}) to the CIB",
                path.display()
            );
        }
    } else {
        if before.drains.contains_key(id) {
            cib_drain::remove(cluster, id)?;
            println!(
                "{cluster}: {id} undrained on every director (CIB {set}): it ramps up from 0 once its checks are good"
            );
        } else if !local {
            println!("{cluster}: {id} was not drained");
        }
        if local {
            drain::update(path, id, false)?;
            println!(
                "{cluster}: {id} undrained on this director ({})",
                path.display()
            );
        }
    }
    Ok(())
}

/// `: reason`, or nothing for an empty one.
pub fn reason_text(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    }
}

/// A drain or undrain in this director's file (`--local`, or no CIB here).
fn in_file(
    cluster: &str,
    id: &str,
    drain_it: bool,
    path: &Path,
    standby: spec::Standby,
) -> Result<(), Failure> {
    let changed = drain::update(path, id, drain_it)?;
    let what = match (drain_it, changed) {
        (true, true) => {
            "drained: weight 0 from the supervisor's next tick; existing connections finish"
        }
        (true, false) => "was already drained",
        (false, true) => "undrained: it ramps up from 0 once its checks are good",
        (false, false) => "was not drained",
    };
    println!("{cluster}: {id} {what} ({})", path.display());
    if standby == spec::Standby::Warm && changed {
        // A warm standby that takes over would otherwise serve the node again.
        println!(
            "{cluster}: note: standby = \"warm\": big_brother runs on every director and this file is this director's only; run `big_brother {}drain {cluster} {id}` on every director",
            if drain_it { "" } else { "un" }
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_ids_and_unique_addresses() {
        let ids: Vec<String> = ["10.0.0.1", "10.0.0.2:80", "10.0.0.2:81", "[2001:db8::1]:80"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(resolve(&ids, "10.0.0.1").unwrap(), "10.0.0.1");
        assert_eq!(resolve(&ids, "10.0.0.2:81").unwrap(), "10.0.0.2:81");
        assert_eq!(resolve(&ids, "2001:db8::1").unwrap(), "[2001:db8::1]:80");
        let e = resolve(&ids, "10.0.0.2").unwrap_err();
        assert!(e.contains("several nodes"), "{e}");
        let e = resolve(&ids, "10.0.0.9").unwrap_err();
        assert!(
            e.starts_with("expected one of the cluster's nodes (10.0.0.1,"),
            "{e}"
        );
    }
}
