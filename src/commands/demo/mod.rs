//! `big_brother demo`: the whole weight story on one screen, with no root and no kernel IPVS.
//!
//! It starts loopback litmus_paper look-alikes (127.0.0.2, .3, … — all of 127.0.0.0/8 is
//! loopback on Linux), writes a spec for them into a private temporary directory, and runs the
//! **real supervisor controller** — checker threads, weight policy, reconcile, status file,
//! drain file, SIGHUP reload — against the in-memory IPVS backend, while a script changes the
//! nodes:
//! - one node **degrades** (its measured health falls to 20): its weight follows;
//! - one node is **forced down** (`litmusctl force down -r "apt upgrades"`): weight 0 at once,
//!   reason shown; later the force is lifted and it **ramps up again** from 0;
//! - one **new node** is added by a reload: it ramps from 0 to its health over `ramp_up_time`
//!   instead of being stampeded;
//! - one node is **drained** by the operator, then undrained (and ramps).
//!
//! It starts like a restarted supervisor: the weights "a previous supervisor" left in the table
//! are adopted, not dropped. It runs for `--duration` (30 s) or until Ctrl-C, redrawing a table
//! on a terminal and printing one line per change otherwise. Everything it creates lives in a
//! temporary directory that is removed at the end; nothing outside it is read or written.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use super::code::{finish, Failure};
use crate::error::Error;
use crate::exit::OcfCode;
use crate::health::serve::{Forced, LitmusServer};
use crate::ipvs::memory::Memory;
use crate::ipvs::{Dest, Forward, Ipvs, ServiceKey};
use crate::state::drain;
use crate::state::notify::Notifier;
use crate::state::status::{self, Status};
use crate::state::StateDir;
use crate::supervisor::context::{Context, Ident};
use crate::supervisor::control::Control;
use crate::supervisor::controller::Controller;
use crate::supervisor::policy;
use crate::supervisor::signals;
use error::{io_err, DemoError};

pub mod error;

/// `big_brother demo` arguments.
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// Number of nodes (4 to 64).
    #[arg(long, default_value_t = 5)]
    pub nodes: usize,
    /// How long to run (`30s`, `2m`; a bare number is seconds). Ctrl-C stops earlier.
    #[arg(long, default_value = "30s", value_parser = duration_arg)]
    pub duration: Duration,
    /// One line per change instead of a live table (the default when stdout is not a terminal).
    #[arg(long)]
    pub plain: bool,
}

/// `--duration`: a spec duration, or a bare number of seconds; 5 s to 1 h: the demo's story
/// needs a few seconds, and its spec's ramp-up (a third of the run) must stay within the spec's
/// bound.
fn duration_arg(s: &str) -> Result<Duration, String> {
    let (min, max) = (Duration::from_secs(5), Duration::from_secs(3600));
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return crate::spec::duration::parse_within(&format!("{s}s"), min, max);
    }
    crate::spec::duration::parse_within(s, min, max)
}

impl Default for Args {
    fn default() -> Args {
        Args {
            nodes: 5,
            duration: Duration::from_secs(30),
            plain: false,
        }
    }
}

pub const MIN_NODES: usize = 4;
pub const MAX_NODES: usize = 64;
const CLUSTER: &str = "demo";
const FORCE_REASON: &str = "apt upgrades";

pub fn run(opts: &Args) -> OcfCode {
    finish(
        "demo",
        Demo::start(opts)
            .and_then(Demo::run)
            .map(|()| OcfCode::Success)
            .map_err(Failure::from),
    )
}

/// Script roles by node index; the last node is the newcomer.
const STEADY: usize = 0;
const DEGRADING: usize = 1;
const FORCED: usize = 2;

/// The script's steps, as fractions of the duration.
const STEPS: [(f64, Step); 7] = [
    (0.10, Step::Degrade),
    (0.20, Step::AddNewcomer),
    (0.30, Step::ForceDown),
    (0.50, Step::Lift),
    (0.62, Step::Drain),
    (0.80, Step::Undrain),
    (2.00, Step::Never),
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Step {
    Degrade,
    AddNewcomer,
    ForceDown,
    Lift,
    Drain,
    Undrain,
    Never,
}

struct Demo {
    duration: Duration,
    /// Private temporary directory: spec, state dir, data dir (drains).
    dir: tempfile::TempDir,
    servers: Vec<LitmusServer>,
    interval: Duration,
    /// Nodes currently in the spec (the newcomer joins by reload).
    in_spec: usize,
    key: ServiceKey,
    /// Shares the controller's table: what "the kernel" has.
    table: Memory,
    state: StateDir,
    /// How the demo stops and reloads its controller (Ctrl-C reaches it too).
    control: Control,
    controller: Option<JoinHandle<Controller>>,
    started: Instant,
    next_step: usize,
    degrading_since: Option<Instant>,
    last: Option<Status>,
    /// Per node id: (weight, state) last printed.
    shown: Vec<(String, u32, String)>,
    events: Vec<String>,
    tty: bool,
}

fn node_ip(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, u8::try_from(i + 2).unwrap_or(255)))
}

fn initial_health(i: usize) -> f64 {
    100.0 - 5.0 * (i % 4) as f64
}

impl Demo {
    fn start(opts: &Args) -> Result<Demo, DemoError> {
        if !(MIN_NODES..=MAX_NODES).contains(&opts.nodes) {
            return Err(DemoError::Nodes(opts.nodes));
        }
        if opts.duration < Duration::from_secs(5) {
            return Err(DemoError::Duration(opts.duration));
        }
        let tmp = std::env::temp_dir();
        let dir = tempfile::Builder::new()
            .prefix("big_brother-demo.")
            .tempdir()
            .map_err(io_err(&tmp))?;
        // Ctrl-C (SIGINT) or SIGTERM stop the controller and this loop; the script's reload
        // goes through the same control, as SIGHUP would.
        let control = Control::new();
        signals::forward_to(&control).map_err(io_err(dir.path()))?;

        let mut servers = Vec::with_capacity(opts.nodes);
        for i in 0..opts.nodes {
            let addr = SocketAddr::new(node_ip(i), 0);
            let srv = LitmusServer::start(addr, CLUSTER, initial_health(i))
                .map_err(|source| DemoError::Listen { addr, source })?;
            servers.push(srv);
        }
        // A check every second for a 30 s run; faster for short runs so the story still fits.
        let interval =
            (opts.duration / 30).clamp(Duration::from_millis(200), Duration::from_secs(1));
        let mut demo = Demo {
            duration: opts.duration,
            dir,
            servers,
            interval,
            in_spec: opts.nodes - 1,
            key: ServiceKey::Fwmark {
                family: crate::ipvs::Family::V4,
                mark: 7,
            },
            table: Memory::new(),
            state: StateDir::at(Path::new("/nonexistent")),
            control,
            controller: None,
            started: Instant::now(),
            next_step: 0,
            degrading_since: None,
            last: None,
            shown: Vec::new(),
            events: Vec::new(),
            tty: !opts.plain && std::io::stdout().is_terminal(),
        };
        demo.state = StateDir::at(&demo.dir.path().join("state"));
        demo.state.create().map_err(io_err(demo.state.path()))?;
        demo.write_spec()?;
        let run = crate::spec::load_runnable(&demo.spec_path(), CLUSTER).map_err(Error::from)?;
        demo.key = run.key;

        // What a previous supervisor left behind: the service, every node at its weight. The
        // controller adopts those weights (no drop to 0) as after a crash-restart.
        let mut table = demo.table.clone();
        table.add_service(&crate::supervisor::plan::service_of(&run.spec, run.key))?;
        for (i, n) in run.spec.nodes.iter().enumerate() {
            table.add_dest(
                &run.key,
                &Dest::new(
                    n.address,
                    n.real_port,
                    Forward::Ipip,
                    policy::scale(initial_health(i), n.max_weight),
                ),
            )?;
        }
        let ident = Ident {
            cluster: CLUSTER.into(),
            instance: None,
            dry_run: true,
            pid: i32::try_from(std::process::id()).unwrap_or(0),
            started_at: status::unix_secs(SystemTime::now()),
        };
        let ctx = Context {
            ident,
            state: demo.state.clone(),
            notifier: Notifier::None,
            control: demo.control.clone(),
            // The demo's own drain file: it can never read or write a real drain.
            drain_file: demo.drain_file(),
            watch_cib: false,
            lock: None,
        };
        let mut ctl = Controller::new(run, Box::new(table), ctx);
        ctl.start(Duration::from_secs(10))?;
        demo.controller = Some(
            std::thread::Builder::new()
                .name("controller".into())
                .spawn(move || {
                    ctl.run();
                    ctl
                })
                .map_err(io_err(demo.dir.path()))?,
        );
        demo.started = Instant::now();
        Ok(demo)
    }

    fn spec_path(&self) -> PathBuf {
        self.dir.path().join(format!("{CLUSTER}.toml"))
    }

    /// The demo's drain file, in its private directory (never `/var/lib/big_brother`).
    fn drain_file(&self) -> PathBuf {
        self.dir.path().join("data").join(CLUSTER).join("drain")
    }

    /// The spec for the first `in_spec` nodes, as an operator would write it.
    fn write_spec(&self) -> Result<(), DemoError> {
        let mut s = format!(
            "# written by `big_brother demo`\nname = \"{CLUSTER}\"\nfwmark = 7\nscheduler = \"wlc\"\n\
             forward = \"ipip\"\ncheck_interval = \"{}ms\"\nramp_up_time = \"{}ms\"\n\
             override_dir = \"{}\"\n\n\
             [[vip]]\naddress = \"192.0.2.7\"\n",
            self.interval.as_millis(),
            (self.duration / 3).as_millis(),
            // Private, like the drains: a real /etc/big_brother/down/<cluster> must not count.
            self.dir.path().join("data").display()
        );
        for srv in self.servers.iter().take(self.in_spec) {
            let _ = write!(
                s,
                "\n[[node]]\naddress = \"{}\"\nport = {}\npath = \"/{CLUSTER}/status\"\n",
                srv.addr().ip(),
                srv.addr().port()
            );
        }
        let path = self.spec_path();
        std::fs::write(&path, s).map_err(io_err(&path))
    }

    fn event(&mut self, text: String) {
        let t = self.started.elapsed().as_secs_f64();
        let line = format!("{t:5.1}s  {text}");
        if !self.tty {
            println!("{line}");
        }
        self.events.push(line);
    }

    fn id(&self, i: usize) -> String {
        self.servers[i].addr().ip().to_string()
    }

    /// Advances the script: litmus_paper's side of the story, and the operator's.
    fn script(&mut self, now: Instant) -> Result<(), DemoError> {
        let t = (now - self.started).as_secs_f64() / self.duration.as_secs_f64();
        if let Some(since) = self.degrading_since {
            let frac = ((now - since).as_secs_f64() / (self.duration.as_secs_f64() * 0.4)).min(1.0);
            let start = initial_health(DEGRADING);
            self.servers[DEGRADING].set_measured((start - (start - 20.0) * frac).round());
        }
        let (at, step) = STEPS[self.next_step];
        if t < at {
            return Ok(());
        }
        self.next_step += 1;
        match step {
            Step::Degrade => {
                self.degrading_since = Some(now);
                let id = self.id(DEGRADING);
                self.event(format!(
                    "{id}: litmus_paper's measured health starts falling (to 20)"
                ));
            }
            Step::AddNewcomer => {
                self.in_spec = self.servers.len();
                self.write_spec()?;
                // The supervisor's reload path (what SIGHUP asks for): the spec is read again.
                self.control.reload();
                let id = self.id(self.servers.len() - 1);
                self.event(format!(
                    "reload (SIGHUP): new node {id} added; it ramps up over {}s",
                    (self.duration / 3).as_secs()
                ));
            }
            Step::ForceDown => {
                self.servers[FORCED].force(Some(Forced::Down(FORCE_REASON.into())));
                let id = self.id(FORCED);
                self.event(format!("{id}: litmusctl force down -r \"{FORCE_REASON}\""));
            }
            Step::Lift => {
                self.servers[FORCED].force(None);
                let id = self.id(FORCED);
                self.event(format!(
                    "{id}: litmusctl delete (force lifted; it ramps up again)"
                ));
            }
            Step::Drain | Step::Undrain => {
                let id = self.id(STEADY);
                let drain_it = step == Step::Drain;
                drain::update(&self.drain_file(), &id, drain_it)?;
                self.event(if drain_it {
                    format!("big_brother drain {CLUSTER} {id}  (maintenance)")
                } else {
                    format!("big_brother undrain {CLUSTER} {id}  (it ramps up again)")
                });
            }
            Step::Never => {}
        }
        Ok(())
    }

    fn rows(&self) -> Vec<Row> {
        let Some(st) = &self.last else {
            return Vec::new();
        };
        let now = status::unix_secs(SystemTime::now());
        st.nodes
            .iter()
            .map(|n| {
                // The weight the status file says was applied, beside that same file's state: the
                // live table may already hold the next tick's weight, and a row mixing the two
                // could show, e.g., a ramping node at 0 or a drained one still serving.
                let weight = n.weight;
                let note = match (&n.forced_reason, &n.last_error) {
                    _ if n.drained => "drained by the operator".to_string(),
                    (Some(r), _) => format!("forced: {r}"),
                    (None, Some(e)) => e.clone(),
                    _ => String::new(),
                };
                Row {
                    id: n.id.clone(),
                    health: n.health,
                    weight,
                    state: n.state.clone(),
                    since: now.saturating_sub(n.since),
                    latency_ms: n.last_latency_ms,
                    note,
                }
            })
            .collect()
    }

    /// Plain output: one line per state change, and per weight step of 10 or more (or to/from
    /// 0), so a ramp is a handful of lines rather than one per tick.
    fn print_changes(&mut self, rows: &[Row]) {
        for r in rows {
            let prev = self.shown.iter().position(|(id, _, _)| *id == r.id);
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
            "big_brother demo — cluster {CLUSTER:?}, {} wlc, in-memory IPVS   t = {t:4.1}s of {}s   (Ctrl-C to stop)\n",
            self.key,
            self.duration.as_secs()
        );
        out.push_str(&table(rows, true));
        if let Some(st) = &self.last {
            let _ = writeln!(
                out,
                "\ncheck every {} ms, ramp-up {} s, controller tick {}, reload generation {}\n",
                self.interval.as_millis(),
                (self.duration / 3).as_secs(),
                st.tick,
                st.reload.generation
            );
        }
        for e in self.events.iter().rev().take(8).rev() {
            let _ = writeln!(out, "  {e}");
        }
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(out.as_bytes());
        let _ = stdout.flush();
    }

    fn run(mut self) -> Result<(), DemoError> {
        if self.tty {
            print!("\x1b[?25l");
        } else {
            println!(
                "big_brother demo: {} nodes, check every {} ms, ramp-up {} s, {} s (spec and state in {})",
                self.servers.len(),
                self.interval.as_millis(),
                (self.duration / 3).as_secs(),
                self.duration.as_secs(),
                self.dir.path().display()
            );
            self.event(
                "started; adopted the weights a previous supervisor left in the table".into(),
            );
        }
        let end = self.started + self.duration;
        let result = loop {
            let now = Instant::now();
            if now >= end || self.control.stop_requested() {
                break Ok(());
            }
            if let Err(e) = self.script(now) {
                break Err(e);
            }
            if let Ok(Some(st)) = Status::read(&self.state.status()) {
                self.last = Some(st);
            }
            let rows = self.rows();
            if self.tty {
                self.draw(&rows, now);
            } else {
                self.print_changes(&rows);
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        // Stop the controller the way Pacemaker's SIGTERM would.
        self.control.stop();
        let ctl = self.controller.take().and_then(|h| h.join().ok());
        if let Ok(Some(st)) = Status::read(&self.state.status()) {
            self.last = Some(st);
        }
        let rows = self.rows();
        let now = Instant::now();
        if self.tty {
            self.draw(&rows, now);
            print!("\x1b[?25h");
        } else {
            println!(
                "\nfinal state after {:.1}s:\n{}",
                (now - self.started).as_secs_f64(),
                table(&rows, false)
            );
        }
        if let Some(ctl) = ctl {
            ctl.shutdown()?;
        }
        result
    }
}

struct Row {
    id: String,
    health: Option<f64>,
    weight: u32,
    state: String,
    since: u64,
    latency_ms: Option<f64>,
    note: String,
}

/// The node table; with `bars`, a weight bar before the note.
fn table(rows: &[Row], bars: bool) -> String {
    let mut out = format!(
        "{:<14} {:>6} {:>6}  {:<11} {:>6} {:>8}  {}\n",
        "NODE", "HEALTH", "WEIGHT", "STATE", "SINCE", "LATENCY", "NOTE"
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
            "{:<14} {health:>6} {:>6}  {:<11} {:>5}s {latency:>8}  {bar}{}",
            r.id, r.weight, r.state, r.since, r.note
        );
    }
    out
}
