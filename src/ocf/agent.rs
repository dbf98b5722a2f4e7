//! The agent's entry point: one OCF action in, one exit code out. Informational actions
//! (`meta-data`, `methods`, `usage`, unknown names) need no parameters, no config, no
//! privileges and log nothing (ocf-tester runs `meta-data` as `nobody`). The others read the
//! environment, run, map any failure to a code once ([`ocf_code`]), print the
//! `ocf-exit-reason:` line for real failures only, and log `<instance> <action> : <rc>` at debug
//! level as resource-agents agents do.

use std::time::{Duration, Instant};

use super::action::{self, Action, IMPLEMENTED};
use super::code::{answer, ocf_code};
use super::env::OcfEnv;
use super::monitor::{self, State};
use super::{metadata, reload, start, stop, validate};
use crate::error::Error;
use crate::exit::OcfCode;
use crate::log;

/// Runs `action`; `program` is how we were called (the log tag and usage text use it).
pub fn run(action: &Action, program: &str) -> OcfCode {
    if let Some(code) = action::informational(action, metadata::xml, IMPLEMENTED, || {
        action::usage(program)
    }) {
        return code;
    }
    if let Action::Other(_) = action {
        eprint!("{}", action::usage(program));
        return OcfCode::ErrUnimplemented;
    }
    let env = OcfEnv::from_process();
    log::init(program, env.instance.as_deref());
    let started = Instant::now();
    let probe = action.is_monitor() && env.is_probe();
    let outcome = dispatch(action, &env, started);
    answer(&env, action, outcome, |e| ocf_code(e, action, probe))
}

/// The deadline of an action: its timeout minus a margin for Pacemaker's own bookkeeping and
/// our cleanup, so we answer before execd kills us.
pub fn deadline(started: Instant, timeout: Duration) -> Instant {
    let margin = (timeout / 10).clamp(Duration::from_millis(500), Duration::from_secs(2));
    started
        + timeout
            .saturating_sub(margin)
            .max(Duration::from_millis(100))
}

fn dispatch(action: &Action, env: &OcfEnv, started: Instant) -> Result<OcfCode, Error> {
    let until = deadline(started, env.timeout_or(metadata::default_timeout(action)));
    match action {
        Action::Start => {
            let params = env.params()?;
            start::start(env, &params, until)?;
            Ok(OcfCode::Success)
        }
        Action::Stop => {
            let params = env.params()?;
            stop::stop(env, &params, until)?;
            Ok(OcfCode::Success)
        }
        Action::Monitor | Action::Status => {
            let level = env.check_level()?;
            let params = env.params()?;
            match monitor::monitor(env, &params, level)? {
                State::Running => Ok(OcfCode::Success),
                State::NotRunning => {
                    // A probe asking about a clean node is routine: not even an info line.
                    if !env.is_probe() {
                        log::info(format!("{}: not running", params.cluster));
                    }
                    Ok(OcfCode::NotRunning)
                }
            }
        }
        Action::ValidateAll => {
            validate::validate_all(env)?;
            Ok(OcfCode::Success)
        }
        Action::ReloadAgent | Action::Reload => {
            let params = env.params()?;
            reload::reload(env, &params, until)?;
            Ok(OcfCode::Success)
        }
        Action::MetaData | Action::Methods | Action::Usage | Action::Other(_) => {
            Ok(OcfCode::Success)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_keep_a_margin() {
        let t0 = Instant::now();
        for (timeout_ms, left_ms) in [
            (20_000, 18_000),
            (3_000, 2_500),
            (100_000, 98_000),
            (300, 100),
        ] {
            assert_eq!(
                deadline(t0, Duration::from_millis(timeout_ms)),
                t0 + Duration::from_millis(left_ms),
                "timeout {timeout_ms} ms"
            );
        }
    }
}
