//! `big_brother supervise` (hidden): the long-running supervisor `start` launches. Not for
//! operators; its arguments are whatever `start` passes.

use crate::ocf::OcfCode;
use crate::supervisor::{self, Args};

pub fn run(args: &Args) -> OcfCode {
    supervisor::run(args)
}
