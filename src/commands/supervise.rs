//! `big_brother supervise` (hidden): the long-running supervisor `start` launches. Not for
//! operators; its arguments are whatever `start` passes.

use std::path::PathBuf;
use std::time::Duration;

use crate::exit::OcfCode;
use crate::ocf::action::Action;
use crate::ocf::code::ocf_code;
use crate::supervisor;

/// What `start` passes.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long)]
    pub cluster: String,
    #[arg(long)]
    pub config: PathBuf,
    #[arg(long)]
    pub state_dir: PathBuf,
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, default_value_t = 20_000)]
    pub ready_within_ms: u64,
}

/// Runs the supervisor; its exit status is what the agent's table says for a failed `start`.
pub fn run(a: &Args) -> OcfCode {
    let args = supervisor::Args {
        cluster: a.cluster.clone(),
        config: a.config.clone(),
        state_dir: a.state_dir.clone(),
        dry_run: a.dry_run,
        ready_within: Duration::from_millis(a.ready_within_ms),
    };
    match supervisor::run(&args) {
        Ok(()) => OcfCode::Success,
        Err(e) => ocf_code(&e, &Action::Start, false),
    }
}
