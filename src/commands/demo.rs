//! `big_brother demo`: the whole weight story on one screen, with no root and no kernel IPVS.
//!
//! It starts loopback litmus_paper look-alikes (127.0.0.2, .3, … — all of 127.0.0.0/8 is
//! loopback on Linux), pretends a previous supervisor left their weights in the in-memory IPVS
//! table, and runs the supervisor's own pieces — checker threads, the weight policy, reconcile
//! — against that table while a script changes the nodes' health:
//! - one node **degrades** (its measured health falls to 20): its weight follows;
//! - one node is **forced down** (`litmusctl force down -r "apt upgrades"`): weight 0 at once,
//!   reason shown; later the force is lifted and it **ramps up again** from 0;
//! - one **new node** is added by a reload: it ramps from 0 to its health over `ramp_up_time`
//!   instead of being stampeded.
//!
//! It runs for `--duration` (30 s) or until Ctrl-C, redrawing a table on a terminal and
//! printing one line per change otherwise.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use crate::health::serve::{Forced, LitmusServer};
use crate::ipvs::memory::Memory;
use crate::ipvs::{Family, Forward, Ipvs, Service, ServiceKey};
use crate::ocf::OcfCode;
use crate::spec::{BackendMode, Node, Ops, Spec};
use crate::supervisor::checker::{self, Checkers, Observation};
use crate::supervisor::policy::{self, NodeState, Policy};
use crate::supervisor::reconcile;

/// Command-line options.
#[derive(Clone, Debug)]
pub struct Options {
    /// Number of nodes (4..=64): steady ones plus the degrading, forced-down and new node.
    pub nodes: usize,
    pub duration: Duration,
    /// Print lines instead of redrawing a table (automatic when stdout is not a terminal).
    pub plain: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            nodes: 5,
            duration: Duration::from_secs(30),
            plain: false,
        }
    }
}

pub const MIN_NODES: usize = 4;
pub const MAX_NODES: usize = 64;
const SERVICE: &str = "demo";
const FORCE_REASON: &str = "apt upgrades";

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

fn catch_sigint() {
    // SAFETY: `sigaction` with a zeroed struct, an empty mask and a handler that only does an
    // atomic store (async-signal-safe); no other thread changes SIGINT's disposition.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigint as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGINT, &sa, std::ptr::null_mut());
    }
}

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("--nodes: expected {MIN_NODES} to {MAX_NODES}, not {0}")]
    Nodes(usize),
    #[error("--duration: expected at least 5s, not {0:?}")]
    Duration(Duration),
    #[error("cannot start a loopback health endpoint on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start checker threads: {0}")]
    Threads(#[source] std::io::Error),
    #[error("in-memory IPVS: {0}")]
    Ipvs(#[from] crate::ipvs::IpvsError),
}

pub fn run(opts: &Options) -> OcfCode {
    match Demo::start(opts).and_then(|d| d.run()) {
        Ok(()) => OcfCode::Success,
        Err(e) => {
            eprintln!("big_brother demo: {e}");
            match e {
                DemoError::Nodes(_) | DemoError::Duration(_) => OcfCode::ErrArgs,
                _ => OcfCode::ErrGeneric,
            }
        }
    }
}

/// When each scripted thing happens, as fractions of the duration.
struct Script {
    degrade_at: Duration,
    add_at: Duration,
    force_at: Duration,
    lift_at: Duration,
    degrade_over: Duration,
}

impl Script {
    fn new(d: Duration) -> Script {
        Script {
            degrade_at: d.mul_f64(0.10),
            add_at: d.mul_f64(0.20),
            force_at: d.mul_f64(0.30),
            lift_at: d.mul_f64(0.55),
            degrade_over: d.mul_f64(0.40),
        }
    }
}

struct Demo {
    script: Script,
    duration: Duration,
    servers: Vec<LitmusServer>,
    spec: Spec,
    /// The demo's service (a demo spec always has one).
    key: ServiceKey,
    /// The node the reload will add.
    newcomer: Node,
    states: Vec<NodeState>,
    ipvs: Memory,
    checkers: Option<Checkers>,
    rx: Receiver<Observation>,
    started: Instant,
    /// Script steps done: degrade started, newcomer added, forced down, force lifted.
    done: [bool; 4],
    /// Changes applied to the table, and changes that were needed without the desired weights
    /// moving (drift).
    ops: usize,
    /// Per node id: (weight, state) last printed.
    shown: Vec<(String, u32, String)>,
    events: Vec<String>,
    tty: bool,
}

/// Script roles by node index.
const DEGRADING: usize = 1;
const FORCED: usize = 2;

fn node_addr(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, u8::try_from(i + 2).unwrap_or(255)))
}

fn initial_health(i: usize) -> f64 {
    100.0 - 5.0 * (i % 4) as f64
}

impl Demo {
    fn start(opts: &Options) -> Result<Demo, DemoError> {
        if !(MIN_NODES..=MAX_NODES).contains(&opts.nodes) {
            return Err(DemoError::Nodes(opts.nodes));
        }
        if opts.duration < Duration::from_secs(5) {
            return Err(DemoError::Duration(opts.duration));
        }
        let mut servers = Vec::with_capacity(opts.nodes);
        for i in 0..opts.nodes {
            let addr = SocketAddr::new(node_addr(i), 0);
            let srv = LitmusServer::start(addr, SERVICE, initial_health(i))
                .map_err(|source| DemoError::Listen { addr, source })?;
            servers.push(srv);
        }
        // A check every second for a 30 s run; faster for short runs so the story still fits.
        let interval =
            (opts.duration / 30).clamp(Duration::from_millis(200), Duration::from_secs(1));
        let key = ServiceKey::Fwmark {
            family: Family::V4,
            mark: 7,
        };
        let mut nodes: Vec<Node> = servers
            .iter()
            .map(|s| Node {
                address: s.addr().ip(),
                port: s.addr().port(),
                path: format!("/{SERVICE}/status"),
                real_port: 0,
                max_weight: 100,
                priority: 0,
            })
            .collect();
        let newcomer = nodes.pop().ok_or(DemoError::Nodes(0))?;
        let spec = Spec {
            file: "(demo)".into(),
            name: SERVICE.into(),
            description: Some("big_brother demo".into()),
            service: Some(key),
            scheduler: "wlc".into(),
            forward: Forward::Ipip,
            persistence_timeout: None,
            check_interval: interval,
            check_timeout: interval,
            ramp_up_time: opts.duration / 3,
            fall: 1,
            rise: 1,
            backend_mode: BackendMode::ActiveActive,
            sorry_server: None,
            vips: vec![],
            nodes,
            ops: Ops::DEFAULT,
        };

        // What a previous supervisor left behind: the service, every node at its weight. This
        // run adopts those weights (no drop to 0) instead of starting from scratch.
        let mut ipvs = Memory::new();
        ipvs.add_service(&Service {
            key,
            scheduler: spec.scheduler.clone(),
            flags: 0,
            timeout: 0,
        })?;
        let now = Instant::now();
        for (i, n) in spec.nodes.iter().enumerate() {
            let weight = policy::scale(initial_health(i), n.max_weight);
            ipvs.add_dest(
                &key,
                &crate::ipvs::Dest {
                    addr: n.address,
                    port: n.real_port,
                    forward: spec.forward,
                    weight,
                    upper_threshold: 0,
                    lower_threshold: 0,
                },
            )?;
        }
        // The supervisor's own start-up path: one dump, every node adopted at its weight.
        let states = policy::adopt(&spec, &ipvs.dests(&key)?, now);
        let (tx, rx) = mpsc::channel();
        let checkers = checker::spawn(&spec, tx).map_err(DemoError::Threads)?;
        Ok(Demo {
            script: Script::new(opts.duration),
            duration: opts.duration,
            servers,
            spec,
            key,
            newcomer,
            states,
            ipvs,
            checkers: Some(checkers),
            rx,
            started: now,
            done: [false; 4],
            ops: 0,
            shown: Vec::new(),
            events: Vec::new(),
            tty: !opts.plain && std::io::stdout().is_terminal(),
        })
    }

    fn event(&mut self, text: String) {
        let t = self.started.elapsed().as_secs_f64();
        let line = format!("{t:5.1}s  {text}");
        if !self.tty {
            println!("{line}");
        }
        self.events.push(line);
    }

    /// Advances the script: the litmus_paper side of the story.
    fn script(&mut self, now: Instant) -> Result<(), DemoError> {
        let t = now - self.started;
        let s = &self.script;
        if t >= s.degrade_at {
            let frac = ((t - s.degrade_at).as_secs_f64() / s.degrade_over.as_secs_f64()).min(1.0);
            let start = initial_health(DEGRADING);
            self.servers[DEGRADING].set_measured((start - (start - 20.0) * frac).round());
            if !self.done[0] {
                self.done[0] = true;
                let id = self.servers[DEGRADING].addr().ip();
                self.event(format!("{id}: litmus_paper health starts falling (to 20)"));
            }
        }
        if t >= self.script.add_at && !self.done[1] {
            self.done[1] = true;
            let id = self.newcomer.id();
            self.event(format!(
                "reload: new node {id} added (ramps up over {}s)",
                self.spec.ramp_up_time.as_secs()
            ));
            self.reload(now)?;
        }
        if t >= self.script.force_at && !self.done[2] {
            self.done[2] = true;
            self.servers[FORCED].force(Some(Forced::Down(FORCE_REASON.into())));
            let id = self.servers[FORCED].addr().ip();
            self.event(format!("{id}: litmusctl force down -r \"{FORCE_REASON}\""));
        }
        if t >= self.script.lift_at && !self.done[3] {
            self.done[3] = true;
            self.servers[FORCED].force(None);
            let id = self.servers[FORCED].addr().ip();
            self.event(format!(
                "{id}: litmusctl delete (force lifted; ramps up again)"
            ));
        }
        Ok(())
    }

    /// A reload that adds the newcomer: checkers restart on the new node list, every known
    /// node keeps its state.
    fn reload(&mut self, now: Instant) -> Result<(), DemoError> {
        if let Some(c) = self.checkers.take() {
            c.stop();
        }
        self.drain_observations();
        self.spec.nodes.push(self.newcomer.clone());
        self.states.push(NodeState::new(None, now));
        let (tx, rx) = mpsc::channel();
        self.rx = rx;
        self.checkers = Some(checker::spawn(&self.spec, tx).map_err(DemoError::Threads)?);
        Ok(())
    }

    fn drain_observations(&mut self) {
        let policy = Policy::from_spec(&self.spec);
        while let Ok(o) = self.rx.try_recv() {
            if let Some(s) = self.states.get_mut(o.node) {
                s.observe(&o, &policy);
            }
        }
    }

    /// One controller tick: observations → policy → one dump → minimal changes.
    fn tick(&mut self, now: Instant) -> Result<(), DemoError> {
        self.drain_observations();
        let desired = policy::desired(&self.spec, &self.states, &BTreeSet::new(), now);
        let ops = reconcile::sync(&mut self.ipvs, &self.key, &desired)?;
        self.ops += ops.len();
        Ok(())
    }

    fn rows(&self, now: Instant) -> Vec<Row> {
        let policy = Policy::from_spec(&self.spec);
        self.spec
            .nodes
            .iter()
            .zip(&self.states)
            .map(|(n, s)| {
                let weight = self
                    .ipvs
                    .weight(&self.key, n.address, n.real_port)
                    .unwrap_or(0);
                let sum = s.summary(&policy, n.max_weight, weight, now);
                let note = match (&sum.forced_reason, &sum.last_error) {
                    (Some(r), _) => format!("forced: {r}"),
                    (None, Some(e)) => e.clone(),
                    _ if sum.state == "ramping" => {
                        let target = policy::scale(sum.health.unwrap_or(0.0), n.max_weight);
                        format!("ramping to {target}")
                    }
                    _ => String::new(),
                };
                Row {
                    id: n.id(),
                    health: sum.health,
                    weight,
                    state: sum.state,
                    latency_ms: sum.last_latency_ms,
                    note,
                }
            })
            .collect()
    }

    /// Plain output: one line per weight or state change.
    fn print_changes(&mut self, rows: &[Row]) {
        for r in rows {
            let prev = self.shown.iter().position(|(id, _, _)| *id == r.id);
            // State changes always; weights in steps of 10 or more, or to/from 0, so a ramp
            // is a handful of lines, not one per tick.
            let changed = match prev {
                Some(i) => {
                    let (_, w, state) = &self.shown[i];
                    *state != r.state || w.abs_diff(r.weight) >= 10 || (*w == 0) != (r.weight == 0)
                }
                None => true,
            };
            if !changed {
                continue;
            }
            let from = prev.map_or_else(|| "-".to_string(), |i| self.shown[i].1.to_string());
            let t = self.started.elapsed().as_secs_f64();
            println!(
                "{t:5.1}s  {:<12} weight {from:>3} -> {:>3}  {:<11} {}",
                r.id, r.weight, r.state, r.note
            );
            match prev {
                Some(i) => self.shown[i] = (r.id.clone(), r.weight, r.state.clone()),
                None => self.shown.push((r.id.clone(), r.weight, r.state.clone())),
            }
        }
    }

    fn draw(&self, rows: &[Row], now: Instant) {
        let mut out = String::from("\x1b[H\x1b[J");
        let t = (now - self.started).as_secs_f64();
        let _ = writeln!(
            out,
            "big_brother demo — cluster {SERVICE:?}, {} {}, in-memory IPVS   t = {t:4.1}s of {}s   (Ctrl-C to stop)\n",
            self.key,
            self.spec.scheduler,
            self.duration.as_secs()
        );
        out.push_str(&table(rows, true));
        let _ = writeln!(
            out,
            "\n{} changes applied to the table; check every {} ms, ramp-up {} s\n",
            self.ops,
            self.spec.check_interval.as_millis(),
            self.spec.ramp_up_time.as_secs()
        );
        for e in self.events.iter().rev().take(6).rev() {
            let _ = writeln!(out, "  {e}");
        }
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(out.as_bytes());
        let _ = stdout.flush();
    }

    fn run(mut self) -> Result<(), DemoError> {
        catch_sigint();
        if self.tty {
            print!("\x1b[?25l");
        } else {
            println!(
                "big_brother demo: {} nodes, check every {} ms, ramp-up {} s, {} s",
                self.spec.nodes.len() + 1,
                self.spec.check_interval.as_millis(),
                self.spec.ramp_up_time.as_secs(),
                self.duration.as_secs()
            );
            self.event("adopted the weights a previous supervisor left in the table".into());
        }
        let end = self.started + self.duration;
        let result = loop {
            let now = Instant::now();
            if now >= end || INTERRUPTED.load(Ordering::SeqCst) {
                break Ok(());
            }
            if let Err(e) = self.script(now).and_then(|()| self.tick(now)) {
                break Err(e);
            }
            let rows = self.rows(now);
            if self.tty {
                self.draw(&rows, now);
            } else {
                self.print_changes(&rows);
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        if let Some(c) = self.checkers.take() {
            c.stop();
        }
        let now = Instant::now();
        let rows = self.rows(now);
        if self.tty {
            self.draw(&rows, now);
            print!("\x1b[?25h");
        } else {
            println!(
                "\nfinal state after {:.1}s ({} changes applied to the table):\n{}",
                (now - self.started).as_secs_f64(),
                self.ops,
                table(&rows, false)
            );
        }
        result
    }
}

struct Row {
    id: String,
    health: Option<f64>,
    weight: u32,
    state: String,
    latency_ms: Option<f64>,
    note: String,
}

/// The node table; with `bars`, a weight bar before the note.
fn table(rows: &[Row], bars: bool) -> String {
    let mut out = format!(
        "{:<14} {:>6} {:>6}  {:<11} {:>8}  {}\n",
        "NODE", "HEALTH", "WEIGHT", "STATE", "LATENCY", "NOTE"
    );
    for r in rows {
        let health = r.health.map_or_else(|| "-".into(), |h| format!("{h:.0}"));
        let latency = r
            .latency_ms
            .map_or_else(|| "-".into(), |l| format!("{l:.1}ms"));
        let bar = if bars {
            let n = usize::try_from(r.weight / 5).unwrap_or(0);
            format!("{:<20} ", "█".repeat(n))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{:<14} {health:>6} {:>6}  {:<11} {latency:>8}  {bar}{}",
            r.id, r.weight, r.state, r.note
        );
    }
    out
}
