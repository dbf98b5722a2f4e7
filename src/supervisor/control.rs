//! How a running supervisor is told to stop or to reload its spec: a [`Control`] handle the
//! controller is given and polls (at least every 100 ms). The supervisor process connects it to
//! SIGTERM/SIGINT/SIGHUP ([`super::signals::forward_to`]); `demo` and tests call it directly — no
//! process-wide flags, no signals raised at ourselves.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Stop and reload requests for one controller. Clones share the same requests.
#[derive(Clone, Debug, Default)]
pub struct Control {
    stop: Arc<AtomicBool>,
    reload: Arc<AtomicBool>,
}

impl Control {
    pub fn new() -> Control {
        Control::default()
    }

    /// Asks for a clean stop (what SIGTERM means).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Asks for the spec to be read again (what SIGHUP means).
    pub fn reload(&self) {
        self.reload.store(true, Ordering::SeqCst);
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
}
