//! The soak (issue 19): one supervisor (dry-run backend: the kernel is not what is soaked here;
//! the kernel tier runs the same controller against real IPVS) with 200 nodes whose endpoints
//! flap, hang, refuse (a restarting server), trickle and change health continuously; a reload
//! every minute, a drain every few seconds. Sampled at a fixed period: RSS, open descriptors,
//! threads, heartbeat age, ticks per period. Passes when memory, descriptors and threads stay
//! flat, the heartbeat is never stale, and after every change each node's weight is what its
//! endpoint says within `check_interval + check_timeout + 1 s`.
//!
//! `cargo test` runs it for 60 s (`BB_SOAK_SECONDS` changes that); `tests/soak/run --minutes N`
//! runs the long one in release mode and prints the samples.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::ocf_support::Cluster;
use crate::util::run;

const NODES: usize = 200;
const CHECK_INTERVAL_MS: u64 = 1000;
const CHECK_TIMEOUT_MS: u64 = 500;

/// What a node's endpoint does, packed in one atomic: the kind in the high byte, the health
/// in the low one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Up(u32),
    /// Closes every connection at once, as a server being restarted does.
    Refuse,
    /// Accepts, reads the request, answers nothing for 1.5 s.
    Hang,
    /// Answers one byte every 20 ms: slower than the check's budget.
    Trickle,
    /// Alternates between up (health 60) and refusing, connection by connection.
    Flap,
}

impl Mode {
    fn pack(self) -> u32 {
        match self {
            Mode::Up(h) => h,
            Mode::Refuse => 1 << 8,
            Mode::Hang => 2 << 8,
            Mode::Trickle => 3 << 8,
            Mode::Flap => 4 << 8,
        }
    }
    fn unpack(v: u32) -> Mode {
        match v >> 8 {
            0 => Mode::Up(v & 0xff),
            1 => Mode::Refuse,
            2 => Mode::Hang,
            3 => Mode::Trickle,
            _ => Mode::Flap,
        }
    }
    /// The weight it must lead to (`None`: flapping, any weight is right).
    fn weight(self) -> Option<u64> {
        match self {
            Mode::Up(h) => Some(u64::from(h)),
            Mode::Flap => None,
            _ => Some(0),
        }
    }
}

struct Node {
    ip: std::net::Ipv4Addr,
    port: u16,
    mode: Arc<AtomicU32>,
    thread: Option<JoinHandle<()>>,
}

fn node_ip(i: usize) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::new(127, 1, (i / 250) as u8, (i % 250 + 1) as u8)
}

fn answer(s: &mut TcpStream, mode: Mode, flip: &mut bool) {
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = s.set_write_timeout(Some(Duration::from_millis(500)));
    let health = match mode {
        Mode::Up(h) => h,
        Mode::Flap => {
            *flip = !*flip;
            if *flip {
                return;
            }
            60
        }
        Mode::Refuse => return,
        Mode::Hang | Mode::Trickle => 0,
    };
    let mut buf = [0u8; 2048];
    let _ = s.read(&mut buf);
    if mode == Mode::Hang {
        std::thread::sleep(Duration::from_millis(1500));
        return;
    }
    let body = format!("Health: {health}\n");
    let text = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if mode == Mode::Trickle {
        for b in text.as_bytes() {
            if s.write_all(&[*b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    } else {
        let _ = s.write_all(text.as_bytes());
    }
}

fn start_node(i: usize, stop: Arc<AtomicBool>) -> Node {
    let ip = node_ip(i);
    let listener = TcpListener::bind((ip, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let mode = Arc::new(AtomicU32::new(Mode::Up(100).pack()));
    let m = mode.clone();
    let thread = std::thread::Builder::new()
        .name(format!("soak-{i}"))
        .stack_size(64 * 1024)
        .spawn(move || {
            let mut flip = false;
            for conn in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                if let Ok(mut s) = conn {
                    answer(&mut s, Mode::unpack(m.load(Ordering::SeqCst)), &mut flip);
                }
            }
        })
        .unwrap();
    Node {
        ip,
        port,
        mode,
        thread: Some(thread),
    }
}

/// A small deterministic generator (xorshift): the same seed replays the same soak.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn spec(name: &str, nodes: &[Node], timeout_ms: u64) -> String {
    let mut s = format!(
        "name = \"{name}\"\nfwmark = 19\ncheck_interval = \"{CHECK_INTERVAL_MS}ms\"\n\
         check_timeout = \"{timeout_ms}ms\"\nramp_up_time = \"1ms\"\n\
         [[vip]]\naddress = \"192.0.2.19\"\ncidr_netmask = 32\n"
    );
    for n in nodes {
        s.push_str(&format!(
            "[[node]]\naddress = \"{}\"\nport = {}\npath = \"/{name}/status\"\n",
            n.ip, n.port
        ));
    }
    s
}

#[derive(Debug)]
struct Sample {
    at_s: u64,
    rss_kib: u64,
    fds: usize,
    threads: u64,
    heartbeat_age_s: u64,
    ticks: u64,
}

fn proc_field(pid: i32, name: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = text.lines().find(|l| l.starts_with(name)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The heartbeat's age as `monitor` measures it: this process's CLOCK_BOOTTIME against the
/// status file's boot-time stamp (whole seconds, rounded down).
fn heartbeat_age_s(st: &serde_json::Value) -> u64 {
    let now = big_brother::state::status::boottime().expect("CLOCK_BOOTTIME");
    let stamp = st["updated_boottime_ms"]
        .as_u64()
        .expect("a boot-time stamp");
    (u64::try_from(now.as_millis())
        .unwrap()
        .saturating_sub(stamp))
        / 1000
}

#[test]
fn two_hundred_churning_nodes_reloads_and_drains() {
    let seconds: u64 = std::env::var("BB_SOAK_SECONDS")
        .ok()
        .map(|s| s.parse().expect("BB_SOAK_SECONDS: a number of seconds"))
        .unwrap_or(60);
    let long = seconds >= 600;
    let sample_every = Duration::from_secs(if long { 10 } else { 5 });
    let reload_every = Duration::from_secs(if long { 60 } else { 20 });
    let drain_every = Duration::from_secs(7);

    let c = Cluster::in_dir(tempfile::tempdir().unwrap(), "soak", 19, &[]);
    let stop = Arc::new(AtomicBool::new(false));
    let mut nodes: Vec<Node> = (0..NODES).map(|i| start_node(i, stop.clone())).collect();
    std::fs::write(&c.config, spec("soak", &nodes, CHECK_TIMEOUT_MS)).unwrap();
    c.agent("start", &[]).expect_code(0);
    let pid = c.pid().unwrap();

    let mut rng = Rng(0x0019_2026_1205);
    let mut drained: Option<usize> = None;
    let mut samples: Vec<Sample> = Vec::new();
    let mut convergence: Vec<Duration> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    let mut reloads = 0u32;
    let mut drains = 0u32;
    let mut changes = 0u64;
    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);
    let (mut next_sample, mut next_reload, mut next_drain) =
        (started, started + reload_every, started + drain_every);
    // The longest check_timeout the reloads set is 600 ms.
    let bound = Duration::from_millis(CHECK_INTERVAL_MS + 600 + 1000);

    while Instant::now() < end {
        let now = Instant::now();
        if now >= next_sample {
            next_sample += sample_every;
            let st = c.status().expect("a status file");
            let age = heartbeat_age_s(&st);
            samples.push(Sample {
                at_s: started.elapsed().as_secs(),
                rss_kib: proc_field(pid, "VmRSS:"),
                fds: std::fs::read_dir(format!("/proc/{pid}/fd"))
                    .unwrap()
                    .count(),
                threads: proc_field(pid, "Threads:"),
                heartbeat_age_s: age,
                ticks: st["tick"].as_u64().unwrap(),
            });
            if long {
                eprintln!("soak: {:?}", samples.last().unwrap());
            }
        }
        if now >= next_reload {
            next_reload += reload_every;
            reloads += 1;
            let timeout = if reloads % 2 == 1 {
                600
            } else {
                CHECK_TIMEOUT_MS
            };
            std::fs::write(&c.config, spec("soak", &nodes, timeout)).unwrap();
            let r = c.agent("reload-agent", &[]);
            if r.code() != 0 {
                failures.push(format!("reload {reloads} exited {}", r.code()));
            }
        }
        if now >= next_drain {
            next_drain += drain_every;
            drains += 1;
            let data = c.dir.path().join("data");
            let drain = |verb: &str, i: usize| {
                let mut cmd = std::process::Command::new(crate::util::bin());
                cmd.args([verb, "soak", &nodes[i].ip.to_string(), "--config"])
                    .arg(&c.config)
                    .env("BIG_BROTHER_DATA_DIR", &data);
                run(&mut cmd).expect_code(0);
            };
            if let Some(i) = drained.take() {
                drain("undrain", i);
            }
            let i = rng.below(NODES as u64) as usize;
            drain("drain", i);
            drained = Some(i);
        }
        // A batch of changes: ten nodes get a new behaviour.
        for _ in 0..10 {
            let i = rng.below(NODES as u64) as usize;
            let mode = match rng.below(10) {
                0 => Mode::Refuse,
                1 => Mode::Hang,
                2 => Mode::Trickle,
                3 => Mode::Flap,
                _ => Mode::Up(1 + rng.below(100) as u32),
            };
            nodes[i].mode.store(mode.pack(), Ordering::SeqCst);
            changes += 1;
        }
        // Every node's weight must follow within the bound.
        let changed = Instant::now();
        loop {
            let table = c.table().unwrap_or_default();
            let wrong: Vec<String> = nodes
                .iter()
                .enumerate()
                .filter_map(|(i, n)| {
                    let want = if drained == Some(i) {
                        Some(0)
                    } else {
                        Mode::unpack(n.mode.load(Ordering::SeqCst)).weight()
                    }?;
                    let ip = n.ip.to_string();
                    let got = table.iter().find(|(a, _)| *a == ip).map(|(_, w)| *w);
                    (got != Some(want)).then(|| format!("{ip}: {got:?} != {want}"))
                })
                .collect();
            if wrong.is_empty() {
                convergence.push(changed.elapsed());
                break;
            }
            if changed.elapsed() > bound {
                failures.push(format!(
                    "at {:?}: {} weights wrong after {bound:?}: {:?}",
                    started.elapsed(),
                    wrong.len(),
                    &wrong[..wrong.len().min(5)]
                ));
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    c.agent("stop", &[]).expect_code(0);
    stop.store(true, Ordering::SeqCst);
    for n in &mut nodes {
        let _ = TcpStream::connect((n.ip, n.port));
        if let Some(t) = n.thread.take() {
            let _ = t.join();
        }
    }

    convergence.sort();
    let pct = |p: usize| convergence[(convergence.len() - 1) * p / 100];
    // Flat: compare the last third of the run with the second (the first is warm-up).
    let third = samples.len() / 3;
    let mid = &samples[third..2 * third];
    let last = &samples[2 * third..];
    let avg = |s: &[Sample], f: fn(&Sample) -> u64| s.iter().map(f).sum::<u64>() / s.len() as u64;
    let (rss_mid, rss_last) = (avg(mid, |s| s.rss_kib), avg(last, |s| s.rss_kib));
    // Descriptors and threads vary with the checks in flight at the sampling instant (a hung
    // node's connection is open for its whole budget): their averages must not creep.
    let (fds_mid, fds_last) = (avg(mid, |s| s.fds as u64), avg(last, |s| s.fds as u64));
    let (thr_mid, thr_last) = (avg(mid, |s| s.threads), avg(last, |s| s.threads));
    let fds_max = samples.iter().map(|s| s.fds).max().unwrap();
    let thr_max = samples.iter().map(|s| s.threads).max().unwrap();
    let ticks = samples.last().unwrap().ticks - samples[0].ticks;
    let span = samples.last().unwrap().at_s - samples[0].at_s;
    eprintln!(
        "soak: {seconds} s, {NODES} nodes, {changes} changes, {reloads} reloads, {drains} drains, \
         {} samples; RSS {rss_mid} -> {rss_last} KiB; fds {fds_mid} -> {fds_last} (max \
         {fds_max}); threads {thr_mid} -> {thr_last} (max {thr_max}); heartbeat age max {} s; {ticks} ticks in {span} s; \
         convergence p50 {:?} p99 {:?} max {:?}; failures {}",
        samples.len(),
        samples.iter().map(|s| s.heartbeat_age_s).max().unwrap(),
        pct(50),
        pct(99),
        pct(100),
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
    let stale: Vec<&Sample> = samples.iter().filter(|s| s.heartbeat_age_s > 3).collect();
    assert!(stale.is_empty(), "heartbeat too old: {stale:?}");
    assert!(
        rss_last <= rss_mid + rss_mid / 10 + 2048,
        "RSS grew: {rss_mid} -> {rss_last} KiB"
    );
    assert!(
        fds_last <= fds_mid + 20,
        "descriptors: {fds_mid} -> {fds_last}"
    );
    assert!(thr_last <= thr_mid + 10, "threads: {thr_mid} -> {thr_last}");
}
