//! The command line's shape: every subcommand, option and help text, as clap definitions.
//! `main.rs` parses with them and dispatches; the man pages (big_brother(8) and one page per
//! subcommand) and the shell completions are generated from the same definitions by
//! `examples/gen_docs` at package build time, so `--help`, the pages and the completions cannot
//! disagree. OCF actions never reach clap: `commands::agent::mode` claims them first.

use clap::{Parser, Subcommand};

use crate::commands;

/// `big_brother --help` and the DESCRIPTION of big_brother(8).
const LONG_ABOUT: &str = "\
Health-weighted IPVS load balancing under Pacemaker.

One binary with four faces: the OCF resource agent Pacemaker runs as \
ocf:braintree:ocf_big_brother (an OCF action as the first argument, e.g. `big_brother monitor` \
with OCF_RESKEY_cluster set, or any call through the name ocf_big_brother), the supervisor that \
agent starts for each cluster, the CIB generator (`big_brother crm`) that turns one spec file \
per cluster (/etc/big_brother/NAME.toml) into that cluster's Pacemaker group, and the tools \
operators use on a load balancer: validate, status, drain, undrain, override, import, api, demo.";

#[derive(Parser)]
#[command(
    name = "big_brother",
    version,
    about = "Health-weighted IPVS load balancing under Pacemaker",
    long_about = LONG_ABOUT
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Every subcommand, each with the arguments struct of the module that runs it.
#[derive(Subcommand)]
pub enum Command {
    /// Check spec files; exit 0 when all are valid, 6 (OCF_ERR_CONFIGURED) otherwise.
    Validate(commands::validate::Args),
    /// The supervisor `start` launches (internal).
    #[command(hide = true)]
    Supervise(commands::supervise::Args),
    /// The CIB face: generate, check, apply or remove a cluster's Pacemaker group.
    Crm(commands::crm::Args),
    /// Watch weights follow health: loopback litmus_paper endpoints, the real checker, policy
    /// and reconcile against an in-memory IPVS table. No root, no kernel IPVS needed.
    Demo(commands::demo::Args),
    /// What the supervisors on this machine are doing: per node health, weight, state, since
    /// when, last latency and error. Exit 0 running, 1 stale or failing, 7 not running.
    Status(commands::status::Args),
    /// Force a node to weight 0 for maintenance (remembered across restarts, reloads, reboots).
    Drain(commands::drain::Args),
    /// Return a drained node to service; it ramps up from 0.
    Undrain(commands::drain::Args),
    /// Force the whole cluster up or down, or one node to a weight, on every director (kept in
    /// the Pacemaker CIB with who, when and why); `clear` lifts it. A drain still wins over a
    /// node's override, which wins over the cluster's; this director's override files stay.
    Override(commands::overrides::Args),
    /// Convert the original (Ruby) big_brother's YAML config into one spec per cluster,
    /// DIR/<cluster>.toml, or (--from keepalived) keepalived.conf into one spec per
    /// virtual_server. Writes nothing unless everything converts cleanly.
    Import(commands::import::Args),
    /// Read-only HTTP API: the original big_brother's status routes and Prometheus metrics,
    /// from the supervisors' status files.
    Api(commands::api::Args),
}
