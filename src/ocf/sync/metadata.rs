//! The sync agent's `meta-data` XML. The golden copy is `agents/ipvs_sync-meta-data.xml` (a
//! test keeps them equal). No parameter is reloadable: the kernel cannot change a running sync
//! daemon, so a changed value means stop and start (Pacemaker's default for a changed parameter).

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
fails naming it. Stateless: the kernel holds the daemons.";

/// The `meta-data` document.
pub fn xml() -> String {
    let param =
        |name: &str, required: bool, short: &str, long: &str, kind: &str, default: Option<&str>| {
            let req = if required { " required=\"1\"" } else { "" };
            let def = default
                .map(|d| format!(" default=\"{d}\""))
                .unwrap_or_default();
            format!(
                "<parameter name=\"{name}\"{req}>\n<longdesc lang=\"en\">\n{long}\n</longdesc>\n\
             <shortdesc lang=\"en\">{short}</shortdesc>\n<content type=\"{kind}\"{def} />\n\
             </parameter>\n\n"
            )
        };
    let mut out = String::from(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n",
    );
    out.push_str(&format!(
        "<resource-agent name=\"{AGENT_NAME}\" version=\"{}\">\n<version>1.1</version>\n\n\
         <longdesc lang=\"en\">\n{LONGDESC}\n</longdesc>\n\
         <shortdesc lang=\"en\">IPVS connection sync daemons (master and backup)</shortdesc>\n\n\
         <parameters>\n",
        env!("CARGO_PKG_VERSION")
    ));
    out.push_str(&param(
        "interface",
        true,
        "Interface of the sync traffic",
        "Network interface the master sends its multicast sync messages through and the backup \
         listens on (at most 15 bytes). The master needs an IPv4 address on it.",
        "string",
        None,
    ));
    out.push_str(&param(
        "sync_id",
        true,
        "Sync id (0 to 255)",
        "Id written into every sync message by the master; the backup accepts only messages of \
         this id (a backup with id 0 accepts all). Give every load-balancer pair on a link its \
         own id.",
        "integer",
        None,
    ));
    out.push_str(&param(
        "mcast_group",
        false,
        "Multicast group (IPv4 or IPv6)",
        "Multicast group of the sync messages, IPv4 or IPv6. Unset: the kernel's default \
         224.0.0.81.",
        "string",
        None,
    ));
    out.push_str(&param(
        "mcast_port",
        false,
        "UDP port",
        "UDP port of the sync messages. Unset: the kernel's default 8848.",
        "integer",
        None,
    ));
    out.push_str(&param(
        "mcast_ttl",
        false,
        "Multicast TTL",
        "TTL / hop limit of the sync messages (1 to 255). Unset: the kernel's default 1 (the \
         messages stay on the link).",
        "integer",
        None,
    ));
    out.push_str(&param(
        "sync_maxlen",
        false,
        "Largest sync message payload",
        "Largest payload of a sync message in bytes (a backup needs at least 1024). Unset: \
         derived by the kernel from the MTU.",
        "integer",
        None,
    ));
    out.push_str(
        "</parameters>\n\n<actions>\n\
         <action name=\"start\" timeout=\"20s\" />\n\
         <action name=\"stop\" timeout=\"20s\" />\n\
         <action name=\"monitor\" timeout=\"20s\" interval=\"30s\" depth=\"0\" />\n\
         <action name=\"validate-all\" timeout=\"20s\" />\n\
         <action name=\"meta-data\" timeout=\"5s\" />\n\
         </actions>\n</resource-agent>\n",
    );
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
