//! The command line's shape: every subcommand, option and help text, as clap definitions.
//! `main.rs` parses with them and dispatches; the man pages (big_brother(8) and one page per
//! subcommand) and the shell completions are generated from the same definitions by
//! `examples/gen_docs` at package build time, so `--help`, the pages and the completions cannot
//! disagree. OCF actions never reach clap: `commands::agent::mode` claims them first.

use std::path::PathBuf;
use std::time::Duration;

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
operators use on a load balancer: validate, status, drain, undrain, import, api, demo.";

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

#[derive(Subcommand)]
pub enum Command {
    /// Check spec files; exit 0 when all are valid, 6 (OCF_ERR_CONFIGURED) otherwise.
    Validate {
        #[arg(required = true, value_name = "SPEC")]
        specs: Vec<PathBuf>,
    },
    /// The supervisor `start` launches (internal).
    #[command(hide = true)]
    Supervise {
        #[arg(long)]
        cluster: String,
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        state_dir: PathBuf,
        #[arg(long)]
        dry_run: bool,
        #[arg(long, default_value_t = 20_000)]
        ready_within_ms: u64,
    },
    /// The CIB face: generate, check, apply or remove a cluster's Pacemaker group.
    Crm {
        #[command(subcommand)]
        command: commands::crm::CrmCommand,
    },
    /// Watch weights follow health: loopback litmus_paper endpoints, the real checker, policy
    /// and reconcile against an in-memory IPVS table. No root, no kernel IPVS needed.
    Demo {
        /// Number of nodes (4 to 64).
        #[arg(long, default_value_t = 5)]
        nodes: usize,
        /// How long to run (`30s`, `2m`; a bare number is seconds). Ctrl-C stops earlier.
        #[arg(long, default_value = "30s", value_parser = demo_duration)]
        duration: std::time::Duration,
        /// One line per change instead of a live table (the default when stdout is not a terminal).
        #[arg(long)]
        plain: bool,
    },
    /// What the supervisors on this machine are doing: per node health, weight, state, since
    /// when, last latency and error. Exit 0 running, 1 stale, 7 not running.
    Status {
        /// One cluster (default: every cluster with a state directory here).
        cluster: Option<String>,
        /// Machine-readable output (the status file plus liveness).
        #[arg(long)]
        json: bool,
    },
    /// Force a node to weight 0 for maintenance (remembered across restarts, reloads, reboots).
    Drain {
        cluster: String,
        /// The node's id as `status` shows it (its address, or address:port).
        node: String,
        /// The cluster's spec (default /etc/big_brother/CLUSTER.toml).
        #[arg(long, value_name = "SPEC")]
        config: Option<PathBuf>,
    },
    /// Return a drained node to service; it ramps up from 0.
    Undrain {
        cluster: String,
        node: String,
        #[arg(long, value_name = "SPEC")]
        config: Option<PathBuf>,
    },
    /// Convert the original (Ruby) big_brother's YAML config into one spec per cluster,
    /// DIR/<cluster>.toml. Writes nothing unless every cluster converts cleanly.
    Import {
        /// The original's config file (its default was /etc/big_brother.conf).
        #[arg(value_name = "LEGACY.yml")]
        legacy: PathBuf,
        /// Where to write the specs.
        #[arg(long, value_name = "DIR", default_value = crate::spec::defaults::CONFIG_DIR)]
        out_dir: PathBuf,
        /// Import only this cluster.
        #[arg(long, value_name = "NAME")]
        cluster: Option<String>,
        /// Print the specs on stdout (the report on stderr) and write nothing.
        #[arg(long, visible_alias = "stdout")]
        dry_run: bool,
        /// Replace existing specs that differ from the import.
        #[arg(long)]
        force: bool,
        /// The original daemon's --data-dir (where its up/ and down/ override files live), if
        /// it was not /etc/big_brother.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Read-only HTTP API: the original big_brother's status routes and Prometheus metrics,
    /// from the supervisors' status files.
    Api {
        /// Address to listen on (IP:PORT).
        #[arg(long, value_name = "IP:PORT", default_value = crate::api::DEFAULT_LISTEN)]
        listen: std::net::SocketAddr,
        /// Allow a non-loopback --listen address (the API names every node and its health).
        #[arg(long)]
        allow_remote: bool,
        /// Resource agents' state directory (default $HA_RSCTMP, else /run/resource-agents).
        #[arg(long, value_name = "DIR")]
        rsctmp: Option<PathBuf>,
        /// Where specs live, to list configured clusters that are stopped.
        #[arg(long, value_name = "DIR", default_value = crate::spec::defaults::CONFIG_DIR)]
        config_dir: PathBuf,
    },
}

/// `--duration`: a spec duration, or a bare number of seconds; 5 s to 1 h: the demo's story
/// needs a few seconds, and its spec's ramp-up (a third of the run) must stay within the spec's
/// bound.
fn demo_duration(s: &str) -> Result<std::time::Duration, String> {
    let (min, max) = (Duration::from_secs(5), Duration::from_secs(3600));
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return crate::spec::duration::parse_within(&format!("{s}s"), min, max);
    }
    crate::spec::duration::parse_within(s, min, max)
}
