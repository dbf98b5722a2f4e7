//! IPVS over netlink vs ipvsadm, measured against the real kernel: weight updates per second
//! (`Netlink::edit_dest` vs spawning `ipvsadm -e`), the cost of one reconcile-style tick over
//! a service with 1,000 destinations (one GET_DEST dump + one SET_DEST per destination), and
//! the namespace-wide operations a host-level agent needs: starting and stopping a sync daemon
//! (NEW_DAEMON + DEL_DAEMON), and the monitor's read of daemons and timeouts (GET_DAEMON dump
//! + GET_CONFIG), each against the same work done by ipvsadm.
//!
//! Needs root and `ip_vs`: run it in the kernel-tier VM with `tests/vm/bench` (it builds this
//! target and calls `tests/vm/run`). Prints numbers; asserts nothing about speed. Everything
//! happens in a fresh network namespace with documentation addresses only. Counts can be changed
//! with BB_BENCH_UPDATES (default 1000), BB_BENCH_SPAWNS (1000), BB_BENCH_DESTS (1000, at most
//! 2000), BB_BENCH_TICKS (10) and BB_BENCH_DAEMONS (200: daemon starts+stops and monitor reads,
//! for each side).

use std::net::{IpAddr, Ipv4Addr};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use big_brother::ipvs::netlink::Netlink;
use big_brother::ipvs::{
    Dest, Family, Forward, Ipvs, Protocol, Service, ServiceKey, SyncDaemon, SyncState,
};

fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn per_op(total: Duration, n: usize) -> String {
    let n = n.max(1) as f64;
    format!(
        "{:>9.1} µs/op {:>10.0} ops/s",
        total.as_secs_f64() * 1e6 / n,
        n / total.as_secs_f64()
    )
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// Runs `ipvsadm` with `args`, output discarded; an error unless it exits 0.
fn ipvsadm(args: &[&str]) -> Result<(), String> {
    let st = Command::new("ipvsadm")
        .args(args)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("run ipvsadm: {e}"))?;
    if st.success() {
        Ok(())
    } else {
        Err(format!("ipvsadm {} exited {st}", args.join(" ")))
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    let st = Command::new("ip")
        .args(args)
        .status()
        .map_err(|e| format!("run ip: {e}"))?;
    if st.success() {
        Ok(())
    } else {
        Err(format!("ip {} exited {st}", args.join(" ")))
    }
}

/// Part 3, what a host-level sync agent does: start + stop a master (its start/stop cost), read
/// daemons + timeouts (its monitor), netlink against ipvsadm.
fn host_level(nl: &mut Netlink) -> Result<(), String> {
    ip(&["link", "add", "sync0", "type", "dummy"])?;
    ip(&["link", "set", "sync0", "multicast", "on", "up"])?;
    ip(&["addr", "add", "192.0.2.200/24", "dev", "sync0"])?;
    let n = count("BB_BENCH_DAEMONS", 200).max(1);
    let master = SyncDaemon::new(SyncState::Master, "sync0", 42);

    let t = Instant::now();
    for _ in 0..n {
        nl.start_sync_daemon(&master).map_err(|e| e.to_string())?;
        nl.stop_sync_daemon(SyncState::Master)
            .map_err(|e| e.to_string())?;
    }
    let ours = t.elapsed();
    let t = Instant::now();
    for _ in 0..n {
        ipvsadm(&[
            "--start-daemon",
            "master",
            "--mcast-interface",
            "sync0",
            "--syncid",
            "42",
        ])?;
        ipvsadm(&["--stop-daemon", "master"])?;
    }
    let theirs = t.elapsed();
    println!(
        "
sync daemon start + stop (NEW_DAEMON + DEL_DAEMON), {n} times:"
    );
    println!("  netlink socket  {:>10}  {}", ms(ours), per_op(ours, n));
    println!(
        "  ipvsadm x2      {:>10}  {}",
        ms(theirs),
        per_op(theirs, n)
    );
    println!(
        "  netlink is {:.0}x faster",
        theirs.as_secs_f64() / ours.as_secs_f64().max(1e-9)
    );

    nl.start_sync_daemon(&master).map_err(|e| e.to_string())?;
    nl.start_sync_daemon(&SyncDaemon::new(SyncState::Backup, "sync0", 42))
        .map_err(|e| e.to_string())?;
    let t = Instant::now();
    for _ in 0..n {
        let d = nl.sync_daemons().map_err(|e| e.to_string())?;
        if d.len() != 2 {
            return Err(format!("expected 2 daemons, listed {}", d.len()));
        }
        nl.timeouts().map_err(|e| e.to_string())?;
    }
    let ours = t.elapsed();
    let t = Instant::now();
    for _ in 0..n {
        ipvsadm(&["-L", "--daemon"])?;
        ipvsadm(&["-L", "--timeout"])?;
    }
    let theirs = t.elapsed();
    println!(
        "
monitor read: daemons + timeouts (GET_DAEMON dump + GET_CONFIG), {n} times:"
    );
    println!("  netlink socket  {:>10}  {}", ms(ours), per_op(ours, n));
    println!(
        "  ipvsadm x2      {:>10}  {}",
        ms(theirs),
        per_op(theirs, n)
    );
    println!(
        "  netlink is {:.0}x faster",
        theirs.as_secs_f64() / ours.as_secs_f64().max(1e-9)
    );
    nl.stop_sync_daemon(SyncState::Master)
        .map_err(|e| e.to_string())?;
    nl.stop_sync_daemon(SyncState::Backup)
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn run() -> Result<(), String> {
    // SAFETY: unshare(2) with CLONE_NEWNET affects only this (single-threaded) process.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(format!(
            "unshare(CLONE_NEWNET): {} (needs root)",
            std::io::Error::last_os_error()
        ));
    }
    // A namespace whose IPv4 local table was never populated classifies every address as
    // broadcast, and the kernel refuses such destinations (EINVAL): bring lo up first.
    let lo = Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status()
        .map_err(|e| format!("run ip: {e}"))?;
    if !lo.success() {
        return Err(format!("ip link set lo up exited {lo}"));
    }
    let mut nl = Netlink::open().map_err(|e| e.to_string())?;
    let osrelease = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    println!(
        "IPVS netlink benchmarks — kernel {}, IPVS family id {}",
        osrelease.trim(),
        nl.family_id()
    );

    // 1. Weight updates: netlink vs ipvsadm, same service and destination.
    let fw = ServiceKey::Fwmark {
        family: Family::V4,
        mark: 7,
    };
    let svc = Service::new(fw, "wlc");
    nl.add_service(&svc).map_err(|e| e.to_string())?;
    let mut d = Dest {
        addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        port: 0,
        forward: Forward::Ipip,
        weight: 100,
        upper_threshold: 0,
        lower_threshold: 0,
    };
    nl.add_dest(&fw, &d).map_err(|e| e.to_string())?;

    let updates = count("BB_BENCH_UPDATES", 1000);
    let t = Instant::now();
    for i in 0..updates {
        d.weight = 1 + (i as u32 % 100);
        nl.edit_dest(&fw, &d).map_err(|e| e.to_string())?;
    }
    let netlink = t.elapsed();

    let spawns = count("BB_BENCH_SPAWNS", 1000);
    let t = Instant::now();
    for i in 0..spawns {
        let w = (1 + i % 100).to_string();
        let st = Command::new("ipvsadm")
            .args(["-e", "-f", "7", "-r", "192.0.2.1", "-i", "-w", &w])
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("run ipvsadm: {e}"))?;
        if !st.success() {
            return Err(format!("ipvsadm -e exited {st}"));
        }
    }
    let ipvsadm = t.elapsed();
    println!("\nweight updates (one destination, SET_DEST):");
    println!(
        "  netlink socket  {updates:>5} updates in {:>10}  {}",
        ms(netlink),
        per_op(netlink, updates)
    );
    println!(
        "  ipvsadm -e      {spawns:>5} updates in {:>10}  {}",
        ms(ipvsadm),
        per_op(ipvsadm, spawns)
    );
    if updates > 0 && spawns > 0 {
        let ratio =
            (ipvsadm.as_secs_f64() / spawns as f64) / (netlink.as_secs_f64() / updates as f64);
        println!("  netlink is {ratio:.0}x faster per update");
    }
    nl.del_service(&fw).map_err(|e| e.to_string())?;

    // 2. Reconcile tick over one service with N destinations (NAT, so ports may differ).
    let n = count("BB_BENCH_DESTS", 1000).min(2000);
    let ticks = count("BB_BENCH_TICKS", 10).max(1);
    let key = ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100)),
        port: 80,
    };
    nl.add_service(&Service::new(key, "wlc"))
        .map_err(|e| e.to_string())?;
    // 198.51.100.1-250 and 203.0.113.1-250, ports 8000-8003: up to 2,000 destinations.
    let dests: Vec<Dest> = (0..n)
        .map(|i| {
            let host = (i % 250) as u8 + 1;
            let net = (i / 250) % 2;
            let addr = if net == 0 {
                Ipv4Addr::new(198, 51, 100, host)
            } else {
                Ipv4Addr::new(203, 0, 113, host)
            };
            Dest::new(IpAddr::V4(addr), 8000 + (i / 500) as u16, Forward::Nat, 1)
        })
        .collect();
    let t = Instant::now();
    for d in &dests {
        nl.add_dest(&key, d).map_err(|e| e.to_string())?;
    }
    let add = t.elapsed();

    let mut dumps = Vec::new();
    let mut edits = Vec::new();
    for tick in 0..ticks {
        let t = Instant::now();
        let current = nl.dests(&key).map_err(|e| e.to_string())?;
        dumps.push(t.elapsed());
        if current.len() != n {
            return Err(format!(
                "dump returned {} of {n} destinations",
                current.len()
            ));
        }
        let t = Instant::now();
        for e in &current {
            let mut d = e.dest;
            d.weight = 1 + ((tick as u32 + d.weight) % 100);
            nl.edit_dest(&key, &d).map_err(|e| e.to_string())?;
        }
        edits.push(t.elapsed());
    }
    println!("\nreconcile tick, one service with {n} destinations ({ticks} ticks):");
    println!(
        "  initial NEW_DEST x{n}: {:>10}  {}",
        ms(add),
        per_op(add, n)
    );
    println!(
        "  GET_DEST dump:        median {:>10}  min {:>10}  ({:.1} µs per destination)",
        ms(median(dumps.clone())),
        ms(dumps.iter().min().copied().unwrap_or_default()),
        median(dumps.clone()).as_secs_f64() * 1e6 / n.max(1) as f64
    );
    let me = median(edits.clone());
    println!(
        "  SET_DEST x{n}:         median {:>10}  min {:>10}  {}",
        ms(me),
        ms(edits.iter().min().copied().unwrap_or_default()),
        per_op(me, n)
    );
    println!(
        "  whole tick (all weights changed): median {}",
        ms(median(dumps) + me)
    );
    nl.del_service(&key).map_err(|e| e.to_string())?;
    host_level(&mut nl)
}

fn main() -> ExitCode {
    // `cargo bench` passes --bench; nothing to parse.
    if !std::path::Path::new("/proc/net/ip_vs").exists() {
        eprintln!(
            "ipvs_netlink bench: /proc/net/ip_vs is missing; it needs root and ip_vs — run it \
             with tests/vm/bench"
        );
        return ExitCode::FAILURE;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ipvs_netlink bench: {e}");
            ExitCode::FAILURE
        }
    }
}
