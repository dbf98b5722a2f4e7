//! The supervisor's signals: SIGTERM/SIGINT request a clean stop, SIGHUP a reload. Handlers only
//! set atomic flags (the only async-signal-safe thing worth doing); the controller polls them at
//! least every 100 ms. And whether whoever started us asked for watchdog pings.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

static TERM: AtomicBool = AtomicBool::new(false);
static HUP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    // Async-signal-safe: atomics only.
    if sig == libc::SIGHUP {
        HUP.store(true, Ordering::SeqCst);
    } else {
        TERM.store(true, Ordering::SeqCst);
    }
}

/// Installs the SIGTERM/SIGINT/SIGHUP handlers.
pub fn install_signal_handlers() -> io::Result<()> {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value; we set a handler
        // that only touches atomics, and pass valid pointers to sigaction.
        let rc = unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// True once SIGTERM or SIGINT arrived.
pub fn stop_requested() -> bool {
    TERM.load(Ordering::SeqCst)
}

/// True (once per signal burst) when SIGHUP arrived since the last call.
pub fn take_reload_request() -> bool {
    HUP.swap(false, Ordering::SeqCst)
}

/// True when whoever started us asked for watchdog pings (sd_watchdog_enabled(3)):
/// `WATCHDOG_USEC` is set to a positive number and `WATCHDOG_PID`, if set, is our pid.
pub fn watchdog_requested() -> bool {
    watchdog_from(
        std::env::var("WATCHDOG_USEC").ok().as_deref(),
        std::env::var("WATCHDOG_PID").ok().as_deref(),
        std::process::id(),
    )
}

fn watchdog_from(usec: Option<&str>, pid: Option<&str>, me: u32) -> bool {
    let usec_ok = usec
        .and_then(|u| u.trim().parse::<u64>().ok())
        .is_some_and(|u| u > 0);
    let pid_ok = pid.is_none_or(|p| p.trim().parse::<u32>().ok() == Some(me));
    usec_ok && pid_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchdog_only_when_asked_for_us() {
        assert!(!watchdog_from(None, None, 7));
        assert!(!watchdog_from(Some("0"), None, 7));
        assert!(!watchdog_from(Some("x"), None, 7));
        assert!(watchdog_from(Some("30000000"), None, 7));
        assert!(watchdog_from(Some("30000000"), Some("7"), 7));
        assert!(!watchdog_from(Some("30000000"), Some("8"), 7));
    }
}
