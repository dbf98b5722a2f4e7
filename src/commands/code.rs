//! The CLI's exit-code table: every subcommand other than the agent's actions and the `crm`
//! verbs (`ocf::code` and `crm::code` have theirs) ends in [`finish`], which prints a failure
//! once and maps it to its code in [`code`] — the one place that decides. The numbers are OCF's
//! (`crate::exit`), so the same number means the same thing on every face:
//!
//! | code | meaning on the command line |
//! |---|---|
//! | 0 | done (`status`: every cluster running) |
//! | 1 | a write failed or did not take effect (a CIB that refuses or does not keep a drain or override, or cannot be read; `override` with no CIB here), a different spec is in the way (`import` without `--force`), the API stopped serving; `status`: some cluster stale or failing; `drain --wait`: timed out (the count left is said), or the IPVS table could not be read |
//! | 2 | bad arguments (clap's own, an unknown node or cluster, a path that cannot be used, a drain or override `--reason` too long or with control characters, an override weight that is not 0–65535 or above the node's `max_weight`) |
//! | 4 | permission denied on a file (or by the CIB) |
//! | 6 | a spec or legacy config named on the command line cannot be used: missing, not a regular file, over the size cap, not UTF-8, or wrong inside |
//! | 7 | `status`: nothing running; `drain --wait`: the cluster is not running on this director |
//!
//! **A missing spec file is 6 here and 5 from the agent, on purpose.** On the command line the
//! file is an argument: a path that does not exist is a configuration given wrong, like a file
//! that does not parse (`validate` has always said 6). The agent answers 5 (`ERR_INSTALLED`)
//! because Pacemaker acts on the difference: 5 bans the resource from this node only (Puppet may
//! not have written the file here yet), while 6 would stop it from running anywhere.

use std::io;

use super::demo::error::DemoError;
use crate::api::ApiError;
use crate::exit::OcfCode;
use crate::spec::SpecError;
use crate::state::cib_drain::CibError;
use crate::state::drain::DrainError;
use crate::state::FileError;

/// Why a subcommand failed.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// A spec or legacy config named on the command line cannot be used.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// Specs were refused and every problem of every file is already printed.
    #[error("{0} refused")]
    Invalid(String),
    /// Arguments clap cannot check: an unknown node or cluster, a path that cannot be used.
    #[error("{0}")]
    Usage(String),
    /// A file of big_brother's own could not be read or written.
    #[error(transparent)]
    Io(#[from] FileError),
    /// Something in the way that only the operator may replace (`import` without `--force`).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Demo(#[from] DemoError),
    #[error(transparent)]
    Drain(#[from] DrainError),
    /// The Pacemaker CIB could not be read or refused a drain, or a `--reason` is not fit
    /// for it.
    #[error(transparent)]
    Cib(#[from] CibError),
    /// `drain --wait`: the node still had active connections (or weight) when time ran out.
    #[error("{0}")]
    Timeout(String),
    /// `drain --wait`: the cluster does not run on this director.
    #[error("{0}")]
    NotHere(String),
    /// The IPVS table could not be read.
    #[error("{0}")]
    Kernel(String),
}

/// The exit code of a failure (the table in the module doc).
pub fn code(f: &Failure) -> OcfCode {
    let denied = |e: &io::Error| e.kind() == io::ErrorKind::PermissionDenied;
    match f {
        Failure::Spec(e) if e.is_denied() => OcfCode::ErrPerm,
        Failure::Spec(_) | Failure::Invalid(_) => OcfCode::ErrConfigured,
        Failure::Usage(_) | Failure::Api(ApiError::NotLoopback(_)) => OcfCode::ErrArgs,
        Failure::Cib(
            CibError::ReasonTooLong { .. }
            | CibError::ReasonChar { .. }
            | CibError::ReasonMarkup { .. },
        ) => OcfCode::ErrArgs,
        Failure::Cib(e) if e.is_denied() => OcfCode::ErrPerm,
        Failure::Demo(DemoError::Nodes(_) | DemoError::Duration(_)) => OcfCode::ErrArgs,
        Failure::Io(FileError { source, .. })
        | Failure::Api(ApiError::Bind { source, .. })
        | Failure::Drain(DrainError::Io { source, .. })
            if denied(source) =>
        {
            OcfCode::ErrPerm
        }
        Failure::NotHere(_) => OcfCode::NotRunning,
        Failure::Io(_)
        | Failure::Timeout(_)
        | Failure::Kernel(_)
        | Failure::Conflict(_)
        | Failure::Api(_)
        | Failure::Demo(_)
        | Failure::Drain(_)
        | Failure::Cib(_) => OcfCode::ErrGeneric,
    }
}

/// The exit code of `status` from its clusters' states: the worst wins, 0 running (or
/// starting), 1 stale or failing (what `monitor` would fail), 7 not running or none found.
pub fn status(states: &[&str]) -> OcfCode {
    let rank = |s: &&str| match *s {
        "running" | "starting" => (0, OcfCode::Success),
        "stopped" => (1, OcfCode::NotRunning),
        _ => (2, OcfCode::ErrGeneric),
    };
    states
        .iter()
        .map(rank)
        .max_by_key(|(r, _)| *r)
        .map_or(OcfCode::NotRunning, |(_, c)| c)
}

/// Ends a subcommand: prints a failure once on stderr (a spec error as it is: it starts with
/// the file; anything else after `big_brother VERB:`; refused specs were printed already) and
/// returns its code.
pub fn finish(verb: &str, result: Result<OcfCode, Failure>) -> OcfCode {
    match result {
        Ok(c) => c,
        Err(f) => {
            match &f {
                Failure::Invalid(_) => {}
                Failure::Spec(e) => eprintln!("{e}"),
                other => eprintln!("big_brother {verb}: {other}"),
            }
            code(&f)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use std::time::Duration;

    fn io(kind: io::ErrorKind) -> io::Error {
        io::Error::from(kind)
    }

    fn spec_read(kind: io::ErrorKind) -> SpecError {
        SpecError::Read {
            file: "/etc/big_brother/x.toml".into(),
            source: io(kind),
        }
    }

    /// failure → code: the contract as a table (STYLE.md point 17).
    #[test]
    fn table() {
        let addr: SocketAddr = "192.0.2.1:9292".parse().unwrap();
        let cases: Vec<(Failure, OcfCode)> = vec![
            (
                Failure::Spec(spec_read(io::ErrorKind::NotFound)),
                OcfCode::ErrConfigured,
            ),
            (
                Failure::Spec(spec_read(io::ErrorKind::PermissionDenied)),
                OcfCode::ErrPerm,
            ),
            (
                Failure::Spec(SpecError::Unfit {
                    file: "/dev/zero".into(),
                    expected: "a regular file".into(),
                }),
                OcfCode::ErrConfigured,
            ),
            (Failure::Invalid("2 specs".into()), OcfCode::ErrConfigured),
            (Failure::Usage("no node x".into()), OcfCode::ErrArgs),
            (Failure::Timeout("3 left".into()), OcfCode::ErrGeneric),
            (Failure::NotHere("not here".into()), OcfCode::NotRunning),
            (Failure::Kernel("EPERM".into()), OcfCode::ErrGeneric),
            (
                Failure::Io(FileError {
                    what: "drain file",
                    path: "/var/lib/x".into(),
                    source: io(io::ErrorKind::PermissionDenied),
                }),
                OcfCode::ErrPerm,
            ),
            (
                Failure::Io(FileError {
                    what: "spec",
                    path: "/etc/x".into(),
                    source: io(io::ErrorKind::Other),
                }),
                OcfCode::ErrGeneric,
            ),
            (Failure::Conflict("differs".into()), OcfCode::ErrGeneric),
            (Failure::Api(ApiError::NotLoopback(addr)), OcfCode::ErrArgs),
            (
                Failure::Api(ApiError::Bind {
                    addr,
                    source: io(io::ErrorKind::PermissionDenied),
                }),
                OcfCode::ErrPerm,
            ),
            (
                Failure::Api(ApiError::Bind {
                    addr,
                    source: io(io::ErrorKind::AddrInUse),
                }),
                OcfCode::ErrGeneric,
            ),
            (Failure::Demo(DemoError::Nodes(2)), OcfCode::ErrArgs),
            (
                Failure::Demo(DemoError::Duration(Duration::from_secs(1))),
                OcfCode::ErrArgs,
            ),
            (
                Failure::Drain(DrainError::Io {
                    path: "/var/lib/big_brother/x/drain".into(),
                    source: io(io::ErrorKind::PermissionDenied),
                }),
                OcfCode::ErrPerm,
            ),
            (
                Failure::Cib(CibError::ReasonChar {
                    ch: '\n',
                    position: 3,
                }),
                OcfCode::ErrArgs,
            ),
            (
                Failure::Cib(CibError::ReasonTooLong { len: 300 }),
                OcfCode::ErrArgs,
            ),
            (
                Failure::Cib(CibError::Failed {
                    argv: "cibadmin --modify".into(),
                    code: Some(13),
                    stderr: "Call failed: Permission denied".into(),
                }),
                OcfCode::ErrPerm,
            ),
            (
                Failure::Cib(CibError::Failed {
                    argv: "cibadmin --modify".into(),
                    code: Some(78),
                    stderr: "Call failed: Update does not conform to the configured schema".into(),
                }),
                OcfCode::ErrGeneric,
            ),
            (
                Failure::Cib(CibError::NotKept("gone".into())),
                OcfCode::ErrGeneric,
            ),
        ];
        for (f, want) in cases {
            assert_eq!(code(&f), want, "{f:?}");
        }
    }

    #[test]
    fn status_codes() {
        assert_eq!(status(&[]), OcfCode::NotRunning);
        assert_eq!(status(&["running", "starting"]), OcfCode::Success);
        assert_eq!(status(&["running", "stopped"]), OcfCode::NotRunning);
        assert_eq!(status(&["stopped", "stale"]), OcfCode::ErrGeneric);
        assert_eq!(status(&["failing", "running"]), OcfCode::ErrGeneric);
    }
}
