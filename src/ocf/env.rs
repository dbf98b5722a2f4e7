//! The OCF environment (`ra/1.1/resource-agent-api.md`, "Parameter Passing"): instance
//! parameters from `OCF_RESKEY_*` (driven by the table in [`params`](super::params)), operation
//! meta attributes (`OCF_RESKEY_CRM_meta_timeout`/`_interval`, in milliseconds), the check level
//! and `HA_RSCTMP`. Parsing is pure: it reads through a lookup function, so tests need no process
//! environment.

use std::path::PathBuf;
use std::time::Duration;

use super::params::{self, Param};
use crate::error::Error;
use crate::spec;

/// The environment of one agent invocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OcfEnv {
    /// `OCF_RESOURCE_INSTANCE` (e.g. `ipvs_webapp`); absent when run by hand.
    pub instance: Option<String>,
    cluster: Option<String>,
    config: Option<String>,
    dry_run: Option<String>,
    /// `OCF_RESKEY_CRM_meta_timeout`: the operation's timeout, if Pacemaker gave one.
    pub timeout: Option<Duration>,
    /// `OCF_RESKEY_CRM_meta_interval`: 0 (or absent) for a probe / one-shot monitor.
    pub interval: Duration,
    check_level: Option<String>,
    /// `HA_RSCTMP`, or [`crate::state::DEFAULT_RSCTMP`].
    pub rsctmp: PathBuf,
}

/// The validated instance parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params {
    pub cluster: String,
    pub config: PathBuf,
    pub dry_run: bool,
}

impl OcfEnv {
    /// Reads the environment through `get` (use [`OcfEnv::from_process`] for the real one).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> OcfEnv {
        let nonempty = |k: &str| get(k).filter(|v| !v.is_empty());
        let millis = |k: &str| {
            nonempty(k)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_millis)
        };
        OcfEnv {
            instance: nonempty("OCF_RESOURCE_INSTANCE"),
            cluster: nonempty(&params::env_name(&params::CLUSTER)),
            config: nonempty(&params::env_name(&params::CONFIG)),
            dry_run: nonempty(&params::env_name(&params::DRY_RUN)),
            timeout: millis("OCF_RESKEY_CRM_meta_timeout").filter(|d| !d.is_zero()),
            interval: millis("OCF_RESKEY_CRM_meta_interval").unwrap_or(Duration::ZERO),
            // ocf-shellfuncs also accepts the level as an instance attribute.
            check_level: nonempty("OCF_CHECK_LEVEL")
                .or_else(|| nonempty("OCF_RESKEY_OCF_CHECK_LEVEL")),
            rsctmp: nonempty("HA_RSCTMP")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(crate::state::DEFAULT_RSCTMP)),
        }
    }

    pub fn from_process() -> OcfEnv {
        OcfEnv::from_lookup(|k| std::env::var(k).ok())
    }

    /// A monitor with interval 0 is a probe: Pacemaker asking "is it running here?" on a node
    /// where it may never have run. "Not running" is then an answer, never an error.
    pub fn is_probe(&self) -> bool {
        self.interval.is_zero()
    }

    /// The operation timeout, or `default` (the meta-data's advertised timeout for the action).
    pub fn timeout_or(&self, default: Duration) -> Duration {
        self.timeout.unwrap_or(default)
    }

    /// `OCF_CHECK_LEVEL`, rounded down to a level we implement (0 or 10), as the spec recommends
    /// for unimplemented levels ("Check Levels").
    pub fn check_level(&self) -> Result<u32, Error> {
        let Some(raw) = &self.check_level else {
            return Ok(0);
        };
        let level: u32 = raw.trim().parse().map_err(|_| Error::BadEnv {
            var: "OCF_CHECK_LEVEL",
            value: raw.clone(),
            expected: "a non-negative integer (0, 10 or 20)",
        })?;
        Ok(if level >= 10 { 10 } else { 0 })
    }

    /// Validates the instance parameters; needed by every action except the informational ones.
    pub fn params(&self) -> Result<Params, Error> {
        let cluster = self.cluster.clone().ok_or(Error::MissingParam {
            name: params::CLUSTER.name,
        })?;
        if !spec::validate::is_valid_name(&cluster) {
            return Err(bad(
                &params::CLUSTER,
                &cluster,
                "a letter, then up to 63 letters, digits, '_', '-' or '.'",
            ));
        }
        let config = match &self.config {
            None => PathBuf::from(spec::defaults::CONFIG_DIR).join(format!("{cluster}.toml")),
            Some(c) if c.starts_with('/') => PathBuf::from(c),
            Some(c) => return Err(bad(&params::CONFIG, c, "an absolute path")),
        };
        let dry_run_text = self
            .dry_run
            .as_deref()
            .or(params::DRY_RUN.default)
            .unwrap_or("false");
        let dry_run = params::parse_bool(dry_run_text)
            .ok_or_else(|| bad(&params::DRY_RUN, dry_run_text, "a boolean (true/false)"))?;
        Ok(Params {
            cluster,
            config,
            dry_run,
        })
    }
}

fn bad(p: &Param, value: &str, expected: &str) -> Error {
    Error::BadParam {
        name: p.name,
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> OcfEnv {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        OcfEnv::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let e = env(&[("OCF_RESKEY_cluster", "webapp")]);
        let p = e.params().unwrap();
        assert_eq!(p.config, PathBuf::from("/etc/big_brother/webapp.toml"));
        assert!(!p.dry_run);
        assert_eq!(e.rsctmp, PathBuf::from("/run/resource-agents"));
        assert!(e.is_probe(), "no interval means a one-shot monitor");
        assert_eq!(
            e.timeout_or(Duration::from_secs(20)),
            Duration::from_secs(20)
        );
        assert_eq!(e.check_level().unwrap(), 0);
    }

    #[test]
    fn empty_values_count_as_unset() {
        // Pacemaker passes empty strings for parameters set to "" in the CIB.
        let e = env(&[
            ("OCF_RESKEY_cluster", "webapp"),
            ("OCF_RESKEY_config", ""),
            ("HA_RSCTMP", ""),
            ("OCF_RESKEY_CRM_meta_timeout", "0"),
        ]);
        assert_eq!(
            e.params().unwrap().config,
            PathBuf::from("/etc/big_brother/webapp.toml")
        );
        assert_eq!(e.rsctmp, PathBuf::from(crate::state::DEFAULT_RSCTMP));
        assert_eq!(e.timeout, None);
    }

    #[test]
    fn meta_attributes() {
        let e = env(&[
            ("OCF_RESKEY_CRM_meta_timeout", "20000"),
            ("OCF_RESKEY_CRM_meta_interval", "61000"),
            ("OCF_CHECK_LEVEL", "20"),
            ("HA_RSCTMP", "/tmp/x"),
            ("OCF_RESOURCE_INSTANCE", "ipvs_webapp"),
        ]);
        assert_eq!(e.timeout, Some(Duration::from_secs(20)));
        assert!(!e.is_probe());
        assert_eq!(e.check_level().unwrap(), 10, "20 is served by level 10");
        assert_eq!(e.rsctmp, PathBuf::from("/tmp/x"));
        assert_eq!(e.instance.as_deref(), Some("ipvs_webapp"));
    }

    #[test]
    fn bad_values_are_named() {
        let missing = env(&[]).params().unwrap_err();
        assert!(
            missing.to_string().contains("OCF_RESKEY_cluster"),
            "{missing}"
        );
        for (k, v) in [
            ("OCF_RESKEY_cluster", "../etc"),
            ("OCF_RESKEY_config", "relative.toml"),
            ("OCF_RESKEY_dry_run", "maybe"),
        ] {
            let mut pairs = vec![("OCF_RESKEY_cluster", "webapp")];
            pairs.retain(|(name, _)| *name != k);
            pairs.push((k, v));
            let err = env(&pairs).params().unwrap_err();
            assert!(matches!(err, Error::BadParam { .. }), "{k}={v}: {err:?}");
            assert!(err.to_string().contains(v), "{err}");
        }
        assert!(env(&[("OCF_CHECK_LEVEL", "deep")]).check_level().is_err());
    }

    #[test]
    fn check_level_from_instance_attribute() {
        let e = env(&[("OCF_RESKEY_OCF_CHECK_LEVEL", "10")]);
        assert_eq!(e.check_level().unwrap(), 10);
    }
}
