//! How a running supervisor is told to stop or to reload its spec: a [`Control`] handle the
//! controller is given; a request sets a flag and rings the controller's [`Wake`] (an eventfd:
//! async-signal-safe), which the controller sleeps on. The supervisor process connects it to
//! SIGTERM/SIGINT/SIGHUP ([`super::signals::forward_to`]); `demo` and tests call it directly — no
//! process-wide flags, no signals raised at ourselves.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::wake::Wake;

/// Stop and reload requests for one controller. Clones share the same requests.
#[derive(Clone, Debug, Default)]
pub struct Control {
    stop: Arc<AtomicBool>,
    reload: Arc<AtomicBool>,
    /// What the controller sleeps on: rung by every request.
    wake: Arc<Wake>,
}

impl Control {
    pub fn new() -> Control {
        Control::default()
    }

    /// Asks for a clean stop (what SIGTERM means). Async-signal-safe: an atomic store and a
    /// `write(2)`.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake.ring_from_signal();
    }

    /// Asks for the spec to be read again (what SIGHUP means). Async-signal-safe, as `stop`.
    pub fn reload(&self) {
        self.reload.store(true, Ordering::SeqCst);
        self.wake.ring_from_signal();
    }

    /// The wake the controller sleeps on (its checkers' bell rings it too).
    pub fn wake(&self) -> Arc<Wake> {
        Arc::clone(&self.wake)
    }

    /// True once a stop was asked for.
    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// True (once per burst of requests) when a reload was asked for since the last call.
    pub fn take_reload(&self) -> bool {
        self.reload.swap(false, Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_requests_and_reloads_are_taken_once() {
        let c = Control::new();
        let other = c.clone();
        assert!(!c.stop_requested() && !c.take_reload());
        other.reload();
        other.reload();
        assert!(c.take_reload());
        assert!(!c.take_reload(), "a burst is one reload");
        other.stop();
        assert!(c.stop_requested() && c.stop_requested());
    }

    #[test]
    fn a_request_wakes_the_controller() {
        let c = Control::new();
        let wake = c.wake();
        assert!(!wake.wait(std::time::Duration::ZERO));
        let other = c.clone();
        let t = std::time::Instant::now();
        let waiter = std::thread::spawn(move || wake.wait(std::time::Duration::from_secs(10)));
        std::thread::sleep(std::time::Duration::from_millis(20));
        other.reload();
        assert!(waiter.join().unwrap());
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
        c.stop();
        assert!(c.wake().wait(std::time::Duration::ZERO));
    }
}
