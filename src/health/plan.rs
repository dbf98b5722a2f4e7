//! What a check is ([`CheckPlan`], built by the supervisor from the spec) and what it gives
//! ([`Verdict`]): plain types shared by the check mechanisms; [`super::probe`] runs them.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::{CheckError, Health, Phase};

/// What is asked of the node.
#[derive(Clone, Debug, PartialEq)]
pub enum Probe {
    /// litmus_paper's answer (`GET path`, `X-Health` / `Health:`), today's behaviour.
    Litmus { path: String },
    /// `GET path`: healthy (100) when the status is in one of the inclusive ranges and the body
    /// contains `expect_body` (when given).
    Http {
        path: String,
        expect_status: Vec<(u16, u16)>,
        expect_body: Option<String>,
    },
    /// A connection accepted within the budget: healthy (100).
    Tcp,
    /// HAProxy's agent-check protocol: one line such as `ready up 87%`, `drain`, `down#reason`.
    Agent,
    /// A program (absolute path first, no shell) with keepalived `misc_dynamic` exit semantics.
    /// `env` pairs are added to the minimal environment ([`exec`] says which).
    Exec {
        argv: Vec<String>,
        env: Vec<(String, String)>,
    },
}

/// TLS for `Litmus` and `Http`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsPlan {
    /// Sent as SNI and verified against the certificate (a DNS name or an IP address).
    pub server_name: String,
    /// PEM file of trusted CA certificates; `None`: the system's store.
    pub ca_file: Option<PathBuf>,
    /// `false`: any certificate is accepted (the connection is encrypted, not authenticated).
    pub verify: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CheckPlan {
    pub probe: Probe,
    pub tls: Option<TlsPlan>,
    /// The node's address and check port.
    pub addr: SocketAddr,
    /// The node's real (service) port, for `exec`'s environment.
    pub real_port: u16,
}

/// Why a plan cannot be run at all (found when the checker starts, not per check).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("tls: CA file {path}: {detail}")]
    CaFile { path: String, detail: String },
    #[error("tls: system CA store: {0}")]
    SystemStore(String),
    #[error("tls: server name {name:?}: {detail}")]
    ServerName { name: String, detail: String },
    #[error("tls is only for litmus and http checks")]
    TlsNotAllowed,
    #[error("exec: {0}")]
    Exec(String),
    #[error("http: path must start with '/': {0:?}")]
    Path(String),
}

/// A check's outcome when it gave one.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// 0.0..=100.0 as litmus_paper's; http and tcp give 100 when healthy.
    pub health: Health,
    /// The agent said `drain`: weight 0, administratively (not a failure).
    pub drain: bool,
    /// exec's stdout+stderr, the agent's line: bounded and cleaned.
    pub output: Option<String>,
}

impl Verdict {
    pub(crate) fn of(health: Health) -> Verdict {
        Verdict {
            health,
            drain: false,
            output: None,
        }
    }
}

pub(crate) fn timeout_or_io(phase: Phase, e: &std::io::Error, budget_ms: u64) -> CheckError {
    if matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    ) {
        CheckError::Timeout { phase, budget_ms }
    } else {
        CheckError::io(phase, e)
    }
}
