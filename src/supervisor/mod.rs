//! The supervisor: checker threads feed a controller that turns health into IPVS weights.
//!
//! Rooms: [`checker`] (one thread per node, health checks), [`policy`] (pure: health → weight,
//! damping, ramp-up, all-down rule), [`reconcile`] (pure: desired vs kernel → minimal changes,
//! and applying them), [`drain`] (operator drains, persisted).
//! The process shell (`run`), runtime, status file and controller loop are added by the
//! supervisor shell (issue 4).

pub mod checker;
pub mod drain;
pub mod policy;
pub mod reconcile;
