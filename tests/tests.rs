//! The process and tools tiers: the real binary, real Pacemaker/Puppet tools, loopback
//! endpoints. One integration binary with a module per area (`cargo test --test tests`).
//! Kernel and cluster tiers live in `tests/vm/` and run inside a QEMU VM.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

mod api;
mod api_browser;
mod api_page;
mod crm;
mod crm_reload;
mod health;
mod health_demo;
mod health_drain;
mod health_supervisor;
mod import;
mod ipvs_kernel;
mod ocf;
mod ocf_kernel;
mod ocf_recovery;
mod ocf_support;
mod ocf_tools;
mod packaging;
mod parity;
mod parity_kernel;
mod puppet;
mod spec;
mod supervisor_kernel;
