//! The `meta-data` XML (OCF 1.1), generated from the parameter table and the action table below,
//! so what the agent parses, defaults and advertises cannot drift apart. The golden copy is
//! `agents/meta-data.xml` (a test keeps it equal to this output).
//!
//! The document declares `ra-api-1.dtd`, the DTD resource-agents ships and `ocf-tester`
//! validates against (`xmllint --valid`). That DTD predates OCF 1.1: it knows neither the
//! `reloadable` / `unique-group` parameter attributes nor the `reload-agent` action, which
//! Pacemaker needs to call `reload-agent` at all (it requires `<version>` ≥ 1.1 plus the action).
//! So the DOCTYPE's internal subset declares exactly those additions; validating parsers read it
//! before the external DTD, and everything else is checked against ra-api-1.dtd unchanged.

use std::fmt::Write;
use std::time::Duration;

use super::action::Action;
use super::params::{Param, PARAMS};

/// The agent's name in meta-data: the file name Pacemaker runs (`ocf:braintree:ocf_big_brother`).
pub const AGENT_NAME: &str = "ocf_big_brother";

/// One advertised action. Timeouts are the talk's ops (start 20s, stop 40s, monitor every 61s
/// with 30s); they are also the timeouts the agent assumes when Pacemaker passes none.
#[derive(Clone, Copy, Debug)]
pub struct ActionMeta {
    pub name: &'static str,
    pub timeout: Duration,
    pub interval: Option<Duration>,
    pub depth: Option<u32>,
}

const fn act(name: &'static str, timeout_s: u64) -> ActionMeta {
    ActionMeta {
        name,
        timeout: Duration::from_secs(timeout_s),
        interval: None,
        depth: None,
    }
}

const fn monitor(interval_s: u64, depth: u32) -> ActionMeta {
    ActionMeta {
        name: "monitor",
        timeout: Duration::from_secs(30),
        interval: Some(Duration::from_secs(interval_s)),
        depth: Some(depth),
    }
}

pub const ACTIONS: &[ActionMeta] = &[
    act("start", 20),
    act("stop", 40),
    // Level 0: lock held and heartbeat fresh. Level 10 also compares the IPVS table with the
    // status file; cheap too, but there is no need to do it every minute.
    monitor(61, 0),
    monitor(301, 10),
    act("reload", 20),
    act("reload-agent", 20),
    act("validate-all", 20),
    act("meta-data", 5),
];

/// The advertised timeout of `action` (the first entry of that name), used when Pacemaker passes
/// no `OCF_RESKEY_CRM_meta_timeout`.
pub fn default_timeout(action: &Action) -> Duration {
    let name = if action.is_monitor() {
        "monitor"
    } else {
        action.as_str()
    };
    ACTIONS
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.timeout)
        .unwrap_or(Duration::from_secs(20))
}

/// The agent's description: meta-data's `<longdesc>` and the DESCRIPTION of its man page.
pub const LONGDESC: &str = "\
Runs one big_brother cluster on this host: an IPVS virtual service whose real servers are \
weighted by their litmus_paper health. start launches a detached supervisor that checks every \
node over HTTP, sets each real server's IPVS weight from its health (ramping new and recovered \
nodes up slowly), and returns once the service is programmed. monitor checks that the \
supervisor is alive and reporting (level 10: that the IPVS table matches what it reports); \
stop removes the service. The cluster is described by a TOML spec file, \
/etc/big_brother/CLUSTER.toml by default; `big_brother crm generate` turns the same file into \
this primitive's Pacemaker group.";

/// meta-data's `<shortdesc>` and the NAME line of the agent's man page.
pub const SHORTDESC: &str = "Health-weighted IPVS service (big_brother)";

/// The full meta-data document.
pub fn xml() -> String {
    let mut s = String::new();
    s.push_str("<?xml version=\"1.0\"?>\n");
    s.push_str("<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\" [\n");
    s.push_str("<!-- OCF 1.1 additions that ra-api-1.dtd predates -->\n");
    s.push_str(
        "<!ATTLIST parameter reloadable (1|0) \"0\" unique-group CDATA #IMPLIED>\n\
         <!ATTLIST action name (start|stop|recover|monitor|restart|migrate_to|migrate_from|\
         promote|demote|notify|status|reload|reload-agent|meta-data|usage|methods|validate-all) \
         #REQUIRED>\n",
    );
    s.push_str("]>\n");
    let _ = writeln!(
        s,
        "<resource-agent name=\"{AGENT_NAME}\" version=\"{}\">",
        env!("CARGO_PKG_VERSION")
    );
    s.push_str("<version>1.1</version>\n\n");
    let _ = writeln!(s, "<longdesc lang=\"en\">\n{}\n</longdesc>", esc(LONGDESC));
    let _ = writeln!(s, "<shortdesc lang=\"en\">{}</shortdesc>\n", esc(SHORTDESC));
    s.push_str("<parameters>\n");
    for p in PARAMS {
        parameter(&mut s, p);
    }
    s.push_str("</parameters>\n\n<actions>\n");
    for a in ACTIONS {
        let _ = write!(
            s,
            "<action name=\"{}\" timeout=\"{}s\"",
            a.name,
            a.timeout.as_secs()
        );
        if let Some(i) = a.interval {
            let _ = write!(s, " interval=\"{}s\"", i.as_secs());
        }
        if let Some(d) = a.depth {
            let _ = write!(s, " depth=\"{d}\"");
        }
        s.push_str(" />\n");
    }
    s.push_str("</actions>\n</resource-agent>\n");
    s
}

fn parameter(s: &mut String, p: &Param) {
    let _ = write!(s, "<parameter name=\"{}\"", p.name);
    if p.required {
        s.push_str(" required=\"1\"");
    }
    if p.unique {
        // `unique` for pre-1.1 tools (crmsh, ra-api-1.dtd), `unique-group` for OCF 1.1.
        let _ = write!(s, " unique=\"1\" unique-group=\"{}\"", p.name);
    }
    if p.reloadable {
        s.push_str(" reloadable=\"1\"");
    }
    s.push_str(">\n");
    let _ = writeln!(
        s,
        "<longdesc lang=\"en\">\n{}\n</longdesc>",
        esc(p.longdesc)
    );
    let _ = writeln!(s, "<shortdesc lang=\"en\">{}</shortdesc>", esc(p.shortdesc));
    let _ = write!(s, "<content type=\"{}\"", p.kind.as_str());
    if let Some(d) = p.default {
        let _ = write!(s, " default=\"{}\"", esc(d));
    }
    s.push_str(" />\n</parameter>\n\n");
}

fn esc(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

#[cfg(test)]
mod tests {
    use quick_xml::events::Event;
    use quick_xml::Reader;

    use super::*;

    #[test]
    fn well_formed_and_lists_every_parameter_and_action() {
        let doc = xml();
        let mut r = Reader::from_str(&doc);
        let mut params = Vec::new();
        let mut actions = Vec::new();
        loop {
            match r.read_event().unwrap() {
                Event::Eof => break,
                Event::Start(e) | Event::Empty(e) => {
                    let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                    let attr = |k: &str| {
                        e.try_get_attribute(k)
                            .unwrap()
                            .map(|a| a.unescape_value().unwrap().into_owned())
                    };
                    match name.as_str() {
                        "parameter" => params.push(attr("name").unwrap()),
                        "action" => actions.push(attr("name").unwrap()),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        assert_eq!(params, ["cluster", "config", "dry_run"]);
        for a in [
            "start",
            "stop",
            "monitor",
            "meta-data",
            "reload-agent",
            "validate-all",
        ] {
            assert!(actions.iter().any(|x| x == a), "{a} advertised");
        }
    }

    #[test]
    fn talks_ops_are_the_defaults() {
        assert_eq!(default_timeout(&Action::Start), Duration::from_secs(20));
        assert_eq!(default_timeout(&Action::Stop), Duration::from_secs(40));
        assert_eq!(default_timeout(&Action::Status), Duration::from_secs(30));
        assert_eq!(default_timeout(&Action::Methods), Duration::from_secs(20));
        assert!(xml().contains("<action name=\"monitor\" timeout=\"30s\" interval=\"61s\""));
    }

    #[test]
    fn monitor_intervals_differ_per_depth() {
        // Pacemaker identifies recurring operations by name and interval.
        let mons: Vec<_> = ACTIONS.iter().filter(|a| a.name == "monitor").collect();
        assert!(mons.len() >= 2);
        for (i, a) in mons.iter().enumerate() {
            assert!(mons[i + 1..].iter().all(|b| b.interval != a.interval));
        }
    }
}
