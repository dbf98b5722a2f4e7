//! The OCF face: exit codes, environment, meta-data and the resource agent actions.

pub mod code;

pub use code::OcfCode;
