//! One node's health check, whatever its type: the plan ([`CheckPlan`], built by the supervisor
//! from the spec) and the [`Prober`] that runs it to the end on the calling thread, holding what
//! may be reused between checks (a kept-alive connection, the TLS session cache).
//!
//! `litmus`, `http`, `tcp` and `agent` run through the same [`Machine`] the supervisor's event
//! loop drives, here waited on with a blocking `poll(2)` of its one socket: one implementation
//! of every network check, tested the same whether it runs alone or in the loop. `exec` runs its
//! program ([`exec`]).
//!
//! Every type ends within the budget it is given (plus scheduling) in a [`Verdict`] or a
//! [`CheckError`]; nothing here knows the spec, the supervisor or its state.

use std::time::{Duration, Instant};

pub use super::judge::http_verdict;
use super::judge::validate;
use super::machine::{Machine, Step};
pub use super::plan::{CheckPlan, PlanError, Probe, TlsPlan, Verdict};
use super::{exec, CheckError};

// A prober is built by the supervisor and moved into its checker thread.
const _: fn() = || {
    fn is_send<T: Send>() {}
    is_send::<Prober>();
};

/// Runs one plan again and again.
pub struct Prober {
    plan: CheckPlan,
    /// Every type but `exec`.
    machine: Option<Machine>,
}

impl Prober {
    pub fn new(plan: CheckPlan) -> Result<Prober, PlanError> {
        validate(&plan)?;
        let machine = match plan.probe {
            Probe::Exec { .. } => None,
            _ => Some(Machine::new(plan.clone())?),
        };
        Ok(Prober { plan, machine })
    }

    pub fn plan(&self) -> &CheckPlan {
        &self.plan
    }

    /// The machine of a network check (tests and benchmarks read its counters).
    pub fn machine(&self) -> Option<&Machine> {
        self.machine.as_ref()
    }

    /// Forgets connection state (after a panic or a failed check); the TLS session cache stays,
    /// as it holds nothing from the failed exchange that could be trusted less than before.
    pub fn reset(&mut self) {
        if let Some(m) = self.machine.as_mut() {
            m.reset();
        }
    }

    /// One check within `budget`.
    pub fn check(&mut self, budget: Duration) -> Result<Verdict, CheckError> {
        let Prober { plan, machine } = self;
        match (machine, &plan.probe) {
            (_, Probe::Exec { argv, env }) => exec::check(argv, env, plan, budget),
            (Some(m), _) => {
                let r = wait(m, budget);
                if r.is_err() {
                    m.reset();
                }
                r
            }
            (None, _) => Err(CheckError::Internal("no machine for this check".into())),
        }
    }
}

/// Runs `m`'s check to its end, sleeping in `poll(2)` on its socket between steps.
fn wait(m: &mut Machine, budget: Duration) -> Result<Verdict, CheckError> {
    let mut step = m.begin(Instant::now(), budget);
    loop {
        match step {
            Step::Done(r) => return r,
            Step::Wait { fd, events, until } => {
                let left = until.saturating_duration_since(Instant::now());
                if !left.is_zero() {
                    // Rounded up: waking a little late is fine, spinning early is not.
                    let ms = left.as_nanos().div_ceil(1_000_000);
                    let mut p = libc::pollfd {
                        fd,
                        events,
                        revents: 0,
                    };
                    // SAFETY: one valid pollfd; the machine owns `fd` until its next step.
                    unsafe { libc::poll(&mut p, 1, i32::try_from(ms).unwrap_or(i32::MAX)) };
                }
                step = m.advance(Instant::now());
            }
        }
    }
}
