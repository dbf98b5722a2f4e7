//! A converted `virtual_server` as spec text, written by hand as the legacy import does
//! (`legacy::render`): stable bytes, comments saying where each value came from.

use std::fmt::Write as _;
use std::path::Path;

use super::convert::{Check, Plan, Service};
use crate::spec::duration;
use crate::spec::legacy::render::string;
use crate::text;

fn comment(s: &str) -> String {
    text::for_terminal(s).into_owned()
}

pub fn render(source: &Path, plan: &Plan) -> String {
    let mut t = String::new();
    // `writeln!` into a String cannot fail.
    let _ = writeln!(
        t,
        "# Imported by `big_brother import --from keepalived` from {}\n# ({}).",
        comment(&source.display().to_string()),
        comment(&plan.origin)
    );
    if !plan.dropped.is_empty() {
        t.push_str("#\n# Not carried over:\n");
        for d in &plan.dropped {
            let _ = writeln!(
                t,
                "# - line {}: {}: {}",
                d.line,
                comment(&d.key),
                comment(&d.why)
            );
        }
    }
    if !plan.notes.is_empty() {
        t.push_str("#\n# Changed on the way:\n");
        for n in &plan.notes {
            let _ = writeln!(t, "# - {}", comment(n));
        }
    }
    t.push('\n');
    let _ = writeln!(t, "name = {}", string(&plan.name));
    match &plan.service {
        Service::Fwmark(m) => {
            let _ = writeln!(t, "fwmark = {m}");
        }
        Service::Addr { tcp, address, port } => {
            let _ = writeln!(t, "protocol = \"{}\"", if *tcp { "tcp" } else { "udp" });
            let _ = writeln!(t, "address = {}", string(&address.to_string()));
            let _ = writeln!(t, "port = {port}");
        }
    }
    match &plan.scheduler {
        Some(s) => {
            let _ = writeln!(t, "scheduler = {}", string(s));
        }
        None => t.push_str(
            "# scheduler: keepalived's lb_algo was not set; big_brother's default is wlc\n",
        ),
    }
    let _ = writeln!(
        t,
        "forward = \"{}\"{}",
        plan.forward,
        if plan.forward_given {
            ""
        } else {
            "                # keepalived's default lb_kind, NAT"
        }
    );
    if let Some(p) = plan.persistence {
        let _ = writeln!(t, "persistence_timeout = \"{p}s\"");
    }
    if let Some(m) = &plan.netmask {
        let _ = writeln!(t, "persistence_netmask = {m}");
    }
    if !plan.sched_flags.is_empty() {
        let items: Vec<String> = plan.sched_flags.iter().map(|f| string(f)).collect();
        let _ = writeln!(t, "scheduler_flags = [{}]", items.join(", "));
    }
    if plan.one_packet {
        t.push_str("one_packet = true\n");
    }
    let _ = writeln!(
        t,
        "check_interval = {}{}",
        string(&duration::render(plan.interval)),
        if plan.interval_given {
            ""
        } else {
            "       # keepalived's default delay_loop"
        }
    );
    if let Some(d) = plan.timeout {
        let _ = writeln!(t, "check_timeout = {}", string(&duration::render(d)));
    }
    t.push_str("ramp_up_time = \"1ms\"            # keepalived puts a server back at its full weight at once\n");
    if let Some(f) = plan.fall {
        let _ = writeln!(
            t,
            "fall = {f}                         # retry {}: down after {f} failed checks in a row",
            f.saturating_sub(1)
        );
    }
    t.push_str(
        "rise = 1                         # keepalived restores a server on its first good check\n",
    );

    if let Some((a, p)) = &plan.sorry {
        t.push_str("\n[sorry_server]\n");
        let _ = writeln!(t, "address = {}", string(&a.to_string()));
        if matches!(plan.service, Service::Addr { .. }) {
            let _ = writeln!(t, "port = {p}");
        }
        t.push_str("weight = 1\n");
    }

    t.push_str(
        "\n# add [[vip]] tables: keepalived's VIPs were in vrrp_instance blocks, which big_brother\n\
         # leaves to Pacemaker. This spec is valid without them; add one table per VIP before\n\
         # `big_brother crm apply`, or apply leaves them out of this cluster's group:\n\
         # [[vip]]\n\
         # address = \"VIP\"\n\
         # nic = \"eth0\"\n\
         # cidr_netmask = 32\n",
    );

    for n in &plan.nodes {
        let _ = writeln!(
            t,
            "\n[[node]]                         # {}",
            comment(&n.from)
        );
        let _ = writeln!(t, "address = {}", string(&n.address.to_string()));
        let _ = writeln!(t, "port = {}", n.port);
        if let Some(p) = n.real_port {
            let _ = writeln!(t, "real_port = {p}");
        }
        let _ = writeln!(t, "max_weight = {}", n.max_weight);
        if let Some(u) = n.upper_threshold {
            let _ = writeln!(t, "upper_threshold = {u}");
        }
        if let Some(l) = n.lower_threshold {
            let _ = writeln!(t, "lower_threshold = {l}");
        }
        match &n.check {
            Check::Tcp => t.push_str("check = \"tcp\"\n"),
            Check::Exec { argv } => {
                t.push_str("check = \"exec\"\n");
                let items: Vec<String> = argv.iter().map(|a| string(a)).collect();
                let _ = writeln!(t, "check_command = [{}]", items.join(", "));
            }
            Check::Http {
                path,
                status,
                tls,
                server_name,
            } => {
                t.push_str("check = \"http\"\n");
                let _ = writeln!(t, "path = {}", string(path.as_deref().unwrap_or("/")));
                if !status.is_empty() {
                    let _ = writeln!(t, "expect_status = [{}]", status.join(", "));
                }
                if *tls {
                    t.push_str("tls = true\ntls_verify = false               # as keepalived's SSL_GET: no certificate verification\n");
                    if let Some(s) = server_name {
                        let _ = writeln!(t, "tls_server_name = {}", string(s));
                    }
                }
            }
        }
    }
    t
}
