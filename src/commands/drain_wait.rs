//! `big_brother drain CLUSTER NODE --wait DURATION` (issue 15): after the drain is recorded,
//! wait until this director's kernel has the node at weight 0 with no active connection — the
//! maintenance-window primitive scripts call before they stop a node.
//!
//! The table asked is the one the cluster's supervisor programs here (`state::backend`: the
//! kernel's IPVS, or the dry-run table when the supervisor runs in dry-run), read every
//! [`POLL`], never longer than the DURATION given. Done (0) when the node's destination is at
//! weight 0 with `ActiveConn` 0, or is gone; on timeout (1) the count left is said. A cluster
//! not running on this director (no supervisor status here, or no service in the table) is 7:
//! there is nothing to wait for here, and the caller should ask the director that serves it.
//! Inactive connections (closing, half-open) are not waited for: they carry no requests.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::code::Failure;
use crate::ipvs::{DestEntry, Ipvs, ServiceKey};
use crate::state::backend::open_backend;
use crate::state::status::Status;
use crate::state::StateDir;

/// Between two looks at the table: the supervisor applies a drain within one tick, and a
/// script waiting on connections does not need finer news.
pub const POLL: Duration = Duration::from_millis(200);
/// The longest `--wait`: a maintenance window, not a way to park a script for days.
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

/// `--wait`'s parser: a duration like the spec's, from 1 ms to [`MAX_WAIT`].
pub fn parse_wait(text: &str) -> Result<Duration, String> {
    crate::spec::duration::parse_within(text, Duration::from_millis(1), MAX_WAIT)
}

/// Where the node stands in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Weight 0 and no active connection, or no destination at all.
    Done,
    Waiting {
        weight: u32,
        active: u32,
    },
}

/// The node's progress from one dump of the service (pure).
pub fn progress(dests: &[DestEntry], addr: IpAddr, port: u16) -> Progress {
    match dests
        .iter()
        .find(|e| e.dest.addr == addr && e.dest.port == port)
    {
        None => Progress::Done,
        Some(e) if e.dest.weight == 0 && e.stats.active_conns == 0 => Progress::Done,
        Some(e) => Progress::Waiting {
            weight: e.dest.weight,
            active: e.stats.active_conns,
        },
    }
}

/// Waits, bounded by `limit`, for node `id` (`addr`, `port`) of `cluster` (service `key`) to be
/// drained on this director; prints progress when it changes.
pub fn wait(
    cluster: &str,
    id: &str,
    key: ServiceKey,
    (addr, port): (IpAddr, u16),
    limit: Duration,
) -> Result<(), Failure> {
    let state = StateDir::new(&crate::state::rsctmp_from_env(), cluster);
    let not_here = |why: String| {
        Failure::NotHere(format!(
            "{cluster}: {why}; the drain is recorded, but there is nothing to wait for on this director (run --wait on the one that serves {cluster})"
        ))
    };
    let status = Status::read(&state.status())
        .ok()
        .flatten()
        .ok_or_else(|| {
            not_here(format!(
                "no supervisor status in {}",
                state.path().display()
            ))
        })?;
    let started = Instant::now();
    let deadline = started.checked_add(limit).unwrap_or(started);
    // The kernel's table is opened once; the dry-run one is re-read each time (the supervisor
    // rewrites its file).
    let mut kernel: Option<Box<dyn Ipvs + Send>> = None;
    let mut last = None;
    loop {
        let ipvs = match kernel.as_mut() {
            Some(k) => k,
            None => kernel.insert(open_backend(status.dry_run, &state).map_err(|e| {
                Failure::Kernel(format!("{cluster}: cannot read the IPVS table: {e}"))
            })?),
        };
        if ipvs
            .service(&key)
            .map_err(|e| Failure::Kernel(e.to_string()))?
            .is_none()
        {
            return Err(not_here(format!(
                "{key} is not in this director's IPVS table"
            )));
        }
        let dests = ipvs
            .dests(&key)
            .map_err(|e| Failure::Kernel(e.to_string()))?;
        if status.dry_run {
            kernel = None;
        }
        let now = Instant::now();
        match progress(&dests, addr, port) {
            Progress::Done => {
                println!(
                    "{cluster}: {id}: weight 0 and no active connections on this director after {:.1} s",
                    now.duration_since(started).as_secs_f64()
                );
                return Ok(());
            }
            Progress::Waiting { weight, active } => {
                if now >= deadline {
                    return Err(Failure::Timeout(format!(
                        "{cluster}: {id}: timed out after {}: {active} active connection{} left (weight {weight})",
                        crate::spec::duration::render(limit),
                        if active == 1 { "" } else { "s" }
                    )));
                }
                if last != Some((weight, active)) {
                    println!(
                        "{cluster}: {id}: weight {weight}, {active} active connection{}; waiting (at most {})",
                        if active == 1 { "" } else { "s" },
                        crate::spec::duration::render(limit)
                    );
                    last = Some((weight, active));
                }
            }
        }
        std::thread::sleep(POLL.min(deadline.saturating_duration_since(now)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::{Dest, DestStats, Forward};

    fn entry(last: u8, weight: u32, active: u32) -> DestEntry {
        DestEntry {
            dest: Dest::new(IpAddr::from([192, 0, 2, last]), 0, Forward::Ipip, weight),
            stats: DestStats {
                active_conns: active,
                inactive_conns: 5,
                ..DestStats::default()
            },
        }
    }

    #[test]
    fn done_is_weight_zero_and_no_active_connection_or_no_destination() {
        let a = IpAddr::from([192, 0, 2, 1]);
        let dests = [entry(1, 40, 3), entry(2, 0, 0)];
        assert_eq!(
            progress(&dests, a, 0),
            Progress::Waiting {
                weight: 40,
                active: 3
            }
        );
        assert_eq!(
            progress(&[entry(1, 0, 3)], a, 0),
            Progress::Waiting {
                weight: 0,
                active: 3
            }
        );
        assert_eq!(
            progress(&[entry(1, 7, 0)], a, 0),
            Progress::Waiting {
                weight: 7,
                active: 0
            },
            "no connections yet, but still taking new ones"
        );
        assert_eq!(
            progress(&[entry(1, 0, 0)], a, 0),
            Progress::Done,
            "inactive ones are not waited for"
        );
        assert_eq!(progress(&dests, a, 80), Progress::Done, "another port");
        assert_eq!(progress(&[], a, 0), Progress::Done);
    }

    #[test]
    fn the_wait_is_bounded() {
        assert_eq!(parse_wait("30s"), Ok(Duration::from_secs(30)));
        assert!(parse_wait("25h").unwrap_err().contains("from 1ms to 24h"));
        assert!(parse_wait("0s").is_err());
    }
}
