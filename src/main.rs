//! Entry point: dispatch only. An OCF action as the first argument runs the resource agent;
//! anything else is a subcommand.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use big_brother::commands;

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
}

fn demo_duration(s: &str) -> Result<std::time::Duration, String> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return big_brother::spec::duration::parse(&format!("{s}s"));
    }
    big_brother::spec::duration::parse(s)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { specs } => commands::validate::run(&specs).into(),
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
    }
}
