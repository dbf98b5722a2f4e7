//! Overrides kept in the Pacemaker CIB (issue 15), beside the drains in the cluster's property
//! set `big_brother-<cluster>` (`super::cib_drain` reads and writes the set): every director
//! applies the same ones, where the override files (`super::overrides`) are each director's own.
//!
//! Two kinds of nvpair, value = what is forced, then the drains' `at=… by=… reason=…`:
//! - `override` = `up|down at=<UTC> by=<user>@<host> reason=<text>`: the whole cluster, as the
//!   override files (`up`: every node at its `max_weight`; `down`: every node at 0);
//! - `override-<node id>` = `<WEIGHT> at=… by=… reason=…`: one node at WEIGHT (0–65535, capped
//!   by the node's `max_weight` where it applies), whatever its checks say.
//!
//! Unlike a drain (any value is a drain, a hand-edited one included), an override's value says
//! *what* to do, so one that cannot be read is an error ([`BadValue`]): the supervisor keeps what
//! it read last rather than guess. This module is pure: parsing and formatting only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::cib_record::Record;
use super::overrides::Override;
use crate::spec::MAX_WEIGHT;
use crate::text;

/// The nvpair name of the cluster-wide override.
pub const CLUSTER_NAME: &str = "override";
/// The prefix of a node override's nvpair name (then the node id).
pub const NODE_PREFIX: &str = "override-";

/// The cluster-wide override recorded in the CIB (its `record.node` is empty).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterOverride {
    pub state: Override,
    #[serde(flatten)]
    pub record: Record,
}

/// One node's weight forced in the CIB.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeOverride {
    pub weight: u32,
    #[serde(flatten)]
    pub record: Record,
}

/// The overrides of one cluster's set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overrides {
    #[serde(default)]
    pub cluster: Option<ClusterOverride>,
    /// By node id.
    #[serde(default)]
    pub nodes: BTreeMap<String, NodeOverride>,
}

impl Overrides {
    pub fn is_empty(&self) -> bool {
        self.cluster.is_none() && self.nodes.is_empty()
    }

    /// The node overrides as id → weight, for the policy.
    pub fn weights(&self) -> BTreeMap<String, u32> {
        self.nodes
            .iter()
            .map(|(id, o)| (id.clone(), o.weight))
            .collect()
    }
}

/// An override nvpair whose value cannot be read: what it holds and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadValue {
    pub name: String,
    /// The value, cleaned and cut for messages.
    pub value: String,
    pub expected: &'static str,
}

/// What the value of an `override` nvpair must start with.
pub const EXPECTED_CLUSTER: &str = "`up` or `down`, then `at=… by=… reason=…`";
/// What the value of an `override-<node>` nvpair must start with.
pub const EXPECTED_NODE: &str = "a weight 0–65535, then `at=… by=… reason=…`";

/// The nvpair value of a cluster-wide override.
pub fn cluster_value(state: Override, record: &Record) -> String {
    format!("{} {}", state.as_str(), record.value())
}

/// The nvpair value of a node override.
pub fn node_value(weight: u32, record: &Record) -> String {
    format!("{weight} {}", record.value())
}

/// Splits `HEAD rest`; the rest is read as a drain's record (lenient: a hand-written rest is
/// its reason), the head is the caller's.
fn split<'a>(node: &str, value: &'a str) -> (&'a str, Record) {
    let value = value.trim_start();
    let (head, rest) = value.split_once(' ').unwrap_or((value, ""));
    let record = if rest.trim().is_empty() {
        Record {
            node: node.to_string(),
            ..Record::default()
        }
    } else {
        Record::parse(node, rest)
    };
    (head, record)
}

fn bad(name: &str, value: &str, expected: &'static str) -> BadValue {
    BadValue {
        name: text::clean(name, 140),
        value: text::clean(value, 80),
        expected,
    }
}

/// Reads the value of the `override` nvpair.
pub fn parse_cluster(value: &str) -> Result<ClusterOverride, BadValue> {
    let (head, record) = split("", value);
    let state = match head {
        "up" => Override::Up,
        "down" => Override::Down,
        _ => return Err(bad(CLUSTER_NAME, value, EXPECTED_CLUSTER)),
    };
    Ok(ClusterOverride { state, record })
}

/// Reads the value of an `override-<node>` nvpair.
pub fn parse_node(node: &str, value: &str) -> Result<NodeOverride, BadValue> {
    let (head, record) = split(node, value);
    let weight = parse_weight(head)
        .ok_or_else(|| bad(&format!("{NODE_PREFIX}{node}"), value, EXPECTED_NODE))?;
    Ok(NodeOverride { weight, record })
}

/// A weight as written by an operator or in the CIB: decimal digits only (no sign, no space),
/// 0–[`MAX_WEIGHT`].
pub fn parse_weight(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u32>().ok().filter(|w| *w <= MAX_WEIGHT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(node: &str) -> Record {
        Record {
            node: node.into(),
            at: "2026-12-06T04:42:26Z".into(),
            by: "alice@lb1".into(),
            reason: "switch firmware, by=x".into(),
        }
    }

    #[test]
    fn values_round_trip() {
        let r = rec("");
        for s in [Override::Up, Override::Down] {
            let o = parse_cluster(&cluster_value(s, &r)).unwrap();
            assert_eq!(
                o,
                ClusterOverride {
                    state: s,
                    record: r.clone()
                }
            );
        }
        let r = rec("[2001:db8::1]:80");
        for w in [0, 1, 100, MAX_WEIGHT] {
            let o = parse_node(&r.node, &node_value(w, &r)).unwrap();
            assert_eq!(
                o,
                NodeOverride {
                    weight: w,
                    record: r.clone()
                }
            );
        }
    }

    #[test]
    fn hand_written_values_with_a_good_head_are_kept() {
        assert_eq!(parse_cluster("down").unwrap().state, Override::Down);
        let o = parse_cluster("up  rack 4 power work").unwrap();
        assert_eq!(
            (o.state, o.record.reason.as_str()),
            (Override::Up, "rack 4 power work")
        );
        let o = parse_node("10.0.0.1", "50").unwrap();
        assert_eq!((o.weight, o.record.node.as_str()), (50, "10.0.0.1"));
    }

    #[test]
    fn bad_values_say_what_was_expected() {
        for v in ["", "UP", "sideways at=x", "1", "up\u{1b}[2J"] {
            let e = parse_cluster(v).unwrap_err();
            assert_eq!(
                (e.name.as_str(), e.expected),
                ("override", EXPECTED_CLUSTER),
                "{v:?}"
            );
        }
        for v in ["", "-1", "65536", "+5", "1e3", "010000000", "up", "5\u{7}"] {
            let e = parse_node("10.0.0.1", v).unwrap_err();
            assert_eq!(e.name, "override-10.0.0.1", "{v:?}");
            assert_eq!(e.expected, EXPECTED_NODE);
        }
        assert!(!parse_node("n", "5\u{7}")
            .unwrap_err()
            .value
            .contains('\u{7}'));
    }

    #[test]
    fn weights_are_bounded_digits() {
        assert_eq!(parse_weight("0"), Some(0));
        assert_eq!(parse_weight("00100"), Some(100));
        assert_eq!(parse_weight("65535"), Some(65_535));
        for bad in [
            "", "65536", "99999", "100000", " 1", "1 ", "-0", "0x10", "١٢",
        ] {
            assert_eq!(parse_weight(bad), None, "{bad:?}");
        }
    }
}
