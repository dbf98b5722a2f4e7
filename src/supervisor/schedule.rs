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

/// Longest spread of the first round of checks: the default `check_interval`. At a longer
/// interval the first checks still come within it, so a supervisor started (a failover, a
/// reload) knows every node's health in seconds, not after a whole interval (issue 18: at 20 s,
/// a table programmed 20 s after start). The load this puts on shared endpoints is at most what
/// a cluster at the default interval puts on them all the time.
pub const FIRST_ROUND_MAX: Duration = Duration::from_secs(2);

/// How long the first round of checks is spread over: the interval, at most [`FIRST_ROUND_MAX`].
pub fn first_round_spread(interval: Duration) -> Duration {
    interval.min(FIRST_ROUND_MAX)
}

/// Node `i` of `n`'s first check, and the slot of its grid (`origin`, see [`stagger`]) that
/// follows it: the first check comes at `epoch + spread × i/n` ([`first_round_spread`]); the
/// next at the first slot of the node's grid at least `min(timeout, interval / 2)` after it.
///
/// So the steady rounds stay spread over the whole interval, a node is never checked twice in
/// a row closer than that, and the gap between its first two checks stays under one and a half
/// intervals: its first two results are less than `1.5 × interval + timeout` apart, well inside
/// [`stale_after`]. At an interval of [`FIRST_ROUND_MAX`] or less this is the grid itself (the
/// first check at the origin, the next one interval later).
pub(super) fn first_checks(
    epoch: Instant,
    interval: Duration,
    timeout: Duration,
    i: usize,
    n: usize,
) -> (Instant, Instant) {
    let first = later(epoch, stagger(first_round_spread(interval), i, n));
    let origin = later(epoch, stagger(interval, i, n));
    let gap = timeout.min(interval / 2);
    (first, slot_at_or_after(origin, interval, later(first, gap)))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn at_a_short_interval_the_first_round_is_the_grid() {
        let epoch = Instant::now();
        for interval in [ms(100), ms(1000), ms(2000)] {
            for i in 0..7 {
                let origin = epoch + stagger(interval, i, 7);
                assert_eq!(
                    first_checks(epoch, interval, interval, i, 7),
                    (origin, origin + interval),
                    "{interval:?} node {i}"
                );
            }
        }
    }

    #[test]
    fn at_a_long_interval_the_first_round_takes_two_seconds_then_the_grid_spreads() {
        let epoch = Instant::now();
        for (interval, timeout) in [
            (ms(20_000), ms(20_000)),
            (ms(20_000), ms(1_000)),
            (ms(300_000), ms(5_000)),
            (ms(3_000), ms(3_000)),
        ] {
            let n = 10;
            for i in 0..n {
                let (first, then) = first_checks(epoch, interval, timeout, i, n);
                // Within 2 s, evenly: node i at 2 s × i/n.
                assert_eq!(
                    first,
                    epoch + stagger(FIRST_ROUND_MAX, i, n),
                    "{interval:?} {i}"
                );
                // The next check on the node's grid (its steady phase, interval × i/n) ...
                let origin = epoch + stagger(interval, i, n);
                let since = then.duration_since(origin).as_nanos();
                assert_eq!(
                    since % interval.as_nanos(),
                    0,
                    "{interval:?} node {i}: off its grid"
                );
                // ... at least min(timeout, interval/2) after the first, less than 1.5 intervals.
                let gap = then - first;
                assert!(
                    gap >= timeout.min(interval / 2),
                    "{interval:?} {i}: {gap:?}"
                );
                assert!(gap < interval + interval / 2, "{interval:?} {i}: {gap:?}");
                // Two results at most gap + timeout apart: inside the staleness bound, with an
                // interval's half to spare.
                assert!(gap + timeout + interval / 2 <= stale_after(interval, timeout));
            }
        }
    }

    #[test]
    fn first_checks_never_overflow() {
        let epoch = Instant::now();
        let (first, then) = first_checks(epoch, Duration::MAX, Duration::MAX, 999, 1000);
        assert!(first <= epoch + FIRST_ROUND_MAX);
        assert!(then >= first);
        assert_eq!(first_checks(epoch, ms(100), ms(100), 0, 0).0, epoch);
    }
}
