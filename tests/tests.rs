//! The process and tools tiers: the real binary, real Pacemaker/Puppet tools, loopback
//! endpoints. One integration binary with a module per area (`cargo test --test tests`).
//! Kernel and cluster tiers live in `tests/vm/` and run inside a QEMU VM.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

mod crm;
mod health;
mod health_demo;
mod health_drain;
mod spec;
