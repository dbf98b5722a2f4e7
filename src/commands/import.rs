//! `big_brother import [--from big_brother|keepalived] FILE [--out-dir DIR] [--cluster NAME]
//! [--dry-run] [--force]`: the original big_brother's config becomes `DIR/<cluster>.toml`, one
//! spec per cluster; with `--from keepalived`, keepalived.conf becomes one spec per
//! `virtual_server` (`spec::keepalived`), and what it cannot carry is listed on stderr as
//! `FILE:LINE: KEY: not carried: why`.
//!
//! All or nothing: every cluster is converted and validated in memory first, then every
//! existing file is checked, then each spec is written to a temporary file in DIR and synced,
//! and only then renamed into place. A broken legacy file writes nothing at all.
//!
//! Exit codes: 0 done (or nothing to change); 6 the legacy config is broken — not a regular
//! file, over the size cap, not UTF-8, not YAML, or wrong inside (every problem printed with
//! file, line, cluster and key), as `validate` answers for a spec; 2 bad arguments (clap,
//! `--data-dir`, or `--cluster` names no cluster of the file); 1 reading or writing failed (a
//! missing or unreadable file), or a different spec already exists and `--force` was not given.
//!
//! Everything printed that came from the legacy file or a path goes through
//! [`text::for_terminal`]: no control or bidirectional character from the file reaches the
//! terminal.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::code::{finish, Failure};
use crate::exit::OcfCode;
use crate::spec::legacy::{self, Converted, Form};
use crate::spec::model::limits;
use crate::spec::{keepalived, source, SpecError};
use crate::text::{self, for_terminal};

/// Which tool's config `import` reads.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum From {
    /// The original (Ruby) big_brother's YAML.
    #[default]
    #[value(name = "big_brother")]
    BigBrother,
    /// keepalived.conf: one spec per virtual_server.
    Keepalived,
}

/// `big_brother import` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The config file: the original's YAML (its default was /etc/big_brother.conf), or
    /// keepalived.conf with --from keepalived.
    #[arg(value_name = "FILE")]
    pub legacy: PathBuf,
    /// Which tool wrote FILE.
    #[arg(long, value_enum, value_name = "TOOL", default_value_t = From::BigBrother)]
    pub from: From,
    /// Where to write the specs.
    #[arg(long, value_name = "DIR", default_value = crate::spec::defaults::CONFIG_DIR)]
    pub out_dir: PathBuf,
    /// Import only this cluster (for keepalived: the spec name import gives a virtual_server,
    /// e.g. tcp_192.0.2.10_80 or fwmark_7).
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
    /// Print the specs on stdout (the report on stderr) and write nothing.
    #[arg(long, visible_alias = "stdout")]
    pub dry_run: bool,
    /// Replace existing specs that differ from the import.
    #[arg(long)]
    pub force: bool,
    /// The original daemon's --data-dir (where its up/ and down/ override files live), if
    /// it was not /etc/big_brother.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// What happens to one spec file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    New,
    Unchanged,
    Replaced,
}

/// A path as messages show it.
fn shown(p: &Path) -> String {
    for_terminal(&p.display().to_string()).into_owned()
}

/// The import found problems inside the file (it was read already): print them, write nothing.
fn nothing_imported(e: impl std::fmt::Display, source: &Path) -> Failure {
    eprintln!("{e}");
    eprintln!(
        "{}: nothing imported: fix the problems above and run the import again",
        shown(source)
    );
    Failure::Invalid(shown(source))
}

/// `--cluster NAME` names nothing the file holds: say what it does hold.
fn not_in_file(source: &Path, what: &str, name: &str, names: &[String]) -> Failure {
    Failure::Usage(format!(
        "{}: {what} {} (the file has: {})",
        shown(source),
        text::quoted(name, 80),
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    ))
}

/// `--data-dir` becomes the specs' `override_dir`: absolute, UTF-8 (a path shown lossily would
/// name another directory), printable, at most PATH_MAX bytes.
fn data_dir_problem(d: &Path) -> Option<&'static str> {
    match d.to_str() {
        _ if !d.is_absolute() => Some("an absolute directory"),
        None => Some("a directory path in UTF-8"),
        Some(s) if s.len() > limits::MAX_PATH_BYTES => {
            Some("a directory path of at most 4096 bytes")
        }
        Some(s) if text::first_unprintable(s).is_some() => {
            Some("a directory path without control or format characters")
        }
        Some(_) => None,
    }
}

pub fn run(o: &Args) -> OcfCode {
    finish("import", import(o).map(|()| OcfCode::Success))
}

fn import(o: &Args) -> Result<(), Failure> {
    if o.from == From::Keepalived {
        return keepalived(o);
    }
    if let Some(d) = &o.data_dir {
        if let Some(expected) = data_dir_problem(d) {
            return Err(Failure::Usage(format!(
                "--data-dir: expected {expected} (the original daemon's --data-dir), not {}",
                text::quoted(&d.display().to_string(), 80)
            )));
        }
    }
    let text = read_source(&o.legacy, "a big_brother config")?;
    // The header names the source by its full path, so importing from another directory gives
    // the same bytes (and an unchanged file stays unchanged).
    let source = std::fs::canonicalize(&o.legacy).unwrap_or_else(|_| o.legacy.clone());
    let import = match legacy::import_with_data_dir(
        &source,
        &text,
        o.cluster.as_deref(),
        Some(&o.out_dir),
        o.data_dir.as_deref(),
    ) {
        Ok(i) => i,
        Err(e) => return Err(nothing_imported(e, &source)),
    };
    if let (Some(name), true) = (&o.cluster, import.clusters.is_empty()) {
        return Err(not_in_file(
            &source,
            "no cluster named",
            name,
            &import.names,
        ));
    }
    if import.form == Form::ClusterMap {
        eprintln!(
            "{}: note: read the pre-0.8.6 form (one top-level key per cluster)",
            shown(&source)
        );
    }

    if o.dry_run {
        for (i, c) in import.clusters.iter().enumerate() {
            if i > 0 {
                println!();
            }
            print!("{}", c.toml);
            report(&mut std::io::stderr(), c, &spec_path(o, c), "would write");
        }
        return Ok(());
    }

    let files: Vec<(&str, &str)> = import
        .clusters
        .iter()
        .map(|c| (c.name.as_str(), c.toml.as_str()))
        .collect();
    let fates = write_all(o, &files).map_err(Failure::Conflict)?;
    summarize(
        &import.clusters,
        &fates,
        "cluster(s)",
        &source,
        |out, c, verb| report(out, c, &spec_path(o, c), verb),
    );
    Ok(())
}

/// One line per file written (`report` says it, with the fate's verb), then the total.
fn summarize<C>(
    items: &[C],
    fates: &[Fate],
    noun: &str,
    source: &Path,
    mut report: impl FnMut(&mut dyn std::io::Write, &C, &str),
) {
    let mut out = std::io::stdout().lock();
    for (c, fate) in items.iter().zip(fates) {
        let verb = match fate {
            Fate::New => "wrote",
            Fate::Replaced => "replaced",
            Fate::Unchanged => "unchanged",
        };
        report(&mut out, c, verb);
    }
    let count = |f: Fate| fates.iter().filter(|x| **x == f).count();
    let _ = writeln!(
        out,
        "imported {} {noun} from {}: {} written, {} replaced, {} unchanged. Check them with `big_brother validate`.",
        fates.len(),
        shown(source),
        count(Fate::New),
        count(Fate::Replaced),
        count(Fate::Unchanged)
    );
}

fn spec_path(o: &Args, c: &Converted) -> PathBuf {
    legacy::spec_path(&o.out_dir, &c.name)
}

/// Prints what happened to one cluster and what the operator must still do.
fn report(out: &mut dyn std::io::Write, c: &Converted, path: &Path, verb: &str) {
    let _ = writeln!(
        out,
        "{}: {verb} {} (fwmark {}, {} node(s), {})",
        c.name,
        shown(path),
        c.fwmark,
        c.spec.nodes.len(),
        c.spec.backend_mode.as_str()
    );
    for d in &c.dropped {
        let _ = writeln!(
            out,
            "  not carried over: {} ({})",
            for_terminal(&d.key),
            for_terminal(&d.why)
        );
    }
    for n in &c.notes {
        let _ = writeln!(out, "  note: {}", for_terminal(n));
    }
    let _ = writeln!(
        out,
        "  add [[vip]] tables (the original kept VIPs in Pacemaker) before `big_brother crm apply`"
    );
}

/// Checks every target, then writes every spec to a synced temporary file, then renames them
/// all. Returns each cluster's fate, or a message saying what failed and what (if anything)
/// was written.
fn write_all(o: &Args, clusters: &[(&str, &str)]) -> Result<Vec<Fate>, String> {
    let mut fates = Vec::with_capacity(clusters.len());
    let mut conflicts = Vec::new();
    for (name, toml) in clusters {
        let path = legacy::spec_path(&o.out_dir, name);
        // Read as any spec is (a FIFO or device in the way is refused, never waited on).
        match source::read_bytes(&path) {
            Ok(existing) if existing == toml.as_bytes() => fates.push(Fate::Unchanged),
            Ok(_) if o.force => fates.push(Fate::Replaced),
            Ok(_) => {
                conflicts.push(path);
                fates.push(Fate::Replaced);
            }
            Err(SpecError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                fates.push(Fate::New)
            }
            Err(e) => {
                return Err(format!(
                    "cannot use the existing spec: {e} (nothing was written)"
                ))
            }
        }
    }
    if !conflicts.is_empty() {
        let list: Vec<String> = conflicts.iter().map(|p| shown(p)).collect();
        return Err(format!(
            "{}: already exist(s) and differ(s) from the import; compare with `big_brother import --dry-run`, then rerun with --force to replace (nothing was written)",
            list.join(", ")
        ));
    }
    if fates.iter().all(|f| *f == Fate::Unchanged) {
        return Ok(fates);
    }

    std::fs::create_dir_all(&o.out_dir).map_err(|e| {
        format!(
            "{}: cannot create the spec directory: {e} (nothing was written)",
            shown(&o.out_dir)
        )
    })?;
    let mut staged = Vec::new();
    for ((name, toml), fate) in clusters.iter().zip(&fates) {
        if *fate == Fate::Unchanged {
            continue;
        }
        let tmp = stage(&o.out_dir, toml).map_err(|e| {
            format!(
                "{}: cannot write a temporary spec for {name}: {e} (nothing was written)",
                shown(&o.out_dir),
            )
        })?;
        staged.push((tmp, legacy::spec_path(&o.out_dir, name)));
    }
    let mut done: Vec<String> = Vec::new();
    for (tmp, path) in staged {
        if let Err(e) = tmp.persist(&path) {
            return Err(format!(
                "{}: cannot move the new spec into place: {} (already written: {})",
                shown(&path),
                e.error,
                if done.is_empty() {
                    "none".into()
                } else {
                    done.join(", ")
                }
            ));
        }
        done.push(shown(&path));
    }
    // Make the renames themselves durable.
    if let Ok(d) = std::fs::File::open(&o.out_dir) {
        let _ = d.sync_all();
    }
    Ok(fates)
}

/// A synced temporary file holding `text`, readable by all like any config file.
fn stage(dir: &Path, text: &str) -> std::io::Result<tempfile::NamedTempFile> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut tmp = tempfile::Builder::new()
        .prefix(".import-")
        .suffix(".toml.tmp")
        .tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

/// The file to import, as text. Missing or unreadable: as any config named on the command line
/// (6; 4 unreadable). Read, but not a config (a FIFO or device, over the size cap, not UTF-8):
/// "nothing imported", naming what it is not (`kind`).
fn read_source(path: &Path, kind: &str) -> Result<String, Failure> {
    match source::read_text(path) {
        Ok(t) => Ok(t),
        Err(e @ SpecError::Read { .. }) => Err(Failure::Spec(e)),
        Err(e) => {
            eprintln!("{e}");
            eprintln!("{}: nothing imported: not {kind}", shown(path));
            Err(Failure::Invalid(shown(path)))
        }
    }
}

/// `--from keepalived`: as the legacy import (all or nothing, the same exit codes), with what
/// is not carried listed line by line on stderr.
fn keepalived(o: &Args) -> Result<(), Failure> {
    if o.data_dir.is_some() {
        return Err(Failure::Usage(
            "--data-dir: only with --from big_brother (keepalived has no override files)".into(),
        ));
    }
    let text = read_source(&o.legacy, "a keepalived.conf")?;
    let source = std::fs::canonicalize(&o.legacy).unwrap_or_else(|_| o.legacy.clone());
    let import = match keepalived::import(&source, &text, o.cluster.as_deref(), Some(&o.out_dir)) {
        Ok(i) => i,
        Err(e) => return Err(nothing_imported(e, &source)),
    };
    if let (Some(name), true) = (&o.cluster, import.clusters.is_empty()) {
        return Err(not_in_file(
            &source,
            "no virtual_server imports as",
            name,
            &import.names,
        ));
    }
    // What is not carried: the file's, then each service's, in line order, on stderr.
    let mut err = std::io::stderr().lock();
    for d in &import.dropped {
        let _ = writeln!(err, "{}", d.message(&source));
    }
    for c in &import.clusters {
        for d in &c.dropped {
            let _ = writeln!(err, "{}", d.message(&source));
        }
    }
    drop(err);
    if import.clusters.is_empty() {
        eprintln!(
            "{}: no virtual_server to import (nothing written)",
            shown(&source)
        );
        return Ok(());
    }
    if o.dry_run {
        for (i, c) in import.clusters.iter().enumerate() {
            if i > 0 {
                println!();
            }
            print!("{}", c.toml);
            report_keepalived(&mut std::io::stderr(), c, &o.out_dir, "would write");
        }
        return Ok(());
    }
    let files: Vec<(&str, &str)> = import
        .clusters
        .iter()
        .map(|c| (c.name.as_str(), c.toml.as_str()))
        .collect();
    let fates = write_all(o, &files).map_err(Failure::Conflict)?;
    summarize(
        &import.clusters,
        &fates,
        "virtual_server(s)",
        &source,
        |out, c, verb| report_keepalived(out, c, &o.out_dir, verb),
    );
    Ok(())
}

fn report_keepalived(
    out: &mut dyn std::io::Write,
    c: &keepalived::Converted,
    dir: &Path,
    verb: &str,
) {
    let _ = writeln!(
        out,
        "{}: {verb} {} ({}, {} node(s), forward {})",
        c.name,
        shown(&keepalived::spec_path(dir, &c.name)),
        for_terminal(&c.origin),
        c.nodes,
        c.forward
    );
    for n in &c.notes {
        let _ = writeln!(out, "  note: {}", for_terminal(n));
    }
    let _ = writeln!(
        out,
        "  add [[vip]] tables (keepalived kept VIPs in vrrp_instance blocks) before `big_brother crm apply`"
    );
}
