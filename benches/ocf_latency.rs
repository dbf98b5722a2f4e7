//! Benchmark (not a test): latency of the agent's `monitor` and `meta-data` — what Pacemaker
//! pays every monitor interval — beside `ocf:heartbeat:Dummy` and `ocf:heartbeat:IPaddr2`
//! `monitor` on the same machine. Each is a fresh process, as execd runs it; 1,000 runs each
//! (`BB_BENCH_RUNS` to change), median / p99 / mean printed in milliseconds.
//!
//! Run: `cargo bench --bench ocf_latency` (builds the release binary). Needs resource-agents.
//! Our cluster runs in dry-run mode with loopback health endpoints; IPaddr2 monitors
//! 127.0.0.1/8 on `lo`, which every host has (so it answers "running" without changing
//! anything).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const AGENTS: &str = "/usr/lib/ocf/resource.d/heartbeat";

fn main() {
    let runs: usize = std::env::var("BB_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_big_brother"));
    let dir = tempfile::tempdir().unwrap();
    let rsc = dir.path().join("rsctmp");
    std::fs::create_dir_all(&rsc).unwrap();

    // Two loopback litmus_paper stand-ins for the cluster's nodes.
    let mut ports = Vec::new();
    for i in 0..2u8 {
        let l = TcpListener::bind(("127.0.0.".to_string() + &(i + 1).to_string(), 0)).unwrap();
        ports.push(l.local_addr().unwrap().port());
        std::thread::spawn(move || {
            for mut s in l.incoming().flatten() {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf);
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\nHealth: 90\n",
                );
            }
        });
    }
    let config = dir.path().join("bench.toml");
    let mut spec = String::from(
        "name = \"bench\"\nfwmark = 7\ncheck_interval = \"1s\"\n\
         [[vip]]\naddress = \"192.0.2.7\"\ncidr_netmask = 32\n",
    );
    for (i, p) in ports.iter().enumerate() {
        spec.push_str(&format!(
            "[[node]]\naddress = \"127.0.0.{}\"\nport = {p}\npath = \"/bench/status\"\n",
            i + 1
        ));
    }
    std::fs::write(&config, spec).unwrap();
    let ours: Vec<(&str, String)> = vec![
        ("OCF_ROOT", "/usr/lib/ocf".into()),
        ("OCF_RESOURCE_INSTANCE", "ipvs_bench".into()),
        ("OCF_RESKEY_cluster", "bench".into()),
        ("OCF_RESKEY_config", config.display().to_string()),
        ("OCF_RESKEY_dry_run", "1".into()),
        ("OCF_RESKEY_CRM_meta_interval", "61000".into()),
        ("OCF_RESKEY_CRM_meta_timeout", "30000".into()),
        ("HA_RSCTMP", rsc.display().to_string()),
        ("HA_LOGFACILITY", "none".into()),
    ];
    let dummy_state = dir.path().join("dummy.state");
    std::fs::write(&dummy_state, "").unwrap();
    let dummy: Vec<(&str, String)> = vec![
        ("OCF_ROOT", "/usr/lib/ocf".into()),
        ("OCF_RESOURCE_INSTANCE", "dummy_bench".into()),
        ("OCF_RESKEY_state", dummy_state.display().to_string()),
        ("OCF_RESKEY_CRM_meta_interval", "61000".into()),
        ("HA_RSCTMP", rsc.display().to_string()),
        ("HA_LOGFACILITY", "none".into()),
    ];
    let ipaddr2: Vec<(&str, String)> = vec![
        ("OCF_ROOT", "/usr/lib/ocf".into()),
        ("OCF_RESOURCE_INSTANCE", "ip_bench".into()),
        ("OCF_RESKEY_ip", "127.0.0.1".into()),
        ("OCF_RESKEY_cidr_netmask", "8".into()),
        ("OCF_RESKEY_nic", "lo".into()),
        ("OCF_RESKEY_CRM_meta_interval", "61000".into()),
        ("HA_RSCTMP", rsc.display().to_string()),
        ("HA_LOGFACILITY", "none".into()),
    ];

    let code = run_once(&bin, "start", &ours);
    assert_eq!(code, 0, "big_brother start failed");
    let mut level10 = ours.clone();
    level10.push(("OCF_CHECK_LEVEL", "10".into()));

    println!("OCF action latency, {runs} runs each (fresh process per run), milliseconds");
    println!(
        "{:<44} {:>8} {:>8} {:>8}",
        "agent action", "median", "p99", "mean"
    );
    type Case<'a> = (&'a str, &'a Path, &'a str, &'a Vec<(&'a str, String)>, i32);
    let cases: Vec<Case> = vec![
        ("big_brother monitor (level 0)", &bin, "monitor", &ours, 0),
        (
            "big_brother monitor (OCF_CHECK_LEVEL=10)",
            &bin,
            "monitor",
            &level10,
            0,
        ),
        ("big_brother meta-data", &bin, "meta-data", &ours, 0),
        (
            "ocf:heartbeat:Dummy monitor",
            Path::new(AGENTS).join("Dummy").leak_path(),
            "monitor",
            &dummy,
            0,
        ),
        (
            "ocf:heartbeat:IPaddr2 monitor (127.0.0.1/8)",
            Path::new(AGENTS).join("IPaddr2").leak_path(),
            "monitor",
            &ipaddr2,
            0,
        ),
    ];
    for (label, agent, action, env, want) in cases {
        // Warm the page cache and the dynamic loader first; then measure.
        for _ in 0..20 {
            run_once(agent, action, env);
        }
        let mut samples = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            let code = run_once(agent, action, env);
            samples.push(t.elapsed());
            assert_eq!(code, want, "{label} exited {code}");
        }
        let (median, p99, mean) = stats(&mut samples);
        println!(
            "{label:<44} {:>8.2} {:>8.2} {:>8.2}",
            ms(median),
            ms(p99),
            ms(mean)
        );
    }
    assert_eq!(run_once(&bin, "stop", &ours), 0, "big_brother stop failed");
}

trait Leak {
    fn leak_path(self) -> &'static Path;
}

impl Leak for PathBuf {
    fn leak_path(self) -> &'static Path {
        Box::leak(self.into_boxed_path())
    }
}

fn run_once(agent: &Path, action: &str, env: &[(&str, String)]) -> i32 {
    let mut cmd = Command::new(agent);
    cmd.arg(action)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.status().unwrap().code().unwrap_or(-1)
}

fn stats(samples: &mut [Duration]) -> (Duration, Duration, Duration) {
    samples.sort();
    let n = samples.len();
    let median = samples[n / 2];
    let p99 = samples[((n * 99).div_ceil(100)).saturating_sub(1).min(n - 1)];
    let mean = samples.iter().sum::<Duration>() / u32::try_from(n).unwrap();
    (median, p99, mean)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
