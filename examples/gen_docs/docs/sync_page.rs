//! The connection-sync agent's page in section 7, `ocf_braintree_ipvs_sync.7`, from the tables
//! its meta-data is printed from (`ocf::sync::metadata::{PARAMS, ACTIONS}`), in the same sections
//! as the cluster agent's page.

use std::io;

use clap_mangen::roff::{bold, roman, Roff};

use big_brother::ocf::sync::metadata::{ACTIONS, AGENT_NAME, LONGDESC, PARAMS, SHORTDESC};

use super::agent_page::{example, PROVIDER};

/// `ocf_braintree_ipvs_sync`: the page's name (the package links `ipvs_sync.7` to it).
pub const PAGE_NAME: &str = "ocf_braintree_ipvs_sync";

/// `(file name, roff)` of the page.
pub fn page(date: &str) -> io::Result<(String, Vec<u8>)> {
    let mut r = Roff::new();
    let head = super::AgentHead {
        page_name: PAGE_NAME,
        agent: AGENT_NAME,
        shortdesc: SHORTDESC,
        longdesc: LONGDESC,
        params: PARAMS
            .iter()
            .map(|p| super::SynopsisParam {
                name: p.name,
                kind: p.kind,
                required: p.required,
            })
            .collect(),
        actions: ACTIONS.iter().map(|a| a.0).collect(),
    };
    super::agent_head(&mut r, date, &head);

    r.control("SH", ["SUPPORTED PARAMETERS"]);
    for p in PARAMS {
        r.control("TP", []);
        r.text([bold(p.name)]);
        r.text([roman(p.longdesc)]);
        r.control("IP", []);
        let req = if p.required { "required" } else { "optional" };
        r.text([roman(format!("({req}, {}, no default)", p.kind))]);
    }

    r.control("SH", ["SUPPORTED ACTIONS"]);
    for (name, timeout, interval) in ACTIONS {
        let text = action_text(name)?;
        let timing = match interval {
            Some(i) => format!("(timeout={timeout}s interval={i}s)"),
            None => format!("(timeout={timeout}s)"),
        };
        r.control("TP", []);
        r.text([bold(*name)]);
        r.text([roman(format!("{text} {timing}"))]);
    }

    r.control("SH", ["EXAMPLE CRM SHELL"]);
    r.text([roman(
        "A clone on every director, started before the big_brother groups (`big_brother crm \
         generate --format cib --sync-interface IF --sync-id N --ipvs-timeouts 0,0,60 \
         --expire-quiescent-template 1` writes the same):",
    )]);
    example(
        &mut r,
        &[
            format!("primitive ipvs_sync ocf:{PROVIDER}:{AGENT_NAME} \\"),
            "  params interface=eth1 sync_id=42 udp_timeout=60 expire_quiescent_template=1 \\"
                .into(),
            "  op monitor interval=30s timeout=20s".into(),
            "clone ipvs_sync_clone ipvs_sync".into(),
            "order order_ipvs_sync_clone_webapp_group Optional: ipvs_sync_clone webapp_group"
                .into(),
        ],
    );
    r.control("SH", ["EXAMPLE PCS"]);
    example(
        &mut r,
        &[
            format!(
                "pcs resource create ipvs_sync ocf:{PROVIDER}:{AGENT_NAME} interface=eth1 sync_id=42 \
                 udp_timeout=60 expire_quiescent_template=1 clone"
            ),
            "pcs constraint order start ipvs_sync-clone then start webapp_group kind=Optional"
                .into(),
        ],
    );

    r.control("SH", ["SEE ALSO"]);
    r.text([
        bold("ocf_braintree_ocf_big_brother"),
        roman("(7), "),
        bold("big_brother-crm-generate"),
        roman("(8), "),
        bold("ipvsadm"),
        roman("(8)"),
    ]);
    let mut w = Vec::new();
    r.to_writer(&mut w)?;
    Ok((format!("{PAGE_NAME}.7"), w))
}

/// What each advertised action does; an action without a text makes the generator fail.
fn action_text(name: &str) -> io::Result<&'static str> {
    Ok(match name {
        "start" => {
            "Starts whatever of the master and backup daemons is missing, with the configured \
             values. Fails (1) without changing anything when a daemon someone else started with \
             other values runs; 5 when the interface does not exist or has no IPv4 address. \
             Then saves the original of each configured host setting and sets it; 6 names a \
             parameter with a value out of range."
        }
        "stop" => {
            "Stops this resource's daemons; a daemon with other values is left running (and \
             logged). Restores each host setting start changed, unless someone else changed \
             it since (then it is left and logged). Stopping a stopped resource succeeds."
        }
        "monitor" => {
            "0 when both daemons run with the configured values, 7 when neither does, 1 when \
             only one of them does, or when a configured host setting has another value (so \
             that Pacemaker restarts the resource, which sets it again)."
        }
        "validate-all" => "Checks the parameters as the kernel would.",
        "meta-data" => "Prints the agent's meta-data XML.",
        other => {
            return Err(io::Error::other(format!(
                "action {other} has no description"
            )))
        }
    })
}
