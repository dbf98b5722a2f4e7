//! The cluster spec: one TOML file per cluster, parsed in two stages (`raw` shape, then
//! `validate` meaning) into the [`Spec`] model that every other face uses.

pub mod check_keys;
pub mod check_options;
pub mod checker;
pub mod duration;
pub mod keepalived;
pub mod legacy;
pub mod model;
pub mod raw;
pub mod source;
pub mod validate;

use std::fmt;
use std::path::{Path, PathBuf};

pub use model::*;

use crate::ipvs::ServiceKey;
use crate::text;

/// One thing wrong with a spec, located as precisely as the source allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line and column, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Dotted key path, e.g. `node[2].address` (empty when the file as a whole is wrong).
    pub key: String,
    /// What was expected, phrased to finish the sentence "expected …".
    pub expected: String,
}

/// Why a spec could not be loaded. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{}: cannot read spec: {source}", text::for_terminal(&file.display().to_string()))]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not something to read as a spec: a FIFO, a device, a directory, a file over the size cap.
    #[error("{}: expected {expected}", text::for_terminal(&file.display().to_string()))]
    Unfit { file: PathBuf, expected: String },
    /// TOML syntax, wrong value types, unknown keys (reported by the parser).
    #[error("{}", Located(file, line, column, message))]
    Parse {
        file: PathBuf,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    /// Well-formed TOML whose values are wrong; all problems at once.
    #[error("{}", Problems(file, problems))]
    Invalid {
        file: PathBuf,
        problems: Vec<Problem>,
    },
}

impl SpecError {
    /// The file does not exist. A node-local fact (Puppet may not have written it here yet,
    /// another node may have it), which the agent answers differently from a wrong spec.
    pub fn is_missing(&self) -> bool {
        matches!(self, SpecError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }

    /// The file exists but may not be read.
    pub fn is_denied(&self) -> bool {
        matches!(self, SpecError::Read { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied)
    }

    pub fn file(&self) -> &Path {
        match self {
            SpecError::Read { file, .. }
            | SpecError::Unfit { file, .. }
            | SpecError::Parse { file, .. }
            | SpecError::Invalid { file, .. } => file,
        }
    }
}

struct Located<'a>(
    &'a PathBuf,
    &'a Option<usize>,
    &'a Option<usize>,
    &'a String,
);

/// Everything in a message may come from the file (keys, values) or its name: shown through
/// [`text::for_terminal`], so no control or format character reaches the operator's terminal.
impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", text::for_terminal(&self.0.display().to_string()))?;
        if let Some(l) = self.1 {
            write!(f, ":{l}")?;
            if let Some(c) = self.2 {
                write!(f, ":{c}")?;
            }
        }
        write!(f, ": {}", text::for_terminal(self.3))
    }
}

struct Problems<'a>(&'a PathBuf, &'a Vec<Problem>);

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.1.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let msg = if p.key.is_empty() {
                format!("expected {}", p.expected)
            } else {
                format!("{}: expected {}", p.key, p.expected)
            };
            write!(f, "{}", Located(self.0, &p.line, &p.column, &msg))?;
        }
        Ok(())
    }
}

/// Reads and validates one spec file (read as [`source::read_text`] reads: a regular file of at
/// most [`source::MAX_FILE_BYTES`]).
pub fn load(file: &Path) -> Result<Spec, SpecError> {
    let text = source::read_text(file)?;
    parse(file, &text)
}

/// Loads the spec of cluster `cluster` from `file`, as the agent's `config` parameter names it:
/// a TOML spec (which must be that cluster's), or the original big_brother's YAML config
/// (see [`legacy::looks_legacy`]), whose cluster of that name is converted in memory exactly
/// as `big_brother import` would write it. Problems in the YAML's other clusters are ignored.
pub fn load_cluster(file: &Path, cluster: &str) -> Result<Spec, SpecError> {
    let bytes = source::read_bytes(file)?;
    load_cluster_from(file, bytes, cluster)
}

/// [`load_cluster`] on bytes already read from `file` with [`source::read_bytes`] (so a caller
/// that also digests the bytes reads the file once).
pub fn load_cluster_from(file: &Path, bytes: Vec<u8>, cluster: &str) -> Result<Spec, SpecError> {
    let text = source::text(file, bytes)?;
    if legacy::looks_legacy(file, &text) {
        return legacy::load_cluster(file, &text, cluster);
    }
    let spec = parse(file, &text)?;
    if spec.name != cluster {
        return Err(SpecError::Invalid {
            file: file.to_path_buf(),
            problems: vec![Problem {
                line: None,
                column: None,
                key: "name".into(),
                expected: format!(
                    "the cluster {cluster:?} (the OCF `cluster` parameter), not {:?}",
                    spec.name
                ),
            }],
        });
    }
    Ok(spec)
}

/// Validates spec text; `file` is only used in messages and kept in the result.
pub fn parse(file: &Path, text: &str) -> Result<Spec, SpecError> {
    let raw: raw::RawSpec = toml::from_str(text).map_err(|e| {
        let (line, column, table) = match e.span() {
            Some(span) => {
                let (l, c) = checker::line_col(text, span.start);
                (Some(l), Some(c), checker::table_at(text, span.start))
            }
            None => (None, None, None),
        };
        // toml's message repeats the location and a source excerpt; keep what is wrong, and
        // say which table it is in (toml does not).
        // Its message may span lines; ours are one line per problem.
        let message = e.message().trim().replace('\n', "; ");
        let message = match table {
            Some(t) => format!("in [{t}]: {message}"),
            None => message,
        };
        SpecError::Parse {
            file: file.to_path_buf(),
            line,
            column,
            message,
        }
    })?;
    validate::validate(file, text, raw).map_err(|problems| SpecError::Invalid {
        file: file.to_path_buf(),
        problems,
    })
}

/// Loads several specs and checks that they can live in one CIB together (no two clusters with
/// one name, no VIP in two clusters, no service in two clusters).
pub fn load_all(files: &[PathBuf]) -> Result<Vec<Spec>, SpecError> {
    let mut specs: Vec<Spec> = Vec::with_capacity(files.len());
    for f in files {
        let spec = load(f)?;
        let mut problems = Vec::new();
        for other in &specs {
            if other.name == spec.name {
                problems.push(Problem {
                    line: None,
                    column: None,
                    key: "name".into(),
                    expected: format!(
                        "a cluster name not already used by {}, not {:?}",
                        other.file.display(),
                        spec.name
                    ),
                });
            }
            if other.service.is_some() && other.service == spec.service {
                problems.push(Problem {
                    line: None,
                    column: None,
                    key: "fwmark/address".into(),
                    expected: format!(
                        "an IPVS service not already used by {} ({}), not {}",
                        other.file.display(),
                        other.name,
                        spec.service.map_or_else(String::new, |s| s.to_string())
                    ),
                });
            }
            for v in &spec.vips {
                if other.vips.iter().any(|o| o.address == v.address) {
                    problems.push(Problem {
                        line: None,
                        column: None,
                        key: "vip.address".into(),
                        expected: format!(
                            "a VIP not already in cluster {} ({}), not {}",
                            other.name,
                            other.file.display(),
                            v.address
                        ),
                    });
                }
            }
        }
        if !problems.is_empty() {
            return Err(SpecError::Invalid {
                file: f.clone(),
                problems,
            });
        }
        specs.push(spec);
    }
    Ok(specs)
}
/// A spec the supervisor can run: validated, with a service (not staged).
#[derive(Clone, Debug)]
pub struct Runnable {
    pub spec: Spec,
    pub key: ServiceKey,
    /// Digest of the bytes the spec was read from.
    pub digest: String,
}

/// Loads the spec of `cluster` from `path` — a TOML spec, or the original big_brother's YAML
/// config whose cluster of that name is converted in memory (`spec::load_cluster`) — and
/// refuses a staged one (no service or no nodes yet).
pub fn load_runnable(path: &Path, cluster: &str) -> Result<Runnable, SpecError> {
    // One bounded read (a regular file, at most the spec size cap): the digest is of exactly
    // the bytes the spec was parsed from.
    let bytes = source::read_bytes(path)?;
    let digest = source::digest(&bytes);
    let spec = load_cluster_from(path, bytes, cluster)?;
    let key = *spec.runnable()?;
    Ok(Runnable { spec, key, digest })
}
