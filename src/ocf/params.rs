//! The agent's instance parameters: ONE table that drives environment parsing
//! (`OCF_RESKEY_<name>`), defaults, and the `<parameters>` of the meta-data XML, so the three can
//! never disagree (STYLE.md point 7; resource-agents' `OCF_RESKEY_*_default` idiom).

/// Content type of a parameter as the meta-data DTD names it (`string|integer|boolean|time`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    String,
    Boolean,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Boolean => "boolean",
        }
    }
}

/// One instance parameter.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    /// Every instance must set it.
    pub required: bool,
    /// No two instances on a host may share the value (`unique="1"`, `unique-group`).
    pub unique: bool,
    /// A change takes effect through `reload-agent`, without a restart (OCF 1.1).
    pub reloadable: bool,
    /// The literal default, when there is one that does not depend on other parameters; it is
    /// both what the agent uses and what meta-data advertises.
    pub default: Option<&'static str>,
    pub shortdesc: &'static str,
    pub longdesc: &'static str,
}

pub const CLUSTER: Param = Param {
    name: "cluster",
    kind: Kind::String,
    required: true,
    unique: true,
    reloadable: false,
    default: None,
    shortdesc: "Cluster name (the spec's name)",
    longdesc: "Name of the big_brother cluster this resource runs: the `name` in its spec file. \
It selects the spec file (see `config`) and the state directory \
$HA_RSCTMP/big_brother/CLUSTER/. A letter, then up to 63 letters, digits, '_', '-' or '.'. \
Each cluster may run at most once per host.",
};

pub const CONFIG: Param = Param {
    name: "config",
    kind: Kind::String,
    required: false,
    unique: false,
    reloadable: true,
    default: None,
    shortdesc: "Spec file (default /etc/big_brother/CLUSTER.toml)",
    longdesc: "Absolute path of the cluster's spec file (TOML), or of the original \
big_brother's YAML config, whose cluster of this name is used. Defaults to \
/etc/big_brother/CLUSTER.toml. Changing it, or the file's content followed by a `reload`, is \
applied by the running supervisor without a restart: nodes added or removed change the IPVS \
destinations in place and existing connections stay. A new spec that does not validate is \
refused and the old one keeps running.",
};

pub const DRY_RUN: Param = Param {
    name: "dry_run",
    kind: Kind::Boolean,
    required: false,
    unique: false,
    reloadable: false,
    default: Some("false"),
    shortdesc: "Shadow mode: never touch the kernel",
    longdesc: "When true, the supervisor runs health checks and computes weights exactly as in \
production but programs an in-memory IPVS table (kept in the state directory as \
dryrun-ipvs.json) instead of the kernel. For operators trying a spec on a live load balancer, \
and for tests.",
};

/// Every parameter, in meta-data order.
pub const PARAMS: &[Param] = &[CLUSTER, CONFIG, DRY_RUN];

/// `OCF_RESKEY_<name>`.
pub fn env_name(p: &Param) -> String {
    format!("OCF_RESKEY_{}", p.name)
}

/// Parses an OCF boolean the way Pacemaker and `ocf_is_true` accept them, but refuses anything
/// that is neither true nor false (a typo must not silently mean "false").
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "on" | "ja" => Some(true),
        "0" | "no" | "n" | "false" | "off" | "nein" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_env_safe() {
        for (i, p) in PARAMS.iter().enumerate() {
            assert!(
                p.name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{}",
                p.name
            );
            assert!(
                PARAMS[i + 1..].iter().all(|q| q.name != p.name),
                "duplicate {}",
                p.name
            );
        }
    }

    #[test]
    fn required_parameters_have_no_default_and_defaults_parse() {
        for p in PARAMS {
            if p.required {
                assert!(p.default.is_none(), "{} is required", p.name);
            }
            if let (Kind::Boolean, Some(d)) = (p.kind, p.default) {
                assert!(parse_bool(d).is_some(), "{} default {d}", p.name);
            }
            assert!(!p.shortdesc.is_empty() && !p.longdesc.is_empty());
        }
    }

    #[test]
    fn only_config_is_reloadable() {
        // `cluster` is the identity and `dry_run` swaps the backend: both need a restart.
        let r: Vec<_> = PARAMS
            .iter()
            .filter(|p| p.reloadable)
            .map(|p| p.name)
            .collect();
        assert_eq!(r, ["config"]);
    }

    #[test]
    fn booleans() {
        for t in ["1", "yes", "TRUE", "on", " true "] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["0", "no", "False", "off"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        assert_eq!(parse_bool("maybe"), None);
        assert_eq!(parse_bool(""), None);
    }
}
