//! The CIB face: spec → Pacemaker `<group>` XML (or, for a warm standby, a clone, a VIP group and
//! their constraints: `warm`, `unit`), and check/apply/remove against a live or
//! file-backed CIB through `cibadmin`.
//!
//! Pure files: `xml` (element tree, parse and print), `generate` (spec → group), `warm` (spec →
//! clone, VIP group, constraints), `sync` (the connection-sync clone), `unit` (one cluster's
//! part of the CIB in either shape, and what `generate` prints), `diff` (normalise and compare),
//! `plan` (what apply/remove will write for a group), `unit_plan` (the same for a warm cluster or
//! a switch between shapes). I/O rooms: `cib` (running the
//! Pacemaker tools) and `apply` (check, apply and remove on top of it), `local` (the supervisor running a spec on
//! this machine, reloaded when its file changed). Errors: `error`; their exit codes: `code`.

pub mod apply;
pub mod cib;
pub mod code;
pub mod diff;
pub mod error;
pub mod generate;
pub mod local;
pub mod plan;
pub mod sync;
pub mod unit;
pub mod unit_plan;
pub mod warm;
pub mod xml;

pub use error::CrmError;
