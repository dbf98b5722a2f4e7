//! The sync agent's `meta-data` XML. The golden copy is `agents/ipvs_sync-meta-data.xml` (a
//! test keeps them equal). No parameter is reloadable: the kernel cannot change a running sync
//! daemon, so a changed value means stop and start (Pacemaker's default for a changed parameter;
//! for a host setting that restores the original, then sets the new value).

use super::params;
use crate::ipvs::Setting;

/// The file name Pacemaker runs: `ocf:braintree:ipvs_sync`.
pub const AGENT_NAME: &str = "ipvs_sync";

/// The agent's description: `<longdesc>` and the man page's DESCRIPTION.
pub const LONGDESC: &str = "\
Runs the kernel's IPVS connection synchronization on this host: a master sync daemon that \
multicasts the connections this director handles, and a backup sync daemon that receives the \
other directors' connections, so that a director taking over a VIP keeps its established \
connections. The kernel runs at most one master and one backup per network namespace, shared by \
every IPVS service on the host: run this resource as a clone on every director, and order the \
big_brother groups after it. start creates both daemons over generic netlink (no ipvsadm); \
monitor checks that both run with the configured values; stop removes exactly this resource's \
daemons. A daemon someone else started with other values is never adopted or stopped: start \
fails naming it. The kernel holds the daemons. Optionally, host-wide IPVS settings go with \
the resource: the connection timeouts (tcp_timeout, tcpfin_timeout, udp_timeout, as ipvsadm \
--set) and the sysctls net.ipv4.vs.expire_nodest_conn, expire_quiescent_template and \
sloppy_tcp. start saves each one's original value (in $HA_RSCTMP/big_brother_ipvs_sync/) and \
sets it; monitor fails (1, so that Pacemaker restarts the resource and start sets it again) \
when one of them has another value than configured; stop restores an original only where the \
host still has the value start set, and leaves (and logs) a value someone else changed since. \
Unset parameters leave the host's values alone.";

/// One advertised parameter (the man page reads the same table).
#[derive(Clone, Copy, Debug)]
pub struct ParamMeta {
    pub name: &'static str,
    pub required: bool,
    /// OCF content type: `string` or `integer`.
    pub kind: &'static str,
    pub shortdesc: &'static str,
    pub longdesc: &'static str,
}

const fn param(
    name: &'static str,
    required: bool,
    kind: &'static str,
    shortdesc: &'static str,
    longdesc: &'static str,
) -> ParamMeta {
    ParamMeta {
        name,
        required,
        kind,
        shortdesc,
        longdesc,
    }
}

pub const PARAMS: &[ParamMeta] = &[
    param(
        params::INTERFACE,
        true,
        "string",
        "Interface of the sync traffic",
        "Network interface the master sends its multicast sync messages through and the backup \
         listens on (at most 15 bytes). The master needs an IPv4 address on it.",
    ),
    param(
        params::SYNC_ID,
        true,
        "integer",
        "Sync id (0 to 255)",
        "Id written into every sync message by the master; the backup accepts only messages of \
         this id (a backup with id 0 accepts all). Give every load-balancer pair on a link its \
         own id.",
    ),
    param(
        params::MCAST_GROUP,
        false,
        "string",
        "Multicast group (IPv4 or IPv6)",
        "Multicast group of the sync messages, IPv4 or IPv6. Unset: the kernel's default \
         224.0.0.81.",
    ),
    param(
        params::MCAST_PORT,
        false,
        "integer",
        "UDP port",
        "UDP port of the sync messages. Unset: the kernel's default 8848.",
    ),
    param(
        params::MCAST_TTL,
        false,
        "integer",
        "Multicast TTL",
        "TTL / hop limit of the sync messages (1 to 255). Unset: the kernel's default 1 (the \
         messages stay on the link).",
    ),
    param(
        params::SYNC_MAXLEN,
        false,
        "integer",
        "Largest sync message payload",
        "Largest payload of a sync message in bytes (a backup needs at least 1024). Unset: \
         derived by the kernel from the MTU.",
    ),
    param(
        Setting::TcpTimeout.param(),
        false,
        "integer",
        "IPVS TCP timeout (seconds)",
        "How long an idle established TCP connection keeps its IPVS entry (and so its real \
         server), in seconds, host-wide (ipvsadm --set's first value). 0 or unset: leave the \
         kernel's value (Linux starts with 900).",
    ),
    param(
        Setting::TcpFinTimeout.param(),
        false,
        "integer",
        "IPVS TCP FIN timeout (seconds)",
        "How long a TCP connection keeps its IPVS entry after the client's FIN, in seconds, \
         host-wide (ipvsadm --set's second value). 0 or unset: leave the kernel's value (Linux \
         starts with 120).",
    ),
    param(
        Setting::UdpTimeout.param(),
        false,
        "integer",
        "IPVS UDP timeout (seconds)",
        "How long an idle UDP flow keeps its IPVS entry, in seconds, host-wide (ipvsadm --set's \
         third value). 0 or unset: leave the kernel's value (Linux starts with 300).",
    ),
    param(
        Setting::ExpireNodestConn.param(),
        false,
        "integer",
        "net.ipv4.vs.expire_nodest_conn (0 or 1)",
        "1: a packet for a connection whose real server was deleted expires the connection at \
         once (the client sees a reset and reconnects to a live server); 0: such packets are \
         dropped until the entry times out. Matters only for deleted real servers: big_brother \
         quiesces a failed node with weight 0, which keeps its connections. Unset: leave the \
         host's value.",
    ),
    param(
        Setting::ExpireQuiescentTemplate.param(),
        false,
        "integer",
        "net.ipv4.vs.expire_quiescent_template (0 or 1)",
        "1: a persistence template pointing at a weight-0 (quiesced) real server is expired when \
         the client comes back, so a persistent service sends the client to a live server; 0: \
         persistent clients keep going to the quiesced server until the template times out. \
         Unset: leave the host's value.",
    ),
    param(
        Setting::SloppyTcp.param(),
        false,
        "integer",
        "net.ipv4.vs.sloppy_tcp (0 or 1)",
        "1: IPVS creates a connection entry for any TCP packet, not only a SYN, so a director \
         taking over mid-connection (without connection sync) can forward it. Unset: leave the \
         host's value.",
    ),
];

/// One advertised action: name, timeout and (monitor) interval in seconds.
pub const ACTIONS: &[(&str, u64, Option<u64>)] = &[
    ("start", 20, None),
    ("stop", 20, None),
    ("monitor", 20, Some(30)),
    ("validate-all", 20, None),
    ("meta-data", 5, None),
];

/// The agent's one-line description.
pub const SHORTDESC: &str = "IPVS connection sync daemons (master and backup)";

/// The `meta-data` document.
pub fn xml() -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n",
    );
    out.push_str(&format!(
        "<resource-agent name=\"{AGENT_NAME}\" version=\"{}\">\n<version>1.1</version>\n\n\
         <longdesc lang=\"en\">\n{LONGDESC}\n</longdesc>\n\
         <shortdesc lang=\"en\">{SHORTDESC}</shortdesc>\n\n<parameters>\n",
        env!("CARGO_PKG_VERSION")
    ));
    for p in PARAMS {
        let req = if p.required { " required=\"1\"" } else { "" };
        out.push_str(&format!(
            "<parameter name=\"{}\"{req}>\n<longdesc lang=\"en\">\n{}\n</longdesc>\n\
             <shortdesc lang=\"en\">{}</shortdesc>\n<content type=\"{}\" />\n\
             </parameter>\n\n",
            p.name, p.longdesc, p.shortdesc, p.kind
        ));
    }
    out.push_str("</parameters>\n\n<actions>\n");
    for (name, timeout, interval) in ACTIONS {
        match interval {
            Some(i) => out.push_str(&format!(
                "<action name=\"{name}\" timeout=\"{timeout}s\" interval=\"{i}s\" depth=\"0\" />\n"
            )),
            None => out.push_str(&format!(
                "<action name=\"{name}\" timeout=\"{timeout}s\" />\n"
            )),
        }
    }
    out.push_str("</actions>\n</resource-agent>\n");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn golden_file_is_current() {
        let golden = include_str!("../../../agents/ipvs_sync-meta-data.xml");
        assert_eq!(
            super::xml(),
            golden,
            "agents/ipvs_sync-meta-data.xml is stale: regenerate with \
             `ipvs_sync meta-data > agents/ipvs_sync-meta-data.xml`"
        );
    }
}
