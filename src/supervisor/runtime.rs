//! The supervisor's process plumbing: the lifetime lock, sd_notify, and signals.
//!
//! - **Lock**: an exclusive `flock` on `<state>/lock`, held until the process dies (the kernel
//!   drops it however we die). The PID is written into the file for `stop` to signal.
//! - **sd_notify**: `READY=1`, `STATUS=…`, `WATCHDOG=1` datagrams to `$NOTIFY_SOCKET` (a path, or
//!   `@name` for the abstract namespace), as systemd defines them (`sd_notify(3)`). `start` binds
//!   that socket in the state directory; under systemd the same code talks to systemd. Twenty
//!   lines of std replace a dependency.
//! - **Signals**: SIGTERM/SIGINT request a clean stop, SIGHUP a reload. Handlers only set atomic
//!   flags (the only async-signal-safe thing worth doing); the controller polls them at least
//!   every 100 ms.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::state::{flock, open_lock_file, StateDir};

/// The held lifetime lock. Dropping it (or dying) releases it.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

impl Lock {
    /// Takes the cluster's lock, retrying for up to `patience`: a `monitor` probe holds a shared
    /// lock for a few microseconds, which must not make a start fail. Fails with `WouldBlock` when
    /// another supervisor holds it for longer.
    pub fn acquire(state: &StateDir, patience: Duration) -> io::Result<Lock> {
        let path = state.lock();
        let deadline = Instant::now() + patience;
        loop {
            let mut file = open_lock_file(&path)?;
            match flock(&file, libc::LOCK_EX | libc::LOCK_NB) {
                Ok(()) => {
                    // `stop` may have unlinked the file between our open and our flock (it
                    // removes the state directory of a stopped cluster): then we hold a lock
                    // nobody else can see. Only the file still at the path counts.
                    if same_file(&file, &path)? {
                        file.set_len(0)?;
                        writeln!(file, "{}", std::process::id())?;
                        return Ok(Lock { _file: file });
                    }
                }
                Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => {
                    if Instant::now() >= deadline {
                        let holder = match state.liveness() {
                            Ok(super::state::Liveness::Running { pid: Some(p) }) => {
                                format!(" (pid {p})")
                            }
                            _ => String::new(),
                        };
                        return Err(io::Error::new(
                            io::ErrorKind::WouldBlock,
                            format!("another supervisor{holder} holds {}", path.display()),
                        ));
                    }
                }
                Err(e) => return Err(e),
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn same_file(file: &File, path: &std::path::Path) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let a = file.metadata()?;
    match std::fs::metadata(path) {
        Ok(b) => Ok(a.dev() == b.dev() && a.ino() == b.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Where `sd_notify` messages go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notifier {
    /// No `NOTIFY_SOCKET`: messages are dropped.
    None,
    Path(PathBuf),
    /// `@name`: Linux abstract namespace.
    Abstract(Vec<u8>),
}

impl Notifier {
    pub fn from_env() -> Notifier {
        Notifier::parse(std::env::var_os("NOTIFY_SOCKET").as_deref())
    }

    pub fn parse(value: Option<&std::ffi::OsStr>) -> Notifier {
        use std::os::unix::ffi::OsStrExt;
        match value.map(|v| v.as_bytes()) {
            None | Some([]) => Notifier::None,
            Some([b'@', rest @ ..]) => Notifier::Abstract(rest.to_vec()),
            Some(_) => Notifier::Path(PathBuf::from(value.unwrap_or_default())),
        }
    }

    /// Sends one notification (newline-separated `KEY=value` assignments). Errors are returned
    /// for logging; a vanished listener is normal once `start` has returned.
    pub fn notify(&self, state: &str) -> io::Result<()> {
        let sock = match self {
            Notifier::None => return Ok(()),
            _ => UnixDatagram::unbound()?,
        };
        match self {
            Notifier::None => Ok(()),
            Notifier::Path(p) => sock.send_to(state.as_bytes(), p).map(|_| ()),
            Notifier::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
                sock.send_to_addr(state.as_bytes(), &addr).map(|_| ())
            }
        }
    }
}

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
    let pid_ok = pid.map_or(true, |p| p.trim().parse::<u32>().ok() == Some(me));
    usec_ok && pid_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn notify_socket_forms() {
        assert_eq!(Notifier::parse(None), Notifier::None);
        assert_eq!(Notifier::parse(Some(OsStr::new(""))), Notifier::None);
        assert_eq!(
            Notifier::parse(Some(OsStr::new("@bb"))),
            Notifier::Abstract(b"bb".to_vec())
        );
        assert_eq!(
            Notifier::parse(Some(OsStr::new("/run/x/notify"))),
            Notifier::Path("/run/x/notify".into())
        );
    }

    #[test]
    fn notify_reaches_a_bound_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let rx = UnixDatagram::bind(&path).unwrap();
        Notifier::Path(path).notify("READY=1\nSTATUS=ok").unwrap();
        let mut buf = [0u8; 64];
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1\nSTATUS=ok");
        Notifier::None.notify("READY=1").unwrap();
    }

    #[test]
    fn lock_is_exclusive_and_records_the_pid() {
        let dir = tempfile::tempdir().unwrap();
        let s = StateDir::at(dir.path());
        let held = Lock::acquire(&s, Duration::from_millis(10)).unwrap();
        assert_eq!(
            s.liveness().unwrap(),
            super::super::state::Liveness::Running {
                pid: Some(std::process::id() as i32)
            }
        );
        let err = Lock::acquire(&s, Duration::from_millis(20)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        assert!(err.to_string().contains("another supervisor"), "{err}");
        drop(held);
        Lock::acquire(&s, Duration::from_millis(10)).unwrap();
    }

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
