//! big_brother(8) and one page per visible subcommand (`big_brother-crm-apply(8)`, as git and
//! cargo do), rendered by clap_mangen from `big_brother::cli`. The top page adds what clap does
//! not know: FILES, ENVIRONMENT, EXIT STATUS and SEE ALSO; every subcommand page points back to
//! its parent and on to its own subcommands.

use std::io;

use clap::{Command, CommandFactory};
use clap_mangen::roff::{bold, italic, roman, Inline, Roff};
use clap_mangen::Man;

use big_brother::cli::Cli;
use big_brother::spec::defaults::CONFIG_DIR;
use big_brother::state::drain::DATA_DIR;
use big_brother::state::DEFAULT_RSCTMP;

use super::agent_page;

/// Section 8: system administration commands (the binary is in /usr/sbin).
const SECTION: &str = "8";

/// `(file name, roff)` of big_brother(8) and of every visible subcommand's page, top first.
pub fn pages(date: &str) -> io::Result<Vec<(String, Vec<u8>)>> {
    // As clap_mangen::generate_to: `help` is clap's, not ours, and gets no page.
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut pages = vec![top_page(&cmd, date)?];
    for sub in visible(&cmd) {
        sub_pages(sub, &page_name(&cmd), date, &mut pages)?;
    }
    Ok(pages)
}

fn man(cmd: &Command, date: &str) -> Man {
    Man::new(cmd.clone())
        .section(SECTION)
        .date(date)
        .source(super::source())
        .manual("big_brother")
}

/// `big_brother-crm-apply` for `big_brother crm apply` (clap's display name after `build`).
fn page_name(cmd: &Command) -> String {
    cmd.get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_string()
}

fn visible(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands().filter(|s| !s.is_hide_set())
}

fn top_page(cmd: &Command, date: &str) -> io::Result<(String, Vec<u8>)> {
    let m = man(cmd, date);
    let mut w = Vec::new();
    m.render_title(&mut w)?;
    m.render_name_section(&mut w)?;
    m.render_synopsis_section(&mut w)?;
    m.render_description_section(&mut w)?;
    m.render_options_section(&mut w)?;
    m.render_subcommands_section(&mut w)?;
    top_sections(cmd).to_writer(&mut w)?;
    m.render_version_section(&mut w)?;
    Ok((m.get_filename(), w))
}

fn sub_pages(
    cmd: &Command,
    parent: &str,
    date: &str,
    pages: &mut Vec<(String, Vec<u8>)>,
) -> io::Result<()> {
    let m = man(cmd, date);
    let mut w = Vec::new();
    m.render(&mut w)?;
    let mut see = vec![parent.to_string()];
    see.extend(visible(cmd).map(page_name));
    let mut r = Roff::new();
    r.control("SH", ["SEE ALSO"]);
    r.text(references(see.iter().map(|p| (p.as_str(), SECTION))));
    r.to_writer(&mut w)?;
    pages.push((m.get_filename(), w));
    for sub in visible(cmd) {
        sub_pages(sub, &page_name(cmd), date, pages)?;
    }
    Ok(())
}

/// `name(8), other(7)` as man pages write cross references: bold name, roman section.
fn references<'a>(refs: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<Inline> {
    let mut out = Vec::new();
    for (i, (name, section)) in refs.enumerate() {
        if i > 0 {
            out.push(roman(", "));
        }
        out.push(bold(name));
        out.push(roman(format!("({section})")));
    }
    out
}

/// A `.TP` entry: a bold term, then its explanation.
fn entry(r: &mut Roff, term: Vec<Inline>, text: &str) {
    r.control("TP", []);
    r.text(term);
    r.text([roman(text)]);
}

fn top_sections(cmd: &Command) -> Roff {
    let mut r = Roff::new();
    let agent = format!("/usr/lib/ocf/resource.d/braintree/{}", agent_page::AGENT);

    r.control("SH", ["AGENT MODE"]);
    r.text([
        roman("Pacemaker runs the binary as the OCF resource agent "),
        bold("ocf:braintree:ocf_big_brother"),
        roman(" (the file "),
        italic(agent.as_str()),
        roman(
            "). Called by that name, or with an OCF action as its first argument (start, stop, \
             monitor, reload, reload-agent, validate-all, meta-data, methods, usage), it reads \
             its parameters from OCF_RESKEY_* variables and exits with an OCF code; see ",
        ),
        bold(agent_page::PAGE_NAME),
        roman("(7). "),
        bold("big_brother status"),
        roman(" is the operator's status command unless OCF_RESOURCE_INSTANCE is set."),
    ]);

    r.control("SH", ["FILES"]);
    entry(
        &mut r,
        vec![italic(agent.as_str())],
        "The agent; /usr/sbin/big_brother is a link to it. An upgrade replaces it by rename, so \
         a running supervisor keeps its executable until its resource restarts.",
    );
    entry(
        &mut r,
        vec![italic(format!("{CONFIG_DIR}/NAME.toml"))],
        "The spec of cluster NAME: its IPVS service, VIPs and nodes (the agent's default \
         `config`). Check one with big_brother validate.",
    );
    entry(
        &mut r,
        vec![italic(format!(
            "{CONFIG_DIR}/up/NAME, {CONFIG_DIR}/down/NAME"
        ))],
        "Override files: while one exists, every node of cluster NAME serves at full weight \
         (up) or at weight 0 (down); up wins. A spec's override_dir moves them. They concern \
         this director only; big_brother override sets one in the Pacemaker CIB for every \
         director (up wins there too).",
    );
    entry(
        &mut r,
        vec![italic(format!("{DEFAULT_RSCTMP}/big_brother/NAME/"))],
        "The running cluster's state directory under $HA_RSCTMP (cleared at boot): lock (held \
         by the supervisor, with its pid), status.json (its heartbeat and every node's health, \
         weight and state), dryrun-ipvs.json in shadow mode.",
    );
    entry(
        &mut r,
        vec![italic(format!("{DATA_DIR}/NAME/drain"))],
        "Nodes drained with big_brother drain; kept across restarts and reboots until undrain \
         (removed when the package is purged).",
    );

    r.control("SH", ["ENVIRONMENT"]);
    entry(
        &mut r,
        vec![bold("HA_RSCTMP")],
        "Resource agents' state directory (default /run/resource-agents), read by status and \
         api as by the agent.",
    );
    entry(
        &mut r,
        vec![bold("BIG_BROTHER_DATA_DIR")],
        "Where drains are kept (default /var/lib/big_brother).",
    );
    entry(
        &mut r,
        vec![bold("CIB_file")],
        "Makes the crm subcommands, drain, undrain and override work on a CIB file instead of \
         the live cluster, as every Pacemaker tool does.",
    );
    entry(
        &mut r,
        vec![
            bold("HA_LOGFILE"),
            roman(", "),
            bold("HA_LOGFACILITY"),
            roman(", "),
            bold("HA_debug"),
        ],
        "Logging of the agent and the supervisor, as Pacemaker sets them for every agent \
         (syslog facility daemon by default).",
    );

    r.control("SH", ["EXIT STATUS"]);
    r.text([roman(
        "Every face exits with an OCF code, so an operator and Pacemaker read failures alike: \
         0 success; 1 a generic failure (for crm check: out of sync; for status: a stuck \
         supervisor); 2 bad arguments or a Pacemaker tool failed; 3 unimplemented action; 4 \
         insufficient privileges; 5 something needed is not installed; 6 the spec or the \
         parameters are wrong; 7 not running. Each subcommand's page says which it uses.",
    )]);

    r.control("SH", ["SEE ALSO"]);
    let subs: Vec<String> = visible(cmd).map(page_name).collect();
    let mut refs: Vec<(&str, &str)> = subs.iter().map(|s| (s.as_str(), SECTION)).collect();
    refs.push((agent_page::PAGE_NAME, "7"));
    refs.extend([
        ("crm", "8"),
        ("pcs", "8"),
        ("crm_resource", "8"),
        ("cibadmin", "8"),
        ("ipvsadm", "8"),
    ]);
    r.text(references(refs.into_iter()));
    r.control("PP", []);
    r.text([roman(
        "The README, with the spec's keys, the Puppet define and troubleshooting: \
         /usr/share/doc/big-brother/README.md.gz.",
    )]);
    r
}
