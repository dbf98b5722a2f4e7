//! What the controller sleeps on between ticks (issue 18): an `eventfd(2)` that checker threads
//! ring when a result may change a weight ([`super::bell`]) and that the stop and reload
//! requests ring too — from a signal handler, since `write(2)` is async-signal-safe. So the
//! controller wakes only for its next tick or for a reason, never to poll.
//!
//! Before, it woke every 100 ms to look at its signal flags (20 % of 100 idle supervisors'
//! CPU, profiled). Should the kernel refuse an eventfd (out of descriptors), a condition
//! variable stands in, and because a signal handler may not take its lock, the waiter then
//! wakes at least every [`FALLBACK_POLL`] to look at the flags, as before: slower, never deaf.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// The longest sleep without an eventfd: how late a stop or reload may be noticed then.
pub const FALLBACK_POLL: Duration = Duration::from_millis(100);

/// Longest single wait handed to the kernel (a caller's `Duration::MAX` is a day of waits).
const LONGEST_WAIT: Duration = Duration::from_secs(86_400);

#[derive(Debug)]
pub struct Wake {
    /// The eventfd (non-blocking, close-on-exec); `None`: the condition variable serves.
    fd: Option<OwnedFd>,
    rung: Mutex<bool>,
    cv: Condvar,
}

impl Default for Wake {
    fn default() -> Wake {
        Wake::new()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Wake {
    /// An eventfd-backed wake, or the fallback if the kernel refuses one.
    pub fn new() -> Wake {
        // SAFETY: eventfd takes no pointers; a non-negative result is a descriptor we now own.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        let fd = (fd >= 0).then(|| {
            // SAFETY: `fd` was just returned by eventfd and is owned by nothing else.
            unsafe { OwnedFd::from_raw_fd(fd) }
        });
        Wake::from_fd(fd)
    }

    /// Without an eventfd (what `new` falls back to; tests use it directly).
    pub fn fallback() -> Wake {
        Wake::from_fd(None)
    }

    fn from_fd(fd: Option<OwnedFd>) -> Wake {
        Wake {
            fd,
            rung: Mutex::new(false),
            cv: Condvar::new(),
        }
    }

    /// Whether waits end on a ring alone (an eventfd), not also on a poll.
    pub fn event_driven(&self) -> bool {
        self.fd.is_some()
    }

    /// Wakes the waiter (or makes its next wait return at once). From threads, not signal
    /// handlers: the fallback takes a lock.
    pub fn ring(&self) {
        if self.ring_eventfd() {
            return;
        }
        *lock(&self.rung) = true;
        self.cv.notify_one();
    }

    /// [`Wake::ring`] for a signal handler: only `write(2)` on the eventfd, nothing that locks
    /// or allocates. Without an eventfd it does nothing: the waiter polls then.
    pub fn ring_from_signal(&self) {
        self.ring_eventfd();
    }

    fn ring_eventfd(&self) -> bool {
        let Some(fd) = &self.fd else { return false };
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to a descriptor we own. EAGAIN (the counter
        // at its maximum) leaves the wake rung anyway, which is all a ring means.
        unsafe {
            libc::write(
                fd.as_raw_fd(),
                std::ptr::from_ref(&one).cast(),
                std::mem::size_of::<u64>(),
            )
        };
        true
    }

    /// Sleeps until rung or `timeout` has passed (without an eventfd, at most
    /// [`FALLBACK_POLL`]); returns whether it was rung, and un-rings it.
    pub fn wait(&self, timeout: Duration) -> bool {
        let Some(fd) = &self.fd else {
            let mut rung = lock(&self.rung);
            if !*rung {
                rung = match self.cv.wait_timeout(rung, timeout.min(FALLBACK_POLL)) {
                    Ok((g, _)) => g,
                    Err(e) => e.into_inner().0,
                };
            }
            return std::mem::replace(&mut *rung, false);
        };
        let t = timeout.min(LONGEST_WAIT);
        let ts = libc::timespec {
            tv_sec: libc::time_t::try_from(t.as_secs()).unwrap_or(libc::time_t::MAX),
            tv_nsec: libc::c_long::from(t.subsec_nanos()),
        };
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // A ring, the timeout or a signal (EINTR) ends the wait; which one does not matter:
        // the counter, read without blocking, says whether anything rang, and resets it.
        // SAFETY: one pollfd and one timespec, both live for the call; no signal mask.
        unsafe { libc::ppoll(&mut pfd, 1, &ts, std::ptr::null()) };
        let mut count: u64 = 0;
        // SAFETY: reads at most 8 bytes into a live u64 from a descriptor we own.
        let got = unsafe {
            libc::read(
                fd.as_raw_fd(),
                std::ptr::from_mut(&mut count).cast(),
                std::mem::size_of::<u64>(),
            )
        };
        got == 8 && count > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    #[test]
    fn a_ring_before_or_during_a_wait_wakes_it_and_is_taken_once() {
        for wake in [Wake::new(), Wake::fallback()] {
            let wake = Arc::new(wake);
            wake.ring();
            wake.ring();
            assert!(wake.wait(Duration::from_secs(10)), "rung before the wait");
            assert!(!wake.wait(Duration::ZERO), "two rings are one wake-up");
            let w = Arc::clone(&wake);
            let t = Instant::now();
            let waiter = std::thread::spawn(move || w.wait(Duration::from_secs(10)));
            std::thread::sleep(Duration::from_millis(20));
            wake.ring();
            assert!(waiter.join().unwrap());
            assert!(t.elapsed() < Duration::from_secs(5));
        }
    }

    #[test]
    fn an_unrung_wait_lasts_its_timeout_and_the_fallback_polls() {
        let wake = Wake::new();
        assert!(wake.event_driven(), "this kernel gives eventfds");
        let t = Instant::now();
        assert!(!wake.wait(Duration::from_millis(300)));
        assert!(t.elapsed() >= Duration::from_millis(300));
        let fallback = Wake::fallback();
        assert!(!fallback.event_driven());
        let t = Instant::now();
        assert!(!fallback.wait(Duration::from_secs(10)));
        let took = t.elapsed();
        assert!(
            took >= FALLBACK_POLL && took < Duration::from_secs(5),
            "{took:?}"
        );
    }

    /// The signal handler's ring: an eventfd wake ends at once; the fallback is not touched
    /// (no lock in a handler) and its waiter notices within one poll.
    #[test]
    fn a_ring_from_a_signal_handler_wakes_an_eventfd_wait() {
        let wake = Arc::new(Wake::new());
        let w = Arc::clone(&wake);
        let t = Instant::now();
        let waiter = std::thread::spawn(move || w.wait(Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(20));
        wake.ring_from_signal();
        assert!(waiter.join().unwrap());
        assert!(t.elapsed() < Duration::from_secs(5));
        let fallback = Wake::fallback();
        fallback.ring_from_signal();
        assert!(!fallback.wait(Duration::ZERO));
    }
}
