//! `big_brother api`: bind (loopback unless `--allow-remote`), say where, serve forever. See
//! [`crate::api`].

use std::net::SocketAddr;
use std::path::PathBuf;

use super::code::{finish, Failure};
use crate::api::{self, view::Files};
use crate::exit::OcfCode;
use crate::state::FileError;

/// `big_brother api` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address to listen on (IP:PORT).
    #[arg(long, value_name = "IP:PORT", default_value = crate::api::DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Allow a non-loopback --listen address (the API names every node and its health).
    #[arg(long)]
    pub allow_remote: bool,
    /// Resource agents' state directory (default $HA_RSCTMP, else /run/resource-agents).
    #[arg(long, value_name = "DIR")]
    pub rsctmp: Option<PathBuf>,
    /// Where specs live, to list configured clusters that are stopped.
    #[arg(long, value_name = "DIR", default_value = crate::spec::defaults::CONFIG_DIR)]
    pub config_dir: PathBuf,
}

pub fn run(opts: &Args) -> OcfCode {
    finish("api", serve(opts))
}

/// Serves until accepting fails (never returns `Ok`).
fn serve(opts: &Args) -> Result<OcfCode, Failure> {
    let rsctmp = opts
        .rsctmp
        .clone()
        .unwrap_or_else(crate::state::rsctmp_from_env);
    let listener = api::bind(opts.listen, opts.allow_remote)?;
    let local = listener.local_addr().map_or(opts.listen, |a| a);
    println!(
        "big_brother api: listening on http://{local}/ (read-only; status from {})",
        rsctmp.join("big_brother").display()
    );
    let files = Files {
        rsctmp,
        config_dir: Some(opts.config_dir.clone()),
    };
    let e = api::serve(
        &listener,
        &files,
        api::MAX_CONNECTIONS,
        api::Budget::DEFAULT,
    );
    Err(Failure::Io(FileError::of(
        "cannot accept connections on",
        local.to_string(),
    )(e)))
}
