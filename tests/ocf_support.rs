//! Fixtures for the OCF tests: a cluster in a private `HA_RSCTMP` (always `dry_run`), loopback
//! litmus_paper-style health endpoints (one can hang), and helpers to run agent actions, read the
//! state directory and look at the detached supervisor. Every supervisor a test starts is killed
//! by pid when its fixture drops, so a failing test leaks no daemon.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{bin, run, Run};

/// How a loopback health endpoint answers.
#[derive(Clone, Copy, Debug)]
pub enum Behaviour {
    /// `200 OK` with `Health: N`.
    Health(u32),
    /// Accepts the connection and never answers.
    Hang,
}

/// A litmus_paper stand-in on 127.0.0.1, serving until dropped.
pub struct HealthServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HealthServer {
    /// Listens on `ip` (any of 127.0.0.0/8), on a free port.
    pub fn start(ip: std::net::Ipv4Addr, b: Behaviour) -> HealthServer {
        let listener = TcpListener::bind((ip, 0)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("health-{}", addr.port()))
            .spawn(move || serve(listener, b, &flag))
            .unwrap();
        HealthServer {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for HealthServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Bounded: stops on the flag, and after 10 minutes whatever happens.
fn serve(listener: TcpListener, b: Behaviour, stop: &AtomicBool) {
    let end = Instant::now() + Duration::from_secs(600);
    let mut held = Vec::new();
    while !stop.load(Ordering::SeqCst) && Instant::now() < end {
        match listener.accept() {
            Ok((mut s, _)) => match b {
                Behaviour::Health(n) => {
                    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
                    let mut buf = [0u8; 2048];
                    let _ = s.read(&mut buf);
                    let body = format!("Health: {n}\nMeasured Health: {n}\n");
                    let _ = write!(
                        s,
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Health: {n}\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                }
                Behaviour::Hang => held.push(s),
            },
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// The address of node `i`: 127.0.0.(i+1), so every node is a distinct IPVS destination.
pub fn node_ip(i: usize) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::new(127, 0, 0, u8::try_from(i + 1).unwrap())
}

/// One cluster under test.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub name: String,
    pub config: PathBuf,
    pub rsctmp: PathBuf,
    pub log: PathBuf,
    pub servers: Vec<HealthServer>,
}

impl Cluster {
    /// A fwmark cluster with one node per behaviour (node i is 127.0.0.(i+1) checked on the
    /// server's port).
    pub fn new(name: &str, nodes: &[Behaviour]) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        Cluster::in_dir(dir, name, 7, nodes)
    }

    pub fn in_dir(dir: tempfile::TempDir, name: &str, fwmark: u32, nodes: &[Behaviour]) -> Cluster {
        let servers: Vec<HealthServer> = nodes
            .iter()
            .enumerate()
            .map(|(i, b)| HealthServer::start(node_ip(i), *b))
            .collect();
        let config = dir.path().join(format!("{name}.toml"));
        let rsctmp = dir.path().join("rsctmp");
        let log = dir.path().join("ha.log");
        let c = Cluster {
            dir,
            name: name.to_string(),
            config,
            rsctmp,
            log,
            servers,
        };
        c.write_spec(fwmark, c.servers.len());
        c
    }

    /// Writes the spec with the first `n` servers as nodes.
    pub fn write_spec(&self, fwmark: u32, n: usize) {
        std::fs::write(&self.config, self.spec_text(fwmark, n)).unwrap();
    }

    pub fn spec_text(&self, fwmark: u32, n: usize) -> String {
        let mut s = format!(
            "name = \"{}\"\nfwmark = {fwmark}\ncheck_interval = \"1s\"\n\
             [[vip]]\naddress = \"192.0.2.{fwmark}\"\ncidr_netmask = 32\n",
            self.name
        );
        for (i, srv) in self.servers.iter().take(n).enumerate() {
            s.push_str(&format!(
                "[[node]]\naddress = \"{}\"\nport = {}\npath = \"/{}/status\"\n",
                node_ip(i),
                srv.addr.port(),
                self.name
            ));
        }
        s
    }

    pub fn state_dir(&self) -> PathBuf {
        self.rsctmp.join("big_brother").join(&self.name)
    }

    /// The environment Pacemaker would give a recurring (non-probe) operation.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("OCF_ROOT", "/usr/lib/ocf".to_string()),
            ("OCF_RESOURCE_INSTANCE", format!("ipvs_{}", self.name)),
            ("OCF_RESKEY_cluster", self.name.clone()),
            ("OCF_RESKEY_config", self.config.display().to_string()),
            ("OCF_RESKEY_dry_run", "true".to_string()),
            ("OCF_RESKEY_CRM_meta_timeout", "20000".to_string()),
            ("OCF_RESKEY_CRM_meta_interval", "61000".to_string()),
            ("HA_RSCTMP", self.rsctmp.display().to_string()),
            ("HA_LOGFILE", self.log.display().to_string()),
            ("HA_LOGFACILITY", "none".to_string()),
            // Drains live in a persistent data dir; keep the tests' out of /var/lib.
            (
                "BIG_BROTHER_DATA_DIR",
                self.dir.path().join("data").display().to_string(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Runs `big_brother <action>` with [`Cluster::env`] changed by `overrides` (an empty value
    /// removes the variable).
    pub fn agent(&self, action: &str, overrides: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(action, overrides);
        run(&mut cmd)
    }

    pub fn command(&self, action: &str, overrides: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.arg(action).env_clear();
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in self.env() {
            if !overrides.iter().any(|(o, _)| *o == k) {
                cmd.env(k, v);
            }
        }
        for (k, v) in overrides {
            if !v.is_empty() {
                cmd.env(k, v);
            }
        }
        cmd
    }

    pub fn probe(&self) -> Run {
        self.agent("monitor", &[("OCF_RESKEY_CRM_meta_interval", "0")])
    }

    /// `status.json` with its heartbeat merged in ([`crate::util::merged_status`]).
    pub fn status(&self) -> Option<Value> {
        crate::util::merged_status(&self.state_dir())
    }

    /// The dry-run "kernel": `(address, weight)` of each destination of our service, or `None`
    /// when the service is not programmed.
    pub fn table(&self) -> Option<Vec<(String, u64)>> {
        let text = std::fs::read_to_string(self.state_dir().join("dryrun-ipvs.json")).ok()?;
        let v: Value = serde_json::from_str(&text).unwrap();
        let svc = v["services"].as_array()?.first()?.clone();
        Some(
            svc["dests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    (
                        d["address"].as_str().unwrap().to_string(),
                        d["weight"].as_u64().unwrap(),
                    )
                })
                .collect(),
        )
    }

    /// The supervisor's pid from the lock file (whether or not it is alive).
    pub fn pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.state_dir().join("lock"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            if is_supervisor(pid) {
                signal(pid, libc::SIGKILL);
            }
        }
    }
}

/// True when `pid` is alive and runs `big_brother supervise` (not a zombie, not a recycled pid).
pub fn is_supervisor(pid: i32) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let zombie = stat
        .rsplit_once(')')
        .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
    !zombie && cmdline.split(|b| *b == 0).any(|a| a == b"supervise")
}

pub fn signal(pid: i32, sig: libc::c_int) {
    // SAFETY: kill has no memory preconditions.
    unsafe { libc::kill(pid, sig) };
}

/// Waits (bounded) until `f` holds; panics with `what` otherwise.
pub fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out after {limit:?} waiting for {what}");
}

/// `/proc/<pid>/stat` fields 5 and 6 (process group, session).
pub fn pgid_sid(pid: i32) -> (i32, i32) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = stat.rsplit_once(')').unwrap().1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the command: state ppid pgrp session …
    (f[2].parse().unwrap(), f[3].parse().unwrap())
}

/// Where each open descriptor of `pid` points.
pub fn fds(pid: i32) -> Vec<(i32, PathBuf)> {
    let mut v: Vec<(i32, PathBuf)> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let n = e.file_name().to_str()?.parse().ok()?;
            Some((n, std::fs::read_link(e.path()).ok()?))
        })
        .collect();
    v.sort();
    v
}

/// Asserts the run printed exactly one `ocf-exit-reason:` line containing `part`.
pub fn expect_reason(r: &Run, part: &str) {
    let err = r.stderr();
    let reasons: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("ocf-exit-reason:"))
        .collect();
    assert_eq!(
        reasons.len(),
        1,
        "`{}`: want one ocf-exit-reason line\n--- stderr\n{err}",
        r.argv
    );
    assert!(
        reasons[0].contains(part),
        "`{}`: exit reason should mention {part:?}: {}",
        r.argv,
        reasons[0]
    );
}

pub fn expect_no_reason(r: &Run) {
    assert!(
        !r.stderr().contains("ocf-exit-reason:"),
        "`{}` printed an exit reason:\n{}",
        r.argv,
        r.stderr()
    );
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}
