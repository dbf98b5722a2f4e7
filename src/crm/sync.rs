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

use std::net::IpAddr;

use super::xml::Element;
use crate::ipvs::{SyncDaemon, SyncState};

/// Pacemaker id of the sync primitive and of its clone.
pub const PRIMITIVE_ID: &str = "ipvs_sync";
pub const CLONE_ID: &str = "ipvs_sync_clone";

/// The sync agent's parameters as the CIB will carry them (`None`: the kernel's default, no
/// nvpair).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncClone {
    pub interface: String,
    pub sync_id: u8,
    pub group: Option<IpAddr>,
    pub port: Option<u16>,
    pub ttl: Option<u8>,
    pub max_len: Option<u16>,
}

impl SyncClone {
    /// Why the agent would refuse these values on every node, if it would (the same check as
    /// the agent's `validate-all`, for both daemons).
    pub fn check(&self) -> Result<(), String> {
        for state in [SyncState::Master, SyncState::Backup] {
            SyncDaemon {
                state,
                interface: self.interface.clone(),
                sync_id: self.sync_id,
                max_len: self.max_len,
                group: self.group,
                port: self.port,
                ttl: self.ttl,
            }
            .check()?;
        }
        Ok(())
    }

    /// `<clone id="ipvs_sync_clone"><primitive id="ipvs_sync" …>`.
    pub fn clone_element(&self) -> Element {
        let nv = |name: &str, value: String| {
            Element::new("nvpair")
                .attr("id", format!("{PRIMITIVE_ID}_{name}"))
                .attr("name", name)
                .attr("value", value)
        };
        let mut ia = Element::new("instance_attributes")
            .attr("id", format!("{PRIMITIVE_ID}_ia"))
            .child(nv("interface", self.interface.clone()))
            .child(nv("sync_id", self.sync_id.to_string()));
        if let Some(g) = self.group {
            ia = ia.child(nv("mcast_group", g.to_string()));
        }
        if let Some(p) = self.port {
            ia = ia.child(nv("mcast_port", p.to_string()));
        }
        if let Some(t) = self.ttl {
            ia = ia.child(nv("mcast_ttl", t.to_string()));
        }
        if let Some(l) = self.max_len {
            ia = ia.child(nv("sync_maxlen", l.to_string()));
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sync() -> SyncClone {
        SyncClone {
            interface: "eth1".into(),
            sync_id: 42,
            group: None,
            port: None,
            ttl: None,
            max_len: None,
        }
    }

    #[test]
    fn clone_and_order_shapes() {
        let x = sync().clone_element().to_pretty();
        assert!(x.starts_with("<clone id=\"ipvs_sync_clone\">\n  <primitive class=\"ocf\" id=\"ipvs_sync\" provider=\"braintree\" type=\"ipvs_sync\">"), "{x}");
        assert!(
            x.contains("<nvpair id=\"ipvs_sync_sync_id\" name=\"sync_id\" value=\"42\"/>"),
            "{x}"
        );
        assert!(
            !x.contains("mcast_"),
            "defaults are left to the kernel: {x}"
        );
        let o = SyncClone::order("webapp_group").to_pretty();
        assert_eq!(
            o,
            "<rsc_order first=\"ipvs_sync_clone\" id=\"order_ipvs_sync_clone_webapp_group\" kind=\"Optional\" then=\"webapp_group\"/>\n"
        );
        let all = SyncClone {
            group: Some("ff02::81".parse().unwrap()),
            port: Some(9000),
            ttl: Some(2),
            max_len: Some(1400),
            ..sync()
        };
        let x = all.clone_element().to_pretty();
        for v in ["ff02::81", "9000", "\"2\"", "1400"] {
            assert!(x.contains(v), "{v}: {x}");
        }
    }

    #[test]
    fn check_is_the_agents() {
        assert!(sync().check().is_ok());
        let bad = SyncClone {
            group: Some("10.0.0.1".parse().unwrap()),
            ..sync()
        };
        assert!(bad.check().unwrap_err().contains("not a multicast address"));
        let short = SyncClone {
            max_len: Some(100),
            ..sync()
        };
        assert!(short.check().unwrap_err().contains("for a backup"));
    }
}
