//! Entry point: dispatch only. An OCF action as the first argument (or any argument when called
//! as `ocf_big_brother`) runs the resource agent; anything else is a subcommand.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use big_brother::cli::{Cli, Command};
use big_brother::commands;
use big_brother::commands::agent::Mode;

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
