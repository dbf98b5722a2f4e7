//! One `virtual_server` block → a [`Plan`] of spec keys; everything else in the file is
//! reported as not carried. The mapping is the README's "Import from keepalived" table.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use super::parse::Stmt;
use super::{render, Converted, Dropped, Import, MAX_SERVICES};
use crate::spec::model::{limits, MAX_NODES, MAX_WEIGHT, SCHEDULERS};
use crate::spec::validate::is_valid_name;
use crate::spec::Problem;
use crate::text::quoted;
use checker::checker;

pub(super) mod checker;

/// keepalived's own defaults where it has them and we need a value.
pub mod kdefaults {
    use std::time::Duration;
    /// `delay_loop` when a virtual_server has none.
    pub const DELAY_LOOP: Duration = Duration::from_secs(60);
    /// `connect_timeout` of HTTP_GET, SSL_GET and TCP_CHECK when none is given.
    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    /// `weight` of a real_server without one.
    pub const WEIGHT: u32 = 1;
}

/// Most seconds we read from a keepalived duration (a day; every range we check is below).
const MAX_SECONDS: u64 = 86_400;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Service {
    Fwmark(u32),
    Addr {
        tcp: bool,
        address: IpAddr,
        port: u16,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    Http {
        path: Option<String>,
        /// `expect_status` items as TOML values (`200`, `"200-299"`).
        status: Vec<String>,
        tls: bool,
        server_name: Option<String>,
    },
    Tcp,
    Exec {
        argv: Vec<String>,
    },
}

#[derive(Clone, Debug)]
pub struct NodePlan {
    pub address: IpAddr,
    /// The check port (connect_port, or the real server's port).
    pub port: u16,
    /// The real server's port, when it differs from the service's (not for fwmark).
    pub real_port: Option<u16>,
    pub max_weight: u32,
    /// `uthreshold` / `lthreshold`, when given.
    pub upper_threshold: Option<u32>,
    pub lower_threshold: Option<u32>,
    pub check: Check,
    /// The keepalived checker it came from (for the comment above the node).
    pub from: String,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub name: String,
    pub origin: String,
    pub service: Service,
    pub scheduler: Option<String>,
    pub forward: &'static str,
    pub forward_given: bool,
    pub persistence: Option<u64>,
    /// `persistence_granularity` as the spec writes it (`"255.255.255.0"` or `64`).
    pub netmask: Option<String>,
    /// Scheduler flags by name (`sh-port`, …), resolved against the scheduler.
    pub sched_flags: Vec<&'static str>,
    /// `ops`.
    pub one_packet: bool,
    pub interval: Duration,
    pub interval_given: bool,
    pub timeout: Option<Duration>,
    pub fall: Option<u32>,
    pub sorry: Option<(IpAddr, u16)>,
    pub nodes: Vec<NodePlan>,
    pub dropped: Vec<Dropped>,
    pub notes: Vec<String>,
}

pub struct FileOut {
    pub import: Import,
    pub problems: Vec<Problem>,
}

/// Collects problems (refusals) and drops (not carried) for one scope.
pub(super) struct Ctx {
    problems: Vec<Problem>,
    dropped: Vec<Dropped>,
    pub(super) notes: Vec<String>,
}

impl Ctx {
    fn new() -> Ctx {
        Ctx {
            problems: Vec::new(),
            dropped: Vec::new(),
            notes: Vec::new(),
        }
    }
    pub(super) fn bad(&mut self, s: &Stmt, expected: impl Into<String>) {
        self.problems.push(Problem {
            line: Some(s.line),
            column: Some(s.column),
            key: s.key.clone(),
            expected: expected.into(),
        });
    }
    pub(super) fn drop(&mut self, s: &Stmt, why: impl Into<String>) {
        let key = match s.args.first() {
            Some(a) if s.block.is_some() => format!("{} {}", s.key, a),
            _ => s.key.clone(),
        };
        self.dropped.push(Dropped {
            line: s.line,
            key,
            why: why.into(),
        });
    }
    /// The one argument of `s`, or a problem.
    pub(super) fn arg<'a>(&mut self, s: &'a Stmt, what: &str) -> Option<&'a str> {
        match s.args.as_slice() {
            [a] => Some(a),
            _ => {
                self.bad(s, format!("one argument, {what}"));
                None
            }
        }
    }
}

/// Top-level keywords and why big_brother has no place for them.
fn top_level_why(key: &str) -> Option<&'static str> {
    Some(match key {
        "global_defs" => "keepalived's daemon settings (router id, SMTP, scripts); big_brother has none of them",
        "virtual_server_group" => "big_brother has one service per spec: write one virtual_server per address and port, or use a fwmark",
        "static_ipaddress" | "static_routes" | "static_rules" => "addresses and routes are the system's (or Pacemaker's) to configure",
        "bfd_instance" => "BFD is not a health check big_brother runs",
        "linkbeat_use_polling" | "net_namespace" | "net_namespace_ipvs" | "instance" | "use_pid_dir" | "namespace_with_ipsets" => "a keepalived process setting",
        k if k.starts_with("vrrp_") || k == "garp_group" || k == "track_file" || k == "track_process" => "big_brother runs no VRRP: Pacemaker moves the VIPs (add [[vip]] tables to the spec)",
        _ => return None,
    })
}

/// The two `global_defs` keywords that have a big_brother home outside the spec: IPVS connection
/// sync and the host's IPVS timeouts are host-wide, so they belong to the `ipvs_sync` agent (one
/// per director), not to a cluster's spec. Each gets its own note saying where, beside the
/// block's general one.
fn host_wide_notes(top: &mut Ctx, global_defs: &Stmt) {
    for s in global_defs.block.as_deref().unwrap_or_default() {
        match s.key.as_str() {
            "lvs_sync_daemon" => top.drop(
                s,
                "connection sync is host-wide: run the ipvs_sync agent (interface=IF sync_id=N; \
                 crm generate --sync-interface IF --sync-id N)",
            ),
            "lvs_timeouts" => top.drop(
                s,
                "IPVS timeouts are host-wide: set tcp_timeout, tcpfin_timeout, udp_timeout on the \
                 ipvs_sync agent (crm generate --ipvs-timeouts TCP,TCPFIN,UDP)",
            ),
            _ => {}
        }
    }
}

pub fn file(source: &Path, stmts: &[Stmt], only: Option<&str>) -> FileOut {
    let mut top = Ctx::new();
    let mut names = Vec::new();
    let mut clusters = Vec::new();
    let mut seen: Vec<(String, usize)> = Vec::new();
    let mut services = 0usize;
    refuse_includes(&mut top, stmts);
    for s in stmts {
        match s.key.as_str() {
            "virtual_server" => {
                if s.args.first().map(String::as_str) == Some("group") {
                    top.drop(s, "a virtual_server of a virtual_server_group: big_brother has one service per spec (write one virtual_server per address and port, or use a fwmark)");
                    continue;
                }
                services += 1;
                if services > MAX_SERVICES {
                    if services == MAX_SERVICES + 1 {
                        top.bad(
                            s,
                            format!("at most {MAX_SERVICES} virtual_server blocks in one file"),
                        );
                    }
                    continue;
                }
                let Some(block) = &s.block else {
                    top.bad(
                        s,
                        "a virtual_server block (`virtual_server ADDRESS PORT {` … `}`)",
                    );
                    continue;
                };
                let Some((service, name)) = service_of(&mut top, s) else {
                    continue;
                };
                names.push(name.clone());
                if let Some((_, line)) = seen.iter().find(|(n, _)| *n == name) {
                    top.bad(
                        s,
                        format!("each service once, but {name} is also on line {line}"),
                    );
                    continue;
                }
                seen.push((name.clone(), s.line));
                if only.is_some_and(|o| o != name) {
                    continue;
                }
                let mut c = Ctx::new();
                let plan = virtual_server(&mut c, s, block, service, name);
                top.problems.append(&mut c.problems);
                if let Some(mut plan) = plan {
                    plan.dropped.append(&mut c.dropped);
                    plan.notes.append(&mut c.notes);
                    plan.dropped.sort_by_key(|d| d.line);
                    clusters.push(plan);
                }
            }
            "include" => {}
            k if k.starts_with('$') || k.starts_with('@') => {}
            "global_defs" => {
                top.drop(s, top_level_why("global_defs").unwrap_or_default());
                host_wide_notes(&mut top, s);
            }
            k => match top_level_why(k) {
                Some(why) => top.drop(s, why),
                None => top.drop(s, "not a keepalived keyword big_brother knows"),
            },
        }
    }
    let converted = clusters
        .into_iter()
        .map(|p| {
            let toml = render::render(source, &p);
            Converted {
                name: p.name,
                origin: p.origin,
                nodes: p.nodes.len(),
                forward: p.forward,
                toml,
                dropped: p.dropped,
                notes: p.notes,
            }
        })
        .collect();
    FileOut {
        import: Import {
            names,
            clusters: converted,
            dropped: top.dropped,
        },
        problems: top.problems,
    }
}

/// `include`, config parameters (`$NAME=…`) and conditional lines (`@name …`) change what the
/// file means in ways only keepalived itself resolves: refused wherever they appear.
fn refuse_includes(c: &mut Ctx, stmts: &[Stmt]) {
    for s in stmts {
        if s.key == "include" {
            c.bad(s, "no `include`: keepalived reads other files (globs) there, and import reads one file; paste the included files in (or import each on its own)");
        } else if s.key.starts_with('$') {
            c.bad(s, "no config parameters (`$NAME=…`): write the values out");
        } else if s.key.starts_with('@') {
            c.bad(s, "no conditional lines (`@instance …`): keep the lines meant for this machine, without the prefix");
        }
        refuse_includes(c, s.children());
    }
}

pub(super) fn ip(c: &mut Ctx, s: &Stmt, a: &str, what: &str) -> Option<IpAddr> {
    match a.parse::<IpAddr>() {
        Ok(ip) => Some(ip),
        Err(_) => {
            c.bad(
                s,
                format!("{what} (an IPv4 or IPv6 address), not {}", quoted(a, 80)),
            );
            None
        }
    }
}

pub(super) fn port(c: &mut Ctx, s: &Stmt, a: &str, what: &str) -> Option<u16> {
    match a.parse::<u16>() {
        Ok(p) if p > 0 => Some(p),
        _ => {
            c.bad(s, format!("{what} from 1 to 65535, not {}", quoted(a, 80)));
            None
        }
    }
}

/// The service and the spec name it gives: `virtual_server ADDRESS PORT` or `virtual_server
/// fwmark N`. The protocol (TCP by default) is read from the block.
fn service_of(c: &mut Ctx, s: &Stmt) -> Option<(Service, String)> {
    match s.args.as_slice() {
        [f, m] if f == "fwmark" => match m.parse::<u32>() {
            Ok(n) if n > 0 => Some((Service::Fwmark(n), format!("fwmark_{n}"))),
            _ => {
                c.bad(
                    s,
                    format!(
                        "a firewall mark from 1 to 4294967295, not {}",
                        quoted(m, 80)
                    ),
                );
                None
            }
        },
        [a, p] => {
            let address = ip(c, s, a, "a virtual address");
            let port = port(c, s, p, "a port");
            let (address, port) = (address?, port?);
            let tcp = protocol_of(c, s)?;
            let proto = if tcp { "tcp" } else { "udp" };
            let shown = address.to_string().replace(':', "-");
            let name = format!("{proto}_{shown}_{port}");
            // Always true for what to_string gives; kept so a name is never written unchecked.
            if !is_valid_name(&name) {
                c.bad(s, "an address and port that make a spec name");
                return None;
            }
            Some((Service::Addr { tcp, address, port }, name))
        }
        _ => {
            c.bad(
                s,
                "`virtual_server ADDRESS PORT` or `virtual_server fwmark N`",
            );
            None
        }
    }
}

/// The block's `protocol`: true for TCP (keepalived's default).
fn protocol_of(c: &mut Ctx, s: &Stmt) -> Option<bool> {
    let Some(p) = s.children().iter().rev().find(|k| k.key == "protocol") else {
        return Some(true);
    };
    match p.args.as_slice() {
        [a] if a.eq_ignore_ascii_case("tcp") => Some(true),
        [a] if a.eq_ignore_ascii_case("udp") => Some(false),
        _ => {
            c.bad(
                p,
                format!(
                    "TCP or UDP (IPVS services big_brother runs), not {}",
                    p.args.join(" ")
                ),
            );
            None
        }
    }
}

/// A keepalived duration: seconds, with up to 6 decimals (`0.5`, `60`).
pub(super) fn seconds(c: &mut Ctx, s: &Stmt) -> Option<Duration> {
    let a = c.arg(s, "a number of seconds")?;
    let (whole, frac) = a.split_once('.').unwrap_or((a, ""));
    let ok = !whole.is_empty()
        && whole.len() <= 6
        && frac.len() <= 6
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit());
    let parsed = ok.then(|| {
        let w: u64 = whole.parse().ok()?;
        let f: u64 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<6}").parse().ok()?
        };
        (w <= MAX_SECONDS).then(|| Duration::from_secs(w) + Duration::from_micros(f))
    });
    match parsed.flatten() {
        Some(d) => Some(d),
        None => {
            c.bad(
                s,
                format!(
                    "a number of seconds up to {MAX_SECONDS} (e.g. 5 or 0.5), not {}",
                    quoted(a, 80)
                ),
            );
            None
        }
    }
}

pub(super) fn count(c: &mut Ctx, s: &Stmt, max: u32) -> Option<u32> {
    let a = c.arg(s, "a count")?;
    match a.parse::<u32>() {
        Ok(n) if n <= max => Some(n),
        _ => {
            c.bad(s, format!("a count from 0 to {max}, not {}", quoted(a, 80)));
            None
        }
    }
}

/// Settings a virtual_server or real_server passes down to its checkers (keepalived 2.x).
#[derive(Clone, Copy, Default)]
pub(super) struct Inherit {
    pub(super) retry: Option<u32>,
    pub(super) timeout: Option<Duration>,
}

fn virtual_server(
    c: &mut Ctx,
    s: &Stmt,
    block: &[Stmt],
    service: Service,
    name: String,
) -> Option<Plan> {
    let mut plan = Plan {
        origin: format!("virtual_server {} (line {})", s.args.join(" "), s.line),
        name,
        service,
        scheduler: None,
        forward: "nat",
        forward_given: false,
        persistence: None,
        netmask: None,
        sched_flags: Vec::new(),
        one_packet: false,
        interval: kdefaults::DELAY_LOOP,
        interval_given: false,
        timeout: None,
        fall: None,
        sorry: None,
        nodes: Vec::new(),
        dropped: Vec::new(),
        notes: Vec::new(),
    };
    let problems_before = c.problems.len();
    let mut inherit = Inherit::default();
    // Inherited settings first: they apply wherever they are written in the block.
    for k in block {
        match k.key.as_str() {
            "retry" => inherit.retry = count(c, k, 1000),
            "connect_timeout" => inherit.timeout = seconds(c, k),
            _ => {}
        }
    }
    let mut real_servers = Vec::new();
    // Flags are read after the block: `lvs_sched` may come after them.
    let mut flags: Vec<&Stmt> = Vec::new();
    for k in block {
        match k.key.as_str() {
            "lb_algo" | "lvs_sched" => {
                if let Some(a) = c.arg(k, "a scheduler") {
                    if SCHEDULERS.contains(&a) {
                        plan.scheduler = Some(a.to_string());
                    } else {
                        c.bad(k, format!("a kernel scheduler ({}), not {}", SCHEDULERS.join(" "), quoted(a, 80)));
                    }
                }
            }
            "lb_kind" | "lvs_method" => {
                if let Some(a) = c.arg(k, "NAT, DR or TUN") {
                    plan.forward_given = true;
                    match a.to_ascii_uppercase().as_str() {
                        "NAT" => plan.forward = "nat",
                        "DR" => plan.forward = "dr",
                        "TUN" => plan.forward = "ipip",
                        _ => c.bad(k, format!("NAT, DR or TUN, not {}", quoted(a, 80))),
                    }
                }
            }
            "protocol" => {
                if matches!(plan.service, Service::Fwmark(_)) {
                    c.drop(k, "a fwmark service matches whatever the firewall marks; it has no protocol");
                }
            }
            "persistence_timeout" => {
                // keepalived: a bare `persistence_timeout` means 6 minutes.
                let secs = if k.args.is_empty() { Some(360) } else { count(c, k, u32::MAX).map(u64::from) };
                if let Some(secs) = secs {
                    let (lo, hi) = limits::PERSISTENCE_TIMEOUT;
                    if secs == 0 {
                        // keepalived's 0 is "no persistence", as our absent key.
                    } else if secs < lo.as_secs() || secs > hi.as_secs() {
                        c.bad(k, format!("a persistence timeout from {} to {} seconds, not {secs}", lo.as_secs(), hi.as_secs()));
                    } else {
                        plan.persistence = Some(secs);
                    }
                }
            }
            "delay_loop" => {
                if let Some(d) = seconds(c, k) {
                    let (lo, hi) = limits::CHECK_INTERVAL;
                    if d < lo || d > hi {
                        c.bad(k, format!("a delay_loop big_brother can check at: {}s to {}s (its check_interval)", lo.as_secs_f64(), hi.as_secs()));
                    } else {
                        plan.interval = d;
                        plan.interval_given = true;
                    }
                }
            }
            "sorry_server" => {
                if let [a, p] = k.args.as_slice() {
                    let a = ip(c, k, a, "the sorry server's address");
                    let p = port(c, k, p, "the sorry server's port");
                    if let (Some(a), Some(p)) = (a, p) {
                        if matches!(plan.service, Service::Fwmark(_)) {
                            c.notes.push(format!(
                                "line {}: sorry_server port {p} is left out: on a fwmark service real servers take the packet's own port",
                                k.line
                            ));
                        }
                        plan.sorry = Some((a, p));
                    }
                } else {
                    c.bad(k, "`sorry_server ADDRESS PORT`");
                }
            }
            "real_server" => real_servers.push(k),
            "retry" | "connect_timeout" => {}
            "persistence_granularity" => plan.netmask = granularity(c, k, &plan.service),
            "ops" => plan.one_packet = true,
            "sh-port" | "sh-fallback" | "mh-port" | "mh-fallback" | "flag-1" | "flag-2" | "flag-3" => flags.push(k),
            "sorry_server_inhibit" | "sorry_server_lvs_method" => c.drop(k, "big_brother adds the sorry server with weight 1 and the service's forwarding method while every node is down"),
            "ha_suspend" => c.drop(k, "big_brother's service follows its Pacemaker group, not a VRRP state"),
            "alpha" => c.drop(k, "big_brother starts a new node at weight 0 and ramps it up after its first good check (ramp_up_time)"),
            "omega" | "quorum" | "quorum_up" | "quorum_down" | "hysteresis" => c.drop(k, "big_brother has no quorum: while every node is down it uses the sorry_server, if any"),
            "virtualhost" => c.drop(k, "big_brother's HTTP check sends the node's address as Host"),
            "delay_before_retry" => c.drop(k, "big_brother retries at the next check_interval (fall counts the failures)"),
            "warmup" => c.drop(k, "big_brother spreads its checks itself"),
            "inhibit_on_failure" => c.notes.push(format!("line {}: inhibit_on_failure is what big_brother always does: a failed node stays at weight 0", k.line)),
            "smtp_alert" => c.drop(k, "big_brother sends no mail: use on_change"),
            "ip_family" => c.drop(k, "the service's family is its address's (or the VIPs' for a fwmark)"),
            _ => c.drop(k, "not a virtual_server keyword big_brother knows"),
        }
    }
    sched_flags(c, &mut plan, &flags);
    if plan.netmask.is_some() && plan.persistence.is_none() {
        c.notes.push("persistence_granularity is left out: without persistence_timeout the kernel does not use it".into());
        plan.netmask = None;
    }
    if plan.one_packet {
        if let Service::Addr { tcp: true, .. } = plan.service {
            c.notes.push("ops is left out: the kernel schedules only UDP datagrams one by one, and this service is TCP".into());
            plan.one_packet = false;
        }
    }
    if real_servers.len() > MAX_NODES {
        c.bad(
            real_servers[MAX_NODES],
            format!("at most {MAX_NODES} real_server blocks in one virtual_server"),
        );
    }
    let mut timeouts: Vec<Duration> = Vec::new();
    let mut falls: Vec<u32> = Vec::new();
    for rs in real_servers.iter().take(MAX_NODES) {
        if let Some((node, timeout, fall)) = real_server(c, rs, &plan, inherit) {
            timeouts.push(timeout);
            falls.extend(fall);
            plan.nodes.push(node);
        }
    }
    if plan.nodes.is_empty() && c.problems.len() == problems_before {
        c.notes
            .push("no real_server: the spec is staged until you add [[node]] tables".into());
    }
    // One check budget and one fall per spec: the smallest timeout, the largest fall.
    if let Some(t) = timeouts.iter().min().copied() {
        if timeouts.iter().any(|x| *x != t) {
            c.notes.push(format!(
                "the checkers' timeouts differ: check_timeout is the smallest, {}",
                crate::spec::duration::render(t)
            ));
        }
        if t > plan.interval {
            c.notes.push(format!(
                "check_timeout {} is longer than delay_loop: big_brother's budget is at most check_interval, {}",
                crate::spec::duration::render(t),
                crate::spec::duration::render(plan.interval)
            ));
        }
        plan.timeout = Some(t.min(plan.interval).max(limits::CHECK_TIMEOUT_MIN));
    }
    if let Some(f) = falls.iter().max().copied() {
        if falls.iter().any(|x| *x != f) || falls.len() != plan.nodes.len() {
            c.notes.push(format!(
                "the checkers' retry counts differ: fall is the largest, {f}"
            ));
        }
        plan.fall = Some(f);
    }
    (c.problems.len() == problems_before).then_some(plan)
}

/// One real_server → a node, its check budget and its fall (retry + 1), if the checker has one.
fn real_server(
    c: &mut Ctx,
    rs: &Stmt,
    plan: &Plan,
    inherit: Inherit,
) -> Option<(NodePlan, Duration, Option<u32>)> {
    let [a, p] = rs.args.as_slice() else {
        c.bad(rs, "`real_server ADDRESS PORT {`");
        return None;
    };
    let address = ip(c, rs, a, "a real server address");
    let rport = port(c, rs, p, "a real server port");
    let (address, rport) = (address?, rport?);
    let mut weight = kdefaults::WEIGHT;
    let (mut upper, mut lower) = (None, None);
    let mut inherit = inherit;
    for k in rs.children() {
        match k.key.as_str() {
            "retry" => inherit.retry = count(c, k, 1000),
            "connect_timeout" => inherit.timeout = seconds(c, k),
            _ => {}
        }
    }
    let mut checkers: Vec<&Stmt> = Vec::new();
    for k in rs.children() {
        match k.key.as_str() {
            "weight" => {
                if let Some(w) = c.arg(k, "a weight") {
                    match w.parse::<u64>() {
                        Ok(w) if w > u64::from(MAX_WEIGHT) => {
                            c.notes.push(format!(
                                "line {}: real_server {a} weight {w} is above big_brother's highest max_weight: {MAX_WEIGHT}",
                                k.line
                            ));
                            weight = MAX_WEIGHT;
                        }
                        Ok(w) => weight = u32::try_from(w).unwrap_or(MAX_WEIGHT),
                        Err(_) => c.bad(k, format!("a weight from 0 to {MAX_WEIGHT}, not {}", quoted(w, 80))),
                    }
                }
            }
            "HTTP_GET" | "SSL_GET" | "TCP_CHECK" | "MISC_CHECK" => checkers.push(k),
            "SMTP_CHECK" => c.drop(k, "big_brother has no SMTP check (a tcp check to the port is the closest)"),
            "DNS_CHECK" => c.drop(k, "big_brother has no DNS check (an exec check running dig is the closest)"),
            "BFD_CHECK" => c.drop(k, "BFD is not a health check big_brother runs"),
            "PING_CHECK" | "UDP_CHECK" | "FILE_CHECK" => c.drop(k, "big_brother has no such check (an exec check is the closest)"),
            "retry" | "connect_timeout" => {}
            "inhibit_on_failure" => c.notes.push(format!("line {}: inhibit_on_failure is what big_brother always does: a failed node stays at weight 0", k.line)),
            "notify_up" | "notify_down" => c.drop(k, "big_brother runs one cluster-wide on_change command (the number of down nodes and each node's state in its environment)"),
            "uthreshold" => upper = threshold(c, k),
            "lthreshold" => lower = threshold(c, k),
            "smtp_alert" => c.drop(k, "big_brother sends no mail: use on_change"),
            "delay_before_retry" => c.drop(k, "big_brother retries at the next check_interval (fall counts the failures)"),
            "alpha" => c.drop(k, "big_brother starts a new node at weight 0 and ramps it up after its first good check (ramp_up_time)"),
            "delay_loop" => c.drop(k, "big_brother checks every node of a spec at one check_interval (the virtual_server's delay_loop)"),
            "warmup" => c.drop(k, "big_brother spreads its checks itself"),
            _ => c.drop(k, "not a real_server keyword big_brother knows"),
        }
    }
    let real_port = match plan.service {
        Service::Addr { port, .. } if port != rport => Some(rport),
        _ => None,
    };
    // big_brother's rules: a lower threshold only under an upper one, never above it.
    if let Some(l) = lower.filter(|l| *l > 0) {
        if upper.unwrap_or(0) < l {
            c.notes.push(format!(
                "line {}: real_server {a} lthreshold {l} is left out: it needs a uthreshold at least as high",
                rs.line
            ));
            lower = None;
        }
    }
    let shown = format!("real_server {a} {p}");
    let Some(first) = checkers.first() else {
        c.notes.push(format!(
            "line {}: {shown} has no checker big_brother runs (keepalived keeps such a server in at its weight): checked with tcp to port {rport}",
            rs.line
        ));
        return Some((
            NodePlan {
                address,
                port: rport,
                real_port,
                max_weight: weight,
                upper_threshold: upper,
                lower_threshold: lower,
                check: Check::Tcp,
                from: "no checker: tcp".into(),
            },
            inherit.timeout.unwrap_or(kdefaults::CONNECT_TIMEOUT),
            inherit.retry.map(|r| r.saturating_add(1).min(100)),
        ));
    };
    for extra in &checkers[1..] {
        c.drop(
            extra,
            format!(
                "big_brother runs one check per node: the {} on line {} is carried",
                first.key, first.line
            ),
        );
    }
    let (check, cport, timeout, retry) = checker(c, first, plan, inherit)?;
    Some((
        NodePlan {
            address,
            port: cport.unwrap_or(rport),
            real_port,
            max_weight: weight,
            upper_threshold: upper,
            lower_threshold: lower,
            check,
            from: format!("{} line {}", first.key, first.line),
        },
        timeout,
        retry.map(|r| r.saturating_add(1).min(100)),
    ))
}

/// `uthreshold N` / `lthreshold N`: a connection count within big_brother's bound.
fn threshold(c: &mut Ctx, k: &Stmt) -> Option<u32> {
    let n = count(c, k, u32::MAX)?;
    if i64::from(n) > limits::MAX_THRESHOLD {
        c.bad(
            k,
            format!(
                "a connection threshold from 0 to {}, not {n}",
                limits::MAX_THRESHOLD
            ),
        );
        return None;
    }
    Some(n)
}

/// `persistence_granularity`: a dotted IPv4 netmask, or a prefix length (an IPv6 service's, or
/// an IPv4 one's, written as the netmask it stands for).
fn granularity(c: &mut Ctx, k: &Stmt, service: &Service) -> Option<String> {
    let a = c.arg(k, "a netmask or prefix length")?;
    let v6 = matches!(
        service,
        Service::Addr {
            address: IpAddr::V6(_),
            ..
        }
    );
    if let Ok(m) = a.parse::<std::net::Ipv4Addr>() {
        if v6 {
            c.bad(
                k,
                format!(
                    "a prefix length from 1 to 128 for an IPv6 service, not {}",
                    quoted(a, 80)
                ),
            );
            return None;
        }
        return Some(format!("\"{m}\""));
    }
    let max: u8 = if v6 { 128 } else { 32 };
    match a.trim_start_matches('/').parse::<u8>() {
        Ok(n) if (1..=max).contains(&n) && v6 => Some(n.to_string()),
        Ok(n) if (1..=max).contains(&n) => {
            let mask = u32::MAX.checked_shl(u32::from(32 - n)).unwrap_or(0);
            Some(format!("\"{}\"", std::net::Ipv4Addr::from(mask)))
        }
        _ => {
            c.bad(
                k,
                format!(
                    "a netmask such as 255.255.255.0 or a prefix length from 1 to {max}, not {}",
                    quoted(a, 80)
                ),
            );
            None
        }
    }
}

/// keepalived's scheduler flags (`sh-port`, `flag-2`, …) as the names the plan's scheduler
/// reads; a flag it does not read is left out with a note, as the kernel would ignore it.
fn sched_flags(c: &mut Ctx, plan: &mut Plan, flags: &[&Stmt]) {
    let scheduler = plan.scheduler.clone().unwrap_or_else(|| "wlc".to_string());
    for k in flags {
        let name = match (k.key.as_str(), scheduler.as_str()) {
            ("flag-1", "sh") => "sh-fallback",
            ("flag-2", "sh") => "sh-port",
            ("flag-1", "mh") => "mh-fallback",
            ("flag-2", "mh") => "mh-port",
            (n, _) => n,
        };
        match crate::ipvs::SchedFlag::parse(name, &scheduler) {
            Ok(f) if !plan.sched_flags.contains(&f.name()) => plan.sched_flags.push(f.name()),
            Ok(_) => {}
            Err(_) => c.drop(
                k,
                format!(
                    "scheduler {} does not read this flag",
                    quoted(&scheduler, 20)
                ),
            ),
        }
    }
    plan.sched_flags.sort_unstable();
}
