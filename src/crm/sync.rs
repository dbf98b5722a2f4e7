//! The connection-sync clone beside the groups (`crm generate --sync-interface IF --sync-id N
//! --format cib`): one `ocf:braintree:ipvs_sync` primitive `ipvs_sync`, cloned on every node as
//! `ipvs_sync_clone` (the kernel's sync daemons are per host, shared by every service), and one
//! `rsc_order` per cluster so the clone starts first: before a cold cluster's group, before a
//! warm cluster's big_brother clone.
//!
//! The order is `kind="Optional"`: it orders the two whenever they start (or stop) in the same
//! transition — at cluster start and when a node joins — but a sync daemon that fails and
//! restarts on one node does not restart a load balancer anywhere. Sync makes a failover keep
//! its connections; it must never be the reason a service stops.

use super::xml::Element;
use crate::ipvs::{sync_param as param, SyncConfig};

/// Pacemaker id of the sync primitive and of its clone.
pub const PRIMITIVE_ID: &str = "ipvs_sync";
pub const CLONE_ID: &str = "ipvs_sync_clone";

/// `<clone id="ipvs_sync_clone"><primitive id="ipvs_sync" …>` carrying `c` as the agent's
/// parameters (`None` values: the kernel's default, no nvpair). The caller has run
/// [`SyncConfig::check`], the agent's own `validate-all`.
pub fn clone_element(c: &SyncConfig) -> Element {
    let nv = |name: &str, value: String| {
        Element::new("nvpair")
            .attr("id", format!("{PRIMITIVE_ID}_{name}"))
            .attr("name", name)
            .attr("value", value)
    };
    let mut ia = Element::new("instance_attributes")
        .attr("id", format!("{PRIMITIVE_ID}_ia"))
        .child(nv(param::INTERFACE, c.interface.clone()))
        .child(nv(param::SYNC_ID, c.sync_id.to_string()));
    if let Some(g) = c.group {
        ia = ia.child(nv(param::MCAST_GROUP, g.to_string()));
    }
    if let Some(p) = c.port {
        ia = ia.child(nv(param::MCAST_PORT, p.to_string()));
    }
    if let Some(t) = c.ttl {
        ia = ia.child(nv(param::MCAST_TTL, t.to_string()));
    }
    if let Some(l) = c.max_len {
        ia = ia.child(nv(param::SYNC_MAXLEN, l.to_string()));
    }
    for (setting, value) in c.host.wanted() {
        ia = ia.child(nv(setting.param(), value.to_string()));
    }
    let op = |name: &str, interval: &str, timeout: &str| {
        Element::new("op")
            .attr("id", format!("{PRIMITIVE_ID}_op_{name}"))
            .attr("interval", interval)
            .attr("name", name)
            .attr("timeout", timeout)
    };
    let primitive = Element::new("primitive")
        .attr("class", "ocf")
        .attr("id", PRIMITIVE_ID)
        .attr("provider", "braintree")
        .attr("type", "ipvs_sync")
        .child(ia)
        .child(
            Element::new("operations")
                .child(op("start", "0", "20s"))
                .child(op("stop", "0", "20s"))
                .child(op("monitor", "30s", "20s")),
        );
    Element::new("clone").attr("id", CLONE_ID).child(primitive)
}

/// The order constraint that starts the clone before resource `then`: a cold cluster's
/// group, a warm cluster's clone (see `unit::Unit::sync_then`).
pub fn order(then: &str) -> Element {
    Element::new("rsc_order")
        .attr("first", CLONE_ID)
        .attr("id", format!("order_{CLONE_ID}_{then}"))
        .attr("kind", "Optional")
        .attr("then", then)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::Setting;

    fn sync() -> SyncConfig {
        SyncConfig::new("eth1", 42)
    }

    #[test]
    fn clone_and_order_shapes() {
        let x = clone_element(&sync()).to_pretty();
        assert!(x.starts_with("<clone id=\"ipvs_sync_clone\">\n  <primitive class=\"ocf\" id=\"ipvs_sync\" provider=\"braintree\" type=\"ipvs_sync\">"), "{x}");
        assert!(
            x.contains("<nvpair id=\"ipvs_sync_sync_id\" name=\"sync_id\" value=\"42\"/>"),
            "{x}"
        );
        assert!(
            !x.contains("mcast_"),
            "defaults are left to the kernel: {x}"
        );
        let o = order("webapp_group").to_pretty();
        assert_eq!(
            o,
            "<rsc_order first=\"ipvs_sync_clone\" id=\"order_ipvs_sync_clone_webapp_group\" kind=\"Optional\" then=\"webapp_group\"/>\n"
        );
        let mut all = SyncConfig {
            group: Some("ff02::81".parse().unwrap()),
            port: Some(9000),
            ttl: Some(2),
            max_len: Some(1400),
            ..sync()
        };
        all.host.set(Setting::UdpTimeout, Some(30));
        all.host.set(Setting::ExpireNodestConn, Some(1));
        let x = clone_element(&all).to_pretty();
        for v in ["ff02::81", "9000", "\"2\"", "1400"] {
            assert!(x.contains(v), "{v}: {x}");
        }
        for v in [
            "<nvpair id=\"ipvs_sync_udp_timeout\" name=\"udp_timeout\" value=\"30\"/>",
            "<nvpair id=\"ipvs_sync_expire_nodest_conn\" name=\"expire_nodest_conn\" value=\"1\"/>",
        ] {
            assert!(x.contains(v), "{v}: {x}");
        }
        assert!(!x.contains("tcp_timeout"), "unset ones are left out: {x}");
    }
}
