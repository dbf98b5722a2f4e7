//! The validated spec: types that cannot hold a wrong value. Everything downstream (CIB generator,
//! supervisor, agent) takes a [`Spec`], never raw TOML.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::{Problem, SpecError};
use crate::health::probe::{CheckPlan, Probe, TlsPlan};
use crate::ipvs::{Forward, Netmask, SchedFlag, ServiceKey};

/// Schedulers the kernel ships (`net/netfilter/ipvs/ip_vs_*.c`).
pub const SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos",
];

/// Most real servers one cluster may have. Since issue 18 the network checks of a cluster run
/// in one event loop, so this no longer counts threads (only `exec` nodes have one each); it
/// keeps the rest affordable: one descriptor per node (`RLIMIT_NOFILE` is raised to fit), the
/// controller's per-tick work and `status.json` (under 4 MiB at this count, read back with an
/// 8 MiB cap).
pub const MAX_NODES: usize = 4096;

/// Most VIPs one cluster may have: each is an IPaddr2 primitive in the cluster's group, and a
/// group of hundreds of primitives is a mistake, not a design.
pub const MAX_VIPS: usize = 256;

/// Highest weight a node may be given (litmus_paper health is 0..=100; `max_weight` may go lower
/// or higher, the kernel's own limit is i32::MAX).
pub const MAX_WEIGHT: u32 = 65_535;

/// Which nodes serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendMode {
    /// Every healthy node serves, weighted by health (the default).
    ActiveActive,
    /// Only the healthy node with the lowest priority (ties: lowest address) serves.
    ActivePassive,
}

impl BackendMode {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendMode::ActiveActive => "active_active",
            BackendMode::ActivePassive => "active_passive",
        }
    }
}

/// What the other directors do while one holds the VIPs (`standby` in the spec).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Standby {
    /// The talk's group: the IPVS service and its checks run only where the VIPs are, and a
    /// failover starts them on the new director first (the default).
    #[default]
    Cold,
    /// The IPVS service and its checks run on every director (a clone); a failover only moves
    /// the VIPs.
    Warm,
}

impl Standby {
    pub fn as_str(self) -> &'static str {
        match self {
            Standby::Cold => "cold",
            Standby::Warm => "warm",
        }
    }
}

/// One cluster: an IPVS service, its VIPs and its real servers.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// Where it was read from (for messages).
    pub file: PathBuf,
    /// The OCF `cluster` parameter; Pacemaker ids derive from it.
    pub name: String,
    pub description: Option<String>,
    /// The IPVS service; `None` for a *staged* cluster (no service and no nodes yet): valid for
    /// the CIB, which never mentions the service, but [`Spec::runnable`] refuses to run it.
    pub service: Option<ServiceKey>,
    pub scheduler: String,
    pub forward: Forward,
    /// Persistence timeout (`ipvsadm -p`), if any.
    pub persistence_timeout: Option<Duration>,
    /// Persistence granularity (`ipvsadm -M`); `None`: one template per client address.
    pub persistence_netmask: Option<Netmask>,
    /// Scheduler flags (`ipvsadm -b`), each one the scheduler reads, in bit order.
    pub scheduler_flags: Vec<SchedFlag>,
    /// One-packet scheduling (`ipvsadm -o`): every UDP datagram is scheduled on its own.
    pub one_packet: bool,
    pub check_interval: Duration,
    /// Whole-check budget (connect + response + body); never longer than `check_interval`.
    pub check_timeout: Duration,
    pub ramp_up_time: Duration,
    /// Consecutive failed checks before a serving node is taken to weight 0.
    pub fall: u32,
    /// Consecutive good checks before a failed node starts serving again.
    pub rise: u32,
    pub backend_mode: BackendMode,
    /// How the CIB runs this cluster: one group (cold) or a clone plus a VIP group (warm).
    pub standby: Standby,
    pub sorry_server: Option<SorryServer>,
    /// Where the original big_brother's cluster-wide override files live:
    /// `<override_dir>/up/<name>` (every node at full weight) and `<override_dir>/down/<name>`
    /// (every node at 0); up wins. Default `/etc/big_brother`, the original's `--data-dir`.
    pub override_dir: PathBuf,
    /// Command run when the number of down nodes changes (the original's `send_nsca`, opened up).
    pub on_change: Option<OnChange>,
    /// Envoy's panic threshold, in percent of the (undrained) nodes: when fewer than this share
    /// is healthy, health is no longer trusted and every node that still answers TCP keeps its
    /// last good weight (`supervisor::panic`). 0 (the default) turns it off.
    pub panic_threshold: u8,
    /// How long a node removed from the spec by a reload may keep its destination (at weight
    /// 0) while its connections finish, before it is deleted anyway.
    pub removal_timeout: Duration,
    pub vips: Vec<Vip>,
    pub nodes: Vec<Node>,
    pub ops: Ops,
}

impl Spec {
    /// The service, when this cluster can run: a service and at least one node. A spec without
    /// them is *staged* (the Puppet define with the talk's parameters writes one): its CIB group
    /// can be created, but `start` and `validate-all` must refuse it with this error (OCF code
    /// 6), which names what is missing.
    pub fn runnable(&self) -> Result<&ServiceKey, SpecError> {
        let mut problems = Vec::new();
        if self.service.is_none() {
            problems.push(Problem {
                line: None,
                column: None,
                key: "fwmark".into(),
                expected: "a service (fwmark = N, or protocol/address/port) before big_brother can run this staged cluster".into(),
            });
        }
        if self.nodes.is_empty() {
            problems.push(Problem {
                line: None,
                column: None,
                key: "node".into(),
                expected: "at least one [[node]] table (address, port, path) before big_brother can run this staged cluster".into(),
            });
        }
        match &self.service {
            Some(service) if problems.is_empty() => Ok(service),
            _ => Err(SpecError::Invalid {
                file: self.file.clone(),
                problems,
            }),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vip {
    pub address: IpAddr,
    pub nic: Option<String>,
    pub cidr_netmask: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub address: IpAddr,
    /// Port of the litmus_paper health endpoint.
    pub port: u16,
    /// Path of the health endpoint, always starting with `/`.
    pub path: String,
    /// Port of the real server in IPVS (0 for fwmark services: the packet's own port).
    pub real_port: u16,
    /// Cap on this node's weight (the health, 0..=100, is scaled into 0..=max_weight).
    pub max_weight: u32,
    /// Lower serves first in `active_passive` mode.
    pub priority: i64,
    /// Connection threshold (`ipvsadm -x`): past this many connections the node gets no new
    /// ones. 0: no limit.
    pub upper_threshold: u32,
    /// `ipvsadm -y`: an overloaded node takes new connections again under this many (0: the
    /// kernel's three quarters of the upper threshold).
    pub lower_threshold: u32,
    /// How the node is checked (`check` and its keys; litmus without TLS by default).
    pub check: Check,
}

/// `check_target` in status is cut to this many characters.
pub const MAX_CHECK_TARGET: usize = 512;

/// A node's check: its type and, for litmus/http, TLS.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Check {
    pub kind: CheckKind,
    pub tls: Option<CheckTls>,
}

/// The `check` key and the keys that belong to its type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CheckKind {
    /// litmus_paper's answer (today's behaviour).
    #[default]
    Litmus,
    /// `GET path`: healthy when the status is in one of the inclusive ranges (and the body holds
    /// `expect_body`).
    Http {
        expect_status: Vec<(u16, u16)>,
        expect_body: Option<String>,
    },
    Tcp,
    Agent,
    /// `check_command`: absolute program path first, no shell.
    Exec {
        argv: Vec<String>,
    },
}

impl CheckKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            CheckKind::Litmus => "litmus",
            CheckKind::Http { .. } => "http",
            CheckKind::Tcp => "tcp",
            CheckKind::Agent => "agent",
            CheckKind::Exec { .. } => "exec",
        }
    }
}

/// `tls = true` with its keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckTls {
    /// SNI and the name verified; `None`: the node's address.
    pub server_name: Option<String>,
    /// PEM file of trusted CAs; `None`: the system's store.
    pub ca_file: Option<PathBuf>,
    pub verify: bool,
}

impl Node {
    /// How operators name a node (`drain`, status): the address, plus the port when it matters.
    pub fn id(&self) -> String {
        match (self.address, self.real_port) {
            (a, 0) => a.to_string(),
            (IpAddr::V6(a), p) => format!("[{a}]:{p}"),
            (a, p) => format!("{a}:{p}"),
        }
    }

    /// What the checker runs for this node (`cluster` goes to an exec check as `BB_CLUSTER`).
    pub fn check_plan(&self, cluster: &str) -> CheckPlan {
        let probe = match &self.check.kind {
            CheckKind::Litmus => Probe::Litmus {
                path: self.path.clone(),
            },
            CheckKind::Http {
                expect_status,
                expect_body,
            } => Probe::Http {
                path: self.path.clone(),
                expect_status: expect_status.clone(),
                expect_body: expect_body.clone(),
            },
            CheckKind::Tcp => Probe::Tcp,
            CheckKind::Agent => Probe::Agent,
            CheckKind::Exec { argv } => Probe::Exec {
                argv: argv.clone(),
                env: vec![("BB_CLUSTER".to_string(), cluster.to_string())],
            },
        };
        let tls = self.check.tls.as_ref().map(|t| TlsPlan {
            server_name: t
                .server_name
                .clone()
                .unwrap_or_else(|| self.address.to_string()),
            ca_file: t.ca_file.clone(),
            verify: t.verify,
        });
        CheckPlan {
            probe,
            tls,
            addr: SocketAddr::new(self.address, self.port),
            real_port: self.real_port,
        }
    }

    /// What is probed, for status: a URL, `tcp ADDR:PORT`, `agent ADDR:PORT` or `exec ARGV…`
    /// (at most [`MAX_CHECK_TARGET`] characters).
    pub fn check_target(&self) -> String {
        let hostport = SocketAddr::new(self.address, self.port);
        let t = match &self.check.kind {
            CheckKind::Litmus | CheckKind::Http { .. } if self.check.tls.is_some() => {
                format!("https://{hostport}{}", self.path)
            }
            CheckKind::Litmus | CheckKind::Http { .. } => self.health_url(),
            CheckKind::Tcp => format!("tcp {hostport}"),
            CheckKind::Agent => format!("agent {hostport}"),
            CheckKind::Exec { argv } => format!("exec {}", argv.join(" ")),
        };
        crate::text::clean(&t, MAX_CHECK_TARGET)
    }

    /// `http://address:port/path` for the health check.
    pub fn health_url(&self) -> String {
        match self.address {
            IpAddr::V6(a) => format!("http://[{a}]:{}{}", self.port, self.path),
            a => format!("http://{a}:{}{}", self.port, self.path),
        }
    }
}

/// Keepalived's sorry server / big_brother's downpage: served only while every node is down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SorryServer {
    pub address: IpAddr,
    pub port: u16,
    pub weight: u32,
}

/// The `on_change` hook: an argument vector run without a shell, with the cluster's summary in
/// `BB_*` environment variables, killed after `timeout`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnChange {
    /// `argv[0]` is an absolute path.
    pub argv: Vec<String>,
    pub timeout: Duration,
}

/// Timeouts and intervals of one primitive's operations in the CIB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpSet {
    pub start_timeout: Duration,
    pub stop_timeout: Duration,
    pub monitor_interval: Duration,
    pub monitor_timeout: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ops {
    /// The big_brother primitive.
    pub ipvs: OpSet,
    /// Each IPaddr2 primitive.
    pub vip: OpSet,
}

impl Ops {
    /// The talk's values: big_brother start 20s, stop 40s; IPaddr2 start 30s, stop 90s; both
    /// monitor every 61s with a 30s timeout.
    pub const DEFAULT: Ops = Ops {
        ipvs: OpSet {
            start_timeout: Duration::from_secs(20),
            stop_timeout: Duration::from_secs(40),
            monitor_interval: Duration::from_secs(61),
            monitor_timeout: Duration::from_secs(30),
        },
        vip: OpSet {
            start_timeout: Duration::from_secs(30),
            stop_timeout: Duration::from_secs(90),
            monitor_interval: Duration::from_secs(61),
            monitor_timeout: Duration::from_secs(30),
        },
    };
}

/// Spec defaults that are not per-field literals elsewhere (the talk's cluster).
pub mod defaults {
    use std::time::Duration;

    pub const SCHEDULER: &str = "wlc";
    pub const CHECK_INTERVAL: Duration = Duration::from_secs(2);
    pub const RAMP_UP_TIME: Duration = Duration::from_secs(120);
    /// The original big_brother zeroes a node on its first failed check and restores it on its
    /// first good one: fall = rise = 1.
    pub const FALL: u32 = 1;
    pub const RISE: u32 = 1;
    pub const MAX_WEIGHT: u32 = 100;
    pub const SORRY_WEIGHT: u32 = 1;
    pub const CONFIG_DIR: &str = "/etc/big_brother";
    /// The original big_brother's default data directory (`bigbro --data-dir`), which holds
    /// its `up/<cluster>` and `down/<cluster>` override files.
    pub const OVERRIDE_DIR: &str = "/etc/big_brother";
    /// How long an `on_change` command may run before it is killed.
    pub const ON_CHANGE_TIMEOUT: Duration = Duration::from_secs(10);
    /// Most arguments an `on_change` command may have.
    pub const ON_CHANGE_MAX_ARGS: usize = 64;
    /// `panic_threshold`: off, as Envoy's would be at 0 (Envoy's own default is 50 %; ours is
    /// off so that an upgrade changes no behaviour).
    pub const PANIC_THRESHOLD: u8 = 0;
    /// `removal_timeout`: how long a removed node's connections may take to finish (HAProxy's
    /// and most drains' order of magnitude: long enough for requests, short enough that a
    /// Puppet run's removal is done before the next run).
    pub const REMOVAL_TIMEOUT: Duration = Duration::from_secs(300);
}

/// Bounds on what a spec may ask for, beyond its types: every duration has a range an operator
/// would find sensible (a typo like `"2000m"` for a check interval is refused, not run for 33
/// hours), and every string that reaches an argument vector or a path a length. README's spec
/// table and ARCHITECTURE's threat model list them.
pub mod limits {
    use std::time::Duration;

    /// `check_interval`: at least the original big_brother's 100 ms tick (1,024 nodes checked
    /// every 100 ms is already 10,000 requests a second, 4,096 four times that), at most 5 minutes (`monitor` calls a
    /// supervisor stale after 3 intervals: longer would hide a dead one for too long).
    pub const CHECK_INTERVAL: (Duration, Duration) =
        (Duration::from_millis(100), Duration::from_secs(300));
    /// `check_timeout`: at least 1 ms, at most the check interval.
    pub const CHECK_TIMEOUT_MIN: Duration = Duration::from_millis(1);
    /// `ramp_up_time`: 1 ms (no ramp) to 1 hour.
    pub const RAMP_UP_TIME: (Duration, Duration) =
        (Duration::from_millis(1), Duration::from_secs(3600));
    /// `persistence_timeout`: 1 s to 24 hours (IPVS counts it in whole seconds).
    pub const PERSISTENCE_TIMEOUT: (Duration, Duration) =
        (Duration::from_secs(1), Duration::from_secs(86_400));
    /// `on_change_timeout`: 1 ms to 5 minutes (a notifier running longer holds back the next
    /// notification).
    pub const ON_CHANGE_TIMEOUT: (Duration, Duration) =
        (Duration::from_millis(1), Duration::from_secs(300));
    /// `removal_timeout`: 1 ms (delete at once, the behaviour before issue 15) to 24 hours
    /// (a removed node's destination must not linger for days).
    pub const REMOVAL_TIMEOUT: (Duration, Duration) =
        (Duration::from_millis(1), Duration::from_secs(86_400));
    /// Every `[ops.*]` value (start, stop and monitor timeouts, the monitor interval): 1 ms to 1
    /// hour. Pacemaker keeps them as 32-bit milliseconds, and an hour-long stop is already an
    /// outage.
    pub const OP: (Duration, Duration) = (Duration::from_millis(1), Duration::from_secs(3600));
    /// Bytes in one `on_change` argument (the kernel takes up to 128 KiB; 64 × 4 KiB stays far
    /// below the 2 MiB of a whole argument list).
    pub const MAX_ARG_BYTES: usize = 4096;
    /// Bytes in a path: `override_dir`, `on_change`'s program, `--config-dir` (Linux PATH_MAX).
    pub const MAX_PATH_BYTES: usize = 4096;
    /// Bytes in a node's health-check `path` (it goes into the request line).
    pub const MAX_URL_PATH_BYTES: usize = 1024;
    /// `upper_threshold` and `lower_threshold`: connections to one real server (the kernel
    /// counts them in an `int`; a million connections on one server is already far past what a
    /// threshold is meant for).
    pub const MAX_THRESHOLD: i64 = 1_000_000;
    /// Characters in a `description`.
    pub const MAX_DESCRIPTION_CHARS: usize = 1024;
}
