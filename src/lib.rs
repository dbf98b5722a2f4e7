//! big_brother: health-weighted IPVS load balancing under Pacemaker.
//!
//! One binary, four faces: the OCF resource agent (`ocf`), the supervisor it spawns
//! (`supervisor`, `health`, `ipvs`), the CIB generator (`crm`) and the spec every face reads
//! (`spec`). `commands` holds the thin glue between the command line and those rooms.

pub mod api;
pub mod cli;
pub mod commands;
pub mod crm;
pub mod error;
pub mod exit;
pub mod health;
pub mod ipvs;
pub mod log;
pub mod ocf;
pub mod spec;
pub mod state;
pub mod supervisor;
pub mod text;
pub mod tool;
