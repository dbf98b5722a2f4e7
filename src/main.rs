//! Entry point: dispatch only. An OCF action as the first argument (or any argument when called
//! as `ocf_big_brother`) runs the resource agent, any argument when called as `ipvs_sync` the
//! connection-sync agent; anything else is a subcommand, parsed by clap
//! into its module's arguments struct and handed to that module, which returns the exit code.

use std::process::ExitCode;

use clap::Parser;

use big_brother::cli::{Cli, Command};
use big_brother::commands::{self, agent::Mode};

fn main() -> ExitCode {
    // Every face writes root's files that others must not write, whatever umask Pacemaker or a
    // shell hands it: the lock holds the PID `stop` signals, the drain file decides weights, the
    // state directory's parents hold every cluster's status. Explicit modes cover some files;
    // this covers every directory and file made on the way (issue 19). A stricter mask the
    // caller chose (077) is kept: group and others' write bits are only ever added.
    // SAFETY: umask(2) only sets this process's file mode mask; no memory is involved.
    unsafe {
        let inherited = libc::umask(0o022);
        libc::umask(inherited | 0o022);
    }
    let args: Vec<_> = std::env::args_os().collect();
    let instance_set = std::env::var_os("OCF_RESOURCE_INSTANCE").is_some_and(|v| !v.is_empty());
    match commands::agent::mode(&args, instance_set) {
        Mode::Agent(action) => {
            return commands::agent::run(action.as_deref(), &commands::agent::program(&args)).into()
        }
        Mode::SyncAgent(action) => {
            return commands::agent::run_sync(action.as_deref(), &commands::agent::program(&args))
                .into()
        }
        Mode::Cli => {}
    }
    match Cli::parse().command {
        Command::Validate(a) => commands::validate::run(&a),
        Command::Supervise(a) => commands::supervise::run(&a),
        Command::Crm(a) => commands::crm::run(a.command),
        Command::Demo(a) => commands::demo::run(&a),
        Command::Status(a) => commands::status::run(&a),
        Command::Drain(a) => commands::drain::run(&a, true),
        Command::Undrain(a) => commands::drain::run(&a, false),
        Command::Override(a) => commands::overrides::run(&a),
        Command::Import(a) => commands::import::run(&a),
        Command::Api(a) => commands::api::run(&a),
    }
    .into()
}
