//! Benchmark (not a test) for the parity features (issue 8):
//!
//! - `big_brother api`: latency of `GET /cluster/NAME` (litmus_paper's question), `GET /` (as
//!   text, and as the HTML status page a browser gets) and `GET /metrics` over loopback, one connection per request as clients make them, with
//!   `BB_BENCH_CLUSTERS` clusters × `BB_BENCH_NODES` nodes of hand-made state (default 10 × 10,
//!   locks held so they count as running); then throughput with 8 clients at once.
//! - `on_change`: what the controller pays to hand a summary over (a channel send), and what
//!   one run of the hook costs end to end (`/bin/true`: fork, exec, wait, output pipe) — the
//!   part that runs on the hook's own thread.
//! - Override files: the cost of the per-tick look at `up/<cluster>` and `down/<cluster>`.
//!
//! Run: `cargo bench --bench parity` (release build). Median / p99 / mean are printed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use big_brother::spec::OnChange;
use big_brother::state::overrides::Watch;
use big_brother::supervisor::on_change::{run_once, Hook, Summary};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn report(what: &str, mut ms: Vec<f64>) {
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = ms.len();
    let mean = ms.iter().sum::<f64>() / n as f64;
    println!(
        "{what:<44} n={n:<6} median {:>8.3} ms   p99 {:>8.3} ms   mean {:>8.3} ms",
        ms[n / 2],
        ms[(n * 99 / 100).min(n - 1)],
        mean
    );
}

/// One cluster's state dir with `nodes` nodes; returns the held lock.
fn fake(rsctmp: &Path, name: &str, nodes: usize) -> File {
    let dir = rsctmp.join("big_brother").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let nodes: Vec<serde_json::Value> = (0..nodes)
        .map(|i| {
            serde_json::json!({"id": format!("10.0.{}.{}", i / 250, i % 250 + 1),
                "address": format!("10.0.{}.{}", i / 250, i % 250 + 1), "health": 90.0,
                "weight": 90, "state": "up", "since": 1, "last_latency_ms": 1.5,
                "checks": 1000, "check_failures": 3})
        })
        .collect();
    let status = serde_json::json!({
        "cluster": name, "pid": 1, "config": "/etc/big_brother/x.toml", "config_digest": "x",
        "dry_run": true, "started_at": 1, "updated_at": now + 3600, "check_interval_ms": 1000,
        "tick": 1, "ready": true,
        "service": {"key": {"kind": "fwmark", "mark": 7, "ipv6": false}, "scheduler": "wlc"},
        "reload": {"generation": 0, "ok": true}, "dests": [], "nodes": nodes
    });
    std::fs::write(dir.join("status.json"), status.to_string()).unwrap();
    std::fs::write(dir.join("lock"), "1\n").unwrap();
    let lock = File::open(dir.join("lock")).unwrap();
    // SAFETY: flock on a descriptor we own and keep open.
    let rc = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    assert_eq!(rc, 0);
    lock
}

fn get(addr: SocketAddr, path: &str) -> usize {
    get_with(addr, path, "")
}

/// A GET with extra header lines (`Accept: …\r\n`); returns the answer's size.
fn get_with(addr: SocketAddr, path: &str, headers: &str) -> usize {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: b\r\n{headers}\r\n").as_bytes())
        .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    assert!(out.starts_with(b"HTTP/1.1 200"), "{path}");
    out.len()
}

fn time(n: usize, mut f: impl FnMut()) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect()
}

fn main() {
    let clusters = env_usize("BB_BENCH_CLUSTERS", 10);
    let nodes = env_usize("BB_BENCH_NODES", 10);
    let runs = env_usize("BB_BENCH_RUNS", 1000);
    let dir = tempfile::tempdir().unwrap();
    let rsctmp = dir.path().join("rsctmp");
    let _locks: Vec<File> = (0..clusters)
        .map(|i| fake(&rsctmp, &format!("c{i}"), nodes))
        .collect();

    let mut child = Command::new(PathBuf::from(env!("CARGO_BIN_EXE_big_brother")))
        .args(["api", "--listen", "127.0.0.1:0", "--rsctmp"])
        .arg(&rsctmp)
        .args(["--config-dir", "/nonexistent"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr: SocketAddr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap()
        .parse()
        .unwrap();
    println!("big_brother api: {clusters} clusters x {nodes} nodes, {runs} requests each");
    let _ = get(addr, "/"); // warm up
    report(
        "GET /cluster/c0 (one connection each)",
        time(runs, || {
            get(addr, "/cluster/c0");
        }),
    );
    report(
        "GET / (index)",
        time(runs / 4, || {
            get(addr, "/");
        }),
    );
    // The status page (issue 20), as a browser asks for it.
    let html = "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n";
    let bytes = get_with(addr, "/", html);
    report(
        &format!("GET / as HTML, the status page ({bytes} bytes)"),
        time(runs / 4, || {
            get_with(addr, "/", html);
        }),
    );
    let bytes = get(addr, "/metrics");
    report(
        &format!("GET /metrics ({bytes} bytes)"),
        time(runs / 4, || {
            get(addr, "/metrics");
        }),
    );
    let started = Instant::now();
    let per = runs;
    let threads: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || {
                for _ in 0..per {
                    get(addr, "/cluster/c0");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{:<44} {:.0} requests/s ({} requests in {secs:.2} s)",
        "8 clients at once, GET /cluster/c0",
        (8 * per) as f64 / secs,
        8 * per
    );
    let _ = child.kill();
    let _ = child.wait();

    // on_change
    let hook = OnChange {
        argv: vec!["/bin/true".into()],
        timeout: Duration::from_secs(5),
    };
    let summary = Summary {
        cluster: "bench".into(),
        service: "FWM 7".into(),
        total: 10,
        down: vec!["10.0.0.1".into()],
        combined_weight: 810,
        override_state: None,
        panic: false,
        at: 0,
    };
    report(
        "on_change run of /bin/true (hook thread)",
        time(runs / 4, || {
            run_once(&hook, &summary.env(Some(0))).unwrap();
        }),
    );
    // The controller's side: handing a summary to the hook thread. Summaries are coalesced,
    // so a flood costs one run per change the hook can keep up with.
    let h = Hook::spawn(hook, "bench").unwrap();
    let sends: u32 = 100_000;
    let t = Instant::now();
    for i in 0..sends {
        let mut s = summary.clone();
        s.down.truncate((i % 2) as usize);
        h.send(s);
    }
    let per_send = t.elapsed().as_secs_f64() * 1e9 / f64::from(sends);
    std::thread::sleep(Duration::from_millis(500));
    println!(
        "{:<44} {per_send:.0} ns per send; {} runs for {sends} alternating summaries",
        "on_change hand-over (controller thread)",
        h.stats().runs
    );

    // Override files: what every tick pays to look at them.
    let data = dir.path().join("data");
    let mut w = Watch::new(&data, "c0");
    for (what, setup) in [("absent", false), ("down file present", true)] {
        if setup {
            std::fs::create_dir_all(data.join("down")).unwrap();
            std::fs::write(data.join("down/c0"), "bench\n").unwrap();
        }
        let polls: u32 = 100_000;
        let t = Instant::now();
        for _ in 0..polls {
            let _ = w.poll();
        }
        println!(
            "{:<44} {:.2} µs per tick",
            format!("override files poll ({what})"),
            t.elapsed().as_secs_f64() * 1e6 / f64::from(polls)
        );
    }
}
