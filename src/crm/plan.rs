//! What `apply` and `remove` will write, decided from a parsed CIB without touching it.
//!
//! `apply` compares the live group with the generated one ([`diff::compare`]); when it differs,
//! the new group keeps the operator's meta attributes (`target-role`, `is-managed`, in their
//! original `<meta_attributes>` blocks and ids) for the group and every primitive that survives,
//! so an operator's `target-role=Stopped` is not undone by the next Puppet run. Primitives the
//! spec dropped go, and so does everything that refers to them (constraints, tag members):
//! Pacemaker's schema types those references as IDREF, so a CIB that kept them would be refused.
//! `remove` drops the whole group the same way.
//!
//! Constraints are removed whole when they mention a removed resource, even inside a resource set
//! that also names others: editing someone else's set is riskier than asking them to re-add it,
//! and every removed constraint is printed.

use std::collections::BTreeSet;

use super::diff::{self, is_operator_nvpair, Comparison};
use super::xml::{Element, Node};

/// Constraint attributes that hold a resource id (`constraints-3.x.rng`).
const REF_ATTRS: &[&str] = &["rsc", "with-rsc", "first", "then"];

/// Things elsewhere in the configuration that name resources about to disappear.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refs {
    /// Ids of constraints (children of `<constraints>`) to delete.
    pub constraints: Vec<String>,
    /// `(tag id, referenced id)` of `<obj_ref>`s to delete from `<tags>`.
    pub tag_refs: Vec<(String, String)>,
}

impl Refs {
    pub fn is_empty(&self) -> bool {
        self.constraints.is_empty() && self.tag_refs.is_empty()
    }
}

/// What `apply` does for one group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Nothing: the live group is what the spec generates.
    InSync,
    /// The group is missing: create it as generated.
    Create { group: Element },
    /// The group differs: replace it with `group` (generated + carried meta attributes).
    Replace {
        group: Element,
        /// Unified diff, live → spec (normalised).
        diff: String,
        /// `id name=value` of each operator meta attribute carried over.
        kept_meta: Vec<String>,
        /// Primitives in the live group that the spec no longer has.
        dropped: Vec<String>,
        /// References to `dropped` that must go in the same write.
        refs: Refs,
    },
}

/// Why a plan cannot be carried out.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("{group}: ids {} already exist elsewhere in the CIB (outside {group}); rename or remove those resources first", ids.join(", "))]
    IdClash { group: String, ids: Vec<String> },
    #[error("the CIB has no <{0}> section")]
    NoSection(&'static str),
    #[error("{group}: the spec has no [[vip]], so applying it would take every VIP ({}) out of the running group; add the [[vip]] tables (an imported legacy spec has none), or remove the VIPs with `crm configure` first if that is really meant", vips.join(", "))]
    WouldDropEveryVip { group: String, vips: Vec<String> },
}

/// True for a VIP primitive (`ocf:heartbeat:IPaddr2`).
pub fn is_vip(e: &Element) -> bool {
    e.name == "primitive" && e.get("type") == Some("IPaddr2")
}

/// The live group with id `group_id` under `<resources>` of `config` (at any depth, so a group
/// inside a clone is found too).
pub fn live_group<'a>(config: &'a Element, group_id: &str) -> Option<&'a Element> {
    config.first("resources")?.find("group", group_id)
}

/// Decides what `apply` must write. `config` is the live `<configuration>`; `wanted` the
/// generated group.
pub fn plan_apply(config: &Element, wanted: &Element) -> Result<Plan, PlanError> {
    if config.first("resources").is_none() {
        return Err(PlanError::NoSection("resources"));
    }
    let gid = wanted.id().unwrap_or_default().to_string();
    let live = live_group(config, &gid);

    // Ids the new group brings must not be used outside the group it replaces.
    let mut outside = BTreeSet::new();
    ids_outside(
        config,
        &|e: &Element| e.name == "group" && e.id() == Some(gid.as_str()),
        &mut outside,
    );
    let clash: Vec<String> = wanted
        .ids()
        .into_iter()
        .filter(|id| outside.contains(*id))
        .map(str::to_string)
        .collect();
    if !clash.is_empty() {
        return Err(PlanError::IdClash {
            group: gid,
            ids: clash,
        });
    }

    match diff::compare(live, wanted) {
        Comparison::InSync => Ok(Plan::InSync),
        Comparison::Missing => Ok(Plan::Create {
            group: wanted.clone(),
        }),
        Comparison::Differs { diff } => {
            let live = live.ok_or(PlanError::NoSection("resources"))?;
            let mut group = wanted.clone();
            let kept_meta = carry_operator_meta(&mut group, live);
            let keep: BTreeSet<&str> = primitive_ids(&group).into_iter().collect();
            let dropped: Vec<String> = primitive_ids(live)
                .into_iter()
                .filter(|id| !keep.contains(id))
                .map(str::to_string)
                .collect();
            // A spec without VIPs (an imported legacy config) would silently strip a running
            // group of all its addresses: refuse that one case outright.
            let vips_dropped: Vec<String> = live
                .elements()
                .filter(|e| is_vip(e))
                .filter_map(Element::id)
                .filter(|id| !keep.contains(id))
                .map(str::to_string)
                .collect();
            if !group.elements().any(is_vip) && !vips_dropped.is_empty() {
                return Err(PlanError::WouldDropEveryVip {
                    group: gid,
                    vips: vips_dropped,
                });
            }
            let refs = references(config, &dropped.iter().map(String::as_str).collect());
            Ok(Plan::Replace {
                group,
                diff,
                kept_meta,
                dropped,
                refs,
            })
        }
    }
}

/// What `remove` deletes: the group, its members (listed for messages) and references to any
/// of them. `None` when the group is not in the CIB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemovePlan {
    pub members: Vec<String>,
    pub refs: Refs,
}

pub fn plan_remove(config: &Element, group_id: &str) -> Option<RemovePlan> {
    let live = live_group(config, group_id)?;
    let members: Vec<String> = primitive_ids(live)
        .into_iter()
        .map(str::to_string)
        .collect();
    let mut ids: BTreeSet<&str> = members.iter().map(String::as_str).collect();
    ids.insert(group_id);
    let refs = references(config, &ids);
    Some(RemovePlan { members, refs })
}

/// Ids of a group's direct primitive members, in order.
pub fn primitive_ids(group: &Element) -> Vec<&str> {
    group
        .elements()
        .filter(|e| e.name == "primitive")
        .filter_map(Element::id)
        .collect()
}

/// Every id in `e` outside the elements `mine` says belong to the cluster being written (whose
/// ids it may reuse): the group alone here, the whole unit in `unit_plan`.
pub fn ids_outside<'a>(
    e: &'a Element,
    mine: &impl Fn(&Element) -> bool,
    out: &mut BTreeSet<&'a str>,
) {
    if mine(e) {
        return;
    }
    if let Some(id) = e.id() {
        out.insert(id);
    }
    for c in e.elements() {
        ids_outside(c, mine, out);
    }
}

/// Appends the operator meta attributes of `live` (group and surviving primitives) to `group`,
/// each in a copy of its original `<meta_attributes>` block. Returns them as `id name=value`.
pub fn carry_operator_meta(group: &mut Element, live: &Element) -> Vec<String> {
    let mut kept = Vec::new();
    carry_one(group, live, &mut kept);
    for p in group.elements_mut().filter(|e| e.name == "primitive") {
        let Some(pid) = p.id().map(str::to_string) else {
            continue;
        };
        if let Some(lp) = live
            .elements()
            .find(|e| e.name == "primitive" && e.id() == Some(pid.as_str()))
        {
            carry_one(p, lp, &mut kept);
        }
    }
    kept
}

/// Copies the operator meta attributes of `from` onto `to`, in a block with the original id:
/// into `to`'s own block of that id when the generated element has one (a warm clone's
/// `interleave` block, where `crm_resource --meta` adds `target-role` too), else in a new copy.
pub fn carry_one(to: &mut Element, from: &Element, kept: &mut Vec<String>) {
    let owner = from.id().unwrap_or_default().to_string();
    for m in from.elements().filter(|e| e.name == "meta_attributes") {
        let pairs: Vec<&Element> = m.elements().filter(|e| is_operator_nvpair(e)).collect();
        if pairs.is_empty() {
            continue;
        }
        for nv in &pairs {
            kept.push(format!(
                "{owner} {}={}",
                nv.get("name").unwrap_or_default(),
                nv.get("value").unwrap_or_default()
            ));
        }
        let nodes = pairs.into_iter().map(|nv| Node::Element(nv.clone()));
        let same_id = m.id().and_then(|bid| {
            to.elements_mut()
                .find(|e| e.name == "meta_attributes" && e.id() == Some(bid))
        });
        match same_id {
            Some(block) => block.children.extend(nodes),
            None => to.children.push(Node::Element(Element {
                name: m.name.clone(),
                attrs: m.attrs.clone(),
                children: nodes.collect(),
            })),
        }
    }
}

/// Constraints and tag members in `config` that name any of `ids`.
pub fn references(config: &Element, ids: &BTreeSet<&str>) -> Refs {
    let mut refs = Refs::default();
    if ids.is_empty() {
        return refs;
    }
    if let Some(cons) = config.first("constraints") {
        for c in cons.elements() {
            if mentions(c, ids) {
                if let Some(id) = c.id() {
                    refs.constraints.push(id.to_string());
                }
            }
        }
    }
    if let Some(tags) = config.first("tags") {
        for t in tags.elements().filter(|e| e.name == "tag") {
            for o in t.elements().filter(|e| e.name == "obj_ref") {
                if let (Some(tid), Some(oid)) = (t.id(), o.id()) {
                    if ids.contains(oid) {
                        refs.tag_refs.push((tid.to_string(), oid.to_string()));
                    }
                }
            }
        }
    }
    refs
}

/// True when a constraint names one of `ids`: directly (`rsc`, `with-rsc`, `first`, `then`) or
/// through a `<resource_ref>` in a resource set.
fn mentions(c: &Element, ids: &BTreeSet<&str>) -> bool {
    REF_ATTRS
        .iter()
        .any(|a| c.get(a).is_some_and(|v| ids.contains(v)))
        || has_resource_ref(c, ids)
}

fn has_resource_ref(e: &Element, ids: &BTreeSet<&str>) -> bool {
    e.elements().any(|r| {
        (r.name == "resource_ref" && r.id().is_some_and(|v| ids.contains(v)))
            || has_resource_ref(r, ids)
    })
}

/// A copy of the whole `<cib>` with `<configuration>` edited: the group `group_id` replaced by
/// `new_group` (or deleted when `None`) and `refs` removed; a tag left without members goes too
/// (the schema wants at least one).
pub fn edited_cib(
    cib: &Element,
    group_id: &str,
    new_group: Option<&Element>,
    refs: &Refs,
) -> Result<Element, PlanError> {
    let mut out = cib.clone();
    let config = out
        .first_mut("configuration")
        .ok_or(PlanError::NoSection("configuration"))?;
    let resources = config
        .first_mut("resources")
        .ok_or(PlanError::NoSection("resources"))?;
    replace_group(resources, group_id, new_group);
    drop_refs(config, refs);
    Ok(out)
}

/// Removes `refs` from `config` (the `<configuration>` element): the constraints, and the tag
/// members; a tag left without members goes too (the schema wants at least one).
pub fn drop_refs(config: &mut Element, refs: &Refs) {
    if let Some(cons) = config.first_mut("constraints") {
        cons.children.retain(|n| match n {
            Node::Element(c) => !c
                .id()
                .is_some_and(|id| refs.constraints.iter().any(|r| r == id)),
            _ => true,
        });
    }
    if let Some(tags) = config.first_mut("tags") {
        for t in tags.elements_mut() {
            let tid = t.id().unwrap_or_default().to_string();
            t.children.retain(|n| match n {
                Node::Element(o) if o.name == "obj_ref" => !refs
                    .tag_refs
                    .iter()
                    .any(|(rt, ro)| *rt == tid && o.id() == Some(ro.as_str())),
                _ => true,
            });
        }
        tags.children.retain(|n| match n {
            Node::Element(t) if t.name == "tag" => t.elements().next().is_some(),
            _ => true,
        });
    }
}

/// Replaces (or with `None` removes) the first group `group_id` below `parent`, in place.
fn replace_group(parent: &mut Element, group_id: &str, new_group: Option<&Element>) -> bool {
    let pos = parent.children.iter().position(
        |n| matches!(n, Node::Element(e) if e.name == "group" && e.id() == Some(group_id)),
    );
    if let Some(i) = pos {
        match new_group {
            Some(g) => parent.children[i] = Node::Element(g.clone()),
            None => {
                parent.children.remove(i);
            }
        }
        return true;
    }
    parent
        .elements_mut()
        .any(|c| replace_group(c, group_id, new_group))
}

/// Members of group `group_id` that `crm_mon --output-as=xml` reports as active on some node.
pub fn running_members(crm_mon: &Element, group_id: &str) -> Vec<String> {
    let Some(resources) = crm_mon.first("resources") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    collect_running(resources, group_id, false, &mut out);
    out
}

fn collect_running(e: &Element, group_id: &str, inside: bool, out: &mut Vec<String>) {
    // A cloned group shows up as `<group id="G:0">`; a warm cluster's clone as `<clone>`.
    let here = inside
        || (matches!(e.name.as_str(), "group" | "clone")
            && e.id()
                .is_some_and(|id| id == group_id || id.split(':').next() == Some(group_id)));
    if here && e.name == "resource" {
        let active =
            e.get("active") == Some("true") || e.get("nodes_running_on").is_some_and(|n| n != "0");
        if active {
            if let Some(id) = e.id() {
                out.push(id.to_string());
            }
        }
    }
    for c in e.elements() {
        collect_running(c, group_id, here, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::xml::parse;

    fn prim(id: &str) -> String {
        format!(
            "<primitive class=\"ocf\" id=\"{id}\" provider=\"heartbeat\" type=\"IPaddr2\"><instance_attributes id=\"{id}_ia\"><nvpair id=\"{id}_ip\" name=\"ip\" value=\"x\"/></instance_attributes></primitive>"
        )
    }

    fn group(members: &[&str], extra: &str) -> String {
        let body: String = members.iter().map(|m| prim(m)).collect();
        format!("<group id=\"w_group\">{body}{extra}</group>")
    }

    fn config(group_xml: &str, constraints: &str) -> Element {
        parse(&format!(
            "<configuration><crm_config/><nodes/><resources>{group_xml}</resources><constraints>{constraints}</constraints></configuration>"
        ))
        .unwrap()
    }

    #[test]
    fn in_sync_missing_and_id_clash() {
        let wanted = parse(&group(&["ipvs_w", "ip_a"], "")).unwrap();
        let cfg = config(&group(&["ipvs_w", "ip_a"], ""), "");
        assert_eq!(plan_apply(&cfg, &wanted), Ok(Plan::InSync));
        let empty = config("", "");
        assert_eq!(
            plan_apply(&empty, &wanted),
            Ok(Plan::Create {
                group: wanted.clone()
            })
        );
        let clash = config(&prim("ip_a"), "");
        assert_eq!(
            plan_apply(&clash, &wanted),
            Err(PlanError::IdClash {
                group: "w_group".into(),
                ids: vec!["ip_a".into(), "ip_a_ia".into(), "ip_a_ip".into()]
            })
        );
    }

    #[test]
    fn replace_keeps_operator_meta_and_drops_references() {
        let live = group(
            &["ipvs_w", "ip_a", "ip_b"],
            "<meta_attributes id=\"w_group-meta_attributes\"><nvpair id=\"w-t\" name=\"target-role\" value=\"Stopped\"/><nvpair id=\"w-s\" name=\"resource-stickiness\" value=\"5\"/></meta_attributes>",
        )
        .replace(
            "<nvpair id=\"ip_a_ip\" name=\"ip\" value=\"x\"/></instance_attributes>",
            "<nvpair id=\"ip_a_ip\" name=\"ip\" value=\"x\"/></instance_attributes><meta_attributes id=\"ip_a-m\"><nvpair id=\"ip_a-m-i\" name=\"is-managed\" value=\"false\"/></meta_attributes>",
        )
        .replace(
            "<nvpair id=\"ip_b_ip\" name=\"ip\" value=\"x\"/></instance_attributes>",
            "<nvpair id=\"ip_b_ip\" name=\"ip\" value=\"x\"/></instance_attributes><meta_attributes id=\"ip_b-m\"><nvpair id=\"ip_b-m-t\" name=\"target-role\" value=\"Stopped\"/></meta_attributes>",
        );
        let cfg = config(
            &live,
            "<rsc_location id=\"cli-prefer-ip_b\" rsc=\"ip_b\" node=\"n1\" score=\"INFINITY\"/>\
             <rsc_location id=\"keep\" rsc=\"w_group\" node=\"n1\" score=\"5\"/>\
             <rsc_order id=\"set\"><resource_set id=\"s1\"><resource_ref id=\"other\"/><resource_ref id=\"ip_b\"/></resource_set></rsc_order>",
        );
        let wanted = parse(&group(&["ipvs_w", "ip_a", "ip_c"], "")).unwrap();
        let Ok(Plan::Replace {
            group,
            kept_meta,
            dropped,
            refs,
            diff,
        }) = plan_apply(&cfg, &wanted)
        else {
            panic!("should replace")
        };
        assert_eq!(
            kept_meta,
            vec!["w_group target-role=Stopped", "ip_a is-managed=false"]
        );
        assert_eq!(dropped, vec!["ip_b"]);
        assert_eq!(refs.constraints, vec!["cli-prefer-ip_b", "set"]);
        assert!(
            diff.contains("-  <primitive class=\"ocf\" id=\"ip_b\""),
            "{diff}"
        );
        assert!(
            diff.contains("+  <primitive class=\"ocf\" id=\"ip_c\""),
            "{diff}"
        );
        // The carried copy keeps block ids, drops the non-operator nvpair, and compares in sync.
        let text = group.to_pretty();
        assert!(text.contains("<meta_attributes id=\"w_group-meta_attributes\">"));
        assert!(!text.contains("resource-stickiness"));
        assert!(!text.contains("ip_b"));
        assert_eq!(diff::compare(Some(&group), &wanted), Comparison::InSync);
    }

    #[test]
    fn remove_finds_members_constraints_and_tags() {
        let mut cfg = config(
            &group(&["ipvs_w", "ip_a"], ""),
            "<rsc_colocation id=\"c\" rsc=\"x\" with-rsc=\"ip_a\" score=\"INFINITY\"/><rsc_location id=\"other\" rsc=\"x\" node=\"n\" score=\"1\"/>",
        );
        cfg.children.push(Node::Element(
            parse("<tags><tag id=\"t1\"><obj_ref id=\"w_group\"/></tag><tag id=\"t2\"><obj_ref id=\"x\"/><obj_ref id=\"ip_a\"/></tag></tags>").unwrap(),
        ));
        let plan = plan_remove(&cfg, "w_group").unwrap();
        assert_eq!(plan.members, vec!["ipvs_w", "ip_a"]);
        assert_eq!(plan.refs.constraints, vec!["c"]);
        assert_eq!(
            plan.refs.tag_refs,
            vec![
                ("t1".to_string(), "w_group".to_string()),
                ("t2".to_string(), "ip_a".to_string())
            ]
        );
        assert!(plan_remove(&cfg, "nope_group").is_none());

        let cib = Element::new("cib").child(cfg);
        let edited = edited_cib(&cib, "w_group", None, &plan.refs).unwrap();
        let text = edited.to_pretty();
        assert!(!text.contains("w_group"), "{text}");
        assert!(!text.contains("ip_a"), "{text}");
        assert!(text.contains("id=\"other\""));
        assert!(!text.contains("id=\"t1\""), "empty tag must go: {text}");
        assert!(text.contains("<obj_ref id=\"x\"/>"));
    }

    #[test]
    fn edited_cib_replaces_in_place() {
        let cib = Element::new("cib").child(config(
            &format!("{}{}", group(&["ipvs_w"], ""), prim("after")),
            "",
        ));
        let new = parse(&group(&["ipvs_w", "ip_z"], "")).unwrap();
        let edited = edited_cib(&cib, "w_group", Some(&new), &Refs::default()).unwrap();
        let res = edited
            .first("configuration")
            .unwrap()
            .first("resources")
            .unwrap();
        let ids: Vec<_> = res.elements().filter_map(Element::id).collect();
        assert_eq!(ids, vec!["w_group", "after"]);
        assert_eq!(res.first("group"), Some(&new));
    }

    #[test]
    fn running_members_reads_crm_mon() {
        let mon = parse(
            r#"<pacemaker-result><resources>
  <group id="w_group" number_resources="2">
    <resource id="ipvs_w" role="Started" active="true" nodes_running_on="1"/>
    <resource id="ip_a" role="Stopped" active="false" nodes_running_on="0"/>
  </group>
  <resource id="x" active="true" nodes_running_on="1"/>
</resources></pacemaker-result>"#,
        )
        .unwrap();
        assert_eq!(running_members(&mon, "w_group"), vec!["ipvs_w"]);
        assert!(running_members(&mon, "other_group").is_empty());
    }
}
