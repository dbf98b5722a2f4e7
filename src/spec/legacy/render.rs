//! A converted cluster as spec text: a header comment (source, what was not carried over, what
//! changed), then the keys in the README's order. Written by hand rather than through a
//! serializer so the layout, the comments and the byte-for-byte output are ours and stable:
//! importing the same file twice gives the same bytes, which is how the command tells an
//! unchanged file from one it must not overwrite.

use std::fmt::Write as _;
use std::path::Path;

use super::{Form, Plan, DOWNPAGE_ADDRESS};
use crate::spec::duration;
use crate::spec::model::defaults;
use crate::text;

/// The shell script the imported `on_change` runs for a `nagios` block: $1 host, $2 check,
/// $3 server; the state comes from the hook's environment.
pub const NSCA_SCRIPT: &str =
    "printf '%s,%s,%s,%s\\n' \"$1\" \"$2\" \"$BB_NAGIOS_CODE\" \"$BB_MESSAGE\" | send_nsca -H \"$3\" -d ,";

/// A TOML basic string. Anything not [`text::is_printable`] is written as an escape, so the
/// file shows every value as it is (no control or bidirectional character acts on a terminal).
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if !text::is_printable(c) && u32::from(c) <= 0xFFFF => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c if !text::is_printable(c) => {
                let _ = write!(out, "\\U{:08X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text for a comment line: no line break can end the comment, and no control or format
/// character reaches the reader's terminal (both are shown escaped).
fn comment(s: &str) -> String {
    text::for_terminal(s).into_owned()
}

pub fn render(source: &Path, form: Form, plan: &Plan) -> String {
    let mut t = String::new();
    let src = comment(&source.display().to_string());
    let how = match form {
        Form::Clusters => "",
        Form::ClusterMap => ", the pre-0.8.6 map form",
    };
    // `writeln!` into a String cannot fail.
    let _ = writeln!(
        t,
        "# Imported by `big_brother import` from {src}\n# (cluster {}, {}{how}).",
        plan.name,
        comment(&plan.origin)
    );
    if !plan.dropped.is_empty() {
        t.push_str("#\n# Not carried over:\n");
        for d in &plan.dropped {
            let _ = writeln!(t, "# - {}: {}", comment(&d.key), comment(&d.why));
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
    let _ = writeln!(t, "fwmark = {}", plan.fwmark);
    let _ = writeln!(t, "scheduler = {}", string(&plan.scheduler));
    t.push_str(
        "forward = \"ipip\"                # the original always tunnelled (ipvsadm --ipip)\n",
    );
    let _ = writeln!(
        t,
        "check_interval = {}",
        string(&duration::render(plan.check_interval))
    );
    let _ = writeln!(
        t,
        "ramp_up_time = {}",
        string(&duration::render(plan.ramp_up_time))
    );
    // Pinned rather than left to our defaults: the original zeroed a node on one failed check
    // and restored it on one good check.
    let _ = writeln!(
        t,
        "fall = {}                        # as the original: one failed check takes a node to 0",
        defaults::FALL
    );
    let _ = writeln!(
        t,
        "rise = {}                        # and one good check brings it back",
        defaults::RISE
    );
    let _ = writeln!(t, "backend_mode = {}", string(plan.backend_mode.as_str()));
    if let Some(d) = &plan.override_dir {
        let _ = writeln!(
            t,
            "override_dir = {}          # bigbro --data-dir: its up/ and down/ override files",
            string(&d.display().to_string())
        );
    }
    if let Some((host, check, server)) = &plan.nagios {
        // The original's Nagios passive check, byte for byte: `echo 'host,check,code,message'
        // | send_nsca -H server -d ,` (nagios.rb). The values are arguments ($1..$3), never
        // part of the script, so no quoting can break it.
        t.push_str(
            "# nagios: the original's passive check via send_nsca, run on every change
",
        );
        let _ = writeln!(
            t,
            "on_change = [\"/bin/sh\", \"-c\", {}, \"big_brother-nsca\", {}, {}, {}]",
            string(NSCA_SCRIPT),
            string(host),
            string(check),
            string(server)
        );
    }

    if plan.downpage {
        t.push_str("\n[sorry_server]                  # has_downpage: true\n");
        let _ = writeln!(t, "address = {}", string(&DOWNPAGE_ADDRESS.to_string()));
        let _ = writeln!(t, "weight = {}", defaults::SORRY_WEIGHT);
    }

    t.push_str(
        "\n# add [[vip]] tables: the original big_brother kept VIPs in Pacemaker (IPaddr2).\n\
         # This spec is valid without them; add one table per VIP before `big_brother crm apply`,\n\
         # or apply leaves them out of this cluster's group:\n\
         # [[vip]]\n\
         # address = \"VIP\"\n\
         # nic = \"eth0\"\n\
         # cidr_netmask = 32\n",
    );

    for n in &plan.nodes {
        t.push_str("\n[[node]]\n");
        let _ = writeln!(t, "address = {}", string(&n.address.to_string()));
        let _ = writeln!(t, "port = {}", n.port);
        let _ = writeln!(t, "path = {}", string(&n.path));
        if let Some(w) = n.max_weight {
            let _ = writeln!(t, "max_weight = {w}");
        }
        if let Some(p) = n.priority {
            let _ = writeln!(t, "priority = {p}");
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(string("x\ny"), r#""x\u000Ay""#);
        let v: toml::Value = toml::from_str(&format!("k = {}", string("q\"\\\n\u{7f}é"))).unwrap();
        assert_eq!(v["k"].as_str(), Some("q\"\\\n\u{7f}é"));
        let hostile = "\u{202e}\u{feff}\u{e0041}\u{1b}";
        let quoted = string(hostile);
        assert!(quoted.is_ascii(), "{quoted}");
        let v: toml::Value = toml::from_str(&format!("k = {quoted}")).unwrap();
        assert_eq!(v["k"].as_str(), Some(hostile));
    }

    #[test]
    fn comments_cannot_break_out() {
        assert_eq!(comment("a\nb = 1"), "a\\u{a}b = 1");
        assert_eq!(comment("x\u{202e}\u{1b}[2J"), "x\\u{202e}\\u{1b}[2J");
    }
}
