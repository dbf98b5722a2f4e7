//! What a controller is given besides its spec and backend: who it is, where its files are,
//! how it reports (sd_notify), and how it is told to stop or reload ([`Control`]). The
//! supervisor process builds it from its arguments and environment; `demo` builds its own.

use std::path::PathBuf;

use super::control::Control;
use crate::state::lock::Lock;
use crate::state::notify::Notifier;
use crate::state::StateDir;

/// Everything a [`super::controller::Controller`] needs from outside.
pub struct Context {
    pub ident: Ident,
    pub state: StateDir,
    pub notifier: Notifier,
    pub control: Control,
    /// The cluster's persistent drain file (`state::drain::path`, or the demo's own).
    pub drain_file: PathBuf,
    /// Whether to watch the cluster-wide drains in the Pacemaker CIB (`super::cib_watch`): the
    /// supervisor does; the demo and unit tests do not.
    pub watch_cib: bool,
    /// The supervisor's lifetime lock, kept (re-taken if its file vanishes) every tick; `None`
    /// for the demo and unit tests, which hold none.
    pub lock: Option<Lock>,
}

/// Who this supervisor is (fixed for its life).
#[derive(Clone, Debug)]
pub struct Ident {
    pub cluster: String,
    pub instance: Option<String>,
    pub dry_run: bool,
    pub pid: i32,
    pub started_at: u64,
}
