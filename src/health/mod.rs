//! Health checks against litmus_paper: what a node's answer means ([`parse`], pure) and how it
//! is fetched ([`client`], a small HTTP/1.1 GET on `std::net`).
//!
//! Invariant: every check ends in either a [`Health`] (0.0..=100.0, never NaN) or a
//! [`CheckError`] that says what went wrong in words an operator can act on. A check error counts
//! as health 0 in the weight policy; it never takes the process down.

pub mod agent;
pub mod client;
pub mod exec;
pub mod judge;
pub mod machine;
pub mod parse;
pub mod plan;
pub mod probe;
pub mod response;
pub mod serve;
pub mod tls;

use std::fmt;
use std::io;

/// Largest body big_brother reads from a health endpoint. litmus_paper's answer is a few hundred
/// bytes; anything near this limit is not a litmus_paper answer.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Most protocol text read in one check: every status line and header block (interim 1xx
/// responses included), then the chunk size lines and trailers of a chunked body, together.
pub const HEAD_LIMIT: usize = 16 * 1024;

/// Most interim (1xx) responses accepted before the answer to one check. RFC 9110 allows any
/// number; a health endpoint has no reason to send more than one or two (`103 Early Hints`).
pub const INTERIM_LIMIT: usize = 4;

/// Longest reason kept from an answer (forced-down reason, error detail): enough for a sentence,
/// short enough for a status table.
pub const REASON_LIMIT: usize = 200;

/// A node's own verdict, as litmus_paper answered it.
#[derive(Clone, Debug, PartialEq)]
pub struct Health {
    /// 0.0..=100.0 (fractional allowed, never NaN).
    pub value: f64,
    /// Why the health was forced (`litmusctl force down|up|health … -r REASON`), if it was.
    pub forced_reason: Option<String>,
}

impl Health {
    pub fn new(value: f64) -> Health {
        Health {
            value,
            forced_reason: None,
        }
    }
}

/// Where in a check something went wrong or ran out of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Connect,
    Send,
    Head,
    Body,
    /// The TLS handshake.
    Handshake,
    /// Reading an agent-check line.
    Line,
    /// Running an exec check's program.
    Run,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Connect => "connecting",
            Phase::Send => "sending the request",
            Phase::Head => "waiting for the response headers",
            Phase::Body => "reading the body",
            Phase::Handshake => "in the TLS handshake",
            Phase::Line => "waiting for the agent's line",
            Phase::Run => "running the check command",
        })
    }
}

/// Why a check gave no usable health. Each counts as health 0.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CheckError {
    #[error("timed out {phase} (check budget {budget_ms} ms)")]
    Timeout { phase: Phase, budget_ms: u64 },
    /// Refused, reset, unreachable…: the kind is kept so callers can branch on it.
    #[error("{phase}: {detail}")]
    Io {
        phase: Phase,
        kind: io::ErrorKind,
        detail: String,
    },
    #[error("connection closed by the node while {phase}")]
    Closed { phase: Phase },
    #[error("redirect (HTTP {status}) to {location:?} not followed")]
    Redirect { status: u16, location: String },
    #[error("HTTP {status} {reason}")]
    Status { status: u16, reason: String },
    #[error("response {what} larger than {limit} bytes")]
    TooLarge { what: &'static str, limit: usize },
    #[error("more than {limit} {what}")]
    TooMany { what: &'static str, limit: usize },
    #[error("malformed answer: {0}")]
    Malformed(String),
    #[error("not a litmus_paper answer: {0}")]
    NotLitmus(String),
    /// The TLS handshake failed; rustls' reason (untrusted issuer, expired, wrong name…).
    #[error("TLS: {0}")]
    Tls(String),
    /// An `http` check's status outside `expect_status`.
    #[error("HTTP {status} {reason} (expected {expected})")]
    UnexpectedStatus {
        status: u16,
        reason: String,
        expected: String,
    },
    #[error("body does not contain {expected:?}")]
    BodyMismatch { expected: String },
    /// The agent answered `down`, `stopped`, `fail[ed]` or `maint`.
    #[error("agent says {state}{}", reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    AgentDown {
        state: String,
        reason: Option<String>,
    },
    /// The exec check's program exited 1 (down), or was killed by a signal not ours.
    #[error("check command {how}{}", if output.is_empty() { String::new() } else { format!(": {output}") })]
    Exec { how: String, output: String },
    /// The exec check's program could not be started.
    #[error("check command could not start: {0}")]
    Spawn(String),
    /// The check panicked (a big_brother bug); the message is the panic's.
    #[error("internal error in the check (a big_brother bug, please report): {0}")]
    Internal(String),
    /// The node's checker produced no result for this long (it is stuck or dead); set by the
    /// supervisor, not by a check.
    #[error("no check result for {secs} s (its checker stopped reporting)")]
    NoResult { secs: u64 },
}

impl CheckError {
    pub(crate) fn io(phase: Phase, e: &io::Error) -> CheckError {
        CheckError::Io {
            phase,
            kind: e.kind(),
            detail: e.to_string(),
        }
    }

    /// Whether the check got as far as a TCP connection to the node's check address (node
    /// address and `port`): any failure after the connect (a 503, a bad body, a closed or slow
    /// answer, a TLS failure, an agent saying `down`) means the node still answers TCP. What the
    /// panic threshold keeps serving (issue 15). A connect that failed or timed out, an exec
    /// check (it makes no connection of ours), an internal error and a silent checker do not.
    pub fn reached_node(&self) -> bool {
        match self {
            CheckError::Timeout { phase, .. }
            | CheckError::Io { phase, .. }
            | CheckError::Closed { phase } => !matches!(phase, Phase::Connect | Phase::Run),
            CheckError::Redirect { .. }
            | CheckError::Status { .. }
            | CheckError::TooLarge { .. }
            | CheckError::TooMany { .. }
            | CheckError::Malformed(_)
            | CheckError::NotLitmus(_)
            | CheckError::Tls(_)
            | CheckError::UnexpectedStatus { .. }
            | CheckError::BodyMismatch { .. }
            | CheckError::AgentDown { .. } => true,
            CheckError::Exec { .. }
            | CheckError::Spawn(_)
            | CheckError::Internal(_)
            | CheckError::NoResult { .. } => false,
        }
    }
}

/// Makes peer-supplied text safe to store and print (status, `status.json`, logs, terminals):
/// controls and separators blanked, format characters and noncharacters dropped, cut to
/// [`REASON_LIMIT`] characters ([`crate::text::clean`] says exactly how).
pub fn clean_text(raw: &str) -> String {
    crate::text::clean(raw, REASON_LIMIT)
}
