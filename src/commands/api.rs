//! `big_brother api`: bind (loopback unless `--allow-remote`), say where, serve forever. See
//! [`crate::api`].

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::api::{self, view::Files, ApiError};
use crate::ocf::env::DEFAULT_RSCTMP;
use crate::ocf::OcfCode;

pub struct Options {
    pub listen: SocketAddr,
    pub allow_remote: bool,
    /// `--rsctmp`, else `$HA_RSCTMP`, else `/run/resource-agents`.
    pub rsctmp: Option<PathBuf>,
    /// Where specs live, to list stopped clusters (`--config-dir`).
    pub config_dir: PathBuf,
}

pub fn run(opts: &Options) -> OcfCode {
    let rsctmp = opts.rsctmp.clone().unwrap_or_else(|| {
        std::env::var_os("HA_RSCTMP")
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from(DEFAULT_RSCTMP), PathBuf::from)
    });
    let listener = match api::bind(opts.listen, opts.allow_remote) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("big_brother api: {e}");
            return match &e {
                ApiError::NotLoopback(_) => OcfCode::ErrArgs,
                ApiError::Bind { source, .. }
                    if source.kind() == std::io::ErrorKind::PermissionDenied =>
                {
                    OcfCode::ErrPerm
                }
                ApiError::Bind { .. } => OcfCode::ErrGeneric,
            };
        }
    };
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
    eprintln!("big_brother api: cannot accept connections on {local}: {e}");
    OcfCode::ErrGeneric
}
