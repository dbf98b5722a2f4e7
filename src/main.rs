//! Entry point: dispatch only. An OCF action as the first argument (or any argument when called
//! as `ocf_big_brother`) runs the resource agent; anything else is a subcommand.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use big_brother::commands;
use big_brother::commands::agent::Mode;

#[derive(Parser)]
#[command(
    name = "big_brother",
    version,
    about = "Health-weighted IPVS load balancing under Pacemaker"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
        #[arg(long, value_name = "DIR", default_value = big_brother::spec::defaults::CONFIG_DIR)]
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
        #[arg(long, value_name = "IP:PORT", default_value = big_brother::api::DEFAULT_LISTEN)]
        listen: std::net::SocketAddr,
        /// Allow a non-loopback --listen address (the API names every node and its health).
        #[arg(long)]
        allow_remote: bool,
        /// Resource agents' state directory (default $HA_RSCTMP, else /run/resource-agents).
        #[arg(long, value_name = "DIR")]
        rsctmp: Option<PathBuf>,
        /// Where specs live, to list configured clusters that are stopped.
        #[arg(long, value_name = "DIR", default_value = big_brother::spec::defaults::CONFIG_DIR)]
        config_dir: PathBuf,
    },
}

/// 5 s to 1 h: the demo's story needs a few seconds, and its spec's ramp-up (a third of the
/// run) must stay within the spec's bound.
fn demo_duration(s: &str) -> Result<std::time::Duration, String> {
    let (min, max) = (Duration::from_secs(5), Duration::from_secs(3600));
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return big_brother::spec::duration::parse_within(&format!("{s}s"), min, max);
    }
    big_brother::spec::duration::parse_within(s, min, max)
}

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().collect();
    let instance_set = std::env::var_os("OCF_RESOURCE_INSTANCE").is_some_and(|v| !v.is_empty());
    if let Mode::Agent(action) = commands::agent::mode(&args, instance_set) {
        return commands::agent::run(action.as_deref(), &commands::agent::program(&args)).into();
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { specs } => commands::validate::run(&specs).into(),
        Command::Supervise {
            cluster,
            config,
            state_dir,
            dry_run,
            ready_within_ms,
        } => commands::supervise::run(&big_brother::supervisor::Args {
            cluster,
            config,
            state_dir,
            dry_run,
            ready_within: Duration::from_millis(ready_within_ms),
        })
        .into(),
        Command::Demo {
            nodes,
            duration,
            plain,
        } => commands::demo::run(&commands::demo::Options {
            nodes,
            duration,
            plain,
        })
        .into(),
        Command::Status { cluster, json } => commands::status::run(cluster.as_deref(), json).into(),
        Command::Drain {
            cluster,
            node,
            config,
        } => commands::drain::run(&cluster, &node, config.as_deref(), true).into(),
        Command::Undrain {
            cluster,
            node,
            config,
        } => commands::drain::run(&cluster, &node, config.as_deref(), false).into(),
        Command::Crm { command } => commands::crm::run(command).into(),
        Command::Import {
            legacy,
            out_dir,
            cluster,
            dry_run,
            force,
            data_dir,
        } => commands::import::run(&commands::import::Options {
            legacy,
            out_dir,
            cluster,
            dry_run,
            force,
            data_dir,
        })
        .into(),
        Command::Api {
            listen,
            allow_remote,
            rsctmp,
            config_dir,
        } => commands::api::run(&commands::api::Options {
            listen,
            allow_remote,
            rsctmp,
            config_dir,
        })
        .into(),
    }
}
