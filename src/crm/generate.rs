//! Spec → Pacemaker `<group>`: pure and deterministic, so regenerating from an unchanged spec
//! gives the same bytes and `check` can compare against the live CIB.
//!
//! The shape is the talk's (golden file `crm/examples/webapp.xml`): group `<name>_group`, first
//! the big_brother primitive `ipvs_<name>` (ocf:braintree:ocf_big_brother, param `cluster`),
//! then one `ocf:heartbeat:IPaddr2` primitive `ip_<address>` per VIP. A group starts members in
//! order and stops them in reverse, so IPVS is ready before a VIP attracts traffic and the VIP
//! leaves first on stop. Attributes are written in alphabetical order, as Pacemaker's tools
//! print them. Ids keep the talk's spelling, including its odd `ipvs_monitor_<name>_cluster`.

use std::net::IpAddr;
use std::path::Path;

use super::xml::Element;
use crate::spec::duration::render;
use crate::spec::model::limits;
use crate::spec::{defaults, OpSet, Spec, Vip};
use crate::text;

/// What wraps the generated groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// The bare `<group>` elements, one after another (one spec: one XML document, the golden
    /// file; feed it to `cibadmin --create --scope resources`).
    #[default]
    Group,
    /// `<resources>` around the groups: one document for any number of specs, accepted by
    /// `cibadmin --create --scope resources`.
    Resources,
    /// `<cib><configuration><resources>…`: what `crm configure load xml update FILE` needs.
    Cib,
}

/// Pacemaker id of a cluster's group.
pub fn group_id(name: &str) -> String {
    format!("{name}_group")
}

/// Pacemaker id of a cluster's big_brother primitive.
pub fn ipvs_id(name: &str) -> String {
    format!("ipvs_{name}")
}

/// Pacemaker id of a VIP's IPaddr2 primitive: `ip_` + the address, with IPv6 colons (illegal in
/// XML IDs) spelled `_`. The mapping is one-to-one because a canonical address never contains `_`.
pub fn vip_id(address: &IpAddr) -> String {
    format!("ip_{}", address.to_string().replace(':', "_"))
}

/// What is wrong with `dir` as `--config-dir`, as a whole "expected …" message, if anything.
/// The agent resolves the path on every node, from its own working directory: only an absolute
/// path means the same file everywhere. It becomes the `config` attribute in the CIB, so it must
/// be text XML 1.0 can hold, and printable (operators read it back in `crm configure show`).
pub fn config_dir_problem(dir: &str) -> Option<String> {
    if !dir.starts_with('/') {
        Some(format!(
            "expected an absolute directory, not {}",
            text::quoted(dir, 80)
        ))
    } else if let Some(c) = text::first_unprintable(dir) {
        Some(format!(
            "expected a directory path without control or format characters (it goes into the CIB's `config` attribute), not {} with {}",
            text::quoted(dir, 80),
            text::quoted(&c.to_string(), 1)
        ))
    } else if dir.len() > limits::MAX_PATH_BYTES {
        Some(format!(
            "expected a directory path of at most {} bytes, not {}",
            limits::MAX_PATH_BYTES,
            dir.len()
        ))
    } else {
        None
    }
}

/// Where the agent should read the spec from, when that is not the default directory: the
/// value of the extra `config` parameter (`None` keeps the talk's XML unchanged).
pub fn config_param(name: &str, config_dir: Option<&Path>) -> Option<String> {
    let dir = config_dir?;
    if dir == Path::new(defaults::CONFIG_DIR) {
        return None;
    }
    Some(dir.join(format!("{name}.toml")).display().to_string())
}

/// The `<group>` for one spec. `config_dir` adds the agent's `config` parameter when it is not
/// `/etc/big_brother` (see [`config_param`]).
pub fn group(spec: &Spec, config_dir: Option<&Path>) -> Element {
    let mut g = Element::new("group");
    if let Some(d) = &spec.description {
        g = g.attr("description", d.as_str());
    }
    g = g.attr("id", group_id(&spec.name));
    g = g.child(ipvs_primitive(spec, config_dir));
    for v in &spec.vips {
        g = g.child(vip_primitive(v, &spec.ops.vip));
    }
    g
}

/// The big_brother primitive `ipvs_<name>`: the group's first member (cold) or the clone's
/// primitive (warm), the same element either way.
pub fn ipvs_primitive(spec: &Spec, config_dir: Option<&Path>) -> Element {
    let name = &spec.name;
    let id = ipvs_id(name);
    let mut ia = Element::new("instance_attributes")
        .attr("id", format!("{id}_ia"))
        .child(nvpair(
            &format!("ipvs_monitor_{name}_cluster"),
            "cluster",
            name,
        ));
    if let Some(path) = config_param(name, config_dir) {
        ia = ia.child(nvpair(&format!("{id}_config"), "config", &path));
    }
    Element::new("primitive")
        .attr("class", "ocf")
        .attr("id", id.as_str())
        .attr("provider", "braintree")
        .attr("type", "ocf_big_brother")
        .child(ia)
        .child(operations(&id, &spec.ops.ipvs))
}

/// One VIP's `ocf:heartbeat:IPaddr2` primitive `ip_<address>`.
pub fn vip_primitive(vip: &Vip, ops: &OpSet) -> Element {
    let id = vip_id(&vip.address);
    let mut ia = Element::new("instance_attributes")
        .attr("id", format!("{id}_ia"))
        .child(nvpair(&format!("{id}_ip"), "ip", &vip.address.to_string()))
        .child(nvpair(
            &format!("{id}_nm"),
            "cidr_netmask",
            &vip.cidr_netmask.to_string(),
        ));
    if let Some(nic) = &vip.nic {
        ia = ia.child(nvpair(&format!("{id}_nic"), "nic", nic));
    }
    Element::new("primitive")
        .attr("class", "ocf")
        .attr("id", id.as_str())
        .attr("provider", "heartbeat")
        .attr("type", "IPaddr2")
        .child(ia)
        .child(operations(&id, ops))
}

pub fn nvpair(id: &str, name: &str, value: &str) -> Element {
    Element::new("nvpair")
        .attr("id", id)
        .attr("name", name)
        .attr("value", value)
}

fn operations(prefix: &str, ops: &OpSet) -> Element {
    let op = |name: &str, interval: String, timeout: String| {
        Element::new("op")
            .attr("id", format!("{prefix}_op_{name}"))
            .attr("interval", interval)
            .attr("name", name)
            .attr("timeout", timeout)
    };
    Element::new("operations")
        .child(op("start", "0".into(), render(ops.start_timeout)))
        .child(op("stop", "0".into(), render(ops.stop_timeout)))
        .child(op(
            "monitor",
            render(ops.monitor_interval),
            render(ops.monitor_timeout),
        ))
}

/// The text `crm generate` prints for `specs` in `format`.
pub fn render_all(specs: &[Spec], config_dir: Option<&Path>, format: Format) -> String {
    let groups: Vec<Element> = specs.iter().map(|s| group(s, config_dir)).collect();
    match format {
        Format::Group => groups.iter().map(Element::to_pretty).collect(),
        Format::Resources => wrap(groups).to_pretty(),
        Format::Cib => Element::new("cib")
            .child(Element::new("configuration").child(wrap(groups)))
            .to_pretty(),
    }
}

/// `<resources>` around `groups`.
pub fn wrap(groups: Vec<Element>) -> Element {
    groups
        .into_iter()
        .fold(Element::new("resources"), Element::child)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::xml;
    use crate::spec;
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    fn example(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("crm/examples/{name}"))
    }

    fn parse(text: &str) -> Spec {
        spec::parse(Path::new("t.toml"), text).unwrap()
    }

    const V6: &str = r#"
name = "v6"
description = "A & B <\"quoted\"> 'single'"
protocol = "tcp"
address = "2001:db8::7"
port = 443
[[vip]]
address = "2001:db8::7"
[[vip]]
address = "2001:db8:0:1::10"
nic = "eth1"
cidr_netmask = 64
[[node]]
address = "2001:db8::100"
port = 80
[ops.vip]
start_timeout = "1500ms"
monitor_interval = "2m"
"#;

    #[test]
    fn webapp_matches_the_talks_group() {
        let spec = spec::load(&example("webapp.toml")).unwrap();
        let golden = std::fs::read_to_string(example("webapp.xml")).unwrap();
        assert_eq!(render_all(&[spec], None, Format::Group), golden);
    }

    #[test]
    fn default_config_dir_changes_nothing_other_dirs_add_config() {
        let spec = spec::load(&example("webapp.toml")).unwrap();
        let plain = render_all(std::slice::from_ref(&spec), None, Format::Group);
        let etc = render_all(
            std::slice::from_ref(&spec),
            Some(Path::new("/etc/big_brother")),
            Format::Group,
        );
        assert_eq!(plain, etc);
        let other = render_all(&[spec], Some(Path::new("/srv/bb")), Format::Group);
        assert!(other.contains(
            "<nvpair id=\"ipvs_webapp_config\" name=\"config\" value=\"/srv/bb/webapp.toml\"/>"
        ));
        assert_eq!(other.lines().count(), plain.lines().count() + 1);
    }

    #[test]
    fn ipv6_ids_have_no_colons_and_values_keep_the_address() {
        let g = group(&parse(V6), None);
        let text = g.to_pretty();
        assert!(text.contains("<primitive class=\"ocf\" id=\"ip_2001_db8__7\""));
        assert!(text.contains("id=\"ip_2001_db8__7_ip\" name=\"ip\" value=\"2001:db8::7\""));
        assert!(text.contains("id=\"ip_2001_db8__7_nm\" name=\"cidr_netmask\" value=\"128\""));
        assert!(!text.contains("ip_2001_db8__7_nic"));
        assert!(text.contains("id=\"ip_2001_db8_0_1__10_nic\" name=\"nic\" value=\"eth1\""));
        for id in g.ids() {
            assert!(!id.contains(':'), "{id}");
        }
    }

    #[test]
    fn ops_come_from_the_spec() {
        let text = group(&parse(V6), None).to_pretty();
        assert!(text.contains(
            "<op id=\"ip_2001_db8__7_op_start\" interval=\"0\" name=\"start\" timeout=\"1500ms\"/>"
        ));
        assert!(text.contains(
            "<op id=\"ip_2001_db8__7_op_monitor\" interval=\"120s\" name=\"monitor\" timeout=\"30s\"/>"
        ));
        assert!(text.contains(
            "<op id=\"ipvs_v6_op_start\" interval=\"0\" name=\"start\" timeout=\"20s\"/>"
        ));
    }

    #[test]
    fn description_is_escaped_and_reads_back() {
        let spec = parse(V6);
        let text = group(&spec, None).to_pretty();
        assert!(text.starts_with(
            "<group description=\"A &amp; B &lt;&quot;quoted&quot;&gt; &apos;single&apos;\" id=\"v6_group\">"
        ));
        let back = xml::parse(&text).unwrap();
        assert_eq!(back.get("description"), spec.description.as_deref());
        assert_eq!(back, group(&spec, None));
    }

    #[test]
    fn ids_are_unique() {
        let g = group(&parse(V6), Some(Path::new("/srv")));
        let ids = g.ids();
        let set: BTreeSet<_> = ids.iter().collect();
        assert_eq!(set.len(), ids.len());
    }

    #[test]
    fn formats_wrap_the_same_groups() {
        let specs = vec![spec::load(&example("webapp.toml")).unwrap(), parse(V6)];
        let bare = render_all(&specs, None, Format::Group);
        let groups = xml::parse_many(&bare).unwrap();
        assert_eq!(groups.len(), 2);
        let res = xml::parse(&render_all(&specs, None, Format::Resources)).unwrap();
        assert_eq!(res.name, "resources");
        assert_eq!(res.elements().cloned().collect::<Vec<_>>(), groups);
        let cib = xml::parse(&render_all(&specs, None, Format::Cib)).unwrap();
        let inner = cib
            .first("configuration")
            .unwrap()
            .first("resources")
            .unwrap();
        assert_eq!(inner, &res);
    }
}
