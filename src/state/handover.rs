//! The reload handshake between whoever wants a running supervisor to take a new spec (the
//! agent's `reload-agent`/`reload`, `crm apply` on this machine) and the supervisor: the new
//! spec's path goes into `<state>/params.json`, the lock holder gets SIGHUP, and the outcome comes
//! back as a bumped `reload.generation` in `status.json` (with `ok` and the reason). The caller
//! validates the spec first; the supervisor validates again and keeps its running spec when the
//! new one is refused.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::status::Status;
use super::{write_atomic, FileError, Liveness, StateDir};
use std::io;

/// Parameters `reload-agent` hands to the running supervisor before SIGHUP.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoverParams {
    pub config: PathBuf,
}

/// Why a reload did not happen.
#[derive(Debug, thiserror::Error)]
pub enum HandoverError {
    #[error(transparent)]
    Io(#[from] FileError),
    #[error("new spec refused, the running one stays: {reason}")]
    Refused { reason: String },
    #[error("supervisor did not confirm the reload within {}s", waited.as_secs_f32())]
    Timeout { waited: Duration },
}

/// How a reload request ended when nothing went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handed {
    /// The supervisor applied the new spec.
    Reloaded,
    /// No supervisor runs: the spec takes effect at the next start.
    NotRunning,
}

impl StateDir {
    fn write_params(&self, p: &HandoverParams) -> io::Result<()> {
        let json = serde_json::to_vec(p).map_err(io::Error::other)?;
        write_atomic(&self.params(), &json)
    }

    /// The handed-over parameters, or `None` when there are none.
    pub fn read_params(&self) -> io::Result<Option<HandoverParams>> {
        match std::fs::read(self.params()) {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Asks the supervisor holding `state`'s lock to load `config`, and waits (until `deadline`)
/// for its verdict in the status file.
pub fn request(
    state: &StateDir,
    config: &Path,
    deadline: Instant,
) -> Result<Handed, HandoverError> {
    let liveness = state
        .liveness()
        .map_err(FileError::of("lock", state.lock()))?;
    let Liveness::Running { pid: Some(pid) } = liveness else {
        return Ok(Handed::NotRunning);
    };
    let status_err = |source| FileError::of("status file", state.status())(source);
    let before = Status::read(&state.status())
        .map_err(status_err)?
        .map(|s| s.reload.generation)
        .unwrap_or(0);
    state
        .write_params(&HandoverParams {
            config: config.to_path_buf(),
        })
        .map_err(FileError::of("handover file", state.params()))?;
    // SAFETY: kill has no memory preconditions; the pid is the lock holder's.
    unsafe { libc::kill(pid, libc::SIGHUP) };
    let started = Instant::now();
    loop {
        if let Some(s) = Status::read(&state.status()).map_err(status_err)? {
            if s.reload.generation > before {
                return match (s.reload.ok, s.reload.error) {
                    (true, _) => Ok(Handed::Reloaded),
                    (false, e) => Err(HandoverError::Refused {
                        reason: e.unwrap_or_else(|| "no reason given".into()),
                    }),
                };
            }
        }
        if Instant::now() >= deadline {
            return Err(HandoverError::Timeout {
                waited: started.elapsed(),
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_round_trip() {
        let (_tmp, s) = StateDir::temp();
        assert_eq!(s.read_params().unwrap(), None);
        let p = HandoverParams {
            config: "/etc/big_brother/x.toml".into(),
        };
        s.write_params(&p).unwrap();
        assert_eq!(s.read_params().unwrap(), Some(p));
    }

    #[test]
    fn nothing_running_is_not_an_error() {
        let (_tmp, s) = StateDir::temp();
        let r = request(&s, Path::new("/etc/big_brother/x.toml"), Instant::now());
        assert_eq!(r.unwrap(), Handed::NotRunning);
        assert_eq!(s.read_params().unwrap(), None, "nothing handed over");
    }
}
