//! The documentation generator behind `examples/gen_docs` (and `tests/packaging.rs`, which
//! includes this directory by path): big_brother(8) and one page per subcommand from the clap
//! definitions, the agents' pages in section 7 from their OCF parameter and action tables, and
//! bash and zsh completions from the clap definitions. Everything is written under one output
//! directory as `man8/`, `man7/` and `completions/`, uncompressed (the packaging compresses).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;
use clap_mangen::roff::{bold, italic, roman, Roff};

use big_brother::cli::Cli;

pub mod agent_page;
pub mod commands;
pub mod sync_page;

/// The operator's command (the `/usr/sbin` link) that the completions complete.
pub const BIN: &str = "big_brother";

/// The version every page names (the crate's, which is also the package's).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The footer's source field, as man-pages(7) suggests: project and version.
pub fn source() -> String {
    format!("big_brother {VERSION}")
}

/// One OCF parameter as a page's synopsis shows it.
pub struct SynopsisParam<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub required: bool,
}

/// What every agent page (section 7) starts with, in resource-agents' order: the header, NAME,
/// SYNOPSIS (each parameter as an assignment, optional ones bracketed, then the actions) and
/// DESCRIPTION. Both agents' pages share it so they cannot drift apart in form.
pub struct AgentHead<'a> {
    pub page_name: &'a str,
    pub agent: &'a str,
    pub shortdesc: &'a str,
    pub longdesc: &'a str,
    pub params: Vec<SynopsisParam<'a>>,
    pub actions: Vec<&'a str>,
}

/// Writes `head` as the first sections of a section-7 page.
pub fn agent_head(r: &mut Roff, date: &str, head: &AgentHead) {
    let title = head.page_name.to_uppercase();
    r.control(
        "TH",
        [
            title.as_str(),
            "7",
            date,
            source().as_str(),
            "OCF resource agents",
        ],
    );
    r.control("SH", ["NAME"]);
    r.text([roman(format!("{} - {}", head.page_name, head.shortdesc))]);

    r.control("SH", ["SYNOPSIS"]);
    let mut synopsis = Vec::new();
    for p in &head.params {
        let assignment = [
            bold(format!("OCF_RESKEY_{}", p.name)),
            roman("="),
            italic(p.kind),
        ];
        if p.required {
            synopsis.extend(assignment);
        } else {
            synopsis.push(roman("["));
            synopsis.extend(assignment);
            synopsis.push(roman("]"));
        }
        synopsis.push(roman(" "));
    }
    synopsis.push(bold(head.agent));
    synopsis.push(roman(format!(" [{}]", head.actions.join(" | "))));
    r.text(synopsis);

    r.control("SH", ["DESCRIPTION"]);
    r.text([roman(head.longdesc)]);
}

/// Writes every page and completion under `out`; returns the files written, sorted.
/// `date` goes into each page's header (empty: none).
pub fn generate(out: &Path, date: &str) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for (name, text) in commands::pages(date)? {
        files.push(write(&out.join("man8"), &name, &text)?);
    }
    for (name, text) in [agent_page::page(date)?, sync_page::page(date)?] {
        files.push(write(&out.join("man7"), &name, &text)?);
    }
    for (shell, name) in [
        (Shell::Bash, BIN.to_string()),
        (Shell::Zsh, format!("_{BIN}")),
    ] {
        let mut text = Vec::new();
        clap_complete::generate(shell, &mut completion_command(), BIN, &mut text);
        files.push(write(&out.join("completions"), &name, &text)?);
    }
    files.sort();
    Ok(files)
}

/// The command line without its hidden subcommands (`supervise`, which `start` runs):
/// clap_complete's bash generator would offer them, and clap cannot remove a subcommand, so the
/// visible ones are moved to a new top-level command (which has no arguments of its own).
fn completion_command() -> clap::Command {
    let full = Cli::command();
    let visible: Vec<clap::Command> = full
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    let mut cmd = clap::Command::new(BIN)
        .version(VERSION)
        .subcommand_required(true)
        .subcommands(visible);
    if let Some(about) = full.get_about() {
        cmd = cmd.about(about.clone());
    }
    cmd
}

fn write(dir: &Path, name: &str, text: &[u8]) -> io::Result<PathBuf> {
    fs::create_dir_all(dir).map_err(|e| with_path(e, dir))?;
    let path = dir.join(name);
    fs::write(&path, text).map_err(|e| with_path(e, &path))?;
    Ok(path)
}

fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}
