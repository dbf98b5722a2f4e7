//! The controller's unit tests: one controller over an in-memory table, no threads.

use super::*;
use crate::health::{CheckError, Health, Phase};
use crate::ipvs::memory::Memory;
use crate::supervisor::checker;
use std::path::Path;

/// A controller with one node (not checked yet) and an in-memory table; no threads.
fn controller(dir: &Path) -> Controller {
    controller_with(dir, "")
}

/// The same, with more top-level spec keys.
fn controller_with(dir: &Path, keys: &str) -> Controller {
    controller_every(dir, "1s", "1ms", keys)
}

/// The same, with this check interval and ramp-up time.
fn controller_every(dir: &Path, interval: &str, ramp: &str, keys: &str) -> Controller {
    let text = format!(
        "name = \"t\"\nfwmark = 7\ncheck_interval = \"{interval}\"\nramp_up_time = \"{ramp}\"\n{keys}\n\
         [[vip]]\naddress = \"192.0.2.7\"\n\
         [[node]]\naddress = \"198.51.100.1\"\nport = 9\n"
    );
    let text = text.as_str();
    let spec = spec::parse(&dir.join("t.toml"), text).unwrap();
    let key = *spec.runnable().unwrap();
    let run = spec::Runnable {
        spec,
        key,
        digest: String::new(),
    };
    let ident = Ident {
        cluster: "t".into(),
        instance: None,
        dry_run: true,
        pid: 1,
        started_at: 0,
    };
    let ctx = Context {
        ident,
        state: StateDir::at(dir),
        notifier: Notifier::None,
        control: Control::new(),
        drain_file: dir.join("drain"),
        watch_cib: false,
        lock: None,
    };
    let mut c = Controller::new(run, Box::new(Memory::new()), ctx);
    c.nodes = vec![NodeState::new(None, Instant::now())];
    c.observed = vec![false];
    c.last_result = vec![Instant::now()];
    c.silent_since = vec![None];
    c
}

fn obs(node: usize, result: Result<Health, CheckError>) -> Observation {
    Observation {
        node,
        at: Instant::now(),
        latency: Duration::from_millis(1),
        result,
        drain: false,
        output: None,
    }
}

#[test]
fn a_check_result_that_changes_the_weight_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = controller(dir.path());
    let closed = || Err(CheckError::Closed { phase: Phase::Head });
    assert!(
        c.observe(&obs(0, Ok(Health::new(50.0)))),
        "a new node comes up"
    );
    assert!(c.observed[0]);
    std::thread::sleep(Duration::from_millis(5)); // past the 1 ms ramp
    assert!(!c.observe(&obs(0, Ok(Health::new(50.0)))), "same health");
    assert!(c.observe(&obs(0, Ok(Health::new(20.0)))), "lower health");
    assert!(c.observe(&obs(0, closed())), "the node goes down");
    assert!(!c.observe(&obs(0, closed())), "still down");
    assert!(!c.observe(&obs(3, Ok(Health::new(50.0)))), "no such node");
}

#[test]
fn an_early_tick_is_prompt_but_rate_limited() {
    let last = Instant::now();
    let gap = MIN_TICK_GAP;
    assert_eq!(early_tick(last + Duration::from_secs(1), last), last + gap);
    assert_eq!(early_tick(last + gap / 2, last), last + gap / 2);
}

/// An idle controller ticks once per check interval, not every second; anything that moves
/// with time brings back the ticks of at most a second.
#[test]
fn an_idle_controller_ticks_at_its_interval_and_a_busy_one_every_second() {
    let dir = tempfile::tempdir().unwrap();
    let at = |interval: &str, ramp: &str| {
        let mut c = controller_every(dir.path(), interval, ramp, "");
        c.ready = true;
        c.tick().unwrap();
        c
    };
    let s = Duration::from_secs;
    let mut c = at("20s", "1ms");
    assert_eq!(c.tick_every(), s(20), "idle at 20 s: the interval");
    assert_eq!(
        at("2s", "1ms").tick_every(),
        s(2),
        "idle at 2 s: the interval"
    );
    let ms = Duration::from_millis;
    assert_eq!(at("300ms", "1ms").tick_every(), ms(300));
    // Each of these moves with time: back to a tick a second (or the interval, if shorter).
    c.ready = false;
    assert_eq!(c.tick_every(), s(1), "not ready yet");
    c.ready = true;
    c.backend_error = Some("EIO".into());
    assert_eq!(c.tick_every(), s(1), "a failed apply is retried");
    c.backend_error = None;
    c.watchdog = true;
    assert_eq!(c.tick_every(), s(1), "a watchdog to ping");
    c.watchdog = false;
    assert_eq!(c.tick_every(), s(20));
    // A node coming up ramps over a minute: busy until the ramp is done.
    let mut r = at("20s", "60s");
    r.observe(&obs(0, Ok(Health::new(100.0))));
    r.tick().unwrap();
    assert!(r.moving());
    assert_eq!(r.tick_every(), s(1), "ramping");
    // Judged at the last tick: the ramp's time running out is not its end in the kernel.
    r.nodes[0].restart_ramp(Instant::now() - s(120));
    assert_eq!(r.tick_every(), s(1), "still ramping at the last tick");
    r.tick().unwrap();
    assert_eq!(r.tick_every(), s(20), "ramp over and applied");
    // A ramp shorter than the gap between two ticks (1 ms): the tick that saw it started
    // applied part of it, so the next tick comes within a second, and ends it.
    let mut q = at("20s", "1ms");
    q.observe(&obs(0, Ok(Health::new(100.0))));
    q.nodes[0].restart_ramp(Instant::now());
    q.tick().unwrap();
    // (Whether that tick caught the ramp under way depends on the machine's speed.)
    let partial = q.applied[0].weight < 100;
    let want = if partial { s(1) } else { s(20) };
    assert_eq!(q.tick_every(), want, "part of a ramp applied: {partial}");
    std::thread::sleep(Duration::from_millis(5));
    q.tick().unwrap();
    assert_eq!(q.applied[0].weight, 100);
    assert_eq!(q.tick_every(), s(20));
}

/// A node's connection counts come from the tick's dump of its destination: none before
/// the first dump that holds it, then what the backend reports.
#[test]
fn status_carries_the_dumps_connection_counts() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = controller(dir.path());
    let n = &c.status().nodes[0];
    assert_eq!(
        (n.max_weight, n.active_conns, n.inactive_conns),
        (Some(100), None, None)
    );
    c.tick().unwrap(); // creates the service: its dump was empty
    c.tick().unwrap();
    let n = &c.status().nodes[0];
    assert_eq!(
        (n.active_conns, n.inactive_conns),
        (Some(0), Some(0)),
        "the memory table counts no connections"
    );
    let node = &c.spec.nodes[0];
    let id = (node.address, node.real_port);
    assert!(c.dest_stats.contains_key(&id), "{:?}", c.dest_stats);
    c.dest_stats.insert(
        id,
        DestStats {
            active_conns: 12,
            inactive_conns: 40,
            ..DestStats::default()
        },
    );
    let n = &c.status().nodes[0];
    assert_eq!((n.active_conns, n.inactive_conns), (Some(12), Some(40)));
}

/// Issue 12: a node whose checker stopped reporting must not keep its weight. After
/// `stale_after` without a result it counts as failed, once per interval, through the
/// normal policy (`fall` applies), and a result brings it back to normal.
#[test]
fn a_node_without_results_counts_as_failed_once_per_interval() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = controller_with(dir.path(), "fall = 2");
    let sec = Duration::from_secs(1);
    let t0 = Instant::now();
    c.observe(&Observation {
        at: t0,
        ..obs(0, Ok(Health::new(80.0)))
    });
    std::thread::sleep(Duration::from_millis(5)); // past the 1 ms ramp
    assert_eq!(c.nodes[0].weight(&c.policy, 100, Instant::now()), 80);
    let bound = checker::stale_after(sec, sec);
    assert_eq!(bound, 3 * sec, "2 × 1 s + 1 s");
    c.watch_checkers(t0 + bound);
    assert_eq!(
        c.nodes[0].fails(),
        0,
        "not silent for longer than the bound yet"
    );
    c.watch_checkers(t0 + bound + sec / 10);
    assert_eq!(
        c.nodes[0].fails(),
        1,
        "one failure, fall = 2: still serving"
    );
    assert_eq!(c.nodes[0].mode(), policy::Mode::Up);
    c.watch_checkers(t0 + bound + sec / 2);
    assert_eq!(c.nodes[0].fails(), 1, "at most one failure per interval");
    c.watch_checkers(t0 + bound + sec * 11 / 10);
    assert_eq!(
        c.nodes[0].mode(),
        policy::Mode::Down,
        "fall reached: weight 0"
    );
    let later = t0 + bound + sec * 2;
    let sum = c.nodes[0].summary(&c.policy, 100, 0, later);
    assert_eq!(
        sum.last_error.as_deref(),
        Some("no check result for 4 s (its checker stopped reporting)")
    );
    assert_eq!(
        c.counters.get("198.51.100.1").copied(),
        Some((1, 0)),
        "only real checks are counted as checks"
    );
    // A result again: normal service, and no more failures from silence.
    c.observe(&Observation {
        at: later,
        ..obs(0, Ok(Health::new(80.0)))
    });
    assert_eq!(c.silent_since[0], None);
    assert_eq!(c.nodes[0].mode(), policy::Mode::Up);
    c.watch_checkers(later + sec);
    assert_eq!(c.nodes[0].mode(), policy::Mode::Up);
}

/// A reload reads its spec once, bounded, and only from a regular file: a path swapped for
/// a device between the agent's check and the supervisor's read is refused, not read
/// without end.
#[test]
fn a_runnable_spec_comes_from_one_bounded_read_of_a_regular_file() {
    let t = Instant::now();
    let e = spec::load_runnable(Path::new("/dev/zero"), "t")
        .err()
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(1), "{e}");
    assert!(e.to_string().contains("/dev/zero"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let text = "name = \"t\"\nfwmark = 7\n[[vip]]\naddress = \"192.0.2.7\"\n\
                [[node]]\naddress = \"198.51.100.1\"\nport = 9\n";
    let file = dir.path().join("t.toml");
    std::fs::write(&file, text).unwrap();
    let run = spec::load_runnable(&file, "t").unwrap();
    assert_eq!(run.digest, spec::source::digest(text.as_bytes()));
}

/// The kernel's faults, injected (issue 19): the in-memory table behind a backend that fails
/// the next calls with what netlink returns for `ENOBUFS` (the socket's queue overflowed),
/// `EINTR` (a handler interrupted) and silence (no reply within the socket's timeout).
mod netlink_faults {
    use super::*;
    use crate::ipvs::{Info, Service, SyncDaemon, SyncState, Timeouts};
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Faulty {
        table: Memory,
        /// Failures for the next calls that talk to the kernel, in order.
        next: Arc<Mutex<VecDeque<IpvsError>>>,
    }

    impl Faulty {
        fn fault(&self) -> Result<(), IpvsError> {
            match self.next.lock().unwrap().pop_front() {
                Some(e) => Err(e),
                None => Ok(()),
            }
        }
        fn inject(&self, e: IpvsError) {
            self.next.lock().unwrap().push_back(e);
        }
    }

    impl Ipvs for Faulty {
        fn info(&mut self) -> Result<Info, IpvsError> {
            self.fault()?;
            self.table.info()
        }
        fn services(&mut self) -> Result<Vec<Service>, IpvsError> {
            self.fault()?;
            self.table.services()
        }
        fn add_service(&mut self, svc: &Service) -> Result<(), IpvsError> {
            self.fault()?;
            self.table.add_service(svc)
        }
        fn edit_service(&mut self, svc: &Service) -> Result<(), IpvsError> {
            self.fault()?;
            self.table.edit_service(svc)
        }
        fn del_service(&mut self, key: &ServiceKey) -> Result<(), IpvsError> {
            self.fault()?;
            self.table.del_service(key)
        }
        fn dests(&mut self, key: &ServiceKey) -> Result<Vec<crate::ipvs::DestEntry>, IpvsError> {
            self.fault()?;
            self.table.dests(key)
        }
        fn add_dest(&mut self, key: &ServiceKey, dest: &Dest) -> Result<(), IpvsError> {
            self.fault()?;
            self.table.add_dest(key, dest)
        }
        fn edit_dest(&mut self, key: &ServiceKey, dest: &Dest) -> Result<(), IpvsError> {
            self.fault()?;
            self.table.edit_dest(key, dest)
        }
        fn del_dest(&mut self, key: &ServiceKey, addr: IpAddr, port: u16) -> Result<(), IpvsError> {
            self.fault()?;
            self.table.del_dest(key, addr, port)
        }
        fn sync_daemons(&mut self) -> Result<Vec<SyncDaemon>, IpvsError> {
            self.fault()?;
            self.table.sync_daemons()
        }
        fn start_sync_daemon(&mut self, daemon: &SyncDaemon) -> Result<(), IpvsError> {
            self.fault()?;
            self.table.start_sync_daemon(daemon)
        }
        fn stop_sync_daemon(&mut self, state: SyncState) -> Result<(), IpvsError> {
            self.fault()?;
            self.table.stop_sync_daemon(state)
        }
        fn timeouts(&mut self) -> Result<Timeouts, IpvsError> {
            self.fault()?;
            self.table.timeouts()
        }
        fn set_timeouts(&mut self, timeouts: &Timeouts) -> Result<(), IpvsError> {
            self.fault()?;
            self.table.set_timeouts(timeouts)
        }
    }

    fn enobufs() -> IpvsError {
        IpvsError::Io {
            op: "get destinations",
            source: std::io::Error::from_raw_os_error(libc::ENOBUFS),
        }
    }

    fn eintr() -> IpvsError {
        IpvsError::Kernel {
            op: "set destination",
            errno: std::io::Error::from_raw_os_error(libc::EINTR),
        }
    }

    fn silence() -> IpvsError {
        IpvsError::Io {
            op: "get destinations",
            source: std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "recv(AF_NETLINK): no complete reply from the kernel within 5s",
            ),
        }
    }

    #[test]
    fn a_failed_tick_changes_nothing_half_way_and_the_next_one_converges() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = controller(dir.path());
        let faulty = Faulty::default();
        c.ipvs = Box::new(faulty.clone());
        let node = &c.spec.nodes[0];
        let (addr, port) = (node.address, node.real_port);
        let key = c.key;
        let weight = |f: &Faulty| f.table.weight(&key, addr, port);
        c.observe(&obs(0, Ok(Health::new(50.0))));
        std::thread::sleep(Duration::from_millis(5)); // past the 1 ms ramp
        c.tick().unwrap();
        c.tick().unwrap();
        assert_eq!(weight(&faulty), Some(50));

        for (fault, health) in [(enobufs(), 80.0), (eintr(), 30.0), (silence(), 90.0)] {
            let what = fault.to_string();
            let before = weight(&faulty);
            // The health changes, and the kernel fails the next call of the tick.
            c.observe(&obs(0, Ok(Health::new(health))));
            faulty.inject(fault);
            let e = c.tick().expect_err(&what);
            assert_eq!(e.to_string(), what);
            assert!(
                weight(&faulty) == before || weight(&faulty) == Some(health as u32),
                "{what}: a weight that is neither old nor new: {:?}",
                weight(&faulty)
            );
            // Nothing is lost: the next tick dumps afresh and applies the new weight.
            c.tick().unwrap();
            assert_eq!(weight(&faulty), Some(health as u32), "after {what}");
            assert_eq!(c.backend_error, None, "after {what}");
        }
    }
}

/// Issue 18: `status.json` is rewritten when its content changes, when it is `STATUS_REFRESH`
/// old, or when the file there is not the one written; every tick writes the heartbeat, which
/// names the status file it goes with, and the merged read shows each tick.
#[test]
fn the_status_is_rewritten_on_a_change_and_the_heartbeat_every_tick() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = controller(dir.path());
    let status_path = c.state.status();
    let beat_path = c.state.heartbeat();
    c.tick().unwrap();
    assert!(!status_path.exists(), "not ready: nothing published");
    c.ready = true;
    c.tick().unwrap();
    let id = Identity::at(&status_path).unwrap();
    let beat = heartbeat::read(&beat_path).unwrap();
    assert_eq!((beat.tick, beat.status), (2, id));
    // Nothing changed: the status file stays, the heartbeat moves on, the merged read follows.
    for want in 3..=5 {
        c.tick().unwrap();
        assert_eq!(Identity::at(&status_path), Some(id), "tick {want}");
        assert_eq!(heartbeat::read(&beat_path).unwrap().tick, want);
        let merged = Status::read(&status_path).unwrap().unwrap();
        assert_eq!(merged.tick, want);
        let (alone, _) = Status::read_alone(&status_path).unwrap().unwrap();
        assert_eq!(alone.tick, 2, "the file itself is the one tick 2 wrote");
    }
    // A weight changes: rewritten at once, and the heartbeat names the new file.
    std::thread::sleep(Duration::from_millis(5));
    c.observe(&obs(0, Ok(Health::new(50.0))));
    c.tick().unwrap();
    let id2 = Identity::at(&status_path).unwrap();
    assert_ne!(id2, id);
    assert_eq!(heartbeat::read(&beat_path).unwrap().status, id2);
    let (alone, _) = Status::read_alone(&status_path).unwrap().unwrap();
    assert_eq!((alone.tick, alone.nodes[0].health), (6, Some(50.0)));
    // Removed (the state directory with it): written again at the next tick, heartbeat too.
    std::fs::remove_file(&status_path).unwrap();
    std::fs::remove_file(&beat_path).unwrap();
    c.tick().unwrap();
    assert!(Status::read_alone(&status_path).unwrap().is_some());
    assert_eq!(heartbeat::read(&beat_path).unwrap().tick, 7);
    // Old enough: rewritten though nothing changed.
    let id3 = Identity::at(&status_path).unwrap();
    c.published.as_mut().unwrap().at -= STATUS_REFRESH;
    c.tick().unwrap();
    assert_ne!(Identity::at(&status_path), Some(id3));
    // A clean stop removes both.
    c.shutdown().unwrap();
    assert!(!status_path.exists() && !beat_path.exists());
}

/// A status that cannot be written stops the heartbeat as well (it would vouch for a status
/// that is no longer current), so `monitor` goes stale as it did when every tick rewrote the
/// file; both resume once the status can be written again.
#[test]
fn no_heartbeat_without_a_current_status() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = controller(dir.path());
    c.ready = true;
    c.tick().unwrap();
    let beat_path = c.state.heartbeat();
    assert_eq!(heartbeat::read(&beat_path).unwrap().tick, 1);
    // status.json replaced by a directory: the rename onto it fails.
    let status_path = c.state.status();
    std::fs::remove_file(&status_path).unwrap();
    std::fs::create_dir(&status_path).unwrap();
    c.tick().unwrap();
    c.tick().unwrap();
    assert!(c.published.is_none());
    assert_eq!(
        heartbeat::read(&beat_path).unwrap().tick,
        1,
        "no heartbeat for a status that could not be written"
    );
    std::fs::remove_dir(&status_path).unwrap();
    c.tick().unwrap();
    assert_eq!(heartbeat::read(&beat_path).unwrap().tick, 4);
    assert_eq!(Status::read(&status_path).unwrap().unwrap().tick, 4);
}

/// The loop sleeps until its next tick and wakes at once for a stop request (the signal
/// handler's path: the control's eventfd), however long the tick.
#[test]
fn a_stop_request_wakes_the_sleeping_loop_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = controller_with(dir.path(), "");
    c.spec.check_interval = Duration::from_secs(1);
    let control = c.control.clone();
    let t = Instant::now();
    let runner = std::thread::spawn(move || {
        c.run();
        c
    });
    std::thread::sleep(Duration::from_millis(300));
    let asked = Instant::now();
    control.stop();
    let c = runner.join().unwrap();
    assert!(
        asked.elapsed() < Duration::from_millis(500),
        "{:?}",
        asked.elapsed()
    );
    assert!(t.elapsed() < Duration::from_secs(5));
    drop(c);
}
