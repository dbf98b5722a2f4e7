//! The one verdict on a cluster's supervisor, from its lock and its status file: what `monitor`
//! answers at level 0, what `big_brother status` prints as the state, and what the API calls
//! `Running`. One function, so the three can never disagree.
//!
//! - nobody holds the lock → [`Verdict::Stopped`];
//! - the lock is held but there is no status file yet → [`Verdict::Starting`];
//! - the heartbeat is older than the status file's own bound → [`Verdict::Stale`];
//! - the supervisor reports a persistent problem (it cannot program IPVS, or cannot keep its
//!   health checkers running) → [`Verdict::Failing`];
//! - otherwise [`Verdict::Running`].
//!
//! Reads only; creates nothing.

use std::path::PathBuf;
use std::time::Duration;

use super::status::{Now, Status};
use super::{Liveness, StateDir};

/// A file of the state directory that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{what} {}: {source}", path.display())]
pub struct ReadError {
    pub what: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// What the lock and the status file say.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Stopped,
    /// The lock is held; the supervisor has not reported ready yet.
    Starting {
        pid: Option<i32>,
    },
    /// Ready, heartbeat fresh, no persistent problem.
    Running(Box<Status>),
    /// The heartbeat is older than [`Status::stale_after`].
    Stale {
        pid: Option<i32>,
        status: Box<Status>,
        age: Duration,
        /// `boot-time` or `wall` ([`Status::age_clock`]): which clock measured `age`.
        clock: &'static str,
    },
    /// The supervisor runs but says it cannot do its job.
    Failing {
        pid: Option<i32>,
        status: Box<Status>,
        reason: String,
    },
}

impl Verdict {
    /// The state's name, as `big_brother status` shows it.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Stopped => "stopped",
            Verdict::Starting { .. } => "starting",
            Verdict::Running(_) => "running",
            Verdict::Stale { .. } => "stale",
            Verdict::Failing { .. } => "failing",
        }
    }

    /// The lock holder's pid, when it wrote one.
    pub fn pid(&self) -> Option<i32> {
        match self {
            Verdict::Stopped => None,
            Verdict::Running(s) => Some(s.pid).filter(|p| *p > 0),
            Verdict::Starting { pid }
            | Verdict::Stale { pid, .. }
            | Verdict::Failing { pid, .. } => *pid,
        }
    }

    /// Why a supervisor that holds the lock is not healthy, in the words `monitor` reports;
    /// `None` when it runs well or nothing runs.
    pub fn problem(&self, state: &StateDir) -> Option<String> {
        let who = match self.pid() {
            Some(p) => format!("supervisor pid {p}"),
            None => "supervisor".to_string(),
        };
        match self {
            Verdict::Stopped | Verdict::Running(_) => None,
            Verdict::Starting { .. } => Some(format!(
                "{who} holds the lock but has not reported ready (no {})",
                state.status().display()
            )),
            Verdict::Stale {
                status, age, clock, ..
            } => Some(format!(
                "{who} stopped reporting: last heartbeat {}s ago by the {} clock (limit {}s)",
                age.as_secs(),
                clock,
                status.stale_after().as_secs()
            )),
            Verdict::Failing { reason, .. } => Some(format!("{who} {reason}")),
        }
    }
}

/// The verdict at `now` (take [`Now::read`]: a bare wall-clock reading judges the heartbeat by
/// the wall clock, see [`Status::age`]).
pub fn verdict(state: &StateDir, now: impl Into<Now>) -> Result<Verdict, ReadError> {
    let now = now.into();
    let liveness = state.liveness().map_err(|source| ReadError {
        what: "lock",
        path: state.lock(),
        source,
    })?;
    let pid = match liveness {
        Liveness::Stopped => return Ok(Verdict::Stopped),
        Liveness::Running { pid } => pid,
    };
    let status = Status::read(&state.status()).map_err(|source| ReadError {
        what: "status file",
        path: state.status(),
        source,
    })?;
    let Some(status) = status else {
        return Ok(Verdict::Starting { pid });
    };
    let status = Box::new(status);
    if !status.fresh(now) {
        let age = status.age(now);
        let clock = status.age_clock(now);
        return Ok(Verdict::Stale {
            pid,
            status,
            age,
            clock,
        });
    }
    let reason = match (&status.backend_error, &status.checkers.error) {
        (Some(e), _) => Some(format!("cannot program IPVS: {e}")),
        (None, Some(e)) => Some(format!("cannot keep its health checkers running: {e}")),
        (None, None) => None,
    };
    Ok(match reason {
        Some(reason) => Verdict::Failing {
            pid,
            status,
            reason,
        },
        None => Verdict::Running(status),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::lock::Lock;
    use crate::state::status::tests::sample;
    use std::time::UNIX_EPOCH;

    #[test]
    fn every_state_from_lock_and_status() {
        let (_dir, state) = StateDir::temp();
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(verdict(&state, now).unwrap(), Verdict::Stopped);
        let _held = Lock::acquire(&state, Duration::from_millis(10)).unwrap();
        let me = Some(std::process::id() as i32);
        let v = verdict(&state, now).unwrap();
        assert_eq!(v, Verdict::Starting { pid: me });
        assert!(v
            .problem(&state)
            .unwrap()
            .contains("has not reported ready"));

        let mut s = sample();
        s.updated_at = 1_000;
        s.write(&state.status()).unwrap();
        let v = verdict(&state, now).unwrap();
        assert_eq!((v.name(), v.problem(&state)), ("running", None));

        let later = now + s.stale_after() + Duration::from_secs(1);
        let v = verdict(&state, later).unwrap();
        assert_eq!(v.name(), "stale");
        assert!(v.problem(&state).unwrap().contains("stopped reporting"));

        s.checkers.error = Some("thread cannot start".into());
        s.write(&state.status()).unwrap();
        let v = verdict(&state, now).unwrap();
        assert_eq!(v.name(), "failing");
        assert!(v
            .problem(&state)
            .unwrap()
            .ends_with("cannot keep its health checkers running: thread cannot start"));
        s.backend_error = Some("EPERM".into());
        s.write(&state.status()).unwrap();
        let v = verdict(&state, now).unwrap();
        assert!(v
            .problem(&state)
            .unwrap()
            .ends_with("cannot program IPVS: EPERM"));
    }
}
