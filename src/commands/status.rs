//! `big_brother status [CLUSTER] [--json]`: what the supervisors on this machine are doing, read
//! from their state directories (`$HA_RSCTMP/big_brother/<cluster>/`) without disturbing them.
//!
//! Liveness is the supervisor's lock (never a PID guess); the table comes from `status.json`,
//! which the supervisor rewrites every tick; the state is the verdict `monitor` uses
//! (`state::liveness`). Exit code (`commands::code::status`): 0 when every cluster shown is
//! running (or starting), 1 when one is stale or failing, 7 (OCF "not running") when one is not
//! running — or, without CLUSTER, when none is.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use super::code::{self, finish, Failure};
use crate::exit::OcfCode;
use crate::ipvs::{Service, ServiceKey};
use crate::state::drain;
use crate::state::liveness::{verdict, Verdict};
use crate::state::status::{unix_secs, Now, Status};
use crate::state::{FileError, StateDir};
use crate::text::ago;

/// One cluster as `status` reports it (also the `--json` shape).
#[derive(Debug, Serialize)]
pub struct Report {
    pub cluster: String,
    /// `running`, `stale` (running, heartbeat too old), `failing` (running, but it cannot program
    /// IPVS or keep its checkers running: what `monitor` fails on), `starting` (running, no status
    /// yet) or `stopped` (`state::liveness`).
    pub state: &'static str,
    pub pid: Option<i32>,
    /// Seconds since the last heartbeat, when there is a status file.
    pub heartbeat_age_s: Option<u64>,
    /// Node ids in the drain file (also shown when the supervisor is stopped).
    pub drained: Vec<String>,
    /// The supervisor's status file as written (a leftover one when stopped after a crash).
    pub status: Option<Status>,
    /// Why something could not be read.
    pub error: Option<String>,
}

/// Reads one cluster's state directory.
pub fn report(rsctmp: &Path, cluster: &str, now: impl Into<Now>) -> Report {
    let now = now.into();
    let dir = StateDir::new(rsctmp, cluster);
    let mut error = None;
    let verdict = verdict(&dir, now).unwrap_or_else(|e| {
        error = Some(e.to_string());
        Verdict::Stopped
    });
    // The status file as written: a leftover one too, when the supervisor is gone.
    let status = Status::read(&dir.status()).unwrap_or_else(|e| {
        error = Some(format!("{}: {e}", dir.status().display()));
        None
    });
    let drained = match drain::load(&drain::path(cluster)) {
        Ok(set) => set.into_iter().collect(),
        Err(e) => {
            error = Some(e.to_string());
            Vec::new()
        }
    };
    let age = status.as_ref().map(|s| s.age(now));
    Report {
        cluster: cluster.to_string(),
        state: verdict.name(),
        pid: verdict.pid(),
        heartbeat_age_s: age.map(|a| a.as_secs()),
        drained,
        status,
        error,
    }
}

/// Clusters with a state directory under `rsctmp`, sorted.
pub fn clusters(rsctmp: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(rsctmp.join("big_brother")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

/// `big_brother status` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// One cluster (default: every cluster with a state directory here).
    pub cluster: Option<String>,
    /// Machine-readable output (the status file plus liveness).
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: &Args) -> OcfCode {
    finish("status", status(a.cluster.as_deref(), a.json))
}

fn status(cluster: Option<&str>, json: bool) -> Result<OcfCode, Failure> {
    let rsctmp: PathBuf = crate::state::rsctmp_from_env();
    let now = Now::read();
    let names = match cluster {
        Some(c) => vec![c.to_string()],
        None => clusters(&rsctmp),
    };
    let reports: Vec<Report> = names.iter().map(|c| report(&rsctmp, c, now)).collect();
    if json {
        let text = match cluster {
            Some(_) => reports.first().map(serde_json::to_string_pretty),
            None => Some(serde_json::to_string_pretty(&reports)),
        };
        if let Some(t) = text.transpose().map_err(|e| {
            Failure::Io(FileError::of(
                "cannot render the status of",
                rsctmp.join("big_brother"),
            )(e.into()))
        })? {
            println!("{t}");
        }
    } else if reports.is_empty() {
        println!(
            "no clusters supervised on this machine (nothing under {})",
            rsctmp.join("big_brother").display()
        );
    } else {
        print!("{}", human(&reports, now.wall));
    }
    if !json {
        // Host-level, not a cluster's: the kernel is the sync agent's only state. Printed only
        // when the kernel can be asked (root, IPVS) and runs a daemon.
        if let Ok(daemons) = crate::ipvs::netlink::sync_daemons() {
            if let Some(line) = sync_line(&daemons) {
                println!("{line}");
                // The host-wide settings the sync agent may set, beside its daemons.
                if let Some(line) = host_settings_line() {
                    println!("{line}");
                }
            }
        }
    }
    let states: Vec<&str> = reports.iter().map(|r| r.state).collect();
    Ok(code::status(&states))
}

/// The host line for the running sync daemons, `None` when none runs.
pub fn sync_line(daemons: &[crate::ipvs::SyncDaemon]) -> Option<String> {
    if daemons.is_empty() {
        return None;
    }
    let parts: Vec<String> = daemons.iter().map(ToString::to_string).collect();
    // Interface names come from the kernel: shown terminal-safe like everything quoted here.
    Some(format!(
        "\nconnection sync (host): {}",
        crate::text::for_terminal(&parts.join("; "))
    ))
}

/// `IPVS host settings: tcp_timeout 900, …, sloppy_tcp 0` as the kernel has them now (those it
/// could read), `None` when it cannot be asked.
fn host_settings_line() -> Option<String> {
    use crate::ipvs::host_settings::{HostAccess, Kernel, SYSCTL_DIR};
    let mut nl = crate::ipvs::netlink::Netlink::open().ok()?;
    let mut k = Kernel {
        ipvs: &mut nl,
        sysctl_dir: SYSCTL_DIR.into(),
    };
    Some(settings_line(
        crate::ipvs::Setting::ALL
            .into_iter()
            .filter_map(|s| k.read(s).ok().map(|v| (s, v))),
    ))
}

fn settings_line(values: impl Iterator<Item = (crate::ipvs::Setting, u32)>) -> String {
    let parts: Vec<String> = values.map(|(s, v)| format!("{s} {v}")).collect();
    format!("IPVS host settings: {}", parts.join(", "))
}

/// `: reason`, or nothing for an empty one.
fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    }
}

/// Every report in the human form, blank-line separated, ready for a terminal: the tables quote
/// what status files say (node errors, reasons, override files' first lines), so whatever
/// cleaned that text at its source, nothing non-printable is printed raw (issue 12 item 6).
pub fn human(reports: &[Report], now: SystemTime) -> String {
    let mut out = String::new();
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&render(r, now));
    }
    crate::text::lines_for_terminal(&out)
}

/// The human form: a header line, problems, then one row per node.
/// `check: TYPE TARGET[, tls_verify off][; output: …]` for a node whose check is not a plain
/// litmus one or that said something; `None` otherwise (the table stays as it always was).
fn check_line(n: &crate::state::status::NodeStatus) -> Option<String> {
    let kind = n.check.as_deref().unwrap_or("litmus");
    let tls = n.tls_verify.is_some();
    if kind == "litmus" && !tls && n.check_output.is_none() {
        return None;
    }
    let mut line = format!("check: {kind} {}", n.check_target.as_deref().unwrap_or("-"));
    if n.tls_verify == Some(false) {
        line.push_str(", TLS certificate NOT verified (tls_verify = false)");
    }
    if let Some(o) = &n.check_output {
        line.push_str("; output: ");
        line.push_str(o);
    }
    Some(crate::text::for_terminal(&line).into_owned())
}

/// The service options beyond the scheduler, as ipvsadm words them (`persistent 300 mask
/// 255.255.255.0`, `flags sh-fallback,sh-port`, `ops`), each after a comma; empty when none.
fn service_options(s: &crate::state::repr::ServiceRepr) -> String {
    let mut out = String::new();
    if s.flags & crate::ipvs::netlink::ip_vs::IP_VS_SVC_F_PERSISTENT != 0 {
        let _ = write!(out, ", persistent {}s", s.timeout);
        if let Some(m) = &s.persistence_netmask {
            let _ = write!(out, " mask {}", crate::text::for_terminal(m));
        }
    }
    if !s.scheduler_flags.is_empty() {
        let names: Vec<_> = s
            .scheduler_flags
            .iter()
            .map(|f| crate::text::for_terminal(f).into_owned())
            .collect();
        let _ = write!(out, ", flags {}", names.join(","));
    }
    if s.one_packet {
        out.push_str(", one-packet");
    }
    out
}

/// The panic threshold's line: loud while in panic, a quiet reminder of the setting otherwise.
fn panic_line(s: &Status, now_unix: u64) -> Option<String> {
    let p = s.panic.as_ref()?;
    if !p.active {
        return Some(format!(
            "panic threshold {} %: not in panic ({} of {} nodes healthy){}",
            p.threshold,
            p.healthy,
            p.counted,
            if p.entered > 0 {
                format!(", entered {} times since start", p.entered)
            } else {
                String::new()
            }
        ));
    }
    Some(format!(
        "PANIC{}: {} of {} nodes healthy, below panic_threshold {} %: health is NOT trusted; {} kept at their last good weight because they answer TCP ({}); ends at {} % healthy held for {} check intervals",
        p.since
            .map(|t| format!(" for {}", ago(now_unix.saturating_sub(t))))
            .unwrap_or_default(),
        p.healthy,
        p.counted,
        p.threshold,
        p.held.len(),
        if p.held.is_empty() { "none".to_string() } else { p.held.join(", ") },
        p.exit_level,
        crate::supervisor::panic::HOLD_INTERVALS,
    ))
}

/// `thresholds: upper U, lower L` for the node whose destination carries any (issue 17).
fn threshold_line(dests: &[crate::state::repr::DestRepr], id: &str) -> Option<String> {
    let d = dests.iter().find(|d| d.id() == id)?;
    if d.upper_threshold == 0 && d.lower_threshold == 0 {
        return None;
    }
    Some(format!(
        "thresholds: upper {}, lower {}",
        d.upper_threshold,
        if d.lower_threshold == 0 {
            "3/4 of upper (kernel default)".to_string()
        } else {
            d.lower_threshold.to_string()
        }
    ))
}

/// Where a node's operator drain comes from: the CIB (with who, when, why), this director's
/// drain file, or both.
fn drain_note(s: &Status, id: &str) -> String {
    let cib = s
        .cib
        .as_ref()
        .and_then(|c| c.drains.iter().find(|d| d.node == id));
    let local = s.local_drains.iter().any(|d| d == id);
    match (cib, local) {
        (Some(d), _) => format!(
            "drained cluster-wide{}{}{}{}",
            if d.by.is_empty() {
                String::new()
            } else {
                format!(" by {}", d.by)
            },
            if d.at.is_empty() {
                String::new()
            } else {
                format!(" at {}", d.at)
            },
            if d.reason.is_empty() {
                String::new()
            } else {
                format!(": {}", d.reason)
            },
            if local {
                " (also in this director's drain file)"
            } else {
                ""
            }
        ),
        (None, true) => {
            "drained on this director only (drain file; big_brother undrain to return it)".into()
        }
        (None, false) => "drained by an operator (big_brother undrain to return it)".into(),
    }
}

/// A node override from the CIB: the weight, who, when, why.
fn override_note(s: &Status, n: &crate::state::status::NodeStatus) -> String {
    let o = s.cib.as_ref().and_then(|c| c.overrides.nodes.get(&n.id));
    let w = n.weight_override.unwrap_or_default();
    let capped = match n.max_weight {
        Some(m) if w > m => format!(" (capped at max_weight {m})"),
        _ => String::new(),
    };
    match o {
        Some(o) => format!(
            "override: weight {w}{capped} cluster-wide by {} at {}{}",
            o.record.by,
            o.record.at,
            reason_suffix(&o.record.reason)
        ),
        None => format!("override: weight {w}{capped}"),
    }
}

/// What to say about the CIB: nothing while it reads fine; a failed read and the drains kept;
/// local drains that could be cluster-wide.
fn cib_lines(s: &Status, now_unix: u64) -> Vec<String> {
    let mut lines = Vec::new();
    let Some(c) = &s.cib else {
        return lines;
    };
    if let (true, Some(e)) = (c.reachable, &c.error) {
        lines.push(format!(
            "CIB: cannot read it ({e}); keeping the {} cluster-wide drains and {} overrides read {}",
            c.drains.len(),
            c.overrides.nodes.len() + usize::from(c.overrides.cluster.is_some()),
            c.read_at.map_or_else(
                || "before".to_string(),
                |t| format!("{} ago", ago(now_unix.saturating_sub(t)))
            )
        ));
    }
    if c.reachable && !s.local_drains.is_empty() {
        lines.push(format!(
            "local drains (this director only): {} — `big_brother drain {} NODE` moves one to the CIB",
            s.local_drains.join(", "),
            s.cluster
        ));
    }
    lines
}

pub fn render(r: &Report, now: SystemTime) -> String {
    let mut out = String::new();
    let now_unix = unix_secs(now);
    let mut head = format!("{}: {}", r.cluster, r.state);
    if let Some(pid) = r.pid {
        let _ = write!(head, " (pid {pid})");
    }
    if let Some(s) = &r.status {
        let key = ServiceKey::from(s.service.key);
        let svc = Service::from(&s.service);
        let _ = write!(head, ", {key} {}", svc.scheduler);
        head.push_str(&service_options(&s.service));
        if s.dry_run {
            head.push_str(", dry run");
        }
        if let Some(age) = r.heartbeat_age_s {
            let _ = write!(head, ", heartbeat {} ago", ago(age));
        }
        if r.state == "stopped" {
            head.push_str(" (left by a supervisor that did not stop cleanly)");
        }
    }
    let _ = writeln!(out, "{head}");
    if let Some(e) = &r.error {
        let _ = writeln!(out, "  cannot read: {e}");
    }
    let Some(s) = &r.status else {
        if !r.drained.is_empty() {
            let _ = writeln!(out, "  drained: {}", r.drained.join(", "));
        }
        return out;
    };
    let _ = writeln!(
        out,
        "  config {} ({}), reload generation {}{}",
        s.config.display(),
        s.config_digest,
        s.reload.generation,
        match (&s.reload.ok, &s.reload.error) {
            (false, Some(e)) => format!(" REFUSED: {e} (the previous spec keeps running)"),
            _ => String::new(),
        }
    );
    if let Some(e) = &s.backend_error {
        let _ = writeln!(out, "  backend error: {e}");
    }
    if let Some(e) = &s.checkers.error {
        let _ = writeln!(out, "  checker error: {e}");
    }
    if s.checkers.restarts > 0 {
        let nodes = s
            .checkers
            .restarted
            .iter()
            .map(|(id, n)| format!("{id} ×{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "  checker restarts: {} ({nodes}; see the log for why)",
            s.checkers.restarts
        );
    }
    if let Some(e) = &s.drain_error {
        let _ = writeln!(out, "  drain file error: {e}");
    }
    for line in cib_lines(s, now_unix) {
        let _ = writeln!(out, "  {line}");
    }
    if s.drift > 0 {
        let _ = writeln!(
            out,
            "  drift: {} changes made outside big_brother were undone",
            s.drift
        );
    }
    if let Some(line) = panic_line(s, now_unix) {
        let _ = writeln!(out, "  {line}");
    }
    if let Some(o) = &s.override_state {
        let _ = writeln!(
            out,
            "  override: {} — every node {} ({}{})",
            o.state.as_str(),
            match o.state {
                crate::state::overrides::Override::Up => "at full weight",
                crate::state::overrides::Override::Down => "at weight 0",
            },
            o.origin(),
            reason_suffix(&o.reason)
        );
    }
    if let Some(o) = &s.override_other {
        let _ = writeln!(
            out,
            "  override: {} also set ({}{}){}",
            o.state.as_str(),
            o.origin(),
            reason_suffix(&o.reason),
            if s.override_state
                .as_ref()
                .is_some_and(|f| f.state != o.state)
            {
                "; up wins"
            } else {
                ""
            }
        );
    }
    if let Some(e) = &s.override_error {
        let _ = writeln!(out, "  override file error: {e}");
    }
    if let Some(h) = s.on_change.as_ref().filter(|h| h.failures > 0) {
        let _ = writeln!(
            out,
            "  on_change: {} of {} runs failed{}",
            h.failures,
            h.runs,
            h.last_error
                .as_ref()
                .map_or_else(String::new, |e| format!("; last: {e}"))
        );
    }
    let _ = writeln!(
        out,
        "  {:<24} {:>6} {:>6}  {:<11} {:>8} {:>8} {:>7} {:>7}  NOTE",
        "NODE", "HEALTH", "WEIGHT", "STATE", "SINCE", "LATENCY", "ACTIVE", "INACT"
    );
    for n in &s.nodes {
        let health = n.health.map_or_else(|| "-".into(), |h| format!("{h:.0}"));
        let latency = n
            .last_latency_ms
            .map_or_else(|| "-".into(), |l| format!("{l:.1}ms"));
        let since = ago(now_unix.saturating_sub(n.since));
        // The kernel's connection counts (absent in status files of older versions).
        let count = |c: Option<u32>| c.map_or_else(|| "-".into(), |c| c.to_string());
        let (active, inactive) = (count(n.active_conns), count(n.inactive_conns));
        let agent_drain = n.check.as_deref() == Some("agent")
            && n.check_output
                .as_deref()
                .is_some_and(|o| o.contains("drain"));
        let held = s.panic.as_ref().is_some_and(|p| p.held.contains(&n.id));
        let note = match (&n.forced_reason, &n.last_error) {
            (_, e) if held => format!(
                "PANIC: kept at its last good weight (answers TCP){}",
                e.as_ref().map(|e| format!("; {e}")).unwrap_or_default()
            ),
            _ if n.drained && agent_drain => "drained by its agent check".into(),
            _ if n.drained => drain_note(s, &n.id),
            _ if n.weight_override.is_some() => override_note(s, n),
            (Some(r), _) => format!("forced: {r}"),
            (None, Some(e)) => e.clone(),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {:<24} {health:>6} {:>6}  {:<11} {since:>8} {latency:>8} {active:>7} {inactive:>7}  {note}",
            n.id, n.weight, n.state
        );
        // The check, when it is not today's default litmus check, and what it said (issue 16).
        if let Some(line) = check_line(n) {
            let _ = writeln!(out, "    {line}");
        }
        if let Some(line) = threshold_line(&s.dests, &n.id) {
            let _ = writeln!(out, "    {line}");
        }
    }
    // Destinations that are not nodes: the sorry server while every node is down.
    for d in &s.dests {
        let id = match (d.address, d.port) {
            (a, 0) => a.to_string(),
            (std::net::IpAddr::V6(a), p) => format!("[{a}]:{p}"),
            (a, p) => format!("{a}:{p}"),
        };
        if let Some(r) = s.removing.iter().find(|r| r.id == id) {
            // A node a reload took out, waiting for its connections (issue 15).
            let count = |c: Option<u32>| c.map_or_else(|| "-".into(), |c| c.to_string());
            let _ = writeln!(
                out,
                "  {:<24} {:>6} {:>6}  {:<11} {:>8} {:>8} {:>7} {:>7}  out of the spec: deleted when its active connections end, or in {} at the latest",
                id,
                "-",
                d.weight,
                "removing",
                ago(now_unix.saturating_sub(r.since)),
                "-",
                count(r.active_conns),
                count(r.inactive_conns),
                ago(r.deadline.saturating_sub(now_unix)),
            );
            continue;
        }
        if !s.nodes.iter().any(|n| n.id == id) {
            let _ = writeln!(
                out,
                "  {:<24} {:>6} {:>6}  {:<11} {:>8} {:>8} {:>7} {:>7}  {}",
                id,
                "-",
                d.weight,
                "sorry",
                "-",
                "-",
                "-",
                "-",
                if s.override_state.is_some() {
                    "override down"
                } else {
                    "every node is down"
                }
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A running cluster's report around `status`.
    fn running(status: Status) -> Report {
        Report {
            cluster: "webapp".into(),
            state: "running",
            pid: Some(42),
            heartbeat_age_s: Some(0),
            drained: Vec::new(),
            status: Some(status),
            error: None,
        }
    }

    #[test]
    fn the_sync_line_lists_the_running_daemons() {
        use crate::ipvs::{SyncDaemon, SyncState};
        assert_eq!(sync_line(&[]), None);
        let m = SyncDaemon::new(SyncState::Master, "eth1", 42).effective(1500);
        let b = SyncDaemon::new(SyncState::Backup, "eth\u{1b}1", 42).effective(1500);
        let line = sync_line(&[m, b]).unwrap();
        assert!(
            line.starts_with(
                "\nconnection sync (host): master sync daemon (mcast=eth1, syncid=42,"
            ),
            "{line}"
        );
        assert!(line.contains("; backup sync daemon (mcast=eth"), "{line}");
        assert!(!line.contains('\u{1b}'), "{line}");
    }

    #[test]
    fn the_host_settings_line_names_each_setting() {
        use crate::ipvs::Setting;
        assert_eq!(
            settings_line([(Setting::TcpTimeout, 900), (Setting::SloppyTcp, 1)].into_iter()),
            "IPVS host settings: tcp_timeout 900, sloppy_tcp 1"
        );
    }

    #[test]
    fn a_missing_cluster_is_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let r = report(dir.path(), "nope", SystemTime::now());
        assert_eq!(
            (r.state, r.pid, r.status.is_none()),
            ("stopped", None, true)
        );
        assert_eq!(code::status(&[r.state]), OcfCode::NotRunning);
        assert!(clusters(dir.path()).is_empty());
    }

    fn node(id: &str, conns: Option<(u32, u32)>) -> crate::state::status::NodeStatus {
        crate::state::status::NodeStatus {
            id: id.into(),
            address: "192.0.2.1".parse().unwrap(),
            health: Some(100.0),
            weight: 100,
            state: "up".into(),
            drained: false,
            last_latency_ms: Some(1.5),
            last_error: None,
            forced_reason: None,
            since: 940,
            checks: 1,
            check_failures: 0,
            max_weight: Some(100),
            active_conns: conns.map(|c| c.0),
            inactive_conns: conns.map(|c| c.1),
            check: None,
            check_target: None,
            check_output: None,
            tls_verify: None,
            weight_override: None,
        }
    }

    /// The node table shows the kernel's connection counts, and `-` for a status file written
    /// before they were recorded.
    /// Issue 16: a node's check shows on a line of its own under its row (none for litmus).
    #[test]
    fn checks_show_under_their_node() {
        let mut status = crate::state::status::tests::sample();
        let mut exec = node("192.0.2.1", None);
        exec.check = Some("exec".into());
        exec.check_target = Some("exec /usr/lib/probe".into());
        exec.check_output = Some("load 0.3\u{1b}[2J".into());
        let mut agent = node("192.0.2.2", None);
        agent.check = Some("agent".into());
        agent.check_target = Some("agent 192.0.2.2:5555".into());
        agent.check_output = Some("drain".into());
        agent.drained = true;
        let mut https = node("192.0.2.3", None);
        https.check = Some("http".into());
        https.check_target = Some("https://192.0.2.3:443/".into());
        https.tls_verify = Some(false);
        let mut plain = node("192.0.2.4", None);
        plain.check = Some("litmus".into());
        status.nodes = vec![exec, agent, https, plain];
        let text = render(
            &running(status),
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000),
        );
        assert!(
            text.contains("    check: exec exec /usr/lib/probe; output: load 0.3\\u{1b}[2J"),
            "{text}"
        );
        assert!(text.contains("drained by its agent check"), "{text}");
        assert!(
            text.contains("check: http https://192.0.2.3:443/, TLS certificate NOT verified"),
            "{text}"
        );
        assert_eq!(text.matches("check: ").count(), 3, "{text}");
    }

    #[test]
    fn the_table_shows_connections() {
        let mut status = crate::state::status::tests::sample();
        status.nodes = vec![node("192.0.2.1", Some((12, 40))), node("192.0.2.2", None)];
        let r = running(status);
        let text = render(
            &r,
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000),
        );
        let rows: Vec<Vec<&str>> = text
            .lines()
            .skip(2)
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            rows,
            [
                vec![
                    "NODE", "HEALTH", "WEIGHT", "STATE", "SINCE", "LATENCY", "ACTIVE", "INACT",
                    "NOTE"
                ],
                vec![
                    "192.0.2.1",
                    "100",
                    "100",
                    "up",
                    "1m00s",
                    "1.5ms",
                    "12",
                    "40"
                ],
                vec!["192.0.2.2", "100", "100", "up", "1m00s", "1.5ms", "-", "-"],
            ],
            "{text}"
        );
    }

    /// Issue 17: the service options in the header, a node's thresholds under it.
    #[test]
    fn options_and_thresholds_are_shown() {
        use crate::ipvs::{Dest, Forward, Netmask, Service, ServiceKey};
        let mut status = crate::state::status::tests::sample();
        status.nodes = vec![node("192.0.2.1", None), node("192.0.2.2", None)];
        let key = ServiceKey::Fwmark {
            family: crate::ipvs::Family::V4,
            mark: 7,
        };
        let svc = Service {
            flags: 0x1 | 0x4 | 0x8,
            timeout: 300,
            netmask: Netmask::V4([255, 255, 255, 0].into()),
            ..Service::new(key, "sh")
        };
        status.service = (&svc).into();
        let with = Dest {
            upper_threshold: 10,
            ..Dest::new("192.0.2.1".parse().unwrap(), 0, Forward::Dr, 100)
        };
        let without = Dest::new("192.0.2.2".parse().unwrap(), 0, Forward::Dr, 100);
        status.dests = vec![(&with).into(), (&without).into()];
        let text = render(&running(status), std::time::UNIX_EPOCH);
        assert!(
            text.lines().next().unwrap().contains(
                "FWM 7 sh, persistent 300s mask 255.255.255.0, flags sh-fallback, one-packet"
            ),
            "{text}"
        );
        assert!(
            text.contains("\n    thresholds: upper 10, lower 3/4 of upper (kernel default)\n"),
            "{text}"
        );
        assert_eq!(text.matches("thresholds:").count(), 1, "{text}");
    }

    /// Issue 12 item 6: what a status file quotes reaches the terminal escaped, whatever wrote
    /// it (a hand-edited or foreign file is not cleaned at its source).
    #[test]
    fn the_terminal_never_gets_raw_control_or_bidi_characters() {
        let mut status = crate::state::status::tests::sample();
        let mut a = node("192.0.2.1", None);
        a.last_error = Some("refused\x1b[2J\u{202e}evil\u{7}".into());
        let mut b = node("192.0.2.2", None);
        b.forced_reason = Some("line\u{2028}break".into());
        status.nodes = vec![a, b];
        let r = running(status);
        let text = human(&[r], std::time::UNIX_EPOCH);
        assert!(text.contains("\\u{1b}[2J\\u{202e}evil\\u{7}"), "{text}");
        assert!(text.contains("line\\u{2028}break"), "{text}");
        assert!(
            !text
                .chars()
                .any(|c| (c.is_control() && c != '\n') || ('\u{2028}'..='\u{202e}').contains(&c)),
            "{text:?}"
        );
    }
}
