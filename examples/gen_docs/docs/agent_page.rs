//! The agent's page in section 7, named as resource-agents and Pacemaker name theirs
//! (`ocf_<provider>_<agent>.7`: `ocf_heartbeat_IPaddr2.7`, `ocf_pacemaker_controld.7`), with
//! their sections: NAME, SYNOPSIS, DESCRIPTION, SUPPORTED PARAMETERS, SUPPORTED ACTIONS, EXAMPLE
//! CRM SHELL, EXAMPLE PCS. Parameters and actions come from the tables the agent itself parses
//! its environment with and prints as meta-data (`ocf::params::PARAMS`, `ocf::metadata::ACTIONS`),
//! so the page cannot disagree with `crm ra info` or `pcs resource describe`.

use std::io;

use clap_mangen::roff::{bold, roman, Inline, Roff};

use big_brother::exit::OcfCode;
use big_brother::ocf::metadata::{ActionMeta, ACTIONS, AGENT_NAME, LONGDESC, SHORTDESC};
use big_brother::ocf::params::{Param, PARAMS};

/// The agent's file name (Pacemaker's `type`).
pub const AGENT: &str = AGENT_NAME;
/// The provider directory the package installs the agent under.
pub const PROVIDER: &str = "braintree";
/// `ocf_braintree_ocf_big_brother`: the page's name (the package links `ocf_big_brother.7` to it).
pub const PAGE_NAME: &str = "ocf_braintree_ocf_big_brother";

/// `(file name, roff)` of the page.
pub fn page(date: &str) -> io::Result<(String, Vec<u8>)> {
    let mut r = Roff::new();
    let head = super::AgentHead {
        page_name: PAGE_NAME,
        agent: AGENT,
        shortdesc: SHORTDESC,
        longdesc: LONGDESC,
        params: PARAMS
            .iter()
            .map(|p| super::SynopsisParam {
                name: p.name,
                kind: p.kind.as_str(),
                required: p.required,
            })
            .collect(),
        actions: action_names(),
    };
    super::agent_head(&mut r, date, &head);

    r.control("SH", ["SUPPORTED PARAMETERS"]);
    for p in PARAMS {
        r.control("TP", []);
        r.text([bold(p.name)]);
        r.text([roman(p.longdesc)]);
        r.control("IP", []);
        r.text([roman(format!("({})", qualifiers(p)))]);
    }

    r.control("SH", ["SUPPORTED ACTIONS"]);
    r.text([roman(
        "This resource agent supports the following actions (operations); the timeouts and \
         intervals are the advertised defaults:",
    )]);
    let mut described: Vec<&str> = Vec::new();
    for a in ACTIONS {
        // A second monitor (another depth) gets its timing only.
        let text = if described.contains(&a.name) {
            "As above.".to_string()
        } else {
            described.push(a.name);
            action_text(a.name)?.to_string()
        };
        r.control("TP", []);
        r.text([bold(a.name)]);
        r.text([roman(format!("{text} {}", timing(a)))]);
    }

    r.control("SH", ["EXIT STATUS"]);
    r.text([roman(
        "OCF exit codes; an error also prints one ocf-exit-reason: line, which Pacemaker shows \
         in crm_mon.",
    )]);
    for code in (0..=u8::MAX).map_while(OcfCode::from_u8) {
        r.control("TP", []);
        r.text([bold(code.as_u8().to_string())]);
        r.text([roman(code_text(code))]);
    }

    r.control("SH", ["EXAMPLE CRM SHELL"]);
    r.text([roman(
        "The following is an example configuration for this resource agent using the crm(8) \
         shell; `big_brother crm generate` writes the cluster's whole group (this primitive \
         and one IPaddr2 per VIP) from its spec:",
    )]);
    example(&mut r, &crm_example());

    r.control("SH", ["EXAMPLE PCS"]);
    r.text([roman(
        "The following is an example configuration for this resource agent using pcs(8):",
    )]);
    example(&mut r, &pcs_example());

    r.control("SH", ["SEE ALSO"]);
    r.text([
        bold("big_brother"),
        roman("(8), "),
        bold("big_brother-crm"),
        roman("(8), "),
        bold("crm"),
        roman("(8), "),
        bold("pcs"),
        roman("(8), "),
        bold("ocf_heartbeat_IPaddr2"),
        roman("(7)"),
    ]);

    let mut w = Vec::new();
    r.to_writer(&mut w)?;
    Ok((format!("{PAGE_NAME}.7"), w))
}

/// Each action name once, in table order (monitor is listed once per depth).
fn action_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = Vec::new();
    for a in ACTIONS {
        if !names.contains(&a.name) {
            names.push(a.name);
        }
    }
    names
}

/// `required, unique, reloadable, string, no default` — resource-agents' order and words.
fn qualifiers(p: &Param) -> String {
    let mut q = Vec::new();
    if p.unique {
        q.push("unique".to_string());
    }
    if p.required {
        q.push("required".to_string());
    } else {
        q.push("optional".to_string());
    }
    if p.reloadable {
        q.push("reloadable".to_string());
    }
    q.push(p.kind.as_str().to_string());
    q.push(match p.default {
        Some(d) => format!("default {d}"),
        None => "no default".to_string(),
    });
    q.join(", ")
}

/// What each advertised action does here. An action added to `ACTIONS` without a description
/// makes the generator fail, so the page never silently lacks one.
fn action_text(name: &str) -> io::Result<&'static str> {
    Ok(match name {
        "start" => {
            "Validates the parameters and the spec, launches the supervisor and returns once it \
             has programmed the IPVS service and its destinations after a first round of health \
             checks. Starting a running cluster succeeds."
        }
        "stop" => {
            "Stops the supervisor (SIGTERM, then SIGKILL inside the timeout) and makes sure the \
             IPVS service is gone. Stopping a stopped cluster succeeds."
        }
        "monitor" => {
            "0 while the supervisor holds its lock and its heartbeat is fresh, 7 when nothing \
             runs, 1 when it is stuck, cannot program IPVS, or is gone while its service is \
             still in the kernel. OCF_CHECK_LEVEL=10 also compares the kernel's service and \
             destinations with what the supervisor reports."
        }
        "reload" => {
            "Validates the edited spec and has the running supervisor apply it in place (same \
             service, connections kept); a spec that does not validate is refused with 6 and \
             the old one keeps running."
        }
        "reload-agent" => {
            "What Pacemaker calls when the reloadable parameter config changes: as reload, with \
             the new file."
        }
        "validate-all" => {
            "Checks the parameters and the spec (OCF_CHECK_LEVEL=10: also that this host can \
             program IPVS)."
        }
        "meta-data" => "Prints the agent's meta-data XML; needs no privileges.",
        other => {
            return Err(io::Error::other(format!(
                "action {other:?} is advertised in ocf::metadata::ACTIONS but has no \
                 description in examples/gen_docs/docs/agent_page.rs"
            )))
        }
    })
}

fn timing(a: &ActionMeta) -> String {
    let mut s = format!("Timeout {}s", a.timeout.as_secs());
    if let Some(i) = a.interval {
        s.push_str(&format!(", interval {}s", i.as_secs()));
    }
    if let Some(d) = a.depth {
        s.push_str(&format!(", depth {d}"));
    }
    s.push('.');
    s
}

/// The meaning of each code for this agent; exhaustive, so a new code needs its sentence.
fn code_text(code: OcfCode) -> &'static str {
    match code {
        OcfCode::Success => "Success; for monitor: running.",
        OcfCode::ErrGeneric => {
            "Generic failure, e.g. a stuck supervisor or a service that could not be removed."
        }
        OcfCode::ErrArgs => "Wrong or missing arguments.",
        OcfCode::ErrUnimplemented => "Unknown or unsupported action.",
        OcfCode::ErrPerm => "Insufficient privileges (no CAP_NET_ADMIN in the host's namespace).",
        OcfCode::ErrInstalled => {
            "Something needed is missing on this node: the spec file, or IPVS in the kernel."
        }
        OcfCode::ErrConfigured => "The parameters or the spec are wrong, or the cluster is staged.",
        OcfCode::NotRunning => "The cluster is cleanly stopped.",
    }
}

/// Parameter values for the examples: required parameters get the talk's cluster name.
fn example_params() -> Vec<String> {
    PARAMS
        .iter()
        .filter(|p| p.required)
        .map(|p| format!("{}=webapp", p.name))
        .collect()
}

/// The operations every example configures: start, stop and each monitor.
fn example_ops() -> impl Iterator<Item = &'static ActionMeta> {
    ACTIONS
        .iter()
        .filter(|a| matches!(a.name, "start" | "stop" | "monitor"))
}

fn op_args(a: &ActionMeta) -> String {
    let mut s = format!("timeout={}s", a.timeout.as_secs());
    s.push_str(&format!(
        " interval={}s",
        a.interval.map_or(0, |i| i.as_secs())
    ));
    if let Some(d) = a.depth.filter(|d| *d > 0) {
        s.push_str(&format!(" OCF_CHECK_LEVEL={d}"));
    }
    s
}

fn crm_example() -> Vec<String> {
    let mut lines = vec![format!("primitive ipvs_webapp ocf:{PROVIDER}:{AGENT} \\")];
    lines.push(format!("  params {} \\", example_params().join(" ")));
    let ops: Vec<_> = example_ops().collect();
    for (i, a) in ops.iter().enumerate() {
        let more = if i + 1 < ops.len() { " \\" } else { "" };
        lines.push(format!("  op {} {}{more}", a.name, op_args(a)));
    }
    lines
}

fn pcs_example() -> Vec<String> {
    let mut lines = vec![format!(
        "pcs resource create ipvs_webapp ocf:{PROVIDER}:{AGENT} {} \\",
        example_params().join(" ")
    )];
    let ops: Vec<_> = example_ops().collect();
    for (i, a) in ops.iter().enumerate() {
        let lead = if i == 0 { "op " } else { "   " };
        let more = if i + 1 < ops.len() { " \\" } else { "" };
        lines.push(format!("  {lead}{} {}{more}", a.name, op_args(a)));
    }
    lines
}

/// A literal block: no filling, no adjusting.
pub fn example(r: &mut Roff, lines: &[String]) {
    r.control("PP", []);
    r.control("nf", []);
    r.control("RS", ["4"]);
    for l in lines {
        let inline: Inline = roman(l.as_str());
        r.text([inline]);
    }
    r.control("RE", []);
    r.control("fi", []);
}
