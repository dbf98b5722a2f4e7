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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { specs } => commands::validate::run(&specs).into(),
        Command::Crm { command } => commands::crm::run(command).into(),
    }
}
