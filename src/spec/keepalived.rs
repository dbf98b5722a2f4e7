//! keepalived.conf (keepalived 1.x/2.x, `/etc/keepalived/keepalived.conf`) converted to our
//! specs: one [`Converted`] cluster per `virtual_server` block, with the TOML text to write and
//! every key that could not be carried over, by line.
//!
//! `parse` reads the syntax (no crate does; see ARCHITECTURE "Decisions"); `convert` maps one
//! `virtual_server` to a spec's keys (`check = "http"|"tcp"|"exec"` for HTTP_GET/SSL_GET,
//! TCP_CHECK and MISC_CHECK); `render` writes the text. [`convert`] does no validation, so its
//! text can be compared byte for byte; [`import`] also runs every text through [`super::parse`]
//! and refuses the file when any spec would be refused. Nothing here touches the disk.

mod convert;
mod parse;
mod render;

use std::path::{Path, PathBuf};

use super::{Problem, SpecError};
use crate::text::quoted;

pub use parse::{MAX_DEPTH, MAX_STATEMENTS, MAX_TOKEN_BYTES};

/// Most `virtual_server` blocks one file may hold: each becomes a spec file (as legacy's cap).
pub const MAX_SERVICES: usize = super::legacy::MAX_CLUSTERS;

/// Something in keepalived.conf that big_brother does not carry, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dropped {
    pub line: usize,
    /// The keyword as it is written (`digest`, `vrrp_instance VI_1`).
    pub key: String,
    pub why: String,
}

impl Dropped {
    /// `FILE:LINE: KEY: not carried: why`, terminal-safe.
    pub fn message(&self, file: &Path) -> String {
        crate::text::for_terminal(&format!(
            "{}:{}: {}: not carried: {}",
            file.display(),
            self.line,
            self.key,
            self.why
        ))
        .into_owned()
    }
}

/// One `virtual_server`, converted.
#[derive(Clone, Debug)]
pub struct Converted {
    /// The spec's `name`, derived from the service: `tcp_192.0.2.10_80`, `fwmark_7`.
    pub name: String,
    /// What it was in keepalived.conf (`virtual_server 192.0.2.10 80`).
    pub origin: String,
    pub nodes: usize,
    /// `ipip`, `dr` or `nat`.
    pub forward: &'static str,
    pub toml: String,
    /// Keys inside this block not carried over (also in the header of `toml`).
    pub dropped: Vec<Dropped>,
    /// Carried with a change an operator should know about.
    pub notes: Vec<String>,
}

/// The result of reading one keepalived.conf.
#[derive(Clone, Debug)]
pub struct Import {
    /// Every spec name the file's `virtual_server` blocks give, in file order.
    pub names: Vec<String>,
    /// The converted services (all, or the one asked for).
    pub clusters: Vec<Converted>,
    /// Top-level blocks and keys not carried (global_defs, vrrp_*, virtual_server_group …).
    pub dropped: Vec<Dropped>,
}

fn invalid(file: &Path, problems: Vec<Problem>) -> SpecError {
    SpecError::Invalid {
        file: file.to_path_buf(),
        problems,
    }
}

/// Converts keepalived.conf `text` (read from `file`, named in headers) to spec texts, without
/// validating them. `only`: just the spec of that name (the result has none when no
/// `virtual_server` gives it; [`Import::names`] says which do). Every problem at once.
pub fn convert(file: &Path, text: &str, only: Option<&str>) -> Result<Import, SpecError> {
    let stmts = parse::parse(text).map_err(|e| SpecError::Parse {
        file: file.to_path_buf(),
        line: Some(e.line),
        column: Some(e.column),
        message: if e.key.is_empty() {
            format!("not keepalived.conf: expected {}", e.expected)
        } else {
            format!(
                "{}: not keepalived.conf: expected {}",
                quoted(&e.key, 40),
                e.expected
            )
        },
    })?;
    let out = convert::file(file, &stmts, only);
    if out.problems.is_empty() {
        Ok(out.import)
    } else {
        let mut problems = out.problems;
        problems.sort_by_key(|p| (p.line.is_none(), p.line, p.column));
        Err(invalid(file, problems))
    }
}

/// [`convert`], then every spec text validated as `big_brother validate` would (as if written
/// to `out_dir/<name>.toml`, or named after `file` when `None`): all or nothing.
pub fn import(
    file: &Path,
    text: &str,
    only: Option<&str>,
    out_dir: Option<&Path>,
) -> Result<Import, SpecError> {
    let import = convert(file, text, only)?;
    let mut problems = Vec::new();
    for c in &import.clusters {
        let spec_file = out_dir.map_or_else(|| file.to_path_buf(), |d| spec_path(d, &c.name));
        if let Err(e) = super::parse(&spec_file, &c.toml) {
            problems.push(Problem {
                line: None,
                column: None,
                key: format!("{} ({})", c.origin, c.name),
                expected: format!(
                    "a service the spec rules accept; the converted spec was refused: {}",
                    e.to_string().replace('\n', "; ")
                ),
            });
        }
    }
    if problems.is_empty() {
        Ok(import)
    } else {
        Err(invalid(file, problems))
    }
}

/// Where `import` puts the spec `name` under `dir` (as the legacy import does).
pub fn spec_path(dir: &Path, name: &str) -> PathBuf {
    super::legacy::spec_path(dir, name)
}

#[cfg(test)]
mod tests;
