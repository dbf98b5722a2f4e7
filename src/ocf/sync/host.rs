//! The sync agent's host-wide settings (IPVS timeouts, `net.ipv4.vs.*` sysctls): start sets the
//! configured ones and first saves each one's original value in a small file in the agent's
//! state directory; monitor reports every configured value the host no longer has; stop puts an
//! original back only where the host still has the value big_brother set — a later change by
//! someone else (an operator, another tool) is theirs and is left alone, with a note in the log.
//!
//! The file is written atomically (tempfile, fsync, rename) *before* anything is changed, so a
//! crash between the two leaves the originals on disk. A second start (Pacemaker after an agent
//! crash, or start on a running resource) keeps the first original: by then the host holds our
//! own value. Stop never fails over a setting: a value it cannot restore is logged (fencing a
//! director over a sysctl would be worse than the sysctl).

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::SyncError;
use crate::ipvs::host_settings::{HostAccess, HostSettings, Setting};

/// The agent's state directory under `HA_RSCTMP` (beside, never inside, the clusters'
/// `big_brother/<name>/`, whose names are the operators').
pub const DIR_NAME: &str = "big_brother_ipvs_sync";
pub const FILE_NAME: &str = "host-settings.json";

/// Six entries of two numbers each fit in far less; a larger file is not ours.
const MAX_FILE_BYTES: u64 = 4096;

/// `<rsctmp>/big_brother_ipvs_sync/host-settings.json`.
pub fn saved_path(rsctmp: &Path) -> PathBuf {
    rsctmp.join(DIR_NAME).join(FILE_NAME)
}

/// One setting big_brother changed: the host's value before, and the value it set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub setting: String,
    pub original: u32,
    pub set: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedFile {
    pub settings: Vec<Saved>,
}

/// The saved originals, `None` when there are none.
pub fn load(path: &Path) -> Result<Option<SavedFile>, SyncError> {
    let bad = |reason: String| SyncError::Saved {
        path: path.to_path_buf(),
        reason,
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(e.to_string())),
    };
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bad(e.to_string()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(bad(format!("larger than {MAX_FILE_BYTES} bytes")));
    }
    let f: SavedFile = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
    if f.settings.len() > Setting::ALL.len() {
        return Err(bad("more entries than there are settings".into()));
    }
    Ok(Some(f))
}

fn save(path: &Path, f: &SavedFile) -> Result<(), SyncError> {
    let bad = |e: std::io::Error| SyncError::Saved {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(bad)?;
    }
    let mut text = serde_json::to_vec_pretty(f).map_err(|e| SyncError::Saved {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    text.push(b'\n');
    crate::state::write_atomic(path, &text).map_err(bad)
}

/// Start: saves the originals of what `wanted` changes, then sets it. Returns log lines.
pub fn apply(
    host: &mut dyn HostAccess,
    wanted: &HostSettings,
    path: &Path,
) -> Result<Vec<String>, SyncError> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut saved = load(path)?.unwrap_or_default();
    let mut todo = Vec::new();
    for (s, v) in wanted.wanted() {
        let current = host.read(s)?;
        match saved.settings.iter_mut().find(|e| e.setting == s.param()) {
            // An earlier start saved the original; the host now holds our own value.
            Some(e) => e.set = v,
            None => saved.settings.push(Saved {
                setting: s.param().to_string(),
                original: current,
                set: v,
            }),
        }
        if current != v {
            todo.push((s, current, v));
        }
    }
    save(path, &saved)?;
    let mut notes = Vec::new();
    for (s, was, v) in todo {
        host.write(s, v)?;
        notes.push(format!("{} set to {v} (was {was})", s.describe()));
    }
    let diff = differences(host, wanted)?;
    if !diff.is_empty() {
        return Err(SyncError::HostChanged(format!(
            "the host did not keep what start set: {}",
            diff.join("; ")
        )));
    }
    Ok(notes)
}

/// Monitor: each configured setting the host no longer has, as a sentence.
pub fn differences(
    host: &mut dyn HostAccess,
    wanted: &HostSettings,
) -> Result<Vec<String>, SyncError> {
    let mut out = Vec::new();
    for (s, v) in wanted.wanted() {
        let current = host.read(s)?;
        if current != v {
            out.push(format!(
                "{} is {current}, this resource sets {v} (parameter {})",
                s.describe(),
                s.param()
            ));
        }
    }
    Ok(out)
}

/// Stop: puts back each saved original where the host still has the value big_brother set,
/// leaves the rest, removes the file. Never fails; returns log lines (warnings).
pub fn restore(host: &mut dyn HostAccess, path: &Path) -> Vec<String> {
    let mut notes = Vec::new();
    let saved = match load(path) {
        Ok(None) => return notes,
        Ok(Some(f)) => f,
        Err(e) => {
            notes.push(format!("{e}; no host setting restored"));
            let _ = std::fs::remove_file(path);
            return notes;
        }
    };
    for e in &saved.settings {
        let Some(s) = Setting::from_param(&e.setting) else {
            notes.push(format!(
                "{}: unknown setting {:?} skipped",
                path.display(),
                e.setting
            ));
            continue;
        };
        match host.read(s) {
            Err(err) => notes.push(format!("{err}; {} not restored", s.describe())),
            Ok(current) if current != e.set => notes.push(format!(
                "{} left at {current}: changed by someone else since start (big_brother set {}, \
                 the original was {})",
                s.describe(),
                e.set,
                e.original
            )),
            Ok(_) if e.original == e.set => {}
            Ok(_) => match host.write(s, e.original) {
                Ok(()) => notes.push(format!(
                    "{} restored to {} (was {})",
                    s.describe(),
                    e.original,
                    e.set
                )),
                Err(err) => notes.push(format!("{err}; {} not restored", s.describe())),
            },
        }
    }
    if let Err(err) = std::fs::remove_file(path) {
        if err.kind() != std::io::ErrorKind::NotFound {
            notes.push(format!("removing {}: {err}", path.display()));
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::ipvs::host_settings::HostError;

    /// A host of plain numbers; `frozen` settings ignore writes (a kernel that refuses quietly).
    #[derive(Default)]
    struct Fake {
        values: BTreeMap<Setting, u32>,
        frozen: Vec<Setting>,
        writes: Vec<(Setting, u32)>,
    }

    impl Fake {
        fn linux() -> Fake {
            let mut f = Fake::default();
            for (s, v) in [
                (Setting::TcpTimeout, 900),
                (Setting::TcpFinTimeout, 120),
                (Setting::UdpTimeout, 300),
                (Setting::ExpireNodestConn, 0),
                (Setting::ExpireQuiescentTemplate, 0),
                (Setting::SloppyTcp, 0),
            ] {
                f.values.insert(s, v);
            }
            f
        }
    }

    impl HostAccess for Fake {
        fn read(&mut self, s: Setting) -> Result<u32, HostError> {
            Ok(self.values[&s])
        }
        fn write(&mut self, s: Setting, v: u32) -> Result<(), HostError> {
            self.writes.push((s, v));
            if !self.frozen.contains(&s) {
                self.values.insert(s, v);
            }
            Ok(())
        }
    }

    fn wanted(pairs: &[(Setting, u32)]) -> HostSettings {
        let mut h = HostSettings::default();
        for (s, v) in pairs {
            h.set(*s, Some(*v));
        }
        h
    }

    #[test]
    fn start_saves_sets_and_stop_restores() {
        let dir = tempfile::tempdir().unwrap();
        let path = saved_path(dir.path());
        let mut host = Fake::linux();
        let w = wanted(&[(Setting::TcpTimeout, 100), (Setting::ExpireNodestConn, 1)]);
        let notes = apply(&mut host, &w, &path).unwrap();
        assert_eq!(
            notes,
            vec![
                "the IPVS tcp timeout set to 100 (was 900)",
                "net.ipv4.vs.expire_nodest_conn set to 1 (was 0)"
            ]
        );
        assert_eq!(differences(&mut host, &w).unwrap(), Vec::<String>::new());
        let saved = load(&path).unwrap().unwrap();
        assert_eq!(saved.settings.len(), 2);
        assert_eq!(
            saved.settings[0],
            Saved {
                setting: "tcp_timeout".into(),
                original: 900,
                set: 100
            }
        );
        // A second start keeps the first originals (the host now holds ours).
        apply(&mut host, &w, &path).unwrap();
        assert_eq!(load(&path).unwrap().unwrap(), saved);
        let notes = restore(&mut host, &path);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert_eq!(host.values[&Setting::TcpTimeout], 900);
        assert_eq!(host.values[&Setting::ExpireNodestConn], 0);
        assert!(!path.exists());
        assert_eq!(
            restore(&mut host, &path),
            Vec::<String>::new(),
            "idempotent"
        );
    }

    #[test]
    fn someone_elses_later_change_is_noticed_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = saved_path(dir.path());
        let mut host = Fake::linux();
        let w = wanted(&[(Setting::SloppyTcp, 1), (Setting::UdpTimeout, 30)]);
        apply(&mut host, &w, &path).unwrap();
        host.values.insert(Setting::SloppyTcp, 0);
        let diff = differences(&mut host, &w).unwrap();
        assert_eq!(
            diff,
            vec!["net.ipv4.vs.sloppy_tcp is 0, this resource sets 1 (parameter sloppy_tcp)"]
        );
        host.values.insert(Setting::SloppyTcp, 1);
        host.values.insert(Setting::UdpTimeout, 45);
        let notes = restore(&mut host, &path);
        assert_eq!(host.values[&Setting::UdpTimeout], 45, "left alone");
        assert_eq!(host.values[&Setting::SloppyTcp], 0, "ours restored");
        assert!(
            notes.iter().any(|n| n.contains(
                "udp timeout left at 45: changed by someone else since start (big_brother set \
                 30, the original was 300)"
            )),
            "{notes:?}"
        );
    }

    #[test]
    fn unchanged_values_are_not_written_and_nothing_configured_saves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = saved_path(dir.path());
        let mut host = Fake::linux();
        apply(&mut host, &HostSettings::default(), &path).unwrap();
        assert!(!path.exists());
        apply(&mut host, &wanted(&[(Setting::TcpFinTimeout, 120)]), &path).unwrap();
        assert!(host.writes.is_empty());
        restore(&mut host, &path);
        assert!(host.writes.is_empty(), "the original equals what was set");
    }

    #[test]
    fn a_value_the_host_does_not_keep_fails_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = saved_path(dir.path());
        let mut host = Fake::linux();
        host.frozen.push(Setting::ExpireQuiescentTemplate);
        let err = apply(
            &mut host,
            &wanted(&[(Setting::ExpireQuiescentTemplate, 1)]),
            &path,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("net.ipv4.vs.expire_quiescent_template is 0, this resource sets 1"),
            "{err}"
        );
        assert!(path.exists(), "stop still finds the original");
    }

    #[test]
    fn a_bad_file_is_refused_by_start_and_dropped_by_stop() {
        let dir = tempfile::tempdir().unwrap();
        let path = saved_path(dir.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, vec![b' '; 5000]).unwrap();
        let mut host = Fake::linux();
        let err = apply(&mut host, &wanted(&[(Setting::SloppyTcp, 1)]), &path).unwrap_err();
        assert!(err.to_string().contains("larger than 4096 bytes"), "{err}");
        assert!(host.writes.is_empty());
        std::fs::write(&path, "{").unwrap();
        let notes = restore(&mut host, &path);
        assert!(notes[0].contains("no host setting restored"), "{notes:?}");
        assert!(!path.exists());
    }
}
