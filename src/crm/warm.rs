//! The warm-standby shape (`standby = "warm"`): the big_brother primitive `ipvs_<name>` runs
//! on every director as the clone `ipvs_<name>_clone` (`interleave=true`), and the group
//! `<name>_group` holds only the VIPs, colocated with the clone (INFINITY: a VIP only where
//! IPVS and its checks already run) and ordered after it (the service is programmed before a
//! VIP attracts traffic, and on a fresh start the VIP waits for it). A failover then moves only
//! the VIPs: the new director's service and weights are already there.
//!
//! The primitive and the VIP primitives are the cold group's own elements (same ids, same ops),
//! so a switch between the shapes keeps the ids operators and constraints know, and Pacemaker
//! sees the same resources moving between containers.

use std::path::Path;

use super::generate::{group_id, ipvs_primitive, nvpair, vip_primitive};
use super::xml::Element;
use crate::spec::Spec;

/// Pacemaker id of a warm cluster's clone.
pub fn clone_id(name: &str) -> String {
    format!("ipvs_{name}_clone")
}

/// Pacemaker id of the colocation constraint (VIP group with the clone).
pub fn colocation_id(name: &str) -> String {
    format!("colocation_{}_{}", group_id(name), clone_id(name))
}

/// Pacemaker id of the order constraint (clone, then VIP group).
pub fn order_id(name: &str) -> String {
    format!("order_{}_{}", clone_id(name), group_id(name))
}

/// `<clone id="ipvs_<name>_clone">` around the big_brother primitive, its meta attributes
/// first as crmsh writes them. `interleave=true`: an
/// instance depends only on the instances of other clones on its own node (the sync clone), so
/// a restart on one director never restarts another director's instance.
pub fn clone(spec: &Spec, config_dir: Option<&Path>) -> Element {
    let id = clone_id(&spec.name);
    Element::new("clone")
        .attr("id", id.as_str())
        .child(
            Element::new("meta_attributes")
                .attr("id", format!("{id}_meta"))
                .child(nvpair(&format!("{id}_interleave"), "interleave", "true")),
        )
        .child(ipvs_primitive(spec, config_dir))
}

/// `<group id="<name>_group">` of the VIPs only (with the spec's description).
pub fn vip_group(spec: &Spec) -> Element {
    let mut g = Element::new("group");
    if let Some(d) = &spec.description {
        g = g.attr("description", d.as_str());
    }
    g = g.attr("id", group_id(&spec.name));
    for v in &spec.vips {
        g = g.child(vip_primitive(v, &spec.ops.vip));
    }
    g
}

/// The colocation and order constraints tying the VIP group to the clone.
pub fn constraints(name: &str) -> Vec<Element> {
    let (group, clone) = (group_id(name), clone_id(name));
    vec![
        Element::new("rsc_colocation")
            .attr("id", colocation_id(name))
            .attr("rsc", group.as_str())
            .attr("score", "INFINITY")
            .attr("with-rsc", clone.as_str()),
        Element::new("rsc_order")
            .attr("first", clone.as_str())
            .attr("id", order_id(name))
            .attr("kind", "Mandatory")
            .attr("then", group.as_str()),
    ]
}
