//! Supervisor benchmarks that print numbers (`cargo bench --bench supervisor`).
//!
//! 1. Scale: 100 and 1,000 nodes of which 10 % hang (accept the connection, never answer),
//!    checked every second with a one-second budget by the real checker threads, fed to the
//!    real policy and reconciled against the in-memory IPVS table every 100 ms. Reported: check
//!    latency, the longest gap between two checks of one node (a round finishes within one
//!    interval when this stays near the interval), controller tick time, CPU time per round and
//!    the supervisor's RSS and thread count. The endpoints run in a child process (this binary
//!    re-executed) so their cost is not counted.
//! 2. Reaction: time from a node's health change (litmus_paper side) to the new weight in the
//!    table, and the part of it the supervisor itself adds (observation → weight applied).
//!
//! 3. The real supervisor process on the same nodes: CPU time, context switches per check, RSS;
//!    with `BB_BENCH_REFERENCE_BIN=<another big_brother>` the two builds are measured in turn
//!    (3 interleaved windows each) and `RESULT` lines give the medians and their ratio.
//!
//! Options: `--quick` (100 nodes only, fewer trials).

// A benchmark, like a test, may stop at the first surprise.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use big_brother::health::serve::LitmusServer;
use big_brother::ipvs::memory::Memory;
use big_brother::ipvs::{Family, Forward, Ipvs, Service, ServiceKey};
use big_brother::spec::{BackendMode, Node, Ops, Spec};
use big_brother::supervisor::checker::{self, raise_fd_limit, Target};
use big_brother::supervisor::policy::{self, NodeState, Policy};
use big_brother::supervisor::reconcile;

const FARM_ENV: &str = "BB_BENCH_FARM";
const KEY: ServiceKey = ServiceKey::Fwmark {
    family: Family::V4,
    mark: 7,
};

fn main() {
    if let Ok(spec) = std::env::var(FARM_ENV) {
        farm(&spec);
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    println!("big_brother supervisor benchmarks ({} build)", profile());
    println!(
        "machine: {} CPUs; the in-memory IPVS backend stands in for the kernel\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let sizes: &[usize] = if quick { &[100] } else { &[100, 1000] };
    for &n in sizes {
        scale(n, n / 10);
    }
    reaction(if quick { 5 } else { 12 });
}

fn profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// Child process: `healthy` litmus look-alikes and `hung` listeners that never accept, spread
/// over 127.0.0.2 … so no single address runs out of ports. Prints `h ADDR` / `x ADDR` lines,
/// then `ready`, and lives until stdin closes.
fn farm(spec: &str) {
    let (healthy, hung) = spec.split_once(',').unwrap_or(("0", "0"));
    let healthy: usize = healthy.parse().unwrap_or(0);
    let hung: usize = hung.parse().unwrap_or(0);
    raise_fd_limit(4 * (healthy + hung) as u64 + 64);
    let mut servers = Vec::new();
    let mut listeners = Vec::new();
    let mut out = std::io::stdout().lock();
    for i in 0..healthy + hung {
        let ip = IpAddr::V4(Ipv4Addr::new(127, 0, (i / 250) as u8, (i % 250 + 2) as u8));
        let addr = SocketAddr::new(ip, 0);
        if i < healthy {
            let s = LitmusServer::start(addr, "app", 50.0 + (i % 50) as f64).expect("listen");
            writeln!(out, "h {}", s.addr()).expect("stdout");
            servers.push(s);
        } else {
            let l = TcpListener::bind(addr).expect("listen");
            writeln!(out, "x {}", l.local_addr().expect("addr")).expect("stdout");
            listeners.push(l);
        }
    }
    writeln!(out, "ready").expect("stdout");
    out.flush().expect("stdout");
    drop(out);
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
}

fn spec_for(targets: &[Target], interval: Duration) -> Spec {
    Spec {
        file: "(bench)".into(),
        name: "bench".into(),
        description: None,
        service: Some(KEY),
        scheduler: "wlc".into(),
        forward: Forward::Ipip,
        persistence_timeout: None,
        persistence_netmask: None,
        scheduler_flags: vec![],
        one_packet: false,
        check_interval: interval,
        check_timeout: interval,
        ramp_up_time: Duration::from_millis(1),
        fall: 1,
        rise: 1,
        backend_mode: BackendMode::ActiveActive,
        standby: big_brother::spec::Standby::Cold,
        sorry_server: None,
        override_dir: big_brother::spec::defaults::OVERRIDE_DIR.into(),
        on_change: None,
        panic_threshold: 0,
        removal_timeout: big_brother::spec::defaults::REMOVAL_TIMEOUT,
        vips: vec![],
        nodes: targets
            .iter()
            .map(|t| Node {
                address: t.addr.ip(),
                port: t.addr.port(),
                path: t.path().to_string(),
                real_port: 0,
                max_weight: 100,
                priority: 0,
                upper_threshold: 0,
                lower_threshold: 0,
                check: Default::default(),
            })
            .collect(),
        ops: Ops::DEFAULT,
    }
}

fn memory_for(spec: &Spec) -> Memory {
    let mut m = Memory::new();
    m.add_service(&Service::new(KEY, spec.scheduler.clone()))
        .expect("service");
    m
}

/// User + system CPU time of this process.
fn cpu_time() -> Duration {
    // SAFETY: getrusage with a valid pointer to a zeroed local struct.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// A field of /proc/self/status (kB for memory fields).
fn proc_status(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| {
            v.trim_start_matches(':')
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn scale(n: usize, hung: usize) {
    let interval = Duration::from_secs(1);
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .env(FARM_ENV, format!("{},{}", n - hung, hung))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the endpoint farm");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut targets = Vec::new();
    let mut is_hung = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("farm output");
        if line == "ready" {
            break;
        }
        let (kind, addr) = line.split_once(' ').expect("farm line");
        targets.push(Target::litmus(
            targets.len(),
            addr.parse().expect("farm address"),
            "/app/status",
        ));
        is_hung.push(kind == "x");
    }
    assert_eq!(
        targets.len(),
        n,
        "farm started {} of {n} endpoints",
        targets.len()
    );

    let spec = spec_for(&targets, interval);
    let policy = Policy::from_spec(&spec);
    let mut ipvs = memory_for(&spec);
    let t0 = Instant::now();
    let mut states: Vec<NodeState> = (0..n).map(|_| NodeState::new(None, t0)).collect();
    let rss_before = proc_status("VmRSS");
    let (tx, rx) = mpsc::channel();
    let checkers = checker::spawn(&spec, tx.into()).expect("checker threads");
    let spawn_time = t0.elapsed();

    let warmup = 2u32;
    let rounds = 5u32;
    let measure_from = t0 + interval * warmup;
    let end = measure_from + interval * rounds;
    let tick = Duration::from_millis(100);
    let mut next_tick = t0 + tick;
    let mut cpu_start = None;
    let mut last_at: Vec<Option<Instant>> = vec![None; n];
    let mut max_gap = Duration::ZERO;
    let mut latencies = Vec::new();
    let mut hung_latencies = Vec::new();
    let mut ticks = Vec::new();
    let mut observations = 0usize;
    let mut ops = 0usize;
    let mut peak_threads = 0;
    while Instant::now() < end {
        let now = Instant::now();
        if cpu_start.is_none() && now >= measure_from {
            cpu_start = Some(cpu_time());
        }
        match rx.recv_timeout(next_tick.saturating_duration_since(now)) {
            Ok(o) => {
                if o.at >= measure_from {
                    observations += 1;
                    if let Some(prev) = last_at[o.node] {
                        max_gap = max_gap.max(o.at - prev);
                    }
                    if is_hung[o.node] {
                        hung_latencies.push(o.latency);
                    } else {
                        latencies.push(o.latency);
                        assert!(o.result.is_ok(), "healthy node failed: {o:?}");
                    }
                }
                last_at[o.node] = Some(o.at);
                states[o.node].observe(&o, &policy);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => panic!("checkers died"),
        }
        let now = Instant::now();
        if now >= next_tick {
            let t = Instant::now();
            let desired = policy::desired(&spec, &states, &BTreeSet::new(), now);
            ops += reconcile::sync(&mut ipvs, &KEY, &desired)
                .expect("sync")
                .len();
            if now >= measure_from {
                ticks.push(t.elapsed());
            }
            next_tick += tick;
            peak_threads = peak_threads.max(proc_status("Threads"));
        }
    }
    let cpu = cpu_time() - cpu_start.unwrap_or_default();
    let rss = proc_status("VmRSS");
    let hwm = proc_status("VmHWM");
    let t_stop = Instant::now();
    checkers.stop();
    let stop_time = t_stop.elapsed();

    latencies.sort_unstable();
    hung_latencies.sort_unstable();
    ticks.sort_unstable();
    let serving = ipvs
        .dests(&KEY)
        .expect("dests")
        .iter()
        .filter(|d| d.dest.weight > 0)
        .count();
    println!("== {n} nodes, {hung} hung; check every {interval:?}, budget {interval:?}, controller tick {tick:?}");
    println!("  threads spawned in          {}", ms(spawn_time));
    println!(
        "  observations                {observations} in {rounds} rounds (expected ~{})",
        n * rounds as usize
    );
    println!(
        "  check latency, healthy      p50 {}  p99 {}  max {}",
        ms(pct(&latencies, 0.5)),
        ms(pct(&latencies, 0.99)),
        ms(pct(&latencies, 1.0))
    );
    println!(
        "  check latency, hung         p50 {}  max {}",
        ms(pct(&hung_latencies, 0.5)),
        ms(pct(&hung_latencies, 1.0))
    );
    println!(
        "  round time (longest gap between two checks of one node)  {}",
        ms(max_gap)
    );
    println!(
        "  controller tick (policy + dump + reconcile + apply)  p50 {}  max {}",
        ms(pct(&ticks, 0.5)),
        ms(pct(&ticks, 1.0))
    );
    println!(
        "  CPU time per round          {}  ({:.1} % of one CPU)",
        ms(cpu / rounds),
        100.0 * cpu.as_secs_f64() / (interval * rounds).as_secs_f64()
    );
    println!(
        "  RSS                         {:.1} MiB (peak {:.1} MiB; {:.1} MiB before checkers); threads {}",
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0,
        rss_before as f64 / 1024.0,
        peak_threads
    );
    println!("  serving in the table        {serving} of {n}; {ops} changes applied");
    println!("  stop (join all checkers)    {}", ms(stop_time));

    supervisor_process(&targets, &is_hung, interval);
    drop(child.stdin.take());
    let _ = child.wait();
}

/// Field `name` of /proc/<pid>/status (kB for memory fields).
fn proc_status_of(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| {
            v.trim_start_matches(':')
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// utime + stime of a process, from /proc/<pid>/stat.
fn proc_cpu_of(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // After the command: state(0) ppid pgrp session tty tpgid flags minflt cminflt majflt
    // cmajflt utime(11) stime(12).
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 1000 / hz)
}

/// Context switches of every thread of a process (voluntary + involuntary), from
/// /proc/<pid>/task/*/status: each is a thread put to sleep or woken, what the controller's
/// bell saves (issue 18).
fn ctx_switches_of(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .map(|t| {
            let status = std::fs::read_to_string(t.path().join("status")).unwrap_or_default();
            status
                .lines()
                .filter(|l| l.contains("ctxt_switches:"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<u64>()
        })
        .sum()
}

/// One measurement of a supervisor process.
struct Sample {
    ready: Duration,
    cpu: Duration,
    ctx: u64,
    rss: u64,
    hwm: u64,
    threads: u64,
    healthy: Vec<Duration>,
    hung: Vec<Duration>,
    serving: usize,
    nodes: usize,
    ticks: serde_json::Value,
    stop: Duration,
}

/// Rounds of one measurement window.
const ROUNDS: u32 = 10;

/// The same nodes watched by the real supervisor process (`big_brother supervise --dry-run`):
/// its CPU time, context switches and RSS as the operating system sees them. With
/// `BB_BENCH_REFERENCE_BIN` set to another build of big_brother (main's, say), both are measured
/// in turn, three windows each, interleaved, and the medians compared: a before/after of a
/// design change in one run.
fn supervisor_process(targets: &[Target], is_hung: &[bool], interval: Duration) {
    let this = env!("CARGO_BIN_EXE_big_brother").to_string();
    let Ok(reference) = std::env::var("BB_BENCH_REFERENCE_BIN") else {
        let s = measure_supervisor(&this, targets, is_hung, interval);
        print_sample(&s, interval);
        return;
    };
    let checks = (targets.len() as f64) * f64::from(ROUNDS);
    let (mut mine, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        mine.push(measure_supervisor(&this, targets, is_hung, interval));
        theirs.push(measure_supervisor(&reference, targets, is_hung, interval));
    }
    let med = |v: &[Sample], f: &dyn Fn(&Sample) -> f64| {
        let mut x: Vec<f64> = v.iter().map(f).collect();
        x.sort_by(f64::total_cmp);
        x[x.len() / 2]
    };
    let cpu = |s: &Sample| s.cpu.as_secs_f64() * 1000.0 / checks;
    let ctx = |s: &Sample| s.ctx as f64 / checks;
    println!(
        "  -- this build against BB_BENCH_REFERENCE_BIN={reference}, 3 interleaved windows of \
         {ROUNDS} rounds each, medians"
    );
    println!(
        "  RESULT {} nodes cpu_ms_per_check this={:.4} reference={:.4} ratio={:.2}",
        targets.len(),
        med(&mine, &cpu),
        med(&theirs, &cpu),
        med(&mine, &cpu) / med(&theirs, &cpu).max(1e-9)
    );
    println!(
        "  RESULT {} nodes ctx_switches_per_check this={:.2} reference={:.2} ratio={:.2}",
        targets.len(),
        med(&mine, &ctx),
        med(&theirs, &ctx),
        med(&mine, &ctx) / med(&theirs, &ctx).max(1e-9)
    );
    print_sample(&mine[0], interval);
}

fn measure_supervisor(
    bin: &str,
    targets: &[Target],
    is_hung: &[bool],
    interval: Duration,
) -> Sample {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut spec = format!(
        "name = \"bench\"\nfwmark = 7\ncheck_interval = \"{}ms\"\nramp_up_time = \"1s\"\n\
         [[vip]]\naddress = \"192.0.2.7\"\n",
        interval.as_millis()
    );
    for t in targets {
        spec.push_str(&format!(
            "[[node]]\naddress = \"{}\"\nport = {}\npath = \"{}\"\n",
            t.addr.ip(),
            t.addr.port(),
            t.path()
        ));
    }
    let config = dir.path().join("bench.toml");
    std::fs::write(&config, spec).expect("spec");
    let state = dir.path().join("state");
    let started = Instant::now();
    let mut sup = Command::new(bin)
        .args(["supervise", "--cluster", "bench", "--dry-run", "--config"])
        .arg(&config)
        .arg("--state-dir")
        .arg(&state)
        .env("HA_LOGFACILITY", "none")
        .env("BIG_BROTHER_DATA_DIR", dir.path().join("data"))
        .spawn()
        .expect("big_brother supervise");
    let pid = sup.id();
    let status_path = state.join("status.json");
    let read_status = || -> Option<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(&status_path).ok()?).ok()
    };
    while read_status().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "supervisor never became ready"
        );
        if let Ok(Some(st)) = sup.try_wait() {
            panic!("supervisor exited: {st}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let ready = started.elapsed();
    std::thread::sleep(interval * 2);
    let cpu0 = proc_cpu_of(pid);
    let ctx0 = ctx_switches_of(pid);
    let mut threads = 0;
    for _ in 0..ROUNDS {
        std::thread::sleep(interval);
        threads = threads.max(proc_status_of(pid, "Threads"));
    }
    let cpu = proc_cpu_of(pid) - cpu0;
    let ctx = ctx_switches_of(pid).saturating_sub(ctx0);
    let rss = proc_status_of(pid, "VmRSS");
    let hwm = proc_status_of(pid, "VmHWM");
    let st = read_status().expect("status");
    let nodes = st["nodes"].as_array().cloned().unwrap_or_default();
    let mut healthy: Vec<Duration> = Vec::new();
    let mut hung: Vec<Duration> = Vec::new();
    let mut serving = 0;
    for (i, n) in nodes.iter().enumerate() {
        let l = Duration::from_secs_f64(n["last_latency_ms"].as_f64().unwrap_or(0.0) / 1000.0);
        if is_hung[i] {
            hung.push(l);
        } else {
            healthy.push(l);
        }
        if n["weight"].as_u64().unwrap_or(0) > 0 {
            serving += 1;
        }
    }
    healthy.sort_unstable();
    hung.sort_unstable();
    // SAFETY: kill(2) on the pid of our own child, not yet reaped.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGTERM);
    }
    let t = Instant::now();
    let _ = sup.wait();
    Sample {
        ready,
        cpu,
        ctx,
        rss,
        hwm,
        threads,
        healthy,
        hung,
        serving,
        nodes: nodes.len(),
        ticks: st["tick"].clone(),
        stop: t.elapsed(),
    }
}

fn print_sample(s: &Sample, interval: Duration) {
    println!("  -- the real supervisor process (big_brother supervise --dry-run, same nodes)");
    println!("  ready (first round checked and applied)  {}", ms(s.ready));
    println!(
        "  CPU time per round          {}  ({:.1} % of one CPU; dry-run backend writes its table file on changes)",
        ms(s.cpu / ROUNDS),
        100.0 * s.cpu.as_secs_f64() / (interval * ROUNDS).as_secs_f64()
    );
    println!(
        "  context switches per check  {:.2}  (all threads; {} in {ROUNDS} rounds)",
        s.ctx as f64 / (s.nodes.max(1) as f64 * f64::from(ROUNDS)),
        s.ctx
    );
    println!(
        "  RSS                         {:.1} MiB (peak {:.1} MiB); threads {}",
        s.rss as f64 / 1024.0,
        s.hwm as f64 / 1024.0,
        s.threads
    );
    println!(
        "  last check latency          healthy p50 {}  max {}; hung p50 {}",
        ms(pct(&s.healthy, 0.5)),
        ms(pct(&s.healthy, 1.0)),
        ms(pct(&s.hung, 0.5))
    );
    println!(
        "  serving                     {} of {}; ticks {}",
        s.serving, s.nodes, s.ticks
    );
    println!("  stop (SIGTERM to exit)      {}\n", ms(s.stop));
}

fn reaction(trials: usize) {
    let interval = Duration::from_secs(1);
    // Distinct addresses: a node's identity in IPVS is its address (fwmark real servers).
    let servers: Vec<LitmusServer> = (0..10u8)
        .map(|i| {
            let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + i)), 0);
            LitmusServer::start(addr, "app", 100.0).expect("listen")
        })
        .collect();
    let targets: Vec<Target> = servers
        .iter()
        .enumerate()
        .map(|(i, s)| Target::litmus(i, s.addr(), "/app/status"))
        .collect();
    let spec = spec_for(&targets, interval);
    let policy = Policy::from_spec(&spec);
    let mut ipvs = memory_for(&spec);
    // Clones share the table: `watch` sees what the controller programs.
    let watch = ipvs.clone();
    let mut states: Vec<NodeState> = (0..10)
        .map(|_| NodeState::new(Some(100), Instant::now()))
        .collect();
    let (tx, rx) = mpsc::channel();
    let checkers = checker::spawn(&spec, tx.into()).expect("checkers");
    // An event-driven controller: apply as soon as observations arrive. Returns them as
    // (node, at, health).
    let mut step = |states: &mut Vec<NodeState>, wait: Duration| -> Vec<(usize, Instant, f64)> {
        let mut seen = Vec::new();
        let Ok(first) = rx.recv_timeout(wait) else {
            return seen;
        };
        let mut batch = vec![first];
        batch.extend(rx.try_iter());
        for o in &batch {
            states[o.node].observe(o, &policy);
            let v = o.result.as_ref().map_or(0.0, |h| h.value);
            seen.push((o.node, o.at, v));
        }
        let desired = policy::desired(&spec, states, &BTreeSet::new(), Instant::now());
        reconcile::sync(&mut ipvs, &KEY, &desired).expect("sync");
        seen
    };
    let warm = Instant::now() + interval * 2;
    while Instant::now() < warm {
        step(&mut states, Duration::from_millis(50));
    }
    let mut current = vec![100.0; servers.len()];
    let mut total = Vec::new();
    let mut own = Vec::new();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for trial in 0..trials {
        let node = trial % servers.len();
        let to = if current[node] == 100.0 { 40.0 } else { 100.0 };
        current[node] = to;
        // Change at a pseudo-random point of the node's check cycle.
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let until = Instant::now() + Duration::from_millis((seed >> 33) % 1000);
        while Instant::now() < until {
            step(&mut states, Duration::from_millis(20));
        }
        let want = policy::scale(to, 100);
        let changed = Instant::now();
        servers[node].set_measured(to);
        let deadline = changed + interval * 3;
        let mut observed = None;
        loop {
            for (n, at, v) in step(&mut states, Duration::from_millis(20)) {
                if n == node && v == to && observed.is_none() {
                    observed = Some(at);
                }
            }
            if watch.weight(&KEY, spec.nodes[node].address, 0) == Some(want) {
                let applied = Instant::now();
                total.push(applied - changed);
                if let Some(at) = observed {
                    own.push(applied.saturating_duration_since(at));
                }
                break;
            }
            assert!(Instant::now() < deadline, "weight never followed health");
        }
    }
    checkers.stop();
    total.sort_unstable();
    own.sort_unstable();
    println!(
        "== reaction: health change -> new weight in the table ({trials} trials, check every {interval:?})"
    );
    println!(
        "  total                       p50 {}  max {}  (bounded by one check interval + processing)",
        ms(pct(&total, 0.5)),
        ms(pct(&total, 1.0))
    );
    println!(
        "  supervisor's own part (check done -> weight applied)  p50 {}  max {}",
        ms(pct(&own, 0.5)),
        ms(pct(&own, 1.0))
    );
}
