//! What `apply` and `remove` write for a cluster whose CIB part is more than the talk's group:
//! a warm cluster (clone, VIP group, two constraints), or a switch between the shapes. Always
//! one `cibadmin --patch` (computed from an edited copy of the CIB), because resources and
//! constraints must change together: a constraint naming a resource not (yet) there fails the
//! schema, and a clone without its colocation would start the VIPs anywhere.
//!
//! The rules are the group's (`plan`): ids the spec needs must not be used outside this
//! cluster's elements; operator meta attributes are carried over per resource id (group,
//! clone, primitive) wherever the resource now lives; resources the spec dropped go with every
//! constraint and tag member naming them; a spec without VIPs never strips every VIP.

use std::collections::{BTreeMap, BTreeSet};

use super::diff::{self, is_resource, Comparison};
use super::plan::{carry_one, drop_refs, ids_outside, is_vip, references, PlanError, Refs};
use super::unit::{self, Unit};
use super::xml::{Element, Node};

/// The unit path's decision for one cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnitPlan {
    InSync,
    /// Write `unit` (generated + carried operator meta attributes).
    Write {
        unit: Unit,
        /// Unified diff, live → spec; `None` when nothing of the cluster was in the CIB.
        diff: Option<String>,
        kept_meta: Vec<String>,
        /// Resources (and primitives) in the CIB that the spec no longer has.
        dropped: Vec<String>,
        /// Other constraints and tag members naming `dropped`.
        refs: Refs,
    },
}

/// True when cluster `wanted` must go through this path: it is warm, or the CIB holds a warm
/// cluster's clone or constraints for it. Otherwise `plan::plan_apply` handles the group as it
/// always did (same writes, same messages).
pub fn needed(config: &Element, wanted: &Unit) -> bool {
    wanted.is_warm()
        || unit::live(config, &wanted.name)
            .iter()
            .any(|e| e.name != "group")
}

/// Compares the live part of cluster `wanted.name` with `wanted`.
pub fn compare(config: &Element, wanted: &Unit) -> Comparison {
    diff::compare_all(&unit::live(config, &wanted.name), &wanted.elements())
}

/// Decides what `apply` writes for `wanted` (`config` is the live `<configuration>`).
pub fn plan(config: &Element, wanted: &Unit) -> Result<UnitPlan, PlanError> {
    if config.first("resources").is_none() {
        return Err(PlanError::NoSection("resources"));
    }
    let gid = wanted.group_id();
    let live = unit::live(config, &wanted.name);
    let owned: BTreeSet<String> = owned_ids(&wanted.name);

    let mut outside = BTreeSet::new();
    // This cluster's own top-level elements (ids in `owned`) may be replaced by the unit.
    let mine = |e: &Element| {
        matches!(
            e.name.as_str(),
            "group" | "clone" | "rsc_colocation" | "rsc_order"
        ) && e.id().is_some_and(|id| owned.contains(id))
    };
    ids_outside(config, &mine, &mut outside);
    let clash: Vec<String> = wanted
        .elements()
        .into_iter()
        .flat_map(Element::ids)
        .filter(|id| outside.contains(*id))
        .map(str::to_string)
        .collect();
    if !clash.is_empty() {
        return Err(PlanError::IdClash {
            group: gid,
            ids: clash,
        });
    }

    let diff = match diff::compare_all(&live, &wanted.elements()) {
        Comparison::InSync => return Ok(UnitPlan::InSync),
        Comparison::Missing => None,
        Comparison::Differs { diff } => Some(diff),
    };
    let mut new = wanted.clone();
    let kept_meta = carry(&mut new.resources, &live);

    let keep: BTreeSet<&str> = new.resources.iter().flat_map(resource_ids).collect();
    let dropped: Vec<String> = live
        .iter()
        .filter(|e| is_resource(e))
        .flat_map(|e| resource_ids(e))
        .filter(|id| !keep.contains(id))
        .map(str::to_string)
        .collect();
    let vips_dropped: Vec<String> = live
        .iter()
        .flat_map(|e| e.elements())
        .filter(|e| is_vip(e))
        .filter_map(Element::id)
        .filter(|id| !keep.contains(id))
        .map(str::to_string)
        .collect();
    let wants_vips = new.resources.iter().any(|r| r.elements().any(is_vip));
    if !wants_vips && !vips_dropped.is_empty() {
        return Err(PlanError::WouldDropEveryVip {
            group: gid,
            vips: vips_dropped,
        });
    }
    let mut refs = references(config, &dropped.iter().map(String::as_str).collect());
    // This cluster's own constraints are replaced as part of the unit, not reported as refs.
    refs.constraints.retain(|c| !owned.contains(c));
    Ok(UnitPlan::Write {
        unit: new,
        diff,
        kept_meta,
        dropped,
        refs,
    })
}

/// What `remove` deletes for cluster `name`: everything of it in the CIB and every other
/// constraint and tag member naming one of its resources. `None` when nothing is there.
pub fn plan_remove(config: &Element, name: &str) -> Option<(Vec<String>, Refs)> {
    let live = unit::live(config, name);
    if live.is_empty() {
        return None;
    }
    let owned = owned_ids(name);
    let members: Vec<String> = live
        .iter()
        .filter(|e| is_resource(e))
        .flat_map(|e| resource_ids(e).into_iter().skip(1))
        .map(str::to_string)
        .collect();
    let mut ids: BTreeSet<&str> = members.iter().map(String::as_str).collect();
    ids.extend(owned.iter().map(String::as_str));
    let mut refs = references(config, &ids);
    refs.constraints.retain(|c| !owned.contains(c));
    Some((members, refs))
}

/// Every id a cluster's top-level elements may carry, in either shape.
fn owned_ids(name: &str) -> BTreeSet<String> {
    unit::resource_ids(name)
        .into_iter()
        .chain(unit::constraint_ids(name))
        .collect()
}

/// The ids of a resource and of the resources inside it (a clone's primitive, a group's
/// members), outermost first.
fn resource_ids(e: &Element) -> Vec<&str> {
    let mut out: Vec<&str> = e.id().into_iter().collect();
    for c in e.elements().filter(|c| is_resource(c)) {
        out.extend(resource_ids(c));
    }
    out
}

/// Carries operator meta attributes from the live resources (at any depth) to the new ones
/// with the same id, wherever they now sit. Returns them as `id name=value`.
fn carry(new: &mut [Element], live: &[&Element]) -> Vec<String> {
    let mut by_id: BTreeMap<&str, &Element> = BTreeMap::new();
    for e in live.iter().filter(|e| is_resource(e)) {
        index(e, &mut by_id);
    }
    let mut kept = Vec::new();
    for r in new.iter_mut() {
        carry_into(r, &by_id, &mut kept);
    }
    kept
}

fn index<'a>(e: &'a Element, by_id: &mut BTreeMap<&'a str, &'a Element>) {
    if let Some(id) = e.id() {
        by_id.insert(id, e);
    }
    for c in e.elements().filter(|c| is_resource(c)) {
        index(c, by_id);
    }
}

fn carry_into(e: &mut Element, by_id: &BTreeMap<&str, &Element>, kept: &mut Vec<String>) {
    if let Some(from) = e.id().and_then(|id| by_id.get(id)) {
        carry_one(e, from, kept);
    }
    for c in e.elements_mut().filter(|c| is_resource(c)) {
        carry_into(c, by_id, kept);
    }
}

/// A copy of the whole `<cib>` with cluster `name`'s elements replaced by `new` (deleted when
/// `None`) and `refs` removed. New resources take the place of the first old one (else go
/// last); new constraints go last.
pub fn edited_cib(
    cib: &Element,
    name: &str,
    new: Option<&Unit>,
    refs: &Refs,
) -> Result<Element, PlanError> {
    let owned = owned_ids(name);
    let mut out = cib.clone();
    let config = out
        .first_mut("configuration")
        .ok_or(PlanError::NoSection("configuration"))?;
    let resources = config
        .first_mut("resources")
        .ok_or(PlanError::NoSection("resources"))?;
    let at = resources.children.iter().position(|n| is_owned(n, &owned));
    remove_owned(resources, &owned);
    if let Some(u) = new {
        let nodes = u.resources.iter().cloned().map(Node::Element);
        match at {
            Some(i) => {
                let i = i.min(resources.children.len());
                resources.children.splice(i..i, nodes);
            }
            None => resources.children.extend(nodes),
        }
    }
    if config.first("constraints").is_none() {
        config
            .children
            .push(Node::Element(Element::new("constraints")));
    }
    if let Some(cons) = config.first_mut("constraints") {
        cons.children.retain(|n| !is_owned(n, &owned));
        if let Some(u) = new {
            cons.children
                .extend(u.constraints.iter().cloned().map(Node::Element));
        }
    }
    drop_refs(config, refs);
    Ok(out)
}

fn is_owned(n: &Node, owned: &BTreeSet<String>) -> bool {
    matches!(n, Node::Element(e) if e.id().is_some_and(|id| owned.contains(id)))
}

/// Removes this cluster's group and clone wherever they sit below `parent`.
fn remove_owned(parent: &mut Element, owned: &BTreeSet<String>) {
    parent.children.retain(|n| {
        !matches!(n, Node::Element(e) if matches!(e.name.as_str(), "group" | "clone")
            && e.id().is_some_and(|id| owned.contains(id)))
    });
    for c in parent.elements_mut() {
        remove_owned(c, owned);
    }
}
