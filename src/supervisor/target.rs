//! What a checker needs to know about its node: its index, its check address and its plan.

use std::net::SocketAddr;

use crate::health::probe::{CheckPlan, Probe};
use crate::spec::Node;

/// What a checker thread needs to know about its node.
#[derive(Clone, Debug)]
pub struct Target {
    pub node: usize,
    /// The check port (fault knobs and logs name the node by it).
    pub addr: SocketAddr,
    pub plan: CheckPlan,
}

impl Target {
    pub fn of(index: usize, node: &Node, cluster: &str) -> Target {
        let plan = node.check_plan(cluster);
        Target {
            node: index,
            addr: plan.addr,
            plan,
        }
    }

    /// The GET path of a litmus/http check (`/` for the others).
    pub fn path(&self) -> &str {
        match &self.plan.probe {
            Probe::Litmus { path } | Probe::Http { path, .. } => path,
            _ => "/",
        }
    }

    /// A litmus_paper check of `path` at `addr` (the demo, benchmarks and tests).
    pub fn litmus(node: usize, addr: SocketAddr, path: &str) -> Target {
        Target {
            node,
            addr,
            plan: CheckPlan {
                probe: Probe::Litmus {
                    path: path.to_string(),
                },
                tls: None,
                addr,
                real_port: 0,
            },
        }
    }
}
