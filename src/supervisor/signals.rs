//! The supervisor process's signals: SIGTERM/SIGINT ask its [`Control`] for a clean stop, SIGHUP
//! for a reload. Handlers only store atomic flags and write to the controller's eventfd (both
//! async-signal-safe), which wakes it. And whether whoever started us asked for watchdog pings.

use std::io;
use std::sync::OnceLock;

use super::control::Control;

/// The control the handlers forward to, set once before they are installed. The handler reads
/// it with one atomic load (`OnceLock::get` on an initialised lock takes no lock and allocates
/// nothing) and stores one flag: async-signal-safe.
static TARGET: OnceLock<Control> = OnceLock::new();

extern "C" fn on_signal(sig: libc::c_int) {
    let Some(control) = TARGET.get() else { return };
    // The eventfd's write may set errno; the interrupted code must not see it change.
    // SAFETY: __errno_location returns this thread's errno, valid for the thread's life.
    let errno = unsafe { *libc::__errno_location() };
    if sig == libc::SIGHUP {
        control.reload();
    } else {
        control.stop();
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = errno };
}

/// Makes SIGTERM/SIGINT stop `control`'s controller and SIGHUP reload it. Once per process: a
/// second call (another control) is refused.
pub fn forward_to(control: &Control) -> io::Result<()> {
    TARGET
        .set(control.clone())
        .map_err(|_| io::Error::other("signals already forward to another control"))?;
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value; we set a handler
        // that only reads an initialised OnceLock, stores atomics and writes an eventfd, and
        // pass valid pointers.
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
