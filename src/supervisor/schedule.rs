//! Each node's time grid (`epoch + interval × i/n + k × interval`, issue 18): where a node's
//! slots fall, and whether a check seen late may still use its slot. Pure arithmetic shared by
//! the checker threads and the checks loop; none of it can overflow.

use std::time::{Duration, Instant};

/// Where the `i`-th of `n` checkers starts within the first interval: `interval × i / n`,
/// computed so that no interval, however long, can overflow.
pub(super) fn stagger(interval: Duration, i: usize, n: usize) -> Duration {
    let i = i.min(n) as u128;
    let nanos = interval.as_nanos().saturating_mul(i) / (n.max(1) as u128);
    let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
    // The remainder is below 10^9, so it fits a u32.
    Duration::new(secs, (nanos % 1_000_000_000) as u32)
}

/// `t + d`, or a time far enough in the future when that cannot be represented.
pub(super) fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d)
        .or_else(|| t.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(t)
}

/// How late a check may start and still use its slot: a tenth of the interval. Later than that
/// the thread was held up (a stalled machine, a restart), and starting at once would put it in
/// step with every other thread held up with it; it waits for the node's next slot instead.
pub(super) fn grace(interval: Duration) -> Duration {
    interval / 10
}

/// The first slot of the grid `origin + k × interval` (k ≥ 0) at or after `t`.
pub(super) fn slot_at_or_after(origin: Instant, interval: Duration, t: Instant) -> Instant {
    if t <= origin {
        return origin;
    }
    let since = t.saturating_duration_since(origin).as_nanos();
    let step = interval.as_nanos().max(1);
    let k = since.div_ceil(step);
    let nanos = step.saturating_mul(k);
    let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
    // The remainder is below 10^9, so it fits a u32.
    later(origin, Duration::new(secs, (nanos % 1_000_000_000) as u32))
}

/// When the check due at `due` may run, seen at `now`: `Ok(budget)` to run it now, with
/// `timeout` cut so that it ends by the node's next slot (`due + interval`); `Err(slot)` when it
/// is more than [`grace`] late, with the node's next slot to wait for instead.
pub(super) fn admit(
    due: Instant,
    interval: Duration,
    timeout: Duration,
    now: Instant,
) -> Result<Duration, Instant> {
    if now.saturating_duration_since(due) > grace(interval) {
        return Err(slot_at_or_after(due, interval, now));
    }
    let end = later(due, interval);
    Ok(timeout.min(end.saturating_duration_since(now)))
}

/// Least time without a result before a node counts as failed, whatever its interval: a busy
/// machine may delay a thread by a second or two, which must not take healthy nodes out.
pub const STALE_MIN: Duration = Duration::from_secs(3);

/// How long a node may go without a check result before it counts as failed:
/// `2 × interval + timeout`, at least [`STALE_MIN`].
///
/// A live checker reports at least every `interval + timeout` (a check that ends early, then
/// one that uses its whole budget; the first result, after the stagger, also comes within
/// `interval + timeout`). One more interval and the floor absorb scheduling delays, so only a
/// checker that really stopped is caught.
pub fn stale_after(interval: Duration, timeout: Duration) -> Duration {
    interval
        .saturating_mul(2)
        .saturating_add(timeout.min(interval))
        .max(STALE_MIN)
}
