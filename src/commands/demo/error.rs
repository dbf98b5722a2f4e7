//! Why `big_brother demo` could not run; its own file so the CLI's exit-code table
//! (`commands::code`) can name the argument errors without depending on the demo itself.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{MAX_NODES, MIN_NODES};
use crate::error::Error;
use crate::state::drain;

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("--nodes: expected {MIN_NODES} to {MAX_NODES}, not {0}")]
    Nodes(usize),
    #[error("--duration: expected at least 5s, not {0:?}")]
    Duration(Duration),
    #[error("cannot start a loopback health endpoint on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("in-memory IPVS: {0}")]
    Ipvs(#[from] crate::ipvs::IpvsError),
    #[error("supervisor: {0}")]
    Supervisor(#[from] Error),
    #[error("drain: {0}")]
    Drain(#[from] drain::DrainError),
}

pub fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DemoError + '_ {
    move |source| DemoError::Io {
        path: path.to_path_buf(),
        source,
    }
}
