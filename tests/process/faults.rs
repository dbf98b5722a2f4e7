//! Injected faults (issue 19), each with its outcome asserted: what the supervisor and the agent
//! do when the file system fills, the state directory vanishes, the supervisor is frozen, the
//! spec is deleted or replaced by garbage, or a litmus endpoint answers numbers that are not
//! healths. (Netlink `ENOBUFS`/`EINTR`/silence are unit tests of `ipvs::netlink::socket`; see
//! README "How big_brother is tested" for where each fault is covered.)

use std::ffi::CString;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use big_brother::health::plan::{CheckPlan, Probe};
use big_brother::health::probe::Prober;
use big_brother::health::CheckError;

use crate::ocf_support::{expect_reason, is_supervisor, signal, wait_for, Behaviour, Cluster};

const UP: Behaviour = Behaviour::Health(100);

// ---------------------------------------------------------------------------------------------
// Litmus answers that are numbers but not healths

/// Answers every connection with `answer` once the request head is in, then closes.
fn answering(answer: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut c) = conn else { return };
            c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match c.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let _ = c.write_all(&answer);
            let _ = c.shutdown(std::net::Shutdown::Write);
            while matches!(c.read(&mut buf), Ok(n) if n > 0) {}
        }
    });
    addr
}

fn litmus_check(answer: Vec<u8>) -> Result<f64, CheckError> {
    let plan = CheckPlan {
        probe: Probe::Litmus {
            path: "/webapp/status".into(),
        },
        tls: None,
        addr: answering(answer),
        real_port: 80,
    };
    let started = Instant::now();
    let r = Prober::new(plan)
        .unwrap()
        .check(Duration::from_secs(2))
        .map(|v| v.health.value);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the check waited for its budget"
    );
    r
}

fn with_body(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn with_header(value: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\nX-Health: {value}\r\nContent-Length: 0\r\n\r\n").into_bytes()
}

#[test]
fn litmus_healths_that_are_not_numbers_from_0_to_100_fail_the_check() {
    let digits = "9".repeat(64 * 1024);
    for value in [
        "NaN", "nan", "inf", "1e309", "-0", "-0.0", "+50", "100.0001", "1e2", &digits,
    ] {
        for answer in [with_body(&format!("Health: {value}\n")), with_header(value)] {
            match litmus_check(answer) {
                Err(CheckError::NotLitmus(_) | CheckError::TooLarge { .. }) => {}
                other => panic!("Health {:.20}…: {other:?}", value),
            }
        }
    }
    // 64 KiB of leading zeros before a valid health: within the body limit it is the number
    // it spells; beyond it, the answer is too large. Never NaN, never out of range.
    let zeros = format!("Health: {}50\n", "0".repeat(64 * 1024));
    match litmus_check(with_body(&zeros)) {
        Ok(v) => assert_eq!(v, 50.0),
        Err(CheckError::TooLarge { .. }) => {}
        Err(e) => panic!("leading zeros: {e:?}"),
    }
    // The same endpoint with a real health still works: the failures were the numbers.
    assert_eq!(litmus_check(with_body("Health: 0\n")).unwrap(), 0.0);
    assert_eq!(litmus_check(with_header("87.5")).unwrap(), 87.5);
}

// ---------------------------------------------------------------------------------------------
// The supervisor frozen with SIGSTOP

#[test]
fn a_frozen_supervisor_fails_monitor_within_the_documented_bound_and_stop_still_ends_it() {
    let c = Cluster::new("frz1", &[UP]);
    c.agent("start", &[]).expect_code(0);
    let pid = c.pid().unwrap();
    c.agent("monitor", &[]).expect_code(0);
    signal(pid, libc::SIGSTOP);
    let frozen = Instant::now();
    // README: stale after 3 check intervals, at least 10 s (check_interval is 1 s here). The
    // heartbeat is written once per interval, so monitor says 1 by 10 s + 1 interval; `updated_at`
    // is in whole seconds, which may add one more.
    let bound = Duration::from_secs(12);
    loop {
        let r = c.agent("monitor", &[]);
        if r.code() == 1 {
            expect_reason(&r, "stopped reporting");
            break;
        }
        r.expect_code(0);
        assert!(
            frozen.elapsed() < bound,
            "monitor still 0 after {:?}",
            frozen.elapsed()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let took = frozen.elapsed();
    assert!(
        took >= Duration::from_secs(8),
        "stale after only {took:?}: a slow tick must not fail monitor"
    );
    // Stop, still frozen: SIGTERM cannot be handled, SIGKILL ends it within the stop timeout.
    let t0 = Instant::now();
    c.agent("stop", &[("OCF_RESKEY_CRM_meta_timeout", "5000")])
        .expect_code(0);
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "stop took {:?}",
        t0.elapsed()
    );
    assert!(!is_supervisor(pid));
    c.agent("monitor", &[]).expect_code(7);
}

// ---------------------------------------------------------------------------------------------
// The spec deleted, or replaced by garbage, then a reload

#[test]
fn a_deleted_or_garbage_spec_is_refused_on_reload_and_the_old_one_is_kept() {
    let c = Cluster::new("gone1", &[UP, UP]);
    c.agent("start", &[]).expect_code(0);
    let pid = c.pid().unwrap();
    let before = c.table().unwrap();
    assert_eq!(before.len(), 2);

    std::fs::remove_file(&c.config).unwrap();
    let r = c.agent("reload-agent", &[]);
    assert!(matches!(r.code(), 5 | 6), "deleted spec: {}", r.code());
    expect_reason(&r, "gone1.toml");

    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(&c.config, &garbage).unwrap();
    c.agent("reload-agent", &[]).expect_code(6);
    std::fs::write(
        &c.config,
        "name = \"gone1\"\nfwmark = 7\n[[node]]\naddress = ",
    )
    .unwrap();
    c.agent("reload-agent", &[]).expect_code(6);

    // Nothing changed: same supervisor, same table, still healthy at depth.
    assert_eq!(c.pid(), Some(pid));
    assert_eq!(c.table().unwrap(), before);
    c.agent("monitor", &[("OCF_CHECK_LEVEL", "10")])
        .expect_code(0);
    // And a good spec is taken again.
    c.write_spec(7, 1);
    c.agent("reload-agent", &[]).expect_code(0);
    assert_eq!(c.table().unwrap().len(), 1);
    c.agent("stop", &[]).expect_code(0);
}

// ---------------------------------------------------------------------------------------------
// status.json on a full file system

/// A tmpfs of `size` mounted on `dir` for the test's life. Needs root (the test tiers run as
/// root); a refusal fails the test loudly, never skips it.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let c = |s: &str| CString::new(s).unwrap();
        let target = c(dir.to_str().unwrap());
        let opts = c(&format!("size={size},mode=0755"));
        // SAFETY: NUL-terminated strings that outlive the call.
        let rc = unsafe {
            libc::mount(
                c("tmpfs").as_ptr(),
                target.as_ptr(),
                c("tmpfs").as_ptr(),
                0,
                opts.as_ptr().cast(),
            )
        };
        assert_eq!(
            rc,
            0,
            "mount tmpfs on {}: {} (this test needs root)",
            dir.display(),
            std::io::Error::last_os_error()
        );
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let target = CString::new(self.0.to_str().unwrap()).unwrap();
        // SAFETY: a NUL-terminated path; MNT_DETACH so a busy mount still goes.
        unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
    }
}

/// Fills the file system holding `dir` to the last byte.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let block = [0u8; 4096];
    loop {
        match f.write(&block) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(libc::ENOSPC), "{e}");
                break;
            }
        }
    }
    // Byte by byte, down to the last one.
    while f.write(&[0]).is_ok_and(|n| n == 1) {}
    path
}

#[test]
fn a_full_file_system_never_leaves_a_torn_status_and_the_heartbeat_resumes_when_freed() {
    let c = Cluster::new("full1", &[UP, UP]);
    let _fs = Tmpfs::mount(&c.rsctmp, "256k");
    c.agent("start", &[]).expect_code(0);
    let pid = c.pid().unwrap();
    let status = c.state_dir().join("status.json");
    let tick = |s: &serde_json::Value| s["tick"].as_u64().unwrap();
    assert!(c.status().is_some(), "ready, so a status is published");

    let filler = fill(&c.rsctmp);
    // Several ticks with no space: every read of status.json is a whole, parseable file (the
    // write goes to a temporary file renamed into place), and the supervisor lives on. Longer
    // than the status file's refresh (5 s, issue 18): the heartbeat line, written in place, needs
    // no space, but once the status cannot be rewritten it stops too — it would otherwise vouch
    // for a status that is no longer current, and `monitor` must find the supervisor stale
    // exactly as when every tick rewrote the status.
    let full_since = Instant::now();
    while full_since.elapsed() < Duration::from_secs(7) {
        let text = std::fs::read(&status).unwrap();
        let _: serde_json::Value = serde_json::from_slice(&text).unwrap_or_else(|e| {
            panic!("torn status.json ({e}): {}", String::from_utf8_lossy(&text))
        });
        assert!(is_supervisor(pid), "the supervisor died on ENOSPC");
        std::thread::sleep(Duration::from_millis(100));
    }
    let stuck_tick = tick(&c.status().unwrap());
    std::thread::sleep(Duration::from_millis(2_500));
    assert_eq!(
        tick(&c.status().unwrap()),
        stuck_tick,
        "the heartbeat went on while status.json could not be written"
    );
    assert!(
        c.log_text().contains("cannot write") && c.log_text().contains("status.json"),
        "{}",
        c.log_text()
    );
    // No temporary files were left behind to eat the space for good.
    let leftovers: Vec<_> = std::fs::read_dir(c.state_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') || n.contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // Space again: the heartbeat moves on and monitor is 0 at depth.
    std::fs::remove_file(filler).unwrap();
    wait_for("the heartbeat to resume", Duration::from_secs(5), || {
        c.status().is_some_and(|s| tick(&s) > stuck_tick)
    });
    c.agent("monitor", &[("OCF_CHECK_LEVEL", "10")])
        .expect_code(0);
    assert_eq!(c.pid(), Some(pid));
    c.agent("stop", &[]).expect_code(0);
}

// ---------------------------------------------------------------------------------------------
// The state directory removed under a running supervisor

#[test]
fn a_state_directory_removed_under_a_running_supervisor_is_made_again() {
    let c = Cluster::new("rmd1", &[UP, UP]);
    c.agent("start", &[]).expect_code(0);
    let pid = c.pid().unwrap();
    let before = c.table().unwrap();
    std::fs::remove_dir_all(c.state_dir()).unwrap();
    let removed = Instant::now();
    // Within a tick or two (check_interval 1 s) the lock, the status and the table are back:
    // monitor never calls the running supervisor stopped for long (Pacemaker would start a
    // second one).
    wait_for(
        "the state directory to be made again",
        Duration::from_secs(4),
        || c.pid() == Some(pid) && c.status().is_some() && c.table().is_some(),
    );
    let took = removed.elapsed();
    c.agent("monitor", &[("OCF_CHECK_LEVEL", "10")])
        .expect_code(0);
    // The same destinations (weights may have ramped on meanwhile).
    let ips = |t: Vec<(String, u64)>| t.into_iter().map(|(ip, _)| ip).collect::<Vec<_>>();
    assert_eq!(ips(c.table().unwrap()), ips(before));
    assert!(
        c.log_text().contains("was removed; made it again"),
        "{}",
        c.log_text()
    );
    eprintln!("state directory back after {took:?}");
    c.agent("stop", &[]).expect_code(0);
    assert!(!is_supervisor(pid));
}

// ---------------------------------------------------------------------------------------------
// The clock stepped

/// Ramps, `fall`/`rise`, check budgets, tick scheduling and the stuck-checker watch measure time
/// with `Instant` (CLOCK_MONOTONIC), which a step of the wall clock (NTP, an operator's `date`)
/// does not move. This audits it: in the supervisor and the checks, the wall clock
/// (`SystemTime`) is read only to stamp what is published (`status.json`'s `started_at`,
/// `updated_at`, a reload's `at`) — never to decide a weight or a deadline. (The heartbeat is
/// stamped on CLOCK_BOOTTIME as well, through `state::status::Now::read`, and judged by it:
/// `the_heartbeat_is_judged_by_the_boot_time_clock` below.)
#[test]
fn weights_and_deadlines_never_read_the_wall_clock() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    walk(&root.join("supervisor"), &mut files);
    walk(&root.join("health"), &mut files);
    // Where the wall clock may be read, and for what.
    let allowed = [
        ("supervisor/mod.rs", "started_at"),
        ("supervisor/controller/mod.rs", "plan::status"),
        ("supervisor/controller/watch.rs", "at: status::unix_secs"),
        (
            "supervisor/controller/reload.rs",
            "let at = status::unix_secs",
        ),
        // When the CIB's drains were last read: shown in status, never a deadline.
        ("supervisor/cib_watch.rs", "let at = unix_secs"),
    ];
    let mut readers = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let rel = f
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for (n, line) in text.lines().enumerate() {
            // `Now::read()` reads the wall clock too (with the boot-time one).
            if line.contains("SystemTime::now()") || line.contains("Now::read()") {
                let ok = allowed
                    .iter()
                    .any(|(file, what)| rel == *file && line.contains(what));
                if !ok {
                    readers.push(format!("{rel}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        readers.is_empty(),
        "wall clock read for something else: {readers:#?}"
    );
}

/// Issue 19: the heartbeat carries a CLOCK_BOOTTIME stamp (the same clock in every process) and
/// `monitor` judges by it, so a wall-clock step either way changes nothing: a step forward of
/// an hour does not fail a live supervisor, a step back does not hide a stuck one. A file
/// without the stamp (written by an older supervisor during an upgrade) is judged by the wall
/// clock, as that release did. The steps are simulated in the file: `monitor` sees the same
/// difference between the two clocks either way, and the machine's clock is not ours to step.
#[test]
fn the_heartbeat_is_judged_by_the_boot_time_clock() {
    // The library's reading, checked against the kernel's own by the unit tests.
    let boottime_ms = || {
        let b = big_brother::state::status::boottime().expect("CLOCK_BOOTTIME");
        u64::try_from(b.as_millis()).unwrap()
    };
    let c = Cluster::new("boot1", &[UP]);
    c.agent("start", &[]).expect_code(0);
    let pid = c.pid().unwrap();
    let before = boottime_ms();
    // A fresh heartbeat: the next tick's stamp lies between two of our own readings.
    let stamped = || {
        c.status().filter(|st| {
            st["updated_boottime_ms"]
                .as_u64()
                .is_some_and(|b| b >= before)
        })
    };
    wait_for(
        "a heartbeat stamped with CLOCK_BOOTTIME",
        Duration::from_secs(5),
        || stamped().is_some(),
    );
    let st = stamped().unwrap();
    let stamp = st["updated_boottime_ms"].as_u64().unwrap();
    assert!(stamp <= boottime_ms(), "{stamp} is in the future");
    assert!(st["updated_at"].as_u64().unwrap() > 1_600_000_000, "{st}");
    c.agent("monitor", &[]).expect_code(0);

    signal(pid, libc::SIGSTOP);
    let path = c.state_dir().join("status.json");
    let write = |st: &serde_json::Value| {
        std::fs::write(&path, serde_json::to_vec(st).unwrap()).unwrap();
    };
    let wall = st["updated_at"].as_u64().unwrap();
    // The wall clock stepped forward an hour since the heartbeat: still fresh.
    let mut stepped = st.clone();
    stepped["updated_at"] = (wall - 3_600).into();
    write(&stepped);
    c.agent("monitor", &[]).expect_code(0);
    // The wall clock stepped back an hour, while the supervisor has been stuck for a minute by
    // the boot-time clock: stale.
    stepped["updated_at"] = (wall + 3_600).into();
    stepped["updated_boottime_ms"] = (stamp - 60_000).into();
    write(&stepped);
    let r = c.agent("monitor", &[]);
    r.expect_code(1);
    expect_reason(&r, "stopped reporting");
    expect_reason(&r, "by the boot-time clock");
    // An older supervisor's file (no stamp): the wall clock decides, both ways.
    let mut old = st.clone();
    old.as_object_mut().unwrap().remove("updated_boottime_ms");
    old["updated_at"] = (wall - 3_600).into();
    write(&old);
    let r = c.agent("monitor", &[]);
    r.expect_code(1);
    expect_reason(&r, "by the wall clock");
    old["updated_at"] = wall.into();
    write(&old);
    c.agent("monitor", &[]).expect_code(0);

    signal(pid, libc::SIGCONT);
    c.agent("stop", &[]).expect_code(0);
    assert!(!is_supervisor(pid));
}
