//! One cluster's part of the CIB, whatever its shape: what `generate` prints and what `check`,
//! `apply` and `remove` own. Cold (the default): the talk's group `<name>_group`. Warm: the
//! clone `ipvs_<name>_clone`, the VIP group `<name>_group`, and two constraints (`warm`).
//!
//! The live side is found by the ids of *both* shapes, so a cold spec sees a warm cluster's
//! leftovers (and the reverse) as differences, and `apply` switches shapes in one write.

use std::path::Path;

use super::generate::{self, group_id, Format};
use super::sync;
use super::warm;
use super::xml::Element;
use crate::ipvs::SyncConfig;
use crate::spec::{Spec, Standby};

/// Everything `crm` manages for one cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    pub name: String,
    /// Children of `<resources>`: `[group]` (cold) or `[clone, group]` (warm).
    pub resources: Vec<Element>,
    /// Children of `<constraints>`: none (cold) or `[colocation, order]` (warm).
    pub constraints: Vec<Element>,
}

impl Unit {
    /// The unit `spec` should have in the CIB (`config_dir` as in [`generate::group`]).
    pub fn of(spec: &Spec, config_dir: Option<&Path>) -> Unit {
        let name = spec.name.clone();
        match spec.standby {
            Standby::Cold => Unit {
                name,
                resources: vec![generate::group(spec, config_dir)],
                constraints: Vec::new(),
            },
            Standby::Warm => Unit {
                constraints: warm::constraints(&name),
                resources: vec![warm::clone(spec, config_dir), warm::vip_group(spec)],
                name,
            },
        }
    }

    pub fn group_id(&self) -> String {
        group_id(&self.name)
    }

    pub fn is_warm(&self) -> bool {
        self.resources.iter().any(|e| e.name == "clone")
    }

    /// The resources, then the constraints, in the order they are compared and printed.
    pub fn elements(&self) -> Vec<&Element> {
        self.resources.iter().chain(&self.constraints).collect()
    }

    /// The id the sync clone's order names as `then`: what must start after the sync daemons.
    pub fn sync_then(&self) -> String {
        if self.is_warm() {
            warm::clone_id(&self.name)
        } else {
            self.group_id()
        }
    }
}

/// Ids of the top-level resources a cluster `name` may own, in either shape.
pub fn resource_ids(name: &str) -> [String; 2] {
    [warm::clone_id(name), group_id(name)]
}

/// Ids of the constraints a cluster `name` may own (warm only).
pub fn constraint_ids(name: &str) -> [String; 2] {
    [warm::colocation_id(name), warm::order_id(name)]
}

/// What of cluster `name` is in `config` (the live `<configuration>`), in the order of
/// [`Unit::elements`]: the clone and the group (anywhere below `<resources>`), then the two
/// constraints. Empty when none is there.
pub fn live<'a>(config: &'a Element, name: &str) -> Vec<&'a Element> {
    let mut out = Vec::new();
    if let Some(res) = config.first("resources") {
        let [clone, group] = resource_ids(name);
        out.extend(res.find("clone", &clone));
        out.extend(res.find("group", &group));
    }
    if let Some(cons) = config.first("constraints") {
        for id in constraint_ids(name) {
            out.extend(cons.elements().find(|c| c.id() == Some(id.as_str())));
        }
    }
    out
}

/// Why specs cannot be printed in a format.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("{0}: standby = \"warm\" needs --format cib (its colocation and order constraints live outside <resources>)")]
    WarmNeedsCib(String),
}

/// The text `crm generate` prints: `format` for every spec, plus the connection-sync clone and
/// its orders when `sync` is given (then only `cib` can hold them, which the caller checks).
pub fn render(
    specs: &[Spec],
    config_dir: Option<&Path>,
    format: Format,
    sync: Option<&SyncConfig>,
) -> Result<String, RenderError> {
    let units: Vec<Unit> = specs.iter().map(|s| Unit::of(s, config_dir)).collect();
    if format != Format::Cib {
        if let Some(u) = units.iter().find(|u| u.is_warm()) {
            return Err(RenderError::WarmNeedsCib(u.name.clone()));
        }
    }
    let resources: Vec<Element> = units.iter().flat_map(|u| u.resources.clone()).collect();
    Ok(match format {
        Format::Group => resources.iter().map(Element::to_pretty).collect(),
        Format::Resources => generate::wrap(resources).to_pretty(),
        Format::Cib => {
            let mut res = generate::wrap(resources);
            let mut constraints: Vec<Element> =
                units.iter().flat_map(|u| u.constraints.clone()).collect();
            if let Some(s) = sync {
                res = res.child(sync::clone_element(s));
                constraints.extend(units.iter().map(|u| sync::order(&u.sync_then())));
            }
            let mut conf = Element::new("configuration").child(res);
            // The talk's `cib` document has no <constraints>; it appears only when needed.
            if !constraints.is_empty() {
                conf = conf.child(
                    constraints
                        .into_iter()
                        .fold(Element::new("constraints"), Element::child),
                );
            }
            Element::new("cib").child(conf).to_pretty()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::xml;
    use crate::spec;
    use std::collections::BTreeSet;

    fn parse(text: &str) -> Spec {
        spec::parse(Path::new("t.toml"), text).unwrap()
    }

    const WARM: &str = "name = \"w\"\ndescription = \"W\"\nstandby = \"warm\"\nfwmark = 7\n[[vip]]\naddress = \"192.0.2.7\"\n[[vip]]\naddress = \"192.0.2.8\"\n[[node]]\naddress = \"198.51.100.1\"\nport = 80\n";

    #[test]
    fn cold_is_the_group_alone() {
        let cold = parse(&WARM.replace("standby = \"warm\"\n", ""));
        let u = Unit::of(&cold, None);
        assert!(!u.is_warm());
        assert_eq!(u.resources, vec![generate::group(&cold, None)]);
        assert!(u.constraints.is_empty());
        assert_eq!(u.sync_then(), "w_group");
        for f in [Format::Group, Format::Resources, Format::Cib] {
            assert_eq!(
                render(std::slice::from_ref(&cold), None, f, None).unwrap(),
                generate::render_all(std::slice::from_ref(&cold), None, f)
            );
        }
    }

    #[test]
    fn warm_is_a_clone_a_vip_group_and_two_constraints() {
        let spec = parse(WARM);
        let u = Unit::of(&spec, None);
        assert!(u.is_warm());
        let ids: Vec<&str> = u.elements().into_iter().filter_map(Element::id).collect();
        assert_eq!(
            ids,
            vec![
                "ipvs_w_clone",
                "w_group",
                "colocation_w_group_ipvs_w_clone",
                "order_ipvs_w_clone_w_group"
            ]
        );
        let clone = &u.resources[0];
        assert_eq!(clone.first("primitive").unwrap().id(), Some("ipvs_w"));
        assert!(clone.to_pretty().contains(
            "<nvpair id=\"ipvs_w_clone_interleave\" name=\"interleave\" value=\"true\"/>"
        ));
        let group = &u.resources[1];
        assert_eq!(group.get("description"), Some("W"));
        let members: Vec<&str> = group.elements().filter_map(Element::id).collect();
        assert_eq!(members, vec!["ip_192.0.2.7", "ip_192.0.2.8"]);
        assert_eq!(
            u.constraints[0].to_pretty(),
            "<rsc_colocation id=\"colocation_w_group_ipvs_w_clone\" rsc=\"w_group\" score=\"INFINITY\" with-rsc=\"ipvs_w_clone\"/>\n"
        );
        assert_eq!(
            u.constraints[1].to_pretty(),
            "<rsc_order first=\"ipvs_w_clone\" id=\"order_ipvs_w_clone_w_group\" kind=\"Mandatory\" then=\"w_group\"/>\n"
        );
        // Every id once, and the primitives are the cold group's own.
        let all: Vec<&str> = u.elements().into_iter().flat_map(Element::ids).collect();
        assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), all.len());
        let cold = generate::group(&parse(&WARM.replace("standby = \"warm\"\n", "")), None);
        for p in cold.elements() {
            let id = p.id().unwrap();
            assert_eq!(
                clone.find("primitive", id).or(group.find("primitive", id)),
                Some(p)
            );
        }
    }

    #[test]
    fn warm_renders_only_as_cib_and_sync_follows_the_clone() {
        let spec = parse(WARM);
        assert_eq!(
            render(std::slice::from_ref(&spec), None, Format::Group, None),
            Err(RenderError::WarmNeedsCib("w".into()))
        );
        let sync = SyncConfig::new("eth1", 1);
        let text = render(&[spec], None, Format::Cib, Some(&sync)).unwrap();
        let cib = xml::parse(&text).unwrap();
        let cons = cib
            .first("configuration")
            .unwrap()
            .first("constraints")
            .unwrap();
        let ids: Vec<&str> = cons.elements().filter_map(Element::id).collect();
        assert_eq!(
            ids,
            vec![
                "colocation_w_group_ipvs_w_clone",
                "order_ipvs_w_clone_w_group",
                "order_ipvs_sync_clone_ipvs_w_clone"
            ]
        );
        assert_eq!(
            cons.elements().last().unwrap().get("then"),
            Some("ipvs_w_clone")
        );
    }

    #[test]
    fn live_finds_both_shapes_by_id() {
        let spec = parse(WARM);
        let u = Unit::of(&spec, None);
        let conf = Element::new("configuration")
            .child(generate::wrap(u.resources.clone()))
            .child(
                u.constraints
                    .iter()
                    .cloned()
                    .fold(Element::new("constraints"), Element::child),
            );
        let found: Vec<Element> = live(&conf, "w").into_iter().cloned().collect();
        let wanted: Vec<Element> = u.elements().into_iter().cloned().collect();
        assert_eq!(found, wanted);
        assert!(live(&conf, "other").is_empty());
    }
}
