//! `big_brother drain CLUSTER NODE` / `undrain CLUSTER NODE`: force a node to weight 0 for
//! maintenance and bring it back — the balancer-side twin of `litmusctl force down`.
//!
//! The node is checked against the cluster's spec (so a typo never drains nothing), then
//! recorded in the persistent drain file (see `supervisor::drain`). The running supervisor
//! notices within one tick; one that starts later reads it at start. Undraining a node that is no
//! longer in the spec is allowed, to clean up. `drain --wait` then waits for the node's
//! connections on this director (`super::drain_wait`).

use std::path::{Path, PathBuf};

use super::code::{finish, Failure};
use crate::exit::OcfCode;
use crate::spec::{self, defaults};
use crate::state::drain;

/// The spec of `cluster`: `config`, or `/etc/big_brother/<cluster>.toml`.
pub fn spec_path(cluster: &str, config: Option<&Path>) -> PathBuf {
    config.map_or_else(
        || Path::new(defaults::CONFIG_DIR).join(format!("{cluster}.toml")),
        Path::to_path_buf,
    )
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
    /// drain only: then wait until the node is at weight 0 with no active connection in this
    /// director's IPVS table (exit 0), at most DURATION (`30s`, `5m`; exit 1 with the count
    /// left). Exit 7 when the cluster does not run on this director.
    #[arg(long, value_name = "DURATION", value_parser = super::drain_wait::parse_wait)]
    pub wait: Option<std::time::Duration>,
}

pub fn run(a: &Args, drain_it: bool) -> OcfCode {
    let verb = if drain_it { "drain" } else { "undrain" };
    if a.wait.is_some() && !drain_it {
        return finish(
            verb,
            Err(Failure::Usage(
                "--wait is for drain (undrain has nothing to wait for)".into(),
            )),
        );
    }
    finish(
        verb,
        drain(&a.cluster, &a.node, a.config.as_deref(), drain_it, a.wait)
            .map(|()| OcfCode::Success),
    )
}

fn drain(
    cluster: &str,
    node: &str,
    config: Option<&Path>,
    drain_it: bool,
    wait: Option<std::time::Duration>,
) -> Result<(), Failure> {
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
    let path = drain::path(cluster);
    let ids: Vec<String> = spec.nodes.iter().map(spec::Node::id).collect();
    let id = match resolve(&ids, node) {
        Ok(id) => id.clone(),
        // Undrain a node removed from the spec since it was drained.
        Err(_) if !drain_it && drain::load(&path).is_ok_and(|set| set.contains(node)) => {
            node.to_string()
        }
        Err(e) => return Err(Failure::Usage(format!("{cluster}: {e}"))),
    };
    let changed = drain::update(&path, &id, drain_it)?;
    let what = match (drain_it, changed) {
        (true, true) => {
            "drained: weight 0 from the supervisor's next tick; existing connections finish"
        }
        (true, false) => "was already drained",
        (false, true) => "undrained: it ramps up from 0 once its checks are good",
        (false, false) => "was not drained",
    };
    println!("{cluster}: {id} {what} ({})", path.display());
    if spec.standby == spec::Standby::Warm && changed {
        // Operator state is per host until it becomes cluster-wide (issue 15); a warm
        // standby that takes over would otherwise serve the node again.
        println!(
            "{cluster}: note: standby = \"warm\": big_brother runs on every director and this file is this director's only; run `big_brother {}drain {cluster} {id}` on every director",
            if drain_it { "" } else { "un" }
        );
    }
    if let Some(limit) = wait {
        let (Ok(key), Some(n)) = (spec.runnable(), spec.nodes.iter().find(|n| n.id() == id)) else {
            return Err(Failure::Usage(format!(
                "{cluster}: --wait needs a runnable spec with node {id}"
            )));
        };
        super::drain_wait::wait(cluster, &id, *key, (n.address, n.real_port), limit)?;
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
