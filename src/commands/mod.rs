//! One short glue function per subcommand: parse arguments (done by clap in `main`), call into
//! the room that does the work, print, and return the exit code.

pub mod agent;
pub mod api;
pub mod code;
pub mod crm;
pub mod demo;
pub mod drain;
pub mod drain_wait;
pub mod import;
pub mod overrides;
pub mod status;
pub mod supervise;
pub mod validate;
