//! The OCF face: exit codes, environment, parameters, meta-data and the resource agent
//! actions. [`agent::run`] is the entry point; the supervisor it launches lives in
//! `crate::supervisor`.

pub mod action;
pub mod agent;
pub mod code;
pub mod env;
pub mod metadata;
pub mod monitor;
pub mod params;
pub mod reload;
pub mod spawn;
pub mod start;
pub mod stop;
pub mod validate;
