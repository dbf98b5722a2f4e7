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
    }
}
