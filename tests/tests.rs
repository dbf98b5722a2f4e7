//! Every Rust-driven test tier in one integration binary (ripgrep's layout), a module per tier,
//! each runnable alone by its name:
//!
//! - `process::` — the real binary against loopback health endpoints, in dry-run: agent,
//!   supervisor, API, import, spec. Needs nothing beyond Rust and Python's standard library:
//!   `cargo test --test tests process::`.
//! - `tools::` — the real Pacemaker CLI tools (cibadmin, crm_verify, crm_diff, crmsh),
//!   `xmllint`, `ocf-tester`, Puppet, `curl` and Ruby, headless Chromium, `man`, and the official
//!   Prometheus parser; `tests/install-deps` installs them and a missing one fails the test:
//!   `cargo test --test tests tools::`.
//! - `kernel::` — real IPVS: `#[ignore]`d on the host (which has none), run as root in the QEMU
//!   VM: `tests/vm/run -- <this binary> --include-ignored kernel::` (what `tests/run-all` does).
//!
//! The cluster tier (real Corosync + Pacemaker in VMs) is `tests/cluster/run`; the package tier
//! is `tests/package/run`. `util` and `ocf_support` are helpers every tier shares; `structure`
//! checks the layering of `src/` (pure, no tool).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ocf_support;
mod structure;
mod util;

mod process {
    pub mod api;
    mod check_spread;
    mod check_types;
    mod checks;
    mod faults;
    mod fuzz_corpora;
    mod health;
    mod health_demo;
    mod health_drain;
    pub mod health_supervisor;
    mod import;
    mod import_keepalived;
    mod ocf;
    mod ocf_recovery;
    mod operator_state;
    mod parity;
    mod permissions;
    mod soak;
    mod spec;
}

mod tools {
    mod api_browser;
    mod api_metrics;
    mod api_page;
    mod cib_drain;
    mod cib_override;
    pub mod crm;
    mod crm_reload;
    mod import_cib;
    mod ocf_tools;
    mod packaging;
    mod puppet;
}

mod kernel {
    mod ipvs_kernel;
    mod ocf_kernel;
    mod operator_state_kernel;
    mod parity_kernel;
    mod supervisor_kernel;
    mod sync_kernel;
}
