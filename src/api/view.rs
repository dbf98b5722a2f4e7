//! What the API knows about a cluster, read fresh for every request from the files the
//! supervisors already write: the lock and `status.json` in `$HA_RSCTMP/big_brother/<cluster>/`.
//! "Running" is exactly `monitor`'s rule at level 0 (`state::liveness::verdict`): lock held,
//! status present, heartbeat fresh, no backend or checker error. The API keeps no state of its
//! own.

use std::path::PathBuf;

use crate::ipvs::{Setting, SyncDaemon};
use crate::spec::validate::is_valid_name;
use crate::state::liveness::{verdict, Verdict};
use crate::state::status::{Now, Status};
use crate::state::StateDir;

/// One cluster as the API answers for it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterView {
    pub name: String,
    pub running: bool,
    /// Why a supervisor that holds the lock does not count as running.
    pub problem: Option<String>,
    /// The supervisor's last status, if it left one (also after a crash: the kernel still holds
    /// those weights).
    pub status: Option<Status>,
}

impl ClusterView {
    /// The original's `CombinedWeight`: the sum of the nodes' applied weights (0 when stopped).
    pub fn combined_weight(&self) -> u64 {
        self.status.as_ref().map_or(0, Status::combined_weight)
    }
}

/// Where cluster views come from (the filesystem in production, tables in unit tests).
pub trait Clusters {
    /// Every cluster the API can name, sorted.
    fn names(&self) -> Vec<String>;
    /// One cluster; `None` when it is unknown.
    fn view(&self, name: &str) -> Option<ClusterView>;
    /// This director's name, for the status page's title (quoted text: escaped there).
    fn host(&self) -> Option<String> {
        None
    }
    /// The host's IPVS sync daemons as the kernel lists them; `None` when it cannot be asked
    /// (no IPVS, no CAP_NET_ADMIN): the sync agent keeps no file, the kernel is the state.
    fn sync_daemons(&self) -> Option<Vec<SyncDaemon>> {
        None
    }
    /// The host-wide IPVS settings (timeouts, `net.ipv4.vs.*` sysctls) the kernel has now, those
    /// it could read; `None` when it cannot be asked.
    fn host_settings(&self) -> Option<Vec<(Setting, u32)>> {
        None
    }
}

/// The filesystem source: state directories under `<rsctmp>/big_brother/`, plus, to list
/// clusters that are configured but stopped, the spec names `<config_dir>/<name>.toml`.
#[derive(Clone, Debug)]
pub struct Files {
    pub rsctmp: PathBuf,
    pub config_dir: Option<PathBuf>,
}

impl Files {
    fn state(&self, name: &str) -> StateDir {
        StateDir::new(&self.rsctmp, name)
    }

    fn configured(&self, name: &str) -> bool {
        self.config_dir
            .as_ref()
            .is_some_and(|d| d.join(format!("{name}.toml")).is_file())
    }
}

impl Clusters for Files {
    fn sync_daemons(&self) -> Option<Vec<SyncDaemon>> {
        crate::ipvs::netlink::sync_daemons().ok()
    }

    fn host_settings(&self) -> Option<Vec<(Setting, u32)>> {
        use crate::ipvs::host_settings::{HostAccess, Kernel, SYSCTL_DIR};
        let mut nl = crate::ipvs::netlink::Netlink::open().ok()?;
        let mut k = Kernel {
            ipvs: &mut nl,
            sysctl_dir: SYSCTL_DIR.into(),
        };
        Some(
            Setting::ALL
                .into_iter()
                .filter_map(|s| k.read(s).ok().map(|v| (s, v)))
                .collect(),
        )
    }

    fn names(&self) -> Vec<String> {
        let mut names = Vec::new();
        if let Ok(dir) = std::fs::read_dir(self.rsctmp.join("big_brother")) {
            for e in dir.flatten() {
                if e.path().is_dir() {
                    names.extend(e.file_name().to_str().map(str::to_string));
                }
            }
        }
        if let Some(Ok(dir)) = self.config_dir.as_ref().map(std::fs::read_dir) {
            for e in dir.flatten() {
                let n = e.file_name();
                let n = n.to_string_lossy();
                if let Some(stem) = n.strip_suffix(".toml") {
                    names.push(stem.to_string());
                }
            }
        }
        names.retain(|n| is_valid_name(n));
        names.sort();
        names.dedup();
        names
    }

    fn view(&self, name: &str) -> Option<ClusterView> {
        // Validated names only: nothing else can reach the filesystem (no `..`, no `/`).
        if !is_valid_name(name) {
            return None;
        }
        let state = self.state(name);
        if !state.path().is_dir() && !self.configured(name) {
            return None;
        }
        let leftover = || Status::read(&state.status()).ok().flatten();
        let view = match verdict(&state, Now::read()) {
            Ok(Verdict::Running(status)) => ClusterView {
                name: name.to_string(),
                running: true,
                problem: None,
                status: Some(*status),
            },
            Ok(Verdict::Stopped) => ClusterView {
                name: name.to_string(),
                running: false,
                problem: None,
                status: leftover(),
            },
            Ok(unhealthy) => ClusterView {
                name: name.to_string(),
                running: false,
                problem: unhealthy.problem(&state),
                status: leftover(),
            },
            Err(e) => ClusterView {
                name: name.to_string(),
                running: false,
                problem: Some(e.to_string()),
                status: leftover(),
            },
        };
        Some(view)
    }

    fn host(&self) -> Option<String> {
        // The kernel's nodename (at most 64 bytes); read per request, like everything here.
        let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
        let name = name.trim();
        (!name.is_empty()).then(|| name.to_string())
    }
}
